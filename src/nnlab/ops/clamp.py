"""`clamp` (and its alias `clip`) with tensor bounds, which broadcast against the input.

Bounds that are numbers go to `elementwise.Clamp`. Tensor bounds make one primitive,
`ClampTensor`, with torch's gradient: the input gets it where it lies between the bounds
(inclusive), a bound gets it where the output took that bound's value.
"""
import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_array_module
from . import elementwise
from .broadcast import sum_to


class ClampTensor(Function):
    """y = min(max(x, low), high), low or high None where absent; all three broadcast."""

    @staticmethod
    def forward(ctx, x, low, high):
        xp = get_array_module(x)
        ctx.shapes = tuple(None if t is None else t.shape for t in (x, low, high))
        y = x if low is None else xp.maximum(x, low)
        y = y if high is None else xp.minimum(y, high)
        if low is not None and high is not None:
            # torch's masks; where low > high every output is high, so only high gets it
            masks = ((x >= low) & (x <= high), (x < low) & (low < high), (x > high) | (high < low))
        elif low is not None:
            masks = (x >= low, x < low, None)
        else:
            masks = (x <= high, None, x > high)
        ctx.save_for_backward(*(None if m is None else xp.broadcast_to(m, y.shape)
                                for m in masks))
        return y

    @staticmethod
    def backward(ctx, gy):
        # dL/dx = gy where low <= x <= high, dL/dlow = gy where x < low (< high),
        # dL/dhigh = gy where x > high (or high < low); 0 elsewhere
        return tuple(sum_to(gy * mask, shape) if need else None
                     for mask, shape, need in zip(ctx.saved_tensors, ctx.shapes,
                                                  ctx.needs_input_grad))


def clamp(input, min=None, max=None):
    """Elementwise min(max(input, min), max); `min` and `max` are numbers or tensors that
    broadcast with input (the result dtype is promoted across the tensors, as torch)."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if not isinstance(min, Tensor) and not isinstance(max, Tensor):
        return elementwise.clamp(input, min, max)
    if not isinstance(input, Tensor):
        raise TypeError(f"clamp: expected input to be a Tensor, got {type(input).__name__}")
    bounds = [b if b is None or isinstance(b, Tensor) else Tensor(b)
              for b in (min, max)]
    dtypes = [t.dtype for t in [input] + bounds if t is not None]
    floats = [d for d in dtypes if d.kind == "f"]   # an integer never widens a float
    dtype = np.result_type(*(floats or dtypes))
    if any(isinstance(b, float) for b in (min, max)) and dtype.kind != "f":
        dtype = np.result_type(dtype, np.float32)
    input, low, high = (None if t is None else t if t.dtype == dtype else t.to(dtype)
                        for t in [input] + bounds)
    try:
        np.broadcast_shapes(*(t.shape for t in (input, low, high) if t is not None))
    except ValueError:
        raise ValueError(f"clamp: shapes of input {input.shape}, min "
                         f"{getattr(low, 'shape', None)} and max {getattr(high, 'shape', None)} "
                         "cannot be broadcast together") from None
    return ClampTensor.apply(input, low, high)


clip = clamp
