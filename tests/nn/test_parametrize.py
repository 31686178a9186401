"""nn.utils.parametrize, parametrizations.weight_norm / spectral_norm, the older hook-based
nn.utils.weight_norm / spectral_norm, and parameters_to_vector / vector_to_parameters,
against torch: state_dict keys, values and gradients (torch's weights, and spectral
norm's u and v, copied in through the state_dict), the class swap, removal, errors."""
import numpy as np
import pytest

import nnlab
import nnlab.nn as nn
from nnlab.nn.utils import parametrizations, parametrize
from tests.helpers import randn, requires_torch, torch

pytestmark = [requires_torch,
              pytest.mark.filterwarnings("ignore:`torch.nn.utils.weight_norm` is deprecated")]

TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-6)}
TORCH_DTYPE = {np.float64: "float64", np.float32: "float32"}


def twins(kind, *args, dtype=np.float64):
    """An nnlab layer and a torch layer of the same kind holding torch's weights."""
    torch.manual_seed(0)
    torch_module = getattr(torch.nn, kind)(*args).to(getattr(torch, TORCH_DTYPE[dtype]))
    module = getattr(nn, kind)(*args).to(dtype)
    module.load_state_dict(torch_module.state_dict())
    return module, torch_module


def compare(module, torch_module, x, dtype=np.float64, steps=2):
    """Outputs, state (buffers updated by forward included) and parameter gradients equal,
    over `steps` forward/backward passes."""
    tol = TOL[dtype]
    for _ in range(steps):
        module.zero_grad()
        torch_module.zero_grad()
        out = module(nnlab.tensor(x.astype(dtype)))
        tout = torch_module(torch.tensor(x.astype(dtype)))
        np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), **tol)
        v = randn(*out.shape, seed=9).astype(dtype)
        (out * nnlab.tensor(v)).sum().backward()
        (tout * torch.tensor(v)).sum().backward()
        state, tstate = module.state_dict(), torch_module.state_dict()
        assert list(state) == list(tstate)
        for name, value in tstate.items():
            np.testing.assert_allclose(state[name].numpy(), value.numpy(), **tol, err_msg=name)
        tparams = dict(torch_module.named_parameters())
        for name, p in module.named_parameters():
            np.testing.assert_allclose(p.grad.numpy(), tparams[name].grad.numpy(), **tol,
                                       err_msg=f"gradient of {name}")


# -- register_parametrization ------------------------------------------------------------
class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)


class TorchSymmetric(torch.nn.Module if torch else object):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)


class Scale(nn.Module):
    def forward(self, X):
        return X * 2

    def right_inverse(self, X):
        return X / 2


class TorchScale(torch.nn.Module if torch else object):
    def forward(self, X):
        return X * 2

    def right_inverse(self, X):
        return X / 2


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_register_parametrization_as_torch(dtype):
    module, torch_module = twins("Linear", 4, 4, dtype=dtype)
    parametrize.register_parametrization(module, "weight", Symmetric())
    parametrize.register_parametrization(module, "weight", Scale())
    torch.nn.utils.parametrize.register_parametrization(torch_module, "weight", TorchSymmetric())
    torch.nn.utils.parametrize.register_parametrization(torch_module, "weight", TorchScale())
    assert type(module).__name__ == "ParametrizedLinear" and isinstance(module, nn.Linear)
    assert parametrize.type_before_parametrizations(module) is nn.Linear
    assert list(module.state_dict()) == ["bias", "parametrizations.weight.original"]
    assert parametrize.is_parametrized(module) and parametrize.is_parametrized(module, "weight")
    assert not parametrize.is_parametrized(module, "bias")
    compare(module, torch_module, randn(3, 4), dtype)
    w = module.weight.detach().numpy()
    np.testing.assert_allclose(w, w.T)
    assert repr(module) == repr(torch_module).replace("TorchSymmetric", "Symmetric").replace(
        "TorchScale", "Scale")


def test_assigning_a_parametrized_tensor_stores_its_right_inverse():
    module = nn.Linear(3, 3)
    original = module.weight
    parametrize.register_parametrization(module, "weight", Scale())
    assert module.parametrizations.weight.original is original   # optimisers keep it
    value = randn(3, 3, seed=1)
    module.weight = nnlab.tensor(value.astype(np.float32))
    np.testing.assert_allclose(module.parametrizations.weight.original.detach().numpy(),
                               value / 2, rtol=1e-6)
    np.testing.assert_allclose(module.weight.detach().numpy(), value, rtol=1e-6)


