/* gemm_ukr_impl.h: one SIMD micro-kernel of gemm.c (see its micro-kernel comment), included
 * once per (ISA, element type, width). The includer defines
 *   UKR          the kernel's name (UKR_rows and UKR_by_height are its inlined helpers),
 *   TARGET_ISA   its target attribute, T its element type, V its vector type, W the lanes of V,
 *   MR           its tile height (rows of c), NV its tile width in vectors (NR = NV * W),
 *   LOADU, STOREU, SET1, FMA, MUL, ZERO   the intrinsics on V, and
 *   LOADM(p, mask), STOREM(p, mask, v)    masked access to the lanes in mask (or whole
 *                                          vectors, for an ISA without masks). */
#define MG_PASTE_(a, b) a##b
#define MG_PASTE(a, b) MG_PASTE_(a, b)
#define UKR_ROWS MG_PASTE(UKR, _rows)
#define UKR_BY_HEIGHT MG_PASTE(UKR, _by_height)

/* c[h x NR] = alpha * A @ B + beta * c for a constant h: inlined into each case below, so the
 * loops over the h rows and NV vectors unroll completely and acc stays in registers. */
TARGET_ISA static inline __attribute__((always_inline)) void
UKR_ROWS(const int h, int64_t kc, const T *restrict a, int64_t rsa, int64_t csa,
         const T *restrict b, int64_t ldb, T *restrict c, int64_t ldc, T alpha, T beta,
         unsigned mask)
{
    V acc[MR][NV];
#pragma GCC unroll 16
    for (int i = 0; i < h; i++) {
        /* c's rows are far apart: ask for them now, so they arrive during the k loop (a
         * prefetch never faults; both lines of the row's NV * W elements) */
        __builtin_prefetch(c + i * ldc, 1, 3);
        __builtin_prefetch(c + i * ldc + NV * W - 1, 1, 3);
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) acc[i][v] = ZERO();
    }
    for (int64_t p = 0; p < kc; p++) {
        V bv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) bv[v] = LOADU(b + v * W);
#pragma GCC unroll 16
        for (int i = 0; i < h; i++) {
            const V ai = SET1(a[i * rsa]);
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++) acc[i][v] = FMA(ai, bv[v], acc[i][v]);
        }
        a += csa;
        b += ldb;
    }
    const V va = SET1(alpha), vb = SET1(beta);
#pragma GCC unroll 16
    for (int i = 0; i < h; i++) {
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) {
            T *cp = c + i * ldc + v * W;
            const V r = MUL(va, acc[i][v]);
            if (v < NV - 1 || mask == FULL_MASK)
                STOREU(cp, beta == 0 ? r : FMA(vb, LOADU(cp), r));
            else
                STOREM(cp, mask, beta == 0 ? r : FMA(vb, LOADM(cp, mask), r));
        }
    }
}

/* The row count h picks a copy of UKR_ROWS compiled for exactly h rows. */
TARGET_ISA static inline __attribute__((always_inline)) void
UKR_BY_HEIGHT(int h, int64_t kc, const T *a, int64_t rsa, int64_t csa, const T *b,
              int64_t ldb, T *c, int64_t ldc, T alpha, T beta, unsigned mask)
{
    switch (h) {
    case 1: UKR_ROWS(1, kc, a, rsa, csa, b, ldb, c, ldc, alpha, beta, mask); break;
    case 2: UKR_ROWS(2, kc, a, rsa, csa, b, ldb, c, ldc, alpha, beta, mask); break;
    case 3: UKR_ROWS(3, kc, a, rsa, csa, b, ldb, c, ldc, alpha, beta, mask); break;
    case 4: UKR_ROWS(4, kc, a, rsa, csa, b, ldb, c, ldc, alpha, beta, mask); break;
    case 5: UKR_ROWS(5, kc, a, rsa, csa, b, ldb, c, ldc, alpha, beta, mask); break;
    case 6: UKR_ROWS(6, kc, a, rsa, csa, b, ldb, c, ldc, alpha, beta, mask); break;
#if MR > 6
    case 7: UKR_ROWS(7, kc, a, rsa, csa, b, ldb, c, ldc, alpha, beta, mask); break;
    case 8: UKR_ROWS(8, kc, a, rsa, csa, b, ldb, c, ldc, alpha, beta, mask); break;
    case 9: UKR_ROWS(9, kc, a, rsa, csa, b, ldb, c, ldc, alpha, beta, mask); break;
    case 10: UKR_ROWS(10, kc, a, rsa, csa, b, ldb, c, ldc, alpha, beta, mask); break;
    case 11: UKR_ROWS(11, kc, a, rsa, csa, b, ldb, c, ldc, alpha, beta, mask); break;
    case 12: UKR_ROWS(12, kc, a, rsa, csa, b, ldb, c, ldc, alpha, beta, mask); break;
#endif
    default: break;
    }
}

/* The micro-kernel: A's rows (rsa) or columns (csa) are contiguous, and each orientation gets
 * its own compiled copy so the unit stride is a constant. */
TARGET_ISA static void UKR(int64_t kc, int h, const T *a, int64_t rsa, int64_t csa,
                           const T *b, int64_t ldb, T *c, int64_t ldc, T alpha, T beta,
                           unsigned mask)
{
    if (rsa == 1) /* columns of A contiguous (packed, or a transposed a in place) */
        UKR_BY_HEIGHT(h, kc, a, 1, csa, b, ldb, c, ldc, alpha, beta, mask);
    else /* rows of A contiguous: h row streams, addressed as a + i * rsa */
        UKR_BY_HEIGHT(h, kc, a, rsa, 1, b, ldb, c, ldc, alpha, beta, mask);
}

#undef UKR_ROWS
#undef UKR_BY_HEIGHT
#undef MG_PASTE
#undef MG_PASTE_
