/* pool.c: 2-D max and average pooling over NCHW planes, forward and backward, f32 and f64.
 *
 * Every (n, c) plane is independent, so planes are split over OpenMP threads (in shares handed
 * out as threads come free) when the call reads enough elements to pay for a parallel region.
 * Max pooling follows PyTorch's CPU kernel exactly: each window starts at its first in-bounds
 * tap with -inf, a value replaces the running max when it is larger or NaN (so NaN propagates,
 * and the last NaN's index is kept), and indices are flat positions h * W + w within the plane
 * (what max_unpool2d reads); windows that need no clipping take a vectorised path. Average
 * pooling divides by PyTorch's divisor: divisor_override when given, else the window's size
 * clipped to the padded input (count_include_pad) or to the input itself. The backward of max
 * pooling scatters g at the saved indices; of average pooling, spreads g / divisor over the
 * window. The bodies are pool_impl.h, compiled once for float and once for double. */
#include <math.h>
#include "micrograd.h"
#include "threads.h"
#include "vmath.h"

/* The geometry array of micrograd.h, unpacked. */
typedef struct {
    int64_t planes, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, count_include_pad, divisor;
} pool_geom;

static pool_geom unpack_pool(const int64_t *g)
{
    pool_geom q = {g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11],
                   g[12], g[13], g[14]};
    return q;
}

/* Threads for a split over planes, when the call reads enough elements (threads.h). */
static int plane_threads(int nthreads, const pool_geom *q)
{
    const double reads = (double)q->planes * (double)(q->oh * q->ow) * (double)(q->kh * q->kw);
    return mg_split_threads(nthreads, q->planes, reads, 262144.0, 4194304.0);
}

#ifdef _OPENMP
/* Planes per share of a threaded call: about eight shares per thread, handed out as threads
 * come free, so a thread that loses its core on a shared machine delays one share, not half
 * the call. */
static int64_t plane_chunk(const pool_geom *q, int nt)
{
    const int64_t chunk = q->planes / (8 * (int64_t)nt);
    return chunk > 1 ? chunk : 1;
}
#endif

/* First tap t >= 0 of a window starting at input row `start` (step d) that lands at or after
 * row 0, and one past the last tap that lands before `size`. */
static void tap_range(int64_t start, int64_t d, int64_t k, int64_t size, int64_t *t0, int64_t *t1)
{
    int64_t lo = start >= 0 ? 0 : (-start + d - 1) / d;
    int64_t hi = size - start <= 0 ? 0 : (size - start + d - 1) / d;
    if (hi > k) hi = k;
    if (lo > hi) lo = hi;
    *t0 = lo;
    *t1 = hi;
}

/* PyTorch's average-pooling divisor of output (i, j). */
static int64_t avg_divisor(const pool_geom *q, int64_t i, int64_t j)
{
    if (q->divisor > 0) return q->divisor;
    int64_t hs = i * q->sh - q->ph, ws = j * q->sw - q->pw;
    int64_t he = hs + q->kh, we = ws + q->kw;
    if (he > q->h + q->ph) he = q->h + q->ph;
    if (we > q->w + q->pw) we = q->w + q->pw;
    if (q->count_include_pad) return (he - hs) * (we - ws);
    if (hs < 0) hs = 0;
    if (ws < 0) ws = 0;
    if (he > q->h) he = q->h;
    if (we > q->w) we = q->w;
    return (he - hs) * (we - ws);
}

#define T float
#define SUFFIX(name) name##_f32
#include "pool_impl.h"
#undef T
#undef SUFFIX

#define T double
#define SUFFIX(name) name##_f64
#include "pool_impl.h"
#undef T
#undef SUFFIX
