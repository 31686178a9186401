"""Sparse COO arithmetic against torch: dtype conversions, sums, elementwise ops with
numbers, dense and sparse operands, the matrix products in every spelling, the layout
(sparse or dense) and dtype of each result, the gradients of the dense operands and of
the sparse values, and the adjacency normalisations of the GCN and GAT examples."""
import warnings

import numpy as np
import pytest

import nnlab
from nnlab import sparse
from nnlab.autograd import gradcheck, gradgradcheck
from tests.helpers import TOLERANCES, randn

torch = pytest.importorskip("torch")
INDICES = np.array([[0, 2, 1, 2, 0, 1], [1, 0, 3, 0, 1, 1]])   # (2, 0) and (0, 1) repeat
OTHER = np.array([[2, 1, 0, 1], [0, 3, 1, 1]])                # shares 4 of INDICES' places
DTYPES = [np.float64, np.float32]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():   # torch's note that it skips invariant checks
        warnings.simplefilter("ignore", UserWarning)
        yield


class Pair:
    """The same sparse tensor in nnlab and torch, built from leaf values (so that both give
    the values' gradient as a dense (nnz,) array)."""

    def __init__(self, indices, seed, dtype, size=(3, 4)):
        v = randn(indices.shape[1], seed=seed).astype(dtype)
        self.v = nnlab.tensor(v, requires_grad=True)
        self.tv = torch.tensor(v, requires_grad=True)
        self.s = nnlab.sparse_coo_tensor(indices, self.v, size)
        self.t = torch.sparse_coo_tensor(torch.tensor(indices), self.tv, size)


def _dense(nn, dtype, seed, shape=(3, 4)):
    a = randn(*shape, seed=seed).astype(dtype)
    return nnlab.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _values(x):
    x = x.to_dense() if x.is_sparse else x
    return x.detach().numpy()


def _same(out, tout, tol, layout=True):
    """Values, shape and dtype equal torch's, and the layout too unless told not to."""
    if layout:
        assert out.is_sparse == tout.is_sparse
    assert tuple(out.shape) == tuple(tout.shape)
    assert str(out.dtype) == str(tout.dtype).replace("torch.", "")
    np.testing.assert_allclose(_values(out), _values(tout), **tol)


def _backward(out, tout, seed=9):
    """Backpropagate sum(dense(out) * w) for one fixed random w in both frameworks (tout may
    be torch's dense twin of the op where torch's sparse backward is missing)."""
    w = randn(*tuple(tout.shape), seed=seed).astype(_values(tout).dtype)
    d = out.to_dense() if out.is_sparse else out
    td = tout.to_dense() if tout.is_sparse else tout
    (d * nnlab.tensor(w)).sum().backward()
    (td * torch.tensor(w)).sum().backward()


def _grads_equal(pairs, tol):
    for nn, t in pairs:
        np.testing.assert_allclose(nn.grad.numpy(), t.grad.numpy(), **tol)


# -- construction and conversions -------------------------------------------------------
def test_construction_with_dtype_and_requires_grad():
    edges = np.array([[0, 1, 2], [1, 2, 0]], dtype=np.int32)
    s = nnlab.sparse_coo_tensor(edges, nnlab.ones(3), (3, 3), dtype=nnlab.int64)
    t = torch.sparse_coo_tensor(edges, torch.ones(3), (3, 3), dtype=torch.int64)
    _same(s, t, {})
    assert s.type() == t.type() == "torch.sparse.LongTensor"
    g = nnlab.sparse_coo_tensor(edges, [1.0, 2.0, 3.0], (3, 3), requires_grad=True)
    assert g.requires_grad and g.dtype == np.float32 and g._values().is_leaf
    assert s.is_sparse and s.shape == (3, 3) and s.size() == (3, 3) and s.size(0) == 3
    assert s.device == nnlab.device("cpu") and len(s) == 3 and s.numel() == 9


@pytest.mark.parametrize("convert", [
    lambda m, s: s.to(m.float64), lambda m, s: s.double(), lambda m, s: s.float(),
    lambda m, s: s.long(), lambda m, s: s.type(m.float64),
    lambda m, s: s.type("torch.sparse.DoubleTensor"), lambda m, s: s.to("cpu"),
    lambda m, s: s.cpu(), lambda m, s: s.to("cpu", m.float64),
])
def test_dtype_and_device_conversions_match_torch(convert):
    p = Pair(INDICES, 1, np.float32)
    out, tout = convert(nnlab, p.s), convert(torch, p.t)
    _same(out, tout, TOLERANCES[np.float32])
    assert out.is_coalesced() == tout.is_coalesced()
    if out.dtype.kind == "f":
        _backward(out, tout)
        _grads_equal([(p.v, p.tv)], TOLERANCES[np.float32])


