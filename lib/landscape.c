/* landscape.c - the loss landscape around parameter sets: the straight
 * line between two of them, its barrier, and 2-D planes (through a point
 * along two directions, or through three points). */
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "constraint.h"
#include "data.h"
#include "forward.h"
#include "landscape.h"
#include "line_eval.h"
#include "loss.h"
#include "matrix.h"
#include "net.h"
#include "params.h"
#include "path.h"
#include "path_eval.h"
#include "rng.h"
#include "status.h"

double nslmi_grid_coord(double lo, double hi, size_t count, size_t i) {
  if (count <= 1) return lo;
  if (i == 0) return lo;
  if (i + 1 == count) return hi;
  double s = (double)i / (double)(count - 1);
  return (1.0 - s) * lo + s * hi;
}

static int check_model(const char *func, const nslm_net *net, const nslm_data *data,
                       const nslm_loss *loss) {
  if (net == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "net is NULL");
  if (data == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "data is NULL");
  if (loss == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "loss is NULL");
  size_t l = net->depth;
  if (data->d != net->widths[0] || data->m != net->widths[l + 1])
    return nslmi_fail(NSLM_ERR_DIMENSION, func, "data is n x (%zu + %zu), the net needs d = %zu, m = %zu",
                      data->d, data->m, net->widths[0], net->widths[l + 1]);
  return NSLM_OK;
}

static int check_params(const char *func, const char *name, const nslm_params *p,
                        const nslm_net *net) {
  if (p == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "%s is NULL", name);
  if (!nslmi_params_match_net(p, net))
    return nslmi_fail(NSLM_ERR_DIMENSION, func, "%s's widths differ from the net's", name);
  return NSLM_OK;
}

int nslm_landscape_line(const nslm_net *net, const nslm_data *data, const nslm_loss *loss,
                        const nslm_constraint *con, const nslm_params *a, const nslm_params *b,
                        size_t k, double *t, double *risk, double *r, nslm_progress_fn progress,
                        void *user_data) {
  int st = check_model(__func__, net, data, loss);
  if (st) return st;
  if ((st = check_params(__func__, "a", a, net)) || (st = check_params(__func__, "b", b, net)))
    return st;
  NSLMI_CHECK_NULL(risk);
  if (r != NULL && con == NULL) return NSLMI_FAIL(NSLM_ERR_INVALID, "r needs a constraint (con is NULL)");
  if (k < 2) return NSLMI_FAIL(NSLM_ERR_DOMAIN, "k = %zu points (needs >= 2)", k);
  /* Each point is (1 - t) a + t b with t = i / (k - 1) exactly (see
   * line_eval.h: the first layer's pre-activations are interpolated, the
   * other layers multiplied at every point). */
  double *bt = nslmi_malloc_array(k, sizeof(double));
  double *brisk = nslmi_malloc_array(k, sizeof(double));
  double *br = r ? nslmi_malloc_array(k, sizeof(double)) : NULL;
  nslmi_line_evaluator ev;
  if (bt == NULL || brisk == NULL || (r && br == NULL)) {
    st = NSLMI_FAIL(NSLM_ERR_NOMEM, "result buffers for %zu points", k);
    goto done;
  }
  st = nslmi_line_evaluator_init(&ev, net, data, loss, r ? con : NULL, a, b);
  if (st) goto done;
  for (size_t i = 0; i < k && st == NSLM_OK; i++) {
    bt[i] = i + 1 == k ? 1.0 : (double)i / (double)(k - 1);
    st = nslmi_line_evaluate(&ev, bt[i], &brisk[i], br ? &br[i] : NULL);
    if (st == NSLM_OK)
      st = nslmi_progress(progress, user_data, (double)(i + 1) / (double)k, __func__);
  }
  nslmi_line_evaluator_free(&ev);
  if (st == NSLM_OK) {
    if (t) memcpy(t, bt, k * sizeof *t);
    memcpy(risk, brisk, k * sizeof *risk);
    if (r) memcpy(r, br, k * sizeof *r);
  }
done:
  nslmi_free(bt);
  nslmi_free(brisk);
  nslmi_free(br);
  return st ? nslmi_fail_as(st, __func__) : NSLM_OK;
}

int nslm_landscape_barrier(size_t k, const double *t, const double *risk, double *height,
                           double *t_at) {
  NSLMI_CHECK_NULL(t);
  NSLMI_CHECK_NULL(risk);
  NSLMI_CHECK_NULL(height);
  if (k < 2) return NSLMI_FAIL(NSLM_ERR_DOMAIN, "k = %zu points (needs >= 2)", k);
  for (size_t i = 0; i < k; i++) {
    if (!isfinite(t[i])) return NSLMI_FAIL(NSLM_ERR_NONFINITE, "t[%zu] is not finite", i);
    if (!isfinite(risk[i])) return NSLMI_FAIL(NSLM_ERR_NONFINITE, "risk[%zu] is not finite", i);
    if (i > 0 && t[i] < t[i - 1]) return NSLMI_FAIL(NSLM_ERR_DOMAIN, "t decreases at %zu", i);
  }
  double span = t[k - 1] - t[0];
  if (!(span > 0.0)) return NSLMI_FAIL(NSLM_ERR_DOMAIN, "t[0] = t[k-1]: no interval");
  double best = -INFINITY;
  size_t at = 0;
  for (size_t i = 0; i < k; i++) {
    double s = i == 0 ? 0.0 : i == k - 1 ? 1.0 : (t[i] - t[0]) / span;
    double chord = (1.0 - s) * risk[0] + s * risk[k - 1];
    double v = risk[i] - chord;
    if (v > best) {
      best = v;
      at = i;
    }
  }
  *height = best;
  if (t_at) *t_at = t[at];
  return NSLM_OK;
}

