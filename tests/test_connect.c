/* test_connect.c - the construction (DESIGN 2.2-2.6): compression,
 * relocation, the bridge, connect, descent, widths, global minimizers,
 * block predicates, permutations, the penalized report.
 *
 * Truth comes from outside the library: risks and outputs from the naive
 * reference network of tests/reference.c, evaluated at points (1-u) K_s +
 * u K_(s+1) interpolated HERE from the knots (never through the library's
 * structured path evaluation); r(Theta) from a naive loop below; ranks
 * from LAPACK's SVD (the library's compression uses pivoted QR or the
 * Caratheodory reduction, a different algorithm).
 *
 * Tolerances (argued where used):
 *   CONST_TOL 1e-10: risk deviation on CONSTANT segments, relative to
 *     max(1, |L|) (the acceptance figure of issue 5).  A compressed row
 *     reproduces w A_j up to rounding of a p-term sum of O(1) values:
 *     ~1e-14, amplified by at most a few orders through later layers.
 *   CONVEX_TOL 1e-10: violation of discrete convexity, same scale.
 *   R_TOL 1e-12: r along a ROW path <= max(r(Theta), r(Gamma)) (1 + tol);
 *     the row norms are computed from the same numbers, only sums of
 *     absolute values are reordered.
 *   PRUNE_TOL 1e-12: outputs of the compressed parameter, relative to
 *     max(1, max |output|) (issue 5's pruning figure).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "nslm.h"
#include "alloc.h"
#include "reference.h"
#include "testutil.h"

#define CONST_TOL 1e-10
#define CONVEX_TOL 1e-10
#define R_TOL 1e-12
#define PRUNE_TOL 1e-12
#define SAMPLES 4 /* interior sample points per segment */

typedef int dgesdd_t;
void dgesdd_(const char *jobz, const int *m, const int *n, double *a, const int *lda, double *s,
             double *u, const int *ldu, double *vt, const int *ldvt, double *work,
             const int *lwork, int *iwork, int *info);

/* ---------------------------------------------------------------------
 * Instances
 * ------------------------------------------------------------------- */

typedef struct {
  size_t depth, n, widths[8];
  nslmt_ref_act ref[7];
  int loss_kind;
  double loss_param;
  double a_r, b_r, q;
  double *x, *y;
  nslm_net *net;
  nslm_data *data;
  nslm_loss *loss;
  nslm_constraint *con;
} inst_t;

static const int ACTS[7] = {NSLM_ACT_IDENTITY, NSLM_ACT_RELU, NSLM_ACT_LEAKY_RELU, NSLM_ACT_POLY,
                            NSLM_ACT_SIGMOID,  NSLM_ACT_TANH, NSLM_ACT_CALLBACK};
static const double QS[4] = {0.5, 1.0, 2.0, INFINITY};

/* softsign as a user callback */
static int softsign(double *x, size_t len, void *user) {
  (void)user;
  for (size_t i = 0; i < len; i++) x[i] = x[i] / (1.0 + fabs(x[i]));
  return 0;
}

/* The callback loss of the tests: squared loss, so the reference can
 * evaluate it as NSLM_LOSS_SQUARED. */
static int sq_loss(const double *a, const double *y, size_t m, double *value, double *grad,
                   void *user) {
  (void)user;
  double s = 0.0;
  for (size_t k = 0; k < m; k++) {
    s += (a[k] - y[k]) * (a[k] - y[k]);
    if (grad) grad[k] = 2.0 * (a[k] - y[k]);
  }
  *value = s;
  return 0;
}
#define LOSS_CALLBACK_TEST 7

static void get_layers(const inst_t *in, const nslm_params *p, double **layers) {
  for (size_t j = 0; j <= in->depth; j++) {
    size_t rows = in->widths[j + 1], cols = in->widths[j];
    layers[j] = malloc(rows * cols * sizeof(double));
    ck_assert_int_eq(nslm_params_get_layer(p, j, rows, cols, layers[j], (ptrdiff_t)cols, 1), NSLM_OK);
  }
}

static void free_layers(const inst_t *in, double **layers) {
  for (size_t j = 0; j <= in->depth; j++) free(layers[j]);
}

static int ref_kind(const inst_t *in) {
  return in->loss_kind == LOSS_CALLBACK_TEST ? NSLM_LOSS_SQUARED : in->loss_kind;
}

static double ref_risk_layers(const inst_t *in, double *const *layers) {
  return nslmt_ref_risk(in->depth, in->widths, (const double *const *)layers, in->ref, in->n, in->x,
                        in->y, ref_kind(in), in->loss_param, NULL);
}

static double ref_risk(const inst_t *in, const nslm_params *p) {
  double *layers[8];
  get_layers(in, p, layers);
  double v = ref_risk_layers(in, layers);
  free_layers(in, layers);
  return v;
}

/* Naive r(Theta) of DESIGN section 1. */
static double ref_r_layers(const inst_t *in, double *const *layers) {
  if (in->a_r == 0.0 && in->b_r == 0.0) return 0.0;
  double r = 0.0;
  for (size_t j = 0; j <= in->depth; j++) {
    size_t rows = in->widths[j + 1], cols = in->widths[j];
    for (size_t i = 0; i < rows; i++) {
      double s = 0.0;
      for (size_t c = 0; c < cols; c++) {
        double v = fabs(layers[j][i * cols + c]);
        if (j >= 1 || in->q == 1.0) s += v;
        else if (isinf(in->q)) s = fmax(s, v);
        else s += pow(v, in->q);
      }
      if (j == 0 && !isinf(in->q) && in->q != 1.0) s = pow(s, 1.0 / in->q);
      r = fmax(r, (j >= 1 ? in->a_r : in->b_r) * s);
    }
  }
  return r;
}

static double ref_r(const inst_t *in, const nslm_params *p) {
  double *layers[8];
  get_layers(in, p, layers);
  double v = ref_r_layers(in, layers);
  free_layers(in, layers);
  return v;
}

static void ref_out(const inst_t *in, const nslm_params *p, double *out) {
  double *layers[8];
  get_layers(in, p, layers);
  ck_assert_int_eq(nslmt_ref_outputs(in->depth, in->widths, (const double *const *)layers, in->ref,
                                     in->n, in->x, out), 0);
  free_layers(in, layers);
}

static void random_params(nslmt_rng *rng, const inst_t *in, nslm_params *p) {
  for (size_t j = 0; j <= in->depth; j++) {
    size_t rows = in->widths[j + 1], cols = in->widths[j];
    double *w = malloc(rows * cols * sizeof *w);
    nslmt_fill(rng, w, rows * cols, 1.0 / sqrt((double)cols));
    ck_assert_int_eq(nslm_params_set_layer(p, j, rows, cols, w, (ptrdiff_t)cols, 1), NSLM_OK);
    free(w);
  }
}

/* Scales Theta^l so that max |output| = s (the paper's logistic loss
 * needs |a| < 1). */
static void scale_outputs(const inst_t *in, nslm_params *p, double s) {
  size_t m = in->widths[in->depth + 1], pl = in->widths[in->depth];
  double *o = malloc(in->n * m * sizeof *o), mx = 0.0;
  ref_out(in, p, o);
  for (size_t i = 0; i < in->n * m; i++) mx = fmax(mx, fabs(o[i]));
  free(o);
  if (mx == 0.0) return;
  double *w = malloc(m * pl * sizeof *w);
  nslm_params_get_layer(p, in->depth, m, pl, w, (ptrdiff_t)pl, 1);
  for (size_t i = 0; i < m * pl; i++) w[i] *= s / mx;
  nslm_params_set_layer(p, in->depth, m, pl, w, (ptrdiff_t)pl, 1);
  free(w);
}

/* A random instance: widths d, p (every hidden layer), m; activation act
 * index for every hidden layer (rotating from act0); a loss; a constraint
 * (active: a_r, b_r > 0 set later by make_feasible; else unconstrained). */
