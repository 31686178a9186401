"""Shape ops."""
# STUB: to be implemented
from ..autograd.function import Function


class Reshape(Function):
    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.x_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, gy):
        return reshape(gy, ctx.x_shape)


def reshape(input, shape):
    """The same elements in a new shape (-1: inferred)."""
    shape = tuple(shape)
    if input.shape == shape:
        return input
    return Reshape.apply(input, shape)


def view(input, shape):
    """view"""
    raise NotImplementedError('view')


def flatten(input, start_dim=0, end_dim=-1):
    """flatten"""
    raise NotImplementedError('flatten')


def transpose(input, dim0, dim1):
    """transpose"""
    raise NotImplementedError('transpose')


def permute(input, dims):
    """permute"""
    raise NotImplementedError('permute')


def movedim(input, source, destination):
    """movedim"""
    raise NotImplementedError('movedim')


def squeeze(input, dim=None):
    """squeeze"""
    raise NotImplementedError('squeeze')


def unsqueeze(input, dim):
    """unsqueeze"""
    raise NotImplementedError('unsqueeze')


def cat(tensors, dim=0):
    """cat"""
    raise NotImplementedError('cat')


def stack(tensors, dim=0):
    """stack"""
    raise NotImplementedError('stack')


def split(tensor, split_size_or_sections, dim=0):
    """tuple of tensors"""
    raise NotImplementedError('split')


def chunk(input, chunks, dim=0):
    """chunk"""
    raise NotImplementedError('chunk')


def unbind(input, dim=0):
    """unbind"""
    raise NotImplementedError('unbind')


def pad(input, pad, mode='constant', value=0.0):
    """torch.nn.functional.pad semantics: pad pairs from the last dim; modes constant, reflect, replicate, circular"""
    raise NotImplementedError('pad')


def flip(input, dims):
    """flip"""
    raise NotImplementedError('flip')


def repeat(input, sizes):
    """Tensor.repeat semantics"""
    raise NotImplementedError('repeat')


def tile(input, dims):
    """tile"""
    raise NotImplementedError('tile')


def roll(input, shifts, dims=None):
    """roll"""
    raise NotImplementedError('roll')


def tril(input, diagonal=0):
    """tril"""
    raise NotImplementedError('tril')


def triu(input, diagonal=0):
    """triu"""
    raise NotImplementedError('triu')
