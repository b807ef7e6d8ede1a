"""The kernel interface: the seam between autograd (Python) and compute (NumPy or C).

Storage is a NumPy ndarray in every backend; a backend only computes. Every primitive takes and
returns ndarrays, never mutates its inputs, and returns a new array. Binary primitives receive
arrays of one dtype; shapes are validated by the Tensor layer before any call, so a backend never
sees a shape it cannot handle. ``NumpyBackend`` is the reference implementation (the
specification); ``CBackend`` overrides the kernels listed in its ``native`` tuple, and the parity
tests walk that tuple so no C kernel goes untested.
"""
from __future__ import annotations

from typing import Protocol

import numpy as np


class Backend(Protocol):
    """What every backend provides. Shapes are written (M, K) etc.; ``g`` is the upstream grad."""

    name: str

    # linear algebra ---------------------------------------------------------------------------
    def matmul(self, a: np.ndarray, b: np.ndarray, trans_a: bool = False,
               trans_b: bool = False) -> np.ndarray:
        """op(a) @ op(b) for 2-D a, b, where op transposes when the flag is set.

        The flags let backward compute ``g @ w.T`` and ``x.T @ g`` without copying a transpose."""

    # elementwise ------------------------------------------------------------------------------
    def add(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: """a + b (equal shapes)."""
    def mul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: """a * b (equal shapes)."""
    def exp(self, x: np.ndarray) -> np.ndarray: """e ** x."""
    def log(self, x: np.ndarray) -> np.ndarray: """natural log of x."""

    # activations: forward, and backward returning dx = f'(.) * g ------------------------------
    def relu(self, x: np.ndarray) -> np.ndarray: """max(x, 0)."""
    def relu_backward(self, x: np.ndarray, g: np.ndarray) -> np.ndarray: """g where x > 0."""
    def sigmoid(self, x: np.ndarray) -> np.ndarray: """1 / (1 + e^-x), overflow-free."""
    def sigmoid_backward(self, y: np.ndarray, g: np.ndarray) -> np.ndarray: """g * y * (1 - y)."""
    def tanh(self, x: np.ndarray) -> np.ndarray: """tanh(x)."""
    def tanh_backward(self, y: np.ndarray, g: np.ndarray) -> np.ndarray: """g * (1 - y**2)."""
