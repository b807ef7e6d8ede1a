"""Reductions and scans with torch's names and semantics: prod, cumsum, cumprod, cummax,
cummin, logcumsumexp, var/std (correction), var_mean/std_mean, norm (and torch.linalg's
vector_norm/matrix_norm/norm, in ``LINALG``), median/nanmedian, aminmax, count_nonzero,
all/any.

The primitives here (``Prod``, ``CumSum``, ``CumProd``, ``LogCumSumExp``, ``Var``,
``VectorNorm``, ``SVDVals``, ``EvenPick``) have no C kernel: they compute with NumPy on the
arrays, which are NumPy arrays on every backend. Their backward formulas are torch's, edge
cases included (zeros in prod/cumprod, a zero norm, a variance without degrees of freedom).
Everything else is composed of Tensor ops, so it needs no backward of its own.
"""
from __future__ import annotations

import math
import warnings
from collections import namedtuple
from typing import Any, Callable

import numpy as np

from . import dtypes
from .autograd import no_grad
from .creation import cat
from .errors import OpError
from .ops import Function
from .shapes import broadcast, count, dim_index, drop_axes, reduce_axes, shape_args
from .tensor import (SortResult, Tensor, _inplace, _not_differentiable, _sort_indices, apply_op,
                     where, wrap_array, write_out)

__all__: list[str] = ["prod", "cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "var",
                      "std", "var_mean", "std_mean", "norm", "median", "nanmedian", "aminmax",
                      "count_nonzero", "all", "any", "nansum", "nanmean", "diff", "histc",
                      "bincount", "dist", "cosine_similarity", "pairwise_distance"]

AminmaxResult = namedtuple("AminmaxResult", ["min", "max"])  # torch.return_types.aminmax
AminmaxResult.__doc__ = "(min, max) of ``aminmax``, as torch.return_types.aminmax."


# ---- argument handling -----------------------------------------------------------------------
def _tensor(x: Any, name: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be a Tensor, not {type(x).__name__}")
    return x


def _accumulating(x: Tensor, dtype: Any, name: str) -> Tensor:
    """The input of sum-like ops (prod, cumsum, cumprod): cast to ``dtype`` when given, else
    bools and integers widened to int64, as torch."""
    _tensor(x, name)
    if dtype is not None:
        return x.to(dtype)
    if x._array.dtype.kind in "iub" and x._array.dtype != np.int64:
        return x.to(dtypes.int64)
    return x


def _all_dims_if_empty(dim: Any) -> Any:
    """torch reads ``dim=()`` / ``dim=[]`` as every dim in var, std, norms and count_nonzero."""
    return None if isinstance(dim, (tuple, list)) and not dim else dim


def _keep(g: np.ndarray, shape: tuple, axes: tuple | None, keepdims: bool) -> np.ndarray:
    """A reduction's cotangent reshaped to broadcast against its input (keepdim form)."""
    if keepdims:
        return g
    return g.reshape(tuple(1 if axes is None or i in axes else n for i, n in enumerate(shape)))


def _along_last(a: np.ndarray, axis: int | None) -> np.ndarray:
    """``a`` with ``axis`` moved last (flattened when None), for scans along one axis."""
    return a.reshape(-1) if axis is None else np.moveaxis(a, axis, -1)


def _reversed_cumsum(a: np.ndarray, axis: int) -> np.ndarray:
    return np.flip(np.cumsum(np.flip(a, axis), axis=axis), axis)


# ---- prod ------------------------------------------------------------------------------------
class Prod(Function):
    """out = prod of x over axis (all when None)
    dx = g * (product of the other elements), from exclusive cumulative products on both
    sides: exact with zeros in x (one zero: only it gets a gradient; two: none), as torch."""

    def forward(self, x, axis, keepdims):
        self.x, self.axis, self.keepdims = x, axis, keepdims
        return np.asarray(np.prod(x, axis=axis, keepdims=keepdims), x.dtype)

    def backward(self, g):
        x, axis = self.x, self.axis
        if x.size == 0:
            return (np.zeros_like(x),)
        a = _along_last(x, axis)
        ones = np.ones(a.shape[:-1] + (1,), a.dtype)
        left = np.cumprod(np.concatenate([ones, a[..., :-1]], -1), -1)
        right = np.flip(np.cumprod(np.flip(np.concatenate([a[..., 1:], ones], -1), -1), -1), -1)
        others = left * right
        others = others.reshape(x.shape) if axis is None else np.moveaxis(others, -1, axis)
        return (np.asarray(_keep(g, x.shape, None if axis is None else (axis,), self.keepdims)
                           * others, x.dtype),)


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *,  # noqa: A002
         dtype: Any = None) -> Tensor:
    """Product of all elements, or along one ``dim``; integers and bools give int64 unless
    ``dtype`` says otherwise (torch)."""
    x = _accumulating(input, dtype, "prod")
    if dim is None:
        if keepdim:
            raise TypeError("prod(): keepdim=True needs a dim (as torch)")
        return apply_op(Prod, x, axis=None, keepdims=False)
    d = dim_index(dim, x.ndim, "prod")
    return apply_op(Prod, x, axis=d if x.ndim else None, keepdims=keepdim)


