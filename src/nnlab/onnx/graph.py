"""The ONNX graph under construction: names for traced values, constants, initializers.

Every traced value has a source (trace.py): graph input i, or result i of op k; each
gets a name when it is made. An argument without a source is a parameter or buffer (an
initializer with its state_dict name), a view of a named array, or a constant (an
initializer `const_<n>`). The builder holds the arrays it names, so an id is never reused
while it works.

Dynamic axes: the model is traced twice (`export.py`), the second time with other input
values and each dynamic axis one longer; an axis of a value whose size differs between the
two passes is dynamic, and a constant whose values differ was computed from the input
outside the traced ops (an error, unless it is a pattern `tensor_ops` recognises). A
reshape's target holds -1 (or 0, keep the input's size) on dynamic axes, and a constant
whose shape follows a dynamic axis (the zeros of an RNN's initial state) is built at run
time from the input's shape.

In-place writes are resolved while tracing (trace.py): each argument comes with its
source, the graph input or op result that holds its value.
"""
import numpy as np

from ..autograd.tensor import Tensor

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min


class Builder:
    """Collects nodes and initializers while the ops of a recording are converted."""

    def __init__(self, onnx, opset, params, second):
        self.onnx, self.opset = onnx, opset
        self.params = params              # id(array) -> (state_dict name, array)
        self.second = second              # the second trace's Recording
        self.names = {}                   # source ('input', i) or (op, result) -> name
        self.values = {}                  # id(array) -> name, for views of named arrays
        self.dyn = {}                     # id(array) -> dynamic axes {axis: (n1, n2)}
        self.input_dims = []              # (graph input name, axis, (n1, n2))
        self.nodes, self.initializers = [], []
        self.keep = []                    # arrays named here, alive while building
        self.max_windows = []             # (input array, Im2col args) of max pooling
        self._names, self._consts, self._count = set(), {}, 0
        self.op = self.op2 = None         # the op being converted and its second trace
        self.scope = ""

    # -- names, nodes, constants -----------------------------------------------------------
    def fresh(self, hint):
        self._count += 1
        name = f"/{hint}_{self._count}"
        self._names.add(name)
        return name

    def node(self, op_type, inputs, outputs=1, **attrs):
        """Add a node; returns its output name (or the list of them when outputs > 1)."""
        names = [self.fresh(op_type) for _ in range(outputs)]
        self.nodes.append(self.onnx.helper.make_node(
            op_type, list(inputs), names, name=self.fresh(op_type + "_node"),
            **{k: v for k, v in attrs.items() if v is not None}))
        return names[0] if outputs == 1 else names

    def initializer(self, name, array):
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(
            np.asarray(array)), name))
        self._names.add(name)
        return name

    def const(self, value, dtype=None):
        """A constant (a scalar, list or array) as an initializer, one per distinct value."""
        array = np.asarray(value, dtype=dtype)
        key = (array.dtype.str, array.shape, array.tobytes())
        if key not in self._consts:
            self._count += 1
            self._consts[key] = self.initializer(f"const_{self._count}", array)
        return self._consts[key]

    def ints(self, values):
        return self.const(list(values), np.int64)

    def scalar_like(self, value, like):
        """A Python number as a 0-d constant of the dtype of the array `like`."""
        return self.const(value, np.asarray(like).dtype if hasattr(like, "dtype")
                          else np.float32)

    # -- values ----------------------------------------------------------------------------
    def bind(self, source, result, name):
        """Name a traced value: source ('input', i) or (op index, result index)."""
        array = result._data if isinstance(result, Tensor) else result
        self.names[source] = name
        self.values[id(array)] = name
        self.keep.append(array)

    def source_of(self, a):
        """The traced source of an argument of the op being converted, or None."""
        for arg, source in zip(self.op.args, self.op.sources):
            if arg is a:
                return source
        return None

    def value(self, a, source=None):
        """The name of a Tensor or array argument of the op being converted (or of a value
        whose source is given)."""
        source = source or (self.source_of(a) if self.op is not None else None)
        if source is not None:
            if source[0] == "unknown":
                raise RuntimeError(f"onnx.export: a tensor of shape {source[1]} was changed in "
                                   f"place (in {self.scope or 'the model'}) in a way the "
                                   "exporter cannot follow; use the out-of-place op")
            return self.names[source]
        array = a._data if isinstance(a, Tensor) else a
        param = self.params.get(id(array))
        if param is not None:
            name, _ = param
            if name not in self._names:
                self.initializer(name, array)
            return name
        viewed = self._view_of_value(array)
        if viewed is not None:
            return viewed
        return self._constant(a, array)

    def _view_of_value(self, array):
        """A whole view of a named array (a detached tensor: the same value), or a flat one
        (embedding's flattened indices: a Reshape of it)."""
        base = getattr(array, "base", None)
        while base is not None:
            name = self.values.get(id(base))
            if name is not None and array.shape == base.shape \
                    and array.strides == base.strides:
                return name
            if name is not None and array.size == base.size and array.ndim == 1:
                return self.node("Reshape", [name, self.ints([-1])])
            base = getattr(base, "base", None)
        return None

    def _twin_arg(self, a):
        """The argument of the second trace's op at a's position, or None."""
        if self.op2 is None:
            return None
        for mine, theirs in zip(self.op.args, self.op2.args):
            if mine is a:
                return theirs
        return None

    def _constant(self, a, array):
        """A value made outside nnlab's ops: an initializer, or, when its shape follows a
        dynamic axis and all its entries are equal, that value expanded at run time."""
        other = self._twin_arg(a)
        other = other._data if isinstance(other, Tensor) else other
        array = np.asarray(array)
        if other is None or not hasattr(other, "shape"):
            return self.const(array)
        if other.shape == array.shape:
            if not np.array_equal(np.asarray(other), array, equal_nan=True):
                where = self.scope or "the model"
                raise RuntimeError(
                    f"onnx.export: a value of shape {array.shape} (in {where}) is computed "
                    "from the input outside nnlab's traced ops (a comparison, or array "
                    "code), so it would be frozen into the graph; express it with tensor ops")
            return self.const(array)
        other = np.asarray(other)
        if array.ndim != other.ndim or array.size == 0 or array.min() != array.max() \
                or other.min() != other.max():
            raise RuntimeError(f"onnx.export: a constant of shape {array.shape} (in "
                               f"{self.scope or 'the model'}) depends on the size of a dynamic "
                               "axis; it cannot be exported with dynamic_axes")
        dims = {d: (n1, n2) for d, (n1, n2) in enumerate(zip(array.shape, other.shape))
                if n1 != n2}
        shape = self.runtime_shape(array.shape, dims)
        value = self.onnx.numpy_helper.from_array(array.reshape(-1)[:1].copy(), "value")
        name = self.node("ConstantOfShape", [shape], value=value)
        self.dyn[id(array)] = dims
        return name

    # -- shapes ----------------------------------------------------------------------------
    def dynamic(self, a):
        """The dynamic axes of a value: {axis: (size in trace 1, size in trace 2)}."""
        array = a._data if isinstance(a, Tensor) else a
        return self.dyn.get(id(array), {})

    def runtime_shape(self, shape, dims):
        """An int64 shape tensor: `shape`, with each dynamic axis read from a graph input's
        shape at run time (the input axis whose two traced sizes match)."""
        if not dims:
            return self.ints(shape)
        pieces = []
        for d, n in enumerate(shape):
            if d not in dims:
                pieces.append(self.ints([n]))
                continue
            found = next(((name, axis) for name, axis, sizes in self.input_dims
                          if sizes == dims[d]), None)
            if found is None:
                raise RuntimeError(f"onnx.export: axis {d} of a value of shape {tuple(shape)} "
                                   f"(in {self.scope or 'the model'}) follows a dynamic axis "
                                   "in a way the exporter cannot express")
            full = self.node("Shape", [found[0]])
            pieces.append(self.node("Gather", [full, self.ints([found[1]])], axis=0))
        return self.node("Concat", pieces, axis=0)

    def target_shape(self, x, out):
        """The shape input of a Reshape from x to out: out's shape with its dynamic axes as
        0 (the same size as x's axis there) or one -1."""
        shape = list(np.shape(out._data if isinstance(out, Tensor) else out))
        dims, xdims = self.dynamic(out), self.dynamic(x)
        free = []
        for d in dims:
            if xdims.get(d) == dims[d]:
                shape[d] = 0
            else:
                free.append(d)
        if len(free) > 1:
            raise RuntimeError(f"onnx.export: a reshape to {tuple(np.shape(out._data))} (in "
                               f"{self.scope or 'the model'}) has more than one dynamic axis "
                               "that the exporter cannot tie to its input")
        for d in free:
            shape[d] = -1
        return self.ints(shape)

    def shape_of(self, a):
        return tuple(np.shape(a._data if isinstance(a, Tensor) else a))
