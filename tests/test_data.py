"""mg.data: generators, the shipped digits, TensorDataset/DataLoader, splitting."""
from __future__ import annotations

import numpy as np
import pytest

import micrograd as mg
from micrograd import data


# ---- generators -------------------------------------------------------------------------------
@pytest.mark.parametrize("maker, kwargs, n_classes", [
    (data.make_moons, dict(n_samples=101), 2),
    (data.make_circles, dict(n_samples=101, factor=0.3), 2),
    (data.make_blobs, dict(n_samples=101, centers=4), 4),
    (data.make_spirals, dict(n_samples=101, n_classes=3), 3),
])
def test_classification_generators(maker, kwargs, n_classes):
    X, y = maker(random_state=0, **kwargs)
    assert X.shape == (101, 2) and X.dtype == np.float64
    assert y.shape == (101,) and y.dtype == np.int64
    counts = np.bincount(y)
    assert len(counts) == n_classes and counts.max() - counts.min() <= 1
    X2, y2 = maker(random_state=0, **kwargs)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    X3, _ = maker(random_state=1, **kwargs)
    assert not np.array_equal(X, X3)


def test_moons_and_circles_geometry_without_noise():
    X, y = data.make_moons(n_samples=40, shuffle=False)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0)  # outer moon: unit half circle
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0)
    X, y = data.make_circles(n_samples=40, factor=0.25, shuffle=False)
    np.testing.assert_allclose(np.hypot(*X[y == 0].T), 1.0)
    np.testing.assert_allclose(np.hypot(*X[y == 1].T), 0.25)


def test_generators_match_sklearn_layout():
    sk = pytest.importorskip("sklearn.datasets", reason="scikit-learn not installed")
    for ours, theirs in [(data.make_moons, sk.make_moons), (data.make_circles, sk.make_circles)]:
        a, ya = ours(n_samples=30, shuffle=False)
        b, yb = theirs(n_samples=30, shuffle=False)
        np.testing.assert_allclose(a, b, atol=1e-12)
        assert np.array_equal(ya, yb)


def test_blobs_with_given_centers_and_std():
    centers = np.array([[0.0, 0.0, 0.0], [10.0, 10.0, 10.0]])
    X, y = data.make_blobs(n_samples=2000, centers=centers, cluster_std=[0.5, 2.0],
                           random_state=0)
    assert X.shape == (2000, 3)
    for k, std in enumerate([0.5, 2.0]):
        np.testing.assert_allclose(X[y == k].mean(0), centers[k], atol=0.2)
        np.testing.assert_allclose(X[y == k].std(0), std, rtol=0.1)


def test_make_regression_is_linear_in_informative_features():
    X, y, coef = data.make_regression(n_samples=50, n_features=6, n_informative=2, bias=3.0,
                                      coef=True, random_state=0)
    assert X.shape == (50, 6) and y.shape == (50,) and coef.shape == (6,)
    assert np.count_nonzero(coef) == 2
    np.testing.assert_allclose(y, X @ coef + 3.0, rtol=1e-10)
    X, y = data.make_regression(n_samples=20, n_features=3, n_targets=2, noise=1.0,
                                random_state=0)
    assert y.shape == (20, 2)


@pytest.mark.parametrize("call, match", [
    (lambda: data.make_moons(n_samples=1), "n_samples"),
    (lambda: data.make_moons(n_samples=2.5), "n_samples"),
    (lambda: data.make_moons(noise=-1), "noise"),
    (lambda: data.make_circles(factor=1.0), "factor"),
    (lambda: data.make_blobs(centers=0), "centers"),
    (lambda: data.make_blobs(centers=np.zeros(3)), "centers"),
    (lambda: data.make_blobs(cluster_std=-1.0), "cluster_std"),
    (lambda: data.make_spirals(n_classes=1), "n_classes"),
    (lambda: data.make_regression(n_features=0), "n_features"),
    (lambda: data.load_digits(n_class=11), "n_class"),
])
def test_generator_argument_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_random_state_type_error():
    with pytest.raises(TypeError, match="random_state"):
        data.make_moons(random_state="seed")
    X, _ = data.make_moons(random_state=np.random.default_rng(3))
    assert X.shape == (100, 2)


# ---- the shipped digits -----------------------------------------------------------------------
def test_load_digits_shapes_and_values():
    bunch = data.load_digits()
    assert bunch.data.shape == (1797, 64) and bunch.data.dtype == np.float64
    assert bunch.images.shape == (1797, 8, 8)
    assert bunch.target.shape == (1797,) and bunch.target.dtype == np.int64
    assert bunch.data.min() == 0 and bunch.data.max() == 16
    assert np.array_equal(np.unique(bunch.target), np.arange(10))
    assert np.array_equal(bunch["data"], bunch.data)
    assert "Alpaydin" in bunch.DESCR and "CC BY 4.0" in bunch.DESCR
    X, y = data.load_digits(return_X_y=True, n_class=3)
    assert set(np.unique(y)) == {0, 1, 2} and len(X) == len(y)
    with pytest.raises(AttributeError):
        bunch.nope


def test_load_digits_equals_scikit_learn_copy():
    sk = pytest.importorskip("sklearn.datasets", reason="scikit-learn not installed")
    X, y = data.load_digits(return_X_y=True)
    Xs, ys = sk.load_digits(return_X_y=True)
    assert np.array_equal(X, Xs) and np.array_equal(y, ys)


def test_digits_file_holds_no_pickles():
    with np.load(data.datasets.DATA_DIR / "digits.npz", allow_pickle=False) as f:
        assert sorted(f.files) == ["images", "target"]
        assert f["images"].dtype == np.uint8


