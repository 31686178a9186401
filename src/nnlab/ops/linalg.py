"""Linear algebra: `matmul` (and its fixed-rank forms `mm`, `bmm`, `outer`) and `einsum`.

One primitive, `MatMul`, computes op(a) @ op(b), where op transposes the last two axes
when its flag is set; the transposed operand is a strided view handed straight to BLAS.
Its backward is `MatMul` again with other flags, so no transpose node and no copy is
made, and it is differentiable to any order. 1-D operands are promoted to matrices by
reshapes around it, as torch does; batch dims broadcast and their gradients are summed
back with `sum_to`.

`Einsum` contracts with labels made explicit (ellipses replaced by spare letters, size-1
labels broadcast beforehand); the gradient of each operand is itself an einsum of the
output gradient with the other operands.
"""
import math
import string

import numpy as np

from .. import parallel
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import get_array_module
from .broadcast import broadcast_to, sum_to
from .shape import Permute, Transpose, reshape


# -- matmul ----------------------------------------------------------------------------
def _mT(x, transpose):
    return x.swapaxes(-1, -2) if transpose else x


class MatMul(Function):
    """y = op(a) @ op(b), op(x) = x^T (last two axes) where its flag is set."""

    @staticmethod
    def forward(ctx, a, b, ta=False, tb=False):
        need_a, need_b = ctx.needs_input_grad[:2]
        ctx.flags = (ta, tb)
        ctx.shapes = (a.shape, b.shape)
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        return parallel.matmul(_mT(a, ta), _mT(b, tb))

    @staticmethod
    def backward(ctx, gy):
        # dL/dA = gy B^T, dL/dB = A^T gy (A = op(a), B = op(b); transposed back if flagged)
        a, b = ctx.saved_tensors
        (ta, tb), (sa, sb) = ctx.flags, ctx.shapes
        need_a, need_b = ctx.needs_input_grad[:2]
        ga = gb = None
        if need_a:
            ga = MatMul.apply(b, gy, tb, True) if ta else MatMul.apply(gy, b, False, not tb)
            ga = sum_to(ga, sa)
        if need_b:
            gb = MatMul.apply(gy, a, True, ta) if tb else MatMul.apply(a, gy, not ta, False)
            gb = sum_to(gb, sb)
        return ga, gb


def _untranspose(t):
    """(w, True) if `t` is the matrix transpose of a leaf w (w.T, w.mT, w.transpose(-2, -1)),
    else (t, False). Multiplying w with MatMul's transpose flag is the same product, but
    w's gradient is then computed in w's own layout, instead of arriving through the
    transpose node as a strided view that has to be copied into w.grad."""
    node, n = t.grad_fn, t.ndim
    if node is None or n < 2 or not isinstance(node._edges[0], Tensor):
        return t, False
    last_two = tuple(range(n - 2)) + (n - 1, n - 2)
    if (isinstance(node, Transpose) and sorted(node.dims) == [n - 2, n - 1]
            or isinstance(node, Permute) and node.dims == last_two):
        return node._edges[0], True
    return t, False


def _tensors(op, a, b):
    """Both operands as Tensors of one dtype (a non-Tensor takes the other's dtype)."""
    if not isinstance(a, Tensor):
        a = Tensor(a)
        if isinstance(b, Tensor) and a.dtype != b.dtype:
            a = a.to(b.dtype)
    if not isinstance(b, Tensor):
        b = Tensor(b)
        if b.dtype != a.dtype:
            b = b.to(a.dtype)
    if a.dtype != b.dtype:
        raise TypeError(f"{op}: expected both operands to have the same dtype, got "
                        f"{a.dtype} and {b.dtype}")
    return a, b


def matmul(input, other):
    """The matrix product with torch's rules: 1-D @ 1-D is a dot product (0-d), a 1-D
    operand is a row (left) or column (right) vector whose added dim is dropped, and
    batch dims (all but the last two) broadcast: (j, 1, n, k) @ (m, k, p) -> (j, m, n, p)."""
    a, b = _tensors("matmul", input, other)
    sa, sb = a.shape, b.shape
    if not sa or not sb:
        raise ValueError(f"matmul: {sa} @ {sb}: both operands need at least 1 dimension "
                         "(use mul for a 0-d operand)")
    k = sa[-1]
    kb = sb[-2] if len(sb) > 1 else sb[0]
    if k != kb:
        raise ValueError(f"matmul: {sa} @ {sb}: inner dimensions {k} and {kb} differ")
    if len(sa) == 2 and len(sb) == 2:
        (a, ta), (b, tb) = _untranspose(a), _untranspose(b)
        return MatMul.apply(a, b, ta, tb)
    try:
        batch = np.broadcast_shapes(sa[:-2], sb[:-2])
    except ValueError:
        raise ValueError(f"matmul: {sa} @ {sb}: batch dimensions {sa[:-2]} and {sb[:-2]} "
                         "cannot be broadcast together") from None
    out_shape = batch + sa[-2:-1] * (len(sa) > 1) + sb[-1:] * (len(sb) > 1)
    if len(sa) == 1:
        a = reshape(a, (1, k))
    if len(sb) == 1:
        b = reshape(b, (k, 1))
    if b.ndim == 2 and a.ndim > 2:   # fold a's batch into its rows: one large GEMM
        a = reshape(a, (-1, k))
    (a, ta), (b, tb) = _untranspose(a), _untranspose(b)
    return reshape(MatMul.apply(a, b, ta, tb), out_shape)


