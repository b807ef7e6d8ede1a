/* elementwise.c: same-shape binary ops and unary exp/log over contiguous arrays.
 * Broadcasting is done before the call (Tensor inserts an explicit Expand), so every kernel
 * here is one flat loop that the compiler vectorises. */
#include <math.h>
#include "micrograd.h"

#define DEFINE_BINARY(NAME, T, S, EXPR)                                                       \
void mg_##NAME##_##S(T *out, const T *a, const T *b, int64_t n)                               \
{                                                                                             \
    for (int64_t i = 0; i < n; i++) out[i] = EXPR;                                            \
}
#define DEFINE_UNARY(NAME, T, S, FN)                                                          \
void mg_##NAME##_##S(T *out, const T *x, int64_t n)                                           \
{                                                                                             \
    for (int64_t i = 0; i < n; i++) out[i] = FN(x[i]);                                        \
}

DEFINE_BINARY(add, float, f32, a[i] + b[i])
DEFINE_BINARY(add, double, f64, a[i] + b[i])
DEFINE_BINARY(mul, float, f32, a[i] * b[i])
DEFINE_BINARY(mul, double, f64, a[i] * b[i])
DEFINE_UNARY(exp, float, f32, expf)
DEFINE_UNARY(exp, double, f64, exp)
DEFINE_UNARY(log, float, f32, logf)
DEFINE_UNARY(log, double, f64, log)
