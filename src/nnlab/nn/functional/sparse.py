"""`one_hot`: class indices as one-hot rows (PyTorch's `F.one_hot`, int64 in and out)."""
import numpy as np

from ... import backend
from ...autograd.tensor import Tensor


def one_hot(tensor, num_classes=-1):
    """(*) int64 class indices -> (*, num_classes) int64, 1 at each index and 0 elsewhere;
    num_classes=-1 takes max(tensor) + 1."""
    if not isinstance(tensor, Tensor) or tensor.dtype != backend.int64:
        got = tensor.dtype if isinstance(tensor, Tensor) else type(tensor).__name__
        raise RuntimeError(f"one_hot: is only applicable to index tensor of type LongTensor "
                           f"(int64), got {got}")
    xp = backend.get_array_module(tensor._data)
    data = tensor._data
    if num_classes == -1:
        if data.size == 0:
            raise RuntimeError("one_hot: Can not infer total number of classes from empty "
                               "tensor.")
        num_classes = int(data.max()) + 1
    elif num_classes < -1:
        raise RuntimeError(f"one_hot: num_classes should be -1 or non-negative, got "
                           f"{num_classes}")
    if data.size and int(data.min()) < 0:
        raise RuntimeError(f"one_hot: Class values must be non-negative, got "
                           f"{int(data.min())}")
    if data.size and int(data.max()) >= num_classes:
        raise RuntimeError(f"one_hot: Class values must be smaller than num_classes "
                           f"({num_classes}), got {int(data.max())}")
    return Tensor(data[..., None] == xp.arange(num_classes)).to(np.int64)
