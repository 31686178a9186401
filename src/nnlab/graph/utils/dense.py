"""`to_dense_adj` (torch_geometric.utils'): edge lists as a batch of dense adjacency
matrices, adj[b, i, j] = sum of the attributes of the edges i -> j of graph b."""
import numpy as np

from ...autograd.tensor import Tensor
from ._tensor import array, edge_array, take, xp_of


def to_dense_adj(edge_index, batch=None, edge_attr=None, max_num_nodes=None,
                 batch_size=None):
    """Dense adjacency (B, N_max, N_max) (+ edge_attr's trailing shape) of the graphs of a
    block-diagonal edge list: node v belongs to graph batch[v] (default: one graph), its
    local number is v minus the number of nodes of the graphs before it. Duplicate edges
    add up; edges beyond `max_num_nodes` are dropped, as PyG's. Differentiable in
    edge_attr."""
    from ...ops.index import segment_sum
    ei = edge_array(edge_index, "to_dense_adj")
    xp = xp_of(ei)
    if batch is None:
        b = xp.zeros(int(ei.max()) + 1 if ei.size else 0, dtype=np.int64)
    else:
        b = array(batch).astype(np.int64, copy=False)
    if batch_size is None:
        batch_size = int(b.max()) + 1 if b.size else 1
    num_nodes = xp.bincount(b, minlength=batch_size)[:batch_size]
    starts = xp.concatenate([xp.zeros(1, np.int64), xp.cumsum(num_nodes)])
    graph = b[ei[0]]
    local0 = ei[0] - starts[b][ei[0]]
    local1 = ei[1] - starts[b][ei[1]]
    if max_num_nodes is None:
        max_num_nodes = int(num_nodes.max()) if num_nodes.size else 0
    elif local0.size and (local0.max() >= max_num_nodes or local1.max() >= max_num_nodes):
        keep = (local0 < max_num_nodes) & (local1 < max_num_nodes)
        graph, local0, local1 = graph[keep], local0[keep], local1[keep]
        edge_attr = take(edge_attr, xp.flatnonzero(keep))
    m = int(max_num_nodes)
    if edge_attr is None:
        edge_attr = Tensor(xp.ones(graph.shape[0], dtype=np.float32))
    elif not isinstance(edge_attr, Tensor):
        edge_attr = Tensor(edge_attr)
    flat = (graph * m + local0) * m + local1
    adj = segment_sum(edge_attr, flat, batch_size * m * m)
    return adj.reshape((batch_size, m, m) + tuple(edge_attr.shape[1:]))
