"""Glue to the C core ``micrograd._C``: every kernel bound once, one way to call it.

This module decides nothing: it runs the kernel it is asked for on inputs the caller has already
routed here (a dtype in ``DTYPES``, shapes the kernel takes). Which calls come here and which go
to the NumPy reference is ``routing.py``'s job. It is the only module that imports
``micrograd._C``.

The one call path: ``bind(name, writes)`` resolves ``mg_<name>_f32`` / ``mg_<name>_f64`` once,
as a Python caller taking the kernel's C arguments in order, ndarrays for its pointers (None is
NULL) and hands each buffer over with ``ffi.from_buffer`` (no copy). The first ``writes``
pointers are the ones the kernel writes (micrograd.h puts outputs first): fresh outputs, or
state updated in place, which is never copied (a copy would lose the update): it must be
C-contiguous and writable, else from_buffer raises. Every other array is read: it is made
C-contiguous and aligned, with ``np.require`` only when the flag check fails (a transposed
view, or a view at an odd byte offset, which a ``T *`` may not read). Each wrapper below only
allocates its outputs, calls, and returns them.

Per-call cost matters (a 64x64 relu with autograd is ~1.5 us in all), so the caller is
generated per kernel with its arguments spelled out: a generic loop over the arguments and a
``*args`` call into cffi measured ~0.25 us more per call (relu 64x64: 1.25 vs 1.0 us).
"""
from __future__ import annotations

import os
from typing import Callable

import numpy as np

from .._C import ffi, lib  # ImportError here means "not built": the registry handles it
from .base import LINEAR_ACTIVATIONS

F32, F64, I64 = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64)
#: the dtypes the C core has kernels for, and the suffix of their kernel names
DTYPES = {F32: "f32", F64: "f64"}
#: linear's epilogue activations as the C core numbers them (micrograd.h's MG_ACT_*)
ACTIVATIONS = {None: lib.MG_ACT_NONE,
               **{name: getattr(lib, f"MG_ACT_{name.upper()}") for name in LINEAR_ACTIVATIONS}}


def thread_count() -> int:
    """MICROGRAD_NUM_THREADS if set, else 0: the OpenMP default, which honours OMP_NUM_THREADS."""
    value = os.environ.get("MICROGRAD_NUM_THREADS", "").strip()
    if not value:
        return 0
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"MICROGRAD_NUM_THREADS must be a positive integer, got {value!r}")
    return int(value)


#: glibc's thresholds while the C core is loaded (csrc/memory.c): blocks up to 32 MiB (the most
#: glibc takes) come from the heap, and up to 256 MiB freed at its top stay mapped
KEEP_FREED = (32 << 20, 256 << 20)


def keep_freed_memory() -> bool:
    """Have the allocator keep what a training step frees for the next one (csrc/memory.c:
    no page faults on the next step's activations), unless MICROGRAD_KEEP_FREED_MEMORY=0.
    Whether it was set (False also without glibc)."""
    if os.environ.get("MICROGRAD_KEEP_FREED_MEMORY", "").strip() == "0":
        return False
    return bool(lib.mg_keep_freed_memory(*KEEP_FREED))


#: whether the allocator keeps freed memory in this process (set once, when the core loads)
KEEPS_FREED_MEMORY = keep_freed_memory()


# ---- the call path -------------------------------------------------------------------------
def _contiguous(a: np.ndarray) -> np.ndarray:
    """A C-contiguous, aligned copy of a (only called when a is not already)."""
    return np.require(a, requirements="CA")


_READ = """\
    if a{i} is None:
        a{i} = NULL
    else:
        f = a{i}.flags
        a{i} = from_buffer(t{i}, a{i} if f.c_contiguous and f.aligned else contiguous(a{i}))
"""
_WRITE = """\
    a{i} = NULL if a{i} is None else from_buffer(t{i}, a{i}, True)
"""


def _caller(fn, writes: int) -> Callable:
    """``fn`` (a cffi function) as a Python function taking ndarrays or None for its pointer
    parameters and numbers for the others, in C order; the first ``writes`` pointers are
    written by the kernel. Generated from the templates above so each pointer's conversion is
    inline code (see the module docstring for why)."""
    params = ffi.typeof(fn).args
    pointers = [i for i, p in enumerate(params) if p.kind == "pointer"]
    names = ", ".join(f"a{i}" for i in range(len(params)))
    body = "".join((_WRITE if n < writes else _READ).format(i=i) for n, i in enumerate(pointers))
    scope = {"fn": fn, "NULL": ffi.NULL, "from_buffer": ffi.from_buffer,
             "contiguous": _contiguous,
             **{f"t{i}": ffi.typeof(f"{params[i].item.cname}[]") for i in pointers}}
    exec(f"def call({names}):\n{body}    return fn({names})\n", scope)  # noqa: S102
    call = scope["call"]
    call.__name__ = call.__qualname__ = fn.__name__
    return call


