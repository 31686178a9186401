"""models.Seq2Seq: shapes, attention, padding, teacher forcing, decoding, a torch twin,
a small overfit, and config errors."""
import dataclasses

import numpy as np
import pytest

import nnlab
from nnlab import models, optim
from nnlab.data.datasets import reverse_digits
from nnlab.data.datasets.sequences import BOS, EOS, PAD, VOCAB_SIZE
from nnlab.nn import functional as F
from tests.helpers import requires_torch, torch

VARIANTS = [(cell, attention) for cell in ("rnn", "lstm", "gru")
            for attention in (None, "additive", "dot")]


def small(cell="gru", attention="additive", **kw):
    return models.Seq2SeqConfig(src_vocab=VOCAB_SIZE, tgt_vocab=VOCAB_SIZE, embed_dim=6,
                                hidden_size=8, cell=cell, attention=attention, **kw)


def batch(n=4, seed=0, min_len=2, max_len=6):
    pairs = reverse_digits(n, min_len, max_len, seed=seed)
    return pairs.src, pairs.tgt_in


def model_of(config, seed=0, double=True):
    nnlab.manual_seed(seed)
    model = models.Seq2Seq(config)
    return model.double() if double else model


@pytest.mark.parametrize("cell, attention", VARIANTS)
def test_shapes(cell, attention):
    model = model_of(small(cell, attention, num_layers=2))
    src, tgt_in = batch()
    logits, weights = model(src, tgt_in, return_attention=True)
    assert logits.shape == (4, 7, VOCAB_SIZE)
    if attention is None:
        assert weights is None and model.attention is None
    else:
        assert weights.shape == (4, 7, 6)
    logits.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    assert model.encoder.num_layers == model.decoder.num_layers == 2


def test_parameter_names():
    keys = list(model_of(small("lstm", "additive")).state_dict())
    assert keys[:2] == ["src_embed.weight", "tgt_embed.weight"]
    assert "encoder.weight_ih_l0" in keys and "decoder.weight_hh_l0" in keys
    assert {"attention.q_proj.weight", "attention.k_proj.weight", "attention.v.weight",
            "out.weight", "out.bias"} <= set(keys)


