"""Graph utilities (torch_geometric.utils' names and arguments)."""
from ._tensor import maybe_num_nodes
from .checks import contains_isolated_nodes, contains_self_loops
from .coalesce import coalesce, sort_edge_index
from .degree import degree
from .dense import to_dense_adj
from .dropout import dropout_edge
from .link_split import RandomLinkSplit
from .loop import add_remaining_self_loops, add_self_loops, remove_self_loops
from .mask import index_to_mask, mask_to_index
from .negative_sampling import negative_sampling
from .random import stochastic_blockmodel_graph
from .scatter import scatter
from .softmax import softmax
from .split import train_test_split_edges
from .subgraph import k_hop_subgraph, subgraph
from .undirected import is_undirected, to_undirected
