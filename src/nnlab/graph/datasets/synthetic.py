"""Synthetic graph sets: a stochastic block model (node classification), WL-hard graph pairs
(sum aggregation separates them, mean aggregation provably cannot), and Alon & Yahav's
Tree-NeighborsMatch (over-squashing). Every draw comes from `generator` (an nnlab or
numpy Generator, an int seed, or None for the default generator), so a seed fixes a set.

`stochastic_blockmodel_graph` itself is in nnlab.graph.utils.random (PyG's place).
"""
import math

import numpy as np

from ...autograd.tensor import Tensor
from ...data.dataset import Dataset, as_generator
from ..data import Data
from ..utils.coalesce import coalesce
from ..utils.random import stochastic_blockmodel_graph


class StochasticBlockModelDataset(Dataset):
    """`num_graphs` graphs drawn from a stochastic block model (see
    `stochastic_blockmodel_graph`), as a list-like dataset: graph i is a Data with
    edge_index, y (N,) the block of each node, and, when `num_channels` is given, x
    (N, num_channels) float32: a Gaussian around its block's centre (the centres drawn
    from N(0, I), unit noise). PyG's StochasticBlockModelDataset draws its features with
    sklearn's make_classification instead; the graph part is the same model."""

    def __init__(self, block_sizes, edge_probs, num_graphs=1, num_channels=None,
                 is_undirected=True, transform=None, *, generator=None):
        rng = as_generator(generator, "StochasticBlockModelDataset")
        self.block_sizes = [int(b) for b in block_sizes]
        self.transform = transform
        y = np.repeat(np.arange(len(self.block_sizes)), self.block_sizes).astype(np.int64)
        centres = (rng.standard_normal((len(self.block_sizes), num_channels))
                   if num_channels else None)
        self.graphs = []
        for _ in range(num_graphs):
            edge_index = stochastic_blockmodel_graph(block_sizes, edge_probs,
                                                     directed=not is_undirected, generator=rng)
            data = Data(edge_index=edge_index, y=Tensor(y.copy()), num_nodes=int(y.size))
            if centres is not None:
                noise = rng.standard_normal((y.size, num_channels))
                data.x = Tensor((centres[y] + noise).astype(np.float32))
            self.graphs.append(data)

    @property
    def num_classes(self):
        return len(self.block_sizes)

    def __len__(self):
        return len(self.graphs)

    def __getitem__(self, index):
        data = self.graphs[index]
        return data if self.transform is None else self.transform(data.clone())


def _circulant(n, offsets):
    """The circulant graph on n nodes joining i and i + s (mod n) for each offset s: every
    node has degree 2 * len(offsets) (offsets distinct, in 1 .. (n - 1) // 2). (2, E), one
    direction per pair."""
    i = np.arange(n)
    return np.stack([np.tile(i, len(offsets)), (i[None, :] + np.asarray(offsets)[:, None]
                                                ).reshape(-1) % n])


