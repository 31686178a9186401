"""MNIST from its IDX files, found without a network: `root`, then `$NNLAB_DATA/mnist`,
then `~/.cache/nnlab/mnist`."""
import os
from pathlib import Path

import numpy as np

from ...autograd.tensor import Tensor
from ..dataset import Dataset
from .idx import read_idx

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049
FILES = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def search_folders(root=None, subfolder="mnist"):
    """The folders searched for a data set, in order, each with where it came from."""
    folders = []
    if root is not None:
        folders += [(Path(root), "root"), (Path(root) / subfolder, "root")]
    env = os.environ.get("NNLAB_DATA")
    if env:
        folders.append((Path(env) / subfolder, "NNLAB_DATA"))
    folders.append((Path.home() / ".cache" / "nnlab" / subfolder, "cache"))
    return folders


def _find(folder, name):
    """`name.gz` or `name` in `folder`, or None."""
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None


def find_files(names, root=None, what="MNIST", download=False):
    """The paths of all the `names` (gzipped or not) from the first folder that has them
    all; a FileNotFoundError naming the files and every folder searched otherwise."""
    folders = search_folders(root)
    for folder, _ in folders:
        paths = [_find(folder, name) for name in names]
        if all(paths):
            return paths
    lines = []
    for folder, source in folders:
        present = [p.name for p in (_find(folder, n) for n in names) if p is not None]
        has = f" (has only {', '.join(present)})" if present else ""
        lines.append(f"  {folder}  [{source}]{has}")
    if not os.environ.get("NNLAB_DATA"):
        lines.append("  (NNLAB_DATA is not set)")
    start = (f"{what}: download=True, but nnlab never downloads (no network access): "
             if download else f"{what}: ")
    raise FileNotFoundError(
        start + "the IDX files " + ", ".join(f"{n}.gz" for n in names)
        + " (or uncompressed) were not found in any folder searched:\n" + "\n".join(lines)
        + "\nPut the files in one of them, pass root=, or set NNLAB_DATA (its mnist/ "
        "subfolder is searched). The project keeps the 10,000 test images in "
        "../shared/data/mnist.")


class MNIST(Dataset):
    """The MNIST digits: `data` (N, 28, 28) uint8 and `targets` (N,) int64.

    `train=False` reads the 10,000 test images (t10k-*), `train=True` the 60,000 training
    images (train-*). Item i is (image, label): the image float32 in [0, 1] of shape
    (1, 28, 28), or (784,) with `flatten=True`, passed through `transform` if given; the
    label an int, passed through `target_transform`. `arrays()` / `as_tensors()` give the
    whole set at once. nnlab never downloads: `download=True` only changes the error when
    the files are missing."""

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root=None, train=False, transform=None, target_transform=None,
                 download=False, *, flatten=False):
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        self.flatten = flatten
        images_path, labels_path = find_files(FILES[self.train], root,
                                              f"MNIST(train={self.train})", download)
        self.root = images_path.parent
        images = read_idx(images_path, IMAGES_MAGIC)
        labels = read_idx(labels_path, LABELS_MAGIC)
        if len(images) != len(labels):
            raise ValueError(f"MNIST: {images_path.name} holds {len(images)} images but "
                             f"{labels_path.name} holds {len(labels)} labels")
        if labels.size and labels.max() > 9:
            raise ValueError(f"MNIST: {labels_path.name} holds label {labels.max()}; "
                             "expected digits 0-9")
        self.data = images
        self.targets = labels.astype(np.int64)
        self._floats = None

    def __len__(self):
        return len(self.data)

    def _shape(self, n, flatten):
        rows, cols = self.data.shape[1:]
        return (n, rows * cols) if flatten else (n, 1, rows, cols)

    def __getitem__(self, index):
        image = self.data[index].astype(np.float32) / 255
        image = image.reshape(self._shape(1, self.flatten)[1:])
        target = int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def arrays(self, normalize=True, flatten=None):
        """(X, y): X float32 of shape (N, 784) if `flatten` else (N, 1, 28, 28) (default:
        the dataset's own `flatten`), in [0, 1] if `normalize` else in [0, 255]; y int64."""
        flatten = self.flatten if flatten is None else flatten
        x = self.data.reshape(self._shape(len(self.data), flatten)).astype(np.float32)
        if normalize:
            x /= 255
        return x, self.targets

    def as_tensors(self, normalize=True, flatten=None):
        """`arrays()` as nnlab Tensors."""
        x, y = self.arrays(normalize, flatten)
        return Tensor(x), Tensor(y)

    def whole_arrays(self):
        if (self.transform is not None or self.target_transform is not None
                or type(self).__getitem__ is not MNIST.__getitem__):
            return None
        if self._floats is None:
            self._floats = self.arrays()[0]
        return self._floats, self.targets

    def __repr__(self):
        return (f"Dataset MNIST\n    Number of datapoints: {len(self)}\n"
                f"    Root location: {self.root}\n    Split: {'Train' if self.train else 'Test'}")
