/* test_path.c - path objects, structure-aware evaluation, certificates,
 * the descent cut, save/load.  Truth: the naive reference network of
 * tests/reference.c on parameter sets combined in plain loops here
 * (pathutil.c), exact identities, brute force, and numpy for the file
 * format. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "nslm.h"
#include "alloc.h"
#include "npz.h"
#include "path.h"
#include "path_eval.h"
#include "pathutil.h"
#include "support.h"
#include "testutil.h"

/* Relative error against a reference value. */
static double rel(double a, double b) {
  double s = fabs(b) > 1e-300 ? fabs(b) : 1e-300;
  return fabs(a - b) / s;
}

/* sum_i |l(0, y_i)|: the risk of the zero output, the SAMPLED
 * certificate's floor of its scale. */
static double null_abs(const pt_prob *P) {
  size_t m = P->w[P->l + 1];
  double *zero = calloc(m, sizeof *zero), s = 0;
  for (size_t i = 0; i < P->n; i++)
    s += fabs(nslmt_ref_loss(P->loss_kind, P->loss_param, m, zero, P->y + i * m));
  free(zero);
  return s;
}

/* ------------------------------------------------------------ object */

START_TEST(storage_is_changed_layers_only) {
  size_t w[] = {4, 6, 5, 3};
  pt_prob P;
  pt_prob_make(&P, 2, w, 7, NSLM_LOSS_SQUARED, NULL, 1);
  nslm_params *a = pt_params(&P, 11, 1.0), *b = pt_params(&P, 12, 1.0);
  size_t full = 6 * 4 + 5 * 6 + 3 * 5;
  nslm_path *path = NULL;
  ck_assert_int_eq(nslm_path_create(&path, P.net, a), NSLM_OK);
  ck_assert_uint_eq(nslm_path_num_knots(path), 1);
  ck_assert_uint_eq(nslm_path_num_segments(path), 0);
  ck_assert_uint_eq(nslm_path_stored_values(path), full);
  /* knot 1: layer 1 of b; knot 2: + layer 0 of b; knot 3 = knot 2. */
  nslm_params *k1 = pt_knot(&P, path, 0);
  double *l1 = pt_layer(b, 1), *l0 = pt_layer(b, 0);
  pt_set_layer(k1, 1, l1);
  ck_assert_int_eq(nslm_path_append(path, k1, NSLM_SEG_CONSTANT), NSLM_OK);
  ck_assert_uint_eq(nslm_path_stored_values(path), full + 30);
  pt_set_layer(k1, 0, l0);
  ck_assert_int_eq(nslm_path_append(path, k1, NSLM_SEG_CONVEX), NSLM_OK);
  ck_assert_uint_eq(nslm_path_stored_values(path), full + 30 + 24);
  ck_assert_int_eq(nslm_path_append(path, k1, NSLM_SEG_GENERAL), NSLM_OK);
  ck_assert_uint_eq(nslm_path_stored_values(path), full + 54);
  /* The internal append of changed layers only (the construction's door). */
  double *l2 = pt_layer(b, 2);
  const double *layers[3] = {NULL, NULL, l2};
  unsigned char changed[3] = {0, 0, 1};
  ck_assert_int_eq(nslmi_path_append_layers(path, layers, changed, NSLM_SEG_CONVEX), NSLM_OK);
  ck_assert_uint_eq(nslm_path_stored_values(path), full + 54 + 15);
  ck_assert_uint_eq(nslm_path_num_segments(path), 4);
  unsigned char mask[3];
  const unsigned char want[4][3] = {{0, 1, 0}, {1, 0, 0}, {0, 0, 0}, {0, 0, 1}};
  const int kinds[4] = {NSLM_SEG_CONSTANT, NSLM_SEG_CONVEX, NSLM_SEG_GENERAL, NSLM_SEG_CONVEX};
  for (size_t s = 0; s < 4; s++) {
    ck_assert_int_eq(nslm_path_segment_layers(path, s, mask, 3), NSLM_OK);
    ck_assert_mem_eq(mask, want[s], 3);
    int k;
    ck_assert_int_eq(nslm_path_segment_kind(path, s, &k), NSLM_OK);
    ck_assert_int_eq(k, kinds[s]);
  }
  /* Knots read back exactly; the last one is b. */
  nslm_params *last = pt_knot(&P, path, 4);
  ck_assert(nslm_params_equal(last, b));
  nslm_params *first = pt_knot(&P, path, 0);
  ck_assert(nslm_params_equal(first, a));
  /* Clone: same knots, kinds, storage. */
  nslm_path *cl = NULL, *rv = NULL;
  ck_assert_int_eq(nslm_path_clone(&cl, path), NSLM_OK);
  ck_assert_uint_eq(nslm_path_stored_values(cl), nslm_path_stored_values(path));
  for (size_t i = 0; i < 5; i++) {
    nslm_params *x = pt_knot(&P, path, i), *y = pt_knot(&P, cl, i);
    ck_assert(nslm_params_equal(x, y));
    nslm_params_destroy(x);
    nslm_params_destroy(y);
  }
  /* Reverse: knots backwards, segment s gets the kind and mask of S-1-s. */
  ck_assert_int_eq(nslm_path_set_nonincreasing(path, 1), NSLM_OK);
  ck_assert_int_eq(nslm_path_reverse(&rv, path), NSLM_OK);
  int claim = 7;
  ck_assert_int_eq(nslm_path_get_nonincreasing(rv, &claim), NSLM_OK);
  ck_assert_int_eq(claim, 0);
  for (size_t i = 0; i < 5; i++) {
    nslm_params *x = pt_knot(&P, path, 4 - i), *y = pt_knot(&P, rv, i);
    ck_assert(nslm_params_equal(x, y));
    nslm_params_destroy(x);
    nslm_params_destroy(y);
  }
  for (size_t s = 0; s < 4; s++) {
    int k;
    ck_assert_int_eq(nslm_path_segment_layers(rv, s, mask, 3), NSLM_OK);
    ck_assert_mem_eq(mask, want[3 - s], 3);
    ck_assert_int_eq(nslm_path_segment_kind(rv, s, &k), NSLM_OK);
    ck_assert_int_eq(k, kinds[3 - s]);
  }
  /* Extend: path + reverse(path) returns to a; claim: both must claim. */
  ck_assert_int_eq(nslm_path_extend(cl, rv), NSLM_OK);
  ck_assert_uint_eq(nslm_path_num_segments(cl), 8);
  nslm_params *end = pt_knot(&P, cl, 8);
  ck_assert(nslm_params_equal(end, a));
  /* A mismatch of the joining knots fails. */
  ck_assert_int_eq(nslm_path_extend(rv, rv), NSLM_ERR_INVALID); /* ends at a, starts at b */
  ck_assert_int_eq(nslm_path_extend(path, path), NSLM_ERR_INVALID);
  nslm_path_destroy(cl);
  nslm_path_destroy(rv);
  nslm_path_destroy(path);
  nslm_params_destroy(a);
  nslm_params_destroy(b);
  nslm_params_destroy(k1);
  nslm_params_destroy(last);
  nslm_params_destroy(first);
  nslm_params_destroy(end);
  free(l0);
  free(l1);
  free(l2);
  pt_prob_free(&P);
}
END_TEST

/* The construction's ownership-taking append: a new layer is kept without
 * a copy (the caller's pointer becomes NULL), a layer equal to the last
 * knot's is aliased (and freed), a NaN layer is refused with the caller
 * still owning it and the path unchanged. */
START_TEST(append_owned_takes_or_refuses) {
  size_t w[] = {4, 6, 5, 3};
  pt_prob P;
  pt_prob_make(&P, 2, w, 7, NSLM_LOSS_SQUARED, NULL, 1);
  nslm_params *a = pt_params(&P, 21, 1.0), *b = pt_params(&P, 22, 1.0);
  size_t full = 6 * 4 + 5 * 6 + 3 * 5;
  nslm_path *path = NULL;
  ck_assert_int_eq(nslm_path_create(&path, P.net, a), NSLM_OK);
  double *l1 = pt_layer(b, 1);
  double *buf = nslmi_malloc(30 * sizeof(double));
  memcpy(buf, l1, 30 * sizeof(double));
  double *kept = buf;
  ck_assert_int_eq(nslmi_path_append_owned(path, &buf, 1, NSLM_SEG_CONSTANT), NSLM_OK);
  ck_assert_ptr_null(buf);
  ck_assert_ptr_eq(nslmi_path_layer(path, 1, 1), kept);
  ck_assert_ptr_eq(nslmi_path_layer(path, 1, 0), nslmi_path_layer(path, 0, 0));
  ck_assert_uint_eq(nslm_path_stored_values(path), full + 30);
  ck_assert_int_eq(nslmi_path_changed(path, 0, 1), 1);
  ck_assert_int_eq(nslmi_path_changed(path, 0, 0), 0);
  /* the same values again: aliased, nothing stored */
  buf = nslmi_malloc(30 * sizeof(double));
  memcpy(buf, l1, 30 * sizeof(double));
  ck_assert_int_eq(nslmi_path_append_owned(path, &buf, 1, NSLM_SEG_CONVEX), NSLM_OK);
  ck_assert_ptr_null(buf);
  ck_assert_uint_eq(nslm_path_num_knots(path), 3);
  ck_assert_uint_eq(nslm_path_stored_values(path), full + 30);
  ck_assert_int_eq(nslmi_path_changed(path, 1, 1), 0);
  int kind;
  ck_assert_int_eq(nslm_path_segment_kind(path, 1, &kind), NSLM_OK);
  ck_assert_int_eq(kind, NSLM_SEG_CONVEX);
  /* NaN: refused, the caller keeps the buffer, the path is unchanged */
  buf = nslmi_malloc(30 * sizeof(double));
  memcpy(buf, l1, 30 * sizeof(double));
  buf[17] = NAN;
  nslmt_quiet_begin();
  ck_assert_int_eq(nslmi_path_append_owned(path, &buf, 1, NSLM_SEG_CONSTANT), NSLM_ERR_NONFINITE);
  ck_assert_int_eq(nslmt_quiet_end(), 0);
  ck_assert_ptr_nonnull(buf);
  ck_assert_uint_eq(nslm_path_num_knots(path), 3);
  ck_assert_uint_eq(nslm_path_stored_values(path), full + 30);
  /* a failing table allocation leaves the buffer with the caller too */
  buf[17] = 0.5;
  nslmi_alloc_fail_after(0, 1);
  int st = nslmi_path_append_owned(path, &buf, 1, NSLM_SEG_CONSTANT);
  nslmi_alloc_fail_after(-1, 0);
  if (st != NSLM_OK) { /* only when the table had to grow */
    ck_assert_int_eq(st, NSLM_ERR_NOMEM);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(nslm_path_num_knots(path), 3);
    nslmi_free(buf);
  } else {
    ck_assert_ptr_null(buf);
  }
  free(l1);
  nslm_path_destroy(path);
  nslm_params_destroy(a);
  nslm_params_destroy(b);
  pt_prob_free(&P);
}
END_TEST

