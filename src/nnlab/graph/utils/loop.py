"""Self-loops: `add_self_loops`, `add_remaining_self_loops`, `remove_self_loops`
(torch_geometric.utils' names, arguments and results).

edge_index is (2, E) int64, row 0 the sources and row 1 the targets; edge_attr, when
given, has one row per edge (E, ...) and keeps its graph (the loops' rows are made by
`cat`, so gradients reach the original rows). A self-loop's attribute is `fill_value`:
None -> 1, a number -> that number, a tensor -> that row, a string ('mean', 'sum', 'max',
...) -> the reduction of the attributes of the edges entering the node.
"""
import numpy as np

from ... import ops
from ...autograd.tensor import Tensor
from ...backend import get_array_module
from ._tensor import maybe_num_nodes
from .scatter import scatter


def _edge_index(edge_index, op):
    """edge_index as an int64 Tensor of shape (2, E), checked."""
    t = edge_index if isinstance(edge_index, Tensor) else Tensor(np.asarray(edge_index))
    if t.ndim != 2 or t.shape[0] != 2 or t.dtype.kind not in "iu":
        raise ValueError(f"{op}: edge_index must be an integer tensor of shape (2, E), got "
                         f"{t.dtype} of shape {tuple(t.shape)}")
    return t if t.dtype == np.int64 else t.to(np.int64)


def _loop_index(n, like):
    xp = get_array_module(like._data)
    return Tensor(xp.tile(xp.arange(n, dtype=np.int64), (2, 1)))


def _loop_attr(edge_index, edge_attr, n, fill_value):
    """The (n, ...) attributes of the new loops (PyG's compute_loop_attr)."""
    shape = (n,) + tuple(edge_attr.shape[1:])
    if fill_value is None:
        return ops.ones(shape, dtype=edge_attr.dtype)
    if isinstance(fill_value, (int, float)):
        return ops.full(shape, fill_value, dtype=edge_attr.dtype)
    if isinstance(fill_value, Tensor):
        row = fill_value.to(edge_attr.dtype)
        if row.ndim != edge_attr.ndim:
            row = row.unsqueeze(0)
        return row.expand(shape)
    if isinstance(fill_value, str):
        return scatter(edge_attr, edge_index[1], 0, n, fill_value)
    raise TypeError(f"add_self_loops: fill_value must be None, a number, a tensor or a "
                    f"reduction name, got {type(fill_value).__name__}")


def add_self_loops(edge_index, edge_attr=None, fill_value=None, num_nodes=None):
    """(edge_index, edge_attr) with the loop (i, i) appended for every node i < N, after
    the existing edges (existing loops are kept); N = num_nodes (min of a pair), or
    inferred from edge_index."""
    edge_index = _edge_index(edge_index, "add_self_loops")
    if isinstance(num_nodes, (tuple, list)):
        n = min(int(num_nodes[0]), int(num_nodes[1]))
    else:
        n = maybe_num_nodes(edge_index, num_nodes)
    full = ops.cat([edge_index, _loop_index(n, edge_index)], dim=1)
    if edge_attr is None:
        return full, None
    loops = _loop_attr(edge_index, edge_attr, n, fill_value)
    return full, ops.cat([edge_attr, loops], dim=0)


def add_remaining_self_loops(edge_index, edge_attr=None, fill_value=None, num_nodes=None):
    """Existing loops removed, then one loop per node appended; a node that had a loop
    keeps that loop's attribute instead of fill_value (GCN's normalisation uses this)."""
    edge_index = _edge_index(edge_index, "add_remaining_self_loops")
    n = maybe_num_nodes(edge_index, num_nodes)
    ei = edge_index._data
    mask = ei[0] != ei[1]
    if edge_attr is not None:
        loops = _loop_attr(edge_index, edge_attr, n, fill_value)
        if not mask.all():
            inv = ~mask
            loops = ops.index_put(loops, (Tensor(ei[0][inv]),), edge_attr[Tensor(inv)])
        edge_attr = ops.cat([edge_attr[Tensor(mask)], loops], dim=0)
    kept = Tensor(ei[:, mask])
    return ops.cat([kept, _loop_index(n, edge_index)], dim=1), edge_attr


def remove_self_loops(edge_index, edge_attr=None):
    """(edge_index, edge_attr) without the edges (i, i)."""
    edge_index = _edge_index(edge_index, "remove_self_loops")
    ei = edge_index._data
    mask = ei[0] != ei[1]
    if mask.all():
        return edge_index, edge_attr
    kept = Tensor(ei[:, mask])
    return kept, None if edge_attr is None else edge_attr[Tensor(mask)]
