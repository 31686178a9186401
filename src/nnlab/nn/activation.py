"""Activation modules: thin wrappers around `nn.functional`, with PyTorch's names,
arguments, parameters (PReLU.weight) and `repr`s; plus `SwiGLU`, the gated feed-forward
block of modern LLMs.

`inplace=True` (ReLU, LeakyReLU, ELU, SiLU, Hardtanh, Mish, SELU, CELU, ...) writes the
result into the input's memory, as PyTorch does, under torch's in-place rule
(autograd/tensor.py, `_inplace`)."""
from .. import ops
from . import functional as F
from .attention import MultiheadAttention  # noqa: F401  (torch.nn.modules.activation's)
from .linear import Linear
from .module import Module
from .parameter import Parameter


class _Elementwise(Module):
    """An activation without parameters or options: forward is `fn(input)`."""

    fn = None

    def forward(self, input):
        return type(self).fn(input)


class Sigmoid(_Elementwise):
    """sigmoid(x) = 1 / (1 + e^-x)."""
    fn = staticmethod(F.sigmoid)


class Tanh(_Elementwise):
    """tanh(x)."""
    fn = staticmethod(F.tanh)


class Softsign(_Elementwise):
    """x / (1 + |x|)."""
    fn = staticmethod(F.softsign)


class Arctan(_Elementwise):
    """atan(x) (no PyTorch module; torch.atan as a layer)."""
    fn = staticmethod(F.arctan)


def _inplace(inplace):
    return ", inplace=True" if inplace else ""


class _WithInplace(_Elementwise):
    """An activation whose only option is `inplace` (the result overwrites the input)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return type(self).fn(input, inplace=self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class ReLU(_WithInplace):
    """max(x, 0)."""
    fn = staticmethod(F.relu)


class SiLU(_WithInplace):
    """x sigmoid(x)."""
    fn = staticmethod(F.silu)


class LeakyReLU(Module):
    """x where x > 0, else negative_slope * x."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}{_inplace(self.inplace)}"


class PReLU(Module):
    """x where x > 0, else a x, with a learnable `weight` a of shape (num_parameters,):
    one slope shared by all channels, or one per channel (dim 1 of the input)."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(ops.full((num_parameters,), float(init), dtype=dtype,
                                         device=device))

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class ELU(Module):
    """x where x > 0, else alpha (e^x - 1)."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}{_inplace(self.inplace)}"


class GELU(Module):
    """x Phi(x) with the exact normal CDF (approximate='none', via erf) or its tanh
    approximation (approximate='tanh')."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got "
                             f"{approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Swish(Module):
    """x sigmoid(beta x). With learnable=True, beta is a 0-d Parameter named `beta`
    (initialised to the given value), trained with the rest of the model."""

    def __init__(self, beta=1.0, learnable=False):
        super().__init__()
        self.learnable = learnable
        self.beta = Parameter(ops.tensor(float(beta))) if learnable else float(beta)

    def forward(self, input):
        return F.swish(input, self.beta)

    def extra_repr(self):
        beta = self.beta.item() if self.learnable else self.beta
        return f"beta={beta}, learnable={self.learnable}"


class Softplus(Module):
    """log(1 + e^(beta x)) / beta, linear (x) where beta x > threshold."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """clamp(x, min_val, max_val)."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) cannot be greater than max_val "
                             f"({max_val})")
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace(self.inplace)}"


class _OverDim(Module):
    """A normalisation over one dim: forward is `fn(input, dim)`."""

    fn = None

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return type(self).fn(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(_OverDim):
    """softmax over `dim` (None: PyTorch's legacy implicit dim, see F.softmax)."""
    fn = staticmethod(F.softmax)


class LogSoftmax(_OverDim):
    """log_softmax over `dim` (None: PyTorch's legacy implicit dim, see F.softmax)."""
    fn = staticmethod(F.log_softmax)


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


class SwiGLU(Module):
    """The gated feed-forward block of LLaMA-style transformers:
        out = w2(silu(w1 x) * w3 x)
    with w1, w3: dim -> hidden (gate and value) and w2: hidden -> dim; input (*, dim) ->
    (*, dim). Without biases by default, as in those models."""

    def __init__(self, dim, hidden, bias=False, device=None, dtype=None):
        super().__init__()
        self.dim = dim
        self.hidden = hidden
        self.w1 = Linear(dim, hidden, bias=bias, device=device, dtype=dtype)
        self.w2 = Linear(hidden, dim, bias=bias, device=device, dtype=dtype)
        self.w3 = Linear(dim, hidden, bias=bias, device=device, dtype=dtype)

    def forward(self, input):
        return self.w2(F.silu(self.w1(input)) * self.w3(input))
