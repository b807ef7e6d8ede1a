/* executor_impl.h: the body of executor.c, included once per element type. The includer
 * defines T and SUFFIX(name). */

/* NumPy's pairwise sum of x[0..n) (numpy/_core/src/umath/loops_utils.h.src): below 8 elements
 * a plain loop; up to 128, eight running sums combined as a tree, then the tail; above, two
 * halves split at a multiple of 8. Every addition in NumPy's order, so the result is NumPy's. */
static T SUFFIX(pairwise_sum)(const T *x, int64_t n)
{
    if (n < 8) {
        T res = 0;
        for (int64_t i = 0; i < n; i++) res += x[i];
        return res;
    }
    if (n <= 128) {
        T r[8];
        for (int k = 0; k < 8; k++) r[k] = x[k];
        int64_t i;
        for (i = 8; i < n - (n % 8); i += 8)
            for (int k = 0; k < 8; k++) r[k] += x[i + k];
        T res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += x[i];
        return res;
    }
    int64_t half = n / 2;
    half -= half % 8;
    return SUFFIX(pairwise_sum)(x, half) + SUFFIX(pairwise_sum)(x + half, n - half);
}

void SUFFIX(mg_exec_sum)(T *out, const T *x, int64_t n)
{
    T zero = 0; /* np.add.reduce starts from the identity: 0 + (-0.0) is +0.0, as there */
    out[0] = zero + SUFFIX(pairwise_sum)(x, n);
}

static inline T SUFFIX(binary_op)(T x, T y, int op)
{
    switch (op) {
    case MG_EXEC_ADD: return x + y;
    case MG_EXEC_SUB: return x - y;
    case MG_EXEC_MUL: return x * y;
    default: return x / y;
    }
}

/* One loop per operand layout, the operation's switch hoisted out of it by the compiler (loop
 * unswitching at -O3), so each loop vectorises; a broadcast operand is read once. */
MG_VECTOR_CLONES void SUFFIX(mg_exec_binary)(T *out, const T *a, const T *b, int64_t n,
                                             int64_t sa, int64_t sb, int op)
{
    if (sa && sb) {
        for (int64_t i = 0; i < n; i++) out[i] = SUFFIX(binary_op)(a[i], b[i], op);
    } else if (sa) {
        T y = b[0];
        for (int64_t i = 0; i < n; i++) out[i] = SUFFIX(binary_op)(a[i], y, op);
    } else if (sb) {
        T x = a[0];
        for (int64_t i = 0; i < n; i++) out[i] = SUFFIX(binary_op)(x, b[i], op);
    } else {
        T v = SUFFIX(binary_op)(a[0], b[0], op);
        for (int64_t i = 0; i < n; i++) out[i] = v;
    }
}

MG_VECTOR_CLONES void SUFFIX(mg_exec_neg)(T *out, const T *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) out[i] = -x[i];
}

MG_VECTOR_CLONES void SUFFIX(mg_exec_fill)(T *out, const T *value, int64_t n)
{
    T v = value[0];
    for (int64_t i = 0; i < n; i++) out[i] = v;
}

/* The kernel signatures of micrograd.h, one per MG_EXEC_* kind. */
typedef void (*SUFFIX(unary_fn))(T *, const T *, int64_t);
typedef void (*SUFFIX(binary_fn))(T *, const T *, const T *, int64_t);
typedef void (*SUFFIX(broadcast_fn))(T *, const T *, const T *, int64_t, int64_t, int64_t, int);
typedef void (*SUFFIX(leaky_fn))(T *, const T *, T, int64_t);
typedef void (*SUFFIX(leaky_backward_fn))(T *, const T *, const T *, T, int64_t);
typedef void (*SUFFIX(rows_fn))(T *, const T *, int64_t, int64_t);
typedef void (*SUFFIX(rows_backward_fn))(T *, const T *, const T *, int64_t, int64_t);
typedef int64_t (*SUFFIX(cross_entropy_fn))(T *, T *, const T *, const int64_t *, int64_t,
                                            int64_t);
typedef int64_t (*SUFFIX(cross_entropy_backward_fn))(T *, const T *, const int64_t *,
                                                     const T *, int64_t, int64_t);
typedef void (*SUFFIX(gemm_fn))(T *, const T *, const T *, int64_t, int64_t, int64_t, int, int,
                                T, T, int64_t, int64_t, int64_t, int);
