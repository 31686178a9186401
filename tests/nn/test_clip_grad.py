"""Gradient clipping against torch.nn.utils, and the L1 / L2 weight penalties."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nnlab
from nnlab.nn import Module, Parameter
from nnlab.nn.utils import clip_grad_norm_, clip_grad_value_, l1_penalty, l2_penalty
from tests.helpers import requires_torch, torch

TOL = {np.float32: dict(rtol=1e-5, atol=1e-7), np.float64: dict(rtol=1e-12, atol=1e-14)}
SHAPES = [(3, 4), (4,), (), (2, 1, 3)]


def _grads(dtype, scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    return [np.asarray(scale * rng.standard_normal(s), dtype) for s in SHAPES]


def _params(lib, grads):
    """Parameters with the given gradients; one more without a gradient."""
    if lib is nnlab:
        params = [Parameter(nnlab.tensor(np.zeros_like(g))) for g in grads]
        for p, g in zip(params, grads):
            p.grad = nnlab.tensor(g.copy())
        return params + [Parameter(nnlab.zeros(2))]
    params = [torch.nn.Parameter(torch.tensor(np.zeros_like(g))) for g in grads]
    for p, g in zip(params, grads):
        p.grad = torch.tensor(g.copy())
    return params + [torch.nn.Parameter(torch.zeros(2))]


@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, 0.5, float("inf"), "inf", 0])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(max_norm, norm_type, dtype):
    grads = _grads(dtype)
    ours, theirs = _params(nnlab, grads), _params(torch, grads)
    total = clip_grad_norm_(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert isinstance(total, nnlab.Tensor) and total.shape == ()
    assert total.dtype == dtype
    np.testing.assert_allclose(total.item(), expected.item(), **TOL[dtype])
    for p, t in zip(ours[:-1], theirs):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), **TOL[dtype])
    assert ours[-1].grad is None


@requires_torch
@settings(max_examples=15, deadline=None)
@given(shapes=st.lists(st.lists(st.integers(1, 5), max_size=3), min_size=1, max_size=4),
       max_norm=st.floats(0.01, 10.0), norm_type=st.sampled_from([1.0, 2.0, 3.0, np.inf]),
       seed=st.integers(0, 1000))
def test_clip_grad_norm_random_shapes(shapes, max_norm, norm_type, seed):
    rng = np.random.default_rng(seed)
    grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    ours, theirs = _params(nnlab, grads), _params(torch, grads)
    total = clip_grad_norm_(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    np.testing.assert_allclose(total.item(), expected.item(), **TOL[np.float32])
    for p, t in zip(ours[:-1], theirs):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), **TOL[np.float32])


def test_clip_grad_norm_scales_only_above_max_norm():
    grads = [np.array([3.0, 4.0], np.float32)]
    p = _params(nnlab, grads)[:1]
    assert clip_grad_norm_(p, 10.0).item() == 5.0
    np.testing.assert_array_equal(p[0].grad.numpy(), [3.0, 4.0])
    assert p[0].grad._version == 0
    clip_grad_norm_(p[0], 1.0)
    np.testing.assert_allclose(p[0].grad.numpy(), [0.6, 0.8], rtol=1e-5)
    assert np.linalg.norm(p[0].grad.numpy()) <= 1.0


def test_clip_grad_norm_of_nothing_is_zero():
    total = clip_grad_norm_([Parameter(nnlab.zeros(2))], 1.0)
    assert total.item() == 0.0 and total.dtype == np.float32


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_clip_grad_norm_nonfinite(bad):
    grads = [np.array([1.0, bad], np.float32), np.ones(3, np.float32)]
    with pytest.raises(RuntimeError, match=r"total norm of order 2\.0 .* \(non-finite\)"):
        clip_grad_norm_(_params(nnlab, grads), 1.0, error_if_nonfinite=True)
    params = _params(nnlab, grads)
    total = clip_grad_norm_(params, 1.0)
    assert not np.isfinite(total.item())
    if torch is not None:
        theirs = _params(torch, grads)
        torch.nn.utils.clip_grad_norm_(theirs, 1.0)
        for p, t in zip(params[:-1], theirs):
            np.testing.assert_array_equal(p.grad.numpy(), t.grad.numpy())


@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("clip_value", [0.1, 0.7, 100])
def test_clip_grad_value_matches_torch(clip_value, dtype):
    grads = _grads(dtype)
    ours, theirs = _params(nnlab, grads), _params(torch, grads)
    clip_grad_value_(ours, clip_value)
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    for p, t in zip(ours[:-1], theirs):
        assert p.grad.dtype == dtype
        np.testing.assert_array_equal(p.grad.numpy(), t.grad.numpy())


class _Net(Module):
    def __init__(self):
        super().__init__()
        self.weight = Parameter(nnlab.tensor(np.array([[1.0, -2.0], [0.5, 3.0]])))
        self.bias = Parameter(nnlab.tensor(np.array([-1.5, 0.25])))


@pytest.mark.parametrize("fn,value,grad_w,grad_b", [
    (l1_penalty, 1.0 + 2 + 0.5 + 3 + 1.5 + 0.25, np.sign, np.sign),
    (l2_penalty, 1.0 + 4 + 0.25 + 9 + 2.25 + 0.0625, lambda w: 2 * w, lambda b: 2 * b),
])
@pytest.mark.parametrize("weight", [1.0, 0.01])
def test_penalties(fn, value, grad_w, grad_b, weight):
    net = _Net()
    penalty = fn(net, weight)
    assert penalty.shape == () and penalty.requires_grad
    np.testing.assert_allclose(penalty.item(), weight * value, rtol=1e-12)
    penalty.backward()
    w, b = net.weight.detach().numpy(), net.bias.detach().numpy()
    np.testing.assert_allclose(net.weight.grad.numpy(), weight * grad_w(w), rtol=1e-12)
    np.testing.assert_allclose(net.bias.grad.numpy(), weight * grad_b(b), rtol=1e-12)


@pytest.mark.parametrize("fn", [l1_penalty, l2_penalty])
def test_penalty_weights_only_and_iterables(fn):
    net = _Net()
    only_w = fn(net, weights_only=True)
    np.testing.assert_allclose(only_w.item(), fn([net.weight]).item())
    np.testing.assert_allclose(fn(net).item(), fn(net.weight).item() + fn(net.bias).item())
    assert fn([]).item() == 0.0
    only_w.backward()
    assert net.bias.grad is None


def test_l2_penalty_is_half_weight_decay():
    """SGD on loss + l2_penalty(w, lam / 2) is SGD(weight_decay=lam) on the loss."""
    from nnlab import optim
    a = Parameter(nnlab.tensor(np.array([1.0, -2.0, 3.0])))
    b = Parameter(nnlab.tensor(np.array([1.0, -2.0, 3.0])))
    opt_a = optim.SGD([a], lr=0.1)
    opt_b = optim.SGD([b], lr=0.1, weight_decay=0.2)
    for _ in range(5):
        opt_a.zero_grad()
        opt_b.zero_grad()
        ((a ** 3).sum() + l2_penalty([a], 0.1)).backward()
        (b ** 3).sum().backward()
        opt_a.step()
        opt_b.step()
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)
