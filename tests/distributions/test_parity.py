"""log_prob, entropy, mean, mode, variance, stddev, cdf of each distribution equal
torch.distributions', values and gradients to the parameters, in float64, on several
parameter shapes (scalars, batches, broadcasting)."""
import numpy as np
import pytest

import nnlab
import nnlab.distributions as nd
from tests.helpers import requires_torch, torch

from .common import assert_same, pair, positive, randn

pytestmark = requires_torch


def td():
    return torch.distributions


def _cases():
    """(name, params, value, methods): value is the log_prob argument as numpy."""
    r = np.random.default_rng(1)
    probs = r.uniform(0.05, 0.95, (4, 3))
    simplex = r.dirichlet(np.ones(5), size=(2, 3))
    a = r.standard_normal((2, 3, 3))
    cov = a @ a.transpose(0, 2, 1) + np.eye(3)
    return [
        ("Normal", dict(loc=randn(3, seed=2), scale=positive(3, seed=3)), randn(5, 3, seed=4),
         "log_prob entropy mean mode variance stddev cdf"),
        ("Normal", dict(loc=randn(2, 1, seed=2), scale=positive(4, seed=3)), randn(2, 4, seed=4),
         "log_prob entropy mean variance cdf"),
        ("Normal", dict(loc=np.array(0.3), scale=np.array(1.7)), randn(6, seed=4),
         "log_prob entropy cdf"),
        ("Laplace", dict(loc=randn(2, 3, seed=5), scale=positive(3, seed=6)),
         randn(4, 2, 3, seed=7), "log_prob entropy mean mode variance stddev cdf"),
        ("Uniform", dict(low=randn(3, seed=8), high=randn(3, seed=8) + positive(3, seed=9)),
         randn(3, seed=8) + 0.05, "log_prob entropy mean variance stddev cdf"),
        ("Bernoulli", dict(probs=probs), (r.random((2, 4, 3)) < 0.5).astype(float),
         "log_prob entropy mean variance"),
        ("Bernoulli", dict(logits=randn(4, 3, seed=10)), (r.random((4, 3)) < 0.5) * 1.0,
         "log_prob entropy mean variance"),
        ("Categorical", dict(probs=simplex * 3), r.integers(0, 5, (4, 2, 3)), "log_prob entropy"),
        ("Categorical", dict(logits=randn(2, 3, 5, seed=11)), r.integers(0, 5, (3,)),
         "log_prob entropy"),
        ("OneHotCategorical", dict(logits=randn(3, 4, seed=12)),
         np.eye(4)[r.integers(0, 4, (2, 3))], "log_prob entropy mean variance"),
        ("MultivariateNormal", dict(loc=randn(3, seed=13), covariance_matrix=cov),
         randn(4, 2, 3, seed=14), "log_prob entropy mean variance"),
        ("MultivariateNormal", dict(loc=randn(2, 3, seed=13),
                                    scale_tril=np.linalg.cholesky(cov[0])),
         randn(2, 3, seed=14), "log_prob entropy variance"),
        ("MultivariateNormal", dict(loc=randn(3, seed=15), precision_matrix=cov[1]),
         randn(5, 3, seed=16), "log_prob entropy variance"),
        ("RelaxedBernoulli", dict(temperature=np.array(0.6), logits=randn(4, seed=17)),
         r.uniform(0.05, 0.95, (3, 4)), "log_prob"),
        ("RelaxedOneHotCategorical", dict(temperature=np.array(0.8), probs=simplex[0]),
         r.dirichlet(np.ones(5), size=3), "log_prob"),
    ]


CASES = [(n, p, v, m) for n, p, v, ms in _cases() for m in ms.split()]


@pytest.mark.parametrize("name,params,value,method", CASES,
                         ids=[f"{c[0]}-{c[3]}-{i}" for i, c in enumerate(CASES)])
def test_matches_torch(name, params, value, method):
    ours_p, theirs_p = pair(params)
    ours_d, theirs_d = getattr(nd, name)(**ours_p), getattr(td(), name)(**theirs_p)
    assert ours_d.batch_shape == tuple(theirs_d.batch_shape)
    assert ours_d.event_shape == tuple(theirs_d.event_shape)
    if method in ("log_prob", "cdf"):
        out, tout = (getattr(ours_d, method)(nnlab.tensor(value)),
                     getattr(theirs_d, method)(torch.tensor(value)))
    elif method == "entropy":
        out, tout = ours_d.entropy(), theirs_d.entropy()
    else:
        out, tout = getattr(ours_d, method), getattr(theirs_d, method)
    assert_same(out, tout, ours_p, theirs_p)


@pytest.mark.parametrize("name,params", [
    ("Normal", dict(loc=np.array([0.5, -0.2]), scale=np.array([1.2, 0.7]))),
    ("Laplace", dict(loc=np.array([0.5, -0.2]), scale=np.array([1.2, 0.7]))),
])
def test_icdf_inverts_cdf(name, params):
    d = getattr(nd, name)(**{k: nnlab.tensor(v) for k, v in params.items()})
    x = nnlab.tensor([[0.3, -1.1], [2.0, 0.1]])
    np.testing.assert_allclose(d.icdf(d.cdf(x)).numpy(), x.numpy(), rtol=1e-9)


def test_modes_of_discrete_distributions():
    b = nd.Bernoulli(probs=nnlab.tensor([0.2, 0.5, 0.9]))
    np.testing.assert_array_equal(b.mode.numpy(), [0.0, np.nan, 1.0])
    c = nd.Categorical(logits=nnlab.tensor([[0.0, 2.0, 1.0], [3.0, 0.0, 0.0]]))
    np.testing.assert_array_equal(c.mode.numpy(), [1, 0])
    assert np.isnan(c.mean.numpy()).all() and c.mean.shape == (2,)
    o = nd.OneHotCategorical(logits=nnlab.tensor([[0.0, 2.0, 1.0]]))
    np.testing.assert_array_equal(o.mode.numpy(), [[0.0, 1.0, 0.0]])
    assert np.isnan(nd.Uniform(0.0, 1.0).mode.numpy())


def test_enumerate_support():
    b = nd.Bernoulli(probs=nnlab.tensor([0.2, 0.7]))
    np.testing.assert_array_equal(b.enumerate_support().numpy(), [[0, 0], [1, 1]])
    c = nd.Categorical(probs=nnlab.tensor([0.2, 0.3, 0.5]))
    np.testing.assert_array_equal(c.enumerate_support().numpy(), [0, 1, 2])
    o = nd.OneHotCategorical(probs=nnlab.tensor([0.2, 0.3, 0.5]))
    np.testing.assert_array_equal(o.enumerate_support().numpy(), np.eye(3))
