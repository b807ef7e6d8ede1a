"""The C backend's routing policy: which calls run a C kernel and which the NumPy reference.

``CBackend`` is ``NumpyBackend`` with the ops in ``native`` overridden; each override states
when the C kernel is used and otherwise calls the inherited reference, so results never depend
on which path ran. The rules:

- dtypes: the C core has float32 and float64 kernels; anything else (integers, float16, mixed
  dtypes) goes to NumPy.
- shapes: the kernels take equal shapes (no broadcasting) and 2-D (n, c) arrays for the softmax
  family; anything else goes to NumPy.
- size: 2-D matmuls of at most ``SMALL_MATMUL_WORK`` multiply-adds go to NumPy, whose BLAS
  small-matrix path beats the cffi call plus the GEMM's setup there (64^3: 3.7 vs 2.9 us;
  96^3: 8.5 vs 7.6 us; 128^3: 18.1 vs 19.9 us, one thread). The fused layer has no such cut.
- ops: plain arithmetic (add, sub, mul, div, exp, log) and tanh stay on NumPy: one ufunc each
  (tanh and exp with SIMD math), as fast as a C loop on large arrays and cheaper per call on
  small ones. Their C kernels exist and are tested directly (tests/test_kernels_math.py).
- batched matmul: (..., m, k) @ (k, n) is one GEMM over the stacked rows; equal batch dims are
  a loop of 2-D GEMMs; broadcast batch dims go to NumPy.
- convolution: every float32/float64 conv2d goes to C (im2col + GEMM), whatever its size; the
  geometry is checked here (``_conv_geom``) before the call, since the kernel trusts it.
- pooling: float32/float64 max and average pooling of 4-D arrays go to C, the geometry checked
  by ``_pool_geom``.
- recurrent gates: one LSTM / GRU step's gate math goes to C whenever its arrays share a C
  dtype, whatever the size (one call replaces ~15 NumPy passes); shapes are checked first.

``force.force_c()`` (or ``MICROGRAD_FORCE_C=1`` at import) turns the size rule off, so tests
that run on the C backend run its kernels on small inputs too. It does not touch the dtype and
shape rules: there is no C kernel to force.
"""
from __future__ import annotations

import math

import numpy as np

from . import c_backend as C
from . import force
from .base import check_gates
from .numpy_backend import NumpyBackend, check_sequence

#: 2-D matmuls of at most this many multiply-adds go to NumPy (see the module docstring)
SMALL_MATMUL_WORK = 96 ** 3


def _ok(x: np.ndarray) -> bool:
    """C-contiguous and aligned: the glue passes x to C as it is, no copy."""
    f = x.flags
    return f.c_contiguous and f.aligned


def _like(p: np.ndarray, x) -> bool:
    """x is an array of p's dtype and shape."""
    return isinstance(x, np.ndarray) and x.dtype == p.dtype and x.shape == p.shape


def _in_place(x: np.ndarray) -> bool:
    """A kernel can update x where it is: C-contiguous, aligned and writable (the glue refuses
    anything else: a copy would lose the update)."""
    f = x.flags
    return f.c_contiguous and f.aligned and f.writeable


