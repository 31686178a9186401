"""GPT: a decoder-only transformer language model (Radford et al. 2018, 2019), in nanoGPT's
layout, so that a nanoGPT state_dict converted to NumPy loads unchanged (drop the keys
ending in .attn.bias that nanoGPT's non-flash path keeps: its causal mask, a buffer).

    idx (B, T) of token ids, T <= block_size
    x = drop(wte[idx] + wpe[0..T-1])                                    # (B, T, C)
    n_layer pre-LN blocks:
        x = x + attn(ln_1(x))      causal multi-head self-attention, n_head heads of
                                   hs = C / n_head: softmax(q k^T / sqrt(hs) + mask) v
        x = x + mlp(ln_2(x))       c_proj(gelu(c_fc(x))), 4 C hidden units
    logits = lm_head(ln_f(x))                                           # (B, T, vocab_size)

lm_head.weight is transformer.wte.weight, one Parameter (weight tying, Press & Wolf 2017):
the output layer scores a hidden state against every token's embedding.

Initialisation (GPT-2's, as nanoGPT): every Linear and Embedding weight ~ N(0, 0.02),
biases zero, LayerNorms weight one and bias zero; the projections that write into the
residual stream (attn.c_proj.weight, mlp.c_proj.weight) ~ N(0, 0.02 / sqrt(2 n_layer)), so
the stream's variance does not grow with depth.

Generation keeps a KV cache (`KVCache`): each layer's keys and values (B, n_head, T, hs)
of the positions seen so far, so a new token costs one position's work plus attention over
the cache (O(context) per token), instead of re-running the whole context (O(context^2)).

`FlatLogitsGPT` is the same model returning logits flattened to (B T, vocab_size), for `fit`
with nn.CrossEntropyLoss against next-token targets flattened to (B T,).
"""
import math
from dataclasses import dataclass

import numpy as np

from .. import backend, nn, ops
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..nn import functional as F


@dataclass
class GPTConfig:
    vocab_size: int = 50304  # GPT-2's 50,257 tokens padded up to a multiple of 64
    block_size: int = 1024   # the longest context, in tokens (rows of wpe)
    n_layer: int = 12        # transformer blocks
    n_head: int = 12         # attention heads; n_embd must divide by it
    n_embd: int = 768        # C, the width of the residual stream
    dropout: float = 0.0     # after the embeddings, on attention weights, after each branch
    bias: bool = True        # biases in the Linears and LayerNorms (False: a bit better, faster)


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention in which position t sees positions <= t:
    (B, T, C) -> (B, T, C). With a `LayerCache` the keys and values of earlier positions
    come from the cache and the new ones are appended to it."""

    def __init__(self, config):
        super().__init__()
        if config.n_embd % config.n_head:
            raise ValueError(f"CausalSelfAttention: n_embd ({config.n_embd}) must be "
                             f"divisible by n_head ({config.n_head})")
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        self.dropout = config.dropout  # on the attention weights, inside the SDPA

    def forward(self, x, cache=None):
        B, T, C = x.shape
        hs = C // self.n_head
        qkv = self.c_attn(x).view(B, T, 3, self.n_head, hs)  # (B, T, 3 C) -> (B, T, 3, nh, hs)
        # one copy to (3, B, nh, T, hs): each head's (T, hs) contiguous, as GEMMs want it
        q, k, v = qkv.permute(2, 0, 3, 1, 4).contiguous().unbind(0)  # 3 x (B, nh, T, hs)
        past = 0
        if cache is not None:
            past = cache.length
            k, v = cache.append(k, v)  # (B, nh, past + T, hs)
        y = self._attend(q, k, v, past)  # (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # (B, nh, T, hs) -> (B, T, C)
        return self.resid_dropout(self.c_proj(y))

    def _attend(self, q, k, v, past):
        """softmax(q k^T / sqrt(hs) + mask) v for queries at positions past..past+T-1 and
        keys at 0..past+T-1: query i sees keys j <= past + i. Without a cache or dropout
        it takes the flash path (tiled, no (T, T) scores held; about twice as fast here)."""
        T = q.shape[2]
        p = self.dropout if self.training else 0.0
        if past == 0:
            return F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True,
                                                  backend="flash" if p == 0 else None)
        if T == 1:  # one new token sees the whole cache
            return F.scaled_dot_product_attention(q, k, v, dropout_p=p)
        xp = backend.get_array_module(q._data)
        mask = xp.tril(xp.ones((T, past + T), dtype=bool), k=past)  # (T, past + T)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=Tensor(mask), dropout_p=p)


class MLP(nn.Module):
    """c_proj(gelu(c_fc(x))) with 4 C hidden units: (B, T, C) -> (B, T, C)."""

    def __init__(self, config):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """A pre-LN transformer block: x + attn(ln_1(x)), then + mlp(ln_2(x)); (B, T, C)."""

    def __init__(self, config):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x, cache=None):
        x = x + self.attn(self.ln_1(x), cache)
        return x + self.mlp(self.ln_2(x))


class LayerCache:
    """One layer's keys and values k, v (B, n_head, length, hs), kept in buffers of
    block_size positions so that appending a token is one write, not a copy of the cache."""

    def __init__(self, capacity):
        self.capacity = capacity
        self.k = self.v = None
        self.length = 0

    def append(self, k, v):
        """Write the new positions' k, v (B, nh, T, hs); return the cache's (B, nh, length,
        hs) views, the new positions included."""
        B, nh, T, hs = k.shape
        end = self.length + T
        if end > self.capacity:
            raise ValueError(f"LayerCache: {end} positions do not fit the cache of "
                             f"{self.capacity}")
        if self.k is None:
            xp = backend.get_array_module(k._data)
            self.k = xp.empty((B, nh, self.capacity, hs), dtype=k.dtype)
            self.v = xp.empty_like(self.k)
        self.k[:, :, self.length:end] = k._data
        self.v[:, :, self.length:end] = v._data
        self.length = end
        return Tensor(self.k[:, :, :end]), Tensor(self.v[:, :, :end])


class KVCache:
    """Every layer's `LayerCache`; `length` is the number of positions cached."""

    def __init__(self, config):
        self.layers = [LayerCache(config.block_size) for _ in range(config.n_layer)]

    @property
    def length(self):
        return self.layers[0].length


