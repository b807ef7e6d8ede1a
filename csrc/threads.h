/* threads.h: how many OpenMP threads a kernel splits its independent units over (images,
 * planes, batch rows), and which thread is this one. Internal to the C core (not in the cdef).
 *
 * One thread in a forked child (fork.c: OpenMP's pool did not survive the fork; one thread
 * never enters a parallel region), without OpenMP, for fewer than two units, or when the call's
 * work is below what a parallel region is worth: a low bar when threads were asked for
 * (nthreads > 0 says the cores are free), a high one with the default count, because on a busy
 * machine one barrier can cost a whole scheduler time slice (gemm.c's thread_count rule). */
#ifndef MG_THREADS_H
#define MG_THREADS_H

#include <stdint.h>
#include "micrograd.h"
#ifdef _OPENMP
#include <omp.h>
#endif

static inline int mg_split_threads(int nthreads, int64_t units, double work,
                                   double min_work_asked, double min_work_default)
{
#ifdef _OPENMP
    if (mg_forked_child() || units < 2) return 1;
    if (work < (nthreads > 0 ? min_work_asked : min_work_default)) return 1;
    int64_t nt = nthreads > 0 ? nthreads : omp_get_max_threads();
    if (nt > units) nt = units;
    return nt < 1 ? 1 : (int)nt;
#else
    (void)nthreads; (void)units; (void)work; (void)min_work_asked; (void)min_work_default;
    return 1;
#endif
}

static inline int mg_thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* How many threads the current team has (1 outside a parallel region or without OpenMP). */
static inline int mg_team_size(void)
{
#ifdef _OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
}

#endif
