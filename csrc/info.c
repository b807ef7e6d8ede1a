/* info.c: build and CPU facts the Python side reports (benchmark tables, `python -m micrograd
 * info`) and the GEMM's blocking is derived from (the caches). */
#define _DEFAULT_SOURCE /* sysconf's cache queries (_SC_LEVEL1_DCACHE_SIZE, ...) */
#include <string.h>
#include <unistd.h>
#include "micrograd.h"
#ifdef _OPENMP
#include <omp.h>
#endif
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define MG_X86 1
#include <cpuid.h>
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
#define ACC 16 /* independent FMA chains per thread */
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <immintrin.h>
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

/* ---- the CPU and its caches ------------------------------------------------------------------
 * CPUID's deterministic cache parameters (Intel's leaf 4; AMD's 0x8000001D, when the CPU has
 * the topology extensions) describe each cache: type, level, ways, partitions, line size, sets
 * and how many logical CPUs share it. They are what the kernel's /sys/.../cache files are built
 * from, and they work in containers and on any OS. Where there are none, glibc's sysconf (which
 * knows the older leaves), else nothing: the GEMM's model then takes its defaults. */
#ifdef MG_X86
/* Fills the levels that the deterministic-cache leaf `leaf` describes; returns how many. */
static int caches_from_leaf(mg_caches *out, unsigned leaf)
{
    int found = 0;
    for (unsigned i = 0; i < 16; i++) {
        unsigned a, b, c, d;
        __cpuid_count(leaf, i, a, b, c, d);
        const unsigned type = a & 31, level = (a >> 5) & 7;
        if (type == 0) break;             /* no more caches */
        if (type == 2) continue;          /* instruction cache */
        const int64_t line = (b & 0xfff) + 1, parts = ((b >> 12) & 0x3ff) + 1;
        const int64_t sets = (int64_t)c + 1;
        int64_t ways = (b >> 22) + 1;
        const int64_t size = ways * parts * line * sets;
        if (a & (1u << 9)) ways = size / line; /* fully associative */
        const mg_cache_level lv = {.size = size, .ways = ways, .line = line,
                                   .shared_by = ((a >> 14) & 0xfff) + 1};
        if (level == 1) out->l1d = lv;
        else if (level == 2) out->l2 = lv;
        else if (level == 3) out->l3 = lv;
        else continue;
        found++;
    }
    return found;
}
#endif

void mg_detect_caches(mg_caches *out)
{
    memset(out, 0, sizeof(*out));
#ifdef MG_X86
    unsigned a, b, c, d;
    const unsigned max_leaf = __get_cpuid_max(0, NULL);
    const unsigned max_ext = __get_cpuid_max(0x80000000u, NULL);
    if (max_leaf >= 4 && caches_from_leaf(out, 4) > 0) {
        out->source = MG_CACHES_CPUID;
        return;
    }
    memset(out, 0, sizeof(*out));
    if (max_ext >= 0x8000001Du && __get_cpuid(0x80000001u, &a, &b, &c, &d) && (c & (1u << 22))
        && caches_from_leaf(out, 0x8000001Du) > 0) {
        out->source = MG_CACHES_CPUID;
        return;
    }
    memset(out, 0, sizeof(*out));
#endif
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL3_CACHE_SIZE)
    const long l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE), l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    if (l1 > 0 && l2 > 0) {
        const long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
        const long w1 = sysconf(_SC_LEVEL1_DCACHE_ASSOC), w2 = sysconf(_SC_LEVEL2_CACHE_ASSOC);
        const long c1 = sysconf(_SC_LEVEL1_DCACHE_LINESIZE);
        const long c2 = sysconf(_SC_LEVEL2_CACHE_LINESIZE);
        out->l1d = (mg_cache_level){.size = l1, .ways = w1 > 0 ? w1 : 0, .line = c1 > 0 ? c1 : 0};
        out->l2 = (mg_cache_level){.size = l2, .ways = w2 > 0 ? w2 : 0, .line = c2 > 0 ? c2 : 0};
        if (l3 > 0) out->l3.size = l3;
        out->source = MG_CACHES_SYSCONF;
    }
#endif
}

void mg_cpu_name(char *out, int64_t size)
{
    if (size <= 0) return;
    out[0] = 0;
#ifdef MG_X86
    unsigned regs[12];
    if (size < 2 || __get_cpuid_max(0x80000000u, NULL) < 0x80000004u) return;
    for (unsigned i = 0; i < 3; i++)
        __get_cpuid(0x80000002u + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2],
                    &regs[4 * i + 3]);
    char name[49];
    memcpy(name, regs, 48);
    name[48] = 0;
    const char *start = name;
    while (*start == ' ') start++; /* some CPUs right-align it */
    size_t len = strlen(start);
    while (len > 0 && start[len - 1] == ' ') len--;
    if (len > (size_t)size - 1) len = (size_t)size - 1;
    memcpy(out, start, len);
    out[len] = 0;
#endif
}
