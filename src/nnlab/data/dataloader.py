"""`DataLoader`: batches of a dataset, in order or shuffled by a seeded generator, collated
into nnlab Tensors as PyTorch's `default_collate` does.

A dataset whose items are rows of whole arrays (a `TensorDataset`, or a `Subset` of one,
or any dataset whose `whole_arrays()` gives them) is batched by indexing each array once
with the batch's indices: an epoch costs a few array copies, not one collate per item.
"""
import collections.abc
import math

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from ..ops.shape import stack
from .dataset import as_generator, whole_arrays_and_index

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
    as in torch. `batch_size=None` yields the items one by one.

    Items are collated with `collate_fn` (default: `default_collate`). The loading runs in
    this process: `num_workers`, `pin_memory`, `timeout`, `worker_init_fn`,
    `multiprocessing_context`, `prefetch_factor`, `persistent_workers`, `pin_memory_device`
    and `in_order` are accepted for torch's signature (and checked as torch checks them)
    and change nothing; `worker_init_fn` is never called, as in torch with no workers."""

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
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.collate_fn = collate_fn
        self.pin_memory = pin_memory
        self.drop_last = drop_last
        self._rng = None if generator is None else as_generator(generator, "DataLoader")
        self.generator = generator

    def _order(self):
        """This epoch's indices, one array."""
        if self.sampler is not None:
            return np.fromiter(self.sampler, dtype=np.intp)
        n = len(self.dataset)
        if self.shuffle:
            rng = self._rng if self._rng is not None else backend.generator()
            return rng.permutation(n)
        return np.arange(n)

    def _batches(self):
        """This epoch's batches of indices."""
        if self.batch_sampler is not None:
            return (np.asarray(list(b), dtype=np.intp) for b in self.batch_sampler)
        order = self._order()
        bs = self.batch_size
        stop = len(order) - len(order) % bs if self.drop_last else len(order)
        return (order[i:i + bs] for i in range(0, stop, bs))

    def __iter__(self):
        if self.batch_size is None and self.batch_sampler is None:
            convert = self.collate_fn or default_convert
            return (convert(self.dataset[int(i)]) for i in self._order())
        whole = None if self.collate_fn is not None else whole_arrays_and_index(self.dataset)
        if whole is not None:
            return self._fast_iter(*whole)
        collate = self.collate_fn or default_collate
        dataset = self.dataset
        return (collate([dataset[i] for i in batch.tolist()]) for batch in self._batches())

    def _fast_iter(self, arrays, index):
        for batch in self._batches():
            rows = batch if index is None else index[batch]
            yield [_take(a, rows) for a in arrays]

    def __len__(self):
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
