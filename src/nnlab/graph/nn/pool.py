"""Graph readouts (torch_geometric.nn.pool): one vector per graph of a batch.

    global_add_pool(x, batch)[g]  = sum_{i: batch[i] = g} x_i
    global_mean_pool(x, batch)[g] = mean of the same
    global_max_pool(x, batch)[g]  = elementwise max of the same

x (N, F), batch (N,) int graph ids (None: one graph), size the number of graphs (default
batch.max() + 1) -> (size, F); an empty graph gives 0. Invariant to the order of nodes.
"""
from ...ops.index import _index_array
from ..utils.scatter import scatter


def _pool(x, batch, size, reduce):
    if batch is None:
        if reduce == "sum":
            return x.sum(dim=-2, keepdim=True)
        if reduce == "mean":
            return x.mean(dim=-2, keepdim=True)
        return x.amax(dim=-2, keepdim=True)
    ids = _index_array(batch, f"global_{reduce}_pool", "batch")
    if size is None:
        size = int(ids.max()) + 1 if ids.size else 0
    return scatter(x, ids, dim=-2, dim_size=size, reduce=reduce)


def global_add_pool(x, batch=None, size=None):
    """The sum of each graph's node features: (N, F) -> (size, F)."""
    return _pool(x, batch, size, "sum")


def global_mean_pool(x, batch=None, size=None):
    """The mean of each graph's node features: (N, F) -> (size, F)."""
    return _pool(x, batch, size, "mean")


def global_max_pool(x, batch=None, size=None):
    """The elementwise max of each graph's node features: (N, F) -> (size, F)."""
    return _pool(x, batch, size, "max")
