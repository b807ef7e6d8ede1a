/* rnn_impl.h: the body of rnn.c, included once per element type (see rnn.c).
 * The includer defines T (float or double) and SUFFIX(name) (name_f32 or name_f64).
 * Each *_row function is one batch element: gate arrays hold 4 (LSTM) or 3 (GRU) blocks of
 * `hid` values, state arrays one block. Arrays marked restrict never overlap (the loops vectorise
 * without run-time alias checks; an overlap would make GCC's check fail and run the scalar
 * copy), so the sequence kernels below give the backward rows separate input and output
 * buffers; lstm_row may compute acts over pre (only the activation calls, which activations.c
 * allows to run in place, read pre). */

static void SUFFIX(lstm_row)(T *a, T *restrict c, T *restrict tanh_c, T *restrict h,
                             const T *pre, const T *restrict c_prev, int64_t hid)
{
    SUFFIX(mg_sigmoid)(a, pre, 2 * hid);                     /* i, f */
    SUFFIX(mg_tanh)(a + 2 * hid, pre + 2 * hid, hid);        /* g */
    SUFFIX(mg_sigmoid)(a + 3 * hid, pre + 3 * hid, hid);     /* o */
    const T *i = a, *f = a + hid, *g = a + 2 * hid, *o = a + 3 * hid;
    for (int64_t j = 0; j < hid; j++) c[j] = f[j] * c_prev[j] + i[j] * g[j];
    SUFFIX(mg_tanh)(tanh_c, c, hid);
    for (int64_t j = 0; j < hid; j++) h[j] = o[j] * tanh_c[j];
}

void SUFFIX(mg_lstm_gates)(T *acts, T *c, T *tanh_c, T *h, const T *pre, const T *c_prev,
                           int64_t batch, int64_t hid, int nthreads)
{
    const int nt = row_threads(nthreads, batch, 4 * hid);
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
#endif
    for (int64_t b = 0; b < batch; b++)
        SUFFIX(lstm_row)(acts + b * 4 * hid, c + b * hid, tanh_c + b * hid, h + b * hid,
                         pre + b * 4 * hid, c_prev + b * hid, hid);
    (void)nt; /* unused without OpenMP */
}

/* dc_t = dc + dh o (1 - tanh^2 c); dz_i = dc_t g i (1 - i); dz_f = dc_t c_prev f (1 - f);
 * dz_g = dc_t i (1 - g^2); dz_o = dh tanh(c) o (1 - o); dc_prev = dc_t f */
static void SUFFIX(lstm_backward_row)(T *restrict dpre, T *restrict dc_prev,
                                      const T *restrict a, const T *restrict tanh_c,
                                      const T *restrict c_prev, const T *restrict dh,
                                      const T *restrict dc, int64_t hid)
{
    const T *i = a, *f = a + hid, *g = a + 2 * hid, *o = a + 3 * hid;
    T *di = dpre, *df = dpre + hid, *dg = dpre + 2 * hid, *dout = dpre + 3 * hid;
    for (int64_t j = 0; j < hid; j++) {
        const T tc = tanh_c[j];
        const T dct = dc[j] + dh[j] * o[j] * (1 - tc * tc);
        di[j] = dct * g[j] * i[j] * (1 - i[j]);
        df[j] = dct * c_prev[j] * f[j] * (1 - f[j]);
        dg[j] = dct * i[j] * (1 - g[j] * g[j]);
        dout[j] = dh[j] * tc * o[j] * (1 - o[j]);
        dc_prev[j] = dct * f[j];
    }
}

void SUFFIX(mg_lstm_gates_backward)(T *dpre, T *dc_prev, const T *acts, const T *tanh_c,
                                    const T *c_prev, const T *dh, const T *dc, int64_t batch,
                                    int64_t hid, int nthreads)
{
    const int nt = row_threads(nthreads, batch, 4 * hid);
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
#endif
    for (int64_t b = 0; b < batch; b++)
        SUFFIX(lstm_backward_row)(dpre + b * 4 * hid, dc_prev + b * hid, acts + b * 4 * hid,
                                  tanh_c + b * hid, c_prev + b * hid, dh + b * hid,
                                  dc + b * hid, hid);
    (void)nt; /* unused without OpenMP */
}

static void SUFFIX(gru_row)(T *restrict r, T *restrict z, T *restrict n, T *restrict h,
                            const T *restrict gi, const T *restrict gh,
                            const T *restrict h_prev, int64_t hid)
{
    for (int64_t j = 0; j < hid; j++) r[j] = gi[j] + gh[j];
    for (int64_t j = 0; j < hid; j++) z[j] = gi[hid + j] + gh[hid + j];
    SUFFIX(mg_sigmoid)(r, r, hid);  /* in place, as activations.c allows */
    SUFFIX(mg_sigmoid)(z, z, hid);
    for (int64_t j = 0; j < hid; j++) n[j] = gi[2 * hid + j] + r[j] * gh[2 * hid + j];
    SUFFIX(mg_tanh)(n, n, hid);
    for (int64_t j = 0; j < hid; j++) h[j] = (h_prev[j] - n[j]) * z[j] + n[j];
}

