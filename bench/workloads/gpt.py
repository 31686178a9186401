"""Training steps of a small character-level GPT (nanoGPT's layout) with AdamW: forward,
cross-entropy over every position, backward and the optimiser's update, float32. The nnlab
side is `nnlab.models.GPT`; the torch twin is built from `torch.nn` with the same module
names and loads the nnlab model's initial state_dict, so both start from the same weights.
Both use nanoGPT's parameter groups: weight decay 0.1 on the 2-D weights only."""
import functools

import numpy as np

from ..registry import Step, Workload, register
from .training import TrainStep


@functools.cache
def torch_gpt():
    """The torch twin of nnlab.models.GPT, `TorchGPT(vocab_size, block_size, n_layer, n_head,
    n_embd, bias)` -> (logits, loss), defined on first use so that torch is imported only
    then."""
    import torch
    nn, F = torch.nn, torch.nn.functional

    class CausalSelfAttention(nn.Module):
        def __init__(self, n_embd, n_head, bias):
            super().__init__()
            self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=bias)
            self.c_proj = nn.Linear(n_embd, n_embd, bias=bias)
            self.n_head = n_head

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = self.c_attn(x).split(C, dim=2)
            q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
                       for t in (q, k, v))  # (B, T, C) -> (B, nh, T, hs)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, nh, T, hs)
            return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))  # -> (B, T, C)

    class MLP(nn.Module):
        def __init__(self, n_embd, bias):
            super().__init__()
            self.c_fc = nn.Linear(n_embd, 4 * n_embd, bias=bias)
            self.gelu = nn.GELU()
            self.c_proj = nn.Linear(4 * n_embd, n_embd, bias=bias)

        def forward(self, x):
            return self.c_proj(self.gelu(self.c_fc(x)))

    class Block(nn.Module):
        def __init__(self, n_embd, n_head, bias):
            super().__init__()
            self.ln_1 = nn.LayerNorm(n_embd, bias=bias)
            self.attn = CausalSelfAttention(n_embd, n_head, bias)
            self.ln_2 = nn.LayerNorm(n_embd, bias=bias)
            self.mlp = MLP(n_embd, bias)

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class TorchGPT(nn.Module):
        def __init__(self, vocab_size, block_size, n_layer, n_head, n_embd, bias=True):
            super().__init__()
            self.transformer = nn.ModuleDict(dict(
                wte=nn.Embedding(vocab_size, n_embd), wpe=nn.Embedding(block_size, n_embd),
                h=nn.ModuleList([Block(n_embd, n_head, bias) for _ in range(n_layer)]),
                ln_f=nn.LayerNorm(n_embd, bias=bias)))
            self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
            self.lm_head.weight = self.transformer.wte.weight

        def forward(self, idx, targets):
            pos = torch.arange(idx.shape[1])
            x = self.transformer.wte(idx) + self.transformer.wpe(pos)  # (B, T, C)
            for block in self.transformer.h:
                x = block(x)
            logits = self.lm_head(self.transformer.ln_f(x))  # (B, T, V)
            loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))
            return logits, loss

    return TorchGPT


class GPTStep(TrainStep):
    """TrainStep with the model's own loss: (logits, loss) = model(x, y)."""

    def __init__(self, model, optimizer, x, y):
        Step.__init__(self, lambda: model(x, y)[1], dict(model.named_parameters()))
        self.optimizer = optimizer


def adamw(lib, model, lr=1e-3):
    """nanoGPT's AdamW: decay 0.1 on 2-D weights (matmuls, embeddings), none on the rest."""
    params = list(model.parameters())
    groups = [{"params": [p for p in params if p.ndim >= 2], "weight_decay": 0.1},
              {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]
    return lib.optim.AdamW(groups, lr=lr, betas=(0.9, 0.99))


class GPTTraining(Workload):
    """A GPT (vocab 65, as Tiny Shakespeare's characters) trained on a fixed random batch of
    `batch` windows of `context` tokens; `small` shrinks it for the correctness test."""

    vocab_size, n_layer, n_head, n_embd, bias = 65, 4, 4, 128, True
    context, batch = 128, 16

    def sizes(self):
        """(n_layer, n_head, n_embd, context, batch)."""
        if self.small:
            return 2, 2, 16, 8, 2
        return self.n_layer, self.n_head, self.n_embd, self.context, self.batch

    def initial_state(self):
        """The nnlab model's state_dict after its own seeded initialisation, as arrays."""
        import nnlab
        nnlab.manual_seed(self.seed)
        return {k: np.array(v._data) for k, v in self.nnlab_model().state_dict().items()}

    def nnlab_model(self):
        from nnlab import models
        n_layer, n_head, n_embd, context, _ = self.sizes()
        return models.GPT(models.GPTConfig(self.vocab_size, context, n_layer, n_head, n_embd,
                                           bias=self.bias))

    def build(self, lib, model):
        _, _, _, context, batch = self.sizes()
        model.load_state_dict({k: lib.tensor(v) for k, v in self.initial_state().items()})
        tokens = self.rng().integers(0, self.vocab_size, (batch, context + 1))
        x, y = lib.tensor(tokens[:, :-1]), lib.tensor(tokens[:, 1:])  # (B, T) each
        return GPTStep(model, adamw(lib, model), x, y)

    def setup_nnlab(self):
        import nnlab
        return self.build(nnlab, self.nnlab_model())

    def setup_torch(self):
        import torch
        n_layer, n_head, n_embd, context, _ = self.sizes()
        return self.build(torch, torch_gpt()(self.vocab_size, context, n_layer, n_head, n_embd,
                                             self.bias))


@register
class GPT4L128D(GPTTraining):
    name = "gpt-4l-128d-ctx128-b16"
    description = "GPT 4 layers, 4 heads, 128 wide, context 128, batch 16, vocab 65, AdamW step"
    target = 1.2


@register
class GPTShakespeareConfig(GPTTraining):
    name = "gpt-shakespeare-config"
    description = ("the gpt-shakespeare recipe's step: GPT 4x4x128 without biases, context 64, "
                   "batch 12, AdamW")
    target = 1.2
    context, batch, bias = 64, 12, False