@pytest.mark.parametrize("leave_parametrized", [True, False])
def test_remove_parametrizations(leave_parametrized):
    module = nn.Linear(3, 3)
    weight = module.weight.detach().numpy().copy()
    parametrize.register_parametrization(module, "weight", Scale())
    parametrize.remove_parametrizations(module, "weight", leave_parametrized)
    assert type(module) is nn.Linear and not hasattr(module, "parametrizations")
    assert list(module.state_dict()) == ["bias", "weight"]
    assert isinstance(module.weight, nn.Parameter)
    expected = weight if leave_parametrized else weight / 2
    np.testing.assert_allclose(module.weight.detach().numpy(), expected, rtol=1e-6)


def test_parametrized_buffer_and_cached():
    module = nn.BatchNorm1d(3)
    parametrize.register_parametrization(module, "running_var", Scale())
    assert "parametrizations.running_var.original" in module.state_dict()
    assert "parametrizations.running_var.original" in dict(module.named_buffers())
    with parametrize.cached():
        assert module.running_var is module.running_var
    assert module.running_var is not module.running_var


def test_parametrization_errors():
    class Flatten(nn.Module):
        def forward(self, X):
            return X.reshape(-1)

    with pytest.raises(ValueError, match="may not change the dtype or the shape"):
        parametrize.register_parametrization(nn.Linear(2, 2), "weight", Flatten())
    parametrize.register_parametrization(nn.Linear(2, 2), "weight", Flatten(), unsafe=True)
    with pytest.raises(ValueError, match="does not have a parameter, a buffer"):
        parametrize.register_parametrization(nn.Linear(2, 2), "gain", Scale())
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        parametrize.remove_parametrizations(nn.Linear(2, 2), "weight")
    module = parametrizations.weight_norm(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="sequence of tensors"):
        parametrize.remove_parametrizations(module, "weight", leave_parametrized=False)


# -- parametrizations.weight_norm and spectral_norm --------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind, args, x, dim", [
    ("Linear", (5, 4), randn(3, 5), 0),
    ("Linear", (5, 4), randn(3, 5), 1),
    ("Linear", (5, 4), randn(3, 5), None),
    ("Conv2d", (2, 3, 2), randn(2, 2, 4, 4), 0),
    ("Conv2d", (2, 3, 2), randn(2, 2, 4, 4), 2),
    ("Conv1d", (2, 3, 2), randn(2, 2, 5), -2),
])
def test_weight_norm_parametrization_as_torch(kind, args, x, dim, dtype):
    module, torch_module = twins(kind, *args, dtype=dtype)
    parametrizations.weight_norm(module, dim=dim)
    torch.nn.utils.parametrizations.weight_norm(torch_module, dim=dim)
    assert list(module.state_dict()) == ["bias", "parametrizations.weight.original0",
                                         "parametrizations.weight.original1"]
    compare(module, torch_module, x, dtype)
    parametrize.remove_parametrizations(module, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(torch_module, "weight")
    np.testing.assert_allclose(module.weight.detach().numpy(),
                               torch_module.weight.detach().numpy(), **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind, args, x, kwargs", [
    ("Linear", (5, 4), randn(3, 5), {}),
    ("Linear", (5, 4), randn(3, 5), dict(dim=1, n_power_iterations=3)),
    ("Conv2d", (2, 3, 2), randn(2, 2, 4, 4), dict(eps=1e-6)),
    ("ConvTranspose2d", (3, 2, 2), randn(2, 3, 3, 3), {}),
])
def test_spectral_norm_parametrization_as_torch(kind, args, x, kwargs, dtype):
    module, torch_module = twins(kind, *args, dtype=dtype)
    parametrizations.spectral_norm(module, **kwargs)
    torch.nn.utils.parametrizations.spectral_norm(torch_module, **kwargs)
    assert list(module.state_dict()) == [
        "bias", "parametrizations.weight.original", "parametrizations.weight.0._u",
        "parametrizations.weight.0._v"]
    module.load_state_dict(torch_module.state_dict())   # torch's random u and v
    compare(module, torch_module, x, dtype)              # training: u, v advance
    module.eval()
    torch_module.eval()
    compare(module, torch_module, x, dtype, steps=1)     # eval: u, v fixed


def test_spectral_norm_divides_by_the_largest_singular_value():
    nnlab.manual_seed(0)
    module = parametrizations.spectral_norm(nn.Linear(6, 4).double())
    for _ in range(200):
        module(nnlab.ones(1, 6, dtype=nnlab.float64))
    np.testing.assert_allclose(np.linalg.norm(module.weight.detach().numpy(), 2), 1.0,
                               rtol=1e-8)


