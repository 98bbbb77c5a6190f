/* test_fpe.c - floating-point exceptions on finite inputs (issue 7).
 *
 * A representative set of calls with finite, often extreme, inputs:
 * evaluation (outputs, risk, objective, features, gradient) for every
 * built-in activation with data and weights of ordinary size and at the
 * extremes where the true results are still representable (pre-
 * activations near +-1e300 for the saturating activations), every loss
 * at extreme arguments (margins +-1e3 and +-1e300, softmax logits
 * +-1e300, the paper's logistic loss next to its poles), the constraint
 * and row norms on entries near 1e+-300 for q from 0.25 to infinity,
 * the Caratheodory reduction, compression, connect, descent, the global
 * minimizer, path evaluation and certificates, the landscape tools.
 *
 * Two passes over the same cases:
 *   flags: the exception flags are cleared before and tested after each
 *          call (FE_INVALID, FE_DIVBYZERO, FE_OVERFLOW); every case that
 *          raises one is listed, and the test fails if any did;
 *   traps: feenableexcept(FE_INVALID | FE_DIVBYZERO | FE_OVERFLOW), so an
 *          exception is a SIGFPE; the test's handler fails the test
 *          naming the case (a detector test first checks that 1 / 0 does
 *          trap here).
 * FE_UNDERFLOW and FE_INEXACT are legitimate (gradual underflow near
 * 1e-300, rounding) and not tested.  Each case also checks its result
 * against a naive reference or an exact value, so that a call cannot pass
 * by skipping the work.  Every BLIS product runs on one thread (traps are
 * per thread: a worker thread would not inherit them).
 *
 * A third test checks the rule for non-finite input: NaN or Inf in any
 * caller-supplied number an entry point computes with is rejected up
 * front with a status (NSLM_ERR_NONFINITE, or NSLM_ERR_INVALID /
 * NSLM_ERR_DOMAIN where the header says so), outputs untouched.  That
 * test runs without traps: rejecting a NaN may itself raise FE_INVALID
 * (an ordered comparison with a NaN), which is allowed. */
#define _GNU_SOURCE 1 /* feenableexcept */
#include <fenv.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "hardutil.h"
#include "nslm.h"
#include "reference.h"
#include "testutil.h"

#define TRAPPED (FE_INVALID | FE_DIVBYZERO | FE_OVERFLOW)

/* After a trap the test ends at once (ck_abort_msg), so no local variable
 * is read after siglongjmp: gcc's -Wclobbered warnings do not apply. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wclobbered"
#endif

/* Relative agreement with the naive reference (scalar loops in another
 * order): 1e-10 covers reordered sums of a few dozen terms and the
 * different but stable formulas of the saturating activations. */
#define REF_TOL 1e-10

static int mode_traps; /* 1: exceptions trap */
static char failures[4096];
static int nfail;

/* Runs before/after each case. */
static void case_begin(void) {
  if (!mode_traps) feclearexcept(FE_ALL_EXCEPT);
}
static long ncases;
static void case_end(const char *name) {
  ncases++;
  if (mode_traps) return;
  int f = fetestexcept(TRAPPED);
  if (f) {
    char buf[200];
    snprintf(buf, sizeof buf, "%s:%s%s%s; ", name, (f & FE_INVALID) ? " invalid" : "",
             (f & FE_DIVBYZERO) ? " divbyzero" : "", (f & FE_OVERFLOW) ? " overflow" : "");
    strncat(failures, buf, sizeof failures - strlen(failures) - 1);
    nfail++;
  }
  feclearexcept(FE_ALL_EXCEPT);
}

/* With the traps on, a SIGFPE lands in on_fpe(), which jumps back to the
 * case that raised it: the test then fails naming that case.  (Our own
 * handler rather than Check's expected-signal tests: sanitizers install
 * a SIGFPE handler of their own that exits instead of dying of the signal;
 * a handler set with sigaction takes precedence.) */
static sigjmp_buf trap_jmp;
static volatile sig_atomic_t trap_armed;
static void on_fpe(int sig) {
  (void)sig;
  if (!trap_armed) {
    signal(SIGFPE, SIG_DFL);
    raise(SIGFPE);
  }
  trap_armed = 0;
  siglongjmp(trap_jmp, 1);
}
static void install_fpe_handler(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_fpe;
  sigemptyset(&sa.sa_mask);
  ck_assert_int_eq(sigaction(SIGFPE, &sa, NULL), 0);
}

/* Check macros compare with doubles; they must not raise anything
 * either, so the comparisons below use only finite values.  A case that
 * traps fails the test at once (its state is lost with the jump). */
