"""Activation functions with PyTorch's names, arguments and gradients (including the value
of the gradient at kinks: relu'(0) = 0, leaky_relu'(0) = negative_slope, hardtanh' = 0 at
its bounds, hardswish'(-3) = 0 and hardswish'(3) = 1, hardsigmoid' = 0 at +-3, relu6' = 0
at 0 and 6, threshold' = 0 at the threshold).

Each is a composition of ops, so its gradient is itself differentiable. `softmax` and
`log_softmax` are the ops floor's (ops/softmax.py). `rrelu` (in training) and
`gumbel_softmax` draw from `nnlab.backend.generator()`.
"""
import math

import numpy as np

from ... import backend
from ...autograd.tensor import Tensor
from ...ops import elementwise, reshape
from ...ops.elementwise import erf, exp, log1p, where
from ...ops.softmax import log_softmax as _log_softmax
from ...ops.softmax import softmax as _softmax

_SQRT_HALF = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _maybe_in_place(input, inplace, op, fn):
    """fn(input), written into input's memory with `inplace=True` (torch's rule: input's
    history becomes the op's node; a leaf that requires grad is refused)."""
    return input._inplace(op, fn) if inplace else fn(input)


def relu(input, inplace=False):
    """max(x, 0)."""
    return input.relu_() if inplace else elementwise.relu(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x where x > 0, else negative_slope * x."""
    return _maybe_in_place(input, inplace, "leaky_relu_",
                           lambda x: where(x > 0, x, x * negative_slope))


def prelu(input, weight):
    """x where x > 0, else a * x, with `weight` a of shape (1,) or (C,) for C = input's
    dim 1 (the channel dim, as torch; an input of fewer than 2 dims has one channel)."""
    n = weight.numel()
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.ndim > 1 or n not in (1, channels):
        raise ValueError(f"prelu: weight of shape {tuple(weight.shape)} does not match input "
                         f"of shape {tuple(input.shape)}: expected 1 parameter or {channels} "
                         "(the size of dim 1, the channels)")
    if n > 1:
        weight = reshape(weight, (n,) + (1,) * (input.ndim - 2))  # (C, 1, ..., 1): along dim 1
    elif weight.ndim and input.ndim == 0:
        weight = reshape(weight, ())  # a 0-d input stays 0-d
    return where(input > 0, input, input * weight)


def elu(input, alpha=1.0, inplace=False):
    """x where x > 0, else alpha (e^x - 1)."""
    return _maybe_in_place(input, inplace, "elu_", lambda x: _elu(x, alpha))


def _elu(input, alpha):
    positive = input > 0
    negative_part = where(positive, 0.0, input)  # e^x never overflows on the unused side
    return where(positive, input, (exp(negative_part) - 1) * alpha)


def gelu(input, approximate="none"):
    """x Phi(x) = x/2 (1 + erf(x / sqrt 2)); approximate='tanh':
    x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    if approximate == "none":
        return input * 0.5 * (erf(input * _SQRT_HALF) + 1)
    if approximate == "tanh":
        inner = (input + input * input * input * 0.044715) * _SQRT_2_OVER_PI
        return input * 0.5 * (elementwise.tanh(inner) + 1)
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(input, inplace=False):
    """x sigmoid(x) (swish with beta = 1)."""
    return _maybe_in_place(input, inplace, "silu_", lambda x: x * elementwise.sigmoid(x))


def swish(input, beta=1.0):
    """x sigmoid(beta x); beta a float or a Tensor (learnable, broadcast against x)."""
    return input * elementwise.sigmoid(input * beta)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + e^(beta x)) / beta, and x itself where beta x > threshold (as torch)."""
    scaled = input * beta
    linear = scaled > threshold
    safe = where(linear, 0.0, scaled)  # e^(beta x) unused where linear: keep it finite
    return where(linear, input, log1p(exp(safe)) / beta)


def softsign(input):
    """x / (1 + |x|)."""
    return input / (elementwise.abs(input) + 1)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """clamp(x, min_val, max_val), with gradient 1 strictly inside and 0 at the bounds."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val "
                         f"({max_val})")
    return _maybe_in_place(input, inplace, "hardtanh_",
                           lambda x: where((x > min_val) & (x < max_val), x,
                                           elementwise.clamp(x.detach(), min_val, max_val)))


def sigmoid(input):
    """1 / (1 + e^-x)."""
    return elementwise.sigmoid(input)


def tanh(input):
    """(e^x - e^-x) / (e^x + e^-x)."""
    return elementwise.tanh(input)


def arctan(input):
    """atan(x), a bounded activation with range (-pi/2, pi/2)."""
    return elementwise.atan(input)


def softmax(input, dim=None, *, dtype=None):
    """e^(x_i - m) / sum_j e^(x_j - m) over `dim` (m the max, so large x never overflows);
    dim=None is torch's legacy implicit choice (0 for 0-, 1- and 3-d inputs, else 1)."""
    return _softmax(input, dim, dtype)


def log_softmax(input, dim=None, *, dtype=None):
    """(x_i - m) - log sum_j e^(x_j - m) over `dim`, m the max (accurate for large x)."""
    return _log_softmax(input, dim, dtype)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def mish(input, inplace=False):
    """x tanh(softplus(x))."""
    return _maybe_in_place(input, inplace, "mish_",
                           lambda x: x * elementwise.tanh(softplus(x)))


