"""Datasets and mini-batch loading with PyTorch's names: ``TensorDataset``, ``DataLoader``.

``DataLoader`` over a ``TensorDataset`` slices whole batches out of the stored arrays with one
fancy-indexing call per tensor (no per-sample Python work); any other map-style dataset (with
``__len__`` and ``__getitem__``) is collated sample by sample, as in PyTorch.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence

import numpy as np


def _tensor_type():
    from ..core.tensor import Tensor
    return Tensor


def _as_array(x: Any) -> np.ndarray:
    Tensor = _tensor_type()
    return x._array if isinstance(x, Tensor) else np.asarray(x)


class Dataset:
    """Map-style dataset: subclasses define ``__len__`` and ``__getitem__(i)``."""

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError


class TensorDataset(Dataset):
    """Samples are rows of the given tensors (or arrays), which share their first dimension.

    ``dataset[i]`` is a tuple of Tensors, one row of each input."""

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor")
        Tensor = _tensor_type()
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(np.asarray(t))
                             for t in tensors)
        sizes = [t.shape[0] if t.ndim else None for t in self.tensors]
        if None in sizes or len(set(sizes)) != 1:
            raise ValueError(f"TensorDataset: every tensor needs the same first dimension, got "
                             f"shapes {[tuple(t.shape) for t in self.tensors]}")
        self._arrays = tuple(t._array for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __getitem__(self, index) -> tuple:
        return tuple(t[index] for t in self.tensors)

    def batch(self, indices: np.ndarray) -> tuple:
        """Rows ``indices`` of every tensor, as new Tensors (the DataLoader fast path)."""
        from ..core.creation import from_numpy
        return tuple(from_numpy(a[indices]) for a in self._arrays)


def default_collate(samples: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch: tuples/lists/dicts element-wise, numbers and
    arrays/tensors along a new first dimension (as Tensors)."""
    Tensor = _tensor_type()
    first = samples[0]
    if isinstance(first, (tuple, list)):
        return type(first)(default_collate(list(group)) for group in zip(*samples)) \
            if isinstance(first, tuple) else [default_collate(list(g)) for g in zip(*samples)]
    if isinstance(first, dict):
        return {k: default_collate([s[k] for s in samples]) for k in first}
    if isinstance(first, (Tensor, np.ndarray, int, float, np.number, bool)):
        return Tensor(np.stack([_as_array(s) for s in samples]))
    if isinstance(first, str):
        return list(samples)
    raise TypeError(f"default_collate: cannot batch samples of type {type(first).__name__}; "
                    f"pass collate_fn=")


class DataLoader:
    """Iterate over ``dataset`` in mini-batches.

    ``shuffle=True`` draws a new order every epoch from ``generator`` (a NumPy Generator), or
    from ``np.random.default_rng(seed)`` made once when ``seed`` is given, or else from
    micrograd's global generator (``mg.manual_seed`` makes it repeat). ``drop_last`` skips a
    final short batch. ``num_workers`` and ``pin_memory`` are accepted so PyTorch code runs
    unchanged; batches are always made in the calling process (they are array slices, cheap).
    """

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool = False,
                 drop_last: bool = False, generator: np.random.Generator | None = None,
                 seed: int | None = None, collate_fn: Callable | None = None,
                 num_workers: int = 0, pin_memory: bool = False) -> None:
        if batch_size is not None and (isinstance(batch_size, bool)
                                       or not isinstance(batch_size, (int, np.integer))
                                       or batch_size < 1):
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(f"DataLoader: dataset must define __len__ and __getitem__, "
                            f"got {type(dataset).__name__}")
        if generator is not None and seed is not None:
            raise ValueError("DataLoader: give generator or seed, not both")
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(f"DataLoader: generator must be a numpy Generator, "
                            f"got {type(generator).__name__}")
        self.dataset, self.batch_size, self.shuffle = dataset, batch_size, bool(shuffle)
        self.drop_last, self.collate_fn = bool(drop_last), collate_fn
        self.generator = np.random.default_rng(seed) if seed is not None else generator

    def __len__(self) -> int:
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        if self.generator is not None:
            return self.generator.permutation(n)
        from ..core import random as mg_random
        return mg_random.generator().permutation(n)

    def __iter__(self) -> Iterator:
        order = self._order()
        if self.batch_size is None:  # no batching: samples one at a time
            for i in order:
                sample = self.dataset[int(i)]
                yield self.collate_fn(sample) if self.collate_fn else sample
            return
        fast = isinstance(self.dataset, TensorDataset) and self.collate_fn is None
        step, n = self.batch_size, len(order)
        stop = n - n % step if self.drop_last else n
        for start in range(0, stop, step):
            idx = order[start:start + step]
            if fast:
                yield self.dataset.batch(idx)
            else:
                samples = [self.dataset[int(i)] for i in idx]
                yield (self.collate_fn or default_collate)(samples)


def random_split(dataset: Any, lengths: Sequence[int | float],
                 generator: np.random.Generator | None = None) -> list["Subset"]:
    """Split into non-overlapping ``Subset``s of the given sizes (or fractions summing to 1)."""
    n = len(dataset)
    if all(isinstance(x, float) for x in lengths) and abs(sum(lengths) - 1) < 1e-9:
        sizes = [int(np.floor(n * f)) for f in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
    else:
        sizes = [int(x) for x in lengths]
    if sum(sizes) != n or any(s < 0 for s in sizes):
        raise ValueError(f"random_split: lengths {list(lengths)} do not add up to the dataset "
                         f"size {n}")
    if generator is None:
        from ..core import random as mg_random
        generator = mg_random.generator()
    order = generator.permutation(n)
    bounds = np.cumsum([0] + sizes)
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset, self.indices = dataset, np.asarray(indices, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[index])]


def train_test_split(*arrays: np.ndarray, test_size: float = 0.25, shuffle: bool = True,
                     stratify: np.ndarray | None = None, random_state=None) -> list[np.ndarray]:
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
