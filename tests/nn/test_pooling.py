"""Pooling (functional and modules) against torch: values, indices and gradients in float64
and float32 over a grid of kernel / stride / padding / dilation / ceil_mode /
count_include_pad, 1-D and 2-D, batched and unbatched; adaptive pooling with output sizes
that divide the input and that do not; unpooling round trips; NaN, -inf and ties as torch;
gradcheck + gradgradcheck of each op; max pooling held equal to its composed twin; reprs
like torch's and errors that name the op or layer and the input's shape."""
import itertools

import numpy as np
import pytest

import nnlab
import nnlab.nn as nn
import nnlab.nn.functional as F
from nnlab.nn.functional.pooling import _max_pool_reference
from tests.helpers import check_grad, check_op, randn, requires_torch, torch
from tests.nn.test_linear import check_module

pytestmark = requires_torch

TF = torch and torch.nn.functional

X1 = randn(2, 3, 7, seed=1)         # (N, C, L), odd length
X2 = randn(2, 3, 7, 6, seed=2)      # (N, C, H, W), odd height
X2_BATCH1 = randn(1, 2, 5, 5, seed=3)
X2_UNBATCHED = randn(3, 7, 6, seed=4)
X1_UNBATCHED = randn(3, 7, seed=5)


def same(name, *args, **kwargs):
    """A case calling nn.functional.<name> and torch.nn.functional.<name> alike."""
    return (lambda *a: getattr(F, name)(*a, **kwargs),
            lambda *a: getattr(TF, name)(*a, **kwargs)) + args


