"""micrograd.utils.data: the objects of micrograd.data under torch's path, with torch's
behaviour: samplers (lengths, orders, replacement), BatchSampler, DataLoader's sampler and
batch_sampler arguments and their errors, datasets, collation, random_split. Torch is the
oracle for everything deterministic; random orders are checked for what they must be
(permutations, repeatability under mg.manual_seed), as torch's streams cannot be matched."""
from __future__ import annotations

import re
from collections import namedtuple

import numpy as np
import pytest

import micrograd as mg
import micrograd.data
from micrograd.utils import data as ud

TORCH_REASON = "torch not installed (the oracle)"


def test_utils_data_is_micrograd_data():
    names = ["Dataset", "IterableDataset", "TensorDataset", "ConcatDataset", "Subset",
             "DataLoader", "default_collate", "random_split", "Sampler", "SequentialSampler",
             "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler"]
    for name in names:
        assert getattr(ud, name) is getattr(micrograd.data, name), name


def _pair(torch, n=10):
    x, y = np.arange(2.0 * n).reshape(n, 2), np.arange(n)
    return (ud.TensorDataset(x, y),
            torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)))


def _plain(batch):
    """A batch as nested Python lists (Tensors of either library via tolist)."""
    if isinstance(batch, (list, tuple)):
        return [_plain(b) for b in batch]
    if isinstance(batch, dict):
        return {k: _plain(v) for k, v in batch.items()}
    return batch.tolist() if hasattr(batch, "tolist") else batch


@pytest.mark.parametrize("kwargs", [
    dict(), dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=None),
    dict(batch_size=4, sampler=[9, 0, 3, 3, 1]),
    dict(batch_sampler=[[1, 2], [7], [0, 0, 5]]),
    dict(batch_size=None, sampler=[4, 2]),
    dict(batch_size=10), dict(batch_size=11, drop_last=True),
])
def test_dataloader_batches_and_lengths_match_torch(kwargs):
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    ours, theirs = _pair(torch)
    a, b = ud.DataLoader(ours, **kwargs), torch.utils.data.DataLoader(theirs, **kwargs)
    assert len(a) == len(b)
    assert _plain(list(a)) == _plain(list(b))
    assert a.batch_size == b.batch_size and a.drop_last == b.drop_last


def test_dataloader_with_sampler_objects_matches_torch():
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    ours, theirs = _pair(torch)
    for make in (lambda lib, ds: lib.SequentialSampler(ds),
                 lambda lib, ds: lib.BatchSampler(lib.SequentialSampler(ds), 4, True)):
        s_ours, s_theirs = make(ud, ours), make(torch.utils.data, theirs)
        key = "batch_sampler" if isinstance(s_ours, ud.BatchSampler) else "sampler"
        a = ud.DataLoader(ours, **{key: s_ours})
        b = torch.utils.data.DataLoader(theirs, **{key: s_theirs})
        assert len(a) == len(b) and _plain(list(a)) == _plain(list(b))
        assert (a.batch_sampler is s_ours) == (key == "batch_sampler")


@pytest.mark.parametrize("kwargs", [
    dict(shuffle=True, sampler=[0, 1]),
    dict(batch_sampler=[[0]], batch_size=2),
    dict(batch_sampler=[[0]], shuffle=True),
    dict(batch_sampler=[[0]], sampler=[0]),
    dict(batch_sampler=[[0]], drop_last=True),
    dict(batch_size=None, drop_last=True),
    dict(num_workers=-1),
    dict(timeout=-1),
])
def test_dataloader_mutually_exclusive_options_raise_like_torch(kwargs):
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    ours, theirs = _pair(torch)
    with pytest.raises(ValueError) as theirs_error:
        torch.utils.data.DataLoader(theirs, **kwargs)
    with pytest.raises(ValueError, match=re.escape(str(theirs_error.value).split(";")[0])):
        ud.DataLoader(ours, **kwargs)


