"""Graph data sets: Planetoid's citation graphs and synthetic graphs."""
from .planetoid import Planetoid
from .synthetic import (
    FakeDataset,
    StochasticBlockModelDataset,
    random_graph,
    tree_neighbours_match,
    wl_hard_graphs,
)
