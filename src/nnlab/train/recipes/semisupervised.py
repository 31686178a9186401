"""Semi-supervised learning from a few labels: ss-mnist (Kingma et al. 2014, M1 and M2).

    ss-mnist     MNIST's 10,000 test images from --data DIR in the fixed 8,000 / 2,000 split
                 of the other MNIST recipes; --labels N (default 100, N / 10 per class) of the
                 8,000 keep their labels, the rest are used as unlabelled images. The run
                 trains M2 (SemiSupervisedVAE: the label a latent variable, the classifier
                 q(y | x) kept; its loss per epoch, held-out accuracy of q(y | x) as the
                 metric); then, for seeds --seed, --seed + 1, --seed + 2 (SEEDS of them),
                 compares three methods on held-out accuracy, mean +- std over the seeds:
                   pixels  an MLP classifier on raw pixels, trained on the labelled only;
                           and label spreading on the pixels' k-NN graph
                   M1      a VAE trained on all 8,000 images, unlabelled, then the same kind
                           of MLP on its latent mean mu(x), trained on the labelled only;
                           and label spreading on mu(x) (transductive, in the place of the
                           paper's TSVM)
                   M2      the main run's model (at --seed) and one more M2 run per seed

Choices, and why:
- The labelled examples are chosen per class from the 8,000 by a generator fixed by
  LABEL_SEED, not by --seed: seeds change initialisation, shuffling and noise only, so
  the spread over seeds is the methods' own, on the same labels and held-out images.
- Images stay in [0, 1] (the Bernoulli likelihood of both VAEs wants them so); the pixel
  baseline sees the same inputs.
- M2's batches pair --batch-size unlabelled images (a shuffled pass over all 8,000 is an
  epoch) with --batch-size labelled ones drawn with replacement (`LabelledPairs`). With
  per-example means over both, the paper's alpha = 0.1 N (J summed over N examples, the
  classification term an expectation over the labelled) becomes alpha = 0.1 N / N_labelled
  per labelled example: 8 for 100 labels of 8,000 (ALPHA_SCALE = 0.1).
- The held-out loss is the training objective on held-out data, each held-out image used
  both as a labelled example and as an unlabelled one, so loss and val_loss are one
  quantity.
- The classifiers of pixels and M1, and M2's q(y | x), share one shape: Linear-ReLU-
  dropout-Linear with SIZES.classifier_hidden units, so the three differ in what they learn
  from, not in size. The pixel and M1 classifiers train full batch on the labelled examples
  for SIZES.classifier_steps Adam steps; M1's VAE trains for SIZES.m1_epochs.
- Cost: each unlabelled image goes through M2's encoder head and decoder once per class
  (10 times), so an M2 epoch costs about ten VAE epochs. SEEDS (a module constant) sets how
  many seeds the comparison runs; each extra seed is one more M2 run of --epochs.
"""
import dataclasses

import numpy as np

from ... import backend, optim
from ...autograd.grad_mode import no_grad
from ...autograd.tensor import Tensor
from ...data import DataLoader, TensorDataset
from ...models import MLP, VAE
from ...models.semisupervised import SemiSupervisedLoss, SemiSupervisedVAE
from ...nn import functional as F
from ...utils.images import save_image
from ..callbacks import LRSchedulerCallback
from ..metrics import accuracy as _top1
from ..trainer import fit
from . import Setup, make_optimizer, mnist_split, register

CLASSES = 10
LABEL_SEED = 0          # the generator that picks the labelled examples (not --seed)
SEEDS = 3               # seeds compared after the main run: --seed, --seed + 1, ...
ALPHA_SCALE = 0.1       # alpha = ALPHA_SCALE * N / N_labelled (Kingma et al.: 0.1 N)


@dataclasses.dataclass(frozen=True)
class Sizes:
    """Model sizes and the comparison runs' budgets."""
    m2_hidden: int = 128          # M2's encoder and decoder hidden units
    m2_latent: int = 16           # M2's z
    classifier_hidden: int = 256  # every classifier: D -> this -> 10 (q(y | x) included)
    dropout: float = 0.5          # every classifier's dropout (q(y | x) included)
    m1_hidden: int = 400          # M1's VAE hidden units (vae-mnist's VAE)
    m1_latent: int = 20           # M1's z: the classifier's input
    m1_epochs: int = 20           # M1's VAE epochs over the 8,000 images
    neighbours: int = 10          # label spreading's k-nearest-neighbour graph
    classifier_steps: int = 300   # full-batch Adam steps on the labelled examples
    classifier_lr: float = 1e-3


