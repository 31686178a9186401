"""Dataset, TensorDataset, Subset, random_split and DataLoader: batching, shuffling, the
whole-array fast path against item-by-item collation, and default_collate against torch's."""
import collections
import math

import numpy as np
import pytest

import nnlab
from nnlab.data import (
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)
from tests.helpers import requires_torch

try:
    import torch
    from torch.utils.data import default_collate as torch_collate
except ImportError:  # pragma: no cover
    torch = None

X = np.arange(10 * 3, dtype=np.float32).reshape(10, 3)
Y = np.arange(10, dtype=np.int64)


class ItemDataset(Dataset):
    """TensorDataset's items, but without whole arrays: the loader collates item by item."""

    def __init__(self, *arrays):
        self.arrays = arrays

    def __getitem__(self, i):
        return tuple(a[i] for a in self.arrays)

    def __len__(self):
        return len(self.arrays[0])


class ArraysOnly(Dataset):
    """Whole arrays only: an item-by-item loader would fail."""

    def __getitem__(self, i):
        raise AssertionError("the fast path should not fetch items one by one")

    def __len__(self):
        return len(X)

    def whole_arrays(self):
        return X, Y


def labels(loader):
    return [yb.numpy().tolist() for _, yb in loader]


# -- datasets -------------------------------------------------------------------------------
def test_dataset_is_abstract():
    with pytest.raises(NotImplementedError, match="__getitem__"):
        Dataset()[0]
    with pytest.raises(NotImplementedError, match="__len__"):
        len(Dataset())


@pytest.mark.parametrize("make", [lambda a: a, nnlab.tensor], ids=["numpy", "tensor"])
def test_tensor_dataset_items(make):
    ds = TensorDataset(make(X), make(Y))
    assert len(ds) == 10
    x, y = ds[3]
    np.testing.assert_array_equal(np.asarray(x.data if hasattr(x, "grad") else x), X[3])
    assert int(y.item()) == 3


@pytest.mark.parametrize("tensors, match", [
    ((X, Y[:9]), r"size mismatch in the first dimension: 10 \(tensor 0.*9 \(tensor 1"),
    ((X, np.float32(1.0)), "tensor 1 is 0-d"),
    ((), "at least one"),
])
def test_tensor_dataset_errors(tensors, match):
    with pytest.raises(ValueError, match=match):
        TensorDataset(*tensors)


def test_subset_items():
    sub = Subset(TensorDataset(X, Y), [7, 2, 5])
    assert len(sub) == 3
    assert int(sub[1][1]) == 2
    np.testing.assert_array_equal(sub[[0, 2]][1], [7, 5])


@pytest.mark.parametrize("n, lengths, expected", [
    (10, [7, 3], [7, 3]),
    (10, [0.8, 0.2], [8, 2]),
    (11, [0.3, 0.3, 0.4], [4, 3, 4]),   # floors 3, 3, 4; the remainder goes to the first
    (7, [1 / 3, 1 / 3, 1 / 3], [3, 2, 2]),
    (5, [5, 0], [5, 0]),
])
def test_random_split_sizes_disjoint(n, lengths, expected):
    parts = random_split(TensorDataset(np.arange(n)), lengths, generator=0)
    assert [len(p) for p in parts] == expected
    seen = np.concatenate([np.asarray(p.indices, dtype=int) for p in parts])
    assert sorted(seen.tolist()) == list(range(n))


@requires_torch
@pytest.mark.parametrize("n, lengths", [(10, [0.8, 0.2]), (11, [0.3, 0.3, 0.4]),
                                        (101, [0.5, 0.25, 0.25]), (9, [3, 6])])
def test_random_split_lengths_as_torch(n, lengths):
    ours = [len(p) for p in random_split(list(range(n)), lengths, generator=0)]
    assert ours == [len(p) for p in torch.utils.data.random_split(list(range(n)), lengths)]


