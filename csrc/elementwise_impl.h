/* elementwise_impl.h: the body of elementwise.c, included once per element type. The includer
 * defines T, SUFFIX(name), EXP and LOG (vmath.h's vectorisable exp and log for T). */

void SUFFIX(mg_add)(T *out, const T *a, const T *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void SUFFIX(mg_sub)(T *out, const T *a, const T *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++) out[i] = a[i] - b[i];
}

void SUFFIX(mg_mul)(T *out, const T *a, const T *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++) out[i] = a[i] * b[i];
}

void SUFFIX(mg_div)(T *out, const T *a, const T *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++) out[i] = a[i] / b[i];
}

MG_VECTOR_CLONES void SUFFIX(mg_exp)(T *out, const T *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) out[i] = EXP(x[i]);
}

MG_VECTOR_CLONES void SUFFIX(mg_log)(T *out, const T *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) out[i] = LOG(x[i]);
}
