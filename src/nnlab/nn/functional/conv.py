"""Convolutions as functions, PyTorch's (NCHW, weight (C_out, C_in / groups, *kernel)).

A convolution is im2col and one GEMM per group:

    cols = im2col(x)                  (C_in k, N L) per group: every window a column
    y    = W cols + b                 W (C_out, C_in k)  ->  (N, C_out, *out)
    out  = floor((n + 2p - d (k - 1) - 1) / s) + 1   per spatial axis

    dL/db = sum of delta over N and positions
    dL/dW = delta cols^T              (one GEMM over the whole batch)
    dL/dx = col2im(W^T delta)         (one GEMM, then strided adds over kernel offsets)

`Convolution` is that, fused: forward and backward in array code, the windows laid out
(C_in k, N L) so that each product is a single GEMM over the batch. `conv_composed` is
its twin built from the `Im2col` / `MatMul` / `Col2im` primitives, autograd doing the
backward; the tests hold the two equal, and under create_graph=True autograd
differentiates the twin (autograd/fused.py), so second derivatives are exact.

A transposed convolution is the adjoint of a convolution's input map: cols = W^T x, then
col2im onto the output, of size (n - 1) s - 2p + d (k - 1) + output_padding + 1.
"""
import math

from ...autograd.fused import FusedKernel
from ...backend import get_array_module
from ...ops.conv import col2im, col2im_array, im2col, im2col_array, window_args
from ...ops.linalg import MatMul
from ...ops.shape import reshape
from ...parallel import matmul


def _check(op, input, weight, nd, in_dim, transposed=False):
    """Shapes and dtypes of a convolution's operands; errors name `op` and the shapes."""
    x_shape, w_shape = tuple(input.shape), tuple(weight.shape)
    if input.ndim != nd + 2:
        raise ValueError(f"{op}: expected a {nd + 2}-D input (N, C, *spatial) or a "
                         f"{nd + 1}-D unbatched one, got shape {x_shape}")
    if weight.ndim != nd + 2:
        raise ValueError(f"{op}: expected a {nd + 2}-D weight, got shape {w_shape}")
    if input.shape[1] != in_dim:
        expected = "weight.shape[0]" if transposed else "weight.shape[1] * groups"
        raise ValueError(f"{op}: input of shape {x_shape} has {input.shape[1]} channels, "
                         f"but weight of shape {w_shape} expects {in_dim} ({expected})")
    if input.dtype != weight.dtype:
        raise TypeError(f"{op}: input is {input.dtype} but weight is {weight.dtype}")


def _padding_pairs(op, padding, kernel, dilation, stride, nd):
    """padding as (lo, hi) pairs: an int, nd ints, 'valid' (none) or 'same' (stride 1;
    total d (k - 1), the odd one extra at the high end, as torch)."""
    if padding == "valid":
        return ((0, 0),) * nd
    if padding == "same":
        if any(s != 1 for s in stride):
            raise ValueError(f"{op}: padding='same' is not supported for strided "
                             f"convolutions (stride {stride})")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int, a tuple, 'same' or 'valid', got "
                         f"{padding!r}")
    pads = (padding,) * nd if isinstance(padding, int) else tuple(padding)
    if len(pads) != nd:
        raise ValueError(f"{op}: padding must be an int or {nd} ints, got {padding!r}")
    return tuple((p, p) for p in pads)


def _batch(input):
    return reshape(input, (1,) + tuple(input.shape))           # (C, *) -> (1, C, *)


def _unbatch(y):
    return reshape(y, tuple(y.shape[1:]))                       # (1, C, *) -> (C, *)


