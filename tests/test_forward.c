/* test_forward.c - evaluation on BLIS (outputs, features, losses, risk,
 * objective, gradient) against the naive reference of reference.c, over
 * random shapes (1x1, tall, wide, depth 1-4), every activation including a
 * callback, and C-ordered, Fortran-ordered, padded, strided and negatively
 * strided output buffers.  The gradient is checked against central finite
 * differences of the REFERENCE risk.
 *
 * Tolerances.  Weights are N(0, 1/fan_in) and inputs N(0, 1), so features
 * stay O(1)-O(10).  The library (BLIS, blocked, FMA) and the reference
 * (sequential sums) round dot products of length k differently, each
 * within k u sum_i |w_i h_i| (u = 1.1e-16): at most ~1e-13 relative for
 * k <= 256 and these magnitudes; the activations used are Lipschitz with
 * small constants on these ranges and depth is <= 4, which grows this by a
 * small factor.  FWD_TOL = 1e-10 (relative to max(1, max |reference|))
 * leaves a margin of ~1000 while still catching any wrong index, stride or
 * activation (those give O(1) errors). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "nslm.h"
#include "alloc.h"
#include "forward.h"
#include "reference.h"
#include "testutil.h"
#include "modelcase.h"

#define FWD_TOL 1e-10
#define SENTINEL 12345.678

/* ---- A test case: net, parameters, data, and their plain-array copies. */

#define NKINDS 7
static const int act_kinds[NKINDS] = {NSLM_ACT_IDENTITY, NSLM_ACT_RELU,    NSLM_ACT_LEAKY_RELU,
                                      NSLM_ACT_POLY,     NSLM_ACT_SIGMOID, NSLM_ACT_TANH,
                                      NSLM_ACT_CALLBACK};

/* ---- Output buffer layouts: element (i, k) of an R x C matrix at
 * buf[off + i*rs + k*cs]; everything else in buf must stay SENTINEL. */

typedef struct {
  const char *name;
  ptrdiff_t rs, cs;
  size_t size, off;
} layout_t;

#define NLAYOUTS 7
static layout_t make_layout(int which, size_t R, size_t C) {
  layout_t L;
  switch (which) {
  case 0: L = (layout_t){"C-order", (ptrdiff_t)C, 1, R * C, 0}; break;
  case 1: L = (layout_t){"Fortran-order", 1, (ptrdiff_t)R, R * C, 0}; break;
  case 2: L = (layout_t){"Fortran, padded", 1, (ptrdiff_t)R + 3, (R + 3) * C, 0}; break;
  case 3: L = (layout_t){"C, padded", (ptrdiff_t)C + 2, 1, R * (C + 2), 0}; break;
  case 4: L = (layout_t){"strided", 2 * (ptrdiff_t)C + 1, 2, R * (2 * C + 1), 0}; break;
  case 5: L = (layout_t){"negative", -(ptrdiff_t)C, -1, R * C, R * C - 1}; break;
  default: L = (layout_t){"Fortran, negative rows", -1, (ptrdiff_t)R, R * C, R - 1}; break;
  }
  return L;
}

static double *layout_buf(const layout_t *L) {
  double *b = malloc(L->size * sizeof *b);
  for (size_t i = 0; i < L->size; i++) b[i] = SENTINEL;
  return b;
}

/* Compares buf (layout L, R x C) with ref (R x C row-major); checks the
 * untouched gaps.  Returns the relative error. */
static double layout_check(const layout_t *L, const double *buf, const double *ref, size_t R,
                           size_t C) {
  char *hit = calloc(L->size, 1);
  double *got = malloc(R * C * sizeof *got);
  for (size_t i = 0; i < R; i++)
    for (size_t k = 0; k < C; k++) {
      ptrdiff_t o = (ptrdiff_t)L->off + (ptrdiff_t)i * L->rs + (ptrdiff_t)k * L->cs;
      hit[o] = 1;
      got[i * C + k] = buf[o];
    }
  for (size_t i = 0; i < L->size; i++)
    if (!hit[i]) ck_assert_msg(buf[i] == SENTINEL, "%s: gap %zu overwritten", L->name, i);
  double e = nslmt_relerr(got, ref, R * C);
  free(hit);
  free(got);
  return e;
}

/* ---- Random shapes. */