SIZES = Sizes()


def choose_labelled(y, labels, classes=CLASSES, seed=LABEL_SEED):
    """Indices of `labels` examples of `y`, labels / classes of each class, sorted, picked by
    a generator fixed by `seed`. ValueError unless labels is a positive multiple of
    `classes` that every class has enough examples for."""
    if labels < classes or labels % classes:
        raise ValueError(f"ss-mnist: --labels {labels}; expected a multiple of {classes} "
                         f"(the same number of labels for each of the {classes} classes), "
                         f"at least {classes}")
    per_class, counts = labels // classes, np.bincount(y, minlength=classes)
    if per_class > counts.min():
        raise ValueError(f"ss-mnist: --labels {labels} asks for {per_class} per class, but "
                         f"the training split has only {counts.min()} of class "
                         f"{counts.argmin()}; expected at most "
                         f"{classes * counts.min()} labels")
    rng = np.random.default_rng(seed)
    return np.sort(np.concatenate([rng.choice(np.flatnonzero(y == c), per_class,
                                              replace=False) for c in range(classes)]))


@dataclasses.dataclass
class SemiSupervisedData:
    x_train: np.ndarray     # (8000, 784) in [0, 1]: every training image, unlabelled
    labelled: np.ndarray    # (labels,) the rows of x_train that keep their labels
    x_labelled: np.ndarray  # (labels, 784)
    y_labelled: np.ndarray  # (labels,)
    x_val: np.ndarray       # (2000, 784)
    y_val: np.ndarray       # (2000,)
    root: str


def load(options):
    """The fixed split of MNIST's t10k images and the labelled examples of `options.labels`."""
    (x_train, y_train), (x_val, y_val), folder = mnist_split(options.data)
    chosen = choose_labelled(y_train, options.labels)
    return SemiSupervisedData(x_train, chosen, x_train[chosen], y_train[chosen], x_val, y_val,
                              folder)


