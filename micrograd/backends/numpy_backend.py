"""The NumPy backend: the reference implementation of every kernel, and always importable.

Each method is the plain NumPy spelling of the math in ``base.Backend``'s docstrings. The C backend
is tested against these functions, so keep them obviously correct rather than clever.
"""
from __future__ import annotations

import math

import numpy as np

from .base import check_gates, check_linear_activation

_SQRT1_2 = math.sqrt(0.5)  # correctly rounded (1 / math.sqrt(2.0) is an ulp low)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_erfc_object = np.frompyfunc(math.erfc, 1, 1)
_erf_object = np.frompyfunc(math.erf, 1, 1)


def _via_float64(fn, x: np.ndarray) -> np.ndarray:
    """``fn`` (a ``math`` function as an object ufunc) on x in float64, rounded once to x's
    dtype: NumPy has no erf/erfc, and libm's are correctly rounded to double precision."""
    x64 = np.asarray(x, np.float64)
    out = np.asarray(fn(x64), np.float64) if x64.size else x64.copy()
    return out.astype(x.dtype, copy=False)


def _activation(backend, name: str, suffix: str = ""):
    """``backend.<name><suffix>`` for a linear epilogue activation (suffix "_backward")."""
    check_linear_activation(name)
    return getattr(backend, name + suffix)


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    """Phi(x) = erfc(-x / sqrt 2) / 2 elementwise in float64, via math.erfc (NumPy has no erfc;
    exact to double precision). Not (1 + erf(x / sqrt 2)) / 2, which cancels for x << 0: Phi(-5)
    would keep only 2 of its digits in float32. Slow; the C backend has the fast version, this one
    is the specification."""
    z = -np.asarray(x, np.float64) * _SQRT1_2
    return 0.5 * np.asarray(_erfc_object(z), np.float64) if z.size else z.copy()



def _time_steps(steps: int, reverse: bool) -> range:
    """The time steps in the order a recurrent layer runs them."""
    return range(steps - 1, -1, -1) if reverse else range(steps)


def check_sequence(op: str, blocks: int, gates: tuple, seqs: tuple, states: tuple,
                   w_hh: np.ndarray) -> tuple[int, int, int]:
    """(S, B, H) of a recurrent sequence kernel's arguments: ``states`` (B, H), ``seqs``
    (S, B, H), ``gates`` (S, B, blocks * H), w_hh (blocks * H, H); ValueError naming the
    shapes otherwise."""
    batch, hid = check_gates(op, blocks, (), states)
    steps = gates[0].shape[0] if gates[0].ndim == 3 else -1
    if (all(x.shape == (steps, batch, blocks * hid) for x in gates)
            and all(x.shape == (steps, batch, hid) for x in seqs)
            and w_hh.shape == (blocks * hid, hid)):
        return steps, batch, hid
    raise ValueError(f"{op}: expected gates (S, B, {blocks}H), sequences (S, B, H), states "
                     f"(B, H) and w_hh ({blocks}H, H), got gates "
                     f"{', '.join(str(x.shape) for x in gates)}, sequences "
                     f"{', '.join(str(x.shape) for x in seqs) or 'none'}, states "
                     f"{', '.join(str(x.shape) for x in states)} and w_hh {w_hh.shape}")