START_TEST(extend_and_claims) {
  size_t w[] = {3, 4, 2};
  pt_prob P;
  pt_prob_make(&P, 1, w, 5, NSLM_LOSS_SQUARED, NULL, 2);
  nslm_params *a = pt_params(&P, 1, 1.0), *b = pt_params(&P, 2, 1.0), *c = pt_params(&P, 3, 1.0);
  nslm_path *p1, *p2, *single;
  ck_assert_int_eq(nslm_path_create(&p1, P.net, a), NSLM_OK);
  ck_assert_int_eq(nslm_path_append(p1, b, NSLM_SEG_GENERAL), NSLM_OK);
  ck_assert_int_eq(nslm_path_create(&p2, P.net, b), NSLM_OK);
  ck_assert_int_eq(nslm_path_append(p2, c, NSLM_SEG_CONVEX), NSLM_OK);
  ck_assert_int_eq(nslm_path_create(&single, P.net, a), NSLM_OK);
  ck_assert_int_eq(nslm_path_set_nonincreasing(p2, 1), NSLM_OK);
  /* An empty (one-knot) path takes the claim of what extends it. */
  ck_assert_int_eq(nslm_path_extend(single, p1), NSLM_OK);
  ck_assert_int_eq(nslm_path_extend(single, p2), NSLM_OK);
  int claim;
  ck_assert_int_eq(nslm_path_get_nonincreasing(single, &claim), NSLM_OK);
  ck_assert_int_eq(claim, 0);
  nslm_path *s2;
  ck_assert_int_eq(nslm_path_create(&s2, P.net, b), NSLM_OK);
  ck_assert_int_eq(nslm_path_extend(s2, p2), NSLM_OK);
  ck_assert_int_eq(nslm_path_get_nonincreasing(s2, &claim), NSLM_OK);
  ck_assert_int_eq(claim, 1);
  /* Extending by itself: a loop only when the ends agree. */
  nslm_path *loop;
  ck_assert_int_eq(nslm_path_create(&loop, P.net, a), NSLM_OK);
  ck_assert_int_eq(nslm_path_append(loop, b, NSLM_SEG_GENERAL), NSLM_OK);
  ck_assert_int_eq(nslm_path_append(loop, a, NSLM_SEG_GENERAL), NSLM_OK);
  ck_assert_int_eq(nslm_path_extend(loop, loop), NSLM_OK);
  ck_assert_uint_eq(nslm_path_num_segments(loop), 4);
  ck_assert_int_eq(nslm_path_set_segment_kind(loop, 3, NSLM_SEG_CONSTANT), NSLM_OK);
  int k;
  ck_assert_int_eq(nslm_path_segment_kind(loop, 3, &k), NSLM_OK);
  ck_assert_int_eq(k, NSLM_SEG_CONSTANT);
  nslm_path_destroy(loop);
  nslm_path_destroy(s2);
  nslm_path_destroy(single);
  nslm_path_destroy(p1);
  nslm_path_destroy(p2);
  nslm_params_destroy(a);
  nslm_params_destroy(b);
  nslm_params_destroy(c);
  pt_prob_free(&P);
}
END_TEST

/* A path of one knot: every t is that knot; certificates pass trivially. */
START_TEST(one_knot_path) {
  size_t w[] = {3, 5, 2};
  pt_prob P;
  pt_prob_make(&P, 1, w, 6, NSLM_LOSS_HUBER, NULL, 4);
  nslm_params *a = pt_params(&P, 1, 1.0);
  nslm_path *path;
  ck_assert_int_eq(nslm_path_create(&path, P.net, a), NSLM_OK);
  ck_assert_uint_eq(nslm_path_grid_size(path, 7), 1);
  double t = -1, risk, r, ut[3] = {0, 0.5, 1}, ur[3];
  nslm_constraint *con;
  ck_assert_int_eq(nslm_constraint_create(&con, 0.2, 0.1, 3.0), NSLM_OK);
  ck_assert_int_eq(nslm_path_eval_grid(path, P.net, P.data, P.loss, con, 7, 1, &t, &risk, &r, NULL,
                                       0, 0, NSLM_EVAL_STRUCTURED, NULL, NULL),
                   NSLM_OK);
  double ref = pt_ref_risk(&P, a, NULL);
  ck_assert_double_eq(t, 0.0);
  ck_assert_double_le(rel(risk, ref), 1e-12);
  ck_assert_double_le(rel(r, pt_ref_r(a, 0.2, 0.1, 3.0)), 1e-12);
  ck_assert_int_eq(nslm_path_eval(path, P.net, P.data, P.loss, NULL, 3, ut, ur, NULL, NULL, 0, 0,
                                  NSLM_EVAL_PLAIN, NULL, NULL),
                   NSLM_OK);
  for (int i = 0; i < 3; i++) ck_assert_double_le(rel(ur[i], ref), 1e-12);
  for (int kind = 0; kind < 2; kind++) {
    nslm_certificate *c = NULL;
    ck_assert_int_eq(nslm_path_certify(&c, path, P.net, P.data, P.loss, con, kind, 0, NULL, NULL), NSLM_OK);
    int ok;
    ck_assert_int_eq(nslm_certificate_passed(c, &ok), NSLM_OK);
    ck_assert_int_eq(ok, 1);
    double v;
    ck_assert_int_eq(nslm_certificate_get(c, NSLM_CERT_RISK_END, &v), NSLM_OK);
    ck_assert_double_le(rel(v, ref), 1e-12);
    ck_assert_uint_eq(nslm_certificate_num_segments(c), 0);
    nslm_certificate_destroy(c);
  }
  nslm_params *pt;
  ck_assert_int_eq(nslm_params_create(&pt, P.net), NSLM_OK);
  ck_assert_int_eq(nslm_path_point(path, 0.3, pt), NSLM_OK);
  ck_assert(nslm_params_equal(pt, a));
  nslm_params_destroy(pt);
  nslm_constraint_destroy(con);
  nslm_params_destroy(a);
  nslm_path_destroy(path);
  pt_prob_free(&P);
}
END_TEST

START_TEST(points_are_exact_at_knots) {
  size_t w[] = {3, 5, 4, 2};
  pt_prob P;
  pt_prob_make(&P, 2, w, 5, NSLM_LOSS_SQUARED, NULL, 3);
  nslm_params *k[5];
  for (int i = 0; i < 5; i++) k[i] = pt_params(&P, 100 + (uint64_t)i, 1.0);
  nslm_path *path;
  ck_assert_int_eq(nslm_path_create(&path, P.net, k[0]), NSLM_OK);
  for (int i = 1; i < 5; i++) ck_assert_int_eq(nslm_path_append(path, k[i], NSLM_SEG_GENERAL), NSLM_OK);
  nslm_params *pt;
  ck_assert_int_eq(nslm_params_create(&pt, P.net), NSLM_OK);
  /* S = 4: t = s/4 is exact in binary, so t S = s exactly. */
  for (int i = 0; i < 5; i++) {
    ck_assert_int_eq(nslm_path_point(path, i / 4.0, pt), NSLM_OK);
    ck_assert(nslm_params_equal(pt, k[i]));
  }
  /* Inside segment 2 at u = 0.3: (1 - u) a + u b computed here. */
  double t = (2 + 0.3) / 4.0, u = t * 4 - 2;
  ck_assert_int_eq(nslm_path_point(path, t, pt), NSLM_OK);
  nslm_params *ref = pt_interp(&P, k[2], k[3], u);
  for (size_t j = 0; j <= 2; j++) {
    double *x = pt_layer(pt, j), *y = pt_layer(ref, j);
    ck_assert_double_le(nslmt_relerr(x, y, w[j + 1] * w[j]), 0.0);
    free(x);
    free(y);
  }
  nslm_params_destroy(ref);
  nslm_params_destroy(pt);
  for (int i = 0; i < 5; i++) nslm_params_destroy(k[i]);
  nslm_path_destroy(path);
  pt_prob_free(&P);
}
END_TEST

/* ------------------------------------------------------------ evaluation */

/* A random path over the problem: segments changing one layer, several
 * layers, no layer, and an invisible-unit change (rows of Theta^0 for
 * units whose columns in Theta^1 are zero). */
static nslm_path *random_path(const pt_prob *P, uint64_t seed, nslm_params ***knots_out, size_t *nk) {
  nslmt_rng rng;
  nslmt_seed(&rng, seed);
  size_t l = P->l, S = 2 * (l + 1) + 4;
  nslm_params **k = calloc(S + 1, sizeof *k);
  k[0] = pt_params(P, seed, 1.0);
  /* Zero column 0 of Theta^1 in every knot so that unit 0 of layer 1 is
   * invisible: the invisible segment changes only row 0 of Theta^0. */
  double *l1 = pt_layer(k[0], 1);
  for (size_t r = 0; r < P->w[2]; r++) l1[r * P->w[1]] = 0.0;
  pt_set_layer(k[0], 1, l1);
  free(l1);
  size_t s = 0;
  nslm_path *path;
  ck_assert_int_eq(nslm_path_create(&path, P->net, k[0]), NSLM_OK);
  nslm_params *other = pt_params(P, seed + 1000, 1.0);
  while (s < S) {
    ck_assert_int_eq(nslm_params_clone(&k[s + 1], k[s]), NSLM_OK);
    size_t type = s % 4;
    if (type == 0 || type == 1) { /* one layer, then two layers */
      size_t j = nslmt_range(&rng, 0, l);
      for (size_t q = 0; q <= type; q++) {
        size_t jj = (j + q) % (l + 1);
        double *x = pt_layer(other, jj);
        if (jj == 1)
          for (size_t r = 0; r < P->w[2]; r++) x[r * P->w[1]] = 0.0;
        for (size_t i = 0; i < P->w[jj + 1] * P->w[jj]; i++) x[i] *= nslmt_normal(&rng);
        pt_set_layer(k[s + 1], jj, x);
        free(x);
      }
    } else if (type == 2) { /* invisible unit */
      double *x = pt_layer(k[s], 0);
      for (size_t c = 0; c < P->w[0]; c++) x[c] = nslmt_normal(&rng);
      pt_set_layer(k[s + 1], 0, x);
      free(x);
    } /* type 3: no change at all */
    ck_assert_int_eq(nslm_path_append(path, k[s + 1], (int)nslmt_range(&rng, 0, 2)), NSLM_OK);
    s++;
  }
  nslm_params_destroy(other);
  *knots_out = k;
  *nk = S + 1;
  return path;
}

static void free_knots(nslm_params **k, size_t nk) {
  for (size_t i = 0; i < nk; i++) nslm_params_destroy(k[i]);
  free(k);
}

