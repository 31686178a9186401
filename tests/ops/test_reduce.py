"""Reductions against torch: values, gradients, keepdim, every kind of dim, ties, zeros,
extreme values; and gradcheck + gradgradcheck for every differentiable one."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nnlab
from nnlab import ops
from tests.helpers import check_grad, check_op, randn

torch = pytest.importorskip("torch")
# degenerate cases on purpose (dof <= 0, rows of -inf): torch warns, numpy meets 0 * inf
pytestmark = [pytest.mark.filterwarnings("ignore:.*degrees of freedom:UserWarning"),
              pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")]
INF = math.inf
X = randn(2, 3, 4, seed=1)            # no ties, no zeros
POS = np.abs(X) + 0.5                  # positive, for fractional and negative p-norms
DIMS = [None, 0, 1, -1, (0, 2), (2, -3)]


def _all(d, ndim=3):
    """torch's spelling of "every dim" for ops that refuse None."""
    return tuple(range(ndim)) if d is None else d


# name: (nnlab fn(x, dim, keepdim), torch fn(x, dim, keepdim), input)
REDUCTIONS = {
    "sum": (ops.sum, torch.sum, X),
    "mean": (ops.mean, torch.mean, X),
    "amax": (ops.amax, lambda x, d, k: torch.amax(x, _all(d), k), X),
    "amin": (ops.amin, lambda x, d, k: torch.amin(x, _all(d), k), X),
    "logsumexp": (ops.logsumexp, lambda x, d, k: torch.logsumexp(x, _all(d), k), X),
    "var": (lambda x, d, k: ops.var(x, d, keepdim=k),
            lambda x, d, k: torch.var(x, d, keepdim=k), X),
    "std": (lambda x, d, k: ops.std(x, d, keepdim=k),
            lambda x, d, k: torch.std(x, d, keepdim=k), X),
    "var_biased": (lambda x, d, k: ops.var(x, d, False, k),
                   lambda x, d, k: torch.var(x, d, False, k), X),
    "std_correction2": (lambda x, d, k: ops.std(x, d, keepdim=k, correction=2),
                        lambda x, d, k: torch.std(x, d, keepdim=k, correction=2), X),
    **{f"norm_{p}": (lambda x, d, k, p=p: ops.norm(x, p, d, k),
                     lambda x, d, k, p=p: torch.norm(x, p, d, k), POS if p in (0.5, -2) else X)
       for p in ["fro", 2, 1, 3, INF, -INF, 0, 0.5, -2]},
}
DIFFERENTIABLE = [n for n in REDUCTIONS if n != "norm_0"]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reduction_matches_torch(name, dim, keepdim):
    nn_fn, torch_fn, x = REDUCTIONS[name]
    check_op(nn_fn, torch_fn, x, dim, keepdim)


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "norm_2"])
def test_empty_dim_tuple_means_every_dim(name):
    # (torch's var / std take dim=() as every dim too, but their gradient then divides by 0)
    nn_fn, torch_fn, x = REDUCTIONS[name]
    check_op(nn_fn, torch_fn, x, (), False)


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "logsumexp", "var", "std", "norm_2",
                                  "norm_3", "norm_inf"])
@pytest.mark.parametrize("dim", [None, 1, (0, 2)])
def test_reduction_float32(name, dim):
    nn_fn, torch_fn, x = REDUCTIONS[name]
    check_op(nn_fn, torch_fn, x, dim, True, dtype=np.float32)


@pytest.mark.parametrize("dim,keepdim", [(None, False), (-1, True), ((0, 2), False)])
@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_reduction_gradients(name, dim, keepdim):
    nn_fn, _, x = REDUCTIONS[name]
    check_grad(nn_fn, x[:, :2, :3].copy(), dim, keepdim)


@pytest.mark.parametrize("name", ["prod", "cumsum", "max", "min", "amax", "var", "std",
                                  "norm_2", "norm_3", "logsumexp", "mean"])
