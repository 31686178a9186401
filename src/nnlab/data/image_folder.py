"""Images in class folders, torchvision's `ImageFolder` layout, read with Pillow (the
optional extra: pip install 'nnlab[image]'):

    root/cat/001.png
    root/cat/002.jpg
    root/dog/abc.png

`classes` are the sub-folder names sorted, `class_to_idx` maps them to 0..K-1, `samples`
lists (path, class index) by class then path, `targets` the class indices.
"""
import os

import numpy as np

from ..autograd.tensor import Tensor
from .dataset import Dataset

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
GRAY_MODES = ("1", "L", "LA", "I;16", "I;16B", "I;16L", "I;16N", "I")
WIDE_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")   # 16-bit grey: divided by 65535


def pillow():
    """PIL.Image, or an ImportError saying how to install Pillow."""
    try:
        from PIL import Image
    except ImportError as e:
        raise ImportError("nnlab reads images with Pillow, which is not installed: "
                          "pip install 'nnlab[image]' (or pip install pillow)") from e
    return Image


def find_classes(directory):
    """(classes, class_to_idx): the sub-folders of `directory`, sorted, and their indices."""
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"ImageFolder: {directory} is not a folder; expected "
                                "root/<class>/<image> (one sub-folder per class)")
    classes = sorted(entry.name for entry in os.scandir(directory)
                     if entry.is_dir() and not entry.name.startswith("."))
    if not classes:
        raise FileNotFoundError(f"ImageFolder: no class folder in {directory}; expected "
                                "root/<class>/<image> (one sub-folder per class)")
    return classes, {name: i for i, name in enumerate(classes)}


def make_dataset(directory, class_to_idx, extensions=IMG_EXTENSIONS):
    """[(path, class index)]: the files under each class folder (recursively, sorted) whose
    names end in one of `extensions` (any case); every class must have one."""
    samples, empty = [], []
    for name in sorted(class_to_idx):
        found = []
        for folder, subfolders, files in os.walk(os.path.join(directory, name),
                                                 followlinks=True):
            subfolders[:] = [d for d in subfolders if not d.startswith(".")]
            found += [(os.path.join(folder, f), class_to_idx[name]) for f in files
                      if f.lower().endswith(extensions) and not f.startswith(".")]
        samples += sorted(found)
        if not found:
            empty.append(name)
    if empty:
        raise FileNotFoundError(f"ImageFolder: no image in the class folder(s) "
                                f"{', '.join(empty)} of {directory}; expected files ending "
                                f"in {', '.join(extensions)}")
    return samples


def _size(size):
    """(H, W) from an int or a pair; None and 'first' as they are."""
    if size is None or size == "first":
        return size
    pair = (size, size) if isinstance(size, int) else tuple(size)
    if (len(pair) != 2 or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0
                                  for s in pair)):
        raise ValueError(f"ImageFolder: size must be None, 'first', a positive int or (H, W), "
                         f"got {size!r}")
    return pair


class ImageFolder(Dataset):
    """Item i is (image, class index): the image float32 (C, H, W) in [0, 1] (8-bit images
    divided by 255, 16-bit grey by 65535), passed through `transform`; the index an int,
    passed through `target_transform`.

    C is 1 when every image is grey, else 3 (all converted to RGB; alpha dropped). Sizes:
    by default (size=None) every image must have the first image's size, and an error names
    the first that differs; size='first' resizes the others to the first image's size, and
    size=H or (H, W) resizes every image, with Pillow (bilinear). `size` is then the (H, W)
    of the items, `image_sizes` each file's own (H, W).
    Unlike torchvision's, the constructor opens every file's header, so an unreadable or
    odd-sized image is an error at once, not in the middle of training; the pixels are read
    when an item is asked for, or all at once by `arrays()`."""

    def __init__(self, root, transform=None, target_transform=None, *, size=None):
        self.root = os.fspath(root)
        self.transform, self.target_transform = transform, target_transform
        Image = pillow()
        self.classes, self.class_to_idx = find_classes(self.root)
        self.samples = make_dataset(self.root, self.class_to_idx)
        self.imgs = self.samples   # torchvision's alias
        self.targets = [target for _, target in self.samples]
        self.size = _size(size)
        sizes, gray = [], True
        for path, _ in self.samples:
            try:
                with Image.open(path) as im:
                    sizes.append(im.size[::-1])   # Pillow's (W, H) -> (H, W)
                    gray = gray and im.mode in GRAY_MODES
            except OSError as e:
                raise ValueError(f"ImageFolder: {path} is not an image Pillow can read: "
                                 f"{e}") from e
        self.channels, self.image_sizes = (1 if gray else 3), sizes
        if self.size == "first":
            self.size = sizes[0]
        elif self.size is None:
            self.size = sizes[0]
            odd = [i for i, s in enumerate(sizes) if s != self.size]
            if odd:
                (h, w), (h0, w0) = sizes[odd[0]], self.size
                raise ValueError(
                    f"ImageFolder: {self.samples[odd[0]][0]} is {h}x{w} (H x W) but "
                    f"{self.samples[0][0]} is {h0}x{w0}, and {len(odd)} of {len(sizes)} "
                    f"images differ from it; the images must share one size: resize them, "
                    f"or pass size='first' or size=(H, W) to resize them with Pillow")
        self._arrays = None

    def load(self, path):
        """The image at `path` as float32 (C, H, W) in [0, 1], at the dataset's size."""
        Image = pillow()
        with Image.open(path) as im:
            if im.size != self.size[::-1]:
                im = im.resize(self.size[::-1], Image.Resampling.BILINEAR)
            if self.channels == 3:
                return np.asarray(im.convert("RGB"), np.float32).transpose(2, 0, 1) / 255
            if im.mode in WIDE_MODES:
                return np.clip(np.asarray(im, np.float32) / 65535, 0, 1)[None]
            return np.asarray(im.convert("L"), np.float32)[None] / 255

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        path, target = self.samples[index]
        image = self.load(path)
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def arrays(self):
        """(images, targets): every image, float32 (N, C, H, W) in [0, 1], and the class
        indices int64 (N,); read once and kept."""
        if self._arrays is None:
            images = np.empty((len(self), self.channels, *self.size), dtype=np.float32)
            for i, (path, _) in enumerate(self.samples):
                images[i] = self.load(path)
            self._arrays = images, np.asarray(self.targets, dtype=np.int64)
        return self._arrays

    def as_tensors(self):
        """`arrays()` as nnlab Tensors."""
        images, targets = self.arrays()
        return Tensor(images), Tensor(targets)

    def __repr__(self):
        return (f"Dataset ImageFolder\n    Number of datapoints: {len(self)}\n"
                f"    Root location: {self.root}\n    Classes: {len(self.classes)}, images "
                f"{self.channels}x{self.size[0]}x{self.size[1]}")
