"""`RandomLinkSplit` (torch_geometric.transforms'): the edge split of link prediction into
training, validation and test graphs with labelled edges. Exported by
nnlab.graph.transforms (PyG's place) and nnlab.graph.utils."""
import copy
import warnings

import numpy as np

from ...autograd.tensor import Tensor
from ...data.dataset import as_generator
from ._tensor import array, concat, edge_array, take
from .negative_sampling import negative_sampling


class RandomLinkSplit:
    """`RandomLinkSplit(num_val=0.1, num_test=0.2, is_undirected=False, key='edge_label',
    split_labels=False, add_negative_train_samples=True, neg_sampling_ratio=1.0,
    disjoint_train_ratio=0.0, *, generator=None)`; `transform(data)` returns
    (train_data, val_data, test_data), as PyG's for a homogeneous graph.

    The edges (for `is_undirected`, those with row <= col, one per pair) are permuted and
    cut into num_train / num_val / num_test (a float is a fraction of them). The training
    graph's message-passing edges are the training edges, the validation graph's the
    training edges too, the test graph's the training and validation edges (each both
    ways when undirected; the edge attributes follow). Each graph gets
    `{key}_index` (2, P + Q) (its positives, then Q negatives from `negative_sampling`)
    and `{key}` (P + Q,) (1. for positives, 0. for negatives; an existing integer `key`
    attribute is shifted by one instead), or `pos_{key}`, `pos_{key}_index`, `neg_...`
    with `split_labels=True`. `disjoint_train_ratio` keeps that share of the training
    edges for supervision only. The draws are `generator`'s (NumPy's, not torch's)."""

    def __init__(self, num_val=0.1, num_test=0.2, is_undirected=False, key="edge_label",
                 split_labels=False, add_negative_train_samples=True, neg_sampling_ratio=1.0,
                 disjoint_train_ratio=0.0, edge_types=None, rev_edge_types=None, *,
                 generator=None):
        if edge_types is not None or rev_edge_types is not None:
            raise NotImplementedError("RandomLinkSplit: edge_types / rev_edge_types are for "
                                      "heterogeneous graphs, which nnlab.graph does not have")
        self.num_val, self.num_test = num_val, num_test
        self.is_undirected = is_undirected
        self.key = key
        self.split_labels = split_labels
        self.add_negative_train_samples = add_negative_train_samples
        self.neg_sampling_ratio = neg_sampling_ratio
        self.disjoint_train_ratio = disjoint_train_ratio
        self.generator = generator

    def __call__(self, data):
        return self.forward(copy.copy(data))

    def forward(self, data):
        rng = as_generator(self.generator, "RandomLinkSplit")
        train_data, val_data, test_data = copy.copy(data), copy.copy(data), copy.copy(data)
        ei = edge_array(data.edge_index, "RandomLinkSplit")
        undirected = self.is_undirected
        if undirected:
            perm = np.flatnonzero(ei[0] <= ei[1])
            perm = perm[rng.permutation(perm.shape[0])]
        else:
            perm = rng.permutation(ei.shape[1])
        num_val, num_test = self.num_val, self.num_test
        if isinstance(num_val, float):
            num_val = int(num_val * perm.size)
        if isinstance(num_test, float):
            num_test = int(num_test * perm.size)
        num_train = perm.size - num_val - num_test
        if num_train <= 0:
            raise ValueError("RandomLinkSplit: insufficient number of edges for training "
                             f"({perm.size} edges, num_val={num_val}, num_test={num_test})")
        train_edges = perm[:num_train]
        val_edges = perm[num_train:num_train + num_val]
        test_edges = perm[num_train + num_val:]
        num_disjoint = self.disjoint_train_ratio
        if isinstance(num_disjoint, float):
            num_disjoint = int(num_disjoint * train_edges.size)
        if num_train - num_disjoint <= 0:
            raise ValueError("RandomLinkSplit: insufficient number of edges for training "
                             f"after keeping {num_disjoint} for supervision only")
        edge_attrs = [k for k in data.keys() if k != "edge_index" and data.is_edge_attr(k)]
        self._split(data, train_data, train_edges[num_disjoint:], undirected, edge_attrs)
        self._split(data, val_data, train_edges, undirected, edge_attrs)
        self._split(data, test_data, perm[:num_train + num_val], undirected, edge_attrs)
        num_neg_train = 0
        if self.add_negative_train_samples:
            num_neg_train = int((num_disjoint if num_disjoint > 0 else num_train)
                                * self.neg_sampling_ratio)
        num_neg_val = int(num_val * self.neg_sampling_ratio)
        num_neg_test = int(num_test * self.neg_sampling_ratio)
        num_neg = num_neg_train + num_neg_val + num_neg_test
        neg = negative_sampling(ei, data.num_nodes, num_neg_samples=num_neg, method="sparse",
                                generator=rng)._data
        if neg.shape[1] < num_neg:
            found = neg.shape[1]
            warnings.warn("There are not enough negative edges to satisfy the provided "
                          f"sampling ratio. The ratio will be adjusted to {found / num_neg:.2f}.",
                          stacklevel=2)
            num_neg_train = int((num_neg_train / num_neg) * found)
            num_neg_val = int((num_neg_val / num_neg) * found)
            num_neg_test = found - num_neg_train - num_neg_val
        if num_disjoint > 0:
            train_edges = train_edges[:num_disjoint]
        self._label(data, train_edges, neg[:, num_neg_val + num_neg_test:], train_data)
        self._label(data, val_edges, neg[:, :num_neg_val], val_data)
        self._label(data, test_edges, neg[:, num_neg_val:num_neg_val + num_neg_test], test_data)
        return train_data, val_data, test_data

    @staticmethod
    def _split(data, out, index, undirected, edge_attrs):
        for key in edge_attrs:
            value = take(data[key], index)
            out[key] = concat([value, value], "RandomLinkSplit") if undirected else value
        ei = array(data.edge_index)[:, index]
        if undirected:
            ei = np.concatenate([ei, ei[::-1]], axis=1)
        out.edge_index = Tensor(ei.astype(np.int64))

    def _label(self, data, index, neg, out):
        ei = array(data.edge_index)[:, index]
        if self.key in data:
            label = take(data[self.key], index)
            if neg.size:
                if array(label).dtype != np.int64:
                    raise TypeError(f"RandomLinkSplit: the existing '{self.key}' must be "
                                    f"int64 to be shifted by one; got {array(label).dtype}")
                label = label + 1
            del out[self.key]
        else:
            label = Tensor(np.ones(index.size, np.float32))
        neg_label = Tensor(np.zeros((neg.shape[1],) + tuple(label.shape[1:]),
                                    array(label).dtype))
        if self.split_labels:
            out[f"pos_{self.key}"] = label
            out[f"pos_{self.key}_index"] = Tensor(ei.astype(np.int64))
            if neg.size:
                out[f"neg_{self.key}"] = neg_label
                out[f"neg_{self.key}_index"] = Tensor(neg.astype(np.int64))
        else:
            if neg.size:
                label = concat([label, neg_label], "RandomLinkSplit")
                ei = np.concatenate([ei, neg], axis=1)
            out[self.key] = label
            out[f"{self.key}_index"] = Tensor(ei.astype(np.int64))

    def __repr__(self):
        return f"{type(self).__name__}(num_val={self.num_val}, num_test={self.num_test})"