def test_float32_stays_float32(name):
    fns = {"prod": lambda x: ops.prod(x, 1), "cumsum": lambda x: ops.cumsum(x, 1),
           "max": lambda x: ops.max(x, 1).values, "min": lambda x: ops.min(x)}
    fn = fns.get(name) or (lambda x: REDUCTIONS[name][0](x, 1, False))
    x = nnlab.tensor(X.astype(np.float32), requires_grad=True)
    y = fn(x)
    (g,) = nnlab.autograd.grad(y.sum(), x, create_graph=True)
    assert y.dtype == g.dtype == np.float32
    if g.requires_grad:   # amax's gradient is piecewise constant: no graph to go on
        (gg,) = nnlab.autograd.grad((g * g).sum(), x, allow_unused=True)
        assert gg is None or gg.dtype == np.float32


# -- 0-d and size-1 inputs -------------------------------------------------------------
SCALAR, ONE = np.array(-1.3), np.array([0.7])
SMALL = [(SCALAR, None), (SCALAR, 0), (SCALAR, -1), (ONE, 0), (randn(3, 1, 2), 1)]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("x,dim", SMALL)
@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "logsumexp", "var", "norm_2",
                                  "norm_inf", "norm_1", "std_correction2"])
def test_scalar_and_size_one(name, x, dim, keepdim):
    nn_fn, torch_fn, _ = REDUCTIONS[name]
    torch_dim = _all(dim, x.ndim) if name in ("amax", "amin", "logsumexp") else dim
    check_op(nn_fn, lambda t, d, k: torch_fn(t, torch_dim, k), x, dim, keepdim)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("x,dim", [(SCALAR, 0), (SCALAR, -1), (ONE, 0), (randn(3, 1, 2), 1)])
@pytest.mark.parametrize("name", ["prod", "max", "min", "argmax", "argmin"])
def test_scalar_and_size_one_with_index(name, x, dim, keepdim):
    check_op(getattr(ops, name), getattr(torch, name), x, dim, keepdim)


@pytest.mark.parametrize("x", [SCALAR, ONE, randn(3, 1)])
@pytest.mark.parametrize("name", ["prod", "max", "min", "argmax", "argmin", "cumsum_0"])
def test_scalar_and_size_one_default_dim(name, x):
    if name == "cumsum_0":
        check_op(ops.cumsum, torch.cumsum, x, 0)
    else:
        check_op(getattr(ops, name), getattr(torch, name), x)


def test_zero_variance_std_gradient_is_zero_as_torch():
    check_op(ops.std, torch.std, np.full((2, 3), 1.5), 1)
    check_op(ops.std, torch.std, np.array([[1.5, 1.5], [1.0, 2.0]]), -1, True)
    check_op(ops.std, torch.std, np.array([2.0]))                 # nan, as torch
    check_grad(ops.std, np.array([[1.5, 1.5], [1.0, 2.0]]), 0)
    check_op(ops.var, torch.var, np.array([2.0]))                 # 0/0: nan, as torch
    check_op(lambda x: ops.var(x, correction=3), lambda x: torch.var(x, correction=3),
             np.array([1.0, 2.0]), grad=False)                   # dof 0: inf


# -- prod --------------------------------------------------------------------------------
ZEROS = {
    "none": randn(3, 5, seed=2),
    "one": np.array([[0.0, 2, 3, -1.5, 0.5], [1.5, 0.5, 0, 2, 3], [2, 0.5, 1.5, -2, 1]]),
    "two": np.array([[0.0, 2, 0, -1.5, 0.5], [1.5, 0, 0, 2, 3], [0, 0.5, 1.5, -2, 0]]),
    "three": np.array([[0.0, 0, 0, -1.5, 0.5], [1.5, 0, 0.7, 2, 0], [0, 0.5, 0, -2, 0]]),
}


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1, -2])
@pytest.mark.parametrize("zeros", ZEROS)
def test_prod_matches_torch(zeros, dim, keepdim):
    check_op(ops.prod, torch.prod, ZEROS[zeros], dim, keepdim)


@pytest.mark.parametrize("zeros", ZEROS)
def test_prod_all_matches_torch(zeros):
    check_op(ops.prod, torch.prod, ZEROS[zeros])
    check_op(ops.prod, torch.prod, ZEROS[zeros], dtype=np.float32)
    check_op(ops.prod, torch.prod, ZEROS[zeros], 1, dtype=np.float32)


