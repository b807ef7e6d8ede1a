/* softmax_impl.h: the body of softmax.c, included once per element type. The includer defines
 * T, SUFFIX(name), EXP (vmath.h's vectorisable exp for T) and LOG. */

static T SUFFIX(row_max)(const T *x, int64_t c)
{   /* NaN-propagating max, like np.max */
    T m = -INFINITY;
    int nan = 0;
    for (int64_t j = 0; j < c; j++) { m = x[j] > m ? x[j] : m; nan |= x[j] != x[j]; }
    return nan ? (T)NAN : m;
}

/* out[j] = e^(x[j] - m); returns the sum. m = -inf (all -inf row) gives NaN like NumPy. */
MG_VECTOR_CLONES static T SUFFIX(row_exp)(T *out, const T *x, T m, int64_t c)
{
    T sum = 0;
    for (int64_t j = 0; j < c; j++) { out[j] = EXP(x[j] - m); sum += out[j]; }
    return sum;
}

void SUFFIX(mg_softmax)(T *y, const T *x, int64_t n, int64_t c)
{
    for (int64_t i = 0; i < n; i++, x += c, y += c) {
        const T inv = 1 / SUFFIX(row_exp)(y, x, SUFFIX(row_max)(x, c), c);
        for (int64_t j = 0; j < c; j++) y[j] *= inv;
    }
}

void SUFFIX(mg_softmax_backward)(T *dx, const T *y, const T *g, int64_t n, int64_t c)
{   /* dx = y * (g - sum(g * y)) */
    for (int64_t i = 0; i < n; i++, y += c, g += c, dx += c) {
        T dot = 0;
        for (int64_t j = 0; j < c; j++) dot += g[j] * y[j];
        for (int64_t j = 0; j < c; j++) dx[j] = y[j] * (g[j] - dot);
    }
}

void SUFFIX(mg_log_softmax)(T *y, const T *x, int64_t n, int64_t c)
{   /* y = (x - m) - log(sum e^(x - m)); y is used as scratch for the exps */
    for (int64_t i = 0; i < n; i++, x += c, y += c) {
        const T m = SUFFIX(row_max)(x, c);
        const T ls = LOG(SUFFIX(row_exp)(y, x, m, c)); /* not x - (m + ls): m swamps ls */
        for (int64_t j = 0; j < c; j++) y[j] = (x[j] - m) - ls;
    }
}

MG_VECTOR_CLONES void SUFFIX(mg_log_softmax_backward)(T *dx, const T *y, const T *g, int64_t n,
                                                      int64_t c)
{   /* dx = g - e^y * sum(g) */
    for (int64_t i = 0; i < n; i++, y += c, g += c, dx += c) {
        T sum = 0;
        for (int64_t j = 0; j < c; j++) sum += g[j];
        for (int64_t j = 0; j < c; j++) dx[j] = g[j] - EXP(y[j]) * sum;
    }
}

int64_t SUFFIX(mg_cross_entropy)(T *loss, T *prob, const T *logits, const int64_t *target,
                                 int64_t n, int64_t c)
{
    for (int64_t i = 0; i < n; i++)
        if (target[i] < 0 || target[i] >= c) return i;
    for (int64_t i = 0; i < n; i++, logits += c, prob += c) {
        const T m = SUFFIX(row_max)(logits, c);
        const T sum = SUFFIX(row_exp)(prob, logits, m, c);
        const T inv = 1 / sum;
        for (int64_t j = 0; j < c; j++) prob[j] *= inv;
        loss[i] = LOG(sum) - (logits[target[i]] - m); /* exact for huge logits */
    }
    return -1;
}

int64_t SUFFIX(mg_cross_entropy_backward)(T *dlogits, const T *prob, const int64_t *target,
                                          const T *g, int64_t n, int64_t c)
{
    for (int64_t i = 0; i < n; i++)
        if (target[i] < 0 || target[i] >= c) return i;
    for (int64_t i = 0; i < n; i++, prob += c, dlogits += c) {
        for (int64_t j = 0; j < c; j++) dlogits[j] = prob[j] * g[i];
        dlogits[target[i]] = (prob[target[i]] - 1) * g[i];
    }
    return -1;
}
