/* status.c - status strings and the thread-local detail of the last failure. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "status.h"

/* Thread-local: each thread sees the detail of its own last failure. */
static _Thread_local char last_error[512];

const char *nslm_strerror(int status) {
  switch (status) {
  case NSLM_OK: return "success";
  case NSLM_ERR_INVALID: return "invalid argument";
  case NSLM_ERR_NOMEM: return "out of memory";
  case NSLM_ERR_DIMENSION: return "dimension mismatch";
  case NSLM_ERR_NONFINITE: return "non-finite value (NaN or Inf) in input";
  case NSLM_ERR_INFEASIBLE: return "parameter violates the constraint";
  case NSLM_ERR_FORMAT: return "corrupt, truncated or unsupported file format";
  case NSLM_ERR_IO: return "input/output error";
  case NSLM_ERR_NUMERIC: return "numerical failure";
  case NSLM_ERR_TOO_NARROW: return "network too narrow for the construction";
  case NSLM_ERR_CANCELLED: return "cancelled by the progress callback";
  case NSLM_ERR_DOMAIN: return "argument outside the function's domain";
  case NSLM_ERR_UNSUPPORTED: return "operation not supported for this object";
  case NSLM_ERR_CALLBACK: return "a user callback reported an error";
  case NSLM_ERR_RANGE: return "index out of range";
  default: return "unknown status";
  }
}

const char *nslm_last_error(void) { return last_error; }

int nslm_last_error_copy(char *buf, size_t cap, size_t *needed) {
  size_t len = strlen(last_error);
  if (needed == NULL || (buf == NULL && cap > 0)) return NSLM_ERR_INVALID; /* keep last_error as is */
  *needed = len + 1;
  if (cap > 0) {
    size_t k = len < cap - 1 ? len : cap - 1;
    memcpy(buf, last_error, k);
    buf[k] = '\0';
  }
  return NSLM_OK;
}

int nslmi_fail(int status, const char *func, const char *fmt, ...) {
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(last_error, sizeof last_error, "%s: %s", func ? func : "nslm", msg);
  return status;
}
