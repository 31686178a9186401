"""Why a plain autoencoder's code space cannot be sampled and a VAE's can.

A plain AE (x -> h -> x_hat, reconstruction loss only) is free to put its codes anywhere:
nothing ties the code distribution to N(0, I), so its per-dimension means and spreads are
whatever training made them, and z ~ N(0, I) lands in regions the decoder never saw. The
VAE's KL(q(z | x) || N(0, I)) term pulls the aggregate posterior q(z) = E_x q(z | x)
towards the prior, so the decoder has been trained on codes where N(0, I) puts its mass.

An AE (MLP 784-hidden-latent-hidden-784, binary cross-entropy on logits) and a VAE of the same
sizes (Bernoulli likelihood) are trained on MNIST's fixed 8,000-image training split, grey
values in [0, 1]; the same `n_samples` draws z ~ N(0, I) are decoded by each (the sigmoid
of the decoder's logits: the mean image). How digit-like the decodes are is measured by a
digit classifier (the mlp-mnist recipe's MLP 784-512-10 with dropout 0.3 on standardised
pixels, trained here on the 8,000 images):

    confidence[kind]   mean over images of max_c softmax(classifier(x))_c, in [1/10, 1]

for the AE's decodes, the VAE's decodes and `n_samples` real held-out digits (the reference).
The codes' statistics say why: per dimension, the AE's codes h(x) of the held-out images
(mean, std), and the VAE's aggregate posterior (mean of mu, std sqrt(var(mu) +
mean(sigma^2))), against the prior's 0 and 1.
"""
import os

import numpy as np

from .. import backend, nn
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..models import MLP, Autoencoder
from ..nn import functional as F
from ..train.recipes import mnist_split
from .iwae_gap import subset, train_model, train_vae
from .plot import save_figure

KINDS = ("ae", "vae", "real")
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
TITLES = {"ae": "AE: decoded z ~ N(0, I)", "vae": "VAE: decoded z ~ N(0, I)",
          "real": "real held-out digits"}


def logits(classifier, x):
    """The classifier's logits (N, 10) for images x (N, 784) in [0, 1], standardised by
    MNIST's usual mean and std first."""
    return classifier((x - MNIST_MEAN) / MNIST_STD)


def train_classifier(x, y, epochs, batch_size, lr, seed):
    """MLP 784-512-10 (ReLU, dropout 0.3) on (x, y) by cross-entropy; returns the model (eval
    mode)."""
    backend.manual_seed(seed)
    model = MLP(x.shape[1], [512], 10, dropout=0.3)
    train_model(model, lambda m, xb, yb: F.cross_entropy(logits(m, xb), yb), (x, y), epochs,
                batch_size, lr, seed)
    return model


def train_autoencoder(x, hidden, latent, epochs, batch_size, lr, seed):
    """Autoencoder 784-hidden-latent (ReLU, a linear code) -hidden-784 (logits), trained on
    binary cross-entropy; returns (model, per-epoch loss)."""
    backend.manual_seed(seed)
    d = x.shape[1]
    model = Autoencoder(nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, latent)),
                        nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, d)))
    history = train_model(model, lambda m, xb: m.loss(xb, reconstruction="bce")[0], (x,),
                          epochs, batch_size, lr, seed)
    return model, history


def _probabilities(classifier, x):
    with no_grad():
        return F.softmax(logits(classifier, Tensor(x)), dim=1).numpy()


