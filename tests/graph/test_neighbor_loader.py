"""NeighborLoader / NeighborSampler: the sampled subgraphs' properties (edges exist, fan-outs
met without duplicates, seeds first, attributes sliced consistently, every input node once
per epoch, determinism under a seed) and PyG parity of the batches' layout.

PyG 2.8 samples only through pyg-lib or torch-sparse (compiled; neither is installed
here), so the parity tests run PyG's own NeighborLoader with its kernel call replaced by
`reference_kernel` below: a line-by-line Python port of pyg-lib's CPU kernel (and of
torch-sparse's induced-subgraph pass) for full neighbourhoods (num_neighbors=-1), where
the result does not depend on random draws. Everything around the kernel (CSC building,
input ids, attribute slicing, e_id, batch_size, bidirectional merging) is PyG's code."""
import warnings

import numpy as np
import pytest

import nnlab
from nnlab.graph import Data
from nnlab.graph.datasets.synthetic import FakeDataset, random_graph
from nnlab.graph.loader import NeighborLoader
from nnlab.graph.sampler import NeighborSampler, NodeSamplerInput, sample_neighbors, to_csc
from nnlab.graph.utils import is_undirected, k_hop_subgraph, subgraph

from .pyg_data import N, requires_pyg, torch

if torch is not None:
    import torch_geometric
    import torch_geometric.loader
    import torch_geometric.sampler


def make_graph(n=60, e=400, seed=0, sort=False):
    """A directed multigraph (repeated pairs and self-loops kept) with x, y, a train mask and
    edge_attr; in-degrees from 0 to ~20 (node 0 has many incoming edges)."""
    rng = np.random.default_rng(seed)
    src = rng.integers(0, n, e)
    dst = np.where(rng.random(e) < 0.05, 0, rng.integers(0, n - 3, e))  # last 3: no in-edges
    ei = np.stack([src, dst]).astype(np.int64)
    if sort:
        ei = ei[:, np.argsort(ei[1], kind="stable")]
    return Data(x=nnlab.Tensor(rng.standard_normal((n, 5)).astype(np.float32)),
                edge_index=nnlab.Tensor(ei), y=nnlab.Tensor(rng.integers(0, 4, n)),
                train_mask=nnlab.Tensor(rng.random(n) < 0.5),
                edge_attr=nnlab.Tensor(rng.standard_normal((e, 3)).astype(np.float32)))


def hop_ranges(batch):
    """[(begin, end)] of the frontier of each hop, from num_sampled_nodes."""
    bounds = np.cumsum([0] + list(batch.num_sampled_nodes))
    return list(zip(bounds[:-2], bounds[1:-1]))


def in_degree(data):
    return np.bincount(N(data.edge_index)[1], minlength=data.num_nodes)


@pytest.mark.parametrize("num_neighbors,replace", [([3, 2], False), ([5], False),
                                                   ([2, 2, 2], True), ([-1, 4], False)])
def test_sampled_edges_exist_and_fanouts_are_met(num_neighbors, replace):
    data = make_graph()
    ei, deg = N(data.edge_index), in_degree(data)
    loader = NeighborLoader(data, num_neighbors, batch_size=7, replace=replace, generator=1)
    for batch in loader:
        n_id, e_id, (row, col) = N(batch.n_id), N(batch.e_id), N(batch.edge_index)
        # each sampled edge is the original edge e_id, from neighbour to sampler
        np.testing.assert_array_equal(n_id[row], ei[0, e_id])
        np.testing.assert_array_equal(n_id[col], ei[1, e_id])
        assert len(set(n_id.tolist())) == n_id.size        # every node once
        edges_per_hop = np.split(np.arange(e_id.size), np.cumsum(batch.num_sampled_edges)[:-1])
        for k, (begin, end), hop in zip(num_neighbors, hop_ranges(batch), edges_per_hop):
            assert np.all((col[hop] >= begin) & (col[hop] < end))
            counts = np.bincount(col[hop] - begin, minlength=end - begin)
            d = deg[n_id[begin:end]]
            want = d if k < 0 else (np.where(d > 0, k, 0) if replace else np.minimum(d, k))
            np.testing.assert_array_equal(counts, want)
            if not replace:                                # no edge drawn twice per target
                assert np.unique(e_id[hop]).size == hop.size


