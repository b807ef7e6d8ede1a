/* gemm.c: general matrix multiply, c = alpha * op(a) @ op(b) + beta * c, float and double.
 *
 * The structure is the one BLIS and OpenBLAS use (Goto's algorithm):
 *
 *   for jc in n, step NC:                 a (kc, nc) panel of op(b) ...
 *     for pc in k, step KC:               ... is packed once into NR-wide slivers (fits L3/L2)
 *       for ic in m, step MC (threads):   a (mc, kc) block of op(a) is packed into MR-tall slivers
 *         for jr in nc, step NR:          (each thread packs its own block; it stays in L2)
 *           for ir in mc, step MR:        micro-kernel: an MR x NR tile of c kept in registers,
 *                                         rank-1 updates over kc (the B sliver stays in L1)
 *
 * Packing turns any transpose / leading dimension into the same contiguous layout, so one
 * micro-kernel serves the four transpose cases; slivers are zero-padded to MR / NR so the kernel
 * always computes a full tile, and edge tiles go through a small buffer before reaching c.
 * Micro-kernels exist for AVX-512F, AVX2+FMA and portable C; the best one the CPU supports is
 * picked at run time (GCC target attributes + __builtin_cpu_supports), so the binary is portable
 * without -march=native. Packing buffers are allocated once per call, never in the loops. */
#include <stdlib.h>
#include <string.h>
#include "micrograd.h"
#include "vmath.h" /* MG_VECTOR_CLONES */
#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef _OPENMP
#define OMP(x) _Pragma(x)
#else
#define OMP(x)
#endif
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define MG_X86 1
#include <immintrin.h>
#endif

/* ---- the reference: textbook triple loop -------------------------------------------------- */
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
DEFINE_GEMM_NAIVE(float, f32)
DEFINE_GEMM_NAIVE(double, f64)

/* ---- micro-kernels -------------------------------------------------------------------------
 * ukr(kc, ap, bp, c, ldc, alpha, beta): c[MR x NR] = alpha * ap @ bp + beta * c, where ap holds
 * kc columns of MR packed values and bp kc rows of NR packed values (both 64-byte aligned).
 * beta == 0 never reads c. Each SIMD kernel keeps MR x NV vector accumulators in registers. */
#define MAX_TILE 512 /* >= MR * NR of every kernel, in elements */

#define DEFINE_SIMD_UKR(NAME, TARGET, T, V, W, MR, NV, LOAD, LOADU, STOREU, SET1, FMA, MUL, ZERO) \
TARGET static void NAME(int64_t kc, const T *restrict ap, const T *restrict bp, T *restrict c,  \
                        int64_t ldc, T alpha, T beta)                                           \
{                                                                                               \
    V acc[MR][NV];                                                                              \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                       \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) acc[i][v] = ZERO();                \
    for (int64_t p = 0; p < kc; p++) {                                                          \
        V bv[NV];                                                                               \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) bv[v] = LOAD(bp + v * W);          \
        _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++) {                                 \
            const V ai = SET1(ap[i]);                                                           \
            _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++)                                \
                acc[i][v] = FMA(ai, bv[v], acc[i][v]);                                          \
        }                                                                                       \
        ap += MR;                                                                               \
        bp += NV * W;                                                                           \
    }                                                                                           \
    const V va = SET1(alpha);                                                                   \
    if (beta == 0) {                                                                            \
        _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                   \
            _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++)                                \
                STOREU(c + i * ldc + v * W, MUL(va, acc[i][v]));                                \
    } else {                                                                                    \
        const V vb = SET1(beta);                                                                \
        _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                   \
            _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) {                              \
                T *cp = c + i * ldc + v * W;                                                    \
                STOREU(cp, FMA(va, acc[i][v], MUL(vb, LOADU(cp))));                             \
            }                                                                                   \
    }                                                                                           \
}

#ifdef MG_X86
#define AVX512 __attribute__((target("avx512f")))
#define AVX2 __attribute__((target("avx2,fma")))
DEFINE_SIMD_UKR(ukr_f32_avx512, AVX512, float, __m512, 16, 12, 2, _mm512_load_ps,
                _mm512_loadu_ps, _mm512_storeu_ps, _mm512_set1_ps, _mm512_fmadd_ps,
                _mm512_mul_ps, _mm512_setzero_ps)
