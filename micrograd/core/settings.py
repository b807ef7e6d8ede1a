"""The settings every op reads, one object per thread: grad mode, anomaly mode, the backend.

``settings`` is a ``threading.local``: a value a thread sets (``no_grad``, ``detect_anomaly``,
``use_backend``) is seen by that thread only, so an evaluation loop under ``no_grad`` or a block
``with use_backend("numpy")`` never changes what another thread's ops do. A thread that has set
nothing sees the process-wide defaults, the class attributes below (``set_backend`` and
``MICROGRAD_BACKEND`` set the default backend).

Hot paths read ``settings.grad_enabled`` etc. directly: one attribute lookup each. Grad mode's
switches are in autograd.py, anomaly mode's in anomaly.py, the backend's here.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator

from .. import backends


class Settings(threading.local):
    """Per-thread values; the class attributes are the defaults for threads that set none."""

    grad_enabled: bool = True   # ops record the graph
    anomaly: bool = False       # ops check their results for NaN/Inf (micrograd/core/anomaly.py)
    backend: Any = backends.default()  # the kernels ops call (a micrograd.backends object)


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


def get_backend() -> str:
    """The name of the calling thread's backend: ``"c"`` or ``"numpy"``."""
    return settings.backend.name


def set_backend(name: str) -> None:
    """Make ``name`` the process-wide default backend: for this thread and every thread that
    has not chosen its own with ``use_backend``."""
    Settings.backend = backends.lookup(name)
    settings.__dict__.pop("backend", None)


def use_backend(name: str) -> contextlib.AbstractContextManager:
    """``with use_backend("numpy"): ...`` runs the block on that backend in this thread only,
    then restores the thread's previous choice."""
    return thread_value("backend", backends.lookup(name))
