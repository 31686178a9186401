"""Transformer layers, stacks and the full encoder-decoder against torch through state_dict:
both norm orders, relu / gelu / a callable, batch_first, unbatched, bool and float masks;
outputs and the gradients of the inputs and every parameter, float64 and float32. torch runs
in eval mode with dropout 0 and its fast path switched off (a fixture); with gradients
needed it would not take it anyway. Plus the causal mask, cloning, initialisation,
causality, dropout and errors."""
import copy
import math

import numpy as np
import pytest

import nnlab
import nnlab.nn.functional as F
from nnlab import nn
from tests.nn.test_multihead_attention import (
    bool_mask,
    check_twins,
    float_mask,
    no_torch_fast_path,  # noqa: F401 (an autouse fixture)
    randn,
    twins,
)

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")

D, NHEAD, FF, N, S, T = 8, 2, 16, 2, 5, 4
F32 = dict(rtol=1e-4, atol=1e-5)  # deeper graphs than one op: float32 rounding adds up


def _layout(batch_first, length, batched=True):
    if not batched:
        return (length, D)
    return (N, length, D) if batch_first else (length, N, D)


def _tol(dtype):
    return F32 if dtype == np.float32 else {}


def causal(length):
    return np.triu(np.full((length, length), -np.inf), 1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("norm_first", [False, True], ids=["post-LN", "pre-LN"])
def test_encoder_layer_matches_torch(norm_first, activation, dtype):
    m, tm = twins("TransformerEncoderLayer", D, NHEAD, FF, 0.0, activation,
                  norm_first=norm_first, dtype=dtype)
    call = lambda m, x, mask, kpm: m(x, src_mask=mask, src_key_padding_mask=kpm)
    check_twins(m, tm, call, [randn(S, N, D)], [float_mask(S, S), float_mask(N, S, seed=1)],
                dtype=dtype, **_tol(dtype))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("norm_first", [False, True], ids=["post-LN", "pre-LN"])
def test_decoder_layer_matches_torch(norm_first, activation, dtype):
    m, tm = twins("TransformerDecoderLayer", D, NHEAD, FF, 0.0, activation,
                  norm_first=norm_first, batch_first=True, dtype=dtype)
    call = lambda m, x, mem, tmask, mmask, tkpm, mkpm: m(
        x, mem, tgt_mask=tmask, memory_mask=mmask, tgt_key_padding_mask=tkpm,
        memory_key_padding_mask=mkpm)
    check_twins(m, tm, call, [randn(N, T, D), randn(N, S, D, seed=1)],
                [causal(T), bool_mask(T, S, seed=2), float_mask(N, T, seed=3, free_column=0),
                 bool_mask(N, S, seed=4)], dtype=dtype, **_tol(dtype))


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
def test_layers_with_a_callable_activation_and_no_bias(batched):
    """A Module activation is a child (in the repr); bias=False drops every bias."""
    kwargs = dict(dim_feedforward=FF, dropout=0.0, activation=torch.nn.GELU(), bias=False)
    tm = torch.nn.TransformerEncoderLayer(D, NHEAD, **kwargs).double()
    m = nn.TransformerEncoderLayer(D, NHEAD, **dict(kwargs, activation=nn.GELU()))
    m.to(np.float64).load_state_dict({k: v.detach().numpy() for k, v in
                                       tm.state_dict().items()})
    assert repr(m) == repr(tm)
    check_twins(m.eval(), tm.eval(), lambda m, x: m(x),
                [randn(*_layout(False, S, batched))])
    m, tm = twins("TransformerDecoderLayer", D, NHEAD, FF, 0.0, lambda x: F.silu(x) * 2,
                  bias=False)
    tm.activation = lambda x: torch.nn.functional.silu(x) * 2
    check_twins(m, tm, lambda m, x, mem: m(x, mem),
                [randn(*_layout(False, T, batched)), randn(*_layout(False, S, batched))])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("norm_first", [False, True], ids=["post-LN", "pre-LN"])
def test_encoder_and_decoder_stacks_match_torch(norm_first, dtype):
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(D, NHEAD, FF, 0.0, norm_first=norm_first)
    tm = torch.nn.TransformerEncoder(layer, 2, torch.nn.LayerNorm(D))
    m = nn.TransformerEncoder(nn.TransformerEncoderLayer(D, NHEAD, FF, 0.0,
                                                         norm_first=norm_first), 2,
                              nn.LayerNorm(D))
    _load(m, tm, dtype)
    check_twins(m, tm, lambda m, x, mask, kpm: m(x, mask=mask, src_key_padding_mask=kpm),
                [randn(S, N, D)], [causal(S) < 0, bool_mask(N, S, seed=1, free_column=0)],
                dtype=dtype,
                **_tol(dtype))
    layer = torch.nn.TransformerDecoderLayer(D, NHEAD, FF, 0.0, norm_first=norm_first)
    tm = torch.nn.TransformerDecoder(layer, 2)
    m = nn.TransformerDecoder(nn.TransformerDecoderLayer(D, NHEAD, FF, 0.0,
                                                         norm_first=norm_first), 2)
    _load(m, tm, dtype)
    check_twins(m, tm, lambda m, x, mem, mask: m(x, mem, tgt_mask=mask, tgt_is_causal=True),
                [randn(T, N, D), randn(S, N, D, seed=1)], [causal(T)], dtype=dtype,
                **_tol(dtype))


def _load(m, tm, dtype):
    tm.to(getattr(torch, np.dtype(dtype).name)).eval()
    m.to(dtype).eval()
    assert list(m.state_dict()) == list(tm.state_dict())
    m.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch_first, norm_first", [(False, False), (True, True)],
                         ids=["seq-first-post-LN", "batch_first-pre-LN"])
