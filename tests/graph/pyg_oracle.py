"""Parity with PyTorch Geometric, the test-only oracle: one layer built twice (nnlab and
PyG, PyG's weights copied over), run on the same random graph, compared in outputs and in
the gradients of sum(out * v) with respect to every float input and every parameter."""
import numpy as np
import pytest

import nnlab
import nnlab.graph.nn as nng
import nnlab.nn as nnn

try:
    import torch
    import torch_geometric.nn as pyg
except ImportError:  # pragma: no cover - CI installs them
    torch = pyg = None

requires_pyg = pytest.mark.skipif(
    pyg is None, reason="torch_geometric, the test oracle, is not installed "
                        "(pip install torch_geometric==2.8.0)")


def random_graph(n=7, e=18, seed=0, loops=True):
    """(2, E) distinct edges on n nodes, node n - 1 isolated; some self-loops if `loops`."""
    rng = np.random.default_rng(seed)
    pairs = [(a, b) for a in range(n - 1) for b in range(n - 1) if loops or a != b]
    pick = rng.choice(len(pairs), size=e, replace=False)
    return np.array([pairs[k] for k in pick]).T.astype(np.int64)


def load_pyg_weights(module, torch_module):
    """Copy a PyG module's state_dict into the nnlab module (exact keys, strict)."""
    state = {k: nnlab.tensor(v.detach().numpy().copy())
             for k, v in torch_module.state_dict().items()}
    module.load_state_dict(state)


def _inputs(inputs, make, grad):
    """Arrays as tensors (float ones requiring grad), pairs of arrays as pairs of tensors."""
    def one(v):
        return make(v, grad and v.dtype.kind == "f") if isinstance(v, np.ndarray) else v
    return {k: tuple(one(p) for p in v) if isinstance(v, tuple) else one(v)
            for k, v in inputs.items()}


def _cast(v, dtype):
    if isinstance(v, tuple):
        return tuple(_cast(p, dtype) for p in v)
    return v.astype(dtype) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v


def check_parity(build, inputs, dtype=np.float64, fuse=None, train=False, out_index=None,
                 tol=None):
    """build(G, nn) makes the layer from a namespace of graph layers G and a torch-like nn;
    inputs maps forward's keyword arguments to numpy arrays (float ones require grad)."""
    if pyg is None:
        pytest.skip("torch_geometric is not installed")
    tol = tol or ({"rtol": 1e-9, "atol": 1e-11} if dtype == np.float64
                  else {"rtol": 1e-5, "atol": 1e-6})
    torch.manual_seed(0)
    tm = build(pyg, torch.nn)
    nm = build(nng, nnn)
    if dtype == np.float64:
        tm, nm = tm.double(), nm.double()
    load_pyg_weights(nm, tm)
    tm.train(train)
    nm.train(train)
    if fuse is not None:
        for m in nm.modules():
            if isinstance(m, nng.MessagePassing):
                m.fuse = fuse
    cast = {k: _cast(v, dtype) for k, v in inputs.items()}
    ti = _inputs(cast, lambda v, g: torch.tensor(v, requires_grad=g), True)
    ni = _inputs(cast, lambda v, g: nnlab.tensor(v, requires_grad=g), True)
    tout, nout = tm(**ti), nm(**ni)
    assert tuple(nout.shape) == tuple(tout.shape)
    assert nout.dtype == np.dtype(dtype)
    np.testing.assert_allclose(nout.detach().numpy(), tout.detach().numpy(), **tol,
                               err_msg="output differs from PyG")
    v = np.random.default_rng(1).standard_normal(tuple(tout.shape)).astype(dtype)
    (tout * torch.tensor(v)).sum().backward()
    (nout * nnlab.tensor(v)).sum().backward()
    checked = 0
    for k in ti:
        pairs = zip(ti[k], ni[k]) if isinstance(ti[k], tuple) else [(ti[k], ni[k])]
        for tv, nv in pairs:
            if isinstance(tv, torch.Tensor) and tv.requires_grad:
                np.testing.assert_allclose(nv.grad.numpy(), tv.grad.numpy(), **tol,
                                           err_msg=f"gradient of input {k} differs from PyG")
                checked += 1
    tparams = dict(tm.named_parameters())
    for name, p in nm.named_parameters():
        tg = tparams[name].grad
        expect = np.zeros(tuple(p.shape)) if tg is None else tg.numpy()
        got = np.zeros(tuple(p.shape)) if p.grad is None else p.grad.numpy()
        np.testing.assert_allclose(got, expect, **tol,
                                   err_msg=f"gradient of parameter {name} differs from PyG")
        checked += 1
    assert checked >= 2
    return nout
