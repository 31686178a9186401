"""Dropout as functions (PyTorch's `F.dropout`, `F.dropout1d`, `F.dropout2d`,
`F.dropout3d`): inverted dropout.

In training each element is kept with probability 1 - p and scaled by 1 / (1 - p), so that
E[dropout(x)] = x and nothing needs rescaling at inference, where dropout is the identity:

    y = x * m / (1 - p),   m_i ~ Bernoulli(1 - p)        dL/dx = gy * m / (1 - p)

The channel-wise forms keep or drop whole channels: for (N, C, *) the mask has shape
(N, C, 1, ...), one draw per sample and channel, broadcast over the positions *.

The mask is drawn from `nnlab.backend.generator()` (reseeded by `nnlab.manual_seed`).
"""
import warnings

import numpy as np

from ... import backend
from ...autograd.fused import FusedFunction
from ...backend import get_array_module
from ...parallel import ufunc


class MaskedScale(FusedFunction):
    """y = x * mask for a constant mask (the dropout mask, already scaled): unlike Mul it
    keeps only the mask for backward."""

    twin = staticmethod(lambda x, mask: x * mask)

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


def _mask(input, p, shape=None):
    """The scaled keep-mask of `shape` (default the input's): 1 / (1 - p) with probability
    1 - p, else 0, in input's dtype."""
    xp = get_array_module(input._data)
    shape = tuple(input.shape) if shape is None else shape
    if p == 1:
        return xp.zeros(shape, dtype=input.dtype)
    keep = backend.generator().random(shape, dtype=np.float32) >= p
    mask = np.multiply(keep, input.dtype.type(1 / (1 - p)), dtype=input.dtype)
    return mask if xp is np else xp.asarray(mask)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1 / (1 - p) when
    `training`; the identity (the input itself) otherwise or when p = 0. With
    `inplace=True` the input's memory is overwritten (torch's in-place rule)."""
    _check_p(p, "dropout")
    return _apply_mask(input, p, training, inplace, None, "dropout")


def _apply_mask(input, p, training, inplace, mask_shape, op):
    """input * mask (a fresh mask of `mask_shape`, broadcast against the input) when
    training and p > 0, in place if asked and allowed; the input itself otherwise."""
    if not training or p == 0:
        return input
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point tensor, got {input.dtype}")
    mask = _mask(input, p, mask_shape)
    if inplace:
        return input._inplace(op + "_", lambda x: MaskedScale.apply(x, mask))
    return MaskedScale.apply(input, mask)


def _feature_dropout(input, p, training, inplace, op, lead):
    """Channel-wise dropout: one draw per index of the first `lead` dimensions, broadcast
    over the rest (mask input.shape[:lead] + (1, ...)). Like torch, an input of fewer than
    2 dimensions is refused only when a mask is drawn."""
    if not training or p == 0 or input.numel() == 0:
        return input
    if input.ndim < 2 and lead == 2 or input.ndim < 1:
        raise RuntimeError(f"{op}: feature dropout requires at least 2 dimensions in the "
                           f"input, got a {input.ndim}D input of shape {tuple(input.shape)}")
    lead = min(lead, input.ndim)
    mask_shape = tuple(input.shape[:lead]) + (1,) * (input.ndim - lead)
    return _apply_mask(input, p, training, inplace, mask_shape, op)


def _warn_unusual_rank(op, ndim, spatial):
    """Torch's deprecation warning (its text) for a dropout2d / dropout3d input of a rank it
    still accepts but will refuse."""
    warnings.warn(
        f"{op}: Received a {ndim}-D input to {op}, which is deprecated and will result in an "
        "error in a future release. To retain the behavior and silence this warning, please "
        f"use dropout instead. Note that {op} exists to provide channel-wise dropout on inputs "
        f"with {spatial} spatial dimensions, a channel dimension, and an optional batch "
        f"dimension (i.e. {spatial + 1}D or {spatial + 2}D inputs).", UserWarning, stacklevel=3)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) (or unbatched (C, L)) with probability p, scaling
    the rest by 1 / (1 - p), when `training`: mask (N, C, 1) or (C, 1). See `dropout`."""
    _check_p(p, "dropout1d")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: expected a 2D (C, L) or 3D (N, C, L) input, got a "
                           f"{input.ndim}D input of shape {tuple(input.shape)}")
    return _feature_dropout(input, p, training, inplace, "dropout1d", input.ndim - 1)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) with probability p, scaling the rest by
    1 / (1 - p), when `training`: mask (N, C, 1, 1). See `dropout`.

    Torch 2.x reads every input as batched, mask input.shape[:2] + (1, ...): a 3D input as
    (N, C, L) (for one unbatched image use `dropout2d(x.unsqueeze(0)).squeeze(0)`), and a
    2D (N, C) input, with a deprecation warning, as channels of no positions, so each
    element is dropped on its own (plain `dropout`). Other ranks (5D, ...) warn the same
    way and keep that reading."""
    _check_p(p, "dropout2d")
    if input.ndim not in (3, 4):
        _warn_unusual_rank("dropout2d", input.ndim, 2)
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            UserWarning, stacklevel=2)
    return _feature_dropout(input, p, training, inplace, "dropout2d", 2)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) (or unbatched (C, D, H, W)) with probability
    p, scaling the rest by 1 / (1 - p), when `training`: mask (N, C, 1, 1, 1) or
    (C, 1, 1, 1). See `dropout`.

    As torch 2.x, any other rank warns (deprecated) and is read as unbatched, its first
    dimension the channels: a 2D (C, L) input loses whole rows, mask (C, 1)."""
    _check_p(p, "dropout3d")
    if input.ndim not in (4, 5):
        _warn_unusual_rank("dropout3d", input.ndim, 3)
    return _feature_dropout(input, p, training, inplace, "dropout3d",
                            2 if input.ndim == 5 else 1)
