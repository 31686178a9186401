"""Samplers, as torch.utils.data's: the order in which a `DataLoader` visits a dataset
(`SequentialSampler`, `RandomSampler`, `SubsetRandomSampler`, `WeightedRandomSampler`) and
its grouping into batches (`BatchSampler`). Random ones draw from `generator` (an
`nnlab.Generator`, a numpy Generator, an int seed, or None: the default generator at the
time of the draw); the numbers differ from torch's, the distributions do not.

Every sampler is a lazy iterator, as torch's: draws with replacement are made `_CHUNK` at
a time (`RandomSampler(ds, replacement=True, num_samples=10**10)` costs one chunk, not the
whole sequence), permutations one epoch at a time, and `BatchSampler` takes its sampler's
indices one batch at a time."""
import types
from itertools import islice

import numpy as np

from ..autograd.tensor import Tensor
from ..ops.creation import multinomial
from .dataset import as_generator

_CHUNK = 4096   # draws made at once by a sampler with replacement


def _positive_int(value, name, where):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{where}: {name} should be a positive integer value, but got "
                         f"{name}={value!r}")
    return int(value)


def _boolean(value, name, where, error=TypeError):
    if not isinstance(value, bool):
        raise error(f"{where}: {name} should be a boolean value, but got {name}={value!r}")
    return value


class Sampler:
    """Base class: an iterable of dataset indices (or of lists of them) with a length.
    `Sampler[T]` is accepted, for type hints and bases as torch's generic `Sampler[T_co]`."""

    __class_getitem__ = classmethod(types.GenericAlias)

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__}: subclasses of Sampler must "
                                  "implement __iter__")


class _Random(Sampler):
    """A sampler that draws from its own generator (made once from an int seed)."""

    def _rng(self, where):
        if self.generator is not None and not hasattr(self, "_own"):
            self._own = as_generator(self.generator, where)
        return as_generator(None, where) if self.generator is None else self._own


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(_Random):
    """A random order of the dataset's indices, a fresh one each epoch; with `replacement`,
    `num_samples` independent uniform draws (made `_CHUNK` at a time as they are consumed);
    without, `num_samples` (default: the dataset's length) taken from back-to-back
    permutations, one drawn as the previous one runs out."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = _boolean(replacement, "replacement", "RandomSampler")
        self._num_samples = num_samples
        self.generator = generator
        if num_samples is not None:
            _positive_int(num_samples, "num_samples", "RandomSampler")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n, k = len(self.data_source), self.num_samples
        rng = self._rng("RandomSampler")
        if self.replacement:
            for start in range(0, k, _CHUNK):
                yield from rng.integers(0, n, min(_CHUNK, k - start)).tolist()
            return
        for _ in range(k // n):
            yield from rng.permutation(n).tolist()
        yield from rng.permutation(n)[:k % n].tolist()

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(_Random):
    """The given `indices`, in a random order each epoch."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        for i in self._rng("SubsetRandomSampler").permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(_Random):
    """`num_samples` indices drawn with probabilities proportional to `weights` (a 1-d
    sequence), with replacement unless `replacement=False` (as `nnlab.multinomial`). With
    replacement the draws are made in chunks as they are consumed, the same numbers as one
    draw of all of them."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        self.num_samples = _positive_int(num_samples, "num_samples", "WeightedRandomSampler")
        self.replacement = _boolean(replacement, "replacement", "WeightedRandomSampler",
                                    ValueError)
        weights = np.asarray(weights, dtype=np.float64)
        if weights.ndim != 1:
            raise ValueError(f"WeightedRandomSampler: weights should be a 1d sequence but "
                             f"given weights have shape {tuple(weights.shape)}")
        self.weights = Tensor(weights)
        self.generator = generator

    def __iter__(self):
        rng, k = self._rng("WeightedRandomSampler"), self.num_samples
        chunk = k if not self.replacement else max(_CHUNK, self.weights.shape[0])
        for start in range(0, k, chunk):
            yield from multinomial(self.weights, min(chunk, k - start), self.replacement,
                                   generator=rng).tolist()

    def __len__(self):
        return self.num_samples


class DistributedSampler(Sampler):
    """Rank `rank`'s share of the dataset among `num_replicas` processes, as torch's: the
    indices (shuffled by a generator seeded `seed + epoch` if `shuffle`; call `set_epoch`
    every epoch) are padded by repeating them from the start to a multiple of num_replicas,
    or cut down to one if `drop_last`, and rank r takes every num_replicas-th from r.
    num_samples = ceil(n / R), or ceil((n - R) / R) with drop_last when R does not divide n.
    nnlab trains in one process (nnlab.distributed), so num_replicas and rank default to 1
    and 0. The arithmetic is torch's, the shuffled order NumPy's."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        num_replicas = 1 if num_replicas is None else num_replicas
        rank = 0 if rank is None else rank
        _positive_int(num_replicas, "num_replicas", "DistributedSampler")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"DistributedSampler: Invalid rank {rank}, rank should be in the "
                             f"interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.shuffle, self.seed, self.drop_last, self.epoch = shuffle, seed, drop_last, 0
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = -(-(n - num_replicas) // num_replicas)   # ceil
        else:
            self.num_samples = -(-n // num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            rng = as_generator(self.seed + self.epoch, "DistributedSampler")
            indices = rng.permutation(n).tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[:self.total_size]
        else:
            padding = self.total_size - n
            indices += (indices * -(-padding // n))[:padding] if padding > 0 else []
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """The epoch whose order `__iter__` gives next (with shuffle: a new one each)."""
        self.epoch = epoch


class BatchSampler(Sampler):
    """Lists of `batch_size` indices from `sampler`; the last one shorter unless
    `drop_last`."""

    def __init__(self, sampler, batch_size, drop_last):
        self.sampler = sampler
        self.batch_size = _positive_int(batch_size, "batch_size", "BatchSampler")
        self.drop_last = _boolean(drop_last, "drop_last", "BatchSampler", ValueError)

    def __iter__(self):
        indices = iter(self.sampler)
        while batch := list(islice(indices, self.batch_size)):
            if len(batch) < self.batch_size and self.drop_last:
                return
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
