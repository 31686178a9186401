"""Convolution layers with PyTorch's arguments, parameter shapes and initialisation:

    Conv{1,2,3}d         weight (C_out, C_in / groups, *kernel_size), bias (C_out,)
    ConvTranspose{1,2}d  weight (C_in, C_out / groups, *kernel_size), bias (C_out,)

both initialised as torch: weight ~ kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(fan_in),
1/sqrt(fan_in)) and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = weight.shape[1] *
prod(kernel_size). `padding_mode` 'reflect', 'replicate' or 'circular' pads the input
with `F.pad` first and convolves without padding; 'zeros' pads inside im2col.

Output size per spatial axis (n in, k kernel, s stride, p padding, d dilation):
    conv            floor((n + 2p - d (k - 1) - 1) / s) + 1
    transposed      (n - 1) s - 2p + d (k - 1) + output_padding + 1
"""
import math

from .. import ops
from . import functional as F
from . import init
from .functional.conv import _conv_transposend, _convnd, _padding_pairs
from .module import Module
from .parameter import Parameter

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(value, n):
    return (value,) * n if isinstance(value, int) else tuple(value)


class _ConvNd(Module):
    """What every convolution layer shares: arguments, parameters, initialisation, repr."""

    _nd = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", output_padding=0,
                 device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must both be divisible by groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got "
                             f"{padding_mode!r}")
        if isinstance(padding, str) and padding not in ("same", "valid"):
            raise ValueError(f"{name}: padding must be an int, a tuple, 'same' or 'valid', "
                             f"got {padding!r}")
        n = self._nd
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = _ntuple(kernel_size, n), _ntuple(stride, n)
        self.padding = padding if isinstance(padding, str) else _ntuple(padding, n)
        self.dilation, self.groups = _ntuple(dilation, n), groups
        self.output_padding = _ntuple(output_padding, n)
        self.transposed, self.padding_mode = self._transposed, padding_mode
        if padding == "same" and any(s != 1 for s in self.stride):
            raise ValueError(f"{name}: padding='same' is not supported for strided "
                             f"convolutions (stride {self.stride})")
        shape = ((in_channels, out_channels // groups) if self._transposed
                 else (out_channels, in_channels // groups)) + self.kernel_size
        factory = dict(device=device, dtype=dtype)
        self.weight = Parameter(ops.empty(*shape, **factory))
        self.bias = Parameter(ops.empty(out_channels, **factory)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # = U(-1/sqrt(fan_in), ...)
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def _name(self):
        return f"{type(self).__name__}({self.in_channels}, {self.out_channels})"

    def _check_input(self, input):
        name = self._name()
        nd = self._nd
        if input.ndim not in (nd + 1, nd + 2):
            raise ValueError(f"{name}: expected a {nd + 2}-D (N, C, *spatial) or {nd + 1}-D "
                             f"unbatched input, got shape {tuple(input.shape)}")
        channels = input.shape[-nd - 1]
        if channels != self.in_channels:
            raise ValueError(f"{name}: input of shape {tuple(input.shape)} has {channels} "
                             f"channels, expected in_channels={self.in_channels}")

    def extra_repr(self):
        n = self._nd
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", device=None,
                 dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, 0, device, dtype)

    def forward(self, input):
        self._check_input(input)
        padding = self.padding
        if self.padding_mode != "zeros":
            pairs = _padding_pairs(type(self).__name__, padding, self.kernel_size,
                                   self.dilation, self.stride, self._nd)
            pads = tuple(p for pair in reversed(pairs) for p in pair)  # last axis first
            input = F.pad(input, pads, mode=self.padding_mode)
            padding = 0
        return _convnd(input, self.weight, self.bias, self.stride, padding, self.dilation,
                       self.groups, self._nd, self._name())


class Conv1d(_Conv):
    """(N, C_in, L) -> (N, C_out, L_out)."""
    _nd = 1


class Conv2d(_Conv):
    """(N, C_in, H, W) -> (N, C_out, H_out, W_out)."""
    _nd = 2


class Conv3d(_Conv):
    """(N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out)."""
    _nd = 3


class _ConvTranspose(_ConvNd):
    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f"{type(self).__name__}: only padding_mode='zeros' is supported "
                             f"for transposed convolutions, got {padding_mode!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, device, dtype)

    def forward(self, input, output_size=None):
        self._check_input(input)
        output_padding = self.output_padding
        if output_size is not None:
            output_padding = self._output_padding(input, output_size)
        return _conv_transposend(input, self.weight, self.bias, self.stride, self.padding,
                                 output_padding, self.groups, self.dilation, self._nd,
                                 self._name())

    def _output_padding(self, input, output_size):
        """The output_padding that gives `output_size` (the trailing spatial sizes)."""
        nd = self._nd
        output_size = tuple(output_size)[-nd:]
        spatial = tuple(input.shape[-nd:])
        smallest = tuple((n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in zip(
            spatial, self.stride, self.padding, self.dilation, self.kernel_size))
        extra = tuple(o - m for o, m in zip(output_size, smallest))
        if any(not 0 <= e < s for e, s in zip(extra, self.stride)):
            raise ValueError(f"{type(self).__name__}: requested output_size {output_size} "
                             f"for input of shape {tuple(input.shape)}; the sizes that can "
                             f"be reached are {smallest} plus less than stride {self.stride}")
        return extra


class ConvTranspose1d(_ConvTranspose):
    """(N, C_in, L) -> (N, C_out, L_out)."""
    _nd = 1


class ConvTranspose2d(_ConvTranspose):
    """(N, C_in, H, W) -> (N, C_out, H_out, W_out)."""
    _nd = 2
