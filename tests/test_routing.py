"""The C backend's routing (micrograd/backends/routing.py): small matmuls go to NumPy unless
the force-C switch is on, which the ``backend`` fixture turns on so tests parametrised on "c"
run C kernels; dtypes without a C kernel go to NumPy either way."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import micrograd
from micrograd import backends

pytestmark = pytest.mark.skipif("c" not in backends.REGISTRY,
                                reason=f"C backend not built: {backends.C_IMPORT_ERROR}")
F32 = np.dtype(np.float32)


@pytest.fixture
def gemm_calls(monkeypatch):
    """The float32 GEMM binding wrapped to count its calls: a list of (m, n, k)."""
    from micrograd.backends import c_backend
    calls = []
    real = c_backend._GEMM[F32]

    def spy(c, a, b, m, n, k, *rest):
        calls.append((m, n, k))
        return real(c, a, b, m, n, k, *rest)
    monkeypatch.setitem(c_backend._GEMM, F32, spy)
    return calls


def small_product() -> np.ndarray:
    rng = np.random.default_rng(0)
    a = micrograd.tensor(rng.random((8, 5), dtype=np.float32), requires_grad=True)
    b = micrograd.tensor(rng.random((5, 3), dtype=np.float32), requires_grad=True)
    (a @ b).sum().backward()
    return a.grad.numpy()


def test_backend_fixture_runs_small_matmuls_in_c(backend, gemm_calls):
    small_product()
    if backend == "c":
        assert (8, 3, 5) in gemm_calls, gemm_calls  # the forward product ran the C GEMM
        assert len(gemm_calls) == 3                  # and both gradients did
    else:
        assert gemm_calls == []


def test_small_matmuls_go_to_numpy_without_the_switch(gemm_calls):
    with micrograd.use_backend("c"), backends.force_c(False):
        assert not backends.force_c_enabled()
        small_product()
    assert gemm_calls == []


def test_large_matmuls_run_c_without_the_switch(gemm_calls):
    c = backends.REGISTRY["c"]
    a, b = np.ones((100, 100), np.float32), np.ones((100, 97), np.float32)
    with backends.force_c(False):
        np.testing.assert_array_equal(c.matmul(a, b), a @ b)
    assert gemm_calls == [(100, 97, 100)]


def test_force_c_restores_the_previous_setting():
    start = backends.force_c_enabled()
    with backends.force_c():
        assert backends.force_c_enabled()
        with backends.force_c(False):
            assert not backends.force_c_enabled()
        assert backends.force_c_enabled()
    assert backends.force_c_enabled() == start


def test_dtypes_without_a_kernel_still_go_to_numpy_under_force_c(gemm_calls):
    c = backends.REGISTRY["c"]
    a = np.arange(6, dtype=np.int64).reshape(2, 3)
    with backends.force_c():
        np.testing.assert_array_equal(c.matmul(a, a.T), a @ a.T)
        assert c.relu(np.ones(3, np.float16)).dtype == np.float16
    assert gemm_calls == []


@pytest.mark.parametrize("value, expected", [("1", True), ("0", False), ("", False)])
def test_environment_variable_turns_the_switch_on(value, expected):
    env = dict(os.environ, MICROGRAD_FORCE_C=value)
    code = "from micrograd import backends; print(backends.force_c_enabled())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(expected)


def test_batched_matmul_is_a_loop_of_2d_gemms(gemm_calls):
    c = backends.REGISTRY["c"]
    rng = np.random.default_rng(1)
    a, b = rng.random((3, 4, 5), np.float32), rng.random((3, 5, 2), np.float32)
    with backends.force_c():
        np.testing.assert_allclose(c.matmul(a, b), a @ b, rtol=1e-5)
    assert gemm_calls == [(4, 2, 5)] * 3


def test_info_describes_the_c_core():
    info = backends.info()
    assert info["built"] is True and info["error"] is None
    assert info["gemm_isa"] in ("avx512f", "avx2+fma", "sse2", "portable")
    assert isinstance(info["openmp"], bool) and info["max_threads"] >= 1
    flops = backends.fma_peak_flops(1000, 1)
    assert flops == 0.0 or flops > 1000  # 0.0 without an FMA unit


@pytest.mark.parametrize("sa, sb, calls", [
    ((2, 3, 0), (0, 4), [(6, 4, 0)]),               # stacked rows: one GEMM
    ((2, 3, 0), (2, 0, 4), [(3, 4, 0)] * 2),        # equal batch dims: one GEMM per matrix
    ((2, 0, 5), (2, 5, 4), [(0, 4, 5)] * 2),
])
def test_empty_products_run_the_c_gemm(gemm_calls, sa, sb, calls):
    """A k = 0 (or m = 0) product keeps its C route: the GEMM writes the zeros (the row and
    batch counts are spelled out; reshape(-1, 0) cannot resolve an empty array)."""
    c = backends.REGISTRY["c"]
    a, b = np.ones(sa, np.float32), np.ones(sb, np.float32)
    with backends.force_c():
        out = c.matmul(a, b)
    np.testing.assert_array_equal(out, np.matmul(a, b))
    assert out.shape == np.matmul(a, b).shape and out.dtype == np.float32
    assert gemm_calls == calls
