"""``torch.utils.data`` under micrograd: the very objects of ``micrograd.data`` (one
implementation; ``micrograd.utils.data.DataLoader is micrograd.data.DataLoader``), and
``micrograd.utils.data.distributed`` is ``micrograd.data.distributed`` (torch's path to
``DistributedSampler``)."""
import sys

from ..data import distributed
from ..data.distributed import DistributedSampler
from ..data.loader import (ChainDataset, ConcatDataset, DataLoader, Dataset, IterableDataset,
                           Subset, TensorDataset, default_collate, default_convert, random_split)
from ..data.sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                            SubsetRandomSampler, WeightedRandomSampler)

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "ConcatDataset", "ChainDataset",
           "Subset", "DataLoader", "default_collate", "default_convert", "random_split",
           "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler", "DistributedSampler"]

sys.modules[__name__ + ".distributed"] = distributed
