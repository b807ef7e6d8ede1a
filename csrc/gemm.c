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
 * micro-kernel serves the four transpose cases. But packing costs a pass over the data, which
 * for the small and medium products of an MLP (128 x 784 and the like) is 10% of the time, so
 * an operand whose rows or columns are contiguous and whose block is small enough is read in
 * place instead (the kernel takes strides; see `a_in_place` / `b_in_place` in mg_gemm).
 * Edges cost no padded work: a bottom-edge tile runs a kernel copy compiled for its exact row
 * count, a right-edge tile stores through lane masks (AVX-512) or a small buffer, and when n
 * is ragged but m fills the vector lanes, c^T = op(b)^T op(a)^T is computed instead.
 * Micro-kernels exist for AVX-512F, AVX2+FMA and portable C; the best one the CPU supports is
 * picked at run time (GCC target attributes + __builtin_cpu_supports), so the binary is portable
 * without -march=native. Packing buffers are allocated once per call, never in the loops.
 *
 * Layout of the code: this file holds what is shared (helpers, the AVX-512 packing and
 * transposing-store routines for float, the SIMD micro-kernels, each one gemm_ukr_impl.h
 * included with its ISA's intrinsics), then includes gemm_impl.h, the typed half (packing,
 * macro-kernel, plan, entry points), once for float and once for double. */
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

/* Element (i, p) of op(a) and (p, j) of op(b), for the reference and the small-product loop. */
#define OP_A(i, p) (trans_a ? a[(p) * lda + (i)] : a[(i) * lda + (p)])
#define OP_B(p, j) (trans_b ? b[(j) * ldb + (p)] : b[(p) * ldb + (j)])
#define SMALL_WORK (16 * 16 * 32) /* products up to this many multiply-adds: a direct loop */
#define GEN_MR 4                  /* the portable kernel's tile */
#define GEN_NR 8

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

static int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }
static int64_t min64(int64_t x, int64_t y) { return x < y ? x : y; }

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
 * (fork.c), and one thread never enters a parallel region (see the end of mg_gemm_isa). */
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

static int thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
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
 * at the right edge is written in place. Kernels without masks (AVX2, portable) get full-width
 * tiles only: the macro-kernel sends narrower ones through a buffer. */
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
#define UKR ukr_f32_avx512
#define NV 2
#include "gemm_ukr_impl.h"
#undef UKR
#undef NV
#define UKR ukr_f32_avx512_half
#define NV 1
#include "gemm_ukr_impl.h"
#undef UKR
#undef NV
#undef T
#undef V
#undef W
#undef LOADU
#undef STOREU
#undef LOADM
#undef STOREM
#undef SET1
#undef FMA
#undef MUL
#undef ZERO

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
#define UKR ukr_f64_avx512
#define NV 2
#include "gemm_ukr_impl.h"
#undef UKR
#undef NV
#define UKR ukr_f64_avx512_half
#define NV 1
#include "gemm_ukr_impl.h"
#undef UKR
#undef NV
#undef T
#undef V
#undef W
#undef LOADU
#undef STOREU
#undef LOADM
#undef STOREM
#undef SET1
#undef FMA
#undef MUL
#undef ZERO
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
#define UKR ukr_f32_avx2
#define NV 2
#include "gemm_ukr_impl.h"
#undef UKR
#undef NV
#define UKR ukr_f32_avx2_half
#define NV 1
#include "gemm_ukr_impl.h"
#undef UKR
#undef NV
#undef T
#undef V
#undef W
#undef LOADU
#undef STOREU
#undef LOADM
#undef STOREM
#undef SET1
#undef FMA
#undef MUL
#undef ZERO

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
#define UKR ukr_f64_avx2
#define NV 2
#include "gemm_ukr_impl.h"
#undef UKR
#undef NV
#define UKR ukr_f64_avx2_half
#define NV 1
#include "gemm_ukr_impl.h"
#undef UKR
#undef NV
#undef T
#undef V
#undef W
#undef LOADU
#undef STOREU
#undef LOADM
#undef STOREM
#undef SET1
#undef FMA
#undef MUL
#undef ZERO
#undef TARGET_ISA
#undef MR
#endif /* MG_X86 */

/* ---- the typed half, once per element type -------------------------------------------------
 * Kernel table entries: {kernel, half kernel, MR, NR, lanes, MC, KC, NC, transposed store}. KC
 * is the deepest k panel (k is cut into equal panels): 800 for f32 AVX-512 (k = 784 in one
 * panel: 84 -> 82 us, 1024 and 2048 unchanged within noise), 512 measured best for f64. */
#define T float
#define SUFFIX(name) name##_f32
#define KERNEL_AVX512 {ukr_f32_avx512, ukr_f32_avx512_half, 12, 32, 16, 96, 800, 4096, \
                       store_t_f32_avx512}
#define KERNEL_AVX2 {ukr_f32_avx2, ukr_f32_avx2_half, 6, 16, 0, 144, 384, 4096, NULL}
#ifdef MG_X86
#define PACK_SLIVER_T pack_sliver_t_f32_avx512
#define PACK_SLIVER_N pack_sliver_n_f32_avx512
#endif
#include "gemm_impl.h"
#undef T
#undef SUFFIX
#undef KERNEL_AVX512
#undef KERNEL_AVX2
#undef PACK_SLIVER_T
#undef PACK_SLIVER_N

#define T double
#define SUFFIX(name) name##_f64
#define KERNEL_AVX512 {ukr_f64_avx512, ukr_f64_avx512_half, 12, 16, 8, 96, 512, 4096, NULL}
#define KERNEL_AVX2 {ukr_f64_avx2, ukr_f64_avx2_half, 6, 8, 0, 96, 384, 4096, NULL}
#include "gemm_impl.h"
#undef T
#undef SUFFIX
#undef KERNEL_AVX512
#undef KERNEL_AVX2
