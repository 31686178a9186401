"""models.resnet: torchvision's layout and parameter counts, state_dict parity with a torch
twin (eval logits; training-mode outputs and gradients for the CIFAR net), initialisation,
the plain variant, errors."""
import math

import numpy as np
import pytest

import nnlab
from nnlab import models
from nnlab.nn.utils import count_parameters
from tests.helpers import requires_torch, torch

_TorchModule = torch.nn.Module if torch is not None else object  # the twin needs torch


class TorchBlock(_TorchModule):
    """torchvision's BasicBlock (bottleneck=False) or Bottleneck, written from torch.nn."""

    def __init__(self, inplanes, planes, stride, bottleneck, residual=True, groups=1,
                 base_width=64, dilation=1):
        super().__init__()
        T = torch.nn
        expansion = 4 if bottleneck else 1
        conv = lambda cin, cout, k, s=1, g=1, d=1: T.Conv2d(cin, cout, k, s, padding=d * (k // 2),
                                                            groups=g, dilation=d, bias=False)
        if bottleneck:
            width = int(planes * base_width / 64) * groups
            self.conv1, self.bn1 = conv(inplanes, width, 1), T.BatchNorm2d(width)
            self.conv2, self.bn2 = conv(width, width, 3, stride, groups, dilation), T.BatchNorm2d(
                width)
            self.conv3, self.bn3 = conv(width, planes * 4, 1), T.BatchNorm2d(planes * 4)
        else:
            self.conv1, self.bn1 = conv(inplanes, planes, 3, stride), T.BatchNorm2d(planes)
            self.conv2, self.bn2 = conv(planes, planes, 3), T.BatchNorm2d(planes)
        self.relu = T.ReLU()
        self.residual = residual
        self.downsample = None
        if residual and (stride != 1 or inplanes != planes * expansion):
            self.downsample = T.Sequential(conv(inplanes, planes * expansion, 1, stride),
                                           T.BatchNorm2d(planes * expansion))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if hasattr(self, "conv3"):
            out = self.bn3(self.conv3(self.relu(out)))
        if self.residual:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class TorchResNet(_TorchModule):
    """torchvision's ResNet (cifar=False) or the 6n+2 CIFAR net (cifar=True: 3x3 stem of 16,
    no maxpool, stages of 16/32/64), built from TorchBlock; plain drops the shortcuts."""

    def __init__(self, layers, bottleneck=False, num_classes=1000, cifar=False, plain=False,
                 groups=1, width_per_group=64, dilate=(False, False, False)):
        super().__init__()
        T = torch.nn
        widths = (16, 32, 64) if cifar else (64, 128, 256, 512)
        if cifar:
            self.conv1 = T.Conv2d(3, 16, 3, padding=1, bias=False)
        else:
            self.conv1 = T.Conv2d(3, 64, 7, 2, padding=3, bias=False)
        self.bn1, self.relu = T.BatchNorm2d(widths[0]), T.ReLU()
        self.maxpool = T.Identity() if cifar else T.MaxPool2d(3, 2, padding=1)
        inplanes, dilation, expansion = widths[0], 1, 4 if bottleneck else 1
        for i, (planes, n) in enumerate(zip(widths, layers)):
            stride, previous = (1 if i == 0 else 2), dilation
            if i and dilate[i - 1]:
                dilation, stride = dilation * stride, 1
            blocks = []
            for j in range(n):
                blocks.append(TorchBlock(inplanes, planes, stride if j == 0 else 1, bottleneck,
                                         not plain, groups, width_per_group,
                                         previous if j == 0 else dilation))
                inplanes = planes * expansion
            setattr(self, f"layer{i + 1}", T.Sequential(*blocks))
        self.avgpool = T.AdaptiveAvgPool2d(1)
        self.fc = T.Linear(inplanes, num_classes)
        self.stages = len(widths)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(1, self.stages + 1):
            x = getattr(self, f"layer{i}")(x)
        return self.fc(self.avgpool(x).flatten(1))


def _randomise_batch_norms(twin):
    """BN statistics and affine parameters away from 1 / 0, so eval-mode parity tests them."""
    with torch.no_grad():
        for m in twin.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)


def _load_from(model, twin):
    model.load_state_dict({k: v.detach().numpy() for k, v in twin.state_dict().items()})


def _layout(module):
    return [(k, tuple(v.shape)) for k, v in module.state_dict().items()]


COUNTS = [  # (nnlab builder, twin arguments, parameters)
    (lambda: models.resnet18(), dict(layers=[2, 2, 2, 2]), 11_689_512),
    (lambda: models.resnet34(), dict(layers=[3, 4, 6, 3]), 21_797_672),
    (lambda: models.resnet50(), dict(layers=[3, 4, 6, 3], bottleneck=True), 25_557_032),
    (lambda: models.cifar_resnet(20), dict(layers=[3, 3, 3], num_classes=10, cifar=True),
     272_474),
    (lambda: models.cifar_plain_net(20),
     dict(layers=[3, 3, 3], num_classes=10, cifar=True, plain=True), 269_722),
]


@requires_torch
@pytest.mark.parametrize("build, twin_args, count", COUNTS,
                         ids=["resnet18", "resnet34", "resnet50", "cifar20", "plain20"])
def test_parameter_counts_and_state_dict_layout(build, twin_args, count):
    model, twin = build(), TorchResNet(**twin_args)
    assert count_parameters(model) == sum(p.numel() for p in twin.parameters()) == count
    assert _layout(model) == _layout(twin)


