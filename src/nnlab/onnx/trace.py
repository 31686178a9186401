"""Tracing: one forward pass recorded op by op.

While `record` runs the model, autograd's `Function.apply` calls the recorder after every
op (the hook `autograd.function._trace_hook`, None otherwise) with the op's class, its ctx
(the attributes forward stored), its arguments (Tensors, arrays, Python values) and its
result Tensors. Each module's forward is bracketed by a pre / post hook, so every op also
knows the layer it ran in ('layers.2 (Linear)'), for the error that names an op without an
ONNX mapping. The pass runs in eval mode and under no_grad, as torch.onnx exports
(TrainingMode.EVAL); the model's mode is restored after.

Each argument of an op is tied, when it is recorded, to its source: ('input', i) or the
(op, result) that made its array. In-place ops (relu_, +=) write a new value into an array
that already has a source: the array's version counter has moved since, and its new source
is the latest result recorded since then that equals it (the value the in-place op
computed out of place and copied in).
"""
from dataclasses import dataclass, field

import numpy as np

from .. import ops
from ..autograd import function
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor


@dataclass
class Op:
    """One recorded op: `cls.apply(*args)` gave `results` (Tensors), in layer `scope`."""
    cls: type
    ctx: object
    args: tuple
    results: tuple
    scope: str
    sources: tuple = ()


class _Sources:
    """Where each array came from: id(array) -> [version counter, version then, source]."""

    def __init__(self, recording):
        self.recording, self.owners, self.aliases = recording, {}, {}

    def add(self, t, source):
        self.owners[id(t._data)] = owner = [t._version_counter, t._version_counter[0], source]
        self.aliases[_layout(t._data)] = owner

    def of(self, a):
        """The source of an argument (a Tensor or array), or None (a constant). An array
        laid over the same memory as a traced one (a detached tensor) has its source."""
        array = a._data if isinstance(a, Tensor) else a
        owner = self.owners.get(id(array))
        if owner is None and isinstance(array, np.ndarray):
            owner = self.aliases.get(_layout(array))
        if owner is None:
            return None
        counter, version, source = owner
        if counter[0] != version:        # written in place since
            owner[1:] = counter[0], self._rewritten(array, source)
        return owner[2]

    def _rewritten(self, array, source):
        first = source[0] + 1 if source[0] != "input" else 0
        ops = self.recording.ops
        for k in range(len(ops) - 1, first - 1, -1):
            for i, r in enumerate(ops[k].results):
                a = r._data
                if a is not array and a.shape == array.shape and a.dtype == array.dtype \
                        and np.array_equal(a, array, equal_nan=True):
                    return (k, i)
        return ("unknown", array.shape)


def _layout(array):
    """Where and how an array lies in memory: equal for two views of the same elements."""
    return (array.__array_interface__["data"][0], array.shape, array.strides,
            array.dtype.str) if isinstance(array, np.ndarray) else None


@dataclass
class Recording:
    """The ops of one forward pass in order, its inputs and its outputs (Tensors)."""
    inputs: tuple
    outputs: tuple
    ops: list = field(default_factory=list)
    output_sources: tuple = ()


def _as_tensors(args):
    args = args if isinstance(args, tuple) else (args,)
    return tuple(a if isinstance(a, Tensor) else ops.tensor(a) for a in args)


def _flat_outputs(out):
    """A forward's result as a tuple of Tensors (tuples, lists and None inside dropped)."""
    if isinstance(out, Tensor):
        return (out,)
    if isinstance(out, (tuple, list)):
        return tuple(t for o in out for t in _flat_outputs(o))
    if out is None:
        return ()
    raise TypeError(f"onnx.export: the model returned a {type(out).__name__}; expected "
                    "Tensors (or tuples / lists of them)")


def record(model, args):
    """Run model(*args) once in eval mode without autograd, recording every op."""
    inputs = _as_tensors(args)
    recording = Recording(inputs, ())
    sources = _Sources(recording)
    for i, t in enumerate(inputs):
        sources.add(t, ("input", i))
    scopes = []

    def hook(cls, ctx, op_args, results):
        k = len(recording.ops)
        recording.ops.append(Op(cls, ctx, tuple(op_args), tuple(results),
                                scopes[-1] if scopes else "",
                                tuple(sources.of(a) for a in op_args)))
        for i, r in enumerate(results):
            sources.add(r, (k, i))

    def leave(module, args, output):
        scopes.pop()        # returns None: the output stays

    handles = []
    for name, module in model.named_modules():
        phrase = f"{name} ({type(module).__name__})" if name else type(module).__name__
        handles.append(module.register_forward_pre_hook(
            lambda m, a, phrase=phrase: scopes.append(phrase)))
        handles.append(module.register_forward_hook(leave))
    was_training = model.training
    model.eval()
    previous, function._trace_hook = function._trace_hook, hook
    try:
        with no_grad():
            out = model(*inputs)
    finally:
        function._trace_hook = previous
        model.train(was_training)
        for h in handles:
            h.remove()
    recording.outputs = _flat_outputs(out)
    recording.output_sources = tuple(sources.of(t) for t in recording.outputs)
    return recording
