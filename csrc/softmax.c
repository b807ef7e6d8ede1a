/* softmax.c: softmax, log_softmax and fused softmax-cross-entropy over the rows of a contiguous
 * (n, c) array, f32 and f64, forward and backward. Each row is two or three vectorised passes:
 * max, exp-and-sum (vmath.h), scale. Rows with c == 0 produce nothing; a row holding +inf or NaN
 * gives NaN, as the NumPy reference does. The kernels are written once, in softmax_impl.h, and
 * compiled for float and for double. */
#include <math.h>
#include "micrograd.h"
#include "vmath.h"

#define T float
#define SUFFIX(name) name##_f32
#define EXP mg_expf
#define LOG logf
#include "softmax_impl.h"
#undef T
#undef SUFFIX
#undef EXP
#undef LOG

#define T double
#define SUFFIX(name) name##_f64
#define EXP mg_exp
#define LOG log
#include "softmax_impl.h"
#undef T
#undef SUFFIX
#undef EXP
#undef LOG