@requires_torch
@pytest.mark.parametrize("build, twin_args, size", [
    (lambda: models.resnet18(num_classes=7), dict(layers=[2, 2, 2, 2], num_classes=7), 64),
    (lambda: models.ResNet(models.Bottleneck, [1, 1, 1, 1], num_classes=5),
     dict(layers=[1, 1, 1, 1], bottleneck=True, num_classes=5), 32),
    (lambda: models.ResNet(models.Bottleneck, [1, 1, 1, 1], num_classes=5, groups=2,
                           width_per_group=32, replace_stride_with_dilation=[False, True, True]),
     dict(layers=[1, 1, 1, 1], bottleneck=True, num_classes=5, groups=2, width_per_group=32,
          dilate=(False, True, True)), 32),
], ids=["resnet18", "bottleneck", "grouped-dilated"])
def test_torchvision_state_dict_gives_the_same_logits(build, twin_args, size):
    torch.manual_seed(0)
    twin = TorchResNet(**twin_args).eval()
    _randomise_batch_norms(twin)
    model = build()
    _load_from(model, twin)
    model.eval()
    x = np.random.default_rng(0).standard_normal((2, 3, size, size)).astype(np.float32)
    out = model(nnlab.tensor(x)).detach().numpy()
    with torch.no_grad():
        expected = twin(torch.tensor(x)).numpy()
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


@requires_torch
@pytest.mark.parametrize("plain", [False, True], ids=["residual", "plain"])
def test_cifar_net_trains_as_its_torch_twin(plain):
    torch.manual_seed(0)
    twin = TorchResNet([1, 1, 1], num_classes=10, cifar=True, plain=plain).double()
    model = models.cifar_resnet(8, plain=plain).double()
    _load_from(model, twin)
    x = np.random.default_rng(0).standard_normal((4, 3, 16, 16))
    out, tout = model(nnlab.tensor(x)), twin(torch.tensor(x))
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-9,
                               atol=1e-10)
    v = np.random.default_rng(1).standard_normal(out.shape)
    (out * nnlab.tensor(v)).sum().backward()
    (tout * torch.tensor(v)).sum().backward()
    params = dict(model.named_parameters())
    names = ["conv1.weight", "layer1.0.bn1.weight", "layer2.0.conv1.weight",
             "layer3.0.bn2.bias", "fc.weight", "fc.bias"]
    names += [] if plain else ["layer2.0.downsample.0.weight", "layer3.0.downsample.1.weight"]
    for name in names:
        np.testing.assert_allclose(params[name].grad.numpy(),
                                   twin.get_parameter(name).grad.numpy(), rtol=1e-8,
                                   atol=1e-10, err_msg=name)
    buffers = dict(model.named_buffers())
    for name in ["bn1.running_mean", "layer3.0.bn2.running_var"]:
        np.testing.assert_allclose(buffers[name].numpy(), twin.get_buffer(name).numpy(),
                                   rtol=1e-9, err_msg=name)


def test_initialisation_is_torchvisions():
    nnlab.manual_seed(0)
    value = lambda p: p.detach().numpy()
    model = models.ResNet(models.BasicBlock, [1, 1, 1, 1], num_classes=10,
                          zero_init_residual=True)
    w = value(model.layer1[0].conv1.weight)  # (64, 64, 3, 3): fan_out = 64 * 9
    assert abs(w.std() / math.sqrt(2 / (64 * 9)) - 1) < 0.03 and abs(w.mean()) < 1e-3
    assert (value(model.bn1.weight) == 1).all() and (value(model.bn1.bias) == 0).all()
    assert (value(model.layer1[0].bn1.weight) == 1).all()
    assert all((value(stage[0].bn2.weight) == 0).all()
               for stage in (model.layer1, model.layer2, model.layer3, model.layer4))
    deep = models.ResNet(models.Bottleneck, [1, 1, 1, 1], num_classes=10,
                         zero_init_residual=True)
    assert (value(deep.layer4[0].bn3.weight) == 0).all()
    assert (value(deep.layer4[0].bn2.weight) == 1).all()


def test_cifar_shapes_and_plain_layout():
    model = models.cifar_resnet(8, num_classes=3)
    assert model(nnlab.randn(2, 3, 32, 32)).shape == (2, 3)
    assert [k for k in model.state_dict() if "downsample" in k][:2] == [
        "layer2.0.downsample.0.weight", "layer2.0.downsample.1.weight"]
    plain = models.cifar_plain_net(8)
    assert not any("downsample" in k for k in plain.state_dict())
    assert plain(nnlab.randn(1, 3, 32, 32)).shape == (1, 10)
    assert list(plain.state_dict()) == [k for k in model.state_dict() if "downsample" not in k]


@pytest.mark.parametrize("depth", [7, 2, 21, 20.0])
def test_cifar_depth_must_be_6n_plus_2(depth):
    with pytest.raises(ValueError, match=r"depth must be 6n \+ 2 .* 8, 14, 20, 32, .*got "):
        models.cifar_resnet(depth)


def test_resnet_argument_errors():
    with pytest.raises(ValueError, match="BasicBlock only supports groups=1"):
        models.resnet18(groups=2)
    with pytest.raises(ValueError, match="4 stages"):
        models.ResNet(models.BasicBlock, [2, 2, 2])
    with pytest.raises(ValueError, match="replace_stride_with_dilation"):
        models.resnet50(replace_stride_with_dilation=[True])
