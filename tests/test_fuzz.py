"""Fuzzing across backends: random shapes (0, 1, odd, large-ish), broadcasting, strided views,
float32/float64 and extreme values (+-inf, nan, +-1e38, denormals, -0.0).

- The C and NumPy backends agree element by element, NaN where NaN and Inf where Inf, for every
  native elementwise/row kernel and for whole Tensor programs, forward and backward.
- Gradients of random compositions match central finite differences (float64, finite values).
- Nothing crashes: every op on every input either returns or raises a clear Python exception.

test_backend_parity.py covers the kernels on bounded random values; this file adds the hostile
values and the Tensor-level programs.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import micrograd as mg
from micrograd import backends
from micrograd.nn import functional as F

from strategies import broadcastable_pairs

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")
HAS_C = "c" in backends.REGISTRY
FEW = settings(max_examples=max(8, settings.default.max_examples // 3))  # many parametrized cases
needs_c = pytest.mark.skipif(not HAS_C, reason=f"C backend not built: {backends.C_IMPORT_ERROR}")
C = backends.REGISTRY.get("c")
NP = backends.REGISTRY["numpy"]
DTYPES = (np.float32, np.float64)
RTOL = {np.dtype(np.float32): 2e-5, np.dtype(np.float64): 1e-12}


# ---- strategies ---------------------------------------------------------------------------------
def specials(dtype, huge: bool = True) -> list:
    info = np.finfo(dtype)
    out = [0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, float(info.tiny),
           float(info.tiny) / 4, float(info.smallest_subnormal), 1e-30, -1e-30]
    if huge:
        out += [1e38, -1e38, float(info.max), 88.5, -88.5, 710.0, -745.0]
    return out


def values(dtype, extreme: bool = True, huge: bool = True) -> st.SearchStrategy:
    """Mostly ordinary floats, with the special values mixed in at a high rate. ``huge=False``
    leaves out values whose products overflow: where a sum mixes an overflow with an Inf, the
    result (Inf or NaN) depends on the summation order and on FMA, legitimately."""
    width = 32 if np.dtype(dtype) == np.float32 else 64
    normal = st.floats(-20, 20, allow_nan=False, width=width)
    if not extreme:
        return normal
    return st.one_of(normal, normal, st.sampled_from(specials(dtype, huge)).map(
        lambda v: float(np.asarray(v, dtype))))


SIDES = st.one_of(st.sampled_from([0, 1, 2, 3, 5, 7]), st.integers(8, 70))


@st.composite
def shaped(draw, dtype, min_dims=1, max_dims=3, extreme=True, shape=None,
           huge=True) -> np.ndarray:
    """An array of a random shape, sometimes a transposed or step-sliced (non-contiguous) view
    of a bigger array, so kernels see every stride pattern the Tensor layer can hand them."""
    if shape is None:
        ndim = draw(st.integers(min_dims, max_dims))
        sides = draw(st.lists(SIDES, min_size=ndim, max_size=ndim))
        while np.prod(sides) > 600:                 # keep examples fast
            sides[int(np.argmax(sides))] //= 2
        shape = tuple(sides)
    kind = draw(st.sampled_from(["plain", "transposed", "sliced"]))
    elems = values(dtype, extreme, huge)
    if kind == "transposed" and len(shape) >= 2:
        base = draw(hnp.arrays(dtype, shape[::-1], elements=elems))
        return base.T
    if kind == "sliced" and shape:
        base = draw(hnp.arrays(dtype, (2 * shape[0],) + shape[1:], elements=elems))
        return base[::2]
    return draw(hnp.arrays(dtype, shape, elements=elems))


def same_or_nan(got: np.ndarray, want: np.ndarray, what: str, k: float = 1.0) -> None:
    """Equal shapes and dtypes; NaN exactly where NaN, +-Inf exactly where +-Inf; finite values
    close (relative to the larger of the two and to the array's scale)."""
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != {want.dtype}"
    gn, wn = np.isnan(got), np.isnan(want)
    assert np.array_equal(gn, wn), (f"{what}: NaN at {np.argwhere(gn != wn)[:3].tolist()}: "
                                    f"got {got[gn != wn][:3]}, want {want[gn != wn][:3]}")
    gi, wi = np.isinf(got), np.isinf(want)
    both = gi & wi
    assert np.array_equal(got[both], want[both]), f"{what}: infinities of different sign"
    fin = np.isfinite(got) & np.isfinite(want)
    rtol = RTOL[got.dtype] * k
    scale = max(float(np.max(np.abs(want[fin]))) if fin.any() else 0.0, 1.0)
    # an Inf against a value at the edge of the range (float32 max) is an overflow tie
    edge = np.finfo(got.dtype).max * (1 - 4 * rtol)
    mismatch = (gi != wi) & ~((gi & (np.abs(want) >= edge)) | (wi & (np.abs(got) >= edge)))
    assert not mismatch.any(), (f"{what}: Inf at {np.argwhere(mismatch)[:3].tolist()}: "
                                f"got {got[mismatch][:3]}, want {want[mismatch][:3]}")
    np.testing.assert_allclose(got[fin], want[fin], rtol=rtol, atol=rtol * scale, err_msg=what)


# ---- 1. native kernels on hostile values --------------------------------------------------------
UNARY = ("exp", "log", "relu", "sigmoid", "tanh", "gelu")
BINARY = ("add", "sub", "mul", "div", "relu_backward", "sigmoid_backward", "tanh_backward",
          "gelu_backward")
ROWS = ("softmax", "log_softmax")


@needs_c
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", UNARY + ("leaky_relu",))
@FEW
@given(data=st.data())
def test_unary_kernels_agree_on_extreme_values(name, dtype, data):
    x = data.draw(shaped(dtype))
    args = (x, data.draw(st.floats(0.0, 1.0))) if name == "leaky_relu" else (x,)
    with np.errstate(all="ignore"):
        want = getattr(NP, name)(*args)
        got = getattr(C, name)(*args)
    same_or_nan(got, want, f"{name}{x.shape}", k=4)


@needs_c
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", BINARY + ("leaky_relu_backward",))
@FEW
@given(data=st.data())
def test_binary_kernels_agree_on_extreme_values(name, dtype, data):
    a = data.draw(shaped(dtype))
    b = data.draw(shaped(dtype, shape=a.shape))
    args = (a, b, data.draw(st.floats(0.0, 1.0))) if name == "leaky_relu_backward" else (a, b)
    with np.errstate(all="ignore"):
        want = getattr(NP, name)(*args)
        got = getattr(C, name)(*args)
    same_or_nan(got, want, f"{name}{a.shape}", k=4)


@needs_c
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ROWS)
@given(data=st.data())
def test_row_kernels_agree_on_extreme_values(name, dtype, data):
    x = data.draw(shaped(dtype, min_dims=2, max_dims=2))
    if x.size == 0:  # the Tensor layer never hands the row kernels an empty array
        x = np.zeros((1, 1), dtype)
    g = data.draw(shaped(dtype, shape=x.shape, extreme=False))
    with np.errstate(all="ignore"):
        y = getattr(NP, name)(x)
        same_or_nan(getattr(C, name)(x), y, f"{name}{x.shape}", k=4)
        back = name + "_backward"
        same_or_nan(getattr(C, back)(y, g), getattr(NP, back)(y, g), f"{back}{x.shape}", k=8)


