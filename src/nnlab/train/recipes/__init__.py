"""Recipes: named, complete training setups (data, model, loss, optimizer, schedule).

A recipe is a function `build(options) -> Setup` registered under a name with its default
options; `nnlab.train.run.run_recipe` builds one and trains it in a run directory, and
`nnlab train RECIPE` is a thin shell over that. This module is the registry and the pieces
the recipes share; each family of recipes is a small module of its own, imported at the
end of this one so that it registers:

    classifiers  mlp-digits, mlp-mnist, lenet-mnist
    seq2seq      seq2seq-reverse
    char_lstm    char-lstm
    gpt          gpt-shakespeare
    tabular      classifier, regressor (your own CSV / TSV / NPZ file or image folder)
    autoencoders vae-mnist, ae-mnist
    semisupervised ss-mnist (M2, and pixels vs M1 vs M2 from 100 labels)

A new family is a new module here and one import line at the end of this file.

Held-out splits are fixed (SPLIT_SEED) so that runs with different --seed values (which
change the initialisation, the shuffling and dropout) are measured on the same held-out data.
"""
import dataclasses
from dataclasses import dataclass, field

import numpy as np

from ... import backend, nn, optim
from ...autograd.tensor import Tensor
from ...data import DataLoader, TensorDataset
from ...data.datasets import MNIST, holdout_split
from .. import sampling

SPLIT_SEED = 0
MNIST_HELD_OUT = 2000   # of MNIST's 10,000 t10k images: 8,000 train / 2,000 held out
DEFAULT = "mlp-digits"


@dataclass
class Options:
    """What a user may change from the command line; None means the recipe's default."""
    data: str | None = None
    epochs: int | None = None
    lr: float | None = None
    batch_size: int | None = None
    optimizer: str | None = None
    seed: int | None = None
    target: str | None = None   # classifier, regressor: the target column (name or index)
    kind: str | None = None     # ae-mnist: plain, sparse, denoising or contractive
    labels: int | None = None   # ss-mnist: how many training labels are kept
    latent_dim: int | None = None  # vae-mnist, ae-mnist: the size of the code


@dataclass
class Setup:
    """Everything `fit` needs, as a recipe builds it. `after(model, callbacks, note) ->
    (figures, lines)`, when given, measures the trained model further: its figures join the
    held-out ones (and results.json), its lines are for the command line to print. Training
    of its own (a comparison run) takes `callbacks`, the run's watchers (progress bar,
    printed epochs), and announces itself with `note(line)`. `pictures(model, run_dir) ->
    {title: file name}`, when given, draws the recipe's own PNGs in the run directory (after
    `after`); the report shows them beside its plots."""
    model: nn.Module
    loss_fn: nn.Module
    optimizer: optim.Optimizer
    train_loader: DataLoader
    val_loader: DataLoader
    epochs: int
    scheduler: object = None
    scheduler_interval: str = "epoch"
    info: dict = field(default_factory=dict)
    callbacks: tuple = ()
    metrics: object = "auto"
    after: object = None
    pictures: object = None


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    build: object
    defaults: Options


RECIPES = {}


def register(name, description, **defaults):
    """Decorator: register `build(options) -> Setup` as recipe `name` with `defaults`."""
    def wrap(build):
        RECIPES[name] = Recipe(name, description, build, Options(**defaults))
        return build
    return wrap


def get(name):
    if name not in RECIPES:
        raise KeyError(f"unknown recipe {name!r}; the recipes are: {', '.join(sorted(RECIPES))}")
    return RECIPES[name]


def names():
    return sorted(RECIPES)


def resolve(name, options=None):
    """`options` with the recipe's defaults filled in where they are None."""
    recipe, options = get(name), options or Options()
    return dataclasses.replace(options, **{
        f.name: getattr(recipe.defaults, f.name) for f in dataclasses.fields(Options)
        if getattr(options, f.name) is None})


def build(name, options=None):
    """Seed nnlab and build recipe `name` with `options` (defaults where None)."""
    options = resolve(name, options)
    backend.manual_seed(options.seed)
    return get(name).build(options)


# -- shared pieces ------------------------------------------------------------------------------
def make_optimizer(name, params, lr):
    """An optimizer by name with the recipe's settings: sgd (momentum 0.9), adam, adamw
    (weight decay 0.01), rmsprop, adagrad."""
    makers = {
        "sgd": lambda: optim.SGD(params, lr=lr, momentum=0.9),
        "adam": lambda: optim.Adam(params, lr=lr),
        "adamw": lambda: optim.AdamW(params, lr=lr, weight_decay=0.01),
        "rmsprop": lambda: optim.RMSprop(params, lr=lr),
        "adagrad": lambda: optim.Adagrad(params, lr=lr),
    }
    if name not in makers:
        raise ValueError(f"unknown optimizer {name!r}; expected one of {sorted(makers)}")
    return makers[name]()


OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")


def classification_loaders(x, y, held_out, batch_size, seed):
    """Train and held-out loaders from arrays (x, y): a split fixed by SPLIT_SEED, the
    training loader shuffled by a generator seeded with `seed`."""
    (x_train, y_train), (x_val, y_val) = holdout_split(x, y, held_out=held_out,
                                                       seed=SPLIT_SEED)
    train = TensorDataset(Tensor(x_train), Tensor(y_train))
    val = TensorDataset(Tensor(x_val), Tensor(y_val))
    return (DataLoader(train, batch_size=batch_size, shuffle=True,
                       generator=np.random.default_rng(seed)),
            DataLoader(val, batch_size=1000))


def mnist_split(root=None, binarize=False):
    """((x_train, y_train), (x_val, y_val), folder): MNIST's 10,000 t10k images from folder
    `root` as (N, 784) float32, split 8,000 / 2,000 by SPLIT_SEED; pixels are grey values in
    [0, 1], or 0 / 1 (grey > 0.5) with `binarize`. The autoencoding recipes, ss-mnist and
    the VAE lab share it."""
    dataset = MNIST(root=root, train=False, flatten=True)
    x, y = dataset.arrays()
    if binarize:
        x = (x > 0.5).astype(np.float32)
    train, val = holdout_split(x, y, held_out=MNIST_HELD_OUT, seed=SPLIT_SEED)
    return train, val, str(dataset.root)


def sample_after(make_model, step, vocab, seed):
    """A Setup's `after` for a language model: 200 characters at temperature 0.8 from the
    trained weights, loaded into a plain `make_model()` and driven by `step` (a sampling
    step class)."""
    def after(model, callbacks=(), note=None):
        plain = make_model()
        plain.load_state_dict(model.state_dict())
        text = sampling.generate(step(plain), vocab, 200, 0.8, seed=seed)
        return {}, ["sample (temperature 0.8, 200 characters):", *text.splitlines()]
    return after


# -- the families: each module registers its recipes on import; a new family is one more line -
from . import (  # noqa: E402
    autoencoders,
    char_lstm,
    classifiers,
    gpt,
    semisupervised,
    seq2seq,
    tabular,
)
