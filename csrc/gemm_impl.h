/* gemm_impl.h: the typed half of gemm.c, included once per element type. The includer
 * defines T, SUFFIX(name), the kernel table entries KERNEL_AVX512, KERNEL_AVX2 and
 * KERNEL_SSE2 (x86 only) and, when it has AVX-512 packing routines for T, PACK_SLIVER_T /
 * PACK_SLIVER_N.
 * Shared helpers (tile_height, thread_count, the micro-kernels, ...) come from gemm.c. */

/* ---- the reference: textbook triple loop ---------------------------------------------------- */
void SUFFIX(mg_gemm_naive)(T *c, const T *a, const T *b, int64_t m, int64_t n, int64_t k,
                       int trans_a, int trans_b, T alpha, T beta,
                       int64_t lda, int64_t ldb, int64_t ldc)
{
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = 0; j < n; j++) {
            T acc = 0;
            for (int64_t p = 0; p < k; p++) acc += OP_A(i, p) * OP_B(p, j);
            c[i * ldc + j] = alpha * acc + (beta == 0 ? (T)0 : beta * c[i * ldc + j]);
        }
    }
}

/* ---- portable micro-kernel: plain C the compiler vectorises with the baseline ISA -----------
 * The baseline kernel where there is no SSE2 kernel (not x86); compiled everywhere, so it
 * keeps compiling. */
static MG_MAYBE_UNUSED void SUFFIX(ukr_generic)(int64_t kc, int h, const T *restrict a, int64_t rsa,
                              int64_t csa, const T *restrict b, int64_t ldb, T *restrict c,
                              int64_t ldc,
                              T alpha, T beta, unsigned mask)
{
    T acc[GEN_MR][GEN_NR] = {{0}};
    (void)mask;
    for (int64_t p = 0; p < kc; p++, a += csa, b += ldb)
        for (int i = 0; i < h; i++)
            for (int j = 0; j < GEN_NR; j++) acc[i][j] += a[i * rsa] * b[j];
    for (int i = 0; i < h; i++)
        for (int j = 0; j < GEN_NR; j++)
            c[i * ldc + j] = alpha * acc[i][j] + (beta == 0 ? (T)0 : beta * c[i * ldc + j]);
}

/* ---- kernel choice -------------------------------------------------------------------------
 * A micro-kernel, its half-width twin (MR x NR/2, for the last sliver of a narrow n, or NULL),
 * its tile MR x NR, its vector width when it takes lane masks (0: it does not), and its
 * transposing store (or NULL). The cache blocks come from the caches (mg_gemm_blocking_for). */
typedef void (*SUFFIX(ukr_fn))(int64_t, int, const T *, int64_t, int64_t, const T *, int64_t,
                             T *, int64_t, T, T, unsigned);
typedef void (*SUFFIX(store_t_fn))(T *, int64_t, const T *, int64_t, int, int64_t, T, T);
typedef struct {
    SUFFIX(ukr_fn) ukr, half;
    int64_t mr, nr, lanes;
    SUFFIX(store_t_fn) store_t;
} SUFFIX(kernel);
/* isa 2 AVX-512F, 1 AVX2+FMA, 0 the baseline: SSE2 on x86-64, portable C elsewhere. */
static SUFFIX(kernel) SUFFIX(pick)(int isa)
{
#ifdef MG_X86
    if (isa >= 2) return (SUFFIX(kernel))KERNEL_AVX512;
    if (isa == 1) return (SUFFIX(kernel))KERNEL_AVX2;
#ifdef KERNEL_SSE2
    return (SUFFIX(kernel))KERNEL_SSE2;
#endif
#endif
    (void)isa;
    return (SUFFIX(kernel)){SUFFIX(ukr_generic), NULL, GEN_MR, GEN_NR, 0, NULL};
}

/* ---- packing -------------------------------------------------------------------------------
 * pack(dst, src, rows, cols, rs, cs, r): element (i, p) of the panel is src[i * rs + p * cs]
 * (one of rs, cs is 1). Writes r-tall slivers, each column-major inside: dst[s][p][i], rows
 * past the end padded with zeros. For op(a): rows = m-range, cols = k-range, r = MR. For op(b)
 * it packs the transpose: rows = n-range, cols = k-range, r = NR, so dst[p][j] is row-major. */