DEFINE_SIMD_UKR(ukr_f64_avx512, AVX512, double, __m512d, 8, 12, 2, _mm512_load_pd,
                _mm512_loadu_pd, _mm512_storeu_pd, _mm512_set1_pd, _mm512_fmadd_pd,
                _mm512_mul_pd, _mm512_setzero_pd)
DEFINE_SIMD_UKR(ukr_f32_avx512_half, AVX512, float, __m512, 16, 12, 1, _mm512_load_ps,
                _mm512_loadu_ps, _mm512_storeu_ps, _mm512_set1_ps, _mm512_fmadd_ps,
                _mm512_mul_ps, _mm512_setzero_ps)
DEFINE_SIMD_UKR(ukr_f64_avx512_half, AVX512, double, __m512d, 8, 12, 1, _mm512_load_pd,
                _mm512_loadu_pd, _mm512_storeu_pd, _mm512_set1_pd, _mm512_fmadd_pd,
                _mm512_mul_pd, _mm512_setzero_pd)
DEFINE_SIMD_UKR(ukr_f32_avx2_half, AVX2, float, __m256, 8, 6, 1, _mm256_load_ps,
                _mm256_loadu_ps, _mm256_storeu_ps, _mm256_set1_ps, _mm256_fmadd_ps,
                _mm256_mul_ps, _mm256_setzero_ps)
DEFINE_SIMD_UKR(ukr_f64_avx2_half, AVX2, double, __m256d, 4, 6, 1, _mm256_load_pd,
                _mm256_loadu_pd, _mm256_storeu_pd, _mm256_set1_pd, _mm256_fmadd_pd,
                _mm256_mul_pd, _mm256_setzero_pd)
DEFINE_SIMD_UKR(ukr_f32_avx2, AVX2, float, __m256, 8, 6, 2, _mm256_load_ps,
                _mm256_loadu_ps, _mm256_storeu_ps, _mm256_set1_ps, _mm256_fmadd_ps,
                _mm256_mul_ps, _mm256_setzero_ps)
DEFINE_SIMD_UKR(ukr_f64_avx2, AVX2, double, __m256d, 4, 6, 2, _mm256_load_pd,
                _mm256_loadu_pd, _mm256_storeu_pd, _mm256_set1_pd, _mm256_fmadd_pd,
                _mm256_mul_pd, _mm256_setzero_pd)
#endif

/* Portable kernel: plain C the compiler can vectorise with whatever the baseline ISA has. */
#define GEN_MR 4
#define GEN_NR 8
#define DEFINE_GENERIC_UKR(T, S)                                                              \
static void ukr_##S##_generic(int64_t kc, const T *restrict ap, const T *restrict bp,         \
                              T *restrict c, int64_t ldc, T alpha, T beta)                    \
{                                                                                             \
    T acc[GEN_MR][GEN_NR] = {{0}};                                                            \
    for (int64_t p = 0; p < kc; p++, ap += GEN_MR, bp += GEN_NR)                              \
        for (int i = 0; i < GEN_MR; i++)                                                      \
            for (int j = 0; j < GEN_NR; j++) acc[i][j] += ap[i] * bp[j];                      \
    for (int i = 0; i < GEN_MR; i++)                                                          \
        for (int j = 0; j < GEN_NR; j++)                                                      \
            c[i * ldc + j] = alpha * acc[i][j] + (beta == 0 ? (T)0 : beta * c[i * ldc + j]);  \
}
DEFINE_GENERIC_UKR(float, f32)
DEFINE_GENERIC_UKR(double, f64)

/* ---- kernel choice ------------------------------------------------------------------------- */
int mg_gemm_isa(void)
{
#ifdef MG_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
#endif
    return 0;
}

/* A micro-kernel, its half-width twin (MR x NR/2, for the last sliver of a narrow n, or NULL)
 * and the cache block sizes that suit them (MC % MR == 0, NC % NR == 0). */
