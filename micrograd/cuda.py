"""``micrograd.cuda``: PyTorch's ``torch.cuda`` queries, answered for a CPU-only build.

Code that asks before it uses a GPU (``torch.cuda.is_available()``) runs unchanged and picks
the CPU; anything that would need a GPU (``device("cuda")``) is an error naming the CPU.
"""
from __future__ import annotations

__all__ = ["is_available", "device_count", "manual_seed", "manual_seed_all"]


def is_available() -> bool:
    """False: this build runs on the CPU only."""
    return False


def device_count() -> int:
    """0: the number of CUDA GPUs this CPU-only build can use."""
    return 0


def manual_seed(seed: int) -> None:
    """Seeds no GPU (there is none): a no-op, as in PyTorch without CUDA."""


def manual_seed_all(seed: int) -> None:
    """Seeds no GPU (there is none): a no-op, as in PyTorch without CUDA."""
