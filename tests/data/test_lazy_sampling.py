"""Lazy samplers and a lazily consuming DataLoader: the "infinite loader" idiom of real
programs (`RandomSampler(ds, replacement=True, num_samples=int(1e10))`, then
`next(iter(loader))`) gives batches at once with little memory; the chunked draws are
the numbers the generator gives; orders, batches and lengths match torch.utils.data
where torch's are deterministic."""
import itertools

import numpy as np
import pytest

import nnlab
from nnlab.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    RandomSampler,
    SequentialSampler,
    StackDataset,
    TensorDataset,
    WeightedRandomSampler,
)
from nnlab.data.sampler import _CHUNK
from tests.helpers import peak_bytes, requires_torch, torch

tdata = torch.utils.data if torch is not None else None
HUGE = 10 ** 10


class Squares(Dataset):
    """Item i is (i, i * i) as ints: a map-style dataset that is collated item by item."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        return i, i * i

    def __len__(self):
        return self.n


def _plain(batch):
    """A batch as nested Python lists (Tensors of either library by their tolist())."""
    if isinstance(batch, (tuple, list)):
        return [_plain(t) for t in batch]
    return batch.tolist() if hasattr(batch, "tolist") else batch


# -- the infinite loader ----------------------------------------------------------------------
@pytest.mark.parametrize("dataset", ["tensor", "items"])
def test_infinite_loader_gives_batches_at_once(dataset):
    n, bs = 50, 8
    ds = TensorDataset(np.arange(n) * 10) if dataset == "tensor" else Squares(n)
    sampler = RandomSampler(ds, replacement=True, num_samples=HUGE, generator=3)
    loader = DataLoader(ds, sampler=sampler, batch_size=bs, pin_memory=True)
    assert len(sampler) == HUGE and len(loader) == HUGE // bs
    batches = []
    peak = peak_bytes(lambda: batches.extend(itertools.islice(iter(loader), 3)))
    assert peak < 10 * 2 ** 20
    expected = np.random.default_rng(3).integers(0, n, _CHUNK)[:3 * bs].reshape(3, bs)
    for got, idx in zip(batches, expected):
        assert got[0].shape == (bs,)
        if dataset == "tensor":
            assert got[0].tolist() == (idx * 10).tolist()
        else:
            assert got[0].tolist() == idx.tolist()
            assert got[1].tolist() == (idx * idx).tolist()


def test_infinite_loader_next_iter_in_a_loop():
    """makemore's idiom: a fresh `next(iter(loader))` every step continues the draws."""
    ds = TensorDataset(np.arange(20))
    loader = DataLoader(ds, sampler=RandomSampler(ds, replacement=True, num_samples=HUGE,
                                                  generator=1), batch_size=4)
    firsts = [next(iter(loader))[0].tolist() for _ in range(3)]
    rng = np.random.default_rng(1)
    expected = [rng.integers(0, 20, _CHUNK)[:4].tolist() for _ in range(3)]
    assert firsts == expected