@requires_torch
@pytest.mark.parametrize("attention", ["additive", "dot"])
def test_attention_modules_match_torch(attention):
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((3, 4)), rng.standard_normal((3, 5, 4)), \
        rng.standard_normal((3, 5, 2))
    mask = np.zeros((3, 5), bool)
    mask[1, 3:] = mask[2, 1:] = True
    nnlab.manual_seed(0)
    module = (models.AdditiveAttention(4, 4, 6) if attention == "additive"
              else models.DotAttention()).double()
    query = nnlab.tensor(q, requires_grad=True)
    context, weights = module(query, nnlab.tensor(k), nnlab.tensor(v),
                              key_padding_mask=nnlab.tensor(mask))
    context.sum().backward()
    w = weights.detach().numpy()
    np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-12)
    assert (w[mask] == 0).all() and w[2, 0] == 1.0
    tq, tk, tv = (torch.tensor(a, requires_grad=a is q) for a in (q, k, v))
    if attention == "additive":
        wq, wk, wv = (torch.tensor(m.weight.detach().numpy())
                      for m in (module.q_proj, module.k_proj, module.v))
        scores = (torch.tanh((tq @ wq.T)[:, None] + tk @ wk.T) @ wv.T).squeeze(-1)
    else:
        scores = (tk @ tq[:, :, None]).squeeze(-1)
    tw = scores.masked_fill(torch.tensor(mask), float("-inf")).softmax(-1)
    tcontext = (tw[:, :, None] * tv).sum(1)
    tcontext.sum().backward()
    np.testing.assert_allclose(w, tw.detach().numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(context.detach().numpy(), tcontext.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(query.grad.numpy(), tq.grad.numpy(), rtol=1e-9, atol=1e-12)
    # a query per target step: (B, T, D) -> (B, T, Dv), (B, T, S)
    context, weights = module(nnlab.tensor(rng.standard_normal((3, 2, 4))), nnlab.tensor(k),
                              key_padding_mask=nnlab.tensor(mask))
    assert context.shape == (3, 2, 4) and weights.shape == (3, 2, 5)


@pytest.mark.parametrize("cell, attention", [("lstm", "additive"), ("gru", "dot"),
                                             ("rnn", None)])
def test_padding_is_ignored(cell, attention):
    model = model_of(small(cell, attention))
    src, tgt_in = batch(max_len=5)
    wider = np.concatenate([src, np.zeros((4, 3), np.int64)], axis=1)  # 3 more PAD columns
    logits, weights = model(src, tgt_in, return_attention=True)
    logits_w, weights_w = model(wider, tgt_in, return_attention=True)
    np.testing.assert_allclose(logits_w.detach().numpy(), logits.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    if attention is not None:
        w = weights_w.detach().numpy()
        np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-12)
        assert (w[np.broadcast_to((wider == PAD)[:, None], w.shape)] == 0).all()
        np.testing.assert_allclose(w[:, :, :5], weights.detach().numpy(), rtol=1e-10)


def test_teacher_forcing_feeds_the_given_targets():
    model = model_of(small("lstm", "additive", num_layers=2))
    src, tgt_in = batch()
    logits = model(src, tgt_in, teacher_forcing_ratio=1.0).detach().numpy()
    memory = model.encode(src)
    state, manual = memory.state, []
    for t in range(tgt_in.shape[1]):
        step, state, _ = model.decode_step(nnlab.tensor(tgt_in[:, t]), state, memory)
        manual.append(step.detach().numpy())
    np.testing.assert_allclose(logits, np.stack(manual, 1), rtol=1e-12, atol=1e-14)
    changed = tgt_in.copy()
    changed[:, 3] = (changed[:, 3] + 1) % VOCAB_SIZE
    other = model(src, changed).detach().numpy()
    np.testing.assert_array_equal(other[:, :3], logits[:, :3])
    assert np.abs(other[:, 3] - logits[:, 3]).min() > 0


def test_scheduled_sampling():
    model = model_of(small("gru", "dot"))
    src, tgt_in = batch()
    # ratio 0: the decoder feeds itself, as greedy decoding does (compared up to EOS)
    free = model(src, tgt_in, teacher_forcing_ratio=0.0).detach().numpy().argmax(-1)
    greedy = model.greedy_decode(src, max_len=tgt_in.shape[1], bos=BOS, eos=EOS).numpy()
    for row_free, row_greedy in zip(free, greedy):
        n = len(row_greedy) if EOS not in row_greedy else list(row_greedy).index(EOS) + 1
        np.testing.assert_array_equal(row_free[:n], row_greedy[:n])
    # ratio 0.5: drawn from nnlab's generator, so manual_seed repeats it
    forced = model(src, tgt_in).detach().numpy()
    nnlab.manual_seed(5)
    mixed = model(src, tgt_in, teacher_forcing_ratio=0.5).detach().numpy()
    nnlab.manual_seed(5)
    again = model(src, tgt_in, teacher_forcing_ratio=0.5).detach().numpy()
    np.testing.assert_array_equal(mixed, again)
    assert not np.allclose(mixed, forced)
    # the config's ratio applies in training mode only
    sampled = model_of(small("gru", "dot", teacher_forcing_ratio=0.0))
    np.testing.assert_allclose(sampled(src, tgt_in).detach().numpy(),
                               model(src, tgt_in, teacher_forcing_ratio=0.0).detach().numpy())
    np.testing.assert_allclose(sampled.eval()(src, tgt_in).detach().numpy(), forced)


@pytest.mark.parametrize("cell, attention", [("lstm", "additive"), ("rnn", None)])
def test_greedy_decoding_is_beam_search_of_one(cell, attention):
    model = model_of(small(cell, attention)).eval()
    src, _ = batch(6, seed=1)
    greedy, weights = model.greedy_decode(src, max_len=8, bos=BOS, eos=EOS,
                                          return_attention=True)
    tokens, scores = model.beam_search(src, beam_size=1, max_len=8, bos=BOS, eos=EOS,
                                       length_penalty=0.0)
    np.testing.assert_array_equal(tokens.numpy(), greedy.numpy())
    # the score is the sequence's log probability, teacher forced through forward
    seq = greedy.numpy()
    tgt_in = np.concatenate([np.full((6, 1), BOS), seq[:, :-1]], axis=1)
    logp = F.log_softmax(model(src, tgt_in), dim=-1).detach().numpy()
    picked = np.take_along_axis(logp, seq[:, :, None], -1)[..., 0]
    ends = [list(r).index(EOS) + 1 if EOS in r else len(r) for r in seq]
    expected = [picked[i, :n].sum() for i, n in enumerate(ends)]
    np.testing.assert_allclose(scores.numpy(), expected, rtol=1e-9)
    if attention is None:
        assert weights is None
    else:
        assert weights.shape == (6, seq.shape[1], src.shape[1])
    wide, wide_scores = model.beam_search(src, beam_size=4, max_len=8, bos=BOS, eos=EOS)
    assert wide.shape[0] == 6 and wide_scores.shape == (6,)


@requires_torch
@pytest.mark.parametrize("cell, attention", [("lstm", "additive"), ("gru", "dot"),
                                             ("rnn", None)])
def test_matches_a_torch_twin(cell, attention):
    config = small(cell, attention, num_layers=2)
    model = model_of(config)
    twin = TorchSeq2Seq(config).double()
    twin.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    src, tgt_in = batch(5, seed=2)
    logits = model(src, tgt_in)
    tlogits = twin(torch.tensor(src), torch.tensor(tgt_in))
    np.testing.assert_allclose(logits.detach().numpy(), tlogits.detach().numpy(), rtol=1e-9,
                               atol=1e-12)
    g = np.random.default_rng(0).standard_normal(logits.shape)
    (logits * nnlab.tensor(g)).sum().backward()
    (tlogits * torch.tensor(g)).sum().backward()
    tgrads = dict(twin.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tgrads[name].grad.numpy(), rtol=1e-8,
                                   atol=1e-11, err_msg=name)


def test_overfits_a_handful_of_sequences():
    pairs = reverse_digits(8, 3, 5, seed=0)
    nnlab.manual_seed(0)
    model = models.Seq2Seq(dataclasses.replace(small("gru", "additive"), embed_dim=16,
                                               hidden_size=32))
    optimizer = optim.Adam(model.parameters(), lr=0.02)
    src, tgt_in, tgt_out = (nnlab.tensor(a) for a in (pairs.src, pairs.tgt_in, pairs.tgt_out))
    for _ in range(150):
        optimizer.zero_grad()
        logits = model(src, tgt_in)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB_SIZE),  # (B, T, V) -> (B T, V)
                               tgt_out.reshape(-1), ignore_index=PAD)
        loss.backward()
        optimizer.step()
    model.eval()
    tokens = model.greedy_decode(src, max_len=pairs.tgt_out.shape[1], bos=BOS, eos=EOS)
    got = np.full(pairs.tgt_out.shape, PAD)
    got[:, :tokens.shape[1]] = tokens.numpy()
    assert (got == pairs.tgt_out).all(axis=1).mean() == 1.0
    beam, _ = model.beam_search(src, beam_size=3, max_len=pairs.tgt_out.shape[1], bos=BOS,
                                eos=EOS)
    np.testing.assert_array_equal(beam.numpy(), tokens.numpy())


