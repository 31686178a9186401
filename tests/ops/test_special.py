"""erfinv, clamp / clip with tensor bounds, softmax / log_softmax at the ops floor, and
isclose / allclose / equal against torch (values, gradients, gradcheck, errors)."""
import numpy as np
import pytest

import nnlab
from nnlab import ops
from tests.helpers import check_grad, check_op, randn

torch = pytest.importorskip("torch")
U = np.tanh(randn(3, 4, seed=1)) * 0.95           # inside (-1, 1)
X = randn(3, 4, seed=2)
LO, HI = randn(4, seed=3) - 0.5, randn(3, 1, seed=4) + 0.5

CASES = {
    "erfinv": (ops.erfinv, torch.erfinv, (U,)),
    "clamp_tensors": (ops.clamp, torch.clamp, (X, LO, HI)),
    "clamp_min_tensor": (lambda x, lo: ops.clamp(x, lo), lambda x, lo: torch.clamp(x, lo), (X, LO)),
    "clamp_max_tensor": (lambda x, hi: ops.clamp(x, max=hi),
                         lambda x, hi: torch.clamp(x, max=hi), (X, HI)),
    "clamp_crossed_bounds": (ops.clamp, torch.clamp, (X, LO + 1, LO)),
    "clip_tensors": (ops.clip, torch.clip, (X, LO, HI)),
    "softmax": (lambda x: ops.softmax(x, 1), lambda x: torch.softmax(x, 1), (X,)),
    "softmax_0": (lambda x: ops.softmax(x, 0), lambda x: torch.softmax(x, 0), (X * 100,)),
    "log_softmax": (lambda x: ops.log_softmax(x, -1), lambda x: torch.log_softmax(x, -1), (X,)),
    "log_softmax_large": (lambda x: ops.log_softmax(x, 0), lambda x: torch.log_softmax(x, 0),
                          (X * 1000,)),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", CASES)
def test_matches_torch(name, dtype):
    nn_fn, torch_fn, args = CASES[name]
    check_op(nn_fn, torch_fn, *args, dtype=dtype)


@pytest.mark.parametrize("name", [n for n in CASES if not n.endswith("large")])
def test_gradcheck(name):
    nn_fn, _, args = CASES[name]
    check_grad(nn_fn, *args)


def test_erfinv_inverts_erf_to_float64_accuracy_and_its_ends():
    x = nnlab.tensor(np.linspace(-0.999999, 0.999999, 101))
    np.testing.assert_allclose(ops.erf(ops.erfinv(x)).numpy(), x.numpy(), rtol=0, atol=1e-15)
    y = ops.erfinv(nnlab.tensor([-1.0, 1.0, 2.0, 0.0]))
    assert y.dtype == np.float32 and y.numpy()[:2].tolist() == [-np.inf, np.inf]
    assert np.isnan(y.numpy()[2]) and y.numpy()[3] == 0
    assert ops.erfinv(nnlab.tensor([0, 0])).dtype == np.float32


def test_clamp_gradient_at_the_bounds_is_torchs():
    x = nnlab.tensor([0.0, 1.0, 2.0, 3.0], requires_grad=True)
    lo = nnlab.tensor([1.0] * 4, requires_grad=True)
    hi = nnlab.tensor([2.0, 2.0, 2.0, 2.5], requires_grad=True)
    ops.clamp(x, lo, hi).sum().backward()
    assert x.grad.numpy().tolist() == [0, 1, 1, 0]
    assert lo.grad.numpy().tolist() == [1, 0, 0, 0]
    assert hi.grad.numpy().tolist() == [0, 0, 0, 1]


def test_clamp_dtypes_and_methods():
    y = ops.clamp(nnlab.tensor([1, 5]), nnlab.tensor([2.5, 2.5]))
    assert y.dtype == np.float32 and y.numpy().tolist() == [2.5, 5.0]
    x = nnlab.tensor([0.0, 3.0])
    assert x.clamp(nnlab.tensor(1.0), 2.0).numpy().tolist() == [1.0, 2.0]
    assert x.clip(max=nnlab.tensor([1.0, 4.0])).numpy().tolist() == [0.0, 3.0]
    assert ops.clamp(x, 1.0, 2.0).numpy().tolist() == [1.0, 2.0]    # numbers: as before


def test_softmax_dtype_and_methods():
    x = nnlab.tensor([[1.0, 2.0, 3.0]])
    assert ops.softmax(x, 1, dtype=nnlab.float64).dtype == np.float64
    assert ops.softmax(nnlab.tensor([1, 2]), 0).dtype == np.float32
    np.testing.assert_allclose(x.softmax(1).numpy(), torch.softmax(torch.tensor(x.numpy()), 1),
                               rtol=1e-6)
    np.testing.assert_allclose(x.log_softmax(-1).numpy(),
                               torch.log_softmax(torch.tensor(x.numpy()), -1), rtol=1e-6)


@pytest.mark.parametrize("a, b, kwargs", [
    ([1.0, 2.0, np.inf, -np.inf, np.nan, 1e-9], [1.0 + 1e-6, 2.1, np.inf, np.inf, np.nan, 0.0], {}),
    ([1.0, np.nan], [1.0, np.nan], {"equal_nan": True}),
    ([1.0, 2.0], [1.05, 2.5], {"rtol": 0.1, "atol": 0.0}),
    ([1.0, 2.0], [1.5, 2.0], {"rtol": 0.0, "atol": 0.5}),
    ([1, 2, 3], [1, 3, 3], {}),
    ([1, 10], [2, 12], {"rtol": 0.2, "atol": 0}),
])
def test_isclose_and_allclose_match_torch(a, b, kwargs):
    na, nb = nnlab.tensor(a), nnlab.tensor(b)
    ta, tb = torch.tensor(a), torch.tensor(b)
    out = ops.isclose(na, nb, **kwargs)
    assert out.dtype == np.bool_
    assert out.numpy().tolist() == torch.isclose(ta, tb, **kwargs).tolist()
    assert ops.allclose(na, nb, **kwargs) is torch.allclose(ta, tb, **kwargs)
    assert na.isclose(nb, **kwargs).numpy().tolist() == out.numpy().tolist()


def test_equal():
    a = nnlab.tensor([1.0, 2.0])
    assert ops.equal(a, nnlab.tensor([1.0, 2.0])) is True
    assert ops.equal(a, nnlab.tensor([1.0, 3.0])) is False
    assert ops.equal(a, nnlab.tensor([[1.0, 2.0]])) is False
    assert a.equal(a) and a.allclose(a + 1e-9)


@pytest.mark.parametrize("call, message", [
    (lambda: ops.erfinv([0.5]), "erfinv: expected a Tensor"),
    (lambda: ops.clamp(nnlab.zeros(3)), "clamp: at least one"),
    (lambda: ops.clamp(nnlab.zeros(3), nnlab.zeros(2)), "clamp: shapes"),
    (lambda: ops.softmax(nnlab.zeros(3), 1), "softmax: dim 1"),
    (lambda: ops.isclose(nnlab.zeros(2), nnlab.zeros(2, dtype=nnlab.float64)), "isclose"),
    (lambda: ops.isclose(nnlab.zeros(2), nnlab.zeros(2), rtol=-1), "isclose: rtol"),
    (lambda: ops.equal(nnlab.zeros(2), [0, 0]), "equal: expected two Tensors"),
])
def test_bad_input_is_a_clear_error(call, message):
    with pytest.raises((ValueError, RuntimeError, TypeError, IndexError), match=message):
        call()