def test_accessors_coalesce_transpose():
    p = Pair(INDICES, 2, np.float64)
    c, tc = p.s.coalesce(), p.t.coalesce()
    np.testing.assert_array_equal(c.indices().numpy(), tc.indices().numpy())
    np.testing.assert_allclose(c.values().detach().numpy(), tc.values().detach().numpy())
    for out, tout in [(p.s.t(), p.t.t()), (p.s.T, p.t.T), (p.s.transpose(1, 0),
                                                         p.t.transpose(1, 0))]:
        _same(out, tout, TOLERANCES[np.float64])
        assert out.is_coalesced() == tout.is_coalesced()
    x = nnlab.tensor(np.array([[0.0, 1.5], [2.0, 0.0]]))
    _same(x.to_sparse(), torch.tensor(x.numpy()).to_sparse(), {})
    assert x.to_sparse().is_coalesced()


# -- addition ----------------------------------------------------------------------------
def test_dense_plus_int64_sparse_promotes_as_torch():
    edges = np.array([[0, 1, 1], [1, 2, 2]])
    s = nnlab.sparse_coo_tensor(edges, nnlab.ones(3), (3, 3), dtype=nnlab.int64)
    t = torch.sparse_coo_tensor(edges, torch.ones(3), (3, 3), dtype=torch.int64)
    _same(nnlab.eye(3) + s, torch.eye(3) + t, {})
    _same(nnlab.add(nnlab.eye(3), s), torch.add(torch.eye(3), t), {})
    _same(nnlab.eye(3, dtype=nnlab.float64) + s.float(), torch.eye(3).double() + t.float(), {})
    _same(s + s, t + t, {})


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", [
    lambda s, d: d + s, lambda s, d: d - s, lambda s, d: nnlab_or_torch(s).add(d, s, alpha=2),
])
def test_dense_plus_sparse_is_dense_with_both_gradients(op, dtype):
    p = Pair(INDICES, 3, dtype)
    d, td = _dense(None, dtype, 4)
    out, tout = op(p.s.detach(), d), op(p.t.detach(), td)
    _same(out, tout, TOLERANCES[dtype])
    _backward(out, tout)
    _grads_equal([(d, td)], TOLERANCES[dtype])


def nnlab_or_torch(s):
    return nnlab if isinstance(s, sparse.SparseTensor) else torch


@pytest.mark.parametrize("dtype", DTYPES)
def test_sparse_plus_dense_is_dense_and_reaches_the_values(dtype):
    # torch refuses sparse + dense ("use add(dense, sparse)"); nnlab gives what d + s gives
    p = Pair(INDICES, 5, dtype)
    d, td = _dense(None, dtype, 6)
    out, tout = p.s + d, td + p.t
    _same(out, tout, TOLERANCES[dtype])
    _backward(out, tout)
    _grads_equal([(p.v, p.tv), (d, td)], TOLERANCES[dtype])
    _same(p.s - d, -td + p.t.detach(), TOLERANCES[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: b - a])
def test_sparse_plus_sparse_is_sparse(op, dtype):
    a, b = Pair(INDICES, 7, dtype), Pair(OTHER, 8, dtype)
    out, tout = op(a.s, b.s), op(a.t, b.t)
    _same(out, tout, TOLERANCES[dtype])
    _backward(out, tout)
    _grads_equal([(a.v, a.tv), (b.v, b.tv)], TOLERANCES[dtype])


def test_sparse_plus_sparse_promotes_int64_to_float32():
    a = Pair(INDICES, 9, np.float32)
    out, tout = a.s + a.s.long(), a.t + a.t.long()
    _same(out, tout, TOLERANCES[np.float32])
    assert (a.s.double() + a.s).dtype == np.float64


