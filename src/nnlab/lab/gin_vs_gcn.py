"""Sum against mean aggregation on graphs that only a sum can tell apart (Xu et al. 2019,
"How Powerful are Graph Neural Networks?", section 5).

The WL-hard set (nnlab.graph.datasets.synthetic.wl_hard_graphs): pairs of graphs with the
same number of nodes and edges, class 0 a circulant graph (every node of degree 4), class
1 the same graph with one edge moved (one node of degree 3, one of degree 5). Every node
holds the same feature x_v = 1.

    GIN:    h_v <- MLP((1 + eps) h_v + sum_{u in N(v)} h_u),  readout sum_v h_v
            (MLP: Linear, BatchNorm1d, relu, Linear, as the paper's)
    mean:   h_v <- W_r h_v + W_l mean_{u in N(v)} h_u + b,   readout mean_v h_v
            (SAGEConv(aggr='mean'), PyG's mean-aggregation layer)

The first GIN layer sees the degrees (a sum of ones), so a node of degree 5 exists only in
class 1, and the sum readout can carry it to the classifier: GIN separates the classes.
Mean aggregation of equal vectors gives that vector again, so every node of every graph
holds the same h at every depth and the mean readout is the same for every graph: the
classifier can only guess, 50% on these balanced sets (the graphs' vectors differ by
rounding only). The mean layer is SAGEConv rather than GCNConv because GCNConv's symmetric
1 / sqrt(d_u d_v) weights are not a mean: they leak the degrees (wl_hard_graphs' docstring
says so); SAGEConv with aggr='mean' is the row-normalised D^-1 A of a "GCN with mean
aggregation", with the node's own term kept by a separate weight.

Both models get the same budget: `layers` convolutions of `hidden` channels with relu
after each, a Linear(hidden, 2) classifier on the readout, `epochs` full-batch Adam steps
on the training graphs' cross-entropy. GIN's BatchNorm is the paper's and needed in
practice: without it the degree-4 nodes' large equal sum N f(4) swamps the one-node
difference f(3) + f(5) - 2 f(4) in the readout and Adam stalls near log 2 (tried: 50-65%
training accuracy after 100-300 epochs); with it the degree-4 nodes are centred away.
Accuracies are measured in eval mode (BatchNorm on its running statistics, momentum 0.1):
GIN's test accuracy lags its training loss by some tens of epochs while those statistics
catch up. The pairs are split whole (a pair's two graphs both train or both test), so
every split is balanced. Each run draws its own graphs,
split and initialisation from `seed + run`.
"""
import os

import numpy as np

from .. import backend, nn, no_grad, optim
from ..nn import functional as F
from .link_prediction import mean_std
from .plot import save_figure

KINDS = ("gin", "mean")
LABELS = {"gin": "GIN (sum, sum readout)", "mean": "mean aggregation (SAGEConv, mean readout)"}


class GraphClassifier(nn.Module):
    """`layers` graph convolutions (GINConv with Linear(in, hidden), BatchNorm1d, relu,
    Linear(hidden, hidden) for kind 'gin', SAGEConv(aggr='mean') for 'mean'), relu after
    each, the readout (sum for 'gin', mean for 'mean') and Linear(hidden, num_classes).
    forward(x, edge_index, batch, num_graphs) -> (logits (G, C), readout (G, hidden))."""

    def __init__(self, kind, in_channels=1, hidden=32, layers=3, num_classes=2):
        super().__init__()
        from ..graph.nn import GINConv, SAGEConv, global_add_pool, global_mean_pool
        if kind not in KINDS:
            raise ValueError(f"GraphClassifier: kind must be one of {KINDS}, got {kind!r}")
        widths = [in_channels] + [hidden] * layers
        if kind == "gin":
            convs = [GINConv(nn.Sequential(nn.Linear(a, b), nn.BatchNorm1d(b), nn.ReLU(),
                                           nn.Linear(b, b)))
                     for a, b in zip(widths[:-1], widths[1:])]
            self.readout = global_add_pool
        else:
            convs = [SAGEConv(a, b, aggr="mean") for a, b in zip(widths[:-1], widths[1:])]
            self.readout = global_mean_pool
        self.convs = nn.ModuleList(convs)
        self.classifier = nn.Linear(hidden, num_classes)

    def forward(self, x, edge_index, batch, num_graphs):
        for conv in self.convs:
            x = conv(x, edge_index).relu()
        pooled = self.readout(x, batch, num_graphs)
        return self.classifier(pooled), pooled


def split_pairs(graphs, test_fraction, rng):
    """(train, test) lists of graphs, whole pairs (2k, 2k + 1) to each side, in a random
    order of the pairs; at least one pair on each side."""
    pairs = len(graphs) // 2
    order = rng.permutation(pairs)
    num_test = min(max(1, int(round(test_fraction * pairs))), pairs - 1)
    side = [[graphs[i] for p in order[start:stop] for i in (2 * p, 2 * p + 1)]
            for start, stop in ((num_test, pairs), (0, num_test))]
    return side[0], side[1]


def accuracy(logits, y):
    """The percentage of rows whose arg-max is y."""
    return 100.0 * float((logits.numpy().argmax(axis=1) == y.numpy()).mean())


def spread(pooled):
    """max_g ||r_g - mean_g r_g|| / (mean_g ||r_g|| + 1e-30) over the graphs' readouts
    (G, hidden): how far the graphs' vectors are from all being equal."""
    r = np.asarray(pooled.numpy(), dtype=np.float64)
    norms = np.linalg.norm(r, axis=1)
    return float(np.linalg.norm(r - r.mean(axis=0), axis=1).max() / (norms.mean() + 1e-30))


