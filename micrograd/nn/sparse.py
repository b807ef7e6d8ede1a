"""Embeddings: ``Embedding`` and ``EmbeddingBag`` with their functional forms ``embedding`` and
``embedding_bag``, PyTorch's signatures, checks and semantics.

A lookup is one primitive, ``EmbeddingLookup`` (rows of the weight; backward adds each position's
gradient into its row, leaving out ``padding_idx`` and dividing by the index's frequency with
``scale_grad_by_freq``). ``max_norm`` rescales the looked-up rows of the weight in place, outside
the graph, as PyTorch does. ``embedding_bag`` is composed from the lookup: per-bag sums with
``index_add``, means as sums times constant 1/count, and maxima with a ``gather`` of each bag's
first maximal row per column (so the gradient goes to that one entry, as PyTorch's).

Gradients are dense: ``sparse=True`` (PyTorch's sparse gradient) is refused.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..core.creation import _float_dtype, zeros
from ..core.device import as_device
from ..core.ops import Function
from ..core.tensor import (Tensor, apply_op, depends_on_values, numpy_call, where,
                           wrap_array)
from . import init
from .module import Module, Parameter

__all__ = ["embedding", "embedding_bag", "Embedding", "EmbeddingBag"]

_MODES = ("sum", "mean", "max")


class EmbeddingLookup(Function):
    """out = weight[indices] (indices' shape + (D,))
    dweight[r] = sum of g over the positions p with indices[p] == r (times 1 / count(r) with
    ``scale_grad_by_freq``), 0 for r == padding_idx

    Every array it makes comes from a backend call (``micrograd.compile`` replays them): the
    scatter-add of the rows is ``getitem_backward`` with an integer index, which adds repeated
    indices up (as does the count of each index, a scatter-add of ones)."""
    saves_inputs = ()  # backward reads only the indices, which it owns
    recordable = True

    def forward(self, weight, *, indices: np.ndarray, padding_idx: int,
                scale_grad_by_freq: bool):
        self.rows, self.indices = weight.shape[0], indices
        self.padding_idx, self.scale = padding_idx, scale_grad_by_freq
        return self.be.getitem(weight, indices)

    def backward(self, g):
        be = self.be
        idx = be.reshape(self.indices, (-1,))
        rows = be.reshape(g, (idx.size, g.shape[-1]))
        if self.scale:
            # how often each index occurs (np.bincount's counts), read back at each position;
            # the ones are a constant of the indices' shape
            counts = be.getitem_backward((self.rows,), idx, np.ones(idx.size, np.int64))
            freq = be.cast(be.getitem(counts, idx), g.dtype)
            rows = be.div(rows, be.reshape(freq, (idx.size, 1)))
        if self.padding_idx >= 0:
            keep = be.compare(idx, self.padding_idx, "ne")
            idx, rows = be.getitem(idx, keep), be.getitem(rows, keep)
        return (be.getitem_backward((self.rows, g.shape[-1]), idx, rows),)


# ---- argument checks, PyTorch's -------------------------------------------------------------
def _indices(input: Any, name: str) -> np.ndarray:  # noqa: A002
    """The index array of ``input``: a Tensor of int64 or int32, as PyTorch requires."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'indices' must be Tensor, not "
                        f"{type(input).__name__}")
    a = input._array
    if a.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got {input.dtype.name} "
                           f"instead (while checking arguments for {name})")
    return a.astype(np.int64, copy=False)


def _padding_index(padding_idx: int | None, rows: int) -> int:
    """``padding_idx`` counted from 0 (a negative one from the end), or -1 for none;
    AssertionError outside [-rows, rows), as PyTorch."""
    if padding_idx is None:
        return -1
    if padding_idx >= rows or padding_idx < -rows:
        raise AssertionError("Padding_idx must be within num_embeddings")
    return padding_idx + rows if padding_idx < 0 else padding_idx