#define CASE(name, stmt)                                            \
  do {                                                              \
    case_begin();                                                   \
    if (mode_traps && sigsetjmp(trap_jmp, 1) != 0) {                \
      fedisableexcept(TRAPPED);                                     \
      feclearexcept(FE_ALL_EXCEPT);                                 \
      ck_abort_msg("SIGFPE (floating-point trap) in case %s", name); \
    }                                                               \
    trap_armed = mode_traps;                                        \
    stmt;                                                           \
    trap_armed = 0;                                                 \
    case_end(name);                                                 \
  } while (0)

static double relerr(double a, double b) { return fabs(a - b) / fmax(1.0, fabs(b)); }

/* The naive reference may overflow internally (1 / (1 + exp(-x)) at
 * x = -1e299 computes exp(1e299) = inf, harmlessly): it runs with the
 * traps off and its flags cleared. */
static double ref_risk_quiet(const nslmh_inst *in) {
  int was = fegetexcept();
  fedisableexcept(TRAPPED);
  double r = nslmh_ref_risk(in, in->theta);
  feclearexcept(FE_ALL_EXCEPT);
  if (was) feenableexcept(was);
  return r;
}

/* ------------------------------------------------------------------ */
/* Evaluation per activation, ordinary and extreme scales */

/* An instance whose layer 0 is scaled by ws and data by xs. */
static void scaled_inst(nslmh_inst *in, int act, double xs, double ws, uint64_t seed) {
  int acts[1] = {act};
  nslmh_inst_make(in, seed, 2, 3, 5, 2, 6, acts, 1, NSLM_LOSS_SQUARED);
  for (size_t i = 0; i < in->n * in->d; i++) in->x[i] *= xs;
  nslm_data_destroy(in->data);
  ck_assert_int_eq(nslm_data_create(&in->data, in->n, in->d, in->x, (ptrdiff_t)in->d, 1, in->m, in->y,
                                    (ptrdiff_t)in->m, 1),
                   NSLM_OK);
  double w[64];
  ck_assert_int_eq(nslm_params_get_layer(in->theta, 0, 5, 3, w, 3, 1), NSLM_OK);
  for (int i = 0; i < 15; i++) w[i] *= ws;
  ck_assert_int_eq(nslm_params_set_layer(in->theta, 0, 5, 3, w, 3, 1), NSLM_OK);
}

static void eval_all(const char *label, nslmh_inst *in) {
  char name[160];
  double risk = -1, obj = -1, out[64], feat[64], ref = ref_risk_quiet(in);
  int st;
  nslm_params *g = NULL;
  ck_assert_int_eq(nslm_params_create(&g, in->net), NSLM_OK);
  snprintf(name, sizeof name, "%s eval_risk", label);
  CASE(name, st = nslm_eval_risk(in->net, in->theta, in->data, in->loss, &risk));
  ck_assert_msg(st == NSLM_OK, "%s: %s", name, nslm_last_error());
  ck_assert_msg(isfinite(ref) && relerr(risk, ref) <= REF_TOL, "%s: %.17g vs reference %.17g", name, risk, ref);
  snprintf(name, sizeof name, "%s eval_outputs", label);
  CASE(name, st = nslm_eval_outputs(in->net, in->theta, in->data, out, (ptrdiff_t)in->m, 1));
  ck_assert_int_eq(st, NSLM_OK);
  snprintf(name, sizeof name, "%s eval_features", label);
  CASE(name, st = nslm_eval_features(in->net, in->theta, in->data, 1, feat, 5, 1));
  ck_assert_int_eq(st, NSLM_OK);
  snprintf(name, sizeof name, "%s eval_objective", label);
  CASE(name, st = nslm_eval_objective(in->net, in->theta, in->data, in->loss, in->con, 0.5, &obj));
  ck_assert_int_eq(st, NSLM_OK);
  snprintf(name, sizeof name, "%s eval_gradient", label);
  CASE(name, st = nslm_eval_gradient(in->net, in->theta, in->data, in->loss, g, &risk));
  ck_assert_msg(st == NSLM_OK, "%s: %s", name, nslm_last_error());
  ck_assert_msg(relerr(risk, ref) <= REF_TOL, "%s: %.17g vs %.17g", name, risk, ref);
  nslm_params_destroy(g);
}

