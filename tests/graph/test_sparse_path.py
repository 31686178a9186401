"""The sparse product path (one scipy.sparse CSR product) against its composed twin
(gather + segment sum): values, gradients with respect to the features and the edge
weights, and second derivatives; a layer's float64 gradient check on both paths."""
import numpy as np
import pytest

import nnlab
import nnlab.graph.nn as G
from nnlab.autograd import gradcheck, gradgradcheck
from nnlab.graph.nn.sparse import sparse_aggregate
from nnlab.ops.index import index_select, segment_sum
from tests.graph.pyg_oracle import random_graph

RNG = np.random.default_rng(7)
EDGES = np.concatenate([random_graph(9, 30, seed=8), [[2, 2], [5, 5]]], axis=1)  # repeats
X = RNG.standard_normal((9, 2, 3))
W = RNG.uniform(0.5, 1.5, 32)


def composed(x, edge_index, w, n):
    src, dst = edge_index[0], edge_index[1]
    msgs = index_select(x, 0, src) * w.reshape(-1, 1, 1)
    return segment_sum(msgs, dst, n)


def test_sparse_equals_its_twin_with_gradients():
    ei = nnlab.tensor(EDGES)
    outs = []
    for fn in (lambda x, w: sparse_aggregate(x, ei, w, 10), lambda x, w: composed(x, ei, w, 10)):
        x, w = nnlab.tensor(X, requires_grad=True), nnlab.tensor(W, requires_grad=True)
        y = fn(x, w)
        gx, gw = nnlab.autograd.grad((y * y).sum(), [x, w], create_graph=True)
        ggx, = nnlab.autograd.grad((gx * gx).sum() + (gw * gw).sum(), [x])
        outs.append([a.detach().numpy() for a in (y, gx, gw, ggx)])
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_sparse_gradcheck_both_orders():
    ei = nnlab.tensor(EDGES)
    fn = lambda x, w: sparse_aggregate(x, ei, w, 10)   # noqa: E731
    args = (nnlab.tensor(X, requires_grad=True), nnlab.tensor(W, requires_grad=True))
    assert gradcheck(fn, args)
    assert gradgradcheck(fn, args)


def test_float32_stays_float32():
    out = sparse_aggregate(nnlab.tensor(X.astype(np.float32)), nnlab.tensor(EDGES),
                           nnlab.tensor(W), 9)
    assert out.dtype == np.float32


@pytest.mark.parametrize("fuse", [True, False])
@pytest.mark.parametrize("build", [lambda: G.GCNConv(3, 2), lambda: G.GATConv(3, 2, heads=2),
                                   lambda: G.SAGEConv(3, 2)], ids=["gcn", "gat", "sage"])
def test_small_layer_gradcheck(build, fuse):
    nnlab.manual_seed(0)
    layer = build().double()
    layer.fuse = fuse
    ei = nnlab.tensor(random_graph(5, 9, seed=9))
    x = nnlab.tensor(RNG.standard_normal((5, 3)), requires_grad=True)
    params = list(layer.parameters())
    assert gradcheck(lambda x, *ps: layer(x, ei), (x, *params))
