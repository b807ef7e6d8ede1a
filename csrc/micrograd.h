/* micrograd.h: the one header of the C core, and the single source of truth for the cffi cdef.
 *
 * Conventions (see docs/ARCHITECTURE.md):
 *   - names are mg_<op>[_backward]_<dtype>, dtype f32 (float) or f64 (double);
 *   - outputs first, then const inputs, then sizes, then flags/strides;
 *   - sizes and leading dimensions are int64_t and count ELEMENTS, not bytes; matrix products
 *     name their dimensions in BLAS order: op(a) is (m,k), op(b) is (k,n), the result (m,n);
 *   - kernels are pure: no globals (but fork.c's flag and gemm.c's configuration, written once
 *     at load, which they read), no printing; they trust the Python side, which has validated
 *     every shape, dtype and stride before the call;
 *   - backward kernels WRITE their result (=); gradients are accumulated once, in Python.
 * Lines starting with '#' are dropped before the text reaches cffi's cdef.
 * Kernel bodies are written once per family in a *_impl.h file that the family's .c file
 * includes twice, with T defined as float and as double (SUFFIX(name) gives name_f32/_f64).
 */
#ifndef MICROGRAD_H
#define MICROGRAD_H
#include <stdint.h>

/* ---- gemm.c: c = alpha * op(a) @ op(b) + beta * c ------------------------------------------
 * op(a) is (m,k): a is stored row-major as (m,k) with row stride lda, or as (k,m) when trans_a.
 * op(b) is (k,n): b is stored row-major as (k,n) with row stride ldb, or as (n,k) when trans_b.
 * c is (m,n) with row stride ldc. beta == 0 means c is only written, never read (so it may hold
 * garbage or NaN). nthreads <= 0 means "use the OpenMP default" and keeps products under
 * 256^3 multiply-adds on one thread; an explicit nthreads > 0 threads products from 128^3 on.
 * In a child process made by fork() every product runs on the calling thread (fork.c).
 * The cache blocks come from the configuration (mg_gemm_get_config). Packing buffers are
 * malloc'ed once per call. */
void mg_gemm_f32(float *c, const float *a, const float *b, int64_t m, int64_t n, int64_t k,
                 int trans_a, int trans_b, float alpha, float beta,
                 int64_t lda, int64_t ldb, int64_t ldc, int nthreads);
void mg_gemm_f64(double *c, const double *a, const double *b, int64_t m, int64_t n, int64_t k,
                 int trans_a, int trans_b, double alpha, double beta,
                 int64_t lda, int64_t ldb, int64_t ldc, int nthreads);
/* Same contract, with the micro-kernel chosen by hand: isa 2 = AVX-512F, 1 = AVX2+FMA,
 * 0 = the baseline kernel (SSE2 on x86-64, portable C elsewhere; always packed and blocked);
 * -1 = automatic, as mg_gemm_*: the best kernel this CPU has, and a direct unpacked loop for
 * products of at most 16*16*32 multiply-adds. An isa the CPU lacks falls back to the best it
 * has. */
void mg_gemm_isa_f32(float *c, const float *a, const float *b, int64_t m, int64_t n, int64_t k,
                     int trans_a, int trans_b, float alpha, float beta,
                     int64_t lda, int64_t ldb, int64_t ldc, int nthreads, int isa);
void mg_gemm_isa_f64(double *c, const double *a, const double *b, int64_t m, int64_t n,
                     int64_t k, int trans_a, int trans_b, double alpha, double beta,
                     int64_t lda, int64_t ldb, int64_t ldc, int nthreads, int isa);
/* The best micro-kernel this CPU runs: 2 = AVX-512F, 1 = AVX2+FMA, 0 = the baseline. */
int mg_gemm_isa(void);
/* A micro-kernel's name: "avx512f", "avx2+fma", "sse2" (or "portable" off x86); "" if none. */
const char *mg_gemm_isa_name(int isa);
/* The textbook triple loop, same contract; kept as the readable reference and for benchmarks. */
void mg_gemm_naive_f32(float *c, const float *a, const float *b, int64_t m, int64_t n, int64_t k,
                       int trans_a, int trans_b, float alpha, float beta,
                       int64_t lda, int64_t ldb, int64_t ldc);