def window_grid(pool):
    """(kernel, stride, padding, dilation, ceil_mode) over torch's valid grid (padding at
    most kernel // 2; dilation only for max pooling)."""
    dilations = (1, 2) if pool == "max" else (1,)
    return [(k, s, p, d, c) for k, s, p, d, c in itertools.product(
        (1, 2, 3), (1, 2, 3), (0, 1), dilations, (False, True)) if p <= k // 2]


def max_cases():
    for nd, x in ((1, X1), (2, X2)):
        for k, s, p, d, c in window_grid("max"):
            yield (f"max{nd}d_k{k}s{s}p{p}d{d}{'_ceil' if c else ''}",
                   *same(f"max_pool{nd}d", x, kernel_size=k, stride=s, padding=p, dilation=d,
                         ceil_mode=c, return_indices=True))


def avg_cases():
    for nd, x in ((1, X1), (2, X2)):
        for (k, s, p, _, c), cip in itertools.product(window_grid("avg"), (True, False)):
            yield (f"avg{nd}d_k{k}s{s}p{p}{'_ceil' if c else ''}{'' if cip else '_nopad'}",
                   *same(f"avg_pool{nd}d", x, kernel_size=k, stride=s, padding=p, ceil_mode=c,
                         count_include_pad=cip))


TIES = np.floor(randn(2, 2, 6, 6, seed=6) * 1.5)   # many equal values: the first max wins
NAN = randn(1, 2, 6, 6, seed=7)
NAN[0, 0, 1, 1] = NAN[0, 0, 0, 1] = NAN[0, 1, 4, 4] = np.nan
NEG_INF = np.full((1, 1, 2, 5), -np.inf)
NEG_INF[0, 0, 1, 4] = 1.0


def torch_avg_pool1d_override(x, kernel_size, divisor_override, **kwargs):
    """torch's avg_pool1d has no divisor_override: avg_pool2d over a (N, C, 1, L) input."""
    return TF.avg_pool2d(x[:, :, None], (1, kernel_size), divisor_override=divisor_override,
                         **kwargs)[:, :, 0]


OTHER_CASES = [
    ("max2d_batch1", *same("max_pool2d", X2_BATCH1, 3, 2, 1, return_indices=True)),
    ("max2d_unbatched", *same("max_pool2d", X2_UNBATCHED, 2, return_indices=True)),
    ("max1d_unbatched", *same("max_pool1d", X1_UNBATCHED, 3, 2, 1, return_indices=True)),
    ("max2d_rect", *same("max_pool2d", X2, (3, 2), (2, 1), (1, 0), (1, 2), True, True)),
    ("max2d_no_indices", *same("max_pool2d", X2, 3, 2, 1)),
    ("max2d_ties", *same("max_pool2d", TIES, 3, 2, 1, return_indices=True)),
    ("max2d_nan", *same("max_pool2d", NAN, 3, 2, 1, return_indices=True)),
    ("max2d_neg_inf", *same("max_pool2d", NEG_INF, 2, 2, 1, return_indices=True)),
    ("max1d_window_in_padding", *same("max_pool1d", np.array([[[0.5, 1.0, 2.0]]]), 2, 1, 1,
                                      3, return_indices=True)),
    ("avg2d_batch1", *same("avg_pool2d", X2_BATCH1, 3, 2, 1, True, False)),
    ("avg2d_unbatched", *same("avg_pool2d", X2_UNBATCHED, 2)),
    ("avg1d_unbatched", *same("avg_pool1d", X1_UNBATCHED, 3, 2, 1)),
    ("avg2d_rect", *same("avg_pool2d", X2, (3, 2), (2, 1), (1, 0), True, False)),
    ("avg2d_divisor", *same("avg_pool2d", X2, 3, 2, 1, divisor_override=4)),
    ("avg2d_divisor_ceil", *same("avg_pool2d", X2, 2, 2, 1, True, False, 3)),
    ("avg1d_divisor", lambda x: F.avg_pool1d(x, 3, 2, 1, divisor_override=2),
     lambda x: torch_avg_pool1d_override(x, 3, 2, stride=(1, 2), padding=(0, 1)), X1),
]

ADAPTIVE_SIZES_2D = [1, 2, 3, (7, 3), (7, 6), (None, 4), (4, None), 5, (9, 8)]
ADAPTIVE_SIZES_1D = [1, 2, 3, 7, 10]


def adaptive_cases():
    for kind, extra in (("avg", {}), ("max", {"return_indices": True})):
        for size in ADAPTIVE_SIZES_1D:
            yield (f"adaptive_{kind}1d_{size}",
                   *same(f"adaptive_{kind}_pool1d", X1, size, **extra))
        for size in ADAPTIVE_SIZES_2D:
            yield (f"adaptive_{kind}2d_{size}",
                   *same(f"adaptive_{kind}_pool2d", X2, size, **extra))
        yield (f"adaptive_{kind}2d_unbatched",
               *same(f"adaptive_{kind}_pool2d", X2_UNBATCHED, (3, 4), **extra))


CASES = list(max_cases()) + list(avg_cases()) + OTHER_CASES + list(adaptive_cases())


# sum(output * v) in check_op meets -inf * v + inf * v = nan: the gradient is still v
INF_OUTPUTS = pytest.mark.filterwarnings("ignore:invalid value encountered in reduce")


def params(cases):
    return [pytest.param(c[1], c[2], c[3:], id=c[0],
                         marks=[INF_OUTPUTS] if "inf" in c[0] or "padding" in c[0] else [])
            for c in cases]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("nn_fn, torch_fn, args", params(CASES))
def test_against_torch(nn_fn, torch_fn, args, dtype):
    check_op(nn_fn, torch_fn, *args, dtype=dtype)


# -- unpooling: torch pools, both unpool the same values and indices ------------------
def unpool_case(name, x, kernel, stride=None, padding=0, output_size=None, unbatched=False):
    nd = x.ndim - 1 if unbatched else x.ndim - 2
    values, indices = getattr(TF, f"max_pool{nd}d")(torch.tensor(x), kernel, stride, padding,
                                                    return_indices=True)
    fn = f"max_unpool{nd}d"
    return pytest.param(
        lambda v, i: getattr(F, fn)(v, i, kernel, stride, padding, output_size),
        lambda v, i: getattr(TF, fn)(v, i, kernel, stride, padding, output_size),
        values.numpy(), indices.numpy(), id=name)


UNPOOL_CASES = [] if torch is None else [
    unpool_case("2d_k2", X2[:, :, :6], 2),
    unpool_case("2d_k3s2p1", X2, 3, 2, 1, output_size=(7, 6)),
    unpool_case("2d_odd_output_size", X2, 2, output_size=(7, 6)),
    unpool_case("2d_full_output_size", X2, 2, output_size=(2, 3, 7, 7)),
    unpool_case("2d_rect", X2, (3, 2), (2, 1), (1, 0)),
    unpool_case("2d_unbatched", X2_UNBATCHED, 2, unbatched=True),
    unpool_case("1d_k2", X1, 2, output_size=[7]),
    unpool_case("1d_k3s2p1", X1, 3, 2, 1),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("nn_fn, torch_fn, values, indices", UNPOOL_CASES)
def test_unpool_against_torch(nn_fn, torch_fn, values, indices, dtype):
    check_op(nn_fn, torch_fn, values, indices, dtype=dtype)


def test_unpool_inverts_pool_at_the_maxima():
    x = nnlab.tensor(X2)
    y, i = F.max_pool2d(x, 2, return_indices=True)
    z = F.max_unpool2d(y, i, 2, output_size=x.shape)
    kept = z.numpy() != 0
    np.testing.assert_array_equal(z.numpy()[kept], X2[kept])
    np.testing.assert_array_equal(F.max_pool2d(z, 2).numpy(), y.numpy())


# -- gradcheck + gradgradcheck (distinct values: no ties in the max) --------------------
SMALL1 = randn(1, 2, 6, seed=8)
SMALL2 = randn(1, 2, 5, 5, seed=9)
GRAD_CASES = [
    ("max_pool1d", lambda x: F.max_pool1d(x, 3, 2, 1, ceil_mode=True), SMALL1),
    ("max_pool2d", lambda x: F.max_pool2d(x, 3, 2, 1), SMALL2),
    ("max_pool2d_dilated_ceil", lambda x: F.max_pool2d(x, 2, 2, 1, 2, True), SMALL2),
    ("avg_pool1d", lambda x: F.avg_pool1d(x, 3, 2, 1, True, False), SMALL1),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 3, 2, 1, True, False), SMALL2),
    ("avg_pool2d_divisor", lambda x: F.avg_pool2d(x, 2, divisor_override=3), SMALL2),
    ("adaptive_avg_pool1d", lambda x: F.adaptive_avg_pool1d(x, 4), SMALL1),
    ("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (3, 2)), SMALL2),
    ("adaptive_avg_pool2d_global", lambda x: F.adaptive_avg_pool2d(x, 1), SMALL2),
    ("adaptive_max_pool1d", lambda x: F.adaptive_max_pool1d(x, 4), SMALL1),
    ("adaptive_max_pool2d", lambda x: F.adaptive_max_pool2d(x, (3, 2)), SMALL2),
    ("max_unpool2d", lambda x: F.max_unpool2d(x, nnlab.tensor([[[[0, 3], [9, 14]]]]), 2,
                                              output_size=(4, 4)), randn(1, 1, 2, 2, seed=10)),
]


@pytest.mark.parametrize("fn, x", [pytest.param(c[1], c[2], id=c[0]) for c in GRAD_CASES])
def test_gradcheck(fn, x):
    check_grad(fn, x)


# -- max pooling's composed twin -----------------------------------------------------------
@pytest.mark.parametrize("kernel, stride, padding, dilation, ceil_mode",
                         [(2, 2, 0, 1, False), (3, 2, 1, 1, True), (3, 1, 1, 2, False)])
def test_max_pool_equals_its_composed_twin(kernel, stride, padding, dilation, ceil_mode):
    x = nnlab.tensor(X2, requires_grad=True)
    twin = nnlab.tensor(X2, requires_grad=True)
    y = F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode)
    z = _max_pool_reference(twin, kernel, stride, padding, dilation, ceil_mode).values
    np.testing.assert_array_equal(y.detach().numpy(), z.detach().numpy())
    v = nnlab.tensor(randn(*y.shape, seed=11))
    (y * v).sum().backward()
    (z * v).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), twin.grad.numpy(), rtol=1e-12)


