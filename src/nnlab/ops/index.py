"""Indexing: `getitem` / `index_put` (Python's `[]` on tensors), `gather` / `scatter_add`,
`index_select` / `index_add`, and the segment reductions `segment_sum` / `segment_max` that
graph networks aggregate with.

Each op's backward is its partner op (gather <-> scatter_add, index_select <-> index_add,
getitem <-> GetitemGrad), so all of them are differentiable twice and more. Every
accumulation (the backward of an advanced index, index_add, scatter_add, segment_sum) goes
through one helper, `_sum_rows`: a product with a sparse one-hot matrix, never np.add.at.

Out-of-range indices raise IndexError naming the op, the dimension, the index and the
size (torch raises RuntimeError for gather and friends; IndexError is Python's word).
"""
import math

import numpy as np

from ..autograd import grad_mode
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_array_module
from .broadcast import sum_to
from .shape import reshape

_SPARSE_DTYPES = {np.dtype(t) for t in (np.float32, np.float64, np.complex64, np.complex128,
                                        np.int32, np.int64)}


# -- the one scatter-add ---------------------------------------------------------------
def _sum_rows(index, values, n):
    """`out[k] = sum of values[i] over the i with index[i] == k`, of shape
    (n, *values.shape[1:]); `index` (N,) int64 in [0, n), `values` (N, ...).

    A product with the sparse (n, N) one-hot matrix of `index`: 0.3 ms for N = 10,000 rows
    of 64 float32 features into 2,000 rows, where np.add.at takes 10 ms. Off the CPU (cupy)
    it is xp.add.at, which is atomic adds there."""
    xp = get_array_module(values)
    rows = values.shape[0]
    flat = values.reshape(rows, math.prod(values.shape[1:]))
    if xp is not np:  # pragma: no cover - GPU only
        out = xp.zeros((n, flat.shape[1]), values.dtype)
        xp.add.at(out, index, flat)
    else:
        import scipy.sparse
        if flat.dtype not in _SPARSE_DTYPES:  # float16, bool, small ints
            flat = flat.astype(np.float64 if flat.dtype.kind == "f" else np.int64)
        onehot = scipy.sparse.csc_matrix(
            (np.ones(rows, flat.dtype), index, np.arange(rows + 1)), shape=(n, rows))
        out = np.asarray(onehot @ flat).astype(values.dtype, copy=False)
    return out.reshape((n,) + values.shape[1:])


# -- arguments -------------------------------------------------------------------------
def _index_array(index, op, name="index"):
    """An index argument (Tensor, array, list or int) as an int64 array."""
    data = index._data if isinstance(index, Tensor) else index
    if not hasattr(data, "dtype") or isinstance(data, np.generic):
        data = np.asarray(data)
        if data.size == 0:
            data = data.astype(np.int64)
    if data.dtype.kind not in "iu":
        raise TypeError(f"{op}: {name} must be an integer tensor, got dtype {data.dtype}")
    return data.astype(np.int64, copy=False)


def _check_range(index, size, dim, op):
    """Every entry of `index` in [0, size) (gather and friends take no negative index)."""
    if index.size == 0:
        return
    low, high = int(index.min()), int(index.max())
    if low < 0 or high >= size:
        bad = low if low < 0 else high
        raise IndexError(f"{op}: index {bad} is out of bounds for dimension {dim} with "
                         f"size {size}")


def _dim(dim, ndim, op):
    if not -ndim <= dim < ndim:
        raise IndexError(f"{op}: dimension {dim} is out of range for a tensor with {ndim} "
                         f"dimensions (expected in [{-ndim}, {ndim - 1}])")
    return dim % ndim


def _same_dtype(input, other, name, op):
    if input.dtype != other.dtype:
        raise TypeError(f"{op}: input ({input.dtype}) and {name} ({other.dtype}) must have "
                        "the same dtype")


