"""Graph transforms (torch_geometric.transforms' names)."""
from .utils.link_split import RandomLinkSplit

__all__ = ["RandomLinkSplit"]
