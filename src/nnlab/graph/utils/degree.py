"""`degree(index, num_nodes=None, dtype=None)`: torch_geometric.utils.degree.

    out[k] = number of i with index[i] == k,   k < num_nodes

index (E,) int (edge_index[0] gives out-degrees, edge_index[1] in-degrees); out
(num_nodes,) in `dtype` (the default float dtype when None, as PyG's torch.zeros).
"""
from ... import backend
from ...autograd.tensor import Tensor
from ...backend import get_array_module
from ...ops.index import _index_array
from ._tensor import maybe_num_nodes


def degree(index, num_nodes=None, dtype=None):
    """Occurrences of each node id in the 1-D `index` (see the module docstring)."""
    ids = _index_array(index, "degree")
    if ids.ndim != 1:
        raise ValueError(f"degree: index must be 1-D, got shape {tuple(ids.shape)}")
    n = maybe_num_nodes(ids, num_nodes)
    xp = get_array_module(ids)
    if ids.size and int(ids.max()) >= n:
        raise IndexError(f"degree: node id {int(ids.max())} is out of bounds for "
                         f"num_nodes={n}")
    dtype = backend.get_default_dtype() if dtype is None else dtype
    return Tensor(xp.bincount(ids, minlength=n).astype(dtype))