static size_t random_shape(nslmt_rng *r, int shape, size_t *widths, size_t *n) {
  size_t depth = nslmt_range(r, 1, 4);
  for (size_t j = 0; j < depth + 2; j++) widths[j] = nslmt_range(r, 1, 7);
  *n = nslmt_range(r, 1, 9);
  switch (shape) {
  case 0: /* 1 x 1: every width 1, one sample */
    for (size_t j = 0; j < depth + 2; j++) widths[j] = 1;
    *n = 1;
    break;
  case 1: /* tall: enough samples for the samples-as-rows storage of narrow layers */
    *n = nslmt_range(r, 256, 300);
    widths[0] = 2;
    break;
  case 2: widths[0] = nslmt_range(r, 30, 60); *n = nslmt_range(r, 1, 3); break; /* wide */
  case 3: /* large enough for multi-threaded products; A_1 (260 wide) is
           * stored samples-as-columns, A_2 (40 wide, 260 samples)
           * samples-as-rows: both layouts, and a change between them */
    depth = 2;
    widths[0] = 230; widths[1] = 260; widths[2] = 40; widths[3] = 3;
    *n = 260;
    break;
  default: break;
  }
  return depth;
}

static void random_kinds(nslmt_rng *r, size_t depth, int *kinds) {
  for (size_t j = 0; j < depth; j++) kinds[j] = act_kinds[nslmt_range(r, 0, NKINDS - 1)];
}

/* ---- Outputs and features. */

START_TEST(outputs_match_reference) {
  nslmt_rng r;
  nslmt_seed(&r, 1000 + (uint64_t)_i);
  int shape = _i < 6 ? _i : 4 + _i % 2; /* 0..3 special (once each), 4..5 random */
  size_t widths[8], n;
  size_t depth = random_shape(&r, shape, widths, &n);
  int kinds[8];
  random_kinds(&r, depth, kinds);
  nslmt_case t;
  nslmt_case_make(&t, &r, depth, widths, kinds, n, 0, 1.0);
  size_t m = widths[depth + 1];
  double *ref = malloc(n * m * sizeof *ref);
  ck_assert_int_eq(nslmt_ref_outputs(depth, widths, nslmt_case_layers(&t), t.act, n, t.x, ref), 0);
  for (int w = 0; w < NLAYOUTS; w++) {
    layout_t L = make_layout(w, n, m);
    double *buf = layout_buf(&L);
    ck_assert_int_eq(nslm_eval_outputs(t.net, t.theta, t.data, buf + L.off, L.rs, L.cs),
                     NSLM_OK);
    double e = layout_check(&L, buf, ref, n, m);
    ck_assert_msg(e <= FWD_TOL, "case %d, %s: relerr %g (depth %zu, n %zu)", _i, L.name, e,
                  depth, n);
    free(buf);
  }
  free(ref);
  nslmt_case_free(&t);
}
END_TEST

START_TEST(features_match_reference) {
  nslmt_rng r;
  nslmt_seed(&r, 2000 + (uint64_t)_i);
  size_t widths[8], n;
  size_t depth = random_shape(&r, _i < 6 ? _i : 4 + _i % 2, widths, &n);
  int kinds[8];
  random_kinds(&r, depth, kinds);
  nslmt_case t;
  nslmt_case_make(&t, &r, depth, widths, kinds, n, 0, 1.0);
  for (size_t j = 0; j <= depth + 1; j++) {
    size_t p = widths[j];
    double *ref = malloc(n * p * sizeof *ref);
    ck_assert_int_eq(nslmt_ref_features(depth, widths, nslmt_case_layers(&t), t.act, n, t.x, j, 0, ref),
                     0);
    for (int w = 0; w < NLAYOUTS; w++) {
      layout_t L = make_layout(w, n, p);
      double *buf = layout_buf(&L);
      ck_assert_int_eq(nslm_eval_features(t.net, t.theta, t.data, j, buf + L.off, L.rs, L.cs),
                       NSLM_OK);
      double e = layout_check(&L, buf, ref, n, p);
      ck_assert_msg(e <= FWD_TOL, "case %d, A_%zu, %s: relerr %g", _i, j, L.name, e);
      free(buf);
    }
    free(ref);
  }
  nslmt_case_free(&t);
}
END_TEST