# -- products with numbers, dense and sparse tensors -------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", [
    lambda s: s * 2.5, lambda s: 3 * s, lambda s: -s, lambda s: s / 4.0,
    lambda s: s * nnlab_or_torch(s).tensor(2.0, dtype=s.dtype),
])
def test_sparse_times_number_is_sparse(op, dtype):
    p = Pair(INDICES, 10, dtype)
    out, tout = op(p.s), op(p.t)
    _same(out, tout, TOLERANCES[dtype])
    assert out.is_coalesced() == tout.is_coalesced()
    _backward(out, tout)
    _grads_equal([(p.v, p.tv)], TOLERANCES[dtype])


def test_int64_sparse_times_float_is_float32():
    p = Pair(INDICES, 11, np.float32)
    _same(p.s.long() * 2.5, p.t.long() * 2.5, {})


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 4), (4,), (3, 1)])
def test_sparse_times_dense_is_sparse_with_both_gradients(shape, dtype):
    p = Pair(INDICES, 12, dtype)
    d, td = _dense(None, dtype, 13, shape)
    out, tout = p.s * d, p.t * td
    _same(out, tout, TOLERANCES[dtype])
    # torch's sparse backward fails for a broadcast dense operand ("view" of a sparse
    # gradient); its dense twin S.to_dense() * d is the same function of both
    _backward(out, p.t.to_dense() * td)
    _grads_equal([(p.v, p.tv), (d, td)], TOLERANCES[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_times_sparse_has_torch_values(dtype):
    # a dense op's sparse operand is densified (Tensor(sparse)): torch's values, dense layout
    p = Pair(INDICES, 14, dtype)
    d, td = _dense(None, dtype, 15)
    out, tout = d * p.s.detach(), td * p.t.detach()
    _same(out, tout, TOLERANCES[dtype], layout=False)
    _backward(out, tout)
    np.testing.assert_allclose(d.grad.numpy(), td.grad.to_dense().numpy(), **TOLERANCES[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_sparse_times_sparse_is_sparse_on_the_common_positions(dtype):
    a, b = Pair(INDICES, 16, dtype), Pair(OTHER, 17, dtype)
    out, tout = a.s * b.s, a.t * b.t
    _same(out, tout, TOLERANCES[dtype])
    assert out._nnz() == tout.coalesce()._nnz() == 4
    _backward(out, tout)
    _grads_equal([(a.v, a.tv), (b.v, b.tv)], TOLERANCES[dtype])


def test_elementwise_gradcheck():
    def f(va, vb, d):
        a = nnlab.sparse_coo_tensor(INDICES, va, (3, 4))
        b = nnlab.sparse_coo_tensor(OTHER, vb, (3, 4))
        return ((a * b + a * d) * 1.5 - b).to_dense() + d
    args = (nnlab.tensor(randn(6, seed=18), requires_grad=True),
            nnlab.tensor(randn(4, seed=19), requires_grad=True),
            nnlab.tensor(randn(3, 4, seed=20), requires_grad=True))
    assert gradcheck(f, args, eps=1e-6, atol=1e-6, rtol=1e-4)
    assert gradgradcheck(f, args, eps=1e-6, atol=1e-6, rtol=1e-4)


def _sparse_sum(s, *dim):
    """nnlab.sparse.sum or torch.sparse.sum; for a dense torch tensor (the twin), its sum."""
    if not s.is_sparse:
        return s.sum(*dim)
    return nnlab_or_torch(s).sparse.sum(s, *dim)


# -- sums --------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("call", [
    lambda s: s.sum(), lambda s: s.sum(0), lambda s: s.sum(1), lambda s: s.sum(-1),
    lambda s: s.sum((0, 1)), lambda s: s.sum(1, keepdim=True),
    lambda s: s.sum((0, 1), keepdim=True),
    lambda s: _sparse_sum(s), lambda s: _sparse_sum(s, 1), lambda s: _sparse_sum(s, (1, 0)),
])
def test_sums_match_torch_in_layout_value_and_gradient(call, dtype):
    p = Pair(INDICES, 21, dtype)
    out, tout = call(p.s), call(p.t)
    _same(out, tout, TOLERANCES[dtype])
    if out.is_sparse:
        np.testing.assert_array_equal(out.coalesce().indices().numpy(),
                                      tout.coalesce().indices().numpy())
    # torch's backward of Tensor.sum(dim) on a sparse tensor fails ("expand is unsupported
    # for Sparse tensors"); the sum of its dense form is the same function of the values
    _backward(out, call(p.t.to_dense()) if out.is_sparse else tout)
    _grads_equal([(p.v, p.tv)], TOLERANCES[dtype])


def test_sum_of_int64_values_stays_int64_and_sum_dtype():
    p = Pair(INDICES, 22, np.float32)
    _same(p.s.long().sum(1), p.t.long().sum(1), {})
    _same(p.s.long().sum(), p.t.long().sum(), {})
    _same(p.s.sum(1, dtype=nnlab.float64), p.t.sum(1, dtype=torch.float64), {})


# -- matrix products ---------------------------------------------------------------------
MATMULS = [
    ("s @ d", lambda m, s, d: s @ d, (4, 2)),
    ("s @ v", lambda m, s, d: s @ d, (4,)),
    ("mm", lambda m, s, d: m.mm(s, d), (4, 2)),
    ("matmul", lambda m, s, d: m.matmul(s, d), (4, 2)),
    ("spmm", lambda m, s, d: m.spmm(s, d), (4, 2)),
    ("sparse.mm", lambda m, s, d: m.sparse.mm(s, d), (4, 2)),
    ("d @ s", lambda m, s, d: d @ s, (2, 3)),
    ("v @ s", lambda m, s, d: d @ s, (3,)),
    ("mm(d, s)", lambda m, s, d: m.mm(d, s), (2, 3)),
    ("matmul(d, s)", lambda m, s, d: m.matmul(d, s), (2, 3)),
    ("sparse.mm(d, s)", lambda m, s, d: nnlab.sparse.mm(d, s) if m is nnlab else d @ s, (2, 3)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, op, shape", MATMULS, ids=[m[0] for m in MATMULS])
def test_sparse_dense_products_are_dense_with_the_dense_gradient(name, op, shape, dtype):
    p = Pair(INDICES, 23, dtype)
    d, td = _dense(None, dtype, 24, shape)
    out, tout = op(nnlab, p.s.detach(), d), op(torch, p.t.detach(), td)
    _same(out, tout, TOLERANCES[dtype])
    _backward(out, tout)
    _grads_equal([(d, td)], TOLERANCES[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", [lambda m, s, d: s @ d, lambda m, s, d: m.sparse.mm(s, d),
                                lambda m, s, d: m.spmm(s, d)])
def test_sparse_first_products_reach_the_values(op, dtype):
    p = Pair(INDICES, 25, dtype)
    d, td = _dense(None, dtype, 26, (4, 2))
    out = op(nnlab, p.s, d)
    tout = op(torch, torch.sparse_coo_tensor(torch.tensor(INDICES), p.tv, (3, 4)), td)
    _same(out, tout, TOLERANCES[dtype])
    _backward(out, tout)
    _grads_equal([(p.v, p.tv), (d, td)], TOLERANCES[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", [lambda m, a, b: a @ b, lambda m, a, b: m.sparse.mm(a, b),
                                lambda m, a, b: m.spmm(a, b)])
def test_sparse_times_sparse_matrix_is_sparse(op, dtype):
    a, b = Pair(INDICES, 27, dtype), Pair(OTHER, 28, dtype)
    out, tout = op(nnlab, a.s, b.s.t()), op(torch, a.t, b.t.t())
    _same(out, tout, TOLERANCES[dtype])
    assert out.is_coalesced() and tout.is_coalesced()
    np.testing.assert_array_equal(out.indices().numpy(), tout.indices().numpy())
    _backward(out, tout)
    _grads_equal([(a.v, a.tv), (b.v, b.tv)], TOLERANCES[dtype])


def test_numpy_operands_defer_to_the_sparse_operators():
    p = Pair(INDICES, 34, np.float64)
    a, b = randn(2, 3, seed=35), randn(3, 4, seed=36)
    for out, tout in [(a @ p.s, torch.tensor(a) @ p.t), (b + p.s, torch.tensor(b) + p.t),
                      (b * p.s, torch.tensor(b) * p.t), (b - p.s, torch.tensor(b) - p.t)]:
        _same(out, tout, TOLERANCES[np.float64])


def test_sparse_sparse_product_gradcheck():
    def f(va, vb):
        a = nnlab.sparse_coo_tensor(INDICES, va, (3, 4))
        b = nnlab.sparse_coo_tensor(OTHER, vb, (3, 4))
        return (a @ b.t()).to_dense()
    args = (nnlab.tensor(randn(6, seed=29), requires_grad=True),
            nnlab.tensor(randn(4, seed=30), requires_grad=True))
    assert gradcheck(f, args, eps=1e-6, atol=1e-6, rtol=1e-4)
    assert gradgradcheck(f, args, eps=1e-6, atol=1e-6, rtol=1e-4)


# -- errors ------------------------------------------------------------------------------
@pytest.mark.parametrize("call, error, message", [
    (lambda s: s / nnlab.ones(3, 4, dtype=nnlab.float64), TypeError, "sparse div"),
    (lambda s: s + s.t(), ValueError, "sparse add: sizes"),
    (lambda s: s * nnlab.ones(2, 3, 4, dtype=nnlab.float64), ValueError, "sparse mul"),
    (lambda s: s @ nnlab.ones(4, 2), TypeError, "sparse.mm: the operands have dtypes"),
    (lambda s: s @ nnlab.ones(3, 2, dtype=nnlab.float64), ValueError, "sparse.mm: expected"),
    (lambda s: nnlab.eye(3, 4, dtype=nnlab.float64) + s.requires_grad_(), TypeError,
     "require grad"),
    (lambda s: s.sum(2), IndexError, "sparse sum"),
    (lambda s: sparse.sum(nnlab.ones(2)), TypeError, "sparse.sum: expected a sparse"),
    (lambda s: s.transpose(0, 2), RuntimeError, "sparse transpose"),
])
def test_bad_input_is_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call(Pair(INDICES, 31, np.float64).s.detach())


# -- the two programs' normalisations ----------------------------------------------------
EDGES = np.array([[0, 1], [1, 2], [2, 0], [3, 4], [4, 3], [1, 0], [5, 5]], dtype=np.int32)
FEATURES = (np.random.default_rng(0).random((6, 5)) > 0.5).astype(np.float32)
FEATURES[2] = 0.0   # a node without features: its scale is 1/0 = inf, set to 0


def _gcn_inputs(m):
    """The GCN example's preprocessing, written anew: row-normalised features and the
    symmetrically normalised adjacency D^-1/2 (A + I) D^-1/2, both returned sparse."""
    features = m.tensor(FEATURES)
    with np.errstate(divide="ignore"):
        scale = 1 / m.sum(features, dim=1)
    scale[scale == float("inf")] = 0
    features = m.diag(scale).to_sparse() @ features
    n = FEATURES.shape[0]
    adjacency = m.sparse_coo_tensor(EDGES.T, m.ones(len(EDGES)), (n, n), dtype=m.int64)
    adjacency = m.eye(n) + adjacency
    degree = m.sqrt(1 / m.sum(adjacency, dim=1))
    degree[degree == float("inf")] = 0
    degree = m.diag(degree).to_sparse()
    adjacency = degree @ adjacency @ degree
    return features.to_sparse().to("cpu"), adjacency.to_sparse().to("cpu")


def test_gcn_normalisation_and_layer_match_torch():
    (f, a), (tf, ta) = _gcn_inputs(nnlab), _gcn_inputs(torch)
    for out, tout in [(f, tf), (a, ta)]:
        _same(out, tout, TOLERANCES[np.float32])
        np.testing.assert_array_equal(out.indices().numpy(), tout.indices().numpy())
    # one graph convolution: adjacency @ (features @ W), with W's gradient
    w, tw = _dense(None, np.float32, 32, (5, 3))
    out, tout = nnlab.spmm(a, nnlab.mm(f, w)), torch.spmm(ta, torch.mm(tf, tw))
    _same(out, tout, TOLERANCES[np.float32])
    _backward(out, tout)
    _grads_equal([(w, tw)], TOLERANCES[np.float32])


def _gat_inputs(m):
    """The GAT example's: dense A + I from the int64 sparse edge list, and its mask."""
    n = FEATURES.shape[0]
    adjacency = m.sparse_coo_tensor(EDGES.T, m.ones(len(EDGES)), (n, n), dtype=m.int64)
    adjacency = m.eye(n) + adjacency
    scores = m.tensor(randn(n, n, seed=33))
    return adjacency, m.where(adjacency > 0, scores, -9e16 * m.ones_like(scores))


def test_gat_adjacency_and_mask_match_torch():
    for out, tout in zip(_gat_inputs(nnlab), _gat_inputs(torch)):
        _same(out, tout, {})
