"""The random-number generator behind every random factory and initializer.

``mg.manual_seed(n)`` reseeds it, so ``rand``, ``randn``, ``randint``, ``Tensor.uniform_`` /
``normal_``, weight initializers and dropout (which all draw from ``generator()``) repeat exactly.
It is a NumPy ``Generator`` (PCG64); its streams differ from PyTorch's, so the same seed gives
different numbers than torch, but always the same numbers in micrograd.
"""
from __future__ import annotations

import numpy as np

_seed: int = 0
_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the global generator; returns it (torch returns its Generator too)."""
    global _generator, _seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"manual_seed: seed must be non-negative, got {seed}")
    _seed = int(seed)
    _generator = np.random.default_rng(_seed)
    return _generator


def initial_seed() -> int:
    """The last seed given to ``manual_seed`` (0 before any call; the stream is then random)."""
    return _seed


def generator() -> np.random.Generator:
    """The current global generator: draw from this in every random factory/initializer."""
    return _generator
