"""gelu and gelu_backward against exact references, both backends, both dtypes, tails included.

gelu(x) = x Phi(x) and gelu'(x) = Phi(x) + x phi(x), Phi the standard normal CDF, phi its density.
The old form Phi(x) = (1 + erf(x / sqrt 2)) / 2 cancels for x << 0 (float32 Phi(-5) kept two
digits); both backends now take Phi from erfc, and these tests hold them to a few ulp over
-12 <= x <= 12, where the float32 results are normal numbers.

References: for float32, math.erfc in float64 (its error, and that of rounding x / sqrt 2 in
float64, ~x^2 * 1e-16, is nothing at float32's 6e-8). For float64, Phi and phi are computed in
decimal arithmetic with 40 digits (series / continued fraction for erfc; no mpmath).

Errors are in units of the result's precision: ulps of the exact value for gelu; for gelu',
which crosses zero near x = -0.75 (the two terms cancel there), units of eps * (Phi + |x| phi),
the size of the terms, i.e. relative to the condition of the sum.
"""
from __future__ import annotations

import math
from decimal import Decimal, localcontext

import numpy as np
import pytest

from micrograd import backends

C = backends.REGISTRY.get("c")
NP = backends.REGISTRY["numpy"]
BACKENDS = [pytest.param(NP, id="numpy"),
            pytest.param(C, id="c", marks=pytest.mark.skipif(
                C is None, reason=f"C backend not built: {backends.C_IMPORT_ERROR}"))]
EPS32, EPS64 = 2.0**-24, 2.0**-53           # unit roundoff
_erfc = np.frompyfunc(math.erfc, 1, 1)

# measured maxima (this file, 2.4e5 float32 / 3e3 float64 points) are in the comments; the bounds
# leave a little room above them
BOUND = {  # (backend, dtype) -> (gelu in ulps, gelu' in eps * (Phi + |x| phi))
    ("c", np.float32): (8.0, 8.0),        # 6.4 (x = -11.7), 6.1: NR erfc fit 1e-7 + float rounding
    ("numpy", np.float32): (0.51, 1.01),  # float64 math rounded once to float32
    ("c", np.float64): (6.0, 6.0),        # 4.0 (x = -10.6), 4.8: libm erfc, z's rounding undone
}


# ---- references ---------------------------------------------------------------------------------
def phi_ref32(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Phi(x), phi(x)) in float64 for float32 x, via math.erfc."""
    x = x.astype(np.float64)
    return (0.5 * _erfc(-x / math.sqrt(2.0)).astype(np.float64),
            np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi))


_PI = Decimal("3.14159265358979323846264338327950288419716939937510")


def _erfc_decimal(z: Decimal) -> Decimal:
    """erfc(z), z >= 0, to the context's precision: 1 - erf by the all-positive series
    erf(z) = 2 z e^-z^2 / sqrt(pi) sum (2 z^2)^n / (1 3 5 ... (2n+1)) below z = 3, else the
    continued fraction erfc(z) = e^-z^2 / sqrt(pi) / (z + (1/2) / (z + 1 / (z + (3/2) / ...)))."""
    if z < 3:
        term = total = Decimal(1)
        n, two_z2 = 0, 2 * z * z
        while term > Decimal(10) ** -60:
            n += 1
            term = term * two_z2 / (2 * n + 1)
            total += term
        return 1 - 2 * z * (-z * z).exp() / _PI.sqrt() * total
    frac = z
    for k in range(400, 0, -1):
        frac = z + (Decimal(k) / 2) / frac
    return (-z * z).exp() / _PI.sqrt() / frac


def phi_ref64(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Phi(x), phi(x)) for float64 x, exact to ~40 digits, rounded to float64."""
    cdf, pdf = np.empty_like(x), np.empty_like(x)
    with localcontext() as ctx:
        ctx.prec = 40
        s = Decimal(2).sqrt()
        for i, v in enumerate(x.tolist()):
            d = Decimal(v)                                  # exact
            q = _erfc_decimal(abs(d) / s) / 2               # Phi(-|x|)
            cdf[i] = float(q if d < 0 else 1 - q)
            pdf[i] = float((-d * d / 2).exp() / (2 * _PI).sqrt())
    return cdf, pdf


def test_decimal_reference_agrees_with_libm():
    """The two references agree where math.erfc is accurate (moderate x, where the float64
    rounding of x / sqrt 2 costs little)."""
    x = np.linspace(-6, 6, 241)
    cdf, pdf = phi_ref64(x)
    np.testing.assert_allclose(cdf, 0.5 * _erfc(-x / math.sqrt(2)).astype(np.float64),
                               rtol=2e-14)
    np.testing.assert_allclose(pdf, np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi), rtol=1e-14)


# ---- error measures -----------------------------------------------------------------------------
def ulps(got: np.ndarray, exact: np.ndarray, dtype) -> np.ndarray:
    """|got - exact| in units of the spacing of dtype at exact."""
    spacing = np.spacing(np.abs(exact).astype(dtype)).astype(np.float64)
    return np.abs(got.astype(np.float64) - exact) / spacing


def grad_error(got, x, cdf, pdf, eps) -> np.ndarray:
    """|got - gelu'(x)| in units of eps * (Phi + |x| phi)."""
    exact = cdf + x * pdf
    return np.abs(got.astype(np.float64) - exact) / (eps * (cdf + np.abs(x) * pdf))


# ---- float32 ------------------------------------------------------------------------------------
X32 = np.concatenate([np.linspace(-12, 12, 240001),
                      np.random.default_rng(0).uniform(-4, 4, 20000),
                      [0.0, -0.0, 1e-30, -1e-30, 1e-3, -1e-3, -5.0, -0.7517915]]).astype(np.float32)