#define DEFINE_KERNEL_TABLE(T, S)                                                             \
typedef void (*ukr_##S##_fn)(int64_t, const T *, const T *, T *, int64_t, T, T);              \
typedef struct { ukr_##S##_fn ukr, half; int64_t mr, nr, mc, kc, nc; } kernel_##S;               \
static kernel_##S pick_##S(int isa)                                                           \
{                                                                                             \
    kernel_##S kern = {ukr_##S##_generic, 0, GEN_MR, GEN_NR, 128, 256, 2048};                 \
    (void)isa;                                                                                \
    KERNEL_CHOICES_##S                                                                        \
    return kern;                                                                              \
}
#ifdef MG_X86
/* {kernel, half kernel, MR, NR, MC, KC, NC}: KC = 512 measured best here for both types */
#define KERNEL_CHOICES_f32                                                                    \
    if (isa >= 2)                                                                             \
        kern = (kernel_f32){ukr_f32_avx512, ukr_f32_avx512_half, 12, 32, 96, 512, 4096};      \
    else if (isa == 1)                                                                        \
        kern = (kernel_f32){ukr_f32_avx2, ukr_f32_avx2_half, 6, 16, 144, 384, 4096};
#define KERNEL_CHOICES_f64                                                                    \
    if (isa >= 2)                                                                             \
        kern = (kernel_f64){ukr_f64_avx512, ukr_f64_avx512_half, 12, 16, 96, 512, 4096};      \
    else if (isa == 1)                                                                        \
        kern = (kernel_f64){ukr_f64_avx2, ukr_f64_avx2_half, 6, 8, 96, 384, 4096};
#else
#define KERNEL_CHOICES_f32
#define KERNEL_CHOICES_f64
#endif
DEFINE_KERNEL_TABLE(float, f32)
DEFINE_KERNEL_TABLE(double, f64)

/* ---- packing ------------------------------------------------------------------------------
 * Element (i, p) of op(a) is a[i * rs + p * cs]; one of rs, cs is 1. pack_a writes mc rows x kc
 * columns as MR-tall slivers: sliver s holds rows s*MR.., column-major inside (p*MR + i).
 * pack_b writes kc rows x nc columns as NR-wide slivers, row-major inside (p*NR + j). */
#ifdef MG_X86
/* Transposes the 16 x 16 block in r (row i in r[i]) in registers: 64 shuffles. */
AVX512 static inline void transpose16_f32(__m512 r[16])
{
    __m512 t[16], u[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int g = 0; g < 4; g++) {
        u[4 * g + 0] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[4 * g + 1] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[4 * g + 2] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[4 * g + 3] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int c = 0; c < 4; c++) {
        const __m512 v0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88);
        const __m512 w0 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);
        const __m512 v1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xdd);
        const __m512 w1 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xdd);
        r[c] = _mm512_shuffle_f32x4(v0, w0, 0x88);
        r[8 + c] = _mm512_shuffle_f32x4(v0, w0, 0xdd);
        r[4 + c] = _mm512_shuffle_f32x4(v1, w1, 0x88);
        r[12 + c] = _mm512_shuffle_f32x4(v1, w1, 0xdd);
    }
}

/* One r-tall sliver (h <= r <= 32 rows) of a panel with unit column stride: 16 columns at a
 * time are loaded row by row (16 rows per half), transposed in registers and stored as packed
 * columns. Masked loads never touch memory past the panel. */
AVX512 static void pack_sliver_t_f32_avx512(float *restrict dst, const float *restrict blk,
                                            int64_t h, int64_t cols, int64_t rs, int64_t r)
{
    for (int64_t base = 0; base < r; base += 16) {
        const int64_t lanes = r - base < 16 ? r - base : 16;
        const __mmask16 out_mask = (__mmask16)((1u << lanes) - 1);
        for (int64_t p = 0; p < cols; p += 16) {
            const int64_t w = cols - p < 16 ? cols - p : 16;
            const __mmask16 in_mask = (__mmask16)((1u << w) - 1);
            __m512 v[16];
            for (int i = 0; i < 16; i++)
                v[i] = base + i < h ? _mm512_maskz_loadu_ps(in_mask, blk + (base + i) * rs + p)
                                    : _mm512_setzero_ps();
            transpose16_f32(v);
            for (int q = 0; q < w; q++)
                _mm512_mask_storeu_ps(dst + (p + q) * r + base, out_mask, v[q]);
        }
    }
}

