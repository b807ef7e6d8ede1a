"""Movement ops with torch's names and semantics: flip, roll, repeat, tile, repeat_interleave,
tril/triu, diagonal, diag, diag_embed, unflatten, unfold, movedim, swapaxes, narrow,
tensor_split, h/v/dsplit, meshgrid, rot90, atleast_Nd, h/v/d/column_stack.

Most are composed of existing Tensor ops (indexing, permute, reshape, expand, where, cat), so
their gradients come for free. The primitives, computed with NumPy on the arrays, are the ops
whose backward is one short array expression: ``Flip`` and ``Roll`` (backward: the move
undone), ``Repeat`` (a sum over the copies), the views ``Diagonal`` and ``Unfold`` (strided
views of the input, as torch's: writes through them reach the input) and ``DiagEmbed``
(Diagonal's transpose).
"""
from __future__ import annotations

import itertools
import warnings
from typing import Any, Callable, Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import dtypes
from .creation import cat, stack
from .ops import Function
from .shapes import _int, dim_index, shape_args
from .tensor import Tensor, _inplace, apply_op, where, wrap_array

__all__ = ["flip", "fliplr", "flipud", "roll", "tile", "repeat_interleave", "tril", "triu",
           "diagonal", "diag", "diag_embed", "unflatten", "movedim", "moveaxis", "swapaxes",
           "swapdims", "narrow", "narrow_copy", "tensor_split", "hsplit", "vsplit", "dsplit",
           "meshgrid", "rot90", "atleast_1d", "atleast_2d", "atleast_3d", "hstack", "vstack",
           "row_stack", "dstack", "column_stack", "cartesian_prod", "combinations",
           "block_diag"]


# ---- primitives ------------------------------------------------------------------------------
class Flip(Function):
    """out = x reversed along axes    dx = g reversed along axes"""
    saves_inputs = ()

    def forward(self, x, axes):
        self.axes = axes
        return np.flip(x, axes).copy() if axes else x.copy()  # a copy, as torch's flip

    def backward(self, g):
        return (np.flip(g, self.axes) if self.axes else g,)


class Roll(Function):
    """out = x rolled by shifts along axes (the flattened x when axes is None)
    dx = g rolled back by -shifts"""
    saves_inputs = ()

    def forward(self, x, shifts, axes):
        self.shifts, self.axes = shifts, axes
        return np.roll(x, shifts, axes)

    def backward(self, g):
        back = -self.shifts if self.axes is None else tuple(-s for s in self.shifts)
        return (np.roll(g, back, self.axes),)


class Repeat(Function):
    """out = x tiled sizes[i] times along dim i (x's shape padded with leading 1s)
    dx = g summed over the copies"""
    saves_inputs = ()

    def forward(self, x, sizes):
        self.shape = x.shape
        self.padded = (1,) * (len(sizes) - x.ndim) + x.shape
        self.sizes = sizes
        return np.tile(x, sizes) if sizes else x.copy()

    def backward(self, g):
        # out's dim i is (copy, element) = (sizes[i], padded[i]): sum the copy axes
        split = tuple(n for pair in zip(self.sizes, self.padded) for n in pair)
        summed = g.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return (summed.reshape(self.shape),)


class Diagonal(Function):
    """out = the diagonal of x over axes (axis1, axis2) at offset, appended as the last axis;
    a view of x, as torch's    dx = zeros with g on that diagonal"""
    saves_inputs, view = (), True

    def forward(self, x, offset, axis1, axis2):
        self.shape, self.args = x.shape, (offset, axis1, axis2)
        return _diagonal_view(x, offset, axis1, axis2)

    def backward(self, g):
        dx = np.zeros(self.shape, g.dtype)
        _diagonal_view(dx, *self.args)[...] = g
        return (dx,)


class DiagEmbed(Function):
    """out = zeros with x's last axis on the diagonal (offset) of new axes (axis1, axis2)
    dx = g's diagonal there"""
    saves_inputs = ()

    def forward(self, x, offset, axis1, axis2):
        self.args = (offset, axis1, axis2)
        shape = list(x.shape[:-1])
        m = x.shape[-1] + abs(offset)
        for axis in sorted((axis1, axis2)):
            shape.insert(axis, m)
        out = np.zeros(shape, x.dtype)
        _diagonal_view(out, offset, axis1, axis2)[...] = x
        return out

    def backward(self, g):
        return (_diagonal_view(g, *self.args),)


