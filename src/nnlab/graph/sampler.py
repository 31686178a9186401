"""Neighbour sampling (GraphSAGE's fan-outs), as torch_geometric.sampler.NeighborSampler
with pyg-lib's kernel, vectorised in numpy.

The graph is held as CSC: for target node v, its incoming edges (u -> v) are
row[colptr[v]:colptr[v + 1]] (the sources u), built once by a stable sort of the edges
by target. A mini-batch starts from its seed nodes; hop l draws, for every node found
in hop l - 1 (the seeds for l = 0), up to num_neighbors[l] of its incoming edges:

    all of them          when num_neighbors[l] < 0, or deg(v) <= k without replacement;
    k distinct ones      without replacement (Floyd's algorithm, one vectorised draw per
                         pick over all frontier nodes at once: O(frontier * k^2));
    k with repetition    with `replace=True`.

Nodes are numbered locally in the order pyg-lib finds them: the seeds 0..B-1, then each
hop's new nodes in the order of the frontier node that drew them and of the draw. Every
drawn edge is kept (also when its source was found before), as (row=local source,
col=local target): messages flow from the sampled neighbour to the node that drew it
(flow='source_to_target'). `edge` holds CSC positions (the loader maps them back to
edge ids through `perm`).
"""
import enum
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..autograd.tensor import Tensor
from ..data.dataset import as_generator
from .utils._tensor import host


class SubgraphType(enum.Enum):
    """The subgraph a sampler returns: the drawn edges ('directional'), the drawn edges
    and their reverses ('bidirectional'), or every edge among the sampled nodes
    ('induced')."""
    directional = "directional"
    bidirectional = "bidirectional"
    induced = "induced"


@dataclass
class NodeSamplerInput:
    """The seeds of one mini-batch: `input_id` (B,) (their ids in the loader's input),
    `node` (B,) (global node ids), `time` (unused: no temporal sampling), `input_type`
    (None for a homogeneous graph). numpy int64 arrays."""
    input_id: np.ndarray | None
    node: np.ndarray
    time: np.ndarray | None = None
    input_type: str | None = None

    def __getitem__(self, index):
        index = np.asarray(index, dtype=np.int64)
        return NodeSamplerInput(self.input_id[index] if self.input_id is not None else index,
                                self.node[index], None, self.input_type)


@dataclass
class SamplerOutput:
    """One sampled subgraph, PyG's fields (numpy int64 arrays): `node` (K,) global ids of
    the sampled nodes (seeds first), `row` / `col` (E',) local source / target of each
    edge, `edge` (E',) CSC positions of the edges, `batch` (K,) the seed each node
    belongs to (disjoint sampling only, else None), `num_sampled_nodes` (hops + 1,) and
    `num_sampled_edges` (hops,) as lists of ints (None for induced / bidirectional
    subgraphs, as PyG), `metadata` (input_id, seed_time)."""
    node: np.ndarray
    row: np.ndarray
    col: np.ndarray
    edge: np.ndarray | None
    batch: np.ndarray | None = None
    num_sampled_nodes: list | None = None
    num_sampled_edges: list | None = None
    metadata: Any = field(default=None)


def _int_array(value, what):
    """`value` (a Tensor, a numpy or cupy array, a list) as a host int64 array."""
    value = host(value._data) if isinstance(value, Tensor) else host(np.asarray(value))
    if value.size and value.dtype.kind not in "iu":
        raise TypeError(f"NeighborSampler: {what} must hold integers; got dtype {value.dtype}")
    return value.astype(np.int64, copy=False)


def to_csc(edge_index, num_nodes, is_sorted=False):
    """(colptr (N + 1,), row (E,), perm (E,) or None): the edges sorted by target (stable,
    so each target's incoming edges keep their order in edge_index), the sources in that
    order, and where each sorted edge was in edge_index (None when `is_sorted`: already
    sorted by target)."""
    ei = _int_array(edge_index, "edge_index")
    if ei.ndim != 2 or ei.shape[0] != 2:
        raise ValueError(f"NeighborSampler: edge_index must have shape (2, E); got shape "
                         f"{tuple(ei.shape)}")
    row, col = ei
    if ei.shape[1] and (ei.min() < 0 or ei.max() >= num_nodes):
        raise IndexError(f"NeighborSampler: edge_index holds node ids outside "
                         f"[0, {num_nodes}) (min {ei.min()}, max {ei.max()})")
    perm = None
    if not is_sorted:
        perm = np.argsort(col, kind="stable")
        row, col = row[perm], col[perm]
    elif col.size and np.any(col[1:] < col[:-1]):
        raise ValueError("NeighborSampler: is_sorted=True but edge_index is not sorted by "
                         "its target (second) row")
    colptr = np.zeros(num_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(col, minlength=num_nodes), out=colptr[1:])
    return colptr, np.ascontiguousarray(row), perm


