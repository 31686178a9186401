"""models.gpt: nanoGPT's layout and state_dict against a torch twin (logits, loss and
gradients after loading its weights, float64 and float32), weight tying, initialisation,
generation (the KV cache against re-running the context, greedy, top-k, top-p, seeding,
cropping past block_size), errors, and a tiny overfit."""
import math

import numpy as np
import pytest

import nnlab
from nnlab import models
from nnlab.models.gpt import KVCache, sample_next
from tests.helpers import requires_torch, torch

_TorchModule = torch.nn.Module if torch is not None else object  # the twin needs torch

TINY = dict(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16)


class TorchGPT(_TorchModule):
    """nanoGPT's model.py written from torch.nn, with its explicit-mask attention path
    (scores, masked_fill of the upper triangle, softmax), so an independent formulation of
    what nnlab's GPT computes with scaled_dot_product_attention."""

    def __init__(self, vocab_size, block_size, n_layer, n_head, n_embd, bias=True):
        super().__init__()
        T = torch.nn
        self.n_head = n_head

        def block():
            b = T.Module()
            b.ln_1 = T.LayerNorm(n_embd, bias=bias)
            b.attn = T.Module()
            b.attn.c_attn = T.Linear(n_embd, 3 * n_embd, bias=bias)
            b.attn.c_proj = T.Linear(n_embd, n_embd, bias=bias)
            b.ln_2 = T.LayerNorm(n_embd, bias=bias)
            b.mlp = T.Module()
            b.mlp.c_fc = T.Linear(n_embd, 4 * n_embd, bias=bias)
            b.mlp.c_proj = T.Linear(4 * n_embd, n_embd, bias=bias)
            return b

        self.transformer = T.ModuleDict(dict(
            wte=T.Embedding(vocab_size, n_embd), wpe=T.Embedding(block_size, n_embd),
            h=T.ModuleList([block() for _ in range(n_layer)]),
            ln_f=T.LayerNorm(n_embd, bias=bias)))
        self.lm_head = T.Linear(n_embd, vocab_size, bias=False)
        self.lm_head.weight = self.transformer.wte.weight

    def attention(self, attn, x):
        B, L, C = x.shape
        q, k, v = attn.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, L, self.n_head, C // self.n_head).transpose(1, 2)
                   for t in (q, k, v))  # (B, L, C) -> (B, nh, L, hs)
        att = q @ k.transpose(-2, -1) / math.sqrt(k.shape[-1])  # (B, nh, L, L)
        causal = torch.tril(torch.ones(L, L, dtype=torch.bool))
        att = torch.softmax(att.masked_fill(~causal, float("-inf")), dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, L, C)  # (B, nh, L, hs) -> (B, L, C)
        return attn.c_proj(y)

    def forward(self, idx, targets=None):
        F = torch.nn.functional
        pos = torch.arange(idx.shape[1])
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        for b in self.transformer.h:
            x = x + self.attention(b.attn, b.ln_1(x))
            x = x + b.mlp.c_proj(F.gelu(b.mlp.c_fc(b.ln_2(x))))
        logits = self.lm_head(self.transformer.ln_f(x))
        loss = None if targets is None else F.cross_entropy(
            logits.view(-1, logits.shape[-1]), targets.view(-1), ignore_index=-1)
        return logits, loss


def tiny(seed=0, **overrides):
    nnlab.manual_seed(seed)
    return models.GPT(models.GPTConfig(**{**TINY, **overrides}))


@requires_torch
@pytest.mark.parametrize("bias", [True, False])
def test_state_dict_keys_and_parameter_count_match_nanogpt(bias):
    model, twin = tiny(bias=bias), TorchGPT(**TINY, bias=bias)
    assert list(model.state_dict()) == list(twin.state_dict())
    assert [n for n, _ in model.named_parameters()] == [n for n, _ in twin.named_parameters()]
    total = sum(p.numel() for p in twin.parameters())
    assert model.get_num_params(non_embedding=False) == total
    assert model.get_num_params() == total - TINY["block_size"] * TINY["n_embd"]


@requires_torch
@pytest.mark.parametrize("dtype, tol", [(np.float64, dict(rtol=1e-10, atol=1e-12)),
                                        (np.float32, dict(rtol=2e-4, atol=2e-5))])
