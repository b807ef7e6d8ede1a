"""The C GEMM against NumPy: every micro-kernel path, transpose combination, alpha/beta, thread
count, and awkward shape (0, 1, odd, tall/skinny, edges of every block size)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

_C = pytest.importorskip("micrograd._C", reason="C core not built")
ffi, lib = _C.ffi, _C.lib

#: micro-kernel paths this CPU can run: 0 portable C, 1 AVX2+FMA, 2 AVX-512F, and -1 automatic
#: (the best kernel, or the unpacked loop for small products)
ISAS = [-1] + list(range(lib.mg_gemm_isa() + 1))
DTYPES = {np.float32: ("float *", 1e-5), np.float64: ("double *", 1e-12)}


def gemm(a, b, c, trans_a=False, trans_b=False, alpha=1.0, beta=0.0, nthreads=1, isa=-1,
         naive=False):
    """Call mg_gemm_isa_* (or mg_gemm_naive_*) on C-contiguous arrays, writing into c."""
    sfx = "f32" if a.dtype == np.float32 else "f64"
    m, n = c.shape
    k = a.shape[0] if trans_a else a.shape[1]
    ptr = DTYPES[a.dtype.type][0]
    args = (ffi.cast(ptr, c.ctypes.data), ffi.cast(ptr, a.ctypes.data),
            ffi.cast(ptr, b.ctypes.data), m, n, k, int(trans_a), int(trans_b), alpha, beta,
            max(a.shape[1], 1), max(b.shape[1], 1), max(n, 1))
    if naive:
        getattr(lib, f"mg_gemm_naive_{sfx}")(*args)
    else:
        getattr(lib, f"mg_gemm_isa_{sfx}")(*args, nthreads, isa)
    return c


def reference(a, b, c, trans_a, trans_b, alpha, beta):
    prod = (a.T if trans_a else a).astype(np.float64) @ (b.T if trans_b else b).astype(np.float64)
    return alpha * prod + (beta * c.astype(np.float64) if beta != 0 else 0)


def check(m, n, k, dtype, trans_a, trans_b, alpha, beta, nthreads, isa, rng):
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    c0 = rng.standard_normal((m, n)).astype(dtype)
    if beta == 0:
        c0[...] = np.nan  # beta == 0 must never read c
    want = reference(a, b, c0, trans_a, trans_b, alpha, beta)
    got = gemm(a, b, c0.copy(), trans_a, trans_b, alpha, beta, nthreads, isa)
    tol = DTYPES[dtype][1] * max(k, 1) ** 0.5 * 4
    scale = np.abs(want).max() if want.size else 1.0
    np.testing.assert_allclose(got, want, rtol=0, atol=tol * max(scale, 1.0))


SHAPES = [(1, 1, 1), (0, 5, 3), (5, 0, 3), (4, 6, 0), (1, 40, 7), (40, 1, 7), (3, 5, 7),
          (13, 33, 17), (12, 32, 16), (25, 65, 513), (97, 16, 31), (200, 3, 50), (2, 300, 9),
          (130, 100, 600)]


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("trans_a,trans_b", [(0, 0), (0, 1), (1, 0), (1, 1)])
def test_shapes_and_transposes(isa, dtype, trans_a, trans_b, rng):
    for m, n, k in SHAPES:
        check(m, n, k, dtype, trans_a, trans_b, 1.0, 0.0, 1, isa, rng)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("alpha,beta", [(0.5, 2.0), (-1.0, 1.0), (2.0, 0.0), (0.0, 0.5),
                                        (0.0, 0.0)])
def test_alpha_beta(isa, alpha, beta, rng):
    for m, n, k in [(7, 9, 11), (30, 70, 40), (3, 3, 0)]:
        check(m, n, k, np.float32, 0, 1, alpha, beta, 1, isa, rng)
        check(m, n, k, np.float64, 1, 0, alpha, beta, 1, isa, rng)


@pytest.mark.parametrize("nthreads", [1, 2, 3, 0])
def test_threads_give_the_same_answer(nthreads, rng):
    # large enough to be split across threads (>= 256^3 multiply-adds), with edges in every
    # blocked dimension; a short m makes the threads split the B slivers instead of rows
    # (40, 4200, 1100) has 2 x 3 B panels, so the double-buffered panels are each reused
    for m, n, k in [(301, 257, 530), (6, 4000, 800), (4000, 6, 800), (5, 700, 300),
                    (40, 4200, 1100)]:
        check(m, n, k, np.float32, 0, 0, 1.0, 0.0, nthreads, -1, rng)
        check(m, n, k, np.float64, 1, 1, 1.0, 1.0, nthreads, -1, rng)


def test_leading_dimensions_wider_than_the_matrix(rng):
    """Strided row access: a, b and c are column slices of wider arrays."""
    a_full = rng.standard_normal((20, 30)).astype(np.float32)
    b_full = rng.standard_normal((15, 40)).astype(np.float32)
    c_full = np.zeros((20, 50), np.float32)
    m, n, k = 20, 33, 15
    ptr = "float *"
    lib.mg_gemm_f32(ffi.cast(ptr, c_full.ctypes.data), ffi.cast(ptr, a_full.ctypes.data),
                    ffi.cast(ptr, b_full.ctypes.data), m, n, k, 0, 0, 1.0, 0.0, 30, 40, 50, 1)
    np.testing.assert_allclose(c_full[:, :n], a_full[:, :k] @ b_full[:, :n], rtol=1e-5,
                               atol=1e-5)
    assert not c_full[:, n:].any(), "wrote outside the (m, n) window of c"


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("trans_a,trans_b", [(0, 0), (0, 1), (1, 0), (1, 1)])
def test_transposed_c_in_place_a_and_exact_edges(isa, trans_a, trans_b, rng):
    """The shape-dependent paths: c computed as c^T = op(b)^T op(a)^T when m fills the vector
    lanes better than n (m a multiple of 16, n ragged, k >= 32: the MLP's forward products),
    op(a) read unpacked when it is transposed, and edge tiles of every row count (1..13) and
    lane-masked right edges."""
    for m, n, k in [(128, 100, 196), (32, 10, 50), (48, 50, 33), (16, 3, 40), (100, 784, 64)]:
        for beta in (0.0, 1.0):
            check(m, n, k, np.float32, trans_a, trans_b, 1.0, beta, 1, isa, rng)
            check(m, n, k, np.float64, trans_a, trans_b, 1.0, beta, 1, isa, rng)
    for m in range(1, 14):
        check(m, 37, 20, np.float32, trans_a, trans_b, 0.5, -1.0, 1, isa, rng)
        check(m, 37, 20, np.float64, trans_a, trans_b, 0.5, -1.0, 1, isa, rng)
    for nthreads in (2, 3):  # threads split the rows of c^T (= columns of c) too
        check(256, 100, 300, np.float32, trans_a, trans_b, 1.0, 0.5, nthreads, isa, rng)
        # op(b) read in place (n a whole number of slivers), over two k panels, threaded
        check(256, 96, 1000, np.float32, trans_a, trans_b, 1.0, 0.5, nthreads, isa, rng)
    check(64, 64, 700, np.float64, trans_a, trans_b, 1.0, 1.0, 1, isa, rng)
    # op(a) too wide to read in place (a block spans > 1 MB across its stride): packed
    for m, n, k in [(600, 48, 600), (100, 48, 5000)]:  # n = 48: c not transposed
        check(m, n, k, np.float32, trans_a, trans_b, 1.0, 0.5, 1, isa, rng)


def test_transposed_c_stays_inside_the_window(rng):
    """c^T is written through c's leading dimension: a wider c keeps its other columns."""
    m, n, k = 32, 20, 40  # computed as c^T (32 fills the lanes, 20 does not)
    for trans_a, trans_b in [(0, 0), (0, 1), (1, 0), (1, 1)]:
        a_full = rng.standard_normal((k + 3, m + 5) if trans_a else (m + 3, k + 5))
        b_full = rng.standard_normal((n + 2, k + 7) if trans_b else (k + 2, n + 7))
        a_full, b_full = a_full.astype(np.float32), b_full.astype(np.float32)
        c_full = np.full((m, n + 9), 7.0, np.float32)
        a = a_full[:k, :m] if trans_a else a_full[:m, :k]
        b = b_full[:n, :k] if trans_b else b_full[:k, :n]
        ptr = "float *"
        lib.mg_gemm_f32(ffi.cast(ptr, c_full.ctypes.data), ffi.cast(ptr, a_full.ctypes.data),
                        ffi.cast(ptr, b_full.ctypes.data), m, n, k, trans_a, trans_b, 2.0, 1.0,
                        a_full.shape[1], b_full.shape[1], c_full.shape[1], 1)
        want = 2.0 * (a.T if trans_a else a).astype(np.float64) @ (b.T if trans_b else b) + 7.0
        np.testing.assert_allclose(c_full[:, :n], want, rtol=1e-5, atol=1e-4)
        assert (c_full[:, n:] == 7.0).all(), "wrote outside the (m, n) window of c"


def test_naive_reference_agrees_with_numpy(rng):
    for dtype in (np.float32, np.float64):
        a = rng.standard_normal((9, 4)).astype(dtype)
        b = rng.standard_normal((7, 9)).astype(dtype)
        c = rng.standard_normal((4, 7)).astype(dtype)
        got = gemm(a, b, c.copy(), True, True, 0.5, 2.0, naive=True)
        np.testing.assert_allclose(got, reference(a, b, c, True, True, 0.5, 2.0),
                                   rtol=DTYPES[dtype][1] * 10)


@given(m=st.integers(0, 70), n=st.integers(0, 70), k=st.integers(0, 70),
       trans_a=st.booleans(), trans_b=st.booleans(), isa=st.sampled_from(ISAS),
       f64=st.booleans(), beta=st.sampled_from([0.0, 1.0, -0.5]))
def test_random_shapes(m, n, k, trans_a, trans_b, isa, f64, beta):
    rng = np.random.default_rng(m * 10007 + n * 101 + k)
    check(m, n, k, np.float64 if f64 else np.float32, trans_a, trans_b, 1.5, beta, 1, isa, rng)


def _python(code, **env):
    import os
    import subprocess
    import sys
    full = {k: v for k, v in os.environ.items()
            if k not in ("MICROGRAD_NUM_THREADS", "OMP_NUM_THREADS")}
    full.update(env)
    return subprocess.run([sys.executable, "-c", code], env=full, capture_output=True,
                          text=True, timeout=120, check=False)


def test_thread_environment_variables_are_honoured():
    code = ("from micrograd import backends; from micrograd._C import lib; "
            "print(backends.REGISTRY['c'].nthreads, lib.mg_max_threads())")
    out = _python(code, MICROGRAD_NUM_THREADS="1")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] == "1"
    if lib.mg_has_openmp():
        out = _python(code, OMP_NUM_THREADS="1")
        assert out.returncode == 0, out.stderr
        assert out.stdout.split() == ["0", "1"]  # 0 = "the OpenMP default", which is now 1


@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_bad_thread_count_is_a_clear_error(value):
    out = _python("import micrograd", MICROGRAD_NUM_THREADS=value)
    assert out.returncode != 0
    assert f"MICROGRAD_NUM_THREADS must be a positive integer, got {value!r}" in out.stderr
