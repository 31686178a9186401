"""`coalesce` and `sort_edge_index` (torch_geometric.utils'): edges sorted by (row, col), or
by (col, row), with duplicates merged and their attributes reduced.

An edge (r, c) of a graph with N nodes has the key r * N + c (c * N + r when sorting by
column); one stable argsort of the keys orders the edges, a change of key marks where each
group of duplicates starts, and a segment reduction merges their attributes."""
from ...autograd.tensor import Tensor
from ._tensor import MISSING, edge_array, index_tensor, maybe_num_nodes, take, xp_of

REDUCES = ("sum", "add", "mean", "min", "max")


def _reduce(value, segment, count, reduce):
    """Rows of `value` (E, ...) merged by `segment` (E,) into (M, ...) with `reduce`."""
    from ...ops.index import segment_max, segment_sum
    m = int(count.shape[0])
    if not isinstance(value, Tensor):
        return _reduce(Tensor(value), segment, count, reduce)._data
    if reduce in ("sum", "add"):
        return segment_sum(value, segment, m)
    if reduce == "mean":
        shape = (m,) + (1,) * (value.ndim - 1)
        total = segment_sum(value, segment, m)
        return total / Tensor(count.reshape(shape).astype(value.dtype))
    if reduce == "max":
        return segment_max(value, segment, m)
    return -segment_max(-value, segment, m)   # min


def _key(ei, n, sort_by_row):
    first, second = (ei[0], ei[1]) if sort_by_row else (ei[1], ei[0])
    return first * n + second


def sort_edge_index(edge_index, edge_attr=MISSING, num_nodes=None, sort_by_row=True):
    """The edges sorted by (row, col) (by (col, row) when `sort_by_row=False`), stably;
    returns edge_index, or (edge_index, edge_attr) when `edge_attr` is passed (a Tensor,
    a list of them, or None), each attribute's rows moved with its edge."""
    ei = edge_array(edge_index, "sort_edge_index")
    n = maybe_num_nodes(ei, num_nodes)
    perm = xp_of(ei).argsort(_key(ei, n, sort_by_row), kind="stable")
    out = index_tensor(ei[:, perm])
    if isinstance(edge_attr, str):
        return out
    return out, take(edge_attr, perm)


def coalesce(edge_index, edge_attr=MISSING, num_nodes=None, reduce="sum", is_sorted=False,
             sort_by_row=True):
    """Sort the edges by (row, col) (by (col, row) when `sort_by_row=False`) and merge
    duplicates, reducing their `edge_attr` rows with `reduce` ('sum' | 'add' | 'mean' |
    'min' | 'max'). edge_index (2, E) -> (2, E'); edge_attr (E, ...) -> (E', ...), a
    Tensor, a list of Tensors, or None. Returns edge_index alone when `edge_attr` is not
    passed, else (edge_index, edge_attr). With `is_sorted=True` the edges are taken as
    already sorted and only runs of equal consecutive edges merge. Differentiable in
    edge_attr."""
    if reduce not in REDUCES:
        raise ValueError(f"coalesce: reduce must be one of {REDUCES}; got {reduce!r}")
    ei = edge_array(edge_index, "coalesce")
    xp = xp_of(ei)
    n = maybe_num_nodes(ei, num_nodes)
    key = _key(ei, n, sort_by_row)
    attr = None if isinstance(edge_attr, str) else edge_attr
    if not is_sorted:
        perm = xp.argsort(key, kind="stable")
        key, ei, attr = key[perm], ei[:, perm], take(attr, perm)
    first = xp.ones(key.shape[0], dtype=bool)
    xp.greater(key[1:], key[:-1], out=first[1:])   # a new edge starts where the key rises
    if not first.all():
        ei = ei[:, first]
        if attr is not None:
            segment = xp.cumsum(first) - 1
            count = xp.bincount(segment, minlength=int(first.sum()))
            if isinstance(attr, (list, tuple)):
                attr = [_reduce(a, segment, count, reduce) for a in attr]
            else:
                attr = _reduce(attr, segment, count, reduce)
    out = index_tensor(ei)
    if isinstance(edge_attr, str):
        return out
    return out, attr