def test_transformer_matches_torch(batch_first, norm_first, dtype):
    m, tm = twins("Transformer", D, NHEAD, 2, 2, FF, 0.0, "gelu", batch_first=batch_first,
                  norm_first=norm_first, dtype=dtype)
    assert repr(m) == repr(tm)

    def call(m, src, tgt, tgt_mask, src_kpm, tgt_kpm):
        return m(src, tgt, tgt_mask=tgt_mask, src_key_padding_mask=src_kpm,
                 tgt_key_padding_mask=tgt_kpm, memory_key_padding_mask=src_kpm,
                 tgt_is_causal=True)
    check_twins(m, tm, call, [randn(*_layout(batch_first, S)),
                              randn(*_layout(batch_first, T), seed=1)],
                [causal(T) < 0, bool_mask(N, S, seed=2),
                 bool_mask(N, T, seed=3, free_column=0)], dtype=dtype, **_tol(dtype))


def test_transformer_unbatched_with_memory_mask():
    m, tm = twins("Transformer", D, NHEAD, 1, 1, FF, 0.0)
    call = lambda m, src, tgt, src_mask, mem_mask: m(src, tgt, src_mask=src_mask,
                                                     memory_mask=mem_mask)
    check_twins(m, tm, call, [randn(S, D), randn(T, D, seed=1)],
                [float_mask(S, S, seed=2), bool_mask(T, S, seed=3)])


def test_generate_square_subsequent_mask_is_torchs():
    for sz in (1, 4):
        mask = nn.Transformer.generate_square_subsequent_mask(sz)
        np.testing.assert_array_equal(
            mask.numpy(), torch.nn.Transformer.generate_square_subsequent_mask(sz).numpy())
        assert mask.dtype == np.float32
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=nnlab.float64)
    assert mask.dtype == np.float64


# -- construction ------------------------------------------------------------------------
def test_clones_are_independent_deep_copies():
    layer = nn.TransformerEncoderLayer(D, NHEAD, FF)
    enc = nn.TransformerEncoder(layer, 3)
    params = [dict(enc.layers[i].named_parameters()) for i in range(3)]
    assert all(params[0][k] is not params[1][k] for k in params[0])
    assert all(params[0][k] is not dict(layer.named_parameters())[k] for k in params[0])
    for k, p in params[0].items():  # torch copies: the values start equal
        np.testing.assert_array_equal(p.detach().numpy(), params[2][k].detach().numpy())
    with nnlab.no_grad():
        enc.layers[0].linear1.weight.fill_(1.0)
    assert not np.all(enc.layers[1].linear1.weight.detach().numpy() == 1.0)
    assert not np.all(layer.linear1.weight.detach().numpy() == 1.0)
    assert [k.split(".")[1] for k in enc.state_dict()][::len(params[0])] == ["0", "1", "2"]


