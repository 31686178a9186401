"""Scans along one dim: `cumprod` and `logcumsumexp` (cumsum lives in `reduce`), and the
paired moments `var_mean` and `std_mean`.

Each scan is a primitive whose backward is written with scans and elementwise ops, so it
is differentiable again. cumprod's gradient is exact with zeros in the input (the division
by x in the usual formula is used only before the first zero of a row, as torch does).
"""
import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.tensor import Tensor
from ..backend import get_array_module, get_default_dtype
from . import elementwise, reduce
from .reduce import Cumsum, ReverseCumsum, _acc_dtype, _dim
from .shape import flip, movedim, reshape, unsqueeze


def _scan(cls, input, dim, op):
    """cls along `dim`, a 0-d input treated as a 1-element vector."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    axis = _dim(dim, input.ndim, op)
    if input.ndim == 0:
        return reshape(cls.apply(reshape(input, (1,)), 0), ())
    return cls.apply(input, axis)


class Cumprod(Function):
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        y = get_array_module(x).cumprod(x, axis=axis, dtype=_acc_dtype(x))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        axis = ctx.axis
        zero = x == 0
        if not bool(zero._data.any()):
            # dL/dx_i = sum_{j >= i} gy_j y_j / x_i
            return ReverseCumsum.apply(gy * y, axis) / x
        if is_grad_enabled():   # create_graph: a form whose own derivative is right
            return _cumprod_grad_by_omission(x, gy, axis)
        # Before the first zero z of a row, the formula above. At z: sum_{j >= z} gy_j
        # prod_{k <= j, k != z} x_k, the same scan with x_z set to 1. After z: 0 (every
        # y_j with j >= i holds the factor x_z = 0).
        zeros_so_far = Cumsum.apply(zero, axis)
        before = zeros_so_far == 0
        first_zero = zero & (zeros_so_far == 1)
        g = ReverseCumsum.apply(gy * y, axis) / elementwise.where(before, x, 1.0)
        y_at_zero = Cumprod.apply(elementwise.where(first_zero, 1.0, x), axis)
        g_zero = ReverseCumsum.apply(gy * y_at_zero, axis)
        return elementwise.where(before, g, elementwise.where(first_zero, g_zero, 0.0))


def _cumprod_grad_by_omission(x, gy, axis):
    """dL/dx_i = sum_{j >= i} gy_j prod_{k <= j, k != i} x_k for every i at once: n scans
    of x, the i-th with x_i set to 1 (O(n^2) work, as torch's double backward does; its
    derivative in x is exact at zeros too)."""
    xp = get_array_module(x._data)
    n = x.shape[axis]
    i = xp.arange(n).reshape([n] + [1] * x.ndim)
    j = xp.arange(n).reshape([1] * (axis + 1) + [n] + [1] * (x.ndim - axis - 1))
    omit = Tensor._make(i == j)                            # (n, ..., n along axis, ...)
    later = Tensor._make((j >= i).astype(x.dtype))         # the j >= i that hold x_i
    scans = Cumprod.apply(elementwise.where(omit, 1.0, unsqueeze(x, 0)), axis + 1)
    g = reduce.sum(scans * later * unsqueeze(gy, 0), axis + 1)   # (n, ...without axis)
    return movedim(g, 0, axis)


def cumprod(input, dim, *, dtype=None):
    """The running product along `dim` (int64 for integer and bool inputs, as torch)."""
    if dtype is not None and isinstance(input, Tensor):
        input = input.to(dtype)
    return _scan(Cumprod, input, dim, "cumprod")


class Logcumsumexp(Function):
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        with np.errstate(invalid="ignore"):   # -inf with -inf gives -inf, as torch
            y = np.logaddexp.accumulate(x, axis=axis)   # log(e^a + e^b), stably, as it goes
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        axis = ctx.axis
        # dL/dx_i = sum_{j >= i} gy_j e^(x_i - y_j), summed in log space for the positive
        # and the negative parts of gy separately (so that no e^x overflows)
        # (log 0 is taken as a finite -huge, so that no -inf - -inf makes a NaN when this
        # backward is itself differentiated)
        tiny = float(np.finfo(x.dtype).min) / 4
        log_pos, log_neg = (elementwise.where(m, elementwise.log(elementwise.where(m, g, 1.0)),
                                              tiny)
                            for m, g in ((gy > 0, gy), (gy < 0, -gy)))

        def reverse_scan(t):
            return flip(Logcumsumexp.apply(flip(t, (axis,)), axis), (axis,))

        return (elementwise.exp(reverse_scan(log_pos - y) + x)
                - elementwise.exp(reverse_scan(log_neg - y) + x))


def logcumsumexp(input, dim):
    """log sum_{k <= i} e^(x_k) along `dim`, computed without overflow."""
    if isinstance(input, Tensor) and input.dtype.kind != "f":
        input = input.to(get_default_dtype())
    return _scan(Logcumsumexp, input, dim, "logcumsumexp")


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var(input, ...), mean(input, ...)) over the same dims, with var's arguments."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return (reduce.var(input, dim, unbiased, keepdim, correction=correction),
            reduce.mean(input, dim, keepdim))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std(input, ...), mean(input, ...)) over the same dims, with std's arguments."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return (reduce.std(input, dim, unbiased, keepdim, correction=correction),
            reduce.mean(input, dim, keepdim))
