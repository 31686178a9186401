"""`Variable`: torch's name from before 0.4, when tensors and autograd variables were two
types. As in torch since then, `Variable(t)` returns a Tensor and every Tensor is a
Variable."""
from .tensor import Tensor


class _VariableMeta(type):
    def __instancecheck__(cls, other):
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """`Variable(data, requires_grad=False)`: `data` (a Tensor) detached from its graph,
    sharing its memory, with `requires_grad` set; `Variable()` is an empty tensor.
    `volatile` is accepted and ignored (torch ignores it too, with a warning)."""

    def __new__(cls, data=None, requires_grad=False, volatile=False):
        if data is None:
            data = Tensor([])
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable: data has to be a tensor, but got "
                            f"{type(data).__name__}")
        return data.detach().requires_grad_(requires_grad)
