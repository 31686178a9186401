"""Reductions over one, several or all dimensions (`dim`: an int, a tuple, or None for
all), with PyTorch's `keepdim`. Backward broadcasts the gradient back over what was
reduced."""
from ..autograd.function import Function
from .broadcast import broadcast_to
from .shape import reshape


def _dims(dim, ndim):
    """`dim` as a sorted tuple of non-negative axes (None or () means every axis)."""
    if dim is None or dim == ():
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    bound = ndim or 1   # a 0-d tensor accepts dim 0 and -1, as torch
    for d in dims:
        if not -bound <= d < bound:
            raise IndexError(f"dimension {d} is out of range for a tensor with {ndim} "
                             f"dimensions (expected in [{-bound}, {bound - 1}])")
    return tuple(sorted(d % ndim for d in dims)) if ndim else ()


def _kept_shape(shape, dims):
    """`shape` with the reduced dimensions set to 1 (the keepdim=True shape)."""
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


def _expand_back(gy, x_shape, dims, keepdim):
    """The gradient of a reduction broadcast back to the input's shape."""
    if not keepdim:
        gy = reshape(gy, _kept_shape(x_shape, dims))
    return broadcast_to(gy, x_shape)


class Sum(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.x_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        return x.sum(axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, gy):
        return _expand_back(gy, ctx.x_shape, ctx.dims, ctx.keepdim)  # d sum = 1 each


class Mean(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.x_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        ctx.count = 1
        for d in dims:
            ctx.count *= x.shape[d]
        return x.mean(axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, gy):
        return _expand_back(gy / ctx.count, ctx.x_shape, ctx.dims, ctx.keepdim)  # 1/n each


def sum(input, dim=None, keepdim=False):
    """The sum over `dim`."""
    return Sum.apply(input, _dims(dim, input.ndim), keepdim)


def mean(input, dim=None, keepdim=False):
    """The mean over `dim`."""
    return Mean.apply(input, _dims(dim, input.ndim), keepdim)


def prod(input, dim=None, keepdim=False):
    """gradient correct with zeros in the input"""
    raise NotImplementedError('prod')


def max(input, dim=None, keepdim=False):
    """dim None: the max value (grad split evenly among ties, as torch's max()); else namedtuple (values, indices), grad to the index"""
    raise NotImplementedError('max')


def min(input, dim=None, keepdim=False):
    """as max"""
    raise NotImplementedError('min')


def amax(input, dim=(), keepdim=False):
    """grad split evenly among ties, as torch; dim=() means all"""
    raise NotImplementedError('amax')


def amin(input, dim=(), keepdim=False):
    """amin"""
    raise NotImplementedError('amin')


def argmax(input, dim=None, keepdim=False):
    """int64, no grad"""
    raise NotImplementedError('argmax')


def argmin(input, dim=None, keepdim=False):
    """argmin"""
    raise NotImplementedError('argmin')


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """torch semantics: default correction 1"""
    raise NotImplementedError('var')


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """std"""
    raise NotImplementedError('std')


def norm(input, p='fro', dim=None, keepdim=False):
    """p in fro/2/1/inf/-inf/any float"""
    raise NotImplementedError('norm')


def logsumexp(input, dim, keepdim=False):
    """stable"""
    raise NotImplementedError('logsumexp')


def cumsum(input, dim):
    """cumsum"""
    raise NotImplementedError('cumsum')


def all(input, dim=None, keepdim=False):
    """bool, no grad"""
    raise NotImplementedError('all')


def any(input, dim=None, keepdim=False):
    """bool, no grad"""
    raise NotImplementedError('any')
