"""Pooling layers: thin modules over `nn.functional.pooling` with PyTorch's names,
arguments (note the modules' order: return_indices before ceil_mode), stored attributes
and `repr`s. They hold no parameters; their errors name the layer."""
from .functional.pooling import (
    _adaptive_avg_pool,
    _adaptive_max_pool,
    _avg_pool,
    _max_pool,
    _max_unpool,
)
from .module import Module


def _single(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


class _MaxPoolNd(Module):
    nd = None

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input):
        return _max_pool(input, self.kernel_size, self.stride, self.padding, self.dilation,
                         self.ceil_mode, self.return_indices, self.nd, type(self).__name__)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
                f", dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """Max over windows: (N, C, L) or (C, L) -> (N, C, L_out), see F.max_pool1d."""
    nd = 1


class MaxPool2d(_MaxPoolNd):
    """Max over windows: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out), see
    F.max_pool2d."""
    nd = 2


class AvgPool1d(Module):
    """Mean over windows: (N, C, L) or (C, L) -> (N, C, L_out), see F.avg_pool1d. Its
    arguments are stored as 1-tuples, as torch."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):
        return _avg_pool(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                         self.count_include_pad, None, 1, "AvgPool1d")

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """Mean over windows: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out), see
    F.avg_pool2d."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        return _avg_pool(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                         self.count_include_pad, self.divisor_override, 2, "AvgPool2d")

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptivePoolNd(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePoolNd):
    """Mean over adaptive windows: (N, C, L) or (C, L) -> (N, C, output_size)."""

    def forward(self, input):
        return _adaptive_avg_pool(input, self.output_size, 1, "AdaptiveAvgPool1d")


class AdaptiveAvgPool2d(_AdaptivePoolNd):
    """Mean over adaptive windows: (N, C, H, W) or (C, H, W) -> (N, C, *output_size)."""

    def forward(self, input):
        return _adaptive_avg_pool(input, self.output_size, 2, "AdaptiveAvgPool2d")


class _AdaptiveMaxPoolNd(_AdaptivePoolNd):
    nd = None

    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        return _adaptive_max_pool(input, self.output_size, self.return_indices, self.nd,
                                  type(self).__name__)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max over adaptive windows: (N, C, L) or (C, L) -> (N, C, output_size)."""
    nd = 1


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max over adaptive windows: (N, C, H, W) or (C, H, W) -> (N, C, *output_size)."""
    nd = 2


class _MaxUnpoolNd(Module):
    nd, tuple_of = None, None

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = type(self).tuple_of(kernel_size)
        self.stride = type(self).tuple_of(stride if stride is not None else kernel_size)
        self.padding = type(self).tuple_of(padding)

    def forward(self, input, indices, output_size=None):
        return _max_unpool(input, indices, self.kernel_size, self.stride, self.padding,
                           output_size, self.nd, type(self).__name__)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """The partial inverse of MaxPool1d: forward(input, indices, output_size=None)."""
    nd, tuple_of = 1, staticmethod(_single)


class MaxUnpool2d(_MaxUnpoolNd):
    """The partial inverse of MaxPool2d: forward(input, indices, output_size=None)."""
    nd, tuple_of = 2, staticmethod(_pair)