static void run_eval_cases(void) {
  static const struct {
    int act;
    const char *name;
    double xs, ws;
  } C[] = {
      {NSLM_ACT_IDENTITY, "identity", 1, 1},    {NSLM_ACT_RELU, "relu", 1, 1},
      {NSLM_ACT_LEAKY_RELU, "leaky", 1, 1},     {NSLM_ACT_POLY, "poly", 1, 1},
      {NSLM_ACT_SIGMOID, "sigmoid", 1, 1},      {NSLM_ACT_TANH, "tanh", 1, 1},
      /* pre-activations ~1e100: squared outputs ~1e200, gradient ~1e200 */
      {NSLM_ACT_IDENTITY, "identity@1e100", 1e100, 1}, {NSLM_ACT_RELU, "relu@1e100", 1e50, 1e50},
      {NSLM_ACT_LEAKY_RELU, "leaky@1e100", 1e100, 1},
      /* c x^2 twice at 1e20: 1e40, then 1e80; squared loss 1e160 */
      {NSLM_ACT_POLY, "poly@1e20", 1e20, 1},
      /* saturating activations at pre-activations up to ~5e299 (data up
       * to ~3 x 1e299, weights ~0.5 x 0.3, three terms) */
      {NSLM_ACT_SIGMOID, "sigmoid@1e299", 1e299, 0.3}, {NSLM_ACT_TANH, "tanh@1e299", 1e149, 1e150},
      {NSLM_ACT_SIGMOID, "sigmoid@-1e299", -1e299, 0.3},
      /* tiny: subnormal range (underflow is allowed) */
      {NSLM_ACT_TANH, "tanh@1e-300", 1e-300, 1}, {NSLM_ACT_SIGMOID, "sigmoid@1e-300", 1e-150, 1e-150},
      {NSLM_ACT_RELU, "relu@1e-300", 1e-300, 1e-10},
  };
  for (size_t i = 0; i < sizeof C / sizeof C[0]; i++) {
    nslmh_inst in;
    scaled_inst(&in, C[i].act, C[i].xs, C[i].ws, 100 + i);
    eval_all(C[i].name, &in);
    nslmh_inst_free(&in);
  }
}

/* ------------------------------------------------------------------ */
/* Losses at extreme arguments (value and gradient) */

static void loss_case(const char *name, int kind, double param, size_t m, const double *a, const double *y,
                      double expect) {
  nslm_loss *l = NULL;
  ck_assert_int_eq(nslm_loss_create(&l, kind, param), NSLM_OK);
  double v = -1, g[4];
  int st;
  CASE(name, st = nslm_loss_eval(l, m, a, y, &v, g));
  ck_assert_msg(st == NSLM_OK, "%s: %s", name, nslm_last_error());
  ck_assert_msg(isfinite(v) && fabs(v - expect) <= 1e-12 * fmax(1.0, fabs(expect)),
                "%s: %.17g, expected %.17g", name, v, expect);
  for (size_t k = 0; k < m; k++) ck_assert_msg(isfinite(g[k]), "%s: gradient %zu not finite", name, k);
  nslm_loss_destroy(l);
}

static void run_loss_cases(void) {
  /* expected values: exact closed forms in the regime (log1p(e^-x) = e^-x
   * to rounding for x >= 40; log(1+e^x) = x + e^-x) */
  double y1[1] = {1.0}, ym1[1] = {-1.0};
  loss_case("logistic margin +1e3", NSLM_LOSS_LOGISTIC, 0, 1, (double[]){1e3}, y1, 0.0);
  loss_case("logistic margin -1e3", NSLM_LOSS_LOGISTIC, 0, 1, (double[]){-1e3}, y1, 1e3);
  loss_case("logistic margin +1e300", NSLM_LOSS_LOGISTIC, 0, 1, (double[]){1e300}, y1, 0.0);
  loss_case("logistic margin -1e300", NSLM_LOSS_LOGISTIC, 0, 1, (double[]){1e300}, ym1, 1e300);
  loss_case("logistic margin 40", NSLM_LOSS_LOGISTIC, 0, 1, (double[]){40}, y1, exp(-40.0));
  loss_case("hinge +-1e300", NSLM_LOSS_HINGE, 0, 2, (double[]){1e300, -1e300}, (double[]){-1, -1},
            1.0 + 1e300);
  loss_case("huber 1e300", NSLM_LOSS_HUBER, 2.0, 2, (double[]){1e300, -1e300}, (double[]){0, 0},
            2 * (2.0 * (1e300 - 1.0)));
  loss_case("absolute 1e300", NSLM_LOSS_ABSOLUTE, 0, 2, (double[]){1e300, -1e300}, (double[]){-5e299, 0},
            1.5e300 + 1e300);
  loss_case("squared 1e150", NSLM_LOSS_SQUARED, 0, 1, (double[]){1e150}, (double[]){0}, 1e300);
  loss_case("squared 1e-200", NSLM_LOSS_SQUARED, 0, 1, (double[]){1e-200}, (double[]){0}, 0.0);
  /* softmax CE: logits (1e300, -1e300, 0), y = (0.25, 0.25, 0.5):
   * -sum y_k (a_k - lse(a)), lse = 1e300: 0.25 * 2e300 + 0.5 * 1e300 */
  loss_case("softmax 1e300", NSLM_LOSS_SOFTMAX_CE, 0, 3, (double[]){1e300, -1e300, 0}, (double[]){0.25, 0.25, 0.5},
            1e300);
  loss_case("softmax y on max", NSLM_LOSS_SOFTMAX_CE, 0, 3, (double[]){1e300, -1e300, 0}, (double[]){1, 0, 0}, 0.0);
  /* paper's logistic: -(1+b)log(1+a) - (1-b)log(1-a) next to a = 1 with
   * b = 1: -2 log(2 - 1e-15); at a = 0: 0 */
  loss_case("paper logistic near pole", NSLM_LOSS_LOGISTIC_PAPER, 0, 1, (double[]){1 - 1e-15}, y1,
            -2.0 * log1p(1 - 1e-15));
  loss_case("paper logistic at 0", NSLM_LOSS_LOGISTIC_PAPER, 0, 1, (double[]){0}, (double[]){0.3}, 0.0);
}