static void inst_make(inst_t *in, nslmt_rng *rng, size_t depth, size_t d, size_t p, size_t m,
                      size_t n, int act0, int loss_kind, double q, int active) {
  memset(in, 0, sizeof *in);
  in->depth = depth;
  in->n = n;
  in->widths[0] = d;
  for (size_t j = 1; j <= depth; j++) in->widths[j] = p;
  in->widths[depth + 1] = m;
  ck_assert_int_eq(nslm_net_create(&in->net, depth, in->widths), NSLM_OK);
  for (size_t j = 1; j <= depth; j++) {
    int kind = ACTS[(act0 + (int)j - 1) % 7];
    nslmt_ref_act *r = &in->ref[j - 1];
    r->kind = kind;
    if (kind == NSLM_ACT_LEAKY_RELU) r->c = 0.1;
    if (kind == NSLM_ACT_POLY) r->c = 0.5, r->k = 2;
    if (kind == NSLM_ACT_CALLBACK) {
      r->f = softsign;
      ck_assert_int_eq(nslm_net_set_activation_callback(in->net, j, softsign, NULL, NULL), NSLM_OK);
    } else {
      ck_assert_int_eq(nslm_net_set_activation(in->net, j, kind, r->c, r->k), NSLM_OK);
    }
  }
  in->loss_kind = loss_kind;
  in->loss_param = loss_kind == NSLM_LOSS_HUBER ? 0.5 : 0.0;
  if (loss_kind == LOSS_CALLBACK_TEST)
    ck_assert_int_eq(nslm_loss_create_callback(&in->loss, sq_loss, NULL), NSLM_OK);
  else
    ck_assert_int_eq(nslm_loss_create(&in->loss, loss_kind, in->loss_param), NSLM_OK);
  in->x = malloc(n * d * sizeof(double));
  in->y = malloc(n * m * sizeof(double));
  nslmt_fill(rng, in->x, n * d, 1.0);
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < m; k++) {
      double *y = &in->y[i * m + k];
      switch (loss_kind) {
      case NSLM_LOSS_LOGISTIC: case NSLM_LOSS_HINGE: *y = nslmt_uniform(rng) < 0.5 ? -1.0 : 1.0; break;
      case NSLM_LOSS_LOGISTIC_PAPER: *y = 2.0 * nslmt_uniform(rng) - 1.0; break;
      case NSLM_LOSS_SOFTMAX_CE: *y = (m == 1 || k == i % m) ? 1.0 : 0.0; break;
      default: *y = nslmt_normal(rng);
      }
    }
  ck_assert_int_eq(nslm_data_create(&in->data, n, d, in->x, (ptrdiff_t)d, 1, m, in->y, (ptrdiff_t)m, 1),
                   NSLM_OK);
  in->q = q;
  in->a_r = in->b_r = active ? 1.0 : 0.0; /* rescaled by make_feasible */
  ck_assert_int_eq(nslm_constraint_create(&in->con, in->a_r, in->b_r, q), NSLM_OK);
}

/* An active constraint that binds: a_r, b_r scaled so that max(r(Theta),
 * r(Gamma)) = 1. */
static void make_feasible(inst_t *in, const nslm_params *t, const nslm_params *g) {
  if (in->a_r == 0.0) return;
  double r = fmax(ref_r(in, t), ref_r(in, g));
  in->a_r = in->b_r = 1.0 / r;
  nslm_constraint_destroy(in->con);
  ck_assert_int_eq(nslm_constraint_create(&in->con, in->a_r, in->b_r, in->q), NSLM_OK);
}

static void inst_free(inst_t *in) {
  nslm_net_destroy(in->net);
  nslm_data_destroy(in->data);
  nslm_loss_destroy(in->loss);
  nslm_constraint_destroy(in->con);
  free(in->x);
  free(in->y);
}

/* Numerical rank of the reference features A_j (n x p_j) by SVD. */
static size_t ref_rank(const inst_t *in, const nslm_params *p, size_t j) {
  double *layers[8];
  get_layers(in, p, layers);
  size_t pj = in->widths[j], n = in->n;
  double *a = malloc(n * pj * sizeof *a);
  ck_assert_int_eq(nslmt_ref_features(in->depth, in->widths, (const double *const *)layers, in->ref,
                                      n, in->x, j, 0, a), 0);
  free_layers(in, layers);
  int mm = (int)pj, nn = (int)n, k = mm < nn ? mm : nn, lwork = -1, info;
  double *s = malloc((size_t)k * sizeof *s), q;
  int *iw = malloc(8 * (size_t)k * sizeof *iw);
  /* a is n x p_j row-major = p_j x n column-major */
  dgesdd_("N", &mm, &nn, a, &mm, s, NULL, &mm, NULL, &nn, &q, &lwork, iw, &info);
  lwork = (int)q;
  double *work = malloc((size_t)lwork * sizeof *work);
  dgesdd_("N", &mm, &nn, a, &mm, s, NULL, &mm, NULL, &nn, work, &lwork, iw, &info);
  ck_assert_int_eq(info, 0);
  size_t r = 0;
  /* the library's default rank tolerance is 1e-13 relative; an SVD rank
   * at 1e-10 can only be smaller, so s_j <= bound stays a valid test
   * when the gap is clear (random features have no tiny singular values
   * except exact zeros at ~1e-16 relative). */
  for (int i = 0; i < k; i++)
    if (s[i] > 1e-10 * s[0]) r++;
  free(s);
  free(iw);
  free(work);
  free(a);
  return r;
}

/* ---------------------------------------------------------------------
 * Path checks with the reference
 * ------------------------------------------------------------------- */

typedef struct {
  double max_const_dev, max_convex_viol, max_r, max_increase;
  double l_start, l_end;
  size_t nconvex;
} pathcheck_t;

/* Samples every segment at SAMPLES interior points plus its ends. */
static void check_path(const inst_t *in, const nslm_path *path, pathcheck_t *pc) {
  size_t S = nslm_path_num_segments(path), l = in->depth;
  nslm_params *a, *b;
  ck_assert_int_eq(nslm_params_create(&a, in->net), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&b, in->net), NSLM_OK);
  memset(pc, 0, sizeof *pc);
  double *la[8], *lb[8], *lt[8];
  ck_assert_int_eq(nslm_path_get_knot(path, 0, a), NSLM_OK);
  get_layers(in, a, la);
  for (size_t j = 0; j <= l; j++) lt[j] = malloc(in->widths[j + 1] * in->widths[j] * sizeof(double));
  pc->l_start = ref_risk_layers(in, la);
  double prev_end = pc->l_start;
  for (size_t s = 0; s < S; s++) {
    int kind;
    ck_assert_int_eq(nslm_path_segment_kind(path, s, &kind), NSLM_OK);
    ck_assert_int_eq(nslm_path_get_knot(path, s + 1, b), NSLM_OK);
    get_layers(in, b, lb);
    double L[SAMPLES + 2];
    for (int i = 0; i <= SAMPLES + 1; i++) {
      double u = (double)i / (SAMPLES + 1);
      for (size_t j = 0; j <= l; j++) {
        size_t sz = in->widths[j + 1] * in->widths[j];
        for (size_t e = 0; e < sz; e++) lt[j][e] = (1.0 - u) * la[j][e] + u * lb[j][e];
      }
      L[i] = ref_risk_layers(in, lt);
      ck_assert_msg(isfinite(L[i]), "segment %zu: risk not finite", s);
      pc->max_r = fmax(pc->max_r, ref_r_layers(in, lt));
      if (i > 0) pc->max_increase = fmax(pc->max_increase, (L[i] - L[i - 1]) / fmax(1.0, fabs(L[i - 1])));
    }
    ck_assert(L[0] == prev_end); /* the knots chain */
    double sc = 1.0;
    for (int i = 0; i <= SAMPLES + 1; i++) sc = fmax(sc, fabs(L[i]));
    if (kind == NSLM_SEG_CONSTANT) {
      for (int i = 1; i <= SAMPLES + 1; i++)
        pc->max_const_dev = fmax(pc->max_const_dev, fabs(L[i] - L[0]) / sc);
    } else if (kind == NSLM_SEG_CONVEX) {
      pc->nconvex++;
      for (int i = 1; i <= SAMPLES; i++)
        pc->max_convex_viol = fmax(pc->max_convex_viol, (L[i] - 0.5 * (L[i - 1] + L[i + 1])) / sc);
    } else {
      ck_abort_msg("segment %zu has no claim", s);
    }
    prev_end = L[SAMPLES + 1];
    for (size_t j = 0; j <= l; j++) {
      free(la[j]);
      la[j] = lb[j];
    }
  }
  pc->l_end = prev_end;
  free_layers(in, la);
  for (size_t j = 0; j <= l; j++) free(lt[j]);
  nslm_params_destroy(a);
  nslm_params_destroy(b);
}

