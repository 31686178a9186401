"""Dropout as a function (PyTorch's `F.dropout`): inverted dropout.

In training each element is kept with probability 1 - p and scaled by 1 / (1 - p), so that
E[dropout(x)] = x and nothing needs rescaling at inference, where dropout is the identity:

    y = x * m / (1 - p),   m_i ~ Bernoulli(1 - p)        dL/dx = gy * m / (1 - p)

The mask is drawn from `nnlab.backend.generator()` (reseeded by `nnlab.manual_seed`).
"""
import numpy as np

from ... import backend
from ...autograd import grad_mode
from ...autograd.function import Function
from ...autograd.tensor import Tensor
from ...backend import get_array_module, ufunc


class MaskedScale(Function):
    """y = x * mask for a constant mask (the dropout mask, already scaled)."""

    @staticmethod
    def forward(ctx, x, mask):
        ctx.save_for_backward(mask)
        return ufunc(get_array_module(x).multiply, x, mask)

    @staticmethod
    def backward(ctx, gy):
        mask, = ctx.saved_tensors
        return gy * mask  # dL/dx = gy * mask / (1 - p)


def _check_p(p, op):
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating, np.integer)) \
            or not 0 <= p <= 1:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got "
                         f"p={p!r}")


def _mask(input, p):
    """The scaled keep-mask: 1 / (1 - p) with probability 1 - p, else 0, in input's dtype."""
    xp = get_array_module(input.data)
    if p == 1:
        return xp.zeros(input.shape, dtype=input.dtype)
    keep = backend.generator().random(input.shape, dtype=np.float32) >= p
    mask = np.multiply(keep, input.dtype.type(1 / (1 - p)), dtype=input.dtype)
    return mask if xp is np else xp.asarray(mask)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1 / (1 - p) when
    `training`; the identity (the input itself) otherwise or when p = 0. With
    `inplace=True` the input's memory is overwritten, unless autograd records through
    the input, where the result is built out of place (nnlab's in-place ops cannot be
    part of a graph)."""
    _check_p(p, "dropout")
    if not training or p == 0:
        return input
    if input.dtype.kind != "f":
        raise TypeError(f"dropout: expected a floating point tensor, got {input.dtype}")
    mask = _mask(input, p)
    if inplace and not (grad_mode.is_grad_enabled() and input.requires_grad):
        return input.mul_(Tensor._make(mask))
    return MaskedScale.apply(input, mask)
