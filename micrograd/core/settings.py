"""The settings every op reads, one object per thread: grad mode, anomaly mode, the backend.

``settings`` is a ``threading.local``: a value a thread sets (``no_grad``, ``detect_anomaly``,
``use_backend``) is seen by that thread only, so an evaluation loop under ``no_grad`` or a block
``with use_backend("numpy")`` never changes what another thread's ops do. A thread that has set
nothing sees the process-wide defaults, the class attributes below (``set_backend`` and
``MICROGRAD_BACKEND`` set the default backend).

Hot paths read ``settings.grad_enabled`` etc. directly: one attribute lookup each.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator


class Settings(threading.local):
    """Per-thread values; the class attributes are the defaults for threads that set none."""

    grad_enabled: bool = True   # ops record the graph
    anomaly: bool = False       # ops check their results for NaN/Inf (micrograd/core/anomaly.py)
    backend: Any = None         # the kernels ops call; set by micrograd.backends at import


settings = Settings()


@contextlib.contextmanager
def thread_value(name: str, value: Any) -> Iterator[None]:
    """Set ``settings.<name>`` for this thread inside the block, then restore what the thread
    had before: its own value, or (when it had none) the process-wide default again."""
    own = settings.__dict__
    had, previous = name in own, own.get(name)
    setattr(settings, name, value)
    try:
        yield
    finally:
        if had:
            setattr(settings, name, previous)
        else:
            own.pop(name, None)
