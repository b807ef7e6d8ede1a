"""Every C kernel against the NumPy reference (NumPy is the specification).

The test walks ``CBackend.native``: each name needs an input recipe in ``RECIPES`` (a kernel
added without one fails ``test_every_native_kernel_has_a_recipe``), and every recipe runs on
random shapes including 0- and 1-sized dims, in float32 and float64, on contiguous and on
non-contiguous (transposed / strided) inputs. Tolerances: float64 1e-12 relative, float32 1e-5,
with an absolute floor scaled by the size of the result (and by k for matmul).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd import backends

pytestmark = pytest.mark.skipif("c" not in backends.REGISTRY,
                                reason=f"C backend not built: {backends.C_IMPORT_ERROR}")
C = backends.REGISTRY.get("c")
NP = backends.REGISTRY["numpy"]
DTYPES = (np.float32, np.float64)
RTOL = {np.float32: 1e-5, np.float64: 1e-12}


@pytest.fixture(autouse=True)
def _run_c_kernels():
    """The routing's size rule off: every small matmul here runs the C GEMM, not NumPy twice."""
    with backends.force_c():
        yield


def _arr(rng, shape, dtype, lo=-4.0, hi=4.0, strided=False):
    """Random array; ``strided`` returns a non-contiguous view (a transpose, or every other
    element) holding the same kind of values."""
    if strided and len(shape) >= 2:
        return rng.uniform(lo, hi, shape[::-1]).astype(dtype).T
    if strided:
        return rng.uniform(lo, hi, tuple(2 * s for s in shape)).astype(dtype)[::2]
    return rng.uniform(lo, hi, shape).astype(dtype)


def unary(lo=-4.0, hi=4.0):
    def make(rng, dims, dtype, strided):
        return (_arr(rng, dims, dtype, lo, hi, strided),), {}
    return make


def binary(lo=-4.0, hi=4.0, blo=-4.0, bhi=4.0):
    def make(rng, dims, dtype, strided):
        return (_arr(rng, dims, dtype, lo, hi, strided),
                _arr(rng, dims, dtype, blo, bhi, False)), {}
    return make


def rows(make_second=None):
    """(N, C) inputs for the softmax family; the backward ones take y = forward(x) and g."""
    def make(rng, dims, dtype, strided):
        n, c = (dims + (3, 3))[:2]
        c = max(c, 1)
        x = _arr(rng, (n, c), dtype, -6, 6, strided)
        if make_second is None:
            return (x,), {}
        y = getattr(NP, make_second)(x)
        return (y, _arr(rng, (n, c), dtype)), {}
    return make


def leaky(backward):
    def make(rng, dims, dtype, strided):
        x = _arr(rng, dims, dtype, strided=strided)
        slope = float(rng.uniform(0.001, 0.5))
        if backward:
            return (x, _arr(rng, dims, dtype), slope), {}
        return (x, slope), {}
    return make


def cross_entropy(backward):
    def make(rng, dims, dtype, strided):
        n, c = (dims + (3, 3))[:2]
        c = max(c, 1)
        logits = _arr(rng, (n, c), dtype, -8, 8, strided)
        target = rng.integers(0, c, n)
        if not backward:
            return (logits, target), {}
        prob = NP.cross_entropy(logits, target)[1]
        return (prob, target, _arr(rng, (n,), dtype)), {}
    return make


def matmul(rng, dims, dtype, strided):
    # sides up to 159, so the C GEMM's direct small-product loop and its packed path are reached
    m, n, k = (16 * d + int(rng.integers(0, 16)) if d else 0 for d in (dims + (3, 3, 3))[:3])
    trans_a, trans_b = bool(rng.integers(2)), bool(rng.integers(2))
    a = _arr(rng, (k, m) if trans_a else (m, k), dtype, strided=strided)
    b = _arr(rng, (n, k) if trans_b else (k, n), dtype, strided=strided)
    return (a, b), {"trans_a": trans_a, "trans_b": trans_b}


ACTIVATIONS = [None, "relu", "sigmoid", "tanh"]


