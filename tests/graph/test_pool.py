"""Readouts: global add / mean / max pools against PyG, their gradients, an empty graph,
and invariance to the order of the nodes."""
import numpy as np
import pytest

import nnlab
from nnlab.graph.nn import global_add_pool, global_max_pool, global_mean_pool
from tests.graph.pyg_oracle import pyg, requires_pyg

POOLS = {"add": global_add_pool, "mean": global_mean_pool, "max": global_max_pool}
RNG = np.random.default_rng(0)
X = RNG.standard_normal((9, 4))
BATCH = np.array([0, 0, 0, 1, 1, 3, 3, 3, 3])   # graph 2 is empty


@requires_pyg
@pytest.mark.parametrize("name", sorted(POOLS))
def test_pool_matches_pyg(name):
    import torch
    x, tx = nnlab.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    for batch, size in ((BATCH, None), (BATCH, 5), (None, None)):
        nb = None if batch is None else nnlab.tensor(batch)
        tb = None if batch is None else torch.tensor(batch)
        ours = POOLS[name](x, nb, size)
        theirs = getattr(pyg, f"global_{name}_pool")(tx, tb, size)
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(),
                                   rtol=1e-12)
        v = RNG.standard_normal(tuple(theirs.shape))
        (ours * nnlab.tensor(v)).sum().backward()
        (theirs * torch.tensor(v)).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(POOLS))
def test_pool_is_invariant_to_node_order(name):
    perm = np.random.default_rng(1).permutation(9)
    out = POOLS[name](nnlab.tensor(X), nnlab.tensor(BATCH)).numpy()
    permuted = POOLS[name](nnlab.tensor(X[perm]), nnlab.tensor(BATCH[perm])).numpy()
    np.testing.assert_allclose(permuted, out, rtol=1e-12)
    np.testing.assert_array_equal(out[2], 0.0)