class GPT(nn.Module):
    """The GPT language model: token ids (B, T) -> next-token logits (B, T, vocab_size)."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # tied: one Parameter
        self.apply(self._init_weights)
        residual_std = 0.02 / math.sqrt(2 * config.n_layer)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=residual_std)

    @staticmethod
    def _init_weights(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def get_num_params(self, non_embedding=True):
        """The number of parameters, the tied lm_head counted once; non_embedding leaves
        out the position embeddings (the token embeddings count: lm_head uses them)."""
        n = sum(p.numel() for p in self.parameters())
        if non_embedding:
            n -= self.transformer.wpe.weight.numel()
        return n

    def _hidden(self, idx, cache=None):
        """The final LayerNorm's output (B, T, C) for token ids idx (B, T) at positions
        past..past+T-1, past being the number of positions already in `cache`."""
        if idx.ndim != 2:
            raise ValueError(f"GPT: idx must be (batch, time) token ids, got shape "
                             f"{tuple(idx.shape)}")
        T = idx.shape[1]
        past = 0 if cache is None else cache.length
        if past + T > self.config.block_size:
            raise ValueError(f"GPT(block_size={self.config.block_size}): cannot forward a "
                             f"context of {past + T} tokens ({past} cached + {T} new), longer "
                             f"than block_size (crop it to the last {self.config.block_size})")
        pos = ops.arange(past, past + T, device=idx.device)  # (T,)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        layers = [None] * len(self.transformer.h) if cache is None else cache.layers
        for block, layer_cache in zip(self.transformer.h, layers):
            x = block(x, layer_cache)
        return self.transformer.ln_f(x)

    def forward(self, idx, targets=None):
        """(logits (B, T, vocab_size), loss): loss is the mean cross-entropy against
        `targets` (B, T) (ids equal to -1 ignored), None without targets."""
        idx = _as_ids(idx)
        logits = self.lm_head(self._hidden(idx))  # (B, T, V)
        loss = None
        if targets is not None:
            V = logits.shape[-1]
            loss = F.cross_entropy(logits.view(-1, V), _as_ids(targets).view(-1),
                                   ignore_index=-1)  # (B T, V) against (B T,)
        return logits, loss

    @no_grad()
    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None, top_p=None,
                 use_cache=True, generator=None):
        """Continue each row of idx (B, T) by max_new_tokens tokens, feeding each one back:
        -> (B, T + max_new_tokens). Runs in eval mode (restored after) without autograd.

        temperature divides the logits (0: greedy, the argmax); top_k keeps the k most
        likely tokens, top_p the smallest set whose probability reaches top_p (nucleus);
        the token is drawn from `generator` (a numpy Generator; default nnlab's, so
        nnlab.manual_seed fixes the draw).

        use_cache: keep every layer's keys and values, so each new token costs O(context)
        (see `Context` for what happens once the context outgrows block_size)."""
        _check_sampling(temperature, top_k, top_p)
        idx = _as_ids(idx)
        was_training = self.training
        self.eval()
        context, new = Context(self, use_cache), np.asarray(idx.cpu()._data)  # (B, T)
        try:
            for _ in range(max_new_tokens):
                logits = context.extend(new)  # (B, V)
                new = sample_next(np.asarray(logits.cpu()._data), temperature, top_k, top_p,
                                  generator)[:, None]  # (B, 1)
        finally:
            self.train(was_training)
        tokens = new if context.tokens is None else np.concatenate([context.tokens, new], 1)
        return _ids_like(tokens, idx.device)


class FlatLogitsGPT(GPT):
    """GPT for `fit`: forward(idx (B, T)) -> logits (B T, V), so that nn.CrossEntropyLoss
    and per-token metrics apply to next-token targets flattened to (B T,). Its state_dict
    is GPT's."""

    def forward(self, idx):
        logits, _ = super().forward(idx)
        return logits.reshape(-1, logits.shape[-1])                 # (B, T, V) -> (B T, V)


