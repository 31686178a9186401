"""`to_undirected` and `is_undirected` (torch_geometric.utils'). A graph is undirected when
its edge list sorted by (row, col) is the transpose of the list sorted by (col, row), and
the edge attributes follow."""
from ._tensor import MISSING, array, concat, edge_array, maybe_num_nodes, xp_of
from .coalesce import coalesce, sort_edge_index


def to_undirected(edge_index, edge_attr=MISSING, num_nodes=None, reduce="add"):
    """Every edge (i, j) together with (j, i), coalesced: duplicates merged, their
    `edge_attr` rows reduced with `reduce` ('add' | 'sum' | 'mean' | 'min' | 'max'),
    sorted by (row, col). edge_index (2, E) -> (2, E' <= 2E). Returns edge_index alone
    when `edge_attr` is not passed, else (edge_index, edge_attr). An int as the second
    argument is taken as `num_nodes` (PyG's older signature)."""
    if isinstance(edge_attr, int) and not isinstance(edge_attr, bool):
        num_nodes, edge_attr = edge_attr, MISSING
    ei = edge_array(edge_index, "to_undirected")
    xp = xp_of(ei)
    both = xp.stack([xp.concatenate([ei[0], ei[1]]), xp.concatenate([ei[1], ei[0]])])
    if isinstance(edge_attr, (list, tuple)):
        edge_attr = [concat([e, e], "to_undirected") for e in edge_attr]
    elif edge_attr is not None and not isinstance(edge_attr, str):
        edge_attr = concat([edge_attr, edge_attr], "to_undirected")
    return coalesce(both, edge_attr, num_nodes, reduce)


def is_undirected(edge_index, edge_attr=None, num_nodes=None):
    """True when for every edge (i, j) there is an edge (j, i) with the same attributes
    (`edge_attr`: a Tensor, a list of them, or None), as torch_geometric.utils'."""
    ei = edge_array(edge_index, "is_undirected")
    n = maybe_num_nodes(ei, num_nodes)
    attrs = [] if edge_attr is None else (
        list(edge_attr) if isinstance(edge_attr, (list, tuple)) else [edge_attr])
    by_row, attrs_row = sort_edge_index(ei, attrs, n, sort_by_row=True)
    by_col, attrs_col = sort_edge_index(ei, attrs, n, sort_by_row=False)
    xp = xp_of(ei)
    if not xp.array_equal(by_row._data[0], by_col._data[1]):
        return False
    if not xp.array_equal(by_row._data[1], by_col._data[0]):
        return False
    return all(xp.array_equal(array(a), array(b)) for a, b in zip(attrs_row, attrs_col))
