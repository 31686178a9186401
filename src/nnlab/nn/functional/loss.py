"""Losses as functions, with PyTorch's names, arguments and defaults. `reduction` is 'none'
(one loss per element or sample), 'mean' or 'sum' ('batchmean' too for kl_div); the
deprecated `size_average` / `reduce` pair, when given, overrides it as in PyTorch.

Most losses are compositions of ops. Three are Functions of their own:
- `CrossEntropy` (cross_entropy_fused.py): log-softmax + negative log-likelihood fused over
  rows of class scores; `cross_entropy_composed` here is the whole function's composed
  reference. Probability targets take the composed path.
- `BinaryCrossEntropy`: torch's clamped logs and gradient (x - y) / max(x (1 - x), 1e-12).
- `BinaryCrossEntropyWithLogits`: the stable form max(x, 0) - x y + log1p(exp(-|x|)), whose
  gradient sigmoid(x) - y stays exact at x = 0 (where a composition meets two kinks).

Unlike PyTorch, the regression losses (mse, l1, huber, smooth_l1, kl_div,
gaussian_nll) raise on an input and target of different shapes instead of broadcasting
them with a warning: that broadcast is almost always a bug ((N, 1) against (N,)).
"""
import math

import numpy as np

from ... import ops
from ...autograd.fused import FusedFunction
from ...autograd.tensor import Tensor
from ...backend import get_array_module
from .bce_fused import BCEWithLogits
from .cross_entropy_fused import CrossEntropy, _ClassTargets

_REDUCTIONS = ("none", "mean", "sum")
_BCE_EPS = 1e-12   # torch's floor on x (1 - x) in the gradient of binary_cross_entropy
_COSINE_EPS = 1e-12   # torch's epsilon added to each squared norm in cosine_embedding_loss


# -- arguments -------------------------------------------------------------------------
def _legacy_reduction(size_average, reduce):
    """torch's deprecated (size_average, reduce) pair as a reduction string."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return ("mean" if size_average else "sum") if reduce else "none"


def _reduction(op, reduction, size_average=None, reduce=None, allowed=_REDUCTIONS):
    if size_average is not None or reduce is not None:
        return _legacy_reduction(size_average, reduce)
    if reduction not in allowed:
        expected = ", ".join(repr(r) for r in allowed)
        raise ValueError(f"{op}: reduction={reduction!r} is not valid (expected one of "
                         f"{expected})")
    return reduction


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _tensor(x, dtype=None):
    """A Tensor argument (Tensor, array, list or number), cast to `dtype` if given."""
    if x is None:
        return None
    t = x if isinstance(x, Tensor) else ops.as_tensor(x)
    return t.to(dtype) if dtype is not None and t.dtype != dtype else t


def _floating(x, op, name="input"):
    t = _tensor(x)
    if t.dtype.kind != "f":
        raise TypeError(f"{op}: {name} must be a floating point tensor, got dtype {t.dtype}")
    return t


def _pair(op, input, target):
    """input (float) and target as Tensors of input's dtype and the same shape."""
    input = _floating(input, op)
    target = _tensor(target, input.dtype)
    if input.shape != target.shape:
        raise ValueError(f"{op}: input of shape {input.shape} and target of shape "
                         f"{target.shape} differ (expected the same shape)")
    return input, target


def _array(x):
    return x._data if isinstance(x, Tensor) else x


def _is_floating(x):
    x = _array(x)
    return (x.dtype if hasattr(x, "dtype") else np.asarray(x).dtype).kind == "f"


def _constant(array):
    return Tensor._make(array)


# -- regression ------------------------------------------------------------------------
def _weighted(op, loss, weight, reduction, mean_by_weight):
    """Elementwise `loss` times `weight` (input's shape), reduced; 'mean' divides by the
    sum of the weights (mse, l1) or by the number of elements (huber), as torch."""
    if weight is None:
        return _reduce(loss, reduction)
    weight = _tensor(weight, loss.dtype)
    if weight.shape != loss.shape:
        raise ValueError(f"{op}: weight of shape {weight.shape} and input of shape "
                         f"{loss.shape} differ (expected the same shape)")
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """(input - target)^2, optionally times `weight` (input's shape; 'mean' is then the
    weighted mean sum(w l) / sum(w))."""
    reduction = _reduction("mse_loss", reduction, size_average, reduce)
    input, target = _pair("mse_loss", input, target)
    return _weighted("mse_loss", ops.square(input - target), weight, reduction, True)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """|input - target|, optionally times `weight` ('mean' then is sum(w l) / sum(w))."""
    reduction = _reduction("l1_loss", reduction, size_average, reduce)
    input, target = _pair("l1_loss", input, target)
    return _weighted("l1_loss", ops.abs(input - target), weight, reduction, True)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), with d = input - target;
    optionally times `weight` ('mean' then is mean(w l), as torch)."""
    reduction = _reduction("huber_loss", reduction)
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    input, target = _pair("huber_loss", input, target)
    d = input - target
    a = ops.abs(d)
    loss = ops.where(a._data < delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    return _weighted("huber_loss", loss, weight, reduction, False)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean",
                   beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (beta = 0: |d|), with
    d = input - target."""
    reduction = _reduction("smooth_l1_loss", reduction, size_average, reduce)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    input, target = _pair("smooth_l1_loss", input, target)
    d = input - target
    a = ops.abs(d)
    if beta == 0:
        return _reduce(a, reduction)
    return _reduce(ops.where(a._data < beta, 0.5 * d * d / beta, a - 0.5 * beta), reduction)


