/* bad_path.c - bad-input cases of the path area: path objects,
 * evaluation, certificates, the descent cut, files, landscape tools and
 * plot writers.  Each failing call must return its documented status,
 * print nothing, leave its outputs (and the handles it was given)
 * untouched and leave a fresh detail message naming the function. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "badinput.h"
#include "nslm.h"
#include "testutil.h"

#define SENT 555.5
#define BUFLEN 64

static double buf[BUFLEN], buf2[BUFLEN];
static double val;
static int ival;
static size_t zval;
static unsigned char mask[BUFLEN];

static void reset_outputs(void) {
  for (int i = 0; i < BUFLEN; i++) {
    buf[i] = buf2[i] = SENT;
    mask[i] = 0x5A;
  }
  val = SENT;
  ival = 555;
  zval = 555;
}

static void check_outputs(int line) {
  for (int i = 0; i < BUFLEN; i++) {
    ck_assert_msg(buf[i] == SENT && buf2[i] == SENT, "line %d: output %d touched", line, i);
    ck_assert_msg(mask[i] == 0x5A, "line %d: mask %d touched", line, i);
  }
  ck_assert_msg(val == SENT && ival == 555 && zval == 555, "line %d: scalar output touched", line);
}

#define BAD NSLMT_BAD
#define QUIET NSLMT_QUIET

/* A small problem: d = 3, p = 4, m = 2, n = 5; a 2-segment path a -> b
 * (GENERAL) -> a (CONSTANT, a false claim, harmless here). */
typedef struct {
  nslm_net *net, *other;
  nslm_data *data, *data_m3;
  nslm_loss *loss;
  nslm_constraint *con;
  nslm_params *a, *b, *wrong;
  nslm_path *path;
} fixture;

static void make(fixture *F) {
  size_t w[] = {3, 4, 2}, w2[] = {3, 5, 2};
  ck_assert_int_eq(nslm_net_create(&F->net, 1, w), NSLM_OK);
  ck_assert_int_eq(nslm_net_create(&F->other, 1, w2), NSLM_OK);
  double x[15], y[10], y3[15];
  for (int i = 0; i < 15; i++) x[i] = y3[i] = sin(i + 1.0);
  for (int i = 0; i < 10; i++) y[i] = cos(i + 1.0);
  ck_assert_int_eq(nslm_data_create(&F->data, 5, 3, x, 3, 1, 2, y, 2, 1), NSLM_OK);
  ck_assert_int_eq(nslm_data_create(&F->data_m3, 5, 3, x, 3, 1, 3, y3, 3, 1), NSLM_OK);
  ck_assert_int_eq(nslm_loss_create(&F->loss, NSLM_LOSS_SQUARED, 0), NSLM_OK);
  ck_assert_int_eq(nslm_constraint_create(&F->con, 1, 1, 1), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&F->a, F->net), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&F->b, F->net), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&F->wrong, F->other), NSLM_OK);
  ck_assert_int_eq(nslm_params_init_random(F->a, 1, NSLM_INIT_NORMAL, 1), NSLM_OK);
  ck_assert_int_eq(nslm_params_init_random(F->b, 2, NSLM_INIT_NORMAL, 1), NSLM_OK);
  ck_assert_int_eq(nslm_path_create(&F->path, F->net, F->a), NSLM_OK);
  ck_assert_int_eq(nslm_path_append(F->path, F->b, NSLM_SEG_GENERAL), NSLM_OK);
  ck_assert_int_eq(nslm_path_append(F->path, F->a, NSLM_SEG_CONSTANT), NSLM_OK);
}

static void unmake(fixture *F) {
  nslm_path_destroy(F->path);
  nslm_params_destroy(F->a);
  nslm_params_destroy(F->b);
  nslm_params_destroy(F->wrong);
  nslm_constraint_destroy(F->con);
  nslm_loss_destroy(F->loss);
  nslm_data_destroy(F->data);
  nslm_data_destroy(F->data_m3);
  nslm_net_destroy(F->net);
  nslm_net_destroy(F->other);
}

/* The fixture's path is as made: 3 knots, kinds GENERAL, CONSTANT. */
static void path_unchanged(const fixture *F) {
  ck_assert_uint_eq(nslm_path_num_knots(F->path), 3);
  int k;
  ck_assert_int_eq(nslm_path_segment_kind(F->path, 0, &k), NSLM_OK);
  ck_assert_int_eq(k, NSLM_SEG_GENERAL);
  ck_assert_int_eq(nslm_path_segment_kind(F->path, 1, &k), NSLM_OK);
  ck_assert_int_eq(k, NSLM_SEG_CONSTANT);
  ck_assert_int_eq(nslm_path_get_nonincreasing(F->path, &k), NSLM_OK);
  ck_assert_int_eq(k, 0);
}

