"""Products and distances built on `matmul`: `addmm`, `addmv`, `addbmm`, `baddbmm`,
`tensordot`, `kron`, `cross`, `dist` and `cdist`.

All but `cdist` are compositions of differentiable primitives (matmul, reshape, permute,
roll, norm), so their gradients need no code of their own. `cdist` with p = 2 is one
primitive, `EuclideanDist`, as torch has: its forward may use the matmul expansion
|a - b|^2 = |a|^2 + |b|^2 - 2 a.b, and its backward is written with matmuls too.
"""
import math
import numbers
import warnings

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_array_module
from . import elementwise, reduce
from .broadcast import broadcast_to
from .linalg import _tensors, matmul
from .shape import _dim, permute, reshape, roll, unsqueeze


def _scaled(x, factor):
    return x if factor == 1 else elementwise.mul(x, factor)


def _add_scaled(op, input, product, beta, alpha):
    """beta input + alpha product; input is ignored (even its NaNs) when beta = 0."""
    shape = tuple(getattr(input, "shape", ()))
    try:
        fits = np.broadcast_shapes(shape, tuple(product.shape)) == tuple(product.shape)
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{op}: input of shape {shape} cannot be broadcast to the "
                         f"product's shape {product.shape}")
    out = _scaled(product, alpha)
    if beta == 0:
        return broadcast_to(out, product.shape)
    return elementwise.add(_scaled(input, beta), out)


