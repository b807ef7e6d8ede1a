/* optim.c: fused, in-place optimizer updates (PyTorch's SGD and Adam/AdamW formulas), f32 and f64.
 * One pass over the parameter instead of the 2-10 whole-array NumPy operations of the reference
 * (micrograd/backends/numpy_backend.py), which is what the update costs: memory traffic.
 * Scalars that depend only on the step (bias corrections) are computed once, in double. Options
 * become multipliers (maximize: g * -1; coupled weight decay: g + wd p, with wd = 0 when
 * off; decoupled: p * (1 - lr wd)) or separate loops (momentum, first step, nesterov, amsgrad),
 * so every loop body is branch-free and vectorises. */
#include <math.h>
#include <stddef.h>
#include "micrograd.h"
#include "vmath.h" /* MG_VECTOR_CLONES */

/* g' for element i: sign * g + wd * p (wd == 0 without coupled weight decay) */
#define GRAD(i) (sign * g[i] + wd * p[i])
/* SGD with momentum; FIRST and NESTEROV are compile-time 0/1 in each expansion */
#define SGD_MOMENTUM_LOOP(T, FIRST, NESTEROV)                                                 \
    for (int64_t i = 0; i < n; i++) {                                                         \
        const T gi = GRAD(i);                                                                 \
        const T b = FIRST ? gi : mu * buf[i] + damp * gi;                                     \
        buf[i] = b;                                                                           \
        p[i] -= rate * (NESTEROV ? gi + mu * b : b);                                          \
    }

#define DEFINE_OPTIM(T, S, SQRT)                                                              \
MG_VECTOR_CLONES void mg_sgd_step_##S(T *p, T *buf, const T *g, int64_t n, double lr,       \
                                      double momentum, double dampening,                      \
                                      double weight_decay, int nesterov, int maximize,        \
                                      int first)                                              \
{                                                                                             \
    const T sign = maximize ? (T)-1 : (T)1, wd = (T)weight_decay, rate = (T)lr;               \
    const T mu = (T)momentum, damp = (T)(1 - dampening);                                      \
    if (momentum == 0) {                                                                      \
        for (int64_t i = 0; i < n; i++) p[i] -= rate * GRAD(i);                               \
    } else if (first) {                                                                       \
        if (nesterov) { SGD_MOMENTUM_LOOP(T, 1, 1) } else { SGD_MOMENTUM_LOOP(T, 1, 0) }      \
    } else {                                                                                  \
        if (nesterov) { SGD_MOMENTUM_LOOP(T, 0, 1) } else { SGD_MOMENTUM_LOOP(T, 0, 0) }      \
    }                                                                                         \
}                                                                                             \
MG_VECTOR_CLONES void mg_adam_step_##S(T *p, T *m, T *v, T *vmax, const T *g, int64_t n,    \
                                       int64_t step, double lr, double beta1, double beta2,   \
                                       double eps, double weight_decay, int decoupled,        \
                                       int maximize)                                          \
{                                                                                             \
    const double s = sqrt(1 - pow(beta2, (double)step));                                      \
    const T sign = maximize ? (T)-1 : (T)1, wd = decoupled ? (T)0 : (T)weight_decay;          \
    const T decay = decoupled ? (T)(1 - lr * weight_decay) : (T)1;                            \
    const T b1 = (T)beta1, c1 = (T)(1 - beta1), b2 = (T)beta2, c2 = (T)(1 - beta2);           \
    const T epss = (T)(eps * s), scale = (T)(lr * s / (1 - pow(beta1, (double)step)));        \
    if (vmax == NULL) {                                                                       \
        for (int64_t i = 0; i < n; i++) {                                                     \
            const T gi = GRAD(i), mi = b1 * m[i] + c1 * gi, vi = b2 * v[i] + c2 * (gi * gi);  \
            m[i] = mi;                                                                        \
            v[i] = vi;                                                                        \
            p[i] = p[i] * decay - scale * (mi / (SQRT(vi) + epss));                           \
        }                                                                                     \
    } else { /* amsgrad: the running max of v (NaN-propagating, like np.maximum) */           \
        for (int64_t i = 0; i < n; i++) {                                                     \
            const T gi = GRAD(i), mi = b1 * m[i] + c1 * gi, vi = b2 * v[i] + c2 * (gi * gi);  \
            const T old = vmax[i];                                                            \
            const T vm = (old != old || vi != vi) ? old + vi : (vi > old ? vi : old);         \
            m[i] = mi;                                                                        \
            v[i] = vi;                                                                        \
            vmax[i] = vm;                                                                     \
            p[i] = p[i] * decay - scale * (mi / (SQRT(vm) + epss));                           \
        }                                                                                     \
    }                                                                                         \
}

DEFINE_OPTIM(float, f32, sqrtf)
DEFINE_OPTIM(double, f64, sqrt)
