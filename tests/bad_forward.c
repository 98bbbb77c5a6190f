/* bad_forward.c - bad-input cases of the evaluation functions (nslm_eval_*):
 * NULL handles and buffers, parameters / data of the wrong widths, bad
 * output strides, an out-of-range layer, a wrong length, lambda < 0, NaN
 * or Inf, a callback activation without derivative or failing, a loss
 * whose domain the outputs violate.  Each must return its documented
 * status, print nothing, leave its outputs untouched and leave a detail
 * message. */
#include <math.h>
#include <string.h>

#include "badinput.h"
#include "nslm.h"
#include "testutil.h"

#define SENT 777.25
#define BUFLEN 64

/* A valid setting plus misfits: net 3 -> 4 -> 2 (tanh), n = 5. */
typedef struct {
  nslm_net *net, *net_other, *net_cb_noder, *net_cb_fail;
  nslm_params *theta, *theta_other, *grad, *grad_other;
  nslm_data *data, *data_bad_d, *data_bad_m;
  nslm_loss *loss, *loss_paper;
  nslm_constraint *con;
} world;

static int fail_cb(double *x, size_t len, void *user) {
  (void)x; (void)len; (void)user;
  return 1;
}
static int ident_cb(double *x, size_t len, void *user) {
  (void)x; (void)len; (void)user;
  return 0;
}

static void world_make(world *w) {
  memset(w, 0, sizeof *w);
  size_t wd[3] = {3, 4, 2}, wo[3] = {3, 5, 2};
  ck_assert_int_eq(nslm_net_create(&w->net, 1, wd), NSLM_OK);
  ck_assert_int_eq(nslm_net_set_activation(w->net, 1, NSLM_ACT_TANH, 0, 0), NSLM_OK);
  ck_assert_int_eq(nslm_net_create(&w->net_other, 1, wo), NSLM_OK);
  ck_assert_int_eq(nslm_net_create(&w->net_cb_noder, 1, wd), NSLM_OK);
  ck_assert_int_eq(nslm_net_set_activation_callback(w->net_cb_noder, 1, ident_cb, NULL, NULL),
                   NSLM_OK);
  ck_assert_int_eq(nslm_net_create(&w->net_cb_fail, 1, wd), NSLM_OK);
  ck_assert_int_eq(nslm_net_set_activation_callback(w->net_cb_fail, 1, fail_cb, fail_cb, NULL),
                   NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&w->theta, w->net), NSLM_OK);
  /* Large weights: outputs far outside (-1, 1) for the paper logistic. */
  ck_assert_int_eq(nslm_params_init_random(w->theta, 7, NSLM_INIT_NORMAL, 30.0), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&w->theta_other, w->net_other), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&w->grad, w->net), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&w->grad_other, w->net_other), NSLM_OK);
  double x[5 * 4], y[5 * 3];
  for (int i = 0; i < 20; i++) x[i] = 0.1 * i - 1.0;
  for (int i = 0; i < 15; i++) y[i] = (i % 3) ? 0.5 : -0.5;
  ck_assert_int_eq(nslm_data_create(&w->data, 5, 3, x, 3, 1, 2, y, 2, 1), NSLM_OK);
  ck_assert_int_eq(nslm_data_create(&w->data_bad_d, 5, 4, x, 4, 1, 2, y, 2, 1), NSLM_OK);
  ck_assert_int_eq(nslm_data_create(&w->data_bad_m, 5, 3, x, 3, 1, 3, y, 3, 1), NSLM_OK);
  ck_assert_int_eq(nslm_loss_create(&w->loss, NSLM_LOSS_SQUARED, 0), NSLM_OK);
  ck_assert_int_eq(nslm_loss_create(&w->loss_paper, NSLM_LOSS_LOGISTIC_PAPER, 0), NSLM_OK);
  ck_assert_int_eq(nslm_constraint_create(&w->con, 1, 1, 2), NSLM_OK);
}

