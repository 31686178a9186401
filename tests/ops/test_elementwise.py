"""Elementwise ops against torch: one line per case (values and gradients, float64 and
float32), then gradcheck + gradgradcheck for each differentiable op, random broadcast
shapes for the binary ops, and the dtype rules."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import nnlab
from tests.helpers import check_grad, check_op, randn, torch


def pos(*shape, seed=0):
    """Positive values, away from 0 (for log, sqrt, division, pow bases)."""
    return np.abs(randn(*shape, seed=seed)) + 0.5


def small(*shape, seed=0):
    """Values in (-1.2, 1.2), away from tan's poles."""
    return np.clip(randn(*shape, seed=seed) * 0.5, -1.2, 1.2)


def bools(*shape, seed=0):
    return np.random.default_rng(seed).random(shape) > 0.5


TIES_A = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])
TIES_B = np.array([[1.0, 0.0, 3.0], [2.0, 0.5, -3.0]])   # equal at three places
SPECIAL = np.array([1.0, np.nan, np.inf, -np.inf, -2.0, 0.0])
GRID = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
LOW = randn(3, 4, seed=5) * 0.5 - 0.6
MASK = bools(3, 4, seed=9)

# (id, nnlab function, torch function, arguments); float arrays become tensors that
# require grad, bool/int arrays tensors that do not, anything else is passed as it is.
CASES = [
    ("add", lambda a, b: a + b, lambda a, b: a + b, randn(3, 4), randn(3, 4, seed=1)),
    ("add_0d", nnlab.add, torch and torch.add, randn(), randn(2, 3, seed=1)),
    ("add_col_row", nnlab.add, torch and torch.add, randn(3, 1), randn(4, seed=1)),
    ("add_size1", nnlab.add, torch and torch.add, randn(2, 1, 3), randn(1, 4, 1, seed=1)),
    ("add_scalar", lambda a: a + 2.5, lambda a: a + 2.5, randn(3)),
    ("radd_scalar", lambda a: 2.5 + a, lambda a: 2.5 + a, randn(3)),
    ("add_alpha", lambda a, b: nnlab.add(a, b, alpha=2), lambda a, b: torch.add(a, b, alpha=2),
     randn(3), randn(3, seed=1)),
    ("sub", lambda a, b: a - b, lambda a, b: a - b, randn(3, 1), randn(4, seed=1)),
    ("rsub_scalar", lambda a: 3 - a, lambda a: 3 - a, randn(2, 3)),
    ("sub_alpha", lambda a, b: nnlab.sub(a, b, alpha=0.5),
     lambda a, b: torch.sub(a, b, alpha=0.5), randn(3), randn(3, seed=1)),
    ("mul", lambda a, b: a * b, lambda a, b: a * b, randn(2, 1, 3), randn(4, 1, seed=1)),
    ("mul_0d", nnlab.mul, torch and torch.mul, randn(3, 2), randn(seed=1)),
    ("rmul_scalar", lambda a: 1.5 * a, lambda a: 1.5 * a, randn(3)),
    ("div", lambda a, b: a / b, lambda a, b: a / b, randn(3, 4), pos(4, seed=1)),
    ("div_scalar", lambda a: a / 4, lambda a: a / 4, randn(3)),
    ("rdiv_scalar", lambda a: 2.0 / a, lambda a: 2.0 / a, pos(3)),
    ("neg", lambda a: -a, lambda a: -a, randn(2, 3)),
    ("pow_tensor", lambda a, b: a ** b, lambda a, b: a ** b, pos(3, 4), randn(3, 4, seed=1)),
    ("pow_broadcast", nnlab.pow, torch and torch.pow, pos(3, 1), randn(4, seed=1)),
    ("pow_int", lambda a: a ** 3, lambda a: a ** 3, randn(3, 2)),
    ("pow_float", lambda a: a.pow(2.5), lambda a: a.pow(2.5), pos(4)),
    ("pow_negative", lambda a: a ** -1.5, lambda a: a ** -1.5, pos(4)),
    ("pow_zero", lambda a: a ** 0, lambda a: a ** 0, np.array([0.0, 1.5, -2.0])),
    ("rpow_scalar", lambda a: 2.0 ** a, lambda a: 2.0 ** a, randn(3)),
    ("pow_scalar_base", lambda a: nnlab.pow(1.5, a), lambda a: torch.pow(1.5, a), randn(3)),
    ("exp", nnlab.exp, torch and torch.exp, randn(3, 4)),
    ("log", nnlab.log, torch and torch.log, pos(3, 4)),
    ("log1p", nnlab.log1p, torch and torch.log1p, pos(3, 4) - 0.9),
    ("sqrt", nnlab.sqrt, torch and torch.sqrt, pos(3, 4)),
    ("rsqrt", nnlab.rsqrt, torch and torch.rsqrt, pos(3, 4)),
    ("abs", nnlab.abs, torch and torch.abs, randn(3, 4, low=0.1)),
    ("abs_operator", lambda a: abs(a), lambda a: abs(a), randn(3, low=0.1)),
    ("sign", nnlab.sign, torch and torch.sign, randn(3, 4, low=0.1)),
    ("sin", nnlab.sin, torch and torch.sin, randn(3, 4)),
    ("cos", nnlab.cos, torch and torch.cos, randn(3, 4)),
    ("tan", nnlab.tan, torch and torch.tan, small(3, 4)),
    ("tanh", nnlab.tanh, torch and torch.tanh, randn(3, 4)),
    ("sigmoid", nnlab.sigmoid, torch and torch.sigmoid, randn(3, 4) * 3),
    ("relu", nnlab.relu, torch and torch.relu, randn(3, 4, low=0.1)),
    ("erf", nnlab.erf, torch and torch.erf, randn(3, 4)),
    ("reciprocal", nnlab.reciprocal, torch and torch.reciprocal, randn(3, 4, low=0.3)),
    ("square", nnlab.square, torch and torch.square, randn(3, 4)),
    ("floor", nnlab.floor, torch and torch.floor, randn(3, 4) * 3),
    ("ceil", lambda a: a.ceil(), lambda a: a.ceil(), randn(3, 4) * 3),
    ("round", nnlab.round, torch and torch.round, randn(3, 4) * 3),
    ("round_halves", lambda a: a.round(), lambda a: a.round(),    # half to even, as torch
     np.array([-2.5, -1.7, -0.5, 0.4, 1.5, 2.5])),
    ("trunc", lambda a: a.trunc(), lambda a: a.trunc(), randn(3, 4) * 3),
    ("maximum", nnlab.maximum, torch and torch.maximum, randn(3, 4), randn(3, 4, seed=1)),
    ("maximum_ties", nnlab.maximum, torch and torch.maximum, TIES_A, TIES_B),
    ("maximum_broadcast", nnlab.maximum, torch and torch.maximum, randn(3, 1), randn(4, seed=1)),
    ("minimum", nnlab.minimum, torch and torch.minimum, randn(3, 4), randn(3, 4, seed=1)),
    ("minimum_ties", nnlab.minimum, torch and torch.minimum, TIES_A, TIES_B),
    ("clamp", lambda a: a.clamp(-0.5, 0.5), lambda a: a.clamp(-0.5, 0.5), randn(3, 4)),
    ("clamp_min", lambda a: nnlab.clamp(a, min=0.2), lambda a: torch.clamp(a, min=0.2),
     randn(3, 4)),
    ("clamp_max", lambda a: nnlab.clamp(a, max=0.2), lambda a: torch.clamp(a, max=0.2),
     randn(3, 4)),
    ("clamp_tensor", nnlab.clamp, torch and torch.clamp, randn(3, 4), LOW, LOW + 1.0),
    ("clamp_tensor_min", lambda a, lo: a.clamp(min=lo), lambda a, lo: a.clamp(min=lo),
     randn(3, 4), randn(4, seed=2)),
    ("where", nnlab.where, torch and torch.where, MASK, randn(3, 4), randn(3, 4, seed=1)),
    ("where_broadcast", nnlab.where, torch and torch.where, bools(3, 1), randn(4), randn()),
    ("where_scalar", lambda c, a: nnlab.where(c, a, 0.5), lambda c, a: torch.where(c, a, 0.5),
     MASK, randn(3, 4)),
    ("masked_fill", lambda a, m: a.masked_fill(m, -1.5), lambda a, m: a.masked_fill(m, -1.5),
     randn(3, 4), MASK),
    ("masked_fill_broadcast", lambda a, m: nnlab.masked_fill(a, m, 2.0),
     lambda a, m: a.masked_fill(m, 2.0), randn(3, 4), bools(4)),
    ("eq", lambda a, b: a == b, lambda a, b: a == b, GRID, np.array([2.0, 2.0, 1.0])),
    ("ne", nnlab.ne, torch and torch.ne, GRID, np.array([2.0, 2.0, 1.0])),
    ("lt", lambda a, b: a < b, lambda a, b: a < b, GRID, np.array([2.0, 2.0, 1.0])),
    ("le", lambda a: a <= 2, lambda a: a <= 2, GRID),
    ("gt", lambda a: 2.0 > a, lambda a: 2.0 > a, GRID),
    ("ge", nnlab.ge, torch and torch.ge, GRID, np.array([2.0, 2.0, 1.0])),
    ("eq_0d", nnlab.eq, torch and torch.eq, np.array(2.0), np.array(2.0)),
    ("logical_and", nnlab.logical_and, torch and torch.logical_and, bools(3, 4), bools(4, seed=1)),
    ("logical_or", lambda a, b: a | b, lambda a, b: a | b, bools(3, 4), bools(3, 4, seed=1)),
    ("logical_xor", lambda a, b: a.logical_xor(b), lambda a, b: a.logical_xor(b), bools(3, 4),
     bools(3, 1)),
    ("logical_not", lambda a: ~a, lambda a: ~a, bools(3, 4)),
    ("logical_and_float", nnlab.logical_and, torch and torch.logical_and, GRID - 2, bools(3)),
    ("isnan", nnlab.isnan, torch and torch.isnan, SPECIAL),
    ("isinf", lambda a: a.isinf(), lambda a: a.isinf(), SPECIAL),
    ("isfinite", nnlab.isfinite, torch and torch.isfinite, SPECIAL),
    ("isnan_0d", nnlab.isnan, torch and torch.isnan, np.array(np.nan)),
]
NOT_DIFFERENTIABLE = {"eq", "ne", "lt", "le", "gt", "ge", "eq_0d", "logical_and", "logical_or",
                      "logical_xor", "logical_not", "logical_and_float", "isnan", "isinf",
                      "isfinite", "isnan_0d"}
