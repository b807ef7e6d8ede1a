"""``DistributedSampler``: each rank of a data-parallel job reads its own share of a dataset,
with PyTorch's arguments and index arithmetic (``torch.utils.data.DistributedSampler``).

Every rank draws the same permutation (seeded by ``seed + epoch``, so call ``set_epoch`` at
the start of each epoch), pads it by repeating its start until it divides evenly (or, with
``drop_last``, cuts the tail), and takes every ``num_replicas``-th index from position
``rank``. So step k's batches of all ranks together are one contiguous slice of that
permutation: the batch a single process would take with ``batch_size * num_replicas``.
The permutation is NumPy's (``np.random.default_rng(seed + epoch)``), not torch's.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import distributed as dist
from .sampler import _ArraySampler


class DistributedSampler(_ArraySampler):
    """The indices of ``dataset`` that rank ``rank`` of ``num_replicas`` reads (both default
    to the process group's); all ranks get ``len(self)`` indices."""

    def __init__(self, dataset: Any, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None:
            num_replicas = dist.get_world_size()
        if rank is None:
            rank = dist.get_rank()
        for name, value in (("num_replicas", num_replicas), ("rank", rank), ("seed", seed)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"DistributedSampler: {name} must be an int, got "
                                f"{type(value).__name__}")
        if num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be positive, got "
                             f"{num_replicas}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, int(num_replicas), int(rank)
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)  # truthy, as torch
        self.seed, self.epoch = int(seed), 0
        n = len(dataset)
        if self.drop_last and n % self.num_replicas:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """The epoch seeds the shuffle: call it before each epoch, on every rank."""
        self.epoch = epoch

    def _epoch(self) -> np.ndarray:
        n = len(self.dataset)
        if self.shuffle:
            order = np.random.default_rng(self.seed + self.epoch).permutation(n)
        else:
            order = np.arange(n)
        if self.total_size > n:  # pad by repeating the start (the whole order, as often as needed)
            order = np.resize(order, self.total_size)
        return order[self.rank:self.total_size:self.num_replicas].astype(np.int64)