class Stream(ud.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


@pytest.mark.parametrize("kwargs", [dict(batch_size=3), dict(batch_size=3, drop_last=True),
                                    dict(batch_size=None), dict(batch_size=7)])
def test_iterable_dataset_matches_torch(kwargs):
    torch = pytest.importorskip("torch", reason=TORCH_REASON)

    class TorchStream(torch.utils.data.IterableDataset):
        __init__, __iter__, __len__ = Stream.__init__, Stream.__iter__, Stream.__len__
    a, b = ud.DataLoader(Stream(7), **kwargs), torch.utils.data.DataLoader(TorchStream(7),
                                                                           **kwargs)
    assert len(a) == len(b) and _plain(list(a)) == _plain(list(b))
    for key, value in (("shuffle", True), ("sampler", [0]), ("batch_sampler", [[0]])):
        with pytest.raises(ValueError, match=f"expected unspecified {key} option"):
            ud.DataLoader(Stream(3), **{key: value})
    chained = Stream(2) + Stream(3)
    assert isinstance(chained, ud.ChainDataset) and list(chained) == [0, 1, 0, 1, 2]


def test_default_collate_matches_torch():
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    Point = namedtuple("Point", "x y")
    cases = [
        [1.5, 2.5], [1, 2], [True, False], [np.float32(1), np.float32(2)],
        [np.arange(3, dtype=np.float32), np.ones(3, dtype=np.float32)],
        [(1, 2.0, "a"), (3, 4.0, "b")], [[1, 2], [3, 4]],
        [{"x": np.zeros(2), "label": 3}, {"x": np.ones(2), "label": 4}],
        [Point(1, 2.0), Point(3, 4.0)], ["a", "b"],
    ]
    dtype_names = {"float64", "float32", "int64", "bool"}
    for samples in cases:
        ours = ud.default_collate(samples)
        theirs = torch.utils.data.default_collate(samples)
        assert type(ours).__name__ == type(theirs).__name__ or (
            isinstance(ours, mg.Tensor) and isinstance(theirs, torch.Tensor)), samples
        assert _plain(ours) == _plain(theirs), samples
        if isinstance(ours, mg.Tensor):
            assert ours.dtype.name == str(theirs.dtype).split(".")[1] in dtype_names
    tensors = [mg.tensor([1.0, 2.0]), mg.tensor([3.0, 4.0])]
    assert ud.default_collate(tensors).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but "
                                           r"got \[2\] at entry 0 and \[3\] at entry 1"):
        ud.default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(RuntimeError, match="equal size"):
        ud.default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="object"):
        ud.default_collate([object(), object()])


def test_tensor_dataset_fast_path_equals_sample_by_sample_collation():
    x, y = np.arange(12.0).reshape(6, 2), np.arange(6)
    ds = ud.TensorDataset(x, y)
    for sub in (ds, ud.Subset(ds, [5, 3, 1, 0]), ud.Subset(ud.Subset(ds, [5, 3, 1, 0]), [2, 0])):
        fast = list(ud.DataLoader(sub, batch_size=3))
        slow = list(ud.DataLoader(sub, batch_size=3, collate_fn=ud.default_collate))
        assert isinstance(fast[0], list) and _plain(fast) == _plain(slow)
        assert [b.dtype for b in fast[0]] == [b.dtype for b in slow[0]]


def test_samplers_match_torch_where_deterministic():
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    tud = torch.utils.data
    data = list(range(7))
    assert list(ud.SequentialSampler(data)) == list(tud.SequentialSampler(data))
    for bs, drop in ((3, False), (3, True), (7, True), (8, True)):
        a = ud.BatchSampler(range(7), bs, drop)
        b = tud.BatchSampler(range(7), bs, drop)
        assert len(a) == len(b) and list(a) == list(b)
        a = ud.BatchSampler(ud.SequentialSampler(data), bs, drop)  # the array path
        assert len(a) == len(b) and list(a) == list(b)
        assert all(type(i) is int for batch in a for i in batch)
    for kwargs in (dict(), dict(num_samples=3), dict(num_samples=17),
                   dict(replacement=True, num_samples=40)):
        assert len(ud.RandomSampler(data, **kwargs)) == len(tud.RandomSampler(data, **kwargs))
    assert len(ud.SubsetRandomSampler([4, 2, 9])) == 3
    assert len(ud.WeightedRandomSampler([1, 2, 3], 5)) == 5


