"""Sorting, searching and selection against torch: values, indices (int64), gradients in
float64 and float32, ties and NaNs where torch defines the answer, gradcheck +
gradgradcheck for the differentiable ops, and errors that name the op."""
import math

import numpy as np
import pytest

import nnlab
from nnlab import ops
from tests.helpers import check_grad, check_op, randn

torch = pytest.importorskip("torch")
NAN = math.nan
X = randn(3, 4, 5, seed=1)             # no ties
SMALL = randn(2, 3, 4, seed=2)         # for gradcheck
TIES = np.array([[3., 1, 2, 1, 3, 3], [0, 0, 5, -1, 5, 2], [4, 4, 4, 4, 4, 4]])
WITH_NAN = np.array([[1., NAN, 3, 0.5], [2, 1, 0, 4], [NAN, 2, NAN, 1]])
Q = np.array([0.0, 0.25, 0.5, 0.9, 1.0])
BOOL = np.array([[True, False, True, True, False]])


def _ints(*shape, high=6, seed=0):
    return np.random.default_rng(seed).integers(0, high, size=shape)


# name: (nnlab fn, torch fn, arguments); inputs without ties, so indices are defined
VALUES = {
    "sort": (ops.sort, torch.sort, (X, 1)),
    "sort_desc": (lambda x: ops.sort(x, -1, True), lambda x: torch.sort(x, -1, True), (X,)),
    "sort_dim0": (lambda x: ops.sort(x, dim=0), lambda x: torch.sort(x, dim=0), (X,)),
    "argsort": (lambda x: ops.argsort(x, 2, True), lambda x: torch.argsort(x, 2, True), (X,)),
    "msort": (ops.msort, torch.msort, (X,)),
    "topk": (lambda x: ops.topk(x, 3), lambda x: torch.topk(x, 3), (X,)),
    "topk_smallest_dim0": (lambda x: ops.topk(x, 2, 0, False),
                           lambda x: torch.topk(x, 2, 0, False), (X,)),
    "topk_0": (lambda x: ops.topk(x, 0, 1), lambda x: torch.topk(x, 0, 1), (X,)),
    "kthvalue": (lambda x: ops.kthvalue(x, 2, 1), lambda x: torch.kthvalue(x, 2, 1), (X,)),
    "kthvalue_keepdim": (lambda x: ops.kthvalue(x, 5, -1, True),
                         lambda x: torch.kthvalue(x, 5, -1, True), (X,)),
    "median_all": (ops.median, torch.median, (X,)),
    "median_even": (lambda x: ops.median(x, 1), lambda x: torch.median(x, 1), (X,)),
    "median_odd": (lambda x: ops.median(x, 2, True), lambda x: torch.median(x, 2, True), (X,)),
    "median_dim0": (lambda x: ops.median(x, 0), lambda x: torch.median(x, 0), (X,)),
    "nanmedian_all": (ops.nanmedian, torch.nanmedian, (X,)),
    "nanmedian_dim": (lambda x: ops.nanmedian(x, 1), lambda x: torch.nanmedian(x, 1), (X,)),
    "cummax": (lambda x: ops.cummax(x, 2), lambda x: torch.cummax(x, 2), (X,)),
    "cummin": (lambda x: ops.cummin(x, 0), lambda x: torch.cummin(x, 0), (X,)),
    "quantile_all": (lambda x: ops.quantile(x, 0.3), lambda x: torch.quantile(x, 0.3), (X,)),
    "quantile_vector_dim": (lambda x, q: ops.quantile(x, q, 1),
                            lambda x, q: torch.quantile(x, q, 1), (X, Q)),
    "quantile_keepdim": (lambda x, q: ops.quantile(x, q, -1, True),
                         lambda x, q: torch.quantile(x, q, -1, True), (X, Q)),
    "quantile_all_keepdim": (lambda x, q: ops.quantile(x, q, None, True),
                             lambda x, q: torch.quantile(x, q, None, True), (X, Q)),
    "quantile_0d_q": (lambda x: ops.quantile(x, nnlab.tensor(0.7, dtype=x.dtype), 0),
                      lambda x: torch.quantile(x, torch.tensor(0.7, dtype=x.dtype), 0), (X,)),
    **{f"quantile_{i}": (lambda x, i=i: ops.quantile(x, Q.tolist(), 2, interpolation=i),
                         lambda x, i=i: torch.quantile(x, torch.tensor(Q, dtype=x.dtype), 2,
                                                       interpolation=i), (X,))
       for i in ["lower", "higher", "midpoint", "nearest"]},
    "quantile_half_to_even": (  # ranks 0.5, 1.5, 2.5 of a row of 4: nearest rounds to even
        lambda x: ops.quantile(x, [1 / 6, 0.5, 5 / 6], 1, interpolation="nearest"),
        lambda x: torch.quantile(x, torch.tensor([1 / 6, 0.5, 5 / 6], dtype=x.dtype), 1,
                                 interpolation="nearest"), (X,)),
    "nanquantile": (lambda x, q: ops.nanquantile(x, q, 0),
                    lambda x, q: torch.nanquantile(x, q, 0), (X, Q)),
    "aminmax_all": (ops.aminmax, torch.aminmax, (X,)),
    "aminmax_dim": (lambda x: ops.aminmax(x, dim=1, keepdim=True),
                    lambda x: torch.aminmax(x, dim=1, keepdim=True), (X,)),
    "masked_select": (ops.masked_select, torch.masked_select, (X, BOOL)),
    "take": (ops.take, torch.take, (X, np.array([[0, 59, -1], [7, 7, -60]]))),
    "take_along_dim": (lambda x, i: ops.take_along_dim(x, i, 1),
                       lambda x, i: torch.take_along_dim(x, i, 1),
                       (X, np.array([[[0, 3, 3, -1, 2]]]))),
    "take_along_dim_flat": (ops.take_along_dim, torch.take_along_dim,
                            (X, np.array([[5, 5], [0, 59]]))),
    "take_along_dim_sort": (lambda x: ops.take_along_dim(x, ops.argsort(x, 1), 1),
                            lambda x: torch.take_along_dim(x, torch.argsort(x, 1), 1), (X,)),
}
GRADCHECK = {  # name: (fn, arguments) in float64, without ties
    "sort": (lambda x: ops.sort(x, 1, True).values, (SMALL,)),
    "topk": (lambda x: ops.topk(x, 2, 0).values, (SMALL,)),
    "kthvalue": (lambda x: ops.kthvalue(x, 2, -1).values, (SMALL,)),
    "median_all": (ops.median, (SMALL,)),
    "median_dim": (lambda x: ops.median(x, 1, True).values, (SMALL,)),
    "nanmedian": (lambda x: ops.nanmedian(x, 2).values, (SMALL,)),
    "mode": (lambda x: ops.mode(x, 1).values, (SMALL,)),
    "cummax": (lambda x: ops.cummax(x, 2).values, (SMALL,)),
    "cummin": (lambda x: ops.cummin(x, 0).values, (SMALL,)),
    "quantile": (lambda x, q: ops.quantile(x, q, 2), (SMALL, np.array([0.1, 0.5, 0.8]))),
    "quantile_all": (lambda x: ops.quantile(x, 0.35), (SMALL,)),
    "nanquantile_midpoint": (lambda x: ops.nanquantile(x, [0.2, 0.6], 1,
                                                       interpolation="midpoint"), (SMALL,)),
    "aminmax": (lambda x: ops.aminmax(x, dim=1), (SMALL,)),
    "masked_select": (ops.masked_select, (SMALL, BOOL[:, :4])),
    "take": (ops.take, (SMALL, np.array([[1, 1, -2], [0, 23, 5]]))),
    "take_along_dim": (lambda x, i: ops.take_along_dim(x, i, 2), (SMALL, _ints(2, 1, 6, high=4))),
}


