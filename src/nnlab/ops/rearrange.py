"""More shape ops, each a composition of the primitives in `shape`, `index` and
`broadcast` (so their gradients need no code of their own): `narrow`, `rot90`, `diff`,
`tensor_split`, `swapaxes` / `swapdims`, `t`, `repeat_interleave`, `unflatten`,
`meshgrid` and `detach`.
"""
import numbers
import warnings

import numpy as np

from ..autograd.tensor import Tensor
from . import comparison, elementwise
from .broadcast import broadcast_to
from .index import getitem, index_select
from .shape import _dim, _nonscalar, cat, flip, reshape, transpose


def _tensor(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    return x


def _slice(input, dim, start, stop):
    return getitem(input, (slice(None),) * dim + (slice(start, stop),))


def narrow(input, dim, start, length):
    """input's `length` entries along `dim` from `start` (negative start counts from the
    end); a copy rather than torch's view."""
    input = _tensor(input, "narrow")
    _nonscalar(input, "narrow")
    d = _dim(dim, input.ndim, "narrow")
    n = input.shape[d]
    start = int(start)
    if not -n <= start <= n:
        raise IndexError(f"narrow: start {start} is out of range for dimension {d} of size "
                         f"{n}")
    start += n if start < 0 else 0
    if length < 0 or start + length > n:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension "
                           f"{d} of size {n}")
    return _slice(input, d, start, start + length)


def swapaxes(input, axis0, axis1):
    """`transpose` under numpy's name."""
    return transpose(input, axis0, axis1)


def swapdims(input, dim0, dim1):
    """`transpose` under another of torch's names."""
    return transpose(input, dim0, dim1)


def t(input):
    """The transpose of a matrix; a 0-D or 1-D tensor is returned as it is."""
    input = _tensor(input, "t")
    if input.ndim > 2:
        raise RuntimeError(f"t: expects a tensor with <= 2 dimensions, got {input.ndim}")
    return transpose(input, 0, 1) if input.ndim == 2 else input


def detach(input):
    """input's value cut off from the graph (it shares input's memory)."""
    return _tensor(input, "detach").detach()


def unflatten(input, dim, sizes):
    """Dim `dim` split into `sizes` (one entry may be -1): (2, 12), dim 1, (3, 4) ->
    (2, 3, 4)."""
    input = _tensor(input, "unflatten")
    d = _dim(dim, input.ndim, "unflatten")
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise ValueError("unflatten: sizes must be non-empty")
    known = int(np.prod([s for s in sizes if s != -1]))
    if sizes.count(-1) > 1 or (-1 not in sizes and known != input.shape[d]) or (
            -1 in sizes and (known == 0 or input.shape[d] % known)):
        raise RuntimeError(f"unflatten: sizes {sizes} do not multiply to the size "
                           f"{input.shape[d]} of dim {d} (shape {tuple(input.shape)})")
    return reshape(input, input.shape[:d] + sizes + input.shape[d + 1:])


