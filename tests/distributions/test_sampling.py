"""Sampling: shapes, nnlab's generator (manual_seed fixes it), no graph from sample,
gradients through rsample (gradcheck with the noise fixed by the seed, and torch's
formula on the same noise); Independent's shapes; expand; argument checking."""
import numpy as np
import pytest

import nnlab
import nnlab.distributions as nd
from nnlab.autograd import gradcheck
from tests.helpers import requires_torch, torch

from .common import positive, randn

F64 = nnlab.float64


def t(a, grad=False):
    return nnlab.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def _dists():
    r = np.random.default_rng(0)
    a = r.standard_normal((3, 3))
    return [
        nd.Normal(t(randn(2, 3)), t(positive(3))),
        nd.Laplace(t(randn(2, 3)), t(positive(3))),
        nd.Uniform(t(randn(2, 3)), t(randn(2, 3) + 2)),
        nd.Bernoulli(probs=t(r.uniform(0, 1, (2, 3)))),
        nd.Categorical(logits=t(randn(2, 3, 4))),
        nd.OneHotCategorical(probs=t(r.dirichlet(np.ones(4), (2, 3)))),
        nd.MultivariateNormal(t(randn(2, 3)), covariance_matrix=t(a @ a.T + np.eye(3))),
        nd.RelaxedBernoulli(t(0.5), logits=t(randn(2, 3))),
        nd.RelaxedOneHotCategorical(t(0.5), logits=t(randn(2, 3, 4))),
        nd.Independent(nd.Normal(t(randn(2, 3)), t(positive(2, 3))), 1),
    ]


@pytest.mark.parametrize("dist", _dists(), ids=lambda d: type(d).__name__)
def test_sample_shapes_seed_and_support(dist):
    nnlab.manual_seed(7)
    s = dist.sample((5,))
    nnlab.manual_seed(7)
    s2 = dist.sample((5,))
    assert tuple(s.shape) == (5,) + dist.batch_shape + dist.event_shape
    np.testing.assert_array_equal(s.numpy(), s2.numpy())
    assert not s.requires_grad
    assert tuple(dist.sample().shape) == dist.batch_shape + dist.event_shape
    assert dist.log_prob(s).shape == (5,) + dist.batch_shape
    assert bool(np.isfinite(dist.log_prob(s).numpy()).all())
    e = dist.expand((4,) + dist.batch_shape)
    assert e.batch_shape == (4,) + dist.batch_shape and e.event_shape == dist.event_shape
    assert e.sample().shape == (4,) + dist.batch_shape + dist.event_shape


