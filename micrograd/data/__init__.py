"""Data: generated toy sets (and, later, loaders and shipped real data)."""
from .datasets import make_moons

__all__ = ["make_moons"]
