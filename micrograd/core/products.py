"""Products with torch's names and semantics: einsum, outer, tensordot, bmm, addmm, baddbmm,
cross, kron, ... built on ``matmul`` (so the GEMM does the work)."""
from __future__ import annotations

from typing import Callable

__all__: list[str] = []
TENSOR_METHODS: dict[str, Callable] = {}
