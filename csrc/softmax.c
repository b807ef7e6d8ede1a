/* softmax.c: softmax, log_softmax and fused softmax-cross-entropy over the rows of a contiguous
 * (n, c) array, f32 and f64, forward and backward. Each row is two or three vectorised passes:
 * max, exp-and-sum (vmath.h), scale. Rows with c == 0 produce nothing; a row holding +inf or NaN
 * gives NaN, as the NumPy reference does. */
#include <math.h>
#include "micrograd.h"
#include "vmath.h"

#define DEFINE_SOFTMAX(T, S, EXP, LOG)                                                        \
static T row_max_##S(const T *x, int64_t c)                                                   \
{   /* NaN-propagating max, like np.max */                                                    \
    T m = -INFINITY;                                                                          \
    int nan = 0;                                                                              \
    for (int64_t j = 0; j < c; j++) { m = x[j] > m ? x[j] : m; nan |= x[j] != x[j]; }         \
    return nan ? (T)NAN : m;                                                                  \
}                                                                                             \
/* out[j] = e^(x[j] - m); returns the sum. m = -inf (all -inf row) gives NaN like NumPy. */  \
MG_VECTOR_CLONES static T row_exp_##S(T *out, const T *x, T m, int64_t c)                     \
{                                                                                             \
    T sum = 0;                                                                                \
    for (int64_t j = 0; j < c; j++) { out[j] = EXP(x[j] - m); sum += out[j]; }                \
    return sum;                                                                               \
}                                                                                             \
void mg_softmax_##S(T *y, const T *x, int64_t n, int64_t c)                                   \
{                                                                                             \
    for (int64_t i = 0; i < n; i++, x += c, y += c) {                                         \
        const T inv = 1 / row_exp_##S(y, x, row_max_##S(x, c), c);                            \
        for (int64_t j = 0; j < c; j++) y[j] *= inv;                                          \
    }                                                                                         \
}                                                                                             \
void mg_softmax_backward_##S(T *dx, const T *y, const T *g, int64_t n, int64_t c)             \
{   /* dx = y * (g - sum(g * y)) */                                                           \
    for (int64_t i = 0; i < n; i++, y += c, g += c, dx += c) {                                \
        T dot = 0;                                                                            \
        for (int64_t j = 0; j < c; j++) dot += g[j] * y[j];                                   \
        for (int64_t j = 0; j < c; j++) dx[j] = y[j] * (g[j] - dot);                          \
    }                                                                                         \
}                                                                                             \
void mg_log_softmax_##S(T *y, const T *x, int64_t n, int64_t c)                               \
{   /* y = (x - m) - log(sum e^(x - m)); y is used as scratch for the exps */                 \
    for (int64_t i = 0; i < n; i++, x += c, y += c) {                                         \
        const T m = row_max_##S(x, c);                                                        \
        const T ls = LOG(row_exp_##S(y, x, m, c)); /* not x - (m + ls): m swamps ls */      \
        for (int64_t j = 0; j < c; j++) y[j] = (x[j] - m) - ls;                               \
    }                                                                                         \
}                                                                                             \
MG_VECTOR_CLONES void mg_log_softmax_backward_##S(T *dx, const T *y, const T *g, int64_t n,   \
                                                  int64_t c)                                  \
{   /* dx = g - e^y * sum(g) */                                                               \
    for (int64_t i = 0; i < n; i++, y += c, g += c, dx += c) {                                \
        T sum = 0;                                                                            \
        for (int64_t j = 0; j < c; j++) sum += g[j];                                          \
        for (int64_t j = 0; j < c; j++) dx[j] = g[j] - EXP(y[j]) * sum;                       \
    }                                                                                         \
}                                                                                             \
int64_t mg_cross_entropy_##S(T *loss, T *prob, const T *logits, const int64_t *target,        \
                             int64_t n, int64_t c)                                            \
{                                                                                             \
    for (int64_t i = 0; i < n; i++)                                                           \
        if (target[i] < 0 || target[i] >= c) return i;                                        \
    for (int64_t i = 0; i < n; i++, logits += c, prob += c) {                                 \
        const T m = row_max_##S(logits, c);                                                   \
        const T sum = row_exp_##S(prob, logits, m, c);                                        \
        const T inv = 1 / sum;                                                                \
        for (int64_t j = 0; j < c; j++) prob[j] *= inv;                                       \
        loss[i] = LOG(sum) - (logits[target[i]] - m); /* exact for huge logits */            \
    }                                                                                         \
    return -1;                                                                                \
}                                                                                             \
int64_t mg_cross_entropy_backward_##S(T *dlogits, const T *prob, const int64_t *target,      \
                                      const T *g, int64_t n, int64_t c)                       \
{                                                                                             \
    for (int64_t i = 0; i < n; i++)                                                           \
        if (target[i] < 0 || target[i] >= c) return i;                                        \
    for (int64_t i = 0; i < n; i++, prob += c, dlogits += c) {                                \
        for (int64_t j = 0; j < c; j++) dlogits[j] = prob[j] * g[i];                          \
        dlogits[target[i]] = (prob[target[i]] - 1) * g[i];                                    \
    }                                                                                         \
    return -1;                                                                                \
}

DEFINE_SOFTMAX(float, f32, mg_expf, logf)
DEFINE_SOFTMAX(double, f64, mg_exp, log)
