"""Dropout: statistics (expected value, fraction of zeros), eval identity, seeded masks,
the gradient mask * 1/(1-p), and Monte-Carlo dropout; the channel-wise Dropout1d / 2d / 3d:
whole channels dropped (as torch's), the same statistics and gradient."""
import re
import warnings

import numpy as np
import pytest

import nnlab
import nnlab.nn.functional as F
from nnlab import nn
from nnlab.nn.dropout import enable_mc_dropout
from nnlab.nn.parameter import Parameter
from tests.helpers import check_grad, randn

N = 1_000_000


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_keeps_expected_value_and_drops_a_fraction_p(p, dtype):
    nnlab.manual_seed(0)
    x = nnlab.tensor(np.abs(randn(N, seed=1)).astype(dtype) + 0.5)
    y = F.dropout(x, p)
    assert y.dtype == np.dtype(dtype) and y.shape == x.shape
    kept = y.numpy() != 0
    # fraction of zeros ~ p: binomial standard error sqrt(p (1 - p) / N), 5 sigma
    assert abs((1 - kept.mean()) - p) < 5 * np.sqrt(p * (1 - p) / N)
    # the kept elements are scaled by 1 / (1 - p) exactly
    np.testing.assert_allclose(y.numpy()[kept], x.numpy()[kept] / (1 - p), rtol=1e-6)
    # E[dropout(x)] = x: the mean of y - x over N elements is 0 within 5 standard errors
    diff = (y.numpy() - x.numpy()).astype(np.float64)
    assert abs(diff.mean()) < 5 * diff.std() / np.sqrt(N)


def test_dropout_of_ones_averages_one():
    nnlab.manual_seed(3)
    y = F.dropout(nnlab.ones(1000, 1000), 0.3)
    assert abs(y.mean().item() - 1) < 5 * np.sqrt(0.3 / 0.7 / 1e6)


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0])
def test_eval_and_p0_are_the_identity(p):
    x = nnlab.randn(4, 5, requires_grad=True)
    assert F.dropout(x, p, training=False) is x
    assert F.dropout(x, 0.0) is x
    m = nn.Dropout(p).eval()
    assert m(x) is x


def test_p1_gives_zeros_and_zero_gradient():
    x = nnlab.randn(3, 4, requires_grad=True)
    y = F.dropout(x, 1.0)
    np.testing.assert_array_equal(y.detach().numpy(), 0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0)
    assert np.isfinite(x.grad.numpy()).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p", [0.2, 0.5])
def test_gradient_is_mask_times_scale(p, dtype):
    x = nnlab.tensor(randn(50, 40, seed=2, low=0.1).astype(dtype), requires_grad=True)
    y = F.dropout(x, p)
    v = randn(50, 40, seed=3).astype(dtype)
    y.backward(nnlab.tensor(v))
    mask = (y.detach().numpy() != 0).astype(dtype) * dtype(1 / (1 - p))
    np.testing.assert_array_equal(x.grad.numpy(), v * mask)
    assert x.grad.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(y.detach().numpy(), x.detach().numpy() * mask)


def test_dropout_gradcheck_with_a_fixed_mask():
    def fn(x):
        nnlab.manual_seed(7)  # the same mask on every evaluation
        return F.dropout(x, 0.3)
    check_grad(fn, randn(4, 5, seed=4))


def test_seeded_masks_are_reproducible():
    x = nnlab.ones(100, 100)
    nnlab.manual_seed(42)
    a = F.dropout(x, 0.5).numpy()
    b = F.dropout(x, 0.5).numpy()
    nnlab.manual_seed(42)
    c = F.dropout(x, 0.5).numpy()
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("p", [-0.1, 1.5, "0.5", True])
def test_invalid_p_is_a_clear_error(p):
    with pytest.raises(ValueError, match=r"between 0 and 1, but got p=" + re.escape(repr(p))):
        F.dropout(nnlab.ones(3), p)
    with pytest.raises(ValueError, match=r"Dropout: dropout probability has to be"):
        nn.Dropout(p)