class CBackend(NumpyBackend):
    """Kernels in C for float32/float64 where they pay; NumPy for everything else."""

    name = "c"
    #: every kernel this backend overrides; tests/test_backend_parity.py walks this tuple
    native = ("matmul", "linear", "linear_backward", "relu", "relu_backward", "leaky_relu",
              "leaky_relu_backward", "sigmoid", "sigmoid_backward", "tanh_backward", "gelu",
              "gelu_backward", "softmax", "softmax_backward", "log_softmax",
              "log_softmax_backward", "cross_entropy", "cross_entropy_backward", "sgd_step",
              "adam_step", "conv2d", "conv2d_input_grad", "conv2d_weight_grad",
              "max_pool2d", "max_pool2d_backward", "avg_pool2d", "avg_pool2d_backward",
              "lstm_gates", "lstm_gates_backward", "gru_gates", "gru_gates_backward",
              "lstm_sequence", "lstm_sequence_backward", "gru_sequence", "gru_sequence_backward")

    def __init__(self) -> None:
        self.nthreads = C.thread_count()  # 0: the OpenMP default

    # activations: any shape of a C dtype; backward passes with g of the same shape and dtype --
    def relu(self, x):
        if x.dtype in C.DTYPES:
            return C.relu(x)
        return NumpyBackend.relu(self, x)

    def sigmoid(self, x):
        if x.dtype in C.DTYPES:
            return C.sigmoid(x)
        return NumpyBackend.sigmoid(self, x)

    def gelu(self, x):
        if x.dtype in C.DTYPES:
            return C.gelu(x)
        return NumpyBackend.gelu(self, x)

    def leaky_relu(self, x, slope):
        if x.dtype in C.DTYPES:
            return C.leaky_relu(x, float(slope))
        return NumpyBackend.leaky_relu(self, x, slope)

    def relu_backward(self, x, g):
        if g.dtype in C.DTYPES and x.dtype == g.dtype and x.shape == g.shape:
            return C.relu_backward(x, g)
        return NumpyBackend.relu_backward(self, x, g)

    def sigmoid_backward(self, y, g):
        if g.dtype in C.DTYPES and y.dtype == g.dtype and y.shape == g.shape:
            return C.sigmoid_backward(y, g)
        return NumpyBackend.sigmoid_backward(self, y, g)

    def tanh_backward(self, y, g):
        if g.dtype in C.DTYPES and y.dtype == g.dtype and y.shape == g.shape:
            return C.tanh_backward(y, g)
        return NumpyBackend.tanh_backward(self, y, g)

    def gelu_backward(self, x, g):
        if g.dtype in C.DTYPES and x.dtype == g.dtype and x.shape == g.shape:
            return C.gelu_backward(x, g)
        return NumpyBackend.gelu_backward(self, x, g)

    def leaky_relu_backward(self, x, g, slope):
        if g.dtype in C.DTYPES and x.dtype == g.dtype and x.shape == g.shape:
            return C.leaky_relu_backward(x, g, float(slope))
        return NumpyBackend.leaky_relu_backward(self, x, g, slope)

    # softmax family: 2-D (n, c) arrays ----------------------------------------------------------
    def softmax(self, x):
        if x.dtype in C.DTYPES and x.ndim == 2:
            return C.softmax(x)
        return NumpyBackend.softmax(self, x)

    def log_softmax(self, x):
        if x.dtype in C.DTYPES and x.ndim == 2:
            return C.log_softmax(x)
        return NumpyBackend.log_softmax(self, x)

    def softmax_backward(self, y, g):
        if y.dtype in C.DTYPES and y.ndim == 2 and g.dtype == y.dtype and g.shape == y.shape:
            return C.softmax_backward(y, g)
        return NumpyBackend.softmax_backward(self, y, g)

    def log_softmax_backward(self, y, g):
        if y.dtype in C.DTYPES and y.ndim == 2 and g.dtype == y.dtype and g.shape == y.shape:
            return C.log_softmax_backward(y, g)
        return NumpyBackend.log_softmax_backward(self, y, g)

    def cross_entropy(self, logits, target):
        if logits.dtype not in C.DTYPES or logits.ndim != 2:
            return NumpyBackend.cross_entropy(self, logits, target)
        return C.cross_entropy(logits, _targets(target, len(logits)))

    def cross_entropy_backward(self, prob, target, g):
        if prob.dtype not in C.DTYPES or prob.ndim != 2:
            return NumpyBackend.cross_entropy_backward(self, prob, target, g)
        n = len(prob)
        if g.shape != (n,):
            raise ValueError(f"cross_entropy_backward: g must have shape ({n},), got {g.shape}")
        return C.cross_entropy_backward(prob, _targets(target, n),
                                        g.astype(prob.dtype, copy=False))

    # optimizer updates, in place: every state array must be updatable where it is -------------
    def sgd_step(self, p, g, buf, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, maximize=False, first=False):
        f = p.flags  # _in_place(p) inline: this runs once per parameter per step
        if (p.dtype in C.DTYPES and f.c_contiguous and f.aligned and f.writeable
                and g.__class__ is np.ndarray and g.dtype == p.dtype and g.shape == p.shape
                and (not momentum or (_like(p, buf) and _in_place(buf)))):
            return C.sgd_step(p, g, buf, lr, momentum, dampening, weight_decay, nesterov,
                              maximize, first)
        return NumpyBackend.sgd_step(self, p, g, buf, lr, momentum, dampening, weight_decay,
                                     nesterov, maximize, first)

    def adam_step(self, p, g, m, v, vmax, step, lr, beta1, beta2, eps, weight_decay=0.0,
                  decoupled=False, maximize=False):
        if (p.dtype in C.DTYPES and _in_place(p) and _like(p, g) and _like(p, m) and _in_place(m)
                and _like(p, v) and _in_place(v)
                and (vmax is None or (_like(p, vmax) and _in_place(vmax)))):
            if step < 1:
                raise ValueError(f"adam_step: step must be >= 1, got {step}")
            return C.adam_step(p, g, m, v, vmax, step, lr, beta1, beta2, eps, weight_decay,
                               decoupled, maximize)
        return NumpyBackend.adam_step(self, p, g, m, v, vmax, step, lr, beta1, beta2, eps,
                                      weight_decay, decoupled, maximize)

    # linear algebra -------------------------------------------------------------------------------
    def matmul(self, a, b, trans_a=False, trans_b=False):
        c_dtype = a.dtype in C.DTYPES and a.dtype == b.dtype
        if a.ndim == 2 and b.ndim == 2:
            m, n, k = C.op_dims(a, b, trans_a, trans_b)  # the shape error before any routing
            if c_dtype and (m * n * k > SMALL_MATMUL_WORK or force.enabled):
                return C.gemm(a, b, trans_a, trans_b, self.nthreads)
        elif c_dtype and a.ndim >= 2 and b.ndim == 2 and not trans_a and _ok(a):
            # (..., m, k) @ (k, n): one GEMM over the stacked rows (a view, as a is contiguous;
            # the row count is spelled out, as -1 is ambiguous for an empty a)
            rows = a.reshape(math.prod(a.shape[:-1]), a.shape[-1])
            out = C.gemm(rows, b, False, trans_b, self.nthreads)
            return out.reshape(a.shape[:-1] + out.shape[-1:])
        elif c_dtype and a.ndim >= 3 and a.ndim == b.ndim and a.shape[:-2] == b.shape[:-2]:
            return self._matmul_batched(a, b, trans_a, trans_b)
        return NumpyBackend.matmul(self, a, b, trans_a, trans_b)

    def _matmul_batched(self, a, b, trans_a, trans_b):
        """(..., m, k) @ (..., k, n) with equal batch dims: one 2-D GEMM per matrix."""
        batch = math.prod(a.shape[:-2])  # not -1: ambiguous when a matrix is empty (k = 0)
        a3 = a.reshape((batch,) + a.shape[-2:])
        b3 = b.reshape((batch,) + b.shape[-2:])
        if batch == 0:
            return NumpyBackend.matmul(self, a, b, trans_a, trans_b)
        out = np.stack([C.gemm(x, y, trans_a, trans_b, self.nthreads) for x, y in zip(a3, b3)])
        return out.reshape(a.shape[:-2] + out.shape[-2:])

    def linear(self, x, w, b=None, activation=None):
        act = C.ACTIVATIONS.get(activation)
        if (x.dtype not in C.DTYPES or act is None or x.ndim != 2 or w.ndim != 2
                or w.dtype != x.dtype
                or (b is not None and (b.dtype != x.dtype or b.shape != (w.shape[0],)))):
            return NumpyBackend.linear(self, x, w, b, activation)
        if w.shape[1] != x.shape[1]:
            raise ValueError(f"linear: x is {x.shape} but w is {w.shape}; w must be "
                             f"(N, {x.shape[1]})")
        return C.linear(x, w, b, act, self.nthreads)

    def linear_backward(self, x, w, y, g, activation, need):
        act = C.ACTIVATIONS.get(activation)
        if (g.dtype not in C.DTYPES or act is None or x.ndim != 2 or w.ndim != 2 or g.ndim != 2
                or not x.dtype == w.dtype == g.dtype
                or (act and (y.dtype != g.dtype or y.shape != g.shape))):
            return NumpyBackend.linear_backward(self, x, w, y, g, activation, need)
        (m, k), n = x.shape, w.shape[0]
        if w.shape[1] != k or g.shape != (m, n):
            raise ValueError(f"linear_backward: x is {x.shape}, w is {w.shape} and g is "
                             f"{g.shape}; expected w (N, {k}) and g ({m}, N)")
        return C.linear_backward(x, w, y, g, act, need, self.nthreads)

    # convolution ------------------------------------------------------------------------------
    def conv2d(self, x, w, b, stride, padding, dilation, groups):
        if (x.dtype not in C.DTYPES or w.dtype != x.dtype
                or (b is not None and b.dtype != x.dtype)):
            return NumpyBackend.conv2d(self, x, w, b, stride, padding, dilation, groups)
        geom = _conv_geom(x.shape, w.shape, None, stride, padding, dilation, groups)
        if b is not None and b.shape != (w.shape[0],):
            raise ValueError(f"conv2d: bias has shape {b.shape}, expected ({w.shape[0]},)")
        return C.conv2d(x, w, b, geom, self.nthreads)

    def conv2d_input_grad(self, g, w, x_shape, stride, padding, dilation, groups):
        if g.dtype not in C.DTYPES or w.dtype != g.dtype:
            return NumpyBackend.conv2d_input_grad(self, g, w, x_shape, stride, padding,
                                                  dilation, groups)
        geom = _conv_geom(x_shape, w.shape, g.shape, stride, padding, dilation, groups)
        return C.conv2d_input_grad(g, w, geom, self.nthreads)

    def conv2d_weight_grad(self, x, g, w_shape, stride, padding, dilation, groups):
        if g.dtype not in C.DTYPES or x.dtype != g.dtype:
            return NumpyBackend.conv2d_weight_grad(self, x, g, w_shape, stride, padding,
                                                   dilation, groups)
        geom = _conv_geom(x.shape, w_shape, g.shape, stride, padding, dilation, groups)
        return C.conv2d_weight_grad(x, g, geom, self.nthreads)

    # pooling --------------------------------------------------------------------------------------
    def max_pool2d(self, x, kernel, stride, padding, dilation, out_size):
        if x.dtype not in C.DTYPES or x.ndim != 4:
            return NumpyBackend.max_pool2d(self, x, kernel, stride, padding, dilation, out_size)
        geom = _pool_geom(x.shape, out_size, kernel, stride, padding, dilation)
        return C.max_pool2d(x, geom, self.nthreads)

    def max_pool2d_backward(self, g, idx, x_shape):
        if g.dtype not in C.DTYPES or g.ndim != 4 or idx.dtype != C.I64 or idx.shape != g.shape:
            return NumpyBackend.max_pool2d_backward(self, g, idx, x_shape)
        if len(x_shape) != 4 or tuple(x_shape[:2]) != g.shape[:2]:
            raise ValueError(f"max_pool2d_backward: g {g.shape} does not match x {x_shape}")
        geom = np.array([g.shape[0] * g.shape[1], x_shape[2], x_shape[3], g.shape[2], g.shape[3],
                         1, 1, 1, 1, 0, 0, 1, 1, 0, 0], dtype=C.I64)
        return C.max_pool2d_backward(g, idx, tuple(x_shape), geom, self.nthreads)

    def avg_pool2d(self, x, kernel, stride, padding, out_size, count_include_pad=True,
                   divisor_override=None):
        if x.dtype not in C.DTYPES or x.ndim != 4:
            return NumpyBackend.avg_pool2d(self, x, kernel, stride, padding, out_size,
                                           count_include_pad, divisor_override)
        geom = _pool_geom(x.shape, out_size, kernel, stride, padding, (1, 1), count_include_pad,
                          divisor_override)
        return C.avg_pool2d(x, geom, self.nthreads)

    def avg_pool2d_backward(self, g, x_shape, kernel, stride, padding, count_include_pad=True,
                            divisor_override=None):
        if g.dtype not in C.DTYPES or g.ndim != 4:
            return NumpyBackend.avg_pool2d_backward(self, g, x_shape, kernel, stride, padding,
                                                    count_include_pad, divisor_override)
        if len(x_shape) != 4 or tuple(x_shape[:2]) != g.shape[:2]:
            raise ValueError(f"avg_pool2d_backward: g {g.shape} does not match x {x_shape}")
        geom = _pool_geom(x_shape, g.shape[2:], kernel, stride, padding, (1, 1),
                          count_include_pad, divisor_override)
        return C.avg_pool2d_backward(g, tuple(x_shape), geom, self.nthreads)

    # recurrent gates: one time step; every array of one C dtype -------------------------------
    def lstm_gates(self, pre, c_prev):
        if not _one_c_dtype(pre, c_prev):
            return NumpyBackend.lstm_gates(self, pre, c_prev)
        check_gates("lstm_gates", 4, (pre,), (c_prev,))
        return C.lstm_gates(pre, c_prev, self.nthreads)

    def lstm_gates_backward(self, acts, tanh_c, c_prev, dh, dc):
        if not _one_c_dtype(acts, tanh_c, c_prev, dh, dc):
            return NumpyBackend.lstm_gates_backward(self, acts, tanh_c, c_prev, dh, dc)
        check_gates("lstm_gates_backward", 4, (acts,), (tanh_c, c_prev, dh, dc))
        return C.lstm_gates_backward(acts, tanh_c, c_prev, dh, dc, self.nthreads)

    def gru_gates(self, gi, gh, h_prev):
        if not _one_c_dtype(gi, gh, h_prev):
            return NumpyBackend.gru_gates(self, gi, gh, h_prev)
        check_gates("gru_gates", 3, (gi, gh), (h_prev,))
        return C.gru_gates(gi, gh, h_prev, self.nthreads)

    def gru_gates_backward(self, r, z, n, gh, h_prev, dh):
        if not _one_c_dtype(r, z, n, gh, h_prev, dh):
            return NumpyBackend.gru_gates_backward(self, r, z, n, gh, h_prev, dh)
        check_gates("gru_gates_backward", 3, (gh,), (r, z, n, h_prev, dh))
        return C.gru_gates_backward(r, z, n, gh, h_prev, dh, self.nthreads)

    # recurrent sequences: one C call runs the whole recurrence (each step's GEMM and gates);
    # every array of one C dtype and nothing empty --------------------------------------------
    def lstm_sequence(self, z, h0, c0, w_hh, reverse=False):
        if not _one_c_dtype(z, h0, c0, w_hh):
            return NumpyBackend.lstm_sequence(self, z, h0, c0, w_hh, reverse)
        if 0 in check_sequence("lstm_sequence", 4, (z,), (), (h0, c0), w_hh):
            return NumpyBackend.lstm_sequence(self, z, h0, c0, w_hh, reverse)
        return C.lstm_sequence(z, h0, c0, w_hh, reverse, self.nthreads)

    def lstm_sequence_backward(self, acts, cs, tcs, c0, w_hh, g, dc_last, reverse=False):
        args = (acts, cs, tcs, c0, w_hh, g, dc_last)
        if not _one_c_dtype(*args) or 0 in check_sequence(
                "lstm_sequence_backward", 4, (acts,), (cs, tcs, g), (c0, dc_last), w_hh):
            return NumpyBackend.lstm_sequence_backward(self, *args, reverse)
        return C.lstm_sequence_backward(*args, reverse, self.nthreads)

    def gru_sequence(self, a, h0, w_hh, b_hh=None, reverse=False):
        if not _one_c_dtype(a, h0, w_hh, *(() if b_hh is None else (b_hh,))) or 0 in (
                check_sequence("gru_sequence", 3, (a,), (), (h0,), w_hh)):
            return NumpyBackend.gru_sequence(self, a, h0, w_hh, b_hh, reverse)
        if b_hh is not None and b_hh.shape != (w_hh.shape[0],):
            raise ValueError(f"gru_sequence: b_hh has shape {b_hh.shape}, expected "
                             f"({w_hh.shape[0]},)")
        return C.gru_sequence(a, h0, w_hh, b_hh, reverse, self.nthreads)

    def gru_sequence_backward(self, rs, zs, ns, bs, hs, h0, w_hh, g, reverse=False):
        args = (rs, zs, ns, bs, hs, h0, w_hh, g)
        if not _one_c_dtype(*args) or 0 in check_sequence(
                "gru_sequence_backward", 3, (bs,), (rs, zs, ns, hs, g), (h0,), w_hh):
            return NumpyBackend.gru_sequence_backward(self, *args, reverse)
        return C.gru_sequence_backward(*args, reverse, self.nthreads)


