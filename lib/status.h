/* status.h - setting the thread-local detail message of a failure. */
#ifndef NSLM_LIB_STATUS_H
#define NSLM_LIB_STATUS_H

#include "nslm.h"

#if defined(__GNUC__)
#define NSLMI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define NSLMI_PRINTF(a, b)
#endif

/* Records "function: message" as the thread's detail and returns status,
 * so that callers can write: return nslmi_fail(NSLM_ERR_INVALID, __func__, "x is NULL"); */
int nslmi_fail(int status, const char *func, const char *fmt, ...) NSLMI_PRINTF(3, 4);

/* Shorthand for the common case. */
#define NSLMI_FAIL(status, ...) nslmi_fail((status), __func__, __VA_ARGS__)
#define NSLMI_CHECK_NULL(p)                                                   \
  do {                                                                        \
    if ((p) == NULL) return nslmi_fail(NSLM_ERR_INVALID, __func__, "%s is NULL", #p); \
  } while (0)

#endif