@pytest.mark.parametrize("bias", [True, False])
def test_logits_loss_and_gradients_match_torch(dtype, tol, bias):
    torch.manual_seed(0)
    twin = TorchGPT(**TINY, bias=bias).to(torch.float64 if dtype == np.float64 else torch.float32)
    with torch.no_grad():  # torch's defaults leave the LayerNorms at 1 and 0: move them
        for name, p in twin.named_parameters():
            if ".ln_" in name:
                p.add_(0.1 * torch.randn_like(p))
    model = tiny(bias=bias).to(dtype)
    model.load_state_dict({k: v.detach().numpy() for k, v in twin.state_dict().items()})
    rng = np.random.default_rng(1)
    idx = rng.integers(0, TINY["vocab_size"], (3, TINY["block_size"]))
    targets = rng.integers(0, TINY["vocab_size"], (3, TINY["block_size"]))
    targets[0, :2] = -1  # ignored
    logits, loss = model(nnlab.tensor(idx), nnlab.tensor(targets))
    t_logits, t_loss = twin(torch.tensor(idx), torch.tensor(targets))
    np.testing.assert_allclose(logits.detach().numpy(), t_logits.detach().numpy(), **tol)
    assert loss.item() == pytest.approx(t_loss.item(), rel=tol["rtol"])
    loss.backward()
    t_loss.backward()
    t_params = dict(twin.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), t_params[name].grad.numpy(), **tol,
                                   err_msg=name)


def test_lm_head_is_tied_to_the_token_embedding():
    model = tiny()
    assert model.lm_head.weight is model.transformer.wte.weight
    names = [n for n, _ in model.named_parameters()]
    assert "lm_head.weight" not in names and "transformer.wte.weight" in names
    sd = model.state_dict()
    assert np.shares_memory(sd["lm_head.weight"].data, sd["transformer.wte.weight"].data)


def test_initialisation_is_gpt2s():
    nnlab.manual_seed(0)
    config = models.GPTConfig(vocab_size=512, block_size=256, n_layer=4, n_head=4, n_embd=256)
    model = models.GPT(config)
    residual = 0.02 / math.sqrt(2 * config.n_layer)
    for name, p in model.named_parameters():
        a = p.detach().numpy()
        if name.endswith("c_proj.weight"):
            assert a.std() == pytest.approx(residual, rel=0.05), name
        elif name.endswith(".weight") and ".ln_" not in name:  # Linear and Embedding weights
            assert a.std() == pytest.approx(0.02, rel=0.05), name
            assert abs(a.mean()) < 1e-3, name
        elif ".ln_" in name and name.endswith(".weight"):
            assert (a == 1).all(), name
        else:  # biases
            assert (a == 0).all(), name