def linear(rng, dims, dtype, strided):
    m, n, k = (dims + (3, 3, 3))[:3]  # x (m, k), w (n, k), y (m, n)
    x = _arr(rng, (m, k), dtype, strided=strided)
    w = _arr(rng, (n, k), dtype, strided=strided)
    b = _arr(rng, (n,), dtype) if rng.integers(2) else None
    return (x, w, b), {"activation": ACTIVATIONS[rng.integers(4)]}


def linear_backward(rng, dims, dtype, strided):
    (x, w, b), kw = linear(rng, dims, dtype, strided)
    act = kw["activation"]
    y = NP.linear(x, w, b, act)  # the forward output the backward reads
    g = _arr(rng, y.shape, dtype, strided=strided)
    need = tuple(bool(v) for v in rng.integers(2, size=2 if b is None else 3))
    return (x, w, y, g, act, need), {}


def sgd_step(rng, dims, dtype, strided):
    p = _arr(rng, dims, dtype, strided=strided)
    g = _arr(rng, dims, dtype)
    momentum = float(rng.choice([0.0, 0.9]))
    nesterov = bool(momentum and rng.integers(2))
    return (p, g, _arr(rng, dims, dtype) if momentum else None), {
        "lr": float(rng.uniform(0.001, 0.5)), "momentum": momentum,
        "dampening": 0.0 if nesterov else float(rng.choice([0.0, 0.3])),
        "weight_decay": float(rng.choice([0.0, 0.01])), "nesterov": nesterov,
        "maximize": bool(rng.integers(2)), "first": bool(rng.integers(2))}


def adam_step(rng, dims, dtype, strided):
    p = _arr(rng, dims, dtype, strided=strided)
    g = _arr(rng, dims, dtype)
    m = _arr(rng, dims, dtype, -0.1, 0.1)
    v = _arr(rng, dims, dtype, 0, 0.1)
    vmax = _arr(rng, dims, dtype, 0, 0.1) if rng.integers(2) else None
    return (p, g, m, v, vmax), {
        "step": int(rng.integers(1, 1000)), "lr": float(rng.uniform(1e-4, 0.1)),
        "beta1": 0.9, "beta2": float(rng.choice([0.999, 0.99])), "eps": 1e-8,
        "weight_decay": float(rng.choice([0.0, 0.01])), "decoupled": bool(rng.integers(2)),
        "maximize": bool(rng.integers(2))}


def conv(rng, dims, dtype, strided):
    """A random conv2d geometry: groups, 1x1 and larger-than-stride kernels, dilation, uneven
    padding (a bottom/right pad of -1 crops, as conv_transpose2d's output_padding asks), zero-size
    batch or channels; returns x, w, b, g (the output's shape) and the
    geometry arguments."""
    groups, cg, og = int(rng.integers(1, 4)), int(rng.integers(0, 4)), int(rng.integers(1, 4))
    n = (dims + (2,))[0] % 4
    kh, kw = (int(v) for v in rng.integers(1, 4, 2))
    stride = tuple(int(v) for v in rng.integers(1, 4, 2))
    dilation = tuple(int(v) for v in rng.integers(1, 3, 2))
    pad = tuple(int(v) for v in rng.integers(0, 3, 4) - (0, 1, 0, 1))  # bottom/right -1: a crop
    padding = ((pad[0], pad[1]), (pad[2], pad[3]))
    h = int(rng.integers(2, 11)) + dilation[0] * (kh - 1)
    w = int(rng.integers(2, 11)) + dilation[1] * (kw - 1)
    x = _arr(rng, (n, groups * cg, h, w), dtype, strided=strided)
    wt = _arr(rng, (groups * og, cg, kh, kw), dtype)
    b = _arr(rng, (groups * og,), dtype) if rng.integers(2) else None
    y = NP.conv2d(x, wt, b, stride, padding, dilation, groups)
    return x, wt, b, _arr(rng, y.shape, dtype), (stride, padding, dilation, groups)


def conv2d(rng, dims, dtype, strided):
    x, w, b, _, geom = conv(rng, dims, dtype, strided)
    return (x, w, b) + geom, {}


