"""The GCN and GAT papers' Planetoid tables (public split), as many seeded runs.

    gcn_cora   Kipf & Welling 2017, Table 2: a 2-layer GCN, 16 hidden, ReLU, dropout 0.5
               on the input and the hidden layer, L2 5e-4 on the first layer only, Adam lr
               0.01, at most 200 epochs, Kipf's early stop: stop once the validation loss
               exceeds the mean of the 10 epochs before it; test accuracy of the last model.
               Paper: Cora 81.5, CiteSeer 70.3 (PyG's examples/gcn.py: Cora 81.5 +- 0.6).
               The layers have no bias, as in Kipf's code: with PyG's biases (decayed in
               conv1) the validation loss is noisier, the rule stops at a spike near
               epoch 120 and Cora falls to 80.5 (12 runs); without, most runs reach 200.
    gat_cora   Velickovic et al. 2018, Table 2: GATConv 8 heads x 8 (concatenated), ELU,
               GATConv 1 head to the classes, dropout 0.6 on both layers' inputs and
               attention coefficients, Adam lr 0.005, L2 5e-4, at most 1000 epochs; stop
               when neither the validation loss nor the accuracy improved for 100 epochs,
               then restore the model saved when both last improved (the authors' code).
               Paper: Cora 83.0 +- 0.7, CiteSeer 72.5 +- 0.7.

Features are row-normalised (PyG's NormalizeFeatures: x / max(sum_j x_ij, 1)). Run r is
seeded with seed + r (nnlab.manual_seed: the initialisation and every dropout mask), so a
run is bit-identical for the same seed. Validation loss and accuracy are measured in eval
mode (no dropout) after each training step.

Speed: X is 98.7% zeros on Cora (99.1% on CiteSeer), and dense dropout(X) W (2708 x 1433
by 1433 x 64 for GAT, with its backward and a 3.9M-element mask) was most of an epoch.
The first layer's `lin` is replaced by `SparseInputLinear`, which holds the same weight
(same state_dict key) and computes dropout(X) W^T on X's nonzeros only, as Kipf's
sparse_dropout does: dropping a zero changes nothing, so the distribution is the same.
An epoch (train step + validation forward) on Cora, same process, alternating, on a busy
2-core machine: GCN 31-49 ms sparse against 450-540 ms dense, GAT 220-285 ms against
750-890 ms. What remains of a GAT epoch is GATConv's per-edge path (the segment softmax
of graph/utils/softmax.py, the (E, H, C) gather, product and segment sum) and its backward.
"""
import math
import os
import time

import numpy as np

from .. import backend, manual_seed, no_grad
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..nn import functional as F
from ..nn.module import Module
from ..optim import Adam
from .plot import save_figure

# (model, dataset) -> (mean, std or None) of the paper's test accuracy, percent
PAPER = {("gcn", "Cora"): (81.5, None), ("gcn", "CiteSeer"): (70.3, None),
         ("gat", "Cora"): (83.0, 0.7), ("gat", "CiteSeer"): (72.5, 0.7)}
DATASETS = ("Cora", "CiteSeer")


# -- the sparse first layer ----------------------------------------------------------------
class SparseLeftMatmul(Function):
    """y = S x for a constant scipy.sparse S (n, m) and x (m, k) -> (n, k)."""

    @staticmethod
    def forward(ctx, x, mat):
        ctx.mat = mat
        return np.asarray(mat @ x, dtype=x.dtype)

    @staticmethod
    def backward(ctx, gy):
        return SparseLeftMatmul.apply(gy, ctx.mat.T)   # dL/dx = S^T gy (CSC, no copy)


class SparseInputLinear(Module):
    """`dropout(x, p) W^T` (no bias) for one fixed input x (N, in), kept as CSR: dropout
    draws one keep-decision per stored nonzero (nnlab's generator), the product is sparse
    by dense. weight (out, in) is the Parameter of the Linear this replaces. Any other
    input than `features` takes the dense path, dropout(x) then x W^T."""

    def __init__(self, weight, features, p=0.0):
        import scipy.sparse
        super().__init__()
        self.weight = weight
        self.p = float(p)
        self._features = features
        self._csr = scipy.sparse.csr_matrix(features._data)

    def forward(self, x):
        if x is not self._features:
            return F.linear(F.dropout(x, self.p, self.training), self.weight)
        csr = self._csr
        if self.training and self.p > 0:
            keep = backend.generator().random(csr.nnz, dtype=np.float32) >= self.p
            data = csr.data * (keep * csr.data.dtype.type(1 / (1 - self.p)))
            csr = type(csr)((data, csr.indices, csr.indptr), shape=csr.shape)
        return SparseLeftMatmul.apply(self.weight.T, csr)

    def extra_repr(self):
        return f"in={self.weight.shape[1]}, out={self.weight.shape[0]}, p={self.p}, sparse"


