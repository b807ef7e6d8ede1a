"""Shape bookkeeping shared by the Tensor methods, the factories and nn.functional.

Pure functions of tuples and ints: they import only ``errors`` (which imports nothing), so any
layer may use them. Each one checks its arguments the way PyTorch does and names the op
(``name``) in its error: a bad shape is ``OpError`` (torch's RuntimeError, also a ValueError).
"""
from __future__ import annotations

from math import prod
from operator import index
from typing import Any

from .errors import OpError


def _int(n: Any, what: str, name: str) -> int:
    """``n`` as an int (Python or NumPy integer; not bool, not float), else TypeError."""
    if isinstance(n, bool):
        raise TypeError(f"{name}: {what} must be an int, got bool")
    try:
        return index(n)
    except TypeError:
        raise TypeError(f"{name}: {what} must be an int, got {type(n).__name__}") from None


def dim_index(d: Any, ndim: int, name: str) -> int:
    """One dim index, negative allowed, checked against ndim (0-d tensors accept 0 and -1)."""
    d = _int(d, "dim", name)
    n = max(ndim, 1)
    if not -n <= d < n:
        raise IndexError(f"{name}: dim {d} is out of range for a tensor with {ndim} dims "
                         f"(expected {-n} <= dim < {n})")
    return d % n if ndim else 0


def reduce_axes(dim: Any, ndim: int, name: str) -> tuple | None:
    """None (all dims) or a sorted tuple of non-negative dims, none repeated."""
    if dim is None:
        return None
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    axes = tuple(sorted({dim_index(d, ndim, name) for d in dims}))
    if len(axes) != len(dims):
        raise OpError(f"{name}: dim {dim} repeats a dim")
    return axes if ndim else ()


def count(shape: tuple, axes: tuple | None = None) -> int:
    """How many elements the ``axes`` of ``shape`` span (all of them when None)."""
    n = 1
    for i, s in enumerate(shape):
        if axes is None or i in axes:
            n *= s
    return n


def drop_axes(shape: tuple, axes: tuple | None) -> tuple:
    """``shape`` without ``axes`` (all of them when None): a reduction's shape, keepdim off."""
    return () if axes is None else tuple(n for i, n in enumerate(shape) if i not in axes)


def check_nonempty(shape: tuple, axes: tuple | None, name: str) -> None:
    """IndexError when a reduction without identity (max, min) would run over a size-0 dim."""
    for i, n in enumerate(shape):
        if n == 0 and (axes is None or i in axes):
            raise IndexError(f"{name}: cannot reduce over dim {i} of size 0 (shape {shape}); "
                             "the result would have no identity")


def shape_args(args: tuple, name: str) -> tuple:
    """(2, 3) from f(2, 3), f((2, 3)) or f([2, 3]); checks every entry is an int."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    if all([type(n) is int for n in args]):  # the common case, already checked
        return args
    for n in args:
        if isinstance(n, bool):
            raise TypeError(f"{name}: sizes must be ints, got {args}")
        try:
            index(n)
        except TypeError:
            raise TypeError(f"{name}: sizes must be ints, got {args}") from None
    return tuple(index(n) for n in args)


def reshape_target(old: tuple, new: tuple, name: str) -> tuple:
    """``new`` with one -1 resolved, checked to hold as many elements as ``old``."""
    total = prod(old)
    if new.count(-1) > 1 or (new and min(new) < -1):
        raise OpError(f"{name}: invalid shape {new}")
    if -1 in new:
        rest = -prod(new)
        if rest == 0 or total % rest:
            raise OpError(f"{name}: cannot reshape a tensor of shape {old} ({total} "
                             f"elements) into {new}")
        new = tuple(total // rest if n == -1 else n for n in new)
    if prod(new) != total:
        raise OpError(f"{name}: cannot reshape a tensor of shape {old} ({total} elements) "
                         f"into {new}")
    return new


def broadcast(name: str, *shapes: tuple) -> tuple:
    """The shape ``shapes`` broadcast to (dims aligned from the right; a size-1 dim stretches),
    or an ``OpError`` naming op ``name`` and the shapes that do not fit."""
    out: list[int] = []
    for i in range(1, max((len(s) for s in shapes), default=0) + 1):
        sizes = {s[-i] for s in shapes if len(s) >= i} - {1}
        if len(sizes) > 1:
            listed = [str(tuple(s)) for s in shapes]
            raise OpError(f"{name}: shapes {', '.join(listed[:-1])} and {listed[-1]} cannot be "
                          "broadcast together")
        out.append(sizes.pop() if sizes else 1)
    return tuple(reversed(out))
