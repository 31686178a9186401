"""BatchNorm1d / 2d / 3d, GroupNorm, LayerNorm, RMSNorm against torch (modules through
state_dict, functional forms through check_op), gradient checks, and the fused Normalize
held equal to its composed twins."""
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nnlab
import nnlab.nn.functional as F
from nnlab import nn
from nnlab.autograd import grad as nn_grad
from nnlab.nn.functional.normalization import (
    batch_norm_composed,
    group_norm_composed,
    layer_norm_composed,
)
from tests.helpers import TOLERANCES, check_grad, check_op, randn

torch = pytest.importorskip("torch")
TF = torch.nn.functional
DTYPES = [np.float64, np.float32]
# dx = rstd (g - mean(g) - xhat mean(g xhat)) cancels terms of size ~1 down to ~1e-3: in
# float32 both libraries land ~1e-6 from the float64 value, so compare dx to 5e-6
DX_ATOL = {np.float64: None, np.float32: 5e-6}


def _tol(dtype, atol=None):
    tol = dict(TOLERANCES[np.dtype(dtype).type])
    if atol is not None:
        tol["atol"] = atol
    return tol


def _close(a, b, dtype, what="", atol=None):
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    np.testing.assert_allclose(a, b, **_tol(dtype, atol), err_msg=what)


def _twins(nn_module, torch_module, dtype):
    """The two modules in `dtype`, the torch one's random weights copied into nnlab's."""
    torch_module = torch_module.to(getattr(torch, np.dtype(dtype).name))
    with torch.no_grad():
        for i, p in enumerate(torch_module.parameters()):
            p.copy_(torch.randn(p.shape, generator=torch.Generator().manual_seed(i)))
    nn_module.to(dtype)
    nn_module.load_state_dict(torch_module.state_dict())
    return nn_module, torch_module


def _step(nn_module, torch_module, x, dtype, seed=0):
    """One forward and backward of both on `x`; outputs and every gradient compared."""
    xn = nnlab.tensor(x.astype(dtype), requires_grad=True)
    xt = torch.tensor(x.astype(dtype), requires_grad=True)
    y, yt = nn_module(xn), torch_module(xt)
    assert y.dtype == np.dtype(dtype)
    _close(y, yt, dtype, "output")
    v = np.random.default_rng(seed).standard_normal(y.shape).astype(dtype)
    (y * nnlab.tensor(v)).sum().backward()
    (yt * torch.tensor(v)).sum().backward()
    _close(xn.grad, xt.grad, dtype, "input gradient", DX_ATOL[np.dtype(dtype).type])
    tparams = dict(torch_module.named_parameters())
    for name, p in nn_module.named_parameters():
        _close(p.grad, tparams[name].grad, dtype, f"gradient of {name}")
        p.grad, tparams[name].grad = None, None


def _same_state(nn_module, torch_module, dtype):
    ours, theirs = nn_module.state_dict(), torch_module.state_dict()
    assert list(ours) == list(theirs)
    for k in theirs:
        _close(ours[k], theirs[k], dtype, k)
        assert ours[k].dtype == np.dtype(str(theirs[k].dtype).replace("torch.", ""))


# -- BatchNorm1d / 2d / 3d ------------------------------------------------------------
BN_CASES = [("BatchNorm1d", (16, 4)), ("BatchNorm1d", (6, 4, 5)), ("BatchNorm2d", (4, 4, 3, 2)),
            ("BatchNorm3d", (2, 4, 2, 3, 2))]
