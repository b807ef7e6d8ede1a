"""Backend registry: which kernels compute, chosen at import and switchable at run time.

``MICROGRAD_BACKEND=c|numpy`` picks the process-wide default at import. Without it, the C backend
is used when ``micrograd._C`` was built, otherwise NumPy with one warning. Asking for ``"c"`` when
it is not built is an error, never a silent substitution. ``set_backend`` changes the default;
``use_backend`` switches the calling thread only (the active backend is a per-thread setting,
``micrograd.core.settings``); ops read it as ``settings.backend``.
"""
from __future__ import annotations

import contextlib
import os
import warnings

from ..core.settings import Settings, settings, thread_value
from .numpy_backend import NumpyBackend

REGISTRY: dict = {"numpy": NumpyBackend()}
C_IMPORT_ERROR: Exception | None = None
try:
    from .c_backend import CBackend
    REGISTRY["c"] = CBackend()
except ImportError as exc:  # the compiled module is missing: not built, or built for another ABI
    C_IMPORT_ERROR = exc
except AttributeError as exc:  # a stale build that lacks a kernel this version needs
    C_IMPORT_ERROR = ImportError(f"micrograd._C is out of date ({exc}); reinstall to rebuild it")


def _lookup(name: str):
    if name in REGISTRY:
        return REGISTRY[name]
    if name == "c":
        raise RuntimeError(
            f"micrograd: the C backend is not available ({C_IMPORT_ERROR}). Reinstall with a C "
            "compiler present (pip install -e . --force-reinstall) or use backend 'numpy'.")
    raise ValueError(f"micrograd: unknown backend {name!r}; choose one of {sorted(REGISTRY)}")


def _initial():
    requested = os.environ.get("MICROGRAD_BACKEND", "").strip().lower()
    if requested:
        return _lookup(requested)
    if "c" in REGISTRY:
        return REGISTRY["c"]
    warnings.warn(f"micrograd: C core not available ({C_IMPORT_ERROR}); using the NumPy "
                  "backend (slower). Set MICROGRAD_BACKEND=numpy to silence this warning.",
                  RuntimeWarning, stacklevel=3)
    return REGISTRY["numpy"]


Settings.backend = _initial()  # the process-wide default every thread starts from


def current():
    """The backend object the calling thread's ops use."""
    return settings.backend


def get_backend() -> str:
    """The name of the calling thread's active backend: ``"c"`` or ``"numpy"``."""
    return settings.backend.name


def set_backend(name: str) -> None:
    """Make ``name`` the process-wide default backend, for this thread and every thread that has
    not chosen its own with ``use_backend``."""
    Settings.backend = _lookup(name)
    settings.__dict__.pop("backend", None)


def available_backends() -> list[str]:
    """Names of the backends that can be used on this install."""
    return sorted(REGISTRY)


def use_backend(name: str) -> contextlib.AbstractContextManager:
    """``with use_backend("numpy"): ...`` runs the block on that backend in this thread only,
    then restores the thread's previous choice."""
    return thread_value("backend", _lookup(name))
