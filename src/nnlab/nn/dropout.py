"""`Dropout` (inverted: scale 1 / (1 - p) in training, identity in eval) and Monte-Carlo
dropout.

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
from .functional.dropout import _check_p, dropout
from .module import Module


class Dropout(Module):
    """Zero each element with probability p in training and scale the rest by
    1 / (1 - p); the identity in eval mode."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        _check_p(p, "Dropout")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


def enable_mc_dropout(model):
    """Monte-Carlo dropout: put `model` in eval mode, then switch every `Dropout` in it
    back to training mode, so dropout stays on at inference while the other layers
    (BatchNorm, ...) behave as in eval. Returns the model; `model.eval()` undoes it."""
    model.eval()
    for module in model.modules():
        if isinstance(module, Dropout):
            module.training = True
    return model
