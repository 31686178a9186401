"""The log-gamma function and its derivatives: `lgamma`, `digamma`, `polygamma`.

scipy.special (imported when first used) gives the values; each derivative is the next
function of the family, psi^(n)'(x) = psi^(n+1)(x) with psi^(0) = digamma = lgamma',
written as a Tensor op so every one is differentiable to any order.
"""
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_default_dtype, special_functions


class Lgamma(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return special_functions(x).gammaln(x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        x, = ctx.saved_tensors
        return gy * digamma(x)  # d/dx log|Gamma(x)| = psi(x)


class Polygamma(Function):
    @staticmethod
    def forward(ctx, n, x):
        ctx.n = n
        ctx.save_for_backward(x)
        return special_functions(x).polygamma(n, x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        x, = ctx.saved_tensors
        return None, gy * polygamma(ctx.n + 1, x)  # d/dx psi^(n)(x) = psi^(n+1)(x)


def _float_input(input, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(input).__name__}")
    return input if input.dtype.kind == "f" else input.to(get_default_dtype())


def lgamma(input):
    """log|Gamma(x)|, elementwise (+inf at 0 and the negative integers)."""
    return Lgamma.apply(_float_input(input, "lgamma"))


def digamma(input):
    """psi(x) = d/dx log Gamma(x), elementwise (nan at the poles, as scipy.special.psi)."""
    return Polygamma.apply(0, _float_input(input, "digamma"))


def polygamma(n, input):
    """psi^(n)(x) = d^(n+1)/dx^(n+1) log Gamma(x), for an integer n >= 0, elementwise."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"polygamma: n must be a non-negative integer, got {n!r}")
    return Polygamma.apply(n, _float_input(input, "polygamma"))