def rot90(input, k=1, dims=(0, 1)):
    """A rotation by k * 90 degrees in the plane of `dims`, from dims[0] towards dims[1]."""
    input = _tensor(input, "rot90")
    if len(dims) != 2:
        raise ValueError(f"rot90: dims must name 2 dimensions, got {dims}")
    d0, d1 = (_dim(d, input.ndim, "rot90") for d in dims)
    if input.ndim < 2 or d0 == d1:
        raise RuntimeError(f"rot90: expects two distinct dims of a tensor of at least 2 "
                           f"dimensions, got dims {tuple(dims)} and shape "
                           f"{tuple(input.shape)}")
    k %= 4
    if k == 1:
        return transpose(flip(input, (d1,)), d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return transpose(flip(input, (d0,)), d0, d1)
    return input.clone()


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along `dim`, out[i] = x[i + 1] - x[i] applied n times,
    after `prepend` and `append` are concatenated (bool input: x[i + 1] != x[i])."""
    input = _tensor(input, "diff")
    _nonscalar(input, "diff")
    d = _dim(dim, input.ndim, "diff")
    if n < 0:
        raise ValueError(f"diff: order n must be non-negative, got {n}")
    parts = [p if p is None or isinstance(p, Tensor) else Tensor(p)
             for p in (prepend, input, append)]
    for p in (parts[0], parts[2]):
        if p is not None and p.ndim != input.ndim:
            raise RuntimeError(f"diff: prepend / append must have {input.ndim} dimensions "
                               f"like input, got shape {tuple(p.shape)}")
    x = cat([p for p in parts if p is not None], d) if len(
        [p for p in parts if p is not None]) > 1 else input
    for _ in range(n):
        m = x.shape[d]
        if m == 0:
            break
        hi, lo = _slice(x, d, 1, m), _slice(x, d, 0, m - 1)
        x = comparison.ne(hi, lo) if x.dtype.kind == "b" else elementwise.sub(hi, lo)
    return x


def tensor_split(input, indices_or_sections, dim=0):
    """input cut along `dim` into a tuple of views: an int n gives n parts whose sizes
    differ by at most 1 (the first n % size are one longer); a list of indices cuts before
    each index."""
    input = _tensor(input, "tensor_split")
    _nonscalar(input, "tensor_split")
    d = _dim(dim, input.ndim, "tensor_split")
    size = input.shape[d]
    cuts = indices_or_sections
    if isinstance(cuts, Tensor):
        if cuts.ndim > 1 or cuts.dtype.kind not in "iu":
            raise TypeError(f"tensor_split: a tensor indices_or_sections must be a 0-D or "
                            f"1-D integer tensor, got shape {tuple(cuts.shape)} "
                            f"{cuts.dtype}")
        cuts = cuts.item() if cuts.ndim == 0 else cuts.tolist()
    if isinstance(cuts, numbers.Integral):
        if cuts <= 0:
            raise RuntimeError(f"tensor_split: number of sections must be > 0, got {cuts}")
        q, r = divmod(size, int(cuts))
        bounds = [i * q + min(i, r) for i in range(int(cuts) + 1)]
    else:
        bounds = [0] + [min(max(int(c) + size if int(c) < 0 else int(c), 0), size)
                        for c in cuts] + [size]
    return tuple(_slice(input, d, lo, max(lo, hi)) for lo, hi in zip(bounds, bounds[1:]))


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element (each slice along `dim`; with dim None the flattened input) repeated
    `repeats` times, in place: [1, 2] with 2 -> [1, 1, 2, 2]. `repeats` is an int or a
    1-D tensor with one count per slice. With one tensor argument, its counts give the
    repeated indices: repeat_interleave(tensor([1, 2])) -> [0, 1, 1]."""
    if repeats is None:
        counts = _tensor(input, "repeat_interleave")
        return Tensor(np.repeat(np.arange(counts.shape[0], dtype=np.int64),
                                counts.numpy()))
    input = _tensor(input, "repeat_interleave")
    if dim is None:
        input, d = reshape(input, (-1,)), 0
    else:
        d = _dim(dim, input.ndim, "repeat_interleave")
    n = input.shape[d] if input.ndim else 1
    counts = np.asarray(repeats.numpy() if isinstance(repeats, Tensor) else repeats)
    if counts.dtype.kind not in "iu":
        raise TypeError(f"repeat_interleave: repeats must be an int or an integer tensor, "
                        f"got {counts.dtype}")
    counts = np.full(n, counts, np.int64) if counts.ndim == 0 else counts.astype(np.int64)
    if counts.shape != (n,) or (counts < 0).any():
        raise RuntimeError(f"repeat_interleave: repeats must be non-negative and one per "
                           f"slice ({n} along dim {d}), got {np.asarray(counts).tolist()}")
    if output_size is not None and int(counts.sum()) != output_size:
        raise RuntimeError(f"repeat_interleave: output_size {output_size} differs from the "
                           f"sum of repeats {int(counts.sum())}")
    if input.ndim == 0:
        input = reshape(input, (1,))
    return index_select(input, d, Tensor(np.repeat(np.arange(n, dtype=np.int64), counts)))


def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D tensors (sizes n1, ..., nk): each output has shape
    (n1, ..., nk) with indexing 'ij' (the default, with torch's warning when it is not
    given) or (n2, n1, n3, ...) with 'xy' (the first two swapped, as numpy's)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass "
                      "the indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    if not tensors:
        raise RuntimeError("meshgrid: expects a non-empty list of tensors")
    for k, x in enumerate(tensors):
        if not isinstance(x, Tensor) or x.ndim > 1:
            raise RuntimeError(f"meshgrid: expects 0-D or 1-D tensors, got "
                               f"{getattr(x, 'shape', type(x).__name__)} for input {k}")
    if len({x.dtype for x in tensors}) > 1:
        raise RuntimeError(f"meshgrid: expects all tensors to have the same dtype, got "
                           f"{', '.join(str(x.dtype) for x in tensors)}")
    sizes = [x.numel() for x in tensors]
    swap = indexing == "xy" and len(tensors) > 1
    if swap:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for k, x in enumerate(tensors):
        axis = {0: 1, 1: 0}.get(k, k) if swap else k
        shape = [1] * len(sizes)
        shape[axis] = sizes[axis]
        out.append(broadcast_to(reshape(x, tuple(shape)), tuple(sizes)))
    return tuple(out)
