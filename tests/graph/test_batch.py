"""Batch.from_data_list against PyG's: every attribute, batch, ptr, increments, slices back
to the graphs."""
import numpy as np
import pytest

import nnlab
from nnlab.graph import Batch, Data

from .pyg_data import P, T, assert_same, random_edges, requires_pyg, torch_geometric


def graphs(seed=0, count=4):
    """Graphs of different sizes with node, edge and graph attributes of several kinds."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        n, e = int(rng.integers(2, 7)), int(rng.integers(1, 9))
        out.append(dict(
            x=rng.standard_normal((n, 3)).astype(np.float32),
            edge_index=random_edges(n, e, seed=seed + i),
            edge_attr=rng.standard_normal((e, 2)).astype(np.float32),
            y=np.array(i % 2, dtype=np.int64),             # graph label, 0-d
            node_y=rng.integers(0, 3, n).astype(np.int64),
            face=rng.integers(0, n, (3, 2)).astype(np.int64),
            node_index=rng.integers(0, n, 2).astype(np.int64),
            count=i, name=f"g{i}", weight=0.5 * i,
        ))
    return out


def pair(dicts, **kw):
    conv = lambda d, f: {k: (f(v) if isinstance(v, np.ndarray) else v) for k, v in d.items()}  # noqa: E731
    ours = Batch.from_data_list([Data(**conv(d, T)) for d in dicts], **kw)
    theirs = torch_geometric.data.Batch.from_data_list(
        [torch_geometric.data.Data(**conv(d, P)) for d in dicts], **kw)
    return ours, theirs


def assert_value(a, b, key):
    if isinstance(b, (list, str, int, float)):
        assert a == b, key
    else:
        assert_same(a, b)


@requires_pyg
@pytest.mark.parametrize("seed", range(3))
def test_from_data_list_matches_pyg(seed):
    ours, theirs = pair(graphs(seed), follow_batch=["x", "face"], exclude_keys=["weight"])
    assert set(ours.keys()) == set(theirs.keys())
    for key in theirs.keys():
        assert_value(ours[key], theirs[key], key)
    assert ours.num_graphs == theirs.num_graphs == len(ours) == 4
    assert ours.num_nodes == theirs.num_nodes
    assert repr(ours) == repr(theirs)


@requires_pyg
@pytest.mark.parametrize("seed", range(3))
def test_get_example_and_to_data_list_match_pyg(seed):
    ours, theirs = pair(graphs(seed))
    for a, b in zip(ours.to_data_list(), theirs.to_data_list()):
        assert set(a.keys()) == set(b.keys())
        for key in b.keys():
            assert_value(a[key], b[key], key)
        assert repr(a) == repr(b)
    assert repr(ours[-1]) == repr(theirs[3])   # PyG fails on negative indices
    assert [repr(g) for g in ours[[0, 2]]] == [repr(g) for g in theirs[[0, 2]]]
    assert [repr(g) for g in ours[1:3]] == [repr(g) for g in theirs[1:3]]


def test_block_diagonal_by_hand():
    a = Data(x=T(np.ones((2, 1), np.float32)), edge_index=T(np.array([[0], [1]])),
             y=T(np.array([0])))
    b = Data(x=T(np.ones((3, 1), np.float32)), edge_index=T(np.array([[0, 2], [1, 0]])),
             y=T(np.array([1])))
    batch = Batch.from_data_list([a, b, a])
    np.testing.assert_array_equal(batch.edge_index.numpy(), [[0, 2, 4, 5], [1, 3, 2, 6]])
    np.testing.assert_array_equal(batch.batch.numpy(), [0, 0, 1, 1, 1, 2, 2])
    np.testing.assert_array_equal(batch.ptr.numpy(), [0, 2, 5, 7])
    np.testing.assert_array_equal(batch.y.numpy(), [0, 1, 0])
    assert batch.batch.dtype == batch.ptr.dtype == np.int64
    np.testing.assert_array_equal(batch.get_example(1).edge_index.numpy(), [[0, 2], [1, 0]])
    with pytest.raises(IndexError, match="out of range for a batch of 3"):
        batch.get_example(3)


def test_gradients_reach_the_graphs_tensors():
    xs = [nnlab.tensor(np.full((k, 2), float(k)), requires_grad=True) for k in (1, 3)]
    batch = Batch.from_data_list([Data(x=x, edge_index=T(np.zeros((2, 0), np.int64)))
                                  for x in xs])
    (batch.x * batch.x).sum().backward()
    for x in xs:
        np.testing.assert_array_equal(x.grad.numpy(), 2 * x.detach().numpy())


def test_num_nodes_attribute_and_errors():
    gs = [Data(edge_index=T(np.array([[0], [1]])), num_nodes=n) for n in (3, 2)]
    batch = Batch.from_data_list(gs)
    assert batch.num_nodes == 5 and batch.get_example(1).num_nodes == 2
    np.testing.assert_array_equal(batch.edge_index.numpy(), [[0, 3], [1, 4]])
    with pytest.raises(ValueError, match="empty list"):
        Batch.from_data_list([])
    with pytest.raises(KeyError, match="graph 1 has no attribute 'num_nodes'"):
        Batch.from_data_list([gs[0], Data(edge_index=T(np.array([[0], [1]])), x=T([1.0]))])


def test_a_pickled_batch_still_splits():
    import pickle
    batch = Batch.from_data_list([Data(x=T(np.ones((k, 1), np.float32)),
                                       edge_index=T(np.array([[0], [k - 1]]))) for k in (2, 3)])
    again = pickle.loads(pickle.dumps(batch))
    assert repr(again) == repr(batch) and again.num_graphs == 2
    np.testing.assert_array_equal(again.get_example(1).edge_index.numpy(), [[0], [2]])
