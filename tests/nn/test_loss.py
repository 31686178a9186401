"""Losses against torch: every loss, reduction and option, float64 and float32, values and
gradients; gradcheck + gradgradcheck; the fused cross-entropy held equal to its composed
twin (values, gradients and second derivatives); logits of +-1000; the loss modules
(values, buffers, repr); errors."""
import numpy as np
import pytest

import nnlab
import nnlab.nn.functional as F
from nnlab import nn
from nnlab.autograd import grad
from nnlab.nn.functional.loss import cross_entropy_composed
from tests.helpers import check_grad, check_op, randn

torch = pytest.importorskip("torch")
TF = torch.nn.functional
# kl_div's reduction='mean' and the legacy size_average / reduce arguments warn in torch
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

_rng = np.random.default_rng(7)


def _softmax(z, axis):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


X = randn(4, 5, seed=1)                          # predictions / logits (N, C)
Y = randn(4, 5, seed=2)                          # regression targets
WX = _rng.random((4, 5)) + 0.5                   # elementwise weights
W5 = _rng.random(5) + 0.5                        # class weights (C,)
W3 = _rng.random(3) + 0.5
P = 0.05 + 0.9 * _rng.random((4, 5))             # probabilities in (0, 1)
T01 = _rng.random((4, 5))                        # soft binary targets
B01 = (_rng.random((4, 5)) < 0.5).astype(float)  # hard binary targets
IDX = np.array([0, 4, 2, 1])                     # class indices for (4, 5)
IDX_100 = np.array([0, -100, 2, -100])           # with the default ignore_index
IDX_1 = np.array([1, 4, 1, 3])                   # ignore_index=1 drops two
Z4 = randn(2, 3, 2, 3, seed=3)                   # (N, C, d1, d2)
IDX4 = _rng.integers(0, 3, (2, 2, 3))
Z1 = randn(5, seed=4)                            # (C,)
IDX0 = np.array(3)                               # 0-d target
PROBS = _softmax(randn(4, 5, seed=5), 1)
PROBS4 = _softmax(randn(2, 3, 2, 3, seed=6), 1)
PROBS1 = _softmax(randn(5, seed=7), 0)
LOGP = np.log(_softmax(randn(4, 5, seed=8), 1))
LOGP4 = np.log(_softmax(Z4, 1))
LOGQ = np.log(PROBS)
VAR = _rng.random((4, 5)) + 0.2
VAR_SMALL = _rng.random((4, 5)) * 0.4            # some below eps=0.2: clamped
PM1 = np.array([1, -1, -1, 1])                   # cosine / ranking targets
U1, U2 = randn(6, seed=9), randn(6, seed=10)
PM1F = np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0])


class Const:
    """A constant tensor argument (class weights, pos_weight): made a tensor of the run's
    dtype in each library, never differentiated."""

    def __init__(self, array):
        self.array = np.asarray(array)

    def make(self, lib, dtype):
        a = self.array.astype(dtype) if self.array.dtype.kind == "f" else self.array
        return nnlab.tensor(a) if lib is nnlab else torch.tensor(a)


def _kw(kwargs, lib, dtype):
    return {k: v.make(lib, dtype) if isinstance(v, Const) else v for k, v in kwargs.items()}


def _case(name, args, reductions=("none", "mean", "sum"), gradcheck=True, **kwargs):
    ident = name + "-" + "-".join(f"{k}={v.__class__.__name__ if isinstance(v, Const) else v}"
                                  for k, v in kwargs.items()) + f"-{args[0].shape}"
    return pytest.param(name, args, kwargs, reductions, gradcheck, id=ident)


