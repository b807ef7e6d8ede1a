"""Backend registry: the backends this install has, by name, and the default choice.

``MICROGRAD_BACKEND=c|numpy`` picks the default at import. Without it, the C backend is used when
``micrograd._C`` was built, otherwise NumPy with one warning that says which ``micrograd`` was
imported, whether an installed copy with the core exists, and the fix. Asking for ``"c"`` when
it is not built is an error, never a silent substitution. Which backend a thread's ops use is a
per-thread setting (``micrograd.core.settings``: ``set_backend``, ``use_backend``); this package
only computes and knows nothing of the layers above it.
"""
from __future__ import annotations

import os
import sys
import warnings
from importlib.machinery import EXTENSION_SUFFIXES
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
        raise RuntimeError(f"micrograd: the C backend is not available ({C_IMPORT_ERROR}). "
                           f"{missing_core_advice()} Or use backend 'numpy'.")
    raise ValueError(f"micrograd: unknown backend {name!r}; choose one of {sorted(REGISTRY)}")


def default():
    """The backend ops use unless told otherwise: MICROGRAD_BACKEND's, else C when built."""
    requested = os.environ.get("MICROGRAD_BACKEND", "").strip().lower()
    if requested:
        return lookup(requested)
    if "c" in REGISTRY:
        return REGISTRY["c"]
    warnings.warn(f"micrograd: C core not available ({C_IMPORT_ERROR}); using the NumPy "
                  f"backend (slower). {missing_core_advice()} Set MICROGRAD_BACKEND=numpy to "
                  "silence this warning.", RuntimeWarning, stacklevel=4)
    return REGISTRY["numpy"]


PACKAGE = Path(__file__).resolve().parents[1]  # the micrograd folder this process imported


def copies_with_core(search_path: list[str] | None = None) -> list[Path]:
    """Other ``micrograd`` folders on ``sys.path`` (site-packages, ...) that hold a compiled
    core this interpreter can load: the installed copy a source folder may be hiding."""
    found = []
    for entry in sys.path if search_path is None else search_path:
        folder = Path(entry or ".").resolve() / "micrograd"
        if folder == PACKAGE or folder in found or not (folder / "__init__.py").is_file():
            continue
        if any((folder / f"_C{suffix}").is_file() for suffix in EXTENSION_SUFFIXES):
            found.append(folder)
    return found


def missing_core_advice() -> str:
    """Which micrograd was imported, whether an installed copy has the C core, and the fix."""
    if isinstance(C_IMPORT_ERROR, ModuleNotFoundError):
        where = f"This micrograd is {PACKAGE}, which has no compiled core"
    else:
        where = f"This micrograd is {PACKAGE}, whose compiled core does not load"
    if (PACKAGE.parent / "csrc").is_dir():  # a source folder: a clone's micrograd/
        others = copies_with_core()
        if others:
            return (f"{where}: it is a source folder, imported first because it is in the "
                    f"current directory or on PYTHONPATH, and it hides the installed copy "
                    f"{others[0]}, which has one. Run from another folder to use that copy, or "
                    f"build the core here: `pip install -e {PACKAGE.parent}`.")
        return (f"{where}: it is a source folder and no installed copy with a C core was "
                f"found. Build the core here (needs a C compiler): `pip install -e "
                f"{PACKAGE.parent}`.")
    return (f"{where} (installed without it, e.g. with MICROGRAD_NO_EXT=1, or built for "
            "another Python). Reinstall with a C compiler present: `pip install "
            "--force-reinstall --no-deps micrograd-tensor` (`pip install -e .` in a clone).")


def available_backends() -> list[str]:
    """Names of the backends that can be used on this install."""
    return sorted(REGISTRY)


def info() -> dict:
    """What this install's C core is and what it found on this CPU, for ``python -m micrograd
    info`` and the benchmark tables: ``{"built": bool, "error": str | None}``, and when built
    also "gemm_isa" (the GEMM micro-kernel: "avx512f", "avx2+fma", "sse2" or "portable"),
    "openmp", "max_threads", "cpu" (the CPU's name), "caches" (``{"l1d"|"l2"|"l3": {"size",
    "ways", "line", "shared_by"}, "source": "cpuid"|"sysconf"|"unknown"}``, bytes, 0 where
    unknown) and "gemm_blocking" (``{"float32"|"float64": {"mr", "nr", "kc", "mc", "nc",
    "a_span", "b_span"}}``: the blocking the GEMM derived from those caches)."""
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
