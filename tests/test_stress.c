/* test_stress.c - numerics under stress (issue 7).
 *
 * Awkward instances: data and weights scaled by 1e+-150, duplicated
 * samples, dead units (zero rows, ReLU units off on every sample),
 * duplicated units, rank-deficient features (dependent columns, d > n),
 * n = 1, width 1, d = m = 1, several losses, with and without an active
 * constraint, in the three compression modes.  On each, the construction
 * (compress, connect, descent) must either
 *   - succeed, its ALGEBRAIC certificate must pass, and everything must
 *     verify INDEPENDENTLY (below); or
 *   - fail with a clear status (NSLM_ERR_TOO_NARROW, NSLM_ERR_NUMERIC,
 *     NSLM_ERR_INFEASIBLE for JOINT under a constraint), a detail message,
 *     and no output.
 * A success whose independent check fails is a silent wrong answer; a
 * success whose own certificate fails is counted too; both fail the test.
 *
 * Independent verification, all with the naive reference network of
 * tests/reference.c on layers read back from the library:
 *   compress: the compressed parameter's outputs equal theta's on every
 *     sample, to OUT_TOL relative to the output scale max |g|;
 *   connect: the first knot is theta and the last gamma, exactly; on
 *     every CONSTANT segment the risk at 5 points (interpolated here from
 *     the knots) equals the segment's first value, and on every CONVEX
 *     segment the 9 sampled risks are discretely convex, both to RISK_TOL
 *     relative to the risk scale S = sum_i sum_k (|g_ik| + |y_ik|)^2 at
 *     the knots (a bound on every term, so the test is scale-invariant);
 *   descent: the sampled risk never increases (RISK_TOL * S) and ends at
 *     or below min(L(theta), L(gamma)) + RISK_TOL * S.
 * Tolerances: OUT_TOL 1e-9: a compressed row reproduces w A_j to the
 * rounding of a p-term sum (1e-15 relative), then passes through at most
 * three more layers whose conditioning on these instances is below 1e3,
 * and the rank decisions (relative tolerance 1e-13 of sigma_1) add at
 * most that times the condition; RISK_TOL 1e-8: risks are sums of
 * squares of such outputs (twice the relative error) summed over n
 * samples, with a margin of ten for the interpolation of the knots done
 * here in a different order than the library. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "hardutil.h"
#include "nslm.h"
#include "reference.h"
#include "testutil.h"

#define OUT_TOL 1e-9
#define RISK_TOL 1e-8

static long n_ok, n_failed_clearly, n_silent_wrong, n_cert_fail, n_cert_error, n_cases;
static char statuses[1024];

static void note_status(int st) {
  char buf[64];
  snprintf(buf, sizeof buf, "%s; ", nslm_strerror(st));
  if (strstr(statuses, buf) == NULL) strncat(statuses, buf, sizeof statuses - strlen(statuses) - 1);
}

/* ------------------------------------------------------------------ */
/* Instance surgery */

static void reset_data(nslmh_inst *in) {
  nslm_data_destroy(in->data);
  ck_assert_int_eq(nslm_data_create(&in->data, in->n, in->d, in->x, (ptrdiff_t)in->d, 1, in->m, in->y,
                                    (ptrdiff_t)in->m, 1),
                   NSLM_OK);
}

static double *layer(const nslm_params *p, size_t j, size_t *rows, size_t *cols) {
  ck_assert_int_eq(nslm_params_layer_shape(p, j, rows, cols), NSLM_OK);
  double *a = malloc((*rows * *cols + 1) * sizeof *a);
  ck_assert_int_eq(nslm_params_get_layer(p, j, *rows, *cols, a, (ptrdiff_t)*cols, 1), NSLM_OK);
  return a;
}
static void put_layer(nslm_params *p, size_t j, double *a) {
  size_t rows, cols;
  ck_assert_int_eq(nslm_params_layer_shape(p, j, &rows, &cols), NSLM_OK);
  ck_assert_int_eq(nslm_params_set_layer(p, j, rows, cols, a, (ptrdiff_t)cols, 1), NSLM_OK);
  free(a);
}
static void scale_layer(nslm_params *p, size_t j, double s) {
  size_t r, c;
  double *a = layer(p, j, &r, &c);
  for (size_t i = 0; i < r * c; i++) a[i] *= s;
  put_layer(p, j, a);
}

