"""cumprod (with zeros), logcumsumexp (large values), var_mean and std_mean against torch:
values and gradients in float64 and float32, gradcheck and gradgradcheck in float64."""
import numpy as np
import pytest

import nnlab
from nnlab import ops
from tests.helpers import check_grad, check_op, randn

torch = pytest.importorskip("torch")
X = randn(3, 5, seed=1)
ZEROS = X.copy()
ZEROS[0, 1] = ZEROS[0, 3] = ZEROS[1, 4] = ZEROS[2, 0] = 0.0   # one, two, last, first zero

CASES = {
    "cumprod_0": (lambda x: ops.cumprod(x, 0), lambda x: torch.cumprod(x, 0), (X,)),
    "cumprod_-1": (lambda x: ops.cumprod(x, -1), lambda x: torch.cumprod(x, -1), (X,)),
    "cumprod_zeros": (lambda x: ops.cumprod(x, 1), lambda x: torch.cumprod(x, 1), (ZEROS,)),
    "cumprod_0d": (lambda x: ops.cumprod(x, 0), lambda x: torch.cumprod(x, 0), (randn(),)),
    "logcumsumexp": (lambda x: ops.logcumsumexp(x, 1), lambda x: torch.logcumsumexp(x, 1),
                     (X,)),
    "logcumsumexp_large": (lambda x: ops.logcumsumexp(x, 0),
                           lambda x: torch.logcumsumexp(x, 0), (X * 300,)),
    "var_mean": (lambda x: ops.var_mean(x, 1), lambda x: torch.var_mean(x, 1), (X,)),
    "var_mean_all": (ops.var_mean, torch.var_mean, (X,)),
    "var_mean_correction": (lambda x: ops.var_mean(x, (0, 1), correction=0, keepdim=True),
                            lambda x: torch.var_mean(x, (0, 1), correction=0, keepdim=True),
                            (X,)),
    "std_mean": (lambda x: ops.std_mean(x, 0, keepdim=True),
                 lambda x: torch.std_mean(x, 0, keepdim=True), (X,)),
    "std_mean_unbiased_false": (lambda x: ops.std_mean(x, False),
                                lambda x: torch.std_mean(x, False), (X,)),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", CASES)
def test_matches_torch(name, dtype):
    nn_fn, torch_fn, args = CASES[name]
    check_op(nn_fn, torch_fn, *args, dtype=dtype)


@pytest.mark.parametrize("name", [n for n in CASES if n != "logcumsumexp_large"])
def test_gradcheck(name):
    nn_fn, _, args = CASES[name]
    check_grad(nn_fn, *args)


def test_cumprod_gradient_with_zeros_is_torchs():
    x = nnlab.tensor([2.0, 0.0, 3.0, 0.0, 5.0], dtype=nnlab.float64, requires_grad=True)
    ops.cumprod(x, 0).backward(nnlab.arange(1.0, 6.0, dtype=nnlab.float64))
    assert x.grad.numpy().tolist() == [1.0, 22.0, 0.0, 0.0, 0.0]


def test_cumprod_second_derivative_with_a_zero_matches_torch():
    a = np.array([2.0, 0.0, 3.0, 4.0])
    x = nnlab.tensor(a, requires_grad=True)
    (g,) = nnlab.autograd.grad(ops.cumprod(x, 0).sum(), x, create_graph=True)
    (h,) = nnlab.autograd.grad((g * g).sum(), x)
    t = torch.tensor(a, requires_grad=True)
    (tg,) = torch.autograd.grad(torch.cumprod(t, 0).sum(), t, create_graph=True)
    (th,) = torch.autograd.grad((tg * tg).sum(), t)
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-12)


def test_integer_cumprod_is_int64_and_dtype_argument():
    y = ops.cumprod(nnlab.tensor([1, 2, 3], dtype=nnlab.int32), 0)
    assert y.dtype == np.int64 and y.numpy().tolist() == [1, 2, 6]
    assert ops.cumprod(nnlab.tensor([1, 2]), 0, dtype=nnlab.float64).dtype == np.float64
    assert ops.logcumsumexp(nnlab.tensor([0, 0]), 0).dtype == np.float32


def test_logcumsumexp_of_minus_infinity():
    y = ops.logcumsumexp(nnlab.tensor([-float("inf"), 0.0, -float("inf")]), 0)
    assert y.numpy().tolist() == [-float("inf"), 0.0, 0.0]


def test_tensor_methods():
    x = nnlab.randn(2, 3)
    np.testing.assert_allclose(x.cumprod(1).numpy(), np.cumprod(x.numpy(), 1), rtol=1e-6)
    assert x.logcumsumexp(0).shape == (2, 3)


@pytest.mark.parametrize("call, message", [
    (lambda: ops.cumprod(nnlab.zeros(3), 1), "cumprod: dimension 1"),
    (lambda: ops.cumprod([1, 2], 0), "cumprod: expected a Tensor"),
    (lambda: ops.logcumsumexp(nnlab.zeros(3), None), "logcumsumexp: dim"),
    (lambda: ops.var_mean(nnlab.zeros(3, dtype=nnlab.int64)), "var"),
])
def test_bad_input_is_a_clear_error(call, message):
    with pytest.raises((ValueError, RuntimeError, TypeError, IndexError), match=message):
        call()
