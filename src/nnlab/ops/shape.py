"""Shape ops: views (reshape, view, transpose, permute, squeeze, split, ...), joins (cat,
stack), padding and rearrangements (flip, repeat, roll, tril). Each backward is the
adjoint map written in Tensor ops: transpose's is transpose, cat's is split, split's is
cat, roll's is roll by -shift. Ops that PyTorch returns as views of their input set
`is_view`, so that the output shares the input's version counter; the others (flip,
repeat, roll, tril, pad, cat, stack) write new memory, as in PyTorch."""
import math
import numbers

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_array_module
from .convert import cast


# -- arguments -------------------------------------------------------------------------
def _dim(dim, ndim, op, extra=0):
    """`dim` as a non-negative axis of a tensor with `ndim` (+ `extra` new) dimensions;
    a 0-d tensor accepts 0 and -1, as in PyTorch."""
    bound = max(ndim + extra, 1)
    if not isinstance(dim, numbers.Integral):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__} {dim!r}")
    if not -bound <= dim < bound:
        raise IndexError(f"{op}: dimension {dim} is out of range for a tensor with {ndim} "
                         f"dimensions (expected in [{-bound}, {bound - 1}])")
    return int(dim) % bound


def _dims(dims, ndim, op):
    """An int or a sequence of ints as a tuple of distinct non-negative axes."""
    dims = (dims,) if isinstance(dims, numbers.Integral) else tuple(dims)
    out = tuple(_dim(d, ndim, op) for d in dims)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{op}: dims {dims} name the same dimension more than once")
    return out


def _nonscalar(input, op):
    if input.ndim == 0:
        raise RuntimeError(f"{op}: expects a tensor with at least 1 dimension, got a 0-d "
                           "tensor")


def _infer_shape(shape, input_shape, op):
    """`shape` with its -1 (if any) filled in so that it holds the input's elements."""
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    shape = tuple(int(n) for n in shape)
    numel = math.prod(input_shape)
    unknown = [i for i, n in enumerate(shape) if n == -1]
    if len(unknown) > 1 or any(n < -1 for n in shape):
        raise RuntimeError(f"{op}: invalid shape {shape}: sizes must be non-negative, with at "
                           "most one -1 (inferred)")
    known = math.prod(n for n in shape if n != -1)
    if unknown:
        if known == 0 or numel % known:
            raise RuntimeError(f"{op}: shape {shape} is invalid for an input of shape "
                               f"{input_shape} ({numel} elements)")
        i = unknown[0]
        return shape[:i] + (numel // known,) + shape[i + 1:]
    if known != numel:
        raise RuntimeError(f"{op}: shape {shape} is invalid for an input of shape "
                           f"{input_shape} ({numel} elements)")
    return shape


# -- views -----------------------------------------------------------------------------
class Reshape(Function):
    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.x_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, gy):
        return reshape(gy, ctx.x_shape)  # the same elements back in the input's shape


def reshape(input, shape):
    """The same elements in a new shape (-1: inferred); a view where the layout allows."""
    shape = _infer_shape(shape, input.shape, "reshape")
    if input.shape == shape:
        return input
    return Reshape.apply(input, shape)


class View(Function):
    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.x_shape = x.shape
        y = x.view()
        try:
            y.shape = shape  # refused where the strides would need a copy
        except (AttributeError, ValueError):
            strides = tuple(s // x.itemsize for s in x.strides)
            raise RuntimeError(
                f"view: a tensor of shape {x.shape} and strides {strides} cannot be viewed "
                f"as shape {shape} without a copy (its memory layout does not allow it); "
                "use .reshape(...) instead") from None
        return y

    @staticmethod
    def backward(ctx, gy):
        return reshape(gy, ctx.x_shape)  # gy may be laid out anyhow: reshape, not view


def view(input, shape):
    """The same memory seen in a new shape (-1: inferred); an error where that needs a copy."""
    return View.apply(input, _infer_shape(shape, input.shape, "view"))


def flatten(input, start_dim=0, end_dim=-1):
    """Dimensions start_dim..end_dim merged into one (a 0-d input becomes shape (1,))."""
    if input.ndim == 0:
        return reshape(input, (1,))
    start = _dim(start_dim, input.ndim, "flatten")
    end = _dim(end_dim, input.ndim, "flatten")
    if start > end:
        raise RuntimeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                           f"for a tensor of shape {input.shape}")
    shape = input.shape
    return reshape(input, shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:])


