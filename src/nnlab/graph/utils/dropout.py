"""`dropout_edge` (torch_geometric.utils'): each edge dropped with probability p."""
import numpy as np

from ...autograd.tensor import Tensor
from ...data.dataset import as_generator
from ._tensor import edge_array, index_tensor, xp_of


def dropout_edge(edge_index, p=0.5, force_undirected=False, training=True, *,
                 generator=None):
    """Keep each edge with probability 1 - p (kept where u >= p for u ~ U[0, 1), as PyG's
    `torch.rand(E) >= p`). With `force_undirected` only edges i <= j are kept and each
    kept one is returned in both directions (the edge_mask then holds the indices of the
    kept edges, twice, as PyG's). Returns (edge_index (2, E'), edge_mask): a bool mask
    (E,), or those indices. `generator`: an nnlab or numpy Generator, an int seed, or None
    (the default generator); the draws are NumPy's, not torch's."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout_edge: dropout probability has to be between 0 and 1 "
                         f"(got {p})")
    ei = edge_array(edge_index, "dropout_edge")
    xp = xp_of(ei)
    if not training or p == 0.0:
        return index_tensor(ei), Tensor(xp.ones(ei.shape[1], dtype=bool))
    u = as_generator(generator, "dropout_edge").random(ei.shape[1])
    mask = xp.asarray(u >= p)
    if force_undirected:
        mask &= ei[0] <= ei[1]
    kept = ei[:, mask]
    if not force_undirected:
        return index_tensor(kept), Tensor(mask)
    both = xp.concatenate([kept, kept[::-1]], axis=1)
    where = xp.flatnonzero(mask).astype(np.int64)
    return index_tensor(both), index_tensor(xp.concatenate([where, where]))
