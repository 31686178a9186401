"""Convenience stacks of graph layers (torch_geometric.nn.models: GCN, GAT, GIN, and the
MLP that GIN's layers hold), with PyG 2.8's arguments and state_dict keys
(convs.0.lin.weight, ...).

    for each layer but the last:  x = dropout(act(conv(x, edge_index)))
    last layer:                   x = conv(x, edge_index)     (to out_channels if given)

hidden_channels per layer; out_channels=None keeps hidden_channels at the end. jk in
(None, 'last', 'cat', 'max') (jumping knowledge: the last layer then also gets act and
dropout, and a final Linear `lin` maps to out_channels); norm=None only (PyG's norms are
not carried over: an error names it). GAT passes heads (hidden split over the heads,
concatenated; the last layer averages them) and dropout also to the attention.
"""
from ... import ops
from ...nn import functional as F
from ...nn.container import ModuleList
from ...nn.dropout import Dropout
from ...nn.linear import Linear
from ...nn.module import Module
from ...nn.normalization import BatchNorm1d
from .conv import GATConv, GATv2Conv, GCNConv, GINConv

_ACTS = {"relu": F.relu, "elu": F.elu, "gelu": F.gelu, "tanh": F.tanh, "silu": F.silu,
         "sigmoid": F.sigmoid, "leaky_relu": F.leaky_relu}


def _activation(act, kwargs, who):
    if act is None or callable(act):
        return act
    if act not in _ACTS:
        raise ValueError(f"{who}: act must be None, a callable or one of {sorted(_ACTS)}, "
                         f"got {act!r}")
    fn, kw = _ACTS[act], dict(kwargs or {})
    return (lambda x: fn(x, **kw)) if kw else fn


class BatchNorm(Module):
    """torch_geometric.nn.norm.BatchNorm: BatchNorm1d over nodes, held as `module` (keys
    module.weight, module.bias, module.running_mean, ...)."""

    def __init__(self, in_channels, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True):
        super().__init__()
        self.in_channels = in_channels
        self.module = BatchNorm1d(in_channels, eps, momentum, affine, track_running_stats)

    def reset_parameters(self):
        self.module.reset_parameters()

    def forward(self, x):
        return self.module(x)


_NORMS = {None: None, "batch_norm": BatchNorm, "batchnorm": BatchNorm}


class MLP(Module):
    """torch_geometric.nn.MLP: Linear layers (keys lins.0.weight, ...), each but the last
    followed by norm (BatchNorm by default, keys norms.0.module.*; norm=None for none),
    act (before the norm with act_first) and dropout; the last layer plain."""

    def __init__(self, channel_list, dropout=0.0, act="relu", act_first=False,
                 act_kwargs=None, norm="batch_norm", norm_kwargs=None, bias=True):
        super().__init__()
        key = norm.lower() if isinstance(norm, str) else norm
        if key not in _NORMS:
            raise ValueError(f"MLP: norm must be None or 'batch_norm', got {norm!r}")
        self.channel_list = list(channel_list)
        self.act = _activation(act, act_kwargs, "MLP")
        self.act_first, self.dropout = act_first, dropout
        self.lins = ModuleList([Linear(a, b, bias=bias) for a, b in
                                zip(self.channel_list[:-1], self.channel_list[1:])])
        hidden = self.channel_list[1:-1]
        self.norms = ModuleList([_NORMS[key](c, **(norm_kwargs or {})) for c in hidden]
                                if key is not None else [])

    @property
    def in_channels(self):
        return self.channel_list[0]

    def reset_parameters(self):
        for layer in (*self.lins, *self.norms):
            layer.reset_parameters()

    def forward(self, x):
        for k, lin in enumerate(self.lins[:-1]):
            x = lin(x)
            if self.act is not None and self.act_first:
                x = self.act(x)
            if self.norms:
                x = self.norms[k](x)
            if self.act is not None and not self.act_first:
                x = self.act(x)
            x = F.dropout(x, p=self.dropout, training=self.training)
        return self.lins[-1](x)


