"""Module's torch surface beside the state_dict: half / float / double / type,
get_parameter / get_buffer / get_submodule, apply's order, named_modules,
requires_grad_, non-persistent buffers, add_module / register_module; each against torch
on the same model."""
import numpy as np
import pytest

import nnlab
import nnlab.nn as nn
from tests.helpers import requires_torch, torch

pytestmark = requires_torch


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
        self.head = nn.Linear(4, 2)
        self.register_buffer("scale", nnlab.ones(2))
        self.register_buffer("cache", nnlab.zeros(2), persistent=False)


class TorchNet(torch.nn.Module if torch else object):
    def __init__(self):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
        self.head = torch.nn.Linear(4, 2)
        self.register_buffer("scale", torch.ones(2))
        self.register_buffer("cache", torch.zeros(2), persistent=False)


def dtypes(module):
    return {name: str(t.dtype).replace("torch.", "") for name, t in
            list(module.named_parameters()) + list(module.named_buffers())}


@pytest.mark.parametrize("method, args, torch_args", [
    ("half", (), ()),
    ("double", (), ()),
    ("float", (), ()),
    ("type", (nnlab.float64,), (torch.float64,) if torch else ()),
    ("type", ("torch.DoubleTensor",), ("torch.DoubleTensor",)),
])
def test_conversions_as_torch(method, args, torch_args):
    net, torch_net = Net().double(), TorchNet().double()
    assert getattr(net, method)(*args) is net
    getattr(torch_net, method)(*torch_args)
    assert dtypes(net) == dtypes(torch_net)
    if method == "type":   # integer buffers too, as torch
        assert dtypes(net)["body.1.num_batches_tracked"] == "float64"


def test_half_keeps_the_parameter_objects_and_their_gradients():
    net = Net()
    weight = net.head.weight
    net.head(nnlab.ones(1, 4)).sum().backward()
    net.half()
    assert net.head.weight is weight and weight.dtype == np.float16
    assert weight.grad.dtype == np.float16


def test_get_parameter_and_get_buffer_as_torch():
    net, torch_net = Net(), TorchNet()
    assert net.get_parameter("body.0.weight") is net.body[0].weight
    assert net.get_buffer("body.1.running_mean") is net.body[1].running_mean
    assert net.get_buffer("cache") is net.cache
    for target, method in [("head.gain", "get_parameter"), ("body.1.running_mean",
                                                            "get_parameter"),
                           ("head.weight", "get_buffer"), ("head.gain", "get_buffer")]:
        with pytest.raises(AttributeError) as expected:
            getattr(torch_net, method)(target)
        with pytest.raises(AttributeError) as got:
            getattr(net, method)(target)
        assert str(got.value) == str(expected.value)
    with pytest.raises(AttributeError, match="has no submodule 'tail'"):
        net.get_parameter("tail.weight")


def test_walks_and_apply_order_as_torch():
    net, torch_net = Net(), TorchNet()
    assert [n for n, _ in net.named_modules()] == [n for n, _ in torch_net.named_modules()]
    assert [n for n, _ in net.named_buffers()] == [n for n, _ in torch_net.named_buffers()]
    assert list(net.state_dict()) == list(torch_net.state_dict())   # cache is not in it
    assert "cache" not in net.state_dict()
    order, torch_order = [], []
    net.apply(lambda m: order.append(type(m).__name__))
    torch_net.apply(lambda m: torch_order.append(type(m).__name__))
    assert order == [name.replace("TorchNet", "Net") for name in torch_order]
    assert net.get_submodule("body.1") is net.body[1] and net.get_submodule("") is net


def test_requires_grad_and_registration_as_torch():
    net = Net()
    assert net.requires_grad_(False) is net
    assert not any(p.requires_grad for p in net.parameters())
    net.requires_grad_()
    assert all(p.requires_grad for p in net.parameters())
    extra = nn.Linear(2, 2)
    net.add_module("tail", extra)
    net.register_module("tail2", nn.Identity())
    assert net.tail is extra and [n for n, _ in net.named_children()][-2:] == ["tail", "tail2"]
    assert "tail.weight" in net.state_dict()
    with pytest.raises(KeyError, match="module name can"):
        net.add_module("a.b", nn.Identity())
    with pytest.raises(TypeError, match="is not a Module subclass"):
        net.add_module("c", 3)