void mg_gemm_naive_f64(double *c, const double *a, const double *b, int64_t m, int64_t n,
                       int64_t k, int trans_a, int trans_b, double alpha, double beta,
                       int64_t lda, int64_t ldb, int64_t ldc);

/* One level of the data cache as the CPU reports it, for one instance (per core for L1d and
 * L2 on today's x86, per group of cores for L3). 0 = unknown. */
typedef struct {
    int64_t size;      /* bytes */
    int64_t ways;      /* associativity (size / line when fully associative) */
    int64_t line;      /* line size, bytes */
    int64_t shared_by; /* logical CPUs sharing the instance */
} mg_cache_level;
enum { MG_CACHES_DEFAULT = 0, MG_CACHES_CPUID = 1, MG_CACHES_SYSCONF = 2 };
typedef struct {
    mg_cache_level l1d, l2, l3;
    int source; /* where the numbers came from: MG_CACHES_CPUID, _SYSCONF, or none (_DEFAULT) */
} mg_caches;
/* A GEMM's blocking: the micro-kernel's tile of c (mr x nr), the k panel depth kc, the rows of
 * a packed A block mc, the columns of a packed B panel nc; op(a) is read in place (unpacked)
 * while a block spans at most a_span bytes, op(b) while its kc rows span at most b_span. */
typedef struct {
    int64_t mr, nr, kc, mc, nc, a_span, b_span;
} mg_gemm_blocking;
/* The analytical model (gemm.c explains it): the blocking of micro-kernel isa (0..2) for
 * elements of elem_size bytes (4 or 8) on a CPU with these caches; unknown fields (0) take
 * defaults. A pure function of its arguments; returns 0, or -1 for a bad isa or size. */
int mg_gemm_blocking_for(mg_gemm_blocking *out, const mg_caches *caches, int isa,
                         int elem_size);
/* What the GEMM runs with, computed once when the module is loaded and read-only after: the
 * CPU's name, its caches, the best micro-kernel, and the model's blocking for each isa. */
typedef struct {
    char cpu[64];
    mg_caches caches;
    int isa;
    mg_gemm_blocking f32[3], f64[3]; /* indexed by isa */
} mg_gemm_config;
const mg_gemm_config *mg_gemm_get_config(void);
/* mg_gemm_isa_* with the blocking given (NULL: the configuration's): mc, kc, nc and the
 * in-place limits are taken from it (mc rounded up to the tile, nc down to it; mr and nr are
 * the kernel's), so tests can cross every block edge with small blocks. */
void mg_gemm_blocked_f32(float *c, const float *a, const float *b, int64_t m, int64_t n,
                         int64_t k, int trans_a, int trans_b, float alpha, float beta,
                         int64_t lda, int64_t ldb, int64_t ldc, int nthreads, int isa,
                         const mg_gemm_blocking *blocking);
void mg_gemm_blocked_f64(double *c, const double *a, const double *b, int64_t m, int64_t n,
                         int64_t k, int trans_a, int trans_b, double alpha, double beta,
                         int64_t lda, int64_t ldb, int64_t ldc, int nthreads, int isa,
                         const mg_gemm_blocking *blocking);

/* ---- linear.c: the fully connected layer (PyTorch layout), dimensions in BLAS order ------
 * forward:  y = act(x @ w^T + b); x is (m,k), w is (n,k), b is (n,) or NULL, y is (m,n).
 * backward: dz = g * act'(y) (written to dz, (m,n); dz is unused and may be NULL when act is
 *           MG_ACT_NONE); db = column sums of dz (n,); dw = dz^T @ x (n,k); dx = dz @ w (m,k).
 *           dx, dw, db may each be NULL (not wanted). y is the forward's output.
 * All arrays contiguous. act is one of the MG_ACT_* values. */
