"""What GATConv and GATv2Conv share: self-loop handling, the finishing of the attention
scores (LeakyReLU is the caller's, then the segment softmax and dropout), and the output:
the heads' concatenation or mean, the residual and the bias."""
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


def finish(layer, out, res, edge_index, alpha, return_attention_weights):
    """A GAT layer's output from its per-head messages out (N, H, C): (N, H * C) when
    layer.concat, else the mean over heads (N, C); plus the residual res and the bias;
    with return_attention_weights, (output, (edge_index, alpha))."""
    heads, channels = layer.heads, layer.out_channels
    out = out.reshape(-1, heads * channels) if layer.concat else out.mean(dim=1)
    if res is not None:
        out = out + res
    if layer.bias is not None:
        out = out + layer.bias
    return (out, (edge_index, alpha)) if return_attention_weights else out
