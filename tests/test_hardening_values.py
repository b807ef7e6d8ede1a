"""Extreme values: NaN, +-Inf, +-1e38, denormals, 0 ** 0. Forward values and gradients must be
what PyTorch gives (torch behind importorskip) or the exact limit, on every backend: nothing
crashes, nothing turns a defined gradient into NaN."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import micrograd as mg
from micrograd.nn import functional as F

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's overflow notes


def _grads(fn, *values, dtype=mg.float64):
    xs = [mg.tensor(v, dtype=dtype, requires_grad=True) for v in values]
    out = fn(*xs)
    out.backward(mg.ones_like(out))
    return out.data, [x.grad.data for x in xs]


def test_pow_gradient_at_zero_to_the_zero_matches_torch(backend):
    """Regression: 0 ** 0 gave d/da = 0 * 0 ** -1 = nan and d/db = 1 * log 0 = -inf; torch
    (and the limits) give 0 for both."""
    a, b = [0.0, 0.0, 2.0, 0.0], [0.0, 2.0, 0.0, -1.0]
    out, (da, db) = _grads(lambda x, y: x ** y, a, b)
    np.testing.assert_array_equal(out, [1.0, 0.0, 1.0, np.inf])
    np.testing.assert_array_equal(da, [0.0, 0.0, 0.0, -np.inf])
    np.testing.assert_allclose(db, [0.0, 0.0, np.log(2.0), -np.inf])
    _, (dx,) = _grads(lambda x: x ** 0, [0.0, 1.0, -3.0])
    np.testing.assert_array_equal(dx, [0.0, 0.0, 0.0])
    _, (dx,) = _grads(lambda x: 0.0 ** x, [0.0, 1.0])
    np.testing.assert_array_equal(dx, [0.0, 0.0])
    torch = pytest.importorskip("torch", reason="torch not installed (optional oracle)")
    ta = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    (ta ** tb).sum().backward()
    np.testing.assert_allclose(da, ta.grad.numpy())
    np.testing.assert_allclose(db, tb.grad.numpy())
