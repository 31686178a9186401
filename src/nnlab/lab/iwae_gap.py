"""How the importance-weighted bound closes the gap to log p(x) (Burda et al. 2016).

With K samples z_k ~ q(z | x) and weights w_k = p(x, z_k) / q(z_k | x),

    L_K = E[log (1/K) sum_k w_k]    L_1 = ELBO <= L_2 <= ... <= L_K -> log p(x) as K grows

(Jensen's inequality on a mean of K weights; the mean concentrates as K grows). A VAE
(MLP 784-hidden-latent, Bernoulli likelihood) is trained on MNIST's fixed 8,000-image
training split, binarised at 0.5 so that p(x | z) is a proper Bernoulli likelihood (a
likelihood of grey values under a Bernoulli is not normalised); then on held-out images

    neg_elbo   E_q[-log p(x | z)] + KL(q || N(0, I)) with the closed-form KL, one z per image
    bound[K]   -L_K per image, averaged (nats), for each K

The gap log p(x) - L_K is not known exactly; L_Kmax (the largest K) is the tightest lower
bound on log p(x) measured, so L_Kmax - L_K is a lower bound on each gap.

The K samples go through the decoder in chunks of at most `chunk_rows` (images x samples)
rows, so memory stays bounded for K = 1,000. Chunk c of k_c samples gives
L_c = logsumexp(log w over the chunk) - log k_c (`VAE.iwae_bound`), and the chunks combine as

    L_K = logsumexp_c(L_c + log k_c) - log K

accumulated pairwise with `numpy.logaddexp` (which subtracts the larger argument first), in
float64, so no weight is exponentiated out of range.
"""
import math
import os

import numpy as np

from .. import backend, optim
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..models import VAE
from ..train.recipes import mnist_split
from .plot import save_figure

KS = (1, 2, 5, 10, 50, 100, 500, 1000)


def subset(n, size, name, what):
    """The first `size` of `n` rows (all of them for None), checked."""
    if size is None:
        return n
    if not isinstance(size, int) or not 1 <= size <= n:
        raise ValueError(f"{name}: {what} must be an int in [1, {n}], got {size!r}")
    return size


def train_model(model, loss_of_batch, arrays, epochs, batch_size, lr, seed):
    """Adam on `loss_of_batch(model, *batch)` over the rows of `arrays` (numpy arrays of one
    length, each batch's slices as Tensors), shuffled by a Generator seeded with `seed`, for
    `epochs` epochs; returns the mean loss of each epoch. Leaves the model in eval mode."""
    rng = np.random.default_rng(seed)
    opt = optim.Adam(model.parameters(), lr=lr)
    model.train()
    n, history = len(arrays[0]), []
    for _ in range(epochs):
        order, total = rng.permutation(n), 0.0
        for start in range(0, n, batch_size):
            rows = order[start:start + batch_size]
            loss = loss_of_batch(model, *(Tensor(a[rows]) for a in arrays))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(rows)
        history.append(total / n)
    model.eval()
    return history


def train_vae(x, hidden, latent, epochs, batch_size, lr, seed):
    """A VAE(784, hidden, latent), Bernoulli likelihood, trained on x (N, 784) by
    `train_model` on its negative ELBO; returns (model, per-epoch negative ELBO)."""
    backend.manual_seed(seed)
    model = VAE(x.shape[1], hidden, latent)
    history = train_model(model, lambda m, xb: m.loss(xb)[0], (x,), epochs, batch_size, lr,
                          seed)
    return model, history