def conv2d_input_grad(rng, dims, dtype, strided):
    x, w, _, g, geom = conv(rng, dims, dtype, strided)
    return (g, w, x.shape) + geom, {}


def conv2d_weight_grad(rng, dims, dtype, strided):
    x, w, _, g, geom = conv(rng, dims, dtype, strided)
    return (x, g, w.shape) + geom, {}


def pool(rng, dims, dtype, strided, avg=False):
    """A random pooling geometry as torch allows it (padding at most half the kernel; with
    ceil_mode the last window may reach past the padding but starts inside): x, the geometry
    and the output size."""
    n, c = (dims + (2, 2))[:2]
    kernel = tuple(int(v) for v in rng.integers(1, 5, 2))
    stride = tuple(int(v) for v in rng.integers(1, 4, 2))
    dilation = (1, 1) if avg else tuple(int(v) for v in rng.integers(1, 3, 2))
    padding = tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel)
    size = tuple(int(d * (k - 1) + 1 + rng.integers(0, 6)) for k, d in zip(kernel, dilation))
    out = []
    for s_, k, st, p, d in zip(size, kernel, stride, padding, dilation):
        o = -(-(s_ + 2 * p - d * (k - 1) - 1) // st) + 1 if rng.integers(2) else \
            (s_ + 2 * p - d * (k - 1) - 1) // st + 1
        out.append(o - 1 if (o - 1) * st >= s_ + p else o)
    x = _arr(rng, (n % 4, c % 4) + size, dtype, strided=strided)
    if x.size and not avg and rng.integers(2):  # ties and NaN: torch's index choice
        x = np.where(rng.random(x.shape) < 0.3, np.nan if rng.integers(2) else 1.0, x)
    return x, kernel, stride, padding, dilation, tuple(out)


def max_pool2d(rng, dims, dtype, strided):
    x, kernel, stride, padding, dilation, out = pool(rng, dims, dtype, strided)
    return (x, kernel, stride, padding, dilation, out), {}


def max_pool2d_backward(rng, dims, dtype, strided):
    x, kernel, stride, padding, dilation, out = pool(rng, dims, dtype, strided)
    _, idx = NP.max_pool2d(x, kernel, stride, padding, dilation, out)
    return (_arr(rng, idx.shape, dtype), idx, x.shape), {}


def avg_pool2d(rng, dims, dtype, strided):
    x, kernel, stride, padding, _, out = pool(rng, dims, dtype, strided, avg=True)
    return (x, kernel, stride, padding, out, bool(rng.integers(2)),
            [None, int(rng.integers(1, 7))][int(rng.integers(2))]), {}


def avg_pool2d_backward(rng, dims, dtype, strided):
    x, kernel, stride, padding, _, out = pool(rng, dims, dtype, strided, avg=True)
    g = _arr(rng, x.shape[:2] + out, dtype, strided=strided)
    return (g, x.shape, kernel, stride, padding, bool(rng.integers(2)),
            [None, int(rng.integers(1, 7))][int(rng.integers(2))]), {}


def lstm_gates(rng, dims, dtype, strided):
    """pre (B, 4H) and c_prev (B, H), B and H from dims (0 included)."""
    b, h = (dims + (3, 3))[:2]
    return (_arr(rng, (b, 4 * h), dtype, -6, 6, strided), _arr(rng, (b, h), dtype)), {}


def lstm_gates_backward(rng, dims, dtype, strided):
    (pre, c_prev), _ = lstm_gates(rng, dims, dtype, False)
    acts, _, tanh_c, _ = NP.lstm_gates(pre, c_prev)
    dh, dc = _arr(rng, c_prev.shape, dtype, strided=strided), _arr(rng, c_prev.shape, dtype)
    return (acts, tanh_c, c_prev, dh, dc), {}


def gru_gates(rng, dims, dtype, strided):
    """gi, gh (B, 3H) and h_prev (B, H)."""
    b, h = (dims + (3, 3))[:2]
    return (_arr(rng, (b, 3 * h), dtype, -6, 6, strided), _arr(rng, (b, 3 * h), dtype, -6, 6),
            _arr(rng, (b, h), dtype)), {}


def gru_gates_backward(rng, dims, dtype, strided):
    (gi, gh, h_prev), _ = gru_gates(rng, dims, dtype, False)
    r, z, n, _ = NP.gru_gates(gi, gh, h_prev)  # r and z are strided views of one array
    return (r, z, n, gh, h_prev, _arr(rng, h_prev.shape, dtype, strided=strided)), {}


def lstm_sequence(rng, dims, dtype, strided):
    """z (S, B, 4H), h0, c0 (B, H), w_hh (4H, H), S, B and H from dims (0 included)."""
    s, b, h = (dims + (3, 3, 3))[:3]
    return (_arr(rng, (s, b, 4 * h), dtype, -3, 3, strided), _arr(rng, (b, h), dtype),
            _arr(rng, (b, h), dtype), _arr(rng, (4 * h, h), dtype, -0.5, 0.5),
            bool(rng.integers(2))), {}


def lstm_sequence_backward(rng, dims, dtype, strided):
    (z, h0, c0, w_hh, reverse), _ = lstm_sequence(rng, dims, dtype, False)
    acts, cs, tcs, _ = NP.lstm_sequence(z, h0, c0, w_hh, reverse)
    g, dc = _arr(rng, cs.shape, dtype, strided=strided), _arr(rng, c0.shape, dtype)
    return (acts, cs, tcs, c0, w_hh, g, dc, reverse), {}


def gru_sequence(rng, dims, dtype, strided):
    """a (S, B, 3H), h0 (B, H), w_hh (3H, H), b_hh (3H,) or None."""
    s, b, h = (dims + (3, 3, 3))[:3]
    b_hh = _arr(rng, (3 * h,), dtype) if rng.integers(2) else None
    return (_arr(rng, (s, b, 3 * h), dtype, -3, 3, strided), _arr(rng, (b, h), dtype),
            _arr(rng, (3 * h, h), dtype, -0.5, 0.5), b_hh, bool(rng.integers(2))), {}


def gru_sequence_backward(rng, dims, dtype, strided):
    (a, h0, w_hh, b_hh, reverse), _ = gru_sequence(rng, dims, dtype, False)
    saved = NP.gru_sequence(a, h0, w_hh, b_hh, reverse)
    g = _arr(rng, saved[-1].shape, dtype, strided=strided)
    return (*saved, h0, w_hh, g, reverse), {}


RECIPES = {
    "lstm_sequence": lstm_sequence, "lstm_sequence_backward": lstm_sequence_backward,
    "gru_sequence": gru_sequence, "gru_sequence_backward": gru_sequence_backward,
    "matmul": matmul, "linear": linear, "linear_backward": linear_backward,
    "relu": unary(), "sigmoid": unary(-30, 30), "tanh": unary(-8, 8), "gelu": unary(-6, 6),
    "relu_backward": binary(), "sigmoid_backward": binary(0, 1), "tanh_backward": binary(-1, 1),
    "gelu_backward": binary(),
    "leaky_relu": leaky(False), "leaky_relu_backward": leaky(True),
    "softmax": rows(), "log_softmax": rows(), "softmax_backward": rows("softmax"),
    "log_softmax_backward": rows("log_softmax"),
    "cross_entropy": cross_entropy(False), "cross_entropy_backward": cross_entropy(True),
    "sgd_step": sgd_step, "adam_step": adam_step,
    "conv2d": conv2d, "conv2d_input_grad": conv2d_input_grad,
    "conv2d_weight_grad": conv2d_weight_grad, "max_pool2d": max_pool2d,
    "max_pool2d_backward": max_pool2d_backward, "avg_pool2d": avg_pool2d,
    "avg_pool2d_backward": avg_pool2d_backward,
    "lstm_gates": lstm_gates, "lstm_gates_backward": lstm_gates_backward,
    "gru_gates": gru_gates, "gru_gates_backward": gru_gates_backward,
}


def assert_close(got, want, dtype, k=1):
    if want is None:  # a gradient nobody asked for
        assert got is None
        return
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            assert_close(g, w, dtype, k)
        return
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    rtol = RTOL[dtype]
    finite = np.abs(want[np.isfinite(want)])  # pooling passes NaN and -inf through
    scale = float(np.max(finite)) if finite.size else 1.0
    np.testing.assert_allclose(got, want, rtol=rtol * k, atol=rtol * k * max(scale, 1.0))


def test_every_native_kernel_has_a_recipe():
    missing = set(C.native) - set(RECIPES)
    assert not missing, f"C kernels without a parity recipe: {sorted(missing)}"
    for name in C.native:
        assert getattr(type(C), name) is not getattr(type(NP), name), f"{name} not overridden"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(C.native) if C is not None else [])
