"""`InstanceNorm1d/2d/3d` and `LocalResponseNorm`, with PyTorch's arguments, defaults,
parameter and buffer names (so state_dict keys match torch's) and reprs.

InstanceNorm normalises each (sample, channel) slice over its positions (see
F.instance_norm). Unlike BatchNorm its defaults are affine=False and
track_running_stats=False; with track_running_stats=True it keeps `running_mean`,
`running_var` (and `num_batches_tracked`, never incremented, as torch) and uses them in
eval. An input without the batch dimension ((C, L) for 1d, (C, H, W) for 2d, ...) is
normalised as a batch of one.
"""
import warnings

from . import functional as F
from .module import Module
from .normalization import _BatchNorm


class _InstanceNorm(_BatchNorm):
    """Instance normalisation of (N, C, *) or (C, *), the number of dimensions one of
    `_input_dims`; parameters and buffers as _BatchNorm's."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def forward(self, input):
        name = type(self).__name__
        no_batch, batched = self._input_dims
        if input.ndim not in self._input_dims:
            raise ValueError(f"{name}: expected {no_batch}D (unbatched) or {batched}D "
                             f"(batched) input, got shape {tuple(input.shape)}")
        feature_dim = input.ndim - no_batch
        if input.shape[feature_dim] != self.num_features:
            message = (f"{name}: expected input's size at dim={feature_dim} to match "
                       f"num_features ({self.num_features}), but got: "
                       f"{input.shape[feature_dim]}.")
            if self.affine:
                raise ValueError(message)
            warnings.warn(message + " num_features is unused because affine=False",
                          stacklevel=2)
        x = input.unsqueeze(0) if input.ndim == no_batch else input
        y = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats,
                            0.0 if self.momentum is None else self.momentum, self.eps)
        return y.squeeze(0) if input.ndim == no_batch else y


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or (C, L) over L."""
    _input_dims = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or (C, H, W) over H, W."""
    _input_dims = (3, 4)


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of (N, C, D, H, W) or (C, D, H, W) over D, H, W."""
    _input_dims = (4, 5)


class LocalResponseNorm(Module):
    """x / (k + alpha * mean of x^2 over `size` neighbouring channels)^beta."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
