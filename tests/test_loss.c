/* test_loss.c - every loss against its formula, written here separately
 * (scalar, long double where the naive formula is accurate, asymptotic or
 * hand-derived values at the extremes), gradients against central finite
 * differences, the batched evaluation against per-sample references,
 * callbacks, domains, and allocation-failure injection. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "nslm.h"
#include "alloc.h"
#include "loss.h"
#include "testutil.h"

/* Relative tolerance against the long-double references: each term is a
 * few libm calls (<= 1 ulp each) and a handful of roundings, summed over
 * at most 12 outputs; 1e-13 leaves a margin of ~100x over 12 * 4 ulp
 * (about 1e-14) for values of order 1..100. */
#define REF_TOL 1e-13

static int builtin_kinds[] = {NSLM_LOSS_SQUARED, NSLM_LOSS_ABSOLUTE, NSLM_LOSS_HUBER,
                              NSLM_LOSS_LOGISTIC, NSLM_LOSS_LOGISTIC_PAPER, NSLM_LOSS_HINGE,
                              NSLM_LOSS_SOFTMAX_CE};
#define NKINDS (sizeof builtin_kinds / sizeof builtin_kinds[0])

/* ------------------------------------------------------------------ */
/* The formulas, written naively (valid for moderate arguments). */

static long double ref_loss(int kind, double delta, size_t m, const double *a, const double *y) {
  long double v = 0.0L;
  if (kind == NSLM_LOSS_SOFTMAX_CE) {
    /* -sum_k y_k log(e^{a_k} / sum_j e^{a_j}), directly. */
    long double z = 0.0L;
    for (size_t j = 0; j < m; j++) z += expl(a[j]);
    for (size_t k = 0; k < m; k++) v -= y[k] * logl(expl(a[k]) / z);
    return v;
  }
  for (size_t k = 0; k < m; k++) {
    long double A = a[k], Y = y[k], r = A - Y;
    switch (kind) {
    case NSLM_LOSS_SQUARED: v += r * r; break;
    case NSLM_LOSS_ABSOLUTE: v += r < 0 ? -r : r; break;
    case NSLM_LOSS_HUBER: {
      long double ar = r < 0 ? -r : r;
      v += ar <= delta ? r * r / 2 : delta * (ar - delta / 2);
      break;
    }
    case NSLM_LOSS_LOGISTIC: v += logl(1.0L + expl(-Y * A)); break;
    case NSLM_LOSS_LOGISTIC_PAPER: v += -(1 + Y) * logl(1 + A) - (1 - Y) * logl(1 - A); break;
    case NSLM_LOSS_HINGE: v += 1 - Y * A > 0 ? 1 - Y * A : 0; break;
    }
  }
  return v;
}

/* Random arguments inside each kind's domain, away from kinks by > 1e-3. */
static void random_args(nslmt_rng *r, int kind, double delta, size_t m, double *a, double *y) {
  for (size_t k = 0; k < m; k++) {
    for (;;) {
      switch (kind) {
      case NSLM_LOSS_LOGISTIC_PAPER:
        a[k] = 1.8 * nslmt_uniform(r) - 0.9;
        y[k] = 2.0 * nslmt_uniform(r) - 1.0;
        break;
      case NSLM_LOSS_LOGISTIC: case NSLM_LOSS_HINGE:
        a[k] = 3.0 * nslmt_normal(r);
        y[k] = nslmt_uniform(r) < 0.5 ? -1.0 : 1.0;
        if (nslmt_uniform(r) < 0.3) y[k] = 2.0 * nslmt_normal(r); /* any finite y */
        break;
      case NSLM_LOSS_SOFTMAX_CE:
        a[k] = 4.0 * nslmt_normal(r);
        y[k] = nslmt_uniform(r);
        break;
      default:
        a[k] = 3.0 * nslmt_normal(r);
        y[k] = 3.0 * nslmt_normal(r);
      }
      double rr = a[k] - y[k], z = a[k] * y[k];
      if (kind == NSLM_LOSS_ABSOLUTE && fabs(rr) < 1e-3) continue;
      if (kind == NSLM_LOSS_HUBER && fabs(fabs(rr) - delta) < 1e-3) continue;
      if (kind == NSLM_LOSS_HINGE && fabs(1.0 - z) < 1e-3) continue;
      break;
    }
  }
}

static nslm_loss *make(int kind, double delta) {
  nslm_loss *l = NULL;
  ck_assert_int_eq(nslm_loss_create(&l, kind, kind == NSLM_LOSS_HUBER ? delta : 0.0), NSLM_OK);
  ck_assert_ptr_nonnull(l);
  ck_assert_int_eq(nslm_loss_kind(l), kind);
  return l;
}

