"""Floor 6: utilities beneath training and the lab: files written atomically (`io`)."""
from . import io
from .io import atomic_write

__all__ = ["atomic_write", "io"]
