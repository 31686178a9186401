"""scatter, softmax, degree and the self-loop utilities against PyG, and float64
gradient checks (first and second order) of scatter and softmax."""
import numpy as np
import pytest

import nnlab
from nnlab.autograd import gradcheck, gradgradcheck
from nnlab.graph.utils import (
    add_remaining_self_loops,
    add_self_loops,
    degree,
    remove_self_loops,
    scatter,
    softmax,
)
from tests.graph.pyg_oracle import random_graph, requires_pyg

try:
    import torch
    import torch_geometric.utils as pu
except ImportError:  # pragma: no cover
    torch = pu = None

RNG = np.random.default_rng(0)
INDEX = np.array([0, 2, 2, 1, 0, 2, 4, 1])   # segment 3 is empty
SRC = RNG.standard_normal((8, 3))
REDUCES = ["sum", "mean", "max", "min"]


def t(a, grad=False):
    return nnlab.tensor(a, requires_grad=grad)


@requires_pyg
@pytest.mark.parametrize("dim", [0, 1])
@pytest.mark.parametrize("reduce", REDUCES)
def test_scatter_matches_pyg(reduce, dim):
    src = SRC if dim == 0 else SRC.T.copy()
    ours = scatter(t(src, True), t(INDEX), dim=dim, dim_size=6, reduce=reduce)
    ts = torch.tensor(src, requires_grad=True)
    theirs = pu.scatter(ts, torch.tensor(INDEX), dim=dim, dim_size=6, reduce=reduce)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
    v = RNG.standard_normal(tuple(theirs.shape))
    (theirs * torch.tensor(v)).sum().backward()
    x = t(src, True)
    (scatter(x, t(INDEX), dim=dim, dim_size=6, reduce=reduce) * t(v)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), ts.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("reduce", REDUCES)
def test_scatter_gradcheck(reduce):
    fn = lambda s: scatter(s, t(INDEX), 0, 6, reduce)   # noqa: E731
    assert gradcheck(fn, (t(SRC, True),))
    assert gradgradcheck(fn, (t(SRC, True),))


@requires_pyg
def test_softmax_matches_pyg_on_both_dims_and_ptr():
    src = RNG.standard_normal((8, 2))
    ours = softmax(t(src), t(INDEX), num_nodes=6).numpy()
    theirs = pu.softmax(torch.tensor(src), torch.tensor(INDEX), num_nodes=6).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    ours_t = softmax(t(src.T.copy()), t(INDEX), num_nodes=6, dim=1).numpy()
    np.testing.assert_allclose(ours_t, theirs.T, rtol=1e-12)
    order = np.argsort(INDEX, kind="stable")
    ptr = np.array([0, 2, 4, 7, 7, 8])   # counts 2, 2, 3, 0, 1 of the sorted ids
    by_ptr = softmax(t(src[order]), ptr=t(ptr)).numpy()
    np.testing.assert_allclose(by_ptr, theirs[order], rtol=1e-12)
    sums = scatter(t(ours), t(INDEX), 0, 6).numpy()
    np.testing.assert_allclose(sums[[0, 1, 2, 4]], 1.0, rtol=1e-12)


def test_softmax_gradcheck():
    fn = lambda s: softmax(s, t(INDEX), num_nodes=6)   # noqa: E731
    src = t(RNG.standard_normal((8, 2)), True)
    assert gradcheck(fn, (src,))
    assert gradgradcheck(fn, (src,))


@requires_pyg
def test_degree_and_self_loops_match_pyg():
    ei = random_graph(6, 12, seed=3)
    attr = RNG.standard_normal((12, 2))
    tei, tattr = torch.tensor(ei), torch.tensor(attr)
    np.testing.assert_array_equal(degree(t(ei[1]), 7).numpy(),
                                  pu.degree(tei[1], 7).numpy())
    assert degree(t(ei[1])).dtype == np.float32
    for fill in (None, 2.5, "mean", "max", np.array([1.0, -1.0])):
        tfill = torch.tensor(fill) if isinstance(fill, np.ndarray) else fill
        nfill = t(fill) if isinstance(fill, np.ndarray) else fill
        for ours_fn, pyg_fn in ((add_self_loops, pu.add_self_loops),
                                (add_remaining_self_loops, pu.add_remaining_self_loops)):
            e1, a1 = ours_fn(t(ei), t(attr), fill_value=nfill, num_nodes=7)
            e2, a2 = pyg_fn(tei, tattr, fill_value=tfill, num_nodes=7)
            np.testing.assert_array_equal(e1.numpy(), e2.numpy())
            np.testing.assert_allclose(a1.numpy(), a2.numpy(), rtol=1e-12)
    e1, a1 = remove_self_loops(t(ei), t(attr))
    e2, a2 = pu.remove_self_loops(tei, tattr)
    np.testing.assert_array_equal(e1.numpy(), e2.numpy())
    np.testing.assert_allclose(a1.numpy(), a2.numpy())
    assert add_self_loops(t(ei), num_nodes=(3, 5))[0].shape == (2, 15)


def test_utils_errors():
    with pytest.raises(ValueError, match="scatter: reduce must be one of"):
        scatter(t(SRC), t(INDEX), reduce="prod")
    with pytest.raises(ValueError, match="index of 8 entries does not match src of shape"):
        scatter(t(SRC.T.copy()), t(INDEX), dim=0)
    with pytest.raises(ValueError, match="add_self_loops: edge_index must be an integer"):
        add_self_loops(t(np.zeros((3, 2))))