NOT_TWICE = {"round_halves",                  # at a jump: the finite difference is huge
             "maximum_ties", "minimum_ties"}  # the tie share jumps: no second derivative


def params(cases):
    return [pytest.param(c[1], c[2], c[3:], id=c[0]) for c in cases]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("nn_fn, torch_fn, args", params(CASES))
def test_against_torch(nn_fn, torch_fn, args, dtype):
    check_op(nn_fn, torch_fn, *args, dtype=dtype)


@pytest.mark.parametrize("nn_fn, torch_fn, args",
                         params(c for c in CASES if c[0] not in NOT_DIFFERENTIABLE | NOT_TWICE))
def test_gradcheck(nn_fn, torch_fn, args):
    check_grad(nn_fn, *args)


@pytest.mark.parametrize("nn_fn, torch_fn, args",
                         params(c for c in CASES if c[0] in NOT_TWICE - {"round_halves"}))
def test_gradcheck_first_order_at_ties(nn_fn, torch_fn, args):
    check_grad(nn_fn, *args, second_order=False)


BINARY = [   # (id, nnlab, torch, draws for the left and the right operand)
    ("add", nnlab.add, torch and torch.add, randn, randn),
    ("sub", nnlab.sub, torch and torch.sub, randn, randn),
    ("mul", nnlab.mul, torch and torch.mul, randn, randn),
    ("div", nnlab.div, torch and torch.div, randn, pos),
    ("pow", nnlab.pow, torch and torch.pow, pos, randn),
    ("maximum", nnlab.maximum, torch and torch.maximum, randn, randn),
    ("minimum", nnlab.minimum, torch and torch.minimum, randn, randn),
]


