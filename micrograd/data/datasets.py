"""Data sets that work offline: toy generators, and real digit images shipped with the package.

The generators follow scikit-learn's names, arguments and layouts: each returns ``(X, y)`` NumPy
arrays, ``X`` float64 of shape (N, D) and ``y`` int64 labels (float64 targets for regression),
reproducible through ``random_state`` (an int, None, or a ``np.random.Generator``).
``load_digits`` reads the 1797 8x8 UCI digits stored in ``digits.npz`` beside this file
(licence and source in ``DIGITS_LICENSE.txt``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

DATA_DIR = Path(__file__).resolve().parent


def _rng(random_state) -> np.random.Generator:
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is not None and (isinstance(random_state, bool)
                                     or not isinstance(random_state, (int, np.integer))):
        raise TypeError(f"random_state must be None, an int or a numpy Generator, "
                        f"got {type(random_state).__name__}")
    return np.random.default_rng(random_state)


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_noise(noise) -> float:
    if noise is None:
        return 0.0
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    return float(noise)


def _finish(X, y, shuffle: bool, noise: float, rng: np.random.Generator):
    """Shuffle rows (when asked) then add Gaussian noise: the order scikit-learn uses."""
    if shuffle:
        order = rng.permutation(len(X))
        X, y = X[order], y[order]
    if noise:
        X = X + rng.normal(scale=noise, size=X.shape)
    return X, y


def make_moons(n_samples: int = 100, noise: float | None = None, shuffle: bool = True,
               random_state: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles in 2-D: the classic non-linearly-separable toy problem."""
    n = _check_int("n_samples", n_samples, 2)
    noise, rng = _check_noise(noise), _rng(random_state)
    n_out, n_in = n // 2, n - n // 2
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    X = np.vstack([np.column_stack([np.cos(t_out), np.sin(t_out)]),
                   np.column_stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)])])
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    return _finish(X, y, shuffle, noise, rng)