def test_infinite_batch_sampler_and_unbatched_loader():
    ds = Squares(7)
    sampler = RandomSampler(ds, replacement=True, num_samples=HUGE, generator=5)
    batch_sampler = BatchSampler(sampler, 3, drop_last=False)
    assert len(batch_sampler) == -(-HUGE // 3)
    expected = np.random.default_rng(5).integers(0, 7, _CHUNK)[:6].tolist()
    assert next(iter(batch_sampler)) == expected[:3]
    loader = DataLoader(ds, batch_sampler=BatchSampler(RandomSampler(
        ds, replacement=True, num_samples=HUGE, generator=5), 3, False))
    assert next(iter(loader))[0].tolist() == expected[:3]
    one_by_one = DataLoader(ds, batch_size=None, sampler=RandomSampler(
        ds, replacement=True, num_samples=HUGE, generator=5))
    assert len(one_by_one) == HUGE
    assert [int(i) for i, _ in itertools.islice(one_by_one, 6)] == expected


def test_weighted_sampler_is_lazy_and_chunks_give_one_draw():
    w = np.arange(1.0, 11.0)
    big = WeightedRandomSampler(w, HUGE, generator=nnlab.Generator().manual_seed(2))
    first = []
    assert peak_bytes(lambda: first.extend(itertools.islice(iter(big), 5))) < 10 * 2 ** 20
    k = 2 * _CHUNK + 17   # three chunks: the same numbers as one multinomial draw
    chunked = list(WeightedRandomSampler(w, k, generator=nnlab.Generator().manual_seed(2)))
    whole = nnlab.multinomial(nnlab.tensor(w), k, True,
                              generator=nnlab.Generator().manual_seed(2)).tolist()
    assert chunked == whole and first == whole[:5]


def test_random_sampler_chunks_are_the_generators_draws():
    k = 2 * _CHUNK + 5
    got = list(RandomSampler(range(9), replacement=True, num_samples=k, generator=4))
    rng = np.random.default_rng(4)
    expected = np.concatenate([rng.integers(0, 9, _CHUNK), rng.integers(0, 9, _CHUNK),
                               rng.integers(0, 9, 5)])
    assert got == expected.tolist()
    small = list(RandomSampler(range(9), replacement=True, num_samples=30, generator=4))
    assert small == np.random.default_rng(4).integers(0, 9, 30).tolist()


def test_permutations_are_drawn_one_epoch_at_a_time():
    sampler = RandomSampler(range(6), num_samples=HUGE, generator=8)
    rng = np.random.default_rng(8)
    expected = rng.permutation(6).tolist() + rng.permutation(6).tolist()
    assert list(itertools.islice(iter(sampler), 12)) == expected


def test_shuffled_loader_keeps_one_permutation_per_epoch():
    """The loader's own shuffled order: the same draws as before (one permutation)."""
    ds = TensorDataset(np.arange(10))
    loader = DataLoader(ds, batch_size=4, shuffle=True, generator=11)
    rng = np.random.default_rng(11)
    for _ in range(2):
        order = rng.permutation(10)
        assert [b[0].tolist() for b in loader] == [order[:4].tolist(), order[4:8].tolist(),
                                                  order[8:].tolist()]
    assert isinstance(loader.sampler, RandomSampler)
    assert isinstance(loader.batch_sampler, BatchSampler)


def test_a_generator_sampler_is_consumed_batch_by_batch():
    seen = []

    class Endless:
        def __iter__(self):
            for i in itertools.count():
                seen.append(i)
                yield i % 5
    loader = DataLoader(Squares(5), sampler=Endless(), batch_size=2)
    it = iter(loader)
    assert next(it)[0].tolist() == [0, 1] and seen == [0, 1]
    assert next(it)[0].tolist() == [2, 3] and seen == [0, 1, 2, 3]


# -- torch parity -----------------------------------------------------------------------------
@requires_torch
@pytest.mark.parametrize("batch_size, drop_last", [(3, False), (3, True), (5, False),
                                                   (10, True), (None, False)])
@pytest.mark.parametrize("how", ["default", "sequential_sampler", "batch_sampler"])
def test_orders_batches_and_len_as_torch(batch_size, drop_last, how):
    def make(d, ds):
        if how == "default":
            return d.DataLoader(ds, batch_size=batch_size, drop_last=drop_last)
        if how == "sequential_sampler":
            return d.DataLoader(ds, batch_size=batch_size, drop_last=drop_last,
                                sampler=d.SequentialSampler(ds))
        return d.DataLoader(ds, batch_sampler=d.BatchSampler(
            d.SequentialSampler(ds), batch_size or 1, drop_last))
    ours = make(nnlab.data, Squares(11))
    theirs = make(tdata, tdata.StackDataset(range(11), [i * i for i in range(11)]))
    got, expected = list(ours), list(theirs)
    assert len(ours) == len(theirs) == len(expected) == len(got)
    assert [_plain(b) for b in got] == [_plain(b) for b in expected]
    assert type(ours.sampler).__name__ == type(theirs.sampler).__name__
    assert type(ours.batch_sampler).__name__ == type(theirs.batch_sampler).__name__


@requires_torch
@pytest.mark.parametrize("n, batch_size, drop_last", [(10, 3, False), (10, 3, True),
                                                      (9, 3, True), (1, 4, False)])
def test_batch_sampler_arithmetic_as_torch(n, batch_size, drop_last):
    ours = BatchSampler(SequentialSampler(range(n)), batch_size, drop_last)
    theirs = tdata.BatchSampler(tdata.SequentialSampler(range(n)), batch_size, drop_last)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)
    big = tdata.RandomSampler(range(4), replacement=True, num_samples=HUGE)
    assert (len(BatchSampler(RandomSampler(range(4), True, HUGE), 7, drop_last))
            == len(tdata.BatchSampler(big, 7, drop_last)))


@requires_torch
def test_stack_dataset_as_torch():
    a, b = list(range(5)), [10.0 * i for i in range(5)]
    for args, kwargs in [((a, b), {}), ((), dict(x=a, y=b))]:
        ours, theirs = StackDataset(*args, **kwargs), tdata.StackDataset(*args, **kwargs)
        assert len(ours) == len(theirs) == 5
        assert [ours[i] for i in range(5)] == [theirs[i] for i in range(5)]
        assert ours.__getitems__([4, 0, 2]) == theirs.__getitems__([4, 0, 2])
        got = list(DataLoader(ours, batch_size=2))
        expected = list(tdata.DataLoader(theirs, batch_size=2))
        if kwargs:
            assert [{k: v.tolist() for k, v in g.items()} for g in got] == [
                {k: v.tolist() for k, v in e.items()} for e in expected]
        else:
            assert [[t.tolist() for t in g] for g in got] == [[t.tolist() for t in e]
                                                               for e in expected]


@pytest.mark.parametrize("args, kwargs, match", [
    (([1, 2], [1]), {}, "size mismatch between datasets"),
    (([1],), dict(y=[1]), "both types are given"),
    ((), {}, "at least one dataset should be passed"),
])
def test_stack_dataset_errors(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        StackDataset(*args, **kwargs)


def test_a_lazy_sampler_resumes_from_the_saved_generator_state():
    """What the trainer's exact resume does at an epoch's end: save the state of the
    sampler's generator (checkpoint.loader_generator), later restore it into a new loader;
    the next epoch's chunked draws are then the same."""
    from nnlab.train.checkpoint import generator_state, loader_generator, set_generator_state

    def make():
        ds = TensorDataset(np.arange(30))
        sampler = RandomSampler(ds, replacement=True, num_samples=2 * _CHUNK + 3,
                                generator=np.random.default_rng(9))
        return DataLoader(ds, sampler=sampler, batch_size=500, drop_last=True)
    loader = make()
    first = [b[0].tolist() for b in loader]
    assert len(first) == len(loader) == (2 * _CHUNK + 3) // 500
    state = generator_state(loader_generator(loader))
    second = [b[0].tolist() for b in loader]
    resumed = make()
    set_generator_state(loader_generator(resumed), state)
    assert [b[0].tolist() for b in resumed] == second != first