void SUFFIX(mg_gru_gates)(T *r, T *z, T *n, T *h, const T *gi, const T *gh, const T *h_prev,
                          int64_t batch, int64_t hid, int nthreads)
{
    const int nt = row_threads(nthreads, batch, 3 * hid);
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
#endif
    for (int64_t b = 0; b < batch; b++)
        SUFFIX(gru_row)(r + b * hid, z + b * hid, n + b * hid, h + b * hid, gi + b * 3 * hid,
                        gh + b * 3 * hid, h_prev + b * hid, hid);
    (void)nt; /* unused without OpenMP */
}

/* dn = dh (1 - z)(1 - n^2); da_n = dn, db_n = dn r; da_r = db_r = dn b_n r (1 - r);
 * da_z = db_z = dh (h_prev - n) z (1 - z); dh_z = dh z (dh_prev without the W_hh path) */
static void SUFFIX(gru_backward_row)(T *restrict dgi, T *restrict dgh, T *restrict dh_z,
                                     const T *restrict r, const T *restrict z,
                                     const T *restrict n, const T *restrict gh,
                                     const T *restrict h_prev, const T *restrict dh,
                                     int64_t hid)
{
    const T *b_n = gh + 2 * hid;
    for (int64_t j = 0; j < hid; j++) {
        const T d = dh[j];
        const T dn = d * (1 - z[j]) * (1 - n[j] * n[j]);
        const T dr = dn * b_n[j] * r[j] * (1 - r[j]);
        const T dz = d * (h_prev[j] - n[j]) * z[j] * (1 - z[j]);
        dgi[j] = dgh[j] = dr;
        dgi[hid + j] = dgh[hid + j] = dz;
        dgi[2 * hid + j] = dn;
        dgh[2 * hid + j] = dn * r[j];
        dh_z[j] = d * z[j];
    }
}

void SUFFIX(mg_gru_gates_backward)(T *dgi, T *dgh, T *dh_z, const T *r, const T *z, const T *n,
                                   const T *gh, const T *h_prev, const T *dh, int64_t batch,
                                   int64_t hid, int nthreads)
{
    const int nt = row_threads(nthreads, batch, 3 * hid);
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
#endif
    for (int64_t b = 0; b < batch; b++)
        SUFFIX(gru_backward_row)(dgi + b * 3 * hid, dgh + b * 3 * hid, dh_z + b * hid,
                                 r + b * hid, z + b * hid, n + b * hid, gh + b * 3 * hid,
                                 h_prev + b * hid, dh + b * hid, hid);
    (void)nt; /* unused without OpenMP */
}

/* ---- whole sequences: the recurrence of one layer and direction ----------------------------
 * Step t (in time order, or from t = L-1 down to 0 when reversed) starts from the state step
 * t - 1 (t + 1) left, or from h0 / c0 for the first step: prev_step gives that step, or -1
 * for the initial state. Batch rows are independent through
 * the whole recurrence, so each thread takes a block of rows (seq_rows) for all steps: no
 * barrier per step, and each thread's h W_hh^T is a GEMM of its rows on that thread. */
static int64_t SUFFIX(prev_step)(int64_t t, int64_t steps, int reverse)
{
    const int64_t p = reverse ? t + 1 : t - 1;
    return p < 0 || p >= steps ? -1 : p;
}

/* a (rows, g) = z + p^T for p (g, rows), z (rows, g) with row stride zs (0: one row for all).
 * The step's recurrent product comes from the GEMM as W_hh h^T (g x rows), which reads W_hh in
 * place, where h W_hh^T would pack W_hh again every step (32 x 1024 x 256, float: 66 against
 * 90 us). Columns go in blocks of one cache line of p's rows, so the lines being read stay in
 * L1 while every row of a is written. */
MG_VECTOR_CLONES static void SUFFIX(add_transposed)(T *restrict a, const T *restrict z,
                                                    int64_t zs, const T *restrict p,
                                                    int64_t rows, int64_t g)
{
    const int64_t block = 64 / (int64_t)sizeof(T);
    for (int64_t j0 = 0; j0 < g; j0 += block) {
        const int64_t j1 = j0 + block < g ? j0 + block : g;
        for (int64_t b = 0; b < rows; b++)
            for (int64_t j = j0; j < j1; j++) a[b * g + j] = z[b * zs + j] + p[j * rows + b];
    }
}

