"""nnlab.graph.loader.DataLoader: batches of graphs as Batches, in PyG's order without
shuffling, a seeded permutation with it."""
import numpy as np
import pytest

import nnlab
from nnlab.graph import Batch, Data
from nnlab.graph.loader import Collater, DataLoader

from .pyg_data import P, T, assert_same, requires_pyg, torch_geometric


def dataset(count=7):
    rng = np.random.default_rng(0)
    out = []
    for i in range(count):
        n = 2 + i % 3
        out.append(dict(x=rng.standard_normal((n, 2)).astype(np.float32),
                        edge_index=np.stack([np.arange(n), (np.arange(n) + 1) % n]),
                        y=np.array([i], np.int64)))
    return out


@requires_pyg
def test_batches_match_pyg_loader():
    raw = dataset()
    ours = DataLoader([Data(**{k: T(v) for k, v in d.items()}) for d in raw], batch_size=3)
    theirs = torch_geometric.loader.DataLoader(
        [torch_geometric.data.Data(**{k: P(v) for k, v in d.items()}) for d in raw],
        batch_size=3)
    assert len(ours) == len(theirs) == 3
    for a, b in zip(ours, theirs, strict=True):
        assert isinstance(a, Batch) and a.num_graphs == b.num_graphs
        for key in b.keys():
            assert_same(a[key], b[key])


def test_shuffle_is_seeded_and_covers_every_graph_once():
    graphs = [Data(**{k: T(v) for k, v in d.items()}) for d in dataset()]

    def labels(seed):
        loader = DataLoader(graphs, batch_size=2, shuffle=True,
                            generator=nnlab.Generator().manual_seed(seed))
        return [b.y.numpy().tolist() for epoch in range(2) for b in loader]

    first = labels(3)
    assert first == labels(3)
    assert first != labels(4)
    epoch = sum(first[:4], [])
    assert sorted(epoch) == list(range(7)) and epoch != list(range(7))


def test_drop_last_and_other_items():
    graphs = [Data(**{k: T(v) for k, v in d.items()}) for d in dataset()]
    assert len(DataLoader(graphs, batch_size=3, drop_last=True)) == 2
    batch = Collater()([(g, i) for i, g in enumerate(graphs[:3])])
    assert isinstance(batch[0], Batch) and batch[1].numpy().tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(graphs, batch_size=0)
