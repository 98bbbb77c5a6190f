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

/* ---- Small products on registers (no BLIS, no packing, no threads) ----
 * For the fused small-network path (forward.c): a product of a few dozen
 * rows costs BLIS more in packing and call overhead than in arithmetic.
 * The kernels keep an MR x NR block of C in vector registers; the vector
 * code is chosen at run time from the instruction sets the CPU (and the
 * OS) supports.  Every variant adds the k products of an entry in order
 * 0..k-1 (the AVX variants with fused multiply-add), so one entry's value
 * does not depend on where its column sits in the block. */

/* Instruction-set variants, in increasing speed; the generic one is
 * portable C (GCC vector extensions, or scalar code on other compilers). */
enum { NSLMI_ISA_GENERIC = 0, NSLMI_ISA_AVX2 = 1, NSLMI_ISA_AVX512 = 2 };

/* Column counts of nslmi_small_gemm are multiples of this. */
#define NSLMI_SMALL_GEMM_QUANTUM 8

/* The fastest variant this process can run (detected once). */
int nslmi_small_gemm_isa(void);

/* C := A B, then C := max(C, 0) elementwise when relu is nonzero (NaN
 * maps to 0, as x > 0 ? x : 0).  A is m x k with row stride lda, B is
 * k x w with row stride ldb, C is m x w with row stride ldc (unit column
 * strides); w is a multiple of NSLMI_SMALL_GEMM_QUANTUM; C overlaps
 * neither A nor B.  isa is clamped to nslmi_small_gemm_isa(). */
void nslmi_small_gemm(int isa, size_t m, size_t w, size_t k, const double *a, size_t lda,
                      const double *b, size_t ldb, double *c, size_t ldc, int relu);

#endif
