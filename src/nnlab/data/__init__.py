"""Floor 5: data. Map-style datasets, the samplers and the `DataLoader` that batches them,
the readers and synthetic sets in `datasets`, and a user's own files: `CSVDataset` (CSV,
TSV, NPZ) and `ImageFolder` (class folders of images, with Pillow)."""
from . import datasets
from .dataloader import DataLoader, default_collate, default_convert
from .dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from .image_folder import ImageFolder
from .sampler import (
                      BatchSampler,
                      DistributedSampler,
                      RandomSampler,
                      Sampler,
                      SequentialSampler,
                      SubsetRandomSampler,
                      WeightedRandomSampler,
)
from .tabular import CSVDataset

__all__ = ["BatchSampler", "CSVDataset", "ConcatDataset", "DataLoader", "Dataset",
           "DistributedSampler", "ImageFolder",
           "RandomSampler", "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler",
           "TensorDataset", "WeightedRandomSampler", "datasets", "default_collate",
           "default_convert", "random_split"]
