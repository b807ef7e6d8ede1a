/* linear.c: the fully connected layer, forward and backward, each in one call.
 *
 * forward:  y = act(x @ w^T + b)   (PyTorch's layout: x is (m, k), w is (n, k), y is (m, n))
 *   One GEMM whose C starts as the broadcast bias (beta = 1), so the bias costs one pass over
 *   y; the activation is the epilogue, applied in place right after the product, while y is
 *   still in cache (for a batch of 128 and a few hundred features it is in L2).
 * backward: dz = g * act'(y); db = sum of dz over rows; dw = dz^T @ x; dx = dz @ w
 *   Every activation the epilogue offers has a derivative that is a function of its OUTPUT
 *   (relu: y > 0, sigmoid: y (1 - y), tanh: 1 - y^2), so the pre-activation is never stored.
 *   The bias gradient is summed in the same call, and both products are GEMMs with transposes
 *   as flags (no copy of x, w or dz).
 * The body is linear_impl.h, compiled once for float and once for double. */
#include <string.h>
#include "micrograd.h"

#define T float
#define SUFFIX(name) name##_f32
#include "linear_impl.h"
#undef T
#undef SUFFIX

#define T double
#define SUFFIX(name) name##_f64
#include "linear_impl.h"
#undef T
#undef SUFFIX
