"""Every fused fast path against its declared composed twin (autograd/fused.py): values,
gradients and second derivatives, in float64 and float32. The table must name every
concrete subclass of FusedFunction, so a fused op added without an entry fails here."""
import numpy as np
import pytest

import nnlab
import nnlab.nn.functional  # noqa: F401  (imports every fused op)
from nnlab.autograd import grad
from nnlab.autograd.fused import FusedFunction, FusedKernel
from nnlab.nn.functional.attention import FlashAttention
from nnlab.nn.functional.bce_fused import BCEWithLogits
from nnlab.nn.functional.conv import Convolution
from nnlab.nn.functional.cross_entropy_fused import CrossEntropy, CrossEntropyGrad, _ClassTargets
from nnlab.nn.functional.dropout import MaskedScale
from nnlab.nn.functional.linear import Affine
from nnlab.nn.functional.loss import BinaryCrossEntropy, BinaryCrossEntropyWithLogits
from nnlab.nn.functional.normalization import Normalize
from nnlab.nn.functional.recurrent_fused import GRUSequence, LSTMSequence, RNNSequence, _Sequence
from nnlab.ops.elementwise import SigmoidGrad, TanhGrad
from tests.helpers import randn

ABSTRACT = {FusedKernel, _Sequence}
TOL = {np.float64: dict(rtol=1e-9, atol=1e-11), np.float32: dict(rtol=2e-4, atol=2e-5)}


class Grad:
    """A float array that becomes a tensor requiring grad."""

    def __init__(self, array):
        self.array = array


class Targets:
    """Cross-entropy targets (class weights, label smoothing, one row ignored), made in the
    case's dtype."""

    def __init__(self, reduction):
        self.reduction = reduction

    def make(self, dtype):
        t = np.array([0, 2, 1, 3, 0])
        valid = t != 3                                # row 3 ignored
        weight = np.array([1.0, 2.0, 0.5, 1.5], dtype=dtype)
        w_t = weight[np.where(valid, t, 0)] * valid
        return _ClassTargets(np.where(valid, t, 0), valid, w_t, weight, 0.1, 4, self.reduction)


def _softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def _sequence(mode, hidden=3, lengths=None, reverse=False, gates=1):
    c0 = [Grad(randn(2, hidden, seed=32))] if mode == "LSTM" else [None]
    return [Grad(randn(4, 2, 3, seed=30)), Grad(randn(2, hidden, seed=31)), *c0,
            Grad(randn(gates * hidden, 3, seed=33) * 0.5),
            Grad(randn(gates * hidden, hidden, seed=34) * 0.5),
            Grad(randn(gates * hidden, seed=35)), Grad(randn(gates * hidden, seed=36)),
            lengths, reverse, mode]


# class -> a list of argument lists for .apply (Grad(...) marks a differentiable input)
CASES = {
    TanhGrad: [[Grad(randn(3, 4, seed=1)), Grad(np.tanh(randn(3, 4, seed=2)))]],
    SigmoidGrad: [[Grad(randn(3, 4, seed=3)), Grad(1 / (1 + np.exp(-randn(3, 4, seed=4))))]],
    Affine: [[Grad(randn(5, 3, seed=5)), Grad(randn(4, 3, seed=6)), Grad(randn(4, seed=7))]],
    MaskedScale: [[Grad(randn(3, 4, seed=8)), (randn(3, 4, seed=9) > 0) * 2.0]],
    BinaryCrossEntropy: [[Grad(np.linspace(0.05, 0.95, 12).reshape(3, 4)),
                          Grad(np.random.default_rng(10).uniform(size=(3, 4)))]],
    BinaryCrossEntropyWithLogits: [
        [Grad(randn(3, 4, seed=11)), Grad(np.random.default_rng(12).uniform(size=(3, 4))),
         None],
        [Grad(randn(3, 4, seed=13)), Grad(np.random.default_rng(14).uniform(size=(3, 4))),
         Grad(np.abs(randn(4, seed=15)) + 0.5)]],
    BCEWithLogits: [[Grad(randn(3, 4, seed=46) * 3), Grad(np.random.default_rng(47).uniform(
        size=(3, 4))), r] for r in ("mean", "sum", "none")],
    CrossEntropy: [[Grad(randn(5, 4, seed=16)), Targets(r)] for r in ("mean", "sum", "none")],
    CrossEntropyGrad: [[Grad(randn(*shape, seed=17)), Grad(randn(5, 4, seed=18)),
                        _softmax(randn(5, 4, seed=18)), Targets(r)]
                       for shape, r in (((), "mean"), ((5,), "none"))],
    Convolution: [
        [Grad(randn(2, 3, 5, 5, seed=19)), Grad(randn(4, 3, 3, 3, seed=20)),
         Grad(randn(4, seed=21)), (1, 1), ((1, 1), (1, 1)), (1, 1), 1],
        [Grad(randn(2, 4, 6, seed=22)), Grad(randn(6, 2, 2, seed=23)), None, (2,), ((1, 0),),
         (2,), 2]],
    Normalize: [
        [Grad(randn(4, 3, 5, seed=24)), Grad(randn(1, 3, 1, seed=25)),
         Grad(randn(1, 3, 1, seed=26)), (0, 2), 1e-5, True],         # batch norm
        [Grad(randn(2, 3, 6, seed=27)), Grad(randn(6, seed=28)), None, (2,), 1e-5]],  # layer
    LSTMSequence: [_sequence("LSTM", gates=4),
                   _sequence("LSTM", gates=4, lengths=np.array([4, 2]), reverse=True)],
    GRUSequence: [_sequence("GRU", gates=3), _sequence("GRU", gates=3) + [False]],
    RNNSequence: [_sequence("RNN_TANH"), _sequence("RNN_RELU", lengths=np.array([3, 4]))],
    FlashAttention: [
        [Grad(randn(2, 5, 3, seed=40)), Grad(randn(2, 6, 3, seed=41)),
         Grad(randn(2, 6, 2, seed=42)), False, 0.5, (2, 4)],
        [Grad(randn(2, 5, 3, seed=43)), Grad(randn(2, 5, 3, seed=44)),
         Grad(randn(2, 5, 2, seed=45)), True, 0.6, (2, 2)]],
}


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_fused_class_has_an_entry():
    fused = {c for c in _subclasses(FusedFunction) if c not in ABSTRACT
             and c.__module__.startswith("nnlab.")}
    missing = sorted(c.__qualname__ for c in fused - set(CASES))
    assert not missing, f"fused classes with no entry in tests/autograd/test_fused.py: {missing}"


