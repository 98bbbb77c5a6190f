/* matrix.h - small strided-matrix helpers shared by the modules. */
#ifndef NSLM_LIB_MATRIX_H
#define NSLM_LIB_MATRIX_H

#include <stddef.h>

/* 1 if every element of the strided rows x cols matrix is finite. */
int nslmi_all_finite(size_t rows, size_t cols, const double *a, ptrdiff_t rs, ptrdiff_t cs);
/* dst (row-major, contiguous rows x cols) := src (strided). */
void nslmi_copy_in(size_t rows, size_t cols, const double *src, ptrdiff_t rs, ptrdiff_t cs,
                   double *dst);
/* dst (strided) := src (row-major, contiguous). */
void nslmi_copy_out(size_t rows, size_t cols, const double *src, double *dst, ptrdiff_t rs,
                    ptrdiff_t cs);
/* rows * cols without overflow; 0 return with *ok = 0 on overflow. */
size_t nslmi_mul_size(size_t a, size_t b, int *ok);
/* Overflow-safe (sum_k |x_k|^q)^(1/q) over a strided vector; q in (0, inf]. */
double nslmi_vec_qnorm(size_t len, const double *x, ptrdiff_t inc, double q);

#endif
