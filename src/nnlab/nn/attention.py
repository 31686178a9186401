"""`MultiheadAttention` with PyTorch's arguments, parameters, initialisation and masks.

For each head h (H = num_heads, d = embed_dim / H its size):

    head_h = softmax(Q_h K_h^T / sqrt(d) + M) V_h,   Q = q W_q^T + b_q, K = k W_k^T + b_k,
                                                      V = v W_v^T + b_v
    MultiheadAttention(q, k, v) = concat(head_1, ..., head_H) W_o^T + b_o

Parameters, named as torch names them (so state_dict keys match):
    in_proj_weight (3E, E) = [W_q; W_k; W_v]      when kdim == vdim == embed_dim, else
    q_proj_weight (E, E), k_proj_weight (E, kdim), v_proj_weight (E, vdim)
    in_proj_bias (3E,) = [b_q; b_k; b_v]           (bias=True; packed in both cases)
    out_proj.weight (E, E), out_proj.bias (E,)    (out_proj a Linear)
    bias_k, bias_v (1, 1, E)                       (add_bias_kv=True)
initialised as torch: xavier_uniform_ on the projection weights, the in- and out-biases
zero, out_proj.weight as Linear's, bias_k and bias_v xavier_normal_.

Masks follow torch's convention for this layer, the opposite of scaled_dot_product_attention's:
a bool True means "may NOT attend" (it becomes -inf in M); a float mask is added to the
scores as it is. key_padding_mask is (N, S) (S,) unbatched; attn_mask (L, S), shared by the
batch and the heads, or (N * num_heads, L, S), one per sequence and head (sequence-major: row
n * num_heads + h). Both given, M is their sum. A row masked everywhere gives, as torch,
NaN with need_weights=True (a softmax over -inf) and zeros before out_proj with
need_weights=False (F.scaled_dot_product_attention computes that case).
"""
import math

from .. import ops
from . import functional as F
from . import init
from .linear import Linear
from .module import Module
from .parameter import Parameter


class NonDynamicallyQuantizableLinear(Linear):
    """torch's name for MultiheadAttention.out_proj: a Linear (the name keeps the repr)."""


