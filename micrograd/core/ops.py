"""The differentiable primitives: one ``Function`` subclass per op, forward and backward together.

Each op works on raw backend arrays (never Tensors), so no graph is built during backward, and
calls only ``self.be`` (the active backend, fixed when the op ran). The docstring states the math;
``g`` is the upstream gradient d(loss)/d(out). ``backward`` returns one gradient per input, in
input order, or None for an input that needs none (``self.needs_input_grad``).

Broadcasting is explicit: the Tensor layer inserts an ``Expand`` (whose backward sums) for every
operand that needs a gradient, so a binary op's gradients already have their input's shape. An
operand that needs no gradient (a constant, a Python scalar) may reach a primitive unexpanded;
the primitive broadcasts it, which has no effect on any gradient.

Higher-order gradients are out of scope: backward computes plain arrays, not a graph.
"""
from __future__ import annotations

import math

import numpy as np  # only for dtype/shape bookkeeping; the math goes through self.be

from .shapes import drop_axes


class Function:
    """Base class. The instance is the autograd context: forward saves what backward needs."""

    needs_input_grad: tuple = ()
    freed = False  # True once backward has dropped the saved arrays (retain_graph=False)
    # What backward reads, for the in-place checks (tensor._check_saved): the inputs it saved
    # (indices; None = all, the safe default) and whether it saved its output. ``view``: the
    # output shares the first input's storage (and version counter).
    saves_inputs: tuple | None = None
    saves_output = False
    view = False
    versions: tuple | None = None  # the inputs' versions when recorded (None: all 0)
    out_version = 0                # the output's version when recorded
    seq = 0  # the op's place in creation order, set when it is recorded (tensor.wrap_array)
    # Whether ``micrograd.compile`` may record the op: its forward and backward compute only
    # through ``self.be`` (every array they make comes from a backend call, which the replay
    # repeats). This module's primitives are listed in compile.RECORDED_OPS; an op defined
    # elsewhere says so in its own class body (compile reads the class's own attribute, so a
    # subclass that rewrites forward with NumPy is not taken for recordable).
    recordable = False
    # Whether backward skips checking what the op's backward returns (one gradient per input,
    # each of its input's shape): true for micrograd's own ops (tested to), false for a
    # subclass written elsewhere, whose mistake is then named at the op (tensor._check_grads).
    trusted = True

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "trusted" not in cls.__dict__:
            cls.trusted = cls.__module__.partition(".")[0] == "micrograd"

    def forward(self, *arrays, **params):
        """Compute the output array from the input arrays (and keyword parameters), saving on
        self what backward needs."""
        raise NotImplementedError

    def backward(self, g):
        """Given ``g`` = d(loss)/d(out), return one gradient array per input, in input order
        (None where ``needs_input_grad`` is False)."""
        raise NotImplementedError

    def name(self) -> str:
        """Readable node name, as PyTorch's grad_fn prints it: ``AddBackward``."""
        return type(self).__name__ + "Backward"

    def __repr__(self) -> str:
        return f"<{self.name()}>"


# ---- elementwise binary (operands that need a gradient have the output's shape) -------------
class Add(Function):
    """out = a + b    da = g    db = g"""
    saves_inputs = ()

    def forward(self, a, b):
        return self.be.add(a, b)

    def backward(self, g):
        return g, g


class Sub(Function):
    """out = a - b    da = g    db = -g"""
    saves_inputs = ()

    def forward(self, a, b):
        return self.be.sub(a, b)

    def backward(self, g):
        return g, (self.be.neg(g) if self.needs_input_grad[1] else None)


class Mul(Function):
    """out = a * b    da = g * b    db = g * a"""

    @property
    def saves_inputs(self) -> tuple:
        """da reads b and db reads a: only what a needed gradient reads is checked (so
        ``c * 2`` does not keep c from changing in place, as torch)."""
        return _MUL_SAVES[self.needs_input_grad]

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.be.mul(a, b)

    def backward(self, g):
        be, need, a, b = self.be, self.needs_input_grad, self.a, self.b
        da = be.mul(g, b) if need[0] else None
        if a is b and need[1] and da is not None:  # x * x: db is the same product
            return da, da
        return da, (be.mul(g, a) if need[1] else None)


#: Mul.saves_inputs by needs_input_grad: b when a needs a gradient, a when b does
_MUL_SAVES = {(True, True): (1, 0), (True, False): (1,), (False, True): (0,), (False, False): ()}


class Div(Function):
    """out = a / b    da = g / b    db = -g * out / b"""
    saves_inputs, saves_output = (1,), True

    def forward(self, a, b):
        self.b = b
        self.out = self.be.div(a, b)
        return self.out

    def backward(self, g):
        be, need = self.be, self.needs_input_grad
        da = be.div(g, self.b) if need[0] else None
        # g * (out / b), not (g / b) * out: for 0 / tiny b, g / b is inf and out is 0 (nan)
        db = be.neg(be.mul(g, be.div(self.out, self.b))) if need[1] else None
        return da, db


class Pow(Function):
    """out = a ** b    da = g * b * a ** (b - 1)    db = g * out * log(a)
    As torch, da = 0 where b = 0 and db = 0 where a = 0 and b >= 0 (the limits; the formulas
    alone give 0 * inf = nan there, e.g. at 0 ** 0)."""
    saves_output = True

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = self.be.pow(a, b)
        return self.out

    def backward(self, g):
        be, need, a, b = self.be, self.needs_input_grad, self.a, self.b
        da = db = None
        if need[0]:
            da = be.mul(b, be.pow(a, be.sub(b, _s(b, 1))))
            da = be.mul(g, be.where(be.compare(b, _s(b, 0), "eq"), _s(da, 0), da))
        if need[1]:
            db = be.mul(self.out, be.log(a))
            at_zero = be.where(be.compare(a, _s(a, 0), "eq"), be.compare(b, _s(b, 0), "ge"), False)
            db = be.mul(g, be.where(at_zero, _s(db, 0), db))
        return da, db


