/* gemm.c: general matrix multiply, c = alpha * op(a) @ op(b) + beta * c, float and double.
 *
 * The structure is the one BLIS and OpenBLAS use (Goto's algorithm):
 *
 *   for jc in n, step NC (jc_ways groups): a (kc, nc) panel of op(b) ...
 *     for pc in k, step KC:                ... is packed once into NR-wide slivers (in L3),
 *                                           shared by the group's threads
 *       for ic in m, step MC (ic_ways):    a (mc, kc) block of op(a) is packed into MR-tall
 *                                           slivers (each thread its own; it stays in L2)
 *         for jr in nc, step NR:           micro-kernel: an MR x NR tile of c kept in registers,
 *           for ir in mc, step MR:         rank-1 updates over kc (the B sliver stays in L1)
 *
 * MC, KC and NC are not constants: they come from the caches this CPU reports, through BLIS's
 * analytical model (mg_gemm_blocking_for, at the end of this file), computed once when the
 * module is loaded (the configuration, mg_gemm_get_config). Threads split both the jc and the
 * ic loop, as BLIS does (split_ways): a group's threads pack its B panel together and meet at a
 * barrier, then each packs and multiplies its own rows.
 *
 * Packing turns any transpose / leading dimension into the same contiguous layout, so one
 * micro-kernel serves the four transpose cases. But packing costs a pass over the data, which
 * for the small and medium products of an MLP (128 x 784 and the like) is 10% of the time, so
 * an operand whose rows or columns are contiguous and whose block is small enough is read in
 * place instead (the kernel takes strides; see `a_in_place` / `b_in_place` in setup()).
 * Edges cost no padded work: a bottom-edge tile runs a kernel copy compiled for its exact row
 * count, a right-edge tile stores through lane masks (AVX-512) or a small buffer, and when n
 * is ragged but m fills the vector lanes, c^T = op(b)^T op(a)^T is computed instead.
 * Micro-kernels exist for AVX-512F, AVX2+FMA and SSE2 (portable C off x86); the best one the
 * CPU supports is picked at run time (GCC target attributes + __builtin_cpu_supports), so the
 * binary is portable without -march=native. Packing buffers are allocated once per call,
 * never in the loops.
 *
 * Layout of the code: this file holds what is shared (helpers, the AVX-512 packing and
 * transposing-store routines for float, the SIMD micro-kernels, each one gemm_ukr_impl.h
 * included with its ISA's intrinsics), then includes gemm_impl.h, the typed half (packing,
 * macro-kernel, plan, entry points), once for float and once for double, and ends with the
 * blocking model and the configuration. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "micrograd.h"
#include "threads.h"
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

/* Element (i, p) of op(a) and (p, j) of op(b), for the reference and the small-product loop. */
#define OP_A(i, p) (trans_a ? a[(p) * lda + (i)] : a[(i) * lda + (p)])
#define OP_B(p, j) (trans_b ? b[(j) * ldb + (p)] : b[(p) * ldb + (j)])
#define SMALL_VECTOR_FMAS 512 /* products up to this many vector multiply-adds: a direct loop */
#define GEN_MR 4                  /* the portable kernel's tile */
#define GEN_NR 8
#define MG_MAYBE_UNUSED __attribute__((unused))

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

/* Bytes in one vector register of micro-kernel isa: AVX-512, AVX2, SSE2 (16 for portable C). */
static int64_t vector_bytes(int isa) { return isa >= 2 ? 64 : isa == 1 ? 32 : 16; }

static int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }
static int64_t min64(int64_t x, int64_t y) { return x < y ? x : y; }
static int64_t max64(int64_t x, int64_t y) { return x > y ? x : y; }

/* Height of row tile t of an mc-row block: MR each and the rest last (packed A comes in
 * MR-tall slivers), or, balanced, the fewest tiles of equal height (50 rows: 5 x 10, not
 * 4 x 12 + 2: a 2-row tile runs at a third of the speed, its few FMA chains wait on latency). */
static int64_t tile_height(int64_t t, int64_t mc, int64_t mr, int balanced)
{
    if (!balanced) return min64(mr, mc - t * mr);
    const int64_t ntiles = (mc + mr - 1) / mr;
    return mc / ntiles + (t < mc % ntiles);
}

static void *alloc_aligned(size_t bytes)
{
    return aligned_alloc(64, (bytes + 63) / 64 * 64);
}

