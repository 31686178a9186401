"""Pooling over the spatial axes of (N, C, *spatial) inputs, or unbatched (C, *spatial),
with PyTorch's names, arguments, defaults and outputs:

    max_pool     y[n, c, o] = max of x over the window of o (the padding counts as -inf);
                 return_indices: the flat index into each input plane (h W + w) of the
                 first maximum of each window (of its last NaN, where it holds NaNs)
    avg_pool     y[n, c, o] = (sum of x over the window of o) / divisor: the window's size
                 inside the padded input (count_include_pad), or inside the input, or
                 divisor_override
    adaptive     output o of an axis of size n pools x[floor(o n / out) : ceil((o + 1) n / out)]
    max_unpool   y.flat[indices] = x, zero elsewhere: max pooling's values put back

A kernel k, stride s, padding p and dilation d give floor((n + 2p - d (k - 1) - 1) / s) + 1
outputs along an axis of size n (ceil with ceil_mode, while the last window starts inside
the input or its left padding); p is at most k // 2, as torch.

Max pooling finds each window's maximum in array code (im2col windows, one max, k
comparisons) and gathers the input at it, so its gradient is a scatter to those indices;
average pooling sums im2col windows, and adaptive average pooling whose windows do not
tile the input multiplies each axis by an averaging matrix. All are compositions of ops
that are differentiable to any order.
"""
import math

import numpy as np

from ...autograd.tensor import Tensor
from ...backend import get_array_module
from ...ops.conv import _tuple, im2col, window_args
from ...ops.convert import clone
from ...ops.elementwise import where
from ...ops.index import Gather, index_put
from ...ops.shape import movedim, reshape, squeeze, unsqueeze

_SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}


# -- arguments and shapes --------------------------------------------------------------
def _batched(input, nd, op):
    """input as (N, C, *spatial) with nd spatial axes, and whether the batch axis was added."""
    if input.ndim == nd + 2:
        return input, False
    if input.ndim == nd + 1:
        return unsqueeze(input, 0), True
    axes = _SPATIAL[nd]
    raise ValueError(f"{op}: expected a {nd + 1}-D (C, {axes}) or {nd + 2}-D (N, C, {axes}) "
                     f"input, got shape {tuple(input.shape)}")


def _floating(input, op):
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got {input.dtype} (shape "
                        f"{tuple(input.shape)})")


