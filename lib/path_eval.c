/* path_eval.c - evaluation of risk, per-sample losses and r(Theta) along a
 * path, exploiting each segment's structure (see path_eval.h). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "alloc.h"
#include "blas.h"
#include "constraint.h"
#include "data.h"
#include "forward.h"
#include "loss.h"
#include "matrix.h"
#include "net.h"
#include "params.h"
#include "path.h"
#include "path_eval.h"
#include "status.h"

int nslmi_progress(nslm_progress_fn progress, void *user_data, double fraction,
                   const char *func) {
  if (progress == NULL) return NSLM_OK;
  if (fraction < 0.0) fraction = 0.0;
  if (fraction > 1.0) fraction = 1.0;
  if (progress(fraction, user_data) != 0)
    return nslmi_fail(NSLM_ERR_CANCELLED, func, "cancelled by the progress callback at %.3g", fraction);
  return NSLM_OK;
}

double nslmi_forward_flops(const nslm_net *net, size_t n) {
  double f = 0.0;
  for (size_t j = 0; j <= net->depth; j++)
    f += 2.0 * (double)net->widths[j + 1] * (double)net->widths[j] * (double)n;
  return f;
}

void nslmi_layer_product(const nslm_net *net, const double *w, size_t j, const double *a,
                         size_t n, double *z, double *flops) {
  size_t rows = net->widths[j + 1], k = net->widths[j];
  nslmi_gemm(0, 0, rows, n, k, 1.0, w, (ptrdiff_t)k, 1, a, (ptrdiff_t)n, 1, 0.0, z, (ptrdiff_t)n, 1,
             nslmi_gemm_threads(nslmi_net_threads(net), rows, n, k));
  if (flops) *flops += 2.0 * (double)rows * (double)n * (double)k;
}

void nslmi_path_evaluator_free(nslmi_path_evaluator *ev) {
  if (ev == NULL) return;
  nslmi_free(ev->za);
  nslmi_free(ev->zb);
  nslmi_free(ev->z);
  nslmi_free(ev->w0);
  nslmi_free(ev->w1);
  nslmi_free(ev->out);
  nslmi_free(ev->losses);
  nslmi_free(ev->ptw);
  nslmi_free(ev->mark);
  nslm_params_destroy(ev->scratch);
  memset(ev, 0, sizeof *ev);
}

int nslmi_path_evaluator_init(nslmi_path_evaluator *ev, const nslm_path *path,
                              const nslm_net *net, const nslm_data *data, const nslm_loss *loss,
                              const nslm_constraint *con, int mode) {
  memset(ev, 0, sizeof *ev);
  ev->path = path;
  ev->net = net;
  ev->data = data;
  ev->loss = loss;
  ev->con = con;
  ev->plain = mode == NSLM_EVAL_PLAIN;
  ev->n = data->n;
  ev->T = nslmi_net_threads(net);
  ev->seg = SIZE_MAX;
  size_t l = path->depth, maxp = 0;
  for (size_t j = 0; j <= l + 1; j++)
    if (path->widths[j] > maxp) maxp = path->widths[j];
  int ok;
  size_t maxpn = nslmi_mul_size(maxp, ev->n, &ok);
  if (!ok) return NSLMI_FAIL(NSLM_ERR_NOMEM, "workspace of %zu x %zu doubles", maxp, ev->n);
  ev->za = nslmi_malloc_array(maxpn, sizeof(double));
  ev->zb = nslmi_malloc_array(maxpn, sizeof(double));
  ev->z = nslmi_malloc_array(maxpn, sizeof(double));
  ev->w0 = nslmi_malloc_array(maxpn, sizeof(double));
  ev->w1 = nslmi_malloc_array(maxpn, sizeof(double));
  ev->out = nslmi_malloc_array(maxpn, sizeof(double));
  ev->losses = nslmi_malloc_array(ev->n, sizeof(double));
  ev->ptw = nslmi_calloc(l + 1, sizeof *ev->ptw);
  ev->mark = nslmi_malloc(maxp);
  int st = NSLM_OK;
  if (!ev->za || !ev->zb || !ev->z || !ev->w0 || !ev->w1 || !ev->out || !ev->losses || !ev->ptw ||
      !ev->mark)
    st = NSLMI_FAIL(NSLM_ERR_NOMEM, "evaluation workspace (%zu x %zu doubles)", maxp, ev->n);
  else
    st = nslmi_params_create_widths(&ev->scratch, l, path->widths);
  if (st) {
    nslmi_path_evaluator_free(ev);
    return st;
  }
  ev->pt.depth = l;
  ev->pt.widths = path->widths;
  ev->pt.w = ev->ptw;
  return NSLM_OK;
}

/* 1 if row r of a and b (rows x cols) differ. */
static int row_differs(const double *a, const double *b, size_t r, size_t cols) {
  const double *x = a + r * cols, *y = b + r * cols;
  for (size_t c = 0; c < cols; c++)
    if (x[c] != y[c]) return 1;
  return 0;
}

