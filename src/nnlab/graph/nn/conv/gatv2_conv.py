"""`GATv2Conv` (Brody et al. 2022; torch_geometric.nn.GATv2Conv, PyG 2.8): dynamic
attention, the nonlinearity before the attention vector.

    alpha_ij = softmax_j( a . LeakyReLU( W_r x_i + W_l x_j + W_e e_ji ) )
    x_i' = ||_h sum_j alpha_ij^h W_l^h x_j   (or the mean over heads)  + b

x (N, in) or a pair -> (N, heads * out) with concat, else (N, out). Parameters (PyG's
keys): lin_l.weight / lin_l.bias, lin_r.weight / lin_r.bias (the same module when
share_weights), att (1, H, C), lin_edge.weight with edge_dim, res.weight with residual,
bias; glorot, biases zeros.
"""
from .... import ops
from ....autograd.tensor import Tensor
from ....nn import functional as F
from ....nn.linear import Linear
from ....nn.parameter import Parameter
from ..inits import glorot, zeros
from ..message_passing import MessagePassing
from ._attention import attention, finish, with_self_loops


class GATv2Conv(MessagePassing):
    """GATv2 attention (see the module docstring)."""

    def __init__(self, in_channels, out_channels, heads=1, concat=True, negative_slope=0.2,
                 dropout=0.0, add_self_loops=True, edge_dim=None, fill_value="mean",
                 bias=True, share_weights=False, residual=False, **kwargs):
        kwargs.setdefault("aggr", "add")
        super().__init__(node_dim=0, **kwargs)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.heads, self.concat = heads, concat
        self.negative_slope, self.dropout = negative_slope, dropout
        self.add_self_loops, self.edge_dim = add_self_loops, edge_dim
        self.fill_value, self.residual = fill_value, residual
        self.share_weights = share_weights
        hc = heads * out_channels
        in_l, in_r = (in_channels, in_channels) if isinstance(in_channels, int) \
            else in_channels
        self.lin_l = Linear(in_l, hc, bias=bias)
        self.lin_r = self.lin_l if share_weights else Linear(in_r, hc, bias=bias)
        self.att = Parameter(ops.empty(1, heads, out_channels))
        self.lin_edge = Linear(edge_dim, hc, bias=False) if edge_dim is not None else None
        total = hc if concat else out_channels
        self.res = Linear(in_r, total, bias=False) if residual else None
        self.bias = Parameter(ops.empty(total)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        for lin in (self.lin_l, self.lin_r, self.lin_edge, self.res):
            if lin is not None:
                glorot(lin.weight)
                zeros(lin.bias)
        glorot(self.att)
        zeros(self.bias)

    def forward(self, x, edge_index, edge_attr=None, return_attention_weights=None):
        h, c = self.heads, self.out_channels
        res = None
        if isinstance(x, Tensor):
            res = self.res(x) if self.res is not None else None
            x_l = self.lin_l(x).reshape(-1, h, c)                       # (N, H, C)
            x_r = x_l if self.share_weights else self.lin_r(x).reshape(-1, h, c)
        else:
            x_l, x_r = x
            if x_r is not None and self.res is not None:
                res = self.res(x_r)
            x_l = self.lin_l(x_l).reshape(-1, h, c)
            x_r = None if x_r is None else self.lin_r(x_r).reshape(-1, h, c)
        if self.add_self_loops:
            n = x_l.shape[0] if x_r is None else min(x_l.shape[0], x_r.shape[0])
            edge_index, edge_attr = with_self_loops(edge_index, edge_attr, self.fill_value,
                                                    n)
        alpha = self.edge_updater(edge_index, x=(x_l, x_r), edge_attr=edge_attr)
        out = self.propagate(edge_index, x=(x_l, x_r), alpha=alpha)
        return finish(self, out, res, edge_index, alpha, return_attention_weights)

    def edge_update(self, x_j, x_i, edge_attr, index, ptr, dim_size):
        z = x_i + x_j                                                    # (E, H, C)
        if edge_attr is not None:
            if edge_attr.ndim == 1:
                edge_attr = edge_attr.reshape(-1, 1)
            if self.lin_edge is None:
                raise ValueError("GATv2Conv: got edge_attr but edge_dim was not set")
            z = z + self.lin_edge(edge_attr).reshape(-1, self.heads, self.out_channels)
        z = F.leaky_relu(z, self.negative_slope)
        alpha = (z * self.att).sum(-1)                                   # (E, H)
        return attention(alpha, index, ptr, dim_size, self.dropout, self.training)

    def message(self, x_j, alpha):
        return x_j * alpha.unsqueeze(-1)

    def __repr__(self):
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"heads={self.heads})")
