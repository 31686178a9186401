"""Copies and conversions: `clone`, `cast` (dtype) and `to_device`, each differentiable."""
from ..autograd.function import Function
from ..backend import array_module_for, get_array_module


class Clone(Function):
    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, gy):
        return gy  # the identity


class Cast(Function):
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.x_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, gy):
        if ctx.x_dtype.kind != "f":
            return None
        return cast(gy, ctx.x_dtype)  # the gradient goes back in the input's dtype


class ToDevice(Function):
    @staticmethod
    def forward(ctx, x, device):
        ctx.x_device = "cpu" if get_array_module(x).__name__ == "numpy" else "cuda"
        xp = array_module_for(device)
        return xp.asarray(x) if xp.__name__ != "numpy" else _to_numpy(x)

    @staticmethod
    def backward(ctx, gy):
        return to_device(gy, ctx.x_device)


def _to_numpy(x):
    return x.get() if hasattr(x, "get") else x


def clone(input):
    """A copy in new memory; gradients flow back unchanged."""
    return Clone.apply(input)


def cast(input, dtype):
    """`input` converted to `dtype`; the gradient is cast back to the input's dtype."""
    return input if input.dtype == dtype else Cast.apply(input, dtype)


def to_device(input, device):
    """`input` copied to 'cpu' or 'cuda'."""
    return ToDevice.apply(input, device)
