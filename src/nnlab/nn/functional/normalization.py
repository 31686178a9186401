"""Normalisation as functions: `batch_norm`, `layer_norm`, `group_norm`, `rms_norm`
(PyTorch's).

Batch, layer and group normalisation compute, over a set of axes,

    xhat = (x - mean) / sqrt(var + eps)        (var biased: divided by n)
    y    = xhat * weight + bias

BatchNorm takes the statistics over every dimension but the channel one (1) and has one
weight per channel; LayerNorm takes them over the trailing `normalized_shape` dimensions,
which the weight spans; GroupNorm splits the C channels of (N, C, *) into G groups and takes
them over each group's C/G channels and every position, with one weight per channel. One
fused `Function`, `Normalize`, serves all three: its forward is
array code and its backward the closed form (g = gy * weight, means over the same axes)

    dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),   rstd = 1 / sqrt(var + eps)
    dweight = sum(gy * xhat),   dbias = sum(gy)   (over the dimensions weight broadcasts)

computed in array code; its twin `normalize_composed` (mean / var / rsqrt ops, autograd
does the rest) is differentiated under `create_graph=True`, so second derivatives are
exact. `layer_norm_composed`, `batch_norm_composed` and `group_norm_composed` are the
references the tests hold the fused functions to.

RMSNorm is y = x / sqrt(mean(x^2) + eps) * weight over the trailing dimensions (composed).
"""
import math

import numpy as np

from ...autograd import grad_mode
from ...autograd.fused import FusedKernel
from ...autograd.tensor import Tensor
from ...backend import get_array_module
from ...ops import elementwise
from ...ops.shape import reshape
from ...parallel import ufunc

# -- the fused normalisation ----------------------------------------------------------
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _sum_over(xp, operands, keep, shape):
    """sum of the product of `operands` (arrays of one shape) over every axis not in
    `keep`, reshaped to `shape`: one einsum pass, no temporary for the product."""
    letters = _LETTERS[:operands[0].ndim]
    spec = ",".join([letters] * len(operands)) + "->" + "".join(letters[i] for i in keep)
    return xp.einsum(spec, *operands).reshape(shape)


def _kept_axes(x_ndim, shape):
    """The axes of an x_ndim array along which an array of `shape` (broadcast against it)
    has more than one element: those its gradient keeps."""
    lead = x_ndim - len(shape)
    return tuple(lead + i for i, n in enumerate(shape) if n != 1)


