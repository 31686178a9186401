"""Oversmoothing: deep GCNs make every node look alike (Li et al. 2018; Oono & Suzuki 2020;
Cai & Wang 2020), and residual connections slow it down.

A GCN layer multiplies by P = D~^-1/2 (A + I) D~^-1/2, whose eigenvalues lie in (-1, 1]
with the eigenvalue 1 on D~^1/2 1 (one per connected component). Repeated, P^k X tends to
that eigenvector's span: the rows of X differ only by the degree factor, the features
carry no more than which component a node is in. A measure of how far X is from that span
is the normalised Dirichlet energy (a Rayleigh quotient of the normalised Laplacian):

    E(X) = tr(X^T (I - P) X) / tr(X^T X)
         = sum_{(i,j) edges} ||x_i / sqrt(d~_i) - x_j / sqrt(d~_j)||^2 / (2 sum_i ||x_i||^2),

in [0, 2), 0 exactly on the span, unchanged by any scaling of X. Beside it, the mean
pairwise cosine distance of the rows (MAD over all pairs, Chen et al. 2020), 1 - mean over
i != j of cos(x_i, x_j), an all-zero row left out.

For each depth L, a GCN of L convolutions (the first F -> hidden, the rest hidden ->
hidden), then a Linear classifier; `residual` adds the identity around every hidden ->
hidden layer:

    plain:     h <- relu(conv(h))
    residual:  h <- h + relu(conv(h))

each trained full batch on the public Planetoid split (Adam, cross-entropy on the training
nodes, weight decay, the same number of epochs for every model), with dropout on the input
features and on the classifier's input only (dropout inside a 32-layer stack would add
noise the shallow models do not get). Measured on the final
model (eval mode): test accuracy, and E and the MAD of the node embeddings h (N, hidden)
after the last convolution. Untrained: E after each layer of a freshly initialised GCN of
the largest depth (plain and residual), and of P^k X alone (no weights, no relu): the pure
smoothing effect. A trained model that has collapsed need not have a small energy (rows
equal but not proportional to sqrt(d~_i) have E > 0, and the biases add such rows): its
cosine distance shows the collapse (on Cora, plain depth 16 and 32: 0.02 against 0.4-0.5).
"""
import os

import numpy as np

from .. import backend, nn, no_grad, optim
from ..nn import functional as F
from .link_prediction import mean_std
from .plot import save_figure

KINDS = ("plain", "residual")


class DeepGCN(nn.Module):
    """`depth` GCNConv layers (in -> hidden, then hidden -> hidden, identity shortcuts
    around those with `residual`) and a Linear(hidden, num_classes) classifier; dropout
    on the input and on the classifier's input.
    forward(x, edge_index) -> (logits (N, C), [h after each conv] (each (N, hidden)))."""

    def __init__(self, in_channels, hidden, num_classes, depth, residual=False, dropout=0.5):
        super().__init__()
        from ..graph.nn import GCNConv
        self.residual, self.dropout = residual, dropout
        self.convs = nn.ModuleList([GCNConv(in_channels if k == 0 else hidden, hidden,
                                            cached=True) for k in range(depth)])
        self.classifier = nn.Linear(hidden, num_classes)

    def forward(self, x, edge_index):
        hs, h = [], x
        for k, conv in enumerate(self.convs):
            if k == 0:
                h = F.dropout(h, self.dropout, self.training)
            out = conv(h, edge_index).relu()
            h = h + out if self.residual and k > 0 else out
            hs.append(h)
        return self.classifier(F.dropout(h, self.dropout, self.training)), hs


def gcn_propagation(edge_index, num_nodes):
    """P = D~^-1/2 (A + I) D~^-1/2 as a scipy CSR matrix (float64)."""
    import scipy.sparse as sp
    ei = np.asarray(edge_index.numpy() if hasattr(edge_index, "numpy") else edge_index)
    keep = ei[0] != ei[1]
    loops = np.arange(num_nodes)
    row = np.concatenate([ei[0][keep], loops])
    col = np.concatenate([ei[1][keep], loops])
    a = sp.csr_matrix((np.ones(row.size), (row, col)), shape=(num_nodes, num_nodes))
    a.sum_duplicates()
    a.data[:] = 1.0
    inv_sqrt = 1.0 / np.sqrt(np.asarray(a.sum(axis=0)).ravel())
    return sp.diags(inv_sqrt) @ a @ sp.diags(inv_sqrt)