static void SUFFIX(pack)(T *restrict dst, const T *restrict src, int64_t rows, int64_t cols,
                     int64_t rs, int64_t cs, int64_t r, int isa)
{
    (void)isa;
    for (int64_t s = 0; s < rows; s += r, dst += r * cols) {
        const int64_t h = rows - s < r ? rows - s : r;
        const T *blk = src + s * rs;
        if (cs == 1 && rs != 1) {
#ifdef PACK_SLIVER_T
            if (isa >= 2 && r <= 32) { PACK_SLIVER_T(dst, blk, h, cols, rs, r); continue; }
#endif
            for (int64_t i = 0; i < h; i++)
                for (int64_t p = 0; p < cols; p++) dst[p * r + i] = blk[i * rs + p];
        } else {
#ifdef PACK_SLIVER_N
            if (rs == 1 && isa >= 2 && r <= 32) { PACK_SLIVER_N(dst, blk, h, cols, cs, r); continue; }
#endif
            for (int64_t p = 0; p < cols; p++)
                for (int64_t i = 0; i < h; i++) dst[p * r + i] = blk[i * rs + p * cs];
        }
        if (h < r)
            for (int64_t p = 0; p < cols; p++)
                for (int64_t i = h; i < r; i++) dst[p * r + i] = 0;
    }
}

/* c = beta * c, for k == 0 or alpha == 0 (no product to add); beta == 0 writes zeros. */
static void SUFFIX(scale)(T *c, int64_t m, int64_t n, int64_t ldc, T beta)
{
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) c[i * ldc + j] = beta == 0 ? (T)0 : beta * c[i * ldc + j];
}

/* ---- the macro-kernel over one (mc, kc) block of A and the slivers [j0, j1) of B -----------
 * Sliver width: the last sliver of B is packed half-wide when the half kernel covers it. */
static int64_t SUFFIX(sliver_width)(const SUFFIX(kernel) *kn, int64_t w)
{
    return kn->half && w <= kn->nr / 2 ? kn->nr / 2 : kn->nr;
}
/* A(i, p) = a[i * rsa + p * csa]: in place, row tile ir starts at a + ir * ars (ars = rsa);
 * packed (ars = 0; rsa = 1, csa = MR), MR-tall slivers kc * MR apart, so tile ir at a + ir * kc.
 * C(i, j) = c[i * rsc + j * csc]. */
static void SUFFIX(macro)(const SUFFIX(kernel) *kn, int64_t mc, int64_t kc, int64_t nc, int64_t j0,
                      int64_t j1, const T *a, int64_t ars, int64_t rsa, int64_t csa,
                      const T *b, int64_t ldb, T *c, int64_t rsc, int64_t csc, T alpha,
                      T beta)
{
    const int64_t mr = kn->mr, nr = kn->nr;
    T tile[MAX_TILE] __attribute__((aligned(64)));
    const int64_t astep = ars ? ars : kc;
    for (int64_t jr = j0; jr < j1; jr += nr) {
        const int64_t w = min64(nr, nc - jr), r = SUFFIX(sliver_width)(kn, w);
        const SUFFIX(ukr_fn) ukr = r == nr ? kn->ukr : kn->half;
        /* B: packed slivers (ldb = 0: sliver jr at b + jr * kc, rows r apart) or in place */
        const T *bs = ldb ? b + jr : b + jr * kc;
        const int64_t bstep = ldb ? ldb : r;
        /* lanes of the last vector that are inside c (r - w < lanes, by sliver_width) */
        const unsigned mask = w == r || !kn->lanes ? FULL_MASK
                                                   : (1u << (kn->lanes - (r - w))) - 1;
        for (int64_t ir = 0, t = 0, h = 0; ir < mc; ir += h, t++) {
            h = tile_height(t, mc, mr, ars != 0); /* A in place: any heights will do */
            T *ct = c + ir * rsc + jr * csc;
            if (csc == 1 && (w == r || kn->lanes)) {
                ukr(kc, h, a + ir * astep, rsa, csa, bs, bstep, ct, rsc, alpha, beta, mask);
                continue;
            }
            ukr(kc, h, a + ir * astep, rsa, csa, bs, bstep, tile, r, 1, 0, FULL_MASK);
            if (csc != 1 && kn->store_t) { /* c is stored transposed: see mg_gemm */
                kn->store_t(ct, csc, tile, r, h, w, alpha, beta);
                continue;
            }
            for (int64_t i = 0; i < h; i++)
                for (int64_t j = 0; j < w; j++)
                    ct[i * rsc + j * csc] = alpha * tile[i * r + j]
                                      + (beta == 0 ? (T)0 : beta * ct[i * rsc + j * csc]);
        }
    }
}

