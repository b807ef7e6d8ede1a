"""Data: offline data sets (toy generators, shipped UCI digits) and mini-batch loading with
PyTorch's names (also importable as ``micrograd.utils.data``)."""
from .datasets import (Bunch, load_digits, make_blobs, make_circles, make_moons, make_regression,
                       make_spirals)
from .loader import (ChainDataset, ConcatDataset, DataLoader, Dataset, IterableDataset, Subset,
                     TensorDataset, default_collate, default_convert, random_split,
                     train_test_split)
from .distributed import DistributedSampler
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                      SubsetRandomSampler, WeightedRandomSampler)

__all__ = ["make_moons", "make_circles", "make_blobs", "make_spirals", "make_regression",
           "load_digits", "Bunch", "Dataset", "IterableDataset", "TensorDataset",
           "ConcatDataset", "ChainDataset", "Subset", "DataLoader", "default_collate",
           "default_convert", "random_split", "train_test_split", "Sampler",
           "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler", "DistributedSampler"]