def test_integer_input_is_an_error():
    with pytest.raises(TypeError, match="dropout: expected a floating point tensor"):
        F.dropout(nnlab.tensor([1, 2, 3]), 0.5)


def test_inplace():
    x = nnlab.ones(10, 10)
    nnlab.manual_seed(0)
    y = F.dropout(x, 0.5, inplace=True)
    assert y is x and x._version == 1
    assert set(np.unique(x.numpy())) == {0.0, 2.0}
    # inside the graph, torch's in-place rule: a leaf that requires grad is refused, a
    # non-leaf takes the dropout node as its history
    w = nnlab.ones(10, 10, requires_grad=True)
    with pytest.raises(RuntimeError, match="dropout_: a leaf tensor that requires grad"):
        nn.Dropout(0.5, inplace=True)(w)
    h = w * 1
    z = nn.Dropout(0.5, inplace=True)(h)
    assert z is h and h._version == 1 and w._version == 0
    z.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), z.detach().numpy())


def test_module_uses_training_flag_and_repr():
    m = nn.Dropout(0.25)
    assert repr(m) == "Dropout(p=0.25, inplace=False)"
    assert list(m.state_dict()) == []
    x = nnlab.ones(200, 200)
    assert (m(x).numpy() == 0).any()
    m.eval()
    assert m(x) is x
    m.train()
    assert (m(x).numpy() == 0).any()


def test_repr_matches_torch():
    torch = pytest.importorskip("torch")
    for args in [(), (0.1,), (0.3, True)]:
        assert repr(nn.Dropout(*args)) == repr(torch.nn.Dropout(*args))


# -- channel-wise dropout: Dropout1d / 2d / 3d ---------------------------------------
# (name, input shape, number of leading dimensions the mask spans): batched (N, C, *) and the
# unbatched (C, *) forms; dropout2d reads a 3D input as (N, C, L), as torch 2.x does
FEATURE_CASES = [("dropout1d", (6, 5, 7), 2), ("dropout1d", (5, 7), 1),
                 ("dropout2d", (6, 5, 3, 4), 2), ("dropout2d", (6, 5, 7), 2),
                 ("dropout3d", (3, 5, 2, 3, 2), 2), ("dropout3d", (5, 2, 3, 2), 1)]


def _channel_mask(y, x, lead, p):
    """The mask of y = x * mask (x nonzero), shape x.shape[:lead] + (1, ...), after checking
    that each channel (the positions after the `lead` dimensions) is kept or dropped whole
    and that the kept ones are scaled by 1 / (1 - p)."""
    kept = (y != 0).reshape(x.shape[:lead] + (-1,))
    assert (kept == kept[..., :1]).all(), "a channel is partly dropped"
    mask = kept[..., :1].reshape(x.shape[:lead] + (1,) * (x.ndim - lead)) * (1 / (1 - p))
    np.testing.assert_allclose(y, x * mask, rtol=1e-6, atol=0)
    return mask


@pytest.mark.parametrize("p", [0.2, 0.5])
@pytest.mark.parametrize("name, shape, lead", FEATURE_CASES, ids=str)
def test_feature_dropout_drops_whole_channels_as_torch(name, shape, lead, p):
    torch = pytest.importorskip("torch")
    x = np.abs(randn(*shape, seed=9)) + 0.5
    nnlab.manual_seed(1)
    y = getattr(F, name)(nnlab.tensor(x), p).numpy()
    torch.manual_seed(1)
    with warnings.catch_warnings():  # torch warns that its 3D dropout2d reading will change
        warnings.simplefilter("ignore")
        yt = getattr(torch.nn.functional, name)(torch.tensor(x), p)
    for out in (y, yt.numpy()):
        _channel_mask(out, x, lead, p)


