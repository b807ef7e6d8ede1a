"""Extreme values: NaN, +-Inf, +-1e38, denormals, 0 ** 0. Forward values and gradients must be
what PyTorch gives (torch behind importorskip) or the exact limit, on every backend: nothing
crashes, nothing turns a defined gradient into NaN."""
from __future__ import annotations

import math

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


@pytest.mark.parametrize("dtype", [mg.float32, mg.float64])
@pytest.mark.parametrize("big", [1e5, 1e30, -1e30])
def test_cross_entropy_and_log_softmax_exact_for_huge_logits(backend, dtype, big):
    """Regression: the loss was computed as (max + log(sum)) - picked, so for logits of 1e30
    the max swamped log(sum) and an all-equal row of 7 classes gave loss 0 instead of log 7;
    the C log_softmax had the same cancellation."""
    logits = mg.full((2, 7), big, dtype=dtype, requires_grad=True)
    loss = F.cross_entropy(logits, mg.tensor([3, 0]), reduction="none")
    np.testing.assert_allclose(loss.data, [np.log(7)] * 2, rtol=1e-6)
    loss.sum().backward()
    want = np.full((2, 7), 1 / 7)
    want[0, 3] -= 1
    want[1, 0] -= 1
    np.testing.assert_allclose(logits.grad.data, want, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(logits.log_softmax(-1).data, np.full((2, 7), -np.log(7)),
                               rtol=1e-6)
    shifted = logits.detach() + mg.tensor([0.0, 1.0, 0, 0, 0, 0, 0], dtype=dtype)
    if abs(big) < 1e7:  # a +1 shift is still representable: the result is shift-invariant
        small = mg.zeros(2, 7, dtype=dtype) + mg.tensor([0.0, 1.0, 0, 0, 0, 0, 0], dtype=dtype)
        np.testing.assert_allclose(shifted.log_softmax(-1).data, small.log_softmax(-1).data,
                                   rtol=1e-3)


@pytest.mark.parametrize("shape", [(0,), (2, 0), (0, 3), (2, 0, 3)])
def test_softmax_of_empty_tensors(backend, shape):
    """Regression: softmax/log_softmax over an empty last dim reshaped to (-1, 0) and raised
    NumPy's 'cannot reshape array of size 0'; torch returns an empty result."""
    x = mg.zeros(*shape, requires_grad=True)
    for dim in range(-len(shape), len(shape)):
        y, z = x.softmax(dim), x.log_softmax(dim)
        assert y.shape == z.shape == shape
        (y.sum() + z.sum()).backward()
        assert x.grad.shape == shape


def test_gelu_of_a_0d_tensor(backend):
    """Regression: the NumPy backend's erf returned a Python float for 0-d input and
    F.gelu(mg.tensor(0.5)) raised AttributeError ('float' object has no attribute 'astype')."""
    for dtype in (mg.float32, mg.float64):
        x = mg.tensor(0.5, dtype=dtype, requires_grad=True)
        y = F.gelu(x)
        y.backward()
        assert y.shape == () and y.dtype == dtype
        np.testing.assert_allclose(y.item(), 0.5 * 0.5 * (1 + math.erf(0.5 / math.sqrt(2))),
                                   rtol=1e-6)
        pdf = math.exp(-0.125) / math.sqrt(2 * math.pi)
        np.testing.assert_allclose(x.grad.item(), 0.5 * (1 + math.erf(0.5 / math.sqrt(2)))
                                   + 0.5 * pdf, rtol=1e-6)
