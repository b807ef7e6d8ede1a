/* memory.c: the process's allocator keeps what a training step frees for the next step.
 *
 * A step allocates its activations and gradients (megabytes each: an LSTM's gate activations
 * at sequence 64, batch 32, hidden 256 are 8 MiB) and frees them when the step ends. glibc
 * serves blocks above its mmap threshold (128 KiB, raised to the largest block freed so far)
 * with fresh mappings, and returns the top of the heap to the system once more than its trim
 * threshold (twice the mmap threshold) is free there: either way the next step touches new
 * pages, one page fault each. That LSTM step took 5,100 faults and 14 ms of system time out of
 * 95 ms. Raising both thresholds keeps the blocks in the heap, reused step after step (what a
 * caching allocator does, and what PyTorch's users get from jemalloc or tcmalloc). The cost is
 * resident memory: up to trim_threshold bytes freed at the top of the heap stay mapped.
 * Elsewhere than glibc (musl, macOS, Windows) nothing is changed. */
#include "micrograd.h" /* <stdint.h>: on glibc it defines __GLIBC__ */
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int mg_keep_freed_memory(int64_t mmap_threshold, int64_t trim_threshold)
{
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
    if (mmap_threshold <= 0 || trim_threshold <= 0 || mmap_threshold > INT32_MAX
        || trim_threshold > INT32_MAX)
        return 0;
    /* setting either fixes both: glibc stops adjusting its thresholds itself */
    return mallopt(M_MMAP_THRESHOLD, (int)mmap_threshold) == 1
           && mallopt(M_TRIM_THRESHOLD, (int)trim_threshold) == 1;
#else
    (void)mmap_threshold;
    (void)trim_threshold;
    return 0;
#endif
}