def wl_hard_graphs(num_graphs=200, num_nodes=(12, 20), degree=4, *, generator=None):
    """Graph classification that 1-WL and sum aggregation solve and mean aggregation
    cannot. A list of `num_graphs` Data (x (N, 1) ones, edge_index undirected, y (1,)),
    made in pairs that share N (drawn from [num_nodes[0], num_nodes[1]]) and E:

    - class 0: a circulant graph, every node of degree `degree` (even);
    - class 1: the same graph with one edge (a, b) moved to (a, c), c not a neighbour of
      a: node b now has degree - 1, node c degree + 1, everything else as before.

    Why mean aggregation cannot separate them: with constant features every node starts
    with the same vector h; a layer h_v' = f(h_v, mean_{u in N(v)} h_u) (or the mean over
    N(v) and v: the row-normalised D~^-1 A~ of a GCN, SAGEConv's mean) maps equal vectors
    to equal vectors, so by induction every node of every graph holds the same vector at
    every depth, and a mean or max readout is the same for all graphs (a sum readout sees
    only N, which the two classes share pair by pair). Why 1-WL and sum aggregation do:
    the first sum over neighbours of constant features is the degree, and only class-1
    graphs have a node of degree `degree` + 1; one GIN layer and a sum readout separate
    the classes. (GCNConv's symmetric normalisation 1 / sqrt(d_u d_v) leaks degrees, so
    it is not covered by this argument.) The pairs alternate: graph 2k is class 0 and
    graph 2k + 1 its class-1 twin; node numbers are shuffled per graph."""
    if degree % 2 or degree < 2:
        raise ValueError(f"wl_hard_graphs: degree must be even and >= 2; got {degree}")
    low, high = num_nodes
    if low < degree + 3 or high < low:
        raise ValueError(f"wl_hard_graphs: num_nodes must be a range (low, high) with "
                         f"low >= degree + 3 = {degree + 3}; got {num_nodes}")
    rng = as_generator(generator, "wl_hard_graphs")
    graphs = []
    for _ in range(math.ceil(num_graphs / 2)):
        n = int(rng.integers(low, high + 1))
        offsets = 1 + rng.choice((n - 1) // 2, size=degree // 2, replace=False)
        base = _circulant(n, offsets)
        moved = base.copy()
        e = int(rng.integers(base.shape[1]))
        a, b = moved[:, e]
        adjacent = np.zeros(n, dtype=bool)
        adjacent[np.concatenate([base[1][base[0] == a], base[0][base[1] == a], [a]])] = True
        c = rng.choice(np.flatnonzero(~adjacent))
        moved[:, e] = (a, c)
        for label, edges in ((0, base), (1, moved)):
            perm = rng.permutation(n)
            edges = perm[edges]
            both = np.concatenate([edges, edges[::-1]], axis=1)
            graphs.append(Data(x=Tensor(np.ones((n, 1), np.float32)),
                               edge_index=coalesce(both, num_nodes=n),
                               y=Tensor(np.array([label], np.int64))))
    return graphs[:num_graphs]


def tree_edges(depth):
    """The edges child -> parent of the complete binary tree of `depth` (node 0 the root,
    children of i are 2i + 1 and 2i + 2): (2, 2^(depth+1) - 2), and the leaves' numbers."""
    n = 2 ** (depth + 1) - 1
    child = np.arange(1, n, dtype=np.int64)
    return np.stack([child, (child - 1) // 2]), np.arange(2 ** depth - 1, n, dtype=np.int64)


def tree_neighbours_match(depth, num_permutations=None, *, generator=None):
    """Alon & Yahav (2021)'s Tree-NeighborsMatch: a complete binary tree of `depth`, L =
    2^depth leaves. Leaf j (left to right) holds key j + 1 and a value values[j] (a random
    permutation of 1..L); the root holds a key k in 1..L and value 0; inner nodes hold
    (0, 0). The target is the value of the leaf whose key is k, as a class y = value - 1
    in 0..L-1 (the paper's labels, shifted to start at 0). Information must travel
    `depth` hops from every leaf to the root, through a bottleneck that doubles per level.

    Each of `num_permutations` drawn value permutations is paired with every key, as the
    paper's generator: L * num_permutations graphs, default num_permutations = min(1000,
    L!, 32000 // L) (the paper's count). Each graph is a Data with x (N, 2) int64 (key,
    value), edge_index (2, N - 1) child -> parent (messages flow to the root), root_mask
    (N,) bool (True at node 0), y (1,) int64. The graphs share one edge_index Tensor."""
    if depth < 1:
        raise ValueError(f"tree_neighbours_match: depth must be >= 1; got {depth}")
    rng = as_generator(generator, "tree_neighbours_match")
    edges, leaves = tree_edges(depth)
    n, num_leaves = 2 ** (depth + 1) - 1, leaves.size
    if num_permutations is None:
        num_permutations = min(1000, math.factorial(num_leaves), 32000 // num_leaves)
    values = np.argsort(rng.random((num_permutations, num_leaves)), axis=1) + 1
    edge_index = Tensor(edges)
    root_mask = np.zeros(n, dtype=bool)
    root_mask[0] = True
    keys = np.arange(1, num_leaves + 1)
    graphs = []
    for perm in values:
        x = np.zeros((num_leaves, n, 2), dtype=np.int64)   # one tree per key, at once
        x[:, leaves, 0] = keys
        x[:, leaves, 1] = perm
        x[:, 0, 0] = keys
        for key in range(num_leaves):
            graphs.append(Data(x=Tensor(x[key]), edge_index=edge_index,
                               root_mask=Tensor(root_mask.copy()),
                               y=Tensor(np.array([perm[key] - 1], np.int64))))
    return graphs


class FakeDataset(Dataset):
    """PyG's FakeDataset: `num_graphs` random graphs (a list-like dataset of Data).
    `FakeDataset(num_graphs=1, avg_num_nodes=1000, avg_degree=10.0, num_channels=64,
    edge_dim=0, num_classes=10, task='auto', is_undirected=True, transform=None, *,
    generator=None, **kwargs)`.

    Each graph has N nodes, N uniform in [max(3 avg_num_nodes // 4, avg_degree),
    5 avg_num_nodes // 4]; int(N * avg_degree) uniform edges (u, v), self-loops removed,
    then made undirected (both directions, duplicates merged) or only coalesced; y (N,)
    uniform classes for task 'node' ('auto' with one graph), y (1,) for task 'graph';
    x (N, num_channels) = N(0, 1) noise + y; edge_attr (E, edge_dim) uniform [0, 1) if
    edge_dim > 1, edge_weight (E,) if edge_dim == 1; each keyword `name=shape` adds
    N(0, 1) noise of that shape. Draws from `generator` (so its numbers differ from
    torch's, the distributions are PyG's)."""

    def __init__(self, num_graphs=1, avg_num_nodes=1000, avg_degree=10.0, num_channels=64,
                 edge_dim=0, num_classes=10, task="auto", is_undirected=True, transform=None,
                 *, generator=None, **kwargs):
        if task == "auto":
            task = "graph" if num_graphs > 1 else "node"
        if task not in ("node", "graph"):
            raise ValueError(f"FakeDataset: task must be 'node', 'graph' or 'auto'; got "
                             f"{task!r}")
        rng = as_generator(generator, "FakeDataset")
        self.avg_num_nodes = max(avg_num_nodes, int(avg_degree))
        self.avg_degree = max(avg_degree, 1)
        self.num_channels, self.edge_dim = num_channels, edge_dim
        self._num_classes, self.task = num_classes, task
        self.is_undirected, self.transform = is_undirected, transform
        self.graphs = [self._generate(rng, kwargs) for _ in range(max(num_graphs, 1))]

    def _generate(self, rng, extra):
        low = max(3 * self.avg_num_nodes // 4, int(self.avg_degree))
        n = int(rng.integers(low, 5 * self.avg_num_nodes // 4 + 1))
        data = Data()
        if self._num_classes > 0 and self.task == "node":
            data.y = Tensor(rng.integers(0, self._num_classes, n).astype(np.int64))
        elif self._num_classes > 0:
            data.y = Tensor(rng.integers(0, self._num_classes, 1).astype(np.int64))
        edges = rng.integers(0, n, (2, int(n * self.avg_degree))).astype(np.int64)
        edges = edges[:, edges[0] != edges[1]]
        if self.is_undirected:
            edges = np.concatenate([edges, edges[::-1]], axis=1)
        data.edge_index = coalesce(edges, num_nodes=n)
        if self.num_channels > 0:
            x = rng.standard_normal((n, self.num_channels)).astype(np.float32)
            if self._num_classes > 0:
                y = data.y.numpy()
                x += (y[:, None] if self.task == "node" else y).astype(np.float32)
            data.x = Tensor(x)
        else:
            data.num_nodes = n
        if self.edge_dim > 1:
            data.edge_attr = Tensor(rng.random((data.num_edges, self.edge_dim),
                                               dtype=np.float32))
        elif self.edge_dim == 1:
            data.edge_weight = Tensor(rng.random(data.num_edges, dtype=np.float32))
        for name, shape in extra.items():
            setattr(data, name, Tensor(rng.standard_normal(shape).astype(np.float32)))
        return data

    @property
    def num_classes(self):
        return self._num_classes

    def __len__(self):
        return len(self.graphs)

    def __getitem__(self, index):
        data = self.graphs[index]
        return data if self.transform is None else self.transform(data.clone())


def random_graph(num_nodes, num_edges, num_features=128, num_classes=10, *, generator=None):
    """One directed random graph of exactly `num_nodes` nodes and `num_edges` edges (the
    benchmark's 100,000 / 1,000,000): sources uniform, each target uniform among the other
    N - 1 nodes (no self-loops; a repeated pair is rare and kept, ~E^2 / 2N^2 of them), in
    draw order; y (N,) uniform in 0..num_classes-1; x (N, num_features) float32 = N(0, 1)
    noise + y (FakeDataset's features, so the labels are learnable). A Data."""
    if num_nodes < 2 and num_edges:
        raise ValueError(f"random_graph: edges without self-loops need num_nodes >= 2; got "
                         f"num_nodes={num_nodes}, num_edges={num_edges}")
    rng = as_generator(generator, "random_graph")
    src = rng.integers(0, num_nodes, num_edges).astype(np.int64)
    dst = (src + rng.integers(1, max(num_nodes, 2), num_edges)) % max(num_nodes, 1)
    y = rng.integers(0, num_classes, num_nodes).astype(np.int64)
    x = rng.standard_normal((num_nodes, num_features)).astype(np.float32) + y[:, None]
    return Data(x=Tensor(x.astype(np.float32)), edge_index=Tensor(np.stack([src, dst])),
                y=Tensor(y), num_nodes=num_nodes)
