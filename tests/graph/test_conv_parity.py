"""Every graph layer against PyG 2.8 on a random graph with PyG's weights copied in:
outputs and gradients (x, edge weights / attributes, every parameter), each aggregation,
with and without self-loops and edge weights / attributes; the layers with a sparse
product path run it (fuse=True) and the composed gather + segment-sum path (fuse=False)."""
import numpy as np
import pytest

from tests.graph.pyg_oracle import check_parity, random_graph, requires_pyg

pytestmark = requires_pyg

N, E, F_IN, F_OUT, D = 7, 18, 5, 4, 3
RNG = np.random.default_rng(0)
X = RNG.standard_normal((N, F_IN))
X4 = RNG.standard_normal((N, F_OUT))
EDGES = random_graph(N, E, seed=0)
EDGES_NO_LOOPS = random_graph(N, E, seed=1, loops=False)
WEIGHT = RNG.uniform(0.5, 1.5, E)
ATTR = RNG.standard_normal((E, D))
ATTR_IN = RNG.standard_normal((E, F_IN))
TYPES = RNG.integers(0, 3, E)
SRC, DST = RNG.standard_normal((N, F_IN)), RNG.standard_normal((4, 3))
BIPARTITE = np.stack([RNG.integers(0, N, 12), RNG.integers(0, 4, 12)])   # N sources -> 4


def graph(edges=EDGES, **extra):
    return dict(x=X, edge_index=edges, **extra)