/* Threads: nthreads > 0 wins; otherwise the OpenMP default (OMP_NUM_THREADS). By default,
 * products under 256^3 multiply-adds (~70 us on one core here) stay on one thread: each team
 * has a few barriers, and on a busy machine (other processes on the cores) one barrier can wait
 * a whole scheduler time slice, which turned a 0.4 ms MLP training step into 40 ms when these
 * GEMMs were threaded. An explicit nthreads (MICROGRAD_NUM_THREADS) says the cores are free:
 * then products from 128^3 on are threaded too. Each thread gets at least 128^3 of work.
 * A child process made by fork() gets one thread, always: OpenMP's threads did not come along
 * (fork.c), and one thread never enters a parallel region (see the end of mg_gemm_blocked). */
static int thread_count(int nthreads, int64_t m, int64_t n, int64_t k)
{
#ifdef _OPENMP
    if (mg_forked_child()) return 1;
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

static int in_parallel(void)
{
#ifdef _OPENMP
    return omp_in_parallel();
#else
    return 0;
#endif
}

/* How nt threads share an m x n product, as BLIS splits its loops: ic_ways threads along the
 * rows (they share one packed B panel and each packs its own A block) times jc_ways groups
 * along the columns (each group its own B panel: no sharing, no barrier). The pair makes the
 * threads' blocks of c as square as it can (m / ic_ways close to n / jc_ways, BLIS's
 * bli_thread_partition_2x2), given at least two MR tiles of rows per thread and one NR sliver
 * of columns per group. A tie goes to the row split: sharing B packs it once and keeps one
 * copy in L3 (square products on two cores: 0-4% faster than two column groups). */
static void split_ways(int nt, int64_t m, int64_t n, int64_t mr, int64_t nr, int *ic_ways,
                       int *jc_ways)
{
    double best = -1;
    *ic_ways = 1;
    *jc_ways = nt;
    for (int ic = 1; ic <= nt; ic++) {
        const int jc = nt / ic;
        if (ic * jc != nt || (ic > 1 && m < 2 * ic * mr) || (jc > 1 && n < jc * nr)) continue;
        const double cost = fabs((double)ic * (double)n - (double)jc * (double)m);
        if (best < 0 || cost <= best) {
            best = cost;
            *ic_ways = ic;
            *jc_ways = jc;
        }
    }
    if (best < 0 && m > n) { /* too small to split either way well: split the longer side */
        *ic_ways = nt;
        *jc_ways = 1;
    }
}

/* ---- micro-kernels -------------------------------------------------------------------------
 * ukr(kc, h, a, rsa, csa, b, ldb, c, ldc, alpha, beta, mask): c[h x NR] = alpha * A @ B + beta * c
 * with A(i, p) = a[i * rsa + p * csa] (i < h <= MR) and B(p, j) = b[p * ldb + j] (j < NR).
 * A is a packed MR-tall sliver (rsa = 1, csa = MR) or, when op(a)'s rows or columns are
 * contiguous, op(a) itself read in place (rsa = lda, csa = 1: h row streams; or rsa = 1,
 * csa = lda); each orientation has its own compiled copy, so the unit stride is a constant.
 * B likewise is a packed sliver (ldb = NR) or op(b)'s rows in place (ldb = its row stride).
 * beta == 0 never reads c. Each SIMD kernel keeps h x NV vector accumulators in registers.
 * Exact edges, no padded work: the row count h picks, through a switch, a copy of the kernel
 * body compiled for exactly h rows (the body is inlined with h a constant, so each copy is
 * fully unrolled), so a tile at the bottom edge of c does only its real rows; and on AVX-512,
 * `mask` says which lanes of each row's last vector reach c (masked loads/stores), so a tile
 * at the right edge is written in place. Kernels without masks (AVX2, SSE2, portable) get
 * full-width tiles only: the macro-kernel sends narrower ones through a buffer. Each kernel
 * prefetches its tile of c before the k loop: c's rows are far apart (with KC = 256, a 2048^3
 * product waited on them: 213 -> 231 GFLOP/s on Zen 5). */
#define MAX_TILE 512 /* >= MR * NR of every kernel, in elements */
#define FULL_MASK 0xffffu


#ifdef MG_X86
#define AVX512 __attribute__((target("avx512f")))
#define AVX2 __attribute__((target("avx2,fma")))

/* ---- AVX-512 packing and transposing store for float ---------------------------------------
 * Element (i, p) of op(a) is a[i * rs + p * cs]; one of rs, cs is 1. pack_a writes mc rows x kc
 * columns as MR-tall slivers: sliver s holds rows s*MR.., column-major inside (p*MR + i).
 * pack_b writes kc rows x nc columns as NR-wide slivers, row-major inside (p*NR + j). */
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

/* Stores an h x w tile (row i at tile + i * r, r a multiple of 16) transposed into c: c[j * ldc
 * + i] = alpha * tile(i, j) + beta * c[...]. 16 columns at a time are transposed in registers,
 * then each becomes one masked h-lane store (c's rows are the tile's columns). */
AVX512 static void store_t_f32_avx512(float *c, int64_t ldc, const float *tile, int64_t r, int h,
                                      int64_t w, float alpha, float beta)
{
    const __mmask16 mask = (__mmask16)((1u << h) - 1);
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    /* When c's rows are under 16 floats apart, a masked store's 64-byte range overlaps the
     * next rows, and a load from them issued after that store waits for it (the MLP's 128x10
     * forward: 2.0 -> 1.5 us): then the block's rows are all loaded before any is stored.
     * Otherwise each row is loaded and stored in turn (1 us faster on 128x100x784). */
    const int apart = ldc >= 16;
    for (int64_t j0 = 0; j0 < w; j0 += 16) {
        const int64_t cols = w - j0 < 16 ? w - j0 : 16;
        __m512 v[16];
        for (int i = 0; i < 16; i++)
            v[i] = i < h ? _mm512_load_ps(tile + i * r + j0) : _mm512_setzero_ps();
        transpose16_f32(v);
        for (int64_t j = 0; j < cols; j++) {
            float *cp = c + (j0 + j) * ldc;
            v[j] = _mm512_mul_ps(va, v[j]);
            if (beta != 0) v[j] = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mask, cp), v[j]);
            if (apart) _mm512_mask_storeu_ps(cp, mask, v[j]);
        }
        if (!apart)
            for (int64_t j = 0; j < cols; j++)
                _mm512_mask_storeu_ps(c + (j0 + j) * ldc, mask, v[j]);
    }
}

