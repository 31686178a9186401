"""Parameter counts and a layer-by-layer table of a model (as torchinfo's `summary`).

`summary` runs one forward pass on zeros of `input_size`, under no_grad and in eval mode
(so BatchNorm's running statistics are untouched; each module's mode is restored after),
records every leaf module's output shape with a forward hook, and returns the table as a
string; library code never prints, so `print(summary(model, (1, 3, 32, 32)))`.
"""
from ... import backend
from ...autograd import grad_mode
from ...autograd.tensor import Tensor
from ...ops import zeros


def count_parameters(module, trainable_only=True):
    """The number of scalars in module's parameters (each shared parameter once); with
    trainable_only, only those that require grad."""
    return sum(p.numel() for p in module.parameters()
               if p.requires_grad or not trainable_only)


def _shape(output):
    """The shape of a tensor output, shapes of a tuple / list of them, '-' otherwise."""
    if isinstance(output, Tensor):
        return str(list(output.shape))
    if isinstance(output, (tuple, list)):
        return ", ".join(_shape(o) for o in output)
    return "-"


def _own_count(module):
    """Parameters held by the module itself (not its children): (all, trainable)."""
    own = [p for _, p in module.named_parameters(recurse=False)]
    return sum(p.numel() for p in own), sum(p.numel() for p in own if p.requires_grad)


def _inputs(model, input_size, dtype):
    """Zeros of input_size (one shape, or a list of shapes for several inputs), in dtype
    (default: the dtype of the model's first floating parameter, else the default one) on
    the model's device."""
    params = [p for p in model.parameters() if p.is_floating_point()]
    if dtype is None:
        dtype = params[0].dtype if params else backend.get_default_dtype()
    device = params[0].device if params else None
    sizes = input_size if input_size and isinstance(input_size[0], (tuple, list)) else [
        input_size]
    return [zeros(*size, dtype=dtype, device=device) for size in sizes]


def summary(model, input_size, dtype=None):
    """A table with one row per call of a leaf module (and of any module that holds
    parameters of its own): its dotted name, type, output shape and parameter count, then
    the total, trainable and non-trainable parameter counts. input_size includes the batch
    dimension, e.g. (1, 3, 224, 224); a list of such shapes feeds several inputs."""
    names = {id(m): name for name, m in model.named_modules()}
    rows, seen, handles = [], set(), []

    def record(module, args, output):
        total, _ = _own_count(module)
        count = "--" if not total else "(recursive)" if id(module) in seen else f"{total:,}"
        seen.add(id(module))
        rows.append((names[id(module)] or "(model)", type(module).__name__, _shape(output),
                     count))

    modes = {id(m): m.training for m in model.modules()}
    for m in model.modules():
        if not any(True for _ in m.children()) or _own_count(m)[0]:
            handles.append(m.register_forward_hook(record))
    try:
        model.eval()
        with grad_mode.no_grad():
            model(*_inputs(model, input_size, dtype))
    finally:
        for handle in handles:
            handle.remove()
        for m in model.modules():
            m.training = modes[id(m)]
    total = count_parameters(model, trainable_only=False)
    trainable = count_parameters(model)
    return _table(type(model).__name__, rows, total, trainable)


def _table(model_name, rows, total, trainable):
    """rows of (name, type, output shape, count) as aligned columns under a header."""
    cells = [("Layer (type)", "Output Shape", "Param #")]
    cells += [(f"{name} ({kind})", shape, count) for name, kind, shape, count in rows]
    w0, w1, w2 = (max(len(c[i]) for c in cells) for i in range(3))
    rule = "=" * max(w0 + w1 + w2 + 4, len(model_name))
    body = [f"{a:<{w0}}  {b:<{w1}}  {c:>{w2}}" for a, b, c in cells]
    return "\n".join([model_name, rule, body[0], rule, *body[1:], rule,
                      f"Total params: {total:,}", f"Trainable params: {trainable:,}",
                      f"Non-trainable params: {total - trainable:,}", rule])
