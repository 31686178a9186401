"""Permutation equivariance of every layer, f(P x, P A P^T) = P f(x, A): permute the
nodes, relabel the edges (their order and attributes unchanged), and the outputs permute;
on both the sparse and the gather path."""
import numpy as np
import pytest

import nnlab
import nnlab.graph.nn as G
import nnlab.nn as nn
from tests.graph.pyg_oracle import random_graph

N, E = 8, 20
RNG = np.random.default_rng(3)
X = RNG.standard_normal((N, 5))
EDGES = random_graph(N, E, seed=4)
EXTRA = dict(edge_weight=RNG.uniform(0.5, 1.5, E), edge_attr=RNG.standard_normal((E, 3)),
             edge_type=RNG.integers(0, 3, E))
LAYERS = {
    "GCNConv": (lambda: G.GCNConv(5, 4), ["edge_weight"]),
    "GATConv": (lambda: G.GATConv(5, 4, heads=2, edge_dim=3), ["edge_attr"]),
    "GATv2Conv": (lambda: G.GATv2Conv(5, 4, heads=2, edge_dim=3), ["edge_attr"]),
    "GINConv": (lambda: G.GINConv(nn.Linear(5, 4), eps=0.2), []),
    "GINEConv": (lambda: G.GINEConv(nn.Linear(5, 4), edge_dim=3), ["edge_attr"]),
    "SAGEConv-mean": (lambda: G.SAGEConv(5, 4), []),
    "SAGEConv-max": (lambda: G.SAGEConv(5, 4, aggr="max"), []),
    "GraphConv": (lambda: G.GraphConv(5, 4), ["edge_weight"]),
    "RGCNConv": (lambda: G.RGCNConv(5, 4, 3, num_bases=2), ["edge_type"]),
    "GCN": (lambda: G.models.GCN(5, 6, 2, 4), []),
    "GAT": (lambda: G.models.GAT(5, 6, 2, 4, heads=2), []),
    "GIN": (lambda: G.models.GIN(5, 6, 2, 4), []),
}


@pytest.mark.parametrize("fuse", [True, False])
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_is_permutation_equivariant(name, fuse):
    build, extra = LAYERS[name]
    nnlab.manual_seed(0)
    layer = build().double().eval()
    for m in layer.modules():
        if isinstance(m, G.MessagePassing):
            m.fuse = fuse
    perm = np.random.default_rng(5).permutation(N)       # new node k is old node perm[k]
    relabel = np.argsort(perm)                            # old node i is new node relabel[i]
    kwargs = {k: nnlab.tensor(EXTRA[k]) for k in extra}
    out = layer(nnlab.tensor(X), nnlab.tensor(EDGES), **kwargs).detach().numpy()
    moved = layer(nnlab.tensor(X[perm]), nnlab.tensor(relabel[EDGES]), **kwargs).detach().numpy()
    np.testing.assert_allclose(moved, out[perm], rtol=1e-10, atol=1e-12)
