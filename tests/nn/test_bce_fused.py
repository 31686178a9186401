"""The fused binary_cross_entropy_with_logits (nn/functional/bce_fused.py): its log1p from
log against float64, values and gradients against torch for every reduction (float32 and
float64, tiny and huge logits), gradcheck and gradgradcheck, IEEE results for infinite
logits, and which inputs take the fused path. (The twin contract is in
tests/autograd/test_fused.py.)"""
import warnings

import numpy as np
import pytest

import nnlab
import nnlab.nn.functional as F
from nnlab.autograd import gradcheck, gradgradcheck
from nnlab.nn.functional.bce_fused import BCEWithLogits, _log1p_unit

torch = pytest.importorskip("torch")

REDUCTIONS = ("none", "sum", "mean")


def _unit_interval():
    """float32 u in (0, 1]: a log-spaced sweep from subnormals to 1, the floats just above
    0 and below 1 (where fl(1 + u) rounds most), and uniform draws."""
    rng = np.random.default_rng(0)
    ulp = np.float32(2.0 ** -24)
    u = np.concatenate([np.logspace(-45, 0, 200_000), rng.random(200_000),
                        np.arange(1, 20_000) * ulp, 1 - np.arange(0, 20_000) * ulp])
    u = u.astype(np.float32)
    return u[(u > 0) & (u <= 1)]


def test_log1p_from_log_is_within_four_ulps():
    u = _unit_interval()
    got = _log1p_unit(u, u + 1, np).astype(np.float64)
    exact = np.log1p(u.astype(np.float64))
    ulps = np.abs(got - exact) / np.spacing(exact.astype(np.float32)).astype(np.float64)
    assert ulps.max() <= 4.0
    assert ulps.mean() < 0.5
    tiny = u < 2.0 ** -24                          # fl(1 + u) = 1: the result is u itself
    assert tiny.sum() > 1000
    np.testing.assert_array_equal(got[tiny], u[tiny])


def _logits(shape, scale, seed):
    return np.random.default_rng(seed).standard_normal(shape) * scale


def _targets(shape, hard, seed):
    rng = np.random.default_rng(seed)
    return (rng.random(shape) < 0.3).astype(float) if hard else rng.random(shape)


def _both(x, y, reduction, dtype, target_grad):
    """(loss, dx, dy) from nnlab and from torch, for a random upstream gradient."""
    ours_x = nnlab.tensor(x.astype(dtype), requires_grad=True)
    ours_y = nnlab.tensor(y.astype(dtype), requires_grad=target_grad)
    theirs_x = torch.tensor(x.astype(dtype), requires_grad=True)
    theirs_y = torch.tensor(y.astype(dtype), requires_grad=target_grad)
    ours = F.binary_cross_entropy_with_logits(ours_x, ours_y, reduction=reduction)
    theirs = torch.nn.functional.binary_cross_entropy_with_logits(theirs_x, theirs_y,
                                                                  reduction=reduction)
    v = np.random.default_rng(5).standard_normal(tuple(theirs.shape)).astype(dtype)
    ours.backward(nnlab.tensor(v))
    theirs.backward(torch.tensor(v))
    return [(ours.detach().numpy(), theirs.detach().numpy()),
            (ours_x.grad.numpy(), theirs_x.grad.numpy())] + \
        ([(ours_y.grad.numpy(), theirs_y.grad.numpy())] if target_grad else [])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("scale,hard", [(3.0, True), (3.0, False), (30.0, True)])
def test_matches_torch(reduction, dtype, scale, hard):
    x, y = _logits((16, 49), scale, 1), _targets((16, 49), hard, 2)
    tol = dict(rtol=2e-6, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    for k, (a, t) in enumerate(_both(x, y, reduction, dtype, target_grad=not hard)):
        assert a.dtype == t.dtype == dtype
        assert a.shape == t.shape
        np.testing.assert_allclose(a, t, **tol, err_msg=f"output {k}")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(), (5,), (2, 3, 4)])
