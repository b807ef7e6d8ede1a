"""Backend registry: the backends this install has, by name, and the default choice.

``MICROGRAD_BACKEND=c|numpy`` picks the default at import. Without it, the C backend is used when
``micrograd._C`` was built, otherwise NumPy with one warning. Asking for ``"c"`` when it is not
built is an error, never a silent substitution. Which backend a thread's ops use is a per-thread
setting (``micrograd.core.settings``: ``set_backend``, ``use_backend``); this package only
computes and knows nothing of the layers above it.
"""
from __future__ import annotations

import os
import warnings

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


def lookup(name: str):
    """The backend object called ``name``; a clear error when it is unknown or not built."""
    if name in REGISTRY:
        return REGISTRY[name]
    if name == "c":
        raise RuntimeError(
            f"micrograd: the C backend is not available ({C_IMPORT_ERROR}). Reinstall with a C "
            "compiler present (pip install -e . --force-reinstall) or use backend 'numpy'.")
    raise ValueError(f"micrograd: unknown backend {name!r}; choose one of {sorted(REGISTRY)}")


def default():
    """The backend ops use unless told otherwise: MICROGRAD_BACKEND's, else C when built."""
    requested = os.environ.get("MICROGRAD_BACKEND", "").strip().lower()
    if requested:
        return lookup(requested)
    if "c" in REGISTRY:
        return REGISTRY["c"]
    warnings.warn(f"micrograd: C core not available ({C_IMPORT_ERROR}); using the NumPy "
                  "backend (slower). Set MICROGRAD_BACKEND=numpy to silence this warning.",
                  RuntimeWarning, stacklevel=3)
    return REGISTRY["numpy"]


def available_backends() -> list[str]:
    """Names of the backends that can be used on this install."""
    return sorted(REGISTRY)


# ---- the C core's facts and the routing switch (for the CLI, the benchmarks and the tests) ----
from .c_info import fma_peak_flops, info  # noqa: E402,F401
from .force import force_c, force_c_enabled  # noqa: E402,F401