/* ------------------------------------------------------------------ */
/* The constraint and row norms near 1e+-300 */

/* Naive-but-scaled reference row norm. */
static double ref_norm(const double *a, size_t n, double q) {
  double mx = 0.0, s = 0.0;
  for (size_t i = 0; i < n; i++) mx = fmax(mx, fabs(a[i]));
  if (mx == 0.0) return 0.0;
  if (isinf(q)) return mx;
  for (size_t i = 0; i < n; i++) s += pow(fabs(a[i]) / mx, q);
  return mx * pow(s, 1.0 / q);
}

static void run_constraint_cases(void) {
  static const double Q[] = {0.25, 0.5, 1.0, 1.5, 2.0, 3.0, INFINITY};
  static const double S[] = {1e300, 1e-300, 1.0, 1e-310 /* subnormal */};
  static const size_t LEN[] = {1, 4, 100};
  double row[100];
  char name[128];
  for (size_t si = 0; si < 4; si++)
    for (size_t li = 0; li < 3; li++)
      for (size_t qi = 0; qi < sizeof Q / sizeof Q[0]; qi++) {
        size_t n = LEN[li];
        for (size_t i = 0; i < n; i++) row[i] = S[si] * (i % 3 == 0 ? 1.0 : -0.5) * (1.0 + 0.001 * (double)i);
        double want = ref_norm(row, n, Q[qi]);
        if (!isfinite(want)) continue; /* the true value is not representable */
        double got = -1;
        int st;
        snprintf(name, sizeof name, "row norm %g x %zu q=%g", S[si], n, Q[qi]);
        CASE(name, st = nslm_matrix_row_norm(1, n, row, (ptrdiff_t)n, 1, Q[qi], &got));
        ck_assert_msg(st == NSLM_OK, "%s: %s", name, nslm_last_error());
        /* a scaled sum of n powers: 1e-12 relative (subnormal inputs lose
         * relative precision: 1e-6 there) */
        double tol = S[si] < 1e-308 ? 1e-6 : 1e-12;
        ck_assert_msg(fabs(got - want) <= tol * want, "%s: %.17g vs %.17g", name, got, want);
      }
  /* the constraint of a parameter set with 1e300 and 1e-300 entries */
  for (size_t si = 0; si < 2; si++)
    for (size_t qi = 0; qi < sizeof Q / sizeof Q[0]; qi++) {
      int acts[1] = {NSLM_ACT_RELU};
      nslmh_inst in;
      nslmh_inst_make(&in, 5, 1, 4, 3, 2, 2, acts, 1, NSLM_LOSS_SQUARED);
      double w0[12], w1[6];
      for (int i = 0; i < 12; i++) w0[i] = S[si] * (0.1 + 0.07 * i) * (i % 2 ? -1 : 1);
      for (int i = 0; i < 6; i++) w1[i] = S[si] * 0.2 * (1 + i);
      ck_assert_int_eq(nslm_params_set_layer(in.theta, 0, 3, 4, w0, 4, 1), NSLM_OK);
      ck_assert_int_eq(nslm_params_set_layer(in.theta, 1, 2, 3, w1, 3, 1), NSLM_OK);
      nslm_constraint *c = NULL;
      ck_assert_int_eq(nslm_constraint_create(&c, 0.5, 2.0, Q[qi]), NSLM_OK);
      double r = -1, norms[3];
      int feas = -1, st;
      snprintf(name, sizeof name, "constraint %g q=%g", S[si], Q[qi]);
      CASE(name, st = nslm_constraint_eval(c, in.theta, &r));
      ck_assert_int_eq(st, NSLM_OK);
      double want = 0.0;
      for (int i = 0; i < 3; i++) want = fmax(want, 2.0 * ref_norm(w0 + 4 * i, 4, Q[qi]));
      for (int i = 0; i < 2; i++) want = fmax(want, 0.5 * ref_norm(w1 + 3 * i, 3, 1.0));
      ck_assert_msg(fabs(r - want) <= 1e-12 * want, "%s: %.17g vs %.17g", name, r, want);
      CASE(name, st = nslm_constraint_row_norms(c, in.theta, 0, norms, 3));
      ck_assert_int_eq(st, NSLM_OK);
      CASE(name, st = nslm_constraint_feasible(c, in.theta, &feas));
      ck_assert_int_eq(st, NSLM_OK);
      ck_assert_int_eq(feas, want <= 1.0);
      nslm_params *half = NULL;
      ck_assert_int_eq(nslm_params_clone(&half, in.theta), NSLM_OK);
      CASE(name, st = nslm_params_interpolate(half, in.theta, in.gamma, 0.5));
      ck_assert_int_eq(st, NSLM_OK);
      nslm_params_destroy(half);
      nslm_constraint_destroy(c);
      nslmh_inst_free(&in);
    }
}

