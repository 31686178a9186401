"""Convolutions as functions, PyTorch's (NCHW, weight (C_out, C_in / groups, *kernel)).

A convolution is im2col and one GEMM per group:

    cols = im2col(x)                  (N, C_in, *k, *out) viewed as (N, G, C_in/G * k, L)
    y    = W cols + b                 W (G, C_out/G, C_in/G * k):  (N, G, C_out/G, L)
    out  = floor((n + 2p - d (k - 1) - 1) / s) + 1   per spatial axis

and autograd does the rest: dL/dW = delta cols^T (a GEMM summed over the batch),
dL/dcols = W^T delta (a GEMM), dL/dx = col2im(dL/dcols) (strided adds over the kernel
offsets). Every piece is differentiable again, so second derivatives are exact.

A transposed convolution is the adjoint of a convolution's input map: cols = W^T x, then
col2im onto the output, of size (n - 1) s - 2p + d (k - 1) + output_padding + 1.

`conv2d_reference` computes the same convolution the obvious way (a sum over kernel
offsets of shifted inputs contracted with one weight slice each); the tests hold the
fast path to it.
"""
import itertools
import math

from ...ops.conv import col2im, im2col, window_args
from ...ops.linalg import MatMul, einsum
from ...ops.shape import cat, pad, reshape


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


def _convnd(input, weight, bias, stride, padding, dilation, groups, nd, op):
    """(N, C_in, *spatial) -> (N, C_out, *out): im2col and one batched GEMM per group."""
    if input.ndim == nd + 1:  # unbatched (C_in, *spatial), as torch accepts
        return _unbatch(_convnd(_batch(input), weight, bias, stride, padding, dilation,
                                groups, nd, op))
    c_out = weight.shape[0]
    if groups < 1 or c_out % groups:
        raise ValueError(f"{op}: out_channels {c_out} (weight shape {tuple(weight.shape)}) "
                         f"must be divisible by groups={groups}")
    _check(op, input, weight, nd, weight.shape[1] * groups)
    kernel = tuple(weight.shape[2:])
    stride = (stride,) * nd if isinstance(stride, int) else tuple(stride)
    dilation = (dilation,) * nd if isinstance(dilation, int) else tuple(dilation)
    pairs = _padding_pairs(op, padding, kernel, dilation, stride, nd)
    kernel, stride, pairs, dilation, out = window_args(op, input, kernel, stride, pairs,
                                                       dilation, nd)
    n = input.shape[0]
    cols = im2col(input, kernel, stride, pairs, dilation)       # (N, C_in, *k, *out)
    span = input.shape[1] // groups * math.prod(kernel)
    length = math.prod(out)
    if groups == 1:
        w = reshape(weight, (c_out, span))                      # (C_out, C_in k)
        y = MatMul.apply(w, reshape(cols, (n, span, length)))   # (N, C_out, L)
    else:
        w = reshape(weight, (groups, c_out // groups, span))    # (G, C_out/G, C_in/G k)
        cols = reshape(cols, (n, groups, span, length))         # (N, G, C_in/G k, L)
        y = MatMul.apply(w, cols)                               # (N, G, C_out/G, L)
    y = reshape(y, (n, c_out) + out)                            # (N, C_out, *out)
    return y if bias is None else y + reshape(bias, (c_out,) + (1,) * nd)


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
    kernel, stride, pairs, dilation, out = window_args("unfold", input, kernel_size, stride,
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
    probe = _Shape((n, channels) + output_size)
    kernel, stride, pairs, dilation, out = window_args("fold", probe, kernel, stride, padding,
                                                       dilation, 2)
    if input.shape[1] != channels * math.prod(kernel) or input.shape[2] != math.prod(out):
        raise ValueError(f"fold: input of shape {tuple(input.shape)} does not match "
                         f"kernel_size {kernel} and output_size {output_size}: expected "
                         f"(N, C * {math.prod(kernel)}, {math.prod(out)})")
    cols = reshape(input, (n, channels) + kernel + out)         # (N, C, kh, kw, OH, OW)
    return col2im(cols, (n, channels) + output_size, kernel, stride, pairs, dilation)


class _Shape:
    """Stands in for a tensor where only its shape is needed."""

    def __init__(self, shape):
        self.shape = shape


def conv2d_reference(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """conv2d the obvious way, the reference twin of the im2col path:
    y[n, o] = sum over offsets (i, j) of W[o, :, i, j] . x_pad[n, :, i d + s h, j d + s w]."""
    sh, sw = (stride,) * 2 if isinstance(stride, int) else stride
    dh, dw = (dilation,) * 2 if isinstance(dilation, int) else dilation
    kh, kw = weight.shape[2:]
    (pt, pb), (pl, pr) = _padding_pairs("conv2d", padding, (kh, kw), (dh, dw), (sh, sw), 2)
    x = pad(input, (pl, pr, pt, pb))
    oh = (x.shape[2] - dh * (kh - 1) - 1) // sh + 1
    ow = (x.shape[3] - dw * (kw - 1) - 1) // sw + 1
    c_in, c_out = weight.shape[1], weight.shape[0]
    outputs = []
    for g in range(groups):
        xg = x[:, g * c_in:(g + 1) * c_in]
        wg = weight[g * (c_out // groups):(g + 1) * (c_out // groups)]
        terms = [einsum("nchw,oc->nohw",
                        xg[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                           j * dw:j * dw + sw * (ow - 1) + 1:sw], wg[:, :, i, j])
                 for i, j in itertools.product(range(kh), range(kw))]
        outputs.append(sum(terms[1:], terms[0]))
    y = outputs[0] if groups == 1 else cat(outputs, 1)
    return y if bias is None else y + reshape(bias, (c_out, 1, 1))
