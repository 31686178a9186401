"""`Batch`: many graphs as one block-diagonal graph, as torch_geometric.data.Batch.

`Batch.from_data_list([g0, g1, ...])` concatenates every attribute along its `__cat_dim__`
(an index along its last dimension, everything else along dim 0; a 0-d Tensor or a
number is stacked into a vector), shifts each graph's index attributes by the number of
nodes of the graphs before it (`__inc__`: so edge_index stays valid in the big graph),
keeps strings and other objects as lists, and adds `batch` (N,) (node -> graph) and `ptr`
(B + 1,) (where each graph's nodes start). `get_example(i)` / `to_data_list()` undo it.
"""
from collections.abc import Mapping

import numpy as np

from ..autograd.tensor import Tensor
from .data import Data


def _cat(values, dim):
    """Tensors joined along `dim`: through ops.cat when one requires grad (so gradients
    reach the graphs' own Tensors), else in array code."""
    from ..backend import get_array_module
    from ..ops.shape import cat
    if any(v.requires_grad for v in values):
        return cat(values, dim)
    return Tensor(get_array_module(values[0]._data).concatenate([v._data for v in values],
                                                                axis=dim))


def _collate(key, values, data_list):
    """(batched value, slices (B + 1,) along the cat dim, increments (B,) or None)."""
    elem = values[0]
    if isinstance(elem, Tensor):
        cat_dim = data_list[0].__cat_dim__(key, elem)
        if cat_dim is None or elem.ndim == 0:
            values = [v.reshape((1,) + tuple(v.shape)) for v in values]
            cat_dim = 0
        sizes = np.array([v.shape[cat_dim] for v in values], dtype=np.int64)
        slices = np.concatenate([[0], np.cumsum(sizes)])
        incs = np.array([d.__inc__(key, v) for d, v in zip(data_list, values)], np.int64)
        incs = np.concatenate([[0], np.cumsum(incs[:-1])])
        if incs[-1] != 0:
            values = [v + int(inc) if inc else v for v, inc in zip(values, incs)]
        return _cat(values, cat_dim), slices, incs
    if isinstance(elem, (int, float)) and not isinstance(elem, bool):
        value = np.asarray(values)
        value = value.astype(np.int64 if value.dtype.kind in "iu" else np.float32)
        incs = np.array([d.__inc__(key, v) for d, v in zip(data_list, values)], np.int64)
        incs = np.concatenate([[0], np.cumsum(incs[:-1])])
        if incs[-1] != 0:
            value = value + incs
        return Tensor(value), np.arange(len(values) + 1), incs
    if isinstance(elem, Mapping):
        parts = {k: _collate(k, [v[k] for v in values], data_list) for k in elem}
        return ({k: p[0] for k, p in parts.items()}, {k: p[1] for k, p in parts.items()},
                {k: p[2] for k, p in parts.items()})
    return list(values), np.arange(len(values) + 1), None


def _separate(key, value, i, slices, incs, batch):
    if isinstance(value, Tensor):
        dim = batch.__cat_dim__(key, value)
        dim = dim % value.ndim if value.ndim else 0
        start, end = int(slices[i]), int(slices[i + 1])
        index = (slice(None),) * dim + (slice(start, end),)
        out = value[index]
        if incs is not None and incs[i] != 0:
            out = out - int(incs[i])
        return out
    if isinstance(value, Mapping):
        return {k: _separate(k, v, i, slices[k], None if incs is None else incs[k], batch)
                for k, v in value.items()}
    return value[i]


