"""Floor 5: data. Map-style and iterable datasets, the samplers and the `DataLoader` that
batches them, the readers and synthetic sets in `datasets`, and a user's own files:
`CSVDataset` (CSV, TSV, NPZ) and `ImageFolder` (class folders of images, with Pillow)."""
from . import datasets
from .dataloader import DataLoader, default_collate, default_convert, get_worker_info
from .dataset import (
                      ChainDataset,
                      ConcatDataset,
                      Dataset,
                      IterableDataset,
                      StackDataset,
                      Subset,
                      TensorDataset,
                      random_split,
)
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

__all__ = ["BatchSampler", "CSVDataset", "ChainDataset", "ConcatDataset", "DataLoader",
           "Dataset", "DistributedSampler", "ImageFolder", "IterableDataset",
           "RandomSampler", "Sampler", "SequentialSampler", "StackDataset", "Subset",
           "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler", "datasets",
           "default_collate", "default_convert", "get_worker_info", "random_split"]
