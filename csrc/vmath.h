/* vmath.h: exp and log that the compiler can vectorise (private to the C core; not part of the
 * cffi cdef, which stays micrograd.h alone).
 *
 * libm's expf/logf are function calls, so a loop over them stays scalar. These versions are
 * branch-free straight-line code (range reduction, a polynomial, exponent bits put back with
 * integer arithmetic), so `#pragma omp simd` / -O3 turns a loop over them into AVX-512 or AVX2
 * code under the target_clones of the calling kernel.
 *
 * Max relative error, measured over 1.1e7 points spanning the whole normal range against a
 * float64 (for f32) or long double (for f64) reference; tests/test_kernels_math.py checks it:
 *   mg_expf 8.3e-8 (< 1 ulp)    mg_exp 4.0e-16 (~2 ulp)
 *   mg_logf 2.2e-7 (~2 ulp)     mg_log 4.1e-16 (~2 ulp)
 * Special values follow C99: exp(nan) = nan, exp(+inf) = inf, exp(-inf) = 0, overflow gives inf,
 * underflow gives 0 or a subnormal; log(x < 0) = nan, log(0) = -inf, log(inf) = inf, subnormal x
 * are handled.
 *
 * mg_normal_tail_f32: the standard normal CDF Phi(-|x|) and density phi(x) for float (gelu),
 * a few ulp relative wherever the results are normal numbers, far tails included; mg_normpdf the
 * double density. Errors measured and bounded in tests/test_gelu_accuracy.py. */
#ifndef MG_VMATH_H
#define MG_VMATH_H
#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float mg_bits_to_f32(int32_t b) { float f; memcpy(&f, &b, 4); return f; }
static inline int32_t mg_f32_to_bits(float f) { int32_t b; memcpy(&b, &f, 4); return b; }
static inline double mg_bits_to_f64(int64_t b) { double f; memcpy(&f, &b, 8); return f; }
static inline int64_t mg_f64_to_bits(double f) { int64_t b; memcpy(&b, &f, 8); return b; }

static inline float mg_expf_poly(float r)  /* e^r for |r| <= ln2 / 2 (Cephes expf) */
{
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    return p * r * r + r + 1.0f;
}

static inline double mg_exp_poly(double r)
{   /* Taylor series of e^r to r^12: truncation error < 2e-16 for |r| <= ln2 / 2 */
    double p = 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    return p * r + 1.0;
}

/* e^x = 2^n * e^r, n = round(x / ln2), |r| <= ln2 / 2; 2^n is applied in two halves so that
 * results in the subnormal range come out right. NaN fails both clamps and propagates. */
static inline float mg_expf(float x)
{
    const float xc = x > 88.8f ? 88.8f : (x < -104.0f ? -104.0f : x);
    const float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round */
    const float r = (xc - n * 0.693359375f) + n * 2.12194440e-4f;            /* Cody-Waite */
    const float p = mg_expf_poly(r);
    const int32_t ni = (int32_t)n, n1 = ni / 2, n2 = ni - n1;
    return p * mg_bits_to_f32((n1 + 127) << 23) * mg_bits_to_f32((n2 + 127) << 23);
}