class NumpyBackend:
    """Reference kernels. Works for any float dtype; outputs keep the input dtype."""

    name = "numpy"

    # linear algebra ---------------------------------------------------------------------------
    def matmul(self, a, b, trans_a=False, trans_b=False):
        return np.matmul(a.T if trans_a else a, b.T if trans_b else b)

    def linear(self, x, w, b=None, activation=None):
        y = np.matmul(x, w.T)
        if b is not None:
            np.add(y, b, out=y)
        return y if activation is None else _activation(self, activation)(y)

    def linear_backward(self, x, w, y, g, activation, need):
        dz = g if activation is None else _activation(self, activation, "_backward")(y, g)
        return (self.matmul(dz, w) if need[0] else None,
                self.matmul(dz, x, trans_a=True) if need[1] else None,
                self.sum(dz, (0,), False) if len(need) > 2 and need[2] else None)

    # elementwise ------------------------------------------------------------------------------
    # (the operators, not np.add & co: the same ufunc for arrays, while two NumPy scalars, as
    # a full sum returns, take NumPy's scalar math: ~0.04 instead of ~0.4 us a call)
    def add(self, a, b):
        return a + b

    def mul(self, a, b):
        return a * b

    def exp(self, x):
        return np.exp(x)

    def log(self, x):
        return np.log(x)

    # activations ------------------------------------------------------------------------------
    def relu(self, x):
        return np.maximum(x, 0).astype(x.dtype, copy=False)

    def relu_backward(self, x, g):
        return np.where(x > 0, g, 0).astype(g.dtype, copy=False)

    def sigmoid(self, x):
        e = np.exp(-np.abs(x))  # never overflows
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)

    def sigmoid_backward(self, y, g):
        return g * y * (1 - y)

    def tanh(self, x):
        return np.tanh(x)

    def tanh_backward(self, y, g):
        return g * (1 - y * y)

    def leaky_relu(self, x, slope):
        return np.where(x > 0, x, x * x.dtype.type(slope)).astype(x.dtype, copy=False)

    def leaky_relu_backward(self, x, g, slope):
        return np.where(x > 0, g, g * g.dtype.type(slope)).astype(g.dtype, copy=False)

    # gelu(x) = x Phi(x) and gelu'(x) = Phi(x) + x phi(x), computed in float64 and rounded once to
    # the input's dtype (for float32, correctly rounded up to the float64 error); then times g in
    # that dtype, as the C kernel does (an underflowed gelu'(x) times g = inf is NaN in both)
    def gelu(self, x):
        return (x * _normal_cdf(x)).astype(x.dtype, copy=False)

    def gelu_backward(self, x, g):
        x64 = np.asarray(x, np.float64)
        pdf = np.exp(-0.5 * x64 * x64) * _INV_SQRT_2PI
        return g * (_normal_cdf(x) + x64 * pdf).astype(g.dtype, copy=False)

    # softmax family, over the last axis of a 2-D (N, C) array ---------------------------------
    def softmax(self, x):
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def softmax_backward(self, y, g):
        return y * (g - (g * y).sum(axis=-1, keepdims=True))

    def log_softmax(self, x):
        z = x - x.max(axis=-1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))

    def log_softmax_backward(self, y, g):
        return g - np.exp(y) * g.sum(axis=-1, keepdims=True)

    def cross_entropy(self, logits, target):
        z = logits - logits.max(axis=-1, keepdims=True)  # shifted: exact for huge logits
        ls = np.log(np.exp(z).sum(axis=-1, keepdims=True))                  # (N, 1)
        picked = np.take_along_axis(z, target[:, None], axis=-1)             # (N, 1)
        return (ls - picked)[:, 0], np.exp(z - ls)

    def cross_entropy_backward(self, prob, target, g):
        d = prob.copy()
        d[np.arange(len(target)), target] -= 1
        return d * g[:, None].astype(prob.dtype, copy=False)

    # more elementwise -------------------------------------------------------------------------
    def sub(self, a, b):
        return a - b

    def div(self, a, b):
        return a / b

    def neg(self, x):
        return -x

    def pow(self, a, b):
        return np.power(a, b)

    def sqrt(self, x):
        return np.sqrt(x)

    def abs(self, x):
        return np.abs(x)

    def sign(self, x):
        return np.sign(x)

    def log1p(self, x):
        return np.log1p(x)

    def maximum(self, a, b):
        return np.maximum(a, b)

    def minimum(self, a, b):
        return np.minimum(a, b)

    def clip(self, x, lo, hi):
        return np.clip(x, lo, hi).astype(x.dtype, copy=False)

    def where(self, cond, a, b):
        return np.where(cond, a, b)

    def compare(self, a, b, op):
        return _COMPARE[op](a, b)

    def cast(self, x, dtype):
        return x.astype(dtype)

    def keep_mask(self, shape, p, dtype, gen):
        if p == 1.0:  # zeros, drawing nothing (PyTorch's stream does not advance either)
            return np.zeros(shape, dtype)
        keep = gen.random(shape) >= p
        return (keep / (1.0 - p)).astype(dtype)

    # elementwise math ---------------------------------------------------------------------------
    def sin(self, x):
        return np.sin(x)

    def cos(self, x):
        return np.cos(x)

    def tan(self, x):
        return np.tan(x)

    def asin(self, x):
        return np.arcsin(x)

    def acos(self, x):
        return np.arccos(x)

    def atan(self, x):
        return np.arctan(x)

    def sinh(self, x):
        return np.sinh(x)

    def cosh(self, x):
        return np.cosh(x)

    def asinh(self, x):
        return np.arcsinh(x)

    def acosh(self, x):
        return np.arccosh(x)

    def atanh(self, x):
        return np.arctanh(x)

    def exp2(self, x):
        return np.exp2(x)

    def expm1(self, x):
        return np.expm1(x)

    def log2(self, x):
        return np.log2(x)

    def log10(self, x):
        return np.log10(x)

    def erf(self, x):
        return _via_float64(_erf_object, x)

    def erfc(self, x):
        return _via_float64(_erfc_object, x)

    def floor(self, x):
        return np.floor(x)

    def ceil(self, x):
        return np.ceil(x)

    def trunc(self, x):
        return np.trunc(x)

    def round(self, x, decimals=0):
        return np.round(x, decimals)

    def atan2(self, a, b):
        return np.arctan2(a, b)

    def hypot(self, a, b):
        return np.hypot(a, b)

    def logaddexp(self, a, b):
        return np.logaddexp(a, b)

    def logaddexp2(self, a, b):
        return np.logaddexp2(a, b)

    def copysign(self, a, b):
        return np.copysign(a, b)

    def fmod(self, a, b):
        return np.fmod(a, b)

    def remainder(self, a, b):
        mod = np.fmod(a, b)  # torch's formula: a zero keeps a's sign (np.remainder takes b's)
        return np.where((mod != 0) & ((b < 0) != (mod < 0)), mod + b, mod)

    def floor_divide(self, a, b):
        return np.floor_divide(a, b)

    # reductions -------------------------------------------------------------------------------
    def sum(self, x, axes=None, keepdims=False):
        # np.sum's own result, without its Python wrapper (~1 us: a bias gradient per layer)
        return np.add.reduce(x, axis=axes, keepdims=keepdims)

    def max(self, x, axes=None, keepdims=False):
        return np.max(x, axis=axes, keepdims=keepdims)

    def min(self, x, axes=None, keepdims=False):
        return np.min(x, axis=axes, keepdims=keepdims)

    def argmax(self, x, axis=None, keepdims=False):
        return np.argmax(x, axis=axis, keepdims=keepdims)

    def argmin(self, x, axis=None, keepdims=False):
        return np.argmin(x, axis=axis, keepdims=keepdims)

    # convolution: NCHW, padding ((top, bottom), (left, right)) of zeros -----------------------
    def conv2d(self, x, w, b, stride, padding, dilation, groups):
        win = _windows(x, w.shape[2:], stride, padding, dilation, groups)
        wg = w.reshape((groups, w.shape[0] // groups) + w.shape[1:])  # (G, og, cg, kh, kw)
        y = np.einsum("ngcijpq,gocpq->ngoij", win, wg, optimize=True)
        y = y.reshape((x.shape[0], w.shape[0]) + y.shape[3:])
        return y if b is None else y + b.reshape(-1, 1, 1)

    def conv2d_input_grad(self, g, w, x_shape, stride, padding, dilation, groups):
        (sh, sw), (dh, dw), ((pt, pb), (pl, pr)) = stride, dilation, padding
        n, c, h, wd = x_shape
        (oh, ow), (kh, kw) = g.shape[2:], w.shape[2:]
        gg = g.reshape((n, groups, g.shape[1] // groups, oh, ow))  # not -1: sizes may be 0
        wg = w.reshape((groups, w.shape[0] // groups) + w.shape[1:])
        # the padded input, large enough for every window (what falls in the padding is dropped)
        dx = np.zeros((n, groups, c // groups, max(pt + h, (oh - 1) * sh + dh * (kh - 1) + 1),
                       max(pl + wd, (ow - 1) * sw + dw * (kw - 1) + 1)), g.dtype)
        for p in range(kh):
            for q in range(kw):  # each tap adds its share to the pixels it read
                part = np.einsum("ngoij,goc->ngcij", gg, wg[..., p, q], optimize=True)
                dx[..., p * dh:p * dh + (oh - 1) * sh + 1:sh,
                   q * dw:q * dw + (ow - 1) * sw + 1:sw] += part
        return dx[..., pt:pt + h, pl:pl + wd].reshape(x_shape).astype(g.dtype, copy=False)

    def conv2d_weight_grad(self, x, g, w_shape, stride, padding, dilation, groups):
        win = _windows(x, w_shape[2:], stride, padding, dilation, groups)
        gg = g.reshape((g.shape[0], groups, g.shape[1] // groups) + g.shape[2:])
        dw = np.einsum("ngcijpq,ngoij->gocpq", win, gg, optimize=True)
        return dw.reshape(w_shape).astype(g.dtype, copy=False)

    # pooling over the (H, W) planes of NCHW arrays --------------------------------------------
    def max_pool2d(self, x, kernel, stride, padding, dilation, out_size):
        lowest = -np.inf if x.dtype.kind in "fc" else (
            np.iinfo(x.dtype).min if x.dtype.kind in "iu" else False)  # padding never wins
        win = _pool_windows(x, kernel, stride, padding, dilation, out_size, lowest)
        flat = win.reshape(win.shape[:4] + (kernel[0] * kernel[1],))
        # torch's choice: the first max, but the LAST NaN (a NaN always replaces the running max)
        pick = np.argmax(flat, axis=-1)
        nan = np.isnan(flat)
        last_nan = flat.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1)
        pick = np.where(nan.any(axis=-1), last_nan, pick) if flat.shape[-1] else pick
        y = np.take_along_axis(flat, pick[..., None], -1)[..., 0]
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
        if any(padding) and flat.shape[-1]:
            # a window whose input taps all hold the lowest value: torch's index is its first
            # tap inside the input (its running max starts there), not a padding tap
            inside = _pool_windows(np.ones((1, 1) + x.shape[2:], bool), kernel, stride, padding,
                                   dilation, out_size, False)
            first = np.argmax(inside.reshape(inside.shape[:4] + (kh * kw,)), axis=-1)
            pick = np.where(y == lowest, first, pick)
        rows = np.arange(out_size[0])[:, None] * sh - ph + (pick // kw) * dh
        cols = np.arange(out_size[1])[None, :] * sw - pw + (pick % kw) * dw
        return y.astype(x.dtype, copy=False), (rows * x.shape[3] + cols).astype(np.int64)

    def max_pool2d_backward(self, g, idx, x_shape):
        n, c, h, w = x_shape
        dx = np.zeros((n * c, h * w), g.dtype)
        plane = idx.shape[2] * idx.shape[3]  # not -1: there may be no planes
        np.add.at(dx, (np.arange(n * c)[:, None], idx.reshape(n * c, plane)),
                  g.reshape(n * c, plane))
        return dx.reshape(x_shape)

    def avg_pool2d(self, x, kernel, stride, padding, out_size, count_include_pad=True,
                   divisor_override=None):
        win = _pool_windows(x, kernel, stride, padding, (1, 1), out_size, 0)
        div = _avg_divisor(x.shape[2:], kernel, stride, padding, out_size, count_include_pad,
                           divisor_override)
        return (win.sum(axis=(-2, -1)) / div).astype(x.dtype, copy=False)

    def avg_pool2d_backward(self, g, x_shape, kernel, stride, padding, count_include_pad=True,
                            divisor_override=None):
        (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
        n, c, h, w = x_shape
        oh, ow = g.shape[2:]
        share = g / _avg_divisor((h, w), kernel, stride, padding, (oh, ow), count_include_pad,
                                 divisor_override)
        dx = np.zeros((n, c, max(ph + h, (oh - 1) * sh + kh), max(pw + w, (ow - 1) * sw + kw)),
                      g.dtype)
        for p in range(kh):
            for q in range(kw):  # every tap of every window gets its output's share
                dx[:, :, p:p + (oh - 1) * sh + 1:sh, q:q + (ow - 1) * sw + 1:sw] += share
        return dx[:, :, ph:ph + h, pw:pw + w].astype(g.dtype, copy=False)

    # recurrent layers: one time step's gate math, blocks in PyTorch's order --------------------
    def lstm_gates(self, pre, c_prev):
        hid = check_gates("lstm_gates", 4, (pre,), (c_prev,))[1]
        acts = self.sigmoid(pre)
        acts[:, 2 * hid:3 * hid] = self.tanh(pre[:, 2 * hid:3 * hid])
        i, f, g, o = (acts[:, k * hid:(k + 1) * hid] for k in range(4))
        c = f * c_prev + i * g
        tanh_c = self.tanh(c)
        return acts, c, tanh_c, o * tanh_c

    def lstm_gates_backward(self, acts, tanh_c, c_prev, dh, dc):
        hid = check_gates("lstm_gates_backward", 4, (acts,), (tanh_c, c_prev, dh, dc))[1]
        i, f, g, o = (acts[:, k * hid:(k + 1) * hid] for k in range(4))
        dc = dc + dh * o * (1 - tanh_c * tanh_c)
        dpre = np.empty(acts.shape, acts.dtype)
        dpre[:, :hid] = dc * g * i * (1 - i)
        dpre[:, hid:2 * hid] = dc * c_prev * f * (1 - f)
        dpre[:, 2 * hid:3 * hid] = dc * i * (1 - g * g)
        dpre[:, 3 * hid:] = dh * tanh_c * o * (1 - o)
        return dpre, dc * f

    def gru_gates(self, gi, gh, h_prev):
        hid = check_gates("gru_gates", 3, (gi, gh), (h_prev,))[1]
        rz = self.sigmoid(gi[:, :2 * hid] + gh[:, :2 * hid])
        r, z = rz[:, :hid], rz[:, hid:]
        n = self.tanh(gi[:, 2 * hid:] + r * gh[:, 2 * hid:])
        return r, z, n, (h_prev - n) * z + n

    def gru_gates_backward(self, r, z, n, gh, h_prev, dh):
        hid = check_gates("gru_gates_backward", 3, (gh,), (r, z, n, h_prev, dh))[1]
        dn = dh * (1 - z) * (1 - n * n)
        dr = dn * gh[:, 2 * hid:] * r * (1 - r)
        dz = dh * (h_prev - n) * z * (1 - z)
        return (np.concatenate([dr, dz, dn], axis=1), np.concatenate([dr, dz, dn * r], axis=1),
                dh * z)

    # recurrent layers: a whole sequence of one layer and direction, step by step through the
    # gate kernels above; arrays time-major (S, B, .), reverse runs t = S-1 .. 0 ------------------
    def lstm_sequence(self, z, h0, c0, w_hh, reverse=False):
        check_sequence("lstm_sequence", 4, (z,), (), (h0, c0), w_hh)
        acts = np.empty(z.shape, z.dtype)
        cs, tcs, hs = (np.empty(z.shape[:2] + h0.shape[1:], z.dtype) for _ in range(3))
        h, c = h0, c0
        for t in _time_steps(z.shape[0], reverse):
            pre = z[t] + self.matmul(h, w_hh, trans_b=True)
            acts[t], cs[t], tcs[t], hs[t] = self.lstm_gates(pre, c)
            h, c = hs[t], cs[t]
        return acts, cs, tcs, hs

    def lstm_sequence_backward(self, acts, cs, tcs, c0, w_hh, g, dc_last, reverse=False):
        check_sequence("lstm_sequence_backward", 4, (acts,), (cs, tcs, g), (c0, dc_last), w_hh)
        dz = np.empty(acts.shape, acts.dtype)
        dh, dc = np.zeros_like(c0), dc_last
        order = _time_steps(acts.shape[0], reverse)
        for k in range(len(order) - 1, -1, -1):
            t = order[k]
            c_prev = cs[order[k - 1]] if k else c0
            dz[t], dc = self.lstm_gates_backward(acts[t], tcs[t], c_prev, g[t] + dh, dc)
            dh = self.matmul(dz[t], w_hh)
        return dz, dh, dc

    def gru_sequence(self, a, h0, w_hh, b_hh=None, reverse=False):
        check_sequence("gru_sequence", 3, (a,), (), (h0,), w_hh)
        rs, zs, ns, hs = (np.empty(a.shape[:2] + h0.shape[1:], a.dtype) for _ in range(4))
        bs = np.empty(a.shape, a.dtype)
        h = h0
        for t in _time_steps(a.shape[0], reverse):
            bs[t] = self.linear(h, w_hh, b_hh)
            rs[t], zs[t], ns[t], hs[t] = self.gru_gates(a[t], bs[t], h)
            h = hs[t]
        return rs, zs, ns, bs, hs

    def gru_sequence_backward(self, rs, zs, ns, bs, hs, h0, w_hh, g, reverse=False):
        check_sequence("gru_sequence_backward", 3, (bs,), (rs, zs, ns, hs, g), (h0,), w_hh)
        da, db = np.empty(bs.shape, bs.dtype), np.empty(bs.shape, bs.dtype)
        dh = np.zeros_like(h0)
        order = _time_steps(bs.shape[0], reverse)
        for k in range(len(order) - 1, -1, -1):
            t = order[k]
            h_prev = hs[order[k - 1]] if k else h0
            da[t], db[t], dh_z = self.gru_gates_backward(rs[t], zs[t], ns[t], bs[t], h_prev,
                                                         g[t] + dh)
            dh = dh_z + self.matmul(db[t], w_hh)
        return da, db, dh

    # optimizer updates: IN PLACE on p and the state arrays (the one exception to "never
    # mutates"), PyTorch's formulas, in the same order as micrograd/optim -------------------------
    def sgd_step(self, p, g, buf, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, maximize=False, first=False):
        """SGD: g' = ±g + wd p; buf = g' (first) or momentum buf + (1 - dampening) g';
        g' = g' + momentum buf (nesterov) or buf; p -= lr g'. ``buf`` may be None without
        momentum."""
        if maximize:
            g = -g
        if weight_decay:
            g = g + weight_decay * p
        if momentum:
            if first:
                buf[...] = g
            else:
                buf *= momentum
                buf += (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p -= lr * g

    def adam_step(self, p, g, m, v, vmax, step, lr, beta1, beta2, eps, weight_decay=0.0,
                  decoupled=False, maximize=False):
        """Adam / AdamW at step ``step`` (>= 1): updates p, m, v (and vmax, the amsgrad
        running max, when not None) in place."""
        if maximize:
            g = -g
        if weight_decay:
            if decoupled:
                p *= 1 - lr * weight_decay
            else:
                g = g + weight_decay * p
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * (g * g)
        if vmax is not None:
            np.maximum(vmax, v, out=vmax)
            v = vmax
        s = math.sqrt(1 - beta2 ** step)
        denom = np.sqrt(v)
        denom += eps * s
        np.divide(m, denom, out=denom)
        denom *= lr * s / (1 - beta1 ** step)
        p -= denom

    # movement and indexing (views where NumPy allows) -----------------------------------------
    def broadcast_to(self, x, shape):
        return np.broadcast_to(x, shape)

    def reshape(self, x, shape):
        return x.reshape(shape)  # the method: np.reshape is a Python wrapper around it

    def transpose(self, x, axes):
        return x.transpose(axes)

    def concatenate(self, xs, axis):
        return np.concatenate(xs, axis=axis)

    def getitem(self, x, index):
        return x[index]

    def getitem_backward(self, shape, index, g):
        out = np.zeros(shape, dtype=g.dtype)
        items = index if isinstance(index, tuple) else (index,)
        if any(isinstance(i, np.ndarray) for i in items):
            np.add.at(out, index, g)  # integer arrays may repeat an index: add, not assign
        else:
            out[index] = g            # basic slicing: each element at most once
        return out

    def take_along_axis(self, x, index, axis):
        return x[_along(index, axis)]

    def take_along_axis_backward(self, shape, index, g, axis):
        out = np.zeros(shape, dtype=g.dtype)
        np.add.at(out, _along(index, axis), g)  # repeated indices add up
        return out

    def scatter(self, x, index, src, axis, add=False):
        out = x.copy()
        if add:
            np.add.at(out, _along(index, axis), src)
        else:
            out[_along(index, axis)] = src
        return out


def _windows(x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple,
             groups: int) -> np.ndarray:
    """The read-only view (N, G, C/G, oh, ow, kh, kw) of the zero-padded x: element
    [n, g, c, i, j, p, q] is the input pixel that tap (p, q) of output pixel (i, j) reads."""
    (sh, sw), (dh, dw), ((pt, pb), (pl, pr)) = stride, dilation, padding
    (kh, kw), (n, c, h, w) = kernel, x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pt, max(pb, 0)), (pl, max(pr, 0))))  # < 0: never read
    oh = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    ow = (w + pl + pr - dw * (kw - 1) - 1) // sw + 1
    s = xp.strides
    return np.lib.stride_tricks.as_strided(
        xp, (n, groups, c // groups, oh, ow, kh, kw),
        (s[0], s[1] * (c // groups), s[1], s[2] * sh, s[3] * sw, s[2] * dh, s[3] * dw),
        writeable=False)


def _pool_windows(x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple,
                  dilation: tuple, out_size: tuple, fill: float) -> np.ndarray:
    """The read-only view (N, C, oh, ow, kh, kw) of x padded with ``fill`` (far enough for
    ceil_mode's last window): element [n, c, i, j, p, q] is tap (p, q) of window (i, j)."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    (n, c, h, w), (oh, ow) = x.shape, out_size
    bottom = max((oh - 1) * sh + dh * (kh - 1) + 1 - h - ph, 0)
    right = max((ow - 1) * sw + dw * (kw - 1) + 1 - w - pw, 0)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, bottom), (pw, right)), constant_values=fill)
    s = xp.strides
    return np.lib.stride_tricks.as_strided(
        xp, (n, c, oh, ow, kh, kw), s[:2] + (s[2] * sh, s[3] * sw, s[2] * dh, s[3] * dw),
        writeable=False)


def _avg_divisor(size: tuple, kernel: tuple, stride: tuple, padding: tuple, out_size: tuple,
                 count_include_pad: bool, divisor_override: int | None) -> np.ndarray:
    """torch's divisor per output pixel (oh, ow): the override, else the window clipped to
    the padded input (count_include_pad) or to the input."""
    if divisor_override:
        return np.full(out_size, float(divisor_override))
    counts = []
    for n, k, s, p, o in zip(size, kernel, stride, padding, out_size):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        counts.append((end - start).astype(float))
    return counts[0][:, None] * counts[1][None, :]


def _along(index: np.ndarray, axis: int) -> tuple:
    """The NumPy index of torch.gather/scatter's positions: index along axis, the position
    itself in every other axis (so index may be smaller than the array there)."""
    where = list(np.ix_(*[np.arange(n) for n in index.shape]))
    where[axis] = index
    return tuple(where)


_COMPARE = {"lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal,
            "eq": np.equal, "ne": np.not_equal}
