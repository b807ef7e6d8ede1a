"""``micrograd.backends.mps``: PyTorch's Apple-GPU queries; this build has no MPS support.

Not a kernel backend (those are in the registry, micrograd/backends/__init__.py): it only
answers ``torch.backends.mps.is_available()`` for code written against torch.
"""
from __future__ import annotations


def is_available() -> bool:
    """False: this build runs on the CPU only."""
    return False


def is_built() -> bool:
    """False: this build was not built with MPS."""
    return False
