"""The kernel interface: the seam between autograd (Python) and compute (NumPy or C).

Storage is a NumPy ndarray in every backend; a backend only computes. Every primitive takes and
returns ndarrays, never mutates its inputs, and returns a new array. Binary primitives receive
arrays of one dtype; shapes are validated by the Tensor layer before any call, so a backend never
sees a shape it cannot handle. ``NumpyBackend`` is the reference implementation (the
specification); ``CBackend`` (routing.py) overrides the kernels listed in its ``native`` tuple,
and the parity tests walk that tuple so no C kernel goes untested. ``Backend`` below lists every
method a backend has, with its signature; tests/test_backends.py checks each registered backend
against it (same names, parameters and defaults). Matrix dimensions are named in BLAS order:
op(a) is (m, k), op(b) is (k, n), the product is (m, n).

What the Tensor layer may pass to an elementwise primitive (add, sub, mul, div, pow, maximum,
minimum, where, compare, and the ``*_backward`` kernels' ``g``):
- usually two C-contiguous arrays of one shape and dtype (the fast case worth a kernel);
- non-contiguous views (transposes, slices) and read-only broadcast views with zero strides
  (``Sum``'s backward hands ``broadcast_to(g, shape)`` on);
- an operand that needs no gradient unexpanded: a NumPy scalar of the other's dtype (``x * 2``
  passes ``np.float32(2)``), a 0-d array, or an array that broadcasts to the other's shape.
A backend that only handles the first case must fall back to ``NumpyBackend`` for the others
(as ``CBackend`` does when shapes differ), never guess.
"""
from __future__ import annotations

from typing import Protocol

import numpy as np

#: the activations ``linear`` can apply as its epilogue: each one's derivative is a function of
#: its output, so the fused backward needs no stored pre-activation (GELU's is not, so GELU is
#: never fused)
LINEAR_ACTIVATIONS = ("relu", "sigmoid", "tanh")


def check_linear_activation(activation: str | None) -> None:
    """ValueError unless ``activation`` is None or one of ``LINEAR_ACTIVATIONS``."""
    if activation is not None and activation not in LINEAR_ACTIVATIONS:
        raise ValueError(f"linear: activation must be None or one of {LINEAR_ACTIVATIONS}, "
                         f"got {activation!r}")


def check_gates(op: str, blocks: int, gates: tuple, states: tuple) -> tuple[int, int]:
    """(B, H) of a recurrent gate kernel's arguments: every array in ``states`` (B, H), every
    array in ``gates`` (B, blocks * H); ValueError naming the shapes otherwise."""
    shape = states[0].shape
    if (len(shape) == 2 and all(s.shape == shape for s in states)
            and all(g.shape == (shape[0], blocks * shape[1]) for g in gates)):
        return shape
    raise ValueError(f"{op}: expected gates (B, {blocks}H) and states (B, H), got gates "
                     f"{', '.join(str(g.shape) for g in gates)} and states "
                     f"{', '.join(str(s.shape) for s in states)}")


