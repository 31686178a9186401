"""`GATConv` (Velickovic et al. 2018; torch_geometric.nn.GATConv, PyG 2.8).

    alpha_ij = softmax_j( LeakyReLU( a_dst . W x_i + a_src . W x_j + a_edge . W_e e_ji ) )
    x_i' = ||_h sum_j alpha_ij^h W^h x_j   (or the mean over heads)  + b

per head h, the softmax over i's in-edges (and a self-loop, by default). x (N, in) or a
pair (x_src, x_dst) -> (N, heads * out) with concat, else (N, out). Parameters (PyG's
keys): lin.weight (H*C, in) (or lin_src / lin_dst for a pair), att_src, att_dst (1, H, C),
lin_edge.weight (H*C, edge_dim) and att_edge (1, H, C) with edge_dim, res.weight with
residual, bias; glorot, bias zeros. Dropout on the coefficients while training.
"""
from .... import ops
from ....autograd.tensor import Tensor
from ....nn import functional as F
from ....nn.linear import Linear
from ....nn.parameter import Parameter
from ..inits import glorot, zeros
from ..message_passing import MessagePassing
from ._attention import attention, finish, with_self_loops


class GATConv(MessagePassing):
    """Graph attention (see the module docstring)."""

    def __init__(self, in_channels, out_channels, heads=1, concat=True, negative_slope=0.2,
                 dropout=0.0, add_self_loops=True, edge_dim=None, fill_value="mean",
                 bias=True, residual=False, **kwargs):
        kwargs.setdefault("aggr", "add")
        super().__init__(node_dim=0, **kwargs)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.heads, self.concat = heads, concat
        self.negative_slope, self.dropout = negative_slope, dropout
        self.add_self_loops, self.edge_dim = add_self_loops, edge_dim
        self.fill_value, self.residual = fill_value, residual
        hc = heads * out_channels
        if isinstance(in_channels, int):
            self.lin = Linear(in_channels, hc, bias=False)
        else:
            self.lin_src = Linear(in_channels[0], hc, bias=False)
            self.lin_dst = Linear(in_channels[1], hc, bias=False)
        self.att_src = Parameter(ops.empty(1, heads, out_channels))
        self.att_dst = Parameter(ops.empty(1, heads, out_channels))
        if edge_dim is not None:
            self.lin_edge = Linear(edge_dim, hc, bias=False)
            self.att_edge = Parameter(ops.empty(1, heads, out_channels))
        else:
            self.lin_edge = self.att_edge = None
        total = hc if concat else out_channels
        in_dst = in_channels if isinstance(in_channels, int) else in_channels[1]
        self.res = Linear(in_dst, total, bias=False) if residual else None
        self.bias = Parameter(ops.empty(total)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        for lin in ("lin", "lin_src", "lin_dst", "lin_edge", "res"):
            if getattr(self, lin, None) is not None:
                glorot(getattr(self, lin).weight)
        for att in (self.att_src, self.att_dst, self.att_edge):
            glorot(att)
        zeros(self.bias)

    def forward(self, x, edge_index, edge_attr=None, size=None,
                return_attention_weights=None):
        h, c = self.heads, self.out_channels
        res = None
        if isinstance(x, Tensor):
            res = self.res(x) if self.res is not None else None
            x_src = x_dst = self.lin(x).reshape(-1, h, c)               # (N, H, C)
        else:
            x_src, x_dst = x
            if x_dst is not None and self.res is not None:
                res = self.res(x_dst)
            x_src = self.lin_src(x_src).reshape(-1, h, c)
            x_dst = None if x_dst is None else self.lin_dst(x_dst).reshape(-1, h, c)
        alpha_src = (x_src * self.att_src).sum(-1)                      # (N, H)
        alpha_dst = None if x_dst is None else (x_dst * self.att_dst).sum(-1)
        if self.add_self_loops:
            n = x_src.shape[0] if x_dst is None else min(x_src.shape[0], x_dst.shape[0])
            edge_index, edge_attr = with_self_loops(edge_index, edge_attr, self.fill_value,
                                                    n)
        alpha = self.edge_updater(edge_index, alpha=(alpha_src, alpha_dst),
                                  edge_attr=edge_attr, size=size)      # (E, H)
        out = self.propagate(edge_index, x=(x_src, x_dst), alpha=alpha, size=size)
        return finish(self, out, res, edge_index, alpha, return_attention_weights)

    def edge_update(self, alpha_j, alpha_i, edge_attr, index, ptr, dim_size):
        alpha = alpha_j if alpha_i is None else alpha_j + alpha_i
        if index.numel() == 0:
            return alpha
        if edge_attr is not None and self.lin_edge is not None:
            if edge_attr.ndim == 1:
                edge_attr = edge_attr.reshape(-1, 1)
            e = self.lin_edge(edge_attr).reshape(-1, self.heads, self.out_channels)
            alpha = alpha + (e * self.att_edge).sum(-1)
        alpha = F.leaky_relu(alpha, self.negative_slope)
        return attention(alpha, index, ptr, dim_size, self.dropout, self.training)

    def message(self, x_j, alpha):
        return alpha.unsqueeze(-1) * x_j                                 # (E, H, C)

    def __repr__(self):
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"heads={self.heads})")