/* Small products: packing and blocking cost more than they save, so loop directly (i-k-j when
 * rows of op(b) are contiguous, dot products when op(b) is transposed). c never overlaps a or b
 * (restrict): without that promise every short inner loop first checks for overlap at run
 * time, which for a 2-wide row costs more than the row. */
MG_VECTOR_CLONES static void SUFFIX(small)(T *restrict c, const T *restrict a,
                                       const T *restrict b, int64_t m, int64_t n, int64_t k,
                                       int trans_a, int trans_b, T alpha, T beta,
                                       int64_t lda, int64_t ldb, int64_t ldc)
{
    for (int64_t i = 0; i < m; i++) {
        T *restrict cr = c + i * ldc;
        if (!trans_b) {
            for (int64_t j = 0; j < n; j++) cr[j] = beta == 0 ? (T)0 : beta * cr[j];
            for (int64_t p = 0; p < k; p++) {
                const T aip = alpha * OP_A(i, p);
                const T *restrict br = b + p * ldb;
                for (int64_t j = 0; j < n; j++) cr[j] += aip * br[j];
            }
        } else {
            for (int64_t j = 0; j < n; j++) {
                const T *restrict bc = b + j * ldb;
                T acc = 0;
                for (int64_t p = 0; p < k; p++) acc += OP_A(i, p) * bc[p];
                cr[j] = alpha * acc + (beta == 0 ? (T)0 : beta * cr[j]);
            }
        }
    }
}

/* Whether the direct loop above is the faster way: its inner loop (along n, or along k when
 * op(b) is transposed) must fill at least one vector of the widest ISA this CPU has, else
 * it runs a scalar remainder per row (x (100, 2) @ w^T: 1600 two-element loops, 5 us, where
 * the micro-kernel's masked tiles take 0.5 us); and the product must be small next to the
 * blocked path's fixed cost (plan, buffers, tile loops), which is SMALL_VECTOR_FMAS vector
 * multiply-adds. */
static int SUFFIX(small_pays)(int64_t m, int64_t n, int64_t k, int trans_b, int isa)
{
    const int64_t lanes = vector_bytes(isa) / (int64_t)sizeof(T);
    const int64_t inner = trans_b ? k : n;
    return inner >= lanes && (double)m * (double)n * (double)k <= SMALL_VECTOR_FMAS * lanes;
}

/* Everything one GEMM call needs to know, shared read-only by its threads. The team is
 * jc_ways groups (each its own columns of c and its own packed B) of ic_ways threads (each its
 * own rows of the group's columns and its own packed A). */
typedef struct {
    SUFFIX(kernel) kn;
    T *c, *bbuf, *abuf; /* B panel buffers (nbuf per group), A block buffers (one per thread) */
    const T *a, *b;
    int64_t m, n, k, rsa, csa, rsb, csb, rsc, csc;
    int64_t mc, kcmax, nc, nchunks; /* A block rows, k panel depth, B panel columns, panels */
    int64_t bsize;                  /* elements of one B panel buffer */
    int jc_ways, ic_ways, nbuf;
    T alpha, beta;
    int isa, a_in_place, b_in_place; /* read op(a) / op(b) where they are, unpacked */
} SUFFIX(plan);

/* The blocked loops for thread tid of the team (or alone). Thread tid is thread ic_id of group
 * jc_id; its group owns the B slivers [s0, s1) of c's columns, cut into nc-wide chunks, and
 * it owns rows [m0, m1) of them. For each (chunk, k panel) the group's threads pack the panel
 * together, wait at a barrier, then each packs its own A blocks and runs the macro-kernel.
 * Panels alternate between two buffers, so one barrier per panel suffices: a thread packs
 * panel i+2 into panel i's buffer only after the barrier of panel i+1, which every thread
 * reaches after its work on panel i. A group of one thread (ic_ways == 1) needs no barrier
 * and one buffer. The barrier is the team's: every thread runs the same number of chunks
 * (a group with fewer runs empty ones), so all of them meet it equally often. */
