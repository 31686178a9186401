"""IterableDataset, ChainDataset and get_worker_info against torch.utils.data: the same
dataset class, written once over either library's base class, gives the same batches
through either DataLoader."""
import numpy as np
import pytest

import nnlab.data as ndata
from nnlab.data import ChainDataset, DataLoader, IterableDataset, get_worker_info
from tests.helpers import requires_torch, torch

tdata = torch.utils.data if torch is not None else None


def stream_class(d, with_len=True):
    """A stream of n items (i, array of i, i+1), over library `d`'s IterableDataset."""
    class Stream(d.IterableDataset):
        def __init__(self, n, start=0):
            self.n, self.start = n, start

        def __iter__(self):
            for i in range(self.start, self.start + self.n):
                yield i, np.array([i, i + 1], dtype=np.int64)

    if with_len:
        Stream.__len__ = lambda self: self.n
    return Stream


def _plain(batch):
    if isinstance(batch, (tuple, list)):
        return [_plain(t) for t in batch]
    return batch.tolist() if hasattr(batch, "tolist") else batch


def _both(make):
    return make(ndata), make(tdata)


@requires_torch
@pytest.mark.parametrize("batch_size, drop_last", [(3, False), (3, True), (4, True),
                                                   (20, False), (20, True), (None, False)])
def test_batches_of_consecutive_items_as_torch(batch_size, drop_last):
    ours, theirs = _both(lambda d: d.DataLoader(stream_class(d)(10, start=5),
                                                batch_size=batch_size, drop_last=drop_last))
    got, expected = [_plain(b) for b in ours], [_plain(b) for b in theirs]
    assert got == expected
    assert len(ours) == len(theirs) == len(expected)
    assert [_plain(b) for b in ours] == got   # a second epoch starts the stream anew


@requires_torch
def test_collate_fn_and_torch_only_arguments():
    def collate(items):
        return [i for i, _ in items]
    kwargs = dict(batch_size=4, collate_fn=collate, num_workers=0,
                  worker_init_fn=lambda worker_id: None)
    ours, theirs = _both(lambda d: d.DataLoader(stream_class(d)(6), **kwargs))
    assert list(ours) == list(theirs) == [[0, 1, 2, 3], [4, 5]]


@requires_torch
def test_len_needs_the_dataset_len():
    ours, theirs = _both(lambda d: d.DataLoader(stream_class(d, with_len=False)(5),
                                                batch_size=2))
    with pytest.raises(TypeError):
        len(theirs)
    with pytest.raises(TypeError, match="has no length"):
        len(ours)
    assert [_plain(b) for b in ours] == [_plain(b) for b in theirs]   # list() still works


@requires_torch
@pytest.mark.parametrize("kwargs", [dict(shuffle=True), dict(sampler=[0, 1]),
                                    dict(batch_sampler=[[0, 1]])], ids=str)
def test_sampler_or_shuffle_is_a_value_error_as_torch(kwargs):
    name = next(iter(kwargs))
    match = f"DataLoader with IterableDataset: expected unspecified {name} option"
    with pytest.raises(ValueError, match=match):
        tdata.DataLoader(stream_class(tdata)(4), **kwargs)
    with pytest.raises(ValueError, match=match):
        DataLoader(stream_class(ndata)(4), **kwargs)


@requires_torch
def test_chain_dataset_as_torch():
    def make(d):
        stream = stream_class(d)
        return d.ChainDataset([stream(3), stream(2, start=10)]), stream(1, start=7)
    (ours, one), (theirs, tone) = _both(make)
    assert len(ours) == len(theirs) == 5
    assert _plain(list(ours)) == _plain(list(theirs))
    assert [_plain(b) for b in DataLoader(ours, batch_size=2)] == [
        _plain(b) for b in tdata.DataLoader(theirs, batch_size=2)]
    added, tadded = ours + one, theirs + tone
    assert isinstance(added, ChainDataset) and isinstance(tadded, tdata.ChainDataset)
    assert _plain(list(added)) == _plain(list(tadded))


def test_chain_dataset_needs_iterable_datasets():
    chain = ChainDataset([stream_class(ndata)(2), [1, 2]])
    with pytest.raises(TypeError, match="ChainDataset: only supports IterableDataset, but "
                                        "dataset 1 is a list"):
        list(chain)
    with pytest.raises(TypeError, match="only supports IterableDataset"):
        len(chain)


def test_iterable_dataset_base_class():
    with pytest.raises(NotImplementedError, match="must implement __iter__"):
        iter(IterableDataset())
    assert isinstance(stream_class(ndata)(1), ndata.Dataset)


@requires_torch
def test_get_worker_info_is_none_in_process():
    assert get_worker_info() is None and tdata.get_worker_info() is None


def test_generic_bases_as_torch():
    class Ints(ndata.Dataset[int]):
        def __getitem__(self, i):
            return i

        def __len__(self):
            return 3

    class Evens(ndata.Sampler[int]):
        def __iter__(self):
            return iter([0, 2])

    class Stream(ndata.IterableDataset[int]):
        def __iter__(self):
            return iter([5, 6, 7])
    assert [b.tolist() for b in DataLoader(Ints(), batch_size=2, sampler=Evens())] == [[0, 2]]
    assert [b.tolist() for b in DataLoader(Stream(), batch_size=2)] == [[5, 6], [7]]
