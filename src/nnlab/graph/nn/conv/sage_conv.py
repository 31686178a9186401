"""`SAGEConv` (Hamilton et al. 2017; torch_geometric.nn.SAGEConv, PyG 2.8).

    x_i' = W_l aggr_{j -> i} x_j + b + W_r x_i        (aggr 'mean' by default, or 'max',
                                                       'sum', 'min')

with project=True the sources first pass through ReLU(W_p x_j + b_p); normalize=True
divides each output row by its L2 norm; root_weight=False drops the W_r x_i term. x (N,
in) or a pair (x_src, x_dst) -> (N, out). Parameters (PyG's keys): lin_l.weight,
lin_l.bias, lin_r.weight (no bias), lin.weight / lin.bias with project. The mean and the
sum run as one sparse product while `fuse` is True; when out < in they run after W_l
(W_l mean_j x_j = mean_j W_l x_j), on out columns instead of in, as GCNConv does; the
layer keeps the sparse matrix of its last edge_index (sparse.MatrixCache).
"""
import numpy as np

from ....autograd.tensor import Tensor
from ....nn import functional as F
from ....nn.linear import Linear
from ..message_passing import MessagePassing
from ..sparse import MatrixCache, sparse_aggregate, sparse_matrix


class SAGEConv(MessagePassing):
    """GraphSAGE convolution (see the module docstring)."""

    def __init__(self, in_channels, out_channels, aggr="mean", normalize=False,
                 root_weight=True, project=False, bias=True, **kwargs):
        super().__init__(aggr=aggr, **kwargs)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.normalize, self.root_weight, self.project = normalize, root_weight, project
        in_l, in_r = (in_channels, in_channels) if isinstance(in_channels, int) \
            else in_channels
        self.lin = Linear(in_l, in_l, bias=True) if project else None
        self.lin_l = Linear(in_l, out_channels, bias=bias)
        self.lin_r = Linear(in_r, out_channels, bias=False) if root_weight else None
        self._adj = MatrixCache()

    def reset_parameters(self):
        for lin in (self.lin, self.lin_l, self.lin_r):
            if lin is not None:
                lin.reset_parameters()

    def forward(self, x, edge_index, size=None):
        if isinstance(x, Tensor):
            x = (x, x)
        if self.project:
            x = (self.lin(x[0]).relu(), x[1])
        if self.aggr in ("mean", "sum", "add") and self.out_channels < x[0].shape[-1]:
            out = self.propagate(edge_index, x=(F.linear(x[0], self.lin_l.weight), x[1]),
                                 size=size)
            out = out if self.lin_l.bias is None else out + self.lin_l.bias
        else:
            out = self.lin_l(self.propagate(edge_index, x=x, size=size))
        if self.root_weight and x[1] is not None:
            out = out + self.lin_r(x[1])
        if self.normalize:
            out = F.normalize(out, p=2.0, dim=-1)
        return out

    def message(self, x_j):
        return x_j

    def message_and_aggregate(self, edge_index, x, dim_size=None):
        x = x[0]
        n_dst = x.shape[0] if dim_size is None else int(dim_size)

        def build():   # A[i, j] = 1 (sum) or 1 / deg(i) (mean) for each edge j -> i
            ei = edge_index._data[::-1] if self.flow == "target_to_source" \
                else edge_index._data
            w = None
            if self.aggr == "mean":
                count = np.maximum(np.bincount(ei[1], minlength=n_dst), 1)
                w = (1.0 / count)[ei[1]]
            return ei, sparse_matrix(ei, w, n_dst, x.shape[0], x.dtype)

        ei, mat = self._adj.get(edge_index, (n_dst, x.shape[0], x.dtype, self.flow,
                                             self.aggr), build)
        return sparse_aggregate(x, ei, None, n_dst, mat=mat)

    def __repr__(self):
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"aggr={self.aggr})")
