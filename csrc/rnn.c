/* rnn.c: the elementwise gate math of one LSTM or GRU time step, forward and backward, f32 and
 * f64. The step's matrix products (x W_ih^T, h W_hh^T) are GEMMs the caller makes; one call
 * here does everything else of the step, which NumPy spells as ~15 whole-array passes.
 *
 *   LSTM   pre = [z_i, z_f, z_g, z_o] (gate order as PyTorch's)
 *          i, f, o = sigmoid(z_i, z_f, z_o), g = tanh(z_g), c = f c_prev + i g, h = o tanh(c)
 *   GRU    gi = x W_ih^T + b_ih = [a_r, a_z, a_n], gh = h_prev W_hh^T + b_hh = [b_r, b_z, b_n]
 *          r = sigmoid(a_r + b_r), z = sigmoid(a_z + b_z), n = tanh(a_n + r b_n),
 *          h = (h_prev - n) z + n
 *
 * The work goes row by row (one batch element: a few KB, so its gates stay in L1 from the
 * activation to the cell update). The activations are activations.c's sigmoid and tanh kernels
 * called on the row's gate blocks, so the values are the C backend's sigmoid and tanh; the
 * arithmetic around them is written in the same order as the NumPy reference
 * (numpy_backend.py). Rows are split over OpenMP threads (see row_threads). The bodies are
 * rnn_impl.h, compiled once for float and once for double. */
#include <string.h>
#include "micrograd.h"
#include "threads.h"
#include "vmath.h"

/* Threads for a split over the batch rows (threads.h), by gate elements (rows * elements per
 * row). With threads asked for (nthreads > 0) the bar is low: the step's GEMMs have just woken
 * them, and on two free cores a split already halves a 16K-element LSTM step (9 -> 5 us
 * forward, float32; the benchmark's 32K-element step 17 -> 9 us). With the default it is high,
 * as pool.c's: with the other core busy a split measured 1.5-4.7x slower (large steps). */
static int row_threads(int nthreads, int64_t rows, int64_t elements)
{
    return mg_split_threads(nthreads, rows, (double)rows * (double)elements, 16384.0, 4194304.0);
}

/* Threads for a whole sequence (mg_lstm_forward, ...), split over the batch rows: one parallel
 * region for all steps, so the bar is the GEMM's for one region (gemm.c's thread_count: 128^3
 * multiply-adds with threads asked for, 8 x 128^3 with the default) applied to the sequence's
 * recurrent products, steps x batch x gates x hid; each thread then needs at least 2 rows. */
static int seq_threads(int nthreads, int64_t steps, int64_t batch, int64_t gates, int64_t hid)
{
    const double work = (double)steps * (double)batch * (double)gates * (double)hid;
    const double chunk = 128.0 * 128.0 * 128.0;
    const int nt = mg_split_threads(nthreads, batch / 2, work, chunk, 8 * chunk);
    return nt;
}

/* This thread's block of the batch rows [r0, r1) in a team made by seq_threads (all rows
 * outside a parallel region). */
static void seq_rows(int64_t batch, int64_t *r0, int64_t *r1)
{
    const int64_t id = mg_thread_id(), n = mg_team_size();
    *r0 = batch * id / n;
    *r1 = batch * (id + 1) / n;
}

#define T float
#define SUFFIX(name) name##_f32
#include "rnn_impl.h"
#undef T
#undef SUFFIX

#define T double
#define SUFFIX(name) name##_f64
#include "rnn_impl.h"
#undef T
#undef SUFFIX