def _zeros(shape, like):
    """A constant Tensor of zeros (a scatter's blank canvas)."""
    return Tensor._make(get_array_module(like._data).zeros(shape, like.dtype))


def _canonical_key(key, xp):
    """The key as a tuple numpy understands: Tensors as their arrays, lists and bools as
    arrays, 0-d integer arrays as ints. Also: does it hold arrays, and integer arrays."""
    items = key if isinstance(key, tuple) else (key,)
    out = []
    arrays = ints = False
    for k in items:
        if isinstance(k, Tensor):
            k = k._data
        if isinstance(k, (list, bool, np.bool_)):
            k = xp.asarray(k)
            if k.size == 0 and k.dtype.kind == "f":
                k = k.astype(np.int64)
        if hasattr(k, "dtype"):
            if k.ndim == 0 and k.dtype.kind in "iu":
                k = int(k)
            else:
                arrays = True
                ints = ints or k.dtype.kind in "iu"
        out.append(k)
    return tuple(out), arrays, ints


def _row_index(key):
    """The integer array of a key of the form `x[idx]` or `x[idx, :, ...]`, else None."""
    first = key[0]
    if hasattr(first, "dtype") and first.dtype.kind in "iu" and all(
            isinstance(k, slice) and k == slice(None) for k in key[1:]):
        return first
    return None


# -- getitem and index_put -------------------------------------------------------------
class Getitem(Function):
    """Basic indexing (ints, slices, None, Ellipsis): a view."""
    is_view = True

    @staticmethod
    def forward(ctx, x, key):
        ctx.x_shape, ctx.key = x.shape, key
        return x[key]

    @staticmethod
    def backward(ctx, gy):
        return GetitemGrad.apply(gy, ctx.key, ctx.x_shape, False, False)  # dL/dx = gy at key


class AdvancedGetitem(Function):
    """Indexing with integer arrays or boolean masks: a copy."""

    @staticmethod
    def forward(ctx, x, key, accumulate):
        ctx.x_shape, ctx.key, ctx.accumulate = x.shape, key, accumulate
        return x[key]

    @staticmethod
    def backward(ctx, gy):
        # dL/dx = gy summed into the places it was read from (repeated indices add up)
        return GetitemGrad.apply(gy, ctx.key, ctx.x_shape, True, ctx.accumulate), None, None


class GetitemGrad(Function):
    """zeros(x_shape) with gy written (or, for integer arrays, added) at key."""

    @staticmethod
    def forward(ctx, gy, key, x_shape, arrays, accumulate):
        ctx.key, ctx.arrays, ctx.accumulate = key, arrays, accumulate
        xp = get_array_module(gy)
        if not accumulate:  # every place is hit at most once
            gx = xp.zeros(x_shape, gy.dtype)
            gx[key] = gy
            return gx
        rows = _row_index(key)
        if rows is not None:  # x[idx]: add whole rows
            n = x_shape[0]
            rows = xp.where(rows < 0, rows + n, rows).ravel()
            return _sum_rows(rows, gy.reshape((rows.size,) + x_shape[1:]), n)
        size = math.prod(x_shape)
        where = xp.arange(size).reshape(x_shape)[key]  # the flat position each element read
        return _sum_rows(where.ravel(), gy.ravel(), size).reshape(x_shape)

    @staticmethod
    def backward(ctx, ggx):
        return _getitem(ggx, ctx.key, ctx.arrays, ctx.accumulate)  # the adjoint of a scatter


def _getitem(x, key, arrays, ints):
    return AdvancedGetitem.apply(x, key, ints) if arrays else Getitem.apply(x, key)


def getitem(input, key):
    """`input[key]` with numpy's (= torch's) rules: ints, slices, None, Ellipsis, integer
    arrays / lists / tensors and boolean masks. Basic indexing gives a view, advanced a
    copy; repeated indices accumulate their gradients."""
    key, arrays, ints = _canonical_key(key, get_array_module(input._data))
    try:
        return _getitem(input, key, arrays, ints)
    except IndexError as e:
        raise IndexError(f"getitem: {str(e).replace('axis', 'dimension')} (tensor of shape "
                         f"{input.shape})") from None