def normalize_composed(x, weight, bias, axes, eps, return_stats=False):
    """`Normalize` composed of ops (mean, var, rsqrt): its twin, and the reference the
    layer and batch norms' composed forms share. The statistics it returns (with
    `return_stats`) carry no gradient, as Normalize's."""
    mean = x.mean(axes, keepdim=True)
    var = x.var(axes, unbiased=False, keepdim=True)
    y = (x - mean) * elementwise.rsqrt(var + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return (y, mean.detach(), var.detach()) if return_stats else y


class Normalize(FusedKernel):
    """y = (x - mean) * rstd * weight + bias, the statistics over `axes`; with
    `return_stats` also the (non-differentiable) mean and biased variance, keepdim shaped.
    weight and bias (either may be None) broadcast against x."""

    twin = staticmethod(normalize_composed)

    @staticmethod
    def forward(ctx, x, weight, bias, axes, eps, return_stats=False):
        xp = get_array_module(x)
        keep = tuple(i for i in range(x.ndim) if i not in axes)
        stat_shape = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
        n = math.prod(x.shape[i] for i in axes)
        ctx.axes, ctx.eps, ctx.keep, ctx.n = axes, eps, keep, n
        ctx.bias_shape = None if bias is None else bias.shape
        mean = _sum_over(xp, (x,), keep, stat_shape) / n
        xhat = ufunc(xp.subtract, x, mean)
        var = _sum_over(xp, (xhat, xhat), keep, stat_shape) / n
        rstd = 1 / xp.sqrt(var + eps)
        ufunc(xp.multiply, xhat, rstd, out=xhat)
        y = xhat
        if weight is not None:
            y = ufunc(xp.multiply, xhat, weight)
        if bias is not None:
            y = ufunc(xp.add, y, bias) if y is xhat else ufunc(xp.add, y, bias, out=y)
        if True in ctx.needs_input_grad:
            ctx.save_for_backward(x, weight, xhat, rstd)
        if not return_stats:
            return y
        ctx.mark_non_differentiable(mean, var)
        return y, mean, var

    @staticmethod
    def backward(ctx, gy, *_stats):
        x, weight, xhat, rstd = ctx.saved_arrays
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        xp = get_array_module(gy)
        dx = dw = db = None
        if need_x:
            g = ufunc(xp.multiply, gy, weight) if weight is not None else gy
            mg = _sum_over(xp, (g,), ctx.keep, rstd.shape) / ctx.n
            mgx = _sum_over(xp, (g, xhat), ctx.keep, rstd.shape) / ctx.n
            dx = ufunc(xp.multiply, xhat, mgx)
            ufunc(xp.add, dx, mg, out=dx)
            ufunc(xp.subtract, g, dx, out=dx)
            ufunc(xp.multiply, dx, rstd, out=dx)  # dx = rstd (g - mean(g) - xhat mean(g xhat))
        if need_w:  # dw = sum(gy * xhat)
            dw = _sum_over(xp, (gy, xhat), _kept_axes(gy.ndim, weight.shape), weight.shape)
        if need_b:  # db = sum(gy)
            db = _sum_over(xp, (gy,), _kept_axes(gy.ndim, ctx.bias_shape), ctx.bias_shape)
        return dx, dw, db


# -- layer norm -----------------------------------------------------------------------
def _normalized_shape(normalized_shape):
    if isinstance(normalized_shape, (int, np.integer)):
        return (int(normalized_shape),)
    return tuple(int(n) for n in normalized_shape)


def _check_floating(input, op):
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got {input.dtype}")


def _check_trailing(input, shape, op):
    """`input` ends with `shape`; torch's message otherwise."""
    _check_floating(input, op)
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        raise RuntimeError(f"{op}: normalized_shape={shape} expects an input of shape "
                           f"(*, {', '.join(map(str, shape))}), got an input of shape "
                           f"{tuple(input.shape)}")


def _check_affine(t, shape, name, op):
    if t is not None and tuple(t.shape) != shape:
        raise RuntimeError(f"{op}: {name} has shape {tuple(t.shape)}, expected {shape}")


def _layer_norm_args(input, normalized_shape, weight, bias, op):
    shape = _normalized_shape(normalized_shape)
    _check_trailing(input, shape, op)
    _check_affine(weight, shape, "weight", op)
    _check_affine(bias, shape, "bias", op)
    return tuple(range(input.ndim - len(shape), input.ndim))


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """(x - mean) / sqrt(var + eps) * weight + bias over the trailing `normalized_shape`
    dimensions (biased variance); weight and bias have shape `normalized_shape`. Fused:
    one array-code forward and backward (see the module docstring)."""
    axes = _layer_norm_args(input, normalized_shape, weight, bias, "layer_norm")
    return Normalize.apply(input, weight, bias, axes, eps)


def layer_norm_composed(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """`layer_norm` composed of ops (mean, var, rsqrt): the reference for the fused path."""
    axes = _layer_norm_args(input, normalized_shape, weight, bias, "layer_norm")
    return normalize_composed(input, weight, bias, axes, eps)


# -- RMS norm -------------------------------------------------------------------------
def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2) + eps) * weight over the trailing `normalized_shape` dimensions;
    eps None means the machine epsilon of the input's dtype (as torch)."""
    shape = _normalized_shape(normalized_shape)
    _check_trailing(input, shape, "rms_norm")
    _check_affine(weight, shape, "weight", "rms_norm")
    if eps is None:
        eps = float(np.finfo(input.dtype).eps)
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    y = input * elementwise.rsqrt((input * input).mean(axes, keepdim=True) + eps)
    return y * weight if weight is not None else y


# -- batch norm -----------------------------------------------------------------------
def _batch_norm_args(input, running_mean, running_var, weight, bias, training, momentum,
                     op="batch_norm"):
    """Checks; returns the reduction axes and the shape (1, C, 1, ...) of a per-channel
    vector broadcast against the input."""
    _check_floating(input, op)
    if input.ndim < 2:
        raise ValueError(f"{op}: expected an input of shape (N, C, *): (N, C), (N, C, L), "
                         f"(N, C, H, W), ..., got shape {tuple(input.shape)}")
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise RuntimeError(f"{op}: {name} has shape {tuple(t.shape)}, but the input "
                               f"(shape {tuple(input.shape)}) has {channels} channels in "
                               f"dimension 1")
    if training:
        if input.size(0) * math.prod(input.shape[2:]) == 1:
            raise ValueError(f"{op}: Expected more than 1 value per channel when training, "
                             f"got input of shape {tuple(input.shape)}")
        if momentum is None and running_mean is not None:
            raise ValueError(f"{op}: momentum=None (a cumulative moving average) needs the "
                             "number of batches seen; pass momentum=1/num_batches_tracked "
                             "(nn.BatchNorm1d / 2d / 3d do)")
    elif running_mean is None or running_var is None:
        raise RuntimeError(f"{op}: training=False normalises with running_mean and "
                           "running_var, so both must be given")
    axes = (0,) + tuple(range(2, input.ndim))
    return axes, (1, channels) + (1,) * (input.ndim - 2)


def _per_channel(t, shape):
    return None if t is None else reshape(t, shape)


def _update_running(stat, batch_value, momentum):
    """stat <- (1 - momentum) * stat + momentum * batch_value, in place (its version bumps)."""
    xp = get_array_module(stat._data)
    new = stat._data * (1 - momentum) + xp.asarray(batch_value, dtype=stat.dtype) * momentum
    with grad_mode.no_grad():
        stat.copy_(Tensor._make(new))