static void check_ends(const nslm_path *path, const nslm_params *start, const nslm_params *end,
                       const nslm_net *net) {
  nslm_params *k;
  ck_assert_int_eq(nslm_params_create(&k, net), NSLM_OK);
  ck_assert_int_eq(nslm_path_get_knot(path, 0, k), NSLM_OK);
  ck_assert(nslm_params_equal(k, start));
  if (end) {
    ck_assert_int_eq(nslm_path_get_knot(path, nslm_path_num_knots(path) - 1, k), NSLM_OK);
    ck_assert(nslm_params_equal(k, end));
  }
  nslm_params_destroy(k);
}

/* Each segment changes exactly one layer. */
static void check_one_layer_per_segment(const nslm_path *path, size_t depth) {
  unsigned char mask[8];
  for (size_t s = 0; s < nslm_path_num_segments(path); s++) {
    ck_assert_int_eq(nslm_path_segment_layers(path, s, mask, depth + 1), NSLM_OK);
    int c = 0;
    for (size_t j = 0; j <= depth; j++) c += mask[j];
    ck_assert_msg(c <= 1, "segment %zu changes %d layers", s, c);
  }
}

/* The library's own certificates, both kinds (in addition to the
 * reference sampling above, never instead of it). */
static void check_certificates(const inst_t *in, const nslm_path *path) {
  for (int kind = NSLM_CERT_ALGEBRAIC; kind <= NSLM_CERT_SAMPLED; kind++) {
    nslm_certificate *cert;
    int passed = 0;
    ck_assert_int_eq(nslm_path_certify(&cert, path, in->net, in->data, in->loss, in->con, kind, 0,
                                       NULL, NULL), NSLM_OK);
    ck_assert_int_eq(nslm_certificate_passed(cert, &passed), NSLM_OK);
    if (!passed) {
      char sum[512];
      size_t need;
      nslm_certificate_summary(cert, sum, sizeof sum, &need);
      ck_abort_msg("certificate failed: %s", sum);
    }
    nslm_certificate_destroy(cert);
  }
}

static nslm_construct_opts *opts_mode(int mode) {
  nslm_construct_opts *o;
  ck_assert_int_eq(nslm_construct_opts_create(&o), NSLM_OK);
  ck_assert_int_eq(nslm_construct_opts_set_int(o, NSLM_CONSTRUCT_MODE, mode), NSLM_OK);
  return o;
}

/* ---------------------------------------------------------------------
 * Units, Definition 3, Lemma 3
 * ------------------------------------------------------------------- */

START_TEST(block_predicates_and_active_units) {
  size_t w[4] = {2, 4, 3, 1};
  nslm_net *net;
  nslm_params *p;
  ck_assert_int_eq(nslm_net_create(&net, 2, w), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&p, net), NSLM_OK);
  /* layer 1 units {0, 1} and layer 2 unit {0} active: a 2-upper block */
  double t0[8] = {1, 2, 3, 4, 0, 0, 0, 0};       /* 4 x 2 */
  double t1[12] = {1, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}; /* 3 x 4 */
  double t2[3] = {5, 0, 0};                      /* 1 x 3 */
  ck_assert_int_eq(nslm_params_set_layer(p, 0, 4, 2, t0, 2, 1), NSLM_OK);
  ck_assert_int_eq(nslm_params_set_layer(p, 1, 3, 4, t1, 4, 1), NSLM_OK);
  ck_assert_int_eq(nslm_params_set_layer(p, 2, 1, 3, t2, 3, 1), NSLM_OK);
  unsigned char mask[4];
  size_t count;
  ck_assert_int_eq(nslm_params_active_units(p, 1, mask, 4, &count), NSLM_OK);
  ck_assert_uint_eq(count, 2);
  ck_assert(mask[0] && mask[1] && !mask[2] && !mask[3]);
  ck_assert_int_eq(nslm_params_active_units(p, 2, NULL, 0, &count), NSLM_OK);
  ck_assert_uint_eq(count, 1);
  int res;
  ck_assert_int_eq(nslm_params_is_upper_block(p, 2, &res), NSLM_OK);
  ck_assert_int_eq(res, 1);
  ck_assert_int_eq(nslm_params_is_upper_block(p, 1, &res), NSLM_OK);
  ck_assert_int_eq(res, 0); /* unit 2 of layer 1 (1-based) is active */
  ck_assert_int_eq(nslm_params_is_lower_block(p, 2, &res), NSLM_OK);
  ck_assert_int_eq(res, 0);
  ck_assert_int_eq(nslm_params_is_upper_block(p, 0, &res), NSLM_OK);
  ck_assert_int_eq(res, 0);
  ck_assert_int_eq(nslm_params_is_lower_block(p, 4, &res), NSLM_OK);
  ck_assert_int_eq(res, 1); /* s >= max p_j: every parameter */
  /* reverse the units of both layers: a 2-lower block */
  size_t perm[7] = {3, 2, 1, 0, 2, 1, 0};
  nslm_params *q;
  ck_assert_int_eq(nslm_params_create(&q, net), NSLM_OK);
  ck_assert_int_eq(nslm_params_permute_units(q, p, perm, 7), NSLM_OK);
  ck_assert_int_eq(nslm_params_is_lower_block(q, 2, &res), NSLM_OK);
  ck_assert_int_eq(res, 1);
  ck_assert_int_eq(nslm_params_is_upper_block(q, 2, &res), NSLM_OK);
  ck_assert_int_eq(res, 0);
  unsigned char keep[7] = {0, 0, 1, 1, 0, 0, 1};
  ck_assert_int_eq(nslm_params_is_block(q, keep, 7, &res), NSLM_OK);
  ck_assert_int_eq(res, 1);
  keep[6] = 0;
  ck_assert_int_eq(nslm_params_is_block(q, keep, 7, &res), NSLM_OK);
  ck_assert_int_eq(res, 0);
  /* entries moved where Lemma 3 says: out^1[u][v] = theta^1[P2[u]][P1[v]] */
  double g1[12];
  ck_assert_int_eq(nslm_params_get_layer(q, 1, 3, 4, g1, 4, 1), NSLM_OK);
  for (size_t u = 0; u < 3; u++)
    for (size_t v = 0; v < 4; v++) ck_assert(g1[u * 4 + v] == t1[perm[4 + u] * 4 + perm[v]]);
  /* in place, and back */
  ck_assert_int_eq(nslm_params_permute_units(q, q, perm, 7), NSLM_OK);
  ck_assert(nslm_params_equal(q, p));
  nslm_params_destroy(p);
  nslm_params_destroy(q);
  nslm_net_destroy(net);
}
END_TEST

START_TEST(permutation_keeps_the_network) {
  nslmt_rng rng;
  nslmt_seed(&rng, 11);
  for (int a = 0; a < 7; a++) {
    inst_t in;
    inst_make(&in, &rng, 3, 3, 6, 2, 5, a, NSLM_LOSS_SQUARED, 1.0, 0);
    nslm_params *p, *q;
    ck_assert_int_eq(nslm_params_create(&p, in.net), NSLM_OK);
    ck_assert_int_eq(nslm_params_create(&q, in.net), NSLM_OK);
    random_params(&rng, &in, p);
    size_t perm[18];
    for (size_t j = 0; j < 3; j++) {
      size_t *pj = perm + 6 * j;
      for (size_t k = 0; k < 6; k++) pj[k] = k;
      for (size_t k = 5; k > 0; k--) { /* Fisher-Yates */
        size_t r = nslmt_range(&rng, 0, k), t = pj[k];
        pj[k] = pj[r];
        pj[r] = t;
      }
    }
    ck_assert_int_eq(nslm_params_permute_units(q, p, perm, 18), NSLM_OK);
    double o1[10], o2[10];
    ref_out(&in, p, o1);
    ref_out(&in, q, o2);
    /* the same sums in another order: rounding only */
    ck_assert_double_le(nslmt_relerr(o2, o1, 10), 1e-13);
    nslm_params_destroy(p);
    nslm_params_destroy(q);
    inst_free(&in);
  }
}
END_TEST

