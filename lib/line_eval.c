/* line_eval.c - the straight line between two parameter sets, point by
 * point, with the first layer interpolated (see line_eval.h). */
#include <stdint.h>
#include <string.h>

#include "alloc.h"
#include "blas.h"
#include "constraint.h"
#include "data.h"
#include "forward.h"
#include "line_eval.h"
#include "loss.h"
#include "matrix.h"
#include "net.h"
#include "params.h"
#include "status.h"

/* The elementwise passes of a point (interpolation, activation) are
 * loops over millions of values: with SSE2 (every x86-64) they are
 * written with vector intrinsics, branch-free (ReLU: net.h's
 * nslmi_relu2), elsewhere as plain loops.  The values are identical
 * either way: the same IEEE operations in the same order (no FMA: s x + t y
 * is rounded as a product, a product and a sum). */

/* o := s x + t y (s = 1 - t), the same expression in every point's
 * interpolation, so both ends are exact for finite values. */
static void lerp(size_t len, double s, double t, const double *x, const double *y, double *o) {
  size_t i = 0;
#ifdef NSLMI_SSE2
  __m128d vs = _mm_set1_pd(s), vt = _mm_set1_pd(t);
  for (; i + 4 <= len; i += 4) {
    __m128d a0 = _mm_add_pd(_mm_mul_pd(vs, _mm_loadu_pd(x + i)), _mm_mul_pd(vt, _mm_loadu_pd(y + i)));
    __m128d a1 = _mm_add_pd(_mm_mul_pd(vs, _mm_loadu_pd(x + i + 2)),
                            _mm_mul_pd(vt, _mm_loadu_pd(y + i + 2)));
    _mm_storeu_pd(o + i, a0);
    _mm_storeu_pd(o + i + 2, a1);
  }
#endif
  for (; i < len; i++) o[i] = s * x[i] + t * y[i];
}

/* ReLU and leaky ReLU here; 0 for the activations left to nslmi_act_apply. */
static int simple_act(const nslmi_activation *f, int *leaky) {
  *leaky = f->kind == NSLM_ACT_LEAKY_RELU;
  return f->kind == NSLM_ACT_RELU || f->kind == NSLM_ACT_LEAKY_RELU;
}

/* o := f(s x + t y), in one pass for ReLU and leaky ReLU. */
static int lerp_act(const nslmi_activation *f, size_t len, double s, double t, const double *x,
                    const double *y, double *o) {
  int leaky;
  if (!simple_act(f, &leaky)) {
    lerp(len, s, t, x, y, o);
    return nslmi_act_apply(f, o, len);
  }
  size_t i = 0;
#ifdef NSLMI_SSE2
  __m128d vs = _mm_set1_pd(s), vt = _mm_set1_pd(t), c = _mm_set1_pd(f->c);
  for (; i + 4 <= len; i += 4) {
    __m128d a0 = _mm_add_pd(_mm_mul_pd(vs, _mm_loadu_pd(x + i)), _mm_mul_pd(vt, _mm_loadu_pd(y + i)));
    __m128d a1 = _mm_add_pd(_mm_mul_pd(vs, _mm_loadu_pd(x + i + 2)),
                            _mm_mul_pd(vt, _mm_loadu_pd(y + i + 2)));
    _mm_storeu_pd(o + i, nslmi_relu2(a0, leaky, c));
    _mm_storeu_pd(o + i + 2, nslmi_relu2(a1, leaky, c));
  }
#endif
  for (; i < len; i++) o[i] = nslmi_relu1(s * x[i] + t * y[i], leaky, f->c);
  return NSLM_OK;
}

/* Z = W A (rows x n, samples as columns), W row-major rows x k. */
static void product(nslmi_line_evaluator *ev, const double *w, size_t j, const double *src,
                    double *dst) {
  const nslm_net *net = ev->net;
  size_t rows = net->widths[j + 1], k = net->widths[j], n = ev->n;
  nslmi_gemm(0, 0, rows, n, k, 1.0, w, (ptrdiff_t)k, 1, src, (ptrdiff_t)n, 1, 0.0, dst,
             (ptrdiff_t)n, 1, nslmi_gemm_threads(nslmi_net_threads(net), rows, n, k));
  ev->flops += 2.0 * (double)rows * (double)n * (double)k;
}

void nslmi_line_evaluator_free(nslmi_line_evaluator *ev) {
  if (ev == NULL) return;
  nslmi_free(ev->za);
  nslmi_free(ev->zb);
  nslmi_free(ev->buf[0]);
  nslmi_free(ev->buf[1]);
  nslmi_free(ev->wone);
  nslm_params_destroy(ev->pt);
  memset(ev, 0, sizeof *ev);
}

