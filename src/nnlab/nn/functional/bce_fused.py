"""The fused binary cross-entropy with logits (no weights): the elementwise loss
l = (1 - y) x - log sigmoid(x), reduced ('none', 'mean' or 'sum') in the same kernel, with
the gradient's residual sigmoid(x) - y made in the forward pass, so backward is one product.

-log sigmoid(x) = log1p(u) - min(x, 0) with u = exp(-|x|) in (0, 1], and l is summed as
((1 - y) x - min(x, 0)) + log1p(u), so a tiny loss (y = 0 and x << 0, or y = 1 and
x >> 0) keeps its relative accuracy (torch's (1 - y) x - log sigmoid(x) rounds it to 0
for y = 0). numpy's float32 log1p is a scalar loop (about 6x its log), so log1p(u) is made
from log: with w = fl(1 + u), the rounding error e = u - (w - 1) is exact, and
log1p(u) = log(w + e) = log(w) + e / w + O((e / w)^2), |e / w| <= 2^-24; within 4 ulps
(3.5 at most on a dense sweep of (0, 1], numpy's log1p 0.8), exactly u when u < 2^-24.
The composed twin (autograd/fused.py) is loss.py's `BinaryCrossEntropyWithLogits`
composition, reduced.
"""
import numpy as np

from ...autograd.fused import FusedKernel
from ...backend import get_array_module
from ...parallel import ufunc


def _binary_cross_entropy_with_logits_reduced_composed(x, y, reduction):
    """BCEWithLogits's twin: ((1 - y) x + softplus(-x)), reduced, composed of ops."""
    from .loss import _binary_cross_entropy_with_logits_composed, _reduce  # loss imports us
    return _reduce(_binary_cross_entropy_with_logits_composed(x, y, None), reduction)


def _log1p_unit(u, w, xp):
    """log1p(u) for u in [0, 1] (float arrays) from log, given w = fl(1 + u):
    log(w) + (u - (w - 1)) / w (see the module docstring). Overwrites `w` with it."""
    e = w - 1
    xp.subtract(u, e, out=e)         # e = (1 + u) - w exactly
    xp.divide(e, w, out=e)
    w = ufunc(xp.log, w, out=w)
    w += e
    return w


def _loss_and_residual(x, y, need_residual, xp):
    """The elementwise loss (1 - y) x - log sigmoid(x) and, if `need_residual`, the
    gradient's residual sigmoid(x) - y (else None), for arrays x, y of one shape (ndim >= 1:
    numpy turns 0-d results into scalars, which `out=` cannot take)."""
    u = xp.abs(x)
    xp.negative(u, out=u)
    u = ufunc(xp.exp, u, out=u)                   # u = exp(-|x|) in (0, 1]
    w = u + 1
    residual = None
    if need_residual:                             # sigmoid(x) - y = max(u, [x >= 0]) / w - y
        residual = xp.greater_equal(x, 0, out=xp.empty_like(u), casting="unsafe")
        xp.maximum(u, residual, out=residual)     # branch-free: where() is ~10x slower
        residual /= w
        residual -= y
    log1p_u = _log1p_unit(u, w, xp)
    loss = xp.subtract(1, y, out=u)               # (1 - y) x - min(x, 0) + log1p(u):
    loss *= x                                     # -log sigmoid(x) = log1p(u) - min(x, 0),
    loss -= xp.minimum(x, 0)                      # added last so that a tiny loss (y = 0,
    loss += log1p_u                               # x << 0) is not lost in x - x
    return loss, residual


class BCEWithLogits(FusedKernel):
    """l = (1 - y) x - log sigmoid(x) elementwise for logits x and targets y of one shape,
    reduced by `reduction` ('none', 'mean' or 'sum'); dl/dx = sigmoid(x) - y and
    dl/dy = -x, times the upstream gradient (over numel for 'mean')."""

    twin = staticmethod(_binary_cross_entropy_with_logits_reduced_composed)

    @staticmethod
    def forward(ctx, x, y, reduction):
        xp = get_array_module(x)
        need_x, need_y = ctx.needs_input_grad[:2]
        shape = x.shape
        with np.errstate(all="ignore"):   # IEEE results for infinite logits, as torch's
            loss, residual = _loss_and_residual(x.reshape(shape or (1,)),
                                                y.reshape(shape or (1,)), need_x, xp)
        ctx.save_for_backward(None if residual is None else residual.reshape(shape),
                              x if need_y else None)
        ctx.numel = x.size if reduction == "mean" else None
        if reduction == "none":
            return loss.reshape(shape)
        return loss.sum() if ctx.numel is None else loss.sum() / ctx.numel

    @staticmethod
    def backward(ctx, gy):
        residual, x = ctx.saved_arrays
        need_x, need_y = ctx.needs_input_grad[:2]
        if ctx.numel is not None:
            gy = gy / ctx.numel
        # dl/dx = gy (sigmoid(x) - y);  dl/dy = -gy x
        gx = residual * gy if need_x else None
        gt = -(x * gy) if need_y else None
        return gx, gt, None
