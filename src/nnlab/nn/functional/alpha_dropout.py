"""Alpha dropout (PyTorch's `F.alpha_dropout`, `F.feature_alpha_dropout`): dropout for
SELU networks that keeps a zero-mean, unit-variance input so.

A dropped element is set to SELU's negative saturation -alpha' (alpha' = 1.7581, which is
-scale * alpha of SELU) instead of 0, then an affine map a x + b restores the mean and
variance (torch's constants):

    a = 1 / sqrt((alpha'^2 p + 1)(1 - p)),   b = a alpha' p
    y = a (m x - alpha' (1 - m)) + b = (a m) x + a alpha' (m - 1 + p),   m ~ Bernoulli(1 - p)
    dL/dx = gy * a m

In eval (the default, training=False, as torch) it is the identity.
"""
import math

from ... import backend
from ...autograd.tensor import Tensor
from .dropout import _check_p

_ALPHA = 1.7580993408473766  # -(SELU's scale * alpha): the value SELU saturates to


def _alpha_dropout(input, p, training, inplace, mask_shape, op):
    _check_p(p, op)
    if p == 0 or not training or input.numel() == 0:
        return input
    if p == 1:
        return input.mul_(0) if inplace else input * 0
    xp = backend.get_array_module(input._data)
    keep = backend.generator().random(mask_shape) >= p
    a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
    scale = Tensor(xp.asarray(keep * a, dtype=input.dtype))
    shift = Tensor(xp.asarray((keep - 1.0) * (_ALPHA * a) + _ALPHA * a * p, dtype=input.dtype))
    if inplace:
        return input.mul_(scale).add_(shift)
    return input * scale + shift


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of each element independently (see the module docstring)."""
    return _alpha_dropout(input, p, training, inplace, tuple(input.shape), "alpha_dropout")


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels of (N, C, *): one draw per sample and channel."""
    if input.ndim < 2:
        raise ValueError(f"feature_alpha_dropout: expected an input of shape (N, C, *), got "
                         f"shape {tuple(input.shape)}")
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    return _alpha_dropout(input, p, training, inplace, shape, "feature_alpha_dropout")