class Unfold(Function):
    """out[..., i, ..., j] = x[..., i * step + j, ...]: windows of ``size`` every ``step``
    along axis, as a new last axis; a view of x, as torch's (read-only when windows overlap:
    torch leaves writes to elements seen twice undefined)
    dx = zeros with each window's g added back"""
    saves_inputs, view = (), True

    def forward(self, x, axis, size, step):
        self.shape, self.axis, self.size, self.step = x.shape, axis, size, step
        count = (x.shape[axis] - size) // step + 1
        shape = x.shape[:axis] + (count,) + x.shape[axis + 1:] + (size,)
        strides = (x.strides[:axis] + (x.strides[axis] * step,) + x.strides[axis + 1:]
                   + (x.strides[axis],))
        overlap = size > step and count > 1
        return as_strided(x, shape, strides, writeable=not overlap)

    def backward(self, g):
        dx = np.zeros(self.shape, g.dtype)
        count, lead = g.shape[self.axis], (slice(None),) * self.axis
        for j in range(self.size):  # window position j of every window at once
            dx[lead + (slice(j, j + self.step * (count - 1) + 1, self.step),)] += g[..., j]
        return (dx,)


def _diagonal_view(a: np.ndarray, offset: int, axis1: int, axis2: int) -> np.ndarray:
    """A writable view of a's diagonal (NumPy's np.diagonal order; np.diagonal's own view is
    read-only): the other axes in order, then the diagonal."""
    n1, n2 = a.shape[axis1], a.shape[axis2]
    length = max(0, min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2))
    start = [slice(None)] * a.ndim
    if length:
        start[axis2 if offset >= 0 else axis1] = slice(abs(offset), None)
    rest = [i for i in range(a.ndim) if i not in (axis1, axis2)]
    return as_strided(a[tuple(start)], tuple(a.shape[i] for i in rest) + (length,),
                      tuple(a.strides[i] for i in rest) + (a.strides[axis1] + a.strides[axis2],))


# ---- argument checks ---------------------------------------------------------------------------
def _ints(value: Any, what: str, name: str) -> tuple:
    """An int or a sequence of ints as a tuple (each checked as torch does: TypeError)."""
    if isinstance(value, (tuple, list)):
        return tuple(_int(v, what, name) for v in value)
    return (_int(value, what, name),)


def _dims(dims: Sequence, ndim: int, name: str) -> tuple:
    """Distinct dims, each checked against ndim (a RuntimeError for a repeat, as torch)."""
    axes = tuple(dim_index(d, ndim, name) for d in dims)
    for a in set(axes):
        if axes.count(a) > 1:
            raise RuntimeError(f"{name}: dim {a} appears multiple times in the list of dims "
                               f"{list(dims)}")
    return axes if ndim else ()


