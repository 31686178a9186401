"""Data sets: real ones read from disk or bundled (`MNIST`, `digits`), the IDX reader, and
small synthetic sets (`moons`, `spirals`, `sine`; the sequence tasks `reverse_digits`,
`sort_digits`, `ReverseTask`), and character corpora (`TinyShakespeare`) with their loaders
(`StreamLoader`, `RandomWindows`)."""
from .digits import digits, holdout_split
from .idx import parse_idx, read_idx
from .mnist import MNIST
from .sequences import ReverseTask, SequencePairs, pad_pairs, reverse_digits, sort_digits
from .synthetic import moons, sine, spirals
from .text import (
    CharCorpus,
    CharVocab,
    RandomWindows,
    StreamLoader,
    TinyShakespeare,
    batchify,
    split_ids,
)

__all__ = ["MNIST", "digits", "holdout_split", "moons", "parse_idx", "read_idx", "sine",
           "spirals", "ReverseTask", "SequencePairs", "pad_pairs", "reverse_digits",
           "sort_digits", "CharCorpus", "CharVocab", "RandomWindows", "StreamLoader",
           "TinyShakespeare", "batchify", "split_ids"]
