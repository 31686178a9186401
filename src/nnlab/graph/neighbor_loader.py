"""`NeighborLoader` (torch_geometric.loader.NeighborLoader, PyG 2.8): mini-batches of a
large graph by GraphSAGE's neighbour sampling, so a graph too large for full-batch
training trains batch by batch.

Each batch of `batch_size` input (seed) nodes becomes a `Data` holding the subgraph that
`NeighborSampler` drew around them (see nnlab.graph.sampler), with PyG's layout:

    n_id (K,)            global ids of the sampled nodes; the batch_size seeds first
    x, y, masks, ...     node attributes, rows n_id (x == data.x[n_id])
    edge_index (2, E')   local ids, row 0 the sampled neighbour (source), row 1 the node
                         that drew it (target): flow='source_to_target'
    e_id (E',)           global ids of the edges; edge_attr, edge_weight, ... rows e_id
    input_id (B,)        the seeds' positions in `input_nodes` (their node ids when
                         `input_nodes` is a mask), batch_size = B
    num_sampled_nodes    [B, new nodes of hop 1, ...]; num_sampled_edges [edges of hop 1,
                         ...] (lists of ints; None for induced / bidirectional subgraphs)
    batch (K,)           the seed each node belongs to, with `disjoint=True` only

so a model's output for the seeds is out[:batch.batch_size].
"""
import copy

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from ..data.dataloader import DataLoader
from ..data.dataset import Dataset, as_generator
from .sampler import NeighborSampler, NodeSamplerInput
from .utils._tensor import host


