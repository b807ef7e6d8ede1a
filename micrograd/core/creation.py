"""Factories (``zeros``, ``randn``, ``arange``, ...) and module-level ops (``cat``, ``stack``,
``exp``, ...) with torch's names and signatures. Random factories draw from
``micrograd.core.random.generator()``, so ``mg.manual_seed(n)`` makes them repeat.
"""
from __future__ import annotations

import inspect
from typing import Any, Sequence

import numpy as np

from . import dtypes, ops
from .errors import OpError
from .device import as_device
from .dtypes import can_cast, promote_types
from . import random as _random
from .random import generator, initial_seed, seed
from .shapes import broadcast, dim_index, shape_args
from .tensor import (Tensor, _sample_of, _tensor_first, apply_op, as_array, maximum, minimum,
                     set_printoptions, where, wrap_array, write_out)
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
           "masked_select", "searchsorted",
           # tensors as tensors: copies, views, broadcasting, dtypes
           "clone", "detach", "t", "ravel", "select", "take", "put", "split_with_sizes",
           "broadcast_to", "absolute", "positive", "isposinf", "isneginf", "index_put",
           "index_put_", "masked_scatter", "prelu", "is_same_size", "is_signed",
           "broadcast_tensors", "broadcast_shapes", "clip", "is_floating_point", "is_nonzero",
           "is_complex", "isreal", "result_type", "promote_types", "can_cast",
           "set_printoptions",
           # comparisons and logical ops
           "eq", "ne", "lt", "le", "gt", "ge", "greater", "less", "greater_equal", "less_equal",
           "not_equal", "equal", "isin", "logical_and", "logical_or", "logical_not",
           "logical_xor", "signbit",
           # more elementwise math
           "addcmul", "addcdiv", "heaviside", "xlogy", "float_power", "fmax", "fmin",
           # index factories and bucketing
           "tril_indices", "triu_indices", "bucketize",
           # random sampling and the generator's state
           "randperm", "randint_like", "normal", "bernoulli", "multinomial", "poisson", "seed",
           "initial_seed", "get_rng_state", "set_rng_state"]


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
    """A tensor of ``size`` (ints or one sequence) filled with 0, of the default float dtype
    unless ``dtype`` is given."""
    return _make(np.zeros(_size(size, "zeros"), _float_dtype(dtype)), requires_grad, device)


