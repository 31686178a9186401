"""KL(p || q) between two distributions, dispatched on the pair of their types.

`register_kl(type_p, type_q)` adds a closed form; `kl_divergence(p, q)` uses the most
specific registered pair both types are subclasses of."""
import numpy as np

from .. import ops as _ops
from ..nn import functional as F
from .bernoulli import Bernoulli
from .beta import Beta
from .categorical import Categorical, OneHotCategorical
from .dirichlet import Dirichlet
from .distribution import sum_rightmost
from .gamma import Gamma
from .independent import Independent
from .laplace import Laplace
from .multivariate_normal import MultivariateNormal, _batch_mahalanobis, _solve_lower
from .normal import Normal
from .uniform import Uniform

_KL_REGISTRY = {}
_KL_MEMOIZE = {}


def register_kl(type_p, type_q):
    """Decorator: register fn(p, q) as KL(p || q) for p of type_p and q of type_q."""
    if not (isinstance(type_p, type) and isinstance(type_q, type)):
        raise TypeError(f"register_kl: expected two classes, got {type_p!r} and {type_q!r}")

    def decorator(fn):
        _KL_REGISTRY[type_p, type_q] = fn
        _KL_MEMOIZE.clear()
        return fn

    return decorator


def _dispatch_kl(type_p, type_q):
    matches = [(sp, sq) for sp, sq in _KL_REGISTRY
               if issubclass(type_p, sp) and issubclass(type_q, sq)]
    if not matches:
        return None
    best = min(matches, key=lambda m: (type_p.__mro__.index(m[0]),
                                       type_q.__mro__.index(m[1])))
    return _KL_REGISTRY[best]


def kl_divergence(p, q):
    """KL(p || q) = E_p[log p(x) - log q(x)], one value per batch element."""
    key = type(p), type(q)
    if key not in _KL_MEMOIZE:
        _KL_MEMOIZE[key] = _dispatch_kl(*key)
    fn = _KL_MEMOIZE[key]
    if fn is None:
        raise NotImplementedError(f"No KL(p || q) is implemented for p type "
                                  f"{type(p).__name__} and q type {type(q).__name__}")
    return fn(p, q)


def _infinite_where(mask, value):
    return _ops.where(mask, float("inf"), value)


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    """(r + ((mu_p - mu_q) / s_q)^2 - 1 - log r) / 2, r = (s_p / s_q)^2."""
    var_ratio = (p.scale / q.scale) ** 2
    t1 = ((p.loc - q.loc) / q.scale) ** 2
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    """p log(p / q) + (1 - p) log((1 - p) / (1 - q)), in logits (0 log 0 = 0)."""
    t1 = p.probs * (F.softplus(-q.logits) - F.softplus(-p.logits))
    t1 = _ops.where(p.probs == 0, 0.0, _infinite_where(q.probs == 0, t1))
    t2 = (1 - p.probs) * (F.softplus(q.logits) - F.softplus(p.logits))
    t2 = _ops.where(p.probs == 1, 0.0, _infinite_where(q.probs == 1, t2))
    return t1 + t2


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    """sum_k p_k (log p_k - log q_k) (0 log 0 = 0, inf where q_k = 0 < p_k)."""
    t = p.probs * (p.logits - q.logits)
    shape = t.shape
    t = _infinite_where((q.probs == 0).expand(*shape), t)
    t = _ops.where((p.probs == 0).expand(*shape), 0.0, t)
    return t.sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehotcategorical_onehotcategorical(p, q):
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p, q):
    """-log(b_p / b_q) + |mu_p - mu_q| / b_q + (b_p / b_q) exp(-|mu_p - mu_q| / b_p) - 1."""
    scale_ratio = p.scale / q.scale
    loc_abs_diff = (p.loc - q.loc).abs()
    return (-scale_ratio.log() + loc_abs_diff / q.scale
            + scale_ratio * (-loc_abs_diff / p.scale).exp() - 1)


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    """log((h_q - l_q) / (h_p - l_p)) where [l_p, h_p] lies inside [l_q, h_q], else inf."""
    result = ((q.high - q.low) / (p.high - p.low)).log()
    return _infinite_where((q.low > p.low) | (q.high < p.high), result)


@register_kl(Independent, Independent)
def _kl_independent_independent(p, q):
    """The base KL summed over the reinterpreted dims (both must reinterpret as many)."""
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError("kl_divergence: Independent pair with different "
                                  f"reinterpreted_batch_ndims ({p.reinterpreted_batch_ndims} "
                                  f"and {q.reinterpreted_batch_ndims})")
    result = kl_divergence(p.base_dist, q.base_dist)
    return sum_rightmost(result, p.reinterpreted_batch_ndims)


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_multivariatenormal_multivariatenormal(p, q):
    """(log det S_q - log det S_p + tr(S_q^-1 S_p) + |L_q^-1 (mu_q - mu_p)|^2 - n) / 2."""
    if p.event_shape != q.event_shape:
        raise ValueError("KL-divergence between two Multivariate Normals with different "
                         "event shapes cannot be computed")
    n = p.event_shape[0]
    lp, lq = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    half_term1 = (lq.diagonal(dim1=-2, dim2=-1).log().sum(-1)
                  - lp.diagonal(dim1=-2, dim2=-1).log().sum(-1))
    shape = np.broadcast_shapes(lp.shape, lq.shape)
    term2 = (_solve_lower(lq.expand(*shape), lp.expand(*shape)) ** 2).sum((-2, -1))
    term3 = _batch_mahalanobis(lq, q.loc - p.loc)
    return half_term1 + 0.5 * (term2 + term3 - n)


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p, q):
    """a_q log(r_p / r_q) + lgamma(a_q) - lgamma(a_p) + (a_p - a_q) psi(a_p)
    + (r_q - r_p) a_p / r_p."""
    return (q.concentration * (p.rate / q.rate).log() + _ops.lgamma(q.concentration)
            - _ops.lgamma(p.concentration)
            + (p.concentration - q.concentration) * _ops.digamma(p.concentration)
            + (q.rate - p.rate) * (p.concentration / p.rate))


@register_kl(Beta, Beta)
def _kl_beta_beta(p, q):
    """log B(a_q, b_q) - log B(a_p, b_p) + (a_p - a_q) psi(a_p) + (b_p - b_q) psi(b_p)
    + (a_q + b_q - a_p - b_p) psi(a_p + b_p)."""
    a_p, b_p, a_q, b_q = p.concentration1, p.concentration0, q.concentration1, q.concentration0
    lg = _ops.lgamma
    return (lg(a_q) + lg(b_q) - lg(a_q + b_q) - lg(a_p) - lg(b_p) + lg(a_p + b_p)
            + (a_p - a_q) * _ops.digamma(a_p) + (b_p - b_q) * _ops.digamma(b_p)
            + (a_q + b_q - a_p - b_p) * _ops.digamma(a_p + b_p))


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p, q):
    """lgamma(a_0) - lgamma(b_0) - sum_k (lgamma(a_k) - lgamma(b_k))
    + sum_k (a_k - b_k)(psi(a_k) - psi(a_0)), a = p's, b = q's concentration."""
    a, b = p.concentration, q.concentration
    a0 = a.sum(-1)
    return (_ops.lgamma(a0) - _ops.lgamma(b.sum(-1)) - (_ops.lgamma(a) - _ops.lgamma(b)).sum(-1)
            + ((a - b) * (_ops.digamma(a) - _ops.digamma(a0).unsqueeze(-1))).sum(-1))
