"""Padding layers with PyTorch's names, arguments and `repr`s: `ZeroPad1d/2d/3d`,
`ConstantPad1d/2d/3d`, `ReflectionPad1d/2d/3d`, `ReplicationPad1d/2d/3d`,
`CircularPad1d/2d/3d`. Each holds `padding` as a tuple of (left, right) pairs from the
last dimension backwards (an int pads every side alike) and calls `F.pad`.

The Nd layers pad the last N dimensions of an input of N + 1 (unbatched) or N + 2
dimensions; ConstantPad and ZeroPad take any input with at least N dimensions, as torch.
"""
from ..ops import pad
from .module import Module


def _padding_tuple(name, padding, n):
    """An int as 2n equal pads; a sequence must have 2n entries."""
    if isinstance(padding, int):
        return (padding,) * (2 * n)
    padding = tuple(padding)
    if len(padding) != 2 * n or not all(isinstance(p, int) for p in padding):
        raise ValueError(f"{name}: padding must be an int or {2 * n} ints, got {padding!r}")
    return padding


class _PadNd(Module):
    """F.pad(input, padding, mode) over the last `_n` dimensions."""

    _n = 1
    _mode = "constant"

    def __init__(self, padding):
        super().__init__()
        self.padding = _padding_tuple(type(self).__name__, padding, self._n)

    def _check_input(self, input):
        if input.ndim not in (self._n + 1, self._n + 2):
            raise ValueError(f"{type(self).__name__}: expected a {self._n + 1}D or "
                             f"{self._n + 2}D (batched) input, got shape "
                             f"{tuple(input.shape)}")

    def forward(self, input):
        self._check_input(input)
        return pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def _check_input(self, input):
        if input.ndim < self._n:
            raise ValueError(f"{type(self).__name__}: expected an input of at least "
                             f"{self._n} dimensions, got shape {tuple(input.shape)}")

    def forward(self, input):
        self._check_input(input)
        return pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dimension with `value`."""
    _n = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dimensions with `value`."""
    _n = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dimensions with `value`."""
    _n = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Pad the last dimension with zeros."""
    _n = 1


class ZeroPad2d(_ZeroPadNd):
    """Pad the last two dimensions with zeros."""
    _n = 2


class ZeroPad3d(_ZeroPadNd):
    """Pad the last three dimensions with zeros."""
    _n = 3


class ReflectionPad1d(_PadNd):
    """Pad by reflecting about the edge (the edge not repeated): pads < size."""
    _n, _mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    _n, _mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    _n, _mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Pad by repeating the edge value."""
    _n, _mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    _n, _mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    _n, _mode = 3, "replicate"


class CircularPad1d(_PadNd):
    """Pad by wrapping around (periodic): pads <= size."""
    _n, _mode = 1, "circular"


class CircularPad2d(_PadNd):
    _n, _mode = 2, "circular"


class CircularPad3d(_PadNd):
    _n, _mode = 3, "circular"