class Context:
    """The growing context of a generation: `extend(ids)` appends token ids (B, n) to every
    row and returns the logits (B, V) of the token after them; `tokens` is the context so
    far (B, T), a NumPy array.

    With use_cache the new ids alone go through the model, attending to the cached keys and
    values of the earlier ones. Once the context outgrows block_size it is cropped to the
    last block_size tokens; their positions all shift, so every cached key is stale: from
    then on each call re-runs the cropped window, exactly as use_cache=False always does
    (the same logits either way). Call it in eval mode (dropout off)."""

    def __init__(self, model, use_cache=True):
        self.model = model
        self.cache = KVCache(model.config) if use_cache else None
        self.tokens = None
        self.device = model.transformer.wte.weight.device

    @no_grad()
    def extend(self, ids):
        ids = np.asarray(ids.cpu()._data if isinstance(ids, Tensor) else ids, dtype=np.int64)
        if ids.ndim != 2:
            raise ValueError(f"Context.extend: ids must be (batch, n) token ids, got shape "
                             f"{ids.shape}")
        self.tokens = ids if self.tokens is None else np.concatenate([self.tokens, ids], 1)
        block = self.model.config.block_size
        if self.cache is not None and self.tokens.shape[1] <= block:
            x = self.model._hidden(_ids_like(ids, self.device), self.cache)  # (B, n, C)
        else:
            x = self.model._hidden(_ids_like(self.tokens[:, -block:], self.device))
        return self.model.lm_head(x[:, -1, :])  # (B, V)


def _as_ids(x):
    """Integer token ids as a Tensor (from a Tensor, array or nested list)."""
    t = x if isinstance(x, Tensor) else ops.as_tensor(np.asarray(x))
    if t.dtype.kind not in "iu":
        raise TypeError(f"GPT: token ids must be integers, got dtype {t.dtype}")
    return t


def _ids_like(array, device):
    return Tensor(backend.array_module_for(device).asarray(array))


def _check_sampling(temperature, top_k, top_p):
    if temperature < 0:
        raise ValueError(f"GPT.generate: temperature must be >= 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"GPT.generate: top_k must be >= 1, got {top_k}")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError(f"GPT.generate: top_p must be in (0, 1], got {top_p}")


def sample_next(logits, temperature=1.0, top_k=None, top_p=None, generator=None):
    """One token per row from logits (B, V) (a NumPy array) -> ids (B,) int64.

    temperature 0 is the argmax; else p = softmax(logits / temperature), restricted to the
    top_k largest and then to the smallest prefix (by decreasing p) whose mass reaches
    top_p, renormalised, and drawn by inverting its CDF at u ~ U(0, 1] from `generator`
    (default nnlab's)."""
    _check_sampling(temperature, top_k, top_p)
    logits = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        return logits.argmax(axis=-1).astype(np.int64)
    logits = logits / temperature
    V = logits.shape[-1]
    if top_k is not None and top_k < V:
        kth = np.partition(logits, V - top_k, axis=-1)[:, V - top_k, None]  # (B, 1)
        logits = np.where(logits < kth, -np.inf, logits)
    probs = np.exp(logits - logits.max(axis=-1, keepdims=True))
    probs /= probs.sum(axis=-1, keepdims=True)
    if top_p is not None and top_p < 1:
        order = np.argsort(-probs, axis=-1, kind="stable")  # (B, V), most likely first
        sorted_p = np.take_along_axis(probs, order, axis=-1)
        before = np.cumsum(sorted_p, axis=-1) - sorted_p  # mass of the more likely tokens
        drop = np.zeros_like(probs, dtype=bool)
        np.put_along_axis(drop, order, before >= top_p, axis=-1)
        probs = np.where(drop, 0.0, probs)
    cdf = np.cumsum(probs, axis=-1)  # (B, V)
    gen = backend.generator() if generator is None else generator
    u = (1.0 - gen.random(len(cdf))) * cdf[:, -1]  # (B,), in (0, total]
    ids = (cdf < u[:, None]).sum(axis=-1)
    return np.minimum(ids, V - 1).astype(np.int64)
