"""`index_to_mask` and `mask_to_index` (torch_geometric.utils'): a set of node indices as a
boolean vector, and back."""
import numpy as np

from ...autograd.tensor import Tensor
from ._tensor import array, index_tensor, xp_of


def index_to_mask(index, size=None):
    """A bool Tensor (size,) that is True at `index` (default size: max index + 1)."""
    idx = array(index).astype(np.int64, copy=False).reshape(-1)
    size = int(idx.max()) + 1 if size is None else int(size)
    mask = xp_of(idx).zeros(size, dtype=bool)
    mask[idx] = True
    return Tensor(mask)


def mask_to_index(mask):
    """The int64 indices (K,) where the bool `mask` is True, ascending."""
    m = array(mask)
    return index_tensor(xp_of(m).flatnonzero(m))
