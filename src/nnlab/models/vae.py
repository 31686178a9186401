"""Variational autoencoders (Kingma and Welling 2014): an MLP one and a conv one for 28x28.

    mu, logvar = encoder(x)                         # q(z | x) = N(mu, diag(exp(logvar)))
    z = mu + exp(logvar / 2) * eps, eps ~ N(0, I)   # the reparameterisation, (N, L)
    logits = decoder(z)                             # p(x | z), shaped as x
    neg_elbo = E_q[-log p(x | z)] + beta * KL(q(z | x) || N(0, I)), averaged over the batch
    KL = -1/2 sum_l (1 + logvar_l - mu_l^2 - exp(logvar_l))   # closed form

likelihood "bernoulli": the decoder gives logits, -log p(x | z) is
binary_cross_entropy_with_logits summed over pixels; "gaussian": the decoder gives the
mean of a unit-variance Gaussian, -log p(x | z) = sum 1/2 ((x - mean)^2 + log 2 pi).
`iwae_bound` is the importance-weighted bound (Burda et al. 2016), tighter as K grows.
"""
import math

from .. import nn, ops
from ..autograd.grad_mode import no_grad
from ..nn import functional as F

LIKELIHOODS = ("bernoulli", "gaussian")
LOG_2PI = math.log(2 * math.pi)


def kl_weight(step, warmup, beta=1.0):
    """The KL warm-up weight: beta * min(1, step / warmup), linear from 0 to beta.

    step: an epoch or step count from 0; warmup: how many of them to reach beta."""
    if warmup <= 0:
        return beta
    return beta * min(1.0, step / warmup)


class _VariationalAutoencoder(nn.Module):
    """What the VAEs share; a subclass sets encoder, mu, logvar, decoder and latent_dim."""

    def _setup(self, likelihood, beta):
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"{type(self).__name__}: unknown likelihood {likelihood!r}; "
                             f"expected one of {LIKELIHOODS}")
        self.likelihood, self.beta = likelihood, beta

    def encode(self, x):
        """(mu, logvar), each (N, latent_dim)."""
        hidden = self.encoder(x)
        return self.mu(hidden), self.logvar(hidden)

    def decode(self, z):
        """Logits (bernoulli) or the mean (gaussian) of p(x | z), shaped as x."""
        return self.decoder(z)

    def reparameterize(self, mu, logvar, eps=None):
        """z = mu + exp(logvar / 2) * eps with eps ~ N(0, I) from nnlab's default generator
        (or the eps given)."""
        if eps is None:
            eps = ops.randn_like(mu)
        return mu + (0.5 * logvar).exp() * eps

    def forward(self, x, eps=None):
        """(x_hat_logits, mu, logvar) for one sample of z per example."""
        mu, logvar = self.encode(x)
        return self.decode(self.reparameterize(mu, logvar, eps)), mu, logvar

    def neg_log_likelihood(self, out, x):
        """-log p(x | z) per example, (N,), summed over every non-batch dim."""
        if self.likelihood == "bernoulli":
            nll = F.binary_cross_entropy_with_logits(out, x, reduction="none")
        else:
            nll = 0.5 * ((x - out) ** 2 + LOG_2PI)
        return nll.reshape(nll.shape[0], -1).sum(1)

    def loss(self, x, beta=None, eps=None):
        """(neg_elbo, recon, kl), each averaged over the batch; beta defaults to self.beta."""
        return self.elbo_terms(self(x, eps), x, beta)

    def elbo_terms(self, output, x, beta=None):
        """(neg_elbo, recon, kl) of a forward's output (x_hat_logits, mu, logvar) for x."""
        beta = self.beta if beta is None else beta
        out, mu, logvar = output
        recon = self.neg_log_likelihood(out, x).mean()
        kl = self.kl_to_prior(mu, logvar).mean()
        return recon + beta * kl, recon, kl

    @staticmethod
    def kl_to_prior(mu, logvar):
        """KL(N(mu, diag exp(logvar)) || N(0, I)) per example, (N,), in closed form."""
        return -0.5 * (1 + logvar - mu * mu - logvar.exp()).sum(1)

    def _mean(self, out):
        return out.sigmoid() if self.likelihood == "bernoulli" else out

    def sample(self, n):
        """n draws of the decoder's mean (probabilities or Gaussian mean) at z ~ N(0, I)."""
        dtype = self.mu.weight.dtype
        with no_grad():
            return self._mean(self.decode(ops.randn(n, self.latent_dim, dtype=dtype)))

    def reconstruct(self, x):
        """The decoder's mean at z = mu: the mean path, no noise."""
        with no_grad():
            return self._mean(self.decode(self.encode(x)[0]))

    def iwae_bound(self, x, k, eps=None):
        """log (1/K) sum_k p(x, z_k) / q(z_k | x) per example, (N,), z_k ~ q(z | x).

        log w_k = log p(x | z_k) + log N(z_k; 0, I) - log N(z_k; mu, sigma^2), combined by
        logsumexp(log w, 0) - log K; eps: (K, N, L) or None (drawn)."""
        mu, logvar = self.encode(x)  # (N, L)
        n, latent = mu.shape
        if eps is None:
            eps = ops.randn(k, n, latent, dtype=mu.dtype)
        if tuple(eps.shape) != (k, n, latent):
            raise ValueError(f"iwae_bound: eps must be (K, N, L) = {(k, n, latent)}, "
                             f"got {tuple(eps.shape)}")
        z = mu + (0.5 * logvar).exp() * eps  # (K, N, L)
        out = self.decode(z.reshape(k * n, latent))
        xs = x.unsqueeze(0).expand(k, *x.shape).reshape(k * n, *x.shape[1:])
        log_px = -self.neg_log_likelihood(out, xs).reshape(k, n)
        log_pz = -0.5 * (z * z + LOG_2PI).sum(2)
        log_qz = -0.5 * (eps * eps + logvar + LOG_2PI).sum(2)
        return ops.logsumexp(log_px + log_pz - log_qz, 0) - math.log(k)