class Transpose(Function):
    is_view = True

    @staticmethod
    def forward(ctx, x, dim0, dim1):
        ctx.dims = (dim0, dim1)
        return x.swapaxes(dim0, dim1) if dim0 != dim1 else x.view()

    @staticmethod
    def backward(ctx, gy):
        return transpose(gy, *ctx.dims)  # a swap is its own inverse


def transpose(input, dim0, dim1):
    """`input` with dimensions dim0 and dim1 swapped (a view)."""
    return Transpose.apply(input, _dim(dim0, input.ndim, "transpose"),
                           _dim(dim1, input.ndim, "transpose"))


class Permute(Function):
    is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, gy):
        inverse = sorted(range(len(ctx.dims)), key=ctx.dims.__getitem__)
        return permute(gy, tuple(inverse))  # undo the permutation with its inverse


def permute(input, dims):
    """`input` with its dimensions reordered: output dim i is input dim dims[i] (a view)."""
    dims = tuple(dims)
    if len(dims) != input.ndim:
        raise RuntimeError(f"permute: dims {dims} has {len(dims)} entries but the tensor of "
                           f"shape {input.shape} has {input.ndim} dimensions")
    return Permute.apply(input, _dims(dims, input.ndim, "permute"))


def movedim(input, source, destination):
    """`input` with dimensions `source` moved to positions `destination` (ints or tuples),
    the others keeping their order (a view)."""
    source = _dims(source, input.ndim, "movedim")
    destination = _dims(destination, input.ndim, "movedim")
    if len(source) != len(destination):
        raise RuntimeError(f"movedim: source {source} and destination {destination} must "
                           "name the same number of dimensions")
    order = [d for d in range(input.ndim) if d not in source]
    for dst, src in sorted(zip(destination, source)):
        order.insert(dst, src)
    return permute(input, order)


def squeeze(input, dim=None):
    """`input` without its size-1 dimensions (only those in `dim`, an int or a tuple, if
    given; a named dimension whose size is not 1 is kept, as in PyTorch)."""
    shape = input.shape
    dims = range(input.ndim) if dim is None else _dims(dim, input.ndim, "squeeze")
    drop = {d for d in dims if input.ndim and shape[d] == 1}
    return reshape(input, tuple(n for i, n in enumerate(shape) if i not in drop))


def unsqueeze(input, dim):
    """`input` with a new size-1 dimension at `dim` (in [-ndim - 1, ndim])."""
    d = _dim(dim, input.ndim, "unsqueeze", extra=1)
    return reshape(input, input.shape[:d] + (1,) + input.shape[d:])


# -- join and split --------------------------------------------------------------------
def _tensor_list(tensors, op):
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected a sequence of Tensors, but element {i} is a "
                            f"{type(t).__name__}")
    return tensors


def _result_dtype(arrays):
    """PyTorch's promotion for joins: floats win over integers, else NumPy's rule."""
    floats = [a.dtype for a in arrays if a.dtype.kind == "f"]
    xp = get_array_module(arrays[0])
    return xp.result_type(*floats) if floats else xp.result_type(*arrays)


def _grads_as_inputs(ctx, pieces):
    """Each piece of the gradient in the dtype of the input it belongs to (None for
    integer inputs)."""
    return tuple(None if dt.kind != "f" else p if p.dtype == dt else cast(p, dt)
                 for p, dt in zip(pieces, ctx.dtypes))


class Cat(Function):
    @staticmethod
    def forward(ctx, *args):
        *xs, dim = args
        ctx.dim, ctx.dtypes = dim, [x.dtype for x in xs]
        ctx.sizes = tuple(x.shape[dim] for x in xs)
        return get_array_module(xs[0]).concatenate(xs, axis=dim, dtype=_result_dtype(xs))

    @staticmethod
    def backward(ctx, gy):
        pieces = split(gy, ctx.sizes, ctx.dim)  # dL/dx_i = the slice of gy where x_i went
        return _grads_as_inputs(ctx, pieces) + (None,)


def cat(tensors, dim=0):
    """The tensors joined along an existing dimension `dim`; their other sizes must match."""
    tensors = _tensor_list(tensors, "cat")
    first = tensors[0]
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"cat: tensor {i} is 0-d and cannot be concatenated (expected "
                               "tensors with at least 1 dimension)")
    d = _dim(dim, first.ndim, "cat")
    for i, t in enumerate(tensors[1:], 1):
        if t.ndim != first.ndim:
            raise RuntimeError(f"cat: tensor {i} has shape {t.shape} with {t.ndim} dimensions "
                               f"but tensor 0 has shape {first.shape} with {first.ndim}")
        if any(a != b for k, (a, b) in enumerate(zip(t.shape, first.shape)) if k != d):
            raise RuntimeError(f"cat: tensor {i} has shape {t.shape} but tensor 0 has shape "
                               f"{first.shape}: sizes must match except in dimension {d}")
    return Cat.apply(*tensors, d)


