/* optim_impl.h: the body of optim.c, included once per element type. The includer defines T,
 * SUFFIX(name) and SQRT (sqrt for T). */

/* SGD with momentum over n elements; `first` and `nesterov` are constants wherever this is
 * inlined, so each of the four loops compiles branch-free. */
static inline __attribute__((always_inline)) void
SUFFIX(sgd_momentum)(T *p, T *buf, const T *g, int64_t n, T sign, T wd, T rate, T mu, T damp,
                     const int first, const int nesterov)
{
    for (int64_t i = 0; i < n; i++) {
        const T gi = sign * g[i] + wd * p[i];
        const T b = first ? gi : mu * buf[i] + damp * gi;
        buf[i] = b;
        p[i] -= rate * (nesterov ? gi + mu * b : b);
    }
}

MG_VECTOR_CLONES void SUFFIX(mg_sgd_step)(T *p, T *buf, const T *g, int64_t n, double lr,
                                          double momentum, double dampening,
                                          double weight_decay, int nesterov, int maximize,
                                          int first)
{
    /* g' = sign * g + wd * p (wd == 0 without weight decay) */
    const T sign = maximize ? (T)-1 : (T)1, wd = (T)weight_decay, rate = (T)lr;
    const T mu = (T)momentum, damp = (T)(1 - dampening);
    if (momentum == 0) {
        for (int64_t i = 0; i < n; i++) p[i] -= rate * (sign * g[i] + wd * p[i]);
    } else if (first) {
        if (nesterov) SUFFIX(sgd_momentum)(p, buf, g, n, sign, wd, rate, mu, damp, 1, 1);
        else SUFFIX(sgd_momentum)(p, buf, g, n, sign, wd, rate, mu, damp, 1, 0);
    } else {
        if (nesterov) SUFFIX(sgd_momentum)(p, buf, g, n, sign, wd, rate, mu, damp, 0, 1);
        else SUFFIX(sgd_momentum)(p, buf, g, n, sign, wd, rate, mu, damp, 0, 0);
    }
}

MG_VECTOR_CLONES void SUFFIX(mg_adam_step)(T *p, T *m, T *v, T *vmax, const T *g, int64_t n,
                                           int64_t step, double lr, double beta1, double beta2,
                                           double eps, double weight_decay, int decoupled,
                                           int maximize)
{
    const double s = sqrt(1 - pow(beta2, (double)step));
    const T sign = maximize ? (T)-1 : (T)1, wd = decoupled ? (T)0 : (T)weight_decay;
    const T decay = decoupled ? (T)(1 - lr * weight_decay) : (T)1;
    const T b1 = (T)beta1, c1 = (T)(1 - beta1), b2 = (T)beta2, c2 = (T)(1 - beta2);
    const T epss = (T)(eps * s), scale = (T)(lr * s / (1 - pow(beta1, (double)step)));
    if (vmax == NULL) {
        for (int64_t i = 0; i < n; i++) {
            const T gi = sign * g[i] + wd * p[i];
            const T mi = b1 * m[i] + c1 * gi, vi = b2 * v[i] + c2 * (gi * gi);
            m[i] = mi;
            v[i] = vi;
            p[i] = p[i] * decay - scale * (mi / (SQRT(vi) + epss));
        }
    } else { /* amsgrad: the running max of v (NaN-propagating, like np.maximum) */
        for (int64_t i = 0; i < n; i++) {
            const T gi = sign * g[i] + wd * p[i];
            const T mi = b1 * m[i] + c1 * gi, vi = b2 * v[i] + c2 * (gi * gi);
            const T old = vmax[i];
            const T vm = (old != old || vi != vi) ? old + vi : (vi > old ? vi : old);
            m[i] = mi;
            v[i] = vi;
            vmax[i] = vm;
            p[i] = p[i] * decay - scale * (mi / (SQRT(vm) + epss));
        }
    }
}