class IndexPut(Function):
    @staticmethod
    def forward(ctx, x, key, value):
        ctx.key, ctx.value_shape = key, getattr(value, "shape", ())
        out = x.copy()
        out[key] = value
        return out

    @staticmethod
    def backward(ctx, gy):
        need_x, _, need_value = ctx.needs_input_grad
        # dL/dx = gy where x survived, 0 where it was overwritten; dL/dvalue = gy[key]
        gx = IndexPut.apply(gy, ctx.key, 0) if need_x else None
        gv = None
        if need_value:
            g = _getitem(gy, ctx.key, *_canonical_key(ctx.key, np)[1:])
            extra = len(ctx.value_shape) - g.ndim  # value may carry leading 1s
            if extra > 0:
                g = reshape(g, (1,) * extra + g.shape)
            gv = sum_to(g, ctx.value_shape)
        return gx, None, gv


def replay_view(view, t):
    """The view `view` of t: `view` is the chain of view ops (Function class, its other
    arguments, which output) that made a view from its base, replayed on the Tensor t."""
    for cls, args, output in view:
        t = cls.apply(t, *args)
        t = t if output is None else t[output]
    return t


class ViewPut(Function):
    """A copy of x with `value` written into its view `view` (a chain of view ops): the out
    of place form of writing through a view (torch's CopySlices)."""

    @staticmethod
    def forward(ctx, x, value, view):
        ctx.view = view
        out = x.copy()
        with grad_mode.no_grad():
            region = replay_view(view, Tensor._make(out))._data
        region[...] = value
        return out

    @staticmethod
    def backward(ctx, gy):
        need_x, need_value = ctx.needs_input_grad[:2]
        # dL/dx = gy outside the view, 0 inside it; dL/dvalue = the view of gy
        return (ViewPut.apply(gy, 0, ctx.view) if need_x else None,
                replay_view(ctx.view, gy) if need_value else None, None)


def view_put(input, value, view):
    """Out of place: input with `value` written into its view `view` (see ViewPut)."""
    return ViewPut.apply(input, value, view)


def index_put(input, key, value):
    """Out of place `input[key] = value`: a copy of input with value (broadcast to the
    shape of input[key]; a Python scalar, array or tensor) written at key."""
    xp = get_array_module(input._data)
    key = _canonical_key(key, xp)[0]
    if isinstance(value, Tensor):
        if value.dtype != input.dtype:
            value = value.to(input.dtype)
    elif isinstance(value, (list, tuple)):
        value = xp.asarray(value)
    try:
        return IndexPut.apply(input, key, value)
    except IndexError as e:
        raise IndexError(f"index_put: {str(e).replace('axis', 'dimension')} (tensor of "
                         f"shape {input.shape})") from None
    except ValueError:
        raise ValueError(f"index_put: a value of shape {getattr(value, 'shape', ())} cannot "
                         f"be broadcast to the shape {input._data[key].shape} of input[key] "
                         f"(input of shape {input.shape})") from None


# -- gather and scatter_add ------------------------------------------------------------
def _up_to(shape, skip=None):
    """The slices that cut an array down to `shape`, leaving dimension `skip` whole."""
    return tuple(slice(None) if d == skip else slice(0, n) for d, n in enumerate(shape))


def _flat_positions(shape, dim, index):
    """The flat position in an array of `shape` that each entry of `index` addresses
    along `dim` (its own coordinates elsewhere), as scatter_add / gather read it."""
    xp = get_array_module(index)
    strides = [math.prod(shape[d + 1:]) for d in range(len(shape))]
    where = index * strides[dim]
    for d, n in enumerate(index.shape):
        if d != dim:
            where = where + xp.arange(n).reshape((n,) + (1,) * (index.ndim - d - 1)) * strides[d]
    return where