/* ------------------------------------------------------------------ */
/* Independent checks */

static void ref_layers_out(const nslmh_inst *in, double *const *layers, double *out) {
  ck_assert_int_eq(nslmt_ref_outputs(in->depth, in->widths, (const double *const *)layers, in->ref, in->n, in->x,
                                     out),
                   0);
}

static double risk_of(const nslmh_inst *in, double *const *layers) {
  return nslmt_ref_risk(in->depth, in->widths, (const double *const *)layers, in->ref, in->n, in->x, in->y,
                        in->loss_kind, in->loss_kind == NSLM_LOSS_HUBER ? 0.5 : 0.0, NULL);
}

/* Risk scale S (see the header comment) at a parameter set. */
static double risk_scale(const nslmh_inst *in, double *const *layers) {
  double *g = malloc(in->n * in->m * sizeof *g), s = 0.0;
  ref_layers_out(in, layers, g);
  for (size_t i = 0; i < in->n * in->m; i++) s += (fabs(g[i]) + fabs(in->y[i])) * (fabs(g[i]) + fabs(in->y[i]));
  free(g);
  return s > 0 ? s : DBL_MIN;
}

static const char *check_compress(const nslmh_inst *in, const nslm_params *bar) {
  double *lt[8], *lb[8];
  size_t l;
  nslmh_get_layers(in->theta, lt, &l);
  nslmh_get_layers(bar, lb, &l);
  double *g0 = malloc(in->n * in->m * sizeof *g0), *g1 = malloc(in->n * in->m * sizeof *g1), sc = 0, err = 0;
  ref_layers_out(in, lt, g0);
  ref_layers_out(in, lb, g1);
  for (size_t i = 0; i < in->n * in->m; i++) {
    sc = fmax(sc, fabs(g0[i]));
    err = fmax(err, fabs(g0[i] - g1[i]));
  }
  free(g0);
  free(g1);
  nslmh_free_layers(lt, l);
  nslmh_free_layers(lb, l);
  static char why[160];
  if (!(err <= OUT_TOL * sc)) {
    snprintf(why, sizeof why, "compressed outputs differ by %.3g (scale %.3g)", err, sc);
    return why;
  }
  return NULL;
}