@needs_c
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_matmul_agrees_on_extreme_values(dtype, data):
    m, k, n = (data.draw(SIDES) % 40 for _ in range(3))
    a = data.draw(shaped(dtype, shape=(m, k)))
    b = data.draw(shaped(dtype, shape=(k, n)))
    with np.errstate(all="ignore"):
        want, got = NP.matmul(a, b), C.matmul(a, b)
    # a blocked GEMM sums in another order: inf - inf cancellations may land differently, so
    # only rows and columns free of non-finite inputs and of overflow must match exactly
    rows = np.isfinite(a).all(axis=1) & (np.abs(a).max(axis=1, initial=0) < 1e15)
    cols = np.isfinite(b).all(axis=0) & (np.abs(b).max(axis=0, initial=0) < 1e15)
    assert got.shape == want.shape and got.dtype == want.dtype
    same_or_nan(got[rows][:, cols], want[rows][:, cols], f"matmul{a.shape}@{b.shape}",
                k=max(k, 1) * 4)
    # a row of a holding NaN/Inf (with b finite) makes every output of that row NaN or Inf
    # (inf * b = +-inf, inf * 0 = nan): never a silent finite number
    bad = ~np.isfinite(a).all(axis=1)
    if k and n and bad.any() and np.isfinite(b).all():
        assert not np.isfinite(want[bad]).any()
        assert not np.isfinite(got[bad]).any(), f"finite output from a non-finite row: {got[bad]}"


