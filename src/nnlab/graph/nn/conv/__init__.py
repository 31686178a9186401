"""Graph convolution layers, one module each (torch_geometric.nn.conv's names)."""
from .gat_conv import GATConv
from .gatv2_conv import GATv2Conv
from .gcn_conv import GCNConv, gcn_norm
from .gin_conv import GINConv, GINEConv
from .graph_conv import GraphConv
from .rgcn_conv import RGCNConv
from .sage_conv import SAGEConv

__all__ = ["GATConv", "GATv2Conv", "GCNConv", "GINConv", "GINEConv", "GraphConv",
           "RGCNConv", "SAGEConv", "gcn_norm"]