# ---- scans -----------------------------------------------------------------------------------
def _scan(cls: type, x: Tensor, dim: int, name: str) -> Tensor:
    """Run the scan primitive ``cls`` along ``dim`` (a 0-d tensor scans as one element)."""
    d = dim_index(dim, x.ndim, name)
    if x.ndim == 0:
        return apply_op(cls, x.reshape(1), axis=0).reshape(())
    return apply_op(cls, x, axis=d)


class CumSum(Function):
    """out[i] = sum_{j<=i} x[j] along axis    dx[j] = sum_{i>=j} g[i] (a reversed cumsum)"""
    saves_inputs = ()

    def forward(self, x, axis):
        self.axis = axis
        return np.cumsum(x, axis=axis, dtype=x.dtype)

    def backward(self, g):
        return (_reversed_cumsum(g, self.axis),)


class CumProd(Function):
    """out[i] = prod_{j<=i} x[j] along axis
    dx[k] = sum_{i>=k} g[i] prod_{j<=i, j!=k} x[j]: before a row's first zero that is
    revcumsum(g out)[k] / x[k]; at the first zero, the same sum with that zero read as 1;
    after it 0 (torch's cumprod_backward)."""
    saves_output = True

    def forward(self, x, axis):
        self.x, self.axis = x, axis
        self.out = np.cumprod(x, axis=axis, dtype=x.dtype)
        return self.out

    def backward(self, g):
        if self.x.size == 0:
            return (np.zeros_like(self.x),)
        x, out, g = (np.moveaxis(a, self.axis, -1) for a in (self.x, self.out, g))
        n = x.shape[-1]
        pos = np.arange(n)
        zero = x == 0
        first = np.where(zero.any(-1), zero.argmax(-1), n)[..., None]  # n: no zero
        with np.errstate(divide="ignore", invalid="ignore"):
            dx = np.where(pos < first, _reversed_cumsum(g * out, -1) / x, 0)
        if (first < n).any():
            out1 = np.cumprod(np.where(pos == first, 1, x), -1)
            at_zero = np.sum(np.where(pos >= first, g * out1, 0), -1, keepdims=True)
            dx = np.where(pos == first, at_zero, dx)
        return (np.moveaxis(dx.astype(x.dtype, copy=False), -1, self.axis),)


class LogCumSumExp(Function):
    """out[i] = log sum_{j<=i} exp(x[j]) (logaddexp accumulated: stable)
    dx[k] = sum_{i>=k} g[i] exp(x[k] - out[i]), computed as torch does: the cotangent split
    by sign, each part summed in log space (exp(revlogcumsumexp(log|g| - out) + x))."""
    saves_output = True

    def forward(self, x, axis):
        self.x, self.axis = x, axis
        self.out = np.logaddexp.accumulate(x, axis=axis)
        return self.out

    def backward(self, g):
        x, out, axis = self.x, self.out, self.axis
        lowest = np.finfo(g.dtype).min

        def part(mask: np.ndarray) -> np.ndarray:
            log_g = np.where(mask, log_abs, lowest) - out
            rev = np.flip(np.logaddexp.accumulate(np.flip(log_g, axis), axis=axis), axis)
            return np.exp(rev + x)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            log_abs = np.log(np.abs(g))
            return ((part(g > 0) - part(g < 0)).astype(x.dtype, copy=False),)


def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:  # noqa: A002
    """Running sum along ``dim``; integers and bools give int64 unless ``dtype`` is given."""
    return _scan(CumSum, _accumulating(input, dtype, "cumsum"), dim, "cumsum")


