"""``Tensor``: an n-d array that records the ops applied to it and backpropagates through them.

The same algorithm as ``engine.Value`` at the scale of arrays. Every op is a ``Function`` from
``ops.py``; ``apply_op`` runs its forward on the raw arrays through the active backend and, when
grad mode is on and an input requires grad, links the result into the graph: ``_prev`` (the input
Tensors, in order) and ``_ctx`` (the Function, which holds what backward needs). ``backward()``
runs the reachable ops in reverse creation order (a topological order) and adds gradients up in
exactly one place.

PyTorch semantics: ``.grad`` is a Tensor, accumulated across ``backward()`` calls, kept for leaf
tensors only (``retain_grad()`` for others); after a backward without ``retain_graph=True`` the
graph is freed: its saved arrays, and each node's links to its inputs, so a loss kept for
logging holds none of the step's activations (a second backward through it raises).
Higher-order gradients (grad of grad) are out of scope: backward computes plain arrays, not a
graph.

Storage is a NumPy ndarray (``_array``; ``.data`` is torch's detached Tensor alias of it); only
shape bookkeeping and creation touch NumPy here, the math goes through the calling thread's
backend (``settings.backend``).
"""
from __future__ import annotations

import copy as _copy
import inspect
import itertools
import operator
import threading
import warnings
import weakref
from collections import namedtuple
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from . import anomaly, dtypes, ops
from .device import DEVICE_KINDS, as_device, device, get_default_device
from .errors import DTypeError, OpError
from .random import generator
from .settings import settings as _settings
from .shapes import (broadcast, check_nonempty, count, dim_index, drop_axes, reduce_axes,
                     reshape_target, shape_args)

_new = object.__new__
_BY_NUMPY = dtypes.BY_NUMPY
_SCALARS = (int, float, bool, np.number, np.bool_)

_CPU = get_default_device()
# held while a gradient is added into a .grad (Tensor._accumulate): one lock for all leaves,
# taken once per leaf per backward, so the single-thread step pays ~0.1 us per parameter
_GRAD_LOCK = threading.Lock()
MaxResult = namedtuple("MaxResult", ["values", "indices"])  # torch.return_types.max
# torch.return_types.sort / topk / kthvalue: one type here, the same two fields
SortResult = namedtuple("SortResult", ["values", "indices"])
MaxResult.__doc__ = "(values, indices) of ``max``/``min`` along a dim, as torch.return_types.max."
SortResult.__doc__ = "(values, indices) of ``sort``, ``topk`` and ``kthvalue``, as torch's."


