"""Activations (functional and modules) and SwiGLU against torch: values and gradients of
inputs and parameters in float64 and float32, gradcheck + gradgradcheck of every
functional activation, torch's gradient at kinks and bounds, softmax / log_softmax on
large values, reprs like torch's, and errors."""
import numpy as np
import pytest

import nnlab
import nnlab.nn as nn
import nnlab.nn.functional as F
from tests.helpers import check_grad, check_op, randn, requires_torch, torch
from tests.nn.test_linear import check_module

pytestmark = requires_torch

TF = torch and torch.nn.functional

X = randn(3, 4, low=0.1) * 2                # away from the kink at 0
X3 = randn(2, 3, 4, seed=1, low=0.1) * 2
KINKS = np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0])   # relu's 0, hardtanh's +-1
NEAR_THRESHOLD = np.array([-3.0, 0.5, 19.0, 19.99, 20.0, 20.01, 21.0, 800.0, -800.0])
LARGE = randn(3, 5, seed=2) * 1000          # e^x overflows without the max shift
OFFSET = randn(3, 5, seed=3) + 1e4          # so does this: all terms equal-ish and huge
MASKED = np.where(np.eye(3, 4) > 0, -np.inf, randn(3, 4, seed=4))   # -inf logits (masks)


def same(name, *args, torch_name=None, **kwargs):
    """A case calling nn.functional.<name> and torch.nn.functional.<name> alike."""
    return (lambda *a: getattr(F, name)(*a, **kwargs),
            lambda *a: getattr(TF, torch_name or name)(*a, **kwargs)) + args


def torch_swish(x, beta=1.0):
    return x * torch.sigmoid(beta * x)


# (id, nnlab function, torch function, arguments)
CASES = [
    ("relu", *same("relu", X)),
    ("relu_0d", *same("relu", np.array(-1.5))),
    ("relu_kinks", *same("relu", KINKS)),
    ("leaky_relu", *same("leaky_relu", X)),
    ("leaky_relu_0.2", *same("leaky_relu", X3, negative_slope=0.2)),
    ("leaky_relu_3", *same("leaky_relu", X, negative_slope=3.0)),
    ("leaky_relu_kinks", *same("leaky_relu", KINKS, negative_slope=0.2)),
    ("prelu_shared", F.prelu, TF and TF.prelu, X, np.array([0.25])),
    ("prelu_channels", F.prelu, TF and TF.prelu, X3, np.array([0.1, -0.3, 0.6])),
    ("prelu_channels_2d", F.prelu, TF and TF.prelu, X, randn(4, seed=5)),
    ("prelu_1d", F.prelu, TF and TF.prelu, randn(5, low=0.1), np.array([0.4])),
    ("prelu_0d", F.prelu, TF and TF.prelu, np.array(-1.5), np.array([0.4])),
    ("prelu_kinks", F.prelu, TF and TF.prelu, KINKS, np.array([0.3])),
    ("elu", *same("elu", X)),
    ("elu_0.5", *same("elu", X3, alpha=0.5)),
    ("elu_2", *same("elu", X, alpha=2.0)),
    ("elu_kinks", *same("elu", KINKS, alpha=0.5)),
    ("elu_large", *same("elu", np.array([-800.0, -30.0, 30.0, 800.0]))),
    ("gelu", *same("gelu", X)),
    ("gelu_none", *same("gelu", X3, approximate="none")),
    ("gelu_tanh", *same("gelu", X3, approximate="tanh")),
    ("gelu_tanh_wide", *same("gelu", randn(20, seed=6) * 6, approximate="tanh")),
    ("silu", *same("silu", X3)),
    ("swish", F.swish, torch_swish, X),
    ("swish_0.5", lambda x: F.swish(x, 0.5), lambda x: torch_swish(x, 0.5), X3),
    ("swish_2", lambda x: F.swish(x, beta=2.0), lambda x: torch_swish(x, 2.0), X),
    ("swish_tensor_beta", F.swish, torch_swish, X3, np.array(0.7)),
    ("swish_channel_beta", F.swish, torch_swish, X, np.array([0.5, 1.0, 1.5, 2.0])),
    ("softplus", *same("softplus", X)),
    ("softplus_beta_2", *same("softplus", X3, beta=2.0)),
    ("softplus_threshold", *same("softplus", NEAR_THRESHOLD)),
    ("softplus_beta_threshold", *same("softplus", np.array([-2.0, 4.9, 5.0, 5.1, 9.0]),
                                      beta=2.0, threshold=10.0)),
    ("softplus_threshold_1", *same("softplus", np.array([-1.0, 0.5, 0.99, 1.01, 3.0]),
                                   threshold=1.0)),
    ("softsign", *same("softsign", X3)),
    ("hardtanh", *same("hardtanh", X)),
    ("hardtanh_range", *same("hardtanh", X3, min_val=-0.5, max_val=2.0)),
    ("hardtanh_bounds", *same("hardtanh", KINKS)),
    ("hardtanh_bounds_range", *same("hardtanh", KINKS, min_val=-0.5, max_val=2.0)),
    ("sigmoid", *same("sigmoid", X3)),
    ("sigmoid_large", *same("sigmoid", np.array([-800.0, -50.0, 0.0, 50.0, 800.0]))),
    ("tanh", *same("tanh", X3)),
    ("arctan", F.arctan, torch and torch.atan, X3),
    ("arctan_0d", F.arctan, torch and torch.atan, np.array(0.3)),
    ("softmax_1", *same("softmax", X, dim=1)),
    ("softmax_0", *same("softmax", X, dim=0)),
    ("softmax_3d", *same("softmax", X3, dim=1)),
    ("softmax_neg", *same("softmax", X3, dim=-1)),
    ("softmax_1d", *same("softmax", randn(5), dim=0)),
    ("softmax_0d", *same("softmax", np.array(1.5), dim=0)),
    ("softmax_size1", *same("softmax", randn(3, 1), dim=1)),
    ("softmax_large", *same("softmax", LARGE, dim=1)),
    ("softmax_offset", *same("softmax", OFFSET, dim=-1)),
    ("softmax_masked", *same("softmax", MASKED, dim=1)),
    ("softmax_dtype", lambda x: F.softmax(x, 1, dtype=nnlab.float64),
     lambda x: TF.softmax(x, 1, dtype=torch.float64), X),
    ("log_softmax_1", *same("log_softmax", X, dim=1)),
    ("log_softmax_0", *same("log_softmax", X3, dim=0)),
    ("log_softmax_neg", *same("log_softmax", X3, dim=-1)),
    ("log_softmax_1d", *same("log_softmax", randn(5), dim=0)),
    ("log_softmax_large", *same("log_softmax", LARGE, dim=1)),
    ("log_softmax_offset", *same("log_softmax", OFFSET, dim=1)),
]
NOT_GRADCHECKED = {   # at kinks the finite difference straddles them; the rest are extreme
    "relu_kinks", "leaky_relu_kinks", "prelu_kinks", "elu_kinks", "hardtanh_bounds",
    "hardtanh_bounds_range", "softplus_threshold", "softplus_beta_threshold", "elu_large",
    "sigmoid_large", "softmax_large", "softmax_offset", "softmax_masked", "log_softmax_large",
    "log_softmax_offset"}


