/* elementwise.c: same-shape binary ops and unary exp/log over contiguous arrays.
 * Broadcasting is done before the call (the Python side falls back to NumPy otherwise), so every
 * kernel here is one flat loop that the compiler vectorises; exp and log use vmath.h. */
#include "micrograd.h"
#include "vmath.h"

#define DEFINE_BINARY(NAME, T, S, EXPR)                                                       \
void mg_##NAME##_##S(T *out, const T *a, const T *b, int64_t n)                               \
{                                                                                             \
    for (int64_t i = 0; i < n; i++) out[i] = EXPR;                                            \
}
#define DEFINE_UNARY(NAME, T, S, FN)                                                          \
MG_VECTOR_CLONES void mg_##NAME##_##S(T *out, const T *x, int64_t n)                          \
{                                                                                             \
    for (int64_t i = 0; i < n; i++) out[i] = FN(x[i]);                                        \
}

DEFINE_BINARY(add, float, f32, a[i] + b[i])
DEFINE_BINARY(add, double, f64, a[i] + b[i])
DEFINE_BINARY(sub, float, f32, a[i] - b[i])
DEFINE_BINARY(sub, double, f64, a[i] - b[i])
DEFINE_BINARY(mul, float, f32, a[i] * b[i])
DEFINE_BINARY(mul, double, f64, a[i] * b[i])
DEFINE_BINARY(div, float, f32, a[i] / b[i])
DEFINE_BINARY(div, double, f64, a[i] / b[i])
DEFINE_UNARY(exp, float, f32, mg_expf)
DEFINE_UNARY(exp, double, f64, mg_exp)
DEFINE_UNARY(log, float, f32, mg_logf)
DEFINE_UNARY(log, double, f64, mg_log)
