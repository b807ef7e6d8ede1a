"""Data: offline data sets (toy generators, shipped UCI digits) and mini-batch loading."""
from .datasets import (Bunch, load_digits, make_blobs, make_circles, make_moons, make_regression,
                       make_spirals)
from .loader import (DataLoader, Dataset, Subset, TensorDataset, default_collate, random_split,
                     train_test_split)

__all__ = ["make_moons", "make_circles", "make_blobs", "make_spirals", "make_regression",
           "load_digits", "Bunch", "Dataset", "TensorDataset", "DataLoader", "Subset",
           "default_collate", "random_split", "train_test_split"]