def _one_c_dtype(first: np.ndarray, *rest: np.ndarray) -> bool:
    """All arrays share one dtype the C core has kernels for."""
    return first.dtype in C.DTYPES and all(a.dtype == first.dtype for a in rest)


def _targets(target: np.ndarray, n: int) -> np.ndarray:
    """Class indices as an int64 (n,) array (the C kernels bounds-check the values)."""
    if target.shape != (n,):
        raise ValueError(f"cross_entropy: target must have shape ({n},), got {target.shape}")
    if target.dtype != C.I64:
        if target.dtype.kind not in "iu":
            raise TypeError(f"cross_entropy: target must hold integers, got {target.dtype}")
        target = target.astype(C.I64)
    return target


def _conv_geom(x_shape: tuple, w_shape: tuple, g_shape: tuple | None, stride: tuple,
               padding: tuple, dilation: tuple, groups: int) -> np.ndarray:
    """micrograd.h's conv geometry (16 int64) after checking everything the kernel trusts:
    4-D shapes, groups dividing both channel counts, positive stride and dilation, top and
    left padding >= 0 (bottom and right may crop), a kernel that fits the padded input, and
    g (when given) of the output's shape."""
    (sh, sw), (dh, dw), ((pt, pb), (pl, pr)) = stride, dilation, padding
    if len(x_shape) != 4 or len(w_shape) != 4:
        raise ValueError(f"conv2d: expected 4-D x and w, got {tuple(x_shape)} and "
                         f"{tuple(w_shape)}")
    (n, c, h, wd), (o, cg, kh, kw) = x_shape, w_shape
    if (groups < 1 or min(sh, sw, dh, dw) < 1 or min(pt, pl) < 0
            or o % groups or cg * groups != c):
        raise ValueError(f"conv2d: bad geometry: x {tuple(x_shape)}, w {tuple(w_shape)}, "
                         f"stride {stride}, padding {padding}, dilation {dilation}, "
                         f"groups {groups}")
    oh = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + pl + pr - dw * (kw - 1) - 1) // sw + 1
    if oh < 0 or ow < 0 or (g_shape is not None and tuple(g_shape) != (n, o, oh, ow)):
        raise ValueError(f"conv2d: x {tuple(x_shape)} and w {tuple(w_shape)} give an output "
                         f"of ({n}, {o}, {oh}, {ow}), g is {g_shape}")
    return np.array([n, c, h, wd, o, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw, groups],
                    dtype=C.I64)


def _pool_geom(x_shape: tuple, out_size: tuple, kernel: tuple, stride: tuple, padding: tuple,
               dilation: tuple, count_include_pad: bool = True,
               divisor_override: int | None = None) -> np.ndarray:
    """micrograd.h's pool geometry (15 int64) after checking what the kernels trust: positive
    kernel, stride and dilation, padding in [0, kernel / 2], and every window holding at least
    one input element (its first tap lies inside the padded input)."""
    (n, c, h, w), (oh, ow) = x_shape, out_size
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    if (min(kh, kw, sh, sw, dh, dw) < 1 or min(ph, pw, oh, ow) < 0 or 2 * ph > kh
            or 2 * pw > kw or (oh and (oh - 1) * sh >= h + ph) or (ow and (ow - 1) * sw >= w + pw)
            or (divisor_override is not None and divisor_override < 0)):
        raise ValueError(f"pool2d: bad geometry: x {tuple(x_shape)}, output ({oh}, {ow}), "
                         f"kernel {kernel}, stride {stride}, padding {padding}, "
                         f"dilation {dilation}")
    return np.array([n * c, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw,
                     int(bool(count_include_pad)), int(divisor_override or 0)], dtype=C.I64)
