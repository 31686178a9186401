"""`DataLoader`: batches of a dataset, in order or shuffled by a seeded generator, or in the
order of a sampler (consumed lazily, one batch at a time), or consecutive items of an
`IterableDataset`; collated into nnlab Tensors as PyTorch's `default_collate` does.

A dataset whose items are rows of whole arrays (a `TensorDataset`, or a `Subset` of one,
or any dataset whose `whole_arrays()` gives them) is batched by indexing each array once
with the batch's indices: an epoch costs a few array copies, not one collate per item.
"""
import collections.abc
import math
from itertools import islice

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from ..ops.shape import stack
from .dataset import IterableDataset, as_generator, whole_arrays_and_index
from .sampler import BatchSampler, RandomSampler, SequentialSampler

_NOT_COLLATABLE = ("default_collate: a batch must hold Tensors, numpy arrays, numbers, "
                   "strings, dicts or lists; found {}")


def _stack_arrays(arrays, what):
    first = arrays[0]
    for i, a in enumerate(arrays[1:], 1):
        if a.shape != first.shape:
            raise RuntimeError(f"default_collate: {what} {i} of the batch has shape "
                               f"{tuple(a.shape)} but {what} 0 has shape {tuple(first.shape)}; "
                               "items must have equal shapes to be stacked")
    return backend.get_array_module(first).stack(arrays)