# -- the models ----------------------------------------------------------------------------
class KipfGCN(Module):
    """conv2(dropout(relu(conv1(dropout(x))))), GCNConv(cached=True) both, without bias
    as Kipf's GraphConvolution (PyG's examples/gcn.py has one); the input dropout runs
    inside conv1.lin (SparseInputLinear)."""

    def __init__(self, features, num_classes, hidden=16, dropout=0.5, bias=False):
        from ..graph.nn import GCNConv
        super().__init__()
        self.dropout = dropout
        self.conv1 = GCNConv(features.shape[1], hidden, cached=True, bias=bias)
        self.conv2 = GCNConv(hidden, num_classes, cached=True, bias=bias)
        self.conv1.lin = SparseInputLinear(self.conv1.lin.weight, features, dropout)

    def forward(self, x, edge_index):
        x = F.relu(self.conv1(x, edge_index))
        x = F.dropout(x, self.dropout, self.training)
        return self.conv2(x, edge_index)


class PaperGAT(Module):
    """conv2(dropout(elu(conv1(dropout(x))))): GATConv(in, hidden, heads) concatenated, then
    GATConv(heads * hidden, classes, out_heads, concat=False); dropout on the inputs of both
    and on their attention coefficients. The input dropout runs inside conv1.lin."""

    def __init__(self, features, num_classes, hidden=8, heads=8, out_heads=1, dropout=0.6):
        from ..graph.nn import GATConv
        super().__init__()
        self.dropout = dropout
        self.conv1 = GATConv(features.shape[1], hidden, heads=heads, dropout=dropout)
        self.conv2 = GATConv(hidden * heads, num_classes, heads=out_heads, concat=False,
                             dropout=dropout)
        self.conv1.lin = SparseInputLinear(self.conv1.lin.weight, features, dropout)

    def forward(self, x, edge_index):
        x = F.elu(self.conv1(x, edge_index))
        x = F.dropout(x, self.dropout, self.training)
        return self.conv2(x, edge_index)


# -- the stopping rules --------------------------------------------------------------------
def kipf_should_stop(val_losses, window=10):
    """Kipf's rule: after more than window + 1 epochs, stop when the last validation loss
    is above the mean of the `window` before it."""
    if len(val_losses) <= window + 1:
        return False
    return val_losses[-1] > float(np.mean(val_losses[-(window + 1):-1]))


class GATPatience:
    """The GAT authors' rule. `step(loss, acc)` returns (save, stop): save when both the
    loss is <= and the accuracy >= their best so far; the patience counter resets when
    either is, and stop comes once it reaches `patience`. `epochs` counts the steps."""

    def __init__(self, patience=100):
        self.patience, self.wait, self.epochs = patience, 0, 0
        self.best_loss, self.best_acc = math.inf, -math.inf

    def step(self, loss, acc):
        self.epochs += 1
        if loss <= self.best_loss or acc >= self.best_acc:
            save = loss <= self.best_loss and acc >= self.best_acc
            self.best_loss, self.best_acc = min(loss, self.best_loss), max(acc, self.best_acc)
            self.wait = 0
            return save, False
        self.wait += 1
        return False, self.wait >= self.patience


# -- one run -------------------------------------------------------------------------------
def load_planetoid(name, root=None):
    """(data, x) of Planetoid(root, name), x row-normalised (NormalizeFeatures)."""
    from ..graph.datasets import Planetoid
    if name not in DATASETS:
        raise ValueError(f"planetoid runs: dataset must be one of {DATASETS}, got {name!r}")
    data = Planetoid(root, name)[0]
    x = data.x._data - data.x._data.min()
    x = x / np.maximum(x.sum(-1, keepdims=True), 1)
    return data, Tensor(x.astype(data.x.dtype))


def _evaluate(model, x, data, mask):
    """(loss, accuracy) on the nodes of `mask`, in eval mode."""
    model.eval()
    with no_grad():
        out = model(x, data.edge_index)[mask]
        y = data.y[mask]
        loss = float(F.cross_entropy(out, y).item())
        acc = float((out.argmax(-1) == y).float().mean().item())
    return loss, acc


def _train_step(model, opt, x, data):
    model.train()
    opt.zero_grad()
    loss = F.cross_entropy(model(x, data.edge_index)[data.train_mask], data.y[data.train_mask])
    loss.backward()
    opt.step()


def gcn_run(data, x, seed, epochs=200, window=10, hidden=16, lr=0.01, weight_decay=5e-4,
            dropout=0.5, bias=False):
    """One Kipf GCN run: (test accuracy, epochs trained)."""
    manual_seed(seed)
    model = KipfGCN(x, int(data.y.max()) + 1, hidden, dropout, bias)
    opt = Adam([dict(params=list(model.conv1.parameters()), weight_decay=weight_decay),
                dict(params=list(model.conv2.parameters()), weight_decay=0.0)], lr=lr)
    losses = []
    while len(losses) < epochs and not kipf_should_stop(losses, window):
        _train_step(model, opt, x, data)
        losses.append(_evaluate(model, x, data, data.val_mask)[0])
    return _evaluate(model, x, data, data.test_mask)[1], len(losses)