static inline double mg_exp(double x)
{
    const double xc = x > 709.9 ? 709.9 : (x < -746.0 ? -746.0 : x);
    const double n = (xc * 1.4426950408889634 + 6755399441055744.0) - 6755399441055744.0;
    const double r = (xc - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10;
    const double p = mg_exp_poly(r);
    const int64_t ni = (int64_t)n, n1 = ni / 2, n2 = ni - n1;
    return p * mg_bits_to_f64((n1 + 1023) << 52) * mg_bits_to_f64((n2 + 1023) << 52);
}

/* e^(hi + lo) 2^64 for an argument held as an unevaluated sum (|lo| < 4), e.g. -x^2 split
 * exactly: lo joins the reduced argument instead of being rounded into hi (hi - n ln2_hi is
 * exact), so a large argument keeps its low bits. For -130 < hi + lo < 43 only (no clamps, no
 * special values; the caller clamps). The result is a normal number even where e^(hi + lo) is
 * subnormal: the caller multiplies by 2^-64 last, one rounding into the subnormals. */
static inline float mg_expf_sum_x2p64(float hi, float lo)
{
    const float n = ((hi + lo) * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    const float r = ((hi - n * 0.693359375f) + n * 2.12194440e-4f) + lo;
    return mg_expf_poly(r) * mg_bits_to_f32(((int32_t)n + 127 + 64) << 23);
}

/* e^(hi + lo) as above for double, unscaled (ln2_hi has 32 bits: n ln2_hi is exact), for
 * -1060 < hi + lo < 354: 2^n applied as 2^(n + 512) 2^-512 */
static inline double mg_exp_sum(double hi, double lo)
{
    const double n = ((hi + lo) * 1.4426950408889634 + 6755399441055744.0) - 6755399441055744.0;
    const double r = ((hi - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10) + lo;
    return mg_exp_poly(r) * mg_bits_to_f64(((int64_t)n + 1023 + 512) << 52) * 0x1p-512;
}

/* log x = e * ln2 + log m, x = m * 2^e with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(s),
 * s = (m - 1) / (m + 1), |s| <= 0.1716, summed as an odd series. */
static inline float mg_logf(float x)
{
    const int tiny = x < 1.17549435e-38f;                 /* subnormal (or <= 0): scale up */
    const float xs = tiny ? x * 8388608.0f : x;           /* 2^23 */
    const int32_t bits = mg_f32_to_bits(xs);
    int32_t e = ((bits >> 23) & 0xff) - 127;
    float m = mg_bits_to_f32((bits & 0x007fffff) | 0x3f800000); /* [1, 2) */
    const int big = m > 1.41421356f;
    m = big ? m * 0.5f : m;
    e += big - (tiny ? 23 : 0);
    const float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
    float q = 1.0f / 11.0f;
    q = q * s2 + 1.0f / 9.0f;
    q = q * s2 + 1.0f / 7.0f;
    q = q * s2 + 1.0f / 5.0f;
    q = q * s2 + 1.0f / 3.0f;
    q = q * s2 + 1.0f;
    const float fe = (float)e;
    const float y = fe * 0.693359375f + (2.0f * s * q - fe * 2.12194440e-4f);
    /* specials: nan stays nan, inf -> inf, 0 -> -inf, negative -> nan */
    return x != x ? x : (x == INFINITY ? x : (x == 0.0f ? -INFINITY : (x < 0.0f ? NAN : y)));
}

static inline double mg_log(double x)
{
    const int tiny = x < 2.2250738585072014e-308;
    const double xs = tiny ? x * 4503599627370496.0 : x; /* 2^52 */
    const int64_t bits = mg_f64_to_bits(xs);
    int64_t e = ((bits >> 52) & 0x7ff) - 1023;
    double m = mg_bits_to_f64((bits & 0x000fffffffffffffLL) | 0x3ff0000000000000LL);
    const int64_t big = m > 1.4142135623730951;
    m = big ? m * 0.5 : m;
    e += big - (tiny ? 52 : 0);
    const double s = (m - 1.0) / (m + 1.0), s2 = s * s;
    double q = 1.0 / 23.0;
    q = q * s2 + 1.0 / 21.0;
    q = q * s2 + 1.0 / 19.0;
    q = q * s2 + 1.0 / 17.0;
    q = q * s2 + 1.0 / 15.0;
    q = q * s2 + 1.0 / 13.0;
    q = q * s2 + 1.0 / 11.0;
    q = q * s2 + 1.0 / 9.0;
    q = q * s2 + 1.0 / 7.0;
    q = q * s2 + 1.0 / 5.0;
    q = q * s2 + 1.0 / 3.0;
    q = q * s2 + 1.0;
    const double fe = (double)e;
    const double y = fe * 6.93147180369123816490e-01
                     + (2.0 * s * q + fe * 1.90821492927058770002e-10);
    return x != x ? x : (x == INFINITY ? x : (x == 0.0 ? -INFINITY : (x < 0.0 ? NAN : y)));
}

/* c ? a : b from both values, with integer masks. A float ternary whose arm is computed only
 * for it (GCC sinks it there) is a branch that, under -ftrapping-math, only AVX-512 masking
 * if-converts: the AVX2 and SSE clones would stay scalar. */
static inline float mg_select_f32(int c, float a, float b)
{
    const int32_t m = -(int32_t)(c != 0);
    return mg_bits_to_f32((mg_f32_to_bits(a) & m) | (mg_f32_to_bits(b) & ~m));
}

static inline double mg_select_f64(int c, double a, double b)
{
    const int64_t m = -(int64_t)(c != 0);
    return mg_bits_to_f64((mg_f64_to_bits(a) & m) | (mg_f64_to_bits(b) & ~m));
}

/* min(|x|, c) for c > 0 finite as an integer MIN on the bits (NaN, inf -> c): a float ternary
 * with a constant arm gets that path threaded and constant-folded into a branch. */
static inline float mg_abs_min_f32(float x, float c)
{
    const int32_t b = mg_f32_to_bits(x) & 0x7fffffff, bc = mg_f32_to_bits(c);
    return mg_bits_to_f32(b < bc ? b : bc);
}

static inline double mg_abs_min_f64(double x, double c)
{
    const int64_t b = mg_f64_to_bits(x) & 0x7fffffffffffffffLL, bc = mg_f64_to_bits(c);
    return mg_bits_to_f64(b < bc ? b : bc);
}

/* -x^2 / 2 as an unevaluated sum hi + lo, exact up to a rounding of the small part lo (|lo| <
 * 2^-11 x^2): xh is x with the low 12 of its 23 mantissa bits cleared, so xh * xh (24 bits) and
 * x - xh are exact, and x^2 = xh^2 + (x - xh)(x + xh). Rounding x * x instead would put an error
 * of up to x^2 / 2 * 2^-24 into the exponent of exp(-x^2 / 2): 4e-6 relative at x = 12. Bit
 * masks, not Dekker's split (which FMA contraction would break). x finite. */
static inline void mg_neg_half_sq_f32(float x, float *hi, float *lo)
{
    const float xh = mg_bits_to_f32(mg_f32_to_bits(x) & (int32_t)0xfffff000);
    *hi = -0.5f * (xh * xh);
    *lo = -0.5f * ((x - xh) * (x + xh));
}

static inline void mg_neg_half_sq_f64(double x, double *hi, double *lo)
{   /* the low 27 of 52 mantissa bits cleared: xh has 26 bits, xh * xh is exact */
    const double xh = mg_bits_to_f64(mg_f64_to_bits(x) & (int64_t)0xfffffffff8000000LL);
    *hi = -0.5 * (xh * xh);
    *lo = -0.5 * ((x - xh) * (x + xh));
}

/* The standard normal CDF Phi and density phi for float.
 *
 * Phi(x) = erfc(-x / sqrt2) / 2, without the cancellation of (1 + erf(x / sqrt2)) / 2 for
 * x << 0. With a = |x|, z = a / sqrt2: Phi(-a) = erfc(z) / 2; Phi(a) = 1 - Phi(-a) is the
 * caller's select. erfc(z), z >= 0, is the Chebyshev-based fit of Numerical Recipes in C,
 * 2nd ed. (Press, Teukolsky, Vetterling, Flannery 1992), section 6.2, erfcc():
 *   erfc(z) = t exp(-z^2 - 1.26551223 + t (1.00002368 + t (0.37409196 + ... + t 0.17087277)))
 * with t = 1 / (1 + z / 2), fractional error < 1.2e-7 for all z >= 0 (measured 1.05e-7).
 * -z^2 = -a^2 / 2 comes from a exactly (mg_neg_half_sq_f32), not from the rounded z: an error
 * there is a relative error of the result growing like z^2. In float the polynomial adds up to
 * 2.6 units of 2^-24 to the exponent (it sums to ~0 at t = 1 from terms ~1.5): Phi and gelu
 * are within 6.5 ulp (tests/test_gelu_accuracy.py).
 *
 * mg_normal_tail_f32 gives Phi(-|x|) and phi(x) times 2^64 (normal numbers where the values
 * are subnormal, so x Phi or Phi + x phi rounds once, at the final * 2^-64), and 0 for |x| >= 15
 * (both underflow there; inf and NaN too, so no NaN reaches the integer conversion). */
static inline void mg_normal_tail_f32(float x, float *cdf, float *pdf)
{
    const float a = mg_abs_min_f32(x, 15.0f);
    const float t = 1.0f / (1.0f + a * 0.353553390593273762f);            /* 1 / (1 + z / 2) */
    float p = 0.17087277f;
    p = p * t - 0.82215223f;
    p = p * t + 1.48851587f;
    p = p * t - 1.13520398f;
    p = p * t + 0.27886807f;
    p = p * t - 0.18628806f;
    p = p * t + 0.09678418f;
    p = p * t + 0.37409196f;
    p = p * t + 1.00002368f;
    float hi, lo;
    mg_neg_half_sq_f32(a, &hi, &lo);
    const int inside = a < 15.0f;
    *cdf = mg_select_f32(inside, 0.5f * t * mg_expf_sum_x2p64(hi, lo + (p * t - 1.26551223f)), 0);
    *pdf = mg_select_f32(inside, 0.398942280401432678f * mg_expf_sum_x2p64(hi, lo), 0);
}

/* phi for double, e^(-x^2 / 2) with x^2 / 2 carried exactly; |x| clamped to 39 (phi(39) = 0),
 * NaN too, phi(NaN) = NaN by the final select */
static inline double mg_normpdf(double x)
{
    double hi, lo;
    mg_neg_half_sq_f64(mg_abs_min_f64(x, 39.0), &hi, &lo);
    return mg_select_f64(x != x, x, mg_exp_sum(hi, lo) * 0.398942280401432678);
}

/* Function-multiversioning for the loops that call the functions above: one binary, the best
 * vector width chosen by the loader (GCC ifunc). Off under the sanitizers and on non-x86. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(MG_NO_CLONES) \
    && defined(__ELF__)
#define MG_VECTOR_CLONES \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define MG_VECTOR_CLONES
#endif

#endif /* MG_VMATH_H */
