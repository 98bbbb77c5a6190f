/* penalized.c - the penalized objective L + lambda r along a path.
 *
 * The paper says its proofs carry over to the penalized objective
 * "virtually the same"; for the path built here that holds only in part
 * (see nslm_penalized_report(3)): ROW compression and relocation never
 * raise r, the CONVEX segment keeps L + lambda r convex, but the first
 * bridge segments raise r toward max(r(Theta-bar), r(Gamma-bar)) at
 * constant L.  This report measures, it does not prove: it samples h(t)
 * with the plain evaluation (a point of the path, then the risk and r).
 */
#include <math.h>

#include "alloc.h"
#include "status.h"

int nslm_penalized_report(const nslm_net *net, const nslm_path *path, const nslm_data *data,
                          const nslm_loss *loss, const nslm_constraint *con, double lambda,
                          size_t samples, double tol, double *rise, int *nonincreasing,
                          size_t len) {
  NSLMI_CHECK_NULL(net);
  NSLMI_CHECK_NULL(path);
  NSLMI_CHECK_NULL(data);
  NSLMI_CHECK_NULL(loss);
  NSLMI_CHECK_NULL(con);
  if (!isfinite(lambda) || !isfinite(tol))
    return NSLMI_FAIL(NSLM_ERR_NONFINITE, "lambda or tol is not finite");
  if (lambda < 0.0 || tol < 0.0) return NSLMI_FAIL(NSLM_ERR_DOMAIN, "lambda and tol must be >= 0");
  if (samples < 1 || samples > 1000000)
    return NSLMI_FAIL(NSLM_ERR_DOMAIN, "samples %zu outside 1..1000000", samples);
  size_t S = nslm_path_num_segments(path);
  if (len != S) return NSLMI_FAIL(NSLM_ERR_DIMENSION, "len %zu, the path has %zu segments", len, S);
  if (nslm_data_d(data) != nslm_net_width(net, 0) ||
      nslm_data_m(data) != nslm_net_width(net, nslm_net_depth(net) + 1))
    return NSLMI_FAIL(NSLM_ERR_DIMENSION, "data does not match the net's d and m");
  nslm_params *pt = NULL;
  int st = nslm_params_create(&pt, net);
  if (st) return st;
  if (nslm_path_get_knot(path, 0, pt) != NSLM_OK) {
    nslm_params_destroy(pt);
    return NSLMI_FAIL(NSLM_ERR_DIMENSION, "the path's widths differ from the net's");
  }
  double *rs = nslmi_malloc_array(S ? S : 1, sizeof *rs);
  if (rs == NULL) {
    nslm_params_destroy(pt);
    return NSLMI_FAIL(NSLM_ERR_NOMEM, "report");
  }
  double prev = 0.0;
  for (size_t s = 0; s < S && st == NSLM_OK; s++) {
    rs[s] = 0.0;
    for (size_t i = 0; i <= samples && st == NSLM_OK; i++) {
      /* t of the segment's i-th point, computed as the path defines it */
      double t = ((double)s + (double)i / (double)samples) / (double)S;
      if (i == samples) t = (double)(s + 1) / (double)S;
      double L, r;
      st = nslm_path_point(path, t, pt);
      if (st == NSLM_OK) st = nslm_eval_risk(net, pt, data, loss, &L);
      if (st == NSLM_OK) st = nslm_constraint_eval(con, pt, &r);
      if (st) break;
      double h = L + lambda * r;
      if (i > 0) {
        double up = (h - prev) / fmax(1.0, fabs(prev));
        if (up > rs[s]) rs[s] = up;
      }
      prev = h;
    }
  }
  if (st == NSLM_OK)
    for (size_t s = 0; s < S; s++) {
      if (rise) rise[s] = rs[s];
      if (nonincreasing) nonincreasing[s] = rs[s] <= tol;
    }
  nslmi_free(rs);
  nslm_params_destroy(pt);
  return st;
}
