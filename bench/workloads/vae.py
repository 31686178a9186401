"""A variational autoencoder's training step (MLP 784-400-20, Bernoulli likelihood): encode,
reparameterise, decode, the negative ELBO (summed BCE with logits + the closed-form KL),
backward and an Adam update. The same code runs on both sides, with `lib` nnlab or torch."""
import numpy as np

from ..registry import Workload, register
from .training import TrainStep


def vae_module(lib, d_in, d_hidden, d_latent, noise):
    """The VAE of pytorch/examples' vae/main.py, as a Module of `lib`; its reparameterisation
    noise is the fixed `noise` (batch, d_latent), so both sides compute the same step."""
    nn, F = lib.nn, lib.nn.functional

    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(d_in, d_hidden)
            self.fc_mu = nn.Linear(d_hidden, d_latent)
            self.fc_logvar = nn.Linear(d_hidden, d_latent)
            self.fc3, self.fc4 = nn.Linear(d_latent, d_hidden), nn.Linear(d_hidden, d_in)

        def forward(self, x):
            h = F.relu(self.fc1(x))
            mu, logvar = self.fc_mu(h), self.fc_logvar(h)
            z = mu + lib.exp(0.5 * logvar) * noise                  # z = mu + sigma eps
            return self.fc4(F.relu(self.fc3(z))), mu, logvar

    return VAE()


def neg_elbo(lib):
    def loss(out, x):
        logits, mu, logvar = out
        recon = lib.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        kl = -0.5 * (1 + logvar - mu * mu - logvar.exp()).sum()
        return (recon + kl) / x.shape[0]
    return loss


@register
class VAETraining(Workload):
    name = "vae-784-400-20-b128"
    description = "VAE (MLP 784-400-20, Bernoulli), batch 128, negative ELBO, Adam step"
    target = 1.0

    def build(self, lib):
        d_in, d_hidden, d_latent, batch = (20, 16, 4, 8) if self.small else (784, 400, 20, 128)
        rng = self.rng()
        noise = lib.tensor(rng.standard_normal((batch, d_latent), dtype=np.float32))
        model = vae_module(lib, d_in, d_hidden, d_latent, noise)
        state = {}   # one set of weights for both sides, in Linear's default range
        for name, layer in model.named_children():
            bound = 1 / np.sqrt(layer.in_features)
            for key in ("weight", "bias"):
                shape = tuple(getattr(layer, key).shape)
                state[f"{name}.{key}"] = rng.uniform(-bound, bound, shape).astype(np.float32)
        model.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
        x = lib.tensor((rng.random((batch, d_in)) < 0.3).astype(np.float32))
        optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)
        return TrainStep(model, neg_elbo(lib), optimizer, x, x)

    def setup_nnlab(self):
        import nnlab
        return self.build(nnlab)

    def setup_torch(self):
        import torch
        return self.build(torch)
