/* test_landscape.c - the straight line, its barrier, 2-D planes, and the
 * CSV/SVG writers.  Truth: the naive reference network on parameter sets
 * combined here (pathutil.c), closed-form profiles, Python's csv and
 * xml.etree parsers (/usr/bin/python3). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "nslm.h"
#include "pathutil.h"
#include "testutil.h"

static double rel(double a, double b) {
  double s = fabs(b) > 1e-300 ? fabs(b) : 1e-300;
  return fabs(a - b) / s;
}

static char *tmp(const char *name) {
  char *p = malloc(512);
  snprintf(p, 512, "%s/%s", nslmt_tmpdir(), name);
  return p;
}

static double sq_norm(const nslm_params *p, size_t l, const size_t *w) {
  double s = 0;
  for (size_t j = 0; j <= l; j++) {
    double *a = pt_layer(p, j);
    for (size_t i = 0; i < w[j + 1] * w[j]; i++) s += a[i] * a[i];
    free(a);
  }
  return s;
}

static double dotp(const nslm_params *p, const nslm_params *q, size_t l, const size_t *w) {
  double s = 0;
  for (size_t j = 0; j <= l; j++) {
    double *a = pt_layer(p, j), *b = pt_layer(q, j);
    for (size_t i = 0; i < w[j + 1] * w[j]; i++) s += a[i] * b[i];
    free(a);
    free(b);
  }
  return s;
}

/* ------------------------------------------------------------ line and barrier */

/* Each point is (1-t) a + t b with t = i/(k-1) exactly; its risk equals the
 * reference's to 1e-12 (rounding of products and interpolation). */
START_TEST(line_points_and_endpoints) {
  size_t w[] = {4, 7, 5, 3};
  int acts[] = {NSLM_ACT_TANH, NSLM_ACT_RELU};
  pt_prob P;
  pt_prob_make(&P, 2, w, 9, NSLM_LOSS_SOFTMAX_CE, acts, 1);
  nslm_params *a = pt_params(&P, 1, 1.0), *b = pt_params(&P, 2, 1.0);
  nslm_constraint *con;
  ck_assert_int_eq(nslm_constraint_create(&con, 1.0, 0.5, 2.0), NSLM_OK);
  enum { K = 11 };
  double t[K], risk[K], r[K];
  nslmt_quiet_begin();
  int st = nslm_landscape_line(P.net, P.data, P.loss, con, a, b, K, t, risk, r, NULL, NULL);
  ck_assert_int_eq(nslmt_quiet_end(), 0);
  ck_assert_int_eq(st, NSLM_OK);
  for (int i = 0; i < K; i++) {
    ck_assert_double_eq(t[i], (double)i / (K - 1));
    nslm_params *x = pt_interp(&P, a, b, t[i]);
    ck_assert_msg(rel(risk[i], pt_ref_risk(&P, x, NULL)) <= 1e-12, "point %d", i);
    ck_assert_double_le(rel(r[i], pt_ref_r(x, 1.0, 0.5, 2.0)), 1e-12);
    nslm_params_destroy(x);
  }
  ck_assert_double_le(rel(risk[0], pt_ref_risk(&P, a, NULL)), 1e-13);
  ck_assert_double_le(rel(risk[K - 1], pt_ref_risk(&P, b, NULL)), 1e-13);
  /* The barrier of this profile, recomputed here from its definition. */
  double h, ta, best = -INFINITY, tb = 0;
  ck_assert_int_eq(nslm_landscape_barrier(K, t, risk, &h, &ta), NSLM_OK);
  for (int i = 0; i < K; i++) {
    double v = risk[i] - ((1 - t[i]) * risk[0] + t[i] * risk[K - 1]);
    if (v > best) {
      best = v;
      tb = t[i];
    }
  }
  ck_assert_double_eq_tol(h, best, 1e-14 * fabs(risk[0]) + 1e-300);
  ck_assert_double_eq(ta, tb);
  nslm_constraint_destroy(con);
  nslm_params_destroy(a);
  nslm_params_destroy(b);
  pt_prob_free(&P);
}
END_TEST