def bind(name: str, writes: int = 1) -> dict[np.dtype, Callable]:
    """{dtype: caller of mg_<name>_<suffix>} for every dtype in ``DTYPES``; the kernel writes
    its first ``writes`` pointer arguments."""
    return {dt: _caller(getattr(lib, f"mg_{name}_{sfx}"), writes) for dt, sfx in DTYPES.items()}


# ---- wrappers: allocate the outputs, call, return them ---------------------------------------
# Each kernel is bound once here, at import (an AttributeError means a stale build: the registry
# reports it). A wrapper per kernel, not one taking the kernel's name: this is the hot path.
def _unary(name: str) -> Callable[[np.ndarray], np.ndarray]:
    """out = mg_<name>(x) elementwise, out like x: an activation's forward pass."""
    kernel = bind(name)

    def wrapper(x: np.ndarray) -> np.ndarray:
        out = np.empty(x.shape, x.dtype)
        kernel[x.dtype](out, x, x.size)
        return out
    wrapper.__name__ = wrapper.__qualname__ = name
    return wrapper


def _binary(name: str) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """dx = mg_<name>(x or y, g) elementwise, x and g of one shape and dtype: an activation's
    backward pass."""
    kernel = bind(name)

    def wrapper(x: np.ndarray, g: np.ndarray) -> np.ndarray:
        out = np.empty(g.shape, g.dtype)
        kernel[g.dtype](out, x, g, g.size)
        return out
    wrapper.__name__ = wrapper.__qualname__ = name
    return wrapper


def _rows(name: str) -> Callable[[np.ndarray], np.ndarray]:
    """out = mg_<name>(x) over the rows of a 2-D (n, c) x: softmax, log_softmax."""
    kernel = bind(name)

    def wrapper(x: np.ndarray) -> np.ndarray:
        out = np.empty(x.shape, x.dtype)
        n, c = x.shape
        kernel[x.dtype](out, x, n, c)
        return out
    wrapper.__name__ = wrapper.__qualname__ = name
    return wrapper


def _rows_backward(name: str) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """dx = mg_<name>(y, g) over the rows of 2-D (n, c) y (the forward's output) and g."""
    kernel = bind(name)

    def wrapper(y: np.ndarray, g: np.ndarray) -> np.ndarray:
        out = np.empty(y.shape, y.dtype)
        n, c = y.shape
        kernel[y.dtype](out, y, g, n, c)
        return out
    wrapper.__name__ = wrapper.__qualname__ = name
    return wrapper


relu, sigmoid, tanh, gelu = (_unary(n) for n in ("relu", "sigmoid", "tanh", "gelu"))
relu_backward, sigmoid_backward, tanh_backward, gelu_backward = (
    _binary(n) for n in ("relu_backward", "sigmoid_backward", "tanh_backward", "gelu_backward"))
softmax, log_softmax = _rows("softmax"), _rows("log_softmax")
softmax_backward = _rows_backward("softmax_backward")
log_softmax_backward = _rows_backward("log_softmax_backward")
_LEAKY_RELU, _LEAKY_RELU_BACKWARD = bind("leaky_relu"), bind("leaky_relu_backward")
_CROSS_ENTROPY = bind("cross_entropy", writes=2)                   # loss, prob
_CROSS_ENTROPY_BACKWARD = bind("cross_entropy_backward")
_GEMM, _LINEAR = bind("gemm"), bind("linear")
_LINEAR_BACKWARD = bind("linear_backward", writes=4)               # dx, dw, db, dz
_SGD_STEP, _ADAM_STEP = bind("sgd_step", writes=2), bind("adam_step", writes=4)  # p and state


def leaky_relu(x: np.ndarray, slope: float) -> np.ndarray:
    """x if x > 0 else slope * x, elementwise."""
    out = np.empty(x.shape, x.dtype)
    _LEAKY_RELU[x.dtype](out, x, slope, x.size)
    return out