class Maximum(Function):
    """out = max(a, b)    the gradient goes to the larger input, split in half on ties (torch)"""

    pick = "gt"

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.be.maximum(a, b) if self.pick == "gt" else self.be.minimum(a, b)

    def backward(self, g):
        be, need = self.be, self.needs_input_grad
        win = be.compare(self.a, self.b, self.pick)
        tie = be.compare(self.a, self.b, "eq")
        half, zero = be.mul(g, _s(g, 0.5)), _s(g, 0)
        da = be.where(win, g, be.where(tie, half, zero)) if need[0] else None
        db = be.where(win, zero, be.where(tie, half, g)) if need[1] else None
        return da, db


class Minimum(Maximum):
    """out = min(a, b)    the gradient goes to the smaller input, split in half on ties"""

    pick = "lt"


class Where(Function):
    """out = a where cond else b    da = g where cond    db = g where not cond"""
    saves_inputs = ()

    def forward(self, a, b, cond):
        self.cond = cond
        return self.be.where(cond, a, b)

    def backward(self, g):
        be, need = self.be, self.needs_input_grad
        zero = _s(g, 0)
        return (be.where(self.cond, g, zero) if need[0] else None,
                be.where(self.cond, zero, g) if need[1] else None)


# ---- elementwise unary -----------------------------------------------------------------------
class Neg(Function):
    """out = -x    dx = -g"""
    saves_inputs = ()

    def forward(self, x):
        return self.be.neg(x)

    def backward(self, g):
        return (self.be.neg(g),)


class Exp(Function):
    """out = e^x    dx = g * out"""
    saves_inputs, saves_output = (), True

    def forward(self, x):
        self.out = self.be.exp(x)
        return self.out

    def backward(self, g):
        return (self.be.mul(g, self.out),)


class Log(Function):
    """out = log x    dx = g / x"""

    def forward(self, x):
        self.x = x
        return self.be.log(x)

    def backward(self, g):
        return (self.be.div(g, self.x),)


class Log1p(Function):
    """out = log(1 + x)    dx = g / (1 + x)"""

    def forward(self, x):
        self.x = x
        return self.be.log1p(x)

    def backward(self, g):
        return (self.be.div(g, self.be.add(self.x, _s(self.x, 1))),)


class Sqrt(Function):
    """out = sqrt x    dx = g / (2 out)"""
    saves_inputs, saves_output = (), True

    def forward(self, x):
        self.out = self.be.sqrt(x)
        return self.out

    def backward(self, g):
        return (self.be.div(g, self.be.mul(self.out, _s(g, 2))),)


class Abs(Function):
    """out = |x|    dx = g * sign(x)   (0 at x = 0, as torch)"""

    def forward(self, x):
        self.x = x
        return self.be.abs(x)

    def backward(self, g):
        return (self.be.mul(g, self.be.sign(self.x)),)


class PowScalar(Function):
    """out = x ** p (p a Python number)    dx = g * p * x ** (p - 1)"""

    def forward(self, x, p):
        self.x, self.p = x, p
        return self.be.pow(x, _s(x, p))

    def backward(self, g):
        be, p, x = self.be, self.p, self.x
        if p == 0:  # d/dx x ** 0 = 0 everywhere, also at x = 0 (torch), not 0 * 0 ** -1 = nan
            return (be.broadcast_to(_s(g, 0), g.shape),)
        if p == 2:
            return (be.mul(g, be.mul(x, _s(x, 2))),)
        return (be.mul(g, be.mul(be.pow(x, _s(x, p - 1)), _s(x, p))),)


class Clip(Function):
    """out = min(max(x, lo), hi)    dx = g where lo <= x <= hi (bounds included, as torch)"""
    saves_output = True

    def forward(self, x, lo, hi):
        self.x = x
        self.out = self.be.clip(x, lo, hi)
        return self.out

    def backward(self, g):
        be = self.be
        return (be.where(be.compare(self.out, self.x, "eq"), g, _s(g, 0)),)


class Cast(Function):
    """out = x as dtype    dx = g as x's dtype"""
    saves_inputs = ()

    def forward(self, x, dtype):
        self.src = x.dtype
        return self.be.cast(x, dtype)

    def backward(self, g):
        return (self.be.cast(g, self.src),)


# ---- activations -----------------------------------------------------------------------------
class ReLU(Function):
    """out = max(x, 0)    dx = g where x > 0"""

    def forward(self, x):
        self.x = x
        return self.be.relu(x)

    def backward(self, g):
        return (self.be.relu_backward(self.x, g),)


class LeakyReLU(Function):
    """out = x if x > 0 else slope * x    dx = g if x > 0 else slope * g"""

    def forward(self, x, slope):
        self.x, self.slope = x, slope
        return self.be.leaky_relu(x, slope)

    def backward(self, g):
        return (self.be.leaky_relu_backward(self.x, g, self.slope),)


class Sigmoid(Function):
    """out = 1 / (1 + e^-x)    dx = g * out * (1 - out)"""
    saves_inputs, saves_output = (), True

    def forward(self, x):
        self.out = self.be.sigmoid(x)
        return self.out

    def backward(self, g):
        return (self.be.sigmoid_backward(self.out, g),)


class Tanh(Function):
    """out = tanh x    dx = g * (1 - out^2)"""
    saves_inputs, saves_output = (), True

    def forward(self, x):
        self.out = self.be.tanh(x)
        return self.out

    def backward(self, g):
        return (self.be.tanh_backward(self.out, g),)


class GELU(Function):
    """out = x * Phi(x)    dx = g * (Phi(x) + x * phi(x))   (exact erf form)"""

    def forward(self, x):
        self.x = x
        return self.be.gelu(x)

    def backward(self, g):
        return (self.be.gelu_backward(self.x, g),)


