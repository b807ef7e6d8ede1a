/* activations.c: relu, leaky_relu, sigmoid, tanh, gelu and their backward passes, f32 and f64.
 * Each kernel is written once as a macro over the element type T and its suffix S, then stamped
 * out for float and double. Loops are branch-free so they vectorise (exp, and erf for float,
 * from vmath.h; double gelu uses libm's erf, exact but scalar). NaN propagates as in NumPy.
 * All arrays contiguous, n long; forward: out = f(x); backward: dx = f'(.) * g, written, never
 * accumulated. (The backend routes tanh forward to NumPy, whose SVML tanh is faster.) */
#include <math.h>
#include "micrograd.h"
#include "vmath.h"

#define DEFINE_ACTIVATIONS(T, S, EXP, ERF, TANH_SMALL)                                        \
MG_VECTOR_CLONES void mg_relu_##S(T *out, const T *x, int64_t n)                              \
{   /* x <= 0 is false for NaN, so NaN passes through like np.maximum(x, 0) */               \
    for (int64_t i = 0; i < n; i++) out[i] = x[i] <= 0 ? (T)0 : x[i];                         \
}                                                                                             \
MG_VECTOR_CLONES void mg_relu_backward_##S(T *dx, const T *x, const T *g, int64_t n)          \
{                                                                                             \
    for (int64_t i = 0; i < n; i++) {  /* g read unconditionally: a select, not a branch */  \
        const T gi = g[i];                                                                    \
        dx[i] = x[i] > 0 ? gi : (T)0;                                                         \
    }                                                                                         \
}                                                                                             \
MG_VECTOR_CLONES void mg_leaky_relu_##S(T *out, const T *x, T slope, int64_t n)               \
{                                                                                             \
    for (int64_t i = 0; i < n; i++) out[i] = x[i] > 0 ? x[i] : x[i] * slope;                  \
}                                                                                             \
MG_VECTOR_CLONES void mg_leaky_relu_backward_##S(T *dx, const T *x, const T *g, T slope,      \
                                                 int64_t n)                                   \
{                                                                                             \
    for (int64_t i = 0; i < n; i++) dx[i] = x[i] > 0 ? g[i] : g[i] * slope;                   \
}                                                                                             \
MG_VECTOR_CLONES void mg_sigmoid_##S(T *out, const T *x, int64_t n)                           \
{   /* exp of a non-positive number never overflows: 1/(1+e^-x) or e^x/(1+e^x) */            \
    for (int64_t i = 0; i < n; i++) {                                                         \
        const T e = EXP(-fabs(x[i]));                                                         \
        const T r = 1 / (1 + e);                                                              \
        out[i] = x[i] >= 0 ? r : e * r;                                                       \
    }                                                                                         \
}                                                                                             \
MG_VECTOR_CLONES void mg_sigmoid_backward_##S(T *dx, const T *y, const T *g, int64_t n)       \
{                                                                                             \
    for (int64_t i = 0; i < n; i++) dx[i] = g[i] * y[i] * (1 - y[i]);                         \
}                                                                                             \
MG_VECTOR_CLONES void mg_tanh_##S(T *out, const T *x, int64_t n)                              \
{   /* |x| >= 0.625: 1 - 2 / (e^2|x| + 1) with the sign put back; below it a series (no      \
     * cancellation near 0). e^2|x| overflows to inf for large |x|, which gives exactly 1. */ \
    for (int64_t i = 0; i < n; i++) {                                                         \
        const T a = fabs(x[i]);                                                               \
        const T big = 1 - 2 / (EXP(2 * a) + 1);                                               \
        const T z = x[i] * x[i];                                                              \
        const T small = TANH_SMALL;                                                           \
        out[i] = a < (T)0.625 ? small : (x[i] < 0 ? -big : (x[i] > 0 ? big : x[i]));         \
    }                                                                                         \
}                                                                                             \
MG_VECTOR_CLONES void mg_tanh_backward_##S(T *dx, const T *y, const T *g, int64_t n)          \
{                                                                                             \
    for (int64_t i = 0; i < n; i++) dx[i] = g[i] * (1 - y[i] * y[i]);                         \
}                                                                                             \
MG_VECTOR_CLONES void mg_gelu_##S(T *out, const T *x, int64_t n)                              \
{   /* exact (erf) form: x * Phi(x) */                                                        \
    for (int64_t i = 0; i < n; i++)                                                           \
        out[i] = (T)0.5 * x[i] * (1 + ERF(x[i] * (T)0.70710678118654752440));                 \
}                                                                                             \
MG_VECTOR_CLONES void mg_gelu_backward_##S(T *dx, const T *x, const T *g, int64_t n)          \
{   /* d/dx x Phi(x) = Phi(x) + x phi(x) */                                                   \
    for (int64_t i = 0; i < n; i++) {                                                         \
        const T cdf = (T)0.5 * (1 + ERF(x[i] * (T)0.70710678118654752440));                   \
        const T pdf = EXP((T)-0.5 * x[i] * x[i]) * (T)0.39894228040143267794;                 \
        dx[i] = g[i] * (cdf + x[i] * pdf);                                                    \
    }                                                                                         \
}

/* tanh for |x| < 0.625: x + x z P(z), z = x^2 (Cephes tanhf / tanh minimax coefficients) */
#define TANH_SMALL_F32                                                                        \
    x[i] + x[i] * z * ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z                     \
                         - 5.37397155531e-2f) * z + 1.33314422036e-1f) * z - 3.33332819422e-1f)
#define TANH_SMALL_F64                                                                        \
    x[i] + x[i] * z * (((-9.64399179425052238628e-1 * z - 9.92877231001918586564e1) * z       \
                        - 1.61468768441708447952e3)                                           \
                       / (((z + 1.12811678491632931402e2) * z + 2.23548839060100448583e3) * z \
                          + 4.84406305325125486048e3))

DEFINE_ACTIVATIONS(float, f32, mg_expf, mg_erff, TANH_SMALL_F32)
DEFINE_ACTIVATIONS(double, f64, mg_exp, erf, TANH_SMALL_F64)