/* The same for unit row stride (column p of the sliver is contiguous): masked copies. */
AVX512 static void pack_sliver_n_f32_avx512(float *restrict dst, const float *restrict blk,
                                            int64_t h, int64_t cols, int64_t cs, int64_t r)
{
    for (int64_t base = 0; base < r; base += 16) {
        const int64_t lanes = r - base < 16 ? r - base : 16;
        const int64_t valid = h - base < 0 ? 0 : (h - base < 16 ? h - base : 16);
        const __mmask16 out_mask = (__mmask16)((1u << lanes) - 1);
        const __mmask16 in_mask = (__mmask16)((1u << valid) - 1);
        for (int64_t p = 0; p < cols; p++)
            _mm512_mask_storeu_ps(dst + p * r + base, out_mask,
                                  _mm512_maskz_loadu_ps(in_mask, blk + p * cs + base));
    }
}
#endif

/* ---- packing ------------------------------------------------------------------------------
 * pack(dst, src, rows, cols, rs, cs, r): element (i, p) of the panel is src[i * rs + p * cs]
 * (one of rs, cs is 1). Writes r-tall slivers, each column-major inside: dst[s][p][i], rows
 * past the end padded with zeros. For op(a): rows = m-range, cols = k-range, r = MR. For op(b)
 * it packs the transpose: rows = n-range, cols = k-range, r = NR, so dst[p][j] is row-major. */
#define DEFINE_PACK(T, S, SIMD_T, SIMD_N)                                                        \
static void pack_##S(T *restrict dst, const T *restrict src, int64_t rows, int64_t cols,     \
                     int64_t rs, int64_t cs, int64_t r, int isa)                              \
{                                                                                             \
    (void)isa;                                                                                \
    for (int64_t s = 0; s < rows; s += r, dst += r * cols) {                                  \
        const int64_t h = rows - s < r ? rows - s : r;                                        \
        const T *blk = src + s * rs;                                                          \
        if (cs == 1 && rs != 1) {                                                             \
            SIMD_T                                                                            \
            for (int64_t i = 0; i < h; i++)                                                   \
                for (int64_t p = 0; p < cols; p++) dst[p * r + i] = blk[i * rs + p];          \
        } else {                                                                              \
            if (rs == 1) { SIMD_N }                                                           \
            for (int64_t p = 0; p < cols; p++)                                                \
                for (int64_t i = 0; i < h; i++) dst[p * r + i] = blk[i * rs + p * cs];        \
        }                                                                                     \
        if (h < r)                                                                            \
            for (int64_t p = 0; p < cols; p++)                                                \
                for (int64_t i = h; i < r; i++) dst[p * r + i] = 0;                           \
    }                                                                                         \
}
#ifdef MG_X86
#define SLIVER_T_f32                                                                          \
    if (isa >= 2 && r <= 32) { pack_sliver_t_f32_avx512(dst, blk, h, cols, rs, r); continue; }
#define SLIVER_N_f32                                                                          \
    if (isa >= 2 && r <= 32) { pack_sliver_n_f32_avx512(dst, blk, h, cols, cs, r); continue; }
#else
#define SLIVER_T_f32
#define SLIVER_N_f32
#endif
DEFINE_PACK(float, f32, SLIVER_T_f32, SLIVER_N_f32)
DEFINE_PACK(double, f64, , )

static int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }
static int64_t min64(int64_t x, int64_t y) { return x < y ? x : y; }

static void *alloc_aligned(size_t bytes)
{
    return aligned_alloc(64, (bytes + 63) / 64 * 64);
}

/* Threads: nthreads > 0 wins; otherwise the OpenMP default (OMP_NUM_THREADS). By default,
 * products under 256^3 multiply-adds (~70 us on one core here) stay on one thread: each team
 * has a few barriers, and on a busy machine (other processes on the cores) one barrier can wait
 * a whole scheduler time slice, which turned a 0.4 ms MLP training step into 40 ms when these
 * GEMMs were threaded. An explicit nthreads (MICROGRAD_NUM_THREADS) says the cores are free:
 * then products from 128^3 on are threaded too. Each thread gets at least 128^3 of work. */
static int thread_count(int nthreads, int64_t m, int64_t n, int64_t k)
{
#ifdef _OPENMP
    int nt = nthreads > 0 ? nthreads : omp_get_max_threads();
    const double work = (double)m * (double)n * (double)k, chunk = 128.0 * 128.0 * 128.0;
    if (work < (nthreads > 0 ? chunk : 8 * chunk)) return 1;
    if (nt > 1 && work / nt < chunk) nt = (int)(work / chunk);
    return nt < 1 ? 1 : nt;
#else
    (void)nthreads; (void)m; (void)n; (void)k;
    return 1;
#endif
}

