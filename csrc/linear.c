/* linear.c: the fully connected layer y = x @ w^T + b (PyTorch's layout: w is (m, k)), as one
 * GEMM whose C starts as the broadcast bias (beta = 1), so the bias costs one pass over y. */
#include <string.h>
#include "micrograd.h"

#define DEFINE_LINEAR(T, S)                                                                   \
void mg_linear_##S(T *y, const T *x, const T *w, const T *b, int64_t n, int64_t k, int64_t m, \
                   int nthreads)                                                              \
{                                                                                             \
    if (b != NULL && m > 0)                                                                   \
        for (int64_t i = 0; i < n; i++) memcpy(y + i * m, b, (size_t)m * sizeof(T));          \
    mg_gemm_##S(y, x, w, n, m, k, 0, 1, 1, b != NULL ? 1 : 0, k > 0 ? k : 1, k > 0 ? k : 1,    \
                m > 0 ? m : 1, nthreads);                                                     \
}
DEFINE_LINEAR(float, f32)
DEFINE_LINEAR(double, f64)