/* ------------------------------------------------------------------ */
/* The construction, paths, certificates, landscape */

static void run_construction_cases(double scale) {
  static const int acts[2] = {NSLM_ACT_TANH, NSLM_ACT_RELU};
  char name[128];
  nslmh_inst in;
  size_t p = 10;
  for (int tries = 0;; tries++) {
    nslmh_inst_make(&in, 21, 2, 3, p, 1, 4, acts, 2, NSLM_LOSS_SQUARED);
    /* data scaled: X by scale (tanh saturates harmlessly), Y by 1 */
    for (size_t i = 0; i < in.n * in.d; i++) in.x[i] *= scale;
    nslm_data_destroy(in.data);
    ck_assert_int_eq(nslm_data_create(&in.data, in.n, in.d, in.x, (ptrdiff_t)in.d, 1, in.m, in.y, (ptrdiff_t)in.m, 1),
                     NSLM_OK);
    nslmh_inst_constrain(&in, 1.0);
    size_t need[2];
    int fits = 0;
    ck_assert_int_eq(nslm_connect_widths(in.net, in.theta, in.gamma, in.data, in.con, in.opts, need, 2, &fits),
                     NSLM_OK);
    if (fits) break;
    ck_assert(tries < 3);
    p = (need[0] > need[1] ? need[0] : need[1]) + 2;
    nslmh_inst_free(&in);
  }
  int st;
  nslm_params *bar = NULL, *glob = NULL;
  ck_assert_int_eq(nslm_params_create(&bar, in.net), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&glob, in.net), NSLM_OK);
  snprintf(name, sizeof name, "compress x%g", scale);
  CASE(name, st = nslm_compress(in.net, in.theta, in.data, in.con, in.opts, bar, NULL, NULL, 0, NULL, NULL));
  ck_assert_msg(st == NSLM_OK, "%s: %s", name, nslm_last_error());
  nslm_path *path = NULL, *desc = NULL;
  snprintf(name, sizeof name, "connect x%g", scale);
  CASE(name, st = nslm_connect(in.net, in.theta, in.gamma, in.data, in.con, in.opts, &path));
  ck_assert_msg(st == NSLM_OK, "%s: %s", name, nslm_last_error());
  double cut = -1;
  snprintf(name, sizeof name, "descent x%g", scale);
  CASE(name, st = nslm_descent(in.net, in.theta, in.gamma, in.data, in.loss, in.con, in.opts, &desc, &cut));
  ck_assert_msg(st == NSLM_OK, "%s: %s", name, nslm_last_error());
  nslm_certificate *c1 = NULL, *c2 = NULL;
  snprintf(name, sizeof name, "certify algebraic x%g", scale);
  CASE(name, st = nslm_path_certify(&c1, path, in.net, in.data, in.loss, in.con, NSLM_CERT_ALGEBRAIC, 0, NULL, NULL));
  ck_assert_msg(st == NSLM_OK, "%s: %s", name, nslm_last_error());
  snprintf(name, sizeof name, "certify sampled x%g", scale);
  CASE(name, st = nslm_path_certify(&c2, desc, in.net, in.data, in.loss, in.con, NSLM_CERT_SAMPLED, 9, NULL, NULL));
  ck_assert_msg(st == NSLM_OK, "%s: %s", name, nslm_last_error());
  int passed = -1;
  ck_assert_int_eq(nslm_certificate_passed(c1, &passed), NSLM_OK);
  ck_assert_msg(passed == 1, "x%g: the algebraic certificate of connect fails", scale);
  char summary[256];
  size_t need;
  snprintf(name, sizeof name, "certificate summary x%g", scale);
  CASE(name, st = nslm_certificate_summary(c2, summary, sizeof summary, &need));
  ck_assert_int_eq(st, NSLM_OK);
  size_t np = nslm_path_grid_size(path, 5);
  double *t = malloc(np * sizeof *t), *risk = malloc(np * sizeof *risk), *r = malloc(np * sizeof *r);
  snprintf(name, sizeof name, "path eval grid x%g", scale);
  CASE(name, st = nslm_path_eval_grid(path, in.net, in.data, in.loss, in.con, 5, np, t, risk, r, NULL, 0, 0,
                                      NSLM_EVAL_STRUCTURED, NULL, NULL));
  ck_assert_int_eq(st, NSLM_OK);
  double h, tat;
  snprintf(name, sizeof name, "barrier x%g", scale);
  CASE(name, st = nslm_landscape_barrier(np, t, risk, &h, &tat));
  ck_assert_int_eq(st, NSLM_OK);
  double lt[7], lr[7];
  snprintf(name, sizeof name, "landscape line x%g", scale);
  CASE(name, st = nslm_landscape_line(in.net, in.data, in.loss, in.con, in.theta, in.gamma, 7, lt, lr, NULL, NULL,
                                      NULL));
  ck_assert_int_eq(st, NSLM_OK);
  nslm_params *d1 = NULL, *d2 = NULL;
  ck_assert_int_eq(nslm_params_create(&d1, in.net), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&d2, in.net), NSLM_OK);
  snprintf(name, sizeof name, "landscape directions x%g", scale);
  CASE(name, st = nslm_landscape_directions(in.theta, 3, d1, d2));
  ck_assert_int_eq(st, NSLM_OK);
  double grid[12];
  snprintf(name, sizeof name, "landscape plane x%g", scale);
  CASE(name, st = nslm_landscape_plane(in.net, in.data, in.loss, NULL, in.theta, d1, d2, 4, -1, 1, 3, -1, 1, grid, 3,
                                       1, NULL, 0, 0, NULL, NULL));
  ck_assert_int_eq(st, NSLM_OK);
  size_t rank = 0;
  int cert = -1;
  double gn = -1;
  snprintf(name, sizeof name, "global minimize x%g", scale);
  CASE(name, st = nslm_global_minimize(in.net, in.theta, in.data, in.loss, in.opts, glob, &rank, &cert, &gn));
  ck_assert_msg(st == NSLM_OK, "%s: %s", name, nslm_last_error());
  free(t);
  free(risk);
  free(r);
  nslm_params_destroy(d1);
  nslm_params_destroy(d2);
  nslm_params_destroy(bar);
  nslm_params_destroy(glob);
  nslm_certificate_destroy(c1);
  nslm_certificate_destroy(c2);
  nslm_path_destroy(path);
  nslm_path_destroy(desc);
  nslmh_inst_free(&in);
}