/* Every activation kind in every hidden position of a depth-3 net. */
START_TEST(every_activation) {
  nslmt_rng r;
  nslmt_seed(&r, 3000 + (uint64_t)_i);
  size_t widths[5] = {4, 6, 5, 7, 3}, n = 11;
  int kinds[3] = {act_kinds[_i], act_kinds[(_i + 1) % NKINDS], act_kinds[(_i + 3) % NKINDS]};
  nslmt_case t;
  nslmt_case_make(&t, &r, 3, widths, kinds, n, 0, 1.0);
  double *ref = malloc(n * 3 * sizeof *ref), *got = malloc(n * 3 * sizeof *got);
  ck_assert_int_eq(nslmt_ref_outputs(3, widths, nslmt_case_layers(&t), t.act, n, t.x, ref), 0);
  ck_assert_int_eq(nslm_eval_outputs(t.net, t.theta, t.data, got, 3, 1), NSLM_OK);
  ck_assert_double_le(nslmt_relerr(got, ref, n * 3), FWD_TOL);
  free(ref);
  free(got);
  nslmt_case_free(&t);
}
END_TEST

/* One thread and two threads give the same outputs (up to rounding: the
 * partitioning may change the order of nothing but independent blocks, the
 * tolerance is FWD_TOL anyway). */
START_TEST(thread_count_does_not_change_results) {
  nslmt_rng r;
  nslmt_seed(&r, 4000);
  size_t widths[8], n;
  size_t depth = random_shape(&r, 3, widths, &n);
  int kinds[2] = {NSLM_ACT_TANH, NSLM_ACT_RELU};
  nslmt_case t;
  nslmt_case_make(&t, &r, depth, widths, kinds, n, 0, 1.0);
  size_t m = widths[depth + 1];
  double *a = malloc(n * m * sizeof *a), *b = malloc(n * m * sizeof *b);
  ck_assert_int_eq(nslm_net_set_num_threads(t.net, 1), NSLM_OK);
  ck_assert_int_eq(nslm_eval_outputs(t.net, t.theta, t.data, a, (ptrdiff_t)m, 1), NSLM_OK);
  ck_assert_int_eq(nslm_net_set_num_threads(t.net, 2), NSLM_OK);
  ck_assert_int_eq(nslm_eval_outputs(t.net, t.theta, t.data, b, (ptrdiff_t)m, 1), NSLM_OK);
  ck_assert_double_le(nslmt_relerr(a, b, n * m), FWD_TOL);
  free(a);
  free(b);
  nslmt_case_free(&t);
}
END_TEST

/* ---- The internal forward pass that later modules use. */

START_TEST(internal_features_and_forward_from) {
  nslmt_rng r;
  nslmt_seed(&r, 5000 + (uint64_t)_i);
  size_t widths[8], n;
  size_t depth = random_shape(&r, 4 + _i % 2, widths, &n);
  int kinds[8];
  random_kinds(&r, depth, kinds);
  nslmt_case t;
  nslmt_case_make(&t, &r, depth, widths, kinds, n, 0, 1.0);
  for (int keep = 0; keep <= 1; keep++) {
    nslmi_features *f = NULL;
    ck_assert_int_eq(nslmi_forward(t.net, t.theta, t.data, keep, &f), NSLM_OK);
    ck_assert_uint_eq(f->depth, depth);
    ck_assert_uint_eq(f->n, n);
    for (size_t j = 0; j <= depth + 1; j++) {
      size_t p = widths[j];
      ck_assert_uint_eq(f->widths[j], p);
      double *ref = malloc(n * p * sizeof *ref), *got = malloc(n * p * sizeof *got);
      for (int pre = 0; pre <= (keep && j > 0); pre++) {
        ck_assert_int_eq(
            nslmt_ref_features(depth, widths, nslmt_case_layers(&t), t.act, n, t.x, j, pre, ref), 0);
        const double *src = pre ? f->z[j] : f->a[j];
        for (size_t i = 0; i < n; i++) /* p x n samples-as-columns -> n x p */
          for (size_t k = 0; k < p; k++) got[i * p + k] = src[k * n + i];
        ck_assert_msg(nslmt_relerr(got, ref, n * p) <= FWD_TOL, "j %zu pre %d", j, pre);
      }
      free(ref);
      free(got);
    }
    if (keep) {
      /* Finishing from the pre-activations of any layer gives the outputs. */
      size_t m = widths[depth + 1];
      for (size_t j = 1; j <= depth + 1; j++) {
        double *z = malloc(widths[j] * n * sizeof *z), *o = malloc(m * n * sizeof *o);
        memcpy(z, f->z[j], widths[j] * n * sizeof *z);
        ck_assert_int_eq(nslmi_forward_from(t.net, t.theta, j, z, n, o), NSLM_OK);
        ck_assert_double_le(nslmt_relerr(o, f->a[depth + 1], m * n), FWD_TOL);
        free(z);
        free(o);
      }
    }
    nslmi_features_free(f);
  }
  nslmi_features_free(NULL);
  nslmt_case_free(&t);
}
END_TEST

/* ---- Losses, risk, objective. */