def _check_padding(op, input, kernel_size, padding, nd):
    """torch's rule: 0 <= padding <= kernel_size // 2 along each axis."""
    kernel = _tuple(kernel_size, nd, "kernel_size", op)
    pads = _tuple(padding, nd, "padding", op)
    if any(p < 0 or p > k // 2 for p, k in zip(pads, kernel)):
        raise ValueError(f"{op}: padding {pads} must be between 0 and half the kernel_size "
                         f"{kernel} (kernel_size // 2) on each axis (input of shape "
                         f"{tuple(input.shape)})")


def _adaptive_size(output_size, spatial, op):
    """output_size (an int, or one int or None per axis: None keeps the input's size)."""
    nd = len(spatial)
    sizes = (output_size,) * nd if output_size is None or isinstance(output_size, int) \
        else tuple(output_size)
    if len(sizes) != nd or not all(o is None or isinstance(o, int) for o in sizes):
        raise ValueError(f"{op}: output_size must be an int or {nd} ints (None keeps the "
                         f"input's size), got {output_size!r}")
    sizes = tuple(n if o is None else int(o) for o, n in zip(sizes, spatial))
    if min(sizes) < 1 or min(spatial) < 1:
        raise ValueError(f"{op}: input of spatial size {tuple(spatial)} and output_size "
                         f"{sizes} must both be positive")
    return sizes


def _adaptive_windows(n, out):
    """(start, end) of each output's window: floor(o n / out), ceil((o + 1) n / out)."""
    o = np.arange(out)
    return o * n // out, -(-(o + 1) * n // out)


def _result(values, indices, return_indices, unbatched):
    if unbatched:
        values, indices = squeeze(values, 0), squeeze(indices, 0)
    return (values, indices) if return_indices else values


# -- max pooling -----------------------------------------------------------------------
def _first_argmax(cols):
    """The index along axis 2 of the first maximum of cols (N, C, K, L) (of the last NaN
    where a window holds NaNs, as torch's CPU kernel), and the maximum."""
    xp = get_array_module(cols)
    top = cols.max(axis=2)
    k = xp.zeros(top.shape, np.int64)
    missed = xp.ones(top.shape, bool)
    for i in range(cols.shape[2] - 1):   # k = the number of leading entries that miss the max
        missed &= cols[:, :, i] != top
        k += missed
    nan = xp.isnan(top)
    if nan.any():
        last_nan = cols.shape[2] - 1 - xp.isnan(cols[:, :, ::-1]).argmax(axis=2)
        k = xp.where(nan, last_nan, k)
    return k, top


def _max_over_windows(x, cols, positions):
    """The maximum of each window and its flat index into the input plane.

    x (N, C, *spatial); cols (N, C, K, *out), its windows (the padding -inf); positions,
    per spatial axis, the (k_a, out_a) input coordinates of the windows (outside [0, n) in
    the padding), K = prod k_a. Returns values (a Tensor gathered from x) and indices
    (an int64 array), both (N, C, *out)."""
    xp = get_array_module(x._data)
    (batch, channels), spatial = x.shape[:2], x.shape[2:]
    nd, out = len(spatial), tuple(p.shape[1] for p in positions)
    count, plane = math.prod(out), math.prod(spatial)
    # for each (k..., out...): the flat position, inside the input?, past the low padding?
    table, valid, past_low = 0, True, True
    for a, (p, n) in enumerate(zip(positions, spatial)):
        shape = [1] * (2 * nd)
        shape[a], shape[nd + a] = p.shape
        table = table + (p * math.prod(spatial[a + 1:])).reshape(shape)
        valid = valid & ((p >= 0) & (p < n)).reshape(shape)
        past_low = past_low & (p >= 0).reshape(shape)
    table, valid, past_low = (xp.asarray(t.reshape(-1, count)) for t in (table, valid, past_low))
    k, top = _first_argmax(cols.reshape(batch, channels, -1, count))
    column = xp.arange(count)
    if not valid.all() and xp.isneginf(top).any():
        # a window of -inf: torch's index is its first position past the low padding
        k = xp.where(valid[k, column], k, past_low.argmax(axis=0))
    flat = table[k, column]
    empty = ~valid.any(axis=0)  # windows wholly in the padding (with dilation): -inf, as torch
    gather_at = xp.clip(flat, 0, plane - 1) if empty.any() else flat
    values = Gather.apply(reshape(x, (batch, channels, plane)), 2, gather_at)
    if empty.any():
        values = where(Tensor._make(empty), -math.inf, values)
    shape = (batch, channels) + out
    return reshape(values, shape), flat.reshape(shape)


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, nd, op):
    _floating(input, op)
    x, unbatched = _batched(input, nd, op)
    _check_padding(op, x, kernel_size, padding, nd)
    kernel, stride, pads, dilation, out = window_args(op, x.shape, kernel_size, stride, padding,
                                                      dilation, nd, ceil_mode)
    cols = im2col(x.detach(), kernel, stride, pads, dilation, -math.inf)._data
    positions = [np.arange(k)[:, None] * d + np.arange(o) * s - lo
                 for k, s, (lo, _), d, o in zip(kernel, stride, pads, dilation, out)]
    values, indices = _max_over_windows(x, cols, positions)
    return _result(values, Tensor._make(indices), return_indices, unbatched)


def _max_pool_reference(input, kernel_size, stride=None, padding=0, dilation=1,
                        ceil_mode=False):
    """The composed twin of max pooling, (values, indices into each window's K entries):
    im2col with -inf padding, then max over the kernel axes (its gradient: to the arg-max).
    Slower; a test holds the two equal."""
    nd = input.ndim - 2
    kernel, stride, pads, dilation, out = window_args("max_pool", input.shape, kernel_size, stride,
                                                      padding, dilation, nd, ceil_mode)
    cols = im2col(input, kernel, stride, pads, dilation, -math.inf)  # (N, C, *kernel, *out)
    return reshape(cols, input.shape[:2] + (-1,) + out).max(dim=2)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over windows of (N, C, L) or (C, L) -> (N, C, L_out): L_out =
    floor((L + 2p - d (k - 1) - 1) / s) + 1 (ceil with ceil_mode); stride defaults to
    kernel_size; with return_indices also the int64 index of each maximum in L."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, 1, "max_pool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over windows of (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out), each axis as
    max_pool1d's; with return_indices also the int64 index h W + w of each maximum."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, 2, "max_pool2d")


# -- average pooling -------------------------------------------------------------------
def _avg_divisor(spatial, kernel, stride, padding, out, count_include_pad):
    """Each window's size (*out) inside the padded input (count_include_pad) or inside the
    input: the product over axes of [start, min(start + k, n + p)) clipped or not to [0, n)."""
    divisor = np.ones(())
    for n, k, s, p, o in zip(spatial, kernel, stride, padding, out):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        divisor = np.multiply.outer(divisor, end - start)
    return divisor


