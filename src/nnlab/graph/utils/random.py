"""`stochastic_blockmodel_graph` (torch_geometric.utils'): a random graph whose nodes fall in
blocks, an edge between a node of block a and one of block b present with probability
edge_probs[a][b], independently."""
import numpy as np

from ...data.dataset import as_generator
from ._tensor import array, index_tensor
from .undirected import to_undirected


def stochastic_blockmodel_graph(block_sizes, edge_probs, directed=False, *, generator=None):
    """An edge_index (2, E) over sum(block_sizes) nodes, numbered block by block. Each
    pair i < j (each ordered pair i != j when `directed`) is an edge with probability
    edge_probs[block(i)][block(j)] (a K x K matrix, symmetric unless `directed`); an
    undirected graph is returned with both directions, sorted by (row, col), as PyG's.
    The pairs are enumerated in PyG's order (so edge_probs of 0 and 1 give PyG's graph
    exactly); the draws are `generator`'s (nnlab or numpy Generator, int seed, or None),
    not torch's. Memory is O(N^2), as PyG's."""
    size = np.asarray(array(block_sizes), dtype=np.int64)
    prob = np.asarray(array(edge_probs), dtype=np.float64)
    if size.ndim != 1 or prob.shape != (size.shape[0], size.shape[0]):
        raise ValueError(f"stochastic_blockmodel_graph: expected block_sizes (K,) and "
                         f"edge_probs (K, K); got {size.shape} and {prob.shape}")
    if not directed and not np.allclose(prob, prob.T):
        raise ValueError("stochastic_blockmodel_graph: edge_probs must be symmetric for an "
                         "undirected graph (pass directed=True otherwise)")
    block = np.repeat(np.arange(size.shape[0]), size)
    n = block.shape[0]
    if directed:   # every ordered pair i != j, row by row
        row, col = np.divmod(np.arange(n * n, dtype=np.int64), max(n, 1))
        keep = row != col
        row, col = row[keep], col[keep]
    else:          # every pair i < j, as torch.combinations(arange(n), r=2)
        row, col = np.triu_indices(n, k=1)
        row, col = row.astype(np.int64), col.astype(np.int64)
    p = prob[block[row], block[col]]
    u = as_generator(generator, "stochastic_blockmodel_graph").random(p.shape[0])
    mask = u < p
    edge_index = np.stack([row[mask], col[mask]])
    return index_tensor(edge_index) if directed else to_undirected(edge_index, num_nodes=n)