/* Tolerance of a line point against the reference: the library
 * interpolates the first layer's pre-activations, (1-t)(a^0 X) + t(b^0 X),
 * where the reference multiplies the interpolated weights: the two differ
 * by rounding, a few ulps of |a^0||X| per value, carried through a few
 * Lipschitz layers and a sum of n losses; 1e-12 of the risk's size (at
 * least 1: a hinge or absolute risk may be small) leaves ~1000 ulps. */
static void check_line_points(const pt_prob *P, const nslm_params *a, const nslm_params *b,
                              size_t k, const double *t, const double *risk, const double *r,
                              const char *what) {
  ck_assert_msg(t[0] == 0.0 && t[k - 1] == 1.0, "%s: ends %.17g, %.17g", what, t[0], t[k - 1]);
  for (size_t i = 0; i < k; i++) {
    ck_assert_msg(t[i] == (i + 1 == k ? 1.0 : (double)i / (double)(k - 1)), "%s: t[%zu]", what, i);
    nslm_params *x = pt_interp(P, a, b, t[i]);
    double ref = pt_ref_risk(P, x, NULL);
    ck_assert_msg(fabs(risk[i] - ref) <= 1e-12 * fmax(fabs(ref), 1.0),
                  "%s: point %zu (t = %g): risk %.17g, reference %.17g", what, i, t[i], risk[i], ref);
    if (r != NULL)
      ck_assert_msg(rel(r[i], pt_ref_r(x, 1.0, 0.5, 2.0)) <= 1e-12, "%s: r at point %zu", what, i);
    nslm_params_destroy(x);
  }
}

/* Every activation as the first hidden layer's (interpolated and
 * activated in one pass) and as the second's (activated in place after a
 * product), with every loss that accepts any output; widths and n chosen
 * so that no layer's p_j n is a multiple of 4 (the vector loops' tails). */
START_TEST(line_every_activation_and_loss) {
  static const int kinds[] = {NSLM_ACT_IDENTITY, NSLM_ACT_RELU, NSLM_ACT_LEAKY_RELU,
                              NSLM_ACT_POLY, NSLM_ACT_SIGMOID, NSLM_ACT_TANH};
  static const int losses[] = {NSLM_LOSS_SQUARED, NSLM_LOSS_ABSOLUTE, NSLM_LOSS_HUBER,
                               NSLM_LOSS_LOGISTIC, NSLM_LOSS_HINGE, NSLM_LOSS_SOFTMAX_CE};
  size_t w[] = {3, 5, 6, 2};
  nslm_constraint *con;
  ck_assert_int_eq(nslm_constraint_create(&con, 1.0, 0.5, 2.0), NSLM_OK);
  enum { K = 6, NK = sizeof kinds / sizeof kinds[0] };
  for (size_t q = 0; q < NK; q++)
    for (size_t v = 0; v < sizeof losses / sizeof losses[0]; v++) {
      int acts[2] = {kinds[q], kinds[(q + v + 1) % NK]};
      pt_prob P;
      pt_prob_make(&P, 2, w, 7, losses[v], acts, 10 + q * 10 + v);
      nslm_params *a = pt_params(&P, 3 * q + 1, 1.0), *b = pt_params(&P, 3 * q + 2, 1.0);
      double t[K], risk[K], r[K];
      char what[64];
      snprintf(what, sizeof what, "activations %d, %d, loss %d", acts[0], acts[1], losses[v]);
      ck_assert_msg(nslm_landscape_line(P.net, P.data, P.loss, con, a, b, K, t, risk, r, NULL,
                                        NULL) == NSLM_OK, "%s: %s", what, nslm_last_error());
      check_line_points(&P, a, b, K, t, risk, r, what);
      /* Without r (another workspace: one weight buffer for all layers). */
      double risk2[K];
      ck_assert_int_eq(nslm_landscape_line(P.net, P.data, P.loss, NULL, a, b, K, NULL, risk2, NULL,
                                           NULL, NULL), NSLM_OK);
      for (int i = 0; i < K; i++) ck_assert_double_eq(risk2[i], risk[i]);
      nslm_params_destroy(a);
      nslm_params_destroy(b);
      pt_prob_free(&P);
    }
  nslm_constraint_destroy(con);
}
END_TEST

/* One hidden layer (interpolated pre-activations feed the output layer
 * directly), also with two points (the ends alone); a deep, uneven net. */