def _window_sums(x, kernel, stride, pads):
    """The sum of x (N, C, *spatial) over each window (N, C, *out): im2col, then a sum over
    its leading kernel axes (numpy sums a reshape's small inner axes far slower)."""
    nd = len(kernel)
    cols = im2col(x, kernel, stride, pads, (1,) * nd)  # (N, C, *kernel, *out)
    return cols.sum(dim=tuple(range(2, 2 + nd)))


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override, nd, op):
    _floating(input, op)
    x, unbatched = _batched(input, nd, op)
    _check_padding(op, x, kernel_size, padding, nd)
    if divisor_override is not None and divisor_override == 0:
        raise ValueError(f"{op}: divisor_override must not be zero")
    kernel, stride, pads, _, out = window_args(op, x.shape, kernel_size, stride, padding, 1, nd,
                                               ceil_mode)
    sums = _window_sums(x, kernel, stride, pads)
    if divisor_override is not None:
        y = sums / divisor_override
    else:
        divisor = _avg_divisor(x.shape[2:], kernel, stride, _tuple(padding, nd, "padding", op),
                               out, count_include_pad)
        if divisor.min() == divisor.max():
            y = sums / int(divisor.flat[0])
        else:
            xp = get_array_module(x._data)
            y = sums / Tensor._make(xp.asarray(divisor, dtype=x.dtype))
    return squeeze(y, 0) if unbatched else y


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over windows of (N, C, L) or (C, L) -> (N, C, L_out), L_out as max_pool1d's
    (no dilation). The divisor: the window's size inside the padded input
    (count_include_pad), or inside the input, or divisor_override (not in torch's 1-D form)."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 1, "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over windows of (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out), divisor as
    avg_pool1d's (the window's area)."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 2, "avg_pool2d")


# -- adaptive pooling ------------------------------------------------------------------
def _averaging_matrix(n, out, xp, dtype):
    """A (out, n) with A[o, start:end] = 1 / (end - start) over the adaptive windows."""
    start, end = _adaptive_windows(n, out)
    i = np.arange(n)
    a = ((i >= start[:, None]) & (i < end[:, None])) / (end - start)[:, None]
    return Tensor._make(xp.asarray(a, dtype=dtype))


