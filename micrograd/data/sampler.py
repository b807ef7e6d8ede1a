"""Samplers with PyTorch's names and behaviour: which indices a ``DataLoader`` visits, in
which order, and how they are grouped into batches.

Random draws come from ``generator`` (a NumPy ``Generator``) or, when it is None, from
micrograd's global generator at the time of each epoch, so ``mg.manual_seed`` makes them
repeat. The streams are NumPy's, not PyTorch's: the same seed gives other orders than torch
(docs/pytorch-differences.md).

The built-in samplers draw a whole epoch as one index array (``_epoch()``); ``BatchSampler``
slices that array, so batching a large dataset costs no Python work per sample.
"""
from __future__ import annotations

from typing import Any, Iterator, Sequence

import numpy as np

from ..core import random as mg_random
from ..core.tensor import Tensor, as_array


def rng(generator: np.random.Generator | None) -> np.random.Generator:
    """The generator to draw from: ``generator``, or micrograd's global one when None."""
    if generator is None:
        return mg_random.generator()
    if not isinstance(generator, np.random.Generator):
        raise TypeError(f"generator must be a numpy.random.Generator or None, got "
                        f"{type(generator).__name__}")
    return generator


def _positive_int(value: Any, name: str, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{owner}: {name} should be a positive integer value, but got "
                         f"{name}={value!r}")
    return int(value)


def _boolean(value: Any, name: str, owner: str, error: type = TypeError) -> bool:
    if not isinstance(value, bool):
        raise error(f"{owner}: {name} should be a boolean value, but got {name}={value!r}")
    return value


class Sampler:
    """Base class: subclasses define ``__iter__`` (indices) and usually ``__len__``."""

    def __init__(self, data_source: Any = None) -> None:
        pass

    def __iter__(self) -> Iterator:
        raise NotImplementedError

    def _epoch(self) -> np.ndarray:
        """One epoch's indices as an int64 array (the built-in samplers)."""
        raise NotImplementedError


class _ArraySampler(Sampler):
    """A sampler whose epoch is an index array: iterating yields its Python ints."""

    def __iter__(self) -> Iterator[int]:
        return iter(self._epoch().tolist())


class SequentialSampler(_ArraySampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source: Any) -> None:
        self.data_source = data_source

    def __len__(self) -> int:
        return len(self.data_source)

    def _epoch(self) -> np.ndarray:
        return np.arange(len(self.data_source))


class RandomSampler(_ArraySampler):
    """A new random order each epoch: a permutation (repeated until ``num_samples`` indices
    when that exceeds the dataset), or ``num_samples`` draws with replacement."""

    def __init__(self, data_source: Any, replacement: bool = False,
                 num_samples: int | None = None,
                 generator: np.random.Generator | None = None) -> None:
        self.data_source, self.generator = data_source, generator
        self.replacement = _boolean(replacement, "replacement", "RandomSampler")
        self._num_samples = None if num_samples is None else \
            _positive_int(num_samples, "num_samples", "RandomSampler")
        rng(generator)  # type check now, not at the first epoch

    @property
    def num_samples(self) -> int:
        """How many indices one epoch yields: ``num_samples`` if given, else the dataset's
        length."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __len__(self) -> int:
        return self.num_samples

    def _epoch(self) -> np.ndarray:
        n, k, g = len(self.data_source), self.num_samples, rng(self.generator)
        if self.replacement:
            return g.integers(0, n, size=k, dtype=np.int64)
        whole, rest = divmod(k, n) if n else (0, 0)
        parts = [g.permutation(n) for _ in range(whole)] + ([g.permutation(n)[:rest]] if rest
                                                            else [])
        return np.concatenate(parts).astype(np.int64) if parts else np.arange(0)


class SubsetRandomSampler(_ArraySampler):
    """The given ``indices``, in a new random order each epoch."""

    def __init__(self, indices: Sequence[int],
                 generator: np.random.Generator | None = None) -> None:
        self.indices, self.generator = indices, generator
        rng(generator)

    def __len__(self) -> int:
        return len(self.indices)

    def _epoch(self) -> np.ndarray:
        order = rng(self.generator).permutation(len(self.indices))
        return np.asarray(self.indices, dtype=np.int64).reshape(-1)[order]


class WeightedRandomSampler(_ArraySampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``."""

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator: np.random.Generator | None = None) -> None:
        self.num_samples = _positive_int(num_samples, "num_samples", "WeightedRandomSampler")
        self.replacement = _boolean(replacement, "replacement", "WeightedRandomSampler")
        weights = np.asarray(as_array(weights, None, copy=False)
                             if isinstance(weights, Tensor) else weights, dtype=np.float64)
        if weights.ndim != 1:
            raise ValueError(f"WeightedRandomSampler: weights should be a 1d sequence but given "
                             f"weights have shape {tuple(weights.shape)}")
        self.weights, self.generator = weights, generator
        rng(generator)

    def __len__(self) -> int:
        return self.num_samples

    def _epoch(self) -> np.ndarray:
        w = self.weights
        if not np.all(np.isfinite(w)) or np.any(w < 0) or not w.sum() > 0:
            raise RuntimeError("WeightedRandomSampler: invalid multinomial distribution "
                               "(weights must be finite, non-negative, with a positive sum)")
        if not self.replacement and self.num_samples > np.count_nonzero(w):
            raise RuntimeError(f"WeightedRandomSampler: cannot sample {self.num_samples} "
                               f"indices without replacement from {np.count_nonzero(w)} "
                               "non-zero weights")
        return rng(self.generator).choice(len(w), size=self.num_samples,
                                          replace=self.replacement, p=w / w.sum())


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter,
    or dropped when ``drop_last``)."""

    def __init__(self, sampler: Any, batch_size: int, drop_last: bool) -> None:
        self.batch_size = _positive_int(batch_size, "batch_size", "BatchSampler")
        self.drop_last = _boolean(drop_last, "drop_last", "BatchSampler", ValueError)
        self.sampler = sampler

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[list]:
        for batch in self._batches():
            yield batch.tolist() if isinstance(batch, np.ndarray) else batch

    def _batches(self) -> Iterator:
        """The batches: index arrays sliced from the epoch of a built-in sampler, else lists."""
        step = self.batch_size
        if isinstance(self.sampler, _ArraySampler):
            order = self.sampler._epoch()
            stop = len(order) - len(order) % step if self.drop_last else len(order)
            for start in range(0, stop, step):
                yield order[start:start + step]
            return
        batch: list = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == step:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch
