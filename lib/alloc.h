/* alloc.h - every allocation of the library goes through here, so that
 * tests can fail the k-th allocation (fault injection). */
#ifndef NSLM_LIB_ALLOC_H
#define NSLM_LIB_ALLOC_H

#include <stddef.h>

void *nslmi_malloc(size_t size);
void *nslmi_calloc(size_t count, size_t size); /* overflow-checked */
void *nslmi_realloc(void *p, size_t size);
void nslmi_free(void *p);
/* count * size doubles etc. with overflow check; NULL on overflow or failure. */
void *nslmi_malloc_array(size_t count, size_t size);

/* Fault injection (tests only, per thread).  After nslmi_alloc_fail_after(k),
 * allocation number k (0-based, counted from this call) fails; with
 * persistent != 0 every allocation from then on fails too.  k < 0 disables. */
void nslmi_alloc_fail_after(long k, int persistent);
/* Allocations made in this thread since the last nslmi_alloc_fail_after(). */
long nslmi_alloc_count(void);

#endif