class BasicGNN(Module):
    """The shared stack (see the module docstring); subclasses say which conv."""

    def __init__(self, in_channels, hidden_channels, num_layers, out_channels=None,
                 dropout=0.0, act="relu", act_first=False, act_kwargs=None, norm=None,
                 norm_kwargs=None, jk=None, **kwargs):
        super().__init__()
        who = type(self).__name__
        if norm is not None:
            raise NotImplementedError(f"{who}: norm={norm!r} is not supported (norm=None only)")
        if jk not in (None, "last", "cat", "max"):
            raise ValueError(f"{who}: jk must be None, 'last', 'cat' or 'max', got {jk!r}")
        self.in_channels, self.hidden_channels = in_channels, hidden_channels
        self.num_layers, self.jk_mode, self.act_first = num_layers, jk, act_first
        self.out_channels = hidden_channels if out_channels is None else out_channels
        self.dropout = Dropout(p=dropout)
        self.act = _activation(act, act_kwargs, who)
        self._is_conv_to_out = out_channels is not None and jk is None
        convs = []
        for k in range(num_layers):
            last = k == num_layers - 1
            out = out_channels if last and self._is_conv_to_out else hidden_channels
            convs.append(self.init_conv(in_channels if k == 0 else hidden_channels, out,
                                        last and self._is_conv_to_out, **kwargs))
        self.convs = ModuleList(convs)
        if jk is not None:
            width = num_layers * hidden_channels if jk == "cat" else hidden_channels
            self.lin = Linear(width, self.out_channels)

    def init_conv(self, in_channels, out_channels, to_out, **kwargs):
        raise NotImplementedError

    def reset_parameters(self):
        for conv in self.convs:
            conv.reset_parameters()
        if self.jk_mode is not None:
            self.lin.reset_parameters()

    def _conv(self, conv, x, edge_index, edge_weight, edge_attr):
        return conv(x, edge_index)

    def forward(self, x, edge_index, edge_weight=None, edge_attr=None):
        xs = []
        for k, conv in enumerate(self.convs):
            x = self._conv(conv, x, edge_index, edge_weight, edge_attr)
            if k < self.num_layers - 1 or self.jk_mode is not None:
                if self.act is not None:
                    x = self.act(x)
                x = self.dropout(x)
                xs.append(x)
        if self.jk_mode == "cat":
            x = ops.cat(xs, dim=-1)
        elif self.jk_mode == "max":
            x = ops.stack(xs, dim=-1).amax(dim=-1)
        return self.lin(x) if self.jk_mode is not None else x


class GCN(BasicGNN):
    """A stack of GCNConv layers (edge_weight passed to each)."""

    def init_conv(self, in_channels, out_channels, to_out, **kwargs):
        return GCNConv(in_channels, out_channels, **kwargs)

    def _conv(self, conv, x, edge_index, edge_weight, edge_attr):
        return conv(x, edge_index, edge_weight)


class GAT(BasicGNN):
    """A stack of GATConv (GATv2Conv with v2=True) layers (edge_attr passed to each)."""

    def init_conv(self, in_channels, out_channels, to_out, **kwargs):
        kwargs = dict(kwargs)
        v2, heads = kwargs.pop("v2", False), kwargs.pop("heads", 1)
        concat = False if to_out else kwargs.pop("concat", True)
        kwargs.pop("concat", None)
        if concat and out_channels % heads:
            raise ValueError(f"GAT: the output channels of 'GATConv' ({out_channels}) must "
                             f"be divisible by the number of heads ({heads})")
        if concat:
            out_channels //= heads
        conv = GATv2Conv if v2 else GATConv
        return conv(in_channels, out_channels, heads=heads, concat=concat,
                    dropout=self.dropout.p, **kwargs)

    def _conv(self, conv, x, edge_index, edge_weight, edge_attr):
        return conv(x, edge_index, edge_attr=edge_attr)


class GIN(BasicGNN):
    """A stack of GINConv layers, each with MLP([in, out, out])."""

    def init_conv(self, in_channels, out_channels, to_out, **kwargs):
        mlp = MLP([in_channels, out_channels, out_channels], act=self.act,
                  act_first=self.act_first, norm=None)
        return GINConv(mlp, **kwargs)