/* Largest e in [j0, l] such that no row of Theta^e (at a or b) reads a
 * unit perturbed by the segment (see path_eval.h).  mark: max p_j bytes. */
static size_t affine_layer(const nslm_path *path, size_t s, size_t j0, unsigned char *mark,
                           size_t *plist) {
  size_t l = path->depth, e = j0, np = 0;
  const size_t *p = path->widths;
  for (size_t j = j0; j <= l; j++) {
    const double *a = nslmi_path_layer(path, s, j), *b = nslmi_path_layer(path, s + 1, j);
    size_t rows = p[j + 1], cols = p[j];
    int changed = nslmi_path_changed(path, s, j);
    /* Rows reading perturbed units of layer j. */
    int reads = 0;
    for (size_t r = 0; r < rows; r++) {
      mark[r] = 0;
      for (size_t i = 0; i < np; i++) {
        size_t c = plist[i];
        if (a[r * cols + c] != 0.0 || b[r * cols + c] != 0.0) {
          mark[r] = 1;
          reads = 1;
          break;
        }
      }
      if (!mark[r] && changed && row_differs(a, b, r, cols)) mark[r] = 1;
    }
    if (!reads) e = j;
    np = 0;
    for (size_t r = 0; r < rows; r++)
      if (mark[r]) plist[np++] = r;
  }
  return e;
}

/* The constraint's contribution of the layers that do not change on
 * segment s (all layers when s is SIZE_MAX: the single knot). */
static double fixed_r(const nslm_path *path, const nslm_constraint *con, size_t s) {
  nslm_params view;
  nslmi_path_knot_view(path, s == SIZE_MAX ? 0 : s, &view);
  double r = 0.0;
  for (size_t j = 0; j <= path->depth; j++) {
    if (s != SIZE_MAX && nslmi_path_changed(path, s, j)) continue;
    double coef = j == 0 ? con->b_r : con->a_r;
    if (!(coef > 0.0)) continue;
    double v = coef * nslmi_layer_norm(con, &view, j);
    if (v > r) r = v;
  }
  return r;
}

