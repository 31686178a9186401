"""Small synthetic sets for demos and tests: (X float32, y) arrays, fixed by `seed` (an int,
a numpy Generator, or None for nnlab's global generator)."""
import numpy as np

from ..dataset import as_generator


def moons(n_samples=200, noise=0.1, seed=0):
    """Two interleaving half circles (as scikit-learn's make_moons, shuffled): X (N, 2)
    float32, y (N,) int64 in {0, 1}; Gaussian noise of std `noise` on each coordinate."""
    rng = as_generator(seed, "moons")
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    x = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        np.stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)], 1)])
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    x = x + noise * rng.standard_normal(x.shape)
    order = rng.permutation(n_samples)
    return x[order].astype(np.float32), y[order]


def spirals(n_samples=200, n_classes=2, noise=0.1, seed=0):
    """`n_classes` interleaved spiral arms (1.5 turns each, radius 0 to 1, arm k rotated by
    2 pi k / n_classes), shuffled: X (N, 2) float32, y (N,) int64; Gaussian noise of std
    `noise` on each coordinate. The arms share the samples as evenly as possible."""
    if n_classes < 1:
        raise ValueError(f"spirals: n_classes must be at least 1, got {n_classes}")
    rng = as_generator(seed, "spirals")
    count = n_samples // n_classes + (np.arange(n_classes) < n_samples % n_classes)
    y = np.repeat(np.arange(n_classes, dtype=np.int64), count)
    start = np.cumsum(count) - count
    r = (np.arange(n_samples) - start[y]) / np.maximum(count[y] - 1, 1)   # along the arm, 0-1
    theta = 3 * np.pi * r + 2 * np.pi * y / n_classes
    x = np.stack([r * np.cos(theta), r * np.sin(theta)], 1)
    x = x + noise * rng.standard_normal(x.shape)
    order = rng.permutation(n_samples)
    return x[order].astype(np.float32), y[order]


def sine(n_samples=200, noise=0.1, seed=0):
    """Regression: x uniform on [-pi, pi], y = sin(x) + Gaussian noise of std `noise`; both
    float32 of shape (N, 1)."""
    rng = as_generator(seed, "sine")
    x = rng.uniform(-np.pi, np.pi, (n_samples, 1))
    y = np.sin(x) + noise * rng.standard_normal((n_samples, 1))
    return x.astype(np.float32), y.astype(np.float32)