/* The risk sums n per-sample losses, each a sum of m terms that are
 * computed from the outputs (relative error <= FWD_TOL): the same relative
 * tolerance holds for the sums, up to the cancellation-free summation of
 * nonnegative terms (every built-in loss is >= 0). */
START_TEST(losses_and_risk_match_reference) {
  nslmt_rng r;
  nslmt_seed(&r, 6000 + (uint64_t)_i);
  int kind = _i % 7;
  size_t widths[8], n;
  size_t depth = random_shape(&r, 4 + (_i / 7) % 2, widths, &n);
  if (kind == NSLM_LOSS_SOFTMAX_CE && widths[depth + 1] < 2) widths[depth + 1] = 3;
  int kinds[8];
  random_kinds(&r, depth, kinds);
  nslmt_case t;
  /* Small output weights keep the paper logistic's outputs inside (-1, 1). */
  double out_scale = kind == NSLM_LOSS_LOGISTIC_PAPER ? 0.05 : 1.0;
  nslmt_case_make(&t, &r, depth, widths, kinds, n, nslmt_loss_y_kind(kind), out_scale);
  double param = kind == NSLM_LOSS_HUBER ? 0.7 : 0.0;
  nslm_loss *loss;
  ck_assert_int_eq(nslm_loss_create(&loss, kind, param), NSLM_OK);
  double *ref = malloc(n * sizeof *ref), *got = malloc(n * sizeof *got);
  double rref = nslmt_ref_risk(depth, widths, nslmt_case_layers(&t), t.act, n, t.x, t.y, kind, param, ref);
  ck_assert_msg(isfinite(rref), "reference risk not finite (loss %d)", kind);
  ck_assert_int_eq(nslm_eval_losses(t.net, t.theta, t.data, loss, got, n), NSLM_OK);
  ck_assert_double_le(nslmt_relerr(got, ref, n), FWD_TOL);
  double risk = -1.0;
  ck_assert_int_eq(nslm_eval_risk(t.net, t.theta, t.data, loss, &risk), NSLM_OK);
  ck_assert_double_eq_tol(risk, rref, FWD_TOL * fmax(1.0, fabs(rref)));
  /* The objective with lambda = 0 is exactly the risk. */
  nslm_constraint *con;
  ck_assert_int_eq(nslm_constraint_create(&con, 1.0, 1.0, 2.0), NSLM_OK);
  double v = -1.0;
  ck_assert_int_eq(nslm_eval_objective(t.net, t.theta, t.data, loss, con, 0.0, &v), NSLM_OK);
  ck_assert(v == risk);
  nslm_constraint_destroy(con);
  nslm_loss_destroy(loss);
  free(ref);
  free(got);
  nslmt_case_free(&t);
}
END_TEST

/* Naive r(Theta) of DESIGN section 1 for the objective test. */
static double ref_rownorm(const double *w, size_t rows, size_t cols, double q) {
  double mx = 0.0;
  for (size_t i = 0; i < rows; i++) {
    double s = 0.0;
    for (size_t k = 0; k < cols; k++)
      s = isinf(q) ? fmax(s, fabs(w[i * cols + k])) : s + pow(fabs(w[i * cols + k]), q);
    if (!isinf(q)) s = pow(s, 1.0 / q);
    mx = fmax(mx, s);
  }
  return mx;
}

static double ref_constraint(const nslmt_case *t, double a_r, double b_r, double q) {
  double m1 = 0.0;
  for (size_t j = 1; j <= t->depth; j++)
    m1 = fmax(m1, ref_rownorm(t->layers[j], t->widths[j + 1], t->widths[j], 1.0));
  return fmax(a_r * m1, b_r * ref_rownorm(t->layers[0], t->widths[1], t->widths[0], q));
}

/* L + lambda r with r from a naive row-norm computation: pow and the
 * library's overflow-safe scaling agree to ~1e-15 relative for O(1)
 * entries; FWD_TOL covers it with a wide margin. */