def test_any_shape_matches_torch(shape, reduction):
    x, y = _logits(shape, 2.0, 10), _targets(shape, False, 11)
    for k, (a, t) in enumerate(_both(x, y, reduction, np.float32, target_grad=True)):
        assert a.shape == t.shape
        np.testing.assert_allclose(a, t, rtol=2e-6, atol=2e-6, err_msg=f"output {k}")


def test_tiny_losses_keep_their_relative_accuracy():
    """Confident right answers (|x| up to 80, y = [x > 0]) have losses down to 1e-35:
    log1p(exp(-|x|)) must keep them, not round them to 0 as log(1 + exp(-|x|)) would, nor
    lose them in x - x for x < 0 (as torch's order does)."""
    x = np.concatenate([np.linspace(-80, -5, 50), np.linspace(5, 80, 50)]).astype(np.float32)
    y = (x > 0).astype(np.float32)
    ours = F.binary_cross_entropy_with_logits(nnlab.tensor(x), nnlab.tensor(y),
                                              reduction="none").numpy()
    exact = np.log1p(np.exp(-np.abs(x.astype(np.float64))))
    assert (ours > 0).all()
    np.testing.assert_allclose(ours, exact, rtol=5e-7, atol=0)


def test_huge_and_infinite_logits_give_torchs_ieee_results_silently():
    x = np.array([1000.0, -1000.0, 0.0, np.inf, -np.inf, np.inf, -np.inf, np.nan], np.float32)
    y = np.array([0.0, 1.0, 0.5, 0.0, 1.0, 1.0, 0.0, 1.0], np.float32)
    ours_x = nnlab.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = F.binary_cross_entropy_with_logits(ours_x, nnlab.tensor(y), reduction="none")
        ours.sum().backward()
    theirs_x = torch.tensor(x, requires_grad=True)
    theirs = torch.nn.functional.binary_cross_entropy_with_logits(
        theirs_x, torch.tensor(y), reduction="none")
    theirs.sum().backward()
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    np.testing.assert_array_equal(ours_x.grad.numpy(), theirs_x.grad.numpy())


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_and_gradgradcheck(reduction):
    x = nnlab.tensor(_logits((3, 4), 2.0, 3), requires_grad=True)
    y = nnlab.tensor(_targets((3, 4), False, 4), requires_grad=True)

    def fn(x, y):
        return F.binary_cross_entropy_with_logits(x, y, reduction=reduction)

    assert gradcheck(fn, (x, y))
    assert gradgradcheck(fn, (x, y))


def test_the_fused_path_is_taken_without_weights_only():
    x = nnlab.tensor(_logits((4, 5), 1.0, 6).astype(np.float32), requires_grad=True)
    y = nnlab.tensor(_targets((4, 5), True, 7).astype(np.float32))
    w = nnlab.tensor(np.full(5, 2.0, np.float32))
    assert isinstance(F.binary_cross_entropy_with_logits(x, y).grad_fn, BCEWithLogits)
    for kwargs in (dict(weight=w), dict(pos_weight=w)):
        loss = F.binary_cross_entropy_with_logits(x, y, **kwargs)
        assert not isinstance(loss.grad_fn, BCEWithLogits)
    empty = F.binary_cross_entropy_with_logits(nnlab.zeros(0, 5), nnlab.zeros(0, 5),
                                               reduction="sum")
    assert float(empty.item()) == 0.0


def test_no_graph_saves_nothing():
    """Without a graph the gradient residual sigmoid(x) - y is not computed or kept."""
    x = nnlab.tensor(_logits((4, 5), 1.0, 8).astype(np.float32))
    y = nnlab.tensor(_targets((4, 5), True, 9).astype(np.float32))
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="sum")
    assert loss.grad_fn is None and loss.dtype == np.float32
    expected = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor(x.numpy()), torch.tensor(y.numpy()), reduction="sum")
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-6)
