"""Your own data: classifier and regressor on a CSV / TSV / NPZ file or an image folder.

    classifier  --data FILE --target COLUMN: a CSV / TSV file (a header row optional; the
                target by name or 0-based index, default the last column) or an NPZ
                archive (features x, labels y or --target NAME); --data DIR: a folder of
                images, one sub-folder per class (torchvision's ImageFolder layout; images
                of another size are resized to the first one's). Cross-entropy, Adam with
                cosine annealing; held-out accuracy.
    regressor   a CSV / TSV / NPZ file as above with a numeric target: mean squared error,
                Adam with cosine annealing; held-out MSE, MAE and R^2.

The network follows the data's shape: features (N, F) get an MLP F-128-128-out (ReLU),
images (N, C, H, W) (an image folder, or an NPZ's x of that shape or (N, H, W)) a small CNN
(`small_cnn`). A fifth of the rows (at least one) is held out, fixed by SPLIT_SEED. The
inputs are standardised with the training split's mean and std (per feature, or per
channel) by the model's first layer, and a regressor's outputs are mapped back to the
target's units by its last; both are `Standardize` modules whose statistics are buffers,
so a checkpoint takes raw inputs and gives targets in their own units.
"""
import math
import os
from collections import OrderedDict

import numpy as np

from ... import nn, optim
from ...autograd.grad_mode import no_grad
from ...autograd.tensor import Tensor
from ...data import CSVDataset, ImageFolder
from ...data.datasets import holdout_split
from ...models import MLP
from . import SPLIT_SEED, Setup, classification_loaders, make_optimizer, register

HELD_OUT = 0.2
MIN_ROWS = 5
HIDDEN = (128, 128)   # the MLP's hidden sizes
WIDTHS = (16, 32, 64, 64)   # the CNN's channels, one per conv block


class Standardize(nn.Module):
    """(x - mean) / std, or x * std + mean with inverse=True: `mean` and `std` are buffers
    that broadcast against x (shape (F,) for features (N, F), (C, 1, 1) for images)."""

    def __init__(self, mean, std, inverse=False):
        super().__init__()
        self.inverse = inverse
        self.register_buffer("mean", Tensor(np.asarray(mean, dtype=np.float32)))
        self.register_buffer("std", Tensor(np.asarray(std, dtype=np.float32)))

    def forward(self, x):
        return x * self.std + self.mean if self.inverse else (x - self.mean) / self.std

    def extra_repr(self):
        return f"shape={tuple(self.mean.shape)}" + (", inverse=True" if self.inverse else "")


def small_cnn(in_channels, out_features, size):
    """Conv 3x3 -> BatchNorm -> ReLU -> MaxPool 2 blocks (WIDTHS channels; two blocks for
    images up to 16 pixels a side, one more for each doubling, at most four; no pooling
    below 2 pixels), then global average pooling and a Linear: (N, C, H, W) -> (N, out)."""
    side = min(size)
    blocks = min(len(WIDTHS), max(2, math.ceil(math.log2(max(side, 1) / 4))))
    layers, channels = [], in_channels
    for width in WIDTHS[:blocks]:
        layers += [nn.Conv2d(channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
        if side >= 2:
            layers.append(nn.MaxPool2d(2))  # (N, width, h, w) -> (N, width, h // 2, w // 2)
            side //= 2
        channels = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, out_features)]
    return nn.Sequential(*layers)


def _std(x, axis):
    """The std of `x` over `axis`, 1 where it is 0 (a constant input is left as it is)."""
    std = x.std(axis=axis)
    return np.where(std > 0, std, 1).astype(np.float32)


def _load(options, recipe, task):
    """(x, y, info) from --data: a file through CSVDataset, a folder through ImageFolder."""
    expected = ("a CSV, TSV or NPZ file (--target COLUMN names the target)" +
                (" or a folder of images, one sub-folder per class" if task ==
                 "classification" else ""))
    if options.data is None:
        raise ValueError(f"{recipe}: --data is required: {expected}")
    if not os.path.exists(options.data):
        raise FileNotFoundError(f"{recipe}: --data {options.data}: no such file or folder; "
                                f"expected {expected}")
    if os.path.isdir(options.data):
        if task == "regression":
            raise ValueError(f"{recipe}: --data {options.data} is a folder; an image folder "
                             "holds classes (one sub-folder each): train the classifier recipe "
                             "on it, or give the regressor a CSV, TSV or NPZ file")
        if options.target is not None:
            raise ValueError(f"{recipe}: --target {options.target} names a column of a CSV, "
                             f"TSV or NPZ file, but --data {options.data} is an image folder, "
                             "whose classes are its sub-folders; leave --target out")
        folder = ImageFolder(options.data, size="first")
        x, y = folder.arrays()
        resized = sum(s != folder.size for s in folder.image_sizes)
        info = {"data": f"image folder {folder.root}",
                "images": f"{folder.channels}x{folder.size[0]}x{folder.size[1]}"
                + (f" ({resized} resized to the first image's size)" if resized else ""),
                "classes": folder.classes}
        return x, y, info
    dataset = CSVDataset(options.data, target=options.target, task=task)
    x, y = dataset.arrays()
    if x.ndim == 3:
        x = x[:, None]   # (N, H, W) -> (N, 1, H, W)
    info = {"data": dataset.path, "target": dataset.target_name,
            "features": " x ".join(map(str, x.shape[1:]))}
    if dataset.classes is not None:
        k, n = len(dataset.classes), len(y)
        if k < 2:
            raise ValueError(f"{recipe}: the target {dataset.target_name!r} of {dataset.path} "
                             f"holds one class ({dataset.classes[0]!r}); expected at least 2 "
                             "(is --target the right column?)")
        if k > 20 and k > n // 2:
            raise ValueError(f"{recipe}: the target {dataset.target_name!r} of {dataset.path} "
                             f"has {k} distinct values in {n} rows, too many for classes; is "
                             "--target the right column? (a numeric target: the regressor "
                             "recipe)")
        info["classes"] = dataset.classes
    return x, y, info


