"""`Parameter`: a leaf Tensor that a Module finds and an optimiser updates."""
from ..autograd.tensor import Tensor


class Parameter(Tensor):
    """A tensor that is a module's learnable weight (requires grad by default)."""

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            from ..ops import empty
            data = empty(0)
        super().__init__(data)  # a Tensor's array itself: the memory is shared, as torch
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
