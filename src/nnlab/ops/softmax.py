"""`softmax` and `log_softmax` at the ops floor, so that `nnlab.softmax(x, dim)` and
`x.softmax(dim)` need no import from `nn.functional` (which sits above).

Both are compositions: softmax is shift-invariant, so the max over `dim` is subtracted
as a constant (no gradient through it) and e^(x - max) never overflows.
"""
from ..autograd.tensor import Tensor
from ..backend import get_default_dtype
from . import elementwise, reduce


def _prepare(input, dim, dtype, op):
    if not isinstance(input, Tensor):
        input = Tensor(input)
    if dtype is not None:
        input = input.to(dtype)
    elif input.dtype.kind != "f":
        input = input.to(get_default_dtype())
    if dim is None:   # torch's legacy implicit choice
        dim = 0 if input.ndim in (0, 1, 3) else 1
    bound = max(input.ndim, 1)
    if not -bound <= dim < bound:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor of {input.ndim} "
                         f"dimensions")
    return input, dim


def _shifted(input, dim):
    return input - reduce.amax(input.detach(), dim, keepdim=True)


def softmax(input, dim=None, dtype=None):
    """e^(x_i - m) / sum_j e^(x_j - m) over `dim` (m the max)."""
    input, dim = _prepare(input, dim, dtype, "softmax")
    e = elementwise.exp(_shifted(input, dim))
    return e / reduce.sum(e, dim, keepdim=True)


def log_softmax(input, dim=None, dtype=None):
    """(x_i - m) - log sum_j e^(x_j - m) over `dim` (m the max)."""
    input, dim = _prepare(input, dim, dtype, "log_softmax")
    shifted = _shifted(input, dim)
    return shifted - elementwise.log(reduce.sum(elementwise.exp(shifted), dim, keepdim=True))