class Batch(Data):
    """A batch of graphs as one graph (see the module's docstring). Its repr reads
    `DataBatch(...)`, as PyG's dynamically made class prints."""

    @classmethod
    def from_data_list(cls, data_list, follow_batch=None, exclude_keys=None):
        """One Batch of `data_list` (Data objects with the same keys). `follow_batch`: keys
        whose own `{key}_batch` / `{key}_ptr` vectors are added; `exclude_keys`: keys left
        out. Per graph, its slices and increments are kept for `get_example`."""
        data_list = list(data_list)
        if not data_list:
            raise ValueError("Batch.from_data_list: got an empty list of graphs")
        follow_batch, exclude_keys = set(follow_batch or ()), set(exclude_keys or ())
        out = cls()
        slice_dict, inc_dict = {}, {}
        for key in data_list[0].keys():
            if key in exclude_keys or key == "ptr":
                continue
            values = []
            for i, data in enumerate(data_list):
                if key not in data:
                    raise KeyError(f"Batch.from_data_list: graph {i} has no attribute "
                                   f"'{key}' but graph 0 has (keys {data_list[0].keys()})")
                values.append(data[key])
            if key == "num_nodes":
                object.__setattr__(out, "_num_nodes", list(values))
                out._store["num_nodes"] = sum(values)
                continue
            value, slices, incs = _collate(key, values, data_list)
            out._store[key] = value
            slice_dict[key], inc_dict[key] = slices, incs
            if key in follow_batch and isinstance(value, Tensor):
                sizes = np.diff(slices)
                out._store[f"{key}_batch"] = Tensor(np.repeat(np.arange(len(sizes)), sizes))
                out._store[f"{key}_ptr"] = Tensor(slices.astype(np.int64))
        counts = [d.num_nodes for d in data_list]
        if all(c is not None for c in counts):
            counts = np.asarray(counts, dtype=np.int64)
            out._store["batch"] = Tensor(np.repeat(np.arange(len(counts), dtype=np.int64),
                                                   counts))
            out._store["ptr"] = Tensor(np.concatenate([[0], np.cumsum(counts)]))
        object.__setattr__(out, "_slice_dict", slice_dict)
        object.__setattr__(out, "_inc_dict", inc_dict)
        object.__setattr__(out, "_num_graphs", len(data_list))
        object.__setattr__(out, "_data_cls", type(data_list[0]))
        return out

    @property
    def num_graphs(self):
        if "_num_graphs" in self.__dict__:
            return self._num_graphs
        if "ptr" in self._store:
            return int(self._store["ptr"].shape[0]) - 1
        if "batch" in self._store:
            return int(self._store["batch"]._data.max()) + 1
        raise ValueError("Batch.num_graphs: can not infer the number of graphs")

    def __len__(self):
        return self.num_graphs

    def get_example(self, idx):
        """Graph `idx` as it was given (a Data; a 0-d Tensor comes back as shape (1,), and
        an int as a Tensor of shape (1,), as in PyG)."""
        if "_slice_dict" not in self.__dict__:
            raise RuntimeError("Batch.get_example: this Batch was not made by "
                               "'Batch.from_data_list' and cannot be split into graphs")
        n = self.num_graphs
        if not -n <= idx < n:
            raise IndexError(f"Batch.get_example: index {idx} is out of range for a batch "
                             f"of {n} graphs")
        idx %= n
        data = self._data_cls()
        for key, slices in self._slice_dict.items():
            if key in self._store:
                data._store[key] = _separate(key, self._store[key], idx, slices,
                                             self._inc_dict[key], self)
        if "_num_nodes" in self.__dict__:
            data._store["num_nodes"] = self._num_nodes[idx]
        return data

    def index_select(self, idx):
        """The graphs at `idx` (ints, a slice, or a bool mask) as a list of Data."""
        n = self.num_graphs
        if isinstance(idx, slice):
            idx = range(n)[idx]
        else:
            a = np.asarray(idx._data if isinstance(idx, Tensor) else idx)
            idx = np.flatnonzero(a) if a.dtype == bool else a.reshape(-1)
        return [self.get_example(int(i)) for i in idx]

    def __getitem__(self, idx):
        if isinstance(idx, str):
            return super().__getitem__(idx)
        if isinstance(idx, (int, np.integer)):
            return self.get_example(int(idx))
        return self.index_select(idx)

    def to_data_list(self):
        """All the graphs of the batch, in order."""
        return [self.get_example(i) for i in range(self.num_graphs)]

    def __repr__(self):
        return "Data" + super().__repr__()