def _renorm_(weight: Tensor, indices: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Rows of ``weight`` named in ``indices`` whose ``norm_type``-norm exceeds ``max_norm`` are
    scaled in place to norm max_norm (PyTorch's embedding_renorm_: by max_norm / (norm + 1e-7)),
    outside the graph; the weight's version counter moves, as for torch's in-place op."""
    numpy_call(_renorm_rows, weight._array, indices, float(max_norm), float(norm_type),
               bumps=(weight,))


def _renorm_rows(array: np.ndarray, indices: np.ndarray, max_norm: float,
                 norm_type: float) -> None:
    rows = np.unique(indices)
    if rows.size == 0:
        return
    norms = np.linalg.norm(array[rows], ord=norm_type, axis=1)
    big = norms > max_norm
    if big.any():
        scale = (max_norm / (norms[big].astype(np.float64) + 1e-7)).astype(array.dtype)
        array[rows[big]] *= scale[:, None]


def _check_sparse(sparse: bool) -> None:
    if sparse:
        raise NotImplementedError("sparse=True: micrograd has no sparse tensors, so embedding "
                                  "gradients are always dense; use sparse=False (the same "
                                  "values, as a dense gradient)")


def _in_range(indices: np.ndarray, rows: int) -> bool:
    return not indices.size or bool(indices.min() >= 0 and indices.max() < rows)


def _lookup(weight: Tensor, indices: np.ndarray, padding_idx: int,
            scale_grad_by_freq: bool) -> Tensor:
    rows = weight.shape[0]
    # for micrograd.compile: a replay whose indices are out of range runs eagerly (and raises)
    depends_on_values(indices, lambda a: _in_range(a, rows))
    if not _in_range(indices, rows):
        raise IndexError("index out of range in self")
    return apply_op(EmbeddingLookup, weight, indices=indices, padding_idx=padding_idx,
                    scale_grad_by_freq=bool(scale_grad_by_freq))


# ---- functional forms -------------------------------------------------------------------------
def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,  # noqa: A002
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` (V, D) at the integer ``input`` (any shape) -> input.shape + (D,).

    ``padding_idx``: that row gets no gradient. ``max_norm``: first rescale, in place, the
    looked-up rows whose ``norm_type``-norm exceeds it. ``scale_grad_by_freq``: divide each
    row's gradient by how often its index occurs in ``input``."""
    indices = _indices(input, "embedding")
    if not isinstance(weight, Tensor):
        raise TypeError(f"embedding(): argument 'weight' must be Tensor, not "
                        f"{type(weight).__name__}")
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    _check_sparse(sparse)
    pad = _padding_index(padding_idx, weight.shape[0])
    if max_norm is not None:
        _renorm_(weight, indices, max_norm, norm_type)
    return _lookup(weight, indices, pad, scale_grad_by_freq)


def _bags(indices: np.ndarray, offsets: Any, include_last_offset: bool) -> tuple:
    """(the bag of each position, the number of bags) from 1-D ``offsets``: the bags' starts,
    with ``include_last_offset`` followed by the input's length."""
    if not isinstance(offsets, Tensor):
        raise TypeError(f"embedding_bag(): offsets must be a Tensor, got "
                        f"{type(offsets).__name__}")
    if offsets._array.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"embedding_bag: offsets must be int64 or int32, got "
                           f"{offsets.dtype.name}")
    o = offsets._array.astype(np.int64)
    n = indices.size
    if o.size and o[0] != 0:
        raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch "
                           f"has to start from position 0. However, got {int(o[0])}")
    if o.size and o[-1] > n:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {n} but got "
                           f"offsets[-1] of {int(o[-1])}")
    if np.any(np.diff(o) < 0):
        raise RuntimeError(f"embedding_bag: offsets must be non-decreasing, got "
                           f"{o.tolist()}")
    if include_last_offset and (o.size == 0 or o[-1] != n):
        # PyTorch's kernels disagree there (sums stop at the last offset, means and maxima
        # run on to the end of the input), so it is refused rather than answered one way
        raise RuntimeError(f"embedding_bag: with include_last_offset=True the last offset "
                           f"must be the input's length {n}, got offsets {o.tolist()}")
    starts = o[:-1] if include_last_offset else o
    return np.searchsorted(starts, np.arange(n), side="right") - 1, starts.size


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,  # noqa: A002
                  max_norm: float | None = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """Sums, means or maxima of bags of embeddings, without materialising the lookups' layout.

    ``input`` 2-D (B, n): B bags of n indices each (``offsets`` must be None); or 1-D with
    ``offsets`` (B,) giving each bag's start (with ``include_last_offset``, B + 1 entries, the
    last one the end). Entries equal to ``padding_idx`` are left out of their bag (and of a
    mean's count); an empty bag is zeros. ``per_sample_weights`` (input's shape) scales each
    entry, for mode 'sum' only. Returns (B, D)."""
    indices = _indices(input, "embedding_bag")
    if not isinstance(weight, Tensor):
        raise TypeError(f"embedding_bag(): argument 'weight' must be Tensor, not "
                        f"{type(weight).__name__}")
    if per_sample_weights is not None and input.shape != per_sample_weights.shape:
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) "
                         f"is not None, then it must have the same shape as the input "
                         f"({input.shape})")
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension "
                         f"{weight.ndim}")
    psw = per_sample_weights
    if indices.ndim == 2:
        if offsets is not None:
            raise ValueError(f"if input is 2D, then offsets has to be None, as input is "
                             f"treated is a mini-batch of fixed length sequences. However, "
                             f"found offsets of type {type(offsets)}")
        bag = np.repeat(np.arange(indices.shape[0]), indices.shape[1])
        count = indices.shape[0]
        indices = indices.reshape(-1)
        if psw is not None:
            psw = psw.reshape(-1)
    elif indices.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        bag, count = _bags(indices, offsets, include_last_offset)
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{indices.ndim}")
    if mode not in _MODES:
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    if scale_grad_by_freq:
        # PyTorch's embedding_bag backward divides some rows by another index's count (e.g.
        # input [4, 1, 3, 1, 1]: row 3 gets 1/3), so there is no answer to match
        raise NotImplementedError("embedding_bag: scale_grad_by_freq=True is not supported "
                                  "(PyTorch's gradient for it does not divide each row by its "
                                  "own index's frequency); scale the gradients yourself, or use "
                                  "embedding(..., scale_grad_by_freq=True) and sum the bags")
    _check_sparse(sparse)
    rows = weight.shape[0]
    if indices.size and (indices.min() < 0 or indices.max() >= rows):
        j = int(np.flatnonzero((indices < 0) | (indices >= rows))[0])
        raise RuntimeError(f"Index {j} of input takes value {int(indices[j])} which is not in "
                           f"the valid range [0, {rows})")
    if max_norm is not None:
        _renorm_(weight, indices, max_norm, norm_type)
    if psw is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                  f"per_sample_weights is only supported for mode='sum' "
                                  f"(got mode='{mode}'). Please open a feature request on "
                                  "GitHub.")
    if psw is not None and psw.dtype != weight.dtype:
        raise RuntimeError(f"embedding_bag: per_sample_weights ({psw.dtype.name}) must have "
                           f"the weight's dtype ({weight.dtype.name})")
    pad = _padding_index(padding_idx, rows)
    keep = indices != pad
    bag, positions = bag[keep], np.flatnonzero(keep)
    out = zeros(count, weight.shape[1], dtype=weight.dtype)
    looked_up = _lookup(weight, indices[keep], pad, False)
    if mode == "max" and positions.size:
        return _bag_max(looked_up, bag, count)
    if psw is not None:
        looked_up = looked_up * psw[positions].unsqueeze(1)
    out = out.index_add(0, wrap_array(bag), looked_up)  # no entries at all: zeros, in the graph
    if mode == "mean":
        sizes = np.bincount(bag, minlength=count).astype(weight._array.dtype)
        out = out * wrap_array((1 / np.maximum(sizes, 1))[:, None])
    return out