enum { MG_ACT_NONE = 0, MG_ACT_RELU = 1, MG_ACT_SIGMOID = 2, MG_ACT_TANH = 3 };
void mg_linear_f32(float *y, const float *x, const float *w, const float *b, int64_t m,
                   int64_t n, int64_t k, int act, int nthreads);
void mg_linear_f64(double *y, const double *x, const double *w, const double *b, int64_t m,
                   int64_t n, int64_t k, int act, int nthreads);
void mg_linear_backward_f32(float *dx, float *dw, float *db, float *dz, const float *x,
                            const float *w, const float *y, const float *g, int64_t m,
                            int64_t n, int64_t k, int act, int nthreads);
void mg_linear_backward_f64(double *dx, double *dw, double *db, double *dz, const double *x,
                            const double *w, const double *y, const double *g, int64_t m,
                            int64_t n, int64_t k, int act, int nthreads);

/* ---- activations.c: all arrays contiguous, n elements ---------------------------------------
 * forward:  out = f(x)            backward: dx = f'(.) * g
 * relu, leaky_relu and gelu backward take the input x; sigmoid and tanh backward the output y.
 * Forward kernels may run in place (out == x): linear.c's epilogue does. */
void mg_relu_f32(float *out, const float *x, int64_t n);
void mg_relu_f64(double *out, const double *x, int64_t n);
void mg_relu_backward_f32(float *dx, const float *x, const float *g, int64_t n);
void mg_relu_backward_f64(double *dx, const double *x, const double *g, int64_t n);
void mg_leaky_relu_f32(float *out, const float *x, float slope, int64_t n);
void mg_leaky_relu_f64(double *out, const double *x, double slope, int64_t n);
void mg_leaky_relu_backward_f32(float *dx, const float *x, const float *g, float slope,
                                int64_t n);
void mg_leaky_relu_backward_f64(double *dx, const double *x, const double *g, double slope,
                                int64_t n);
void mg_sigmoid_f32(float *out, const float *x, int64_t n);
void mg_sigmoid_f64(double *out, const double *x, int64_t n);
void mg_sigmoid_backward_f32(float *dx, const float *y, const float *g, int64_t n);
void mg_sigmoid_backward_f64(double *dx, const double *y, const double *g, int64_t n);
void mg_tanh_f32(float *out, const float *x, int64_t n);
void mg_tanh_f64(double *out, const double *x, int64_t n);
void mg_tanh_backward_f32(float *dx, const float *y, const float *g, int64_t n);
void mg_tanh_backward_f64(double *dx, const double *y, const double *g, int64_t n);
void mg_gelu_f32(float *out, const float *x, int64_t n);
void mg_gelu_f64(double *out, const double *x, int64_t n);
void mg_gelu_backward_f32(float *dx, const float *x, const float *g, int64_t n);
void mg_gelu_backward_f64(double *dx, const double *x, const double *g, int64_t n);

/* ---- softmax.c: over the rows of contiguous (n,c) arrays ------------------------------------
 * softmax_backward takes y = softmax(x); log_softmax_backward takes y = log_softmax(x).
 * cross_entropy: logits (n,c), target (n,) class indices -> loss (n,) = logsumexp - picked
 * logit, prob (n,c) = softmax; backward: dlogits = (prob - onehot(target)) * g[:, None].
 * Both return -1, or the first row whose target is outside [0, c) (nothing written then). */
void mg_softmax_f32(float *y, const float *x, int64_t n, int64_t c);
void mg_softmax_f64(double *y, const double *x, int64_t n, int64_t c);
void mg_softmax_backward_f32(float *dx, const float *y, const float *g, int64_t n, int64_t c);
void mg_softmax_backward_f64(double *dx, const double *y, const double *g, int64_t n,
                             int64_t c);
void mg_log_softmax_f32(float *y, const float *x, int64_t n, int64_t c);
void mg_log_softmax_f64(double *y, const double *x, int64_t n, int64_t c);
void mg_log_softmax_backward_f32(float *dx, const float *y, const float *g, int64_t n,
                                 int64_t c);
