"""Diagonals: `diagonal`, `diag_embed`, `diag`, `trace`.

Two primitives that are each other's adjoint: `Diagonal` reads the diagonal of two dims
(moved to the last dim, as torch does), `DiagEmbed` writes a last dim onto the diagonal of
two new dims of zeros. The gradient of either is the other, so both are differentiable to
any order. `diag` and `trace` are compositions.
"""
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_array_module
from .shape import _dim


def _diagonal_positions(xp, n, offset):
    """Row and column indices of the `offset` diagonal of an n x n (or wider) block."""
    i = xp.arange(n)
    return (i, i + offset) if offset >= 0 else (i - offset, i)


class Diagonal(Function):
    """y[..., i] = x[..., i, i + offset] over dims (dim1, dim2) (others keep their order)."""

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        ctx.shape, ctx.args = x.shape, (offset, dim1, dim2)
        return get_array_module(x).diagonal(x, offset, dim1, dim2).copy()

    @staticmethod
    def backward(ctx, gy):
        offset, dim1, dim2 = ctx.args
        # dL/dx = gy written on the diagonal, 0 elsewhere
        return DiagEmbed.apply(gy, offset, dim1, dim2, ctx.shape[dim1], ctx.shape[dim2])


class DiagEmbed(Function):
    """y = zeros with y[..., i, i + offset] (dims dim1, dim2 of y) = x[..., i]."""

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2, rows, cols):
        xp = get_array_module(x)
        ctx.args = (offset, dim1, dim2)
        batch = x.shape[:-1]
        y = xp.zeros(batch + (rows, cols), dtype=x.dtype)
        r, c = _diagonal_positions(xp, x.shape[-1], offset)
        y[..., r, c] = x
        # the two new dims sit last; move them to dim1 and dim2 of the output
        order = list(range(len(batch)))
        for d, src in sorted(((dim1, len(batch)), (dim2, len(batch) + 1))):
            order.insert(d, src)
        return xp.ascontiguousarray(y.transpose(order))

    @staticmethod
    def backward(ctx, gy):
        return Diagonal.apply(gy, *ctx.args)  # the adjoint of writing a diagonal: reading it


def _tensor(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    return x


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The `offset` diagonal of the matrices in dims (dim1, dim2), as the last dim of the
    result (offset > 0 above the main diagonal, < 0 below): (3, 4) -> (3,). A copy, not
    a view as in torch (writes into it do not reach input)."""
    input = _tensor(input, "diagonal")
    if input.ndim < 2:
        raise RuntimeError(f"diagonal: expects a tensor with at least 2 dimensions, got "
                           f"shape {tuple(input.shape)}")
    d1, d2 = _dim(dim1, input.ndim, "diagonal"), _dim(dim2, input.ndim, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal: dim1 and dim2 cannot be the same dimension ({dim1}, "
                           f"{dim2})")
    return Diagonal.apply(input, int(offset), d1, d2)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices whose `offset` diagonal (in output dims dim1, dim2) is input's last dim, 0
    elsewhere: (..., n) -> (..., n + |offset|, n + |offset|) with the two dims placed."""
    input = _tensor(input, "diag_embed")
    n_out = input.ndim + 1
    d1, d2 = _dim(dim1, n_out, "diag_embed"), _dim(dim2, n_out, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diag_embed: dim1 and dim2 cannot be the same dimension "
                           f"({dim1}, {dim2})")
    if input.ndim == 0:
        raise RuntimeError("diag_embed: expects a tensor with at least 1 dimension")
    m = input.shape[-1] + abs(int(offset))
    return DiagEmbed.apply(input, int(offset), d1, d2, m, m)


def diag(input, diagonal=0):
    """1-D (n,) -> the (n + |k|, n + |k|) matrix with it on diagonal k; 2-D -> its k-th
    diagonal as a 1-D tensor."""
    input = _tensor(input, "diag")
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return Diagonal.apply(input, int(diagonal), 0, 1)
    raise RuntimeError(f"diag: expects a 1-D or 2-D tensor, got shape {tuple(input.shape)}")


def trace(input):
    """The sum of the main diagonal of a 2-D tensor (int64 for integer input, as torch)."""
    input = _tensor(input, "trace")
    if input.ndim != 2:
        raise RuntimeError(f"trace: expects a 2-D tensor, got shape {tuple(input.shape)}")
    return Diagonal.apply(input, 0, 0, 1).sum()
