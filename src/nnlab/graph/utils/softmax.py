"""`softmax(src, index, ptr=None, num_nodes=None, dim=0)`: torch_geometric.utils.softmax,
a softmax over the entries of each segment (GAT's attention over a node's in-edges).

    out[i] = exp(src[i] - m[index[i]]) / (sum_{j: index[j] = index[i]} exp(src[j] - m) + 1e-16)

with m[k] the (detached) maximum of segment k, subtracted for stability and cancelling in
the ratio; the 1e-16 is PyG's guard. src (..., E, ...) with E along dim, index (E,) int,
out like src. A composition of the core's segment ops (segment_max, segment_sum,
index_select), so it is differentiable to any order; `ptr` (CSR offsets of sorted
segments) is turned into the equivalent index.
"""
import numpy as np

from ...autograd.tensor import Tensor
from ...backend import get_array_module
from ...ops.index import _index_array, index_select
from ._tensor import maybe_num_nodes
from .scatter import scatter


def _ptr_to_index(ptr, xp):
    ptr = _index_array(ptr, "softmax", "ptr")
    return xp.repeat(xp.arange(ptr.size - 1, dtype=np.int64), xp.diff(ptr))


def softmax(src, index=None, ptr=None, num_nodes=None, dim=0):
    """The softmax of src's entries along `dim` within each segment of `index` (or of
    `ptr`); see the module docstring."""
    if not isinstance(src, Tensor):
        raise TypeError(f"softmax: src must be a Tensor, got {type(src).__name__}")
    xp = get_array_module(src._data)
    if ptr is not None:
        ids = _ptr_to_index(ptr, xp)
        n = int(_index_array(ptr, "softmax", "ptr").size - 1)
    elif index is not None:
        ids = _index_array(index, "softmax")
        n = maybe_num_nodes(ids, num_nodes)
    else:
        raise ValueError("softmax: expected index or ptr, got neither")
    dim = dim % src.ndim
    top = scatter(src.detach(), ids, dim, n, "max")
    ids_t = Tensor(ids)
    e = (src - index_select(top, dim, ids_t)).exp()
    total = scatter(e, ids, dim, n, "sum") + 1e-16
    return e / index_select(total, dim, ids_t)
