"""Special functions: `erfinv`, the inverse of the error function.

scipy.special.erfinv (imported when first used) gives the values; the derivative follows
from that of erf: erf'(y) = 2 / sqrt(pi) e^(-y^2), so erfinv'(x) = sqrt(pi) / 2 e^(y^2)
with y = erfinv(x), written in Tensor ops on the saved output (differentiable again).
"""
import math

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_default_dtype, special_functions
from . import elementwise

_HALF_SQRT_PI = math.sqrt(math.pi) / 2


class Erfinv(Function):
    @staticmethod
    def forward(ctx, x):
        y = special_functions(x).erfinv(x).astype(x.dtype, copy=False)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        y, = ctx.saved_tensors
        return gy * _HALF_SQRT_PI * elementwise.exp(y * y)  # dL/dx = gy sqrt(pi)/2 e^(y^2)


def erfinv(input):
    """y with erf(y) = x, for x in [-1, 1] (+-inf at +-1, nan outside)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"erfinv: expected a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        input = input.to(get_default_dtype())
    return Erfinv.apply(input)
