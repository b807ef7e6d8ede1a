/* gemm.c: general matrix multiply, c = alpha * op(a) @ op(b) + beta * c.
 * This first version is a correct, cache-friendly i-k-j loop; the packed, register-blocked
 * kernel (issue 4) replaces mg_gemm_* while mg_gemm_naive_* stays as the reference. */
#include "micrograd.h"

/* Element (i, p) of op(a) and (p, j) of op(b), whatever the storage order. */
#define OP_A(i, p) (trans_a ? a[(p) * lda + (i)] : a[(i) * lda + (p)])
#define OP_B(p, j) (trans_b ? b[(j) * ldb + (p)] : b[(p) * ldb + (j)])

#define DEFINE_GEMM_NAIVE(T, S)                                                               \
void mg_gemm_naive_##S(T *c, const T *a, const T *b, int64_t m, int64_t n, int64_t k,        \
                       int trans_a, int trans_b, T alpha, T beta,                            \
                       int64_t lda, int64_t ldb, int64_t ldc)                                \
{                                                                                             \
    for (int64_t i = 0; i < m; i++) {                                                         \
        for (int64_t j = 0; j < n; j++) {                                                     \
            T acc = 0;                                                                        \
            for (int64_t p = 0; p < k; p++) acc += OP_A(i, p) * OP_B(p, j);                   \
            c[i * ldc + j] = alpha * acc + (beta == 0 ? (T)0 : beta * c[i * ldc + j]);        \
        }                                                                                     \
    }                                                                                         \
}

/* i-k-j order: the inner loop streams a row of op(b) into a row of c, so it vectorises
 * when b is not transposed. */
#define DEFINE_GEMM(T, S)                                                                     \
void mg_gemm_##S(T *c, const T *a, const T *b, int64_t m, int64_t n, int64_t k,              \
                 int trans_a, int trans_b, T alpha, T beta,                                  \
                 int64_t lda, int64_t ldb, int64_t ldc, int nthreads)                        \
{                                                                                             \
    (void)nthreads;                                                                           \
    for (int64_t i = 0; i < m; i++) {                                                         \
        T *crow = c + i * ldc;                                                                \
        for (int64_t j = 0; j < n; j++) crow[j] = beta == 0 ? (T)0 : beta * crow[j];          \
        for (int64_t p = 0; p < k; p++) {                                                     \
            const T aip = alpha * OP_A(i, p);                                                 \
            for (int64_t j = 0; j < n; j++) crow[j] += aip * OP_B(p, j);                      \
        }                                                                                     \
    }                                                                                         \
}

DEFINE_GEMM_NAIVE(float, f32)
DEFINE_GEMM_NAIVE(double, f64)
DEFINE_GEMM(float, f32)
DEFINE_GEMM(double, f64)
