"""Positional information for attention, which by itself ignores order:
`SinusoidalPositionalEncoding` (fixed, added), `LearnedPositionalEmbedding` (trained,
added) and `RotaryEmbedding` (RoPE, rotates queries and keys). None is in torch.nn.

Sinusoidal (Vaswani et al., 2017), w_i = 1 / 10000^(2i / d_model):

    PE[pos, 2i] = sin(pos w_i),   PE[pos, 2i + 1] = cos(pos w_i)

Each pair r_n = (PE[n, 2i], PE[n, 2i+1]) turns by the angle k w_i when the position moves by
k: r_{n+k} = M_k r_n with M_k = [[cos k w_i, sin k w_i], [-sin k w_i, cos k w_i]], a rotation
that depends on k alone, so a fixed linear map relates every position to the one k later.

Rotary (Su et al., 2021, RoFormer), theta_i = base^(-2i / head_dim): each pair of a query
or key at position m is rotated by the angle m theta_i,

    (x'_a, x'_b) = (x_a cos m theta_i - x_b sin m theta_i, x_a sin m theta_i + x_b cos m theta_i)

so q'_m . k'_n depends on the positions only through m - n. The pair of dims is
(x_{2i}, x_{2i+1}) by default (interleaved, the paper's); interleaved=False pairs x_i with
x_{i + head_dim/2} (the half-split of GPT-NeoX and Hugging Face's LLaMA).

Each takes an `offset`, the position of the first element, for decoding with a KV cache.
"""
import math

import numpy as np

from .. import backend, ops
from ..autograd.tensor import Tensor
from .dropout import Dropout
from .linear import Embedding
from .module import Module


def _sequence_axis(input, batch_first, name, d_model):
    """The axis of the sequence in (T, D), (T, B, D) or (B, T, D), after checking D."""
    shape = tuple(input.shape)
    if len(shape) not in (2, 3) or shape[-1] != d_model:
        raise ValueError(f"{name}: expected an input (T, {d_model}), "
                         f"{'(B, T' if batch_first else '(T, B'}, {d_model}), got shape "
                         f"{shape}")
    return 1 if batch_first and len(shape) == 3 else 0


def _check_range(name, offset, length, max_len):
    if offset < 0 or offset + length > max_len:
        raise ValueError(f"{name}: positions {offset} to {offset + length - 1} are outside "
                         f"[0, max_len={max_len})")


def _broadcastable(table, input, axis):
    """table (T, D) shaped to add to input: (T, D), (T, 1, D) or (1, T, D)."""
    if input.ndim == 2:
        return table
    return table.unsqueeze(0 if axis == 1 else 1)  # (T, D) -> (1, T, D) or (T, 1, D)