START_TEST(line_shallow_and_deep) {
  nslm_constraint *con;
  ck_assert_int_eq(nslm_constraint_create(&con, 1.0, 0.5, 2.0), NSLM_OK);
  size_t w1[] = {4, 2, 3};
  pt_prob P;
  pt_prob_make(&P, 1, w1, 9, NSLM_LOSS_SOFTMAX_CE, NULL, 41);
  nslm_params *a = pt_params(&P, 1, 1.0), *b = pt_params(&P, 2, 1.0);
  double t[9], risk[9], r[9];
  ck_assert_int_eq(nslm_landscape_line(P.net, P.data, P.loss, con, a, b, 9, t, risk, r, NULL, NULL),
                   NSLM_OK);
  check_line_points(&P, a, b, 9, t, risk, r, "l = 1");
  ck_assert_int_eq(nslm_landscape_line(P.net, P.data, P.loss, con, a, b, 2, t, risk, r, NULL, NULL),
                   NSLM_OK);
  check_line_points(&P, a, b, 2, t, risk, r, "l = 1, k = 2");
  nslm_params_destroy(a);
  nslm_params_destroy(b);
  pt_prob_free(&P);

  size_t w4[] = {5, 17, 3, 11, 1, 2};
  int acts[] = {NSLM_ACT_RELU, NSLM_ACT_TANH, NSLM_ACT_LEAKY_RELU, NSLM_ACT_RELU};
  pt_prob_make(&P, 4, w4, 13, NSLM_LOSS_HUBER, acts, 42);
  a = pt_params(&P, 3, 1.0);
  b = pt_params(&P, 4, 1.0);
  ck_assert_int_eq(nslm_landscape_line(P.net, P.data, P.loss, con, a, b, 7, t, risk, r, NULL, NULL),
                   NSLM_OK);
  check_line_points(&P, a, b, 7, t, risk, r, "l = 4");
  nslm_params_destroy(a);
  nslm_params_destroy(b);
  pt_prob_free(&P);
  nslm_constraint_destroy(con);
}
END_TEST

/* A callback activation (tanh written here) goes through the generic
 * path; a failing one stops the line with NSLM_ERR_CALLBACK, outputs
 * untouched, nothing printed. */
static int cb_tanh(double *x, size_t len, void *u) {
  (void)u;
  for (size_t i = 0; i < len; i++) x[i] = tanh(x[i]);
  return 0;
}
static int cb_fail(double *x, size_t len, void *u) {
  (void)x;
  (void)len;
  (void)u;
  return 1;
}

START_TEST(line_callback_activation) {
  size_t w[] = {3, 6, 4, 2};
  int acts[] = {NSLM_ACT_TANH, NSLM_ACT_TANH};
  pt_prob P;
  pt_prob_make(&P, 2, w, 11, NSLM_LOSS_SQUARED, acts, 43);
  nslm_params *a = pt_params(&P, 1, 1.0), *b = pt_params(&P, 2, 1.0);
  double t[5], risk[5];
  for (size_t j = 1; j <= 2; j++) {
    ck_assert_int_eq(nslm_net_set_activation_callback(P.net, j, cb_tanh, NULL, NULL), NSLM_OK);
    ck_assert_int_eq(nslm_landscape_line(P.net, P.data, P.loss, NULL, a, b, 5, t, risk, NULL, NULL,
                                         NULL), NSLM_OK);
    check_line_points(&P, a, b, 5, t, risk, NULL, "callback tanh");
  }
  for (size_t j = 1; j <= 2; j++) {
    ck_assert_int_eq(nslm_net_set_activation(P.net, 1, NSLM_ACT_TANH, 1.0, 1.0), NSLM_OK);
    ck_assert_int_eq(nslm_net_set_activation(P.net, 2, NSLM_ACT_TANH, 1.0, 1.0), NSLM_OK);
    ck_assert_int_eq(nslm_net_set_activation_callback(P.net, j, cb_fail, NULL, NULL), NSLM_OK);
    for (int i = 0; i < 5; i++) risk[i] = t[i] = 9.0;
    nslmt_quiet_begin();
    int st = nslm_landscape_line(P.net, P.data, P.loss, NULL, a, b, 5, t, risk, NULL, NULL, NULL);
    ck_assert_int_eq(nslmt_quiet_end(), 0);
    ck_assert_int_eq(st, NSLM_ERR_CALLBACK);
    for (int i = 0; i < 5; i++) ck_assert(risk[i] == 9.0 && t[i] == 9.0);
  }
  nslm_params_destroy(a);
  nslm_params_destroy(b);
  pt_prob_free(&P);
}
END_TEST