def test_seeds_first_and_attributes_follow_n_id():
    data = make_graph()
    x, y, mask, ea = (N(data[k]) for k in ("x", "y", "train_mask", "edge_attr"))
    seeds = np.array([5, 3, 40, 0, 22, 9, 11])
    loader = NeighborLoader(data, [4, 3], input_nodes=nnlab.Tensor(seeds), batch_size=3,
                            generator=0)
    batches = list(loader)
    assert [b.batch_size for b in batches] == [3, 3, 1] and len(loader) == 3
    for i, b in enumerate(batches):
        n_id = N(b.n_id)
        np.testing.assert_array_equal(n_id[:b.batch_size], seeds[3 * i:3 * i + 3])
        np.testing.assert_array_equal(N(b.input_id), np.arange(3 * i, 3 * i + b.batch_size))
        assert b.num_sampled_nodes[0] == b.batch_size and b.num_nodes == n_id.size
        np.testing.assert_array_equal(N(b.x), x[n_id])
        np.testing.assert_array_equal(N(b.y), y[n_id])
        np.testing.assert_array_equal(N(b.train_mask), mask[n_id])
        np.testing.assert_array_equal(N(b.edge_attr), ea[N(b.e_id)])
        assert N(b.edge_index).max() < n_id.size


@pytest.mark.parametrize("kind", ["all", "mask", "index"])
def test_every_input_node_once_per_epoch_with_shuffle(kind):
    data = make_graph()
    mask = N(data.train_mask)
    inputs = {"all": None, "mask": data.train_mask,
              "index": nnlab.Tensor(np.flatnonzero(mask)[::-1].copy())}[kind]
    expect = np.arange(data.num_nodes) if kind == "all" else np.flatnonzero(mask)
    loader = NeighborLoader(data, [2, 2], input_nodes=inputs, batch_size=8, shuffle=True,
                            generator=3)
    orders = []
    for _ in range(2):
        seeds = np.concatenate([N(b.n_id)[:b.batch_size] for b in loader])
        ids = np.concatenate([N(b.input_id) for b in loader])
        np.testing.assert_array_equal(np.sort(seeds), expect)
        assert np.unique(ids).size == ids.size
        orders.append(seeds)
    assert not np.array_equal(orders[0], orders[1])   # a fresh order each epoch
    if kind == "mask":   # PyG: a mask's input_id holds the node ids themselves
        b = next(iter(loader))
        np.testing.assert_array_equal(N(b.input_id), N(b.n_id)[:b.batch_size])


def test_same_seed_same_batches_and_another_seed_differs():
    data = make_graph()

    def epoch(gen):
        loader = NeighborLoader(data, [3, 3], batch_size=10, shuffle=True, generator=gen)
        return [(N(b.n_id), N(b.edge_index), N(b.e_id)) for b in loader]

    a, b, c = epoch(11), epoch(11), epoch(np.random.default_rng(12))
    for u, v in zip(a, b):
        for p, q in zip(u, v):
            np.testing.assert_array_equal(p, q)
    assert any(not np.array_equal(u[0], v[0]) for u, v in zip(a, c))
    nnlab.manual_seed(5)
    d = epoch(None)
    nnlab.manual_seed(5)
    e = epoch(None)
    assert all(np.array_equal(u[2], v[2]) for u, v in zip(d, e))


def test_full_one_hop_equals_k_hop_subgraph():
    data = make_graph()
    seeds = np.array([0, 7, 13, 59])
    batch = NeighborLoader(data, [-1], input_nodes=nnlab.Tensor(seeds),
                           batch_size=4)(np.arange(4))
    subset, _, _, edge_mask = k_hop_subgraph(nnlab.Tensor(seeds), 1, data.edge_index,
                                             num_nodes=data.num_nodes, directed=True)
    np.testing.assert_array_equal(np.sort(N(batch.e_id)), np.flatnonzero(N(edge_mask)))
    np.testing.assert_array_equal(np.sort(N(batch.n_id)), N(subset))


def mean_aggregate(h, edge_index, num_nodes):
    """h_v + mean of h_u over the edges u -> v (messages source to target)."""
    src, dst = edge_index
    total = np.zeros((num_nodes,) + h.shape[1:])
    np.add.at(total, dst, h[src])
    return h + total / np.maximum(np.bincount(dst, minlength=num_nodes), 1)[:, None]


