"""Factories (``zeros``, ``randn``, ``arange``, ...) and module-level ops (``cat``, ``stack``,
``exp``, ...) with torch's names and signatures. Random factories draw from
``micrograd.core.random.generator()``, so ``mg.manual_seed(n)`` makes them repeat.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import dtypes, ops
from .errors import OpError
from .device import as_device
from .random import generator
from .shapes import dim_index, shape_args
from .tensor import (Tensor, _tensor_first, apply_op, as_array, maximum, minimum, where,
                     wrap_array, write_out)
from .tensor import matmul as _matmul

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "zeros_like",
           "ones_like", "full_like", "empty_like", "rand", "randn", "randint", "rand_like",
           "randn_like", "arange", "linspace", "eye", "cat", "concatenate", "concat", "unbind", "masked_fill", "index_select", "stack", "where",
           "maximum", "minimum", "matmul", "exp", "log", "sqrt", "abs", "relu", "sigmoid",
           "tanh", "softmax", "log_softmax", "sum", "mean", "amax", "amin", "argmax", "argmin",
           "logsumexp", "clamp", "reshape", "flatten", "squeeze", "unsqueeze", "transpose",
           "permute", "split", "chunk", "gather", "allclose", "is_tensor", "numel",
           # elementwise math
           "sin", "cos", "tan", "asin", "acos", "atan", "arcsin", "arccos", "arctan", "sinh",
           "cosh", "asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh", "exp2", "expm1",
           "log1p", "log2", "log10", "erf", "erfc", "erfinv", "floor", "ceil", "trunc", "fix", "round",
           "frac", "sign", "sgn", "reciprocal", "rsqrt", "square", "neg", "negative", "atan2",
           "arctan2", "hypot", "copysign", "logaddexp", "logaddexp2", "fmod", "remainder",
           "lerp", "clamp_min", "clamp_max", "nan_to_num", "isnan", "isinf", "isfinite",
           "isclose", "floor_divide", "pow",
           # arithmetic (out=) and reductions
           "add", "sub", "mul", "div", "subtract", "multiply", "divide", "true_divide", "max",
           "min",
           # bit ops
           "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
           "bitwise_right_shift",
           # gather / scatter
           "scatter", "scatter_add", "scatter_reduce", "index_add", "index_copy", "index_fill", "take_along_dim",
           # sorting and selection
           "sort", "argsort", "msort", "topk", "kthvalue", "unique", "nonzero", "argwhere",
           "masked_select", "searchsorted"]


def tensor(data: Any, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """A new Tensor holding a copy of ``data`` (see ``Tensor``)."""
    as_device(device)
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """``data`` as a Tensor, sharing memory with a NumPy array / Tensor when no cast is needed."""
    as_device(device)
    if isinstance(data, Tensor) and (dtype is None or data.dtype == dtype):
        return data
    return wrap_array(as_array(data, dtype, copy=False))


def from_numpy(array: np.ndarray) -> Tensor:
    """A Tensor sharing ``array``'s memory (writes show in both), keeping its dtype."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return wrap_array(as_array(array, None, copy=False))


def _float_dtype(dtype: Any) -> np.dtype:
    return (dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)).np


def _make(data: np.ndarray, requires_grad: bool, device: Any) -> Tensor:
    """A factory's result: ``device`` checked (only the CPU exists), ``requires_grad`` set."""
    as_device(device)
    t = wrap_array(data)
    return t.requires_grad_(True) if requires_grad else t


def _size(size: tuple, name: str) -> tuple:
    shape = shape_args(size, name)
    if any(n < 0 for n in shape):
        raise OpError(f"{name}: sizes must be non-negative, got {shape}")
    return shape