# one line per (loss, options); each runs under every reduction listed; gradcheck: True,
# False (skipped) or a mark
CASES = [
    _case("mse_loss", (X, Y)),
    _case("mse_loss", (X, Y), weight=Const(WX)),
    _case("l1_loss", (X, Y)),
    _case("l1_loss", (X, Y), weight=Const(WX)),
    _case("huber_loss", (X, Y)),
    _case("huber_loss", (X, Y), delta=0.5),
    _case("huber_loss", (X, Y), delta=0.7, weight=Const(WX)),
    _case("smooth_l1_loss", (X, Y)),
    _case("smooth_l1_loss", (X, Y), beta=0.5),
    _case("smooth_l1_loss", (X, Y), beta=0.0),
    _case("binary_cross_entropy", (P, T01)),
    _case("binary_cross_entropy", (P, B01), weight=Const(W5)),
    _case("binary_cross_entropy", (P, T01), weight=Const(WX)),
    _case("binary_cross_entropy_with_logits", (X, T01)),
    _case("binary_cross_entropy_with_logits", (X, B01), weight=Const(W5)),
    _case("binary_cross_entropy_with_logits", (X, T01), pos_weight=Const(W5)),
    _case("binary_cross_entropy_with_logits", (X, B01), weight=Const(WX),
          pos_weight=Const(W5)),
    _case("cross_entropy", (X, IDX)),
    _case("cross_entropy", (X, IDX), weight=Const(W5)),
    _case("cross_entropy", (X, IDX_100)),
    _case("cross_entropy", (X, IDX_1), ignore_index=1),
    _case("cross_entropy", (X, IDX), label_smoothing=0.1),
    _case("cross_entropy", (X, IDX_1), weight=Const(W5), ignore_index=1,
          label_smoothing=0.2),
    _case("cross_entropy", (Z4, IDX4)),
    _case("cross_entropy", (Z4, IDX4), weight=Const(W3), ignore_index=0,
          label_smoothing=0.15),
    _case("cross_entropy", (Z1, IDX0)),
    _case("cross_entropy", (Z1, IDX0), weight=Const(W5), label_smoothing=0.3),
    _case("cross_entropy", (X, PROBS)),
    _case("cross_entropy", (X, PROBS), weight=Const(W5), label_smoothing=0.2),
    _case("cross_entropy", (Z4, PROBS4), weight=Const(W3)),
    _case("cross_entropy", (Z1, PROBS1), label_smoothing=0.1),
    _case("nll_loss", (LOGP, IDX)),
    _case("nll_loss", (LOGP, IDX), weight=Const(W5)),
    _case("nll_loss", (LOGP, IDX_100)),
    _case("nll_loss", (LOGP, IDX_1), weight=Const(W5), ignore_index=1),
    _case("nll_loss", (LOGP4, IDX4), weight=Const(W3), ignore_index=2),
    _case("nll_loss", (np.log(PROBS1), IDX0)),
    _case("gaussian_nll_loss", (X, Y, VAR)),
    _case("gaussian_nll_loss", (X, Y, VAR), full=True),
    _case("gaussian_nll_loss", (X, Y, VAR[:, :1])),          # homoscedastic (N, 1)
    _case("gaussian_nll_loss", (X, Y, VAR[:, 0])),           # one short: (N,)
    _case("gaussian_nll_loss", (X, Y, 0.7)),                 # a number
    _case("gaussian_nll_loss", (X, Y, VAR_SMALL), eps=0.2, gradcheck=False),  # clamped
    _case("kl_div", (LOGP, PROBS), reductions=("none", "mean", "sum", "batchmean")),
    _case("kl_div", (LOGP, LOGQ), reductions=("none", "mean", "sum", "batchmean"),
          log_target=True),
    _case("kl_div", (Z1, PROBS1), reductions=("batchmean",)),
    _case("cosine_embedding_loss", (X, Y, PM1)),
    _case("cosine_embedding_loss", (X, Y, PM1), margin=-0.3),
    _case("cosine_embedding_loss", (Z1, Y[0], np.array(1))),
    _case("cosine_embedding_loss", (Z1, Y[0], np.array(-1)), margin=-0.5),
    _case("margin_ranking_loss", (U1, U2, PM1F)),
    _case("margin_ranking_loss", (U1, U2, PM1F), margin=0.5),
]


def _fns(name, kwargs, reduction, dtype):
    def nn_fn(*xs):
        return getattr(F, name)(*xs, reduction=reduction, **_kw(kwargs, nnlab, dtype))

    def torch_fn(*xs):
        return getattr(TF, name)(*xs, reduction=reduction, **_kw(kwargs, torch, dtype))
    return nn_fn, torch_fn


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, args, kwargs, reductions, gradcheck", CASES)
def test_parity(name, args, kwargs, reductions, gradcheck, dtype):
    for reduction in reductions:
        check_op(*_fns(name, kwargs, reduction, dtype), *args, dtype=dtype)


@pytest.mark.parametrize("name, args, kwargs, reductions, gradcheck", CASES)
def test_gradcheck(name, args, kwargs, reductions, gradcheck, request):
    if gradcheck is False:
        pytest.skip("torch's clamp of var passes its gradient through unchanged on purpose")
    if gradcheck is not True:
        request.applymarker(gradcheck)
    for reduction in {"none", "mean"} & set(reductions) or reductions:
        check_grad(_fns(name, kwargs, reduction, np.float64)[0], *args)


