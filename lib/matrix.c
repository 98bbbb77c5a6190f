/* matrix.c - strided-matrix helpers. */
#include <math.h>
#include <stdint.h>

#include "matrix.h"

int nslmi_all_finite(size_t rows, size_t cols, const double *a, ptrdiff_t rs, ptrdiff_t cs) {
  for (size_t i = 0; i < rows; i++)
    for (size_t k = 0; k < cols; k++)
      if (!isfinite(a[(ptrdiff_t)i * rs + (ptrdiff_t)k * cs])) return 0;
  return 1;
}

void nslmi_copy_in(size_t rows, size_t cols, const double *src, ptrdiff_t rs, ptrdiff_t cs,
                   double *dst) {
  for (size_t i = 0; i < rows; i++)
    for (size_t k = 0; k < cols; k++) dst[i * cols + k] = src[(ptrdiff_t)i * rs + (ptrdiff_t)k * cs];
}

void nslmi_copy_out(size_t rows, size_t cols, const double *src, double *dst, ptrdiff_t rs,
                    ptrdiff_t cs) {
  for (size_t i = 0; i < rows; i++)
    for (size_t k = 0; k < cols; k++) dst[(ptrdiff_t)i * rs + (ptrdiff_t)k * cs] = src[i * cols + k];
}

size_t nslmi_mul_size(size_t a, size_t b, int *ok) {
  if (b != 0 && a > SIZE_MAX / b) {
    *ok = 0;
    return 0;
  }
  *ok = 1;
  return a * b;
}

double nslmi_vec_qnorm(size_t len, const double *x, ptrdiff_t inc, double q) {
  /* Scale by the largest magnitude first so that powers neither overflow
   * nor underflow for entries near 1e+-300. */
  double mx = 0.0;
  for (size_t i = 0; i < len; i++) {
    double v = fabs(x[(ptrdiff_t)i * inc]);
    if (v > mx) mx = v;
  }
  if (mx == 0.0 || isinf(q)) return mx;
  double s = 0.0;
  if (q == 1.0) {
    for (size_t i = 0; i < len; i++) s += fabs(x[(ptrdiff_t)i * inc]) / mx;
    return mx * s;
  }
  if (q == 2.0) { /* the certificate's and the landscape's norm: no pow per entry */
    for (size_t i = 0; i < len; i++) {
      double v = x[(ptrdiff_t)i * inc] / mx;
      s += v * v;
    }
    return mx * sqrt(s);
  }
  for (size_t i = 0; i < len; i++) {
    double v = fabs(x[(ptrdiff_t)i * inc]) / mx;
    if (v > 0.0) s += pow(v, q);
  }
  return mx * pow(s, 1.0 / q);
}
