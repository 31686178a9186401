"""The fused cross-entropy over rows of class scores z (M, C) with class-index targets:
the loss by log-sum-exp, its gradient (softmax(z) - y) * scale in array code through the
grad node `CrossEntropyGrad`, whose own backward is Tensor ops (so it is differentiable
twice). Both declare composed twins (autograd/fused.py)."""
import numpy as np

from ... import ops
from ...autograd.fused import FusedFunction
from ...autograd.tensor import Tensor
from ...backend import get_array_module
from ...parallel import ufunc


def _constant(array):
    return Tensor._make(array)


class _ClassTargets:
    """The constants of a cross-entropy over rows (M, C) with class-index targets:
    per row, the loss is (1 - eps) nll + eps / C smooth, where nll = -w_t log p[t] and
    smooth = -sum_c w_c log p[c] (0 on ignored rows), so its gradient with respect to
    the logits is a p - b with a = (1 - eps) w_t + eps / C sum(w) and
    b = (1 - eps) w_t onehot(t) + eps / C w (both 0 on ignored rows)."""

    def __init__(self, t, valid, w_t, weight, eps, classes, reduction):
        self.t, self.w_t, self.weight = t, w_t, weight
        self.valid = valid.astype(w_t.dtype)
        self.eps, self.classes, self.reduction = eps, classes, reduction
        self.den = w_t.sum() if reduction == "mean" else None
        total = classes if weight is None else weight.sum()
        self.a = (1 - eps) * w_t + (eps / classes * total) * self.valid

    def loss(self, logp):
        """Each row's loss (M,) from the log-probabilities (M, C)."""
        xp = get_array_module(logp)
        loss = -self.w_t * logp[xp.arange(logp.shape[0]), self.t]
        if self.eps:
            smooth = -(logp.sum(axis=1) if self.weight is None else logp @ self.weight)
            loss = (1 - self.eps) * loss + (self.eps / self.classes) * (smooth * self.valid)
        return loss

    def grad(self, p, gy):
        """scale(gy) (a p - b) (M, C): the gradient of the reduced loss with respect to the
        logits, from the softmax p, in one pass over (M, C) (two with label smoothing)."""
        xp = get_array_module(p)
        s = self.scale(gy).reshape(-1)  # (M,) per row ('none') or (1,)
        g = ufunc(xp.multiply, p, (self.a * s)[:, None])
        g[xp.arange(p.shape[0]), self.t] -= (1 - self.eps) * self.w_t * s
        if self.eps:
            w = 1 if self.weight is None else self.weight
            g -= (self.eps / self.classes) * (self.valid * s)[:, None] * w
        return g

    def dense_b(self, like):
        """b (M, C) as an array (for the second derivative)."""
        xp = get_array_module(like)
        b = xp.zeros(like.shape, like.dtype)
        b[xp.arange(like.shape[0]), self.t] = (1 - self.eps) * self.w_t
        if self.eps:
            w = 1 if self.weight is None else self.weight
            b += (self.eps / self.classes) * self.valid[:, None] * w
        return b

    def reduce(self, loss):
        if self.reduction == "none":
            return loss
        total = loss.sum()
        if self.reduction == "sum":
            return total
        with np.errstate(invalid="ignore", divide="ignore"):  # all ignored: nan, as torch
            return total / self.den

    def scale(self, gy):
        """The upstream gradient of the reduced loss as a per-row factor (M, 1) or scalar
        (arrays or Tensors alike)."""
        if self.reduction == "none":
            return gy.reshape((gy.shape[0], 1))
        if self.reduction == "mean":
            with np.errstate(invalid="ignore", divide="ignore"):
                return gy / self.den
        return gy


def _cross_entropy_rows_composed(z, targets):
    """CrossEntropy's twin: the reduced sum over rows of -sum_c b_c log softmax(z)_c (b as
    in `_ClassTargets`: the weighted, smoothed one-hot), composed of ops."""
    logp = z - ops.logsumexp(z, 1, keepdim=True)
    return targets.reduce(-(logp * _constant(targets.dense_b(z._data))).sum(1))


def _cross_entropy_grad_composed(gy, z, p, targets):
    """CrossEntropyGrad's twin: scale(gy) (a softmax(z) - b), composed of ops (p unused)."""
    a = _constant(targets.a.reshape(-1, 1))
    p = ops.exp(z - ops.logsumexp(z, 1, keepdim=True))
    return targets.scale(gy) * (a * p - _constant(targets.dense_b(z._data)))


class CrossEntropy(FusedFunction):
    """log-softmax + NLL fused over the rows of z (M, C) for class-index targets: the loss
    by log-sum-exp, its gradient (softmax(z) - y) * scale in array code (CrossEntropyGrad)."""

    twin = staticmethod(_cross_entropy_rows_composed)

    @staticmethod
    def forward(ctx, z, targets):
        xp = get_array_module(z)
        shifted = ufunc(xp.subtract, z, z.max(axis=1, keepdims=True))
        e = ufunc(xp.exp, shifted)
        total = e.sum(axis=1, keepdims=True)
        logp = ufunc(xp.subtract, shifted, xp.log(total), out=shifted)
        loss = targets.reduce(targets.loss(logp))
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(z, ufunc(xp.divide, e, total, out=e), targets)  # softmax(z)
        return loss

    @staticmethod
    def backward(ctx, gy):
        z, p, targets = ctx.saved_tensors
        return CrossEntropyGrad.apply(gy, z, p._data, targets), None


class CrossEntropyGrad(FusedFunction):
    """gz = scale(gy) (a softmax(z) - b), the backward of CrossEntropy in one buffer."""

    twin = staticmethod(_cross_entropy_grad_composed)

    @staticmethod
    def forward(ctx, gy, z, p, targets):
        ctx.save_for_backward(gy, z, targets)
        return targets.grad(p, gy)

    @staticmethod
    def backward(ctx, ggz):
        gy, z, targets = ctx.saved_tensors
        need_gy, need_z = ctx.needs_input_grad[:2]
        p = ops.exp(z - ops.logsumexp(z, 1, keepdim=True))
        a = _constant(targets.a.reshape(-1, 1))
        ggy = gz = None
        # dL/dgy = sum(ggz (a p - b)) per row ('none') or over all, over den ('mean');
        # dL/dz = scale a p (ggz - <ggz, p>) per row (the softmax Jacobian)
        if need_gy:
            inner = ggz * (p * a - _constant(targets.dense_b(z._data)))
            ggy = inner.sum(1) if targets.reduction == "none" else targets.scale(inner.sum())
        if need_z:
            gz = targets.scale(gy) * a * p * (ggz - (ggz * p).sum(1, keepdim=True))
        return ggy, gz, None, None
