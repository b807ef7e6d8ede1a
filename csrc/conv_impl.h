/* conv_impl.h: the body of conv.c, included once per element type (see conv.c).
 * The includer defines T (float or double) and SUFFIX(name) (name_f32 or name_f64). */

/* The columns of output rows [i0, i1) of col (c * kh * kw, oh * ow), the im2col matrix of one
 * image x (c, h, w): row (ci, p, q), column (i, j) holds x[ci, i * sh - pt + p * dh,
 * j * sw - pl + q * dw], or 0 outside the image; written as a (c * kh * kw, (i1 - i0) * ow)
 * matrix. The rows are short (ow), so the copies are plain loops (a memcpy call per row costs
 * more than the copy), with stride 1 written apart so that it vectorises. */
MG_VECTOR_CLONES
static void SUFFIX(im2col)(T *restrict col, const T *restrict x, const conv_geom *q, int64_t i0,
                           int64_t i1)
{
    const int64_t width = (i1 - i0) * q->ow;
    for (int64_t ci = 0; ci < q->c; ci++)
        for (int64_t p = 0; p < q->kh; p++)
            for (int64_t r = 0; r < q->kw; r++) {
                T *row = col + ((ci * q->kh + p) * q->kw + r) * width;
                const int64_t off = r * q->dw - q->pl;
                int64_t j0, j1;
                valid_range(off, q->sw, q->w, q->ow, &j0, &j1);
                for (int64_t i = i0; i < i1; i++) {
                    T *out = row + (i - i0) * q->ow;
                    const int64_t hi = i * q->sh - q->pt + p * q->dh;
                    if (hi < 0 || hi >= q->h) {
                        for (int64_t j = 0; j < q->ow; j++) out[j] = 0;
                        continue;
                    }
                    const T *in = x + (ci * q->h + hi) * q->w + off;
                    for (int64_t j = 0; j < j0; j++) out[j] = 0;
                    if (q->sw == 1)
                        for (int64_t j = j0; j < j1; j++) out[j] = in[j];
                    else
                        for (int64_t j = j0; j < j1; j++) out[j] = in[j * q->sw];
                    for (int64_t j = j1; j < q->ow; j++) out[j] = 0;
                }
            }
}

/* The adjoint of im2col over output rows [i0, i1): dx (c, h, w) += each entry of dcol
 * (c * kh * kw, (i1 - i0) * ow) at the input pixel it was read from (padding positions are
 * dropped); stride 1 apart, as in im2col. */
MG_VECTOR_CLONES
static void SUFFIX(col2im)(T *restrict dx, const T *restrict dcol, const conv_geom *q, int64_t i0,
                           int64_t i1)
{
    const int64_t width = (i1 - i0) * q->ow;
    for (int64_t ci = 0; ci < q->c; ci++)
        for (int64_t p = 0; p < q->kh; p++)
            for (int64_t r = 0; r < q->kw; r++) {
                const T *row = dcol + ((ci * q->kh + p) * q->kw + r) * width;
                const int64_t off = r * q->dw - q->pl;
                int64_t j0, j1;
                valid_range(off, q->sw, q->w, q->ow, &j0, &j1);
                for (int64_t i = i0; i < i1; i++) {
                    const int64_t hi = i * q->sh - q->pt + p * q->dh;
                    if (hi < 0 || hi >= q->h) continue;
                    const T *in = row + (i - i0) * q->ow;
                    T *out = dx + (ci * q->h + hi) * q->w + off;
                    if (q->sw == 1)
                        for (int64_t j = j0; j < j1; j++) out[j] += in[j];
                    else
                        for (int64_t j = j0; j < j1; j++) out[j * q->sw] += in[j];
                }
            }
}

/* y (n, o, oh, ow) of image index ni: bias, then one GEMM per group; or, with_ones (one group,
 * im2col, a bias): one GEMM of the weights with the bias as an extra column, wt (o, K + 1), and
 * the columns with a row of ones below them, so the GEMM writes y whole (no fill pass before,
 * no read of y inside). The im2col matrix is made and multiplied a tile of `tile` output rows
 * at a time (conv_tile_rows: it stays in L2 for the GEMM's pack). */
