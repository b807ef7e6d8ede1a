"""Pooling: F.max_pool1d/2d, avg_pool1d/2d, adaptive_avg_pool2d, adaptive_max_pool2d,
max_unpool2d and their modules.

A spec table run under micrograd (every backend) and torch in float64 with random cotangents:
values, indices (exactly) and gradients; NaN and ties pick torch's index; float64 gradcheck on
every backend (inputs without ties, so max pooling is differentiable there); the modules'
printed form; torch's error types and messages. The C kernels' parity with the NumPy reference
is in test_backend_parity.py."""
from __future__ import annotations

import numpy as np
import pytest

import micrograd as mg
import micrograd.nn.functional as F

X = np.random.default_rng(7).standard_normal((2, 3, 9, 8))  # distinct values: no ties


def _unpool(F_, x):
    y, i = F_.max_pool2d(x, 2, stride=2, padding=1, return_indices=True)
    return F_.max_unpool2d(y * 2, i, 2, stride=2, padding=1, output_size=x.shape[-2:])


# name -> f(F, x) returning a tensor, or (values, indices) compared exactly
SPEC = {
    "max_pool2d": lambda F, x: F.max_pool2d(x, 2),
    "max_pool2d_stride_pad": lambda F, x: F.max_pool2d(x, 3, stride=2, padding=1),
    "max_pool2d_dilation_ceil": lambda F, x: F.max_pool2d(x, 3, 2, 1, dilation=2, ceil_mode=True,
                                                          return_indices=True),
    "max_pool2d_rect": lambda F, x: F.max_pool2d(x, (3, 2), (2, 3), (1, 1), (1, 2),
                                                 return_indices=True),
    "max_pool2d_unbatched": lambda F, x: F.max_pool2d(x[0], 2, return_indices=True),
    "max_pool2d_zero_batch": lambda F, x: F.max_pool2d(x[:0], 2),
    "max_pool1d": lambda F, x: F.max_pool1d(x[:, 0], 3, 2, 1, ceil_mode=True,
                                            return_indices=True),
    "max_pool1d_dilation": lambda F, x: F.max_pool1d(x[0], 2, 1, 1, dilation=3),
    "avg_pool2d": lambda F, x: F.avg_pool2d(x, 2),
    "avg_pool2d_pad_ceil": lambda F, x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True),
    "avg_pool2d_exclude_pad": lambda F, x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True,
                                                        count_include_pad=False),
    "avg_pool2d_divisor": lambda F, x: F.avg_pool2d(x, (3, 2), (2, 1), (1, 1),
                                                    divisor_override=5),
    "avg_pool2d_unbatched": lambda F, x: F.avg_pool2d(x[0], 3, 1, 1),
    "avg_pool1d": lambda F, x: F.avg_pool1d(x[:, 0], 4, 3, 2, ceil_mode=True,
                                            count_include_pad=False),
    "adaptive_avg_pool2d_1x1": lambda F, x: F.adaptive_avg_pool2d(x, 1),
    "adaptive_avg_pool2d_even": lambda F, x: F.adaptive_avg_pool2d(x, (3, 4)),
    "adaptive_avg_pool2d_uneven": lambda F, x: F.adaptive_avg_pool2d(x, (4, 3)),
    "adaptive_avg_pool2d_none": lambda F, x: F.adaptive_avg_pool2d(x[0], (5, None)),
    "adaptive_max_pool2d_even": lambda F, x: F.adaptive_max_pool2d(x, (3, 4), True),
    "adaptive_max_pool2d_uneven": lambda F, x: F.adaptive_max_pool2d(x, (4, 5), True),
    "adaptive_max_pool2d_unbatched": lambda F, x: F.adaptive_max_pool2d(x[0], 2, True),
    "max_unpool2d": _unpool,
}


def _compare(out, tout):
    if isinstance(tout, tuple):
        np.testing.assert_array_equal(out[1].numpy(), tout[1].numpy())
        assert out[1].dtype.name == "int64"
        out, tout = out[0], tout[0]
    assert tuple(out.shape) == tuple(tout.shape)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12,
                               atol=1e-12)
    return out, tout


