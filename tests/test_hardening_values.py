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
    return out._array, [x.grad._array for x in xs]


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
    np.testing.assert_allclose(loss._array, [np.log(7)] * 2, rtol=1e-6)
    loss.sum().backward()
    want = np.full((2, 7), 1 / 7)
    want[0, 3] -= 1
    want[1, 0] -= 1
    np.testing.assert_allclose(logits.grad._array, want, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(logits.log_softmax(-1)._array, np.full((2, 7), -np.log(7)),
                               rtol=1e-6)
    shifted = logits.detach() + mg.tensor([0.0, 1.0, 0, 0, 0, 0, 0], dtype=dtype)
    if abs(big) < 1e7:  # a +1 shift is still representable: the result is shift-invariant
        small = mg.zeros(2, 7, dtype=dtype) + mg.tensor([0.0, 1.0, 0, 0, 0, 0, 0], dtype=dtype)
        np.testing.assert_allclose(shifted.log_softmax(-1)._array, small.log_softmax(-1)._array,
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


@pytest.mark.parametrize("dtype", [mg.float32, mg.float64])
def test_huber_and_smooth_l1_gradients_at_infinity(backend, dtype):
    """Regression: where(|d| < delta, 0.5 d^2, ...) sent a zero gradient into the unused
    quadratic branch, and 0 * 2d = nan at d = +-inf; the loss is linear there, so the gradient
    is +-delta (torch)."""
    x = mg.tensor([np.inf, -np.inf, 3.0, -0.5, 1e-8], dtype=dtype, requires_grad=True)
    F.huber_loss(x, mg.zeros_like(x), reduction="sum", delta=2.0).backward()
    np.testing.assert_allclose(x.grad._array, [2.0, -2.0, 2.0, -0.5, 1e-8], rtol=1e-6)
    x.grad = None
    loss = F.smooth_l1_loss(x, mg.zeros_like(x), reduction="none", beta=2.0)
    np.testing.assert_allclose(loss._array, [np.inf, np.inf, 2.0, 0.0625, 2.5e-17], rtol=1e-6)
    loss.sum().backward()
    np.testing.assert_allclose(x.grad._array, [1.0, -1.0, 1.0, -0.25, 5e-9], rtol=1e-6)
    with pytest.raises(ValueError, match="smooth_l1_loss: beta must be non-negative, got -1"):
        F.smooth_l1_loss(x, mg.zeros_like(x), beta=-1)


@pytest.mark.parametrize("dtype", [mg.float32, mg.float64])
def test_bce_with_logits_gradient_keeps_tiny_values(backend, dtype):
    """Regression: dx = (1 - y) - sigmoid(-x) cancels to exactly 0 in float32 for confident
    predictions (|x| > 17); dx = (1 - y) sigmoid(x) - y sigmoid(-x) keeps e^-|x|."""
    logits = [-30.0, 30.0, -20.0, 20.0, 0.0]
    target = [0.0, 1.0, 0.0, 1.0, 1.0]
    x = mg.tensor(logits, dtype=dtype, requires_grad=True)
    F.binary_cross_entropy_with_logits(x, mg.tensor(target, dtype=dtype),
                                       reduction="sum").backward()
    sig = [1 / (1 + math.exp(-v)) for v in logits]
    want = [s - t for s, t in zip(sig, target)]
    want[1], want[3] = -1 / (1 + math.exp(30.0)), -1 / (1 + math.exp(20.0))
    np.testing.assert_allclose(x.grad._array, want, rtol=1e-5)
    x.grad = None
    pw = mg.tensor([3.0] * 5, dtype=dtype)
    F.binary_cross_entropy_with_logits(x, mg.tensor(target, dtype=dtype), pos_weight=pw,
                                       reduction="sum").backward()
    np.testing.assert_allclose(x.grad._array, [w * (3.0 if t else 1.0) for w, t in
                                             zip(want, target)], rtol=1e-5)


# the special values, and what torch gives for f(x) and f'(x) there
SPECIAL = [0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 1e38, -1e38, 5e-324, 1e-310, 2.0,
           -3.5, 710.0, -745.0, 30.0, -30.0, 1e-8]
# Deliberate differences from torch at a NaN or a signed zero (documented conventions):
# d|x|/dx at nan is nan (torch 0), relu'(nan) is 0 (torch 1), softplus'(nan) is 0 (torch nan,
# ours goes through clamp whose gradient is 0 at nan as torch's clamp), d sqrt(x)/dx at -0.0
# is +inf and at -inf 0 (torch -inf and nan).
KNOWN = {("abs", "nan"), ("relu", "nan"), ("softplus", "nan"), ("l1", "nan"),
         ("pow_half", "-0.0"), ("pow_half", "-inf")}
ORACLE = {
    "exp": (lambda x: x.exp(), "exp"), "log": (lambda x: x.log(), "log"),
    "log1p": (lambda x: x.log1p(), "log1p"), "sqrt": (lambda x: x.sqrt(), "sqrt"),
    "abs": (lambda x: x.abs(), "abs"), "relu": (lambda x: x.relu(), "relu"),
    "sigmoid": (lambda x: x.sigmoid(), "sigmoid"), "tanh": (lambda x: x.tanh(), "tanh"),
    "softplus": (F.softplus, "softplus"), "silu": (F.silu, "silu"),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1), "leaky_relu"),
    "square": (lambda x: x ** 2, "square"), "pow_half": (lambda x: x ** 0.5, "pow_half"),
    "reciprocal": (lambda x: 1.0 / x, "reciprocal"), "clamp": (lambda x: x.clamp(-1.0, 2.0),
                                                               "clamp"),
    "huber": (lambda x: F.huber_loss(x, mg.zeros_like(x), reduction="none"), "huber"),
    "l1": (lambda x: F.l1_loss(x, mg.zeros_like(x), reduction="none"), "l1"),
    "bce_logits": (lambda x: F.binary_cross_entropy_with_logits(
        x, mg.zeros_like(x), reduction="none"), "bce_logits"),
}