static void world_free(world *w) {
  nslm_net_destroy(w->net);
  nslm_net_destroy(w->net_other);
  nslm_net_destroy(w->net_cb_noder);
  nslm_net_destroy(w->net_cb_fail);
  nslm_params_destroy(w->theta);
  nslm_params_destroy(w->theta_other);
  nslm_params_destroy(w->grad);
  nslm_params_destroy(w->grad_other);
  nslm_data_destroy(w->data);
  nslm_data_destroy(w->data_bad_d);
  nslm_data_destroy(w->data_bad_m);
  nslm_loss_destroy(w->loss);
  nslm_loss_destroy(w->loss_paper);
  nslm_constraint_destroy(w->con);
}

static double buf[BUFLEN];
static double val;

static void reset_outputs(void) {
  for (int i = 0; i < BUFLEN; i++) buf[i] = SENT;
  val = SENT;
}

static void expect(int got, int want, const char *what, int line) {
  ck_assert_msg(got == want, "line %d (%s): status %d, expected %d", line, what, got, want);
}

/* Runs call quietly; checks status, silence, untouched outputs, detail. */
#define BAD(call, want)                                                          \
  do {                                                                           \
    reset_outputs();                                                             \
    nslmt_quiet_begin();                                                         \
    int st_ = (call);                                                            \
    long printed_ = nslmt_quiet_end();                                           \
    expect(st_, (want), #call, __LINE__);                                        \
    ck_assert_msg(printed_ == 0, "line %d: %ld bytes printed", __LINE__, printed_); \
    for (int i_ = 0; i_ < BUFLEN; i_++)                                          \
      ck_assert_msg(buf[i_] == SENT, "line %d: output %d touched", __LINE__, i_); \
    ck_assert_msg(val == SENT, "line %d: value touched", __LINE__);              \
    ck_assert_msg(strlen(nslm_last_error()) > 0, "line %d: no detail", __LINE__); \
  } while (0)

/* Common to every function: NULL handles and mismatched widths. */
#define BAD_COMMON(f, ...)                                                        \
  do {                                                                            \
    BAD(f(NULL, w.theta, w.data, __VA_ARGS__), NSLM_ERR_INVALID);                 \
    BAD(f(w.net, NULL, w.data, __VA_ARGS__), NSLM_ERR_INVALID);                   \
    BAD(f(w.net, w.theta, NULL, __VA_ARGS__), NSLM_ERR_INVALID);                  \
    BAD(f(w.net, w.theta_other, w.data, __VA_ARGS__), NSLM_ERR_DIMENSION);        \
    BAD(f(w.net_other, w.theta, w.data, __VA_ARGS__), NSLM_ERR_DIMENSION);        \
    BAD(f(w.net, w.theta, w.data_bad_d, __VA_ARGS__), NSLM_ERR_DIMENSION);        \
    BAD(f(w.net, w.theta, w.data_bad_m, __VA_ARGS__), NSLM_ERR_DIMENSION);        \
  } while (0)

START_TEST(bad_eval_outputs) {
  world w;
  world_make(&w);
  BAD_COMMON(nslm_eval_outputs, buf, 2, 1);
  BAD(nslm_eval_outputs(w.net, w.theta, w.data, NULL, 2, 1), NSLM_ERR_INVALID);
  ck_assert_ptr_nonnull(strstr(nslm_last_error(), "out is NULL"));
  BAD(nslm_eval_outputs(w.net, w.theta, w.data, buf, 0, 1), NSLM_ERR_INVALID);  /* rs = 0 */
  BAD(nslm_eval_outputs(w.net, w.theta, w.data, buf, 2, 0), NSLM_ERR_INVALID);  /* cs = 0 */
  BAD(nslm_eval_outputs(w.net, w.theta, w.data, buf, 1, 1), NSLM_ERR_INVALID);  /* overlap */
  BAD(nslm_eval_outputs(w.net, w.theta, w.data, buf, 1, 3), NSLM_ERR_INVALID);  /* overlap */
  BAD(nslm_eval_outputs(w.net, w.theta, w.data, buf, PTRDIFF_MAX / 2, 1), NSLM_ERR_INVALID);
  BAD(nslm_eval_outputs(w.net, w.theta, w.data, buf, PTRDIFF_MIN, 1), NSLM_ERR_INVALID);
  BAD(nslm_eval_outputs(w.net_cb_fail, w.theta, w.data, buf, 2, 1), NSLM_ERR_CALLBACK);
  world_free(&w);
}
END_TEST

START_TEST(bad_eval_features) {
  world w;
  world_make(&w);
  BAD_COMMON(nslm_eval_features, 1, buf, 4, 1);
  BAD(nslm_eval_features(w.net, w.theta, w.data, 1, NULL, 4, 1), NSLM_ERR_INVALID);
  BAD(nslm_eval_features(w.net, w.theta, w.data, 3, buf, 4, 1), NSLM_ERR_RANGE);
  BAD(nslm_eval_features(w.net, w.theta, w.data, (size_t)-1, buf, 4, 1), NSLM_ERR_RANGE);
  BAD(nslm_eval_features(w.net, w.theta, w.data, 1, buf, 0, 1), NSLM_ERR_INVALID);
  BAD(nslm_eval_features(w.net, w.theta, w.data, 1, buf, 2, 1), NSLM_ERR_INVALID); /* rs < cols */
  BAD(nslm_eval_features(w.net, w.theta, w.data, 0, buf, 1, 1), NSLM_ERR_INVALID);
  BAD(nslm_eval_features(w.net_cb_fail, w.theta, w.data, 1, buf, 4, 1), NSLM_ERR_CALLBACK);
  BAD(nslm_eval_features(w.net_cb_fail, w.theta, w.data, 2, buf, 2, 1), NSLM_ERR_CALLBACK);
  world_free(&w);
}
END_TEST

START_TEST(bad_eval_losses) {
  world w;
  world_make(&w);
  BAD_COMMON(nslm_eval_losses, w.loss, buf, 5);
  BAD(nslm_eval_losses(w.net, w.theta, w.data, NULL, buf, 5), NSLM_ERR_INVALID);
  BAD(nslm_eval_losses(w.net, w.theta, w.data, w.loss, NULL, 5), NSLM_ERR_INVALID);
  BAD(nslm_eval_losses(w.net, w.theta, w.data, w.loss, buf, 4), NSLM_ERR_DIMENSION);
  BAD(nslm_eval_losses(w.net, w.theta, w.data, w.loss, buf, 0), NSLM_ERR_DIMENSION);
  BAD(nslm_eval_losses(w.net, w.theta, w.data, w.loss_paper, buf, 5), NSLM_ERR_DOMAIN);
  BAD(nslm_eval_losses(w.net_cb_fail, w.theta, w.data, w.loss, buf, 5), NSLM_ERR_CALLBACK);
  world_free(&w);
}
END_TEST

START_TEST(bad_eval_risk) {
  world w;
  world_make(&w);
  BAD_COMMON(nslm_eval_risk, w.loss, &val);
  BAD(nslm_eval_risk(w.net, w.theta, w.data, NULL, &val), NSLM_ERR_INVALID);
  BAD(nslm_eval_risk(w.net, w.theta, w.data, w.loss, NULL), NSLM_ERR_INVALID);
  BAD(nslm_eval_risk(w.net, w.theta, w.data, w.loss_paper, &val), NSLM_ERR_DOMAIN);
  BAD(nslm_eval_risk(w.net_cb_fail, w.theta, w.data, w.loss, &val), NSLM_ERR_CALLBACK);
  world_free(&w);
}
END_TEST

START_TEST(bad_eval_objective) {
  world w;
  world_make(&w);
  BAD_COMMON(nslm_eval_objective, w.loss, w.con, 1.0, &val);
  BAD(nslm_eval_objective(w.net, w.theta, w.data, NULL, w.con, 1.0, &val), NSLM_ERR_INVALID);
  BAD(nslm_eval_objective(w.net, w.theta, w.data, w.loss, NULL, 1.0, &val), NSLM_ERR_INVALID);
  BAD(nslm_eval_objective(w.net, w.theta, w.data, w.loss, w.con, 1.0, NULL), NSLM_ERR_INVALID);
  BAD(nslm_eval_objective(w.net, w.theta, w.data, w.loss, w.con, -1.0, &val), NSLM_ERR_DOMAIN);
  BAD(nslm_eval_objective(w.net, w.theta, w.data, w.loss, w.con, -0x1p-1074, &val),
      NSLM_ERR_DOMAIN);
  BAD(nslm_eval_objective(w.net, w.theta, w.data, w.loss, w.con, NAN, &val), NSLM_ERR_NONFINITE);
  BAD(nslm_eval_objective(w.net, w.theta, w.data, w.loss, w.con, INFINITY, &val),
      NSLM_ERR_NONFINITE);
  BAD(nslm_eval_objective(w.net, w.theta, w.data, w.loss, w.con, -INFINITY, &val),
      NSLM_ERR_NONFINITE);
  BAD(nslm_eval_objective(w.net, w.theta, w.data, w.loss_paper, w.con, 1.0, &val),
      NSLM_ERR_DOMAIN);
  BAD(nslm_eval_objective(w.net_cb_fail, w.theta, w.data, w.loss, w.con, 1.0, &val),
      NSLM_ERR_CALLBACK);
  world_free(&w);
}
END_TEST

/* grad is an output: its entries must survive every failure. */
static void check_grad_untouched(const world *w, nslm_params *saved) {
  ck_assert_int_eq(nslm_params_equal(w->grad, saved), 1);
}

START_TEST(bad_eval_gradient) {
  world w;
  world_make(&w);
  /* Non-zero entries in grad, to see that they survive. */
  ck_assert_int_eq(nslm_params_init_random(w.grad, 3, NSLM_INIT_UNIFORM, 1.0), NSLM_OK);
  nslm_params *saved;
  ck_assert_int_eq(nslm_params_clone(&saved, w.grad), NSLM_OK);
  BAD_COMMON(nslm_eval_gradient, w.loss, w.grad, &val);
  check_grad_untouched(&w, saved);
  BAD(nslm_eval_gradient(w.net, w.theta, w.data, NULL, w.grad, &val), NSLM_ERR_INVALID);
  BAD(nslm_eval_gradient(w.net, w.theta, w.data, w.loss, NULL, &val), NSLM_ERR_INVALID);
  BAD(nslm_eval_gradient(w.net, w.theta, w.data, w.loss, w.grad_other, &val), NSLM_ERR_DIMENSION);
  BAD(nslm_eval_gradient(w.net_cb_noder, w.theta, w.data, w.loss, w.grad, &val),
      NSLM_ERR_UNSUPPORTED);
  ck_assert_ptr_nonnull(strstr(nslm_last_error(), "derivative"));
  BAD(nslm_eval_gradient(w.net_cb_fail, w.theta, w.data, w.loss, w.grad, &val),
      NSLM_ERR_CALLBACK);
  BAD(nslm_eval_gradient(w.net, w.theta, w.data, w.loss_paper, w.grad, &val), NSLM_ERR_DOMAIN);
  check_grad_untouched(&w, saved);
  nslm_params_destroy(saved);
  world_free(&w);
}
END_TEST

void nslmt_bad_forward(Suite *s) {
  static const char *fns[] = {"nslm_eval_outputs",   "nslm_eval_features", "nslm_eval_losses",
                              "nslm_eval_risk",      "nslm_eval_objective",
                              "nslm_eval_gradient"};
  for (size_t i = 0; i < sizeof fns / sizeof *fns; i++) nslmt_bad_cover(fns[i]);
  TCase *tc = tcase_create("bad_forward");
  tcase_add_test(tc, bad_eval_outputs);
  tcase_add_test(tc, bad_eval_features);
  tcase_add_test(tc, bad_eval_losses);
  tcase_add_test(tc, bad_eval_risk);
  tcase_add_test(tc, bad_eval_objective);
  tcase_add_test(tc, bad_eval_gradient);
  suite_add_tcase(s, tc);
}
