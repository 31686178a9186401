"""ONNX nodes for the primitives of `nnlab.ops`: elementwise maths, shapes, reductions,
indexing. Each entry of `TABLE` maps a Function class to a small converter
`convert(b, op) -> [name of each result]` (b the `graph.Builder`, op the `trace.Op`)."""
import math

import numpy as np

from ..ops import broadcast, convert, index, linalg, reduce, shape
from ..ops import elementwise as ew
from .graph import INT64_MAX, INT64_MIN


def _operand(b, a, other):
    """An operand of a binary op: a traced value, or a Python number as a constant of the
    other operand's dtype (a float never promotes a float32 tensor, as nnlab)."""
    if isinstance(a, (int, float, bool, np.generic)):
        like = other._data if hasattr(other, "_data") else other
        return b.scalar_like(a, like)
    return b.value(a)


def binary(op_type):
    """a (op) b, broadcast as NumPy."""
    def convert_binary(b, op):
        x, y = op.args[:2]
        shift = _row_max(b, x, y) if op_type == "Sub" else None
        return [b.node(op_type, [_operand(b, x, y), shift or _operand(b, y, x)])]
    return convert_binary


def _finite_row_max(a):
    m = a.max(axis=-1, keepdims=True)
    return np.where(np.isneginf(m), 0, m)


def _row_max(b, x, m):
    """A softmax's shift made in array code (attention's masked softmax: scores - m, m the
    row max, 0 for a row of -inf) equals, in both traces, the max of x over its last axis:
    that as nodes, so other inputs get their own shift. None if it is not that."""
    if not hasattr(m, "_data") or not hasattr(x, "_data") or b.source_of(m) is not None \
            or b.source_of(x) is None or x.ndim == 0 or m.shape != x.shape[:-1] + (1,):
        return None
    x2, m2 = b._twin_arg(x), b._twin_arg(m)
    if x2 is None or m2 is None or m2.shape != x2.shape[:-1] + (1,) or not (
            np.array_equal(_finite_row_max(x._data), m._data)
            and np.array_equal(_finite_row_max(x2._data), m2._data)):
        return None
    top = reduce_node(b, "ReduceMax", b.value(x), (x.ndim - 1,), True)
    empty = b.node("IsInf", [top], detect_positive=0)
    return b.node("Where", [empty, b.scalar_like(0, x._data), top])


def unary(op_type):
    def convert_unary(b, op):
        return [b.node(op_type, [b.value(op.args[0])])]
    return convert_unary


def _log1p(b, op):                    # log(1 + x)
    x = b.value(op.args[0])
    return [b.node("Log", [b.node("Add", [x, b.scalar_like(1, op.args[0]._data)])])]


def _rsqrt(b, op):                    # 1 / sqrt(x)
    return [b.node("Reciprocal", [b.node("Sqrt", [b.value(op.args[0])])])]


def _square(b, op):
    x = b.value(op.args[0])
    return [b.node("Mul", [x, x])]


def _rounding(b, op):
    x, name = b.value(op.args[0]), op.args[1]
    if name == "trunc":               # sign(x) floor(|x|)
        return [b.node("Mul", [b.node("Sign", [x]),
                               b.node("Floor", [b.node("Abs", [x])])])]
    return [b.node({"floor": "Floor", "ceil": "Ceil", "round": "Round"}[name], [x])]


def _clamp(b, op):
    x, low, high = op.args
    like = x._data
    bounds = ["" if v is None else b.scalar_like(v, like) for v in (low, high)]
    while bounds and bounds[-1] == "":
        bounds.pop()
    return [b.node("Clip", [b.value(x)] + bounds)]


_COMPARISONS = (("Greater", np.greater), ("GreaterOrEqual", np.greater_equal),
                ("Less", np.less), ("LessOrEqual", np.less_equal))


