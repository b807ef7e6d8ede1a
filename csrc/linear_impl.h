/* linear_impl.h: the body of linear.c, included once per element type (see linear.c).
 * The includer defines T (float or double) and SUFFIX(name) (name_f32 or name_f64). */

/* y (m, n) = act(x (m, k) @ w (n, k)^T + b (n,)) */
void SUFFIX(mg_linear)(T *y, const T *x, const T *w, const T *b, int64_t m, int64_t n,
                       int64_t k, int act, int nthreads)
{
    if (b != NULL && n > 0)
        for (int64_t i = 0; i < m; i++) memcpy(y + i * n, b, (size_t)n * sizeof(T));
    const int64_t ldk = k > 0 ? k : 1, ldn = n > 0 ? n : 1;
    SUFFIX(mg_gemm)(y, x, w, m, n, k, 0, 1, 1, b != NULL ? 1 : 0, ldk, ldk, ldn, nthreads);
    switch (act) { /* the epilogue: in place (the activation kernels allow out == x) */
    case MG_ACT_RELU: SUFFIX(mg_relu)(y, y, m * n); break;
    case MG_ACT_SIGMOID: SUFFIX(mg_sigmoid)(y, y, m * n); break;
    case MG_ACT_TANH: SUFFIX(mg_tanh)(y, y, m * n); break;
    default: break;
    }
}

/* dz (m, n) = g * act'(y); db (n,) = column sums of dz; dw (n, k) = dz^T @ x; dx (m, k) = dz @ w */
void SUFFIX(mg_linear_backward)(T *dx, T *dw, T *db, T *dz, const T *x, const T *w, const T *y,
                                const T *g, int64_t m, int64_t n, int64_t k, int act,
                                int nthreads)
{
    const T *d = g; /* dL/dz: g itself without an activation */
    switch (act) {
    case MG_ACT_RELU: SUFFIX(mg_relu_backward)(dz, y, g, m * n); d = dz; break;
    case MG_ACT_SIGMOID: SUFFIX(mg_sigmoid_backward)(dz, y, g, m * n); d = dz; break;
    case MG_ACT_TANH: SUFFIX(mg_tanh_backward)(dz, y, g, m * n); d = dz; break;
    default: break;
    }
    if (db != NULL) { /* row after row: each pass adds a contiguous row (vectorises) */
        for (int64_t j = 0; j < n; j++) db[j] = 0;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) db[j] += d[i * n + j];
    }
    const int64_t ldn = n > 0 ? n : 1, ldk = k > 0 ? k : 1;
    if (dw != NULL) /* (n, k) = dz^T (n, m) @ x (m, k) */
        SUFFIX(mg_gemm)(dw, d, x, n, k, m, 1, 0, 1, 0, ldn, ldk, ldk, nthreads);
    if (dx != NULL) /* (m, k) = dz (m, n) @ w (n, k) */
        SUFFIX(mg_gemm)(dx, d, w, m, k, n, 0, 0, 1, 0, ldn, ldk, ldk, nthreads);
}
