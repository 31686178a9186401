"""The random utilities: negative_sampling, dropout_edge, stochastic_blockmodel_graph,
train_test_split_edges, RandomLinkSplit. PyG draws with torch / Python's random; fed the
same draws (its random source patched to replay a numpy Generator's stream), it must give
exactly nnlab's output; the properties are checked on their own too."""
import warnings

import numpy as np
import pytest

import nnlab
from nnlab.graph import Data
from nnlab.graph import utils as U
from nnlab.graph.transforms import RandomLinkSplit
from nnlab.graph.utils.negative_sampling import sample

from .pyg_data import N, P, T, assert_same, random_edges, requires_pyg, torch, torch_geometric

pyg = torch_geometric.utils if torch_geometric is not None else None


@pytest.fixture
def replay(monkeypatch):
    """replay(seed): patch PyG's random sources to draw from numpy's default_rng(seed) as
    nnlab does (randperm -> permutation, rand -> random, bernoulli -> random < p,
    negative sampling's `sample` -> nnlab's)."""
    def start(seed):
        rng = np.random.default_rng(seed)
        monkeypatch.setattr(torch, "randperm",
                            lambda n, **kw: torch.from_numpy(rng.permutation(n)))
        monkeypatch.setattr(torch, "rand", lambda n, **kw: torch.from_numpy(rng.random(n)))
        monkeypatch.setattr(torch, "bernoulli", lambda p, **kw: torch.from_numpy(
            (rng.random(p.shape[0]) < p.numpy()).astype(np.float32)))
        monkeypatch.setattr("torch_geometric.utils._negative_sampling.sample",
                            lambda population, k, device=None: torch.from_numpy(
                                sample(population, k, rng)))
    return start


def pairs_of(ei):
    return set(map(tuple, N(ei).T.tolist()))


@requires_pyg
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("kw", [dict(), dict(num_neg_samples=7), dict(num_neg_samples=0.5),
                                dict(force_undirected=True), dict(num_nodes=(6, 9)),
                                dict(num_nodes=30, num_neg_samples=500)])
def test_negative_sampling_matches_pyg_given_the_same_draws(replay, seed, kw):
    ei = random_edges(12, 30, seed=seed)
    if isinstance(kw.get("num_nodes"), tuple):
        ei = ei % np.array([[6], [9]])
    if kw.get("force_undirected"):
        ei = N(pyg.to_undirected(P(ei)))
    replay(seed)
    theirs = pyg.negative_sampling(P(ei), **kw)
    ours = U.negative_sampling(T(ei), generator=np.random.default_rng(seed), **kw)
    assert_same(ours, theirs)


