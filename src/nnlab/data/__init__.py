"""Floor 5: data. Map-style datasets, the `DataLoader` that batches them, and the readers
and synthetic sets in `datasets`."""
from . import datasets
from .dataloader import DataLoader, default_collate, default_convert
from .dataset import Dataset, Subset, TensorDataset, random_split

__all__ = ["DataLoader", "Dataset", "Subset", "TensorDataset", "datasets", "default_collate",
           "default_convert", "random_split"]