def _inputs(args, dtype):
    return [nnlab.tensor(a.array.astype(dtype), requires_grad=True) if isinstance(a, Grad)
            else a.astype(dtype) if isinstance(a, np.ndarray) and a.dtype.kind == "f"
            else a.make(dtype) if isinstance(a, Targets) else a for a in args]


def _outputs(out):
    return list(out) if isinstance(out, tuple) else [out]


def _weighted(outs, seed):
    """sum_k <outs[k], v_k> for fixed random v_k (float outputs that carry a gradient)."""
    rng = np.random.default_rng(seed)
    total = 0
    for o in outs:
        if o.requires_grad:
            total = total + (o * nnlab.tensor(rng.standard_normal(o.shape).astype(o.dtype))).sum()
    return total


def _grads(fn, inputs, order):
    """The outputs, their first derivatives and (order 2) the derivatives of <grads, w>."""
    wanted = [t for t in inputs if isinstance(t, nnlab.Tensor) and t.requires_grad]
    outs = _outputs(fn(*inputs))
    firsts = grad(_weighted(outs, 0), wanted, create_graph=order == 2, allow_unused=True)
    if order == 1:
        return outs, firsts, []
    firsts = [g for g in firsts if g is not None and g.requires_grad]   # not constant
    if not firsts:
        return outs, firsts, []
    seconds = grad(_weighted(firsts, 1), wanted, allow_unused=True)
    return outs, firsts, seconds


CASE_PARAMS = [pytest.param(cls, k, id=f"{cls.__name__}-{k}")
               for cls, cases in CASES.items() for k in range(len(cases))]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cls, k", CASE_PARAMS)
def test_fused_equals_its_twin(cls, k, dtype):
    tol = TOL[dtype]
    order = 2 if dtype == np.float64 else 1
    found = []
    for fn in (cls.apply, cls.twin):
        found.append(_grads(fn, _inputs(CASES[cls][k], dtype), order))
    for what, fused, twin in zip(("output", "gradient", "second derivative"), *found):
        assert len(fused) == len(twin), f"{what}s: {len(fused)} fused, {len(twin)} twin"
        for i, (a, b) in enumerate(zip(fused, twin)):
            assert (a is None) == (b is None), f"{what} {i}: one side has none"
            if a is not None:
                assert a.dtype == b.dtype == dtype, f"{what} {i}: {a.dtype} vs {b.dtype}"
                np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **tol,
                                           err_msg=f"{cls.__name__}: {what} {i} differs")


@pytest.mark.parametrize("cls", [Convolution, Normalize, LSTMSequence, FlashAttention])
def test_kernels_second_derivative_is_recorded_from_the_twin(cls):
    inputs = _inputs(CASES[cls][0], np.float64)
    wanted = [t for t in inputs if isinstance(t, nnlab.Tensor)]
    firsts = grad(_weighted(_outputs(cls.apply(*inputs)), 0), wanted, create_graph=True)
    assert any(g.requires_grad for g in firsts)
    firsts = grad(_weighted(_outputs(cls.apply(*inputs)), 0), wanted)
    assert not any(g.requires_grad for g in firsts)     # without create_graph: array code


def test_a_tensor_passed_twice_gets_both_partials():
    x = nnlab.tensor(randn(2, 4, 3, seed=50), requires_grad=True)
    found = []
    for attention in (FlashAttention.apply, FlashAttention.twin):
        (g,) = grad((attention(x, x, x, False, 0.5, (2, 2)) ** 2).sum(), x, create_graph=True)
        (gg,) = grad((g * g).sum(), x)
        found.append((g.detach().numpy(), gg.numpy()))
    for fused, twin in zip(*found):
        np.testing.assert_allclose(fused, twin, rtol=1e-10, atol=1e-12)


def test_changing_an_input_in_place_before_backward_is_an_error():
    x = nnlab.tensor(randn(4, 3, 5, seed=51), requires_grad=True)
    h = x * 1
    y = Normalize.apply(h, None, None, (2,), 1e-5)
    with nnlab.no_grad():
        h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        grad(y.sum(), x)