START_TEST(barrier_closed_forms) {
  /* L = 4 t (1 - t) + 2 t + 1 on [0, 1]: chord 1 + 2 t, barrier 1 at 0.5. */
  enum { K = 101 };
  double t[K], L[K], h, ta;
  for (int i = 0; i < K; i++) {
    t[i] = i / 100.0;
    L[i] = 4 * t[i] * (1 - t[i]) + 2 * t[i] + 1;
  }
  ck_assert_int_eq(nslm_landscape_barrier(K, t, L, &h, &ta), NSLM_OK);
  ck_assert_double_eq_tol(h, 1.0, 1e-14);
  ck_assert_double_eq(ta, 0.5);
  /* On [2, 4] with uneven t: L = (t - 3)^2 is convex, barrier 0 at t_0. */
  double t2[5] = {2.0, 2.1, 2.9, 3.5, 4.0}, L2[5];
  for (int i = 0; i < 5; i++) L2[i] = (t2[i] - 3) * (t2[i] - 3);
  ck_assert_int_eq(nslm_landscape_barrier(5, t2, L2, &h, NULL), NSLM_OK);
  ck_assert_double_eq(h, 0.0);
  ck_assert_int_eq(nslm_landscape_barrier(5, t2, L2, &h, &ta), NSLM_OK);
  ck_assert_double_eq(ta, 2.0);
  /* -(t-3)^2 + 1 (concave): chord is 0, max 1 at t = 3 (not a sample);
   * the samples give 1 - 0.1^2 at 2.9. */
  for (int i = 0; i < 5; i++) L2[i] = 1 - (t2[i] - 3) * (t2[i] - 3);
  ck_assert_int_eq(nslm_landscape_barrier(5, t2, L2, &h, &ta), NSLM_OK);
  ck_assert_double_eq_tol(h, 1 - 0.01, 1e-14);
  ck_assert_double_eq(ta, 2.9);
}
END_TEST

/* ------------------------------------------------------------ directions and planes */

START_TEST(directions_normalized_then_orthogonal) {
  size_t w[] = {5, 6, 4, 3};
  pt_prob P;
  pt_prob_make(&P, 2, w, 4, NSLM_LOSS_SQUARED, NULL, 2);
  nslm_params *c = pt_params(&P, 3, 1.0), *d1, *d2, *e1, *e2;
  /* A zero row in the center stays a zero row of the directions. */
  double *x = pt_layer(c, 1);
  for (size_t k = 0; k < 6; k++) x[2 * 6 + k] = 0.0;
  pt_set_layer(c, 1, x);
  free(x);
  ck_assert_int_eq(nslm_params_create(&d1, P.net), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&d2, P.net), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&e1, P.net), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&e2, P.net), NSLM_OK);
  ck_assert_int_eq(nslm_landscape_directions(c, 42, d1, d2), NSLM_OK);
  ck_assert_int_eq(nslm_landscape_directions(c, 42, e1, e2), NSLM_OK);
  ck_assert(nslm_params_equal(d1, e1) && nslm_params_equal(d2, e2));
  ck_assert_int_eq(nslm_landscape_directions(c, 43, e1, e2), NSLM_OK);
  ck_assert(!nslm_params_equal(d1, e1));
  /* d1: every row has the norm of the center's row. */
  for (size_t j = 0; j <= 2; j++) {
    double *a = pt_layer(c, j), *b = pt_layer(d1, j), *b2 = pt_layer(d2, j);
    for (size_t r = 0; r < w[j + 1]; r++) {
      double na = 0, nb = 0, n2 = 0;
      for (size_t k = 0; k < w[j]; k++) {
        na += a[r * w[j] + k] * a[r * w[j] + k];
        nb += b[r * w[j] + k] * b[r * w[j] + k];
        n2 += b2[r * w[j] + k] * b2[r * w[j] + k];
      }
      ck_assert_double_le(fabs(sqrt(nb) - sqrt(na)), 1e-13 * sqrt(na));
      if (na == 0) ck_assert(nb == 0 && n2 == 0);
    }
    free(a);
    free(b);
    free(b2);
  }
  /* d2 orthogonal to d1; its norm is the one it had after normalization,
   * which is the center's (each row scaled to the center's row norm). */
  double n1 = sq_norm(d1, 2, w), n2 = sq_norm(d2, 2, w), nc = sq_norm(c, 2, w);
  ck_assert_double_le(fabs(dotp(d1, d2, 2, w)), 1e-13 * sqrt(n1 * n2));
  ck_assert_double_le(rel(n1, nc), 1e-13);
  ck_assert_double_le(rel(n2, nc), 1e-13);
  nslm_params_destroy(c);
  nslm_params_destroy(d1);
  nslm_params_destroy(d2);
  nslm_params_destroy(e1);
  nslm_params_destroy(e2);
  pt_prob_free(&P);
}
END_TEST