@pytest.mark.parametrize("name", VALUES)
def test_matches_torch(name):
    nn_fn, torch_fn, args = VALUES[name]
    check_op(nn_fn, torch_fn, *args)


@pytest.mark.parametrize("name", ["sort", "topk", "kthvalue", "median_even", "median_all",
                                  "cummax", "quantile_vector_dim", "quantile_nearest",
                                  "aminmax_dim", "take", "take_along_dim"])
def test_matches_torch_float32(name):
    nn_fn, torch_fn, args = VALUES[name]
    check_op(nn_fn, torch_fn, *args, dtype=np.float32)


@pytest.mark.parametrize("name", GRADCHECK)
def test_gradients(name):
    fn, args = GRADCHECK[name]
    check_grad(fn, *args)


def test_quantile_gradient_in_q():
    q = np.array([0.15, 0.55, 0.8])
    check_op(lambda x, q: ops.quantile(x, q, 1), lambda x, q: torch.quantile(x, q, 1), X, q)
    check_grad(lambda x, q: ops.quantile(x, q, 1), SMALL, q)


# -- ties and NaNs, where torch defines the result ---------------------------------------
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dim", [0, 1])
def test_stable_sort_with_ties(dim, descending):
    check_op(lambda x: ops.sort(x, dim, descending, stable=True),
             lambda x: torch.sort(x, dim=dim, descending=descending, stable=True), TIES)
    check_op(lambda x: ops.argsort(x, dim, descending, True),
             lambda x: torch.argsort(x, dim=dim, descending=descending, stable=True), TIES)


