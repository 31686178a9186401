"""Closeness and equality: `isclose` (elementwise, a bool tensor), `allclose` and `equal`
(Python bools). None is differentiable."""
from ..autograd.tensor import Tensor
from ..backend import get_array_module


def _pair(op, input, other):
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError(f"{op}: expected two Tensors, got {type(input).__name__} and "
                        f"{type(other).__name__}")
    return input._data, other._data


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol |other|, elementwise (broadcast); equal values
    (infinities of one sign included) are close; NaNs are close only with equal_nan."""
    a, b = _pair("isclose", input, other)
    if rtol < 0 or atol < 0:
        raise ValueError(f"isclose: rtol and atol must be non-negative, got rtol={rtol}, "
                         f"atol={atol}")
    if a.dtype != b.dtype:
        raise TypeError(f"isclose: expected both tensors to have the same dtype, got "
                        f"{a.dtype} and {b.dtype}")
    xp = get_array_module(a)
    with xp.errstate(invalid="ignore"):
        close = a == b
        if a.dtype.kind in "fc":
            finite = xp.isfinite(a) & xp.isfinite(b)
            close |= finite & (xp.abs(a - b) <= atol + rtol * xp.abs(b))
            if equal_nan:
                close |= xp.isnan(a) & xp.isnan(b)
        elif a.dtype.kind != "b":
            diff = xp.abs(a.astype(float) - b.astype(float))
            close |= diff <= atol + rtol * xp.abs(b.astype(float))
    return Tensor._make(close)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether `isclose` holds everywhere: a Python bool."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input, other):
    """Whether both tensors have the same shape and the same values: a Python bool."""
    a, b = _pair("equal", input, other)
    return a.shape == b.shape and bool((a == b).all())