/* Structure-aware and plain evaluation both equal the naive reference at
 * (1-u) a + u b to 1e-12 relative: the two differ from the reference only
 * by the rounding of the products and interpolations (~ depth * width *
 * eps ~ 1e-14 for these sizes). */
static void check_path_eval(const size_t *w, size_t l, const int *acts, int loss_kind,
                            uint64_t seed) {
  pt_prob P;
  pt_prob_make(&P, l, w, 9, loss_kind, acts, seed);
  nslm_params **knots;
  size_t nk;
  nslm_path *path = random_path(&P, seed * 7 + 1, &knots, &nk);
  size_t K = 5, N = nslm_path_grid_size(path, K), n = P.n;
  ck_assert_uint_eq(N, (nk - 1) * (K - 1) + 1);
  double *t = malloc(N * sizeof *t), *rs = malloc(N * sizeof *rs), *rp = malloc(N * sizeof *rp);
  double *r = malloc(N * sizeof *r), *ls = malloc(N * n * sizeof *ls), *lref = malloc(n * sizeof *lref);
  nslm_constraint *con;
  ck_assert_int_eq(nslm_constraint_create(&con, 0.7, 0.3, 1.5), NSLM_OK);
  ck_assert_int_eq(nslm_path_eval_grid(path, P.net, P.data, P.loss, con, K, N, t, rs, r, ls,
                                       (ptrdiff_t)n, 1, NSLM_EVAL_STRUCTURED, NULL, NULL),
                   NSLM_OK);
  ck_assert_int_eq(nslm_path_eval_grid(path, P.net, P.data, P.loss, NULL, K, N, NULL, rp, NULL,
                                       NULL, 0, 0, NSLM_EVAL_PLAIN, NULL, NULL),
                   NSLM_OK);
  ck_assert_double_eq(t[0], 0.0);
  ck_assert_double_eq(t[N - 1], 1.0);
  for (size_t i = 0; i < N; i++) {
    size_t s = i == 0 ? 0 : (i - 1) / (K - 1), q = i - s * (K - 1);
    double u = (double)q / (double)(K - 1);
    ck_assert_double_eq_tol(t[i], (s + u) / (double)(nk - 1), 1e-15);
    nslm_params *x = pt_interp(&P, knots[s], knots[s + 1], u);
    double ref = pt_ref_risk(&P, x, lref);
    ck_assert_msg(rel(rs[i], ref) <= 1e-12, "structured point %zu: %.17g vs %.17g", i, rs[i], ref);
    ck_assert_msg(rel(rp[i], ref) <= 1e-12, "plain point %zu: %.17g vs %.17g", i, rp[i], ref);
    ck_assert_double_le(nslmt_relerr(ls + i * n, lref, n), 1e-12);
    /* r: naive row norms of the same point (q = 1.5 powers: 1e-14). */
    ck_assert_double_le(rel(r[i], pt_ref_r(x, 0.7, 0.3, 1.5)), 1e-12);
    nslm_params_destroy(x);
  }
  /* User t's, shuffled: the same values as the grid (same (s, u) up to
   * the rounding of t S, which moves u by ~1e-16). */
  size_t M = 7;
  double ut[7] = {0.93, 0.0, 0.5, 1.0, 0.11, 0.5, 0.377};
  double ur[7];
  ck_assert_int_eq(nslm_path_eval(path, P.net, P.data, P.loss, NULL, M, ut, ur, NULL, NULL, 0, 0,
                                  NSLM_EVAL_STRUCTURED, NULL, NULL),
                   NSLM_OK);
  nslm_params *pt;
  ck_assert_int_eq(nslm_params_create(&pt, P.net), NSLM_OK);
  for (size_t i = 0; i < M; i++) {
    double ts = ut[i] * (double)(nk - 1);
    size_t s = (size_t)floor(ts);
    if (s >= nk - 1) s = nk - 2;
    nslm_params *x = pt_interp(&P, knots[s], knots[s + 1], ts - (double)s);
    ck_assert_msg(rel(ur[i], pt_ref_risk(&P, x, NULL)) <= 1e-12, "user t %g", ut[i]);
    nslm_params_destroy(x);
  }
  nslm_params_destroy(pt);
  nslm_constraint_destroy(con);
  free(t);
  free(rs);
  free(rp);
  free(r);
  free(ls);
  free(lref);
  free_knots(knots, nk);
  nslm_path_destroy(path);
  pt_prob_free(&P);
}

START_TEST(structured_equals_reference_relu) {
  size_t w[] = {4, 6, 5, 3};
  check_path_eval(w, 2, NULL, NSLM_LOSS_SQUARED, 5);
}
END_TEST

START_TEST(structured_equals_reference_mixed) {
  size_t w[] = {3, 5, 6, 4, 5, 2};
  int acts[] = {NSLM_ACT_TANH, NSLM_ACT_LEAKY_RELU, NSLM_ACT_SIGMOID, NSLM_ACT_RELU};
  check_path_eval(w, 4, acts, NSLM_LOSS_SOFTMAX_CE, 6);
  int acts2[] = {NSLM_ACT_POLY, NSLM_ACT_IDENTITY, NSLM_ACT_TANH, NSLM_ACT_RELU};
  check_path_eval(w, 4, acts2, NSLM_LOSS_HUBER, 7);
}
END_TEST

START_TEST(structured_equals_reference_depth1) {
  size_t w[] = {5, 8, 3};
  int acts[] = {NSLM_ACT_TANH};
  check_path_eval(w, 1, acts, NSLM_LOSS_LOGISTIC, 8);
}
END_TEST

/* A segment changing only Theta^l costs one evaluation of layers 0..l-1
 * and two of layer l, however many points: the outputs are interpolated. */
/* nslmi_support_product against a naive triple loop, on every pattern of
 * zeros the construction makes: none, zero rows, zero columns, a block, a
 * single entry, all zero; densities on both sides of the dense switch.
 * Tolerance: the naive sum and BLIS's differ only in the order of k
 * roundings, so |diff| <= 2 k eps sum_c |w_rc a_ci| (k <= 48 here). */
START_TEST(support_product_equals_naive) {
  nslmt_rng rng;
  nslmt_seed(&rng, 91);
  const size_t rows = 37, k = 48, n = 29;
  size_t widths[3] = {k, rows, 1};
  nslm_net *net;
  ck_assert_int_eq(nslm_net_create(&net, 1, widths), NSLM_OK);
  double *w = malloc(rows * k * sizeof *w), *a = malloc(k * n * sizeof *a);
  double *z = malloc(rows * n * sizeof *z);
  nslmt_fill(&rng, a, k * n, 1.0);
  nslmi_support sup;
  nslmi_support_ws ws = {NULL, 0};
  memset(&sup, 0, sizeof sup);
  for (int pat = 0; pat < 8; pat++) {
    nslmt_fill(&rng, w, rows * k, 1.0);
    for (size_t r = 0; r < rows; r++)
      for (size_t c = 0; c < k; c++) {
        int keep = 1;
        switch (pat) {
        case 1: keep = r % 3 == 0; break;                      /* zero rows */
        case 2: keep = c % 4 == 1; break;                      /* zero columns */
        case 3: keep = r >= 5 && r < 17 && c >= 20 && c < 31; break; /* a block */
        case 4: keep = r == 36 && c == 47; break;              /* one entry */
        case 5: keep = 0; break;                               /* all zero */
        case 6: keep = (r * 7 + c * 3) % 5 != 0; break;        /* scattered, dense */
        case 7: keep = r % 2 == 0 && c < 30; break;            /* just above half */
        }
        if (!keep) w[r * k + c] = 0.0;
      }
    ck_assert_int_eq(nslmi_support_of(&sup, w, rows, k), NSLM_OK);
    size_t nr = 0, nc = 0;
    for (size_t r = 0; r < rows; r++) {
      int nz = 0;
      for (size_t c = 0; c < k; c++) nz |= w[r * k + c] != 0.0;
      nr += nz;
      ck_assert_int_eq(sup.rmask[r], nz);
    }
    for (size_t c = 0; c < k; c++) {
      int nz = 0;
      for (size_t r = 0; r < rows; r++) nz |= w[r * k + c] != 0.0;
      nc += nz;
      ck_assert_int_eq(sup.cmask[c], nz);
    }
    ck_assert_uint_eq(sup.nr, nr);
    ck_assert_uint_eq(sup.nc, nc);
    for (size_t i = 0; i < rows * n; i++) z[i] = NAN;
    double flops = 0.0;
    ck_assert_int_eq(nslmi_support_product(net, &sup, 0, a, n, z, &flops, &ws), NSLM_OK);
    for (size_t r = 0; r < rows; r++)
      for (size_t i = 0; i < n; i++) {
        double ref = 0.0, mag = 0.0;
        for (size_t c = 0; c < k; c++) {
          ref += w[r * k + c] * a[c * n + i];
          mag += fabs(w[r * k + c] * a[c * n + i]);
        }
        ck_assert_msg(fabs(z[r * n + i] - ref) <= 2.0 * (double)k * DBL_EPSILON * mag,
                      "pattern %d: z[%zu,%zu] = %g, naive %g", pat, r, i, z[r * n + i], ref);
      }
    /* flops: the nonzero block's, or the dense product's above the switch */
    double block = 2.0 * (double)nr * (double)nc * (double)n, dense = 2.0 * rows * k * (double)n;
    ck_assert(flops == block || flops == dense || (nr * nc == 0 && flops == 0.0));
    ck_assert(flops <= dense);
    if ((double)(nr * nc) < NSLMI_SUPPORT_DENSE_FRACTION * (double)(rows * k)) ck_assert(flops == block);
  }
  nslmi_support_free(&sup);
  nslmi_support_ws_free(&ws);
  free(w);
  free(a);
  free(z);
  nslm_net_destroy(net);
}
END_TEST

START_TEST(convex_segment_costs_two_evaluations) {
  size_t w[] = {4, 6, 5, 3};
  pt_prob P;
  pt_prob_make(&P, 2, w, 8, NSLM_LOSS_SQUARED, NULL, 9);
  nslm_params *a = pt_params(&P, 1, 1.0), *b;
  ck_assert_int_eq(nslm_params_clone(&b, a), NSLM_OK);
  nslm_params *c = pt_params(&P, 2, 1.0);
  double *x = pt_layer(c, 2);
  pt_set_layer(b, 2, x);
  free(x);
  nslm_path *path;
  ck_assert_int_eq(nslm_path_create(&path, P.net, a), NSLM_OK);
  ck_assert_int_eq(nslm_path_append(path, b, NSLM_SEG_CONVEX), NSLM_OK);
  nslmi_path_evaluator ev;
  ck_assert_int_eq(nslmi_path_evaluator_init(&ev, path, P.net, P.data, P.loss, NULL, NSLM_EVAL_STRUCTURED), NSLM_OK);
  for (int i = 0; i <= 50; i++) {
    double risk;
    ck_assert_int_eq(nslmi_path_evaluate(&ev, 0, i / 50.0, &risk, NULL, NULL, NULL), NSLM_OK);
    nslm_params *pt = pt_interp(&P, a, b, i / 50.0);
    ck_assert_double_le(rel(risk, pt_ref_risk(&P, pt, NULL)), 1e-12);
    nslm_params_destroy(pt);
  }
  double n = (double)P.n;
  double want = 2 * n * (6 * 4 + 5 * 6) + 2 * (2 * n * 3 * 5);
  ck_assert_double_eq(ev.flops, want);
  ck_assert_uint_eq(ev.e, 2);
  nslmi_path_evaluator_free(&ev);
  nslm_path_destroy(path);
  nslm_params_destroy(a);
  nslm_params_destroy(b);
  nslm_params_destroy(c);
  pt_prob_free(&P);
}
END_TEST

