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
    return mg_forked_child() ? 1 : omp_get_max_threads(); /* fork.c */
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
#define FMA_LOOP fma_loop_avx512
#define TARGET "avx512f"
#define V __m512
#define W 16
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#include "fma_loop_impl.h"
#undef FMA_LOOP
#undef TARGET
#undef V
#undef W
#undef SET1
#undef FMA

#define FMA_LOOP fma_loop_avx2
#define TARGET "avx2,fma"
#define V __m256
#define W 8
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#include "fma_loop_impl.h"
#undef FMA_LOOP
#undef TARGET
#undef V
#undef W
#undef SET1
#undef FMA
#endif

double mg_fma_peak_f32(int64_t iters, int nthreads)
{
    const int isa = mg_gemm_isa();
    const int lanes = isa == 2 ? 16 : (isa == 1 ? 8 : 0);
    if (lanes == 0 || iters <= 0) return 0; /* no FMA unit to measure */
    if (nthreads < 1 || mg_forked_child()) nthreads = 1; /* no thread team after fork */
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