def make_circles(n_samples: int = 100, shuffle: bool = True, noise: float | None = None,
                 random_state: Any = None, factor: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    """A large circle (label 0) around a smaller one of radius ``factor`` (label 1)."""
    n = _check_int("n_samples", n_samples, 2)
    if not 0 <= factor < 1:
        raise ValueError(f"factor must be in [0, 1), got {factor!r}")
    noise, rng = _check_noise(noise), _rng(random_state)
    n_out, n_in = n // 2, n - n // 2
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.vstack([np.column_stack([np.cos(t_out), np.sin(t_out)]),
                   factor * np.column_stack([np.cos(t_in), np.sin(t_in)])])
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    return _finish(X, y, shuffle, noise, rng)


def make_blobs(n_samples: int = 100, n_features: int = 2, centers: Any = None,
               cluster_std: float = 1.0, center_box: tuple[float, float] = (-10.0, 10.0),
               shuffle: bool = True, random_state: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic Gaussian blobs. ``centers``: a count (default 3) or an array of (K, D) centres."""
    n = _check_int("n_samples", n_samples, 1)
    rng = _rng(random_state)
    if centers is None or isinstance(centers, (int, np.integer)):
        k = _check_int("centers", 3 if centers is None else centers, 1)
        d = _check_int("n_features", n_features, 1)
        lo, hi = center_box
        centers = rng.uniform(lo, hi, size=(k, d))
    else:
        centers = np.asarray(centers, dtype=np.float64)
        if centers.ndim != 2 or len(centers) == 0:
            raise ValueError(f"centers must be an int or a (K, D) array, got shape {centers.shape}")
    k = len(centers)
    std = np.broadcast_to(np.asarray(cluster_std, dtype=np.float64), (k,))
    if np.any(std < 0):
        raise ValueError(f"cluster_std must be >= 0, got {cluster_std!r}")
    counts = np.full(k, n // k)
    counts[: n % k] += 1
    y = np.repeat(np.arange(k, dtype=np.int64), counts)
    X = centers[y] + rng.normal(size=(n, centers.shape[1])) * std[y, None]
    return _finish(X, y, shuffle, 0.0, rng)


def make_spirals(n_samples: int = 300, n_classes: int = 3, noise: float = 0.2,
                 random_state: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """``n_classes`` interleaved spiral arms in 2-D (the CS231n toy set; noise perturbs angle)."""
    n = _check_int("n_samples", n_samples, 1)
    k = _check_int("n_classes", n_classes, 2)
    noise, rng = _check_noise(noise), _rng(random_state)
    counts = np.full(k, n // k)
    counts[: n % k] += 1
    y = np.repeat(np.arange(k, dtype=np.int64), counts)
    # position along each arm in [0, 1]: radius grows linearly, angle turns by about 4 radians
    pos = np.concatenate([np.linspace(0.0, 1.0, c) for c in counts])
    theta = y * (2 * np.pi / k) + pos * 4.0 + rng.normal(scale=noise, size=n)
    X = np.column_stack([pos * np.sin(theta), pos * np.cos(theta)])
    return _finish(X, y, True, 0.0, rng)


def make_regression(n_samples: int = 100, n_features: int = 100, n_informative: int = 10,
                    n_targets: int = 1, bias: float = 0.0, noise: float = 0.0,
                    shuffle: bool = True, coef: bool = False,
                    random_state: Any = None) -> tuple[np.ndarray, ...]:
    """A random linear regression problem: ``y = X @ w + bias + noise``, only ``n_informative``
    of the ``w`` rows nonzero. ``y`` is (N,) for one target, else (N, n_targets); with
    ``coef=True`` the true (D,) or (D, n_targets) coefficients come back as a third value."""
    n = _check_int("n_samples", n_samples, 1)
    d = _check_int("n_features", n_features, 1)
    t = _check_int("n_targets", n_targets, 1)
    informative = min(_check_int("n_informative", n_informative, 0), d)
    noise, rng = _check_noise(noise), _rng(random_state)
    X = rng.normal(size=(n, d))
    w = np.zeros((d, t))
    w[:informative] = 100 * rng.uniform(size=(informative, t))
    y = X @ w + bias
    if noise:
        y = y + rng.normal(scale=noise, size=y.shape)
    if shuffle:
        order, cols = rng.permutation(n), rng.permutation(d)
        X, y = X[order][:, cols], y[order]
        w = w[cols]
    if t == 1:
        y, w = y[:, 0], w[:, 0]
    return (X, y, w) if coef else (X, y)


class Bunch(dict):
    """A dict whose keys are also attributes (scikit-learn's ``Bunch``): ``d.data == d["data"]``."""

    def __getattr__(self, key: str):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


def load_digits(return_X_y: bool = False, n_class: int = 10) -> Any:
    """The 1797 UCI handwritten digits, 8x8 images with pixels 0..16, as shipped in the package.

    Returns a ``Bunch`` with ``data`` float64 (N, 64), ``target`` int64 (N,), ``images`` float64
    (N, 8, 8), ``target_names`` and ``DESCR`` -- or ``(data, target)`` with ``return_X_y=True``,
    as scikit-learn's ``load_digits``. ``n_class`` keeps only digits ``0..n_class-1``.
    """
    n_class = _check_int("n_class", n_class, 1)
    if n_class > 10:
        raise ValueError(f"n_class must be between 1 and 10, got {n_class}")
    with np.load(DATA_DIR / "digits.npz", allow_pickle=False) as f:
        images, target = f["images"].astype(np.float64), f["target"].astype(np.int64)
    keep = target < n_class
    images, target = images[keep], target[keep]
    data = images.reshape(len(images), -1)
    if return_X_y:
        return data, target
    descr = (DATA_DIR / "DIGITS_LICENSE.txt").read_text(encoding="utf-8")
    return Bunch(data=data, target=target, images=images,
                 target_names=np.arange(n_class), DESCR=descr)
