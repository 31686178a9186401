"""Shared test helpers: one two-sided check per op.

`check_op(nn_fn, torch_fn, *args)` runs the op in nnlab and in torch on the same inputs
and compares values and the gradients of sum(output * v) for a random v (float64 to
1e-10, float32 to 1e-5 relative). `check_grad(nn_fn, *args)` runs gradcheck and
gradgradcheck in float64. In `args`, float arrays become tensors that require grad,
integer and bool arrays become tensors that do not, anything else is passed as it is.
"""
import numpy as np
import pytest

import nnlab
from nnlab.autograd import gradcheck, gradgradcheck

try:
    import torch
except ImportError:  # pragma: no cover - CI installs it
    torch = None

requires_torch = pytest.mark.skipif(
    torch is None, reason="torch, the test oracle, is not installed (pip install torch==2.13.0)")

TOLERANCES = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-6)}


def _is_float_array(a):
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def to_nnlab(args, dtype, requires_grad=True):
    return [nnlab.tensor(a.astype(dtype) if _is_float_array(a) else a,
                         requires_grad=requires_grad and _is_float_array(a))
            if isinstance(a, np.ndarray) else a for a in args]


def to_torch(args, dtype, requires_grad=True):
    return [torch.tensor(a.astype(dtype) if _is_float_array(a) else a,
                         requires_grad=requires_grad and _is_float_array(a))
            if isinstance(a, np.ndarray) else a for a in args]


def _outputs(out):
    if isinstance(out, (tuple, list)):
        return list(out)
    return [out]


def check_op(nn_fn, torch_fn, *args, dtype=np.float64, grad=True, rtol=None, atol=None,
             seed=0):
    """Values and gradients of nn_fn equal torch_fn's on the same inputs."""
    if torch is None:
        pytest.skip("torch, the test oracle, is not installed")
    tol = dict(TOLERANCES[np.dtype(dtype).type])
    if rtol is not None:
        tol["rtol"] = rtol
    if atol is not None:
        tol["atol"] = atol
    xs = to_nnlab(args, dtype, grad)
    ts = to_torch(args, dtype, grad)
    outs = _outputs(nn_fn(*xs))
    touts = _outputs(torch_fn(*ts))
    assert len(outs) == len(touts), f"{len(outs)} outputs, torch gives {len(touts)}"
    for k, (o, t) in enumerate(zip(outs, touts)):
        assert tuple(o.shape) == tuple(t.shape), f"output {k}: shape {o.shape} vs torch {t.shape}"
        assert o.dtype == np.dtype(str(t.dtype).replace("torch.", "")), \
            f"output {k}: dtype {o.dtype} vs torch {t.dtype}"
        np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), **tol,
                                   err_msg=f"output {k} differs from torch")
    if not grad:
        return
    rng = np.random.default_rng(seed)
    loss, tloss = 0, 0
    for o, t in zip(outs, touts):
        if o.dtype.kind == "f" and t.requires_grad:
            v = rng.standard_normal(o.shape).astype(dtype)
            loss = loss + (o * nnlab.tensor(v)).sum()
            tloss = tloss + (t * torch.tensor(v)).sum()
    if not isinstance(loss, nnlab.Tensor):
        return
    loss.backward()
    tloss.backward()
    for i, (x, t) in enumerate(zip(xs, ts)):
        if isinstance(x, nnlab.Tensor) and x.requires_grad:
            tg = t.grad if t.grad is not None else torch.zeros_like(t)
            assert x.grad is not None, f"input {i}: no gradient, torch has one"
            np.testing.assert_allclose(x.grad.numpy(), tg.numpy(), **tol,
                                       err_msg=f"gradient of input {i} differs from torch")


def check_grad(nn_fn, *args, second_order=True, eps=1e-6, atol=1e-5, rtol=1e-3):
    """gradcheck (and gradgradcheck) of nn_fn in float64."""
    xs = to_nnlab(args, np.float64)
    assert gradcheck(nn_fn, tuple(xs), eps=eps, atol=atol, rtol=rtol)
    if second_order:
        assert gradgradcheck(nn_fn, tuple(xs), eps=eps, atol=atol, rtol=rtol)


def randn(*shape, seed=0, low=None):
    """A float64 array of standard normals; with `low`, |x| >= low (away from kinks)."""
    x = np.random.default_rng(seed).standard_normal(shape)
    if low is not None:
        x = np.where(np.abs(x) < low, np.sign(x + 1e-12) * low, x) if x.ndim else (
            np.array(low if abs(x) < low else x))
    return np.asarray(x)


def peak_bytes(fn):
    """The most memory Python allocations held while `fn()` ran (tracemalloc's peak)."""
    import tracemalloc
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