void mg_log_softmax_backward_f64(double *dx, const double *y, const double *g, int64_t n,
                                 int64_t c);
int64_t mg_cross_entropy_f32(float *loss, float *prob, const float *logits,
                             const int64_t *target, int64_t n, int64_t c);
int64_t mg_cross_entropy_f64(double *loss, double *prob, const double *logits,
                             const int64_t *target, int64_t n, int64_t c);
int64_t mg_cross_entropy_backward_f32(float *dlogits, const float *prob, const int64_t *target,
                                      const float *g, int64_t n, int64_t c);
int64_t mg_cross_entropy_backward_f64(double *dlogits, const double *prob,
                                      const int64_t *target, const double *g, int64_t n,
                                      int64_t c);

/* ---- conv.c: 2-D convolution (PyTorch's conv2d, a cross-correlation), NCHW ----------------
 * geom is 16 int64_t: n, c, h, w (x), o (output channels), kh, kw (kernel), oh, ow (output),
 * sh, sw (stride), pt, pl (top and left zero padding; bottom and right follow from oh, ow),
 * dh, dw (dilation), groups. x is (n, c, h, w), wt (o, c / groups, kh, kw), b (o,) or NULL,
 * y and g (n, o, oh, ow); every array contiguous.
 * forward:     y[n, o, i, j] = b[o] + sum over ci of o's group, p, q of
 *              wt[o, ci, p, q] * x[n, ci, i * sh - pt + p * dh, j * sw - pl + q * dw]
 *              (x is 0 outside the image);
 * input_grad:  dx = the adjoint of the forward in x (conv_transpose2d's forward);
 * weight_grad: dw = the adjoint in wt, summed over the batch.
 * Each returns 0, or -1 when its workspace cannot be allocated (its output is then undefined).
 * nthreads as mg_gemm's; the batch is split over threads when the call is large enough. */
int mg_conv2d_f32(float *y, const float *x, const float *wt, const float *b,
                  const int64_t *geom, int nthreads);
int mg_conv2d_f64(double *y, const double *x, const double *wt, const double *b,
                  const int64_t *geom, int nthreads);
int mg_conv2d_input_grad_f32(float *dx, const float *g, const float *wt, const int64_t *geom,
                             int nthreads);
int mg_conv2d_input_grad_f64(double *dx, const double *g, const double *wt,
                             const int64_t *geom, int nthreads);
int mg_conv2d_weight_grad_f32(float *dw, const float *x, const float *g, const int64_t *geom,
                              int nthreads);
int mg_conv2d_weight_grad_f64(double *dw, const double *x, const double *g,
                              const int64_t *geom, int nthreads);

/* ---- pool.c: 2-D max and average pooling over the (h, w) planes of NCHW arrays -------------
 * geom is 15 int64_t: planes (n * c), h, w (input), oh, ow (output), kh, kw (window), sh, sw
 * (stride), ph, pw (padding, at most half the window), dh, dw (dilation; 1 for average
 * pooling), count_include_pad, divisor (0: none). x is (planes, h, w), y, idx and g
 * (planes, oh, ow); every array contiguous. Window (i, j) starts at input row i * sh - ph and
 * column j * sw - pw; taps outside the input are skipped (ceil_mode's last window may reach
 * past the padding).
 * max: y = the window's max (NaN if it holds one), idx = its flat position row * w + col in
 *      the plane (the last NaN, else the first max); backward: dx = g added at idx. Returns
 *      -1, or the first position whose idx is outside [0, h * w) (nothing written then).
 * avg: y = the window's sum / divisor: divisor when > 0, else the window's size clipped to the
 *      padded input (count_include_pad) or to the input; backward: g / divisor spread over
 *      the window. */
void mg_max_pool2d_f32(float *y, int64_t *idx, const float *x, const int64_t *geom,
                       int nthreads);
void mg_max_pool2d_f64(double *y, int64_t *idx, const double *x, const int64_t *geom,
                       int nthreads);
