"""Floor 6: graph neural networks with PyTorch Geometric's names (PyG 2.8).

    nnlab.graph.Data, Batch          graphs: x (N, F), edge_index (2, E), edge_attr, y, ...
    nnlab.graph.loader.DataLoader    lists of graphs as Batches
    nnlab.graph.utils                add_self_loops, degree, softmax over segments, ...
    nnlab.graph.nn                   MessagePassing, GCNConv, GATConv, ..., global pools
    nnlab.graph.datasets             Planetoid (Cora, CiteSeer) and synthetic graphs

Builds on nn and ops only; no other domain package imports it or is imported by it.
"""
from .batch import Batch
from .data import Data