# float32 cases whose torch values are less exact than float32 allows on some CPUs: torch's
# vectorised tanh (AVX2 builds) saturates to exactly -1 near x = -5, so its gelu'(-5.08) is
# 0 where the exact value is -9.2e-7 (nnlab gives -1.05e-6): an absolute 1e-5 covers it.
FLOAT32_ATOL = {"gelu_tanh_wide": 1e-5}


def params(cases):
    return [pytest.param(c[1], c[2], c[3:], FLOAT32_ATOL.get(c[0]), id=c[0]) for c in cases]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("nn_fn, torch_fn, args, atol32", params(CASES))
def test_against_torch(nn_fn, torch_fn, args, atol32, dtype):
    check_op(nn_fn, torch_fn, *args, dtype=dtype, atol=atol32 if dtype == np.float32 else None)


@pytest.mark.parametrize("nn_fn, torch_fn, args", [
    pytest.param(c[1], c[2], c[3:], id=c[0])
    for c in CASES if c[0] not in NOT_GRADCHECKED])
def test_gradcheck(nn_fn, torch_fn, args):
    check_grad(nn_fn, *args)


@pytest.mark.filterwarnings("ignore:Implicit dimension choice")
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (2, 3, 4, 2)])
def test_softmax_implicit_dim_as_torch(name, shape):
    check_op(getattr(F, name), getattr(TF, name), randn(*shape))


def test_softmax_rows_sum_to_one_and_large_values_are_finite():
    y = F.softmax(nnlab.tensor(LARGE, requires_grad=True), dim=1)
    np.testing.assert_allclose(y.detach().numpy().sum(1), 1.0, rtol=1e-6)
    z = F.log_softmax(nnlab.tensor(LARGE * 100, requires_grad=True), dim=1)
    assert np.isfinite(z.detach().numpy()).all()


def test_softplus_gradient_finite_far_above_threshold():
    x = nnlab.tensor([1e3, 1e4, -1e4], dtype=nnlab.float64, requires_grad=True)
    F.softplus(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0, 0.0])


# -- modules ------------------------------------------------------------------------------
class TorchLambda(torch.nn.Module if torch else object):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


