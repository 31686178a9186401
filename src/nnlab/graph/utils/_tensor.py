"""The boundary of the graph utilities: their inputs (nnlab Tensors, numpy or cupy arrays,
lists) as arrays, and their index arrays back as int64 Tensors. Edge attributes stay
Tensors, so that a gradient flows through the utilities that reorder or merge them."""
import numpy as np

from ... import backend
from ...autograd.tensor import Tensor

MISSING = "???"   # PyG's marker for "no edge_attr argument": only edge_index is returned


def array(value):
    """The array behind a Tensor, an array as it is, anything else through np.asarray."""
    if isinstance(value, Tensor):
        return value._data
    if hasattr(value, "dtype") and hasattr(value, "shape"):
        return value
    return np.asarray(value)


def edge_array(edge_index, op):
    """`edge_index` as an int64 array of shape (2, E); a clear error otherwise."""
    ei = array(edge_index)
    if ei.ndim != 2 or ei.shape[0] != 2:
        raise ValueError(f"{op}: edge_index must have shape (2, E); got shape "
                         f"{tuple(ei.shape)}")
    if ei.dtype.kind not in "iu" and ei.size:
        raise TypeError(f"{op}: edge_index must hold integers; got dtype {ei.dtype}")
    return ei.astype(np.int64, copy=False)


def index_tensor(a):
    """An integer array as an int64 Tensor (not requiring grad)."""
    return Tensor(a.astype(np.int64, copy=False))


def host(a):
    """An array on the CPU (a cupy array copied over, a numpy array as it is)."""
    return a if isinstance(a, np.ndarray) else a.get()


def xp_of(a):
    return backend.get_array_module(a)


def take(value, index):
    """Rows `index` of an edge attribute: a Tensor through differentiable indexing, an array
    by indexing, a list of them row by row; None stays None."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [take(v, index) for v in value]
    if isinstance(value, Tensor):
        return value[Tensor(index)] if value.requires_grad else Tensor(value._data[index])
    return value[index]


def concat(values, op):
    """Edge attributes (Tensors or arrays) joined along dim 0, differentiably for Tensors."""
    from ...ops.shape import cat
    if isinstance(values[0], Tensor):
        if any(v.requires_grad for v in values):
            return cat(list(values), 0)
        return Tensor(xp_of(values[0]._data).concatenate([v._data for v in values]))
    return xp_of(values[0]).concatenate(values)


def maybe_num_nodes(edge_index, num_nodes=None):
    """`num_nodes` if given, else the largest index in `edge_index` plus one (0 for no
    edges), as torch_geometric.utils.num_nodes.maybe_num_nodes."""
    if num_nodes is not None:
        return int(num_nodes)
    ei = array(edge_index)
    return int(ei.max()) + 1 if ei.size else 0