class Gather(Function):
    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.x_shape, ctx.dim, ctx.index = x.shape, dim, index
        xp = get_array_module(x)
        return xp.take_along_axis(x[_up_to(index.shape, dim)], index, axis=dim)

    @staticmethod
    def backward(ctx, gy):
        # dL/dx = gy added back at the places it was picked from
        return ScatterAdd.apply(_zeros(ctx.x_shape, gy), ctx.dim, ctx.index, gy), None, None


class ScatterAdd(Function):
    @staticmethod
    def forward(ctx, x, dim, index, src):
        ctx.dim, ctx.index, ctx.src_shape = dim, index, src.shape
        where = _flat_positions(x.shape, dim, index)
        added = _sum_rows(where.ravel(), src[_up_to(index.shape)].ravel(), x.size)
        return x + added.reshape(x.shape)

    @staticmethod
    def backward(ctx, gy):
        need_x, _, _, need_src = ctx.needs_input_grad
        gsrc = None
        if need_src:  # dL/dsrc = gy gathered at index (0 where src lies beyond index)
            gsrc = Gather.apply(gy, ctx.dim, ctx.index)
            if gsrc.shape != ctx.src_shape:
                gsrc = IndexPut.apply(_zeros(ctx.src_shape, gsrc), _up_to(gsrc.shape), gsrc)
        return (gy if need_x else None), None, None, gsrc  # dL/dx = gy


def _check_scatter(op, input, dim, index, src=None):
    """torch's rules: index has input's number of dimensions, and is no larger than input
    (except along dim) nor than src."""
    if index.ndim != input.ndim:
        raise ValueError(f"{op}: index must have as many dimensions as input; got index of "
                         f"shape {index.shape} for input of shape {input.shape}")
    for d, n in enumerate(index.shape):
        if (d != dim and n > input.shape[d]) or (src is not None and n > src.shape[d]):
            other = "" if src is None else f" and src of shape {src.shape}"
            raise ValueError(f"{op}: index of shape {index.shape} is larger than input of "
                             f"shape {input.shape}{other} at dimension {d} (index may exceed "
                             f"input only along dim={dim})")
    _check_range(index, input.shape[dim], dim, op)


def gather(input, dim, index):
    """`out[i][j][k] = input[index[i][j][k]][j][k]` (for dim=0); out has index's shape.
    index (same number of dimensions as input, int) may be smaller than input."""
    index = _index_array(index, "gather")
    if input.ndim == 0:  # a scalar reads as a 1-element vector, as torch
        return reshape(gather(reshape(input, (1,)), dim, index.reshape(-1)), index.shape)
    dim = _dim(dim, input.ndim, "gather")
    _check_scatter("gather", input, dim, index)
    return Gather.apply(input, dim, index)


def scatter_add(input, dim, index, src):
    """A copy of input with `out[index[i][j][k]][j][k] += src[i][j][k]` (for dim=0);
    repeated indices add up. Only src's leading part of index's shape is read."""
    index = _index_array(index, "scatter_add")
    if input.ndim == 0:
        out = scatter_add(reshape(input, (1,)), dim, index.reshape(-1), reshape(src, (-1,)))
        return reshape(out, ())
    dim = _dim(dim, input.ndim, "scatter_add")
    _same_dtype(input, src, "src", "scatter_add")
    if src.ndim != input.ndim:
        raise ValueError(f"scatter_add: src of shape {src.shape} must have as many "
                         f"dimensions as input of shape {input.shape}")
    _check_scatter("scatter_add", input, dim, index, src)
    return ScatterAdd.apply(input, dim, index, src)


