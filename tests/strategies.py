"""Hypothesis strategies for tensor tests: shapes, broadcastable pairs, bounded float arrays.

Arrays are sometimes handed out as transposed (non-contiguous) views on purpose, so kernels and
ops are exercised on strided data as minitorch does with its permuted TensorData.
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


def shapes(min_dims: int = 1, max_dims: int = 4, min_side: int = 1,
           max_side: int = 5) -> st.SearchStrategy[tuple]:
    """Tensor shapes: 1-4 dims, each 1-5 long by default."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


@st.composite
def broadcastable_pairs(draw, max_dims: int = 4, max_side: int = 5) -> tuple:
    """Two shapes that broadcast together (dims dropped from the front or set to 1)."""
    shape = draw(shapes(max_dims=max_dims, max_side=max_side))
    out = []
    for _ in range(2):
        keep = draw(st.integers(0, len(shape)))
        tail = list(shape[len(shape) - keep:])
        for i in range(len(tail)):
            if draw(st.booleans()):
                tail[i] = 1
        out.append(tuple(tail))
    return tuple(out)


@st.composite
def arrays(draw, shape: tuple, dtype=np.float64, bound: float = 10.0,
           allow_views: bool = True) -> np.ndarray:
    """A float array of ``shape`` with |x| <= bound, no NaN/inf; sometimes a transposed view
    (same shape, non-contiguous memory)."""
    if allow_views and len(shape) >= 2 and draw(st.booleans()):
        base = draw(arrays(shape[::-1], dtype, bound, allow_views=False))
        return base.T
    elements = st.floats(-bound, bound, allow_nan=False, allow_infinity=False, width=32)
    return draw(hnp.arrays(np.dtype(dtype), shape, elements=elements))


@st.composite
def array_pairs(draw, dtype=np.float64, bound: float = 10.0) -> tuple:
    """Two arrays of broadcastable shapes."""
    sa, sb = draw(broadcastable_pairs())
    return draw(arrays(sa, dtype, bound)), draw(arrays(sb, dtype, bound))