static void SUFFIX(run_plan)(const SUFFIX(plan) *pl, int tid)
{
    const SUFFIX(kernel) *kn = &pl->kn;
    const int jc_id = tid / pl->ic_ways, ic_id = tid % pl->ic_ways;
    const int64_t nsl_all = (pl->n + kn->nr - 1) / kn->nr;
    const int64_t s0 = nsl_all * jc_id / pl->jc_ways, s1 = nsl_all * (jc_id + 1) / pl->jc_ways;
    const int64_t n0 = s0 * kn->nr, n1 = min64(pl->n, s1 * kn->nr);
    const int64_t m0 = pl->m * ic_id / pl->ic_ways, m1 = pl->m * (ic_id + 1) / pl->ic_ways;
    T *ap = pl->abuf + (size_t)tid * (size_t)(pl->mc * pl->kcmax);
    T *bgroup = pl->bbuf + (size_t)jc_id * (size_t)(pl->nbuf * pl->bsize);
    int64_t panel = 0;
    for (int64_t chunk = 0; chunk < pl->nchunks; chunk++) {
        const int64_t jc = n0 + chunk * pl->nc, nc = min64(pl->nc, n1 - jc);
        const int64_t nsl = nc > 0 ? (nc + kn->nr - 1) / kn->nr : 0;
        for (int64_t pc = 0; pc < pl->k; pc += pl->kcmax, panel++) {
            const int64_t kc = min64(pl->kcmax, pl->k - pc);
            const T beta = pc == 0 ? pl->beta : (T)1;
            T *bbuf = bgroup + (size_t)(panel % pl->nbuf) * (size_t)pl->bsize;
            const T *b = bbuf; /* the packed panel, or op(b) itself (ldb = its row stride) */
            int64_t ldb = 0;
            if (pl->b_in_place) {
                b = pl->b + pc * pl->rsb + jc;
                ldb = pl->rsb;
            } else {
                for (int64_t s = nsl * ic_id / pl->ic_ways; s < nsl * (ic_id + 1) / pl->ic_ways;
                     s++) {
                    const int64_t w = min64(kn->nr, nc - s * kn->nr);
                    SUFFIX(pack)(bbuf + s * kn->nr * kc,
                             pl->b + pc * pl->rsb + (jc + s * kn->nr) * pl->csb,
                             w, kc, pl->csb, pl->rsb, SUFFIX(sliver_width)(kn, w), pl->isa);
                }
                if (pl->ic_ways > 1) {
                    OMP("omp barrier")
                }
            }
            if (nc <= 0) continue;
            for (int64_t ic = m0; ic < m1; ic += pl->mc) {
                const int64_t h = min64(pl->mc, m1 - ic);
                const T *a = pl->a + ic * pl->rsa + pc * pl->csa;
                T *c = pl->c + ic * pl->rsc + jc * pl->csc;
                if (pl->a_in_place) {
                    SUFFIX(macro)(kn, h, kc, nc, 0, nc, a, pl->rsa, pl->rsa, pl->csa, b, ldb,
                              c, pl->rsc, pl->csc, pl->alpha, beta);
                    continue;
                }
                SUFFIX(pack)(ap, a, h, kc, pl->rsa, pl->csa, kn->mr, pl->isa);
                SUFFIX(macro)(kn, h, kc, nc, 0, nc, ap, 0, 1, kn->mr, b, ldb,
                          c, pl->rsc, pl->csc, pl->alpha, beta);
            }
        }
    }
}

/* ---- the entry points ------------------------------------------------------------------------ */
/* The rest of the plan, for a team of `team` threads: the split of the work, the block sizes
 * this product gets, and the buffers. Run by one thread; returns 0 when out of memory. */
