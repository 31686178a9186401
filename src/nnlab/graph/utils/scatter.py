"""`scatter(src, index, dim=0, dim_size=None, reduce='sum')`: torch_geometric.utils.scatter.

    out[..., k, ...] = reduce over the i with index[i] == k of src[..., i, ...]   (along dim)

src (..., E, ...) with E along `dim`, index (E,) int, out (..., dim_size, ...). A segment
with no entry gives 0 for every reduction (PyG's). Built on the core's segment ops
(`segment_sum`, `segment_max`), so it is differentiable to any order: the sum's gradient
is gy gathered back to the entries, the mean's that over the count, the max's (and min's)
goes to the arg-max entry of each segment and feature (the first on ties; torch splits ties).
"""
from ...autograd.tensor import Tensor
from ...backend import get_array_module
from ...ops.index import _index_array, segment_max, segment_sum

REDUCTIONS = ("sum", "add", "mean", "max", "min", "amax", "amin")


def _count(index, dim_size, like):
    """(dim_size,) entries per segment, at least 1 (the mean's divisor), in like's dtype."""
    xp = get_array_module(like._data)
    counts = xp.bincount(xp.asarray(index), minlength=dim_size)[:dim_size]
    return Tensor(xp.maximum(counts, 1).astype(like.dtype))


def scatter(src, index, dim=0, dim_size=None, reduce="sum"):
    """Reduce the slices of `src` along `dim` into `dim_size` segments named by `index`
    (see the module docstring); reduce is 'sum' / 'add', 'mean', 'max' / 'amax' or
    'min' / 'amin'."""
    if reduce not in REDUCTIONS:
        raise ValueError(f"scatter: reduce must be one of {REDUCTIONS}, got {reduce!r}")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter: src must be a Tensor, got {type(src).__name__}")
    ids = _index_array(index, "scatter")
    if ids.ndim != 1:
        raise ValueError(f"scatter: index must be 1-D, got shape {tuple(ids.shape)}")
    dim = dim % src.ndim if -src.ndim <= dim < src.ndim else dim
    if not 0 <= dim < src.ndim or src.shape[dim] != ids.shape[0]:
        raise ValueError(f"scatter: index of {ids.shape[0]} entries does not match src of "
                         f"shape {tuple(src.shape)} along dim={dim}")
    if dim_size is None:
        dim_size = int(ids.max()) + 1 if ids.size else 0
    moved = src if dim == 0 else src.movedim(dim, 0)
    if reduce in ("sum", "add", "mean"):
        out = segment_sum(moved, ids, dim_size)
        if reduce == "mean":
            count = _count(ids, dim_size, src)
            out = out / count.reshape((dim_size,) + (1,) * (src.ndim - 1))
    elif reduce in ("max", "amax"):
        out = segment_max(moved, ids, dim_size)
    else:
        out = -segment_max(-moved, ids, dim_size)
    return out if dim == 0 else out.movedim(0, dim)
