/* linear.c: the fully connected layer, forward and backward, each in one call.
 *
 * forward:  y = act(x @ w^T + b)   (PyTorch's layout: w is (m, k))
 *   One GEMM whose C starts as the broadcast bias (beta = 1), so the bias costs one pass over
 *   y; the activation is the epilogue, applied in place right after the product, while y is
 *   still in cache (for a batch of 128 and a few hundred features it is in L2).
 * backward: dz = g * act'(y); db = sum of dz over rows; dw = dz^T @ x; dx = dz @ w
 *   Every activation the epilogue offers has a derivative that is a function of its OUTPUT
 *   (relu: y > 0, sigmoid: y (1 - y), tanh: 1 - y^2), so the pre-activation is never stored.
 *   The bias gradient is summed in the same call, and both products are GEMMs with transposes
 *   as flags (no copy of x, w or dz). */
#include <string.h>
#include "micrograd.h"

#define DEFINE_LINEAR(T, S)                                                                   \
void mg_linear_##S(T *y, const T *x, const T *w, const T *b, int64_t n, int64_t k, int64_t m, \
                   int act, int nthreads)                                                     \
{                                                                                             \
    if (b != NULL && m > 0)                                                                   \
        for (int64_t i = 0; i < n; i++) memcpy(y + i * m, b, (size_t)m * sizeof(T));          \
    mg_gemm_##S(y, x, w, n, m, k, 0, 1, 1, b != NULL ? 1 : 0, k > 0 ? k : 1, k > 0 ? k : 1,    \
                m > 0 ? m : 1, nthreads);                                                     \
    switch (act) { /* the epilogue: in place (the activation kernels allow out == x) */       \
    case MG_ACT_RELU: mg_relu_##S(y, y, n * m); break;                                        \
    case MG_ACT_SIGMOID: mg_sigmoid_##S(y, y, n * m); break;                                  \
    case MG_ACT_TANH: mg_tanh_##S(y, y, n * m); break;                                        \
    default: break;                                                                           \
    }                                                                                         \
}                                                                                             \
void mg_linear_backward_##S(T *dx, T *dw, T *db, T *dz, const T *x, const T *w, const T *y,  \
                            const T *g, int64_t n, int64_t k, int64_t m, int act,             \
                            int nthreads)                                                     \
{                                                                                             \
    const T *d = g; /* dL/dz: g itself without an activation */                               \
    switch (act) {                                                                            \
    case MG_ACT_RELU: mg_relu_backward_##S(dz, y, g, n * m); d = dz; break;                   \
    case MG_ACT_SIGMOID: mg_sigmoid_backward_##S(dz, y, g, n * m); d = dz; break;             \
    case MG_ACT_TANH: mg_tanh_backward_##S(dz, y, g, n * m); d = dz; break;                   \
    default: break;                                                                           \
    }                                                                                         \
    if (db != NULL) { /* row after row: each pass adds a contiguous row (vectorises) */       \
        for (int64_t j = 0; j < m; j++) db[j] = 0;                                            \
        for (int64_t i = 0; i < n; i++)                                                       \
            for (int64_t j = 0; j < m; j++) db[j] += d[i * m + j];                            \
    }                                                                                         \
    const int64_t ldd = m > 0 ? m : 1, ldk = k > 0 ? k : 1;                                   \
    if (dw != NULL) /* (m, k) = dz^T (m, n) @ x (n, k) */                                     \
        mg_gemm_##S(dw, d, x, m, k, n, 1, 0, 1, 0, ldd, ldk, ldk, nthreads);                  \
    if (dx != NULL) /* (n, k) = dz (n, m) @ w (m, k) */                                       \
        mg_gemm_##S(dx, d, w, n, k, m, 0, 0, 1, 0, ldd, ldk, ldk, nthreads);                  \
}
DEFINE_LINEAR(float, f32)
DEFINE_LINEAR(double, f64)
