"""Sliding windows: `Im2col` lays every window of a (N, C, *spatial) input side by side,
`Col2im` sums windows back onto the input; each is the other's adjoint (and backward).

For a kernel k, stride s, padding (lo, hi) and dilation d along a spatial axis of size n,

    out = floor((n + lo + hi - d (k - 1) - 1) / s) + 1
    cols[b, c, i.., o..] = x_padded[b, c, o s + i d ..]        (one entry per kernel offset i)

so cols has shape (N, C, *kernel, *out): a convolution is one GEMM of the weight
(C_out, C k_h k_w) with cols viewed as (N, C k_h k_w, L), and a pooling a reduction over
the kernel axes. `Im2col` is one strided view copied once; `Col2im`, its adjoint, adds
each kernel offset's slab into a zero buffer, a handful of strided adds (k_h k_w of them)
and never a scatter per element.
"""
import itertools

from ..autograd.function import Function
from ..backend import get_array_module
from ..parallel import ufunc


def conv_output_size(size, kernel_size, stride=1, padding=(0, 0), dilation=1):
    """floor((n + lo + hi - d (k - 1) - 1) / s) + 1 for one spatial axis."""
    lo, hi = padding
    return (size + lo + hi - dilation * (kernel_size - 1) - 1) // stride + 1


def _padded(xp, x, padding, value):
    """x with its spatial axes padded by (lo, hi) pairs, filled with `value`."""
    if not any(lo or hi for lo, hi in padding):
        return x
    shape = x.shape[:2] + tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], padding))
    out = xp.full(shape, value, dtype=x.dtype)
    out[_interior(x.shape[2:], padding)] = x
    return out


def _interior(spatial, padding):
    """The index of the unpadded input inside the padded one."""
    return (slice(None), slice(None)) + tuple(slice(lo, lo + n)
                                              for n, (lo, _) in zip(spatial, padding))


def _windows(xp, xpad, kernel_size, stride, dilation, out_size):
    """A (N, C, *kernel, *out) strided view of xpad: no copy."""
    strides = xpad.strides
    view_strides = strides[:2] + tuple(st * d for st, d in zip(strides[2:], dilation)) \
        + tuple(st * s for st, s in zip(strides[2:], stride))
    return xp.lib.stride_tricks.as_strided(
        xpad, xpad.shape[:2] + tuple(kernel_size) + tuple(out_size), view_strides)


def _batch_last(ndim, nk):
    """The axes of (N, C, *kernel, *out) in the order (C, *kernel, N, *out)."""
    return (1,) + tuple(range(2, 2 + nk)) + (0,) + tuple(range(2 + nk, ndim))


def im2col_array(x, kernel_size, stride, padding, dilation, pad_value=0.0, out_size=None,
                 batch_last=False):
    """(N, C, *spatial) -> cols (N, C, *kernel_size, *out_size), one strided copy; with
    batch_last the layout (C, *kernel_size, N, *out_size), whose (C k, N L) matrix is the
    right operand of a single GEMM."""
    xp = get_array_module(x)
    if out_size is None:
        out_size = tuple(conv_output_size(n, k, s, p, d) for n, k, s, p, d
                         in zip(x.shape[2:], kernel_size, stride, padding, dilation))
    view = _windows(xp, _padded(xp, x, padding, pad_value), kernel_size, stride, dilation,
                    out_size)
    if batch_last:
        view = view.transpose(_batch_last(view.ndim, len(kernel_size)))
    return xp.ascontiguousarray(view)


def col2im_array(cols, input_shape, kernel_size, stride, padding, dilation,
                 batch_last=False):
    """The adjoint of im2col_array: each kernel offset's slab of cols added into a zero
    (padded) input, the padding cropped away -> (N, C, *spatial)."""
    xp = get_array_module(cols)
    out_size = cols.shape[-len(kernel_size):]
    n, c = input_shape[:2]
    padded = tuple(m + lo + hi for m, (lo, hi) in zip(input_shape[2:], padding))
    xpad = xp.zeros(((c, n) if batch_last else (n, c)) + padded, dtype=cols.dtype)
    lead = (slice(None), slice(None))
    for offset in itertools.product(*(range(k) for k in kernel_size)):
        slab = tuple(slice(i * d, i * d + s * (o - 1) + 1, s) for i, d, s, o
                     in zip(offset, dilation, stride, out_size))
        window = xpad[lead + slab]
        ufunc(xp.add, window, cols[(slice(None),) + offset if batch_last else lead + offset],
              out=window)
    x = xpad[_interior(input_shape[2:], padding)]
    if batch_last:
        x = x.swapaxes(0, 1)
    return xp.ascontiguousarray(x)


