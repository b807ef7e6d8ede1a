/* elementwise.c: same-shape binary ops and unary exp/log over contiguous arrays.
 * Broadcasting is done before the call (the Python side falls back to NumPy otherwise), so every
 * kernel here is one flat loop that the compiler vectorises; exp and log use vmath.h. The
 * kernels are written once, in elementwise_impl.h, and compiled for float and for double. */
#include "micrograd.h"
#include "vmath.h"

#define T float
#define SUFFIX(name) name##_f32
#define EXP mg_expf
#define LOG mg_logf
#include "elementwise_impl.h"
#undef T
#undef SUFFIX
#undef EXP
#undef LOG

#define T double
#define SUFFIX(name) name##_f64
#define EXP mg_exp
#define LOG mg_log
#include "elementwise_impl.h"
#undef T
#undef SUFFIX
#undef EXP
#undef LOG