# -- modules -------------------------------------------------------------------------------
def modules(name, *args, **kwargs):
    """A case building nn.<name> and torch.nn.<name> alike."""
    return (lambda: getattr(nn, name)(*args, **kwargs),
            lambda: getattr(torch.nn, name)(*args, **kwargs))


MODULES = [   # (id, nnlab module, torch module, input)
    ("MaxPool1d", *modules("MaxPool1d", 3, 2, 1), X1),
    ("MaxPool2d", *modules("MaxPool2d", 3, 2, 1, ceil_mode=True), X2),
    ("AvgPool1d", *modules("AvgPool1d", 3, 2, 1), X1),
    ("AvgPool2d", *modules("AvgPool2d", 3, 2, 1, True, False), X2),
    ("AvgPool2d_divisor", *modules("AvgPool2d", 2, divisor_override=3), X2),
    ("AdaptiveAvgPool1d", *modules("AdaptiveAvgPool1d", 3), X1),
    ("AdaptiveAvgPool2d", *modules("AdaptiveAvgPool2d", (None, 4)), X2),
    ("AdaptiveMaxPool1d", *modules("AdaptiveMaxPool1d", 3), X1),
    ("AdaptiveMaxPool2d", *modules("AdaptiveMaxPool2d", (3, 4)), X2),
    ("AdaptiveMaxPool2d_unbatched", *modules("AdaptiveMaxPool2d", 3), X2_UNBATCHED),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("make, make_torch, x", [pytest.param(*c[1:], id=c[0]) for c in MODULES])
def test_module_against_torch(make, make_torch, x, dtype):
    check_module(make(), make_torch(), x, dtype=dtype)


@pytest.mark.parametrize("nd, x", [(1, X1), (2, X2)])
def test_module_indices_and_unpool_against_torch(nd, x):
    pool, unpool = getattr(nn, f"MaxPool{nd}d"), getattr(nn, f"MaxUnpool{nd}d")
    tpool, tunpool = getattr(torch.nn, f"MaxPool{nd}d"), getattr(torch.nn, f"MaxUnpool{nd}d")
    check_op(lambda t: pool(2, return_indices=True)(t), tpool(2, return_indices=True), x)
    check_op(lambda t: unpool(2)(*pool(2, return_indices=True)(t), output_size=t.shape),
             lambda t: tunpool(2)(*tpool(2, return_indices=True)(t), output_size=t.shape), x)


def test_adaptive_max_pool_module_indices_against_torch():
    check_op(nn.AdaptiveMaxPool2d(3, return_indices=True),
             torch.nn.AdaptiveMaxPool2d(3, return_indices=True), X2)


@pytest.mark.parametrize("module, torch_module", [
    (nn.MaxPool1d(3), torch and torch.nn.MaxPool1d(3)),
    (nn.MaxPool1d(3, 2, 1, 2, True, True), torch and torch.nn.MaxPool1d(3, 2, 1, 2, True, True)),
    (nn.MaxPool2d(2), torch and torch.nn.MaxPool2d(2)),
    (nn.MaxPool2d((2, 3), 1, 1, ceil_mode=True),
     torch and torch.nn.MaxPool2d((2, 3), 1, 1, ceil_mode=True)),
    (nn.AvgPool1d(3), torch and torch.nn.AvgPool1d(3)),
    (nn.AvgPool1d(3, 2, 1, True, False), torch and torch.nn.AvgPool1d(3, 2, 1, True, False)),
    (nn.AvgPool2d(2), torch and torch.nn.AvgPool2d(2)),
    (nn.AvgPool2d((3, 2), (2, 1), 1, divisor_override=2),
     torch and torch.nn.AvgPool2d((3, 2), (2, 1), 1, divisor_override=2)),
    (nn.AdaptiveAvgPool1d(3), torch and torch.nn.AdaptiveAvgPool1d(3)),
    (nn.AdaptiveAvgPool2d((None, 3)), torch and torch.nn.AdaptiveAvgPool2d((None, 3))),
    (nn.AdaptiveMaxPool1d(4, True), torch and torch.nn.AdaptiveMaxPool1d(4, True)),
    (nn.AdaptiveMaxPool2d(2), torch and torch.nn.AdaptiveMaxPool2d(2)),
    (nn.MaxUnpool1d(2), torch and torch.nn.MaxUnpool1d(2)),
    (nn.MaxUnpool2d(2), torch and torch.nn.MaxUnpool2d(2)),
    (nn.MaxUnpool2d((2, 3), 1, 1), torch and torch.nn.MaxUnpool2d((2, 3), 1, 1)),
], ids=repr)
def test_repr_like_torch(module, torch_module):
    assert repr(module) == repr(torch_module)


def test_modules_have_no_parameters():
    for module in (nn.MaxPool2d(2), nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(1), nn.MaxUnpool2d(2)):
        assert list(module.state_dict()) == []


# -- errors --------------------------------------------------------------------------------
ONES = nnlab.ones(1, 1, 4, 4)
INDICES = nnlab.zeros(1, 1, 4, 4, dtype=nnlab.int64)


@pytest.mark.parametrize("make, error, message", [
    (lambda: nn.MaxPool2d(2)(nnlab.ones(5, 5)), ValueError,
     r"MaxPool2d: expected a 3-D \(C, H, W\) or 4-D \(N, C, H, W\) input, got shape \(5, 5\)"),
    (lambda: F.max_pool1d(nnlab.ones(1, 1, 2, 2, 2), 2), ValueError,
     r"max_pool1d: expected a 2-D \(C, L\) or 3-D \(N, C, L\) input, got shape \(1, 1, 2, 2, 2\)"),
    (lambda: nn.AvgPool1d(2)(nnlab.ones(4)), ValueError,
     r"AvgPool1d: expected a 2-D \(C, L\) or 3-D \(N, C, L\) input, got shape \(4,\)"),
    (lambda: F.max_pool2d(nnlab.ones(1, 1, 2, 2), 3), ValueError,
     r"max_pool2d: input of shape \(1, 1, 2, 2\) is too small for the kernel"),
    (lambda: nn.AvgPool2d(3)(nnlab.ones(1, 2, 2)), ValueError,
     r"AvgPool2d: input of shape \(1, 1, 2, 2\) is too small for the kernel"),
    (lambda: nn.MaxPool2d(3, padding=2)(ONES), ValueError,
     r"MaxPool2d: padding \(2, 2\) must be between 0 and half the kernel_size \(3, 3\) "
     r"\(kernel_size // 2\) on each axis \(input of shape \(1, 1, 4, 4\)\)"),
    (lambda: F.avg_pool2d(ONES, 2, padding=-1), ValueError, r"avg_pool2d: padding \(-1, -1\)"),
    (lambda: F.avg_pool2d(ONES, 2, divisor_override=0), ValueError,
     r"avg_pool2d: divisor_override must not be zero"),
    (lambda: F.max_pool2d(ONES, (2, 2, 2)), ValueError,
     r"max_pool2d: kernel_size must be an int or 2 ints, got \(2, 2, 2\)"),
    (lambda: F.max_pool2d(nnlab.ones(1, 1, 4, 4, dtype=nnlab.int64), 2), TypeError,
     r"max_pool2d: expected a floating point input, got int64 \(shape \(1, 1, 4, 4\)\)"),
    (lambda: nn.AdaptiveAvgPool2d((1, 2, 3))(ONES), ValueError,
     r"AdaptiveAvgPool2d: output_size must be an int or 2 ints \(None keeps the input's "
     r"size\), got \(1, 2, 3\)"),
    (lambda: F.adaptive_max_pool2d(ONES, 0), ValueError,
     r"adaptive_max_pool2d: input of spatial size \(4, 4\) and output_size \(0, 0\) must both"),
    (lambda: nn.AdaptiveMaxPool1d(2)(ONES), ValueError,
     r"AdaptiveMaxPool1d: expected a 2-D \(C, L\) or 3-D \(N, C, L\) input, got shape "
     r"\(1, 1, 4, 4\)"),
    (lambda: nn.MaxUnpool2d(2)(ONES, INDICES, output_size=(5, 5)), ValueError,
     r"MaxUnpool2d: invalid output_size \(5, 5\) for input of shape \(1, 1, 4, 4\): dim 0 "
     r"must be between 6 and 10"),
    (lambda: F.max_unpool2d(ONES, INDICES, 2, output_size=(8, 8, 8)), ValueError,
     r"max_unpool2d: output_size must have 2 or 4 entries, got \(8, 8, 8\)"),
    (lambda: F.max_unpool2d(ONES, INDICES[:, :, :3], 2), ValueError,
     r"max_unpool2d: indices \(shape \(1, 1, 3, 4\), int64\) must be integers of the "
     r"input's shape \(1, 1, 4, 4\)"),
    (lambda: F.max_unpool2d(ONES, INDICES + 64, 2), IndexError,
     r"max_unpool2d: found an invalid max index 64 \(the output planes have 8 x 8 = 64"),
])
def test_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()