def hardswish(input, inplace=False):
    """x relu6(x + 3) / 6: 0 for x <= -3, x (x + 3) / 6 between, x for x >= 3."""
    return _maybe_in_place(input, inplace, "hardswish_",
                           lambda x: where(x <= -3, 0.0,
                                           where(x < 3, x * (x + 3) / 6, x)))


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6: 0 for x <= -3, 1 for x >= 3, x / 6 + 1/2 between."""
    return _maybe_in_place(input, inplace, "hardsigmoid_",
                           lambda x: where((x > -3) & (x < 3), x / 6 + 0.5,
                                           where(x >= 3, 1.0, 0.0).to(x.dtype)))


def relu6(input, inplace=False):
    """min(max(x, 0), 6) (hardtanh(x, 0, 6))."""
    return hardtanh(input, 0.0, 6.0, inplace)


def selu(input, inplace=False):
    """scale (max(0, x) + min(0, alpha (e^x - 1))), alpha = 1.6733, scale = 1.0507."""
    return _maybe_in_place(input, inplace, "selu_",
                           lambda x: _elu(x, _SELU_ALPHA) * _SELU_SCALE)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha (e^(x / alpha) - 1))."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x)")

    def fn(x):
        positive = x > 0
        negative_part = where(positive, 0.0, x)  # e^(x/alpha) finite on the unused side
        return where(positive, x, (exp(negative_part / alpha) - 1) * alpha)
    return _maybe_in_place(input, inplace, "celu_", fn)


def logsigmoid(input):
    """log(1 / (1 + e^-x)) = -softplus(-x), computed without overflow for any x."""
    negative = input < 0
    below = where(negative, input, 0.0)   # x where x < 0: x - log(1 + e^x)
    above = where(negative, 0.0, input)   # x where x >= 0: -log(1 + e^-x)
    return where(negative, below - log1p(exp(below)), -log1p(exp(-above)))


def glu(input, dim=-1):
    """a * sigmoid(b), where a and b are the two halves of input along `dim`."""
    if input.ndim == 0:
        raise RuntimeError("glu: does not support scalars because halving size must be even")
    if not -input.ndim <= dim < input.ndim:
        raise IndexError(f"glu: dim {dim} is out of range for a tensor of {input.ndim} "
                         "dimensions")
    size = input.shape[dim]
    if size % 2:
        raise RuntimeError(f"glu: Halving dimension must be even, but dimension "
                           f"{dim % input.ndim} is size {size}")
    a, b = input.split(size // 2, dim)
    return a * elementwise.sigmoid(b)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) over `dim`: e^-x_i / sum_j e^-x_j."""
    if dtype is not None:
        input = input.to(dtype)
    return softmax(-input, dim)


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else `value`."""
    return _maybe_in_place(input, inplace, "threshold_",
                           lambda x: where(x > threshold, x, value))


def tanhshrink(input):
    """x - tanh(x)."""
    return input - elementwise.tanh(input)


def _check_lambd(op, lambd):
    if lambd < 0:
        raise ValueError(f"{op}: lambd must be greater or equal to 0, but got {lambd}")


def softshrink(input, lambd=0.5):
    """x - lambd where x > lambd, x + lambd where x < -lambd, 0 between."""
    _check_lambd("softshrink", lambd)
    return where(input > lambd, input - lambd, where(input < -lambd, input + lambd, 0.0))


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0."""
    _check_lambd("hardshrink", lambd)
    return where((input >= -lambd) & (input <= lambd), 0.0, input)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU: x for x > 0, else a x with a ~ U(lower, upper) drawn per
    element in training; in eval a = (lower + upper) / 2 (leaky_relu with the mean slope)."""
    if lower > upper:
        raise ValueError(f"rrelu: lower bound ({lower}) must be at most upper bound ({upper})")
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    xp = backend.get_array_module(input._data)
    slopes = backend.generator().uniform(lower, upper, tuple(input.shape))
    slopes = Tensor(xp.asarray(slopes, dtype=input.dtype))
    return _maybe_in_place(input, inplace, "rrelu_", lambda x: where(x > 0, x, x * slopes))


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """softmax((logits + g) / tau) over `dim` with g ~ Gumbel(0, 1) (g = -log E, E ~
    Exp(1)); hard=True returns the one-hot of the argmax in the forward pass and the soft
    sample's gradient (straight-through: y_hard - sg(y_soft) + y_soft). `eps` is unused,
    as in torch."""
    xp = backend.get_array_module(logits._data)
    draws = backend.generator().standard_exponential(tuple(logits.shape))
    gumbels = Tensor(xp.asarray(-np.log(draws), dtype=logits.dtype))
    y_soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    d = dim % logits.ndim
    index = xp.argmax(y_soft._data, axis=d, keepdims=True)
    positions = xp.arange(logits.shape[d]).reshape((-1,) + (1,) * (logits.ndim - 1 - d))
    y_hard = Tensor((positions == index).astype(logits.dtype))
    return y_hard - y_soft.detach() + y_soft