/* ---- the SIMD micro-kernels: MR x NR tiles, a full-width one and its half-width twin -------- */
/* AVX-512: 12 rows, lane masks for the right edge */
#define TARGET_ISA AVX512
#define MR 12
#define LOADM_PS(p, m) _mm512_maskz_loadu_ps((__mmask16)(m), p)
#define STOREM_PS(p, m, v) _mm512_mask_storeu_ps(p, (__mmask16)(m), v)
#define LOADM_PD(p, m) _mm512_maskz_loadu_pd((__mmask8)(m), p)
#define STOREM_PD(p, m, v) _mm512_mask_storeu_pd(p, (__mmask8)(m), v)

#define T float
#define V __m512
#define W 16
#define LOADU _mm512_loadu_ps
#define STOREU _mm512_storeu_ps
#define LOADM LOADM_PS
#define STOREM STOREM_PS
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define MUL _mm512_mul_ps
#define ZERO _mm512_setzero_ps
#define UKR_NAME ukr_f32_avx512
#include "gemm_ukr_pair.h"

#define T double
#define V __m512d
#define W 8
#define LOADU _mm512_loadu_pd
#define STOREU _mm512_storeu_pd
#define LOADM LOADM_PD
#define STOREM STOREM_PD
#define SET1 _mm512_set1_pd
#define FMA _mm512_fmadd_pd
#define MUL _mm512_mul_pd
#define ZERO _mm512_setzero_pd
#define UKR_NAME ukr_f64_avx512
#include "gemm_ukr_pair.h"
#undef TARGET_ISA
#undef MR

/* AVX2: 6 rows, no masks (the macro-kernel only passes full-width tiles) */
#define TARGET_ISA AVX2
#define MR 6

#define T float
#define V __m256
#define W 8
#define LOADU _mm256_loadu_ps
#define STOREU _mm256_storeu_ps
#define LOADM(p, m) _mm256_loadu_ps(p)
#define STOREM(p, m, v) _mm256_storeu_ps(p, v)
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#define MUL _mm256_mul_ps
#define ZERO _mm256_setzero_ps
#define UKR_NAME ukr_f32_avx2
#include "gemm_ukr_pair.h"

#define T double
#define V __m256d
#define W 4
#define LOADU _mm256_loadu_pd
#define STOREU _mm256_storeu_pd
#define LOADM(p, m) _mm256_loadu_pd(p)
#define STOREM(p, m, v) _mm256_storeu_pd(p, v)
#define SET1 _mm256_set1_pd
#define FMA _mm256_fmadd_pd
#define MUL _mm256_mul_pd
#define ZERO _mm256_setzero_pd
#define UKR_NAME ukr_f64_avx2
#include "gemm_ukr_pair.h"
#undef TARGET_ISA
#undef MR