class _RowWise(Function):
    """Base for softmax/log_softmax over ``axis``: the kernels run over the last axis of a 2-D
    (N, C) array, so move ``axis`` last and flatten the rest, then undo it on the way out."""
    saves_inputs, saves_output = (), True

    def _to_rows(self, x, axis):
        be = self.be
        self.axis, self.shape = axis, x.shape
        last = x.ndim - 1
        if axis != last:
            perm = list(range(x.ndim))
            perm[axis], perm[last] = last, axis
            x = be.transpose(x, tuple(perm))
        self.moved = x.shape
        # the row count spelled out: -1 is ambiguous when the last dim is 0
        return be.reshape(x, (int(np.prod(x.shape[:-1])), x.shape[-1])) if x.ndim != 2 else x

    def _from_rows(self, y):
        be = self.be
        y = be.reshape(y, self.moved)
        last = len(self.shape) - 1
        if self.axis != last:
            perm = list(range(len(self.shape)))
            perm[self.axis], perm[last] = last, self.axis
            y = be.transpose(y, tuple(perm))
        return y

    def forward(self, x, axis):
        if x.ndim == 0:
            x = self.be.reshape(x, (1,))
            axis, self.scalar = 0, True
        else:
            self.scalar = False
        rows = self._to_rows(x, axis)  # (N, C)
        self.out = self.kernel(rows) if rows.size else rows  # empty: nothing to compute
        out = self._from_rows(self.out)
        return self.be.reshape(out, ()) if self.scalar else out

    def backward(self, g):
        if self.scalar:
            g = self.be.reshape(g, (1,))
        rows = self._to_rows(g, self.axis)
        dx = self._from_rows(self.kernel_backward(self.out, rows) if rows.size else rows)
        return (self.be.reshape(dx, ()) if self.scalar else dx,)


class Softmax(_RowWise):
    """out = e^x / sum(e^x) over axis    dx = out * (g - sum(g * out))"""

    def kernel(self, x):
        """The backend's softmax of each row of a 2-D (N, C) array."""
        return self.be.softmax(x)

    def kernel_backward(self, y, g):
        """dx of each row from the output rows ``y`` and their gradient ``g``."""
        return self.be.softmax_backward(y, g)


class LogSoftmax(_RowWise):
    """out = x - logsumexp(x) over axis    dx = g - softmax(x) * sum(g)"""

    def kernel(self, x):
        """The backend's log_softmax of each row of a 2-D (N, C) array."""
        return self.be.log_softmax(x)

    def kernel_backward(self, y, g):
        """dx of each row from the output rows ``y`` and their gradient ``g``."""
        return self.be.log_softmax_backward(y, g)


# ---- reductions ------------------------------------------------------------------------------
class Sum(Function):
    """out = sum of x over axes    dx = g broadcast back to x's shape"""
    saves_inputs = ()

    def forward(self, x, axes=None, keepdims=False):
        self.shape, self.axes, self.keepdims = x.shape, axes, keepdims
        return self.be.sum(x, axes, keepdims)

    def backward(self, g):
        be = self.be
        if self.axes is None and not self.keepdims:
            # a full reduction (every loss's last step): g is 0-d, so the gradient is one value
            # filled; contiguous, which a kernel would copy a stride-0 view into anyway, and
            # ~3x cheaper than np.broadcast_to's checks at loss sizes
            out = np.empty(self.shape, g.dtype)
            out.fill(g)
            return (out,)
        if not self.keepdims:
            g = be.reshape(g, _kept_shape(self.shape, self.axes))
        return (be.broadcast_to(g, self.shape),)


class Max(Function):
    """out = max of x over axes (amax)    dx = g shared equally by the maxima (torch's amax)"""

    reduce = "max"

    def forward(self, x, axes, keepdims):
        be = self.be
        self.x, self.axes, self.keepdims = x, axes, keepdims
        self.kept = getattr(be, self.reduce)(x, axes, True)
        return self.kept if keepdims else be.reshape(self.kept, drop_axes(x.shape, axes))

    def backward(self, g):
        be = self.be
        if not self.keepdims:
            g = be.reshape(g, self.kept.shape)
        mask = be.cast(be.compare(self.x, self.kept, "eq"), g.dtype)
        count = be.sum(mask, self.axes, True)
        return (be.mul(mask, be.div(g, count)),)


class Min(Max):
    """out = min of x over axes (amin)    dx = g shared equally by the minima"""

    reduce = "min"


# ---- movement and indexing -------------------------------------------------------------------
class Expand(Function):
    """out = x broadcast to shape    dx = g summed over the broadcast axes ("sum in reverse")"""
    saves_inputs, view = (), True

    def forward(self, x, shape):
        self.shape = x.shape
        lead = len(shape) - x.ndim
        self.axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(x.shape) if n == 1 and shape[lead + i] != 1)
        return self.be.broadcast_to(x, shape)

    def backward(self, g):
        be = self.be
        if self.axes:
            g = be.sum(g, self.axes, True)
        return (be.reshape(g, self.shape),)


class Reshape(Function):
    """out = x viewed as shape    dx = g viewed as x's shape"""
    saves_inputs, view = (), True

    def forward(self, x, shape):
        self.shape = x.shape
        return self.be.reshape(x, shape)

    def backward(self, g):
        return (self.be.reshape(g, self.shape),)


class Permute(Function):
    """out = x with axes reordered    dx = g with the inverse order"""
    saves_inputs, view = (), True

    def forward(self, x, axes):
        self.inverse = tuple(int(i) for i in np.argsort(axes))
        return self.be.transpose(x, axes)

    def backward(self, g):
        return (self.be.transpose(g, self.inverse),)


class GetItem(Function):
    """out = x[index]    dx = zeros with g scatter-added at index (repeats add up)"""
    saves_inputs = ()  # a view for basic indices: Tensor.__getitem__

    def forward(self, x, index):
        self.shape, self.index = x.shape, index
        return self.be.getitem(x, index)

    def backward(self, g):
        return (self.be.getitem_backward(self.shape, self.index, g),)