class MultiheadAttention(Module):
    """Attention over num_heads heads of size embed_dim / num_heads.

    forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
            average_attn_weights=True, is_causal=False) -> (attn_output, attn_weights)

    query (L, N, E), key (S, N, kdim), value (S, N, vdim); (N, L, E) ... with batch_first;
    (L, E), (S, kdim), (S, vdim) unbatched (batch_first then ignored, as torch).
    attn_output has query's layout with E features; attn_weights (N, L, S) averaged over
    the heads, (N, num_heads, L, S) with average_attn_weights=False ((L, S) or
    (num_heads, L, S) unbatched), after dropout; None when need_weights=False.
    is_causal is torch's hint that attn_mask is the causal mask: attn_mask must be given;
    with need_weights=False and no key_padding_mask the causal mask is used in its place.
    dropout (on the attention weights) acts in training mode only."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be greater "
                             f"than 0, got embed_dim={embed_dim} and num_heads={num_heads}")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible "
                             f"by num_heads ({num_heads})")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        factory = dict(device=device, dtype=dtype)
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(ops.empty(3 * embed_dim, embed_dim, **factory))
            self.q_proj_weight = self.k_proj_weight = self.v_proj_weight = None
        else:
            self.q_proj_weight = Parameter(ops.empty(embed_dim, embed_dim, **factory))
            self.k_proj_weight = Parameter(ops.empty(embed_dim, self.kdim, **factory))
            self.v_proj_weight = Parameter(ops.empty(embed_dim, self.vdim, **factory))
            self.in_proj_weight = None
        self.in_proj_bias = Parameter(ops.empty(3 * embed_dim, **factory)) if bias else None
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias, **factory)
        if add_bias_kv:
            self.bias_k = Parameter(ops.empty(1, 1, embed_dim, **factory))
            self.bias_v = Parameter(ops.empty(1, 1, embed_dim, **factory))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        for w in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight,
                  self.v_proj_weight):
            if w is not None:
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _name(self):
        return f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads})"

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        name = self._name()
        batched = self._check_inputs(query, key, value, key_padding_mask, attn_mask)
        self_attention = query is key and key is value
        if not batched:
            query, key, value = (x.unsqueeze(1) for x in (query, key, value))  # -> (L, 1, E)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)  # (S,) -> (1, S)
        elif self.batch_first:
            query, key, value = (x.transpose(0, 1) for x in (query, key, value))  # -> (L, N, E)
        L, N, E = query.shape
        S, H, d = key.shape[0], self.num_heads, self.head_dim
        key_padding_mask = _float_mask(key_padding_mask, query, name, "key_padding_mask")
        attn_mask = _float_mask(attn_mask, query, name, "attn_mask")
        if is_causal and attn_mask is None:
            raise RuntimeError(f"{name}: is_causal=True is a hint that attn_mask is the causal "
                               "mask and needs attn_mask (see "
                               "Transformer.generate_square_subsequent_mask)")
        self._check_masks(key_padding_mask, attn_mask, N, L, S)
        causal = is_causal and key_padding_mask is None and not need_weights
        if causal:  # as torch: the hint replaces the mask
            attn_mask = None

        q, k, v = self._project(query, key, value, self_attention)  # (L, N, E), (S, N, E) x 2
        if self.bias_k is not None:
            k = ops.cat([k, self.bias_k.expand(1, N, E)])  # (S + 1, N, E)
            v = ops.cat([v, self.bias_v.expand(1, N, E)])
            attn_mask, key_padding_mask = _pad_masks(attn_mask, key_padding_mask)
        q = q.reshape(L, N, H, d).permute(1, 2, 0, 3)  # (L, N, E) -> (N, H, L, d)
        k = k.reshape(k.shape[0], N, H, d).permute(1, 2, 0, 3)  # (S, N, E) -> (N, H, S, d)
        v = v.reshape(v.shape[0], N, H, d).permute(1, 2, 0, 3)
        if self.add_zero_attn:
            zeros = ops.zeros(N, H, 1, d, dtype=k.dtype, device=k.device)
            k = ops.cat([k, zeros], dim=2)  # (N, H, S + 1, d)
            v = ops.cat([v, zeros], dim=2)
            attn_mask, key_padding_mask = _pad_masks(attn_mask, key_padding_mask)
        mask = _merge_masks(attn_mask, key_padding_mask, N, H, L, k.shape[2])

        p = self.dropout if self.training else 0.0
        if need_weights:
            out, weights = _attention_with_weights(q, k, v, mask, p)
        else:
            out = F.scaled_dot_product_attention(q, k, v, mask, p, is_causal=causal)
            weights = None
        out = out.permute(2, 0, 1, 3).reshape(L, N, E)  # (N, H, L, d) -> (L, N, H * d)
        out = F.linear(out, self.out_proj.weight, self.out_proj.bias)
        if weights is not None and average_attn_weights:
            weights = weights.mean(1)  # (N, H, L, S) -> (N, L, S)
        if not batched:
            out = out.squeeze(1)  # (L, 1, E) -> (L, E)
            weights = weights.squeeze(0) if weights is not None else None
        elif self.batch_first:
            out = out.transpose(0, 1)  # (L, N, E) -> (N, L, E)
        return out, weights

    def _project(self, query, key, value, self_attention):
        """Q, K, V: the input projections, one GEMM for self-attention."""
        b = self.in_proj_bias
        bq, bk, bv = b.chunk(3) if b is not None else (None, None, None)
        if not self._qkv_same_embed_dim:
            return (F.linear(query, self.q_proj_weight, bq),
                    F.linear(key, self.k_proj_weight, bk),
                    F.linear(value, self.v_proj_weight, bv))
        if self_attention:
            return F.linear(query, self.in_proj_weight, b).chunk(3, dim=-1)  # (L, N, 3E) -> 3x
        wq, wk, wv = self.in_proj_weight.chunk(3)
        return F.linear(query, wq, bq), F.linear(key, wk, bk), F.linear(value, wv, bv)

    def _check_inputs(self, query, key, value, key_padding_mask, attn_mask):
        """torch's shape rules; True when the input is batched."""
        name, q, k, v = self._name(), tuple(query.shape), tuple(key.shape), tuple(value.shape)
        if len(q) not in (2, 3):
            raise ValueError(f"{name}: query should be unbatched 2-D or batched 3-D, got shape "
                             f"{q}")
        if len(k) != len(q) or len(v) != len(q):
            raise ValueError(f"{name}: for a {len(q)}-D query, key and value must be {len(q)}-D "
                             f"too, got shapes {k} and {v}")
        for what, shape, size in (("query", q, self.embed_dim), ("key", k, self.kdim),
                                  ("value", v, self.vdim)):
            if shape[-1] != size:
                raise ValueError(f"{name}: {what} of shape {shape} has {shape[-1]} features, "
                                 f"expected {size}")
        dtype = self.out_proj.weight.dtype
        if not query.dtype == key.dtype == value.dtype == dtype:
            raise TypeError(f"{name}: query, key and value are {query.dtype}, {key.dtype} and "
                            f"{value.dtype} but the parameters are {dtype} (convert with "
                            ".to(dtype))")
        seq = 1 if self.batch_first and len(q) == 3 else 0
        if len(q) == 3 and not q[1 - seq] == k[1 - seq] == v[1 - seq]:
            raise ValueError(f"{name}: query, key and value of shapes {q}, {k} and {v} differ "
                             "in batch size")
        if k[seq] != v[seq]:
            raise ValueError(f"{name}: key and value of shapes {k} and {v} differ in sequence "
                             "length")
        if key_padding_mask is not None and key_padding_mask.ndim != len(q) - 1:
            raise ValueError(f"{name}: for a {len(q)}-D query, key_padding_mask must be "
                             f"{len(q) - 1}-D, got shape {tuple(key_padding_mask.shape)}")
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise ValueError(f"{name}: attn_mask must be 2-D (L, S) or 3-D "
                             f"(N * num_heads, L, S), got shape {tuple(attn_mask.shape)}")
        return len(q) == 3

    def _check_masks(self, key_padding_mask, attn_mask, N, L, S):
        name = self._name()
        if key_padding_mask is not None and tuple(key_padding_mask.shape) != (N, S):
            raise ValueError(f"{name}: key_padding_mask of shape "
                             f"{tuple(key_padding_mask.shape)} does not match (batch, source "
                             f"length) = {(N, S)}")
        if attn_mask is not None:
            expected = (L, S) if attn_mask.ndim == 2 else (N * self.num_heads, L, S)
            if tuple(attn_mask.shape) != expected:
                raise ValueError(f"{name}: the {attn_mask.ndim}-D attn_mask has shape "
                                 f"{tuple(attn_mask.shape)}, expected {expected} (target "
                                 f"length {L}, source length {S}, batch {N})")


