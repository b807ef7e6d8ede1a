"""The force-C switch: while it is on, the C backend's routing (routing.py) drops its size rule
and sends every call the C core has a kernel for to C, however small; so tests parametrised on
the C backend run C kernels, not NumPy twice. ``MICROGRAD_FORCE_C=1`` turns it on at import;
``force_c()`` turns it on (or off) for a block. Process-wide: a switch for tests and
benchmarks, not a per-thread setting. Kept apart from routing.py so it exists without the C
core."""
from __future__ import annotations

import contextlib
import os
from typing import Iterator

#: read by routing.py on each call that the size rule would send to NumPy
enabled: bool = os.environ.get("MICROGRAD_FORCE_C", "").strip() not in ("", "0")


def force_c_enabled() -> bool:
    """True while the switch is on."""
    return enabled


@contextlib.contextmanager
def force_c(on: bool = True) -> Iterator[None]:
    """``with force_c(): ...`` runs the block with the switch on (``force_c(False)``: off),
    then restores the previous setting."""
    global enabled
    previous, enabled = enabled, on
    try:
        yield
    finally:
        enabled = previous
