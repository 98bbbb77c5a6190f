/* constraint.c - the row-wise constraint
 *   r(Theta) = max(a_r max_{j>=1} |||Theta^j|||_1, b_r |||Theta^0|||_q),
 *   |||M|||_q = max over rows of (sum_k |M_rk|^q)^(1/q)   (DESIGN.md 1).
 * Row norms go through nslmi_vec_qnorm, which divides by the largest
 * magnitude before powering: entries near 1e+-300 neither overflow nor
 * underflow.  A true value above DBL_MAX is reported as +INFINITY. */
#include <math.h>

#include "alloc.h"
#include "constraint.h"
#include "matrix.h"
#include "params.h"
#include "status.h"

/* q in (0, inf]: NaN is non-finite, anything <= 0 (or -inf) outside the domain. */
static int check_q(double q, const char *func) {
  if (isnan(q)) return nslmi_fail(NSLM_ERR_NONFINITE, func, "q is NaN");
  if (!(q > 0.0)) return nslmi_fail(NSLM_ERR_DOMAIN, func, "q = %g must be in (0, inf]", q);
  return NSLM_OK;
}

int nslm_constraint_create(nslm_constraint **out, double a_r, double b_r, double q) {
  NSLMI_CHECK_NULL(out);
  *out = NULL;
  if (!isfinite(a_r)) return NSLMI_FAIL(NSLM_ERR_NONFINITE, "a_r is not finite");
  if (!isfinite(b_r)) return NSLMI_FAIL(NSLM_ERR_NONFINITE, "b_r is not finite");
  if (a_r < 0.0) return NSLMI_FAIL(NSLM_ERR_DOMAIN, "a_r = %g must be >= 0", a_r);
  if (b_r < 0.0) return NSLMI_FAIL(NSLM_ERR_DOMAIN, "b_r = %g must be >= 0", b_r);
  int st = check_q(q, __func__);
  if (st) return st;
  nslm_constraint *c = nslmi_calloc(1, sizeof *c);
  if (c == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "constraint");
  /* -0.0 is stored as +0.0 so that get() returns what the formula uses. */
  c->a_r = a_r + 0.0;
  c->b_r = b_r + 0.0;
  c->q = q;
  *out = c;
  return NSLM_OK;
}

void nslm_constraint_destroy(nslm_constraint *con) { nslmi_free(con); }

int nslm_constraint_get(const nslm_constraint *con, double *a_r, double *b_r, double *q) {
  NSLMI_CHECK_NULL(con);
  if (a_r) *a_r = con->a_r;
  if (b_r) *b_r = con->b_r;
  if (q) *q = con->q;
  return NSLM_OK;
}

/* Row norm of row i of layer j (q for j = 0, 1 otherwise). */
static double row_norm(const nslm_constraint *con, const nslm_params *theta, size_t j, size_t i) {
  size_t cols = theta->widths[j];
  return nslmi_vec_qnorm(cols, theta->w[j] + i * cols, 1, j == 0 ? con->q : 1.0);
}

double nslmi_layer_norm(const nslm_constraint *con, const nslm_params *theta, size_t j) {
  double mx = 0.0;
  for (size_t i = 0; i < theta->widths[j + 1]; i++) {
    double v = row_norm(con, theta, j, i);
    if (v > mx) mx = v;
  }
  return mx;
}

double nslmi_constraint_value(const nslm_constraint *con, const nslm_params *theta) {
  /* A term whose coefficient is 0 contributes 0 (never 0 * inf), and its
   * norms are not even computed. */
  double r = 0.0;
  if (con->a_r > 0.0) {
    double mx = 0.0;
    for (size_t j = 1; j <= theta->depth; j++) {
      double v = nslmi_layer_norm(con, theta, j);
      if (v > mx) mx = v;
    }
    r = con->a_r * mx;
  }
  if (con->b_r > 0.0) {
    double v = con->b_r * nslmi_layer_norm(con, theta, 0);
    if (v > r) r = v;
  }
  return r;
}

int nslm_constraint_eval(const nslm_constraint *con, const nslm_params *theta, double *r) {
  NSLMI_CHECK_NULL(con);
  NSLMI_CHECK_NULL(theta);
  NSLMI_CHECK_NULL(r);
  *r = nslmi_constraint_value(con, theta);
  return NSLM_OK;
}

int nslm_constraint_row_norms(const nslm_constraint *con, const nslm_params *theta, size_t j,
                              double *norms, size_t len) {
  NSLMI_CHECK_NULL(con);
  NSLMI_CHECK_NULL(theta);
  NSLMI_CHECK_NULL(norms);
  if (j > theta->depth) return NSLMI_FAIL(NSLM_ERR_RANGE, "layer %zu outside 0..%zu", j, theta->depth);
  if (len != theta->widths[j + 1])
    return NSLMI_FAIL(NSLM_ERR_DIMENSION, "len = %zu, layer %zu has %zu rows", len, j,
                      theta->widths[j + 1]);
  for (size_t i = 0; i < len; i++) norms[i] = row_norm(con, theta, j, i);
  return NSLM_OK;
}

int nslm_constraint_feasible(const nslm_constraint *con, const nslm_params *theta, int *feasible) {
  NSLMI_CHECK_NULL(con);
  NSLMI_CHECK_NULL(theta);
  NSLMI_CHECK_NULL(feasible);
  *feasible = nslmi_constraint_value(con, theta) <= 1.0;
  return NSLM_OK;
}

int nslm_matrix_row_norm(size_t rows, size_t cols, const double *a, ptrdiff_t rs, ptrdiff_t cs,
                         double q, double *norm) {
  NSLMI_CHECK_NULL(a);
  NSLMI_CHECK_NULL(norm);
  if (rows == 0 || cols == 0)
    return NSLMI_FAIL(NSLM_ERR_DIMENSION, "rows and cols must be >= 1 (got %zu x %zu)", rows, cols);
  int st = check_q(q, __func__);
  if (st) return st;
  if (!nslmi_all_finite(rows, cols, a, rs, cs))
    return NSLMI_FAIL(NSLM_ERR_NONFINITE, "the matrix has a NaN or Inf entry");
  double mx = 0.0;
  for (size_t i = 0; i < rows; i++) {
    double v = nslmi_vec_qnorm(cols, a + (ptrdiff_t)i * rs, cs, q);
    if (v > mx) mx = v;
  }
  *norm = mx;
  return NSLM_OK;
}
