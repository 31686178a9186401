"""The normal distribution N(loc, scale^2)."""
import math

from .. import ops as _ops
from .distribution import LocationScale


class Normal(LocationScale):
    """p(x) = exp(-(x - loc)^2 / (2 scale^2)) / (scale sqrt(2 pi)); loc and scale broadcast
    to the batch shape."""

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale ** 2

    def rsample(self, sample_shape=()):
        """loc + scale * eps, eps ~ N(0, 1) from nnlab's generator."""
        eps = _ops.randn(*self._extended_shape(sample_shape), dtype=self.loc.dtype,
                         device=self.loc.device)
        return self.loc + eps * self.scale

    def log_prob(self, value):
        """-(x - loc)^2 / (2 scale^2) - log scale - log sqrt(2 pi)."""
        if self._validate_args:
            self._validate_sample(value)
        return (-((value - self.loc) ** 2) / (2 * self.variance) - self.scale.log()
                - math.log(math.sqrt(2 * math.pi)))

    def cdf(self, value):
        """(1 + erf((x - loc) / (scale sqrt 2))) / 2."""
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + _ops.erf((value - self.loc) / (self.scale * math.sqrt(2))))

    def icdf(self, value):
        """loc + scale sqrt(2) erfinv(2 p - 1)."""
        return self.loc + self.scale * _ops.erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self):
        """1/2 + log(scale sqrt(2 pi))."""
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()
