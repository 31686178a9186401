"""Weight initialisation, in place, with PyTorch's names, formulas and defaults.

fan_in / fan_out of a weight (out, in, *kernel) are in * prod(kernel) and out * prod(kernel).
Xavier keeps Var(activations) and Var(gradients) balanced for linear / tanh units:
    Var(W) = gain^2 * 2 / (fan_in + fan_out)
He (Kaiming) keeps the forward variance of ReLU nets constant with depth:
    Var(W) = gain^2 / fan,   gain = sqrt(2) for ReLU
A uniform U(-a, a) has variance a^2 / 3, so a = sqrt(3 Var).
"""
import math

import numpy as np

from .. import backend
from ..autograd import grad_mode


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (PyTorch's table)."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"calculate_gain: negative_slope {slope!r} is not a number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor):
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor of at least 2 dimensions, got "
                         f"shape {tensor.shape}")
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} is not supported: expected 'fan_in' or 'fan_out'")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor, array):
    """Write `array` into the tensor's memory without recording a graph."""
    if tensor.numel() == 0:
        return tensor
    with grad_mode.no_grad():
        xp = backend.get_array_module(tensor._data)
        tensor._data[...] = xp.asarray(array, dtype=tensor.dtype)
        tensor._version_counter[0] += 1
    return tensor


def _draw(kind, shape, a, b):
    gen = backend.generator()
    if kind == "uniform":
        return gen.uniform(a, b, shape)
    return gen.normal(a, b, shape)


def uniform_(tensor, a=0.0, b=1.0):
    return _fill(tensor, _draw("uniform", tensor.shape, a, b))


def normal_(tensor, mean=0.0, std=1.0):
    return _fill(tensor, _draw("normal", tensor.shape, mean, std))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0):
    """Normal draws redrawn until they fall in [a, b]."""
    values = _draw("normal", tensor.shape, mean, std)
    bad = (values < a) | (values > b)
    while bad.any():
        values[bad] = _draw("normal", int(bad.sum()), mean, std)
        bad = (values < a) | (values > b)
    return _fill(tensor, values)


def constant_(tensor, val):
    return _fill(tensor, np.full(tensor.shape, val))


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def eye_(tensor):
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, got shape {tensor.shape}")
    return _fill(tensor, np.eye(*tensor.shape))


def orthogonal_(tensor, gain=1.0):
    """A (semi-)orthogonal matrix from the QR decomposition of a normal draw, as PyTorch."""
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: need at least 2 dimensions, got shape {tensor.shape}")
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = _draw("normal", (rows, cols), 0.0, 1.0)
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))


def xavier_uniform_(tensor, gain=1.0):
    if tensor.numel() == 0:   # nothing to draw, as torch
        return tensor
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -a, a)


def xavier_normal_(tensor, gain=1.0):
    if tensor.numel() == 0:   # nothing to draw, as torch
        return tensor
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    if tensor.numel() == 0:   # nothing to draw, as torch
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    if tensor.numel() == 0:   # nothing to draw, as torch
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std)
