"""The gamma distribution Gamma(concentration, rate), with implicit reparameterisation.

A draw z ~ Gamma(a, 1) is a function of the concentration only through z = F^-1(u; a),
F the regularised lower incomplete gamma function and u uniform, so (Figurnov et al. 2018)
dz/da = -(dF/da)(z; a) / (dF/dz)(z; a) without ever forming u; the rate enters as
z / rate exactly.
"""
import numpy as np

from .. import ops as _ops
from ..autograd.function import Function
from ..backend import finfo
from ..ops.generator import numpy_generator
from . import constraints
from .distribution import Distribution, broadcast_all


def _d_sample_d_concentration(a, z):
    """dz/da = -(dF/da) / pdf(z; a), float64 arrays; dF/da by a central difference of
    scipy's gammainc (of gammaincc, for accuracy, where F > 1/2) with step 1e-5 a."""
    import scipy.special as sc
    h = 1e-5 * a
    lower = sc.gammainc(a, z) < 0.5
    d_lower = (sc.gammainc(a + h, z) - sc.gammainc(a - h, z)) / (2 * h)
    d_upper = (sc.gammaincc(a - h, z) - sc.gammaincc(a + h, z)) / (2 * h)
    d_cdf = np.where(lower, d_lower, d_upper)
    with np.errstate(divide="ignore"):
        log_pdf = (a - 1) * np.log(z) - z - sc.gammaln(a)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        grad = -d_cdf / np.exp(log_pdf)
    return np.where(np.isfinite(grad), grad, 0.0)


class StandardGamma(Function):
    """z ~ Gamma(a, 1) drawn by numpy from nnlab's generator; backward by the implicit
    gradient dz/da (not differentiable again)."""

    @staticmethod
    def forward(ctx, a, rng):
        a64 = a.astype(np.float64)
        z64 = np.maximum(rng.standard_gamma(a64), np.finfo(np.float64).tiny)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(_d_sample_d_concentration(a64, z64).astype(a.dtype))
        return np.maximum(z64.astype(a.dtype), np.finfo(a.dtype).tiny)

    @staticmethod
    def backward(ctx, gz):
        dz_da, = ctx.saved_tensors
        return gz * dz_da, None  # dL/da = gz dz/da


def standard_gamma(concentration, generator=None):
    """One Gamma(a, 1) draw per element of `concentration`, differentiable in it."""
    return StandardGamma.apply(concentration, numpy_generator(generator, "standard_gamma"))


class Gamma(Distribution):
    """p(x) = rate^a x^(a-1) e^(-rate x) / Gamma(a) for x > 0, a = concentration;
    concentration and rate broadcast to the batch shape."""
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(self.concentration.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        batch_shape = self._check_expand(batch_shape)
        return type(self)(self.concentration.expand(*batch_shape),
                          self.rate.expand(*batch_shape), validate_args=False)

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate ** 2

    def rsample(self, sample_shape=()):
        """z / rate with z ~ Gamma(concentration, 1) (implicit gradient), at least the
        smallest positive number of the dtype."""
        shape = self._extended_shape(sample_shape)
        z = standard_gamma(self.concentration.expand(*shape)) / self.rate.expand(*shape)
        return z.clamp(min=float(finfo(z.dtype).tiny))

    def log_prob(self, value):
        """a log rate + (a - 1) log x - rate x - lgamma(a)."""
        if self._validate_args:
            self._validate_sample(value)
        a = self.concentration
        return (a * self.rate.log() + (a - 1) * value.log() - self.rate * value
                - _ops.lgamma(a))

    def entropy(self):
        """a - log rate + lgamma(a) + (1 - a) digamma(a)."""
        a = self.concentration
        return a - self.rate.log() + _ops.lgamma(a) + (1 - a) * _ops.digamma(a)