static void SUFFIX(forward_image)(T *y, const T *x, const T *wt, const T *b, T *col,
                                  const conv_geom *q, int64_t ni, int64_t tile,
                                  int gemm_threads, int with_ones)
{
    const int64_t cg = q->c / q->groups, og = q->o / q->groups, plane = q->oh * q->ow;
    const int64_t kg = cg * q->kh * q->kw;
    const T *xi = x + ni * q->c * q->h * q->w;
    T *yi = y + ni * q->o * plane;
    const int64_t ldp = plane > 0 ? plane : 1, ldk = kg > 0 ? kg : 1;
    if (!with_ones && b != NULL)
        for (int64_t oc = 0; oc < q->o; oc++)
            for (int64_t s = 0; s < plane; s++) yi[oc * plane + s] = b[oc];
    if (is_pointwise(q)) { /* the image is its own column matrix */
        for (int64_t g = 0; g < q->groups; g++)
            SUFFIX(mg_gemm)(yi + g * og * plane, wt + g * og * kg, xi + g * kg * plane, og,
                            plane, kg, 0, 0, 1, b != NULL ? 1 : 0, ldk, ldp, ldp,
                            gemm_threads);
        return;
    }
    for (int64_t i0 = 0; i0 < q->oh; i0 += tile) {
        const int64_t i1 = i0 + tile < q->oh ? i0 + tile : q->oh, width = (i1 - i0) * q->ow;
        SUFFIX(im2col)(col, xi, q, i0, i1);
        if (with_ones) {
            for (int64_t s = 0; s < width; s++) col[kg * width + s] = 1;
            SUFFIX(mg_gemm)(yi + i0 * q->ow, wt, col, q->o, width, kg + 1, 0, 0, 1, 0, kg + 1,
                            width, ldp, gemm_threads);
            continue;
        }
        for (int64_t g = 0; g < q->groups; g++)
            SUFFIX(mg_gemm)(yi + g * og * plane + i0 * q->ow, wt + g * og * kg,
                            col + g * kg * width, og, width, kg, 0, 0, 1, b != NULL ? 1 : 0,
                            ldk, width, ldp, gemm_threads);
    }
}

int SUFFIX(mg_conv2d)(T *y, const T *x, const T *wt, const T *b, const int64_t *geom,
                      int nthreads)
{
    const conv_geom q = unpack(geom);
    const int64_t plane = q.oh * q.ow, kcol = q.c * q.kh * q.kw;
    const double work = (double)q.n * (double)q.o * (double)plane * (double)(kcol / q.groups);
    const int nt = batch_threads(nthreads, q.n, work);
    const int im2col = !is_pointwise(&q) && q.n > 0 && kcol * plane > 0;
    const int with_ones = im2col && b != NULL && q.groups == 1;
    /* per thread a column buffer of one tile (with the row of ones), then the weights with
     * the bias */
    const int64_t rows = kcol + with_ones, wsize = with_ones ? q.o * (kcol + 1) : 0;
    const int64_t tile = conv_tile_rows(&q, rows, (int64_t)sizeof(T));
    const int64_t csize = rows * tile * q.ow;
    T *ws = NULL;
    if (im2col) {
        ws = malloc(((size_t)nt * (size_t)csize + (size_t)wsize) * sizeof(T));
        if (ws == NULL) return -1;
    }
    const T *w_used = wt;
    if (with_ones) {
        T *wb = ws + (int64_t)nt * csize;
        for (int64_t oc = 0; oc < q.o; oc++) {
            for (int64_t s = 0; s < kcol; s++) wb[oc * (kcol + 1) + s] = wt[oc * kcol + s];
            wb[oc * (kcol + 1) + kcol] = b[oc];
        }
        w_used = wb;
    }
    if (nt == 1) {
        for (int64_t ni = 0; ni < q.n; ni++)
            SUFFIX(forward_image)(y, x, w_used, b, ws, &q, ni, tile, nthreads, with_ones);
    } else {
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
#endif
        for (int64_t ni = 0; ni < q.n; ni++) {
            T *col = ws == NULL ? NULL : ws + mg_thread_id() * csize;
            SUFFIX(forward_image)(y, x, w_used, b, col, &q, ni, tile, 1, with_ones);
        }
    }
    free(ws);
    return 0;
}