class Gather(Function):
    """out = x gathered along axis at index (torch.gather)    dx = g scatter-added back"""
    saves_inputs = ()

    def forward(self, x, index, axis):
        self.shape, self.index, self.axis = x.shape, index, axis
        return self.be.take_along_axis(x, index, axis)

    def backward(self, g):
        return (self.be.take_along_axis_backward(self.shape, self.index, g, self.axis),)


class Cat(Function):
    """out = the inputs joined along axis    d(input i) = g's slice i"""
    saves_inputs = ()

    def forward(self, *xs, axis):
        self.axis = axis
        self.bounds = np.cumsum([0] + [x.shape[axis] for x in xs]).tolist()
        return self.be.concatenate(xs, axis)

    def backward(self, g):
        be, lead = self.be, (slice(None),) * self.axis
        return tuple(be.getitem(g, lead + (slice(lo, hi),)) if need else None
                     for lo, hi, need in zip(self.bounds, self.bounds[1:],
                                             self.needs_input_grad))


# ---- linear algebra --------------------------------------------------------------------------
class MatMul(Function):
    """out = a @ b    da = g @ b^T    db = a^T @ g   (2-D, or N-d with equal batch dims)"""

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.be.matmul(a, b)

    def backward(self, g):
        be, need, a, b = self.be, self.needs_input_grad, self.a, self.b
        if a.ndim == 2 and b.ndim == 2:  # transposes as flags: no copy
            return (be.matmul(g, b, trans_b=True) if need[0] else None,
                    be.matmul(a, g, trans_a=True) if need[1] else None)
        return (be.matmul(g, _swap_last(be, b)) if need[0] else None,
                be.matmul(_swap_last(be, a), g) if need[1] else None)


class Linear(Function):
    """out = act(z), z = x @ w^T + b    dz = g * act'(out)
    dx = dz @ w    dw = dz^T @ x    db = sum of dz over rows
    x (N, K), w (M, K), b (M,) or absent -> out (N, M); act is None (identity) or one of
    backends.base.LINEAR_ACTIVATIONS, whose derivatives need only the output, so a fused layer
    keeps no pre-activation. Forward and backward are one backend call each."""
    saves_inputs = (0, 1)  # and its output when fused with an activation

    activation = None

    def forward(self, x, w, b=None, activation=None):
        self.x, self.w, self.activation = x, w, activation
        out = self.be.linear(x, w, b, activation)
        self.out = out if activation is not None else None
        self.saves_output = activation is not None
        return out

    def backward(self, g):
        dx, dw, db = self.be.linear_backward(self.x, self.w, self.out, g, self.activation,
                                             self.needs_input_grad)
        return (dx, dw) if len(self.needs_input_grad) == 2 else (dx, dw, db)

    def name(self) -> str:
        act = self.activation
        return "LinearBackward" if act is None else f"Linear{act.capitalize()}Backward"


# ---- losses ----------------------------------------------------------------------------------
class CrossEntropy(Function):
    """out_i = logsumexp(x_i) - x_i[t_i]    dx_i = g_i (softmax(x_i) - onehot(t_i))
    x (N, C) logits, t (N,) int64 labels in [0, C): the fused softmax-cross-entropy kernel, one
    backend call each way and no softmax node. Class weights, ignore_index, label smoothing and
    the reductions are composed around it in nn.functional (shared with nll_loss)."""

    def forward(self, logits, target):
        self.target = target
        loss, self.prob = self.be.cross_entropy(logits, target)
        return loss

    def backward(self, g):
        return (self.be.cross_entropy_backward(self.prob, self.target, g),)


class BCEWithLogits(Function):
    """out = (1 - y) x + (1 + (p - 1) y) sp(-x)    dx = g ((1 - y) sig(x) - p y sig(-x))
    dy = g ((p - 1) sp(-x) - x);  sp(z) = log(1 + e^z) = max(z, 0) + log1p(e^-|z|), sig the
    sigmoid, p the pos_weight (or 1); elementwise on logits x and targets y.
    A primitive for accuracy, not speed: composed from the existing ops, sp would be
    F.softplus, whose threshold (x past 20 -> x) is off by e^-x, relatively up to 1e-10 in
    float64, and sp's derivative through max/abs is 0 at x = 0 instead of 1/2. dx is written
    without the cancellation of (1 - y) - (1 + (p - 1) y) sig(-x), which is 0 in float32 for
    |x| > 17 instead of ~e^-|x|."""

    def forward(self, x, y, pos_weight):
        be = self.be
        self.x, self.y, self.pw = x, y, pos_weight
        nx = be.neg(x)
        # softplus(-x) = max(-x, 0) + log(1 + e^-|x|): no overflow for any x
        self.sp = be.add(be.relu(nx), be.log1p(be.exp(be.neg(be.abs(x)))))
        self.lw = None if pos_weight is None else be.add(
            be.mul(be.sub(pos_weight, _s(x, 1)), y), _s(x, 1))
        sp = self.sp if self.lw is None else be.mul(self.lw, self.sp)
        return be.add(be.mul(be.sub(_s(y, 1), y), x), sp)

    def backward(self, g):
        be, need, one = self.be, self.needs_input_grad, _s(g, 1)
        dx = dy = None
        if need[0]:
            pos = be.mul(be.sub(one, self.y), be.sigmoid(self.x))
            neg = be.mul(self.y, be.sigmoid(be.neg(self.x)))
            if self.pw is not None:
                neg = be.mul(self.pw, neg)
            dx = be.mul(g, be.sub(pos, neg))
        if need[1]:
            pm1 = _s(g, 0) if self.pw is None else be.sub(self.pw, one)
            dy = be.mul(g, be.sub(be.mul(pm1, self.sp), self.x))
        return dx, dy


