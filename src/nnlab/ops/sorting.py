"""Sorting and order statistics along one dimension: `sort`, `argsort`, `msort`, `topk`,
`kthvalue`, `median` / `nanmedian`, `mode`, `quantile` / `nanquantile`, `cummax` /
`cummin`.

Each op finds its indices with array code (a stable argsort, NaN ordered as the largest
value, as torch) and reads its values with `gather`. So the gradient of every value is
gather's backward, a scatter-add of the incoming gradient into zeros at the indices (for
sort and topk, where no index repeats along a row, torch's scatter), which is itself
differentiable; the indices are int64 and carry no gradient.

Where torch leaves the index among equal values unspecified (sort with stable=False,
topk, kthvalue, median, mode) these ops give a documented one: the stable order, and for
mode the last occurrence (what torch's CPU kernel gives)."""
from collections import namedtuple

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_array_module
from .elementwise import mul, sub
from .index import Gather
from .shape import movedim, reshape, squeeze, unsqueeze

# torch.return_types.*: (values, indices)
sort_result = namedtuple("sort", ["values", "indices"])
topk_result = namedtuple("topk", ["values", "indices"])
kthvalue_result = namedtuple("kthvalue", ["values", "indices"])
median_result = namedtuple("median", ["values", "indices"])
nanmedian_result = namedtuple("nanmedian", ["values", "indices"])
mode_result = namedtuple("mode", ["values", "indices"])
cummax_result = namedtuple("cummax", ["values", "indices"])
cummin_result = namedtuple("cummin", ["values", "indices"])

INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