def cumprod(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:  # noqa: A002
    """Running product along ``dim``; the gradient is exact where x has zeros (torch)."""
    return _scan(CumProd, _accumulating(input, dtype, "cumprod"), dim, "cumprod")


def logcumsumexp(input: Tensor, dim: int) -> Tensor:  # noqa: A002
    """log(cumsum(exp(x))) along ``dim`` without overflow; floating point only (torch)."""
    x = _tensor(input, "logcumsumexp")
    if x._array.dtype.kind != "f":
        raise NotImplementedError(f"logcumsumexp: not implemented for {x.dtype.name} tensors "
                                  "(as torch); convert with .float()")
    return _scan(LogCumSumExp, x, dim, "logcumsumexp")


def _cumulative_extreme(x: Tensor, dim: int, name: str) -> SortResult:
    """(values, indices) of the running max (min) along dim: the index is the last position
    holding the running value (NaN included, which wins from where it appears), as torch;
    values are gathered there, so the gradient goes to those positions."""
    _tensor(x, name)
    d = dim_index(dim, x.ndim, name)
    if x.ndim == 0:
        return SortResult(x.clone(), wrap_array(np.zeros((), np.int64)))
    a = x._array
    ufunc = np.maximum if name == "cummax" else np.minimum
    running = ufunc.accumulate(a, axis=d)
    hit = a == running
    if a.dtype.kind == "f":
        hit |= np.isnan(a) & np.isnan(running)
    pos = np.arange(a.shape[d], dtype=np.int64).reshape((-1,) + (1,) * (a.ndim - d - 1))
    idx = np.maximum.accumulate(np.where(hit, pos, 0), axis=d)
    return SortResult(x.gather(d, idx), wrap_array(idx))


def cummax(input: Tensor, dim: int) -> SortResult:  # noqa: A002
    """(values, indices): the running maximum along ``dim`` and where it was taken."""
    return _cumulative_extreme(input, dim, "cummax")


def cummin(input: Tensor, dim: int) -> SortResult:  # noqa: A002
    """(values, indices): the running minimum along ``dim`` and where it was taken."""
    return _cumulative_extreme(input, dim, "cummin")


def _scan_(name: str, fn: Callable) -> Callable:
    """``Tensor.cumsum_`` / ``cumprod_``: the scan written into self (its dtype kept)."""
    def scan_(self: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
        if dtype is not None and dtypes.as_dtype(dtype).np != self._array.dtype:
            raise OpError(f"{name}: Bad in-place call: input tensor dtype {self.dtype.name} "
                          f"and output tensor dtype {dtypes.as_dtype(dtype).name} should match")
        dim_index(dim, self.ndim, name)
        return _inplace(self, name, lambda t: fn(t, dim))
    scan_.__name__ = scan_.__qualname__ = name
    scan_.__doc__ = (f"``x.{name}(dim)``: in-place ``x.{name[:-1]}(dim)`` (torch.Tensor.{name}), "
                     f"written into x's storage, whose dtype it keeps.")
    return scan_


# ---- variance and standard deviation ---------------------------------------------------------
class Var(Function):
    """out = sum((x - mean)^2) / max(0, n - c) over axes (all when None)
    dx = g * 2 (x - mean) / (n - c); over all dims with n - c <= 0, torch's g * (nan where
    x == mean, else inf)."""

    def forward(self, x, axes, correction, keepdims, name):
        self.x, self.axes, self.keepdims, self.c = x, axes, keepdims, correction
        self.n = count(x.shape, axes)
        if self.n - correction <= 0:
            warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly "
                          "less than the reduction factor (input numel divided by output numel).",
                          UserWarning, stacklevel=4)
        with np.errstate(divide="ignore", invalid="ignore"):
            self.mean = np.asarray(np.sum(x, axis=axes, keepdims=True) / self.n, x.dtype)
            d = x - self.mean
            out = np.sum(d * d, axis=axes, keepdims=keepdims) / max(0, self.n - correction)
        return np.asarray(out, x.dtype)

    def backward(self, g):
        g = _keep(g, self.x.shape, self.axes, self.keepdims)
        dof = self.n - self.c
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.axes is None and dof <= 0:
                dx = g * np.where(self.x == self.mean, np.nan, np.inf)
            else:
                dx = (np.float64(2.0) / dof if dof else np.inf) * g * (self.x - self.mean)
        return (np.asarray(dx, self.x.dtype),)


def _var_args(x: Any, dim: Any, unbiased: Any, correction: Any, name: str) -> tuple:
    """(x, axes, correction) from torch's var/std overloads: (dim, unbiased, keepdim),
    (unbiased) alone, or (dim, *, correction)."""
    _tensor(x, name)
    if isinstance(dim, bool):  # torch.var(x, False): the legacy (input, unbiased) overload
        if unbiased is not None:
            raise TypeError(f"{name}(): got unbiased twice")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}(): give either unbiased= or correction=, not both (as torch)")
    if unbiased is not None and not isinstance(unbiased, (bool, np.bool_)):
        raise TypeError(f"{name}(): unbiased must be a bool, got {type(unbiased).__name__}")
    if x._array.dtype.kind != "f":
        raise OpError(f"{name}(): std and var only support floating point dtypes, got "
                      f"{x.dtype.name} (as torch); convert with .float()")
    if correction is None:
        correction = 0 if unbiased is False else 1
    elif isinstance(correction, bool) or not isinstance(correction, (int, float, np.number)):
        raise TypeError(f"{name}(): correction must be a number, got {correction!r}")
    dim = _all_dims_if_empty(dim)
    axes = reduce_axes(dim, x.ndim, name)
    return x, (None if x.ndim == 0 else axes), correction


def var(input: Tensor, dim: Any = None, unbiased: bool | None = None,  # noqa: A002
        keepdim: bool = False, *, correction: float | None = None) -> Tensor:
    """Variance over ``dim`` (int, tuple, or None for all), dividing by n - correction
    (correction 1 by default: unbiased; ``unbiased=False`` is correction 0), as torch."""
    x, axes, c = _var_args(input, dim, unbiased, correction, "var")
    return apply_op(Var, x, axes=axes, correction=c, keepdims=keepdim, name="var")


def _sqrt_var(v: Tensor) -> Tensor:
    """sqrt(v) whose gradient is 0 where v is 0, as torch's std (not 1/0 * 0 = nan): the sqrt
    runs on 1 there and the result is masked."""
    zero = v == 0
    return where(zero, 0.0, where(zero, 1.0, v).sqrt())