def _comparison(b, cond, candidates):
    """A condition made outside the traced ops (nnlab's comparisons make bool tensors
    directly) that equals `t > 0` (>=, <, <=) for a traced operand t in both traces:
    that comparison as a node (leaky_relu, elu: where(x > 0, x, ...)). None if none fits."""
    if b.source_of(cond) is not None or not hasattr(cond, "_data"):
        return None
    mask, mask2 = cond._data, getattr(b._twin_arg(cond), "_data", None)
    for t in candidates:
        t2 = b._twin_arg(t)
        if not hasattr(t, "_data") or b.source_of(t) is None or t2 is None:
            continue
        if t._data.shape != mask.shape or mask2 is None or t2._data.shape != mask2.shape:
            continue
        for op_type, compare in _COMPARISONS:
            if np.array_equal(compare(t._data, 0), mask) and \
                    np.array_equal(compare(t2._data, 0), mask2):
                return b.node(op_type, [b.value(t), b.scalar_like(0, t._data)])
    return None


def _where(b, op):
    cond, x, y = op.args
    if hasattr(x, "_data") and hasattr(y, "_data") and b.source_of(x) is not None \
            and b.source_of(x) == b.source_of(y):   # where(c, x, x.detach()): x
        return [b.node("Identity", [b.value(x)])]
    mask = _comparison(b, cond, (x, y))
    return [b.node("Where", [mask or b.value(cond), _operand(b, x, y), _operand(b, y, x)])]


def _cast(b, op):
    to = b.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(op.args[1]))
    return [b.node("Cast", [b.value(op.args[0])], to=to)]


def _identity(b, op):
    return [b.node("Identity", [b.value(op.args[0])])]


# -- shapes ----------------------------------------------------------------------------
def _reshape(b, op):
    x, out = op.args[0], op.results[0]
    return [b.node("Reshape", [b.value(x), b.target_shape(x, out)])]


def _transpose(b, op):
    x, d0, d1 = op.args
    perm = list(range(x.ndim))
    perm[d0], perm[d1] = perm[d1], perm[d0]
    return [b.node("Transpose", [b.value(x)], perm=perm)]


def _permute(b, op):
    return [b.node("Transpose", [b.value(op.args[0])], perm=list(op.args[1]))]


def _cat(b, op):
    *xs, dim = op.args
    return [b.node("Concat", [b.value(x) for x in xs], axis=dim)]


def _stack(b, op):
    *xs, dim = op.args
    axes = b.ints([dim])
    return [b.node("Concat", [b.node("Unsqueeze", [b.value(x), axes]) for x in xs], axis=dim)]


def _split(b, op):
    x, sizes, dim = op.args
    outs = b.node("Split", [b.value(x), b.ints(sizes)], outputs=len(sizes), axis=dim)
    return outs if isinstance(outs, list) else [outs]


def _unbind(b, op):
    x, dim = op.args
    n = x.shape[dim]
    outs = b.node("Split", [b.value(x), b.ints([1] * n)], outputs=n, axis=dim)
    outs = outs if isinstance(outs, list) else [outs]
    axes = b.ints([dim])
    return [b.node("Squeeze", [o, axes]) for o in outs]


def _broadcast_to(b, op):
    x, out = op.args[0], op.results[0]
    shape, dims, xdims = list(out.shape), b.dynamic(out), b.dynamic(x)
    offset = out.ndim - x.ndim
    for d in dims:            # a dynamic axis comes from x's own axis: 1 keeps it
        if xdims.get(d - offset) != dims[d]:
            raise RuntimeError(f"onnx.export: broadcasting to {tuple(out.shape)} (in "
                               f"{b.scope or 'the model'}) along a dynamic axis")
        shape[d] = 1
    return [b.node("Expand", [b.value(x), b.ints(shape)])]


def _pad(b, op):
    x, pads, mode, value = op.args
    if any(lo < 0 or hi < 0 for lo, hi in pads):
        raise NotImplementedError("onnx.export: Pad with negative (cropping) pads")
    onnx_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}.get(mode)
    if onnx_mode is None:
        raise NotImplementedError(f"onnx.export: Pad with mode {mode!r}")
    lead = x.ndim - len(pads)
    los = [0] * lead + [lo for lo, _ in pads]
    his = [0] * lead + [hi for _, hi in pads]
    inputs = [b.value(x), b.ints(los + his)]
    if mode == "constant":
        inputs.append(b.scalar_like(value, x._data))
    return [b.node("Pad", inputs, mode=onnx_mode)]


