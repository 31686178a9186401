"""Fast paths held equal to their slow, obvious twins (fused ops: test_fused.py): grad nodes
twice differentiable, in-place gradient sums, gradients kept without a copy, and matmul
with a transposed leaf."""
import numpy as np
import pytest
from scipy.special import expit

import nnlab
from nnlab.ops.elementwise import SigmoidGrad, TanhGrad
from tests.helpers import check_grad, randn


@pytest.mark.parametrize("node", [TanhGrad, SigmoidGrad])
def test_grad_node_is_twice_differentiable(node):
    check_grad(node.apply, randn(2, 3, seed=4), np.tanh(randn(2, 3, seed=5)))


def test_sigmoid_is_exact_at_extremes():
    x = nnlab.tensor([-1000.0, -30.0, 0.0, 30.0, 1000.0])
    np.testing.assert_allclose(nnlab.sigmoid(x)._data, expit(x._data.astype(float)), rtol=1e-6)


def test_gradient_summed_in_place_is_not_shared_with_another_path():
    # h's gradient is a sum of three (summed in place into one buffer); Add then hands that
    # same buffer on to both a and b: a's further sum must not write into b's gradient.
    a = nnlab.tensor(randn(4, seed=6), requires_grad=True)
    b = nnlab.tensor(randn(4, seed=7), requires_grad=True)
    h = a + b
    loss = (h * 2).sum() + (h * 3).sum() + (h * 5).sum() + (a * 7).sum()
    loss.backward()
    np.testing.assert_allclose(a.grad._data, np.full(4, 17.0))
    np.testing.assert_allclose(b.grad._data, np.full(4, 10.0))


def test_kept_view_gradient_is_not_aliased():
    a = nnlab.tensor(randn(2, 3, seed=8), requires_grad=True)
    b = nnlab.tensor(randn(6, seed=9), requires_grad=True)
    (a.reshape(6) + b).sum().backward()      # a.grad is a reshape of the array b.grad holds
    a.grad._data += 1
    np.testing.assert_allclose(b.grad._data, np.ones(6))
    assert not np.shares_memory(a.grad._data, b.grad._data)


def test_bias_gradient_is_kept_without_a_copy_and_unaliased():
    x = nnlab.tensor(randn(5, 3, seed=10), requires_grad=True)
    bias = nnlab.tensor(randn(3, seed=11), requires_grad=True)
    (x + bias).sum().backward()
    np.testing.assert_allclose(bias.grad._data, np.full(3, 5.0))
    assert bias.grad._data.flags.c_contiguous
    assert not np.shares_memory(bias.grad._data, x.grad._data)


def test_user_gradient_is_copied_not_kept():
    x = nnlab.tensor(randn(3, seed=12), requires_grad=True)
    g = nnlab.ones(3, dtype=nnlab.float64)
    (x * 1).backward(g)
    x.grad._data += 1
    np.testing.assert_allclose(g._data, np.ones(3))


@pytest.mark.parametrize("transpose", [lambda w: w.T, lambda w: w.mT,
                                       lambda w: w.transpose(0, 1), lambda w: w.permute(1, 0)])
def test_matmul_with_a_transposed_leaf_equals_the_copied_transpose(transpose):
    x = nnlab.tensor(randn(4, 3, seed=13), requires_grad=True)
    w = nnlab.tensor(randn(5, 3, seed=14), requires_grad=True)
    v = nnlab.tensor(randn(4, 5, seed=15))
    (x @ transpose(w) * v).sum().backward()
    w_copy = nnlab.tensor(w._data.T.copy(), requires_grad=True)
    x2 = nnlab.tensor(x._data, requires_grad=True)
    (x2 @ w_copy * v).sum().backward()
    np.testing.assert_allclose(x.grad._data, x2.grad._data, rtol=1e-12)
    np.testing.assert_allclose(w.grad._data, w_copy.grad._data.T, rtol=1e-12)
    assert w.grad._data.flags.c_contiguous


def test_scalar_used_three_times_sums_its_gradient():
    s = nnlab.tensor(2.0, requires_grad=True)
    h = s * 1.0                                   # a 0-d non-leaf with three consumers
    (h * 3 + h * 4 + h * 5).backward()
    assert s.grad.item() == 12.0 and s.grad._data.shape == ()
