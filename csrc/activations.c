/* activations.c: relu, leaky_relu, sigmoid, tanh, gelu and their backward passes, f32 and f64.
 * Each kernel is written once, in activations_impl.h, and compiled for float and for double.
 * Loops are branch-free so they vectorise (exp, and erf for float, from vmath.h; double gelu
 * uses libm's erf, exact but scalar). NaN propagates as in NumPy. All arrays contiguous, n
 * long; forward: out = f(x); backward: dx = f'(.) * g, written, never accumulated. (The backend
 * routes tanh forward to NumPy, whose SVML tanh is faster; linear's epilogue uses it.) */
#include <math.h>
#include "micrograd.h"
#include "vmath.h"

/* tanh for |x| < 0.625: x + x z P(z), z = x^2 (Cephes tanhf / tanh minimax coefficients) */
static inline float tanh_small_f32(float x)
{
    const float z = x * x;
    return x + x * z * ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z
                          - 5.37397155531e-2f) * z + 1.33314422036e-1f) * z - 3.33332819422e-1f);
}

static inline double tanh_small_f64(double x)
{
    const double z = x * x;
    return x + x * z * (((-9.64399179425052238628e-1 * z - 9.92877231001918586564e1) * z
                         - 1.61468768441708447952e3)
                        / (((z + 1.12811678491632931402e2) * z + 2.23548839060100448583e3) * z
                           + 4.84406305325125486048e3));
}

#define T float
#define SUFFIX(name) name##_f32
#define EXP mg_expf
#define ERF mg_erff
#define TANH_SMALL tanh_small_f32
#include "activations_impl.h"
#undef T
#undef SUFFIX
#undef EXP
#undef ERF
#undef TANH_SMALL

#define T double
#define SUFFIX(name) name##_f64
#define EXP mg_exp
#define ERF erf
#define TANH_SMALL tanh_small_f64
#include "activations_impl.h"
#undef T
#undef SUFFIX
#undef EXP
#undef ERF
#undef TANH_SMALL
