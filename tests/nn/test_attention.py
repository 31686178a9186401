"""F.scaled_dot_product_attention against torch's (values and the gradients of q, k, v and
a float mask), gradient checks of the math path, the flash path held equal to the math path,
the flash path's memory, and the errors."""

import numpy as np
import pytest

import nnlab
import nnlab.nn.functional as F
from nnlab.autograd import grad as nn_grad
from tests.helpers import TOLERANCES, check_grad, check_op, peak_bytes, randn

torch = pytest.importorskip("torch")
TF = torch.nn.functional
DTYPES = [np.float64, np.float32]


def _bool_mask(*shape, seed=1):
    """A random bool mask with key 0 always kept (no row fully masked)."""
    mask = np.random.default_rng(seed).random(shape) < 0.6
    mask[..., 0] = True
    return mask


def _float_mask(*shape, seed=2):
    """Additive scores: random values, some -inf, key 0 never -inf."""
    rng = np.random.default_rng(seed)
    mask = rng.standard_normal(shape)
    mask[rng.random(shape) < 0.3] = -np.inf
    mask[..., 0] = 0.5
    return mask


# (name, q shape, k shape, v shape, attn_mask array or None, keyword arguments)
PARITY = [
    ("3d", (2, 3, 4), (2, 5, 4), (2, 5, 6), None, {}),
    ("4d", (2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3), None, {}),
    ("2d", (3, 4), (5, 4), (5, 2), None, {}),
    ("scale", (2, 3, 4), (2, 5, 4), (2, 5, 6), None, {"scale": 0.3}),
    ("broadcast-batch", (2, 2, 3, 4), (1, 2, 5, 4), (2, 1, 5, 4), None, {}),
    ("mixed-ranks", (2, 3, 4), (5, 4), (5, 3), None, {}),
    ("causal", (2, 2, 5, 4), (2, 2, 5, 4), (2, 2, 5, 3), None, {"is_causal": True}),
    ("causal-L>S", (1, 2, 6, 4), (1, 2, 4, 4), (1, 2, 4, 3), None, {"is_causal": True}),
    ("causal-L<S", (1, 2, 3, 4), (1, 2, 6, 4), (1, 2, 6, 3), None, {"is_causal": True}),
    ("bool-LS", (2, 3, 4), (2, 5, 4), (2, 5, 6), _bool_mask(3, 5), {}),
    ("bool-B1LS", (2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3), _bool_mask(2, 1, 3, 5), {}),
    ("float-LS", (2, 3, 4), (2, 5, 4), (2, 5, 6), _float_mask(3, 5), {}),
    ("float-B1LS", (2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3), _float_mask(2, 1, 3, 5), {}),
    ("float-full", (2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3), _float_mask(2, 2, 3, 5),
     {"scale": 2.0}),
    ("gqa", (1, 4, 3, 4), (1, 2, 5, 4), (1, 2, 5, 3), None, {"enable_gqa": True}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, qs, ks, vs, mask, kwargs", PARITY, ids=[c[0] for c in PARITY])
def test_sdpa_matches_torch(name, qs, ks, vs, mask, kwargs, dtype):
    args = [randn(*qs, seed=3), randn(*ks, seed=4), randn(*vs, seed=5)]
    if mask is not None:
        args.append(mask)
    check_op(lambda *a: F.scaled_dot_product_attention(*a, **kwargs),
             lambda *a: TF.scaled_dot_product_attention(*a, **kwargs), *args, dtype=dtype)


@pytest.mark.parametrize("mask", [np.array([[True, True, False], [False, False, False]]),
                                  np.array([[0.0, -np.inf, 1.0], [-np.inf] * 3])],
                         ids=["bool", "float"])
def test_a_fully_masked_row_gives_zeros_as_torch(mask):
    # torch 2.13 returns zeros (not NaN) for a row with no key to attend to, on its default
    # and its math backend alike, and no gradient flows through that row
    args = [randn(2, 2, 4, seed=6), randn(2, 3, 4, seed=7), randn(2, 3, 5, seed=8), mask]
    check_op(F.scaled_dot_product_attention, TF.scaled_dot_product_attention, *args)
    q, k, v = (nnlab.tensor(a, requires_grad=True) for a in args[:3])
    out = F.scaled_dot_product_attention(q, k, v, nnlab.tensor(mask))
    assert np.all(out._data[:, 1] == 0) and np.isfinite(out._data).all()
    out.sum().backward()
    assert np.all(q.grad._data[:, 1] == 0) and np.isfinite(k.grad._data).all()


# (q shape, k shape, v shape, mask or None, kwargs): tiny float64 cases for gradcheck
GRADCHECK = [
    ((1, 3, 2), (1, 4, 2), (1, 4, 3), None, {}),
    ((2, 3, 2), (2, 3, 2), (2, 3, 2), None, {"is_causal": True}),
    ((1, 2, 2), (1, 3, 2), (1, 3, 2), np.array([[True, False, True], [False] * 3]), {}),
    ((1, 2, 2), (1, 3, 2), (1, 3, 2), np.array([[0.5, -np.inf, -1.0], [0.0, 1.0, 2.0]]), {}),
]


@pytest.mark.parametrize("qs, ks, vs, mask, kwargs", GRADCHECK,
                         ids=["plain", "causal", "bool-mask-empty-row", "float-mask"])
def test_math_path_gradcheck_and_gradgradcheck(qs, ks, vs, mask, kwargs):
    args = [randn(*qs, seed=9), randn(*ks, seed=10), randn(*vs, seed=11)]
    if mask is not None:
        mask = nnlab.tensor(mask)   # a constant here (gradcheck perturbs every float input)
    check_grad(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, mask, **kwargs), *args)


# -- flash == math ---------------------------------------------------------------------
# (batch, L, S, is_causal, block_size)
FLASH = [
    ((2, 3), 37, 37, False, 8),          # N not a multiple of the block
    ((2, 3), 37, 37, True, 8),
    ((2,), 64, 64, True, 16),             # a multiple
    ((1, 2), 1, 1, False, 128),          # N = 1
    ((1, 2), 1, 1, True, 4),
    ((2,), 20, 37, False, 8),            # L != S
    ((2,), 37, 20, False, (4, 16)),      # Br != Bc
    ((2,), 37, 20, True, (16, 4)),       # causal, L > S
    ((2,), 20, 37, True, (8, 5)),        # causal, L < S
    ((3,), 50, 50, True, 128),           # one tile
]


def _twin_run(fn, arrays, w):
    """fn's output and the gradients of sum(out * w) with respect to each array."""
    xs = [nnlab.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*xs)
    (out * nnlab.tensor(w)).sum().backward()
    return [out._data] + [x.grad._data for x in xs]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch, L, S, causal, block", FLASH)
def test_flash_equals_math(batch, L, S, causal, block, dtype):
    rng = np.random.default_rng(12)
    arrays = [rng.standard_normal(batch + (n, d)).astype(dtype)
              for n, d in ((L, 8), (S, 8), (S, 5))]
    w = rng.standard_normal(batch + (L, 5)).astype(dtype)
    math_ = _twin_run(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=causal),
                      arrays, w)
    flash = _twin_run(lambda q, k, v: F.flash_attention(q, k, v, causal, None, block), arrays, w)
    for what, a, b in zip(("output", "dq", "dk", "dv"), flash, math_):
        assert a.dtype == np.dtype(dtype), what
        np.testing.assert_allclose(a, b, **TOLERANCES[np.dtype(dtype).type], err_msg=what)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("causal", [False, True])