/* acts[t] = gates(z[t] + h_{t-1} W_hh^T) as lstm_gates: z (steps, batch, 4 hid) the input
 * projections with both biases; acts the same shape; cs, tcs, hs (steps, batch, hid) each step's
 * c, tanh(c) and h; w_hh (4 hid, hid); work (batch * 4 hid) scratch. */
void SUFFIX(mg_lstm_sequence)(T *acts, T *cs, T *tcs, T *hs, T *work, const T *z, const T *h0,
                              const T *c0, const T *w_hh, int64_t steps, int64_t batch,
                              int64_t hid, int reverse, int nthreads)
{
    const int nt = seq_threads(nthreads, steps, batch, 4 * hid, hid);
    const int inner = nt > 1 ? 1 : nthreads; /* one thread's rows, or all rows on the GEMM's */
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        int64_t r0, r1;
        seq_rows(batch, &r0, &r1);
        const int64_t rows = r1 - r0, g4 = 4 * hid;
        for (int64_t s = 0; s < steps && rows > 0; s++) {
            const int64_t t = reverse ? steps - 1 - s : s;
            const int64_t p = SUFFIX(prev_step)(t, steps, reverse);
            const T *h_prev = (p < 0 ? h0 : hs + p * batch * hid) + r0 * hid;
            const T *c_prev = (p < 0 ? c0 : cs + p * batch * hid) + r0 * hid;
            T *a = acts + (t * batch + r0) * g4;
            const int64_t at = (t * batch + r0) * hid;
            T *p_t = work + r0 * g4; /* W_hh h_prev^T, (4 hid, rows) */
            SUFFIX(mg_gemm)(p_t, w_hh, h_prev, g4, rows, hid, 0, 1, 1, 0, hid, hid, rows, inner);
            SUFFIX(add_transposed)(a, z + (t * batch + r0) * g4, g4, p_t, rows, g4);
            for (int64_t b = 0; b < rows; b++)
                SUFFIX(lstm_row)(a + b * g4, cs + at + b * hid, tcs + at + b * hid,
                                 hs + at + b * hid, a + b * g4, c_prev + b * hid, hid);
        }
    }
    (void)nt;
}

/* The gradients of mg_lstm_sequence given g (steps, batch, hid), that of every h, and dc_last
 * (batch, hid), that of the last step's c: dz (steps, batch, 4 hid), the pre-activation
 * gradients (the caller forms dx and the weight gradients from them), and dh0, dc0 (batch, hid).
 * Per step, backwards: dh = g[t] + dh_next; lstm_gates_backward; dh_next = dz[t] W_hh.
 * work (2, batch, hid) scratch: dh, and the second of the two buffers dc alternates between
 * (the first is dc0), so no row function writes what it reads. */
void SUFFIX(mg_lstm_sequence_backward)(T *dz, T *dh0, T *dc0, T *work, const T *acts,
                                       const T *cs, const T *tcs, const T *c0, const T *g,
                                       const T *dc_last, const T *w_hh, int64_t steps,
                                       int64_t batch, int64_t hid, int reverse, int nthreads)
{
    const int nt = seq_threads(nthreads, steps, batch, 4 * hid, hid);
    const int inner = nt > 1 ? 1 : nthreads;
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        int64_t r0, r1;
        seq_rows(batch, &r0, &r1);
        const int64_t rows = r1 - r0, g4 = 4 * hid, n = rows * hid;
        T *dh_next = dh0 + r0 * hid, *dh = work + r0 * hid;
        T *dc = dc0 + r0 * hid, *dc_prev = work + (batch + r0) * hid;
        memset(dh_next, 0, (size_t)n * sizeof(T));
        if (rows > 0) memcpy(dc, dc_last + r0 * hid, (size_t)n * sizeof(T));
        for (int64_t s = 0; s < steps && rows > 0; s++) {
            const int64_t t = reverse ? s : steps - 1 - s;
            const int64_t p = SUFFIX(prev_step)(t, steps, reverse);
            const T *c_prev = (p < 0 ? c0 : cs + p * batch * hid) + r0 * hid;
            const int64_t at = (t * batch + r0) * hid;
            T *d = dz + (t * batch + r0) * g4;
            for (int64_t j = 0; j < n; j++) dh[j] = g[at + j] + dh_next[j];
            for (int64_t b = 0; b < rows; b++)
                SUFFIX(lstm_backward_row)(d + b * g4, dc_prev + b * hid,
                                          acts + (t * batch + r0 + b) * g4, tcs + at + b * hid,
                                          c_prev + b * hid, dh + b * hid, dc + b * hid, hid);
            SUFFIX(mg_gemm)(dh_next, d, w_hh, rows, hid, g4, 0, 0, 1, 0, g4, hid, hid, inner);
            T *swap = dc;
            dc = dc_prev;
            dc_prev = swap;
        }
        if (rows > 0 && dc != dc0 + r0 * hid) memcpy(dc0 + r0 * hid, dc, (size_t)n * sizeof(T));
    }
    (void)nt;
}

