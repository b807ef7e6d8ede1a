"""Datasets and mini-batch loading with PyTorch's names and behaviour (``torch.utils.data``).

``DataLoader`` takes its indices from a sampler (data/sampler.py) and groups them with a
``BatchSampler``, as PyTorch does. Over a ``TensorDataset`` (or a ``Subset`` of one) with the
default collation it slices whole batches out of the stored arrays, one fancy-indexing call per
tensor, with no per-sample Python work; any other map-style dataset is collated sample by
sample, and an ``IterableDataset`` is read in order and grouped.
"""
from __future__ import annotations

import bisect
import collections.abc
import math
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from ..core.creation import from_numpy
from ..core.tensor import Tensor, as_array
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, rng


class Dataset:
    """Map-style dataset: subclasses define ``__len__`` and ``__getitem__(i)``."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """Stream-style dataset: subclasses define ``__iter__`` (a DataLoader reads it in order)."""

    def __iter__(self) -> Iterator:
        raise NotImplementedError

    def __add__(self, other: IterableDataset) -> ChainDataset:
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Samples are rows of the given tensors (or arrays), which share their first dimension.

    ``dataset[i]`` is a tuple of Tensors, one row of each input."""

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor")
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(np.asarray(t))
                             for t in tensors)
        sizes = [t.shape[0] if t.ndim else None for t in self.tensors]
        if None in sizes or len(set(sizes)) != 1:
            raise ValueError(f"TensorDataset: every tensor needs the same first dimension, got "
                             f"shapes {[tuple(t.shape) for t in self.tensors]}")
        self._arrays = tuple(as_array(t, None, copy=False) for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __getitem__(self, index) -> tuple:
        return tuple(t[index] for t in self.tensors)

    def batch(self, indices: np.ndarray) -> list:
        """Rows ``indices`` of every tensor, as new Tensors: what default_collate would make of
        those samples (a list, as PyTorch's collation of tuples), in one call per tensor."""
        return [from_numpy(a[indices]) for a in self._arrays]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset, self.indices = dataset, indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def batch(self, indices: np.ndarray) -> list:
        """The fast path of the dataset below, when it has one (see ``_batcher``)."""
        return self.dataset.batch(np.asarray(self.indices, dtype=np.int64)[indices])


def _batcher(dataset: Any) -> Callable | None:
    """``dataset.batch`` when it slices whole batches (a TensorDataset, or Subsets of one)."""
    inner = dataset
    while isinstance(inner, Subset):
        inner = inner.dataset
    return dataset.batch if isinstance(inner, TensorDataset) else None


class ConcatDataset(Dataset):
    """The samples of several map-style datasets, one after the other."""

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        if any(isinstance(d, IterableDataset) for d in self.datasets):
            raise TypeError("ConcatDataset does not support IterableDataset (use ChainDataset)")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        n = len(self)
        if index < 0:
            if -index > n:
                raise ValueError(f"ConcatDataset: absolute value of index {index} should not "
                                 f"exceed dataset length {n}")
            index += n
        if index >= n:
            raise IndexError(f"ConcatDataset: index {index} is out of range for {n} samples")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


class ChainDataset(IterableDataset):
    """Several iterable datasets read one after the other."""

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = list(datasets)

    def __iter__(self) -> Iterator:
        for d in self.datasets:
            yield from d

    def __len__(self) -> int:
        return sum(len(d) for d in self.datasets)


def _string_array(a: np.ndarray) -> bool:
    return a.dtype.kind in "USO"


def default_collate(samples: Sequence[Any]) -> Any:
    """PyTorch's default collation: Tensors, arrays and numbers stacked along a new first
    dimension as Tensors (floats as float64, ints as int64), strings kept as a list, and
    mappings, tuples (as a list, as PyTorch) and lists collated element by element."""
    first = samples[0]
    if isinstance(first, collections.abc.Mapping):
        return {k: default_collate([s[k] for s in samples]) for k in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):  # a namedtuple keeps its type
        return type(first)(*(default_collate(list(g)) for g in zip(*samples)))
    if isinstance(first, (str, bytes)):
        return list(samples)
    if isinstance(first, collections.abc.Sequence):
        if any(len(s) != len(first) for s in samples):
            raise RuntimeError("default_collate: each element in list of batch should be of "
                               "equal size")
        return [default_collate(list(g)) for g in zip(*samples)]
    if isinstance(first, (Tensor, np.ndarray)):
        arrays = [as_array(s, None, copy=False) if isinstance(s, Tensor) else np.asarray(s)
                  for s in samples]
        if _string_array(arrays[0]):
            raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, "
                            f"numbers, dicts or lists; found arrays of dtype {arrays[0].dtype}")
        for i, a in enumerate(arrays):
            if a.shape != arrays[0].shape:
                raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                                   f"{list(arrays[0].shape)} at entry 0 and {list(a.shape)} "
                                   f"at entry {i}")
        return from_numpy(np.stack(arrays))
    if isinstance(first, (bool, np.bool_, np.number)):
        return from_numpy(np.array(samples))
    if isinstance(first, float):
        return from_numpy(np.array(samples, dtype=np.float64))
    if isinstance(first, int):
        return from_numpy(np.array(samples, dtype=np.int64))
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {type(first).__name__} (pass collate_fn=)")