# (id, build(G, nn), forward inputs, has a sparse path)
CASES = [
    ("gcn", lambda G, nn: G.GCNConv(F_IN, F_OUT), graph(), True),
    ("gcn-weighted", lambda G, nn: G.GCNConv(F_IN, F_OUT), graph(edge_weight=WEIGHT), True),
    ("gcn-improved-cached", lambda G, nn: G.GCNConv(F_IN, F_OUT, improved=True, cached=True),
     graph(edge_weight=WEIGHT), True),
    ("gcn-no-loops", lambda G, nn: G.GCNConv(F_IN, F_OUT, add_self_loops=False),
     graph(EDGES_NO_LOOPS), True),
    ("gcn-unnormalized", lambda G, nn: G.GCNConv(F_IN, F_OUT, add_self_loops=False,
                                                 normalize=False, bias=False),
     graph(edge_weight=WEIGHT), True),
    ("gcn-target-to-source", lambda G, nn: G.GCNConv(F_IN, F_OUT, flow="target_to_source"),
     graph(), True),
    ("gat", lambda G, nn: G.GATConv(F_IN, F_OUT), graph(), False),
    ("gat-heads", lambda G, nn: G.GATConv(F_IN, F_OUT, heads=3, negative_slope=0.1),
     graph(), False),
    ("gat-heads-mean", lambda G, nn: G.GATConv(F_IN, F_OUT, heads=2, concat=False),
     graph(), False),
    ("gat-no-loops", lambda G, nn: G.GATConv(F_IN, F_OUT, heads=2, add_self_loops=False),
     graph(), False),
    ("gat-edge-attr", lambda G, nn: G.GATConv(F_IN, F_OUT, heads=2, edge_dim=D),
     graph(edge_attr=ATTR), False),
    ("gat-edge-attr-fill", lambda G, nn: G.GATConv(F_IN, F_OUT, edge_dim=D, fill_value=0.5),
     graph(edge_attr=ATTR), False),
    ("gat-residual", lambda G, nn: G.GATConv(F_IN, F_OUT, heads=2, residual=True,
                                             bias=False), graph(), False),
    ("gatv2", lambda G, nn: G.GATv2Conv(F_IN, F_OUT, heads=2), graph(), False),
    ("gatv2-shared-mean", lambda G, nn: G.GATv2Conv(F_IN, F_OUT, heads=2, concat=False,
                                                    share_weights=True), graph(), False),
    ("gatv2-edge-attr", lambda G, nn: G.GATv2Conv(F_IN, F_OUT, heads=2, edge_dim=D,
                                                  add_self_loops=False),
     graph(edge_attr=ATTR), False),
    ("gin", lambda G, nn: G.GINConv(nn.Linear(F_IN, F_OUT)), graph(), True),
    ("gin-train-eps", lambda G, nn: G.GINConv(nn.Sequential(nn.Linear(F_IN, 6), nn.ReLU(),
                                                            nn.Linear(6, F_OUT)),
                                              eps=0.3, train_eps=True), graph(), True),
    ("gine", lambda G, nn: G.GINEConv(nn.Linear(F_IN, F_OUT), train_eps=True),
     graph(edge_attr=ATTR_IN), False),
    ("gine-edge-dim", lambda G, nn: G.GINEConv(nn.Sequential(nn.Linear(F_IN, F_OUT)),
                                               edge_dim=D), graph(edge_attr=ATTR), False),
    ("sage-mean", lambda G, nn: G.SAGEConv(F_IN, F_OUT), graph(), True),
    ("sage-sum", lambda G, nn: G.SAGEConv(F_IN, F_OUT, aggr="sum"), graph(), True),
    ("sage-max", lambda G, nn: G.SAGEConv(F_IN, F_OUT, aggr="max"), graph(), False),
    ("sage-min-no-root", lambda G, nn: G.SAGEConv(F_IN, F_OUT, aggr="min",
                                                  root_weight=False), graph(), False),
    ("sage-normalize-project", lambda G, nn: G.SAGEConv(F_IN, F_OUT, normalize=True,
                                                        project=True), graph(), True),
    ("graphconv", lambda G, nn: G.GraphConv(F_IN, F_OUT), graph(edge_weight=WEIGHT), True),
    ("graphconv-mean", lambda G, nn: G.GraphConv(F_IN, F_OUT, aggr="mean"), graph(), True),
    ("graphconv-max", lambda G, nn: G.GraphConv(F_IN, F_OUT, aggr="max"),
     graph(edge_weight=WEIGHT), False),
    ("rgcn", lambda G, nn: G.RGCNConv(F_IN, F_OUT, 3), graph(edge_type=TYPES), True),
    ("rgcn-bases", lambda G, nn: G.RGCNConv(F_IN, F_OUT, 3, num_bases=2),
     graph(edge_type=TYPES), True),
    ("rgcn-blocks", lambda G, nn: G.RGCNConv(F_OUT, F_OUT, 3, num_blocks=2),
     dict(x=X4, edge_index=EDGES, edge_type=TYPES), True),
    ("rgcn-add-no-root", lambda G, nn: G.RGCNConv(F_IN, F_OUT, 3, aggr="add",
                                                  root_weight=False),
     graph(edge_type=TYPES), True),
    ("rgcn-max", lambda G, nn: G.RGCNConv(F_IN, F_OUT, 3, aggr="max"),
     graph(edge_type=TYPES), False),
    ("rgcn-featureless", lambda G, nn: G.RGCNConv(N, F_OUT, 3, num_bases=2),
     dict(x=None, edge_index=EDGES, edge_type=TYPES), True),
    ("sage-bipartite", lambda G, nn: G.SAGEConv((F_IN, 3), F_OUT),
     dict(x=(SRC, DST), edge_index=BIPARTITE), True),
    ("graphconv-bipartite", lambda G, nn: G.GraphConv((F_IN, 3), F_OUT),
     dict(x=(SRC, DST), edge_index=BIPARTITE), True),
    ("gat-bipartite", lambda G, nn: G.GATConv((F_IN, 3), F_OUT, heads=2,
                                              add_self_loops=False),
     dict(x=(SRC, DST), edge_index=BIPARTITE), False),
    ("gatv2-bipartite", lambda G, nn: G.GATv2Conv((F_IN, 3), F_OUT, heads=2,
                                                  add_self_loops=False),
     dict(x=(SRC, DST), edge_index=BIPARTITE), False),
]
PARAMS = [pytest.param(build, inputs, fuse, id=f"{name}-{'sparse' if fuse else 'gather'}")
          for name, build, inputs, sparse in CASES for fuse in ((True, False) if sparse
                                                                 else (None,))]


@pytest.mark.parametrize("build, inputs, fuse", PARAMS)
def test_layer_matches_pyg(build, inputs, fuse):
    check_parity(build, inputs, fuse=fuse)


@pytest.mark.parametrize("name", ["gcn-weighted", "gat-edge-attr", "sage-max", "rgcn-bases"])
def test_layer_matches_pyg_in_float32(name):
    _, build, inputs, _ = next(c for c in CASES if c[0] == name)
    check_parity(build, inputs, dtype=np.float32)