class BCE(Function):
    """out = -(y L(p) + (1 - y) L(1 - p))    dp = g (p - y) / max(p (1 - p), 1e-12)
    dy = g (L(1 - p) - L(p));  L(q) = max(log q, -100), torch's clamp; elementwise on
    probabilities p and targets y. A primitive because torch's dp is not the derivative of
    its clamped forward (at p = 0 or 1 it is +-1e12 (p - y), where the composed derivative of
    the clamp would be 0 or nan), so no composition matches torch."""

    def forward(self, p, y):
        be = self.be
        self.p, self.y = p, y
        # max(log(max(p, tiny)), -100): the clamp without ever taking log(0)
        tiny, floor, one = _s(p, np.finfo(p.dtype).smallest_subnormal), _s(p, -100), _s(p, 1)
        self.logp = be.maximum(be.log(be.maximum(p, tiny)), floor)
        self.log1mp = be.maximum(be.log(be.maximum(be.sub(one, p), tiny)), floor)
        return be.neg(be.add(be.mul(y, self.logp), be.mul(be.sub(one, y), self.log1mp)))

    def backward(self, g):
        be, need, p, one = self.be, self.needs_input_grad, self.p, _s(g, 1)
        dp = dy = None
        if need[0]:
            den = be.maximum(be.mul(p, be.sub(one, p)), _s(p, 1e-12))
            dp = be.mul(g, be.div(be.sub(p, self.y), den))
        if need[1]:
            dy = be.mul(g, be.sub(self.log1mp, self.logp))
        return dp, dy


# ---- shape helpers (pure bookkeeping on tuples) ----------------------------------------------
def _kept_shape(shape: tuple, axes) -> tuple:
    """shape with the reduced axes kept as 1 (axes None = all)."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _s(x, value):
    """``value`` as a NumPy scalar of x's dtype, so a kernel never upcasts (NEP 50)."""
    return x.dtype.type(value)


def _swap_last(be, x):
    """x with its last two axes swapped (a view)."""
    perm = list(range(x.ndim))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    return be.transpose(x, tuple(perm))


# ---- elementwise math (torch.sin, ...): gradients as torch's derivatives.yaml ----------------
class Sin(Function):
    """out = sin a    da = g * cos a"""

    def forward(self, x):
        self.x = x
        return self.be.sin(x)

    def backward(self, g):
        return (self.be.mul(g, self.be.cos(self.x)),)


class Cos(Function):
    """out = cos a    da = -g * sin a"""

    def forward(self, x):
        self.x = x
        return self.be.cos(x)

    def backward(self, g):
        return (self.be.neg(self.be.mul(g, self.be.sin(self.x))),)


class Tan(Function):
    """out = tan a    da = g * (1 + out^2)   (its own primitive: sin / cos is not tan's rounding)"""
    saves_inputs, saves_output = (), True

    def forward(self, x):
        self.out = self.be.tan(x)
        return self.out

    def backward(self, g):
        be = self.be
        return (be.mul(g, be.add(be.mul(self.out, self.out), _s(g, 1))),)


class Asin(Function):
    """out = asin a    da = g / sqrt(1 - a^2)"""

    def forward(self, x):
        self.x = x
        return self.be.asin(x)

    def backward(self, g):
        return (self.be.div(g, _sqrt_one_minus_sq(self.be, self.x)),)


class Acos(Function):
    """out = acos a    da = -g / sqrt(1 - a^2)"""

    def forward(self, x):
        self.x = x
        return self.be.acos(x)

    def backward(self, g):
        return (self.be.neg(self.be.div(g, _sqrt_one_minus_sq(self.be, self.x))),)


class Atan(Function):
    """out = atan a    da = g / (1 + a^2)"""

    def forward(self, x):
        self.x = x
        return self.be.atan(x)

    def backward(self, g):
        be, x = self.be, self.x
        return (be.div(g, be.add(be.mul(x, x), _s(x, 1))),)


class Sinh(Function):
    """out = sinh a    da = g * cosh a"""

    def forward(self, x):
        self.x = x
        return self.be.sinh(x)

    def backward(self, g):
        return (self.be.mul(g, self.be.cosh(self.x)),)


class Cosh(Function):
    """out = cosh a    da = g * sinh a"""

    def forward(self, x):
        self.x = x
        return self.be.cosh(x)

    def backward(self, g):
        return (self.be.mul(g, self.be.sinh(self.x)),)


class Asinh(Function):
    """out = asinh a    da = g / sqrt(a^2 + 1)"""

    def forward(self, x):
        self.x = x
        return self.be.asinh(x)

    def backward(self, g):
        be, x = self.be, self.x
        return (be.div(g, be.sqrt(be.add(be.mul(x, x), _s(x, 1)))),)


class Acosh(Function):
    """out = acosh a    da = g / sqrt(a^2 - 1)"""

    def forward(self, x):
        self.x = x
        return self.be.acosh(x)

    def backward(self, g):
        be, x = self.be, self.x
        return (be.div(g, be.sqrt(be.sub(be.mul(x, x), _s(x, 1)))),)


class Atanh(Function):
    """out = atanh a    da = g / (1 - a^2)"""

    def forward(self, x):
        self.x = x
        return self.be.atanh(x)

    def backward(self, g):
        be, x = self.be, self.x
        return (be.div(g, be.sub(_s(x, 1), be.mul(x, x))),)


class Exp2(Function):
    """out = 2^a    da = g * out * ln 2"""
    saves_inputs, saves_output = (), True

    def forward(self, x):
        self.out = self.be.exp2(x)
        return self.out

    def backward(self, g):
        return (self.be.mul(g, self.be.mul(self.out, _s(g, np.log(2.0)))),)


class Expm1(Function):
    """out = e^a - 1    da = g * (out + 1)"""
    saves_inputs, saves_output = (), True

    def forward(self, x):
        self.out = self.be.expm1(x)
        return self.out

    def backward(self, g):
        return (self.be.mul(g, self.be.add(self.out, _s(g, 1))),)


