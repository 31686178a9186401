"""Module modes and conversions against torch: train / eval, requires_grad_, zero_grad,
apply, and `to` (dtype and device, in place)."""
import numpy as np
import pytest

import nnlab
import nnlab.nn as nn
from tests.helpers import randn
from tests.nn.test_module import N, T


def test_train_eval_recurse_and_return_self():
    m = N["Net"]()
    assert m.eval() is m
    assert [mod.training for mod in m.modules()] == [False] * len(list(m.modules()))
    assert m.train() is m and all(mod.training for mod in m.modules())
    assert m.train(False) is m and not m.blocks[1].norm.training


def test_train_calls_each_childs_own_train():
    class Frozen(nn.Module):
        def train(self, mode=True):
            return super().train(False)

    m = nn.Sequential(nn.Identity(), Frozen())
    m.train()
    assert m.training and m[0].training and not m[1].training


def test_requires_grad_():
    m = N["Block"](2)
    assert m.requires_grad_(False) is m
    assert not any(p.requires_grad for p in m.parameters())


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    m = N["Block"](3)
    m(nnlab.tensor(randn(2, 3))).sum().backward()
    grads = {k: p.grad for k, p in m.named_parameters()}
    m.zero_grad(set_to_none=set_to_none)
    for k, p in m.named_parameters():
        if set_to_none:
            assert p.grad is None
        else:
            assert p.grad is grads[k] and not p.grad._data.any() and not p.grad.requires_grad
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_zero_grad_false_detaches_a_graph_of_the_gradient():
    m = N["Scale"]()
    x = nnlab.tensor(randn(3), requires_grad=True)
    (m(x) ** 2).sum().backward(create_graph=True)
    assert m.w.grad.requires_grad
    m.zero_grad(set_to_none=False)
    assert not m.w.grad.requires_grad and m.w.grad.grad_fn is None
    np.testing.assert_array_equal(m.w.grad.numpy(), 0)


def test_apply_visits_children_first_like_torch():
    seen, tseen = [], []
    assert N["Net"]().apply(lambda m: seen.append(type(m).__name__)) is not None
    T["Net"]().apply(lambda m: tseen.append(type(m).__name__))
    assert seen == tseen


def test_to_dtype_keeps_parameter_identity_and_converts_floating_only():
    m = N["Block"](3)
    m(nnlab.tensor(randn(2, 3))).sum().backward()
    params = {k: p for k, p in m.named_parameters()}
    grads = {k: p.grad for k, p in m.named_parameters()}
    assert m.to(nnlab.float32) is m
    for k, p in m.named_parameters():
        assert p is params[k] and p.dtype == np.float32 and p.requires_grad
        assert p.grad is grads[k] and p.grad.dtype == np.float32
    dtypes = {k: b.dtype for k, b in m.named_buffers()}
    assert dtypes == {"norm.running_mean": np.float32, "norm.num_batches": np.int64,
                      "norm.cache": np.float32}
    y = m(nnlab.tensor(randn(2, 3).astype(np.float32)))
    assert y.dtype == np.float32
    y.sum().backward()
    assert m.double() is m and {p.dtype for p in m.parameters()} == {np.dtype(np.float64)}
    assert m.float() is m and {p.dtype for p in m.parameters()} == {np.dtype(np.float32)}
    m.to("float64")
    assert m.lin.weight.dtype == np.float64
    m.to(nnlab.zeros(1, dtype=nnlab.float32))
    assert m.lin.weight.dtype == np.float32


def test_an_optimiser_made_before_to_keeps_updating_the_parameters():
    from nnlab.optim import SGD

    m = N["Lin"](3, 2).float()
    opt = SGD(m.parameters(), lr=0.5)
    m.double()
    m(nnlab.tensor(np.ones((4, 3)))).sum().backward()
    opt.step()
    assert m.weight.dtype == np.float64
    np.testing.assert_array_equal(m.weight.detach().numpy(), -2.0)
    np.testing.assert_array_equal(m.bias.detach().numpy(), -2.0)


def test_to_same_dtype_and_cpu_change_nothing():
    m = N["Lin"](3, 2)
    data = m.weight._data
    assert m.to(nnlab.float64) is m and m.cpu() is m and m.to("cpu") is m
    assert m.weight._data is data
