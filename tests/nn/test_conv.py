"""Convolutions against torch over a grid of configurations (values and the gradients of
input, weight and bias), the fast path against its reference twin, gradient checks,
modules through state_dict, translation equivariance, the size formulas and the errors."""
import itertools
import math

import numpy as np
import pytest

import nnlab
import nnlab.nn.functional as F
from nnlab import nn
from nnlab.nn.functional.conv import _convnd
from tests.helpers import TOLERANCES, check_grad, check_op, randn

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _grid():
    """kernel 1/3/5, stride 1/2/3, padding 0/1/'same', dilation 1/2, groups 1/2/C."""
    for k, s, p, d, g in itertools.product([1, 3, 5], [1, 2, 3], [0, 1, "same"], [1, 2],
                                           [1, 2, 4]):
        if p == "same" and s > 1 or d * (k - 1) + 1 > 8 + (2 * p if p != "same" else 0):
            continue
        yield k, s, p, d, g


GRID = list(_grid())


@pytest.mark.parametrize("k, s, p, d, g", GRID)
def test_conv2d_matches_torch(k, s, p, d, g):
    x, w, b = randn(2, 4, 9, 8), randn(6 if g != 4 else 4, 4 // g, k, k, seed=1), None
    b = randn(w.shape[0], seed=2)
    check_op(lambda x, w, b: F.conv2d(x, w, b, s, p, d, g),
             lambda x, w, b: TF.conv2d(x, w, b, s, p, d, g), x, w, b)


@pytest.mark.parametrize("k, s, p, d, g", [c for c in GRID if c[2] != "same"][::3])
def test_conv_transpose2d_matches_torch(k, s, p, d, g):
    c_out = 6 if g != 4 else 4
    x, w, b = randn(2, 4, 5, 4), randn(4, c_out // g, k, k, seed=1), randn(c_out, seed=2)
    for o in range(max(s, d)):
        check_op(lambda x, w, b, o=o: F.conv_transpose2d(x, w, b, s, p, o, g, d),
                 lambda x, w, b, o=o: TF.conv_transpose2d(x, w, b, s, p, o, g, d), x, w, b)


@pytest.mark.parametrize("k, s, p, d, g", GRID[::5])
def test_the_fused_convolution_equals_its_composed_twin(k, s, p, d, g):
    x, w, b = (nnlab.tensor(a, requires_grad=True)
               for a in (randn(2, 4, 9, 8), randn(4, 4 // g, k, k, seed=1), randn(4, seed=2)))
    y = F.conv2d(x, w, b, s, p, d, g)
    y_twin = _convnd(x, w, b, s, p, d, g, 2, "conv2d", fused=False)
    np.testing.assert_allclose(y.detach().numpy(), y_twin.detach().numpy(), rtol=1e-12)
    v = nnlab.tensor(randn(*y.shape, seed=3))
    grads = nnlab.autograd.grad((y * v).sum(), (x, w, b))
    grads_twin = nnlab.autograd.grad((y_twin * v).sum(), (x, w, b))
    for a, r in zip(grads, grads_twin):
        np.testing.assert_allclose(a.numpy(), r.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, x_shape, w_shape, kwargs", [
    ("conv1d", (2, 3, 11), (4, 3, 3), dict(stride=2, padding=1, dilation=2)),
    ("conv3d", (2, 4, 5, 4, 6), (4, 2, 3, 3, 3), dict(padding=1, groups=2)),
    ("conv_transpose1d", (2, 4, 7), (4, 3, 3), dict(stride=2, padding=1, output_padding=1)),
])
def test_other_ranks_match_torch(name, x_shape, w_shape, kwargs):
    c_out = w_shape[1] if name.startswith("conv_transpose") else w_shape[0]
    check_op(lambda x, w, b: getattr(F, name)(x, w, b, **kwargs),
             lambda x, w, b: getattr(TF, name)(x, w, b, **kwargs),
             randn(*x_shape), randn(*w_shape, seed=1), randn(c_out, seed=2))


def test_float32_and_unbatched_input(dtype=np.float32):
    x, w, b = randn(3, 10, 9), randn(5, 3, 3, 3, seed=1), randn(5, seed=2)
    check_op(lambda x, w, b: F.conv2d(x, w, b, 2, 1), lambda x, w, b: TF.conv2d(x, w, b, 2, 1),
             x, w, b, dtype=dtype)
    check_op(lambda x, w, b: F.conv_transpose2d(x, w, b, 2, 1),
             lambda x, w, b: TF.conv_transpose2d(x, w, b, 2, 1), randn(5, 4, 3),
             randn(5, 3, 3, 3, seed=1), randn(3, seed=2), dtype=dtype)


@pytest.mark.parametrize("fn, w_shape, groups, c_out", [(F.conv2d, (3, 2, 3, 2), 1, 3),
                                                        (F.conv2d, (4, 1, 2, 2), 2, 4),
                                                        (F.conv_transpose2d, (2, 3, 3, 2), 1, 3)],
                         ids=["conv2d", "conv2d-groups", "conv_transpose2d"])
def test_gradcheck_to_second_order(fn, w_shape, groups, c_out):
    check_grad(lambda x, w, b: fn(x, w, b, stride=2, padding=1, groups=groups),
               randn(1, 2, 5, 4), randn(*w_shape, seed=1), randn(c_out, seed=2))


def test_unfold_and_fold_match_torch():
    check_op(lambda x: F.unfold(x, (2, 3), 1, 1, 2), lambda x: TF.unfold(x, (2, 3), 1, 1, 2),
             randn(2, 3, 5, 4))
    check_op(lambda u: F.fold(u, (5, 4), (2, 3), 1, 1, 2),
             lambda u: TF.fold(u, (5, 4), (2, 3), 1, 1, 2), randn(2, 3 * 6, 6))


# -- modules -----------------------------------------------------------------------------
MODULES = [
    ("Conv1d", (3, 4, 3), dict(stride=2, padding=1), (2, 3, 11)),
    ("Conv2d", (4, 6, 3), dict(padding="same", dilation=2, groups=2), (2, 4, 7, 6)),
    ("Conv2d", (3, 5, (3, 2)), dict(padding=(2, 1), padding_mode="reflect"), (1, 3, 6, 5)),
    ("Conv2d", (3, 5, 3), dict(padding=1, padding_mode="circular", bias=False), (2, 3, 5, 5)),
    ("Conv2d", (3, 5, 3), dict(padding="same", padding_mode="replicate"), (2, 3, 5, 6)),
    ("Conv2d", (4, 4, 3), dict(groups=4, stride=2), (2, 4, 9, 9)),
    ("Conv3d", (2, 3, 2), dict(padding=1), (1, 2, 4, 3, 5)),
    ("ConvTranspose1d", (3, 2, 4), dict(stride=3, padding=1), (2, 3, 5)),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2),
     (2, 4, 4, 5)),
]


@pytest.mark.parametrize("name, args, kwargs, x_shape", MODULES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_module_matches_torch_through_state_dict(name, args, kwargs, x_shape, dtype):
    tdtype = getattr(torch, np.dtype(dtype).name)
    torch.manual_seed(0)
    tm = getattr(torch.nn, name)(*args, **kwargs).to(tdtype)
    m = getattr(nn, name)(*args, **kwargs).to(dtype)
    m.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    assert repr(m) == repr(tm)
    x = randn(*x_shape)
    xn = nnlab.tensor(x.astype(dtype), requires_grad=True)
    xt = torch.tensor(x.astype(dtype), requires_grad=True)
    y, yt = m(xn), tm(xt)
    tol = TOLERANCES[np.dtype(dtype).type]
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), **tol)
    y.square().sum().backward()
    yt.square().sum().backward()
    np.testing.assert_allclose(xn.grad.numpy(), xt.grad.numpy(), **tol)
    for (pname, p), tp in zip(m.named_parameters(), tm.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), **tol, err_msg=pname)