# -- binary ----------------------------------------------------------------------------
def _binary_cross_entropy_composed(x, y):
    """BinaryCrossEntropy's twin, composed of ops."""
    return -(y * ops.clamp(ops.log(x), min=-100) + (1 - y) * ops.clamp(ops.log(1 - x), min=-100))


class BinaryCrossEntropy(FusedFunction):
    """-(y log x + (1 - y) log(1 - x)) elementwise, each log clamped at -100 (as torch)."""

    twin = staticmethod(_binary_cross_entropy_composed)

    @staticmethod
    def forward(ctx, x, y):
        xp = get_array_module(x)
        ctx.save_for_backward(x, y)
        with np.errstate(divide="ignore"):
            log_x = xp.maximum(xp.log(x), -100)
            log_1mx = xp.maximum(xp.log(1 - x), -100)
        return (y - 1) * log_1mx - y * log_x

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        # dL/dx = (x - y) / max(x (1 - x), 1e-12);  dL/dy = log(1 - x) - log(x)
        gx = gy * (x - y) / ops.clamp(x * (1 - x), min=_BCE_EPS) if need_x else None
        gt = None
        if need_y:
            with np.errstate(divide="ignore"):  # x = 0 or 1: an infinite gradient, as torch
                gt = gy * (ops.log(1 - x) - ops.log(x))
        return gx, gt


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """-w (y log x + (1 - y) log(1 - x)) for probabilities x = input in [0, 1] and targets
    y (input's shape); each log is clamped at -100, so x = 0 or 1 gives a finite loss.
    `weight` broadcasts to input's shape."""
    op = "binary_cross_entropy"
    reduction = _reduction(op, reduction, size_average, reduce)
    input, target = _pair(op, input, target)
    if input.numel():
        low, high = float(input._data.min()), float(input._data.max())
        if not (low >= 0 and high <= 1):
            raise ValueError(f"{op}: input must hold probabilities in [0, 1], got values in "
                             f"[{low}, {high}] (use binary_cross_entropy_with_logits for "
                             "logits)")
    loss = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss * _broadcast_weight(op, "weight", weight, input)
    return _reduce(loss, reduction)


def _broadcast_weight(op, name, weight, input):
    weight = _tensor(weight, input.dtype)
    try:
        shape = np.broadcast_shapes(weight.shape, input.shape)
    except ValueError:
        shape = None
    if shape != input.shape:
        raise ValueError(f"{op}: {name} of shape {weight.shape} does not broadcast to input "
                         f"of shape {input.shape}")
    return ops.broadcast_to(weight, input.shape)


def _binary_cross_entropy_with_logits_composed(x, y, pos_weight):
    """BinaryCrossEntropyWithLogits's twin, composed of ops."""
    softplus_neg = ops.elementwise.softplus(-x)
    if pos_weight is None:
        return (1 - y) * x + softplus_neg
    return (1 - y) * x + (1 + (pos_weight - 1) * y) * softplus_neg


