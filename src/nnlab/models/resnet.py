"""Residual networks (He et al. 2015, 2016): the ImageNet family with torchvision's layout,
and the 6n+2 CIFAR family with its plain (shortcut-free) twin.

A residual block learns a correction F to its input instead of a whole new mapping:

    x_{l+1} = relu(x_l + F(x_l))                    identity shortcut
    x_{l+1} = relu(P x_l + F(x_l))                  P = 1x1 conv (stride s) + BN, when the
                                                    shape changes (the `downsample`)
    BasicBlock:  F = bn2(conv3x3(relu(bn1(conv3x3_s(x)))))               expansion 1
    Bottleneck:  F = bn3(conv1x1(relu(bn2(conv3x3_s(relu(bn1(conv1x1(x))))))))
                 1x1 reduces to `width`, the 3x3 (which carries the stride, as torchvision's
                 "v1.5") works there, 1x1 expands to 4 * planes                expansion 4

Since dL/dx_l = dL/dx_{l+1} (1 + dF/dx_l) along the shortcut, the gradient reaches early
layers even when dF/dx is small; the plain network (x_{l+1} = relu(F(x_l))) lacks that path.

ImageNet ResNet, input (N, 3, H, W), e.g. 224 x 224:

    conv1 7x7/2, 64 -> bn1 -> relu -> maxpool 3x3/2     # (N, 64, H/4, W/4)
    layer1 .. layer4: blocks of 64, 128, 256, 512 planes, stride 2 from layer2 on
                                                        # (N, 512 e, H/32, W/32)
    avgpool (adaptive, 1x1) -> flatten -> fc           # (N, 512 e) -> (N, num_classes)

The module names (conv1, bn1, relu, maxpool, layer1..layer4, avgpool, fc; in a block
conv1, bn1, conv2, bn2, conv3, bn3, downsample.0 / .1) and the initialisation (kaiming
normal, fan_out, for every conv; BN weight 1, bias 0) are torchvision's, so a torchvision
state_dict converted to NumPy loads unchanged. resnet18 / 34 / 50 have 11,689,512 /
21,797,672 / 25,557,032 parameters.

CIFAR ResNet (He et al. 2016, section 4.2), depth 6n + 2, input (N, 3, 32, 32):

    conv1 3x3, 16 -> bn1 -> relu                        # (N, 16, 32, 32)
    layer1: n BasicBlocks, 16 channels                  # (N, 16, 32, 32)
    layer2: n BasicBlocks, 32 channels, stride 2        # (N, 32, 16, 16)
    layer3: n BasicBlocks, 64 channels, stride 2        # (N, 64, 8, 8)
    avgpool -> flatten -> fc                            # (N, 64) -> (N, num_classes)

Shortcuts that change shape are projections (the paper's option B: 1x1 conv + BN), so
cifar_resnet(20) has 272,474 parameters (the paper's 0.27M counts option A, zero padding:
269,722, which is also the plain net's count: it has no shortcuts at all).
"""
from .. import nn


