"""`interpolate`: (N, C, *spatial) resampled to a new spatial size, as torch's.

The output size is `size`, or floor(n * scale_factor) along each axis. Output index j of
an axis of input size n reads the input at

    nearest                    i = min(floor(j * r), n - 1)           (in float32, as torch)
                               (j, or floor(j / 2), where out = n or 2n, for 4-D inputs)
    linear, align_corners      x = j (n - 1) / (out - 1)              (0 when out = 1)
    linear, otherwise          x = max(r (j + 1/2) - 1/2, 0)
    area                       the mean of x[floor(j n / out) : ceil((j + 1) n / out)]

where r = 1 / scale_factor when a scale factor is given (and recompute_scale_factor is not
set), else n / out. A linear mode mixes the neighbours i0 = floor(x) and i0 + 1 (clamped to
n - 1) with weights 1 - (x - i0) and x - i0, along each spatial axis in turn: 'linear' for
(N, C, L), 'bilinear' for (N, C, H, W), 'trilinear' for (N, C, D, H, W).

Each axis is a `Take` (ops.index) of slices along it (two for the linear modes, mixed by constant
weights); its adjoint `SumRuns` adds each input slice's run of output slices (the indices
never decrease) a slab at a time, with no scatter and no transposed copy. Each is the
other's backward, so interpolate is differentiable to any order.
"""
import math
import numbers

import numpy as np

from ...autograd.tensor import Tensor
from ...backend import get_array_module
from ...ops.convert import clone
from ...ops.index import Take
from .pooling import _adaptive_avg

_LINEAR = {"linear": 1, "bilinear": 2, "trilinear": 3}
_MODES = ("nearest", "area") + tuple(_LINEAR)


def _per_axis(value, nd, name, kind, op, shape):
    """An int / float or a sequence of nd of them as a tuple of nd."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * nd
    if len(values) != nd or not all(isinstance(v, kind) and not isinstance(v, bool)
                                    for v in values):
        raise ValueError(f"{op}: {name} must be one number or {nd} (one per spatial axis of "
                         f"the input of shape {shape}), got {value!r}")
    return values


def _sizes_and_scales(input, size, scale_factor, recompute_scale_factor, op):
    """The output size per axis, and the scale factors the index arithmetic uses (None:
    derived from the sizes)."""
    shape, nd = tuple(input.shape), input.ndim - 2
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: give exactly one of size and scale_factor")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError(f"{op}: recompute_scale_factor is not meaningful with an "
                             "explicit size")
        sizes = tuple(int(n) for n in _per_axis(size, nd, "size", numbers.Integral, op, shape))
        scales = None
    else:
        scales = tuple(float(s) for s in
                       _per_axis(scale_factor, nd, "scale_factor", numbers.Real, op, shape))
        sizes = tuple(math.floor(n * s) for n, s in zip(input.shape[2:], scales))
        if recompute_scale_factor:
            scales = None
    if min(sizes) < 1 or min(input.shape[2:]) < 1:
        raise ValueError(f"{op}: input and output sizes must be positive, got input of shape "
                         f"{shape} and output size {sizes}")
    return sizes, scales or (None,) * nd


def _nearest_index(n, out, scale, exact_doubling):
    """min(floor(j r), n - 1) in float32 (r = 1 / scale, or n / out), as torch's kernel;
    with exact_doubling (torch's 2-D kernel) j when out = n and j // 2 when out = 2n,
    whatever the scale factor."""
    if exact_doubling and out in (n, 2 * n):
        return np.arange(out) // (out // n)
    r = np.float32(1.0 / scale) if scale else np.float32(n) / np.float32(out)
    j = np.arange(out, dtype=np.float32)
    return np.minimum(np.floor(j * r).astype(np.int64), n - 1)


def _linear_weights(n, out, scale, align_corners, dtype):
    """The neighbours i0, i1 (out,) and the weight of i1 (out,) for each output index, in the
    input's precision as torch's kernel."""
    t = np.dtype(dtype).type
    j = np.arange(out, dtype=dtype)
    if align_corners:
        x = j * (t(n - 1) / t(out - 1) if out > 1 else t(0))
    else:
        r = t(1.0 / scale) if scale else t(n) / t(out)
        x = np.maximum(r * (j + t(0.5)) - t(0.5), t(0))
    i0 = np.minimum(np.floor(x).astype(np.int64), n - 1)
    i1 = i0 + (i0 < n - 1)
    return i0, i1, np.clip(x - i0, 0, 1).astype(dtype)


def _select(x, dim, index):
    """x's slices `index` along dim (x itself when index is 0, 1, ..., n - 1)."""
    if index.size == x.shape[dim] and (index == np.arange(index.size)).all():
        return x
    return Take.apply(x, dim, index)


def _resample(x, dim, out, scale, mode, align_corners):
    """One spatial axis `dim` of x resampled to size out."""
    n = x.shape[dim]
    if mode == "nearest":
        return _select(x, dim, _nearest_index(n, out, scale, x.ndim == 4))
    i0, i1, w1 = _linear_weights(n, out, scale, align_corners, x.dtype)
    near = _select(x, dim, i0)
    if not w1.any():
        return near
    xp = get_array_module(x._data)
    w0, w1 = (Tensor._make(xp.asarray(w.reshape((out,) + (1,) * (x.ndim - dim - 1))))
              for w in (1 - w1, w1))
    return near * w0 + _select(x, dim, i1) * w1


def _interpolate(input, size, scale_factor, mode, align_corners, recompute_scale_factor,
                 antialias, op):
    shape, nd = tuple(input.shape), input.ndim - 2
    if mode not in _MODES:
        raise ValueError(f"{op}: unknown mode {mode!r} (expected one of {', '.join(_MODES)})")
    if antialias:
        raise ValueError(f"{op}: antialias=True is not supported")
    if mode in _LINEAR:
        align_corners = bool(align_corners)
        if nd != _LINEAR[mode]:
            raise ValueError(f"{op}: mode {mode!r} needs a {_LINEAR[mode] + 2}-D input (N, C, "
                             f"followed by {_LINEAR[mode]} spatial axes), got shape {shape}")
    else:
        if align_corners is not None:
            raise ValueError(f"{op}: align_corners can only be set with the linear modes "
                             f"(linear, bilinear, trilinear), not with mode {mode!r}")
        if nd not in (1, 2, 3):
            raise ValueError(f"{op}: mode {mode!r} needs a 3-D, 4-D or 5-D input (N, C, "
                             f"followed by 1 to 3 spatial axes), got shape {shape}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got {input.dtype}")
    sizes, scales = _sizes_and_scales(input, size, scale_factor, recompute_scale_factor, op)
    if mode == "area":
        return _adaptive_avg(input, sizes)
    y = input
    for a, (out, scale) in enumerate(zip(sizes, scales)):
        y = _resample(y, 2 + a, out, scale, mode, align_corners)
    return clone(y) if y is input else y


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """(N, C, *spatial) -> (N, C, *size), or floor(n * scale_factor) per axis, by 'nearest',
    'linear' (3-D input), 'bilinear' (4-D), 'trilinear' (5-D) or 'area' (adaptive average
    pooling) sampling, torch's index arithmetic (see the module docstring). align_corners
    (linear modes only, default False) maps the corner pixels' centres onto each other."""
    return _interpolate(input, size, scale_factor, mode, align_corners, recompute_scale_factor,
                        antialias, "interpolate")
