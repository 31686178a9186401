"""Link prediction with a graph autoencoder (Kipf & Welling 2016, "Variational Graph
Auto-Encoders", the GAE row of table 1: Cora AUC 91.0, AP 92.0).

The undirected edges of Cora are split at random 85 / 5 / 10 (RandomLinkSplit: one draw of
the pairs, as many non-edges drawn for validation and for test). A two-layer GCN encoder
sees only the training edges:

    Z = GCN_2(relu(GCN_1(X, A_train)), A_train)          X (N, F) -> Z (N, 16), 32 hidden
    p(u ~ v) = sigma(z_u^T z_v)                          the inner-product decoder

and is trained by Adam on the binary cross-entropy of the training edges (label 1) and,
each epoch, as many fresh non-edges of the training graph (label 0). After every epoch Z
is computed from the training graph and scored on the validation pairs; the epoch of the best
validation AUC gives the test AUC and AP (sklearn.metrics' roc_auc_score and
average_precision_score over the test edges and test non-edges). Each run draws its own
split, initialisation and negatives from `seed + run`.

As in the paper the encoder never sees validation or test edges (PyG's example lets the
test graph hold the validation edges too).
"""
import os

import numpy as np

from .. import backend, nn, no_grad, ops, optim
from ..nn import functional as F
from .plot import save_figure

PAPER = {"auc": 91.0, "ap": 92.0}


class GAEEncoder(nn.Module):
    """Two GCNConv layers, relu between: (N, in) -> (N, out_channels). The normalised
    training graph is cached (the graph never changes in a run)."""

    def __init__(self, in_channels, hidden_channels=32, out_channels=16):
        super().__init__()
        from ..graph.nn import GCNConv
        self.conv1 = GCNConv(in_channels, hidden_channels, cached=True)
        self.conv2 = GCNConv(hidden_channels, out_channels, cached=True)

    def forward(self, x, edge_index):
        return self.conv2(self.conv1(x, edge_index).relu(), edge_index)


def inner_product(z, edge_index):
    """The decoder's logits z_u^T z_v for each pair (u, v) of edge_index (2, P): (P,)."""
    return (z[edge_index[0]] * z[edge_index[1]]).sum(-1)


def link_scores(z, pos, neg):
    """(labels, scores) as float64 arrays over the positive then the negative pairs."""
    with no_grad():
        scores = np.concatenate([inner_product(z, pos).numpy(), inner_product(z, neg).numpy()])
    labels = np.concatenate([np.ones(pos.shape[1]), np.zeros(neg.shape[1])])
    return labels, scores.astype(np.float64)


def auc_ap(z, pos, neg):
    """(ROC AUC, average precision) of the decoder's scores on positives `pos` against
    negatives `neg` (each (2, P)), as fractions."""
    from sklearn.metrics import average_precision_score, roc_auc_score
    labels, scores = link_scores(z, pos, neg)
    return float(roc_auc_score(labels, scores)), float(average_precision_score(labels, scores))


def split_edges(data, val, test, rng):
    """RandomLinkSplit of the undirected graph: (train, val, test) Data, each with
    pos_edge_label_index, the held-out ones also neg_edge_label_index."""
    from ..graph.utils import RandomLinkSplit
    return RandomLinkSplit(num_val=val, num_test=test, is_undirected=True, split_labels=True,
                           add_negative_train_samples=False, generator=rng)(data)


def train_gae(data, epochs=200, hidden=32, out_channels=16, lr=0.01, val=0.05, test=0.1,
              seed=0):
    """One run (see the module docstring) on the graph `data`. Returns {"loss", "val_auc",
    "val_ap" (per epoch), "best_epoch" (1-based), "test_auc", "test_ap" (fractions),
    "num_edges" (training, validation, test positive pairs)}."""
    from ..graph.utils import negative_sampling
    rng = np.random.default_rng(seed)
    backend.manual_seed(seed)
    train, valid, tested = split_edges(data, val, test, rng)
    model = GAEEncoder(data.x.shape[1], hidden, out_channels)
    opt = optim.Adam(model.parameters(), lr=lr)
    pos = train.pos_edge_label_index
    history = {"loss": [], "val_auc": [], "val_ap": [],
               "num_edges": [int(d.pos_edge_label_index.shape[1]) for d in (train, valid, tested)]}
    best = (-1.0, 0, 0.0, 0.0)
    for epoch in range(epochs + 1):
        model.train()
        z = model(train.x, train.edge_index)   # the parameters after `epoch` steps
        if epoch:   # no dropout: this Z is the one an eval pass would give
            zd = z.detach()
            val_auc, val_ap = auc_ap(zd, valid.pos_edge_label_index,
                                     valid.neg_edge_label_index)
            history["val_auc"].append(val_auc)
            history["val_ap"].append(val_ap)
            if val_auc > best[0]:
                best = (val_auc, epoch, *auc_ap(zd, tested.pos_edge_label_index,
                                                tested.neg_edge_label_index))
        if epoch == epochs:
            break
        opt.zero_grad()
        neg = negative_sampling(train.edge_index, data.num_nodes, num_neg_samples=pos.shape[1],
                                generator=rng)
        pos_logits, neg_logits = inner_product(z, pos), inner_product(z, neg)
        loss = (F.binary_cross_entropy_with_logits(pos_logits, ops.ones_like(pos_logits))
                + F.binary_cross_entropy_with_logits(neg_logits, ops.zeros_like(neg_logits)))
        loss.backward()
        opt.step()
        history["loss"].append(float(loss.item()))
    history.update(best_epoch=best[1], test_auc=best[2], test_ap=best[3])
    return history


