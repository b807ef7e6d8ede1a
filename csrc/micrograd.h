/* micrograd.h: the one header of the C core, and the single source of truth for the cffi cdef.
 *
 * Conventions (see docs/ARCHITECTURE.md):
 *   - names are mg_<op>[_backward]_<dtype>, dtype f32 (float) or f64 (double);
 *   - outputs first, then const inputs, then sizes, then flags/strides;
 *   - sizes and leading dimensions are int64_t and count ELEMENTS, not bytes;
 *   - kernels are pure: no globals, no printing; they trust the Python side, which has validated
 *     every shape, dtype and stride before the call;
 *   - backward kernels WRITE their result (=); gradients are accumulated once, in Python.
 * Lines starting with '#' are dropped before the text reaches cffi's cdef.
 */
#ifndef MICROGRAD_H
#define MICROGRAD_H
#include <stdint.h>

/* ---- gemm.c: c = alpha * op(a) @ op(b) + beta * c ------------------------------------------
 * op(a) is (m,k): a is stored row-major as (m,k) with row stride lda, or as (k,m) when trans_a.
 * op(b) is (k,n): b is stored row-major as (k,n) with row stride ldb, or as (n,k) when trans_b.
 * c is (m,n) with row stride ldc. beta == 0 means c is only written, never read (so it may hold
 * garbage or NaN). nthreads <= 0 means "use the OpenMP default". */
void mg_gemm_f32(float *c, const float *a, const float *b, int64_t m, int64_t n, int64_t k,
                 int trans_a, int trans_b, float alpha, float beta,
                 int64_t lda, int64_t ldb, int64_t ldc, int nthreads);
void mg_gemm_f64(double *c, const double *a, const double *b, int64_t m, int64_t n, int64_t k,
                 int trans_a, int trans_b, double alpha, double beta,
                 int64_t lda, int64_t ldb, int64_t ldc, int nthreads);
/* Same contract, with the micro-kernel chosen by hand: isa 2 = AVX-512F, 1 = AVX2+FMA,
 * 0 = portable C, -1 (or anything the CPU lacks) = the best this CPU supports. For tests. */
void mg_gemm_isa_f32(float *c, const float *a, const float *b, int64_t m, int64_t n, int64_t k,
                     int trans_a, int trans_b, float alpha, float beta,
                     int64_t lda, int64_t ldb, int64_t ldc, int nthreads, int isa);
void mg_gemm_isa_f64(double *c, const double *a, const double *b, int64_t m, int64_t n,
                     int64_t k, int trans_a, int trans_b, double alpha, double beta,
                     int64_t lda, int64_t ldb, int64_t ldc, int nthreads, int isa);
/* The best micro-kernel this CPU runs: 2 = AVX-512F, 1 = AVX2+FMA, 0 = portable C. */
int mg_gemm_isa(void);
/* The textbook triple loop, same contract; kept as the readable reference and for benchmarks. */
void mg_gemm_naive_f32(float *c, const float *a, const float *b, int64_t m, int64_t n, int64_t k,
                       int trans_a, int trans_b, float alpha, float beta,
                       int64_t lda, int64_t ldb, int64_t ldc);
void mg_gemm_naive_f64(double *c, const double *a, const double *b, int64_t m, int64_t n,
                       int64_t k, int trans_a, int trans_b, double alpha, double beta,
                       int64_t lda, int64_t ldb, int64_t ldc);

/* ---- activations.c: all arrays contiguous, n elements ---------------------------------------
 * forward:  out = f(x)            backward: dx = f'(.) * g
 * relu and its backward take the input x; sigmoid and tanh backward take the output y. */
void mg_relu_f32(float *out, const float *x, int64_t n);
void mg_relu_f64(double *out, const double *x, int64_t n);
void mg_relu_backward_f32(float *dx, const float *x, const float *g, int64_t n);
void mg_relu_backward_f64(double *dx, const double *x, const double *g, int64_t n);
void mg_sigmoid_f32(float *out, const float *x, int64_t n);
void mg_sigmoid_f64(double *out, const double *x, int64_t n);
void mg_sigmoid_backward_f32(float *dx, const float *y, const float *g, int64_t n);
void mg_sigmoid_backward_f64(double *dx, const double *y, const double *g, int64_t n);
void mg_tanh_f32(float *out, const float *x, int64_t n);
void mg_tanh_f64(double *out, const double *x, int64_t n);
void mg_tanh_backward_f32(float *dx, const float *y, const float *g, int64_t n);
void mg_tanh_backward_f64(double *dx, const double *y, const double *g, int64_t n);

/* ---- elementwise.c: all arrays contiguous, n elements, equal shapes ------------------------- */
void mg_add_f32(float *out, const float *a, const float *b, int64_t n);
void mg_add_f64(double *out, const double *a, const double *b, int64_t n);
void mg_mul_f32(float *out, const float *a, const float *b, int64_t n);
void mg_mul_f64(double *out, const double *a, const double *b, int64_t n);
void mg_exp_f32(float *out, const float *x, int64_t n);
void mg_exp_f64(double *out, const double *x, int64_t n);
void mg_log_f32(float *out, const float *x, int64_t n);
void mg_log_f64(double *out, const double *x, int64_t n);

/* ---- info.c: what this build can do (for the benchmark table and the warning text) --------- */
int mg_has_openmp(void);
int mg_max_threads(void);

#endif /* MICROGRAD_H */