START_TEST(bad_path_objects) {
  fixture F;
  make(&F);
  nslm_path *p = (nslm_path *)&p;
  BAD("nslm_path_create", nslm_path_create(NULL, F.net, F.a), NSLM_ERR_INVALID);
  BAD("nslm_path_create", nslm_path_create(&p, NULL, F.a), NSLM_ERR_INVALID);
  ck_assert_ptr_null(p);
  BAD("nslm_path_create", nslm_path_create(&p, F.net, NULL), NSLM_ERR_INVALID);
  BAD("nslm_path_create", nslm_path_create(&p, F.net, F.wrong), NSLM_ERR_DIMENSION);
  BAD("nslm_path_append", nslm_path_append(NULL, F.a, NSLM_SEG_GENERAL), NSLM_ERR_INVALID);
  BAD("nslm_path_append", nslm_path_append(F.path, NULL, NSLM_SEG_GENERAL), NSLM_ERR_INVALID);
  BAD("nslm_path_append", nslm_path_append(F.path, F.a, 3), NSLM_ERR_INVALID);
  BAD("nslm_path_append", nslm_path_append(F.path, F.a, -1), NSLM_ERR_INVALID);
  BAD("nslm_path_append", nslm_path_append(F.path, F.wrong, NSLM_SEG_GENERAL), NSLM_ERR_DIMENSION);
  path_unchanged(&F);
  /* extend: widths, then the joining knots (F.path ends at a; a path from b). */
  nslm_path *other, *fromb;
  ck_assert_int_eq(nslm_path_create(&other, F.other, F.wrong), NSLM_OK);
  ck_assert_int_eq(nslm_path_create(&fromb, F.net, F.b), NSLM_OK);
  ck_assert_int_eq(nslm_path_append(fromb, F.a, NSLM_SEG_CONVEX), NSLM_OK);
  BAD("nslm_path_extend", nslm_path_extend(NULL, F.path), NSLM_ERR_INVALID);
  BAD("nslm_path_extend", nslm_path_extend(F.path, NULL), NSLM_ERR_INVALID);
  BAD("nslm_path_extend", nslm_path_extend(F.path, other), NSLM_ERR_DIMENSION);
  BAD("nslm_path_extend", nslm_path_extend(F.path, fromb), NSLM_ERR_INVALID);
  path_unchanged(&F);
  nslm_path_destroy(other);
  nslm_path_destroy(fromb);
  nslmt_quiet_begin();
  nslm_path_destroy(NULL);
  ck_assert_int_eq(nslmt_quiet_end(), 0);
  p = (nslm_path *)&p;
  BAD("nslm_path_clone", nslm_path_clone(NULL, F.path), NSLM_ERR_INVALID);
  BAD("nslm_path_clone", nslm_path_clone(&p, NULL), NSLM_ERR_INVALID);
  ck_assert_ptr_null(p);
  p = (nslm_path *)&p;
  BAD("nslm_path_reverse", nslm_path_reverse(NULL, F.path), NSLM_ERR_INVALID);
  BAD("nslm_path_reverse", nslm_path_reverse(&p, NULL), NSLM_ERR_INVALID);
  ck_assert_ptr_null(p);
  size_t z;
  QUIET(nslm_path_num_knots(NULL), z);
  ck_assert_uint_eq(z, 0);
  QUIET(nslm_path_num_segments(NULL), z);
  ck_assert_uint_eq(z, 0);
  QUIET(nslm_path_stored_values(NULL), z);
  ck_assert_uint_eq(z, 0);
  QUIET(nslm_path_grid_size(NULL, 5), z);
  ck_assert_uint_eq(z, 0);
  QUIET(nslm_path_grid_size(F.path, 1), z);
  ck_assert_uint_eq(z, 0);
  QUIET(nslm_path_grid_size(F.path, (size_t)-1), z);
  ck_assert_uint_eq(z, 0);
  /* Knots and segments. */
  nslm_params *k;
  ck_assert_int_eq(nslm_params_create(&k, F.net), NSLM_OK);
  BAD("nslm_path_get_knot", nslm_path_get_knot(NULL, 0, k), NSLM_ERR_INVALID);
  BAD("nslm_path_get_knot", nslm_path_get_knot(F.path, 0, NULL), NSLM_ERR_INVALID);
  BAD("nslm_path_get_knot", nslm_path_get_knot(F.path, 3, k), NSLM_ERR_RANGE);
  BAD("nslm_path_get_knot", nslm_path_get_knot(F.path, 0, F.wrong), NSLM_ERR_DIMENSION);
  BAD("nslm_path_point", nslm_path_point(NULL, 0.5, k), NSLM_ERR_INVALID);
  BAD("nslm_path_point", nslm_path_point(F.path, 0.5, NULL), NSLM_ERR_INVALID);
  BAD("nslm_path_point", nslm_path_point(F.path, NAN, k), NSLM_ERR_NONFINITE);
  BAD("nslm_path_point", nslm_path_point(F.path, INFINITY, k), NSLM_ERR_NONFINITE);
  BAD("nslm_path_point", nslm_path_point(F.path, 1.0000001, k), NSLM_ERR_DOMAIN);
  BAD("nslm_path_point", nslm_path_point(F.path, -0.1, k), NSLM_ERR_DOMAIN);
  BAD("nslm_path_point", nslm_path_point(F.path, 0.5, F.wrong), NSLM_ERR_DIMENSION);
  /* k is still all zeros: none of the failures wrote it. */
  double *layer = calloc(12, sizeof *layer), *zero = calloc(12, sizeof *zero);
  ck_assert_int_eq(nslm_params_get_layer(k, 0, 4, 3, layer, 3, 1), NSLM_OK);
  ck_assert_mem_eq(layer, zero, 12 * sizeof *layer);
  free(layer);
  free(zero);
  nslm_params_destroy(k);
  BAD("nslm_path_segment_kind", nslm_path_segment_kind(NULL, 0, &ival), NSLM_ERR_INVALID);
  BAD("nslm_path_segment_kind", nslm_path_segment_kind(F.path, 2, &ival), NSLM_ERR_RANGE);
  BAD("nslm_path_segment_kind", nslm_path_segment_kind(F.path, 0, NULL), NSLM_ERR_INVALID);
  BAD("nslm_path_segment_layers", nslm_path_segment_layers(NULL, 0, mask, 2), NSLM_ERR_INVALID);
  BAD("nslm_path_segment_layers", nslm_path_segment_layers(F.path, 5, mask, 2), NSLM_ERR_RANGE);
  BAD("nslm_path_segment_layers", nslm_path_segment_layers(F.path, 0, NULL, 2), NSLM_ERR_INVALID);
  BAD("nslm_path_segment_layers", nslm_path_segment_layers(F.path, 0, mask, 3), NSLM_ERR_DIMENSION);
  BAD("nslm_path_set_segment_kind", nslm_path_set_segment_kind(NULL, 0, 0), NSLM_ERR_INVALID);
  BAD("nslm_path_set_segment_kind", nslm_path_set_segment_kind(F.path, 2, 0), NSLM_ERR_RANGE);
  BAD("nslm_path_set_segment_kind", nslm_path_set_segment_kind(F.path, 0, 9), NSLM_ERR_INVALID);
  BAD("nslm_path_set_nonincreasing", nslm_path_set_nonincreasing(NULL, 1), NSLM_ERR_INVALID);
  BAD("nslm_path_set_nonincreasing", nslm_path_set_nonincreasing(F.path, 2), NSLM_ERR_INVALID);
  BAD("nslm_path_get_nonincreasing", nslm_path_get_nonincreasing(NULL, &ival), NSLM_ERR_INVALID);
  BAD("nslm_path_get_nonincreasing", nslm_path_get_nonincreasing(F.path, NULL), NSLM_ERR_INVALID);
  /* One-knot path: no segment at all. */
  nslm_path *one;
  ck_assert_int_eq(nslm_path_create(&one, F.net, F.a), NSLM_OK);
  BAD("nslm_path_segment_kind", nslm_path_segment_kind(one, 0, &ival), NSLM_ERR_RANGE);
  nslm_path_destroy(one);
  path_unchanged(&F);
  unmake(&F);
}
END_TEST

