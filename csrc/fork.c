/* fork.c: the C core in a child process made by fork().
 *
 * The threaded kernels (the GEMM, and through it the fused linear layer) run OpenMP parallel
 * regions. GCC's libgomp keeps the threads of its first region in a pool and reuses them; fork()
 * copies the pool's bookkeeping into the child but not its threads, so the child's first parallel
 * region waits forever for threads that do not exist (multiprocessing's fork start method, a
 * plain os.fork()). libgomp offers no way to rebuild its pool, so a child runs every kernel on
 * the calling thread and never enters a parallel region: the same results, on one thread (as
 * OpenBLAS and PyTorch's own pools do when they cannot restart their threads in a child).
 *
 * How the child knows: a pthread_atfork child handler, registered when the module is loaded,
 * sets `forked`. It is the C core's one global, because the kernels are pure functions of their
 * arguments and nothing else survives into the child to tell them. It needs no atomics: it is
 * written only by that handler, which runs in the child while the child has a single thread, and
 * threads started afterwards see the write (pthread_create orders it before them). */
#define _POSIX_C_SOURCE 200809L
#include "micrograd.h"
#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#define MG_HAS_FORK 1
#endif

static int forked; /* 1 in a child forked after this module was loaded */

int mg_forked_child(void) { return forked; }

#ifdef MG_HAS_FORK
static void mark_child(void) { forked = 1; }

/* Runs when the module is loaded (dlopen), before any kernel can be called or any fork can
 * copy a thread pool. If registration fails (out of memory at load) kernels still run; only
 * a later fork would be unprotected, as before this guard existed. */
__attribute__((constructor)) static void install_fork_handler(void)
{
    (void)pthread_atfork(NULL, NULL, mark_child);
}
#endif