# -- index_select and index_add --------------------------------------------------------
class IndexSelect(Function):
    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.x_shape, ctx.dim, ctx.index = x.shape, dim, index
        return get_array_module(x).take(x, index, axis=dim)

    @staticmethod
    def backward(ctx, gy):
        # dL/dx = gy's slices added back to the rows they were selected from
        return IndexAdd.apply(_zeros(ctx.x_shape, gy), ctx.dim, ctx.index, gy, 1), None, None


class IndexAdd(Function):
    @staticmethod
    def forward(ctx, x, dim, index, source, alpha):
        ctx.dim, ctx.index, ctx.alpha = dim, index, alpha
        xp = get_array_module(x)
        added = xp.moveaxis(_sum_rows(index, xp.moveaxis(source, dim, 0), x.shape[dim]), 0, dim)
        return x + added if alpha == 1 else x + alpha * added

    @staticmethod
    def backward(ctx, gy):
        need_x, _, _, need_source, _ = ctx.needs_input_grad
        gs = None
        if need_source:  # dL/dsource = alpha * gy[index] along dim
            gs = IndexSelect.apply(gy, ctx.dim, ctx.index)
            gs = gs if ctx.alpha == 1 else gs * ctx.alpha
        return (gy if need_x else None), None, None, gs, None  # dL/dx = gy


def _index_vector(index, op):
    index = _index_array(index, op)
    if index.ndim > 1:
        raise ValueError(f"{op}: index must be 1-D, got shape {index.shape}")
    return index.reshape(-1)


def index_select(input, dim, index):
    """The slices `index` (1-D int) of input along dim, in that order (repeats allowed)."""
    index = _index_vector(index, "index_select")
    if input.ndim == 0:
        if index.size != 1:
            raise ValueError(f"index_select: a 0-d input takes exactly one index, got "
                             f"{index.size}")
        return reshape(index_select(reshape(input, (1,)), dim, index), ())
    dim = _dim(dim, input.ndim, "index_select")
    _check_range(index, input.shape[dim], dim, "index_select")
    return IndexSelect.apply(input, dim, index)


def index_add(input, dim, index, source, alpha=1):
    """A copy of input with `alpha * source[i]` added to slice `index[i]` along dim
    (repeated indices add up); source has input's shape except `len(index)` along dim."""
    index = _index_vector(index, "index_add")
    if input.ndim == 0:
        out = index_add(reshape(input, (1,)), dim, index, reshape(source, (-1,)), alpha)
        return reshape(out, ())
    dim = _dim(dim, input.ndim, "index_add")
    _same_dtype(input, source, "source", "index_add")
    expected = input.shape[:dim] + (index.size,) + input.shape[dim + 1:]
    if source.shape != expected:
        raise ValueError(f"index_add: source of shape {source.shape} does not match input "
                         f"of shape {input.shape} with {index.size} indices along dim={dim} "
                         f"(expected {expected})")
    _check_range(index, input.shape[dim], dim, "index_add")
    alpha = alpha.item() if hasattr(alpha, "item") else alpha
    return IndexAdd.apply(input, dim, index, source, alpha)


def _slices_along(input, dim, index, op):
    """The key that picks slices `index` (a 1-D vector) along dim, checked."""
    if input.ndim == 0:
        raise ValueError(f"{op}: expected a tensor of at least 1 dimension, got a 0-d one")
    dim = _dim(dim, input.ndim, op)
    _check_range(index, input.shape[dim], dim, op)
    return (slice(None),) * dim + (index,)


def index_fill(input, dim, index, value):
    """A copy of input with `value` (a number or a 0-d tensor) in its slices `index` along
    dim."""
    index = _index_vector(index, "index_fill")
    return index_put(input, _slices_along(input, dim, index, "index_fill"), value)


