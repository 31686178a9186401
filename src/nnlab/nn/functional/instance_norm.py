"""Normalisation within each sample and channel, with PyTorch's names and defaults:
`instance_norm` and `local_response_norm`.

instance_norm normalises each (sample, channel) slice of (N, C, *) over the positions *:
it is batch_norm of the input viewed as (1, N C, *), as torch computes it. The running
statistics (shape (C,)), when given, are updated with the mean over the batch of each
instance's statistics:

    running = (1 - momentum) running + momentum mean_n(stat[n, c])

local_response_norm divides each element by a power of the mean square of its
neighbours across channels (AlexNet's normalisation):

    y[n, c] = x[n, c] / (k + alpha / size sum_{c' in window(c)} x[n, c']^2)^beta

with the window c - size//2 ... c + (size - 1)//2, zero-padded at the edges.
"""
import math

from ...autograd import grad_mode
from ...ops import pad, reshape, tile
from .normalization import batch_norm


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Instance normalisation of (N, C, *) over *; weight, bias and the running statistics
    have shape (C,). use_input_stats=False normalises with the running statistics."""
    op = "instance_norm"
    if input.ndim < 3:
        raise ValueError(f"{op}: expected an input of shape (N, C, *) with at least one "
                         f"position dimension, got shape {tuple(input.shape)}")
    n, c = input.shape[:2]
    if use_input_stats and math.prod(input.shape[2:]) == 1:
        raise ValueError(f"{op}: Expected more than 1 spatial element when training, got "
                         f"input size {list(input.shape)}")
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (c,):
            raise RuntimeError(f"{op}: {name} has shape {tuple(t.shape)}, but the input "
                               f"(shape {tuple(input.shape)}) has {c} channels in dimension 1")
    stats = [None if t is None else tile(t.detach(), (n,)) for t in (running_mean, running_var)]
    affine = [None if t is None else tile(t, (n,)) for t in (weight, bias)]  # (N C,)
    out = batch_norm(reshape(input, (1, n * c) + tuple(input.shape[2:])), *stats, *affine,
                     training=use_input_stats, momentum=momentum, eps=eps)
    if use_input_stats:
        with grad_mode.no_grad():
            for running, copies in zip((running_mean, running_var), stats):
                if running is not None:
                    running.copy_(reshape(copies, (n, c)).mean(0))
    return reshape(out, tuple(input.shape))


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """x / (k + alpha * mean of x^2 over a window of `size` channels)^beta, for (N, C, *)."""
    if input.ndim < 3:
        raise ValueError(f"local_response_norm: Expected 3D or higher dimensionality input "
                         f"(got {input.ndim} dimensions)")
    if input.numel() == 0:
        return input
    c = input.shape[1]
    flat = reshape(input * input, (input.shape[0], c, -1))                # (N, C, L)
    padded = pad(flat, (0, 0, size // 2, (size - 1) // 2))                # zeros at the edges
    window = sum(padded[:, i:i + c] for i in range(size))                 # (N, C, L)
    div = (reshape(window, tuple(input.shape)) * (alpha / size) + k) ** beta
    return input / div
