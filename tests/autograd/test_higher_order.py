"""Higher-order gradients: a Hessian-vector product by double backward against finite
differences; exact second and third derivatives against closed forms."""
import numpy as np
import pytest

import nnlab
from nnlab import autograd
from nnlab.autograd import gradgradcheck
from tests.helpers import randn


def leaf(values):
    return nnlab.tensor(values, dtype=nnlab.float64, requires_grad=True)


# -- Hessian-vector product of a small MLP ---------------------------------------------
X = randn(6, 3, seed=1)
T = randn(6, 2, seed=2)


def mlp_loss(w1, b1, w2, b2):
    """0.5 * sum((tanh(X W1 + b1) W2 + b2 - T)^2) / n: 2 layers, tanh, float64."""
    h = (nnlab.tensor(X) @ w1 + b1).tanh()
    out = h @ w2 + b2
    r = out - nnlab.tensor(T)
    return (r * r).sum() * (0.5 / len(X))


def mlp_gradient(params):
    ps = [leaf(p) for p in params]
    return [g.numpy() for g in autograd.grad(mlp_loss(*ps), ps)]


def test_hessian_vector_product_of_an_mlp_matches_finite_differences():
    params = [randn(3, 4, seed=3), randn(4, seed=4), randn(4, 2, seed=5), randn(2, seed=6)]
    vs = [randn(*p.shape, seed=10 + i) for i, p in enumerate(params)]
    ps = [leaf(p) for p in params]
    grads = autograd.grad(mlp_loss(*ps), ps, create_graph=True)
    assert all(g.requires_grad for g in grads)
    gv = sum((g * nnlab.tensor(v)).sum() for g, v in zip(grads, vs))
    hv = autograd.grad(gv, ps)
    eps = 1e-5
    plus = mlp_gradient([p + eps * v for p, v in zip(params, vs)])
    minus = mlp_gradient([p - eps * v for p, v in zip(params, vs)])
    for h, gp, gm in zip(hv, plus, minus):
        np.testing.assert_allclose(h.numpy(), (gp - gm) / (2 * eps), rtol=1e-6, atol=1e-8)


def test_hessian_vector_product_by_backward_create_graph():
    w = leaf([0.5, -0.3, 0.8])
    loss = (w.tanh() * w).sum() + (w * w * w).sum()
    loss.backward(create_graph=True)
    v = nnlab.tensor([1.0, 0.0, 2.0], dtype=nnlab.float64)
    hv, = autograd.grad((w.grad * v).sum(), w)
    t = np.tanh(w._data)
    diag = 2 * (1 - t * t) - 2 * w._data * t * (1 - t * t) + 6 * w._data   # (x tanh x)'' + 6x
    np.testing.assert_allclose(hv.numpy(), diag * v.numpy(), rtol=1e-12)


# -- exact derivatives of the elementwise maths ----------------------------------------
def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def derivatives(fn, x, order):
    """[f, f', f'', ...] at x by repeated grad with create_graph=True."""
    x = leaf(x)
    out = [fn(x)]
    for _ in range(order):
        d, = autograd.grad(out[-1].sum(), x, create_graph=True)
        out.append(d)
    return [o.detach().numpy() for o in out]


X1 = np.array([-1.5, -0.3, 0.4, 1.2])
POS = np.array([0.3, 0.9, 1.7, 3.0])

