"""Shared helpers: one nnlab distribution and its torch twin on the same float64
parameters; values and parameter gradients compared."""
import numpy as np
import pytest

import nnlab
from tests.helpers import torch

TOL = dict(rtol=1e-9, atol=1e-11)


def pair(params, grad=True):
    """The same numpy parameters as nnlab and as torch tensors (float arrays require grad)."""
    if torch is None:
        pytest.skip("torch, the test oracle, is not installed")
    ours, theirs = {}, {}
    for k, v in params.items():
        floating = isinstance(v, np.ndarray) and v.dtype.kind == "f"
        if isinstance(v, np.ndarray):
            ours[k] = nnlab.tensor(v, requires_grad=grad and floating)
            theirs[k] = torch.tensor(v, requires_grad=grad and floating)
        else:
            ours[k] = theirs[k] = v
    return ours, theirs


def assert_same(ours, theirs, ours_params, theirs_params, seed=0):
    """Values equal torch's, and so are the gradients of sum(out * v) to the parameters."""
    assert tuple(ours.shape) == tuple(theirs.shape), (ours.shape, theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), **TOL)
    if not theirs.requires_grad:
        return
    v = np.random.default_rng(seed).standard_normal(tuple(ours.shape))
    finite = np.isfinite(theirs.detach().numpy())
    v = np.where(finite, v, 0.0)
    mask_ours = nnlab.tensor(finite)
    (nnlab.where(mask_ours, ours, 0.0) * nnlab.tensor(v)).sum().backward()
    (torch.where(torch.tensor(finite), theirs, 0.0) * torch.tensor(v)).sum().backward()
    for k, p in ours_params.items():
        if isinstance(p, nnlab.Tensor) and p.requires_grad:
            tg = theirs_params[k].grad
            tg = np.zeros(p.shape) if tg is None else tg.numpy()
            g = np.zeros(p.shape) if p.grad is None else p.grad.numpy()
            np.testing.assert_allclose(g, tg, **TOL, err_msg=f"gradient to {k}")


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def positive(*shape, seed=0):
    return np.exp(0.5 * randn(*shape, seed=seed)) + 0.1