class Log2(Function):
    """out = log2 a    da = g / (a ln 2)"""

    def forward(self, x):
        self.x = x
        return self.be.log2(x)

    def backward(self, g):
        return (self.be.div(g, self.be.mul(self.x, _s(self.x, np.log(2.0)))),)


class Log10(Function):
    """out = log10 a    da = g / (a ln 10)"""

    def forward(self, x):
        self.x = x
        return self.be.log10(x)

    def backward(self, g):
        return (self.be.div(g, self.be.mul(self.x, _s(self.x, np.log(10.0)))),)


class Erf(Function):
    """out = erf a    da = g * 2 / sqrt(pi) * e^(-a^2)"""

    def forward(self, x):
        self.x = x
        return self.be.erf(x)

    def backward(self, g):
        return (self.be.mul(g, _erf_slope(self.be, self.x)),)


class Erfc(Function):
    """out = erfc a    da = -g * 2 / sqrt(pi) * e^(-a^2)"""

    def forward(self, x):
        self.x = x
        return self.be.erfc(x)

    def backward(self, g):
        return (self.be.neg(self.be.mul(g, _erf_slope(self.be, self.x))),)


class Erfinv(Function):
    """out = erfinv a    da = g * sqrt(pi) / 2 * e^(out^2)
    No backend has an erfinv kernel: ``_erfinv`` computes it with NumPy around the backend's
    erf and erfc. Outside [-1, 1] nan, at +-1 +-inf (and an infinite gradient), as torch."""
    saves_inputs, saves_output = (), True

    def forward(self, x):
        self.out = _erfinv(self.be, x)
        return self.out

    def backward(self, g):
        be, out = self.be, self.out
        return (be.mul(g, be.mul(be.exp(be.mul(out, out)), _s(out, math.sqrt(math.pi) / 2))),)


# Giles (2010), "Approximating the erfinv function": erfinv(a) ~ a p(w), w = -log(1 - a^2),
# p a polynomial in w - 2.5 (w < 5) or in sqrt(w) - 3; single precision (relative 4e-7)
_ERFINV_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                   0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_ERFINV_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


def _horner(coefs, w):
    p = np.full_like(w, coefs[0])
    for c in coefs[1:]:
        p = p * w + c
    return p


def _erfinv(be, y):
    """erfinv to double precision, in float64, returned in y's dtype. A start from Giles'
    approximation (for 1 - |y| < ~1e-7, past its fit, from erfc's asymptote e^(-x^2) /
    (x sqrt(pi))), then three Newton steps: on erf(x) = |y| for |y| <= 0.5, on log erfc(x) =
    log(1 - |y|) above (1 - |y| is exact there, and log erfc is nearly linear in x^2, so far
    starts converge too). Measured against torch: at most 3e-16 relative."""
    a = np.abs(np.asarray(y, np.float64))
    with np.errstate(all="ignore"):  # |y| >= 1 runs through as inf / nan, then is replaced
        w = -np.log((1.0 - a) * (1.0 + a))
        x = np.where(w < 5, _horner(_ERFINV_CENTRAL, w - 2.5),
                     _horner(_ERFINV_TAIL, np.sqrt(w) - 3.0)) * a
        log_t = -np.log(1.0 - a)
        far = np.sqrt(log_t)
        for _ in range(2):
            far = np.sqrt(log_t - np.log(far * math.sqrt(math.pi)))
        x = np.where(w > 16, far, x)
        inside = a < 1
        tail, mid = inside & (a > 0.5), inside & (a <= 0.5)
        for _ in range(3):
            step = np.zeros_like(x)
            step[mid] = be.erf(x[mid]) - a[mid]
            c = be.erfc(x[tail])
            step[tail] = (np.log(1.0 - a[tail]) - np.log(c)) * c
            x = x - step / (2 / math.sqrt(math.pi) * np.exp(-x * x))
        x = np.where(a == 1, np.inf, np.where(inside, x, np.nan))
    return np.copysign(x, y).astype(np.asarray(y).dtype)


class Floor(Function):
    """out = floor a    da = 0 (a step function: torch's gradient is zero everywhere)"""
    saves_inputs = ()
    kernel = "floor"

    def forward(self, x, **params):
        return getattr(self.be, self.kernel)(x, **params)

    def backward(self, g):
        return (self.be.broadcast_to(_s(g, 0), g.shape),)


class Ceil(Floor):
    """out = ceil a    da = 0"""
    kernel = "ceil"


class Trunc(Floor):
    """out = trunc a    da = 0"""
    kernel = "trunc"


class Round(Floor):
    """out = a rounded half to even at ``decimals`` digits    da = 0"""
    kernel = "round"


class Sign(Floor):
    """out = (a > 0) - (a < 0)    da = 0   (torch's sign: 0 at nan and at -0.0, where the
    sign kernel, NumPy's, gives nan and -0.0)"""

    def forward(self, x):
        be, zero = self.be, _s(x, 0)
        return be.sub(be.cast(be.compare(x, zero, "gt"), x.dtype),
                      be.cast(be.compare(x, zero, "lt"), x.dtype))


class Atan2(Function):
    """out = atan2(a, b)    da = g * b / (a^2 + b^2)    db = -g * a / (a^2 + b^2)"""

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.be.atan2(a, b)

    def backward(self, g):
        be, need, a, b = self.be, self.needs_input_grad, self.a, self.b
        r = be.div(g, be.add(be.mul(a, a), be.mul(b, b)))
        return (be.mul(r, b) if need[0] else None,
                be.neg(be.mul(r, a)) if need[1] else None)


class Hypot(Function):
    """out = sqrt(a^2 + b^2)    da = g * a / out    db = g * b / out"""
    saves_output = True

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = self.be.hypot(a, b)
        return self.out

    def backward(self, g):
        be, need = self.be, self.needs_input_grad
        return (be.mul(g, be.div(self.a, self.out)) if need[0] else None,
                be.mul(g, be.div(self.b, self.out)) if need[1] else None)


