"""The NumPy backend: the reference implementation of every kernel, and always importable.

Each method is the plain NumPy spelling of the math in ``base.Backend``'s docstrings. The C backend
is tested against these functions, so keep them obviously correct rather than clever.
"""
from __future__ import annotations

import numpy as np


class NumpyBackend:
    """Reference kernels. Works for any float dtype; outputs keep the input dtype."""

    name = "numpy"

    # linear algebra ---------------------------------------------------------------------------
    def matmul(self, a, b, trans_a=False, trans_b=False):
        return np.matmul(a.T if trans_a else a, b.T if trans_b else b)

    # elementwise ------------------------------------------------------------------------------
    def add(self, a, b):
        return np.add(a, b)

    def mul(self, a, b):
        return np.multiply(a, b)

    def exp(self, x):
        return np.exp(x)

    def log(self, x):
        return np.log(x)

    # activations ------------------------------------------------------------------------------
    def relu(self, x):
        return np.maximum(x, 0).astype(x.dtype, copy=False)

    def relu_backward(self, x, g):
        return np.where(x > 0, g, 0).astype(g.dtype, copy=False)

    def sigmoid(self, x):
        e = np.exp(-np.abs(x))  # never overflows
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)

    def sigmoid_backward(self, y, g):
        return g * y * (1 - y)

    def tanh(self, x):
        return np.tanh(x)

    def tanh_backward(self, y, g):
        return g * (1 - y * y)