/* Samples the path's segments; descent: also nonincreasing and the end. */
static const char *check_path(const nslmh_inst *in, const nslm_path *path, const nslm_params *start,
                              const nslm_params *end, int descent) {
  static char why[200];
  size_t K = nslm_path_num_knots(path), S = nslm_path_num_segments(path), l = in->depth;
  nslm_params *k = NULL;
  ck_assert_int_eq(nslm_params_clone(&k, in->theta), NSLM_OK);
  ck_assert_int_eq(nslm_path_get_knot(path, 0, k), NSLM_OK);
  if (nslm_params_equal(k, start) != 1) {
    nslm_params_destroy(k);
    return "the path does not start at theta";
  }
  ck_assert_int_eq(nslm_path_get_knot(path, K - 1, k), NSLM_OK);
  if (end && nslm_params_equal(k, end) != 1) {
    nslm_params_destroy(k);
    return "the path does not end at gamma";
  }
  double *la[8], *lb[8], *lt[8];
  size_t dl;
  ck_assert_int_eq(nslm_path_get_knot(path, 0, k), NSLM_OK);
  nslmh_get_layers(k, la, &dl);
  nslmh_get_layers(k, lt, &dl);
  double sc = risk_scale(in, la), l0 = risk_of(in, la), prev = l0, lmin_end = 0;
  double lth = nslmh_ref_risk(in, in->theta), lga = nslmh_ref_risk(in, in->gamma);
  const char *bad = NULL;
  for (size_t s = 0; s < S && !bad; s++) {
    int kind;
    ck_assert_int_eq(nslm_path_segment_kind(path, s, &kind), NSLM_OK);
    ck_assert_int_eq(nslm_path_get_knot(path, s + 1, k), NSLM_OK);
    nslmh_get_layers(k, lb, &dl);
    sc = fmax(sc, risk_scale(in, lb));
    enum { NP = 9 };
    double L[NP];
    for (int i = 0; i < NP; i++) {
      double u = i / (double)(NP - 1);
      for (size_t j = 0; j <= l; j++)
        for (size_t e = 0; e < in->widths[j + 1] * in->widths[j]; e++)
          lt[j][e] = i == NP - 1 ? lb[j][e] : (1.0 - u) * la[j][e] + u * lb[j][e];
      L[i] = risk_of(in, lt);
      if (!isfinite(L[i])) {
        snprintf(why, sizeof why, "segment %zu: risk not finite at u = %g", s, u);
        bad = why;
      }
    }
    if (!bad && kind == NSLM_SEG_CONSTANT)
      for (int i = 1; i < NP; i++)
        if (fabs(L[i] - L[0]) > RISK_TOL * sc) {
          snprintf(why, sizeof why, "CONSTANT segment %zu changes by %.3g (scale %.3g)", s, L[i] - L[0], sc);
          bad = why;
          break;
        }
    if (!bad && kind == NSLM_SEG_CONVEX)
      for (int i = 1; i + 1 < NP; i++)
        if (L[i] > 0.5 * (L[i - 1] + L[i + 1]) + RISK_TOL * sc) {
          snprintf(why, sizeof why, "CONVEX segment %zu is not convex (%.3g, scale %.3g)", s,
                   L[i] - 0.5 * (L[i - 1] + L[i + 1]), sc);
          bad = why;
          break;
        }
    if (!bad && descent)
      for (int i = 0; i < NP; i++) {
        if (L[i] > prev + RISK_TOL * sc) {
          snprintf(why, sizeof why, "the descent path rises by %.3g on segment %zu (scale %.3g)", L[i] - prev, s, sc);
          bad = why;
          break;
        }
        prev = L[i];
      }
    lmin_end = L[NP - 1];
    nslmh_free_layers(la, l);
    for (size_t j = 0; j <= l; j++) la[j] = lb[j];
  }
  if (!bad && descent && lmin_end > fmin(lth, lga) + RISK_TOL * sc) {
    snprintf(why, sizeof why, "descent ends at %.17g > min(%.17g, %.17g)", lmin_end, lth, lga);
    bad = why;
  }
  nslmh_free_layers(la, l);
  nslmh_free_layers(lt, l);
  nslm_params_destroy(k);
  return bad;
}

/* ------------------------------------------------------------------ */
/* One instance through the construction */

static int clear_failure(int st) {
  return st == NSLM_ERR_TOO_NARROW || st == NSLM_ERR_NUMERIC || st == NSLM_ERR_INFEASIBLE;
}

static void judge(const char *label, const char *step, int st, const char *why, const nslm_certificate *cert,
                  const void *out_on_failure) {
  n_cases++;
  if (st != NSLM_OK) {
    ck_assert_msg(clear_failure(st), "%s %s: unexpected status %d (%s)", label, step, st, nslm_last_error());
    ck_assert_msg(nslm_last_error()[0] != '\0', "%s %s: no detail", label, step);
    ck_assert_msg(out_on_failure == NULL, "%s %s: an output on failure", label, step);
    n_failed_clearly++;
    note_status(st);
    if (getenv("NSLMT_VERBOSE")) printf("  %s %s: %s\n", label, step, nslm_last_error());
    return;
  }
  int passed = 0;
  if (cert) ck_assert_int_eq(nslm_certificate_passed(cert, &passed), NSLM_OK);
  if (why) {
    n_silent_wrong++;
    printf("SILENT WRONG ANSWER: %s %s: %s (certificate %s)\n", label, step, why, passed ? "passed" : "failed");
    fflush(stdout);
  } else if (cert == NULL) {
    /* counted by certify() */
  } else if (!passed) {
    n_cert_fail++;
    char line[512];
    size_t need;
    nslm_certificate_summary(cert, line, sizeof line, &need);
    printf("success with a failing certificate: %s %s: %s\n", label, step, line);
    fflush(stdout);
  } else {
    n_ok++;
  }
}