static int thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* c = beta * c, for k == 0 or alpha == 0 (no product to add); beta == 0 writes zeros. */
#define DEFINE_SCALE(T, S)                                                                    \
static void scale_##S(T *c, int64_t m, int64_t n, int64_t ldc, T beta)                        \
{                                                                                             \
    for (int64_t i = 0; i < m; i++)                                                           \
        for (int64_t j = 0; j < n; j++) c[i * ldc + j] = beta == 0 ? (T)0 : beta * c[i * ldc + j]; \
}
DEFINE_SCALE(float, f32)
DEFINE_SCALE(double, f64)

/* The macro-kernel over one packed (mc, kc) block of A and the packed slivers [j0, j1) of B. */
/* Sliver width: the last sliver of B is packed half-wide when the half kernel covers it. */
#define DEFINE_MACRO(T, S)                                                                    \
static int64_t sliver_width_##S(const kernel_##S *kn, int64_t w)                             \
{                                                                                             \
    return kn->half && w <= kn->nr / 2 ? kn->nr / 2 : kn->nr;                                 \
}                                                                                             \
static void macro_##S(const kernel_##S *kn, int64_t mc, int64_t kc, int64_t nc, int64_t j0,  \
                      int64_t j1, const T *ap, const T *bp, T *c, int64_t ldc, T alpha,       \
                      T beta)                                                                 \
{                                                                                             \
    const int64_t mr = kn->mr, nr = kn->nr;                                                   \
    T tile[MAX_TILE] __attribute__((aligned(64)));                                            \
    for (int64_t jr = j0; jr < j1; jr += nr) {                                                \
        const int64_t w = min64(nr, nc - jr), r = sliver_width_##S(kn, w);                    \
        const ukr_##S##_fn ukr = r == nr ? kn->ukr : kn->half;                                \
        const T *bs = bp + jr * kc;                                                           \
        for (int64_t ir = 0; ir < mc; ir += mr) {                                             \
            const int64_t h = min64(mr, mc - ir);                                             \
            T *ct = c + ir * ldc + jr;                                                        \
            if (h == mr && w == r) {                                                          \
                ukr(kc, ap + ir * kc, bs, ct, ldc, alpha, beta);                              \
                continue;                                                                     \
            }                                                                                 \
            ukr(kc, ap + ir * kc, bs, tile, r, 1, 0);                                         \
            for (int64_t i = 0; i < h; i++)                                                   \
                for (int64_t j = 0; j < w; j++)                                               \
                    ct[i * ldc + j] = alpha * tile[i * r + j]                                 \
                                      + (beta == 0 ? (T)0 : beta * ct[i * ldc + j]);          \
        }                                                                                     \
    }                                                                                         \
}
DEFINE_MACRO(float, f32)
DEFINE_MACRO(double, f64)

/* Small products: packing and blocking cost more than they save, so loop directly (i-k-j when
 * rows of op(b) are contiguous, dot products when op(b) is transposed). */
#define SMALL_WORK (16 * 16 * 32)
#define DEFINE_SMALL(T, S)                                                                    \
MG_VECTOR_CLONES static void small_##S(T *c, const T *a, const T *b, int64_t m, int64_t n,   \
                                       int64_t k, int trans_a, int trans_b, T alpha, T beta, \
                                       int64_t lda, int64_t ldb, int64_t ldc)                \
{                                                                                             \
    for (int64_t i = 0; i < m; i++) {                                                         \
        T *cr = c + i * ldc;                                                                  \
        if (!trans_b) {                                                                       \
            for (int64_t j = 0; j < n; j++) cr[j] = beta == 0 ? (T)0 : beta * cr[j];          \
            for (int64_t p = 0; p < k; p++) {                                                 \
                const T aip = alpha * OP_A(i, p);                                             \
                const T *br = b + p * ldb;                                                    \
                for (int64_t j = 0; j < n; j++) cr[j] += aip * br[j];                         \
            }                                                                                 \
        } else {                                                                              \
            for (int64_t j = 0; j < n; j++) {                                                 \
                const T *bc = b + j * ldb;                                                    \
                T acc = 0;                                                                    \
                for (int64_t p = 0; p < k; p++) acc += OP_A(i, p) * bc[p];                    \
                cr[j] = alpha * acc + (beta == 0 ? (T)0 : beta * cr[j]);                      \
            }                                                                                 \
        }                                                                                     \
    }                                                                                         \
}
DEFINE_SMALL(float, f32)
DEFINE_SMALL(double, f64)