def sinusoidal_table(max_len, d_model):
    """The (max_len, d_model) float64 array PE[pos, 2i] = sin(pos w_i), PE[pos, 2i+1] =
    cos(pos w_i), w_i = 10000^(-2i / d_model) (an odd d_model drops the last cosine)."""
    pos = np.arange(max_len, dtype=np.float64)[:, None]  # (max_len, 1)
    w = np.exp(np.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))  # (ceil(D/2),)
    pe = np.zeros((max_len, d_model))
    pe[:, 0::2] = np.sin(pos * w)
    pe[:, 1::2] = np.cos(pos * w[:d_model // 2])
    return pe


class SinusoidalPositionalEncoding(Module):
    """x + PE[offset : offset + T], then dropout: (T, B, D) ((B, T, D) with batch_first,
    (T, D) unbatched) -> the same shape, D = d_model. `pe` (max_len, d_model) is a
    non-persistent buffer: it follows `to()` but stays out of the state_dict (it is a
    function of d_model and max_len, so checkpoints neither carry nor depend on it)."""

    def __init__(self, d_model, max_len=5000, dropout=0.0, batch_first=False, device=None,
                 dtype=None):
        super().__init__()
        self.d_model = d_model
        self.max_len = max_len
        self.batch_first = batch_first
        self.dropout = Dropout(dropout)
        table = sinusoidal_table(max_len, d_model)
        self.register_buffer("pe", ops.tensor(table, dtype=dtype or backend.get_default_dtype(),
                                              device=device), persistent=False)

    def _name(self):
        return f"SinusoidalPositionalEncoding(d_model={self.d_model}, max_len={self.max_len})"

    def forward(self, input, offset=0):
        axis = _sequence_axis(input, self.batch_first, self._name(), self.d_model)
        T = input.shape[axis]
        _check_range(self._name(), offset, T, self.max_len)
        pe = self.pe[offset:offset + T]  # (T, D)
        pe = pe if pe.dtype == input.dtype else pe.to(input.dtype)
        return self.dropout(input + _broadcastable(pe, input, axis))

    def extra_repr(self):
        return (f"d_model={self.d_model}, max_len={self.max_len}"
                + (", batch_first=True" if self.batch_first else ""))


class LearnedPositionalEmbedding(Module):
    """x + E[offset : offset + T], then dropout, with E a trained table: `embedding`, an
    `Embedding(max_len, d_model)` looked up at the positions (initialised N(0, 1) as
    Embedding; state_dict key `embedding.weight`). Shapes as SinusoidalPositionalEncoding."""

    def __init__(self, max_len, d_model, dropout=0.0, batch_first=False, device=None,
                 dtype=None):
        super().__init__()
        self.max_len = max_len
        self.d_model = d_model
        self.batch_first = batch_first
        self.embedding = Embedding(max_len, d_model, device=device, dtype=dtype)
        self.dropout = Dropout(dropout)

    def _name(self):
        return f"LearnedPositionalEmbedding(max_len={self.max_len}, d_model={self.d_model})"

    def forward(self, input, offset=0):
        axis = _sequence_axis(input, self.batch_first, self._name(), self.d_model)
        T = input.shape[axis]
        _check_range(self._name(), offset, T, self.max_len)
        positions = ops.arange(offset, offset + T, device=input.device)  # (T,) int64
        return self.dropout(input + _broadcastable(self.embedding(positions), input, axis))

    def extra_repr(self):
        return (f"max_len={self.max_len}, d_model={self.d_model}"
                + (", batch_first=True" if self.batch_first else ""))


class RotaryEmbedding(Module):
    """Rotary position embedding (RoPE) for heads of size head_dim (even): x (..., T,
    head_dim), the sequence in dim -2 (as (B, H, T, head_dim)) -> x rotated, the pair i at
    position m by m theta_i, theta_i = base^(-2i / head_dim). Positions are
    offset, offset + 1, ... along dim -2, or offset + `positions` (integers, shape (T,) or
    broadcastable to x.shape[:-1]). interleaved=True pairs (x_{2i}, x_{2i+1}) (RoFormer),
    False pairs (x_i, x_{i + head_dim/2}) (GPT-NeoX, LLaMA). `inv_freq` (head_dim / 2,),
    the theta_i, is a non-persistent buffer. No parameters."""

    def __init__(self, head_dim, base=10000, interleaved=True, device=None):
        super().__init__()
        if head_dim <= 0 or head_dim % 2:
            raise ValueError(f"RotaryEmbedding: head_dim must be a positive even number, got "
                             f"{head_dim}")
        self.head_dim = head_dim
        self.base = base
        self.interleaved = interleaved
        inv_freq = float(base) ** (-np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
        self.register_buffer("inv_freq", ops.tensor(inv_freq, device=device),
                             persistent=False)

    def _name(self):
        return f"RotaryEmbedding(head_dim={self.head_dim})"

    def forward(self, input, positions=None, offset=0):
        shape = tuple(input.shape)
        if len(shape) < 2 or shape[-1] != self.head_dim:
            raise ValueError(f"{self._name()}: expected an input (..., T, {self.head_dim}), "
                             f"got shape {shape}")
        cos, sin = self._cos_sin(input, positions, offset)  # (..., T, head_dim / 2)
        if self.interleaved:
            pairs = input.reshape(*shape[:-1], self.head_dim // 2, 2)  # (..., T, D/2, 2)
            a, b = pairs.unbind(-1)  # x_{2i}, x_{2i+1}: (..., T, D/2) each
            out = ops.stack([a * cos - b * sin, a * sin + b * cos], dim=-1)  # (..., T, D/2, 2)
            return out.reshape(shape)  # (..., T, D/2, 2) -> (..., T, D)
        a, b = input.chunk(2, dim=-1)  # x_i, x_{i + D/2}: (..., T, D/2) each
        return ops.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)  # (..., T, D)

    def apply_rotary(self, q, k, positions=None, offset=0):
        """(q, k) rotated: each at the positions offset, offset + 1, ... along its own
        dim -2 (or at `positions`). For a KV cache rotate each new block once, at its
        offset, before it joins the cache."""
        return self(q, positions, offset), self(k, positions, offset)

    def _cos_sin(self, input, positions, offset):
        """cos and sin of the angles pos * theta_i, in input's dtype: (..., T, head_dim/2)."""
        xp = backend.get_array_module(self.inv_freq._data)
        T = input.shape[-2]
        if positions is None:
            pos = xp.arange(offset, offset + T, dtype=xp.float64)  # (T,)
        else:
            pos = positions._data if isinstance(positions, Tensor) else positions
            pos = xp.asarray(pos, dtype=xp.float64)
            if pos.shape[-1:] != (T,):
                raise ValueError(f"{self._name()}: positions of shape {tuple(pos.shape)} do "
                                 f"not match the input's sequence length {T} (dim -2 of "
                                 f"{tuple(input.shape)})")
            pos = pos + offset
        angles = pos[..., None] * self.inv_freq._data.astype(xp.float64)  # (..., T, D/2)
        return (ops.tensor(xp.cos(angles), dtype=input.dtype, device=input.device),
                ops.tensor(xp.sin(angles), dtype=input.dtype, device=input.device))

    def extra_repr(self):
        return (f"head_dim={self.head_dim}, base={self.base}"
                + ("" if self.interleaved else ", interleaved=False"))