/* The ALGEBRAIC certificate of a constructed path; a certificate that
 * cannot be computed is counted (and reported) like a failing one. */
static void certify(const char *label, const char *step, const nslmh_inst *in, const nslm_path *path,
                    nslm_certificate **cert) {
  int st = nslm_path_certify(cert, path, in->net, in->data, in->loss, in->con, NSLM_CERT_ALGEBRAIC, 0, NULL, NULL);
  if (st != NSLM_OK) {
    n_cert_error++;
    printf("certificate unavailable: %s %s: status %d: %s\n", label, step, st, nslm_last_error());
    fflush(stdout);
    *cert = NULL;
  }
}

static void construct(const char *label, nslmh_inst *in) {
  static const char *MODES[3] = {"row", "joint", "shared"};
  for (int mode = NSLM_COMPRESS_ROW; mode <= NSLM_COMPRESS_SHARED; mode++) {
    char lab[200];
    snprintf(lab, sizeof lab, "%s [%s]", label, MODES[mode]);
    ck_assert_int_eq(nslm_construct_opts_set_int(in->opts, NSLM_CONSTRUCT_MODE, mode), NSLM_OK);
    /* compress */
    nslm_params *bar = NULL;
    ck_assert_int_eq(nslm_params_create(&bar, in->net), NSLM_OK);
    nslm_path *cp = (nslm_path *)bar;
    int st = nslm_compress(in->net, in->theta, in->data, in->con, in->opts, bar, &cp, NULL, 0, NULL, NULL);
    const char *why = st == NSLM_OK ? check_compress(in, bar) : NULL;
    if (st == NSLM_OK && !why) why = check_path(in, cp, in->theta, bar, 0);
    nslm_certificate *cert = NULL;
    if (st == NSLM_OK) certify(lab, "compress", in, cp, &cert);
    judge(lab, "compress", st, why, cert, st ? cp : NULL);
    nslm_certificate_destroy(cert);
    nslm_path_destroy(st ? NULL : cp);
    nslm_params_destroy(bar);
    /* connect */
    nslm_path *path = (nslm_path *)in;
    st = nslm_connect(in->net, in->theta, in->gamma, in->data, in->con, in->opts, &path);
    why = st == NSLM_OK ? check_path(in, path, in->theta, in->gamma, 0) : NULL;
    cert = NULL;
    if (st == NSLM_OK) certify(lab, "connect", in, path, &cert);
    judge(lab, "connect", st, why, cert, st ? path : NULL);
    nslm_certificate_destroy(cert);
    if (st == NSLM_OK) nslm_path_destroy(path);
    /* descent */
    path = (nslm_path *)in;
    double cut = -1;
    st = nslm_descent(in->net, in->theta, in->gamma, in->data, in->loss, in->con, in->opts, &path, &cut);
    why = st == NSLM_OK ? check_path(in, path, in->theta, cut == 1.0 ? in->gamma : NULL, 1) : NULL;
    cert = NULL;
    if (st == NSLM_OK) certify(lab, "descent", in, path, &cert);
    judge(lab, "descent", st, why, cert, st ? path : NULL);
    nslm_certificate_destroy(cert);
    if (st == NSLM_OK) nslm_path_destroy(path);
  }
}