class Backend(Protocol):
    """What every backend provides. Shapes are written (m, k) etc.; ``g`` is the upstream grad."""

    name: str

    # linear algebra ---------------------------------------------------------------------------
    def matmul(self, a: np.ndarray, b: np.ndarray, trans_a: bool = False,
               trans_b: bool = False) -> np.ndarray:
        """op(a) @ op(b) for 2-D a, b, where op transposes when the flag is set.

        The flags let backward compute ``g @ w.T`` and ``x.T @ g`` without copying a transpose.
        The NumPy reference also accepts N-d (batched, broadcast batch dims) operands."""

    def linear(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None,
               activation: str | None = None) -> np.ndarray:
        """x (m, k), w (n, k), b (n,) or None -> y (m, n) = act(x @ w.T + b) (PyTorch layout);
        ``activation`` is None or one of ``LINEAR_ACTIVATIONS``, applied as the epilogue."""

    def linear_backward(self, x: np.ndarray, w: np.ndarray, y: np.ndarray | None,
                        g: np.ndarray, activation: str | None,
                        need: tuple) -> tuple:
        """The gradients of ``linear`` given its output y (read only with an activation) and
        g = dL/dy: dz = g * act'(y), then (dx = dz @ w, dw = dz^T @ x, db = dz summed over
        rows), each None unless ``need`` (a bool per input: x, w and, when present, b) asks."""

    # elementwise ------------------------------------------------------------------------------
    def add(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: """a + b (equal shapes)."""
    def mul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: """a * b (equal shapes)."""
    def exp(self, x: np.ndarray) -> np.ndarray: """e ** x."""
    def log(self, x: np.ndarray) -> np.ndarray: """natural log of x."""

    # activations: forward, and backward returning dx = f'(.) * g ------------------------------
    def relu(self, x: np.ndarray) -> np.ndarray: """max(x, 0)."""
    def relu_backward(self, x: np.ndarray, g: np.ndarray) -> np.ndarray: """g where x > 0."""
    def sigmoid(self, x: np.ndarray) -> np.ndarray: """1 / (1 + e^-x), overflow-free."""
    def sigmoid_backward(self, y: np.ndarray, g: np.ndarray) -> np.ndarray: """g * y * (1 - y)."""
    def tanh(self, x: np.ndarray) -> np.ndarray: """tanh(x)."""
    def tanh_backward(self, y: np.ndarray, g: np.ndarray) -> np.ndarray: """g * (1 - y**2)."""
    def leaky_relu(self, x: np.ndarray, slope: float) -> np.ndarray:
        """x if x > 0 else slope * x."""
    def leaky_relu_backward(self, x: np.ndarray, g: np.ndarray, slope: float) -> np.ndarray:
        """g if x > 0 else slope * g."""
    def gelu(self, x: np.ndarray) -> np.ndarray:
        """x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), the exact form (PyTorch's default)."""
    def gelu_backward(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        """g * (Phi(x) + x * phi(x)), phi(x) = exp(-x^2 / 2) / sqrt(2 pi)."""

    # softmax family: x is 2-D (N, C) and the op runs over the LAST axis; y = forward output ---
    def softmax(self, x: np.ndarray) -> np.ndarray:
        """exp(x - max) / sum(exp(x - max)) per row."""
    def softmax_backward(self, y: np.ndarray, g: np.ndarray) -> np.ndarray:
        """y * (g - sum(g * y, -1))."""
    def log_softmax(self, x: np.ndarray) -> np.ndarray:
        """x - max - log(sum(exp(x - max))) per row."""
    def log_softmax_backward(self, y: np.ndarray, g: np.ndarray) -> np.ndarray:
        """g - exp(y) * sum(g, -1)."""
    def cross_entropy(self, logits: np.ndarray,
                      target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """logits (N, C) float, target (N,) int64 in [0, C) -> (loss (N,), prob (N, C)):
        loss = logsumexp(logits) - logits[target] (max-subtracted), prob = softmax(logits)."""
    def cross_entropy_backward(self, prob: np.ndarray, target: np.ndarray,
                               g: np.ndarray) -> np.ndarray:
        """prob (N, C), target (N,), g (N,) -> dlogits (N, C) = (prob - onehot(target)) * g."""

    # more elementwise: binary ops get equal shapes (broadcast views allowed: zero strides) ---
    def sub(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: """a - b."""
    def div(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: """a / b."""
    def neg(self, x: np.ndarray) -> np.ndarray: """-x."""
    def pow(self, a: np.ndarray, b) -> np.ndarray:
        """a ** b; b is an array of a's shape or a Python scalar."""
    def sqrt(self, x: np.ndarray) -> np.ndarray: """sqrt(x)."""
    def abs(self, x: np.ndarray) -> np.ndarray: """|x|."""
    def sign(self, x: np.ndarray) -> np.ndarray: """-1, 0 or 1, in x's dtype."""
    def log1p(self, x: np.ndarray) -> np.ndarray: """log(1 + x), accurate for small x."""
    def maximum(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: """elementwise max."""
    def minimum(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: """elementwise min."""
    def clip(self, x: np.ndarray, lo, hi) -> np.ndarray:
        """x clamped to [lo, hi]; lo/hi are Python scalars or None (no bound)."""
    def where(self, cond: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """a where cond (bool) else b; all three of one shape."""
    def compare(self, a: np.ndarray, b: np.ndarray, op: str) -> np.ndarray:
        """bool array; op is one of lt, le, gt, ge, eq, ne."""
    def cast(self, x: np.ndarray, dtype: np.dtype) -> np.ndarray: """a copy in dtype."""
    def keep_mask(self, shape: tuple, p: float, dtype: np.dtype,
                  gen: np.random.Generator) -> np.ndarray:
        """Dropout's scaled keep-mask of ``shape``: 1 / (1 - p) with probability 1 - p, else
        0, drawn from ``gen`` (nothing drawn for p = 1)."""

    # elementwise math (torch.sin, ...): float inputs, outputs of the input's dtype; binary
    # kernels get operands as ``sub`` does -------------------------------------------------
    def sin(self, x: np.ndarray) -> np.ndarray: """sin x."""
    def cos(self, x: np.ndarray) -> np.ndarray: """cos x."""
    def tan(self, x: np.ndarray) -> np.ndarray: """tan x."""
    def asin(self, x: np.ndarray) -> np.ndarray: """arcsin x (nan outside [-1, 1])."""
    def acos(self, x: np.ndarray) -> np.ndarray: """arccos x (nan outside [-1, 1])."""
    def atan(self, x: np.ndarray) -> np.ndarray: """arctan x."""
    def sinh(self, x: np.ndarray) -> np.ndarray: """sinh x."""
    def cosh(self, x: np.ndarray) -> np.ndarray: """cosh x."""
    def asinh(self, x: np.ndarray) -> np.ndarray: """arsinh x."""
    def acosh(self, x: np.ndarray) -> np.ndarray: """arcosh x (nan below 1)."""
    def atanh(self, x: np.ndarray) -> np.ndarray: """artanh x (+-inf at +-1, nan beyond)."""
    def exp2(self, x: np.ndarray) -> np.ndarray: """2 ** x."""
    def expm1(self, x: np.ndarray) -> np.ndarray: """e^x - 1, accurate for small x."""
    def log2(self, x: np.ndarray) -> np.ndarray: """base-2 log."""
    def log10(self, x: np.ndarray) -> np.ndarray: """base-10 log."""
    def erf(self, x: np.ndarray) -> np.ndarray: """the error function, to double precision."""
    def erfc(self, x: np.ndarray) -> np.ndarray: """1 - erf x, without the cancellation."""
    def floor(self, x: np.ndarray) -> np.ndarray: """largest integer <= x (float)."""
    def ceil(self, x: np.ndarray) -> np.ndarray: """smallest integer >= x (float)."""
    def trunc(self, x: np.ndarray) -> np.ndarray: """x rounded toward 0 (float)."""
    def round(self, x: np.ndarray, decimals: int = 0) -> np.ndarray:
        """x rounded half to even at ``decimals`` decimal digits (x * 10^d rounded / 10^d;
        for d < 0, x / 10^-d rounded * 10^-d), as torch.round."""
    def atan2(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: """the angle of (b, a)."""
    def hypot(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """sqrt(a^2 + b^2) without overflow."""
    def logaddexp(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: """log(e^a + e^b)."""
    def logaddexp2(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: """log2(2^a + 2^b)."""
    def copysign(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """|a| with the sign bit of b."""
    def fmod(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """a - trunc(a / b) b: the remainder with a's sign (C's fmod)."""
    def remainder(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """a - floor(a / b) b: the remainder with b's sign (Python's %), as torch computes it:
        r = fmod(a, b), plus b where r != 0 and r's sign differs from b's."""
    def floor_divide(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """floor(a / b), as Python's // (for floats: from fmod, so (a - r) / b is exact)."""

    # reductions: axes is None (all) or a tuple of non-negative ints ---------------------------
    def sum(self, x: np.ndarray, axes=None, keepdims: bool = False) -> np.ndarray: """sum."""
    def max(self, x: np.ndarray, axes=None, keepdims: bool = False) -> np.ndarray: """max."""
    def min(self, x: np.ndarray, axes=None, keepdims: bool = False) -> np.ndarray: """min."""
    def argmax(self, x: np.ndarray, axis=None, keepdims: bool = False) -> np.ndarray:
        """int64 index of the first max (over the flattened array when axis is None)."""
    def argmin(self, x: np.ndarray, axis=None, keepdims: bool = False) -> np.ndarray:
        """int64 index of the first min."""

    # movement and indexing: views where NumPy allows; inherited by the C backend -------------
    def broadcast_to(self, x: np.ndarray, shape: tuple) -> np.ndarray: """read-only view."""
    def reshape(self, x: np.ndarray, shape: tuple) -> np.ndarray: """view when possible."""
    def transpose(self, x: np.ndarray, axes: tuple) -> np.ndarray: """view."""
    def concatenate(self, xs: list, axis: int) -> np.ndarray: """join along axis."""
    def getitem(self, x: np.ndarray, index) -> np.ndarray: """x[index] (validated)."""
    def getitem_backward(self, shape: tuple, index, g: np.ndarray) -> np.ndarray:
        """zeros(shape) with g scatter-ADDED at index (repeated integer indices add up)."""
    def take_along_axis(self, x: np.ndarray, index: np.ndarray, axis: int) -> np.ndarray:
        """torch.gather: out[..i..] = x[..index[..i..]..] along axis; index may be smaller
        than x in the other axes (out has index's shape)."""
    def take_along_axis_backward(self, shape: tuple, index: np.ndarray, g: np.ndarray,
                                 axis: int) -> np.ndarray:
        """zeros(shape) with g scatter-added along axis at index."""
    def scatter(self, x: np.ndarray, index: np.ndarray, src, axis: int,
                add: bool = False) -> np.ndarray:
        """torch.scatter (scatter_add when ``add``): a copy of x with out[..index[..i..]..] =
        src[..i..] along axis (added when ``add``; repeats add up). src is an array of
        index's shape or a Python scalar; index may be smaller than x in the other axes."""

    # convolution: NCHW; stride and dilation (h, w) pairs of positive ints, padding
    # ((top, bottom), (left, right)) of zeros (top, left >= 0; a negative bottom or right pad
    # crops: conv_transpose2d's output_padding), groups dividing both channel counts ------------
    def conv2d(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: tuple,
               padding: tuple, dilation: tuple, groups: int) -> np.ndarray:
        """x (N, C, H, W), w (O, C/groups, kh, kw), b (O,) or None -> y (N, O, oh, ow),
        oh = (H + top + bottom - dh (kh - 1) - 1) // sh + 1 (ow likewise):
        y[n, o, i, j] = b[o] + sum over c of o's group, p, q of
        w[o, c, p, q] x[n, c, i sh - top + p dh, j sw - left + q dw] (0 outside x)."""
    def conv2d_input_grad(self, g: np.ndarray, w: np.ndarray, x_shape: tuple, stride: tuple,
                          padding: tuple, dilation: tuple, groups: int) -> np.ndarray:
        """dx (x_shape) of conv2d given g = dL/dy (N, O, oh, ow): each tap's g times w added
        at the pixel it read (conv_transpose2d's forward)."""
    def conv2d_weight_grad(self, x: np.ndarray, g: np.ndarray, w_shape: tuple, stride: tuple,
                           padding: tuple, dilation: tuple, groups: int) -> np.ndarray:
        """dw (w_shape) of conv2d: sum over n, i, j of g[n, o, i, j] times the pixel tap
        (c, p, q) of output pixel (i, j) read."""

    # pooling over the (H, W) planes of NCHW x; kernel, stride, padding (symmetric, at most
    # half the kernel), dilation and out_size are (h, w) pairs; window (i, j) starts at
    # (i sh - ph, j sw - pw) and may reach past the padding (ceil_mode); taps outside x are
    # skipped ----------------------------------------------------------------------------------
    def max_pool2d(self, x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple,
                   dilation: tuple, out_size: tuple) -> tuple[np.ndarray, np.ndarray]:
        """(y, idx), both (N, C, oh, ow): each window's max (NaN if it holds one) and its
        int64 flat position h * W + w in the plane (the last NaN, else the first max)."""
    def max_pool2d_backward(self, g: np.ndarray, idx: np.ndarray, x_shape: tuple) -> np.ndarray:
        """dx (x_shape): g added at idx in each plane (repeated positions add up)."""
    def avg_pool2d(self, x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple,
                   out_size: tuple, count_include_pad: bool = True,
                   divisor_override: int | None = None) -> np.ndarray:
        """Each window's sum / divisor: divisor_override, else the window's size clipped to
        the padded input (count_include_pad) or to x (torch's rule)."""
    def avg_pool2d_backward(self, g: np.ndarray, x_shape: tuple, kernel: tuple, stride: tuple,
                            padding: tuple, count_include_pad: bool = True,
                            divisor_override: int | None = None) -> np.ndarray:
        """dx (x_shape): each output's g / divisor added over its window."""

    # recurrent layers: one time step's elementwise gate math (the step's matrix products are
    # the caller's); B rows, hidden size H, gate blocks in PyTorch's order. Shapes are checked
    # (``check_gates``) ------------------------------------------------------------------------
    def lstm_gates(self, pre: np.ndarray, c_prev: np.ndarray) -> tuple:
        """pre (B, 4H) = x W_ih^T + h W_hh^T + b = [z_i, z_f, z_g, z_o], c_prev (B, H) ->
        (acts (B, 4H) = [i, f, g, o] = [sigmoid(z_i), sigmoid(z_f), tanh(z_g), sigmoid(z_o)],
        c = f c_prev + i g, tanh_c = tanh(c), h = o tanh_c), the last three (B, H)."""
    def lstm_gates_backward(self, acts: np.ndarray, tanh_c: np.ndarray, c_prev: np.ndarray,
                            dh: np.ndarray, dc: np.ndarray) -> tuple:
        """The gradients of ``lstm_gates`` given dh and dc (B, H), those of its h and c:
        with dc' = dc + dh o (1 - tanh_c^2), (dpre (B, 4H) = [dc' g i(1-i), dc' c_prev f(1-f),
        dc' i (1-g^2), dh tanh_c o(1-o)], dc_prev (B, H) = dc' f)."""
    def gru_gates(self, gi: np.ndarray, gh: np.ndarray, h_prev: np.ndarray) -> tuple:
        """gi (B, 3H) = x W_ih^T + b_ih = [a_r, a_z, a_n], gh (B, 3H) = h_prev W_hh^T + b_hh =
        [b_r, b_z, b_n], h_prev (B, H) -> (r, z, n, h), each (B, H): r = sigmoid(a_r + b_r),
        z = sigmoid(a_z + b_z), n = tanh(a_n + r b_n), h = (h_prev - n) z + n."""
    def gru_gates_backward(self, r: np.ndarray, z: np.ndarray, n: np.ndarray, gh: np.ndarray,
                           h_prev: np.ndarray, dh: np.ndarray) -> tuple:
        """The gradients of ``gru_gates`` given dh (B, H), that of its h: with
        dn = dh (1-z)(1-n^2), dr = dn b_n r(1-r) and dz = dh (h_prev - n) z(1-z),
        (dgi = [dr, dz, dn], dgh = [dr, dz, dn r], both (B, 3H), dh_z = dh z (B, H): dh_prev
        but for the path through W_hh, dgh @ W_hh, which the caller adds). Of gh only its n
        block b_n is read."""

    # recurrent layers: a whole sequence of one layer and direction, the recurrence only (the
    # input projections of all steps and the weight gradients are the caller's GEMMs); arrays
    # time-major (S, B, .); ``reverse`` runs t = S-1 .. 0; step t starts from the state the
    # step before it left, the first from h0 (c0). Shapes are checked (``check_sequence``) ---
    def lstm_sequence(self, z: np.ndarray, h0: np.ndarray, c0: np.ndarray, w_hh: np.ndarray,
                      reverse: bool = False) -> tuple:
        """z (S, B, 4H) = x W_ih^T + b_ih + b_hh, h0, c0 (B, H), w_hh (4H, H) -> (acts (S, B,
        4H), cs, tcs, hs (S, B, H)): per step, ``lstm_gates(z[t] + h_prev w_hh^T, c_prev)``."""

    def lstm_sequence_backward(self, acts: np.ndarray, cs: np.ndarray, tcs: np.ndarray,
                               c0: np.ndarray, w_hh: np.ndarray, g: np.ndarray,
                               dc_last: np.ndarray, reverse: bool = False) -> tuple:
        """The gradients of ``lstm_sequence`` given g (S, B, H), that of every h, and dc_last,
        that of the last step's c: (dz (S, B, 4H), that of each step's pre-activations, dh0,
        dc0 (B, H)); per step, backwards, ``lstm_gates_backward`` with dh = g[t] + dz[t+1]
        w_hh."""

    def gru_sequence(self, a: np.ndarray, h0: np.ndarray, w_hh: np.ndarray,
                     b_hh: np.ndarray | None = None, reverse: bool = False) -> tuple:
        """a (S, B, 3H) = x W_ih^T + b_ih, h0 (B, H), w_hh (3H, H), b_hh (3H,) or None -> (rs,
        zs, ns (S, B, H), bs (S, B, 3H) = h_prev w_hh^T + b_hh, hs (S, B, H)): per step,
        ``gru_gates(a[t], bs[t], h_prev)``."""

    def gru_sequence_backward(self, rs: np.ndarray, zs: np.ndarray, ns: np.ndarray,
                              bs: np.ndarray, hs: np.ndarray, h0: np.ndarray, w_hh: np.ndarray,
                              g: np.ndarray, reverse: bool = False) -> tuple:
        """The gradients of ``gru_sequence`` given g (S, B, H): (da, db (S, B, 3H), those of a
        and bs, dh0 (B, H)); per step, backwards, ``gru_gates_backward`` with dh = g[t] +
        dh_z[t+1] + db[t+1] w_hh."""

    # optimizer updates: IN PLACE on p and the state arrays (the one exception to "never
    # mutates"); PyTorch's formulas, in the order of micrograd/optim -----------------------------
    def sgd_step(self, p: np.ndarray, g: np.ndarray, buf: np.ndarray | None, lr: float,
                 momentum: float = 0.0, dampening: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False, maximize: bool = False, first: bool = False) -> None:
        """SGD: g' = (-g if maximize else g) + weight_decay * p; with momentum, buf = g' on the
        ``first`` step, else momentum * buf + (1 - dampening) * g', and g' = g' + momentum * buf
        (nesterov) or buf; then p -= lr * g'. ``buf`` (p's shape) may be None without
        momentum."""
    def adam_step(self, p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray,
                  vmax: np.ndarray | None, step: int, lr: float, beta1: float, beta2: float,
                  eps: float, weight_decay: float = 0.0, decoupled: bool = False,
                  maximize: bool = False) -> None:
        """Adam (AdamW when ``decoupled``) at ``step`` >= 1: weight decay (p *= 1 - lr wd, or
        g' += wd p), m = b1 m + (1 - b1) g', v = b2 v + (1 - b2) g'^2, vmax = max(vmax, v)
        when vmax is not None (amsgrad; then used for v), p -= lr / (1 - b1^t) * m /
        (sqrt(v) / sqrt(1 - b2^t) + eps). Updates p, m, v, vmax in place."""