def test_flash_raises_its_reference_when_later_scores_are_far_larger(causal, dtype):
    # the first key tile sets each row's reference max; later tiles hold scores ~100 and
    # ~1000 above it (e^1000 overflows even float64), so the lazy reference must be raised.
    # Scores ~1000 leave float32 ~1e-5 of the largest value on either path: both are held
    # to the float64 math path relative to each array's largest entry
    rng = np.random.default_rng(26)
    q, k, v = (rng.standard_normal((2, 40, 8)) for _ in range(3))
    k[:, 16:24] *= 40
    k[:, 32:] *= 400
    w = rng.standard_normal((2, 40, 8))
    exact = _twin_run(lambda *a: F.scaled_dot_product_attention(*a, is_causal=causal),
                      [q, k, v], w)
    flash = _twin_run(lambda *a: F.flash_attention(*a, causal, None, 8),
                      [a.astype(dtype) for a in (q, k, v)], w.astype(dtype))
    for what, a, b in zip(("output", "dq", "dk", "dv"), flash, exact):
        assert np.isfinite(a).all(), what
        tol = 1e-10 if dtype == np.float64 else 1e-4
        np.testing.assert_allclose(a, b, rtol=0, atol=tol * np.abs(b).max(), err_msg=what)


@pytest.mark.parametrize("wrt", [(0,), (1,), (2,), (0, 2)])
def test_flash_computes_only_the_gradients_asked_for(wrt):
    arrays = [randn(2, 21, 4, seed=s) for s in (27, 28, 29)]
    grads = []
    for fn in (lambda *a: F.flash_attention(*a, True, None, 8),
               lambda *a: F.scaled_dot_product_attention(*a, is_causal=True)):
        xs = [nnlab.tensor(a, requires_grad=i in wrt) for i, a in enumerate(arrays)]
        fn(*xs).sum().backward()
        assert [x.grad is not None for x in xs] == [i in wrt for i in range(3)]
        grads.append([xs[i].grad._data for i in wrt])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_flash_with_every_tile_rebased_equals_math(monkeypatch):
    from nnlab.nn.functional import attention
    monkeypatch.setattr(attention, "_RESCALE_LIMIT", 0.0)   # no tile keeps the reference
    test_flash_equals_math((2, 3), 37, 37, True, 8, np.float64)
    test_flash_equals_math((2,), 37, 20, False, (4, 16), np.float64)