START_TEST(plane_values_match_reference) {
  size_t w[] = {4, 6, 5, 2};
  int acts[] = {NSLM_ACT_LEAKY_RELU, NSLM_ACT_SIGMOID};
  pt_prob P;
  pt_prob_make(&P, 2, w, 7, NSLM_LOSS_HUBER, acts, 3);
  nslm_params *c = pt_params(&P, 5, 1.0), *d1, *d2;
  ck_assert_int_eq(nslm_params_create(&d1, P.net), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&d2, P.net), NSLM_OK);
  ck_assert_int_eq(nslm_landscape_directions(c, 7, d1, d2), NSLM_OK);
  nslm_constraint *con;
  ck_assert_int_eq(nslm_constraint_create(&con, 0.5, 2.0, 1.0), NSLM_OK);
  enum { NA = 4, NB = 3 };
  double risk[NA * NB], r[NA * NB];
  /* Column-major outputs: element (i, j) at i + j NA. */
  ck_assert_int_eq(nslm_landscape_plane(P.net, P.data, P.loss, con, c, d1, d2, NA, -1.0, 1.0, NB,
                                        -0.5, 0.5, risk, 1, NA, r, 1, NA, NULL, NULL),
                   NSLM_OK);
  for (int i = 0; i < NA; i++)
    for (int j = 0; j < NB; j++) {
      double al = i == NA - 1 ? 1.0 : (1 - (double)i / (NA - 1)) * -1.0 + (double)i / (NA - 1) * 1.0;
      double be = j == NB - 1 ? 0.5 : (1 - (double)j / (NB - 1)) * -0.5 + (double)j / (NB - 1) * 0.5;
      nslm_params *x = pt_combine(&P, 1.0, c, al, d1, be, d2);
      ck_assert_msg(rel(risk[i + j * NA], pt_ref_risk(&P, x, NULL)) <= 1e-12, "(%d, %d)", i, j);
      ck_assert_double_le(rel(r[i + j * NA], pt_ref_r(x, 0.5, 2.0, 1.0)), 1e-12);
      nslm_params_destroy(x);
    }
  nslm_constraint_destroy(con);
  nslm_params_destroy(c);
  nslm_params_destroy(d1);
  nslm_params_destroy(d2);
  pt_prob_free(&P);
}
END_TEST

START_TEST(plane3_hits_its_points) {
  size_t w[] = {3, 5, 2};
  pt_prob P;
  pt_prob_make(&P, 1, w, 8, NSLM_LOSS_SQUARED, NULL, 4);
  nslm_params *a = pt_params(&P, 1, 1.0), *b = pt_params(&P, 2, 1.0), *c = pt_params(&P, 3, 1.0);
  enum { NA = 5, NB = 5 };
  double risk[NA * NB];
  ck_assert_int_eq(nslm_landscape_plane3(P.net, P.data, P.loss, NULL, a, b, c, NA, -0.5, 1.5, NB,
                                         -0.5, 1.5, risk, NB, 1, NULL, 0, 0, NULL, NULL),
                   NSLM_OK);
  /* Grid nodes: -0.5, 0, 0.5, 1, 1.5: a at (1, 1), b at (3, 1), c at (1, 3). */
  ck_assert_double_le(rel(risk[1 * NB + 1], pt_ref_risk(&P, a, NULL)), 1e-13);
  ck_assert_double_le(rel(risk[3 * NB + 1], pt_ref_risk(&P, b, NULL)), 1e-13);
  ck_assert_double_le(rel(risk[1 * NB + 3], pt_ref_risk(&P, c, NULL)), 1e-13);
  for (int i = 0; i < NA; i++)
    for (int j = 0; j < NB; j++) {
      double al = -0.5 + 0.5 * i, be = -0.5 + 0.5 * j;
      nslm_params *x = pt_combine(&P, 1 - al - be, a, al, b, be, c);
      ck_assert_double_le(rel(risk[i * NB + j], pt_ref_risk(&P, x, NULL)), 1e-12);
      nslm_params_destroy(x);
    }
  nslm_params_destroy(a);
  nslm_params_destroy(b);
  nslm_params_destroy(c);
  pt_prob_free(&P);
}
END_TEST