START_TEST(every_loss_matches_its_formula) {
  nslmt_rng r;
  nslmt_seed(&r, 11);
  double a[12], y[12];
  for (size_t t = 0; t < NKINDS; t++) {
    int kind = builtin_kinds[t];
    double delta = 0.7;
    nslm_loss *l = make(kind, delta);
    for (int rep = 0; rep < 200; rep++) {
      size_t m = nslmt_range(&r, 1, 12);
      random_args(&r, kind, delta, m, a, y);
      double v = -1;
      ck_assert_int_eq(nslm_loss_eval(l, m, a, y, &v, NULL), NSLM_OK);
      double ref = (double)ref_loss(kind, delta, m, a, y);
      ck_assert_msg(fabs(v - ref) <= REF_TOL * fmax(1.0, fabs(ref)), "kind %d m %zu: %.17g vs %.17g",
                    kind, m, v, ref);
    }
    nslm_loss_destroy(l);
  }
}
END_TEST

/* The parameter of kinds other than Huber is ignored (but checked finite). */
START_TEST(param_ignored_except_huber) {
  double a[3] = {0.3, -0.2, 0.5}, y[3] = {1, -1, 0.2};
  nslm_loss *l1, *l2;
  ck_assert_int_eq(nslm_loss_create(&l1, NSLM_LOSS_SQUARED, 0.0), NSLM_OK);
  ck_assert_int_eq(nslm_loss_create(&l2, NSLM_LOSS_SQUARED, -5.0), NSLM_OK);
  double v1, v2;
  ck_assert_int_eq(nslm_loss_eval(l1, 3, a, y, &v1, NULL), NSLM_OK);
  ck_assert_int_eq(nslm_loss_eval(l2, 3, a, y, &v2, NULL), NSLM_OK);
  ck_assert(v1 == v2);
  nslm_loss_destroy(l1);
  nslm_loss_destroy(l2);
  /* Huber: delta matters; at r = delta both branches give delta^2 / 2. */
  ck_assert_int_eq(nslm_loss_create(&l1, NSLM_LOSS_HUBER, 0.25), NSLM_OK);
  double aa = 1.25, yy = 1.0, v, g;
  ck_assert_int_eq(nslm_loss_eval(l1, 1, &aa, &yy, &v, &g), NSLM_OK);
  ck_assert_double_eq_tol(v, 0.03125, 1e-16); /* exact in binary; 1e-16 = 1 rounding */
  ck_assert_double_eq_tol(g, 0.25, 1e-16);
  aa = 11.0; /* r = 10: delta (r - delta/2) = 0.25 * 9.875 */
  ck_assert_int_eq(nslm_loss_eval(l1, 1, &aa, &yy, &v, &g), NSLM_OK);
  ck_assert_double_eq_tol(v, 2.46875, 1e-15);
  ck_assert(g == 0.25);
  aa = -9.0;
  ck_assert_int_eq(nslm_loss_eval(l1, 1, &aa, &yy, &v, &g), NSLM_OK);
  ck_assert(g == -0.25);
  nslm_loss_destroy(l1);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Extreme arguments: exact or asymptotic values derived by hand. */

static double eval1(int kind, double delta, double a, double y, double *g) {
  nslm_loss *l = make(kind, delta);
  double v = NAN;
  int st = nslm_loss_eval(l, 1, &a, &y, &v, g);
  ck_assert_msg(st == NSLM_OK, "kind %d a %g y %g: %s", kind, a, y, nslm_last_error());
  nslm_loss_destroy(l);
  return v;
}

START_TEST(logistic_extreme_margins) {
  double g;
  /* z = y a = +1e3: log(1 + e^-1000) = e^-1000 (1 - ...) underflows to 0
   * (e^-1000 ~ 5e-435 < DBL_TRUE_MIN); the gradient -y/(1+e^1000) also. */
  ck_assert(eval1(NSLM_LOSS_LOGISTIC, 0, 1e3, 1.0, &g) == 0.0);
  ck_assert(g == 0.0);
  ck_assert(eval1(NSLM_LOSS_LOGISTIC, 0, -1e3, -1.0, &g) == 0.0);
  /* z = -1e3: log(1 + e^1000) = 1000 + log(1 + e^-1000) = 1000 in double;
   * gradient -y e^1000/(1+e^1000) = -y. */
  ck_assert(eval1(NSLM_LOSS_LOGISTIC, 0, -1e3, 1.0, &g) == 1000.0);
  ck_assert_double_eq_tol(g, -1.0, 1e-300);
  ck_assert(eval1(NSLM_LOSS_LOGISTIC, 0, 1e3, -1.0, &g) == 1000.0);
  ck_assert_double_eq_tol(g, 1.0, 1e-300);
  /* z = 30: log(1 + e^-30) = e^-30 - e^-60/2 + O(e^-90): relative error of
   * the two-term series e^-60/3 ~ 3e-27, far below 1e-15 (a few ulp). */
  double e = exp(-30.0);
  double v = eval1(NSLM_LOSS_LOGISTIC, 0, 30.0, 1.0, &g);
  ck_assert_double_eq_tol(v, e - e * e / 2, 1e-15 * e);
  /* -1/(1+e^30) = -e^-30/(1+e^-30) = -(e - e^2 + ...) */
  ck_assert_double_eq_tol(g, -(e - e * e), 1e-15 * e);
  /* z = 0: log 2, gradient -y/2. */
  ck_assert_double_eq_tol(eval1(NSLM_LOSS_LOGISTIC, 0, 0.0, 1.0, &g), M_LN2, 1e-16);
  ck_assert_double_eq_tol(g, -0.5, 1e-16);
  /* Non-label y (any finite y is accepted): y = 0 gives log 2, gradient 0. */
  ck_assert_double_eq_tol(eval1(NSLM_LOSS_LOGISTIC, 0, 123.0, 0.0, &g), M_LN2, 1e-16);
  ck_assert(g == 0.0);
}
END_TEST

START_TEST(hinge_extreme_margins_and_kink) {
  double g;
  ck_assert(eval1(NSLM_LOSS_HINGE, 0, 1e3, 1.0, &g) == 0.0);
  ck_assert(g == 0.0);
  ck_assert(eval1(NSLM_LOSS_HINGE, 0, -1e3, 1.0, &g) == 1001.0);
  ck_assert(g == -1.0);
  ck_assert(eval1(NSLM_LOSS_HINGE, 0, 1e3, -1.0, &g) == 1001.0);
  ck_assert(g == 1.0);
  /* Kink z = 1: value 0, subgradient in [-y, 0]; the least-magnitude one, 0. */
  ck_assert(eval1(NSLM_LOSS_HINGE, 0, 1.0, 1.0, &g) == 0.0);
  ck_assert(g == 0.0);
  /* Non-label y: max(0, 1 - 2.5 * 0.2) = 0.5, gradient -2.5. */
  ck_assert_double_eq_tol(eval1(NSLM_LOSS_HINGE, 0, 0.2, 2.5, &g), 0.5, 1e-16);
  ck_assert(g == -2.5);
}
END_TEST

START_TEST(absolute_and_squared_kinks_and_large) {
  double g;
  ck_assert(eval1(NSLM_LOSS_ABSOLUTE, 0, 2.0, 2.0, &g) == 0.0);
  ck_assert(g == 0.0); /* subgradient at r = 0: 0 */
  ck_assert(eval1(NSLM_LOSS_ABSOLUTE, 0, -1e300, 1e300, &g) == 2e300);
  ck_assert(g == -1.0);
  /* (2 fl(1e150))^2: one rounding away from the literal 4e300 (1e-15 rel). */
  ck_assert_double_eq_tol(eval1(NSLM_LOSS_SQUARED, 0, 1e150, -1e150, &g), 4e300, 4e285);
  ck_assert(g == 4.0 * 1e150); /* 2 (a - y) = 4 fl(1e150), exact doublings */
  /* Overflow of the value: a numerical failure, outputs untouched. */
  nslm_loss *l = make(NSLM_LOSS_SQUARED, 0);
  double a = 1e200, y = -1e200, v = 7, gg = 8;
  ck_assert_int_eq(nslm_loss_eval(l, 1, &a, &y, &v, &gg), NSLM_ERR_NUMERIC);
  ck_assert(v == 7 && gg == 8);
  nslm_loss_destroy(l);
  /* Huber stays linear (finite) where the square would overflow. */
  ck_assert_double_eq_tol(eval1(NSLM_LOSS_HUBER, 1.0, 1e300, 0.0, &g), 1e300, 1e285);
  ck_assert(g == 1.0);
}
END_TEST

START_TEST(paper_logistic_near_the_boundary) {
  double g;
  /* Probability p = (1+a)/2 near 0: a = -1 + 2e-12 (rounded), y = 1:
   * value -2 log(1 + a), gradient -2/(1 + a), where 1 + a is computed
   * exactly (Sterbenz).  1e-14 relative: log of an exact argument and one
   * division, a few ulp. */
  double a = -1.0 + 2e-12, p1 = 1.0 + a;
  double v = eval1(NSLM_LOSS_LOGISTIC_PAPER, 0, a, 1.0, &g);
  ck_assert_double_eq_tol(v, -2.0 * log(p1), 1e-14 * fabs(v));
  ck_assert_double_eq_tol(g, -2.0 / p1, 1e-14 * fabs(g));
  /* y = -1 at the same a: -2 log(1 - a) = -2 log(2 - 2e-12) ~ -2 log 2. */
  v = eval1(NSLM_LOSS_LOGISTIC_PAPER, 0, a, -1.0, &g);
  ck_assert_double_eq_tol(v, -2.0 * log(1.0 - a), 1e-15);
  ck_assert_double_eq_tol(g, 2.0 / (1.0 - a), 1e-15);
  /* Tiny a: -(1+y) log1p(a) - (1-y) log1p(-a) = -2 y a + a^2 + O(a^3). */
  a = 1e-10;
  v = eval1(NSLM_LOSS_LOGISTIC_PAPER, 0, a, 0.5, &g);
  /* two terms of ~1e-10 with ulp 2.6e-26 each cancel to -1e-10: 1e-25 */
  ck_assert_double_eq_tol(v, -2 * 0.5 * a + a * a, 1e-25);
  /* Largest a below 1: finite. */
  a = nextafter(1.0, 0.0);
  v = eval1(NSLM_LOSS_LOGISTIC_PAPER, 0, a, 1.0, &g);
  ck_assert(isfinite(v) && isfinite(g));
  ck_assert_double_eq_tol(v, -2.0 * log1p(a), 1e-15);
}
END_TEST

START_TEST(paper_logistic_domain) {
  nslm_loss *l = make(NSLM_LOSS_LOGISTIC_PAPER, 0);
  double bad_a[] = {1.0, -1.0, 1.5, -3.0}, v = 5, g[2] = {6, 6};
  for (size_t i = 0; i < 4; i++) {
    double a[2] = {0.0, bad_a[i]}, y[2] = {0.0, 0.0};
    ck_assert_int_eq(nslm_loss_eval(l, 2, a, y, &v, g), NSLM_ERR_DOMAIN);
    ck_assert_ptr_nonnull(strstr(nslm_last_error(), "a[1]"));
  }
  double a[1] = {0.5}, y[1] = {1.0 + 1e-15};
  ck_assert_int_eq(nslm_loss_eval(l, 1, a, y, &v, g), NSLM_ERR_DOMAIN);
  ck_assert_ptr_nonnull(strstr(nslm_last_error(), "y[0]"));
  ck_assert(v == 5 && g[0] == 6 && g[1] == 6);
  /* |y| = 1 is in the domain. */
  y[0] = -1.0;
  ck_assert_int_eq(nslm_loss_eval(l, 1, a, y, &v, g), NSLM_OK);
  nslm_loss_destroy(l);
}
END_TEST

START_TEST(softmax_large_logits_and_small_probabilities) {
  nslm_loss *l = make(NSLM_LOSS_SOFTMAX_CE, 0);
  /* Logits +-1000: lse = 1000 + log(1 + e^-1000 + e^-2000) = 1000 exactly
   * in double; value = sum_k y_k (1000 - a_k). */
  double a[3] = {1000.0, -1000.0, 0.0}, y[3] = {0.0, 1.0, 0.0}, v, g[3];
  ck_assert_int_eq(nslm_loss_eval(l, 3, a, y, &v, g), NSLM_OK);
  ck_assert(v == 2000.0);
  /* gradient softmax - y: (1, 0, e^-1000 = 0) - y */
  ck_assert(g[0] == 1.0 && g[1] == -1.0 && g[2] == 0.0);
  double y2[3] = {0.25, 0.25, 0.5};
  ck_assert_int_eq(nslm_loss_eval(l, 3, a, y2, &v, g), NSLM_OK);
  ck_assert_double_eq_tol(v, 0.25 * 0 + 0.25 * 2000 + 0.5 * 1000, 1e-12);
  /* Near-zero probabilities in y (1e-300): they contribute y_k (lse - a_k),
   * negligible; the value equals the one-hot value to rounding. */
  double b[2] = {3.0, -2.0}, yt[2] = {1.0 - 1e-16, 1e-300};
  ck_assert_int_eq(nslm_loss_eval(l, 2, b, yt, &v, g), NSLM_OK);
  /* lse - 3 = log(1 + e^-5) */
  double ref = (1.0 - 1e-16) * log1p(exp(-5.0));
  ck_assert_double_eq_tol(v, ref, 1e-15 * ref);
  /* A near-zero predicted probability: the sample's true class has logit
   * -700 against 700: value = 1400 + log1p(e^-1400) = 1400. */
  double c[2] = {-700.0, 700.0}, yc[2] = {1.0, 0.0};
  ck_assert_int_eq(nslm_loss_eval(l, 2, c, yc, &v, g), NSLM_OK);
  ck_assert(v == 1400.0);
  ck_assert(g[0] == -1.0 && g[1] == 1.0);
  /* Shift invariance: adding 1e3 to every logit changes nothing (the
   * formula depends on differences only); 1e-12 covers the rounding of
   * a_k + 1000 (ulp 1.1e-13) times |y| sums of order 1. */
  double d[3] = {0.3, -1.2, 2.0}, ds[3], yy[3] = {0.2, 0.3, 0.5}, v1, v2;
  for (int k = 0; k < 3; k++) ds[k] = d[k] + 1000.0;
  ck_assert_int_eq(nslm_loss_eval(l, 3, d, yy, &v1, NULL), NSLM_OK);
  ck_assert_int_eq(nslm_loss_eval(l, 3, ds, yy, &v2, NULL), NSLM_OK);
  ck_assert_double_eq_tol(v1, v2, 1e-12);
  /* m = 1: softmax is 1, value 0. */
  double one = 5.0, yo = 1.0;
  ck_assert_int_eq(nslm_loss_eval(l, 1, &one, &yo, &v, g), NSLM_OK);
  ck_assert(v == 0.0 && g[0] == 0.0);
  /* Negative y: outside the domain (convexity needs y >= 0). */
  double yn[2] = {1.5, -0.5};
  ck_assert_int_eq(nslm_loss_eval(l, 2, b, yn, &v, g), NSLM_ERR_DOMAIN);
  nslm_loss_destroy(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Gradients against central finite differences. */

/* Step h = 1e-6 (1 + |a|): truncation error h^2 |f'''| / 6 <= ~1e-11 for
 * the arguments drawn (|f'''| <= ~1e3 for the paper form at |a| <= 0.9:
 * 2 * 2 / 0.1^3 = 4e3, so ~1e-9), rounding error eps |f| / h <= ~2e-10 |f|
 * with |f| <= ~100.  Tolerance 1e-6 relative to max(1, |g|) covers both
 * with a wide margin. */
#define FD_TOL 1e-6

START_TEST(gradients_match_finite_differences) {
  nslmt_rng r;
  nslmt_seed(&r, 23);
  double a[10], y[10], g[10], ap[10];
  for (size_t t = 0; t < NKINDS; t++) {
    int kind = builtin_kinds[t];
    double delta = 1.3;
    nslm_loss *l = make(kind, delta);
    for (int rep = 0; rep < 50; rep++) {
      size_t m = nslmt_range(&r, 1, 10);
      random_args(&r, kind, delta, m, a, y);
      double v;
      ck_assert_int_eq(nslm_loss_eval(l, m, a, y, &v, g), NSLM_OK);
      for (size_t k = 0; k < m; k++) {
        double h = 1e-6 * (1.0 + fabs(a[k])), vp, vm;
        memcpy(ap, a, m * sizeof *a);
        ap[k] = a[k] + h;
        ck_assert_int_eq(nslm_loss_eval(l, m, ap, y, &vp, NULL), NSLM_OK);
        ap[k] = a[k] - h;
        ck_assert_int_eq(nslm_loss_eval(l, m, ap, y, &vm, NULL), NSLM_OK);
        double fd = (vp - vm) / (2 * h);
        ck_assert_msg(fabs(fd - g[k]) <= FD_TOL * fmax(1.0, fabs(g[k])),
                      "kind %d k %zu: grad %.12g fd %.12g", kind, k, g[k], fd);
      }
    }
    nslm_loss_destroy(l);
  }
}
END_TEST

/* Convexity in a, sampled: l((a+b)/2) <= (l(a)+l(b))/2 up to rounding
 * (1e-12 relative: a few ulp of values of order <= 1e3). */
START_TEST(losses_are_convex_along_random_chords) {
  nslmt_rng r;
  nslmt_seed(&r, 5);
  double a[6], b[6], c[6], y[6], y2[6];
  for (size_t t = 0; t < NKINDS; t++) {
    int kind = builtin_kinds[t];
    nslm_loss *l = make(kind, 0.9);
    for (int rep = 0; rep < 300; rep++) {
      size_t m = nslmt_range(&r, 1, 6);
      random_args(&r, kind, 0.9, m, a, y);
      random_args(&r, kind, 0.9, m, b, y2);
      for (size_t k = 0; k < m; k++) c[k] = 0.5 * (a[k] + b[k]);
      double va, vb, vc;
      ck_assert_int_eq(nslm_loss_eval(l, m, a, y, &va, NULL), NSLM_OK);
      ck_assert_int_eq(nslm_loss_eval(l, m, b, y, &vb, NULL), NSLM_OK);
      ck_assert_int_eq(nslm_loss_eval(l, m, c, y, &vc, NULL), NSLM_OK);
      ck_assert_msg(vc <= 0.5 * (va + vb) + 1e-12 * fmax(1.0, fabs(va) + fabs(vb)),
                    "kind %d", kind);
    }
    nslm_loss_destroy(l);
  }
}
END_TEST

/* ------------------------------------------------------------------ */
/* Batches: nslmi_loss_batch on m x n outputs (samples as columns). */

static void batch_case(int kind, double delta, size_t m, size_t n, uint64_t seed) {
  nslmt_rng r;
  nslmt_seed(&r, seed);
  double *out = malloc(m * n * sizeof *out), *y = malloc(n * m * sizeof *y);
  double *losses = malloc(n * sizeof *losses), *dldo = malloc(m * n * sizeof *dldo);
  double *a = malloc(m * sizeof *a), *yy = malloc(m * sizeof *yy), *g = malloc(m * sizeof *g);
  for (size_t i = 0; i < n; i++) {
    random_args(&r, kind, delta, m, a, yy);
    for (size_t k = 0; k < m; k++) {
      out[k * n + i] = a[k];
      y[i * m + k] = yy[k];
    }
  }
  nslm_loss *l = make(kind, delta);
  double total = NAN;
  ck_assert_int_eq(nslmi_loss_batch(l, m, n, out, y, losses, &total, dldo), NSLM_OK);
  long double sum = 0.0L;
  double gsc = 0.0;
  for (size_t i = 0; i < n; i++) {
    for (size_t k = 0; k < m; k++) a[k] = out[k * n + i];
    double ref = (double)ref_loss(kind, delta, m, a, y + i * m);
    sum += ref;
    ck_assert_msg(fabs(losses[i] - ref) <= REF_TOL * fmax(1.0, fabs(ref)), "kind %d sample %zu", kind, i);
    /* gradient: the per-sample public call, itself checked against finite
     * differences above; the batched code path is a separate loop. */
    double v;
    ck_assert_int_eq(nslm_loss_eval(l, m, a, y + i * m, &v, g), NSLM_OK);
    for (size_t k = 0; k < m; k++) {
      ck_assert_msg(fabs(dldo[k * n + i] - g[k]) <= 1e-14 * fmax(1.0, fabs(g[k])),
                    "kind %d grad (%zu, %zu)", kind, k, i);
      gsc = fmax(gsc, fabs(g[k]));
    }
  }
  /* total: n per-sample values each within REF_TOL, plus n roundings of
   * the running sum (n * eps relative). */
  ck_assert_msg(fabs(total - (double)sum) <= (REF_TOL + n * DBL_EPSILON) * fmax(1.0, (double)sum),
                "kind %d total %.17g ref %.17Lg", kind, total, sum);
  /* Every combination of NULL outputs gives the same numbers. */
  double t2 = NAN, *l2 = malloc(n * sizeof *l2), *d2 = malloc(m * n * sizeof *d2);
  ck_assert_int_eq(nslmi_loss_batch(l, m, n, out, y, NULL, &t2, NULL), NSLM_OK);
  ck_assert(t2 == total);
  ck_assert_int_eq(nslmi_loss_batch(l, m, n, out, y, l2, NULL, NULL), NSLM_OK);
  ck_assert_int_eq(memcmp(l2, losses, n * sizeof *l2), 0);
  ck_assert_int_eq(nslmi_loss_batch(l, m, n, out, y, NULL, NULL, d2), NSLM_OK);
  ck_assert_int_eq(memcmp(d2, dldo, m * n * sizeof *d2), 0);
  nslm_loss_destroy(l);
  free(out); free(y); free(losses); free(dldo); free(a); free(yy); free(g); free(l2); free(d2);
}

START_TEST(batch_matches_formulas_and_single_samples) {
  /* n below, at and across the block size (256), m from 1 to 70. */
  size_t shapes[][2] = {{1, 1}, {1, 7}, {3, 256}, {10, 257}, {2, 600}, {70, 33}, {5, 1000}};
  for (size_t t = 0; t < NKINDS; t++)
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
      batch_case(builtin_kinds[t], 0.8, shapes[s][0], shapes[s][1], 100 * t + s);
}
END_TEST

START_TEST(batch_domain_and_overflow_errors) {
  size_t m = 2, n = 300;
  double *out = calloc(m * n, sizeof *out), *y = calloc(n * m, sizeof *y), total = 42;
  nslm_loss *l = make(NSLM_LOSS_LOGISTIC_PAPER, 0);
  out[1 * n + 280] = 1.0; /* output 1 of sample 280 */
  ck_assert_int_eq(nslmi_loss_batch(l, m, n, out, y, NULL, &total, NULL), NSLM_ERR_DOMAIN);
  ck_assert_ptr_nonnull(strstr(nslm_last_error(), "sample 280"));
  ck_assert(total == 42);
  out[1 * n + 280] = 0.0;
  y[7 * m + 0] = -1.5;
  ck_assert_int_eq(nslmi_loss_batch(l, m, n, out, y, NULL, &total, NULL), NSLM_ERR_DOMAIN);
  ck_assert_ptr_nonnull(strstr(nslm_last_error(), "sample 7"));
  nslm_loss_destroy(l);
  l = make(NSLM_LOSS_SOFTMAX_CE, 0);
  ck_assert_int_eq(nslmi_loss_batch(l, m, n, out, y, NULL, &total, NULL), NSLM_ERR_DOMAIN);
  y[7 * m + 0] = 0.0;
  ck_assert_int_eq(nslmi_loss_batch(l, m, n, out, y, NULL, &total, NULL), NSLM_OK);
  nslm_loss_destroy(l);
  l = make(NSLM_LOSS_SQUARED, 0);
  out[0 * n + 299] = 1e300;
  total = 42;
  ck_assert_int_eq(nslmi_loss_batch(l, m, n, out, y, NULL, &total, NULL), NSLM_ERR_NUMERIC);
  ck_assert(total == 42);
  /* Each sample finite (1e154^2 = 1e308), the sum of 300 of them is not. */
  for (size_t i = 0; i < n; i++) out[i] = 1.3e154;
  ck_assert_int_eq(nslmi_loss_batch(l, m, n, out, y, NULL, &total, NULL), NSLM_ERR_NUMERIC);
  nslm_loss_destroy(l);
  /* A NaN output (e.g. an overflowing network) never yields a finite loss. */
  for (size_t t = 0; t < NKINDS; t++) {
    l = make(builtin_kinds[t], 1.0);
    memset(out, 0, m * n * sizeof *out);
    memset(y, 0, m * n * sizeof *y);
    out[5] = NAN;
    int st = nslmi_loss_batch(l, m, n, out, y, NULL, &total, NULL);
    ck_assert_msg(st == NSLM_ERR_NUMERIC || st == NSLM_ERR_DOMAIN, "kind %d: %d", builtin_kinds[t], st);
    nslm_loss_destroy(l);
  }
  free(out);
  free(y);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Callbacks */

typedef struct {
  int fail, nan_value, nan_grad;
  long calls, grad_requests;
} cb_state;

/* sum_k (a_k - y_k)^2 written here. */
static int squared_cb(const double *a, const double *y, size_t m, double *value, double *grad,
                      void *user) {
  cb_state *s = user;
  s->calls++;
  if (s->fail) return 1;
  double v = 0;
  for (size_t k = 0; k < m; k++) v += (a[k] - y[k]) * (a[k] - y[k]);
  *value = s->nan_value ? NAN : v;
  if (grad) {
    s->grad_requests++;
    for (size_t k = 0; k < m; k++) grad[k] = s->nan_grad ? INFINITY : 2 * (a[k] - y[k]);
  }
  return 0;
}

START_TEST(callback_loss_matches_builtin) {
  cb_state st = {0};
  nslm_loss *cb = NULL, *sq = make(NSLM_LOSS_SQUARED, 0);
  ck_assert_int_eq(nslm_loss_create_callback(&cb, squared_cb, &st), NSLM_OK);
  ck_assert_int_eq(nslm_loss_kind(cb), NSLM_LOSS_CALLBACK);
  nslmt_rng r;
  nslmt_seed(&r, 3);
  /* m = 3 (stack scratch) and m = 100 (heap scratch). */
  size_t ms[] = {3, 100}, n = 40;
  for (int t = 0; t < 2; t++) {
    size_t m = ms[t];
    double *out = malloc(m * n * sizeof *out), *y = malloc(n * m * sizeof *y);
    double *d1 = malloc(m * n * sizeof *d1), *d2 = malloc(m * n * sizeof *d2);
    double l1[40], l2[40], t1, t2;
    nslmt_fill(&r, out, m * n, 1.0);
    nslmt_fill(&r, y, m * n, 1.0);
    ck_assert_int_eq(nslmi_loss_batch(cb, m, n, out, y, l1, &t1, d1), NSLM_OK);
    ck_assert_int_eq(nslmi_loss_batch(sq, m, n, out, y, l2, &t2, d2), NSLM_OK);
    /* Same formula, same order of summation over k: equal to rounding of
     * the total's summation order (blocked vs running): n * eps. */
    ck_assert_double_eq_tol(t1, t2, n * DBL_EPSILON * t2);
    ck_assert(nslmt_relerr(l1, l2, n) <= 1e-15);
    ck_assert(nslmt_relerr(d1, d2, m * n) == 0.0);
    double v1, v2, g1[100], g2[100];
    ck_assert_int_eq(nslm_loss_eval(cb, m, out, y, &v1, g1), NSLM_OK);
    ck_assert_int_eq(nslm_loss_eval(sq, m, out, y, &v2, g2), NSLM_OK);
    ck_assert(v1 == v2);
    ck_assert(memcmp(g1, g2, m * sizeof *g1) == 0);
    free(out); free(y); free(d1); free(d2);
  }
  /* No gradient requested: the callback gets grad == NULL. */
  long before = st.grad_requests;
  double a[2] = {1, 2}, yy[2] = {0, 0}, v;
  ck_assert_int_eq(nslm_loss_eval(cb, 2, a, yy, &v, NULL), NSLM_OK);
  ck_assert_int_eq(st.grad_requests, before);
  ck_assert(v == 5.0);
  nslm_loss_destroy(cb);
  nslm_loss_destroy(sq);
}
END_TEST

START_TEST(callback_failures) {
  cb_state st = {0};
  nslm_loss *cb = NULL;
  ck_assert_int_eq(nslm_loss_create_callback(&cb, squared_cb, &st), NSLM_OK);
  double a[3] = {1, 2, 3}, y[3] = {0, 0, 0}, v = 9, g[3] = {8, 8, 8};
  st.fail = 1;
  ck_assert_int_eq(nslm_loss_eval(cb, 3, a, y, &v, g), NSLM_ERR_CALLBACK);
  st.fail = 0;
  st.nan_value = 1;
  ck_assert_int_eq(nslm_loss_eval(cb, 3, a, y, &v, g), NSLM_ERR_NUMERIC);
  st.nan_value = 0;
  st.nan_grad = 1;
  ck_assert_int_eq(nslm_loss_eval(cb, 3, a, y, &v, g), NSLM_ERR_NUMERIC);
  ck_assert(v == 9 && g[0] == 8 && g[1] == 8 && g[2] == 8);
  /* Without a gradient request the non-finite gradient is never produced. */
  ck_assert_int_eq(nslm_loss_eval(cb, 3, a, y, &v, NULL), NSLM_OK);
  st.nan_grad = 0;
  /* Batch: the first failing sample stops it. */
  double out[6] = {0}, yb[6] = {0}, total = 4;
  st.fail = 1;
  ck_assert_int_eq(nslmi_loss_batch(cb, 3, 2, out, yb, NULL, &total, NULL), NSLM_ERR_CALLBACK);
  ck_assert(total == 4);
  st.fail = 0;
  st.nan_value = 1;
  ck_assert_int_eq(nslmi_loss_batch(cb, 3, 2, out, yb, NULL, &total, NULL), NSLM_ERR_NUMERIC);
  nslm_loss_destroy(cb);
}
END_TEST

/* Every allocation site of the create functions, and of a callback
 * evaluation with m > 64 (heap scratch), fails once: NOMEM, *out NULL,
 * outputs untouched, no leak (the valgrind run checks the last part). */
START_TEST(each_failed_allocation_is_reported) {
  int sites = 0;
  for (size_t t = 0; t < NKINDS; t++)
    for (long k = 0;; k++) {
      nslm_loss *l = (nslm_loss *)0x1;
      nslmi_alloc_fail_after(k, 0);
      int st = nslm_loss_create(&l, builtin_kinds[t], 1.0);
      long used = nslmi_alloc_count();
      nslmi_alloc_fail_after(-1, 0);
      if (k >= used) { ck_assert_int_eq(st, NSLM_OK); nslm_loss_destroy(l); break; }
      ck_assert_int_eq(st, NSLM_ERR_NOMEM);
      ck_assert_ptr_null(l);
      sites++;
    }
  cb_state cs = {0};
  nslm_loss *cb = NULL;
  for (long k = 0;; k++) {
    nslm_loss *l = (nslm_loss *)0x1;
    nslmi_alloc_fail_after(k, 0);
    int st = nslm_loss_create_callback(&l, squared_cb, &cs);
    long used = nslmi_alloc_count();
    nslmi_alloc_fail_after(-1, 0);
    if (k >= used) { ck_assert_int_eq(st, NSLM_OK); cb = l; break; }
    ck_assert_int_eq(st, NSLM_ERR_NOMEM);
    ck_assert_ptr_null(l);
    sites++;
  }
  double a[100] = {0}, y[100] = {0}, g[100], v = 3;
  for (int k = 0; k < 100; k++) g[k] = 5;
  for (long k = 0;; k++) {
    nslmi_alloc_fail_after(k, 0);
    int st = nslm_loss_eval(cb, 100, a, y, &v, g);
    long used = nslmi_alloc_count();
    nslmi_alloc_fail_after(-1, 0);
    if (k >= used) { ck_assert_int_eq(st, NSLM_OK); break; }
    ck_assert_int_eq(st, NSLM_ERR_NOMEM);
    ck_assert(v == 3 && g[0] == 5 && g[99] == 5);
    sites++;
  }
  /* The batch allocates one scratch buffer for all samples. */
  double out[300] = {0}, yb[300] = {0}, total = 6;
  for (long k = 0;; k++) {
    nslmi_alloc_fail_after(k, 0);
    int st = nslmi_loss_batch(cb, 100, 3, out, yb, NULL, &total, NULL);
    long used = nslmi_alloc_count();
    nslmi_alloc_fail_after(-1, 0);
    if (k >= used) { ck_assert_int_eq(st, NSLM_OK); break; }
    ck_assert_int_eq(st, NSLM_ERR_NOMEM);
    ck_assert(total == 6);
    sites++;
  }
  nslm_loss_destroy(cb);
  printf("loss: allocation sites covered by fault injection: %d\n", sites);
  ck_assert_int_eq(sites, (int)NKINDS + 3);
}
END_TEST

int main(void) {
  Suite *s = suite_create("loss");
  TCase *tc = tcase_create("formulas");
  tcase_add_test(tc, every_loss_matches_its_formula);
  tcase_add_test(tc, param_ignored_except_huber);
  tcase_add_test(tc, logistic_extreme_margins);
  tcase_add_test(tc, hinge_extreme_margins_and_kink);
  tcase_add_test(tc, absolute_and_squared_kinks_and_large);
  tcase_add_test(tc, paper_logistic_near_the_boundary);
  tcase_add_test(tc, paper_logistic_domain);
  tcase_add_test(tc, softmax_large_logits_and_small_probabilities);
  tcase_add_test(tc, gradients_match_finite_differences);
  tcase_add_test(tc, losses_are_convex_along_random_chords);
  suite_add_tcase(s, tc);
  tc = tcase_create("batch");
  tcase_add_test(tc, batch_matches_formulas_and_single_samples);
  tcase_add_test(tc, batch_domain_and_overflow_errors);
  suite_add_tcase(s, tc);
  tc = tcase_create("callback");
  tcase_add_test(tc, callback_loss_matches_builtin);
  tcase_add_test(tc, callback_failures);
  tcase_add_test(tc, each_failed_allocation_is_reported);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