def test_ties_values_and_gradients():
    # values (and the indices pointing at them) are defined; which tied index is not
    for k in (1, 3, 6):
        nn_out, t_out = ops.topk(nnlab.tensor(TIES), k), torch.topk(torch.tensor(TIES), k)
        np.testing.assert_array_equal(nn_out.values.numpy(), t_out.values.numpy())
        np.testing.assert_array_equal(np.take_along_axis(TIES, nn_out.indices.numpy(), 1),
                                      nn_out.values.numpy())
        kth = ops.kthvalue(nnlab.tensor(TIES), k, 1)
        np.testing.assert_array_equal(kth.values.numpy(),
                                      torch.kthvalue(torch.tensor(TIES), k, 1).values.numpy())
    # cummax / cummin take the later index on ties; median() shares its gradient evenly
    check_op(lambda x: ops.cummax(x, 1), lambda x: torch.cummax(x, 1), TIES)
    check_op(lambda x: ops.cummin(x, 1), lambda x: torch.cummin(x, 1), TIES)
    check_op(ops.median, torch.median, TIES)
    check_op(ops.median, torch.median, TIES[:2])
    check_op(lambda x: ops.aminmax(x, dim=1), lambda x: torch.aminmax(x, dim=1), TIES)


def test_mode():
    # the most frequent value, the smallest one on ties; the index of one occurrence
    x = np.array([[3., 1, 3, 1, 2, 2], [1, 2, 2, 1, 5, 2], [4, 4, 4, 0, 0, 7]])
    for dim, keepdim in [(1, False), (-1, True), (0, False)]:
        out = ops.mode(nnlab.tensor(x, requires_grad=True), dim, keepdim)
        ref = torch.mode(torch.tensor(x), dim, keepdim)
        np.testing.assert_array_equal(out.values.detach().numpy(), ref.values.numpy())
        assert out.indices.dtype == np.int64 and out.indices.shape == tuple(ref.indices.shape)
        picked = np.take_along_axis(x, out.indices.numpy().reshape(
            (3, 1) if dim else (1, 6)), dim)
        np.testing.assert_array_equal(picked.reshape(ref.values.shape), ref.values.numpy())
    np.testing.assert_array_equal(ops.mode(nnlab.tensor(x)).values.numpy(), [1, 2, 4])
    # the gradient goes to the returned index
    t = nnlab.tensor(x, requires_grad=True)
    out = ops.mode(t, 1)
    out.values.sum().backward()
    expected = np.zeros_like(x)
    np.put_along_axis(expected, out.indices.numpy()[:, None], 1.0, 1)
    np.testing.assert_array_equal(t.grad.numpy(), expected)


def test_nan():
    # NaN sorts as the largest value; median and quantile give NaN, the nan- forms skip it
    check_op(lambda x: ops.sort(x, 1), lambda x: torch.sort(x, 1), WITH_NAN, grad=False)
    check_op(lambda x: ops.sort(x, 1, True), lambda x: torch.sort(x, 1, True), WITH_NAN,
             grad=False)
    check_op(lambda x: ops.topk(x, 2), lambda x: torch.topk(x, 2), WITH_NAN, grad=False)
    check_op(lambda x: ops.median(x, 1), lambda x: torch.median(x, 1), WITH_NAN, grad=False)
    check_op(lambda x: ops.nanmedian(x, 1), lambda x: torch.nanmedian(x, 1), WITH_NAN)
    check_op(lambda x: ops.nanmedian(x, 0), lambda x: torch.nanmedian(x, 0), WITH_NAN)
    check_op(ops.nanmedian, torch.nanmedian, WITH_NAN)
    check_op(lambda x: ops.cummax(x, 1), lambda x: torch.cummax(x, 1), WITH_NAN, grad=False)
    check_op(lambda x: ops.cummin(x, 1), lambda x: torch.cummin(x, 1), WITH_NAN, grad=False)
    for fn in ("quantile", "nanquantile"):
        check_op(lambda x, q, f=fn: getattr(ops, f)(x, q, 1),
                 lambda x, q, f=fn: getattr(torch, f)(x, q, 1), WITH_NAN, Q, grad=False)
    assert math.isnan(ops.median(nnlab.tensor(WITH_NAN)).item())
    all_nan = ops.nanmedian(nnlab.tensor([[NAN, NAN]]), 1)
    assert math.isnan(all_nan.values.item()) and all_nan.indices.tolist() == [0]