def mm(input, mat2):
    """The product of two matrices: (n, k) @ (k, m) -> (n, m)."""
    if input.ndim != 2 or mat2.ndim != 2:
        raise ValueError(f"mm: expected two 2-D tensors, got shapes {tuple(input.shape)} "
                         f"and {tuple(mat2.shape)}")
    return matmul(input, mat2)


def bmm(input, mat2):
    """A batch of matrix products, no broadcasting: (b, n, k) @ (b, k, m) -> (b, n, m)."""
    sa, sb = tuple(input.shape), tuple(mat2.shape)
    if len(sa) != 3 or len(sb) != 3:
        raise ValueError(f"bmm: expected two 3-D tensors, got shapes {sa} and {sb}")
    if sa[0] != sb[0]:
        raise ValueError(f"bmm: {sa} @ {sb}: batch sizes {sa[0]} and {sb[0]} differ")
    return matmul(input, mat2)


def outer(input, vec2):
    """The outer product of two vectors: (n,), (m,) -> (n, m)."""
    a, b = _tensors("outer", input, vec2)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"outer: expected two 1-D tensors, got shapes {a.shape} and "
                         f"{b.shape}")
    return MatMul.apply(reshape(a, (-1, 1)), reshape(b, (1, -1)), False, False)


# -- einsum ----------------------------------------------------------------------------
def _unique(labels):
    return "".join(dict.fromkeys(labels))


def _contract_pair(xp, sa, sb, so, a, b):
    """einsum of two operands without repeated labels, as one batched matmul (or, with
    nothing to contract, as a broadcast product)."""
    drop = tuple(i for i, c in enumerate(sa) if c not in sb and c not in so)
    if drop:
        a, sa = a.sum(axis=drop), "".join(c for c in sa if c in sb or c in so)
    drop = tuple(i for i, c in enumerate(sb) if c not in sa and c not in so)
    if drop:
        b, sb = b.sum(axis=drop), "".join(c for c in sb if c in sa or c in so)
    size = dict(zip(sa, a.shape))
    size.update(zip(sb, b.shape))
    contract = [c for c in sa if c in sb and c not in so]
    if not contract:   # an outer or elementwise product: align both to `so` and multiply
        def aligned(x, s):
            x = x.transpose([s.index(c) for c in so if c in s])
            return x.reshape([size[c] if c in s else 1 for c in so])
        return aligned(a, sa) * aligned(b, sb)
    batch = [c for c in so if c in sa and c in sb]
    left = [c for c in sa if c not in sb]
    right = [c for c in sb if c not in sa]
    nb = [size[c] for c in batch]
    nl, nk, nr = ([size[c] for c in part] for part in (left, contract, right))
    a = a.transpose([sa.index(c) for c in batch + left + contract])
    b = b.transpose([sb.index(c) for c in batch + contract + right])
    y = parallel.matmul(a.reshape(nb + [math.prod(nl), math.prod(nk)]),
                        b.reshape(nb + [math.prod(nk), math.prod(nr)]))
    order = batch + left + right
    return y.reshape(nb + nl + nr).transpose([order.index(c) for c in so])


def _contract(ins, out, ops):
    xp = get_array_module(ops[0])
    if len(ops) == 2 and all(len(_unique(s)) == len(s) for s in ins):
        return _contract_pair(xp, ins[0], ins[1], out, *ops)
    y = xp.einsum(",".join(ins) + "->" + out, *ops, optimize=len(ops) > 2)
    if len(ops) == 1 and xp.may_share_memory(y, ops[0]):   # a transpose or a diagonal view
        y = y.copy()
    return y


class Einsum(Function):
    """y = einsum(ins -> out, *ops) with explicit labels and consistent sizes."""

    @staticmethod
    def forward(ctx, spec, *ops):
        needs = ctx.needs_input_grad[1:]
        ctx.spec = spec
        ctx.shapes = tuple(x.shape for x in ops)
        ctx.save_for_backward(*(x if any(needs[:j] + needs[j + 1:]) else None
                                for j, x in enumerate(ops)))
        return _contract(*spec, ops)

    @staticmethod
    def backward(ctx, gy):
        # dL/dop_i = einsum(out, ins[j != i] -> ins[i]; gy, op_j), broadcast over labels
        # only op_i has, times the identity over its repeated labels
        ins, out = ctx.spec
        ops = ctx.saved_tensors
        grads = [None]
        for i, need in enumerate(ctx.needs_input_grad[1:]):
            grads.append(_einsum_grad(i, ins, out, gy, ops, ctx.shapes[i]) if need else None)
        return tuple(grads)


