"""The C backend: thin wrappers over the cffi module ``micrograd._C``.

Each wrapper does only glue: pick the kernel for the dtype, make inputs contiguous, allocate the
output, call, return. Anything the kernels have no version for (integer dtypes, mixed dtypes,
broadcasting binary ops, batched matmul with broadcast batch dims) is computed by the inherited
NumPy reference method, so results never depend on which path ran. This is the only module that
imports ``micrograd._C``.

Per-call cost matters (a 64x64 op is a few microseconds), so the wrappers avoid the obvious
costs: kernels are looked up once per dtype in ``__init__``, buffers go through
``ffi.from_buffer`` (no copy), and ``np.ascontiguousarray`` is only called when needed.
"""
from __future__ import annotations

import os

import numpy as np

from .._C import ffi, lib  # ImportError here means "not built": the registry handles it
from .numpy_backend import NumpyBackend

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_CTYPE = {_F32: "float[]", _F64: "double[]"}
_SUFFIX = {_F32: "f32", _F64: "f64"}
_I64 = np.dtype(np.int64)
_fb = ffi.from_buffer


def _kernels(name: str) -> dict:
    """{dtype: (lib.mg_<name>_<suffix>, cffi array type)} for the dtypes the C core has."""
    return {dt: (getattr(lib, f"mg_{name}_{sfx}"), _CTYPE[dt]) for dt, sfx in _SUFFIX.items()}


def thread_count() -> int:
    """MICROGRAD_NUM_THREADS if set, else 0: the OpenMP default, which honours OMP_NUM_THREADS."""
    value = os.environ.get("MICROGRAD_NUM_THREADS", "").strip()
    if not value:
        return 0
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"MICROGRAD_NUM_THREADS must be a positive integer, got {value!r}")
    return int(value)


def _c(x: np.ndarray) -> np.ndarray:
    return x if x.flags.c_contiguous else np.ascontiguousarray(x)