def test_zero_dim_and_empty_inputs():
    for empty, dim in [(np.zeros((0, 3)), 0), (np.zeros((3, 0)), 1), (np.zeros((0, 3)), 1)]:
        check_op(lambda t, d=dim: ops.sort(t, d), lambda t, d=dim: torch.sort(t, d), empty)
        check_op(lambda t, d=dim: ops.cummax(t, d), lambda t, d=dim: torch.cummax(t, d), empty)
        check_op(lambda t, d=dim: ops.topk(t, 0, d), lambda t, d=dim: torch.topk(t, 0, d), empty)
    x = np.array(1.5)
    for name in ["sort", "topk", "kthvalue", "median", "mode", "cummax", "cummin"]:
        args = (1,) if name in ("topk", "kthvalue") else ()
        check_op(lambda t, n=name, a=args: getattr(ops, n)(t, *a, 0),
                 lambda t, n=name, a=args: getattr(torch, n)(t, *a, 0), x)
    check_op(lambda t: ops.argsort(t), lambda t: torch.argsort(t), x, grad=False)


# -- integer answers ---------------------------------------------------------------------
def _same(nn_out, t_out):
    nn_outs = nn_out if isinstance(nn_out, tuple) else (nn_out,)
    t_outs = t_out if isinstance(t_out, tuple) else (t_out,)
    assert len(nn_outs) == len(t_outs)
    for a, b in zip(nn_outs, t_outs):
        assert a.dtype == np.dtype(str(b.dtype).replace("torch.", "")), (a.dtype, b.dtype)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)


UNIQUE_X = np.array([[2, 1, 2], [0, 1, 1], [2, 1, 2], [0, 1, 1], [5, 5, 5]])


@pytest.mark.parametrize("dim", [None, 0, 1])
@pytest.mark.parametrize("flags", [(False, False), (True, False), (False, True), (True, True)])
def test_unique(flags, dim):
    for x in (UNIQUE_X, UNIQUE_X.astype(np.float32)):
        _same(ops.unique(nnlab.tensor(x), True, *flags, dim=dim),
              torch.unique(torch.tensor(x), True, *flags, dim=dim))
        kw = dict(return_inverse=flags[0], return_counts=flags[1], dim=dim)
        _same(ops.unique_consecutive(nnlab.tensor(x), *flags, dim=dim),
              torch.unique_consecutive(torch.tensor(x), **kw))  # (torch's positional
        # flags are mixed up by its return-type dispatch)
    _same(nnlab.tensor([3, 1, 2, 1]).unique(sorted=False), torch.tensor([1, 2, 3]))
    _same(ops.unique(nnlab.tensor([NAN, 1.0, NAN])), torch.unique(torch.tensor([NAN, 1.0, NAN])))


@pytest.mark.parametrize("x", [UNIQUE_X - 1, BOOL, np.array(0.0), np.array(2.0),
                               np.zeros((0, 3)), X > 0.5])
def test_nonzero_argwhere_count_nonzero(x):
    n, t = nnlab.tensor(x), torch.tensor(x)
    _same(ops.nonzero(n), torch.nonzero(t))
    _same(ops.nonzero(n, as_tuple=True), torch.nonzero(t, as_tuple=True))
    _same(ops.argwhere(n), torch.argwhere(t))
    _same(ops.count_nonzero(n), torch.count_nonzero(t))
    if x.ndim >= 2:
        _same(ops.count_nonzero(n, 1), torch.count_nonzero(t, 1))
        _same(ops.count_nonzero(n, (0, -1)), torch.count_nonzero(t, (0, -1)))