def mean_std(values):
    """(mean, sample standard deviation; 0 for one value) of a list, as floats."""
    values = np.asarray(values, dtype=np.float64)
    return float(values.mean()), float(values.std(ddof=1)) if values.size > 1 else 0.0


def link_prediction(root=None, name="Cora", runs=10, epochs=200, hidden=32, out_channels=16,
                    lr=0.01, val=0.05, test=0.1, seed=0, out=None):
    """GAE link prediction on Planetoid `name` (raw files found from `root`, see
    Planetoid), `runs` runs with seeds seed, seed + 1, ... (see the module docstring).

    Returns {"name", "runs", "epochs", "hidden", "out_channels", "lr", "val", "test",
    "seed", "num_edges" (train, val, test positive pairs), "test_auc", "test_ap" (per run,
    percent), "auc", "ap" ((mean, std) in percent), "best_epoch" (per run), "loss",
    "val_auc" (per run and epoch; AUC as a fraction), "paper", "plot"}; plot is the PNG
    written in `out` (link_prediction.png), None without `out`."""
    from ..graph.datasets import Planetoid
    if runs < 1 or epochs < 1 or not (0 < val and 0 < test and val + test < 1):
        raise ValueError(f"link_prediction: runs >= 1, epochs >= 1 and val, test > 0 with "
                         f"val + test < 1 are needed, got runs={runs}, epochs={epochs}, "
                         f"val={val}, test={test}")
    data = Planetoid(root, name)[0]
    per_run = [train_gae(data, epochs, hidden, out_channels, lr, val, test, seed + r)
               for r in range(runs)]
    test_auc = [100 * h["test_auc"] for h in per_run]
    test_ap = [100 * h["test_ap"] for h in per_run]
    result = {"name": name, "runs": runs, "epochs": epochs, "hidden": hidden,
              "out_channels": out_channels, "lr": lr, "val": val, "test": test, "seed": seed,
              "num_edges": per_run[0]["num_edges"], "test_auc": test_auc, "test_ap": test_ap,
              "auc": mean_std(test_auc), "ap": mean_std(test_ap),
              "best_epoch": [h["best_epoch"] for h in per_run],
              "loss": [h["loss"] for h in per_run], "val_auc": [h["val_auc"] for h in per_run],
              "val_ap": [h["val_ap"] for h in per_run], "paper": dict(PAPER), "plot": None}
    if out is not None:
        os.makedirs(out, exist_ok=True)
        result["plot"] = write_plot(result, os.path.join(out, "link_prediction.png"))
    return result


def write_plot(result, path):
    """Two panels against the epoch, mean over runs: the training loss, and the validation
    AUC and AP (percent) with the test figures and the paper's; returns `path`."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(11, 4.2), dpi=100)
    loss_ax, val_ax = fig.subplots(1, 2)
    epochs = np.arange(1, result["epochs"] + 1)
    loss_ax.plot(epochs, np.mean(result["loss"], axis=0), color="C0", label="BCE, pos + neg")
    loss_ax.set_title(f"GAE on {result['name']}: training loss ({result['runs']} runs)")
    loss_ax.set_ylabel("loss")
    for key, colour in (("auc", "C0"), ("ap", "C1")):
        curve = 100 * np.mean(result[f"val_{key}"], axis=0)
        mean, std = result[key]
        val_ax.plot(epochs, curve, color=colour, label=f"validation {key.upper()}")
        val_ax.axhline(mean, color=colour, ls="--", lw=1,
                       label=f"test {key.upper()} {mean:.1f} +- {std:.1f}")
        val_ax.axhline(result["paper"][key], color=colour, ls=":", lw=1,
                       label=f"paper {key.upper()} {result['paper'][key]:.1f}")
    val_ax.set_title("validation AUC / AP; test at the best validation AUC")
    val_ax.set_ylabel("percent")
    val_ax.set_ylim(50, 100)
    for ax in (loss_ax, val_ax):
        ax.set_xlabel("epoch")
    return save_figure(fig, path)