def leaky_relu_backward(x: np.ndarray, g: np.ndarray, slope: float) -> np.ndarray:
    """g if x > 0 else slope * g, x and g of one shape and dtype."""
    out = np.empty(g.shape, g.dtype)
    _LEAKY_RELU_BACKWARD[g.dtype](out, x, g, slope, g.size)
    return out


def cross_entropy(logits: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(loss (n,), prob (n, c)) of 2-D logits and int64 class indices (bounds-checked in C)."""
    n, c = logits.shape
    loss, prob = np.empty(n, logits.dtype), np.empty(logits.shape, logits.dtype)
    bad = _CROSS_ENTROPY[logits.dtype](loss, prob, logits, target, n, c)
    if bad >= 0:
        raise _target_error(target, bad, c)
    return loss, prob


def cross_entropy_backward(prob: np.ndarray, target: np.ndarray, g: np.ndarray) -> np.ndarray:
    """dlogits (n, c) = (prob - onehot(target)) * g[:, None]; g is (n,) of prob's dtype."""
    n, c = prob.shape
    out = np.empty(prob.shape, prob.dtype)
    bad = _CROSS_ENTROPY_BACKWARD[prob.dtype](out, prob, target, g, n, c)
    if bad >= 0:
        raise _target_error(target, bad, c)
    return out


def _target_error(target: np.ndarray, row: int, c: int) -> IndexError:
    return IndexError(f"cross_entropy: target[{row}] = {int(target[row])} is out of range for "
                      f"{c} classes")


def gemm(a: np.ndarray, b: np.ndarray, trans_a: bool, trans_b: bool,
         nthreads: int) -> np.ndarray:
    """op(a) @ op(b) for 2-D a, b of one dtype whose inner dimensions agree. A transposed
    (Fortran-ordered) view is passed as its C-ordered transpose with the flag flipped, so
    backward's ``w.T`` costs no copy."""
    if not a.flags.c_contiguous and a.T.flags.c_contiguous:
        a, trans_a = a.T, not trans_a
    if not b.flags.c_contiguous and b.T.flags.c_contiguous:
        b, trans_b = b.T, not trans_b
    m, n, k = op_dims(a, b, trans_a, trans_b)
    out = np.empty((m, n), a.dtype)
    _GEMM[a.dtype](out, a, b, m, n, k, trans_a, trans_b, 1.0, 0.0,
                        a.shape[1] or 1, b.shape[1] or 1, n or 1, nthreads)
    return out


def op_dims(a: np.ndarray, b: np.ndarray, trans_a: bool, trans_b: bool) -> tuple[int, int, int]:
    """(m, n, k) of op(a) (m, k) @ op(b) (k, n) for 2-D a, b (BLAS order, as mg_gemm takes
    them); ValueError if the inner dimensions differ."""
    (r, s), (r2, s2) = a.shape, b.shape
    m, k = (s, r) if trans_a else (r, s)
    k2, n = (s2, r2) if trans_b else (r2, s2)
    if k != k2:
        raise ValueError(f"matmul: inner dimensions differ: op(a) is ({m}, {k}), op(b) is "
                         f"({k2}, {n})")
    return m, n, k


def linear(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, act: int,
           nthreads: int) -> np.ndarray:
    """y (m, n) = act(x (m, k) @ w (n, k)^T + b (n,)); ``act`` is an ``ACTIVATIONS`` code."""
    (m, k), n = x.shape, w.shape[0]
    y = np.empty((m, n), x.dtype)
    _LINEAR[x.dtype](y, x, w, b, m, n, k, act, nthreads)
    return y


def linear_backward(x: np.ndarray, w: np.ndarray, y: np.ndarray | None, g: np.ndarray,
                    act: int, need: tuple, nthreads: int) -> tuple:
    """(dx, dw, db) of ``linear``, each None unless ``need`` asks for it; y is read only with
    an activation (dz = g * act'(y) goes to a scratch array)."""
    (m, k), n = x.shape, w.shape[0]
    dx = np.empty((m, k), g.dtype) if need[0] else None
    dw = np.empty((n, k), g.dtype) if need[1] else None
    db = np.empty(n, g.dtype) if len(need) > 2 and need[2] else None
    dz = np.empty(g.shape, g.dtype) if act else None
    _LINEAR_BACKWARD[g.dtype](dx, dw, db, dz, x, w, y if act else None, g, m, n, k, act,
                                   nthreads)
    return dx, dw, db


def sgd_step(p, g, buf, lr, momentum, dampening, weight_decay, nesterov, maximize,
             first) -> None:
    """mg_sgd_step in place on p (and buf, with momentum): both C-contiguous, aligned and
    writable (routing.py checks)."""
    _SGD_STEP[p.dtype](p, buf if momentum else None, g, p.size, lr, momentum, dampening,
                            weight_decay, bool(nesterov), bool(maximize), bool(first))


def adam_step(p, g, m, v, vmax, step, lr, beta1, beta2, eps, weight_decay, decoupled,
              maximize) -> None:
    """mg_adam_step in place on p, m, v (and vmax): all C-contiguous, aligned and writable
    (routing.py checks)."""
    _ADAM_STEP[p.dtype](p, m, v, vmax, g, p.size, step, lr, beta1, beta2, eps,
                             weight_decay, bool(decoupled), bool(maximize))


_CONV2D, _CONV2D_INPUT_GRAD = bind("conv2d"), bind("conv2d_input_grad")
_CONV2D_WEIGHT_GRAD = bind("conv2d_weight_grad")


def _check_workspace(status: int, name: str) -> None:
    if status != 0:
        raise MemoryError(f"{name}: the C kernel could not allocate its workspace")


def conv2d(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, geom: np.ndarray,
           nthreads: int) -> np.ndarray:
    """y (n, o, oh, ow) of mg_conv2d; ``geom`` is micrograd.h's 16 int64 geometry values."""
    y = np.empty((geom[0], geom[4], geom[7], geom[8]), x.dtype)
    _check_workspace(_CONV2D[x.dtype](y, x, w, b, geom, nthreads), "conv2d")
    return y


def conv2d_input_grad(g: np.ndarray, w: np.ndarray, geom: np.ndarray,
                      nthreads: int) -> np.ndarray:
    """dx (n, c, h, w) of mg_conv2d_input_grad."""
    dx = np.empty((geom[0], geom[1], geom[2], geom[3]), g.dtype)
    _check_workspace(_CONV2D_INPUT_GRAD[g.dtype](dx, g, w, geom, nthreads), "conv2d")
    return dx


def conv2d_weight_grad(x: np.ndarray, g: np.ndarray, geom: np.ndarray,
                       nthreads: int) -> np.ndarray:
    """dw (o, c / groups, kh, kw) of mg_conv2d_weight_grad."""
    dw = np.empty((geom[4], geom[1] // geom[15], geom[5], geom[6]), g.dtype)
    _check_workspace(_CONV2D_WEIGHT_GRAD[g.dtype](dw, x, g, geom, nthreads), "conv2d")
    return dw


_MAX_POOL2D, _MAX_POOL2D_BACKWARD = bind("max_pool2d", writes=2), bind("max_pool2d_backward")
_AVG_POOL2D, _AVG_POOL2D_BACKWARD = bind("avg_pool2d"), bind("avg_pool2d_backward")


def max_pool2d(x: np.ndarray, geom: np.ndarray, nthreads: int) -> tuple[np.ndarray, np.ndarray]:
    """(y, idx) of mg_max_pool2d, (n, c, oh, ow) each; ``geom`` is micrograd.h's 15 values."""
    shape = x.shape[:2] + (int(geom[3]), int(geom[4]))
    y, idx = np.empty(shape, x.dtype), np.empty(shape, I64)
    _MAX_POOL2D[x.dtype](y, idx, x, geom, nthreads)
    return y, idx


def max_pool2d_backward(g: np.ndarray, idx: np.ndarray, x_shape: tuple, geom: np.ndarray,
                        nthreads: int) -> np.ndarray:
    """dx of mg_max_pool2d_backward; an IndexError for an index outside the plane."""
    dx = np.empty(x_shape, g.dtype)
    bad = _MAX_POOL2D_BACKWARD[g.dtype](dx, g, idx, geom, nthreads)
    if bad >= 0:
        raise IndexError(f"max_pool2d_backward: index {int(idx.reshape(-1)[bad])} is out of "
                         f"range for a plane of {int(geom[1] * geom[2])} elements")
    return dx


def avg_pool2d(x: np.ndarray, geom: np.ndarray, nthreads: int) -> np.ndarray:
    """y (n, c, oh, ow) of mg_avg_pool2d."""
    y = np.empty(x.shape[:2] + (int(geom[3]), int(geom[4])), x.dtype)
    _AVG_POOL2D[x.dtype](y, x, geom, nthreads)
    return y


def avg_pool2d_backward(g: np.ndarray, x_shape: tuple, geom: np.ndarray,
                        nthreads: int) -> np.ndarray:
    """dx (x_shape) of mg_avg_pool2d_backward."""
    dx = np.empty(x_shape, g.dtype)
    _AVG_POOL2D_BACKWARD[g.dtype](dx, g, geom, nthreads)
    return dx


# ---- build facts (micrograd.backends.info / fma_peak_flops) ---------------------------------
#: where mg_detect_caches found the cache sizes
CACHE_SOURCES = {lib.MG_CACHES_CPUID: "cpuid", lib.MG_CACHES_SYSCONF: "sysconf",
                 lib.MG_CACHES_DEFAULT: "unknown"}
_LEVELS = ("l1d", "l2", "l3")
_BLOCKING = ("mr", "nr", "kc", "mc", "nc", "a_span", "b_span")


def _caches_dict(caches) -> dict:
    out = {name: {f: int(getattr(getattr(caches, name), f))
                  for f in ("size", "ways", "line", "shared_by")} for name in _LEVELS}
    out["source"] = CACHE_SOURCES.get(caches.source, "unknown")
    return out


def gemm_blocking(caches: dict, isa: int, itemsize: int) -> dict:
    """mg_gemm_blocking_for, the GEMM's analytical blocking model, for the micro-kernel ``isa``
    (0..2) and ``itemsize``-byte elements on a CPU with ``caches`` ({"l1d": {"size", "ways",
    "line", "shared_by"}, "l2": ..., "l3": ...}; missing or 0 fields are unknown). Returns
    {"mr", "nr", "kc", "mc", "nc", "a_span", "b_span"}; ValueError for a bad isa or itemsize."""
    c = ffi.new("mg_caches *")
    for name in _LEVELS:
        for field, value in caches.get(name, {}).items():
            setattr(getattr(c, name), field, int(value))
    out = ffi.new("mg_gemm_blocking *")
    if lib.mg_gemm_blocking_for(out, c, isa, itemsize) != 0:
        raise ValueError(f"gemm_blocking: isa must be 0, 1 or 2 and itemsize 4 or 8, got isa="
                         f"{isa}, itemsize={itemsize}")
    return {f: int(getattr(out, f)) for f in _BLOCKING}


def build_info() -> dict:
    """{"gemm_isa": the GEMM micro-kernel this CPU runs, "openmp": bool, "max_threads": int,
    "cpu": the CPU's name, "keeps_freed_memory": bool (``keep_freed_memory``), "caches": the
    detected caches (see gemm_blocking) and their "source", "gemm_blocking": {"float32": ...,
    "float64": ...} the blocking derived from them for that kernel}."""
    cfg = lib.mg_gemm_get_config()
    return {"gemm_isa": ffi.string(lib.mg_gemm_isa_name(cfg.isa)).decode(),
            "openmp": bool(lib.mg_has_openmp()), "max_threads": int(lib.mg_max_threads()),
            "cpu": ffi.string(cfg.cpu).decode("ascii", "replace"),
            "keeps_freed_memory": KEEPS_FREED_MEMORY,
            "caches": _caches_dict(cfg.caches),
            "gemm_blocking": {dtype: {f: int(getattr(blk[cfg.isa], f)) for f in _BLOCKING}
                              for dtype, blk in (("float32", cfg.f32), ("float64", cfg.f64))}}


def fma_peak_flops(iters: int, nthreads: int) -> float:
    """mg_fma_peak_f32: the flops of ``iters`` rounds of FMA chains on ``nthreads`` threads."""
    return float(lib.mg_fma_peak_f32(iters, nthreads))


# ---- rnn.c: one LSTM / GRU time step's gate math (routing.py has checked the shapes) -------
_LSTM_GATES = bind("lstm_gates", writes=4)                         # acts, c, tanh_c, h
_LSTM_GATES_BACKWARD = bind("lstm_gates_backward", writes=2)       # dpre, dc_prev
_GRU_GATES = bind("gru_gates", writes=4)                           # r, z, n, h
_GRU_GATES_BACKWARD = bind("gru_gates_backward", writes=3)         # dgi, dgh, dh_z


def lstm_gates(pre: np.ndarray, c_prev: np.ndarray, nthreads: int) -> tuple:
    """(acts (b, 4h), c, tanh_c, h (b, h) each) of mg_lstm_gates."""
    (batch, hid), dt = c_prev.shape, pre.dtype
    acts = np.empty(pre.shape, dt)
    c, tanh_c, h = (np.empty(c_prev.shape, dt) for _ in range(3))
    _LSTM_GATES[dt](acts, c, tanh_c, h, pre, c_prev, batch, hid, nthreads)
    return acts, c, tanh_c, h


def lstm_gates_backward(acts: np.ndarray, tanh_c: np.ndarray, c_prev: np.ndarray,
                        dh: np.ndarray, dc: np.ndarray, nthreads: int) -> tuple:
    """(dpre (b, 4h), dc_prev (b, h)) of mg_lstm_gates_backward."""
    (batch, hid), dt = c_prev.shape, acts.dtype
    dpre, dc_prev = np.empty(acts.shape, dt), np.empty(c_prev.shape, dt)
    _LSTM_GATES_BACKWARD[dt](dpre, dc_prev, acts, tanh_c, c_prev, dh, dc, batch, hid, nthreads)
    return dpre, dc_prev


def gru_gates(gi: np.ndarray, gh: np.ndarray, h_prev: np.ndarray, nthreads: int) -> tuple:
    """(r, z, n, h), (b, h) each, of mg_gru_gates."""
    (batch, hid), dt = h_prev.shape, gi.dtype
    r, z, n, h = (np.empty(h_prev.shape, dt) for _ in range(4))
    _GRU_GATES[dt](r, z, n, h, gi, gh, h_prev, batch, hid, nthreads)
    return r, z, n, h


def gru_gates_backward(r: np.ndarray, z: np.ndarray, n: np.ndarray, gh: np.ndarray,
                       h_prev: np.ndarray, dh: np.ndarray, nthreads: int) -> tuple:
    """(dgi, dgh (b, 3h) each, dh_z (b, h)) of mg_gru_gates_backward."""
    (batch, hid), dt = h_prev.shape, gh.dtype
    dgi, dgh, dh_z = np.empty(gh.shape, dt), np.empty(gh.shape, dt), np.empty(h_prev.shape, dt)
    _GRU_GATES_BACKWARD[dt](dgi, dgh, dh_z, r, z, n, gh, h_prev, dh, batch, hid, nthreads)
    return dgi, dgh, dh_z


# ---- rnn.c: whole sequences of one layer and direction (routing.py has checked the shapes) --
_LSTM_SEQUENCE = bind("lstm_sequence", writes=5)                   # acts, cs, tcs, hs, work
_LSTM_SEQUENCE_BACKWARD = bind("lstm_sequence_backward", writes=4)  # dz, dh0, dc0, work
_GRU_SEQUENCE = bind("gru_sequence", writes=6)                     # rs, zs, ns, hs, bs, work
_GRU_SEQUENCE_BACKWARD = bind("gru_sequence_backward", writes=4)   # da, db, dh0, work


def lstm_sequence(z: np.ndarray, h0: np.ndarray, c0: np.ndarray, w_hh: np.ndarray,
                  reverse: bool, nthreads: int) -> tuple:
    """(acts (s, b, 4h), cs, tcs, hs (s, b, h) each) of mg_lstm_sequence."""
    (steps, batch, _), hid, dt = z.shape, c0.shape[1], z.dtype
    acts = np.empty(z.shape, dt)
    cs, tcs, hs = (np.empty((steps, batch, hid), dt) for _ in range(3))
    work = np.empty(z.shape[1:], dt)
    _LSTM_SEQUENCE[dt](acts, cs, tcs, hs, work, z, h0, c0, w_hh, steps, batch, hid, reverse,
                       nthreads)
    return acts, cs, tcs, hs


def lstm_sequence_backward(acts: np.ndarray, cs: np.ndarray, tcs: np.ndarray, c0: np.ndarray,
                           w_hh: np.ndarray, g: np.ndarray, dc_last: np.ndarray, reverse: bool,
                           nthreads: int) -> tuple:
    """(dz (s, b, 4h), dh0, dc0 (b, h)) of mg_lstm_sequence_backward."""
    (steps, batch, hid), dt = cs.shape, cs.dtype
    dz, dh0, dc0 = np.empty(acts.shape, dt), np.empty(c0.shape, dt), np.empty(c0.shape, dt)
    work = np.empty((2,) + c0.shape, dt)
    _LSTM_SEQUENCE_BACKWARD[dt](dz, dh0, dc0, work, acts, cs, tcs, c0, g, dc_last, w_hh, steps,
                                batch, hid, reverse, nthreads)
    return dz, dh0, dc0


def gru_sequence(a: np.ndarray, h0: np.ndarray, w_hh: np.ndarray, b_hh: np.ndarray | None,
                 reverse: bool, nthreads: int) -> tuple:
    """(rs, zs, ns, hs (s, b, h) each, bs (s, b, 3h)) of mg_gru_sequence."""
    (steps, batch, _), hid, dt = a.shape, h0.shape[1], a.dtype
    rs, zs, ns, hs = (np.empty((steps, batch, hid), dt) for _ in range(4))
    bs, work = np.empty(a.shape, dt), np.empty(a.shape[1:], dt)
    if b_hh is None:
        b_hh = np.zeros(a.shape[2], dt)
    _GRU_SEQUENCE[dt](rs, zs, ns, hs, bs, work, a, h0, w_hh, b_hh, steps, batch, hid, reverse,
                      nthreads)
    return rs, zs, ns, bs, hs


def gru_sequence_backward(rs: np.ndarray, zs: np.ndarray, ns: np.ndarray, bs: np.ndarray,
                          hs: np.ndarray, h0: np.ndarray, w_hh: np.ndarray, g: np.ndarray,
                          reverse: bool, nthreads: int) -> tuple:
    """(da, db (s, b, 3h) each, dh0 (b, h)) of mg_gru_sequence_backward."""
    (steps, batch, hid), dt = hs.shape, hs.dtype
    da, db, dh0 = np.empty(bs.shape, dt), np.empty(bs.shape, dt), np.empty(h0.shape, dt)
    work = np.empty(h0.shape, dt)
    _GRU_SEQUENCE_BACKWARD[dt](da, db, dh0, work, rs, zs, ns, bs, hs, h0, g, w_hh, steps, batch,
                               hid, reverse, nthreads)
    return da, db, dh0


# ---- executor.c: a recorded step replayed in one C call (micrograd.compile) -----------------
# compile.py traces which kernels a recorded backend call runs (``trace_kernels``), lowers each
# to an ``mg_exec_step`` (``exec_step``) on buffers it allocates once, and replays them with
# ``mg_exec``. Only the kernels named in EXEC_KINDS are lowered; the others stay Python calls.
import threading  # noqa: E402 - this section's own import, kept with it

#: kernel name (mg_<name>_<dtype>) -> (its MG_EXEC_* signature kind, how many of its leading
#: pointers it writes)
EXEC_KINDS = {
    **{name: (lib.MG_EXEC_UNARY, 1) for name in
       ("relu", "sigmoid", "tanh", "gelu", "exp", "log", "exec_neg", "exec_fill", "exec_sum")},
    **{name: (lib.MG_EXEC_BINARY, 1) for name in
       ("relu_backward", "sigmoid_backward", "tanh_backward", "gelu_backward", "add", "sub",
        "mul", "div")},
    "exec_binary": (lib.MG_EXEC_BROADCAST, 1),
    "leaky_relu": (lib.MG_EXEC_LEAKY, 1),
    "leaky_relu_backward": (lib.MG_EXEC_LEAKY_BACKWARD, 1),
    "softmax": (lib.MG_EXEC_ROWS, 1), "log_softmax": (lib.MG_EXEC_ROWS, 1),
    "softmax_backward": (lib.MG_EXEC_ROWS_BACKWARD, 1),
    "log_softmax_backward": (lib.MG_EXEC_ROWS_BACKWARD, 1),
    "cross_entropy": (lib.MG_EXEC_CROSS_ENTROPY, 2),
    "cross_entropy_backward": (lib.MG_EXEC_CROSS_ENTROPY_BACKWARD, 1),
    "gemm": (lib.MG_EXEC_GEMM, 1),
    "linear": (lib.MG_EXEC_LINEAR, 1),
    "linear_backward": (lib.MG_EXEC_LINEAR_BACKWARD, 4),
    "sgd_step": (lib.MG_EXEC_SGD, 2),
    "adam_step": (lib.MG_EXEC_ADAM, 4),
}
#: the executor's binary operations (MG_EXEC_ADD ...) by backend method name
EXEC_OPS = {"add": lib.MG_EXEC_ADD, "sub": lib.MG_EXEC_SUB, "mul": lib.MG_EXEC_MUL,
            "div": lib.MG_EXEC_DIV}
_SUFFIXES = {sfx: dt for dt, sfx in DTYPES.items()}
#: the pointer arguments of a step: micrograd.h's mg_exec_step.p
EXEC_MAX_POINTERS = 8


def kernel_signature(name: str, dtype: np.dtype) -> tuple[int, int, list[str]]:
    """(MG_EXEC_* kind, pointers written, each parameter's class "p", "i" or "d" in C order)
    of mg_<name>_<dtype>; KeyError when the executor has no case for it."""
    kind, writes = EXEC_KINDS[name]
    params = ffi.typeof(getattr(lib, f"mg_{name}_{DTYPES[dtype]}")).args
    classes = ["p" if t.kind == "pointer" else "d" if t.cname in ("float", "double") else "i"
               for t in params]
    return kind, writes, classes


def split_kernel_name(cname: str) -> tuple[str, np.dtype] | None:
    """("linear", float32) for "mg_linear_f32"; None for a name of another form."""
    base, _, sfx = cname.rpartition("_")
    if not base.startswith("mg_") or sfx not in _SUFFIXES:
        return None
    return base[3:], _SUFFIXES[sfx]


def _bound_callers() -> list[dict]:
    """Every {dtype: caller} dict ``bind`` made: this module's globals and the wrappers'
    closures (relu, softmax, ...)."""
    found: dict[int, dict] = {}
    for value in list(globals().values()):
        cells = [c.cell_contents for c in (getattr(value, "__closure__", None) or ())]
        for d in [value, *cells]:
            if (isinstance(d, dict) and d and set(d) <= set(DTYPES)
                    and all(callable(f) and getattr(f, "__name__", "").startswith("mg_")
                            for f in d.values())):
                found[id(d)] = d
    return list(found.values())


class trace_kernels:
    """``with trace_kernels() as log:`` every kernel call made through ``bind``'s callers on
    this thread is appended to ``log`` as (kernel name, its arguments, its result), the
    ndarrays as they were handed over. Other threads' calls pass through untraced."""

    def __init__(self) -> None:
        self.log: list[tuple] = []
        self._saved: list[tuple] = []

    def __enter__(self) -> list:
        log, thread = self.log, threading.get_ident()
        for callers in _bound_callers():
            for dt, call in list(callers.items()):
                self._saved.append((callers, dt, call))
                callers[dt] = _traced(call, log, thread)
        return log

    def __exit__(self, *exc) -> None:
        for callers, dt, call in reversed(self._saved):
            callers[dt] = call
        self._saved.clear()


def _traced(call: Callable, log: list, thread: int) -> Callable:
    def traced(*args):
        out = call(*args)
        if threading.get_ident() == thread:
            log.append((call.__name__, args, out))
        return out
    traced.__name__ = call.__name__
    return traced


def exec_program(nsteps: int, npointers: int) -> tuple:
    """(steps, pointer table): a zeroed ``mg_exec_step[nsteps]`` and ``void *[npointers]``."""
    return ffi.new("mg_exec_step[]", max(nsteps, 1)), ffi.new("void *[]", max(npointers, 1))


def exec_step(step, name: str, dtype: np.dtype, pointers: list[int], ints: list[int],
              doubles: list[float]) -> None:
    """Fill ``step`` (an mg_exec_step) for mg_<name>_<dtype>: its pointer arguments as indices
    into the pointer table (-1: NULL), its integer and floating-point arguments, C order."""
    kind, _, classes = kernel_signature(name, dtype)
    if (len(pointers), len(ints), len(doubles)) != tuple(classes.count(c) for c in "pid") \
            or len(pointers) > EXEC_MAX_POINTERS:
        raise ValueError(f"exec_step: mg_{name}: {classes} does not take {len(pointers)} "
                         f"pointers, {len(ints)} integers and {len(doubles)} doubles")
    step.kind, step.dtype = kind, dtype.itemsize
    step.fn = ffi.cast("void (*)(void)", ffi.addressof(lib, f"mg_{name}_{DTYPES[dtype]}"))
    for k in range(EXEC_MAX_POINTERS):
        step.p[k] = pointers[k] if k < len(pointers) else -1
    for k, v in enumerate(ints):
        step.i[k] = int(v)
    for k, v in enumerate(doubles):
        step.d[k] = float(v)


def exec_segment(steps, start: int):
    """A pointer to steps[start] (a segment of a plan starts there)."""
    return steps + start


#: the replay's hot path: set a pointer-table entry (table[k] = pointer(array)), run steps
pointer = ffi.from_buffer
run_steps = lib.mg_exec
