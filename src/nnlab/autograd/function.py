"""`Function`: a forward / backward pair; an instance of it is the graph node (the ctx).

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):              # arrays in, arrays out
            y = xp.exp(x)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, gy):            # Tensors in, Tensors out (so it is differentiable)
            y, = ctx.saved_tensors
            return gy * y                 # dL/dx = dL/dy * exp(x)

`Exp.apply(t)` calls `forward` with each Tensor argument replaced by its array (`t._data`)
and every other argument passed as it is, wraps the result in Tensors, and, when a graph
is being recorded, makes the ctx their `grad_fn`. Unlike PyTorch, `forward` sees arrays:
primitives are array code, and their backward is written in Tensor ops so that it can
itself be differentiated (higher-order gradients).

`backward` returns one gradient per argument of `forward` (None where there is none);
trailing Nones may be left out. Gradients may have a broadcast shape only where the op
reduces them itself (see `ops.sum_to`).
"""
import traceback

import numpy as np

from ..backend import get_array_module
from . import grad_mode
from .tensor import Tensor

_INPUT, _OUTPUT, _CONSTANT = 0, 1, 2
_FREED = "freed"
# The ONNX exporter's recorder (nnlab/onnx/trace.py sets it for one forward pass): called
# as hook(cls, ctx, args, results) after every op; None otherwise, costing one test.
_trace_hook = None


class Function:
    """Base class of every differentiable operation (see the module docstring)."""

    # True for ops whose output is a view of input 0 (reshape, transpose, ...): the
    # output then shares the input's version counter, so writing through either is seen.
    is_view = False

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError

    # -- the ctx API, used inside forward / backward ------------------------------------
    def save_for_backward(self, *items):
        """Keep arrays (inputs, outputs or intermediates) for backward."""
        self._to_save = items

    def mark_non_differentiable(self, *arrays):
        """Outputs that never carry a gradient (indices, masks)."""
        self._non_differentiable = arrays

    @property
    def saved_tensors(self):
        """The saved items as Tensors: inputs and outputs keep their graph; a saved
        tensor changed in place since the forward pass is an error."""
        return self._unpack(self._saved)

    @property
    def saved_arrays(self):
        """The saved items as arrays (None stays None), checked as `saved_tensors`: for
        backward passes written in array code."""
        return tuple(t._data if isinstance(t, Tensor) else t for t in self.saved_tensors)

    def _unpack(self, saved):
        """Entries of `_resolve_saved` back to Tensors, each checked against its version."""
        if saved is _FREED:
            raise RuntimeError(
                f"{self.name()}: trying to backward through the graph a second time (or to "
                "read saved tensors after they were freed). Pass retain_graph=True to the "
                "first backward() if you need to walk the graph again.")
        out = []
        for kind, item, cell, version in saved:
            if kind == _CONSTANT:
                out.append(Tensor._make(item) if item is not None and hasattr(item, "shape")
                           and not isinstance(item, Tensor) else item)
                continue
            if cell[0] != version:
                by = f" ({cell[1]})" if len(cell) > 1 else ""
                shape = tuple(item.shape) if kind == _INPUT else item[0].shape
                raise RuntimeError(
                    f"{self.name()}: a tensor saved for backward (shape {shape}) was modified "
                    f"by an in-place operation{by} after {self.name()} saved it (its version "
                    f"is {cell[0]}, it was {version} when saved). Clone it before changing "
                    "it in place, or use the out-of-place op.")
            if kind == _INPUT:
                out.append(item)
            else:  # an output of this node: rebuilt so it points back here
                data, output_nr = item
                record = grad_mode._enabled
                t = Tensor._make(data, record, self if record else None, output_nr)
                t._version_counter = cell
                out.append(t)
        return tuple(out)

    def _backward(self, grads):
        """The gradients of this node's inputs from its outputs' (the engine's call)."""
        return self.backward(self, *grads)

    @classmethod
    def name(cls):
        return cls.__name__ + "Backward"

    def __repr__(self):
        return f"<{self.name()}>"

    # -- building the graph ------------------------------------------------------------
    @classmethod
    def apply(cls, *args):
        ctx = cls.__new__(cls)
        ctx._to_save = ()
        ctx._non_differentiable = ()
        if grad_mode._enabled:
            needs = tuple([isinstance(a, Tensor) and a.requires_grad for a in args])
            any_grad = True in needs
        else:
            needs = (False,) * len(args)
            any_grad = False
        ctx.needs_input_grad = needs
        out = cls.forward(ctx, *[a._data if isinstance(a, Tensor) else a for a in args])
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        if grad_mode._anomaly:
            _check_finite(cls.__name__, "forward", outs, None, grad_mode.current_scope())
        results = [_wrap(o) for o in outs]
        if cls.is_view:
            _mark_views(cls, args, results, single)
        if any_grad:
            ctx._connect(args, needs, outs, results)
        if _trace_hook is not None:
            _trace_hook(cls, ctx, args, results)
        return results[0] if single else tuple(results)

    def _connect(self, args, needs, outs, results):
        """Make this ctx the grad_fn of the results and record where gradients go."""
        # Edges: where each input's gradient goes. A leaf is its own edge (its .grad
        # accumulates); a non-leaf is (its grad_fn, which output of it); else None.
        edges = []
        generation = 0
        for a, need in zip(args, needs):
            if not need:
                edges.append(None)
            elif a.grad_fn is None:
                edges.append(a)
            else:
                edges.append((a.grad_fn, a._output_nr))
                if a.grad_fn._generation >= generation:
                    generation = a.grad_fn._generation + 1
        self._edges = tuple(edges)
        self._generation = generation
        self._hooks = None
        if grad_mode._anomaly:
            self._trace = "".join(traceback.format_stack()[:-3])
            self._scope = grad_mode.current_scope()
        if len(outs) > 1:
            self._output_meta = tuple((o.shape, o.dtype) for o in outs)
        skip = self._non_differentiable
        for i, t in enumerate(results):
            if t._data.dtype.kind == "f" and not (skip and any(outs[i] is n for n in skip)):
                t.requires_grad = True
                t.grad_fn = self
                t._output_nr = i
        self._saved = _resolve_saved(self._to_save, args, outs, results) if self._to_save \
            else ()
        del self._to_save

    def _release(self):
        """Drop what was saved for backward (after a walk without retain_graph)."""
        self._saved = _FREED


def _mark_views(cls, args, results, single):
    """Outputs of a view op share their input's memory: the same version counter, and the
    base they view with the chain of view ops from it (for writes through a view)."""
    source = args[0]
    base = getattr(source, "_base", None)
    chain = getattr(source, "_view", ()) if base is not None else ()
    for i, r in enumerate(results):
        r._version_counter = source._version_counter
        r._base = source if base is None else base
        r._view = chain + ((cls, args[1:], None if single else i),)


def _wrap(array):
    """A result array as a Tensor (numpy turns 0-d results into scalars; undo that)."""
    if isinstance(array, np.generic):
        array = np.asarray(array)
    return Tensor._make(array)


def _input_entry(t):
    """A saved input: the Tensor itself, with its version counter and version now."""
    return (_INPUT, t, t._version_counter, t._version_counter[0])


def _resolve_saved(items, args, outs, results):
    """Tie each saved array to the input or output Tensor it is, by identity, so that
    backward sees Tensors with their graph and the version at save time."""
    saved = []
    for item in items:
        if isinstance(item, Tensor):
            item = item._data
        entry = None
        if item is not None and hasattr(item, "shape"):
            for a in args:
                if isinstance(a, Tensor) and a._data is item:
                    entry = _input_entry(a)
                    break
            else:
                for i, o in enumerate(outs):
                    if o is item:
                        r = results[i]
                        entry = (_OUTPUT, (r._data, i), r._version_counter, r._version_counter[0])
                        break
        saved.append(entry or (_CONSTANT, item, None, None))
    return tuple(saved)


def _check_finite(op, phase, arrays, trace, scope=None):
    """Anomaly mode: a forward that gives NaN, or a backward that gives NaN or Inf, raises
    (a forward may give Inf on purpose: log(0), a -inf attention mask), naming the op, the
    scope it ran in (the layer: 'in layers.2 (Linear)'), and the stack that created it."""
    what = "NaN" if phase == "forward" else "NaN or Inf"
    for a in arrays:
        if a is None:
            continue
        data = a._data if isinstance(a, Tensor) else a
        if not hasattr(data, "dtype") or data.dtype.kind != "f":
            continue
        xp = get_array_module(data)
        if (xp.isnan(data) if phase == "forward" else ~xp.isfinite(data)).any():
            where = f"\nThe op was created at:\n{trace}" if trace else ""
            op = f"{op} ({scope})" if scope else op
            raise RuntimeError(f"anomaly: {op} returned {what} values in its {phase} "
                               f"pass{where}")