def _conv_array(x, weight, bias, stride, padding, dilation, groups):
    """y = W * x + b in array code: im2col laid out (C_in k, N L), one GEMM per group, the
    result transposed to (N, C_out, *out) with the bias added in the same pass. Returns y
    and the windows (G, C_in/G k, N L)."""
    xp = get_array_module(x)
    n, c_out, kernel = x.shape[0], weight.shape[0], weight.shape[2:]
    cols = im2col_array(x, kernel, stride, padding, dilation, batch_last=True)
    out = cols.shape[-len(kernel):]                               # (C_in, *k, N, *out)
    cols = cols.reshape(groups, -1, n * math.prod(out))           # (G, C_in/G k, N L)
    w = weight.reshape(groups, c_out // groups, -1)               # (G, C_out/G, C_in/G k)
    y = matmul(w, cols).reshape(c_out, n, -1)                  # (C_out, N, L)
    result = xp.empty((n, c_out) + out, dtype=x.dtype)
    flat = result.reshape(n, c_out, -1)                           # (N, C_out, L)
    if bias is None:
        flat[...] = y.swapaxes(0, 1)
    else:
        xp.add(y.swapaxes(0, 1), bias[:, None], out=flat)
    return result, cols


def conv_composed(input, weight, bias, stride, padding, dilation, groups):
    """The twin of `Convolution` built from primitives: im2col, a GEMM per group, a bias
    add; padding as (lo, hi) pairs."""
    n, c_out, kernel = input.shape[0], weight.shape[0], tuple(weight.shape[2:])
    cols = im2col(input, kernel, stride, padding, dilation)      # (N, C_in, *k, *out)
    out = tuple(cols.shape[2 + len(kernel):])
    cols = reshape(cols, (n, groups, -1, math.prod(out)))         # (N, G, C_in/G k, L)
    w = reshape(weight, (groups, c_out // groups, -1))            # (G, C_out/G, C_in/G k)
    y = reshape(MatMul.apply(w, cols), (n, c_out) + out)          # (N, C_out, *out)
    return y if bias is None else y + reshape(bias, (c_out,) + (1,) * len(out))


class Convolution(FusedKernel):
    """y = W * x + b over the spatial axes of x (N, C_in, *spatial), padding as (lo, hi)
    pairs; forward and backward in array code (see the module docstring)."""

    twin = staticmethod(conv_composed)

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        y, cols = _conv_array(x, weight, bias, stride, padding, dilation, groups)
        ctx.geometry = (stride, padding, dilation, groups)
        ctx.save_for_backward(x, weight, cols if ctx.needs_input_grad[1] else None)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, weight, cols = ctx.saved_arrays
        stride, padding, dilation, groups = ctx.geometry
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        xp = get_array_module(gy)
        n, c_out, kernel = x.shape[0], weight.shape[0], weight.shape[2:]
        delta = xp.ascontiguousarray(gy.reshape(n, c_out, -1).swapaxes(0, 1))
        delta = delta.reshape(groups, c_out // groups, -1)        # (G, C_out/G, N L)
        dx = dw = db = None
        if need_x:  # dL/dx = col2im(W^T delta)
            w = weight.reshape(groups, c_out // groups, -1)       # (G, C_out/G, C_in/G k)
            dcols = matmul(w.swapaxes(1, 2), delta)            # (G, C_in/G k, N L)
            dcols = dcols.reshape((x.shape[1],) + kernel + (n,) + gy.shape[2:])
            dx = col2im_array(dcols, x.shape, kernel, stride, padding, dilation, batch_last=True)
        if need_w:  # dL/dW = delta cols^T, as (cols delta^T)^T: BLAS is faster that way
            dw = matmul(cols, delta.swapaxes(1, 2)).swapaxes(1, 2)
            dw = xp.ascontiguousarray(dw).reshape(weight.shape)
        if need_b:  # dL/db = sum of delta over the batch and the positions
            db = delta.sum(-1).reshape(c_out)
        return dx, dw, db


def _convnd(input, weight, bias, stride, padding, dilation, groups, nd, op, fused=True):
    """(N, C_in, *spatial) -> (N, C_out, *out): checks, then `Convolution` (fused) or
    `conv_composed`."""
    if input.ndim == nd + 1:  # unbatched (C_in, *spatial), as torch accepts
        return _unbatch(_convnd(_batch(input), weight, bias, stride, padding, dilation,
                                groups, nd, op, fused))
    c_out = weight.shape[0]
    if groups < 1 or c_out % groups:
        raise ValueError(f"{op}: out_channels {c_out} (weight shape {tuple(weight.shape)}) "
                         f"must be divisible by groups={groups}")
    _check(op, input, weight, nd, weight.shape[1] * groups)
    kernel = tuple(weight.shape[2:])
    stride = (stride,) * nd if isinstance(stride, int) else tuple(stride)
    dilation = (dilation,) * nd if isinstance(dilation, int) else tuple(dilation)
    pairs = _padding_pairs(op, padding, kernel, dilation, stride, nd)
    _, stride, pairs, dilation, _ = window_args(op, input.shape, kernel, stride, pairs,
                                                dilation, nd)
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise ValueError(f"{op}: bias of shape {tuple(bias.shape)} does not match "
                         f"out_channels {c_out} (expected ({c_out},))")
    if fused:
        return Convolution.apply(input, weight, bias, stride, pairs, dilation, groups)
    return conv_composed(input, weight, bias, stride, pairs, dilation, groups)


def _conv_transposend(input, weight, bias, stride, padding, output_padding, groups,
                      dilation, nd, op):
    """(N, C_in, *spatial) -> (N, C_out, *out): cols = W^T x per group, then col2im."""
    if input.ndim == nd + 1:  # unbatched (C_in, *spatial), as torch accepts
        return _unbatch(_conv_transposend(_batch(input), weight, bias, stride, padding,
                                          output_padding, groups, dilation, nd, op))
    c_in = weight.shape[0]
    if groups < 1 or c_in % groups:
        raise ValueError(f"{op}: in_channels {c_in} (weight shape {tuple(weight.shape)}) "
                         f"must be divisible by groups={groups}")
    _check(op, input, weight, nd, c_in, transposed=True)
    kernel = tuple(weight.shape[2:])
    stride, dilation, output_padding, padding = (
        (v,) * nd if isinstance(v, int) else tuple(v)
        for v in (stride, dilation, output_padding, padding))
    for op_, s, d in zip(output_padding, stride, dilation):
        if op_ >= max(s, d):
            raise ValueError(f"{op}: output_padding {output_padding} must be smaller than "
                             f"either stride {stride} or dilation {dilation}")
    n, spatial = input.shape[0], tuple(input.shape[2:])
    out = tuple((m - 1) * s - 2 * p + d * (k - 1) + o + 1 for m, s, p, d, k, o
                in zip(spatial, stride, padding, dilation, kernel, output_padding))
    if min(out) < 1:
        raise ValueError(f"{op}: input of shape {tuple(input.shape)} gives output size {out}:"
                         f" (n - 1) * stride - 2 * padding + dilation * (kernel - 1) + "
                         "output_padding + 1 must be positive")
    c_out = weight.shape[1] * groups
    span = weight.shape[1] * math.prod(kernel)
    length = math.prod(spatial)
    w = reshape(weight, (groups, c_in // groups, span))         # (G, C_in/G, C_out/G k)
    x = reshape(input, (n, groups, c_in // groups, length))     # (N, G, C_in/G, L)
    cols = MatMul.apply(w, x, True, False)                      # (N, G, C_out/G k, L)
    cols = reshape(cols, (n, c_out) + kernel + spatial)         # (N, C_out, *k, *in)
    pairs = tuple((p, p) for p in padding)
    y = col2im(cols, (n, c_out) + out, kernel, stride, pairs, dilation)
    return y if bias is None else y + reshape(bias, (c_out,) + (1,) * nd)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """(N, C_in, L) * weight (C_out, C_in/groups, k) -> (N, C_out, L_out)."""
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """(N, C_in, H, W) * weight (C_out, C_in/groups, kh, kw) + bias (C_out,)
    -> (N, C_out, H_out, W_out); padding an int, a pair, 'same' or 'valid'."""
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """(N, C_in, D, H, W) * weight (C_out, C_in/groups, kd, kh, kw) -> (N, C_out, *out)."""
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 3, "conv3d")


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """(N, C_in, L) with weight (C_in, C_out/groups, k) -> (N, C_out, L_out)."""
    return _conv_transposend(input, weight, bias, stride, padding, output_padding, groups,
                             dilation, 1, "conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """(N, C_in, H, W) with weight (C_in, C_out/groups, kh, kw) -> (N, C_out, H_out, W_out),
    H_out = (H - 1) s - 2p + d (kh - 1) + output_padding + 1."""
    return _conv_transposend(input, weight, bias, stride, padding, output_padding, groups,
                             dilation, 2, "conv_transpose2d")


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """torch's F.unfold: (N, C, H, W) -> (N, C kh kw, L), the sliding windows as columns."""
    kernel, stride, pairs, dilation, out = window_args("unfold", input.shape, kernel_size, stride,
                                                       padding, dilation, 2)
    cols = im2col(input, kernel, stride, pairs, dilation)       # (N, C, kh, kw, OH, OW)
    return reshape(cols, (input.shape[0], -1, math.prod(out)))  # (N, C kh kw, L)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """torch's F.fold, the adjoint of unfold: (N, C kh kw, L) -> (N, C, *output_size),
    overlapping windows summed."""
    n = input.shape[0]
    kernel = (kernel_size,) * 2 if isinstance(kernel_size, int) else tuple(kernel_size)
    output_size = (output_size,) * 2 if isinstance(output_size, int) else tuple(output_size)
    channels = input.shape[1] // math.prod(kernel)
    kernel, stride, pairs, dilation, out = window_args("fold", (n, channels) + output_size,
                                                       kernel, stride, padding, dilation, 2)
    if input.shape[1] != channels * math.prod(kernel) or input.shape[2] != math.prod(out):
        raise ValueError(f"fold: input of shape {tuple(input.shape)} does not match "
                         f"kernel_size {kernel} and output_size {output_size}: expected "
                         f"(N, C * {math.prod(kernel)}, {math.prod(out)})")
    cols = reshape(input, (n, channels) + kernel + out)         # (N, C, kh, kw, OH, OW)
    return col2im(cols, (n, channels) + output_size, kernel, stride, pairs, dilation)