/* Sum of squares and dot products over all layers (flattened space). */
static double dot(const nslm_params *a, const nslm_params *b) {
  double s = 0.0;
  for (size_t j = 0; j <= a->depth; j++) {
    size_t sz = nslmi_params_layer_size(a, j);
    for (size_t i = 0; i < sz; i++) s += a->w[j][i] * b->w[j][i];
  }
  return s;
}

static void per_neuron(const nslm_params *center, nslm_params *d, nslmi_rng *rng) {
  for (size_t j = 0; j <= d->depth; j++) {
    size_t rows = d->widths[j + 1], cols = d->widths[j];
    for (size_t r = 0; r < rows; r++) {
      double *x = d->w[j] + r * cols;
      for (size_t c = 0; c < cols; c++) x[c] = nslmi_rng_normal(rng);
      double nc = nslmi_vec_qnorm(cols, center->w[j] + r * cols, 1, 2.0);
      double nd = nslmi_vec_qnorm(cols, x, 1, 2.0);
      double f = nd > 0.0 ? nc / nd : 0.0;
      for (size_t c = 0; c < cols; c++) x[c] *= f;
    }
  }
}

int nslm_landscape_directions(const nslm_params *center, uint64_t seed, nslm_params *d1,
                              nslm_params *d2) {
  NSLMI_CHECK_NULL(center);
  NSLMI_CHECK_NULL(d1);
  NSLMI_CHECK_NULL(d2);
  if (d1 == d2 || d1 == center || d2 == center)
    return NSLMI_FAIL(NSLM_ERR_INVALID, "d1, d2 and center must be distinct objects");
  if (!nslmi_params_same_shape(center, d1) || !nslmi_params_same_shape(center, d2))
    return NSLMI_FAIL(NSLM_ERR_DIMENSION, "widths of d1/d2 differ from center's");
  nslmi_rng rng;
  nslmi_rng_seed(&rng, seed);
  /* Normalize first (per neuron), then orthogonalize: orthogonalizing
   * first and normalizing after would undo the orthogonality and skew the
   * plane. */
  per_neuron(center, d1, &rng);
  per_neuron(center, d2, &rng);
  double n11 = dot(d1, d1), n22 = dot(d2, d2);
  if (n11 > 0.0 && n22 > 0.0) {
    double f = dot(d2, d1) / n11;
    for (size_t j = 0; j <= d2->depth; j++) {
      size_t sz = nslmi_params_layer_size(d2, j);
      for (size_t i = 0; i < sz; i++) d2->w[j][i] -= f * d1->w[j][i];
    }
    double n2 = dot(d2, d2);
    if (n2 > 0.0) {
      double g = sqrt(n22 / n2);
      for (size_t j = 0; j <= d2->depth; j++) {
        size_t sz = nslmi_params_layer_size(d2, j);
        for (size_t i = 0; i < sz; i++) d2->w[j][i] *= g;
      }
    }
  }
  return NSLM_OK;
}

/* The plane's points: c0 u + c1 v + c2 w with (c0, c1, c2) = (1, alpha,
 * beta) (bary = 0) or (1 - alpha - beta, alpha, beta) (bary = 1). */
