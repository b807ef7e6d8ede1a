"""Toy data sets generated on the fly (no downloads), with scikit-learn's names and layouts.

Each generator returns ``(X, y)`` NumPy arrays: ``X`` float64 of shape (N, D), ``y`` int64 labels
(or float targets for regression), reproducible through ``random_state``.
"""
from __future__ import annotations

import numpy as np


def _rng(random_state) -> np.random.Generator:
    return random_state if isinstance(random_state, np.random.Generator) \
        else np.random.default_rng(random_state)


def _check_n(n_samples: int, minimum: int = 1) -> int:
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) \
            or n_samples < minimum:
        raise ValueError(f"n_samples must be an integer >= {minimum}, got {n_samples!r}")
    return int(n_samples)


def make_moons(n_samples: int = 100, noise: float | None = None, shuffle: bool = True,
               random_state=None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles in 2-D: the classic non-linearly-separable toy problem."""
    n = _check_n(n_samples, 2)
    if noise is not None and noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    rng = _rng(random_state)
    n_out, n_in = n // 2, n - n // 2
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    X = np.vstack([np.column_stack([np.cos(t_out), np.sin(t_out)]),
                   np.column_stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)])])
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    if shuffle:
        order = rng.permutation(n)
        X, y = X[order], y[order]
    if noise:
        X = X + rng.normal(scale=noise, size=X.shape)
    return X, y