static int cancel_after;
static int count_calls;
static double last_fraction;
static int progress_cb(double f, void *user) {
  ck_assert_ptr_eq(user, &cancel_after);
  ck_assert(f >= last_fraction && f <= 1.0);
  last_fraction = f;
  return ++count_calls >= cancel_after;
}

START_TEST(cancel_leaves_outputs) {
  size_t w[] = {3, 5, 2};
  pt_prob P;
  pt_prob_make(&P, 1, w, 6, NSLM_LOSS_SQUARED, NULL, 10);
  nslm_params **knots;
  size_t nk;
  nslm_path *path = random_path(&P, 3, &knots, &nk);
  size_t N = nslm_path_grid_size(path, 4);
  double *risk = malloc(N * sizeof *risk), *t = malloc(N * sizeof *t);
  for (size_t i = 0; i < N; i++) risk[i] = t[i] = -77.0;
  cancel_after = 3;
  count_calls = 0;
  last_fraction = 0;
  ck_assert_int_eq(nslm_path_eval_grid(path, P.net, P.data, P.loss, NULL, 4, N, t, risk, NULL, NULL,
                                       0, 0, NSLM_EVAL_STRUCTURED, progress_cb, &cancel_after),
                   NSLM_ERR_CANCELLED);
  ck_assert_int_eq(count_calls, 3);
  for (size_t i = 0; i < N; i++) ck_assert(risk[i] == -77.0 && t[i] == -77.0);
  /* Not cancelled: the callback sees every point, ending at 1. */
  cancel_after = 1 << 30;
  count_calls = 0;
  last_fraction = 0;
  ck_assert_int_eq(nslm_path_eval_grid(path, P.net, P.data, P.loss, NULL, 4, N, t, risk, NULL, NULL,
                                       0, 0, NSLM_EVAL_STRUCTURED, progress_cb, &cancel_after),
                   NSLM_OK);
  ck_assert_int_eq(count_calls, (int)N);
  ck_assert_double_eq(last_fraction, 1.0);
  /* Certificates stop too. */
  for (int kind = 0; kind < 2; kind++) {
    nslm_certificate *cert = (nslm_certificate *)&cert;
    cancel_after = 2;
    count_calls = 0;
    last_fraction = 0;
    ck_assert_int_eq(nslm_path_certify(&cert, path, P.net, P.data, P.loss, NULL, kind, 5, progress_cb,
                                       &cancel_after),
                     NSLM_ERR_CANCELLED);
    ck_assert_ptr_null(cert);
  }
  free(risk);
  free(t);
  free_knots(knots, nk);
  nslm_path_destroy(path);
  pt_prob_free(&P);
}
END_TEST

/* ------------------------------------------------------------ certificates */

/* A path like the construction's (l = 2, d = 4, p = 8, 8, m = 2; layer 1
 * ReLU, layer 2 tanh): units 0..3 active, 4..7 free at both layers.
 *   s0 CONSTANT  Theta^0 row 4 := 3 row 1          (unit 4 feeds a zero column)
 *   s1 CONSTANT  Theta^1 col 4 := col 1 / 3, col 1 := 0  (same pre-activations:
 *                relu(3z) = 3 relu(z), up to rounding)
 *   s2 CONSTANT  Theta^0 row 1 := 0                (unit 1 now feeds a zero column)
 *   s3 CONSTANT  Theta^2 cols 5..7 := random       (units 5..7 of layer 2 are dead)
 *   s4 CONVEX    Theta^2 := Gamma^2 (col 7 zero)   (only the last layer)
 *   s5 CONSTANT  Theta^0 row 6 := random           (unit 6 feeds a zero column)
 *   s6 CONSTANT  Theta^0 row 7 and Theta^1 row 7 := random (two layers; unit 7
 *                of layer 2 feeds the zero column 7 of Gamma^2) */
static nslm_path *construction_path(const pt_prob *P, uint64_t seed, size_t nseg) {
  nslmt_rng rng;
  nslmt_seed(&rng, seed);
  nslm_params *th = pt_params(P, seed, 1.0);
  double *L0 = pt_layer(th, 0), *L1 = pt_layer(th, 1), *L2 = pt_layer(th, 2);
  for (size_t r = 4; r < 8; r++)
    for (size_t c = 0; c < 4; c++) L0[r * 4 + c] = 0.0;
  for (size_t r = 0; r < 8; r++)
    for (size_t c = 0; c < 8; c++)
      if (r >= 4 || c >= 4) L1[r * 8 + c] = 0.0;
  for (size_t r = 0; r < 2; r++)
    for (size_t c = 4; c < 8; c++) L2[r * 8 + c] = 0.0;
  pt_set_layer(th, 0, L0);
  pt_set_layer(th, 1, L1);
  pt_set_layer(th, 2, L2);
  nslm_path *path;
  ck_assert_int_eq(nslm_path_create(&path, P->net, th), NSLM_OK);
  for (size_t s = 0; s < nseg; s++) {
    int kind = NSLM_SEG_CONSTANT;
    switch (s) {
    case 0:
      for (size_t c = 0; c < 4; c++) L0[4 * 4 + c] = 3.0 * L0[1 * 4 + c];
      break;
    case 1:
      for (size_t r = 0; r < 8; r++) {
        L1[r * 8 + 4] = L1[r * 8 + 1] / 3.0;
        L1[r * 8 + 1] = 0.0;
      }
      break;
    case 2:
      for (size_t c = 0; c < 4; c++) L0[1 * 4 + c] = 0.0;
      break;
    case 3:
      for (size_t r = 0; r < 2; r++)
        for (size_t c = 5; c < 8; c++) L2[r * 8 + c] = nslmt_normal(&rng);
      break;
    case 4:
      for (size_t i = 0; i < 16; i++) L2[i] = (i % 8 == 7) ? 0.0 : nslmt_normal(&rng) / 2;
      kind = NSLM_SEG_CONVEX;
      break;
    case 5:
      for (size_t c = 0; c < 4; c++) L0[6 * 4 + c] = nslmt_normal(&rng);
      break;
    case 6:
      for (size_t c = 0; c < 4; c++) L0[7 * 4 + c] = nslmt_normal(&rng);
      for (size_t c = 0; c < 8; c++) L1[7 * 8 + c] = nslmt_normal(&rng);
      break;
    }
    pt_set_layer(th, 0, L0);
    pt_set_layer(th, 1, L1);
    pt_set_layer(th, 2, L2);
    ck_assert_int_eq(nslm_path_append(path, th, kind), NSLM_OK);
  }
  free(L0);
  free(L1);
  free(L2);
  nslm_params_destroy(th);
  return path;
}

static void make_cprob(pt_prob *P, int loss_kind, uint64_t seed) {
  size_t w[] = {4, 8, 8, 2};
  int acts[] = {NSLM_ACT_RELU, NSLM_ACT_TANH};
  pt_prob_make(P, 2, w, 10, loss_kind, acts, seed);
}

static nslm_certificate *certify(const pt_prob *P, const nslm_path *path, const nslm_constraint *con,
                                 int kind) {
  nslm_certificate *c = NULL;
  ck_assert_int_eq(nslm_path_certify(&c, path, P->net, P->data, P->loss, con, kind, 9, NULL, NULL),
                   NSLM_OK);
  return c;
}

static int passed(const nslm_certificate *c) {
  int p = -1;
  ck_assert_int_eq(nslm_certificate_passed(c, &p), NSLM_OK);
  return p;
}

static double figure(const nslm_certificate *c, int what) {
  double v;
  ck_assert_int_eq(nslm_certificate_get(c, what, &v), NSLM_OK);
  return v;
}

START_TEST(construction_path_is_certified) {
  pt_prob P;
  make_cprob(&P, NSLM_LOSS_SQUARED, 20);
  nslm_path *path = construction_path(&P, 21, 7);
  /* The segments' layer masks are what the comments say. */
  unsigned char mask[3];
  ck_assert_int_eq(nslm_path_segment_layers(path, 6, mask, 3), NSLM_OK);
  ck_assert(mask[0] && mask[1] && !mask[2]);
  for (int kind = 0; kind < 2; kind++) {
    nslm_certificate *c = certify(&P, path, NULL, kind);
    char line[1024];
    size_t need;
    ck_assert_int_eq(nslm_certificate_summary(c, line, sizeof line, &need), NSLM_OK);
    ck_assert_msg(passed(c), "%s", line);
    ck_assert_ptr_nonnull(strstr(line, "PASS"));
    ck_assert_uint_eq(nslm_certificate_num_segments(c), 7);
    for (size_t s = 0; s < 7; s++) {
      int k, ok;
      double m;
      ck_assert_int_eq(nslm_certificate_segment(c, s, &k, &m, &ok), NSLM_OK);
      ck_assert_int_eq(k, s == 4 ? NSLM_SEG_CONVEX : NSLM_SEG_CONSTANT);
      ck_assert_msg(ok && m <= 1e-13, "segment %zu measure %g", s, m);
    }
    /* The risks at the ends are the reference's. */
    nslm_params *a = pt_knot(&P, path, 0), *b = pt_knot(&P, path, 7);
    ck_assert_double_le(rel(figure(c, NSLM_CERT_RISK_START), pt_ref_risk(&P, a, NULL)), 1e-12);
    ck_assert_double_le(rel(figure(c, NSLM_CERT_RISK_END), pt_ref_risk(&P, b, NULL)), 1e-12);
    ck_assert_double_eq(figure(c, NSLM_CERT_FAILED_SEGMENTS), 0.0);
    if (kind == NSLM_CERT_ALGEBRAIC)
      /* Cost: at most one forward pass per segment plus the first knot. */
      ck_assert_double_le(figure(c, NSLM_CERT_RISK_EVALUATIONS), 8.0);
    nslm_params_destroy(a);
    nslm_params_destroy(b);
    nslm_certificate_destroy(c);
  }
  nslm_path_destroy(path);
  pt_prob_free(&P);
}
END_TEST