class Tensor:
    """An n-d array with autograd. ``Tensor(data, dtype=None, requires_grad=False)``.

    ``data`` may be a nested list, a Python number, a NumPy array (its dtype is kept unless
    ``dtype`` is given) or a Tensor; it is always copied. Python floats become ``float32``, ints
    ``int64``, bools ``bool``.
    """

    # a dict, so the one public field has documentation help() shows
    __slots__ = {"_array": None, "_grad": None, "_prev": None, "_ctx": None, "_retain": None,
                 "_vc": None, "_hooks": None, "_base": None, "_view_meta": None,
                 "requires_grad": "Whether ops on this tensor are recorded for backward (set "
                                  "it with ``requires_grad_()``; floating point only).",
                 "__weakref__": None}
    __array_priority__ = 1000  # ndarray * Tensor defers to Tensor.__rmul__ (gives a Tensor)

    def __init__(self, data: Any, dtype: Any = None, requires_grad: bool = False) -> None:
        self._array = as_array(data, dtype, copy=True)
        self._grad: Tensor | None = None
        self.requires_grad = False
        self._prev: tuple = ()
        self._ctx = None
        self._retain = False
        self._vc: Version | None = None
        self._hooks: list | None = None
        self._base: Tensor | None = None  # a view: the tensor whose storage it sees
        self._view_meta: str | None = None  # why torch forbids in-place changes of this view
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
    def grad(self) -> Tensor | None:
        """The accumulated gradient (leaves, and non-leaves after ``retain_grad()``)."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        """Checked here, as torch, not at the next backward: None or a Tensor of this
        tensor's shape and dtype."""
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of "
                                f"type {type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(f"attempting to assign a gradient of size {list(value.shape)} "
                                   f"to a tensor of size {list(self.shape)}. Please ensure that "
                                   "the gradient and the tensor are the same size")
            if value._array.dtype != self._array.dtype:
                raise RuntimeError(f"attempting to assign a gradient with dtype "
                                   f"{value.dtype.name} to a tensor with dtype {self.dtype.name}")
        self._grad = value

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's storage has seen (torch's ``_version``)."""
        vc = self._vc
        return 0 if vc is None else vc.n

    @property
    def shape(self) -> tuple:
        """The size of each dim, a tuple of ints (torch's ``torch.Size`` is a tuple too)."""
        return self._array.shape

    @property
    def dtype(self) -> dtypes.DType:
        """The element type, a ``micrograd.dtype`` (``micrograd.float32``, ``int64``, ...)."""
        return _BY_NUMPY[self._array.dtype]

    @property
    def ndim(self) -> int:
        """The number of dims (0 for a scalar tensor); ``dim()`` as a property."""
        return self._array.ndim

    @property
    def device(self) -> device:
        """``device('cpu')``: this build computes on the CPU only."""
        return _CPU

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
        """All dims reversed (``permute(n-1, ..., 0)``); the transpose of a matrix."""
        return self.permute(*range(self.ndim - 1, -1, -1))

    @property
    def mT(self) -> Tensor:
        """The last two dims swapped (a batch of matrices transposed); needs 2 or more dims."""
        return self.transpose(-2, -1)

    def size(self, dim: int | None = None) -> tuple | int:
        """The shape (a tuple), or with ``dim`` the size of that dim (negative counts from the
        end)."""
        return self._array.shape if dim is None else self._array.shape[dim_index(dim, self.ndim, "size")]

    def numel(self) -> int:
        """The number of elements (the product of the shape; 1 for a scalar)."""
        return self._array.size

    def dim(self) -> int:
        """The number of dims (0 for a scalar tensor)."""
        return self._array.ndim

    def is_floating_point(self) -> bool:
        """True when the dtype is float16, float32 or float64."""
        return self._array.dtype.kind == "f"

    def is_complex(self) -> bool:
        """False: micrograd has no complex dtypes."""
        return False

    def is_signed(self) -> bool:
        """True for dtypes that hold negative numbers (floating point and signed integers; not bool
        or uint8)."""
        return self._array.dtype.kind in "fi"

    def isreal(self) -> Tensor:
        """True everywhere: every micrograd dtype is real."""
        return wrap_array(np.ones(self.shape, np.bool_))

    def is_nonzero(self) -> bool:
        """The truth of a one-element tensor (more or fewer elements are ambiguous)."""
        n = self._array.size
        if n != 1:
            raise RuntimeError(f"Boolean value of Tensor with "
                               f"{'no values' if n == 0 else 'more than one value'} is ambiguous")
        return bool(self._array.reshape(-1)[0])

    def is_same_size(self, other: Tensor) -> bool:
        """True when ``other`` (a Tensor) has self's shape."""
        return self.shape == _operands("is_same_size", other=other)[0].shape

    @property
    def is_cpu(self) -> bool:
        """True: this build computes on the CPU only."""
        return True

    @property
    def is_cuda(self) -> bool:
        """False: this build computes on the CPU only."""
        return False

    @property
    def retains_grad(self) -> bool:
        """Whether this non-leaf keeps its .grad (``retain_grad()`` was called)."""
        return self._retain

    def nelement(self) -> int:
        """The number of elements; ``numel()`` by torch's older name."""
        return self._array.size

    def ndimension(self) -> int:
        """The number of dims; ``dim()`` by torch's older name."""
        return self._array.ndim

    # ---- memory layout (in elements, as torch counts; NumPy's strides are in bytes) ----------
    def element_size(self) -> int:
        """The bytes one element takes (4 for float32)."""
        return self._array.dtype.itemsize

    @property
    def itemsize(self) -> int:
        """The bytes one element takes (4 for float32); ``element_size()`` as a property."""
        return self._array.dtype.itemsize

    @property
    def nbytes(self) -> int:
        """The bytes of this tensor's elements (of a view: its own elements only)."""
        return self._array.size * self._array.dtype.itemsize

    def stride(self, dim: int | None = None) -> tuple | int:
        """Steps in elements between neighbours along each dim (0 along expanded dims). Where
        the step means nothing (a dim of size 1, an empty tensor) it is torch's convention:
        the next dim's size times its step."""
        a, shape = np.asarray(self._array), self.shape
        strides = [s // a.dtype.itemsize for s in a.strides]
        for d in reversed(range(a.ndim)):
            if not a.size or (shape[d] == 1 and strides[d] == 0):
                strides[d] = strides[d + 1] * max(shape[d + 1], 1) if d + 1 < a.ndim else 1
        return tuple(strides) if dim is None else strides[dim_index(dim, self.ndim, "stride")]

    def storage_offset(self) -> int:
        """Where this tensor's first element sits in the memory it shares, in elements."""
        _own_scalar(self)
        root = self._array
        while isinstance(root.base, np.ndarray):
            root = root.base
        return (_address(self._array) - _address(root)) // self._array.dtype.itemsize

    def is_contiguous(self, memory_format: Any = None) -> bool:
        """Whether the elements lie in memory in C order without gaps (dims of size 1 and
        empty tensors don't count, as torch)."""
        return bool(np.asarray(self._array).flags.c_contiguous)

    def data_ptr(self) -> int:
        """The address of the first element (0 for an empty tensor, as torch)."""
        _own_scalar(self)
        return _address(self._array) if self._array.size else 0

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
        g, owned = _seed(self, gradient, "backward")
        _run_backward(self, {self: g}, owned, retain_graph, hook, None)

    def register_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(grad) -> Tensor or None`` runs when this tensor's gradient is computed; a
        returned Tensor replaces the gradient (before it reaches ``.grad`` or the inputs)."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return RemovableHandle(self._hooks, hook)

    def _run_hooks(self, g: np.ndarray) -> np.ndarray:
        for h in list(self._hooks):
            r = h(wrap_array(g))
            if r is not None:
                if not isinstance(r, Tensor) or r.shape != g.shape:
                    raise RuntimeError(f"hook {getattr(h, '__name__', h)!r} returned "
                                       f"{r!r}; expected None or a Tensor of shape {g.shape}")
                g = r._array.astype(g.dtype, copy=False)
        return g

    def _accumulate(self, g: np.ndarray, owned: set, be: Any) -> None:
        """The one place gradients are added into ``.grad`` (with ``be``, the backward's
        backend: its calls are what micrograd.compile records). ``g`` may be a view or shared by
        several inputs (Add passes the same array to both): copy it before keeping it.
        Thread-safe, as torch documents: backward calls running at once in several threads (C
        kernels release the GIL) all land in a shared leaf's ``.grad`` (``_GRAD_LOCK``)."""
        if (g.dtype != self._array.dtype or g.base is not None or id(g) in owned
                or not g.flags.writeable):
            g = be.cast(g, self._array.dtype)  # a copy, in the leaf's dtype
        owned.add(id(g))
        with _GRAD_LOCK:
            if self._grad is None:
                self._grad = wrap_array(g)
            else:
                self._grad._array = be.add(self._grad._array, g)

    def detach(self) -> Tensor:
        """The same data (shared, not copied, one version counter) outside the graph; not a
        view autograd tracks (as torch: an in-place change of it leaves self's graph alone)."""
        return _share_version(self, wrap_array(self._array), register=False)

    def detach_(self) -> Tensor:
        """Make self a leaf outside the graph (in place)."""
        self._prev, self._ctx, self.requires_grad = (), None, False
        return self

    # ---- conversion --------------------------------------------------------------------------
    def item(self) -> int | float | bool:
        """The value of a one-element tensor as a Python number or bool; any other size is an
        error."""
        if self._array.size != 1:
            raise OpError(f"item: a Tensor with {self._array.size} elements cannot be "
                             "converted to a Python scalar")
        return self._array.item()

    def numpy(self) -> np.ndarray:
        """The underlying array (shared memory, as torch)."""
        if self.requires_grad:
            raise RuntimeError("numpy: can't call numpy() on a Tensor that requires grad; "
                               "use tensor.detach().numpy()")
        return self._array

    def tolist(self) -> Any:
        """The values as (nested) Python lists of numbers; a 0-d tensor gives a number."""
        return self._array.tolist()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if self.requires_grad:  # NumPy would get a writable view of a parameter: torch refuses
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        if dtype is not None and np.dtype(dtype) != self._array.dtype:
            return self._array.astype(dtype)
        return self._array.copy() if copy else self._array

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``; any device but
        the CPU is a RuntimeError (``device.as_device``)."""
        dtype = kwargs.get("dtype")
        as_device(kwargs.get("device"))
        for a in args:
            if isinstance(a, str) and a.partition(":")[0] in DEVICE_KINDS:
                as_device(a)  # "cpu", device("cpu"); "cuda" etc. are the CPU-only error
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

    def type_as(self, other: Tensor) -> Tensor:
        """self converted to ``other``'s dtype."""
        return self.to(_operands("type_as", other=other)[0].dtype)

    # new tensors with self's dtype (unless dtype= says otherwise), outside any graph
    def new_tensor(self, data: Any, dtype: Any = None, device: Any = None,
                   requires_grad: bool = False) -> Tensor:
        """A copy of ``data`` (a tensor's data too, detached) of self's dtype by default."""
        as_device(device)
        return Tensor(data, dtype=self.dtype if dtype is None else dtype,
                      requires_grad=requires_grad)

    def new_full(self, size: Any, fill_value: Any, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        """A new tensor of ``size`` filled with ``fill_value``, of self's dtype unless ``dtype`` is
        given (outside any graph)."""
        return _new_filled(self, size, fill_value, dtype, device, requires_grad, "new_full")

    def new_zeros(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
        """A new tensor of ``size`` filled with zeros, of self's dtype unless ``dtype`` is
        given."""
        return _new_filled(self, size, 0, dtype, device, requires_grad, "new_zeros")

    def new_ones(self, *size: Any, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        """A new tensor of ``size`` filled with ones, of self's dtype unless ``dtype`` is given."""
        return _new_filled(self, size, 1, dtype, device, requires_grad, "new_ones")

    def new_empty(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
        """A new uninitialised tensor of ``size``, of self's dtype unless ``dtype`` is given."""
        return _new_filled(self, size, None, dtype, device, requires_grad, "new_empty")

    def float(self) -> Tensor:
        """self converted to float32 (self itself if it already is); differentiable."""
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        """self converted to float64 (self itself if it already is); differentiable."""
        return self.to(dtypes.float64)

    def half(self) -> Tensor:
        """self converted to float16 (self itself if it already is)."""
        return self.to(dtypes.float16)

    def long(self) -> Tensor:
        """self converted to int64 (no gradient flows through an integer result)."""
        return self.to(dtypes.int64)

    def int(self) -> Tensor:
        """self converted to int32 (no gradient flows through an integer result)."""
        return self.to(dtypes.int32)

    def bool(self) -> Tensor:
        """self converted to bool: True where an element is nonzero."""
        return self.to(dtypes.bool)

    def short(self) -> Tensor:
        """self converted to int16."""
        return self.to(dtypes.int16)

    def char(self) -> Tensor:
        """self converted to int8."""
        return self.to(dtypes.int8)

    def byte(self) -> Tensor:
        """self converted to uint8."""
        return self.to(dtypes.uint8)

    def cpu(self) -> Tensor:
        """self: the data already lives on the CPU (the only device of this build)."""
        return self

    def cuda(self, device: Any = None, non_blocking: bool = False) -> Tensor:
        """Always the CPU-only RuntimeError: this build has no CUDA device."""
        as_device("cuda" if device is None or isinstance(device, int) else device)
        return self

    def contiguous(self) -> Tensor:
        """self when its memory is in C order, else a C-ordered copy (in the graph), as
        torch: so an in-place change of the result never reaches a transposed original."""
        return self if self._array.flags.c_contiguous else _copied(self, "C")

    def clone(self) -> Tensor:
        """A copy that stays in the graph (gradient passes through), laid out in memory as
        self is (torch's preserve_format: a transposed tensor's clone is transposed too)."""
        return _copied(self, "K")

    # ---- pickling and copying ----------------------------------------------------------------
    def __reduce_ex__(self, protocol: Any) -> tuple:
        """Pickled as torch pickles a tensor: its class (a Parameter stays one), data and
        ``requires_grad``, never its graph (a non-leaf comes back as a leaf; the ops hold the
        backend, which need not pickle) nor its ``.grad``."""
        state = getattr(self, "__dict__", None)  # a subclass's own attributes
        return (_rebuild_tensor, (type(self), self._array, self.requires_grad, state or None))

    def __deepcopy__(self, memo: dict) -> Tensor:
        """torch's deepcopy: of leaves only; data, ``requires_grad`` and ``.grad`` copied."""
        if self._ctx is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment (this tensor has "
                               f"grad_fn {self._ctx!r}; deepcopy its .detach() instead)")
        state = getattr(self, "__dict__", None)
        new = _rebuild_tensor(type(self), np.array(self._array), self.requires_grad,
                              _copy.deepcopy(state, memo) if state else None)
        memo[id(self)] = new
        if self._grad is not None:
            new._grad = _copy.deepcopy(self._grad, memo)
        return new

    # ---- Python protocol ---------------------------------------------------------------------
    __hash__ = object.__hash__  # identity: Tensors live in sets/dicts (graph walk, optimizers)

    def __len__(self) -> int:
        if self._array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._array.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        """The rows, as torch: ``unbind(0)``'s views."""
        if self._array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

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
        return _repr(self)

    # ---- arithmetic (Python numbers on either side; broadcasting) ---------------------------
    def __add__(self, other: Any) -> Tensor:
        """self + other elementwise (broadcast; numbers on either side; dtypes promoted as
        torch)."""
        return _binary(ops.Add, self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _binary(ops.Add, lift_constant(other, self), self)

    def __sub__(self, other: Any) -> Tensor:
        """self - other elementwise (broadcast; numbers on either side; dtypes promoted as
        torch)."""
        return _binary(ops.Sub, self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _binary(ops.Sub, lift_constant(other, self), self)

    def __mul__(self, other: Any) -> Tensor:
        """self * other elementwise (broadcast; numbers on either side; dtypes promoted as torch);
        ``mul`` and ``multiply`` too."""
        return _binary(ops.Mul, self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _binary(ops.Mul, lift_constant(other, self), self)

    def __truediv__(self, other: Any) -> Tensor:
        """self / other elementwise, true division (``true_divide``): integers divide as the
        default float dtype, as torch."""
        a, b = _float_pair(self, other)
        return _binary(ops.Div, a, b)

    def __rtruediv__(self, other: Any) -> Tensor:
        a, b = _float_pair(lift_constant(other, self), self)
        return _binary(ops.Div, a, b)

    def __pow__(self, exponent: Any) -> Tensor:
        """self ** exponent elementwise (a number or a broadcast Tensor; ``pow``); an integer
        tensor to a negative integer power is an error, as torch."""
        if isinstance(exponent, (int, float)) and not isinstance(exponent, bool):
            x = self
            if isinstance(exponent, float) and x._array.dtype.kind != "f":
                x = x.to(dtypes.get_default_dtype())
            elif exponent < 0 and x._array.dtype.kind != "f":
                raise OpError("pow: integer tensors cannot be raised to negative integer "
                                 "powers")
            if exponent == 1:
                return x if x is not self else apply_op(ops.Cast, x, dtype=x._array.dtype)
            return apply_op(ops.PowScalar, x, p=exponent)
        return _binary(ops.Pow, self, exponent)

    def __rpow__(self, base: Any) -> Tensor:
        return _binary(ops.Pow, lift_constant(base, self), self)

    def __neg__(self) -> Tensor:
        """-self elementwise (``neg``, ``negative``); a bool tensor is an error (use ``~``), as
        torch."""
        if self._array.dtype.kind == "b":
            raise TypeError("negation of a bool tensor: use ~ (logical not) instead")
        return _unary(ops.Neg, self)

    def __abs__(self) -> Tensor:
        """abs(self): the absolute value elementwise."""
        return self.abs()

    def __matmul__(self, other: Any) -> Tensor:
        """self @ other (``matmul``): torch's rules for 1-D operands and broadcast batch dims; both
        operands must have one dtype."""
        return matmul(self, other if isinstance(other, Tensor) else lift_constant(other, self))

    def __rmatmul__(self, other: Any) -> Tensor:
        return matmul(lift_constant(other, self), self)

    # bitwise ops: on integer tensors bit by bit, on bool tensors logical (torch); no gradient
    def __invert__(self) -> Tensor:
        return self.bitwise_not()

    def bitwise_not(self) -> Tensor:
        """Bitwise NOT of an integer tensor (``~x``); logical not for bool; a TypeError for
        floating point, as torch."""
        _check_bitwise(self._array.dtype, "bitwise_not")
        return wrap_array(np.invert(self._array))

    def bitwise_and(self, other: Any) -> Tensor:
        """Bitwise AND (``x & y``) of integer or bool operands (broadcast, dtypes promoted); no
        gradient."""
        return _bitwise(np.bitwise_and, self, other, "bitwise_and")

    def bitwise_or(self, other: Any) -> Tensor:
        """Bitwise OR (``x | y``) of integer or bool operands (broadcast, dtypes promoted); no
        gradient."""
        return _bitwise(np.bitwise_or, self, other, "bitwise_or")

    def bitwise_xor(self, other: Any) -> Tensor:
        """Bitwise XOR (``x ^ y``) of integer or bool operands (broadcast, dtypes promoted); no
        gradient."""
        return _bitwise(np.bitwise_xor, self, other, "bitwise_xor")

    def bitwise_left_shift(self, other: Any) -> Tensor:
        """self shifted left by ``other`` bits (``x << y``), integer operands only."""
        return _bitwise(np.left_shift, self, other, "bitwise_left_shift")

    def bitwise_right_shift(self, other: Any) -> Tensor:
        """self shifted right by ``other`` bits (``x >> y``, arithmetic for signed integers),
        integer operands only."""
        return _bitwise(np.right_shift, self, other, "bitwise_right_shift")

    __and__, __or__, __xor__ = bitwise_and, bitwise_or, bitwise_xor
    __lshift__, __rshift__ = bitwise_left_shift, bitwise_right_shift

    def __rand__(self, other: Any) -> Tensor:
        return _bitwise(np.bitwise_and, lift_constant(other, self), self, "bitwise_and")

    def __ror__(self, other: Any) -> Tensor:
        return _bitwise(np.bitwise_or, lift_constant(other, self), self, "bitwise_or")

    def __rxor__(self, other: Any) -> Tensor:
        return _bitwise(np.bitwise_xor, lift_constant(other, self), self, "bitwise_xor")

    def __rlshift__(self, other: Any) -> Tensor:
        return _bitwise(np.left_shift, lift_constant(other, self), self, "bitwise_left_shift")

    def __rrshift__(self, other: Any) -> Tensor:
        return _bitwise(np.right_shift, lift_constant(other, self), self, "bitwise_right_shift")

    def bitwise_and_(self, other: Any) -> Tensor:
        """In-place ``bitwise_and`` (torch.Tensor.bitwise_and_): the result is written into self,
        which is returned."""
        return _inplace(self, "bitwise_and_", Tensor.bitwise_and, other)

    def bitwise_or_(self, other: Any) -> Tensor:
        """In-place ``bitwise_or`` (torch.Tensor.bitwise_or_): the result is written into self,
        which is returned."""
        return _inplace(self, "bitwise_or_", Tensor.bitwise_or, other)

    def bitwise_xor_(self, other: Any) -> Tensor:
        """In-place ``bitwise_xor`` (torch.Tensor.bitwise_xor_): the result is written into self,
        which is returned."""
        return _inplace(self, "bitwise_xor_", Tensor.bitwise_xor, other)

    def bitwise_not_(self) -> Tensor:
        """In-place ``bitwise_not`` (torch.Tensor.bitwise_not_): the result is written into self,
        which is returned."""
        return _inplace(self, "bitwise_not_", Tensor.bitwise_not)

    __iand__, __ior__, __ixor__ = bitwise_and_, bitwise_or_, bitwise_xor_

    def __ilshift__(self, other: Any) -> Tensor:
        return _inplace(self, "__ilshift__", Tensor.bitwise_left_shift, other)

    def __irshift__(self, other: Any) -> Tensor:
        return _inplace(self, "__irshift__", Tensor.bitwise_right_shift, other)

    # comparisons: non-differentiable bool masks
    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        """self == other elementwise (broadcast, dtypes promoted): a bool tensor, no gradient
        (``eq``)."""
        if other is None:
            return False  # type: ignore[return-value] - as torch: `t == None` is False
        return _compare(self, other, "eq")

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        """self != other elementwise: a bool tensor, no gradient (``ne``, ``not_equal``)."""
        if other is None:
            return True  # type: ignore[return-value]
        return _compare(self, other, "ne")

    def __contains__(self, value: Any) -> bool:
        return bool((self == value).any())

    def __lt__(self, other: Any) -> Tensor:
        """self < other elementwise: a bool tensor, no gradient (``lt``, ``less``)."""
        return _compare(self, other, "lt")

    def __le__(self, other: Any) -> Tensor:
        """self <= other elementwise: a bool tensor, no gradient (``le``, ``less_equal``)."""
        return _compare(self, other, "le")

    def __gt__(self, other: Any) -> Tensor:
        """self > other elementwise: a bool tensor, no gradient (``gt``, ``greater``)."""
        return _compare(self, other, "gt")

    def __ge__(self, other: Any) -> Tensor:
        """self >= other elementwise: a bool tensor, no gradient (``ge``, ``greater_equal``)."""
        return _compare(self, other, "ge")

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__
    greater, less, greater_equal, less_equal, not_equal = gt, lt, ge, le, ne

    def equal(self, other: Tensor) -> bool:
        """True when ``other`` has self's shape and the same values (compared after type
        promotion; NaN equals nothing)."""
        if not isinstance(other, Tensor):
            raise TypeError(f"equal(): argument 'other' must be Tensor, not "
                            f"{type(other).__name__}")
        return self.shape == other.shape and bool(np.all(_compare(self, other, "eq")._array))

    # logical ops: any dtype in (nonzero is True), bool out; no gradient
    def logical_not(self) -> Tensor:
        """True where self is zero (any dtype; a bool result, no gradient)."""
        return wrap_array(np.logical_not(self._array))

    def logical_and(self, other: Tensor) -> Tensor:
        """True where both self and ``other`` (a Tensor, broadcast) are nonzero; a bool result."""
        return _logical(np.logical_and, self, other, "logical_and")

    def logical_or(self, other: Tensor) -> Tensor:
        """True where self or ``other`` (a Tensor, broadcast) is nonzero; a bool result."""
        return _logical(np.logical_or, self, other, "logical_or")

    def logical_xor(self, other: Tensor) -> Tensor:
        """True where exactly one of self and ``other`` (a Tensor, broadcast) is nonzero."""
        return _logical(np.logical_xor, self, other, "logical_xor")

    def add(self, other: Any, *, alpha: Any = 1) -> Tensor:
        """self + alpha * other."""
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other: Any, *, alpha: Any = 1) -> Tensor:
        """self - alpha * other."""
        return self - (other if alpha == 1 else other * alpha)

    def addcmul(self, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
        """self + value * tensor1 * tensor2 (broadcast, dtypes promoted)."""
        t1, t2 = _operands("addcmul", tensor1=tensor1, tensor2=tensor2)
        _no_bools("addcmul", self, t1, t2)
        return self + _scaled(t1, value, self, t2) * t2

    def addcdiv(self, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
        """self + value * tensor1 / tensor2; two integer tensors are an error, as torch
        (its old integer division is gone)."""
        t1, t2 = _operands("addcdiv", tensor1=tensor1, tensor2=tensor2)
        _no_bools("addcdiv", self, t1, t2)
        if t1._array.dtype.kind in "biu" and t2._array.dtype.kind in "biu":
            raise RuntimeError(
                f"addcdiv: integer division with addcdiv is no longer supported (tensor1 is "
                f"{t1.dtype.name}, tensor2 {t2.dtype.name}); write (input + value * "
                "torch.trunc(tensor1 / tensor2)).to(input.dtype) for the old behaviour, or "
                "input + value * tensor1 / tensor2 for a true division")
        return self + _scaled(t1, value, self, t2) / t2

    def div(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        """True division, or rounded toward 0 ("trunc") or down ("floor"): then integers stay
        integers and the gradient is zero, as torch."""
        if rounding_mode is None:
            return self / other
        if rounding_mode not in ("trunc", "floor"):
            raise OpError(f"div expected rounding_mode to be one of None, 'trunc', or "
                             f"'floor' but found {rounding_mode!r}")
        a, b = _no_int_zero(self, other, "div")
        if a._array.dtype != b._array.dtype:
            target = dtypes.promote_operands(a._array, b._array)
            a, b = a.to(target), b.to(target)
        if a.shape != b.shape:
            shape = broadcast("div", a.shape, b.shape)
            a, b = a.expand(shape), b.expand(shape)
        return apply_op(ops.DivRounding, a, b, mode=rounding_mode)

    def floor_divide(self, other: Any) -> Tensor:
        """self / other rounded down (``//``, ``div(rounding_mode='floor')``): integers stay
        integers, the gradient is zero."""
        return self.div(other, rounding_mode="floor")

    __floordiv__ = floor_divide

    def __rfloordiv__(self, other: Any) -> Tensor:
        return lift_constant(other, self).div(self, rounding_mode="floor")

    mul, pow, matmul, neg = __mul__, __pow__, __matmul__, __neg__
    multiply, subtract, divide, true_divide, negative = mul, sub, div, __truediv__, __neg__

    # ---- elementwise functions ---------------------------------------------------------------
    def exp(self) -> Tensor:
        """e ** x elementwise; integers compute in the default float dtype, as torch."""
        return _unary(ops.Exp, to_floating(self, "exp"))

    def log(self) -> Tensor:
        """The natural logarithm elementwise (nan below 0, -inf at 0); integers compute in the
        default float dtype."""
        return _unary(ops.Log, to_floating(self, "log"))

    def log1p(self) -> Tensor:
        """log(1 + x) elementwise, accurate for small x; integers compute in the default float
        dtype."""
        return _unary(ops.Log1p, to_floating(self, "log1p"))

    def sqrt(self) -> Tensor:
        """The square root elementwise (nan below 0); integers compute in the default float
        dtype."""
        return _unary(ops.Sqrt, to_floating(self, "sqrt"))

    def rsqrt(self) -> Tensor:
        """1 / sqrt(x) elementwise (inf at 0, nan below 0)."""
        return 1.0 / self.sqrt()

    def abs(self) -> Tensor:
        """The absolute value elementwise (``absolute``); the gradient at 0 is 0, as torch."""
        return _unary(ops.Abs, self)

    absolute = abs

    def positive(self) -> Tensor:
        """self itself (torch.positive); an error for bool tensors, as torch."""
        if self._array.dtype.kind == "b":
            raise DTypeError("positive: the `+` operator, on a bool tensor is not supported")
        return self

    def square(self) -> Tensor:
        """x ** 2 elementwise."""
        return self ** 2

    def reciprocal(self) -> Tensor:
        """1 / x elementwise; integers give the default float dtype."""
        return 1.0 / self

    def sign(self) -> Tensor:
        """-1, 0 or 1 (the input's dtype); a zero gradient, as torch."""
        if self._array.dtype.kind == "b":
            return self.clone()
        return _unary(ops.Sign, self)

    sgn = sign  # torch.sgn is sign for real tensors (it differs only for complex ones)

    def sin(self) -> Tensor:
        """The sine elementwise (radians); integers compute in the default float dtype."""
        return _unary(ops.Sin, to_floating(self, "sin"))

    def cos(self) -> Tensor:
        """The cosine elementwise (radians); integers compute in the default float dtype."""
        return _unary(ops.Cos, to_floating(self, "cos"))

    def tan(self) -> Tensor:
        """The tangent elementwise (radians); integers compute in the default float dtype."""
        return _unary(ops.Tan, to_floating(self, "tan"))

    def asin(self) -> Tensor:
        """The inverse sine elementwise (nan outside [-1, 1]); ``arcsin`` too."""
        return _unary(ops.Asin, to_floating(self, "asin"))

    def acos(self) -> Tensor:
        """The inverse cosine elementwise (nan outside [-1, 1]); ``arccos`` too."""
        return _unary(ops.Acos, to_floating(self, "acos"))

    def atan(self) -> Tensor:
        """The inverse tangent elementwise, in (-pi/2, pi/2); ``arctan`` too."""
        return _unary(ops.Atan, to_floating(self, "atan"))

    def sinh(self) -> Tensor:
        """The hyperbolic sine elementwise."""
        return _unary(ops.Sinh, to_floating(self, "sinh"))

    def cosh(self) -> Tensor:
        """The hyperbolic cosine elementwise."""
        return _unary(ops.Cosh, to_floating(self, "cosh"))

    def asinh(self) -> Tensor:
        """The inverse hyperbolic sine elementwise; ``arcsinh`` too."""
        return _unary(ops.Asinh, to_floating(self, "asinh"))

    def acosh(self) -> Tensor:
        """The inverse hyperbolic cosine elementwise (nan below 1); ``arccosh`` too."""
        return _unary(ops.Acosh, to_floating(self, "acosh"))

    def atanh(self) -> Tensor:
        """The inverse hyperbolic tangent elementwise (nan outside [-1, 1], +-inf at +-1);
        ``arctanh`` too."""
        return _unary(ops.Atanh, to_floating(self, "atanh"))

    arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh

    def exp2(self) -> Tensor:
        """2 ** x elementwise; integers compute in the default float dtype."""
        return _unary(ops.Exp2, to_floating(self, "exp2"))

    def expm1(self) -> Tensor:
        """exp(x) - 1 elementwise, accurate for small x."""
        return _unary(ops.Expm1, to_floating(self, "expm1"))

    def log2(self) -> Tensor:
        """The base-2 logarithm elementwise."""
        return _unary(ops.Log2, to_floating(self, "log2"))

    def log10(self) -> Tensor:
        """The base-10 logarithm elementwise."""
        return _unary(ops.Log10, to_floating(self, "log10"))

    def erf(self) -> Tensor:
        """The Gauss error function elementwise."""
        return _unary(ops.Erf, to_floating(self, "erf"))

    def erfc(self) -> Tensor:
        """The complementary error function 1 - erf(x) elementwise, accurate for large x."""
        return _unary(ops.Erfc, to_floating(self, "erfc"))

    def erfinv(self) -> Tensor:
        """The inverse of erf on [-1, 1] (nan outside, +-inf at +-1), as torch."""
        return _unary(ops.Erfinv, to_floating(self, "erfinv"))

    def floor(self) -> Tensor:
        """Rounded down to an integer value elementwise; integers stay integers (a copy), as
        torch; the gradient is zero."""
        return self.clone() if self._array.dtype.kind != "f" else _unary(ops.Floor, self)

    def ceil(self) -> Tensor:
        """Rounded up to an integer value elementwise; integers stay integers (a copy); the
        gradient is zero."""
        return self.clone() if self._array.dtype.kind != "f" else _unary(ops.Ceil, self)

    def trunc(self) -> Tensor:
        """Rounded toward zero elementwise (``fix``); integers stay integers (a copy); the gradient
        is zero."""
        return self.clone() if self._array.dtype.kind != "f" else _unary(ops.Trunc, self)

    fix = trunc

    def round(self, decimals: int = 0) -> Tensor:
        """Rounded to the nearest integer, or to ``decimals`` decimal digits; halves go to
        the even neighbour, as torch.round. The gradient is zero."""
        if self._array.dtype.kind != "f":
            if decimals:
                raise RuntimeError(f"round: decimals={decimals} is not supported for integer "
                                   f"tensors (got {self.dtype.name}), as in torch")
            return self.clone()
        return apply_op(ops.Round, self, decimals=int(decimals))

    def frac(self) -> Tensor:
        """x - trunc(x), with x's sign; gradient 1."""
        if self._array.dtype.kind != "f":
            raise RuntimeError(f"frac: needs a floating point tensor, got {self.dtype.name}")
        return self - self.trunc()

    def relu(self) -> Tensor:
        """max(x, 0) elementwise; the gradient at 0 is 0, as torch."""
        return _unary(ops.ReLU, self)

    def sigmoid(self) -> Tensor:
        """1 / (1 + exp(-x)) elementwise; integers compute in the default float dtype."""
        return _unary(ops.Sigmoid, to_floating(self, "sigmoid"))

    def tanh(self) -> Tensor:
        """The hyperbolic tangent elementwise; integers compute in the default float dtype."""
        return _unary(ops.Tanh, to_floating(self, "tanh"))

    def softmax(self, dim: int, dtype: Any = None) -> Tensor:
        """exp(x) / sum(exp(x)) over ``dim`` (computed stably), so each slice sums to 1;
        ``dtype`` casts the input first (torch's argument)."""
        x = to_floating(self if dtype is None else self.to(dtype), "softmax")
        return apply_op(ops.Softmax, x, axis=dim_index(dim, self.ndim, "softmax"))

    def log_softmax(self, dim: int, dtype: Any = None) -> Tensor:
        """log(softmax(x)) over ``dim``, computed stably (x - logsumexp(x)); ``dtype`` casts the
        input first."""
        x = to_floating(self if dtype is None else self.to(dtype), "log_softmax")
        return apply_op(ops.LogSoftmax, x, axis=dim_index(dim, self.ndim, "log_softmax"))

    def prelu(self, weight: Tensor) -> Tensor:
        """x where x > 0 else weight * x; ``weight`` has 1 element or one per channel (dim 1)."""
        if not isinstance(weight, Tensor):
            raise TypeError(f"prelu: weight must be a Tensor, got {type(weight).__name__}")
        n = weight.numel()
        if weight.ndim > 1 or (n != 1 and (self.ndim < 2 or self.shape[1] != n)):
            raise RuntimeError(f"prelu: weight of shape {weight.shape} must have 1 element or "
                               f"one per channel (dim 1) of the input of shape {self.shape}")
        w = weight.reshape((n,) + (1,) * max(self.ndim - 2, 0)) if n != 1 else weight.reshape(())
        return where(self > 0, self, w * self)

    # two-operand math: integers promote to float where torch's result is float
    def atan2(self, other: Any) -> Tensor:
        """The angle of the point (other, self), atan(self / other) in the right quadrant, in (-pi,
        pi]; ``arctan2`` too."""
        return _binary(ops.Atan2, *_float_pair(self, other))

    arctan2 = atan2

    def hypot(self, other: Any) -> Tensor:
        """sqrt(self ** 2 + other ** 2) elementwise without overflow; two integer operands are an
        error, as torch."""
        return _binary(ops.Hypot, *_floats_only(self, other, "hypot"))

    def logaddexp(self, other: Any) -> Tensor:
        """log(exp(self) + exp(other)) elementwise, computed stably; floating point only, as
        torch."""
        return _binary(ops.LogAddExp, *_floats_only(self, other, "logaddexp"))

    def logaddexp2(self, other: Any) -> Tensor:
        """log2(2 ** self + 2 ** other) elementwise, computed stably; floating point only, as
        torch."""
        return _binary(ops.LogAddExp2, *_floats_only(self, other, "logaddexp2"))

    def copysign(self, other: Any) -> Tensor:
        """The magnitude of self with the sign of ``other`` elementwise; integers give the default
        float dtype."""
        return _binary(ops.CopySign, *_float_pair(self, other))

    def fmod(self, other: Any) -> Tensor:
        """a - trunc(a / b) b (the sign of a); integers stay integers."""
        a, b = _no_int_zero(self, other, "fmod")
        return _binary(ops.Fmod, a, b)

    def remainder(self, other: Any) -> Tensor:
        """a - floor(a / b) b (the sign of b, Python's %); integers stay integers."""
        a, b = _no_int_zero(self, other, "remainder")
        return _binary(ops.Remainder, a, b)

    __mod__ = remainder

    def __rmod__(self, other: Any) -> Tensor:
        return lift_constant(other, self).remainder(self)

    def lerp(self, end: Any, weight: Any) -> Tensor:
        """self + weight (end - self), computed from the nearer end as torch does (exact at
        weight 0 and 1)."""
        if not isinstance(weight, Tensor):
            weight = lift_constant(weight, self)
        diff = end - self
        return where(weight < 0.5, self + weight * diff, end - diff * (1 - weight))

    def clamp_min(self, min: Any) -> Tensor:  # noqa: A002 - torch's name
        """max(self, min) elementwise: ``clamp(min=min)``."""
        return self.clamp(min=min)

    def clamp_max(self, max: Any) -> Tensor:  # noqa: A002 - torch's name
        """min(self, max) elementwise: ``clamp(max=max)``."""
        return self.clamp(max=max)

    def heaviside(self, values: Tensor) -> Tensor:
        """0 where self < 0, 1 where self > 0, ``values`` (broadcast) where self == 0; torch
        defines no derivative (backward raises)."""
        (values,) = _operands("heaviside", values=values)
        if values._array.dtype != self._array.dtype:
            raise DTypeError(f"heaviside is not yet implemented for tensors with different "
                             f"dtypes ({self.dtype.name} and {values.dtype.name})")
        x, v = self._array, values._array
        try:
            out = np.where(x == 0, v, x > 0).astype(x.dtype)
        except ValueError:
            raise OpError(f"heaviside: shapes {self.shape} and {values.shape} cannot be "
                          "broadcast together") from None
        return _not_differentiable(out, (self, values), "heaviside")

    def xlogy(self, other: Any) -> Tensor:
        """self * log(other), 0 where self == 0 (unless other is NaN); integers compute in
        the default float dtype. Gradients are torch's (``XLogY``)."""
        a, b = _float_pair(self, other)
        return _binary(XLogY, a, b)

    def float_power(self, exponent: Any) -> Tensor:
        """self ** exponent computed in float64 (the result is float64 whatever the inputs)."""
        e = exponent.double() if isinstance(exponent, Tensor) else exponent
        if not isinstance(e, (Tensor, *_SCALARS)):
            raise TypeError(f"float_power(): argument 'exponent' must be Tensor or Number, "
                            f"not {type(exponent).__name__}")
        return self.double() ** (float(e) if isinstance(e, (bool, np.bool_)) else e)

    def float_power_(self, exponent: Any) -> Tensor:
        """In-place ``float_power``: self must already be float64 (the result's dtype), as
        torch."""
        if self._array.dtype != np.float64:
            raise RuntimeError(f"the base given to float_power_ has dtype {self.dtype.name} but "
                               "the operation's result requires dtype float64")
        return _inplace(self, "float_power_", Tensor.float_power, exponent)

    def fmax(self, other: Tensor) -> Tensor:
        """Elementwise max that ignores NaN (NaN only where both are); ties send the
        gradient to self, as torch."""
        a, b = _promoted(self, *_operands("fmax", other=other))
        return where((a >= b) | b.isnan(), a, b)

    def fmin(self, other: Tensor) -> Tensor:
        """Elementwise min that ignores NaN; ties send the gradient to self."""
        a, b = _promoted(self, *_operands("fmin", other=other))
        return where((a <= b) | b.isnan(), a, b)

    def isposinf(self) -> Tensor:
        """True where an element is +inf (never for integer tensors)."""
        return wrap_array(np.asarray(np.isposinf(self._array)) if self._array.dtype.kind == "f"
                          else np.zeros(self.shape, np.bool_))

    def isneginf(self) -> Tensor:
        """True where an element is -inf (never for integer tensors)."""
        return wrap_array(np.asarray(np.isneginf(self._array)) if self._array.dtype.kind == "f"
                          else np.zeros(self.shape, np.bool_))

    def signbit(self) -> Tensor:
        """True where the sign bit is set (negative numbers, -0.0, NaNs with a sign)."""
        if self._array.dtype.kind == "b":
            return wrap_array(np.zeros(self.shape, np.bool_))
        return wrap_array(np.asarray(np.signbit(self._array)))

    def nan_to_num(self, nan: float = 0.0, posinf: float | None = None,
                   neginf: float | None = None) -> Tensor:
        """nan, +inf, -inf replaced (by default with 0 and the dtype's largest and lowest
        finite values); the gradient is zero where x was not finite, as torch."""
        if self._array.dtype.kind != "f":
            return self.clone()
        info = np.finfo(self._array.dtype)
        hi = info.max if posinf is None else posinf
        lo = info.min if neginf is None else neginf
        def const(v: float) -> Tensor:
            return lift_constant(float(v), self)
        fill = where(self.isnan(), const(nan), where(self > 0, const(hi), const(lo)))
        return where(self.isfinite(), self, fill)

    def isnan(self) -> Tensor:
        """True where an element is NaN (a bool tensor, no gradient)."""
        return self != self

    def isinf(self) -> Tensor:
        """True where an element is +inf or -inf (never for integer tensors)."""
        if self._array.dtype.kind != "f":
            return wrap_array(np.zeros(self.shape, np.bool_))
        return _compare(self.detach().abs(), float("inf"), "eq")

    def isfinite(self) -> Tensor:
        """True where an element is neither infinite nor NaN (always for integer tensors)."""
        if self._array.dtype.kind != "f":
            return wrap_array(np.ones(self.shape, np.bool_))
        return _compare(self.detach().abs(), float("inf"), "lt")

    def isclose(self, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
                equal_nan: bool = False) -> Tensor:
        """|self - other| <= atol + rtol |other| elementwise (equal infinities count as
        close; nan only with equal_nan); both Tensors of one dtype, as torch."""
        if not isinstance(other, Tensor):
            raise TypeError(f"isclose: other must be a Tensor, got {type(other).__name__}")
        if self._array.dtype != other._array.dtype:
            raise RuntimeError(f"isclose: {self.dtype.name} and {other.dtype.name} differ; "
                               "both tensors must have the same dtype")
        a, b = self.detach(), other.detach()
        if a._array.dtype.kind != "f":
            a, b = a.double(), b.double()
        with np.errstate(invalid="ignore"):  # inf - inf is nan: not close, no warning
            with_tol = (a - b).abs() <= atol + rtol * b.abs()
        close = with_tol & a.isfinite() & b.isfinite() | (a == b)
        return close | (a.isnan() & b.isnan()) if equal_nan else close

    def allclose(self, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
                 equal_nan: bool = False) -> bool:
        """True when every element is close to ``other``'s: ``isclose(other, rtol, atol,
        equal_nan).all()``."""
        return bool(self.isclose(other, rtol, atol, equal_nan).all())

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - torch names
        """Clamp into [min, max] (either may be None; Tensors allowed)."""
        if min is None and max is None:
            raise OpError("clamp: at least one of min and max must be given")
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
        """The elementwise maximum with ``other`` (broadcast); ties share the gradient, as
        torch."""
        return maximum(self, other)

    def minimum(self, other: Any) -> Tensor:
        """The elementwise minimum with ``other`` (broadcast); ties share the gradient, as
        torch."""
        return minimum(self, other)

    def where(self, condition: Any, other: Any) -> Tensor:
        """self where ``condition`` is True, else ``other`` (broadcast):
        ``micrograd.where(condition, self, other)``."""
        return where(condition, self, other)

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """``value`` where ``mask`` (bool, broadcast) is True, else self."""
        return where(mask, lift_constant(value, self), self)

    # ---- sorting and selection: indices from NumPy, values gathered (so gradients flow) ------
    def sort(self, dim: int = -1, descending: bool = False, *,
             stable: bool = False) -> SortResult:
        """(values, indices) sorted along dim; NaN sorts as the largest (torch). Ties keep
        their order (a stable sort; torch's default leaves their order unspecified)."""
        d = dim_index(dim, self.ndim, "sort")
        if self.ndim == 0:  # one element: itself (a copy in the graph), at index 0
            return SortResult(self.clone(), wrap_array(np.zeros((), np.int64)))
        idx = _sort_indices(self._array, d, descending)
        return SortResult(self.gather(d, idx), wrap_array(idx))

    def argsort(self, dim: int = -1, descending: bool = False, *,
                stable: bool = False) -> Tensor:
        """The indices that sort self along ``dim`` (ascending, or descending);
        ``sort(...).indices``."""
        return self.sort(dim, descending, stable=stable).indices

    def msort(self) -> Tensor:
        """Sorted along dim 0 (ascending): ``sort(0).values``."""
        return self.sort(0).values

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True  # noqa: A002
             ) -> SortResult:
        """The k largest (smallest unless ``largest``) along dim, in sorted order."""
        d = dim_index(dim, max(self.ndim, 1), "topk")
        n = self.shape[d] if self.ndim else 1
        if not 0 <= k <= n:
            raise RuntimeError(f"topk: k={k} is out of range for dimension {d} of size {n}")
        if self.ndim == 0:
            return self.sort()
        idx = _sort_indices(self._array, d, largest)
        idx = idx[(slice(None),) * d + (slice(0, k),)]
        return SortResult(self.gather(d, idx), wrap_array(idx))

    def kthvalue(self, k: int, dim: int = -1, keepdim: bool = False) -> SortResult:
        """The k-th smallest (k from 1) along dim, and its index."""
        d = dim_index(dim, max(self.ndim, 1), "kthvalue")
        n = self.shape[d] if self.ndim else 1
        if not 1 <= k <= n:
            raise RuntimeError(f"kthvalue: k={k} is out of range for dimension {d} of size {n}")
        if self.ndim == 0:
            return self.sort()
        idx = _sort_indices(self._array, d, False)
        idx = idx[(slice(None),) * d + (slice(k - 1, k),)]
        values, idx = self.gather(d, idx), wrap_array(idx)
        return SortResult(values, idx) if keepdim else SortResult(values.squeeze(d),
                                                                   idx.squeeze(d))

    def unique(self, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
               return_counts: bool = False, dim: int | None = None) -> Any:
        """The distinct values (sorted), optionally with the inverse map and counts."""
        axis = None if dim is None else dim_index(dim, self.ndim, "unique")
        vals, inverse, counts = np.unique(self._array, return_inverse=True,
                                          return_counts=True, axis=axis)
        out = [wrap_array(vals)]
        if return_inverse:
            shape = self.shape if axis is None else (self.shape[axis],)
            out.append(wrap_array(inverse.reshape(shape).astype(np.int64)))
        if return_counts:
            out.append(wrap_array(counts.astype(np.int64)))
        return out[0] if len(out) == 1 else tuple(out)

    def nonzero(self, *, as_tuple: bool = False) -> Any:
        """Indices of the non-zero entries: (n, ndim) int64, or one 1-D tensor per dim."""
        arr = self._array if self.ndim else self._array.reshape(1)
        found = np.nonzero(arr)
        if as_tuple:
            return tuple(wrap_array(i.astype(np.int64)) for i in found)
        return wrap_array(np.stack(found, axis=1).astype(np.int64).reshape(-1, self.ndim))

    def argwhere(self) -> Tensor:
        """The indices of the nonzero elements, one row per element: ``nonzero()``."""
        return self.nonzero()

    def masked_select(self, mask: Any) -> Tensor:
        """The entries where the bool ``mask`` (broadcast with self) is True, as a 1-D
        tensor; the gradient goes back to those entries."""
        m = mask._array if isinstance(mask, Tensor) else np.asarray(mask)
        if m.dtype != np.bool_:
            raise DTypeError(f"masked_select: mask must be a bool tensor, got {m.dtype}")
        try:
            shape = np.broadcast_shapes(self.shape, m.shape)
        except ValueError:
            raise OpError(f"masked_select: shapes {self.shape} and {m.shape} cannot be "
                             "broadcast together") from None
        return self.expand(shape)[np.broadcast_to(m, shape)]

    # ---- reductions --------------------------------------------------------------------------
    def sum(self, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
        """The sum over ``dim`` (an int or a tuple; all dims when None), ``keepdim`` keeping
        the summed dims as size 1. Bools and integers sum in int64 unless ``dtype`` says
        otherwise, as torch."""
        x = self if dtype is None else self.to(dtype)
        if dim is None and not keepdim and x._array.dtype.kind == "f":
            return _unary(ops.Sum, x)  # a full float sum (every loss's last step): the hot path
        axes = None if dim is None else reduce_axes(dim, x._array.ndim, "sum")
        if x._array.dtype.kind == "f":  # floats sum in their own dtype
            return apply_op(ops.Sum, x, axes=axes, keepdims=keepdim)
        if dtype is None and x._array.dtype.kind in "biu" and x._array.dtype != np.int64:
            x = x.to(dtypes.int64)
        out = apply_op(ops.Sum, x, axes=axes, keepdims=keepdim)
        if out._array.dtype != x._array.dtype:  # NumPy sums small ints in int64 (no gradient)
            out = wrap_array(np.asarray(out._array).astype(x._array.dtype))
        return out

    def sum_to_size(self, *size: Any) -> Tensor:
        """Summed down to ``size``, a shape self broadcasts from (the gradient of an
        expand)."""
        shape = shape_args(size, "sum_to_size")
        lead = self.ndim - len(shape)
        if lead < 0 or any(n != 1 and n != m for n, m in zip(shape, self.shape[lead:])):
            raise OpError(f"sum_to_size: size {{{list(shape)}}} is not expandable to size "
                          f"{{{list(self.shape)}}}.")
        dims = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                          if n == 1 and self.shape[lead + i] != 1)
        return self.sum(dims, keepdim=True).reshape(shape) if dims else self

    def mean(self, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
        """The average over ``dim`` (all dims by default; ``keepdim`` keeps them as size 1).
        Floating point only (pass ``dtype`` for integers), as torch; an empty reduction is nan."""
        x = self if dtype is None else self.to(dtype)
        if x._array.dtype.kind != "f":
            raise DTypeError(f"mean: needs a floating point tensor, got {x.dtype.name}; "
                            "use .float().mean() or pass dtype=")
        axes = reduce_axes(dim, x._array.ndim, "mean")
        n = count(x._array.shape, axes)
        total = apply_op(ops.Sum, x, axes=axes, keepdims=keepdim)
        scale = x._array.dtype.type(1.0 / n if n else float("nan"))
        return _binary_same(ops.Mul, total, wrap_array(scale))

    def amax(self, dim: Any = (), keepdim: bool = False) -> Tensor:
        """Max over dims (all when dim is () or None); the gradient is shared by ties."""
        axes = reduce_axes(None if dim == () else dim, self.ndim, "amax")
        check_nonempty(self.shape, axes, "amax")
        return apply_op(ops.Max, self, axes=axes, keepdims=keepdim)

    def amin(self, dim: Any = (), keepdim: bool = False) -> Tensor:
        """The minimum over dims (all when ``dim`` is () or None); the gradient is shared by ties,
        as torch."""
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
        """``x.min()`` the smallest element; ``x.min(dim)`` (values, indices) along dim;
        ``x.min(other_tensor)`` the elementwise minimum (as torch)."""
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
        """The index of the largest element: of the flattened tensor, or along ``dim`` (int64; the
        first one on ties)."""
        return self._arg("argmax", dim, keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """The index of the smallest element: of the flattened tensor, or along ``dim`` (int64; the
        first one on ties)."""
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

    # ---- shape -------------------------------------------------------------------------------
    def reshape(self, *shape: Any) -> Tensor:
        """The same elements in a new shape (ints or one sequence; one entry may be -1): a view
        when the memory layout allows, else a copy (torch.Tensor.reshape)."""
        new = reshape_target(self.shape, shape_args(shape, "reshape"), "reshape")
        return apply_op(ops.Reshape, self, shape=new)

    def view(self, *shape: Any) -> Tensor:
        """The same elements in a new shape, always sharing this tensor's storage
        (torch.Tensor.view); where the memory layout allows no such view (e.g. ``x.t()``
        flattened), a RuntimeError as torch's: use ``reshape``, which copies there."""
        if len(shape) == 1 and isinstance(shape[0], (dtypes.DType, np.dtype, type)):
            raise NotImplementedError(f"view({shape[0]}): reinterpreting the bytes as another "
                                      f"dtype is not supported; .to(dtype) converts the values")
        new = reshape_target(self.shape, shape_args(shape, "view"), "view")
        out = apply_op(ops.Reshape, self, shape=new)
        if out._array.size and not np.may_share_memory(out._array, self._array):
            raise OpError(f"view size is not compatible with input tensor's size and stride: "
                          f"shape {self.shape} with strides {self.stride()} cannot be viewed as "
                          f"{new} (at least one dimension spans across two contiguous "
                          f"subspaces). Use .reshape(...) instead.")
        return out

    def reshape_as(self, other: Tensor) -> Tensor:
        """self reshaped to ``other``'s shape (``view_as`` too)."""
        return self.reshape(other.shape)

    view_as = reshape_as

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Dims ``start_dim`` to ``end_dim`` merged into one (all by default: a 1-D tensor)."""
        if self.ndim == 0:
            return self.reshape(1)
        s, e = dim_index(start_dim, self.ndim, "flatten"), dim_index(end_dim, self.ndim, "flatten")
        if s > e:
            raise OpError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        shp = self.shape
        return self.reshape(shp[:s] + (count(shp, tuple(range(s, e + 1))),) + shp[e + 1:])

    def ravel(self) -> Tensor:
        """The elements as a 1-D tensor, in C order."""
        return self.reshape(-1)

    def squeeze(self, dim: Any = None) -> Tensor:
        """Dims of size 1 removed: all of them, or only those in ``dim`` (an int or a tuple)."""
        if dim is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        axes = reduce_axes(dim, self.ndim, "squeeze")
        return self.reshape(tuple(n for i, n in enumerate(self.shape)
                                  if not (i in axes and n == 1)))

    def unsqueeze(self, dim: int) -> Tensor:
        """A dim of size 1 inserted at position ``dim`` (negative counts from the end of the
        result)."""
        d = dim_index(dim, self.ndim + 1, "unsqueeze")
        return self.reshape(self.shape[:d] + (1,) + self.shape[d:])

    def permute(self, *dims: Any) -> Tensor:
        """The dims reordered: result dim i is self's dim ``dims[i]`` (ints or one sequence)."""
        dims = shape_args(dims, "permute")
        axes = tuple(dim_index(d, self.ndim, "permute") for d in dims)
        if sorted(axes) != list(range(self.ndim)):
            raise OpError(f"permute: dims {dims} are not a permutation of the {self.ndim} "
                             f"dims of a tensor of shape {self.shape}")
        return apply_op(ops.Permute, self, axes=axes)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """Dims ``dim0`` and ``dim1`` swapped (``swapaxes``/``swapdims``)."""
        axes = list(range(self.ndim))
        a, b = dim_index(dim0, self.ndim, "transpose"), dim_index(dim1, self.ndim, "transpose")
        axes[a], axes[b] = axes[b], axes[a]
        return apply_op(ops.Permute, self, axes=tuple(axes))

    def t(self) -> Tensor:
        """The transpose of a matrix (a 0-d or 1-D tensor is returned as is); more than 2 dims is
        an error, as torch."""
        if self.ndim > 2:
            raise OpError(f"t: expects a tensor with <= 2 dims, got shape {self.shape}")
        return self.T

    # in-place view ops: self takes the view's shape (``_inplace_view``)
    def squeeze_(self, dim: Any = None) -> Tensor:
        """In-place ``squeeze``: self takes the new shape over the same storage."""
        return _inplace_view(self, "squeeze_", lambda t: t.squeeze(dim))

    def unsqueeze_(self, dim: int) -> Tensor:
        """In-place ``unsqueeze``: self takes the new shape over the same storage."""
        return _inplace_view(self, "unsqueeze_", lambda t: t.unsqueeze(dim))

    def transpose_(self, dim0: int, dim1: int) -> Tensor:
        """In-place ``transpose``: self takes the new shape over the same storage."""
        return _inplace_view(self, "transpose_", lambda t: t.transpose(dim0, dim1))

    def swapaxes_(self, axis0: int, axis1: int) -> Tensor:
        """In-place ``swapaxes`` (``transpose_`` with NumPy's argument names)."""
        return _inplace_view(self, "swapaxes_", lambda t: t.transpose(axis0, axis1))

    def swapdims_(self, dim0: int, dim1: int) -> Tensor:
        """In-place ``swapdims`` (``transpose_``)."""
        return _inplace_view(self, "swapdims_", lambda t: t.transpose(dim0, dim1))

    def t_(self) -> Tensor:
        """In-place ``t``: a matrix becomes its transpose over the same storage."""
        if self.ndim > 2:
            raise OpError(f"t_() expects a tensor with <= 2 dimensions, but self is "
                          f"{self.ndim}D (shape {self.shape})")
        return _inplace_view(self, "t_", Tensor.t)

    def expand(self, *sizes: Any) -> Tensor:
        """Broadcast to ``sizes`` (-1 keeps a dim); a view whose backward sums."""
        sizes = shape_args(sizes, "expand")
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise OpError(f"expand: cannot expand shape {self.shape} to {sizes} "
                             "(fewer dims)")
        target = tuple(self.shape[i - lead] if n == -1 and i >= lead else n
                       for i, n in enumerate(sizes))
        for i, n in enumerate(self.shape):
            if n != 1 and n != target[lead + i]:
                raise OpError(f"expand: cannot expand shape {self.shape} to {sizes}: dim "
                                 f"{i} has size {n}, not 1")
        if target == self.shape:
            return self
        # a view the caller holds: registered, unlike the broadcasts inside binary ops
        return _share_version(self, apply_op(ops.Expand, self, shape=target))

    broadcast_to = expand

    def expand_as(self, other: Tensor) -> Tensor:
        """self broadcast (a view) to ``other``'s shape: ``expand(other.shape)``."""
        return self.expand(other.shape)

    def split(self, split_size: int | Sequence[int], dim: int = 0) -> tuple:
        """Pieces of ``split_size`` along dim (the last may be smaller), or of the given sizes."""
        d = dim_index(dim, self.ndim, "split")
        n = self.shape[d]
        if isinstance(split_size, (int, np.integer)):
            if split_size <= 0:
                raise OpError(f"split: split_size must be positive, got {split_size}")
            sizes = [min(split_size, n - i) for i in range(0, n, split_size)] or [0]
        else:
            sizes = [int(s) for s in split_size]
            if sum(sizes) != n or any(s < 0 for s in sizes):
                raise OpError(f"split: sizes {sizes} do not add up to dim {d} of size {n}")
        lead, out, lo = (slice(None),) * d, [], 0
        for s in sizes:
            out.append(self[lead + (slice(lo, lo + s),)])
            lo += s
        return _multiple_views(out, "Split")

    def split_with_sizes(self, split_sizes: Sequence[int], dim: int = 0) -> tuple:
        """Pieces of the given sizes along dim; they must add up to the dim's size."""
        if isinstance(split_sizes, (int, np.integer)) or not all(
                isinstance(n, (int, np.integer)) and not isinstance(n, bool)
                for n in split_sizes):
            raise TypeError(f"split_with_sizes(): argument 'split_sizes' must be a sequence of "
                            f"ints, got {split_sizes!r}")
        n = self.shape[dim_index(dim, self.ndim, "split_with_sizes")]
        if sum(split_sizes) != n or any(s < 0 for s in split_sizes):
            raise OpError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input "
                          f"tensor's size at dimension {dim}), but got split_sizes="
                          f"{list(split_sizes)}")
        return self.split(list(split_sizes), dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple:
        """Split into ``chunks`` pieces along ``dim``, each ceil(n / chunks) long (the last may be
        shorter, and fewer pieces may result), as torch."""
        if chunks <= 0:
            raise OpError(f"chunk: chunks must be positive, got {chunks}")
        n = self.shape[dim_index(dim, self.ndim, "chunk")]
        return self.split(max(1, -(-n // chunks)), dim)

    def unbind(self, dim: int = 0) -> tuple:
        """The slices along ``dim``, as a tuple of views without that dim."""
        d = dim_index(dim, self.ndim, "unbind")
        return _multiple_views([self[(slice(None),) * d + (i,)] for i in range(self.shape[d])],
                               "Unbind")

    # ---- indexing ----------------------------------------------------------------------------
    def __getitem__(self, index: Any) -> Tensor:
        """torch's indexing: integers select (a view, with slices and None), then index
        tensors, lists and bool masks gather (a copy), their dims placed as torch places them
        (``_index_plan``)."""
        basic, advanced = _index_plan(self.shape, index)
        out = self
        if advanced is None or any(i != slice(None) for i in basic[:-1]):
            out = _share_version(self, _take(self, basic), register=advanced is None)
        return out if advanced is None else _take(out, advanced)

    def index_select(self, dim: int, index: Any) -> Tensor:
        """Rows (dim=0), columns (dim=1), ... picked by a 1-D integer index."""
        d = dim_index(dim, self.ndim, "index_select")
        idx = _index(index)
        if not isinstance(idx, np.ndarray) or idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise TypeError("index_select: index must be a 1-D integer tensor")
        return self[(slice(None),) * d + (idx,)]

    def select(self, dim: int, index: int) -> Tensor:
        """The slice at ``index`` along ``dim`` (a view without that dim); negative index
        counts from the end."""
        if self.ndim == 0:
            raise IndexError("select() cannot be applied to a 0-dim tensor.")
        d = dim_index(dim, self.ndim, "select")
        i, n = shape_args((index,), "select")[0], self.shape[d]
        if not -n <= i < n:
            raise IndexError(f"select(): index {i} out of range for tensor of size "
                             f"{list(self.shape)} at dimension {d}")
        return self[(slice(None),) * d + (i,)]

    def gather(self, dim: int, index: Any) -> Tensor:
        """torch.gather: out[i][j] = self[i][index[i][j]] for dim=1; out has index's shape."""
        d, idx = _scatter_index(self, dim, index, "gather")
        return apply_op(ops.Gather, self, index=idx, axis=d)

    def take_along_dim(self, indices: Any, dim: int | None = None) -> Tensor:
        """gather after broadcasting self and indices in every dim but ``dim`` (None: the
        flattened tensor)."""
        idx = indices if isinstance(indices, Tensor) else Tensor(indices)
        if dim is None:
            return self.reshape(-1).gather(0, idx.reshape(-1))
        d = dim_index(dim, self.ndim, "take_along_dim")
        if idx.ndim != self.ndim:
            raise OpError(f"take_along_dim: indices has {idx.ndim} dims but the input has "
                             f"{self.ndim}")
        try:
            shape = list(np.broadcast_shapes(tuple(1 if k == d else n
                                                   for k, n in enumerate(self.shape)),
                                             tuple(1 if k == d else n
                                                   for k, n in enumerate(idx.shape))))
        except ValueError:
            raise OpError(f"take_along_dim: shapes {self.shape} and {idx.shape} cannot be "
                             f"broadcast outside dim {d}") from None
        x = self.expand(*shape[:d], self.shape[d], *shape[d + 1:])
        i = wrap_array(np.broadcast_to(idx._array, (*shape[:d], idx.shape[d], *shape[d + 1:])))
        return x.gather(d, i)

    def scatter(self, dim: int, index: Any, src: Any = None, *, value: Any = None,
                reduce: str | None = None) -> Tensor:
        """torch.scatter: a copy with self[i][index[i][j]] = src[i][j] for dim=1 (src may be
        a number; gradients reach self and a src tensor). ``reduce`` "add" or "multiply"
        combines instead (scatter_add, scatter_reduce "prod")."""
        if reduce is not None:
            if reduce not in ("add", "multiply"):
                raise RuntimeError(f"scatter: reduce argument must be either add or multiply, "
                                   f"got {reduce!r}")
            if reduce == "multiply":
                return _scatter(ops.ScatterReduce, self, dim, index,
                                value if src is None else src, "scatter", reduce="prod",
                                include_self=True)
            return self.scatter_add(dim, index, src)
        return _scatter(ops.Scatter, self, dim, index, value if src is None else src,
                        "scatter")

    def scatter_add(self, dim: int, index: Any, src: Any) -> Tensor:
        """torch.scatter_add: a copy with src[i][j] added at self[i][index[i][j]] (dim=1);
        repeated indices add up."""
        return _scatter(ops.ScatterAdd, self, dim, index, src, "scatter_add")

    def scatter_reduce(self, dim: int, index: Any, src: Any, reduce: str, *,
                       include_self: bool = True) -> Tensor:
        """src reduced into self at index along dim by "sum", "mean", "prod", "amax" or
        "amin", self's value taking part where include_self. sum and mean are composed of
        scatter / scatter_add; prod, amax and amin are ``ops.ScatterReduce`` (torch's
        gradients: ties share, zeros handled)."""
        if reduce in ("prod", "amax", "amin", "max", "min"):  # torch takes max, min too
            if not isinstance(src, Tensor):
                raise TypeError(f"scatter_reduce: src must be a Tensor, got "
                                f"{type(src).__name__}")
            return _scatter(ops.ScatterReduce, self, dim, index, src, "scatter_reduce",
                            reduce=reduce, include_self=bool(include_self))
        if reduce not in ("sum", "mean"):
            raise RuntimeError(f"scatter_reduce: reduce argument must be either sum, prod, "
                               f"mean, amax or amin, got {reduce}")
        base = self if include_self else self.scatter(dim, index, 0)
        total = base.scatter_add(dim, index, src)
        if reduce == "sum":
            return total
        ones = wrap_array(np.ones(self.shape, self._array.dtype))
        count = (ones if include_self else ones.scatter(dim, index, 0)).scatter_add(
            dim, index, wrap_array(np.ones(_index(index).shape, self._array.dtype)))
        count = count.masked_fill(count == 0, 1)
        if self._array.dtype.kind == "f":
            return total / count
        return total.div(count, rounding_mode="floor")

    def scatter_reduce_(self, dim: int, index: Any, src: Any, reduce: str, *,
                        include_self: bool = True) -> Tensor:
        """In-place ``scatter_reduce`` (torch.Tensor.scatter_reduce_): the result is written into
        self, which is returned."""
        return _inplace(self, "scatter_reduce_", lambda t, s: t.scatter_reduce(
            dim, index, s, reduce, include_self=include_self), src)

    def scatter_(self, dim: int, index: Any, src: Any = None, *, value: Any = None,
                 reduce: str | None = None) -> Tensor:
        """In-place ``scatter`` (torch.Tensor.scatter_): the result is written into self, which is
        returned."""
        return _inplace(self, "scatter_", lambda t, s: t.scatter(dim, index, s, value=value,
                                                                 reduce=reduce), src)

    def scatter_add_(self, dim: int, index: Any, src: Any) -> Tensor:
        """In-place ``scatter_add`` (torch.Tensor.scatter_add_): the result is written into self,
        which is returned."""
        return _inplace(self, "scatter_add_", lambda t, s: t.scatter_add(dim, index, s), src)

    def index_add(self, dim: int, index: Any, source: Any, *, alpha: Any = 1) -> Tensor:
        """source's slices added at the slices ``index`` (1-D) along dim, times alpha."""
        d, full = _index_slices(self, dim, index, source, "index_add")
        return self.scatter_add(d, full, source if alpha == 1 else source * alpha)

    def index_copy(self, dim: int, index: Any, source: Any) -> Tensor:
        """source's slices put at the slices ``index`` (1-D) along dim."""
        d, full = _index_slices(self, dim, index, source, "index_copy")
        return self.scatter(d, full, source)

    def index_add_(self, dim: int, index: Any, source: Any, *, alpha: Any = 1) -> Tensor:
        """In-place ``index_add`` (torch.Tensor.index_add_): the result is written into self, which
        is returned."""
        return _inplace(self, "index_add_",
                        lambda t, s: t.index_add(dim, index, s, alpha=alpha), source)

    def index_copy_(self, dim: int, index: Any, source: Any) -> Tensor:
        """In-place ``index_copy`` (torch.Tensor.index_copy_): the result is written into self,
        which is returned."""
        return _inplace(self, "index_copy_", lambda t, s: t.index_copy(dim, index, s), source)

    def take(self, index: Tensor) -> Tensor:
        """The elements of self read as 1-D at ``index`` (int64; negative counts from the
        end), in index's shape; the gradient adds up at repeated indices."""
        idx = _flat_index(self, index, "take")
        return self.reshape(-1)[wrap_array(idx.reshape(-1))].reshape(idx.shape)

    def put(self, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
        """A copy of self, read as 1-D, with ``source``'s elements written at ``index``
        (added, repeated indices adding up, with ``accumulate``)."""
        idx = _flat_index(self, index, "put")
        (source,) = _operands("put", source=source)
        if source._array.dtype != self._array.dtype:
            raise DTypeError(f"put: self and source expected to have the same dtype, but got "
                             f"self.dtype = {self.dtype.name} and source.dtype = "
                             f"{source.dtype.name}")
        if source.numel() != idx.size:
            raise IndexError(f"put: Expected source and index to have the same number of "
                             f"elements, but got source.numel() = {source.numel()}, "
                             f"index.numel() = {idx.size}")
        return _put_flat(self, idx.reshape(-1), source.reshape(-1), accumulate)

    def put_(self, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
        """In-place ``put`` (torch.Tensor.put_): the result is written into self, which is
        returned."""
        return _inplace(self, "put_", lambda t, s: t.put(index, s, accumulate), source)

    def index_put(self, indices: Sequence[Tensor], values: Tensor,
                  accumulate: bool = False) -> Tensor:
        """A copy of self with ``values`` (broadcast) written at ``self[indices]`` (a tuple
        of index tensors or bool masks), or added there with ``accumulate`` (repeated indices
        adding up)."""
        if not isinstance(indices, (tuple, list)):
            raise TypeError(f"index_put(): argument 'indices' must be a tuple of Tensors, not "
                            f"{type(indices).__name__}")
        for i, t in enumerate(indices):
            if not isinstance(t, Tensor):
                raise TypeError(f"index_put(): expected Tensor as element {i} in argument 0, "
                                f"but got {type(t).__name__}")
        (values,) = _operands("index_put", values=values)
        if values._array.dtype != self._array.dtype:
            raise DTypeError(f"Index put requires the source and destination dtypes match, got "
                             f"{self.dtype.name} for the destination and {values.dtype.name} "
                             "for the source.")
        basic, advanced = _index_plan(self.shape, tuple(indices))
        places = np.arange(self.numel(), dtype=np.int64).reshape(self.shape)[basic]
        if advanced is not None:
            places = places[advanced]
        return _put_flat(self, places.reshape(-1),
                         _fit_value(values, places.shape).reshape(-1), accumulate)

    def index_put_(self, indices: Sequence[Tensor], values: Tensor,
                   accumulate: bool = False) -> Tensor:
        """In-place ``index_put`` (torch.Tensor.index_put_): the result is written into self, which
        is returned."""
        return _inplace(self, "index_put_",
                        lambda t, v: t.index_put(indices, v, accumulate), values)

    def masked_scatter(self, mask: Tensor, source: Tensor) -> Tensor:
        """self (broadcast with ``mask``) with its places where mask is True filled, in
        order, by source's first elements."""
        mask, source = _operands("masked_scatter", mask=mask, source=source)
        if mask._array.dtype != np.bool_:
            raise DTypeError(f"masked_scatter_ only supports boolean masks, but got mask with "
                             f"dtype {mask.dtype.name}")
        if source._array.dtype != self._array.dtype:
            raise DTypeError(f"masked_scatter: expected self and source to have same dtypes but "
                             f"got {self.dtype.name} and {source.dtype.name}")
        try:
            shape = np.broadcast_shapes(self.shape, mask.shape)
        except ValueError:
            raise OpError(f"masked_scatter: shapes {self.shape} and {mask.shape} cannot be "
                          "broadcast together") from None
        m = np.broadcast_to(mask._array, shape).reshape(-1)
        k = int(np.count_nonzero(m))
        if source.numel() < k:
            raise OpError(f"masked_scatter: Number of elements of source ({source.numel()}) < "
                          f"number of ones in mask ({k})")
        x = self.expand(shape)
        if not k:
            return x.clone()
        order = np.where(m, np.cumsum(m) - 1, 0)  # source's element for each place
        picked = source.reshape(-1)[wrap_array(order)].reshape(shape)
        return where(wrap_array(m.reshape(shape)), picked, x)

    def masked_scatter_(self, mask: Tensor, source: Tensor) -> Tensor:
        """In-place ``masked_scatter`` (torch.Tensor.masked_scatter_): the result is written into
        self, which is returned."""
        return _inplace(self, "masked_scatter_", lambda t, s: t.masked_scatter(mask, s), source)

    def __setitem__(self, index: Any, value: Any) -> None:
        """``t[index] = value`` in place, indexed as ``t[index]`` reads (``_index_plan``);
        value (a number, or a Tensor broadcast to the indexed shape) is cast to t's dtype.
        Recorded for autograd as a write of the region (``ops.CopySlices``): value's gradient is
        the upstream gradient there, the earlier t's is zero there."""
        basic, advanced = _index_plan(self.shape, index)
        value = _setitem_value(self, index, value, advanced is not None)
        _own_scalar(self)
        region = self._array[basic]
        _check_overlap(region, (value,), "__setitem__")
        _check_writable(region, "__setitem__")
        if not _records(self, (value,)):
            try:
                region[... if advanced is None else advanced] = value._array
            except ValueError:
                raise _value_shape_error(value, (region if advanced is None
                                                 else region[advanced]).shape) from None
            _bump(self)
            return
        _check_rebase(self, "__setitem__")
        base = _base_of(self)
        whole = all(isinstance(b, slice) and b.indices(n) == (0, n, 1)
                    for b, n in zip(basic[:-1], self.shape))
        if base is self and whole and advanced is None:  # t[:] = v is t.copy_(v), as torch
            _rebase(self, apply_op(ops.Overwrite, _remember(self),
                                   _fit_value(value, self.shape)))
            return
        places = (np.arange(base.numel()).reshape(base.shape) if base is self
                  else _positions(self._array, base._array))[basic]
        if advanced is not None:
            places = places[advanced]
        op = ops.IndexPut if base is self and whole else ops.CopySlices
        _rebase(base, apply_op(op, _remember(base), _fit_value(value, places.shape),
                               positions=places))

    # ---- in-place ops (torch's rules: see _inplace) ------------------------------------------
    def add_(self, other: Any, alpha: float = 1) -> Tensor:
        """In-place self += alpha * other (torch.Tensor.add_); returns self."""
        return _inplace(self, "add_", lambda t, o: t + (o if alpha == 1 else o * alpha), other)

    def sub_(self, other: Any, alpha: float = 1) -> Tensor:
        """In-place self -= alpha * other (torch.Tensor.sub_); returns self."""
        return _inplace(self, "sub_", lambda t, o: t - (o if alpha == 1 else o * alpha), other)

    def mul_(self, other: Any) -> Tensor:
        """In-place self *= other (torch.Tensor.mul_); returns self."""
        return _inplace(self, "mul_", Tensor.__mul__, other)

    def div_(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        """In-place self /= other, or rounded with ``rounding_mode`` (torch.Tensor.div_); an
        integer tensor cannot take a float quotient, as torch."""
        return _inplace(self, "div_", lambda t, o: t.div(o, rounding_mode=rounding_mode), other)

    def pow_(self, exponent: Any) -> Tensor:
        """In-place self **= exponent (torch.Tensor.pow_); returns self."""
        return _inplace(self, "pow_", Tensor.__pow__, exponent)

    __iadd__, __isub__, __imul__, __itruediv__, __ipow__ = add_, sub_, mul_, div_, pow_

    def neg_(self) -> Tensor:
        """In-place ``neg`` (torch.Tensor.neg_): the result is written into self, which is
        returned."""
        return _inplace(self, "neg_", Tensor.__neg__)

    def exp_(self) -> Tensor:
        """In-place ``exp`` (torch.Tensor.exp_): the result is written into self, which is
        returned."""
        return _inplace(self, "exp_", Tensor.exp)

    def log_(self) -> Tensor:
        """In-place ``log`` (torch.Tensor.log_): the result is written into self, which is
        returned."""
        return _inplace(self, "log_", Tensor.log)

    def sqrt_(self) -> Tensor:
        """In-place ``sqrt`` (torch.Tensor.sqrt_): the result is written into self, which is
        returned."""
        return _inplace(self, "sqrt_", Tensor.sqrt)

    def abs_(self) -> Tensor:
        """In-place ``abs`` (torch.Tensor.abs_): the result is written into self, which is
        returned."""
        return _inplace(self, "abs_", Tensor.abs)

    def relu_(self) -> Tensor:
        """In-place ``relu`` (torch.Tensor.relu_): the result is written into self, which is
        returned."""
        return _inplace(self, "relu_", Tensor.relu)

    def sigmoid_(self) -> Tensor:
        """In-place ``sigmoid`` (torch.Tensor.sigmoid_): the result is written into self, which is
        returned."""
        return _inplace(self, "sigmoid_", Tensor.sigmoid)

    def tanh_(self) -> Tensor:
        """In-place ``tanh`` (torch.Tensor.tanh_): the result is written into self, which is
        returned."""
        return _inplace(self, "tanh_", Tensor.tanh)

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        """In-place ``clamp`` into [min, max] (``clip_``); returns self."""
        _check_bounds(min, max, "clamp_")
        return _inplace(self, "clamp_", lambda t: t.clamp(min, max))

    clip_ = clamp_

    def zero_(self) -> Tensor:
        """Every element set to 0, in place; returns self."""
        return _inplace(self, "zero_", lambda t: wrap_array(np.zeros_like(t._array)))

    def fill_(self, value: Any) -> Tensor:
        """Every element set to ``value`` (a number, or a one-element Tensor)."""
        return _inplace(self, "fill_", lambda t, v: (
            v.reshape(()) if isinstance(v, Tensor) else lift_constant(v, t)), value)

    def copy_(self, src: Any) -> Tensor:
        """src's values (broadcast, cast to self's dtype) into self; gradients flow to src."""
        def copy(t: Tensor, s: Any) -> Tensor:
            s = s if isinstance(s, Tensor) else wrap_array(as_array(s, None, copy=False))
            s = apply_op(ops.Cast, s, dtype=t._array.dtype)  # a copy: s may be in t's memory
            return apply_op(ops.Overwrite, t, _check_result(t, s, "copy_"))
        return _inplace(self, "copy_", copy, src)

    def masked_fill_(self, mask: Any, value: Any) -> Tensor:
        """In-place ``masked_fill`` (torch.Tensor.masked_fill_): the result is written into self,
        which is returned."""
        return _inplace(self, "masked_fill_", lambda t, v: t.masked_fill(mask, v), value)

    def index_fill(self, dim: int, index: Any, value: Any) -> Tensor:
        """``value`` in the slices ``index`` along ``dim``."""
        d = dim_index(dim, self.ndim, "index_fill")
        mask = np.zeros(self.shape, np.bool_)
        mask[(slice(None),) * d + (_index(index),)] = True
        return self.masked_fill(mask, value)

    def index_fill_(self, dim: int, index: Any, value: Any) -> Tensor:
        """In-place ``index_fill`` (torch.Tensor.index_fill_): the result is written into self,
        which is returned."""
        return _inplace(self, "index_fill_", lambda t, v: t.index_fill(dim, index, v), value)

    # in-place random fillers: drawn from core/random.py's generator (mg.manual_seed repeats
    # them); the result needs no gradient, as in torch
    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
        """Filled in place with draws uniform on [a, b) (floating point only); seeded by
        ``micrograd.manual_seed``."""
        _continuous(self, "uniform_", NotImplementedError)
        return _fill_random(self, "uniform_", lambda g, n: g.uniform(a, b, n))

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        """Filled in place with normal draws of mean ``mean`` and standard deviation ``std``
        (floating point only)."""
        _continuous(self, "normal_", NotImplementedError)
        return _fill_random(self, "normal_", lambda g, n: g.normal(mean, std, n))

    def bernoulli(self, p: Any = None) -> Tensor:
        """0 or 1 (self's dtype), 1 with probability self (the gradient to self is zero,
        as torch), or with probability ``p`` (a number; as torch, no derivative then)."""
        if p is not None:  # self gives only the shape and dtype
            drawn = wrap_array(np.empty_like(self._array)).bernoulli_(p)
            return _not_differentiable(drawn._array, (self,), "bernoulli")
        if self._array.dtype.kind != "f":
            raise NotImplementedError(f"bernoulli: not implemented for {self.dtype.name} "
                                      "(probabilities must be floating point)")
        probs = self._array
        if probs.size and not np.all((probs >= 0) & (probs <= 1)):
            raise RuntimeError("bernoulli: expected all probabilities p_in to be in [0, 1]")
        drawn = wrap_array((generator().random(self.shape) < probs).astype(probs.dtype))
        return _sample_of(drawn, self)

    def multinomial(self, num_samples: int, replacement: bool = False) -> Tensor:
        """Category indices drawn from the rows of self (non-negative weights, 1-D or 2-D):
        with replacement independently; without, each category at most once, by torch's
        method (the largest weight / Exp(1) keys, so zero weights come last)."""
        if self.ndim not in (1, 2):
            raise OpError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {self.shape}")
        if self._array.dtype.kind != "f":
            raise OpError(f"multinomial only supports floating-point dtypes for input, got: "
                          f"{self.dtype.name}")
        k, n = shape_args((num_samples,), "multinomial")[0], self.shape[-1]
        if k <= 0:
            raise OpError(f"multinomial: cannot sample n_sample <= 0 samples (got {k})")
        if not replacement and k > n:
            raise OpError(f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples "
                          f"without replacement ({k} > {n})")
        p = self._array.astype(np.float64).reshape(-1, n)
        if not np.all(np.isfinite(p)) or np.any(p < 0):
            raise OpError("multinomial: probability tensor contains either `inf`, `nan` or "
                          "element < 0")
        if np.any(p.sum(axis=1) <= 0):
            raise OpError("multinomial: invalid multinomial distribution (sum of "
                          "probabilities <= 0)")
        g = generator()
        if replacement:
            cdf = np.cumsum(p, axis=1)
            u = g.random((p.shape[0], k)) * cdf[:, -1:]
            picked = np.stack([np.searchsorted(c, r, side="right") for c, r in zip(cdf, u)])
        else:
            keys = p / g.exponential(size=p.shape)
            picked = np.argsort(-keys, axis=1, kind="stable")[:, :k]
        return wrap_array(picked.astype(np.int64).reshape(self.shape[:-1] + (k,)))

    def bernoulli_(self, p: Any = 0.5) -> Tensor:
        """Each element 1 with probability ``p`` (a number, or a tensor broadcast to self),
        else 0."""
        probs = np.asarray(p._array if isinstance(p, Tensor) else p, np.float64)
        if not isinstance(p, Tensor) and not 0 <= float(probs) <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        if probs.size and not np.all((probs >= 0) & (probs <= 1)):
            raise RuntimeError("bernoulli_: expected all probabilities p to be in [0, 1]")
        try:
            probs = np.broadcast_to(probs, self.shape)
        except ValueError:
            raise OpError(f"bernoulli_: p of shape {probs.shape} cannot be broadcast to self's "
                          f"shape {self.shape}") from None
        return _fill_random(self, "bernoulli_", lambda g, n: g.random(n) < probs)

    def random_(self, from_: int | None = None, to: int | None = None,
                **kwargs: Any) -> Tensor:
        """Integers uniform on [from, to - 1]; ``random_(to)`` draws from [0, to - 1] and
        ``random_()`` from [0, the largest integer the dtype holds exactly]."""
        if "from" in kwargs:  # torch's keyword, a Python keyword here
            from_ = kwargs.pop("from")
        elif from_ is not None and to is None:
            from_, to = 0, from_  # random_(to)
        if kwargs:
            raise TypeError(f"random_() got an unexpected keyword argument "
                            f"{next(iter(kwargs))!r}")
        from_ = 0 if from_ is None else from_
        lo, hi = _random_bounds(self._array.dtype)
        if to is None:
            to = hi + 1
        if from_ >= to:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                               f"from={from_} >= to={to}")
        if from_ < lo or to - 1 > hi:
            raise RuntimeError(f"random_: [{from_}, {to - 1}] is out of bounds for "
                               f"{self.dtype.name}")
        return _fill_random(self, "random_", lambda g, n: g.integers(from_, to, n))

    def exponential_(self, lambd: float = 1.0) -> Tensor:
        """Exponential with rate ``lambd``: density lambd exp(-lambd x)."""
        _continuous(self, "exponential_", RuntimeError)
        if not lambd > 0:
            raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
        return _fill_random(self, "exponential_", lambda g, n: g.exponential(1.0 / lambd, n))

    def geometric_(self, p: float) -> Tensor:
        """The number of Bernoulli(p) trials up to the first success (1, 2, ...)."""
        if not 0 < p < 1:
            raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
        return _fill_random(self, "geometric_", lambda g, n: g.geometric(p, n))

    def log_normal_(self, mean: float = 1.0, std: float = 2.0) -> Tensor:
        """exp of a normal(mean, std) draw."""
        _continuous(self, "log_normal_", NotImplementedError)
        if not std > 0:
            raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
        return _fill_random(self, "log_normal_", lambda g, n: g.lognormal(mean, std, n))

    def cauchy_(self, median: float = 0.0, sigma: float = 1.0) -> Tensor:
        """Cauchy with location ``median`` and scale ``sigma``."""
        _continuous(self, "cauchy_", RuntimeError)
        if not sigma > 0:
            raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
        return _fill_random(self, "cauchy_",
                            lambda g, n: median + sigma * g.standard_cauchy(n))

    def apply_(self, callable: Callable) -> Tensor:  # noqa: A002 - torch's name
        """Each element replaced by ``callable(element)`` (a Python loop: slow, as in
        torch); not on tensors that require grad."""
        if self.requires_grad:
            raise RuntimeError("Can't call apply_() on Variable that requires grad. Use "
                               "var.detach().apply_() instead.")
        values = [callable(v) for v in self._array.reshape(-1).tolist()]
        return _inplace(self, "apply_", lambda t: wrap_array(
            np.array(values, dtype=object).astype(t._array.dtype).reshape(t.shape)))

    def map_(self, tensor: Tensor, callable: Callable) -> Tensor:  # noqa: A002
        """Each element replaced by ``callable(element, other's element)``, ``tensor``
        broadcast to self (of self's dtype); not on tensors that require grad."""
        (other,) = _operands("map_", tensor=tensor)
        if self.requires_grad or other.requires_grad:
            raise RuntimeError("Can't call map_() on Variable that requires grad. Use "
                               "var.detach().map_() instead.")
        if other._array.dtype != self._array.dtype:
            raise TypeError(f"map_: expected {self.dtype.name} for 'tensor' (got "
                            f"{other.dtype.name})")
        try:
            pairs = zip(self._array.reshape(-1).tolist(),
                        np.broadcast_to(other._array, self.shape).reshape(-1).tolist())
        except ValueError:
            raise OpError(f"map_: tensor of shape {other.shape} cannot be broadcast to self's "
                          f"shape {self.shape}") from None
        values = [callable(a, b) for a, b in pairs]
        return _inplace(self, "map_", lambda t: wrap_array(
            np.array(values, dtype=object).astype(t._array.dtype).reshape(t.shape)))

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set requires_grad in place (floating dtypes only, and only on leaves: a non-leaf's
        flag follows its inputs, as torch); returns self."""
        if self._ctx is not None and not requires_grad:
            raise RuntimeError("requires_grad_: you can only change requires_grad flags of leaf "
                               "variables. If you want to use a computed variable in a "
                               "subgraph that doesn't require differentiation use "
                               "var_no_grad = var.detach()")
        if requires_grad and self._array.dtype.kind != "f":
            raise TypeError(f"only floating point tensors can require gradients, got dtype "
                            f"{self.dtype.name}")
        self.requires_grad = bool(requires_grad)
        return self


def _inplace_method(name: str) -> Callable:
    """``Tensor.<name>_``: the out-of-place ``Tensor.<name>`` written into self (``_inplace``);
    Tensor arguments are passed on as operands, so gradients reach them."""
    method = getattr(Tensor, name)

    def inplace(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return _inplace(self, name + "_", lambda t, *a: method(t, *a, **kwargs), *args)
    inplace.__name__ = inplace.__qualname__ = name + "_"
    inplace.__doc__ = (f"``x.{name}_(...)``: in-place ``x.{name}(...)`` (torch.Tensor.{name}_), "
                       f"written into x's storage; returns x.\n\n"
                       f"{name}: {inspect.cleandoc(method.__doc__ or '')}")
    return inplace


for _name in ("sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh",
              "atanh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "exp2",
              "expm1", "log2", "log10", "log1p", "erf", "erfc", "erfinv", "floor", "ceil", "round",
              "trunc", "fix", "frac", "sign", "sgn", "reciprocal", "rsqrt", "square", "atan2",
              "arctan2", "hypot", "copysign", "fmod", "remainder", "lerp", "clamp_min",
              "clamp_max", "nan_to_num", "divide", "multiply", "subtract", "true_divide",
              "negative", "floor_divide", "eq", "ne", "lt", "le", "gt", "ge",
              "bitwise_left_shift", "bitwise_right_shift", "greater", "less", "greater_equal",
              "less_equal", "not_equal", "logical_and", "logical_or", "logical_xor",
              "logical_not", "addcmul", "addcdiv", "heaviside", "xlogy", "absolute"):
    setattr(Tensor, _name + "_", _inplace_method(_name))
del _name


# ---- the backward loop ------------------------------------------------------------------------
def _seed(t: Tensor, gradient: Any, name: str) -> tuple:
    """The starting gradient for ``t`` (ones for one element) and the set of caller-owned
    arrays (copied before a ``.grad`` keeps them)."""
    if gradient is None:
        if t._array.size != 1:
            raise RuntimeError(f"{name}: grad can be implicitly created only for scalar "
                               f"outputs; this tensor has shape {t.shape}. Pass "
                               f"gradient= (a tensor of that shape)")
        return np.ones(t._array.shape, t._array.dtype), set()
    g = gradient._array if isinstance(gradient, Tensor) else np.asarray(gradient)
    if g.shape != t._array.shape:
        raise OpError(f"{name}: gradient has shape {g.shape} but the tensor has "
                         f"shape {t.shape}")
    g = g.astype(t._array.dtype, copy=False)
    return g, {id(g)}


def _run_backward(root: Any, grads: dict, owned: set, retain_graph: bool,
                  hook: Callable | None, capture: dict | None) -> None:
    """The one backward loop: ``grads`` holds the starting gradients, ``root`` reaches every
    node. Gradients are added into ``.grad`` (leaves, retained non-leaves), or, when ``capture``
    is a dict, stored there for its keys instead (``autograd.grad``: no ``.grad`` touched).
    The ops run in reverse topological order; the leaves, which only receive, are not part of
    the walk: each is done once every op has run, with the sum of what it received. What an
    op returns is checked (one gradient per input, each of its input's shape) for ops written
    outside micrograd (``Function.trusted``) and under anomaly mode."""
    be, check_anomaly = _settings.backend, _settings.anomaly  # fixed for this backward
    add = be.add
    pop = grads.pop
    for node in reversed(_walk(root)):
        g = pop(node, None)
        if g is None:
            continue
        if node._hooks is not None:
            g = node._run_hooks(g)
        if capture is not None:
            if node in capture:
                capture[node] = g
        elif node._retain:
            node._accumulate(g, owned, be)
        ctx = node._ctx
        if ctx.freed:
            _raise_freed(ctx)
        prev = node._prev
        saved = ctx.saves_inputs
        if saved != () or ctx.saves_output:
            _check_saved(ctx, node, prev, saved)
        in_grads = ctx.backward(g)
        if check_anomaly or not ctx.trusted:
            _check_grads(ctx, g, in_grads, prev, check_anomaly)
        for parent, pg in zip(prev, in_grads):
            if pg is not None and parent.requires_grad:
                grads[parent] = add(grads[parent], pg) if parent in grads else pg
        if hook is not None:
            hook(node, g, in_grads, grads)
        if not retain_graph:  # free the step: saved arrays, and the links to the inputs (so
            ctx.__dict__.clear()  # a loss kept for logging holds no activation alive)
            ctx.freed = True
            node._prev = ()
    for node, g in grads.items():  # what is left went to leaves (or to freed ops: an error)
        if node._ctx is not None:
            _raise_freed(node._ctx)
        if node._hooks is not None:
            g = node._run_hooks(g)
        if capture is None:
            node._accumulate(g, owned, be)
        elif node in capture:
            capture[node] = g


def _raise_freed(ctx: ops.Function) -> None:
    raise RuntimeError(
        f"backward: trying to backward through the graph a second time ({ctx.name()}'s saved "
        f"arrays were freed by the first backward). Pass retain_graph=True to the first "
        f"backward() if you need to call it twice")


def _check_grads(ctx: ops.Function, g: np.ndarray, in_grads: tuple, prev: tuple,
                 anomaly_mode: bool) -> None:
    """Anomaly mode's checks of one step, and that an op returned one gradient per input, each
    of its input's shape where the input needs one (an op's bug or a custom Function's, named
    here rather than as a broadcasting error later)."""
    if len(in_grads) != len(prev):
        raise RuntimeError(f"{ctx.name()} returned {len(in_grads)} gradients for "
                           f"{len(prev)} inputs")
    if anomaly_mode:
        anomaly.check_backward(ctx, g, in_grads, prev)
    for parent, pg in zip(prev, in_grads):
        if pg is not None and parent.requires_grad and pg.shape != parent._array.shape:
            raise RuntimeError(f"{ctx.name()} returned a gradient of shape {pg.shape} "
                               f"for an input of shape {parent._array.shape}")


def _check_saved(ctx: ops.Function, node: Tensor, prev: tuple, saved: tuple | None) -> None:
    """PyTorch's rule: backward raises if a tensor the op saved (``saved``: the indices of
    the inputs, None for all) was changed in place since."""
    versions = ctx.versions
    for i in range(len(prev)) if saved is None else saved:
        vc = prev[i]._vc
        if vc is not None and vc.n != (versions[i] if versions else 0):
            _raise_modified(ctx, prev[i], vc.n, versions[i] if versions else 0, f"input {i}")
    if ctx.saves_output:
        vc = node._vc
        if vc is not None and vc.n != ctx.out_version:
            _raise_modified(ctx, node, vc.n, ctx.out_version, "output 0")


def _raise_modified(ctx: ops.Function, t: Tensor, now: int, expected: int, which: str) -> None:
    raise RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{t.dtype.name} {list(t.shape)}], which is {which} of {ctx.name()}, is at "
        f"version {now}; expected version {expected} instead. Hint: use an out-of-place op "
        f"(x = x + 1 instead of x += 1) or .clone() the tensor before changing it")


def _walk(root: Any) -> list:
    """The ops reachable from ``root`` (the nodes with inputs), each after its inputs, root
    last (unless it is a leaf), in the graph as its ops used it: an input changed in place
    since an op used it stands for its state then (``_reroute``), not for the tensor's current
    node."""
    order = _ops_from(root)
    while _REBOUND and _reroute(order):
        order = _ops_from(root)  # the earlier states may lead further back
    return order


def _ops_from(root: Any) -> list:
    """The nodes with inputs reachable from ``root`` in the order their ops ran (``seq``, the
    op's place in creation order: an op runs after the ops of its inputs, so this is a
    topological order), then root if it has inputs. Cheaper than a depth-first toposort: the
    walk only collects, and the sort runs in C."""
    nodes = []
    seen = {root}
    stack = [root]
    while stack:
        for p in stack.pop()._prev:
            if p._prev and p not in seen:
                seen.add(p)
                nodes.append(p)
                stack.append(p)
    nodes.sort(key=_OP_SEQ)
    if root._prev:  # a leaf root (or a freed op) is left to backward's leaf step
        nodes.append(root)
    return nodes


_OP_SEQ = operator.attrgetter("_ctx.seq")
#: numbers the recorded ops in the order they are created (wrap_array); next() is atomic
_next_seq = itertools.count(1).__next__


def _reroute(nodes: list) -> bool:
    """Point each op's inputs that changed in place after the op used them at the node of the
    state it saw (``_remember``). The routing is fixed once made, so it is written into the
    graph; returns whether anything changed."""
    changed = False
    for node in nodes:
        ctx, prev = node._ctx, node._prev
        if ctx is None or not any(id(p) in _REBOUND for p in prev):
            continue
        seen = tuple(_state_seen(p, ctx, i) if id(p) in _REBOUND else p
                     for i, p in enumerate(prev))
        if any(a is not b for a, b in zip(seen, prev)):
            node._prev, changed = seen, True
    return changed


def _state_seen(t: Tensor, ctx: ops.Function, i: int) -> Tensor:
    """The graph node that stood for ``t`` when ``ctx`` recorded it (as its input ``i``):
    ``t`` itself, or the state it had before a later in-place change (``_REBOUND``)."""
    seen = 0 if ctx.versions is None else ctx.versions[i]
    for version, old in _REBOUND[id(t)]:
        if seen <= version:
            return old
    return t


class _Roots:
    """A node whose inputs are several outputs: one walk covers them all."""

    __slots__ = ("_prev",)
    _ctx = None

    def __init__(self, outputs: tuple) -> None:
        self._prev = outputs


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple:
    """torch.autograd.grad: the gradients of ``outputs`` with respect to ``inputs``, returned
    as a tuple (``.grad`` is left alone). ``grad_outputs`` are the cotangents (required for
    outputs of more than one element); an input the outputs do not depend on is an error
    unless ``allow_unused`` (its gradient is then None)."""
    if create_graph:
        raise NotImplementedError("autograd.grad: create_graph=True (higher-order gradients) "
                                  "is not supported: backward computes arrays, not a graph")
    outs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    ins = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        gos = (grad_outputs,) * len(outs) if len(outs) == 1 or grad_outputs is None else None
    else:
        gos = tuple(grad_outputs)
    if gos is None or len(gos) != len(outs):
        raise RuntimeError(f"autograd.grad: got {len(outs)} outputs and "
                           f"{1 if gos is None else len(gos)} grad_outputs")
    for t in outs + ins:
        if not isinstance(t, Tensor):
            raise TypeError(f"autograd.grad: expected Tensors, got {type(t).__name__}")
    for i, t in enumerate(ins):
        if not t.requires_grad:
            raise RuntimeError(f"autograd.grad: input {i} does not require grad")
    grads: dict = {}
    owned: set = set()
    for t, go in zip(outs, gos):
        if not t.requires_grad:
            raise RuntimeError("autograd.grad: element 0 of tensors does not require grad and "
                               "does not have a grad_fn")
        g, own = _seed(t, go, "autograd.grad")
        owned |= own
        grads[t] = g if t not in grads else _settings.backend.add(grads[t], g)
    capture = dict.fromkeys(ins)
    _run_backward(_Roots(outs), grads, owned, bool(retain_graph), None, capture)
    result = []
    for i, t in enumerate(ins):
        g = capture[t]
        if g is None and not allow_unused:
            raise RuntimeError(f"autograd.grad: one of the differentiated Tensors (input {i}) "
                               "appears to not have been used in the graph. Set "
                               "allow_unused=True if this is the desired behavior")
        result.append(None if g is None else wrap_array(np.array(g, t._array.dtype)))
    return tuple(result)


class RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` unregisters the hook."""

    def __init__(self, hooks: list, hook: Callable) -> None:
        self.hooks, self.hook = hooks, hook

    def remove(self) -> None:
        """Unregister the hook (a second call does nothing)."""
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


# ---- versions, views and in-place updates -----------------------------------------------------
class Version:
    """The record of one storage, shared by a tensor, its views and its ``detach()`` aliases.
    ``n`` counts in-place changes: ops record it when they save a tensor, and backward compares
    (``_check_saved``). ``views`` holds weak references to the views autograd tracks, which a
    recorded in-place change of their base re-links to the base's new state (``_rebase``)."""

    __slots__ = ("n", "views")

    def __init__(self) -> None:
        self.n = 0
        self.views: list | None = None

    def add_view(self, view: Tensor) -> None:
        """Remember ``view`` (weakly) as sharing this counter's storage, so an in-place change
        can rebase it."""
        views = self.views
        if views is None:
            self.views = views = []
        elif len(views) >= 16 and not len(views) & (len(views) - 1):
            views[:] = [r for r in views if r() is not None]  # at 16, 32, 64, ...: drop the dead
        views.append(weakref.ref(view))


def _share_version(src: Tensor, view: Tensor, register: bool = True) -> Tensor:
    """``view`` sees ``src``'s storage: one version counter for both. ``register``: a view that
    autograd tracks (torch's differentiable view): it records its base (the tensor owning the
    storage, ``_base``) and joins the storage's live views. Not for ``detach()`` aliases, nor
    for views that only an op consumes (the broadcasts of binary ops)."""
    vc = src._vc
    if vc is None:
        vc = src._vc = Version()
    view._vc = vc
    if register:
        view._base = src if src._base is None else src._base
        view._view_meta = src._view_meta or (None if _settings.grad_enabled else _NO_GRAD_VIEW)
        vc.add_view(view)
    return view


_NO_GRAD_VIEW = "no_grad"


def _multiple_views(views: list, name: str) -> tuple:
    """The outputs of a function returning several views (split, unbind): torch forbids
    changing them in place while a graph is recorded."""
    for i, v in enumerate(views):
        if v._base is not None:
            v._view_meta = f"Output {i} of {name}"
    return tuple(views)


def _bump(t: Tensor) -> None:
    vc = t._vc
    if vc is None:
        vc = t._vc = Version()
    vc.n += 1


def _base_of(t: Tensor) -> Tensor:
    """The tensor whose storage t sees: its base for a view, else t itself (also when the base's
    storage was since replaced, through ``.data =`` or ``out=``)."""
    base = t._base
    if base is None or not np.may_share_memory(t._array, base._array):
        return t
    return base


def _positions(view: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Where each entry of ``view`` (a NumPy view into ``base``'s memory) sits in ``base``, as
    flat C-order indices in view's shape. Found from the entries' memory addresses, so it holds
    for any view: slices, reshapes, transposes, diagonals, expands."""
    origin = base.__array_interface__["data"][0]

    def offsets(a: np.ndarray) -> np.ndarray:  # each entry's byte offset from base's first
        off = np.array(a.__array_interface__["data"][0] - origin, np.int64)
        for axis, (n, stride) in enumerate(zip(a.shape, a.strides)):
            off = off + (np.arange(n, dtype=np.int64) * stride).reshape(
                (n,) + (1,) * (a.ndim - axis - 1))
        return off
    if base.flags.c_contiguous:
        return offsets(view) // base.itemsize
    at = offsets(base).reshape(-1)
    order = np.argsort(at, kind="stable")
    return order[np.searchsorted(at, offsets(view), sorter=order)]


# id of a tensor changed by a recorded in-place op -> [(version before, node of the state then),
# ...]; the entry goes with the tensor (ids, since Tensor's == is elementwise)
_REBOUND: dict = {}


def _remember(t: Tensor) -> Tensor:
    """A graph node for t's current state, kept for the ops that used t so far: after an
    in-place change their gradients go there (``_state_seen``). One node per state."""
    if t._vc is None:
        t._vc = Version()
    version = t._vc.n
    states = _REBOUND.get(id(t))
    if states is None:
        states = _REBOUND[id(t)] = []
        weakref.finalize(t, _REBOUND.pop, id(t), None)
    elif states[-1][0] == version and states[-1][1]._ctx is t._ctx:
        return states[-1][1]
    old = wrap_array(t._array)  # t's node as it is (its op keeps its place in the order)
    old._prev, old._ctx, old.requires_grad, old._vc = t._prev, t._ctx, t.requires_grad, t._vc
    states.append((version, old))
    return old


def _records(t: Tensor, operands: tuple) -> bool:
    """Whether an in-place change of t is recorded for autograd (torch's rule): grad mode on,
    and t, its base or an operand requires grad."""
    return _settings.grad_enabled and (
        t.requires_grad or any(isinstance(o, Tensor) and o.requires_grad for o in operands)
        or t._base is not None and t._base.requires_grad)


def _inplace(self: Tensor, name: str, op: Callable, *others: Any) -> Tensor:
    """Write ``op(self, *others)`` (an out-of-place computation) into self's storage: the
    in-place op ``name`` with PyTorch's rules. Self keeps its identity, ``.grad`` and
    ``requires_grad``; its version goes up. When recorded (``_records``), the result becomes
    self's graph node, or, for a view, its base's new node is the old base with the view's
    region replaced (``ops.CopySlices``), as torch; ops that used self or its base before keep
    sending their gradients to the earlier state (``_rebase``)."""
    _own_scalar(self)
    _check_writable(self._array, name)
    _check_overlap(self._array, others, name)
    if not _records(self, others):
        _write(self, op(self, *others), name)
        return self
    _check_rebase(self, name)
    old = _remember(self)
    src = apply_op(ops.Cast, old, dtype=old._array.dtype)  # a copy: the storage is overwritten
    out = _check_result(self, op(src, *others), name)
    if out._array.dtype != self._array.dtype:
        out = out.to(self._array.dtype)
    base = _base_of(self)
    if not out.requires_grad:  # a constant (zero_, fill_): self stays a node, as in torch
        out = apply_op(ops.Overwrite, src, out)
    if base is self:
        _rebase(self, out)
    else:
        _rebase(base, apply_op(ops.CopySlices, _remember(base), out,
                               positions=_positions(self._array, base._array)))
        if out._ctx is not None and out._ctx.saves_output and out._vc is None:
            # the op saved the view's new values (exp_, sigmoid_, ...): as torch, a later
            # change of the storage makes its backward refuse
            out._vc, out._ctx.out_version = base._vc, base._vc.n
    return self


def _inplace_view(self: Tensor, name: str, view: Callable) -> Tensor:
    """torch's in-place view ops (squeeze_, unsqueeze_, transpose_, t_): self becomes
    ``view(self)``, a new shape over the same storage; the version goes up, as torch's. While
    recorded (self requires grad, grad mode on) self's node becomes that view op, so a leaf
    that requires grad refuses as for any in-place op, and ops that used self before keep its
    earlier shape (``_remember``)."""
    _own_scalar(self)
    if _settings.grad_enabled and self.requires_grad:
        _check_rebase(self, name)
        out = view(_remember(self))
        self._ctx, self._prev = out._ctx, out._prev
    else:
        out = view(wrap_array(self._array))
    self._array = out._array
    _bump(self)
    return self


def _rebase(t: Tensor, node: Tensor) -> None:
    """``node`` (t's shape and dtype) becomes t's new state: its values go into the storage,
    its history becomes t's, the version goes up, the ops that used t before keep its earlier
    state (``_remember``), and every live view of t becomes a view of the new state (torch
    regenerates a view's grad_fn the same way, as an AsStridedBackward of its base)."""
    vc = t._vc
    views = [v for v in (ref() for ref in vc.views or ()) if v is not None and v._base is t
             and _base_of(v) is not v]
    for u in [t, *views]:
        _remember(u)
    t._array[...] = node._array
    vc.n += 1
    ctx = node._ctx
    if ctx is not None and node.requires_grad:
        ctx.out_version = vc.n
        t._ctx, t._prev, t.requires_grad = ctx, node._prev, True
    else:  # nothing in it needs a gradient
        t._ctx, t._prev, t.requires_grad = None, (), False
    for v in views:
        if v._view_meta is not None:  # torch raises when such a view is used afterwards
            node = apply_op(ops.ForbiddenView, t, message=_view_error(v, None))
        elif t.requires_grad:
            node = apply_op(ops.AsStrided, t, positions=_positions(v._array, t._array))
        else:
            node = wrap_array(v._array)
        v._ctx, v._prev, v.requires_grad = node._ctx, node._prev, node.requires_grad


def _check_rebase(t: Tensor, name: str) -> None:
    """torch's refusals of a recorded in-place change of t: a leaf that requires grad (or a
    view of one), a view made under no_grad or returned with others (split, unbind)."""
    base = _base_of(t)
    if base is t and t._ctx is None and t.requires_grad:
        raise RuntimeError(f"{name}: a leaf Variable that requires grad is being used in an "
                           "in-place operation (do it under `with torch.no_grad():`, or on "
                           ".data / .detach())")
    if base is not t:
        if t._view_meta is not None:
            raise RuntimeError(f"{name}: {_view_error(t, name)}")
        if base._ctx is None and base.requires_grad:
            raise RuntimeError(f"{name}: a view of a leaf Variable that requires grad is being "
                               "used in an in-place operation (do it under `with "
                               "torch.no_grad():`, or on .data / .detach())")


def _view_error(t: Tensor, name: str | None) -> str:
    """torch's message for a view it forbids to change in place (``name``: the in-place op), or
    to use after its base changed (``name`` None)."""
    what = ("is being modified inplace" if name is not None else
            "its base or another view of its base has been modified inplace")
    if t._view_meta == _NO_GRAD_VIEW:
        return (f"A view was created in no_grad mode and {what} with grad mode enabled. Given "
                "that this use case is ambiguous and error-prone, it is forbidden. You can "
                "clarify your code by moving both the view and the inplace either both inside "
                "the no_grad block (if you don't want the inplace to be tracked) or both "
                "outside (if you want the inplace to be tracked).")
    return (f"{t._view_meta} is a view and {what}. This view is the output of a function that "
            "returns multiple views. Such functions do not allow the output views to be "
            "modified inplace. You should replace the inplace operation by an out-of-place one.")


# in-place ops that read their value as one number (torch's .item()): it may be in self's memory
_READS_VALUE_ONCE = ("fill_", "masked_fill_", "index_fill_")


def _check_overlap(target: np.ndarray, operands: tuple, name: str) -> None:
    """torch refuses an in-place write whose input shares some, but not all, of the memory it
    writes (``y[1:].add_(y[:2])``): its result would depend on the order of the writes."""
    for o in operands:
        if not isinstance(o, Tensor) or o._array is target or (
                name in _READS_VALUE_ONCE and o._array.size == 1):
            continue
        a = o._array
        if np.may_share_memory(a, target) and np.shares_memory(a, target) and not (
                a.__array_interface__["data"][0] == target.__array_interface__["data"][0]
                and a.shape == target.shape and a.strides == target.strides):
            raise RuntimeError(f"{name}: unsupported operation: some elements of the input "
                               "tensor and the written-to tensor refer to a single memory "
                               "location. Please clone() the tensor before performing the "
                               "operation.")


def _own_scalar(t: Tensor) -> None:
    """A 0-d result of a NumPy ufunc is a NumPy scalar, which cannot be written in place: t's
    storage becomes a 0-d array holding it (nothing else can see into a scalar)."""
    if not isinstance(t._array, np.ndarray):
        t._array = np.array(t._array)


def _check_writable(target: np.ndarray, name: str) -> None:
    """The memory an in-place op writes: not an expanded region (several entries in one
    memory place), as torch. Expanded tensors and overlapping unfold windows are read-only
    NumPy views here, so writes torch does into them (a region without repeats; windows whose
    result depends on the order of the writes) are refused too (clone() first)."""
    if not target.flags.writeable:
        if any(s == 0 and n > 1 for s, n in zip(target.strides, target.shape)):
            raise RuntimeError(f"{name}: unsupported operation: more than one element of the "
                               "written-to tensor refers to a single memory location. Please "
                               "clone() the tensor before performing the operation.")
        raise RuntimeError(f"{name}: the tensor's memory is read-only here (a view of an "
                           "expanded tensor, overlapping unfold windows, or a read-only NumPy "
                           "array); clone() it first")


def _check_result(self: Tensor, out: Any, name: str) -> Tensor:
    """The result of an in-place op must fit self: its shape, and a dtype that casts to
    self's without changing kind (float into int is an error, as torch)."""
    if not isinstance(out, Tensor):
        out = lift_constant(out, self)
    if out.shape != self.shape:
        try:
            shape = np.broadcast_shapes(out.shape, self.shape)
        except ValueError:
            shape = out.shape
        if shape != self.shape:
            raise RuntimeError(f"{name}: output with shape {list(self.shape)} doesn't match "
                               f"the broadcast shape {list(shape)}")
        out = out.expand(self.shape)
    if out._array.dtype != self._array.dtype and not np.can_cast(
            out._array.dtype, self._array.dtype, "same_kind"):
        raise RuntimeError(f"{name}: result type {out.dtype.name} can't be cast to the desired "
                           f"output type {self.dtype.name}")
    return out


def _write(self: Tensor, out: Any, name: str) -> None:
    """Unrecorded in-place update: the checked result into self's storage, version + 1."""
    out = _check_result(self, out, name)
    _own_scalar(self)
    _check_writable(self._array, name)
    self._array[...] = out._array
    _bump(self)


def _fill_random(t: Tensor, name: str, draw: Callable) -> Tensor:
    """The in-place random filler ``name``: ``draw(generator, shape)`` cast into t."""
    return _inplace(t, name, lambda s: wrap_array(
        np.asarray(draw(generator(), s.shape)).astype(s._array.dtype)))


def _sample_of(drawn: Tensor, *params: Tensor) -> Tensor:
    """A random draw that depends on tensor parameters (bernoulli's probabilities, normal's
    mean and std, poisson's rates): in the graph with a zero gradient to each of them, as torch
    (``where`` sends nothing to the branch it never picks)."""
    out, picked = drawn, wrap_array(np.ones(drawn.shape, np.bool_))
    for p in params:
        if isinstance(p, Tensor) and p.requires_grad and _settings.grad_enabled:
            out = where(picked, out, p.to(drawn._array.dtype).expand(drawn.shape))
    return out


def _random_bounds(npd: np.dtype) -> tuple:
    """The integers random_() may draw for a dtype: [0, 1] for bool, the dtype's range for
    integers, [-2**digits, 2**digits] for floats (every integer there is exact)."""
    if npd.kind == "b":
        return 0, 1
    if npd.kind in "iu":
        info = np.iinfo(npd)
        return int(info.min), int(info.max)
    digits = np.finfo(npd).nmant + 1
    return -2 ** digits, 2 ** digits


def _continuous(t: Tensor, name: str, error: type) -> None:
    if t._array.dtype.kind != "f":
        raise error(f"{name}: a continuous distribution: the dtype must be floating point, "
                    f"got {t.dtype.name}")


def _copied(t: Tensor, order: str) -> Tensor:
    """A copy of t in the graph, in C order ("C") or laid out as t is ("K")."""
    if _settings.grad_enabled and t.requires_grad:
        out = apply_op(ops.Cast, t, dtype=t._array.dtype)  # a copy in t's layout
        if order == "C" and not out._array.flags.c_contiguous:
            out._array = np.ascontiguousarray(out._array)  # a fresh array nothing else sees
        return out
    return wrap_array(np.array(t._array, order=order, copy=True))


def _address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def _new_filled(t: Tensor, size: Any, fill: Any, dtype: Any, device: Any, requires_grad: bool,
                name: str) -> Tensor:
    """Tensor.new_*: ``size`` filled with ``fill`` (None: uninitialised), t's dtype unless
    ``dtype`` is given."""
    as_device(device)
    shape = shape_args(size if isinstance(size, tuple) else (size,), name)
    if any(n < 0 for n in shape):
        raise OpError(f"{name}: sizes must be non-negative, got {shape}")
    npd = t._array.dtype if dtype is None else dtypes.as_dtype(dtype).np
    out = wrap_array(np.empty(shape, npd) if fill is None else np.full(shape, fill, npd))
    return out.requires_grad_(True) if requires_grad else out


def _rebuild_tensor(cls: type, array: Any, requires_grad: bool, state: dict | None) -> Tensor:
    """A leaf of class ``cls`` around ``array`` (unpickling, deepcopy)."""
    t = wrap_array(np.asarray(array))
    if cls is not Tensor:
        new = _new(cls)
        for name in Tensor.__slots__:
            if name == "__weakref__":
                continue
            setattr(new, name, getattr(t, name))
        t = new
    t.requires_grad = bool(requires_grad)
    if state:
        t.__dict__.update(state)
    return t


# ---- building blocks ---------------------------------------------------------------------------
def wrap_array(data: np.ndarray, prev: tuple = (), ctx: ops.Function | None = None) -> Tensor:
    """A Tensor around ``data`` (not copied, not checked): outside any graph, or, when ``ctx``
    (the op that made it) is given, a graph node computed from ``prev``. The one place a Tensor
    is assembled from its fields (plain assignments: faster than unpacking a tuple)."""
    t = _new(Tensor)
    t._array = data
    t._grad = None
    if ctx is None:
        t.requires_grad = False
    else:
        t.requires_grad = True
        ctx.seq = _next_seq()  # its place in creation order, backward's order (_ops_from)
    t._prev = prev
    t._ctx = ctx
    t._retain = False
    t._vc = None
    t._hooks = None
    t._base = None
    t._view_meta = None
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
        if x._vc is not None:
            fn.versions = (x._vc.n,)
        result = wrap_array(out, (x,), fn)
    else:
        result = wrap_array(out)
    if _recorder is not None:  # micrograd.compile is recording a step
        _recorder(fn, (x,), result)
    return result


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
        va, vb = a._vc, b._vc
        if va is not None or vb is not None:
            fn.versions = (0 if va is None else va.n, 0 if vb is None else vb.n)
        result = wrap_array(out, (a, b), fn)
    else:
        result = wrap_array(out)
    if _recorder is not None:  # micrograd.compile is recording a step
        _recorder(fn, (a, b), result)
    return result


def apply_op(cls: type, *inputs: Tensor, **params: Any) -> Tensor:
    """Run op ``cls`` on the inputs' arrays; record it in the graph when a gradient is needed."""
    fn = cls()
    fn.be = _settings.backend
    if len(inputs) == 1:  # most ops: no lists to build
        x = inputs[0]
        out = fn.forward(x._array, **params)
        if _settings.anomaly:
            anomaly.check_forward(fn, inputs, out)
        if x.requires_grad and _settings.grad_enabled:
            fn.needs_input_grad = (True,)
            if x._vc is not None:
                fn.versions = (x._vc.n,)
            result = wrap_array(out, inputs, fn)
        else:
            result = wrap_array(out)
    else:  # (map with attrgetter: no comprehension frames)
        out = fn.forward(*map(_ARRAY, inputs), **params)
        if _settings.anomaly:
            anomaly.check_forward(fn, inputs, out)
        need = tuple(map(_REQUIRES_GRAD, inputs))
        if True in need and _settings.grad_enabled:
            fn.needs_input_grad = need
            vcs = list(map(_VC, inputs))
            if vcs.count(None) != len(vcs):
                fn.versions = tuple([0 if v is None else v.n for v in vcs])
            result = wrap_array(out, inputs, fn)
        else:
            result = wrap_array(out)
    if cls.view and (cls is not ops.Reshape or np.may_share_memory(out, inputs[0]._array)):
        # a view (a reshape that had to copy is not); the broadcasts of binary ops are only
        # consumed by their op, so they are not tracked as views (Tensor.expand's are)
        result = _share_version(inputs[0], result, register=cls is not ops.Expand)
    if _recorder is not None:  # micrograd.compile is recording a step (micrograd/compile.py)
        _recorder(fn, inputs, result)
    return result


_ARRAY, _REQUIRES_GRAD, _VC = (operator.attrgetter(name)
                               for name in ("_array", "requires_grad", "_vc"))

#: set by micrograd.compile while it records a step: called with (op, inputs, output) per op
_recorder: Callable | None = None
#: set by micrograd.compile while it records a step: called by ``depends_on_values``
_value_guard: Callable | None = None
#: set by micrograd.compile while it records a step: called by ``not_replayable``
_not_replayable: Callable | None = None
#: set by micrograd.compile while it records a step: runs and notes ``numpy_call``'s call
_numpy_call: Callable | None = None


def depends_on_values(array: np.ndarray, summarize: Callable[[np.ndarray], Any]) -> None:
    """Library code whose work depends on an array's values, not only its shape (which labels
    a loss ignores, whether they are in range), says so here, with ``summarize(array)``: a
    hashable value holding everything it decided from them. ``micrograd.compile`` records it
    and replays a step only while the summary of the new arguments is the same."""
    if _value_guard is not None:
        _value_guard(array, summarize)


def not_replayable(reason: str) -> None:
    """Library code that does what a replay cannot repeat, such as writing into arrays in place
    with NumPy (gradient clipping, BatchNorm's running statistics), says so here:
    ``micrograd.compile`` then runs the step eagerly, its warning giving ``reason``."""
    if _not_replayable is not None:
        _not_replayable(reason)


def numpy_call(fn: Callable[..., Any], *args: Any, bumps: tuple = ()) -> Any:
    """Library code that runs NumPy on a step's arrays outside the graph, writing in place
    (BatchNorm's running statistics, gradient clipping) or checking computed values (that
    probabilities are in [0, 1]), runs it as ``fn(*args)`` through here and gets its result;
    each tensor of ``bumps`` then moves its version counter once (it was written).
    ``micrograd.compile`` records the call as one and repeats it at replay on that replay's
    arrays, so ``fn`` computes only from ``args`` (arrays made by the step, or Python values)
    and from state it reads where it lives (``fn`` a bound method of the module); it returns
    None or arrays."""
    if _numpy_call is not None:
        return _numpy_call(fn, args, bumps)
    return run_numpy_call(fn, args, bumps)


def run_numpy_call(fn: Callable[..., Any], args: tuple, bumps: tuple) -> Any:
    """``numpy_call``'s work: ``fn(*args)``, then each tensor of ``bumps`` moves its version."""
    out = fn(*args)
    for t in bumps:
        _bump(t)
    return out


def as_array(data: Any, dtype: Any, copy: bool) -> np.ndarray:
    """A NumPy array for ``data`` with torch's dtype rules (see ``Tensor``)."""
    npd = None if dtype is None else dtypes.as_dtype(dtype).np
    if isinstance(data, Tensor):
        data = data._array
    if isinstance(data, (np.ndarray, np.generic)):
        if not data.dtype.isnative:  # big-endian on this machine: the same values, native order
            data = data.astype(data.dtype.newbyteorder("="))
        if copy:
            arr = np.array(data, dtype=npd, copy=True)
        else:  # share memory unless a cast is needed (np.array(copy=False) raises on a cast)
            arr = np.asarray(data, dtype=npd)
            if not arr.flags.aligned:  # kernels load whole elements: never hand them misaligned
                arr = arr.copy()
    else:
        try:
            arr = np.array(data, dtype=npd)
        except OverflowError as exc:  # an int beyond the dtype given
            raise ValueError(f"Overflow when unpacking long long: {exc}") from None
        except (ValueError, TypeError) as exc:
            raise ValueError(f"cannot make a tensor from {type(data).__name__}: {exc}") from None
        if npd is None and (arr.dtype.kind in "uO" or arr.dtype.kind == "f" and arr.size
                            and np.abs(arr).max() >= 2.0**63):
            arr = _past_int64(arr, data)
        if npd is None:
            if arr.dtype.kind == "f":
                arr = arr.astype(dtypes.get_default_dtype().np, copy=False)
            elif arr.dtype.kind in "iu":
                arr = arr.astype(np.int64, copy=False)
    if arr.dtype not in _BY_NUMPY:
        raise TypeError(f"cannot make a tensor of dtype {arr.dtype}; supported: "
                        f"{', '.join(d.name for d in _BY_NUMPY.values())}")
    return arr


def _past_int64(arr: np.ndarray, data: Any) -> np.ndarray:
    """NumPy's array of Python ints past int64 (uint64, float64 or object). torch makes ints
    int64, so such an int overflows, unless a float among them makes the tensor floating."""
    big, floating, stack = None, False, [data]
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            stack.extend(v)
        elif isinstance(v, int) and not isinstance(v, bool):
            if big is None and not -2**63 <= v < 2**63:
                big = v
        elif isinstance(v, (float, np.floating)):
            floating = True
        elif not isinstance(v, (bool, np.bool_, np.integer)):
            return arr  # not numbers: the caller's dtype error
    if floating:
        return np.array(data, np.float64) if arr.dtype == object else arr
    if big is not None:
        raise ValueError(f"Overflow when unpacking long long: {big} does not fit in int64, "
                         "the dtype of Python ints in a tensor (as torch)")
    return arr


def lift_constant(value: Any, like: Tensor) -> Tensor:
    """``value`` as a constant Tensor. A Python number takes ``like``'s dtype when that loses
    nothing (float into a float tensor, int into an int tensor), as torch does; otherwise it
    keeps its own kind (so int tensor + 0.5 promotes to float)."""
    if isinstance(value, Tensor):
        return value
    dtype = like._array.dtype
    kind = dtype.kind
    if kind == "f" and (type(value) is float or type(value) is int):
        # the common cases first (x * 0.5, 1 - x, sum()'s 0 + x), as a NumPy scalar: with
        # another scalar (a full sum's result) NumPy then takes its scalar math, ~10x cheaper
        return wrap_array(dtype.type(value))
    if type(value) is float:
        return wrap_array(np.array(value, dtypes.get_default_dtype().np))
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
        target = dtypes.promote_operands(ad, bd)
        a, b = a.to(target), b.to(target)
    if ad.shape != bd.shape:
        if not bd.shape:            # a 0-d operand (often a Python scalar) takes a's shape
            shape = ad.shape
        elif not ad.shape:
            shape = bd.shape
        else:
            shape = broadcast(cls.__name__.lower(), ad.shape, bd.shape)
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


def write_out(result: Tensor, out: Tensor, inputs: tuple, name: str) -> Tensor:
    """torch's ``out=``: ``result`` written into ``out`` (resized to the result's shape if it
    differs, a dtype it casts to), which is returned. Not differentiable, as in torch."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}: out must be a Tensor, got {type(out).__name__}")
    if _settings.grad_enabled and any(isinstance(t, Tensor) and t.requires_grad
                                      for t in inputs + (out,)):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    if out.shape != result.shape:
        if out.numel():
            warnings.warn(f"{name}: an output with one or more elements was resized since it "
                          f"had shape {list(out.shape)}, which does not match the required "
                          f"output shape {list(result.shape)}", UserWarning, stacklevel=3)
        out._array = np.empty(result.shape, out._array.dtype)
    _write(out, result, name)
    return out


def _floats_only(a: Tensor, b: Any, name: str) -> tuple:
    """Operands of an op torch defines for floating point only: two integer (or bool)
    tensors are its NotImplementedError, not a silent promotion."""
    b = lift_constant(b, a)
    if a._array.dtype.kind != "f" and b._array.dtype.kind != "f":
        raise NotImplementedError(f"{name}: not implemented for {a.dtype.name} and "
                                  f"{b.dtype.name} tensors (as in torch); convert with .float()")
    return a, b


def _no_int_zero(a: Tensor, b: Any, name: str) -> tuple:
    """fmod/remainder operands: an integer divisor of 0 is an error (torch's
    ZeroDivisionError), not NumPy's silent 0."""
    b = lift_constant(b, a)
    if a._array.dtype.kind in "iub" and b._array.dtype.kind in "iub" and not np.all(b._array):
        raise RuntimeError(f"{name}: ZeroDivisionError (an integer divisor is 0)")
    return a, b


def _compare(a: Tensor, b: Any, op: str) -> Tensor:
    b = lift_constant(b, a)
    ad, bd = a._array, b._array
    be = _settings.backend
    if ad.dtype != bd.dtype:
        target = dtypes.promote_operands(ad, bd)
        ad = ad if ad.dtype == target else be.cast(ad, target)
        bd = bd if bd.dtype == target else be.cast(bd, target)
    broadcast(op, ad.shape, bd.shape)
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


def matmul(a: Any, b: Any) -> Tensor:
    """a @ b with torch's rules: 1-D operands are promoted to matrices and the added dim
    removed afterwards; batch dims (all but the last two) broadcast."""
    if not isinstance(a, Tensor):
        a = lift_constant(a, b)
    if not isinstance(b, Tensor):
        b = lift_constant(b, a)
    sa, sb = a._array.shape, b._array.shape
    if a._array.dtype != b._array.dtype:
        raise DTypeError(f"matmul: dtypes differ: {a.dtype.name} @ {b.dtype.name}; "
                        "convert one with .to(dtype)")
    if len(sa) == 2 and len(sb) == 2:  # the common case
        if sa[1] != sb[0]:
            raise OpError(f"matmul: {sa} @ {sb}: inner dims {sa[1]} != {sb[0]}")
        return _binary_same(ops.MatMul, a, b)
    if not sa or not sb:
        raise OpError(f"matmul: both arguments need at least 1 dim, got shapes {sa} and {sb}")
    ka = sa[-1]
    kb = sb[0] if len(sb) == 1 else sb[-2]
    if ka != kb:
        raise OpError(f"matmul: {sa} @ {sb}: inner dims {ka} != {kb}")
    if len(sa) == 1 and len(sb) == 1:
        return matmul(a.reshape(1, ka), b.reshape(ka, 1)).reshape(())
    if len(sa) == 1:
        return matmul(a.reshape(1, ka), b).squeeze(-2)
    if len(sb) == 1:
        return matmul(a, b.reshape(kb, 1)).squeeze(-1)
    try:
        batch = np.broadcast_shapes(sa[:-2], sb[:-2])
    except ValueError:
        raise OpError(f"matmul: {sa} @ {sb}: batch dims {sa[:-2]} and {sb[:-2]} cannot be "
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
    """Elementwise min; the gradient goes to the smaller, half each on ties (torch)."""
    return _binary(ops.Minimum, *_tensor_first(a, b))


def _scatter_index(x: Tensor, dim: int, index: Any, name: str,
                   src: Tensor | None = None) -> tuple:
    """(axis, index array) for gather/scatter, with torch's checks: an integer index of x's
    rank, no larger than x outside dim (and than src anywhere), entries in [0, size)."""
    d = dim_index(dim, x.ndim, name)
    idx = _index(index)
    if not isinstance(idx, np.ndarray) or idx.dtype.kind not in "iu":
        raise TypeError(f"{name}: index must be an integer tensor")
    if idx.ndim == 0:
        idx = idx.reshape((1,) * x.ndim)  # torch reads a 0-D index as one of size 1
    if idx.ndim != x.ndim and not (idx.ndim == 1 and x.ndim == 0):
        raise OpError(f"{name}: index has {idx.ndim} dims but the input has {x.ndim}")
    idx = idx.reshape(idx.shape if x.ndim else (-1,))
    shape = x.shape if x.ndim else (1,)
    if any(i > n for k, (i, n) in enumerate(zip(idx.shape, shape)) if k != d % len(shape)):
        raise RuntimeError(f"{name}: index of shape {idx.shape} is larger than the input of "
                           f"shape {x.shape} outside dimension {d}")
    if src is not None and any(i > n for i, n in zip(idx.shape, src.shape or (1,))):
        raise RuntimeError(f"{name}: index of shape {idx.shape} is larger than src of shape "
                           f"{src.shape}")
    n = shape[d]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
        raise IndexError(f"{name}: index out of range for dim {d} of size {n}: got index "
                         f"{bad} (negative indices are not wrapped, as torch)")
    return d, idx


def _scatter(cls: type, x: Tensor, dim: int, index: Any, src: Any, name: str,
             **params: Any) -> Tensor:
    if x.ndim == 0:
        return _scatter(cls, x.reshape(1), dim, index, src, name, **params).reshape(())
    if isinstance(src, Tensor):
        d, idx = _scatter_index(x, dim, index, name, src)
        if src.dtype != x.dtype:
            raise DTypeError(f"{name}: src has dtype {src.dtype.name} but self has "
                            f"{x.dtype.name}; they must match (as torch)")
        if src.ndim != x.ndim:
            raise ValueError(f"{name}: src has {src.ndim} dims but the input has {x.ndim}")
        if src.shape != idx.shape:
            src = src[tuple(slice(0, n) for n in idx.shape)]
    elif src is None:
        raise TypeError(f"{name}: give src (a Tensor) or value (a number)")
    else:
        d, idx = _scatter_index(x, dim, index, name)
        src = lift_constant(src, x)
        if params:  # a reduction reads src per index entry: the number spread to index's shape
            src = wrap_array(np.full(idx.shape, src._array, x._array.dtype))
    return apply_op(cls, x, src, index=idx, axis=d, **params)


def _index_slices(x: Tensor, dim: int, index: Any, source: Any, name: str) -> tuple:
    """index_add/index_copy as scatter: the 1-D index spread over source's shape."""
    d = dim_index(dim, x.ndim, name)
    idx = _index(index)
    if not isinstance(idx, np.ndarray) or idx.ndim > 1 or idx.dtype.kind not in "iu":
        raise TypeError(f"{name}: index must be a 0-D or 1-D integer tensor")
    if not isinstance(source, Tensor):
        raise TypeError(f"{name}: source must be a Tensor, got {type(source).__name__}")
    idx = idx.reshape(-1)
    want = x.shape[:d] + (idx.size,) + x.shape[d + 1:]
    if source.shape != want and not (x.ndim == 0 and source.numel() == idx.size):
        raise OpError(f"{name}: source of shape {source.shape} does not match self of "
                         f"shape {x.shape} with {idx.size} index entries along dim {d} "
                         f"(expected {want})")
    spread = idx.reshape([-1 if k == d else 1 for k in range(max(x.ndim, 1))])
    return d, wrap_array(np.broadcast_to(spread, source.shape or (1,)))


def _flat_index(x: Tensor, index: Any, name: str) -> np.ndarray:
    """take/put's index into x read as 1-D: an int64 tensor, entries in [-n, n), negative
    ones counted from the end."""
    (index,) = _operands(name, index=index)
    idx = np.asarray(index._array)
    if idx.dtype != np.int64:
        raise DTypeError(f"{name}(): Expected a long tensor for index, but got "
                         f"{index.dtype.name}")
    n = x.numel()
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = int(idx.min() if idx.min() < -n else idx.max())
        raise IndexError(f"{name}: out of range: tried to access index {bad} on a tensor of "
                         f"{n} elements.")
    return np.where(idx < 0, idx + n, idx)


def _put_flat(x: Tensor, places: np.ndarray, src: Tensor, accumulate: bool) -> Tensor:
    """x with the 1-D ``src`` written (added with ``accumulate``) at the flat ``places``."""
    flat, where_ = x.reshape(-1), wrap_array(places)
    out = flat.scatter_add(0, where_, src) if accumulate else flat.scatter(0, where_, src)
    return out.reshape(x.shape)


def _sort_indices(a: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """int64 indices that sort ``a`` along axis, stably (ties in their order), NaN as the
    largest; descending by a stable sort of the reversed array, so ties keep their order."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable").astype(np.int64)
    rev = np.argsort(np.flip(a, axis), axis=axis, kind="stable")
    return (a.shape[axis] - 1 - np.flip(rev, axis)).astype(np.int64)


def _scalar_dtype(*values: Any) -> np.dtype:
    """torch's dtype for numbers on their own: bool, int64, or the default float dtype."""
    if all(isinstance(v, (bool, np.bool_)) for v in values):
        return np.dtype(np.bool_)
    if any(isinstance(v, (float, np.floating)) for v in values):
        return dtypes.get_default_dtype().np
    return np.dtype(np.int64)


def _check_bitwise(dtype: np.dtype, name: str) -> None:
    if dtype.kind not in "iub":
        raise TypeError(f"{name}: needs bool or integer tensors, got {_BY_NUMPY[dtype].name} "
                        "(as torch, bit ops are not defined for floating point)")


def _bitwise(fn: Callable, a: Tensor, b: Any, name: str) -> Tensor:
    """A bit op on integers (bit by bit) or bools (logical), torch's type promotion."""
    b = b if isinstance(b, Tensor) else lift_constant(b, a)
    for t in (a, b):
        _check_bitwise(t._array.dtype, name)
    target = dtypes.promote_operands(a._array, b._array)
    try:
        out = fn(a._array.astype(target, copy=False), b._array.astype(target, copy=False))
    except ValueError:
        raise OpError(f"{name}: shapes {a.shape} and {b.shape} cannot be broadcast "
                         "together") from None
    return wrap_array(np.asarray(out, dtype=target))


def _operands(name: str, **named: Any) -> tuple:
    """The named Tensor arguments of op ``name``, in order; anything else is torch's
    TypeError (these ops take no numbers or lists there)."""
    for arg, t in named.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' must be Tensor, not "
                            f"{type(t).__name__}")
    return tuple(named.values())


def _promoted(a: Tensor, b: Tensor) -> tuple:
    """a and b cast to their result dtype (torch's promotion, ``dtypes.promote_operands``)."""
    target = dtypes.promote_operands(a._array, b._array)
    return a.to(target), b.to(target)


def _scaled(t: Tensor, value: Any, *others: Tensor) -> Tensor:
    """value * t for addcmul/addcdiv; a float value is truncated when every operand holds
    integers (the result is an integer tensor), as torch does."""
    if isinstance(value, Tensor) or isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"value must be a number, got {type(value).__name__}")
    if value == 1:
        return t
    if isinstance(value, (float, np.floating)) and all(
            o._array.dtype.kind in "biu" for o in (t, *others)):
        value = int(value)
    return t * value


def _no_bools(name: str, *operands: Tensor) -> None:
    """torch has no bool kernel for addcmul/addcdiv: three bool operands are its error."""
    if all(t._array.dtype == np.bool_ for t in operands):
        raise NotImplementedError(f"{name}: not implemented for bool tensors (as torch)")


def _logical(fn: Callable, a: Tensor, b: Any, name: str) -> Tensor:
    (b,) = _operands(name, other=b)
    try:
        return wrap_array(np.asarray(fn(a._array, b._array)))
    except ValueError:
        raise OpError(f"{name}: shapes {a.shape} and {b.shape} cannot be broadcast "
                      "together") from None


class NotDifferentiable(ops.Function):
    """out = value, computed by the caller    backward raises: torch defines no derivative
    (its grad_fn is NotImplemented), so neither does micrograd"""
    saves_inputs = ()

    def forward(self, *arrays: np.ndarray, value: np.ndarray, op: str) -> np.ndarray:
        self.op = op
        return value

    def backward(self, g: np.ndarray) -> tuple:
        raise RuntimeError(f"derivative for {self.op} is not implemented")


def _not_differentiable(out: np.ndarray, inputs: tuple, name: str) -> Tensor:
    """``out`` as the result of op ``name`` of ``inputs``: a node whose backward raises
    torch's "derivative not implemented" when an input requires grad, else a constant."""
    if _settings.grad_enabled and any(t.requires_grad for t in inputs):
        return apply_op(NotDifferentiable, *inputs, value=out, op=name)
    return wrap_array(out)


def _xlogy(x: np.ndarray, y: np.ndarray, dtype: np.dtype) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.asarray(np.where((x == 0) & ~np.isnan(y), 0, x * np.log(y)), dtype)


class XLogY(ops.Function):
    """out = x log(y), 0 where x == 0 and y is not NaN
    dx = xlogy(g, y), 0 where x == 0 and y <= 0    dy = g x / y    (torch's formulas)"""

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        self.x, self.y = x, y
        return _xlogy(x, y, np.result_type(x, y))

    def backward(self, g: np.ndarray) -> tuple:
        x, y = self.x, self.y
        dx = dy = None
        if self.needs_input_grad[0]:
            dx = np.where((x == 0) & (y <= 0), g.dtype.type(0), _xlogy(g, y, g.dtype))
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                dy = np.asarray(g * x / y, g.dtype)
        return dx, dy


def _tensor_first(a: Any, b: Any) -> tuple:
    if not isinstance(a, Tensor):
        if not isinstance(b, Tensor):
            raise TypeError("expected at least one Tensor argument")
        a = lift_constant(a, b)
    return a, b


def where(condition: Any, input: Any = None, other: Any = None  # noqa: A002 - torch's names
          ) -> Any:
    """``input`` where ``condition`` else ``other``, broadcasting all three (numbers for both
    branches: a tensor of torch's dtype for them). ``where(condition)`` is
    ``condition.nonzero(as_tuple=True)``."""
    if input is None and other is None:
        c = condition if isinstance(condition, Tensor) else wrap_array(np.asarray(condition))
        return c.nonzero(as_tuple=True)
    cond = condition._array if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise DTypeError(f"where: condition must be a bool tensor, got {cond.dtype}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = wrap_array(np.asarray(input, _scalar_dtype(input, other)))
    a, b = _tensor_first(input, other)
    b = lift_constant(b, a)
    if a._array.dtype != b._array.dtype:
        target = dtypes.promote_operands(a._array, b._array)
        a, b = a.to(target), b.to(target)
    try:
        shape = np.broadcast_shapes(cond.shape, a.shape, b.shape)
    except ValueError:
        raise OpError(f"where: shapes {cond.shape}, {a.shape} and {b.shape} cannot be "
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


def _index_plan(shape: tuple, index: Any) -> tuple:
    """``_plan``, with the index and the shape named in its IndexErrors."""
    try:
        return _plan(shape, index)
    except IndexError as exc:
        items = index if isinstance(index, tuple) else (index,)
        shown = ", ".join(f"<tensor of shape {tuple(i.shape)}>" if isinstance(
            i, (Tensor, np.ndarray)) else repr(i) for i in items)
        raise IndexError(f"index [{shown}] on a tensor of shape {shape}: {exc}") from None


def _plan(shape: tuple, index: Any) -> tuple:
    """torch's ``t[index]`` as two NumPy steps, ``(basic, advanced)``.

    torch applies integers as selections (like slices and None: the result is a view) and only
    index tensors, lists and bool masks as advanced indices. So ``basic`` holds the ints,
    slices and Nones (and ends with ``...``, so even a 0-d result is a view), and ``advanced``
    (None when nothing is gathered) indexes that view with the arrays and masks at the dims
    they now refer to; NumPy places the gathered dims as torch does from there (together in
    place when adjacent, else first). Every index is checked as torch checks it."""
    items = _index_items(index)
    ndim = len(shape)
    specified = 0  # how many of the input's dims the index names
    for item in items:
        kind = type(item)
        if kind is int or kind is slice:
            specified += 1
        elif kind is np.ndarray:
            specified += item.ndim if item.dtype == np.bool_ else 1
    if specified > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    basic: list = []
    gathers: dict = {}  # dim of the basic result -> index array or bool mask
    dim = out = 0       # the next dim of the input, of the basic result
    for item in items:
        kind = type(item)
        if item is None:
            basic.append(None)
            out += 1
            continue
        if item is Ellipsis:  # every `...` skips the dims no index names (torch's rule)
            n = ndim - specified
            basic += [slice(None)] * max(0, min(n, ndim - dim))
            dim, out = dim + n, out + n
            continue
        if kind is bool:  # True/False: a new dim of size 1, kept or emptied
            basic.append(None)
            gathers[out] = np.zeros(int(item), np.int64)
            out += 1
            continue
        if dim >= ndim:  # only a repeated `...` gets here
            raise IndexError(f"index {item!r}: dimension {dim} is out of range for a tensor "
                             f"of dimension {ndim}")
        n = shape[dim]
        if kind is slice:
            basic.append(item)
            dim, out = dim + 1, out + 1
        elif kind is int:
            if not -n <= item < n:
                raise IndexError(f"index {item} is out of bounds for dimension {dim} with "
                                 f"size {n}")
            basic.append(item)
            dim += 1
        elif item.dtype == np.bool_:
            k = item.ndim
            for j, (m, size) in enumerate(zip(item.shape, shape[dim:dim + k])):
                if m != size:
                    raise IndexError(f"The shape of the mask {list(item.shape)} at index {j} "
                                     f"does not match the shape of the indexed tensor "
                                     f"{list(shape)} at index {dim + j}")
            basic += [slice(None)] * k
            gathers[out] = item
            dim, out = dim + k, out + k
        else:  # an index array
            if item.size and (item.min() < -n or item.max() >= n):
                bad = item.min() if item.min() < -n else item.max()
                raise IndexError(f"index {bad} is out of bounds for dimension {dim} with "
                                 f"size {n}")
            basic.append(slice(None))
            gathers[out] = item
            dim, out = dim + 1, out + 1
    basic.append(Ellipsis)
    if not gathers:
        return tuple(basic), None
    if len(gathers) > 1:
        shapes = [(int(np.count_nonzero(a)),) if a.dtype == np.bool_ else a.shape
                  for a in gathers.values()]
        try:
            np.broadcast_shapes(*shapes)
        except ValueError:
            raise IndexError("shape mismatch: indexing tensors could not be broadcast "
                             f"together with shapes {', '.join(str(list(s)) for s in shapes)}"
                             ) from None
    advanced, d = [], 0
    while d <= max(gathers):
        a = gathers.get(d)
        advanced.append(slice(None) if a is None else a)
        d += 1 if a is None or a.dtype != np.bool_ else a.ndim
    return tuple(basic), tuple(advanced)


def _index_items(index: Any) -> tuple:
    """The entries of a ``t[index]`` index, each an int, bool, slice, None, ``...``, or an
    integer (int64/int32) or bool NumPy array of at least one dim. A list is one index array
    unless, by torch's rule, it is short (< 32) and holds a tensor, sequence, slice, None or
    ``...``: then it is a tuple of indices."""
    if type(index) is not tuple:
        if isinstance(index, (list, range)) and len(index) < 32 and any(
                i is None or i is Ellipsis or isinstance(i, (Tensor, np.ndarray, list, tuple,
                                                            range, slice)) for i in index):
            index = tuple(index)
        else:
            return (_index_entry(index),)
    return tuple([_index_entry(i) for i in index])


def _index_entry(i: Any) -> Any:
    """One index entry in torch's terms (``_index_items``): 0-d integer tensors are ints,
    uint8 tensors masks, lists and NumPy arrays int64 (floats truncated, as torch) or bool."""
    kind = type(i)
    if kind is int or i is None or i is Ellipsis:
        return i
    if kind is slice:
        if i.step is not None and operator.index(i.step) <= 0:
            raise ValueError("slice step cannot be zero" if operator.index(i.step) == 0 else
                             "step must be greater than zero")
        return i
    if isinstance(i, (bool, np.bool_)):
        return bool(i)
    if isinstance(i, (int, np.integer)):
        return int(i)
    if isinstance(i, Tensor):
        a = i._array
        if a.dtype in (np.uint8, np.bool_):
            a = a.astype(np.bool_, copy=False)
        elif a.dtype not in (np.int64, np.int32):
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors, "
                             f"got {i.dtype.name}")
    elif isinstance(i, (list, tuple, range, np.ndarray)):
        a = np.asarray(i)
        if a.dtype != np.bool_:
            if a.dtype.kind not in "iuf" and a.size:
                raise IndexError(f"an index list must hold integers or bools, got {i!r}")
            a = a.astype(np.int64)
    else:
        raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                         f"Variables are valid indices (got {type(i).__name__})")
    if a.ndim == 0:
        return bool(a) if a.dtype == np.bool_ else int(a)
    return a


def _take(x: Tensor, index: tuple) -> Tensor:
    """x[index] for a NumPy index (one step of ``_index_plan``), recorded when x needs a
    gradient."""
    if x.requires_grad and _settings.grad_enabled:
        return apply_op(ops.GetItem, x, index=index)
    return wrap_array(_settings.backend.getitem(x._array, index))


def _setitem_value(t: Tensor, index: Any, value: Any, gathers: bool) -> Tensor:
    """The value of ``t[index] = value`` as a Tensor of t's dtype. As torch: a number is cast;
    a Tensor too, except that writing at index arrays needs t's dtype (unless the index is one
    bool mask and value one element). A NumPy array or a list is cast too (torch raises
    TypeError for them); other types are a TypeError."""
    if isinstance(value, Tensor):
        lone_mask = (index[0] if isinstance(index, tuple) and len(index) == 1 else index)
        lone_mask = isinstance(lone_mask, Tensor) and lone_mask._array.dtype == np.bool_
        if (gathers and value._array.dtype != t._array.dtype
                and not (lone_mask and value.numel() == 1)):
            raise RuntimeError(f"__setitem__: index put requires the source and destination "
                               f"dtypes match, got {t.dtype.name} for the destination and "
                               f"{value.dtype.name} for the source")
        return value.to(t._array.dtype)
    if isinstance(value, (*_SCALARS, np.ndarray, list)):  # arrays, lists: micrograd's extra
        return wrap_array(np.asarray(value).astype(t._array.dtype))
    raise TypeError(f"can't assign a {type(value).__name__} to a {t.dtype.name} tensor (use a "
                    "number or a Tensor)")


def _fit_value(value: Tensor, shape: tuple) -> Tensor:
    """value broadcast to the indexed region's shape, as torch: leading dims of size 1 dropped
    first; the gradient sums back over the broadcast dims."""
    lead = 0
    while value.ndim - lead > len(shape) and value.shape[lead] == 1:
        lead += 1
    v = value.reshape(value.shape[lead:]) if lead else value
    try:
        return v.expand(shape)
    except ValueError:
        raise _value_shape_error(value, shape) from None


def _value_shape_error(value: Tensor, shape: tuple) -> RuntimeError:
    return RuntimeError(f"shape mismatch: value tensor of shape {list(value.shape)} cannot be "
                        f"broadcast to indexing result of shape {list(shape)}")


# ---- printing: torch's layout (torch/_tensor_str.py), on the NumPy array -----------------------
class _PrintOptions:
    """What ``set_printoptions`` sets; torch's defaults."""
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


_PRINT = _PrintOptions()
_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80),
             "full": (4, float("inf"), 3, 80)}


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """How tensors print, as torch.set_printoptions: ``precision`` digits after the point,
    summarised ("...") beyond ``threshold`` elements keeping ``edgeitems`` at each end of each
    dim, lines broken at ``linewidth`` characters, ``sci_mode`` forcing (True) or forbidding
    (False) scientific notation (None: chosen from the values); ``profile`` "default",
    "short" or "full" resets the first four."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(_PROFILES)}, "
                             f"got {profile!r}")
        (_PRINT.precision, _PRINT.threshold, _PRINT.edgeitems,
         _PRINT.linewidth) = _PROFILES[profile]
    for name, value, least in (("precision", precision, 0), ("edgeitems", edgeitems, 0),
                               ("linewidth", linewidth, 1), ("threshold", threshold, 0)):
        if value is None:
            continue
        kind, what = ((int, float), "a number") if name == "threshold" else (int, "an int")
        if isinstance(value, bool) or not isinstance(value, kind) or value < least:
            raise ValueError(f"set_printoptions: {name} must be {what} >= {least}, got "
                             f"{value!r}")
        setattr(_PRINT, name, value)
    if sci_mode is not None and not isinstance(sci_mode, bool):
        raise ValueError(f"set_printoptions: sci_mode must be True, False or None, got "
                         f"{sci_mode!r}")
    _PRINT.sci_mode = sci_mode


class _Formatter:
    """One width and notation for every element of a tensor, chosen from its (summarised)
    values: integers as they are; floats fixed, whole ('1.') or scientific."""

    def __init__(self, values: np.ndarray) -> None:
        self.floating = values.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.max_width = True, False, 1
        if not self.floating:
            self.max_width = max([len(str(v)) for v in values.tolist()] + [1])
            return
        shown = values[np.isfinite(values) & (values != 0)]
        if not shown.size:
            return
        mags = np.abs(shown).astype(np.float64)
        lo, hi = mags.min(), mags.max()
        self.int_mode = bool(np.all(shown == np.ceil(shown)))
        self.sci_mode = (hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
                         if _PRINT.sci_mode is None else _PRINT.sci_mode)
        p = _PRINT.precision
        if self.sci_mode:
            spec, extra = f"{{:.{p}e}}", 0
        elif self.int_mode:
            spec, extra = "{:.0f}", 1
        else:
            spec, extra = f"{{:.{p}f}}", 0
        self.max_width = max(len(spec.format(v)) + extra for v in shown.tolist())

    def format(self, value: Any) -> str:
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:{self.max_width}.{_PRINT.precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}" + ("" if np.isinf(value) or np.isnan(value) else ".")
        else:
            text = f"{value:.{_PRINT.precision}f}"
        return text.rjust(self.max_width)


def _summarized(a: np.ndarray) -> np.ndarray:
    """The elements a summarised print shows (``edgeitems`` at each end of each dim)."""
    e = _PRINT.edgeitems
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        return np.concatenate((a[:e], a[-e:])) if a.shape[0] > 2 * e else a
    if not e:
        return np.empty((0,) * a.ndim, a.dtype)
    n = a.shape[0]
    rows = [*range(e), *range(n - e, n)] if n > 2 * e else range(n)
    return np.stack([_summarized(a[i]) for i in rows])


def _body(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    e = _PRINT.edgeitems
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        if summarize and not e:
            data = ["..."]
        elif summarize and a.shape[0] > 2 * e:
            data = ([fmt.format(v) for v in a[:e].tolist()] + [" ..."]
                    + [fmt.format(v) for v in a[-e:].tolist()])
        else:
            data = [fmt.format(v) for v in a.tolist()]
        per_line = max(1, (_PRINT.linewidth - indent) // (fmt.max_width + 2))
        lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    n = a.shape[0]
    if summarize and n > 2 * e:
        rows = ([_body(a[i], indent + 1, summarize, fmt) for i in range(e)] + ["..."]
                + [_body(a[i], indent + 1, summarize, fmt) for i in range(n - e, n)])
    else:
        rows = [_body(a[i], indent + 1, summarize, fmt) for i in range(n)]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _repr(t: Tensor) -> str:
    """torch's ``repr`` of a tensor: the values, then size/dtype/grad_fn where torch shows
    them, wrapped at ``linewidth``."""
    a, prefix = np.asarray(t._array), "tensor("
    indent, suffixes = len(prefix), []
    default = dtypes.get_default_dtype().np
    if not a.size:
        body = "[]"
        if a.ndim != 1:
            suffixes.append(f"size={a.shape}")
        if a.dtype != default:
            suffixes.append(f"dtype={t.dtype!r}")
    else:
        if not _PRINT.edgeitems:
            suffixes.append(f"size={a.shape}")
        if a.dtype != default and a.dtype.name not in ("int64", "bool"):
            suffixes.append(f"dtype={t.dtype!r}")
        summarize = a.size > _PRINT.threshold
        fmt = _Formatter((_summarized(a) if summarize else a).reshape(-1))
        body = _body(a, indent, summarize, fmt)
    if t._ctx is not None:
        suffixes.append(f"grad_fn={t._ctx!r}")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    out = prefix + body
    last = len(out) - out.rfind("\n") + 1
    for suffix in suffixes:
        if last + len(suffix) + 2 > _PRINT.linewidth:
            out += ",\n" + " " * indent + suffix
            last = indent + len(suffix)
        else:
            out += ", " + suffix
            last += len(suffix) + 2
    return out + ")"