@pytest.mark.parametrize("kwargs", [{"scale": 0.7}, {"is_causal": True, "scale": 0.7},
                                    {"is_causal": True, "enable_gqa": True}])
def test_flash_through_sdpa_matches_torch(kwargs):
    heads = 1 if kwargs.get("enable_gqa") else 2
    args = [randn(2, 2, 9, 4, seed=13), randn(1, heads, 9, 4, seed=14),
            randn(2, heads, 9, 3, seed=15)]
    check_op(lambda *a: F.scaled_dot_product_attention(*a, backend="flash", **kwargs),
             lambda *a: TF.scaled_dot_product_attention(*a, **kwargs), *args)


@pytest.mark.parametrize("is_causal", [False, True])
def test_flash_gradcheck_and_gradgradcheck(is_causal):
    check_grad(lambda q, k, v: F.flash_attention(q, k, v, is_causal, None, 2),
               randn(2, 5, 3, seed=16), randn(2, 5, 3, seed=17), randn(2, 5, 2, seed=18))


def test_flash_second_derivatives_equal_the_math_paths():
    q, k, v = (nnlab.tensor(randn(1, 4, 3, seed=s), requires_grad=True) for s in (19, 20, 21))
    w = nnlab.tensor(randn(1, 4, 3, seed=22))
    found = []
    for attention in (F.flash_attention, F.scaled_dot_product_attention):
        (gq,) = nn_grad((attention(q, k, v) ** 2).sum(), q, create_graph=True)
        assert gq.requires_grad
        found.append(nn_grad((gq * w).sum(), (q, k, v)))
    for a, b in zip(*found):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