def _check_ndim(op, names, tensors, ndims):
    for name, t, n in zip(names, tensors, ndims):
        if not isinstance(t, Tensor) or t.ndim != n:
            got = f"shape {tuple(t.shape)}" if isinstance(t, Tensor) else type(t).__name__
            raise ValueError(f"{op}: {name} must be a {n}-D tensor, got {got}")


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta input + alpha (mat1 @ mat2): (n, k) @ (k, m), input broadcast to (n, m)."""
    _check_ndim("addmm", ("mat1", "mat2"), (mat1, mat2), (2, 2))
    return _add_scaled("addmm", input, matmul(mat1, mat2), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta input + alpha (mat @ vec): (n, m) @ (m,), input broadcast to (n,)."""
    _check_ndim("addmv", ("mat", "vec"), (mat, vec), (2, 1))
    return _add_scaled("addmv", input, matmul(mat, vec), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta input + alpha (batch1 @ batch2) per batch: (b, n, k) @ (b, k, m) -> (b, n, m)."""
    _check_ndim("baddbmm", ("batch1", "batch2"), (batch1, batch2), (3, 3))
    if batch1.shape[0] != batch2.shape[0]:
        raise ValueError(f"baddbmm: batch sizes {batch1.shape[0]} and {batch2.shape[0]} "
                         "differ")
    return _add_scaled("baddbmm", input, matmul(batch1, batch2), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta input + alpha sum_b batch1[b] @ batch2[b]: (b, n, k), (b, k, m) -> (n, m)."""
    _check_ndim("addbmm", ("batch1", "batch2"), (batch1, batch2), (3, 3))
    if batch1.shape[0] != batch2.shape[0]:
        raise ValueError(f"addbmm: batch sizes {batch1.shape[0]} and {batch2.shape[0]} "
                         "differ")
    b, n, k = batch1.shape
    m = batch2.shape[2]
    # sum_b A_b B_b = [A_1 ... A_b] (n, b k) @ [B_1; ...; B_b] (b k, m): one GEMM
    a = reshape(permute(batch1, (1, 0, 2)), (n, b * k))
    return _add_scaled("addbmm", input, matmul(a, reshape(batch2, (b * k, m))), beta, alpha)


# -- tensordot and kron ----------------------------------------------------------------
def _tensordot_dims(dims, na, nb):
    if isinstance(dims, numbers.Integral) and not isinstance(dims, bool):
        if not 0 <= dims <= min(na, nb):
            raise ValueError(f"tensordot: dims={dims} must be in [0, {min(na, nb)}] for "
                             f"operands of {na} and {nb} dimensions")
        return list(range(na - dims, na)), list(range(dims))
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    try:
        da, db = dims
        da = [da] if isinstance(da, numbers.Integral) else list(da)
        db = [db] if isinstance(db, numbers.Integral) else list(db)
    except (TypeError, ValueError):
        raise TypeError(f"tensordot: dims must be an int or a pair of lists of dims, got "
                        f"{dims!r}") from None
    if len(da) != len(db):
        raise ValueError(f"tensordot: dims {da} and {db} name different numbers of "
                         "dimensions")
    return [_dim(d, na, "tensordot") for d in da], [_dim(d, nb, "tensordot") for d in db]


def tensordot(a, b, dims=2):
    """sum over paired dims of a and b: with dims = n, a's last n against b's first n;
    with dims = ([i, ...], [j, ...]), a's dim i against b's dim j. The result has a's free
    dims then b's: (2, 3, 4) x (3, 4, 5), dims=2 -> (2, 5)."""
    a, b = _tensors("tensordot", a, b)
    da, db = _tensordot_dims(dims, a.ndim, b.ndim)
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise ValueError(f"tensordot: contracted dims have sizes {a.shape[i]} (dim {i} "
                             f"of {tuple(a.shape)}) and {b.shape[j]} (dim {j} of "
                             f"{tuple(b.shape)})")
    free_a = [i for i in range(a.ndim) if i not in da]
    free_b = [j for j in range(b.ndim) if j not in db]
    k = math.prod(a.shape[i] for i in da)
    out_shape = tuple(a.shape[i] for i in free_a) + tuple(b.shape[j] for j in free_b)
    a2 = reshape(permute(a, free_a + da), (math.prod(a.shape[i] for i in free_a), k))
    b2 = reshape(permute(b, db + free_b), (k, math.prod(b.shape[j] for j in free_b)))
    return reshape(matmul(a2, b2), out_shape)


def kron(input, other):
    """The Kronecker product: out[i * m + k] = input[i] other[k], for every dim (the
    operand with fewer dims gets leading 1s): (2, 3) x (4, 5) -> (8, 15)."""
    a, b = _tensors("kron", input, other)
    n = max(a.ndim, b.ndim)
    sa = (1,) * (n - a.ndim) + tuple(a.shape)
    sb = (1,) * (n - b.ndim) + tuple(b.shape)
    # a as (a_0, 1, a_1, 1, ...) times b as (1, b_0, 1, b_1, ...), then merge each pair
    a = reshape(a, tuple(s for d in sa for s in (d, 1)))
    b = reshape(b, tuple(s for d in sb for s in (1, d)))
    return reshape(elementwise.mul(a, b), tuple(p * q for p, q in zip(sa, sb)))


# -- cross -----------------------------------------------------------------------------
def cross(input, other, dim=None):
    """The cross product of 3-vectors along `dim` (a x b)_i = a_{i+1} b_{i+2} - a_{i+2}
    b_{i+1}, indices mod 3; input and other broadcast. dim=None takes the first dim of
    size 3 (torch's deprecated default, with its warning)."""
    a, b = _tensors("cross", input, other)
    try:
        shape = np.broadcast_shapes(tuple(a.shape), tuple(b.shape))
    except ValueError:
        raise ValueError(f"cross: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be "
                         "broadcast together") from None
    if dim is None:
        warnings.warn("cross: calling it without dim is deprecated, as in torch; pass dim "
                      "explicitly (torch.linalg.cross uses dim=-1)",
                      UserWarning, stacklevel=2)
        dim = next((d for d, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise ValueError(f"cross: no dimension of size 3 in the input shape {shape}")
    dim = _dim(dim, len(shape), "cross")
    if shape[dim] != 3:
        raise ValueError(f"cross: dimension {dim} of the inputs has size {shape[dim]}, "
                         "expected 3")
    a, b = broadcast_to(a, shape), broadcast_to(b, shape)
    # roll by -1 puts a_{i+1} at i, roll by -2 (= +1) puts a_{i+2} at i
    return elementwise.sub(elementwise.mul(roll(a, -1, dim), roll(b, -2, dim)),
                           elementwise.mul(roll(a, -2, dim), roll(b, -1, dim)))


# -- distances -------------------------------------------------------------------------
def dist(input, other, p=2):
    """The p-norm of input - other (broadcast), over all elements: a 0-d tensor."""
    return reduce.norm(elementwise.sub(input, other), p)


class EuclideanDist(Function):
    """d_ij = |x1_i - x2_j|_2 for x1 (..., P, M), x2 (..., R, M) -> (..., P, R)."""

    @staticmethod
    def forward(ctx, x1, x2, use_mm):
        xp = get_array_module(x1)
        if use_mm:   # |a|^2 + |b|^2 - 2 a.b, clamped at 0 (rounding can make it negative)
            sq = (x1 * x1).sum(-1)[..., :, None] + (x2 * x2).sum(-1)[..., None, :]
            d = xp.sqrt(xp.maximum(sq - 2 * (x1 @ x2.swapaxes(-1, -2)), 0))
        else:
            diff = x1[..., :, None, :] - x2[..., None, :, :]
            d = xp.sqrt((diff * diff).sum(-1))
        ctx.save_for_backward(x1, x2, d)
        return d

    @staticmethod
    def backward(ctx, gy):
        x1, x2, d = ctx.saved_tensors
        zero = d == 0
        # r_ij = gy_ij / d_ij (0 where d_ij = 0: the subgradient 0, as torch);
        # dL/dx1_i = sum_j r_ij (x1_i - x2_j), dL/dx2_j = sum_i r_ij (x2_j - x1_i)
        r = elementwise.where(zero, 0.0, gy / elementwise.where(zero, 1.0, d))
        g1 = x1 * unsqueeze(r.sum(-1), -1) - matmul(r, x2)
        g2 = x2 * unsqueeze(r.sum(-2), -1) - matmul(r.mT, x1)
        return g1, g2


_COMPUTE_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                  "donot_use_mm_for_euclid_dist")


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The p-norm distance between each row of x1 and each row of x2:
    (..., P, M), (..., R, M) -> (..., P, R), batch dims broadcast. For p = 2, torch's
    compute_mode picks the matmul expansion (when P or R > 25 by default), which gives
    values near-identical to the direct difference; the gradient is 0 where a distance is
    0. Other p (0, 1, inf, any p > 0) go through `norm` of the differences."""
    x1, x2 = _tensors("cdist", x1, x2)
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise ValueError(f"cdist: expected x1 (..., P, M) and x2 (..., R, M) with the same "
                         f"M, got shapes {tuple(x1.shape)} and {tuple(x2.shape)}")
    if x1.dtype.kind != "f":
        raise TypeError(f"cdist: expected floating point inputs, got {x1.dtype}")
    if not p >= 0:
        raise ValueError(f"cdist: p must be >= 0, got {p}")
    if compute_mode not in _COMPUTE_MODES:
        raise ValueError(f"cdist: compute_mode {compute_mode!r} is not one of "
                         f"{', '.join(_COMPUTE_MODES)}")
    try:
        batch = np.broadcast_shapes(tuple(x1.shape[:-2]), tuple(x2.shape[:-2]))
    except ValueError:
        raise ValueError(f"cdist: batch dims of {tuple(x1.shape)} and {tuple(x2.shape)} "
                         "cannot be broadcast together") from None
    x1 = broadcast_to(x1, batch + tuple(x1.shape[-2:]))
    x2 = broadcast_to(x2, batch + tuple(x2.shape[-2:]))
    if p == 2:
        use_mm = compute_mode == "use_mm_for_euclid_dist" or (
            compute_mode == _COMPUTE_MODES[0] and (x1.shape[-2] > 25 or x2.shape[-2] > 25))
        return EuclideanDist.apply(x1, x2, use_mm)
    diff = elementwise.sub(unsqueeze(x1, -2), unsqueeze(x2, -3))
    return reduce.norm(diff, p, dim=-1)