def test_default_initialisation_has_torchs_bounds():
    nnlab.manual_seed(0)
    m = nn.Conv2d(16, 32, 3)
    bound = 1 / math.sqrt(16 * 9)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert np.abs(b).max() <= bound
    np.testing.assert_allclose(w.std(), bound / math.sqrt(3), rtol=0.05)  # U(-a, a): a/sqrt3


def test_conv_transpose_output_size_argument():
    m = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    x = nnlab.randn(1, 2, 4, 4)
    assert m(x).shape == (1, 3, 7, 7)
    assert m(x, output_size=(8, 8)).shape == (1, 3, 8, 8)
    with pytest.raises(ValueError, match="requested output_size"):
        m(x, output_size=(10, 10))


def test_translation_equivariance_with_circular_padding():
    """Shifting the input of a stride-1 circular convolution shifts its output alike."""
    nnlab.manual_seed(0)
    m = nn.Conv2d(3, 4, 3, padding=1, padding_mode="circular")
    x = nnlab.randn(2, 3, 8, 8)
    for shift in [(1, 0), (2, 3), (-1, 5)]:
        shifted_out = m(x.roll(shift, dims=(2, 3))).detach().numpy()
        out_shifted = m(x).roll(shift, dims=(2, 3)).detach().numpy()
        np.testing.assert_allclose(shifted_out, out_shifted, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("n, k, s, p, d", itertools.product([7, 10], [1, 3, 5], [1, 2, 3],
                                                             [0, 2], [1, 2]))
def test_output_size_and_parameter_count_formulas(n, k, s, p, d):
    if d * (k - 1) + 1 > n + 2 * p:
        return
    m = nn.Conv2d(3, 8, k, stride=s, padding=p, dilation=d)
    out = (n + 2 * p - d * (k - 1) - 1) // s + 1
    assert m(nnlab.zeros(1, 3, n, n)).shape == (1, 8, out, out)
    assert sum(q.numel() for q in m.parameters()) == 3 * 8 * k * k + 8
    t = nn.ConvTranspose2d(3, 8, k, stride=s, padding=min(p, k - 1), dilation=d)
    n_out = (n - 1) * s - 2 * min(p, k - 1) + d * (k - 1) + 1
    assert t(nnlab.zeros(1, 3, n, n)).shape == (1, 8, n_out, n_out)


@pytest.mark.parametrize("make, x_shape, message", [
    (lambda: nn.Conv2d(3, 8, 5), (1, 3, 3, 3),
     r"Conv2d\(3, 8\): input of shape \(1, 3, 3, 3\) is too small for the kernel"),
    (lambda: nn.Conv2d(3, 8, 3), (1, 4, 9, 9),
     r"Conv2d\(3, 8\): input of shape \(1, 4, 9, 9\) has 4 channels, expected "
     r"in_channels=3"),
    (lambda: nn.Conv2d(3, 8, 3), (3, 9),
     r"Conv2d\(3, 8\): expected a 4-D \(N, C, \*spatial\) or 3-D unbatched input, got "
     r"shape \(3, 9\)"),
    (lambda: nn.ConvTranspose2d(3, 8, 3, padding=4), (1, 3, 2, 2),
     r"ConvTranspose2d\(3, 8\): input of shape \(1, 3, 2, 2\) gives output size \(-4, -4\)"),
])
def test_errors_name_the_layer_and_the_shapes(make, x_shape, message):
    with pytest.raises(ValueError, match=message):
        make()(nnlab.zeros(*x_shape))


def test_constructor_errors():
    with pytest.raises(ValueError, match=r"Conv2d: in_channels \(3\) and out_channels \(8\) "
                                         r"must both be divisible by groups \(2\)"):
        nn.Conv2d(3, 8, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(3, 8, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(3, 8, 3, padding_mode="mirror")
