"""Reductions and scans with torch's names and semantics: prod, cumsum, cumprod, cummax,
cummin, logcumsumexp, var/std (correction), var_mean/std_mean, norm, median, aminmax,
count_nonzero, all/any."""
from __future__ import annotations

from typing import Callable

__all__: list[str] = []
TENSOR_METHODS: dict[str, Callable] = {}
