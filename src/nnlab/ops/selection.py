"""Searching, counting and selecting: `unique`, `unique_consecutive`, `nonzero`,
`argwhere`, `bincount`, `histc`, `searchsorted`, `bucketize`, `aminmax`,
`count_nonzero`, `masked_select`, `take`, `take_along_dim`.

The ops that answer with integers (positions, counts) or with a histogram are array code
and carry no gradient, as in torch. The ops that return input's values are compositions
of differentiable ops: `masked_select` and `take` index (their gradient is written or
added back at the places read), `take_along_dim` gathers (its backward a scatter-add),
`aminmax` is (amin, amax), whose gradients are shared evenly among ties."""
import math
from collections import namedtuple

import numpy as np

from ..autograd.tensor import Tensor
from ..backend import get_array_module
from .broadcast import broadcast_to
from .index import gather, getitem
from .reduce import _dims, amax, amin
from .shape import reshape

aminmax_result = namedtuple("aminmax", ["min", "max"])  # torch.return_types.aminmax


def _data(t):
    """A tensor's array (other array-likes as arrays)."""
    return t._data if isinstance(t, Tensor) else np.asarray(t)


def _integers(t, op, name="input"):
    data = _data(t)
    if data.dtype.kind not in "iu":
        raise TypeError(f"{op}: {name} must be an integer tensor, got dtype {data.dtype}")
    return data.astype(np.int64, copy=False)


def _make(array, dtype=None):
    """A constant (gradient-free) Tensor of an array (or a numpy scalar)."""
    if isinstance(array, np.generic):
        array = np.asarray(array)
    return Tensor._make(array if dtype is None else array.astype(dtype, copy=False))


def _dim(dim, ndim, op):
    if not -ndim <= dim < ndim:
        raise IndexError(f"{op}: dimension {dim} is out of range for a tensor with {ndim} "
                         f"dimensions (expected in [{-ndim}, {ndim - 1}])")
    return dim % ndim


