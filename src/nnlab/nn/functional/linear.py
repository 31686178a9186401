"""Linear maps and lookups: `linear` (y = x W^T + b), `bilinear` (y = x1^T W x2 + b) and
`embedding` (rows of a table), with any number of leading dims, as PyTorch."""
from ...autograd.fused import FusedFunction
from ...autograd.tensor import Tensor
from ...backend import get_array_module
from ...ops.elementwise import where
from ...ops.index import IndexSelect, _index_array
from ...ops.linalg import MatMul, einsum
from ...ops.shape import reshape
from ...parallel import matmul, ufunc


def _shape(t):
    return tuple(t.shape)


class Affine(FusedFunction):
    """y = x W^T + b for x (N, in), W (out, in), b (out,): one GEMM, the bias added into its
    result in place, one graph node. Its backward is Tensor ops, so it is differentiable
    twice."""

    twin = staticmethod(lambda x, w, b: MatMul.apply(x, w, False, True) + b)

    @staticmethod
    def forward(ctx, x, w, b):
        need_x, need_w = ctx.needs_input_grad[:2]
        ctx.save_for_backward(x if need_w else None, w if need_x else None)
        xp = get_array_module(x)
        y = matmul(x, w.T)
        return ufunc(xp.add, y, b, out=y)

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        # dL/dx = gy W, dL/dW = gy^T x, dL/db = sum of gy over rows
        return (MatMul.apply(gy, w, False, False) if need_x else None,
                MatMul.apply(gy, x, True, False) if need_w else None,
                gy.sum(0) if need_b else None)


def _affine(x, weight, bias):
    """x (N, in) -> x W^T + b (N, out)."""
    if bias is None:
        return MatMul.apply(x, weight, False, True)  # (N, in) @ (in, out) -> (N, out)
    if isinstance(bias, Tensor) and bias.shape == weight.shape[:1] \
            and bias.dtype == weight.dtype:
        return Affine.apply(x, weight, bias)
    return MatMul.apply(x, weight, False, True) + bias


def linear(input, weight, bias=None):
    """y = x W^T + b: input (*, in_features), weight (out_features, in_features),
    bias (out_features,) -> (*, out_features). One GEMM whatever the leading dims."""
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape "
                         f"{_shape(weight)}")
    shape = input.shape
    if not shape or shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input of shape {tuple(shape)} does not match weight of "
                         f"shape {_shape(weight)}: expected {weight.shape[1]} features in "
                         "the input's last dimension")
    if input.dtype != weight.dtype:
        raise TypeError(f"linear: input is {input.dtype} but weight is {weight.dtype} (convert "
                        "one with .to(dtype))")
    if len(shape) == 2:
        return _affine(input, weight, bias)
    x = reshape(input, (-1, shape[-1]))  # (*, in) -> (N, in)
    return reshape(_affine(x, weight, bias), shape[:-1] + (weight.shape[0],))  # -> (*, out)


def bilinear(input1, input2, weight, bias=None):
    """y_o = sum_ij x1_i W_oij x2_j + b_o: input1 (*, in1), input2 (*, in2) with the same
    leading dims, weight (out, in1, in2), bias (out,) -> (*, out)."""
    s1, s2, sw = _shape(input1), _shape(input2), _shape(weight)
    if len(sw) != 3:
        raise ValueError(f"bilinear: weight must be 3-D (out_features, in1_features, "
                         f"in2_features), got shape {sw}")
    if not s1 or not s2 or s1[:-1] != s2[:-1]:
        raise ValueError(f"bilinear: input1 of shape {s1} and input2 of shape {s2} must have "
                         "at least one dimension and the same leading dimensions")
    if s1[-1] != sw[1] or s2[-1] != sw[2]:
        raise ValueError(f"bilinear: inputs with {s1[-1]} and {s2[-1]} features do not match "
                         f"weight of shape {sw} (expected {sw[1]} and {sw[2]})")
    x1 = reshape(input1, (-1, sw[1]))  # (*, in1) -> (N, in1)
    x2 = reshape(input2, (-1, sw[2]))  # (*, in2) -> (N, in2)
    out = einsum("bi,oij,bj->bo", x1, weight, x2)  # (N, out)
    out = reshape(out, s1[:-1] + (sw[0],))  # (N, out) -> (*, out)
    return out if bias is None else out + bias


def embedding(input, weight, padding_idx=None):
    """Rows of `weight` (num_embeddings, embedding_dim) at the integer indices `input`
    (any shape) -> (*input.shape, embedding_dim). Rows at padding_idx receive no gradient
    (their value is whatever the table holds; Embedding zeroes it at initialisation)."""
    return _embedding(input, weight, padding_idx, "embedding")


def _embedding(input, weight, padding_idx, name):
    """`embedding`, its errors headed by `name` (the function's, or the layer's)."""
    if weight.ndim != 2:
        raise ValueError(f"{name}: weight must be 2-D (num_embeddings, embedding_dim), "
                         f"got shape {_shape(weight)}")
    index = _index_array(input, name, "input")
    n = weight.shape[0]
    _check_indices(index, n, name)
    flat = index.reshape(-1)
    out = IndexSelect.apply(weight, 0, flat)  # (N, dim): row flat[i] of the table
    if padding_idx is not None:
        padding_idx = _padding_index(padding_idx, n, name)
        keep = Tensor((flat != padding_idx)[:, None])
        out = where(keep, out, out.detach())  # the same values; no gradient at padding
    return reshape(out, index.shape + (weight.shape[1],))  # (N, dim) -> (*input, dim)


def _check_indices(index, n, name):
    if index.size:
        low, high = int(index.min()), int(index.max())
        if low < 0 or high >= n:
            raise IndexError(f"{name}: index {low if low < 0 else high} is out of range "
                             f"(num_embeddings={n})")


def _padding_index(padding_idx, n, name):
    """padding_idx in [-n, n) as an index in [0, n) (negative counts from the end)."""
    if not -n <= padding_idx < n:
        raise ValueError(f"{name}: padding_idx {padding_idx} must be within "
                         f"num_embeddings ({n})")
    return padding_idx + n if padding_idx < 0 else padding_idx
