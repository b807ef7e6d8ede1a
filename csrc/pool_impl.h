/* pool_impl.h: the body of pool.c, included once per element type (see pool.c).
 * The includer defines T (float or double) and SUFFIX(name) (name_f32 or name_f64). */

/* Output (i, j) of a plane, its window clipped to the input. */
static void SUFFIX(max_window)(T *y, int64_t *idx, const T *x, const pool_geom *q, int64_t i,
                               int64_t j)
{
    const int64_t hs = i * q->sh - q->ph, ws = j * q->sw - q->pw;
    int64_t p0, p1, r0, r1;
    tap_range(hs, q->dh, q->kh, q->h, &p0, &p1);
    tap_range(ws, q->dw, q->kw, q->w, &r0, &r1);
    int64_t best = (hs + p0 * q->dh) * q->w + ws + r0 * q->dw;
    T m = -INFINITY;
    for (int64_t p = p0; p < p1; p++) {
        const int64_t row = (hs + p * q->dh) * q->w;
        for (int64_t r = r0; r < r1; r++) {
            const int64_t at = row + ws + r * q->dw;
            const T v = x[at];
            if (v > m || isnan(v)) {
                m = v;
                best = at;
            }
        }
    }
    y[i * q->ow + j] = m;
    idx[i * q->ow + j] = best;
}

/* One tap of every window of an output row: m[j] = x[at + j s] where that is larger or NaN
 * (the rule of max_window, branch-free so that it vectorises), best[j] its position. */
static inline void SUFFIX(max_tap)(T *restrict m, int64_t *restrict best, const T *restrict x,
                                   int64_t at, int64_t s, int64_t n)
{
    for (int64_t j = 0; j < n; j++) {
        const T v = x[at + j * s];
        const int take = (v > m[j]) | (v != v);
        m[j] = take ? v : m[j];
        best[j] = take ? at + j * s : best[j];
    }
}

/* One output row of kh x kw windows, each kept in registers: the taps in max_window's order
 * (row-major), the first tap in place of -inf (a -inf or NaN first tap gives the same value
 * and index). kh, kw and the stride are constants at each call below, so the taps unroll and
 * the row vectorises across windows, at most 8 at a time: pooled rows are short (12 in LeNet,
 * 7 to 56 in ResNets), and the compiler's widest vector would leave whole rows of floats to
 * the scalar remainder loop (7x slower there). */
static inline void SUFFIX(max_row)(T *restrict m, int64_t *restrict best, const T *restrict x,
                                   int64_t top, int64_t row_step, int64_t n, int64_t s, int kh,
                                   int kw)
{
#ifdef _OPENMP
#pragma omp simd simdlen(8)
#endif
    for (int64_t j = 0; j < n; j++) {
        int64_t b = top + j * s;
        T v0 = x[b];
        for (int p = 0; p < kh; p++)
            for (int r = 0; r < kw; r++) {
                if (p == 0 && r == 0) continue;
                const int64_t at = top + p * row_step + r + j * s;
                const T v = x[at];
                const int take = (v > v0) | (v != v);
                v0 = take ? v : v0;
                b = take ? at : b;
            }
        m[j] = v0;
        best[j] = b;
    }
}

/* n consecutive windows of an output row that need no clipping, the first with its top-left
 * tap at x[top]: the common windows (2x2 and 3x3, stride 1, 2 or the kernel, any row
 * dilation) with max_row; any other geometry updates the running maxima one tap at a time
 * (max_tap), which vectorises too. */
MG_VECTOR_CLONES
static void SUFFIX(max_inside)(T *restrict m, int64_t *restrict best, const T *restrict x,
                               int64_t top, int64_t n, const pool_geom *q)
{
    const int64_t row_step = q->dh * q->w, s = q->sw;
    const int64_t k = q->kh == q->kw && q->dw == 1 && (q->kh == 2 || q->kh == 3) ? q->kh : 0;
    if (k == 2 && s == 2)
        SUFFIX(max_row)(m, best, x, top, row_step, n, 2, 2, 2);
    else if (k == 2 && s == 1)
        SUFFIX(max_row)(m, best, x, top, row_step, n, 1, 2, 2);
    else if (k == 3 && s == 3)
        SUFFIX(max_row)(m, best, x, top, row_step, n, 3, 3, 3);
    else if (k == 3 && s == 2)
        SUFFIX(max_row)(m, best, x, top, row_step, n, 2, 3, 3);
    else if (k == 3 && s == 1)
        SUFFIX(max_row)(m, best, x, top, row_step, n, 1, 3, 3);
    else {
        for (int64_t j = 0; j < n; j++) {
            m[j] = x[top + j * s];
            best[j] = top + j * s;
        }
        for (int64_t p = 0; p < q->kh; p++)
            for (int64_t r = p == 0 ? 1 : 0; r < q->kw; r++)
                SUFFIX(max_tap)(m, best, x, top + p * row_step + r * q->dw, s, n);
    }
}

/* One (h, w) plane: in each output row whose windows lie inside the input vertically, the
 * windows that also lie inside horizontally (all of them without padding) go through
 * max_inside, the rest (and the rows that hang over the top or bottom) through max_window. */
