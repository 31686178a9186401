"""Floor 6: reference architectures built only from `nn`, one readable file each."""
from .mlp import MLP

__all__ = ["MLP"]