def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1):
    """3x3 convolution with padding, no bias (a BN follows)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation,
                     groups=groups, bias=False, dilation=dilation)


def conv1x1(in_planes, out_planes, stride=1):
    """1x1 convolution, no bias (a BN follows)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convs: out = relu(shortcut(x) + bn2(conv2(relu(bn1(conv1(x)))))).

    (N, inplanes, H, W) -> (N, planes, H / stride, W / stride). shortcut is `downsample`
    when given, else the identity; residual=False drops it (a block of a plain net)."""

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None, *, residual=True):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError(f"BasicBlock only supports groups=1 and base_width=64, got "
                             f"groups={groups}, base_width={base_width}")
        if dilation > 1:
            raise NotImplementedError(f"BasicBlock: dilation > 1 is not supported, got "
                                      f"{dilation}")
        if downsample is not None and not residual:
            raise ValueError("BasicBlock: a block without a residual shortcut takes no "
                             "downsample")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride
        self.residual = residual

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.residual:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class Bottleneck(nn.Module):
    """1x1 -> 3x3 -> 1x1: out = relu(shortcut(x) + bn3(conv3(relu(bn2(conv2(relu(bn1(
    conv1(x))))))))), with width = planes * base_width / 64 * groups channels inside.

    (N, inplanes, H, W) -> (N, 4 planes, H / stride, W / stride); the stride is on the 3x3
    conv (torchvision's ResNet v1.5; the original put it on the first 1x1)."""

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


def _init_weights(model, zero_init_residual):
    """torchvision's: kaiming normal (fan_out, relu) for convs, BN weight 1 and bias 0;
    zero_init_residual zeroes each block's last BN weight, so every block starts as the
    identity (Goyal et al. 2017)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d) and m.weight is not None:
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)
    if zero_init_residual:
        for m in model.modules():
            last_bn = (m.bn3 if isinstance(m, Bottleneck) else
                       m.bn2 if isinstance(m, BasicBlock) else None)
            if last_bn is not None and last_bn.weight is not None:
                nn.init.constant_(last_bn.weight, 0)


class ResNet(nn.Module):
    """The ImageNet ResNet of torchvision: `block` (BasicBlock or Bottleneck) repeated
    layers[i] times in stage i; (N, 3, H, W) -> (N, num_classes).

    groups, width_per_group: the Bottleneck's grouped 3x3 (ResNeXt, wide ResNet);
    replace_stride_with_dilation: three bools, whether layer2..layer4 dilate instead of
    striding; norm_layer: a callable(num_channels) -> Module, BatchNorm2d by default."""

    def __init__(self, block, layers, num_classes=1000, zero_init_residual=False, groups=1,
                 width_per_group=64, replace_stride_with_dilation=None, norm_layer=None):
        super().__init__()
        if len(layers) != 4:
            raise ValueError(f"ResNet: layers should give the number of blocks of 4 stages, "
                             f"got {layers!r}")
        if replace_stride_with_dilation is None:
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError("ResNet: replace_stride_with_dilation should be None or a "
                             f"3-element tuple, got {replace_stride_with_dilation!r}")
        self._norm_layer = nn.BatchNorm2d if norm_layer is None else norm_layer
        self.inplanes = 64
        self.dilation = 1
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3,
                               bias=False)
        self.bn1 = self._norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2,
                                       dilate=replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2,
                                       dilate=replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2,
                                       dilate=replace_stride_with_dilation[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        _init_weights(self, zero_init_residual)

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        """A stage of `blocks` blocks; the first changes the shape (with a projection
        shortcut when it must), the rest keep it."""
        norm_layer = self._norm_layer
        downsample = None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       norm_layer(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.groups,
                        self.base_width, previous_dilation, norm_layer)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups,
                                base_width=self.base_width, dilation=self.dilation,
                                norm_layer=norm_layer))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))  # (N, 64, H/4, W/4)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))  # (N, 512 e, H/32, W/32)
        x = self.avgpool(x)  # (N, 512 e, 1, 1)
        x = x.flatten(1)  # (N, 512 e, 1, 1) -> (N, 512 e)
        return self.fc(x)  # (N, num_classes)


def resnet18(num_classes=1000, **kwargs):
    """ResNet-18: BasicBlock, [2, 2, 2, 2]; 11,689,512 parameters with 1000 classes."""
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes=num_classes, **kwargs)


def resnet34(num_classes=1000, **kwargs):
    """ResNet-34: BasicBlock, [3, 4, 6, 3]; 21,797,672 parameters with 1000 classes."""
    return ResNet(BasicBlock, [3, 4, 6, 3], num_classes=num_classes, **kwargs)


def resnet50(num_classes=1000, **kwargs):
    """ResNet-50: Bottleneck, [3, 4, 6, 3]; 25,557,032 parameters with 1000 classes."""
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes=num_classes, **kwargs)


class CifarResNet(nn.Module):
    """The 6n+2-layer CIFAR network of He et al. 2016: a 3x3 conv, three stages of n
    BasicBlocks (16, 32, 64 channels), global average pooling and a Linear;
    (N, in_channels, H, W) -> (N, num_classes), H = W = 32 for CIFAR.

    plain=True removes every shortcut (x_{l+1} = relu(F(x_l))), leaving the same layers
    and initialisation: the paper's plain baseline. Convs are initialised as in ResNet
    (kaiming normal, fan_out), BN with weight 1, bias 0, the Linear by its default."""

    def __init__(self, depth, num_classes=10, plain=False, in_channels=3):
        super().__init__()
        n = _blocks_per_stage(depth)
        self.depth, self.plain = depth, plain
        self.inplanes = 16
        self.conv1 = conv3x3(in_channels, 16)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(16, n, stride=1)
        self.layer2 = self._make_layer(32, n, stride=2)
        self.layer3 = self._make_layer(64, n, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(64, num_classes)
        _init_weights(self, zero_init_residual=False)

    def _make_layer(self, planes, blocks, stride):
        downsample = None
        if not self.plain and (stride != 1 or self.inplanes != planes):
            downsample = nn.Sequential(conv1x1(self.inplanes, planes, stride),
                                       nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample,
                             residual=not self.plain)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes, residual=not self.plain)
                   for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))  # (N, 16, H, W)
        x = self.layer3(self.layer2(self.layer1(x)))  # (N, 64, H/4, W/4)
        x = self.avgpool(x)  # (N, 64, 1, 1)
        x = x.flatten(1)  # (N, 64, 1, 1) -> (N, 64)
        return self.fc(x)  # (N, num_classes)


def _blocks_per_stage(depth):
    """n for depth = 6n + 2 (n >= 1), else a ValueError that says why."""
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
        raise ValueError(f"cifar_resnet: depth must be 6n + 2 for a whole n >= 1 (3 stages of "
                         f"n two-conv blocks, plus the first conv and the fc): 8, 14, 20, 32, "
                         f"44, 56, 110, ...; got {depth!r}")
    return (depth - 2) // 6


def cifar_resnet(depth, num_classes=10, plain=False):
    """The CIFAR ResNet of depth 6n + 2 (20, 32, 44, 56, 110, ...); plain=True drops the
    shortcuts (see cifar_plain_net)."""
    return CifarResNet(depth, num_classes=num_classes, plain=plain)


def cifar_plain_net(depth, num_classes=10):
    """The plain twin of cifar_resnet(depth): the same convs and BNs, no shortcuts."""
    return CifarResNet(depth, num_classes=num_classes, plain=True)
