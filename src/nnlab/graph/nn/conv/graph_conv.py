"""`GraphConv` (Morris et al. 2019, "Weisfeiler and Leman go neural"; PyG 2.8).

    x_i' = W_1 x_i + W_2 aggr_{j -> i} e_ji * x_j + b        (aggr 'add' by default)

x (N, in) or a pair -> (N, out); edge_weight (E,) optional. Parameters (PyG's keys):
lin_rel.weight, lin_rel.bias (W_2, b), lin_root.weight (W_1, no bias). A sum or mean runs
as one sparse product while `fuse` is True.
"""
from ....autograd.tensor import Tensor
from ....nn.linear import Linear
from ..message_passing import MessagePassing


class GraphConv(MessagePassing):
    """The k-GNN graph convolution (see the module docstring)."""

    def __init__(self, in_channels, out_channels, aggr="add", bias=True, **kwargs):
        super().__init__(aggr=aggr, **kwargs)
        self.in_channels, self.out_channels = in_channels, out_channels
        in_l, in_r = (in_channels, in_channels) if isinstance(in_channels, int) \
            else in_channels
        self.lin_rel = Linear(in_l, out_channels, bias=bias)
        self.lin_root = Linear(in_r, out_channels, bias=False)

    def reset_parameters(self):
        self.lin_rel.reset_parameters()
        self.lin_root.reset_parameters()

    def forward(self, x, edge_index, edge_weight=None, size=None):
        if isinstance(x, Tensor):
            x = (x, x)
        out = self.propagate(edge_index, x=x, edge_weight=edge_weight, size=size)
        out = self.lin_rel(out)
        if x[1] is not None:
            out = out + self.lin_root(x[1])
        return out

    def message(self, x_j, edge_weight):
        return x_j if edge_weight is None else edge_weight.reshape(-1, 1) * x_j

    def message_and_aggregate(self, edge_index, x, edge_weight=None, dim_size=None):
        return self.sparse_sum(edge_index, x[0], edge_weight, dim_size)
