"""Categorical distributions over {0, ..., K-1}: as class indices and as one-hot vectors."""
import numpy as np

from .. import ops as _ops
from ..autograd import no_grad
from ..backend import finfo
from ..nn import functional as F
from . import constraints
from .distribution import Distribution, lazy_property, logits_to_probs, probs_to_logits


class Categorical(Distribution):
    """P(x = k) = probs[..., k] (normalised along the last dim) = softmax(logits)[..., k].

    probs or logits of shape batch_shape + (K,); give exactly one."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(
        constraints.real, 1)}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Categorical: either `probs` or `logits` must be specified, "
                             "but not both.")
        param = probs if probs is not None else logits
        if param.ndim < 1:
            name = "probs" if probs is not None else "logits"
            raise ValueError(f"{type(self).__name__}: `{name}` parameter must be at least "
                             "one-dimensional.")
        if probs is not None:
            self.probs = probs / probs.sum(-1, keepdim=True)
            self._param = self.probs
        else:
            self.logits = logits - _ops.logsumexp(logits, -1, keepdim=True)
            self._param = self.logits
        self._num_events = param.shape[-1]
        super().__init__(param.shape[:-1], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        batch_shape = self._check_expand(batch_shape)
        shape = batch_shape + (self._num_events,)
        if "probs" in self.__dict__:
            return type(self)(probs=self.probs.expand(*shape), validate_args=False)
        return type(self)(logits=self.logits.expand(*shape), validate_args=False)

    @property
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits)

    @property
    def param_shape(self):
        return self._param.shape

    @property
    def mean(self):
        return _ops.full(self._batch_shape, float("nan"), dtype=self._param.dtype)

    @property
    def mode(self):
        return self.probs.argmax(-1)

    @property
    def variance(self):
        return _ops.full(self._batch_shape, float("nan"), dtype=self._param.dtype)

    def sample(self, sample_shape=()):
        """Class indices of shape sample_shape + batch_shape (int64)."""
        sample_shape = (sample_shape,) if isinstance(sample_shape, int) else tuple(sample_shape)
        n = int(np.prod(sample_shape, dtype=np.int64))
        with no_grad():
            probs_2d = self.probs.detach().reshape(-1, self._num_events)
            draws = _ops.multinomial(probs_2d, n, True).transpose(0, 1)
        return draws.reshape(*sample_shape, *self._batch_shape)

    def log_prob(self, value):
        """logits[..., value] (normalised logits)."""
        if self._validate_args:
            self._validate_sample(value)
        value = value.to(_ops.tensor(0).dtype).unsqueeze(-1)
        shape = np.broadcast_shapes(value.shape[:-1], self.logits.shape[:-1])
        log_pmf = self.logits.expand(*shape, self._num_events)
        return log_pmf.gather(-1, value.expand(*shape, 1)).squeeze(-1)

    def entropy(self):
        """-sum_k p_k log p_k."""
        min_real = float(finfo(self.logits.dtype).min)
        return -(self.logits.clamp(min=min_real) * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        values = _ops.arange(self._num_events).reshape(-1, *(1,) * len(self._batch_shape))
        return values.expand(-1, *self._batch_shape) if expand else values


class OneHotCategorical(Distribution):
    """A Categorical whose values are one-hot vectors of length K (event_shape (K,))."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(
        constraints.real, 1)}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits, validate_args=validate_args)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        batch_shape = self._check_expand(batch_shape)
        new = object.__new__(type(self))
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def _param(self):
        return self._categorical._param

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def param_shape(self):
        return self._categorical.param_shape

    @property
    def mean(self):
        return self._categorical.probs

    @property
    def mode(self):
        probs = self._categorical.probs
        return F.one_hot(probs.argmax(-1), probs.shape[-1]).to(probs.dtype)

    @property
    def variance(self):
        return self._categorical.probs * (1 - self._categorical.probs)

    def sample(self, sample_shape=()):
        indices = self._categorical.sample(sample_shape)
        return F.one_hot(indices, self._event_shape[0]).to(self.probs.dtype)

    def log_prob(self, value):
        """log p_k at the index k of value's one."""
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self):
        return self._categorical.entropy()

    def enumerate_support(self, expand=True):
        n = self._event_shape[0]
        values = _ops.eye(n, dtype=self._param.dtype)
        values = values.reshape(n, *(1,) * len(self._batch_shape), n)
        return values.expand(n, *self._batch_shape, n) if expand else values