# ---- 2. whole Tensor programs: the two backends agree, forward and backward ------------------
UNARY_OPS = {
    "exp": lambda x: x.exp(), "log": lambda x: x.log(), "sqrt": lambda x: x.sqrt(),
    "abs": lambda x: x.abs(), "relu": lambda x: x.relu(), "sigmoid": lambda x: x.sigmoid(),
    "tanh": lambda x: x.tanh(), "gelu": F.gelu, "neg": lambda x: -x,
    "square": lambda x: x ** 2, "leaky_relu": lambda x: F.leaky_relu(x, 0.1),
    "softmax": lambda x: x.softmax(-1), "log_softmax": lambda x: x.log_softmax(0),
    "sum": lambda x: x.sum(-1), "mean": lambda x: x.mean(0), "amax": lambda x: x.amax(-1),
    "logsumexp": lambda x: x.logsumexp(-1), "clamp": lambda x: x.clamp(-1.0, 2.0),
    "softplus": F.softplus, "silu": F.silu,
    # Tensor storage is copied contiguous at creation: views made inside the program are how
    # strided arrays reach the kernels (transposes, step slices, broadcasts)
    "T_tanh": lambda x: x.T.tanh(), "slice_exp": lambda x: x[::2].exp(),
    "T_softmax": lambda x: x.T.softmax(-1), "T_gelu": lambda x: F.gelu(x.T),
    "expand_sigmoid": lambda x: x.unsqueeze(0).expand((3,) + x.shape).sigmoid(),
    "slice_relu_mul": lambda x: x[::2].relu() * x[::2].T.T,
}
BINARY_OPS = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "maximum": mg.maximum, "minimum": mg.minimum,
    "pow": lambda a, b: a.abs() ** b,
}


def _run(backend: str, fn, arrays: list, cot_seed: int) -> tuple:
    """fn on fresh leaves built from ``arrays`` under ``backend``: (out, grads)."""
    with mg.use_backend(backend):
        xs = [mg.tensor(a, requires_grad=True) for a in arrays]
        out = fn(*xs)
        cot = np.random.default_rng(cot_seed).standard_normal(out.shape).astype(out._array.dtype)
        out.backward(mg.tensor(cot))
        return out._array, [x.grad._array if x.grad is not None else None for x in xs]


@needs_c
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(UNARY_OPS))
@FEW
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_unary_programs_agree_across_backends(name, dtype, data, seed):
    x = data.draw(shaped(dtype, min_dims=1, max_dims=3))
    if name in ("amax", "logsumexp") and 0 in x.shape[-1:]:
        x = np.ones(x.shape[:-1] + (1,), dtype)
    fn = UNARY_OPS[name]
    out_np, g_np = _run("numpy", fn, [x], seed)
    out_c, g_c = _run("c", fn, [x], seed)
    same_or_nan(out_c, out_np, f"{name} forward {x.shape}", k=8)
    same_or_nan(g_c[0], g_np[0], f"{name} backward {x.shape}", k=64)


@needs_c
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(BINARY_OPS))
@FEW
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_binary_programs_agree_across_backends(name, dtype, data, seed):
    sa, sb = data.draw(broadcastable_pairs(max_dims=3, max_side=7))
    a = data.draw(shaped(dtype, shape=sa))
    b = data.draw(shaped(dtype, shape=sb))
    fn = BINARY_OPS[name]
    out_np, g_np = _run("numpy", fn, [a, b], seed)
    out_c, g_c = _run("c", fn, [a, b], seed)
    same_or_nan(out_c, out_np, f"{name} forward {sa} {sb}", k=8)
    for i in range(2):
        same_or_nan(g_c[i], g_np[i], f"{name} grad {i} {sa} {sb}", k=64)


@needs_c
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_mlp_and_cross_entropy_agree_across_backends(dtype, data, seed):
    """The training path (fused linear, relu, cross-entropy) on odd sizes and wild inputs."""
    n, k, h, c = (data.draw(st.sampled_from([1, 2, 3, 7, 17, 33])) for _ in range(4))
    x = data.draw(shaped(dtype, shape=(n, k), huge=False))
    w1 = data.draw(shaped(dtype, shape=(h, k), extreme=False))
    w2 = data.draw(shaped(dtype, shape=(c, h), extreme=False))
    target = np.random.default_rng(seed).integers(0, c, n)

    def net(x, w1, w2):
        return F.cross_entropy(F.linear(F.linear(x, w1).relu(), w2), mg.tensor(target),
                               reduction="none")
    out_np, g_np = _run("numpy", net, [x, w1, w2], seed)
    out_c, g_c = _run("c", net, [x, w1, w2], seed)
    # sums of n * k * h terms that cancel (softmax - onehot): tolerance grows with the sizes
    tol = 64 * (n + k + h + c)
    same_or_nan(out_c, out_np, "loss", k=tol)
    for i, name in enumerate(("x", "w1", "w2")):
        same_or_nan(g_c[i], g_np[i], f"grad {name}", k=64 * tol)


