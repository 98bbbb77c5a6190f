/* blas.h - the library's door to BLIS.  Every product goes through here,
 * with sizes validated first (BLIS aborts on bad dimensions) and the
 * per-handle thread count passed in an rntm_t (never the process-wide one). */
#ifndef NSLM_LIB_BLAS_H
#define NSLM_LIB_BLAS_H

#include <stddef.h>

/* C := alpha op(A) op(B) + beta C with element strides; op = transpose
 * when ta/tb is nonzero.  C is m x n, op(A) m x k, op(B) k x n.  Sizes of
 * zero are fine (no BLIS call; C scaled by beta when k == 0).
 * nthreads = 0 means nslmi_default_threads(). */
void nslmi_gemm(int ta, int tb, size_t m, size_t n, size_t k, double alpha, const double *a,
                ptrdiff_t rsa, ptrdiff_t csa, const double *b, ptrdiff_t rsb, ptrdiff_t csb,
                double beta, double *c, ptrdiff_t rsc, ptrdiff_t csc, size_t nthreads);

/* BLIS_NUM_THREADS, else OMP_NUM_THREADS, else the number of online cores. */
size_t nslmi_default_threads(void);

#endif