# -- helpers ---------------------------------------------------------------------------
def _axis(input, dim, op):
    """`dim` as a non-negative axis of `input` seen as at least 1-D (a 0-d tensor takes
    dim 0 or -1, as torch)."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    ndim = input.ndim or 1
    if not -ndim <= dim < ndim:
        raise IndexError(f"{op}: dimension {dim} is out of range for a tensor with "
                         f"{input.ndim} dimensions (expected in [{-ndim}, {ndim - 1}])")
    return int(dim) % ndim


def _at_least_1d(input):
    return reshape(input, (1,)) if input.ndim == 0 else input


def _nonempty(x, axis, op):
    if x.shape[axis] == 0:
        raise IndexError(f"{op}: cannot take a value along dimension {axis} of size 0 "
                         f"(tensor of shape {tuple(x.shape)})")


def _order(x, axis, descending=False):
    """The stable sorting permutation of array x along axis, NaN counting as the largest
    value. Descending keeps equal values in their original order too: sort the reversed
    row ascending, reverse the result, and map positions back (i -> n - 1 - i)."""
    xp = get_array_module(x)
    if not descending:
        return xp.argsort(x, axis=axis, kind="stable")
    backwards = xp.argsort(xp.flip(x, axis), axis=axis, kind="stable")
    return x.shape[axis] - 1 - xp.flip(backwards, axis)


def _pick(x, axis, index, keepdim=True):
    """(x's values at `index` along axis, the indices as a Tensor), without the axis
    unless keepdim. The values are a gather: their gradient is scattered back."""
    values, indices = Gather.apply(x, axis, index), Tensor._make(index)
    if keepdim:
        return values, indices
    return squeeze(values, axis), squeeze(indices, axis)


def _like(t, input):
    """t reshaped back to () when input was 0-d (the ops work on it as shape (1,))."""
    return reshape(t, ()) if input.ndim == 0 else t


def _slab(index, axis, start, stop):
    """Entries start..stop-1 of an index array along axis."""
    return index[(slice(None),) * axis + (slice(start, stop),)]


# -- sort ------------------------------------------------------------------------------
def sort(input, dim=-1, descending=False, stable=False):
    """The namedtuple (values, indices): input sorted along dim, and where each value came
    from, `values = input.gather(dim, indices)`. NaN sorts as the largest value. The order
    is always stable (equal values keep their order), which stable=False also allows."""
    axis = _axis(input, dim, "sort")
    x = _at_least_1d(input)
    values, indices = _pick(x, axis, _order(x._data, axis, descending))
    return sort_result(_like(values, input), _like(indices, input))


def argsort(input, dim=-1, descending=False, stable=False):
    """The indices that sort input along dim (int64; `sort(...).indices`)."""
    axis = _axis(input, dim, "argsort")
    return _like(Tensor._make(_order(_at_least_1d(input)._data, axis, descending)), input)


def msort(input):
    """input sorted along its first dimension (`sort(input, dim=0).values`)."""
    return sort(input, dim=0).values


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The namedtuple (values, indices) of the k largest (largest=False: smallest) values
    along dim, in sorted order (also when sorted=False, which leaves the order free).
    NaN counts as the largest value; among equal values the first ones are taken."""
    axis = _axis(input, dim, "topk")
    x = _at_least_1d(input)
    n = x.shape[axis]
    if not 0 <= k <= n:
        raise IndexError(f"topk: k={k} is out of range for dimension {dim} of size {n} "
                         f"(expected 0 <= k <= {n})")
    values, indices = _pick(x, axis, _slab(_order(x._data, axis, largest), axis, 0, k))
    return topk_result(_like(values, input), _like(indices, input))


def kthvalue(input, k, dim=-1, keepdim=False):
    """The namedtuple (values, indices) of the k-th smallest value along dim (k counts
    from 1); NaN counts as the largest value."""
    axis = _axis(input, dim, "kthvalue")
    x = _at_least_1d(input)
    n = x.shape[axis]
    if not 1 <= k <= n:
        raise IndexError(f"kthvalue: k={k} is out of range for dimension {dim} of size {n} "
                         f"(expected 1 <= k <= {n})")
    index = _slab(_order(x._data, axis), axis, k - 1, k)
    return kthvalue_result(*(_like(t, input) for t in _pick(x, axis, index, keepdim)))


# -- median and mode -------------------------------------------------------------------
class EvenlyShared(Function):
    """A value of x (`value`, a 0-d array: a median) whose gradient is shared evenly by
    the elements of x equal to it (all NaNs, when it is NaN), as torch's median()."""

    @staticmethod
    def forward(ctx, x, value):
        xp = get_array_module(x)
        hit = (x == value) | (xp.isnan(x) & xp.isnan(value))
        ctx.share = hit.astype(x.dtype) / hit.sum()
        return value.copy()

    @staticmethod
    def backward(ctx, gy):
        return gy * Tensor._make(ctx.share), None  # dL/dx = gy / (number of ties) at ties


def _median_index(x, axis, ignore_nan):
    """The index array (keepdims) of the lower median along axis: the element at sorted
    position (n - 1) // 2, n counting the non-NaN values for nanmedian. median gives NaN
    (the first NaN's index) for a row holding one."""
    xp = get_array_module(x)
    order = _order(x, axis)
    nan = xp.isnan(x) if x.dtype.kind == "f" else xp.zeros(x.shape, bool)
    if ignore_nan:
        count = x.shape[axis] - nan.sum(axis=axis, keepdims=True)
        return xp.take_along_axis(order, xp.maximum(count - 1, 0) // 2, axis=axis)
    middle = (x.shape[axis] - 1) // 2
    index = _slab(order, axis, middle, middle + 1)
    return xp.where(nan.any(axis=axis, keepdims=True),
                    nan.argmax(axis=axis, keepdims=True), index)


def _median(input, dim, keepdim, ignore_nan, op, result):
    if dim is None:
        if keepdim:
            raise TypeError(f"{op}: keepdim needs a dim (the median of all elements is one "
                            "value)")
        flat = reshape(input, (-1,))
        _nonempty(flat, 0, op)
        index = _median_index(flat._data, 0, ignore_nan)
        return EvenlyShared.apply(input, flat._data[index].reshape(()))
    axis = _axis(input, dim, op)
    x = _at_least_1d(input)
    _nonempty(x, axis, op)
    picked = _pick(x, axis, _median_index(x._data, axis, ignore_nan), keepdim)
    return result(*(_like(t, input) for t in picked))


def median(input, dim=None, keepdim=False):
    """The lower median (for an even count, the smaller of the two middle values; NaN if
    there is one). No dim: one value, its gradient shared evenly among the elements equal
    to it; with dim: the namedtuple (values, indices), the gradient going to indices."""
    return _median(input, dim, keepdim, False, "median", median_result)


def nanmedian(input, dim=None, keepdim=False):
    """median ignoring NaNs (NaN only where every value is NaN)."""
    return _median(input, dim, keepdim, True, "nanmedian", nanmedian_result)


def _mode_index(x):
    """For rows x (R, n): the index of each row's most frequent value, the smallest such
    value on ties, its last occurrence (as torch's CPU kernel)."""
    xp = get_array_module(x)
    rows, n = x.shape
    order = xp.argsort(x, axis=1, kind="stable")
    s = xp.take_along_axis(x, order, axis=1)
    start = xp.ones((rows, n), bool)
    start[:, 1:] = s[:, 1:] != s[:, :-1]
    end = xp.ones((rows, n), bool)
    end[:, :-1] = start[:, 1:]
    positions = xp.arange(n)
    run_start = xp.maximum.accumulate(xp.where(start, positions, 0), axis=1)
    length = xp.where(end, positions - run_start + 1, 0)  # each run's length at its end
    best = length.argmax(axis=1)[:, None]  # the first longest run: the smallest value
    return xp.take_along_axis(order, best, axis=1)  # its last member, stable: last index


def mode(input, dim=-1, keepdim=False):
    """The namedtuple (values, indices) of the most frequent value along dim (the
    smallest of them on ties), indices pointing at its last occurrence."""
    axis = _axis(input, dim, "mode")
    x = _at_least_1d(input)
    _nonempty(x, axis, "mode")
    xp = get_array_module(x._data)
    moved = xp.moveaxis(x._data, axis, -1)
    index = _mode_index(moved.reshape(-1, moved.shape[-1]))
    index = xp.moveaxis(index.reshape(moved.shape[:-1] + (1,)), -1, axis)
    return mode_result(*(_like(t, input) for t in _pick(x, axis, index, keepdim)))


# -- quantile --------------------------------------------------------------------------
def _q(q, input, op):
    """(q as a Tensor of input's dtype, whether it was a scalar)."""
    xp = get_array_module(input._data)
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise ValueError(f"{op}: q must be a scalar or a 1-D tensor, got shape {q.shape}")
        if q.dtype != input.dtype:
            raise TypeError(f"{op}: q ({q.dtype}) must have the dtype of input "
                            f"({input.dtype})")
        scalar = q.ndim == 0
    else:
        scalar = isinstance(q, (float, int, np.floating, np.integer))
        q = Tensor._make(xp.asarray(q, dtype=input.dtype))
        if q.ndim > 1:
            raise ValueError(f"{op}: q must be a number or a 1-D sequence, got shape "
                             f"{q.shape}")
    data = q._data
    if data.size and not (xp.all(data >= 0) and xp.all(data <= 1)):
        raise ValueError(f"{op}: q must be in the range [0, 1], got {data.tolist()}")
    return (reshape(q, (1,)) if q.ndim == 0 else q), scalar


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, op):
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: input must be a float or double tensor, got {input.dtype}")
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"{op}: interpolation must be one of {INTERPOLATIONS}, got "
                         f"{interpolation!r}")
    q, scalar = _q(q, input, op)
    if dim is None:
        rows, axis = reshape(input, (-1,)), 0
    else:
        axis = _axis(input, dim, op)
        rows = _at_least_1d(input)
    s = sort(movedim(rows, axis, -1), -1).values  # (..., n), sorted
    _nonempty(s, s.ndim - 1, op)
    xp = get_array_module(s._data)
    n = s.shape[-1]
    nan = xp.isnan(s._data)
    # rank = q * (n - 1): a fractional position in the sorted row; NaN rows read NaN
    # (quantile: rank n - 1, where the NaNs are) or skip them (nanquantile)
    if ignore_nan:
        scale = xp.maximum(n - nan.sum(axis=-1, keepdims=True) - 1, 0)
        offset = 0
    else:
        has_nan = nan.any(axis=-1, keepdims=True)
        scale, offset = xp.where(has_nan, 0, n - 1), xp.where(has_nan, n - 1, 0)
    rank = mul(q, Tensor._make(scale.astype(s.dtype))) + Tensor._make(
        xp.asarray(offset, s.dtype))  # (..., m), differentiable in q
    r = rank._data
    rounding = {"higher": xp.ceil, "nearest": xp.round}.get(interpolation, xp.floor)
    below = rounding(r).astype(np.int64)
    out = Gather.apply(s, s.ndim - 1, below)
    if interpolation in ("linear", "midpoint"):
        above = Gather.apply(s, s.ndim - 1, xp.ceil(r).astype(np.int64))
        weight = sub(rank, Tensor._make(below.astype(s.dtype))) \
            if interpolation == "linear" else 0.5
        out = out + mul(weight, above - out)  # lerp(below, above, weight)
    out = squeeze(out, -1) if scalar else movedim(out, -1, 0)  # (m, ...) for a vector q
    if keepdim and input.ndim:
        lead = 0 if scalar else 1
        for d in range(input.ndim) if dim is None else (axis,):
            out = unsqueeze(out, lead + d)
    return out


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The q-th quantiles along dim (None: of all elements): q a number or a 1-D tensor
    in [0, 1]; the rank r = q (n - 1) in the sorted row, read between sorted[floor r]
    and sorted[ceil r] as `interpolation` says (linear: lerp by r - floor r; lower,
    higher, midpoint, nearest (half to even)). A vector q adds a leading dimension.
    NaN where a row holds NaN. Differentiable in input and in q."""
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """quantile ignoring NaNs (r = q (count of non-NaN - 1); NaN only for rows of NaN)."""
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


# -- running extremes ------------------------------------------------------------------
def _running(input, dim, name, result):
    """cummax or cummin: the running extreme and the index it came from; on ties the later
    index, and a NaN, once met, stays (its last index), as torch."""
    axis = _axis(input, dim, name)
    x = _at_least_1d(input)
    xp = get_array_module(x._data)
    data = x._data
    running = getattr(xp, name[3:] + "imum").accumulate(data, axis=axis)  # NaN propagates
    hit = data == running
    if data.dtype.kind == "f":
        hit |= xp.isnan(data)
    shape = [1] * data.ndim
    shape[axis] = data.shape[axis]
    positions = xp.arange(data.shape[axis]).reshape(shape)
    index = xp.maximum.accumulate(xp.where(hit, positions, 0), axis=axis)  # the last hit
    values, indices = _pick(x, axis, index)
    return result(_like(values, input), _like(indices, input))


def cummax(input, dim):
    """The namedtuple (values, indices) of the running maximum along dim; the gradient of
    values[i] goes to input[indices[i]] (added up where an index repeats)."""
    return _running(input, dim, "cummax", cummax_result)


def cummin(input, dim):
    """The namedtuple (values, indices) of the running minimum along dim."""
    return _running(input, dim, "cummin", cummin_result)

