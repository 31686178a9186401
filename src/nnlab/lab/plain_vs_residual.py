"""Plain vs residual CNNs (He et al. 2016): why the identity shortcut lets deep nets train.

A residual block computes x_{l+1} = relu(x_l + F(x_l)), so along the shortcut

    dL/dx_l = dL/dx_{l+1} (1 + dF/dx_l)      (up to the relu's mask)

and the gradient reaching the first layer is a sum over paths that includes the direct
one; a plain block x_{l+1} = relu(F(x_l)) multiplies the Jacobians of every layer, so the
signal reaching the first layer shrinks (or blows up) geometrically with depth. Two
measurements, for each depth of the CIFAR 6n+2 family (models.CifarResNet with and without
shortcuts: the same convs, BatchNorms and initialisation) on the bundled 8x8 digits:

    grad_norm   ||dL/dW||_2 of the first conv (conv1.weight, (16, 1, 3, 3)) at
                initialisation, L the cross-entropy of a batch, mean over `grad_batches`
    final_loss  mean training cross-entropy over the last max(1, steps // 10) mini-batches
                of `steps` SGD steps (momentum 0.9); every model sees the same batches

What it shows depends on BatchNorm. With it (the models as built, as in the paper), the
plain net's first-layer gradient does not vanish: it grows with depth (BatchNorm in a deep
plain net explodes gradients, Yang et al. 2019), while the residual net's stays moderate;
the plain net still trains worse the deeper it is (the paper's degradation problem).
With `batch_norm=False` (every BatchNorm2d replaced by the identity) the plain net's
first-layer gradient vanishes geometrically with depth and the residual net's does not:
the textbook claim.
"""
import math
import os

import numpy as np

from .. import backend, nn, optim
from ..autograd.tensor import Tensor
from ..data.datasets import digits
from ..models import CifarResNet
from .plot import save_figure

KINDS = ("plain", "residual")


def _digit_images():
    """The 1,797 bundled digits as (N, 1, 8, 8) float32, standardised to mean 0 and std 1
    over all pixels, and (N,) int64 labels."""
    x, y = digits()
    x = (x - x.mean()) / x.std()
    return x.reshape(-1, 1, 8, 8).astype(np.float32), y  # (N, 64) -> (N, 1, 8, 8)


def _batches(n, batch_size, count, rng):
    """`count` index arrays of `batch_size` rows drawn by epochs of shuffled 0..n-1."""
    order, batches = [], []
    while len(batches) < count:
        if len(order) < batch_size:
            order = list(rng.permutation(n))
        batches.append(np.array(order[:batch_size]))
        order = order[batch_size:]
    return batches


def _model(depth, kind, seed, batch_norm):
    """CifarResNet(depth) for (N, 1, 8, 8) inputs, initialised from `seed`; without
    `batch_norm` each BatchNorm2d is replaced by nn.Identity."""
    backend.manual_seed(seed)
    model = CifarResNet(depth, num_classes=10, plain=kind == "plain", in_channels=1)
    if not batch_norm:
        for module in list(model.modules()):
            for name, child in list(module.named_children()):
                if isinstance(child, nn.BatchNorm2d):
                    setattr(module, name, nn.Identity())
    return model


def first_layer_grad_norm(model, x, y, batches):
    """Mean over `batches` of ||dL/dW||_2 for the model's first conv (conv1.weight), with
    L the batch's mean cross-entropy, in training mode (BatchNorm on batch statistics)."""
    model.train()
    loss_fn = nn.CrossEntropyLoss()
    norms = []
    for idx in batches:
        model.zero_grad()
        loss_fn(model(Tensor(x[idx])), Tensor(y[idx])).backward()
        norms.append(float(np.linalg.norm(np.asarray(model.conv1.weight.grad._data,
                                                     dtype=np.float64))))
    model.zero_grad()
    return float(np.mean(norms))


def train_losses(model, x, y, batches, lr, momentum=0.9):
    """The mini-batch cross-entropy at each of len(batches) SGD steps (lr, momentum),
    stopping after the first loss that is not finite (a divergence is a result here, so
    NumPy's overflow warnings are silenced)."""
    model.train()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    losses = []
    with np.errstate(over="ignore", invalid="ignore"):
        for idx in batches:
            optimizer.zero_grad()
            loss = loss_fn(model(Tensor(x[idx])), Tensor(y[idx]))
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if not math.isfinite(losses[-1]):
                break
    return losses