@pytest.mark.parametrize("name", list(SPEC))
def test_values_and_gradients_match_torch(backend, name):
    torch = pytest.importorskip("torch", reason="torch is the oracle for pooling")
    x, tx = mg.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    out, tout = _compare(SPEC[name](F, x), SPEC[name](torch.nn.functional, tx))
    cot = np.random.default_rng(5).standard_normal(tuple(tout.shape))
    (out * mg.tensor(cot)).sum().backward()
    (tout * torch.tensor(cot)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_nan_and_ties_pick_torchs_index(backend, dtype):
    """The first of equal maxima, the last NaN of a window (a NaN replaces the running max),
    and -inf windows, with their gradients."""
    torch = pytest.importorskip("torch")
    a = X.copy()
    a[0, 0, 0, 0] = a[0, 0, 1, 1] = np.nan
    a[1, 1, 2:4, 2:4] = 5.0
    a[1, 2, 4:6, 4:6] = -np.inf
    a = a.astype(dtype)
    x, tx = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    for f in (lambda F, x: F.max_pool2d(x, 2, return_indices=True),
              lambda F, x: F.max_pool2d(x, 3, 1, 1, return_indices=True),
              lambda F, x: F.adaptive_max_pool2d(x, (4, 3), return_indices=True)):
        out, tout = f(F, x), f(torch.nn.functional, tx)
        np.testing.assert_array_equal(out[1].numpy(), tout[1].numpy())
        np.testing.assert_array_equal(out[0].detach().numpy(), tout[0].detach().numpy())
        out[0].sum().backward()
        tout[0].sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def _wide_with_specials(dtype):
    """Rows wide enough for the vectorised dense path (and a short tail), with NaN, ties and
    -inf scattered where windows of every geometry below meet them."""
    rng = np.random.default_rng(11)
    a = rng.integers(-3, 4, (3, 4, 13, 53)).astype(dtype)  # few distinct values: many ties
    flat = a.reshape(-1)
    spots = rng.choice(flat.size, 2 * flat.size // 25, replace=False)
    flat[spots[: len(spots) // 2]] = np.nan
    flat[spots[len(spots) // 2:]] = -np.inf
    a[2, 3] = -np.inf  # a whole plane of -inf
    return a


# (kernel, stride, padding, dilation, ceil_mode). Windows inside the plane go through the C
# kernel's vectorised path: its unrolled windows (2x2 and 3x3, stride 1, 2 or the kernel, rows
# dilated), then the tap-by-tap rest (strided wider than the kernel, dilated along rows,
# rectangular, 1x1); with padding or ceil_mode only the border windows are clipped one by one.
WINDOWS = [((2, 2), (2, 2), (0, 0), (1, 1), False), ((3, 3), (3, 3), (0, 0), (1, 1), False),
           ((2, 2), (1, 1), (0, 0), (1, 1), False), ((3, 3), (2, 2), (0, 0), (1, 1), False),
           ((3, 3), (1, 1), (0, 0), (1, 1), False), ((2, 2), (2, 2), (0, 0), (2, 1), False),
           ((2, 3), (3, 4), (0, 0), (1, 1), False), ((3, 2), (2, 1), (0, 0), (2, 3), False),
           ((1, 1), (1, 1), (0, 0), (1, 1), False), ((3, 3), (2, 2), (1, 1), (1, 1), False),
           ((2, 2), (2, 2), (1, 1), (1, 1), True), ((3, 3), (1, 1), (1, 0), (1, 1), False),
           ((3, 3), (2, 2), (1, 1), (2, 2), True), ((2, 2), (2, 2), (0, 0), (1, 1), True)]


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # NaN sums
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("geometry", WINDOWS)
def test_wide_rows_match_torch_with_nan_ties_and_inf(backend, dtype, geometry):
    """Rows wide enough for the C kernel's vectorised windows, with clipped windows around
    them when padded: values, torch's index (first of equal maxima, last NaN), gradients."""
    torch = pytest.importorskip("torch")
    kernel, stride, padding, dilation, ceil = geometry
    a = _wide_with_specials(dtype)
    x, tx = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out = F.max_pool2d(x, kernel, stride, padding, dilation, ceil, return_indices=True)
    tout = torch.nn.functional.max_pool2d(tx, kernel, stride, padding, dilation, ceil,
                                          return_indices=True)
    np.testing.assert_array_equal(out[1].numpy(), tout[1].numpy())
    np.testing.assert_array_equal(out[0].detach().numpy(), tout[0].detach().numpy())
    cot = np.random.default_rng(2).standard_normal(tuple(tout[0].shape)).astype(dtype)
    (out[0] * mg.tensor(cot)).sum().backward()
    (tout[0] * torch.tensor(cot)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


@pytest.mark.parametrize("nthreads", [1, 2, 3])
@pytest.mark.parametrize("geometry", WINDOWS[:6] + WINDOWS[9:10])
def test_wide_rows_threaded_match_the_reference(c_backend, numpy_ref, nthreads, geometry,
                                                monkeypatch):
    """The C kernel against the NumPy reference on a call large enough to split its planes
    over threads (dynamic shares), indices and values exactly; runs without torch."""
    monkeypatch.setattr(c_backend, "nthreads", nthreads)
    kernel, stride, padding, dilation, _ = geometry
    a = np.concatenate([_wide_with_specials("float64")] * 40)  # > 262144 reads: threaded
    out = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1 for n, k, s, p, d
                in zip(a.shape[2:], kernel, stride, padding, dilation))
    got = c_backend.max_pool2d(a, kernel, stride, padding, dilation, out)
    want = numpy_ref.max_pool2d(a, kernel, stride, padding, dilation, out)
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(got[0], want[0])
    g = np.random.default_rng(1).standard_normal(got[0].shape)
    np.testing.assert_array_equal(c_backend.max_pool2d_backward(g, got[1], a.shape),
                                  numpy_ref.max_pool2d_backward(g, want[1], a.shape))


@pytest.mark.parametrize("name", ["max_pool2d_dilation_ceil", "avg_pool2d_exclude_pad",
                                  "avg_pool2d_divisor", "adaptive_avg_pool2d_uneven",
                                  "adaptive_max_pool2d_uneven", "max_pool1d", "max_unpool2d"])
def test_gradcheck_on_every_backend(backend, name):
    def f(x):
        out = SPEC[name](F, x)
        return out[0] if isinstance(out, tuple) else out
    assert mg.gradcheck(f, (mg.tensor(X[:1, :2], requires_grad=True),))


def test_float32_keeps_its_dtype(backend):
    x = mg.tensor(X, dtype=mg.float32, requires_grad=True)
    for f in (lambda x: F.max_pool2d(x, 2), lambda x: F.avg_pool2d(x, 3, 2, 1),
              lambda x: F.adaptive_avg_pool2d(x, (4, 3)), lambda x: F.adaptive_max_pool2d(x, 3)):
        y = f(x)
        assert y.dtype == mg.float32
        y.sum().backward()
        assert x.grad.dtype == mg.float32
        np.testing.assert_allclose(y.detach().numpy(), f(mg.tensor(X)).numpy(), rtol=1e-6,
                                   atol=1e-6)
        x.grad = None


MODULES = {
    "MaxPool2d": lambda nn: nn.MaxPool2d(2),
    "MaxPool2d_all": lambda nn: nn.MaxPool2d((3, 2), 1, 1, 2, False, True),
    "MaxPool1d": lambda nn: nn.MaxPool1d(3, 2, 1, ceil_mode=True),
    "AvgPool2d": lambda nn: nn.AvgPool2d(3, 2, 1, True, False, None),
    "AvgPool1d": lambda nn: nn.AvgPool1d(3, 1, 1, True, False),
    "AdaptiveAvgPool2d": lambda nn: nn.AdaptiveAvgPool2d((1, 1)),
    "AdaptiveMaxPool2d": lambda nn: nn.AdaptiveMaxPool2d(3),
}


@pytest.mark.parametrize("name", list(MODULES))
def test_modules_match_torch(backend, name):
    torch = pytest.importorskip("torch")
    m, tm = MODULES[name](mg.nn), MODULES[name](torch.nn)
    assert repr(m) == repr(tm)
    x = X[:, 0] if "1d" in name else X
    out, tout = m(mg.tensor(x)), tm(torch.tensor(x))
    _compare(out, tout)


def test_max_unpool2d_module(backend):
    torch = pytest.importorskip("torch")
    pool, unpool = mg.nn.MaxPool2d(2, return_indices=True), mg.nn.MaxUnpool2d(2)
    tpool, tunpool = torch.nn.MaxPool2d(2, return_indices=True), torch.nn.MaxUnpool2d(2)
    assert repr(unpool) == repr(tunpool)
    out = unpool(*pool(mg.tensor(X)))
    tout = tunpool(*tpool(torch.tensor(X)))
    np.testing.assert_array_equal(out.numpy(), tout.numpy())


X4 = mg.randn(2, 3, 8, 8)
ERRORS = [
    (lambda: F.max_pool2d(X4, 3, padding=2), RuntimeError,
     "pad should be at most half of effective kernel size, but got pad=2, kernel_size=3"),
    (lambda: F.max_pool2d(X4, 0), RuntimeError, "greater than zero"),
    (lambda: F.max_pool2d(X4, 2, stride=0), RuntimeError, "stride should not be zero"),
    (lambda: F.max_pool2d(X4, 2, dilation=0), RuntimeError,
     "dilation should be greater than zero, but got dilationH: 0 dilationW: 0"),
    (lambda: F.max_pool2d(X4, 2, padding=-1), RuntimeError,
     "pad must be non-negative, but got pad: -1"),
    (lambda: F.max_pool2d(mg.randn(3, 8), 2), RuntimeError, r"3D or 4D .* got:\[3, 8\]"),
    (lambda: F.max_pool2d(mg.randn(2, 0, 8, 8), 2), RuntimeError, r"got:\[2, 0, 8, 8\]"),
    (lambda: F.max_pool2d(mg.randn(2, 3, 2, 2), 3), RuntimeError,
     r"Given input size: \(3x2x2\). Calculated output size: \(3x0x0\). Output size is too "
     "small"),
    (lambda: F.max_pool2d(X4, (2, 2, 2)), RuntimeError,
     "kernel_size must either be a single int, or a tuple of two ints"),
    (lambda: F.avg_pool2d(X4, 2, divisor_override=0), RuntimeError, "divisor must be not zero"),
    (lambda: F.max_pool1d(X4, 2), RuntimeError, r"max_pool1d: Expected 2D or 3D"),
    (lambda: F.adaptive_avg_pool2d(X4, (3,)), RuntimeError, "output_size must be 2"),
    (lambda: F.adaptive_avg_pool2d(mg.randn(2, 3, 0, 8), 2), RuntimeError,
     r"non-zero size for non-batch dimensions, but input has sizes \[2, 3, 0, 8\]"),
    (lambda: F.max_unpool2d(X4, mg.zeros(2, 3, 8, 8, dtype=mg.int64), 2, output_size=(3, 3)),
     ValueError, r'invalid output_size "\(3, 3\)" \(dim 0 must be between 14 and 18\)'),
    (lambda: F.max_unpool2d(X4, mg.full((2, 3, 8, 8), 300, dtype=mg.int64), 2), RuntimeError,
     r"Found an invalid max index: 300 \(output volumes are of size 16x16\)"),
    (lambda: F.max_unpool2d(X4, mg.zeros(2, 3, 8, 8), 2), RuntimeError,
     "elements in indices should be type int64 but got: float32"),
    (lambda: F.max_pool2d(X4.numpy(), 2), TypeError, "max_pool2d: input must be a Tensor"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors(i):
    call, exc, match = ERRORS[i]
    with pytest.raises(exc, match=match):
        call()


def test_integer_max_pooling_and_convolution_match_torch(backend):
    """Integer tensors max-pool and convolve as in torch (on the NumPy reference); torch has
    no integer adaptive_max_pool2d, and neither has micrograd."""
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(3).integers(-50, 50, (2, 3, 7, 6))
    out = F.max_pool2d(mg.tensor(a), 3, 2, 1, return_indices=True)
    tout = torch.nn.functional.max_pool2d(torch.tensor(a), 3, 2, 1, return_indices=True)
    for o, t in zip(out, tout):
        assert o.dtype.name == "int64"
        np.testing.assert_array_equal(o.numpy(), t.numpy())
    with pytest.raises(NotImplementedError, match="adaptive_max_pool2d.*int64"):
        F.adaptive_max_pool2d(mg.tensor(a), 2)
    w = np.random.default_rng(4).integers(-3, 3, (4, 3, 2, 2))
    np.testing.assert_array_equal(F.conv2d(mg.tensor(a), mg.tensor(w), padding=1).numpy(),
                                  torch.nn.functional.conv2d(torch.tensor(a), torch.tensor(w),
                                                             padding=1).numpy())