/* The SAMPLED measures are the relative deviation / second differences of
 * the reference risks at the same points, scaled by max sum |l_i|. */
START_TEST(sampled_measures_match_reference) {
  pt_prob P;
  make_cprob(&P, NSLM_LOSS_HUBER, 22);
  nslm_path *path = construction_path(&P, 23, 5);
  /* Segment 5: GENERAL change of every layer, labelled CONSTANT (planted). */
  nslm_params *last = pt_knot(&P, path, 5), *rnd = pt_params(&P, 99, 1.0);
  ck_assert_int_eq(nslm_path_append(path, rnd, NSLM_SEG_CONSTANT), NSLM_OK);
  nslm_certificate *c = certify(&P, path, NULL, NSLM_CERT_SAMPLED);
  ck_assert_int_eq(passed(c), 0);
  /* The scale: the largest sum |l_i| over every sampled point of the
   * path (9 per segment), or the zero output's risk if larger. */
  size_t K = 9, n = P.n;
  double L[9], scale = null_abs(&P), *ls = malloc(n * sizeof *ls);
  for (size_t sg = 0; sg < 6; sg++) {
    nslm_params *ka = pt_knot(&P, path, sg), *kb = pt_knot(&P, path, sg + 1);
    for (size_t i = 0; i < K; i++) {
      nslm_params *x = pt_interp(&P, ka, kb, (double)i / (K - 1));
      double v = pt_ref_risk(&P, x, ls), a = 0;
      if (sg == 5) L[i] = v;
      for (size_t q = 0; q < n; q++) a += fabs(ls[q]);
      scale = fmax(scale, a);
      nslm_params_destroy(x);
    }
    nslm_params_destroy(ka);
    nslm_params_destroy(kb);
  }
  double dev = 0;
  for (size_t i = 1; i < K; i++) dev = fmax(dev, fabs(L[i] - L[0]) / scale);
  int k, ok;
  double m;
  ck_assert_int_eq(nslm_certificate_segment(c, 5, &k, &m, &ok), NSLM_OK);
  ck_assert_int_eq(ok, 0);
  ck_assert_double_gt(dev, 1e-3);
  /* Differences of reference values: rounding 1e-15 relative to scale. */
  ck_assert_double_eq_tol(m, dev, 1e-12);
  nslm_certificate_destroy(c);
  /* ALGEBRAIC catches it too, with an O(1) residual. */
  c = certify(&P, path, NULL, NSLM_CERT_ALGEBRAIC);
  ck_assert_int_eq(passed(c), 0);
  ck_assert_int_eq(nslm_certificate_segment(c, 5, &k, &m, &ok), NSLM_OK);
  ck_assert_int_eq(ok, 0);
  ck_assert_double_gt(m, 1e-3);
  /* A tolerance above the measure lets it pass: tolerances are settable. */
  ck_assert_int_eq(nslm_certificate_set_tolerance(c, NSLM_TOL_IDENTITY, 10.0), NSLM_OK);
  ck_assert_int_eq(passed(c), 1);
  double tol;
  ck_assert_int_eq(nslm_certificate_get_tolerance(c, NSLM_TOL_IDENTITY, &tol), NSLM_OK);
  ck_assert_double_eq(tol, 10.0);
  ck_assert_int_eq(nslm_certificate_get_tolerance(c, NSLM_TOL_CONVEX, &tol), NSLM_OK);
  ck_assert_double_eq(tol, nslm_certificate_default_tolerance());
  free(ls);
  nslm_certificate_destroy(c);
  nslm_params_destroy(last);
  nslm_params_destroy(rnd);
  nslm_path_destroy(path);
  pt_prob_free(&P);
}
END_TEST

START_TEST(mislabelled_convex_is_caught) {
  pt_prob P;
  make_cprob(&P, NSLM_LOSS_SQUARED, 24);
  nslm_path *path = construction_path(&P, 25, 7);
  /* The bridge relabelled CONSTANT: outputs change, ALGEBRAIC fails. */
  ck_assert_int_eq(nslm_path_set_segment_kind(path, 4, NSLM_SEG_CONSTANT), NSLM_OK);
  nslm_certificate *c = certify(&P, path, NULL, NSLM_CERT_ALGEBRAIC);
  ck_assert_int_eq(passed(c), 0);
  ck_assert_double_eq(figure(c, NSLM_CERT_FAILED_SEGMENTS), 1.0);
  nslm_certificate_destroy(c);
  c = certify(&P, path, NULL, NSLM_CERT_SAMPLED);
  ck_assert_int_eq(passed(c), 0);
  nslm_certificate_destroy(c);
  /* A CONSTANT segment relabelled CONVEX still holds (affine and equal). */
  ck_assert_int_eq(nslm_path_set_segment_kind(path, 4, NSLM_SEG_CONVEX), NSLM_OK);
  ck_assert_int_eq(nslm_path_set_segment_kind(path, 6, NSLM_SEG_CONVEX), NSLM_OK);
  c = certify(&P, path, NULL, NSLM_CERT_ALGEBRAIC);
  ck_assert_int_eq(passed(c), 1);
  nslm_certificate_destroy(c);
  /* A visible change of Theta^0 labelled CONVEX: outputs are not affine. */
  nslm_params *k = pt_knot(&P, path, 7);
  double *x = pt_layer(k, 0);
  for (size_t i = 0; i < 4; i++) x[i] += 1.0; /* row 0: unit 0 feeds Theta^1 */
  pt_set_layer(k, 0, x);
  free(x);
  ck_assert_int_eq(nslm_path_append(path, k, NSLM_SEG_CONVEX), NSLM_OK);
  c = certify(&P, path, NULL, NSLM_CERT_ALGEBRAIC);
  ck_assert_int_eq(passed(c), 0);
  int ok;
  double m;
  ck_assert_int_eq(nslm_certificate_segment(c, 7, NULL, &m, &ok), NSLM_OK);
  ck_assert_int_eq(ok, 0);
  ck_assert_double_gt(m, 1e-6);
  nslm_certificate_destroy(c);
  nslm_params_destroy(k);
  nslm_path_destroy(path);
  pt_prob_free(&P);
}
END_TEST

/* A GENERAL segment labelled CONVEX whose reference risk is visibly not
 * convex at the sample points: SAMPLED reports the violation. */
START_TEST(nonconvex_sampled_is_caught) {
  size_t w[] = {3, 6, 2};
  int acts[] = {NSLM_ACT_TANH};
  int found = 0;
  for (uint64_t seed = 1; seed < 40 && !found; seed++) {
    pt_prob P;
    pt_prob_make(&P, 1, w, 6, NSLM_LOSS_SQUARED, acts, seed);
    nslm_params *a = pt_params(&P, seed, 3.0), *b = pt_params(&P, seed + 50, 3.0);
    double L[9], viol = 0, scale = null_abs(&P), ls[6];
    for (int i = 0; i < 9; i++) {
      nslm_params *x = pt_interp(&P, a, b, i / 8.0);
      L[i] = pt_ref_risk(&P, x, ls);
      double s = 0;
      for (int q = 0; q < 6; q++) s += fabs(ls[q]);
      scale = fmax(scale, s);
      nslm_params_destroy(x);
    }
    for (int i = 1; i < 8; i++) viol = fmax(viol, -(L[i - 1] - 2 * L[i] + L[i + 1]));
    if (viol / scale > 1e-3) {
      found = 1;
      nslm_path *path;
      ck_assert_int_eq(nslm_path_create(&path, P.net, a), NSLM_OK);
      ck_assert_int_eq(nslm_path_append(path, b, NSLM_SEG_CONVEX), NSLM_OK);
      nslm_certificate *c = certify(&P, path, NULL, NSLM_CERT_SAMPLED);
      ck_assert_int_eq(passed(c), 0);
      ck_assert_double_eq_tol(figure(c, NSLM_CERT_MAX_CONVEXITY_VIOLATION), viol / scale, 1e-12);
      nslm_certificate_destroy(c);
      c = certify(&P, path, NULL, NSLM_CERT_ALGEBRAIC);
      ck_assert_int_eq(passed(c), 0);
      nslm_certificate_destroy(c);
      nslm_path_destroy(path);
    }
    nslm_params_destroy(a);
    nslm_params_destroy(b);
    pt_prob_free(&P);
  }
  ck_assert(found);
}
END_TEST

START_TEST(nonmonotone_claim_is_caught) {
  pt_prob P;
  make_cprob(&P, NSLM_LOSS_SQUARED, 26);
  nslm_path *path = construction_path(&P, 27, 5); /* ends with the CONVEX bridge */
  nslm_params *a = pt_knot(&P, path, 4), *b = pt_knot(&P, path, 5);
  double la = pt_ref_risk(&P, a, NULL), lb = pt_ref_risk(&P, b, NULL);
  /* Back across the bridge: one of the two crossings increases. */
  ck_assert_int_eq(nslm_path_append(path, a, NSLM_SEG_CONVEX), NSLM_OK);
  ck_assert_int_eq(nslm_path_set_nonincreasing(path, 1), NSLM_OK);
  for (int kind = 0; kind < 2; kind++) {
    nslm_certificate *c = certify(&P, path, NULL, kind);
    ck_assert_int_eq(passed(c), 0);
    ck_assert_double_eq(figure(c, NSLM_CERT_CLAIMS_NONINCREASING), 1.0);
    ck_assert_double_gt(figure(c, NSLM_CERT_MAX_INCREASE), 1e-6);
    char line[1024];
    size_t need;
    ck_assert_int_eq(nslm_certificate_summary(c, line, sizeof line, &need), NSLM_OK);
    ck_assert_ptr_nonnull(strstr(line, "FAIL"));
    if (kind == NSLM_CERT_SAMPLED) {
      /* The increase is at least |la - lb| (the knots are sampled). */
      /* Squared loss: sum |l_i| = L, largest at the knots here. */
      double scale = fmax(fmax(la, lb), null_abs(&P));
      ck_assert_double_ge(figure(c, NSLM_CERT_MAX_INCREASE), fabs(la - lb) / scale * (1 - 1e-9) - 1e-12);
    }
    nslm_certificate_destroy(c);
  }
  /* Without the claim, both pass. */
  ck_assert_int_eq(nslm_path_set_nonincreasing(path, 0), NSLM_OK);
  for (int kind = 0; kind < 2; kind++) {
    nslm_certificate *c = certify(&P, path, NULL, kind);
    ck_assert_int_eq(passed(c), 1);
    nslm_certificate_destroy(c);
  }
  nslm_params_destroy(a);
  nslm_params_destroy(b);
  nslm_path_destroy(path);
  pt_prob_free(&P);
}
END_TEST