/* Everything one GEMM call needs to know, shared read-only by its threads. */
#define DEFINE_PLAN(T, S)                                                                     \
typedef struct {                                                                              \
    kernel_##S kn;                                                                            \
    T *c, *bbuf[2], *abuf; /* two B panel buffers (the same one when there is one panel) */  \
    const T *a, *b;                                                                           \
    int64_t m, n, k, rsa, csa, rsb, csb, ldc, mc, kcmax, nblk, nsplit, rows, bpr;             \
    T alpha, beta;                                                                            \
    int isa;                                                                                  \
} plan_##S;                                                                                   \
/* The blocked loops, run by every thread of the team (or alone): B panels are packed by all  \
 * threads together, then each takes whole (ic block, B-sliver range) work items. B panels     \
 * alternate between two buffers, so one barrier per panel suffices (after its packing): a     \
 * thread packs panel i+2 into panel i's buffer only after that barrier of panel i+1, which    \
 * every thread reaches after finishing its work on panel i. The static schedule gives each   \
 * thread the same items (the same blocks of c) for every panel, so c needs no barrier. */     \
static void run_plan_##S(const plan_##S *pl, int tid)                                         \
{                                                                                             \
    const kernel_##S *kn = &pl->kn;                                                           \
    T *ap = pl->abuf + (size_t)tid * (size_t)(pl->mc * pl->kcmax);                            \
    int64_t panel = 0;                                                                        \
    for (int64_t jc = 0; jc < pl->n; jc += kn->nc) {                                          \
        const int64_t nc = min64(kn->nc, pl->n - jc), nsl = (nc + kn->nr - 1) / kn->nr;       \
        for (int64_t pc = 0; pc < pl->k; pc += kn->kc, panel++) {                             \
            const int64_t kc = min64(kn->kc, pl->k - pc);                                     \
            const T beta = pc == 0 ? pl->beta : (T)1;                                         \
            T *bbuf = pl->bbuf[panel % 2];                                                    \
            OMP("omp for schedule(static)")                                                   \
            for (int64_t s = 0; s < nsl; s++) {                                               \
                const int64_t w = min64(kn->nr, nc - s * kn->nr);                             \
                pack_##S(bbuf + s * kn->nr * kc,                                              \
                         pl->b + pc * pl->rsb + (jc + s * kn->nr) * pl->csb,                  \
                         w, kc, pl->csb, pl->rsb, sliver_width_##S(kn, w), pl->isa);          \
            }                                                                                 \
            OMP("omp for schedule(static) nowait")                                            \
            for (int64_t item = 0; item < pl->nblk * pl->nsplit; item++) {                    \
                /* block blk is block (blk % bpr) of row range (blk / bpr), ranges `rows` long */ \
                const int64_t blk = item / pl->nsplit, part = item % pl->nsplit;              \
                const int64_t ic = (blk / pl->bpr) * pl->rows + (blk % pl->bpr) * pl->mc;     \
                const int64_t end = min64(pl->m, (blk / pl->bpr + 1) * pl->rows);             \
                const int64_t h = min64(pl->mc, end - ic);                                    \
                const int64_t j0 = nsl * part / pl->nsplit * kn->nr;                          \
                const int64_t j1 = min64(nc, nsl * (part + 1) / pl->nsplit * kn->nr);         \
                if (h <= 0 || j0 >= j1) continue;                                             \
                pack_##S(ap, pl->a + ic * pl->rsa + pc * pl->csa, h, kc, pl->rsa, pl->csa,    \
                         kn->mr, pl->isa);                                                    \
                macro_##S(kn, h, kc, nc, j0, j1, ap, bbuf, pl->c + ic * pl->ldc + jc,         \
                          pl->ldc, pl->alpha, beta);                                          \
            }                                                                                 \
        }                                                                                     \
    }                                                                                         \
}
DEFINE_PLAN(float, f32)
DEFINE_PLAN(double, f64)

