"""The convenience stacks GCN, GAT, GIN against torch_geometric.nn.models (weights copied
through PyG's state_dict keys), GAT's attention dropout under nnlab's seed, and GCNConv's
cache."""
import numpy as np
import pytest

import nnlab
import nnlab.graph.nn as G
from tests.graph.pyg_oracle import check_parity, random_graph, requires_pyg

RNG = np.random.default_rng(11)
X = RNG.standard_normal((8, 5))
EDGES = random_graph(8, 20, seed=12)
WEIGHT = RNG.uniform(0.5, 1.5, 20)
ATTR = RNG.standard_normal((20, 3))


def model(name, *args, **kwargs):
    return lambda g, nn: getattr(g.models, name)(*args, **kwargs)


@requires_pyg
@pytest.mark.parametrize("build, extra", [
    (model("GCN", 5, 8, 2, 4), dict(edge_weight=WEIGHT)),
    (model("GCN", 5, 8, 3, dropout=0.5, act="elu"), {}),
    (model("GCN", 5, 8, 3, 4, jk="cat"), {}),
    (model("GCN", 5, 8, 2, 4, jk="max"), {}),
    (model("GAT", 5, 8, 2, 4, heads=2), {}),
    (model("GAT", 5, 8, 2, 4, heads=2, v2=True, edge_dim=3), dict(edge_attr=ATTR)),
    (model("GIN", 5, 8, 3, 4, train_eps=True), {}),
], ids=["gcn", "gcn-elu-dropout", "gcn-jk-cat", "gcn-jk-max", "gat", "gatv2-edge", "gin"])
def test_model_matches_pyg(build, extra):
    check_parity(build, dict(x=X, edge_index=EDGES, **extra))


def test_gat_attention_dropout_is_deterministic_given_the_seed():
    conv = G.GATConv(5, 4, heads=2, dropout=0.5)
    x, ei = nnlab.tensor(X.astype(np.float32)), nnlab.tensor(EDGES)
    runs = []
    for _ in range(2):
        nnlab.manual_seed(3)
        runs.append(conv(x, ei, return_attention_weights=True)[1][1].detach().numpy())
    np.testing.assert_array_equal(runs[0], runs[1])
    dropped = runs[0] == 0
    assert 0.2 < dropped.mean() < 0.8
    conv.eval()
    alpha = conv(x, ei, return_attention_weights=True)[1][1].detach().numpy()
    np.testing.assert_allclose(runs[0][~dropped], 2 * alpha[~dropped], rtol=1e-6)


def test_gcn_cache_keeps_the_first_graph():
    conv = G.GCNConv(5, 4, cached=True)
    x = nnlab.tensor(X.astype(np.float32))
    first = conv(x, nnlab.tensor(EDGES)).detach().numpy()
    again = conv(x, nnlab.tensor(EDGES[:, :3])).detach().numpy()   # ignored: cached
    np.testing.assert_array_equal(first, again)
    conv.reset_parameters()
    assert conv._cached_edge_index is None


def test_models_refuse_what_they_do_not_carry():
    with pytest.raises(NotImplementedError, match="GCN: norm='batch_norm' is not supported"):
        G.models.GCN(5, 8, 2, norm="batch_norm")
    with pytest.raises(ValueError, match="GAT: the output channels of 'GATConv' \\(9\\)"):
        G.models.GAT(5, 9, 2, heads=2)


@requires_pyg
@pytest.mark.parametrize("kwargs", [{}, {"norm": None}, {"act_first": True, "act": "elu"},
                                    {"norm": "BatchNorm", "dropout": 0.0}])
@pytest.mark.parametrize("train", [False, True])
def test_mlp_matches_pyg_with_its_batch_norm_by_default(kwargs, train):
    build = lambda g, nn: g.MLP([5, 16, 8, 3], **kwargs)     # noqa: E731
    check_parity(build, dict(x=X), train=train)


def test_mlp_refuses_other_norms():
    with pytest.raises(ValueError, match="MLP: norm must be None or 'batch_norm', got 'layer'"):
        G.MLP([5, 8, 3], norm="layer")
    assert [k for k in G.MLP([5, 8, 3]).state_dict() if k.startswith("norms")] == [
        "norms.0.module.weight", "norms.0.module.bias", "norms.0.module.running_mean",
        "norms.0.module.running_var", "norms.0.module.num_batches_tracked"]