def dirichlet_energy(x, p):
    """The normalised Dirichlet energy tr(X^T (I - P) X) / tr(X^T X) of x (N, F) for the
    propagation matrix p (N, N); 0 for an all-zero x (nothing left to tell apart)."""
    x = np.asarray(x, dtype=np.float64)
    norm = float((x * x).sum())
    if norm == 0.0:
        return 0.0
    return float(norm - (x * (p @ x)).sum()) / norm


def mean_cosine_distance(x):
    """1 - the mean over pairs i != j of cos(x_i, x_j), rows of norm 0 left out (0 when
    fewer than two rows are left): sum_{i != j} u_i . u_j = ||sum_i u_i||^2 - M for the
    M unit rows u_i."""
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1)
    u = x[norms > 0] / norms[norms > 0, None]
    m = u.shape[0]
    if m < 2:
        return 0.0
    total = u.sum(axis=0)
    return float(1.0 - (total @ total - m) / (m * (m - 1)))


def train_gcn(data, depth, residual, hidden, epochs, lr, weight_decay, dropout, seed):
    """A DeepGCN trained `epochs` full-batch Adam steps from `seed`; returns the model."""
    backend.manual_seed(seed)
    model = DeepGCN(data.x.shape[1], hidden, int(data.y.max().item()) + 1, depth, residual,
                    dropout)
    opt = optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    train = data.train_mask
    for _ in range(epochs):
        model.train()
        opt.zero_grad()
        logits, _ = model(data.x, data.edge_index)
        F.cross_entropy(logits[train], data.y[train]).backward()
        opt.step()
    return model


def evaluate(model, data, p):
    """(test accuracy in percent, [E of h after each conv], MAD of the last h), eval mode."""
    model.eval()
    with no_grad():
        logits, hs = model(data.x, data.edge_index)
    test = data.test_mask.numpy()
    pred = logits.numpy().argmax(axis=1)
    accuracy = 100.0 * float((pred[test] == data.y.numpy()[test]).mean())
    return (accuracy, [dirichlet_energy(h.numpy(), p) for h in hs],
            mean_cosine_distance(hs[-1].numpy()))