def _flip(b, op):
    x, dims = op.args
    dims = list(dims)
    return [b.node("Slice", [b.value(x), b.ints([-1] * len(dims)), b.ints([INT64_MIN] * len(dims)),
                             b.ints(dims), b.ints([-1] * len(dims))])]


def _triangle(b, op):
    x, diagonal, lower = op.args
    return [b.node("Trilu", [b.value(x), b.const(diagonal, np.int64)],
                   upper=0 if lower else 1)]


# -- reductions ------------------------------------------------------------------------
def reduce_node(b, op_type, x, axes, keepdims):
    """A Reduce* node over `axes` (an attribute before opset 18, an input from 18 on;
    ReduceSum's is an input from 13)."""
    if op_type == "ReduceSum" or b.opset >= 18:
        return b.node(op_type, [x, b.ints(axes)], keepdims=int(keepdims))
    return b.node(op_type, [x], axes=list(axes), keepdims=int(keepdims))


def _dims(x, dims):
    if dims is None:
        return tuple(range(x.ndim))
    return (dims,) if isinstance(dims, int) else tuple(dims)


def _reduction(op_type):
    def convert_reduction(b, op):
        x, dims, keepdim = op.args[:3]
        return [reduce_node(b, op_type, b.value(x), _dims(x, dims), keepdim)]
    return convert_reduction


def _extreme(b, op):
    x, dims, keepdim, name = op.args
    op_type = {"amax": "ReduceMax", "amin": "ReduceMin", "max": "ReduceMax",
               "min": "ReduceMin"}[name]
    return [reduce_node(b, op_type, b.value(x), _dims(x, dims), keepdim)]


def _extreme_dim(b, op):
    x, axis, keepdim, name = op.args
    value = b.value(x)
    kind = "ReduceMax" if name == "max" else "ReduceMin"
    values = reduce_node(b, kind, value, (axis,), keepdim)
    indices = b.node("ArgMax" if name == "max" else "ArgMin", [value], axis=axis,
                     keepdims=int(keepdim), select_last_index=0)
    return [values, indices]


def _logsumexp(b, op):
    x, dims, keepdim = op.args
    return [reduce_node(b, "ReduceLogSumExp", b.value(x), _dims(x, dims), keepdim)]


def _var(b, op, sqrt=False):           # sum (x - mean)^2 / (n - correction)
    x, dims, correction, keepdim = op.args
    dims = _dims(x, dims)
    value = b.value(x)
    centred = b.node("Sub", [value, reduce_node(b, "ReduceMean", value, dims, True)])
    total = reduce_node(b, "ReduceSum", b.node("Mul", [centred, centred]), dims, keepdim)
    n = math.prod(x.shape[d] for d in dims) - correction
    var = b.node("Div", [total, b.scalar_like(n, x._data)])
    return [b.node("Sqrt", [var]) if sqrt else var]


def _cumsum(b, op):
    x, axis = op.args
    return [b.node("CumSum", [b.value(x), b.const(axis, np.int64)])]


# -- indexing --------------------------------------------------------------------------
def _getitem(b, op):
    """Basic indexing: one Slice for the slices and ints (an int i as i:i+1), then a
    Squeeze of the ints' axes and an Unsqueeze for each None."""
    x, key = op.args
    key = list(key)
    if Ellipsis in key:
        at = key.index(Ellipsis)
        used = sum(k is not None for k in key if k is not Ellipsis)
        key[at:at + 1] = [slice(None)] * (x.ndim - used)
    key += [slice(None)] * (x.ndim - sum(k is not None for k in key))
    starts, ends, axes, steps, squeeze, new = [], [], [], [], [], []
    axis = out_axis = 0
    for k in key:
        if k is None:
            new.append(out_axis)
            out_axis += 1
            continue
        if isinstance(k, slice):
            if k != slice(None):
                step = 1 if k.step is None else k.step
                starts.append(k.start if k.start is not None else 0 if step > 0 else -1)
                ends.append(k.stop if k.stop is not None else
                            INT64_MAX if step > 0 else INT64_MIN)
                axes.append(axis)
                steps.append(step)
            out_axis += 1
        else:  # an int
            starts.append(k)
            ends.append(k + 1 if k != -1 else INT64_MAX)
            axes.append(axis)
            steps.append(1)
            squeeze.append(axis)
        axis += 1
    y = b.value(x)
    if axes:
        y = b.node("Slice", [y, b.ints(starts), b.ints(ends), b.ints(axes), b.ints(steps)])
    if squeeze:
        y = b.node("Squeeze", [y, b.ints(squeeze)])
    if new:
        y = b.node("Unsqueeze", [y, b.ints(new)])
    if y == b.value(x):
        y = b.node("Identity", [y])
    return [y]


