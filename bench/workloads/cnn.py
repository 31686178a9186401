"""Training steps of convolutional networks with Adam: forward, loss, backward and the
optimiser's update, float32. The nnlab side uses `nnlab.models`; the torch twin is built
from `torch.nn` with the same module names, so the nnlab model's initial state_dict loads
into it unchanged and both sides start from the same weights."""
import functools
import types

import numpy as np

from ..registry import Workload, register
from .training import TrainStep


def _mean_loss(output, _target):
    """mean(output): a scalar that sends the gradient 1 / output.size to every output."""
    return output.mean()


@functools.cache
def torch_models():
    """The torch twins of nnlab's LeNet5 and CifarResNet, with the same module names (so
    the same state_dict keys), defined on first use so that torch is imported only then:
    `LeNet5(num_classes, in_channels)` and `CifarResNet(depth, num_classes, in_channels)`."""
    import torch
    nn = torch.nn

    class LeNet5(nn.Module):
        """(N, C, 28, 28) -> (N, num_classes), as nnlab.models.LeNet5()."""

        def __init__(self, num_classes=10, in_channels=1):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(in_channels, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
                nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2, 2))
            self.classifier = nn.Sequential(
                nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                nn.Linear(84, num_classes))

        def forward(self, x):
            return self.classifier(self.features(x).flatten(1))  # (N, 400) -> (N, classes)

    class BasicBlock(nn.Module):
        """relu(shortcut(x) + bn2(conv2(relu(bn1(conv1(x)))))); the shortcut is a 1x1 conv
        + BN (`downsample`) when the shape changes, else the identity."""

        def __init__(self, inplanes, planes, stride=1):
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = None
            if stride != 1 or inplanes != planes:
                self.downsample = nn.Sequential(
                    nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + (x if self.downsample is None else self.downsample(x)))

    class CifarResNet(nn.Module):
        """conv1/bn1/relu, layer1..3 of (depth - 2) / 6 BasicBlocks (16, 32, 64 channels,
        stride 1, 2, 2), avgpool, fc: (N, C, H, W) -> (N, num_classes)."""

        def __init__(self, depth, num_classes=10, in_channels=3):
            super().__init__()
            n = (depth - 2) // 6
            self.conv1 = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(16)
            self.relu = nn.ReLU(inplace=True)
            stages, inplanes = [], 16
            for planes, stride in ((16, 1), (32, 2), (64, 2)):
                blocks = [BasicBlock(inplanes, planes, stride)]
                blocks += [BasicBlock(planes, planes) for _ in range(1, n)]
                stages.append(nn.Sequential(*blocks))
                inplanes = planes
            self.layer1, self.layer2, self.layer3 = stages
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(64, num_classes)

        def forward(self, x):
            x = self.relu(self.bn1(self.conv1(x)))  # (N, 16, H, W)
            x = self.layer3(self.layer2(self.layer1(x)))  # (N, 64, H/4, W/4)
            return self.fc(self.avgpool(x).flatten(1))  # (N, 64) -> (N, num_classes)

    return types.SimpleNamespace(LeNet5=LeNet5, BasicBlock=BasicBlock,
                                 CifarResNet=CifarResNet)


class ModelTraining(Workload):
    """A model trained by Adam (lr 1e-3) on a fixed random batch `input_shape()` with random
    class targets (cross-entropy) or, with `classify = False`, on loss = mean(output).
    Subclasses give `nnlab_model()` and `torch_model(torch)` with equal state_dict keys."""

    classify = True
    num_classes = 10

    def input_shape(self):
        raise NotImplementedError

    def nnlab_model(self):
        raise NotImplementedError

    def torch_model(self, torch):
        raise NotImplementedError

    def initial_state(self):
        """The nnlab model's state_dict after its own seeded initialisation, as arrays."""
        import nnlab
        nnlab.manual_seed(self.seed)
        return {k: np.array(v._data) for k, v in self.nnlab_model().state_dict().items()}

    def build(self, lib, model):
        rng = self.rng()
        model.load_state_dict({k: lib.tensor(v) for k, v in self.initial_state().items()})
        shape = self.input_shape()
        x = lib.tensor(rng.standard_normal(shape, dtype=np.float32))
        if self.classify:
            y = lib.tensor(rng.integers(0, self.num_classes, shape[0]))
            loss_fn = lib.nn.CrossEntropyLoss()
        else:
            y, loss_fn = None, _mean_loss
        optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)
        return TrainStep(model, loss_fn, optimizer, x, y)

    def setup_nnlab(self):
        import nnlab
        return self.build(nnlab, self.nnlab_model())

    def setup_torch(self):
        import torch
        return self.build(torch, self.torch_model(torch))


@register
class LeNet5Training(ModelTraining):
    name = "lenet5-28x28-b64"
    description = "LeNet-5 (ReLU, max pool) on 28x28x1, batch 64, cross-entropy, Adam step"
    target = 1.2

    def input_shape(self):
        return (4 if self.small else 64, 1, 28, 28)

    def nnlab_model(self):
        from nnlab import models
        return models.LeNet5()

    def torch_model(self, torch):
        return torch_models().LeNet5()


@register
class CifarResNetTraining(ModelTraining):
    name = "cifar-resnet-b32"
    description = ("CIFAR ResNet-14 (3 stages of 2 BasicBlocks, 16/32/64 ch, BatchNorm) on "
                   "32x32x3, batch 32, cross-entropy, Adam step")
    target = 1.5

    @property
    def depth(self):
        return 8 if self.small else 14

    def input_shape(self):
        return (4, 3, 8, 8) if self.small else (32, 3, 32, 32)

    def nnlab_model(self):
        from nnlab import models
        return models.cifar_resnet(self.depth)

    def torch_model(self, torch):
        return torch_models().CifarResNet(self.depth)


@register
class Conv2dTraining(ModelTraining):
    name = "conv2d-64-3x3-32x32-b32"
    description = "Conv2d 64->64 3x3 pad 1 on (32, 64, 32, 32), loss = mean, Adam step"
    target = 1.3
    classify = False

    @property
    def channels(self):
        return 4 if self.small else 64

    def input_shape(self):
        return (2, self.channels, 8, 8) if self.small else (32, self.channels, 32, 32)

    def nnlab_model(self):
        from nnlab import nn
        return nn.Conv2d(self.channels, self.channels, 3, padding=1)

    def torch_model(self, torch):
        return torch.nn.Conv2d(self.channels, self.channels, 3, padding=1)
