"""kl_divergence equals torch's closed forms (values and gradients to both distributions'
parameters); the registry dispatches on the type pair and takes user pairs."""
import numpy as np
import pytest

import nnlab
import nnlab.distributions as nd
from tests.helpers import requires_torch, torch

from .common import assert_same, pair, positive, randn

pytestmark = requires_torch


def _kl_cases():
    r = np.random.default_rng(3)
    a = r.standard_normal((2, 3, 3))
    cov = a @ a.transpose(0, 2, 1) + np.eye(3)
    b = r.standard_normal((3, 3))
    cov_q = b @ b.T + 0.5 * np.eye(3)
    return [
        ("Normal", dict(loc=randn(3)), dict(scale=positive(3, seed=1)),
         dict(loc=randn(2, 1, seed=2)), dict(scale=positive(3, seed=3))),
        ("Laplace", dict(loc=randn(2, 3)), dict(scale=positive(3, seed=1)),
         dict(loc=randn(3, seed=2)), dict(scale=positive(2, 3, seed=3))),
        ("Bernoulli", dict(probs=r.uniform(0.05, 0.95, (4,))), {},
         dict(probs=r.uniform(0.05, 0.95, (4,))), {}),
        ("Bernoulli", dict(logits=randn(3, seed=4)), {}, dict(logits=randn(3, seed=5)), {}),
        ("Categorical", dict(probs=r.dirichlet(np.ones(4), 3)), {},
         dict(logits=randn(2, 3, 4, seed=6)), {}),
        ("OneHotCategorical", dict(logits=randn(4, seed=7)), {},
         dict(probs=r.dirichlet(np.ones(4), 2)), {}),
        ("Uniform", dict(low=np.array([0.0, 0.2])), dict(high=np.array([1.0, 0.9])),
         dict(low=np.array([-0.5, -1.0])), dict(high=np.array([1.5, 1.0]))),
        ("MultivariateNormal", dict(loc=randn(3, seed=8)), dict(covariance_matrix=cov),
         dict(loc=randn(3, seed=9)), dict(scale_tril=np.linalg.cholesky(cov_q))),
        ("MultivariateNormal", dict(loc=randn(2, 3, seed=8)), dict(precision_matrix=cov_q),
         dict(loc=randn(3, seed=9)), dict(covariance_matrix=cov)),
    ]


@pytest.mark.parametrize("name,p1,p2,q1,q2", _kl_cases())
def test_kl_matches_torch(name, p1, p2, q1, q2):
    ours_p, theirs_p = pair({**p1, **p2})
    ours_q, theirs_q = pair({**q1, **q2})
    kl = nd.kl_divergence(getattr(nd, name)(**ours_p), getattr(nd, name)(**ours_q))
    tkl = torch.distributions.kl_divergence(getattr(torch.distributions, name)(**theirs_p),
                                            getattr(torch.distributions, name)(**theirs_q))
    both = {**{f"p_{k}": v for k, v in ours_p.items()}, **{f"q_{k}": v for k, v in ours_q.items()}}
    tboth = {**{f"p_{k}": v for k, v in theirs_p.items()},
             **{f"q_{k}": v for k, v in theirs_q.items()}}
    assert_same(kl, tkl, both, tboth)


def test_kl_edges_are_infinite_or_zero_as_torch():
    p = nd.Bernoulli(probs=nnlab.tensor([0.0, 1.0, 0.3]))
    q = nd.Bernoulli(probs=nnlab.tensor([0.5, 0.5, 0.0]))
    tp = torch.distributions.Bernoulli(probs=torch.tensor([0.0, 1.0, 0.3]))
    tq = torch.distributions.Bernoulli(probs=torch.tensor([0.5, 0.5, 0.0]))
    np.testing.assert_allclose(nd.kl_divergence(p, q).numpy(),
                               torch.distributions.kl_divergence(tp, tq).numpy(), rtol=1e-6)
    u = nd.kl_divergence(nd.Uniform(0.0, 2.0), nd.Uniform(0.5, 3.0))
    assert np.isinf(u.numpy())
    c = nd.kl_divergence(nd.Categorical(probs=nnlab.tensor([0.5, 0.5, 0.0])),
                         nd.Categorical(probs=nnlab.tensor([0.5, 0.0, 0.5])))
    assert np.isinf(c.numpy())


def test_kl_of_independent_sums_over_reinterpreted_dims():
    loc, scale = nnlab.tensor(randn(2, 3)), nnlab.tensor(positive(2, 3))
    p = nd.Independent(nd.Normal(loc, scale), 1)
    q = nd.Independent(nd.Normal(nnlab.zeros(2, 3, dtype=nnlab.float64), 1.0), 1)
    kl = nd.kl_divergence(p, q)
    assert kl.shape == (2,)
    np.testing.assert_allclose(kl.numpy(), nd.kl_divergence(p.base_dist, q.base_dist)
                               .numpy().sum(-1), rtol=1e-12)
    with pytest.raises(NotImplementedError, match="reinterpreted_batch_ndims"):
        nd.kl_divergence(p, nd.Independent(nd.Normal(loc, scale), 2))


def test_unknown_pair_raises_as_torch():
    with pytest.raises(NotImplementedError,
                       match="No KL\\(p \\|\\| q\\) is implemented for p type Normal and q "
                             "type Laplace"):
        nd.kl_divergence(nd.Normal(0.0, 1.0), nd.Laplace(0.0, 1.0))


def test_register_kl_on_user_classes_and_most_specific_match():
    class Point(nd.Normal):
        pass

    class Sharper(Point):
        pass

    @nd.register_kl(Point, nd.Normal)
    def _kl_point_normal(p, q):
        return -q.log_prob(p.loc)

    p, q = Point(nnlab.tensor([0.5]), 1.0), nd.Normal(nnlab.tensor([0.0]), 2.0)
    np.testing.assert_allclose(nd.kl_divergence(p, q).numpy(), -q.log_prob(p.loc).numpy())
    # a subclass uses its nearest registered ancestor pair; Normal-Normal stays for others
    np.testing.assert_allclose(nd.kl_divergence(Sharper(nnlab.tensor([0.5]), 1.0), q).numpy(),
                               -q.log_prob(p.loc).numpy())
    np.testing.assert_allclose(nd.kl_divergence(q, q).numpy(), [0.0])
    with pytest.raises(TypeError, match="register_kl"):
        nd.register_kl("Normal", nd.Normal)