static int SUFFIX(setup)(SUFFIX(plan) *pl, const mg_gemm_blocking *blk, int team)
{
    const int64_t mr = pl->kn.mr, nr = pl->kn.nr;
    split_ways(team, pl->m, pl->n, mr, nr, &pl->ic_ways, &pl->jc_ways);
    /* rows: each thread gets m / ic_ways of them (not rounded to MR: an edge tile does only
     * its real rows, and m = 100 splits 50/50 rather than 60/40: the MLP's first layer on two
     * threads, 53 -> 47 us), cut into the fewest blocks of at most MC rows, of equal height
     * rounded up to MR */
    const int64_t rows = (pl->m + pl->ic_ways - 1) / pl->ic_ways;
    const int64_t bpr = (rows + max64(blk->mc, mr) - 1) / max64(blk->mc, mr);
    pl->mc = round_up((rows + bpr - 1) / bpr, mr);
    /* k is cut into equal panels of at most KC: 784 with KC = 512 runs as two panels of 392,
     * not 512 + 272 (an unbalanced last panel costs a whole pass over c for little work) */
    const int64_t npanels = (pl->k + max64(blk->kc, 1) - 1) / max64(blk->kc, 1);
    pl->kcmax = (pl->k + npanels - 1) / npanels;
    /* columns: each group gets its share of the NR-wide slivers, in chunks of NC columns */
    const int64_t nsl_all = (pl->n + nr - 1) / nr;
    const int64_t group = min64(pl->n, (nsl_all + pl->jc_ways - 1) / pl->jc_ways * nr);
    pl->nc = max64(nr, blk->nc / nr * nr);
    pl->nchunks = (group + pl->nc - 1) / pl->nc;
    /* op(a) is read in place, unpacked, when its rows or its columns are contiguous and a
     * block spans at most a_span bytes across them: the kernel streams h rows (or one column
     * at a time) of a straight from memory as fast as from a packed sliver, and the pack (a
     * transposing copy for row-major a: 5 us of the MLP's 90 us first layer) goes. Past that
     * span a packed block is kinder to the TLB and L2 (transposed a, n = 1024). */
    const double span = pl->rsa == 1 ? (double)pl->kcmax * pl->csa : (double)pl->mc * pl->rsa;
    pl->a_in_place = (pl->rsa == 1 || pl->csa == 1) && span * sizeof(T) <= (double)blk->a_span;
    /* op(b) with contiguous rows is read in place too while its kc rows span <= b_span bytes
     * (the MLP's first-layer dW, 128 x 784: no 5 us pack), when every sliver is full width
     * (a narrow last one would read past the end of its rows). */
    const int64_t last = pl->n % nr;
    pl->b_in_place = pl->csb == 1
                     && (double)pl->kcmax * pl->rsb * sizeof(T) <= (double)blk->b_span
                     && (last == 0 || (pl->kn.half && last == nr / 2));
    /* B buffers: one per group, two when its threads share it over several panels */
    pl->nbuf = pl->ic_ways > 1 && pl->nchunks * npanels > 1 ? 2 : 1;
    pl->bsize = round_up(pl->kcmax * min64(pl->nc, round_up(group, nr)), 64 / sizeof(T));
    const int64_t belems = pl->b_in_place ? 1 : pl->jc_ways * pl->nbuf * pl->bsize;
    const int64_t aelems = pl->a_in_place ? 1 : (int64_t)team * pl->mc * pl->kcmax;
    pl->bbuf = alloc_aligned(sizeof(T) * (size_t)belems);
    pl->abuf = alloc_aligned(sizeof(T) * (size_t)aelems);
    return pl->bbuf != NULL && pl->abuf != NULL;
}

/* Elements setup() packs (about: it refines kc and mc per product) for an (m, k) A and a
 * (k, n) B, each with contiguous rows or contiguous columns, ld apart. A is read in place
 * while a block spans at most a_span bytes across ld (mc rows, or kc columns); B while its
 * rows are contiguous and kc of them span at most b_span. */
static double SUFFIX(packed)(int a_rows, int64_t lda, int b_rows, int64_t ldb, int64_t m,
                             int64_t n, int64_t k, const mg_gemm_blocking *blk)
{
    const double a_span = (double)(a_rows ? min64(m, blk->mc) : min64(k, blk->kc)) * lda;
    const double b_span = (double)min64(k, blk->kc) * (double)ldb;
    const double a = a_span * sizeof(T) <= (double)blk->a_span ? 0 : (double)m * (double)k;
    const double b = b_rows && b_span * sizeof(T) <= (double)blk->b_span ? 0
                                                                          : (double)k * n;
    return a + b;
}