int64_t mg_max_pool2d_backward_f32(float *dx, const float *g, const int64_t *idx,
                                   const int64_t *geom, int nthreads);
int64_t mg_max_pool2d_backward_f64(double *dx, const double *g, const int64_t *idx,
                                   const int64_t *geom, int nthreads);
void mg_avg_pool2d_f32(float *y, const float *x, const int64_t *geom, int nthreads);
void mg_avg_pool2d_f64(double *y, const double *x, const int64_t *geom, int nthreads);
void mg_avg_pool2d_backward_f32(float *dx, const float *g, const int64_t *geom, int nthreads);
void mg_avg_pool2d_backward_f64(double *dx, const double *g, const int64_t *geom,
                                int nthreads);

/* ---- elementwise.c: all arrays contiguous, n elements, equal shapes -------------------------
 * exp and log are vmath.h's vectorised versions (max relative error there, and tested). */
void mg_add_f32(float *out, const float *a, const float *b, int64_t n);
void mg_add_f64(double *out, const double *a, const double *b, int64_t n);
void mg_sub_f32(float *out, const float *a, const float *b, int64_t n);
void mg_sub_f64(double *out, const double *a, const double *b, int64_t n);
void mg_mul_f32(float *out, const float *a, const float *b, int64_t n);
void mg_mul_f64(double *out, const double *a, const double *b, int64_t n);
void mg_div_f32(float *out, const float *a, const float *b, int64_t n);
void mg_div_f64(double *out, const double *a, const double *b, int64_t n);
void mg_exp_f32(float *out, const float *x, int64_t n);
void mg_exp_f64(double *out, const double *x, int64_t n);
void mg_log_f32(float *out, const float *x, int64_t n);
void mg_log_f64(double *out, const double *x, int64_t n);

/* ---- optim.c: in-place optimizer updates over n contiguous elements ------------------------
 * sgd: g' = (maximize ? -g : g) + weight_decay * p; with momentum, buf = first ? g' :
 * momentum * buf + (1 - dampening) * g' and g' = nesterov ? g' + momentum * buf : buf
 * (buf may be NULL when momentum == 0); p -= lr * g'.
 * adam (step >= 1): decoupled ? p *= 1 - lr * wd : g' += wd * p; m = b1 m + (1 - b1) g';
 * v = b2 v + (1 - b2) g'^2; vmax = max(vmax, v) when vmax != NULL (amsgrad), used for v;
 * p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). */
void mg_sgd_step_f32(float *p, float *buf, const float *g, int64_t n, double lr, double momentum,
                     double dampening, double weight_decay, int nesterov, int maximize,
                     int first);
void mg_sgd_step_f64(double *p, double *buf, const double *g, int64_t n, double lr,
                     double momentum, double dampening, double weight_decay, int nesterov,
                     int maximize, int first);
void mg_adam_step_f32(float *p, float *m, float *v, float *vmax, const float *g, int64_t n,
                      int64_t step, double lr, double beta1, double beta2, double eps,
                      double weight_decay, int decoupled, int maximize);
void mg_adam_step_f64(double *p, double *m, double *v, double *vmax, const double *g, int64_t n,
                      int64_t step, double lr, double beta1, double beta2, double eps,
                      double weight_decay, int decoupled, int maximize);

/* ---- fork.c: the C core in a child process made by fork() --------------------------------
 * libgomp's thread pool does not survive fork(): a child that entered a parallel region would
 * wait forever. A pthread_atfork handler marks the child; its kernels then run on the calling
 * thread, never entering a parallel region. 1 in such a child (forked after the module was
 * loaded, at any depth), 0 otherwise. */
int mg_forked_child(void);

/* ---- memory.c: the process's allocator keeps freed blocks for reuse -----------------------
 * Raises glibc's mmap threshold (blocks up to mmap_threshold bytes come from the heap, not from
 * fresh mappings) and trim threshold (up to trim_threshold free bytes at the top of the heap
 * stay mapped), so a training step reuses the pages the previous step freed instead of
 * faulting in new ones. 1 when both were set; 0 without glibc, or for values glibc refuses
 * (it takes mmap thresholds up to 32 MiB on 64-bit systems). */
