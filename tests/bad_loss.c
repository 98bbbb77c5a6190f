/* bad_loss.c - bad-input cases of the objective's parts: losses and the
 * constraint (and nslm_matrix_row_norm).  Each failing call must return its
 * documented status, print nothing, leave its outputs untouched and leave
 * a fresh detail message naming the function. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "badinput.h"
#include "nslm.h"
#include "testutil.h"

#define SENT 777.25
#define BUFLEN 64

static double buf[BUFLEN];
static double val, v2, v3;
static int ival;

static void reset_outputs(void) {
  for (int i = 0; i < BUFLEN; i++) buf[i] = SENT;
  val = v2 = v3 = SENT;
  ival = 777;
}

static char planted[256];
static const char *plant_detail(void) {
  nslm_net *n;
  size_t w[] = {1, 0, 1};
  nslm_net_create(&n, 1, w); /* "widths[1] = 0 ..." - no case below produces it */
  snprintf(planted, sizeof planted, "%s", nslm_last_error());
  return planted;
}

#define BAD(fn, call, want)                                                            \
  do {                                                                                 \
    reset_outputs();                                                                   \
    const char *planted_ = plant_detail();                                             \
    nslmt_quiet_begin();                                                               \
    int st_ = (call);                                                                  \
    long printed_ = nslmt_quiet_end();                                                 \
    ck_assert_msg(st_ == (want), "line %d (%s): status %d, expected %d", __LINE__,     \
                  #call, st_, (want));                                                 \
    ck_assert_msg(printed_ == 0, "line %d: %ld bytes printed", __LINE__, printed_);    \
    for (int i_ = 0; i_ < BUFLEN; i_++)                                                \
      ck_assert_msg(buf[i_] == SENT, "line %d: output %d touched", __LINE__, i_);      \
    ck_assert_msg(val == SENT && v2 == SENT && v3 == SENT && ival == 777,              \
                  "line %d: scalar output touched", __LINE__);                         \
    ck_assert_msg(strcmp(nslm_last_error(), planted_) != 0 &&                          \
                      strstr(nslm_last_error(), fn) != NULL,                           \
                  "line %d: detail '%s'", __LINE__, nslm_last_error());                \
  } while (0)

/* ------------------------------------------------------------------ */
/* Losses */

static int ok_cb(const double *a, const double *y, size_t m, double *value, double *grad,
                 void *u) {
  (void)a; (void)y; (void)u;
  *value = 1.0;
  if (grad)
    for (size_t k = 0; k < m; k++) grad[k] = 0.0;
  return 0;
}
static int fail_cb(const double *a, const double *y, size_t m, double *value, double *grad,
                   void *u) {
  (void)a; (void)y; (void)m; (void)value; (void)grad; (void)u;
  return -1;
}
static int nan_cb(const double *a, const double *y, size_t m, double *value, double *grad,
                  void *u) {
  (void)a; (void)y; (void)u;
  *value = NAN;
  if (grad)
    for (size_t k = 0; k < m; k++) grad[k] = 0.0;
  return 0;
}
static int infgrad_cb(const double *a, const double *y, size_t m, double *value, double *grad,
                      void *u) {
  (void)a; (void)y; (void)u;
  *value = 0.0;
  if (grad)
    for (size_t k = 0; k < m; k++) grad[k] = -INFINITY;
  return 0;
}

START_TEST(bad_loss_create) {
  nslm_loss *l = (nslm_loss *)&val;
  BAD("nslm_loss_create", nslm_loss_create(NULL, NSLM_LOSS_SQUARED, 0), NSLM_ERR_INVALID);
  BAD("nslm_loss_create", nslm_loss_create(&l, -1, 0), NSLM_ERR_INVALID);
  ck_assert_ptr_null(l);
  l = (nslm_loss *)&val;
  BAD("nslm_loss_create", nslm_loss_create(&l, 8, 0), NSLM_ERR_INVALID);
  ck_assert_ptr_null(l);
  BAD("nslm_loss_create", nslm_loss_create(&l, NSLM_LOSS_CALLBACK, 0), NSLM_ERR_INVALID);
  BAD("nslm_loss_create", nslm_loss_create(&l, NSLM_LOSS_HUBER, 0.0), NSLM_ERR_DOMAIN);
  BAD("nslm_loss_create", nslm_loss_create(&l, NSLM_LOSS_HUBER, -1.0), NSLM_ERR_DOMAIN);
  BAD("nslm_loss_create", nslm_loss_create(&l, NSLM_LOSS_HUBER, -0.0), NSLM_ERR_DOMAIN);
  BAD("nslm_loss_create", nslm_loss_create(&l, NSLM_LOSS_HUBER, NAN), NSLM_ERR_NONFINITE);
  BAD("nslm_loss_create", nslm_loss_create(&l, NSLM_LOSS_HUBER, INFINITY), NSLM_ERR_NONFINITE);
  /* Other kinds ignore the parameter but reject a non-finite one. */
  BAD("nslm_loss_create", nslm_loss_create(&l, NSLM_LOSS_SQUARED, NAN), NSLM_ERR_NONFINITE);
  BAD("nslm_loss_create", nslm_loss_create(&l, NSLM_LOSS_SOFTMAX_CE, -INFINITY), NSLM_ERR_NONFINITE);
  ck_assert_ptr_null(l);
  l = (nslm_loss *)&val;
  BAD("nslm_loss_create_callback", nslm_loss_create_callback(NULL, ok_cb, NULL), NSLM_ERR_INVALID);
  BAD("nslm_loss_create_callback", nslm_loss_create_callback(&l, NULL, NULL), NSLM_ERR_INVALID);
  ck_assert_ptr_null(l);
  /* destroy(NULL) and kind(NULL) cannot fail: no-op, and NSLM_ERR_INVALID. */
  nslmt_quiet_begin();
  nslm_loss_destroy(NULL);
  int k = nslm_loss_kind(NULL);
  ck_assert_int_eq(nslmt_quiet_end(), 0);
  ck_assert_int_eq(k, NSLM_ERR_INVALID);
}
END_TEST

START_TEST(bad_loss_eval) {
  nslm_loss *sq, *paper, *soft, *cbf, *cbn, *cbi, *cbo;
  ck_assert_int_eq(nslm_loss_create(&sq, NSLM_LOSS_SQUARED, 0), NSLM_OK);
  ck_assert_int_eq(nslm_loss_create(&paper, NSLM_LOSS_LOGISTIC_PAPER, 0), NSLM_OK);
  ck_assert_int_eq(nslm_loss_create(&soft, NSLM_LOSS_SOFTMAX_CE, 0), NSLM_OK);
  ck_assert_int_eq(nslm_loss_create_callback(&cbf, fail_cb, NULL), NSLM_OK);
  ck_assert_int_eq(nslm_loss_create_callback(&cbn, nan_cb, NULL), NSLM_OK);
  ck_assert_int_eq(nslm_loss_create_callback(&cbi, infgrad_cb, NULL), NSLM_OK);
  ck_assert_int_eq(nslm_loss_create_callback(&cbo, ok_cb, NULL), NSLM_OK);
  double a[3] = {0.1, -0.2, 0.3}, y[3] = {1, 0, 0};
  BAD("nslm_loss_eval", nslm_loss_eval(NULL, 3, a, y, &val, buf), NSLM_ERR_INVALID);
  BAD("nslm_loss_eval", nslm_loss_eval(sq, 3, NULL, y, &val, buf), NSLM_ERR_INVALID);
  BAD("nslm_loss_eval", nslm_loss_eval(sq, 3, a, NULL, &val, buf), NSLM_ERR_INVALID);
  BAD("nslm_loss_eval", nslm_loss_eval(sq, 3, a, y, NULL, buf), NSLM_ERR_INVALID);
  BAD("nslm_loss_eval", nslm_loss_eval(sq, 0, a, y, &val, buf), NSLM_ERR_DIMENSION);
  a[2] = NAN;
  BAD("nslm_loss_eval", nslm_loss_eval(sq, 3, a, y, &val, buf), NSLM_ERR_NONFINITE);
  a[2] = 0.3;
  y[1] = INFINITY;
  BAD("nslm_loss_eval", nslm_loss_eval(sq, 3, a, y, &val, buf), NSLM_ERR_NONFINITE);
  y[1] = 0;
  /* value overflow */
  double big[1] = {1e300}, zero[1] = {0};
  BAD("nslm_loss_eval", nslm_loss_eval(sq, 1, big, zero, &val, buf), NSLM_ERR_NUMERIC);
  /* the paper's domain: |a| < 1, |y| <= 1 */
  double a1[2] = {0.5, 1.0}, yp[2] = {0.5, 0.5};
  BAD("nslm_loss_eval", nslm_loss_eval(paper, 2, a1, yp, &val, buf), NSLM_ERR_DOMAIN);
  a1[1] = -1.5;
  BAD("nslm_loss_eval", nslm_loss_eval(paper, 2, a1, yp, &val, buf), NSLM_ERR_DOMAIN);
  a1[1] = 0.0;
  yp[0] = -1.25;
  BAD("nslm_loss_eval", nslm_loss_eval(paper, 2, a1, yp, &val, buf), NSLM_ERR_DOMAIN);
  /* softmax: y >= 0 */
  double yn[3] = {0.5, 0.75, -0.25};
  BAD("nslm_loss_eval", nslm_loss_eval(soft, 3, a, yn, &val, buf), NSLM_ERR_DOMAIN);
  /* callbacks: failure, non-finite value, non-finite gradient */
  BAD("nslm_loss_eval", nslm_loss_eval(cbf, 3, a, y, &val, buf), NSLM_ERR_CALLBACK);
  BAD("nslm_loss_eval", nslm_loss_eval(cbn, 3, a, y, &val, buf), NSLM_ERR_NUMERIC);
  BAD("nslm_loss_eval", nslm_loss_eval(cbn, 3, a, y, &val, NULL), NSLM_ERR_NUMERIC);
  BAD("nslm_loss_eval", nslm_loss_eval(cbi, 3, a, y, &val, buf), NSLM_ERR_NUMERIC);
  ck_assert_int_eq(nslm_loss_eval(cbo, 3, a, y, &val, buf), NSLM_OK); /* the control */
  nslm_loss_destroy(sq);
  nslm_loss_destroy(paper);
  nslm_loss_destroy(soft);
  nslm_loss_destroy(cbf);
  nslm_loss_destroy(cbn);
  nslm_loss_destroy(cbi);
  nslm_loss_destroy(cbo);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Constraint */

START_TEST(bad_constraint_create_get) {
  nslm_constraint *c = (nslm_constraint *)&val;
  BAD("nslm_constraint_create", nslm_constraint_create(NULL, 1, 1, 2), NSLM_ERR_INVALID);
  BAD("nslm_constraint_create", nslm_constraint_create(&c, -1, 1, 2), NSLM_ERR_DOMAIN);
  ck_assert_ptr_null(c);
  c = (nslm_constraint *)&val;
  BAD("nslm_constraint_create", nslm_constraint_create(&c, 1, -0x1p-1074, 2), NSLM_ERR_DOMAIN);
  ck_assert_ptr_null(c);
  BAD("nslm_constraint_create", nslm_constraint_create(&c, NAN, 1, 2), NSLM_ERR_NONFINITE);
  BAD("nslm_constraint_create", nslm_constraint_create(&c, INFINITY, 1, 2), NSLM_ERR_NONFINITE);
  BAD("nslm_constraint_create", nslm_constraint_create(&c, 1, -INFINITY, 2), NSLM_ERR_NONFINITE);
  BAD("nslm_constraint_create", nslm_constraint_create(&c, 1, 1, 0.0), NSLM_ERR_DOMAIN);
  BAD("nslm_constraint_create", nslm_constraint_create(&c, 1, 1, -0.0), NSLM_ERR_DOMAIN);
  BAD("nslm_constraint_create", nslm_constraint_create(&c, 1, 1, -2.0), NSLM_ERR_DOMAIN);
  BAD("nslm_constraint_create", nslm_constraint_create(&c, 1, 1, -INFINITY), NSLM_ERR_DOMAIN);
  BAD("nslm_constraint_create", nslm_constraint_create(&c, 1, 1, NAN), NSLM_ERR_NONFINITE);
  ck_assert_ptr_null(c);
  BAD("nslm_constraint_get", nslm_constraint_get(NULL, &val, &v2, &v3), NSLM_ERR_INVALID);
  nslmt_quiet_begin();
  nslm_constraint_destroy(NULL);
  ck_assert_int_eq(nslmt_quiet_end(), 0);
}
END_TEST

START_TEST(bad_constraint_eval) {
  size_t w[] = {3, 4, 2}, wo[] = {3, 5, 2};
  nslm_net *net;
  nslm_params *p, *saved;
  ck_assert_int_eq(nslm_net_create(&net, 1, w), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&p, net), NSLM_OK);
  ck_assert_int_eq(nslm_params_init_random(p, 3, NSLM_INIT_NORMAL, 1.0), NSLM_OK);
  ck_assert_int_eq(nslm_params_clone(&saved, p), NSLM_OK);
  nslm_constraint *c;
  ck_assert_int_eq(nslm_constraint_create(&c, 1, 1, 2), NSLM_OK);
  BAD("nslm_constraint_eval", nslm_constraint_eval(NULL, p, &val), NSLM_ERR_INVALID);
  BAD("nslm_constraint_eval", nslm_constraint_eval(c, NULL, &val), NSLM_ERR_INVALID);
  BAD("nslm_constraint_eval", nslm_constraint_eval(c, p, NULL), NSLM_ERR_INVALID);
  BAD("nslm_constraint_feasible", nslm_constraint_feasible(NULL, p, &ival), NSLM_ERR_INVALID);
  BAD("nslm_constraint_feasible", nslm_constraint_feasible(c, NULL, &ival), NSLM_ERR_INVALID);
  BAD("nslm_constraint_feasible", nslm_constraint_feasible(c, p, NULL), NSLM_ERR_INVALID);
  /* row norms: layer 0 has 4 rows, layer 1 has 2 */
  BAD("nslm_constraint_row_norms", nslm_constraint_row_norms(NULL, p, 0, buf, 4), NSLM_ERR_INVALID);
  BAD("nslm_constraint_row_norms", nslm_constraint_row_norms(c, NULL, 0, buf, 4), NSLM_ERR_INVALID);
  BAD("nslm_constraint_row_norms", nslm_constraint_row_norms(c, p, 0, NULL, 4), NSLM_ERR_INVALID);
  BAD("nslm_constraint_row_norms", nslm_constraint_row_norms(c, p, 2, buf, 4), NSLM_ERR_RANGE);
  BAD("nslm_constraint_row_norms", nslm_constraint_row_norms(c, p, SIZE_MAX, buf, 4), NSLM_ERR_RANGE);
  BAD("nslm_constraint_row_norms", nslm_constraint_row_norms(c, p, 0, buf, 3), NSLM_ERR_DIMENSION);
  BAD("nslm_constraint_row_norms", nslm_constraint_row_norms(c, p, 1, buf, 4), NSLM_ERR_DIMENSION);
  BAD("nslm_constraint_row_norms", nslm_constraint_row_norms(c, p, 1, buf, 0), NSLM_ERR_DIMENSION);
  ck_assert(nslm_params_equal(p, saved));
  /* any widths are fine for the constraint itself */
  nslm_net *neto;
  nslm_params *po;
  ck_assert_int_eq(nslm_net_create(&neto, 1, wo), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&po, neto), NSLM_OK);
  ck_assert_int_eq(nslm_constraint_eval(c, po, &val), NSLM_OK);
  ck_assert(val == 0.0);
  nslm_params_destroy(po);
  nslm_net_destroy(neto);
  nslm_constraint_destroy(c);
  nslm_params_destroy(p);
  nslm_params_destroy(saved);
  nslm_net_destroy(net);
}
END_TEST

