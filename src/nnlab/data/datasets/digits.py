"""scikit-learn's bundled 8x8 digits (real data, no network) and a seeded hold-out split."""
import numpy as np

from ..dataset import as_generator


def digits(root=None):
    """(X, y): 1,797 handwritten 8x8 digits, X float32 of shape (N, 64) scaled to [0, 1]
    (the raw pixels are 0-16), y int64 in 0-9. The data ships with scikit-learn, so `root`
    is accepted for the loaders' common signature and not used."""
    from sklearn.datasets import load_digits
    x, y = load_digits(return_X_y=True)
    return (x / 16).astype(np.float32), y.astype(np.int64)


def holdout_split(*arrays, held_out=0.2, seed=0):
    """((train arrays), (held-out arrays)): the rows of `arrays` (same first dimension)
    split at random, fixed by `seed` (an int or a numpy Generator). `held_out` is a fraction
    in (0, 1) or a count of rows.

        (x_train, y_train), (x_val, y_val) = holdout_split(*digits(), held_out=0.2, seed=0)
    """
    if not arrays:
        raise ValueError("holdout_split: expected at least one array")
    n = len(arrays[0])
    for i, a in enumerate(arrays):
        if len(a) != n:
            raise ValueError(f"holdout_split: array {i} has {len(a)} rows, array 0 has {n}")
    if isinstance(held_out, float):
        if not 0 < held_out < 1:
            raise ValueError(f"holdout_split: held_out fraction {held_out} is not in (0, 1)")
        k = int(round(n * held_out))
    else:
        k = int(held_out)
        if not 0 <= k <= n:
            raise ValueError(f"holdout_split: held_out count {k} is not in [0, {n}]")
    order = as_generator(seed, "holdout_split").permutation(n)
    train, held = order[:n - k], order[n - k:]
    return tuple(a[train] for a in arrays), tuple(a[held] for a in arrays)