@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1)])
@pytest.mark.parametrize("zeros", ZEROS)
def test_prod_gradients_with_zeros(zeros, dim):
    check_grad(ops.prod, ZEROS[zeros][:, :4].copy(), dim)


def test_prod_tuple_dim_is_successive_prods():
    x = nnlab.tensor(X)
    np.testing.assert_allclose(ops.prod(x, (0, 2), True).numpy(),
                               X.prod(axis=(0, 2), keepdims=True), rtol=1e-12)


def test_prod_second_derivative_at_a_zero_is_exact():
    # d^2 (a b c) / da db = c, also where a = 0 and b = 0
    x = nnlab.tensor(np.array([0.0, 0.0, 3.0]), requires_grad=True)
    (g,) = nnlab.autograd.grad(ops.prod(x), x, create_graph=True)
    (h,) = nnlab.autograd.grad((g * nnlab.tensor([1.0, 0, 0])).sum(), x)
    np.testing.assert_array_equal(h.numpy(), [0.0, 3.0, 0.0])


# -- max / min with indices, ties ------------------------------------------------------
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1, -3])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_dim_match_torch(name, dim, keepdim):
    check_op(getattr(ops, name), getattr(torch, name), X, dim, keepdim)
    check_grad(lambda x: getattr(ops, name)(x, dim, keepdim).values, X[:, :2].copy())


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_all_match_torch(name):
    check_op(getattr(ops, name), getattr(torch, name), X)
    check_op(getattr(ops, name), getattr(torch, name), X, dtype=np.float32)
    check_grad(getattr(ops, name), X[:, :2].copy())


def test_max_returns_named_values_and_int64_indices():
    x = nnlab.tensor(X, requires_grad=True)
    out = ops.max(x, 1)
    values, indices = out
    assert type(out).__name__ == "max" and out.values is values and out.indices is indices
    assert indices.dtype == np.int64 and not indices.requires_grad and values.requires_grad
    assert type(ops.min(x, 1)).__name__ == "min"
    np.testing.assert_array_equal(x.max(1).indices.numpy(), X.argmax(1))


def test_max_with_a_tensor_is_the_elementwise_maximum():
    check_op(ops.max, torch.max, X, X[::-1].copy())
    check_op(ops.min, torch.min, X, X[::-1].copy())


TIES = np.array([[1.0, 3.0, 3.0, -2.0], [2.0, 2.0, 2.0, 2.0], [-1.0, 0.5, -1.0, 0.5]])
TIE_CASES = {
    "max": (ops.max, torch.max, ()), "min": (ops.min, torch.min, ()),
    "max_dim": (ops.max, torch.max, (1,)), "min_dim0": (ops.min, torch.min, (0, True)),
    "amax": (ops.amax, torch.amax, (1,)), "amin": (ops.amin, torch.amin, ((0, 1),)),
    "amax_all": (ops.amax, torch.amax, ()), "amin_keep": (ops.amin, torch.amin, (-1, True)),
    "norm_inf": (ops.norm, torch.norm, (INF, 1)), "norm_-inf": (ops.norm, torch.norm, (-INF,)),
}


@pytest.mark.parametrize("case", TIE_CASES)
def test_tie_gradients_match_torch(case):
    nn_fn, torch_fn, args = TIE_CASES[case]
    check_op(nn_fn, torch_fn, TIES, *args)
    check_op(nn_fn, torch_fn, TIES, *args, dtype=np.float32)


def test_tie_gradient_is_split_evenly():
    x = nnlab.tensor(TIES, requires_grad=True)
    ops.amax(x, 1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0.5, 0.5, 0], [0.25] * 4, [0, 0.5, 0, 0.5]])


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin_match_torch(name, dim, keepdim):
    check_op(getattr(ops, name), getattr(torch, name), X, dim, keepdim)
    check_op(getattr(ops, name), getattr(torch, name), TIES, dim, keepdim)  # first of ties


