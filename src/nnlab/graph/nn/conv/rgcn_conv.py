"""`RGCNConv` (Schlichtkrull et al. 2018; torch_geometric.nn.RGCNConv, PyG 2.8).

    x_i' = Theta_root x_i + sum_r aggr_{j in N_r(i)} Theta_r x_j + b     (aggr 'mean')

one weight per relation r (edge_type), aggregated per relation (the mean over i's
r-neighbours). Theta_r is weight[r] (in, out); with num_bases B, Theta_r = sum_b
comp[r, b] weight[b]; with num_blocks B, Theta_r is block-diagonal, weight (R, B, in/B,
out/B). Parameters (PyG's keys): weight, comp (bases), root (in, out) with root_weight,
bias; glorot, bias zeros. x (N, in), or None for featureless nodes (one-hot rows:
in_channels = N) -> (N, out).

No loop over relations: every message goes to segment i * R + r, one aggregation gives
(N, R, in), and one einsum applies every relation's weight.
"""
from .... import ops
from ....autograd.tensor import Tensor
from ....backend import get_array_module
from ....nn.parameter import Parameter
from ..inits import glorot, zeros
from ..message_passing import MessagePassing


class RGCNConv(MessagePassing):
    """Relational graph convolution (see the module docstring)."""

    def __init__(self, in_channels, out_channels, num_relations, num_bases=None,
                 num_blocks=None, aggr="mean", root_weight=True, is_sorted=False,
                 bias=True, **kwargs):
        super().__init__(aggr=aggr, node_dim=0, **kwargs)
        if num_bases is not None and num_blocks is not None:
            raise ValueError("RGCNConv: can not apply both basis-decomposition and "
                             "block-diagonal-decomposition at the same time")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.num_relations, self.num_bases, self.num_blocks = (num_relations, num_bases,
                                                               num_blocks)
        self.is_sorted = is_sorted
        in_r = in_channels if isinstance(in_channels, int) else in_channels[1]
        in_l = in_channels if isinstance(in_channels, int) else in_channels[0]
        self.in_channels_l = in_l
        self.comp = None
        if num_bases is not None:
            self.weight = Parameter(ops.empty(num_bases, in_l, out_channels))
            self.comp = Parameter(ops.empty(num_relations, num_bases))
        elif num_blocks is not None:
            if in_l % num_blocks or out_channels % num_blocks:
                raise ValueError(f"RGCNConv: channels must be divisible by num_blocks="
                                 f"{num_blocks}, got in={in_l}, out={out_channels}")
            self.weight = Parameter(ops.empty(num_relations, num_blocks,
                                              in_l // num_blocks, out_channels // num_blocks))
        else:
            self.weight = Parameter(ops.empty(num_relations, in_l, out_channels))
        self.root = Parameter(ops.empty(in_r, out_channels)) if root_weight else None
        self.bias = Parameter(ops.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        glorot(self.weight)
        glorot(self.comp)
        glorot(self.root)
        zeros(self.bias)

    def forward(self, x, edge_index, edge_type=None):
        r = self.num_relations
        x_l = x[0] if isinstance(x, (tuple, list)) else x
        x_r = x[1] if isinstance(x, (tuple, list)) else x
        if x_l is None:   # featureless: one-hot rows
            x_l = ops.eye(self.in_channels_l, dtype=self.weight.dtype)
        if x_r is None:
            x_r = x_l
        n = x_r.shape[0]
        ei = edge_index._data
        types = edge_type._data if isinstance(edge_type, Tensor) else edge_type
        xp = get_array_module(ei)
        if types is None or types.shape != ei[1].shape:
            raise ValueError(f"RGCNConv: edge_type must have one entry per edge "
                             f"({ei.shape[1]}), got {None if types is None else types.shape}")
        rel = Tensor(xp.stack([ei[0], ei[1] * r + types]))   # target i, relation t -> i*R+t
        h = self.propagate(rel, x=x_l, size=(x_l.shape[0], n * r))    # (N * R, in)
        h = h.reshape(n, r, -1)                                        # (N, R, in)
        weight = self.weight
        if self.num_bases is not None:
            weight = (self.comp @ weight.reshape(self.num_bases, -1)).reshape(
                r, self.in_channels_l, self.out_channels)              # (R, in, out)
        if self.num_blocks is not None:
            b = self.num_blocks
            h = h.reshape(n, r, b, -1)                                 # (N, R, B, in/B)
            out = ops.einsum("nrbi,rbio->nbo", h, weight).reshape(n, self.out_channels)
        else:
            out = ops.einsum("nri,rio->no", h, weight)                 # (N, out)
        if self.root is not None:
            out = out + x_r @ self.root
        if self.bias is not None:
            out = out + self.bias
        return out

    def message(self, x_j):
        return x_j

    def message_and_aggregate(self, edge_index, x, dim_size=None):
        return self.sparse_sum(edge_index, x, None, dim_size)

    def __repr__(self):
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"num_relations={self.num_relations})")