def latent_sampling(epochs=20, hidden=400, latent=20, n_samples=1000, n_train=None,
                    clf_epochs=10, batch_size=128, lr=1e-3, seed=0, data=None, out=None,
                    n_show=64):
    """Train an AE and a VAE (see the module docstring) on the first `n_train` of the 8,000
    training images (all for None) for `epochs` each, a classifier on all 8,000 for
    `clf_epochs`, and decode `n_samples` draws of N(0, I) with each. `data`: the MNIST folder.

    Returns {"epochs", "hidden", "latent", "n_samples", "n_train", "seed",
    "classifier_accuracy" (on the 2,000 held-out images), "confidence" {kind: mean max
    softmax}, "predicted" {kind: counts of the classifier's 10 classes}, "ae_code" {"mean",
    "std"} and "vae_code" {"mean", "std"} (lists over the latent dimensions, held-out
    images), "ae_loss", "vae_loss" (per epoch), "plot"}; kinds "ae", "vae", "real"; plot is
    latent_sampling.png in `out` (the first `n_show` images of each kind), None without."""
    for name, value in (("epochs", epochs), ("hidden", hidden), ("latent", latent),
                        ("clf_epochs", clf_epochs), ("batch_size", batch_size),
                        ("n_show", n_show)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"latent_sampling: {name} must be a positive int, got {value!r}")
    (x_train, y_train), (x_held, y_held), _ = mnist_split(data)
    n_samples = subset(len(x_held), n_samples, "latent_sampling", "n_samples")
    n_train = subset(len(x_train), n_train, "latent_sampling", "n_train")
    classifier = train_classifier(x_train, y_train, clf_epochs, batch_size, lr, seed)
    accuracy = float((_probabilities(classifier, x_held).argmax(1) == y_held).mean())
    ae, ae_loss = train_autoencoder(x_train[:n_train], hidden, latent, epochs, batch_size, lr,
                                    seed)
    vae, vae_loss = train_vae(x_train[:n_train], hidden, latent, epochs, batch_size, lr, seed)
    z = Tensor(np.random.default_rng(seed).standard_normal((n_samples, latent))
               .astype(np.float32))
    with no_grad():
        images = {"ae": ae.decode(z).sigmoid().numpy(), "vae": vae.decode(z).sigmoid().numpy(),
                  "real": x_held[:n_samples]}
        codes = ae.encode(Tensor(x_held)).numpy().astype(np.float64)        # (N, latent)
        mu, logvar = (t.numpy().astype(np.float64) for t in vae.encode(Tensor(x_held)))
    result = {"epochs": epochs, "hidden": hidden, "latent": latent, "n_samples": n_samples,
              "n_train": n_train, "seed": seed, "classifier_accuracy": accuracy,
              "confidence": {}, "predicted": {}, "ae_loss": ae_loss, "vae_loss": vae_loss,
              "ae_code": {"mean": codes.mean(0).tolist(), "std": codes.std(0).tolist()},
              "vae_code": {"mean": mu.mean(0).tolist(),
                           "std": np.sqrt(mu.var(0) + np.exp(logvar).mean(0)).tolist()},
              "plot": None}
    for kind in KINDS:
        probs = _probabilities(classifier, images[kind])
        result["confidence"][kind] = float(probs.max(1).mean())
        result["predicted"][kind] = np.bincount(probs.argmax(1), minlength=10).tolist()
    if out is not None:
        os.makedirs(out, exist_ok=True)
        shown = {kind: images[kind][:n_show] for kind in KINDS}
        result["plot"] = write_plot(result, shown, os.path.join(out, "latent_sampling.png"))
    return result


def tile(images, side=28):
    """(n, side*side) images in [0, 1] as one (rows*side, cols*side) array, cols = ceil(sqrt
    n), empty cells white-on-black 0."""
    n = len(images)
    cols = int(np.ceil(np.sqrt(n)))
    rows = -(-n // cols)
    grid = np.zeros((rows * cols, side, side), dtype=np.float32)
    grid[:n] = images.reshape(n, side, side)
    grid = grid.reshape(rows, cols, side, side).transpose(0, 2, 1, 3)   # (rows, side, cols, side)
    return grid.reshape(rows * side, cols * side)


def write_plot(result, images, path):
    """Image grids of the AE's decodes, the VAE's decodes and real digits, each with the
    classifier's mean confidence above it, and the codes' per-dimension mean +- std against the
    prior; returns `path`."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator
    fig = Figure(figsize=(17, 4.6), dpi=100)
    axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [1, 1, 1, 1.4]})
    for ax, kind in zip(axes, KINDS):
        grid = tile(images[kind])
        ax.imshow(grid, cmap="gray", vmin=0, vmax=1)
        ax.set_ylim(grid.shape[0], -0.16 * grid.shape[0])   # a strip above for the legend
        ax.plot([], [], " ", label=f"classifier's mean confidence "
                f"{result['confidence'][kind]:.3f}")
        ax.set_title(TITLES[kind])
        ax.set_xticks([])
        ax.set_yticks([])
    ax = axes[3]
    dims = np.arange(result["latent"])
    ax.axhspan(-1, 1, color="grey", alpha=0.15, label="prior N(0, 1): mean +- std")
    for offset, key, colour, label in ((-0.15, "ae_code", "C3", "AE code h(x)"),
                                       (0.15, "vae_code", "C0", "VAE aggregate posterior")):
        ax.errorbar(dims + offset, result[key]["mean"], yerr=result[key]["std"], fmt="o",
                    color=colour, capsize=2, ms=3, label=f"{label}: mean +- std")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("latent dimension")
    ax.set_ylabel("code value (held-out images)")
    ax.set_title("where the codes lie")
    return save_figure(fig, path)
