/* info.c: build facts the Python side reports (benchmark tables, `python -m micrograd info`). */
#include "micrograd.h"
#ifdef _OPENMP
#include <omp.h>
#endif

int mg_has_openmp(void)
{
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

int mg_max_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}