START_TEST(objective_is_risk_plus_lambda_r) {
  nslmt_rng r;
  nslmt_seed(&r, 7000 + (uint64_t)_i);
  size_t widths[8], n;
  size_t depth = random_shape(&r, 4, widths, &n);
  int kinds[8];
  random_kinds(&r, depth, kinds);
  nslmt_case t;
  nslmt_case_make(&t, &r, depth, widths, kinds, n, 0, 1.0);
  const double qs[4] = {0.5, 1.0, 2.0, INFINITY};
  double q = qs[_i % 4], a_r = 0.3 + _i, b_r = 1.7;
  nslm_loss *loss;
  ck_assert_int_eq(nslm_loss_create(&loss, NSLM_LOSS_SQUARED, 0.0), NSLM_OK);
  nslm_constraint *con;
  ck_assert_int_eq(nslm_constraint_create(&con, a_r, b_r, q), NSLM_OK);
  double lambda = 0.25 + 2.0 * _i;
  double rref = nslmt_ref_risk(depth, widths, nslmt_case_layers(&t), t.act, n, t.x, t.y,
                               NSLM_LOSS_SQUARED, 0.0, NULL);
  double want = rref + lambda * ref_constraint(&t, a_r, b_r, q), v;
  ck_assert_int_eq(nslm_eval_objective(t.net, t.theta, t.data, loss, con, lambda, &v), NSLM_OK);
  ck_assert_double_eq_tol(v, want, FWD_TOL * fmax(1.0, fabs(want)));
  nslm_constraint_destroy(con);
  nslm_loss_destroy(loss);
  nslmt_case_free(&t);
}
END_TEST

/* ---- Gradient against central finite differences.
 *
 * FD_H = 1e-5: the central difference's truncation error is h^2/6 |L'''|
 * ~ 2e-11 |L'''| and its rounding error ~ u |L| / h ~ 1e-11 |L|; with
 * L, L''' = O(10..100) here both stay below ~1e-8.  GRAD_TOL = 1e-6
 * relative to max(1, max |FD|) of the layer leaves a margin of ~100, while a
 * wrong transpose, index or derivative gives O(1) errors.  Nonsmooth
 * pieces (ReLU, leaky ReLU, absolute, hinge, Huber's kink) are
 * differentiable away from their kinks: the case is kept only if every
 * kink argument is at least KINK_GAP from its kink, so that no +-h step
 * (which moves a pre-activation by <= h max|A| < 1e-3) crosses one. */
#define FD_H 1e-5
#define GRAD_TOL 1e-6
#define KINK_GAP 1e-2

static int act_has_kink(int kind) { return kind == NSLM_ACT_RELU || kind == NSLM_ACT_LEAKY_RELU; }

/* 1 if the case is safely away from every kink. */
static int away_from_kinks(const nslmt_case *t, int loss_kind, double param) {
  size_t n = t->n;
  for (size_t j = 1; j <= t->depth; j++) {
    if (!act_has_kink(t->act[j - 1].kind)) continue;
    size_t p = t->widths[j];
    double *z = malloc(n * p * sizeof *z);
    nslmt_ref_features(t->depth, t->widths, nslmt_case_layers(t), t->act, n, t->x, j, 1, z);
    int ok = 1;
    for (size_t i = 0; i < n * p; i++) ok &= fabs(z[i]) >= KINK_GAP;
    free(z);
    if (!ok) return 0;
  }
  size_t m = t->widths[t->depth + 1];
  double *o = malloc(n * m * sizeof *o);
  nslmt_ref_outputs(t->depth, t->widths, nslmt_case_layers(t), t->act, n, t->x, o);
  int ok = 1;
  for (size_t i = 0; i < n * m; i++) {
    double a = o[i], y = t->y[i];
    if (loss_kind == NSLM_LOSS_ABSOLUTE) ok &= fabs(a - y) >= KINK_GAP;
    if (loss_kind == NSLM_LOSS_HINGE) ok &= fabs(1 - y * a) >= KINK_GAP;
    if (loss_kind == NSLM_LOSS_HUBER) ok &= fabs(fabs(a - y) - param) >= KINK_GAP;
    if (loss_kind == NSLM_LOSS_LOGISTIC_PAPER) ok &= fabs(a) < 0.9;
  }
  free(o);
  return ok;
}

static double ref_risk_of(const nslmt_case *t, int kind, double param) {
  return nslmt_ref_risk(t->depth, t->widths, nslmt_case_layers(t), t->act, t->n, t->x, t->y, kind,
                        param, NULL);
}

