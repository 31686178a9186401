"""`export`: torch.onnx.export's common arguments, for nnlab models."""
import numpy as np

from ..autograd.tensor import Tensor
from . import nn_ops, tensor_ops
from .graph import Builder
from .trace import record

TABLE = {**tensor_ops.TABLE, **nn_ops.TABLE}


def _import_onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError("nnlab.onnx.export needs the onnx package: pip install onnx") \
            from None
    return onnx


def _axes(dynamic_axes, name):
    """dynamic_axes[name] as {axis: symbol}: a dict as given, or a list of axes (torch then
    names them '<name>_dynamic_axes_<k>')."""
    spec = (dynamic_axes or {}).get(name)
    if spec is None:
        return {}
    if isinstance(spec, dict):
        return {int(a): str(s) for a, s in spec.items()}
    return {int(a): f"{name}_dynamic_axes_{k + 1}" for k, a in enumerate(spec)}


def _names(given, count, default):
    given = list(given or [])
    if len(given) > count:
        raise ValueError(f"onnx.export: {len(given)} names given for {count} {default}s")
    auto = [default] if count == 1 else [f"{default}_{i}" for i in range(count)]
    return given + auto[len(given):]


def _other_inputs(inputs, axes_per_input):
    """Inputs for the second trace: the same values in other places (rolled by one over
    the flattened input, so ids and probabilities stay valid), every dynamic axis one
    longer (its first slice repeated)."""
    other = []
    for t, axes in zip(inputs, axes_per_input):
        a = np.roll(np.asarray(t._data), 1)
        for axis in axes:
            a = np.concatenate([a, np.take(a, [0], axis=axis)], axis=axis)
        other.append(Tensor(a))
    return tuple(other)


def _dynamic_dims(first, second):
    """For each result array of the first trace: {axis: (n1, n2)} where the traces differ."""
    if [o.cls for o in first.ops] != [o.cls for o in second.ops]:
        raise RuntimeError("onnx.export: the model runs different ops for other input values "
                           "or sizes along a dynamic axis (control flow that depends on the "
                           "input), so one graph cannot stand for it")
    dyn = {}
    pairs = [(o1.results, o2.results) for o1, o2 in zip(first.ops, second.ops)]
    pairs.append((first.outputs, second.outputs))
    for r1, r2 in pairs:
        for t1, t2 in zip(r1, r2):
            if t1.ndim != t2.ndim:
                raise RuntimeError("onnx.export: a value changes rank with a dynamic axis's "
                                   "size; it cannot be exported with dynamic_axes")
            dims = {d: (n1, n2) for d, (n1, n2) in enumerate(zip(t1.shape, t2.shape))
                    if n1 != n2}
            if dims:
                dyn[id(t1._data)] = dims
    return dyn


def _convert(b, recording):
    """Each recorded op through its converter; results bound to the names it returns."""
    for k, op in enumerate(recording.ops):
        b.op, b.op2, b.scope = op, b.second.ops[k], op.scope
        convert = next((TABLE[c] for c in op.cls.__mro__ if c in TABLE), None)
        if convert is None:
            where = f" (used in {op.scope})" if op.scope else ""
            raise NotImplementedError(f"onnx.export: no ONNX mapping for {op.cls.__name__}"
                                      f"{where}")
        names = convert(b, op)
        for i, (result, name) in enumerate(zip(op.results, names)):
            if name is not None:
                b.bind((k, i), result, name)
    b.op = b.op2 = None
    b.scope = ""


def _prune(nodes, outputs):
    """The nodes that the outputs depend on, in order (others were traced but unused)."""
    needed, kept = set(outputs), []
    for node in reversed(nodes):
        if any(o in needed for o in node.output):
            kept.append(node)
            needed.update(i for i in node.input if i)
    return kept[::-1], needed


def _output_symbols(b, dynamic_axes, name, t):
    """An output's dynamic axes named: as dynamic_axes names them, else as the input axis
    whose sizes they follow in the two traces ('batch'), else '<name>_dim_<axis>'."""
    symbols = _axes(dynamic_axes, name)
    for d, sizes in b.dynamic(t).items():
        if d not in symbols:
            symbols[d] = next((_axes(dynamic_axes, n)[a] for n, a, s in b.input_dims
                               if s == sizes), f"{name}_dim_{d}")
    return symbols


def _value_info(onnx, name, array, symbols):
    dims = [symbols.get(d, n) for d, n in enumerate(array.shape)]
    elem = onnx.helper.np_dtype_to_tensor_dtype(np.asarray(array).dtype)
    return onnx.helper.make_tensor_value_info(name, elem, dims)


def export(model, args, f, input_names=None, output_names=None, dynamic_axes=None,
           opset_version=17):
    """Trace model(*args) (in eval mode, restored after) and write it to `f` (a path or a
    binary file) as an ONNX model checked by onnx.checker.

    args: a Tensor (or array) or a tuple of them, the forward's positional inputs.
    input_names / output_names: the graph's names for them ('input', 'output' or
    'input_<i>' / 'output_<i>' by default). dynamic_axes: {name: {axis: symbol}} (or
    {name: [axes]}) for axes whose size may change (the batch). The model is traced a
    second time with other input values and those axes one longer, to tell which axes of
    every value follow them and which constants were computed from the input. Parameters
    and buffers become initializers named by their state_dict keys.
    Ops without an ONNX mapping are an error naming the op and its layer."""
    onnx = _import_onnx()
    if opset_version < 14:
        raise ValueError(f"onnx.export: opset_version {opset_version} is not supported "
                         "(14 or newer)")
    first = record(model, args)
    in_names = _names(input_names, len(first.inputs), "input")
    out_names = _names(output_names, len(first.outputs), "output")
    unknown = set(dynamic_axes or {}) - set(in_names) - set(out_names)
    if unknown:
        raise ValueError(f"onnx.export: dynamic_axes names {sorted(unknown)}, which are not "
                         f"inputs {in_names} or outputs {out_names}")
    in_axes = [_axes(dynamic_axes, n) for n in in_names]
    params = {}
    for name, t in model.state_dict(keep_vars=True).items():  # tied: the first name
        params.setdefault(id(t._data), (name, t._data))
    b = Builder(onnx, opset_version, params, record(model, _other_inputs(first.inputs,
                                                                        in_axes)))
    b.dyn = _dynamic_dims(first, b.second)
    graph_inputs = []
    for i, (t, t2, name, axes) in enumerate(zip(first.inputs, b.second.inputs, in_names,
                                                in_axes)):
        b.bind(("input", i), t, name)
        dims = {a: (t.shape[a], t2.shape[a]) for a in axes}
        if dims:
            b.dyn[id(t._data)] = dims
        b.input_dims += [(name, a, dims[a]) for a in axes]
        graph_inputs.append(_value_info(onnx, name, t._data, axes))
    _convert(b, first)
    outputs = []
    for t, source, name in zip(first.outputs, first.output_sources, out_names):
        b.nodes.append(onnx.helper.make_node("Identity", [b.value(t, source)], [name],
                                             name=b.fresh("output_node")))
        outputs.append(_value_info(onnx, name, t._data,
                                   _output_symbols(b, dynamic_axes, name, t)))
    nodes, needed = _prune(b.nodes, out_names)
    initializers = [i for i in b.initializers if i.name in needed]
    graph = onnx.helper.make_graph(nodes, type(model).__name__, graph_inputs, outputs,
                                   initializers)
    proto = onnx.helper.make_model(graph, producer_name="nnlab",
                                   opset_imports=[onnx.helper.make_opsetid("", opset_version)])
    onnx.checker.check_model(proto)
    onnx.save(proto, f)