# (id, function, input, closed forms of f'' and f''' (None: not checked))
CLOSED_FORMS = [
    ("sigmoid", nnlab.sigmoid, X1,
     lambda x: (s := sigmoid(x)) * (1 - s) * (1 - 2 * s),
     lambda x: (s := sigmoid(x)) * (1 - s) * (1 - 6 * s + 6 * s * s)),
    ("tanh", nnlab.tanh, X1,
     lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2),
     lambda x: (1 - np.tanh(x) ** 2) * (6 * np.tanh(x) ** 2 - 2)),
    ("exp", nnlab.exp, X1, np.exp, np.exp),
    ("log", nnlab.log, POS, lambda x: -1 / x ** 2, lambda x: 2 / x ** 3),
    ("pow_3", lambda x: x ** 3, X1, lambda x: 6 * x, lambda x: 6 + 0 * x),
    ("pow_2.5", lambda x: x.pow(2.5), POS, lambda x: 3.75 * x ** 0.5,
     lambda x: 1.875 * x ** -0.5),
    ("rpow", lambda x: 2.0 ** x, X1, lambda x: np.log(2) ** 2 * 2 ** x,
     lambda x: np.log(2) ** 3 * 2 ** x),
    ("sin", nnlab.sin, X1, lambda x: -np.sin(x), lambda x: -np.cos(x)),
    ("sqrt", nnlab.sqrt, POS, lambda x: -0.25 * x ** -1.5, lambda x: 0.375 * x ** -2.5),
    ("reciprocal", nnlab.reciprocal, POS, lambda x: 2 / x ** 3, lambda x: -6 / x ** 4),
    ("erf", nnlab.erf, X1, lambda x: -4 * x / np.sqrt(np.pi) * np.exp(-x * x),
     lambda x: (8 * x * x - 4) / np.sqrt(np.pi) * np.exp(-x * x)),
    ("log1p", nnlab.log1p, POS, lambda x: -1 / (1 + x) ** 2, lambda x: 2 / (1 + x) ** 3),
    ("rsqrt", nnlab.rsqrt, POS, lambda x: 0.75 * x ** -2.5, lambda x: -1.875 * x ** -3.5),
    ("tan", nnlab.tan, X1 / 2, lambda x: 2 * np.tan(x) / np.cos(x) ** 2,
     lambda x: (2 + 4 * np.sin(x) ** 2) / np.cos(x) ** 4),
]


@pytest.mark.parametrize("fn, x, second, third",
                         [pytest.param(*c[1:], id=c[0]) for c in CLOSED_FORMS])
def test_second_and_third_derivatives_are_exact(fn, x, second, third):
    _, _, d2, d3 = derivatives(fn, x, 3)
    np.testing.assert_allclose(d2, second(x), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(d3, third(x), rtol=1e-10, atol=1e-12)


def test_derivatives_of_a_polynomial_vanish_in_the_end():
    d = derivatives(lambda x: x ** 3 - 2 * x * x + x, np.array([0.5, 2.0]), 4)
    np.testing.assert_allclose(d[1], 3 * np.array([0.25, 4.0]) - 4 * np.array([0.5, 2.0]) + 1)
    np.testing.assert_allclose(d[2], [3.0 - 4.0, 12.0 - 4.0])
    np.testing.assert_allclose(d[3], [6.0, 6.0])
    np.testing.assert_allclose(d[4], [0.0, 0.0])


def test_mixed_second_derivative():
    x, y = leaf(0.7), leaf(-0.4)
    f = (x * y).sin() * x
    gx, = autograd.grad(f, x, create_graph=True)
    gxy, = autograd.grad(gx, y)
    a, b = 0.7, -0.4
    # d/dy [sin(ab) + ab cos(ab)] = a cos(ab) + a cos(ab) - a^2 b sin(ab)
    expected = 2 * a * np.cos(a * b) - a * a * b * np.sin(a * b)
    np.testing.assert_allclose(gxy.item(), expected, rtol=1e-12)


def test_gradient_without_create_graph_is_not_differentiable():
    x = leaf([1.0, 2.0])
    g, = autograd.grad((x ** 3).sum(), x)
    assert not g.requires_grad and g.grad_fn is None


@pytest.mark.parametrize("fn, args", [
    (lambda x, y: (x.tanh() * y).sigmoid() / (1 + x * x) + (y.exp() * x).sin(),
     (randn(2, 3, seed=1), randn(3, seed=2))),
    (lambda x, y: (nnlab.maximum(x * y, x.cos()) + 2).sqrt() + (x - y) ** 2,
     (randn(2, 3, seed=3), randn(3, seed=4))),
    (lambda x: nnlab.where(x > 0, x.abs().log1p(), x.exp() - 1) * x.square(),
     (randn(4, seed=5, low=0.1),)),
    (lambda x, y: (x @ y).tanh().sum(dim=-1) * x.mean(),
     (randn(2, 3, seed=6), randn(3, 2, seed=7))),
])
def test_gradgradcheck_of_composites(fn, args):
    inputs = tuple(leaf(a) for a in args)
    assert gradgradcheck(fn, inputs)