/* SSE2, the x86-64 baseline: 6 rows; no FMA instruction (a multiply and an add), no masks */
#ifdef __SSE2__
#define TARGET_ISA
#define MR 6

#define T float
#define V __m128
#define W 4
#define LOADU _mm_loadu_ps
#define STOREU _mm_storeu_ps
#define LOADM(p, m) _mm_loadu_ps(p)
#define STOREM(p, m, v) _mm_storeu_ps(p, v)
#define SET1 _mm_set1_ps
#define FMA(x, y, acc) _mm_add_ps(_mm_mul_ps(x, y), acc)
#define MUL _mm_mul_ps
#define ZERO _mm_setzero_ps
#define UKR_NAME ukr_f32_sse2
#include "gemm_ukr_pair.h"

#define T double
#define V __m128d
#define W 2
#define LOADU _mm_loadu_pd
#define STOREU _mm_storeu_pd
#define LOADM(p, m) _mm_loadu_pd(p)
#define STOREM(p, m, v) _mm_storeu_pd(p, v)
#define SET1 _mm_set1_pd
#define FMA(x, y, acc) _mm_add_pd(_mm_mul_pd(x, y), acc)
#define MUL _mm_mul_pd
#define ZERO _mm_setzero_pd
#define UKR_NAME ukr_f64_sse2
#include "gemm_ukr_pair.h"
#undef TARGET_ISA
#undef MR
#endif /* __SSE2__ */
#endif /* MG_X86 */

/* ---- the typed half, once per element type -------------------------------------------------
 * Kernel table entries: {kernel, half kernel, MR, NR, lanes, transposed store}. The cache
 * blocks are not here: mg_gemm_blocking_for derives them from the caches (below). */
#define T float
#define SUFFIX(name) name##_f32
#define CONFIG_BLOCKING(cfg) ((cfg)->f32)
#define KERNEL_AVX512 {ukr_f32_avx512, ukr_f32_avx512_half, 12, 32, 16, store_t_f32_avx512}
#define KERNEL_AVX2 {ukr_f32_avx2, ukr_f32_avx2_half, 6, 16, 0, NULL}
#ifdef __SSE2__
#define KERNEL_SSE2 {ukr_f32_sse2, ukr_f32_sse2_half, 6, 8, 0, NULL}
#endif
#ifdef MG_X86
#define PACK_SLIVER_T pack_sliver_t_f32_avx512
#define PACK_SLIVER_N pack_sliver_n_f32_avx512
#endif
#include "gemm_impl.h"
#undef T
#undef SUFFIX
#undef CONFIG_BLOCKING
#undef KERNEL_AVX512
#undef KERNEL_AVX2
#undef KERNEL_SSE2
#undef PACK_SLIVER_T
#undef PACK_SLIVER_N

#define T double
#define SUFFIX(name) name##_f64
#define CONFIG_BLOCKING(cfg) ((cfg)->f64)
#define KERNEL_AVX512 {ukr_f64_avx512, ukr_f64_avx512_half, 12, 16, 8, NULL}
#define KERNEL_AVX2 {ukr_f64_avx2, ukr_f64_avx2_half, 6, 8, 0, NULL}
#ifdef __SSE2__
#define KERNEL_SSE2 {ukr_f64_sse2, ukr_f64_sse2_half, 6, 4, 0, NULL}
#endif
#include "gemm_impl.h"
#undef T
#undef SUFFIX
#undef CONFIG_BLOCKING
#undef KERNEL_AVX512
#undef KERNEL_AVX2
#undef KERNEL_SSE2

/* ---- the blocking: BLIS's analytical model (Low, Igual, Smith, Quintana-Orti, "Analytical
 * Modeling Is Enough for High-Performance BLIS", ACM TOMS 2016) --------------------------------
 * The loops keep one KC x NR sliver of packed B in L1 while the MR x KC slivers of the packed A
 * block stream through it from L2, and the A block stays in L2 while the B panel streams from
 * L3. With an L1 of W1 ways of N1 sets of C1-byte lines, and S-byte elements:
 *   KC: the deepest KC whose A sliver takes C_A whole ways and whose B sliver takes C_B whole
 *       ways with C_A + C_B <= W1 - 1 (one way free for c's lines: LRU evicts A, never B),
 *       over every split of those ways. The paper fixes the split from the slivers' ratio,
 *       C_A = floor((W1 - 1) / (1 + NR / MR)), KC = C_A N1 C1 / (MR S); where NR is well
 *       above MR (the 12 x 32 AVX-512 tile) on an 8-way L1 that floor leaves A one way and B
 *       three of the seven, KC = 85, and C's tile is reread every 85 steps of k (0.8x
 *       OpenBLAS on a Zen 4); the best split (C_A 2, C_B 5) gives KC = 160. It is never
 *       below the paper's KC and equals it where the ratio splits the ways evenly (BLIS's
 *       Haswell DGEMM: KC 256; 12 x 32 on a 12-way L1: KC 256).
 *   MC: the MC x KC A block fills at most half of L2, MC a multiple of MR (the paper gives it
 *       all but two ways; half, as Goto's rule, leaves room for the B slivers and c passing
 *       through, and for a second hyperthread on the core).
 *   NC: the KC x NC B panel fills at most half of L3 (which other cores share), NC a multiple
 *       of NR; 4096 when the L3 is unknown.
 * Unknown cache fields take the defaults below (an L1 of 32 KiB, 8 ways, 64-byte lines; an L2
 * of 256 KiB: what any x86-64 of the last fifteen years has at least). op(a) is read in place
 * while a block spans at most the L2, op(b) while its KC rows span at most half of it (see
 * setup() in gemm_impl.h). */