static int calls;
static int stop_at_3(double f, void *u) {
  (void)f;
  (void)u;
  return ++calls >= 3;
}

START_TEST(landscape_cancel) {
  size_t w[] = {3, 5, 2};
  pt_prob P;
  pt_prob_make(&P, 1, w, 8, NSLM_LOSS_SQUARED, NULL, 5);
  nslm_params *a = pt_params(&P, 1, 1.0), *b = pt_params(&P, 2, 1.0), *c = pt_params(&P, 3, 1.0);
  double risk[20], t[20];
  for (int i = 0; i < 20; i++) risk[i] = t[i] = 9.0;
  calls = 0;
  ck_assert_int_eq(nslm_landscape_line(P.net, P.data, P.loss, NULL, a, b, 10, t, risk, NULL, stop_at_3, NULL),
                   NSLM_ERR_CANCELLED);
  calls = 0;
  ck_assert_int_eq(nslm_landscape_plane3(P.net, P.data, P.loss, NULL, a, b, c, 4, 0, 1, 5, 0, 1, risk, 5, 1,
                                         NULL, 0, 0, stop_at_3, NULL),
                   NSLM_ERR_CANCELLED);
  calls = 0;
  ck_assert_int_eq(nslm_landscape_plane(P.net, P.data, P.loss, NULL, a, b, c, 4, 0, 1, 5, 0, 1, risk, 5, 1,
                                        NULL, 0, 0, stop_at_3, NULL),
                   NSLM_ERR_CANCELLED);
  for (int i = 0; i < 20; i++) ck_assert(risk[i] == 9.0 && t[i] == 9.0);
  nslm_params_destroy(a);
  nslm_params_destroy(b);
  nslm_params_destroy(c);
  pt_prob_free(&P);
}
END_TEST

/* ------------------------------------------------------------ CSV */

static char *slurp(const char *f) {
  FILE *in = fopen(f, "rb");
  ck_assert_ptr_nonnull(in);
  fseek(in, 0, SEEK_END);
  long n = ftell(in);
  fseek(in, 0, SEEK_SET);
  char *s = malloc((size_t)n + 1);
  ck_assert_int_eq(fread(s, 1, (size_t)n, in), (size_t)n);
  s[n] = '\0';
  fclose(in);
  return s;
}

