"""Op families that live outside tensor.py become Tensor methods here.

tensor.py holds the Tensor and the ops its own code needs; larger families of torch ops
(``reductions``: scans and statistics, ``movement``: flips, rolls, diagonals, ...,
``products``: einsum, bmm, kron, ...) each live in their own module, written as plain
functions with torch's signature (``def cumsum(input, dim, *, dtype=None)``). Each module
lists its public functions in ``__all__`` (they become ``micrograd.cumsum``, ...) and in
``TENSOR_METHODS`` the ones torch also has as Tensor methods (name -> function whose first
parameter is the tensor). ``install()`` binds them once, when micrograd is imported.
"""
from __future__ import annotations

from types import ModuleType

from . import movement, products, reductions
from .tensor import Tensor

FAMILIES: tuple[ModuleType, ...] = (reductions, movement, products)


def install() -> None:
    """Bind every family's ``TENSOR_METHODS`` onto Tensor (idempotent)."""
    for family in FAMILIES:
        for name, fn in family.TENSOR_METHODS.items():
            setattr(Tensor, name, fn)