def _segments(starts, counts):
    """The positions starts[i] + 0..counts[i]-1 for every i, concatenated, and the
    segment each one belongs to: ((sum counts,), (sum counts,))."""
    owner = np.repeat(np.arange(counts.size), counts)
    ends = np.cumsum(counts)
    within = np.arange(owner.size) - np.repeat(ends - counts, counts)
    return np.repeat(starts, counts) + within, owner


def _floyd(deg, k, rng):
    """k distinct offsets in 0..deg[i]-1 for every row i (all deg > k): Floyd's algorithm,
    for j = deg-k .. deg-1: draw r in 0..j, take j instead if r was taken. (m, k). A draw
    is floor(u * (j + 1)), u uniform in [0, 1), clipped to j against rounding up."""
    picks = np.empty((deg.size, k), dtype=np.int64)
    for j in range(k):
        top = deg - k + j                       # draw from 0..top
        r = np.minimum((rng.random(deg.size) * (top + 1)).astype(np.int64), top)
        taken = (picks[:, :j] == r[:, None]).any(axis=1)
        picks[:, j] = np.where(taken, top, r)
    return picks


def sample_neighbors(colptr, targets, k, replace, rng):
    """Draw the incoming edges of every target (see the module's rules): (CSC positions,
    index into `targets` of the node that drew each), grouped by target in their order."""
    start = colptr[targets]
    deg = colptr[targets + 1] - start
    if k < 0:
        return _segments(start, deg)
    take = np.where(deg > 0, k, 0) if replace else np.minimum(deg, k)
    full = np.zeros(deg.size, dtype=bool) if replace else deg <= k
    offset = np.cumsum(take) - take
    pos = np.empty(int(take.sum()), dtype=np.int64)
    f = np.flatnonzero(full & (deg > 0))
    if f.size:
        out, _ = _segments(offset[f], deg[f])
        pos[out], _ = _segments(start[f], deg[f])
    s = np.flatnonzero(~full & (take > 0))
    if s.size:
        picks = (np.minimum((rng.random((s.size, k)) * deg[s, None]).astype(np.int64),
                            deg[s, None] - 1) if replace else _floyd(deg[s], k, rng))
        pos[offset[s, None] + np.arange(k)] = start[s, None] + picks
    return pos, np.repeat(np.arange(deg.size), take)


_UNSEEN = np.iinfo(np.int64).max


def _first_seen(values):
    """The distinct values in the order of their first occurrence."""
    uniq, first = np.unique(values, return_index=True)
    return uniq[np.argsort(first, kind="stable")]


