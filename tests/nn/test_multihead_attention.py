"""MultiheadAttention against torch through state_dict over a grid of configurations
(self and cross attention, kdim/vdim, batch_first, unbatched, bool and float masks of
every shape, bias_k/v, zero attention, need_weights, average_attn_weights): outputs,
weights and the gradients of the inputs and every parameter, float64 and float32; plus
gradcheck, initialisation, dropout, fully masked rows and the errors.

torch's fast path (eval mode, no grad) is switched off by a fixture; it is never taken
here anyway, since every comparison needs gradients."""
import math

import numpy as np
import pytest

import nnlab
from nnlab import nn
from tests.helpers import TOLERANCES, check_grad

torch = pytest.importorskip("torch")

E, H, L, S, N = 8, 2, 3, 4, 2


@pytest.fixture(autouse=True)
def no_torch_fast_path():
    enabled = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    yield
    torch.backends.mha.set_fastpath_enabled(enabled)


# -- shared by test_transformer.py -------------------------------------------------------
def twins(name, *args, dtype=np.float64, train=False, **kwargs):
    """(nnlab module, torch module) of class `name`, torch's state loaded into nnlab's."""
    torch.manual_seed(0)
    tm = getattr(torch.nn, name)(*args, **kwargs).to(getattr(torch, np.dtype(dtype).name))
    m = getattr(nn, name)(*args, **kwargs).to(dtype)
    assert list(m.state_dict()) == list(tm.state_dict())
    m.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    return m.train(train), tm.train(train)


def check_twins(m, tm, call, inputs, masks=(), dtype=np.float64, rtol=None, atol=None):
    """call(module, *inputs, *masks) gives the same outputs in nnlab and torch, and the
    same gradients of sum(out * v) with respect to the inputs and every parameter. Float
    inputs require grad; masks are constants (None allowed)."""
    tol = dict(TOLERANCES[np.dtype(dtype).type])
    tol.update({k: v for k, v in (("rtol", rtol), ("atol", atol)) if v is not None})
    xs = [nnlab.tensor(a.astype(dtype), requires_grad=True) for a in inputs]
    ts = [torch.tensor(a.astype(dtype), requires_grad=True) for a in inputs]
    ms = [None if a is None else nnlab.tensor(_cast(a, dtype)) for a in masks]
    tms = [None if a is None else torch.tensor(_cast(a, dtype)) for a in masks]
    outs, touts = call(m, *xs, *ms), call(tm, *ts, *tms)
    outs = outs if isinstance(outs, tuple) else (outs,)
    touts = touts if isinstance(touts, tuple) else (touts,)
    rng = np.random.default_rng(1)
    loss, tloss = 0, 0
    for k, (o, t) in enumerate(zip(outs, touts)):
        assert (o is None) == (t is None), f"output {k}: {o} vs torch {t}"
        if o is None:
            continue
        assert o.shape == tuple(t.shape), f"output {k}: shape {o.shape} vs {tuple(t.shape)}"
        assert o.dtype == dtype
        np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), **tol,
                                   err_msg=f"output {k}")
        v = rng.standard_normal(o.shape).astype(dtype)
        loss, tloss = loss + (o * nnlab.tensor(v)).sum(), tloss + (t * torch.tensor(v)).sum()
    loss.backward()
    tloss.backward()
    for i, (x, t) in enumerate(zip(xs, ts)):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), **tol,
                                   err_msg=f"gradient of input {i}")
    tparams = dict(tm.named_parameters())
    for name, p in m.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tparams[name].grad.numpy(), **tol,
                                   err_msg=f"gradient of {name}")


def _cast(a, dtype):
    return a.astype(dtype) if a.dtype.kind == "f" else a


def bool_mask(*shape, seed=0, free_column=1):
    """A random bool mask (True = not allowed) that never masks column `free_column`."""
    mask = np.random.default_rng(seed).random(shape) < 0.4
    mask[..., free_column] = False
    return mask


def float_mask(*shape, seed=0, free_column=1):
    """An additive mask: random values, -inf where bool_mask is True."""
    values = 0.5 * np.random.default_rng(seed + 1).standard_normal(shape)
    return np.where(bool_mask(*shape, seed=seed, free_column=free_column), -np.inf, values)


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# -- parity grid -------------------------------------------------------------------------
MASKS = {"bool": bool_mask, "float": float_mask}

