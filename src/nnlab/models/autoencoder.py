"""Autoencoders: x -> encoder -> code h -> decoder -> x_hat, with optional penalties.

    x (N, ...)          -> corrupt (training mode only, when noise is set)   # denoising AE
    h = encoder(x_tilde)                                                       # (N, m)
    x_hat = decoder(h)                                                         # (N, ...)
    loss = reconstruction(x_hat, x) + sparsity(h) + contractive * mean_n ||dh/dx||_F^2

Sparsity: "l1" is weight * mean_n sum_j |h_j| (a Laplace prior on the code); "kl" is
weight * sum_j KL(rho || rho_hat_j) with rho_hat_j the batch-mean activation of unit j,
which needs a code in (0, 1) (a sigmoid encoder output). The contractive penalty
(Rifai et al. 2011) is computed for any encoder by double backpropagation, and in closed
form for a one-layer sigmoid encoder by `contractive_penalty_sigmoid`.
"""
import math

from .. import nn, ops
from ..autograd import grad
from ..nn import functional as F

SPARSITY = (None, "l1", "kl")
NOISE = (None, "gaussian", "mask")


def contractive_penalty(h, x, probes=None, distribution="rademacher", generator=None):
    """mean over the batch of ||J||_F^2, J = dh_n/dx_n, by double backpropagation.

    h: (N, m) or (N, ...) computed from x (N, ...), which must require grad; examples must
    not interact inside the encoder (no batch statistics). probes=None: exact, one
    vector-Jacobian product per code unit, ||J||^2 = sum_j ||d h_j / dx||^2. probes=K:
    the unbiased estimate mean_k ||J^T v_k||^2 with E[v v^T] = I, v Rademacher or Gaussian.
    The result is differentiable (create_graph=True), so it can be trained through."""
    if not x.requires_grad:
        raise ValueError("contractive_penalty: x must require grad and h be computed from it")
    n = h.shape[0]
    flat = h.reshape(n, -1)  # (N, m)
    total = 0
    if probes is None:
        for j in range(flat.shape[1]):
            (g,) = grad(flat[:, j].sum(), x, create_graph=True)  # row j of J, per example
            total = total + (g * g).sum()
        return total / n
    if not isinstance(probes, int) or probes < 1:
        raise ValueError(f"contractive_penalty: probes must be None or a positive int, "
                         f"got {probes!r}")
    if distribution not in ("rademacher", "gaussian"):
        raise ValueError(f"contractive_penalty: unknown distribution {distribution!r}; "
                         "expected 'rademacher' or 'gaussian'")
    for _ in range(probes):
        if distribution == "rademacher":
            v = (ops.rand_like(flat, generator=generator) < 0.5).to(flat.dtype) * 2 - 1
        else:
            v = ops.randn_like(flat, generator=generator)
        (g,) = grad(flat, x, grad_outputs=v, create_graph=True)  # J^T v per example
        total = total + (g * g).sum()
    return total / (n * probes)


def contractive_penalty_sigmoid(h, weight):
    """mean over the batch of ||J||_F^2 for h = sigmoid(x W^T + b), in closed form.

    dh_j/dx = h_j (1 - h_j) W_j, so ||J||_F^2 = sum_j (h_j (1 - h_j))^2 ||W_j||^2.
    h: (N, m), weight: (m, d)."""
    if h.ndim != 2 or weight.ndim != 2 or h.shape[1] != weight.shape[0]:
        raise ValueError(f"contractive_penalty_sigmoid: expected h (N, m) and weight (m, d), "
                         f"got {tuple(h.shape)} and {tuple(weight.shape)}")
    slope = h * (1 - h)
    return ((slope * slope) @ (weight * weight).sum(1)).mean()


def kl_sparsity(h, rho):
    """sum_j KL(rho || rho_hat_j) = rho log(rho / rho_hat_j) + (1-rho) log((1-rho)/(1-rho_hat_j)),
    rho_hat_j = mean_n h_nj. h: (N, ...) with entries in (0, 1)."""
    low, high = h.min().item(), h.max().item()
    if low <= 0 or high >= 1:
        raise ValueError("Autoencoder: KL sparsity needs a code in (0, 1) (e.g. a sigmoid "
                         f"encoder output); got values in [{low}, {high}]")
    rho_hat = h.reshape(h.shape[0], -1).mean(0)
    return (rho * (math.log(rho) - rho_hat.log())
            + (1 - rho) * (math.log(1 - rho) - (1 - rho_hat).log())).sum()


