"""Copies and conversions: `clone`, `cast` (dtype) and `to_device`, each differentiable; and
the type queries `is_tensor`, `is_floating_point`, `numel`."""
from ..autograd.function import Function
from ..autograd.tensor import Tensor
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


# -- type queries ---------------------------------------------------------------------------
def is_tensor(obj):
    """Whether `obj` is an nnlab Tensor."""
    return isinstance(obj, Tensor)


def _tensor(input, where):
    if not isinstance(input, Tensor):
        raise TypeError(f"{where}: expected a Tensor, got {type(input).__name__}")
    return input


def is_floating_point(input):
    """Whether `input`'s dtype is a floating one (float16, float32, float64)."""
    return _tensor(input, "is_floating_point").dtype.kind == "f"


def numel(input):
    """The number of elements of `input`."""
    return _tensor(input, "numel").numel()