def test_flash_never_allocates_the_n_by_n_matrix():
    rng = np.random.default_rng(22)

    def step(fn, n, d=8):
        q, k, v = (nnlab.tensor(rng.standard_normal((1, n, d), dtype=np.float32),
                                requires_grad=True) for _ in range(3))
        return lambda: fn(q, k, v, is_causal=True).sum().backward()

    n = 4096
    scores = n * n * 4   # one float32 (N, N) matrix: 64 MiB
    flash = peak_bytes(step(F.flash_attention, n))
    assert flash < scores / 8, f"flash peak {flash} bytes, one N x N matrix is {scores}"
    # tracemalloc sees NumPy's arrays: the math path at N / 4 holds its (N/4, N/4) matrices
    naive = peak_bytes(step(F.scaled_dot_product_attention, n // 4))
    assert naive > 2 * scores / 16


# -- dropout ---------------------------------------------------------------------------
def test_dropout_on_the_weights_uses_nnlabs_generator():
    q, k, v = (nnlab.tensor(randn(2, 4, 3, seed=s), requires_grad=True) for s in (23, 24, 25))
    plain = F.scaled_dot_product_attention(q, k, v)._data
    nnlab.manual_seed(0)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    nnlab.manual_seed(0)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    np.testing.assert_array_equal(a._data, b._data)
    assert not np.allclose(a._data, plain)
    a.sum().backward()
    assert np.isfinite(q.grad._data).all()
    zero = F.scaled_dot_product_attention(q, k, v, dropout_p=1.0)   # every weight dropped
    np.testing.assert_array_equal(zero._data, 0)
    mean = np.mean([F.scaled_dot_product_attention(q, k, v, dropout_p=0.3)._data
                    for _ in range(400)], axis=0)
    np.testing.assert_allclose(mean, plain, atol=0.15)   # E[dropout(w)] = w


# -- errors ----------------------------------------------------------------------------
def _t(*shape, dtype=np.float32):
    return nnlab.tensor(np.zeros(shape, dtype=dtype))


ERRORS = [
    (lambda: F.scaled_dot_product_attention(_t(2, 3, 4), _t(2, 5, 3), _t(2, 5, 6)), ValueError,
     r"same embedding size E.*query \(2, 3, 4\), key \(2, 5, 3\)"),
    (lambda: F.scaled_dot_product_attention(_t(2, 3, 4), _t(2, 5, 4), _t(2, 4, 6)), ValueError,
     r"same sequence length S.*value \(2, 4, 6\)"),
    (lambda: F.scaled_dot_product_attention(_t(2, 3, 4), _t(3, 5, 4), _t(3, 5, 6)), ValueError,
     r"scaled_dot_product_attention: the batch dimensions .* do not broadcast"),
    (lambda: F.scaled_dot_product_attention(_t(4), _t(5, 4), _t(5, 6)), ValueError,
     "at least 2-D"),
    (lambda: F.scaled_dot_product_attention(_t(3, 4), _t(5, 4, dtype=np.float64), _t(5, 6)),
     TypeError, "one floating dtype"),
    (lambda: F.scaled_dot_product_attention(_t(2, 3, 4), _t(2, 5, 4), _t(2, 5, 6),
                                            attn_mask=_t(4, 5)), ValueError,
     r"attn_mask of shape \(4, 5\) does not broadcast to the scores' shape \(2, 3, 5\)"),
    (lambda: F.scaled_dot_product_attention(_t(2, 3, 4), _t(2, 5, 4), _t(2, 5, 6),
                                            attn_mask=nnlab.tensor(np.ones((3, 5), int))),
     TypeError, "attn_mask of dtype bool or of query's dtype"),
    (lambda: F.scaled_dot_product_attention(_t(3, 4), _t(5, 4), _t(5, 6),
                                            attn_mask=_t(3, 5), is_causal=True), ValueError,
     "attn_mask should not be set when is_causal=True"),
    (lambda: F.scaled_dot_product_attention(_t(3, 4), _t(5, 4), _t(5, 6), backend="cuda"),
     ValueError, "backend must be None, 'math' or 'flash'"),
    (lambda: F.scaled_dot_product_attention(_t(3, 4), _t(5, 4), _t(5, 6), attn_mask=_t(3, 5),
                                            backend="flash"), ValueError, "takes no attn_mask"),
    (lambda: F.scaled_dot_product_attention(_t(3, 4), _t(5, 4), _t(5, 6), dropout_p=0.1,
                                            backend="flash"), ValueError, "no dropout"),
    (lambda: F.scaled_dot_product_attention(_t(1, 3, 2, 4), _t(1, 2, 5, 4), _t(1, 2, 5, 6),
                                            enable_gqa=True), ValueError, "divides query's"),
    (lambda: F.flash_attention(_t(3, 4), _t(5, 3), _t(5, 6)), ValueError,
     r"flash_attention: query and key must have the same embedding size"),
    (lambda: F.flash_attention(_t(3, 4), _t(5, 4), _t(5, 6), block_size=0), ValueError,
     "block_size must be a positive int"),
    (lambda: F.scaled_dot_product_attention(_t(3, 4), _t(5, 4), _t(5, 6), 0.0, 0.0, False, 0.5),
     TypeError, "positional"),   # scale is keyword-only, as torch's
]


@pytest.mark.parametrize("call, error, match", ERRORS)
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
