"""Margin, embedding and count losses with PyTorch's names, arguments and defaults:
`triplet_margin_loss`, `triplet_margin_with_distance_loss`, `hinge_embedding_loss`,
`poisson_nll_loss`, `soft_margin_loss`, `multilabel_soft_margin_loss`,
`multi_margin_loss`, `multilabel_margin_loss`. `reduction` is 'none', 'mean' or 'sum'; the
deprecated `size_average` / `reduce` pair overrides it, as in torch (see loss.py).

Each is a composition of ops. At a hinge's corner the gradient is torch's: clamp_min(z, 0)
passes it at z = 0 (triplet, hinge embedding), the multi-class margins do not (z > 0).
"""
import math

import numpy as np

from ... import backend, ops
from ...autograd.tensor import Tensor
from .activation import logsigmoid
from .distance import pairwise_distance
from .loss import _floating, _reduce, _reduction, _tensor


def _clamp_min0(z):
    """max(z, 0) with gradient 1 at z = 0 (torch's clamp_min)."""
    return ops.where(z >= 0, z, 0.0)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0), d the p-norm pairwise_distance; swap=True uses
    min(d(a, n), d(p, n)) for the negative distance. Inputs (N, D) or (D,)."""
    op = "triplet_margin_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    _check_triplet(op, anchor, positive, negative)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = ops.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce(_clamp_min0(d_pos - d_neg + margin), reduction)


def _check_triplet(op, anchor, positive, negative):
    dims = (anchor.ndim, positive.ndim, negative.ndim)
    if len(set(dims)) != 1:
        raise RuntimeError(f"{op}: The anchor, positive, and negative tensors are expected to "
                           f"have the same number of dimensions, but got: anchor {dims[0]}D, "
                           f"positive {dims[1]}D, and negative {dims[2]}D inputs")


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """triplet_margin_loss with any `distance_function(x1, x2)` (default pairwise_distance);
    margin must be positive."""
    op = "triplet_margin_with_distance_loss"
    reduction = _reduction(op, reduction)
    if margin <= 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")
    _check_triplet(op, anchor, positive, negative)
    distance = pairwise_distance if distance_function is None else distance_function
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        d_neg = ops.minimum(d_neg, distance(positive, negative))
    return _reduce(_clamp_min0(d_pos - d_neg + margin), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """x where target = 1, max(0, margin - x) where target = -1 (both terms where target
    is neither, as torch)."""
    op = "hinge_embedding_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    input = _floating(input, op)
    target = _tensor(target)
    zero = ops.zeros_like(input)
    loss = ops.where(target != 1, _clamp_min0(margin - input), zero) + \
        ops.where(target != -1, input, zero)
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """Negative log-likelihood of target ~ Poisson(rate): e^x - target x for log_input
    (x = log rate), else x - target log(x + eps); full=True adds Stirling's approximation
    of log(target!), target log target - target + log(2 pi target) / 2, where target > 1."""
    op = "poisson_nll_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    input = _floating(input, op)
    target = _tensor(target, input.dtype)
    if log_input:
        loss = ops.exp(input) - target * input
    else:
        loss = input - target * ops.log(input + eps)
    if full:
        counted = target > 1
        t = ops.where(counted, target, 1.0)  # log(t) stays finite where the term is unused
        stirling = t * ops.log(t) - t + 0.5 * ops.log(2 * math.pi * t)
        loss = loss + ops.where(counted, stirling, 0.0)
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + e^(-target x)) per element, target in {1, -1}."""
    op = "soft_margin_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    input = _floating(input, op)
    return _reduce(ops.log1p(ops.exp(-input * _tensor(target, input.dtype))), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """-(y log sigmoid(x) + (1 - y) log sigmoid(-x)), times `weight` (per class), averaged
    over the classes (the last dim): (N, C) -> (N,) before the reduction."""
    op = "multilabel_soft_margin_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    input = _floating(input, op)
    target = _tensor(target, input.dtype)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * _tensor(weight, input.dtype)
    classes = input.shape[-1] if input.ndim else 1
    loss = loss.sum(input.ndim - 1) / classes if input.ndim else loss
    return _reduce(loss, reduction)


def _class_rows(op, input, target):
    """input as (N, C) and target as (N,) int64 array; checks the shapes and the range."""
    if input.ndim not in (1, 2) or target.ndim != input.ndim - 1 \
            or (input.ndim == 2 and target.shape[0] != input.shape[0]):
        raise ValueError(f"{op}: expected input (N, C) with target (N,), or input (C,) with a "
                         f"0-d target; got input {tuple(input.shape)} and target "
                         f"{tuple(target.shape)}")
    rows = input if input.ndim == 2 else ops.reshape(input, (1, -1))
    return rows, target.reshape(-1)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """sum_{i != y} max(0, margin - x[y] + x[i])^p / C per sample (times weight[y]), the
    multi-class hinge; p is 1 or 2. Input (N, C) with target (N,) or (C,) with a 0-d one."""
    op = "multi_margin_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    if p not in (1, 2):
        raise ValueError(f"{op}: only p == 1 and p == 2 supported, got p={p}")
    input = _floating(input, op)
    xp = backend.get_array_module(input._data)
    target_data = xp.asarray(target._data if isinstance(target, Tensor) else target)
    rows, y = _class_rows(op, input, target_data)
    classes = rows.shape[1]
    if y.size and (int(y.min()) < 0 or int(y.max()) >= classes):
        raise IndexError(f"{op}: target out of range: values must be in [0, {classes}), got "
                         f"min {int(y.min())} and max {int(y.max())}")
    picked = ops.gather(rows, 1, Tensor(y.astype(np.int64)[:, None]))      # x[y], (N, 1)
    z = rows - picked + margin
    others = Tensor(xp.arange(classes)[None, :] != y[:, None])          # i != y, (N, C)
    hinge = ops.where(others & (z > 0), z, 0.0)
    hinge = hinge * hinge if p == 2 else hinge
    if weight is not None:
        hinge = hinge * ops.index_select(_tensor(weight, input.dtype), 0,
                                         Tensor(y.astype(np.int64)))[:, None]
    loss = hinge.sum(1) / classes
    return _reduce(loss if input.ndim == 2 else ops.reshape(loss, ()), reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """sum over target classes j and non-target classes i of max(0, 1 - (x[j] - x[i])),
    divided by C. `target` (int64, input's shape) lists each sample's target classes,
    ended by the first -1."""
    op = "multilabel_margin_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    input = _floating(input, op)
    xp = backend.get_array_module(input._data)
    target_data = xp.asarray(target._data if isinstance(target, Tensor) else target)
    if input.ndim not in (1, 2) or tuple(target_data.shape) != tuple(input.shape):
        raise ValueError(f"{op}: expected input (N, C) or (C,) and a target of the same "
                         f"shape; got input {tuple(input.shape)} and target "
                         f"{tuple(target_data.shape)}")
    rows = input if input.ndim == 2 else ops.reshape(input, (1, -1))
    t = target_data.reshape(rows.shape).astype(np.int64)
    classes = rows.shape[1]
    if t.size and int(t.max()) >= classes or (t < -1).any():
        raise IndexError(f"{op}: target values must be in [-1, {classes}), got "
                         f"{t.min()} ... {t.max()}")
    valid = xp.cumprod(t >= 0, axis=1).astype(bool)                      # before the first -1
    is_target = xp.zeros(rows.shape, dtype=bool)
    n_index, c_index = xp.nonzero(valid)
    is_target[n_index, t[n_index, c_index]] = True
    picked = ops.gather(rows, 1, Tensor(xp.where(valid, t, 0)))           # x[y_j], (N, C)
    z = 1 - ops.unsqueeze(picked, 2) + ops.unsqueeze(rows, 1)             # (N, j, i)
    pairs = Tensor(valid[:, :, None] & ~is_target[:, None, :])
    loss = ops.where(pairs & (z > 0), z, 0.0).sum((1, 2)) / classes
    return _reduce(loss if input.ndim == 2 else ops.reshape(loss, ()), reduction)