@pytest.mark.parametrize("name, shape, lead", FEATURE_CASES, ids=str)
def test_feature_dropout_mask_is_dropout_of_ones_with_the_same_seed(name, shape, lead):
    """The mask comes from the generator as F.dropout's does: manual_seed reproduces it."""
    x = nnlab.tensor(randn(*shape, seed=10, low=0.1))
    mask_shape = shape[:lead] + (1,) * (len(shape) - lead)
    nnlab.manual_seed(5)
    expected = x.numpy() * F.dropout(nnlab.ones(*mask_shape, dtype=x.dtype), 0.3).numpy()
    nnlab.manual_seed(5)
    np.testing.assert_array_equal(getattr(F, name)(x, 0.3).numpy(), expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout2d_keeps_expected_value_and_drops_a_fraction_p_of_channels(p, dtype):
    n, c = 2000, 50  # 100,000 channels of 2 x 2
    nnlab.manual_seed(0)
    x = nnlab.tensor(np.abs(randn(n, c, 2, 2, seed=11)).astype(dtype) + 0.5)
    y = F.dropout2d(x, p)
    assert y.dtype == np.dtype(dtype) and y.shape == x.shape
    dropped = (_channel_mask(y.numpy(), x.numpy(), 2, p) == 0).mean()
    # fraction of dropped channels ~ p: binomial standard error sqrt(p (1 - p) / (n c)), 5 sigma
    assert abs(dropped - p) < 5 * np.sqrt(p * (1 - p) / (n * c))
    # E[dropout2d(x)] = x: per-channel sums of y - x average 0 within 5 standard errors
    diff = (y.numpy() - x.numpy()).astype(np.float64).sum((2, 3)).ravel()
    assert abs(diff.mean()) < 5 * diff.std() / np.sqrt(diff.size)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, shape, lead", FEATURE_CASES, ids=str)
def test_feature_dropout_gradient_is_mask_times_scale(name, shape, lead, dtype):
    x = nnlab.tensor(randn(*shape, seed=12, low=0.1).astype(dtype), requires_grad=True)
    y = getattr(F, name)(x, 0.4)
    v = randn(*shape, seed=13).astype(dtype)
    y.backward(nnlab.tensor(v))
    mask = _channel_mask(y.detach().numpy(), x.detach().numpy(), lead, 0.4).astype(dtype)
    np.testing.assert_array_equal(x.grad.numpy(), v * mask)
    assert x.grad.dtype == np.dtype(dtype)


def test_feature_dropout_gradcheck_with_a_fixed_mask():
    def fn(x):
        nnlab.manual_seed(7)  # the same mask on every evaluation
        return F.dropout2d(x, 0.3)
    check_grad(fn, randn(3, 4, 2, 2, seed=14))


@pytest.mark.parametrize("layer", ["Dropout1d", "Dropout2d", "Dropout3d"])
def test_feature_dropout_modules_eval_identity_repr_and_torch_names(layer):
    torch = pytest.importorskip("torch")
    name, shape, _ = next(c for c in FEATURE_CASES if c[0] == layer.lower())
    for args in [(), (0.1,), (0.3, True)]:
        assert repr(getattr(nn, layer)(*args)) == repr(getattr(torch.nn, layer)(*args))
    m = getattr(nn, layer)(0.5)
    assert list(m.state_dict()) == []
    x = nnlab.randn(*shape, requires_grad=True)
    assert not np.array_equal(m(x).detach().numpy(), x.detach().numpy())
    m.eval()
    assert m(x) is x
    assert getattr(F, name)(x, 0.5, training=False) is x and getattr(F, name)(x, 0.0) is x


def test_feature_dropout_p1_and_inplace():
    x = nnlab.randn(2, 3, 4, 4, requires_grad=True)
    y = F.dropout2d(x, 1.0)
    np.testing.assert_array_equal(y.detach().numpy(), 0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0)
    z = nnlab.ones(8, 6, 2, 2)
    nnlab.manual_seed(0)
    assert F.dropout2d(z, 0.5, inplace=True) is z and z._version == 1
    assert set(np.unique(_channel_mask(z.numpy(), np.ones(z.shape), 2, 0.5))) == {0.0, 2.0}
    w = nnlab.ones(8, 6, 2, 2, requires_grad=True)  # a leaf that requires grad: refused
    with pytest.raises(RuntimeError, match="dropout2d_: a leaf tensor that requires grad"):
        nn.Dropout2d(0.5, inplace=True)(w)
    assert w._version == 0


@pytest.mark.parametrize("call, error, match", [
    (lambda: F.dropout1d(nnlab.ones(4), 0.5), RuntimeError,
     r"dropout1d: expected a 2D \(C, L\) or 3D \(N, C, L\) input, got a 1D input of shape "
     r"\(4,\)"),
    (lambda: F.dropout2d(nnlab.ones(2, 3, 4), 1.5), ValueError,
     r"dropout2d: dropout probability has to be between 0 and 1, but got p=1.5"),
    (lambda: nn.Dropout2d(-0.1), ValueError, r"Dropout2d: dropout probability has to be"),
    (lambda: F.dropout2d(nnlab.tensor(np.ones((2, 3, 4), dtype=np.int64))), TypeError,
     r"dropout2d: expected a floating point tensor, got int64"),
])
def test_feature_dropout_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -- Monte-Carlo dropout --------------------------------------------------------------
class _Net(nn.Module):
    """x @ w1 -> BatchNorm1d -> relu -> Dropout -> @ w2: the output is linear in the
    dropout's output, so its Monte-Carlo mean converges to the eval output."""

    def __init__(self):
        super().__init__()
        self.w1 = Parameter(nnlab.tensor(randn(6, 32, seed=5).astype(np.float32)))
        self.bn = nn.BatchNorm1d(32)
        self.drop = nn.Dropout(0.5)
        self.w2 = Parameter(nnlab.tensor(randn(32, 3, seed=6).astype(np.float32)))

    def forward(self, x):
        return self.drop(self.bn(x @ self.w1).relu()) @ self.w2


def test_mc_dropout_keeps_dropout_on_and_the_rest_in_eval():
    nnlab.manual_seed(0)
    net = _Net()
    x = nnlab.tensor(randn(4, 6, seed=7).astype(np.float32))
    net(nnlab.tensor(randn(64, 6, seed=8).astype(np.float32)))  # running stats move
    assert enable_mc_dropout(net) is net
    assert net.drop.training and not net.bn.training and not net.training
    stats = net.bn.running_mean.numpy().copy(), net.bn.num_batches_tracked.item()
    with nnlab.no_grad():
        a, b = net(x).numpy(), net(x).numpy()
        assert not np.array_equal(a, b)  # two MC passes differ
        samples = nnlab.stack([net(x) for _ in range(2000)]).numpy().astype(np.float64)
        np.testing.assert_array_equal(net.bn.running_mean.numpy(), stats[0])
        assert net.bn.num_batches_tracked.item() == stats[1]
        net.eval()
        e1, e2 = net(x).numpy(), net(x).numpy()
    np.testing.assert_array_equal(e1, e2)  # eval is deterministic
    # the MC mean approaches the eval output: within 5 standard errors of the mean
    err = np.abs(samples.mean(0) - e1)
    assert (err < 5 * samples.std(0) / np.sqrt(len(samples)) + 1e-5).all()
    assert (samples.std(0) > 0).all()  # and the spread is an uncertainty estimate


def test_mc_dropout_switches_channel_dropout_on_too():
    net = nn.Sequential(nn.BatchNorm2d(3), nn.Dropout2d(0.5), nn.Dropout(0.1))
    enable_mc_dropout(net)
    assert [m.training for m in net] == [False, True, True]
