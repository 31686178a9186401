"""Activation functions with PyTorch's names, arguments and gradients (including the value
of the gradient at kinks: relu'(0) = 0, leaky_relu'(0) = negative_slope, hardtanh' = 0 at
its bounds).

Each is a composition of ops, so its gradient is itself differentiable.
"""
import math

from ...autograd.tensor import Tensor
from ...backend import get_default_dtype
from ...ops import elementwise, reshape
from ...ops.elementwise import erf, exp, log, log1p, where

_SQRT_HALF = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _floating(x):
    """An integer tensor as the default float dtype (activations are float maps)."""
    return x if x.dtype.kind == "f" else x.to(get_default_dtype())


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


def _softmax_dim(op, dim, ndim):
    """The dim to normalise over; None is torch's legacy implicit choice (0 for 0-, 1- and
    3-d inputs, else 1)."""
    if dim is None:
        return 0 if ndim in (0, 1, 3) else 1
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor of {ndim} "
                         f"dimensions")
    return dim


def _prepare(input, dtype):
    if not isinstance(input, Tensor):
        input = Tensor(input)
    return input.to(dtype) if dtype is not None else _floating(input)


def _shifted(input, dim):
    """x - max(x) over dim: softmax is shift-invariant, so the max is held constant (no
    gradient flows through it) and e^(x - max) never overflows."""
    return input - input.detach().amax(dim, keepdim=True)


def softmax(input, dim=None, *, dtype=None):
    """e^(x_i - m) / sum_j e^(x_j - m) over `dim` (m the max, so large x never overflows)."""
    input = _prepare(input, dtype)
    dim = _softmax_dim("softmax", dim, input.ndim)
    e = exp(_shifted(input, dim))
    return e / e.sum(dim, keepdim=True)


def log_softmax(input, dim=None, *, dtype=None):
    """(x_i - m) - log sum_j e^(x_j - m) over `dim`, m the max (accurate for large x)."""
    input = _prepare(input, dtype)
    dim = _softmax_dim("log_softmax", dim, input.ndim)
    shifted = _shifted(input, dim)
    return shifted - log(exp(shifted).sum(dim, keepdim=True))
