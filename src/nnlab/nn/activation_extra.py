"""More activation modules: thin wrappers around `nn.functional` with PyTorch's names,
arguments and `repr`s (`Mish`, `Hardswish`, `Hardsigmoid`, `SELU`, `CELU`, `RReLU`,
`ReLU6`, `Threshold`, `Tanhshrink`, `Softshrink`, `Hardshrink`, `GLU`, `LogSigmoid`,
`Softmin`, `Softmax2d`)."""
from . import functional as F
from .activation import Hardtanh, _Elementwise, _inplace, _OverDim, _WithInplace
from .module import Module


class _QuietInplace(_WithInplace):
    """An activation with `inplace` that torch does not print (Mish, Hardswish,
    Hardsigmoid)."""

    def extra_repr(self):
        return ""


class Mish(_QuietInplace):
    """x tanh(softplus(x))."""
    fn = staticmethod(F.mish)


class Hardswish(_QuietInplace):
    """x relu6(x + 3) / 6."""
    fn = staticmethod(F.hardswish)


class Hardsigmoid(_QuietInplace):
    """relu6(x + 3) / 6."""
    fn = staticmethod(F.hardsigmoid)


class SELU(_WithInplace):
    """scale * elu(x, alpha) with SELU's fixed alpha and scale (self-normalising)."""
    fn = staticmethod(F.selu)


class ReLU6(Hardtanh):
    """min(max(x, 0), 6): Hardtanh(0, 6)."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class CELU(Module):
    """max(0, x) + min(0, alpha (e^(x / alpha) - 1))."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        return F.celu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}{_inplace(self.inplace)}"


class RReLU(Module):
    """Randomized leaky ReLU: a slope drawn from U(lower, upper) per element in training,
    the mean slope (lower + upper) / 2 in eval."""

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        self.lower = lower
        self.upper = upper
        self.inplace = inplace

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}{_inplace(self.inplace)}"


class Threshold(Module):
    """x where x > threshold, else value."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}{_inplace(self.inplace)}"


class Tanhshrink(_Elementwise):
    """x - tanh(x)."""
    fn = staticmethod(F.tanhshrink)


class LogSigmoid(_Elementwise):
    """log(sigmoid(x))."""
    fn = staticmethod(F.logsigmoid)


class Softshrink(Module):
    """x -+ lambd outside [-lambd, lambd], 0 inside."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.softshrink(input, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Hardshrink(Softshrink):
    """x outside [-lambd, lambd], 0 inside."""

    def forward(self, input):
        return F.hardshrink(input, self.lambd)


class GLU(Module):
    """a * sigmoid(b) for the halves a, b of the input along `dim`."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmin(_OverDim):
    """softmin over `dim`: softmax(-x)."""
    fn = staticmethod(F.softmin)


class Softmax2d(Module):
    """softmax over the channels of (N, C, H, W) or (C, H, W) at every position."""

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected an input of 3 or 4 dimensions ((C, H, W) or "
                             f"(N, C, H, W)), got shape {tuple(input.shape)}")
        return F.softmax(input, -3)