static void run_caratheodory_cases(double scale) {
  char name[128];
  double z[20 * 5], t[20], tout[20], res = -1, bound = -1;
  size_t nnz = 0, rank = 0;
  nslmt_rng rng;
  nslmt_seed(&rng, 77);
  for (int i = 0; i < 20; i++) {
    for (int c = 0; c < 4; c++) z[i * 5 + c] = scale * nslmt_normal(&rng);
    z[i * 5 + 4] = z[i * 5] - z[i * 5 + 2]; /* rank 4 */
    t[i] = nslmt_normal(&rng) / scale;
  }
  static const double Q[] = {0.5, 1.0};
  nslm_caratheodory_opts *o = NULL;
  ck_assert_int_eq(nslm_caratheodory_opts_create(&o), NSLM_OK);
  ck_assert_int_eq(nslm_caratheodory_opts_set_int(o, NSLM_CARATHEODORY_NUM_THREADS, 1), NSLM_OK);
  for (int mode = 0; mode <= 1; mode++)
    for (int qi = 0; qi < 2; qi++) {
      ck_assert_int_eq(nslm_caratheodory_opts_set_int(o, NSLM_CARATHEODORY_MODE, mode), NSLM_OK);
      int st;
      snprintf(name, sizeof name, "caratheodory %s q=%g x%g", mode ? "paper" : "tight", Q[qi], scale);
      CASE(name, st = nslm_caratheodory_reduce(20, 5, z, 5, 1, t, 1, Q[qi], o, tout, 1, &nnz, &res, &bound, NULL, NULL,
                                               &rank));
      ck_assert_msg(st == NSLM_OK, "%s: %s", name, nslm_last_error());
      ck_assert_msg(nnz <= (mode ? 6u : 4u), "%s: %zu nonzeros", name, nnz);
    }
  nslm_caratheodory_opts_destroy(o);
}

