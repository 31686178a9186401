"""Datasets: the map-style `Dataset` (item i of N), `TensorDataset` over arrays, `Subset`,
`ConcatDataset`, `StackDataset` and `random_split`; the `IterableDataset` (a stream of
items) and `ChainDataset`; with PyTorch's names and semantics.

A dataset whose items are rows of whole arrays says so through `whole_arrays()`; the
`DataLoader` then takes a batch by indexing each array once instead of collating items.
"""
import bisect
import math
import types
from itertools import accumulate

import numpy as np

from ..ops.generator import Generator, numpy_generator


def as_generator(generator, where):
    """A `numpy.random.Generator` from an `nnlab.Generator` (its stream), a numpy Generator,
    an int seed (a new Generator), or None (the default generator, looked up at the time of
    the draw)."""
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    if generator is None or isinstance(generator, (Generator, np.random.Generator)):
        return numpy_generator(generator, where)
    raise TypeError(f"{where}: generator must be an nnlab.Generator, a numpy.random.Generator, "
                    f"an int seed or None, got {type(generator).__name__}")


class Dataset:
    """A map-style dataset: `dataset[i]` for i in range(len(dataset)). Subclasses implement
    `__getitem__` and `__len__`. `Dataset[T]` is accepted, for type hints and bases as
    torch's generic `Dataset[T_co]`."""

    __class_getitem__ = classmethod(types.GenericAlias)

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__}: subclasses of Dataset must "
                                  "implement __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__}: subclasses of Dataset must "
                                  "implement __len__")

    def whole_arrays(self):
        """A tuple of arrays (or Tensors) such that `self[i] == tuple(a[i] for a in arrays)`,
        if the items are rows of whole arrays, else None (the default). The `DataLoader` uses
        it to take a batch with one indexing per array."""
        return None

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that is a stream of items: subclasses implement `__iter__` (and may
    implement `__len__`). The `DataLoader` batches consecutive items; it takes no sampler."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__}: subclasses of IterableDataset must "
                                  "implement __iter__")

    def __len__(self):
        raise TypeError(f"{type(self).__name__}: this IterableDataset has no length (its "
                        "class does not define __len__)")

    def __add__(self, other):
        return ChainDataset([self, other])


def _iterable(dataset, i):
    if not isinstance(dataset, IterableDataset):
        raise TypeError(f"ChainDataset: only supports IterableDataset, but dataset {i} is a "
                        f"{type(dataset).__name__}")
    return dataset