def train_classifier(kind, train, test, hidden, layers, epochs, lr, seed):
    """One model trained `epochs` full-batch Adam steps on the Batch `train`; returns
    {"loss", "test_curve" (per epoch, percent), "train_accuracy", "test_accuracy",
    "spread" (of the training graphs' readouts)}."""
    backend.manual_seed(seed)
    model = GraphClassifier(kind, train.x.shape[1], hidden, layers)
    opt = optim.Adam(model.parameters(), lr=lr)
    out = {"loss": [], "test_curve": []}
    for _ in range(epochs):
        model.train()
        opt.zero_grad()
        logits, _ = model(train.x, train.edge_index, train.batch, train.num_graphs)
        loss = F.cross_entropy(logits, train.y)
        loss.backward()
        opt.step()
        out["loss"].append(float(loss.item()))
        model.eval()
        with no_grad():
            out["test_curve"].append(accuracy(model(test.x, test.edge_index, test.batch,
                                                    test.num_graphs)[0], test.y))
    model.eval()
    with no_grad():
        logits, pooled = model(train.x, train.edge_index, train.batch, train.num_graphs)
    out.update(train_accuracy=accuracy(logits, train.y), spread=spread(pooled),
               test_accuracy=out["test_curve"][-1] if epochs else
               accuracy(model(test.x, test.edge_index, test.batch, test.num_graphs)[0],
                        test.y))
    return out


def gin_vs_gcn(num_graphs=200, num_nodes=(12, 20), degree=4, hidden=32, layers=3,
               epochs=100, lr=0.01, test_fraction=0.2, runs=10, seed=0, out=None):
    """GIN against mean aggregation on `num_graphs` WL-hard graphs (see the module
    docstring), `runs` runs with seeds seed, seed + 1, ...

    Returns {"num_graphs", "num_nodes", "degree", "hidden", "layers", "epochs", "lr",
    "test_fraction", "runs", "seed", "num_train", "num_test", "train_accuracy",
    "test_accuracy" ({kind: per-run percent}), "train", "test" ({kind: (mean, std)}),
    "spread" ({kind: per run}), "loss", "test_curve" ({kind: per run and epoch}),
    "plot"}; kind "gin" or "mean"; plot is the PNG written in `out` (gin_vs_gcn.png), None
    without `out`."""
    from ..graph.batch import Batch
    from ..graph.datasets.synthetic import wl_hard_graphs
    if num_graphs < 4 or runs < 1 or epochs < 0 or not 0 < test_fraction < 1:
        raise ValueError(f"gin_vs_gcn: num_graphs >= 4, runs >= 1, epochs >= 0 and "
                         f"0 < test_fraction < 1 are needed, got num_graphs={num_graphs}, "
                         f"runs={runs}, epochs={epochs}, test_fraction={test_fraction}")
    per = {kind: [] for kind in KINDS}
    sizes = None
    for r in range(runs):
        rng = np.random.default_rng(seed + r)
        graphs = wl_hard_graphs(num_graphs - num_graphs % 2, tuple(num_nodes), degree,
                                generator=rng)
        train, test = split_pairs(graphs, test_fraction, rng)
        sizes = sizes or (len(train), len(test))
        train, test = Batch.from_data_list(train), Batch.from_data_list(test)
        for kind in KINDS:
            per[kind].append(train_classifier(kind, train, test, hidden, layers, epochs, lr,
                                              seed + r))
    result = {"num_graphs": num_graphs - num_graphs % 2, "num_nodes": list(num_nodes),
              "degree": degree, "hidden": hidden, "layers": layers, "epochs": epochs,
              "lr": lr, "test_fraction": test_fraction, "runs": runs, "seed": seed,
              "num_train": sizes[0], "num_test": sizes[1], "plot": None}
    for key in ("train_accuracy", "test_accuracy", "spread", "loss", "test_curve"):
        result[key] = {kind: [run[key] for run in per[kind]] for kind in KINDS}
    result["train"] = {kind: mean_std(result["train_accuracy"][kind]) for kind in KINDS}
    result["test"] = {kind: mean_std(result["test_accuracy"][kind]) for kind in KINDS}
    if out is not None:
        os.makedirs(out, exist_ok=True)
        result["plot"] = write_plot(result, os.path.join(out, "gin_vs_gcn.png"))
    return result


def write_plot(result, path):
    """Two panels against the epoch, mean over runs: the training cross-entropy and the
    test accuracy, GIN against mean aggregation; returns `path`."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(11, 4.2), dpi=100)
    loss_ax, acc_ax = fig.subplots(1, 2)
    epochs = np.arange(1, result["epochs"] + 1)
    for kind, colour in zip(KINDS, ("C0", "C1")):
        if result["epochs"]:
            loss_ax.plot(epochs, np.mean(result["loss"][kind], axis=0), color=colour,
                         label=LABELS[kind])
            mean, std = result["test"][kind]
            acc_ax.plot(epochs, np.mean(result["test_curve"][kind], axis=0), color=colour,
                        label=f"{LABELS[kind]}: {mean:.1f} +- {std:.1f}")
    loss_ax.axhline(np.log(2), color="grey", lw=0.8, ls=":", label="log 2 (a guess)")
    acc_ax.axhline(50, color="grey", lw=0.8, ls=":", label="chance")
    loss_ax.set_title(f"WL-hard graphs: training loss ({result['runs']} runs)")
    loss_ax.set_ylabel("cross-entropy")
    acc_ax.set_title(f"test accuracy ({result['num_test']} graphs)")
    acc_ax.set_ylabel("percent")
    acc_ax.set_ylim(0, 105)
    for ax in (loss_ax, acc_ax):
        ax.set_xlabel("epoch")
    return save_figure(fig, path)
