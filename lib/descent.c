/* descent.c - the descent cut of Lemma 4: along a convex segment whose
 * outputs are affine in t, o(u) = (1 - u) o_a + u o_b, the risk
 * phi(u) = sum_i l(o_i(u), y_i) is convex; cutting the path at its
 * minimizer c leaves a path whose risk never increases (constant, then
 * convex and nonincreasing on [0, c]) and ends at min phi <= min(phi(0),
 * phi(1)).
 *
 * Squared loss: phi(u) = |R + u D|^2 with R = o_a - y, D = o_b - o_a, so
 * c = clamp(-<R, D> / <D, D>, 0, 1).  Other losses: bisection on the sign
 * of phi'(u) = sum_i g_i(u) . D_i (g a (sub)gradient of the loss), which is
 * nondecreasing for a convex phi; the bracket [lo, hi] keeps phi'(lo) <= 0
 * < phi'(hi) and is halved until hi - lo < NSLM_DESCENT_TOL_T; c = lo, so
 * the computed slope at the cut is <= 0 and the cut path provably
 * nonincreasing.  Only the two endpoint outputs are used. */
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "data.h"
#include "loss.h"
#include "net.h"
#include "params.h"
#include "path.h"
#include "path_eval.h"
#include "status.h"

typedef struct {
  const nslm_loss *loss;
  size_t m, n;
  const double *oa, *ob, *y; /* m x n, m x n, y n x m */
  double *o, *g;             /* m x n scratch */
} seg_fn;

/* phi(u) and, if slope != NULL, phi'(u). */
static int phi(seg_fn *f, double u, double *value, double *slope) {
  size_t len = f->m * f->n;
  for (size_t i = 0; i < len; i++) f->o[i] = (1.0 - u) * f->oa[i] + u * f->ob[i];
  int st = nslmi_loss_batch(f->loss, f->m, f->n, f->o, f->y, NULL, value, slope ? f->g : NULL);
  if (st) return st;
  if (slope) {
    double s = 0.0;
    for (size_t i = 0; i < len; i++) s += f->g[i] * (f->ob[i] - f->oa[i]);
    *slope = s;
  }
  return NSLM_OK;
}

static int argmin(seg_fn *f, const nslm_data *data, double *c) {
  if (f->loss->kind == NSLM_LOSS_SQUARED) {
    /* y is n x m (row-major) while outputs are m x n. */
    double rd = 0.0, dd = 0.0;
    for (size_t k = 0; k < f->m; k++)
      for (size_t i = 0; i < f->n; i++) {
        double a = f->oa[k * f->n + i], b = f->ob[k * f->n + i];
        double d = b - a, r = a - data->y[i * f->m + k];
        rd += r * d;
        dd += d * d;
      }
    double u = dd > 0.0 ? -rd / dd : 0.0;
    if (!(u > 0.0)) u = 0.0; /* also catches NaN */
    if (u > 1.0) u = 1.0;
    *c = u;
    return NSLM_OK;
  }
  double v, s0, s1;
  int st = phi(f, 0.0, &v, &s0);
  if (st) return st;
  if (s0 >= 0.0) {
    *c = 0.0;
    return NSLM_OK;
  }
  st = phi(f, 1.0, &v, &s1);
  if (st) return st;
  if (s1 <= 0.0) {
    *c = 1.0;
    return NSLM_OK;
  }
  double lo = 0.0, hi = 1.0;
  for (int it = 0; it < 200 && hi - lo >= NSLM_DESCENT_TOL_T; it++) {
    double mid = 0.5 * (lo + hi), s;
    if (mid <= lo || mid >= hi) break;
    st = phi(f, mid, &v, &s);
    if (st) return st;
    if (s <= 0.0) lo = mid;
    else hi = mid;
  }
  *c = lo;
  return NSLM_OK;
}