@pytest.mark.parametrize("nn_fn, torch_fn, left, right",
                         [pytest.param(*b[1:], id=b[0]) for b in BINARY])
def test_binary_random_broadcast(nn_fn, torch_fn, left, right):
    @settings(max_examples=12, deadline=None)
    @given(mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3))
    def run(shapes):
        a_shape, b_shape = shapes.input_shapes
        check_op(nn_fn, torch_fn, left(*a_shape), right(*b_shape, seed=1))

    run()


# -- dtype rules ---------------------------------------------------------------------------
@pytest.mark.parametrize("make, dtype", [
    (lambda: nnlab.ones(3) * 2.5, "float32"),              # a Python float keeps float32
    (lambda: 2.5 * nnlab.ones(3), "float32"),
    (lambda: nnlab.ones(3) + np.float64(1.0), "float32"),   # so does a numpy scalar
    (lambda: nnlab.ones(3, dtype=nnlab.float64) * 2.5, "float64"),
    (lambda: nnlab.tensor([1, 2]) + nnlab.tensor([0.5, 1.5]), "float32"),  # int + float
    (lambda: nnlab.tensor([1, 2]) * nnlab.ones(2, dtype=nnlab.float64), "float64"),
    (lambda: nnlab.tensor([1, 2]) + 1.5, "float32"),
    (lambda: nnlab.tensor([1, 2]) + 1, "int64"),
    (lambda: nnlab.tensor([1, 2], dtype=nnlab.int32) * 3, "int32"),
    (lambda: nnlab.tensor([1, 2]) / nnlab.tensor([2, 4]), "float32"),  # int / int, as torch
    (lambda: nnlab.tensor([1, 2]) / 2, "float32"),
    (lambda: 1 / nnlab.tensor([1, 2]), "float32"),
    (lambda: nnlab.ones(2) + nnlab.ones(2, dtype=nnlab.float64), "float64"),
    (lambda: nnlab.exp(nnlab.tensor([1, 2])), "float32"),
    (lambda: nnlab.sqrt(nnlab.tensor([1, 4])), "float32"),
    (lambda: nnlab.where(nnlab.tensor([True, False]), nnlab.tensor([1, 2]), 0.5), "float32"),
    (lambda: nnlab.tensor([1, 2]).masked_fill(nnlab.tensor([True, False]), 0.5), "int64"),
    (lambda: nnlab.tensor([1.0]) > 0, "bool"),
    (lambda: nnlab.tensor([1, 2]).clamp(min=1.5), "float32"),
    (lambda: nnlab.tensor([1, 2]).clamp(0, 1), "int64"),
    (lambda: nnlab.ones(2).clamp(0, 1), "float32"),
    (lambda: nnlab.abs(nnlab.tensor([-1, 2])), "int64"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_result_dtype(make, dtype):
    assert make().dtype == np.dtype(dtype)


def test_int_division_values():
    out = nnlab.tensor([1, 3]) / nnlab.tensor([2, 4])
    np.testing.assert_allclose(out.numpy(), [0.5, 0.75])


@pytest.mark.parametrize("make", [
    lambda: nnlab.tensor([1, 2], requires_grad=True),
    lambda: nnlab.tensor([1, 2]).requires_grad_(),
    lambda: nnlab.arange(3, requires_grad=True),
])
def test_int_tensors_cannot_require_grad(make):
    with pytest.raises(RuntimeError, match="only floating point tensors can require grad"):
        make()


def test_results_of_int_ops_do_not_require_grad():
    x = nnlab.tensor([1.5, -2.0], requires_grad=True)
    assert not (x > 0).requires_grad
    assert not nnlab.isnan(x).requires_grad
    assert (x.floor() * 1).requires_grad   # floor is float: its gradient is zero, not absent


# -- errors --------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow", "maximum", "minimum"])
def test_shapes_that_do_not_broadcast(op):
    with pytest.raises(ValueError, match=rf"{op}: shapes \(3,\) and \(4,\) cannot be broadcast"):
        getattr(nnlab, op)(nnlab.ones(3), nnlab.ones(4))


@pytest.mark.parametrize("make, message", [
    (lambda: nnlab.ones(3, 4).broadcast_to((4,)),
     r"broadcast_to: shape \(3, 4\) cannot be broadcast to \(4,\)"),
    (lambda: nnlab.ones(3).broadcast_to((2, 4)),
     r"broadcast_to: shape \(3,\) cannot be broadcast to \(2, 4\)"),
    (lambda: nnlab.ones(3).expand(-1, 3), r"expand: sizes \(-1, 3\) put -1 in a new leading"),
    (lambda: nnlab.ones(2, 3).expand(3), r"expand: the number of sizes \(1\) must be at least"),
])
def test_broadcast_to_and_expand_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("shape, to", [((3, 1), (2, 3, 4)), ((), (2,)), ((1,), (1,))])
def test_broadcast_to_and_its_gradient(shape, to):
    check_op(lambda x: x.broadcast_to(to), lambda x: x.broadcast_to(to), randn(*shape))
    check_op(lambda x: x.expand(*to), lambda x: x.expand(*to), randn(*shape))
    check_grad(lambda x: x.broadcast_to(to), randn(*shape))


def test_clamp_needs_a_bound():
    with pytest.raises(ValueError, match="clamp: at least one of min and max"):
        nnlab.clamp(nnlab.ones(3))


# -- edge values -----------------------------------------------------------------------------
def test_pow_edge_gradients_as_torch():
    """d/db a^b at a = 0 and d/da a^0 are 0, as torch takes them."""
    b = nnlab.tensor([0.5, 2.0], dtype=nnlab.float64, requires_grad=True)
    nnlab.pow(0.0, b).sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), [0.0, 0.0])
    a = nnlab.tensor([0.0, 2.0], dtype=nnlab.float64, requires_grad=True)
    (a ** 0).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.0])


