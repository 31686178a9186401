"""Synthetic sets: the WL-hard pairs (sum aggregation separates the classes, mean
aggregation gives every graph the same output), Tree-NeighborsMatch, the block model."""
import numpy as np
import pytest

from nnlab.graph import Batch, utils
from nnlab.graph.datasets import StochasticBlockModelDataset, tree_neighbours_match, wl_hard_graphs


def degrees(g):
    return np.bincount(g.edge_index.numpy()[0], minlength=g.num_nodes)


def propagate(g, layers, aggregate):
    """A small random GNN in numpy: h' = relu(W1 h + W2 AGG(h)), AGG a sum or a mean over
    neighbours; the same weights for every graph."""
    src, dst = g.edge_index.numpy()
    h = g.x.numpy().astype(np.float64)
    for w1, w2 in layers:
        total = np.zeros_like(h)
        np.add.at(total, dst, h[src])
        if aggregate == "mean":
            total /= np.maximum(np.bincount(dst, minlength=len(h)), 1)[:, None]
        h = np.maximum(h @ w1 + total @ w2, 0)
    return h


def test_wl_hard_pairs_differ_only_in_one_moved_edge():
    graphs = wl_hard_graphs(40, num_nodes=(10, 16), degree=4, generator=0)
    assert len(graphs) == 40
    for zero, one in zip(graphs[::2], graphs[1::2]):
        assert (zero.y.item(), one.y.item()) == (0, 1)
        assert zero.num_nodes == one.num_nodes and zero.num_edges == one.num_edges
        for g in (zero, one):
            assert g.is_undirected() and not g.has_self_loops()
            assert utils.coalesce(g.edge_index).shape == g.edge_index.shape   # no duplicates
            assert g.x.shape == (g.num_nodes, 1) and (g.x.numpy() == 1).all()
        assert (degrees(zero) == 4).all()
        assert sorted(np.bincount(degrees(one)).tolist()) == sorted(
            [0, 0, 0, 1, zero.num_nodes - 2, 1])   # one node of degree 3, one of 5
    again = wl_hard_graphs(40, num_nodes=(10, 16), degree=4, generator=0)
    assert all(np.array_equal(a.edge_index.numpy(), b.edge_index.numpy())
               for a, b in zip(graphs, again))


def test_mean_aggregation_cannot_separate_and_sum_can():
    graphs = wl_hard_graphs(30, generator=1)
    rng = np.random.default_rng(0)
    layers = [(rng.standard_normal((1, 8)), rng.standard_normal((1, 8)))] + [
        (rng.standard_normal((8, 8)), rng.standard_normal((8, 8))) for _ in range(2)]
    mean_out = np.stack([propagate(g, layers, "mean").mean(0) for g in graphs])
    np.testing.assert_allclose(mean_out, np.broadcast_to(mean_out[0], mean_out.shape),
                               rtol=1e-12)   # one output for every graph of both classes
    # the first sum over neighbours of ones is the degree: class 1 alone has degree 5,
    # so sum aggregation, a nonlinear update (here d -> d^2) and a sum readout separate
    labels = np.array([g.y.item() for g in graphs])
    readout = np.array([(propagate(g, [(np.zeros((1, 1)), np.ones((1, 1)))], "sum") ** 2
                         ).sum() - 16 * g.num_nodes for g in graphs])
    np.testing.assert_array_equal(readout, 2 * labels)


def test_wl_hard_graphs_batch_and_errors():
    batch = Batch.from_data_list(wl_hard_graphs(6, generator=2))
    assert batch.num_graphs == 6 and batch.y.numpy().tolist() == [0, 1] * 3
    with pytest.raises(ValueError, match="degree must be even"):
        wl_hard_graphs(2, degree=3)
    with pytest.raises(ValueError, match="low >= degree"):
        wl_hard_graphs(2, num_nodes=(5, 9), degree=4)


@pytest.mark.parametrize("depth", [2, 3])
def test_tree_neighbours_match(depth):
    graphs = tree_neighbours_match(depth, num_permutations=5, generator=0)
    leaves_count = 2 ** depth
    n = 2 * leaves_count - 1
    assert len(graphs) == 5 * leaves_count
    g = graphs[0]
    ei = g.edge_index.numpy()
    assert g.num_nodes == n and ei.shape == (2, n - 1)
    np.testing.assert_array_equal(ei[1], (ei[0] - 1) // 2)          # child -> parent
    assert g.root_mask.numpy().tolist() == [True] + [False] * (n - 1)
    leaves = np.arange(leaves_count - 1, n)
    for g in graphs:
        x = g.x.numpy()
        assert x.dtype == np.int64 and x.shape == (n, 2)
        np.testing.assert_array_equal(x[leaves, 0], np.arange(1, leaves_count + 1))
        assert sorted(x[leaves, 1]) == list(range(1, leaves_count + 1))
        assert not x[1:leaves_count - 1].any() and x[0, 1] == 0
        match = leaves[x[leaves, 0] == x[0, 0]]
        assert g.y.item() == x[match[0], 1] - 1
    labels = np.array([g.y.item() for g in graphs])
    assert np.bincount(labels).tolist() == [5] * leaves_count
    assert len(tree_neighbours_match(3, generator=0)) == 8 * 1000
    assert len(tree_neighbours_match(2, generator=0)) == 4 * 24


def test_stochastic_block_model_dataset():
    ds = StochasticBlockModelDataset([10, 15], [[1.0, 0.0], [0.0, 1.0]], num_graphs=2,
                                     num_channels=4, generator=0)
    assert len(ds) == 2 and ds.num_classes == 2
    g = ds[0]
    assert g.x.shape == (25, 4) and g.x.dtype == np.float32 and g.num_nodes == 25
    assert g.y.numpy().tolist() == [0] * 10 + [1] * 15
    assert g.num_edges == 10 * 9 + 15 * 14 and g.is_undirected()
    plain = StochasticBlockModelDataset([5, 5], [[0.5, 0.1], [0.1, 0.5]], generator=1)[0]
    assert "x" not in plain and plain.num_nodes == 10