static int setup_segment(nslmi_path_evaluator *ev, size_t s) {
  const nslm_path *path = ev->path;
  const nslm_net *net = ev->net;
  size_t l = path->depth, n = ev->n;
  ev->seg = SIZE_MAX;
  if (ev->con) ev->rfix = fixed_r(path, ev->con, s);
  if (ev->plain) {
    ev->seg = s;
    return NSLM_OK;
  }
  size_t j0 = l + 1;
  for (size_t j = 0; j <= l; j++)
    if (nslmi_path_changed(path, s, j)) {
      j0 = j;
      break;
    }
  size_t e;
  if (j0 > l) {
    e = l; /* nothing changes: the outputs at a serve every t */
    j0 = l;
  } else {
    size_t maxp = 0;
    for (size_t j = 0; j <= l + 1; j++)
      if (path->widths[j] > maxp) maxp = path->widths[j];
    size_t *plist = nslmi_malloc_array(maxp, sizeof *plist);
    if (plist == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "unit list of %zu", maxp);
    e = affine_layer(path, s, j0, ev->mark, plist);
    nslmi_free(plist);
  }
  /* A_{j0} at a (layers below j0 are the same at both ends). */
  const double *src = ev->data->xt;
  double *bufs[3] = {ev->w0, ev->w1, ev->z};
  int cur = 0;
  for (size_t j = 0; j < j0; j++) {
    double *dst = bufs[cur];
    nslmi_layer_product(net, nslmi_path_layer(path, s, j), j, src, n, dst, &ev->flops);
    int st = nslmi_act_apply(&net->act[j + 1], dst, path->widths[j + 1] * n);
    if (st) return st;
    src = dst;
    cur ^= 1;
  }
  const double *aj0 = src;
  /* Two buffers distinct from aj0 for the chains j0..e. */
  double *c0 = aj0 == ev->w0 ? ev->w1 : ev->w0;
  double *c1 = aj0 == ev->z ? ev->w1 : ev->z;
  if (c0 == c1) c1 = ev->z == aj0 ? ev->w0 : ev->z;
  for (int end = 0; end < 2; end++) {
    size_t k = s + (size_t)end;
    double *zend = end ? ev->zb : ev->za;
    const double *in = aj0;
    double *tmp[2] = {c0, c1};
    int tc = 0;
    for (size_t j = j0; j <= e; j++) {
      double *dst = j == e ? zend : tmp[tc];
      nslmi_layer_product(net, nslmi_path_layer(path, k, j), j, in, n, dst, &ev->flops);
      if (j < e) {
        int st = nslmi_act_apply(&net->act[j + 1], dst, path->widths[j + 1] * n);
        if (st) return st;
        in = dst;
        tc ^= 1;
      }
    }
  }
  ev->e = e;
  ev->seg = s;
  return NSLM_OK;
}

/* Finishes a forward pass from the pre-activations z of layer j (1 <= j
 * <= l): f^j, then layers j..l with the point's parameters, outputs into
 * ev->out.  The same computation as nslmi_forward_from, on the
 * evaluator's own buffers: no allocation per point. */
static int finish_pass(nslmi_path_evaluator *ev, size_t j, double *z) {
  const nslm_net *net = ev->net;
  size_t l = net->depth, n = ev->n;
  int st = nslmi_act_apply(&net->act[j], z, net->widths[j] * n);
  if (st) return st;
  double *bufs[2] = {ev->w0, ev->w1};
  const double *src = z;
  int cur = 0;
  for (size_t k = j; k <= l; k++) {
    double *dst = k == l ? ev->out : bufs[cur];
    nslmi_layer_product(net, ev->ptw[k], k, src, n, dst, &ev->flops);
    if (k < l) {
      st = nslmi_act_apply(&net->act[k + 1], dst, net->widths[k + 1] * n);
      if (st) return st;
      src = dst;
      cur ^= 1;
    }
  }
  return NSLM_OK;
}

