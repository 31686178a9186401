"""The data sets: digits, MNIST from IDX files (the real test set when present, and small
files written here: found through NNLAB_DATA, damaged, missing) and the synthetic sets."""
import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

import nnlab
from nnlab.data import DataLoader, datasets
from nnlab.data.datasets import MNIST, digits, holdout_split, moons, read_idx, sine, spirals

SHARED_MNIST = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mnist"
needs_mnist = pytest.mark.skipif(
    not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").is_file(),
    reason=f"the MNIST test set is not in {SHARED_MNIST} (see ../shared/data/README.md)")


def idx_bytes(array, magic):
    """IDX bytes of a uint8 array, written here independently of nnlab's reader."""
    return struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape) + \
        array.astype(np.uint8).tobytes()


def write_mnist(folder, n=5, train=False, images=None, labels=None):
    """Small MNIST-format files in `folder`; returns the images and labels written."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, n, dtype=np.uint8)
    prefix = "train" if train else "t10k"
    (folder / f"{prefix}-images-idx3-ubyte.gz").write_bytes(
        gzip.compress(images if images is not None else idx_bytes(x, 2051)))
    (folder / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(labels if labels is not None else idx_bytes(y, 2049)))
    return x, y


@pytest.fixture
def no_data_env(monkeypatch, tmp_path):
    """No NNLAB_DATA and an empty home: only what a test puts in place is found."""
    monkeypatch.delenv("NNLAB_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path


# -- digits ---------------------------------------------------------------------------------
def test_digits():
    x, y = digits()
    assert x.shape == (1797, 64) and x.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert x.min() == 0 and x.max() == 1
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


@pytest.mark.parametrize("held_out, sizes", [(0.2, (1438, 359)), (300, (1497, 300))])
def test_holdout_split(held_out, sizes):
    x, y = digits()
    (xt, yt), (xv, yv) = holdout_split(x, y, held_out=held_out, seed=0)
    assert (len(xt), len(xv)) == sizes and (len(yt), len(yv)) == sizes
    rows = {r.tobytes() for r in xt} | {r.tobytes() for r in xv}
    assert len(rows) == len({r.tobytes() for r in x})   # every row, each in one part
    (xt2, _), _ = holdout_split(x, y, held_out=held_out, seed=0)
    (xt3, _), _ = holdout_split(x, y, held_out=held_out, seed=1)
    np.testing.assert_array_equal(xt, xt2)
    assert not np.array_equal(xt, xt3)


@pytest.mark.parametrize("args, kwargs, match", [
    ((np.zeros(3), np.zeros(4)), {}, "array 1 has 4 rows, array 0 has 3"),
    ((np.zeros(3),), dict(held_out=1.5), r"fraction 1.5 is not in \(0, 1\)"),
    ((np.zeros(3),), dict(held_out=5), r"count 5 is not in \[0, 3\]"),
])
def test_holdout_split_errors(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        holdout_split(*args, **kwargs)


# -- MNIST: the real test set ----------------------------------------------------------------
@needs_mnist
def test_mnist_test_set_matches_an_independent_reading():
    ds = MNIST(SHARED_MNIST)
    assert len(ds) == 10000
    assert ds.data.shape == (10000, 28, 28) and ds.data.dtype == np.uint8
    assert ds.targets.shape == (10000,) and ds.targets.dtype == np.int64
    raw = gzip.decompress((SHARED_MNIST / "t10k-images-idx3-ubyte.gz").read_bytes())
    assert struct.unpack(">4I", raw[:16]) == (2051, 10000, 28, 28)
    pixels = np.frombuffer(raw[16:], np.uint8)
    raw_labels = gzip.decompress((SHARED_MNIST / "t10k-labels-idx1-ubyte.gz").read_bytes())
    assert int(ds.targets[0]) == raw_labels[8] == 7
    np.testing.assert_array_equal(ds.data.ravel(), pixels)
    np.testing.assert_array_equal(ds.targets, np.frombuffer(raw_labels[8:], np.uint8))
    assert ds.data.mean() == pytest.approx(pixels.mean()) == pytest.approx(33.79, abs=0.01)
    assert np.bincount(ds.targets).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028,
                                                974, 1009]


@needs_mnist
def test_mnist_views():
    ds = MNIST(SHARED_MNIST)
    x, y = ds.arrays(flatten=True)
    assert x.shape == (10000, 784) and x.dtype == np.float32 and y.dtype == np.int64
    assert x.min() == 0 and x.max() == 1
    assert x.mean() == pytest.approx(ds.data.mean() / 255, rel=1e-5)
    xt, yt = ds.as_tensors()
    assert isinstance(xt, nnlab.Tensor) and xt.shape == (10000, 1, 28, 28)
    assert ds.arrays(normalize=False)[0].max() == 255
    image, label = ds[0]
    assert image.shape == (1, 28, 28) and image.dtype == np.float32 and label == 7
    np.testing.assert_array_equal(image, xt.numpy()[0])
    assert "Number of datapoints: 10000" in repr(ds) and "Split: Test" in repr(ds)


@needs_mnist
def test_mnist_found_through_nnlab_data(monkeypatch):
    monkeypatch.setenv("NNLAB_DATA", str(SHARED_MNIST.parent))
    assert len(MNIST()) == 10000
    assert len(MNIST(root=SHARED_MNIST.parent)) == 10000   # root/mnist is searched too


@needs_mnist
def test_mnist_train_set_missing_images_named(no_data_env):
    with pytest.raises(FileNotFoundError, match=r"(?s)train-images-idx3-ubyte\.gz.*"
                                                r"has only train-labels-idx1-ubyte\.gz"):
        MNIST(SHARED_MNIST, train=True)


# -- MNIST: files written here -------------------------------------------------------------
@pytest.mark.parametrize("flatten, shape", [(False, (1, 28, 28)), (True, (784,))])
def test_mnist_small_files(no_data_env, monkeypatch, flatten, shape):
    data = no_data_env / "data"
    x, y = write_mnist(data / "mnist", n=7, train=True)
    monkeypatch.setenv("NNLAB_DATA", str(data))
    ds = MNIST(train=True, flatten=flatten)
    np.testing.assert_array_equal(ds.data, x)
    np.testing.assert_array_equal(ds.targets, y)
    image, label = ds[3]
    assert image.shape == shape and label == y[3]
    np.testing.assert_allclose(image.ravel(), x[3].ravel() / 255, rtol=1e-6)
    batches = list(DataLoader(ds, batch_size=4))   # the whole-array path
    assert [b[0].shape for b in batches] == [(4, *shape), (3, *shape)]
    np.testing.assert_array_equal(batches[1][1].numpy(), y[4:])
    with_transform = MNIST(train=True, flatten=flatten, transform=lambda im: im * 2,
                           target_transform=lambda t: t + 10)
    xb, yb = next(iter(DataLoader(with_transform, batch_size=4)))   # item by item
    np.testing.assert_allclose(xb.numpy(), batches[0][0].numpy() * 2)
    np.testing.assert_array_equal(yb.numpy(), y[:4] + 10)


def test_mnist_home_cache_and_uncompressed(no_data_env):
    folder = no_data_env / "home" / ".cache" / "nnlab" / "mnist"
    x, _ = write_mnist(folder, n=3)
    images = folder / "t10k-images-idx3-ubyte.gz"
    images.with_suffix("").write_bytes(gzip.decompress(images.read_bytes()))
    images.unlink()
    np.testing.assert_array_equal(MNIST().data, x)


def test_mnist_missing_lists_every_folder(no_data_env, monkeypatch):
    root = no_data_env / "nowhere"
    monkeypatch.setenv("NNLAB_DATA", str(no_data_env / "env"))
    with pytest.raises(FileNotFoundError) as info:
        MNIST(root)
    message = str(info.value)
    for part in ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", str(root),
                 str(root / "mnist"), str(no_data_env / "env" / "mnist"),
                 str(no_data_env / "home" / ".cache" / "nnlab" / "mnist")]:
        assert part in message


def test_mnist_download_explains_no_network(no_data_env):
    with pytest.raises(FileNotFoundError, match="download=True, but nnlab never downloads "
                                                r"\(no network access\)"):
        MNIST(no_data_env, download=True)


def _truncated_gzip(folder):
    path = folder / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-30])


def _short_images(folder):
    x = np.zeros((5, 28, 28), np.uint8)
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(x, 2051)[:-9]))


def _swapped_magic(folder):
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(
        gzip.compress(idx_bytes(np.zeros((5, 28, 28)), 2049)))


def _not_gzip(folder):
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(b"this is not gzip")


def _count_mismatch(folder):
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(idx_bytes(np.zeros(4), 2049)))


def _bad_label(folder):
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(idx_bytes(np.full(5, 12), 2049)))


def _header_only(folder):
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x03\x00"))


@pytest.mark.parametrize("damage, match", [
    (_truncated_gzip, r"t10k-images-idx3-ubyte\.gz: the gzip stream is damaged or truncated"),
    (_not_gzip, r"t10k-labels-idx1-ubyte\.gz: the gzip stream is damaged or truncated"),
    (_short_images, r"truncated: the header gives shape \(5, 28, 28\) of uint8 \(3920 bytes "
                    r"of data\), the file holds 3911"),
    (_swapped_magic, r"magic number 2049 \(0x00000801\), expected 2051"),
    (_header_only, r"truncated header: 3 dimension sizes need 16 bytes, the file has 5"),
    (_count_mismatch, "holds 5 images but t10k-labels-idx1-ubyte.gz holds 4 labels"),
    (_bad_label, "holds label 12; expected digits 0-9"),
])
def test_mnist_damaged_files(no_data_env, damage, match):
    write_mnist(no_data_env, n=5)
    damage(no_data_env)
    with pytest.raises(ValueError, match=match):
        MNIST(no_data_env)


@pytest.mark.parametrize("dtype, code", [(np.uint8, 0x08), (">i4", 0x0C), (">f8", 0x0E)])
def test_read_idx_types(tmp_path, dtype, code):
    a = np.arange(24).reshape(2, 3, 4).astype(dtype)
    path = tmp_path / "a.idx"
    path.write_bytes(bytes([0, 0, code, 3]) + struct.pack(">3I", 2, 3, 4) + a.tobytes())
    out = read_idx(path)
    np.testing.assert_array_equal(out, a)
    assert out.dtype.isnative and out.flags.writeable


def test_read_idx_longer_than_header(tmp_path):
    path = tmp_path / "a.idx"
    path.write_bytes(idx_bytes(np.zeros(3), 2049) + b"\x00")
    with pytest.raises(ValueError, match="longer than its header says"):
        read_idx(path)


# -- synthetic sets -------------------------------------------------------------------------
@pytest.mark.parametrize("make, kwargs, x_shape, y_shape, y_dtype", [
    (moons, {}, (200, 2), (200,), np.int64),
    (moons, dict(n_samples=51), (51, 2), (51,), np.int64),
    (spirals, {}, (200, 2), (200,), np.int64),
    (spirals, dict(n_samples=100, n_classes=3), (100, 2), (100,), np.int64),
    (sine, {}, (200, 1), (200, 1), np.float32),
    (sine, dict(n_samples=7), (7, 1), (7, 1), np.float32),
])
def test_synthetic_shapes_and_seeds(make, kwargs, x_shape, y_shape, y_dtype):
    x, y = make(**kwargs)
    assert x.shape == x_shape and x.dtype == np.float32
    assert y.shape == y_shape and y.dtype == y_dtype
    x2, y2 = make(**kwargs)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    x3, _ = make(**kwargs, seed=1)
    assert not np.array_equal(x, x3)
    x4, _ = make(**kwargs, seed=np.random.default_rng(0))
    np.testing.assert_array_equal(x, x4)


@pytest.mark.parametrize("n_samples, n_classes", [(200, 2), (100, 3), (10, 4)])
def test_class_balance(n_samples, n_classes):
    _, y = spirals(n_samples, n_classes)
    counts = np.bincount(y, minlength=n_classes)
    assert counts.sum() == n_samples and counts.max() - counts.min() <= 1
    assert np.bincount(moons(n_samples)[1]).tolist() == [n_samples // 2, n_samples - n_samples // 2]


def test_synthetic_geometry_without_noise():
    x, y = moons(100, noise=0)
    outer, inner = x[y == 0], x[y == 1]
    np.testing.assert_allclose(np.hypot(*outer.T), 1, rtol=1e-6)
    np.testing.assert_allclose(np.hypot(inner[:, 0] - 1, inner[:, 1] - 0.5), 1, rtol=1e-6)
    x, y = sine(50, noise=0)
    assert x.min() >= -np.pi and x.max() <= np.pi
    np.testing.assert_allclose(y, np.sin(x), atol=1e-6)
    x, _ = spirals(60, 3, noise=0)
    assert np.hypot(*x.T).max() == pytest.approx(1, rel=1e-6)


def test_noise_scale():
    x, y = sine(20000, noise=0.1)
    assert np.std(y - np.sin(x)) == pytest.approx(0.1, rel=0.03)


def test_datasets_namespace():
    for name in ["MNIST", "digits", "moons", "spirals", "sine"]:
        assert hasattr(datasets, name)
