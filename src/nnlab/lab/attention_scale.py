"""Why attention divides the scores by sqrt(d_k) (Vaswani et al. 2017, section 3.2.1).

For q, k with independent unit-variance components, the score q . k = sum_i q_i k_i has
mean 0 and variance d_k. Unscaled, the logits of a row spread as sqrt(d_k): the softmax
saturates towards a one-hot row, its entropy falls to 0, and its Jacobian
diag(p) - p p^T vanishes, so almost no gradient reaches the logits or q. Divided by
sqrt(d_k), the logits keep unit variance and the softmax its shape whatever d_k is.

For each d_k, `queries` queries q (queries, d_k) and n keys k (n, d_k) of standard normals,
logits z = q k^T * s with s = 1 (unscaled) or 1 / sqrt(d_k) (scaled), p = softmax(z):

    entropy      mean over rows of -sum_j p_j log p_j      (at most log n, uniform rows)
    grad_logits  typical ||dL/dz_row||,   L = sum(p * g), g a fixed N(0, 1) draw
    grad_q       typical ||dL/dq_row||    (= ||s dL/dz_row k||)

L = sum(p * g) stands for what reaches the softmax in attention, dL/dp = dO V^T. "Typical"
is the geometric mean over rows, exp(mean(log ||.||)): unscaled, a row's gradient is about
e^(-gap), the gap between its two largest logits, which grows as sqrt(d_k), so most rows'
gradients vanish exponentially; the rare near-ties keep the arithmetic mean up (it falls
only as 1 / sqrt(d_k)), so that mean hides the saturation.
"""
import math
import os

import numpy as np

from ..autograd.tensor import Tensor
from ..nn.functional import softmax
from .plot import save_figure

KINDS = ("scaled", "unscaled")


def _typical(rows):
    """The geometric mean of the rows' norms (a norm that underflowed to 0 counts as 1e-300)."""
    norms = np.linalg.norm(rows.astype(np.float64), axis=-1)
    return float(np.exp(np.mean(np.log(np.maximum(norms, 1e-300)))))


def _measure(q, k, g, scale):
    """Mean row entropy and typical logit- and q-gradient row norms of softmax(q k^T s)."""
    qt = Tensor(q, requires_grad=True)
    logits = (qt @ Tensor(k).T) * scale                          # (queries, n)
    logits.retain_grad()
    p = softmax(logits, dim=-1)
    (p * Tensor(g)).sum().backward()
    probs = p._data.astype(np.float64)
    logp = np.log(np.where(probs > 0, probs, 1.0))               # 0 log 0 = 0
    entropy = float(np.mean(-(probs * logp).sum(-1)))
    return entropy, _typical(logits.grad._data), _typical(qt.grad._data)


def attention_scale(dims=(16, 32, 64, 128, 256, 512, 1024), n=256, seed=0, out=None,
                    queries=128):
    """Softmax entropy and gradient norms of unscaled and 1/sqrt(d_k)-scaled attention
    logits for each d_k in `dims`, `n` keys and `queries` queries (see the module
    docstring); float64, the same draws for both kinds.

    Returns {"dims", "n", "queries", "seed", "max_entropy" (log n), "entropy",
    "grad_logits", "grad_q", "plot"}: entropy[kind], grad_logits[kind] and grad_q[kind]
    are lists aligned with `dims` (kind "scaled" or "unscaled"); plot is the PNG written in
    `out` (attention_scale.png), None without `out`."""
    dims = [int(d) for d in dims]
    if not dims or min(dims) < 1 or n < 2 or queries < 1:
        raise ValueError(f"attention_scale: dims >= 1, n >= 2 and queries >= 1 are needed, "
                         f"got dims={dims}, n={n}, queries={queries}")
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((queries, n))
    result = {"dims": dims, "n": n, "queries": queries, "seed": seed,
              "max_entropy": math.log(n), "plot": None,
              **{key: {kind: [] for kind in KINDS}
                 for key in ("entropy", "grad_logits", "grad_q")}}
    for d in dims:
        q = rng.standard_normal((queries, d))
        k = rng.standard_normal((n, d))
        for kind in KINDS:
            scale = 1 / math.sqrt(d) if kind == "scaled" else 1.0
            for key, value in zip(("entropy", "grad_logits", "grad_q"),
                                  _measure(q, k, g, scale)):
                result[key][kind].append(value)
    if out is not None:
        os.makedirs(out, exist_ok=True)
        result["plot"] = write_plot(result, os.path.join(out, "attention_scale.png"))
    return result


def write_plot(result, path):
    """Two panels against d_k (log scale): the softmax's entropy, and the gradient norms at
    the logits and at q; returns `path`."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(11, 4.2), dpi=100)
    ent_ax, grad_ax = fig.subplots(1, 2)
    dims = result["dims"]
    styles = {"scaled": ("-", "C0"), "unscaled": ("--", "C1")}
    for kind in KINDS:
        line, colour = styles[kind]
        ent_ax.plot(dims, result["entropy"][kind], line, color=colour, marker="o", label=kind)
        grad_ax.plot(dims, result["grad_logits"][kind], line, color=colour, marker="o",
                     label=f"{kind}: dL/dlogits")
        grad_ax.plot(dims, result["grad_q"][kind], line, color=colour, marker="s",
                     mfc="none", label=f"{kind}: dL/dq")
    ent_ax.axhline(result["max_entropy"], color="grey", lw=0.8, label="log n (uniform)")
    ent_ax.set_title(f"softmax entropy, {result['n']} keys")
    ent_ax.set_ylabel("mean row entropy (nats)")
    grad_ax.set_title("gradient norm through the softmax")
    grad_ax.set_ylabel("typical row norm (geometric mean)")
    if all(v > 0 for key in ("grad_logits", "grad_q") for kind in KINDS
           for v in result[key][kind]):
        grad_ax.set_yscale("log")
    for ax in (ent_ax, grad_ax):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("d_k")
    return save_figure(fig, path)
