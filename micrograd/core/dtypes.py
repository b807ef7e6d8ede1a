"""Tensor element types: ``mg.float32`` (the default for Python floats), ``mg.float64``,
``mg.int64`` (the default for Python ints: indices and class targets), ``mg.bool`` (masks) and a
few more. A ``DType`` wraps a NumPy dtype, compares equal to it and to its name, so
``t.dtype == mg.float32``, ``t.dtype == np.float32`` and ``t.dtype == "float32"`` all hold.
"""
from __future__ import annotations

import builtins

import numpy as np


class DType:
    """One element type. ``.np`` is the NumPy dtype that stores it."""

    __slots__ = ("name", "np", "is_floating_point", "itemsize")

    def __init__(self, name: str) -> None:
        self.name = name
        self.np = np.dtype(name)
        self.is_floating_point = self.np.kind == "f"
        self.itemsize = self.np.itemsize

    def __repr__(self) -> str:
        return f"micrograd.{self.name}"

    def __eq__(self, other: object) -> builtins.bool:
        if isinstance(other, DType):
            return other is self
        try:
            return as_dtype(other) is self
        except TypeError:
            return NotImplemented

    def __hash__(self) -> int:
        return hash(self.np)


float16 = DType("float16")
float32 = DType("float32")
float64 = DType("float64")
int8 = DType("int8")
int16 = DType("int16")
int32 = DType("int32")
int64 = DType("int64")
uint8 = DType("uint8")
bool = DType("bool")  # noqa: A001 - the public name, as torch.bool

half, float, double = float16, float32, float64  # noqa: A001 - torch's aliases
short, int, long = int16, int32, int64  # noqa: A001

#: NumPy dtype -> DType, for every element type a Tensor may hold
BY_NUMPY: dict = {d.np: d for d in (float16, float32, float64, int8, int16, int32, int64,
                                   uint8, bool)}
_BY_NAME = {d.name: d for d in BY_NUMPY.values()}
_BY_NAME.update(half=float16, float=float32, double=float64, short=int16, int=int32, long=int64)

_default_float = float32


def as_dtype(value: object) -> DType:
    """A DType from a DType, NumPy dtype/scalar type, or name ("float32", "double", ...)."""
    if isinstance(value, DType):
        return value
    if isinstance(value, str):
        found = _BY_NAME.get(value.removeprefix("micrograd.").removeprefix("torch."))
        if found is None:
            raise TypeError(f"unknown dtype {value!r}; use one of {sorted(_BY_NAME)}")
        return found
    if value is builtins.float:
        return _default_float
    if value is builtins.int:
        return int64
    if value is builtins.bool:
        return bool
    try:
        npd = np.dtype(value)
    except TypeError:
        raise TypeError(f"not a dtype: {value!r}") from None
    found = BY_NUMPY.get(npd)
    if found is None:
        raise TypeError(f"unsupported dtype {npd}; micrograd tensors hold "
                        f"{', '.join(d.name for d in BY_NUMPY.values())}")
    return found


def get_default_dtype() -> DType:
    """The dtype of tensors made from Python floats (float32 unless changed)."""
    return _default_float


def set_default_dtype(dtype: object) -> None:
    """Set the dtype for Python floats and float factories: float32 or float64."""
    global _default_float
    d = as_dtype(dtype)
    if not d.is_floating_point:
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {d.name}")
    _default_float = d


def promote(a: np.dtype, b: np.dtype) -> np.dtype:
    """Result dtype of a binary op on two tensors, PyTorch style: bool < integers < floats,
    and an integer tensor meeting a float tensor takes the float's dtype (int64 + float32 is
    float32, where NumPy would say float64)."""
    if a == b:
        return a
    fa, fb = a.kind == "f", b.kind == "f"
    if fa != fb:
        return a if fa else b
    return np.promote_types(a, b)


def promote_operands(a: np.ndarray, b: np.ndarray) -> np.dtype:
    """The dtype of a binary op's result on two tensors' arrays, as torch decides it: a 0-d
    operand (a Python number is lifted to one) meeting one with dims lifts its kind (int ->
    float) but never widens it (float32 * a 0-d float64 stays float32)."""
    da, db = a.dtype, b.dtype
    if da == db:
        return da
    if (a.ndim == 0) == (b.ndim == 0):
        return promote(da, db)
    return _combine(da, db) if b.ndim == 0 else _combine(db, da)


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """torch's combine_categories: the dtype of a higher-priority category (tensors with dims
    over 0-d tensors over Python numbers) wins unless the lower one is of a higher kind."""
    if higher is None:
        return lower
    if lower is None or higher.kind == "f":
        return higher
    if higher.kind == "b" or lower.kind == "f":
        return promote(higher, lower)
    return higher


def result_dtype(dims: np.dtype | None, zero_dim: np.dtype | None,
                 numbers: np.dtype | None) -> np.dtype | None:
    """torch.result_type from the promoted dtype of each operand category (None: no operand
    of that category)."""
    return _combine(dims, _combine(zero_dim, numbers))


def promote_types(type1: object, type2: object) -> DType:
    """torch.promote_types: the smallest dtype both ``type1`` and ``type2`` convert to."""
    return BY_NUMPY[promote(as_dtype(type1).np, as_dtype(type2).np)]


def can_cast(from_: object, to: object) -> builtins.bool:
    """torch.can_cast: whether torch's casting rules allow ``from_`` -> ``to`` (the rule of
    in-place ops and ``out=``): never floating -> integer, nor anything but bool -> bool."""
    src, dst = as_dtype(from_), as_dtype(to)
    if src.np.kind == "f" and dst.np.kind in "iu":
        return False
    return not (src is not bool and dst is bool)
