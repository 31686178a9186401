"""Weight penalties: differentiable scalars to add to a loss.

    l1_penalty = weight * sum_p sum_i |p_i|      (gradient weight * sign(p))
    l2_penalty = weight * sum_p sum_i p_i^2      (gradient 2 weight p)

Over every parameter given, biases included, by default; `weights_only=True` keeps only
parameters with dim >= 2 (weight matrices and convolution kernels), leaving out biases
and normalisation scales. Note the l2 penalty has no 1/2: adding `l2_penalty(m, lam / 2)`
to the loss gives the same SGD step as `SGD(..., weight_decay=lam)`.
"""
import numpy as np

from ... import backend
from ...autograd.tensor import Tensor


def _parameters(module_or_params, weights_only):
    if isinstance(module_or_params, Tensor):
        params = [module_or_params]
    elif hasattr(module_or_params, "parameters") and callable(module_or_params.parameters):
        params = list(module_or_params.parameters())
    else:
        params = list(module_or_params)
    return [p for p in params if p.ndim >= 2] if weights_only else params


def _total(terms, weight):
    if not terms:
        return Tensor(np.zeros((), backend.get_default_dtype()))
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total if weight == 1 else total * weight


def l1_penalty(module_or_params, weight=1.0, *, weights_only=False):
    """weight * sum |w| over the parameters of a Module (or an iterable of Tensors)."""
    return _total([p.abs().sum() for p in _parameters(module_or_params, weights_only)],
                  weight)


def l2_penalty(module_or_params, weight=1.0, *, weights_only=False):
    """weight * sum w^2 over the parameters of a Module (or an iterable of Tensors)."""
    return _total([(p * p).sum() for p in _parameters(module_or_params, weights_only)],
                  weight)