def test_random_split_seeded():
    ds = TensorDataset(np.arange(50))
    a = [p.indices for p in random_split(ds, [0.6, 0.4], generator=3)]
    b = [p.indices for p in random_split(ds, [0.6, 0.4], generator=np.random.default_rng(3))]
    assert a == b
    nnlab.manual_seed(5)
    c = [p.indices for p in random_split(ds, [30, 20])]
    nnlab.manual_seed(5)
    assert c == [p.indices for p in random_split(ds, [30, 20])]


@pytest.mark.parametrize("lengths, err, match", [
    ([6, 5], ValueError, "sum to 11, but the dataset has 10"),
    ([1.5, -0.5], ValueError, "not between 0 and 1"),
    ([0.5, 0.3], ValueError, "neither a count nor part of fractions"),
])
def test_random_split_errors(lengths, err, match):
    with pytest.raises(err, match=match):
        random_split(TensorDataset(X), lengths)


def test_random_split_bad_generator():
    with pytest.raises(TypeError, match="random_split: generator must be"):
        random_split(TensorDataset(X), [5, 5], generator="seed")


# -- batching -------------------------------------------------------------------------------
@pytest.mark.parametrize("fast", [True, False], ids=["whole-arrays", "item-by-item"])
@pytest.mark.parametrize("n, batch_size, drop_last, sizes", [
    (10, 3, False, [3, 3, 3, 1]),
    (10, 3, True, [3, 3, 3]),
    (10, 5, False, [5, 5]),
    (10, 5, True, [5, 5]),
    (10, 1, False, [1] * 10),
    (10, 20, False, [10]),
    (10, 20, True, []),
    (0, 4, False, []),
])
def test_batch_sizes_and_len(fast, n, batch_size, drop_last, sizes):
    arrays = (X[:n], Y[:n])
    ds = TensorDataset(*arrays) if fast else ItemDataset(*arrays)
    loader = DataLoader(ds, batch_size=batch_size, drop_last=drop_last)
    got = [(tuple(xb.shape), tuple(yb.shape)) for xb, yb in loader]
    assert got == [((k, 3), (k,)) for k in sizes]
    assert len(loader) == len(sizes)
    if sizes:
        assert sum(labels(loader), []) == list(range(sum(sizes)))   # in order


@pytest.mark.parametrize("fast", [True, False], ids=["whole-arrays", "item-by-item"])
def test_batches_are_tensors_of_the_arrays_dtypes(fast):
    ds = TensorDataset(X, Y) if fast else ItemDataset(X, Y)
    xb, yb = next(iter(DataLoader(ds, batch_size=4)))
    assert isinstance(xb, nnlab.Tensor) and isinstance(yb, nnlab.Tensor)
    assert (xb.dtype, yb.dtype) == (np.float32, np.int64)
    np.testing.assert_array_equal(xb.numpy(), X[:4])


def test_fast_path_copies():
    """A batch is a copy: changing it in place leaves the dataset alone (as torch)."""
    x = X.copy()
    xb, _ = next(iter(DataLoader(TensorDataset(x, Y), batch_size=4)))
    xb.data[:] = -1
    np.testing.assert_array_equal(x, X)


@pytest.mark.parametrize("make", [lambda ds: ds, lambda ds: Subset(ds, [9, 0, 4, 4, 2])],
                         ids=["dataset", "subset"])
def test_fast_path_equals_item_by_item(make):
    for shuffle in (False, True):
        fast = DataLoader(make(TensorDataset(X, nnlab.tensor(Y))), batch_size=3,
                          shuffle=shuffle, generator=7)
        slow = DataLoader(make(ItemDataset(X, Y)), batch_size=3, shuffle=shuffle, generator=7)
        for _ in range(2):
            pairs = list(zip(fast, slow, strict=True))
            assert pairs
            for (xf, yf), (xs, ys) in pairs:
                assert (xf.dtype, yf.dtype) == (xs.dtype, ys.dtype)
                np.testing.assert_array_equal(xf.numpy(), xs.numpy())
                np.testing.assert_array_equal(yf.numpy(), ys.numpy())