int nslmi_path_evaluate(nslmi_path_evaluator *ev, size_t s, double u, double *risk, double *r,
                        double *losses, double *outputs) {
  const nslm_path *path = ev->path;
  const nslm_net *net = ev->net;
  size_t l = path->depth, n = ev->n, m = path->widths[l + 1];
  int st;
  int single = path->nknots == 1;
  if (single) {
    /* One knot, no segment: a plain evaluation of it. */
    for (size_t j = 0; j <= l; j++) ev->ptw[j] = (double *)nslmi_path_layer(path, 0, j);
    if (ev->con) ev->rfix = fixed_r(path, ev->con, SIZE_MAX);
  } else {
    if (ev->seg != s) {
      st = setup_segment(ev, s);
      if (st) return st;
    }
    for (size_t j = 0; j <= l; j++) {
      const double *a = nslmi_path_layer(path, s, j);
      int need = ev->plain || j > ev->e || (r != NULL && ev->con != NULL);
      if (!nslmi_path_changed(path, s, j) || !need || u == 0.0) {
        ev->ptw[j] = (double *)a;
        continue;
      }
      const double *b = nslmi_path_layer(path, s + 1, j);
      if (u == 1.0) {
        ev->ptw[j] = (double *)b;
        continue;
      }
      double *o = ev->scratch->w[j];
      size_t sz = path->widths[j + 1] * path->widths[j];
      for (size_t i = 0; i < sz; i++) o[i] = (1.0 - u) * a[i] + u * b[i];
      ev->ptw[j] = o;
    }
  }
  if (single || ev->plain) {
    nslmi_layer_product(net, ev->ptw[0], 0, ev->data->xt, n, ev->z, &ev->flops);
    st = finish_pass(ev, 1, ev->z);
    if (st) return st;
  } else {
    size_t e = ev->e, len = path->widths[e + 1] * n;
    double *z = e == l ? ev->out : ev->z;
    if (u == 0.0) memcpy(z, ev->za, len * sizeof *z);
    else if (u == 1.0) memcpy(z, ev->zb, len * sizeof *z);
    else
      for (size_t i = 0; i < len; i++) z[i] = (1.0 - u) * ev->za[i] + u * ev->zb[i];
    if (e < l) {
      st = finish_pass(ev, e + 1, z);
      if (st) return st;
    }
  }
  double total;
  st = nslmi_loss_batch(ev->loss, m, n, ev->out, ev->data->y, ev->losses, &total, NULL);
  if (st) return st;
  if (r != NULL && ev->con != NULL) {
    double v = ev->rfix;
    if (!single)
      for (size_t j = 0; j <= l; j++) {
        if (!nslmi_path_changed(path, s, j)) continue;
        double coef = j == 0 ? ev->con->b_r : ev->con->a_r;
        if (!(coef > 0.0)) continue;
        double x = coef * nslmi_layer_norm(ev->con, &ev->pt, j);
        if (x > v) v = x;
      }
    *r = v;
  }
  *risk = total;
  if (losses) memcpy(losses, ev->losses, n * sizeof *losses);
  if (outputs) memcpy(outputs, ev->out, m * n * sizeof *outputs);
  return NSLM_OK;
}

double nslmi_path_r_at(const nslm_path *path, const nslm_constraint *con, size_t s, double u,
                       nslm_params *scratch) {
  nslmi_path_point_at(path, s, u, scratch);
  return nslmi_constraint_value(con, scratch);
}

/* ------------------------------------------------------------ public API */

static int check_eval_args(const char *func, const nslm_path *path, const nslm_net *net,
                           const nslm_data *data, const nslm_loss *loss,
                           const nslm_constraint *con, size_t npoints, double *risk, double *r,
                           double *losses, ptrdiff_t lrs, ptrdiff_t lcs, int mode) {
  int st = nslmi_path_check_problem(path, net, data, loss, func);
  if (st) return st;
  if (path->nknots == 0) return nslmi_fail(NSLM_ERR_INVALID, func, "path has no knot");
  if (risk == NULL && npoints > 0) return nslmi_fail(NSLM_ERR_INVALID, func, "risk is NULL");
  if (r != NULL && con == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "r needs a constraint (con is NULL)");
  if (mode != NSLM_EVAL_STRUCTURED && mode != NSLM_EVAL_PLAIN)
    return nslmi_fail(NSLM_ERR_INVALID, func, "unknown evaluation mode %d", mode);
  if (losses != NULL) {
    st = nslmi_check_out_strides(func, "losses", npoints, data->n, lrs, lcs);
    if (st) return st;
  }
  int ok;
  nslmi_mul_size(npoints, data->n, &ok);
  if (!ok) return nslmi_fail(NSLM_ERR_DIMENSION, func, "%zu points x %zu samples overflow", npoints, data->n);
  return NSLM_OK;
}