@pytest.mark.parametrize("seed", range(3))
def test_negative_sampling_properties(seed):
    n, ei = 20, random_edges(20, 60, seed=seed)
    neg = N(U.negative_sampling(T(ei), n, generator=seed))
    assert neg.shape == (2, 60) and neg.dtype == np.int64
    assert not pairs_of(neg) & pairs_of(ei)
    assert (neg[0] != neg[1]).all() and len(pairs_of(neg)) == 60
    assert neg.min() >= 0 and neg.max() < n
    und = N(U.negative_sampling(T(U.to_undirected(T(ei))), n, force_undirected=True,
                                generator=seed))
    assert U.is_undirected(T(und)) and und.shape[1] == 2 * (U.to_undirected(T(ei)).shape[1] // 2)
    assert np.array_equal(N(U.negative_sampling(T(ei), n, generator=seed)), neg)
    full = np.stack(np.nonzero(~np.eye(4, dtype=bool)))
    assert U.negative_sampling(T(full), 4).shape == (2, 0)           # no negatives exist
    with pytest.raises(ValueError, match="method must be"):
        U.negative_sampling(T(ei), method="other")


@requires_pyg
@pytest.mark.parametrize("kw", [dict(p=0.3), dict(p=0.6, force_undirected=True),
                                dict(p=0.5, training=False), dict(p=0.0)])
def test_dropout_edge_matches_pyg_given_the_same_draws(replay, kw):
    ei = N(pyg.to_undirected(P(random_edges(10, 30, seed=2))))
    replay(7)
    theirs = pyg.dropout_edge(P(ei), **kw)
    ours = U.dropout_edge(T(ei), generator=np.random.default_rng(7), **kw)
    for a, b in zip(ours, theirs):
        assert_same(a, b)
    with pytest.raises(ValueError, match="between 0 and 1"):
        U.dropout_edge(T(ei), p=1.5)


def test_dropout_edge_keeps_about_one_minus_p():
    ei = random_edges(100, 20000, seed=0)
    kept, mask = U.dropout_edge(T(ei), p=0.25, generator=0)
    assert abs(mask.numpy().mean() - 0.75) < 0.02
    np.testing.assert_array_equal(kept.numpy(), ei[:, mask.numpy()])


@requires_pyg
@pytest.mark.parametrize("directed", [False, True])
def test_stochastic_blockmodel_graph_matches_pyg(replay, directed):
    sizes, probs = [4, 6, 3], [[0.5, 0.25, 0.0], [0.25, 1.0, 0.125], [0.0, 0.125, 0.5]]
    replay(11)
    theirs = pyg.stochastic_blockmodel_graph(sizes, probs, directed=directed)
    ours = U.stochastic_blockmodel_graph(sizes, probs, directed=directed,
                                         generator=np.random.default_rng(11))
    assert_same(ours, theirs)


def test_stochastic_blockmodel_graph_properties():
    ei = N(U.stochastic_blockmodel_graph([30, 30], [[1.0, 0.0], [0.0, 1.0]]))
    assert ei.shape[1] == 2 * 2 * (30 * 29 // 2)          # two cliques, both directions
    assert ((ei[0] < 30) == (ei[1] < 30)).all()
    ei = N(U.stochastic_blockmodel_graph([200, 200], [[0.3, 0.05], [0.05, 0.3]], generator=1))
    within = (ei[0] < 200) == (ei[1] < 200)
    assert abs(within.sum() / (2 * 200 * 199) - 0.3) < 0.02
    assert abs((~within).sum() / (2 * 200 * 200) - 0.05) < 0.01
    with pytest.raises(ValueError, match="symmetric"):
        U.stochastic_blockmodel_graph([2, 2], [[0.1, 0.2], [0.3, 0.4]])


def graph(seed=0, n=30, e=80, attrs=True):
    ei = N(pyg.to_undirected(P(random_edges(n, e, seed=seed, loops=False))))
    kw = dict(x=np.random.default_rng(seed).standard_normal((n, 4)).astype(np.float32),
              edge_index=ei)
    if attrs:
        kw["edge_attr"] = np.arange(ei.shape[1] * 2, dtype=np.float32).reshape(-1, 2)
    return (Data(**{k: T(v) for k, v in kw.items()}),
            torch_geometric.data.Data(**{k: P(v) for k, v in kw.items()}))


def assert_data_same(a, b):
    assert set(a.keys()) == set(b.keys()), (a.keys(), b.keys())
    for key in b.keys():
        assert_same(a[key], b[key])


@requires_pyg
@pytest.mark.parametrize("attrs", [False, True])
def test_train_test_split_edges_matches_pyg(replay, attrs):
    ours, theirs = graph(3, attrs=attrs)
    replay(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pyg.train_test_split_edges(theirs, val_ratio=0.1, test_ratio=0.2)
    ours = U.train_test_split_edges(ours, val_ratio=0.1, test_ratio=0.2,
                                    generator=np.random.default_rng(5))
    assert_data_same(ours, theirs)


LINK_SPLITS = [dict(), dict(is_undirected=True), dict(num_val=3, num_test=5),
               dict(is_undirected=True, split_labels=True),
               dict(add_negative_train_samples=False, neg_sampling_ratio=2.0),
               dict(disjoint_train_ratio=0.3, is_undirected=True)]


@requires_pyg
@pytest.mark.parametrize("kw", LINK_SPLITS)
def test_random_link_split_matches_pyg(replay, kw):
    ours, theirs = graph(1)
    replay(9)
    theirs = torch_geometric.transforms.RandomLinkSplit(**kw)(theirs)
    ours = RandomLinkSplit(**kw, generator=np.random.default_rng(9))(ours)
    for a, b in zip(ours, theirs, strict=True):
        assert_data_same(a, b)


def test_random_link_split_properties():
    ei = N(U.to_undirected(T(random_edges(40, 150, seed=0, loops=False))))
    data = Data(x=T(np.zeros((40, 1), np.float32)), edge_index=T(ei))
    train, val, test = RandomLinkSplit(num_val=0.1, num_test=0.2, is_undirected=True,
                                       generator=0)(data)
    pos = lambda d: N(d.edge_label_index)[:, N(d.edge_label) == 1]  # noqa: E731
    neg = lambda d: N(d.edge_label_index)[:, N(d.edge_label) == 0]  # noqa: E731
    n_pairs = ei.shape[1] // 2
    assert pos(val).shape[1] == int(0.1 * n_pairs) and pos(test).shape[1] == int(0.2 * n_pairs)
    assert pos(train).shape[1] == n_pairs - pos(val).shape[1] - pos(test).shape[1]
    everything = pairs_of(ei)
    for d in (train, val, test):
        assert pairs_of(pos(d)) <= everything and not pairs_of(neg(d)) & everything
        assert neg(d).shape[1] == pos(d).shape[1] and U.is_undirected(d.edge_index)
    assert not pairs_of(pos(test)) & pairs_of(test.edge_index)        # test edges held out
    assert pairs_of(pos(val)) <= pairs_of(test.edge_index)            # val edges seen at test
    assert train.edge_index.shape[1] == 2 * pos(train).shape[1]
    assert data.edge_index.shape == (2, ei.shape[1]) and "edge_label" not in data
    with pytest.raises(ValueError, match="insufficient number of edges"):
        RandomLinkSplit(num_val=0.5, num_test=0.5)(data)
    assert nnlab.graph.utils.RandomLinkSplit is RandomLinkSplit


@requires_pyg
def test_random_link_split_shifts_an_existing_label_as_pyg(replay):
    ours, theirs = graph(2, attrs=False)
    labels = np.random.default_rng(0).integers(0, 3, ours.num_edges).astype(np.int64)
    ours.edge_label, theirs.edge_label = T(labels), P(labels)
    replay(4)
    theirs = torch_geometric.transforms.RandomLinkSplit()(theirs)
    ours = RandomLinkSplit(generator=np.random.default_rng(4))(ours)
    for a, b in zip(ours, theirs, strict=True):
        assert_data_same(a, b)