def test_any_dataset_with_whole_arrays_is_batched_at_once():
    (xb, yb), *_ = DataLoader(ArraysOnly(), batch_size=4, shuffle=True, generator=0)
    np.testing.assert_array_equal(xb.numpy(), X[yb.numpy()])


def test_tensor_requiring_grad_keeps_its_graph():
    w = nnlab.tensor(X, requires_grad=True)
    xb, _ = next(iter(DataLoader(TensorDataset(w, Y), batch_size=4)))
    xb.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), (np.arange(10) < 4)[:, None] * np.ones(3))


# -- shuffling ------------------------------------------------------------------------------
@pytest.mark.parametrize("fast", [True, False], ids=["whole-arrays", "item-by-item"])
def test_shuffle_seeded_each_epoch_new_and_complete(fast):
    n = 50
    ds = TensorDataset(X.repeat(5, 0), np.arange(n)) if fast else ItemDataset(
        X.repeat(5, 0), np.arange(n))
    loader = DataLoader(ds, batch_size=8, shuffle=True, generator=1)
    epochs = [sum(labels(loader), []) for _ in range(3)]
    for order in epochs:
        assert sorted(order) == list(range(n))   # each sample exactly once
    assert epochs[0] != list(range(n))
    assert epochs[0] != epochs[1] != epochs[2]
    again = DataLoader(ds, batch_size=8, shuffle=True, generator=np.random.default_rng(1))
    assert [sum(labels(again), []) for _ in range(3)] == epochs   # int seed == its Generator


def test_shuffle_uses_global_generator():
    loader = DataLoader(TensorDataset(X, Y), batch_size=4, shuffle=True)
    nnlab.manual_seed(11)
    first = labels(loader), labels(loader)
    nnlab.manual_seed(11)
    assert (labels(loader), labels(loader)) == first
    assert first[0] != first[1]


def test_shuffle_drop_last_drops_a_random_remainder():
    loader = DataLoader(TensorDataset(X, Y), batch_size=4, shuffle=True, drop_last=True,
                        generator=0)
    seen = [sum(labels(loader), []) for _ in range(5)]
    assert all(len(s) == 8 and len(set(s)) == 8 for s in seen)
    assert len({tuple(sorted(s)) for s in seen}) > 1


# -- samplers, batch_size=None, collate_fn ---------------------------------------------------
def test_sampler_and_batch_sampler():
    loader = DataLoader(TensorDataset(X, Y), batch_size=2, sampler=[9, 8, 1])
    assert labels(loader) == [[9, 8], [1]] and len(loader) == 2
    loader = DataLoader(TensorDataset(X, Y), batch_sampler=[[0, 5], [3]])
    assert labels(loader) == [[0, 5], [3]] and len(loader) == 2


def test_batch_size_none_yields_items():
    loader = DataLoader(ItemDataset(X, Y), batch_size=None)
    items = list(loader)
    assert len(items) == len(loader) == 10
    assert isinstance(items[2][0], nnlab.Tensor) and items[2][0].shape == (3,)


def test_custom_collate_fn():
    loader = DataLoader(TensorDataset(X, Y), batch_size=4, collate_fn=lambda b: len(b))
    assert list(loader) == [4, 4, 2]


@pytest.mark.parametrize("kwargs, match", [
    (dict(batch_size=0), "batch_size should be a positive integer"),
    (dict(batch_size=2.5), "batch_size should be a positive integer"),
    (dict(sampler=[0, 1], shuffle=True), "sampler option is mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler option is mutually exclusive"),
    (dict(batch_size=None, drop_last=True), "mutually exclusive with drop_last"),
])
def test_loader_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(TensorDataset(X, Y), **kwargs)


# -- default_collate ------------------------------------------------------------------------
Point = collections.namedtuple("Point", "x y")