#define DEFINE_GEMM(T, S)                                                                     \
void mg_gemm_isa_##S(T *c, const T *a, const T *b, int64_t m, int64_t n, int64_t k,          \
                     int trans_a, int trans_b, T alpha, T beta, int64_t lda, int64_t ldb,    \
                     int64_t ldc, int nthreads, int isa)                                     \
{                                                                                             \
    if (m <= 0 || n <= 0) return;                                                             \
    if (k <= 0 || alpha == 0) { scale_##S(c, m, n, ldc, beta); return; }                      \
    if (isa < 0 && (double)m * (double)n * (double)k <= SMALL_WORK) {                         \
        small_##S(c, a, b, m, n, k, trans_a, trans_b, alpha, beta, lda, ldb, ldc);            \
        return;                                                                               \
    }                                                                                         \
    if (isa < 0 || isa > mg_gemm_isa()) isa = mg_gemm_isa();                                  \
    plan_##S pl = {.kn = pick_##S(isa), .c = c, .a = a, .b = b, .m = m, .n = n, .k = k,       \
                   .rsa = trans_a ? 1 : lda, .csa = trans_a ? lda : 1,                        \
                   .rsb = trans_b ? 1 : ldb, .csb = trans_b ? ldb : 1, .ldc = ldc,            \
                   .alpha = alpha, .beta = beta, .isa = isa};                                 \
    const int nt = thread_count(nthreads, m, n, k);                                           \
    /* work split: with enough rows, each thread gets one contiguous range of ~m/nt rows     */\
    /* (rounded to MR) cut into bpr equal blocks of at most MC rows, so the static schedule  */\
    /* balances them; with few rows, one range, and the threads split the B slivers instead */\
    const int rows_split = nt > 1 && m >= 2 * nt * pl.kn.mr;                                  \
    pl.rows = rows_split ? round_up((m + nt - 1) / nt, pl.kn.mr) : m;                         \
    pl.bpr = (pl.rows + pl.kn.mc - 1) / pl.kn.mc;                                             \
    pl.mc = round_up((pl.rows + pl.bpr - 1) / pl.bpr, pl.kn.mr);                              \
    pl.nblk = (rows_split ? nt : 1) * pl.bpr;                                                 \
    pl.nsplit = rows_split ? 1 : nt;                                                          \
    pl.kcmax = min64(pl.kn.kc, k);                                                            \
    const int64_t ncmax = min64(pl.kn.nc, round_up(n, pl.kn.nr));                             \
    const int panels2 = nt > 1 && (k > pl.kn.kc || n > pl.kn.nc); /* double-buffer B? */     \
    const size_t bsize = (sizeof(T) * (size_t)(pl.kcmax * ncmax) + 63) / 64 * 64; /* aligned */ \
    pl.bbuf[0] = alloc_aligned(bsize * (panels2 ? 2 : 1));                                    \
    pl.bbuf[1] = pl.bbuf[0] == NULL ? NULL : pl.bbuf[0] + (panels2 ? bsize / sizeof(T) : 0);  \
    pl.abuf = alloc_aligned(sizeof(T) * (size_t)(nt * pl.mc * pl.kcmax));                     \
    if (!pl.bbuf[0] || !pl.abuf) { /* out of memory: the slow path still gives the answer */  \
        free(pl.bbuf[0]); free(pl.abuf);                                                      \
        mg_gemm_naive_##S(c, a, b, m, n, k, trans_a, trans_b, alpha, beta, lda, ldb, ldc);    \
        return;                                                                               \
    }                                                                                         \
    if (nt > 1) {                                                                             \
        OMP("omp parallel num_threads(nt)")                                                   \
        run_plan_##S(&pl, thread_id());                                                       \
    } else {                                                                                  \
        run_plan_##S(&pl, 0);                                                                 \
    }                                                                                         \
    free(pl.bbuf[0]);                                                                         \
    free(pl.abuf);                                                                            \
}                                                                                             \
void mg_gemm_##S(T *c, const T *a, const T *b, int64_t m, int64_t n, int64_t k,              \
                 int trans_a, int trans_b, T alpha, T beta,                                  \
                 int64_t lda, int64_t ldb, int64_t ldc, int nthreads)                        \
{                                                                                             \
    mg_gemm_isa_##S(c, a, b, m, n, k, trans_a, trans_b, alpha, beta, lda, ldb, ldc,           \
                    nthreads, -1);                                                            \
}
DEFINE_GEMM(float, f32)
DEFINE_GEMM(double, f64)