class LabelledPairs:
    """M2's training batches (x_l, y_l, x_u, y_l): a shuffled pass over the unlabelled
    images in batches of `batch_size`, each with `batch_size` labelled examples drawn with
    replacement; y_l comes twice, as an input and as `fit`'s target. One generator
    (`generator`, kept in checkpoints) draws both."""

    def __init__(self, x_unlabelled, x_labelled, y_labelled, batch_size, generator):
        self.x_u, self.x_l, self.y_l = x_unlabelled, x_labelled, y_labelled
        self.batch_size, self.generator = batch_size, generator

    def __len__(self):
        return -(-len(self.x_u) // self.batch_size)

    def __iter__(self):
        order = self.generator.permutation(len(self.x_u))
        for i in range(0, len(order), self.batch_size):
            picked = self.generator.integers(0, len(self.y_l), self.batch_size)
            y = Tensor(self.y_l[picked])
            yield Tensor(self.x_l[picked]), y, Tensor(self.x_u[order[i:i + self.batch_size]]), y


def accuracy(output, target):
    """Top-1 accuracy of q(y | x) on the labelled part of a SemiSupervisedVAE's output."""
    return _top1(output[0], target)


def m2_parts(data, options, seed):
    """(model, loss, optimizer, scheduler, train_loader, val_loader) of an M2 run at `seed`
    (nnlab's generator seeded here)."""
    backend.manual_seed(seed)
    model = SemiSupervisedVAE(data.x_train.shape[1], SIZES.m2_hidden, SIZES.m2_latent, CLASSES,
                              SIZES.classifier_hidden, SIZES.dropout)
    alpha = ALPHA_SCALE * len(data.x_train) / len(data.y_labelled)
    optimizer = make_optimizer(options.optimizer, model.parameters(), options.lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=options.epochs)
    train = LabelledPairs(data.x_train, data.x_labelled, data.y_labelled, options.batch_size,
                          np.random.default_rng(seed))
    val = TensorDataset(*(Tensor(a) for a in (data.x_val, data.y_val, data.x_val, data.y_val)))
    return (model, SemiSupervisedLoss(alpha), optimizer, scheduler, train,
            DataLoader(val, batch_size=500))


def held_out_accuracy(classify, x, y):
    """Share of `y` that `classify(x)` (logits) gets right, without autograd."""
    with no_grad():
        return float((classify(Tensor(x)).numpy().argmax(1) == y).mean())


def train_classifier(x, y, seed):
    """An MLP x.shape[1] -> classifier_hidden -> 10 (dropout) trained full batch on (x, y) for
    classifier_steps Adam steps at `seed`; returned in eval mode."""
    backend.manual_seed(seed)
    model = MLP(x.shape[1], [SIZES.classifier_hidden], CLASSES, dropout=SIZES.dropout)
    optimizer = optim.Adam(model.parameters(), lr=SIZES.classifier_lr)
    inputs, target = Tensor(x), Tensor(y)
    for _ in range(SIZES.classifier_steps):
        optimizer.zero_grad()
        F.cross_entropy(model(inputs), target).backward()
        optimizer.step()
    return model.eval()


def label_spreading(features, data):
    """Held-out accuracy of label spreading (Zhou et al. 2004, scikit-learn's, on a
    k-nearest-neighbour graph of the training rows of `features` (train, val) with the
    labelled rows' labels): transductive over the 8,000, as M1 + TSVM in the paper, then
    each held-out row takes its neighbours' spread labels."""
    from sklearn.semi_supervised import LabelSpreading
    train, val = features
    labels = np.full(len(train), -1)
    labels[data.labelled] = data.y_labelled
    spreading = LabelSpreading(kernel="knn", n_neighbors=SIZES.neighbours, max_iter=100)
    return float((spreading.fit(train, labels).predict(val) == data.y_val).mean())


def pixels(data, seed):
    """Held-out accuracy of the pixel baseline at `seed`: (MLP, label spreading)."""
    model = train_classifier(data.x_labelled, data.y_labelled, seed)
    return (held_out_accuracy(model, data.x_val, data.y_val),
            label_spreading((data.x_train, data.x_val), data))


def m1(data, options, seed, callbacks=()):
    """Held-out accuracies of M1 at `seed`, (MLP, label spreading): a VAE trained on every
    training image for m1_epochs (`callbacks` watch it), then a classifier on mu(x) of the
    labelled examples, mu standardised by its mean and std over the training images."""
    backend.manual_seed(seed)
    vae = VAE(data.x_train.shape[1], SIZES.m1_hidden, SIZES.m1_latent)
    optimizer = make_optimizer(options.optimizer, vae.parameters(), options.lr)
    images = Tensor(data.x_train)
    loader = DataLoader(TensorDataset(images, images), batch_size=options.batch_size,
                        shuffle=True, generator=np.random.default_rng(seed))
    fit(vae, lambda output, x: vae.elbo_terms(output, x)[0], optimizer, loader,
        epochs=SIZES.m1_epochs, metrics=None, diagnostics_every=0, callbacks=list(callbacks))
    vae.eval()
    with no_grad():
        mu_train, mu_labelled, mu_val = (vae.encode(Tensor(a))[0].numpy() for a in (
            data.x_train, data.x_labelled, data.x_val))
    mean, std = mu_train.mean(0), mu_train.std(0) + 1e-6
    model = train_classifier((mu_labelled - mean) / std, data.y_labelled, seed)
    return (held_out_accuracy(model, (mu_val - mean) / std, data.y_val),
            label_spreading(((mu_train - mean) / std, (mu_val - mean) / std), data))


def m2(data, options, seed, callbacks=()):
    """Held-out accuracy of q(y | x) after an M2 run at `seed` (`callbacks` watch it)."""
    model, loss, optimizer, scheduler, train, _ = m2_parts(data, options, seed)
    fit(model, loss, optimizer, train, epochs=options.epochs, metrics=None,
        diagnostics_every=0, callbacks=[LRSchedulerCallback(scheduler), *callbacks])
    model.eval()
    return held_out_accuracy(model.classify, data.x_val, data.y_val)


def summary(per_seed):
    """{'per_seed', 'mean', 'std'} of a list of accuracies (std over seeds, ddof 1; 0 for
    one seed)."""
    values = np.asarray(per_seed, dtype=np.float64)
    std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return {"per_seed": [float(v) for v in values], "mean": float(values.mean()), "std": std}


METHODS = (("pixels", "MLP on raw pixels, labelled only"),
           ("pixels_spreading", "label spreading on raw pixels"),
           ("m1", "M1: VAE latent mean mu(x) + MLP"),
           ("m1_spreading", "M1: mu(x) + label spreading (for TSVM)"),
           ("m2", "M2: q(y | x) of the semi-supervised VAE"))


def compare(model, data, options, callbacks=(), note=None):
    """The `after` of ss-mnist: the three methods at SEEDS seeds from options.seed (M2 at
    options.seed is the trained `model`). Returns (figures, lines)."""
    seeds = [options.seed + k for k in range(SEEDS)]
    model.eval()
    results = {name: [] for name, _ in METHODS}
    for seed in seeds:
        for name, value in zip(("pixels", "pixels_spreading"), pixels(data, seed)):
            results[name].append(value)
        if note is not None:
            note(f"seed {seed}: M1, a {SIZES.m1_epochs}-epoch VAE on {len(data.x_train)} "
                 f"unlabelled images, then a classifier on mu(x)")
        for name, value in zip(("m1", "m1_spreading"), m1(data, options, seed, callbacks)):
            results[name].append(value)
        if seed == options.seed:
            results["m2"].append(held_out_accuracy(model.classify, data.x_val, data.y_val))
        else:
            if note is not None:
                note(f"seed {seed}: M2, a {options.epochs}-epoch run")
            results["m2"].append(m2(data, options, seed, callbacks))
    methods = {name: summary(values) for name, values in results.items()}
    figures = {"labels": len(data.y_labelled), "seeds": seeds, "methods": methods}
    lines = [f"held-out accuracy from {len(data.y_labelled)} labels, {len(data.y_val)} held "
             f"out, seeds {', '.join(map(str, seeds))} (mean +- std):"]
    for name, what in METHODS:
        s = methods[name]
        per = "  ".join(f"{100 * v:.2f}" for v in s["per_seed"])
        lines.append(f"  {what:<42} {100 * s['mean']:6.2f}% +- {100 * s['std']:.2f}  "
                     f"({per})")
    return figures, lines


def m2_pictures(model, run_dir, seed):
    """m2_samples.png: p(x | y, z)'s means, one row per class y, one z ~ N(0, I) (drawn by
    `seed`) per column: whether y carries the class and z the style."""
    model.eval()
    z = np.random.default_rng(seed).standard_normal((10, model.latent_dim))
    eps = np.tile(z, (CLASSES, 1)).astype(np.float32)                    # (C * 10, L)
    images = model.sample(Tensor(np.repeat(np.arange(CLASSES), 10)), Tensor(eps)).numpy()
    save_image(images.reshape(-1, 1, 28, 28), f"{run_dir}/m2_samples.png", nrow=10)
    return {"M2's p(x | y, z): a row per class y, the same z down each column":
            "m2_samples.png"}


@register("ss-mnist", "semi-supervised MNIST from --labels 100 (8,000 train / 2,000 held "
          "out): M2 trained, then pixels vs M1 vs M2 over 3 seeds", labels=100, epochs=10,
          lr=1e-3, batch_size=100, optimizer="adam", seed=0)
def ss_mnist(options):
    data = load(options)
    model, loss, optimizer, scheduler, train, val = m2_parts(data, options, options.seed)

    def after(model, callbacks=(), note=None):
        return compare(model, data, options, callbacks, note)

    return Setup(model, loss, optimizer, train, val, options.epochs, scheduler, "epoch",
                 {"data": f"MNIST t10k from {data.root}", "train": len(data.x_train),
                  "labelled": len(data.y_labelled), "held_out": len(data.y_val),
                  "alpha": loss.alpha, "label_seed": LABEL_SEED, "seeds": SEEDS,
                  "sizes": dataclasses.asdict(SIZES)},
                 metrics=[accuracy], after=after,
                 pictures=lambda model, run_dir: m2_pictures(model, run_dir, options.seed))