def test_maximum_splits_gradient_on_ties():
    a = nnlab.tensor([1.0, 2.0], requires_grad=True)
    b = nnlab.tensor([1.0, 3.0], requires_grad=True)
    nnlab.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.5, 0.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.5, 1.0])


def test_clamp_bounds_are_inclusive_for_the_gradient():
    x = nnlab.tensor([-1.0, 0.0, 0.5, 1.0, 2.0], requires_grad=True)
    x.clamp(0.0, 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 1.0, 1.0, 0.0])


def test_pow_gradient_at_zero_base_follows_torch():
    # d(a^b)/db = a^b log(a): torch masks it to 0 only where a = 0 <= b; 0^-1 log 0 = -inf
    a, b = np.array([0.0, 0.0, 2.0, 0.0]), np.array([-1.0, 2.0, -1.0, 0.0])
    check_op(lambda x, y: x ** y, lambda x, y: x ** y, a, b)
    base = np.array([-1.0, 2.0, 0.0])
    check_op(lambda y: 0.0 ** y, lambda y: 0.0 ** y, base)


@pytest.mark.parametrize("name, args, kwargs", [
    ("lerp", lambda r: (r(3, 4), r(3, 4), 0.3), {}),
    ("lerp", lambda r: (r(3, 4), r(4), r(3, 1)), {}),
    ("addcmul", lambda r: (r(3, 4), r(3, 4), r(4)), {"value": 0.5}),
    ("addcdiv", lambda r: (r(3, 4), r(3, 4), r(4) ** 2 + 1), {"value": -2.0}),
])
def test_lerp_addcmul_addcdiv_as_methods(name, args, kwargs):
    rng = np.random.default_rng(0)
    values = args(lambda *shape: rng.standard_normal(shape))
    check_op(lambda x, *rest: getattr(x, name)(*rest, **kwargs),
             lambda x, *rest: getattr(x, name)(*rest, **kwargs), *values)