/* An instance wide enough for connect unless fixed_p (then exactly p). */
static void make(nslmh_inst *in, uint64_t seed, size_t depth, size_t d, size_t p, size_t m, size_t n, int act,
                 int loss, int fixed_p) {
  int acts[2] = {act, act == NSLM_ACT_RELU ? NSLM_ACT_IDENTITY : act};
  nslmh_inst_make(in, seed, depth, d, p, m, n, acts, 2, loss);
  if (loss == NSLM_LOSS_LOGISTIC || loss == NSLM_LOSS_HINGE)
    for (size_t i = 0; i < n * m; i++) in->y[i] = in->y[i] < 0 ? -1.0 : 1.0;
  reset_data(in);
  if (fixed_p) return;
  /* widen until connect fits in ROW mode (the widest need), a few times:
   * a wider theta may need more units, so this may not converge - the
   * construction then fails with NSLM_ERR_TOO_NARROW, a clear status */
  for (int tries = 0; tries < 4; tries++) {
    size_t need[8];
    int fits = 0;
    ck_assert_int_eq(nslm_construct_opts_set_int(in->opts, NSLM_CONSTRUCT_MODE, NSLM_COMPRESS_ROW), NSLM_OK);
    ck_assert_int_eq(nslm_connect_widths(in->net, in->theta, in->gamma, in->data, in->con, in->opts, need, depth,
                                         &fits),
                     NSLM_OK);
    if (fits) return;
    size_t mx = 0;
    for (size_t j = 0; j < depth; j++) mx = need[j] > mx ? need[j] : mx;
    p = mx + 2 > p + 4 ? mx + 2 : p + 4;
    nslmh_inst_free(in);
    nslmh_inst_make(in, seed, depth, d, p, m, n, acts, 2, loss);
    if (loss == NSLM_LOSS_LOGISTIC || loss == NSLM_LOSS_HINGE)
      for (size_t i = 0; i < n * m; i++) in->y[i] = in->y[i] < 0 ? -1.0 : 1.0;
    reset_data(in);
  }
}

/* ------------------------------------------------------------------ */
/* The cases */

/* Scales the data (X and Y by sx, so the fit is the same problem) and
 * the first layer of theta and gamma (by sw, with Y by sw too when the
 * net is positively homogeneous, which ReLU + identity is). */
static void scaled_case(uint64_t seed, double sx, double sw) {
  nslmh_inst in;
  make(&in, seed, 2, 3, 10, 2, 5, NSLM_ACT_RELU, NSLM_LOSS_SQUARED, 0);
  for (size_t i = 0; i < in.n * in.d; i++) in.x[i] *= sx;
  for (size_t i = 0; i < in.n * in.m; i++) in.y[i] *= sx * sw;
  reset_data(&in);
  scale_layer(in.theta, 0, sw);
  scale_layer(in.gamma, 0, sw);
  char label[128];
  snprintf(label, sizeof label, "data x %g, weights x %g", sx, sw);
  construct(label, &in);
  nslmh_inst_free(&in);
}

START_TEST(scaled_data_and_weights) {
  nslmh_blis_warmup();
  /* one factor at 1e+-150, or both at 1e+-75: outputs at 1e+-150, risks
   * at 1e+-300, all representable */
  scaled_case(40, 1e150, 1.0);
  scaled_case(41, 1e-150, 1.0);
  scaled_case(42, 1.0, 1e150);
  scaled_case(43, 1.0, 1e-150);
  scaled_case(44, 1e75, 1e75);
  scaled_case(45, 1e-75, 1e-75);
}
END_TEST

/* Outputs at 1e-300 (data and weights both at 1e-150, Y at 1e-300): still
 * normal numbers, risks near 1e-299. */
START_TEST(tiny_outputs) {
  nslmh_blis_warmup();
  scaled_case(46, 1e-150, 1e-150);
}
END_TEST

START_TEST(duplicated_samples) {
  nslmh_blis_warmup();
  nslmh_inst in;
  make(&in, 60, 2, 3, 8, 1, 8, NSLM_ACT_TANH, NSLM_LOSS_SQUARED, 0);
  for (size_t i = 4; i < 8; i++) {
    memcpy(in.x + i * in.d, in.x + (i - 4) * in.d, in.d * sizeof(double));
    in.y[i] = i % 2 ? in.y[i - 4] : in.y[i - 4] + 1.0; /* same x, half with another y */
  }
  reset_data(&in);
  construct("duplicated samples", &in);
  nslmh_inst_free(&in);
  /* every sample the same */
  make(&in, 61, 2, 2, 6, 2, 5, NSLM_ACT_RELU, NSLM_LOSS_HUBER, 0);
  for (size_t i = 1; i < in.n; i++) memcpy(in.x + i * in.d, in.x, in.d * sizeof(double));
  reset_data(&in);
  construct("one sample five times", &in);
  nslmh_inst_free(&in);
}
END_TEST