def _split(x, y, recipe):
    """(held-out count, (x_train, y_train)): a fifth of the rows (at least one) held out,
    the split `classification_loaders` makes."""
    if len(x) < MIN_ROWS:
        raise ValueError(f"{recipe}: {len(x)} rows of data; expected at least {MIN_ROWS} "
                         "(a fifth is held out)")
    held_out = max(1, round(HELD_OUT * len(x)))
    train, _ = holdout_split(x, y, held_out=held_out, seed=SPLIT_SEED)
    return held_out, train


def _network(x, x_train, out_features):
    """Standardize -> MLP for features (N, F); Standardize -> small_cnn for (N, C, H, W)."""
    if x.ndim == 2:
        scale = Standardize(x_train.mean(axis=0), _std(x_train, 0))
        net = MLP(x.shape[1], HIDDEN, out_features, activation="relu")
    elif x.ndim == 4:
        mean = x_train.mean(axis=(0, 2, 3)).reshape(-1, 1, 1)   # per channel: (C, 1, 1)
        scale = Standardize(mean, _std(x_train, (0, 2, 3)).reshape(-1, 1, 1))
        net = small_cnn(x.shape[1], out_features, x.shape[2:])
    else:
        raise ValueError(f"features of shape {x.shape}; expected (N, F), (N, H, W) or "
                         "(N, C, H, W)")
    return [("standardize", scale), ("net", net)]


def _setup(options, model, loss_fn, loaders, info, metrics="auto", after=None):
    optimizer = make_optimizer(options.optimizer, model.parameters(), options.lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=options.epochs)
    return Setup(model, loss_fn, optimizer, *loaders, options.epochs, scheduler, "epoch", info,
                 metrics=metrics, after=after)


@register("classifier", "your data: --data FILE (CSV, TSV, NPZ; --target COLUMN) gives an "
          "MLP, --data DIR (a folder of images per class) a small CNN", epochs=30, lr=3e-3,
          batch_size=32, optimizer="adam", seed=0)
def classifier(options):
    x, y, info = _load(options, "classifier", "classification")
    held_out, (x_train, _) = _split(x, y, "classifier")
    model = nn.Sequential(OrderedDict(_network(x, x_train, len(info["classes"]))))
    loaders = classification_loaders(x, y, held_out, options.batch_size, options.seed)
    info.update(train=len(x) - held_out, held_out=held_out)
    return _setup(options, model, nn.CrossEntropyLoss(), loaders, info)


def mae(output, target):
    """The absolute errors |output - target| summed over a batch: (total, count)."""
    err = abs(output._data - target._data)
    return float(err.sum()), int(err.size)


def regression_figures(model, loader):
    """An `after` measure: {'mse', 'mae', 'r2'} of `model` over `loader` (R^2 = 1 - SSE /
    SST, SST about the held-out targets' own mean; None when they are constant)."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            pairs = [(model(xb).numpy(), yb.numpy()) for xb, yb in loader]
    finally:
        model.train(was_training)
    pred = np.concatenate([p for p, _ in pairs]).astype(np.float64)
    true = np.concatenate([t for _, t in pairs]).astype(np.float64)
    sse, sst = float(((pred - true) ** 2).sum()), float(((true - true.mean()) ** 2).sum())
    return {"mse": sse / true.size, "mae": float(np.abs(pred - true).mean()),
            "r2": 1 - sse / sst if sst > 0 else None}


@register("regressor", "your data: --data FILE (CSV, TSV, NPZ) with a numeric --target "
          "COLUMN; an MLP (or a small CNN for NPZ images), mean squared error", epochs=30,
          lr=3e-3, batch_size=32, optimizer="adam", seed=0)
def regressor(options):
    x, y, info = _load(options, "regressor", "regression")
    y = y.reshape(-1, 1)   # (N,) -> (N, 1), as the network's output
    held_out, (x_train, y_train) = _split(x, y, "regressor")
    layers = _network(x, x_train, 1)
    layers.append(("unstandardize", Standardize(y_train.mean(axis=0), _std(y_train, 0),
                                                inverse=True)))
    model = nn.Sequential(OrderedDict(layers))
    loaders = classification_loaders(x, y, held_out, options.batch_size, options.seed)
    info.update(train=len(x) - held_out, held_out=held_out)

    def after(model, callbacks=(), note=None):
        figures = regression_figures(model, loaders[1])
        r2 = "-" if figures["r2"] is None else f"{figures['r2']:.4f}"
        return figures, [f"held-out MSE {figures['mse']:.4g}, MAE {figures['mae']:.4g}, "
                         f"R^2 {r2} ({held_out} rows)"]

    return _setup(options, model, nn.MSELoss(), loaders, info, metrics=[mae], after=after)
