"""The C backend: thin wrappers over the cffi module ``micrograd._C``.

Each wrapper does only glue: pick the kernel for the dtype, make inputs contiguous, allocate the
output, call, return. Anything the kernels have no version for (integer dtypes, mixed dtypes,
batched matmul) is computed by the inherited NumPy reference method, so results never depend on
which path ran. This is the only module that imports ``micrograd._C``.
"""
from __future__ import annotations

import os

import numpy as np

from .._C import ffi, lib  # ImportError here means "not built": the registry handles it
from .numpy_backend import NumpyBackend

_SUFFIX = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}


def _kernels(name: str) -> dict:
    """{dtype: lib.mg_<name>_<suffix>} for the dtypes the C core implements."""
    return {dt: getattr(lib, f"mg_{name}_{sfx}") for dt, sfx in _SUFFIX.items()}


def _thread_count() -> int:
    """MICROGRAD_NUM_THREADS if set, else 0 (the OpenMP default, which honours OMP_NUM_THREADS)."""
    value = os.environ.get("MICROGRAD_NUM_THREADS", "").strip()
    if not value:
        return 0
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"MICROGRAD_NUM_THREADS must be a positive integer, got {value!r}")
    return int(value)


class CBackend(NumpyBackend):
    """Kernels in C for float32/float64; NumPy for everything else."""

    name = "c"
    #: every kernel this backend overrides; tests/test_backend_parity.py walks this tuple
    native = ("matmul", "add", "mul", "exp", "log", "relu", "relu_backward", "sigmoid",
              "sigmoid_backward", "tanh", "tanh_backward")

    _UNARY = ("exp", "log", "relu", "sigmoid", "tanh")
    _BINARY = ("add", "mul", "relu_backward", "sigmoid_backward", "tanh_backward")

    def __init__(self) -> None:
        self.nthreads = _thread_count()
        self._gemm = _kernels("gemm")
        self._fn = {name: _kernels(name) for name in self._UNARY + self._BINARY}

    # elementwise: one generic wrapper each for unary and binary kernels -------------------
    def _unary(self, name: str, x: np.ndarray) -> np.ndarray:
        fn = self._fn[name].get(x.dtype)
        if fn is None:
            return getattr(NumpyBackend, name)(self, x)
        x = np.ascontiguousarray(x)
        out = np.empty_like(x)
        fn(ffi.from_buffer(out), ffi.from_buffer(x), x.size)
        return out

    def _binary(self, name: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        fn = self._fn[name].get(a.dtype)
        if fn is None or a.dtype != b.dtype or a.shape != b.shape:
            return getattr(NumpyBackend, name)(self, a, b)
        a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
        out = np.empty_like(a)
        fn(ffi.from_buffer(out), ffi.from_buffer(a), ffi.from_buffer(b), a.size)
        return out

    def exp(self, x): return self._unary("exp", x)
    def log(self, x): return self._unary("log", x)
    def relu(self, x): return self._unary("relu", x)
    def sigmoid(self, x): return self._unary("sigmoid", x)
    def tanh(self, x): return self._unary("tanh", x)
    def add(self, a, b): return self._binary("add", a, b)
    def mul(self, a, b): return self._binary("mul", a, b)
    def relu_backward(self, x, g): return self._binary("relu_backward", x, g)
    def sigmoid_backward(self, y, g): return self._binary("sigmoid_backward", y, g)
    def tanh_backward(self, y, g): return self._binary("tanh_backward", y, g)

    # matmul ---------------------------------------------------------------------------------
    def matmul(self, a, b, trans_a=False, trans_b=False):
        fn = self._gemm.get(a.dtype)
        if fn is None or a.ndim != 2 or b.ndim != 2 or a.dtype != b.dtype:
            return NumpyBackend.matmul(self, a, b, trans_a, trans_b)
        a, trans_a = _row_major(a, trans_a)
        b, trans_b = _row_major(b, trans_b)
        m, k = (a.shape[1], a.shape[0]) if trans_a else a.shape
        k2, n = (b.shape[1], b.shape[0]) if trans_b else b.shape
        if k != k2:
            raise ValueError(f"matmul: inner dimensions differ ({m}, {k}) @ ({k2}, {n})")
        out = np.empty((m, n), dtype=a.dtype)
        fn(ffi.from_buffer(out), ffi.from_buffer(a), ffi.from_buffer(b), m, n, k,
           trans_a, trans_b, 1.0, 0.0, a.shape[1], b.shape[1], n, self.nthreads)
        return out


def _row_major(x: np.ndarray, trans: bool) -> tuple[np.ndarray, bool]:
    """A C-contiguous array holding the same op(x), flipping the transpose flag when x is
    a transposed (Fortran-ordered) view, so backward's ``w.T`` costs no copy."""
    if x.flags.c_contiguous:
        return x, trans
    if x.flags.f_contiguous:
        return x.T, not trans
    return np.ascontiguousarray(x), trans
