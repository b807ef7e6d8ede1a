/* executor.c: micrograd.compile's replay of a recorded training step in one C call.
 * The Python side lowers each recorded kernel call to a step (mg_exec_step: the kernel, its
 * signature kind, its arguments) on buffers allocated once per plan; mg_exec runs the steps in
 * order with a switch on the kind and a call through the kernel's pointer, cast back to its
 * real type (one case per kernel signature in micrograd.h). The executor's own kernels are what
 * NumPy does between the C kernels in a training step (scalar broadcasts, negation, fills and
 * full sums), written to give NumPy's results bit for bit. The bodies are written once, in
 * executor_impl.h, and compiled for float and for double. */
#include <stddef.h>
#include "micrograd.h"
#include "vmath.h" /* MG_VECTOR_CLONES */

/* A step's k-th pointer argument: its entry in the plan's pointer table, or NULL. */
static void *step_arg(const mg_exec_step *s, void *const *ptrs, int k)
{
    return s->p[k] < 0 ? NULL : ptrs[s->p[k]];
}

#define T float
#define SUFFIX(name) name##_f32
#include "executor_impl.h"
#undef T
#undef SUFFIX

#define T double
#define SUFFIX(name) name##_f64
#include "executor_impl.h"
#undef T
#undef SUFFIX

int64_t mg_exec(const mg_exec_step *steps, int64_t n, void *const *ptrs)
{
    for (int64_t j = 0; j < n; j++) {
        const mg_exec_step *s = &steps[j];
        int failed = s->dtype == 8 ? run_step_f64(s, ptrs) : run_step_f32(s, ptrs);
        if (failed) return j;
    }
    return -1;
}
