/* hardwrap.c - exact accounting of live heap blocks for the hardening tests
 * (see hardwrap.h).  The program is linked with
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free, and the
 * library statically (libnslm_core.la), so every malloc of lib/alloc.c
 * (and of this test) passes through these wrappers, which keep the set of
 * live blocks they handed out.  Blocks allocated inside shared libraries
 * (BLIS's pools, libc's stdio and strdup) are not in the set, and their
 * frees are ignored (Check frees such blocks in ck_assert), so the count
 * is exact and free of allocator caching effects (glibc's tcache makes
 * mallinfo2() useless for this).  Single-threaded program. */
#include <stdint.h>
#include <stddef.h>

#include "hardwrap.h"


void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void __real_free(void *p);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
void __wrap_free(void *p);

#define TRACK_BITS 20
#define TRACK_CAP ((size_t)1 << TRACK_BITS)
static void *tracked[TRACK_CAP]; /* open addressing, linear probing */
static long live_blocks, track_overflow;

static size_t track_hash(const void *p) {
  uint64_t x = (uint64_t)(uintptr_t)p;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return (size_t)(x >> (64 - TRACK_BITS));
}
static void track_add(void *p) {
  if ((size_t)live_blocks >= TRACK_CAP / 2) {
    track_overflow++;
    return;
  }
  size_t i = track_hash(p);
  while (tracked[i] != NULL) i = (i + 1) & (TRACK_CAP - 1);
  tracked[i] = p;
  live_blocks++;
}
/* Removes p if present (backward-shift deletion); 1 if it was. */
static int track_del(void *p) {
  size_t i = track_hash(p);
  while (tracked[i] != p) {
    if (tracked[i] == NULL) return 0;
    i = (i + 1) & (TRACK_CAP - 1);
  }
  tracked[i] = NULL;
  live_blocks--;
  for (size_t j = (i + 1) & (TRACK_CAP - 1); tracked[j] != NULL; j = (j + 1) & (TRACK_CAP - 1)) {
    size_t h = track_hash(tracked[j]);
    /* move tracked[j] into the hole at i unless its home lies in (i, j] */
    int home_between = i <= j ? (h > i && h <= j) : (h > i || h <= j);
    if (!home_between) {
      tracked[i] = tracked[j];
      tracked[j] = NULL;
      i = j;
    }
  }
  return 1;
}
void *__wrap_malloc(size_t size) {
  void *p = __real_malloc(size);
  if (p) track_add(p);
  return p;
}
void *__wrap_calloc(size_t n, size_t size) {
  void *p = __real_calloc(n, size);
  if (p) track_add(p);
  return p;
}
void *__wrap_realloc(void *p, size_t size) {
  int was = p ? track_del(p) : 1;
  void *q = __real_realloc(p, size);
  if (q) {
    if (was) track_add(q);
  } else if (p && was) {
    track_add(p); /* failed: p is still live */
  }
  return q;
}
void __wrap_free(void *p) {
  if (p) track_del(p);
  __real_free(p);
}

long nslmh_live_blocks(void) { return live_blocks; }
long nslmh_track_overflow(void) { return track_overflow; }