class ChainDataset(IterableDataset):
    """The items of several IterableDatasets, one stream after the other."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for i, dataset in enumerate(self.datasets):
            yield from _iterable(dataset, i)

    def __len__(self):
        return sum(len(_iterable(d, i)) for i, d in enumerate(self.datasets))


class StackDataset(Dataset):
    """Item i of several equally long datasets side by side: `StackDataset(a, b)[i]` is
    `(a[i], b[i])`, `StackDataset(x=a, y=b)[i]` is `{'x': a[i], 'y': b[i]}`."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("StackDataset: supported either tuple- (via args) or dict- (via "
                             "kwargs) like input/output, but both types are given")
        if not args and not kwargs:
            raise ValueError("StackDataset: at least one dataset should be passed")
        self.datasets = args or kwargs
        sizes = [len(d) for d in (args or kwargs.values())]
        if len(set(sizes)) > 1:
            raise ValueError(f"StackDataset: size mismatch between datasets (lengths {sizes})")
        self._length = sizes[0]

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {key: d[index] for key, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __getitems__(self, indices):
        """The items at `indices` (a list), taken in one call from each dataset that has
        `__getitems__` itself."""
        named = self.datasets if isinstance(self.datasets, dict) else dict(
            enumerate(self.datasets))
        columns = {}
        for key, d in named.items():
            getitems = getattr(d, "__getitems__", None)
            column = getitems(indices) if callable(getitems) else [d[i] for i in indices]
            if len(column) != len(indices):
                raise ValueError(f"StackDataset: dataset {key!r} gave {len(column)} items for "
                                 f"{len(indices)} indices")
            columns[key] = column
        if isinstance(self.datasets, dict):
            return [dict(zip(columns, row)) for row in zip(*columns.values())]
        return [tuple(row) for row in zip(*columns.values())]

    def __len__(self):
        return self._length


def _first_dim(t):
    shape = getattr(t, "shape", ())
    return shape[0] if len(shape) else None


class TensorDataset(Dataset):
    """Item i is `tuple(t[i] for t in tensors)`; the tensors (nnlab Tensors or arrays, kept
    as given) share their first dimension."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor or array")
        tensors = tuple(t if hasattr(t, "shape") else np.asarray(t) for t in tensors)
        sizes = [_first_dim(t) for t in tensors]
        for i, (t, n) in enumerate(zip(tensors, sizes)):
            if n is None:
                raise ValueError(f"TensorDataset: tensor {i} is 0-d (shape {tuple(t.shape)}); "
                                 "each needs a first dimension to index")
        if len(set(sizes)) > 1:
            listed = ", ".join(f"{n} (tensor {i}, shape {tuple(t.shape)})"
                               for i, (t, n) in enumerate(zip(tensors, sizes)))
            raise ValueError(f"TensorDataset: size mismatch in the first dimension: {listed}; "
                             "all tensors must have the same number of rows")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return _first_dim(self.tensors[0])

    def whole_arrays(self):
        if type(self).__getitem__ is not TensorDataset.__getitem__:
            return None   # a subclass that changes items (augmentation, ...) is collated
        return self.tensors


class Subset(Dataset):
    """The items of `dataset` at `indices`, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    """The items of several datasets, one after the other; `cumulative_sizes[i]` is the
    number of items in datasets 0..i."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = list(accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        n = len(self)
        if idx < 0:
            if -idx > n:
                raise ValueError(f"ConcatDataset: absolute value of index {idx} should not "
                                 f"exceed dataset length {n}")
            idx += n
        if idx >= n:
            raise IndexError(f"ConcatDataset: index {idx} is out of range for {n} items")
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - start]


def whole_arrays_and_index(dataset):
    """(arrays, index) with `dataset[i] == tuple(a[index[i]] for a in arrays)` (index None:
    the identity), following Subsets down to a dataset with `whole_arrays()`; else None."""
    if type(dataset) is Subset:
        inner = whole_arrays_and_index(dataset.dataset)
        if inner is None:
            return None
        arrays, index = inner
        own = np.asarray(dataset.indices, dtype=np.intp).reshape(-1)
        return arrays, own if index is None else index[own]
    getter = getattr(dataset, "whole_arrays", None)
    arrays = getter() if getter is not None else None
    return None if arrays is None else (tuple(arrays), None)


def _split_lengths(n, lengths):
    """Counts from `lengths`, given as counts or as fractions summing to 1 (as torch)."""
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths is empty")
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ValueError(f"random_split: fraction {frac} at index {i} is not between "
                                 "0 and 1")
        counts = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(counts)):   # the remainder, one each, round-robin
            counts[i % len(counts)] += 1
        return counts
    for i, k in enumerate(lengths):
        if isinstance(k, float) and not k.is_integer() or k < 0:
            raise ValueError(f"random_split: length {k} at index {i} is neither a count nor "
                             f"part of fractions summing to 1 (lengths {lengths})")
    counts = [int(k) for k in lengths]
    if sum(counts) != n:
        raise ValueError(f"random_split: the lengths {counts} sum to {sum(counts)}, but the "
                         f"dataset has {n} items")
    return counts


def random_split(dataset, lengths, generator=None):
    """Disjoint random Subsets of `dataset` with the given lengths (counts, or fractions
    summing to 1 with the remainder spread one by one from the first split, as torch).
    `generator`: an nnlab.Generator, a numpy Generator, an int seed, or None for the default
    generator."""
    counts = _split_lengths(len(dataset), lengths)
    rng = as_generator(generator, "random_split")
    indices = rng.permutation(sum(counts)).tolist()
    return [Subset(dataset, indices[end - k:end]) for end, k in zip(accumulate(counts), counts)]

