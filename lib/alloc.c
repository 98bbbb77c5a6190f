/* alloc.c - allocation with a per-thread fault-injection countdown. */
#include <stdint.h>
#include <stdlib.h>

#include "alloc.h"

static _Thread_local long fail_at = -1;
static _Thread_local int fail_persistent = 0;
static _Thread_local long alloc_count = 0;

void nslmi_alloc_fail_after(long k, int persistent) {
  fail_at = k;
  fail_persistent = persistent;
  alloc_count = 0;
}

long nslmi_alloc_count(void) { return alloc_count; }

/* True if this allocation is to fail. */
static int injected_failure(void) {
  long idx = alloc_count++;
  if (fail_at < 0) return 0;
  return fail_persistent ? idx >= fail_at : idx == fail_at;
}

void *nslmi_malloc(size_t size) {
  if (injected_failure()) return NULL;
  return malloc(size ? size : 1);
}

void *nslmi_calloc(size_t count, size_t size) {
  if (size != 0 && count > SIZE_MAX / size) return NULL;
  if (injected_failure()) return NULL;
  return calloc(count ? count : 1, size ? size : 1);
}

void *nslmi_malloc_array(size_t count, size_t size) {
  if (size != 0 && count > SIZE_MAX / size) return NULL;
  return nslmi_malloc(count * size);
}

void *nslmi_realloc(void *p, size_t size) {
  if (injected_failure()) return NULL;
  return realloc(p, size ? size : 1);
}

void nslmi_free(void *p) { free(p); }
