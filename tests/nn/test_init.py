"""nn.init: calculate_gain against torch's table; Xavier and He give their documented
variance; orthogonal_ is orthogonal; the fills; a 20-layer ReLU net keeps its activation
scale with He init and explodes with N(0, 1); seeded draws are reproducible."""
import math

import numpy as np
import pytest

import nnlab
import nnlab.nn as nn
from nnlab.nn import init
from tests.helpers import requires_torch, torch


def empty(*shape, dtype=nnlab.float64):
    return nnlab.empty(*shape, dtype=dtype)


def values(t):
    return t.detach().numpy()


# -- calculate_gain -----------------------------------------------------------------------
@requires_torch
@pytest.mark.parametrize("nonlinearity, param", [
    ("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None),
    ("conv_transpose1d", None), ("conv_transpose2d", None), ("conv_transpose3d", None),
    ("sigmoid", None), ("tanh", None), ("relu", None), ("selu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 0), ("leaky_relu", 1),
    ("leaky_relu", math.sqrt(5)),
])
def test_calculate_gain_like_torch(nonlinearity, param):
    expected = torch.nn.init.calculate_gain(nonlinearity, param)
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("args, message", [
    (("swish",), "calculate_gain: unsupported nonlinearity 'swish'"),
    (("leaky_relu", True), "calculate_gain: negative_slope True is not a number"),
    (("leaky_relu", "0.1"), "calculate_gain: negative_slope '0.1' is not a number"),
])
def test_calculate_gain_errors(args, message):
    with pytest.raises(ValueError, match=message):
        init.calculate_gain(*args)


# -- variances ------------------------------------------------------------------------------
FAN_IN, FAN_OUT = 1024, 256   # a (256, 1024) weight: fan_in = in = 1024, fan_out = out = 256


@pytest.mark.parametrize("fill, shape, expected_var", [
    (lambda t: init.xavier_uniform_(t), (512, 512), 2 / (512 + 512)),
    (lambda t: init.xavier_normal_(t), (512, 512), 2 / (512 + 512)),
    (lambda t: init.xavier_uniform_(t, gain=init.calculate_gain("tanh")), (256, 1024),
     (5 / 3) ** 2 * 2 / (FAN_IN + FAN_OUT)),
    (lambda t: init.xavier_normal_(t, gain=2.0), (256, 1024), 4 * 2 / (FAN_IN + FAN_OUT)),
    (lambda t: init.kaiming_uniform_(t, nonlinearity="relu"), (512, 512), 2 / 512),
    (lambda t: init.kaiming_normal_(t, nonlinearity="relu"), (512, 512), 2 / 512),
    (lambda t: init.kaiming_uniform_(t, mode="fan_in", nonlinearity="relu"), (256, 1024),
     2 / FAN_IN),
    (lambda t: init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"), (256, 1024),
     2 / FAN_OUT),
    (lambda t: init.kaiming_normal_(t, mode="fan_in", nonlinearity="relu"), (256, 1024),
     2 / FAN_IN),
    (lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"), (256, 1024),
     2 / FAN_OUT),
    (lambda t: init.kaiming_normal_(t, a=0.2, mode="fan_out"), (256, 1024),
     2 / (1 + 0.04) / FAN_OUT),                                  # leaky_relu, the default
    (lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)), (512, 512), 1 / 3 / 512),  # Linear's
    (lambda t: init.kaiming_normal_(t, nonlinearity="tanh"), (512, 512), (5 / 3) ** 2 / 512),
    (lambda t: init.kaiming_uniform_(t, nonlinearity="linear", mode="fan_out"),
     (64, 32, 3, 3), 1 / (64 * 9)),                              # conv: fan includes 3 x 3
    (lambda t: init.xavier_normal_(t), (64, 32, 3, 3), 2 / (32 * 9 + 64 * 9)),
    (lambda t: init.uniform_(t, -0.5, 1.5), (512, 512), 4 / 12),
    (lambda t: init.normal_(t, 0.0, 0.3), (512, 512), 0.09),
])
def test_documented_variance(fill, shape, expected_var):
    nnlab.manual_seed(0)
    w = values(fill(empty(*shape)))
    assert w.var() == pytest.approx(expected_var, rel=0.03)


def test_uniform_bounds_and_normal_mean():
    nnlab.manual_seed(1)
    fan_in = 512
    w = values(init.kaiming_uniform_(empty(256, fan_in), nonlinearity="relu"))
    bound = math.sqrt(6 / fan_in)                    # sqrt(3) * sqrt(2 / fan_in)
    assert 0.99 * bound < np.abs(w).max() <= bound
    assert abs(values(init.normal_(empty(512, 512), mean=2.0)).mean() - 2.0) < 0.01