class LogAddExp(Function):
    """out = log(e^a + e^b)    da = g / (1 + e^(b - a))    db = g / (1 + e^(a - b))"""
    base_exp = "exp"

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.be.logaddexp(a, b) if self.base_exp == "exp" else self.be.logaddexp2(a, b)

    def backward(self, g):
        be, need, a, b = self.be, self.needs_input_grad, self.a, self.b
        up = getattr(be, self.base_exp)
        one = _s(g, 1)
        return (be.div(g, be.add(up(be.sub(b, a)), one)) if need[0] else None,
                be.div(g, be.add(up(be.sub(a, b)), one)) if need[1] else None)


class LogAddExp2(LogAddExp):
    """out = log2(2^a + 2^b)    da = g / (1 + 2^(b - a))    db = g / (1 + 2^(a - b))"""
    base_exp = "exp2"


class CopySign(Function):
    """out = |a| with b's sign    da = g * out / a (0 where a = 0)    db = 0"""
    saves_inputs, saves_output = (0,), True

    def forward(self, a, b):
        self.a = a
        self.out = self.be.copysign(a, b)
        return self.out

    def backward(self, g):
        be, need = self.be, self.needs_input_grad
        da = db = None
        if need[0]:
            zero = _s(g, 0)
            at_zero = be.compare(self.a, zero, "eq")
            ratio = be.div(self.out, be.where(at_zero, _s(g, 1), self.a))
            da = be.mul(g, be.where(at_zero, zero, ratio))
        if need[1]:
            db = be.broadcast_to(_s(g, 0), g.shape)
        return da, db


class Fmod(Function):
    """out = a - trunc(a / b) b    da = g    db = -g * trunc(a / b)"""
    kernel, quotient = "fmod", "trunc"

    def forward(self, a, b):
        self.a, self.b = a, b
        return getattr(self.be, self.kernel)(a, b)

    def backward(self, g):
        be, need = self.be, self.needs_input_grad
        db = None
        if need[1]:
            q = getattr(be, self.quotient)(be.div(self.a, self.b))
            db = be.neg(be.mul(g, q))
        return (g if need[0] else None), db


class Remainder(Fmod):
    """out = a - floor(a / b) b    da = g    db = -g * floor(a / b)"""
    kernel, quotient = "remainder", "floor"


def _sqrt_one_minus_sq(be, x):
    """sqrt(1 - x^2), the denominator of asin's and acos's derivatives."""
    return be.sqrt(be.sub(_s(x, 1), be.mul(x, x)))


def _erf_slope(be, x):
    """erf'(x) = 2 / sqrt(pi) * e^(-x^2)."""
    return be.mul(be.exp(be.neg(be.mul(x, x))), _s(x, 2.0 / np.sqrt(np.pi)))


class DivRounding(Function):
    """out = a / b rounded toward 0 ("trunc") or down ("floor")    da = db = 0, as torch
    Integers: C's division or Python's //, exactly; floats: trunc(a / b) or Python's //."""
    saves_inputs = ()

    def forward(self, a, b, mode):
        be = self.be
        if mode == "floor":
            return be.floor_divide(a, b)
        if a.dtype.kind == "f":
            return be.trunc(be.div(a, b))
        return be.floor_divide(be.sub(a, be.fmod(a, b)), b)  # a - fmod(a, b) divides exactly

    def backward(self, g):
        zero = self.be.broadcast_to(_s(g, 0), g.shape)
        return tuple(zero if need else None for need in self.needs_input_grad)


# ---- scatter (gather is above) -----------------------------------------------------------------
class Scatter(Function):
    """out = x with src put at index along axis (torch.scatter)    dx = g with zeros at the
    scattered positions    dsrc = g gathered at index"""
    saves_inputs = ()

    def forward(self, x, src, index, axis):
        self.index, self.axis = index, axis
        return self.be.scatter(x, index, src, axis)

    def backward(self, g):
        be = self.be
        dx = be.scatter(g, self.index, 0, self.axis) if self.needs_input_grad[0] else None
        dsrc = (be.take_along_axis(g, self.index, self.axis) if self.needs_input_grad[1]
                else None)
        return dx, dsrc


class ScatterAdd(Function):
    """out = x with src added at index along axis    dx = g    dsrc = g gathered at index"""
    saves_inputs = ()

    def forward(self, x, src, index, axis):
        self.index, self.axis = index, axis
        return self.be.scatter(x, index, src, axis, add=True)

    def backward(self, g):
        dsrc = (self.be.take_along_axis(g, self.index, self.axis) if self.needs_input_grad[1]
                else None)
        return g, dsrc