def chunked_iwae_bound(model, x, k, chunk_rows=10_000, eps=None):
    """L_K per image, (N,) float64, with the K samples sent through the decoder in chunks of
    at most max(1, chunk_rows // N) samples each (see the module docstring). eps: (K, N, L)
    standard normals, or None (drawn chunk by chunk from nnlab's generator)."""
    n = x.shape[0]
    step = max(1, chunk_rows // n)
    total = np.full(n, -np.inf)
    with no_grad():
        for start in range(0, k, step):
            kc = min(step, k - start)
            part = None if eps is None else eps[start:start + kc]
            bound = model.iwae_bound(x, kc, eps=part).numpy().astype(np.float64)  # L_c, (N,)
            total = np.logaddexp(total, bound + math.log(kc))
    return total - math.log(k)


def held_out_bounds(model, x, ks, batch_size=250, chunk_rows=10_000):
    """(neg_elbo, {K: -L_K}) averaged over the rows of x (N, 784), in batches of images."""
    neg_elbo, bounds = 0.0, {k: 0.0 for k in ks}
    with no_grad():
        for start in range(0, len(x), batch_size):
            xb = Tensor(x[start:start + batch_size])
            neg_elbo += model.loss(xb)[0].item() * len(xb)
            for k in ks:
                bounds[k] -= chunked_iwae_bound(model, xb, k, chunk_rows).sum()
    return neg_elbo / len(x), {k: float(v) / len(x) for k, v in bounds.items()}


def iwae_gap(ks=KS, epochs=30, hidden=400, latent=20, n_train=None, n_eval=500,
             batch_size=128, lr=1e-3, seed=0, data=None, out=None, chunk_rows=10_000):
    """Train a Bernoulli VAE on the MNIST training split (the first `n_train` of its 8,000
    binarised images; all for None) and measure -L_K on the first `n_eval` held-out images
    for each K in `ks` (see the module docstring). `data`: the MNIST folder (MNIST's root).

    Returns {"ks", "epochs", "hidden", "latent", "n_train", "n_eval", "seed",
    "train_neg_elbo" (per epoch), "neg_elbo", "bound" (list of mean -L_K aligned with ks),
    "gap_to_best" (L_Kmax - L_K per K: a lower bound on log p(x) - L_K), "plot"}; nats per
    image; plot is iwae_gap.png in `out`, None without `out`."""
    ks = sorted({int(k) for k in ks})
    if not ks or ks[0] < 1:
        raise ValueError(f"iwae_gap: ks must be a non-empty list of K >= 1, got {ks}")
    for name, value in (("epochs", epochs), ("hidden", hidden), ("latent", latent),
                        ("batch_size", batch_size), ("chunk_rows", chunk_rows)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"iwae_gap: {name} must be a positive int, got {value!r}")
    (x_train, _), (x_held, _), _ = mnist_split(data, binarize=True)
    n_train = subset(len(x_train), n_train, "iwae_gap", "n_train")
    n_eval = subset(len(x_held), n_eval, "iwae_gap", "n_eval")
    model, history = train_vae(x_train[:n_train], hidden, latent, epochs, batch_size, lr, seed)
    backend.manual_seed(seed + 1)   # the evaluation's draws, apart from training's
    neg_elbo, bounds = held_out_bounds(model, x_held[:n_eval], ks, chunk_rows=chunk_rows)
    bound = [bounds[k] for k in ks]
    result = {"ks": ks, "epochs": epochs, "hidden": hidden, "latent": latent,
              "n_train": n_train, "n_eval": n_eval, "seed": seed, "train_neg_elbo": history,
              "neg_elbo": neg_elbo, "bound": bound,
              "gap_to_best": [b - bound[-1] for b in bound], "plot": None}
    if out is not None:
        os.makedirs(out, exist_ok=True)
        result["plot"] = write_plot(result, os.path.join(out, "iwae_gap.png"))
    return result


def write_plot(result, path):
    """Mean -L_K against K (log scale) with the negative ELBO as a reference line; returns
    `path`."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(6.5, 4.2), dpi=100)
    ax = fig.subplots()
    ax.plot(result["ks"], result["bound"], "-o", color="C0", label="-L_K (IWAE bound)")
    ax.axhline(result["neg_elbo"], color="C1", ls="--",
               label=f"negative ELBO ({result['neg_elbo']:.2f})")
    ax.set_xscale("log")
    ax.set_xlabel("K (importance samples)")
    ax.set_ylabel("mean -L_K on held-out images (nats)")
    ax.set_title(f"VAE 784-{result['hidden']}-{result['latent']}, {result['n_eval']} "
                 "held-out MNIST images")
    return save_figure(fig, path)
