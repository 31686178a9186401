"""Graph layers (torch_geometric.nn's names, arguments and state_dict keys)."""
from . import models
from .conv import GATConv, GATv2Conv, GCNConv, GINConv, GINEConv, GraphConv, RGCNConv, SAGEConv
from .message_passing import MessagePassing
from .models import MLP, BatchNorm
from .pool import global_add_pool, global_max_pool, global_mean_pool

__all__ = ["BatchNorm", "GATConv", "GATv2Conv", "GCNConv", "GINConv", "GINEConv", "GraphConv",
           "MLP", "MessagePassing", "RGCNConv", "SAGEConv", "global_add_pool",
           "global_max_pool", "global_mean_pool", "models"]
