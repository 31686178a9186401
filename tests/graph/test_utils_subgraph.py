"""subgraph, k_hop_subgraph, to_dense_adj, contains_self_loops, contains_isolated_nodes,
index_to_mask, mask_to_index against torch_geometric.utils."""
import numpy as np
import pytest

import nnlab
from nnlab.graph import utils as U

from .pyg_data import N, P, T, assert_same, random_edges, requires_pyg, torch, torch_geometric

pyg = torch_geometric.utils if torch_geometric is not None else None


@requires_pyg
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("relabel", [False, True])
def test_subgraph_matches_pyg(seed, relabel):
    ei = random_edges(10, 30, seed=seed)
    attr = np.arange(60, dtype=np.float32).reshape(30, 2)
    rng = np.random.default_rng(seed)
    index = rng.choice(10, 6, replace=False)            # unsorted indices
    mask = np.zeros(10, bool)
    mask[index] = True
    for subset, theirs in ((T(index), P(index)), (T(mask), P(mask)),
                           (index.tolist(), index.tolist())):
        a = U.subgraph(subset, T(ei), T(attr), relabel_nodes=relabel, return_edge_mask=True)
        b = pyg.subgraph(theirs, P(ei), P(attr), relabel_nodes=relabel, return_edge_mask=True)
        for x, y in zip(a, b):
            assert_same(x, y)
    out, none = U.subgraph(T(index), T(ei))
    assert none is None and out.shape[0] == 2


@requires_pyg
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("flow", ["source_to_target", "target_to_source"])
@pytest.mark.parametrize("directed", [False, True])
@pytest.mark.parametrize("relabel", [False, True])
def test_k_hop_subgraph_matches_pyg(seed, flow, directed, relabel):
    ei = random_edges(15, 25, seed=seed)
    for node_idx, theirs in ((3, 3), ([1, 7], [1, 7]), (T(np.array([9, 2])),
                                                        P(np.array([9, 2])))):
        for hops in (1, 2, 3):
            a = U.k_hop_subgraph(node_idx, hops, T(ei), relabel_nodes=relabel, flow=flow,
                                 directed=directed)
            b = pyg.k_hop_subgraph(theirs, hops, P(ei), relabel_nodes=relabel, flow=flow,
                                   directed=directed)
            for x, y in zip(a, b):
                assert_same(x, y)
    with pytest.raises(ValueError, match="flow must be"):
        U.k_hop_subgraph(0, 1, T(ei), flow="up")


@requires_pyg
@pytest.mark.parametrize("seed", range(3))
def test_to_dense_adj_matches_pyg(seed):
    rng = np.random.default_rng(seed)
    sizes = [3, 5, 2]
    batch = np.repeat(np.arange(3), sizes)
    starts = np.cumsum([0] + sizes[:-1])
    ei = np.concatenate([random_edges(k, 6, seed=seed + g) % k + s
                         for g, (k, s) in enumerate(zip(sizes, starts))], axis=1)
    w = rng.standard_normal(ei.shape[1]).astype(np.float32)
    w2 = rng.standard_normal((ei.shape[1], 2)).astype(np.float32)
    single = random_edges(6, 10, seed=seed)
    assert_same(U.to_dense_adj(T(single)), pyg.to_dense_adj(P(single)))
    for kw in (dict(), dict(max_num_nodes=7), dict(max_num_nodes=3), dict(batch_size=4)):
        for attr in (None, w, w2):
            a = U.to_dense_adj(T(ei), T(batch), None if attr is None else T(attr), **kw)
            b = pyg.to_dense_adj(P(ei), P(batch), None if attr is None else P(attr), **kw)
            np.testing.assert_allclose(N(a), N(b), rtol=1e-6, atol=1e-7)
            assert N(a).shape == N(b).shape and N(a).dtype == N(b).dtype


@requires_pyg
def test_to_dense_adj_gradient_matches_pyg():
    ei = random_edges(5, 12, seed=4)
    w = np.random.default_rng(0).standard_normal(12)
    a, b = nnlab.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    v = np.random.default_rng(1).standard_normal((1, 5, 5))
    (U.to_dense_adj(T(ei), edge_attr=a) * nnlab.tensor(v)).sum().backward()
    (pyg.to_dense_adj(P(ei), edge_attr=b) * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)


@requires_pyg
@pytest.mark.parametrize("seed", range(4))
def test_checks_and_masks_match_pyg(seed):
    ei = random_edges(8, 6, seed=seed)
    assert U.contains_self_loops(T(ei)) == pyg.contains_self_loops(P(ei))
    for n in (None, 8, 12):
        assert U.contains_isolated_nodes(T(ei), n) == pyg.contains_isolated_nodes(P(ei), n)
    idx = np.array([4, 1, 1])
    assert_same(U.index_to_mask(T(idx), 6), pyg.index_to_mask(P(idx), 6))
    assert_same(U.index_to_mask(T(idx)), pyg.index_to_mask(P(idx)))
    mask = np.array([False, True, True, False, True])
    assert_same(U.mask_to_index(T(mask)), pyg.mask_to_index(P(mask)))


def test_checks_by_hand():
    assert U.contains_self_loops(T(np.array([[0, 1], [1, 1]])))
    assert not U.contains_self_loops(T(np.array([[0, 1], [1, 0]])))
    assert U.contains_isolated_nodes(T(np.array([[0, 2], [0, 2]])), 3)   # loops only
    assert not U.contains_isolated_nodes(T(np.array([[0, 1], [1, 2]])))