class Stack(Function):
    @staticmethod
    def forward(ctx, *args):
        *xs, dim = args
        ctx.dim, ctx.dtypes = dim, [x.dtype for x in xs]
        return get_array_module(xs[0]).stack(xs, axis=dim, dtype=_result_dtype(xs))

    @staticmethod
    def backward(ctx, gy):
        pieces = unbind(gy, ctx.dim)  # dL/dx_i = gy[..., i, ...] along the new dim
        return _grads_as_inputs(ctx, pieces) + (None,)


def stack(tensors, dim=0):
    """The tensors, all of one shape, joined along a new dimension `dim`."""
    tensors = _tensor_list(tensors, "stack")
    first = tensors[0]
    for i, t in enumerate(tensors[1:], 1):
        if t.shape != first.shape:
            raise RuntimeError(f"stack: tensor {i} has shape {t.shape} but tensor 0 has shape "
                               f"{first.shape}: stack expects tensors of equal shape")
    return Stack.apply(*tensors, _dim(dim, first.ndim, "stack", extra=1))


class Split(Function):
    is_view = True

    @staticmethod
    def forward(ctx, x, sizes, dim):
        ctx.dim = dim
        index = [slice(None)] * x.ndim
        outs, start = [], 0
        for size in sizes:
            index[dim] = slice(start, start + size)
            outs.append(x[tuple(index)])
            start += size
        return tuple(outs)

    @staticmethod
    def backward(ctx, *gys):
        return cat(gys, ctx.dim)  # the pieces' gradients side by side again