/* Evaluates the points (seg[i], u[i]) in the order ord[], writing into
 * buffers at index i, then copies to the caller's outputs. */
static int run_points(const char *func, const nslm_path *path, const nslm_net *net,
                      const nslm_data *data, const nslm_loss *loss, const nslm_constraint *con,
                      size_t npoints, const size_t *seg, const double *u, const size_t *ord,
                      double *risk, double *r, double *losses, ptrdiff_t lrs, ptrdiff_t lcs,
                      int mode, nslm_progress_fn progress, void *user_data) {
  size_t n = data->n;
  nslmi_path_evaluator ev;
  int st = nslmi_path_evaluator_init(&ev, path, net, data, loss, con, mode);
  if (st) return st;
  double *brisk = nslmi_malloc_array(npoints, sizeof(double));
  double *br = r ? nslmi_malloc_array(npoints, sizeof(double)) : NULL;
  double *bl = losses ? nslmi_malloc_array(npoints * n, sizeof(double)) : NULL;
  if (brisk == NULL || (r && br == NULL) || (losses && bl == NULL)) {
    st = nslmi_fail(NSLM_ERR_NOMEM, func, "result buffers for %zu points", npoints);
    goto done;
  }
  for (size_t q = 0; q < npoints; q++) {
    size_t i = ord[q];
    st = nslmi_path_evaluate(&ev, seg[i], u[i], &brisk[i], br ? &br[i] : NULL,
                             bl ? &bl[i * n] : NULL, NULL);
    if (st) goto done;
    st = nslmi_progress(progress, user_data, (double)(q + 1) / (double)npoints, func);
    if (st) goto done;
  }
  memcpy(risk, brisk, npoints * sizeof *risk);
  if (r) memcpy(r, br, npoints * sizeof *r);
  if (losses) nslmi_copy_out(npoints, n, bl, losses, lrs, lcs);
done:
  nslmi_free(brisk);
  nslmi_free(br);
  nslmi_free(bl);
  nslmi_path_evaluator_free(&ev);
  return st;
}

int nslm_path_eval(const nslm_path *path, const nslm_net *net, const nslm_data *data,
                   const nslm_loss *loss, const nslm_constraint *con, size_t npoints,
                   const double *t, double *risk, double *r, double *losses, ptrdiff_t lrs,
                   ptrdiff_t lcs, int mode, nslm_progress_fn progress, void *user_data) {
  int st = check_eval_args(__func__, path, net, data, loss, con, npoints, risk, r, losses, lrs,
                           lcs, mode);
  if (st) return st;
  if (npoints == 0) return NSLM_OK;
  NSLMI_CHECK_NULL(t);
  for (size_t i = 0; i < npoints; i++) {
    if (!isfinite(t[i])) return NSLMI_FAIL(NSLM_ERR_NONFINITE, "t[%zu] is not finite", i);
    if (t[i] < 0.0 || t[i] > 1.0) return NSLMI_FAIL(NSLM_ERR_DOMAIN, "t[%zu] = %g outside [0, 1]", i, t[i]);
  }
  size_t S = path->nknots - 1;
  size_t *seg = nslmi_malloc_array(npoints, sizeof *seg);
  size_t *ord = nslmi_malloc_array(npoints, sizeof *ord);
  size_t *cnt = nslmi_calloc(S + 2, sizeof *cnt);
  double *u = nslmi_malloc_array(npoints, sizeof *u);
  if (!seg || !ord || !cnt || !u) {
    st = NSLMI_FAIL(NSLM_ERR_NOMEM, "point tables for %zu points", npoints);
    goto done;
  }
  for (size_t i = 0; i < npoints; i++) {
    if (S == 0) {
      seg[i] = 0;
      u[i] = 0.0;
    } else
      nslmi_path_locate(path, t[i], &seg[i], &u[i]);
    cnt[seg[i] + 1]++;
  }
  /* Counting sort by segment: each segment is set up once. */
  for (size_t s = 0; s <= S; s++) cnt[s + 1] += cnt[s];
  for (size_t i = 0; i < npoints; i++) ord[cnt[seg[i]]++] = i;
  st = run_points(__func__, path, net, data, loss, con, npoints, seg, u, ord, risk, r, losses,
                  lrs, lcs, mode, progress, user_data);
done:
  nslmi_free(seg);
  nslmi_free(ord);
  nslmi_free(cnt);
  nslmi_free(u);
  return st ? nslmi_fail_as(st, __func__) : NSLM_OK;
}