def _torch_fn(torch, name):
    TF = torch.nn.functional
    return {"exp": torch.exp, "log": torch.log, "log1p": torch.log1p, "sqrt": torch.sqrt,
            "abs": torch.abs, "relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
            "softplus": TF.softplus, "silu": TF.silu,
            "leaky_relu": lambda t: TF.leaky_relu(t, 0.1), "square": lambda t: t ** 2,
            "pow_half": lambda t: t ** 0.5, "reciprocal": lambda t: 1.0 / t,
            "clamp": lambda t: t.clamp(-1.0, 2.0),
            "huber": lambda t: TF.huber_loss(t, torch.zeros_like(t), reduction="none"),
            "l1": lambda t: TF.l1_loss(t, torch.zeros_like(t), reduction="none"),
            "bce_logits": lambda t: TF.binary_cross_entropy_with_logits(
                t, torch.zeros_like(t), reduction="none")}[name]


@pytest.mark.parametrize("name", sorted(ORACLE))
def test_special_values_forward_and_gradient_match_torch(backend, name):
    """float64 values and gradients at nan, +-inf, +-1e38, denormals, +-0: NaN where torch
    has NaN, the same infinities, close finite values."""
    torch = pytest.importorskip("torch", reason="torch not installed (optional oracle)")
    fn, key = ORACLE[name]
    x = mg.tensor(SPECIAL, dtype=mg.float64, requires_grad=True)
    y = fn(x)
    y.backward(mg.ones_like(y))
    t = torch.tensor(SPECIAL, dtype=torch.float64, requires_grad=True)
    ty = _torch_fn(torch, key)(t)
    ty.backward(torch.ones_like(ty))
    for what, got, want in (("value", y._array, ty.detach().numpy()),
                            ("grad", x.grad._array, t.grad.numpy())):
        for v, g, w in zip(SPECIAL, got, want):
            if (name, str(v)) in KNOWN and what == "grad":
                continue
            ok = (np.isnan(g) and np.isnan(w)) or g == w or (
                np.isfinite(g) and np.isfinite(w) and math.isclose(g, w, rel_tol=1e-6,
                                                                   abs_tol=1e-300))
            assert ok, f"{name} {what} at x={v}: micrograd {g!r}, torch {w!r}"


@pytest.mark.parametrize("dtype", [mg.float32, mg.float64])
def test_std_gradient_of_constant_data_is_zero(backend, dtype):
    """Regression: std = sqrt(var) sent 1 / (2 sqrt(0)) = inf times var's 0 = nan into every
    element of a constant row (a constant feature in a batch poisoned training); torch gives 0."""
    x = mg.tensor([[3.0, 3.0, 3.0], [1.0, 2.0, 4.0]], dtype=dtype, requires_grad=True)
    s = x.std(1)
    np.testing.assert_allclose(s._array, [0.0, np.std([1, 2, 4], ddof=1)], rtol=1e-6)
    s.sum().backward()
    row = np.array([1.0, 2.0, 4.0])
    want = (row - row.mean()) / ((3 - 1) * np.std(row, ddof=1))  # (x_i - mean) / ((n-1) std)
    np.testing.assert_allclose(x.grad._array, [[0, 0, 0], want], rtol=1e-5)
    assert np.isnan(mg.tensor([float("nan"), 1.0], dtype=dtype).std().item())


def test_div_gradient_for_a_zero_numerator_over_a_tiny_divisor(backend):
    """Regression: d(a/b)/db was computed as -(g / b) * out = -(inf * 0) = nan for a = 0 and a
    denormal b; -g * (out / b) gives -0 (torch)."""
    a = mg.tensor([0.0, -0.0, 1.0], dtype=mg.float64, requires_grad=True)
    b = mg.tensor([5e-324, 5e-324, 4.0], dtype=mg.float64, requires_grad=True)
    (a / b).sum().backward()
    np.testing.assert_array_equal(b.grad._array, [0.0, 0.0, -1.0 / 16])
    np.testing.assert_array_equal(a.grad._array[2], 0.25)
    assert np.isinf(a.grad._array[:2]).all()
