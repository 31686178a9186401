"""The multivariate normal N(loc, Sigma), held by the lower Cholesky factor L of Sigma.

The Cholesky factorisation and the triangular solves are written here as compositions
of differentiable ops (a loop over the n columns), so gradients of any order flow to
loc and to the matrix given; they are meant for the small n of a distribution's event."""
import math

import numpy as np

from .. import ops as _ops
from . import constraints
from .distribution import Distribution, lazy_property


def _cholesky(a):
    """L lower-triangular with L L^T = a, column by column:
    L[:, j] = v / sqrt(v[j]) below the diagonal, v = a[:, j] - L[:, :j] L[j, :j].
    It reads (a + a^T) / 2, so the gradient to a is symmetric, as torch's."""
    n = a.shape[-1]
    a = (a + a.transpose(-2, -1)) / 2
    cols = []
    for j in range(n):
        v = a[..., :, j]
        if j:
            done = _ops.stack(cols, -1)
            v = v - (done * done[..., j:j + 1, :]).sum(-1)
        pivot = v[..., j:j + 1]
        if not bool((pivot > 0).all()):
            raise ValueError("MultivariateNormal: cholesky: the factorization could not be "
                             f"completed because the input is not positive-definite (the "
                             f"leading minor of order {j + 1} is not positive-definite)")
        below = _ops.tensor(np.arange(n) >= j, device=a.device)
        cols.append(_ops.where(below, v / pivot.sqrt(), 0.0))
    return _ops.stack(cols, -1)


def _solve_lower(lower, b):
    """X with lower @ X = b by forward substitution: x_i = (b_i - L[i, :i] x[:i]) / L[i, i].
    lower (..., n, n), b (..., n, m), batch dims broadcast."""
    n = lower.shape[-1]
    rows = []
    for i in range(n):
        r = b[..., i, :]
        if i:
            done = _ops.stack(rows, -2)
            r = r - (lower[..., i, :i].unsqueeze(-1) * done).sum(-2)
        rows.append(r / lower[..., i, i:i + 1])
    return _ops.stack(rows, -2)


def _batch_mahalanobis(lower, x):
    """|L^-1 x|^2 over the last dim: lower (..., n, n), x (..., n) -> (...)."""
    return (_solve_lower(lower, x.unsqueeze(-1)) ** 2).sum((-2, -1))


def _inverse_gram(lower):
    """(L L^T)^-1 = L^-T L^-1."""
    eye = _ops.eye(lower.shape[-1], dtype=lower.dtype, device=lower.device)
    inv = _solve_lower(lower, eye.expand(*lower.shape))
    return inv.transpose(-2, -1) @ inv


class MultivariateNormal(Distribution):
    """p(x) = exp(-|L^-1 (x - loc)|^2 / 2) / ((2 pi)^(n/2) det L), Sigma = L L^T.

    loc (..., n); exactly one of covariance_matrix, precision_matrix (Sigma^-1) or
    scale_tril (L) of shape (..., n, n); batch dims broadcast."""
    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        if loc.ndim < 1:
            raise ValueError("MultivariateNormal: loc must be at least one-dimensional.")
        given = {k: v for k, v in (("covariance_matrix", covariance_matrix),
                                   ("precision_matrix", precision_matrix),
                                   ("scale_tril", scale_tril)) if v is not None}
        if len(given) != 1:
            raise ValueError("MultivariateNormal: exactly one of covariance_matrix or "
                             "precision_matrix or scale_tril may be specified.")
        (name, matrix), = given.items()
        if matrix.ndim < 2:
            raise ValueError(f"MultivariateNormal: {name} matrix must be at least "
                             "two-dimensional, with optional leading batch dimensions")
        batch_shape = tuple(np.broadcast_shapes(matrix.shape[:-2], loc.shape[:-1]))
        self.__dict__[name] = matrix.expand(*batch_shape, -1, -1)
        self.loc = loc.expand(*batch_shape, -1)
        super().__init__(batch_shape, self.loc.shape[-1:], validate_args=validate_args)
        if name == "scale_tril":
            self._unbroadcasted_scale_tril = matrix
        elif name == "covariance_matrix":
            self._unbroadcasted_scale_tril = _cholesky(matrix)
        else:
            self._unbroadcasted_scale_tril = _cholesky(_inverse_gram(_cholesky(matrix)))

    def expand(self, batch_shape, _instance=None):
        batch_shape = self._check_expand(batch_shape)
        n = self._event_shape[0]
        return type(self)(self.loc.expand(*batch_shape, n),
                          scale_tril=self._unbroadcasted_scale_tril.expand(*batch_shape, n, n),
                          validate_args=False)

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(*self._batch_shape, -1, -1)

    @lazy_property
    def covariance_matrix(self):
        lower = self._unbroadcasted_scale_tril
        return (lower @ lower.transpose(-2, -1)).expand(*self._batch_shape, -1, -1)

    @lazy_property
    def precision_matrix(self):
        return _inverse_gram(self._unbroadcasted_scale_tril).expand(*self._batch_shape,
                                                                     -1, -1)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        """diag(Sigma) = sum_j L_ij^2."""
        var = (self._unbroadcasted_scale_tril ** 2).sum(-1)
        return var.expand(*self._batch_shape, *self._event_shape)

    def rsample(self, sample_shape=()):
        """loc + L eps, eps ~ N(0, I)."""
        eps = _ops.randn(*self._extended_shape(sample_shape), dtype=self.loc.dtype,
                         device=self.loc.device)
        return self.loc + (self._unbroadcasted_scale_tril * eps.unsqueeze(-2)).sum(-1)

    def _half_log_det(self):
        return self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value):
        """-(n log 2 pi + |L^-1 (x - loc)|^2) / 2 - sum log diag L."""
        if self._validate_args:
            self._validate_sample(value)
        m = _batch_mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + m) - self._half_log_det()

    def entropy(self):
        """n (1 + log 2 pi) / 2 + sum log diag L."""
        h = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return h.expand(*self._batch_shape) if self._batch_shape else h