def index_copy(input, dim, index, source):
    """A copy of input whose slice index[i] along dim is source's slice i; source has
    input's shape except `len(index)` along dim."""
    index = _index_vector(index, "index_copy")
    key = _slices_along(input, dim, index, "index_copy")
    expected = input._data[key].shape
    if tuple(source.shape) != expected:
        raise ValueError(f"index_copy: source of shape {tuple(source.shape)} does not match "
                         f"input of shape {tuple(input.shape)} with {index.size} indices along "
                         f"dim={dim} (expected {expected})")
    _same_dtype(input, source, "source", "index_copy")
    return index_put(input, key, source)


def scatter(input, dim, index, src=None, value=None):
    """A copy of input with `out[index[i][j][k]][j][k] = src[i][j][k]` (for dim=0), or
    `value` there; only src's leading part of index's shape is read. Where an index repeats,
    one of the writes wins (which one is not specified, as in torch)."""
    if not isinstance(src, Tensor) and src is not None:
        src, value = None, src
    if (src is None) == (value is None):
        raise ValueError("scatter: expected exactly one of src (a tensor) and value")
    index = _index_array(index, "scatter")
    dim = _dim(dim, input.ndim, "scatter")
    _check_scatter("scatter", input, dim, index, src)
    xp = get_array_module(input._data)
    grid = xp.indices(index.shape, sparse=True)
    key = tuple(xp.asarray(index) if d == dim else g for d, g in enumerate(grid))
    if src is None:
        return index_put(input, key, value)
    _same_dtype(input, src, "src", "scatter")
    return index_put(input, key, src[_up_to(index.shape)])


# -- segment reductions ----------------------------------------------------------------
class SegmentSum(Function):
    @staticmethod
    def forward(ctx, data, segment_ids, num_segments):
        ctx.segment_ids = segment_ids
        return _sum_rows(segment_ids, data, num_segments)

    @staticmethod
    def backward(ctx, gy):
        # dL/ddata[i] = gy[segment_ids[i]]
        return IndexSelect.apply(gy, 0, ctx.segment_ids), None, None


class SegmentMax(Function):
    @staticmethod
    def forward(ctx, data, segment_ids, num_segments):
        xp = get_array_module(data)
        n, rest = data.shape[0], data.shape[1:]
        features = math.prod(rest)
        ctx.data_shape, ctx.num_segments = data.shape, num_segments
        out = xp.zeros((num_segments, features), data.dtype)
        order = xp.argsort(segment_ids, kind="stable")
        ids = segment_ids[order]
        first = xp.ones(n, bool)
        xp.not_equal(ids[1:], ids[:-1], out=first[1:])
        starts = xp.flatnonzero(first)
        rows = data.reshape(n, features)[order]
        top = xp.maximum.reduceat(rows, starts, axis=0) if n else rows
        present = ids[starts]
        out[present] = top
        if ctx.needs_input_grad[0]:
            ctx.present = present
            where = _first_hits(rows, top, xp.cumsum(first) - 1)
            arg_rows = order[where].reshape((present.size,) + rest)
            ctx.winners = (arg_rows,) + tuple(  # data[winners] = out[present]
                xp.arange(m).reshape((m,) + (1,) * (len(rest) - 1 - i))
                for i, m in enumerate(rest))
        return out.reshape((num_segments,) + rest)

    @staticmethod
    def backward(ctx, gy):
        # dL/ddata = each segment's gradient sent to its arg-max row (per feature); no place
        # gets two, so it is written, not added
        if ctx.present.size != ctx.num_segments:
            gy = IndexSelect.apply(gy, 0, ctx.present)
        return GetitemGrad.apply(gy, ctx.winners, ctx.data_shape, True, False), None, None