@given(dims=st.lists(st.integers(0, 9), min_size=1, max_size=3), strided=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_parity(name, dtype, dims, strided, seed):
    rng = np.random.default_rng(seed)
    args, kwargs = RECIPES[name](rng, tuple(dims), dtype, strided)
    if name.endswith("_step"):  # in-place updates: compare every array each backend wrote
        copies = {be: [np.copy(a, order="K") if isinstance(a, np.ndarray) else a for a in args]
                  for be in ("numpy", "c")}
        assert NP.__getattribute__(name)(*copies["numpy"], **kwargs) is None
        assert C.__getattribute__(name)(*copies["c"], **kwargs) is None
        for got, want, orig in zip(copies["c"], copies["numpy"], args):
            if isinstance(orig, np.ndarray):
                assert_close(got, want, dtype, 4)
        assert not np.array_equal(copies["numpy"][0], args[0]) or args[0].size == 0 \
            or kwargs["lr"] == 0, "the update did not change p"
        return
    want = getattr(NP, name)(*args, **kwargs)
    got = getattr(C, name)(*args, **kwargs)
    k = 1
    if name in ("matmul", "linear", "linear_backward"):
        # error grows with the inner dimension (k for the forward, n and m for the backward)
        k = max(args[0].shape + args[1].shape, default=1) or 1
    elif name.startswith("conv2d"):  # sums over channels and taps (and the batch, for dw)
        k = 50
    elif "_sequence" in name:  # each step's recurrence sums over the hidden size
        k = 50
    assert_close(got, want, dtype, k)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nthreads", [1, 2, 3])
def test_linear_backward_large_and_threaded(dtype, nthreads, monkeypatch):
    """The fused backward on sizes where, with explicit threads, dw and dx run side by side."""
    monkeypatch.setattr(C, "nthreads", nthreads)
    rng = np.random.default_rng(2)
    for m, k, n in [(128, 300, 100), (70, 65, 90), (1, 200, 300)]:
        x, w = _arr(rng, (m, k), dtype), _arr(rng, (n, k), dtype)
        b = _arr(rng, (n,), dtype)
        for act in ACTIVATIONS:
            y = NP.linear(x, w, b, act)
            g = _arr(rng, y.shape, dtype)
            for need in [(True, True, True), (False, True, True), (True, False, False)]:
                assert_close(C.linear_backward(x, w, y, g, act, need),
                             NP.linear_backward(x, w, y, g, act, need), dtype, max(m, n, k))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nthreads", [1, 2, 3])
def test_conv2d_large_and_threaded(dtype, nthreads, monkeypatch):
    """Batches large enough that the kernels split them over threads (and a single image,
    whose GEMMs get the threads): the three kernels against the reference."""
    monkeypatch.setattr(C, "nthreads", nthreads)
    rng = np.random.default_rng(3)
    cases = [((16, 8, 20, 20), (16, 8, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
             ((7, 6, 15, 17), (8, 3, 3, 2), (2, 1), ((0, 1), (2, 0)), (1, 2), 2),
             ((5, 32, 12, 12), (64, 32, 1, 1), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),
             ((1, 64, 30, 30), (96, 64, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1)]
    for x_shape, w_shape, *geom in cases:
        x, w = _arr(rng, x_shape, dtype), _arr(rng, w_shape, dtype)
        b = _arr(rng, w_shape[:1], dtype)
        y = NP.conv2d(x, w, b, *geom)
        assert_close(C.conv2d(x, w, b, *geom), y, dtype, 50)
        g = _arr(rng, y.shape, dtype)
        assert_close(C.conv2d_input_grad(g, w, x.shape, *geom),
                     NP.conv2d_input_grad(g, w, x.shape, *geom), dtype, 50)
        assert_close(C.conv2d_weight_grad(x, g, w.shape, *geom),
                     NP.conv2d_weight_grad(x, g, w.shape, *geom), dtype, 500)


@pytest.mark.parametrize("dtype", DTYPES)
def test_matmul_large_and_threaded(dtype):
    """Sizes that go through the packed, blocked, multi-threaded path with edges everywhere."""
    rng = np.random.default_rng(1)
    for (m, n, k) in [(301, 257, 530), (128, 100, 784), (1, 513, 300), (400, 1, 77)]:
        for ta, tb in [(False, False), (True, False), (False, True), (True, True)]:
            a = _arr(rng, (k, m) if ta else (m, k), dtype)
            b = _arr(rng, (n, k) if tb else (k, n), dtype)
            assert_close(C.matmul(a, b, ta, tb), NP.matmul(a, b, ta, tb), dtype, k)


@pytest.mark.parametrize("dtype", DTYPES)
def test_matmul_batched(dtype):
    rng = np.random.default_rng(2)
    a = _arr(rng, (2, 3, 5, 7), dtype)
    b = _arr(rng, (2, 3, 7, 4), dtype)
    assert_close(C.matmul(a, b), NP.matmul(a, b), dtype, 7)
    bt = np.swapaxes(_arr(rng, (2, 3, 4, 7), dtype), -1, -2)  # transposed batch views
    assert_close(C.matmul(a, bt), NP.matmul(a, bt), dtype, 7)
    w = _arr(rng, (7, 6), dtype)  # (..., m, k) @ (k, n)
    assert_close(C.matmul(a, w), NP.matmul(a, w), dtype, 7)
    assert_close(C.matmul(a, w.T.copy(), trans_b=True), NP.matmul(a, w), dtype, 7)
    e = _arr(rng, (0, 5, 7), dtype)
    assert_close(C.matmul(e, _arr(rng, (0, 7, 2), dtype)), np.zeros((0, 5, 2), dtype), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nthreads", [1, 2, 3])
def test_rnn_gates_large_and_threaded(dtype, nthreads, monkeypatch):
    """Steps large enough that the gate kernels split their rows over threads (and an odd
    batch, so the split is uneven): the four kernels against the reference."""
    monkeypatch.setattr(C, "nthreads", nthreads)
    rng = np.random.default_rng(4)
    for b, h in [(67, 200), (3, 3000)]:
        for name in ("lstm_gates", "lstm_gates_backward", "gru_gates", "gru_gates_backward"):
            args, _ = RECIPES[name](rng, (b, h), dtype, False)
            assert_close(getattr(C, name)(*args), getattr(NP, name)(*args), dtype)


@pytest.mark.parametrize("be", [NP, C], ids=["numpy", "c"])
def test_rnn_gates_shape_errors_name_the_shapes(be):
    f = np.zeros
    with pytest.raises(ValueError, match=r"lstm_gates: expected gates \(B, 4H\) and states "
                                         r"\(B, H\), got gates \(2, 12\) and states \(2, 4\)"):
        be.lstm_gates(f((2, 12)), f((2, 4)))
    with pytest.raises(ValueError, match=r"lstm_gates_backward: .*states \(2, 3\), \(2, 3\), "
                                         r"\(3, 3\), \(2, 3\)"):
        be.lstm_gates_backward(f((2, 12)), f((2, 3)), f((2, 3)), f((3, 3)), f((2, 3)))
    with pytest.raises(ValueError, match=r"gru_gates: .*got gates \(2, 9\), \(2, 6\)"):
        be.gru_gates(f((2, 9)), f((2, 6)), f((2, 3)))
    with pytest.raises(ValueError, match=r"gru_gates_backward: .*states \(2,\)"):
        be.gru_gates_backward(f(2), f(2), f(2), f((2, 6)), f(2), f(2))


def test_matmul_mismatch_is_a_clear_error():
    a, b = np.ones((30, 40), np.float32), np.ones((50, 60), np.float32)
    with pytest.raises(ValueError, match=r"inner dimensions differ.*\(30, 40\).*\(50, 60\)"):
        C.matmul(a, b)


def test_other_dtypes_fall_back_to_numpy():
    a = np.arange(6, dtype=np.int64).reshape(2, 3)
    np.testing.assert_array_equal(C.matmul(a, a.T), a @ a.T)
    np.testing.assert_array_equal(C.relu(a - 3), np.maximum(a - 3, 0))
    half = np.ones((2, 2), np.float16)
    assert C.sigmoid(half).dtype == np.float16


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_rejects_out_of_range_targets(dtype):
    logits = np.zeros((3, 4), dtype)
    for bad in (4, -1, 100):
        target = np.array([0, bad, 1])
        with pytest.raises(IndexError, match=rf"target\[1\] = {bad} is out of range for 4"):
            C.cross_entropy(logits, target)
        with pytest.raises(IndexError, match=r"target\[1\]"):
            C.cross_entropy_backward(np.full((3, 4), 0.25, dtype), target, np.ones(3, dtype))
    with pytest.raises(TypeError, match="integers"):
        C.cross_entropy(logits, np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        C.cross_entropy(logits, np.zeros(2, np.int64))


@pytest.mark.parametrize("dtype", DTYPES)
def test_special_values_match_numpy(dtype):
    """inf, nan, huge, tiny and subnormal inputs: the C kernels agree with NumPy."""
    info = np.finfo(dtype)
    x = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, info.max, -info.max,
                  info.tiny, info.tiny / 8, 1e-30, 80.0, 89.0, -89.0, -104.0, 700.0, -740.0,
                  709.5, -1e-8, 1e-8, 0.3, -0.3, 0.7, -0.7, 20.0, -20.0], dtype)
    with np.errstate(all="ignore"):
        for name in ("relu", "sigmoid", "tanh", "gelu"):
            got, want = getattr(C, name)(x), getattr(NP, name)(x)
            np.testing.assert_allclose(got, want, rtol=RTOL[dtype] * 4, atol=0,
                                       err_msg=f"{name}({x})")
        rows_ = np.array([[0, np.inf, 1], [np.nan, 0, 0], [-np.inf, -np.inf, -np.inf],
                          [1e30, -1e30, 0], [3, 3, 3]], dtype)
        for name in ("softmax", "log_softmax"):
            np.testing.assert_allclose(getattr(C, name)(rows_), getattr(NP, name)(rows_),
                                       rtol=RTOL[dtype], err_msg=name)


def _misaligned(a: np.ndarray) -> np.ndarray:
    """The values of float32 ``a`` in a C-contiguous view at an odd byte offset (misaligned,
    read-only)."""
    raw = np.frombuffer(b"\0" + np.ascontiguousarray(a).tobytes(), np.uint8)
    view = raw[1:].view(np.float32).reshape(a.shape)
    assert a.size == 0 or (not view.flags.aligned and view.flags.c_contiguous)
    return view


@pytest.mark.parametrize("name", ["relu", "sigmoid", "softmax", "matmul", "linear",
                                  "relu_backward", "cross_entropy", "adam_step", "lstm_gates",
                                  "gru_gates_backward"])
def test_misaligned_inputs_are_copied_not_read_misaligned(name):
    """A float32 view at an odd byte offset is C-contiguous but misaligned: the wrappers copy
    it (reading it through a float pointer is undefined behaviour; UBSan flags it)."""
    rng = np.random.default_rng(6)
    args, kwargs = RECIPES[name](rng, (5, 6, 7), np.float32, False)
    if name == "adam_step":  # the gradient is the read-only input; the state stays writable
        want = [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]
        got = [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]
        got[1] = _misaligned(args[1])
        NP.adam_step(*want, **kwargs)
        C.adam_step(*got, **kwargs)
        assert_close(got[0], want[0], np.float32, 4)
        return
    args = [_misaligned(a) if isinstance(a, np.ndarray) and a.dtype == np.float32 else a
            for a in args]
    assert_close(getattr(C, name)(*args, **kwargs), getattr(NP, name)(*args, **kwargs),
                 np.float32, 60)