/* dx (c, h, w) of image index ni: dcol = w^T @ g per group, then col2im, a tile of `tile`
 * output rows at a time (or, pointwise, the GEMM writes dx itself). */
static void SUFFIX(input_grad_image)(T *dx, const T *gy, const T *wt, T *dcol,
                                     const conv_geom *q, int64_t ni, int64_t tile,
                                     int gemm_threads)
{
    const int64_t cg = q->c / q->groups, og = q->o / q->groups, plane = q->oh * q->ow;
    const int64_t kg = cg * q->kh * q->kw, image = q->c * q->h * q->w;
    const T *gi = gy + ni * q->o * plane;
    T *dxi = dx + ni * image;
    const int64_t ldk = kg > 0 ? kg : 1, ldp = plane > 0 ? plane : 1;
    if (is_pointwise(q)) {
        for (int64_t g = 0; g < q->groups; g++) /* (kg, plane) = w[g]^T (kg, og) @ g (og, plane) */
            SUFFIX(mg_gemm)(dxi + g * kg * plane, wt + g * og * kg, gi + g * og * plane, kg,
                            plane, og, 1, 0, 1, 0, ldk, ldp, ldp, gemm_threads);
        return;
    }
    for (int64_t s = 0; s < image; s++) dxi[s] = 0;
    for (int64_t i0 = 0; i0 < q->oh; i0 += tile) {
        const int64_t i1 = i0 + tile < q->oh ? i0 + tile : q->oh, width = (i1 - i0) * q->ow;
        for (int64_t g = 0; g < q->groups; g++)
            SUFFIX(mg_gemm)(dcol + g * kg * width, wt + g * og * kg,
                            gi + g * og * plane + i0 * q->ow, kg, width, og, 1, 0, 1, 0, ldk,
                            ldp, width, gemm_threads);
        SUFFIX(col2im)(dxi, dcol, q, i0, i1);
    }
}

int SUFFIX(mg_conv2d_input_grad)(T *dx, const T *gy, const T *wt, const int64_t *geom,
                                 int nthreads)
{
    const conv_geom q = unpack(geom);
    const int64_t plane = q.oh * q.ow, kcol = q.c * q.kh * q.kw;
    const double work = (double)q.n * (double)q.o * (double)plane * (double)(kcol / q.groups);
    const int nt = batch_threads(nthreads, q.n, work);
    const int64_t tile = conv_tile_rows(&q, kcol, (int64_t)sizeof(T));
    const int64_t csize = kcol * tile * q.ow;
    T *ws = NULL;
    if (!is_pointwise(&q) && q.n > 0 && kcol * plane > 0) {
        ws = malloc((size_t)nt * (size_t)csize * sizeof(T));
        if (ws == NULL) return -1;
    }
    if (nt == 1) {
        for (int64_t ni = 0; ni < q.n; ni++)
            SUFFIX(input_grad_image)(dx, gy, wt, ws, &q, ni, tile, nthreads);
    } else {
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
#endif
        for (int64_t ni = 0; ni < q.n; ni++)
            SUFFIX(input_grad_image)(dx, gy, wt, ws == NULL ? NULL : ws + mg_thread_id() * csize,
                                     &q, ni, tile, 1);
    }
    free(ws);
    return 0;
}

/* dw (o, c / groups, kh, kw) += the contribution of image index ni, a tile of `tile` output
 * rows of its im2col matrix at a time. */
