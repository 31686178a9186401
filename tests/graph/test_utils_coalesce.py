"""coalesce, sort_edge_index, to_undirected, is_undirected against torch_geometric.utils:
same edges, same reduced attributes, same gradients through the attributes."""
import numpy as np
import pytest

import nnlab
from nnlab.graph import utils as U

from .pyg_data import N, P, T, assert_same, random_edges, requires_pyg, torch, torch_geometric

pyg = torch_geometric.utils if torch_geometric is not None else None


@requires_pyg
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("sort_by_row", [True, False])
def test_coalesce_edges_match_pyg(seed, sort_by_row):
    ei = random_edges(9, 40, seed=seed)
    assert_same(U.coalesce(T(ei), sort_by_row=sort_by_row),
                pyg.coalesce(P(ei), sort_by_row=sort_by_row))
    assert_same(U.coalesce(T(ei), num_nodes=20), pyg.coalesce(P(ei), num_nodes=20))
    out, attr = U.coalesce(T(ei), None)
    assert attr is None and np.array_equal(N(out), N(pyg.coalesce(P(ei), None)[0]))


@requires_pyg
@pytest.mark.parametrize("reduce", ["sum", "add", "mean", "min", "max"])
def test_coalesce_reduces_and_gradients_match_pyg(reduce):
    ei = random_edges(7, 30, seed=5)
    attr = np.random.default_rng(1).standard_normal((30, 3))
    a = nnlab.tensor(attr, requires_grad=True)
    b = torch.tensor(attr, requires_grad=True)
    ours, theirs = U.coalesce(T(ei), a, reduce=reduce), pyg.coalesce(P(ei), b, reduce=reduce)
    assert_same(ours[0], theirs[0])
    np.testing.assert_allclose(N(ours[1]), N(theirs[1]), rtol=1e-12, atol=1e-12)
    v = np.random.default_rng(2).standard_normal(N(theirs[1]).shape)
    (ours[1] * nnlab.tensor(v)).sum().backward()
    (theirs[1] * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-12)


@requires_pyg
def test_coalesce_attribute_lists_sorted_input_and_no_duplicates():
    ei = random_edges(6, 20, seed=3)
    w = np.arange(20, dtype=np.float32)
    e2 = np.arange(40, dtype=np.float32).reshape(20, 2)
    ours = U.coalesce(T(ei), [T(w), T(e2)], reduce="mean")
    theirs = pyg.coalesce(P(ei), [P(w), P(e2)], reduce="mean")
    assert_same(ours[0], theirs[0])
    for a, b in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(N(a), N(b), rtol=1e-6)
    clean = N(theirs[0])
    assert_same(U.coalesce(T(clean), is_sorted=True), pyg.coalesce(P(clean), is_sorted=True))
    assert_same(U.coalesce(T(ei), is_sorted=True), pyg.coalesce(P(ei), is_sorted=True))
    with pytest.raises(ValueError, match="reduce must be one of"):
        U.coalesce(T(ei), T(w), reduce="mul")


@requires_pyg
@pytest.mark.parametrize("seed", range(3))
def test_sort_edge_index_matches_pyg(seed):
    ei = random_edges(8, 25, seed=seed, dup=False)
    w = np.random.default_rng(seed).standard_normal(25).astype(np.float32)
    for by_row in (True, False):
        a, b = U.sort_edge_index(T(ei), T(w), sort_by_row=by_row), pyg.sort_edge_index(
            P(ei), P(w), sort_by_row=by_row)
        assert_same(a[0], b[0])
        assert_same(a[1], b[1])


@requires_pyg
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("reduce", ["add", "mean", "max"])
def test_to_undirected_matches_pyg(seed, reduce):
    ei = random_edges(8, 20, seed=seed)
    w = np.random.default_rng(seed).standard_normal((20, 2)).astype(np.float64)
    assert_same(U.to_undirected(T(ei)), pyg.to_undirected(P(ei)))
    assert_same(U.to_undirected(T(ei), 12), pyg.to_undirected(P(ei), 12))
    a, b = U.to_undirected(T(ei), T(w), reduce=reduce), pyg.to_undirected(P(ei), P(w),
                                                                          reduce=reduce)
    assert_same(a[0], b[0])
    np.testing.assert_allclose(N(a[1]), N(b[1]), rtol=1e-12)


@requires_pyg
@pytest.mark.parametrize("seed", range(4))
def test_is_undirected_matches_pyg(seed):
    ei = random_edges(7, 12, seed=seed)
    und = N(pyg.to_undirected(P(ei)))
    w = np.random.default_rng(seed).integers(0, 3, und.shape[1]).astype(np.float32)
    for edges, attr in ((ei, None), (und, None), (und, w)):
        expect = pyg.is_undirected(P(edges), None if attr is None else P(attr))
        assert U.is_undirected(T(edges), None if attr is None else T(attr)) == expect
    sym_w = N(pyg.to_undirected(P(ei), P(np.arange(12.0)))[1])
    assert U.is_undirected(T(und), T(sym_w)) and U.is_undirected(T(und), [T(sym_w)])


def test_to_undirected_by_hand_and_errors():
    out = U.to_undirected(T(np.array([[0, 1, 1], [1, 0, 2]])))
    np.testing.assert_array_equal(out.numpy(), [[0, 1, 1, 2], [1, 0, 2, 1]])
    assert out.dtype == np.int64
    with pytest.raises(ValueError, match=r"coalesce: edge_index must have shape \(2, E\)"):
        U.coalesce(T(np.zeros((3, 2), np.int64)))
    with pytest.raises(TypeError, match="must hold integers"):
        U.coalesce(T(np.zeros((2, 2), np.float32)))
    empty = U.coalesce(T(np.zeros((2, 0), np.int64)), T(np.zeros((0, 2))))
    assert empty[0].shape == (2, 0) and empty[1].shape == (0, 2)