class TorchSwish(torch.nn.Module if torch else object):
    def __init__(self, beta=1.0, learnable=False):
        super().__init__()
        self.beta = torch.nn.Parameter(torch.tensor(beta)) if learnable else beta

    def forward(self, x):
        return torch_swish(x, self.beta)


class TorchSwiGLU(torch.nn.Module if torch else object):
    """The reference: w2(silu(w1 x) * w3 x) from torch.nn.Linear and F.silu."""

    def __init__(self, dim, hidden, bias=False):
        super().__init__()
        self.w1 = torch.nn.Linear(dim, hidden, bias=bias)
        self.w2 = torch.nn.Linear(hidden, dim, bias=bias)
        self.w3 = torch.nn.Linear(dim, hidden, bias=bias)

    def forward(self, x):
        return self.w2(TF.silu(self.w1(x)) * self.w3(x))


def torch_module(name, *args, **kwargs):
    return lambda: getattr(torch.nn, name)(*args, **kwargs)


MODULES = [   # (id, nnlab module, torch module, input)
    ("Sigmoid", nn.Sigmoid, torch_module("Sigmoid"), X3),
    ("Tanh", nn.Tanh, torch_module("Tanh"), X3),
    ("ReLU", nn.ReLU, torch_module("ReLU"), X3),
    ("LeakyReLU", nn.LeakyReLU, torch_module("LeakyReLU"), X3),
    ("LeakyReLU_0.2", lambda: nn.LeakyReLU(0.2), torch_module("LeakyReLU", 0.2), X3),
    ("PReLU", nn.PReLU, torch_module("PReLU"), X3),
    ("PReLU_channels", lambda: nn.PReLU(3, init=0.1), torch_module("PReLU", 3, init=0.1), X3),
    ("ELU", nn.ELU, torch_module("ELU"), X3),
    ("ELU_0.5", lambda: nn.ELU(alpha=0.5), torch_module("ELU", alpha=0.5), X3),
    ("GELU", nn.GELU, torch_module("GELU"), X3),
    ("GELU_tanh", lambda: nn.GELU("tanh"), torch_module("GELU", "tanh"), X3),
    ("SiLU", nn.SiLU, torch_module("SiLU"), X3),
    ("Swish", nn.Swish, lambda: TorchSwish(), X3),
    ("Swish_1.5", lambda: nn.Swish(1.5), lambda: TorchSwish(1.5), X3),
    ("Swish_learnable", lambda: nn.Swish(0.8, learnable=True),
     lambda: TorchSwish(0.8, learnable=True), X3),
    ("Softplus", nn.Softplus, torch_module("Softplus"), X3),
    ("Softplus_options", lambda: nn.Softplus(beta=2.0, threshold=5.0),
     torch_module("Softplus", beta=2.0, threshold=5.0), X3 * 2),
    ("Softsign", nn.Softsign, torch_module("Softsign"), X3),
    ("Hardtanh", nn.Hardtanh, torch_module("Hardtanh"), X3),
    ("Hardtanh_range", lambda: nn.Hardtanh(-0.5, 2.0), torch_module("Hardtanh", -0.5, 2.0), X3),
    ("Arctan", nn.Arctan, lambda: TorchLambda(torch.atan), X3),
    ("Softmax", lambda: nn.Softmax(dim=1), torch_module("Softmax", dim=1), X3),
    ("Softmax_neg", lambda: nn.Softmax(-1), torch_module("Softmax", -1), X3),
    ("LogSoftmax", lambda: nn.LogSoftmax(dim=1), torch_module("LogSoftmax", dim=1), X3),
    ("SwiGLU", lambda: nn.SwiGLU(4, 8), lambda: TorchSwiGLU(4, 8), X3),
    ("SwiGLU_bias", lambda: nn.SwiGLU(4, 6, bias=True), lambda: TorchSwiGLU(4, 6, bias=True),
     X),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("make, make_torch, x",
                         [pytest.param(*c[1:], id=c[0]) for c in MODULES])
def test_module_against_torch(make, make_torch, x, dtype):
    check_module(make(), make_torch(), x, dtype=dtype)


@pytest.mark.parametrize("module, torch_module", [
    (nn.ReLU(), torch and torch.nn.ReLU()),
    (nn.ReLU(inplace=True), torch and torch.nn.ReLU(inplace=True)),
    (nn.LeakyReLU(), torch and torch.nn.LeakyReLU()),
    (nn.LeakyReLU(0.2, inplace=True), torch and torch.nn.LeakyReLU(0.2, inplace=True)),
    (nn.PReLU(), torch and torch.nn.PReLU()),
    (nn.PReLU(3, 0.1), torch and torch.nn.PReLU(3, 0.1)),
    (nn.ELU(), torch and torch.nn.ELU()),
    (nn.ELU(0.5, True), torch and torch.nn.ELU(0.5, True)),
    (nn.GELU(), torch and torch.nn.GELU()),
    (nn.GELU("tanh"), torch and torch.nn.GELU("tanh")),
    (nn.SiLU(), torch and torch.nn.SiLU()),
    (nn.Softplus(), torch and torch.nn.Softplus()),
    (nn.Softplus(2, 5), torch and torch.nn.Softplus(2, 5)),
    (nn.Softsign(), torch and torch.nn.Softsign()),
    (nn.Hardtanh(), torch and torch.nn.Hardtanh()),
    (nn.Hardtanh(-2.0, 3.0, True), torch and torch.nn.Hardtanh(-2.0, 3.0, True)),
    (nn.Softmax(), torch and torch.nn.Softmax()),
    (nn.Softmax(1), torch and torch.nn.Softmax(1)),
    (nn.LogSoftmax(-1), torch and torch.nn.LogSoftmax(-1)),
    (nn.Sigmoid(), torch and torch.nn.Sigmoid()),
    (nn.Tanh(), torch and torch.nn.Tanh()),
], ids=repr)
def test_repr_like_torch(module, torch_module):
    assert repr(module) == repr(torch_module)


def test_own_reprs_and_parameters():
    assert repr(nn.Swish(1.5)) == "Swish(beta=1.5, learnable=False)"
    assert repr(nn.Arctan()) == "Arctan()"
    assert repr(nn.SwiGLU(4, 8)) == (
        "SwiGLU(\n"
        "  (w1): Linear(in_features=4, out_features=8, bias=False)\n"
        "  (w2): Linear(in_features=8, out_features=4, bias=False)\n"
        "  (w3): Linear(in_features=4, out_features=8, bias=False)\n)")
    assert [n for n, _ in nn.Swish(learnable=True).named_parameters()] == ["beta"]
    assert list(nn.Swish().parameters()) == []
    assert [(n, p.shape) for n, p in nn.PReLU(3).named_parameters()] == [("weight", (3,))]
    assert list(nn.SwiGLU(4, 8, bias=True).state_dict()) == [
        "w1.weight", "w1.bias", "w2.weight", "w2.bias", "w3.weight", "w3.bias"]


@pytest.mark.parametrize("name, args", [("ReLU", ()), ("LeakyReLU", (0.2,)), ("ELU", (0.5,)),
                                        ("SiLU", ()), ("Hardtanh", (-0.5, 0.5))])
def test_inplace_activation_overwrites_its_input_as_torch(name, args):
    x, tx = nnlab.tensor(KINKS, requires_grad=True), torch.tensor(KINKS, requires_grad=True)
    h, th = x * 2, tx * 2
    y = getattr(nn, name)(*args, inplace=True)(h)
    ty = getattr(torch.nn, name)(*args, inplace=True)(th)
    assert y is h and h._version == 1
    np.testing.assert_allclose(h.detach().numpy(), th.detach().numpy(), rtol=1e-12)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_learnable_swish_beta_is_trained():
    m = nn.Swish(1.0, learnable=True)
    m(nnlab.tensor(X)).sum().backward()
    expected = (X * X * (s := 1 / (1 + np.exp(-X))) * (1 - s)).sum()  # d/dbeta at beta = 1
    assert m.beta.grad.item() == pytest.approx(expected, rel=1e-5)


# -- errors -------------------------------------------------------------------------------
@pytest.mark.parametrize("make, error, message", [
    (lambda: F.gelu(nnlab.ones(3), approximate="exact"), ValueError,
     r"gelu: approximate must be 'none' or 'tanh', got 'exact'"),
    (lambda: nn.GELU("erf"), ValueError, r"GELU: approximate must be 'none' or 'tanh'"),
    (lambda: F.hardtanh(nnlab.ones(3), 1.0, -1.0), ValueError,
     r"hardtanh: min_val \(1.0\) cannot be greater than max_val \(-1.0\)"),
    (lambda: nn.Hardtanh(2.0, 1.0), ValueError, r"Hardtanh: min_val \(2.0\) cannot be"),
    (lambda: F.prelu(nnlab.ones(3, 5), nnlab.ones(3)), ValueError,
     r"prelu: weight of shape \(3,\) does not match input of shape \(3, 5\): expected 1 "
     r"parameter or 5"),
    (lambda: nn.PReLU(4)(nnlab.ones(2, 3)), ValueError, r"prelu: weight of shape \(4,\)"),
    (lambda: F.softmax(nnlab.ones(2, 3), dim=2), IndexError,
     r"softmax: dim 2 is out of range for a tensor of 2 dimensions"),
    (lambda: F.log_softmax(nnlab.ones(2, 3), dim=-3), IndexError,
     r"log_softmax: dim -3 is out of range"),
])
def test_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()