typedef void (*SUFFIX(linear_fn))(T *, const T *, const T *, const T *, int64_t, int64_t,
                                  int64_t, int, int);
typedef void (*SUFFIX(linear_backward_fn))(T *, T *, T *, T *, const T *, const T *, const T *,
                                           const T *, int64_t, int64_t, int64_t, int, int);
typedef void (*SUFFIX(sgd_fn))(T *, T *, const T *, int64_t, double, double, double, double,
                               int, int, int);
typedef void (*SUFFIX(adam_fn))(T *, T *, T *, T *, const T *, int64_t, int64_t, double, double,
                                double, double, double, int, int);

/* Runs one step; nonzero when its kernel reported a failure. */
static int SUFFIX(run_step)(const mg_exec_step *s, void *const *ptrs)
{
    void *p0 = step_arg(s, ptrs, 0), *p1 = step_arg(s, ptrs, 1), *p2 = step_arg(s, ptrs, 2),
         *p3 = step_arg(s, ptrs, 3), *p4 = step_arg(s, ptrs, 4), *p5 = step_arg(s, ptrs, 5),
         *p6 = step_arg(s, ptrs, 6), *p7 = step_arg(s, ptrs, 7);
    const int64_t *i = s->i;
    const double *d = s->d;
    switch (s->kind) {
    case MG_EXEC_UNARY:
        ((SUFFIX(unary_fn))s->fn)(p0, p1, i[0]);
        return 0;
    case MG_EXEC_BINARY:
        ((SUFFIX(binary_fn))s->fn)(p0, p1, p2, i[0]);
        return 0;
    case MG_EXEC_BROADCAST:
        ((SUFFIX(broadcast_fn))s->fn)(p0, p1, p2, i[0], i[1], i[2], (int)i[3]);
        return 0;
    case MG_EXEC_LEAKY:
        ((SUFFIX(leaky_fn))s->fn)(p0, p1, (T)d[0], i[0]);
        return 0;
    case MG_EXEC_LEAKY_BACKWARD:
        ((SUFFIX(leaky_backward_fn))s->fn)(p0, p1, p2, (T)d[0], i[0]);
        return 0;
    case MG_EXEC_ROWS:
        ((SUFFIX(rows_fn))s->fn)(p0, p1, i[0], i[1]);
        return 0;
    case MG_EXEC_ROWS_BACKWARD:
        ((SUFFIX(rows_backward_fn))s->fn)(p0, p1, p2, i[0], i[1]);
        return 0;
    case MG_EXEC_CROSS_ENTROPY:
        return ((SUFFIX(cross_entropy_fn))s->fn)(p0, p1, p2, p3, i[0], i[1]) >= 0;
    case MG_EXEC_CROSS_ENTROPY_BACKWARD:
        return ((SUFFIX(cross_entropy_backward_fn))s->fn)(p0, p1, p2, p3, i[0], i[1]) >= 0;
    case MG_EXEC_GEMM:
        ((SUFFIX(gemm_fn))s->fn)(p0, p1, p2, i[0], i[1], i[2], (int)i[3], (int)i[4], (T)d[0],
                                 (T)d[1], i[5], i[6], i[7], (int)i[8]);
        return 0;
    case MG_EXEC_LINEAR:
        ((SUFFIX(linear_fn))s->fn)(p0, p1, p2, p3, i[0], i[1], i[2], (int)i[3], (int)i[4]);
        return 0;
    case MG_EXEC_LINEAR_BACKWARD:
        ((SUFFIX(linear_backward_fn))s->fn)(p0, p1, p2, p3, p4, p5, p6, p7, i[0], i[1], i[2],
                                            (int)i[3], (int)i[4]);
        return 0;
    case MG_EXEC_SGD:
        ((SUFFIX(sgd_fn))s->fn)(p0, p1, p2, i[0], d[0], d[1], d[2], d[3], (int)i[1], (int)i[2],
                                (int)i[3]);
        return 0;
    case MG_EXEC_ADAM:
        ((SUFFIX(adam_fn))s->fn)(p0, p1, p2, p3, p4, i[0], i[1], d[0], d[1], d[2], d[3], d[4],
                                 (int)i[2], (int)i[3]);
        return 0;
    default:
        return 1; /* unknown kind: the Python side never builds one */
    }
}
