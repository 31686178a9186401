"""`DataLoader` for lists of graphs, as torch_geometric.loader.DataLoader: batches of Data
objects collated into one `Batch` (block-diagonal, with a `batch` vector) by `Collater`,
on top of nnlab.data.DataLoader (its order, shuffling and generator); and `NeighborLoader`
(torch_geometric.loader.NeighborLoader: mini-batches of one large graph by neighbour
sampling, in neighbor_loader.py)."""
from collections.abc import Mapping, Sequence

from ..data.dataloader import DataLoader as _DataLoader
from ..data.dataloader import default_collate
from .batch import Batch
from .data import Data


class Collater:
    """Collate a list of samples as PyG's: graphs into a Batch, anything else as
    default_collate does (recursing into mappings and sequences of graphs)."""

    def __init__(self, dataset=None, follow_batch=None, exclude_keys=None):
        self.dataset = dataset
        self.follow_batch = follow_batch
        self.exclude_keys = exclude_keys

    def __call__(self, batch):
        elem = batch[0]
        if isinstance(elem, Data):
            return Batch.from_data_list(batch, follow_batch=self.follow_batch,
                                        exclude_keys=self.exclude_keys)
        if isinstance(elem, str):
            return batch
        if isinstance(elem, Mapping):
            return {key: self([d[key] for d in batch]) for key in elem}
        if isinstance(elem, tuple) and hasattr(elem, "_fields"):
            return type(elem)(*(self(s) for s in zip(*batch)))
        if isinstance(elem, Sequence) and not isinstance(elem, str):
            return [self(s) for s in zip(*batch)]
        return default_collate(batch)


class DataLoader(_DataLoader):
    """Mini-batches of graphs: `DataLoader(dataset, batch_size=1, shuffle=False,
    follow_batch=None, exclude_keys=None, **kwargs)` over a list (or Dataset) of Data,
    each batch a `Batch`; the other keywords (`generator`, `drop_last`, `sampler`, ...)
    are nnlab.data.DataLoader's (torch's). `follow_batch` / `exclude_keys` as
    Batch.from_data_list."""

    def __init__(self, dataset, batch_size=1, shuffle=False, follow_batch=None,
                 exclude_keys=None, **kwargs):
        kwargs.pop("collate_fn", None)   # PyG replaces it too
        self.follow_batch = follow_batch
        self.exclude_keys = exclude_keys
        super().__init__(dataset, batch_size, shuffle,
                         collate_fn=Collater(dataset, follow_batch, exclude_keys), **kwargs)


from .neighbor_loader import NeighborLoader  # noqa: E402, F401  (PyG's loader namespace)