int mg_keep_freed_memory(int64_t mmap_threshold, int64_t trim_threshold);

/* ---- info.c: what this build and this CPU are (benchmark tables, `micrograd info`) -------- */
int mg_has_openmp(void);
int mg_max_threads(void); /* the threads a kernel may use: 1 in a forked child */
/* Runs iters rounds of independent FMA chains on each of nthreads threads at the widest vector
 * width (AVX-512 or AVX2); returns the flops done (0 without FMA). Time it to get the peak.
 * In a forked child it runs one thread, and counts the flops of one. */
double mg_fma_peak_f32(int64_t iters, int nthreads);
/* The data caches as the CPU reports them: CPUID's deterministic cache leaves on x86 (leaf 4,
 * or 0x8000001D on AMD), else sysconf; fields nobody reports stay 0. Asks the CPU each call
 * (the GEMM asks once, at load: mg_gemm_get_config). */
void mg_detect_caches(mg_caches *out);
/* The CPU's brand string (CPUID on x86), NUL-terminated in size bytes; "" when unknown. */
void mg_cpu_name(char *out, int64_t size);

/* ---- rnn.c: one LSTM / GRU time step's gate math, row by row; whole sequences -------------
 * Every array contiguous; batch rows, hid the hidden size; gate arrays are (batch, 4 * hid)
 * (LSTM: i, f, g, o) or (batch, 3 * hid) (GRU: r, z, n), state arrays (batch, hid). The step's
 * matrix products are the caller's. nthreads as mg_gemm's; rows are split over threads from
 * 16K gate elements (batch * 4 or 3 * hid) when nthreads > 0, from 4M with the default.
 * Backward kernels write their outputs (=).
 * lstm:  acts = [sigmoid(z_i), sigmoid(z_f), tanh(z_g), sigmoid(z_o)] of pre = [z_i .. z_o],
 *        c = f c_prev + i g, tanh_c = tanh(c), h = o tanh_c.
 *        backward, given dh and dc (the gradients of h and c): dc' = dc + dh o (1 - tanh_c^2),
 *        dpre = [dc' g i(1-i), dc' c_prev f(1-f), dc' i (1-g^2), dh tanh_c o(1-o)],
 *        dc_prev = dc' f.
 * gru:   gi = [a_r, a_z, a_n], gh = [b_r, b_z, b_n]: r = sigmoid(a_r + b_r),
 *        z = sigmoid(a_z + b_z), n = tanh(a_n + r b_n), h = (h_prev - n) z + n.
 *        backward, given dh: dn = dh (1 - z)(1 - n^2), dgi = [dr, dz, dn], dgh = [dr, dz, dn r]
 *        with dr = dn b_n r(1-r), dz = dh (h_prev - n) z(1-z); dh_z = dh z (dh_prev is
 *        dh_z + dgh @ W_hh, the caller's product). Only gh's n block (b_n) is read. */
void mg_lstm_gates_f32(float *acts, float *c, float *tanh_c, float *h, const float *pre,
                       const float *c_prev, int64_t batch, int64_t hid, int nthreads);
void mg_lstm_gates_f64(double *acts, double *c, double *tanh_c, double *h, const double *pre,
                       const double *c_prev, int64_t batch, int64_t hid, int nthreads);
void mg_lstm_gates_backward_f32(float *dpre, float *dc_prev, const float *acts,
                                const float *tanh_c, const float *c_prev, const float *dh,
                                const float *dc, int64_t batch, int64_t hid, int nthreads);
void mg_lstm_gates_backward_f64(double *dpre, double *dc_prev, const double *acts,
                                const double *tanh_c, const double *c_prev, const double *dh,
                                const double *dc, int64_t batch, int64_t hid, int nthreads);
