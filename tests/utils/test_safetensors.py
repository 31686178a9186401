"""safetensors files through the safetensors package's NumPy API, and Hugging Face GPT-2
weights (a synthetic state dict in HF's layout) in nnlab's GPT, against GPT-2's forward
written in torch here (transformers is not installed)."""
import sys

import numpy as np
import pytest

import nnlab
from nnlab import nn
from nnlab.models.gpt import GPT, GPTConfig
from nnlab.utils.gpt2_weights import gpt2_model, gpt2_state_dict_to_nnlab

from ..helpers import requires_torch, torch

pytest.importorskip("safetensors", reason="pip install safetensors")
from nnlab.utils.safetensors import load_file, load_metadata, save_file  # noqa: E402

CONFIG = dict(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8, dropout=0.0)


def test_save_file_load_file_round_trip(tmp_path):
    tensors = {"w": nnlab.arange(6.0).view(2, 3).t(), "i": nnlab.tensor([1, -2]),
               "h": nnlab.ones(2, dtype=nnlab.float16), "b": nnlab.tensor([True, False])}
    save_file(tensors, tmp_path / "x.safetensors", metadata={"format": "pt"})
    back = load_file(tmp_path / "x.safetensors")
    assert sorted(back) == sorted(tensors)
    for name, t in tensors.items():
        assert type(back[name]) is nnlab.Tensor and back[name].dtype == t.dtype
        np.testing.assert_array_equal(back[name].numpy(), t.numpy())
    back["w"].add_(1)  # the loaded tensors own writable memory
    assert load_metadata(tmp_path / "x.safetensors") == {"format": "pt"}


def test_load_state_dict_takes_what_load_file_returns(tmp_path):
    nnlab.manual_seed(0)
    source, target = nn.Linear(4, 3), nn.Linear(4, 3)
    save_file(source.state_dict(), tmp_path / "linear.safetensors")
    target.load_state_dict(load_file(tmp_path / "linear.safetensors"))
    x = nnlab.randn(2, 4)
    np.testing.assert_array_equal(target(x).detach().numpy(), source(x).detach().numpy())


def test_clear_errors(tmp_path, monkeypatch):
    with pytest.raises(TypeError, match=r"metadata must be a dict \{str: str\}"):
        save_file({"w": nnlab.ones(1)}, tmp_path / "m.safetensors", metadata={"n": 1})
    with pytest.raises(TypeError, match=r"tensors\['w'\] is a list"):
        save_file({"w": [1.0]}, tmp_path / "m.safetensors")
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match="pip install safetensors"):
        save_file({"w": nnlab.ones(1)}, tmp_path / "m.safetensors")
    assert not list(tmp_path.iterdir())


# -- GPT-2 --------------------------------------------------------------------------------------
def hf_gpt2_state_dict(config, rng, n_positions=16, prefix=""):
    """Random weights in Hugging Face's GPT2Model layout (Conv1D weights are (in, out)),
    with the causal-mask buffers its older checkpoints carry."""
    C, f32 = config.n_embd, np.float32

    def w(*shape, scale=0.2):
        return (scale * rng.standard_normal(shape)).astype(f32)

    sd = {"wte.weight": w(config.vocab_size, C), "wpe.weight": w(n_positions, C)}
    for i in range(config.n_layer):
        sd.update({
            f"h.{i}.ln_1.weight": 1 + w(C), f"h.{i}.ln_1.bias": w(C),
            f"h.{i}.attn.bias": np.tril(np.ones((1, 1, n_positions, n_positions), f32)),
            f"h.{i}.attn.masked_bias": np.array(-1e4, f32),
            f"h.{i}.attn.c_attn.weight": w(C, 3 * C), f"h.{i}.attn.c_attn.bias": w(3 * C),
            f"h.{i}.attn.c_proj.weight": w(C, C), f"h.{i}.attn.c_proj.bias": w(C),
            f"h.{i}.ln_2.weight": 1 + w(C), f"h.{i}.ln_2.bias": w(C),
            f"h.{i}.mlp.c_fc.weight": w(C, 4 * C), f"h.{i}.mlp.c_fc.bias": w(4 * C),
            f"h.{i}.mlp.c_proj.weight": w(4 * C, C), f"h.{i}.mlp.c_proj.bias": w(C),
        })
    sd.update({"ln_f.weight": 1 + w(C), "ln_f.bias": w(C)})
    return {prefix + k: v for k, v in sd.items()}


