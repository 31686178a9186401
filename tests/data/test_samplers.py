"""Samplers, ConcatDataset and the DataLoader's torch-only arguments, against
torch.utils.data: orders and batches where they are deterministic, distributions where they
are random (the numbers are NumPy's), and the error cases."""
import numpy as np
import pytest

import nnlab
from nnlab.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    random_split,
)
from tests.helpers import requires_torch, torch

pytestmark = requires_torch
tdata = torch.utils.data if torch is not None else None


def gen(seed=0):
    return nnlab.Generator().manual_seed(seed)


def test_sequential_sampler_as_torch():
    assert list(SequentialSampler(range(5))) == list(tdata.SequentialSampler(range(5)))
    assert len(SequentialSampler(range(5))) == 5


@pytest.mark.parametrize("n, batch_size, drop_last", [(5, 2, False), (5, 2, True), (4, 2, True),
                                                      (3, 5, False), (3, 5, True), (0, 2, False)])
def test_batch_sampler_as_torch(n, batch_size, drop_last):
    ours = BatchSampler(SequentialSampler(range(n)), batch_size, drop_last)
    theirs = tdata.BatchSampler(tdata.SequentialSampler(range(n)), batch_size, drop_last)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)


@pytest.mark.parametrize("replacement, num_samples", [(False, None), (False, 23), (False, 4),
                                                      (True, None), (True, 50)])
def test_random_sampler_as_torch(replacement, num_samples):
    ours = RandomSampler(range(10), replacement, num_samples, generator=gen())
    theirs = tdata.RandomSampler(range(10), replacement, num_samples)
    drawn = list(ours)
    assert len(ours) == len(theirs) == len(drawn) == len(list(theirs))
    assert all(isinstance(i, int) and 0 <= i < 10 for i in drawn)
    if not replacement:   # back-to-back permutations
        for start in range(0, len(drawn) - len(drawn) % 10, 10):
            assert sorted(drawn[start:start + 10]) == list(range(10))
        assert len(set(drawn[len(drawn) - len(drawn) % 10:])) == len(drawn) % 10
    assert list(ours) != drawn   # a new order each epoch


def test_subset_random_sampler_as_torch():
    indices = [3, 7, 11, 2]
    ours = list(SubsetRandomSampler(indices, generator=gen()))
    assert sorted(ours) == sorted(tdata.SubsetRandomSampler(indices)) == sorted(indices)
    assert len(SubsetRandomSampler(indices)) == 4


def test_weighted_random_sampler_frequencies():
    w = [1.0, 0.0, 3.0]
    n = 30000
    draws = np.array(list(WeightedRandomSampler(w, n, generator=gen())))
    p = np.array(w) / 4
    freq = np.bincount(draws, minlength=3) / n
    assert np.all(np.abs(freq - p) < 6 * np.sqrt(p * (1 - p) / n) + 1e-12)
    assert sorted(WeightedRandomSampler([1.0, 2.0, 3.0], 3, replacement=False)) == [0, 1, 2]
    assert len(WeightedRandomSampler(w, 7)) == len(tdata.WeightedRandomSampler(w, 7)) == 7


@pytest.mark.parametrize("make, err, match", [
    (lambda d: d.RandomSampler(range(3), replacement=1), TypeError,
     "RandomSampler: replacement should be a boolean value, but got replacement=1"),
    (lambda d: d.RandomSampler(range(3), num_samples=0), ValueError,
     "RandomSampler: num_samples should be a positive integer value, but got num_samples=0"),
    (lambda d: d.WeightedRandomSampler([1, 2], 0), ValueError,
     "WeightedRandomSampler: num_samples should be a positive integer value"),
    (lambda d: d.WeightedRandomSampler([1, 2], 2, replacement=1), ValueError,
     "WeightedRandomSampler: replacement should be a boolean value"),
    (lambda d: d.WeightedRandomSampler([[1, 2]], 2), ValueError,
     r"WeightedRandomSampler: weights should be a 1d sequence but given weights have shape "
     r"\(1, 2\)"),
    (lambda d: d.BatchSampler(range(3), 0, False), ValueError,
     "BatchSampler: batch_size should be a positive integer value, but got batch_size=0"),
    (lambda d: d.BatchSampler(range(3), 2, 1), ValueError,
     "BatchSampler: drop_last should be a boolean value, but got drop_last=1"),
])
def test_sampler_errors_as_torch(make, err, match):
    import nnlab.data as ndata
    with pytest.raises(err):
        make(tdata)
    with pytest.raises(err, match=match):
        make(ndata)


