"""Training diagnostics: the cheap numbers that say whether a network is learning.

Every `every` steps (steps 1, every + 1, 2 * every + 1, ...) `Diagnostics` records:

    per layer (each module that owns parameters, seen through a forward hook)
        act_mean, act_std   mean and standard deviation of the layer's output
        dead_fraction       only when the layer's output goes straight into a zero-clamping
                            activation: the fraction of that activation's units that output
                            exactly 0 for every sample of the batch
        dead_activation     which activation dead_fraction counts: 'layers.1 (ReLU)'
    per zero-clamping activation whose input is no layer's output (ResNet's relu after the
    residual sum), a record of its own under its name: type, dead_fraction, dead_activation
    (a module called several times in one forward pass is recorded at its last call)
    per parameter (with the name of its layer)
        grad_norm           ||g||_2 of its gradient (before any clipping)
        weight_norm         ||w||_2 before the optimizer step
        update_ratio        ||w_after - w_before||_2 / ||w_before||_2 (None when w = 0)

A dead unit outputs 0, with zero slope, for every input of the batch, so no gradient
reaches the weights that feed it. Only activations that clamp to exactly 0 can do that:
ReLU, and Hardtanh with min_val = 0 (ReLU6 is Hardtanh(0, 6)); these are the zero-clamping
activation modules counted. LeakyReLU, PReLU, ELU, GELU, SiLU and Softplus keep a non-zero
slope and never die; Sigmoid, Tanh and Hardtanh(-1, 1) saturate at non-zero values
(saturation, not death); a Linear with no activation after it (an output layer) has no dead
units; activations applied as functions (F.relu) are not seen. A unit is one position of a
sample's output: a feature, or a channel at one pixel.

Hooks are registered for the diagnostic step's forward pass only, so the other steps pay
nothing. `NonFiniteError` and the `find_nonfinite_*` helpers locate a NaN or Inf.
"""
import math

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..backend import get_array_module
from ..nn.activation import Hardtanh, ReLU


class NonFiniteError(RuntimeError):
    """Training met a NaN or Inf loss or gradient; names the step and the first layer."""

    def __init__(self, message, *, step, epoch, batch, kind, layer=None, parameters=(),
                 loss=None):
        super().__init__(message)
        self.step, self.epoch, self.batch, self.kind = step, epoch, batch, kind
        self.layer, self.parameters, self.loss = layer, list(parameters), loss


def _norm(a):
    """The L2 norm of an array as a Python float, accumulated in float64."""
    xp = get_array_module(a)
    a = a.astype(np.float64, copy=False).ravel()
    with np.errstate(invalid="ignore", over="ignore"):
        return float(xp.sqrt(xp.dot(a, a)))


def activation_stats(output):
    """{'act_mean', 'act_std'} of a layer's output array (N, ...), N >= 1, in float64."""
    a = output.astype(np.float64, copy=False)
    with np.errstate(invalid="ignore", over="ignore"):
        return {"act_mean": float(a.mean()), "act_std": float(a.std())}


def dead_fraction(output):
    """The fraction of an activation's units (positions of its output (N, ...), N >= 1)
    that are exactly 0 for every one of the N samples."""
    xp = get_array_module(output)
    units = output.reshape(output.shape[0], -1)
    alive = (units != 0).any(axis=0)
    return 1.0 - float(xp.count_nonzero(alive)) / max(alive.size, 1)


def clamps_to_zero(module):
    """Whether `module` is a zero-clamping activation, one whose units can die (see the
    module docstring): ReLU, or Hardtanh with min_val = 0 (ReLU6)."""
    return isinstance(module, ReLU) or (isinstance(module, Hardtanh) and module.min_val == 0)


def layer_groups(model):
    """[(layer name, module, [(parameter name, parameter), ...])] for every module that
    owns parameters, in registration (forward) order. The root is named by its class."""
    groups = []
    for name, module in model.named_modules():
        own = list(module.named_parameters(prefix=name, recurse=False))
        if own:
            groups.append((name or type(model).__name__, module, own))
    return groups


def _is_finite(a):
    xp = get_array_module(a)
    # one reduction on the fast path; a float32 sum of huge finite values may overflow,
    # so a non-finite sum is confirmed element by element
    with np.errstate(invalid="ignore", over="ignore"):
        return bool(xp.isfinite(a.sum())) or bool(xp.isfinite(a).all())


def _describe(a):
    xp = get_array_module(a)
    return "nan" if bool(xp.isnan(a).any()) else "inf"


