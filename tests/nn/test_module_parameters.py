"""`Parameter` against torch.nn.Parameter, and the gradients that a nested module and
tied parameters get against torch's."""
import copy

import numpy as np
import pytest

import nnlab
import nnlab.nn as nn
from tests.helpers import randn
from tests.nn.test_module import pair

torch = pytest.importorskip("torch")


# -- parameters ---------------------------------------------------------------------------
def test_parameter():
    p = nn.Parameter(nnlab.tensor([1.0, 2.0]))
    assert p.requires_grad and p.is_leaf and isinstance(p, nnlab.Tensor)
    assert not nn.Parameter(nnlab.zeros(2), requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    t = nnlab.zeros(3)
    assert np.shares_memory(nn.Parameter(t).data, t.data)
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(nnlab.zeros(2, dtype=nnlab.int64))


@pytest.mark.parametrize("data, kwargs", [
    ([1.0, 2.0], {}), ([[1.0, 2.0], [3.0, 4.0]], {"dtype": "float64"}), ([0.5], {}),
    (None, {}),
])
@pytest.mark.parametrize("requires_grad", [True, False])
def test_parameter_repr_matches_torch(data, kwargs, requires_grad):
    if data is None:
        n, t = nn.Parameter(), torch.nn.Parameter()
    else:
        n = nn.Parameter(nnlab.tensor(data, **kwargs), requires_grad=requires_grad)
        t = torch.nn.Parameter(torch.tensor(data, dtype=getattr(torch, kwargs.get(
            "dtype", "float32"))), requires_grad=requires_grad)
    assert repr(n) == repr(t).replace("torch.", "nnlab.")


def test_deepcopy_keeps_kinds_and_values():
    m = pair("Block", 3)[0]
    c = copy.deepcopy(m)
    assert all(type(p) is nn.Parameter and p.requires_grad for p in c.parameters())
    assert list(c.state_dict()) == list(m.state_dict())
    for (k, a), b in zip(m.state_dict().items(), c.state_dict().values()):
        assert not np.shares_memory(a.data, b.data), k
        np.testing.assert_array_equal(a.numpy(), b.numpy())


# -- forward and gradients through a nested structure -------------------------------------
def test_nested_forward_and_gradients_match_torch():
    nm, tm = pair("Net")
    x = randn(6, 5, seed=1)
    out, tout = nm(nnlab.tensor(x)), tm(torch.tensor(x))
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-10)
    (out ** 2).sum().backward()
    (tout ** 2).sum().backward()
    tgrads = dict(tm.named_parameters())
    for name, p in nm.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tgrads[name].grad.numpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=name)


def test_tied_parameters_accumulate_like_torch():
    nm, tm = pair("Tied")
    x = randn(4, 3, seed=2)
    nm(nnlab.tensor(x)).sum().backward()
    tm(torch.tensor(x)).sum().backward()
    for (name, p), tp in zip(nm.named_parameters(), tm.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-10, err_msg=name)
