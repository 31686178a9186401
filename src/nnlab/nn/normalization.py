"""Normalisation layers: `BatchNorm1d`, `BatchNorm2d`, `BatchNorm3d`, `GroupNorm`,
`LayerNorm`, `RMSNorm` (PyTorch's arguments, parameter and buffer names, so state_dict keys
match torch's).

BatchNorm normalises each channel of (N, C, *) with the batch's mean and biased variance
over N and the positions * in training, and keeps running estimates (the unbiased variance)
for eval:

    running = (1 - momentum) * running + momentum * batch_stat
    momentum=None: the cumulative average, momentum = 1 / num_batches_tracked

BatchNorm1d takes (N, C) or (N, C, L), BatchNorm2d (N, C, H, W), BatchNorm3d (N, C, D, H, W);
they share `_BatchNorm` and differ only in the accepted number of dimensions.

GroupNorm, LayerNorm and RMSNorm normalise within each sample (GroupNorm over each group of
C/G channels and every position, the others over the trailing `normalized_shape`
dimensions), the same in training and eval.
"""
from .. import backend
from ..autograd import grad_mode
from ..ops import ones, tensor, zeros
from .functional.normalization import (
    _normalized_shape,
    batch_norm,
    group_norm,
    layer_norm,
    rms_norm,
)
from .module import Module
from .parameter import Parameter


def _check_channels(name, input, channels):
    """Dimension 1 of `input` holds `channels`; the message names the layer `name`."""
    if input.shape[1] != channels:
        raise RuntimeError(f"{name}: input has {input.shape[1]} channels in dimension 1 "
                           f"(shape {tuple(input.shape)}), expected {channels}")


def _reset_affine(module):
    with grad_mode.no_grad():
        if module.weight is not None:
            module.weight.fill_(1)
        if module.bias is not None:
            module.bias.zero_()


class _BatchNorm(Module):
    """Batch normalisation of (N, C, *) inputs, C = num_features, the number of dimensions
    one of `_input_dims` (set by each subclass): parameters `weight` (ones) and `bias`
    (zeros) of shape (C,) when affine; buffers `running_mean`, `running_var` and
    `num_batches_tracked` (int64) when track_running_stats."""

    _input_dims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        factory = dict(device=device, dtype=dtype)
        self.weight = Parameter(ones(num_features, **factory)) if affine else None
        self.bias = Parameter(zeros(num_features, **factory)) if affine and bias else None
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, **factory))
            self.register_buffer("running_var", ones(num_features, **factory))
            self.register_buffer("num_batches_tracked",
                                 tensor(0, dtype=backend.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            with grad_mode.no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        _reset_affine(self)

    def _check_input(self, input):
        name = f"{type(self).__name__}(num_features={self.num_features})"
        if input.ndim not in self._input_dims:
            dims = " or ".join(f"{d}D" for d in self._input_dims)
            raise ValueError(f"{name}: expected {dims} input (got {input.ndim}D input of "
                             f"shape {tuple(input.shape)})")
        _check_channels(name, input, self.num_features)
        if self.training and input._data.size // input.shape[1] == 1:
            raise ValueError(f"{name}: Expected more than 1 value per channel when "
                             f"training, got input of shape {tuple(input.shape)}")

    def forward(self, input):
        self._check_input(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            with grad_mode.no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:  # the cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.item())
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        track = not self.training or self.track_running_stats
        return batch_norm(input, self.running_mean if track else None,
                          self.running_var if track else None, self.weight, self.bias,
                          bn_training, factor, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L): statistics over N (and L) per channel."""

    _input_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W): statistics over N, H, W per channel."""

    _input_dims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of (N, C, D, H, W): statistics over N, D, H, W per channel."""

    _input_dims = (5,)


class GroupNorm(Module):
    """Group normalisation of (N, C, *), C = num_channels split into num_groups groups:
    each sample's group of C/G channels is normalised over those channels and every
    position, then y = xhat * weight[c] + bias[c]. Parameters `weight` (ones) and `bias`
    (zeros) of shape (C,) when affine (bias only if `bias`)."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        if num_groups <= 0 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        factory = dict(device=device, dtype=dtype)
        self.weight = Parameter(ones(num_channels, **factory)) if affine else None
        self.bias = Parameter(zeros(num_channels, **factory)) if affine and bias else None

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, input):
        name = f"GroupNorm(num_groups={self.num_groups}, num_channels={self.num_channels})"
        if input.ndim < 2:
            raise RuntimeError(f"{name}: expected an input of shape (N, C, *) with at least 2 "
                               f"dimensions, got shape {tuple(input.shape)}")
        _check_channels(name, input, self.num_channels)
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")


class LayerNorm(Module):
    """Layer normalisation over the trailing `normalized_shape` dimensions: parameters
    `weight` (ones) and `bias` (zeros) of that shape when elementwise_affine (bias only if
    `bias`)."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _normalized_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        factory = dict(device=device, dtype=dtype)
        self.weight = Parameter(ones(*self.normalized_shape, **factory)) \
            if elementwise_affine else None
        self.bias = Parameter(zeros(*self.normalized_shape, **factory)) \
            if elementwise_affine and bias else None

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, input):
        _check_trailing(self, input)
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class RMSNorm(Module):
    """RMS normalisation y = x / sqrt(mean(x^2) + eps) * weight over the trailing
    `normalized_shape` dimensions; eps None means the machine epsilon of the input's
    dtype. Parameter `weight` (ones) when elementwise_affine."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None,
                 dtype=None):
        super().__init__()
        self.normalized_shape = _normalized_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self.weight = Parameter(ones(*self.normalized_shape, device=device, dtype=dtype)) \
            if elementwise_affine else None

    def reset_parameters(self):
        if self.weight is not None:
            with grad_mode.no_grad():
                self.weight.fill_(1)

    def forward(self, input):
        _check_trailing(self, input)
        return rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


def _check_trailing(module, input):
    """The input ends with the layer's normalized_shape; the message names the layer."""
    shape = module.normalized_shape
    k = len(shape)
    if input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        raise RuntimeError(f"{type(module).__name__}(normalized_shape={shape}): expected an "
                           f"input of shape (*, {', '.join(map(str, shape))}), got shape "
                           f"{tuple(input.shape)}")