# id: (constructor kwargs, attention kind, key_padding_mask, attn_mask (type, ndim))
CASES = {
    "self": (dict(), "self", None, None),
    "cross": (dict(), "cross", None, None),
    "q-k-v-distinct": (dict(), "qkv", None, None),
    "kdim-vdim": (dict(kdim=5, vdim=3), "qkv", None, None),
    "kdim-vdim-no-bias": (dict(kdim=5, vdim=3, bias=False), "qkv", "bool", None),
    "batch_first-self": (dict(batch_first=True), "self", "bool", ("bool", 2)),
    "batch_first-cross": (dict(batch_first=True), "cross", None, ("float", 3)),
    "kpm-bool": (dict(), "self", "bool", None),
    "kpm-float": (dict(), "cross", "float", None),
    "mask2d-bool": (dict(), "cross", None, ("bool", 2)),
    "mask2d-float": (dict(), "cross", None, ("float", 2)),
    "mask3d-bool": (dict(), "cross", None, ("bool", 3)),
    "mask3d-float": (dict(), "self", None, ("float", 3)),
    "kpm-and-mask-bool": (dict(), "cross", "bool", ("bool", 3)),
    "kpm-and-mask-float": (dict(), "cross", "float", ("float", 2)),
    "no-bias": (dict(bias=False), "self", None, ("float", 2)),
    "bias_kv": (dict(add_bias_kv=True), "cross", "bool", ("bool", 2)),
    "zero_attn": (dict(add_zero_attn=True), "qkv", "float", ("float", 3)),
    "bias_kv-zero_attn": (dict(add_bias_kv=True, add_zero_attn=True), "self", None, None),
}


def _masks(kind, kpm, mask, batched=True):
    """key_padding_mask (N, S) and attn_mask (L, S) or (N * H, L, S) (L = S for
    self-attention; no N unbatched) of the asked types, or None."""
    target = S if kind == "self" else L
    batch = (N,) if batched else ()
    heads = (N * H,) if batched else (H,)
    shape = (target, S) if mask is None or mask[1] == 2 else heads + (target, S)
    return [None if kpm is None else MASKS[kpm](*batch, S, seed=2),
            None if mask is None else MASKS[mask[0]](*shape, seed=3)]


def _inputs(kwargs, kind, batched=True):
    kdim, vdim = kwargs.get("kdim", E), kwargs.get("vdim", E)
    lead = lambda t: ((N, t) if kwargs.get("batch_first") else (t, N)) if batched else (t,)
    q = randn(*lead(S if kind == "self" else L), E, seed=5)
    if kind == "self":
        return [q]
    if kind == "cross":
        return [q, randn(*lead(S), E, seed=6)]
    return [q, randn(*lead(S), kdim, seed=6), randn(*lead(S), vdim, seed=7)]


def _call(kind, need_weights, average, is_causal=False):
    """call(module, *inputs, key_padding_mask, attn_mask) for check_twins."""
    def call(m, *args):
        *xs, kpm, mask = args
        q, k, v = xs + xs[-1:] * (3 - len(xs))  # (x, x, x), (q, m, m) or (q, k, v)
        return m(q, k, v, key_padding_mask=kpm, need_weights=need_weights, attn_mask=mask,
                 average_attn_weights=average, is_causal=is_causal)
    return call


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("need_weights, average", [(True, True), (True, False),
                                                   (False, True)])
@pytest.mark.parametrize("case", list(CASES))
def test_multihead_attention_matches_torch(case, need_weights, average, dtype):
    kwargs, kind, kpm, mask = CASES[case]
    m, tm = twins("MultiheadAttention", E, H, dtype=dtype, **kwargs)
    check_twins(m, tm, _call(kind, need_weights, average), _inputs(kwargs, kind),
                _masks(kind, kpm, mask), dtype=dtype)


@pytest.mark.parametrize("need_weights, average", [(True, True), (True, False),
                                                   (False, True)])
