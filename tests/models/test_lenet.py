"""models.LeNet5: layout, parameter count, PyTorch parity through state_dict, errors."""
from collections import OrderedDict

import numpy as np
import pytest

import nnlab
from nnlab import models
from nnlab.nn.utils import count_parameters
from tests.helpers import requires_torch, torch


def torch_lenet(num_classes=10, in_channels=1, activation="relu", pool="max"):
    """The same network from torch.nn, with LeNet5's module names."""
    T = torch.nn
    act = {"relu": T.ReLU, "tanh": T.Tanh}[activation]
    pool_layer = {"max": T.MaxPool2d, "avg": T.AvgPool2d}[pool]
    return T.Sequential(OrderedDict(
        features=T.Sequential(T.Conv2d(in_channels, 6, 5, padding=2), act(), pool_layer(2),
                              T.Conv2d(6, 16, 5), act(), pool_layer(2)),
        flatten=T.Flatten(),
        classifier=T.Sequential(T.Linear(400, 120), act(), T.Linear(120, 84), act(),
                                T.Linear(84, num_classes))))


def test_lenet_shapes_and_names():
    model = models.LeNet5()
    assert model(nnlab.randn(3, 1, 28, 28)).shape == (3, 10)
    assert count_parameters(model) == 61_706
    assert list(model.state_dict()) == [
        "features.0.weight", "features.0.bias", "features.3.weight", "features.3.bias",
        "classifier.0.weight", "classifier.0.bias", "classifier.2.weight",
        "classifier.2.bias", "classifier.4.weight", "classifier.4.bias"]
    rgb = models.LeNet5(num_classes=5, in_channels=3)
    assert rgb(nnlab.randn(2, 3, 28, 28)).shape == (2, 5)
    assert count_parameters(rgb) == 61_706 + 2 * 6 * 25 - 5 * 85


@requires_torch
@pytest.mark.parametrize("activation, pool", [("relu", "max"), ("tanh", "avg")])
def test_lenet_matches_its_torch_twin(activation, pool):
    torch.manual_seed(0)
    twin = torch_lenet(activation=activation, pool=pool).double()
    model = models.LeNet5(activation=activation, pool=pool).double()
    assert count_parameters(model) == sum(p.numel() for p in twin.parameters()) == 61_706
    model.load_state_dict({k: v.numpy() for k, v in twin.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 1, 28, 28))
    out, tout = model(nnlab.tensor(x)), twin(torch.tensor(x))
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    v = np.random.default_rng(1).standard_normal(out.shape)
    (out * nnlab.tensor(v)).sum().backward()
    (tout * torch.tensor(v)).sum().backward()
    params = dict(model.named_parameters())
    for name, p in twin.named_parameters():
        np.testing.assert_allclose(params[name].grad.numpy(), p.grad.numpy(), rtol=1e-9,
                                   atol=1e-12, err_msg=name)


def test_lenet_errors():
    with pytest.raises(ValueError, match="LeNet5: unknown activation 'sigmoid'"):
        models.LeNet5(activation="sigmoid")
    with pytest.raises(ValueError, match="LeNet5: unknown pool 'lp'"):
        models.LeNet5(pool="lp")
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\), got \(2, 1, 32, 32\)"):
        models.LeNet5()(nnlab.randn(2, 1, 32, 32))