def _bag_max(rows: Tensor, bag: np.ndarray, count: int) -> Tensor:
    """Per bag and column, the first maximal entry of ``rows`` (R, D) whose bag is ``bag`` (R,
    sorted); an empty bag gives zeros. A gather, so each maximum's gradient goes to one entry."""
    values = rows._array
    firsts = np.flatnonzero(np.r_[True, bag[1:] != bag[:-1]])  # each non-empty bag's start
    tops = np.maximum.reduceat(values, firsts, axis=0)          # (bags present, D)
    present = bag[firsts]
    at = np.full(values.shape, values.shape[0], np.int64)
    hit = values == tops[np.searchsorted(present, bag)]
    at[hit] = np.broadcast_to(np.arange(values.shape[0])[:, None], values.shape)[hit]
    first = np.minimum.reduceat(at, firsts, axis=0)             # first maximal row per column
    index = np.zeros((count, values.shape[1]), np.int64)
    index[present] = first
    picked = rows.gather(0, wrap_array(index))
    empty = np.ones((count, 1), bool)
    empty[present] = False
    return picked if not empty.any() else where(wrap_array(empty), 0.0, picked)


# ---- modules ----------------------------------------------------------------------------------
def _new_weight(num_embeddings: int, embedding_dim: int, weight: Any, freeze: bool,
                device: Any, dtype: Any) -> Parameter:
    as_device(device)
    if weight is None:
        return Parameter(np.empty((num_embeddings, embedding_dim), _float_dtype(dtype)))
    if list(weight.shape) != [num_embeddings, embedding_dim]:
        raise AssertionError("Shape of weight does not match num_embeddings and embedding_dim")
    return Parameter(weight, requires_grad=not freeze)


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``: ``weight``
    (V, D), initialised N(0, 1) with the ``padding_idx`` row zero, as PyTorch's."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False,
                 _weight: Tensor | None = None, _freeze: bool = False, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None:
            padding_idx = _padding_index(padding_idx, num_embeddings)
        self.padding_idx = padding_idx
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        self.weight = _new_weight(num_embeddings, embedding_dim, _weight, _freeze, device, dtype)
        if _weight is None:
            self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw the weight again from N(0, 1), the ``padding_idx`` row zero."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._array[self.padding_idx] = 0

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                         self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse is not False:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True,
                        padding_idx: int | None = None, max_norm: float | None = None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> "Embedding":
        """An Embedding whose weight holds ``embeddings`` (V, D) (a copy: micrograd's
        Parameter copies its data); with ``freeze`` (the default) it gets no gradient."""
        if embeddings.ndim != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(rows, cols, _weight=embeddings, _freeze=freeze, padding_idx=padding_idx,
                   max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


class EmbeddingBag(Module):
    """Sums, means or maxima of bags of embeddings (``embedding_bag``); ``weight`` (V, D)
    initialised N(0, 1) with the ``padding_idx`` row zero, as PyTorch's."""

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, _weight: Tensor | None = None,
                 include_last_offset: bool = False, padding_idx: int | None = None,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.mode, self.sparse = scale_grad_by_freq, mode, sparse
        self.include_last_offset = include_last_offset
        if padding_idx is not None:
            padding_idx = _padding_index(padding_idx, num_embeddings)
        self.padding_idx = padding_idx
        self.weight = _new_weight(num_embeddings, embedding_dim, _weight, False, device, dtype)
        if _weight is None:
            self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw the weight again from N(0, 1), the ``padding_idx`` row zero."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._array[self.padding_idx] = 0

    def forward(self, input: Tensor, offsets: Tensor | None = None,  # noqa: A002
                per_sample_weights: Tensor | None = None) -> Tensor:
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                             self.scale_grad_by_freq, self.mode, self.sparse,
                             per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        s += f", mode='{self.mode}'"
        if self.include_last_offset is not False:
            s += f", include_last_offset={self.include_last_offset}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True,
                        max_norm: float | None = None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False, mode: str = "mean",
                        sparse: bool = False, include_last_offset: bool = False,
                        padding_idx: int | None = None) -> "EmbeddingBag":
        """An EmbeddingBag whose weight holds ``embeddings`` (V, D); frozen by default."""
        if embeddings.ndim != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        bag = cls(rows, cols, _weight=embeddings, max_norm=max_norm, norm_type=norm_type,
                  scale_grad_by_freq=scale_grad_by_freq, mode=mode, sparse=sparse,
                  include_last_offset=include_last_offset, padding_idx=padding_idx)
        bag.weight.requires_grad = not freeze
        return bag
