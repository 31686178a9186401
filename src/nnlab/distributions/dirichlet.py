"""The Dirichlet distribution Dir(concentration) on the probability simplex."""
from .. import ops as _ops
from ..nn import functional as F
from . import constraints
from .distribution import Distribution
from .gamma import standard_gamma


class Dirichlet(Distribution):
    """p(x) = Gamma(a_0) / prod_k Gamma(a_k) prod_k x_k^(a_k - 1), a_0 = sum_k a_k;
    concentration of shape batch_shape + (K,), events of shape (K,)."""
    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.ndim < 1:
            raise ValueError("Dirichlet: concentration must be at least one-dimensional, "
                             f"got shape {tuple(concentration.shape)}")
        self.concentration = concentration
        shape = tuple(concentration.shape)
        super().__init__(shape[:-1], shape[-1:], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        batch_shape = self._check_expand(batch_shape)
        return type(self)(self.concentration.expand(*batch_shape, *self._event_shape),
                          validate_args=False)

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self):
        """(a - 1)^+ / sum (a - 1)^+; where every a_k < 1, the one-hot of the largest a_k
        (torch takes the argmax of a 0/0 there)."""
        am1 = (self.concentration - 1).clamp(min=0)
        total = am1.sum(-1, keepdim=True)
        k = self.concentration.shape[-1]
        corner = F.one_hot(self.concentration.argmax(-1), k).to(am1.dtype)
        return _ops.where(total > 0, am1 / total.clamp(min=1e-300), corner)

    @property
    def variance(self):
        a = self.concentration
        a0 = a.sum(-1, keepdim=True)
        return a * (a0 - a) / (a0 ** 2 * (a0 + 1))

    def rsample(self, sample_shape=()):
        """Z / sum_k Z_k, Z_k ~ Gamma(a_k, 1) (implicit gradients)."""
        z = standard_gamma(self.concentration.expand(*self._extended_shape(sample_shape)))
        return z / z.sum(-1, keepdim=True)

    def log_prob(self, value):
        """sum_k (a_k - 1) log x_k + lgamma(a_0) - sum_k lgamma(a_k)."""
        if self._validate_args:
            self._validate_sample(value)
        a = self.concentration
        return (((a - 1) * value.log()).sum(-1) + _ops.lgamma(a.sum(-1))
                - _ops.lgamma(a).sum(-1))

    def entropy(self):
        """log B(a) + (a_0 - K) psi(a_0) - sum_k (a_k - 1) psi(a_k)."""
        a = self.concentration
        k = a.shape[-1]
        a0 = a.sum(-1)
        return (_ops.lgamma(a).sum(-1) - _ops.lgamma(a0) + (a0 - k) * _ops.digamma(a0)
                - ((a - 1) * _ops.digamma(a)).sum(-1))