size_t nslm_path_grid_size(const nslm_path *path, size_t k) {
  if (path == NULL || k < 2 || path->nknots == 0) return 0;
  size_t S = path->nknots - 1;
  if (S != 0 && k - 1 > (SIZE_MAX - 1) / S) return 0;
  return S * (k - 1) + 1;
}

int nslm_path_eval_grid(const nslm_path *path, const nslm_net *net, const nslm_data *data,
                        const nslm_loss *loss, const nslm_constraint *con, size_t k,
                        size_t npoints, double *t, double *risk, double *r, double *losses,
                        ptrdiff_t lrs, ptrdiff_t lcs, int mode, nslm_progress_fn progress,
                        void *user_data) {
  int st = check_eval_args(__func__, path, net, data, loss, con, npoints, risk, r, losses, lrs,
                           lcs, mode);
  if (st) return st;
  if (k < 2) return NSLMI_FAIL(NSLM_ERR_DOMAIN, "k = %zu points per segment (needs >= 2)", k);
  size_t N = nslm_path_grid_size(path, k);
  if (N == 0) return NSLMI_FAIL(NSLM_ERR_DIMENSION, "grid of %zu points per segment overflows", k);
  if (npoints != N) return NSLMI_FAIL(NSLM_ERR_DIMENSION, "npoints = %zu, the grid has %zu", npoints, N);
  size_t S = path->nknots - 1;
  size_t *seg = nslmi_malloc_array(N, sizeof *seg);
  size_t *ord = nslmi_malloc_array(N, sizeof *ord);
  double *u = nslmi_malloc_array(N, sizeof *u);
  double *tb = nslmi_malloc_array(N, sizeof *tb);
  if (!seg || !ord || !u || !tb) {
    st = NSLMI_FAIL(NSLM_ERR_NOMEM, "grid tables for %zu points", N);
    goto done;
  }
  if (S == 0) {
    seg[0] = 0;
    u[0] = 0.0;
    tb[0] = 0.0;
    ord[0] = 0;
  } else {
    double den = (double)S * (double)(k - 1);
    for (size_t i = 0; i < N; i++) {
      ord[i] = i;
      /* Point i: segment s, index q within it; the knot shared by two
       * segments is the end of the earlier one, except the first. */
      size_t s = i == 0 ? 0 : (i - 1) / (k - 1);
      size_t q = i - s * (k - 1);
      seg[i] = s;
      u[i] = (double)q / (double)(k - 1);
      tb[i] = (double)i / den;
    }
  }
  st = run_points(__func__, path, net, data, loss, con, N, seg, u, ord, risk, r, losses, lrs,
                  lcs, mode, progress, user_data);
  if (st == NSLM_OK && t != NULL) memcpy(t, tb, N * sizeof *t);
done:
  nslmi_free(seg);
  nslmi_free(ord);
  nslmi_free(u);
  nslmi_free(tb);
  return st ? nslmi_fail_as(st, __func__) : NSLM_OK;
}