def _einsum_grad(i, ins, out, gy, ops, shape):
    si = ins[i]
    terms = (out,) + ins[:i] + ins[i + 1:]
    args = (gy,) + ops[:i] + ops[i + 1:]
    known = set("".join(terms))
    uniq = _unique(si)
    target = "".join(c for c in uniq if c in known)
    g = gy if terms == (target,) else Einsum.apply((terms, target), *args)
    if target == si:
        return g
    first = {c: si.index(c) for c in uniq}
    size = dict(zip(si, shape))
    g = reshape(g, tuple(size[c] if c in target and first[c] == p else 1
                         for p, c in enumerate(si)))
    if len(uniq) < len(si):   # repeated labels: put the gradient on their diagonal
        xp = get_array_module(g._data)
        mask = True
        for p, c in enumerate(si):
            if first[c] != p:
                n = size[c]
                lhs = xp.arange(n).reshape([n if q == first[c] else 1 for q in range(len(si))])
                rhs = xp.arange(n).reshape([n if q == p else 1 for q in range(len(si))])
                mask = mask & (lhs == rhs)
        g = g * Tensor._make(mask.astype(g.dtype))
    return broadcast_to(g, shape)


def _parse(equation, ops):
    """The subscripts of each operand and of the output, with every ellipsis replaced by
    letters that the equation does not use (right-aligned, as broadcasting aligns)."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ops):
        raise ValueError(f"einsum: {equation!r} has subscripts for {len(terms)} operands "
                         f"but {len(ops)} were given")
    for t in terms + [rhs]:
        bad = set(t.replace("...", "")) - set(string.ascii_letters)
        if bad or t.count("...") > 1 or "->" in rhs:
            raise ValueError(f"einsum: {equation!r}: invalid subscripts {t!r} (expected "
                             "letters and at most one '...' per operand, and one '->')")
    n_ell = []
    for k, (t, x) in enumerate(zip(terms, ops)):
        named = len(t.replace("...", ""))
        n = x.ndim - named
        if n < 0 or (n and "..." not in t):
            raise ValueError(f"einsum: {equation!r}: operand {k} has {x.ndim} dimensions "
                             f"(shape {tuple(x.shape)}) but subscripts {t!r} name {named}")
        n_ell.append(n if "..." in t else 0)
    spare = [c for c in reversed(string.ascii_letters) if c not in eq]
    ell = "".join(reversed(spare[:max(n_ell, default=0)]))
    ins = tuple(t.replace("...", ell[len(ell) - n:] if n else "") for t, n in zip(terms, n_ell))
    if arrow:
        out = rhs.replace("...", ell)
        for c in out:
            if out.count(c) > 1 or c not in "".join(ins):
                raise ValueError(f"einsum: {equation!r}: output label {c!r} is repeated or "
                                 "does not occur in the operands")
    else:
        joined = "".join(terms)
        out = ell + "".join(sorted(c for c in set(joined) if c != "." and joined.count(c) == 1))
    return ins, out


def einsum(equation, *operands):
    """Einstein summation as torch.einsum: e.g. 'bi,oij,bj->bo', 'bhqd,bhkd->bhqk',
    '...ij,...jk->...ik'; labels of size 1 broadcast; operands may come as one list."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    ops = [x if isinstance(x, Tensor) else Tensor(x) for x in operands]
    if not ops:
        raise ValueError("einsum: no operands given")
    dtypes = {x.dtype for x in ops}
    if len(dtypes) > 1:
        raise TypeError(f"einsum: expected operands of one dtype, got "
                        f"{', '.join(str(x.dtype) for x in ops)}")
    ins, out = _parse(equation, ops)
    size = {}
    for k, (s, x) in enumerate(zip(ins, ops)):
        for p, (c, n) in enumerate(zip(s, x.shape)):
            if p != s.index(c) and n != x.shape[s.index(c)]:
                raise ValueError(f"einsum: {equation!r}: label {c!r} is repeated in operand "
                                 f"{k} with different sizes (shape {tuple(x.shape)})")
            m = size.setdefault(c, n)
            if m != n and 1 not in (m, n):
                raise ValueError(f"einsum: {equation!r}: label {c!r} has size {m} in one "
                                 f"operand and {n} in operand {k} (shape {tuple(x.shape)})")
            if m == 1:
                size[c] = n
    ops = [broadcast_to(x, tuple(size[c] for c in s)) for s, x in zip(ins, ops)]
    return Einsum.apply((ins, out), *ops)