/* GRU: bs[t] = h_{t-1} W_hh^T + b_hh (kept: backward reads its n block), then gru_gates with
 * a[t] (steps, batch, 3 hid) the input projections with b_ih. rs, zs, ns, hs (steps, batch,
 * hid); b_hh (3 hid) (zeros for a layer without biases); work (batch * 3 hid) scratch. */
void SUFFIX(mg_gru_sequence)(T *rs, T *zs, T *ns, T *hs, T *bs, T *work, const T *a,
                             const T *h0, const T *w_hh, const T *b_hh, int64_t steps,
                             int64_t batch, int64_t hid, int reverse, int nthreads)
{
    const int nt = seq_threads(nthreads, steps, batch, 3 * hid, hid);
    const int inner = nt > 1 ? 1 : nthreads;
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        int64_t r0, r1;
        seq_rows(batch, &r0, &r1);
        const int64_t rows = r1 - r0, g3 = 3 * hid;
        for (int64_t s = 0; s < steps && rows > 0; s++) {
            const int64_t t = reverse ? steps - 1 - s : s;
            const int64_t p = SUFFIX(prev_step)(t, steps, reverse);
            const T *h_prev = (p < 0 ? h0 : hs + p * batch * hid) + r0 * hid;
            const int64_t at = (t * batch + r0) * hid;
            T *b = bs + (t * batch + r0) * g3, *p_t = work + r0 * g3;
            SUFFIX(mg_gemm)(p_t, w_hh, h_prev, g3, rows, hid, 0, 1, 1, 0, hid, hid, rows, inner);
            SUFFIX(add_transposed)(b, b_hh, 0, p_t, rows, g3);
            for (int64_t i = 0; i < rows; i++)
                SUFFIX(gru_row)(rs + at + i * hid, zs + at + i * hid, ns + at + i * hid,
                                hs + at + i * hid, a + (t * batch + r0 + i) * g3, b + i * g3,
                                h_prev + i * hid, hid);
        }
    }
    (void)nt;
}

/* The gradients of mg_gru_sequence given g (steps, batch, hid): da, db (steps, batch, 3 hid),
 * those of a[t] and of bs[t] (the caller forms dx and the weight and bias gradients), and dh0.
 * Per step, backwards: dh = g[t] + dh_next (in work (batch, hid), scratch); gru_gates_backward
 * writes dh_z into dh_next; dh_next += db[t] W_hh. */
void SUFFIX(mg_gru_sequence_backward)(T *da, T *db, T *dh0, T *work, const T *rs, const T *zs,
                                      const T *ns, const T *bs, const T *hs, const T *h0,
                                      const T *g, const T *w_hh, int64_t steps, int64_t batch,
                                      int64_t hid, int reverse, int nthreads)
{
    const int nt = seq_threads(nthreads, steps, batch, 3 * hid, hid);
    const int inner = nt > 1 ? 1 : nthreads;
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        int64_t r0, r1;
        seq_rows(batch, &r0, &r1);
        const int64_t rows = r1 - r0, g3 = 3 * hid, n = rows * hid;
        T *dh_next = dh0 + r0 * hid, *dh = work + r0 * hid;
        memset(dh_next, 0, (size_t)n * sizeof(T));
        for (int64_t s = 0; s < steps && rows > 0; s++) {
            const int64_t t = reverse ? s : steps - 1 - s;
            const int64_t p = SUFFIX(prev_step)(t, steps, reverse);
            const T *h_prev = (p < 0 ? h0 : hs + p * batch * hid) + r0 * hid;
            const int64_t at = (t * batch + r0) * hid, gt = (t * batch + r0) * g3;
            for (int64_t j = 0; j < n; j++) dh[j] = g[at + j] + dh_next[j];
            for (int64_t i = 0; i < rows; i++)
                SUFFIX(gru_backward_row)(da + gt + i * g3, db + gt + i * g3, dh_next + i * hid,
                                         rs + at + i * hid, zs + at + i * hid, ns + at + i * hid,
                                         bs + gt + i * g3, h_prev + i * hid, dh + i * hid, hid);
            SUFFIX(mg_gemm)(dh_next, db + gt, w_hh, rows, hid, g3, 0, 0, 1, 1, g3, hid, hid,
                            inner);
        }
    }
    (void)nt;
}
