"""Broadcasting and its adjoint: `broadcast_to` / `expand`, and `sum_to`, the one helper
that reduces a gradient back to the shape of the input it belongs to."""
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_array_module


def sum_to_array(x, shape):
    """Sum the array `x` over the dimensions that broadcasting added or stretched."""
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and x.shape[i + lead] != 1)
    y = x.sum(axis=axes, keepdims=True)
    return y.reshape(shape) if lead else y


class SumTo(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.x_shape = x.shape
        return sum_to_array(x, shape)

    @staticmethod
    def backward(ctx, gy):
        return broadcast_to(gy, ctx.x_shape)  # each summed element received gy


class BroadcastTo(Function):
    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.x_shape = x.shape
        return get_array_module(x).broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, gy):
        return sum_to(gy, ctx.x_shape)  # copies of x add up their gradients


def sum_to(x, shape):
    """`x` summed down to `shape` (the adjoint of broadcasting it to x.shape)."""
    shape = tuple(shape)
    return x if x.shape == shape else SumTo.apply(x, shape)


def broadcast_to(input, shape):
    """A read-only view of `input` repeated along new or size-1 dimensions to `shape`."""
    shape = tuple(shape)
    if input.shape == shape:
        return input
    try:
        fits = get_array_module(input._data).broadcast_shapes(input.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"broadcast_to: shape {input.shape} cannot be broadcast to {shape}")
    return BroadcastTo.apply(input, shape)


def expand(input, sizes):
    """PyTorch's `expand`: like broadcast_to, where -1 keeps a dimension's size."""
    sizes = tuple(sizes)
    lead = len(sizes) - input.ndim
    if lead < 0:
        raise ValueError(f"expand: the number of sizes ({len(sizes)}) must be at least the "
                         f"number of dimensions ({input.ndim}) of a tensor of shape "
                         f"{input.shape}")
    if -1 in sizes[:lead]:
        raise ValueError(f"expand: sizes {sizes} put -1 in a new leading dimension of a tensor "
                         f"of shape {input.shape}; only existing dimensions can keep their size")
    shape = tuple(input.shape[i - lead] if n == -1 else n for i, n in enumerate(sizes))
    return broadcast_to(input, shape)


def reduce_like(g, like):
    """The gradient `g` summed to the shape of `like` (a Tensor or a Python scalar)."""
    return sum_to(g, like.shape if isinstance(like, Tensor) else ())