/* ---------------------------------------------------------------------
 * Relocation
 * ------------------------------------------------------------------- */

START_TEST(relocation_is_constant_and_moves_off) {
  nslmt_rng rng;
  nslmt_seed(&rng, 12);
  inst_t in;
  size_t p = 10, l = 2;
  inst_make(&in, &rng, l, 3, p, 2, 6, 1, NSLM_LOSS_HUBER, 2.0, 1);
  nslm_params *t, *out;
  ck_assert_int_eq(nslm_params_create(&t, in.net), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&out, in.net), NSLM_OK);
  random_params(&rng, &in, t);
  /* keep units 0..3 of both layers active, the rest inactive */
  double *layers[3];
  get_layers(&in, t, layers);
  for (size_t k = 4; k < p; k++) {
    for (size_t c = 0; c < 3; c++) layers[0][k * 3 + c] = 0;
    for (size_t c = 0; c < p; c++) layers[1][k * p + c] = 0, layers[1][c * p + k] = 0;
    for (size_t r = 0; r < 2; r++) layers[2][r * p + k] = 0;
  }
  for (size_t j = 0; j <= l; j++)
    nslm_params_set_layer(t, j, in.widths[j + 1], in.widths[j], layers[j], (ptrdiff_t)in.widths[j], 1);
  free_layers(&in, layers);
  make_feasible(&in, t, t);
  unsigned char avoid[20] = {0};
  avoid[1] = avoid[2] = avoid[7] = 1; /* layer 1: move units 1, 2 */
  avoid[10 + 0] = 1;                  /* layer 2: move unit 0 */
  nslm_path *path;
  ck_assert_int_eq(nslm_relocate(in.net, t, avoid, 20, out, &path), NSLM_OK);
  ck_assert_uint_eq(nslm_path_num_segments(path), 6); /* three per layer that moves */
  check_ends(path, t, out, in.net);
  check_one_layer_per_segment(path, l);
  pathcheck_t pc;
  check_path(&in, path, &pc);
  /* the features of a moved unit are recomputed bit for bit; only the
   * split column (1-t)c + t c rounds: 1e-14 relative at most */
  ck_assert_double_le(pc.max_const_dev, 1e-13);
  ck_assert_double_le(pc.max_r, ref_r(&in, t) * (1 + R_TOL));
  unsigned char act[10];
  size_t c1, c2;
  ck_assert_int_eq(nslm_params_active_units(out, 1, act, 10, &c1), NSLM_OK);
  ck_assert_uint_eq(c1, 4);
  for (size_t k = 0; k < 10; k++) ck_assert(!(act[k] && avoid[k]));
  ck_assert_int_eq(nslm_params_active_units(out, 2, act, 10, &c2), NSLM_OK);
  ck_assert_uint_eq(c2, 4);
  for (size_t k = 0; k < 10; k++) ck_assert(!(act[k] && avoid[10 + k]));
  nslm_path_destroy(path);
  /* too many to avoid: layer 1 needs 4 + 7 = 11 units, has 10 */
  memset(avoid, 0, sizeof avoid);
  for (size_t k = 3; k < 10; k++) avoid[k] = 1;
  path = (nslm_path *)&rng;
  nslm_params_assign(out, t);
  ck_assert_int_eq(nslm_relocate(in.net, t, avoid, 20, out, &path), NSLM_ERR_TOO_NARROW);
  ck_assert_ptr_null(path);
  ck_assert_ptr_nonnull(strstr(nslm_last_error(), "hidden layer 1 needs 11 units, has 10"));
  ck_assert_ptr_null(strstr(nslm_last_error(), "layer 2"));
  ck_assert(nslm_params_equal(out, t));
  nslm_params_destroy(t);
  nslm_params_destroy(out);
  inst_free(&in);
}
END_TEST

/* ---------------------------------------------------------------------
 * Compression as pruning
 * ------------------------------------------------------------------- */

static void check_compress(inst_t *in, const nslm_params *t, int mode) {
  size_t l = in->depth, m = in->widths[l + 1];
  nslm_construct_opts *o = opts_mode(mode);
  nslm_params *out;
  nslm_path *path;
  ck_assert_int_eq(nslm_params_create(&out, in->net), NSLM_OK);
  size_t active[8], active2[8];
  double rb = -1, ra = -1;
  int st = nslm_compress(in->net, t, in->data, in->con, o, out, &path, active, l, &rb, &ra);
  ck_assert_msg(st == NSLM_OK, "compress: %s", nslm_last_error());
  ck_assert_double_eq_tol(rb, ref_r(in, t), 1e-14 * fmax(1.0, rb));
  ck_assert_double_eq_tol(ra, ref_r(in, out), 1e-14 * fmax(1.0, ra));
  if (mode == NSLM_COMPRESS_ROW) ck_assert_double_le(ra, rb * (1 + R_TOL));
  if (mode == NSLM_COMPRESS_SHARED) ck_assert_double_le(ra, fmax(1.0, rb) * (1 + R_TOL));
  /* outputs unchanged on every training sample */
  double *o1 = malloc(in->n * m * sizeof *o1), *o2 = malloc(in->n * m * sizeof *o2);
  ref_out(in, t, o1);
  ref_out(in, out, o2);
  double sc = 1.0;
  for (size_t i = 0; i < in->n * m; i++) sc = fmax(sc, fabs(o1[i]));
  double err = 0.0;
  for (size_t i = 0; i < in->n * m; i++) err = fmax(err, fabs(o1[i] - o2[i]) / sc);
  ck_assert_msg(err <= PRUNE_TOL, "outputs moved by %g (mode %d)", err, mode);
  free(o1);
  free(o2);
  /* widths: reported, and within DESIGN 2.2's bounds */
  size_t bound_above = m;
  for (size_t j = l; j >= 1; j--) {
    size_t c;
    ck_assert_int_eq(nslm_params_active_units(out, j, NULL, 0, &c), NSLM_OK);
    ck_assert_uint_eq(c, active[j - 1]);
    size_t rk = ref_rank(in, t, j);
    if (mode == NSLM_COMPRESS_JOINT) ck_assert_uint_le(active[j - 1], rk);
    /* ROW: s_j <= s_(j+1) rank(A_j); SHARED: the JOINT basis plus the
     * ROW reductions of the other rows, the same bound */
    else ck_assert_uint_le(active[j - 1], bound_above * rk);
    bound_above = active[j - 1];
  }
  ck_assert_int_eq(nslm_compress_widths(in->net, t, in->data, in->con, o, active2, l), NSLM_OK);
  for (size_t j = 0; j < l; j++) ck_assert_uint_eq(active2[j], active[j]);
  /* the path: l + 1 CONSTANT segments, one layer each */
  ck_assert_uint_eq(nslm_path_num_segments(path), l + 1);
  check_ends(path, t, out, in->net);
  check_one_layer_per_segment(path, l);
  pathcheck_t pc;
  check_path(in, path, &pc);
  ck_assert_double_le(pc.max_const_dev, CONST_TOL);
  ck_assert_uint_eq(pc.nconvex, 0);
  if (mode == NSLM_COMPRESS_ROW) ck_assert_double_le(pc.max_r, rb * (1 + R_TOL));
  if (mode == NSLM_COMPRESS_SHARED) ck_assert_double_le(pc.max_r, fmax(1.0, rb) * (1 + R_TOL));
  nslm_path_destroy(path);
  nslm_params_destroy(out);
  nslm_construct_opts_destroy(o);
}

START_TEST(compress_joint_prunes_exactly) {
  nslmt_rng rng;
  nslmt_seed(&rng, 13);
  for (int i = 0; i < 14; i++) {
    inst_t in;
    size_t depth = 1 + (size_t)i % 4, n = 5 + 3 * (size_t)(i % 5);
    inst_make(&in, &rng, depth, 3, 24, 1 + 2 * (size_t)(i % 2), n, i % 7, NSLM_LOSS_SQUARED, 1.0, 0);
    nslm_params *t;
    ck_assert_int_eq(nslm_params_create(&t, in.net), NSLM_OK);
    random_params(&rng, &in, t);
    check_compress(&in, t, NSLM_COMPRESS_JOINT);
    nslm_params_destroy(t);
    inst_free(&in);
  }
}
END_TEST

