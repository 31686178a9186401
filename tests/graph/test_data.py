"""nnlab.graph.Data against torch_geometric.data.Data: attribute access, num_nodes /
num_edges inference, keys, repr, graph questions, copies."""
import warnings

import numpy as np
import pytest

import nnlab
from nnlab.graph import Data

from .pyg_data import P, T, random_edges, requires_pyg, torch, torch_geometric

X = np.arange(12, dtype=np.float32).reshape(4, 3)
EI = np.array([[0, 1, 1, 2], [1, 0, 2, 1]], dtype=np.int64)


def both(**kw):
    """The same graph as nnlab Data and PyG Data (numpy arrays as Tensors on each side;
    other values passed as they are)."""
    conv = lambda f: {k: (f(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}  # noqa: E731
    return Data(**conv(T)), torch_geometric.data.Data(**conv(P))


def test_attributes_and_missing_names():
    d = Data(x=T(X), edge_index=T(EI), y=None, train_mask=T(np.ones(4, bool)))
    assert d.x is d["x"] and "x" in d and "y" not in d and d.y is None and d.pos is None
    assert d.keys() == ["x", "edge_index", "train_mask"] and len(d) == 3
    with pytest.raises(AttributeError, match="has no attribute 'missing'"):
        d.missing  # noqa: B018
    d.x = None
    assert "x" not in d
    d.name = "g"
    del d.train_mask
    assert d.keys() == ["edge_index", "name"]
    assert dict(iter(d))["name"] == "g"


CASES = {
    "x": dict(x=X, edge_index=EI),
    "pos": dict(pos=X[:3], edge_index=EI),
    "num_nodes": dict(edge_index=EI, num_nodes=7),
    "node_key": dict(edge_index=EI, node_feat=X[:2]),
    "edges_only": dict(edge_index=EI),
    "edge_attr": dict(x=X, edge_index=EI, edge_attr=np.ones((4, 2), np.float32)),
    "empty": dict(),
    "x_1d": dict(x=np.ones(5, np.float32)),
}


@requires_pyg
@pytest.mark.parametrize("case", CASES)
def test_sizes_keys_and_repr_match_pyg(case):
    d, p = both(**CASES[case])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert d.num_nodes == p.num_nodes
    assert d.num_edges == p.num_edges
    assert d.num_node_features == p.num_node_features == d.num_features == p.num_features
    assert d.num_edge_features == p.num_edge_features
    assert set(d.keys()) == set(p.keys())
    assert repr(d) == repr(p)
    for key in d.keys():
        assert d.is_edge_attr(key) == p.is_edge_attr(key), key
        assert d.is_node_attr(key) == p.is_node_attr(key), key


@requires_pyg
def test_num_nodes_from_edges_warns_as_pyg():
    with pytest.warns(UserWarning, match="Unable to accurately infer 'num_nodes'"):
        assert Data(edge_index=T(EI)).num_nodes == 3


@requires_pyg
def test_repr_of_scalars_strings_lists_and_dicts_matches_pyg():
    kw = dict(x=X, y=np.array(1.5, np.float32), k=np.array(3), s="ab", n=4, lst=[1, 2, 3])
    d, p = both(**kw)
    assert repr(d) == repr(p) == "Data(x=[4, 3], y=1.5, k=3, s='ab', n=4, lst=[3])"
    d.extra, p.extra = {"a": T(np.zeros(2))}, {"a": P(np.zeros(2))}
    assert repr(d) == repr(p)
    d.extra, p.extra = ({"a": T(np.zeros(2)), "b": {"c": 1}},
                        {"a": P(np.zeros(2)), "b": {"c": 1}})
    assert repr(d) == repr(p)


@requires_pyg
@pytest.mark.parametrize("seed", range(4))
def test_graph_questions_match_pyg(seed):
    n = 6
    ei = random_edges(n, 9, seed=seed)
    for edges in (ei, np.concatenate([ei, ei[::-1]], axis=1)):
        d, p = both(x=np.zeros((n, 1), np.float32), edge_index=edges)
        assert d.is_undirected() == p.is_undirected()
        assert d.is_directed() == p.is_directed()
        assert d.has_self_loops() == p.has_self_loops()
        assert d.has_isolated_nodes() == p.has_isolated_nodes()


def test_graph_questions_by_hand():
    d = Data(x=T(np.zeros((4, 1))), edge_index=T(EI))
    assert d.is_undirected() and not d.has_self_loops() and d.has_isolated_nodes()
    d.edge_index = T(np.array([[0, 1, 2, 3], [1, 2, 3, 3]]))
    assert not d.is_undirected() and d.has_self_loops() and not d.has_isolated_nodes()


def test_clone_is_deep_and_to_moves_tensors():
    d = Data(x=T(X.copy()), edge_index=T(EI), meta={"a": [1]}, train_mask=T(np.ones(4, bool)))
    c = d.clone()
    c.x._data[0, 0] = -1.0
    c.meta["a"].append(2)
    assert d.x.numpy()[0, 0] == 0.0 and d.meta == {"a": [1]}
    assert type(c) is Data and c.keys() == d.keys()
    assert d.to("cpu") is d and d.x.device == "cpu"
    d.x.requires_grad_(True)
    assert not d.detach().x.requires_grad


def test_masks_and_num_nodes_setter():
    d = Data(edge_index=T(EI))
    d.num_nodes = 5
    d.train_mask = T(np.array([True, False, True, False, False]))
    assert d.num_nodes == 5 and d.train_mask.numpy().sum() == 2
    assert "num_nodes" in d.keys()
    with pytest.raises(AttributeError, match="cannot be set"):
        d.num_edges = 3


@requires_pyg
def test_cat_dim_and_inc_match_pyg():
    d, p = both(x=X, edge_index=EI, face=np.zeros((3, 1), np.int64), y=np.array([1]))
    b = T(np.array([0, 0, 1]))
    for key in ("x", "edge_index", "face", "y", "node_index"):
        value = d[key] if key in d else d.x
        assert d.__cat_dim__(key, value) == p.__cat_dim__(key, P(value.numpy()))
        assert d.__inc__(key, value) == p.__inc__(key, P(value.numpy()))
    assert d.__inc__("batch", b) == p.__inc__("batch", torch.tensor([0, 0, 1])) == 2


def test_pickles_and_copies():
    import copy
    import pickle
    d = Data(x=T(X), edge_index=T(EI), name="g")
    for e in (pickle.loads(pickle.dumps(d)), copy.deepcopy(d), copy.copy(d)):
        assert e.keys() == d.keys() and np.array_equal(e.x.numpy(), X) and e.name == "g"
    assert isinstance(nnlab.graph.Data, type)