# -- the fused cross-entropy and its composed twin -------------------------------------
FUSED = [  # (logits, class indices, options)
    (X, IDX, {}),
    (X, IDX, dict(weight=W5)),
    (X, IDX_100, dict(label_smoothing=0.25)),
    (X, IDX_1, dict(weight=W5, ignore_index=1, label_smoothing=0.2)),
    (Z4, IDX4, dict(weight=W3, ignore_index=0, label_smoothing=0.1)),
    (Z1, IDX0, dict(weight=W5, label_smoothing=0.3)),
    (100 * X, IDX, dict(label_smoothing=0.05)),
]


def _value_grad_hessian_v(fn, z, target, kwargs, dtype):
    """fn's value, its gradient and the gradient of <gradient, v> (a Hessian-vector
    product, through create_graph=True)."""
    x = nnlab.tensor(z.astype(dtype), requires_grad=True)
    kw = {k: nnlab.tensor(v.astype(dtype)) if isinstance(v, np.ndarray) else v
          for k, v in kwargs.items()}
    loss = fn(x, nnlab.tensor(target), **kw)
    out = loss.sum() if loss.ndim else loss
    g, = grad(out, x, create_graph=True)
    v = nnlab.tensor(randn(*z.shape, seed=11).astype(dtype))
    h, = grad((g * v).sum(), x)
    return loss.detach().numpy(), g.detach().numpy(), h.numpy()


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("z, target, kwargs", FUSED)
@pytest.mark.parametrize("dtype, tol", [(np.float64, dict(rtol=1e-10, atol=1e-12)),
                                        (np.float32, dict(rtol=1e-5, atol=1e-6))])
def test_fused_equals_composed(z, target, kwargs, reduction, dtype, tol):
    kwargs = dict(kwargs, reduction=reduction)
    fused = _value_grad_hessian_v(F.cross_entropy, z, target, kwargs, dtype)
    composed = _value_grad_hessian_v(cross_entropy_composed, z, target, kwargs, dtype)
    for what, a, b in zip(("value", "gradient", "second derivative"), fused, composed):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, b, **tol, err_msg=f"fused and composed {what} differ")


def test_fused_path_is_taken():
    loss = F.cross_entropy(nnlab.tensor(X, requires_grad=True), nnlab.tensor(IDX))
    assert type(loss.grad_fn).__name__ == "CrossEntropy"
    g, = grad(loss, loss.grad_fn._edges[0], create_graph=True)
    assert type(g.grad_fn).__name__ == "CrossEntropyGrad"