/* ------------------------------------------------------------------ */

static void run_all(void) {
  nslmh_blis_warmup();
  run_eval_cases();
  run_loss_cases();
  run_constraint_cases();
  run_caratheodory_cases(1.0);
  run_caratheodory_cases(1e150);
  run_caratheodory_cases(1e-150);
  run_construction_cases(1.0);
  run_construction_cases(1e150);
}

START_TEST(no_exception_flags) {
  mode_traps = 0;
  nfail = 0;
  failures[0] = '\0';
  run_all();
  printf("finite-input cases checked for FE_INVALID/FE_DIVBYZERO/FE_OVERFLOW: %ld, raising one: %d\n", ncases, nfail);
  if (nfail) printf("floating-point exceptions raised: %d: %s\n", nfail, failures);
  nslmh_result_add("flag_cases_failed", nfail);
  ck_assert_msg(nfail == 0, "%d case(s) raised FP exceptions: %s", nfail, failures);
}
END_TEST

START_TEST(no_traps) {
  mode_traps = 1;
  nslmh_blis_warmup(); /* BLIS initialised before the traps are on */
  install_fpe_handler();
  feclearexcept(FE_ALL_EXCEPT);
  ck_assert_int_ne(feenableexcept(TRAPPED), -1);
  run_all();
  fedisableexcept(TRAPPED);
  printf("finite-input cases run with traps enabled: %ld, SIGFPE: 0\n", ncases);
}
END_TEST