def ones(*size: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` (ints or one sequence) filled with 1, of the default float dtype
    unless ``dtype`` is given."""
    return _make(np.ones(_size(size, "ones"), _float_dtype(dtype)), requires_grad, device)


def empty(*size: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor of ``size`` (ints or one sequence), of the default float dtype
    unless ``dtype`` is given."""
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
    """Zeros in ``t``'s shape and dtype (``dtype`` overrides the dtype)."""
    return _make(np.zeros(*_like(t, dtype)), requires_grad, device)


def ones_like(t: Tensor, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """Ones in ``t``'s shape and dtype (``dtype`` overrides the dtype)."""
    return _make(np.ones(*_like(t, dtype)), requires_grad, device)


def empty_like(t: Tensor, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor in ``t``'s shape and dtype (``dtype`` overrides the dtype)."""
    return _make(np.empty(*_like(t, dtype)), requires_grad, device)


def full_like(t: Tensor, fill_value: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """``fill_value`` in ``t``'s shape and dtype (``dtype`` overrides the dtype)."""
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
    """Uniform draws on [0, 1) in ``t``'s shape and dtype (``dtype`` overrides the dtype)."""
    return rand(_arg(t, "rand_like").shape, dtype=t.dtype if dtype is None else dtype,
                device=device, requires_grad=requires_grad)


def randn_like(t: Tensor, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    """Standard normal draws in ``t``'s shape and dtype (``dtype`` overrides the dtype)."""
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
    """``steps`` evenly spaced values from ``start`` to ``end``, both included, of the default
    float dtype unless ``dtype`` is given."""
    if steps < 0:
        raise OpError(f"linspace: steps must be non-negative, got {steps}")
    array = np.linspace(start, end, steps).astype(_float_dtype(dtype))
    return _make(array, requires_grad, device)


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    """The n x m identity matrix (m = n by default): ones on the diagonal, zeros elsewhere."""
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
    """e ** x elementwise (``input.exp()``); integers compute in the default float dtype."""
    return _arg(x, "exp").exp()


def log(x: Tensor) -> Tensor:
    """The natural logarithm elementwise (``input.log()``); integers compute in the default
    float dtype."""
    return _arg(x, "log").log()


def sqrt(x: Tensor) -> Tensor:
    """The square root elementwise (``input.sqrt()``); integers compute in the default float
    dtype."""
    return _arg(x, "sqrt").sqrt()


def abs(x: Tensor) -> Tensor:  # noqa: A001 - torch's name
    """The absolute value elementwise (``input.abs()``)."""
    return _arg(x, "abs").abs()


def relu(x: Tensor) -> Tensor:
    """max(x, 0) elementwise (``input.relu()``)."""
    return _arg(x, "relu").relu()


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + exp(-x)) elementwise (``input.sigmoid()``)."""
    return _arg(x, "sigmoid").sigmoid()


def tanh(x: Tensor) -> Tensor:
    """The hyperbolic tangent elementwise (``input.tanh()``)."""
    return _arg(x, "tanh").tanh()


def softmax(x: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) over ``dim``, computed stably (``input.softmax(dim)``); ``dtype``
    casts the input first."""
    return _arg(x, "softmax").softmax(dim, dtype)


def log_softmax(x: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """log(softmax(x)) over ``dim``, computed stably (``input.log_softmax(dim)``); ``dtype``
    casts the input first."""
    return _arg(x, "log_softmax").log_softmax(dim, dtype)


def sum(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001 - torch's name
    """The sum over ``dim`` (all dims when None; ``keepdim`` keeps them as size 1); bools and
    integers sum in int64, as torch."""
    return _arg(x, "sum").sum(dim, keepdim)


def mean(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The average over ``dim`` (all dims when None; ``keepdim`` keeps them as size 1); floating
    point only, as torch."""
    return _arg(x, "mean").mean(dim, keepdim)


def amax(x: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """The maximum over ``dim`` (all dims when () or None); ties share the gradient, as torch."""
    return _arg(x, "amax").amax(dim, keepdim)


def amin(x: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """The minimum over ``dim`` (all dims when () or None); ties share the gradient, as torch."""
    return _arg(x, "amin").amin(dim, keepdim)


def argmax(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The index of the largest element: of the flattened tensor, or along ``dim`` (int64)."""
    return _arg(x, "argmax").argmax(dim, keepdim)


def argmin(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The index of the smallest element: of the flattened tensor, or along ``dim`` (int64)."""
    return _arg(x, "argmin").argmin(dim, keepdim)


def logsumexp(x: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``dim``, computed stably (the max subtracted first)."""
    return _arg(x, "logsumexp").logsumexp(dim, keepdim)


def clamp(x: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - torch's name
    """Each element limited to [min, max] (either bound may be None or a Tensor); ``clip`` too."""
    return _arg(x, "clamp").clamp(min, max)


def reshape(x: Tensor, shape: Sequence[int]) -> Tensor:
    """The same elements in ``shape`` (one entry may be -1), as ``input.reshape(shape)``."""
    return _arg(x, "reshape").reshape(shape)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Dims ``start_dim`` to ``end_dim`` merged into one (all by default: a 1-D tensor)."""
    return _arg(x, "flatten").flatten(start_dim, end_dim)


def squeeze(x: Tensor, dim: Any = None) -> Tensor:
    """Dims of size 1 removed: all of them, or only those in ``dim``."""
    return _arg(x, "squeeze").squeeze(dim)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """A dim of size 1 inserted at position ``dim``."""
    return _arg(x, "unsqueeze").unsqueeze(dim)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Dims ``dim0`` and ``dim1`` swapped."""
    return _arg(x, "transpose").transpose(dim0, dim1)


def permute(x: Tensor, dims: Sequence[int]) -> Tensor:
    """The dims reordered: result dim i is input's dim ``dims[i]``."""
    return _arg(x, "permute").permute(dims)


def split(x: Tensor, split_size: Any, dim: int = 0) -> tuple:
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the sizes in a
    list; views."""
    return _arg(x, "split").split(split_size, dim)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple:
    """``chunks`` pieces along ``dim``, each ceil(n / chunks) long (the last may be shorter);
    views."""
    return _arg(x, "chunk").chunk(chunks, dim)


def gather(x: Tensor, dim: int, index: Any) -> Tensor:
    """Values picked along ``dim`` by ``index``: out[i][j] = input[i][index[i][j]] for dim=1;
    out has index's shape."""
    return _arg(x, "gather").gather(dim, index)


def numel(x: Tensor) -> int:
    """The number of elements of ``x``."""
    return _arg(x, "numel").numel()


def is_tensor(obj: Any) -> bool:
    """True when ``obj`` is a micrograd Tensor (a Parameter too)."""
    return isinstance(obj, Tensor)




def allclose(input: Tensor, other: Tensor, rtol: float = 1e-5,  # noqa: A002 - torch's names
             atol: float = 1e-8, equal_nan: bool = False) -> bool:
    """True when every element of ``input`` is close to ``other``'s: |input - other| <= atol +
    rtol * |other|."""
    return _arg(input, "allclose").allclose(other, rtol, atol, equal_nan)


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-5,  # noqa: A002 - torch's names
            atol: float = 1e-8, equal_nan: bool = False) -> Tensor:
    """Elementwise |input - other| <= atol + rtol * |other| (a bool tensor); nan is close to nan
    only with ``equal_nan``."""
    return _arg(input, "isclose").isclose(other, rtol, atol, equal_nan)


# ---- elementwise math (torch.sin(x) == x.sin()) ------------------------------------------------
def _method(name: str) -> Any:
    """``micrograd.<name>(input, *args, **kwargs)``: the Tensor method ``input.<name>(...)``,
    documented by that method's docstring."""
    def function(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:  # noqa: A002
        return getattr(_arg(input, name), name)(*args, **kwargs)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = (f"{inspect.getdoc(getattr(Tensor, name)) or ''}\n\n"
                        f"``micrograd.{name}(input, ...)`` is ``input.{name}(...)`` "
                        f"(torch.{name}); ``self`` above is ``input``.")
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
    """``min(x)`` the smallest element; ``min(x, dim)`` (values, indices) along dim; ``min(x,
    other)`` the elementwise minimum."""
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
    """input * other elementwise (broadcast; either may be a number); ``out=`` writes the result
    into a tensor."""
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
    """Bitwise AND (``&``) of integer or bool operands (broadcast; either may be a number)."""
    return Tensor.__and__(*_tensor_first(input, other))


def bitwise_or(input: Any, other: Any) -> Tensor:  # noqa: A002
    """Bitwise OR (``|``) of integer or bool operands (broadcast; either may be a number)."""
    return Tensor.__or__(*_tensor_first(input, other))


def bitwise_xor(input: Any, other: Any) -> Tensor:  # noqa: A002
    """Bitwise XOR (``^``) of integer or bool operands (broadcast; either may be a number)."""
    return Tensor.__xor__(*_tensor_first(input, other))


def bitwise_left_shift(input: Any, other: Any) -> Tensor:  # noqa: A002
    """input shifted left by ``other`` bits (``<<``), integer operands."""
    return Tensor.__lshift__(*_tensor_first(input, other))


def bitwise_right_shift(input: Any, other: Any) -> Tensor:  # noqa: A002
    """input shifted right by ``other`` bits (``>>``), integer operands."""
    return Tensor.__rshift__(*_tensor_first(input, other))


def bitwise_not(input: Tensor) -> Tensor:  # noqa: A002
    """Bitwise NOT (``~``) of an integer tensor; logical not for bool."""
    return _arg(input, "bitwise_not").bitwise_not()


def scatter(input: Tensor, dim: int, index: Any, src: Any = None, *,  # noqa: A002
            value: Any = None, reduce: str | None = None) -> Tensor:
    """A copy of ``input`` with ``src`` (or ``value``) written at ``index`` along ``dim``:
    out[i][index[i][j]] = src[i][j] for dim=1."""
    return _arg(input, "scatter").scatter(dim, index, src, value=value, reduce=reduce)


def scatter_add(input: Tensor, dim: int, index: Any, src: Any) -> Tensor:  # noqa: A002
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim``; repeated indices add
    up."""
    return _arg(input, "scatter_add").scatter_add(dim, index, src)


def scatter_reduce(input: Tensor, dim: int, index: Any, src: Any, reduce: str, *,  # noqa: A002
                   include_self: bool = True) -> Tensor:
    """``src`` reduced into a copy of ``input`` at ``index`` along ``dim`` by "sum", "mean",
    "prod", "amax" or "amin" (input's values taking part unless ``include_self=False``)."""
    return _arg(input, "scatter_reduce").scatter_reduce(dim, index, src, reduce,
                                                        include_self=include_self)


def index_add(input: Tensor, dim: int, index: Any, source: Any, *,  # noqa: A002
              alpha: Any = 1) -> Tensor:
    """A copy of ``input`` with ``alpha * source``'s slices added at the slices ``index`` (1-D)
    along ``dim``."""
    return _arg(input, "index_add").index_add(dim, index, source, alpha=alpha)


def index_copy(input: Tensor, dim: int, index: Any, source: Any) -> Tensor:  # noqa: A002
    """A copy of ``input`` with ``source``'s slices put at the slices ``index`` (1-D) along
    ``dim``."""
    return _arg(input, "index_copy").index_copy(dim, index, source)


def index_fill(input: Tensor, dim: int, index: Any, value: Any) -> Tensor:  # noqa: A002
    """A copy of ``input`` with ``value`` in the slices ``index`` (1-D) along ``dim``."""
    return _arg(input, "index_fill").index_fill(dim, index, value)


def take_along_dim(input: Tensor, indices: Any, dim: int | None = None) -> Tensor:  # noqa: A002
    """``gather`` after broadcasting input and ``indices`` in every dim but ``dim`` (None: the
    flattened input)."""
    return _arg(input, "take_along_dim").take_along_dim(indices, dim)


def sort(input: Tensor, dim: int = -1, descending: bool = False, *,  # noqa: A002
         stable: bool = False) -> Any:
    """(values, indices) of input sorted along ``dim``, ascending unless ``descending``; NaN
    sorts as the largest."""
    return _arg(input, "sort").sort(dim, descending, stable=stable)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, *,  # noqa: A002
            stable: bool = False) -> Tensor:
    """The indices that sort input along ``dim`` (ascending unless ``descending``)."""
    return _arg(input, "argsort").argsort(dim, descending, stable=stable)


def msort(input: Tensor) -> Tensor:  # noqa: A002
    """input sorted along dim 0, ascending."""
    return _arg(input, "msort").msort()


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True,  # noqa: A002
         sorted: bool = True) -> Any:  # noqa: A002
    """(values, indices) of the ``k`` largest elements along ``dim`` (smallest unless
    ``largest``)."""
    return _arg(input, "topk").topk(k, dim, largest, sorted)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> Any:  # noqa: A002
    """(values, indices) of the ``k``-th smallest element along ``dim`` (k counts from 1)."""
    return _arg(input, "kthvalue").kthvalue(k, dim, keepdim)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None) -> Any:
    """The distinct values, sorted; optionally with the inverse map and the counts (``dim`` for
    unique slices)."""
    return _arg(input, "unique").unique(sorted, return_inverse, return_counts, dim)


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:  # noqa: A002
    """The indices of the nonzero elements: an (n, ndim) int64 tensor, or one 1-D tensor per dim
    with ``as_tuple``."""
    return _arg(input, "nonzero").nonzero(as_tuple=as_tuple)


def argwhere(input: Tensor) -> Tensor:  # noqa: A002
    """The indices of the nonzero elements, one row per element (``nonzero(input)``)."""
    return _arg(input, "argwhere").nonzero()


def masked_select(input: Tensor, mask: Any) -> Tensor:  # noqa: A002
    """The elements where the bool ``mask`` (broadcast) is True, as a 1-D tensor."""
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


# ---- tensors as tensors: copies, views, broadcasting, dtypes ----------------------------------
def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:  # noqa: A002
    """A copy in the graph (``memory_format`` is accepted: copies are always C-ordered)."""
    return _arg(input, "clone").clone()


detach, t, ravel = _method("detach"), _method("t"), _method("ravel")
select, take, put = _method("select"), _method("take"), _method("put")
index_put, index_put_ = _method("index_put"), _method("index_put_")
masked_scatter, prelu = _method("masked_scatter"), _method("prelu")
is_same_size, is_signed = _method("is_same_size"), _method("is_signed")
split_with_sizes = _method("split_with_sizes")
broadcast_to, clip = _method("broadcast_to"), clamp
is_floating_point = _method("is_floating_point")


is_complex, isreal, is_nonzero = _method("is_complex"), _method("isreal"), _method("is_nonzero")
absolute, positive = _method("absolute"), _method("positive")
isposinf, isneginf = _method("isposinf"), _method("isneginf")


def broadcast_shapes(*shapes: Any) -> tuple:
    """The shape tensors of ``shapes`` broadcast to (each an int or a sequence of ints)."""
    sizes = [shape_args((s,), "broadcast_shapes") for s in shapes]
    try:
        return tuple(np.broadcast_shapes(*sizes))
    except ValueError:
        raise OpError(f"broadcast_shapes: shape mismatch: objects of shapes "
                      f"{', '.join(map(str, sizes))} cannot be broadcast to a single shape"
                      ) from None


def broadcast_tensors(*tensors: Tensor) -> tuple:
    """Each tensor expanded (a view) to the shape they broadcast to together."""
    ts = [_arg(x, "broadcast_tensors") for x in tensors]
    try:
        shape = np.broadcast_shapes(*(x.shape for x in ts))
    except ValueError:  # torch's list of every shape, comma-separated
        raise OpError(f"broadcast_tensors: shapes {', '.join(str(x.shape) for x in ts)} "
                      "cannot be broadcast together") from None
    return tuple(x.expand(shape) for x in ts)


def result_type(tensor1: Any, tensor2: Any) -> dtypes.DType:
    """The dtype torch gives the result of an op on these two operands (tensors or numbers):
    tensors with dims decide over 0-d tensors, and those over numbers, unless the lower
    category holds a higher kind (bool < integer < floating)."""
    categories: dict = {"dims": None, "zero_dim": None, "numbers": None}
    for x in (tensor1, tensor2):
        if isinstance(x, Tensor):
            key, npd = ("dims" if x.ndim else "zero_dim"), x._array.dtype
        elif isinstance(x, (bool, np.bool_)):
            key, npd = "numbers", np.dtype(np.bool_)
        elif isinstance(x, (int, np.integer)):
            key, npd = "numbers", np.dtype(np.int64)
        elif isinstance(x, (float, np.floating)):
            key, npd = "numbers", dtypes.get_default_dtype().np
        else:
            raise TypeError(f"result_type(): arguments must be Tensors or numbers, got "
                            f"{type(x).__name__}")
        known = categories[key]
        categories[key] = npd if known is None else dtypes.promote(known, npd)
    return dtypes.BY_NUMPY[dtypes.result_dtype(**categories)]


# torch's module-level in-place forms (torch.relu_(x) is x.relu_())
INPLACE_FUNCTIONS = ("abs_", "acos_", "acosh_", "arccos_", "arccosh_", "arcsin_", "arcsinh_",
                     "arctan_", "arctanh_", "asin_", "asinh_", "atan_", "atanh_", "ceil_",
                     "clamp_", "clamp_max_", "clamp_min_", "clip_", "cos_", "cosh_", "detach_",
                     "erf_", "erfc_", "exp2_", "exp_", "expm1_", "fill_", "fix_", "floor_",
                     "frac_", "log10_", "log1p_", "log2_", "log_", "nan_to_num_", "neg_",
                     "negative_", "reciprocal_", "relu_", "round_", "rsqrt_", "sigmoid_", "sin_",
                     "sinh_", "sqrt_", "square_", "tan_", "tanh_", "trunc_", "xlogy_", "zero_")
globals().update({name: _method(name) for name in INPLACE_FUNCTIONS})
__all__ += INPLACE_FUNCTIONS


# ---- comparisons and logical ops (torch.eq(x, y) == x.eq(y)) -----------------------------------
eq, ne, lt, le, gt, ge = (_method(n) for n in ("eq", "ne", "lt", "le", "gt", "ge"))
greater, less, not_equal = _method("greater"), _method("less"), _method("not_equal")
greater_equal, less_equal = _method("greater_equal"), _method("less_equal")
logical_and, logical_or = _method("logical_and"), _method("logical_or")
logical_xor, logical_not = _method("logical_xor"), _method("logical_not")
equal, signbit = _method("equal"), _method("signbit")


def isin(elements: Any, test_elements: Any, *, assume_unique: bool = False,
         invert: bool = False) -> Tensor:
    """Whether each element of ``elements`` occurs in ``test_elements`` (either may be a
    number, not both); ``invert`` negates."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin(): expected at least one Tensor among elements and "
                        "test_elements")
    def values(x: Any) -> np.ndarray:
        return x._array if isinstance(x, Tensor) else np.asarray(x)
    return wrap_array(np.asarray(np.isin(values(elements), values(test_elements),
                                         invert=bool(invert))))


# ---- more elementwise math ---------------------------------------------------------------------
def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *,  # noqa: A002
            value: Any = 1) -> Tensor:
    """input + value * tensor1 * tensor2 elementwise (broadcast, dtypes promoted)."""
    return _arg(input, "addcmul").addcmul(tensor1, tensor2, value=value)


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *,  # noqa: A002
            value: Any = 1) -> Tensor:
    """input + value * tensor1 / tensor2 elementwise; two integer tensors are an error, as
    torch."""
    return _arg(input, "addcdiv").addcdiv(tensor1, tensor2, value=value)


heaviside, fmax, fmin = _method("heaviside"), _method("fmax"), _method("fmin")


def xlogy(input: Any, other: Any) -> Tensor:  # noqa: A002
    """input * log(other), 0 where input == 0; either may be a number (not both)."""
    a, b = _tensor_first(input, other)
    return a.xlogy(b)


def float_power(input: Any, exponent: Any) -> Tensor:  # noqa: A002
    """input ** exponent in float64; input may be a number when exponent is a Tensor."""
    if isinstance(input, Tensor):
        return input.float_power(exponent)
    if isinstance(input, bool) or not isinstance(input, (int, float, np.integer, np.floating)):
        raise TypeError(f"float_power(): argument 'input' must be Tensor or Number, not "
                        f"{type(input).__name__}")
    return wrap_array(np.array(input, np.float64)) ** _arg(exponent, "float_power").double()


# ---- index factories and bucketing -------------------------------------------------------------
def _triangle_indices(row: int, col: int, offset: int, dtype: Any, device: Any,
                      name: str) -> Tensor:
    as_device(device)
    for arg, n in (("row", row), ("col", col)):
        if shape_args((n,), name)[0] < 0:
            raise OpError(f"{name}: {arg} must be non-negative, got {n}")
    npd = dtypes.as_dtype(dtype).np
    if npd.kind not in "iu":
        raise NotImplementedError(f"{name}: not implemented for {dtypes.as_dtype(dtype).name} "
                                  "(the indices are integers)")
    rows, cols = (np.tril_indices if name == "tril_indices" else np.triu_indices)(row, offset, col)
    return wrap_array(np.stack([rows, cols]).astype(npd).reshape(2, -1))


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = dtypes.int64,
                 device: Any = None, layout: Any = None) -> Tensor:
    """The (2, N) row and column indices of the lower triangle of a row x col matrix (on and
    below diagonal ``offset``), row by row."""
    return _triangle_indices(row, col, offset, dtype, device, "tril_indices")


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = dtypes.int64,
                 device: Any = None, layout: Any = None) -> Tensor:
    """The (2, N) indices of the upper triangle (on and above diagonal ``offset``)."""
    return _triangle_indices(row, col, offset, dtype, device, "triu_indices")


def bucketize(input: Any, boundaries: Tensor, *, out_int32: bool = False,  # noqa: A002
              right: bool = False) -> Tensor:
    """The bucket of each value: i with boundaries[i-1] < x <= boundaries[i] (``right``:
    boundaries[i-1] <= x < boundaries[i]); ``boundaries`` is 1-D and sorted."""
    b = _arg(boundaries, "bucketize")
    if b.ndim != 1:
        raise OpError(f"bucketize: boundaries tensor must be 1 dimension, but got "
                      f"dim({b.ndim})")
    vals = input._array if isinstance(input, Tensor) else np.asarray(input)
    found = np.searchsorted(b._array, vals, side="right" if right else "left")
    return wrap_array(np.asarray(found, np.int32 if out_int32 else np.int64))


# ---- random sampling (draws from core/random.py's generator: mg.manual_seed repeats them) ----
def randperm(n: int, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """0 .. n-1 in a random order."""
    n = shape_args((n,), "randperm")[0]
    if n < 0:
        raise OpError(f"randperm: n must be non-negative, got {n}")
    npd = np.dtype(np.int64) if dtype is None else dtypes.as_dtype(dtype).np
    if npd.kind == "b":
        raise NotImplementedError("randperm: not implemented for bool")
    return _make(generator().permutation(n).astype(npd), requires_grad, device)


def randint_like(input: Tensor, low: int = 0, high: int | None = None, *,  # noqa: A002
                 dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Integers uniform on [low, high) in input's shape and dtype; ``randint_like(x, high)``
    draws from [0, high)."""
    if high is None:
        low, high = 0, low
    out = empty_like(_arg(input, "randint_like"), dtype, device).random_(low, high)
    return out.requires_grad_(True) if requires_grad else out


def normal(mean: Any, std: Any = 1.0, size: Any = None, *, dtype: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """Normal draws: elementwise for tensor ``mean`` and/or ``std`` (broadcast together; the
    result is in the graph with zero gradients, as torch), or of ``size`` for two numbers."""
    if not isinstance(mean, Tensor) and not isinstance(std, Tensor):
        if size is None:
            raise TypeError("normal(): with a number mean and std, size is required: "
                            "normal(mean, std, size)")
        if not std >= 0:
            raise OpError(f"normal expects std >= 0.0, but found std {std}")
        array = generator().normal(mean, std, _size(tuple(size) if isinstance(
            size, (tuple, list)) else (size,), "normal"))
        return _make(array.astype(_float_dtype(dtype), copy=False), requires_grad, device)
    if size is not None:
        raise TypeError("normal(): size is taken only with a number mean and std")
    as_device(device)
    params = [x for x in (mean, std) if isinstance(x, Tensor)]
    for x in params:
        if x._array.dtype.kind != "f":
            raise NotImplementedError(f"normal: not implemented for {x.dtype.name} (mean and "
                                      "std must be floating point)")
    npd = params[0]._array.dtype if len(params) == 1 else dtypes.promote(
        mean._array.dtype, std._array.dtype)
    m = mean._array if isinstance(mean, Tensor) else np.asarray(mean, npd)
    s = std._array if isinstance(std, Tensor) else np.asarray(std, npd)
    if np.any(s < 0):
        raise OpError("normal expects all elements of std >= 0.0")
    shape = broadcast("normal: mean and std", np.shape(m), np.shape(s))
    drawn = m + s * generator().standard_normal(shape)
    return _sample_of(wrap_array(np.asarray(drawn, npd)), mean, std)


def bernoulli(input: Tensor, p: Any = None) -> Tensor:  # noqa: A002
    """0 or 1 with probability ``input`` elementwise (or ``p`` for every element)."""
    return _arg(input, "bernoulli").bernoulli(p)


multinomial = _method("multinomial")


def poisson(input: Tensor) -> Tensor:  # noqa: A002
    """Poisson draws with the rates ``input`` (in its dtype; a zero gradient, as torch)."""
    x = _arg(input, "poisson")
    if x._array.dtype.kind != "f":
        raise NotImplementedError(f"poisson: not implemented for {x.dtype.name} (rates must "
                                  "be floating point)")
    if np.any(x._array < 0):
        raise OpError("poisson: invalid Poisson rate, expected rate to be non-negative")
    drawn = generator().poisson(x._array.astype(np.float64)).astype(x._array.dtype)
    return _sample_of(wrap_array(np.asarray(drawn)), x)


def get_rng_state() -> Tensor:
    """The random generator's state as a uint8 tensor (for ``set_rng_state``)."""
    return wrap_array(np.frombuffer(_random.get_state(), np.uint8).copy())


def set_rng_state(new_state: Tensor) -> None:
    """Restore a state ``get_rng_state`` returned: the draws that followed it repeat."""
    if not isinstance(new_state, Tensor):
        raise TypeError(f"set_rng_state: expected a uint8 Tensor, but got "
                        f"{type(new_state).__name__}")
    if new_state._array.dtype != np.uint8:
        raise TypeError(f"set_rng_state: RNG state must be a uint8 Tensor, got "
                        f"{new_state.dtype.name}")
    _random.set_state(new_state._array.tobytes())


_ = (maximum, minimum, where, can_cast, promote_types, set_printoptions, seed,
     initial_seed)  # re-exported from tensor.py, dtypes.py and random.py
