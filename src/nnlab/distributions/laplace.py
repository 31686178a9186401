"""The Laplace distribution: p(x) = exp(-|x - loc| / scale) / (2 scale)."""
import math

from .. import ops as _ops
from ..backend import finfo
from .distribution import LocationScale


class Laplace(LocationScale):
    """Laplace(loc, scale); loc and scale broadcast to the batch shape."""

    @property
    def variance(self):
        return 2 * self.scale ** 2

    @property
    def stddev(self):
        return math.sqrt(2) * self.scale

    def rsample(self, sample_shape=()):
        """loc - scale sign(u) log(1 - |u|), u ~ U(eps - 1, 1)."""
        eps = float(finfo(self.loc.dtype).eps)
        u = _ops.rand(*self._extended_shape(sample_shape), dtype=self.loc.dtype,
                      device=self.loc.device)
        u = u * (2 - eps) + (eps - 1)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value):
        """-log(2 scale) - |x - loc| / scale."""
        if self._validate_args:
            self._validate_sample(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        """1/2 - sign(x - loc) (exp(-|x - loc| / scale) - 1) / 2."""
        if self._validate_args:
            self._validate_sample(value)
        z = value - self.loc
        return 0.5 - 0.5 * z.sign() * ((-z.abs() / self.scale).exp() - 1)

    def icdf(self, value):
        """loc - scale sign(p - 1/2) log(1 - 2|p - 1/2|)."""
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self):
        """1 + log(2 scale)."""
        return 1 + (2 * self.scale).log()
