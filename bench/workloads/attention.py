"""Attention forward + backward, float32: nnlab's F.scaled_dot_product_attention on its
"math" path (the (N, N) scores as composed ops) and on its "flash" path (tiles, online
softmax), each against torch's F.scaled_dot_product_attention (its default CPU kernel).
Batch 1, 4 heads, head dim 64, loss = sum(out * w) for a fixed random w, gradients of q, k
and v. Memory is measured apart, one process per run: `python -m bench.attention_memory`."""
import functools

import numpy as np

from ..registry import Step, Workload, register


class Attention(Workload):
    """sum(sdpa(q, k, v) * w) with q, k, v (1, heads, n, head_dim) leaves."""

    n = 1024
    heads = 4
    head_dim = 64
    backend = None          # nnlab's path: None (math) or "flash"
    is_causal = False

    def arrays(self):
        n, heads, dim = (24, 2, 8) if self.small else (self.n, self.heads, self.head_dim)
        rng = self.rng()
        leaves = {name: rng.standard_normal((1, heads, n, dim), dtype=np.float32)
                  for name in ("q", "k", "v")}
        return leaves, {"w": rng.standard_normal((1, heads, n, dim), dtype=np.float32)}

    def _step(self, make, attention, **options):
        leaves, constants = self.arrays()
        leaves = {k: make(a, True) for k, a in leaves.items()}
        w = make(constants["w"], False)

        def loss():
            return (attention(leaves["q"], leaves["k"], leaves["v"], is_causal=self.is_causal,
                              **options) * w).sum()
        return Step(loss, leaves)

    def setup_nnlab(self):
        import nnlab
        from nnlab.nn import functional as F
        make = lambda a, grad: nnlab.tensor(a, requires_grad=grad)
        if self.backend == "flash" and self.small:   # tiles smaller than n, as at full size
            return self._step(make, functools.partial(F.flash_attention, block_size=(8, 16)))
        options = {"backend": self.backend} if self.backend else {}
        return self._step(make, F.scaled_dot_product_attention, **options)

    def setup_torch(self):
        import torch
        return self._step(lambda a, g: torch.tensor(a, requires_grad=g),
                          torch.nn.functional.scaled_dot_product_attention)


def _describe(cls):
    path = "math path" if cls.backend is None else "flash path"
    causal = ", causal" if cls.is_causal else ""
    cls.description = (f"sdpa {path}{causal}, (1, {cls.heads}, {cls.n}, {cls.head_dim}) "
                       "float32, fwd + bwd vs torch sdpa")
    return register(cls)


# The math path is the composed reference (~10 NumPy passes over the (N, N) scores against
# torch's fused kernel): timed for comparison, with no target of its own.
MATH_TARGET = None


@_describe
class AttentionMath1024(Attention):
    name = "sdpa-math-1024"
    target = MATH_TARGET


@_describe
class AttentionFlash1024(Attention):
    name = "sdpa-flash-1024"
    backend = "flash"
    target = 1.5


@_describe
class AttentionMath2048(Attention):
    name = "sdpa-math-2048"
    n = 2048
    target = MATH_TARGET


@_describe
class AttentionFlash2048(Attention):
    name = "sdpa-flash-2048"
    n = 2048
    backend = "flash"
    target = 1.5


@_describe
class AttentionFlashCausal2048(Attention):
    name = "sdpa-flash-causal-2048"
    n = 2048
    backend = "flash"
    is_causal = True
    target = 1.5


@_describe
class AttentionFlash4096(Attention):
    # ~1 s a step on either side (2 cores): ~1 min at the runner's default 30 + 3 steps
    name = "sdpa-flash-4096"
    n = 4096
    backend = "flash"
    target = 1.5
