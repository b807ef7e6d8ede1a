"""The vectorised exp and log of the C core (csrc/vmath.h) against high-precision references,
and the plain elementwise kernels (elementwise.c) against NumPy.

The bounds asserted here are the ones stated in vmath.h: relative error over the whole normal
range, float32 against float64 and float64 against long double.
"""
from __future__ import annotations

import numpy as np
import pytest

from micrograd import backends

pytestmark = pytest.mark.skipif("c" not in backends.REGISTRY,
                                reason=f"C backend not built: {backends.C_IMPORT_ERROR}")
POINTS = 10**6


class C:
    """mg_exp_* / mg_log_* called directly (the backend routes plain exp/log to NumPy)."""

    @staticmethod
    def _call(name, x):
        from micrograd._C import ffi, lib
        sfx, ct = ("f32", "float[]") if x.dtype == np.float32 else ("f64", "double[]")
        x = np.ascontiguousarray(x)
        out = np.empty_like(x)
        getattr(lib, f"mg_{name}_{sfx}")(ffi.from_buffer(ct, out), ffi.from_buffer(ct, x), x.size)
        return out

    exp = staticmethod(lambda x: C._call("exp", x))
    tanh = staticmethod(lambda x: C._call("tanh", x))
    log = staticmethod(lambda x: C._call("log", x))


def max_rel_error(got, ref):
    keep = ref != 0
    return float(np.max(np.abs(got[keep] - ref[keep]) / np.abs(ref[keep])))


def test_expf_max_relative_error():
    rng = np.random.default_rng(0)
    x = np.concatenate([np.linspace(-87, 88.7, POINTS, dtype=np.float32),
                        rng.uniform(-3, 3, POINTS // 10).astype(np.float32)])
    err = max_rel_error(C.exp(x).astype(np.float64), np.exp(x.astype(np.float64)))
    assert err < 1.5e-7, err


def test_exp_f64_max_relative_error():
    rng = np.random.default_rng(1)
    x = np.concatenate([np.linspace(-708, 709, POINTS), rng.uniform(-3, 3, POINTS // 10)])
    ref = np.exp(x.astype(np.longdouble))
    assert max_rel_error(C.exp(x).astype(np.longdouble), ref) < 6e-16


def test_logf_max_relative_error():
    rng = np.random.default_rng(2)
    x = np.concatenate([np.geomspace(1.2e-38, 3e38, POINTS).astype(np.float32),
                        rng.uniform(0.5, 2, POINTS // 10).astype(np.float32)])
    err = max_rel_error(C.log(x).astype(np.float64), np.log(x.astype(np.float64)))
    assert err < 3e-7, err


def test_log_f64_max_relative_error():
    rng = np.random.default_rng(3)
    x = np.concatenate([np.geomspace(2.3e-308, 1.7e308, POINTS), rng.uniform(0.5, 2, POINTS // 10)])
    ref = np.log(x.astype(np.longdouble))
    assert max_rel_error(C.log(x).astype(np.longdouble), ref) < 6e-16


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_subnormal_and_extreme_inputs(dtype):
    info = np.finfo(dtype)
    sub = np.array([info.tiny / 2, info.tiny / 1024, info.smallest_subnormal], dtype)
    np.testing.assert_allclose(C.log(sub), np.log(sub.astype(np.float64)).astype(dtype),
                               rtol=1e-6)
    big = np.array([1000.0, -1000.0, np.inf, -np.inf, np.nan], dtype)
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(C.exp(big), np.array([np.inf, 0, np.inf, 0, np.nan], dtype))
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_array_equal(C.log(np.array([0, -1, np.inf, np.nan], dtype)),
                                      np.array([-np.inf, np.nan, np.inf, np.nan], dtype))


@pytest.mark.parametrize("name,op", [("add", np.add), ("sub", np.subtract),
                                     ("mul", np.multiply), ("div", np.divide)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_elementwise_binary_kernels(name, op, dtype):
    from micrograd._C import ffi, lib
    sfx, ct = ("f32", "float[]") if dtype == np.float32 else ("f64", "double[]")
    rng = np.random.default_rng(4)
    for n in (0, 1, 7, 1000):
        a = rng.uniform(-3, 3, n).astype(dtype)
        b = rng.uniform(0.5, 3, n).astype(dtype)
        out = np.empty_like(a)
        getattr(lib, f"mg_{name}_{sfx}")(ffi.from_buffer(ct, out), ffi.from_buffer(ct, a),
                                        ffi.from_buffer(ct, b), n)
        np.testing.assert_array_equal(out, op(a, b))


@pytest.mark.parametrize("dtype,tol", [(np.float32, 3e-7), (np.float64, 1e-15)])
def test_tanh_kernel(dtype, tol):
    """mg_tanh_* (not routed by the backend, NumPy's tanh is faster) stays correct: relative
    error against a float64 / long double reference, including tiny and huge inputs."""
    rng = np.random.default_rng(5)
    x = np.concatenate([np.linspace(-20, 20, POINTS // 10), rng.uniform(-1, 1, POINTS // 10),
                        [0.0, -0.0, 1e-30, -1e-30, 0.6249, 0.625, np.inf, -np.inf]]).astype(dtype)
    ref = np.tanh(x.astype(np.longdouble))
    assert max_rel_error(C.tanh(x).astype(np.longdouble), ref) < tol
    assert np.isnan(C.tanh(np.array([np.nan], dtype)))[0]