START_TEST(bad_matrix_row_norm) {
  double a[6] = {1, 2, 3, 4, 5, 6};
  BAD("nslm_matrix_row_norm", nslm_matrix_row_norm(2, 3, NULL, 3, 1, 2.0, &val), NSLM_ERR_INVALID);
  BAD("nslm_matrix_row_norm", nslm_matrix_row_norm(2, 3, a, 3, 1, 2.0, NULL), NSLM_ERR_INVALID);
  BAD("nslm_matrix_row_norm", nslm_matrix_row_norm(0, 3, a, 3, 1, 2.0, &val), NSLM_ERR_DIMENSION);
  BAD("nslm_matrix_row_norm", nslm_matrix_row_norm(2, 0, a, 3, 1, 2.0, &val), NSLM_ERR_DIMENSION);
  BAD("nslm_matrix_row_norm", nslm_matrix_row_norm(2, 3, a, 3, 1, 0.0, &val), NSLM_ERR_DOMAIN);
  BAD("nslm_matrix_row_norm", nslm_matrix_row_norm(2, 3, a, 3, 1, -1.0, &val), NSLM_ERR_DOMAIN);
  BAD("nslm_matrix_row_norm", nslm_matrix_row_norm(2, 3, a, 3, 1, -INFINITY, &val), NSLM_ERR_DOMAIN);
  BAD("nslm_matrix_row_norm", nslm_matrix_row_norm(2, 3, a, 3, 1, NAN, &val), NSLM_ERR_NONFINITE);
  a[5] = NAN;
  BAD("nslm_matrix_row_norm", nslm_matrix_row_norm(2, 3, a, 3, 1, 2.0, &val), NSLM_ERR_NONFINITE);
  a[5] = INFINITY;
  BAD("nslm_matrix_row_norm", nslm_matrix_row_norm(2, 3, a, 3, 1, INFINITY, &val), NSLM_ERR_NONFINITE);
  /* the NaN outside a strided view is not part of the matrix */
  a[5] = NAN;
  ck_assert_int_eq(nslm_matrix_row_norm(2, 2, a, 3, 1, 1.0, &val), NSLM_OK);
  ck_assert(val == 9.0);
}
END_TEST

void nslmt_bad_loss(Suite *s) {
  static const char *fns[] = {"nslm_loss_create", "nslm_loss_create_callback",
                              "nslm_loss_destroy", "nslm_loss_kind", "nslm_loss_eval",
                              "nslm_constraint_create", "nslm_constraint_destroy",
                              "nslm_constraint_get", "nslm_constraint_eval",
                              "nslm_constraint_row_norms", "nslm_constraint_feasible",
                              "nslm_matrix_row_norm"};
  for (size_t i = 0; i < sizeof fns / sizeof *fns; i++) nslmt_bad_cover(fns[i]);
  TCase *tc = tcase_create("bad_loss");
  tcase_add_test(tc, bad_loss_create);
  tcase_add_test(tc, bad_loss_eval);
  tcase_add_test(tc, bad_constraint_create_get);
  tcase_add_test(tc, bad_constraint_eval);
  tcase_add_test(tc, bad_matrix_row_norm);
  suite_add_tcase(s, tc);
}