@pytest.mark.parametrize("kwargs, kind, kpm, mask", [
    (dict(batch_first=True), "self", None, None),
    (dict(batch_first=True), "cross", "bool", ("bool", 3)),
    (dict(kdim=5, vdim=3), "qkv", "float", ("float", 2)),
], ids=["self", "cross-masks", "qkv-masks"])
def test_unbatched_input_matches_torch(kwargs, kind, kpm, mask, need_weights, average):
    m, tm = twins("MultiheadAttention", E, H, **kwargs)
    check_twins(m, tm, _call(kind, need_weights, average), _inputs(kwargs, kind, False),
                _masks(kind, kpm, mask, batched=False))


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
@pytest.mark.parametrize("need_weights", [True, False])
def test_mixed_mask_types_match_torch(need_weights):
    """A bool key_padding_mask with a float attn_mask (torch warns that this is deprecated)."""
    m, tm = twins("MultiheadAttention", E, H)
    check_twins(m, tm, _call("cross", need_weights, True), _inputs({}, "cross"),
                [bool_mask(N, S, seed=1), float_mask(L, S, seed=2)])


@pytest.mark.parametrize("need_weights", [True, False])
def test_is_causal_hint_matches_torch(need_weights):
    causal = np.triu(np.ones((S, S), bool), 1)
    m, tm = twins("MultiheadAttention", E, H, batch_first=True)
    check_twins(m, tm, _call("self", need_weights, True, is_causal=True),
                _inputs(dict(batch_first=True), "self"), [None, causal])


@pytest.mark.parametrize("need_weights", [True, False])
def test_a_fully_masked_row_gives_what_torch_gives(need_weights):
    """NaN with the weights (a softmax over -inf), zeros from the fused attention."""
    kpm = np.zeros((N, S), bool)
    kpm[1] = True
    m, tm = twins("MultiheadAttention", E, H)
    x = randn(S, N, E)
    with np.errstate(invalid="ignore"):
        out, _ = m(*(nnlab.tensor(x),) * 3, key_padding_mask=nnlab.tensor(kpm),
                   need_weights=need_weights)
    tout, _ = tm(*(torch.tensor(x),) * 3, key_padding_mask=torch.tensor(kpm),
                 need_weights=need_weights)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-10,
                               atol=1e-12)


def test_gradcheck_to_second_order():
    nnlab.manual_seed(0)
    m = nn.MultiheadAttention(4, 2, kdim=3, add_bias_kv=True).to(np.float64)
    kpm, mask = nnlab.tensor(bool_mask(1, 3, seed=1)), nnlab.tensor(float_mask(2, 3, seed=2))
    check_grad(lambda q, k, v: m(q, k, v, key_padding_mask=kpm, attn_mask=mask)[0],
               randn(2, 1, 4), randn(3, 1, 3, seed=1), randn(3, 1, 4, seed=2))


# -- module behaviour --------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [dict(), dict(kdim=5, vdim=3), dict(bias=False),
                                    dict(add_bias_kv=True, add_zero_attn=True)])
def test_parameters_state_dict_and_repr_are_torchs(kwargs):
    m, tm = twins("MultiheadAttention", E, H, **kwargs)
    assert repr(m) == repr(tm)
    assert {k: tuple(v.shape) for k, v in m.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in tm.state_dict().items()}
    assert isinstance(m.out_proj, nn.Linear)


def test_initialisation_is_torchs():
    nnlab.manual_seed(0)
    m = nn.MultiheadAttention(64, 4)
    w = m.in_proj_weight.detach().numpy()
    bound = math.sqrt(6 / (64 + 3 * 64))  # xavier_uniform_ on (3E, E)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert not m.in_proj_bias.detach().numpy().any()
    assert not m.out_proj.bias.detach().numpy().any()
    q = nn.MultiheadAttention(64, 4, kdim=32).k_proj_weight.detach().numpy()
    assert np.abs(q).max() <= math.sqrt(6 / (64 + 32)) < np.abs(q).max() / 0.95