# ---- 3. gradients of random compositions vs finite differences ------------------------------
SMOOTH_UNARY = {
    "exp": lambda x: (x * 0.3).exp(), "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(), "square": lambda x: x ** 2,
    "log_sq": lambda x: (x * x + 1.0).log(), "softmax": lambda x: x.softmax(-1),
    "log_softmax": lambda x: x.log_softmax(-1), "gelu": F.gelu, "sum": lambda x: x.sum(-1),
    "mean_keep": lambda x: x.mean(0, keepdim=True), "T": lambda x: x.T,
    "logsumexp": lambda x: x.logsumexp(-1),
}
SMOOTH_BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b,
                 "mul": lambda a, b: a * b, "div": lambda a, b: a / (b * b + 1.0)}


@pytest.mark.parametrize("backend_name", mg.available_backends())
@given(data=st.data())
def test_random_compositions_match_finite_differences(backend_name, data):
    sa, sb = data.draw(broadcastable_pairs(max_dims=3, max_side=4))
    a = data.draw(shaped(np.float64, shape=sa, extreme=False))
    b = data.draw(shaped(np.float64, shape=sb, extreme=False))
    ops = data.draw(st.lists(st.sampled_from(sorted(SMOOTH_UNARY)), min_size=1, max_size=3))
    binop = data.draw(st.sampled_from(sorted(SMOOTH_BINARY)))

    def fn(x, y):
        z = SMOOTH_BINARY[binop](x * 0.25, y * 0.25)
        for op in ops:
            if z.ndim == 0 and op in ("softmax", "log_softmax", "sum", "mean_keep",
                                      "logsumexp"):
                continue
            z = SMOOTH_UNARY[op](z)
        return z
    with mg.use_backend(backend_name):
        xs = [mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)]
        # central differences see every output's rounding (|f| * 2^-52 / eps): exp(exp(.))
        # reaches 1e6 and then swamps a small derivative of another element, so keep |f| small
        with mg.no_grad():
            assume(float(np.max(np.abs(fn(*xs)._array), initial=0.0)) < 1e3)
        assert mg.gradcheck(fn, xs, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("backend_name", mg.available_backends())
@given(data=st.data())
def test_matmul_on_views_matches_finite_differences(backend_name, data):
    m, k, n = (data.draw(st.integers(1, 5)) for _ in range(3))
    batch = data.draw(st.sampled_from([(), (2,), (1,)]))
    a = data.draw(shaped(np.float64, shape=batch + (m, k), extreme=False))
    b = data.draw(shaped(np.float64, shape=(k, n), extreme=False))
    with mg.use_backend(backend_name):
        xs = [mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)]
        assert mg.gradcheck(lambda x, y: (x * 0.1) @ y.T.T, xs)


# ---- 4. nothing crashes ----------------------------------------------------------------------
CLEAR = (ValueError, TypeError, IndexError)


@pytest.mark.parametrize("backend_name", mg.available_backends())
@given(data=st.data())
def test_random_op_sequences_never_crash(backend_name, data):
    """Random ops on random (possibly empty, extreme, mismatched) tensors: each call returns a
    Tensor of the right dtype or raises a clear error; never anything else."""
    dtype = data.draw(st.sampled_from(DTYPES))
    x = mg.tensor(data.draw(shaped(dtype, max_dims=3)), requires_grad=True)
    y = mg.tensor(data.draw(shaped(dtype, max_dims=3)))
    names = data.draw(st.lists(st.sampled_from(sorted(UNARY_OPS) + sorted(BINARY_OPS)),
                               min_size=1, max_size=4))
    with mg.use_backend(backend_name):
        z = x
        for name in names:
            try:
                z = UNARY_OPS[name](z) if name in UNARY_OPS else BINARY_OPS[name](z, y)
            except CLEAR:
                continue
            assert isinstance(z, mg.Tensor) and z._array.dtype == dtype
        if z.requires_grad:
            z.sum().backward()
            assert x.grad is None or x.grad.shape == x.shape


def _unaligned(values: np.ndarray) -> np.ndarray:
    """A C-contiguous but misaligned copy of ``values`` (offset by one byte in a buffer), as
    ``np.frombuffer(raw, offset=1)`` gives when reading a packed file."""
    raw = np.zeros(values.nbytes + 1, np.uint8)
    out = np.frombuffer(raw.data, dtype=values.dtype, count=values.size, offset=1)
    out = out.reshape(values.shape)
    out[...] = values
    assert not out.flags.aligned and out.flags.c_contiguous
    return out