def default_collate(batch):
    """Stack a list of samples into a batch, recursing into tuples, lists and dicts as
    torch's `default_collate`: Tensors and numpy arrays are stacked along a new first
    dimension (keeping their dtype), Python ints become int64, floats the default float
    dtype (float32; torch gives float64), bools bool; strings stay as they are; a tuple or list
    of fields becomes a list of batched fields, a dict a dict, a namedtuple a namedtuple."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        if any(t.requires_grad for t in batch):
            return stack(batch)
        return Tensor(_stack_arrays([t._data for t in batch], "tensor"))
    if isinstance(elem, np.ndarray) or backend.device_of(elem) != "cpu":
        if elem.dtype.kind in "OUSV":
            raise TypeError(_NOT_COLLATABLE.format(f"an array of dtype {elem.dtype}"))
        return Tensor(_stack_arrays(batch, "array"))
    if isinstance(elem, np.generic) and not isinstance(elem, (np.str_, np.bytes_)):
        return Tensor(np.asarray(batch))
    if isinstance(elem, bool):
        return Tensor(np.asarray(batch, dtype=np.bool_))
    if isinstance(elem, (int, float)):
        array = np.asarray(batch)
        if array.dtype.kind == "f":
            return Tensor(array.astype(backend.get_default_dtype()))
        return Tensor(array.astype(np.int64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        keys = list(elem)
        for i, d in enumerate(batch):
            if set(d) != set(keys):
                raise KeyError(f"default_collate: sample {i} has keys {sorted(d)} but sample 0 "
                               f"has {sorted(keys)}")
        fields = {key: default_collate([d[key] for d in batch]) for key in keys}
        try:
            return type(elem)(fields)
        except TypeError:
            return fields
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):   # namedtuple
        return type(elem)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        for i, sample in enumerate(batch):
            if len(sample) != size:
                raise RuntimeError(f"default_collate: each sample of the batch should have "
                                   f"the same number of fields; sample {i} has {len(sample)}, "
                                   f"sample 0 has {size}")
        return [default_collate(field) for field in zip(*batch)]
    raise TypeError(_NOT_COLLATABLE.format(type(elem).__name__))


def default_convert(sample):
    """A sample with its numpy arrays turned into Tensors (for `batch_size=None`)."""
    if isinstance(sample, np.ndarray) and sample.dtype.kind not in "OUSV":
        return Tensor(sample)
    if isinstance(sample, collections.abc.Mapping):
        return type(sample)({k: default_convert(v) for k, v in sample.items()})
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(default_convert(v) for v in sample))
    if isinstance(sample, (tuple, list)):
        return type(sample)(default_convert(v) for v in sample)
    return sample


def get_worker_info():
    """None: nnlab loads data in the calling process, as torch outside a worker process."""
    return None


def _take(array, index):
    """Rows `index` of an array or Tensor, as a new Tensor (a copy, as torch's collate)."""
    if isinstance(array, Tensor):
        if array.requires_grad:
            return array[Tensor(index)]
        array = array._data
    xp = backend.get_array_module(array)
    return Tensor(array[index if xp is np else xp.asarray(index)])


class DataLoader:
    """Batches of `dataset`: `batch_size` items each (the last one smaller unless
    `drop_last`), in order, or in a fresh random order each epoch when `shuffle` (drawn
    from `generator`: an `nnlab.Generator`, a numpy Generator, an int seed, or None for the
    default generator). `sampler` (an iterable of indices, such as a `RandomSampler`) or
    `batch_sampler` (an iterable of index lists, such as a `BatchSampler`) replace the order
    as in torch, and are consumed lazily, one batch at a time (an endless sampler gives an
    endless loader). `batch_size=None` yields the items one by one. As torch, `sampler`
    and `batch_sampler` are set when not given: a `RandomSampler` (sharing the loader's
    generator) or `SequentialSampler`, and a `BatchSampler` over it; the shuffled and
    sequential orders are still taken as one permutation per epoch. An `IterableDataset`
    is batched as its consecutive items, with no sampler and no shuffle.

    Items are collated with `collate_fn` (default: `default_collate`); a dataset with
    `__getitems__` gives a batch's items in one call. The loading runs in this process:
    `num_workers`, `pin_memory`, `timeout`, `worker_init_fn`, `multiprocessing_context`,
    `prefetch_factor`, `persistent_workers`, `pin_memory_device` and `in_order` are accepted
    for torch's signature (and checked as torch checks them) and change nothing;
    `worker_init_fn` is never called, as in torch with no workers."""

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if timeout < 0:
            raise ValueError(f"DataLoader: timeout option should be non-negative, got {timeout}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("DataLoader: prefetch_factor option could only be specified with "
                             "num_workers > 0 (otherwise set prefetch_factor to None)")
        if num_workers == 0 and persistent_workers:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        if batch_size is not None and (isinstance(batch_size, bool)
                                       or not isinstance(batch_size, (int, np.integer))
                                       or batch_size < 1):
            raise ValueError(f"DataLoader: batch_size should be a positive integer or None, "
                             f"got {batch_size!r}")
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            for name, value, unset in (("shuffle", shuffle, shuffle in (False, None)),
                                       ("sampler", sampler, sampler is None),
                                       ("batch_sampler", batch_sampler, batch_sampler is None)):
                if not unset:
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                     f"{name} option, but got {name}={value!r}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None
                                          or drop_last):
            raise ValueError("DataLoader: batch_sampler option is mutually exclusive with "
                             "batch_size, shuffle, sampler, and drop_last")
        if batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and "
                             "is mutually exclusive with drop_last")
        if num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be >= 0, got {num_workers}")
        self.dataset = dataset
        self.batch_size = None if batch_sampler is not None else batch_size
        self.shuffle = bool(shuffle)
        self.num_workers = num_workers
        self.collate_fn = collate_fn
        self.pin_memory = pin_memory
        self.drop_last = drop_last
        self._rng = None if generator is None else as_generator(generator, "DataLoader")
        self.generator = generator
        # the loader's own order (shuffled or sequential) is one array per epoch
        self._own_order = sampler is None and batch_sampler is None and not self._iterable
        if sampler is None and not self._iterable:
            sampler = (RandomSampler(dataset, generator=self._rng) if self.shuffle
                       else SequentialSampler(dataset))
        if batch_sampler is None and batch_size is not None and sampler is not None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.sampler = sampler
        self.batch_sampler = batch_sampler

    def _order(self):
        """This epoch's indices in the loader's own order, one array: a permutation drawn
        from the loader's generator (or the default one) if `shuffle`, else 0..n-1."""
        n = len(self.dataset)
        if self.shuffle:
            rng = self._rng if self._rng is not None else backend.generator()
            return rng.permutation(n)
        return np.arange(n)

    def _batches(self):
        """This epoch's batches of indices: slices of `_order()` (drawn now), or the lists
        of the batch sampler (drawn as they are consumed)."""
        if not self._own_order:
            return iter(self.batch_sampler)
        order = self._order()
        bs = self.batch_size
        stop = len(order) - len(order) % bs if self.drop_last else len(order)
        return (order[i:i + bs] for i in range(0, stop, bs))

    def _fetch(self, batch):
        """The dataset's items at `batch`, a list of them."""
        indices = batch.tolist() if isinstance(batch, np.ndarray) else list(batch)
        getitems = getattr(self.dataset, "__getitems__", None)
        if callable(getitems):
            return getitems(indices)
        return [self.dataset[i] for i in indices]

    def __iter__(self):
        if self._iterable:
            return self._stream(iter(self.dataset))
        if self.batch_size is None and self.batch_sampler is None:
            convert = self.collate_fn or default_convert
            if self._own_order:
                return (convert(self.dataset[int(i)]) for i in self._order())
            return (convert(self.dataset[i]) for i in self.sampler)
        whole = None if self.collate_fn is not None else whole_arrays_and_index(self.dataset)
        if whole is not None:
            return self._fast_iter(*whole)
        collate = self.collate_fn or default_collate
        return (collate(self._fetch(batch)) for batch in self._batches())

    def _fast_iter(self, arrays, index):
        for batch in self._batches():
            batch = np.asarray(batch, dtype=np.intp)
            rows = batch if index is None else index[batch]
            yield [_take(a, rows) for a in arrays]

    def _stream(self, items):
        """Batches of consecutive items of an IterableDataset (or the items one by one)."""
        if self.batch_size is None:
            convert = self.collate_fn or default_convert
            yield from (convert(item) for item in items)
            return
        collate = self.collate_fn or default_collate
        while batch := list(islice(items, self.batch_size)):
            if len(batch) < self.batch_size and self.drop_last:
                return
            yield collate(batch)

    def __len__(self):
        if self._iterable:
            n = len(self.dataset)
        elif self.batch_sampler is not None:
            return len(self.batch_sampler)
        else:
            n = len(self.sampler)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