class VAE(_VariationalAutoencoder):
    """MLP VAE: in_features -> hidden -> (mu, logvar) of latent_dim; latent -> hidden -> in.

    Inputs are (N, in_features) (images are flattened and the output reshaped back).
    State_dict keys: encoder.0.*, mu.*, logvar.*, decoder.0.*, decoder.2.*."""

    def __init__(self, in_features, hidden, latent_dim, likelihood="bernoulli", beta=1.0):
        super().__init__()
        self._setup(likelihood, beta)
        self.in_features, self.hidden, self.latent_dim = in_features, hidden, latent_dim
        self.encoder = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, latent_dim)
        self.logvar = nn.Linear(hidden, latent_dim)
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(),
                                     nn.Linear(hidden, in_features))

    def encode(self, x):
        return super().encode(x.flatten(1) if x.ndim > 2 else x)

    def neg_log_likelihood(self, out, x):
        return super().neg_log_likelihood(out, x.flatten(1) if x.ndim > 2 else x)


class ConvVAE(_VariationalAutoencoder):
    """Conv VAE for (N, 1, 28, 28) images; channels=(c1, c2).

    encoder: conv 4x4 stride 2 -> (c1, 14, 14) -> conv 4x4 stride 2 -> (c2, 7, 7) -> flatten
             -> Linear -> hidden (ReLU after each); then mu, logvar Linear hidden -> latent
    decoder: Linear latent -> hidden -> c2*7*7, unflatten, transposed convs back to 1x28x28."""

    def __init__(self, latent_dim=16, hidden=256, channels=(32, 64), likelihood="bernoulli",
                 beta=1.0):
        super().__init__()
        self._setup(likelihood, beta)
        c1, c2 = channels
        self.latent_dim, self.hidden = latent_dim, hidden
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, 4, stride=2, padding=1), nn.ReLU(),   # (N, c1, 14, 14)
            nn.Conv2d(c1, c2, 4, stride=2, padding=1), nn.ReLU(),  # (N, c2, 7, 7)
            nn.Flatten(), nn.Linear(c2 * 49, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, latent_dim)
        self.logvar = nn.Linear(hidden, latent_dim)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, c2 * 49), nn.ReLU(),
            nn.Unflatten(1, (c2, 7, 7)),
            nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1), nn.ReLU(),  # (N, c1, 14, 14)
            nn.ConvTranspose2d(c1, 1, 4, stride=2, padding=1))               # (N, 1, 28, 28)

    def encode(self, x):
        if tuple(x.shape[1:]) != (1, 28, 28):
            raise ValueError(f"ConvVAE: expected images (N, 1, 28, 28), got {tuple(x.shape)}")
        return super().encode(x)
