"""models.VAE / ConvVAE: the loss against numpy and a torch twin, the IWAE bound, training,
sampling, the KL warm-up."""
import math

import numpy as np
import pytest

import nnlab
from nnlab.models import VAE, ConvVAE, kl_weight
from tests.helpers import requires_torch, torch


def _tiny(likelihood="bernoulli", beta=1.0):
    nnlab.manual_seed(0)
    return VAE(4, 3, 2, likelihood=likelihood, beta=beta).double()


def _binary(n=3, d=4, seed=0):
    return (np.random.default_rng(seed).random((n, d)) < 0.4).astype(np.float64)


def _numpy_forward(model, x, eps):
    """(log p(x | z), mu, logvar, z) by hand, per example."""
    p = {k: v.numpy() for k, v in model.state_dict().items()}
    hidden = np.maximum(x @ p["encoder.0.weight"].T + p["encoder.0.bias"], 0)
    mu = hidden @ p["mu.weight"].T + p["mu.bias"]
    logvar = hidden @ p["logvar.weight"].T + p["logvar.bias"]
    z = mu + np.exp(logvar / 2) * eps
    out = np.maximum(z @ p["decoder.0.weight"].T + p["decoder.0.bias"], 0)
    out = out @ p["decoder.2.weight"].T + p["decoder.2.bias"]
    if model.likelihood == "bernoulli":
        log_px = -(np.logaddexp(0, out) - x * out).sum(-1)
    else:
        log_px = -0.5 * ((x - out) ** 2 + math.log(2 * math.pi)).sum(-1)
    return log_px, mu, logvar, z


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_loss_equals_a_hand_computation(likelihood):
    model = _tiny(likelihood, beta=0.7)
    x = _binary()
    eps = np.random.default_rng(1).standard_normal((3, 2))
    neg_elbo, recon, kl = model.loss(nnlab.tensor(x), eps=nnlab.tensor(eps))
    log_px, mu, logvar, _ = _numpy_forward(model, x, eps)
    kl_np = (-0.5 * (1 + logvar - mu ** 2 - np.exp(logvar)).sum(1)).mean()
    np.testing.assert_allclose(recon.item(), -log_px.mean(), rtol=1e-12)
    np.testing.assert_allclose(kl.item(), kl_np, rtol=1e-12)
    np.testing.assert_allclose(neg_elbo.item(), -log_px.mean() + 0.7 * kl_np, rtol=1e-12)
    # the same eps comes from nnlab's default generator
    nnlab.manual_seed(4)
    drawn = nnlab.randn(3, 2, dtype=nnlab.float64)
    nnlab.manual_seed(4)
    np.testing.assert_allclose(model.loss(nnlab.tensor(x))[0].item(),
                               model.loss(nnlab.tensor(x), eps=drawn)[0].item(), rtol=1e-15)


@requires_torch
def test_loss_and_gradients_match_a_torch_twin():
    model = _tiny()
    tnn = torch.nn

    class TorchVAE(tnn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = tnn.Sequential(tnn.Linear(4, 3), tnn.ReLU())
            self.mu, self.logvar = tnn.Linear(3, 2), tnn.Linear(3, 2)
            self.decoder = tnn.Sequential(tnn.Linear(2, 3), tnn.ReLU(), tnn.Linear(3, 4))

        def loss(self, x, eps):
            hidden = self.encoder(x)
            mu, logvar = self.mu(hidden), self.logvar(hidden)
            logits = self.decoder(mu + torch.exp(0.5 * logvar) * eps)
            recon = tnn.functional.binary_cross_entropy_with_logits(
                logits, x, reduction="none").sum(1).mean()
            kl = (-0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(1)).mean()
            return recon + kl

    twin = TorchVAE().double()
    twin.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    x, eps = _binary(n=5), np.random.default_rng(2).standard_normal((5, 2))
    loss = model.loss(nnlab.tensor(x), eps=nnlab.tensor(eps))[0]
    loss.backward()
    tloss = twin.loss(torch.tensor(x), torch.tensor(eps))
    tloss.backward()
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-12)
    tgrads = dict(twin.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tgrads[name].grad.numpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=name)


