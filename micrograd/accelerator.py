"""``micrograd.accelerator``: PyTorch's ``torch.accelerator`` queries for a CPU-only build.

PyTorch's tutorials pick their device with
``torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"``;
here that is always "cpu".
"""
from __future__ import annotations

__all__ = ["is_available", "current_accelerator", "device_count"]


def is_available() -> bool:
    """False: this build has no accelerator."""
    return False


def current_accelerator(check_available: bool = False) -> None:
    """None: there is no accelerator (PyTorch returns None then too)."""
    return None


def device_count() -> int:
    """0: the number of accelerators (GPUs and the like) this build can use."""
    return 0
