"""models.Autoencoder: shapes, each penalty against numpy/torch, denoising noise, the
contractive penalty's exact, stochastic and closed forms, and its second-order gradients."""
import numpy as np
import pytest

import nnlab
from nnlab import nn
from nnlab.models import Autoencoder, contractive_penalty, contractive_penalty_sigmoid
from tests.helpers import check_grad, requires_torch, torch


def _sigmoid_ae(**options):
    nnlab.manual_seed(0)
    encoder = nn.Sequential(nn.Linear(5, 3), nn.Sigmoid())
    return Autoencoder(encoder, nn.Linear(3, 5), **options).double()


def _data(n=6, d=5, seed=0):
    return np.random.default_rng(seed).uniform(0.05, 0.95, (n, d))


def _numpy_code(ae, x):
    w = ae.encoder[0].weight.detach().numpy()
    b = ae.encoder[0].bias.detach().numpy()
    h = 1 / (1 + np.exp(-(x @ w.T + b)))
    x_hat = h @ ae.decoder.weight.detach().numpy().T + ae.decoder.bias.detach().numpy()
    return h, x_hat, w


def test_shapes_and_errors():
    ae = _sigmoid_ae()
    x = nnlab.tensor(_data(), dtype=nnlab.float64)
    assert ae(x).shape == (6, 5) and ae.encode(x).shape == (6, 3)
    assert ae.decode(ae.encode(x)).shape == (6, 5)
    with pytest.raises(ValueError, match="unknown sparsity 'l2'"):
        _sigmoid_ae(sparsity="l2")
    with pytest.raises(ValueError, match="unknown noise 'salt'"):
        _sigmoid_ae(noise="salt")
    with pytest.raises(ValueError, match="unknown reconstruction 'l1'"):
        ae.loss(x, reconstruction="l1")
    relu = Autoencoder(nn.Sequential(nn.Linear(5, 3), nn.ReLU()), nn.Linear(3, 5),
                       sparsity="kl").double()
    with pytest.raises(ValueError, match=r"KL sparsity needs a code in \(0, 1\)"):
        relu.loss(x)
    xt = nnlab.tensor(_data(), requires_grad=True)
    with pytest.raises(ValueError, match="probes must be None or a positive int, got 0"):
        contractive_penalty(ae.encoder(xt), xt, probes=0)
    with pytest.raises(ValueError, match="x must require grad"):
        contractive_penalty(ae.encoder(x), x)


@pytest.mark.parametrize("reconstruction", ["mse", "bce"])
def test_reconstruction_and_l1_sparsity_against_numpy(reconstruction):
    ae = _sigmoid_ae(sparsity="l1", sparsity_weight=0.3)
    x = _data()
    total, parts = ae.loss(nnlab.tensor(x), reconstruction=reconstruction)
    h, x_hat, _ = _numpy_code(ae, x)
    if reconstruction == "mse":
        recon = ((x_hat - x) ** 2).mean()
    else:
        recon = (np.logaddexp(0, x_hat) - x * x_hat).mean()
    l1 = 0.3 * np.abs(h).sum(1).mean()
    np.testing.assert_allclose(parts["reconstruction"].item(), recon, rtol=1e-12)
    np.testing.assert_allclose(parts["sparsity"].item(), l1, rtol=1e-12)
    np.testing.assert_allclose(total.item(), recon + l1, rtol=1e-12)
    assert set(parts) == {"reconstruction", "sparsity"}


def test_kl_sparsity_against_numpy():
    ae = _sigmoid_ae(sparsity="kl", sparsity_weight=0.5, rho=0.1)
    x = _data()
    _, parts = ae.loss(nnlab.tensor(x))
    h, _, _ = _numpy_code(ae, x)
    rho_hat = h.mean(0)
    kl = (0.1 * np.log(0.1 / rho_hat) + 0.9 * np.log(0.9 / (1 - rho_hat))).sum()
    np.testing.assert_allclose(parts["sparsity"].item(), 0.5 * kl, rtol=1e-12)


