"""`MessagePassing`: the base of every graph layer (torch_geometric.nn.MessagePassing).

    h_i' = update( aggregate_{j in N(i)} message(x_i, x_j, e_ji, ...) )

`propagate(edge_index, size=None, **kwargs)` reads `message`'s signature, as PyG does: an
argument `x_j` is kwargs['x'] gathered at the sources edge_index[0] (for the default flow
'source_to_target'), `x_i` the same at the targets edge_index[1] (a pair (x_src, x_dst)
gives x_j from the first and x_i from the second); other arguments are taken from kwargs
as they are; `index` (the targets), `ptr`, `size`, `size_i`, `size_j`, `dim_size`,
`edge_index`, `edge_index_i` and `edge_index_j` are filled in. The messages (E, ...) are
reduced into the targets along `node_dim` by `aggregate` (scatter with aggr 'sum' / 'add',
'mean', 'max' or 'min'; an isolated node gets 0), then `update` maps the result (identity
by default). `edge_updater(edge_index, **kwargs)` calls `edge_update` the same way.

A layer that defines `message_and_aggregate` (GCNConv, GraphConv, GINConv, SAGEConv,
RGCNConv: a weighted sum or mean of x_j) runs it instead of message + aggregate while
`self.fuse` is True, aggr is 'add' / 'sum' / 'mean' and its tensors are NumPy arrays: one
sparse product (`sparse.sparse_aggregate`, through `sparse_sum`) in place of the gather
and the segment sum. Setting `fuse = False` runs the composed path, the twin the tests
hold it equal to; on a GPU (cupy arrays) the composed path always runs.
"""
import inspect

from ...autograd.tensor import Tensor
from ...backend import get_array_module
from ...nn.module import Module
from ...ops.index import index_select
from ..utils.scatter import scatter
from .sparse import sparse_aggregate

AGGRS = ("add", "sum", "mean", "max", "min")
SPECIAL = ("edge_index", "edge_index_i", "edge_index_j", "size", "size_i", "size_j",
           "index", "ptr", "dim_size")