def test_transformer_initialisation_is_torchs():
    """Every parameter with more than one dimension is redrawn xavier_uniform_."""
    nnlab.manual_seed(0)
    m = nn.Transformer(16, 2, 1, 1, 32)
    for name, p in m.named_parameters():
        w = p.detach().numpy()
        if w.ndim > 1:
            bound = math.sqrt(6 / sum(w.shape))
            assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound, name
    sd = nn.Transformer(16, 2, 1, 1, 32).state_dict()
    tsd = torch.nn.Transformer(16, 2, 1, 1, 32).state_dict()
    assert {k: tuple(v.shape) for k, v in sd.items()} == \
        {k: tuple(v.shape) for k, v in tsd.items()}


def test_custom_encoder_and_deepcopy_of_a_whole_model():
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(D, NHEAD, FF, 0.0), 1)
    m = nn.Transformer(D, NHEAD, dim_feedforward=FF, num_decoder_layers=1, dropout=0.0,
                       custom_encoder=encoder).eval()
    assert m.encoder is encoder and encoder.norm is None
    twin = copy.deepcopy(m)
    src, tgt = nnlab.randn(S, N, D), nnlab.randn(T, N, D)
    np.testing.assert_array_equal(m(src, tgt).detach().numpy(),
                                  twin(src, tgt).detach().numpy())


# -- behaviour ---------------------------------------------------------------------------
def test_the_causal_mask_hides_the_future():
    """With tgt_mask causal, output t depends on targets <= t only."""
    nnlab.manual_seed(0)
    m = nn.Transformer(D, NHEAD, 1, 2, FF, dropout=0.0, batch_first=True).eval()
    src, tgt = nnlab.randn(N, S, D), randn(N, T, D)
    mask = nn.Transformer.generate_square_subsequent_mask(T)
    out = m(src, nnlab.tensor(tgt.astype(np.float32)), tgt_mask=mask).detach().numpy()
    changed = tgt.copy()
    changed[:, 2:] += 1.0
    out2 = m(src, nnlab.tensor(changed.astype(np.float32)), tgt_mask=mask).detach().numpy()
    np.testing.assert_allclose(out[:, :2], out2[:, :2], rtol=1e-5, atol=1e-6)
    assert np.abs(out[:, 2:] - out2[:, 2:]).max() > 1e-3


def test_dropout_is_on_in_training_and_off_in_eval():
    nnlab.manual_seed(0)
    m = nn.TransformerEncoderLayer(D, NHEAD, FF, dropout=0.5)
    x = nnlab.randn(S, N, D)
    assert not np.allclose(m(x).detach().numpy(), m(x).detach().numpy())
    m.eval()
    np.testing.assert_array_equal(m(x).detach().numpy(), m(x).detach().numpy())


# -- errors ------------------------------------------------------------------------------
def test_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"TransformerEncoderLayer: activation should be "
                                         r"'relu', 'gelu' or a callable, not 'tanh'"):
        nn.TransformerEncoderLayer(D, NHEAD, activation="tanh")
    with pytest.raises(ValueError, match=r"TransformerEncoder: num_layers must be at least 1"):
        nn.TransformerEncoder(nn.TransformerEncoderLayer(D, NHEAD), 0)
    m = nn.Transformer(D, NHEAD, 1, 1, FF)
    with pytest.raises(ValueError, match=r"Transformer\(d_model=8, nhead=2\): the batch sizes "
                                         r"of src \(5, 2, 8\) and tgt \(4, 3, 8\) must be equal"):
        m(nnlab.zeros(S, N, D), nnlab.zeros(T, 3, D))
    with pytest.raises(ValueError, match=r"src \(5, 2, 6\) and tgt \(4, 2, 8\) must have "
                                         r"d_model = 8 features"):
        m(nnlab.zeros(S, N, 6), nnlab.zeros(T, N, D))
    with pytest.raises(ValueError, match=r"MultiheadAttention\(embed_dim=8, num_heads=2\): the "
                                         r"2-D attn_mask has shape \(4, 4\), expected \(5, 5\)"):
        m(nnlab.zeros(S, N, D), nnlab.zeros(T, N, D), src_mask=nnlab.zeros(T, T))