def _first_hits(rows, top, segment):
    """For sorted `rows` (N, F), their segment number (N,) and each segment's maximum
    `top` (P, F): the first row of each segment holding its maximum, per feature (P, F)."""
    xp = get_array_module(rows)
    peak = top[segment]
    hit = rows == peak
    if rows.dtype.kind == "f" and xp.isnan(top).any():  # a NaN is the max of its segment
        hit |= xp.isnan(rows) & xp.isnan(peak)
    r, f = xp.nonzero(hit)
    key = segment[r] * top.shape[1] + f
    if key.size != top.size:  # ties: keep the first hit of each (segment, feature)
        _, firsts = xp.unique(key, return_index=True)
        return r[firsts].reshape(top.shape)
    where = xp.empty(top.size, np.int64)
    where[key] = r
    return where.reshape(top.shape)


def _segments(data, segment_ids, num_segments, op):
    ids = _index_array(segment_ids, op, "segment_ids")
    if ids.ndim != 1 or data.ndim == 0 or ids.shape[0] != data.shape[0]:
        raise ValueError(f"{op}: segment_ids must be 1-D with one id per row of data; got "
                         f"segment_ids of shape {ids.shape} for data of shape {data.shape}")
    if num_segments is None:
        num_segments = int(ids.max()) + 1 if ids.size else 0
    if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= num_segments):
        bad = int(ids.min()) if int(ids.min()) < 0 else int(ids.max())
        raise IndexError(f"{op}: segment id {bad} is out of bounds for num_segments="
                         f"{num_segments}")
    return ids, int(num_segments)


def segment_sum(data, segment_ids, num_segments=None):
    """`out[s] = sum of data[i] over the i with segment_ids[i] == s`: data (N, ...),
    segment_ids (N,) int (sorted or not), out (num_segments, ...); num_segments defaults
    to max id + 1; empty segments give 0 (tf.math.unsorted_segment_sum)."""
    ids, num_segments = _segments(data, segment_ids, num_segments, "segment_sum")
    return SegmentSum.apply(data, ids, num_segments)


def segment_max(data, segment_ids, num_segments=None):
    """`out[s] = max of data[i] over the i with segment_ids[i] == s`, shapes as
    segment_sum; empty segments give 0 (not -inf). The gradient goes to the arg-max row
    of each segment and feature, the first such row on ties (torch's amax splits it)."""
    ids, num_segments = _segments(data, segment_ids, num_segments, "segment_max")
    return SegmentMax.apply(data, ids, num_segments)


# -- runs of slices (a resampling's index) ------------------------------------------
class Take(Function):
    """y = x's slices `index` along `dim` for a non-decreasing index (a resampling's):
    y[..., j, ...] = x[..., index[j], ...]. dL/dx = SumRuns(dL/dy)."""

    @staticmethod
    def forward(ctx, x, dim, index):
        xp = get_array_module(x)
        ctx.args = (dim, index, x.shape[dim])
        return xp.take(x, xp.asarray(index), axis=dim)

    @staticmethod
    def backward(ctx, gy):
        return SumRuns.apply(gy, *ctx.args)


class SumRuns(Function):
    """The adjoint of Take: x[..., i, ...] = sum of g[..., j, ...] over the run of j with
    index[j] = i (0 where there is none). Pass r adds every run's r-th slab at once (a zero
    slab for runs shorter than r), as many passes as the longest run: no scatter."""

    @staticmethod
    def forward(ctx, g, dim, index, n):
        xp = get_array_module(g)
        ctx.args = (dim, index)
        inputs = np.arange(n)
        starts = np.searchsorted(index, inputs)
        lengths = np.searchsorted(index, inputs, side="right") - starts
        blank = xp.zeros(g.shape[:dim] + (1,) + g.shape[dim + 1:], dtype=g.dtype)
        g = xp.concatenate([g, blank], axis=dim)   # slab index.size: zeros
        x = xp.take(g, xp.asarray(np.where(lengths > 0, starts, index.size)), axis=dim)
        for r in range(1, int(lengths.max())):
            x += xp.take(g, xp.asarray(np.where(lengths > r, starts + r, index.size)), axis=dim)
        return x

    @staticmethod
    def backward(ctx, gx):
        return Take.apply(gx, *ctx.args)
