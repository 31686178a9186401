"""Reductions over one, several or all dimensions (`dim`: an int, a tuple, or None for
all), with PyTorch's `keepdim`. Backward broadcasts the gradient back over what was
reduced; every backward is Tensor ops, so each reduction is differentiable twice.

Where a reduction picks elements (amax, amin, max, min, the inf-norms) its gradient goes
to the picked elements only: `amax`/`amin`/`max()` share it evenly among ties, as torch
does, and `max(dim)`/`min(dim)` give it to the returned index."""
import builtins
import math
import operator
from collections import namedtuple

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_array_module, get_default_dtype
from . import elementwise
from .broadcast import broadcast_to
from .shape import reshape

# torch.return_types.max / .min: (values, indices)
max_result = namedtuple("max", ["values", "indices"])
min_result = namedtuple("min", ["values", "indices"])


# -- dimensions ------------------------------------------------------------------------
def _dims(dim, ndim, op=None):
    """`dim` as a sorted tuple of non-negative axes (None or () means every axis)."""
    if dim is None or dim == ():
        return tuple(range(ndim))
    dims = tuple(operator.index(d) for d in dim) if isinstance(dim, (tuple, list)) \
        else (operator.index(dim),)
    bound = ndim or 1   # a 0-d tensor accepts dim 0 and -1, as torch
    where = f"{op}: " if op else ""
    for d in dims:
        if not -bound <= d < bound:
            raise IndexError(f"{where}dimension {d} is out of range for a tensor with {ndim} "
                             f"dimensions (expected in [{-bound}, {bound - 1}])")
    axes = tuple(sorted(d % bound for d in dims))
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"{where}dim {dim} names a dimension more than once")
    return axes if ndim else ()


def _dim(dim, ndim, op):
    """A single `dim` (an int) as a non-negative axis (0 for a 0-d tensor)."""
    if dim is None or isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}: dim must be a single int, got {dim!r}")
    axes = _dims(dim, ndim, op)
    return axes[0] if ndim else 0


def _kept_shape(shape, dims):
    """`shape` with the reduced dimensions set to 1 (the keepdim=True shape)."""
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


def _reduced_shape(shape, dims, keepdim):
    """The output shape of a reduction of `shape` over `dims`."""
    if keepdim:
        return _kept_shape(shape, dims)
    return tuple(n for i, n in enumerate(shape) if i not in dims)


def _expand_back(gy, x_shape, dims, keepdim):
    """The gradient of a reduction broadcast back to the input's shape."""
    if not keepdim:
        gy = reshape(gy, _kept_shape(x_shape, dims))
    return broadcast_to(gy, x_shape)


def _count(shape, dims):
    """How many elements a reduction over `dims` takes for each output element."""
    return math.prod(shape[d] for d in dims)


def _acc_dtype(x):
    """torch's result dtype of sum / prod / cumsum: int64 for integer and bool inputs."""
    return np.int64 if x.dtype.kind in "biu" else None


def _floating(input, op):
    if input.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point tensor, got {input.dtype} "
                           f"(convert it with .float() or .double())")


def _nonempty(input, dims, op):
    if builtins.any(input.shape[d] == 0 for d in dims) or (input._data.size == 0 and not dims):
        raise RuntimeError(f"{op}: cannot reduce over an empty dimension of a tensor of "
                           f"shape {input.shape} (the operation has no identity)")