def _tensor(x: Any, name: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")
    return x


def _at_least(x: Tensor, ndim: int, name: str) -> None:
    if x.ndim < ndim:
        raise RuntimeError(f"{name}: expected a tensor with at least {ndim} dims, got a "
                           f"tensor of shape {tuple(x.shape)} ({x.ndim} dims)")


# ---- flip, roll, rot90 -------------------------------------------------------------------------
def flip(input: Tensor, dims: Sequence[int]) -> Tensor:  # noqa: A002 - torch's names
    """input reversed along each of ``dims`` (a copy, as torch)."""
    if not isinstance(dims, (tuple, list)):
        raise TypeError(f"flip: dims must be a tuple or list of ints, got {dims!r} (the "
                        "method takes them unpacked: x.flip(0, 1))")
    x = _tensor(input, "flip")
    return apply_op(Flip, x, axes=_dims(_ints(dims, "dims", "flip"), x.ndim, "flip"))


def _flip_method(self: Tensor, *dims_: Any, dims: Sequence[int] | None = None) -> Tensor:
    """self reversed along each of the dims (a copy): ``x.flip(0, 1)``, ``x.flip((0, 1))``
    or ``x.flip(dims=(0, 1))``."""
    return flip(self, shape_args(dims_, "flip") if dims is None else dims)


def fliplr(input: Tensor) -> Tensor:  # noqa: A002
    """input reversed left to right (dim 1)."""
    _at_least(_tensor(input, "fliplr"), 2, "fliplr")
    return flip(input, (1,))


def flipud(input: Tensor) -> Tensor:  # noqa: A002
    """input reversed upside down (dim 0)."""
    _at_least(_tensor(input, "flipud"), 1, "flipud")
    return flip(input, (0,))


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:  # noqa: A002
    """Elements shifted by ``shifts`` along ``dims`` (wrapping around); without dims, along
    the flattened tensor, whose shape is then restored."""
    x = _tensor(input, "roll")
    s = _ints(shifts, "shifts", "roll")
    d = () if dims is None else _ints(dims, "dims", "roll")
    if not s:
        raise RuntimeError("roll: `shifts` required")
    if len(s) != max(len(d), 1) or (dims is None and len(s) != 1):
        raise RuntimeError(f"roll: shifts and dims must align: shifts {list(s)}, dims "
                           f"{list(d)}")
    if dims is None:
        return apply_op(Roll, x, shifts=s[0], axes=None)
    if x.ndim == 0:
        raise IndexError(f"roll: dims {list(d)} given but the tensor has no dims")
    return apply_op(Roll, x, shifts=s, axes=tuple(dim_index(a, x.ndim, "roll") for a in d))


def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:  # noqa: A002
    """input rotated by k * 90 degrees in the plane of ``dims``, from the first dim towards
    the second (a flip and a transpose)."""
    x = _tensor(input, "rot90")
    k = _int(k, "k", "rot90")
    dims = _ints(dims, "dims", "rot90")
    if len(dims) != 2:
        raise RuntimeError(f"rot90: expected 2 rotation dims, got dims {list(dims)}")
    if x.ndim < 2:
        raise RuntimeError(f"rot90: expected a tensor with at least 2 dims, got shape "
                           f"{tuple(x.shape)}")
    a, b = (dim_index(d, x.ndim, "rot90") for d in dims)
    if a == b:
        raise RuntimeError(f"rot90: expected different rotation dims, got dims {list(dims)}")
    k %= 4
    if k == 0:
        return x.clone()
    if k == 2:
        return flip(x, (a, b))
    return flip(x, (b,) if k == 1 else (a,)).transpose(a, b)


# ---- repeat, tile, repeat_interleave -------------------------------------------------------------
def _repeat_method(self: Tensor, *sizes: Any, repeats: Sequence[int] | None = None) -> Tensor:
    """``x.repeat(2, 3)`` (or ``repeats=(2, 3)``): x tiled sizes[i] times along dim i; more
    sizes than dims prepend new dims (a copy)."""
    sizes = sizes if repeats is None else (repeats,)
    if not sizes:
        raise TypeError("repeat: missing the repeat sizes, e.g. x.repeat(2, 1)")
    sizes = shape_args(sizes, "repeat")
    if len(sizes) < self.ndim:
        raise RuntimeError(f"repeat: the number of sizes ({len(sizes)}: {list(sizes)}) can "
                           f"not be smaller than the number of dims of the tensor of shape "
                           f"{tuple(self.shape)}")
    if any(n < 0 for n in sizes):
        raise RuntimeError(f"repeat: sizes must be non-negative, got {list(sizes)}")
    return apply_op(Repeat, self, sizes=sizes)


def tile(input: Tensor, dims: Sequence[int]) -> Tensor:  # noqa: A002
    """``repeat`` where fewer sizes than dims are padded with leading 1s."""
    x = _tensor(input, "tile")
    if not isinstance(dims, (tuple, list)):
        raise TypeError(f"tile: dims must be a tuple or list of ints, got {dims!r}")
    sizes = shape_args((dims,), "tile")
    return _repeat_method(x, (1,) * (x.ndim - len(sizes)) + sizes)


def _tile_method(self: Tensor, *dims_: Any, dims: Sequence[int] | None = None) -> Tensor:
    """self repeated ``dims[i]`` times along dim i (fewer sizes than dims are padded with
    leading 1s): ``x.tile(2, 3)``, ``x.tile((2, 3))`` or ``x.tile(dims=(2, 3))``."""
    return tile(self, shape_args(dims_, "tile") if dims is None else dims)


def repeat_interleave(input: Tensor, repeats: Any = None, dim: int | None = None, *,  # noqa: A002
                      output_size: int | None = None) -> Tensor:
    """Each element (each slice along ``dim``) repeated ``repeats`` times in place: an int,
    or an integer tensor with one count per slice (or one count for all). Without dim the
    tensor is flattened first. ``repeat_interleave(counts)`` alone repeats the indices
    0..len(counts)-1, in the counts' dtype (torch's one-argument form)."""
    x = _tensor(input, "repeat_interleave")
    if repeats is None:  # repeat_interleave(repeats): the indices repeated
        if x.ndim != 1:
            raise RuntimeError(f"repeat_interleave: the one-argument form takes a 1-D tensor "
                               f"of counts, got shape {tuple(x.shape)}")
        counts = _counts(x, "repeat_interleave")
        return repeat_interleave(Tensor(np.arange(x.shape[0], dtype=counts.dtype)), x, 0,
                                 output_size=output_size)
    if dim is None:
        x, d = x.reshape(-1), 0
    elif x.ndim == 0:
        raise IndexError(f"repeat_interleave: dim {dim} given for a 0-dim tensor (as torch; "
                         "leave dim out to repeat its one element)")
    else:
        d = dim_index(dim, x.ndim, "repeat_interleave")
    n = x.shape[d]
    if isinstance(repeats, Tensor):
        counts = _counts(repeats, "repeat_interleave")
        if counts.ndim == 1 and counts.shape[0] not in (1, n):
            raise RuntimeError(f"repeat_interleave: repeats must have the same size as the "
                               f"input along dim {d}: got {counts.shape[0]} repeats for size "
                               f"{n} (input of shape {tuple(input.shape)})")
        counts = np.broadcast_to(counts.reshape(-1), (n,))
    else:
        counts = np.full(n, _int(repeats, "repeats", "repeat_interleave"), np.int64)
        if n and counts[0] < 0:
            raise RuntimeError(f"repeat_interleave: repeats must be non-negative, got "
                               f"{repeats}")
    index = np.repeat(np.arange(n), counts)
    if output_size is not None and _int(output_size, "output_size",
                                        "repeat_interleave") != index.size:
        raise RuntimeError(f"repeat_interleave: output_size={output_size} but the repeats "
                           f"give {index.size} along dim {d}")
    return x.index_select(d, index)


def _counts(repeats: Tensor, name: str) -> np.ndarray:
    """repeat_interleave's counts: int32 or int64, 0-D or 1-D, non-negative (torch's
    errors)."""
    a = repeats._array
    if a.dtype not in (np.int32, np.int64):
        raise NotImplementedError(f"{name}: repeats must be an int32 or int64 tensor, got "
                                  f"{repeats.dtype.name} (not implemented in torch either)")
    if a.ndim > 1:
        raise RuntimeError(f"{name}: repeats must be a 0-dim or 1-dim tensor, got shape "
                           f"{tuple(a.shape)}")
    if a.size and a.min() < 0:
        raise RuntimeError(f"{name}: repeats can not be negative, got {a.tolist()}")
    return a


# ---- triangles and diagonals -------------------------------------------------------------------
def _triangle(input: Tensor, diagonal: Any, name: str) -> Tensor:
    """tril (lower) / triu (upper): the other entries of the last two dims zeroed."""
    x = _tensor(input, name)
    k = _int(diagonal, "diagonal", name)
    if x.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions, got shape "
                           f"{tuple(x.shape)}")
    n, m = x.shape[-2:]
    keep = np.tri(n, m, k, dtype=bool) if name == "tril" else ~np.tri(n, m, k - 1, dtype=bool)
    return where(keep, x, x._array.dtype.type(0))  # a zero of x's dtype (bool stays bool)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """The lower triangle of the last two dims (column - row <= diagonal), zeros elsewhere."""
    return _triangle(input, diagonal, "tril")


