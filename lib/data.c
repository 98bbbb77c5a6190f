/* data.c - data sets, copied into the paper's samples-as-columns layout. */
#include <string.h>

#include "alloc.h"
#include "data.h"
#include "forward.h" /* nslmi_check_out_strides */
#include "matrix.h"
#include "status.h"

int nslm_data_create(nslm_data **out, size_t n, size_t d, const double *x, ptrdiff_t xrs,
                     ptrdiff_t xcs, size_t m, const double *y, ptrdiff_t yrs, ptrdiff_t ycs) {
  NSLMI_CHECK_NULL(out);
  *out = NULL;
  NSLMI_CHECK_NULL(x);
  NSLMI_CHECK_NULL(y);
  if (n == 0 || d == 0 || m == 0)
    return NSLMI_FAIL(NSLM_ERR_DIMENSION, "n, d, m must be >= 1 (got %zu, %zu, %zu)", n, d, m);
  int ok1, ok2;
  size_t nd = nslmi_mul_size(n, d, &ok1), nm = nslmi_mul_size(n, m, &ok2);
  if (!ok1 || !ok2 || nd > ((size_t)1 << 40) || nm > ((size_t)1 << 40))
    return NSLMI_FAIL(NSLM_ERR_DIMENSION, "data set %zu x (%zu + %zu) is too large", n, d, m);
  if (!nslmi_all_finite(n, d, x, xrs, xcs)) return NSLMI_FAIL(NSLM_ERR_NONFINITE, "X has a NaN or Inf entry");
  if (!nslmi_all_finite(n, m, y, yrs, ycs)) return NSLMI_FAIL(NSLM_ERR_NONFINITE, "Y has a NaN or Inf entry");
  nslm_data *dt = nslmi_calloc(1, sizeof *dt);
  if (dt == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "data");
  dt->xt = nslmi_malloc_array(nd, sizeof(double));
  dt->yt = nslmi_malloc_array(nm, sizeof(double));
  dt->y = nslmi_malloc_array(nm, sizeof(double));
  if (dt->xt == NULL || dt->yt == NULL || dt->y == NULL) {
    nslm_data_destroy(dt);
    return NSLMI_FAIL(NSLM_ERR_NOMEM, "data arrays");
  }
  dt->n = n;
  dt->d = d;
  dt->m = m;
  /* Transposed copies: swap the strides. */
  nslmi_copy_in(d, n, x, xcs, xrs, dt->xt);
  nslmi_copy_in(m, n, y, ycs, yrs, dt->yt);
  nslmi_copy_in(n, m, y, yrs, ycs, dt->y);
  *out = dt;
  return NSLM_OK;
}

void nslm_data_destroy(nslm_data *data) {
  if (data == NULL) return;
  nslmi_free(data->xt);
  nslmi_free(data->yt);
  nslmi_free(data->y);
  nslmi_free(data);
}

size_t nslm_data_n(const nslm_data *data) { return data ? data->n : 0; }
size_t nslm_data_d(const nslm_data *data) { return data ? data->d : 0; }
size_t nslm_data_m(const nslm_data *data) { return data ? data->m : 0; }

int nslm_data_get_x(const nslm_data *data, double *x, ptrdiff_t rs, ptrdiff_t cs) {
  NSLMI_CHECK_NULL(data);
  NSLMI_CHECK_NULL(x);
  int st = nslmi_check_out_strides(__func__, "x", data->n, data->d, rs, cs);
  if (st) return st;
  nslmi_copy_out(data->d, data->n, data->xt, x, cs, rs);
  return NSLM_OK;
}

int nslm_data_get_y(const nslm_data *data, double *y, ptrdiff_t rs, ptrdiff_t cs) {
  NSLMI_CHECK_NULL(data);
  NSLMI_CHECK_NULL(y);
  int st = nslmi_check_out_strides(__func__, "y", data->n, data->m, rs, cs);
  if (st) return st;
  nslmi_copy_out(data->n, data->m, data->y, y, rs, cs);
  return NSLM_OK;
}
