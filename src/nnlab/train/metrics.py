"""Metrics: per-batch counts summed over an epoch.

A metric is a function `metric(output, target) -> (total, count)` on one batch, computed
without autograd; the epoch's value is sum(total) / sum(count). Summing counts, rather
than averaging batch means, gives the exact figure when the last batch is smaller.

    accuracy        top-1 class predictions (the 'auto' metric of classification)
    token_accuracy  argmax tokens of a sequence model, PAD targets left out
    bits_per_char   the cross-entropy in bits, per row of a language model's logits
"""
import math

import numpy as np

from ..autograd.tensor import Tensor
from ..backend import get_array_module
from ..data.datasets.sequences import PAD


def _array(x):
    return x._data if isinstance(x, Tensor) else x


def accuracy(output, target):
    """Correct top-1 predictions over a batch: argmax of `output` (N, C) or (N, C, ...)
    along dim 1 against class indices `target` (N,) or (N, ...). Returns (correct, N)."""
    out, tgt = _array(output), _array(target)
    xp = get_array_module(out)
    pred = out.argmax(axis=1)
    if pred.shape != tgt.shape:
        raise ValueError(f"accuracy: predictions of shape {pred.shape} (argmax over dim 1 of "
                         f"output {out.shape}) do not match targets of shape {tgt.shape}")
    return float(xp.count_nonzero(pred == tgt)), int(tgt.size)


def token_accuracy(output, target):
    """Correct argmax tokens over the targets that are not PAD (teacher forced): output
    (B, T, V) logits, target (B, T) ids. Returns (correct, non-PAD targets)."""
    out, tgt = _array(output), _array(target)
    hit, real = out.argmax(axis=-1) == tgt, tgt != PAD
    return float((hit & real).sum()), int(real.sum())


def bits_per_char(output, target):
    """The cross-entropy in bits, -log2 softmax(output)[target], summed over the rows of
    output (N, V) against ids target (N,), in float64: (total, N)."""
    xp = get_array_module(output._data)
    z = output._data.astype(np.float64)
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - xp.log(xp.exp(z).sum(axis=1, keepdims=True))               # log softmax
    picked = xp.take_along_axis(log_p, target._data.reshape(-1, 1).astype(np.int64), axis=1)
    return float(-picked.sum()) / math.log(2), int(target.shape[0])


METRICS = {"accuracy": accuracy}


def is_classification(output, target):
    """True when `target` holds class indices for `output`'s dim 1: integer targets with
    one value per output row (the case `accuracy` measures)."""
    out, tgt = _array(output), _array(target)
    return (np.dtype(tgt.dtype).kind in "iu" and out.ndim >= 2 and out.shape[1] > 1
            and tuple(tgt.shape) == tuple(out.shape[:1]) + tuple(out.shape[2:]))


def resolve(metrics, output=None, target=None):
    """A dict name -> metric function from names, callables, such a dict, or 'auto'
    (accuracy when the first batch's targets are class indices)."""
    if metrics is None:
        return {}
    if isinstance(metrics, dict):
        return dict(metrics)
    if metrics == "auto":
        if output is not None and is_classification(output, target):
            return {"accuracy": accuracy}
        return {}
    if isinstance(metrics, str):
        metrics = (metrics,)
    resolved = {}
    for m in metrics:
        if callable(m):
            resolved[getattr(m, "__name__", type(m).__name__)] = m
        elif m in METRICS:
            resolved[m] = METRICS[m]
        else:
            raise ValueError(f"unknown metric {m!r}: expected a callable or one of "
                             f"{sorted(METRICS)}")
    return resolved


class Mean:
    """A running weighted mean: `update(total, count)`, `value` (None before any update)."""

    def __init__(self):
        self.total, self.count = 0.0, 0

    def update(self, total, count):
        self.total += total
        self.count += count

    @property
    def value(self):
        return self.total / self.count if self.count else None