START_TEST(bad_path_evaluation) {
  fixture F;
  make(&F);
  double t[3] = {0, 0.5, 1}, tn[3] = {0, NAN, 1}, to[3] = {0, 1.5, 1};
  size_t N = nslm_path_grid_size(F.path, 3); /* 5 */
  const char *fe = "nslm_path_eval";
  BAD(fe, nslm_path_eval(NULL, F.net, F.data, F.loss, NULL, 3, t, buf, NULL, NULL, 0, 0, 0, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fe, nslm_path_eval(F.path, NULL, F.data, F.loss, NULL, 3, t, buf, NULL, NULL, 0, 0, 0, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fe, nslm_path_eval(F.path, F.net, NULL, F.loss, NULL, 3, t, buf, NULL, NULL, 0, 0, 0, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fe, nslm_path_eval(F.path, F.net, F.data, NULL, NULL, 3, t, buf, NULL, NULL, 0, 0, 0, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fe, nslm_path_eval(F.path, F.net, F.data, F.loss, NULL, 3, NULL, buf, NULL, NULL, 0, 0, 0, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fe, nslm_path_eval(F.path, F.net, F.data, F.loss, NULL, 3, t, NULL, NULL, NULL, 0, 0, 0, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fe, nslm_path_eval(F.path, F.net, F.data, F.loss, NULL, 3, t, buf, buf2, NULL, 0, 0, 0, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fe, nslm_path_eval(F.path, F.net, F.data, F.loss, NULL, 3, t, buf, NULL, NULL, 0, 0, 2, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fe, nslm_path_eval(F.path, F.net, F.data, F.loss, NULL, 3, tn, buf, NULL, NULL, 0, 0, 0, NULL, NULL), NSLM_ERR_NONFINITE);
  BAD(fe, nslm_path_eval(F.path, F.net, F.data, F.loss, NULL, 3, to, buf, NULL, NULL, 0, 0, 0, NULL, NULL), NSLM_ERR_DOMAIN);
  BAD(fe, nslm_path_eval(F.path, F.other, F.data, F.loss, NULL, 3, t, buf, NULL, NULL, 0, 0, 0, NULL, NULL), NSLM_ERR_DIMENSION);
  BAD(fe, nslm_path_eval(F.path, F.net, F.data_m3, F.loss, NULL, 3, t, buf, NULL, NULL, 0, 0, 0, NULL, NULL), NSLM_ERR_DIMENSION);
  /* losses (3 x 5) with overlapping strides. */
  BAD(fe, nslm_path_eval(F.path, F.net, F.data, F.loss, NULL, 3, t, buf, NULL, buf2, 1, 1, 0, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fe, nslm_path_eval(F.path, F.net, F.data, F.loss, NULL, 3, t, buf, NULL, buf2, 0, 1, 0, NULL, NULL), NSLM_ERR_INVALID);
  const char *fg = "nslm_path_eval_grid";
  BAD(fg, nslm_path_eval_grid(NULL, F.net, F.data, F.loss, NULL, 3, N, buf, buf2, NULL, NULL, 0, 0, 0, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fg, nslm_path_eval_grid(F.path, F.net, F.data, F.loss, NULL, 1, 1, buf, buf2, NULL, NULL, 0, 0, 0, NULL, NULL), NSLM_ERR_DOMAIN);
  BAD(fg, nslm_path_eval_grid(F.path, F.net, F.data, F.loss, NULL, 3, N + 1, buf, buf2, NULL, NULL, 0, 0, 0, NULL, NULL), NSLM_ERR_DIMENSION);
  BAD(fg, nslm_path_eval_grid(F.path, F.net, F.data, F.loss, NULL, 3, N, buf, NULL, NULL, NULL, 0, 0, 0, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fg, nslm_path_eval_grid(F.path, F.net, F.data, F.loss, NULL, 3, N, buf, buf2, buf2, NULL, 0, 0, 0, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fg, nslm_path_eval_grid(F.path, F.net, F.data, F.loss, NULL, 3, N, buf, buf2, NULL, NULL, 0, 0, -1, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fg, nslm_path_eval_grid(F.path, F.other, F.data, F.loss, NULL, 3, N, buf, buf2, NULL, NULL, 0, 0, 0, NULL, NULL), NSLM_ERR_DIMENSION);
  /* A loss outside its domain at the path's outputs: the failure is the
   * loss's, reported under the function's name. */
  nslm_loss *lp;
  ck_assert_int_eq(nslm_loss_create(&lp, NSLM_LOSS_LOGISTIC_PAPER, 0), NSLM_OK);
  nslm_params *big;
  ck_assert_int_eq(nslm_params_clone(&big, F.a), NSLM_OK);
  ck_assert_int_eq(nslm_params_init_random(big, 3, NSLM_INIT_NORMAL, 100.0), NSLM_OK);
  nslm_path *bp;
  ck_assert_int_eq(nslm_path_create(&bp, F.net, big), NSLM_OK);
  BAD(fe, nslm_path_eval(bp, F.net, F.data, lp, NULL, 3, t, buf, NULL, NULL, 0, 0, 0, NULL, NULL), NSLM_ERR_DOMAIN);
  nslm_path_destroy(bp);
  nslm_params_destroy(big);
  nslm_loss_destroy(lp);
  path_unchanged(&F);
  unmake(&F);
}
END_TEST

START_TEST(bad_certificates) {
  fixture F;
  make(&F);
  nslm_certificate *c = (nslm_certificate *)&c;
  const char *fc = "nslm_path_certify";
  BAD(fc, nslm_path_certify(NULL, F.path, F.net, F.data, F.loss, NULL, 0, 0, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fc, nslm_path_certify(&c, NULL, F.net, F.data, F.loss, NULL, 0, 0, NULL, NULL), NSLM_ERR_INVALID);
  ck_assert_ptr_null(c);
  BAD(fc, nslm_path_certify(&c, F.path, NULL, F.data, F.loss, NULL, 0, 0, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fc, nslm_path_certify(&c, F.path, F.net, NULL, F.loss, NULL, 0, 0, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fc, nslm_path_certify(&c, F.path, F.net, F.data, NULL, NULL, 0, 0, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fc, nslm_path_certify(&c, F.path, F.net, F.data, F.loss, NULL, 2, 0, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fc, nslm_path_certify(&c, F.path, F.net, F.data, F.loss, NULL, 1, 2, NULL, NULL), NSLM_ERR_DOMAIN);
  BAD(fc, nslm_path_certify(&c, F.path, F.other, F.data, F.loss, NULL, 1, 0, NULL, NULL), NSLM_ERR_DIMENSION);
  ck_assert_ptr_null(c);
  double d;
  QUIET(nslm_certificate_default_tolerance(), d);
  ck_assert_double_eq(d, 1e-10);
  ck_assert_double_eq(NSLM_CERT_DEFAULT_TOL, 1e-10);
  ck_assert_int_eq(nslm_path_certify(&c, F.path, F.net, F.data, F.loss, F.con, NSLM_CERT_SAMPLED, 3, NULL, NULL), NSLM_OK);
  nslmt_quiet_begin();
  nslm_certificate_destroy(NULL);
  ck_assert_int_eq(nslmt_quiet_end(), 0);
  size_t z;
  QUIET(nslm_certificate_num_segments(NULL), z);
  ck_assert_uint_eq(z, 0);
  BAD("nslm_certificate_kind", nslm_certificate_kind(NULL, &ival), NSLM_ERR_INVALID);
  BAD("nslm_certificate_kind", nslm_certificate_kind(c, NULL), NSLM_ERR_INVALID);
  BAD("nslm_certificate_get", nslm_certificate_get(NULL, 0, &val), NSLM_ERR_INVALID);
  BAD("nslm_certificate_get", nslm_certificate_get(c, 0, NULL), NSLM_ERR_INVALID);
  BAD("nslm_certificate_get", nslm_certificate_get(c, 10, &val), NSLM_ERR_INVALID);
  BAD("nslm_certificate_get", nslm_certificate_get(c, -1, &val), NSLM_ERR_INVALID);
  BAD("nslm_certificate_segment", nslm_certificate_segment(NULL, 0, &ival, &val, &ival), NSLM_ERR_INVALID);
  BAD("nslm_certificate_segment", nslm_certificate_segment(c, 2, &ival, &val, &ival), NSLM_ERR_RANGE);
  const char *ft = "nslm_certificate_set_tolerance";
  BAD(ft, nslm_certificate_set_tolerance(NULL, 0, 1e-3), NSLM_ERR_INVALID);
  BAD(ft, nslm_certificate_set_tolerance(c, 5, 1e-3), NSLM_ERR_INVALID);
  BAD(ft, nslm_certificate_set_tolerance(c, 0, NAN), NSLM_ERR_NONFINITE);
  BAD(ft, nslm_certificate_set_tolerance(c, 0, -1e-3), NSLM_ERR_DOMAIN);
  BAD("nslm_certificate_get_tolerance", nslm_certificate_get_tolerance(NULL, 0, &val), NSLM_ERR_INVALID);
  BAD("nslm_certificate_get_tolerance", nslm_certificate_get_tolerance(c, 0, NULL), NSLM_ERR_INVALID);
  BAD("nslm_certificate_get_tolerance", nslm_certificate_get_tolerance(c, 7, &val), NSLM_ERR_INVALID);
  double tol;
  ck_assert_int_eq(nslm_certificate_get_tolerance(c, 0, &tol), NSLM_OK);
  ck_assert_double_eq(tol, 1e-10);
  BAD("nslm_certificate_passed", nslm_certificate_passed(NULL, &ival), NSLM_ERR_INVALID);
  BAD("nslm_certificate_passed", nslm_certificate_passed(c, NULL), NSLM_ERR_INVALID);
  char text[8];
  memset(text, 'x', sizeof text);
  BAD("nslm_certificate_summary", nslm_certificate_summary(NULL, text, sizeof text, &zval), NSLM_ERR_INVALID);
  BAD("nslm_certificate_summary", nslm_certificate_summary(c, text, sizeof text, NULL), NSLM_ERR_INVALID);
  BAD("nslm_certificate_summary", nslm_certificate_summary(c, NULL, 5, &zval), NSLM_ERR_INVALID);
  for (size_t i = 0; i < sizeof text; i++) ck_assert_int_eq(text[i], 'x');
  nslm_certificate_destroy(c);
  unmake(&F);
}
END_TEST

START_TEST(bad_descent_and_files) {
  fixture F;
  make(&F);
  nslm_path *p = (nslm_path *)&p;
  const char *fd = "nslm_path_descent";
  BAD(fd, nslm_path_descent(NULL, F.path, F.net, F.data, F.loss, &val, &val, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fd, nslm_path_descent(&p, NULL, F.net, F.data, F.loss, &val, &val, NULL, NULL), NSLM_ERR_INVALID);
  ck_assert_ptr_null(p);
  BAD(fd, nslm_path_descent(&p, F.path, F.net, NULL, F.loss, &val, &val, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fd, nslm_path_descent(&p, F.path, F.net, F.data_m3, F.loss, &val, &val, NULL, NULL), NSLM_ERR_DIMENSION);
  /* GENERAL before any CONVEX segment; then no CONVEX segment at all. */
  BAD(fd, nslm_path_descent(&p, F.path, F.net, F.data, F.loss, &val, &val, NULL, NULL), NSLM_ERR_UNSUPPORTED);
  nslm_path *cst;
  ck_assert_int_eq(nslm_path_create(&cst, F.net, F.a), NSLM_OK);
  ck_assert_int_eq(nslm_path_append(cst, F.b, NSLM_SEG_CONSTANT), NSLM_OK);
  BAD(fd, nslm_path_descent(&p, cst, F.net, F.data, F.loss, &val, &val, NULL, NULL), NSLM_ERR_UNSUPPORTED);
  ck_assert_ptr_null(p);
  nslm_path_destroy(cst);
  /* Files. */
  char f[512], g[512];
  snprintf(f, sizeof f, "%s/bad-path.npz", nslmt_tmpdir());
  snprintf(g, sizeof g, "%s/not-a-path.npz", nslmt_tmpdir());
  BAD("nslm_path_save", nslm_path_save(NULL, f), NSLM_ERR_INVALID);
  BAD("nslm_path_save", nslm_path_save(F.path, NULL), NSLM_ERR_INVALID);
  BAD("nslm_path_save", nslm_path_save(F.path, "/nonexistent-dir/p.npz"), NSLM_ERR_IO);
  BAD("nslm_path_save", nslm_path_save(F.path, nslmt_tmpdir()), NSLM_ERR_IO); /* a directory */
  p = (nslm_path *)&p;
  BAD("nslm_path_load", nslm_path_load(NULL, f), NSLM_ERR_INVALID);
  BAD("nslm_path_load", nslm_path_load(&p, NULL), NSLM_ERR_INVALID);
  ck_assert_ptr_null(p);
  BAD("nslm_path_load", nslm_path_load(&p, "/nonexistent-dir/p.npz"), NSLM_ERR_IO);
  /* A parameter file is an .npz but not a path. */
  ck_assert_int_eq(nslm_params_save(F.a, g), NSLM_OK);
  BAD("nslm_path_load", nslm_path_load(&p, g), NSLM_ERR_FORMAT);
  FILE *o = fopen(g, "wb");
  fputs("not a zip at all", o);
  fclose(o);
  BAD("nslm_path_load", nslm_path_load(&p, g), NSLM_ERR_FORMAT);
  ck_assert_ptr_null(p);
  path_unchanged(&F);
  unmake(&F);
}
END_TEST

START_TEST(bad_landscape) {
  fixture F;
  make(&F);
  const char *fl = "nslm_landscape_line";
  BAD(fl, nslm_landscape_line(NULL, F.data, F.loss, NULL, F.a, F.b, 5, buf, buf2, NULL, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fl, nslm_landscape_line(F.net, NULL, F.loss, NULL, F.a, F.b, 5, buf, buf2, NULL, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fl, nslm_landscape_line(F.net, F.data, NULL, NULL, F.a, F.b, 5, buf, buf2, NULL, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fl, nslm_landscape_line(F.net, F.data, F.loss, NULL, NULL, F.b, 5, buf, buf2, NULL, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fl, nslm_landscape_line(F.net, F.data, F.loss, NULL, F.a, F.wrong, 5, buf, buf2, NULL, NULL, NULL), NSLM_ERR_DIMENSION);
  BAD(fl, nslm_landscape_line(F.net, F.data_m3, F.loss, NULL, F.a, F.b, 5, buf, buf2, NULL, NULL, NULL), NSLM_ERR_DIMENSION);
  BAD(fl, nslm_landscape_line(F.net, F.data, F.loss, NULL, F.a, F.b, 1, buf, buf2, NULL, NULL, NULL), NSLM_ERR_DOMAIN);
  BAD(fl, nslm_landscape_line(F.net, F.data, F.loss, NULL, F.a, F.b, 5, buf, NULL, NULL, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fl, nslm_landscape_line(F.net, F.data, F.loss, NULL, F.a, F.b, 5, buf, buf2, buf2, NULL, NULL), NSLM_ERR_INVALID);
  const char *fb = "nslm_landscape_barrier";
  double t[4] = {0, 0.2, 0.7, 1}, L[4] = {1, 2, 3, 4}, td[4] = {0, 0.5, 0.4, 1}, tz[4] = {1, 1, 1, 1};
  double Ln[4] = {1, NAN, 3, 4}, tn[4] = {0, 0.5, INFINITY, 1};
  BAD(fb, nslm_landscape_barrier(4, NULL, L, &val, &val), NSLM_ERR_INVALID);
  BAD(fb, nslm_landscape_barrier(4, t, NULL, &val, &val), NSLM_ERR_INVALID);
  BAD(fb, nslm_landscape_barrier(4, t, L, NULL, &val), NSLM_ERR_INVALID);
  BAD(fb, nslm_landscape_barrier(1, t, L, &val, &val), NSLM_ERR_DOMAIN);
  BAD(fb, nslm_landscape_barrier(4, td, L, &val, &val), NSLM_ERR_DOMAIN);
  BAD(fb, nslm_landscape_barrier(4, tz, L, &val, &val), NSLM_ERR_DOMAIN);
  BAD(fb, nslm_landscape_barrier(4, t, Ln, &val, &val), NSLM_ERR_NONFINITE);
  BAD(fb, nslm_landscape_barrier(4, tn, L, &val, &val), NSLM_ERR_NONFINITE);
  const char *fdir = "nslm_landscape_directions";
  nslm_params *d1, *d2;
  ck_assert_int_eq(nslm_params_clone(&d1, F.a), NSLM_OK);
  ck_assert_int_eq(nslm_params_clone(&d2, F.b), NSLM_OK);
  BAD(fdir, nslm_landscape_directions(NULL, 1, d1, d2), NSLM_ERR_INVALID);
  BAD(fdir, nslm_landscape_directions(F.a, 1, NULL, d2), NSLM_ERR_INVALID);
  BAD(fdir, nslm_landscape_directions(F.a, 1, d1, NULL), NSLM_ERR_INVALID);
  BAD(fdir, nslm_landscape_directions(F.a, 1, d1, d1), NSLM_ERR_INVALID);
  BAD(fdir, nslm_landscape_directions(d1, 1, d1, d2), NSLM_ERR_INVALID);
  BAD(fdir, nslm_landscape_directions(F.a, 1, d1, F.wrong), NSLM_ERR_DIMENSION);
  ck_assert(nslm_params_equal(d1, F.a) && nslm_params_equal(d2, F.b));
  const char *fp = "nslm_landscape_plane";
  BAD(fp, nslm_landscape_plane(NULL, F.data, F.loss, NULL, F.a, d1, d2, 2, 0, 1, 2, 0, 1, buf, 2, 1, NULL, 0, 0, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fp, nslm_landscape_plane(F.net, F.data, F.loss, NULL, NULL, d1, d2, 2, 0, 1, 2, 0, 1, buf, 2, 1, NULL, 0, 0, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fp, nslm_landscape_plane(F.net, F.data, F.loss, NULL, F.a, F.wrong, d2, 2, 0, 1, 2, 0, 1, buf, 2, 1, NULL, 0, 0, NULL, NULL), NSLM_ERR_DIMENSION);
  BAD(fp, nslm_landscape_plane(F.net, F.data, F.loss, NULL, F.a, d1, d2, 0, 0, 1, 2, 0, 1, buf, 2, 1, NULL, 0, 0, NULL, NULL), NSLM_ERR_DOMAIN);
  BAD(fp, nslm_landscape_plane(F.net, F.data, F.loss, NULL, F.a, d1, d2, 2, 0, NAN, 2, 0, 1, buf, 2, 1, NULL, 0, 0, NULL, NULL), NSLM_ERR_NONFINITE);
  BAD(fp, nslm_landscape_plane(F.net, F.data, F.loss, NULL, F.a, d1, d2, 2, 0, 1, 2, 0, 1, NULL, 2, 1, NULL, 0, 0, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fp, nslm_landscape_plane(F.net, F.data, F.loss, NULL, F.a, d1, d2, 2, 0, 1, 2, 0, 1, buf, 1, 1, NULL, 0, 0, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fp, nslm_landscape_plane(F.net, F.data, F.loss, NULL, F.a, d1, d2, 2, 0, 1, 2, 0, 1, buf, 2, 1, buf2, 2, 1, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fp, nslm_landscape_plane(F.net, F.data, F.loss, F.con, F.a, d1, d2, 2, 0, 1, 2, 0, 1, buf, 2, 1, buf2, 0, 0, NULL, NULL), NSLM_ERR_INVALID);
  const char *f3 = "nslm_landscape_plane3";
  BAD(f3, nslm_landscape_plane3(F.net, F.data, F.loss, NULL, F.a, F.b, NULL, 2, 0, 1, 2, 0, 1, buf, 2, 1, NULL, 0, 0, NULL, NULL), NSLM_ERR_INVALID);
  BAD(f3, nslm_landscape_plane3(F.net, F.data_m3, F.loss, NULL, F.a, F.b, d1, 2, 0, 1, 2, 0, 1, buf, 2, 1, NULL, 0, 0, NULL, NULL), NSLM_ERR_DIMENSION);
  BAD(f3, nslm_landscape_plane3(F.net, F.data, F.loss, NULL, F.a, F.b, d1, 2, 0, 1, 0, 0, 1, buf, 2, 1, NULL, 0, 0, NULL, NULL), NSLM_ERR_DOMAIN);
  BAD(f3, nslm_landscape_plane3(F.net, F.data, F.loss, NULL, F.a, F.b, d1, 2, 0, 1, 2, -INFINITY, 1, buf, 2, 1, NULL, 0, 0, NULL, NULL), NSLM_ERR_NONFINITE);
  nslm_params_destroy(d1);
  nslm_params_destroy(d2);
  unmake(&F);
}
END_TEST

START_TEST(bad_writers) {
  fixture F;
  make(&F);
  char f[512];
  snprintf(f, sizeof f, "%s/bad-plot", nslmt_tmpdir());
  double t[3] = {0, 0.5, 1}, L[3] = {1, 2, 3}, Ln[3] = {1, INFINITY, 3}, tw[3] = {0, 2, 3};
  const char *fns[2] = {"nslm_profile_write_csv", "nslm_profile_write_svg"};
  for (int w = 0; w < 2; w++) {
#define PROFILE(file, path, k, t, L, r) \
  (w ? nslm_profile_write_svg(file, path, k, t, L, r, "x") : nslm_profile_write_csv(file, path, k, t, L, r))
    BAD(fns[w], PROFILE(NULL, NULL, 3, t, L, NULL), NSLM_ERR_INVALID);
    BAD(fns[w], PROFILE(f, NULL, 3, NULL, L, NULL), NSLM_ERR_INVALID);
    BAD(fns[w], PROFILE(f, NULL, 3, t, NULL, NULL), NSLM_ERR_INVALID);
    BAD(fns[w], PROFILE(f, NULL, 0, t, L, NULL), NSLM_ERR_DOMAIN);
    BAD(fns[w], PROFILE(f, NULL, 3, t, Ln, NULL), NSLM_ERR_NONFINITE);
    BAD(fns[w], PROFILE(f, NULL, 3, t, L, Ln), NSLM_ERR_NONFINITE);
    BAD(fns[w], PROFILE(f, F.path, 3, tw, L, NULL), NSLM_ERR_DOMAIN);
    BAD(fns[w], PROFILE("/nonexistent-dir/p", NULL, 3, t, L, NULL), NSLM_ERR_IO);
#undef PROFILE
  }
  double v[4] = {1, 2, 3, 4}, vn[4] = {1, 2, NAN, 4}, marks[2] = {0, NAN};
  const char *fc = "nslm_plane_write_csv", *fs = "nslm_plane_write_svg";
  BAD(fc, nslm_plane_write_csv(NULL, 2, 0, 1, 2, 0, 1, v, 2, 1, NULL, 0, 0), NSLM_ERR_INVALID);
  BAD(fc, nslm_plane_write_csv(f, 2, 0, 1, 2, 0, 1, NULL, 2, 1, NULL, 0, 0), NSLM_ERR_INVALID);
  BAD(fc, nslm_plane_write_csv(f, 0, 0, 1, 2, 0, 1, v, 2, 1, NULL, 0, 0), NSLM_ERR_DOMAIN);
  BAD(fc, nslm_plane_write_csv(f, 2, 0, NAN, 2, 0, 1, v, 2, 1, NULL, 0, 0), NSLM_ERR_NONFINITE);
  BAD(fc, nslm_plane_write_csv(f, 2, 0, 1, 2, 0, 1, vn, 2, 1, NULL, 0, 0), NSLM_ERR_NONFINITE);
  BAD(fc, nslm_plane_write_csv(f, 2, 0, 1, 2, 0, 1, v, 2, 1, vn, 2, 1), NSLM_ERR_NONFINITE);
  BAD(fc, nslm_plane_write_csv("/nonexistent-dir/p", 2, 0, 1, 2, 0, 1, v, 2, 1, NULL, 0, 0), NSLM_ERR_IO);
  BAD(fs, nslm_plane_write_svg(NULL, 2, 0, 1, 2, 0, 1, v, 2, 1, 0, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fs, nslm_plane_write_svg(f, 2, 0, 1, 0, 0, 1, v, 2, 1, 0, NULL, NULL), NSLM_ERR_DOMAIN);
  BAD(fs, nslm_plane_write_svg(f, 2, 0, 1, 2, 0, 1, vn, 2, 1, 0, NULL, NULL), NSLM_ERR_NONFINITE);
  BAD(fs, nslm_plane_write_svg(f, 2, 0, 1, 2, 0, 1, v, 2, 1, 1, NULL, NULL), NSLM_ERR_INVALID);
  BAD(fs, nslm_plane_write_svg(f, 2, 0, 1, 2, 0, 1, v, 2, 1, 1, marks, NULL), NSLM_ERR_NONFINITE);
  BAD(fs, nslm_plane_write_svg(f, 2, 0, 1, 2, 0, 1, v, 2, 1, 5000, marks, NULL), NSLM_ERR_DOMAIN);
  BAD(fs, nslm_plane_write_svg("/nonexistent-dir/p", 2, 0, 1, 2, 0, 1, v, 2, 1, 0, NULL, NULL), NSLM_ERR_IO);
  /* Nothing was created by the failures. */
  ck_assert_int_ne(access(f, F_OK), 0);
  unmake(&F);
}
END_TEST

void nslmt_bad_path(Suite *s) {
  TCase *tc = tcase_create("path");
  tcase_add_test(tc, bad_path_objects);
  tcase_add_test(tc, bad_path_evaluation);
  tcase_add_test(tc, bad_certificates);
  tcase_add_test(tc, bad_descent_and_files);
  tcase_add_test(tc, bad_landscape);
  tcase_add_test(tc, bad_writers);
  suite_add_tcase(s, tc);
  static const char *fns[] = {
      "nslm_path_create", "nslm_path_append", "nslm_path_extend", "nslm_path_destroy",
      "nslm_path_clone", "nslm_path_reverse", "nslm_path_num_knots", "nslm_path_num_segments",
      "nslm_path_get_knot", "nslm_path_segment_kind", "nslm_path_segment_layers",
      "nslm_path_point", "nslm_path_set_segment_kind", "nslm_path_set_nonincreasing",
      "nslm_path_get_nonincreasing", "nslm_path_stored_values", "nslm_path_grid_size",
      "nslm_path_eval", "nslm_path_eval_grid", "nslm_certificate_default_tolerance",
      "nslm_path_certify", "nslm_certificate_destroy", "nslm_certificate_kind",
      "nslm_certificate_num_segments", "nslm_certificate_get", "nslm_certificate_segment",
      "nslm_certificate_set_tolerance", "nslm_certificate_get_tolerance",
      "nslm_certificate_passed", "nslm_certificate_summary", "nslm_path_descent",
      "nslm_path_save", "nslm_path_load", "nslm_landscape_line", "nslm_landscape_barrier",
      "nslm_landscape_directions", "nslm_landscape_plane", "nslm_landscape_plane3",
      "nslm_profile_write_csv", "nslm_profile_write_svg", "nslm_plane_write_csv",
      "nslm_plane_write_svg"};
  for (size_t i = 0; i < sizeof fns / sizeof *fns; i++) nslmt_bad_cover(fns[i]);
}