def test_two_full_hops_give_two_layers_exactly():
    """With num_neighbors=[-1, -1] each seed's 2-hop receptive field is complete, so two
    rounds of mean aggregation on the batch equal the full-graph result at the seeds."""
    data = make_graph()
    x, ei = N(data.x).astype(np.float64), N(data.edge_index)
    full = mean_aggregate(mean_aggregate(x, ei, 60), ei, 60)
    gen = nnlab.Generator().manual_seed(4)
    for b in NeighborLoader(data, [-1, -1], batch_size=16, shuffle=True, generator=gen):
        h, k = N(b.x).astype(np.float64), b.num_nodes
        h = mean_aggregate(mean_aggregate(h, N(b.edge_index), k), N(b.edge_index), k)
        np.testing.assert_allclose(h[:b.batch_size], full[N(b.n_id)[:b.batch_size]],
                                   rtol=1e-12)


def test_without_replacement_draws_are_uniform_subsets():
    """k=2 of 5 incoming edges, 20,000 draws at once: each of the 10 pairs has probability
    1/10 (std of a frequency ~0.002; the bound is 5 std), each edge 2/5."""
    colptr = np.array([0, 5])
    pos, owner = sample_neighbors(colptr, np.zeros(20000, np.int64), 2, False,
                                  np.random.default_rng(0))
    pairs = np.sort(pos.reshape(-1, 2), axis=1)
    assert np.all(pairs[:, 0] != pairs[:, 1])
    freq = np.bincount(pairs[:, 0] * 5 + pairs[:, 1], minlength=25) / 20000
    want = np.triu(np.full((5, 5), 0.1), 1).reshape(-1)
    np.testing.assert_allclose(freq, want, atol=0.011)
    np.testing.assert_array_equal(owner, np.repeat(np.arange(20000), 2))


def test_disjoint_trees_induced_and_bidirectional():
    data = make_graph()
    ei = N(data.edge_index)
    seeds = nnlab.Tensor(np.array([0, 1, 0]))      # a seed twice: two separate trees
    b = NeighborLoader(data, [3, 2], input_nodes=seeds, batch_size=3, disjoint=True,
                       generator=0)(np.arange(3))
    tree, n_id, (row, col) = N(b.batch), N(b.n_id), N(b.edge_index)
    np.testing.assert_array_equal(tree[:3], [0, 1, 2])
    np.testing.assert_array_equal(tree[row], tree[col])   # no edge crosses two trees
    for t in range(3):                                     # a node once per tree
        assert np.unique(n_id[tree == t]).size == (tree == t).sum()
    b = NeighborLoader(data, [3, 2], batch_size=6, subgraph_type="induced",
                       generator=0)(np.arange(6))
    n_id = N(b.n_id)
    sub, _ = subgraph(nnlab.Tensor(n_id), data.edge_index, num_nodes=data.num_nodes)
    got = np.sort(n_id[N(b.edge_index)][0] * 100 + n_id[N(b.edge_index)][1])
    np.testing.assert_array_equal(got, np.sort(N(sub)[0] * 100 + N(sub)[1]))
    assert "num_sampled_nodes" not in b          # None in PyG: not stored
    c = NeighborLoader(data, [3, 2], batch_size=6, directed=False, generator=0)(np.arange(6))
    np.testing.assert_array_equal(N(c.n_id), n_id)
    b = NeighborLoader(data, [3, 2], batch_size=6, subgraph_type="bidirectional",
                       generator=0)(np.arange(6))
    row, col = N(b.edge_index)
    pairs = set(zip(row.tolist(), col.tolist()))
    assert all((c, r) in pairs for r, c in pairs) and len(pairs) == row.size
    assert np.all(np.diff(col * 1000 + row) > 0)           # sorted by (col, row)
    glob = N(b.n_id)
    e_id = N(b.e_id)
    fwd = (ei[0, e_id] == glob[row]) & (ei[1, e_id] == glob[col])
    bwd = (ei[0, e_id] == glob[col]) & (ei[1, e_id] == glob[row])
    assert np.all(fwd | bwd)