/* The detector: with the traps on, 1 / 0 is a SIGFPE, caught. */
START_TEST(traps_work) {
  volatile double zero = 0.0, r = 0.0;
  volatile int caught = 0;
  install_fpe_handler();
  if (sigsetjmp(trap_jmp, 1) == 0) {
    ck_assert_int_ne(feenableexcept(TRAPPED), -1);
    trap_armed = 1;
    r = 1.0 / zero;
    trap_armed = 0;
  } else {
    caught = 1;
  }
  fedisableexcept(TRAPPED);
  feclearexcept(FE_ALL_EXCEPT);
  (void)r;
  ck_assert_msg(caught, "1 / 0 did not trap: the trap test would be vacuous here");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Non-finite input is rejected up front */

static int rejects(int st) { return st == NSLM_ERR_NONFINITE || st == NSLM_ERR_INVALID || st == NSLM_ERR_DOMAIN; }

START_TEST(nonfinite_inputs_rejected) {
  nslmh_blis_warmup();
  static const int acts[1] = {NSLM_ACT_TANH};
  nslmh_inst in;
  nslmh_inst_make(&in, 9, 1, 3, 4, 2, 5, acts, 1, NSLM_LOSS_SQUARED);
  const double bad[3] = {NAN, INFINITY, -INFINITY};
  long cases = 0;
  for (int b = 0; b < 3; b++) {
    double v = bad[b];
    double x[15], y[10], w[12], out = 42.0;
    memcpy(x, in.x, sizeof x);
    memcpy(y, in.y, sizeof y);
    nslm_data *d = (nslm_data *)&out;
    /* data */
    x[7] = v;
    ck_assert_int_eq(nslm_data_create(&d, 5, 3, x, 3, 1, 2, y, 2, 1), NSLM_ERR_NONFINITE);
    ck_assert_ptr_null(d);
    x[7] = 0;
    y[3] = v;
    d = (nslm_data *)&out;
    ck_assert_int_eq(nslm_data_create(&d, 5, 3, x, 3, 1, 2, y, 2, 1), NSLM_ERR_NONFINITE);
    ck_assert_ptr_null(d);
    cases += 2;
    /* parameters */
    for (int i = 0; i < 12; i++) w[i] = 0.1 * i;
    w[5] = v;
    nslmh_digest before, after;
    nslmh_digest_init(&before);
    nslmh_digest_init(&after);
    nslmh_digest_params(&before, in.theta);
    ck_assert(rejects(nslm_params_set_layer(in.theta, 0, 4, 3, w, 3, 1)));
    ck_assert(rejects(nslm_params_interpolate(in.theta, in.theta, in.gamma, v)));
    ck_assert(rejects(nslm_params_init_random(in.theta, 1, NSLM_INIT_NORMAL, v)));
    nslmh_digest_params(&after, in.theta);
    ck_assert(nslmh_digest_equal(&before, &after));
    nslmh_digest_free(&before);
    nslmh_digest_free(&after);
    cases += 3;
    /* losses, activations, constraint */
    nslm_loss *l = (nslm_loss *)&out;
    ck_assert(rejects(nslm_loss_create(&l, NSLM_LOSS_HUBER, v)));
    ck_assert_ptr_null(l);
    double a[2] = {0.5, v}, yy[2] = {0, 0}, val = 42.0, g[2] = {42.0, 42.0};
    ck_assert(rejects(nslm_loss_eval(in.loss, 2, a, yy, &val, g)));
    ck_assert(val == 42.0 && g[0] == 42.0);
    a[1] = 0.0;
    yy[0] = v;
    ck_assert(rejects(nslm_loss_eval(in.loss, 2, a, yy, &val, g)));
    ck_assert(val == 42.0);
    ck_assert(rejects(nslm_net_set_activation(in.net, 1, NSLM_ACT_LEAKY_RELU, v, 0)));
    nslm_constraint *c = (nslm_constraint *)&out;
    ck_assert(rejects(nslm_constraint_create(&c, v, 1, 1)));
    ck_assert_ptr_null(c);
    double nrm = 42.0, row[3] = {1, v, 2};
    ck_assert(rejects(nslm_matrix_row_norm(1, 3, row, 3, 1, 2.0, &nrm)));
    ck_assert(nrm == 42.0);
    double obj = 42.0;
    ck_assert(rejects(nslm_eval_objective(in.net, in.theta, in.data, in.loss, in.con, v, &obj)));
    ck_assert(obj == 42.0);
    cases += 8;
    /* the Caratheodory reduction */
    double z[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, t[4] = {1, 1, 1, 1}, tout[4] = {42, 42, 42, 42};
    z[5] = v;
    ck_assert(rejects(nslm_caratheodory_reduce(4, 3, z, 3, 1, t, 1, 1.0, NULL, tout, 1, NULL, NULL, NULL, NULL, NULL,
                                               NULL)));
    z[5] = 6;
    t[2] = v;
    ck_assert(rejects(nslm_caratheodory_reduce(4, 3, z, 3, 1, t, 1, 1.0, NULL, tout, 1, NULL, NULL, NULL, NULL, NULL,
                                               NULL)));
    ck_assert(tout[0] == 42.0 && tout[3] == 42.0);
    cases += 2;
    /* paths and landscape */
    nslm_path *path = NULL;
    ck_assert_int_eq(nslm_path_create(&path, in.net, in.theta), NSLM_OK);
    ck_assert_int_eq(nslm_path_append(path, in.gamma, NSLM_SEG_GENERAL), NSLM_OK);
    double tt[2] = {0.5, v}, risk[2] = {42, 42};
    ck_assert(rejects(nslm_path_eval(path, in.net, in.data, in.loss, NULL, 2, tt, risk, NULL, NULL, 0, 0,
                                     NSLM_EVAL_STRUCTURED, NULL, NULL)));
    ck_assert(risk[0] == 42.0);
    nslm_params *pt = NULL;
    ck_assert_int_eq(nslm_params_clone(&pt, in.theta), NSLM_OK);
    ck_assert(rejects(nslm_path_point(path, v, pt)));
    ck_assert(nslm_params_equal(pt, in.theta) == 1);
    double lt[3] = {0, 0.5, 1}, lr[3] = {1, v, 2}, h = 42.0;
    ck_assert(rejects(nslm_landscape_barrier(3, lt, lr, &h, NULL)));
    ck_assert(h == 42.0);
    double grid[4] = {42, 42, 42, 42};
    ck_assert(rejects(nslm_landscape_plane(in.net, in.data, in.loss, NULL, in.theta, in.gamma, in.theta, 2, v, 1, 2, 0,
                                           1, grid, 2, 1, NULL, 0, 0, NULL, NULL)));
    ck_assert(grid[0] == 42.0);
    cases += 4;
    nslm_params_destroy(pt);
    nslm_path_destroy(path);
  }
  printf("non-finite inputs rejected: %ld cases (NaN, +Inf, -Inf), outputs untouched\n", cases);
  nslmh_inst_free(&in);
}
END_TEST

int main(void) {
  nslmh_result_reset("test_fpe");
  Suite *s = suite_create("fpe");
  TCase *tc = tcase_create("fpe");
  tcase_set_timeout(tc, 120);
  /* valgrind does not emulate floating-point traps: there the detector
   * is skipped (and the trap pass is vacuous; the flags pass still counts) */
  const char *preload = getenv("LD_PRELOAD");
  if (preload == NULL || strstr(preload, "vgpreload") == NULL) tcase_add_test(tc, traps_work);
  tcase_add_test(tc, no_exception_flags);
  tcase_add_test(tc, no_traps);
  tcase_add_test(tc, nonfinite_inputs_rejected);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  printf("FP exceptions on finite inputs: %s\n", failed ? "see failures" : "0");
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
