"""`Fold` and `Unfold`: the sliding-window layers around `F.fold` / `F.unfold` (im2col and
its adjoint col2im), with PyTorch's arguments and reprs."""
from . import functional as F
from .module import Module


class _SlidingWindow(Module):
    """The window options shared by Fold and Unfold (as F.fold / F.unfold take them)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(_SlidingWindow):
    """(N, C kh kw, L) -> (N, C, *output_size): columns summed back into the image."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__(kernel_size, dilation, padding, stride)
        self.output_size = output_size

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)

    def extra_repr(self):
        return f"output_size={self.output_size}, " + super().extra_repr()


class Unfold(_SlidingWindow):
    """(N, C, H, W) -> (N, C kh kw, L): each sliding window as a column."""

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)