void mg_gru_gates_f32(float *r, float *z, float *n, float *h, const float *gi, const float *gh,
                      const float *h_prev, int64_t batch, int64_t hid, int nthreads);
void mg_gru_gates_f64(double *r, double *z, double *n, double *h, const double *gi,
                      const double *gh, const double *h_prev, int64_t batch, int64_t hid,
                      int nthreads);
void mg_gru_gates_backward_f32(float *dgi, float *dgh, float *dh_z, const float *r,
                               const float *z, const float *n, const float *gh,
                               const float *h_prev, const float *dh, int64_t batch, int64_t hid,
                               int nthreads);
void mg_gru_gates_backward_f64(double *dgi, double *dgh, double *dh_z, const double *r,
                               const double *z, const double *n, const double *gh,
                               const double *h_prev, const double *dh, int64_t batch,
                               int64_t hid, int nthreads);
/* Whole sequences of one layer and direction: the recurrence, each step's h W_hh^T (a GEMM)
 * and its gate math as above, in one call; the input projections (for all steps at once) and
 * the weight gradients are the caller's GEMMs. Arrays (steps, batch, width) time-major; reverse
 * runs t = steps-1 .. 0. Batch rows are split over threads for the whole sequence (no barrier
 * per step) when the recurrent products reach gemm's bar. steps, batch, hid > 0; work is
 * scratch: one step's gates (batch * 4 or 3 * hid) forward, (2, batch, hid) for the LSTM's
 * backward and (batch, hid) for the GRU's.
 * lstm_sequence:  z (s, b, 4h) = x W_ih^T + b_ih + b_hh -> acts (s, b, 4h), cs, tcs, hs
 *     (s, b, h): each step's gate activations, c, tanh(c), h; h0, c0 (b, h).
 * lstm_sequence_backward:  g (s, b, h) the gradient of every h, dc_last that of the last c
 *     -> dz (s, b, 4h) the pre-activation gradients, dh0, dc0 (b, h).
 * gru_sequence:  a (s, b, 3h) = x W_ih^T + b_ih -> bs (s, b, 3h) = h_{t-1} W_hh^T + b_hh
 *     (b_hh (3h): zeros for a layer without biases), rs, zs, ns, hs (s, b, h).
 * gru_sequence_backward:  g (s, b, h) -> da, db (s, b, 3h), the gradients of a and bs, and
 *     dh0 (b, h). */
void mg_lstm_sequence_f32(float *acts, float *cs, float *tcs, float *hs, float *work,
                          const float *z, const float *h0, const float *c0, const float *w_hh,
                          int64_t steps, int64_t batch, int64_t hid, int reverse, int nthreads);
void mg_lstm_sequence_f64(double *acts, double *cs, double *tcs, double *hs, double *work,
                          const double *z, const double *h0, const double *c0,
                          const double *w_hh, int64_t steps, int64_t batch, int64_t hid,
                          int reverse, int nthreads);
void mg_lstm_sequence_backward_f32(float *dz, float *dh0, float *dc0, float *work,
                                   const float *acts, const float *cs, const float *tcs,
                                   const float *c0, const float *g, const float *dc_last,
                                   const float *w_hh, int64_t steps, int64_t batch, int64_t hid,
                                   int reverse, int nthreads);
void mg_lstm_sequence_backward_f64(double *dz, double *dh0, double *dc0, double *work,
                                   const double *acts, const double *cs, const double *tcs,
                                   const double *c0, const double *g, const double *dc_last,
                                   const double *w_hh, int64_t steps, int64_t batch,
                                   int64_t hid, int reverse, int nthreads);
void mg_gru_sequence_f32(float *rs, float *zs, float *ns, float *hs, float *bs, float *work,
                         const float *a, const float *h0, const float *w_hh, const float *b_hh,
                         int64_t steps, int64_t batch, int64_t hid, int reverse, int nthreads);
void mg_gru_sequence_f64(double *rs, double *zs, double *ns, double *hs, double *bs,
                         double *work, const double *a, const double *h0, const double *w_hh,
                         const double *b_hh, int64_t steps, int64_t batch, int64_t hid,
                         int reverse, int nthreads);
