"""Grad mode (``no_grad``, ``enable_grad``, ``set_grad_enabled``): the ``torch.autograd`` names.

Grad mode is a per-thread flag (``settings.grad_enabled``, micrograd/core/settings.py) read by
every op: when it is off, ops compute values only and record no graph. Per thread, as in PyTorch,
so ``no_grad`` in one thread (say, an evaluation loop) never stops another thread's training from
recording its graph.

``gradcheck`` (core/gradcheck.py) and anomaly detection (core/anomaly.py) are re-exported here,
where PyTorch users look for them.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

from .anomaly import (AnomalyError, detect_anomaly,  # noqa: F401 - torch.autograd's API
                      is_anomaly_enabled, set_detect_anomaly)
from .gradcheck import GradcheckError, gradcheck  # noqa: F401 - torch.autograd's API
from .settings import settings
from .tensor import RemovableHandle, grad  # noqa: F401 - torch.autograd.grad


def _run_with_mode(fn: Callable, mode: bool) -> Callable:
    """``fn`` wrapped to run with grad mode ``mode``: what the context managers do as decorators."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with set_grad_enabled(mode):
            return fn(*args, **kwargs)
    return wrapper


class set_grad_enabled:
    """``with set_grad_enabled(False): ...`` or as a decorator; restores the mode on exit."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.prev = settings.grad_enabled
        settings.grad_enabled = self.mode  # like torch: takes effect even when not used in `with`

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        settings.grad_enabled = self.prev

    def __call__(self, fn: Callable) -> Callable:
        settings.grad_enabled = self.prev  # used as a decorator: do not change the mode now
        return _run_with_mode(fn, self.mode)


class _ModeContext:
    """Base of no_grad / enable_grad: a context manager and a decorator."""

    mode = True

    def __enter__(self) -> None:
        self.prev = settings.grad_enabled
        settings.grad_enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        settings.grad_enabled = self.prev

    def __call__(self, fn: Callable) -> Callable:
        return _run_with_mode(fn, self.mode)


class no_grad(_ModeContext):
    """``with mg.no_grad():`` ops inside build no graph (inference, weight updates)."""

    mode = False


class enable_grad(_ModeContext):
    """``with mg.enable_grad():`` re-enables graph building inside a ``no_grad`` block."""

    mode = True


inference_mode = no_grad  # torch's faster no_grad; here the two are the same


def is_grad_enabled() -> bool:
    """True when ops record the graph."""
    return settings.grad_enabled
from .function import Function, FunctionCtx  # noqa: F401