def _float_mask(mask, like, name, what):
    """A bool mask (True = not allowed) as 0 / -inf in like's dtype; a float mask as is."""
    if mask is None:
        return None
    if mask.dtype.kind == "b":
        zeros = ops.zeros(*mask.shape, dtype=like.dtype, device=like.device)
        return zeros.masked_fill(mask, float("-inf"))
    if mask.dtype.kind != "f":
        raise TypeError(f"{name}: {what} must be bool or floating point, got {mask.dtype}")
    return mask if mask.dtype == like.dtype else mask.to(like.dtype)


def _pad_masks(attn_mask, key_padding_mask):
    """The masks with a zero (allowed) column for one more key position."""
    return tuple(None if m is None else F.pad(m, (0, 1)) for m in (attn_mask, key_padding_mask))


def _merge_masks(attn_mask, key_padding_mask, N, H, L, S):
    """attn_mask + key_padding_mask, broadcast over (N, H, L, S); None when neither is given."""
    if attn_mask is not None and attn_mask.ndim == 3:
        attn_mask = attn_mask.reshape(N, H, L, S)  # (N * H, L, S) -> (N, H, L, S)
    if key_padding_mask is not None:
        key_padding_mask = key_padding_mask.reshape(N, 1, 1, S)  # (N, S) -> (N, 1, 1, S)
        return key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    return attn_mask


def _attention_with_weights(q, k, v, mask, dropout_p):
    """softmax(Q K^T / sqrt(d) + M) V and the weights: q (N, H, L, d), k and v (N, H, S, d)
    -> (N, H, L, d), (N, H, L, S). The weights are returned after dropout, as torch."""
    scores = (q * (1.0 / math.sqrt(q.shape[-1]))) @ k.transpose(-2, -1)  # (N, H, L, S)
    if mask is not None:
        scores = scores + mask
    weights = F.softmax(scores, dim=-1)
    if dropout_p > 0:
        weights = F.dropout(weights, dropout_p)
    return weights @ v, weights