/* The GEMM with the blocking given (NULL: the configuration's for this isa and type). */
void SUFFIX(mg_gemm_blocked)(T *c, const T *a, const T *b, int64_t m, int64_t n, int64_t k,
                         int trans_a, int trans_b, T alpha, T beta, int64_t lda, int64_t ldb,
                         int64_t ldc, int nthreads, int isa, const mg_gemm_blocking *blocking)
{
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == 0) { SUFFIX(scale)(c, m, n, ldc, beta); return; }
    const mg_gemm_config *cfg = mg_gemm_get_config();
    if (isa < 0 && blocking == NULL && SUFFIX(small_pays)(m, n, k, trans_b, cfg->isa)) {
        SUFFIX(small)(c, a, b, m, n, k, trans_a, trans_b, alpha, beta, lda, ldb, ldc);
        return;
    }
    if (isa < 0 || isa > cfg->isa) isa = cfg->isa;
    const mg_gemm_blocking *blk = blocking ? blocking : &CONFIG_BLOCKING(cfg)[isa];
    SUFFIX(plan) pl = {.kn = SUFFIX(pick)(isa), .c = c, .a = a, .b = b, .m = m, .n = n, .k = k,
                   .rsa = trans_a ? 1 : lda, .csa = trans_a ? lda : 1,
                   .rsb = trans_b ? 1 : ldb, .csb = trans_b ? ldb : 1, .rsc = ldc, .csc = 1,
                   .alpha = alpha, .beta = beta, .isa = isa};
    /* The kernel's vectors run along n: an n that is not a multiple of the vector width
     * wastes lanes on every row (n = 100 computes 112 columns). When m fills the lanes
     * better, compute c^T = op(b)^T op(a)^T instead (swap the operands, transpose c's
     * strides); the kernel's tiles then reach c through an in-register transposing store
     * (worth its cost per tile from k = 32 on: dx of the MLP's last layer, k = 10, is not).
     * When both ways fill the lanes equally, swapping pays when it saves more packing (a copy
     * per element of an operand not read in place; swapped, op(b)^T is the A and op(a)^T the
     * B) than the transposing store costs (per element of c). So h (32, 256) @ W^T, with
     * W (1024, 256), is computed as W @ h^T: W is read in place and h, 32 times smaller, is
     * the one packed (every small-batch linear layer's forward: 90 -> 71 us on Zen 5); a
     * square product, whose pack is as large as c, stays as it is. */
    const int64_t lanes = max64(pl.kn.lanes, 1); /* kernels with a store_t have lanes */
    const double computed = (double)m * (double)round_up(n, lanes);
    const double computed_t = (double)n * (double)round_up(m, lanes);
    const double packed = SUFFIX(packed)(!trans_a, lda, !trans_b, ldb, m, n, k, blk);
    const double packed_t = SUFFIX(packed)(trans_b, ldb, trans_a, lda, n, m, k, blk);
    if (pl.kn.store_t && k >= 32
        && (computed_t < computed || (computed_t == computed && packed - packed_t > (double)m * (double)n))) {
        pl.m = n; pl.n = m; pl.a = b; pl.b = a;
        pl.rsa = trans_b ? ldb : 1; pl.csa = trans_b ? 1 : ldb;
        pl.rsb = trans_a ? lda : 1; pl.csb = trans_a ? 1 : lda;
        pl.rsc = 1; pl.csc = ldc;
    }
    /* The plan is finished for the team OpenMP really gives (it may give fewer threads than
     * asked), by one of its threads; the single's barrier publishes it to the others. The
     * barriers in run_plan bind to this team: called from inside a caller's parallel region,
     * a team of our own (of one thread, if nesting is off) keeps them from waiting for the
     * caller's threads. On one thread, outside any team, no region is entered and OpenMP's
     * thread pool is never touched (what a forked child needs: see fork.c). */
    const int nt = thread_count(nthreads, m, n, k);
    int ok = 0;
    if (nt > 1 || in_parallel()) {
        OMP("omp parallel num_threads(nt)")
        {
            OMP("omp single")
            ok = SUFFIX(setup)(&pl, blk, mg_team_size());
            if (ok) SUFFIX(run_plan)(&pl, mg_thread_id());
        }
    } else {
        ok = SUFFIX(setup)(&pl, blk, 1);
        if (ok) SUFFIX(run_plan)(&pl, 0);
    }
    free(pl.bbuf);
    free(pl.abuf);
    if (!ok) /* out of memory: the slow path still gives the answer */
        SUFFIX(mg_gemm_naive)(c, a, b, m, n, k, trans_a, trans_b, alpha, beta, lda, ldb, ldc);
}
void SUFFIX(mg_gemm_isa)(T *c, const T *a, const T *b, int64_t m, int64_t n, int64_t k,
                     int trans_a, int trans_b, T alpha, T beta, int64_t lda, int64_t ldb,
                     int64_t ldc, int nthreads, int isa)
{
    SUFFIX(mg_gemm_blocked)(c, a, b, m, n, k, trans_a, trans_b, alpha, beta, lda, ldb, ldc,
                        nthreads, isa, NULL);
}
void SUFFIX(mg_gemm)(T *c, const T *a, const T *b, int64_t m, int64_t n, int64_t k,
                 int trans_a, int trans_b, T alpha, T beta,
                 int64_t lda, int64_t ldb, int64_t ldc, int nthreads)
{
    SUFFIX(mg_gemm_blocked)(c, a, b, m, n, k, trans_a, trans_b, alpha, beta, lda, ldb, ldc,
                        nthreads, -1, NULL);
}
