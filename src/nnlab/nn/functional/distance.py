"""Normalisation to unit norm and distances between vectors, with PyTorch's names,
arguments and defaults: `normalize`, `cosine_similarity`, `pairwise_distance`.

    normalize(x)            = x / max(||x||_p, eps)                      along dim
    cosine_similarity(a, b) = sum (a / max(||a||, eps)) (b / max(||b||, eps))   along dim
    pairwise_distance(a, b) = ||a - b + eps||_p                          along the last dim

torch clamps the norms in cosine_similarity outside autograd, so its gradient is that of
a / ||a|| even where the norm was raised to eps; `_clamped_norm` does the same.
"""
import numpy as np

from ...autograd.tensor import Tensor
from ...ops import broadcast_to, norm
from ...ops.elementwise import clamp, where


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p, eps) over `dim`; shape unchanged."""
    if out is not None:
        raise NotImplementedError("normalize: out= is not supported (assign the result)")
    _check_dim("normalize", dim, input.ndim)
    denom = norm(input, p, dim, keepdim=True)
    denom = where(denom >= eps, denom, eps)  # clamp_min: gradient 1 where the norm >= eps
    return input / denom


def _check_dim(op, dim, ndim):
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor of {ndim} dimensions")


def _clamped_norm(x, dim, eps):
    """||x|| over dim (kept), raised to eps in value only: the gradient is ||x||'s."""
    n = norm(x, 2, dim, keepdim=True)
    return n + (clamp(n.detach(), min=eps) - n.detach())


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """<x1, x2> / (||x1|| ||x2||) over `dim`, each norm at least eps; x1 and x2 broadcast,
    and the result has their broadcast shape without `dim`."""
    x1, x2 = _broadcast("cosine_similarity", x1, x2)
    _check_dim("cosine_similarity", dim, x1.ndim)
    return ((x1 / _clamped_norm(x1, dim, eps)) * (x2 / _clamped_norm(x2, dim, eps))).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dimension of the broadcast shape: (N, D), (N, D)
    -> (N,) ((N, 1) with keepdim)."""
    if not isinstance(x1, Tensor) or not isinstance(x2, Tensor):
        raise TypeError("pairwise_distance: x1 and x2 must be Tensors")
    last = max(x1.ndim, x2.ndim) - 1
    if last < 0:
        raise ValueError("pairwise_distance: expected inputs of at least 1 dimension, got "
                         "two 0-d tensors")
    return norm(x1 - x2 + eps, p, last, keepdim)


def _broadcast(op, x1, x2):
    try:
        shape = np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    except ValueError as e:
        raise ValueError(f"{op}: x1 of shape {tuple(x1.shape)} and x2 of shape "
                         f"{tuple(x2.shape)} do not broadcast") from e
    return (x1 if tuple(x1.shape) == shape else broadcast_to(x1, shape),
            x2 if tuple(x2.shape) == shape else broadcast_to(x2, shape))