def gat_run(data, x, seed, epochs=1000, patience=100, hidden=8, heads=8, out_heads=1,
            lr=0.005, weight_decay=5e-4, dropout=0.6):
    """One GAT run: (test accuracy of the restored model, epochs trained)."""
    manual_seed(seed)
    model = PaperGAT(x, int(data.y.max()) + 1, hidden, heads, out_heads, dropout)
    opt = Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    rule, best, stop = GATPatience(patience), None, False
    while rule.epochs < epochs and not stop:
        _train_step(model, opt, x, data)
        save, stop = rule.step(*_evaluate(model, x, data, data.val_mask))
        if save:
            best = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if best is not None:
        model.load_state_dict(best)
    return _evaluate(model, x, data, data.test_mask)[1], rule.epochs


# -- the experiments -----------------------------------------------------------------------
def _repeat(kind, run, dataset, runs, seed, root, out, on_run, **kwargs):
    if runs < 1:
        raise ValueError(f"{kind}_cora: runs must be >= 1, got {runs}")
    data, x = load_planetoid(dataset, root)
    start = time.perf_counter()
    accs, stopped = [], []
    for r in range(runs):
        acc, epoch = run(data, x, seed + r, **kwargs)
        accs.append(100 * acc)
        stopped.append(epoch)
        if on_run is not None:
            on_run(r, 100 * acc, epoch)
    paper_mean, paper_std = PAPER[(kind, dataset)]
    result = {"model": kind, "dataset": dataset, "runs": runs, "seed": seed,
              "accuracies": accs, "mean": float(np.mean(accs)),
              "std": float(np.std(accs, ddof=1)) if runs > 1 else 0.0,
              "paper_mean": paper_mean, "paper_std": paper_std, "epochs": stopped,
              "seconds": time.perf_counter() - start, "plot": None, "settings": kwargs}
    if out is not None:
        os.makedirs(out, exist_ok=True)
        name = f"{kind}_{dataset.lower()}.png"
        result["plot"] = write_plot(result, os.path.join(out, name))
    return result


def gcn_cora(runs=100, dataset="Cora", seed=0, out=None, root=None, epochs=200, window=10,
             on_run=None):
    """Kipf & Welling's GCN on Planetoid `dataset` (public split), `runs` runs seeded seed,
    seed + 1, ... (see the module docstring).

    Returns {"model": "gcn", "dataset", "runs", "seed", "accuracies" (test, percent, one
    per run), "mean", "std" (percent, std over runs with ddof=1), "paper_mean", "paper_std"
    (None: the paper gives none), "epochs" (the epoch each run stopped at), "seconds",
    "plot" (gcn_{dataset}.png in `out`, None without), "settings" ({"epochs": the most
    epochs, "window"})}. on_run(r, accuracy, epochs), if given, is called after each run."""
    return _repeat("gcn", gcn_run, dataset, runs, seed, root, out, on_run, epochs=epochs,
                   window=window)


def gat_cora(runs=20, dataset="Cora", seed=0, out=None, root=None, epochs=1000,
             patience=100, on_run=None):
    """Velickovic et al.'s GAT on Planetoid `dataset` (public split), `runs` runs seeded
    seed, seed + 1, ... (see the module docstring). Returns gcn_cora's keys, with "model"
    "gat", "settings" {"epochs", "patience"}, "paper_std" 0.7 and the plot
    gat_{dataset}.png."""
    return _repeat("gat", gat_run, dataset, runs, seed, root, out, on_run, epochs=epochs,
                   patience=patience)


def write_plot(result, path):
    """A strip of the runs' test accuracies with their mean, beside the paper's mean
    (and its +- std band when the paper gives one); returns `path`."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(8, 3.6), dpi=100)
    ax = fig.subplots()
    accs = np.asarray(result["accuracies"])
    jitter = np.random.default_rng(0).uniform(-0.3, 0.3, accs.size)
    ax.scatter(accs, jitter, s=14, alpha=0.6, color="C0",
               label=f"{result['runs']} runs")
    ax.axvline(result["mean"], color="C0", lw=1.5,
               label=f"mean {result['mean']:.1f} +- {result['std']:.1f}")
    pm, ps = result["paper_mean"], result["paper_std"]
    if ps is not None:
        ax.axvspan(pm - ps, pm + ps, color="C1", alpha=0.2, label=f"paper +- {ps:.1f}")
    ax.axvline(pm, color="C1", lw=1.5, ls="--", label=f"paper {pm:.1f}")
    ax.set_ylim(-1, 1)
    ax.set_yticks([])
    ax.set_xlabel("test accuracy (%)")
    ax.set_title(f"{result['model'].upper()} on {result['dataset']} (public split)")
    return save_figure(fig, path)