@pytest.mark.parametrize("reduction", ["none", "mean"])
@pytest.mark.parametrize("z, target, kwargs", FUSED[:6])
def test_composed_gradcheck(z, target, kwargs, reduction):
    kw = {k: nnlab.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    check_grad(lambda x, t: cross_entropy_composed(x, t, reduction=reduction, **kw),
               z, target)


# -- extreme logits --------------------------------------------------------------------
BIG = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 0.0], [0.0, -1000.0, 1000.0]])
BIG_LOGITS = np.array([1000.0, -1000.0, 0.0, 1000.0, -1000.0, 0.0])
BIG_T = np.array([0.0, 1.0, 0.5, 1.0, 0.0, 1.0])
EXTREME = [
    ("cross_entropy", (BIG, np.array([0, 0, 1])), {}),
    ("cross_entropy", (BIG, np.array([0, 0, 1])), dict(label_smoothing=0.1)),
    ("cross_entropy", (BIG, _softmax(randn(3, 3, seed=12), 1)), {}),
    ("binary_cross_entropy_with_logits", (BIG_LOGITS, BIG_T), {}),
    ("binary_cross_entropy_with_logits", (BIG_LOGITS, BIG_T),
     dict(pos_weight=Const(np.full(6, 3.0)))),
    ("binary_cross_entropy", (np.array([0.0, 1.0, 0.5, 1.0]), np.array([1.0, 0.0, 0.5, 1.0])),
     {}),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, args, kwargs", EXTREME)
def test_extreme_inputs(name, args, kwargs, dtype):
    nn_fn, torch_fn = _fns(name, kwargs, "none", dtype)
    grad_ok = name != "binary_cross_entropy"  # torch: 1e12-sized gradients at x = 0, 1
    check_op(nn_fn, torch_fn, *args, dtype=dtype, grad=grad_ok)
    xs = [nnlab.tensor(a.astype(dtype), requires_grad=True) if a.dtype.kind == "f"
          else nnlab.tensor(a) for a in args]
    loss = nn_fn(*xs)
    loss.sum().backward()
    assert np.isfinite(loss.detach().numpy()).all()
    assert np.isfinite(xs[0].grad.numpy()).all()


# -- modules ---------------------------------------------------------------------------
MODULES = [  # (class name, constructor arguments, call arguments)
    ("MSELoss", {}, (X, Y)),
    ("MSELoss", dict(reduction="sum"), (X, Y)),
    ("L1Loss", dict(reduction="none"), (X, Y)),
    ("HuberLoss", dict(delta=0.5), (X, Y)),
    ("SmoothL1Loss", dict(beta=0.3, reduction="sum"), (X, Y)),
    ("BCELoss", dict(weight=Const(W5)), (P, T01)),
    ("BCEWithLogitsLoss", dict(pos_weight=Const(W5)), (X, T01)),
    ("BCEWithLogitsLoss", dict(weight=Const(WX), pos_weight=Const(W5), reduction="none"),
     (X, T01)),
    ("CrossEntropyLoss", {}, (X, IDX)),
    ("CrossEntropyLoss", dict(weight=Const(W5), ignore_index=1, label_smoothing=0.1),
     (X, IDX_1)),
    ("CrossEntropyLoss", dict(reduction="none"), (Z4, PROBS4)),
    ("NLLLoss", dict(weight=Const(W3), reduction="sum"), (LOGP4, IDX4)),
    ("GaussianNLLLoss", dict(full=True, eps=1e-3), (X, Y, VAR)),
    ("KLDivLoss", dict(reduction="batchmean", log_target=True), (LOGP, LOGQ)),
    ("CosineEmbeddingLoss", dict(margin=0.1), (X, Y, PM1)),
    ("MarginRankingLoss", dict(margin=0.2, reduction="none"), (U1, U2, PM1F)),
    ("MSELoss", dict(size_average=False), (X, Y)),          # legacy: 'sum'
    ("L1Loss", dict(reduce=False), (X, Y)),                 # legacy: 'none'
    ("NLLLoss", dict(size_average=True, reduce=True), (LOGP, IDX)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, kwargs, args", MODULES)
def test_module(name, kwargs, args, dtype):
    ours = getattr(nn, name)(**_kw(kwargs, nnlab, dtype))
    theirs = getattr(torch.nn, name)(**_kw(kwargs, torch, dtype))
    check_op(ours, theirs, *args, dtype=dtype)
    assert repr(ours) == repr(theirs)
    assert ours.reduction == theirs.reduction
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key].numpy(), value.numpy())


def test_module_weight_follows_dtype():
    loss = nn.CrossEntropyLoss(weight=nnlab.tensor(W5, dtype=nnlab.float32)).double()
    assert loss.weight.dtype == np.float64


@pytest.mark.parametrize("kwargs", [dict(size_average=False), dict(reduce=False),
                                    dict(size_average=True, reduce=False)])
def test_legacy_reduction_arguments(kwargs):
    check_op(lambda a, b: F.mse_loss(a, b, **kwargs), lambda a, b: TF.mse_loss(a, b, **kwargs),
             X, Y)


# -- errors ----------------------------------------------------------------------------
def _t(a):
    return nnlab.tensor(a)


ALL_LOSSES = [("mse_loss", (X, Y)), ("l1_loss", (X, Y)), ("huber_loss", (X, Y)),
              ("smooth_l1_loss", (X, Y)), ("binary_cross_entropy", (P, T01)),
              ("binary_cross_entropy_with_logits", (X, T01)), ("cross_entropy", (X, IDX)),
              ("cross_entropy", (X, PROBS)), ("nll_loss", (LOGP, IDX)),
              ("gaussian_nll_loss", (X, Y, VAR)), ("kl_div", (LOGP, PROBS)),
              ("cosine_embedding_loss", (X, Y, PM1)), ("margin_ranking_loss", (U1, U2, PM1F))]


@pytest.mark.parametrize("name, args", ALL_LOSSES)
def test_invalid_reduction(name, args):
    with pytest.raises(ValueError, match=f"{name}: reduction='avg' is not valid"):
        getattr(F, name)(*[_t(a) for a in args], reduction="avg")


ERRORS = [  # (call, exception, message)
    (lambda: F.cross_entropy(_t(X), _t([0, 1, 5, 2])), IndexError,
     r"cross_entropy: target class index 5 is out of range for 5 classes"),
    (lambda: F.cross_entropy(_t(X), _t([0, -1, 2, 2])), IndexError,
     r"cross_entropy: target class index -1 is out of range for 5 classes"),
    (lambda: F.nll_loss(_t(LOGP4), _t(IDX4 + 1)), IndexError,
     r"nll_loss: target class index 3 is out of range for 3 classes"),
    (lambda: F.cross_entropy(_t(X), _t([0, 1, 2])), ValueError,
     r"cross_entropy: input of shape \(4, 5\) and target of shape \(3,\) do not match"),
    (lambda: F.cross_entropy(_t(X), _t(PROBS[:3])), ValueError,
     r"cross_entropy: input of shape \(4, 5\) and probability target of shape \(3, 5\)"),
    (lambda: F.cross_entropy(_t(X), _t(IDX), weight=_t(W3)), ValueError,
     r"cross_entropy: weight must have one entry per class, shape \(5,\); got shape \(3,\)"),
    (lambda: F.cross_entropy(_t(X), _t(IDX), label_smoothing=1.5), ValueError,
     r"cross_entropy: label_smoothing must be in \[0, 1\], got 1.5"),
    (lambda: F.cross_entropy(_t(X), _t(PROBS), ignore_index=0), ValueError,
     r"cross_entropy: ignore_index=0 is not supported with probability targets"),
    (lambda: F.cross_entropy(_t(np.array(1.0)), _t(0)), ValueError,
     r"cross_entropy: input must have a class dimension"),
    (lambda: F.nll_loss(_t(LOGP), _t(X)), TypeError,
     r"nll_loss: target must hold class indices \(an integer tensor\), got dtype float64"),
    (lambda: F.nll_loss(_t(LOGP), _t(IDX[:2])), ValueError,
     r"nll_loss: input of shape \(4, 5\) and target of shape \(2,\)"),
    (lambda: F.mse_loss(_t(X), _t(X[:, :1])), ValueError,
     r"mse_loss: input of shape \(4, 5\) and target of shape \(4, 1\) differ"),
    (lambda: F.l1_loss(_t(X), _t(Y), weight=_t(W5)), ValueError,
     r"l1_loss: weight of shape \(5,\) and input of shape \(4, 5\) differ"),
    (lambda: F.mse_loss(_t(IDX), _t(IDX)), TypeError,
     r"mse_loss: input must be a floating point tensor, got dtype int64"),
    (lambda: F.huber_loss(_t(X), _t(Y), delta=0.0), ValueError,
     r"huber_loss: delta must be positive, got 0.0"),
    (lambda: F.smooth_l1_loss(_t(X), _t(Y), beta=-1.0), ValueError,
     r"smooth_l1_loss: beta must be non-negative, got -1.0"),
    (lambda: F.binary_cross_entropy(_t(X), _t(T01)), ValueError,
     r"binary_cross_entropy: input must hold probabilities in \[0, 1\]"),
    (lambda: F.binary_cross_entropy(_t(P), _t(T01), weight=_t(W3)), ValueError,
     r"binary_cross_entropy: weight of shape \(3,\) does not broadcast to input of shape"),
    (lambda: F.binary_cross_entropy_with_logits(_t(X), _t(T01[:2])), ValueError,
     r"binary_cross_entropy_with_logits: input of shape \(4, 5\) and target of shape "
     r"\(2, 5\) differ"),
    (lambda: F.binary_cross_entropy_with_logits(_t(X), _t(T01), pos_weight=_t(W3)),
     ValueError, r"pos_weight of shape \(3,\) does not broadcast to input of shape \(4, 5\)"),
    (lambda: F.gaussian_nll_loss(_t(X), _t(Y), _t(-VAR)), ValueError,
     r"gaussian_nll_loss: var has negative entries"),
    (lambda: F.gaussian_nll_loss(_t(X), _t(Y), -1.0), ValueError,
     r"gaussian_nll_loss: var must be non-negative, got -1.0"),
    (lambda: F.gaussian_nll_loss(_t(X), _t(Y), _t(VAR[:2])), ValueError,
     r"gaussian_nll_loss: var of shape \(2, 5\) does not fit input of shape \(4, 5\)"),
    (lambda: F.kl_div(_t(LOGP), _t(PROBS), reduction="batch"), ValueError,
     r"kl_div: reduction='batch' is not valid \(expected one of 'none', 'batchmean'"),
    (lambda: F.cosine_embedding_loss(_t(X), _t(Y), _t(PM1[:1].reshape(1, 1))), ValueError,
     r"cosine_embedding_loss: expected inputs \(N, D\) with a target \(N,\)"),
    (lambda: F.cosine_embedding_loss(_t(X), _t(Y[:, :2]), _t(PM1)), ValueError,
     r"cosine_embedding_loss: input1 of shape \(4, 5\) and input2 of shape \(4, 2\)"),
    (lambda: F.margin_ranking_loss(_t(U1), _t(U2[None]), _t(PM1F)), ValueError,
     r"margin_ranking_loss: input1 \(6,\), input2 \(1, 6\) and target \(6,\) must have"),
]


@pytest.mark.parametrize("call, error, message", ERRORS)
def test_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