def _update_running_stats(running_mean, running_var, mean, var, count, momentum):
    """Running stats from the batch's mean and biased variance (`count` values per channel):
    the running variance takes the unbiased one, var * n / (n - 1), as torch."""
    if running_mean is not None:
        _update_running(running_mean, mean.reshape(-1), momentum)
    if running_var is not None:
        _update_running(running_var, var.reshape(-1) * (count / (count - 1)), momentum)


def _batch_norm_eval(input, running_mean, running_var, weight, bias, eps, shape):
    """With running statistics: y = x * scale + shift, scale = weight / sqrt(var + eps),
    shift = bias - mean * scale (per channel)."""
    scale = elementwise.rsqrt(running_var + eps)
    if weight is not None:
        scale = scale * weight
    shift = -running_mean * scale
    if bias is not None:
        shift = shift + bias
    return input * reshape(scale, shape) + reshape(shift, shape)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalisation of (N, C, *) (so (N, C), (N, C, L), (N, C, H, W), ...) over
    every dimension but C; weight, bias and the running statistics have shape (C,).

    training=True: normalise with the batch mean and biased variance, and (if given) update
    running_mean / running_var in place: r = (1 - momentum) r + momentum * s, with the
    unbiased variance for s. training=False: normalise with the running statistics."""
    axes, shape = _batch_norm_args(input, running_mean, running_var, weight, bias, training,
                                   momentum)
    if not training:
        return _batch_norm_eval(input, running_mean, running_var, weight, bias, eps, shape)
    y, mean, var = Normalize.apply(input, _per_channel(weight, shape),
                                   _per_channel(bias, shape), axes, eps, True)
    _update_running_stats(running_mean, running_var, mean._data, var._data,
                          input._data.size // input.shape[1], momentum)
    return y


def batch_norm_composed(input, running_mean, running_var, weight=None, bias=None,
                        training=False, momentum=0.1, eps=1e-5):
    """`batch_norm` composed of ops (mean, var, rsqrt): the reference for the fused path."""
    axes, shape = _batch_norm_args(input, running_mean, running_var, weight, bias, training,
                                   momentum)
    if not training:
        return _batch_norm_eval(input, running_mean, running_var, weight, bias, eps, shape)
    y, mean, var = normalize_composed(input, _per_channel(weight, shape),
                                      _per_channel(bias, shape), axes, eps, True)
    _update_running_stats(running_mean, running_var, mean._data, var._data,
                          input._data.size // input.shape[1], momentum)
    return y


# -- group norm -----------------------------------------------------------------------
def _group_norm_args(input, num_groups, weight, bias, op="group_norm"):
    """Checks; returns (N, G, C/G, R), R the number of positions, the shape the input is
    grouped into."""
    _check_floating(input, op)
    shape = tuple(input.shape)
    if input.ndim < 2:
        raise RuntimeError(f"{op}: expected an input of shape (N, C, *) with at least 2 "
                           f"dimensions, got shape {shape}")
    channels = shape[1]
    if num_groups <= 0 or channels % num_groups:
        raise RuntimeError(f"{op}: the {channels} channels of the input (shape {shape}) "
                           f"must be divisible by num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise RuntimeError(f"{op}: {name} has shape {tuple(t.shape)}, but the input "
                               f"(shape {shape}) has {channels} channels in dimension 1")
    positions = math.prod(shape[2:])
    if shape[0] * (channels // num_groups) * positions == 1:
        raise ValueError(f"{op}: Expected more than 1 value per channel when training, got "
                         f"input of shape {shape}")
    return shape[0], num_groups, channels // num_groups, positions


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalisation of (N, C, *): the C channels fall into `num_groups` groups G of
    C/G; each sample's group is normalised over its channels and positions,

        xhat = (x - mean) / sqrt(var + eps)   (over C/G channels x all positions, biased)
        y    = xhat * weight[c] + bias[c]      (weight, bias of shape (C,))

    Fused: the input viewed as (N, G, C/G, R), R = prod(*), one `Normalize` over the last
    two axes with the per-channel weight and bias viewed as (G, C/G, 1)."""
    grouped = _group_norm_args(input, num_groups, weight, bias)
    affine = grouped[1:3] + (1,)
    y = Normalize.apply(reshape(input, grouped), _per_channel(weight, affine),
                        _per_channel(bias, affine), (2, 3), eps)
    return reshape(y, tuple(input.shape))


def group_norm_composed(input, num_groups, weight=None, bias=None, eps=1e-5):
    """`group_norm` composed of ops (mean, var, rsqrt): the reference for the fused path."""
    n, g, _, _ = _group_norm_args(input, num_groups, weight, bias)
    x = reshape(input, (n, g, -1))  # (N, G, C/G * R)
    mean = x.mean(2, keepdim=True)
    var = x.var(2, unbiased=False, keepdim=True)
    y = reshape((x - mean) * elementwise.rsqrt(var + eps), tuple(input.shape))
    channel = (1, input.shape[1]) + (1,) * (input.ndim - 2)
    if weight is not None:
        y = y * reshape(weight, channel)
    if bias is not None:
        y = y + reshape(bias, channel)
    return y
