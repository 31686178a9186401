"""The beta distribution Beta(concentration1, concentration0) on (0, 1)."""
from .. import ops as _ops
from . import constraints
from .distribution import Distribution, broadcast_all
from .gamma import standard_gamma


def _lbeta(a, b):
    return _ops.lgamma(a) + _ops.lgamma(b) - _ops.lgamma(a + b)


class Beta(Distribution):
    """p(x) = x^(a-1) (1 - x)^(b-1) / B(a, b), a = concentration1, b = concentration0;
    both broadcast to the batch shape."""
    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1,
                                                                 concentration0)
        super().__init__(self.concentration1.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        batch_shape = self._check_expand(batch_shape)
        return type(self)(self.concentration1.expand(*batch_shape),
                          self.concentration0.expand(*batch_shape), validate_args=False)

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        """(a - 1)^+ / ((a - 1)^+ + (b - 1)^+); where a, b < 1 both, the end whose
        concentration is the larger (1 if a >= b; torch gives 1 there always)."""
        am1 = (self.concentration1 - 1).clamp(min=0)
        total = am1 + (self.concentration0 - 1).clamp(min=0)
        corner = (self.concentration1 >= self.concentration0).to(am1.dtype)
        return _ops.where(total > 0, am1 / total.clamp(min=1e-300), corner)

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total ** 2 * (total + 1))

    def rsample(self, sample_shape=()):
        """X / (X + Y), X ~ Gamma(a, 1), Y ~ Gamma(b, 1) (implicit gradients)."""
        shape = self._extended_shape(sample_shape)
        x = standard_gamma(self.concentration1.expand(*shape))
        y = standard_gamma(self.concentration0.expand(*shape))
        return x / (x + y)

    def log_prob(self, value):
        """(a - 1) log x + (b - 1) log(1 - x) - log B(a, b)."""
        if self._validate_args:
            self._validate_sample(value)
        a, b = self.concentration1, self.concentration0
        return (a - 1) * value.log() + (b - 1) * (-value).log1p() - _lbeta(a, b)

    def entropy(self):
        """log B(a, b) - (a - 1) psi(a) - (b - 1) psi(b) + (a + b - 2) psi(a + b)."""
        a, b = self.concentration1, self.concentration0
        return (_lbeta(a, b) - (a - 1) * _ops.digamma(a) - (b - 1) * _ops.digamma(b)
                + (a + b - 2) * _ops.digamma(a + b))
