"""Movement ops with torch's names and semantics: flip, roll, repeat, tril/triu, diagonal,
diag, diag_embed, unflatten, unfold, movedim, narrow, tensor_split, meshgrid, ..."""
from __future__ import annotations

from typing import Callable

__all__: list[str] = []
TENSOR_METHODS: dict[str, Callable] = {}
