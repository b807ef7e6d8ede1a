/* activations_impl.h: the body of activations.c, included once per element type. The includer
 * defines T, SUFFIX(name), EXP (vectorisable exp for T), GELU(x) and GELU_GRAD(x) (x Phi(x) and
 * Phi(x) + x phi(x), accurate in the tails) and TANH_SMALL(x) (tanh for |x| < 0.625). */

MG_VECTOR_CLONES void SUFFIX(mg_relu)(T *out, const T *x, int64_t n)
{   /* x <= 0 is false for NaN, so NaN passes through like np.maximum(x, 0) */
    for (int64_t i = 0; i < n; i++) out[i] = x[i] <= 0 ? (T)0 : x[i];
}

MG_VECTOR_CLONES void SUFFIX(mg_relu_backward)(T *dx, const T *x, const T *g, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {  /* g read unconditionally: a select, not a branch */
        const T gi = g[i];
        dx[i] = x[i] > 0 ? gi : (T)0;
    }
}

MG_VECTOR_CLONES void SUFFIX(mg_leaky_relu)(T *out, const T *x, T slope, int64_t n)
{
    for (int64_t i = 0; i < n; i++) out[i] = x[i] > 0 ? x[i] : x[i] * slope;
}

MG_VECTOR_CLONES void SUFFIX(mg_leaky_relu_backward)(T *dx, const T *x, const T *g, T slope,
                                                     int64_t n)
{
    for (int64_t i = 0; i < n; i++) dx[i] = x[i] > 0 ? g[i] : g[i] * slope;
}

MG_VECTOR_CLONES void SUFFIX(mg_sigmoid)(T *out, const T *x, int64_t n)
{   /* exp of a non-positive number never overflows: 1/(1+e^-x) or e^x/(1+e^x) */
    for (int64_t i = 0; i < n; i++) {
        const T e = EXP(-fabs(x[i]));
        const T r = 1 / (1 + e);
        out[i] = x[i] >= 0 ? r : e * r;
    }
}

MG_VECTOR_CLONES void SUFFIX(mg_sigmoid_backward)(T *dx, const T *y, const T *g, int64_t n)
{
    for (int64_t i = 0; i < n; i++) dx[i] = g[i] * y[i] * (1 - y[i]);
}

MG_VECTOR_CLONES void SUFFIX(mg_tanh)(T *out, const T *x, int64_t n)
{   /* |x| >= 0.625: 1 - 2 / (e^2|x| + 1) with the sign put back; below it a series (no
     * cancellation near 0). e^2|x| overflows to inf for large |x|, which gives exactly 1. */
    for (int64_t i = 0; i < n; i++) {
        const T a = fabs(x[i]);
        const T big = 1 - 2 / (EXP(2 * a) + 1);
        const T small = TANH_SMALL(x[i]);
        out[i] = a < (T)0.625 ? small : (x[i] < 0 ? -big : (x[i] > 0 ? big : x[i]));
    }
}

MG_VECTOR_CLONES void SUFFIX(mg_tanh_backward)(T *dx, const T *y, const T *g, int64_t n)
{
    for (int64_t i = 0; i < n; i++) dx[i] = g[i] * (1 - y[i] * y[i]);
}

MG_VECTOR_CLONES void SUFFIX(mg_gelu)(T *out, const T *x, int64_t n)
{   /* exact (erf) form: x * Phi(x), Phi(x) = erfc(-x / sqrt2) / 2 (no cancellation for x << 0) */
    for (int64_t i = 0; i < n; i++) out[i] = GELU(x[i]);
}

MG_VECTOR_CLONES void SUFFIX(mg_gelu_backward)(T *dx, const T *x, const T *g, int64_t n)
{   /* d/dx x Phi(x) = Phi(x) + x phi(x) */
    for (int64_t i = 0; i < n; i++) {
        dx[i] = g[i] * GELU_GRAD(x[i]);
    }
}
