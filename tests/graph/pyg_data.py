"""Helpers for the graph data tests: the PyG oracle (skipped with a reason when absent),
conversions both ways, and random edge lists."""
import numpy as np
import pytest

import nnlab

try:
    import torch
    import torch_geometric
except ImportError:  # pragma: no cover - CI installs them
    torch = torch_geometric = None

requires_pyg = pytest.mark.skipif(
    torch_geometric is None, reason="torch_geometric, the test oracle, is not installed "
                                    "(pip install torch_geometric==2.8.0)")


def T(a):
    """numpy -> nnlab Tensor."""
    return nnlab.Tensor(np.asarray(a))


def P(a):
    """numpy -> torch tensor."""
    return torch.from_numpy(np.array(a))


def N(t):
    """nnlab Tensor / torch tensor / array -> numpy."""
    if isinstance(t, nnlab.Tensor):
        return t.detach().numpy()
    if torch is not None and isinstance(t, torch.Tensor):
        return t.detach().numpy()
    return np.asarray(t)


def assert_same(a, b):
    """Equal values, shapes and dtypes (nnlab vs torch)."""
    a, b = N(a), N(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    np.testing.assert_array_equal(a, b)


def random_edges(n, e, seed=0, loops=True, dup=True):
    """(2, e) int64 edges on n nodes (fewer without loops). With `dup` the last e // 5
    repeat the first ones (the rest may repeat by chance); without, all are distinct."""
    rng = np.random.default_rng(seed)
    if dup:
        ei = rng.integers(0, n, size=(2, e))
        k = e // 5
        if k:
            ei[:, e - k:] = ei[:, :k]
    else:
        pick = rng.choice(n * n, size=e, replace=False)
        ei = np.stack([pick // n, pick % n])
    if not loops:
        ei = ei[:, ei[0] != ei[1]]
    return ei.astype(np.int64)
