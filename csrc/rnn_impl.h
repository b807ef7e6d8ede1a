/* rnn_impl.h: the body of rnn.c, included once per element type (see rnn.c).
 * The includer defines T (float or double) and SUFFIX(name) (name_f32 or name_f64).
 * Each *_row function is one batch element: gate arrays hold 4 (LSTM) or 3 (GRU) blocks of
 * `hid` values, state arrays one block. Its arrays never overlap (restrict: the loops vectorise
 * without run-time alias checks); the in-place activation calls pass one pointer twice, which
 * activations.c allows. */

static void SUFFIX(lstm_row)(T *restrict a, T *restrict c, T *restrict tanh_c, T *restrict h,
                             const T *restrict pre, const T *restrict c_prev, int64_t hid)
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
