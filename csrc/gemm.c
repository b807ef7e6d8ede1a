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

/* case lists for the row-count switch: ROWS_n(F, ...) expands to cases h = 1..n of F(h, ...) */
#define ROW_CASE(h, F, ...) case h: F(h, __VA_ARGS__); break;
#define ROWS_4(F, ...) ROW_CASE(1, F, __VA_ARGS__) ROW_CASE(2, F, __VA_ARGS__)                  \
                       ROW_CASE(3, F, __VA_ARGS__) ROW_CASE(4, F, __VA_ARGS__)
#define ROWS_6(F, ...) ROWS_4(F, __VA_ARGS__) ROW_CASE(5, F, __VA_ARGS__)                      \
                       ROW_CASE(6, F, __VA_ARGS__)
#define ROWS_12(F, ...) ROWS_6(F, __VA_ARGS__) ROW_CASE(7, F, __VA_ARGS__)                      \
    ROW_CASE(8, F, __VA_ARGS__) ROW_CASE(9, F, __VA_ARGS__) ROW_CASE(10, F, __VA_ARGS__)        \
    ROW_CASE(11, F, __VA_ARGS__) ROW_CASE(12, F, __VA_ARGS__)

/* LOADM(p, mask) / STOREM(p, mask, v): masked access to the lanes of mask (AVX-512), or whole
 * vectors (AVX2, whose macro-kernel never passes a partial mask). */
#define DEFINE_SIMD_UKR(NAME, TARGET, T, V, W, MR, NV, LOAD, LOADU, STOREU, LOADM, STOREM,      \
                        SET1, FMA, MUL, ZERO)                                                   \
