"""matmul, mm, bmm, outer and einsum against torch, with float64 gradient checks."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nnlab
from nnlab import ops
from tests.helpers import check_grad, check_op, randn, requires_torch

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

pytestmark = requires_torch

MATMUL_SHAPES = [
    ((4,), (4,)),                    # dot: 0-d result
    ((3, 4), (4,)),                  # matrix @ vector
    ((4,), (4, 5)),                  # vector @ matrix
    ((3, 4), (4, 5)),
    ((1, 1), (1, 1)),
    ((2, 3, 4), (4, 5)),             # batched @ matrix (folded into one GEMM)
    ((3, 4), (2, 4, 5)),             # matrix @ batched
    ((2, 3, 4), (2, 4, 5)),
    ((4,), (2, 4, 5)),               # vector @ batched
    ((2, 3, 4), (4,)),               # batched @ vector
    ((2, 1, 3, 4), (5, 4, 2)),       # batch dims broadcast
    ((1, 3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (1, 3, 4, 2)),
    ((3, 0), (0, 2)),                # empty inner dim
]


def _pair(sa, sb):
    return randn(*sa, seed=1), randn(*sb, seed=2)


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matmul(sa, sb, dtype):
    check_op(ops.matmul, torch.matmul, *_pair(sa, sb), dtype=dtype)


@pytest.mark.parametrize("sa,sb", [s for s in MATMUL_SHAPES if 0 not in s[0]])
def test_matmul_grad(sa, sb):
    check_grad(ops.matmul, *_pair(sa, sb))


def test_matmul_operator_and_method():
    a, b = _pair((3, 4), (4, 2))
    check_op(lambda x, y: x @ y, lambda x, y: x @ y, a, b)
    check_op(lambda x, y: x.matmul(y), lambda x, y: x.matmul(y), a, b)


def test_matmul_integer():
    a = np.arange(6).reshape(2, 3)
    b = np.arange(12).reshape(3, 4)
    check_op(ops.matmul, torch.matmul, a, b, grad=False)


def test_matmul_grad_only_where_needed():
    a = nnlab.tensor(randn(3, 4), requires_grad=True)
    b = nnlab.tensor(randn(4, 2))
    ops.matmul(a, b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.ones((3, 2)) @ b.numpy().T)
    assert b.grad is None


@settings(max_examples=15, deadline=None)
@given(st.lists(st.sampled_from([1, 2, 3]), min_size=0, max_size=3),
       st.lists(st.sampled_from([1, 2, 3]), min_size=0, max_size=3),
       st.integers(1, 3), st.integers(1, 3), st.integers(1, 3))
def test_matmul_random_batches(batch_a, batch_b, n, k, m):
    batch_b = [1 if i < len(batch_a) and d != batch_a[-1 - i] and batch_a[-1 - i] != 1
               else d for i, d in enumerate(batch_b[::-1])][::-1]
    check_op(ops.matmul, torch.matmul, *_pair((*batch_a, n, k), (*batch_b, k, m)))


@pytest.mark.parametrize("fn,tfn,sa,sb", [
    (ops.mm, torch.mm, (3, 4), (4, 5)),
    (ops.bmm, torch.bmm, (2, 3, 4), (2, 4, 5)),
    (ops.outer, torch.outer, (3,), (5,)),
    (lambda a, b: a.mm(b), lambda a, b: a.mm(b), (3, 4), (4, 5)),
    (lambda a, b: a.bmm(b), lambda a, b: a.bmm(b), (2, 3, 4), (2, 4, 5)),
    (lambda a, b: a.outer(b), lambda a, b: a.outer(b), (3,), (5,)),
])
def test_fixed_rank_products(fn, tfn, sa, sb):
    args = _pair(sa, sb)
    check_op(fn, tfn, *args)
    check_op(fn, tfn, *args, dtype=np.float32)
    check_grad(fn, *args)


@pytest.mark.parametrize("fn,sa,sb,match", [
    (ops.matmul, (32, 100), (784, 128),
     r"matmul: \(32, 100\) @ \(784, 128\): inner dimensions 100 and 784 differ"),
    (ops.matmul, (3,), (4,), r"matmul: \(3,\) @ \(4,\): inner dimensions 3 and 4 differ"),
    (ops.matmul, (2, 3, 4), (3, 4, 5), r"matmul: .*batch dimensions \(2,\) and \(3,\)"),
    (ops.matmul, (), (3,), r"matmul: \(\) @ \(3,\): both operands need at least 1 dim"),
    (ops.matmul, (3, 4), (), r"matmul: .*at least 1 dim"),
    (ops.mm, (2, 3, 4), (4, 5), r"mm: expected two 2-D tensors, got shapes \(2, 3, 4\)"),
    (ops.mm, (3,), (3, 4), r"mm: expected two 2-D tensors"),
    (ops.mm, (3, 4), (5, 6), r"matmul: \(3, 4\) @ \(5, 6\): inner dimensions 4 and 5"),
    (ops.bmm, (3, 4), (4, 5), r"bmm: expected two 3-D tensors, got shapes \(3, 4\)"),
    (ops.bmm, (2, 3, 4), (3, 4, 5), r"bmm: \(2, 3, 4\) @ \(3, 4, 5\): batch sizes 2 and 3"),
    (ops.outer, (3, 1), (4,), r"outer: expected two 1-D tensors, got shapes \(3, 1\)"),
])
def test_shape_errors(fn, sa, sb, match):
    a, b = (nnlab.tensor(x) for x in _pair(sa, sb))
    with pytest.raises(ValueError, match=match):
        fn(a, b)


def test_dtype_mismatch_is_an_error():
    a = nnlab.tensor(randn(3, 4).astype(np.float32))
    b = nnlab.tensor(randn(4, 2))
    with pytest.raises(TypeError, match="matmul: expected both operands to have the same "
                                        "dtype, got float32 and float64"):
        ops.matmul(a, b)
    with pytest.raises(TypeError, match="einsum: expected operands of one dtype"):
        ops.einsum("ij,jk->ik", a, b)


def test_matmul_with_array_operand_keeps_tensor_dtype():
    a = nnlab.tensor(randn(3, 4).astype(np.float32))
    y = ops.matmul(a, randn(4, 2))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), a.numpy() @ randn(4, 2).astype(np.float32),
                               rtol=1e-6)


# -- einsum ----------------------------------------------------------------------------
EINSUM_CASES = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),               # matrix product
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),      # batched
    ("ij->ji", [(3, 4)]),                          # transpose
    ("ij->", [(3, 4)]),                            # full reduction
    ("ij->j", [(3, 4)]),
    ("ji", [(3, 4)]),                              # implicit output: 'ij', a transpose
    ("ij,jk", [(3, 4), (4, 5)]),                   # implicit output 'ik'
    ("i,j->ij", [(3,), (4,)]),                     # outer
    ("i,i->", [(4,), (4,)]),                       # dot
    ("i,i->i", [(4,), (4,)]),                      # elementwise
    ("bi,bi->b", [(3, 4), (3, 4)]),                # batched dot
    ("ij,k->j", [(3, 4), (5,)]),                   # labels summed inside each operand
    ("bi,oij,bj->bo", [(2, 3), (5, 3, 4), (2, 4)]),  # bilinear
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),  # attention scores
    ("bhqk,bhkd->bhqd", [(2, 3, 4, 6), (2, 3, 6, 5)]),  # attention output
    ("bqhd,bkhd->bhqk", [(2, 4, 3, 5), (2, 6, 3, 5)]),  # heads not leading
    ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),  # ellipsis dims broadcast
    ("...ij,jk", [(2, 3, 4), (4, 5)]),             # implicit output keeps '...' first
    ("i...->...", [(3, 2, 4)]),
    ("...i,...i->...", [(2, 3, 4), (3, 4)]),
    ("Ab,bC->CA", [(3, 4), (4, 2)]),               # upper-case labels
    ("ij,ij->ij", [(1, 3), (2, 3)]),               # a size-1 label broadcasts
    (",ij->ij", [(), (3, 4)]),                     # a 0-d operand
    ("ii->i", [(3, 3)]),                           # diagonal
    ("ii", [(3, 3)]),                              # trace
    ("iij,jk->ik", [(3, 3, 4), (4, 2)]),           # diagonal inside a product
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),    # chain, contraction order chosen
]


def _einsum_args(shapes):
    return [randn(*s, seed=i + 1) for i, s in enumerate(shapes)]


@pytest.mark.parametrize("eq,shapes", EINSUM_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_einsum(eq, shapes, dtype):
    check_op(lambda *xs: ops.einsum(eq, *xs), lambda *xs: torch.einsum(eq, *xs),
             *_einsum_args(shapes), dtype=dtype)


@pytest.mark.parametrize("eq,shapes", EINSUM_CASES)
def test_einsum_grad(eq, shapes):
    # `* 1.0`: where an input gradient is a broadcast view of the output gradient ('ij->'),
    # gradgradcheck's finite differences would otherwise read that view after restoring
    # the perturbed element (autograd/gradcheck.py `_float_outputs` does not copy).
    check_grad(lambda *xs: ops.einsum(eq, *xs) * 1.0, *_einsum_args(shapes))


def test_einsum_operands_as_one_list():
    check_op(lambda a, b: ops.einsum("ij,jk->ik", [a, b]),
             lambda a, b: torch.einsum("ij,jk->ik", [a, b]), *_einsum_args([(3, 4), (4, 5)]))


def test_einsum_transpose_is_a_copy():
    x = nnlab.tensor(randn(3, 4))
    y = ops.einsum("ij->ji", x)
    y.data[0, 0] = 100.0
    assert x.numpy()[0, 0] != 100.0


@pytest.mark.parametrize("eq,shapes,match", [
    ("ij,jk->ik", [(3, 4)], r"einsum: 'ij,jk->ik' has subscripts for 2 operands but 1"),
    ("ij->ij", [(3, 4, 5)], r"operand 0 has 3 dimensions \(shape \(3, 4, 5\)\) but "
                            r"subscripts 'ij' name 2"),
    ("ijk->i", [(3, 4)], r"operand 0 has 2 dimensions"),
    ("ij,jk->ik", [(3, 4), (5, 6)], r"label 'j' has size 4 in one operand and 5 in operand 1"),
    ("ii->i", [(3, 4)], r"label 'i' is repeated in operand 0 with different sizes"),
    ("ij->k", [(3, 4)], r"output label 'k' is repeated or does not occur"),
    ("ij->ii", [(3, 4)], r"output label 'i' is repeated"),
    ("i1->i", [(3, 4)], r"invalid subscripts 'i1'"),
    ("...i...->i", [(3, 4)], r"invalid subscripts"),
])
def test_einsum_errors(eq, shapes, match):
    xs = [nnlab.tensor(x) for x in _einsum_args(shapes)]
    with pytest.raises(ValueError, match=match):
        ops.einsum(eq, *xs)