def test_bincount():
    x = np.array([0, 3, 3, 1, 7, 3])
    for w, minlength in [(None, 0), (None, 10), (np.linspace(0, 1, 6), 0),
                         (np.linspace(0, 1, 6).astype(np.float32), 9), (np.arange(6), 0)]:
        wn = None if w is None else nnlab.tensor(w)
        wt = None if w is None else torch.tensor(w)
        _same(ops.bincount(nnlab.tensor(x), wn, minlength),
              torch.bincount(torch.tensor(x), wt, minlength))
    _same(ops.bincount(nnlab.tensor(np.zeros(0, np.int64))),
          torch.bincount(torch.zeros(0, dtype=torch.long)))
    _same(nnlab.tensor(x).bincount(minlength=2), torch.tensor(x).bincount(minlength=2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bins,low,high", [(100, 0, 0), (7, 0, 0), (4, -1, 1), (5, 0.5, 0.5),
                                           (3, -0.25, 2)])
def test_histc(bins, low, high, dtype):
    x = np.concatenate([randn(50, seed=3), [-1, 1, 0, 0.5, 2]]).astype(dtype)
    _same(ops.histc(nnlab.tensor(x), bins, low, high),
          torch.histc(torch.tensor(x), bins, low, high))
    _same(nnlab.tensor(np.full(4, 3.0, dtype)).histc(3), torch.full((4,), 3.0,
                                                                    dtype=torch.tensor(x).dtype)
          .histc(3))


def test_searchsorted_and_bucketize():
    seq = np.array([1.0, 2, 2, 3, 5])
    v = np.array([[0.0, 2, 2.5], [5, 6, 3]])
    rows = np.array([[1.0, 2, 3], [0, 4, 4]])
    for kw in [{}, dict(right=True), dict(side="right"), dict(side="left"), dict(out_int32=True)]:
        _same(ops.searchsorted(nnlab.tensor(seq), nnlab.tensor(v), **kw),
              torch.searchsorted(torch.tensor(seq), torch.tensor(v), **kw))
        _same(ops.searchsorted(nnlab.tensor(rows), nnlab.tensor(v), **kw),
              torch.searchsorted(torch.tensor(rows), torch.tensor(v), **kw))
        _same(ops.searchsorted(nnlab.tensor(seq), 2.0, **kw),
              torch.searchsorted(torch.tensor(seq), 2.0, **kw))
    shuffled, sorter = np.array([5.0, 1, 3, 2]), np.array([1, 3, 2, 0])
    _same(ops.searchsorted(nnlab.tensor(shuffled), nnlab.tensor(v), sorter=nnlab.tensor(sorter)),
          torch.searchsorted(torch.tensor(shuffled), torch.tensor(v), sorter=torch.tensor(sorter)))
    for kw in [{}, dict(right=True), dict(out_int32=True)]:
        _same(ops.bucketize(nnlab.tensor(v), nnlab.tensor(seq), **kw),
              torch.bucketize(torch.tensor(v), torch.tensor(seq), **kw))
    _same(ops.bucketize(2.0, nnlab.tensor(seq)), torch.bucketize(2.0, torch.tensor(seq)))


# -- the Tensor methods and the result types ---------------------------------------------
def test_tensor_methods_and_named_results():
    x, t = nnlab.tensor(X), torch.tensor(X)
    for name, args in [("sort", (1,)), ("topk", (2,)), ("kthvalue", (3, 0)), ("median", (2,)),
                       ("mode", ()), ("cummax", (1,)), ("cummin", (0,)), ("nanmedian", (1,))]:
        out, ref = getattr(x, name)(*args), getattr(t, name)(*args)
        assert type(out).__name__ == type(ref).__name__ == name
        values, indices = out
        np.testing.assert_array_equal(values.numpy(), ref.values.numpy())
        np.testing.assert_array_equal(out.indices.numpy(), indices.numpy())
    lo, hi = x.aminmax(dim=0)
    np.testing.assert_array_equal(hi.numpy(), t.aminmax(dim=0).max.numpy())
    assert x.aminmax().min.item() == t.aminmax().min.item()
    mask = nnlab.tensor(X > 0)
    pairs = [(x.argsort(0), t.argsort(0)), (x.msort(), t.msort()), (x.median(), t.median()),
             (x.quantile(0.5, 1), t.quantile(0.5, 1)),
             (x.nanquantile(0.2, interpolation="higher"),
              t.nanquantile(0.2, interpolation="higher")),
             (x.masked_select(mask), t.masked_select(torch.tensor(X > 0))),
             (x.take(nnlab.tensor([3, 1])), t.take(torch.tensor([3, 1]))),
             (x.take_along_dim(x.argsort(1), 1), t.take_along_dim(t.argsort(1), 1)),
             (x.nonzero(), t.nonzero()), (x.argwhere(), t.argwhere()),
             (x.count_nonzero(0), t.count_nonzero(0)), (x.histc(5), t.histc(5)),
             (nnlab.tensor([1, 1, 2]).unique_consecutive(), torch.tensor([1, 1, 2])
              .unique_consecutive())]
    for a, b in pairs:
        _same(a, b)
    assert nnlab.topk is ops.topk and nnlab.take_along_dim is ops.take_along_dim