static void SUFFIX(max_plane)(T *y, int64_t *idx, const T *x, const pool_geom *q)
{
    /* the windows j in [ja, jb) start at or after column 0 and end before column w */
    const int64_t span = (q->kw - 1) * q->dw;
    int64_t ja = (q->pw + q->sw - 1) / q->sw;
    int64_t jb = q->w - 1 - span + q->pw < 0 ? 0 : (q->w - 1 - span + q->pw) / q->sw + 1;
    if (jb > q->ow) jb = q->ow;
    if (ja > jb) ja = jb;
    for (int64_t i = 0; i < q->oh; i++) {
        const int64_t hs = i * q->sh - q->ph;
        const int inside = hs >= 0 && hs + (q->kh - 1) * q->dh < q->h;
        const int64_t a = inside ? ja : q->ow, b = inside ? jb : q->ow;
        for (int64_t j = 0; j < a; j++) SUFFIX(max_window)(y, idx, x, q, i, j);
        if (b > a)
            SUFFIX(max_inside)(y + i * q->ow + a, idx + i * q->ow + a, x,
                               hs * q->w + a * q->sw - q->pw, b - a, q);
        for (int64_t j = b; j < q->ow; j++) SUFFIX(max_window)(y, idx, x, q, i, j);
    }
}

void SUFFIX(mg_max_pool2d)(T *y, int64_t *idx, const T *x, const int64_t *geom, int nthreads)
{
    const pool_geom q = unpack_pool(geom);
    const int64_t in = q.h * q.w, out = q.oh * q.ow;
    const int nt = plane_threads(nthreads, &q);
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(dynamic, plane_chunk(&q, nt)) if (nt > 1)
#endif
    for (int64_t pl = 0; pl < q.planes; pl++)
        SUFFIX(max_plane)(y + pl * out, idx + pl * out, x + pl * in, &q);
    (void)nt;
}

int64_t SUFFIX(mg_max_pool2d_backward)(T *dx, const T *g, const int64_t *idx,
                                       const int64_t *geom, int nthreads)
{
    const pool_geom q = unpack_pool(geom);
    const int64_t in = q.h * q.w, out = q.oh * q.ow;
    for (int64_t s = 0; s < q.planes * out; s++) /* checked first: nothing written on error */
        if (idx[s] < 0 || idx[s] >= in) return s;
    const int nt = plane_threads(nthreads, &q);
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(dynamic, plane_chunk(&q, nt)) if (nt > 1)
#endif
    for (int64_t pl = 0; pl < q.planes; pl++) {
        T *d = dx + pl * in;
        const T *gp = g + pl * out;
        const int64_t *ip = idx + pl * out;
        for (int64_t s = 0; s < in; s++) d[s] = 0;
        for (int64_t s = 0; s < out; s++) d[ip[s]] += gp[s];
    }
    (void)nt;
    return -1;
}

static void SUFFIX(avg_plane)(T *y, const T *x, const pool_geom *q)
{
    for (int64_t i = 0; i < q->oh; i++) {
        const int64_t hs = i * q->sh - q->ph;
        int64_t p0, p1;
        tap_range(hs, 1, q->kh, q->h, &p0, &p1);
        for (int64_t j = 0; j < q->ow; j++) {
            const int64_t ws = j * q->sw - q->pw;
            int64_t r0, r1;
            tap_range(ws, 1, q->kw, q->w, &r0, &r1);
            T sum = 0;
            for (int64_t p = p0; p < p1; p++) {
                const T *row = x + (hs + p) * q->w + ws;
                for (int64_t r = r0; r < r1; r++) sum += row[r];
            }
            y[i * q->ow + j] = sum / (T)avg_divisor(q, i, j);
        }
    }
}

void SUFFIX(mg_avg_pool2d)(T *y, const T *x, const int64_t *geom, int nthreads)
{
    const pool_geom q = unpack_pool(geom);
    const int64_t in = q.h * q.w, out = q.oh * q.ow;
    const int nt = plane_threads(nthreads, &q);
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(dynamic, plane_chunk(&q, nt)) if (nt > 1)
#endif
    for (int64_t pl = 0; pl < q.planes; pl++) SUFFIX(avg_plane)(y + pl * out, x + pl * in, &q);
    (void)nt;
}

static void SUFFIX(avg_plane_backward)(T *dx, const T *g, const pool_geom *q)
{
    for (int64_t s = 0; s < q->h * q->w; s++) dx[s] = 0;
    for (int64_t i = 0; i < q->oh; i++) {
        const int64_t hs = i * q->sh - q->ph;
        int64_t p0, p1;
        tap_range(hs, 1, q->kh, q->h, &p0, &p1);
        for (int64_t j = 0; j < q->ow; j++) {
            const int64_t ws = j * q->sw - q->pw;
            int64_t r0, r1;
            tap_range(ws, 1, q->kw, q->w, &r0, &r1);
            const T share = g[i * q->ow + j] / (T)avg_divisor(q, i, j);
            for (int64_t p = p0; p < p1; p++) {
                T *row = dx + (hs + p) * q->w + ws;
                for (int64_t r = r0; r < r1; r++) row[r] += share;
            }
        }
    }
}

void SUFFIX(mg_avg_pool2d_backward)(T *dx, const T *g, const int64_t *geom, int nthreads)
{
    const pool_geom q = unpack_pool(geom);
    const int64_t in = q.h * q.w, out = q.oh * q.ow;
    const int nt = plane_threads(nthreads, &q);
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(dynamic, plane_chunk(&q, nt)) if (nt > 1)
#endif
    for (int64_t pl = 0; pl < q.planes; pl++)
        SUFFIX(avg_plane_backward)(dx + pl * in, g + pl * out, &q);
    (void)nt;
}