def zeros(*size: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    return _make(np.zeros(_size(size, "zeros"), _float_dtype(dtype)), requires_grad, device)


def ones(*size: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    return _make(np.ones(_size(size, "ones"), _float_dtype(dtype)), requires_grad, device)


def empty(*size: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    return _make(np.empty(_size(size, "empty"), _float_dtype(dtype)), requires_grad, device)


def full(size: Any, fill_value: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """Filled with ``fill_value``; the dtype follows it (float -> default, int -> int64)."""
    if dtype is None:
        dtype = (dtypes.bool if isinstance(fill_value, (bool, np.bool_)) else
                 dtypes.int64 if isinstance(fill_value, (int, np.integer)) else None)
    shape = _size((size,) if isinstance(size, int) else tuple(size), "full")
    return _make(np.full(shape, fill_value, _float_dtype(dtype)), requires_grad, device)


def _arg(x: Any, name: str) -> Tensor:
    """``x`` when it is a Tensor, else a TypeError naming the function (not an AttributeError)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__} (wrap data with "
                        "mg.tensor(...))")
    return x


def _like(t: Tensor, dtype: Any) -> tuple:
    _arg(t, "zeros_like/ones_like/empty_like/full_like")
    return t.shape, (t._array.dtype if dtype is None else dtypes.as_dtype(dtype).np)


def zeros_like(t: Tensor, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    return _make(np.zeros(*_like(t, dtype)), requires_grad, device)


def ones_like(t: Tensor, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    return _make(np.ones(*_like(t, dtype)), requires_grad, device)


def empty_like(t: Tensor, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    return _make(np.empty(*_like(t, dtype)), requires_grad, device)


def full_like(t: Tensor, fill_value: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    shape, npd = _like(t, dtype)
    return _make(np.full(shape, fill_value, npd), requires_grad, device)


def rand(*size: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform on [0, 1)."""
    array = generator().random(_size(size, "rand"))
    return _make(array.astype(_float_dtype(dtype), copy=False), requires_grad, device)


def randn(*size: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal."""
    array = generator().standard_normal(_size(size, "randn"))
    return _make(array.astype(_float_dtype(dtype), copy=False), requires_grad, device)


def rand_like(t: Tensor, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    return rand(_arg(t, "rand_like").shape, dtype=t.dtype if dtype is None else dtype,
                device=device, requires_grad=requires_grad)


def randn_like(t: Tensor, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    return randn(_arg(t, "randn_like").shape, dtype=t.dtype if dtype is None else dtype,
                 device=device, requires_grad=requires_grad)


def randint(low: int, high: int | None = None, size: Any = None, dtype: Any = None,
            device: Any = None) -> Tensor:
    """Integers in [low, high); ``randint(high, size)`` or ``randint(low, high, size)``."""
    as_device(device)
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint: size is required, e.g. randint(0, 10, (3,))")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if high <= low:
        raise OpError(f"randint: empty range [{low}, {high})")
    npd = np.int64 if dtype is None else dtypes.as_dtype(dtype).np
    shape = _size(tuple(size) if isinstance(size, (tuple, list)) else (size,), "randint")
    return wrap_array(generator().integers(low, high, shape).astype(npd, copy=False))


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """[start, end) by step; int64 when every argument is an int, else the default float."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise OpError("arange: step must be nonzero")
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        npd = np.dtype(np.int64) if ints else dtypes.get_default_dtype().np
    else:
        npd = dtypes.as_dtype(dtype).np
    return _make(np.arange(start, end, step).astype(npd, copy=False), requires_grad, device)


def linspace(start: float, end: float, steps: int, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    if steps < 0:
        raise OpError(f"linspace: steps must be non-negative, got {steps}")
    array = np.linspace(start, end, steps).astype(_float_dtype(dtype))
    return _make(array, requires_grad, device)


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    return _make(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad, device)


# ---- joining -----------------------------------------------------------------------------------
def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join along an existing dim; shapes must agree elsewhere. dtypes promote (torch)."""
    ts = [t if isinstance(t, Tensor) else tensor(t) for t in tensors]
    if not ts:
        raise OpError("cat: expected a non-empty sequence of tensors")
    ref = ts[0]
    if ref.ndim == 0:
        raise OpError("cat: zero-dimensional tensors cannot be concatenated; use stack")
    d = dim_index(dim, ref.ndim, "cat")
    for i, t in enumerate(ts):
        if t.ndim != ref.ndim or t.shape[:d] + t.shape[d + 1:] != ref.shape[:d] + ref.shape[d + 1:]:
            raise OpError(f"cat: tensor {i} has shape {t.shape}, which does not match "
                             f"{ref.shape} outside dim {d}")
    target = ref._array.dtype
    for t in ts[1:]:
        target = dtypes.promote(target, t._array.dtype)
    ts = [t.to(target) for t in ts]
    return apply_op(ops.Cat, *ts, axis=d)


concatenate = concat = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join along a new dim; every tensor must have the same shape."""
    ts = [t if isinstance(t, Tensor) else tensor(t) for t in tensors]
    if not ts:
        raise OpError("stack: expected a non-empty sequence of tensors")
    for i, t in enumerate(ts):
        if t.shape != ts[0].shape:
            raise OpError(f"stack: tensor {i} has shape {t.shape}, tensor 0 has "
                             f"{ts[0].shape}; all must be equal")
    d = dim_index(dim, ts[0].ndim + 1, "stack")
    return cat([t.unsqueeze(d) for t in ts], d)


# ---- the Tensor methods as functions (torch.exp(x) == x.exp()) ---------------------------------
def exp(x: Tensor) -> Tensor:
    return _arg(x, "exp").exp()


def log(x: Tensor) -> Tensor:
    return _arg(x, "log").log()


def sqrt(x: Tensor) -> Tensor:
    return _arg(x, "sqrt").sqrt()


def abs(x: Tensor) -> Tensor:  # noqa: A001 - torch's name
    return _arg(x, "abs").abs()


def relu(x: Tensor) -> Tensor:
    return _arg(x, "relu").relu()


def sigmoid(x: Tensor) -> Tensor:
    return _arg(x, "sigmoid").sigmoid()


def tanh(x: Tensor) -> Tensor:
    return _arg(x, "tanh").tanh()


def softmax(x: Tensor, dim: int, dtype: Any = None) -> Tensor:
    return _arg(x, "softmax").softmax(dim, dtype)


def log_softmax(x: Tensor, dim: int, dtype: Any = None) -> Tensor:
    return _arg(x, "log_softmax").log_softmax(dim, dtype)


def sum(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001 - torch's name
    return _arg(x, "sum").sum(dim, keepdim)


def mean(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    return _arg(x, "mean").mean(dim, keepdim)


def amax(x: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    return _arg(x, "amax").amax(dim, keepdim)


def amin(x: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    return _arg(x, "amin").amin(dim, keepdim)


def argmax(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    return _arg(x, "argmax").argmax(dim, keepdim)


def argmin(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    return _arg(x, "argmin").argmin(dim, keepdim)


def logsumexp(x: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    return _arg(x, "logsumexp").logsumexp(dim, keepdim)


def clamp(x: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - torch's name
    return _arg(x, "clamp").clamp(min, max)


def reshape(x: Tensor, shape: Sequence[int]) -> Tensor:
    return _arg(x, "reshape").reshape(shape)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    return _arg(x, "flatten").flatten(start_dim, end_dim)


def squeeze(x: Tensor, dim: Any = None) -> Tensor:
    return _arg(x, "squeeze").squeeze(dim)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    return _arg(x, "unsqueeze").unsqueeze(dim)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    return _arg(x, "transpose").transpose(dim0, dim1)


def permute(x: Tensor, dims: Sequence[int]) -> Tensor:
    return _arg(x, "permute").permute(dims)


def split(x: Tensor, split_size: Any, dim: int = 0) -> tuple:
    return _arg(x, "split").split(split_size, dim)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple:
    return _arg(x, "chunk").chunk(chunks, dim)


def gather(x: Tensor, dim: int, index: Any) -> Tensor:
    return _arg(x, "gather").gather(dim, index)


def numel(x: Tensor) -> int:
    return _arg(x, "numel").numel()


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)




def allclose(input: Tensor, other: Tensor, rtol: float = 1e-5,  # noqa: A002 - torch's names
             atol: float = 1e-8, equal_nan: bool = False) -> bool:
    return _arg(input, "allclose").allclose(other, rtol, atol, equal_nan)


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-5,  # noqa: A002 - torch's names
            atol: float = 1e-8, equal_nan: bool = False) -> Tensor:
    return _arg(input, "isclose").isclose(other, rtol, atol, equal_nan)


# ---- elementwise math (torch.sin(x) == x.sin()) ------------------------------------------------
def _method(name: str) -> Any:
    """``micrograd.<name>(input, *args, **kwargs)``: the Tensor method ``input.<name>(...)``."""
    def function(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:  # noqa: A002
        return getattr(_arg(input, name), name)(*args, **kwargs)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``input.{name}(...)`` (torch.{name})."
    return function


sin, cos, tan = _method("sin"), _method("cos"), _method("tan")
asin, acos, atan = _method("asin"), _method("acos"), _method("atan")
arcsin, arccos, arctan = asin, acos, atan
sinh, cosh = _method("sinh"), _method("cosh")
asinh, acosh, atanh = _method("asinh"), _method("acosh"), _method("atanh")
arcsinh, arccosh, arctanh = asinh, acosh, atanh
exp2, expm1, log1p = _method("exp2"), _method("expm1"), _method("log1p")
log2, log10 = _method("log2"), _method("log10")
erf, erfc, erfinv = _method("erf"), _method("erfc"), _method("erfinv")
floor, ceil, trunc, fix = _method("floor"), _method("ceil"), _method("trunc"), _method("fix")
round, frac = _method("round"), _method("frac")  # noqa: A001 - torch's name
sign, sgn = _method("sign"), _method("sgn")
reciprocal, rsqrt, square = _method("reciprocal"), _method("rsqrt"), _method("square")
neg = negative = _method("neg")
unbind = _method("unbind")
masked_fill, index_select = _method("masked_fill"), _method("index_select")
atan2 = arctan2 = _method("atan2")
hypot, copysign = _method("hypot"), _method("copysign")
logaddexp, logaddexp2 = _method("logaddexp"), _method("logaddexp2")
fmod, lerp = _method("fmod"), _method("lerp")
clamp_min, clamp_max = _method("clamp_min"), _method("clamp_max")
nan_to_num = _method("nan_to_num")
isnan, isinf, isfinite = _method("isnan"), _method("isinf"), _method("isfinite")
floor_divide = _method("floor_divide")


def remainder(input: Any, other: Any) -> Tensor:  # noqa: A002 - torch's names
    """input - floor(input / other) * other; ``input`` may be a number (torch)."""
    a, b = _tensor_first(input, other)
    return a.remainder(b)


def pow(input: Any, exponent: Any) -> Tensor:  # noqa: A001,A002 - torch's names
    """input ** exponent; either may be a number (not both)."""
    if not isinstance(input, Tensor):
        return _arg(exponent, "pow").__rpow__(input)
    return input ** exponent


def max(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001,A002
    """``max(x)`` the largest element; ``max(x, dim)`` (values, indices); ``max(x, other)``
    the elementwise maximum."""
    return _arg(input, "max").max(dim, keepdim)


def min(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001,A002
    return _arg(input, "min").min(dim, keepdim)


# ---- arithmetic with torch's out= (written into out; not differentiable, as torch) ------------
def add(input: Any, other: Any, *, alpha: Any = 1, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """input + alpha * other."""
    a, b = _tensor_first(input, other)
    return _result(a.add(b, alpha=alpha), out, (a, b), "add")


def sub(input: Any, other: Any, *, alpha: Any = 1, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """input - alpha * other."""
    a, b = _tensor_first(input, other)
    return _result(a.sub(b, alpha=alpha), out, (a, b), "sub")


def mul(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    a, b = _tensor_first(input, other)
    return _result(a * b, out, (a, b), "mul")


def div(input: Any, other: Any, *, rounding_mode: str | None = None,  # noqa: A002
        out: Tensor | None = None) -> Tensor:
    """True division, or rounded ("trunc" / "floor"; integers stay integers)."""
    a, b = _tensor_first(input, other)
    return _result(a.div(b, rounding_mode=rounding_mode), out, (a, b), "div")


subtract, multiply, divide, true_divide = sub, mul, div, div


def matmul(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """input @ other with torch's rules (1-D operands, broadcast batch dims)."""
    return _result(_matmul(input, other), out, (input, other), "matmul")


def _result(result: Tensor, out: Tensor | None, inputs: tuple, name: str) -> Tensor:
    return result if out is None else write_out(result, out, inputs, name)


def bitwise_and(input: Any, other: Any) -> Tensor:  # noqa: A002
    return Tensor.__and__(*_tensor_first(input, other))


def bitwise_or(input: Any, other: Any) -> Tensor:  # noqa: A002
    return Tensor.__or__(*_tensor_first(input, other))


def bitwise_xor(input: Any, other: Any) -> Tensor:  # noqa: A002
    return Tensor.__xor__(*_tensor_first(input, other))


def bitwise_left_shift(input: Any, other: Any) -> Tensor:  # noqa: A002
    return Tensor.__lshift__(*_tensor_first(input, other))


def bitwise_right_shift(input: Any, other: Any) -> Tensor:  # noqa: A002
    return Tensor.__rshift__(*_tensor_first(input, other))


def bitwise_not(input: Tensor) -> Tensor:  # noqa: A002
    return _arg(input, "bitwise_not").bitwise_not()


def scatter(input: Tensor, dim: int, index: Any, src: Any = None, *,  # noqa: A002
            value: Any = None, reduce: str | None = None) -> Tensor:
    return _arg(input, "scatter").scatter(dim, index, src, value=value, reduce=reduce)


def scatter_add(input: Tensor, dim: int, index: Any, src: Any) -> Tensor:  # noqa: A002
    return _arg(input, "scatter_add").scatter_add(dim, index, src)


def scatter_reduce(input: Tensor, dim: int, index: Any, src: Any, reduce: str, *,  # noqa: A002
                   include_self: bool = True) -> Tensor:
    return _arg(input, "scatter_reduce").scatter_reduce(dim, index, src, reduce,
                                                        include_self=include_self)


def index_add(input: Tensor, dim: int, index: Any, source: Any, *,  # noqa: A002
              alpha: Any = 1) -> Tensor:
    return _arg(input, "index_add").index_add(dim, index, source, alpha=alpha)


def index_copy(input: Tensor, dim: int, index: Any, source: Any) -> Tensor:  # noqa: A002
    return _arg(input, "index_copy").index_copy(dim, index, source)


def index_fill(input: Tensor, dim: int, index: Any, value: Any) -> Tensor:  # noqa: A002
    return _arg(input, "index_fill").index_fill(dim, index, value)


def take_along_dim(input: Tensor, indices: Any, dim: int | None = None) -> Tensor:  # noqa: A002
    return _arg(input, "take_along_dim").take_along_dim(indices, dim)


def sort(input: Tensor, dim: int = -1, descending: bool = False, *,  # noqa: A002
         stable: bool = False) -> Any:
    return _arg(input, "sort").sort(dim, descending, stable=stable)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, *,  # noqa: A002
            stable: bool = False) -> Tensor:
    return _arg(input, "argsort").argsort(dim, descending, stable=stable)


def msort(input: Tensor) -> Tensor:  # noqa: A002
    return _arg(input, "msort").msort()


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True,  # noqa: A002
         sorted: bool = True) -> Any:  # noqa: A002
    return _arg(input, "topk").topk(k, dim, largest, sorted)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> Any:  # noqa: A002
    return _arg(input, "kthvalue").kthvalue(k, dim, keepdim)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None) -> Any:
    return _arg(input, "unique").unique(sorted, return_inverse, return_counts, dim)


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:  # noqa: A002
    return _arg(input, "nonzero").nonzero(as_tuple=as_tuple)


def argwhere(input: Tensor) -> Tensor:  # noqa: A002
    return _arg(input, "argwhere").nonzero()


def masked_select(input: Tensor, mask: Any) -> Tensor:  # noqa: A002
    return _arg(input, "masked_select").masked_select(mask)


def searchsorted(sorted_sequence: Tensor, values: Any, *, out_int32: bool = False,
                 right: bool = False, side: str | None = None, sorter: Any = None) -> Tensor:
    """Where ``values`` would go in the (last-dim) sorted rows of ``sorted_sequence`` to keep
    them sorted: the first such place, or the last with ``right`` / side='right'."""
    seq = _arg(sorted_sequence, "searchsorted")._array
    if side is not None:
        if side not in ("left", "right"):
            raise OpError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise RuntimeError("searchsorted: side='left' and right=True contradict each other")
        right = side == "right"
    if sorter is not None:
        seq = np.take_along_axis(seq, _arg(sorter, "searchsorted")._array, axis=-1)
    vals = values._array if isinstance(values, Tensor) else np.asarray(values)
    how = "right" if right else "left"
    dtype = np.int32 if out_int32 else np.int64
    if seq.ndim == 1:
        return wrap_array(np.searchsorted(seq, vals, side=how).astype(dtype))
    if seq.shape[:-1] != vals.shape[:-1]:
        raise OpError(f"searchsorted: the sequence of shape {seq.shape} and values of shape "
                         f"{vals.shape} must match in all dims but the last")
    rows = [np.searchsorted(s, v, side=how) for s, v in
            zip(seq.reshape(-1, seq.shape[-1]), vals.reshape(-1, vals.shape[-1]))]
    return wrap_array(np.asarray(rows, dtype).reshape(vals.shape))


_ = (maximum, minimum, where)  # re-exported from tensor.py