def plain_vs_residual(depths=(20, 56), steps=60, batch_size=64, seed=0, out=None, lr=0.05,
                      grad_batches=3, batch_norm=True):
    """Measure plain and residual nets of each depth (6n + 2) on the 8x8 digits; see the
    module docstring. Each model is initialised from `seed`; all see the same batches.

    Returns {"depths", "steps", "batch_size", "lr", "seed", "batch_norm", "grad_norm",
    "final_loss", "loss_curves", "plot"}: grad_norm[kind] and final_loss[kind] are lists
    aligned with `depths` (kind "plain" or "residual"), loss_curves[kind] a list of per-step
    loss lists (cut at the first non-finite loss, which is then final_loss); plot is the
    PNG written in `out` (plain_vs_residual.png, or plain_vs_residual_no_bn.png without
    `batch_norm`), None without `out`."""
    depths = [int(d) for d in depths]
    if steps < 1 or batch_size < 2 or grad_batches < 1:
        raise ValueError(f"plain_vs_residual: steps >= 1, batch_size >= 2 and grad_batches "
                         f">= 1 are needed (BatchNorm needs 2 samples), got steps={steps}, "
                         f"batch_size={batch_size}, grad_batches={grad_batches}")
    x, y = _digit_images()
    rng = np.random.default_rng(seed)
    grad_idx = _batches(len(x), batch_size, grad_batches, rng)
    train_idx = _batches(len(x), batch_size, steps, rng)
    window = max(1, steps // 10)
    result = {"depths": depths, "steps": steps, "batch_size": batch_size, "lr": lr,
              "seed": seed, "batch_norm": batch_norm, "grad_norm": {k: [] for k in KINDS},
              "final_loss": {k: [] for k in KINDS}, "loss_curves": {k: [] for k in KINDS},
              "plot": None}
    for depth in depths:
        for kind in KINDS:
            model = _model(depth, kind, seed, batch_norm)
            result["grad_norm"][kind].append(first_layer_grad_norm(model, x, y, grad_idx))
            losses = train_losses(model, x, y, train_idx, lr)
            result["loss_curves"][kind].append(losses)
            final = losses[-1] if not math.isfinite(losses[-1]) else np.mean(losses[-window:])
            result["final_loss"][kind].append(float(final))
    if out is not None:
        os.makedirs(out, exist_ok=True)
        name = "plain_vs_residual" + ("" if batch_norm else "_no_bn") + ".png"
        result["plot"] = write_plot(result, os.path.join(out, name))
    return result


def write_plot(result, path):
    """Two panels: the first conv's gradient norm at initialisation against depth (log
    scale), and the training loss curves; returns `path`."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(11, 4.2), dpi=100)
    grad_ax, loss_ax = fig.subplots(1, 2)
    depths = result["depths"]
    styles = {"plain": "--", "residual": "-"}
    for kind in KINDS:
        norms = result["grad_norm"][kind]
        grad_ax.plot(depths, norms, styles[kind], marker="o", label=kind)
    if all(v > 0 and math.isfinite(v) for k in KINDS for v in result["grad_norm"][k]):
        grad_ax.set_yscale("log")
    grad_ax.set_xticks(depths)
    bn = "BatchNorm" if result["batch_norm"] else "no BatchNorm"
    grad_ax.set_title(f"first conv: gradient norm at initialisation ({bn})")
    grad_ax.set_xlabel("depth (6n + 2 layers)")
    grad_ax.set_ylabel("||dL/dW_conv1||")
    colours = {d: f"C{i}" for i, d in enumerate(depths)}
    cap = 2 * math.log(10)   # twice chance level's cross-entropy: above it, off the chart
    highest = 0.0
    for kind in KINDS:
        for depth, losses in zip(depths, result["loss_curves"][kind]):
            diverged = not math.isfinite(losses[-1]) or max(losses) > cap
            shown = [v if math.isfinite(v) and v <= cap else math.nan for v in losses]
            highest = max([highest] + [v for v in shown if math.isfinite(v)])
            loss_ax.plot(range(1, len(losses) + 1), shown, styles[kind], color=colours[depth],
                         label=f"{kind}-{depth}" + (" (diverged)" if diverged else ""))
    loss_ax.set_ylim(0, 1.05 * (highest or cap))
    loss_ax.set_title(f"training loss, SGD lr {result['lr']:g}, batch {result['batch_size']}")
    loss_ax.set_xlabel("step")
    loss_ax.set_ylabel("cross-entropy")
    return save_figure(fig, path)
