/* conv.c: 2-D convolution (PyTorch's conv2d: a cross-correlation), NCHW, forward and both
 * backwards, f32 and f64.
 *
 * Each image goes through im2col: the (c * kh * kw, oh * ow) matrix whose column holds the
 * receptive field of one output pixel (zeros where the window hangs over the padding), so a
 * group's output is one GEMM with the project's packed GEMM (gemm.c):
 *
 *   forward   y[n, g] (og, P)  = w[g] (og, K) @ col[g] (K, P)           (+ bias: y starts as b)
 *   input     dcol[g] (K, P)   = w[g]^T (K, og) @ g[n, g] (og, P), then col2im adds dcol into dx
 *   weight    dw[g] (og, K)   += g[n, g] (og, P) @ col[g]^T (P, K)       summed over the batch
 *
 * with K = (c / groups) * kh * kw and P = oh * ow. A 1x1 kernel with stride 1 and no padding
 * needs no im2col: the image itself is the matrix.
 * Threads: with enough work (the GEMM's threshold) and more than one image, OpenMP splits the
 * batch, each thread with its own column buffer and GEMMs on one thread. Images are handed out
 * as threads come free (dynamic schedule): on a shared machine a thread that loses its core
 * for a while then delays only its current image. The weight gradient sums a partial dw per
 * fixed chunk of images, in chunk order, so the result does not depend on timing.
 * With one image the GEMMs get the threads. Workspaces are malloc'ed once per call, never in
 * the loops; a failed allocation returns -1 (nothing else does).
 * The bodies are conv_impl.h, compiled once for float and once for double. */
#include <stdlib.h>
#include <string.h>
#include "micrograd.h"
#include "threads.h"
#include "vmath.h"

/* The geometry array of micrograd.h, unpacked. */
typedef struct {
    int64_t n, c, h, w, o, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw, groups;
} conv_geom;

static conv_geom unpack(const int64_t *g)
{
    conv_geom q = {g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11],
                   g[12], g[13], g[14], g[15]};
    return q;
}

/* A 1x1 kernel, stride 1, no padding: the image is its own column matrix. */
static int is_pointwise(const conv_geom *q)
{
    return q->kh == 1 && q->kw == 1 && q->sh == 1 && q->sw == 1 && q->pt == 0 && q->pl == 0
           && q->oh == q->h && q->ow == q->w;
}

/* First and one-past-last output column j whose input column j * s + off lies in [0, w). */
static void valid_range(int64_t off, int64_t s, int64_t w, int64_t ow, int64_t *j0, int64_t *j1)
{
    int64_t lo = off >= 0 ? 0 : (-off + s - 1) / s;
    int64_t hi = w - off <= 0 ? 0 : (w - off + s - 1) / s;
    if (hi > ow) hi = ow;
    if (lo > hi) lo = hi;
    *j0 = lo;
    *j1 = hi;
}

/* Output rows per tile of an image's im2col matrix (rows x oh * ow): the tile fills at most half
 * of L2, so the GEMM packs it from L2 instead of from memory, yet has at least 4 NR columns, or
 * the GEMM runs too many edge slivers. A 64-channel 3x3 layer at 56x56 has a 7 MiB im2col
 * matrix per image; in tiles of 4 rows its forward ran 1.6x, input gradient 1.28x and weight
 * gradient 1.14x as fast on a Zen 4 (one thread, paired runs); at 14x14 and for strided layers,
 * whose matrices are 2 MiB, the tiles gained 10-20% forward and cost up to 10% in the input
 * gradient. */
static int64_t conv_tile_rows(const conv_geom *q, int64_t rows, int64_t elem_size)
{
    const mg_gemm_config *cfg = mg_gemm_get_config();
    const int64_t l2 = cfg->caches.l2.size > 0 ? cfg->caches.l2.size : 256 * 1024;
    const int64_t nr = (elem_size == 4 ? cfg->f32 : cfg->f64)[cfg->isa].nr;
    int64_t cols = l2 / 2 / (rows > 0 ? rows * elem_size : elem_size);
    if (cols < 4 * nr) cols = 4 * nr;
    const int64_t tile = q->ow > 0 ? cols / q->ow : q->oh;
    return tile < 1 ? 1 : tile > q->oh ? (q->oh > 0 ? q->oh : 1) : tile;
}

/* Threads for a batch split: with enough work (the GEMM's threshold) and more than one image
 * (threads.h). */
static int batch_threads(int nthreads, int64_t images, double work)
{
    const double chunk = 128.0 * 128.0 * 128.0;
    return mg_split_threads(nthreads, images, work, chunk, 8 * chunk);
}

#define T float
#define SUFFIX(name) name##_f32
#include "conv_impl.h"
#undef T
#undef SUFFIX

#define T double
#define SUFFIX(name) name##_f64
#include "conv_impl.h"
#undef T
#undef SUFFIX