START_TEST(csv_values_read_back_exactly) {
  size_t w[] = {3, 5, 2};
  pt_prob P;
  pt_prob_make(&P, 1, w, 4, NSLM_LOSS_SQUARED, NULL, 6);
  nslm_params *a = pt_params(&P, 1, 1.0), *b = pt_params(&P, 2, 1.0);
  nslm_path *path;
  ck_assert_int_eq(nslm_path_create(&path, P.net, a), NSLM_OK);
  ck_assert_int_eq(nslm_path_append(path, b, NSLM_SEG_CONVEX), NSLM_OK);
  ck_assert_int_eq(nslm_path_append(path, a, NSLM_SEG_CONSTANT), NSLM_OK);
  double t[5] = {0, 0.25, 0.5, 0.75, 1}, L[5] = {1.0 / 3, -2e-300, 1e300, 0.1, 7};
  double r[5] = {0.5, 1.0 / 7, 2, 3, M_PI};
  char *f = tmp("p.csv");
  ck_assert_int_eq(nslm_profile_write_csv(f, path, 5, t, L, r), NSLM_OK);
  char *s = slurp(f), *line = strtok(s, "\r\n");
  ck_assert_str_eq(line, "t,segment,kind,risk,r");
  const char *kinds[5] = {"CONVEX", "CONVEX", "CONSTANT", "CONSTANT", "CONSTANT"};
  const int segs[5] = {0, 0, 1, 1, 1};
  for (int i = 0; i < 5; i++) {
    line = strtok(NULL, "\r\n");
    ck_assert_ptr_nonnull(line);
    char kind[32];
    double tt, ll, rr;
    int seg;
    ck_assert_int_eq(sscanf(line, "%lf,%d,%31[A-Z],%lf,%lf", &tt, &seg, kind, &ll, &rr), 5);
    ck_assert(tt == t[i] && ll == L[i] && rr == r[i]);
    ck_assert_int_eq(seg, segs[i]);
    ck_assert_str_eq(kind, kinds[i]);
  }
  ck_assert_ptr_null(strtok(NULL, "\r\n"));
  free(s);
  /* Without a path or r. */
  ck_assert_int_eq(nslm_profile_write_csv(f, NULL, 5, t, L, NULL), NSLM_OK);
  s = slurp(f);
  ck_assert_ptr_nonnull(strstr(s, "t,risk\r\n0,0.33333333333333331\r\n"));
  free(s);
  /* Plane: na x nb rows after the header, alpha/beta exact at the ends. */
  double v[6] = {1, 2, 3, 4, 5, 6};
  ck_assert_int_eq(nslm_plane_write_csv(f, 2, -1, 1, 3, 0, 2, v, 3, 1, v, 1, 2), NSLM_OK);
  s = slurp(f);
  ck_assert_str_eq(s, "alpha,beta,risk,r\r\n-1,0,1,1\r\n-1,1,2,3\r\n-1,2,3,5\r\n1,0,4,2\r\n1,1,5,4\r\n1,2,6,6\r\n");
  free(s);
  /* Python's csv module reads the profile file. */
  ck_assert_int_eq(nslm_profile_write_csv(f, path, 5, t, L, r), NSLM_OK);
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "/usr/bin/python3 -c \"import csv,sys; rows=list(csv.DictReader(open(sys.argv[1], newline='')));"
           "assert len(rows)==5 and float(rows[4]['r'])==3.141592653589793 and rows[2]['kind']=='CONSTANT', rows\" %s",
           f);
  ck_assert_int_eq(pt_system(cmd), 0);
  free(f);
  nslm_path_destroy(path);
  nslm_params_destroy(a);
  nslm_params_destroy(b);
  pt_prob_free(&P);
}
END_TEST

/* ------------------------------------------------------------ SVG */