START_TEST(dead_and_duplicated_units) {
  nslmh_blis_warmup();
  nslmh_inst in;
  make(&in, 70, 2, 3, 10, 1, 5, NSLM_ACT_RELU, NSLM_LOSS_SQUARED, 0);
  size_t p = in.widths[1], r, c;
  /* theta: units 0..2 of layer 1 zero rows (dead), unit 3 off on every
   * sample (a large negative bias through a constant input is not
   * available: make its row the negative of a positive combination on
   * data with positive entries), units 5 and 6 duplicates */
  for (size_t i = 0; i < in.n * in.d; i++) in.x[i] = fabs(in.x[i]) + 0.1;
  reset_data(&in);
  double *w = layer(in.theta, 0, &r, &c);
  for (size_t u = 0; u < 3; u++)
    for (size_t k = 0; k < c; k++) w[u * c + k] = 0.0;
  for (size_t k = 0; k < c; k++) w[3 * c + k] = -1.0 - 0.1 * (double)k;
  memcpy(w + 6 * c, w + 5 * c, c * sizeof(double));
  put_layer(in.theta, 0, w);
  w = layer(in.theta, 1, &r, &c);
  for (size_t i = 0; i < r; i++) w[i * c + 6] = w[i * c + 5]; /* duplicated unit, duplicated weights out */
  put_layer(in.theta, 1, w);
  (void)p;
  construct("dead and duplicated units", &in);
  nslmh_inst_free(&in);
}
END_TEST

START_TEST(rank_deficient_features) {
  nslmh_blis_warmup();
  nslmh_inst in;
  /* X columns dependent: x3 = x1 + x2, x4 = 2 x1 */
  make(&in, 80, 2, 4, 10, 2, 6, NSLM_ACT_IDENTITY, NSLM_LOSS_SQUARED, 0);
  for (size_t i = 0; i < in.n; i++) {
    in.x[i * 4 + 2] = in.x[i * 4] + in.x[i * 4 + 1];
    in.x[i * 4 + 3] = 2.0 * in.x[i * 4];
  }
  reset_data(&in);
  construct("dependent columns, linear net", &in);
  nslmh_inst_free(&in);
  /* d > n, and Theta^0 of rank 1 */
  make(&in, 81, 2, 12, 10, 1, 3, NSLM_ACT_TANH, NSLM_LOSS_LOGISTIC, 0);
  size_t r, c;
  double *w = layer(in.theta, 0, &r, &c);
  for (size_t i = 1; i < r; i++)
    for (size_t k = 0; k < c; k++) w[i * c + k] = (0.5 + (double)i) * w[k];
  put_layer(in.theta, 0, w);
  construct("d > n, rank-1 first layer", &in);
  nslmh_inst_free(&in);
}
END_TEST

START_TEST(one_sample) {
  nslmh_blis_warmup();
  static const int LOSSES[3] = {NSLM_LOSS_SQUARED, NSLM_LOSS_ABSOLUTE, NSLM_LOSS_HINGE};
  for (int i = 0; i < 3; i++) {
    nslmh_inst in;
    make(&in, 90 + (uint64_t)i, 1 + (size_t)i % 2, 3, 4, 1, 1, NSLM_ACT_SIGMOID, LOSSES[i], 0);
    char label[64];
    snprintf(label, sizeof label, "n = 1, loss %d", LOSSES[i]);
    construct(label, &in);
    nslmh_inst_free(&in);
  }
}
END_TEST