static void check_gradient(int act_kind, int loss_kind, uint64_t seed) {
  nslmt_rng r;
  size_t widths[5] = {3, 5, 4, 2, 2};
  if (loss_kind == NSLM_LOSS_SOFTMAX_CE) widths[3] = 3;
  size_t depth = 1 + seed % 3, n = 6;
  widths[depth + 1] = widths[3];
  int kinds[3] = {act_kind, act_kind, act_kind};
  double param = loss_kind == NSLM_LOSS_HUBER ? 0.5 : 0.0;
  double out_scale = loss_kind == NSLM_LOSS_LOGISTIC_PAPER ? 0.1 : 1.0;
  nslmt_case t;
  int tries = 0;
  for (;; tries++) {
    ck_assert_msg(tries < 200, "no kink-free case found");
    nslmt_seed(&r, seed * 1000 + (uint64_t)tries);
    nslmt_case_make(&t, &r, depth, widths, kinds, n, nslmt_loss_y_kind(loss_kind), out_scale);
    if (away_from_kinks(&t, loss_kind, param)) break;
    nslmt_case_free(&t);
  }
  nslm_loss *loss;
  ck_assert_int_eq(nslm_loss_create(&loss, loss_kind, param), NSLM_OK);
  nslm_params *grad;
  ck_assert_int_eq(nslm_params_create(&grad, t.net), NSLM_OK);
  double risk = -1;
  ck_assert_int_eq(nslm_eval_gradient(t.net, t.theta, t.data, loss, grad, &risk), NSLM_OK);
  double rref = ref_risk_of(&t, loss_kind, param);
  ck_assert_double_eq_tol(risk, rref, FWD_TOL * fmax(1.0, fabs(rref)));
  for (size_t j = 0; j <= depth; j++) {
    size_t rows = widths[j + 1], cols = widths[j], sz = rows * cols;
    double *g = malloc(sz * sizeof *g), *fd = malloc(sz * sizeof *fd);
    ck_assert_int_eq(nslm_params_get_layer(grad, j, rows, cols, g, (ptrdiff_t)cols, 1), NSLM_OK);
    for (size_t e = 0; e < sz; e++) {
      double keep = t.layers[j][e];
      t.layers[j][e] = keep + FD_H;
      double up = ref_risk_of(&t, loss_kind, param);
      t.layers[j][e] = keep - FD_H;
      double dn = ref_risk_of(&t, loss_kind, param);
      t.layers[j][e] = keep;
      fd[e] = (up - dn) / (2 * FD_H);
    }
    double e = nslmt_relerr(g, fd, sz);
    ck_assert_msg(e <= GRAD_TOL, "act %d loss %d layer %zu: gradient relerr %g", act_kind,
                  loss_kind, j, e);
    free(g);
    free(fd);
  }
  /* grad may be theta itself: the same numbers land in theta. */
  nslm_params *copy;
  ck_assert_int_eq(nslm_params_clone(&copy, t.theta), NSLM_OK);
  ck_assert_int_eq(nslm_eval_gradient(t.net, copy, t.data, loss, copy, NULL), NSLM_OK);
  ck_assert_int_eq(nslm_params_equal(copy, grad), 1);
  nslm_params_destroy(copy);
  nslm_params_destroy(grad);
  nslm_loss_destroy(loss);
  nslmt_case_free(&t);
}

/* _i runs over activation x loss. */
START_TEST(gradient_matches_finite_differences) {
  int act = act_kinds[_i % NKINDS], loss = _i / NKINDS;
  check_gradient(act, loss, (uint64_t)_i);
}
END_TEST

/* At a kink the documented subgradient is used: ReLU'(0) = 0, leaky
 * ReLU'(0) = c.  A net whose hidden pre-activations are all exactly 0
 * (Theta^0 = 0) must give dL/dTheta^0 = 0 for ReLU (with ReLU'(0) = 1 it
 * would not be: the output layer's delta is -2y != 0) and c^2 times the
 * identity net's for leaky ReLU. */