# -- logsumexp -------------------------------------------------------------------------
LSE = {
    "large": np.array([[1000.0, 1000.0, -1000.0], [1000.5, 999.0, 998.0]]),
    "neg_large": np.array([[-1000.0, -1001.0, -1002.0], [-1000.0, 5.0, 0.0]]),
    "some_-inf": np.array([[-INF, 0.0, 1.0], [2.0, -INF, -INF]]),
    "row_-inf": np.array([[-INF, -INF, -INF], [0.5, 1.0, 2.0]]),   # -inf; grad nan, as torch
    "+inf": np.array([[INF, 0.0, 1.0], [0.5, 1.0, 2.0]]),
}


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [1, -1, 0, (0, 1)])
@pytest.mark.parametrize("case", LSE)
def test_logsumexp_extreme_values_match_torch(case, dim, keepdim):
    check_op(ops.logsumexp, torch.logsumexp, LSE[case], dim, keepdim)


def test_logsumexp_large_values_are_exact():
    y = ops.logsumexp(nnlab.tensor(LSE["large"]), 1)
    np.testing.assert_allclose(y.numpy(), [1000 + math.log(2), 1000.5 + math.log(
        1 + math.exp(-1.5) + math.exp(-2.5))], rtol=1e-14)
    check_grad(ops.logsumexp, LSE["large"], 1)
    check_grad(ops.logsumexp, LSE["large"].astype(np.float32).astype(np.float64), (0, 1))


def test_logsumexp_of_integers_is_float():
    check_op(ops.logsumexp, torch.logsumexp, np.array([[1, 2], [3, 4]]), 1, grad=False)


# -- norm, cumsum, all / any, integer dtypes -------------------------------------------
@pytest.mark.parametrize("p", ["fro", 2, 3, INF, 1])
def test_norm_gradient_at_zero_matches_torch(p):
    x = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]])
    check_op(ops.norm, torch.norm, x, p, 1)
    check_op(ops.norm, torch.norm, np.zeros(3), p)


@pytest.mark.parametrize("dim", [0, 1, -1, -3, 2])
def test_cumsum_matches_torch(dim):
    check_op(ops.cumsum, torch.cumsum, X, dim)
    check_op(ops.cumsum, torch.cumsum, X, dim, dtype=np.float32)
    check_grad(ops.cumsum, X[:, :2, :3].copy(), dim)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 2)])
@pytest.mark.parametrize("name", ["all", "any"])
def test_all_any_match_torch(name, dim, keepdim):
    x = (randn(2, 3, 4, seed=3) > 0.7) * randn(2, 3, 4, seed=4)
    for data in (x, x > 0, np.ones((2, 3, 4)), np.zeros((2, 3, 4))):
        check_op(getattr(ops, name), getattr(torch, name), data, dim, keepdim, grad=False)
    check_op(getattr(ops, name), getattr(torch, name), SCALAR, 0, keepdim, grad=False)


INTS = np.array([[3, -1, 4], [1, 5, -9]], dtype=np.int32)


@pytest.mark.parametrize("fn", [
    lambda m, x: m.sum(x), lambda m, x: m.sum(x, 1), lambda m, x: m.prod(x),
    lambda m, x: m.prod(x, 0), lambda m, x: m.cumsum(x, 1), lambda m, x: m.cumsum(x > 0, 0),
    lambda m, x: m.sum(x > 0), lambda m, x: m.amax(x, 1), lambda m, x: m.max(x, 0),
    lambda m, x: m.min(x), lambda m, x: m.argmax(x, 1), lambda m, x: m.all(x, 1),
])
def test_integer_inputs_match_torch_dtypes(fn):
    out, tout = fn(ops, nnlab.tensor(INTS)), fn(torch, torch.tensor(INTS))
    out, tout = (list(o) if isinstance(o, tuple) else [o] for o in (out, tout))
    for o, t in zip(out, tout):
        assert o.dtype == np.dtype(str(t.dtype).replace("torch.", ""))
        np.testing.assert_array_equal(o.numpy(), t.numpy())


