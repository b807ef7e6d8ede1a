"""Facts about the C core for the CLI (``python -m micrograd info``) and the benchmark tables,
so that nothing outside this package imports ``micrograd._C``."""
from __future__ import annotations

#: mg_gemm_isa()'s answer, by name
GEMM_ISA_NAMES = {2: "avx512f", 1: "avx2+fma", 0: "portable"}


def _lib():
    """micrograd._C's lib, or None with the reason when it cannot be used."""
    from . import C_IMPORT_ERROR, REGISTRY
    if "c" not in REGISTRY:
        return None, str(C_IMPORT_ERROR)
    from .._C import lib
    return lib, None


def info() -> dict:
    """What this install's C core is: ``{"built": bool, "error": str | None, "gemm_isa": str,
    "openmp": bool, "max_threads": int}`` (the last three only when built)."""
    lib, error = _lib()
    if lib is None:
        return {"built": False, "error": error}
    return {"built": True, "error": None, "gemm_isa": GEMM_ISA_NAMES[lib.mg_gemm_isa()],
            "openmp": bool(lib.mg_has_openmp()), "max_threads": int(lib.mg_max_threads())}


def fma_peak_flops(iters: int, nthreads: int) -> float:
    """Runs ``iters`` rounds of independent FMA chains on each of ``nthreads`` threads at the
    widest vector width the CPU has and returns the flops done; time the call to get the peak.
    0.0 without the C core or without an FMA unit."""
    lib, _ = _lib()
    return 0.0 if lib is None else float(lib.mg_fma_peak_f32(iters, nthreads))
