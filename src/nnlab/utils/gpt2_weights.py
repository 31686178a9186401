"""Hugging Face GPT-2 weights in `nnlab.models.GPT`: the key renames and transposes.

A Hugging Face GPT-2 state dict (`GPT2Model`'s keys, or `GPT2LMHeadModel`'s with the
`transformer.` prefix, e.g. read from `model.safetensors` by
`nnlab.utils.safetensors.load_file`) maps onto nnlab's GPT (nanoGPT's layout) so:

    HF key                              nnlab key                               change
    wte.weight (V, C)                   transformer.wte.weight                  -
    wpe.weight (P, C)                   transformer.wpe.weight                  rows :block_size
    h.{i}.ln_1.{weight,bias}            transformer.h.{i}.ln_1.{weight,bias}    -
    h.{i}.attn.c_attn.weight (C, 3C)    transformer.h.{i}.attn.c_attn.weight    transposed
    h.{i}.attn.c_proj.weight (C, C)     transformer.h.{i}.attn.c_proj.weight    transposed
    h.{i}.ln_2.{weight,bias}            transformer.h.{i}.ln_2.{weight,bias}    -
    h.{i}.mlp.c_fc.weight (C, 4C)       transformer.h.{i}.mlp.c_fc.weight       transposed
    h.{i}.mlp.c_proj.weight (4C, C)     transformer.h.{i}.mlp.c_proj.weight     transposed
    ...c_attn / c_proj / c_fc .bias     the same name under transformer.        -
    ln_f.{weight,bias}                  transformer.ln_f.{weight,bias}          -
    (tied to wte)                       lm_head.weight                          wte.weight
    h.{i}.attn.bias, .masked_bias       dropped (the causal mask, a buffer)

The transposes: GPT-2's `Conv1D` computes x @ W + b with W of shape (in, out), nnlab's
`Linear` x @ W^T + b with W of shape (out, in). A `lm_head.weight` in the file must equal
wte.weight (GPT-2 ties them, and so does nnlab's GPT).

GPT-2's MLP uses the tanh approximation of GELU ("gelu_new"); nnlab's GPT uses the exact
one, which differs by up to about 1e-3 per unit. `gpt2_model` builds the GPT with the tanh
GELU, so that its logits equal GPT-2's.
"""
import re
from collections import OrderedDict

import numpy as np

from ..autograd.tensor import Tensor

_CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight",
           "mlp.c_proj.weight")
_BLOCK = ("ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias",
          "attn.c_proj.weight", "attn.c_proj.bias", "ln_2.weight", "ln_2.bias",
          "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias")
_DROPPED = re.compile(r"^h\.\d+\.attn\.(bias|masked_bias)$")


def _array(value):
    if isinstance(value, Tensor):
        return value.detach().cpu().numpy()
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu()
    return np.asarray(value)


def gpt2_state_dict_to_nnlab(state_dict, config):
    """Rename (and transpose) a Hugging Face GPT-2 state dict into nnlab GPT keys for
    `config` (a GPTConfig: vocab_size, block_size, n_layer, n_embd; bias=True); returns an
    OrderedDict of Tensors that `GPT(config).load_state_dict` takes (see the module doc)."""
    where = "gpt2_state_dict_to_nnlab"
    hf = {(k[len("transformer."):] if k.startswith("transformer.") else k): v
          for k, v in state_dict.items()}
    head = hf.pop("lm_head.weight", None)
    hf = {k: v for k, v in hf.items() if not _DROPPED.match(k)}
    if not getattr(config, "bias", True):
        raise ValueError(f"{where}: GPT-2 has biases; config.bias must be True")
    expected = ["wte.weight", "wpe.weight"]
    expected += [f"h.{i}.{name}" for i in range(config.n_layer) for name in _BLOCK]
    expected += ["ln_f.weight", "ln_f.bias"]  # in nnlab's state_dict order
    missing = [k for k in expected if k not in hf]
    unexpected = sorted(set(hf) - set(expected))
    if missing or unexpected:
        raise KeyError(f"{where}: for n_layer={config.n_layer} the state dict lacks "
                       f"{missing[:6]}{' ...' if len(missing) > 6 else ''} and has unexpected "
                       f"keys {unexpected[:6]}{' ...' if len(unexpected) > 6 else ''}")
    out = OrderedDict()
    C = config.n_embd
    for key in expected:
        array = _array(hf[key])
        if key.endswith(_CONV1D):
            array = array.T  # Conv1D (in, out) -> Linear (out, in)
        if key == "wpe.weight":
            if array.shape[0] < config.block_size:
                raise ValueError(f"{where}: wpe has {array.shape[0]} positions, fewer than "
                                 f"config.block_size={config.block_size}")
            array = array[:config.block_size]
        if key == "wte.weight" and array.shape != (config.vocab_size, C):
            raise ValueError(f"{where}: wte.weight has shape {array.shape}, expected "
                             f"(vocab_size, n_embd) = {(config.vocab_size, C)}; GPT-2's "
                             "vocabulary is 50257 tokens (GPTConfig(vocab_size=50257))")
        out[f"transformer.{key}"] = Tensor(np.ascontiguousarray(array))
    wte = out["transformer.wte.weight"]
    if head is not None and not np.array_equal(_array(head), wte.numpy()):
        raise ValueError(f"{where}: lm_head.weight differs from wte.weight; nnlab's GPT ties "
                         "them (one Parameter)")
    out["lm_head.weight"] = wte
    return out


def gpt2_model(state_dict, config):
    """An `nnlab.models.GPT` in eval mode holding GPT-2 weights from a Hugging Face state
    dict, with GPT-2's tanh GELU, so that its logits are GPT-2's."""
    from .. import nn
    from ..models.gpt import GPT
    model = GPT(config)
    for block in model.transformer.h:
        block.mlp.gelu = nn.GELU(approximate="tanh")
    model.load_state_dict(gpt2_state_dict_to_nnlab(state_dict, config))
    return model.eval()
