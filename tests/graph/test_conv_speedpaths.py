"""The graph layers' speed paths give what the plain paths give. GCNConv(cached=True) builds
its sparse matrix once and reuses it: the same outputs and gradients as the uncached layer
and the composed path, call after call; sparse_aggregate with a matrix made beforehand
equals the one it builds itself. SAGEConv with out < in aggregates after W_l: PyG's
results, narrow and wide, sparse and composed; it keeps its sparse matrix until another
edge_index, an in-place change or other sizes come."""
import copy
import pickle

import numpy as np
import pytest

import nnlab
import nnlab.graph.nn as G
from nnlab.graph.nn import sparse
from tests.graph.pyg_oracle import check_parity, random_graph, requires_pyg

RNG = np.random.default_rng(3)
EDGES = random_graph(8, 20, seed=4)
X = RNG.standard_normal((8, 5))
WEIGHT = RNG.uniform(0.5, 1.5, 20)


def run(layer, calls=3, **kwargs):
    """(output, grads of x and of every parameter) of each of `calls` calls."""
    results = []
    for _ in range(calls):
        x = nnlab.tensor(X, requires_grad=True)
        layer.zero_grad(set_to_none=True)
        out = layer(x, nnlab.tensor(EDGES), **kwargs)
        (out * out).sum().backward()
        results.append([out.detach().numpy(), x.grad.numpy()]
                       + [p.grad.numpy() for p in layer.parameters()])
    return results


def layer(**kwargs):
    nnlab.manual_seed(0)
    return G.GCNConv(5, 3, **kwargs).double()


@pytest.mark.parametrize("flow", ["source_to_target", "target_to_source"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_cached_matrix_is_built_once_and_gives_the_same_results(monkeypatch, flow, weighted):
    built = []
    real = sparse._matrix
    monkeypatch.setattr(sparse, "_matrix", lambda *a: built.append(1) or real(*a))
    kwargs = {"edge_weight": nnlab.tensor(WEIGHT)} if weighted else {}
    cached = run(layer(cached=True, flow=flow), **kwargs)
    assert len(built) == 1
    composed = layer(cached=True, flow=flow)
    composed.fuse = False
    for reference in (run(layer(flow=flow), **kwargs), run(composed, **kwargs)):
        for got, expected in zip(cached, reference):
            for a, b in zip(got, expected):
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_reset_parameters_drops_the_cached_matrix():
    conv = layer(cached=True)
    run(conv, calls=1)
    assert conv._cached_adj is not None
    conv.reset_parameters()
    assert conv._cached_adj is None and conv._cached_edge_index is None


def test_sparse_aggregate_with_a_given_matrix():
    x, w, ei = nnlab.tensor(X), nnlab.tensor(WEIGHT), nnlab.tensor(EDGES)
    mat = sparse.sparse_matrix(ei, w, 9, 8, X.dtype)
    np.testing.assert_array_equal(sparse.sparse_aggregate(x, ei, w, 9, mat=mat).numpy(),
                                  sparse.sparse_aggregate(x, ei, w, 9).numpy())
    with pytest.raises(ValueError, match=r"sparse_aggregate: mat has shape \(9, 8\); "
                                         r"expected \(8, 8\)"):
        sparse.sparse_aggregate(x, ei, w, mat=mat)


@requires_pyg
@pytest.mark.parametrize("aggr", ["mean", "sum"])
@pytest.mark.parametrize("fuse", [True, False], ids=["sparse", "composed"])
@pytest.mark.parametrize("channels", [(5, 2), (2, 5), ((5, 3), 2)],
                         ids=["narrowing", "widening", "bipartite"])
def test_sage_aggregating_after_the_projection_matches_pyg(aggr, fuse, channels):
    c_in, c_out = channels
    x = X[:, :c_in] if isinstance(c_in, int) else (X, X[:, :3] + 1.0)
    check_parity(lambda G, nn: G.SAGEConv(c_in, c_out, aggr=aggr),
                 {"x": x, "edge_index": EDGES}, fuse=fuse)


@pytest.mark.parametrize("aggr", ["mean", "sum"])
def test_sage_keeps_its_matrix_until_the_edges_change(monkeypatch, aggr):
    built = []
    real = sparse._matrix
    monkeypatch.setattr(sparse, "_matrix", lambda *a: built.append(1) or real(*a))
    nnlab.manual_seed(0)
    conv = G.SAGEConv(5, 3, aggr=aggr).double()
    composed = copy.deepcopy(conv)
    composed.fuse = False
    x, ei = nnlab.tensor(X), nnlab.tensor(EDGES)

    def same():
        np.testing.assert_allclose(conv(x, ei).detach().numpy(), composed(x, ei).detach().numpy(),
                                   rtol=1e-12, atol=1e-12)

    same()
    same()
    assert len(built) == 1                      # kept across calls
    ei[1, 0] = (EDGES[1, 0] + 1) % 8            # changed in place: rebuilt
    same()
    assert len(built) == 2
    ei = nnlab.tensor(EDGES[:, ::-1].copy())    # another tensor: rebuilt
    same()
    assert len(built) == 3
    conv(nnlab.tensor(X[:6]), nnlab.tensor(EDGES % 6))   # other sizes: rebuilt
    assert len(built) == 4


def test_a_copied_or_pickled_sage_layer_starts_with_an_empty_cache():
    conv = G.SAGEConv(5, 3)
    conv(nnlab.tensor(X.astype(np.float32)), nnlab.tensor(EDGES))
    assert conv._adj.entry is not None
    for clone in (copy.deepcopy(conv), pickle.loads(pickle.dumps(conv))):
        assert clone._adj.entry is None
        np.testing.assert_array_equal(clone.lin_l.weight.detach().numpy(),
                                      conv.lin_l.weight.detach().numpy())