def _params(fn, skip=0):
    """{name: default} of a method's parameters after the first `skip` (PyG's Inspector)."""
    items = list(inspect.signature(fn).parameters.values())[skip:]
    return {p.name: p.default for p in items
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


class MessagePassing(Module):
    """Base class of graph layers; subclasses define message (and optionally aggregate,
    update, edge_update, message_and_aggregate). See the module docstring."""

    def __init__(self, aggr="sum", *, flow="source_to_target", node_dim=-2):
        super().__init__()
        if aggr is not None and aggr not in AGGRS:   # None: the layer's own aggregate
            raise ValueError(f"{type(self).__name__}: aggr must be one of {AGGRS} (or None "
                             f"with aggregate overridden), got {aggr!r}")
        if flow not in ("source_to_target", "target_to_source"):
            raise ValueError(f"{type(self).__name__}: flow must be 'source_to_target' or "
                             f"'target_to_source', got {flow!r}")
        self.aggr = aggr
        self.flow = flow
        self.node_dim = node_dim
        self._message_args = _params(self.message)
        self._aggregate_args = _params(self.aggregate, 1)
        self._update_args = _params(self.update, 1)
        self._edge_update_args = _params(self.edge_update)
        fused = type(self).message_and_aggregate is not MessagePassing.message_and_aggregate
        self._fused_args = _params(self.message_and_aggregate) if fused else {}
        self.fuse = fused

    # -- inputs ------------------------------------------------------------------------
    def _check_input(self, edge_index, size):
        name = type(self).__name__
        if not isinstance(edge_index, Tensor) or edge_index.dtype.kind not in "iu" \
                or edge_index.ndim != 2 or edge_index.shape[0] != 2:
            got = (f"{edge_index.dtype} of shape {tuple(edge_index.shape)}"
                   if isinstance(edge_index, Tensor) else type(edge_index).__name__)
            raise ValueError(f"{name}.propagate: edge_index must be an integer tensor of "
                             f"shape (2, E), got {got}")
        return [None, None] if size is None else [int(size[0]), int(size[1])]

    def _set_size(self, size, dim, src):
        n = src.shape[self.node_dim]
        if size[dim] is None:
            size[dim] = n
        elif size[dim] != n:
            raise ValueError(f"{type(self).__name__}: a node tensor has {n} nodes along "
                             f"node_dim={self.node_dim}, expected {size[dim]}")

    def _set_pair_sizes(self, size, pair):
        """Sizes from a bipartite pair (x_src, x_dst); None parts say nothing."""
        for d, part in enumerate(pair[:2]):
            if isinstance(part, Tensor):
                self._set_size(size, d, part)

    def _collect(self, args, edge_index, size, kwargs):
        """The keyword arguments `args` (name -> default) of a user method."""
        i, j = (1, 0) if self.flow == "source_to_target" else (0, 1)
        out = {}
        for arg, default in args.items():
            if arg in SPECIAL:
                continue
            if arg[-2:] in ("_i", "_j") and arg[:-2] in kwargs:
                dim = j if arg[-2:] == "_j" else i
                data = kwargs[arg[:-2]]
                if isinstance(data, (tuple, list)):
                    self._set_pair_sizes(size, data)
                    data = data[dim]
                if isinstance(data, Tensor):
                    self._set_size(size, dim, data)
                    data = index_select(data, self.node_dim, edge_index[dim])
                out[arg] = data
            elif arg in kwargs:
                out[arg] = kwargs[arg]
            elif default is not inspect.Parameter.empty:
                out[arg] = default
            else:
                raise TypeError(f"{type(self).__name__}.propagate: missing the argument "
                                f"{arg!r} that its message / update functions take")
        size[0] = size[1] if size[0] is None else size[0]
        size[1] = size[0] if size[1] is None else size[1]
        size_i = size[i] if size[i] is not None else size[j]
        out.update(edge_index=edge_index, edge_index_i=edge_index[i],
                   edge_index_j=edge_index[j], index=edge_index[i], ptr=None,
                   size=tuple(size), size_i=size_i, size_j=size[j], dim_size=size_i)
        return out

    def _fusable(self, kwargs):
        if not (self.fuse and self._fused_args) or self.aggr not in ("add", "sum", "mean"):
            return False
        tensors = [t for v in kwargs.values()
                   for t in (v if isinstance(v, (tuple, list)) else (v,))
                   if isinstance(t, Tensor)]
        return all(get_array_module(t._data).__name__ == "numpy" for t in tensors)

    @staticmethod
    def _pick(found, args):
        return {k: found[k] for k in args if k in found}

    # -- the pass ----------------------------------------------------------------------
    def propagate(self, edge_index, size=None, **kwargs):
        """update(aggregate(message(...))) over edge_index (2, E); size (N_src, N_dst) or
        inferred from the node tensors."""
        size = self._check_input(edge_index, size)
        if self._fusable(kwargs):
            for pair in (v for v in kwargs.values() if isinstance(v, (tuple, list))):
                self._set_pair_sizes(size, pair)
            found = self._collect(self._fused_args, edge_index, size, kwargs)
            out = self.message_and_aggregate(**self._pick(found, self._fused_args))
        else:
            found = self._collect(self._message_args, edge_index, size, kwargs)
            out = self.message(**self._pick(found, self._message_args))
            out = self.aggregate(out, **self._pick(found, self._aggregate_args))
        update = self._collect(self._update_args, edge_index, size, kwargs) \
            if len(self._update_args) else {}
        return self.update(out, **self._pick(update, self._update_args))

    def edge_updater(self, edge_index, size=None, **kwargs):
        """edge_update(...) with its arguments collected as propagate collects message's."""
        size = self._check_input(edge_index, size)
        found = self._collect(self._edge_update_args, edge_index, size, kwargs)
        return self.edge_update(**self._pick(found, self._edge_update_args))

    def message(self, x_j):
        """The message of each edge j -> i: (E, ...); x_j by default."""
        return x_j

    def aggregate(self, inputs, index, ptr=None, dim_size=None):
        """Reduce the messages (E, ...) into their targets along node_dim."""
        if self.aggr is None:
            raise NotImplementedError(f"{type(self).__name__}: aggr=None needs an "
                                      "aggregate method of its own")
        reduce = "sum" if self.aggr == "add" else self.aggr
        return scatter(inputs, index, dim=self.node_dim, dim_size=dim_size, reduce=reduce)

    def message_and_aggregate(self, edge_index):
        """message + aggregate in one step, for layers that have a fused form."""
        raise NotImplementedError

    def update(self, inputs):
        """The new node features from the aggregated messages; identity by default."""
        return inputs

    def edge_update(self):
        """Per-edge values for edge_updater; layers that use it override it."""
        raise NotImplementedError

    def sparse_sum(self, edge_index, x, edge_weight=None, dim_size=None):
        """sum_{j -> i} edge_weight * x_j (divided by i's in-degree for aggr 'mean') by one
        sparse product, along this layer's flow; x (N_src, ...) with nodes along dim 0
        (message_and_aggregate's helper)."""
        if self.flow == "target_to_source":
            edge_index = edge_index.flip(0)
        dim_size = x.shape[0] if dim_size is None else dim_size
        if self.aggr == "mean":   # w_e / deg(dst_e), deg counted at least 1
            xp = get_array_module(edge_index._data)
            dst = edge_index._data[1]
            count = xp.maximum(xp.bincount(dst, minlength=dim_size), 1)
            scale = Tensor((1.0 / count[dst]).astype(x.dtype))
            edge_weight = scale if edge_weight is None else edge_weight * scale
        return sparse_aggregate(x, edge_index, edge_weight, dim_size)

    def __repr__(self):
        if hasattr(self, "in_channels") and hasattr(self, "out_channels"):
            return f"{type(self).__name__}({self.in_channels}, {self.out_channels})"
        return super().__repr__()
