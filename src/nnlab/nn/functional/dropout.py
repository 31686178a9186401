"""Dropout as functions (PyTorch's `F.dropout`, `F.dropout1d`, `F.dropout2d`,
`F.dropout3d`): inverted dropout.

In training each element is kept with probability 1 - p and scaled by 1 / (1 - p), so that
E[dropout(x)] = x and nothing needs rescaling at inference, where dropout is the identity:

    y = x * m / (1 - p),   m_i ~ Bernoulli(1 - p)        dL/dx = gy * m / (1 - p)

The channel-wise forms keep or drop whole channels: for (N, C, *) the mask has shape
(N, C, 1, ...), one draw per sample and channel, broadcast over the positions *.

The mask is drawn from `nnlab.backend.generator()` (reseeded by `nnlab.manual_seed`).
"""
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


def _feature_dropout(input, p, training, inplace, op, layouts):
    """Channel-wise dropout; `layouts` maps each accepted number of dimensions to its layout,
    batched (N, C, *) with mask (N, C, 1, ...) or unbatched (C, *) with mask (C, 1, ...)."""
    _check_p(p, op)
    layout = layouts.get(input.ndim)
    if layout is None:
        expected = " or ".join(f"{n}D {lay}" for n, lay in layouts.items())
        raise RuntimeError(f"{op}: expected a {expected} input, got a {input.ndim}D input of "
                           f"shape {tuple(input.shape)}")
    lead = 2 if layout.startswith("(N,") else 1
    mask_shape = tuple(input.shape[:lead]) + (1,) * (input.ndim - lead)
    return _apply_mask(input, p, training, inplace, mask_shape, op)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) (or unbatched (C, L)) with probability p, scaling
    the rest by 1 / (1 - p), when `training`: mask (N, C, 1) or (C, 1). See `dropout`."""
    return _feature_dropout(input, p, training, inplace, "dropout1d",
                            {2: "(C, L)", 3: "(N, C, L)"})


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) with probability p, scaling the rest by
    1 / (1 - p), when `training`: mask (N, C, 1, 1). See `dropout`.

    A 3D input is read as torch 2.x reads it, as (N, C, L) with mask (N, C, 1), not as an
    unbatched (C, H, W) (torch warns that this will change); for one unbatched image use
    `dropout2d(x.unsqueeze(0)).squeeze(0)`."""
    return _feature_dropout(input, p, training, inplace, "dropout2d",
                            {3: "(N, C, L)", 4: "(N, C, H, W)"})


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) (or unbatched (C, D, H, W)) with probability
    p, scaling the rest by 1 / (1 - p), when `training`: mask (N, C, 1, 1, 1) or
    (C, 1, 1, 1). See `dropout`."""
    return _feature_dropout(input, p, training, inplace, "dropout3d",
                            {4: "(C, D, H, W)", 5: "(N, C, D, H, W)"})