static void SUFFIX(weight_grad_image)(T *dw, const T *x, const T *gy, T *col, const conv_geom *q,
                                      int64_t ni, int64_t tile, int gemm_threads)
{
    const int64_t cg = q->c / q->groups, og = q->o / q->groups, plane = q->oh * q->ow;
    const int64_t kg = cg * q->kh * q->kw;
    const T *xi = x + ni * q->c * q->h * q->w, *gi = gy + ni * q->o * plane;
    const int64_t ldk = kg > 0 ? kg : 1, ldp = plane > 0 ? plane : 1;
    if (is_pointwise(q)) { /* (og, kg) += g (og, plane) @ x^T (plane, kg) */
        for (int64_t g = 0; g < q->groups; g++)
            SUFFIX(mg_gemm)(dw + g * og * kg, gi + g * og * plane, xi + g * kg * plane, og, kg,
                            plane, 0, 1, 1, 1, ldp, ldp, ldk, gemm_threads);
        return;
    }
    for (int64_t i0 = 0; i0 < q->oh; i0 += tile) {
        const int64_t i1 = i0 + tile < q->oh ? i0 + tile : q->oh, width = (i1 - i0) * q->ow;
        SUFFIX(im2col)(col, xi, q, i0, i1);
        for (int64_t g = 0; g < q->groups; g++) /* (og, kg) += g[:, tile] @ col^T */
            SUFFIX(mg_gemm)(dw + g * og * kg, gi + g * og * plane + i0 * q->ow,
                            col + g * kg * width, og, kg, width, 0, 1, 1, 1, ldp, width, ldk,
                            gemm_threads);
    }
}

int SUFFIX(mg_conv2d_weight_grad)(T *dw, const T *x, const T *gy, const int64_t *geom,
                                  int nthreads)
{
    const conv_geom q = unpack(geom);
    const int64_t plane = q.oh * q.ow, kcol = q.c * q.kh * q.kw;
    const int64_t wsize = q.o * (q.c / q.groups) * q.kh * q.kw;
    const double work = (double)q.n * (double)q.o * (double)plane * (double)(kcol / q.groups);
    const int nt = batch_threads(nthreads, q.n, work);
    const int64_t tile = conv_tile_rows(&q, kcol, (int64_t)sizeof(T));
    const int64_t cols = is_pointwise(&q) ? 0 : kcol * tile * q.ow;
    for (int64_t s = 0; s < wsize; s++) dw[s] = 0;
    if (nt == 1) {
        T *ws = NULL;
        if (cols > 0 && q.n > 0) {
            ws = malloc((size_t)cols * sizeof(T));
            if (ws == NULL) return -1;
        }
        for (int64_t ni = 0; ni < q.n; ni++)
            SUFFIX(weight_grad_image)(dw, x, gy, ws, &q, ni, tile, nthreads);
        free(ws);
        return 0;
    }
    /* a column buffer per thread and a partial dw per chunk of images, the chunks handed out
     * as threads come free (a busy core slows one thread, not the call) and summed in chunk
     * order afterwards, so the result does not depend on timing */
    const int64_t chunks = q.n < 4 * (int64_t)nt ? q.n : 4 * (int64_t)nt;
    T *ws = malloc(((size_t)nt * (size_t)cols + (size_t)chunks * (size_t)wsize) * sizeof(T));
    if (ws == NULL) return -1;
    T *parts = ws + (int64_t)nt * cols;
    for (int64_t s = 0; s < chunks * wsize; s++) parts[s] = 0;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
#endif
    for (int64_t ch = 0; ch < chunks; ch++) {
        T *col = cols > 0 ? ws + mg_thread_id() * cols : NULL;
        for (int64_t ni = ch * q.n / chunks; ni < (ch + 1) * q.n / chunks; ni++)
            SUFFIX(weight_grad_image)(parts + ch * wsize, x, gy, col, &q, ni, tile, 1);
    }
    for (int64_t ch = 0; ch < chunks; ch++)
        for (int64_t s = 0; s < wsize; s++) dw[s] += parts[ch * wsize + s];
    free(ws);
    return 0;
}
