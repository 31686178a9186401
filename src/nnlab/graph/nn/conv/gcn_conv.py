"""`GCNConv` and `gcn_norm` (Kipf & Welling 2017; torch_geometric.nn.GCNConv, PyG 2.8).

    X' = D^-1/2 (A + I) D^-1/2 X W + b,    D_ii = sum_j (A + I)_ij   (weighted degrees)

i.e. x_i' = sum_{j -> i} w_ji / sqrt(d_j d_i) * (W x_j) + b over the edges and a self-loop
of weight 1 (2 with improved=True; an existing loop keeps its own weight). x (N, in) ->
(N, out); edge_index (2, E); edge_weight (E,) optional. Parameters: lin.weight (out, in)
(glorot), bias (out,) (zeros). The sum runs as one sparse product while `fuse` is True.
"""
from .... import ops
from ....nn.linear import Linear
from ....nn.parameter import Parameter
from ...utils._tensor import maybe_num_nodes
from ...utils.loop import add_remaining_self_loops
from ...utils.scatter import scatter
from ..inits import glorot, zeros
from ..message_passing import MessagePassing
from ..sparse import sparse_aggregate, sparse_matrix


def gcn_norm(edge_index, edge_weight=None, num_nodes=None, improved=False,
             add_self_loops=True, flow="source_to_target", dtype=None):
    """(edge_index, w) with w_ji = d_j^-1/2 * edge_weight_ji * d_i^-1/2 over the edges
    (and the remaining self-loops when add_self_loops), d the weighted in-degree (out-degree
    for flow 'target_to_source'); a node of degree 0 gets 0, not inf."""
    fill_value = 2.0 if improved else 1.0
    n = maybe_num_nodes(edge_index, num_nodes)
    if edge_weight is None:
        edge_weight = ops.ones(edge_index.shape[1], dtype=dtype)
    if add_self_loops:
        edge_index, edge_weight = add_remaining_self_loops(edge_index, edge_weight,
                                                           fill_value, n)
    row, col = edge_index[0], edge_index[1]
    deg = scatter(edge_weight, col if flow == "source_to_target" else row, 0, n, "sum")
    positive = deg > 0
    safe = ops.where(positive, deg, ops.ones_like(deg))
    inv_sqrt = ops.where(positive, safe.pow(-0.5), ops.zeros_like(deg))
    return edge_index, inv_sqrt[row] * edge_weight * inv_sqrt[col]


class GCNConv(MessagePassing):
    """Graph convolution (see the module docstring); cached=True keeps the normalised
    graph of the first call (transductive use only), and on the sparse path its CSR
    matrix too."""

    def __init__(self, in_channels, out_channels, improved=False, cached=False,
                 add_self_loops=True, normalize=True, bias=True, **kwargs):
        kwargs.setdefault("aggr", "add")
        super().__init__(**kwargs)
        if add_self_loops and not normalize:
            raise ValueError(f"GCNConv: add_self_loops=True needs normalize=True (the "
                             f"loops are added by gcn_norm), got normalize={normalize}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.improved = improved
        self.cached = cached
        self.add_self_loops = add_self_loops
        self.normalize = normalize
        self._cached_edge_index = None
        self.lin = Linear(in_channels, out_channels, bias=False)
        self.bias = Parameter(ops.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        glorot(self.lin.weight)
        zeros(self.bias)
        self._cached_edge_index = None
        self._cached_adj = None

    def forward(self, x, edge_index, edge_weight=None):
        if self.normalize:
            if self._cached_edge_index is None:
                edge_index, edge_weight = gcn_norm(
                    edge_index, edge_weight, x.shape[self.node_dim], self.improved,
                    self.add_self_loops, self.flow, x.dtype)
                if self.cached:
                    self._cached_edge_index = (edge_index, edge_weight)
            else:
                edge_index, edge_weight = self._cached_edge_index
        x = self.lin(x)
        out = self.propagate(edge_index, x=x, edge_weight=edge_weight)
        return out if self.bias is None else out + self.bias

    def message(self, x_j, edge_weight):
        return x_j if edge_weight is None else edge_weight.reshape(-1, 1) * x_j

    def message_and_aggregate(self, edge_index, x, edge_weight=None, dim_size=None):
        cache = self._cached_edge_index
        if not (self.cached and cache is not None and edge_index is cache[0]
                and edge_weight is cache[1]):
            return self.sparse_sum(edge_index, x, edge_weight, dim_size)
        n_dst = x.shape[0] if dim_size is None else int(dim_size)
        key = (n_dst, x.shape[0], x.dtype, self.flow)
        if self._cached_adj is None or self._cached_adj[0] != key:   # built once
            if self.flow == "target_to_source":
                edge_index = edge_index.flip(0)
            mat = sparse_matrix(edge_index, edge_weight, n_dst, x.shape[0], x.dtype)
            self._cached_adj = (key, edge_index, mat)
        _, edge_index, mat = self._cached_adj
        return sparse_aggregate(x, edge_index, edge_weight, n_dst, mat=mat)


__all__ = ["GCNConv", "gcn_norm"]
