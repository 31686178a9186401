"""`subgraph` and `k_hop_subgraph` (torch_geometric.utils'): the edges among a set of nodes,
and the nodes within k hops of some nodes with the edges among them."""
import numpy as np

from ...autograd.tensor import Tensor
from ._tensor import array, edge_array, index_tensor, maybe_num_nodes, take, xp_of


def _node_mask(subset, num_nodes, xp):
    """(bool mask (N,), subset as indices) from indices, a list, or a bool mask."""
    sub = array(subset) if not isinstance(subset, (list, tuple)) else np.asarray(subset,
                                                                                 np.int64)
    if sub.dtype == bool:
        return sub, xp.flatnonzero(sub)
    sub = sub.astype(np.int64, copy=False).reshape(-1)
    mask = xp.zeros(num_nodes, dtype=bool)
    mask[sub] = True
    return mask, sub


def subgraph(subset, edge_index, edge_attr=None, relabel_nodes=False, num_nodes=None, *,
             return_edge_mask=False):
    """The edges whose two ends are both in `subset` (node indices, a list, or a bool mask
    of length N), with their `edge_attr` rows. With `relabel_nodes=True` the nodes are
    renumbered 0..|subset|-1 by their position in `subset` (a mask: ascending), as PyG's
    map_index. Returns (edge_index,
    edge_attr), and the edge mask (E,) too with `return_edge_mask=True`."""
    ei = edge_array(edge_index, "subgraph")
    xp = xp_of(ei)
    sub = array(subset) if not isinstance(subset, (list, tuple)) else None
    n = (sub.shape[0] if sub is not None and sub.dtype == bool
         else maybe_num_nodes(ei, num_nodes))
    node_mask, nodes = _node_mask(subset, n, xp)
    edge_mask = node_mask[ei[0]] & node_mask[ei[1]]
    kept = ei[:, edge_mask]
    if relabel_nodes:
        mapping = xp.full(max(n, 1), -1, dtype=np.int64)
        mapping[nodes] = xp.arange(nodes.shape[0])
        kept = mapping[kept]
    out = (index_tensor(kept), take(edge_attr, xp.flatnonzero(edge_mask)))
    return out + (Tensor(edge_mask),) if return_edge_mask else out


def k_hop_subgraph(node_idx, num_hops, edge_index, relabel_nodes=False, num_nodes=None,
                   flow="source_to_target", directed=False):
    """The nodes that reach `node_idx` in at most `num_hops` hops (flow 'source_to_target':
    messages flow along edge_index[0] -> edge_index[1], so the sources of edges into the
    set are added each hop; 'target_to_source' walks the other way), the edges among them
    (with `directed=True` only the edges walked), where `node_idx` sits in the new
    numbering, and the edge mask. Returns (subset (K,), edge_index (2, E'), mapping
    (len(node_idx),), edge_mask (E,)); `relabel_nodes=True` renumbers edge_index to
    0..K-1. One vectorised pass per hop, as PyG's."""
    if flow not in ("source_to_target", "target_to_source"):
        raise ValueError(f"k_hop_subgraph: flow must be 'source_to_target' or "
                         f"'target_to_source'; got {flow!r}")
    ei = edge_array(edge_index, "k_hop_subgraph")
    xp = xp_of(ei)
    n = maybe_num_nodes(ei, num_nodes)
    row, col = (ei[0], ei[1]) if flow == "target_to_source" else (ei[1], ei[0])
    seeds = array(node_idx) if not isinstance(node_idx, (int, list, tuple)) else None
    seeds = (np.asarray([node_idx] if isinstance(node_idx, int) else node_idx, np.int64)
             if seeds is None else seeds.astype(np.int64, copy=False).reshape(-1))
    subsets, walked = [seeds], xp.zeros(row.shape[0], dtype=bool)
    node_mask = xp.zeros(n, dtype=bool)
    for _ in range(num_hops):
        node_mask[:] = False
        node_mask[subsets[-1]] = True
        edge_mask = node_mask[row]
        walked |= edge_mask
        subsets.append(col[edge_mask])
    subset, inverse = xp.unique(xp.concatenate(subsets), return_inverse=True)
    inverse = inverse.reshape(-1)[:seeds.shape[0]]
    node_mask[:] = False
    node_mask[subset] = True
    edge_mask = walked if directed else node_mask[row] & node_mask[col]
    kept = ei[:, edge_mask]
    if relabel_nodes:
        mapping = xp.full(n, -1, dtype=np.int64)
        mapping[subset] = xp.arange(subset.shape[0])
        kept = mapping[kept]
    return index_tensor(subset), index_tensor(kept), index_tensor(inverse), Tensor(edge_mask)