def test_contractive_penalty_forms_agree_with_the_closed_form():
    ae = _sigmoid_ae(contractive=0.7)
    x = _data(n=8)
    h, _, w = _numpy_code(ae, x)
    closed = ((h * (1 - h)) ** 2 @ (w ** 2).sum(1)).mean()
    _, parts = ae.loss(nnlab.tensor(x))
    np.testing.assert_allclose(parts["contractive"].item(), 0.7 * closed, rtol=1e-12)
    xt = nnlab.tensor(x, requires_grad=True)
    code = ae.encoder(xt)
    exact = contractive_penalty(code, xt)
    formula = contractive_penalty_sigmoid(code, ae.encoder[0].weight)
    np.testing.assert_allclose(exact.item(), closed, rtol=1e-12)
    np.testing.assert_allclose(formula.item(), closed, rtol=1e-12)
    # E ||J^T v||^2 = ||J||_F^2 when E[v v^T] = I; the seeded mean of 4000 probes is close
    for distribution in ("rademacher", "gaussian"):
        estimate = contractive_penalty(code, xt, probes=4000, distribution=distribution,
                                       generator=nnlab.Generator().manual_seed(1))
        np.testing.assert_allclose(estimate.item(), closed, rtol=0.03)


@requires_torch
def test_contractive_gradients_match_torch():
    ae = _sigmoid_ae(contractive=1.0)
    x = _data()
    _, parts = ae.loss(nnlab.tensor(x))
    parts["contractive"].backward()
    w = torch.tensor(ae.encoder[0].weight.detach().numpy(), requires_grad=True)
    b = torch.tensor(ae.encoder[0].bias.detach().numpy(), requires_grad=True)
    jac = torch.func.vmap(torch.func.jacrev(lambda v: torch.sigmoid(w @ v + b)))(
        torch.tensor(x))
    penalty = (jac ** 2).sum() / x.shape[0]
    penalty.backward()
    np.testing.assert_allclose(parts["contractive"].item(), penalty.item(), rtol=1e-12)
    np.testing.assert_allclose(ae.encoder[0].weight.grad.numpy(), w.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ae.encoder[0].bias.grad.numpy(), b.grad.numpy(), rtol=1e-10)


def test_contractive_penalty_gradcheck_and_gradgradcheck():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3))
    w1, b1 = rng.standard_normal((4, 3)), rng.standard_normal(4)
    w2 = rng.standard_normal((2, 4))

    def double_backprop(x, w1, b1, w2):  # a two-layer tanh encoder
        with nnlab.enable_grad():  # gradcheck's finite differences run under no_grad
            return contractive_penalty(((x @ w1.T + b1).tanh() @ w2.T).tanh(), x)

    def closed_form(x, w, b):
        return contractive_penalty_sigmoid((x @ w.T + b).sigmoid(), w)

    def probed(x, w1, b1, w2):  # the same probes at every call: a fixed seed
        with nnlab.enable_grad():
            return contractive_penalty(((x @ w1.T + b1).tanh() @ w2.T).tanh(), x, probes=3,
                                       generator=nnlab.Generator().manual_seed(0))

    check_grad(double_backprop, x, w1, b1, w2)
    check_grad(probed, x, w1, b1, w2)
    check_grad(closed_form, x, w1, b1)


def test_denoising_corrupts_in_training_mode_only():
    x = nnlab.tensor(_data(n=4))
    gaussian = _sigmoid_ae(noise="gaussian", noise_level=0.5)
    gaussian.eval()
    assert gaussian.corrupt(x) is x
    np.testing.assert_array_equal(gaussian(x).detach().numpy(),
                                  gaussian.decode(gaussian.encode(x)).detach().numpy())
    gaussian.train()
    nnlab.manual_seed(5)
    noisy = gaussian.corrupt(x).detach().numpy()
    nnlab.manual_seed(5)
    eps = nnlab.randn(4, 5, dtype=nnlab.float64).numpy()
    np.testing.assert_allclose(noisy, x.numpy() + 0.5 * eps, rtol=1e-12)
    # the reconstruction target stays the clean x
    nnlab.manual_seed(5)
    _, parts = gaussian.loss(x)
    x_hat = gaussian.decode(gaussian.encode(nnlab.tensor(noisy))).detach().numpy()
    np.testing.assert_allclose(parts["reconstruction"].item(),
                               ((x_hat - x.numpy()) ** 2).mean(), rtol=1e-12)


def test_masking_noise_zeroes_the_given_fraction():
    ae = _sigmoid_ae(noise="mask", noise_level=0.3)
    x = nnlab.ones(200, 50, dtype=nnlab.float64)
    nnlab.manual_seed(0)
    masked = ae.corrupt(x).numpy()
    assert set(np.unique(masked)) == {0.0, 1.0}
    assert abs((masked == 0).mean() - 0.3) < 0.01  # 10,000 seeded draws
    ae.eval()
    np.testing.assert_array_equal(ae.corrupt(x).numpy(), x.numpy())