class CBackend(NumpyBackend):
    """Kernels in C for float32/float64; NumPy for everything else."""

    name = "c"
    _UNARY = ("exp", "log", "relu", "sigmoid", "tanh", "gelu")
    _BINARY = ("add", "sub", "mul", "div", "relu_backward", "sigmoid_backward",
               "tanh_backward", "gelu_backward")
    _ROWWISE = ("softmax", "log_softmax")
    _ROWWISE_BACKWARD = ("softmax_backward", "log_softmax_backward")
    #: every kernel this backend overrides; tests/test_backend_parity.py walks this tuple
    native = (("matmul", "linear", "leaky_relu", "leaky_relu_backward", "cross_entropy",
               "cross_entropy_backward") + _UNARY + _BINARY + _ROWWISE + _ROWWISE_BACKWARD)

    def __init__(self) -> None:
        self.nthreads = thread_count()
        self._gemm = _kernels("gemm")
        self._linear = _kernels("linear")
        self._fn = {name: _kernels(name) for name in
                    self._UNARY + self._BINARY + self._ROWWISE + self._ROWWISE_BACKWARD
                    + ("leaky_relu", "leaky_relu_backward", "cross_entropy",
                       "cross_entropy_backward")}

    # elementwise: one generic wrapper each for unary and binary kernels -------------------
    def _unary(self, name: str, x: np.ndarray) -> np.ndarray:
        k = self._fn[name].get(x.dtype)
        if k is None:
            return getattr(NumpyBackend, name)(self, x)
        fn, ct = k
        x = _c(x)
        out = np.empty_like(x)
        fn(_fb(ct, out, require_writable=True), _fb(ct, x), x.size)
        return out

    def _binary(self, name: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        k = self._fn[name].get(a.dtype)
        if k is None or a.dtype != b.dtype or a.shape != b.shape:
            return getattr(NumpyBackend, name)(self, a, b)
        fn, ct = k
        a, b = _c(a), _c(b)
        out = np.empty_like(a)
        fn(_fb(ct, out, require_writable=True), _fb(ct, a), _fb(ct, b), a.size)
        return out

    def exp(self, x): return self._unary("exp", x)
    def log(self, x): return self._unary("log", x)
    def relu(self, x): return self._unary("relu", x)
    def sigmoid(self, x): return self._unary("sigmoid", x)
    def tanh(self, x): return self._unary("tanh", x)
    def gelu(self, x): return self._unary("gelu", x)
    def add(self, a, b): return self._binary("add", a, b)
    def sub(self, a, b): return self._binary("sub", a, b)
    def mul(self, a, b): return self._binary("mul", a, b)
    def div(self, a, b): return self._binary("div", a, b)
    def relu_backward(self, x, g): return self._binary("relu_backward", x, g)
    def sigmoid_backward(self, y, g): return self._binary("sigmoid_backward", y, g)
    def tanh_backward(self, y, g): return self._binary("tanh_backward", y, g)
    def gelu_backward(self, x, g): return self._binary("gelu_backward", x, g)

    def leaky_relu(self, x, slope):
        k = self._fn["leaky_relu"].get(x.dtype)
        if k is None:
            return NumpyBackend.leaky_relu(self, x, slope)
        fn, ct = k
        x = _c(x)
        out = np.empty_like(x)
        fn(_fb(ct, out, require_writable=True), _fb(ct, x), float(slope), x.size)
        return out

    def leaky_relu_backward(self, x, g, slope):
        k = self._fn["leaky_relu_backward"].get(x.dtype)
        if k is None or x.dtype != g.dtype or x.shape != g.shape:
            return NumpyBackend.leaky_relu_backward(self, x, g, slope)
        fn, ct = k
        x, g = _c(x), _c(g)
        out = np.empty_like(g)
        fn(_fb(ct, out, require_writable=True), _fb(ct, x), _fb(ct, g), float(slope), x.size)
        return out

    # softmax family over the last axis of a 2-D (N, C) array -------------------------------
    def _rows(self, name: str, x: np.ndarray) -> np.ndarray:
        k = self._fn[name].get(x.dtype)
        if k is None or x.ndim != 2:
            return getattr(NumpyBackend, name)(self, x)
        fn, ct = k
        x = _c(x)
        out = np.empty_like(x)
        fn(_fb(ct, out, require_writable=True), _fb(ct, x), x.shape[0], x.shape[1])
        return out

    def _rows_backward(self, name: str, y: np.ndarray, g: np.ndarray) -> np.ndarray:
        k = self._fn[name].get(y.dtype)
        if k is None or y.ndim != 2 or y.dtype != g.dtype or y.shape != g.shape:
            return getattr(NumpyBackend, name)(self, y, g)
        fn, ct = k
        y, g = _c(y), _c(g)
        out = np.empty_like(y)
        fn(_fb(ct, out, require_writable=True), _fb(ct, y), _fb(ct, g), y.shape[0], y.shape[1])
        return out

    def softmax(self, x): return self._rows("softmax", x)
    def log_softmax(self, x): return self._rows("log_softmax", x)
    def softmax_backward(self, y, g): return self._rows_backward("softmax_backward", y, g)

    def log_softmax_backward(self, y, g):
        return self._rows_backward("log_softmax_backward", y, g)

    def cross_entropy(self, logits, target):
        k = self._fn["cross_entropy"].get(logits.dtype)
        if k is None or logits.ndim != 2:
            return NumpyBackend.cross_entropy(self, logits, target)
        fn, ct = k
        n, c = logits.shape
        logits, target = _c(logits), _targets(target, n)
        loss = np.empty(n, logits.dtype)
        prob = np.empty_like(logits)
        bad = fn(_fb(ct, loss, require_writable=True), _fb(ct, prob, require_writable=True),
                 _fb(ct, logits), _fb("int64_t[]", target), n, c)
        if bad >= 0:
            raise _target_error(target, bad, c)
        return loss, prob

    def cross_entropy_backward(self, prob, target, g):
        k = self._fn["cross_entropy_backward"].get(prob.dtype)
        if k is None or prob.ndim != 2:
            return NumpyBackend.cross_entropy_backward(self, prob, target, g)
        fn, ct = k
        n, c = prob.shape
        if g.shape != (n,):
            raise ValueError(f"cross_entropy_backward: g must have shape ({n},), got {g.shape}")
        prob, target = _c(prob), _targets(target, n)
        g = _c(g.astype(prob.dtype, copy=False))
        out = np.empty_like(prob)
        bad = fn(_fb(ct, out, require_writable=True), _fb(ct, prob), _fb("int64_t[]", target),
                 _fb(ct, g), n, c)
        if bad >= 0:
            raise _target_error(target, bad, c)
        return out

    # linear algebra ---------------------------------------------------------------------------
    def matmul(self, a, b, trans_a=False, trans_b=False):
        k = self._gemm.get(a.dtype)
        if k is None or a.dtype != b.dtype:
            return NumpyBackend.matmul(self, a, b, trans_a, trans_b)
        if a.ndim == 2 and b.ndim == 2:
            return self._gemm2d(k, a, b, trans_a, trans_b)
        if a.ndim >= 2 and b.ndim == 2 and not trans_a:
            # (..., m, k) @ (k, n): one GEMM over the stacked rows when a is contiguous
            if a.flags.c_contiguous:
                out = self._gemm2d(k, a.reshape(-1, a.shape[-1]), b, False, trans_b)
                return out.reshape(a.shape[:-1] + out.shape[-1:])
        elif a.ndim >= 3 and a.ndim == b.ndim and a.shape[:-2] == b.shape[:-2]:
            return self._gemm_batched(k, a, b, trans_a, trans_b)
        return NumpyBackend.matmul(self, a, b, trans_a, trans_b)

    def _gemm2d(self, kern, a, b, trans_a, trans_b, out=None):
        fn, ct = kern
        a, trans_a = _row_major(a, trans_a)
        b, trans_b = _row_major(b, trans_b)
        m, k = (a.shape[1], a.shape[0]) if trans_a else a.shape
        k2, n = (b.shape[1], b.shape[0]) if trans_b else b.shape
        if k != k2:
            raise ValueError(f"matmul: inner dimensions differ: op(a) is ({m}, {k}), "
                             f"op(b) is ({k2}, {n})")
        out = np.empty((m, n), dtype=a.dtype)
        fn(_fb(ct, out, require_writable=True), _fb(ct, a), _fb(ct, b), m, n, k,
           trans_a, trans_b, 1.0, 0.0, max(a.shape[1], 1), max(b.shape[1], 1), max(n, 1),
           self.nthreads)
        return out

    def _gemm_batched(self, kern, a, b, trans_a, trans_b):
        """(..., m, k) @ (..., k, n) with equal batch dims: one GEMM per matrix."""
        batch = a.shape[:-2]
        a3 = a.reshape((-1,) + a.shape[-2:])
        b3 = b.reshape((-1,) + b.shape[-2:])
        outs = [self._gemm2d(kern, a3[i], b3[i], trans_a, trans_b) for i in range(len(a3))]
        out = np.stack(outs) if outs else NumpyBackend.matmul(self, a, b, trans_a, trans_b)
        return out.reshape(batch + out.shape[-2:])

    def linear(self, x, w, b=None):
        kern = self._linear.get(x.dtype)
        if (kern is None or x.ndim != 2 or w.ndim != 2 or w.dtype != x.dtype
                or (b is not None and (b.dtype != x.dtype or b.shape != (w.shape[0],)))):
            return NumpyBackend.linear(self, x, w, b)
        fn, ct = kern
        n, k = x.shape
        m = w.shape[0]
        if w.shape[1] != k:
            raise ValueError(f"linear: x is {x.shape} but w is {w.shape}; w must be (M, {k})")
        x, w = _c(x), _c(w)
        y = np.empty((n, m), x.dtype)
        fn(_fb(ct, y, require_writable=True), _fb(ct, x), _fb(ct, w),
           ffi.NULL if b is None else _fb(ct, _c(b)), n, k, m, self.nthreads)
        return y


def _targets(target: np.ndarray, n: int) -> np.ndarray:
    """Class indices as a contiguous int64 (n,) array (the C kernels bounds-check the values)."""
    if target.shape != (n,):
        raise ValueError(f"cross_entropy: target must have shape ({n},), got {target.shape}")
    if target.dtype != _I64:
        if target.dtype.kind not in "iu":
            raise TypeError(f"cross_entropy: target must hold integers, got {target.dtype}")
        target = target.astype(_I64)
    return _c(target)


def _target_error(target: np.ndarray, row: int, c: int) -> IndexError:
    return IndexError(f"cross_entropy: target[{row}] = {int(target[row])} is out of range for "
                      f"{c} classes")


def _row_major(x: np.ndarray, trans: bool) -> tuple[np.ndarray, bool]:
    """A C-contiguous array holding the same op(x), flipping the transpose flag when x is
    a transposed (Fortran-ordered) view, so backward's ``w.T`` costs no copy."""
    if x.flags.c_contiguous:
        return x, trans
    if x.flags.f_contiguous:
        return x.T, not trans
    return np.ascontiguousarray(x), trans
