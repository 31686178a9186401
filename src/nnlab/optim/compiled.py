"""Update rules compiled by numba into one pass over memory: the fast path of `functional`.

`functional.adam` is 13 numpy passes over the parameter (each operation of torch's order
is one pass); `adam_pass` is the same operations in the same order, element by element,
so its float32 and float64 results are bitwise the numpy rule's (its composed twin, held
equal by tests/optim/test_compiled_rules.py). Every scalar is cast to the array's dtype
first, as numpy does with a Python float beside a float32 array.

numba is imported on the first call, not with nnlab; without it (or for arrays it does not
take: cupy, non-contiguous, mixed dtypes) `usable` is False and the numpy rule runs.
"""
import functools

import numpy as np

DTYPES = (np.float32, np.float64)


@functools.cache
def _kernels():
    """{name: compiled function}, or None when numba cannot be imported."""
    try:
        import numba
    except ImportError:
        return None

    @numba.njit(nogil=True, cache=True, error_model="numpy")
    def adam_pass(param, grad, m, v, one_minus_beta1, beta2, one_minus_beta2, step_size,
                  bias2_sqrt, eps):
        for i in range(param.size):
            g = grad[i]
            m[i] = m[i] + (g - m[i]) * one_minus_beta1              # lerp_(m, g, 1 - beta1)
            v[i] = v[i] * beta2 + g * one_minus_beta2 * g           # ema_square_(v, g, beta2)
            denom = np.sqrt(v[i]) / bias2_sqrt + eps
            param[i] = param[i] - m[i] * step_size / denom

    return {"adam_pass": adam_pass}


def usable(*arrays):
    """Whether the compiled rules take these arrays: numpy, C-contiguous, one float dtype,
    and numba present."""
    first = arrays[0]
    return (all(type(a) is np.ndarray and a.flags.c_contiguous and a.dtype == first.dtype
                for a in arrays) and first.dtype in DTYPES and _kernels() is not None)


def adam(param, grad, m, v, *, t, lr, beta1, beta2, eps):
    """functional.adam's step (no amsgrad, g already decayed) in one compiled pass over
    flat views of the arrays."""
    cast = param.dtype.type
    _kernels()["adam_pass"](
        param.reshape(-1), grad.reshape(-1), m.reshape(-1), v.reshape(-1), cast(1 - beta1),
        cast(beta2), cast(1 - beta2), cast(lr / (1 - beta1 ** t)),
        cast((1 - beta2 ** t) ** 0.5), cast(eps))