def find_nonfinite_gradients(groups):
    """The first layer, walking backward (output layer first, the order in which
    gradients are computed), whose parameters have a non-finite gradient:
    (layer name, module, [(parameter name, 'nan' or 'inf')]) or None."""
    with np.errstate(invalid="ignore", over="ignore"):
        # fast path, every step: one sum per gradient; a finite total means all are finite
        total = 0.0
        for _, _, params in groups:
            for _, p in params:
                if p.grad is not None:
                    total += float(p.grad._data.sum())
    if math.isfinite(total):
        return None
    for layer, module, params in reversed(groups):
        bad = [(n, _describe(p.grad._data)) for n, p in params
               if p.grad is not None and not _is_finite(p.grad._data)]
        if bad:
            return layer, module, bad
    return None


def find_nonfinite_output(model, inputs):
    """Rerun the forward pass (without autograd) and return the name and module of the
    first module, in call order, whose output is not finite, or None."""
    found = []

    def hook(name, module, args, output):
        out = output[0] if isinstance(output, tuple) else output
        if not found and isinstance(out, Tensor) and out.dtype.kind == "f" \
                and not _is_finite(out._data):
            found.append((name or type(model).__name__, module))

    handles = [m.register_forward_hook(lambda mod, a, o, n=n: hook(n, mod, a, o))
               for n, m in model.named_modules()]
    try:
        with no_grad():
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
    return found[0] if found else None


def nonfinite_parameters(model):
    """Names of parameters whose values are not finite."""
    return [n for n, p in model.named_parameters() if not _is_finite(p._data)]


class Diagnostics:
    """Collects the per-layer and per-parameter statistics of one training step in every
    `every` (see the module docstring). The trainer calls, on a due step: `begin`, the
    forward pass, `end_forward`, backward, `after_backward`, `before_step`, the optimizer
    step, then `finish`, which returns the step's record (a JSON-able dict)."""

    def __init__(self, model, every=50):
        if every is not None and int(every) < 0:
            raise ValueError(f"Diagnostics: every must be a positive number of steps or "
                             f"0/None to turn them off, got {every}")
        self.model = model
        self.every = int(every or 0)
        self.groups = layer_groups(model)
        self.activations = [(name or type(model).__name__, m)
                            for name, m in model.named_modules() if clamps_to_zero(m)]
        self._handles, self._record, self._before = [], None, None
        self._outputs = {}

    def due(self, step):
        return self.every > 0 and (step - 1) % self.every == 0

    def begin(self, step, epoch):
        self._record = {"kind": "step", "step": step, "epoch": epoch, "layers": {},
                        "params": {}}
        for layer, module, _ in self.groups:
            self._handles.append(module.register_forward_hook(
                lambda mod, args, out, layer=layer: self._on_forward(layer, mod, out)))
        for name, module in self.activations:
            self._handles.append(module.register_forward_hook(
                lambda mod, args, out, name=name: self._on_activation(name, mod, args, out)))

    def _on_forward(self, layer, module, output):
        out = output[0] if isinstance(output, tuple) else output
        if isinstance(out, Tensor) and out.dtype.kind == "f" and out.ndim > 0:
            stats = activation_stats(out._data)
            self._record["layers"][layer] = {"type": type(module).__name__, **stats}
            self._outputs[id(out)] = (layer, out)   # the tensor kept: its id stays its own

    def _on_activation(self, name, module, args, output):
        """Count the dead units of a zero-clamping activation, in the record of the layer
        whose output it takes, else in a record of its own."""
        if not (args and isinstance(output, Tensor) and output.dtype.kind == "f"
                and output.ndim > 0):
            return
        source = self._outputs.get(id(args[0]))
        layers = self._record["layers"]
        if source is not None and source[1] is args[0]:
            record = layers[source[0]]
        else:
            record = layers[name] = {"type": type(module).__name__}
        record["dead_fraction"] = dead_fraction(output._data)
        record["dead_activation"] = f"{name} ({type(module).__name__})"

    def end_forward(self):
        for h in self._handles:
            h.remove()
        self._handles, self._outputs = [], {}

    def after_backward(self):
        for layer, _, params in self.groups:
            for name, p in params:
                self._record["params"][name] = {
                    "layer": layer, "grad_norm": None if p.grad is None else _norm(p.grad._data)}

    def before_step(self):
        self._before = [[p._data.copy() for _, p in params] for _, _, params in self.groups]

    def finish(self, loss, lr):
        for (_, _, params), before in zip(self.groups, self._before):
            for (name, p), w0 in zip(params, before):
                w_norm = _norm(w0)
                update = _norm(p._data - w0)
                self._record["params"][name].update(
                    weight_norm=w_norm, update_ratio=update / w_norm if w_norm > 0 else None)
        record, self._record, self._before = self._record, None, None
        record["loss"] = loss if math.isfinite(loss) else None
        record["lr"] = lr
        return record

    def close(self):
        self.end_forward()