# -- unique ----------------------------------------------------------------------------
def _results(output, inverse, counts, return_inverse, return_counts):
    """torch's shape of the answer: output alone, or a plain tuple with what was asked."""
    out = [_make(output)]
    if return_inverse:
        out.append(_make(inverse, np.int64))
    if return_counts:
        out.append(_make(counts, np.int64))
    return out[0] if len(out) == 1 else tuple(out)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct elements of input (dim None; flattened) or its distinct slices along
    dim, in ascending order (also for sorted=False, which leaves the order free), with
    optionally `inverse` (where each element or slice went: input's shape, or (size of
    dim,)) and `counts`. NaNs are not equal to each other, as torch. No gradient."""
    x = input._data
    xp = get_array_module(x)
    if dim is None:
        output, inverse, counts = xp.unique(x.reshape(-1), return_inverse=True,
                                            return_counts=True, equal_nan=False)
        inverse = inverse.reshape(x.shape)
    else:
        axis = _dim(dim, x.ndim, "unique")
        output, inverse, counts = xp.unique(x, return_inverse=True, return_counts=True,
                                            axis=axis, equal_nan=False)
        inverse = inverse.reshape(-1)
    return _results(output, inverse, counts, return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """input (flattened, or along dim) with each run of equal consecutive elements (or
    slices) kept once; inverse and counts as in `unique`. No gradient."""
    x = input._data
    xp = get_array_module(x)
    if dim is None:
        rows, shape = x.reshape(-1, 1), x.shape
        axis = 0
    else:
        axis = _dim(dim, x.ndim, "unique_consecutive")
        moved = xp.moveaxis(x, axis, 0)
        rows, shape = moved.reshape(moved.shape[0], -1), (x.shape[axis],)
    n = rows.shape[0]
    start = xp.ones(n, bool)
    start[1:] = (rows[1:] != rows[:-1]).any(axis=1)  # a row unlike the one before it
    firsts = xp.flatnonzero(start)
    inverse = (xp.cumsum(start) - 1).reshape(shape)
    counts = xp.diff(xp.append(firsts, n))
    output = x.reshape(-1)[firsts] if dim is None else xp.take(x, firsts, axis=axis)
    return _results(output, inverse, counts, return_inverse, return_counts)


# -- positions -------------------------------------------------------------------------
def nonzero(input, *, as_tuple=False):
    """The indices of the non-zero elements, in row-major order: an (N, ndim) int64
    tensor, or with as_tuple=True one 1-D tensor per dimension (for a 0-d input, one).
    No gradient."""
    x = input._data
    xp = get_array_module(x)
    where = xp.nonzero(x.reshape(1) if x.ndim == 0 else x)
    if as_tuple:
        return tuple(_make(w, np.int64) for w in where)
    if x.ndim == 0:
        return _make(xp.zeros((where[0].size, 0), np.int64))
    return _make(xp.stack(where, axis=1), np.int64)


def argwhere(input):
    """The (N, ndim) indices of the non-zero elements (`nonzero(input)`)."""
    return nonzero(input)


def count_nonzero(input, dim=None):
    """The number of non-zero elements over dim (an int, a tuple, or None for all); int64."""
    dims = _dims(dim, input.ndim, "count_nonzero")
    counts = (input._data != 0).sum(axis=dims, dtype=np.int64)
    return _make(counts, np.int64)


# -- counting --------------------------------------------------------------------------
def bincount(input, weights=None, minlength=0):
    """`out[k]` = how many times k occurs in input (1-D, non-negative ints), or the sum of
    `weights` (input's shape) where it does; max(max(input) + 1, minlength) bins. int64
    counts; weighted sums in float32 for float32 weights, else float64. No gradient."""
    x = _integers(input, "bincount")
    if x.ndim != 1 or (x.size and x.min() < 0):
        raise ValueError(f"bincount: input must be 1-D and non-negative, got shape {x.shape}"
                         f"{' with negative values' if x.ndim == 1 else ''}")
    if minlength < 0:
        raise ValueError(f"bincount: minlength must be non-negative, got {minlength}")
    xp = get_array_module(x)
    if weights is None:
        return _make(xp.bincount(x, minlength=minlength), np.int64)
    w = _data(weights)
    if w.shape != x.shape:
        raise ValueError(f"bincount: weights of shape {w.shape} must have input's shape "
                         f"{x.shape}")
    dtype = np.float32 if w.dtype == np.float32 else np.float64
    return _make(xp.bincount(x, w.astype(np.float64), minlength=minlength), dtype)


def histc(input, bins=100, min=0, max=0):
    """A histogram of input's elements in `bins` equal bins over [min, max] (both 0: the
    data's min and max; still equal: widened by 1 each way). Element x goes to bin
    floor((x - min) bins / (max - min)), x = max to the last one; elements outside are
    ignored. Shape (bins,), input's dtype. No gradient."""
    x = input._data
    if x.dtype.kind != "f":
        raise TypeError(f"histc: input must be a floating point tensor, got {x.dtype}")
    if bins <= 0:
        raise ValueError(f"histc: bins must be > 0, got {bins}")
    xp = get_array_module(x)
    low, high = x.dtype.type(min), x.dtype.type(max)
    if low == high and x.size:
        low, high = x.min(), x.max()
    if low == high:
        low, high = low - 1, high + 1
    if low > high:
        raise ValueError(f"histc: max must be larger than min, got min={min}, max={max}")
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"histc: range of [{low}, {high}] is not finite")
    inside = x[(x >= low) & (x <= high)]
    where = ((inside - low) * x.dtype.type(bins) / (high - low)).astype(np.int64)
    where = xp.minimum(where, bins - 1)  # the last bin holds its right edge
    return _make(xp.bincount(where, minlength=bins).astype(x.dtype))


# -- searching -------------------------------------------------------------------------
def _side(right, side, op):
    if side is None:
        return "right" if right else "left"
    if side not in ("left", "right"):
        raise ValueError(f"{op}: side must be 'left' or 'right', got {side!r}")
    if right and side == "left":
        raise ValueError(f"{op}: side and right can't be set to opposites, got side='left' "
                         "while right=True")
    return side