def triu(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """The upper triangle of the last two dims (column - row >= diagonal), zeros elsewhere."""
    return _triangle(input, diagonal, "triu")


def _tril_(self: Tensor, diagonal: int = 0) -> Tensor:
    """In-place ``tril`` (torch.Tensor.tril_): zeros above diagonal ``diagonal``."""
    return _inplace(self, "tril_", lambda t: tril(t, diagonal))


def _triu_(self: Tensor, diagonal: int = 0) -> Tensor:
    """In-place ``triu`` (torch.Tensor.triu_): zeros below diagonal ``diagonal``."""
    return _inplace(self, "triu_", lambda t: triu(t, diagonal))


def _diag_dims(dim1: Any, dim2: Any, ndim: int, name: str) -> tuple:
    a, b = dim_index(dim1, ndim, name), dim_index(dim2, ndim, name)
    if a == b:
        raise RuntimeError(f"{name}: diagonal dimensions cannot be identical: dim1={dim1}, "
                           f"dim2={dim2}")
    return a, b


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:  # noqa: A002
    """The diagonal over (dim1, dim2), above it for offset > 0, below for offset < 0, as the
    last dim. A view, as torch: writes to it reach input."""
    x = _tensor(input, "diagonal")
    a, b = _diag_dims(dim1, dim2, x.ndim, "diagonal")
    return apply_op(Diagonal, x, offset=_int(offset, "offset", "diagonal"), axis1=a, axis2=b)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2,  # noqa: A002 - torch's names
               dim2: int = -1) -> Tensor:
    """Zeros with input's last dim on the diagonal (offset) of two new dims dim1, dim2."""
    x = _tensor(input, "diag_embed")
    a, b = _diag_dims(dim1, dim2, x.ndim + 1, "diag_embed")
    return apply_op(DiagEmbed, x, offset=_int(offset, "offset", "diag_embed"), axis1=a, axis2=b)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """A 1-D input as the diagonal of a square matrix; a 2-D input's diagonal (a copy)."""
    x = _tensor(input, "diag")
    if x.ndim == 1:
        return diag_embed(x, diagonal, 0, 1)
    if x.ndim == 2:
        return x.diagonal(diagonal).clone()  # the Tensor method: ``diagonal`` is shadowed
    raise RuntimeError(f"diag: supports 1-D or 2-D tensors, got shape {tuple(x.shape)} "
                       f"({x.ndim}-D)")


