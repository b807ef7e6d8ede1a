"""The random-number generator behind every random factory and initializer.

``mg.manual_seed(n)`` reseeds it, so ``rand``, ``randn``, ``randint``, ``Tensor.uniform_`` /
``normal_``, weight initializers and dropout (which all draw from ``generator()``) repeat exactly.
It is a NumPy ``Generator`` (PCG64); its streams differ from PyTorch's, so the same seed gives
different numbers than torch, but always the same numbers in micrograd. At import it is seeded
from the operating system's entropy (``seed()``), so ``initial_seed()`` always names the seed
that reproduces the stream; ``get_rng_state`` / ``set_rng_state`` save and restore its state
as a uint8 tensor (``_STATE_BYTES`` bytes, not torch's 5056: the generators differ).
"""
from __future__ import annotations

import secrets
from typing import Any

import numpy as np

from .settings import settings

# the state as bytes: PCG64's 128-bit state and increment, its buffered 32-bit half (a flag
# and the value), then the seed initial_seed() reports; little-endian throughout
_FIELDS = (("state", 16), ("inc", 16), ("has_uint32", 4), ("uinteger", 4), ("seed", 8))
_STATE_BYTES = sum(n for _, n in _FIELDS)

_seed: int = 0
_generator = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the global generator; returns it (torch returns its Generator too)."""
    global _generator, _seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"manual_seed: seed must be non-negative, got {seed}")
    if seed >= 2**64:
        raise RuntimeError(f"manual_seed: seed must fit in 64 bits (< 2**64), got {seed}")
    _seed = int(seed)
    _generator = np.random.default_rng(_seed)
    return _generator


def seed() -> int:
    """Reseed the global generator from the operating system's entropy; returns the seed
    (a 64-bit number), as torch.seed."""
    chosen = secrets.randbits(64)
    manual_seed(chosen)
    return chosen


def initial_seed() -> int:
    """The seed of the current stream: the last ``manual_seed`` or ``seed``."""
    return _seed


def generator() -> np.random.Generator:
    """The current global generator: draw from this in every random factory/initializer."""
    return _generator


def keep_mask(shape: tuple[int, ...], p: float, dtype: Any) -> np.ndarray:
    """Dropout's scaled keep-mask: each entry 1 / (1 - p) with probability 1 - p, else 0, as
    an array of ``dtype``; multiply the input by it (broadcasting, for a mask per channel).

    The one place every dropout draws its mask (F.dropout, F.dropout2d, attention's), so a
    seed gives the same masks in all of them; the draw is the backend's ``keep_mask`` (a
    backend call, so ``micrograd.compile`` records it and a replay draws again from the
    generator current then). ``0 <= p <= 1`` is the caller's check."""
    return settings.backend.keep_mask(shape, p, dtype, generator())


def get_state() -> bytes:
    """The generator's state (and the seed ``initial_seed`` reports) as ``_STATE_BYTES``
    bytes: what ``micrograd.get_rng_state`` holds in a uint8 tensor."""
    state = _generator.bit_generator.state
    values = {**state["state"], "has_uint32": state["has_uint32"],
              "uinteger": state["uinteger"], "seed": _seed}
    return b"".join(int(values[name]).to_bytes(n, "little") for name, n in _FIELDS)


def set_state(raw: bytes) -> None:
    """Restore a state ``get_state`` returned: the draws that followed it repeat."""
    global _seed
    if len(raw) != _STATE_BYTES:
        raise RuntimeError(f"set_rng_state: expected a state of {_STATE_BYTES} bytes (what "
                           f"get_rng_state returns), but got {len(raw)}")
    values, at = {}, 0
    for name, n in _FIELDS:
        values[name], at = int.from_bytes(raw[at:at + n], "little"), at + n
    if values["has_uint32"] > 1 or not values["inc"] & 1:
        raise RuntimeError("set_rng_state: these bytes are not a state get_rng_state returned")
    _generator.bit_generator.state = {
        "bit_generator": "PCG64", "state": {"state": values["state"], "inc": values["inc"]},
        "has_uint32": values["has_uint32"], "uinteger": values["uinteger"]}
    _seed = values["seed"]


seed()