START_TEST(svg_is_valid_xml) {
  size_t w[] = {3, 5, 2};
  pt_prob P;
  pt_prob_make(&P, 1, w, 6, NSLM_LOSS_SQUARED, NULL, 7);
  nslm_params *k[4];
  for (int i = 0; i < 4; i++) k[i] = pt_params(&P, (uint64_t)i + 1, 1.0);
  nslm_path *path;
  ck_assert_int_eq(nslm_path_create(&path, P.net, k[0]), NSLM_OK);
  ck_assert_int_eq(nslm_path_append(path, k[1], NSLM_SEG_CONSTANT), NSLM_OK);
  ck_assert_int_eq(nslm_path_append(path, k[2], NSLM_SEG_CONVEX), NSLM_OK);
  ck_assert_int_eq(nslm_path_append(path, k[3], NSLM_SEG_GENERAL), NSLM_OK);
  size_t N = nslm_path_grid_size(path, 21);
  double *t = malloc(N * sizeof *t), *L = malloc(N * sizeof *L), *r = malloc(N * sizeof *r);
  nslm_constraint *con;
  ck_assert_int_eq(nslm_constraint_create(&con, 1, 1, 1), NSLM_OK);
  ck_assert_int_eq(nslm_path_eval_grid(path, P.net, P.data, P.loss, con, 21, N, t, L, r, NULL, 0, 0,
                                       NSLM_EVAL_STRUCTURED, NULL, NULL),
                   NSLM_OK);
  char *f = tmp("profile.svg"), *g = tmp("plane.svg"), *py = tmp("svg.py");
  /* A title with XML specials, a control character and invalid UTF-8. */
  const char *title = "risk <along> \"the\" path & 'back' \x01 \xff\xfe \xce\x98";
  ck_assert_int_eq(nslm_profile_write_svg(f, path, N, t, L, r, title), NSLM_OK);
  /* A plane with contours and marks. */
  enum { NA = 15, NB = 11 };
  double v[NA * NB], marks[6] = {0, 0, 1, 0, 0, 1};
  for (int i = 0; i < NA; i++)
    for (int j = 0; j < NB; j++) {
      double al = -0.5 + 2.0 * i / (NA - 1), be = -0.5 + 2.0 * j / (NB - 1);
      v[i * NB + j] = (al - 0.3) * (al - 0.3) + 2 * (be - 0.6) * (be - 0.6) + sin(3 * al * be);
    }
  ck_assert_int_eq(nslm_plane_write_svg(g, NA, -0.5, 1.5, NB, -0.5, 1.5, v, NB, 1, 3, marks, "plane"), NSLM_OK);
  FILE *s = fopen(py, "w");
  fprintf(s,
          "import sys, xml.etree.ElementTree as ET\n"
          "ns = '{http://www.w3.org/2000/svg}'\n"
          "p = ET.parse(sys.argv[1]).getroot()\n"
          "assert p.tag == ns + 'svg', p.tag\n"
          "lines = p.findall(ns + 'polyline')\n"
          "assert len(lines) == 2, len(lines)\n"
          "pts = [tuple(map(float, q.split(','))) for q in lines[0].get('points').split()]\n"
          "assert len(pts) == int(sys.argv[3]), len(pts)\n"
          "xs = [x for x, y in pts]; assert xs == sorted(xs)\n"
          "W, H = float(p.get('width')), float(p.get('height'))\n"
          "assert all(0 <= x <= W and 0 <= y <= H for x, y in pts)\n"
          "title = p.find(ns + 'title').text\n"
          "assert title == 'risk <along> \"the\" path & \\'back\\' ? ?? \\u0398', repr(title)\n"
          "texts = [t.text for t in p.iter(ns + 'text')]\n"
          "assert 'CONSTANT' in texts and 'CONVEX' in texts and 'GENERAL' in texts, texts\n"
          "q = ET.parse(sys.argv[2]).getroot()\n"
          "rects = q.findall('.//' + ns + 'rect')\n"
          "assert len(rects) >= %d, len(rects)\n"
          "paths = q.findall(ns + 'path')\n"
          "assert len(paths) == 1 and paths[0].get('d').count('M') > 20\n"
          "assert len(q.findall(ns + 'circle')) == 3\n"
          "print('ok')\n",
          NA * NB);
  fclose(s);
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s %s %zu", py, f, g, N);
  ck_assert_int_eq(pt_system(cmd), 0);
  /* Degenerate inputs still make valid files: one point, flat values. */
  double one_t = 0.5, one_l = 2.0, flat[4] = {3, 3, 3, 3};
  ck_assert_int_eq(nslm_profile_write_svg(f, NULL, 1, &one_t, &one_l, NULL, NULL), NSLM_OK);
  ck_assert_int_eq(nslm_plane_write_svg(g, 2, 0, 0, 2, 1, 1, flat, 2, 1, 0, NULL, NULL), NSLM_OK);
  snprintf(cmd, sizeof cmd,
           "/usr/bin/python3 -c \"import sys, xml.etree.ElementTree as ET; ET.parse(sys.argv[1]); ET.parse(sys.argv[2])\" %s %s",
           f, g);
  ck_assert_int_eq(pt_system(cmd), 0);
  nslm_constraint_destroy(con);
  free(t);
  free(L);
  free(r);
  free(f);
  free(g);
  free(py);
  for (int i = 0; i < 4; i++) nslm_params_destroy(k[i]);
  nslm_path_destroy(path);
  pt_prob_free(&P);
}
END_TEST

int main(void) {
  Suite *s = suite_create("landscape");
  TCase *tc = tcase_create("landscape");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, line_points_and_endpoints);
  tcase_add_test(tc, line_every_activation_and_loss);
  tcase_add_test(tc, line_shallow_and_deep);
  tcase_add_test(tc, line_callback_activation);
  tcase_add_test(tc, barrier_closed_forms);
  tcase_add_test(tc, directions_normalized_then_orthogonal);
  tcase_add_test(tc, plane_values_match_reference);
  tcase_add_test(tc, plane3_hits_its_points);
  tcase_add_test(tc, landscape_cancel);
  tcase_add_test(tc, csv_values_read_back_exactly);
  tcase_add_test(tc, svg_is_valid_xml);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