START_TEST(width_one) {
  nslmh_blis_warmup();
  for (int variant = 0; variant < 3; variant++) {
    nslmh_inst in;
    make(&in, 100 + (uint64_t)variant, 2, 2, 1, 1, 4, NSLM_ACT_TANH, NSLM_LOSS_SQUARED, 1);
    if (variant == 1) {
      /* gamma = 0: s(gamma) = 0, so width 1 suffices */
      for (size_t j = 0; j <= in.depth; j++) scale_layer(in.gamma, j, 0.0);
    }
    if (variant == 2) nslmh_inst_constrain(&in, 2.0);
    char label[64];
    snprintf(label, sizeof label, "width 1%s", variant == 1 ? ", gamma = 0" : variant == 2 ? ", constrained" : "");
    construct(label, &in);
    nslmh_inst_free(&in);
  }
  /* d = m = 1, depth 3 */
  nslmh_inst in;
  make(&in, 110, 3, 1, 3, 1, 2, NSLM_ACT_RELU, NSLM_LOSS_SQUARED, 0);
  construct("d = m = 1, depth 3", &in);
  nslmh_inst_free(&in);
}
END_TEST

START_TEST(constrained_instances) {
  nslmh_blis_warmup();
  static const double Q[3] = {0.5, 1.0, INFINITY};
  for (int i = 0; i < 3; i++) {
    nslmh_inst in;
    make(&in, 120 + (uint64_t)i, 2, 3, 10, 2, 4, NSLM_ACT_TANH, NSLM_LOSS_SQUARED, 0);
    nslmh_inst_constrain(&in, Q[i]);
    /* scaled weights under the constraint */
    char label[64];
    snprintf(label, sizeof label, "constrained q = %g", Q[i]);
    construct(label, &in);
    nslmh_inst_free(&in);
  }
}
END_TEST

/* False claims must never be proved: a path theta -> gamma -> theta'
 * (theta' = theta with one row of the last layer changed) whose segments
 * change the outputs, labelled CONSTANT (and the first CONVEX, which is
 * false when a hidden layer changes: the outputs are not affine in t
 * through tanh), at feature scales from 1e-160 to 1e160 (identity first
 * layer, so the features carry the scale; absolute loss, so the risk
 * stays finite).  Neither certificate may pass. */
START_TEST(false_claims_never_pass) {
  nslmh_blis_warmup();
  static const double S[] = {1.0, 1e160, 1e-160, 1e300};
  long refused = 0;
  for (int si = 0; si < 4; si++)
    for (int claim = NSLM_SEG_CONSTANT; claim <= NSLM_SEG_CONVEX; claim++) {
      int acts[2] = {NSLM_ACT_IDENTITY, NSLM_ACT_TANH};
      nslmh_inst in;
      nslmh_inst_make(&in, 200 + (uint64_t)si, 2, 3, 4, 1, 5, acts, 2, NSLM_LOSS_ABSOLUTE);
      double sx = S[si] == 1e300 ? 1e299 : S[si];
      for (size_t i = 0; i < in.n * in.d; i++) in.x[i] *= sx;
      for (size_t i = 0; i < in.n * in.m; i++) in.y[i] = 0.0;
      reset_data(&in);
      /* tanh of features at 1e160 saturates; scale layer 1 down so the
       * second layer's pre-activations are O(1) */
      scale_layer(in.theta, 1, 1.0 / sx);
      scale_layer(in.gamma, 1, 1.0 / sx);
      nslm_params *t2 = NULL;
      ck_assert_int_eq(nslm_params_clone(&t2, in.theta), NSLM_OK);
      size_t r, c;
      double *w = layer(t2, 2, &r, &c);
      for (size_t k = 0; k < c; k++) w[k] += 1.0;
      put_layer(t2, 2, w);
      nslm_path *path = NULL;
      ck_assert_int_eq(nslm_path_create(&path, in.net, in.theta), NSLM_OK);
      ck_assert_int_eq(nslm_path_append(path, in.gamma, claim), NSLM_OK);
      ck_assert_int_eq(nslm_path_append(path, t2, NSLM_SEG_CONSTANT), NSLM_OK);
      double r0 = nslmh_ref_risk(&in, in.theta), r1 = nslmh_ref_risk(&in, in.gamma), r2 = nslmh_ref_risk(&in, t2);
      ck_assert_msg(fabs(r1 - r0) > 1e-6 * fabs(r0) && fabs(r2 - r1) > 1e-6 * fabs(r1),
                    "scale %g: the segments do not change the risk (%g %g %g)", sx, r0, r1, r2);
      for (int kind = NSLM_CERT_ALGEBRAIC; kind <= NSLM_CERT_SAMPLED; kind++) {
        nslm_certificate *cert = NULL;
        int st = nslm_path_certify(&cert, path, in.net, in.data, in.loss, NULL, kind, 9, NULL, NULL);
        int passed = 0;
        if (st == NSLM_OK) ck_assert_int_eq(nslm_certificate_passed(cert, &passed), NSLM_OK);
        if (passed) {
          char line[512];
          size_t need;
          nslm_certificate_summary(cert, line, sizeof line, &need);
          printf("FALSE PROOF: scale %g, claim %d, %s certificate: %s\n", sx, claim,
                 kind == NSLM_CERT_ALGEBRAIC ? "ALGEBRAIC" : "SAMPLED", line);
          fflush(stdout);
          n_silent_wrong++;
        } else {
          refused++;
        }
        nslm_certificate_destroy(cert);
      }
      nslm_path_destroy(path);
      nslm_params_destroy(t2);
      nslmh_inst_free(&in);
    }
  printf("false claims refused by the certificates: %ld of 16\n", refused);
}
END_TEST