BN_OPTIONS = [dict(), dict(affine=False), dict(track_running_stats=False),
              dict(momentum=None), dict(momentum=0.3, eps=1e-3), dict(bias=False),
              dict(affine=False, track_running_stats=False)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", BN_OPTIONS, ids=str)
@pytest.mark.parametrize("layer, shape", BN_CASES, ids=str)
def test_batchnorm_matches_torch_over_training_steps_and_eval(layer, shape, options, dtype):
    m, tm = _twins(getattr(nn, layer)(4, **options), getattr(torch.nn, layer)(4, **options),
                   dtype)
    _same_state(m, tm, dtype)
    for step in range(4):
        x = randn(*shape, seed=step) * (step + 1) + step
        _step(m, tm, x, dtype, seed=step)
        _same_state(m, tm, dtype)  # running stats and num_batches_tracked after each step
    m.eval()
    tm.eval()
    for step in range(2):
        _step(m, tm, randn(*shape, seed=10 + step), dtype, seed=step)
    _same_state(m, tm, dtype)


@pytest.mark.parametrize("options", BN_OPTIONS, ids=str)
@pytest.mark.parametrize("layer, shape", [("BatchNorm1d", (5, 3)), ("BatchNorm2d", (2, 3, 2, 2)),
                                          ("BatchNorm3d", (2, 3, 1, 2, 2))], ids=str)
def test_batchnorm_state_dict_keys_repr_and_load_from_torch(layer, shape, options):
    tm = getattr(torch.nn, layer)(3, **options).double()
    for _ in range(3):  # non-trivial running statistics
        tm(torch.randn(shape, dtype=torch.float64) * 2 + 1)
    m = getattr(nn, layer)(3, **options).double()
    assert list(m.state_dict()) == list(tm.state_dict())
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in tm.named_parameters()]
    assert repr(m) == repr(tm)
    m.load_state_dict(tm.state_dict())
    _same_state(m, tm, np.float64)
    m.eval()
    tm.eval()
    x = randn(*shape, seed=3)
    _close(m(nnlab.tensor(x)), tm(torch.tensor(x)), np.float64)


def test_batchnorm1d_buffers_and_defaults():
    m = nn.BatchNorm1d(3)
    assert m.num_batches_tracked.dtype == np.int64 and m.num_batches_tracked.shape == ()
    assert m.weight.dtype == np.float32 and m.running_var.dtype == np.float32
    assert [n for n, _ in m.named_buffers()] == ["running_mean", "running_var",
                                                 "num_batches_tracked"]
    version = m.running_mean._version
    m(nnlab.randn(4, 3))
    assert m.running_mean._version > version and m.num_batches_tracked.item() == 1
    assert not m.running_mean.requires_grad and m.running_mean.grad_fn is None
    m.reset_parameters()
    assert m.num_batches_tracked.item() == 0
    np.testing.assert_array_equal(m.running_mean.numpy(), 0)
    np.testing.assert_array_equal(m.running_var.numpy(), 1)


def test_batchnorm1d_eval_without_running_stats_uses_batch_stats():
    m, tm = _twins(nn.BatchNorm1d(4, track_running_stats=False),
                   torch.nn.BatchNorm1d(4, track_running_stats=False), np.float64)
    m.eval()
    tm.eval()
    _step(m, tm, randn(7, 4, seed=2) + 3, np.float64)


@pytest.mark.parametrize("layer, shape, match, error", [
    ("BatchNorm1d", (8, 5), r"BatchNorm1d\(num_features=4\): input has 5 channels in "
                            r"dimension 1 \(shape \(8, 5\)\), expected 4", RuntimeError),
    ("BatchNorm1d", (1, 4), r"BatchNorm1d\(num_features=4\): Expected more than 1 value per "
                            r"channel when training, got input of shape \(1, 4\)", ValueError),
    ("BatchNorm1d", (1, 4, 1), r"more than 1 value per channel", ValueError),
    ("BatchNorm1d", (2, 4, 3, 3), r"BatchNorm1d\(num_features=4\): expected 2D or 3D input "
                                  r"\(got 4D input of shape \(2, 4, 3, 3\)\)", ValueError),
    ("BatchNorm1d", (4,), r"expected 2D or 3D input \(got 1D", ValueError),
    ("BatchNorm2d", (2, 4, 3), r"BatchNorm2d\(num_features=4\): expected 4D input \(got 3D "
                               r"input of shape \(2, 4, 3\)\)", ValueError),
    ("BatchNorm2d", (2, 3, 2, 2), r"BatchNorm2d\(num_features=4\): input has 3 channels in "
                                  r"dimension 1 \(shape \(2, 3, 2, 2\)\), expected 4",
     RuntimeError),
    ("BatchNorm2d", (1, 4, 1, 1), r"BatchNorm2d\(num_features=4\): Expected more than 1 value",
     ValueError),
    ("BatchNorm3d", (2, 4, 3, 3), r"BatchNorm3d\(num_features=4\): expected 5D input \(got 4D",
     ValueError),
])
def test_batchnorm_errors(layer, shape, match, error):
    with pytest.raises(error, match=match):
        getattr(nn, layer)(4)(nnlab.randn(*shape))


