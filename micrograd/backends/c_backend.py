"""The C backend: thin wrappers over the cffi module ``micrograd._C``.

Each wrapper does only glue: pick the kernel for the dtype, make inputs contiguous, allocate the
output, call, return. Anything the kernels have no version for (integer dtypes, mixed dtypes,
broadcasting binary ops, batched matmul with broadcast batch dims) is computed by the inherited
NumPy reference method, so results never depend on which path ran. This is the only module that
imports ``micrograd._C``.

Per-call cost matters (a 64x64 op is a few microseconds), so the wrappers avoid the obvious
costs: kernels are looked up once per dtype when the class is built, buffers go through
``ffi.from_buffer`` (no copy), ``np.ascontiguousarray`` is only called when needed, and ops
where NumPy's single ufunc call is cheaper than any cffi call are left to NumPy (see
``CBackend``). docs/BENCHMARKS.md has the measured per-call costs.
"""
from __future__ import annotations

import os

import numpy as np

from .._C import ffi, lib  # ImportError here means "not built": the registry handles it
from .base import LINEAR_ACTIVATIONS
from .numpy_backend import NumpyBackend

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_CTYPE = {_F32: "float[]", _F64: "double[]"}
_SUFFIX = {_F32: "f32", _F64: "f64"}
_I64 = np.dtype(np.int64)
#: linear's epilogue activations as the C core numbers them (micrograd.h's MG_ACT_*)
_ACT = {None: lib.MG_ACT_NONE,
        **{name: getattr(lib, f"MG_ACT_{name.upper()}") for name in LINEAR_ACTIVATIONS}}
#: 2-D matmuls of at most this many multiply-adds go to NumPy: below it the cffi call (~1.5 us:
#: buffer exports, output allocation, 14 arguments) plus the GEMM's setup cost more than
#: OpenBLAS's whole small-matrix product (64^3: 3.7 vs 2.9 us; 96^3: 8.5 vs 7.6 us; 128^3:
#: 18.1 vs 19.9 us, one thread). The fused layer calls the C GEMM directly, without this cost.
_SMALL_WORK = 96 ** 3
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


def _same(p: np.ndarray, x, state: bool = True) -> bool:
    """x can be handed to an in-place kernel next to p: same dtype and shape, C-contiguous, and
    writable when the kernel writes it (p and the optimizer state; not the gradient)."""
    return (isinstance(x, np.ndarray) and x.dtype == p.dtype and x.shape == p.shape
            and _ok(x) and _ok(p) and p.flags.writeable
            and (not state or x.flags.writeable))


def _ok(x: np.ndarray) -> bool:
    """C-contiguous and aligned: what a kernel may read through a plain T pointer (a view
    into a bytes buffer at an odd offset is contiguous but misaligned: undefined behaviour)."""
    f = x.flags
    return f.c_contiguous and f.aligned


def _c(x: np.ndarray) -> np.ndarray:
    return x if _ok(x) else np.require(x, requirements="CA")


def _unary(name: str):
    """A method running mg_<name>_<dtype>(out, x, n), or the NumPy reference for other dtypes."""
    kern = _kernels(name)
    reference = getattr(NumpyBackend, name)

    def method(self, x):
        k = kern.get(x.dtype)
        if k is None:
            return reference(self, x)
        fn, ct = k
        if not _ok(x):
            x = _c(x)
        out = np.empty_like(x)
        fn(_fb(ct, out), _fb(ct, x), x.size)
        return out

    method.__name__ = method.__qualname__ = name
    method.__doc__ = reference.__doc__
    return method


def _binary(name: str):
    """A method running mg_<name>_<dtype>(out, a, b, n) on equal shapes and dtypes, else the
    NumPy reference (which broadcasts)."""
    kern = _kernels(name)
    reference = getattr(NumpyBackend, name)

    def method(self, a, b):
        k = kern.get(a.dtype)
        if k is None or a.dtype != b.dtype or a.shape != b.shape:
            return reference(self, a, b)
        fn, ct = k
        if not _ok(a):
            a = _c(a)
        if not _ok(b):
            b = _c(b)
        out = np.empty_like(a)
        fn(_fb(ct, out), _fb(ct, a), _fb(ct, b), a.size)
        return out

    method.__name__ = method.__qualname__ = name
    method.__doc__ = reference.__doc__
    return method