class Im2col(Function):
    """x (N, C, *spatial) -> cols (N, C, *kernel_size, *out_size): every window of the
    input padded with `pad_value` (out_size: the window count, by default all that fit).
    dL/dx = Col2im(dL/dcols)."""

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, dilation, pad_value=0.0, out_size=None):
        ctx.args = (x.shape, kernel_size, stride, padding, dilation)
        return im2col_array(x, kernel_size, stride, padding, dilation, pad_value, out_size)

    @staticmethod
    def backward(ctx, gcols):
        return Col2im.apply(gcols, *ctx.args)


class Col2im(Function):
    """cols (N, C, *kernel_size, *out_size) -> x (input_shape): each window added back
    where Im2col took it, the padding cropped away. dL/dcols = Im2col(dL/dx)."""

    @staticmethod
    def forward(ctx, cols, input_shape, kernel_size, stride, padding, dilation):
        out_size = cols.shape[2 + len(kernel_size):]
        ctx.args = (kernel_size, stride, padding, dilation, 0.0, out_size)
        return col2im_array(cols, input_shape, kernel_size, stride, padding, dilation)

    @staticmethod
    def backward(ctx, gx):
        return Im2col.apply(gx, *ctx.args)


def _tuple(value, n, name, op):
    """An int or a sequence of n ints as a tuple of n ints."""
    t = (value,) * n if isinstance(value, int) else tuple(value)
    if len(t) != n or not all(isinstance(v, int) for v in t):
        raise ValueError(f"{op}: {name} must be an int or {n} ints, got {value!r}")
    return tuple(int(v) for v in t)


def window_args(op, shape, kernel_size, stride, padding, dilation, nd, ceil_mode=False):
    """Canonical (kernel, stride, (lo, hi) pairs, dilation) for an nd-spatial window op, and
    the output size, for an input of `shape` (N, C, *spatial); errors name `op`, the shape
    and the arithmetic that failed.
    ceil_mode widens the high padding so the last partial window counts (as torch's
    pooling: a window must start inside the input or its low padding)."""
    spatial = tuple(shape[2:])
    kernel = _tuple(kernel_size, nd, "kernel_size", op)
    stride = kernel if stride is None or stride == () else _tuple(stride, nd, "stride", op)
    dilation = _tuple(dilation, nd, "dilation", op)
    pads = _tuple(padding, nd, "padding", op) if isinstance(padding, int) or \
        isinstance(padding[0], int) else None
    pairs = tuple((p, p) for p in pads) if pads is not None else tuple(padding)
    if min(kernel) < 1 or min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"{op}: kernel_size {kernel}, stride {stride} and dilation "
                         f"{dilation} must be positive")
    out, hi_extra = [], []
    for n, k, s, (lo, hi), d in zip(spatial, kernel, stride, pairs, dilation):
        span = n + lo + hi - d * (k - 1) - 1
        if span < 0:
            raise ValueError(
                f"{op}: input of shape {tuple(shape)} is too small for the kernel: "
                f"spatial size {n} + padding {lo + hi} < dilation {d} * (kernel_size {k} - 1)"
                f" + 1 = {d * (k - 1) + 1}, so the output size "
                f"floor(({n} + {lo + hi} - {d * (k - 1)} - 1) / {s}) + 1 is not positive")
        size = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (size - 1) * s >= n + lo:  # the last window starts in the padding
            size -= 1
        out.append(size)
        hi_extra.append(max((size - 1) * s + d * (k - 1) + 1 - (n + lo + hi), 0))
    pairs = tuple((lo, hi + e) for (lo, hi), e in zip(pairs, hi_extra))
    return kernel, stride, pairs, dilation, tuple(out)


def im2col(input, kernel_size, stride, padding, dilation, pad_value=0.0):
    """(N, C, *spatial) -> (N, C, *kernel_size, *out_size), arguments as tuples (padding as
    (lo, hi) pairs per spatial axis)."""
    return Im2col.apply(input, kernel_size, stride, padding, dilation, pad_value)


def col2im(cols, input_shape, kernel_size, stride, padding, dilation):
    """The adjoint of im2col: windows summed back onto a tensor of `input_shape`."""
    return Col2im.apply(cols, tuple(input_shape), kernel_size, stride, padding, dilation)