def oversmoothing(root=None, name="Cora", depths=(2, 4, 8, 16, 32), hidden=64, epochs=50,
                  lr=0.01, weight_decay=5e-4, dropout=0.5, runs=2, seed=0, out=None):
    """Test accuracy and the smoothness of the final embeddings of plain and residual
    GCNs for each depth in `depths` on Planetoid `name` (see the module docstring), each
    a mean over `runs` initialisations (seeds seed, seed + 1, ...).

    Returns {"name", "depths", "hidden", "epochs", "lr", "weight_decay", "dropout",
    "runs", "seed", "accuracy", "energy", "distance", "untrained", "plot"}: accuracy[kind]
    is a list over depths of (mean, std) in percent; energy[kind] and distance[kind] lists
    over depths of (mean, std) (kind "plain" or "residual"); untrained = {"layers" (1 ..
    max depth), "plain", "residual" (E after each layer, mean over runs), "propagation"
    (E of P^k X for k = 0 .. max depth)}; plot is the PNG written in `out`
    (oversmoothing.png), None without `out`."""
    from ..graph.datasets import Planetoid
    depths = [int(d) for d in depths]
    if not depths or min(depths) < 1 or runs < 1 or epochs < 0:
        raise ValueError(f"oversmoothing: depths >= 1, runs >= 1 and epochs >= 0 are needed, "
                         f"got depths={depths}, runs={runs}, epochs={epochs}")
    data = Planetoid(root, name)[0]
    p = gcn_propagation(data.edge_index, data.num_nodes)
    acc = {kind: [[] for _ in depths] for kind in KINDS}
    energy = {kind: [[] for _ in depths] for kind in KINDS}
    distance = {kind: [[] for _ in depths] for kind in KINDS}
    untrained = {kind: [] for kind in KINDS}
    for r in range(runs):
        for kind in KINDS:
            residual = kind == "residual"
            fresh = train_gcn(data, max(depths), residual, hidden, 0, lr, weight_decay,
                              dropout, seed + r)
            untrained[kind].append(evaluate(fresh, data, p)[1])
            for i, depth in enumerate(depths):
                model = train_gcn(data, depth, residual, hidden, epochs, lr, weight_decay,
                                  dropout, seed + r)
                a, e, d = evaluate(model, data, p)
                acc[kind][i].append(a)
                energy[kind][i].append(e[-1])
                distance[kind][i].append(d)
    x = data.x.numpy().astype(np.float64)
    propagation = [dirichlet_energy(x, p)]
    for _ in range(max(depths)):
        x = p @ x
        propagation.append(dirichlet_energy(x, p))
    result = {"name": name, "depths": depths, "hidden": hidden, "epochs": epochs, "lr": lr,
              "weight_decay": weight_decay, "dropout": dropout, "runs": runs, "seed": seed,
              "accuracy": {k: [mean_std(v) for v in acc[k]] for k in KINDS},
              "energy": {k: [mean_std(v) for v in energy[k]] for k in KINDS},
              "distance": {k: [mean_std(v) for v in distance[k]] for k in KINDS},
              "untrained": {"layers": list(range(1, max(depths) + 1)),
                            **{k: np.mean(untrained[k], axis=0).tolist() for k in KINDS},
                            "propagation": propagation},
              "plot": None}
    if out is not None:
        os.makedirs(out, exist_ok=True)
        result["plot"] = write_plot(result, os.path.join(out, "oversmoothing.png"))
    return result


def write_plot(result, path):
    """Two panels against depth (log 2): test accuracy, and the normalised Dirichlet
    energy and mean cosine distance of the trained models' final embeddings, with the
    energy of untrained ones layer by layer and of P^k X; returns `path`."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(11, 4.2), dpi=100)
    acc_ax, energy_ax = fig.subplots(1, 2)
    depths = result["depths"]
    colours = {"plain": "C0", "residual": "C1"}
    for kind in KINDS:
        mean, std = np.array(result["accuracy"][kind]).T
        acc_ax.errorbar(depths, mean, yerr=std, color=colours[kind], marker="o", capsize=3,
                        label=kind)
        energy_ax.plot(depths, [m for m, _ in result["energy"][kind]], color=colours[kind],
                       marker="o", label=f"{kind}, trained: energy")
        energy_ax.plot(depths, [m for m, _ in result["distance"][kind]], "-.",
                       color=colours[kind], marker="s", mfc="none",
                       label=f"{kind}, trained: cosine distance")
        energy_ax.plot(result["untrained"]["layers"], result["untrained"][kind], "--",
                       color=colours[kind], label=f"{kind}, untrained: energy after layer k")
    k = np.arange(len(result["untrained"]["propagation"]))
    energy_ax.plot(k[1:], result["untrained"]["propagation"][1:], ":", color="grey",
                   label="P^k X (no weights): energy")
    acc_ax.set_title(f"GCN on {result['name']}: test accuracy after {result['epochs']} "
                     f"epochs ({result['runs']} runs)")
    acc_ax.set_ylabel("test accuracy (%)")
    energy_ax.set_title("embeddings: Dirichlet energy, mean cosine distance")
    energy_ax.set_ylabel("tr(X^T (I - P) X) / tr(X^T X);  1 - mean cos")
    values = [v for kind in KINDS for key in ("energy", "distance")
              for v, _ in result[key][kind]]
    values += result["untrained"]["propagation"][1:] + [v for kind in KINDS
                                                         for v in result["untrained"][kind]]
    if all(v > 0 for v in values):
        energy_ax.set_yscale("log")
    for ax in (acc_ax, energy_ax):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("depth (graph convolutions)")
    return save_figure(fig, path)