class CBackend(NumpyBackend):
    """Kernels in C for float32/float64; NumPy for everything else.

    Plain elementwise arithmetic (add, sub, mul, div, exp, log) and tanh stay on NumPy: one
    ufunc each (tanh and exp with SIMD math), as fast as a C loop on large arrays and cheaper per
    call on small ones (measured in docs/BENCHMARKS.md), so routing them through cffi would
    only add overhead. Their C kernels (mg_add_f32, mg_tanh_f32, ...) exist and are tested
    directly in tests/test_kernels_math.py."""

    name = "c"
    #: every kernel this backend overrides; tests/test_backend_parity.py walks this tuple
    native = ("matmul", "linear", "linear_backward", "relu", "relu_backward", "leaky_relu",
              "leaky_relu_backward", "sigmoid", "sigmoid_backward", "tanh_backward", "gelu", "gelu_backward",
              "softmax", "softmax_backward", "log_softmax", "log_softmax_backward",
              "cross_entropy", "cross_entropy_backward", "sgd_step", "adam_step")

    def __init__(self) -> None:
        self.nthreads = thread_count()
        self._gemm = _kernels("gemm")
        self._linear = _kernels("linear")
        self._linear_backward = _kernels("linear_backward")
        self._fn = {name: _kernels(name) for name in
                    ("softmax", "log_softmax", "softmax_backward", "log_softmax_backward",
                     "leaky_relu", "leaky_relu_backward", "cross_entropy",
                     "cross_entropy_backward", "sgd_step", "adam_step")}

    relu = _unary("relu")
    sigmoid = _unary("sigmoid")
    gelu = _unary("gelu")
    relu_backward = _binary("relu_backward")
    sigmoid_backward = _binary("sigmoid_backward")
    tanh_backward = _binary("tanh_backward")
    gelu_backward = _binary("gelu_backward")

    def leaky_relu(self, x, slope):
        k = self._fn["leaky_relu"].get(x.dtype)
        if k is None:
            return NumpyBackend.leaky_relu(self, x, slope)
        fn, ct = k
        x = _c(x)
        out = np.empty_like(x)
        fn(_fb(ct, out), _fb(ct, x), float(slope), x.size)
        return out

    def leaky_relu_backward(self, x, g, slope):
        k = self._fn["leaky_relu_backward"].get(x.dtype)
        if k is None or x.dtype != g.dtype or x.shape != g.shape:
            return NumpyBackend.leaky_relu_backward(self, x, g, slope)
        fn, ct = k
        x, g = _c(x), _c(g)
        out = np.empty_like(g)
        fn(_fb(ct, out), _fb(ct, x), _fb(ct, g), float(slope), x.size)
        return out

    # softmax family over the last axis of a 2-D (N, C) array -------------------------------
    def _rows(self, name: str, x: np.ndarray) -> np.ndarray:
        k = self._fn[name].get(x.dtype)
        if k is None or x.ndim != 2:
            return getattr(NumpyBackend, name)(self, x)
        fn, ct = k
        x = _c(x)
        out = np.empty_like(x)
        fn(_fb(ct, out), _fb(ct, x), x.shape[0], x.shape[1])
        return out

    def _rows_backward(self, name: str, y: np.ndarray, g: np.ndarray) -> np.ndarray:
        k = self._fn[name].get(y.dtype)
        if k is None or y.ndim != 2 or y.dtype != g.dtype or y.shape != g.shape:
            return getattr(NumpyBackend, name)(self, y, g)
        fn, ct = k
        y, g = _c(y), _c(g)
        out = np.empty_like(y)
        fn(_fb(ct, out), _fb(ct, y), _fb(ct, g), y.shape[0], y.shape[1])
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
        bad = fn(_fb(ct, loss), _fb(ct, prob),
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
        bad = fn(_fb(ct, out), _fb(ct, prob), _fb("int64_t[]", target),
                 _fb(ct, g), n, c)
        if bad >= 0:
            raise _target_error(target, bad, c)
        return out

    # optimizer updates, in place (one fused pass instead of NumPy's 2-10 array operations) --
    def sgd_step(self, p, g, buf, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, maximize=False, first=False):
        k = self._fn["sgd_step"].get(p.dtype)
        if k is None or not _same(p, g, False) or (momentum and not _same(p, buf)):
            return NumpyBackend.sgd_step(self, p, g, buf, lr, momentum, dampening, weight_decay,
                                         nesterov, maximize, first)
        fn, ct = k
        fn(_fb(ct, p), _fb(ct, buf) if momentum else ffi.NULL, _fb(ct, g), p.size, lr, momentum,
           dampening, weight_decay, bool(nesterov), bool(maximize), bool(first))

    def adam_step(self, p, g, m, v, vmax, step, lr, beta1, beta2, eps, weight_decay=0.0,
                  decoupled=False, maximize=False):
        k = self._fn["adam_step"].get(p.dtype)
        if (k is None or not (_same(p, g, False) and _same(p, m) and _same(p, v))
                or (vmax is not None and not _same(p, vmax))):
            return NumpyBackend.adam_step(self, p, g, m, v, vmax, step, lr, beta1, beta2, eps,
                                          weight_decay, decoupled, maximize)
        if step < 1:
            raise ValueError(f"adam_step: step must be >= 1, got {step}")
        fn, ct = k
        fn(_fb(ct, p), _fb(ct, m), _fb(ct, v), ffi.NULL if vmax is None else _fb(ct, vmax),
           _fb(ct, g), p.size, step, lr, beta1, beta2, eps, weight_decay, bool(decoupled),
           bool(maximize))

    # linear algebra ---------------------------------------------------------------------------
    def matmul(self, a, b, trans_a=False, trans_b=False):
        kern = self._gemm.get(a.dtype)
        if a.ndim == 2 and b.ndim == 2:
            m, k, n = _op_dims(a, b, trans_a, trans_b)
            if kern is None or a.dtype != b.dtype or m * n * k <= _SMALL_WORK:
                return NumpyBackend.matmul(self, a, b, trans_a, trans_b)  # see _SMALL_WORK
            return self._gemm2d(kern, a, b, trans_a, trans_b)
        if kern is None or a.dtype != b.dtype:
            return NumpyBackend.matmul(self, a, b, trans_a, trans_b)
        if a.ndim >= 2 and b.ndim == 2 and not trans_a:
            # (..., m, k) @ (k, n): one GEMM over the stacked rows when a is contiguous
            if _ok(a):
                out = self._gemm2d(kern, a.reshape(-1, a.shape[-1]), b, False, trans_b)
                return out.reshape(a.shape[:-1] + out.shape[-1:])
        elif a.ndim >= 3 and a.ndim == b.ndim and a.shape[:-2] == b.shape[:-2]:
            return self._gemm_batched(kern, a, b, trans_a, trans_b)
        return NumpyBackend.matmul(self, a, b, trans_a, trans_b)

    def _gemm2d(self, kern, a, b, trans_a, trans_b):
        """op(a) @ op(b) for 2-D a, b. A transposed (Fortran-ordered) view is passed as its
        C-ordered transpose with the flag flipped, so backward's ``w.T`` costs no copy."""
        fn, ct = kern
        if not _ok(a):
            a, trans_a = (a.T, not trans_a) if _ok(a.T) else (_c(a), trans_a)
        if not _ok(b):
            b, trans_b = (b.T, not trans_b) if _ok(b.T) else (_c(b), trans_b)
        m, k, n = _op_dims(a, b, trans_a, trans_b)
        out = np.empty((m, n), a.dtype)
        fn(_fb(ct, out), _fb(ct, a), _fb(ct, b), m, n, k, trans_a, trans_b, 1.0, 0.0,
           a.shape[1] or 1, b.shape[1] or 1, n or 1, self.nthreads)
        return out

    def _gemm_batched(self, kern, a, b, trans_a, trans_b):
        """(..., m, k) @ (..., k, n) with equal batch dims: one GEMM per matrix."""
        batch = a.shape[:-2]
        a3 = a.reshape((-1,) + a.shape[-2:])
        b3 = b.reshape((-1,) + b.shape[-2:])
        outs = [self._gemm2d(kern, a3[i], b3[i], trans_a, trans_b) for i in range(len(a3))]
        out = np.stack(outs) if outs else NumpyBackend.matmul(self, a, b, trans_a, trans_b)
        return out.reshape(batch + out.shape[-2:])

    def linear(self, x, w, b=None, activation=None):
        kern = self._linear.get(x.dtype)
        act = _ACT.get(activation)
        if (kern is None or act is None or x.ndim != 2 or w.ndim != 2 or w.dtype != x.dtype
                or (b is not None and (b.dtype != x.dtype or b.shape != (w.shape[0],)))):
            return NumpyBackend.linear(self, x, w, b, activation)
        fn, ct = kern
        n, k = x.shape
        m = w.shape[0]
        if w.shape[1] != k:
            raise ValueError(f"linear: x is {x.shape} but w is {w.shape}; w must be (M, {k})")
        if not _ok(x):
            x = _c(x)
        if not _ok(w):
            w = _c(w)
        y = np.empty((n, m), x.dtype)
        fn(_fb(ct, y), _fb(ct, x), _fb(ct, w),
           ffi.NULL if b is None else _fb(ct, _c(b)), n, k, m, act, self.nthreads)
        return y

    def linear_backward(self, x, w, y, g, activation, need):
        kern = self._linear_backward.get(g.dtype)
        act = _ACT.get(activation)
        if (kern is None or act is None or x.ndim != 2 or w.ndim != 2 or g.ndim != 2
                or not x.dtype == w.dtype == g.dtype
                or (act and (y.dtype != g.dtype or y.shape != g.shape))):
            return NumpyBackend.linear_backward(self, x, w, y, g, activation, need)
        fn, ct = kern
        n, k = x.shape
        m = w.shape[0]
        if w.shape[1] != k or g.shape != (n, m):
            raise ValueError(f"linear_backward: x is {x.shape}, w is {w.shape} and g is "
                             f"{g.shape}; expected w (M, {k}) and g ({n}, M)")
        x, w, g = _c(x), _c(w), _c(g)
        dx = np.empty((n, k), g.dtype) if need[0] else None
        dw = np.empty((m, k), g.dtype) if need[1] else None
        db = np.empty(m, g.dtype) if len(need) > 2 and need[2] else None
        null = ffi.NULL
        fn(null if dx is None else _fb(ct, dx), null if dw is None else _fb(ct, dw),
           null if db is None else _fb(ct, db),
           _fb(ct, np.empty_like(g)) if act else null, _fb(ct, x), _fb(ct, w),
           _fb(ct, _c(y)) if act else null, _fb(ct, g), n, k, m, act, self.nthreads)
        return dx, dw, db


def _op_dims(a: np.ndarray, b: np.ndarray, trans_a: bool, trans_b: bool) -> tuple:
    """(m, k, n) of op(a) (m, k) @ op(b) (k, n) for 2-D a, b; ValueError if the k differ."""
    (r, s), (r2, s2) = a.shape, b.shape
    m, k = (s, r) if trans_a else (r, s)
    k2, n = (s2, r2) if trans_b else (r2, s2)
    if k != k2:
        raise ValueError(f"matmul: inner dimensions differ: op(a) is ({m}, {k}), op(b) is "
                         f"({k2}, {n})")
    return m, k, n


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