/* JOINT's active width is rank(A_j), whichever way the basis is found:
 * LU with partial pivoting when it proves full rank (units as rows when
 * p_j >= n, samples as rows when p_j < n), the column-pivoted QR when it
 * cannot (rank-deficient features).  One hidden layer, so A_1 = act(W0 X)
 * and the rank is clear: d >= min(p, n) with tanh (full rank), identity
 * with d = 3 (rank 3), a duplicated unit with p < n (rank p - 1). */
START_TEST(joint_width_is_the_rank) {
  static const struct {
    size_t d, p, n;
    int act0, dup;
    size_t rank;
  } cases[] = {
      {16, 36, 12, 5, 0, 12}, /* LU, units as rows */
      {3, 36, 12, 0, 0, 3},   /* rank-deficient: QR */
      {10, 8, 20, 5, 0, 8},   /* LU, samples as rows: nothing to prune */
      {10, 8, 20, 5, 1, 7},   /* a duplicated unit: QR */
      {16, 12, 12, 5, 0, 12}, /* p = n: LU, square */
  };
  nslmt_rng rng;
  nslmt_seed(&rng, 17);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    inst_t in;
    inst_make(&in, &rng, 1, cases[i].d, cases[i].p, 2, cases[i].n, cases[i].act0, NSLM_LOSS_SQUARED,
              1.0, 0);
    nslm_params *t;
    ck_assert_int_eq(nslm_params_create(&t, in.net), NSLM_OK);
    random_params(&rng, &in, t);
    if (cases[i].dup) {
      size_t d = cases[i].d, p = cases[i].p;
      double *w0 = malloc(p * d * sizeof *w0);
      ck_assert_int_eq(nslm_params_get_layer(t, 0, p, d, w0, (ptrdiff_t)d, 1), NSLM_OK);
      memcpy(w0 + (p - 1) * d, w0, d * sizeof *w0);
      ck_assert_int_eq(nslm_params_set_layer(t, 0, p, d, w0, (ptrdiff_t)d, 1), NSLM_OK);
      free(w0);
    }
    ck_assert_uint_eq(ref_rank(&in, t, 1), cases[i].rank);
    check_compress(&in, t, NSLM_COMPRESS_JOINT); /* outputs kept, path, width <= rank */
    nslm_construct_opts *o = opts_mode(NSLM_COMPRESS_JOINT);
    size_t active[1];
    ck_assert_int_eq(nslm_compress_widths(in.net, t, in.data, in.con, o, active, 1), NSLM_OK);
    ck_assert_msg(active[0] == cases[i].rank, "case %zu: width %zu, rank %zu", i, active[0],
                  cases[i].rank);
    nslm_construct_opts_destroy(o);
    nslm_params_destroy(t);
    inst_free(&in);
  }
}
END_TEST

START_TEST(compress_row_prunes_exactly) {
  nslmt_rng rng;
  nslmt_seed(&rng, 15);
  for (int i = 0; i < 16; i++) {
    inst_t in;
    size_t depth = 1 + (size_t)i % 4, n = 3 + (size_t)(i % 5);
    inst_make(&in, &rng, depth, 3, 40, 1 + 2 * (size_t)(i % 2), n, i % 7, NSLM_LOSS_SQUARED, QS[i % 4],
              1);
    nslm_params *t;
    ck_assert_int_eq(nslm_params_create(&t, in.net), NSLM_OK);
    random_params(&rng, &in, t);
    make_feasible(&in, t, t);
    check_compress(&in, t, NSLM_COMPRESS_ROW);
    nslm_params_destroy(t);
    inst_free(&in);
  }
}
END_TEST

/* ---------------------------------------------------------------------
 * connect and descent
 * ------------------------------------------------------------------- */

/* Checks the TOO_NARROW detail against the widths query. */
static void check_too_narrow(const inst_t *in, const nslm_params *t, const nslm_params *g,
                             const nslm_construct_opts *o, const size_t *needed) {
  nslm_path *path = (nslm_path *)in;
  ck_assert_int_eq(nslm_connect(in->net, t, g, in->data, in->con, o, &path), NSLM_ERR_TOO_NARROW);
  ck_assert_ptr_null(path);
  const char *msg = nslm_last_error();
  for (size_t j = 1; j <= in->depth; j++) {
    char want[96];
    snprintf(want, sizeof want, "hidden layer %zu needs %zu units", j, needed[j - 1]);
    if (needed[j - 1] > in->widths[j]) {
      ck_assert_msg(strstr(msg, want) != NULL, "detail '%s' lacks '%s'", msg, want);
      snprintf(want, sizeof want, "has %zu", in->widths[j]);
      ck_assert_ptr_nonnull(strstr(msg, want));
    } else {
      ck_assert_msg(strstr(msg, want) == NULL, "detail '%s' names layer %zu", msg, j);
    }
  }
}

/* connect + descent on one instance; returns 0 (and checks TOO_NARROW)
 * when the widths do not fit, with *need_max the largest need. */
static int run_connect(inst_t *in, const nslm_params *t, const nslm_params *g, int mode,
                       size_t *need_max) {
  size_t l = in->depth, needed[8];
  int fits = -1;
  nslm_construct_opts *o = opts_mode(mode);
  /* JOINT: every other instance without the avoidance, so that the
   * relocation segments are exercised too */
  if (mode == NSLM_COMPRESS_JOINT && (in->n % 2))
    ck_assert_int_eq(nslm_construct_opts_set_int(o, NSLM_CONSTRUCT_AVOID, 0), NSLM_OK);
  /* every third instance compresses Theta and Gamma side by side (two
   * threads, the pipeline of the avoid masks), whatever its size */
  if (in->widths[1] % 3 == 0) {
    ck_assert_int_eq(nslm_construct_opts_set_int(o, NSLM_CONSTRUCT_PARALLEL, 2), NSLM_OK);
    ck_assert_int_eq(nslm_construct_opts_set_int(o, NSLM_CONSTRUCT_NUM_THREADS, 2), NSLM_OK);
  }
  ck_assert_int_eq(nslm_connect_widths(in->net, t, g, in->data, in->con, o, needed, l, &fits), NSLM_OK);
  *need_max = 0;
  int fit2 = 1;
  for (size_t j = 0; j < l; j++) {
    *need_max = needed[j] > *need_max ? needed[j] : *need_max;
    if (needed[j] > in->widths[j + 1]) fit2 = 0;
  }
  ck_assert_int_eq(fits, fit2);
  if (!fits) {
    check_too_narrow(in, t, g, o, needed);
    nslm_construct_opts_destroy(o);
    return 0;
  }
  double rt = ref_r(in, t), rg = ref_r(in, g), lt = ref_risk(in, t), lg = ref_risk(in, g);
  nslm_path *path = NULL;
  int st = nslm_connect(in->net, t, g, in->data, in->con, o, &path);
  if (mode == NSLM_COMPRESS_JOINT && st == NSLM_ERR_INFEASIBLE) {
    /* refused: only under an active constraint, with the numbers */
    ck_assert(in->a_r > 0);
    ck_assert_ptr_nonnull(strstr(nslm_last_error(), "JOINT"));
    nslm_construct_opts_destroy(o);
    return 1;
  }
  ck_assert_msg(st == NSLM_OK, "connect: %s", nslm_last_error());
  check_ends(path, t, g, in->net);
  check_one_layer_per_segment(path, l);
  pathcheck_t pc;
  check_path(in, path, &pc);
  ck_assert_uint_eq(pc.nconvex, 1);
  if (getenv("NSLMT_VERBOSE"))
    fprintf(stderr, "mode %d depth %zu p %zu n %zu: %zu segments, const %.2e convex %.2e r %.3g/%.3g\n",
            mode, l, in->widths[1], in->n, nslm_path_num_segments(path), pc.max_const_dev,
            pc.max_convex_viol, pc.max_r, fmax(rt, rg));
  ck_assert_msg(pc.max_const_dev <= CONST_TOL, "constant deviation %g", pc.max_const_dev);
  ck_assert_msg(pc.max_convex_viol <= CONVEX_TOL, "convexity violation %g", pc.max_convex_viol);
  check_certificates(in, path);
  if (mode != NSLM_COMPRESS_JOINT) /* ROW and SHARED */
    ck_assert_msg(pc.max_r <= fmax(rt, rg) * (1 + R_TOL), "r %.17g > max(%.17g, %.17g)", pc.max_r, rt, rg);
  nslm_path_destroy(path);
  /* descent: never increases, ends at or below min(L(Theta), L(Gamma)) */
  double c = -1;
  st = nslm_descent(in->net, t, g, in->data, in->loss, in->con, o, &path, &c);
  ck_assert_msg(st == NSLM_OK, "descent: %s", nslm_last_error());
  ck_assert(c >= 0.0 && c <= 1.0);
  check_ends(path, t, c == 1.0 ? g : NULL, in->net);
  check_path(in, path, &pc);
  double sc = fmax(1.0, fmax(fabs(lt), fabs(lg)));
  ck_assert_msg(pc.max_increase <= CONST_TOL, "descent rises by %g", pc.max_increase);
  int claim = 0;
  ck_assert_int_eq(nslm_path_get_nonincreasing(path, &claim), NSLM_OK);
  ck_assert_int_eq(claim, 1);
  check_certificates(in, path);
  ck_assert_msg(pc.l_end <= fmin(lt, lg) + CONST_TOL * sc, "descent ends at %.17g > min(%.17g, %.17g)",
                pc.l_end, lt, lg);
  nslm_path_destroy(path);
  nslm_construct_opts_destroy(o);
  return 1;
}