def gpt2_forward_torch(sd, config, idx):
    """GPT-2's forward as Hugging Face computes it: Conv1D (x @ W + b), gelu_new (tanh),
    causal softmax attention, pre-LN blocks, logits against wte."""
    p = {k: torch.tensor(v) for k, v in sd.items()}
    F = torch.nn.functional
    B, T = idx.shape
    C, nh = config.n_embd, config.n_head
    x = p["wte.weight"][idx] + p["wpe.weight"][:T]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(config.n_layer):
        def q(name, i=i):
            return p[f"h.{i}.{name}"]

        h = F.layer_norm(x, (C,), q("ln_1.weight"), q("ln_1.bias"), eps=1e-5)
        a = h @ q("attn.c_attn.weight") + q("attn.c_attn.bias")
        qs, ks, vs = (t.view(B, T, nh, C // nh).transpose(1, 2) for t in a.split(C, dim=2))
        scores = qs @ ks.transpose(-1, -2) / (C // nh) ** 0.5
        att = torch.softmax(scores.masked_fill(~causal, float("-inf")), dim=-1)
        y = (att @ vs).transpose(1, 2).reshape(B, T, C)
        x = x + y @ q("attn.c_proj.weight") + q("attn.c_proj.bias")
        h = F.layer_norm(x, (C,), q("ln_2.weight"), q("ln_2.bias"), eps=1e-5)
        h = F.gelu(h @ q("mlp.c_fc.weight") + q("mlp.c_fc.bias"), approximate="tanh")
        x = x + h @ q("mlp.c_proj.weight") + q("mlp.c_proj.bias")
    x = F.layer_norm(x, (C,), p["ln_f.weight"], p["ln_f.bias"], eps=1e-5)
    return x @ p["wte.weight"].T


@requires_torch
@pytest.mark.parametrize("prefix", ["", "transformer."], ids=["GPT2Model", "GPT2LMHeadModel"])
def test_hf_gpt2_safetensors_gives_gpt2_logits(prefix, tmp_path):
    config = GPTConfig(**CONFIG)
    rng = np.random.default_rng(0)
    sd = hf_gpt2_state_dict(config, rng, prefix=prefix)
    if prefix:
        sd["lm_head.weight"] = sd["transformer.wte.weight"]
    save_file(sd, tmp_path / "model.safetensors")
    model = gpt2_model(load_file(tmp_path / "model.safetensors"), config)
    idx = rng.integers(0, config.vocab_size, size=(2, 7))
    logits, _ = model(nnlab.tensor(idx))
    plain = {k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)}
    expected = gpt2_forward_torch(plain, config, torch.tensor(idx))
    np.testing.assert_allclose(logits.detach().numpy(), expected.numpy(), rtol=1e-4,
                               atol=1e-5)


def test_key_renames_and_transposes():
    config = GPTConfig(**CONFIG)
    sd = hf_gpt2_state_dict(config, np.random.default_rng(1))
    ours = gpt2_state_dict_to_nnlab(sd, config)
    assert list(ours) == list(GPT(config).state_dict())
    np.testing.assert_array_equal(ours["transformer.h.1.attn.c_attn.weight"].numpy(),
                                  sd["h.1.attn.c_attn.weight"].T)
    np.testing.assert_array_equal(ours["transformer.h.0.mlp.c_proj.weight"].numpy(),
                                  sd["h.0.mlp.c_proj.weight"].T)
    np.testing.assert_array_equal(ours["transformer.wpe.weight"].numpy(),
                                  sd["wpe.weight"][:config.block_size])
    assert ours["lm_head.weight"] is ours["transformer.wte.weight"]


def test_gpt2_conversion_errors():
    config = GPTConfig(**CONFIG)
    sd = hf_gpt2_state_dict(config, np.random.default_rng(2))
    with pytest.raises(ValueError, match=r"wte.weight has shape \(11, 8\), expected .*50257"):
        gpt2_state_dict_to_nnlab(sd, GPTConfig(**{**CONFIG, "vocab_size": 12}))
    with pytest.raises(KeyError, match=r"lacks \['h.2.ln_1.weight'"):
        gpt2_state_dict_to_nnlab(sd, GPTConfig(**{**CONFIG, "n_layer": 3}))
    with pytest.raises(ValueError, match="fewer than config.block_size=32"):
        gpt2_state_dict_to_nnlab(sd, GPTConfig(**{**CONFIG, "block_size": 32}))
    with pytest.raises(ValueError, match="lm_head.weight differs"):
        gpt2_state_dict_to_nnlab({**sd, "lm_head.weight": sd["wte.weight"] + 1}, config)
    with pytest.raises(ValueError, match="bias must be True"):
        gpt2_state_dict_to_nnlab(sd, GPTConfig(**{**CONFIG, "bias": False}))