# ---- TensorDataset / DataLoader ---------------------------------------------------------------
def test_tensor_dataset_indexing_and_errors():
    X, y = np.arange(12.0).reshape(6, 2), np.arange(6)
    ds = data.TensorDataset(X, mg.Tensor(y))
    assert len(ds) == 6
    xi, yi = ds[2]
    assert xi.tolist() == [4.0, 5.0] and yi.item() == 2
    with pytest.raises(ValueError, match="same first dimension"):
        data.TensorDataset(X, np.arange(5))
    with pytest.raises(ValueError, match="at least one"):
        data.TensorDataset()


def test_dataloader_batches_in_order_with_last_partial():
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    loader = data.DataLoader(data.TensorDataset(X, y), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [len(b[1]) for b in batches] == [4, 4, 2]
    assert isinstance(batches[0][0], mg.Tensor)
    assert np.concatenate([b[1].numpy() for b in batches]).tolist() == list(range(10))
    loader = data.DataLoader(data.TensorDataset(X, y), batch_size=4, drop_last=True)
    assert len(loader) == 2 and [len(b[1]) for b in loader] == [4, 4]


def test_dataloader_shuffle_is_a_permutation_and_reproducible():
    X, y = np.arange(40.0).reshape(20, 2), np.arange(20)
    ds = data.TensorDataset(X, y)

    def epoch(loader):
        return np.concatenate([b[1].numpy() for b in loader])

    a = data.DataLoader(ds, batch_size=3, shuffle=True, seed=7)
    b = data.DataLoader(ds, batch_size=3, shuffle=True, seed=7)
    first = epoch(a)
    assert sorted(first.tolist()) == list(range(20)) and first.tolist() != list(range(20))
    assert np.array_equal(first, epoch(b))
    assert not np.array_equal(first, epoch(a))  # a new order every epoch
    for xb, yb in a:  # rows stay paired
        np.testing.assert_array_equal(xb.numpy()[:, 0], 2 * yb.numpy())
    mg.manual_seed(3)
    c = epoch(data.DataLoader(ds, batch_size=5, shuffle=True))
    mg.manual_seed(3)
    assert np.array_equal(c, epoch(data.DataLoader(ds, batch_size=5, shuffle=True)))
    g = np.random.default_rng(1)
    assert len(epoch(data.DataLoader(ds, batch_size=5, shuffle=True, generator=g))) == 20


def test_dataloader_generic_dataset_collates():
    class Squares(data.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"x": np.array([i, i * i], dtype=np.float32), "y": i}

    batches = list(data.DataLoader(Squares(), batch_size=2))
    assert batches[0]["x"].shape == (2, 2) and batches[0]["y"].tolist() == [0, 1]
    assert batches[-1]["y"].tolist() == [4]
    samples = list(data.DataLoader(Squares(), batch_size=None))
    assert samples[3]["y"] == 3
    custom = list(data.DataLoader(Squares(), batch_size=5, collate_fn=len))
    assert custom == [5]


@pytest.mark.parametrize("kwargs, err", [
    (dict(batch_size=0), ValueError), (dict(batch_size=2.5), ValueError),
    (dict(generator=3), TypeError), (dict(seed=1, generator=np.random.default_rng()), ValueError),
])
def test_dataloader_argument_errors(kwargs, err):
    with pytest.raises(err):
        data.DataLoader(data.TensorDataset(np.zeros((3, 1))), **kwargs)
    with pytest.raises(TypeError, match="__len__"):
        data.DataLoader(5)


def test_random_split_and_subset():
    ds = data.TensorDataset(np.arange(10.0)[:, None])
    a, b = data.random_split(ds, [7, 3], generator=np.random.default_rng(0))
    idx = sorted(np.concatenate([a.indices, b.indices]).tolist())
    assert idx == list(range(10)) and len(a) == 7 and len(b) == 3
    assert a[0][0].item() == a.indices[0]
    c, d = data.random_split(ds, [0.5, 0.5])
    assert len(c) + len(d) == 10
    with pytest.raises(ValueError, match="add up"):
        data.random_split(ds, [3, 3])


def test_train_test_split_sizes_stratify_and_errors():
    X, y = np.arange(200).reshape(100, 2), np.repeat([0, 1, 2, 3], 25)
    Xtr, Xte, ytr, yte = data.train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    assert len(Xte) == 20 and len(Xtr) == 80
    assert np.bincount(yte).tolist() == [5, 5, 5, 5]
    np.testing.assert_array_equal(Xtr[:, 0] // 2 // 25, ytr)  # rows stay paired
    assert sorted(np.concatenate([Xtr[:, 0], Xte[:, 0]]).tolist()) == list(range(0, 200, 2))
    a = data.train_test_split(X, test_size=10, shuffle=False)
    assert a[1][:, 0].tolist() == list(range(180, 200, 2))
    with pytest.raises(ValueError, match="different lengths"):
        data.train_test_split(X, y[:5])
    with pytest.raises(ValueError, match="empty"):
        data.train_test_split(X, test_size=0.0)


def test_shipped_files_are_declared_package_data():
    import fnmatch
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from "
                                  "Python 3.11")
    from pathlib import Path
    root = Path(data.datasets.DATA_DIR).parent.parent
    pyproject = root / "pyproject.toml"
    if not pyproject.exists():
        pytest.skip("installed copy: no pyproject.toml beside the package")
    patterns = tomllib.loads(pyproject.read_text())["tool"]["setuptools"]["package-data"]
    for name in ("digits.npz", "DIGITS_LICENSE.txt"):
        assert any(fnmatch.fnmatch(f"data/{name}", p) for p in patterns["micrograd"]), name