START_TEST(gradient_at_kink_uses_documented_subgradient) {
  size_t widths[4] = {2, 3, 2, 1};
  nslmt_rng r;
  nslmt_seed(&r, 8000);
  int kinds[2] = {NSLM_ACT_RELU, NSLM_ACT_RELU};
  nslmt_case t;
  nslmt_case_make(&t, &r, 2, widths, kinds, 4, 0, 1.0);
  double zero[6] = {0};
  ck_assert_int_eq(nslm_params_set_layer(t.theta, 0, 3, 2, zero, 2, 1), NSLM_OK);
  nslm_loss *loss;
  ck_assert_int_eq(nslm_loss_create(&loss, NSLM_LOSS_SQUARED, 0), NSLM_OK);
  nslm_params *g;
  ck_assert_int_eq(nslm_params_create(&g, t.net), NSLM_OK);
  ck_assert_int_eq(nslm_eval_gradient(t.net, t.theta, t.data, loss, g, NULL), NSLM_OK);
  double g0[6], gi[6], gl[6];
  ck_assert_int_eq(nslm_params_get_layer(g, 0, 3, 2, g0, 2, 1), NSLM_OK);
  for (int i = 0; i < 6; i++) ck_assert(g0[i] == 0.0);
  /* Leaky ReLU: both hidden layers see only zeros, so f' = c everywhere
   * and dL/dTheta^0 is c^2 times the identity net's (rounding only). */
  const double c = 0.3;
  for (size_t j = 1; j <= 2; j++)
    ck_assert_int_eq(nslm_net_set_activation(t.net, j, NSLM_ACT_IDENTITY, 0, 0), NSLM_OK);
  ck_assert_int_eq(nslm_eval_gradient(t.net, t.theta, t.data, loss, g, NULL), NSLM_OK);
  ck_assert_int_eq(nslm_params_get_layer(g, 0, 3, 2, gi, 2, 1), NSLM_OK);
  for (size_t j = 1; j <= 2; j++)
    ck_assert_int_eq(nslm_net_set_activation(t.net, j, NSLM_ACT_LEAKY_RELU, c, 0), NSLM_OK);
  ck_assert_int_eq(nslm_eval_gradient(t.net, t.theta, t.data, loss, g, NULL), NSLM_OK);
  ck_assert_int_eq(nslm_params_get_layer(g, 0, 3, 2, gl, 2, 1), NSLM_OK);
  double nz = 0.0;
  for (int i = 0; i < 6; i++) {
    ck_assert_double_eq_tol(gl[i], c * c * gi[i], 1e-14 * fmax(1.0, fabs(gi[i])));
    nz = fmax(nz, fabs(gi[i]));
  }
  ck_assert_double_gt(nz, 0.0); /* the comparison is not vacuous */
  nslm_params_destroy(g);
  nslm_loss_destroy(loss);
  nslmt_case_free(&t);
}
END_TEST

/* A larger net (products above the one-thread limit, so the gradient's
 * gemms run on two threads): the gradient on 1 and 2 threads agrees (to
 * FWD_TOL: the same arithmetic, partitioned differently), and 24 random
 * entries match central differences of the reference risk (tolerance as
 * in check_gradient: L = O(100) here, so the rounding part u L / h stays
 * ~1e-9). */
START_TEST(gradient_large_spot_check) {
  nslmt_rng r;
  nslmt_seed(&r, 8500);
  size_t widths[4] = {60, 200, 150, 3}, n = 120;
  int kinds[2] = {NSLM_ACT_TANH, NSLM_ACT_SIGMOID};
  nslmt_case t;
  nslmt_case_make(&t, &r, 2, widths, kinds, n, 0, 1.0);
  nslm_loss *loss;
  ck_assert_int_eq(nslm_loss_create(&loss, NSLM_LOSS_SQUARED, 0), NSLM_OK);
  nslm_params *g1, *g2;
  ck_assert_int_eq(nslm_params_create(&g1, t.net), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&g2, t.net), NSLM_OK);
  ck_assert_int_eq(nslm_net_set_num_threads(t.net, 1), NSLM_OK);
  ck_assert_int_eq(nslm_eval_gradient(t.net, t.theta, t.data, loss, g1, NULL), NSLM_OK);
  ck_assert_int_eq(nslm_net_set_num_threads(t.net, 2), NSLM_OK);
  ck_assert_int_eq(nslm_eval_gradient(t.net, t.theta, t.data, loss, g2, NULL), NSLM_OK);
  for (size_t j = 0; j <= 2; j++) {
    size_t rows = widths[j + 1], cols = widths[j], sz = rows * cols;
    double *a = malloc(sz * sizeof *a), *b = malloc(sz * sizeof *b);
    ck_assert_int_eq(nslm_params_get_layer(g1, j, rows, cols, a, (ptrdiff_t)cols, 1), NSLM_OK);
    ck_assert_int_eq(nslm_params_get_layer(g2, j, rows, cols, b, (ptrdiff_t)cols, 1), NSLM_OK);
    ck_assert_double_le(nslmt_relerr(a, b, sz), FWD_TOL);
    double gmax = 0.0;
    for (size_t e = 0; e < sz; e++) gmax = fmax(gmax, fabs(a[e]));
    for (int s = 0; s < 8; s++) {
      size_t e = nslmt_range(&r, 0, sz - 1);
      double keep = t.layers[j][e];
      t.layers[j][e] = keep + FD_H;
      double up = ref_risk_of(&t, NSLM_LOSS_SQUARED, 0.0);
      t.layers[j][e] = keep - FD_H;
      double dn = ref_risk_of(&t, NSLM_LOSS_SQUARED, 0.0);
      t.layers[j][e] = keep;
      double fd = (up - dn) / (2 * FD_H);
      ck_assert_msg(fabs(a[e] - fd) <= GRAD_TOL * fmax(1.0, gmax),
                    "layer %zu entry %zu: gradient %g, finite difference %g", j, e, a[e], fd);
    }
    free(a);
    free(b);
  }
  nslm_params_destroy(g1);
  nslm_params_destroy(g2);
  nslm_loss_destroy(loss);
  nslmt_case_free(&t);
}
END_TEST

