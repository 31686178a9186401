"""`Dropout`, `Dropout1d`, `Dropout2d`, `Dropout3d` (inverted: scale 1 / (1 - p) in
training, identity in eval; the Nd forms drop whole channels) and Monte-Carlo dropout.

Monte-Carlo dropout (Gal and Ghahramani, 2016) keeps dropout on at inference and averages
several stochastic forward passes; their spread estimates the model's uncertainty. Every
other layer stays in eval mode (BatchNorm keeps its running statistics):

    model.eval()
    enable_mc_dropout(model)          # every Dropout back in training mode
    with nnlab.no_grad():
        samples = nnlab.stack([model(x) for _ in range(100)])
    mean, std = samples.mean(0), samples.std(0)
    model.eval()                      # plain deterministic inference again

`enable_mc_dropout` returns the model, and itself calls `model.eval()` first, so calling
it alone is enough. In functional code, `F.dropout(x, p, training=True)` is always on.
"""
from ..autograd.tensor import Tensor
from .functional.dropout import _check_p, dropout, dropout1d, dropout2d, dropout3d
from .module import Module


class _DropoutNd(Module):
    """The dropout layers' shell: probability `p`, `inplace`, on only in training."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        _check_p(p, type(self).__name__)
        self.p = p
        self.inplace = inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero each element with probability p in training and scale the rest by
    1 / (1 - p); the identity in eval mode."""

    def forward(self, input: Tensor) -> Tensor:
        return dropout(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """Zero whole channels of (N, C, L) or (C, L) with probability p in training (mask
    (N, C, 1)) and scale the rest by 1 / (1 - p); the identity in eval mode."""

    def forward(self, input: Tensor) -> Tensor:
        return dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Zero whole channels of (N, C, H, W) with probability p in training (mask
    (N, C, 1, 1)) and scale the rest by 1 / (1 - p); the identity in eval mode. A 3D input
    is read as (N, C, L), as torch 2.x does (see `F.dropout2d`)."""

    def forward(self, input: Tensor) -> Tensor:
        return dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) with probability p in training
    (mask (N, C, 1, 1, 1)) and scale the rest by 1 / (1 - p); the identity in eval mode."""

    def forward(self, input: Tensor) -> Tensor:
        return dropout3d(input, self.p, self.training, self.inplace)


def enable_mc_dropout(model):
    """Monte-Carlo dropout: put `model` in eval mode, then switch every dropout layer in it
    (`Dropout`, `Dropout1d` / `2d` / `3d`) back to training mode, so dropout stays on at
    inference while the other layers (BatchNorm, ...) behave as in eval. Returns the model;
    `model.eval()` undoes it."""
    model.eval()
    for module in model.modules():
        if isinstance(module, _DropoutNd):
            module.training = True
    return model