# ---- reshaping views ---------------------------------------------------------------------------
def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:  # noqa: A002
    """Dim ``dim`` split into ``sizes`` (one of them may be -1); a view."""
    x = _tensor(input, "unflatten")
    if not isinstance(sizes, (tuple, list)):
        raise TypeError(f"unflatten: sizes must be a tuple or list of ints, got {sizes!r}")
    sizes = shape_args((sizes,), "unflatten")
    if x.ndim == 0:
        raise RuntimeError("unflatten: cannot unflatten a 0-dim tensor")
    d = dim_index(dim, x.ndim, "unflatten")
    n = x.shape[d]
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    known = int(np.prod([s for s in sizes if s != -1]))
    if sizes.count(-1) > 1 or any(s < -1 for s in sizes) or (-1 in sizes and known == 0):
        raise RuntimeError(f"unflatten: sizes {list(sizes)} are invalid: at most one -1, "
                           "the others non-negative, and a -1 only beside non-zero sizes")
    if -1 in sizes and n % known == 0:
        sizes = tuple(n // known if s == -1 else s for s in sizes)
    if int(np.prod(sizes)) != n or -1 in sizes:
        raise RuntimeError(f"unflatten: provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {d} ({n}) in the input tensor of shape "
                           f"{tuple(x.shape)}")
    return x.reshape(x.shape[:d] + sizes + x.shape[d + 1:])


def _unfold_method(self: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Every window of ``size`` elements along ``dimension``, ``step`` apart, as a new last
    dim (a view, as torch's)."""
    d = dim_index(dimension, self.ndim, "unfold")
    size, step = _int(size, "size", "unfold"), _int(step, "step", "unfold")
    n = self.shape[d] if self.ndim else 1
    if size < 0:
        raise RuntimeError(f"unfold: size is {size} but must be >= 0")
    if step <= 0:
        raise RuntimeError(f"unfold: step is {step} but must be > 0")
    if size > n:
        raise RuntimeError(f"unfold: maximum size for tensor at dimension {d} is {n} but "
                           f"size is {size}")
    if self.ndim == 0:
        return apply_op(Unfold, self.reshape(1), axis=0, size=size, step=step).reshape(size)
    return apply_op(Unfold, self, axis=d, size=size, step=step)


def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:  # noqa: A002
    """Dims ``source`` moved to positions ``destination`` (ints, or sequences of one length);
    the others keep their order. A view."""
    x = _tensor(input, "movedim")
    if isinstance(source, (tuple, list)) != isinstance(destination, (tuple, list)):
        raise TypeError(f"movedim: source and destination must both be ints or both be "
                        f"sequences, got {source!r} and {destination!r}")
    src, dst = _ints(source, "source", "movedim"), _ints(destination, "destination", "movedim")
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: source {list(src)} and destination {list(dst)} must "
                           "have the same number of dims")
    src = tuple(dim_index(d, x.ndim, "movedim") for d in src)
    dst = tuple(dim_index(d, x.ndim, "movedim") for d in dst)
    for what, dims in (("source", src), ("destination", dst)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{what}` ({list(dims)})")
    if x.ndim == 0:
        return x.permute()
    order = [None] * x.ndim
    for s, t in zip(src, dst):
        order[t] = s
    rest = iter(d for d in range(x.ndim) if d not in src)
    return x.permute([next(rest) if o is None else o for o in order])


moveaxis = movedim


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:  # noqa: A002
    """``transpose`` under NumPy's name."""
    return _tensor(input, "swapaxes").transpose(axis0, axis1)


def swapdims(input: Tensor, dim0: int, dim1: int) -> Tensor:  # noqa: A002
    """``transpose`` under another of torch's names."""
    return _tensor(input, "swapdims").transpose(dim0, dim1)


def narrow(input: Tensor, dim: int, start: Any, length: int) -> Tensor:  # noqa: A002
    """``length`` elements of dim from ``start`` (negative counts from the end; an int or a
    0-dim integer tensor). A view."""
    x = _tensor(input, "narrow")
    if x.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor")
    d = dim_index(dim, x.ndim, "narrow")
    if isinstance(start, Tensor) and (start.ndim != 0 or start._array.dtype.kind not in "iu"):
        raise RuntimeError(f"narrow: start must be a 0-dim integral Tensor, got "
                           f"{start.dtype.name} of shape {tuple(start.shape)}")
    start, length = _int(start, "start", "narrow"), _int(length, "length", "narrow")
    n = x.shape[d]
    if not -n <= start <= n:
        raise IndexError(f"narrow: start out of range (expected to be in range of [{-n}, {n}], "
                         f"but got {start})")
    if length < 0:
        raise RuntimeError(f"narrow: length must be non-negative, got {length}")
    start %= max(n, 1)  # start == n stays n only when length is 0 (checked next)
    if start + length > n:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension "
                           f"size ({n}) of dim {d}")
    return x[(slice(None),) * d + (slice(start, start + length),)]


def narrow_copy(input: Tensor, dim: int, start: Any, length: int) -> Tensor:  # noqa: A002
    """``length`` elements of ``dim`` from ``start``, as ``narrow`` picks them, but copied
    into a new tensor instead of a view."""
    return narrow(input, dim, start, length).clone()


# ---- splitting ---------------------------------------------------------------------------------
def tensor_split(input: Tensor, indices_or_sections: Any = None, dim: int = 0, *,  # noqa: A002
                 sections: int | None = None, indices: Sequence[int] | None = None,
                 tensor_indices_or_sections: Tensor | None = None) -> tuple:
    """Views of input along dim: ``sections`` pieces as equal as can be (the first
    size % sections one longer), or the pieces between ``indices`` (Python slicing: out of
    range indices clamp, a decreasing one gives an empty piece). An int64 tensor is either,
    by its rank (0-D sections, 1-D indices)."""
    x = _tensor(input, "tensor_split")
    given = [a for a in (indices_or_sections, sections, indices, tensor_indices_or_sections)
             if a is not None]
    if len(given) != 1:
        raise TypeError("tensor_split: give exactly one of indices_or_sections, sections, "
                        "indices or tensor_indices_or_sections")
    spec = given[0]
    if x.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    d = dim_index(dim, x.ndim, "tensor_split")
    if isinstance(spec, Tensor):
        if spec._array.dtype != np.int64:
            raise RuntimeError(f"tensor_split: expected tensor_indices_or_sections to have "
                               f"dtype int64, got {spec.dtype.name}")
        if spec.ndim > 1:
            raise RuntimeError(f"tensor_split: expected tensor_indices_or_sections to be 0-D "
                               f"or 1-D, got shape {tuple(spec.shape)}")
        spec = spec.item() if spec.ndim == 0 else spec.tolist()
    n = x.shape[d]
    if isinstance(spec, (tuple, list)):
        cuts = list(_ints(spec, "indices", "tensor_split"))
    else:
        k = _int(spec, "sections", "tensor_split")
        if k <= 0:
            raise RuntimeError(f"tensor_split: number of sections must be larger than 0, got "
                               f"{k}")
        cuts = [i * (n // k) + min(i, n % k) for i in range(1, k)]
    lead, bounds = (slice(None),) * d, [None] + cuts + [None]
    return tuple(x[lead + (slice(lo, hi),)] for lo, hi in zip(bounds, bounds[1:]))


def _split_along(input: Tensor, spec: Any, d: int, ndim: int, name: str) -> tuple:
    """hsplit / vsplit / dsplit: tensor_split along dim d, where int sections must divide."""
    x = _tensor(input, name)
    if x.ndim < ndim:
        raise RuntimeError(f"{name} requires a tensor with at least {ndim} dimension(s), but "
                           f"got a tensor with {x.ndim} dimensions (shape {tuple(x.shape)})")
    if isinstance(spec, Tensor):
        raise TypeError(f"{name}: indices_or_sections must be an int or a sequence of ints, "
                        "got a Tensor (use tensor_split)")
    if not isinstance(spec, (tuple, list)):
        k = _int(spec, "sections", name)
        if k == 0 or x.shape[d] % k:
            raise RuntimeError(f"{name} attempted to split along dimension {d}, but the size "
                               f"of the dimension {x.shape[d]} is not divisible by the "
                               f"split_size {k}!")
    return tensor_split(x, spec, d)


def hsplit(input: Tensor, indices_or_sections: Any) -> tuple:  # noqa: A002
    """Split along dim 1 (dim 0 for a 1-D tensor)."""
    d = 0 if isinstance(input, Tensor) and input.ndim == 1 else 1
    return _split_along(input, indices_or_sections, d, 1, "hsplit")


def vsplit(input: Tensor, indices_or_sections: Any) -> tuple:  # noqa: A002
    """Split along dim 0 of a tensor of at least 2 dims."""
    return _split_along(input, indices_or_sections, 0, 2, "vsplit")


def dsplit(input: Tensor, indices_or_sections: Any) -> tuple:  # noqa: A002
    """Split along dim 2 of a tensor of at least 3 dims."""
    return _split_along(input, indices_or_sections, 2, 3, "dsplit")


# ---- grids, at-least views, stacking -------------------------------------------------------------
def _tensor_list(tensors: tuple, name: str) -> list:
    """f(a, b) or f([a, b]) -> [a, b], every item a Tensor."""
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    return [_tensor(t, name) for t in tensors]


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple:
    """Coordinate grids from 0-D or 1-D tensors: output i varies along dim i ('ij') or, for
    'xy', with the first two dims swapped. Expanded views. Without ``indexing`` torch warns
    and uses 'ij'; so does this."""
    ts = _tensor_list(tensors, "meshgrid")
    if indexing is None:
        warnings.warn("meshgrid: pass indexing='ij' or indexing='xy' (torch warns that the "
                      "argument will be required); using 'ij'", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"meshgrid: indexing must be one of 'xy' or 'ij', got {indexing!r}")
    if not ts:
        raise RuntimeError("meshgrid expects a non-empty list of tensors")
    for i, t in enumerate(ts):
        if t.ndim > 1:
            raise RuntimeError(f"meshgrid: expected 0-D or 1-D tensors, got tensor {i} of "
                               f"shape {tuple(t.shape)}")
        if t.dtype != ts[0].dtype:
            raise RuntimeError(f"meshgrid expects all tensors to have the same dtype: tensor "
                               f"{i} is {t.dtype.name}, tensor 0 {ts[0].dtype.name}")
    axes = list(range(len(ts)))
    if indexing == "xy" and len(ts) > 1:
        axes[0], axes[1] = 1, 0
    shape = [0] * len(ts)
    for t, a in zip(ts, axes):
        shape[a] = t.numel()
    return tuple(t.reshape([-1 if k == a else 1 for k in range(len(ts))]).expand(shape)
                 for t, a in zip(ts, axes))


def _at_least_nd(tensors: tuple, ndim: int, shape_for: Callable, name: str) -> Any:
    """One tensor in, one out (itself when it has the dims); several (or a list) in, a tuple."""
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    out = tuple(t if t.ndim >= ndim else t.reshape(shape_for(t.shape))
                for t in _tensor_list(tensors, name))
    return out[0] if single else out


def atleast_1d(*tensors: Any) -> Any:
    """0-D tensors as shape (1,); others unchanged."""
    return _at_least_nd(tensors, 1, lambda s: (1,), "atleast_1d")


def atleast_2d(*tensors: Any) -> Any:
    """0-D as (1, 1), 1-D (n,) as (1, n); others unchanged."""
    return _at_least_nd(tensors, 2, lambda s: (1,) * (2 - len(s)) + s, "atleast_2d")


def atleast_3d(*tensors: Any) -> Any:
    """0-D as (1, 1, 1), (n,) as (1, n, 1), (m, n) as (m, n, 1); others unchanged."""
    return _at_least_nd(tensors, 3, lambda s: {0: (1, 1, 1), 1: (1,) + s + (1,)}.get(
        len(s), s + (1,)), "atleast_3d")


def _stack_list(tensors: Any, name: str) -> list:
    if not isinstance(tensors, (tuple, list)):
        raise TypeError(f"{name}: tensors must be a tuple or list of Tensors, got "
                        f"{type(tensors).__name__}")
    if not tensors:
        raise RuntimeError(f"{name} expects a non-empty list of tensors")
    return _tensor_list((tensors,), name)


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """Joined along dim 1 (dim 0 when they are 1-D); 0-D tensors count as 1-D."""
    ts = list(atleast_1d(_stack_list(tensors, "hstack")))
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """Joined along dim 0 after ``atleast_2d`` (1-D tensors become rows)."""
    return cat(list(atleast_2d(_stack_list(tensors, "vstack"))), 0)


row_stack = vstack


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """Joined along dim 2 after ``atleast_3d``."""
    return cat(list(atleast_3d(_stack_list(tensors, "dstack"))), 2)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """0-D and 1-D tensors as columns (n, 1), joined with the others along dim 1."""
    ts = _stack_list(tensors, "column_stack")
    return cat([t.reshape(t.numel(), 1) if t.ndim <= 1 else t for t in ts], 1)


# ---- products of index sets and block matrices -------------------------------------------
def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Every combination of one element from each 1-D tensor, as rows (N, k) in row-major
    order; one tensor is returned as it is."""
    ts = _tensor_list(tensors, "cartesian_prod")
    for t in ts:
        if t.ndim != 1:
            raise RuntimeError(f"cartesian_prod: Expect a 1D vector, but got shape "
                               f"{list(t.shape)}")
    if len(ts) == 1:
        return ts[0]
    return stack([g.reshape(-1) for g in meshgrid(*ts, indexing="ij")], 1)


def combinations(input: Tensor, r: int = 2,  # noqa: A002
                 with_replacement: bool = False) -> Tensor:
    """The length-``r`` combinations of a 1-D tensor's elements as rows, in lexicographic
    order of positions (itertools.combinations[_with_replacement]); gradients add up where an
    element is used more than once."""
    x = _tensor(input, "combinations")
    if x.ndim != 1:
        raise RuntimeError(f"combinations: Expect a 1D vector, but got shape {list(x.shape)}")
    r = _int(r, "r", "combinations")
    if r < 0:
        raise RuntimeError(f"combinations: Expect a non-negative number, but got {r}")
    if r == 0:
        return x[np.zeros(0, np.int64)]
    pick = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    idx = np.array(list(pick(range(x.shape[0]), r)), np.int64).reshape(-1, r)
    return x[idx]


def block_diag(*tensors: Tensor) -> Tensor:
    """The tensors (0-D, 1-D as one row, 2-D) on the diagonal of one matrix, zeros elsewhere;
    dtypes promote."""
    ts = _tensor_list(tensors, "block_diag")
    if not ts:
        return wrap_array(np.zeros((1, 0), dtypes.get_default_dtype().np))
    mats, npd = [], ts[0]._array.dtype
    for i, t in enumerate(ts):
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {t.ndim} dimensions")
        mats.append(t.reshape(1, -1) if t.ndim < 2 else t)
        npd = dtypes.promote(npd, t._array.dtype)
    width, left, rows = sum(m.shape[1] for m in mats), 0, []
    for m in mats:
        h, w = m.shape
        pieces = [wrap_array(np.zeros((h, left), npd)), m.to(npd),
                  wrap_array(np.zeros((h, width - left - w), npd))]
        rows.append(cat(pieces, 1))
        left += w
    return cat(rows, 0)


TENSOR_METHODS: dict[str, Callable] = {
    "flip": _flip_method, "fliplr": fliplr, "flipud": flipud, "roll": roll, "rot90": rot90,
    "repeat": _repeat_method, "tile": _tile_method, "repeat_interleave": repeat_interleave,
    "tril": tril, "triu": triu, "tril_": _tril_, "triu_": _triu_, "diagonal": diagonal,
    "diag": diag, "diag_embed": diag_embed, "unflatten": unflatten, "unfold": _unfold_method,
    "movedim": movedim, "moveaxis": moveaxis, "swapaxes": swapaxes, "swapdims": swapdims,
    "narrow": narrow, "narrow_copy": narrow_copy, "tensor_split": tensor_split,
    "hsplit": hsplit, "vsplit": vsplit, "dsplit": dsplit,
}