/* ---- Allocation failures: every allocation site of every evaluation
 * call, failed once, gives NSLM_ERR_NOMEM with the output untouched. */
START_TEST(every_allocation_failure_is_reported) {
  nslmt_rng r;
  nslmt_seed(&r, 9000);
  size_t widths[5] = {3, 4, 5, 4, 2}, n = 5;
  int kinds[3] = {NSLM_ACT_TANH, NSLM_ACT_RELU, NSLM_ACT_SIGMOID};
  nslmt_case t;
  nslmt_case_make(&t, &r, 3, widths, kinds, n, 0, 1.0);
  nslm_loss *loss;
  ck_assert_int_eq(nslm_loss_create(&loss, NSLM_LOSS_SQUARED, 0), NSLM_OK);
  nslm_constraint *con;
  ck_assert_int_eq(nslm_constraint_create(&con, 1, 1, 2), NSLM_OK);
  nslm_params *g;
  ck_assert_int_eq(nslm_params_create(&g, t.net), NSLM_OK);
  nslm_params *gsave;
  ck_assert_int_eq(nslm_params_clone(&gsave, g), NSLM_OK);
  int sites = 0;
  for (int fn = 0; fn < 6; fn++) {
    for (long k = 0;; k++) {
      double buf[40], v = SENTINEL;
      for (int i = 0; i < 40; i++) buf[i] = SENTINEL;
      nslmi_alloc_fail_after(k, 0);
      int st;
      switch (fn) {
      case 0: st = nslm_eval_outputs(t.net, t.theta, t.data, buf, 2, 1); break;
      case 1: st = nslm_eval_features(t.net, t.theta, t.data, 2, buf, 5, 1); break;
      case 2: st = nslm_eval_losses(t.net, t.theta, t.data, loss, buf, n); break;
      case 3: st = nslm_eval_risk(t.net, t.theta, t.data, loss, &v); break;
      case 4: st = nslm_eval_objective(t.net, t.theta, t.data, loss, con, 1.0, &v); break;
      default: st = nslm_eval_gradient(t.net, t.theta, t.data, loss, g, &v); break;
      }
      long used = nslmi_alloc_count();
      nslmi_alloc_fail_after(-1, 0);
      if (k >= used) {
        ck_assert_int_eq(st, NSLM_OK);
        break;
      }
      ck_assert_msg(st == NSLM_ERR_NOMEM, "function %d, allocation %ld: status %d", fn, k, st);
      for (int i = 0; i < 40; i++) ck_assert(buf[i] == SENTINEL);
      ck_assert(v == SENTINEL);
      if (fn == 5) ck_assert_int_eq(nslm_params_equal(g, gsave), 1);
      sites++;
    }
  }
  printf("evaluation allocation sites covered: %d\n", sites);
  ck_assert_int_ge(sites, 6);
  nslm_params_destroy(gsave);
  nslm_params_destroy(g);
  nslm_constraint_destroy(con);
  nslm_loss_destroy(loss);
  nslmt_case_free(&t);
}
END_TEST

int main(void) {
  Suite *s = suite_create("forward");
  TCase *tc = tcase_create("outputs");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, outputs_match_reference, 0, 24);
  tcase_add_loop_test(tc, features_match_reference, 0, 12);
  tcase_add_loop_test(tc, every_activation, 0, NKINDS);
  tcase_add_test(tc, thread_count_does_not_change_results);
  tcase_add_loop_test(tc, internal_features_and_forward_from, 0, 6);
  suite_add_tcase(s, tc);
  tc = tcase_create("risk");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, losses_and_risk_match_reference, 0, 14);
  tcase_add_loop_test(tc, objective_is_risk_plus_lambda_r, 0, 8);
  tcase_add_test(tc, every_allocation_failure_is_reported);
  suite_add_tcase(s, tc);
  tc = tcase_create("gradient");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, gradient_matches_finite_differences, 0, NKINDS * 7);
  tcase_add_test(tc, gradient_at_kink_uses_documented_subgradient);
  tcase_add_test(tc, gradient_large_spot_check);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
