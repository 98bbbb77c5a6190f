/* testutil.h - helpers shared by the Check suites (no library code). */
#ifndef NSLM_TESTUTIL_H
#define NSLM_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

/* A tiny deterministic generator for test data (independent of lib/rng.c). */
typedef struct { uint64_t s; } nslmt_rng;
void nslmt_seed(nslmt_rng *r, uint64_t seed);
double nslmt_uniform(nslmt_rng *r);            /* [0, 1) */
double nslmt_normal(nslmt_rng *r);
size_t nslmt_range(nslmt_rng *r, size_t lo, size_t hi); /* integer in [lo, hi] */
void nslmt_fill(nslmt_rng *r, double *a, size_t len, double scale); /* normal * scale */

/* max_i |a_i - b_i| / max(1, max_i |b_i|). */
double nslmt_relerr(const double *a, const double *b, size_t len);

/* Capture everything written to stdout and stderr between begin and end;
 * end returns the number of bytes written (the library must print nothing). */
void nslmt_quiet_begin(void);
long nslmt_quiet_end(void);

/* A temporary directory for file tests (created once per process). */
const char *nslmt_tmpdir(void);

#endif
