"""``Tensor``: an n-d array that records the ops applied to it and backpropagates through them.

The same algorithm as ``engine.Value`` at the scale of arrays. Every op is a ``Function`` from
``ops.py``; ``apply_op`` runs its forward on the raw arrays through the active backend and, when
grad mode is on and an input requires grad, links the result into the graph: ``_prev`` (the input
Tensors, in order) and ``_ctx`` (the Function, which holds what backward needs). ``backward()``
walks ``graph.toposort`` in reverse and adds gradients up in exactly one place.

PyTorch semantics: ``.grad`` is a Tensor, accumulated across ``backward()`` calls, kept for leaf
tensors only (``retain_grad()`` for others); the graph's saved arrays are freed after backward
unless ``retain_graph=True``. Higher-order gradients (grad of grad) are out of scope: backward
computes plain arrays, not a graph.

Storage is a NumPy ndarray (``_array``; ``.data`` is torch's detached Tensor alias of it); only
shape bookkeeping and creation touch NumPy here, the math goes through the calling thread's
backend (``settings.backend``).
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from . import anomaly, dtypes, ops
from .graph import toposort
from .settings import settings as _settings
from .shapes import (check_nonempty, count, dim_index, drop_axes, reduce_axes, reshape_target,
                     shape_args)

_new = object.__new__
_BY_NUMPY = dtypes.BY_NUMPY
_SCALARS = (int, float, bool, np.number, np.bool_)

MaxResult = namedtuple("MaxResult", ["values", "indices"])  # torch.return_types.max


class Tensor:
    """An n-d array with autograd. ``Tensor(data, dtype=None, requires_grad=False)``.

    ``data`` may be a nested list, a Python number, a NumPy array (its dtype is kept unless
    ``dtype`` is given) or a Tensor; it is always copied. Python floats become ``float32``, ints
    ``int64``, bools ``bool``.
    """

    __slots__ = ("_array", "grad", "requires_grad", "_prev", "_ctx", "_retain", "__weakref__")
    __array_priority__ = 1000  # ndarray * Tensor defers to Tensor.__rmul__ (gives a Tensor)

    def __init__(self, data: Any, dtype: Any = None, requires_grad: bool = False) -> None:
        self._array = as_array(data, dtype, copy=True)
        self.grad: Tensor | None = None
        self.requires_grad = False
        self._prev: tuple = ()
        self._ctx = None
        self._retain = False
        if requires_grad:
            self.requires_grad_(True)

    # ---- attributes --------------------------------------------------------------------------
    @property
    def data(self) -> Tensor:
        """torch's ``.data``: a Tensor outside the graph sharing this tensor's storage, so
        ``p.data -= lr * p.grad`` updates ``p``. (Internally the storage is the ndarray
        ``_array``.)"""
        return wrap_array(self._array)

    @data.setter
    def data(self, value: Tensor) -> None:
        """Replace the storage, as torch: any shape; a Tensor only; floating point while
        this tensor requires grad."""
        if not isinstance(value, Tensor):
            raise TypeError(f"Tensor.data has to be a Tensor, but got {type(value).__name__}")
        if self.requires_grad and value._array.dtype.kind != "f":
            raise RuntimeError(f"data set to a tensor that requires gradients must be floating "
                               f"point, got dtype {value.dtype.name}")
        self._array = value._array

    @property
    def shape(self) -> tuple:
        return self._array.shape

    @property
    def dtype(self) -> dtypes.DType:
        return _BY_NUMPY[self._array.dtype]

    @property
    def ndim(self) -> int:
        return self._array.ndim

    @property
    def device(self) -> str:
        """Always "cpu" (for code written against torch)."""
        return "cpu"

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op (their .grad is kept)."""
        return self._ctx is None

    @property
    def grad_fn(self) -> ops.Function | None:
        """The op that produced this tensor (prints as ``<AddBackward>``), None for leaves."""
        return self._ctx

    @property
    def T(self) -> Tensor:
        return self.permute(*range(self.ndim - 1, -1, -1))

    @property
    def mT(self) -> Tensor:
        return self.transpose(-2, -1)

    def size(self, dim: int | None = None) -> tuple | int:
        return self._array.shape if dim is None else self._array.shape[dim_index(dim, self.ndim, "size")]

    def numel(self) -> int:
        return self._array.size

    def dim(self) -> int:
        return self._array.ndim

    def is_floating_point(self) -> bool:
        return self._array.dtype.kind == "f"

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set requires_grad in place (floating dtypes only, as torch); returns self."""
        if requires_grad and self._array.dtype.kind != "f":
            raise TypeError(f"only floating point tensors can require gradients, got dtype "
                            f"{self.dtype.name}")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep .grad on this non-leaf tensor during backward."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require grad")
        self._retain = True

    # ---- autograd ----------------------------------------------------------------------------
    def backward(self, gradient: Any = None, retain_graph: bool = False, *,
                 hook: Callable | None = None) -> None:
        """Accumulate d(self)/d(leaf) * gradient into every leaf's ``.grad``.

        ``gradient`` is required unless self holds one element. The graph's saved arrays are
        freed afterwards unless ``retain_graph``; backward through a freed graph is an error.
        ``hook(node, g, in_grads, pending)``, if given, is called after each op's step: ``g`` the
        upstream gradient of ``node``, ``in_grads`` what its op's backward returned (one per
        input, checked), ``pending`` the gradients summed so far per tensor, this step's
        included. ``micrograd.explain`` prints the steps of this very loop that way.
        """
        if not self.requires_grad:
            raise RuntimeError("backward: this tensor does not require grad and has no grad_fn "
                               "(did you forget requires_grad=True, or run under no_grad?)")
        if gradient is None:
            if self._array.size != 1:
                raise RuntimeError(f"backward: grad can be implicitly created only for scalar "
                                   f"outputs; this tensor has shape {self.shape}. Pass "
                                   f"gradient= (a tensor of that shape)")
            g = np.ones(self._array.shape, self._array.dtype)
            owned: set = set()
        else:
            g = gradient._array if isinstance(gradient, Tensor) else np.asarray(gradient)
            if g.shape != self._array.shape:
                raise ValueError(f"backward: gradient has shape {g.shape} but the tensor has "
                                 f"shape {self.shape}")
            g = g.astype(self._array.dtype, copy=False)
            owned = {id(g)}  # the caller's array: copied before it is stored in a .grad
        grads = {self: g}
        add, check_anomaly = _settings.backend.add, _settings.anomaly  # fixed for this backward
        for node in reversed(toposort(self)):
            g = grads.pop(node, None)
            if g is None:
                continue
            ctx = node._ctx
            if ctx is None or node._retain:
                node._accumulate(g, owned, add)
                if ctx is None:
                    continue
            if ctx.freed:
                raise RuntimeError(
                    f"backward: trying to backward through the graph a second time ({ctx.name()}"
                    f"'s saved arrays were freed by the first backward). Pass retain_graph=True "
                    f"to the first backward() if you need to call it twice")
            in_grads, prev = ctx.backward(g), node._prev
            if len(in_grads) != len(prev):
                raise RuntimeError(f"{ctx.name()} returned {len(in_grads)} gradients for "
                                   f"{len(prev)} inputs")
            if check_anomaly:
                anomaly.check_backward(ctx, g, in_grads, prev)
            for parent, pg in zip(prev, in_grads):
                if pg is None or not parent.requires_grad:
                    continue
                if pg.shape != parent._array.shape:
                    raise RuntimeError(f"{ctx.name()} returned a gradient of shape {pg.shape} "
                                       f"for an input of shape {parent._array.shape}")
                acc = grads.get(parent)
                grads[parent] = pg if acc is None else add(acc, pg)
            if hook is not None:
                hook(node, g, in_grads, grads)
            if not retain_graph:
                ctx.__dict__.clear()
                ctx.freed = True

    def _accumulate(self, g: np.ndarray, owned: set, add: Callable) -> None:
        """The one place gradients are added into ``.grad`` (with ``add``, the backward's
        backend kernel). ``g`` may be a view or shared by several inputs (Add passes the same
        array to both): copy it before keeping it."""
        if g.dtype != self._array.dtype:
            g = g.astype(self._array.dtype)
        elif g.base is not None or id(g) in owned or not g.flags.writeable:
            g = g.copy()
        owned.add(id(g))
        if self.grad is None:
            self.grad = wrap_array(g)
        else:
            self.grad._array = add(self.grad._array, g)

    def detach(self) -> Tensor:
        """The same data (shared, not copied) outside the graph."""
        return wrap_array(self._array)

    def detach_(self) -> Tensor:
        self._prev, self._ctx, self.requires_grad = (), None, False
        return self

    # ---- conversion --------------------------------------------------------------------------
    def item(self) -> int | float | bool:
        if self._array.size != 1:
            raise ValueError(f"item: a Tensor with {self._array.size} elements cannot be "
                             "converted to a Python scalar")
        return self._array.item()

    def numpy(self) -> np.ndarray:
        """The underlying array (shared memory, as torch)."""
        if self.requires_grad:
            raise RuntimeError("numpy: can't call numpy() on a Tensor that requires grad; "
                               "use tensor.detach().numpy()")
        return self._array

    def tolist(self) -> Any:
        return self._array.tolist()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if dtype is not None and np.dtype(dtype) != self._array.dtype:
            return self._array.astype(dtype)
        return self._array.copy() if copy else self._array

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``to(dtype)``; a device ("cpu") is accepted and ignored."""
        dtype = kwargs.get("dtype")
        for a in args:
            if isinstance(a, str) and a.split(":")[0] == "cpu":
                continue
            dtype = a.dtype if isinstance(a, Tensor) else a
        if dtype is None:
            return self
        npd = dtypes.as_dtype(dtype).np
        if npd == self._array.dtype:
            return self
        if self.requires_grad and npd.kind != "f":
            return wrap_array(_settings.backend.cast(self._array, npd))
        return apply_op(ops.Cast, self, dtype=npd)

    type = to

    def float(self) -> Tensor:
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        return self.to(dtypes.float64)

    def half(self) -> Tensor:
        return self.to(dtypes.float16)

    def long(self) -> Tensor:
        return self.to(dtypes.int64)

    def int(self) -> Tensor:
        return self.to(dtypes.int32)

    def bool(self) -> Tensor:
        return self.to(dtypes.bool)

    def cpu(self) -> Tensor:
        return self

    def contiguous(self) -> Tensor:
        return self

    def clone(self) -> Tensor:
        """A copy that stays in the graph (gradient passes through)."""
        if _settings.grad_enabled and self.requires_grad:
            return apply_op(ops.Cast, self, dtype=self._array.dtype)
        return wrap_array(self._array.copy())

    # ---- Python protocol ---------------------------------------------------------------------
    __hash__ = object.__hash__  # identity: Tensors live in sets/dicts (graph walk, optimizers)

    def __len__(self) -> int:
        if self._array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._array.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self._array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._array.shape[0]))

    def __bool__(self) -> bool:
        if self._array.size != 1:
            raise RuntimeError(f"Boolean value of a Tensor with {self._array.size} values is "
                               "ambiguous; use .any() or .all()")
        return bool(self._array.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._array.dtype.kind not in "iub" or self._array.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self._array.item())

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"`` formats the value of a one-element tensor (torch does too)."""
        if spec and self._array.size == 1:
            return format(self._array.item(), spec)
        return format(repr(self), spec)

    def __repr__(self) -> str:
        body = _format(self._array)
        extra = [] if self._array.size or self._array.ndim == 1 else [f"size={self.shape}"]
        npd = self._array.dtype
        if npd != dtypes.get_default_dtype().np and npd.name not in ("int64", "bool"):
            extra.append(f"dtype={self.dtype!r}")
        if self._ctx is not None:
            extra.append(f"grad_fn={self._ctx!r}")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extra) + ")"

    # ---- arithmetic (Python numbers on either side; broadcasting) ---------------------------
    def __add__(self, other: Any) -> Tensor:
        return _binary(ops.Add, self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _binary(ops.Add, lift_constant(other, self), self)

    def __sub__(self, other: Any) -> Tensor:
        return _binary(ops.Sub, self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _binary(ops.Sub, lift_constant(other, self), self)

    def __mul__(self, other: Any) -> Tensor:
        return _binary(ops.Mul, self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _binary(ops.Mul, lift_constant(other, self), self)

    def __truediv__(self, other: Any) -> Tensor:
        a, b = _float_pair(self, other)
        return _binary(ops.Div, a, b)

    def __rtruediv__(self, other: Any) -> Tensor:
        a, b = _float_pair(lift_constant(other, self), self)
        return _binary(ops.Div, a, b)

    def __pow__(self, exponent: Any) -> Tensor:
        if isinstance(exponent, (int, float)) and not isinstance(exponent, bool):
            x = self
            if isinstance(exponent, float) and x._array.dtype.kind != "f":
                x = x.to(dtypes.get_default_dtype())
            elif exponent < 0 and x._array.dtype.kind != "f":
                raise ValueError("pow: integer tensors cannot be raised to negative integer "
                                 "powers")
            if exponent == 1:
                return x if x is not self else apply_op(ops.Cast, x, dtype=x._array.dtype)
            return apply_op(ops.PowScalar, x, p=exponent)
        return _binary(ops.Pow, self, exponent)

    def __rpow__(self, base: Any) -> Tensor:
        return _binary(ops.Pow, lift_constant(base, self), self)

    def __neg__(self) -> Tensor:
        if self._array.dtype.kind == "b":
            raise TypeError("negation of a bool tensor: use ~ (logical not) instead")
        return _unary(ops.Neg, self)

    def __abs__(self) -> Tensor:
        return self.abs()

    def __matmul__(self, other: Any) -> Tensor:
        return matmul(self, other if isinstance(other, Tensor) else lift_constant(other, self))

    def __rmatmul__(self, other: Any) -> Tensor:
        return matmul(lift_constant(other, self), self)

    def __invert__(self) -> Tensor:
        if self._array.dtype.kind not in "iub":
            raise TypeError(f"~: needs a bool or integer tensor, got {self.dtype.name}")
        return wrap_array(np.invert(self._array))

    def __and__(self, other: Any) -> Tensor:
        return wrap_array(np.logical_and(self._array, lift_constant(other, self)._array))

    def __or__(self, other: Any) -> Tensor:
        return wrap_array(np.logical_or(self._array, lift_constant(other, self)._array))

    # comparisons: non-differentiable bool masks
    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        if other is None:
            return False  # type: ignore[return-value] - as torch: `t == None` is False
        return _compare(self, other, "eq")

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        if other is None:
            return True  # type: ignore[return-value]
        return _compare(self, other, "ne")

    def __contains__(self, value: Any) -> bool:
        return bool((self == value).any())

    def __lt__(self, other: Any) -> Tensor:
        return _compare(self, other, "lt")

    def __le__(self, other: Any) -> Tensor:
        return _compare(self, other, "le")

    def __gt__(self, other: Any) -> Tensor:
        return _compare(self, other, "gt")

    def __ge__(self, other: Any) -> Tensor:
        return _compare(self, other, "ge")

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__
    add, sub, mul, div, pow, matmul = (__add__, __sub__, __mul__, __truediv__, __pow__,
                                       __matmul__)
    neg = __neg__

    # ---- elementwise functions ---------------------------------------------------------------
    def exp(self) -> Tensor:
        return _unary(ops.Exp, to_floating(self, "exp"))

    def log(self) -> Tensor:
        return _unary(ops.Log, to_floating(self, "log"))

    def log1p(self) -> Tensor:
        return _unary(ops.Log1p, to_floating(self, "log1p"))

    def sqrt(self) -> Tensor:
        return _unary(ops.Sqrt, to_floating(self, "sqrt"))

    def rsqrt(self) -> Tensor:
        return 1.0 / self.sqrt()

    def abs(self) -> Tensor:
        return _unary(ops.Abs, self)

    def square(self) -> Tensor:
        return self ** 2

    def reciprocal(self) -> Tensor:
        return 1.0 / self

    def sign(self) -> Tensor:
        return wrap_array(_settings.backend.sign(self._array))

    def relu(self) -> Tensor:
        return _unary(ops.ReLU, self)

    def sigmoid(self) -> Tensor:
        return _unary(ops.Sigmoid, to_floating(self, "sigmoid"))

    def tanh(self) -> Tensor:
        return _unary(ops.Tanh, to_floating(self, "tanh"))

    def softmax(self, dim: int) -> Tensor:
        return apply_op(ops.Softmax, to_floating(self, "softmax"), axis=dim_index(dim, self.ndim,
                                                                          "softmax"))

    def log_softmax(self, dim: int) -> Tensor:
        return apply_op(ops.LogSoftmax, to_floating(self, "log_softmax"),
                      axis=dim_index(dim, self.ndim, "log_softmax"))

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - torch names
        """Clamp into [min, max] (either may be None; Tensors allowed)."""
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        _check_bounds(min, max, "clamp")
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            out = self if min is None else maximum(self, min)
            return out if max is None else minimum(out, max)
        x = self
        if x._array.dtype.kind != "f" and any(isinstance(v, float) for v in (min, max)):
            x = x.to(dtypes.get_default_dtype())
        return apply_op(ops.Clip, x, lo=min, hi=max)

    clip = clamp

    def maximum(self, other: Any) -> Tensor:
        return maximum(self, other)

    def minimum(self, other: Any) -> Tensor:
        return minimum(self, other)

    def where(self, condition: Any, other: Any) -> Tensor:
        return where(condition, self, other)

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """``value`` where ``mask`` (bool, broadcast) is True, else self."""
        return where(mask, lift_constant(value, self), self)

    # ---- reductions --------------------------------------------------------------------------
    def sum(self, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
        x = self if dtype is None else self.to(dtype)
        if x._array.dtype.kind == "b":
            x = x.to(dtypes.int64)
        return apply_op(ops.Sum, x, axes=reduce_axes(dim, x.ndim, "sum"), keepdims=keepdim)

    def mean(self, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
        x = self if dtype is None else self.to(dtype)
        if x._array.dtype.kind != "f":
            raise TypeError(f"mean: needs a floating point tensor, got {x.dtype.name}; "
                            "use .float().mean() or pass dtype=")
        axes = reduce_axes(dim, x.ndim, "mean")
        n = count(x.shape, axes)
        return x.sum(dim, keepdim) * (1.0 / n if n else float("nan"))

    def amax(self, dim: Any = (), keepdim: bool = False) -> Tensor:
        """Max over dims (all when dim is () or None); the gradient is shared by ties."""
        axes = reduce_axes(None if dim == () else dim, self.ndim, "amax")
        check_nonempty(self.shape, axes, "amax")
        return apply_op(ops.Max, self, axes=axes, keepdims=keepdim)

    def amin(self, dim: Any = (), keepdim: bool = False) -> Tensor:
        axes = reduce_axes(None if dim == () else dim, self.ndim, "amin")
        check_nonempty(self.shape, axes, "amin")
        return apply_op(ops.Min, self, axes=axes, keepdims=keepdim)

    def max(self, dim: Any = None, keepdim: bool = False) -> Tensor | MaxResult:
        """``x.max()`` the largest element; ``x.max(dim)`` (values, indices) along dim;
        ``x.max(other_tensor)`` the elementwise maximum (as torch)."""
        if isinstance(dim, Tensor):
            return maximum(self, dim)
        if dim is None:
            return self.amax()
        return self._select(dim, keepdim, "argmax")

    def min(self, dim: Any = None, keepdim: bool = False) -> Tensor | MaxResult:
        if isinstance(dim, Tensor):
            return minimum(self, dim)
        if dim is None:
            return self.amin()
        return self._select(dim, keepdim, "argmin")

    def _select(self, dim: int, keepdim: bool, arg: str) -> MaxResult:
        """(values, indices) of the max/min along dim; the gradient goes to the index."""
        d = dim_index(dim, self.ndim, arg[3:])
        if self.ndim == 0:
            return MaxResult(self.clone(), wrap_array(np.zeros((), np.int64)))
        check_nonempty(self.shape, (d,), arg[3:])
        idx = getattr(_settings.backend, arg)(self._array, d, True)
        values = apply_op(ops.Gather, self, index=idx, axis=d)
        if not keepdim:
            values, idx = values.squeeze(d), idx.reshape(values.shape[:d] + values.shape[d + 1:])
        return MaxResult(values, wrap_array(idx))

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return self._arg("argmax", dim, keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return self._arg("argmin", dim, keepdim)

    def _arg(self, name: str, dim: int | None, keepdim: bool) -> Tensor:
        if self._array.size == 0:
            raise IndexError(f"{name}: cannot take the {name} of an empty tensor")
        if dim is None:
            return wrap_array(np.asarray(getattr(_settings.backend, name)(self._array, None, False),
                                    np.int64))
        d = dim_index(dim, self.ndim, name)
        if self.ndim == 0:
            return wrap_array(np.zeros((), np.int64))
        return wrap_array(np.asarray(getattr(_settings.backend, name)(self._array, d, keepdim), np.int64))

    def var(self, dim: Any = None, unbiased: bool = True, keepdim: bool = False, *,
            correction: int | None = None) -> Tensor:
        """Variance, unbiased (divide by n - 1) by default as torch; ``correction`` wins."""
        x = to_floating(self, "var")
        c = (1 if unbiased else 0) if correction is None else correction
        axes = reduce_axes(dim, x.ndim, "var")
        n = count(x.shape, axes)
        d = x - x.mean(dim, keepdim=True)
        return (d * d).sum(dim, keepdim) * (1.0 / (n - c) if n - c > 0 else float("inf"))

    def std(self, dim: Any = None, unbiased: bool = True, keepdim: bool = False, *,
            correction: int | None = None) -> Tensor:
        """sqrt(var). Where the variance is exactly 0 (constant data) the gradient is 0, as
        torch, not sqrt's 1/0 times var's 0 = nan: the sqrt runs on 1 there and is masked."""
        v = self.var(dim, unbiased, keepdim, correction=correction)
        zero = v == 0
        return where(zero, 0.0, where(zero, 1.0, v).sqrt())

    def logsumexp(self, dim: Any, keepdim: bool = False) -> Tensor:
        """log(sum(exp(x))) over dim, computed as m + log(sum(exp(x - m))) with m the max."""
        x = to_floating(self, "logsumexp")
        be = _settings.backend
        axes = reduce_axes(dim, x.ndim, "logsumexp")
        if x._array.size == 0:
            return x.exp().sum(dim, keepdim).log()
        m = be.max(x._array, axes, True)
        m = be.where(be.compare(be.abs(m), np.inf, "eq"), m.dtype.type(0), m)  # inf rows
        out = (x - wrap_array(m)).exp().sum(dim, keepdim=True).log() + wrap_array(m)
        return out if keepdim else out.reshape(drop_axes(out.shape, axes))

    def all(self, dim: int | None = None) -> Tensor:
        return wrap_array(np.all(self._array, axis=None if dim is None else dim_index(dim, self.ndim, "all")))

    def any(self, dim: int | None = None) -> Tensor:
        return wrap_array(np.any(self._array, axis=None if dim is None else dim_index(dim, self.ndim, "any")))

    # ---- shape -------------------------------------------------------------------------------
    def reshape(self, *shape: Any) -> Tensor:
        new = reshape_target(self.shape, shape_args(shape, "reshape"), "reshape")
        return apply_op(ops.Reshape, self, shape=new)

    view = reshape

    def reshape_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    view_as = reshape_as

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        if self.ndim == 0:
            return self.reshape(1)
        s, e = dim_index(start_dim, self.ndim, "flatten"), dim_index(end_dim, self.ndim, "flatten")
        if s > e:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        shp = self.shape
        return self.reshape(shp[:s] + (count(shp, tuple(range(s, e + 1))),) + shp[e + 1:])

    def squeeze(self, dim: Any = None) -> Tensor:
        if dim is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        axes = reduce_axes(dim, self.ndim, "squeeze")
        return self.reshape(tuple(n for i, n in enumerate(self.shape)
                                  if not (i in axes and n == 1)))

    def unsqueeze(self, dim: int) -> Tensor:
        d = dim_index(dim, self.ndim + 1, "unsqueeze")
        return self.reshape(self.shape[:d] + (1,) + self.shape[d:])

    def permute(self, *dims: Any) -> Tensor:
        dims = shape_args(dims, "permute")
        axes = tuple(dim_index(d, self.ndim, "permute") for d in dims)
        if sorted(axes) != list(range(self.ndim)):
            raise ValueError(f"permute: dims {dims} are not a permutation of the {self.ndim} "
                             f"dims of a tensor of shape {self.shape}")
        return apply_op(ops.Permute, self, axes=axes)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        axes = list(range(self.ndim))
        a, b = dim_index(dim0, self.ndim, "transpose"), dim_index(dim1, self.ndim, "transpose")
        axes[a], axes[b] = axes[b], axes[a]
        return apply_op(ops.Permute, self, axes=tuple(axes))

    def t(self) -> Tensor:
        if self.ndim > 2:
            raise ValueError(f"t: expects a tensor with <= 2 dims, got shape {self.shape}")
        return self.T

    def expand(self, *sizes: Any) -> Tensor:
        """Broadcast to ``sizes`` (-1 keeps a dim); a view whose backward sums."""
        sizes = shape_args(sizes, "expand")
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: cannot expand shape {self.shape} to {sizes} "
                             "(fewer dims)")
        target = tuple(self.shape[i - lead] if n == -1 and i >= lead else n
                       for i, n in enumerate(sizes))
        for i, n in enumerate(self.shape):
            if n != 1 and n != target[lead + i]:
                raise ValueError(f"expand: cannot expand shape {self.shape} to {sizes}: dim "
                                 f"{i} has size {n}, not 1")
        if target == self.shape:
            return self
        return apply_op(ops.Expand, self, shape=target)

    broadcast_to = expand

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(other.shape)

    def split(self, split_size: int | Sequence[int], dim: int = 0) -> tuple:
        """Pieces of ``split_size`` along dim (the last may be smaller), or of the given sizes."""
        d = dim_index(dim, self.ndim, "split")
        n = self.shape[d]
        if isinstance(split_size, (int, np.integer)):
            if split_size <= 0:
                raise ValueError(f"split: split_size must be positive, got {split_size}")
            sizes = [min(split_size, n - i) for i in range(0, n, split_size)] or [0]
        else:
            sizes = [int(s) for s in split_size]
            if sum(sizes) != n or any(s < 0 for s in sizes):
                raise ValueError(f"split: sizes {sizes} do not add up to dim {d} of size {n}")
        lead, out, lo = (slice(None),) * d, [], 0
        for s in sizes:
            out.append(self[lead + (slice(lo, lo + s),)])
            lo += s
        return tuple(out)

    def chunk(self, chunks: int, dim: int = 0) -> tuple:
        if chunks <= 0:
            raise ValueError(f"chunk: chunks must be positive, got {chunks}")
        n = self.shape[dim_index(dim, self.ndim, "chunk")]
        return self.split(max(1, -(-n // chunks)), dim)

    def unbind(self, dim: int = 0) -> tuple:
        d = dim_index(dim, self.ndim, "unbind")
        return tuple(self[(slice(None),) * d + (i,)] for i in range(self.shape[d]))

    # ---- indexing ----------------------------------------------------------------------------
    def __getitem__(self, index: Any) -> Tensor:
        index = _index(index)
        try:
            if self.requires_grad and _settings.grad_enabled:
                return apply_op(ops.GetItem, self, index=index)
            return wrap_array(_settings.backend.getitem(self._array, index))
        except IndexError as exc:
            raise IndexError(f"index {_show_index(index)} on a tensor of shape {self.shape}: "
                             f"{exc}") from None

    def index_select(self, dim: int, index: Any) -> Tensor:
        """Rows (dim=0), columns (dim=1), ... picked by a 1-D integer index."""
        d = dim_index(dim, self.ndim, "index_select")
        idx = _index(index)
        if not isinstance(idx, np.ndarray) or idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise TypeError("index_select: index must be a 1-D integer tensor")
        return self[(slice(None),) * d + (idx,)]

    def gather(self, dim: int, index: Any) -> Tensor:
        """torch.gather: out[i][j] = self[i][index[i][j]] for dim=1."""
        d = dim_index(dim, self.ndim, "gather")
        idx = _index(index)
        if not isinstance(idx, np.ndarray) or idx.dtype.kind not in "iu":
            raise TypeError("gather: index must be an integer tensor")
        if idx.ndim != self.ndim:
            raise ValueError(f"gather: index has {idx.ndim} dims but the input has {self.ndim}")
        n = self.shape[d]
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"gather: index out of range for dim {d} of size {n}")
        return apply_op(ops.Gather, self, index=idx, axis=d)

    def __setitem__(self, index: Any, value: Any) -> None:
        _check_inplace(self, "__setitem__")
        self._array[_index(index)] = value._array if isinstance(value, Tensor) else value

    # ---- in-place updates (for optimizers and initializers; not recorded) --------------------
    def zero_(self) -> Tensor:
        _check_inplace(self, "zero_")
        self._array[...] = 0
        return self

    def fill_(self, value: Any) -> Tensor:
        _check_inplace(self, "fill_")
        self._array[...] = value.item() if isinstance(value, Tensor) else value
        return self

    def copy_(self, src: Any) -> Tensor:
        _check_inplace(self, "copy_")
        self._array[...] = src._array if isinstance(src, Tensor) else src
        return self

    def add_(self, other: Any, alpha: float = 1) -> Tensor:
        _check_inplace(self, "add_")
        o = other._array if isinstance(other, Tensor) else other
        self._array[...] = _settings.backend.add(
            self._array, o if alpha == 1 else _settings.backend.mul(o, self._array.dtype.type(alpha)))
        return self

    def sub_(self, other: Any, alpha: float = 1) -> Tensor:
        return self.add_(other, -alpha)

    def mul_(self, other: Any) -> Tensor:
        _check_inplace(self, "mul_")
        o = other._array if isinstance(other, Tensor) else self._array.dtype.type(other)
        self._array[...] = _settings.backend.mul(self._array, o)
        return self

    def div_(self, other: Any) -> Tensor:
        _check_inplace(self, "div_")
        o = other._array if isinstance(other, Tensor) else self._array.dtype.type(other)
        self._array[...] = _settings.backend.div(self._array, o)
        return self

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        _check_inplace(self, "clamp_")
        _check_bounds(min, max, "clamp_")
        self._array[...] = _settings.backend.clip(self._array, min, max)
        return self

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
        from .random import generator
        _check_inplace(self, "uniform_")
        self._array[...] = generator().uniform(a, b, self.shape)
        return self

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        from .random import generator
        _check_inplace(self, "normal_")
        self._array[...] = generator().normal(mean, std, self.shape)
        return self


# ---- building blocks ---------------------------------------------------------------------------
def wrap_array(data: np.ndarray, prev: tuple = (), ctx: ops.Function | None = None) -> Tensor:
    """A Tensor around ``data`` (not copied, not checked): outside any graph, or, when ``ctx``
    (the op that made it) is given, a graph node computed from ``prev``. The one place a Tensor
    is assembled from its fields (plain assignments: faster than unpacking a tuple)."""
    t = _new(Tensor)
    t._array = data
    t.grad = None
    t.requires_grad = ctx is not None
    t._prev = prev
    t._ctx = ctx
    t._retain = False
    return t


def _unary(cls: type, x: Tensor) -> Tensor:
    """``apply_op`` for a one-input op without parameters: the hot path, kept short."""
    fn = cls()
    fn.be = _settings.backend
    out = fn.forward(x._array)
    if _settings.anomaly:
        anomaly.check_forward(fn, (x,), out)
    if x.requires_grad and _settings.grad_enabled:
        fn.needs_input_grad = (True,)
        return wrap_array(out, (x,), fn)
    return wrap_array(out)


def _binary_same(cls: type, a: Tensor, b: Tensor) -> Tensor:
    """``apply_op`` for a two-input op without parameters whose operands are already checked
    (for elementwise ops: promoted and broadcast)."""
    fn = cls()
    fn.be = _settings.backend
    out = fn.forward(a._array, b._array)
    if _settings.anomaly:
        anomaly.check_forward(fn, (a, b), out)
    ra, rb = a.requires_grad, b.requires_grad
    if (ra or rb) and _settings.grad_enabled:
        fn.needs_input_grad = (ra, rb)
        return wrap_array(out, (a, b), fn)
    return wrap_array(out)


def apply_op(cls: type, *inputs: Tensor, **params: Any) -> Tensor:
    """Run op ``cls`` on the inputs' arrays; record it in the graph when a gradient is needed."""
    fn = cls()
    fn.be = _settings.backend
    out = fn.forward(*[t._array for t in inputs], **params)
    if _settings.anomaly:
        anomaly.check_forward(fn, inputs, out)
    if _settings.grad_enabled:
        need = tuple([t.requires_grad for t in inputs])
        if True in need:
            fn.needs_input_grad = need
            return wrap_array(out, inputs, fn)
    return wrap_array(out)


def as_array(data: Any, dtype: Any, copy: bool) -> np.ndarray:
    """A NumPy array for ``data`` with torch's dtype rules (see ``Tensor``)."""
    npd = None if dtype is None else dtypes.as_dtype(dtype).np
    if isinstance(data, Tensor):
        data = data._array
    if isinstance(data, (np.ndarray, np.generic)):
        if copy:
            arr = np.array(data, dtype=npd, copy=True)
        else:  # share memory unless a cast is needed (np.array(copy=False) raises on a cast)
            arr = np.asarray(data, dtype=npd)
            if not arr.flags.aligned:  # kernels load whole elements: never hand them misaligned
                arr = arr.copy()
    else:
        try:
            arr = np.array(data, dtype=npd)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"cannot make a tensor from {type(data).__name__}: {exc}") from None
        if npd is None:
            if arr.dtype.kind == "f":
                arr = arr.astype(dtypes.get_default_dtype().np, copy=False)
            elif arr.dtype.kind in "iu":
                arr = arr.astype(np.int64, copy=False)
    if arr.dtype not in _BY_NUMPY:
        raise TypeError(f"cannot make a tensor of dtype {arr.dtype}; supported: "
                        f"{', '.join(d.name for d in _BY_NUMPY.values())}")
    return arr


def lift_constant(value: Any, like: Tensor) -> Tensor:
    """``value`` as a constant Tensor. A Python number takes ``like``'s dtype when that loses
    nothing (float into a float tensor, int into an int tensor), as torch does; otherwise it
    keeps its own kind (so int tensor + 0.5 promotes to float)."""
    if isinstance(value, Tensor):
        return value
    kind = like._array.dtype.kind
    if isinstance(value, (bool, np.bool_)):
        return wrap_array(np.array(value, like._array.dtype))
    if isinstance(value, (int, np.integer)):
        return wrap_array(np.array(value, like._array.dtype if kind in "iuf" else np.int64))
    if isinstance(value, (float, np.floating)):
        return wrap_array(np.array(value, like._array.dtype if kind == "f"
                              else dtypes.get_default_dtype().np))
    return wrap_array(as_array(value, None, copy=False))


def _binary(cls: type, a: Tensor, b: Any) -> Tensor:
    """Apply a binary op: promote dtypes, broadcast (an explicit Expand for any operand that
    needs a gradient), then run it. Equal shapes and dtypes take the fast path."""
    if not isinstance(b, Tensor):
        b = lift_constant(b, a)
    ad, bd = a._array, b._array
    if ad.dtype is not bd.dtype and ad.dtype != bd.dtype:
        target = dtypes.promote(ad.dtype, bd.dtype)
        a, b = a.to(target), b.to(target)
    if ad.shape != bd.shape:
        if not bd.shape:            # a 0-d operand (often a Python scalar) takes a's shape
            shape = ad.shape
        elif not ad.shape:
            shape = bd.shape
        else:
            try:
                shape = np.broadcast_shapes(ad.shape, bd.shape)
            except ValueError:
                raise ValueError(f"{cls.__name__.lower()}: shapes {ad.shape} and {bd.shape} "
                                 "cannot be broadcast together") from None
        if _settings.grad_enabled:
            if a.requires_grad and ad.shape != shape:
                a = apply_op(ops.Expand, a, shape=shape)
            if b.requires_grad and bd.shape != shape:
                b = apply_op(ops.Expand, b, shape=shape)
    return _binary_same(cls, a, b)


def _float_pair(a: Tensor, b: Any) -> tuple:
    """Operands of true division: integers divide as floats (torch)."""
    if not isinstance(b, Tensor):
        b = lift_constant(b, a)
    if a._array.dtype.kind != "f" and b._array.dtype.kind != "f":
        f = dtypes.get_default_dtype()
        return a.to(f), b.to(f)
    return a, b


def _compare(a: Tensor, b: Any, op: str) -> Tensor:
    b = lift_constant(b, a)
    ad, bd = a._array, b._array
    be = _settings.backend
    if ad.dtype != bd.dtype:
        target = dtypes.promote(ad.dtype, bd.dtype)
        ad = ad if ad.dtype == target else be.cast(ad, target)
        bd = bd if bd.dtype == target else be.cast(bd, target)
    try:
        np.broadcast_shapes(ad.shape, bd.shape)
    except ValueError:
        raise ValueError(f"{op}: shapes {ad.shape} and {bd.shape} cannot be broadcast "
                         "together") from None
    return wrap_array(be.compare(ad, bd, op))


def to_floating(x: Tensor, name: str) -> Tensor:
    """x, converted to the default float dtype when it holds integers (torch promotes)."""
    if x._array.dtype.kind == "f":
        return x
    return x.to(dtypes.get_default_dtype())


def _check_bounds(lo: Any, hi: Any, name: str) -> None:
    """clamp's min/max: None, a real number or a Tensor (a str would reach NumPy's ufunc)."""
    for arg, v in (("min", lo), ("max", hi)):
        if v is not None and (isinstance(v, bool) or not isinstance(
                v, (int, float, np.integer, np.floating, Tensor))):
            raise TypeError(f"{name}: {arg} must be a number or a Tensor, got {v!r}")


def _check_inplace(t: Tensor, name: str) -> None:
    if _settings.grad_enabled and (t.requires_grad or t._ctx is not None):
        raise RuntimeError(f"{name}: in-place change of a tensor that requires grad would make "
                           "its gradients wrong; do it under `with mg.no_grad():` or on "
                           ".detach()")


def matmul(a: Any, b: Any) -> Tensor:
    """a @ b with torch's rules: 1-D operands are promoted to matrices and the added dim
    removed afterwards; batch dims (all but the last two) broadcast."""
    if not isinstance(a, Tensor):
        a = lift_constant(a, b)
    if not isinstance(b, Tensor):
        b = lift_constant(b, a)
    sa, sb = a._array.shape, b._array.shape
    if a._array.dtype != b._array.dtype:
        raise TypeError(f"matmul: dtypes differ: {a.dtype.name} @ {b.dtype.name}; "
                        "convert one with .to(dtype)")
    if len(sa) == 2 and len(sb) == 2:  # the common case
        if sa[1] != sb[0]:
            raise ValueError(f"matmul: {sa} @ {sb}: inner dims {sa[1]} != {sb[0]}")
        return _binary_same(ops.MatMul, a, b)
    if not sa or not sb:
        raise ValueError(f"matmul: both arguments need at least 1 dim, got shapes {sa} and {sb}")
    ka = sa[-1]
    kb = sb[0] if len(sb) == 1 else sb[-2]
    if ka != kb:
        raise ValueError(f"matmul: {sa} @ {sb}: inner dims {ka} != {kb}")
    if len(sa) == 1 and len(sb) == 1:
        return matmul(a.reshape(1, ka), b.reshape(ka, 1)).reshape(())
    if len(sa) == 1:
        return matmul(a.reshape(1, ka), b).squeeze(-2)
    if len(sb) == 1:
        return matmul(a, b.reshape(kb, 1)).squeeze(-1)
    try:
        batch = np.broadcast_shapes(sa[:-2], sb[:-2])
    except ValueError:
        raise ValueError(f"matmul: {sa} @ {sb}: batch dims {sa[:-2]} and {sb[:-2]} cannot be "
                         "broadcast together") from None
    if _settings.grad_enabled:
        if a.requires_grad and sa[:-2] != batch:
            a = a.expand(batch + sa[-2:])
        if b.requires_grad and sb[:-2] != batch:
            b = b.expand(batch + sb[-2:])
    return apply_op(ops.MatMul, a, b)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise max; the gradient goes to the larger, half each on ties (torch)."""
    return _binary(ops.Maximum, *_tensor_first(a, b))


def minimum(a: Any, b: Any) -> Tensor:
    return _binary(ops.Minimum, *_tensor_first(a, b))


def _tensor_first(a: Any, b: Any) -> tuple:
    if not isinstance(a, Tensor):
        if not isinstance(b, Tensor):
            raise TypeError("expected at least one Tensor argument")
        a = lift_constant(a, b)
    return a, b


def where(condition: Any, input: Any, other: Any) -> Tensor:  # noqa: A002 - torch's names
    """``input`` where ``condition`` else ``other``, broadcasting all three."""
    cond = condition._array if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got {cond.dtype}")
    a, b = _tensor_first(input, other)
    b = lift_constant(b, a)
    if a._array.dtype != b._array.dtype:
        target = dtypes.promote(a._array.dtype, b._array.dtype)
        a, b = a.to(target), b.to(target)
    try:
        shape = np.broadcast_shapes(cond.shape, a.shape, b.shape)
    except ValueError:
        raise ValueError(f"where: shapes {cond.shape}, {a.shape} and {b.shape} cannot be "
                         "broadcast together") from None
    if _settings.grad_enabled:
        a = a.expand(shape) if a.requires_grad else a
        b = b.expand(shape) if b.requires_grad else b
    return apply_op(ops.Where, a, b, cond=np.broadcast_to(cond, shape))


# ---- indexing --------------------------------------------------------------------------------
def _index(index: Any) -> Any:
    """A NumPy index: Tensors and lists become integer/bool arrays; floats are rejected."""
    if isinstance(index, tuple):
        return tuple(_index_item(i) for i in index)
    return _index_item(index)


def _index_item(i: Any) -> Any:
    if isinstance(i, Tensor):
        i = i._array
    elif isinstance(i, list):
        i = np.asarray(i)
        if i.size == 0:
            i = i.astype(np.int64)
    if isinstance(i, np.ndarray):
        if i.dtype.kind not in "iub":
            raise IndexError(f"tensors used as indices must be integer or bool, got {i.dtype}")
        return i
    if isinstance(i, (float, np.floating)):
        raise IndexError(f"index {i!r} is a float; indices must be integers")
    return i


def _show_index(index: Any) -> str:
    items = index if isinstance(index, tuple) else (index,)
    parts = [f"array{tuple(i.shape)}" if isinstance(i, np.ndarray) else repr(i) for i in items]
    return "[" + ", ".join(parts) + "]"


def _format(data: np.ndarray) -> str:
    """Values as torch prints them: 4 decimals, '1.' for whole floats, scientific when the
    magnitudes span too much, every entry padded to one width."""
    opts: dict = {"separator": ", ", "prefix": "tensor(", "threshold": 1000, "edgeitems": 3}
    if data.dtype.kind == "f" and data.size:
        finite = np.abs(data[np.isfinite(data)]).astype(np.float64)
        nz = finite[finite > 0]
        if finite.size and np.all(finite == np.round(finite)) and finite.max() < 1e8:
            spec = "{:.0f}."
        elif nz.size and (nz.max() >= 1e8 or nz.min() < 1e-4 or nz.max() / nz.min() > 1e3):
            spec = "{:.4e}"
        else:
            spec = "{:.4f}"

        def fmt(v: float) -> str:
            return spec.format(v) if np.isfinite(v) else str(v)
        shown = data if data.size <= 1000 else data.reshape(-1)[:1000]
        width = max(len(fmt(v)) for v in shown.reshape(-1).tolist())
        opts["formatter"] = {"float_kind": lambda v: fmt(v).rjust(width)}
    return np.array2string(data, **opts)
