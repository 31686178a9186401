"""`GINConv` (Xu et al. 2019) and `GINEConv` (Hu et al. 2020), torch_geometric's.

    GIN:   x_i' = nn( (1 + eps) x_i + sum_{j -> i} x_j )
    GINE:  x_i' = nn( (1 + eps) x_i + sum_{j -> i} ReLU(x_j + W_e e_ji + b_e) )

The sum (with an injective nn, an MLP) makes GIN as strong as the 1-WL test. eps is a
Parameter with train_eps=True, else a buffer; both are the state_dict key 'eps' (1,).
GINE's edge_attr must have x's width unless edge_dim is given (then lin: Linear(edge_dim,
the nn's in_features)). GIN's sum runs as one sparse product while `fuse` is True.
"""
from .... import ops
from ....autograd.tensor import Tensor
from ....nn.linear import Linear
from ....nn.parameter import Parameter
from ..message_passing import MessagePassing


class _GINBase(MessagePassing):
    """What both layers hold: nn, and eps (a Parameter or a buffer, key 'eps'); the update
    nn((1 + eps) x_i + aggregated messages)."""

    def __init__(self, nn, eps, train_eps, **kwargs):
        kwargs.setdefault("aggr", "add")
        super().__init__(**kwargs)
        self.nn = nn
        self.initial_eps = eps
        if train_eps:
            self.eps = Parameter(ops.empty(1))
        else:
            self.register_buffer("eps", ops.empty(1))

    def reset_parameters(self):
        if hasattr(self.nn, "reset_parameters"):
            self.nn.reset_parameters()
        self.eps.data.fill_(self.initial_eps)

    def _forward(self, x, edge_index, size, **messages):
        if isinstance(x, Tensor):
            x = (x, x)
        out = self.propagate(edge_index, x=x, size=size, **messages)
        if x[1] is not None:
            out = out + (1 + self.eps) * x[1]
        return self.nn(out)

    def __repr__(self):
        return f"{type(self).__name__}(nn={self.nn})"


class GINConv(_GINBase):
    """Graph isomorphism convolution (see the module docstring)."""

    def __init__(self, nn, eps=0.0, train_eps=False, **kwargs):
        super().__init__(nn, eps, train_eps, **kwargs)
        self.reset_parameters()

    def forward(self, x, edge_index, size=None):
        return self._forward(x, edge_index, size)

    def message(self, x_j):
        return x_j

    def message_and_aggregate(self, edge_index, x, dim_size=None):
        return self.sparse_sum(edge_index, x[0], None, dim_size)


def _in_features(nn):
    first = nn[0] if hasattr(nn, "__getitem__") and hasattr(nn, "__len__") else nn
    for name in ("in_features", "in_channels"):
        if hasattr(first, name):
            return getattr(first, name)
    raise ValueError(f"GINEConv: cannot infer the input width of {type(first).__name__} "
                     "(expected an in_features or in_channels attribute) for edge_dim")


class GINEConv(_GINBase):
    """GIN with edge features (see the module docstring)."""

    def __init__(self, nn, eps=0.0, train_eps=False, edge_dim=None, **kwargs):
        super().__init__(nn, eps, train_eps, **kwargs)
        self.lin = Linear(edge_dim, _in_features(nn)) if edge_dim is not None else None
        self.reset_parameters()

    def reset_parameters(self):
        super().reset_parameters()
        if self.lin is not None:
            self.lin.reset_parameters()

    def forward(self, x, edge_index, edge_attr=None, size=None):
        return self._forward(x, edge_index, size, edge_attr=edge_attr)

    def message(self, x_j, edge_attr):
        if self.lin is None and x_j.shape[-1] != edge_attr.shape[-1]:
            raise ValueError(f"GINEConv: node features ({x_j.shape[-1]}) and edge_attr "
                             f"({edge_attr.shape[-1]}) differ in width; set edge_dim")
        if self.lin is not None:
            edge_attr = self.lin(edge_attr)
        return (x_j + edge_attr).relu()
