/* hardwrap.h - exact accounting of live heap blocks (tests/hardwrap.c).
 *
 * A program that uses it is linked with
 *   -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free
 * and the library statically (libnslm_core.la), so every malloc of
 * lib/alloc.c (and of the test) passes through wrappers that keep the set
 * of live blocks they handed out.  Blocks allocated inside shared
 * libraries (BLIS's pools, libc's stdio and strdup) are not in the set and
 * their frees are ignored (Check frees such blocks in ck_assert), so the
 * count is exact and free of allocator caching effects.  Not thread-safe:
 * for single-threaded programs. */
#ifndef NSLM_HARDWRAP_H
#define NSLM_HARDWRAP_H

/* Blocks handed out by the wrappers and not yet freed. */
long nslmh_live_blocks(void);
/* Allocations not tracked because the table was full (must stay 0). */
long nslmh_track_overflow(void);

#endif
