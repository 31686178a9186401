"""MessagePassing: a user layer whose message reads x_i, x_j and an edge argument, against
the same layer on PyG's base class, for each aggregation and both flows; argument
collection (pairs, sizes, specials) and the errors."""
import numpy as np
import pytest

import nnlab
import nnlab.graph.nn as nng
from tests.graph.pyg_oracle import check_parity, pyg, random_graph, requires_pyg

X = np.random.default_rng(0).standard_normal((7, 3))
EDGES = random_graph(7, 18, seed=2)
WEIGHT = np.random.default_rng(1).uniform(0.5, 1.5, 18)


def edge_layer(G, nn, aggr, flow):
    """x_i' = aggr_j (w_ji * (2 x_j - x_i)) @ W, on either library's base class."""
    class EdgeLayer(G.MessagePassing):
        def __init__(self):
            super().__init__(aggr=aggr, flow=flow)
            self.lin = nn.Linear(3, 4)

        def forward(self, x, edge_index, edge_weight):
            return self.lin(self.propagate(edge_index, x=x, edge_weight=edge_weight))

        def message(self, x_i, x_j, edge_weight):
            return edge_weight.reshape(-1, 1) * (2 * x_j - x_i)
    return EdgeLayer()


@requires_pyg
@pytest.mark.parametrize("flow", ["source_to_target", "target_to_source"])
@pytest.mark.parametrize("aggr", ["add", "sum", "mean", "max", "min"])
def test_user_layer_matches_pyg(aggr, flow):
    check_parity(lambda G, nn: edge_layer(G, nn, aggr, flow),
                 dict(x=X, edge_index=EDGES, edge_weight=WEIGHT))


class Probe(nng.MessagePassing):
    """Records what propagate hands to message."""

    def message(self, x_j, x_i, index, size_i, size_j, edge_index_j, extra=5.0):
        self.seen = dict(index=index, size_i=size_i, size_j=size_j, j=edge_index_j,
                         x_i=x_i, extra=extra)
        return x_j


def test_collects_pairs_sizes_and_specials():
    ei = nnlab.tensor(np.array([[0, 1, 2], [1, 0, 0]]))
    src, dst = nnlab.randn(3, 2), nnlab.randn(2, 2)
    layer = Probe(aggr="sum")
    out = layer.propagate(ei, x=(src, dst))
    seen = layer.seen
    assert (seen["size_i"], seen["size_j"], seen["extra"]) == (2, 3, 5.0)
    np.testing.assert_array_equal(seen["index"].numpy(), [1, 0, 0])
    np.testing.assert_array_equal(seen["j"].numpy(), [0, 1, 2])
    np.testing.assert_array_equal(seen["x_i"].numpy(), dst.numpy()[[1, 0, 0]])
    expect = np.stack([src.numpy()[1] + src.numpy()[2], src.numpy()[0]])
    np.testing.assert_allclose(out.numpy(), expect, rtol=1e-6)


def test_isolated_target_gets_zero_for_every_aggregation():
    ei = nnlab.tensor(np.array([[0, 1], [1, 1]]))
    x = nnlab.tensor([[1.0], [-2.0], [3.0]])
    for aggr, value in [("sum", -1.0), ("mean", -0.5), ("max", 1.0), ("min", -2.0)]:
        out = nng.MessagePassing(aggr=aggr).propagate(ei, x=x).numpy()
        np.testing.assert_allclose(out[:, 0], [0.0, value, 0.0])


def test_errors_name_the_layer_and_what_it_got():
    with pytest.raises(ValueError, match="MessagePassing: aggr must be one of"):
        nng.MessagePassing(aggr="median")
    with pytest.raises(ValueError, match="flow must be"):
        nng.MessagePassing(flow="both")
    with pytest.raises(ValueError, match=r"edge_index must be an integer tensor of shape "
                                         r"\(2, E\), got float32 of shape \(3, 2\)"):
        nng.MessagePassing().propagate(nnlab.zeros(3, 2), x=nnlab.zeros(3, 1))
    ei = nnlab.tensor(np.array([[0], [1]]))
    with pytest.raises(ValueError, match="has 3 nodes along node_dim=-2, expected 2"):
        nng.MessagePassing().propagate(ei, size=(2, 2), x=nnlab.zeros(3, 1))


def test_gcn_add_self_loops_needs_normalize():
    with pytest.raises(ValueError, match="GCNConv: add_self_loops=True needs normalize"):
        nng.GCNConv(3, 4, normalize=False)


@pytest.mark.skipif(pyg is None, reason="torch_geometric is not installed")
def test_state_dict_keys_are_pygs():
    import torch
    for build in (lambda G, nn: G.GATConv(3, 4, heads=2, edge_dim=2, residual=True),
                  lambda G, nn: G.GATv2Conv(3, 4, edge_dim=2, share_weights=True),
                  lambda G, nn: G.GINEConv(nn.Linear(3, 4), train_eps=True, edge_dim=2),
                  lambda G, nn: G.RGCNConv(4, 4, 3, num_blocks=2),
                  lambda G, nn: G.SAGEConv(3, 4, project=True)):
        ours = build(nng, nnlab.nn).state_dict()
        theirs = build(pyg, torch.nn).state_dict()
        assert {k: tuple(v.shape) for k, v in ours.items()} == \
               {k: tuple(v.shape) for k, v in theirs.items()}


class SquareSum(nng.MessagePassing):
    """aggr=None: its own aggregate (the sum of squared messages)."""

    def __init__(self):
        super().__init__(aggr=None)

    def aggregate(self, inputs, index, dim_size=None):
        from nnlab.graph.utils import scatter
        return scatter(inputs * inputs, index, 0, dim_size, "sum")


def test_aggr_none_runs_the_layers_own_aggregate():
    ei = nnlab.tensor(np.array([[0, 1, 2], [2, 2, 0]]))
    x = nnlab.tensor([[1.0], [2.0], [3.0]])
    np.testing.assert_allclose(SquareSum().propagate(ei, x=x).numpy()[:, 0], [9.0, 0.0, 5.0])
    with pytest.raises(NotImplementedError, match="aggr=None needs an aggregate method"):
        nng.MessagePassing(aggr=None).propagate(ei, x=x)