static int plane_eval(const char *func, int bary, const nslm_net *net, const nslm_data *data,
                      const nslm_loss *loss, const nslm_constraint *con, const nslm_params *u,
                      const nslm_params *v, const nslm_params *w, size_t na, double amin,
                      double amax, size_t nb, double bmin, double bmax, double *risk,
                      ptrdiff_t rrs, ptrdiff_t rcs, double *r, ptrdiff_t srs, ptrdiff_t scs,
                      nslm_progress_fn progress, void *user_data) {
  int st = check_model(func, net, data, loss);
  if (st) return st;
  const char *names[3] = {bary ? "a" : "center", bary ? "b" : "d1", bary ? "c" : "d2"};
  const nslm_params *ps[3] = {u, v, w};
  for (int i = 0; i < 3; i++)
    if ((st = check_params(func, names[i], ps[i], net))) return st;
  if (risk == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "risk is NULL");
  if (r != NULL && con == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "r needs a constraint (con is NULL)");
  if (na < 1 || nb < 1) return nslmi_fail(NSLM_ERR_DOMAIN, func, "grid %zu x %zu is empty", na, nb);
  if (!isfinite(amin) || !isfinite(amax) || !isfinite(bmin) || !isfinite(bmax))
    return nslmi_fail(NSLM_ERR_NONFINITE, func, "grid bounds are not finite");
  int ok;
  size_t npts = nslmi_mul_size(na, nb, &ok);
  if (!ok) return nslmi_fail(NSLM_ERR_DIMENSION, func, "grid %zu x %zu overflows", na, nb);
  if ((st = nslmi_check_out_strides(func, "risk", na, nb, rrs, rcs))) return st;
  if (r != NULL && (st = nslmi_check_out_strides(func, "r", na, nb, srs, scs))) return st;

  size_t l = net->depth, n = data->n, m = net->widths[l + 1], p1 = net->widths[1];
  nslm_params *pt = NULL;
  double *z3 = NULL, *z = NULL, *out = NULL, *br = NULL, *bs = NULL;
  double flops = 0.0;
  st = nslmi_params_create_widths(&pt, l, net->widths);
  if (st) return st;
  size_t p1n = nslmi_mul_size(p1, n, &ok);
  z3 = ok && p1n <= SIZE_MAX / 3 ? nslmi_malloc_array(3 * p1n, sizeof(double)) : NULL;
  z = nslmi_malloc_array(p1n, sizeof(double));
  out = nslmi_malloc_array(m * n, sizeof(double));
  br = nslmi_malloc_array(npts, sizeof(double));
  bs = r ? nslmi_malloc_array(npts, sizeof(double)) : NULL;
  if (!z3 || !z || !out || !br || (r && !bs)) {
    st = nslmi_fail(NSLM_ERR_NOMEM, func, "plane workspace");
    goto done;
  }
  /* The first layer's pre-activations are linear in the coefficients:
   * three products once, then a combination per point. */
  for (int i = 0; i < 3; i++)
    nslmi_layer_product(net, ps[i]->w[0], 0, data->xt, n, z3 + (size_t)i * p1n, &flops);
  for (size_t i = 0; i < na; i++) {
    double al = nslmi_grid_coord(amin, amax, na, i);
    for (size_t j = 0; j < nb; j++) {
      double be = nslmi_grid_coord(bmin, bmax, nb, j);
      double c0 = bary ? 1.0 - al - be : 1.0, c1 = al, c2 = be;
      for (size_t q = r ? 0 : 1; q <= l; q++) {
        size_t sz = nslmi_params_layer_size(pt, q);
        const double *x = u->w[q], *y = v->w[q], *x2 = w->w[q];
        double *o = pt->w[q];
        for (size_t e = 0; e < sz; e++) o[e] = c0 * x[e] + c1 * y[e] + c2 * x2[e];
      }
      for (size_t e = 0; e < p1n; e++)
        z[e] = c0 * z3[e] + c1 * z3[p1n + e] + c2 * z3[2 * p1n + e];
      st = nslmi_forward_from(net, pt, 1, z, n, out);
      if (st) goto done;
      double total;
      st = nslmi_loss_batch(loss, m, n, out, data->y, NULL, &total, NULL);
      if (st) goto done;
      br[i * nb + j] = total;
      if (r) bs[i * nb + j] = nslmi_constraint_value(con, pt);
      st = nslmi_progress(progress, user_data, (double)(i * nb + j + 1) / (double)npts, func);
      if (st) goto done;
    }
  }
  nslmi_copy_out(na, nb, br, risk, rrs, rcs);
  if (r) nslmi_copy_out(na, nb, bs, r, srs, scs);
done:
  nslm_params_destroy(pt);
  nslmi_free(z3);
  nslmi_free(z);
  nslmi_free(out);
  nslmi_free(br);
  nslmi_free(bs);
  return st ? nslmi_fail_as(st, func) : NSLM_OK;
}

int nslm_landscape_plane(const nslm_net *net, const nslm_data *data, const nslm_loss *loss,
                         const nslm_constraint *con, const nslm_params *center,
                         const nslm_params *d1, const nslm_params *d2, size_t na, double amin,
                         double amax, size_t nb, double bmin, double bmax, double *risk,
                         ptrdiff_t rrs, ptrdiff_t rcs, double *r, ptrdiff_t srs, ptrdiff_t scs,
                         nslm_progress_fn progress, void *user_data) {
  return plane_eval(__func__, 0, net, data, loss, con, center, d1, d2, na, amin, amax, nb, bmin,
                    bmax, risk, rrs, rcs, r, srs, scs, progress, user_data);
}

int nslm_landscape_plane3(const nslm_net *net, const nslm_data *data, const nslm_loss *loss,
                          const nslm_constraint *con, const nslm_params *a, const nslm_params *b,
                          const nslm_params *c, size_t na, double amin, double amax, size_t nb,
                          double bmin, double bmax, double *risk, ptrdiff_t rrs, ptrdiff_t rcs,
                          double *r, ptrdiff_t srs, ptrdiff_t scs, nslm_progress_fn progress,
                          void *user_data) {
  return plane_eval(__func__, 1, net, data, loss, con, a, b, c, na, amin, amax, nb, bmin, bmax,
                    risk, rrs, rcs, r, srs, scs, progress, user_data);
}