@pytest.mark.parametrize("layer, shape", [("BatchNorm1d", (1, 4)), ("BatchNorm2d", (1, 4, 1, 1))])
def test_batchnorm_one_value_per_channel_is_fine_in_eval(layer, shape):
    assert getattr(nn, layer)(4).eval()(nnlab.randn(*shape)).shape == shape


def _bn_functional(fn, lib, training, momentum=0.1, eps=1e-5, affine=True):
    """batch_norm(x, rm, rv, w, b) with fresh running stats of `lib`, which it returns."""
    stats = {}

    def f(x, w, b):
        c = x.shape[1]
        rm = lib.zeros(c, dtype=x.dtype) + 0.5
        rv = lib.ones(c, dtype=x.dtype) * 2
        stats["mean"], stats["var"] = rm, rv
        return fn(x, rm, rv, w if affine else None, b if affine else None, training,
                  momentum, eps)
    return f, stats


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (2, 3, 2, 2), (2, 3, 2, 1, 2)], ids=str)
def test_batch_norm_functional_matches_torch(shape, training, dtype):
    x, w, b = randn(*shape, seed=1) * 3 + 1, randn(3, seed=2), randn(3, seed=3)
    for fn in (F.batch_norm, batch_norm_composed):
        f, stats = _bn_functional(fn, nnlab, training, momentum=0.2)
        tf, tstats = _bn_functional(TF.batch_norm, torch, training, momentum=0.2)
        check_op(f, tf, x, w, b, dtype=dtype)
        _close(stats["mean"], tstats["mean"], dtype, "running_mean")
        _close(stats["var"], tstats["var"], dtype, "running_var")