def default_convert(sample: Any) -> Any:
    """What an unbatched loader (``batch_size=None``) does to each sample: NumPy arrays become
    Tensors, containers are converted element by element, anything else is left as it is."""
    if isinstance(sample, np.ndarray) and not _string_array(sample):
        return from_numpy(sample)
    if isinstance(sample, collections.abc.Mapping):
        return {k: default_convert(v) for k, v in sample.items()}
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(default_convert(v) for v in sample))
    if isinstance(sample, (tuple, list)):
        return type(sample)(default_convert(v) for v in sample)
    return sample


def _non_negative(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer)) or value < 0:
        raise ValueError(f"DataLoader: {name} option should be non-negative, got {value!r}")


class DataLoader:
    """Iterate over ``dataset`` in mini-batches, with PyTorch's arguments.

    The order comes from ``sampler`` (default: ``SequentialSampler``, or ``RandomSampler``
    when ``shuffle=True``, drawing from ``generator``), grouped by a ``BatchSampler`` of
    ``batch_size`` and ``drop_last`` unless ``batch_sampler`` is given; ``batch_size=None``
    yields single samples. ``generator`` is a NumPy Generator; ``seed=`` (micrograd's own
    keyword) makes one with ``np.random.default_rng(seed)``; with neither, shuffling draws
    from micrograd's global generator (``mg.manual_seed`` makes it repeat). ``num_workers``,
    ``pin_memory`` and the other multiprocessing options are accepted so PyTorch code runs
    unchanged; batches are always made in the calling process.
    """

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | Iterable | None = None,
                 batch_sampler: Sampler | Iterable | None = None, num_workers: int = 0,
                 collate_fn: Callable | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable | None = None, multiprocessing_context: Any = None,
                 generator: np.random.Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True,
                 seed: int | None = None) -> None:
        if batch_size is not None and (isinstance(batch_size, bool)
                                       or not isinstance(batch_size, (int, np.integer))
                                       or batch_size < 1):
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        _non_negative(num_workers, "num_workers")
        _non_negative(timeout, "timeout")
        iterable = isinstance(dataset, IterableDataset)
        if not iterable and not (hasattr(dataset, "__getitem__")
                                 and (hasattr(dataset, "__len__") or sampler is not None
                                      or batch_sampler is not None)):
            raise TypeError(f"DataLoader: dataset must define __len__ and __getitem__ (or be "
                            f"an IterableDataset), got {type(dataset).__name__}")
        if generator is not None and seed is not None:
            raise ValueError("DataLoader: give generator or seed, not both")
        rng(generator)  # type check
        if seed is not None:
            generator = np.random.default_rng(seed)
        if iterable:
            for name, value in (("shuffle", shuffle), ("sampler", sampler),
                                ("batch_sampler", batch_sampler)):
                if value not in (None, False):
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                     f"{name} option, but got {name}={value!r}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and is "
                             "mutually exclusive with drop_last")
        if sampler is None and not iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle \
                else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not iterable:
            batch_sampler = BatchSampler(sampler, batch_size, bool(drop_last))
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, bool(drop_last)
        self.sampler, self.batch_sampler, self.generator = sampler, batch_sampler, generator
        self.collate_fn, self.num_workers = collate_fn, num_workers

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)

    def __iter__(self) -> Iterator:
        if isinstance(self.dataset, IterableDataset):
            yield from self._iter_stream()
            return
        if self.batch_sampler is None:  # no batching: samples one at a time
            convert = self.collate_fn or default_convert
            for i in self.sampler:
                yield convert(self.dataset[i])
            return
        fast = _batcher(self.dataset) if self.collate_fn is None else None
        collate = self.collate_fn or default_collate
        batches = self.batch_sampler._batches() \
            if isinstance(self.batch_sampler, BatchSampler) else iter(self.batch_sampler)
        for idx in batches:
            if fast is not None:
                yield fast(np.asarray(idx, dtype=np.int64))
            else:
                idx = idx.tolist() if isinstance(idx, np.ndarray) else idx
                yield collate([self.dataset[i] for i in idx])

    def _iter_stream(self) -> Iterator:
        if self.batch_size is None:
            convert = self.collate_fn or default_convert
            for sample in self.dataset:
                yield convert(sample)
            return
        collate, batch = self.collate_fn or default_collate, []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield collate(batch)
                batch = []
        if batch and not self.drop_last:
            yield collate(batch)


