"""Fused fast paths and their composed twins: one contract.

A fused op computes in array code, for speed, what a few differentiable primitives would
compute more slowly. It declares that composition, its twin, as `twin(*args)`: forward's
arguments (Tensors where forward gets arrays) to forward's outputs (Tensors), built only
from differentiable ops. The tests hold every fused class equal to its twin in values,
gradients and second derivatives (tests/autograd/test_fused.py walks the subclasses, so
a fused op without an entry there fails). Two shapes:

- `FusedFunction`: a cheap elementwise or GEMM backward written with Tensor ops or a grad
  node (a second small `FusedFunction` whose forward is the backward's array code, as
  chainer's `TanhGrad`): differentiable as it stands; the twin is the reference.
- `FusedKernel`: forward and backward both array code (convolution, normalisation,
  recurrent sequences, attention). `backward(ctx, *grads)` takes and returns arrays. Under
  create_graph=True the base class instead recomputes the twin from the inputs and
  differentiates it, so no formula is written twice and every kernel has exact second
  derivatives, at the cost of the composed path.

A `FusedKernel` keeps its inputs until its graph is freed (the twin needs them); changing
one in place before the backward pass is an error, as for any saved tensor.
"""
from . import grad_mode
from .engine import grad
from .function import _CONSTANT, _FREED, Function, _input_entry
from .tensor import Tensor


class FusedFunction(Function):
    """A fast path whose backward is differentiable Tensor ops; `twin` is its reference."""

    @staticmethod
    def twin(*args):
        raise NotImplementedError


class FusedKernel(FusedFunction):
    """A fast path whose forward and backward are array code; create_graph differentiates
    the twin (see the module docstring)."""

    @staticmethod
    def backward(ctx, *grads):
        """Arrays in (one per output), arrays out (one per input, None where not needed)."""
        raise NotImplementedError

    def _connect(self, args, needs, outs, results):
        super()._connect(args, needs, outs, results)
        self._inputs = tuple(_input_entry(a) if isinstance(a, Tensor)
                             else (_CONSTANT, a, None, None) for a in args)

    def _release(self):
        super()._release()
        self._inputs = _FREED

    def _backward(self, grads):
        if grad_mode._enabled:  # create_graph
            return self._backward_twin(grads)
        found = self.backward(self, *[g._data for g in grads])
        found = found if isinstance(found, tuple) else (found,)
        return tuple(None if g is None else Tensor._make(g) for g in found)

    def _backward_twin(self, grads):
        """d(sum_k grads[k] * twin(inputs)[k]) / d inputs, recorded (create_graph)."""
        need = self.needs_input_grad
        inputs = [_Alias.apply(t) if n else t for t, n in zip(self._unpack(self._inputs), need)]
        outs = self.twin(*inputs)
        outs = outs if isinstance(outs, tuple) else (outs,)
        pairs = [(o, g) for o, g in zip(outs, grads) if o.requires_grad]
        wanted = [t for t, n in zip(inputs, need) if n]
        found = iter(grad([o for o, _ in pairs], wanted, [g for _, g in pairs],
                          create_graph=True, allow_unused=True))
        return tuple(next(found) if n else None for n in need)


class _Alias(Function):
    """y = x, a node of its own: the twin's recomputed graph starts here, so `grad` gives
    each argument's partial derivative even when one tensor is passed twice."""

    is_view = True

    @staticmethod
    def forward(ctx, x):
        return x.view()

    @staticmethod
    def backward(ctx, gy):
        return gy