def std(input: Tensor, dim: Any = None, unbiased: bool | None = None,  # noqa: A002
        keepdim: bool = False, *, correction: float | None = None) -> Tensor:
    """sqrt(var) with var's arguments; the gradient is 0 where the variance is 0 (torch)."""
    x, axes, c = _var_args(input, dim, unbiased, correction, "std")
    return _sqrt_var(apply_op(Var, x, axes=axes, correction=c, keepdims=keepdim, name="std"))


def var_mean(input: Tensor, dim: Any = None, unbiased: bool | None = None,  # noqa: A002
             keepdim: bool = False, *, correction: float | None = None) -> tuple:
    """(var, mean) over the same dims (a plain tuple, as torch)."""
    x, axes, c = _var_args(input, dim, unbiased, correction, "var_mean")
    v = apply_op(Var, x, axes=axes, correction=c, keepdims=keepdim, name="var_mean")
    return v, x.mean(axes, keepdim)


def std_mean(input: Tensor, dim: Any = None, unbiased: bool | None = None,  # noqa: A002
             keepdim: bool = False, *, correction: float | None = None) -> tuple:
    """(std, mean) over the same dims (a plain tuple, as torch)."""
    x, axes, c = _var_args(input, dim, unbiased, correction, "std_mean")
    v = apply_op(Var, x, axes=axes, correction=c, keepdims=keepdim, name="std_mean")
    return _sqrt_var(v), x.mean(axes, keepdim)


# ---- norms -----------------------------------------------------------------------------------
class VectorNorm(Function):
    """out = (sum |x|^p)^(1/p) over axes (all when None); max |x| for p = inf, min for -inf,
    the count of non-zeros for p = 0
    dx, torch's formulas: p = 1: sgn(x) g;  p = 2: g x / out (0 where out = 0);  inf: g
    shared by the entries where |x| = out;  p < 1: g sgn(x) |x|^(p-1) out^(1-p) (0 at x = 0);
    otherwise g x |x|^(p-2) / out^(p-1) (0 where out = 0);  p = 0: 0."""
    saves_output = True

    def forward(self, x, ord, axes, keepdims):  # noqa: A002 - torch's name
        self.x, self.ord, self.axes, self.keepdims = x, ord, axes, keepdims
        a = np.abs(x)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            if ord == math.inf:
                out = np.max(a, axis=axes, keepdims=True)
            elif ord == -math.inf:
                out = np.min(a, axis=axes, keepdims=True)
            elif ord == 0:
                out = np.sum(a != 0, axis=axes, keepdims=True)
            elif ord == 1:
                out = np.sum(a, axis=axes, keepdims=True)
            elif ord == 2:
                out = np.sqrt(np.sum(a * a, axis=axes, keepdims=True))
            else:
                out = np.sum(a ** ord, axis=axes, keepdims=True) ** (1.0 / ord)
        self.out = np.asarray(out, x.dtype)
        return self.out if keepdims else self.out.reshape(drop_axes(x.shape, axes))

    def backward(self, g):
        x, p, norm = self.x, self.ord, self.out
        g = _keep(g, x.shape, self.axes, self.keepdims)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            if p == 0:
                dx = np.zeros_like(x)
            elif p == 1:
                dx = np.sign(x) * g
            elif p == 2:
                dx = g * np.where(norm == 0, 0, x / norm)
            elif math.isinf(p):
                a = np.abs(x)
                mask = (a == norm) | np.isnan(a)
                dx = np.sign(x) * (g / np.sum(mask, axis=self.axes, keepdims=True)) * mask
            elif p < 1:
                scaled = np.sign(x) * np.where(x == 0, 0, np.abs(x) ** (p - 1))
                dx = scaled * g * norm ** (1 - p)
            else:
                scaled = np.sign(x) * np.abs(x) ** (p - 1) if p < 2 else x * np.abs(x) ** (p - 2)
                dx = scaled * np.where(norm == 0, 0, g / norm ** (p - 1))
        return (np.asarray(dx, x.dtype),)


class SVDVals(Function):
    """out = the singular values of each matrix (the last two dims), descending
    dx = U diag(g) V^T (reduced SVD): torch's svd_backward when only the values are used."""
    saves_inputs = ()  # backward reads U and V^T, computed here

    def forward(self, a):
        self.u, s, self.vh = np.linalg.svd(a, full_matrices=False)
        return s.astype(a.dtype, copy=False)

    def backward(self, g):
        return ((self.u * g[..., None, :]) @ self.vh,)


def _floating(x: Any, dtype: Any, name: str) -> Tensor:
    """The input of a norm: floating point, cast to ``dtype`` (a floating dtype at least as
    wide as the input's) when given, with torch's errors."""
    _tensor(x, name)
    if x._array.dtype.kind != "f":
        raise OpError(f"{name}: Expected a floating point or complex tensor as input. Got "
                      f"{x.dtype.name}")
    if dtype is None:
        return x
    d = dtypes.as_dtype(dtype)
    if not d.is_floating_point:
        raise OpError(f"{name}: dtype should be floating point or complex, but got {d.name}")
    if d.itemsize < x._array.dtype.itemsize:
        raise OpError(f"{name}: the dtype of the input ({x.dtype.name}) should be convertible "
                      f"without narrowing to the specified dtype ({d.name})")
    return x.to(d)


