"""Images as grids: torchvision.utils' `make_grid` and `save_image`.

    make_grid(tensor (B, C, H, W) or (B, H, W), nrow=8, padding=2)
        -> (C, rows * (H + padding) + padding, nrow * (W + padding) + padding)

Images are laid out row by row, `nrow` to a row, each framed by `padding` pixels of
`pad_value`; one channel is repeated to three, as torchvision does. `normalize=True`
shifts and scales to [0, 1] by `value_range` (default: the tensor's own min and max).
"""
import numpy as np

from ..autograd.tensor import Tensor
from .io import atomic_write


def _array(images):
    data = images._data if isinstance(images, Tensor) else images
    return np.asarray(data.get() if hasattr(data, "get") else data, dtype=np.float32)


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False,
              pad_value=0.0):
    """One image (3 or C, H', W') of the images of `tensor` (B, C, H, W) or (B, H, W) laid
    out `nrow` to a row; a Tensor when given one, else an array."""
    images = _array(tensor)
    if images.ndim == 3:
        images = images[:, None]
    if images.ndim != 4 or images.shape[0] == 0:
        raise ValueError(f"make_grid: expected images (B, C, H, W) or (B, H, W) with B >= 1, "
                         f"got shape {tuple(_array(tensor).shape)}")
    if images.shape[1] == 1:
        images = np.repeat(images, 3, axis=1)
    if normalize:
        images = images.copy()
        groups = images if scale_each else images[None]
        for group in groups:
            low, high = value_range if value_range is not None else (group.min(), group.max())
            np.clip(group, low, high, out=group)
            group -= low
            group /= max(float(high - low), 1e-5)
    b, c, h, w = images.shape
    cols = min(nrow, b)
    rows = -(-b // cols)
    grid = np.full((c, rows * (h + padding) + padding, cols * (w + padding) + padding),
                   pad_value, np.float32)
    for k in range(b):
        top, left = padding + (k // cols) * (h + padding), padding + (k % cols) * (w + padding)
        grid[:, top:top + h, left:left + w] = images[k]
    return Tensor(grid) if isinstance(tensor, Tensor) else grid


def save_image(tensor, fp, nrow=8, padding=2, normalize=False, value_range=None,
               scale_each=False, pad_value=0.0, format=None):
    """Write `make_grid(tensor, ...)` (values in [0, 1], clipped) as a PNG at `fp`,
    atomically; a single image (C, H, W) is written as it is."""
    images = _array(tensor)
    if images.ndim == 3 and images.shape[0] in (1, 3):
        images = images[None]
    grid = make_grid(images, nrow, padding, normalize, value_range, scale_each, pad_value)
    pixels = (np.clip(grid, 0, 1) * 255 + 0.5).astype(np.uint8).transpose(1, 2, 0)
    from matplotlib.image import imsave
    atomic_write(fp, lambda f: imsave(f, pixels, format=format or "png"))
    return fp