class BinaryCrossEntropyWithLogits(FusedFunction):
    """(1 - y) x + l softplus(-x) elementwise, with l = 1 + (p - 1) y for the positive
    weight p (l = 1 without one: max(x, 0) - x y + log1p(exp(-|x|))); finite for any x."""

    twin = staticmethod(_binary_cross_entropy_with_logits_composed)

    @staticmethod
    def forward(ctx, x, y, pos_weight):
        xp = get_array_module(x)
        ctx.save_for_backward(x, y, pos_weight)
        softplus_neg = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
        if pos_weight is None:
            return (1 - y) * x + softplus_neg
        return (1 - y) * x + (1 + (pos_weight - 1) * y) * softplus_neg

    @staticmethod
    def backward(ctx, gy):
        x, y, p = ctx.saved_tensors
        need_x, need_y, need_p = ctx.needs_input_grad
        gx = gt = gp = None
        # dL/dx = l sigmoid(x) - p y;  dL/dy = (p - 1) softplus(-x) - x;  dL/dp = y softplus(-x)
        if need_x:
            s = ops.sigmoid(x)
            gx = gy * (s - y if p is None else (1 + (p - 1) * y) * s - p * y)
        if need_y or need_p:
            softplus_neg = ops.elementwise.softplus(-x)
            if need_y:
                gt = gy * (-x if p is None else (p - 1) * softplus_neg - x)
            if need_p:
                gp = ops.sum_to(gy * y * softplus_neg, p.shape)
        return gx, gt, gp


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """binary_cross_entropy(sigmoid(input), target) computed stably from the logits:
    w ((1 - y) x + (1 + (p - 1) y) log(1 + exp(-x))), finite for logits of +-1000.
    `weight` and `pos_weight` (p, e.g. one per class: shape (C,)) broadcast to input.
    Without either, the fused `BCEWithLogits` (bce_fused.py) computes it, reduction
    included."""
    op = "binary_cross_entropy_with_logits"
    reduction = _reduction(op, reduction, size_average, reduce)
    input, target = _pair(op, input, target)
    if weight is None and pos_weight is None and input.numel() > 0:
        return BCEWithLogits.apply(input, target, reduction)
    if pos_weight is not None:
        pos_weight = _broadcast_weight(op, "pos_weight", pos_weight, input)
    loss = BinaryCrossEntropyWithLogits.apply(input, target, pos_weight)
    if weight is not None:
        loss = loss * _broadcast_weight(op, "weight", weight, input)
    return _reduce(loss, reduction)


# -- classification: class-index targets ----------------------------------------------
def _class_dim(input, op):
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension: (C,), (N, C) or "
                         "(N, C, d1, ...); got a 0-d tensor")
    return 0 if input.ndim == 1 else 1


def _class_weight(op, weight, classes, dtype):
    """The class weights as an array of shape (C,) and input's dtype (or None)."""
    if weight is None:
        return None
    w = _array(_tensor(weight, dtype))
    if w.shape != (classes,):
        raise ValueError(f"{op}: weight must have one entry per class, shape ({classes},); "
                         f"got shape {w.shape}")
    return w


def _class_indices(op, input, target, weight, ignore_index):
    """Checked class-index targets: (t, valid, w_t, w) as arrays: t the targets with the
    ignored ones set to 0, valid where they are not ignored, w_t the weight of each
    target (0 where ignored), w the class weights (C,) or None."""
    cd = _class_dim(input, op)
    classes = input.shape[cd]
    xp = get_array_module(input._data)
    target = xp.asarray(_array(target))
    if target.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold class indices (an integer tensor), got "
                        f"dtype {target.dtype}")
    expected = input.shape[:cd] + input.shape[cd + 1:]
    if target.shape != expected:
        raise ValueError(f"{op}: input of shape {input.shape} and target of shape "
                         f"{target.shape} do not match (expected a target of shape "
                         f"{expected})")
    valid = target != ignore_index
    t = xp.where(valid, target, 0).astype(np.int64, copy=False)
    if t.size:
        low, high = int(t.min()), int(t.max())
        if low < 0 or high >= classes:
            raise IndexError(f"{op}: target class index {low if low < 0 else high} is out of "
                             f"range for {classes} classes (expected in [0, {classes - 1}] "
                             f"or ignore_index={ignore_index})")
    w = _class_weight(op, weight, classes, input.dtype)
    w_t = valid.astype(input.dtype) if w is None else w[t] * valid
    return t, valid, w_t, w


def _check_smoothing(op, label_smoothing):
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")


def _rows(input, target_shape):
    """input (C,), (N, C) or (N, C, d1, ...) as rows of class scores (M, C)."""
    classes = input.shape[0 if input.ndim == 1 else 1]
    if input.ndim == 2:
        return input
    if input.ndim == 1:
        return ops.reshape(input, (1, classes))
    return ops.reshape(ops.movedim(input, 1, -1), (math.prod(target_shape), classes))


