"""The base class of every distribution: shapes, sampling, checking of arguments.

A distribution holds a batch of independent distributions of shape `batch_shape`, each
over events of shape `event_shape`. `sample(sample_shape)` returns a tensor of shape
`sample_shape + batch_shape + event_shape`; `log_prob(value)` returns one log-density per
event, of shape `sample_shape + batch_shape`.
"""
import numpy as np

from .. import ops as _ops
from ..autograd import Tensor, no_grad
from ..backend import get_default_dtype
from . import constraints


class lazy_property:
    """A property computed once on first use and then stored on the instance (probs from
    logits and the other way round)."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = self.wrapped(instance)
        instance.__dict__[self.wrapped.__name__] = value
        return value


def broadcast_all(*values):
    """Numbers and tensors to tensors of one broadcast shape (the first float tensor's dtype,
    else the default dtype)."""
    dtype = next((v.dtype for v in values if isinstance(v, Tensor) and v.dtype.kind == "f"),
                 get_default_dtype())
    device = next((v.device for v in values if isinstance(v, Tensor)), None)
    tensors = [v if isinstance(v, Tensor) else _ops.tensor(v, dtype=dtype, device=device)
               for v in values]
    shape = np.broadcast_shapes(*(t.shape for t in tensors))
    return [t if t.shape == shape else t.expand(*shape) for t in tensors]


def sum_rightmost(value, dim):
    """Sum over the `dim` rightmost dimensions."""
    return value.sum(tuple(range(-dim, 0))) if dim > 0 else value


class Distribution:
    """Base class: subclasses set `arg_constraints`, `support`, `has_rsample` and the
    methods they have."""
    has_rsample = False
    has_enumerate_support = False
    _validate_args = True
    arg_constraints = {}
    support = None

    @staticmethod
    def set_default_validate_args(value):
        """Turn checking of arguments and samples on or off for every new distribution."""
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args: expected True or False, got {value!r}")
        Distribution._validate_args = value

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape = tuple(batch_shape)
        self._event_shape = tuple(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if not self._validate_args:
            return
        for param, constraint in self.arg_constraints.items():
            if constraints.is_dependent(constraint):
                continue
            if param not in self.__dict__ and isinstance(getattr(type(self), param, None),
                                                         lazy_property):
                continue
            value = getattr(self, param)
            if not bool(constraint.check(value).all()):
                raise ValueError(
                    f"Expected parameter {param} ({type(value).__name__} of shape "
                    f"{tuple(value.shape)}) of distribution {self!r} to satisfy the "
                    f"constraint {constraint!r}, but found invalid values:\n{value}")

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def expand(self, batch_shape, _instance=None):
        """The same distribution repeated to `batch_shape` (parameters are expanded, not
        copied)."""
        raise NotImplementedError(f"{type(self).__name__}.expand is not implemented")

    def _check_expand(self, batch_shape):
        batch_shape = tuple(batch_shape)
        try:
            np.broadcast_shapes(self._batch_shape, batch_shape)
        except ValueError:
            raise RuntimeError(f"{type(self).__name__}.expand: batch_shape {self._batch_shape} "
                               f"cannot be expanded to {batch_shape}") from None
        return batch_shape

    @property
    def mean(self):
        raise NotImplementedError(f"{type(self).__name__} has no mean")

    @property
    def mode(self):
        raise NotImplementedError(f"{type(self).__name__} has no mode")

    @property
    def variance(self):
        raise NotImplementedError(f"{type(self).__name__} has no variance")

    @property
    def stddev(self):
        return self.variance.sqrt()

    def sample(self, sample_shape=()):
        """A draw of shape sample_shape + batch_shape + event_shape, outside the graph."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()):
        """A reparameterised draw: a differentiable function of the parameters and noise."""
        raise NotImplementedError(f"{type(self).__name__} has no rsample "
                                  "(has_rsample is False)")

    def sample_n(self, n):
        return self.sample((n,))

    def log_prob(self, value):
        raise NotImplementedError(f"{type(self).__name__} has no log_prob")

    def cdf(self, value):
        raise NotImplementedError(f"{type(self).__name__} has no cdf")

    def icdf(self, value):
        raise NotImplementedError(f"{type(self).__name__} has no icdf")

    def entropy(self):
        raise NotImplementedError(f"{type(self).__name__} has no entropy")

    def perplexity(self):
        return self.entropy().exp()

    def _extended_shape(self, sample_shape=()):
        if isinstance(sample_shape, int):
            sample_shape = (sample_shape,)
        return tuple(sample_shape) + self._batch_shape + self._event_shape

    def _validate_sample(self, value):
        """Raise ValueError if `value` is not a tensor of a shape that broadcasts with this
        distribution's, or lies outside the support."""
        if not isinstance(value, Tensor):
            raise ValueError(f"{type(self).__name__}.log_prob: the value argument must be a "
                             f"Tensor, got {type(value).__name__}")
        event_dim = len(self._event_shape)
        if tuple(value.shape[value.ndim - event_dim:]) != self._event_shape:
            raise ValueError(f"{type(self).__name__}.log_prob: the rightmost dimensions of "
                             f"value's shape {tuple(value.shape)} must match event_shape "
                             f"{self._event_shape}")
        try:
            np.broadcast_shapes(tuple(value.shape), self._batch_shape + self._event_shape)
        except ValueError:
            raise ValueError(f"{type(self).__name__}.log_prob: value of shape "
                             f"{tuple(value.shape)} is not broadcastable with batch_shape+"
                             f"event_shape {self._batch_shape + self._event_shape}") from None
        support = self.support
        if support is None or constraints.is_dependent(support):
            return
        if not bool(support.check(value).all()):
            raise ValueError(
                f"Expected value argument ({type(value).__name__} of shape "
                f"{tuple(value.shape)}) to be within the support ({support!r}) of the "
                f"distribution {self!r}, but found invalid values:\n{value}")

    def __repr__(self):
        names = [k for k in self.arg_constraints if k in self.__dict__]
        parts = []
        for k in names:
            v = self.__dict__[k]
            parts.append(f"{k}: {v if v.numel() == 1 else v.shape}")
        return f"{type(self).__name__}({', '.join(parts)})"


class LocationScale(Distribution):
    """A family given by `loc` and `scale` (broadcast to the batch shape) over the reals,
    with mean and mode at loc: Normal and Laplace."""
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        batch_shape = self._check_expand(batch_shape)
        return type(self)(self.loc.expand(*batch_shape), self.scale.expand(*batch_shape),
                          validate_args=False)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc


def clamp_probs(probs):
    """Probabilities clamped to [eps, 1 - eps] of their dtype, so logs stay finite."""
    from ..backend import finfo
    eps = float(finfo(probs.dtype).eps)
    return probs.clamp(eps, 1 - eps)


def probs_to_logits(probs, is_binary=False):
    """log p - log(1 - p) (binary) or log p (categorical), of clamped probabilities."""
    ps = clamp_probs(probs)
    return ps.log() - (-ps).log1p() if is_binary else ps.log()


def logits_to_probs(logits, is_binary=False):
    """sigmoid(logits) (binary) or softmax(logits, -1) (categorical)."""
    return logits.sigmoid() if is_binary else _ops.softmax(logits, -1)