static size_t n_for_depth(size_t depth, int i) {
  static const size_t ns[4] = {64, 8, 4, 3};
  if (depth == 1) return (i % 2) ? 64 : 16;
  return ns[depth - 1];
}

/* The property test over random instances (issue 5's acceptance). */
static void connect_property(int mode, int first, int count) {
  nslmt_rng rng;
  for (int i = first; i < first + count; i++) {
    nslmt_seed(&rng, 1000 + (uint64_t)i);
    size_t depth = 1 + (size_t)(i / 8) % 4, m = (i / 3) % 2 ? 3 : 1;
    size_t n = n_for_depth(depth, i);
    int act0 = i % 7, loss = (5 * i + i / 8) % 8, active = (i / 4) % 2;
    double q = QS[i % 4];
    if (mode == NSLM_COMPRESS_JOINT) n = 3 + (size_t)i % 20;
    size_t p = mode == NSLM_COMPRESS_JOINT ? 2 * n + 1 : 8, need = 0;
    int done = 0;
    for (int tries = 0; tries < 6 && !done; tries++) {
      inst_t in;
      inst_make(&in, &rng, depth, 3, p, m, n, act0, loss, q, active);
      nslm_params *t, *g;
      ck_assert_int_eq(nslm_params_create(&t, in.net), NSLM_OK);
      ck_assert_int_eq(nslm_params_create(&g, in.net), NSLM_OK);
      random_params(&rng, &in, t);
      random_params(&rng, &in, g);
      if (loss == NSLM_LOSS_LOGISTIC_PAPER) {
        scale_outputs(&in, t, 0.9);
        scale_outputs(&in, g, 0.5);
      }
      make_feasible(&in, t, g);
      done = run_connect(&in, t, g, mode, &need);
      nslm_params_destroy(t);
      nslm_params_destroy(g);
      inst_free(&in);
      p = need + need / 4 + 2;
    }
    ck_assert_msg(done, "instance %d never fit (last need %zu)", i, need);
  }
}

START_TEST(connect_joint_property) { connect_property(NSLM_COMPRESS_JOINT, 0, 32); }
END_TEST

START_TEST(connect_row_property) { connect_property(NSLM_COMPRESS_ROW, 0, 40); }
END_TEST

START_TEST(connect_shared_property) { connect_property(NSLM_COMPRESS_SHARED, 100, 16); }
END_TEST

START_TEST(compress_shared_prunes_exactly) {
  nslmt_rng rng;
  nslmt_seed(&rng, 17);
  for (int i = 0; i < 12; i++) {
    inst_t in;
    size_t depth = 1 + (size_t)i % 3, n = 3 + (size_t)(i % 5);
    inst_make(&in, &rng, depth, 3, 40, 1 + 2 * (size_t)(i % 2), n, i % 7, NSLM_LOSS_SQUARED, QS[i % 4],
              i % 3 != 2);
    nslm_params *t;
    ck_assert_int_eq(nslm_params_create(&t, in.net), NSLM_OK);
    random_params(&rng, &in, t);
    make_feasible(&in, t, t);
    check_compress(&in, t, NSLM_COMPRESS_SHARED);
    nslm_params_destroy(t);
    inst_free(&in);
  }
}
END_TEST

/* The paper's theorem as a test: at width 2 m (n+1)^l connect succeeds in
 * ROW mode, for every instance tried (small n). */
START_TEST(theorem_width_suffices) {
  nslmt_rng rng;
  nslmt_seed(&rng, 16);
  static const size_t cfg[][3] = {{1, 1, 4}, {1, 3, 3}, {2, 1, 2}, {2, 1, 3}, {2, 3, 2}, {3, 1, 2}};
  for (size_t c = 0; c < sizeof cfg / sizeof *cfg; c++)
    for (int rep = 0; rep < 3; rep++) {
      size_t depth = cfg[c][0], m = cfg[c][1], n = cfg[c][2];
      size_t w[3] = {3, 1, m};
      nslm_net *probe;
      w[1] = 1;
      size_t wl[6] = {3, 1, 1, 1, 1, 1};
      wl[depth + 1] = m;
      ck_assert_int_eq(nslm_net_create(&probe, depth, wl), NSLM_OK);
      size_t p = nslm_net_paper_width_bound(probe, n);
      nslm_net_destroy(probe);
      (void)w;
      inst_t in;
      int loss = (int)(c + (size_t)rep) % 7;
      inst_make(&in, &rng, depth, 3, p, m, n, (int)(c * 3 + (size_t)rep), loss, QS[rep], rep % 2);
      nslm_params *t, *g;
      ck_assert_int_eq(nslm_params_create(&t, in.net), NSLM_OK);
      ck_assert_int_eq(nslm_params_create(&g, in.net), NSLM_OK);
      random_params(&rng, &in, t);
      random_params(&rng, &in, g);
      if (loss == NSLM_LOSS_LOGISTIC_PAPER) {
        scale_outputs(&in, t, 0.9);
        scale_outputs(&in, g, 0.5);
      }
      make_feasible(&in, t, g);
      size_t need;
      ck_assert_msg(run_connect(&in, t, g, NSLM_COMPRESS_ROW, &need),
                    "width %zu = 2 m (n+1)^l did not suffice (need %zu)", p, need);
      nslm_params_destroy(t);
      nslm_params_destroy(g);
      inst_free(&in);
    }
}
END_TEST

/* Below the instance's need: TOO_NARROW naming each short layer with the
 * numbers of the widths query.  JOINT needs rank(A_j^Theta) +
 * rank(A_j^Gamma) = 2 min(p, n) > p for n >= p. */
START_TEST(too_narrow_with_exact_numbers) {
  nslmt_rng rng;
  nslmt_seed(&rng, 14);
  inst_t in;
  inst_make(&in, &rng, 3, 4, 7, 2, 12, 5, NSLM_LOSS_SQUARED, 1.0, 0);
  nslm_params *t, *g;
  ck_assert_int_eq(nslm_params_create(&t, in.net), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&g, in.net), NSLM_OK);
  random_params(&rng, &in, t);
  random_params(&rng, &in, g);
  nslm_construct_opts *o = opts_mode(NSLM_COMPRESS_JOINT);
  size_t needed[3];
  int fits;
  ck_assert_int_eq(nslm_connect_widths(in.net, t, g, in.data, NULL, o, needed, 3, &fits), NSLM_OK);
  ck_assert_int_eq(fits, 0);
  /* tanh features of 12 generic samples in 7 units: full rank 7 at
   * layers 1..3 -> 7 + 7 */
  for (size_t j = 0; j < 3; j++) ck_assert_uint_eq(needed[j], 14);
  check_too_narrow(&in, t, g, o, needed);
  ck_assert_ptr_nonnull(strstr(nslm_last_error(), "hidden layer 2 needs 14 units (7 + 7), has 7"));
  nslm_construct_opts_destroy(o);
  nslm_params_destroy(t);
  nslm_params_destroy(g);
  inst_free(&in);
}
END_TEST