def searchsorted(sorted_sequence, values, *, out_int32=False, right=False, side=None,
                 sorter=None):
    """Where each of `values` would go in `sorted_sequence` to keep it sorted: the index i
    with seq[i-1] < v <= seq[i] (side 'left'), or seq[i-1] <= v < seq[i] (right=True or
    side='right'). A 1-D sequence serves values of any shape; an N-D one holds one sorted
    row per row of values (same leading dimensions). `sorter`: the indices that sort an
    unsorted sequence. int64 (int32 with out_int32), values' shape. No gradient."""
    side = _side(right, side, "searchsorted")
    seq = _data(sorted_sequence)
    v = _data(values)
    xp = get_array_module(seq)
    if sorter is not None:
        order = _integers(sorter, "searchsorted", "sorter")
        if order.shape != seq.shape:
            raise ValueError(f"searchsorted: sorter of shape {order.shape} must have the "
                             f"shape {seq.shape} of sorted_sequence")
        seq = xp.take_along_axis(seq, order, axis=-1)
    dtype = np.int32 if out_int32 else np.int64
    if seq.ndim == 0:
        raise ValueError("searchsorted: sorted_sequence must have at least 1 dimension")
    if seq.ndim == 1:
        return _make(xp.searchsorted(seq, v, side=side), dtype)
    if v.ndim != seq.ndim or v.shape[:-1] != seq.shape[:-1]:
        raise ValueError(f"searchsorted: an N-D sorted_sequence (shape {seq.shape}) needs "
                         f"values with the same leading dimensions, got shape {v.shape}")
    rows, vrows = seq.reshape(-1, seq.shape[-1]), v.reshape(-1, v.shape[-1])
    out = xp.stack([xp.searchsorted(r, w, side=side) for r, w in zip(rows, vrows)])
    return _make(out.reshape(v.shape), dtype)


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each element of input among 1-D sorted `boundaries`: the i with
    b[i-1] < x <= b[i] (right=True: b[i-1] <= x < b[i]); input's shape, int64 (int32
    with out_int32). No gradient."""
    if _data(boundaries).ndim != 1:
        raise ValueError(f"bucketize: boundaries must be 1-D, got shape "
                         f"{_data(boundaries).shape}")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


# -- values ----------------------------------------------------------------------------
def aminmax(input, *, dim=None, keepdim=False):
    """The namedtuple (min, max) over dim (an int, or None for all elements): amin and
    amax, each gradient shared evenly among ties."""
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"aminmax: dim must be an int or None, got {dim!r}")
    dims = () if dim is None else dim
    return aminmax_result(amin(input, dims, keepdim), amax(input, dims, keepdim))


def masked_select(input, mask):
    """The elements of input where the bool `mask` (broadcast with input) is True, as a
    1-D tensor in row-major order; the gradient goes back to those places."""
    m = _data(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_select: mask must be a bool tensor, got dtype {m.dtype}")
    try:
        shape = np.broadcast_shapes(input.shape, m.shape)
    except ValueError:
        raise ValueError(f"masked_select: mask of shape {m.shape} does not broadcast with "
                         f"input of shape {input.shape}") from None
    return getitem(broadcast_to(input, shape), get_array_module(m).broadcast_to(m, shape))


def _wrapped(index, size, op):
    """An index array in [-size, size) with the negative entries counted from the end."""
    if index.size:
        low, high = int(index.min()), int(index.max())
        if low < -size or high >= size:
            bad = low if low < -size else high
            raise IndexError(f"{op}: index {bad} is out of range for size {size} (expected "
                             f"in [{-size}, {size - 1}])")
    return index % size if size else index


def take(input, index):
    """input read as a 1-D tensor at `index` (int, negative counting from the end): the
    result has index's shape; repeated indices add up their gradients."""
    index = _integers(index, "take", "index")
    if input._data.size == 0 and index.size:
        raise IndexError("take: cannot take from an empty tensor")
    return getitem(reshape(input, (-1,)), _wrapped(index, input._data.size, "take"))


def take_along_dim(input, indices, dim=None):
    """`input.gather(dim, indices)` with input and indices broadcast against each other
    outside dim (dim None: both flattened); negative indices count from the end. The
    gradient is added back at the places read."""
    index = _data(indices)
    if index.dtype != np.int64:
        raise TypeError(f"take_along_dim: indices must be int64, got dtype {index.dtype}")
    if dim is None:
        input, index, axis = reshape(input, (-1,)), index.reshape(-1), 0
    else:
        if input.ndim != index.ndim:
            raise ValueError(f"take_along_dim: input (shape {input.shape}) and indices "
                             f"(shape {index.shape}) must have the same number of dimensions")
        axis = _dim(dim, input.ndim, "take_along_dim")
        sizes = list(input.shape)
        sizes[axis] = index.shape[axis]
        try:
            shape = np.broadcast_shapes(tuple(sizes), index.shape)
        except ValueError:
            raise ValueError(f"take_along_dim: input of shape {input.shape} and indices of "
                             f"shape {index.shape} do not broadcast outside dim={dim}") from None
        index = get_array_module(index).broadcast_to(index, shape)
        input = broadcast_to(input, shape[:axis] + (input.shape[axis],) + shape[axis + 1:])
    return gather(input, axis, _wrapped(index, input.shape[axis], "take_along_dim"))