/* A test's counts go to the runner through the result file. */
static void report(void) {
  nslmh_result_add("cases", (double)n_cases);
  nslmh_result_add("ok", (double)n_ok);
  nslmh_result_add("failed_clearly", (double)n_failed_clearly);
  nslmh_result_add("silent_wrong", (double)n_silent_wrong);
  nslmh_result_add("cert_fail", (double)n_cert_fail);
  nslmh_result_add("cert_error", (double)n_cert_error);
  if (statuses[0]) nslmh_result_add_str("status", statuses);
  ck_assert_msg(n_silent_wrong == 0, "%ld silent wrong answer(s)", n_silent_wrong);
  ck_assert_msg(n_cert_fail == 0, "%ld success(es) with a failing certificate", n_cert_fail);
  ck_assert_msg(n_cert_error == 0, "%ld certificate(s) could not be computed", n_cert_error);
}

static void setup(void) {
  n_ok = n_failed_clearly = n_silent_wrong = n_cert_fail = n_cert_error = n_cases = 0;
  statuses[0] = 0;
}

int main(void) {
  nslmh_result_reset("test_stress");
  Suite *s = suite_create("stress");
  TCase *tc = tcase_create("stress");
  tcase_set_timeout(tc, 300);
  tcase_add_checked_fixture(tc, setup, report);
  tcase_add_test(tc, scaled_data_and_weights);
  tcase_add_test(tc, tiny_outputs);
  tcase_add_test(tc, false_claims_never_pass);
  tcase_add_test(tc, duplicated_samples);
  tcase_add_test(tc, dead_and_duplicated_units);
  tcase_add_test(tc, rank_deficient_features);
  tcase_add_test(tc, one_sample);
  tcase_add_test(tc, width_one);
  tcase_add_test(tc, constrained_instances);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  char **st;
  size_t nst = nslmh_result_distinct("status", &st);
  printf("stress: %.0f construction calls: %.0f succeeded with a passing certificate and independent "
         "verification, %.0f failed with a clear status",
         nslmh_result_sum("cases"), nslmh_result_sum("ok"), nslmh_result_sum("failed_clearly"));
  printf(" (");
  char seen[1024] = "";
  for (size_t i = 0; i < nst; i++) {
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", st[i]);
    for (char *save = NULL, *tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
      while (*tok == ' ') tok++;
      if (*tok && strstr(seen, tok) == NULL) {
        printf("%s%s", seen[0] ? "; " : "", tok);
        strncat(seen, tok, sizeof seen - strlen(seen) - 2);
        strcat(seen, "|");
      }
    }
  }
  printf("), silent wrong answers %.0f, successes with a failing certificate %.0f, certificates that could not be "
         "computed %.0f\n",
         nslmh_result_sum("silent_wrong"), nslmh_result_sum("cert_fail"), nslmh_result_sum("cert_error"));
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
