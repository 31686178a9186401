"""Products, distances and diagonals against torch: addmm / addmv / addbmm / baddbmm,
tensordot, kron, cross, dist, cdist, diagonal / diag / diag_embed / trace. Values and
gradients in float64 and float32, gradcheck and gradgradcheck in float64."""
import warnings

import numpy as np
import pytest

import nnlab
from nnlab import ops
from tests.helpers import check_grad, check_op, randn

torch = pytest.importorskip("torch")
DTYPES = [np.float64, np.float32]

# name: (nnlab fn, torch fn, inputs)
CASES = {
    "addmm": (lambda i, a, b: ops.addmm(i, a, b), torch.addmm,
              (randn(3, 5, seed=1), randn(3, 4, seed=2), randn(4, 5, seed=3))),
    "addmm_broadcast_scaled": (lambda i, a, b: ops.addmm(i, a, b, beta=0.5, alpha=-2),
                               lambda i, a, b: torch.addmm(i, a, b, beta=0.5, alpha=-2),
                               (randn(5, seed=1), randn(3, 4, seed=2), randn(4, 5, seed=3))),
    "addmv": (lambda i, a, v: ops.addmv(i, a, v, beta=2, alpha=3),
              lambda i, a, v: torch.addmv(i, a, v, beta=2, alpha=3),
              (randn(3, seed=1), randn(3, 4, seed=2), randn(4, seed=3))),
    "baddbmm": (lambda i, a, b: ops.baddbmm(i, a, b, beta=0.5, alpha=2),
                lambda i, a, b: torch.baddbmm(i, a, b, beta=0.5, alpha=2),
                (randn(1, 3, 5, seed=1), randn(2, 3, 4, seed=2), randn(2, 4, 5, seed=3))),
    "addbmm": (lambda i, a, b: ops.addbmm(i, a, b, alpha=0.5),
               lambda i, a, b: torch.addbmm(i, a, b, alpha=0.5),
               (randn(3, 5, seed=1), randn(2, 3, 4, seed=2), randn(2, 4, 5, seed=3))),
    "tensordot_int": (ops.tensordot, torch.tensordot,
                      (randn(2, 3, 4, seed=1), randn(3, 4, 5, seed=2))),
    "tensordot_lists": (lambda a, b: ops.tensordot(a, b, ([0, 2], [2, 0])),
                        lambda a, b: torch.tensordot(a, b, ([0, 2], [2, 0])),
                        (randn(2, 3, 4, seed=1), randn(4, 5, 2, seed=2))),
    "tensordot_0": (lambda a, b: ops.tensordot(a, b, 0),
                    lambda a, b: torch.tensordot(a, b, 0), (randn(2, 3), randn(4, seed=2))),
    "kron": (ops.kron, torch.kron, (randn(2, 3, seed=1), randn(4, 2, seed=2))),
    "kron_ranks": (ops.kron, torch.kron, (randn(3, seed=1), randn(2, 2, 2, seed=2))),
    "cross_dim": (lambda a, b: ops.cross(a, b, dim=1), lambda a, b: torch.cross(a, b, dim=1),
                  (randn(2, 3, 4, seed=1), randn(1, 3, 4, seed=2))),
    "cross_last": (lambda a, b: ops.cross(a, b, -1), lambda a, b: torch.linalg.cross(a, b),
                   (randn(5, 3, seed=1), randn(5, 3, seed=2))),
    "dist_2": (ops.dist, torch.dist, (randn(3, 4, seed=1), randn(4, seed=2))),
    "dist_1": (lambda a, b: ops.dist(a, b, 1), lambda a, b: torch.dist(a, b, 1),
               (randn(3, 4, seed=1), randn(3, 4, seed=2))),
    "dist_3": (lambda a, b: ops.dist(a, b, 3), lambda a, b: torch.dist(a, b, 3),
               (randn(3, 4, seed=1), randn(3, 4, seed=2))),
    "cdist_2": (ops.cdist, torch.cdist, (randn(4, 3, seed=1), randn(5, 3, seed=2))),
    "cdist_batched": (ops.cdist, torch.cdist, (randn(2, 4, 3, seed=1), randn(1, 5, 3, seed=2))),
    "cdist_1": (lambda a, b: ops.cdist(a, b, 1), lambda a, b: torch.cdist(a, b, 1),
                (randn(4, 3, seed=1), randn(5, 3, seed=2))),
    "cdist_3": (lambda a, b: ops.cdist(a, b, 3), lambda a, b: torch.cdist(a, b, 3),
                (randn(4, 3, seed=1), randn(5, 3, seed=2))),
    "cdist_0": (lambda a, b: ops.cdist(a, b, 0), lambda a, b: torch.cdist(a, b, 0),
                (randn(4, 3, seed=1), randn(5, 3, seed=2))),
    "cdist_inf": (lambda a, b: ops.cdist(a, b, float("inf")),
                  lambda a, b: torch.cdist(a, b, float("inf")),
                  (randn(4, 3, seed=1), randn(5, 3, seed=2))),
    "diagonal": (ops.diagonal, torch.diagonal, (randn(3, 4, seed=1),)),
    "diagonal_offset_dims": (lambda x: ops.diagonal(x, -1, 2, 0),
                             lambda x: torch.diagonal(x, -1, 2, 0), (randn(4, 2, 3, seed=1),)),
    "diagonal_offset_up": (lambda x: ops.diagonal(x, 2, 1, 2),
                           lambda x: torch.diagonal(x, 2, 1, 2), (randn(2, 3, 5, seed=1),)),
    "diag_embed": (ops.diag_embed, torch.diag_embed, (randn(2, 3, seed=1),)),
    "diag_embed_dims": (lambda x: ops.diag_embed(x, 1, 0, 2),
                        lambda x: torch.diag_embed(x, 1, 0, 2), (randn(2, 3, seed=1),)),
    "diag_1d": (lambda x: ops.diag(x, -1), lambda x: torch.diag(x, -1), (randn(3, seed=1),)),
    "diag_2d": (lambda x: ops.diag(x, 1), lambda x: torch.diag(x, 1), (randn(3, 4, seed=1),)),
    "trace": (ops.trace, torch.trace, (randn(3, 4, seed=1),)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", CASES)
def test_matches_torch(name, dtype):
    nn_fn, torch_fn, args = CASES[name]
    check_op(nn_fn, torch_fn, *args, dtype=dtype)


@pytest.mark.parametrize("name", CASES)
def test_gradcheck(name):
    nn_fn, _, args = CASES[name]
    check_grad(nn_fn, *args)


def test_cdist_matmul_expansion_is_near_the_direct_distance_and_torch():
    x1, x2 = randn(30, 4, seed=1), randn(40, 4, seed=2)   # > 25 rows: the mm path
    for mode in ("use_mm_for_euclid_dist_if_necessary", "donot_use_mm_for_euclid_dist",
                 "use_mm_for_euclid_dist"):
        check_op(lambda a, b, m=mode: ops.cdist(a, b, compute_mode=m),
                 lambda a, b, m=mode: torch.cdist(a, b, compute_mode=m), x1, x2,
                 rtol=1e-8, atol=1e-9)
    check_grad(lambda a, b: ops.cdist(a, b, compute_mode="use_mm_for_euclid_dist"),
               randn(3, 2, seed=1), randn(4, 2, seed=2))


def test_cdist_gradient_is_zero_where_rows_coincide():
    a = np.array([[0.0, 0.0], [1.0, 1.0]])
    b = np.array([[0.0, 0.0], [3.0, 1.0]])
    check_op(ops.cdist, torch.cdist, a, b)
    x1 = nnlab.tensor(a, requires_grad=True)
    ops.cdist(x1, nnlab.tensor(b))[0, 0].backward()
    assert x1.grad.numpy().tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_addmm_with_beta_zero_ignores_nan_in_input():
    i = nnlab.tensor([[float("nan")] * 2] * 2)
    out = ops.addmm(i, nnlab.eye(2), nnlab.ones(2, 2), beta=0)
    assert out.numpy().tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_cross_default_dim_is_the_first_of_size_3_with_a_warning():
    a, b = randn(3, 3, 4, seed=1), randn(3, 3, 4, seed=2)
    with pytest.warns(UserWarning, match="dim"):
        out = ops.cross(nnlab.tensor(a), nnlab.tensor(b))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = torch.cross(torch.tensor(a), torch.tensor(b))
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-12)


def test_integer_diag_and_trace_follow_torch_dtypes():
    x = nnlab.arange(9).reshape(3, 3)
    assert ops.trace(x).dtype == np.int64 and ops.trace(x).item() == 12
    assert ops.diag(nnlab.tensor([1, 2])).numpy().tolist() == [[1, 0], [0, 2]]


def test_tensor_methods():
    a, b = nnlab.randn(2, 3), nnlab.randn(3, 4)
    np.testing.assert_allclose(nnlab.zeros(2, 4).addmm(a, b).numpy(), (a @ b).numpy(),
                               rtol=1e-6)
    assert a.kron(b).shape == (6, 12) and b.diagonal().shape == (3,)
    assert b.diag().shape == (3,) and a.diag_embed().shape == (2, 3, 3)
    assert nnlab.randn(4, 3).cross(nnlab.randn(4, 3), dim=1).shape == (4, 3)
    assert a.dist(a).item() == 0 and b.trace().shape == ()


@pytest.mark.parametrize("call, message", [
    (lambda: ops.addmm(nnlab.zeros(3), nnlab.zeros(2, 3), nnlab.zeros(3, 4)), "addmm"),
    (lambda: ops.addmm(nnlab.zeros(2, 4), nnlab.zeros(2), nnlab.zeros(3, 4)), "addmm: mat1"),
    (lambda: ops.baddbmm(nnlab.zeros(1), nnlab.zeros(2, 2, 3), nnlab.zeros(3, 3, 4)),
     "baddbmm: batch sizes"),
    (lambda: ops.tensordot(nnlab.zeros(2, 3), nnlab.zeros(2, 3), 1), "tensordot: contracted"),
    (lambda: ops.tensordot(nnlab.zeros(2, 3), nnlab.zeros(3), 3), "tensordot: dims=3"),
    (lambda: ops.cross(nnlab.zeros(4, 2), nnlab.zeros(4, 2), dim=1), "cross: dimension 1"),
    (lambda: ops.cdist(nnlab.zeros(2, 3), nnlab.zeros(2, 4)), "cdist: expected"),
    (lambda: ops.cdist(nnlab.zeros(2, 3), nnlab.zeros(2, 3), -1), "cdist: p"),
    (lambda: ops.diagonal(nnlab.zeros(3)), "diagonal: expects"),
    (lambda: ops.diagonal(nnlab.zeros(3, 3), 0, 1, 1), "diagonal: dim1 and dim2"),
    (lambda: ops.diag(nnlab.zeros(2, 2, 2)), "diag: expects"),
    (lambda: ops.trace(nnlab.zeros(3)), "trace: expects"),
])
def test_bad_input_is_a_clear_error(call, message):
    with pytest.raises((ValueError, RuntimeError, TypeError), match=message):
        call()
