/* activations.c: relu, leaky_relu, sigmoid, tanh, gelu and their backward passes, f32 and f64.
 * Each kernel is written once, in activations_impl.h, and compiled for float and for double.
 * Loops are branch-free so they vectorise (exp, and the normal CDF and density for float, from
 * vmath.h; the double CDF uses libm's erfc, exact but scalar). NaN propagates as in NumPy. All
 * arrays contiguous, n long; forward: out = f(x); backward: dx = f'(.) * g, written, never
 * accumulated. (The backend routes tanh forward to NumPy, whose SVML tanh is faster; linear's
 * epilogue uses it.) */
#include <math.h>
#include "micrograd.h"
#include "vmath.h"

/* tanh for |x| < 0.625: x + x z P(z), z = x^2 (Cephes tanhf / tanh minimax coefficients) */
static inline float tanh_small_f32(float x)
{
    const float z = x * x;
    return x + x * z * ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z
                          - 5.37397155531e-2f) * z + 1.33314422036e-1f) * z - 3.33332819422e-1f);
}

static inline double tanh_small_f64(double x)
{
    const double z = x * x;
    return x + x * z * (((-9.64399179425052238628e-1 * z - 9.92877231001918586564e1) * z
                         - 1.61468768441708447952e3)
                        / (((z + 1.12811678491632931402e2) * z + 2.23548839060100448583e3) * z
                           + 4.84406305325125486048e3));
}

/* Phi(x) = erfc(-x / sqrt2) / 2 for double with libm's erfc, as Phi(-a) = erfc(z) / 2, a = |x|,
 * Phi(a) = 1 - Phi(-a). z = a / sqrt2 is rounded, by dz = a / sqrt2 - z (|dz| <= ulp(z) / 2),
 * which would cost erfc a relative error R(z) dz, R = -erfc'/erfc ~ 2z: about x^2 * 1.1e-16,
 * 1.6e-14 at x = -12. dz is computed exactly (a and sqrt1/2 split into 26-bit halves that multiply
 * exactly, plus the tail of sqrt1/2) and put back to first order with R ~ 2z (|R - 2z| < 1.13,
 * ~1/z for large z: the error left is under an ulp). a is clamped to 40 (Phi(-40) is 0). */
static inline double normcdf_f64(double x)
{
    const double s = 0x1.6a09e667f3bcdp-1;               /* sqrt1/2 rounded to double */
    const double s_hi = 0x1.6a09e6p-1, s_lo = 0x1.9fcef34p-27; /* s = s_hi + s_lo exactly */
    const double s_tail = -0x1.bdd3413b26456p-55;        /* sqrt1/2 - s */
    const double a = mg_abs_min_f64(x, 40.0);           /* NaN too: erfc(z) below is fine */
    const double ah = mg_bits_to_f64(mg_f64_to_bits(a) & (int64_t)0xfffffffff8000000LL);
    const double al = a - ah, z = a * s;
    const double dz = (((ah * s_hi - z) + ah * s_lo + al * s_hi) + al * s_lo) + a * s_tail;
    const double q = 0.5 * erfc(z) * (1.0 - 2.0 * z * dz);   /* Phi(-a) */
    return mg_select_f64(x != x, x, mg_select_f64(x < 0, q, 1.0 - q));
}

/* gelu(x) = x Phi(x) and gelu'(x) = Phi(x) + x phi(x). Float: from Phi(-|x|) and phi(x) scaled
 * by 2^64 (mg_normal_tail_f32), so that for x << 0 the result rounds once into the subnormals
 * (as NumPy's float64 value rounded to float32 does) instead of x times an underflowed Phi or
 * phi: then g = inf times gelu'(x) is -inf in both where the value is not 0, NaN where it is.
 * x = +-inf gives NaN for gelu'(x) (inf * 0) and gelu(-inf), as the math in NumPy does. */
static inline float gelu_f32(float x)
{
    float q, d;
    mg_normal_tail_f32(x, &q, &d);
    return mg_select_f32(x < 0, (x * q) * 0x1p-64f, x * (1.0f - q * 0x1p-64f));
}

static inline float gelu_grad_f32(float x)
{
    float q, d;
    mg_normal_tail_f32(x, &q, &d);
    const float right = (1.0f - q * 0x1p-64f) + x * (d * 0x1p-64f);
    return mg_select_f32(x < 0, (q + x * d) * 0x1p-64f, right);
}

static inline double gelu_f64(double x) { return x * normcdf_f64(x); }
static inline double gelu_grad_f64(double x) { return normcdf_f64(x) + x * mg_normpdf(x); }

#define T float
#define SUFFIX(name) name##_f32
#define EXP mg_expf
#define GELU gelu_f32
#define GELU_GRAD gelu_grad_f32
#define TANH_SMALL tanh_small_f32
#include "activations_impl.h"
#undef T
#undef SUFFIX
#undef EXP
#undef GELU
#undef GELU_GRAD
#undef TANH_SMALL

#define T double
#define SUFFIX(name) name##_f64
#define EXP mg_exp
#define GELU gelu_f64
#define GELU_GRAD gelu_grad_f64
#define TANH_SMALL tanh_small_f64
#include "activations_impl.h"
#undef T
#undef SUFFIX
#undef EXP
#undef GELU
#undef GELU_GRAD
#undef TANH_SMALL