def test_cached_forward_equals_the_full_forward():
    """Chunks of 3, 2 and 1 tokens through the cache (the prefill, a masked chunk and one
    token) give the logits of one forward over all 6."""
    model = tiny().double().eval()
    idx = nnlab.tensor(np.random.default_rng(2).integers(0, 11, (2, 6)))
    with nnlab.no_grad():
        full = model.lm_head(model._hidden(idx)).numpy()
        cache, pieces = KVCache(model.config), []
        for a, b in ((0, 3), (3, 5), (5, 6)):
            pieces.append(model.lm_head(model._hidden(idx[:, a:b], cache)).numpy())
    assert cache.length == 6
    np.testing.assert_allclose(np.concatenate(pieces, axis=1), full, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("new", [5, 20])  # 20: the context outgrows block_size (8)
def test_greedy_generation_with_and_without_cache_agree(new):
    model = tiny().double()
    prompt = nnlab.tensor([[1, 2, 3], [4, 5, 6]])
    cached = model.generate(prompt, new, temperature=0)
    plain = model.generate(prompt, new, temperature=0, use_cache=False)
    assert cached.shape == (2, 3 + new)
    np.testing.assert_array_equal(cached.numpy(), plain.numpy())
    np.testing.assert_array_equal(cached.numpy()[:, :3], prompt.numpy())
    assert model.training  # restored


def test_top_k_1_and_a_tiny_top_p_are_greedy():
    model = tiny().double()
    prompt = nnlab.tensor([[1, 2]])
    greedy = model.generate(prompt, 10, temperature=0).numpy()
    np.testing.assert_array_equal(model.generate(prompt, 10, top_k=1).numpy(), greedy)
    np.testing.assert_array_equal(model.generate(prompt, 10, top_p=1e-9).numpy(), greedy)


def test_manual_seed_reproduces_sampling():
    model = tiny()
    prompt = nnlab.tensor([[0]])
    draws = []
    for seed in (7, 7, 8):
        nnlab.manual_seed(seed)
        draws.append(model.generate(prompt, 30, temperature=2.0).numpy())
    np.testing.assert_array_equal(draws[0], draws[1])
    assert not np.array_equal(draws[0], draws[2])
    gen = np.random.default_rng(3)
    mine = model.generate(prompt, 30, generator=gen).numpy()
    np.testing.assert_array_equal(model.generate(prompt, 30, generator=np.random.default_rng(3))
                                  .numpy(), mine)


def test_sampling_follows_the_filtered_distribution():
    logits = np.log(np.array([[0.5, 0.3, 0.15, 0.05]]).repeat(20000, axis=0))
    gen = np.random.default_rng(0)
    counts = lambda ids: np.bincount(ids, minlength=4) / len(ids)  # noqa: E731
    np.testing.assert_allclose(counts(sample_next(logits, generator=gen)),
                               [0.5, 0.3, 0.15, 0.05], atol=0.015)
    np.testing.assert_allclose(counts(sample_next(logits, top_k=2, generator=gen)),
                               [0.625, 0.375, 0, 0], atol=0.015)
    # the nucleus of 0.7 is the two tokens whose mass first reaches it
    np.testing.assert_allclose(counts(sample_next(logits, top_p=0.7, generator=gen)),
                               [0.625, 0.375, 0, 0], atol=0.015)
    # temperature 0.5 squares the odds: p^2 / sum p^2
    p2 = np.array([0.5, 0.3, 0.15, 0.05]) ** 2
    np.testing.assert_allclose(counts(sample_next(logits, 0.5, generator=gen)), p2 / p2.sum(),
                               atol=0.015)


def test_errors_name_the_model_and_the_lengths():
    model = tiny()
    with pytest.raises(ValueError, match=r"GPT\(block_size=8\).*9 tokens"):
        model(nnlab.tensor(np.zeros((1, 9), dtype=np.int64)))
    with pytest.raises(ValueError, match="n_embd \\(10\\) must be divisible by n_head \\(3\\)"):
        models.GPT(models.GPTConfig(vocab_size=5, block_size=4, n_layer=1, n_head=3, n_embd=10))
    with pytest.raises(ValueError, match="temperature"):
        model.generate(nnlab.tensor([[1]]), 2, temperature=-1)
    with pytest.raises(ValueError, match="top_p"):
        model.generate(nnlab.tensor([[1]]), 2, top_p=0)
    with pytest.raises(TypeError, match="integers"):
        model(nnlab.tensor([[0.5]]))


def test_a_tiny_model_memorises_a_short_text():
    """Every 24-character window of a 43-character line said twice, 100 AdamW steps: the
    loss falls to what the first few positions of a window cannot know, and greedy
    decoding from the first window recites the text."""
    text = "to be or not to be, that is the question. "
    chars = sorted(set(text))
    ids = np.array([chars.index(c) for c in text * 2])
    T = 24
    nnlab.manual_seed(0)
    model = models.GPT(models.GPTConfig(vocab_size=len(chars), block_size=T, n_layer=1,
                                        n_head=2, n_embd=32))
    optimizer = nnlab.optim.AdamW(model.parameters(), lr=2e-2, weight_decay=0.0)
    starts = np.arange(len(ids) - T)
    x = nnlab.tensor(np.stack([ids[s:s + T] for s in starts]))          # (60, T)
    y = nnlab.tensor(np.stack([ids[s + 1:s + T + 1] for s in starts]))  # (60, T)
    for _ in range(100):
        optimizer.zero_grad()
        _, loss = model(x, y)
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.15
    out = model.generate(nnlab.tensor(ids[None, :T]), 40, temperature=0).numpy()[0]
    np.testing.assert_array_equal(out, ids[:T + 40])


def test_nnlab_sample_continues_a_gpt_run(tmp_path):
    """The gpt-shakespeare hook of nnlab sample: a run directory (run.json, best.npz) gives
    the model's own greedy continuation, past block_size too (the cropped context)."""
    import json

    from nnlab.train import sampling
    from nnlab.train.checkpoint import save_checkpoint
    model = tiny()
    chars = "\nabcdefghij"
    (tmp_path / "run.json").write_text(json.dumps(
        {"recipe": "gpt-shakespeare", "config": TINY | {"dropout": 0.0, "bias": True},
         "vocab": chars}))
    save_checkpoint(tmp_path / "best.npz", model)
    text = sampling.sample(tmp_path, length=20, temperature=0, prompt="ab")
    ids = model.generate(nnlab.tensor([[1, 2]]), 20, temperature=0).numpy()[0, 2:]
    assert text == "".join(chars[i] for i in ids)


def test_gpt_shakespeare_schedule_and_windows():
    from nnlab.data.datasets import RandomWindows
    from nnlab.optim.lr_scheduler import warmup_cosine
    factor = warmup_cosine(100, 2000, 0.1)
    assert [factor(t) for t in (0, 99, 100, 2000, 2500)] == pytest.approx(
        [1 / 101, 100 / 101, 1.0, 0.1, 0.1])
    assert factor(1050) == pytest.approx(0.55)  # half way down the cosine
    ids = np.arange(100)
    nnlab.manual_seed(0)
    x, y = next(iter(RandomWindows(ids, 8, 4, steps=1)))
    assert x.shape == (4, 8) and y.shape == (32,)
    np.testing.assert_array_equal(y.numpy().reshape(4, 8), x.numpy() + 1)
    fixed = RandomWindows(ids, 8, 4, steps=2, seed=0)
    assert [b[0].numpy().tolist() for b in fixed] == [b[0].numpy().tolist() for b in fixed]