def random_split(dataset: Any, lengths: Sequence[int | float],
                 generator: np.random.Generator | None = None) -> list[Subset]:
    """Split into non-overlapping ``Subset``s of the given sizes, or of fractions summing to
    1 (``floor(n * f)`` each, the remainder handed out one by one from the first, as PyTorch)."""
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ValueError(f"random_split: fraction at index {i} is not between 0 and 1")
        sizes = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
    else:
        sizes = [int(x) for x in lengths]
    if sum(sizes) != n or any(s < 0 for s in sizes):
        raise ValueError(f"random_split: lengths {list(lengths)} do not add up to the length "
                         f"of the input dataset ({n}), or one is negative")
    order = rng(generator).permutation(n).tolist()
    bounds = np.cumsum([0] + sizes).tolist()
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


def train_test_split(*arrays: np.ndarray, test_size: float = 0.25, shuffle: bool = True,
                     stratify: np.ndarray | None = None,
                     random_state: Any = None) -> list[np.ndarray]:
    """Split arrays into train and test rows (scikit-learn's signature, NumPy only).

    Returns ``[a_train, a_test, b_train, b_test, ...]``. ``test_size`` is a fraction in (0, 1)
    or a row count; ``stratify`` keeps class proportions in both parts."""
    if not arrays:
        raise ValueError("train_test_split: give at least one array")
    arrays = tuple(np.asarray(a) for a in arrays)
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ValueError(f"train_test_split: arrays have different lengths "
                         f"{[len(a) for a in arrays]}")
    n_test = int(np.ceil(test_size * n)) if isinstance(test_size, float) else int(test_size)
    if not 0 < n_test < n:
        raise ValueError(f"train_test_split: test_size={test_size!r} leaves an empty part "
                         f"of {n} rows")
    rng = np.random.default_rng(random_state) if not isinstance(
        random_state, np.random.Generator) else random_state
    if not shuffle:
        test = np.arange(n - n_test, n)
    elif stratify is None:
        test = rng.permutation(n)[:n_test]
    else:  # take each class's share of the test rows, rounding so the total is n_test
        classes, y = np.unique(np.asarray(stratify), return_inverse=True)
        counts = np.bincount(y)
        share = counts * n_test / n
        take = np.floor(share).astype(int)
        for c in np.argsort(-(share - take))[: n_test - take.sum()]:
            take[c] += 1
        test = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:take[c]]
                               for c in range(len(classes))])
    mask = np.zeros(n, bool)
    mask[test] = True
    train_idx, test_idx = np.flatnonzero(~mask), np.flatnonzero(mask)
    if shuffle:
        train_idx, test_idx = rng.permutation(train_idx), rng.permutation(test_idx)
    return [part for a in arrays for part in (a[train_idx], a[test_idx])]
