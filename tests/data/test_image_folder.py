"""ImageFolder: torchvision's layout and names over PNG / JPEG files written here with
Pillow, pixel values, channels, the size rule, and the errors (a missing or empty folder,
an unreadable image, odd sizes, Pillow not installed)."""
import os
import sys

import numpy as np
import pytest

from nnlab.data import DataLoader, ImageFolder

Image = pytest.importorskip("PIL.Image", reason="Pillow is not installed: pip install "
                            "'nnlab[image]' (it is in the test extra)")


def save(path, array):
    """Write `array` (uint8 (H, W) or (H, W, 3), or uint16 (H, W)) as an image file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


def pixels(h=4, w=5, channels=3, seed=0):
    shape = (h, w, channels) if channels == 3 else (h, w)
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


@pytest.fixture
def folder(tmp_path):
    """root/cat/{a.png, b.png, deep/c.png}, root/dog/{z.png, notes.txt, .hidden.png}."""
    root = tmp_path / "pets"
    for i, name in enumerate(["cat/b.png", "cat/a.png", "cat/deep/c.png", "dog/z.png",
                              "dog/.hidden.png"]):
        save(root / name, pixels(seed=i))
    (root / "dog" / "notes.txt").write_text("not an image")
    (root / ".git").mkdir()
    return root


def test_torchvision_layout_and_names(folder):
    d = ImageFolder(folder)
    assert d.classes == ["cat", "dog"] and d.class_to_idx == {"cat": 0, "dog": 1}
    rel = [(os.path.relpath(path, folder), target) for path, target in d.samples]
    assert rel == [("cat/a.png", 0), ("cat/b.png", 0), ("cat/deep/c.png", 0), ("dog/z.png", 1)]
    assert d.targets == [0, 0, 0, 1] and d.imgs == d.samples and len(d) == 4


def test_pixels_are_float32_chw_in_unit_range(folder):
    d = ImageFolder(folder)
    image, target = d[3]
    assert image.dtype == np.float32 and image.shape == (3, 4, 5) and target == 1
    np.testing.assert_allclose(image, pixels(seed=3).transpose(2, 0, 1) / 255, atol=1e-7)
    images, targets = d.arrays()
    assert images.shape == (4, 3, 4, 5) and targets.tolist() == [0, 0, 0, 1]
    np.testing.assert_array_equal(images[3], image)


def test_grey_folders_have_one_channel_and_sixteen_bits_scale_by_65535(tmp_path):
    save(tmp_path / "a" / "x.png", pixels(channels=1))
    wide = np.array([[0, 65535], [32768, 1000]], dtype=np.uint16)
    save(tmp_path / "b" / "y.png", wide)
    d = ImageFolder(tmp_path, size=(2, 2))
    assert d.channels == 1 and d[0][0].shape == (1, 2, 2)
    np.testing.assert_allclose(d[1][0][0], wide / 65535, atol=1e-6)


def test_grey_and_colour_together_become_rgb(tmp_path):
    save(tmp_path / "a" / "x.png", pixels(channels=1))
    save(tmp_path / "b" / "y.png", pixels())
    d = ImageFolder(tmp_path)
    grey = d[0][0]
    assert d.channels == 3 and grey.shape == (3, 4, 5)
    np.testing.assert_array_equal(grey[0], grey[2])


def test_jpeg_is_read(tmp_path):
    flat = np.full((8, 8, 3), 200, dtype=np.uint8)
    save(tmp_path / "a" / "x.jpg", flat)
    save(tmp_path / "b" / "y.JPEG", flat)
    image = ImageFolder(tmp_path)[1][0]
    assert image.shape == (3, 8, 8) and np.abs(image - 200 / 255).max() < 0.02


def test_odd_sizes_are_an_error_naming_both_files(tmp_path):
    save(tmp_path / "a" / "x.png", pixels(4, 5))
    save(tmp_path / "b" / "y.png", pixels(6, 7))
    with pytest.raises(ValueError, match=r"y.png is 6x7 \(H x W\) but .*x.png is 4x5.*1 of 2 "
                       "images differ.*size='first'"):
        ImageFolder(tmp_path)
    first = ImageFolder(tmp_path, size="first")
    assert first.size == (4, 5) and first[1][0].shape == (3, 4, 5)
    assert first.image_sizes == [(4, 5), (6, 7)]
    given = ImageFolder(tmp_path, size=3)
    assert given.size == (3, 3) and given.arrays()[0].shape == (2, 3, 3, 3)


def test_the_loader_collates_and_transforms_apply(folder):
    d = ImageFolder(folder, transform=lambda x: x[:1], target_transform=lambda t: t + 10)
    x, y = next(iter(DataLoader(d, batch_size=4)))
    assert tuple(x.shape) == (4, 1, 4, 5) and y.tolist() == [10, 10, 10, 11]


def no_folder(root):
    return root / "nowhere"


def no_class(root):
    return root


def an_empty_class(root):
    (root / "a").mkdir()
    save(root / "b" / "x.png", pixels())
    return root


def a_broken_image(root):
    (root / "a").mkdir()
    (root / "a" / "x.png").write_bytes(b"junk")
    return root


@pytest.mark.parametrize("make, error, message", [
    (no_folder, FileNotFoundError, "nowhere is not a folder; expected root/<class>/<image>"),
    (no_class, FileNotFoundError, "no class folder in"),
    (an_empty_class, FileNotFoundError, r"no image in the class folder\(s\) a of .*\.png"),
    (a_broken_image, ValueError, "x.png is not an image Pillow can read"),
])
def test_folder_errors(tmp_path, make, error, message):
    with pytest.raises(error, match=message):
        ImageFolder(make(tmp_path))


def test_a_bad_size_is_refused(folder):
    with pytest.raises(ValueError, match=r"size must be None, 'first', a positive int or "
                       r"\(H, W\), got \(0, 3\)"):
        ImageFolder(folder, size=(0, 3))


def test_without_pillow_the_error_says_how_to_install_it(folder, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r"pip install 'nnlab\[image\]'"):
        ImageFolder(folder)
