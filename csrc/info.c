/* info.c: build facts the Python side reports (benchmark tables, `python -m micrograd info`). */
#include <string.h>
#include "micrograd.h"
#ifdef _OPENMP
#include <omp.h>
#endif

int mg_has_openmp(void)
{
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

int mg_max_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/* ---- the FMA peak the benchmark table quotes ------------------------------------------------
 * Each thread runs `iters` rounds of ACC independent FMA chains (enough to hide the FMA latency
 * on two pipes) at the widest vector width the CPU has; returns the flops done. */
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <immintrin.h>
#define ACC 16
#define DEFINE_FMA_LOOP(NAME, TARGET, V, SET1, FMA, W)                                        \
__attribute__((target(TARGET))) static float NAME(int64_t iters)                              \
{                                                                                             \
    V acc[ACC];                                                                               \
    const V x = SET1(0.999999f), y = SET1(1e-7f);                                             \
    for (int i = 0; i < ACC; i++) acc[i] = SET1((float)i);                                    \
    for (int64_t t = 0; t < iters; t++)                                                       \
        _Pragma("GCC unroll 16") for (int i = 0; i < ACC; i++) acc[i] = FMA(acc[i], x, y);    \
    float out[W], sum = 0;                                                                    \
    for (int i = 1; i < ACC; i++) acc[0] = acc[0] + acc[i];                                   \
    memcpy(out, &acc[0], sizeof(out));                                                        \
    for (int i = 0; i < W; i++) sum += out[i];                                                \
    return sum;                                                                               \
}
DEFINE_FMA_LOOP(fma_loop_avx512, "avx512f", __m512, _mm512_set1_ps, _mm512_fmadd_ps, 16)
DEFINE_FMA_LOOP(fma_loop_avx2, "avx2,fma", __m256, _mm256_set1_ps, _mm256_fmadd_ps, 8)
#endif

double mg_fma_peak_f32(int64_t iters, int nthreads)
{
    const int isa = mg_gemm_isa();
    const int lanes = isa == 2 ? 16 : (isa == 1 ? 8 : 0);
    if (lanes == 0 || iters <= 0) return 0; /* no FMA unit to measure */
    if (nthreads < 1) nthreads = 1;
    volatile float sink = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(nthreads)
#endif
    {
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
        const float s = isa == 2 ? fma_loop_avx512(iters) : fma_loop_avx2(iters);
        if (s == -1.0f) sink = s; /* keeps the loop alive; never true */
#endif
    }
    (void)sink;
    return 2.0 * lanes * ACC * (double)iters * nthreads;
}
