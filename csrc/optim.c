/* optim.c: fused, in-place optimizer updates (PyTorch's SGD and Adam/AdamW formulas), f32 and f64.
 * One pass over the parameter instead of the 2-10 whole-array NumPy operations of the reference
 * (micrograd/backends/numpy_backend.py), which is what the update costs: memory traffic.
 * Scalars that depend only on the step (bias corrections) are computed once, in double. Options
 * become multipliers (maximize: g * -1; coupled weight decay: g + wd p, with wd = 0 when
 * off; decoupled: p * (1 - lr wd)) or separate loops (momentum, first step, nesterov, amsgrad),
 * so every loop body is branch-free and vectorises. The kernels are written once, in
 * optim_impl.h, and compiled for float and for double. */
#include <math.h>
#include <stddef.h>
#include "micrograd.h"
#include "vmath.h" /* MG_VECTOR_CLONES */

#define T float
#define SUFFIX(name) name##_f32
#define SQRT sqrtf
#include "optim_impl.h"
#undef T
#undef SUFFIX
#undef SQRT

#define T double
#define SUFFIX(name) name##_f64
#define SQRT sqrt
#include "optim_impl.h"
#undef T
#undef SUFFIX
#undef SQRT