def test_batch_norm_functional_without_running_stats_and_errors():
    x = randn(6, 3, seed=4)
    check_op(lambda x: F.batch_norm(x, None, None, training=True),
             lambda x: TF.batch_norm(x, None, None, training=True), x)
    with pytest.raises(RuntimeError, match="training=False .* running_mean"):
        F.batch_norm(nnlab.tensor(x), None, None)
    with pytest.raises(ValueError, match="momentum=None"):
        F.batch_norm(nnlab.tensor(x), nnlab.zeros(3), nnlab.ones(3), training=True,
                     momentum=None)
    with pytest.raises(RuntimeError, match=r"running_mean has shape \(4,\).*3 channels"):
        F.batch_norm(nnlab.tensor(x), nnlab.zeros(4), nnlab.ones(4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(nnlab.randn(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match=r"batch_norm: expected an input of shape \(N, C, \*\)"
                                         r": \(N, C\), \(N, C, L\), \(N, C, H, W\), \.\.\., "
                                         r"got shape \(3,\)"):
        F.batch_norm(nnlab.randn(3), None, None, training=True)
    with pytest.raises(RuntimeError, match=r"weight has shape \(2,\), but the input \(shape "
                                           r"\(2, 3, 4, 4\)\) has 3 channels in dimension 1"):
        F.batch_norm(nnlab.randn(2, 3, 4, 4), None, None, nnlab.ones(2), training=True)


# -- GroupNorm -----------------------------------------------------------------------
# (num_groups, input shape): C = 6 in groups of 6, 3, 1 (groups 1, 2, C), 1d / 3d inputs, and
# (N, C) with no positions, in groups of 6 values (a group of 2 or 3 random values is often
# nearly constant: rstd large, and float32 differs from torch by rounding alone)
GN_CASES = [(1, (3, 6, 4, 5)), (2, (3, 6, 4, 5)), (6, (3, 6, 4, 5)), (3, (2, 6, 7)),
            (2, (2, 6, 2, 3, 2)), (1, (4, 6))]
GN_OPTIONS = [dict(), dict(affine=False), dict(bias=False), dict(eps=1e-2)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", GN_OPTIONS, ids=str)
@pytest.mark.parametrize("groups, shape", GN_CASES, ids=str)
def test_groupnorm_matches_torch(groups, shape, options, dtype):
    m, tm = _twins(nn.GroupNorm(groups, 6, **options), torch.nn.GroupNorm(groups, 6, **options),
                   dtype)
    assert repr(m) == repr(tm)
    assert list(m.state_dict()) == list(tm.state_dict())
    _step(m, tm, randn(*shape, seed=19) * 3 + 1, dtype)
    m.eval()
    tm.eval()
    _step(m, tm, randn(*shape, seed=20), dtype)  # the same in eval: no running statistics


def _gn_args(shape):
    c = shape[1]
    return randn(*shape, seed=21) * 2 - 0.5, randn(c, seed=22), randn(c, seed=23)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("affine", ["both", "weight", "none"])
@pytest.mark.parametrize("groups, shape", GN_CASES[:4], ids=str)
def test_group_norm_functional_matches_torch(groups, shape, affine, dtype):
    x, w, b = _gn_args(shape)
    wb = dict(both=(w, b), weight=(w, None), none=(None, None))[affine]
    for fn in (F.group_norm, group_norm_composed):
        check_op(lambda x, w, b, fn=fn: fn(x, groups, w, b, 1e-3),
                 lambda x, w, b: TF.group_norm(x, groups, w, b, 1e-3), x, *wb, dtype=dtype)


@pytest.mark.parametrize("groups, shape", [(1, (2, 4, 3)), (2, (2, 4, 2, 2)), (4, (3, 4))],
                         ids=str)
def test_group_norm_gradcheck(groups, shape):
    x, w, b = _gn_args(shape)
    for fn in (group_norm_composed, F.group_norm):  # the fused one through create_graph
        check_grad(lambda x, w, b, fn=fn: fn(x, groups, w, b), x, w, b)
    check_grad(lambda x: F.group_norm(x, groups), x)


def test_groupnorm_defaults_and_reset():
    m = nn.GroupNorm(2, 4)
    assert (m.num_groups, m.num_channels, m.eps, m.affine) == (2, 4, 1e-5, True)
    assert m.weight.dtype == np.float32 and [n for n, _ in m.named_buffers()] == []
    with nnlab.no_grad():
        m.weight.fill_(3)
    m.reset_parameters()
    np.testing.assert_array_equal(m.weight.detach().numpy(), 1)
    np.testing.assert_array_equal(m.bias.detach().numpy(), 0)
    assert nn.GroupNorm(2, 4, affine=False).weight is None


@pytest.mark.parametrize("make, shape, error, match", [
    (lambda: nn.GroupNorm(2, 5), None, ValueError,
     r"GroupNorm: num_channels \(5\) must be divisible by num_groups \(2\)"),
    (lambda: nn.GroupNorm(2, 4), (2, 6, 3), RuntimeError,
     r"GroupNorm\(num_groups=2, num_channels=4\): input has 6 channels in dimension 1 "
     r"\(shape \(2, 6, 3\)\), expected 4"),
    (lambda: nn.GroupNorm(2, 4), (4,), RuntimeError,
     r"GroupNorm\(num_groups=2, num_channels=4\): expected an input of shape \(N, C, \*\) "
     r"with at least 2 dimensions, got shape \(4,\)"),
    (lambda: nn.GroupNorm(4, 4), (1, 4, 1, 1), ValueError,
     r"group_norm: Expected more than 1 value per channel when training, got input of shape "
     r"\(1, 4, 1, 1\)"),
    (lambda: lambda x: F.group_norm(x, 2), (2, 5, 3), RuntimeError,
     r"group_norm: the 5 channels of the input \(shape \(2, 5, 3\)\) must be divisible by "
     r"num_groups=2"),
    (lambda: lambda x: F.group_norm(x, 2, nnlab.ones(3)), (2, 4, 3), RuntimeError,
     r"group_norm: weight has shape \(3,\), but the input \(shape \(2, 4, 3\)\) has 4 "
     r"channels in dimension 1"),
    (lambda: lambda x: F.group_norm(x, 2, None, nnlab.ones(2, 2)), (2, 4, 3), RuntimeError,
     r"group_norm: bias has shape \(2, 2\)"),
    (lambda: lambda x: F.group_norm(x.long(), 2), (2, 4), TypeError,
     r"group_norm: expected a floating point input, got int64"),
])
def test_group_norm_errors(make, shape, error, match):
    with pytest.raises(error, match=match):
        make()(nnlab.randn(*shape))


# -- LayerNorm and RMSNorm ------------------------------------------------------------
LN_CASES = [((4, 5), 5), ((2, 3, 4), [4]), ((2, 3, 4), (3, 4)), ((6,), (6,)),
            ((2, 1, 3), 3), ((3, 2, 2, 2), (2, 2, 2))]
LN_OPTIONS = [dict(), dict(elementwise_affine=False), dict(bias=False), dict(eps=1e-2)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", LN_OPTIONS, ids=str)
@pytest.mark.parametrize("shape, normalized_shape", LN_CASES, ids=str)
def test_layernorm_matches_torch(shape, normalized_shape, options, dtype):
    m, tm = _twins(nn.LayerNorm(normalized_shape, **options),
                   torch.nn.LayerNorm(normalized_shape, **options), dtype)
    assert repr(m) == repr(tm)
    assert list(m.state_dict()) == list(tm.state_dict())
    _step(m, tm, randn(*shape, seed=5) * 2 + 1, dtype)
    m.eval()
    tm.eval()
    _step(m, tm, randn(*shape, seed=6), dtype)


RMS_OPTIONS = [dict(), dict(eps=1e-6), dict(elementwise_affine=False)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", RMS_OPTIONS, ids=str)
@pytest.mark.parametrize("shape, normalized_shape", LN_CASES, ids=str)
def test_rmsnorm_matches_torch(shape, normalized_shape, options, dtype):
    m, tm = _twins(nn.RMSNorm(normalized_shape, **options),
                   torch.nn.RMSNorm(normalized_shape, **options), dtype)
    assert repr(m) == repr(tm)
    assert list(m.state_dict()) == list(tm.state_dict())
    _step(m, tm, randn(*shape, seed=7) * 2 + 1, dtype)


def _norm_args(shape, k):
    ns = shape[len(shape) - k:]
    return ns, randn(*shape, seed=8) * 2 + 0.5, randn(*ns, seed=9), randn(*ns, seed=10)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("affine", ["both", "weight", "none"])
@pytest.mark.parametrize("shape, k", [((3, 5), 1), ((2, 3, 4), 2), ((4,), 1)], ids=str)
def test_layer_norm_and_rms_norm_functional_match_torch(shape, k, affine, dtype):
    ns, x, w, b = _norm_args(shape, k)
    wb = dict(both=(w, b), weight=(w, None), none=(None, None))[affine]
    for fn in (F.layer_norm, layer_norm_composed):
        check_op(lambda x, w, b, fn=fn: fn(x, ns, w, b), lambda x, w, b: TF.layer_norm(x, ns, w, b),
                 x, *wb, dtype=dtype)
    check_op(lambda x, w: F.rms_norm(x, ns, w), lambda x, w: TF.rms_norm(x, ns, w),
             x, wb[0], dtype=dtype)
    check_op(lambda x, w: F.rms_norm(x, list(ns), w, 1e-3),
             lambda x, w: TF.rms_norm(x, list(ns), w, 1e-3), x, wb[0], dtype=dtype)


@pytest.mark.parametrize("shape, k", [((3, 4), 1), ((2, 2, 3), 2)], ids=str)
def test_norm_gradcheck(shape, k):
    ns, x, w, b = _norm_args(shape, k)
    check_grad(lambda x, w, b: layer_norm_composed(x, ns, w, b), x, w, b)
    check_grad(lambda x, w, b: F.layer_norm(x, ns, w, b), x, w, b)  # fused, create_graph
    check_grad(lambda x: F.layer_norm(x, ns), x)
    check_grad(lambda x, w: F.rms_norm(x, ns, w, 1e-6), x, w)


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2), (2, 3, 2, 2)], ids=str)
def test_batch_norm_gradcheck(shape):
    x, w, b = randn(*shape, seed=11) + 1, randn(3, seed=12), randn(3, seed=13)
    rm, rv = randn(3, seed=14), np.abs(randn(3, seed=15)) + 0.5
    for fn in (batch_norm_composed, F.batch_norm):
        check_grad(lambda x, w, b, fn=fn: fn(x, None, None, w, b, True), x, w, b)
        check_grad(lambda x, w, b, fn=fn: fn(x, nnlab.tensor(rm), nnlab.tensor(rv), w, b),
                   x, w, b)


@pytest.mark.parametrize("shape, ns, match", [
    ((4, 6), (5,), r"normalized_shape=\(5,\) expects an input of shape \(\*, 5\), got .*6\)"),
    ((5,), (3, 5), r"normalized_shape=\(3, 5\).*got an input of shape \(5,\)"),
])
def test_layer_norm_shape_errors(shape, ns, match):
    with pytest.raises(RuntimeError, match=match):
        F.layer_norm(nnlab.randn(*shape), ns)
    with pytest.raises(RuntimeError, match=re.escape(f"LayerNorm(normalized_shape={ns})")):
        nn.LayerNorm(ns)(nnlab.randn(*shape))
    with pytest.raises(RuntimeError, match="RMSNorm"):
        nn.RMSNorm(ns)(nnlab.randn(*shape))
    with pytest.raises(TypeError, match="rms_norm: expected a floating point input"):
        F.rms_norm(nnlab.tensor([[1, 2]]), 2)
    with pytest.raises(TypeError, match="batch_norm: expected a floating point input"):
        F.batch_norm(nnlab.tensor([[1, 2]]), None, None, training=True)
    with pytest.raises(RuntimeError, match=r"weight has shape \(2,\)"):
        F.layer_norm(nnlab.randn(4, 5), 5, nnlab.ones(2))


# -- the fused path against its composed twin -----------------------------------------
def _fused_vs_composed(fused, composed, args, dtype, second_order):
    """Values, first gradients (and, in float64, second gradients) of the two equal."""
    tol = _tol(dtype)
    outs, grads = [], []
    for fn in (fused, composed):
        xs = [nnlab.tensor(a.astype(dtype), requires_grad=True) if a is not None else None
              for a in args]
        y = fn(*xs)
        v = nnlab.tensor(np.random.default_rng(0).standard_normal(y.shape).astype(dtype))
        live = [t for t in xs if t is not None]
        g = nn_grad((y * v).sum(), live, create_graph=second_order)
        gg = nn_grad(sum((gi * gi).sum() for gi in g), live, allow_unused=True) \
            if second_order else []
        outs.append(y)
        grads.append([np.zeros(t.shape) if gi is None else gi.detach().numpy()
                      for t, gi in zip(live * 2, list(g) + list(gg))])
    assert outs[0].dtype == outs[1].dtype == np.dtype(dtype)
    np.testing.assert_allclose(outs[0].detach().numpy(), outs[1].detach().numpy(), **tol)
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, **tol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
@pytest.mark.parametrize("shape, k", [((8, 16), 1), ((2, 3, 4), 2), ((5,), 1)], ids=str)
def test_fused_layer_norm_equals_composed(shape, k, affine, dtype):
    ns, x, w, b = _norm_args(shape, k)
    w = w if affine in ("both", "weight") else None
    b = b if affine in ("both", "bias") else None
    _fused_vs_composed(lambda x, w=None, b=None: F.layer_norm(x, ns, w, b),
                       lambda x, w=None, b=None: layer_norm_composed(x, ns, w, b),
                       [x, w, b] if w is not None else [x, None, b] if b is not None else [x],
                       dtype, second_order=dtype == np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(16, 4), (3, 4, 5), (2, 4, 3, 2)], ids=str)
def test_fused_batch_norm_equals_composed(shape, dtype):
    x, w, b = randn(*shape, seed=16) * 2 - 1, randn(4, seed=17), randn(4, seed=18)
    stats = []
    for fn in (F.batch_norm, batch_norm_composed):
        rm, rv = nnlab.zeros(4, dtype=dtype), nnlab.ones(4, dtype=dtype)
        stats.append((rm, rv))
        fn(nnlab.tensor(x.astype(dtype)), rm, rv, training=True)
    for a, b_ in zip(*stats):
        np.testing.assert_allclose(a.numpy(), b_.numpy(), **_tol(dtype))
    _fused_vs_composed(lambda x, w, b: F.batch_norm(x, None, None, w, b, True),
                       lambda x, w, b: batch_norm_composed(x, None, None, w, b, True),
                       [x, w, b], dtype, second_order=dtype == np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("affine", ["both", "weight", "none"])
@pytest.mark.parametrize("groups, shape", [(1, (2, 6, 3, 2)), (2, (2, 6, 3, 2)),
                                           (6, (2, 6, 3, 2)), (2, (4, 6))], ids=str)
def test_fused_group_norm_equals_composed(groups, shape, affine, dtype):
    x, w, b = _gn_args(shape)
    args = dict(both=[x, w, b], weight=[x, w], none=[x])[affine]
    _fused_vs_composed(lambda *a: F.group_norm(a[0], groups, *a[1:]),
                       lambda *a: group_norm_composed(a[0], groups, *a[1:]),
                       args, dtype, second_order=dtype == np.float64)


@settings(max_examples=15, deadline=None)
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=4),
       k=st.integers(1, 4), seed=st.integers(0, 1000))
def test_layer_norm_random_shapes_match_torch(shape, k, seed):
    k = min(k, len(shape))
    ns = tuple(shape[len(shape) - k:])
    x = randn(*shape, seed=seed) * 3
    w, b = randn(*ns, seed=seed + 1), randn(*ns, seed=seed + 2)
    check_op(lambda x, w, b: F.layer_norm(x, ns, w, b),
             lambda x, w, b: TF.layer_norm(x, ns, w, b), x, w, b, rtol=1e-8, atol=1e-9)


def test_fused_layer_norm_keeps_float32_and_frees_saved():
    x = nnlab.randn(4, 8, requires_grad=True)
    m = nn.LayerNorm(8)
    y = m(x)
    assert y.dtype == np.float32 and m.weight.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32 and m.weight.grad.dtype == np.float32
    with pytest.raises(RuntimeError, match="second time"):
        y.sum().backward()