int nslm_path_descent(nslm_path **out, const nslm_path *path, const nslm_net *net,
                      const nslm_data *data, const nslm_loss *loss, double *t_cut,
                      double *risk_end, nslm_progress_fn progress, void *user_data) {
  NSLMI_CHECK_NULL(out);
  *out = NULL;
  int st = nslmi_path_check_problem(path, net, data, loss, __func__);
  if (st) return st;
  size_t S = path->nknots ? path->nknots - 1 : 0, sc = S;
  for (size_t s = 0; s < S; s++) {
    if (path->kind[s] == NSLM_SEG_CONVEX) {
      sc = s;
      break;
    }
    if (path->kind[s] != NSLM_SEG_CONSTANT)
      return NSLMI_FAIL(NSLM_ERR_UNSUPPORTED,
                        "segment %zu before the first CONVEX one is not CONSTANT (the cut would not be monotone)", s);
  }
  if (sc == S) return NSLMI_FAIL(NSLM_ERR_UNSUPPORTED, "the path has no CONVEX segment");
  size_t l = path->depth, n = data->n, m = path->widths[l + 1];
  nslmi_path_evaluator ev;
  st = nslmi_path_evaluator_init(&ev, path, net, data, loss, NULL, NSLM_EVAL_STRUCTURED);
  if (st) return st;
  seg_fn f = {loss, m, n, NULL, NULL, data->y, NULL, NULL};
  double *oa = nslmi_malloc_array(m * n, sizeof(double));
  double *ob = nslmi_malloc_array(m * n, sizeof(double));
  f.o = nslmi_malloc_array(m * n, sizeof(double));
  f.g = nslmi_malloc_array(m * n, sizeof(double));
  nslm_path *cut = NULL;
  nslm_params *pt = NULL;
  if (!oa || !ob || !f.o || !f.g) {
    st = NSLMI_FAIL(NSLM_ERR_NOMEM, "outputs of %zu x %zu", m, n);
    goto done;
  }
  f.oa = oa;
  f.ob = ob;
  double la, lb, c, lc;
  st = nslmi_path_evaluate(&ev, sc, 0.0, &la, NULL, NULL, oa);
  if (st) goto done;
  st = nslmi_progress(progress, user_data, 0.4, __func__);
  if (st) goto done;
  st = nslmi_path_evaluate(&ev, sc, 1.0, &lb, NULL, NULL, ob);
  if (st) goto done;
  st = nslmi_progress(progress, user_data, 0.8, __func__);
  if (st) goto done;
  st = argmin(&f, data, &c);
  if (st) goto done;
  /* The cut path: knots 0..sc, then the point at c (unless c = 0). */
  st = nslmi_path_create_widths(&cut, l, path->widths);
  if (st) goto done;
  for (size_t k = 0; k <= sc; k++) {
    const double *layers[l + 1];
    unsigned char given[l + 1];
    for (size_t j = 0; j <= l; j++) {
      layers[j] = nslmi_path_layer(path, k, j);
      given[j] = k == 0 ? 1 : (unsigned char)nslmi_path_changed(path, k - 1, j);
    }
    st = nslmi_path_push(cut, layers, given, k ? path->kind[k - 1] : 0, 0);
    if (st) goto done;
  }
  if (c > 0.0) {
    st = nslmi_params_create_widths(&pt, l, path->widths);
    if (st) goto done;
    nslmi_path_point_at(path, sc, c, pt);
    st = nslmi_path_push(cut, (const double *const *)pt->w, NULL, NSLM_SEG_CONVEX, 1);
    if (st) goto done;
  }
  cut->nonincreasing = 1;
  /* The risk at the cut, evaluated at the stored knot (not the model). */
  nslmi_path_evaluator_free(&ev);
  st = nslmi_path_evaluator_init(&ev, cut, net, data, loss, NULL, NSLM_EVAL_STRUCTURED);
  if (st) goto done;
  if (cut->nknots == 1) st = nslmi_path_evaluate(&ev, 0, 0.0, &lc, NULL, NULL, NULL);
  else st = nslmi_path_evaluate(&ev, cut->nknots - 2, 1.0, &lc, NULL, NULL, NULL);
  if (st) goto done;
  st = nslmi_progress(progress, user_data, 1.0, __func__);
  if (st) goto done;
  if (t_cut) *t_cut = ((double)sc + c) / (double)S;
  if (risk_end) *risk_end = lc;
  *out = cut;
  cut = NULL;
done:
  nslm_path_destroy(cut);
  nslm_params_destroy(pt);
  nslmi_free(oa);
  nslmi_free(ob);
  nslmi_free(f.o);
  nslmi_free(f.g);
  nslmi_path_evaluator_free(&ev);
  (void)la;
  (void)lb;
  return st ? nslmi_fail_as(st, __func__) : NSLM_OK;
}
