"""Data sets: real ones read from disk or bundled (`MNIST`, `digits`), the IDX reader, and
small synthetic sets (`moons`, `spirals`, `sine`)."""
from .digits import digits, holdout_split
from .idx import parse_idx, read_idx
from .mnist import MNIST
from .synthetic import moons, sine, spirals

__all__ = ["MNIST", "digits", "holdout_split", "moons", "parse_idx", "read_idx", "sine",
           "spirals"]