def test_sample_moments_with_a_fixed_seed():
    nnlab.manual_seed(0)
    d = nd.Normal(t([1.0, -2.0]), t([0.5, 3.0]))
    s = d.sample((20000,)).numpy()
    np.testing.assert_allclose(s.mean(0), [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(s.std(0), [0.5, 3.0], rtol=0.02)
    c = nd.Categorical(probs=t([0.1, 0.6, 0.3])).sample((20000,)).numpy()
    np.testing.assert_allclose(np.bincount(c, minlength=3) / 20000, [0.1, 0.6, 0.3], atol=0.01)


RSAMPLED = [
    ("Normal", lambda a, b: nd.Normal(a, b.exp()), (2, 3), (3,)),
    ("Laplace", lambda a, b: nd.Laplace(a, b.exp()), (3,), (3,)),
    ("Uniform", lambda a, b: nd.Uniform(a, a + b.exp()), (3,), (3,)),
    ("MultivariateNormal", lambda a, b: nd.MultivariateNormal(
        a, scale_tril=b.tril() + 3 * nnlab.eye(3, dtype=F64)), (3,), (3, 3)),
    ("MultivariateNormalCov", lambda a, b: nd.MultivariateNormal(
        a, covariance_matrix=b @ b.transpose(-2, -1) + nnlab.eye(3, dtype=F64)), (3,), (3, 3)),
    ("RelaxedBernoulli", lambda a, b: nd.RelaxedBernoulli(b.exp().sum(), logits=a), (3,), (2,)),
    ("RelaxedOneHotCategorical",
     lambda a, b: nd.RelaxedOneHotCategorical(b.exp().sum(), logits=a), (2, 3), (2,)),
]


@pytest.mark.parametrize("name,make,sa,sb", RSAMPLED, ids=[c[0] for c in RSAMPLED])
def test_gradcheck_through_rsample_and_log_prob(name, make, sa, sb):
    a, b = t(randn(*sa, seed=1), True), t(0.3 * randn(*sb, seed=2), True)

    def f(a, b):
        nnlab.manual_seed(3)
        d = make(a, b)
        x = d.rsample((2,))
        return (x ** 2).sum() + d.log_prob(x).sum()

    assert gradcheck(f, (a, b), eps=1e-6, atol=1e-5, rtol=1e-4)


@requires_torch
def test_rsample_gradient_equals_torchs_on_the_same_noise():
    loc, scale = t(randn(2, 3), True), t(positive(2, 3), True)
    nnlab.manual_seed(11)
    x = nd.Normal(loc, scale).rsample((4,))
    eps = ((x - loc) / scale).detach().numpy()
    nnlab.manual_seed(11)
    np.testing.assert_allclose(eps, nnlab.randn(4, 2, 3, dtype=F64).numpy(), rtol=1e-12)
    (x.sin() * x).sum().backward()
    tl = torch.tensor(loc.detach().numpy(), requires_grad=True)
    ts = torch.tensor(scale.detach().numpy(), requires_grad=True)
    tx = tl + torch.tensor(eps) * ts
    (tx.sin() * tx).sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), tl.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(scale.grad.numpy(), ts.grad.numpy(), rtol=1e-10)


def test_independent_shapes_and_log_prob():
    base = nd.Normal(t(randn(4, 2, 3)), t(positive(4, 2, 3)))
    d = nd.Independent(base, 2)
    assert d.batch_shape == (4,) and d.event_shape == (2, 3)
    assert d.has_rsample
    x = t(randn(5, 4, 2, 3, seed=3))
    np.testing.assert_allclose(d.log_prob(x).numpy(), base.log_prob(x).numpy().sum((-2, -1)))
    np.testing.assert_allclose(d.entropy().numpy(), base.entropy().numpy().sum((-2, -1)))
    mvn = nd.MultivariateNormal(t(randn(4, 3)), scale_tril=nnlab.eye(3, dtype=F64))
    assert nd.Independent(mvn, 1).event_shape == (4, 3)
    assert nd.Independent(mvn, 1).batch_shape == ()
    with pytest.raises(ValueError, match="reinterpreted_batch_ndims"):
        nd.Independent(base, 4)


def test_expand_shares_parameters():
    d = nd.Normal(t([0.0, 1.0]), t([1.0, 2.0]))
    e = d.expand((3, 2))
    assert e.batch_shape == (3, 2)
    np.testing.assert_array_equal(e.mean.numpy(), np.broadcast_to([0.0, 1.0], (3, 2)))
    with pytest.raises(RuntimeError, match="expand"):
        d.expand((3,))


def test_validate_args_errors():
    with pytest.raises(ValueError, match="Expected parameter scale .* of distribution Normal"
                                         ".* to satisfy the constraint GreaterThan"):
        nd.Normal(0.0, t([1.0, -1.0]))
    with pytest.raises(ValueError, match="Expected parameter probs"):
        nd.Bernoulli(probs=t([0.5, 1.5]))
    with pytest.raises(ValueError, match="either `probs` or `logits`"):
        nd.Categorical()
    with pytest.raises(ValueError, match="exactly one of covariance_matrix"):
        nd.MultivariateNormal(t([0.0]))
    with pytest.raises(ValueError, match="Expected parameter scale_tril"):
        nd.MultivariateNormal(t([0.0, 0.0]), scale_tril=t([[1.0, 1.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="not positive-definite"):
        nd.MultivariateNormal(t([0.0, 0.0]), covariance_matrix=t([[1.0, 2.0], [2.0, 1.0]]),
                              validate_args=False)
    with pytest.raises(ValueError, match="within the support"):
        nd.Bernoulli(probs=t([0.5])).log_prob(t([0.5]))
    with pytest.raises(ValueError, match="within the support"):
        nd.Categorical(probs=t([0.5, 0.5])).log_prob(nnlab.tensor([2]))
    with pytest.raises(ValueError, match="must be a Tensor"):
        nd.Normal(0.0, 1.0).log_prob(0.5)
    assert nd.Normal(0.0, t([1.0, -1.0]), validate_args=False).batch_shape == (2,)


def test_set_default_validate_args():
    nd.Distribution.set_default_validate_args(False)
    try:
        assert nd.Normal(0.0, -1.0).scale.item() == -1.0
    finally:
        nd.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        nd.Normal(0.0, -1.0)
    with pytest.raises(ValueError, match="True or False"):
        nd.Distribution.set_default_validate_args("yes")


def test_lazy_import_and_repr():
    import nnlab as fresh
    assert fresh.distributions.Normal is nd.Normal
    assert repr(nd.Normal(t([0.0, 1.0]), 1.0)) == "Normal(loc: (2,), scale: (2,))"
    assert repr(nd.Independent(nd.Normal(0.0, 1.0), 0)).startswith("Independent(Normal(")


@pytest.mark.parametrize("name,make,sa,sb", [RSAMPLED[0], RSAMPLED[4]],
                         ids=["Normal", "MultivariateNormalCov"])
def test_second_derivatives_through_rsample_and_log_prob(name, make, sa, sb):
    from nnlab.autograd import gradgradcheck
    a, b = t(randn(*sa, seed=1), True), t(0.3 * randn(*sb, seed=2), True)

    def f(a, b):
        nnlab.manual_seed(3)
        d = make(a, b)
        return d.log_prob(d.rsample()).sum() + d.entropy().sum()

    assert gradgradcheck(f, (a, b), eps=1e-6, atol=1e-5, rtol=1e-4)


def test_float32_parameters_give_float32_samples_and_log_probs():
    d = nd.Normal(nnlab.zeros(3), 1.0)
    x = d.rsample((2,))
    assert x.dtype == nnlab.float32 and d.log_prob(x).dtype == nnlab.float32
    assert nd.Bernoulli(logits=nnlab.zeros(2)).sample().dtype == nnlab.float32
    assert nd.Categorical(logits=nnlab.zeros(2, 3)).sample().dtype == nnlab.int64