#define DEFAULT_L1 (32 * 1024)
#define DEFAULT_L1_WAYS 8
#define DEFAULT_LINE 64
#define DEFAULT_L2 (256 * 1024)
#define DEFAULT_NC 4096

int mg_gemm_blocking_for(mg_gemm_blocking *out, const mg_caches *caches, int isa, int elem_size)
{
    if (out == NULL || caches == NULL || isa < 0 || isa > 2 || (elem_size != 4 && elem_size != 8))
        return -1;
    const int64_t mr = elem_size == 4 ? pick_f32(isa).mr : pick_f64(isa).mr;
    const int64_t nr = elem_size == 4 ? pick_f32(isa).nr : pick_f64(isa).nr;
    const int64_t l1 = caches->l1d.size > 0 ? caches->l1d.size : DEFAULT_L1;
    const int64_t line = caches->l1d.line > 0 ? caches->l1d.line : DEFAULT_LINE;
    int64_t ways = caches->l1d.ways > 0 ? caches->l1d.ways : DEFAULT_L1_WAYS;
    if (ways > l1 / line) ways = l1 / line; /* fully associative: one set */
    const int64_t way_bytes = l1 / ways;     /* N1 * C1 */
    int64_t kc = 0;
    for (int64_t c_a = 1; c_a < ways - 1; c_a++) { /* C_A ways for A, the rest but one for B */
        const int64_t kc_a = c_a * way_bytes / (mr * elem_size);
        const int64_t kc_b = (ways - 1 - c_a) * way_bytes / (nr * elem_size);
        kc = max64(kc, min64(kc_a, kc_b));
    }
    if (kc == 0) kc = way_bytes / (mr * elem_size); /* too few ways: A gets one, B cannot stay */
    kc = max64(8, kc);
    const int64_t l2 = caches->l2.size > 0 ? caches->l2.size : DEFAULT_L2;
    const int64_t mc = max64(mr, l2 / 2 / (kc * elem_size) / mr * mr);
    int64_t nc = DEFAULT_NC / nr * nr;
    if (caches->l3.size > 0) nc = max64(nr, caches->l3.size / 2 / (kc * elem_size) / nr * nr);
    *out = (mg_gemm_blocking){.mr = mr, .nr = nr, .kc = kc, .mc = mc, .nc = nc,
                              .a_span = l2, .b_span = l2 / 2};
    return 0;
}

/* ---- the configuration: the caches this CPU reports and the blocking derived from them -------
 * The C core's one mutable global besides fork.c's flag, and it is written once: when the
 * module is loaded (a constructor, before any kernel can be called and while the loading
 * thread is the only one that can see it), and only read afterwards. */
static mg_gemm_config config;

const mg_gemm_config *mg_gemm_get_config(void) { return &config; }

__attribute__((constructor)) static void init_config(void)
{
    mg_cpu_name(config.cpu, (int64_t)sizeof(config.cpu));
    mg_detect_caches(&config.caches);
    config.isa = mg_gemm_isa();
    for (int isa = 0; isa <= 2; isa++) {
        mg_gemm_blocking_for(&config.f32[isa], &config.caches, isa, 4);
        mg_gemm_blocking_for(&config.f64[isa], &config.caches, isa, 8);
    }
}

const char *mg_gemm_isa_name(int isa)
{
    switch (isa) {
    case 2: return "avx512f";
    case 1: return "avx2+fma";
#if defined(MG_X86) && defined(__SSE2__)
    case 0: return "sse2";
#else
    case 0: return "portable";
#endif
    default: return "";
    }
}
