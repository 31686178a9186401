"""interpolate and the Upsample modules against torch: values and gradients in float64 and
float32 for 'nearest', 'linear', 'bilinear', 'trilinear' and 'area', with size or
scale_factor (up, down, fractional, per axis, recomputed) and align_corners both ways,
torch's float32 nearest-index arithmetic (and its 2-D exact doubling); gradcheck +
gradgradcheck; reprs like torch's and errors that name the op or layer and the shape."""
import numpy as np
import pytest

import nnlab
import nnlab.nn as nn
import nnlab.nn.functional as F
from tests.helpers import check_grad, check_op, randn, requires_torch, torch
from tests.nn.test_linear import check_module

pytestmark = requires_torch

TF = torch and torch.nn.functional

INPUTS = {1: randn(2, 3, 5, seed=1), 2: randn(1, 2, 4, 7, seed=2), 3: randn(1, 2, 3, 4, 5, seed=3)}
LINEAR = {1: "linear", 2: "bilinear", 3: "trilinear"}
SIZES = [   # (id, keyword arguments): down, up, per axis, fractional, recomputed scales
    ("size1", dict(size=1)),
    ("size3", dict(size=3)),
    ("size8", dict(size=8)),
    ("sizes", lambda nd: dict(size=(9, 2, 6)[:nd])),
    ("x2", dict(scale_factor=2)),
    ("x0.5", dict(scale_factor=0.5)),
    ("x1.7", dict(scale_factor=1.7)),
    ("x2.1", dict(scale_factor=2.1)),      # out = 2n: torch's 2-D nearest takes j // 2
    ("x0.34", dict(scale_factor=0.34)),
    ("x1.7_recompute", dict(scale_factor=1.7, recompute_scale_factor=True)),
    ("scales", lambda nd: dict(scale_factor=(1.5, 2.5, 0.7)[:nd])),
]


def cases():
    for nd, x in INPUTS.items():
        modes = [("nearest", None), (LINEAR[nd], False), (LINEAR[nd], True), ("area", None)]
        sizes = SIZES if nd < 3 else SIZES[1:5:2]   # a few for 3-D
        for (mode, align), (name, kwargs) in ((m, s) for m in modes for s in sizes):
            kwargs = kwargs(nd) if callable(kwargs) else kwargs
            kwargs = dict(kwargs, mode=mode, align_corners=align)
            align_id = "" if align is None else f"_align{align}"
            # torch's nearest backward always reads output j from j // 2 where out = 2n, but
            # its 1-D and 3-D forward does not: its gradient is not its forward's there
            grad = not (mode == "nearest" and nd != 2 and name == "x2.1")
            yield pytest.param(
                lambda t, kw=kwargs: F.interpolate(t, **kw),
                lambda t, kw=kwargs: TF.interpolate(t, **kw),
                x, grad, id=f"{nd}d_{mode}{align_id}_{name}")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("nn_fn, torch_fn, x, grad", list(cases()))
def test_against_torch(nn_fn, torch_fn, x, grad, dtype):
    check_op(nn_fn, torch_fn, x, dtype=dtype, grad=grad)


def test_nearest_gradient_is_its_forwards_where_torch_differs():
    """1-D, scale 2.1 (out = 2n): the forward reads floor(j / 2.1), as torch's forward, and
    the gradient sums over exactly those j (torch's backward uses j // 2)."""
    x = nnlab.tensor(np.zeros((1, 1, 5)), requires_grad=True)
    F.interpolate(x, scale_factor=2.1).backward(nnlab.arange(10.0).reshape(1, 1, 10))
    np.testing.assert_array_equal(x.grad.numpy().ravel(), [3, 7, 11, 15, 9])


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("n, out", [(n, out) for n in (3, 5, 7) for out in range(1, 16)])
def test_nearest_index_as_torch(nd, n, out):
    """Every output size from 1 to 15 along the last axis: the same source index as torch."""
    x = np.arange(n, dtype=np.float32).reshape((1, 1) + (1,) * (nd - 1) + (n,))
    size = (1,) * (nd - 1) + (out,)
    got = F.interpolate(nnlab.tensor(x), size=size).numpy()
    np.testing.assert_array_equal(got, TF.interpolate(torch.tensor(x), size=size).numpy())


def test_interpolate_returns_a_new_tensor():
    x = nnlab.tensor(INPUTS[2])
    for kwargs in (dict(size=(4, 7)), dict(scale_factor=1, mode="bilinear")):
        y = F.interpolate(x, **kwargs)
        assert y is not x and not np.shares_memory(y.numpy(), x.numpy())
        np.testing.assert_array_equal(y.numpy(), x.numpy())


SMALL = {1: randn(1, 2, 4, seed=4), 2: randn(1, 2, 3, 4, seed=5)}
GRAD_CASES = [
    ("nearest_1d", dict(size=7), 1),
    ("nearest_1d_x2.1", dict(scale_factor=2.1), 1),
    ("nearest_2d", dict(scale_factor=(1.5, 0.7)), 2),
    ("linear", dict(size=6, mode="linear"), 1),
    ("linear_align", dict(size=3, mode="linear", align_corners=True), 1),
    ("bilinear", dict(size=(5, 3), mode="bilinear"), 2),
    ("bilinear_align", dict(scale_factor=1.5, mode="bilinear", align_corners=True), 2),
    ("area", dict(size=(2, 3), mode="area"), 2),
]