def test_dropout_acts_on_the_weights_in_training_only():
    nnlab.manual_seed(0)
    m = nn.MultiheadAttention(E, H, dropout=0.5)
    x = nnlab.randn(L, N, E)
    w_eval = m.eval()(x, x, x, average_attn_weights=False)[1].detach().numpy()
    np.testing.assert_allclose(w_eval.sum(-1), 1, rtol=1e-5)
    w_train = m.train()(x, x, x, average_attn_weights=False)[1].detach().numpy()
    kept = w_train != 0
    assert 0 < kept.mean() < 1
    np.testing.assert_allclose(w_train[kept], 2 * w_eval[kept], rtol=1e-5)


def test_weights_sum_to_one_and_masked_keys_get_none():
    nnlab.manual_seed(0)
    m = nn.MultiheadAttention(E, H, batch_first=True)
    x, kpm = nnlab.randn(N, L, E), bool_mask(N, L, seed=3)
    _, w = m(x, x, x, key_padding_mask=nnlab.tensor(kpm))
    np.testing.assert_allclose(w.detach().numpy().sum(-1), 1, rtol=1e-5)
    assert not w.detach().numpy()[np.broadcast_to(kpm[:, None, :], w.shape)].any()


# -- errors ------------------------------------------------------------------------------
def test_constructor_errors():
    with pytest.raises(ValueError, match=r"MultiheadAttention: embed_dim \(10\) must be "
                                         r"divisible by num_heads \(3\)"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match="must be greater than 0"):
        nn.MultiheadAttention(0, 1)


NAME = r"MultiheadAttention\(embed_dim=8, num_heads=2\): "


@pytest.mark.parametrize("shapes, kwargs, error, message", [
    (((L, N, 6), (S, N, E), (S, N, E)), {}, ValueError,
     r"query of shape \(3, 2, 6\) has 6 features, expected 8"),
    (((L, N, E), (S, E), (S, E)), {}, ValueError, r"for a 3-D query, key and value must be"),
    (((L, N, E), (S, 3, E), (S, 3, E)), {}, ValueError,
     r"query, key and value of shapes \(3, 2, 8\), \(4, 3, 8\) and \(4, 3, 8\) differ in "
     r"batch size"),
    (((L, N, E), (S, N, E), (S + 1, N, E)), {}, ValueError,
     r"key and value of shapes \(4, 2, 8\) and \(5, 2, 8\) differ in sequence length"),
    (((N, L, E), (N, S, E), (N, S, E)), dict(key_padding_mask=np.zeros((N, L), bool)),
     ValueError, r"key_padding_mask of shape \(2, 3\) does not match \(batch, source length\) "
                 r"= \(2, 4\)"),
    (((L, N, E), (S, N, E), (S, N, E)), dict(attn_mask=np.zeros((L, L))), ValueError,
     r"the 2-D attn_mask has shape \(3, 3\), expected \(3, 4\)"),
    (((L, N, E), (S, N, E), (S, N, E)), dict(attn_mask=np.zeros((H, L, S))), ValueError,
     r"the 3-D attn_mask has shape \(2, 3, 4\), expected \(4, 3, 4\)"),
    (((L, N, E), (S, N, E), (S, N, E)), dict(attn_mask=np.zeros((1, 1, L, S))), ValueError,
     r"attn_mask must be 2-D \(L, S\) or 3-D"),
    (((L, N, E), (S, N, E), (S, N, E)), dict(attn_mask=np.zeros((L, S), np.int64)), TypeError,
     r"attn_mask must be bool or floating point, got int64"),
    (((L, N, E), (S, N, E), (S, N, E)), dict(is_causal=True), RuntimeError,
     r"is_causal=True is a hint .* needs attn_mask"),
])
def test_forward_errors_name_the_layer_and_the_shapes(shapes, kwargs, error, message):
    m = nn.MultiheadAttention(E, H, batch_first=shapes[0][0] == N)
    kwargs = {k: nnlab.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    with pytest.raises(error, match=NAME + message):
        m(*(nnlab.zeros(*s) for s in shapes), **kwargs)


def test_a_dtype_mismatch_names_the_layer():
    m = nn.MultiheadAttention(E, H)
    x = nnlab.zeros(L, N, E, dtype=nnlab.float64)
    with pytest.raises(TypeError, match=NAME + r"query, key and value are float64, float64 and "
                                               r"float64 but the parameters are float32"):
        m(x, x, x)