class Autoencoder(nn.Module):
    """encoder and decoder are Modules; the options add the classic regularisers.

    sparsity: None, "l1" or "kl" (weighted by sparsity_weight, KL target activation rho);
    noise: None, "gaussian" (x + noise_level * eps) or "mask" (each entry zeroed with
    probability noise_level), applied in training mode only; contractive: lambda of the
    contractive penalty; probes: None (exact Jacobian) or K (stochastic estimate)."""

    def __init__(self, encoder, decoder, sparsity=None, sparsity_weight=1e-3, rho=0.05,
                 noise=None, noise_level=0.1, contractive=0.0, probes=None, generator=None):
        super().__init__()
        if sparsity not in SPARSITY:
            raise ValueError(f"Autoencoder: unknown sparsity {sparsity!r}; expected one of "
                             f"{SPARSITY}")
        if noise not in NOISE:
            raise ValueError(f"Autoencoder: unknown noise {noise!r}; expected one of {NOISE}")
        if not 0.0 < rho < 1.0:
            raise ValueError(f"Autoencoder: rho must be in (0, 1), got {rho}")
        if noise == "mask" and not 0.0 <= noise_level < 1.0:
            raise ValueError(f"Autoencoder: masking fraction must be in [0, 1), got {noise_level}")
        if contractive < 0:
            raise ValueError(f"Autoencoder: contractive weight must be >= 0, got {contractive}")
        self.encoder, self.decoder = encoder, decoder
        self.sparsity, self.sparsity_weight, self.rho = sparsity, sparsity_weight, rho
        self.noise, self.noise_level = noise, noise_level
        self.contractive, self.probes = contractive, probes
        self.generator = generator

    def corrupt(self, x):
        """x itself in eval mode or without noise; else x + sigma eps or x * mask."""
        if not self.training or self.noise is None:
            return x
        if self.noise == "gaussian":
            return x + self.noise_level * ops.randn_like(x, generator=self.generator)
        keep = ops.rand_like(x, generator=self.generator) >= self.noise_level
        return x * keep.to(x.dtype)

    def encode(self, x):
        return self.encoder(x)

    def decode(self, h):
        return self.decoder(h)

    def forward(self, x):
        return self.decoder(self.encoder(self.corrupt(x)))

    def loss(self, x, reconstruction="mse"):
        """(total, parts): reconstruction of the clean x plus the penalties.

        "mse": F.mse_loss(x_hat, x) (mean over entries); "bce": the decoder output is read
        as logits, F.binary_cross_entropy_with_logits(x_hat, x) (mean over entries).
        The contractive penalty is taken at the encoder's (possibly corrupted) input."""
        if reconstruction not in ("mse", "bce"):
            raise ValueError(f"Autoencoder.loss: unknown reconstruction {reconstruction!r}; "
                             "expected 'mse' or 'bce'")
        x_in = self.corrupt(x)
        if self.contractive > 0:
            x_in = x_in.detach().requires_grad_(True)
        h = self.encoder(x_in)
        x_hat = self.decoder(h)
        if reconstruction == "mse":
            recon = F.mse_loss(x_hat, x)
        else:
            recon = F.binary_cross_entropy_with_logits(x_hat, x)
        parts = {"reconstruction": recon}
        total = recon
        if self.sparsity == "l1":
            parts["sparsity"] = self.sparsity_weight * h.abs().reshape(h.shape[0], -1).sum(1).mean()
        elif self.sparsity == "kl":
            parts["sparsity"] = self.sparsity_weight * kl_sparsity(h, self.rho)
        if self.contractive > 0:
            parts["contractive"] = self.contractive * contractive_penalty(
                h, x_in, self.probes, generator=self.generator)
        for name in ("sparsity", "contractive"):
            if name in parts:
                total = total + parts[name]
        return total, parts