@pytest.mark.parametrize("kwargs, nd", [pytest.param(*c[1:], id=c[0]) for c in GRAD_CASES])
def test_gradcheck(kwargs, nd):
    check_grad(lambda x: F.interpolate(x, **kwargs), SMALL[nd])


# -- modules -------------------------------------------------------------------------------
def modules(name, *args, **kwargs):
    """A case building nn.<name> and torch.nn.<name> alike."""
    return (lambda: getattr(nn, name)(*args, **kwargs),
            lambda: getattr(torch.nn, name)(*args, **kwargs))


MODULES = [   # (id, nnlab module, torch module, input)
    ("Upsample", *modules("Upsample", scale_factor=2), INPUTS[2]),
    ("Upsample_linear", *modules("Upsample", size=8, mode="linear"), INPUTS[1]),
    ("Upsample_bilinear", *modules("Upsample", size=(3, 5), mode="bilinear",
                                   align_corners=True), INPUTS[2]),
    ("UpsamplingNearest2d", *modules("UpsamplingNearest2d", scale_factor=1.5), INPUTS[2]),
    ("UpsamplingBilinear2d", *modules("UpsamplingBilinear2d", size=(6, 9)), INPUTS[2]),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("make, make_torch, x", [pytest.param(*c[1:], id=c[0]) for c in MODULES])
def test_module_against_torch(make, make_torch, x, dtype):
    check_module(make(), make_torch(), x, dtype=dtype)


@pytest.mark.parametrize("module, torch_module", [
    (nn.Upsample(scale_factor=2), torch and torch.nn.Upsample(scale_factor=2)),
    (nn.Upsample(size=(3, 4), mode="bilinear"),
     torch and torch.nn.Upsample(size=(3, 4), mode="bilinear")),
    (nn.Upsample(scale_factor=(2, 3), mode="bilinear", align_corners=True),
     torch and torch.nn.Upsample(scale_factor=(2, 3), mode="bilinear", align_corners=True)),
    (nn.UpsamplingNearest2d(scale_factor=2), torch and torch.nn.UpsamplingNearest2d(
        scale_factor=2)),
    (nn.UpsamplingBilinear2d(size=4), torch and torch.nn.UpsamplingBilinear2d(size=4)),
], ids=repr)
def test_repr_like_torch(module, torch_module):
    assert repr(module) == repr(torch_module)


# -- errors --------------------------------------------------------------------------------
ONES3, ONES4 = nnlab.ones(1, 1, 4), nnlab.ones(1, 1, 4, 4)


@pytest.mark.parametrize("make, error, message", [
    (lambda: F.interpolate(ONES4, size=2, scale_factor=2), ValueError,
     r"interpolate: give exactly one of size and scale_factor"),
    (lambda: F.interpolate(ONES4), ValueError, r"interpolate: give exactly one"),
    (lambda: F.interpolate(ONES4, size=2, mode="linear"), ValueError,
     r"interpolate: mode 'linear' needs a 3-D input \(N, C, followed by 1 spatial axes\), "
     r"got shape \(1, 1, 4, 4\)"),
    (lambda: nn.Upsample(scale_factor=2, mode="bilinear")(ONES3), ValueError,
     r"Upsample: mode 'bilinear' needs a 4-D input .* got shape \(1, 1, 4\)"),
    (lambda: nn.UpsamplingNearest2d(2)(nnlab.ones(4, 4)), ValueError,
     r"UpsamplingNearest2d: mode 'nearest' needs a 3-D, 4-D or 5-D input .* got shape "
     r"\(4, 4\)"),
    (lambda: F.interpolate(ONES4, size=2, align_corners=True), ValueError,
     r"interpolate: align_corners can only be set with the linear modes"),
    (lambda: F.interpolate(ONES4, size=2, mode="cubic"), ValueError,
     r"interpolate: unknown mode 'cubic'"),
    (lambda: F.interpolate(ONES4, size=(2, 2, 2)), ValueError,
     r"interpolate: size must be one number or 2 \(one per spatial axis of the input of "
     r"shape \(1, 1, 4, 4\)\), got \(2, 2, 2\)"),
    (lambda: F.interpolate(ONES4, size=2.5), ValueError, r"interpolate: size must be"),
    (lambda: F.interpolate(ONES4, scale_factor=0.1), ValueError,
     r"interpolate: input and output sizes must be positive, got input of shape "
     r"\(1, 1, 4, 4\) and output size \(0, 0\)"),
    (lambda: F.interpolate(ONES4, size=3, recompute_scale_factor=True), ValueError,
     r"interpolate: recompute_scale_factor is not meaningful with an explicit size"),
    (lambda: F.interpolate(ONES4, size=3, antialias=True), ValueError,
     r"interpolate: antialias=True is not supported"),
    (lambda: F.interpolate(nnlab.ones(1, 1, 4, dtype=nnlab.int64), size=3), TypeError,
     r"interpolate: expected a floating point input, got int64"),
])
def test_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()
