"""Shape ops against torch (values and gradients, float64 and float32), float64 gradient
checks to second order, the clear errors, and view semantics (shared version counters)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nnlab
from tests.helpers import check_grad, check_op, randn, requires_torch

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

pytestmark = requires_torch


def fpad(m):
    """nnlab.pad or torch.nn.functional.pad, for cases written once for both."""
    return torch.nn.functional.pad if m is torch else nnlab.pad


# (id, f(m, *args) with m = nnlab or torch, args). Float arrays become tensors.
CASES = [
    ("reshape", lambda m, x: m.reshape(x, (4, -1)), (randn(2, 3, 4),)),
    ("reshape-0d", lambda m, x: m.reshape(x, (1, 1)), (randn(),)),
    ("reshape-to-0d", lambda m, x: m.reshape(x, ()), (randn(1, 1),)),
    ("view", lambda m, x: x.view(3, 8), (randn(2, 3, 4),)),
    ("view-infer", lambda m, x: x.view(-1), (randn(2, 3),)),
    ("view-0d", lambda m, x: x.view(()), (randn(),)),
    ("view-of-permuted", lambda m, x: x.permute(1, 0, 2).view(3, 2, 2, 2), (randn(2, 3, 4),)),
    ("flatten", lambda m, x: m.flatten(x), (randn(2, 3, 4),)),
    ("flatten-mid", lambda m, x: m.flatten(x, 1, -1), (randn(2, 3, 4),)),
    ("flatten-neg", lambda m, x: m.flatten(x, -3, -2), (randn(2, 3, 4),)),
    ("flatten-0d", lambda m, x: m.flatten(x), (randn(),)),
    ("transpose", lambda m, x: m.transpose(x, 0, -1), (randn(2, 3, 4),)),
    ("transpose-same", lambda m, x: m.transpose(x, 1, 1), (randn(2, 3),)),
    ("transpose-0d", lambda m, x: m.transpose(x, 0, -1), (randn(),)),
    ("transpose-size1", lambda m, x: m.transpose(x, 0, 1), (randn(1, 3),)),
    ("permute", lambda m, x: m.permute(x, (2, 0, 1)), (randn(2, 3, 4),)),
    ("permute-neg", lambda m, x: m.permute(x, (-1, 0, -2)), (randn(2, 3, 4),)),
    ("permute-0d", lambda m, x: m.permute(x, ()), (randn(),)),
    ("T", lambda m, x: x.T, (randn(2, 3),)),
    ("mT", lambda m, x: x.mT, (randn(2, 3, 4),)),
    ("movedim", lambda m, x: m.movedim(x, 0, -1), (randn(2, 3, 4),)),
    ("movedim-tuples", lambda m, x: m.movedim(x, (0, 1), (2, 0)), (randn(2, 3, 4),)),
    ("movedim-neg", lambda m, x: m.movedim(x, (-1, -3), (0, 1)), (randn(2, 3, 4),)),
    ("squeeze", lambda m, x: m.squeeze(x), (randn(1, 3, 1, 2),)),
    ("squeeze-dim", lambda m, x: m.squeeze(x, -2), (randn(1, 3, 1, 2),)),
    ("squeeze-not-1", lambda m, x: m.squeeze(x, 1), (randn(1, 3, 1, 2),)),
    ("squeeze-tuple", lambda m, x: m.squeeze(x, (0, 1, 2)), (randn(1, 3, 1, 2),)),
    ("squeeze-0d", lambda m, x: m.squeeze(x, 0), (randn(),)),
    ("unsqueeze", lambda m, x: m.unsqueeze(x, 1), (randn(2, 3),)),
    ("unsqueeze-end", lambda m, x: m.unsqueeze(x, 2), (randn(2, 3),)),
    ("unsqueeze-neg", lambda m, x: m.unsqueeze(x, -1), (randn(2, 3),)),
    ("unsqueeze-neg-first", lambda m, x: m.unsqueeze(x, -3), (randn(2, 3),)),
    ("unsqueeze-0d", lambda m, x: m.unsqueeze(x, -1), (randn(),)),
    ("cat", lambda m, a, b: m.cat([a, b]), (randn(2, 3), randn(4, 3, seed=1))),
    ("cat-neg", lambda m, a, b, c: m.cat((a, b, c), -1),
     (randn(2, 1), randn(2, 3, seed=1), randn(2, 2, seed=2))),
    ("cat-one", lambda m, a: m.cat([a], 1), (randn(2, 3),)),
    ("cat-empty-part", lambda m, a, b: m.cat([a, b], 1), (randn(2, 0), randn(2, 3, seed=1))),
    ("cat-1d", lambda m, a, b: m.cat([a, b]), (randn(3), randn(1, seed=1))),
    ("stack", lambda m, a, b: m.stack([a, b]), (randn(2, 3), randn(2, 3, seed=1))),
    ("stack-neg", lambda m, a, b, c: m.stack([a, b, c], -1),
     (randn(2, 3), randn(2, 3, seed=1), randn(2, 3, seed=2))),
    ("stack-mid", lambda m, a, b: m.stack([a, b], 1), (randn(2, 1), randn(2, 1, seed=1))),
    ("stack-0d", lambda m, a, b: m.stack([a, b]), (randn(), randn(seed=1))),
    ("split", lambda m, x: m.split(x, 2), (randn(6, 2),)),
    ("split-uneven", lambda m, x: m.split(x, 2, -1), (randn(2, 5),)),
    ("split-sections", lambda m, x: m.split(x, [1, 0, 3], 1), (randn(2, 4),)),
    ("split-big", lambda m, x: m.split(x, 9), (randn(3, 2),)),
    ("split-partial-use", lambda m, x: m.split(x, 2)[1], (randn(5, 2),)),
    ("chunk", lambda m, x: m.chunk(x, 3), (randn(6, 2),)),
    ("chunk-uneven", lambda m, x: m.chunk(x, 4, -1), (randn(2, 5),)),
    ("chunk-fewer", lambda m, x: m.chunk(x, 4, 1), (randn(2, 6),)),
    ("chunk-many", lambda m, x: m.chunk(x, 5), (randn(2, 3),)),
    ("unbind", lambda m, x: m.unbind(x), (randn(3, 2),)),
    ("unbind-neg", lambda m, x: m.unbind(x, -1), (randn(2, 3),)),
    ("unbind-size1", lambda m, x: m.unbind(x, 1), (randn(2, 1, 3),)),
    ("unbind-partial-use", lambda m, x: m.unbind(x, 1)[2] * 2, (randn(2, 3),)),
    ("flip", lambda m, x: m.flip(x, (0,)), (randn(3, 2),)),
    ("flip-many", lambda m, x: m.flip(x, (0, -1)), (randn(2, 3, 4),)),
    ("flip-0d", lambda m, x: m.flip(x, (0,)), (randn(),)),
    ("repeat", lambda m, x: x.repeat(2, 3), (randn(2, 3),)),
    ("repeat-more-dims", lambda m, x: x.repeat(2, 1, 3), (randn(2, 3),)),
    ("repeat-ones", lambda m, x: x.repeat(1, 1), (randn(2, 3),)),
    ("repeat-zero", lambda m, x: x.repeat(0, 2), (randn(2, 3),)),
    ("repeat-0d", lambda m, x: x.repeat(2, 3), (randn(),)),
    ("repeat-size1", lambda m, x: x.repeat((3, 2)), (randn(1, 2),)),
    ("tile", lambda m, x: m.tile(x, (2, 2)), (randn(2, 3),)),
    ("tile-fewer", lambda m, x: m.tile(x, (2,)), (randn(2, 3),)),
    ("tile-more", lambda m, x: m.tile(x, (2, 1, 2)), (randn(2, 3),)),
    ("tile-0d", lambda m, x: m.tile(x, (3,)), (randn(),)),
    ("roll", lambda m, x: m.roll(x, 1, 0), (randn(4, 3),)),
    ("roll-neg", lambda m, x: m.roll(x, -2, -1), (randn(4, 3),)),
    ("roll-big", lambda m, x: m.roll(x, 7, 1), (randn(4, 3),)),
    ("roll-tuple", lambda m, x: m.roll(x, (1, -1), (0, 1)), (randn(4, 3),)),
    ("roll-flat", lambda m, x: m.roll(x, 2), (randn(4, 3),)),
    ("roll-0d", lambda m, x: m.roll(x, 1), (randn(),)),
    ("tril", lambda m, x: m.tril(x), (randn(3, 3),)),
    ("tril-diag", lambda m, x: m.tril(x, 1), (randn(3, 4),)),
    ("tril-batched", lambda m, x: m.tril(x, -1), (randn(2, 4, 3),)),
    ("triu", lambda m, x: m.triu(x), (randn(3, 3),)),
    ("triu-diag", lambda m, x: m.triu(x, -1), (randn(4, 3),)),
    ("triu-batched", lambda m, x: m.triu(x, 1), (randn(2, 3, 4),)),
    ("pad-constant-1d", lambda m, x: fpad(m)(x, (1, 2)), (randn(3),)),
    ("pad-constant-value", lambda m, x: fpad(m)(x, (1, 0, 0, 2), value=1.5), (randn(2, 3),)),
    ("pad-constant-3dims", lambda m, x: fpad(m)(x, (1, 1, 0, 1, 2, 0)), (randn(2, 2, 2),)),
    ("pad-constant-crop", lambda m, x: fpad(m)(x, (-1, 2, 1, -1)), (randn(3, 4),)),
    ("pad-constant-0d", lambda m, x: fpad(m)(x, ()), (randn(),)),
    ("pad-constant-zero", lambda m, x: fpad(m)(x, (0, 0)), (randn(2, 3),)),
    ("pad-reflect-2d-in", lambda m, x: fpad(m)(x, (2, 1), mode="reflect"), (randn(2, 4),)),
]

PAD_MODES = ["reflect", "replicate", "circular"]
# (input shape, pad): 1-, 2- and 3-dim paddings on inputs with and without a batch dim
PAD_SHAPES = [
    ((2, 4), (2, 1)),
    ((2, 2, 4), (1, 3)),
    ((1, 2, 4), (2, -1)),
    ((1, 2, 4), (-1, 2)),
    ((2, 3, 4), (1, 2, 2, 0)),
    ((1, 2, 3, 4), (3, 1, 1, 2)),
    ((1, 2, 3, 4), (0, 0, 2, 1)),
    ((1, 3, 3, 3), (1, 1, 1, 1, 1, 1)),
    ((1, 1, 2, 3, 3), (1, 2, 0, 1, 1, 0)),
]
for _mode in PAD_MODES:
    for _shape, _pad in PAD_SHAPES:
        CASES.append((f"pad-{_mode}-{_shape}-{_pad}",
                      lambda m, x, p=_pad, md=_mode: fpad(m)(x, p, mode=md), (randn(*_shape),)))
for _shape, _pad in PAD_SHAPES:
    CASES.append((f"pad-constant-{_shape}-{_pad}",
                  lambda m, x, p=_pad: fpad(m)(x, p, value=-2.0), (randn(*_shape),)))

IDS = [c[0] for c in CASES]


def _both(f):
    return (lambda *a: f(nnlab, *a)), (lambda *a: f(torch, *a))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,f,args", CASES, ids=IDS)
def test_matches_torch(name, f, args, dtype):
    check_op(*_both(f), *args, dtype=dtype)


@pytest.mark.parametrize("name,f,args", CASES, ids=IDS)
def test_gradcheck(name, f, args):
    check_grad(lambda *a: f(nnlab, *a), *args)


@pytest.mark.parametrize("f,args", [
    (lambda m, a, b: m.cat([a, b], 1), (np.arange(6).reshape(2, 3), np.ones((2, 1), int))),
    (lambda m, a, b: m.stack([a, b], -1), (np.arange(3), np.arange(3, 6))),
    (lambda m, x: m.split(x, 2), (np.arange(5),)),
    (lambda m, x: m.roll(x, 1, 0), (np.arange(4),)),
    (lambda m, x: m.flip(x, (0,)), (np.array([True, False, False]),)),
])
def test_integer_and_bool_inputs(f, args):
    check_op(*_both(f), *args, grad=False)


def test_cat_promotes_and_returns_grads_in_input_dtypes():
    a = nnlab.tensor(randn(2, 2).astype(np.float32), requires_grad=True)
    b = nnlab.tensor(randn(1, 2), requires_grad=True)
    i = nnlab.tensor(np.ones((1, 2), dtype=np.int64))
    y = nnlab.cat([a, b, i])
    assert y.dtype == np.float64
    (y * 2).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad.numpy(), 2 * np.ones((2, 2)))


# -- hypothesis over random shapes -----------------------------------------------------
shapes = st.lists(st.integers(1, 4), min_size=0, max_size=4).map(tuple)


@settings(max_examples=15, deadline=None)
@given(shape=shapes, data=st.data())
def test_reshape_random(shape, data):
    target = list(data.draw(st.permutations(shape)))
    if target and data.draw(st.booleans()):
        target[data.draw(st.integers(0, len(target) - 1))] = -1
    target = tuple(target)
    check_op(lambda x: x.reshape(target), lambda x: x.reshape(target), randn(*shape))


@settings(max_examples=15, deadline=None)
@given(shape=shapes, data=st.data())
def test_permute_random(shape, data):
    dims = tuple(data.draw(st.permutations(range(len(shape)))))
    check_op(lambda x: x.permute(dims), lambda x: x.permute(dims), randn(*shape))


@settings(max_examples=15, deadline=None)
@given(shape=shapes.filter(len), data=st.data())
def test_transpose_random(shape, data):
    d = st.integers(-len(shape), len(shape) - 1)
    d0, d1 = data.draw(d), data.draw(d)
    check_op(lambda x: x.transpose(d0, d1), lambda x: x.transpose(d0, d1), randn(*shape))


@settings(max_examples=15, deadline=None)
@given(shape=shapes.filter(len), data=st.data())
def test_flip_random(shape, data):
    dims = tuple(data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True)))
    check_op(lambda x: x.flip(dims), lambda x: x.flip(dims), randn(*shape))


# -- views share the version counter; copies do not ------------------------------------
VIEWS = [
    lambda x: x.view(6),
    lambda x: x.reshape(3, 2),
    lambda x: x.transpose(0, 1),
    lambda x: x.permute(1, 0),
    lambda x: x.flatten(),
    lambda x: x.unsqueeze(0),
    lambda x: x.unsqueeze(0).squeeze(0),
    lambda x: x.movedim(0, 1),
    lambda x: x.split(1)[1],
    lambda x: x.chunk(2, 1)[0],
    lambda x: x.unbind(1)[2],
]


@pytest.mark.parametrize("requires_grad", [False, True])
@pytest.mark.parametrize("make", VIEWS)
def test_view_shares_version_and_memory(make, requires_grad):
    x = nnlab.tensor(randn(2, 3), requires_grad=requires_grad)
    y = make(x)
    with nnlab.no_grad():
        y.add_(1)
    assert x._version == 1 and y._version == 1
    assert (x.detach().numpy() - randn(2, 3)).sum() == pytest.approx(y.numel())


@pytest.mark.parametrize("make", [
    lambda x: x.flip(0), lambda x: x.roll(1, 0), lambda x: x.repeat(1, 1), lambda x: x.tril(),
    lambda x: nnlab.pad(x, (0, 0)), lambda x: nnlab.cat([x]), lambda x: nnlab.stack([x]),
])
def test_copies_do_not_share(make):
    x = nnlab.tensor(randn(2, 3))
    y = make(x)
    with nnlab.no_grad():
        y.add_(1)
    assert x._version == 0
    np.testing.assert_array_equal(x.numpy(), randn(2, 3))


def test_inplace_on_view_of_saved_tensor_is_caught():
    x = nnlab.tensor(randn(2, 3), requires_grad=True)
    h = x * 1
    y = h.exp()                  # saves its output
    with nnlab.no_grad():
        y.view(6).add_(1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


# -- errors ----------------------------------------------------------------------------
def t(*shape):
    return nnlab.tensor(randn(*shape))


ERRORS = [
    (lambda: t(2, 3).T.view(6), RuntimeError, r"view: .*\(3, 2\).*\(6,\) without a copy"),
    (lambda: t(2, 3).mT.view(-1), RuntimeError, r"use \.reshape"),
    (lambda: t(2, 3).view(4), RuntimeError, r"view: shape \(4,\) is invalid .* \(2, 3\)"),
    (lambda: t(2, 3).reshape(-1, -1), RuntimeError, r"reshape: .*at most one -1"),
    (lambda: t(0, 3).reshape(-1, 0), RuntimeError, r"reshape: shape \(-1, 0\) is invalid"),
    (lambda: nnlab.cat([t(2, 3), t(3, 4)], 1), RuntimeError,
     r"cat: tensor 1 has shape \(3, 4\) but tensor 0 has shape \(2, 3\).*dimension 1"),
    (lambda: nnlab.cat([t(2, 3), t(2, 3), t(3)]), RuntimeError,
     r"cat: tensor 2 has shape \(3,\) with 1 dimensions but tensor 0 has shape \(2, 3\)"),
    (lambda: nnlab.cat([t(2), t()]), RuntimeError, r"cat: tensor 1 is 0-d"),
    (lambda: nnlab.cat([]), ValueError, r"cat: expected a non-empty list"),
    (lambda: nnlab.cat([t(2), randn(2)]), TypeError, r"cat: .*element 1 is a ndarray"),
    (lambda: nnlab.cat([t(2, 3)], 2), IndexError, r"cat: dimension 2 is out of range"),
    (lambda: nnlab.stack([t(2, 3), t(2, 3), t(3, 2)]), RuntimeError,
     r"stack: tensor 2 has shape \(3, 2\) but tensor 0 has shape \(2, 3\)"),
    (lambda: nnlab.stack(()), ValueError, r"stack: expected a non-empty list"),
    (lambda: nnlab.stack([t(2)], 2), IndexError, r"stack: dimension 2 is out of range"),
    (lambda: t(2, 3).transpose(0, 2), IndexError,
     r"transpose: dimension 2 is out of range .* \[-2, 1\]"),
    (lambda: t(2, 3).permute(0), RuntimeError, r"permute: dims \(0,\) has 1 entries"),
    (lambda: t(2, 3).permute(0, 0), RuntimeError, r"permute: .*more than once"),
    (lambda: t(2, 3).movedim((0, 1), 0), RuntimeError, r"movedim: source \(0, 1\)"),
    (lambda: t(2, 3).unsqueeze(3), IndexError, r"unsqueeze: dimension 3 .* \[-3, 2\]"),
    (lambda: t(2, 3).squeeze(2), IndexError, r"squeeze: dimension 2"),
    (lambda: t(2, 3).flatten(1, 0), RuntimeError, r"flatten: start_dim 1 comes after"),
    (lambda: t(4).split([1, 2]), RuntimeError, r"split: sizes \[1, 2\] .* add up to 4"),
    (lambda: t(4).split(0), RuntimeError, r"split: split_size must be positive"),
    (lambda: t().split(1), RuntimeError, r"split: .*0-d"),
    (lambda: t(4).chunk(0), RuntimeError, r"chunk: chunks must be positive"),
    (lambda: t().unbind(), RuntimeError, r"unbind: .*0-d"),
    (lambda: t(2, 3).repeat(2), RuntimeError, r"repeat: 1 repeat sizes .* at least 2"),
    (lambda: t(2, 3).repeat(2, -1), RuntimeError, r"repeat: .*non-negative"),
    (lambda: t(2, 3).roll((1, 2), 0), RuntimeError, r"roll: shifts \(1, 2\) and dims \(0,\)"),
    (lambda: t(2, 3).roll((1, 2)), RuntimeError, r"roll: with dims None"),
    (lambda: t(3).tril(), RuntimeError, r"tril: .*at least 2 dimensions.*\(3,\)"),
    (lambda: t(3).triu(), RuntimeError, r"triu: .*at least 2 dimensions"),
    (lambda: t(2, 3).flip((0, -2)), RuntimeError, r"flip: .*more than once"),
    (lambda: nnlab.pad(t(2, 3), (1,)), ValueError, r"pad: .*even length"),
    (lambda: nnlab.pad(t(3), (1, 1, 1, 1)), ValueError, r"pad: .*pads 2 dimensions .*only 1"),
    (lambda: nnlab.pad(t(1, 3), (1, 1), mode="wrap"), ValueError,
     r"pad: unknown padding mode 'wrap'"),
    (lambda: nnlab.pad(t(1, 3), (3, 0), mode="reflect"), ValueError,
     r"pad: reflect padding \(3, 0\) of dimension 1 .*less than the size 3"),
    (lambda: nnlab.pad(t(1, 3), (4, 0), mode="circular"), ValueError,
     r"pad: circular .*wrap around more than once"),
    (lambda: nnlab.pad(t(1, 0), (1, 0), mode="replicate"), ValueError,
     r"pad: replicate .*empty dimension"),
    (lambda: nnlab.pad(t(1, 3), (-2, -2)), ValueError, r"pad: .*negative size"),
]


@pytest.mark.parametrize("fn,error,pattern", ERRORS)
def test_errors(fn, error, pattern):
    with pytest.raises(error, match=pattern):
        fn()


def test_view_errors_where_torch_does():
    x = torch.zeros(2, 3).t()
    with pytest.raises(RuntimeError):
        x.view(6)
    assert x.view(3, 2, 1).shape == nnlab.zeros(2, 3).T.view(3, 2, 1).shape


def test_multi_output_gradient_of_unused_pieces_is_zero():
    x = nnlab.tensor(randn(4, 3), requires_grad=True)
    a, b = x.split(2)
    (a * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.r_[np.full((2, 3), 3.0), np.zeros((2, 3))])


def test_pad_second_derivative_through_grad_node():
    x = nnlab.tensor(randn(1, 2, 5), requires_grad=True)
    w = nnlab.tensor(randn(1, 2, 9, seed=3))
    for mode in ["reflect", "replicate", "circular"]:
        y = (nnlab.pad(x, (3, 1), mode=mode) * w).pow(2).sum()
        g, = nnlab.autograd.grad(y, x, create_graph=True)
        assert g.requires_grad
        hv, = nnlab.autograd.grad(g.sum(), x)
        tx = torch.tensor(x.detach().numpy(), requires_grad=True)
        ty = (torch.nn.functional.pad(tx, (3, 1), mode=mode) * torch.tensor(w.numpy())).pow(2)
        tg, = torch.autograd.grad(ty.sum(), tx, create_graph=True)
        thv, = torch.autograd.grad(tg.sum(), tx)
        np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-10)
        np.testing.assert_allclose(hv.numpy(), thv.numpy(), rtol=1e-10)