# -- errors ------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda x: ops.sum(x, 3), lambda x: ops.mean(x, (0, -4)), lambda x: ops.prod(x, 3),
    lambda x: ops.max(x, 3), lambda x: ops.min(x, -4), lambda x: ops.amax(x, 3),
    lambda x: ops.amin(x, 3), lambda x: ops.argmax(x, 3), lambda x: ops.argmin(x, 3),
    lambda x: ops.var(x, 3), lambda x: ops.std(x, 3), lambda x: ops.norm(x, 2, 3),
    lambda x: ops.logsumexp(x, 3), lambda x: ops.cumsum(x, 3), lambda x: ops.all(x, 3),
    lambda x: ops.any(x, 3),
])
def test_bad_dim_is_an_index_error_naming_it(call):
    with pytest.raises(IndexError, match=r"dimension -?[34] is out of range for a tensor with "
                                         r"3 dimensions \(expected in \[-3, 2\]\)"):
        call(nnlab.tensor(X))


def test_bad_dim_names_the_op_and_works_on_0d():
    with pytest.raises(IndexError, match="cumsum: dimension 1 is out of range"):
        ops.cumsum(nnlab.tensor(SCALAR), 1)
    with pytest.raises(IndexError, match="sum: dimension -2 is out of range"):
        ops.sum(nnlab.tensor(SCALAR), -2)


def test_other_errors():
    x = nnlab.tensor(X)
    with pytest.raises(RuntimeError, match="sum: dim .* names a dimension more than once"):
        ops.sum(x, (1, -2))
    with pytest.raises(ValueError, match="var: give either unbiased or correction"):
        ops.var(x, 1, True, correction=0)
    with pytest.raises(RuntimeError, match="mean: expected a floating point tensor, got int32"):
        ops.mean(nnlab.tensor(INTS))
    with pytest.raises(ValueError, match="norm: p='nuc' is not supported"):
        ops.norm(x, "nuc")
    with pytest.raises(RuntimeError, match=r"max: cannot reduce over an empty dimension .*"
                                           r"\(0, 3\)"):
        ops.max(nnlab.tensor(np.zeros((0, 3))))
    with pytest.raises(RuntimeError, match="amax: cannot reduce over an empty dimension"):
        ops.amax(nnlab.tensor(np.zeros((2, 0))), 1)
    with pytest.raises(TypeError, match=r"max: dim must be a single int, got \(0, 1\)"):
        ops.max(x, (0, 1))


def test_var_positional_bool_is_unbiased():
    check_op(lambda x: ops.var(x, False), lambda x: torch.var(x, False), X)


def test_tensor_methods_reach_the_ops():
    x = nnlab.tensor(X)
    t = torch.tensor(X)
    pairs = [(x.prod(1), t.prod(1)), (x.max(0).values, t.max(0).values), (x.amin(), t.amin()),
             (x.argmin(), t.argmin()), (x.var(1, keepdim=True), t.var(1, keepdim=True)),
             (x.std(correction=0), t.std(correction=0)), (x.norm(3, 2), t.norm(3, 2)),
             (x.logsumexp(1), t.logsumexp(1)), (x.cumsum(-1), t.cumsum(-1)),
             ((x > 0).all(1), (t > 0).all(1)), ((x > 0).any(), (t > 0).any())]
    for a, b in pairs:
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


# -- random shapes -----------------------------------------------------------------------
@st.composite
def shapes_and_dims(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=4)))
    ndim = len(shape)
    if ndim == 0:
        return shape, draw(st.sampled_from([None, 0, -1]))
    dims = draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim,
                         unique_by=lambda d: d % ndim))
    return shape, draw(st.sampled_from([None, dims[0], tuple(dims)]))


@settings(max_examples=20, deadline=None)
@given(shapes_and_dims(), st.booleans(), st.integers(0, 2 ** 16))
def test_random_shapes_match_torch(shape_dim, keepdim, seed):
    shape, dim = shape_dim
    x = np.random.default_rng(seed).standard_normal(shape)
    for name in ("sum", "amax", "logsumexp", "var", "norm_3"):
        nn_fn, torch_fn, _ = REDUCTIONS[name]
        torch_dim = _all(dim, len(shape)) if name in ("amax", "logsumexp") else dim
        check_op(nn_fn, lambda t, _d, k, f=torch_fn, d=torch_dim: f(t, d, k), x, dim, keepdim)
    if not isinstance(dim, tuple):
        check_op(ops.prod, torch.prod, x, *(() if dim is None else (dim, keepdim)))