void mg_gru_sequence_backward_f32(float *da, float *db, float *dh0, float *work, const float *rs,
                                  const float *zs, const float *ns, const float *bs,
                                  const float *hs, const float *h0, const float *g,
                                  const float *w_hh, int64_t steps, int64_t batch, int64_t hid,
                                  int reverse, int nthreads);
void mg_gru_sequence_backward_f64(double *da, double *db, double *dh0, double *work,
                                  const double *rs, const double *zs, const double *ns,
                                  const double *bs, const double *hs, const double *h0,
                                  const double *g, const double *w_hh, int64_t steps,
                                  int64_t batch, int64_t hid, int reverse, int nthreads);

/* ---- executor.c: a recorded training step replayed in one call (micrograd.compile) -------
 * A plan is an array of steps, each one kernel call: the kernel (fn, cast back to its real
 * type by the case of its kind), its pointer arguments as indices into the plan's pointer
 * table (-1: NULL), its integer and floating-point arguments, all in C order. mg_exec runs
 * steps[0..n) in order and returns -1, or the index of the first step whose kernel reported
 * a failure (a cross-entropy target or pool index out of range, a workspace not allocated);
 * the steps after it are not run. The Python side builds every step from shapes it has
 * checked, as for a direct call: C trusts them. kind is one of MG_EXEC_*, one per kernel
 * signature; dtype is 4 (float) or 8 (double).
 * The executor's own kernels run what NumPy does between the C kernels, bitwise as NumPy:
 *   binary: out[i] = a[i * sa] op b[i * sb] (sa, sb 0 or 1: a scalar broadcast), op one of
 *           MG_EXEC_ADD, _SUB, _MUL, _DIV;
 *   neg:    out = -x;  fill: out[0..n) = *value;
 *   sum:    out[0] = 0 + NumPy's pairwise sum of x[0..n) (np.add.reduce's order: blocks of
 *           at most 128 split in halves that are multiples of 8, 8 running sums per block). */
enum { MG_EXEC_UNARY = 1, MG_EXEC_BINARY = 2, MG_EXEC_BROADCAST = 3, MG_EXEC_LEAKY = 4,
       MG_EXEC_LEAKY_BACKWARD = 5, MG_EXEC_ROWS = 6, MG_EXEC_ROWS_BACKWARD = 7,
       MG_EXEC_CROSS_ENTROPY = 8, MG_EXEC_CROSS_ENTROPY_BACKWARD = 9, MG_EXEC_GEMM = 10,
       MG_EXEC_LINEAR = 11, MG_EXEC_LINEAR_BACKWARD = 12, MG_EXEC_SGD = 13,
       MG_EXEC_ADAM = 14 };
enum { MG_EXEC_ADD = 0, MG_EXEC_SUB = 1, MG_EXEC_MUL = 2, MG_EXEC_DIV = 3 };
typedef struct {
    int32_t kind;
    int32_t dtype;
    void (*fn)(void);
    int32_t p[8];
    int64_t i[10];
    double d[6];
} mg_exec_step;
int64_t mg_exec(const mg_exec_step *steps, int64_t n, void *const *ptrs);
void mg_exec_binary_f32(float *out, const float *a, const float *b, int64_t n, int64_t sa,
                        int64_t sb, int op);
void mg_exec_binary_f64(double *out, const double *a, const double *b, int64_t n, int64_t sa,
                        int64_t sb, int op);
void mg_exec_neg_f32(float *out, const float *x, int64_t n);
void mg_exec_neg_f64(double *out, const double *x, int64_t n);
void mg_exec_fill_f32(float *out, const float *value, int64_t n);
void mg_exec_fill_f64(double *out, const double *value, int64_t n);
void mg_exec_sum_f32(float *out, const float *x, int64_t n);
void mg_exec_sum_f64(double *out, const double *x, int64_t n);

#endif /* MICROGRAD_H */