/* ---------------------------------------------------------------------
 * Global minimizers (DESIGN 2.6)
 * ------------------------------------------------------------------- */

/* Naive gradient of L in Theta^l: sum_i dl/do_i a_i^T (reference features
 * and outputs; the loss derivative by central differences of the
 * reference loss, step 1e-6: error ~1e-12 relative for these smooth
 * losses, far below the 1e-6 asserted). */
static double ref_grad_norm(const inst_t *in, const nslm_params *p) {
  size_t l = in->depth, m = in->widths[l + 1], pl = in->widths[l], n = in->n;
  double *layers[8];
  get_layers(in, p, layers);
  double *a = malloc(n * pl * sizeof *a), *o = malloc(n * m * sizeof *o);
  double *g = calloc(m * pl, sizeof *g);
  ck_assert_int_eq(nslmt_ref_features(l, in->widths, (const double *const *)layers, in->ref, n, in->x,
                                      l, 0, a), 0);
  ck_assert_int_eq(nslmt_ref_outputs(l, in->widths, (const double *const *)layers, in->ref, n, in->x, o), 0);
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < m; k++) {
      double save = o[i * m + k], h = 1e-6 * fmax(1.0, fabs(save));
      o[i * m + k] = save + h;
      double fp = nslmt_ref_loss(ref_kind(in), in->loss_param, m, o + i * m, in->y + i * m);
      o[i * m + k] = save - h;
      double fm = nslmt_ref_loss(ref_kind(in), in->loss_param, m, o + i * m, in->y + i * m);
      o[i * m + k] = save;
      double d = (fp - fm) / (2 * h);
      for (size_t v = 0; v < pl; v++) g[k * pl + v] += d * a[i * pl + v];
    }
  double s = 0.0;
  for (size_t i = 0; i < m * pl; i++) s += g[i] * g[i];
  free(a);
  free(o);
  free(g);
  free_layers(in, layers);
  return sqrt(s);
}

static void check_inner_kept(const inst_t *in, const nslm_params *a, const nslm_params *b) {
  double *la[8], *lb[8];
  get_layers(in, a, la);
  get_layers(in, b, lb);
  for (size_t j = 0; j < in->depth; j++)
    ck_assert_int_eq(memcmp(la[j], lb[j], in->widths[j + 1] * in->widths[j] * sizeof(double)), 0);
  free_layers(in, la);
  free_layers(in, lb);
}

START_TEST(global_minimizer_squared) {
  nslmt_rng rng;
  nslmt_seed(&rng, 21);
  /* wide last layer: rank(A_l) = n, an exact fit, certified */
  inst_t in;
  inst_make(&in, &rng, 2, 3, 45, 2, 20, 5, NSLM_LOSS_SQUARED, 1.0, 0);
  nslm_params *t, *out;
  ck_assert_int_eq(nslm_params_create(&t, in.net), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&out, in.net), NSLM_OK);
  random_params(&rng, &in, t);
  size_t rank = 0;
  int cert = -1;
  double gn = -1;
  ck_assert_int_eq(nslm_global_minimize(in.net, t, in.data, in.loss, NULL, out, &rank, &cert, &gn), NSLM_OK);
  ck_assert_uint_eq(rank, ref_rank(&in, t, 2));
  ck_assert_uint_eq(rank, 20);
  ck_assert_int_eq(cert, 1);
  check_inner_kept(&in, t, out);
  /* outputs equal Y up to cond(A_l) eps: squared residual ~1e-24 */
  ck_assert_double_le(ref_risk(&in, out), 1e-16);
  /* descent from a random Theta to this global minimizer ends at one */
  nslm_params *t2;
  ck_assert_int_eq(nslm_params_create(&t2, in.net), NSLM_OK);
  random_params(&rng, &in, t2);
  nslm_construct_opts *o = opts_mode(NSLM_COMPRESS_JOINT);
  size_t needed[2];
  int fits;
  ck_assert_int_eq(nslm_connect_widths(in.net, t2, out, in.data, NULL, o, needed, 2, &fits), NSLM_OK);
  ck_assert_int_eq(fits, 1); /* 20 + 20 <= 45 */
  nslm_path *path;
  double c;
  ck_assert_int_eq(nslm_descent(in.net, t2, out, in.data, in.loss, NULL, o, &path, &c), NSLM_OK);
  pathcheck_t pc;
  check_path(&in, path, &pc);
  ck_assert_double_le(pc.max_increase, CONST_TOL);
  ck_assert_double_le(pc.l_end, 1e-16); /* a global minimizer: L = 0 */
  ck_assert_double_ge(pc.l_start, 1.0);
  nslm_path_destroy(path);
  nslm_construct_opts_destroy(o);
  inst_free(&in);
  nslm_params_destroy(t);
  nslm_params_destroy(out);
  nslm_params_destroy(t2);
  /* narrow last layer: rank p_l < n, least squares, not certified, and
   * the normal equations hold (naive gradient) */
  inst_make(&in, &rng, 1, 3, 6, 2, 20, 1, NSLM_LOSS_SQUARED, 1.0, 0);
  ck_assert_int_eq(nslm_params_create(&t, in.net), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&out, in.net), NSLM_OK);
  random_params(&rng, &in, t);
  ck_assert_int_eq(nslm_global_minimize(in.net, t, in.data, in.loss, NULL, out, &rank, &cert, &gn), NSLM_OK);
  ck_assert_uint_eq(rank, ref_rank(&in, t, 1));
  ck_assert_uint_lt(rank, 20);
  ck_assert_int_eq(cert, 0);
  double gref = ref_grad_norm(&in, out);
  /* least squares solved by SVD: gradient ~ eps |A|^2 |residual| */
  ck_assert_double_le(gref, 1e-8);
  ck_assert_double_le(gn, 1e-8);
  ck_assert_double_le(ref_risk(&in, out), ref_risk(&in, t));
  nslm_params_destroy(t);
  nslm_params_destroy(out);
  inst_free(&in);
}
END_TEST

START_TEST(global_minimizer_other_losses) {
  nslmt_rng rng;
  nslmt_seed(&rng, 22);
  static const int losses[] = {NSLM_LOSS_ABSOLUTE, NSLM_LOSS_HUBER, NSLM_LOSS_LOGISTIC,
                               NSLM_LOSS_LOGISTIC_PAPER, NSLM_LOSS_HINGE, NSLM_LOSS_SOFTMAX_CE,
                               LOSS_CALLBACK_TEST};
  for (size_t li = 0; li < sizeof losses / sizeof *losses; li++) {
    for (int wide = 0; wide <= 1; wide++) {
      inst_t in;
      size_t n = 12, p = wide ? 16 : 5;
      inst_make(&in, &rng, 2, 3, p, 3, n, 4 + (int)li, losses[li], 1.0, 0);
      nslm_params *t, *out;
      ck_assert_int_eq(nslm_params_create(&t, in.net), NSLM_OK);
      ck_assert_int_eq(nslm_params_create(&out, in.net), NSLM_OK);
      random_params(&rng, &in, t);
      if (losses[li] == NSLM_LOSS_LOGISTIC_PAPER) scale_outputs(&in, t, 0.5);
      size_t rank;
      int cert;
      double gn;
      ck_assert_int_eq(nslm_global_minimize(in.net, t, in.data, in.loss, NULL, out, &rank, &cert, &gn),
                       NSLM_OK);
      check_inner_kept(&in, t, out);
      double l0 = ref_risk(&in, t), l1 = ref_risk(&in, out);
      ck_assert_msg(l1 <= l0 + 1e-12 * fmax(1.0, l0), "loss %d: %g > %g", losses[li], l1, l0);
      ck_assert_uint_eq(rank, ref_rank(&in, t, 2));
      if (wide) {
        ck_assert_uint_eq(rank, n);
        ck_assert_msg(cert == 1, "loss %d: not certified (grad %g, risk %g)", losses[li], gn, l1);
      } else {
        ck_assert_int_eq(cert, 0);
      }
      int smooth = losses[li] != NSLM_LOSS_ABSOLUTE && losses[li] != NSLM_LOSS_HINGE;
      if (smooth) {
        /* converged: the reported and the naive gradient agree, and are
         * small against the tolerance 1e-9 max(1, L) (the naive one is a
         * finite difference: 1e-6 slack) */
        double gref = ref_grad_norm(&in, out);
        ck_assert_double_le(fabs(gref - gn), 1e-6 * fmax(1.0, gn));
        if (cert) ck_assert_double_le(gn, 1e-6 * fmax(1.0, l1));
      } else if (wide) {
        /* the exact per-sample minimizers: zero loss */
        ck_assert_double_le(l1, 1e-12);
      }
      nslm_params_destroy(t);
      nslm_params_destroy(out);
      inst_free(&in);
    }
  }
}
END_TEST