def _nll(op, logp, target, weight, ignore_index, reduction, label_smoothing):
    """torch's nll_loss (with cross_entropy's label-smoothing term) of log-probabilities
    `logp` (class dimension 1, or 0 for 1-D), written with ops."""
    cd = _class_dim(logp, op)
    t, valid, w_t, w = _class_indices(op, logp, target, weight, ignore_index)
    xp = get_array_module(logp._data)
    picked = ops.squeeze(ops.gather(logp, cd, xp.expand_dims(t, cd)), cd)
    loss = -picked * _constant(w_t)
    if label_smoothing:
        shape = [1] * logp.ndim
        shape[cd] = logp.shape[cd]
        weighted = logp if w is None else logp * _constant(w.reshape(shape))
        smooth = -weighted.sum(cd) * _constant(valid.astype(logp.dtype))
        loss = (1 - label_smoothing) * loss + (label_smoothing / logp.shape[cd]) * smooth
    if reduction == "mean":
        return loss.sum() / _constant(xp.asarray(w_t.sum()))
    return _reduce(loss, reduction)


def _log_softmax(input, dim):
    return input - ops.logsumexp(input, dim, keepdim=True)


def cross_entropy_composed(input, target, weight=None, ignore_index=-100, reduction="mean",
                           label_smoothing=0.0):
    """The composed reference twin of the fused class-index path of `cross_entropy`:
    log_softmax as input - logsumexp(input), then NLL by gather, all with ops (so it is
    differentiable to any order). Slower; kept for the tests that hold the two equal."""
    op = "cross_entropy"
    reduction = _reduction(op, reduction)
    _check_smoothing(op, label_smoothing)
    input = _floating(input, op)
    logp = _log_softmax(input, _class_dim(input, op))
    return _nll(op, logp, target, weight, ignore_index, reduction, label_smoothing)