def test_errors_and_small_cases():
    data = make_graph()
    with pytest.raises(NotImplementedError, match="time_attr"):
        NeighborLoader(data, [2], time_attr="t")
    with pytest.raises(ValueError, match="num_neighbors"):
        NeighborLoader(data, [-2])
    with pytest.raises(IndexError, match="input nodes"):
        NeighborLoader(data, [2], input_nodes=nnlab.Tensor(np.array([60])))(np.arange(1))
    with pytest.raises(ValueError, match="bool"):
        NeighborLoader(data, [2], input_nodes=nnlab.Tensor(np.ones(3, bool)))
    # a node with no incoming edges samples nothing; zero hops gives the seeds alone
    b = NeighborLoader(data, [4], input_nodes=nnlab.Tensor(np.array([59])))(np.arange(1))
    assert N(b.n_id).tolist() == [59] and b.num_sampled_edges == [0]
    b = NeighborLoader(data, [], batch_size=4)(np.arange(4))
    assert N(b.n_id).tolist() == [0, 1, 2, 3] and N(b.edge_index).shape == (2, 0)
    loader = NeighborLoader(data, [1], batch_size=7, drop_last=True)
    assert len(loader) == 8 and len(list(loader)) == 8
    colptr, row, perm = to_csc(N(data.edge_index), data.num_nodes)
    np.testing.assert_array_equal(row, N(data.edge_index)[0][perm])
    np.testing.assert_array_equal(np.diff(colptr), in_degree(data))
    out = NeighborSampler(data, [2], generator=0).sample_from_nodes(
        NodeSamplerInput(None, np.array([0, 1]))[np.arange(2)])
    assert out.node[:2].tolist() == [0, 1] and out.metadata[0].tolist() == [0, 1]


def test_synthetic_graphs():
    g = random_graph(500, 3000, num_features=8, num_classes=3, generator=0)
    ei = N(g.edge_index)
    assert g.num_nodes == 500 and ei.shape == (2, 3000) and g.x.shape == (500, 8)
    assert np.all(ei[0] != ei[1]) and ei.min() >= 0 and ei.max() < 500
    assert set(np.unique(N(g.y))) == {0, 1, 2}
    np.testing.assert_array_equal(ei, N(random_graph(500, 3000, 8, 3, generator=0).edge_index))
    ds = FakeDataset(num_graphs=1, avg_num_nodes=200, avg_degree=4, num_channels=6,
                     edge_dim=2, generator=0)
    d = ds[0]
    assert 150 <= d.num_nodes <= 250 and d.x.shape == (d.num_nodes, 6)
    assert d.y.shape == (d.num_nodes,) and d.edge_attr.shape == (d.num_edges, 2)
    assert is_undirected(d.edge_index) and not d.has_self_loops() and ds.num_classes == 10
    assert 0.8 * 4 * d.num_nodes < d.num_edges <= 2 * 4 * d.num_nodes
    graphs = FakeDataset(num_graphs=3, avg_num_nodes=30, is_undirected=False,
                         edge_dim=1, generator=1)
    assert len(graphs) == 3 and graphs[2].y.shape == (1,) and graphs[2].edge_weight.ndim == 1


# -- parity with PyG ---------------------------------------------------------------------

def reference_kernel(colptr, row, seed, num_neighbors, disjoint, induced):
    """pyg-lib's CPU `neighbor_sample` for full neighbourhoods, and torch-sparse's induced
    pass, in plain Python: nodes numbered as found, one edge (local neighbour, local
    target, CSC position) per incoming edge of each frontier node."""
    key = (lambda b, v: (b, v)) if disjoint else (lambda b, v: v)
    nodes = [key(i, int(v)) for i, v in enumerate(seed)]
    mapper = {v: i for i, v in enumerate(nodes)}
    rows, cols, edges, num_nodes, num_edges = [], [], [], [len(nodes)], []
    begin, end = 0, len(nodes)
    for _ in num_neighbors:
        count = 0
        for i in range(begin, end):
            b, v = nodes[i] if disjoint else (None, nodes[i])
            for e in range(colptr[v], colptr[v + 1]):
                u = key(b, int(row[e]))
                if u not in mapper:
                    mapper[u] = len(nodes)
                    nodes.append(u)
                if not induced:
                    rows.append(mapper[u])
                    cols.append(i)
                    edges.append(e)
                    count += 1
        num_edges.append(count)
        begin, end = end, len(nodes)
        num_nodes.append(end - begin)
    if induced:
        for i, v in enumerate(nodes):
            for e in range(colptr[v], colptr[v + 1]):
                if int(row[e]) in mapper:
                    rows.append(mapper[int(row[e])])
                    cols.append(i)
                    edges.append(e)
        num_nodes = num_edges = None
    batch = None
    if disjoint:
        batch, nodes = (list(t) for t in zip(*nodes))
    return nodes, rows, cols, edges, batch, num_nodes, num_edges


