/* activations.c: relu, sigmoid, tanh and their backward passes, for float and double.
 * Each kernel is written once, as a macro over the element type T, its suffix S and the libm
 * function for T, then stamped out for f32 and f64. NaN propagates as in NumPy. */
#include <math.h>
#include "micrograd.h"

#define DEFINE_ACTIVATIONS(T, S, EXP, TANH)                                                   \
void mg_relu_##S(T *out, const T *x, int64_t n)                                               \
{   /* x <= 0 is false for NaN, so NaN passes through like np.maximum(x, 0) */               \
    for (int64_t i = 0; i < n; i++) out[i] = x[i] <= 0 ? (T)0 : x[i];                         \
}                                                                                             \
void mg_relu_backward_##S(T *dx, const T *x, const T *g, int64_t n)                           \
{                                                                                             \
    for (int64_t i = 0; i < n; i++) dx[i] = x[i] > 0 ? g[i] : (T)0;                           \
}                                                                                             \
void mg_sigmoid_##S(T *out, const T *x, int64_t n)                                            \
{   /* exp of a non-positive number never overflows: 1/(1+e^-x) or e^x/(1+e^x) */            \
    for (int64_t i = 0; i < n; i++) {                                                         \
        const T e = EXP(-fabs(x[i]));                                                         \
        out[i] = x[i] >= 0 ? 1 / (1 + e) : e / (1 + e);                                       \
    }                                                                                         \
}                                                                                             \
void mg_sigmoid_backward_##S(T *dx, const T *y, const T *g, int64_t n)                        \
{                                                                                             \
    for (int64_t i = 0; i < n; i++) dx[i] = g[i] * y[i] * (1 - y[i]);                         \
}                                                                                             \
void mg_tanh_##S(T *out, const T *x, int64_t n)                                               \
{                                                                                             \
    for (int64_t i = 0; i < n; i++) out[i] = TANH(x[i]);                                      \
}                                                                                             \
void mg_tanh_backward_##S(T *dx, const T *y, const T *g, int64_t n)                           \
{                                                                                             \
    for (int64_t i = 0; i < n; i++) dx[i] = g[i] * (1 - y[i] * y[i]);                         \
}

DEFINE_ACTIVATIONS(float, f32, expf, tanhf)
DEFINE_ACTIVATIONS(double, f64, exp, tanh)