@pytest.mark.parametrize("be", BACKENDS)
def test_gelu_float32(be):
    cdf, _ = phi_ref32(X32)
    exact = X32.astype(np.float64) * cdf
    err = ulps(be.gelu(X32), exact, np.float32)
    assert err.max() <= BOUND[be.name, np.float32][0], (err.max(), X32[err.argmax()])


@pytest.mark.parametrize("be", BACKENDS)
def test_gelu_backward_float32(be):
    cdf, pdf = phi_ref32(X32)
    x = X32.astype(np.float64)
    got = be.gelu_backward(X32, np.ones_like(X32))
    err = grad_error(got, x, cdf, pdf, EPS32)
    assert err.max() <= BOUND[be.name, np.float32][1], (err.max(), X32[err.argmax()])
    # away from the zero crossing that is also a few ulps of the result itself
    far = np.abs(x + 0.75) > 0.5
    assert ulps(got[far], (cdf + x * pdf)[far], np.float32).max() <= 8


@pytest.mark.parametrize("be", BACKENDS)
def test_gelu_backward_scales_by_g_float32(be):
    """The saved fuzz example (x = -5, g = 1e38) and a random g: g multiplies, one more rounding."""
    x = np.array([-5.0, -5.0, -12.0, 3.0, -0.5], np.float32)
    g = np.array([1e38, -1e-30, 1e30, 2.5, -3.0], np.float32)
    cdf, pdf = phi_ref32(x)
    exact = g.astype(np.float64) * (cdf + x.astype(np.float64) * pdf)
    assert ulps(be.gelu_backward(x, g), exact, np.float32).max() <= 9
    np.testing.assert_allclose(be.gelu_backward(x, g)[0], -7.1469e32, rtol=1e-4)


@pytest.mark.parametrize("be", BACKENDS)
def test_float32_underflow_and_specials(be):
    """Below x ~ -12.8 gelu and gelu' go subnormal, then 0 (x ~ -14.5). Both backends round the
    value once into the subnormals (the C kernel keeps Phi and phi scaled by 2^64 until then,
    rather than multiplying an already underflowed Phi or phi by x): within a subnormal
    spacing of the relative bound, so both agree on which values are 0 (g = inf times gelu' is
    NaN there, -inf elsewhere). inf, nan and huge values behave like the math."""
    x = np.linspace(-14.7, -12.0, 20001).astype(np.float32)
    cdf, pdf = phi_ref32(x)
    xd = x.astype(np.float64)
    tiny = float(np.finfo(np.float32).smallest_subnormal)
    for got, exact in ((be.gelu(x), xd * cdf),
                       (be.gelu_backward(x, np.ones_like(x)), cdf + xd * pdf)):
        err = np.abs(got.astype(np.float64) - exact)
        assert np.all(err <= 8 * EPS32 * np.abs(exact) + tiny)
    with np.errstate(invalid="ignore"):
        s = np.array([np.inf, -np.inf, np.nan, 3e38, -3e38, -20.0, 20.0, -0.0], np.float32)
        np.testing.assert_array_equal(be.gelu(s), np.array([np.inf, np.nan, np.nan, 3e38, -0.0,
                                                             -0.0, 20.0, -0.0], np.float32))
        np.testing.assert_array_equal(be.gelu_backward(s, np.ones_like(s)),
                                      np.array([np.nan, np.nan, np.nan, 1, 0, 0, 1, 0.5],
                                               np.float32))


# ---- float64 ------------------------------------------------------------------------------------
X64 = np.concatenate([np.linspace(-12, 12, 2401),
                      np.random.default_rng(1).uniform(-37, 8, 600),
                      [0.0, 1e-300, -1e-300, -1e-8, 1e-8, -0.7517915241]])


@pytest.fixture(scope="module")
def ref64():
    return phi_ref64(X64)


def test_gelu_float64_c(ref64):
    """C: libm's erfc of z = |x| / sqrt 2 rounded, with the rounding of z put back to first
    order, so the error does not grow like x^2 in the left tail."""
    if C is None:
        pytest.skip("C backend not built")
    cdf, pdf = ref64
    err = ulps(C.gelu(X64), X64 * cdf, np.float64)
    assert err.max() <= BOUND["c", np.float64][0], (err.max(), X64[err.argmax()])
    gerr = grad_error(C.gelu_backward(X64, np.ones_like(X64)), X64, cdf, pdf, EPS64)
    assert gerr.max() <= BOUND["c", np.float64][1], (gerr.max(), X64[gerr.argmax()])


def test_gelu_float64_numpy(ref64):
    """NumPy, the specification: erfc(-x / sqrt 2) with z = x / sqrt 2 (and x * x) rounded in
    float64. Phi's relative condition number in the left tail is ~x^2, so z's relative error of
    up to 2 * 2^-53 (the constant and the product) becomes ~x^2 2^-52 in Phi: up to 2 x^2 ulps
    (measured 1.48 x^2 at x = -35); bounded by 8 + 2 x^2."""
    cdf, pdf = ref64
    bound = 8 + 2 * X64 * X64
    err = ulps(NP.gelu(X64), X64 * cdf, np.float64)
    assert np.all(err <= bound), (err.max(), X64[np.argmax(err / bound)])
    gerr = grad_error(NP.gelu_backward(X64, np.ones_like(X64)), X64, cdf, pdf, EPS64)
    assert np.all(gerr <= bound), (gerr.max(), X64[np.argmax(gerr / bound)])