def test_random_orders_are_what_they_must_be_and_repeat_under_manual_seed():
    data = list(range(7))
    counts = np.bincount(list(ud.RandomSampler(data, num_samples=17)), minlength=7)
    assert sorted(counts.tolist()) == [2, 2, 2, 2, 3, 3, 3]  # 2 permutations + 3 of a third
    assert sorted(ud.RandomSampler(data)) == data
    drawn = list(ud.RandomSampler(data, replacement=True, num_samples=200))
    assert len(drawn) == 200 and set(drawn) <= set(data) and len(set(drawn)) == 7
    assert sorted(ud.SubsetRandomSampler([4, 2, 9])) == [2, 4, 9]
    w = ud.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 400)
    freq = np.bincount(list(w), minlength=4) / 400
    assert freq[0] == freq[2] == 0 and 0.65 < freq[3] < 0.85
    assert sorted(ud.WeightedRandomSampler([0, 1, 2, 3], 3, replacement=False)) == [1, 2, 3]
    for make in (lambda: list(ud.RandomSampler(data)),
                 lambda: list(ud.RandomSampler(data, replacement=True)),
                 lambda: list(ud.SubsetRandomSampler(data)),
                 lambda: list(ud.WeightedRandomSampler([1, 2, 3, 4], 9)),
                 lambda: [i.indices for i in ud.random_split(data, [3, 4])],
                 lambda: _plain(list(ud.DataLoader(ud.TensorDataset(np.arange(9)),
                                                   batch_size=2, shuffle=True)))):
        mg.manual_seed(11)
        first = make()
        mg.manual_seed(11)
        assert make() == first
    g1, g2 = np.random.default_rng(3), np.random.default_rng(3)
    assert list(ud.RandomSampler(data, generator=g1)) == list(ud.RandomSampler(data,
                                                                               generator=g2))


@pytest.mark.parametrize("make, err, match", [
    (lambda: ud.RandomSampler([1], num_samples=0), ValueError, "num_samples should be a "
                                                               "positive integer value"),
    (lambda: ud.RandomSampler([1], replacement=1), TypeError, "replacement should be a "
                                                              "boolean"),
    (lambda: ud.RandomSampler([1], generator=5), TypeError, "numpy.random.Generator"),
    (lambda: ud.WeightedRandomSampler([1.0], num_samples=-1), ValueError, "num_samples"),
    (lambda: ud.WeightedRandomSampler([[1.0]], 1), ValueError, r"1d sequence .* \(1, 1\)"),
    (lambda: list(ud.WeightedRandomSampler([1.0, -1.0], 1)), RuntimeError, "multinomial"),
    (lambda: list(ud.WeightedRandomSampler([1.0, 0.0], 2, replacement=False)), RuntimeError,
     "without replacement"),
    (lambda: ud.BatchSampler([1], 0, False), ValueError, "batch_size should be a positive"),
    (lambda: ud.BatchSampler([1], 2, 1), ValueError, "drop_last should be a boolean"),
    (lambda: ud.ConcatDataset([]), ValueError, "empty"),
    (lambda: ud.ConcatDataset([Stream(2)]), TypeError, "IterableDataset"),
    (lambda: ud.random_split(list(range(4)), [0.5, 0.7]), ValueError, "add up"),
    (lambda: ud.random_split(list(range(4)), [1.5, -0.5]), ValueError, "fraction at index 0"),
])
def test_argument_errors(make, err, match):
    with pytest.raises(err, match=match):
        make()


def test_concat_dataset_and_subset_match_torch():
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    tud = torch.utils.data
    parts = [list(range(3)), list(range(10, 12)), list(range(20, 24))]
    ours, theirs = ud.ConcatDataset(parts), tud.ConcatDataset(parts)
    assert len(ours) == len(theirs) and ours.cumulative_sizes == theirs.cumulative_sizes
    assert [ours[i] for i in range(-9, 9)] == [theirs[i] for i in range(-9, 9)]
    with pytest.raises(ValueError, match="should not exceed dataset length"):
        ours[-10]
    with pytest.raises(IndexError):
        ours[9]
    x = ud.TensorDataset(np.arange(4.0)) + ud.TensorDataset(np.arange(10.0, 12.0))
    assert isinstance(x, ud.ConcatDataset) and len(x) == 6 and x[5][0].item() == 11.0
    sub, tsub = ud.Subset(parts[2], [3, 1]), tud.Subset(parts[2], [3, 1])
    assert len(sub) == len(tsub) and [sub[0], sub[1]] == [tsub[0], tsub[1]]
    ds = ud.TensorDataset(np.arange(5.0))
    assert ud.Subset(ds, [4, 0])[[1, 0]][0].tolist() == [0.0, 4.0]  # list index, as torch


@pytest.mark.parametrize("n, lengths", [(10, [0.3, 0.7]), (10, [0.33, 0.33, 0.34]),
                                        (7, [0.5, 0.5]), (5, [1.0]), (10, [3, 7]),
                                        (3, [0.1, 0.1, 0.8])])
def test_random_split_sizes_match_torch(n, lengths):
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about empty splits
        theirs = torch.utils.data.random_split(range(n), lengths)
    ours = ud.random_split(list(range(n)), lengths)
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    assert sorted(i for s in ours for i in s.indices) == list(range(n))