START_TEST(infeasible_knot_is_caught) {
  size_t w[] = {3, 5, 4, 2};
  pt_prob P;
  pt_prob_make(&P, 2, w, 6, NSLM_LOSS_SQUARED, NULL, 28);
  nslm_params *a = pt_params(&P, 1, 1.0);
  nslm_params *mid = pt_combine(&P, 10.0, a, 0.0, a, 0.0, NULL);
  nslm_params *end = pt_combine(&P, 0.5, a, 0.0, a, 0.0, NULL);
  double ra = pt_ref_r(a, 1.0, 1.0, 2.0);
  nslm_constraint *con;
  ck_assert_int_eq(nslm_constraint_create(&con, 0.5 / ra, 0.5 / ra, 2.0), NSLM_OK);
  nslm_path *path;
  ck_assert_int_eq(nslm_path_create(&path, P.net, a), NSLM_OK);
  ck_assert_int_eq(nslm_path_append(path, mid, NSLM_SEG_GENERAL), NSLM_OK);
  ck_assert_int_eq(nslm_path_append(path, end, NSLM_SEG_GENERAL), NSLM_OK);
  for (int kind = 0; kind < 2; kind++) {
    nslm_certificate *c = certify(&P, path, con, kind);
    ck_assert_int_eq(passed(c), 0);
    /* r is convex along segments for q >= 1: the max is the middle knot's. */
    double want = pt_ref_r(mid, 0.5 / ra, 0.5 / ra, 2.0);
    ck_assert_double_le(rel(figure(c, NSLM_CERT_MAX_R), want), 1e-12);
    ck_assert_double_gt(want, 4.9);
    ck_assert_double_eq(figure(c, NSLM_CERT_R_EXACT), 1.0);
    ck_assert_int_eq(nslm_certificate_set_tolerance(c, NSLM_TOL_FEASIBLE, 10.0), NSLM_OK);
    ck_assert_int_eq(passed(c), 1);
    nslm_certificate_destroy(c);
  }
  /* q < 1 and Theta^0 changing: r is sampled, and says so. */
  nslm_constraint *cq;
  ck_assert_int_eq(nslm_constraint_create(&cq, 0.0, 0.01, 0.5), NSLM_OK);
  nslm_certificate *c = certify(&P, path, cq, NSLM_CERT_ALGEBRAIC);
  ck_assert_double_eq(figure(c, NSLM_CERT_R_EXACT), 0.0);
  ck_assert_double_ge(figure(c, NSLM_CERT_MAX_R), pt_ref_r(mid, 0.0, 0.01, 0.5) * (1 - 1e-12));
  nslm_certificate_destroy(c);
  nslm_constraint_destroy(cq);
  nslm_constraint_destroy(con);
  nslm_path_destroy(path);
  nslm_params_destroy(a);
  nslm_params_destroy(mid);
  nslm_params_destroy(end);
  pt_prob_free(&P);
}
END_TEST

START_TEST(summary_size_query) {
  pt_prob P;
  make_cprob(&P, NSLM_LOSS_SQUARED, 29);
  nslm_path *path = construction_path(&P, 30, 3);
  nslm_certificate *c = certify(&P, path, NULL, NSLM_CERT_ALGEBRAIC);
  size_t need = 0, need2 = 0;
  ck_assert_int_eq(nslm_certificate_summary(c, NULL, 0, &need), NSLM_OK);
  ck_assert_uint_gt(need, 20);
  char *buf = malloc(need);
  ck_assert_int_eq(nslm_certificate_summary(c, buf, need, &need2), NSLM_OK);
  ck_assert_uint_eq(need2, need);
  ck_assert_uint_eq(strlen(buf), need - 1);
  ck_assert_ptr_nonnull(strstr(buf, "ALGEBRAIC PASS"));
  ck_assert_ptr_null(strchr(buf, '\n'));
  char small[8];
  ck_assert_int_eq(nslm_certificate_summary(c, small, sizeof small, &need2), NSLM_OK);
  ck_assert_str_eq(small, "ALGEBRA");
  int kind;
  ck_assert_int_eq(nslm_certificate_kind(c, &kind), NSLM_OK);
  ck_assert_int_eq(kind, NSLM_CERT_ALGEBRAIC);
  free(buf);
  nslm_certificate_destroy(c);
  nslm_path_destroy(path);
  pt_prob_free(&P);
}
END_TEST

/* ------------------------------------------------------------ descent */

static void check_descent(int loss_kind, uint64_t seed) {
  pt_prob P;
  make_cprob(&P, loss_kind, seed);
  nslm_path *path = construction_path(&P, seed + 1, 7);
  nslm_path *cut = NULL;
  double tc = -1, le = -1;
  ck_assert_int_eq(nslm_path_descent(&cut, path, P.net, P.data, P.loss, &tc, &le, NULL, NULL), NSLM_OK);
  /* Brute force over the CONVEX segment (4): 20001 points. */
  nslm_params *a = pt_knot(&P, path, 4), *b = pt_knot(&P, path, 5);
  double best = INFINITY, ubest = 0;
  const int G = 20000;
  for (int i = 0; i <= G; i++) {
    nslm_params *x = pt_interp(&P, a, b, (double)i / G);
    double v = pt_ref_risk(&P, x, NULL);
    if (v < best) {
      best = v;
      ubest = (double)i / G;
    }
    nslm_params_destroy(x);
  }
  double la = pt_ref_risk(&P, a, NULL), lb = pt_ref_risk(&P, b, NULL);
  double c = tc * 7 - 4;
  /* The minimum over the grid can only be above the true one; the cut is
   * at least as good up to the rounding of the risk (1e-13 relative). */
  ck_assert_msg(le <= best + 1e-12 * fabs(best) + 1e-300, "cut %.17g grid %.17g", le, best);
  ck_assert_double_le(le, fmin(la, lb) * (1 + 1e-12));
  /* Strict convexity here: the argmins agree to the grid's step. */
  ck_assert_msg(fabs(c - ubest) <= 1.5 / G, "c %.9f grid %.9f", c, ubest);
  /* The cut path: the first 5 knots, then the point at c. */
  size_t nk = nslm_path_num_knots(cut);
  ck_assert_uint_eq(nk, c > 0 ? 6 : 5);
  for (size_t i = 0; i < 5; i++) {
    nslm_params *x = pt_knot(&P, path, i), *y = pt_knot(&P, cut, i);
    ck_assert(nslm_params_equal(x, y));
    nslm_params_destroy(x);
    nslm_params_destroy(y);
  }
  nslm_params *e = pt_knot(&P, cut, nk - 1), *ref = pt_interp(&P, a, b, c);
  ck_assert_double_le(rel(pt_ref_risk(&P, e, NULL), le), 1e-12);
  ck_assert_double_le(rel(pt_ref_risk(&P, ref, NULL), le), 1e-9);
  int claim;
  ck_assert_int_eq(nslm_path_get_nonincreasing(cut, &claim), NSLM_OK);
  ck_assert_int_eq(claim, 1);
  /* Both certificates accept the cut path's nonincreasing claim. */
  for (int kind = 0; kind < 2; kind++) {
    nslm_certificate *cert = certify(&P, cut, NULL, kind);
    char line[1024];
    size_t need;
    ck_assert_int_eq(nslm_certificate_summary(cert, line, sizeof line, &need), NSLM_OK);
    ck_assert_msg(passed(cert), "%s", line);
    nslm_certificate_destroy(cert);
  }
  nslm_params_destroy(e);
  nslm_params_destroy(ref);
  nslm_params_destroy(a);
  nslm_params_destroy(b);
  nslm_path_destroy(cut);
  nslm_path_destroy(path);
  pt_prob_free(&P);
}

START_TEST(descent_squared) { check_descent(NSLM_LOSS_SQUARED, 40); }
END_TEST
START_TEST(descent_softmax) { check_descent(NSLM_LOSS_SOFTMAX_CE, 42); }
END_TEST
START_TEST(descent_huber) { check_descent(NSLM_LOSS_HUBER, 44); }
END_TEST
START_TEST(descent_logistic) { check_descent(NSLM_LOSS_LOGISTIC, 46); }
END_TEST

START_TEST(descent_ends_and_refusals) {
  size_t w[] = {3, 5, 2};
  pt_prob P;
  pt_prob_make(&P, 1, w, 6, NSLM_LOSS_SQUARED, NULL, 50);
  /* Y = 0: along Theta^1 -> Theta^1 / 2 the squared risk only decreases,
   * so c = 1 and the cut path is the whole path. */
  double zero[12] = {0};
  nslm_data *d0;
  ck_assert_int_eq(nslm_data_create(&d0, 6, 3, P.x, 3, 1, 2, zero, 2, 1), NSLM_OK);
  nslm_params *a = pt_params(&P, 1, 1.0), *b;
  ck_assert_int_eq(nslm_params_clone(&b, a), NSLM_OK);
  double *x = pt_layer(a, 1);
  for (size_t i = 0; i < 10; i++) x[i] /= 2;
  pt_set_layer(b, 1, x);
  free(x);
  nslm_path *path, *cut;
  ck_assert_int_eq(nslm_path_create(&path, P.net, a), NSLM_OK);
  ck_assert_int_eq(nslm_path_append(path, b, NSLM_SEG_CONVEX), NSLM_OK);
  double tc;
  ck_assert_int_eq(nslm_path_descent(&cut, path, P.net, d0, P.loss, &tc, NULL, NULL, NULL), NSLM_OK);
  ck_assert_double_eq(tc, 1.0);
  nslm_params *e = pt_knot(&P, cut, 1);
  ck_assert(nslm_params_equal(e, b));
  nslm_params_destroy(e);
  nslm_path_destroy(cut);
  /* The other way (b -> a) increases: c = 0, the cut path is one knot. */
  nslm_path *back;
  ck_assert_int_eq(nslm_path_reverse(&back, path), NSLM_OK);
  ck_assert_int_eq(nslm_path_descent(&cut, back, P.net, d0, P.loss, &tc, NULL, NULL, NULL), NSLM_OK);
  ck_assert_double_eq(tc, 0.0);
  ck_assert_uint_eq(nslm_path_num_knots(cut), 1);
  nslm_path_destroy(cut);
  /* Same with a non-squared loss (bisection on the slope). */
  nslm_loss *hub;
  ck_assert_int_eq(nslm_loss_create(&hub, NSLM_LOSS_HUBER, 0.5), NSLM_OK);
  ck_assert_int_eq(nslm_path_descent(&cut, path, P.net, d0, hub, &tc, NULL, NULL, NULL), NSLM_OK);
  ck_assert_double_eq(tc, 1.0);
  nslm_path_destroy(cut);
  ck_assert_int_eq(nslm_path_descent(&cut, back, P.net, d0, hub, &tc, NULL, NULL, NULL), NSLM_OK);
  ck_assert_double_eq(tc, 0.0);
  nslm_path_destroy(cut);
  nslm_loss_destroy(hub);
  /* Refusals: no CONVEX segment; a GENERAL segment before it. */
  nslm_path *p2;
  ck_assert_int_eq(nslm_path_create(&p2, P.net, a), NSLM_OK);
  ck_assert_int_eq(nslm_path_append(p2, b, NSLM_SEG_CONSTANT), NSLM_OK);
  cut = (nslm_path *)&cut;
  ck_assert_int_eq(nslm_path_descent(&cut, p2, P.net, d0, P.loss, NULL, NULL, NULL, NULL),
                   NSLM_ERR_UNSUPPORTED);
  ck_assert_ptr_null(cut);
  ck_assert_int_eq(nslm_path_set_segment_kind(p2, 0, NSLM_SEG_GENERAL), NSLM_OK);
  ck_assert_int_eq(nslm_path_append(p2, a, NSLM_SEG_CONVEX), NSLM_OK);
  ck_assert_int_eq(nslm_path_descent(&cut, p2, P.net, d0, P.loss, NULL, NULL, NULL, NULL),
                   NSLM_ERR_UNSUPPORTED);
  nslm_path_destroy(p2);
  nslm_path_destroy(back);
  nslm_path_destroy(path);
  nslm_params_destroy(a);
  nslm_params_destroy(b);
  nslm_data_destroy(d0);
  pt_prob_free(&P);
}
END_TEST