@pytest.mark.parametrize("change, message", [
    (dict(cell="transformer"), "unknown cell 'transformer'"),
    (dict(attention="multiplicative"), "unknown attention 'multiplicative'"),
    (dict(dropout=1.0), "dropout must be in"),
    (dict(hidden_size=0), "hidden_size must be a positive int"),
    (dict(pad_idx=20), "pad_idx=20 is outside src_vocab=13"),
    (dict(teacher_forcing_ratio=1.5), "teacher_forcing_ratio must be in"),
])
def test_bad_config(change, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(small(), **change)


def test_bad_inputs():
    model = model_of(small())
    src, tgt_in = batch()
    src[1] = PAD
    with pytest.raises(ValueError, match=r"source rows \[1\] are all padding"):
        model(src, tgt_in)
    with pytest.raises(ValueError, match="tgt_in must be integer token ids"):
        model(batch()[0], tgt_in.astype(np.float32))
    with pytest.raises(ValueError, match="teacher_forcing_ratio must be in"):
        model(batch()[0], tgt_in, teacher_forcing_ratio=2.0)
    with pytest.raises(ValueError, match="beam_size and max_len must be at least 1"):
        model.beam_search(batch()[0], beam_size=0)
    with pytest.raises(ValueError, match="query size 8 differs from key size 5"):
        models.DotAttention()(nnlab.randn(2, 8), nnlab.randn(2, 3, 5))


if torch is not None:
    class TorchSeq2Seq(torch.nn.Module):
        """The same model written directly in torch, with Seq2Seq's parameter names."""

        def __init__(self, c):
            super().__init__()
            T = torch.nn
            rnn = {"rnn": T.RNN, "lstm": T.LSTM, "gru": T.GRU}[c.cell]
            self.c = c
            self.src_embed = T.Embedding(c.src_vocab, c.embed_dim, padding_idx=c.pad_idx)
            self.tgt_embed = T.Embedding(c.tgt_vocab, c.embed_dim, padding_idx=c.pad_idx)
            self.encoder = rnn(c.embed_dim, c.hidden_size, c.num_layers, batch_first=True)
            self.decoder = rnn(c.embed_dim + c.hidden_size, c.hidden_size, c.num_layers,
                               batch_first=True)
            if c.attention == "additive":
                self.attention = T.Module()
                self.attention.q_proj = T.Linear(c.hidden_size, c.hidden_size, bias=False)
                self.attention.k_proj = T.Linear(c.hidden_size, c.hidden_size, bias=False)
                self.attention.v = T.Linear(c.hidden_size, 1, bias=False)
            self.out = T.Linear(2 * c.hidden_size + c.embed_dim, c.tgt_vocab)

        def forward(self, src, tgt_in):
            pad = src == self.c.pad_idx
            packed = torch.nn.utils.rnn.pack_padded_sequence(
                self.src_embed(src), (~pad).sum(1), batch_first=True, enforce_sorted=False)
            keys, state = self.encoder(packed)
            keys, _ = torch.nn.utils.rnn.pad_packed_sequence(keys, batch_first=True,
                                                             total_length=src.shape[1])
            top = lambda s: (s[0] if isinstance(s, tuple) else s)[-1]
            fixed, logits = top(state), []
            for t in range(tgt_in.shape[1]):
                e = self.tgt_embed(tgt_in[:, t])
                q = top(state)
                if self.c.attention is None:
                    context = fixed
                else:
                    if self.c.attention == "additive":
                        a = self.attention
                        scores = a.v(torch.tanh(a.q_proj(q)[:, None] + a.k_proj(keys)))[..., 0]
                    else:
                        scores = (keys @ q[:, :, None])[..., 0]
                    w = scores.masked_fill(pad, float("-inf")).softmax(-1)
                    context = (w[:, :, None] * keys).sum(1)
                out, state = self.decoder(torch.cat([e, context], -1)[:, None], state)
                logits.append(self.out(torch.cat([out[:, 0], context, e], -1)))
            return torch.stack(logits, 1)
