"""Gamma, Beta, Dirichlet against torch.distributions (log_prob, entropy, moments, KL, with
gradients to the parameters, float64), and the implicit reparameterisation gradient of
the gamma draw checked by its definition."""
import numpy as np
import pytest

import nnlab
import nnlab.distributions as nd
from tests.helpers import requires_torch, torch

from .common import TOL, pair, positive

pytestmark = requires_torch


def assert_same(ours, theirs, ours_params, theirs_params):
    """Values equal torch's to 1e-9; the gradients of sum(out * v) to the parameters to 1e-8
    (torch's trigamma, in the gradient of digamma, is good to ~5e-10 relative)."""
    assert tuple(ours.shape) == tuple(theirs.shape), (ours.shape, theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), **TOL)
    v = np.random.default_rng(0).standard_normal(tuple(ours.shape))
    (ours * nnlab.tensor(v)).sum().backward()
    (theirs * torch.tensor(v)).sum().backward()
    for k, p in ours_params.items():
        np.testing.assert_allclose(p.grad.numpy(), theirs_params[k].grad.numpy(), rtol=1e-8,
                                   atol=1e-11, err_msg=f"gradient to {k}")


def _cases():
    r = np.random.default_rng(5)
    conc = positive(4, 3, seed=1) + 0.5
    return [
        ("Gamma", dict(concentration=positive(2, 3, seed=1), rate=positive(3, seed=2)),
         r.gamma(2.0, 1.0, (4, 2, 3))),
        ("Beta", dict(concentration1=positive(2, 3, seed=3), concentration0=positive(3, seed=4)),
         r.uniform(0.05, 0.95, (4, 2, 3))),
        ("Dirichlet", dict(concentration=conc), r.dirichlet(np.ones(3), (2, 4))),
    ]


@pytest.mark.parametrize("name,params,value", _cases(), ids=lambda c: c if isinstance(c, str)
                         else "")
@pytest.mark.parametrize("what", ["log_prob", "entropy", "mean", "variance"])
def test_matches_torch(name, params, value, what):
    ours_p, theirs_p = pair(params)
    d = getattr(nd, name)(**ours_p)
    td = getattr(torch.distributions, name)(**theirs_p)
    if what == "log_prob":
        ours, theirs = d.log_prob(nnlab.tensor(value)), td.log_prob(torch.tensor(value))
    elif what == "entropy":
        ours, theirs = d.entropy(), td.entropy()
    else:
        ours, theirs = getattr(d, what), getattr(td, what)
    assert_same(ours, theirs, ours_p, theirs_p)


def test_kl_matches_torch():
    for name, p, _ in _cases():
        q = {k: v[::-1].copy() + 0.3 for k, v in p.items()}
        ours_p, theirs_p = pair(p)
        ours_q, theirs_q = pair(q)
        kl = nd.kl_divergence(getattr(nd, name)(**ours_p), getattr(nd, name)(**ours_q))
        tkl = torch.distributions.kl_divergence(getattr(torch.distributions, name)(**theirs_p),
                                                getattr(torch.distributions, name)(**theirs_q))
        both = {**{f"p_{k}": v for k, v in ours_p.items()},
                **{f"q_{k}": v for k, v in ours_q.items()}}
        tboth = {**{f"p_{k}": v for k, v in theirs_p.items()},
                 **{f"q_{k}": v for k, v in theirs_q.items()}}
        assert_same(kl, tkl, both, tboth)
        assert float(nd.kl_divergence(getattr(nd, name)(**ours_p),
                                      getattr(nd, name)(**ours_p)).abs().max()) < 1e-12


@pytest.mark.parametrize("alpha", [0.05, 0.7, 1.0, 3.5, 40.0])
def test_implicit_gradient_is_that_of_the_inverse_cdf(alpha):
    """z = F^-1(u; a) for the u = F(z; a) of each draw; dz/da by a finite difference of
    scipy's gammaincinv at that fixed u."""
    import scipy.special as sc
    nnlab.manual_seed(0)
    a = nnlab.full((200,), alpha, dtype=nnlab.float64, requires_grad=True)
    z = nd.Gamma(a, 1.0).rsample()
    z.sum().backward()
    u = sc.gammainc(alpha, z.detach().numpy())
    keep = (u > 1e-12) & (u < 1 - 1e-12)
    h = 1e-6 * alpha
    expected = (sc.gammaincinv(alpha + h, u) - sc.gammaincinv(alpha - h, u)) / (2 * h)
    assert keep.sum() > 150
    np.testing.assert_allclose(a.grad.numpy()[keep], expected[keep], rtol=1e-5, atol=1e-12)


def test_rate_gradient_and_mean_of_the_implicit_gradient():
    """E[dz/da] = dE[z]/da = 1/rate and dz/drate = -z/rate, for the seeded draws."""
    nnlab.manual_seed(1)
    a = nnlab.tensor([0.3, 2.0, 7.0], dtype=nnlab.float64, requires_grad=True)
    rate = nnlab.tensor([2.0, 0.5, 1.5], dtype=nnlab.float64, requires_grad=True)
    z = nd.Gamma(a, rate).rsample((20000,))
    z.mean(0).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), 1 / rate.detach().numpy(), rtol=0.03)
    np.testing.assert_allclose(rate.grad.numpy(), -z.detach().numpy().mean(0) / [2, 0.5, 1.5],
                               rtol=1e-12)
    np.testing.assert_allclose(z.detach().numpy().mean(0), [0.15, 4.0, 14 / 3], rtol=0.03)