/* ------------------------------------------------------------ files */

static char *tmpfile_name(const char *name) {
  char *p = malloc(512);
  snprintf(p, 512, "%s/%s", nslmt_tmpdir(), name);
  return p;
}

START_TEST(save_load_roundtrip) {
  pt_prob P;
  make_cprob(&P, NSLM_LOSS_SQUARED, 60);
  nslm_path *path = construction_path(&P, 61, 7);
  ck_assert_int_eq(nslm_path_set_nonincreasing(path, 1), NSLM_OK);
  char *f = tmpfile_name("roundtrip.npz");
  ck_assert_int_eq(nslm_path_save(path, f), NSLM_OK);
  nslm_path *q = NULL;
  ck_assert_int_eq(nslm_path_load(&q, f), NSLM_OK);
  ck_assert_uint_eq(nslm_path_num_knots(q), 8);
  ck_assert_uint_eq(nslm_path_stored_values(q), nslm_path_stored_values(path));
  int claim;
  ck_assert_int_eq(nslm_path_get_nonincreasing(q, &claim), NSLM_OK);
  ck_assert_int_eq(claim, 1);
  for (size_t i = 0; i < 8; i++) {
    nslm_params *x = pt_knot(&P, path, i), *y = pt_knot(&P, q, i);
    /* Bit-exact: compare the bytes, not just the values. */
    for (size_t j = 0; j <= 2; j++) {
      double *u = pt_layer(x, j), *v = pt_layer(y, j);
      ck_assert_mem_eq(u, v, P.w[j + 1] * P.w[j] * sizeof(double));
      free(u);
      free(v);
    }
    nslm_params_destroy(x);
    nslm_params_destroy(y);
    if (i < 7) {
      int k1, k2;
      unsigned char m1[3], m2[3];
      ck_assert_int_eq(nslm_path_segment_kind(path, i, &k1), NSLM_OK);
      ck_assert_int_eq(nslm_path_segment_kind(q, i, &k2), NSLM_OK);
      ck_assert_int_eq(k1, k2);
      ck_assert_int_eq(nslm_path_segment_layers(path, i, m1, 3), NSLM_OK);
      ck_assert_int_eq(nslm_path_segment_layers(q, i, m2, 3), NSLM_OK);
      ck_assert_mem_eq(m1, m2, 3);
    }
  }
  /* A one-knot path too. */
  nslm_params *k0 = pt_knot(&P, path, 0);
  nslm_path *one, *one2;
  ck_assert_int_eq(nslm_path_create(&one, P.net, k0), NSLM_OK);
  ck_assert_int_eq(nslm_path_save(one, f), NSLM_OK);
  ck_assert_int_eq(nslm_path_load(&one2, f), NSLM_OK);
  ck_assert_uint_eq(nslm_path_num_knots(one2), 1);
  nslm_params *k0b = pt_knot(&P, one2, 0);
  ck_assert(nslm_params_equal(k0, k0b));
  nslm_params_destroy(k0);
  nslm_params_destroy(k0b);
  nslm_path_destroy(one);
  nslm_path_destroy(one2);
  nslm_path_destroy(q);
  nslm_path_destroy(path);
  free(f);
  pt_prob_free(&P);
}
END_TEST

/* numpy reads the file without libnslm: the documented header, the CRC-32
 * over the documented byte sequence, and knot 5 rebuilt from the changed
 * layers equals the knot saved by nslm_params_save. */
START_TEST(numpy_reads_the_format) {
  pt_prob P;
  make_cprob(&P, NSLM_LOSS_SQUARED, 62);
  nslm_path *path = construction_path(&P, 63, 7);
  char *f = tmpfile_name("numpy.npz"), *g = tmpfile_name("knot5.npz"), *py = tmpfile_name("check.py");
  ck_assert_int_eq(nslm_path_save(path, f), NSLM_OK);
  nslm_params *k5 = pt_knot(&P, path, 5);
  ck_assert_int_eq(nslm_params_save(k5, g), NSLM_OK);
  FILE *s = fopen(py, "w");
  fprintf(s,
          "import sys, zlib, numpy as np\n"
          "z = np.load(sys.argv[1])\n"
          "h = z['header']\n"
          "assert h.dtype == np.int64 and h[0] == int.from_bytes(b'NSLMPATH', 'little'), h\n"
          "assert h[1] == 1\n"
          "l = int(h[2]); w = [int(v) for v in h[3:3 + l + 2]]; N = int(h[l + 5])\n"
          "assert w == [4, 8, 8, 2] and N == 8 and len(h) == l + 7\n"
          "seg = z['segments']\n"
          "assert seg.shape == (N - 1, l + 2)\n"
          "data = h.astype('<i8').tobytes() + seg.astype('<i8').tobytes()\n"
          "cur = [z['knot_0_layer_%%d' %% j] for j in range(l + 1)]\n"
          "for j in range(l + 1): data += cur[j].astype('<f8').tobytes()\n"
          "knots = [list(cur)]\n"
          "for k in range(1, N):\n"
          "    for j in range(l + 1):\n"
          "        name = 'knot_%%d_layer_%%d' %% (k, j)\n"
          "        assert (name in z.files) == bool(seg[k - 1, 1 + j]), name\n"
          "        if seg[k - 1, 1 + j]:\n"
          "            cur[j] = z[name]; data += cur[j].astype('<f8').tobytes()\n"
          "    knots.append(list(cur))\n"
          "assert zlib.crc32(data) == int(z['checksum'][0]), 'crc'\n"
          "assert list(seg[:, 0]) == [1, 1, 1, 1, 2, 1, 1], seg\n"
          "ref = np.load(sys.argv[2])\n"
          "for j in range(l + 1): assert np.array_equal(knots[5][j], ref['layer_%%d' %% j]), j\n"
          "print('ok')\n");
  fclose(s);
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s %s", py, f, g);
  ck_assert_int_eq(pt_system(cmd), 0);
  nslm_params_destroy(k5);
  nslm_path_destroy(path);
  free(f);
  free(g);
  free(py);
  pt_prob_free(&P);
}
END_TEST

/* Hostile files made with numpy from a valid one, each with a correct
 * checksum (so that the specific check, not the CRC, must catch it). */
START_TEST(load_rejects_inconsistent_files) {
  pt_prob P;
  make_cprob(&P, NSLM_LOSS_SQUARED, 64);
  nslm_path *path = construction_path(&P, 65, 4);
  char *f = tmpfile_name("valid.npz"), *py = tmpfile_name("mutate.py");
  ck_assert_int_eq(nslm_path_save(path, f), NSLM_OK);
  FILE *s = fopen(py, "w");
  fprintf(s,
          "import sys, zlib, numpy as np\n"
          "src, dst, case = sys.argv[1], sys.argv[2], sys.argv[3]\n"
          "z = dict(np.load(src))\n"
          "h = z['header'].copy(); seg = z['segments'].copy(); l = int(h[2]); N = int(h[l + 5])\n"
          "def crc(z):\n"
          "    data = z['header'].astype('<i8').tobytes()\n"
          "    if 'segments' in z: data += z['segments'].astype('<i8').tobytes()\n"
          "    names = sorted([k for k in z if k.startswith('knot_')], key=lambda s: tuple(int(x) for x in s.split('_')[1::2]))\n"
          "    for k in names: data += np.asarray(z[k]).astype('<f8').tobytes()\n"
          "    return np.array([zlib.crc32(data)], dtype=np.int64)\n"
          "fix = True\n"
          "if case == 'magic': h[0] += 1\n"
          "elif case == 'version': h[1] = 2\n"
          "elif case == 'depth0': h[2] = 0\n"
          "elif case == 'depthbig': h[2] = 100000\n"
          "elif case == 'hlen': h = np.append(h, 0)\n"
          "elif case == 'width0': h[3] = 0\n"
          "elif case == 'widthbig': h[4] = 1 << 40\n"
          "elif case == 'knots0': h[l + 5] = 0\n"
          "elif case == 'knotsmore': h[l + 5] = N + 1\n"
          "elif case == 'claim': h[l + 6] = 5\n"
          "elif case == 'kind': seg[1, 0] = 3\n"
          "elif case == 'mask': seg[1, 1] = 2\n"
          "elif case == 'maskoff': seg[0, 1] = 0\n"
          "elif case == 'maskon':\n"
          "    seg[0, 3] = 1; z['knot_1_layer_2'] = z['knot_0_layer_2']\n"
          "elif case == 'missing': del z['knot_2_layer_1']\n"
          "elif case == 'extra': z['bonus'] = np.zeros(3)\n"
          "elif case == 'shape': z['knot_1_layer_0'] = np.zeros((3, 4))\n"
          "elif case == 'nan': a = z['knot_1_layer_0'].copy(); a[0, 0] = np.nan; z['knot_1_layer_0'] = a\n"
          "elif case == 'inttype': z['knot_0_layer_0'] = z['knot_0_layer_0'].astype(np.int64)\n"
          "elif case == 'nohdr': pass\n"
          "elif case == 'hdrfloat': h = h.astype(np.float64)\n"
          "elif case == 'segs1d': seg = seg.ravel()\n"
          "elif case == 'crc': fix = False; z['checksum'] = z['checksum'] + 1\n"
          "elif case == 'payload': fix = False; a = z['knot_2_layer_1'].copy(); a[0, 0] += 1; z['knot_2_layer_1'] = a\n"
          "elif case == 'nocrc': fix = False; del z['checksum']\n"
          "else: raise SystemExit('unknown case')\n"
          "z['header'] = h; z['segments'] = seg\n"
          "if fix and z['header'].dtype == np.int64 and z['segments'].ndim == 2: z['checksum'] = crc(z)\n"
          "if case == 'nohdr': del z['header']\n"
          "np.savez(dst, **z)\n");
  fclose(s);
  const char *cases[] = {"magic", "version", "depth0", "depthbig", "hlen", "width0", "widthbig",
                         "knots0", "knotsmore", "claim", "kind", "mask", "maskoff", "maskon",
                         "missing", "extra", "shape", "nan", "inttype", "nohdr", "hdrfloat",
                         "segs1d", "crc", "payload", "nocrc"};
  char *bad = tmpfile_name("bad.npz");
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s %s %s", py, f, bad, cases[i]);
    ck_assert_msg(pt_system(cmd) == 0, "python case %s", cases[i]);
    nslm_path *q = (nslm_path *)&q;
    nslmt_quiet_begin();
    int st = nslm_path_load(&q, bad);
    ck_assert_int_eq(nslmt_quiet_end(), 0);
    ck_assert_msg(st == NSLM_ERR_FORMAT, "case %s: %d (%s)", cases[i], st, nslm_last_error());
    ck_assert_ptr_null(q);
  }
  /* And the unmodified file, rewritten by numpy, still loads. */
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "/usr/bin/python3 -c \"import numpy as np, sys; np.savez('%s', **dict(np.load('%s')))\"",
           bad, f);
  ck_assert_int_eq(pt_system(cmd), 0);
  nslm_path *q;
  ck_assert_int_eq(nslm_path_load(&q, bad), NSLM_OK);
  nslm_path_destroy(q);
  nslm_path_destroy(path);
  free(f);
  free(py);
  free(bad);
  pt_prob_free(&P);
}
END_TEST

