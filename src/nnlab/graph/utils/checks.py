"""Yes / no questions about an edge list: `contains_self_loops`, `contains_isolated_nodes`
(torch_geometric.utils')."""
from ._tensor import edge_array, maybe_num_nodes, xp_of


def contains_self_loops(edge_index):
    """True when some edge (i, i) joins a node to itself."""
    ei = edge_array(edge_index, "contains_self_loops")
    return bool((ei[0] == ei[1]).any())


def contains_isolated_nodes(edge_index, num_nodes=None):
    """True when some node of the `num_nodes` (default: max index + 1) is in no edge
    other than a self-loop."""
    ei = edge_array(edge_index, "contains_isolated_nodes")
    n = maybe_num_nodes(ei, num_nodes)
    kept = ei[:, ei[0] != ei[1]]
    xp = xp_of(ei)
    return int(xp.unique(kept.reshape(-1)).shape[0]) < n