def _number(value: Any, what: str, name: str) -> float:
    if not isinstance(value, (int, float, np.integer, np.floating)):  # True is 1, as torch
        raise TypeError(f"{name}: {what} must be a number, got {value!r}")
    return float(value)


def vector_norm(x: Tensor, ord: float = 2, dim: Any = None,  # noqa: A002 - torch's names
                keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """torch.linalg.vector_norm: the ``ord``-norm of x flattened over ``dim`` (int, tuple;
    None or () for all dims). inf / -inf: max / min |x|; 0: the count of non-zeros. The
    2-norm's gradient at 0 is 0, as torch."""
    name = "linalg.vector_norm"
    p = _number(ord, "ord", name)
    x = _floating(x, dtype, name)
    axes = reduce_axes(_all_dims_if_empty(dim), x.ndim, name)
    axes = None if x.ndim == 0 else axes
    if p < 0 or p == math.inf:
        shown = ("inf" if p > 0 else "-inf") if math.isinf(p) else f"{ord}"
        if axes is None and x.numel() == 0:
            raise OpError(f"{name} cannot compute the {shown} norm on an empty tensor because "
                          "the operation does not have an identity")
        for i in axes or ():
            if x.shape[i] == 0:
                raise OpError(f"{name} cannot compute the {shown} norm on the dimension {i} "
                              "because this dimension is empty and the operation does not "
                              "have an identity")
    return apply_op(VectorNorm, x, ord=p, axes=axes, keepdims=keepdim)


def _matrix_dims(x: Tensor, dim: Any, name: str) -> tuple:
    if not isinstance(dim, (tuple, list)):
        raise TypeError(f"{name}: dim must be a tuple of two ints, got {dim!r}")
    if len(dim) != 2:
        raise OpError(f"{name}: dim must be a 2-tuple. Got {' '.join(str(d) for d in dim)}")
    if x.ndim < 2:
        raise OpError(f"{name}: The input tensor A must have at least 2 dimensions.")
    d0, d1 = (dim_index(d, x.ndim, name) for d in dim)
    if d0 == d1:
        raise OpError(f"{name}: dims must be different. Got ({dim[0]}, {dim[1]})")
    return d0, d1


def matrix_norm(A: Tensor, ord: Any = "fro", dim: Any = (-2, -1),  # noqa: A002, N803
                keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """torch.linalg.matrix_norm over the two dims ``dim``: 'fro', 'nuc' (sum of singular
    values), 2 / -2 (largest / smallest singular value), 1 / -1 (max / min column sum of
    |A|), inf / -inf (max / min row sum). The singular values come from NumPy's SVD; their
    gradient is U diag(g) V^T, as torch's."""
    name = "linalg.matrix_norm"
    if isinstance(ord, str):
        if ord not in ("fro", "nuc"):
            raise OpError(f"{name}: Order {ord} not supported.")
    elif _number(ord, "ord", name) not in (1, -1, 2, -2, math.inf, -math.inf):
        raise OpError(f"{name}: Order {ord} not supported.")
    _tensor(A, name)
    d0, d1 = _matrix_dims(A, dim, name)
    A = _floating(A, dtype, name)
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord == "nuc" or abs(ord) == 2:
        if A._array.dtype == np.float16:
            raise OpError(f"{name}: Low precision dtypes not supported. Got float16")
        rest = [i for i in range(A.ndim) if i not in (d0, d1)]
        s = apply_op(SVDVals, A.permute(*rest, d0, d1))
        out = s.sum(-1) if ord == "nuc" else _max_min(s, -1, False, ord > 0)
        if keepdim:
            for i in sorted((d0, d1)):
                out = out.unsqueeze(i)
        return out
    if math.isinf(ord):  # row sums: reduce d1 first
        d0, d1 = d1, d0
    v = vector_norm(A, 1, d0, keepdim)
    return _max_min(v, d1 - 1 if not keepdim and d0 < d1 else d1, keepdim, ord > 0)


def _max_min(t: Tensor, dim: int, keepdim: bool, largest: bool) -> Tensor:
    """amax / amin of non-negative values; the max over an empty dim is 0, as torch's matrix
    norms give (amin there raises, as torch)."""
    if largest and t.shape[dim] == 0:
        return t.sum(dim, keepdim)
    return t.amax(dim, keepdim) if largest else t.amin(dim, keepdim)


def linalg_norm(A: Tensor, ord: Any = None, dim: Any = None,  # noqa: A002, N803
                keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """torch.linalg.norm: a matrix norm when ``dim`` has two dims (or is None with ``ord`` set
    on a 2-D input), else a vector norm; ord=None is the 2-norm / Frobenius norm."""
    name = "linalg.norm"
    _tensor(A, name)
    if dim is not None:
        dims = list(dim) if isinstance(dim, (tuple, list)) else [dim]
        if len(dims) not in (1, 2):
            raise OpError(f"{name}: If dim is specified, it must be of length 1 or 2. Got "
                          f"{dims}")
    else:
        dims = None
        if ord is not None and A.ndim not in (1, 2):
            raise OpError(f"{name}: If dim is not specified but ord is, the input must be 1D "
                          f"or 2D. Got {A.ndim}D.")
    if isinstance(ord, str) or (ord is not None and (len(dims) == 2 if dims else A.ndim == 2)):
        return matrix_norm(A, ord, tuple(dims or (0, 1)), keepdim, dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)


def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False,  # noqa: A002
         out: Tensor | None = None, dtype: Any = None) -> Tensor:
    """torch.norm: 'fro' (and numbers) is a vector norm over ``dim`` (all dims when None);
    'nuc', or 'fro' over more than two dims, a matrix norm."""
    _tensor(input, "norm")
    dims = [dim] if dim is not None and not isinstance(dim, (tuple, list)) else dim
    if isinstance(p, str):
        if p == "fro" and (dims is None or len(dims) <= 2):
            result = vector_norm(input, 2, dims, keepdim, dtype=dtype)
        else:
            dims = list(range(input.ndim)) if dims is None else dims
            result = matrix_norm(input, p, tuple(dims), keepdim, dtype=dtype)
    else:
        result = vector_norm(input, 2.0 if p is None else p, dims, keepdim, dtype=dtype)
    return result if out is None else write_out(result, out, (input,), "norm")


def _norm_method(self: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False,
                 dtype: Any = None) -> Tensor:
    """The ``p``-norm of self over ``dim`` (all dims when None; 'fro' by default, 'nuc' a
    matrix norm), as torch.Tensor.norm: torch.norm without ``out``, so ``dtype`` is the
    fourth argument."""
    return norm(self, p, dim, keepdim, dtype=dtype)


LINALG: dict[str, Callable] = {"vector_norm": vector_norm, "matrix_norm": matrix_norm,
                               "norm": linalg_norm}


# ---- median, aminmax, counts, all / any ------------------------------------------------------
class EvenPick(Function):
    """out = value, an element of x picked by the caller (median over all elements)
    dx = g shared evenly by the elements equal to value (by the NaNs when it is NaN), as
    torch's evenly_distribute_backward."""

    def forward(self, x, value):
        self.x, self.value = x, value
        return np.asarray(value, x.dtype)

    def backward(self, g):
        x = self.x
        mask = np.isnan(x) if np.isnan(self.value) else x == self.value
        return (np.asarray(mask * (g / np.sum(mask)), x.dtype),)


def _median(x: Tensor, dim: Any, keepdim: bool, skip_nan: bool) -> Any:
    """median / nanmedian: the lower median (index (n-1)//2 of the sorted values); a NaN
    wins unless ``skip_nan``, which takes the median of the others (NaN if there are none)."""
    name = "nanmedian" if skip_nan else "median"
    _tensor(x, name)
    a = x._array
    if a.dtype == np.bool_:
        raise NotImplementedError(f"{name}: not implemented for bool tensors (as torch)")
    nan = np.isnan(a) if a.dtype.kind == "f" else np.zeros(a.shape, np.bool_)
    if dim is None:
        if keepdim:
            raise TypeError(f"{name}(): keepdim=True needs a dim (as torch)")
        if a.size == 0 and a.dtype.kind != "f":
            raise OpError(f"{name}(): the median of an empty {x.dtype.name} tensor has no "
                          "value (torch returns an arbitrary number)")
        vals = a[~nan] if skip_nan else a.reshape(-1)
        if vals.size == 0 or (not skip_nan and nan.any()):
            value = np.nan
        else:
            k = (vals.size - 1) // 2
            value = np.partition(vals, k)[k]
        return apply_op(EvenPick, x, value=value)
    d = dim_index(dim, x.ndim, name)
    if x.ndim == 0:
        return SortResult(x.clone(), wrap_array(np.zeros((), np.int64)))
    n = a.shape[d]
    if n == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    order = _sort_indices(a, d, False)  # stable, NaN last
    valid = n - np.sum(nan, axis=d, keepdims=True)
    if skip_nan:
        k = np.maximum(valid - 1, 0) // 2
    else:
        k = np.where(valid < n, valid, (n - 1) // 2)  # the first NaN, or the lower median
    idx = np.take_along_axis(order, k, axis=d)
    values = x.gather(d, idx)
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return SortResult(values, wrap_array(idx))


def median(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:  # noqa: A002
    """No dim: the lower median of all elements (its gradient shared by the elements equal to
    it, as torch). With dim: (values, indices) along dim, the gradient to the chosen index."""
    return _median(input, dim, keepdim, skip_nan=False)


def nanmedian(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:  # noqa: A002
    """median ignoring NaNs (NaN only where every value is NaN)."""
    return _median(input, dim, keepdim, skip_nan=True)


def aminmax(input: Tensor, *, dim: int | None = None,  # noqa: A002
            keepdim: bool = False) -> AminmaxResult:
    """(min, max) over all elements or along one dim; gradients shared by ties (amin/amax)."""
    x = _tensor(input, "aminmax")
    axes = None if dim is None else (dim_index(dim, x.ndim, "aminmax"),)
    if axes is None and x.numel() == 0:
        raise OpError("aminmax(): cannot compute aminmax over an empty dimension as the "
                      "operation has no identity.")
    if axes is not None and x.ndim and x.shape[axes[0]] == 0:
        raise IndexError(f"aminmax: Expected reduction dim {axes[0]} to have non-zero size.")
    if axes is None and keepdim:
        axes = tuple(range(x.ndim))
    reduce_dim = () if axes is None else axes
    return AminmaxResult(x.amin(reduce_dim, keepdim), x.amax(reduce_dim, keepdim))


def count_nonzero(input: Tensor, dim: Any = None) -> Tensor:  # noqa: A002
    """How many elements are not zero, over ``dim`` (int or tuple; all when None); int64."""
    x = _tensor(input, "count_nonzero")
    axes = reduce_axes(_all_dims_if_empty(dim), x.ndim, "count_nonzero")
    return wrap_array(np.asarray(np.sum(x._array != 0, axis=axes), np.int64))


def _logical(x: Tensor, dim: Any, keepdim: bool, name: str) -> Tensor:
    """all / any over ``dim`` (int or tuple; None for all dims, () for none): bool, or uint8
    for a uint8 input (torch)."""
    _tensor(x, name)
    axes = reduce_axes(dim, x.ndim, name)
    fn = np.all if name == "all" else np.any
    out = fn(x._array != 0, axis=axes, keepdims=keepdim)
    return wrap_array(np.asarray(out, np.uint8 if x._array.dtype == np.uint8 else np.bool_))


def all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001,A002
    """True where every element (over ``dim``) is non-zero."""
    return _logical(input, dim, keepdim, "all")


def any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001,A002
    """True where some element (over ``dim``) is non-zero."""
    return _logical(input, dim, keepdim, "any")


# ---- NaN-skipping reductions, differences, counting ---------------------------------------
def nansum(input: Tensor, dim: Any = None, keepdim: bool = False, *,  # noqa: A002
           dtype: Any = None) -> Tensor:
    """sum with NaNs counted as zero (their gradient is zero)."""
    x = _tensor(input, "nansum")
    if x._array.dtype.kind == "f":
        x = where(x.isnan(), 0.0, x)
    return x.sum(dim, keepdim, dtype=dtype)


def nanmean(input: Tensor, dim: Any = None, keepdim: bool = False, *,  # noqa: A002
            dtype: Any = None) -> Tensor:
    """mean of the elements that are not NaN (NaN where there are none)."""
    x = _tensor(input, "nanmean")
    if x._array.dtype.kind != "f":
        raise OpError(f"nanmean(): expected input to have floating point dtype but got "
                      f"{x.dtype.name}")
    kept = x.isnan().logical_not().sum(dim, keepdim)
    with np.errstate(invalid="ignore", divide="ignore"):  # 0 / 0: NaN, silently as torch
        return nansum(x, dim, keepdim, dtype=dtype) / kept


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Tensor | None = None,  # noqa: A002
         append: Tensor | None = None) -> Tensor:
    """The ``n``-th forward difference along ``dim`` (out[i] = x[i+1] - x[i], repeated), after
    joining ``prepend`` and ``append``; bools give x[i+1] != x[i]."""
    x = _tensor(input, "diff")
    if x.ndim == 0:
        raise OpError("diff expects input to be at least one-dimensional")
    n = shape_args((n,), "diff")[0]
    if n < 0:
        raise OpError(f"diff: order must be non-negative but got {n}")
    d = dim_index(dim, x.ndim, "diff")
    ends = []
    for name, extra in (("prepend", prepend), ("append", append)):
        if extra is not None:
            _tensor(extra, f"diff {name}")
            if extra.ndim != x.ndim:
                raise OpError(f"diff expects prepend or append to be the same dimension as "
                              f"input ({name} has {extra.ndim} dims, input {x.ndim})")
        ends.append(extra)
    if ends[0] is not None or ends[1] is not None:
        x = cat([t for t in (ends[0], x, ends[1]) if t is not None], d)
    lead = (slice(None),) * d
    for _ in range(n):
        hi, lo = x[lead + (slice(1, None),)], x[lead + (slice(None, -1),)]
        x = hi.logical_xor(lo) if x._array.dtype == np.bool_ else hi - lo
    return x


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0  # noqa: A001,A002
          ) -> Tensor:
    """Counts of the elements in ``bins`` equal-width bins over [min, max] (the data's range
    when min == max; elements outside are skipped), in the input's floating dtype; computed
    as torch does, in that dtype, so elements on a bin edge fall where torch puts them."""
    x = _tensor(input, "histc")
    npd = x._array.dtype
    if npd.kind != "f":
        raise NotImplementedError(f"histc: not implemented for {x.dtype.name} (floating point "
                                  "input only, as torch)")
    bins = shape_args((bins,), "histc")[0]
    if bins <= 0:
        raise OpError(f"histc: bins must be > 0, but got {bins}")
    a = x._array.reshape(-1)
    lo, hi = npd.type(min), npd.type(max)
    if lo > hi:
        raise OpError(f"histc: max must be larger than min (got min={min}, max={max})")
    if lo == hi and a.size:
        lo, hi = a.min(), a.max()
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise OpError(f"histc: range of [{lo}, {hi}] is not finite")
    inside = a[(a >= lo) & (a <= hi)]
    with np.errstate(over="ignore", invalid="ignore"):
        pos = ((inside - lo) * npd.type(bins) / (hi - lo)).astype(np.int64)
    pos[pos == bins] = bins - 1
    return wrap_array(np.bincount(pos, minlength=bins).astype(npd))


def bincount(input: Tensor, weights: Tensor | None = None,  # noqa: A002
             minlength: int = 0) -> Tensor:
    """How often each value 0, 1, ... occurs in the 1-D non-negative integer ``input`` (at
    least ``minlength`` counts); with ``weights``, their sums instead (floating weights keep
    their dtype, others give float64). torch defines no derivative for the weights."""
    x = _tensor(input, "bincount")
    if x._array.dtype.kind not in "iu":
        raise NotImplementedError(f"bincount: not implemented for {x.dtype.name} (integer "
                                  "input only)")
    minlength = shape_args((minlength,), "bincount")[0]
    if minlength < 0:
        raise OpError(f"bincount: minlength should be >= 0, got {minlength}")
    a = x._array.astype(np.int64)
    if a.ndim != 1 or (a.size and a.min() < 0):
        raise OpError(f"bincount only supports 1-d non-negative integral inputs (got shape "
                      f"{x.shape}{'' if a.ndim != 1 else ', min ' + str(a.min())})")
    if weights is None:
        return wrap_array(np.bincount(a, minlength=minlength).astype(np.int64))
    w = _tensor(weights, "bincount")
    if w.shape != x.shape:
        raise OpError(f"bincount: weights should be 1-d and have the same length as input "
                      f"(weights {w.shape}, input {x.shape})")
    npd = w._array.dtype if w._array.dtype.kind == "f" else np.dtype(np.float64)
    counts = np.bincount(a, weights=w._array.astype(np.float64), minlength=minlength)
    return _not_differentiable(counts.astype(npd), (w,), "bincount")


# ---- distances ---------------------------------------------------------------------------
def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:  # noqa: A002
    """The ``p``-norm of input - other (broadcast), over all elements."""
    a, b = _tensor(input, "dist"), _tensor(other, "dist")
    return vector_norm(a - b, p)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """The cosine of the angle between x1 and x2 (broadcast) along ``dim``: each divided by
    its 2-norm clamped to ``eps`` first, as torch (the clamp passes gradients through)."""
    a, b = _tensor(x1, "cosine_similarity"), _tensor(x2, "cosine_similarity")
    common = dtypes.promote_operands(a._array, b._array)
    if common.kind != "f":
        raise OpError(f"cosine_similarity: expected common dtype to be floating point, yet "
                      f"common dtype is {dtypes.BY_NUMPY[common].name}")
    a, b = (t if t._array.dtype.kind == "f" else t.to(common) for t in (a, b))
    shape = broadcast("cosine_similarity", a.shape, b.shape)
    a, b = a.expand(shape), b.expand(shape)
    d = dim_index(dim, len(shape), "cosine_similarity")
    n1 = vector_norm(a, 2, d, keepdim=True).clone()
    n2 = vector_norm(b, 2, d, keepdim=True).clone()
    with no_grad():  # the clamp changes the values only, as torch's in-place clamp_min_
        n1.clamp_min_(eps)
        n2.clamp_min_(eps)
    return ((a / n1) * (b / n2)).sum(d)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """The ``p``-norm of x1 - x2 + eps along the last dim (of the broadcast shape)."""
    a, b = _tensor(x1, "pairwise_distance"), _tensor(x2, "pairwise_distance")
    last = max(a.ndim, b.ndim) - 1
    return vector_norm(a - b + eps, p, last if last >= 0 else None, keepdim)


TENSOR_METHODS: dict[str, Callable] = {
    "prod": prod, "cumsum": cumsum, "cumprod": cumprod, "cummax": cummax, "cummin": cummin,
    "logcumsumexp": logcumsumexp, "cumsum_": _scan_("cumsum_", cumsum),
    "cumprod_": _scan_("cumprod_", cumprod), "var": var, "std": std, "norm": _norm_method,
    "median": median, "nanmedian": nanmedian, "aminmax": aminmax,
    "count_nonzero": count_nonzero, "all": all, "any": any, "nansum": nansum,
    "nanmean": nanmean, "diff": diff, "histc": histc, "bincount": bincount, "dist": dist,
}
