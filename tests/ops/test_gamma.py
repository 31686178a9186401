"""lgamma, digamma and polygamma against torch (values, gradients) and by float64
finite differences to second order, on positive inputs and negative non-integers."""
import numpy as np
import pytest

import nnlab
from nnlab import ops
from tests.helpers import check_grad, check_op

torch = pytest.importorskip("torch")
POS = np.random.default_rng(1).uniform(0.2, 6.0, (3, 4))
NEG = -np.random.default_rng(2).integers(0, 4, (2, 3)) - np.random.default_rng(3).uniform(
    0.15, 0.85, (2, 3))                                          # at least 0.15 from a pole

CASES = {
    "lgamma": (ops.lgamma, torch.lgamma),
    "digamma": (ops.digamma, torch.digamma),
    "polygamma_1": (lambda x: ops.polygamma(1, x), lambda x: torch.polygamma(1, x)),
    "polygamma_3": (lambda x: ops.polygamma(3, x), lambda x: torch.polygamma(3, x)),
    "method_lgamma": (lambda x: x.lgamma(), lambda x: x.lgamma()),
    "method_polygamma": (lambda x: x.polygamma(2), lambda x: x.polygamma(2)),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x", [POS, NEG], ids=["positive", "negative"])
@pytest.mark.parametrize("name", CASES)
def test_matches_torch(name, x, dtype):
    nn_fn, torch_fn = CASES[name]
    # torch's trigamma (digamma's gradient, polygamma(1)) is good to ~5e-10 relative in
    # float64; scipy's matches mpmath to 1e-15 (see the test below)
    check_op(nn_fn, torch_fn, x, dtype=dtype, rtol=1e-4 if dtype == np.float32 else 1e-8)


def test_trigamma_is_float64_accurate():
    x = nnlab.tensor([0.8], dtype=nnlab.float64)
    np.testing.assert_allclose(ops.polygamma(1, x).numpy(), [2.2994741375017], rtol=1e-13)


@pytest.mark.parametrize("x", [POS, NEG], ids=["positive", "negative"])
@pytest.mark.parametrize("name", ["lgamma", "digamma", "polygamma_1"])
def test_gradcheck_and_gradgradcheck(name, x):
    check_grad(CASES[name][0], x)


def test_third_derivative_of_lgamma_is_polygamma_2():
    x = nnlab.tensor([0.5, 2.5, -1.5], dtype=nnlab.float64, requires_grad=True)
    g1, = nnlab.autograd.grad(ops.lgamma(x).sum(), x, create_graph=True)
    g2, = nnlab.autograd.grad(g1.sum(), x, create_graph=True)
    g3, = nnlab.autograd.grad(g2.sum(), x)
    expected = torch.polygamma(2, torch.tensor([0.5, 2.5, -1.5], dtype=torch.float64))
    np.testing.assert_allclose(g3.numpy(), expected.numpy(), rtol=1e-12)


def test_poles_integers_and_errors():
    x = nnlab.tensor([0.0, -1.0, 1.0, 2.0])
    assert ops.lgamma(x).numpy().tolist() == [np.inf, np.inf, 0.0, 0.0]
    d = ops.digamma(x).numpy()
    td = torch.digamma(torch.tensor([0.0, -1.0, 1.0, 2.0])).numpy()
    np.testing.assert_allclose(d, td, rtol=1e-6)
    assert ops.lgamma(nnlab.tensor([3, 4])).dtype == np.float32
    with pytest.raises(ValueError, match="polygamma: n must be a non-negative integer"):
        ops.polygamma(-1, x)
    with pytest.raises(ValueError, match="polygamma"):
        ops.polygamma(1.5, x)
    with pytest.raises(TypeError, match="lgamma: expected a Tensor"):
        ops.lgamma(2.0)
    assert nnlab.lgamma is ops.lgamma and nnlab.polygamma is ops.polygamma
