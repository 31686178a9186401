"""`negative_sampling` (torch_geometric.utils'): node pairs that are not edges.

The N * N - N ordered pairs without self-loops are numbered: (i, j) is i * (N - 1) + j',
where j' = j - 1 when j > i. With `force_undirected` only the upper triangle i < j is
numbered, (N * N - N) / 2 pairs, and each sample is returned in both directions. For a
bipartite size (N, M) the pair (i, j) is i * M + j. Numbers are drawn without replacement
(an oversample of 1.1 k / P(negative), up to three tries, as PyG's 'sparse' method), the
positives (and earlier draws) are removed with `isin`, and the numbers mapped back."""
import numpy as np

from ...data.dataset import as_generator
from ._tensor import edge_array, host, index_tensor, maybe_num_nodes, xp_of


def sample(population, k, rng):
    """k distinct numbers of range(population) in random order (all of them, in order,
    when k >= population), as PyG's `sample` over `random.sample`."""
    if population <= k:
        return np.arange(population, dtype=np.int64)
    return rng.choice(population, size=k, replace=False).astype(np.int64)


def edge_index_to_vector(ei, size, bipartite, force_undirected=False):
    """(numbers of the edges, population) for the numbering above."""
    row, col = ei[0], ei[1]
    if bipartite:
        return row * size[1] + col, size[0] * size[1]
    n = size[0]
    if force_undirected:
        keep = row < col
        row, col = row[keep], col[keep]
        offset = np.cumsum(np.arange(1, n))[row] if n > 1 else np.zeros(0, np.int64)
        return row * n + col - offset, (n * (n + 1)) // 2 - n
    keep = row != col
    row, col = row[keep], col[keep].copy()
    col[row < col] -= 1
    return row * (n - 1) + col, n * n - n


def vector_to_edge_index(idx, size, bipartite, force_undirected=False):
    """The (2, K) edge list of pair numbers `idx` (2K edges with `force_undirected`)."""
    if bipartite:
        return np.stack([idx // size[1], idx % size[1]])
    n = size[0]
    if force_undirected:
        offset = np.cumsum(np.arange(1, n))
        end = np.arange(n, n * n, n) - offset
        row = np.searchsorted(end, idx, side="right")
        col = (offset[row] + idx) % n
        return np.stack([np.concatenate([row, col]), np.concatenate([col, row])])
    row, col = idx // (n - 1), idx % (n - 1)
    col[row <= col] += 1
    return np.stack([row, col])


def negative_sampling(edge_index, num_nodes=None, num_neg_samples=None, method="sparse",
                      force_undirected=False, *, generator=None):
    """About `num_neg_samples` (default: E; a float: that fraction of E) node pairs that
    are not edges of `edge_index` and not self-loops (a bipartite `num_nodes=(N, M)` has
    no self-loops to avoid), distinct, in random order; (2, K) int64 with K <= the count
    asked (fewer when three oversampled tries do not find enough, as PyG's). With
    `force_undirected` K // 2 pairs i < j are drawn and returned both ways. `method`
    'sparse' or 'dense' (both run the sparse algorithm here: the result has the same
    properties). `generator`: an nnlab or numpy Generator, an int seed, or None (the
    default generator); PyG draws with Python's `random`, so its pairs differ while their
    properties agree."""
    if method not in ("sparse", "dense"):
        raise ValueError(f"negative_sampling: method must be 'sparse' or 'dense'; got "
                         f"{method!r}")
    device_ei = edge_array(edge_index, "negative_sampling")
    ei = host(device_ei)   # the sampling runs on the CPU, as PyG's 'sparse' method
    if num_nodes is None:
        num_nodes = maybe_num_nodes(ei)
    if isinstance(num_nodes, (int, np.integer)):
        size, bipartite = (int(num_nodes), int(num_nodes)), False
    else:
        size, bipartite, force_undirected = (int(num_nodes[0]), int(num_nodes[1])), True, False
    idx, population = edge_index_to_vector(ei, size, bipartite, force_undirected)
    if idx.size >= population:
        return index_tensor(xp_of(device_ei).zeros((2, 0), np.int64))
    if num_neg_samples is None:
        num_neg_samples = ei.shape[1]
    elif isinstance(num_neg_samples, float):
        num_neg_samples = int(num_neg_samples * ei.shape[1])
    if force_undirected:
        num_neg_samples = num_neg_samples // 2
    prob = 1.0 - idx.size / population
    sample_size = int(1.1 * num_neg_samples / prob)
    rng = as_generator(generator, "negative_sampling")
    neg = None
    for _ in range(3):
        rnd = sample(population, sample_size, rng)
        bad = np.isin(rnd, idx)
        if neg is not None:
            bad |= np.isin(rnd, neg)
        rnd = rnd[~bad]
        neg = rnd if neg is None else np.concatenate([neg, rnd])
        if neg.size >= num_neg_samples:
            neg = neg[:num_neg_samples]
            break
    out = vector_to_edge_index(neg, size, bipartite, force_undirected)
    return index_tensor(xp_of(device_ei).asarray(out))