@pytest.mark.parametrize("make", [mg.from_numpy, mg.as_tensor, mg.tensor])
@pytest.mark.parametrize("dtype", DTYPES)
def test_misaligned_buffers_never_reach_the_kernels(make, dtype):
    """Regression: from_numpy/as_tensor shared a misaligned buffer and the C kernels loaded
    floats from it (undefined behaviour: UBSan 'load of misaligned address' in mg_relu_f32;
    vectorised code may fault). Tensors always hold aligned storage; results are unchanged."""
    rng = np.random.default_rng(0)
    values = rng.uniform(-3, 3, (37, 19)).astype(dtype)
    t = make(_unaligned(values))
    assert t._array.flags.aligned
    np.testing.assert_array_equal(t._array, values)
    results = []
    for name in mg.available_backends():
        with mg.use_backend(name):
            results.append(((t.tanh() * t).relu().sum(1).softmax(0) @ t)._array)
    for r in results[1:]:
        same_or_nan(r, results[0], "program on misaligned input", k=64)


# ---- 5. optimizer step kernels (in place) on hostile gradients ----------------------------------
@needs_c
@pytest.mark.skipif(C is not None and "sgd_step" not in C.native, reason="no C optimizer kernels")
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_sgd_step_kernel_agrees_on_extreme_values(dtype, data):
    p = data.draw(shaped(dtype, max_dims=2, extreme=False))
    g = data.draw(shaped(dtype, shape=p.shape))
    buf = data.draw(shaped(dtype, shape=p.shape, extreme=False))
    kw = dict(lr=data.draw(st.sampled_from([0.0, 0.1, 1.0])),
              momentum=data.draw(st.sampled_from([0.0, 0.9])),
              dampening=data.draw(st.sampled_from([0.0, 0.5])),
              weight_decay=data.draw(st.sampled_from([0.0, 0.01])),
              nesterov=data.draw(st.booleans()), maximize=data.draw(st.booleans()),
              first=data.draw(st.booleans()))
    if kw["nesterov"] and (not kw["momentum"] or kw["dampening"]):
        kw["nesterov"] = False
    state = {}
    for name, be in (("numpy", NP), ("c", C)):
        pp, bb = np.ascontiguousarray(p).copy(), np.ascontiguousarray(buf).copy()
        with np.errstate(all="ignore"):
            be.sgd_step(pp, np.ascontiguousarray(g), bb if kw["momentum"] else None, **kw)
        state[name] = (pp, bb)
    for i, what in enumerate(("param", "momentum buffer")):
        same_or_nan(state["c"][i], state["numpy"][i], f"sgd_step {what} {kw}", k=8)


@needs_c
@pytest.mark.skipif(C is not None and "adam_step" not in C.native, reason="no C optimizer kernels")
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_adam_step_kernel_agrees_on_extreme_values(dtype, data):
    p = data.draw(shaped(dtype, max_dims=2, extreme=False))
    g = data.draw(shaped(dtype, shape=p.shape))
    m = data.draw(shaped(dtype, shape=p.shape, extreme=False))
    v = np.abs(data.draw(shaped(dtype, shape=p.shape, extreme=False)))
    amsgrad = data.draw(st.booleans())
    kw = dict(step=data.draw(st.integers(1, 50)), lr=data.draw(st.sampled_from([1e-3, 0.1])),
              beta1=data.draw(st.sampled_from([0.0, 0.9])),
              beta2=data.draw(st.sampled_from([0.5, 0.999])),
              eps=data.draw(st.sampled_from([1e-8, 0.0])),
              weight_decay=data.draw(st.sampled_from([0.0, 0.01])),
              decoupled=data.draw(st.booleans()), maximize=data.draw(st.booleans()))
    state = {}
    for name, be in (("numpy", NP), ("c", C)):
        arrays = [np.ascontiguousarray(a).copy() for a in (p, m, v, v)]
        pp, mm, vv, vmax = arrays
        with np.errstate(all="ignore"):
            be.adam_step(pp, np.ascontiguousarray(g), mm, vv, vmax if amsgrad else None, **kw)
        state[name] = arrays
    for i, what in enumerate(("param", "m", "v", "vmax")):
        same_or_nan(state["c"][i], state["numpy"][i], f"adam_step {what} amsgrad={amsgrad} {kw}",
                    k=64)