def test_integer_inputs():
    x = _ints(3, 6, high=10, seed=4)
    _same(ops.sort(nnlab.tensor(x), 1, True, stable=True),
          torch.sort(torch.tensor(x), dim=1, descending=True, stable=True))
    _same(ops.cummax(nnlab.tensor(x), 1), torch.cummax(torch.tensor(x), 1))
    _same(ops.take(nnlab.tensor(x), nnlab.tensor([4, -1])),
          torch.take(torch.tensor(x), torch.tensor([4, -1])))
    assert not ops.sort(nnlab.tensor(x)).values.requires_grad


# -- errors --------------------------------------------------------------------------------
@pytest.mark.parametrize("call,error,words", [
    (lambda x: ops.topk(x, 6), IndexError, "topk: k=6"),
    (lambda x: ops.topk(x, -1), IndexError, "topk: k=-1"),
    (lambda x: ops.kthvalue(x, 0), IndexError, "kthvalue: k=0"),
    (lambda x: ops.sort(x, 3), IndexError, "sort: dimension 3"),
    (lambda x: ops.median(x, -4), IndexError, "median: dimension -4"),
    (lambda x: ops.cummax(x, 5), IndexError, "cummax: dimension 5"),
    (lambda x: ops.mode(x[:, :0], 1), IndexError, "mode: cannot take"),
    (lambda x: ops.median(x[:0]), IndexError, "median: cannot take"),
    (lambda x: ops.quantile(x, 1.5), ValueError, "quantile: q must be in the range"),
    (lambda x: ops.quantile(x, [[0.5]]), ValueError, "quantile: q must be"),
    (lambda x: ops.quantile(x, nnlab.tensor([0.5], dtype=nnlab.float32)), TypeError,
     "quantile: q (float32)"),
    (lambda x: ops.quantile(x, 0.5, interpolation="cubic"), ValueError, "interpolation"),
    (lambda x: ops.nanquantile(x.long(), 0.5), TypeError, "nanquantile: input must be"),
    (lambda x: ops.bincount(nnlab.tensor([[1, 2]])), ValueError, "bincount: input must be 1-D"),
    (lambda x: ops.bincount(nnlab.tensor([-1, 2])), ValueError, "negative"),
    (lambda x: ops.bincount(x), TypeError, "bincount: input must be an integer"),
    (lambda x: ops.histc(x, 4, 3, 1), ValueError, "histc: max must be larger than min"),
    (lambda x: ops.histc(x.long()), TypeError, "histc: input must be a floating"),
    (lambda x: ops.bucketize(x, x), ValueError, "bucketize: boundaries must be 1-D"),
    (lambda x: ops.searchsorted(x, x, right=True, side="left"), ValueError, "opposites"),
    (lambda x: ops.searchsorted(x, x[:2]), ValueError, "searchsorted: an N-D"),
    (lambda x: ops.masked_select(x, nnlab.tensor([1, 0])), TypeError,
     "masked_select: mask must be a bool"),
    (lambda x: ops.masked_select(x, nnlab.tensor([True, False])), ValueError,
     "masked_select: mask of shape (2,)"),
    (lambda x: ops.take(x, nnlab.tensor([60])), IndexError, "take: index 60"),
    (lambda x: ops.take(x, nnlab.tensor([0.5])), TypeError, "take: index must be an integer"),
    (lambda x: ops.take_along_dim(x, nnlab.tensor([[[5]]]), 2), IndexError,
     "take_along_dim: index 5"),
    (lambda x: ops.take_along_dim(x, nnlab.tensor([[1]]), 2), ValueError,
     "same number of dimensions"),
    (lambda x: ops.take_along_dim(x, nnlab.tensor([[[1]]], dtype=nnlab.int32), 2), TypeError,
     "int64"),
    (lambda x: ops.unique(x, dim=3), IndexError, "unique: dimension 3"),
    (lambda x: ops.aminmax(x, dim=(0, 1)), TypeError, "aminmax: dim must be an int"),
])
def test_errors(call, error, words):
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        call(nnlab.tensor(X))