# -- sums and products -----------------------------------------------------------------
class Sum(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.x_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        return x.sum(axis=dims, keepdims=keepdim, dtype=_acc_dtype(x))

    @staticmethod
    def backward(ctx, gy):
        return _expand_back(gy, ctx.x_shape, ctx.dims, ctx.keepdim)  # d sum = 1 each


class Mean(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.x_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        ctx.count = _count(x.shape, dims)
        return x.mean(axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, gy):
        return _expand_back(gy / ctx.count, ctx.x_shape, ctx.dims, ctx.keepdim)  # 1/n each


class Prod(Function):
    @staticmethod
    def forward(ctx, x, axis, keepdim):
        ctx.axis, ctx.keepdim = axis, keepdim
        ctx.save_for_backward(x)
        return x.prod(axis=axis, keepdims=keepdim, dtype=_acc_dtype(x))

    @staticmethod
    def backward(ctx, gy):
        x, = ctx.saved_tensors
        # dL/dx_i = gy * prod_{j != i} x_j (exact with zeros: no division)
        return _expand_back(gy, x.shape, (ctx.axis,), ctx.keepdim) * _exclusive_prod(x, ctx.axis)


def _along(axis, s):
    """An index that applies the slice `s` to dimension `axis`."""
    return (slice(None),) * axis + (s,)


class Fold(Function):
    """x[0::2] and x[1::2] along `axis`, the odd half padded with `pad` to the length of
    the even half: one level of a product tree."""

    @staticmethod
    def forward(ctx, x, axis, pad):
        xp = get_array_module(x)
        ctx.axis, ctx.n = axis, x.shape[axis]
        even = x[_along(axis, slice(0, None, 2))].copy()
        odd = x[_along(axis, slice(1, None, 2))]
        if ctx.n % 2:
            fill = xp.full(_kept_shape(x.shape, (axis,)), pad, dtype=x.dtype)
            return even, xp.concatenate([odd, fill], axis=axis)
        return even, odd.copy()

    @staticmethod
    def backward(ctx, g_even, g_odd):
        return Unfold.apply(g_even, g_odd, ctx.axis, ctx.n)  # interleave back; the pad gets 0


class Unfold(Function):
    """The inverse of Fold: `even` and `odd` interleaved along `axis` to length n."""

    @staticmethod
    def forward(ctx, even, odd, axis, n):
        xp = get_array_module(even)
        ctx.axis = axis
        shape = list(even.shape)
        shape[axis] = n
        out = xp.empty(shape, dtype=xp.result_type(even, odd))
        out[_along(axis, slice(0, None, 2))] = even
        out[_along(axis, slice(1, None, 2))] = odd[_along(axis, slice(0, n // 2))]
        return out

    @staticmethod
    def backward(ctx, gy):
        return Fold.apply(gy, ctx.axis, 0)  # split into the halves again (pad 0)


def _exclusive_prod(x, axis):
    """prod_{j != i} x_j along `axis`, for every i, by a product tree (up the tree: pair
    products; down: each child gets its parent's exclusive product times its sibling).
    Made of products only, so it is exact with zeros and differentiable to any order."""
    levels = []
    while x.shape[axis] > 1:
        even, odd = Fold.apply(x, axis, 1)
        levels.append((even, odd, x.shape[axis]))
        x = even * odd
    xp = get_array_module(x._data)
    e = Tensor._make(xp.ones(x.shape, dtype=x.dtype))
    for even, odd, n in reversed(levels):
        e = Unfold.apply(e * odd, e * even, axis, n)
    return e


class Cumsum(Function):
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return get_array_module(x).cumsum(x, axis=axis, dtype=_acc_dtype(x))

    @staticmethod
    def backward(ctx, gy):
        return ReverseCumsum.apply(gy, ctx.axis)  # dL/dx_i = sum_{j >= i} gy_j


class ReverseCumsum(Function):
    @staticmethod
    def forward(ctx, g, axis):
        xp = get_array_module(g)
        ctx.axis = axis
        return xp.flip(xp.cumsum(xp.flip(g, axis), axis=axis), axis)

    @staticmethod
    def backward(ctx, gy):
        return Cumsum.apply(gy, ctx.axis)  # the adjoint of a reversed cumsum is a cumsum


# -- extremes --------------------------------------------------------------------------
class Extreme(Function):
    """amax or amin (`name`) over `dims`."""

    @staticmethod
    def forward(ctx, x, dims, keepdim, name):
        xp = get_array_module(x)
        ctx.x_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        y = getattr(xp, name)(x, axis=dims, keepdims=True)
        if ctx.needs_input_grad[0]:
            hit = (x == y).astype(x.dtype)
            count = xp.maximum(hit.sum(axis=dims, keepdims=True), 1)  # 0 only where NaN
            ctx.save_for_backward(hit / count)
        return y if keepdim else y.reshape(_reduced_shape(x.shape, dims, False))

    @staticmethod
    def backward(ctx, gy):
        share, = ctx.saved_tensors
        # dL/dx = gy / (number of ties) at each element equal to the extreme, else 0
        return _expand_back(gy, ctx.x_shape, ctx.dims, ctx.keepdim) * share


class ExtremeDim(Function):
    """max or min (`name`) along one axis: (values, indices)."""

    @staticmethod
    def forward(ctx, x, axis, keepdim, name):
        xp = get_array_module(x)
        ctx.x_shape, ctx.axis, ctx.keepdim = x.shape, axis, keepdim
        x1 = x.reshape(1) if x.ndim == 0 else x
        index = getattr(xp, "arg" + name)(x1, axis=axis, keepdims=True)
        values = xp.take_along_axis(x1, index, axis=axis)
        if ctx.needs_input_grad[0]:
            shape = [1] * x1.ndim
            shape[axis] = x1.shape[axis]
            positions = xp.arange(x1.shape[axis]).reshape(shape)
            ctx.save_for_backward((positions == index).astype(x.dtype).reshape(x.shape))
        shape = _reduced_shape(x.shape, (axis,) if x.ndim else (), keepdim)
        index = index.astype(np.int64).reshape(shape)
        ctx.mark_non_differentiable(index)
        return values.reshape(shape), index

    @staticmethod
    def backward(ctx, gy, g_index):
        one_hot, = ctx.saved_tensors
        dims = (ctx.axis,) if ctx.x_shape else ()
        # dL/dx = gy at the returned index, 0 elsewhere
        return _expand_back(gy, ctx.x_shape, dims, ctx.keepdim) * one_hot


# -- statistics ------------------------------------------------------------------------
def _sum_of_squares_over(x, dims, correction, keepdim):
    """(sum (x - mean)^2 over dims, the degrees of freedom max(N - correction, 0))."""
    d = x - x.mean(axis=dims, keepdims=True)
    return (d * d).sum(axis=dims, keepdims=keepdim), builtins.max(
        _count(x.shape, dims) - correction, 0)


class Var(Function):
    @staticmethod
    def forward(ctx, x, dims, correction, keepdim):
        ctx.dims, ctx.keepdim = dims, keepdim
        ss, ctx.dof = _sum_of_squares_over(x, dims, correction, keepdim)
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):  # dof 0 gives inf / nan, as torch
            return ss / x.dtype.type(ctx.dof)

    @staticmethod
    def backward(ctx, gy):
        x, = ctx.saved_tensors
        scale = 2 / ctx.dof if ctx.dof else math.inf
        centred = x - Mean.apply(x, ctx.dims, True)
        # dL/dx = gy * 2 (x - mean(x)) / (N - correction)
        return _expand_back(gy, x.shape, ctx.dims, ctx.keepdim) * centred * scale


class Std(Function):
    @staticmethod
    def forward(ctx, x, dims, correction, keepdim):
        xp = get_array_module(x)
        ctx.dims, ctx.keepdim = dims, keepdim
        ss, ctx.dof = _sum_of_squares_over(x, dims, correction, keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            y = xp.sqrt(ss / x.dtype.type(ctx.dof))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        scale = 1 / ctx.dof if ctx.dof else math.inf
        zero = y == 0
        g = elementwise.where(zero, 0.0, gy / elementwise.where(zero, 1.0, y))
        centred = x - Mean.apply(x, ctx.dims, True)
        # dL/dx = gy (x - mean(x)) / ((N - correction) std), 0 where std = 0 (as torch)
        return _expand_back(g, x.shape, ctx.dims, ctx.keepdim) * centred * scale


class Logsumexp(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        xp = get_array_module(x)
        ctx.dims, ctx.keepdim = dims, keepdim
        m = xp.amax(x, axis=dims, keepdims=True) if x.size else xp.zeros((), x.dtype)
        m = xp.where(xp.isfinite(m), m, 0)  # rows of -inf (or with +inf) need no shift
        with np.errstate(divide="ignore"):  # log(0) = -inf for a row of -inf
            y = xp.log(xp.exp(x - m).sum(axis=dims, keepdims=True)) + m
        y = y if keepdim else y.reshape(_reduced_shape(x.shape, dims, False))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        expand = lambda t: _expand_back(t, x.shape, ctx.dims, ctx.keepdim)
        return expand(gy) * elementwise.exp(x - expand(y))  # dL/dx = gy * softmax(x)


class PNorm(Function):
    """(sum |x|^p)^(1/p) over `dims`, for finite p other than 0 and 1."""

    @staticmethod
    def forward(ctx, x, p, dims, keepdim):
        xp = get_array_module(x)
        ctx.p, ctx.dims, ctx.keepdim = p, dims, keepdim
        if p == 2:
            y = xp.sqrt((x * x).sum(axis=dims, keepdims=keepdim))
        else:
            with np.errstate(divide="ignore"):  # 0^p for p < 0 is inf, as torch
                y = (xp.abs(x) ** p).sum(axis=dims, keepdims=keepdim) ** (1 / p)
        y = y.astype(x.dtype, copy=False)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        p = ctx.p
        y = elementwise.where(y == 0, 1.0, y)  # a zero norm has gradient 0, as torch
        if p == 2:
            # dL/dx = gy * x / ||x||
            return x * _expand_back(gy / y, x.shape, ctx.dims, ctx.keepdim)
        # dL/dx = gy * sign(x) |x|^(p-1) / ||x||^(p-1)
        return (elementwise.sign(x) * elementwise.abs(x) ** (p - 1)
                * _expand_back(gy / y ** (p - 1), x.shape, ctx.dims, ctx.keepdim))


# -- public functions ------------------------------------------------------------------
def sum(input, dim=None, keepdim=False):
    """The sum over `dim` (int64 for integer and bool inputs, as torch)."""
    return Sum.apply(input, _dims(dim, input.ndim, "sum"), keepdim)


def mean(input, dim=None, keepdim=False):
    """The mean over `dim`."""
    _floating(input, "mean")
    return Mean.apply(input, _dims(dim, input.ndim, "mean"), keepdim)


def prod(input, dim=None, keepdim=False):
    """The product over `dim` (an int, or None for all; a tuple too, unlike torch). Its
    gradient prod_{j != i} x_j is computed without division, so zeros are exact."""
    dims = _dims(dim, input.ndim, "prod")
    if dim is None or input.ndim == 0:
        out = Prod.apply(reshape(input, (-1,)), 0, False)
        return reshape(out, (1,) * input.ndim) if keepdim else out
    out = input
    for axis in dims:
        out = Prod.apply(out, axis, True)
    return out if keepdim else reshape(out, _reduced_shape(input.shape, dims, False))


def _extreme(input, dim, keepdim, name):
    """max or min: one value (dim None) or (values, indices) along dim."""
    if isinstance(dim, Tensor):  # torch.max(input, other) is the elementwise maximum
        return getattr(elementwise, name + "imum")(input, dim)
    if dim is None:
        dims = _dims(None, input.ndim, name)
        _nonempty(input, dims, name)
        return Extreme.apply(input, dims, keepdim, "a" + name)
    axis = _dim(dim, input.ndim, name)
    _nonempty(input, (axis,) if input.ndim else (), name)
    result = max_result if name == "max" else min_result
    return result(*ExtremeDim.apply(input, axis, keepdim, name))


def max(input, dim=None, keepdim=False):
    """dim None: the largest value (its gradient shared evenly among ties, as torch's
    max()); an int dim: the namedtuple (values, indices), the gradient going to indices.
    A tensor as `dim` gives the elementwise maximum, as torch.max(input, other)."""
    return _extreme(input, dim, keepdim, "max")


def min(input, dim=None, keepdim=False):
    """As `max`, for the smallest value: min() or (values, indices) along `dim`."""
    return _extreme(input, dim, keepdim, "min")


def amax(input, dim=(), keepdim=False):
    """The largest value over `dim` (() or None: every dim); the gradient is shared evenly
    among ties."""
    dims = _dims(dim, input.ndim, "amax")
    _nonempty(input, dims, "amax")
    return Extreme.apply(input, dims, keepdim, "amax")


def amin(input, dim=(), keepdim=False):
    """The smallest value over `dim` (() or None: every dim); ties share the gradient."""
    dims = _dims(dim, input.ndim, "amin")
    _nonempty(input, dims, "amin")
    return Extreme.apply(input, dims, keepdim, "amin")


def _arg(input, dim, keepdim, name):
    xp = get_array_module(input._data)
    x = input._data
    if dim is None:   # an index into the flattened tensor
        _nonempty(input, (), name)
        index = getattr(xp, name)(x.reshape(-1))
        shape = (1,) * x.ndim if keepdim else ()
    else:
        axis = _dim(dim, x.ndim, name)
        _nonempty(input, (axis,) if x.ndim else (), name)
        index = getattr(xp, name)(x.reshape(1) if x.ndim == 0 else x, axis=axis, keepdims=True)
        shape = _reduced_shape(x.shape, (axis,) if x.ndim else (), keepdim)
    return Tensor._make(xp.asarray(index, dtype=np.int64).reshape(shape))


def argmax(input, dim=None, keepdim=False):
    """The index of the largest value along `dim` (None: into the flattened tensor); the
    first one among ties; int64, no gradient."""
    return _arg(input, dim, keepdim, "argmax")


def argmin(input, dim=None, keepdim=False):
    """The index of the smallest value along `dim` (None: into the flattened tensor)."""
    return _arg(input, dim, keepdim, "argmin")


def _correction(unbiased, correction, op):
    if unbiased is not None and correction is not None:
        raise ValueError(f"{op}: give either unbiased or correction, not both")
    if correction is not None:
        return correction
    return 0 if unbiased is False else 1


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """The variance sum (x - mean)^2 / max(N - correction, 0) over `dim`; correction is 1
    by default, 0 with unbiased=False. `var(x, False)` means unbiased=False, as torch."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    _floating(input, "var")
    c = _correction(unbiased, correction, "var")
    return Var.apply(input, _dims(dim, input.ndim, "var"), c, keepdim)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """sqrt(var(...)) with var's arguments. Where it is 0 (a constant input) its gradient
    is taken as 0, as torch does (not the 0/0 of the formula)."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    _floating(input, "std")
    c = _correction(unbiased, correction, "std")
    return Std.apply(input, _dims(dim, input.ndim, "std"), c, keepdim)


def norm(input, p="fro", dim=None, keepdim=False):
    """The vector p-norm over `dim` (None: every element), as torch.linalg.vector_norm:
    'fro' or 2: sqrt(sum x^2) (gradient 0 at 0, as torch); 1: sum |x|; inf / -inf:
    max / min |x|; 0: the count of non-zeros; other p: (sum |x|^p)^(1/p)."""
    _floating(input, "norm")
    if isinstance(p, str):
        if p != "fro":
            raise ValueError(f"norm: p={p!r} is not supported (expected 'fro' or a number; "
                             "the nuclear norm is not implemented)")
        p = 2
    dims = _dims(dim, input.ndim, "norm")
    if p == math.inf:
        return amax(elementwise.abs(input), dims, keepdim)
    if p == -math.inf:
        return amin(elementwise.abs(input), dims, keepdim)
    if p == 0:
        return sum(elementwise.sign(elementwise.abs(input)), dims, keepdim)
    if p == 1:
        return sum(elementwise.abs(input), dims, keepdim)
    return PNorm.apply(input, float(p), dims, keepdim)


def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(x))) over `dim`, computed as m + log(sum(exp(x - m))) with m the max,
    so that large inputs do not overflow; rows of -inf give -inf."""
    if input.dtype.kind != "f":
        input = input.to(get_default_dtype())
    return Logsumexp.apply(input, _dims(dim, input.ndim, "logsumexp"), keepdim)


def cumsum(input, dim):
    """The running sum along `dim` (int64 for integer and bool inputs, as torch)."""
    axis = _dim(dim, input.ndim, "cumsum")
    if input.ndim == 0:
        return reshape(Cumsum.apply(reshape(input, (1,)), 0), ())
    return Cumsum.apply(input, axis)


def _logical(input, dim, keepdim, name):
    xp = get_array_module(input._data)
    dims = _dims(dim, input.ndim, name)
    return Tensor._make(xp.asarray(getattr(xp, name)(input._data, axis=dims, keepdims=keepdim)))


def all(input, dim=None, keepdim=False):
    """Whether every element over `dim` is non-zero (bool, no gradient)."""
    return _logical(input, dim, keepdim, "all")


def any(input, dim=None, keepdim=False):
    """Whether some element over `dim` is non-zero (bool, no gradient)."""
    return _logical(input, dim, keepdim, "any")
