"""What GATConv and GATv2Conv share: self-loop handling, the finishing of the attention
scores (LeakyReLU is the caller's, then the segment softmax and dropout), and the heads'
concatenation or mean."""
from ....nn import functional as F
from ...utils.loop import add_self_loops, remove_self_loops
from ...utils.softmax import softmax


def with_self_loops(edge_index, edge_attr, fill_value, num_nodes):
    """Existing loops replaced by one loop per node (attributes by fill_value)."""
    edge_index, edge_attr = remove_self_loops(edge_index, edge_attr)
    return add_self_loops(edge_index, edge_attr, fill_value=fill_value, num_nodes=num_nodes)


def attention(scores, index, ptr, dim_size, dropout, training):
    """(E, H) scores -> (E, H) coefficients: softmax over each target's in-edges, then
    dropout (nnlab's generator: deterministic given the seed)."""
    alpha = softmax(scores, index, ptr, dim_size)
    return F.dropout(alpha, p=dropout, training=training)


def combine_heads(out, heads, out_channels, concat):
    """(N, H, C) -> (N, H * C) when concat, else the mean over heads (N, C)."""
    return out.reshape(-1, heads * out_channels) if concat else out.mean(dim=1)