class ScatterReduce(Function):
    """out = x with src reduced in at index along axis by "prod", "amax" or "amin", x's own value
    taking part where include_self (elsewhere a position src reaches holds src's reduction)
    amax/amin: g is shared equally by the entries equal to their result, x's entry counted even
    when not included (torch's rule): dx = g / n where x is the result, dsrc = (g / n)[index]
    where src is;   prod: dx = g * (the product without x), dsrc = g * (the product without
    that src entry), both exact where entries are 0 (torch's formulas). torch also takes "max"
    and "min" for amax and amin, without a gradient."""
    saves_output = True

    def forward(self, x, src, index, axis, reduce, include_self):
        self.x, self.src, self.index, self.axis = x, src, index, axis
        self.reduce, self.include_self = reduce, include_self
        # the flat position in x that each src entry goes to
        places = np.arange(x.size).reshape(x.shape)
        self.target = self.be.take_along_axis(places, index, axis).reshape(-1)
        self.out = self._reduce(x, src)
        return self.out

    def _reduce(self, x, src):
        """x with src reduced in (the forward; prod's backward reruns it on masked inputs).
        The contributions are sorted by target position; a segmented scan then combines each
        with the entries 1, 2, 4, ... places before it in its run (log2 n whole-array steps), so
        the last entry of a run holds the run's reduction."""
        be = self.be
        combine = {"prod": be.mul, "amax": be.maximum, "amin": be.minimum, "max": be.maximum,
                   "min": be.minimum}[self.reduce]
        flat = be.reshape(x, (-1,))
        target, vals = self.target, be.reshape(src, (-1,))
        if self.include_self:
            hit = np.unique(target)
            target = np.concatenate([hit, target])
            vals = be.concatenate([be.getitem(flat, hit), vals], 0)
        order = np.argsort(target, kind="stable")
        target, vals = target[order], be.getitem(vals, order)
        step = 1
        while step < target.size:
            same = target[step:] == target[:-step]
            later = vals[step:]
            vals = be.concatenate([vals[:step], be.where(same, combine(later, vals[:-step]),
                                                         later)], 0)
            step *= 2
        last = np.append(target[1:] != target[:-1], True)[:target.size]
        out = be.scatter(flat, target[last], be.getitem(vals, last), 0)
        return be.reshape(out, x.shape)

    def backward(self, g):
        be, need = self.be, self.needs_input_grad
        x, src, out, index, axis = self.x, self.src, self.out, self.index, self.axis

        def gather(a):
            return be.take_along_axis(a, index, axis)
        if self.reduce not in ("prod", "amax", "amin"):
            raise RuntimeError(f"scatter_reduce: expected 'reduce' to be one of 'sum', 'prod', "
                               f"'mean', 'amax', 'amin' but got {self.reduce} (torch computes "
                               f"no gradient for this spelling)")
        dx = dsrc = None
        if self.reduce == "prod":
            if need[0]:  # the product with x's entry replaced by 1: exact where x is 0
                masked = be.where(be.compare(x, _s(x, 0), "eq"), _s(x, 1), x)
                dx = be.div(be.mul(g, self._reduce(masked, src)), masked)
            if need[1]:
                zero = be.compare(src, _s(src, 0), "eq")
                zeros_there = gather(be.scatter(np.zeros_like(x), index, be.cast(zero, x.dtype),
                                                axis, add=True))
                lone = zero & be.compare(zeros_there, _s(x, 1), "eq")  # the only 0 src sends
                others = self._reduce(x, be.where(lone, _s(src, 1), src))
                dsrc = be.where(lone, gather(be.mul(g, others)),
                                be.div(gather(be.mul(g, out)), be.where(zero, _s(src, 1), src)))
        else:
            x_is = be.cast(be.compare(x, out, "eq"), g.dtype)
            src_is = be.cast(be.compare(src, gather(out), "eq"), g.dtype)
            share = be.div(g, be.scatter(x_is, index, src_is, axis, add=True))
            dx = be.mul(x_is, share) if need[0] else None
            dsrc = be.mul(src_is, gather(share)) if need[1] else None
        if dx is not None and not self.include_self:
            dx = be.scatter(dx, index, 0, axis)  # where src went, x took no part
        return dx, dsrc


# ---- writes into part of a tensor, and the views that see them ---------------------------------
class CopySlices(Function):
    """out = x with src written at positions (flat indices into x, in src's shape; where a
    position repeats, the last write stays)    dx = g with zeros at the positions    dsrc = g at
    the positions (every write of a repeated position gets it, as torch)
    The one primitive of all writes into part of a tensor: ``t[index] = v`` and in-place ops
    on views become this node of the base (torch's CopySlices / IndexPutBackward)."""
    saves_inputs = ()

    def forward(self, x, src, positions):
        be = self.be
        self.positions, self.src_shape = positions.reshape(-1), src.shape
        flat = be.scatter(be.reshape(x, (-1,)), self.positions, be.reshape(src, (-1,)), 0)
        return be.reshape(flat, x.shape)

    def backward(self, g):
        be, need, where = self.be, self.needs_input_grad, self.positions
        flat = be.reshape(g, (-1,))
        dx = be.reshape(be.scatter(flat, where, 0, 0), g.shape) if need[0] else None
        dsrc = (be.reshape(be.take_along_axis(flat, where, 0), self.src_shape) if need[1]
                else None)
        return dx, dsrc

    def name(self) -> str:
        return "CopySlices"


class IndexPut(CopySlices):
    """``t[index] = v`` with an index array on a tensor that is not a view: CopySlices under
    torch's name for it"""

    def name(self) -> str:
        return "IndexPutBackward"


class AsStrided(Function):
    """out = x's entries at positions (flat indices, in out's shape): a view read from its base
    dx = g added at the positions, zeros elsewhere (a position seen twice, as in an expand, sums)
    The node a view gets when its base changes in place (torch's AsStridedBackward)."""
    saves_inputs = ()

    def forward(self, x, positions):
        be = self.be
        self.shape, self.positions = x.shape, positions.reshape(-1)
        flat = be.take_along_axis(be.reshape(x, (-1,)), self.positions, 0)
        return be.reshape(flat, positions.shape)

    def backward(self, g):
        be = self.be
        flat = be.take_along_axis_backward((int(np.prod(self.shape)),), self.positions,
                                           be.reshape(g, (-1,)), 0)
        return (be.reshape(flat, self.shape),)


class ForbiddenView(Function):
    """The node of a view torch forbids to use once its base changed in place (a view made under
    no_grad, or one of several views one function returned): backward raises torch's error"""
    saves_inputs = ()

    def forward(self, x, message):
        self.message = message
        return x

    def backward(self, g):
        raise RuntimeError(self.message)


class Overwrite(Function):
    """out = y written over x (copy_, and zero_, fill_, ... with a constant y)    dx = 0
    dy = g
    The tensor stays a node of the graph, as in torch (CopyBackwards, FillBackward)."""
    saves_inputs = ()

    def forward(self, x, y):
        return y

    def backward(self, g):
        zero = self.be.broadcast_to(_s(g, 0), g.shape) if self.needs_input_grad[0] else None
        return zero, g

    def name(self) -> str:
        return "CopyBackwards"