class _Positions(Dataset):
    """0..n-1, a batch of them at once as an int64 array (the loader's collate samples)."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        return index

    def __getitems__(self, indices):
        return np.asarray(indices, dtype=np.int64)


def get_input_nodes(data, input_nodes):
    """(node ids (B,), input_id or None) from None (every node), a bool mask (N,) (its
    True positions; input_id the node ids themselves, as PyG) or node indices."""
    if input_nodes is None:
        return np.arange(data.num_nodes, dtype=np.int64), None
    nodes = host(input_nodes._data if isinstance(input_nodes, Tensor)
                 else np.asarray(input_nodes))
    if nodes.dtype == bool:
        if nodes.shape != (data.num_nodes,):
            raise ValueError(f"NeighborLoader: a boolean input_nodes must have shape "
                             f"({data.num_nodes},); got {tuple(nodes.shape)}")
        nodes = np.flatnonzero(nodes).astype(np.int64)
        return nodes, nodes
    if nodes.size and nodes.dtype.kind not in "iu":
        raise TypeError(f"NeighborLoader: input_nodes must be None, a bool mask or node "
                        f"indices; got dtype {nodes.dtype}")
    return nodes.astype(np.int64).reshape(-1), None


def _rows(value, index, dim):
    """Rows `index` of an array or Tensor along `dim`, as a new Tensor."""
    array = value._data if isinstance(value, Tensor) else value
    xp = backend.get_array_module(array)
    index = index if xp is np else xp.asarray(index)
    return Tensor(xp.take(array, index, axis=dim))


def filter_data(data, node, row, col, edge, perm=None):
    """A copy of `data` holding the nodes `node` and the edges `edge` (CSC positions;
    `perm` maps them to edge ids), its edge_index (row, col): node attributes sliced by
    node, edge attributes by edge id, everything else shared (PyG's filter_data)."""
    out = copy.copy(data)
    store = out._store
    e_id = edge if perm is None or edge is None else perm[edge]
    for key, value in data._store.items():
        if key == "num_nodes":
            store[key] = int(node.size)
        elif key == "edge_index":
            xp = backend.get_array_module(value._data if isinstance(value, Tensor) else value)
            store[key] = Tensor(xp.asarray(np.stack([row, col])))   # on edge_index's device
        elif not hasattr(value, "shape") or len(value.shape) == 0:
            continue
        elif data.is_node_attr(key):
            store[key] = _rows(value, node, data.__cat_dim__(key, value))
        elif data.is_edge_attr(key):
            if e_id is None:
                del store[key]
            else:
                store[key] = _rows(value, e_id, data.__cat_dim__(key, value))
    return out


class NeighborLoader(DataLoader):
    """`NeighborLoader(data, num_neighbors, input_nodes=None, input_time=None,
    replace=False, subgraph_type='directional', disjoint=False, temporal_strategy='uniform',
    time_attr=None, weight_attr=None, transform=None, transform_sampler_output=None,
    is_sorted=False, filter_per_worker=None, neighbor_sampler=None, directed=True,
    **kwargs)`: batches of sampled subgraphs (layout in the module docstring).

    `num_neighbors[l]` neighbours are drawn per node at hop l (-1: all of them);
    `input_nodes` the seeds (None: all nodes; a bool mask; or node indices); the other
    keywords are nnlab.data.DataLoader's (`batch_size`, `shuffle`, `drop_last`,
    `generator`: one generator, an nnlab or numpy Generator or an int seed, drives both
    the shuffle and the neighbour draws, so a seed fixes every batch). `transform` is
    applied to each batch, `transform_sampler_output` to each SamplerOutput. Temporal and
    weighted sampling (`input_time`, `time_attr`, `weight_attr`) are not implemented;
    `filter_per_worker` and `temporal_strategy` are accepted and change nothing."""

    def __init__(self, data, num_neighbors, input_nodes=None, input_time=None, replace=False,
                 subgraph_type="directional", disjoint=False, temporal_strategy="uniform",
                 time_attr=None, weight_attr=None, transform=None,
                 transform_sampler_output=None, is_sorted=False, filter_per_worker=None,
                 neighbor_sampler=None, directed=True, **kwargs):
        for name, value in (("input_time", input_time), ("time_attr", time_attr),
                            ("weight_attr", weight_attr)):
            if value is not None:
                raise NotImplementedError(f"NeighborLoader: {name} (temporal / weighted "
                                          "sampling) is not implemented")
        generator = kwargs.pop("generator", None)
        rng = None if generator is None else as_generator(generator, "NeighborLoader")
        kwargs.pop("dataset", None)
        kwargs.pop("collate_fn", None)
        if neighbor_sampler is None:
            neighbor_sampler = NeighborSampler(
                data, num_neighbors, subgraph_type=subgraph_type, replace=replace,
                disjoint=disjoint, is_sorted=is_sorted, directed=directed, generator=rng)
        self.data = data
        self.neighbor_sampler = self.node_sampler = neighbor_sampler
        self.input_nodes = input_nodes
        self.transform = transform
        self.transform_sampler_output = transform_sampler_output
        self.filter_per_worker = filter_per_worker
        nodes, input_id = get_input_nodes(data, input_nodes)
        self.input_data = NodeSamplerInput(input_id, nodes)
        super().__init__(_Positions(nodes.size), collate_fn=self.collate_fn, generator=rng,
                         **kwargs)

    def __call__(self, index):
        """The batch of the input nodes at positions `index`."""
        return self.collate_fn(np.asarray(index, dtype=np.int64))

    def collate_fn(self, index):
        out = self.neighbor_sampler.sample_from_nodes(self.input_data[index])
        return self.filter_fn(out)

    def filter_fn(self, out):
        """The Data of one SamplerOutput: attributes sliced, then PyG's bookkeeping."""
        if self.transform_sampler_output:
            out = self.transform_sampler_output(out)
        data = filter_data(self.data, out.node, out.row, out.col, out.edge,
                           self.neighbor_sampler.edge_permutation)
        data.n_id = Tensor(out.node)
        if out.edge is not None:
            perm = self.neighbor_sampler.edge_permutation
            data.e_id = Tensor(perm[out.edge] if perm is not None else out.edge)
        if out.batch is not None:
            data.batch = Tensor(out.batch)
        data.num_sampled_nodes = out.num_sampled_nodes
        data.num_sampled_edges = out.num_sampled_edges
        input_id = out.metadata[0]
        data.input_id = Tensor(np.asarray(input_id, dtype=np.int64))
        data.batch_size = int(np.asarray(input_id).size)
        return data if self.transform is None else self.transform(data)

    def __repr__(self):
        return f"{type(self).__name__}()"
