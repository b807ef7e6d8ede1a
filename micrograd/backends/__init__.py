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
from pathlib import Path

from .force import force_c, force_c_enabled  # noqa: F401 - the tests' switch (force.py)
from .numpy_backend import NumpyBackend

REGISTRY: dict = {"numpy": NumpyBackend()}
C_IMPORT_ERROR: Exception | None = None
try:
    from .routing import CBackend
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
                  f"backend (slower).{_source_tree_hint()} Set MICROGRAD_BACKEND=numpy to "
                  "silence this warning.", RuntimeWarning, stacklevel=4)
    return REGISTRY["numpy"]


def _source_tree_hint() -> str:
    """Why a fresh clone often lands here: run from the clone's folder, ``python -m micrograd``
    imports the sources (which hold no compiled core) instead of what ``pip install .`` built."""
    root = Path(__file__).resolve().parents[2]
    if isinstance(C_IMPORT_ERROR, ModuleNotFoundError) and (root / "csrc").is_dir():
        return (f" This micrograd is the source folder {root / 'micrograd'}, which has no "
                "compiled core: build it there with `pip install -e .`, or run from another "
                "folder to use an installed copy.")
    return ""


def available_backends() -> list[str]:
    """Names of the backends that can be used on this install."""
    return sorted(REGISTRY)


def info() -> dict:
    """What this install's C core is, for ``python -m micrograd info`` and the benchmark tables:
    ``{"built": bool, "error": str | None, "gemm_isa": str, "openmp": bool, "max_threads": int}``
    (the last three only when built)."""
    if "c" not in REGISTRY:
        return {"built": False, "error": str(C_IMPORT_ERROR)}
    from .c_backend import build_info
    return {"built": True, "error": None, **build_info()}


def fma_peak_flops(iters: int, nthreads: int) -> float:
    """The flops done by ``iters`` rounds of independent FMA chains on each of ``nthreads``
    threads at the widest vector width the CPU has (time the call to get the peak); 0.0 without
    the C core."""
    if "c" not in REGISTRY:
        return 0.0
    from .c_backend import fma_peak_flops as run
    return run(iters, nthreads)
