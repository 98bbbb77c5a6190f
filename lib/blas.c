/* blas.c - gemm through BLIS's typed API with a per-call runtime object. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include <blis.h>

#include "blas.h"

/* The core count is read once per process (sysconf costs ~15 us, paid on
 * every evaluation otherwise); it is constant after initialisation. */
static pthread_once_t cores_once = PTHREAD_ONCE_INIT;
static size_t online_cores = 1;

static void count_cores(void) {
  long nc = sysconf(_SC_NPROCESSORS_ONLN);
  online_cores = nc >= 1 ? (size_t)nc : 1;
}

size_t nslmi_default_threads(void) {
  const char *names[2] = {"BLIS_NUM_THREADS", "OMP_NUM_THREADS"};
  for (int i = 0; i < 2; i++) {
    const char *s = getenv(names[i]);
    if (s != NULL && *s != '\0') {
      long v = strtol(s, NULL, 10);
      if (v >= 1) return (size_t)v;
    }
  }
  pthread_once(&cores_once, count_cores);
  return online_cores;
}

void nslmi_gemm(int ta, int tb, size_t m, size_t n, size_t k, double alpha, const double *a,
                ptrdiff_t rsa, ptrdiff_t csa, const double *b, ptrdiff_t rsb, ptrdiff_t csb,
                double beta, double *c, ptrdiff_t rsc, ptrdiff_t csc, size_t nthreads) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    /* BLIS would handle this, but keep the semantics explicit: C := beta C. */
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < n; j++) {
        double *cij = &c[(ptrdiff_t)i * rsc + (ptrdiff_t)j * csc];
        *cij = beta == 0.0 ? 0.0 : beta * *cij;
      }
    return;
  }
  rntm_t rntm = BLIS_RNTM_INITIALIZER;
  bli_rntm_init(&rntm);
  bli_rntm_set_num_threads((dim_t)(nthreads ? nthreads : nslmi_default_threads()), &rntm);
  bli_dgemm_ex(ta ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, tb ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE,
               (dim_t)m, (dim_t)n, (dim_t)k, &alpha, (double *)a, (inc_t)rsa, (inc_t)csa,
               (double *)b, (inc_t)rsb, (inc_t)csb, &beta, c, (inc_t)rsc, (inc_t)csc, NULL,
               &rntm);
}
