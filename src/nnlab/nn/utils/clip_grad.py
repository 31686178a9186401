"""Gradient clipping, in place on the `.grad`s of parameters (torch.nn.utils' semantics)."""
import numpy as np

from ... import backend
from ...autograd.tensor import Tensor


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _vector_norm(xp, x, norm_type):
    """||x||_p of the flattened array: (sum |x|^p)^(1/p); max |x| for p = inf; min |x| for
    -inf; the number of non-zeros for p = 0 (as torch.linalg.vector_norm)."""
    return xp.linalg.norm(x.ravel(), ord=norm_type)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scale all gradients by min(1, max_norm / (total + 1e-6)), where total is the
    `norm_type` norm of all gradients together (the norm of the per-gradient norms).
    Returns total as a 0-d Tensor. `foreach` is accepted for torch compatibility.

    With `error_if_nonfinite`, a nan or inf total raises instead of scaling."""
    grads = _grads(parameters)
    norm_type = float(norm_type)
    if not grads:
        return Tensor(np.zeros((), backend.get_default_dtype()))
    xp = backend.get_array_module(grads[0]._data)
    with np.errstate(invalid="ignore", over="ignore"):   # non-finite norms as torch's
        norms = [_vector_norm(xp, g._data, norm_type) for g in grads]
        total = xp.asarray(_vector_norm(xp, xp.stack(norms), norm_type))
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                           f"gradients is {float(total)} (non-finite), so it cannot be "
                           "clipped; pass error_if_nonfinite=False to scale the gradients "
                           "by it anyway")
    coef = xp.minimum(float(max_norm) / (total + 1e-6), 1.0)
    if not bool(coef == 1):   # nan too, as torch: the gradients become nan
        with np.errstate(invalid="ignore"):
            for g in grads:
                g._data *= coef.astype(g.dtype)
                g._version_counter[0] += 1
    return Tensor._make(total)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        xp = backend.get_array_module(g._data)
        xp.clip(g._data, -clip_value, clip_value, out=g._data)
        g._version_counter[0] += 1
