"""Graph neural network training steps against PyTorch Geometric: a 2-layer GCN and GAT on
Cora (the real graph, through nnlab's Planetoid), a GCN and a GraphSAGE model full-batch on
a random graph of 100,000 nodes and 1,000,000 edges. One step: forward, cross-entropy on
the training nodes, backward, Adam. The same code builds both sides: `G` is nnlab.graph.nn
or torch_geometric.nn, `lib` nnlab or torch, and the same NumPy weights (PyG's state_dict
keys) go into both. No dropout: both sides compute the same step.

At small size (the parity test) the graph is a random one of a few nodes, so the test
needs neither the Cora files nor much time.
"""
import numpy as np

from ..registry import Step, Workload, register
from .training import TrainStep


def gnn(lib, G, conv, dims, act, heads=1, cached=False):
    """conv(dims[0] -> dims[1]) -> act -> conv(dims[1] -> dims[2]) as a Module of `lib`
    (heads > 1: GAT with `heads` concatenated heads of dims[1] // heads in layer 1)."""
    nn, F = lib.nn, lib.nn.functional
    d_in, d_hidden, d_out = dims

    class GNN(nn.Module):
        def __init__(self):
            super().__init__()
            if conv == "GATConv":
                self.conv1 = G.GATConv(d_in, d_hidden // heads, heads=heads)
                self.conv2 = G.GATConv(d_hidden, d_out, heads=1)
            elif conv == "GCNConv":
                self.conv1 = G.GCNConv(d_in, d_hidden, cached=cached)
                self.conv2 = G.GCNConv(d_hidden, d_out, cached=cached)
            else:
                self.conv1 = getattr(G, conv)(d_in, d_hidden)
                self.conv2 = getattr(G, conv)(d_hidden, d_out)

        def forward(self, x, edge_index):
            return self.conv2(getattr(F, act)(self.conv1(x, edge_index)), edge_index)

    return GNN()


def random_graph(rng, n, e, features, classes):
    """(x (n, features) float32, edge_index (2, e) int64 of uniform random edges, y (n,))."""
    x = rng.standard_normal((n, features), dtype=np.float32)
    edge_index = rng.integers(0, n, (2, e), dtype=np.int64)
    return x, edge_index, rng.integers(0, classes, n, dtype=np.int64)


def weights(rng, model):
    """{key: float32 array} for every parameter of `model`: glorot-uniform matrices and
    attention vectors (fan-in + fan-out of their last two dims), small uniform biases; one
    set for both sides, drawn in sorted key order."""
    state = {}
    for key, p in sorted(model.named_parameters()):
        shape = tuple(p.shape)
        bound = (np.sqrt(6.0 / (shape[-2] + shape[-1])) if len(shape) > 1 else 0.1)
        state[key] = rng.uniform(-bound, bound, shape).astype(np.float32)
    return state


class NodeTrainStep(TrainStep):
    """A training step of node classification: cross_entropy(model(x, edge_index)[train],
    y), backward, optimiser step."""

    def __init__(self, model, cross_entropy, optimizer, x, edge_index, y, train):
        Step.__init__(self, lambda: cross_entropy(model(x, edge_index)[train], y),
                      dict(model.named_parameters()))
        self.optimizer = optimizer


class GraphTraining(Workload):
    """A 2-layer `conv` model trained on (x, edge_index, y) at the nodes `train`."""

    conv = "GCNConv"
    act = "relu"
    heads = 1
    cached = False
    hidden = 16

    def graph(self):
        """(x, edge_index, y, train node ids) as NumPy arrays, and the class count."""
        raise NotImplementedError

    def build(self, lib, G):
        rng = self.rng()
        (x, edge_index, y, train), classes = self.graph()
        hidden, heads = (4, min(self.heads, 2)) if self.small else (self.hidden, self.heads)
        model = gnn(lib, G, self.conv, (x.shape[1], hidden, classes), self.act, heads,
                    self.cached)
        model.load_state_dict({k: lib.tensor(v) for k, v in weights(rng, model).items()})
        x, edge_index = lib.tensor(x), lib.tensor(edge_index)
        train, y = lib.tensor(train), lib.tensor(y[train])
        optimizer = lib.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
        return NodeTrainStep(model, lib.nn.functional.cross_entropy, optimizer, x,
                             edge_index, y, train)

    def setup_nnlab(self):
        import nnlab
        import nnlab.graph.nn as G
        return self.build(nnlab, G)

    def setup_torch(self):
        import torch
        import torch_geometric.nn as G
        return self.build(torch, G)


class CoraTraining(GraphTraining):
    """Cora's public split (140 training nodes, 1,433 features, 7 classes)."""

    def graph(self):
        if self.small:
            rng = np.random.default_rng(1)
            x, edge_index, y = random_graph(rng, 12, 40, 10, 3)
            return (x, edge_index, y, np.arange(0, 12, 2)), 3
        from nnlab.graph.datasets import Planetoid
        data = Planetoid(name="Cora")[0]
        train = np.flatnonzero(data.train_mask.numpy())
        return (data.x.numpy(), data.edge_index.numpy(), data.y.numpy(), train), 7


class RandomGraphTraining(GraphTraining):
    """100,000 nodes, 1,000,000 uniform random edges, 128 features, 16 classes, every node
    trains (full batch)."""

    hidden = 64

    def graph(self):
        n, e, f = (30, 120, 8) if self.small else (100_000, 1_000_000, 128)
        x, edge_index, y = random_graph(np.random.default_rng(1), n, e, f, 16)
        return (x, edge_index, y, np.arange(n)), 16


@register
class GCNCora(CoraTraining):
    name = "gcn-cora"
    description = ("GCNConv(1433, 16) -> ReLU -> GCNConv(16, 7) (cached) on Cora, "
                   "cross-entropy on the 140 training nodes, Adam step")
    target = 1.0
    cached = True


@register
class GATCora(CoraTraining):
    name = "gat-cora"
    description = ("GATConv(1433, 8, heads=8) -> ELU -> GATConv(64, 7) on Cora, "
                   "cross-entropy on the 140 training nodes, Adam step")
    target = 1.0
    conv, act, heads, hidden = "GATConv", "elu", 8, 64


@register
class GCNRandom(RandomGraphTraining):
    name = "gcn-100k-1m"
    description = ("GCNConv(128, 64) -> ReLU -> GCNConv(64, 16) (cached), 100k nodes, "
                   "1M random edges, full-batch cross-entropy, Adam step")
    target = 1.2
    cached = True


@register
class SAGERandom(RandomGraphTraining):
    name = "sage-100k-1m"
    description = ("SAGEConv(128, 64) -> ReLU -> SAGEConv(64, 16) (mean), 100k nodes, "
                   "1M random edges, full-batch cross-entropy, Adam step")
    target = 1.2
    conv = "SAGEConv"