@pytest.fixture
def pyg_kernel(monkeypatch):
    """PyG's NeighborSampler with `reference_kernel` in place of pyg-lib."""
    def _sample(self, seed, seed_time=None, **kwargs):
        induced = self.subgraph_type == torch_geometric.sampler.base.SubgraphType.induced
        assert all(k == -1 for k in self.num_neighbors.get_mapped_values())
        out = reference_kernel(self.colptr.numpy(), self.row.numpy(), seed.numpy(),
                               self.num_neighbors.get_mapped_values(), self.disjoint, induced)
        t = [None if v is None else torch.tensor(v, dtype=torch.long) for v in out[:5]]
        return torch_geometric.sampler.SamplerOutput(
            node=t[0], row=t[1], col=t[2], edge=t[3], batch=t[4],
            num_sampled_nodes=out[5], num_sampled_edges=out[6])

    monkeypatch.setattr(torch_geometric.sampler.NeighborSampler, "_sample", _sample)


def to_pyg(data):
    return torch_geometric.data.Data(**{k: torch.from_numpy(N(v).copy())
                                        for k, v in data.to_dict().items()})


def assert_same_batch(ours, theirs, skip=()):
    assert ours.keys() == list(theirs.to_dict()), (ours.keys(), list(theirs.to_dict()))
    for key, value in theirs.to_dict().items():
        if key in skip:
            continue
        if isinstance(value, torch.Tensor):
            got = N(ours[key])
            assert got.dtype == value.numpy().dtype, key
            np.testing.assert_array_equal(got, value.numpy(), err_msg=key)
        else:
            assert ours[key] == value, key


@requires_pyg
@pytest.mark.parametrize("options", [
    dict(num_neighbors=[-1, -1]),
    dict(num_neighbors=[-1], input_nodes="mask"),
    dict(num_neighbors=[-1, -1], input_nodes="index", batch_size=5),
    dict(num_neighbors=[-1, -1], disjoint=True),
    dict(num_neighbors=[-1, -1], subgraph_type="induced"),
    dict(num_neighbors=[-1], subgraph_type="bidirectional"),
])
def test_layout_matches_pyg(pyg_kernel, options):
    """Full neighbourhoods on an edge list already sorted by target (is_sorted=True: both
    keep the edge order, so even the order of nodes and edges is fixed): every attribute
    of every batch equal to PyG's, keys in PyG's order."""
    data = make_graph(n=30, e=120, sort=True)
    options = {"batch_size": 4, "is_sorted": True, **options}
    inputs = options.pop("input_nodes", None)
    ours_in = {None: None, "mask": data.train_mask,
               "index": nnlab.Tensor(np.array([9, 2, 17, 2, 25, 4]))}[inputs]
    theirs_in = None if ours_in is None else torch.from_numpy(N(ours_in).copy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = list(torch_geometric.loader.NeighborLoader(to_pyg(data), input_nodes=theirs_in,
                                                            **options))
    ours = list(NeighborLoader(data, input_nodes=ours_in, **options))
    assert len(ours) == len(theirs)
    ei = N(data.edge_index)
    for a, b in zip(ours, theirs):
        if options.get("subgraph_type") != "bidirectional":
            assert_same_batch(a, b)
            continue
        # an edge drawn in both directions is merged; PyG keeps the id of whichever copy
        # its unstable sort puts last: compare the ids' node pairs, unordered
        assert_same_batch(a, b, skip=("e_id", "edge_attr"))
        np.testing.assert_array_equal(np.sort(ei[:, N(a.e_id)], axis=0),
                                      np.sort(ei[:, b.e_id.numpy()], axis=0))
        np.testing.assert_array_equal(N(a.edge_attr), N(data.edge_attr)[N(a.e_id)])


@requires_pyg
def test_node_and_edge_sets_match_pyg_on_unsorted_edges(pyg_kernel):
    """Unsorted edges: PyG's CSC sort may order a node's incoming edges differently, so
    compare the sets of sampled nodes and of sampled edges (global ids) per batch."""
    data = make_graph(n=40, e=200, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = list(torch_geometric.loader.NeighborLoader(to_pyg(data), [-1, -1],
                                                            batch_size=6))
    for a, b in zip(NeighborLoader(data, [-1, -1], batch_size=6), theirs):
        assert set(N(a.n_id).tolist()) == set(b.n_id.tolist())
        np.testing.assert_array_equal(N(a.n_id)[:a.batch_size], b.n_id[:b.batch_size])
        assert sorted(N(a.e_id).tolist()) == sorted(b.e_id.tolist())
        assert a.num_sampled_nodes == b.num_sampled_nodes
        assert a.num_sampled_edges == b.num_sampled_edges