START_TEST(load_rejects_truncation_and_bitflips) {
  pt_prob P;
  make_cprob(&P, NSLM_LOSS_SQUARED, 66);
  nslm_path *path = construction_path(&P, 67, 3);
  char *f = tmpfile_name("whole.npz"), *g = tmpfile_name("part.npz");
  ck_assert_int_eq(nslm_path_save(path, f), NSLM_OK);
  FILE *in = fopen(f, "rb");
  fseek(in, 0, SEEK_END);
  long len = ftell(in);
  fseek(in, 0, SEEK_SET);
  unsigned char *buf = malloc((size_t)len);
  ck_assert_int_eq(fread(buf, 1, (size_t)len, in), (size_t)len);
  fclose(in);
  for (long cut = 0; cut < len; cut += (cut < 200 ? 7 : 61)) {
    FILE *o = fopen(g, "wb");
    fwrite(buf, 1, (size_t)cut, o);
    fclose(o);
    nslm_path *q = (nslm_path *)&q;
    ck_assert_msg(nslm_path_load(&q, g) == NSLM_ERR_FORMAT, "cut at %ld", cut);
    ck_assert_ptr_null(q);
  }
  /* Every flipped byte: either rejected, or (in padding) the same path. */
  for (long i = 0; i < len; i += 13) {
    buf[i] ^= 0x5a;
    FILE *o = fopen(g, "wb");
    fwrite(buf, 1, (size_t)len, o);
    fclose(o);
    buf[i] ^= 0x5a;
    nslm_path *q = NULL;
    int st = nslm_path_load(&q, g);
    ck_assert_msg(st == NSLM_ERR_FORMAT || st == NSLM_OK, "flip at %ld: %d", i, st);
    if (st == NSLM_OK) {
      ck_assert_uint_eq(nslm_path_num_knots(q), nslm_path_num_knots(path));
      for (size_t k = 0; k < nslm_path_num_knots(q); k++) {
        nslm_params *x = pt_knot(&P, path, k), *y = pt_knot(&P, q, k);
        ck_assert(nslm_params_equal(x, y));
        nslm_params_destroy(x);
        nslm_params_destroy(y);
      }
      nslm_path_destroy(q);
    }
  }
  nslm_path *none = (nslm_path *)&none;
  ck_assert_int_eq(nslm_path_load(&none, "/nonexistent/x.npz"), NSLM_ERR_IO);
  ck_assert_ptr_null(none);
  free(buf);
  free(f);
  free(g);
  nslm_path_destroy(path);
  pt_prob_free(&P);
}
END_TEST

START_TEST(save_is_atomic) {
  pt_prob P;
  make_cprob(&P, NSLM_LOSS_SQUARED, 68);
  nslm_path *p1 = construction_path(&P, 69, 2), *p2 = construction_path(&P, 70, 5);
  char *f = tmpfile_name("atomic.npz");
  ck_assert_int_eq(nslm_path_save(p1, f), NSLM_OK);
  /* Every file operation of the second save fails in turn: the first
   * file stays intact each time. */
  int failures = 0;
  for (long k = 0; k < 64; k++) {
    nslmi_io_fail_after(k, 0);
    int st = nslm_path_save(p2, f);
    nslmi_io_fail_after(-1, 0);
    nslm_path *q;
    ck_assert_int_eq(nslm_path_load(&q, f), NSLM_OK);
    size_t want = st == NSLM_OK ? 6 : 3;
    ck_assert_uint_eq(nslm_path_num_knots(q), want);
    nslm_path_destroy(q);
    if (st == NSLM_OK) break;
    ck_assert_int_eq(st, NSLM_ERR_IO);
    failures++;
    ck_assert_int_eq(nslm_path_save(p1, f), NSLM_OK);
  }
  ck_assert_int_ge(failures, 3);
  ck_assert_int_eq(nslm_path_save(p1, "/nonexistent-dir/x.npz"), NSLM_ERR_IO);
  nslm_path_destroy(p1);
  nslm_path_destroy(p2);
  free(f);
  pt_prob_free(&P);
}
END_TEST

/* ------------------------------------------------------------ allocation failures */

/* Each allocation of each call fails in turn: NSLM_ERR_NOMEM, *out NULL,
 * outputs untouched, nothing leaked (valgrind checks the last part). */
START_TEST(every_allocation_failure_is_clean) {
  pt_prob P;
  make_cprob(&P, NSLM_LOSS_HUBER, 71);
  nslm_path *path = construction_path(&P, 72, 7);
  char *f = tmpfile_name("alloc.npz");
  ck_assert_int_eq(nslm_path_save(path, f), NSLM_OK);
  nslm_params *k3 = pt_knot(&P, path, 3);
  int sites = 0;
  for (int op = 0; op < 9; op++) {
    for (long k = 0;; k++) {
      nslm_path *out = NULL, *cl = NULL;
      nslm_certificate *cert = NULL;
      double risk[8] = {-5, -5, -5, -5, -5, -5, -5, -5}, t[8] = {-5, -5, -5, -5, -5, -5, -5, -5};
      if (op == 6) ck_assert_int_eq(nslm_path_clone(&cl, path), NSLM_OK);
      nslmi_alloc_fail_after(k, 0);
      int st = NSLM_OK;
      switch (op) {
      case 0: st = nslm_path_clone(&out, path); break;
      case 1: st = nslm_path_reverse(&out, path); break;
      case 2: st = nslm_path_eval_grid(path, P.net, P.data, P.loss, NULL, 2, 8, t, risk, NULL, NULL, 0, 0, NSLM_EVAL_STRUCTURED, NULL, NULL); break;
      case 3: st = nslm_path_certify(&cert, path, P.net, P.data, P.loss, NULL, NSLM_CERT_ALGEBRAIC, 3, NULL, NULL); break;
      case 4: st = nslm_path_certify(&cert, path, P.net, P.data, P.loss, NULL, NSLM_CERT_SAMPLED, 3, NULL, NULL); break;
      case 5: st = nslm_path_descent(&out, path, P.net, P.data, P.loss, NULL, NULL, NULL, NULL); break;
      case 6: st = nslm_path_append(cl, k3, NSLM_SEG_GENERAL); break;
      case 7: st = nslm_path_load(&out, f); break;
      case 8: st = nslm_path_save(path, f); break;
      }
      long used = nslmi_alloc_count();
      nslmi_alloc_fail_after(-1, 0);
      if (k >= used) {
        ck_assert_int_eq(st, NSLM_OK);
        nslm_path_destroy(out);
        nslm_path_destroy(cl);
        nslm_certificate_destroy(cert);
        break;
      }
      ck_assert_msg(st == NSLM_ERR_NOMEM, "op %d allocation %ld: %d", op, k, st);
      ck_assert_ptr_null(out);
      ck_assert_ptr_null(cert);
      for (int i = 0; i < 8; i++) ck_assert(risk[i] == -5 && t[i] == -5);
      if (op == 6) {
        ck_assert_uint_eq(nslm_path_num_knots(cl), 8);
        nslm_path_destroy(cl);
      }
      sites++;
    }
  }
  ck_assert_int_ge(sites, 30);
  nslm_params_destroy(k3);
  nslm_path_destroy(path);
  free(f);
  pt_prob_free(&P);
}
END_TEST

int main(void) {
  Suite *s = suite_create("path");
  TCase *tc = tcase_create("object");
  tcase_add_test(tc, storage_is_changed_layers_only);
  tcase_add_test(tc, append_owned_takes_or_refuses);
  tcase_add_test(tc, extend_and_claims);
  tcase_add_test(tc, points_are_exact_at_knots);
  tcase_add_test(tc, one_knot_path);
  suite_add_tcase(s, tc);
  tc = tcase_create("eval");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, structured_equals_reference_relu);
  tcase_add_test(tc, structured_equals_reference_mixed);
  tcase_add_test(tc, structured_equals_reference_depth1);
  tcase_add_test(tc, convex_segment_costs_two_evaluations);
  tcase_add_test(tc, support_product_equals_naive);
  tcase_add_test(tc, cancel_leaves_outputs);
  suite_add_tcase(s, tc);
  tc = tcase_create("certificate");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, construction_path_is_certified);
  tcase_add_test(tc, sampled_measures_match_reference);
  tcase_add_test(tc, mislabelled_convex_is_caught);
  tcase_add_test(tc, nonconvex_sampled_is_caught);
  tcase_add_test(tc, nonmonotone_claim_is_caught);
  tcase_add_test(tc, infeasible_knot_is_caught);
  tcase_add_test(tc, summary_size_query);
  suite_add_tcase(s, tc);
  tc = tcase_create("descent");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, descent_squared);
  tcase_add_test(tc, descent_softmax);
  tcase_add_test(tc, descent_huber);
  tcase_add_test(tc, descent_logistic);
  tcase_add_test(tc, descent_ends_and_refusals);
  suite_add_tcase(s, tc);
  tc = tcase_create("files");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, save_load_roundtrip);
  tcase_add_test(tc, numpy_reads_the_format);
  tcase_add_test(tc, load_rejects_inconsistent_files);
  tcase_add_test(tc, load_rejects_truncation_and_bitflips);
  tcase_add_test(tc, save_is_atomic);
  suite_add_tcase(s, tc);
  tc = tcase_create("faults");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, every_allocation_failure_is_clean);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