TARGET static inline __attribute__((always_inline)) void                                        \
NAME##_rows(const int h, int64_t kc, const T *restrict a, int64_t rsa, int64_t csa,             \
            const T *restrict b, int64_t ldb, T *restrict c, int64_t ldc, T alpha, T beta,      \
            unsigned mask)                                                                      \
{                                                                                               \
    V acc[MR][NV];                                                                              \
    _Pragma("GCC unroll 16") for (int i = 0; i < h; i++)                                        \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) acc[i][v] = ZERO();                \
    for (int64_t p = 0; p < kc; p++) {                                                          \
        V bv[NV];                                                                               \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) bv[v] = LOADU(b + v * W);          \
        _Pragma("GCC unroll 16") for (int i = 0; i < h; i++) {                                  \
            const V ai = SET1(a[i * rsa]);                                                      \
            _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++)                                \
                acc[i][v] = FMA(ai, bv[v], acc[i][v]);                                          \
        }                                                                                       \
        a += csa;                                                                               \
        b += ldb;                                                                               \
    }                                                                                           \
    const V va = SET1(alpha), vb = SET1(beta);                                                  \
    _Pragma("GCC unroll 16") for (int i = 0; i < h; i++)                                        \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) {                                  \
            T *cp = c + i * ldc + v * W;                                                        \
            const V r = MUL(va, acc[i][v]);                                                     \
            if (v < NV - 1 || mask == FULL_MASK)                                                \
                STOREU(cp, beta == 0 ? r : FMA(vb, LOADU(cp), r));                              \
            else                                                                                \
                STOREM(cp, mask, beta == 0 ? r : FMA(vb, LOADM(cp, mask), r));                  \
        }                                                                                       \
}                                                                                               \
TARGET static void NAME(int64_t kc, int h, const T *a, int64_t rsa, int64_t csa, const T *b,   \
                        int64_t ldb, T *c, int64_t ldc, T alpha, T beta, unsigned mask)         \
{                                                                                               \
    if (rsa == 1) /* columns of A contiguous (packed, or a transposed a in place) */            \
        switch (h) { ROWS_##MR(NAME##_rows, kc, a, 1, csa, b, ldb, c, ldc, alpha, beta, mask) } \
    else /* rows of A contiguous: h row streams, addressed as a + i * rsa */                   \
        switch (h) { ROWS_##MR(NAME##_rows, kc, a, rsa, 1, b, ldb, c, ldc, alpha, beta, mask) } \
}

#ifdef MG_X86
#define AVX512 __attribute__((target("avx512f")))
#define AVX2 __attribute__((target("avx2,fma")))
#define LOADM_PS(p, m) _mm512_maskz_loadu_ps((__mmask16)(m), p)
#define STOREM_PS(p, m, v) _mm512_mask_storeu_ps(p, (__mmask16)(m), v)
#define LOADM_PD(p, m) _mm512_maskz_loadu_pd((__mmask8)(m), p)
#define STOREM_PD(p, m, v) _mm512_mask_storeu_pd(p, (__mmask8)(m), v)
#define DEFINE_AVX512_UKR(NAME, NV, T, V, W, SFX, M)                                            \
    DEFINE_SIMD_UKR(NAME, AVX512, T, V, W, 12, NV, _mm512_load_##SFX, _mm512_loadu_##SFX,       \
                    _mm512_storeu_##SFX, LOADM_##M, STOREM_##M, _mm512_set1_##SFX,              \
                    _mm512_fmadd_##SFX, _mm512_mul_##SFX, _mm512_setzero_##SFX)
#define DEFINE_AVX2_UKR(NAME, NV, T, V, W, SFX)                                                 \
    DEFINE_SIMD_UKR(NAME, AVX2, T, V, W, 6, NV, _mm256_load_##SFX, _mm256_loadu_##SFX,          \
                    _mm256_storeu_##SFX, NOMASK_LOADM_##SFX, NOMASK_STOREM_##SFX,               \
                    _mm256_set1_##SFX, _mm256_fmadd_##SFX, _mm256_mul_##SFX,                    \
                    _mm256_setzero_##SFX)
#define NOMASK_LOADM_ps(p, m) _mm256_loadu_ps(p)
#define NOMASK_STOREM_ps(p, m, v) _mm256_storeu_ps(p, v)
#define NOMASK_LOADM_pd(p, m) _mm256_loadu_pd(p)
#define NOMASK_STOREM_pd(p, m, v) _mm256_storeu_pd(p, v)
DEFINE_AVX512_UKR(ukr_f32_avx512, 2, float, __m512, 16, ps, PS)
DEFINE_AVX512_UKR(ukr_f32_avx512_half, 1, float, __m512, 16, ps, PS)
DEFINE_AVX512_UKR(ukr_f64_avx512, 2, double, __m512d, 8, pd, PD)
DEFINE_AVX512_UKR(ukr_f64_avx512_half, 1, double, __m512d, 8, pd, PD)
DEFINE_AVX2_UKR(ukr_f32_avx2, 2, float, __m256, 8, ps)
DEFINE_AVX2_UKR(ukr_f32_avx2_half, 1, float, __m256, 8, ps)
DEFINE_AVX2_UKR(ukr_f64_avx2, 2, double, __m256d, 4, pd)
DEFINE_AVX2_UKR(ukr_f64_avx2_half, 1, double, __m256d, 4, pd)
#endif

/* Portable kernel: plain C the compiler can vectorise with whatever the baseline ISA has. */
#define GEN_MR 4
#define GEN_NR 8
#define DEFINE_GENERIC_UKR(T, S)                                                              \
static void ukr_##S##_generic(int64_t kc, int h, const T *restrict a, int64_t rsa,            \
                              int64_t csa, const T *restrict b, int64_t ldb, T *restrict c,   \
                              int64_t ldc,                                                    \
                              T alpha, T beta, unsigned mask)                                 \
{                                                                                             \
    T acc[GEN_MR][GEN_NR] = {{0}};                                                            \
    (void)mask;                                                                               \
    for (int64_t p = 0; p < kc; p++, a += csa, b += ldb)                                      \
        for (int i = 0; i < h; i++)                                                           \
            for (int j = 0; j < GEN_NR; j++) acc[i][j] += a[i * rsa] * b[j];                  \
    for (int i = 0; i < h; i++)                                                               \
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

/* A micro-kernel, its half-width twin (MR x NR/2, for the last sliver of a narrow n, or NULL),
 * its vector width when it takes lane masks (0: it does not), and the cache block sizes that
 * suit them (MC % MR == 0, NC % NR == 0). */
#define DEFINE_KERNEL_TABLE(T, S)                                                             \
typedef void (*ukr_##S##_fn)(int64_t, int, const T *, int64_t, int64_t, const T *, int64_t,   \
                             T *, int64_t, T, T, unsigned);                                   \
typedef void (*store_t_##S##_fn)(T *, int64_t, const T *, int64_t, int, int64_t, T, T);        \
typedef struct {                                                                              \
    ukr_##S##_fn ukr, half;                                                                   \
    int64_t mr, nr, lanes, mc, kc, nc;                                                        \
    store_t_##S##_fn store_t;                                                                 \
} kernel_##S;                                                                                 \
static kernel_##S pick_##S(int isa)                                                           \
{                                                                                             \
    kernel_##S kern = {ukr_##S##_generic, 0, GEN_MR, GEN_NR, 0, 128, 256, 2048, 0};           \
    (void)isa;                                                                                \
    KERNEL_CHOICES_##S                                                                        \
    return kern;                                                                              \
}
#ifdef MG_X86
AVX512 static void store_t_f32_avx512(float *c, int64_t ldc, const float *tile, int64_t r, int h,
                                      int64_t w, float alpha, float beta);
/* {kernel, half kernel, MR, NR, lanes, MC, KC, NC, transposed store}. KC is the deepest k
 * panel (k is cut into equal panels): 800 for f32 AVX-512 (k = 784 in one panel: 84 -> 82 us,
 * 1024 and 2048 unchanged within noise), 512 measured best for f64 */
#define KERNEL_CHOICES_f32                                                                    \
    if (isa >= 2)                                                                             \
        kern = (kernel_f32){ukr_f32_avx512, ukr_f32_avx512_half, 12, 32, 16, 96, 800, 4096,   \
                           store_t_f32_avx512};                                             \
    else if (isa == 1)                                                                        \
        kern = (kernel_f32){ukr_f32_avx2, ukr_f32_avx2_half, 6, 16, 0, 144, 384, 4096, 0};
#define KERNEL_CHOICES_f64                                                                    \
    if (isa >= 2)                                                                             \
        kern = (kernel_f64){ukr_f64_avx512, ukr_f64_avx512_half, 12, 16, 8, 96, 512, 4096, 0};\
    else if (isa == 1)                                                                        \
        kern = (kernel_f64){ukr_f64_avx2, ukr_f64_avx2_half, 6, 8, 0, 96, 384, 4096, 0};
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
/* A(i, p) = a[i * rsa + p * csa]: in place, row tile ir starts at a + ir * ars (ars = rsa);   \
 * packed (ars = 0; rsa = 1, csa = MR), MR-tall slivers kc * MR apart, so tile ir at a + ir * kc. \
 * C(i, j) = c[i * rsc + j * csc]. */                                                         \
static void macro_##S(const kernel_##S *kn, int64_t mc, int64_t kc, int64_t nc, int64_t j0,  \
                      int64_t j1, const T *a, int64_t ars, int64_t rsa, int64_t csa,          \
                      const T *b, int64_t ldb, T *c, int64_t rsc, int64_t csc, T alpha,       \
                      T beta)                                                                 \
{                                                                                             \
    const int64_t mr = kn->mr, nr = kn->nr;                                                   \
    T tile[MAX_TILE] __attribute__((aligned(64)));                                            \
    const int64_t astep = ars ? ars : kc;                                                     \
    for (int64_t jr = j0; jr < j1; jr += nr) {                                                \
        const int64_t w = min64(nr, nc - jr), r = sliver_width_##S(kn, w);                    \
        const ukr_##S##_fn ukr = r == nr ? kn->ukr : kn->half;                                \
        /* B: packed slivers (ldb = 0: sliver jr at b + jr * kc, rows r apart) or in place */  \
        const T *bs = ldb ? b + jr : b + jr * kc;                                             \
        const int64_t bstep = ldb ? ldb : r;                                                  \
        /* lanes of the last vector that are inside c (r - w < lanes, by sliver_width) */     \
        const unsigned mask = w == r || !kn->lanes ? FULL_MASK                                \
                                                   : (1u << (kn->lanes - (r - w))) - 1;       \
        for (int64_t ir = 0, t = 0, h = 0; ir < mc; ir += h, t++) {                           \
            h = tile_height(t, mc, mr, ars != 0); /* A in place: any heights will do */       \
            T *ct = c + ir * rsc + jr * csc;                                                  \
            if (csc == 1 && (w == r || kn->lanes)) {                                          \
                ukr(kc, h, a + ir * astep, rsa, csa, bs, bstep, ct, rsc, alpha, beta, mask);  \
                continue;                                                                     \
            }                                                                                 \
            ukr(kc, h, a + ir * astep, rsa, csa, bs, bstep, tile, r, 1, 0, FULL_MASK);        \
            if (csc != 1 && kn->store_t) { /* c is stored transposed: see mg_gemm */          \
                kn->store_t(ct, csc, tile, r, h, w, alpha, beta);                             \
                continue;                                                                     \
            }                                                                                 \
            for (int64_t i = 0; i < h; i++)                                                   \
                for (int64_t j = 0; j < w; j++)                                               \
                    ct[i * rsc + j * csc] = alpha * tile[i * r + j]                           \
                                      + (beta == 0 ? (T)0 : beta * ct[i * rsc + j * csc]);    \
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
    int64_t m, n, k, rsa, csa, rsb, csb, rsc, csc, mc, kcmax, nblk, nsplit, rows, bpr;        \
    T alpha, beta;                                                                            \
    int isa, a_in_place, b_in_place; /* read op(a) / op(b) where they are, unpacked */        \
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
        for (int64_t pc = 0; pc < pl->k; pc += pl->kcmax, panel++) {                          \
            const int64_t kc = min64(pl->kcmax, pl->k - pc);                                  \
            const T beta = pc == 0 ? pl->beta : (T)1;                                         \
            T *bbuf = pl->bbuf[panel % 2];                                                    \
            const T *b = bbuf; /* the packed panel, or op(b) itself (ldb = its row stride) */ \
            int64_t ldb = 0;                                                                  \
            if (pl->b_in_place) {                                                             \
                b = pl->b + pc * pl->rsb + jc;                                                \
                ldb = pl->rsb;                                                                \
            } else {                                                                          \
                OMP("omp for schedule(static)")                                               \
                for (int64_t s = 0; s < nsl; s++) {                                           \
                    const int64_t w = min64(kn->nr, nc - s * kn->nr);                         \
                    pack_##S(bbuf + s * kn->nr * kc,                                          \
                             pl->b + pc * pl->rsb + (jc + s * kn->nr) * pl->csb,              \
                             w, kc, pl->csb, pl->rsb, sliver_width_##S(kn, w), pl->isa);      \
                }                                                                             \
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
                const T *a = pl->a + ic * pl->rsa + pc * pl->csa;                             \
                T *c = pl->c + ic * pl->rsc + jc * pl->csc;                                   \
                if (pl->a_in_place) {                                                         \
                    macro_##S(kn, h, kc, nc, j0, j1, a, pl->rsa, pl->rsa, pl->csa, b, ldb,    \
                              c, pl->rsc, pl->csc, pl->alpha, beta);                          \
                    continue;                                                                 \
                }                                                                             \
                pack_##S(ap, a, h, kc, pl->rsa, pl->csa, kn->mr, pl->isa);                    \
                macro_##S(kn, h, kc, nc, j0, j1, ap, 0, 1, kn->mr, b, ldb,                    \
                          c, pl->rsc, pl->csc, pl->alpha, beta);                              \
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
                   .rsb = trans_b ? 1 : ldb, .csb = trans_b ? ldb : 1, .rsc = ldc, .csc = 1,  \
                   .alpha = alpha, .beta = beta, .isa = isa};                                 \
    /* The kernel's vectors run along n: an n that is not a multiple of the vector width     */\
    /* wastes lanes on every row (n = 100 computes 112 columns). When m fills the lanes      */\
    /* better, compute c^T = op(b)^T op(a)^T instead (swap the operands, transpose c's       */\
    /* strides); the kernel's tiles then reach c through an in-register transposing store   */\
    /* (worth its cost per tile from k = 32 on: dx of the MLP's last layer, k = 10, is not). */\
    const int64_t lanes = pl.kn.lanes;                                                        \
    if (pl.kn.store_t && k >= 32 && n * round_up(m, lanes) < m * round_up(n, lanes)) {       \
        pl.m = n; pl.n = m; pl.a = b; pl.b = a;                                               \
        pl.rsa = trans_b ? ldb : 1; pl.csa = trans_b ? 1 : ldb;                               \
        pl.rsb = trans_a ? lda : 1; pl.csb = trans_a ? 1 : lda;                               \
        pl.rsc = 1; pl.csc = ldc;                                                             \
    }                                                                                         \
    const int nt = thread_count(nthreads, m, n, k);                                           \
    /* work split: with enough rows, each thread gets one contiguous range of ~m/nt rows     */\
    /* cut into bpr equal blocks of at most MC rows, so the static schedule balances them;   */\
    /* with few rows, one range, and the threads split the B slivers instead. The ranges    */\
    /* are not rounded to MR: an edge tile does only its real rows, and m = 100 splits       */\
    /* 50/50 rather than 60/40 (the MLP's first layer on two threads: 53 -> 47 us)            */\
    const int rows_split = nt > 1 && pl.m >= 2 * nt * pl.kn.mr;                               \
    pl.rows = rows_split ? (pl.m + nt - 1) / nt : pl.m;                                       \
    pl.bpr = (pl.rows + pl.kn.mc - 1) / pl.kn.mc;                                             \
    pl.mc = round_up((pl.rows + pl.bpr - 1) / pl.bpr, pl.kn.mr);                              \
    pl.nblk = (rows_split ? nt : 1) * pl.bpr;                                                 \
    pl.nsplit = rows_split ? 1 : nt;                                                          \
    /* k is cut into equal panels of at most KC: 784 runs as one panel, not 512 + 272 (a   */\
    /* second pass over c, with its loads and stores, costs more than a deeper B sliver)    */\
    const int64_t npanels = (k + pl.kn.kc - 1) / pl.kn.kc;                                    \
    pl.kcmax = (k + npanels - 1) / npanels;                                                   \
    /* op(a) is read in place, unpacked, when its rows or its columns are contiguous and a  */\
    /* block spans at most 1 MB (half of L2) across them: the kernel streams h rows (or one  */\
    /* column at a time) of a straight from memory as fast as from a packed sliver, and the  */\
    /* pack (a transposing copy for row-major a: 5 us of the MLP's 90 us first layer) goes. */\
    /* Past that span a packed block is kinder to the TLB and L2 (transposed a, n = 1024).  */\
    const double span = pl.rsa == 1 ? (double)pl.kcmax * pl.csa : (double)pl.mc * pl.rsa;    \
    pl.a_in_place = (pl.rsa == 1 || pl.csa == 1) && span * sizeof(T) <= (1 << 20);           \
    /* op(b) with contiguous rows is read in place too while its kc rows span <= 512 KB     */\
    /* (the MLP's first-layer dW, 128 x 784: no 5 us pack), when every sliver is full width */\
    /* (a narrow last one would read past the end of its rows).                            */\
    const int64_t last = pl.n % pl.kn.nr;                                                     \
    pl.b_in_place = pl.csb == 1 && (double)pl.kcmax * pl.rsb * sizeof(T) <= (1 << 19)          \
                    && (last == 0 || (pl.kn.half && last == pl.kn.nr / 2));                   \
    const int64_t ncmax = min64(pl.kn.nc, round_up(pl.n, pl.kn.nr));                          \
    const int panels2 = nt > 1 && (k > pl.kcmax || pl.n > pl.kn.nc); /* double-buffer B? */     \
    const size_t bsize = (sizeof(T) * (size_t)(pl.kcmax * ncmax) + 63) / 64 * 64; /* aligned */ \
    pl.bbuf[0] = alloc_aligned(pl.b_in_place ? 64 : bsize * (panels2 ? 2 : 1));               \
    pl.bbuf[1] = pl.bbuf[0] == NULL ? NULL : pl.bbuf[0] + (panels2 ? bsize / sizeof(T) : 0);  \
    pl.abuf = alloc_aligned(sizeof(T) * (size_t)(pl.a_in_place ? 1 : nt * pl.mc * pl.kcmax)); \
    if (!pl.bbuf[0] || !pl.abuf) { /* out of memory: the slow path still gives the answer */  \
        free(pl.bbuf[0]); free(pl.abuf);                                                      \
        mg_gemm_naive_##S(c, a, b, m, n, k, trans_a, trans_b, alpha, beta, lda, ldb, ldc);    \
        return;                                                                               \
    }                                                                                         \
    /* run_plan's worksharing loops bind to the innermost enclosing team: called from inside \
     * a caller's parallel region, a team of our own (of one thread, if nesting is off) keeps \
     * them from being split across the caller's threads. */                                 \
    if (nt > 1 || in_parallel()) {                                                            \
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
