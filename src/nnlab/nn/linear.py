"""`Linear`, `Bilinear` and `Embedding` with PyTorch's parameters, shapes and default
initialisation:
    Linear     weight (out, in) ~ kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)),
               bias (out,) ~ U(-1/sqrt(in), 1/sqrt(in))
    Bilinear   weight (out, in1, in2) and bias (out,) ~ U(-1/sqrt(in1), 1/sqrt(in1))
    Embedding  weight (num_embeddings, embedding_dim) ~ N(0, 1), the padding_idx row zero
"""
import math

from .. import ops
from . import functional as F
from . import init
from .functional.linear import _embedding, _padding_index
from .module import Module
from .parameter import Parameter


def _shape(t):
    return tuple(t.shape)


class Linear(Module):
    """y = x W^T + b: (*, in_features) -> (*, out_features)."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(ops.empty(out_features, in_features, dtype=dtype,
                                          device=device))
        self.bias = Parameter(ops.empty(out_features, dtype=dtype, device=device)) \
            if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # = U(-1/sqrt(in), 1/sqrt(in))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        shape = input.shape
        if not shape or shape[-1] != self.in_features:
            got = f"{shape[-1]} features in its last dimension" if shape else "no dimensions"
            raise ValueError(f"Linear(in_features={self.in_features}): input has {got} "
                             f"(shape {tuple(shape)})")
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Bilinear(Module):
    """y_o = x1^T W_o x2 + b_o: (*, in1_features), (*, in2_features) -> (*, out_features)."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None,
                 dtype=None):
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(ops.empty(out_features, in1_features, in2_features,
                                          dtype=dtype, device=device))
        self.bias = Parameter(ops.empty(out_features, dtype=dtype, device=device)) \
            if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.in1_features)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        s1, s2 = _shape(input1), _shape(input2)
        if not s1 or not s2 or s1[-1] != self.in1_features or s2[-1] != self.in2_features:
            raise ValueError(f"{self._name()}: inputs of shapes {s1} and {s2}: expected "
                             f"{self.in1_features} and {self.in2_features} features in their "
                             "last dimensions")
        return F.bilinear(input1, input2, self.weight, self.bias)

    def _name(self):
        return (f"Bilinear(in1_features={self.in1_features}, "
                f"in2_features={self.in2_features})")

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class Embedding(Module):
    """A table of num_embeddings vectors of size embedding_dim, looked up by integer index:
    (*) -> (*, embedding_dim). The padding_idx row is zero at initialisation and receives
    no gradient. max_norm, scale_grad_by_freq and sparse are not supported (they raise).
    `_weight` gives the table (then nothing is initialised), `_freeze` stops its gradient."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None):
        super().__init__()
        unsupported = [name for name, value in (("max_norm", max_norm is not None),
                                                ("scale_grad_by_freq", scale_grad_by_freq),
                                                ("sparse", sparse)) if value]
        if unsupported:
            raise NotImplementedError(f"Embedding: {', '.join(unsupported)} not supported")
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = None if padding_idx is None else _padding_index(
            padding_idx, num_embeddings, "Embedding")
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            self.weight = Parameter(ops.empty(num_embeddings, embedding_dim, dtype=dtype,
                                              device=device), requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if _shape(_weight) != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight of shape {_shape(_weight)} does not "
                                 f"match ({num_embeddings}, {embedding_dim})")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None):
        """An Embedding whose table is `embeddings` (2-D), frozen by default."""
        if embeddings.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape "
                             f"{_shape(embeddings)}")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, _weight=embeddings, _freeze=freeze)

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def forward(self, input):
        return _embedding(input, self.weight, self.padding_idx, self._name())

    def _name(self):
        return f"Embedding({self.num_embeddings}, {self.embedding_dim})"

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s


NonDynamicallyQuantizableLinear = Linear   # torch.nn.modules.linear's name (nn/attention.py)