@pytest.mark.parametrize("fill", [init.xavier_uniform_, init.kaiming_normal_])
def test_fill_keeps_dtype_identity_and_leaf(fill):
    w = nn.Parameter(nnlab.zeros(8, 4))
    out = fill(w)
    assert out is w and w.dtype == np.float32 and w.is_leaf and w.grad_fn is None
    assert values(w).any()


# -- orthogonal and fills -------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(64, 64), (32, 80), (80, 32), (16, 4, 3, 3)])
def test_orthogonal(shape):
    nnlab.manual_seed(2)
    w = values(init.orthogonal_(empty(*shape))).reshape(shape[0], -1)
    rows, cols = w.shape
    gram = w @ w.T if rows <= cols else w.T @ w      # orthonormal rows, or columns
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-12)
    w2 = values(init.orthogonal_(empty(20, 20), gain=3.0))
    np.testing.assert_allclose(w2 @ w2.T, 9 * np.eye(20), atol=1e-10)


def test_fills():
    np.testing.assert_array_equal(values(init.eye_(empty(3, 5))), np.eye(3, 5))
    np.testing.assert_array_equal(values(init.constant_(empty(2, 3), 0.7)), np.full((2, 3), 0.7))
    np.testing.assert_array_equal(values(init.zeros_(nnlab.ones(4))), np.zeros(4))
    np.testing.assert_array_equal(values(init.ones_(nnlab.zeros(2, 2))), np.ones((2, 2)))


@pytest.mark.parametrize("make, message", [
    (lambda: init.xavier_uniform_(empty(5)), r"fan in and fan out need a tensor of at least "
                                            r"2 dimensions, got shape \(5,\)"),
    (lambda: init.kaiming_normal_(empty(3, 3), mode="fan_avg"), r"mode 'fan_avg' is not "
                                                                r"supported"),
    (lambda: init.eye_(empty(2, 2, 2)), r"eye_: only 2-D tensors are supported"),
    (lambda: init.orthogonal_(empty(4)), r"orthogonal_: need at least 2 dimensions"),
])
def test_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# -- depth: He keeps the scale, N(0, 1) does not ---------------------------------------------
def _stds_through_relu_net(fill, depth=20, width=256, batch=512):
    """The std of each layer's pre-activation h_l = W_l relu(h_(l-1)) (h_0 = W_0 x)."""
    nnlab.manual_seed(3)
    layers = [nn.Linear(width, width, bias=False, dtype=nnlab.float64) for _ in range(depth)]
    for layer in layers:
        fill(layer.weight)
    x = nnlab.randn(batch, width, dtype=nnlab.float64)
    stds, h = [], x
    with nnlab.no_grad():
        for i, layer in enumerate(layers):
            h = layer(h if i == 0 else nnlab.relu(h))
            stds.append(values(h).std())
    return values(x).std(), np.array(stds)


def test_he_init_keeps_activation_scale_over_20_relu_layers():
    x_std, stds = _stds_through_relu_net(
        lambda w: init.kaiming_normal_(w, mode="fan_in", nonlinearity="relu"))
    # Var(h_l) = 2 / fan_in * fan_in * E[relu(h_(l-1))^2] = Var(h_(l-1)): constant with
    # depth (at 2 Var(x), as layer 0 takes x itself: std ratios of about 1.4 throughout)
    ratios = stds / x_std
    assert (ratios > 0.5).all() and (ratios < 2.0).all(), ratios


def test_naive_standard_normal_init_explodes():
    x_std, stds = _stds_through_relu_net(lambda w: init.normal_(w, 0.0, 1.0))
    # each layer multiplies the variance by about width / 2 = 128: std x 11 per layer
    assert stds[-1] / x_std > 1e15
    assert (stds[1:] / stds[:-1] > 5).all()


# -- reproducibility ----------------------------------------------------------------------------
@pytest.mark.parametrize("fill", [init.xavier_uniform_, init.xavier_normal_,
                                  init.kaiming_uniform_, init.kaiming_normal_,
                                  init.orthogonal_, init.uniform_, init.normal_])
def test_seeded_reproducibility(fill):
    nnlab.manual_seed(42)
    a = values(fill(empty(6, 5)))
    b = values(fill(empty(6, 5)))
    nnlab.manual_seed(42)
    np.testing.assert_array_equal(values(fill(empty(6, 5))), a)
    assert not np.array_equal(a, b)