def _adaptive_avg(x, out):
    """x (N, C, *spatial) averaged over the adaptive windows -> (N, C, *out)."""
    xp = get_array_module(x._data)
    spatial, nd = x.shape[2:], len(out)
    if tuple(out) == tuple(spatial):
        return clone(x)
    if all(o == 1 for o in out):
        return x.mean(dim=tuple(range(2, 2 + nd)), keepdim=True)
    if all(n % o == 0 for n, o in zip(spatial, out)):  # plain pooling, kernel = stride = n / o
        kernel = tuple(n // o for n, o in zip(spatial, out))
        return _window_sums(x, kernel, kernel, ((0, 0),) * nd) / math.prod(kernel)
    for a, (n, o) in enumerate(zip(spatial, out)):
        if n == o:
            continue
        average = _averaging_matrix(n, o, xp, x.dtype)   # (o, n)
        if a == nd - 1:
            x = x @ average.T
        else:
            x = movedim(average @ movedim(x, 2 + a, -2), -2, 2 + a)
    return x


def _adaptive_avg_pool(input, output_size, nd, op):
    _floating(input, op)
    x, unbatched = _batched(input, nd, op)
    y = _adaptive_avg(x, _adaptive_size(output_size, x.shape[2:], op))
    return squeeze(y, 0) if unbatched else y


def _adaptive_max_pool(input, output_size, return_indices, nd, op):
    _floating(input, op)
    x, unbatched = _batched(input, nd, op)
    spatial = x.shape[2:]
    out = _adaptive_size(output_size, spatial, op)
    if all(n % o == 0 for n, o in zip(spatial, out)):  # plain pooling, kernel = stride = n / o
        kernel = tuple(n // o for n, o in zip(spatial, out))
        return _max_pool(input, kernel, kernel, 0, 1, False, return_indices, nd, op)
    positions = []   # per axis (k, out): start + i, held at end - 1 in the shorter windows
    for n, o in zip(spatial, out):
        start, end = _adaptive_windows(n, o)
        i = np.arange((end - start).max())[:, None]
        positions.append(np.minimum(start + i, end - 1))
    xp = get_array_module(x._data)
    index = []
    for a, p in enumerate(positions):
        shape = [1] * (2 * nd)
        shape[a], shape[nd + a] = p.shape
        index.append(xp.asarray(p.reshape(shape)))
    cols = x._data[(slice(None), slice(None)) + tuple(index)]  # (N, C, *k, *out)
    values, indices = _max_over_windows(x, cols, positions)
    return _result(values, Tensor._make(indices), return_indices, unbatched)


def adaptive_avg_pool1d(input, output_size):
    """(N, C, L) or (C, L) -> (N, C, output_size): output o is the mean of
    x[floor(o L / out) : ceil((o + 1) L / out)]."""
    return _adaptive_avg_pool(input, output_size, 1, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input, output_size):
    """(N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out): each axis's windows as
    adaptive_avg_pool1d's; output_size an int, or (H_out, W_out) with None for unchanged."""
    return _adaptive_avg_pool(input, output_size, 2, "adaptive_avg_pool2d")


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """(N, C, L) or (C, L) -> (N, C, output_size): output o is the max of
    x[floor(o L / out) : ceil((o + 1) L / out)]; with return_indices also its index in L."""
    return _adaptive_max_pool(input, output_size, return_indices, 1, "adaptive_max_pool1d")


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """(N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out): each axis's windows as
    adaptive_max_pool1d's; with return_indices also the index h W + w of each maximum."""
    return _adaptive_max_pool(input, output_size, return_indices, 2, "adaptive_max_pool2d")


# -- unpooling -------------------------------------------------------------------------
def _unpool_size(x, kernel, stride, padding, output_size, op):
    """(n - 1) s - 2p + k per axis, or output_size (its last nd entries when it has nd + 2)
    within stride of that, as torch."""
    nd = len(kernel)
    default = tuple((n - 1) * s - 2 * p + k
                    for n, k, s, p in zip(x.shape[2:], kernel, stride, padding))
    if output_size is None:
        return default
    size = tuple(int(n) for n in output_size)
    if len(size) == nd + 2:
        size = size[2:]
    if len(size) != nd:
        raise ValueError(f"{op}: output_size must have {nd} or {nd + 2} entries, got "
                         f"{tuple(output_size)}")
    for d, (n, m, s) in enumerate(zip(size, default, stride)):
        if not m - s < n < m + s:
            raise ValueError(f"{op}: invalid output_size {size} for input of shape "
                             f"{tuple(x.shape)}: dim {d} must be between {m - s} and {m + s} "
                             f"(exclusive; the default is {m})")
    return size


def _max_unpool(input, indices, kernel_size, stride, padding, output_size, nd, op):
    x, unbatched = _batched(input, nd, op)
    index = indices._data if isinstance(indices, Tensor) else indices
    xp = get_array_module(x._data)
    index = xp.asarray(index)[None] if unbatched else xp.asarray(index)
    if index.shape != x.shape or index.dtype.kind not in "iu":
        raise ValueError(f"{op}: indices (shape {tuple(index.shape)}, {index.dtype}) must be "
                         f"integers of the input's shape {tuple(x.shape)}")
    kernel = _tuple(kernel_size, nd, "kernel_size", op)
    stride = kernel if stride is None else _tuple(stride, nd, "stride", op)
    size = _unpool_size(x, kernel, stride, _tuple(padding, nd, "padding", op), output_size, op)
    batch, channels = x.shape[:2]
    plane, count = math.prod(size), math.prod(x.shape[2:])
    if index.size and (int(index.min()) < 0 or int(index.max()) >= plane):
        bad = int(index.min()) if int(index.min()) < 0 else int(index.max())
        raise IndexError(f"{op}: found an invalid max index {bad} (the output planes have "
                         f"{' x '.join(map(str, size))} = {plane} elements)")
    rows = xp.arange(batch * channels)[:, None]
    blank = Tensor._make(xp.zeros((batch * channels, plane), dtype=x.dtype))
    y = index_put(blank, (rows, index.reshape(-1, count)), reshape(x, (-1, count)))
    y = reshape(y, (batch, channels) + size)
    return squeeze(y, 0) if unbatched else y


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool1d: (N, C, L) or (C, L) values and their indices ->
    (N, C, L_out) zeros with y[n, c, indices] = x, L_out = (L - 1) s - 2p + k (or
    output_size); duplicate indices keep the last value."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1,
                       "max_unpool1d")


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool2d: (N, C, H, W) or (C, H, W) values and their flat
    indices h W + w -> (N, C, H_out, W_out) zeros with the values put at indices, each axis
    (n - 1) s - 2p + k (or output_size)."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2,
                       "max_unpool2d")