def _index_select(b, op):
    x, dim, idx = op.args
    return [b.node("Gather", [b.value(x), b.value(idx)], axis=dim)]


def _take(b, op):
    return _index_select(b, op)


def gather(b, op):
    """x gathered at idx along dim (max pooling's gather: nn_ops)."""
    x, dim, idx = op.args
    return [b.node("GatherElements", [b.value(x), b.value(idx)], axis=dim)]


def _matmul(b, op):
    a, c, ta, tb = (list(op.args) + [False, False])[:4]
    x, y = b.value(a), b.value(c)
    if ta:
        x = b.node("Transpose", [x], perm=_swap_last(a.ndim))
    if tb:
        y = b.node("Transpose", [y], perm=_swap_last(c.ndim))
    return [b.node("MatMul", [x, y])]


def _swap_last(ndim):
    perm = list(range(ndim))
    perm[-2:] = perm[-1], perm[-2]
    return perm


def _einsum(b, op):
    spec, *operands = op.args
    equation = spec if isinstance(spec, str) else None
    if equation is None:
        raise NotImplementedError("onnx.export: einsum with a parsed equation")
    return [b.node("Einsum", [b.value(t) for t in operands], equation=equation)]


TABLE = {
    ew.Add: binary("Add"), ew.Sub: binary("Sub"), ew.Mul: binary("Mul"),
    ew.Div: binary("Div"), ew.Pow: binary("Pow"), ew.Maximum: binary("Max"),
    ew.Minimum: binary("Min"),
    ew.Neg: unary("Neg"), ew.Exp: unary("Exp"), ew.Log: unary("Log"), ew.Sqrt: unary("Sqrt"),
    ew.Abs: unary("Abs"), ew.Sign: unary("Sign"), ew.Sin: unary("Sin"), ew.Cos: unary("Cos"),
    ew.Tan: unary("Tan"), ew.Tanh: unary("Tanh"), ew.Sigmoid: unary("Sigmoid"),
    ew.Relu: unary("Relu"), ew.Atan: unary("Atan"), ew.Softplus: unary("Softplus"),
    ew.Erf: unary("Erf"), ew.Reciprocal: unary("Reciprocal"),
    ew.Log1p: _log1p, ew.Rsqrt: _rsqrt, ew.Square: _square, ew.Rounding: _rounding,
    ew.Clamp: _clamp, ew.Where: _where,
    convert.Cast: _cast, convert.Clone: _identity, convert.ToDevice: _identity,
    shape.Reshape: _reshape, shape.View: _reshape, shape.Transpose: _transpose,
    shape.Permute: _permute, shape.Cat: _cat, shape.Stack: _stack, shape.Split: _split,
    shape.Unbind: _unbind, shape.Pad: _pad, shape.Flip: _flip, shape.Triangle: _triangle,
    broadcast.BroadcastTo: _broadcast_to,
    reduce.Sum: _reduction("ReduceSum"), reduce.Mean: _reduction("ReduceMean"),
    reduce.Prod: _reduction("ReduceProd"), reduce.Extreme: _extreme,
    reduce.ExtremeDim: _extreme_dim, reduce.Logsumexp: _logsumexp,
    reduce.Var: _var, reduce.Std: lambda b, op: _var(b, op, sqrt=True),
    reduce.Cumsum: _cumsum,
    index.Getitem: _getitem, index.IndexSelect: _index_select, index.Take: _take,
    index.Gather: gather,
    linalg.MatMul: _matmul, linalg.Einsum: _einsum,
}