def test_iwae_with_one_sample_is_the_one_sample_elbo():
    model = _tiny()
    x = _binary()
    nnlab.manual_seed(3)
    bound = model.iwae_bound(nnlab.tensor(x), 1).detach().numpy()
    nnlab.manual_seed(3)
    eps = nnlab.randn(1, 3, 2, dtype=nnlab.float64).numpy()[0]
    log_px, mu, logvar, z = _numpy_forward(model, x, eps)
    log_pz = -0.5 * (z ** 2 + math.log(2 * math.pi)).sum(1)
    log_qz = -0.5 * (eps ** 2 + logvar + math.log(2 * math.pi)).sum(1)
    assert bound.shape == (3,)
    np.testing.assert_allclose(bound, log_px + log_pz - log_qz, rtol=1e-12)


def test_iwae_is_a_stable_log_mean_exp_of_the_weights():
    model = _tiny()
    x = nnlab.tensor(_binary())
    eps = nnlab.tensor(np.random.default_rng(5).standard_normal((4, 3, 2)))
    singles = np.stack([model.iwae_bound(x, 1, eps=eps[k:k + 1]).detach().numpy()
                        for k in range(4)])
    expected = np.log(np.exp(singles).mean(0))
    np.testing.assert_allclose(model.iwae_bound(x, 4, eps=eps).detach().numpy(), expected,
                               rtol=1e-12)
    with pytest.raises(ValueError, match=r"eps must be \(K, N, L\)"):
        model.iwae_bound(x, 2, eps=eps)


def test_iwae_increases_with_k_for_every_seed_checked():
    nnlab.manual_seed(0)
    model = VAE(8, 16, 2).double()
    x = (np.random.default_rng(0).random((10, 8)) < 0.3).astype(np.float64)
    x = nnlab.tensor(np.repeat(x, 64, 0))  # averages over 64 draws per example
    with nnlab.no_grad():
        for seed in range(10):
            nnlab.manual_seed(seed)
            one = model.iwae_bound(x, 1).mean().item()
            many = model.iwae_bound(x, 64).mean().item()
            assert many > one + 0.1, (seed, one, many)


def test_adam_steps_reduce_the_loss():
    nnlab.manual_seed(0)
    model = VAE(8, 16, 2).double()
    rng = np.random.default_rng(0)
    x = nnlab.tensor(np.repeat((rng.random((2, 8)) < 0.5).astype(np.float64), 16, 0))
    eps = nnlab.tensor(rng.standard_normal((32, 2)))
    before = model.loss(x, eps=eps)[0].item()
    optimizer = nnlab.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(40):
        optimizer.zero_grad()
        model.loss(x)[0].backward()
        optimizer.step()
    after = model.loss(x, eps=eps)[0].item()
    assert after < before - 2.0, (before, after)


def test_sample_reconstruct_and_shapes():
    model = _tiny()
    x = nnlab.tensor(_binary())
    out, mu, logvar = model(x)
    assert out.shape == (3, 4) and mu.shape == (3, 2) and logvar.shape == (3, 2)
    samples = model.sample(5)
    assert samples.shape == (5, 4) and not samples.requires_grad
    assert ((samples.numpy() > 0) & (samples.numpy() < 1)).all()
    first, second = model.reconstruct(x).numpy(), model.reconstruct(x).numpy()
    np.testing.assert_array_equal(first, second)
    images = VAE(16, 3, 2).double()
    assert images.loss(nnlab.rand(2, 1, 4, 4, dtype=nnlab.float64))[0].shape == ()
    with pytest.raises(ValueError, match="unknown likelihood 'poisson'"):
        VAE(4, 3, 2, likelihood="poisson")


def test_conv_vae_shapes_and_backward():
    nnlab.manual_seed(0)
    model = ConvVAE(latent_dim=2, hidden=8, channels=(2, 3))
    x = nnlab.rand(2, 1, 28, 28)
    out, mu, _ = model(x)
    assert out.shape == (2, 1, 28, 28) and mu.shape == (2, 2)
    neg_elbo, recon, kl = model.loss(x)
    neg_elbo.backward()
    assert model.encoder[0].weight.grad.shape == (2, 1, 4, 4)
    assert model.iwae_bound(x, 3).shape == (2,)
    assert model.sample(3).shape == (3, 1, 28, 28)
    with pytest.raises(ValueError, match=r"expected images \(N, 1, 28, 28\)"):
        model.encode(nnlab.rand(2, 1, 14, 14))


def test_kl_warmup_is_linear_from_zero_to_beta():
    assert [kl_weight(s, 4, beta=2.0) for s in (0, 1, 2, 4, 9)] == [0.0, 0.5, 1.0, 2.0, 2.0]
    assert kl_weight(3, 0) == 1.0
