"""Sparse COO tensors against torch.sparse: construction, to_dense / to_sparse, coalesce,
sparse.mm / spmm values and gradients (the dense operand's and the values'), gradcheck of
the product in both operands, and errors that name the op."""
import numpy as np
import pytest

import nnlab
from nnlab import sparse
from nnlab.autograd import gradcheck, gradgradcheck
from tests.helpers import randn

torch = pytest.importorskip("torch")
INDICES = np.array([[0, 2, 1, 2, 0], [1, 0, 3, 0, 1]])       # (2, 0) and (0, 1) repeat
VALUES = randn(5, seed=1)
DENSE = randn(4, 3, seed=2)


def _pair(dtype=np.float64, requires_grad=True):
    s = nnlab.sparse_coo_tensor(INDICES, VALUES.astype(dtype), (3, 4),
                                requires_grad=requires_grad)
    t = torch.sparse_coo_tensor(torch.tensor(INDICES), torch.tensor(VALUES.astype(dtype)),
                                (3, 4), requires_grad=requires_grad, check_invariants=True)
    return s, t


def test_construction_and_accessors():
    s, t = _pair()
    assert s.is_sparse and s.shape == (3, 4) and s.size(1) == 4 and s.dim() == 2
    assert s._nnz() == 5 and s.sparse_dim() == 2 and s.dense_dim() == 0
    assert not s.is_coalesced() and s.dtype == np.float64 and s.requires_grad
    np.testing.assert_array_equal(s._indices().numpy(), t._indices().numpy())
    np.testing.assert_array_equal(s._values().detach().numpy(), t._values().detach().numpy())
    default = nnlab.sparse_coo_tensor([[0, 2]], [1.0, 2.0])
    assert default.shape == (3,) and default.dtype == np.float32
    assert not nnlab.zeros(2).is_sparse


def test_to_dense_sums_repeats_like_torch():
    s, t = _pair()
    np.testing.assert_allclose(s.to_dense().detach().numpy(), t.to_dense().detach().numpy(),
                               rtol=1e-15)
    assert nnlab.zeros(2).to_dense().shape == (2,)


def test_coalesce_matches_torch():
    s, t = _pair()
    c, tc = s.coalesce(), t.coalesce()
    assert c.is_coalesced() and c._nnz() == tc._nnz() == 3
    np.testing.assert_array_equal(c.indices().numpy(), tc.indices().numpy())
    np.testing.assert_allclose(c.values().detach().numpy(), tc.values().detach().numpy(),
                               rtol=1e-15)
    v = nnlab.tensor(np.arange(1.0, 6.0))
    (c.values() * v[:3]).sum().backward()
    (tc.values() * torch.tensor(np.arange(1.0, 4.0))).sum().backward()
    np.testing.assert_allclose(s.grad.to_dense().numpy(), t.grad.to_dense().numpy())


def test_to_sparse_round_trip_and_hybrid():
    x = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])
    s = nnlab.tensor(x).to_sparse()
    ts = torch.tensor(x).to_sparse()
    np.testing.assert_array_equal(s.indices().numpy(), ts.indices().numpy())
    np.testing.assert_array_equal(s.values().numpy(), ts.values().numpy())
    np.testing.assert_array_equal(s.to_dense().numpy(), x)
    h = nnlab.tensor(x).to_sparse(1)
    assert h._indices().numpy().tolist() == [[0, 1]] and h.values().shape == (2, 3)
    np.testing.assert_array_equal(h.to_dense().numpy(), x)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fn, tfn", [(sparse.mm, torch.sparse.mm), (nnlab.spmm, torch.spmm)])
def test_mm_values_and_gradients_match_torch(fn, tfn, dtype):
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)
    s, t = _pair(dtype)
    d = nnlab.tensor(DENSE.astype(dtype), requires_grad=True)
    td = torch.tensor(DENSE.astype(dtype), requires_grad=True)
    y, ty = fn(s, d), tfn(t, td)
    assert y.dtype == dtype and y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), **tol)
    v = randn(3, 3, seed=5).astype(dtype)
    (y * nnlab.tensor(v)).sum().backward()
    (ty * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(d.grad.numpy(), td.grad.numpy(), **tol)
    # torch.sparse.mm's gradient of the sparse operand is sparse, on its pattern (torch.spmm
    # gives the dense gy @ dense^T everywhere; nnlab keeps sparse.mm's for both)
    assert s.grad.is_sparse
    t2 = _pair(dtype)[1]
    (torch.sparse.mm(t2, td.detach()) * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(s.grad.to_dense().numpy(), t2.grad.to_dense().numpy(), **tol)


def test_mm_gradcheck_in_both_operands():
    def f(values, dense):
        return sparse.mm(nnlab.sparse_coo_tensor(INDICES, values, (3, 4)), dense)
    args = (nnlab.tensor(VALUES, requires_grad=True), nnlab.tensor(DENSE, requires_grad=True))
    assert gradcheck(f, args, eps=1e-6, atol=1e-5, rtol=1e-3)
    assert gradgradcheck(f, args, eps=1e-6, atol=1e-5, rtol=1e-3)


def test_to_dense_and_to_sparse_are_differentiable():
    x = nnlab.tensor(np.array([[0.0, 2.0], [3.0, 0.0]]), requires_grad=True)
    (x.to_sparse().to_dense() * nnlab.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    assert x.grad.numpy().tolist() == [[0.0, 2.0], [3.0, 0.0]]


def test_matmul_operator_and_transpose():
    s, t = _pair()
    d = nnlab.tensor(randn(3, 2, seed=3))
    np.testing.assert_allclose((s.t() @ d).detach().numpy(),
                               torch.sparse.mm(t.detach().t(), torch.tensor(d.numpy())).numpy(),
                               rtol=1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda: nnlab.sparse_coo_tensor([0, 1], [1.0, 2.0]), "sparse_coo_tensor: indices"),
    (lambda: nnlab.sparse_coo_tensor([[0, 1]], [1.0]), "sparse_coo_tensor: values"),
    (lambda: nnlab.sparse_coo_tensor([[0, 5]], [1.0, 2.0], (3,)), "out of range"),
    (lambda: nnlab.sparse_coo_tensor([[0, -1]], [1.0, 2.0]), "negative"),
    (lambda: nnlab.sparse_coo_tensor([[0, 1]], [1.0, 2.0], (3, 3)), "size"),
    (lambda: sparse.mm(nnlab.zeros(2, 2), nnlab.zeros(2, 2)), "sparse.mm: expected a sparse"),
    (lambda: sparse.mm(_pair()[0], nnlab.zeros(3, 2, dtype=nnlab.float64)), "sparse.mm"),
    (lambda: sparse.mm(_pair()[0], nnlab.zeros(4, 2)), "sparse.mm: the operands have dtypes"),
    (lambda: _pair()[0].values(), "coalesce"),
])
def test_bad_input_is_a_clear_error(call, message):
    with pytest.raises((ValueError, RuntimeError, TypeError), match=message):
        call()