def test_spectral_norm_of_a_vector_normalises_it():
    module = nn.Module()
    module.gain = nn.Parameter(nnlab.tensor([3.0, 4.0]))
    parametrizations.spectral_norm(module, "gain")
    np.testing.assert_allclose(module.gain.detach().numpy(), [0.6, 0.8], rtol=1e-6)


def test_spectral_norm_errors():
    with pytest.raises(ValueError, match="n_power_iterations to be positive"):
        parametrizations.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        parametrizations.spectral_norm(nn.Linear(2, 2), dim=2)
    with pytest.raises(ValueError, match="has no parameter or buffer with name 'kernel'"):
        parametrizations.spectral_norm(nn.Linear(2, 2), "kernel")


# -- the older hook-based forms ------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("dim", [0, 1, None])
def test_old_weight_norm_as_torch(dim, dtype):
    module, torch_module = twins("Conv1d", 2, 3, 2, dtype=dtype)
    nn.utils.weight_norm(module, dim=dim)
    torch.nn.utils.weight_norm(torch_module, dim=dim)
    assert list(module.state_dict()) == ["bias", "weight_g", "weight_v"]
    compare(module, torch_module, randn(2, 2, 5), dtype)
    nn.utils.remove_weight_norm(module)
    torch.nn.utils.remove_weight_norm(torch_module)
    assert list(module.state_dict()) == list(torch_module.state_dict()) == ["bias", "weight"]
    assert isinstance(module.weight, nn.Parameter) and not module._forward_pre_hooks
    compare(module, torch_module, randn(2, 2, 5), dtype, steps=1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind, args, x, kwargs", [
    ("Linear", (5, 4), randn(3, 5), {}),
    ("Conv2d", (2, 3, 2), randn(2, 2, 4, 4), dict(n_power_iterations=2, dim=1)),
    ("ConvTranspose1d", (3, 2, 2), randn(2, 3, 4), {}),
])
def test_old_spectral_norm_as_torch(kind, args, x, kwargs, dtype):
    module, torch_module = twins(kind, *args, dtype=dtype)
    nn.utils.spectral_norm(module, **kwargs)
    torch.nn.utils.spectral_norm(torch_module, **kwargs)
    assert list(module.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    module.load_state_dict(torch_module.state_dict())
    compare(module, torch_module, x, dtype)
    module.eval()
    torch_module.eval()
    compare(module, torch_module, x, dtype, steps=1)
    nn.utils.remove_spectral_norm(module)
    torch.nn.utils.remove_spectral_norm(torch_module)
    assert list(module.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(module.weight.detach().numpy(),
                               torch_module.weight.detach().numpy(), **TOL[dtype])


def test_old_forms_errors():
    module = nn.utils.weight_norm(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"):
        nn.utils.weight_norm(module)
    with pytest.raises(ValueError, match="weight_norm of 'bias' not found"):
        nn.utils.remove_weight_norm(module, "bias")
    module = nn.utils.spectral_norm(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks"):
        nn.utils.spectral_norm(module)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        nn.utils.remove_spectral_norm(nn.Linear(2, 2))


# -- parameters_to_vector / vector_to_parameters -----------------------------------------
def test_parameters_to_vector_and_back_as_torch():
    module, torch_module = twins("Linear", 3, 2)
    vec = nn.utils.parameters_to_vector(module.parameters())
    tvec = torch.nn.utils.parameters_to_vector(torch_module.parameters())
    np.testing.assert_array_equal(vec.detach().numpy(), tvec.detach().numpy())
    (vec * nnlab.arange(8, dtype=nnlab.float64)).sum().backward()
    np.testing.assert_array_equal(module.weight.grad.numpy(), np.arange(6.0).reshape(2, 3))
    new = randn(8, seed=3)
    nn.utils.vector_to_parameters(nnlab.tensor(new), module.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(new), torch_module.parameters())
    for (name, p), (_, tp) in zip(module.named_parameters(), torch_module.named_parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), tp.detach().numpy(), err_msg=name)
    with pytest.raises(ValueError, match="does not match the parameters' 8 elements"):
        nn.utils.vector_to_parameters(nnlab.zeros(7), module.parameters())
    with pytest.raises(TypeError, match="expected vec to be a Tensor"):
        nn.utils.vector_to_parameters(new, module.parameters())
