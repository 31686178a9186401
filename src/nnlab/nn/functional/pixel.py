"""Rearrangements of channels and pixels, with PyTorch's names: `pixel_shuffle`,
`pixel_unshuffle`, `channel_shuffle`. Each is a reshape, a permute and a reshape, so its
gradient is the inverse rearrangement.

    pixel_shuffle:   (*, C r^2, H, W) -> (*, C, H r, W r)
                     y[c, h r + i, w r + j] = x[c r^2 + i r + j, h, w]
    pixel_unshuffle: (*, C, H r, W r) -> (*, C r^2, H, W)   (the inverse)
    channel_shuffle: (N, g k, *) -> (N, k g, *): channel a k + b moves to b g + a
"""
from ...ops import permute, reshape


def _check_factor(op, name, factor):
    if isinstance(factor, bool) or not isinstance(factor, int) or factor <= 0:
        raise ValueError(f"{op}: {name} must be a positive integer, got {factor!r}")


def _check_ndim(op, input, least=3):
    if input.ndim < least:
        raise RuntimeError(f"{op}: expects input to have at least {least} dimensions, but got "
                           f"input with {input.ndim} dimension(s) (shape "
                           f"{tuple(input.shape)})")


def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r) with r = upscale_factor."""
    op, r = "pixel_shuffle", upscale_factor
    _check_factor(op, "upscale_factor", r)
    _check_ndim(op, input)
    *batch, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"{op}: expects its input's 'channel' dimension to be divisible by "
                           f"the square of upscale_factor, but input.size(-3)={c} is not "
                           f"divisible by {r * r}")
    b = len(batch)
    x = reshape(input, (*batch, c // (r * r), r, r, h, w))
    x = permute(x, (*range(b), b, b + 3, b + 1, b + 4, b + 2))  # (*, C, H, r, W, r)
    return reshape(x, (*batch, c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W) with r = downscale_factor."""
    op, r = "pixel_unshuffle", downscale_factor
    _check_factor(op, "downscale_factor", r)
    _check_ndim(op, input)
    *batch, c, h, w = input.shape
    for name, size, dim in (("height", h, -2), ("width", w, -1)):
        if size % r:
            raise RuntimeError(f"{op}: expects {name} to be divisible by downscale_factor, "
                               f"but input.size({dim})={size} is not divisible by {r}")
    b = len(batch)
    x = reshape(input, (*batch, c, h // r, r, w // r, r))
    x = permute(x, (*range(b), b, b + 2, b + 4, b + 1, b + 3))  # (*, C, r, r, H, W)
    return reshape(x, (*batch, c * r * r, h // r, w // r))


def channel_shuffle(input, groups):
    """(N, C, *) with C = groups k: the channels viewed as (groups, k), transposed to
    (k, groups) and flattened back (ShuffleNet's shuffle)."""
    op = "channel_shuffle"
    _check_factor(op, "groups", groups)
    _check_ndim(op, input)
    n, c, *rest = input.shape
    if c % groups:
        raise RuntimeError(f"{op}: Number of channels must be divisible by groups. Got {c} "
                           f"channels and {groups} groups.")
    x = reshape(input, (n, groups, c // groups, *rest))
    x = permute(x, (0, 2, 1, *range(3, x.ndim)))
    return reshape(x, (n, c, *rest))