def _cross_entropy_probabilities(op, input, target, weight, ignore_index, reduction,
                                 label_smoothing):
    """Cross-entropy against class probabilities (input's shape), as torch: -sum_c w_c
    y_c log p_c per sample ('mean' divides by the number of samples, not the weights)."""
    if ignore_index >= 0:
        raise ValueError(f"{op}: ignore_index={ignore_index} is not supported with "
                         "probability targets (floating point target)")
    target = _tensor(target, input.dtype)
    if target.shape != input.shape:
        raise ValueError(f"{op}: input of shape {input.shape} and probability target of "
                         f"shape {target.shape} differ (expected the same shape; class "
                         "indices need an integer target)")
    cd = _class_dim(input, op)
    classes = input.shape[cd]
    if label_smoothing:
        target = target * (1 - label_smoothing) + label_smoothing / classes
    product = _log_softmax(input, cd) * target
    w = _class_weight(op, weight, classes, input.dtype)
    if w is not None:
        shape = [1] * input.ndim
        shape[cd] = classes
        product = product * _constant(w.reshape(shape))
    if reduction == "none":
        return -product.sum(cd)
    total = -product.sum()
    return total / (input.numel() // classes) if reduction == "mean" else total


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """-log softmax(input)[target] per sample, from unnormalised scores `input` (C,),
    (N, C) or (N, C, d1, ...) and either class indices `target` (int, the input's shape
    without C) or class probabilities (input's shape).

    Class indices: `weight` (C,) weighs each class, targets equal to `ignore_index` count
    for nothing, and 'mean' divides by the summed weight of the counted targets. With
    label_smoothing = eps the loss is (1 - eps) nll + eps / C sum_c -w_c log p_c.
    Fused: forward by log-sum-exp, gradient softmax(input) - y (see CrossEntropy)."""
    op = "cross_entropy"
    reduction = _reduction(op, reduction, size_average, reduce)
    _check_smoothing(op, label_smoothing)
    input = _floating(input, op)
    if _is_floating(target):
        return _cross_entropy_probabilities(op, input, target, weight, ignore_index,
                                            reduction, label_smoothing)
    t, valid, w_t, w = _class_indices(op, input, target, weight, ignore_index)
    classes = input.shape[_class_dim(input, op)]
    targets = _ClassTargets(t.reshape(-1), valid.reshape(-1), w_t.reshape(-1), w,
                            float(label_smoothing), classes, reduction)
    loss = CrossEntropy.apply(_rows(input, t.shape), targets)
    return ops.reshape(loss, t.shape) if reduction == "none" else loss


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """-w[t] input[t] per sample, for log-probabilities `input` (C,), (N, C) or
    (N, C, d1, ...) and class indices `target`; targets equal to `ignore_index` count for
    nothing; 'mean' divides by the summed weight of the counted targets."""
    reduction = _reduction("nll_loss", reduction, size_average, reduce)
    input = _floating(input, "nll_loss")
    return _nll("nll_loss", input, target, weight, ignore_index, reduction, 0.0)


# -- probabilistic ---------------------------------------------------------------------
def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log v + (input - target)^2 / v) (+ 0.5 log(2 pi) if full), v = max(var, eps):
    the negative log-likelihood of target under N(input, var) (heteroscedastic regression:
    one variance per prediction; var may also be one short of input's last dimension, have
    one size-1 dimension, or be a number). The clamp passes var's gradient through
    unchanged, as torch's does."""
    op = "gaussian_nll_loss"
    reduction = _reduction(op, reduction)
    input, target = _pair(op, input, target)
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError(f"{op}: var must be non-negative, got {var}")
        var = ops.full_like(input, float(var))
    else:
        var = _tensor(var, input.dtype)
        if var.numel() and float(var._data.min()) < 0:
            raise ValueError(f"{op}: var has negative entries (min {float(var._data.min())})")
    if var.shape != input.shape:
        if var.shape == input.shape[:-1]:   # one variance per sample: homoscedastic
            var = ops.unsqueeze(var, -1)
        elif not (var.ndim == input.ndim and sum(
                v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError(f"{op}: var of shape {var.shape} does not fit input of shape "
                             f"{input.shape} (expected input's shape, its shape without the "
                             "last dimension, or one dimension of size 1)")
    xp = get_array_module(var._data)
    var = var + _constant(xp.maximum(var._data, eps) - var._data)  # clamp, gradient 1
    loss = 0.5 * (ops.log(var) + ops.square(input - target) / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def _xlogx(y):
    """y log y, 0 where y = 0."""
    zero = y._data == 0
    return ops.where(zero, 0.0, y * ops.log(ops.where(zero, 1.0, y)))


def kl_div(input, target, size_average=None, reduce=None, reduction="mean",
           log_target=False):
    """The KL divergence sum y (log y - x) of log-probabilities x = input from target
    probabilities y (log_target: target holds log y). 'mean' divides by the number of
    elements; 'batchmean' by the batch size (the true KL divergence per sample)."""
    op = "kl_div"
    reduction = _reduction(op, reduction, size_average, reduce,
                           allowed=("none", "batchmean", "sum", "mean"))
    input, target = _pair(op, input, target)
    if log_target:
        loss = ops.exp(target) * (target - input)
    else:
        loss = _xlogx(target) - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce(loss, reduction)


# -- embeddings and ranking ------------------------------------------------------------
def _broadcast_pair(op, a, b, names):
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"{op}: {names[0]} of shape {a.shape} and {names[1]} of shape "
                         f"{b.shape} do not broadcast together") from None


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """1 - cos(x1, x2) where target = 1, max(0, cos(x1, x2) - margin) where target = -1
    (0 elsewhere); inputs (N, D) with target (N,), or (D,) with a 0-d target.
    cos = x1.x2 / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12)), as torch."""
    op = "cosine_embedding_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    input1, input2 = _floating(input1, op, "input1"), _floating(input2, op, "input2")
    target = _array(target)
    xp = get_array_module(input1._data)
    target = xp.asarray(target)
    if target.ndim not in (0, 1) or input1.ndim != target.ndim + 1 \
            or input2.ndim != target.ndim + 1:
        raise ValueError(f"{op}: expected inputs (N, D) with a target (N,), or inputs (D,) "
                         f"with a 0-d target; got input1 {input1.shape}, input2 "
                         f"{input2.shape} and target {target.shape}")
    _broadcast_pair(op, input1, input2, ("input1", "input2"))
    dim = target.ndim
    dot = (input1 * input2).sum(dim)
    norms = ((input1 * input1).sum(dim) + _COSINE_EPS) * ((input2 * input2).sum(dim)
                                                          + _COSINE_EPS)
    cos = dot / ops.sqrt(norms)
    loss = ops.where(target == 1, 1 - cos, 0.0) + ops.where(
        target == -1, ops.clamp(cos - margin, min=0), 0.0)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    """max(0, -target (input1 - input2) + margin): target 1 asks input1 to rank above
    input2 by at least margin, -1 below. All three have the same number of dimensions."""
    op = "margin_ranking_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    input1 = _floating(input1, op, "input1")
    input2, target = _tensor(input2, input1.dtype), _tensor(target, input1.dtype)
    if not input1.ndim == input2.ndim == target.ndim:
        raise ValueError(f"{op}: input1 {input1.shape}, input2 {input2.shape} and target "
                         f"{target.shape} must have the same number of dimensions")
    _broadcast_pair(op, input1, input2, ("input1", "input2"))
    loss = ops.clamp(-target * (input1 - input2) + margin, min=0)
    return _reduce(loss, reduction)