def split(tensor, split_size_or_sections, dim=0):
    """A tuple of views of `tensor` along `dim`: pieces of split_size_or_sections elements
    (the last smaller), or of the listed sizes (which must add up to the dimension)."""
    _nonscalar(tensor, "split")
    d = _dim(dim, tensor.ndim, "split")
    n = tensor.shape[d]
    if isinstance(split_size_or_sections, numbers.Integral):
        size = int(split_size_or_sections)
        if size < 0 or (size == 0 and n != 0):
            raise RuntimeError(f"split: split_size must be positive (0 only for an empty "
                               f"dimension), got {size} for dimension {d} of size {n}")
        sizes = (size,) * (n // size) + ((n % size,) if n % size else ()) if n else (0,)
    else:
        sizes = tuple(int(s) for s in split_size_or_sections)
        if any(s < 0 for s in sizes) or sum(sizes) != n:
            raise RuntimeError(f"split: sizes {list(sizes)} must be non-negative and add up "
                               f"to {n}, the size of dimension {d} of a tensor of shape "
                               f"{tensor.shape}")
    return Split.apply(tensor, sizes, d)


def chunk(input, chunks, dim=0):
    """`input` split into at most `chunks` views of ceil(n / chunks) elements along `dim`."""
    if chunks <= 0:
        raise RuntimeError(f"chunk: chunks must be positive, got {chunks}")
    _nonscalar(input, "chunk")
    d = _dim(dim, input.ndim, "chunk")
    n = input.shape[d]
    if n == 0:
        return Split.apply(input, (0,) * chunks, d)
    return split(input, -(-n // chunks), d)


class Unbind(Function):
    is_view = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return tuple(get_array_module(x).moveaxis(x, dim, 0))

    @staticmethod
    def backward(ctx, *gys):
        return stack(gys, ctx.dim)  # the slices' gradients stacked back along dim


def unbind(input, dim=0):
    """The slices of `input` along `dim`, as a tuple of views without that dimension."""
    _nonscalar(input, "unbind")
    return Unbind.apply(input, _dim(dim, input.ndim, "unbind"))


# -- padding ---------------------------------------------------------------------------
_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
              "circular": "wrap"}


def _positive(pads):
    return [(max(lo, 0), max(hi, 0)) for lo, hi in pads]


def _crop(pads):
    """The index that removes the negative pads' elements."""
    return tuple(slice(max(-lo, 0), min(hi, 0) or None) for lo, hi in pads)


def _pad_array(x, pads, mode, value):
    """PyTorch's padding of the array `x` by (left, right) per axis. Negative pads crop:
    reflect and replicate pad the whole input and then crop (so reflections are about the
    input's own edges), circular crops first and wraps around what is left, as torch."""
    xp = get_array_module(x)
    if not any(lo or hi for lo, hi in pads):
        return x.copy()
    if mode == "circular":
        x = x[_crop(pads)]
    extra = {"constant_values": value} if mode == "constant" else {}
    y = xp.pad(x, _positive(pads), mode=_PAD_MODES[mode], **extra)
    return y if mode == "circular" else y[_crop(pads)]


def _fold(g, axis, lo, hi, mode):
    """The adjoint of padding one axis by lo, hi >= 0: each padded element's gradient is
    added to the input element it copies."""
    xp = get_array_module(g)
    g = xp.moveaxis(g, axis, 0)
    m = g.shape[0] - lo - hi
    out = g[lo:lo + m].copy()
    left, right = g[:lo], g[lo + m:]
    if mode == "reflect":      # x[lo], ..., x[1] | x | x[m-2], ..., x[m-1-hi]
        out[1:lo + 1] += left[::-1]
        out[m - 1 - hi:m - 1] += right[::-1]
    elif mode == "replicate":  # x[0] lo times | x | x[m-1] hi times
        out[:1] += left.sum(axis=0, keepdims=True)
        out[m - 1:] += right.sum(axis=0, keepdims=True)
    else:                      # circular: x[m-lo:] | x | x[:hi]
        out[m - lo:] += left
        out[:hi] += right
    return xp.moveaxis(out, 0, axis)


class Pad(Function):
    @staticmethod
    def forward(ctx, x, pads, mode, value):
        ctx.pads, ctx.mode = pads, mode
        return _pad_array(x, pads, mode, value)

    @staticmethod
    def backward(ctx, gy):
        if ctx.mode == "constant":  # dL/dx = gy cropped to x (a pad by the negated pads)
            return _pad(gy, tuple((-lo, -hi) for lo, hi in ctx.pads), "constant", 0.0)
        return PadGrad.apply(gy, ctx.pads, ctx.mode)


class PadGrad(Function):
    """The adjoint of a reflect / replicate / circular pad: the padded gradient folded back
    onto the input elements each pad copied."""

    @staticmethod
    def forward(ctx, gy, pads, mode):
        ctx.pads, ctx.mode = pads, mode
        xp = get_array_module(gy)
        uncrop = [(max(-lo, 0), max(-hi, 0)) for lo, hi in pads]
        g = gy if mode == "circular" else xp.pad(gy, uncrop)
        for axis, (lo, hi) in enumerate(_positive(pads)):
            if lo or hi:
                g = _fold(g, axis, lo, hi, mode)
        return xp.pad(g, uncrop) if mode == "circular" else g

    @staticmethod
    def backward(ctx, ggx):
        return _pad(ggx, ctx.pads, ctx.mode, 0.0)  # the adjoint of the fold is the pad


def _pad(input, pads, mode, value):
    """Pad by one (left, right) pair per dimension of `input`."""
    if not any(lo or hi for lo, hi in pads):
        return input
    return Pad.apply(input, pads, mode, value)


def pad(input, pad, mode="constant", value=0.0):
    """torch.nn.functional.pad: `pad` = (left, right) pairs from the last dimension
    backwards, e.g. (1, 1, 2, 0) pads the last dimension by 1 on each side and the one
    before it by 2 at the start; negative pads crop. Modes: 'constant' (with `value`),
    'reflect' (no edge repeat; pads < size), 'replicate', 'circular' (pads <= size)."""
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: unknown padding mode {mode!r} (expected one of "
                         f"{sorted(_PAD_MODES)})")
    pad = tuple(int(p) for p in pad)
    k = len(pad) // 2
    if len(pad) % 2:
        raise ValueError(f"pad: the padding {pad} must have an even length ((left, right) "
                         "pairs from the last dimension backwards)")
    if k > input.ndim:
        raise ValueError(f"pad: the padding {pad} pads {k} dimensions but the input of shape "
                         f"{input.shape} has only {input.ndim}")
    pads = ((0, 0),) * (input.ndim - k) + tuple(
        (pad[2 * i], pad[2 * i + 1]) for i in reversed(range(k)))
    for axis, (lo, hi) in enumerate(pads):
        n = input.shape[axis]
        kept = n - max(-lo, 0) - max(-hi, 0)
        where = f"padding ({lo}, {hi}) of dimension {axis} of an input of shape {input.shape}"
        if kept < 0 or n + lo + hi < 0:
            raise ValueError(f"pad: {where} leaves a negative size")
        if not (lo > 0 or hi > 0):
            continue
        if mode == "reflect" and max(lo, hi) >= n:
            raise ValueError(f"pad: reflect {where}: pads must be less than the size {n}")
        if mode == "replicate" and n == 0:
            raise ValueError(f"pad: replicate {where}: an empty dimension has nothing to "
                             "replicate")
        if mode == "circular" and max(lo, hi) > kept:
            raise ValueError(f"pad: circular {where}: pads must be at most the size {kept} "
                             "(it would wrap around more than once)")
    return Pad.apply(input, pads, mode, value)


# -- rearrangements ------------------------------------------------------------------
class Flip(Function):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return get_array_module(x).flip(x, dims).copy()  # new memory, as torch.flip

    @staticmethod
    def backward(ctx, gy):
        return flip(gy, ctx.dims)  # flipping twice is the identity


def flip(input, dims):
    """`input` with the order of elements reversed along `dims` (an int or a tuple)."""
    dims = _dims(dims, input.ndim, "flip")
    return Flip.apply(input, dims if input.ndim else ())


class Repeat(Function):
    @staticmethod
    def forward(ctx, x, sizes):
        ctx.x_shape, ctx.sizes = x.shape, sizes
        lead = len(sizes) - x.ndim
        return get_array_module(x).tile(x.reshape((1,) * lead + x.shape), sizes)

    @staticmethod
    def backward(ctx, gy):
        # dL/dx = the sum of gy over the copies: split each dim into (copies, size), sum
        shape = (1,) * (len(ctx.sizes) - len(ctx.x_shape)) + ctx.x_shape
        pairs = tuple(k for s, n in zip(ctx.sizes, shape) for k in (s, n))
        copies = tuple(2 * i for i, s in enumerate(ctx.sizes) if s != 1)
        g = reshape(gy, pairs)
        if copies:
            g = g.sum(copies)
        return reshape(g, ctx.x_shape)


def repeat(input, sizes):
    """Tensor.repeat: `input` copied sizes[i] times along each dimension; `sizes` may be
    longer than input.ndim (new leading dimensions)."""
    sizes = tuple(int(s) for s in sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError(f"repeat: {len(sizes)} repeat sizes {sizes} for a tensor of shape "
                           f"{input.shape}: expected at least {input.ndim}")
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"repeat: repeat sizes {sizes} must be non-negative")
    return Repeat.apply(input, sizes)


def tile(input, dims):
    """torch.tile: as repeat, where fewer `dims` than dimensions are padded with 1s first."""
    dims = (dims,) if isinstance(dims, numbers.Integral) else tuple(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


class Roll(Function):
    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return get_array_module(x).roll(x, shifts, axis=dims)

    @staticmethod
    def backward(ctx, gy):
        back = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        return Roll.apply(gy, back, ctx.dims)  # rolling back by the same shifts


def roll(input, shifts, dims=None):
    """`input` rolled by `shifts` along `dims` (ints or tuples of one length); with dims
    None, the flattened tensor is rolled and its shape restored."""
    if dims is None:
        shifts = (shifts,) if isinstance(shifts, numbers.Integral) else tuple(shifts)
        if len(shifts) != 1:
            raise RuntimeError(f"roll: with dims None, shifts must be one int, got {shifts}")
        return Roll.apply(input, int(shifts[0]), None)
    shifts = (shifts,) if isinstance(shifts, numbers.Integral) else tuple(shifts)
    dims = (dims,) if isinstance(dims, numbers.Integral) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    _nonscalar(input, "roll")
    dims = tuple(_dim(d, input.ndim, "roll") for d in dims)
    return Roll.apply(input, tuple(int(s) for s in shifts), dims)


class Triangle(Function):
    """The lower (tril) or upper (triu) triangle of each matrix: a mask, its own adjoint."""

    @staticmethod
    def forward(ctx, x, diagonal, lower):
        ctx.diagonal, ctx.lower = diagonal, lower
        xp = get_array_module(x)
        return (xp.tril if lower else xp.triu)(x, diagonal)

    @staticmethod
    def backward(ctx, gy):
        # dL/dx = gy on the kept triangle, 0 elsewhere
        return Triangle.apply(gy, ctx.diagonal, ctx.lower)


def _matrices(input, op):
    if input.ndim < 2:
        raise RuntimeError(f"{op}: expects a tensor with at least 2 dimensions (a batch of "
                           f"matrices in the last two), got shape {input.shape}")


def tril(input, diagonal=0):
    """The lower triangle of each matrix in the last two dims (j - i <= diagonal kept)."""
    _matrices(input, "tril")
    return Triangle.apply(input, int(diagonal), True)


def triu(input, diagonal=0):
    """The upper triangle of each matrix in the last two dims (j - i >= diagonal kept)."""
    _matrices(input, "triu")
    return Triangle.apply(input, int(diagonal), False)