BATCHES = {
    "ints": [1, 2, 3],
    "bools": [True, False],
    "numpy scalars": [np.float64(1.5), np.float64(2.0)],
    "numpy int32 scalars": [np.int32(4), np.int32(5)],
    "arrays": [np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)],
    "float64 arrays": [np.ones(2), np.zeros(2)],
    "tuples": [(np.ones(3, np.float32), 1), (np.zeros(3, np.float32), 2)],
    "lists": [[1, 2.5], [3, 4.5]],
    "dicts": [{"a": 1, "b": np.ones(2, np.float32)}, {"a": 2, "b": np.zeros(2, np.float32)}],
    "nested": [{"p": (1, [2, 3])}, {"p": (4, [5, 6])}],
    "strings": [("a", 1), ("b", 2)],
    "namedtuples": [Point(1, 2.0), Point(3, 4.0)],
}


def _tree(out):
    """The structure, dtypes and values of a collated batch, torch's or nnlab's."""
    if isinstance(out, nnlab.Tensor):
        return ("tensor", str(out.dtype), out.numpy().tolist())
    if torch is not None and isinstance(out, torch.Tensor):
        return ("tensor", str(out.dtype).replace("torch.", ""), out.numpy().tolist())
    if isinstance(out, dict):
        return {k: _tree(v) for k, v in out.items()}
    if isinstance(out, tuple) and hasattr(out, "_fields"):
        return (type(out).__name__, *[_tree(v) for v in out])
    if isinstance(out, list):
        return [_tree(v) for v in out]
    return out


@requires_torch
@pytest.mark.parametrize("name", BATCHES)
def test_default_collate_as_torch(name):
    batch = BATCHES[name]
    ours = _tree(default_collate(batch))
    theirs = _tree(torch_collate(batch))
    if name in ("lists", "namedtuples"):   # the Python floats: float64 in torch
        theirs = _retag_float64(theirs)
    assert ours == theirs


def _retag_float64(tree):
    """torch collates Python floats to float64, nnlab to its default dtype (float32)."""
    if isinstance(tree, dict):
        return {k: _retag_float64(v) for k, v in tree.items()}
    if isinstance(tree, tuple) and tree[0] == "tensor":
        return ("tensor", "float32" if tree[1] == "float64" else tree[1], tree[2])
    if isinstance(tree, (list, tuple)):
        return type(tree)(_retag_float64(v) for v in tree)
    return tree


def test_default_collate_python_numbers():
    assert default_collate([1, 2]).dtype == np.int64
    assert default_collate([1.0, 2]).dtype == np.float32
    assert default_collate([True, False]).dtype == np.bool_


def test_default_collate_tensors():
    out = default_collate([nnlab.ones(2, 3), nnlab.zeros(2, 3)])
    assert out.shape == (2, 2, 3) and out.dtype == np.float32


@pytest.mark.parametrize("batch, err, match", [
    ([np.ones(2), np.ones(3)], RuntimeError, r"array 1 of the batch has shape \(3,\) but "
                                             r"array 0 has shape \(2,\)"),
    ([nnlab.ones(2), nnlab.ones(3)], RuntimeError, "tensor 1 of the batch has shape"),
    ([(1, 2), (3,)], RuntimeError, "sample 1 has 1, sample 0 has 2"),
    ([{"a": 1}, {"b": 2}], KeyError, "sample 1 has keys"),
    ([None, None], TypeError, "found NoneType"),
    ([np.array(["a"]), np.array(["b"])], TypeError, "an array of dtype <U1"),
])
def test_default_collate_errors(batch, err, match):
    with pytest.raises(err, match=match):
        default_collate(batch)


def test_loader_len_as_torch_formula():
    for n in range(0, 12):
        for bs in range(1, 5):
            for drop in (False, True):
                loader = DataLoader(TensorDataset(np.zeros(n)), batch_size=bs, drop_last=drop)
                assert len(loader) == (n // bs if drop else math.ceil(n / bs))
