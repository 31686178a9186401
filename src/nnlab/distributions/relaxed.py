"""Relaxed (concrete, Gumbel-softmax) distributions: continuous stand-ins for Bernoulli and
one-hot Categorical draws that can be reparameterised; as the temperature goes to 0 their
samples approach the discrete ones."""
import math

from .. import ops as _ops
from ..autograd import Tensor
from ..backend import finfo
from ..nn import functional as F
from . import constraints
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution, broadcast_all, clamp_probs


def _as_tensor(temperature, like):
    return temperature if isinstance(temperature, Tensor) else \
        _ops.tensor(temperature, dtype=like.dtype)


class LogitRelaxedBernoulli(Distribution):
    """The logit of a RelaxedBernoulli sample: (logit(u) + logits) / temperature,
    u ~ U(0, 1); density t e^(l - t x) / (1 + e^(l - t x))^2."""
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self._bernoulli = Bernoulli(probs, logits, validate_args=False)
        self._given = "probs" if probs is not None else "logits"
        self.temperature = _as_tensor(temperature, self._bernoulli._param)
        super().__init__(self._bernoulli.batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        batch_shape = self._check_expand(batch_shape)
        param = getattr(self, self._given).expand(*batch_shape)
        return type(self)(self.temperature, validate_args=False, **{self._given: param})

    logits = property(lambda self: self._bernoulli.logits)
    probs = property(lambda self: self._bernoulli.probs)

    def rsample(self, sample_shape=()):
        """(log u - log(1 - u) + log p - log(1 - p)) / temperature, u ~ U(0, 1) clamped."""
        shape = self._extended_shape(sample_shape)
        probs = clamp_probs(self.probs.expand(*shape))
        u = clamp_probs(_ops.rand(*shape, dtype=probs.dtype, device=probs.device))
        return (u.log() - (-u).log1p() + probs.log() - (-probs).log1p()) / self.temperature

    def log_prob(self, value):
        """log t + d - 2 log(1 + e^d), d = logits - t x."""
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        diff = logits - value * self.temperature
        return self.temperature.log() + diff - 2 * F.softplus(diff)


class RelaxedBernoulli(Distribution):
    """sigmoid of a LogitRelaxedBernoulli sample: values in (0, 1)."""
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self.base_dist = LogitRelaxedBernoulli(temperature, probs, logits,
                                               validate_args=validate_args)
        super().__init__(self.base_dist.batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = object.__new__(type(self))
        new.base_dist = self.base_dist.expand(batch_shape)
        Distribution.__init__(new, new.base_dist.batch_shape, validate_args=False)
        return new

    temperature = property(lambda self: self.base_dist.temperature)
    logits = property(lambda self: self.base_dist.logits)
    probs = property(lambda self: self.base_dist.probs)

    def rsample(self, sample_shape=()):
        """sigmoid(x), clamped to [tiny, 1 - eps]."""
        fi = finfo(self.base_dist.logits.dtype)
        return self.base_dist.rsample(sample_shape).sigmoid().clamp(float(fi.tiny),
                                                                    1 - float(fi.eps))

    def log_prob(self, value):
        """base.log_prob(logit y) + log(sigmoid'(logit y)): the change of variables."""
        if self._validate_args:
            self._validate_sample(value)
        fi = finfo(value.dtype)
        y = value.clamp(float(fi.tiny), 1 - float(fi.eps))
        x = y.log() - (-y).log1p()
        return self.base_dist.log_prob(x) + F.softplus(-x) + F.softplus(x)


class ExpRelaxedCategorical(Distribution):
    """The log of a RelaxedOneHotCategorical sample: log_softmax((logits + g) / t),
    g ~ Gumbel(0, 1); event_shape (K,)."""
    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits, validate_args=False)
        self._given = "probs" if probs is not None else "logits"
        self.temperature = _as_tensor(temperature, self._categorical._param)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        batch_shape = self._check_expand(batch_shape)
        shape = batch_shape + self._event_shape
        param = getattr(self, self._given).expand(*shape)
        return type(self)(self.temperature, validate_args=False, **{self._given: param})

    logits = property(lambda self: self._categorical.logits)
    probs = property(lambda self: self._categorical.probs)

    def rsample(self, sample_shape=()):
        """scores - logsumexp(scores), scores = (logits - log(-log u)) / temperature."""
        shape = self._extended_shape(sample_shape)
        u = clamp_probs(_ops.rand(*shape, dtype=self.logits.dtype, device=self.logits.device))
        gumbels = -((-(u.log())).log())
        scores = (self.logits + gumbels) / self.temperature
        return scores - _ops.logsumexp(scores, -1, keepdim=True)

    def log_prob(self, value):
        """log (K-1)! + (K-1) log t + sum_k s_k, s = logits - t x normalised by logsumexp."""
        k = self._event_shape[0]
        if self._validate_args:
            self._validate_sample(value)
        log_scale = math.lgamma(k) + (k - 1) * self.temperature.log()
        score = self.logits - value * self.temperature
        score = (score - _ops.logsumexp(score, -1, keepdim=True)).sum(-1)
        return score + log_scale


class RelaxedOneHotCategorical(Distribution):
    """exp of an ExpRelaxedCategorical sample: the Gumbel-softmax, a point of the simplex."""
    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self.base_dist = ExpRelaxedCategorical(temperature, probs, logits,
                                               validate_args=validate_args)
        super().__init__(self.base_dist.batch_shape, self.base_dist.event_shape,
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = object.__new__(type(self))
        new.base_dist = self.base_dist.expand(batch_shape)
        Distribution.__init__(new, new.base_dist.batch_shape, new.base_dist.event_shape,
                              validate_args=False)
        return new

    temperature = property(lambda self: self.base_dist.temperature)
    logits = property(lambda self: self.base_dist.logits)
    probs = property(lambda self: self.base_dist.probs)

    def rsample(self, sample_shape=()):
        return self.base_dist.rsample(sample_shape).exp()

    def log_prob(self, value):
        """base.log_prob(log y) - sum_k log y_k: the change of variables y = exp x."""
        if self._validate_args:
            self._validate_sample(value)
        x = value.log()
        return self.base_dist.log_prob(x) - x.sum(-1)