def test_beta_and_dirichlet_samples_have_their_means_and_gradients():
    nnlab.manual_seed(2)
    c1 = nnlab.tensor([0.5, 3.0], dtype=nnlab.float64, requires_grad=True)
    c0 = nnlab.tensor([2.0, 1.5], dtype=nnlab.float64, requires_grad=True)
    x = nd.Beta(c1, c0).rsample((20000,))
    assert x.shape == (20000, 2) and float(x.min()) >= 0 and float(x.max()) <= 1
    x.mean(0).sum().backward()
    m = nd.Beta(c1.detach().requires_grad_(), c0.detach().requires_grad_())
    np.testing.assert_allclose(x.detach().numpy().mean(0), m.mean.detach().numpy(), rtol=0.02)
    # d mean / d c1 = c0 / (c1 + c0)^2, d mean / d c0 = -c1 / (c1 + c0)^2
    total = np.array([2.5, 4.5])
    np.testing.assert_allclose(c1.grad.numpy(), [2.0, 1.5] / total ** 2, rtol=0.05)
    np.testing.assert_allclose(c0.grad.numpy(), -np.array([0.5, 3.0]) / total ** 2, rtol=0.05)
    conc = nnlab.tensor([[0.5, 1.0, 2.0]], dtype=nnlab.float64, requires_grad=True)
    d = nd.Dirichlet(conc)
    y = d.rsample((20000,))
    assert y.shape == (20000, 1, 3)
    np.testing.assert_allclose(y.detach().numpy().sum(-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(y.detach().numpy().mean(0), [[0.5 / 3.5, 1 / 3.5, 2 / 3.5]],
                               rtol=0.03)
    y[..., 0].mean().backward()
    # d (a_0 / sum a) / d a = (sum a - a_0, -a_0, -a_0) / (sum a)^2
    np.testing.assert_allclose(conc.grad.numpy(), [[3.0 / 12.25, -0.5 / 12.25, -0.5 / 12.25]],
                               rtol=0.05, atol=0.003)


def test_sampling_is_seeded_shapes_expand_and_validation():
    g = nd.Gamma(nnlab.tensor([1.0, 2.0]), nnlab.tensor(3.0))
    nnlab.manual_seed(3)
    s1 = g.sample((5,))
    nnlab.manual_seed(3)
    assert np.array_equal(s1.numpy(), g.sample((5,)).numpy()) and s1.dtype == np.float32
    assert not s1.requires_grad and s1.shape == (5, 2)
    assert g.expand((4, 2)).sample().shape == (4, 2)
    assert nd.Beta(0.5, 0.5).expand((3,)).batch_shape == (3,)
    d = nd.Dirichlet(nnlab.ones(2, 4)).expand((5, 2))
    assert d.batch_shape == (5, 2) and d.event_shape == (4,)
    assert d.sample((3,)).shape == (3, 5, 2, 4)
    with pytest.raises(ValueError, match="concentration"):
        nd.Gamma(nnlab.tensor([-1.0]), 1.0)
    with pytest.raises(ValueError, match="support"):
        nd.Beta(1.0, 1.0).log_prob(nnlab.tensor(1.5))
    with pytest.raises(ValueError, match="at least one-dimensional"):
        nd.Dirichlet(nnlab.tensor(1.0))


def test_mode_matches_torch_except_where_every_concentration_is_below_one():
    """torch takes the argmax of 0/0 there (always the first end / vertex); nnlab takes the
    vertex of the largest concentration, where the density grows fastest."""
    conc = np.array([[2.0, 3.0, 0.5], [1.5, 1.5, 4.0], [0.2, 0.7, 0.5]])
    m = nd.Dirichlet(nnlab.tensor(conc)).mode.numpy()
    tm = torch.distributions.Dirichlet(torch.tensor(conc)).mode.numpy()
    np.testing.assert_allclose(m[:2], tm[:2], rtol=1e-12)
    assert m[2].tolist() == [0, 1, 0] and tm[2].tolist() == [1, 0, 0]
    c1, c0 = np.array([2.0, 0.5, 3.0, 0.2, 0.5]), np.array([0.5, 2.0, 4.0, 0.5, 0.2])
    b = nd.Beta(nnlab.tensor(c1), nnlab.tensor(c0)).mode.numpy()
    tb = torch.distributions.Beta(torch.tensor(c1), torch.tensor(c0)).mode.numpy()
    np.testing.assert_allclose(b[:3], tb[:3], rtol=1e-12)
    assert b[3:].tolist() == [0, 1] and tb[3:].tolist() == [1, 1]
    g = nd.Gamma(nnlab.tensor([0.5, 3.0]), nnlab.tensor([2.0, 2.0])).mode.numpy()
    assert g.tolist() == [0.0, 1.0]