def test_sampler_base_class():
    class Evens(Sampler):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(0, self.n, 2))

        def __len__(self):
            return len(range(0, self.n, 2))
    ds = TensorDataset(np.arange(10))
    assert [b[0].tolist() for b in DataLoader(ds, batch_size=2, sampler=Evens(10))] == [
        [0, 2], [4, 6], [8]]
    with pytest.raises(NotImplementedError, match="Sampler must implement __iter__"):
        iter(Sampler())


# -- samplers in the DataLoader -------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [
    dict(sampler="SequentialSampler", batch_size=3),
    dict(sampler="SubsetRandomSampler", batch_size=3),
    dict(batch_sampler="BatchSampler"),
], ids=str)
def test_loader_with_samplers_as_torch(kwargs):
    def make(d, ds, n):
        out = dict(kwargs)
        if "batch_sampler" in kwargs:
            out["batch_sampler"] = d.BatchSampler(d.SequentialSampler(range(n)), 4, True)
        elif kwargs["sampler"] == "SequentialSampler":
            out["sampler"] = d.SequentialSampler(ds)
        else:
            out["sampler"] = d.SubsetRandomSampler([1, 4, 6])
        return d.DataLoader(ds, **out)
    import nnlab.data as ndata
    ours = make(ndata, TensorDataset(np.arange(10)), 10)
    theirs = make(tdata, tdata.TensorDataset(torch.arange(10)), 10)
    got = [b[0].tolist() for b in ours]
    expected = [b[0].tolist() for b in theirs]
    assert len(ours) == len(theirs)
    if kwargs.get("sampler") == "SubsetRandomSampler":
        assert sorted(sum(got, [])) == sorted(sum(expected, [])) == [1, 4, 6]
    else:
        assert got == expected


@pytest.mark.parametrize("kwargs, match", [
    (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
    (dict(prefetch_factor=2), "prefetch_factor option could only be specified with"),
    (dict(timeout=-1), "timeout option should be non-negative"),
])
def test_loader_worker_arguments_checked_as_torch(kwargs, match):
    with pytest.raises(ValueError):
        tdata.DataLoader([1, 2], **kwargs)
    with pytest.raises(ValueError, match=f"DataLoader: {match}"):
        DataLoader([1, 2], **kwargs)


def test_loader_accepts_torchs_worker_arguments():
    called = []
    loader = DataLoader(TensorDataset(np.arange(4)), 2, False, None, None, 2, None, True, False,
                        5.0, called.append, None, gen(), prefetch_factor=2,
                        persistent_workers=True, pin_memory_device="", in_order=True)
    assert [b[0].tolist() for b in loader] == [[0, 1], [2, 3]] and called == []


# -- ConcatDataset and random_split ----------------------------------------------------------
def test_concat_dataset_as_torch():
    parts = [[1, 2], [], [3], [4, 5, 6]]
    ours, theirs = ConcatDataset(parts), tdata.ConcatDataset(parts)
    assert ours.cumulative_sizes == theirs.cumulative_sizes and len(ours) == len(theirs)
    assert [ours[i] for i in range(-6, 6)] == [theirs[i] for i in range(-6, 6)]
    both = TensorDataset(np.arange(2)) + TensorDataset(np.arange(3) + 10)
    assert isinstance(both, ConcatDataset) and [int(both[i][0]) for i in range(5)] == [
        0, 1, 10, 11, 12]
    assert [b[0].tolist() for b in DataLoader(both, batch_size=5)] == [[0, 1, 10, 11, 12]]


@pytest.mark.parametrize("make, theirs, err, match", [
    (lambda d: d.ConcatDataset([]), AssertionError, ValueError,
     "ConcatDataset: datasets should not be an empty iterable"),
    (lambda d: d.ConcatDataset([[1, 2], [3]])[-4], ValueError, ValueError,
     "ConcatDataset: absolute value of index -4 should not exceed dataset length 3"),
    (lambda d: d.ConcatDataset([[1, 2], [3]])[3], IndexError, IndexError,
     "ConcatDataset: index 3 is out of range for 3 items"),
], ids=["empty", "negative", "past-the-end"])
def test_concat_dataset_errors_as_torch(make, theirs, err, match):
    import nnlab.data as ndata
    with pytest.raises(theirs):
        make(tdata)
    with pytest.raises(err, match=match):
        make(ndata)


def test_random_split_with_a_generator():
    a = [s.indices for s in random_split(range(20), [0.3, 0.7], generator=gen(4))]
    b = [s.indices for s in random_split(range(20), [6, 14], generator=gen(4))]
    assert a == b and sorted(a[0] + a[1]) == list(range(20))
    theirs = tdata.random_split(range(20), [0.3, 0.7], generator=torch.Generator().manual_seed(4))
    assert [len(s) for s in theirs] == [len(s) for s in a]