class NeighborSampler:
    """`NeighborSampler(data, num_neighbors, subgraph_type='directional', replace=False,
    disjoint=False, is_sorted=False, directed=True, *, generator=None)`: PyG's sampler for
    a homogeneous `Data`. `sample_from_nodes(NodeSamplerInput)` gives a `SamplerOutput`.

    `disjoint=True` grows one tree per seed (a node reached from two seeds appears twice;
    `batch` tells the trees apart). `subgraph_type='induced'` (or the deprecated
    `directed=False`) keeps every edge among the sampled nodes; 'bidirectional' adds the
    reverse of every drawn edge (merged, sorted by (col, row); see to_bidirectional for
    which id a merged edge keeps). Draws come from `generator` (an nnlab or numpy
    Generator, an int seed, or None: the default generator, looked up at each draw).
    Temporal and weighted sampling (PyG's time_attr, weight_attr) are not implemented."""

    def __init__(self, data, num_neighbors, subgraph_type="directional", replace=False,
                 disjoint=False, is_sorted=False, directed=True, *, generator=None):
        if not directed:
            subgraph_type = SubgraphType.induced
        self.subgraph_type = SubgraphType(subgraph_type)
        self.num_neighbors = [int(k) for k in num_neighbors]
        if isinstance(num_neighbors, dict) or any(k < -1 for k in self.num_neighbors):
            raise ValueError(f"NeighborSampler: num_neighbors must be a list of ints >= -1 "
                             f"(a homogeneous graph); got {num_neighbors!r}")
        if disjoint and self.subgraph_type == SubgraphType.induced:
            raise ValueError("NeighborSampler: disjoint sampling of induced subgraphs is not "
                             "supported (as PyG)")
        self.replace = bool(replace)
        self.disjoint = bool(disjoint)
        self.num_nodes = int(data.num_nodes)
        edge_index = data.edge_index
        if edge_index is None:
            edge_index = np.zeros((2, 0), dtype=np.int64)
        self.colptr, self.row, self.perm = to_csc(edge_index, self.num_nodes, is_sorted)
        self._rng = None if generator is None else as_generator(generator, "NeighborSampler")
        self._local = np.full(self.num_nodes, -1, dtype=np.int64)   # global -> local id
        self._first = np.full(self.num_nodes, _UNSEEN, dtype=np.int64)   # scratch

    @property
    def edge_permutation(self):
        return self.perm

    def _generator(self):
        return self._rng if self._rng is not None else as_generator(None, "NeighborSampler")

    def sample_from_nodes(self, inputs):
        seed = _int_array(inputs.node, "input nodes").reshape(-1)
        if seed.size and (seed.min() < 0 or seed.max() >= self.num_nodes):
            raise IndexError(f"NeighborSampler: input nodes must lie in [0, {self.num_nodes});"
                             f" got min {seed.min()}, max {seed.max()}")
        out = self._sample_disjoint(seed) if self.disjoint else self._sample(seed)
        if self.subgraph_type == SubgraphType.bidirectional:
            out = to_bidirectional(out)
        out.metadata = (inputs.input_id, inputs.time)
        return out

    def _sample(self, seed):
        rng, local = self._generator(), self._local
        nodes, frontier = [seed], seed
        local[seed] = np.arange(seed.size)
        begin, end = 0, seed.size
        rows, cols, edges, num_edges = [], [], [], []
        induced = self.subgraph_type == SubgraphType.induced
        try:
            for k in self.num_neighbors:
                pos, owner = sample_neighbors(self.colptr, frontier, k, self.replace, rng)
                src = self.row[pos]
                new = self._new_nodes(src[local[src] < 0])
                nodes.append(new)
                local[new] = np.arange(end, end + new.size)
                if not induced:
                    rows.append(local[src])
                    cols.append(begin + owner)
                    edges.append(pos)
                    num_edges.append(int(pos.size))
                frontier, begin, end = new, end, end + new.size
            node = np.concatenate(nodes)
            if induced:
                pos, owner = sample_neighbors(self.colptr, node, -1, False, rng)
                src_local = local[self.row[pos]]
                keep = src_local >= 0
                return SamplerOutput(node, src_local[keep], owner[keep], pos[keep])
        finally:
            for part in nodes:
                local[part] = -1
        return SamplerOutput(node, *_cat(rows, cols, edges), None,
                             [int(n.size) for n in nodes], num_edges)

    def _new_nodes(self, candidates):
        """The distinct candidates in the order of their first occurrence, without a sort:
        first[v] = min position of v among the candidates (np.minimum.at), and a
        candidate is kept where its position is that minimum."""
        first, where = self._first, np.arange(candidates.size)
        np.minimum.at(first, candidates, where)
        new = candidates[first[candidates] == where]
        first[candidates] = _UNSEEN
        return new

    def _sample_disjoint(self, seed):
        """One tree per seed: a node is the pair (tree, global id), keyed tree * N + id;
        the keys seen so far are kept sorted and looked up with searchsorted."""
        rng, n = self._generator(), max(self.num_nodes, 1)
        tree = np.arange(seed.size, dtype=np.int64)
        keys = tree * n + seed
        order = np.argsort(keys, kind="stable")
        known, known_local = keys[order], order
        nodes, trees = [seed], [tree]
        f_node, f_tree, begin, end = seed, tree, 0, seed.size
        rows, cols, edges, num_edges = [], [], [], []
        for k in self.num_neighbors:
            pos, owner = sample_neighbors(self.colptr, f_node, k, self.replace, rng)
            src, src_tree = self.row[pos], f_tree[owner]
            key = src_tree * n + src
            at = np.minimum(np.searchsorted(known, key), max(known.size - 1, 0))
            hit = known[at] == key if known.size else np.zeros(key.size, dtype=bool)
            new = _first_seen(key[~hit])
            new_local = np.arange(end, end + new.size)
            known = np.concatenate([known, new])
            known_local = np.concatenate([known_local, new_local])
            order = np.argsort(known, kind="stable")
            known, known_local = known[order], known_local[order]
            rows.append(known_local[np.searchsorted(known, key)])
            cols.append(begin + owner)
            edges.append(pos)
            num_edges.append(int(pos.size))
            f_node, f_tree = new % n, new // n
            nodes.append(f_node)
            trees.append(f_tree)
            begin, end = end, end + new.size
        return SamplerOutput(np.concatenate(nodes), *_cat(rows, cols, edges),
                             np.concatenate(trees), [int(a.size) for a in nodes], num_edges)


def _cat(*parts):
    return tuple(np.concatenate(p) if p else np.zeros(0, dtype=np.int64) for p in parts)


def to_bidirectional(out):
    """`out` with every edge (r, c) joined by (c, r), duplicates merged, sorted by (col,
    row) (PyG's coalesce with sort_by_row=False); a merged edge keeps the id of its last
    copy (as PyG's stable sort and scatter: when both (r, c) and (c, r) were drawn, each
    keeps the other's id). num_sampled_* become None, as PyG."""
    row = np.concatenate([out.row, out.col])
    col = np.concatenate([out.col, out.row])
    edge = None if out.edge is None else np.concatenate([out.edge, out.edge])
    n = max(out.node.size, 1)
    key = col * n + row
    uniq, last = np.unique(key[::-1], return_index=True)
    last = key.size - 1 - last
    return SamplerOutput(out.node, uniq % n, uniq // n,
                         None if edge is None else edge[last], out.batch, None, None,
                         out.metadata)
