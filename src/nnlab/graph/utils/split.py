"""`train_test_split_edges` (torch_geometric.utils', deprecated there in favour of
`RandomLinkSplit`, kept for the older link-prediction examples)."""
import math

import numpy as np

from ...autograd.tensor import Tensor
from ...data.dataset import as_generator
from ._tensor import edge_array, take
from .undirected import to_undirected


def train_test_split_edges(data, val_ratio=0.05, test_ratio=0.1, *, generator=None):
    """Split an undirected graph's edges for link prediction, in place, as PyG's: the
    pairs row < col are permuted; floor(val_ratio * P) become `val_pos_edge_index`,
    floor(test_ratio * P) `test_pos_edge_index`, the rest `train_pos_edge_index` (made
    undirected; `*_pos_edge_attr` follow edge_attr). As many non-edges i < j are drawn for
    `val_neg_edge_index` / `test_neg_edge_index`; `train_neg_adj_mask` (N, N) marks the
    remaining upper-triangle non-edges. `edge_index` and `edge_attr` are removed. Returns
    `data`. Memory O(N^2) (the mask), as PyG's. `generator`: NumPy's draws, not torch's."""
    if "batch" in data:
        raise ValueError("train_test_split_edges: expected one graph, got a batch")
    if data.edge_index is None or data.num_nodes is None:
        raise ValueError("train_test_split_edges: the graph needs edge_index and num_nodes")
    rng = as_generator(generator, "train_test_split_edges")
    n = data.num_nodes
    ei = edge_array(data.edge_index, "train_test_split_edges")
    edge_attr = data.edge_attr
    del data.edge_index
    del data.edge_attr
    upper = np.flatnonzero(ei[0] < ei[1])
    row, col = ei[0, upper], ei[1, upper]
    edge_attr = take(edge_attr, upper)
    n_v = int(math.floor(val_ratio * row.size))
    n_t = int(math.floor(test_ratio * row.size))
    perm = rng.permutation(row.size)
    row, col, edge_attr = row[perm], col[perm], take(edge_attr, perm)
    parts = {"val": slice(0, n_v), "test": slice(n_v, n_v + n_t), "train": slice(n_v + n_t, None)}
    for name, part in parts.items():
        data[f"{name}_pos_edge_index"] = Tensor(np.stack([row[part], col[part]]))
        if edge_attr is not None and name != "train":
            data[f"{name}_pos_edge_attr"] = take(edge_attr, np.arange(row.size)[part])
    train = data.train_pos_edge_index
    if edge_attr is not None:
        data.train_pos_edge_index, data.train_pos_edge_attr = to_undirected(
            train, take(edge_attr, np.arange(row.size)[parts["train"]]))
    else:
        data.train_pos_edge_index = to_undirected(train)
    neg_adj_mask = np.triu(np.ones((n, n), dtype=bool), k=1)
    neg_adj_mask[row, col] = False
    neg_row, neg_col = np.nonzero(neg_adj_mask)
    pick = rng.permutation(neg_row.size)[:n_v + n_t]
    neg_row, neg_col = neg_row[pick], neg_col[pick]
    neg_adj_mask[neg_row, neg_col] = False
    data.train_neg_adj_mask = Tensor(neg_adj_mask)
    data.val_neg_edge_index = Tensor(np.stack([neg_row[:n_v], neg_col[:n_v]]).astype(np.int64))
    data.test_neg_edge_index = Tensor(np.stack([neg_row[n_v:n_v + n_t],
                                                neg_col[n_v:n_v + n_t]]).astype(np.int64))
    return data