/* ---------------------------------------------------------------------
 * The penalized objective
 * ------------------------------------------------------------------- */

START_TEST(penalized_report_matches_reference) {
  nslmt_rng rng;
  nslmt_seed(&rng, 23);
  inst_t in;
  inst_make(&in, &rng, 2, 3, 24, 1, 6, 1, NSLM_LOSS_SQUARED, 1.0, 1);
  nslm_params *t, *g;
  ck_assert_int_eq(nslm_params_create(&t, in.net), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&g, in.net), NSLM_OK);
  random_params(&rng, &in, t);
  random_params(&rng, &in, g);
  /* Gamma's first layer 10x larger: r(Gamma-bar's inner layers) >
   * r(Theta-bar), so the bridge's first segment must raise L + lambda r */
  double *lg[3];
  get_layers(&in, g, lg);
  for (size_t i = 0; i < 24 * 3; i++) lg[0][i] *= 10.0;
  nslm_params_set_layer(g, 0, 24, 3, lg[0], 3, 1);
  free_layers(&in, lg);
  /* a loose constraint (a_r = b_r = 1e-3): JOINT is never refused */
  nslm_constraint_destroy(in.con);
  in.a_r = in.b_r = 1e-3;
  ck_assert_int_eq(nslm_constraint_create(&in.con, in.a_r, in.b_r, in.q), NSLM_OK);
  nslm_construct_opts *o = opts_mode(NSLM_COMPRESS_JOINT);
  nslm_path *path;
  ck_assert_int_eq(nslm_connect(in.net, t, g, in.data, in.con, o, &path), NSLM_OK);
  size_t S = nslm_path_num_segments(path), K = 4;
  double lambda = 100.0, rise[64];
  int flag[64];
  ck_assert_uint_le(S, 64);
  ck_assert_int_eq(nslm_penalized_report(in.net, path, in.data, in.loss, in.con, lambda, K, 1e-12,
                                         rise, flag, S), NSLM_OK);
  /* the same figures from the reference at the same local points */
  nslm_params *a, *b;
  ck_assert_int_eq(nslm_params_create(&a, in.net), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&b, in.net), NSLM_OK);
  int bridge_rises = 0;
  for (size_t s = 0; s < S; s++) {
    double *la[3], *lb[3], *lt[3], prev = 0, worst = 0;
    int kind;
    nslm_path_segment_kind(path, s, &kind);
    nslm_path_get_knot(path, s, a);
    nslm_path_get_knot(path, s + 1, b);
    get_layers(&in, a, la);
    get_layers(&in, b, lb);
    for (size_t j = 0; j <= 2; j++) lt[j] = malloc(in.widths[j + 1] * in.widths[j] * sizeof(double));
    for (size_t i = 0; i <= K; i++) {
      double u = (double)i / (double)K;
      for (size_t j = 0; j <= 2; j++)
        for (size_t e = 0; e < in.widths[j + 1] * in.widths[j]; e++)
          lt[j][e] = (1 - u) * la[j][e] + u * lb[j][e];
      double h = ref_risk_layers(&in, lt) + lambda * ref_r_layers(&in, lt);
      if (i > 0) worst = fmax(worst, (h - prev) / fmax(1.0, fabs(prev)));
      prev = h;
    }
    /* the points differ from the library's by the rounding of t: 1e-9 */
    ck_assert_msg(fabs(worst - rise[s]) <= 1e-9, "segment %zu: rise %g vs %g", s, rise[s], worst);
    ck_assert_int_eq(flag[s], rise[s] <= 1e-12);
    if (!flag[s] && worst > 1e-6) bridge_rises++;
    free_layers(&in, la);
    free_layers(&in, lb);
    for (size_t j = 0; j <= 2; j++) free(lt[j]);
  }
  /* the documented limitation is real: some segment raises L + lambda r */
  ck_assert_int_ge(bridge_rises, 1);
  nslm_params_destroy(a);
  nslm_params_destroy(b);
  nslm_path_destroy(path);
  nslm_construct_opts_destroy(o);
  nslm_params_destroy(t);
  nslm_params_destroy(g);
  inst_free(&in);
}
END_TEST

/* The side-by-side compressions under allocation failures in the
 * caller's thread: every failure is NOMEM with *out NULL (the second
 * thread is stopped, never left waiting), and the call succeeds once no
 * allocation fails.  (Injection is per thread: the second thread's own
 * allocations are not failed here.) */
START_TEST(parallel_connect_fails_cleanly) {
  nslmt_rng rng;
  nslmt_seed(&rng, 18);
  inst_t in;
  inst_make(&in, &rng, 2, 3, 30, 2, 8, 5, NSLM_LOSS_SQUARED, 1.0, 0);
  nslm_params *t, *g;
  ck_assert_int_eq(nslm_params_create(&t, in.net), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&g, in.net), NSLM_OK);
  random_params(&rng, &in, t);
  random_params(&rng, &in, g);
  nslm_construct_opts *o = opts_mode(NSLM_COMPRESS_JOINT);
  ck_assert_int_eq(nslm_construct_opts_set_int(o, NSLM_CONSTRUCT_PARALLEL, 2), NSLM_OK);
  ck_assert_int_eq(nslm_construct_opts_set_int(o, NSLM_CONSTRUCT_NUM_THREADS, 2), NSLM_OK);
  int sites = 0;
  for (long k = 0; k < 100000; k++) {
    nslm_path *path = (nslm_path *)&rng;
    nslmi_alloc_fail_after(k, 0);
    int st = nslm_connect(in.net, t, g, in.data, NULL, o, &path);
    long used = nslmi_alloc_count();
    nslmi_alloc_fail_after(-1, 0);
    if (k >= used) {
      ck_assert_int_eq(st, NSLM_OK);
      pathcheck_t pc;
      check_path(&in, path, &pc);
      ck_assert_double_le(pc.max_const_dev, CONST_TOL);
      nslm_path_destroy(path);
      break;
    }
    ck_assert_msg(st == NSLM_ERR_NOMEM, "allocation %ld: status %d (%s)", k, st, nslm_last_error());
    ck_assert_ptr_null(path);
    sites++;
  }
  ck_assert_int_ge(sites, 10);
  nslm_construct_opts_destroy(o);
  nslm_params_destroy(t);
  nslm_params_destroy(g);
  inst_free(&in);
}
END_TEST

int main(void) {
  Suite *s = suite_create("connect");
  TCase *tc = tcase_create("units");
  tcase_add_test(tc, block_predicates_and_active_units);
  tcase_add_test(tc, permutation_keeps_the_network);
  tcase_add_test(tc, relocation_is_constant_and_moves_off);
  suite_add_tcase(s, tc);
  tc = tcase_create("compress");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, compress_joint_prunes_exactly);
  tcase_add_test(tc, joint_width_is_the_rank);
  tcase_add_test(tc, compress_row_prunes_exactly);
  tcase_add_test(tc, compress_shared_prunes_exactly);
  suite_add_tcase(s, tc);
  tc = tcase_create("connect");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, connect_joint_property);
  tcase_add_test(tc, connect_row_property);
  tcase_add_test(tc, connect_shared_property);
  tcase_add_test(tc, theorem_width_suffices);
  tcase_add_test(tc, too_narrow_with_exact_numbers);
  tcase_add_test(tc, parallel_connect_fails_cleanly);
  suite_add_tcase(s, tc);
  tc = tcase_create("global");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, global_minimizer_squared);
  tcase_add_test(tc, global_minimizer_other_losses);
  tcase_add_test(tc, penalized_report_matches_reference);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