int nslmi_line_evaluator_init(nslmi_line_evaluator *ev, const nslm_net *net,
                              const nslm_data *data, const nslm_loss *loss,
                              const nslm_constraint *con, const nslm_params *a,
                              const nslm_params *b) {
  memset(ev, 0, sizeof *ev);
  ev->net = net;
  ev->data = data;
  ev->loss = loss;
  ev->con = con;
  ev->a = a;
  ev->b = b;
  ev->n = data->n;
  size_t l = net->depth, maxp = 0, maxw = 0;
  for (size_t j = 1; j <= l + 1; j++) {
    if (net->widths[j] > maxp) maxp = net->widths[j];
    /* Layer sizes fit a size_t: the parameter sets exist. */
    if (j <= l && net->widths[j + 1] * net->widths[j] > maxw) maxw = net->widths[j + 1] * net->widths[j];
  }
  int ok;
  size_t maxpn = nslmi_mul_size(maxp, ev->n, &ok);
  if (!ok) return NSLMI_FAIL(NSLM_ERR_NOMEM, "workspace of %zu x %zu doubles", maxp, ev->n);
  size_t p1n = net->widths[1] * ev->n;
  ev->za = nslmi_malloc_array(p1n, sizeof(double));
  ev->zb = nslmi_malloc_array(p1n, sizeof(double));
  ev->buf[0] = nslmi_malloc_array(maxpn, sizeof(double));
  ev->buf[1] = nslmi_malloc_array(maxpn, sizeof(double));
  /* Without r, one buffer of the largest layer's size serves the weights
   * of every layer (8 MB instead of 17 for bench_path's net). */
  if (con == NULL && maxw > 0) ev->wone = nslmi_malloc_array(maxw, sizeof(double));
  int st = NSLM_OK;
  if (!ev->za || !ev->zb || !ev->buf[0] || !ev->buf[1] || (con == NULL && maxw > 0 && !ev->wone))
    st = NSLMI_FAIL(NSLM_ERR_NOMEM, "line workspace (%zu x %zu doubles)", maxp, ev->n);
  else if (con != NULL)
    st = nslmi_params_create_widths(&ev->pt, l, net->widths);
  if (st) {
    nslmi_line_evaluator_free(ev);
    return st;
  }
  product(ev, a->w[0], 0, data->xt, ev->za);
  product(ev, b->w[0], 0, data->xt, ev->zb);
  return NSLM_OK;
}

int nslmi_line_evaluate(nslmi_line_evaluator *ev, double t, double *risk, double *r) {
  const nslm_net *net = ev->net;
  size_t l = net->depth, n = ev->n, m = net->widths[l + 1];
  double s = 1.0 - t;
  int st;
  /* Layer by layer: Theta^j(t) first, then A_j = f^j(Z_j) (for j = 1 in
   * the same pass as the interpolation of Z_1), then the product, so that
   * A_j and the weights are the last arrays written before BLIS reads them
   * (no measurable difference from the other order on bench_path's net;
   * it costs nothing).  Nets have l >= 1 hidden layers. */
  double *cur = ev->buf[0];
  for (size_t j = 1; j <= l; j++) {
    double *wj = ev->pt ? ev->pt->w[j] : ev->wone;
    lerp(net->widths[j + 1] * net->widths[j], s, t, ev->a->w[j], ev->b->w[j], wj);
    size_t len = net->widths[j] * n;
    st = j == 1 ? lerp_act(&net->act[1], len, s, t, ev->za, ev->zb, cur)
                : nslmi_act_apply(&net->act[j], cur, len);
    if (st) return st;
    double *dst = cur == ev->buf[0] ? ev->buf[1] : ev->buf[0];
    product(ev, wj, j, cur, dst);
    cur = dst;
  }
  double total;
  st = nslmi_loss_batch(ev->loss, m, n, cur, ev->data->y, NULL, &total, NULL);
  if (st) return st;
  if (r != NULL) {
    if (ev->pt == NULL) return NSLMI_FAIL(NSLM_ERR_INVALID, "r asked of an evaluator set up without con");
    lerp(net->widths[1] * net->widths[0], s, t, ev->a->w[0], ev->b->w[0], ev->pt->w[0]);
    *r = nslmi_constraint_value(ev->con, ev->pt);
  }
  *risk = total;
  return NSLM_OK;
}
