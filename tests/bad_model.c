/* bad_model.c - bad-input cases of the model area: version and status,
 * networks, parameter sets, data sets.  Each failing call must return its
 * documented status, print nothing, leave its outputs (and the handle it
 * was given) untouched and leave a fresh detail message.  Functions that
 * cannot fail get a case checking their documented answer on bad input
 * (0 for a NULL handle, a string for an unknown status, ...). */
#include <limits.h>
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
static double val;
static size_t zval;
static int ival;
static unsigned char mask[BUFLEN];

static void reset_outputs(void) {
  for (int i = 0; i < BUFLEN; i++) {
    buf[i] = SENT;
    mask[i] = 0xA5;
  }
  val = SENT;
  zval = 777;
  ival = 777;
}

static void check_outputs(int line) {
  for (int i = 0; i < BUFLEN; i++) {
    ck_assert_msg(buf[i] == SENT, "line %d: output %d touched", line, i);
    ck_assert_msg(mask[i] == 0xA5, "line %d: mask %d touched", line, i);
  }
  ck_assert_msg(val == SENT && zval == 777 && ival == 777, "line %d: scalar output touched", line);
}

#define BAD NSLMT_BAD
#define QUIET NSLMT_QUIET

/* ------------------------------------------------------------------ */
/* Version and status */

START_TEST(bad_version_and_status) {
  int v;
  const char *s;
  QUIET(nslm_version_number(), v);
  ck_assert_int_eq(v, NSLM_VERSION_NUMBER);
  QUIET(nslm_version_string(), s);
  ck_assert_ptr_nonnull(s);
  ck_assert_str_eq(s, NSLM_VERSION_STRING);
  /* Unknown statuses get a string of their own, never NULL. */
  int weird[] = {1, 42, -15, -1000, INT_MIN, INT_MAX};
  for (size_t i = 0; i < sizeof weird / sizeof *weird; i++) {
    QUIET(nslm_strerror(weird[i]), s);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s, nslm_strerror(12345));
  }
  /* last_error never returns NULL. */
  QUIET(nslm_last_error(), s);
  ck_assert_ptr_nonnull(s);
  /* last_error_copy: NULL needed, or a NULL buffer with a capacity: INVALID,
   * and the detail it would copy is kept as it was. */
  nslmt_bad_plant();
  char saved[128];
  snprintf(saved, sizeof saved, "%s", nslm_last_error());
  char small[8];
  memset(small, 'x', sizeof small);
  nslmt_quiet_begin();
  int st1 = nslm_last_error_copy(small, sizeof small, NULL);
  size_t need = 777;
  int st2 = nslm_last_error_copy(NULL, 5, &need);
  ck_assert_int_eq(nslmt_quiet_end(), 0);
  ck_assert_int_eq(st1, NSLM_ERR_INVALID);
  ck_assert_int_eq(st2, NSLM_ERR_INVALID);
  ck_assert_uint_eq(need, 777);
  for (size_t i = 0; i < sizeof small; i++) ck_assert_int_eq(small[i], 'x');
  ck_assert_str_eq(nslm_last_error(), saved);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Networks */

static nslm_net *small_net(void) {
  size_t w[] = {3, 4, 2, 1};
  nslm_net *net;
  ck_assert_int_eq(nslm_net_create(&net, 2, w), NSLM_OK);
  ck_assert_int_eq(nslm_net_set_activation(net, 1, NSLM_ACT_TANH, 0, 0), NSLM_OK);
  ck_assert_int_eq(nslm_net_set_activation(net, 2, NSLM_ACT_LEAKY_RELU, 0.1, 0), NSLM_OK);
  return net;
}

/* The activations stayed tanh and leaky(0.1), the threads 2. */
static void net_unchanged(const nslm_net *net) {
  int kind;
  double c;
  ck_assert_int_eq(nslm_net_get_activation(net, 1, &kind, NULL, NULL), NSLM_OK);
  ck_assert_int_eq(kind, NSLM_ACT_TANH);
  ck_assert_int_eq(nslm_net_get_activation(net, 2, &kind, &c, NULL), NSLM_OK);
  ck_assert_int_eq(kind, NSLM_ACT_LEAKY_RELU);
  ck_assert(c == 0.1);
}

static int cb(double *x, size_t len, void *u) {
  (void)x; (void)len; (void)u;
  return 0;
}

START_TEST(bad_net_create) {
  size_t w[] = {3, 4, 1}, w0[] = {3, 0, 1}, wbig[] = {3, ((size_t)1 << 31) + 1, 1};
  nslm_net *net = (nslm_net *)&val;
  BAD("nslm_net_create", nslm_net_create(NULL, 1, w), NSLM_ERR_INVALID);
  BAD("nslm_net_create", nslm_net_create(&net, 1, NULL), NSLM_ERR_INVALID);
  ck_assert_ptr_null(net);
  net = (nslm_net *)&val;
  BAD("nslm_net_create", nslm_net_create(&net, 0, w), NSLM_ERR_DIMENSION);
  ck_assert_ptr_null(net);
  BAD("nslm_net_create", nslm_net_create(&net, 1, w0), NSLM_ERR_DIMENSION);
  BAD("nslm_net_create", nslm_net_create(&net, 1, wbig), NSLM_ERR_DIMENSION);
  BAD("nslm_net_create", nslm_net_create(&net, 5000, w), NSLM_ERR_DIMENSION);
  BAD("nslm_net_create", nslm_net_create(&net, SIZE_MAX, w), NSLM_ERR_DIMENSION);
  ck_assert_ptr_null(net);
  /* destroy(NULL) is a no-op */
  nslmt_quiet_begin();
  nslm_net_destroy(NULL);
  ck_assert_int_eq(nslmt_quiet_end(), 0);
}
END_TEST

START_TEST(bad_net_activation) {
  nslm_net *net = small_net();
  BAD("nslm_net_set_activation", nslm_net_set_activation(NULL, 1, NSLM_ACT_RELU, 0, 0), NSLM_ERR_INVALID);
  BAD("nslm_net_set_activation", nslm_net_set_activation(net, 0, NSLM_ACT_RELU, 0, 0), NSLM_ERR_RANGE);
  BAD("nslm_net_set_activation", nslm_net_set_activation(net, 3, NSLM_ACT_RELU, 0, 0), NSLM_ERR_RANGE);
  BAD("nslm_net_set_activation", nslm_net_set_activation(net, SIZE_MAX, NSLM_ACT_RELU, 0, 0), NSLM_ERR_RANGE);
  BAD("nslm_net_set_activation", nslm_net_set_activation(net, 1, -1, 0, 0), NSLM_ERR_INVALID);
  BAD("nslm_net_set_activation", nslm_net_set_activation(net, 1, 7, 0, 0), NSLM_ERR_INVALID);
  BAD("nslm_net_set_activation", nslm_net_set_activation(net, 1, NSLM_ACT_CALLBACK, 0, 0), NSLM_ERR_INVALID);
  BAD("nslm_net_set_activation", nslm_net_set_activation(net, 1, NSLM_ACT_LEAKY_RELU, NAN, 0), NSLM_ERR_NONFINITE);
  BAD("nslm_net_set_activation", nslm_net_set_activation(net, 1, NSLM_ACT_LEAKY_RELU, INFINITY, 0), NSLM_ERR_NONFINITE);
  BAD("nslm_net_set_activation", nslm_net_set_activation(net, 1, NSLM_ACT_POLY, -INFINITY, 2), NSLM_ERR_NONFINITE);
  BAD("nslm_net_set_activation", nslm_net_set_activation(net, 1, NSLM_ACT_POLY, 1, 0), NSLM_ERR_DOMAIN);
  BAD("nslm_net_set_activation", nslm_net_set_activation(net, 1, NSLM_ACT_POLY, 1, 2.5), NSLM_ERR_DOMAIN);
  BAD("nslm_net_set_activation", nslm_net_set_activation(net, 1, NSLM_ACT_POLY, 1, 65), NSLM_ERR_DOMAIN);
  BAD("nslm_net_set_activation", nslm_net_set_activation(net, 1, NSLM_ACT_POLY, 1, NAN), NSLM_ERR_DOMAIN);
  BAD("nslm_net_set_activation", nslm_net_set_activation(net, 1, NSLM_ACT_POLY, 1, -3), NSLM_ERR_DOMAIN);
  net_unchanged(net);

  BAD("nslm_net_set_activation_callback", nslm_net_set_activation_callback(NULL, 1, cb, cb, NULL), NSLM_ERR_INVALID);
  BAD("nslm_net_set_activation_callback", nslm_net_set_activation_callback(net, 0, cb, cb, NULL), NSLM_ERR_RANGE);
  BAD("nslm_net_set_activation_callback", nslm_net_set_activation_callback(net, 3, cb, cb, NULL), NSLM_ERR_RANGE);
  BAD("nslm_net_set_activation_callback", nslm_net_set_activation_callback(net, 1, NULL, cb, NULL), NSLM_ERR_INVALID);
  net_unchanged(net);

  double c = SENT, k = SENT;
  BAD("nslm_net_get_activation", nslm_net_get_activation(NULL, 1, &ival, &c, &k), NSLM_ERR_INVALID);
  BAD("nslm_net_get_activation", nslm_net_get_activation(net, 0, &ival, &c, &k), NSLM_ERR_RANGE);
  BAD("nslm_net_get_activation", nslm_net_get_activation(net, 3, &ival, &c, &k), NSLM_ERR_RANGE);
  BAD("nslm_net_get_activation", nslm_net_get_activation(net, 1, NULL, &c, &k), NSLM_ERR_INVALID);
  ck_assert(c == SENT && k == SENT);
  nslm_net_destroy(net);
}
END_TEST

START_TEST(bad_net_queries) {
  nslm_net *net = small_net();
  ck_assert_int_eq(nslm_net_set_num_threads(net, 2), NSLM_OK);
  BAD("nslm_net_set_num_threads", nslm_net_set_num_threads(NULL, 2), NSLM_ERR_INVALID);
  BAD("nslm_net_set_num_threads", nslm_net_set_num_threads(net, 5000), NSLM_ERR_DOMAIN);
  BAD("nslm_net_set_num_threads", nslm_net_set_num_threads(net, SIZE_MAX), NSLM_ERR_DOMAIN);
  size_t z;
  QUIET(nslm_net_num_threads(net), z);
  ck_assert_uint_eq(z, 2);
  /* Queries that cannot fail: 0 for NULL or an out-of-range index. */
  QUIET(nslm_net_num_threads(NULL), z);
  ck_assert_uint_eq(z, 0);
  QUIET(nslm_net_depth(NULL), z);
  ck_assert_uint_eq(z, 0);
  QUIET(nslm_net_width(NULL, 0), z);
  ck_assert_uint_eq(z, 0);
  QUIET(nslm_net_width(net, 4), z);
  ck_assert_uint_eq(z, 0);
  QUIET(nslm_net_width(net, SIZE_MAX), z);
  ck_assert_uint_eq(z, 0);
  QUIET(nslm_net_paper_width_bound(NULL, 10), z);
  ck_assert_uint_eq(z, 0);
  QUIET(nslm_net_paper_width_bound(net, SIZE_MAX), z); /* saturates */
  ck_assert_uint_eq(z, SIZE_MAX);
  net_unchanged(net);
  nslm_net_destroy(net);
}
END_TEST

START_TEST(bad_net_create_for) {
  nslm_net *net = small_net(), *out = (nslm_net *)&val;
  nslm_params *p;
  ck_assert_int_eq(nslm_params_create(&p, net), NSLM_OK);
  BAD("nslm_net_create_for", nslm_net_create_for(NULL, p), NSLM_ERR_INVALID);
  BAD("nslm_net_create_for", nslm_net_create_for(&out, NULL), NSLM_ERR_INVALID);
  ck_assert_ptr_null(out);
  nslm_params_destroy(p);
  nslm_net_destroy(net);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Parameters */

typedef struct {
  nslm_net *net, *net_other;
  nslm_params *p, *other, *saved;
} pworld;

static void pworld_make(pworld *w) {
  w->net = small_net(); /* 3 -> 4 -> 2 -> 1 */
  size_t wo[] = {3, 5, 2, 1};
  ck_assert_int_eq(nslm_net_create(&w->net_other, 2, wo), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&w->p, w->net), NSLM_OK);
  ck_assert_int_eq(nslm_params_init_random(w->p, 1, NSLM_INIT_NORMAL, 1.0), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&w->other, w->net_other), NSLM_OK);
  ck_assert_int_eq(nslm_params_clone(&w->saved, w->p), NSLM_OK);
}

static void pworld_free(pworld *w) {
  ck_assert_msg(nslm_params_equal(w->p, w->saved), "a failing call changed theta");
  nslm_net_destroy(w->net);
  nslm_net_destroy(w->net_other);
  nslm_params_destroy(w->p);
  nslm_params_destroy(w->other);
  nslm_params_destroy(w->saved);
}

START_TEST(bad_params_create_clone_assign) {
  pworld w;
  pworld_make(&w);
  nslm_params *out = (nslm_params *)&val;
  BAD("nslm_params_create", nslm_params_create(NULL, w.net), NSLM_ERR_INVALID);
  BAD("nslm_params_create", nslm_params_create(&out, NULL), NSLM_ERR_INVALID);
  ck_assert_ptr_null(out);
  out = (nslm_params *)&val;
  BAD("nslm_params_clone", nslm_params_clone(NULL, w.p), NSLM_ERR_INVALID);
  BAD("nslm_params_clone", nslm_params_clone(&out, NULL), NSLM_ERR_INVALID);
  ck_assert_ptr_null(out);
  BAD("nslm_params_assign", nslm_params_assign(NULL, w.p), NSLM_ERR_INVALID);
  BAD("nslm_params_assign", nslm_params_assign(w.p, NULL), NSLM_ERR_INVALID);
  BAD("nslm_params_assign", nslm_params_assign(w.p, w.other), NSLM_ERR_DIMENSION);
  nslmt_quiet_begin();
  nslm_params_destroy(NULL);
  size_t z = nslm_params_depth(NULL);
  ck_assert_int_eq(nslmt_quiet_end(), 0);
  ck_assert_uint_eq(z, 0);
  pworld_free(&w);
}
END_TEST

START_TEST(bad_params_layers) {
  pworld w;
  pworld_make(&w);
  size_t r = 777, c = 777;
  BAD("nslm_params_layer_shape", nslm_params_layer_shape(NULL, 0, &r, &c), NSLM_ERR_INVALID);
  BAD("nslm_params_layer_shape", nslm_params_layer_shape(w.p, 0, NULL, &c), NSLM_ERR_INVALID);
  BAD("nslm_params_layer_shape", nslm_params_layer_shape(w.p, 0, &r, NULL), NSLM_ERR_INVALID);
  BAD("nslm_params_layer_shape", nslm_params_layer_shape(w.p, 3, &r, &c), NSLM_ERR_RANGE);
  BAD("nslm_params_layer_shape", nslm_params_layer_shape(w.p, SIZE_MAX, &r, &c), NSLM_ERR_RANGE);
  ck_assert(r == 777 && c == 777);

  /* layer 0 is 4 x 3 */
  double good[12];
  for (int i = 0; i < 12; i++) good[i] = i;
  BAD("nslm_params_set_layer", nslm_params_set_layer(NULL, 0, 4, 3, good, 3, 1), NSLM_ERR_INVALID);
  BAD("nslm_params_set_layer", nslm_params_set_layer(w.p, 0, 4, 3, NULL, 3, 1), NSLM_ERR_INVALID);
  BAD("nslm_params_set_layer", nslm_params_set_layer(w.p, 3, 1, 2, good, 2, 1), NSLM_ERR_RANGE);
  BAD("nslm_params_set_layer", nslm_params_set_layer(w.p, 0, 3, 4, good, 4, 1), NSLM_ERR_DIMENSION);
  BAD("nslm_params_set_layer", nslm_params_set_layer(w.p, 0, 0, 3, good, 3, 1), NSLM_ERR_DIMENSION);
  BAD("nslm_params_set_layer", nslm_params_set_layer(w.p, 0, 4, 0, good, 3, 1), NSLM_ERR_DIMENSION);
  BAD("nslm_params_set_layer", nslm_params_set_layer(w.p, 0, 4, 2, good, 3, 1), NSLM_ERR_DIMENSION);
  good[11] = NAN;
  BAD("nslm_params_set_layer", nslm_params_set_layer(w.p, 0, 4, 3, good, 3, 1), NSLM_ERR_NONFINITE);
  good[11] = 0;
  good[0] = -INFINITY;
  BAD("nslm_params_set_layer", nslm_params_set_layer(w.p, 0, 4, 3, good, 3, 1), NSLM_ERR_NONFINITE);

  BAD("nslm_params_get_layer", nslm_params_get_layer(NULL, 0, 4, 3, buf, 3, 1), NSLM_ERR_INVALID);
  BAD("nslm_params_get_layer", nslm_params_get_layer(w.p, 0, 4, 3, NULL, 3, 1), NSLM_ERR_INVALID);
  BAD("nslm_params_get_layer", nslm_params_get_layer(w.p, 3, 1, 2, buf, 2, 1), NSLM_ERR_RANGE);
  BAD("nslm_params_get_layer", nslm_params_get_layer(w.p, 0, 3, 4, buf, 4, 1), NSLM_ERR_DIMENSION);
  BAD("nslm_params_get_layer", nslm_params_get_layer(w.p, 1, 2, 5, buf, 5, 1), NSLM_ERR_DIMENSION);
  /* overlapping output layouts */
  BAD("nslm_params_get_layer", nslm_params_get_layer(w.p, 0, 4, 3, buf, 0, 1), NSLM_ERR_INVALID);
  BAD("nslm_params_get_layer", nslm_params_get_layer(w.p, 0, 4, 3, buf, 3, 0), NSLM_ERR_INVALID);
  BAD("nslm_params_get_layer", nslm_params_get_layer(w.p, 0, 4, 3, buf, 2, 1), NSLM_ERR_INVALID);
  BAD("nslm_params_get_layer", nslm_params_get_layer(w.p, 0, 4, 3, buf, PTRDIFF_MAX, 1), NSLM_ERR_INVALID);
  pworld_free(&w);
}
END_TEST

START_TEST(bad_params_init_interpolate) {
  pworld w;
  pworld_make(&w);
  BAD("nslm_params_init_random", nslm_params_init_random(NULL, 1, NSLM_INIT_NORMAL, 1.0), NSLM_ERR_INVALID);
  BAD("nslm_params_init_random", nslm_params_init_random(w.p, 1, 2, 1.0), NSLM_ERR_INVALID);
  BAD("nslm_params_init_random", nslm_params_init_random(w.p, 1, -1, 1.0), NSLM_ERR_INVALID);
  BAD("nslm_params_init_random", nslm_params_init_random(w.p, 1, NSLM_INIT_UNIFORM, NAN), NSLM_ERR_NONFINITE);
  BAD("nslm_params_init_random", nslm_params_init_random(w.p, 1, NSLM_INIT_UNIFORM, INFINITY), NSLM_ERR_NONFINITE);
  BAD("nslm_params_init_random", nslm_params_init_random(w.p, 1, NSLM_INIT_UNIFORM, -1.0), NSLM_ERR_DOMAIN);

  nslm_params *q;
  ck_assert_int_eq(nslm_params_clone(&q, w.p), NSLM_OK);
  BAD("nslm_params_interpolate", nslm_params_interpolate(NULL, w.saved, q, 0.5), NSLM_ERR_INVALID);
  BAD("nslm_params_interpolate", nslm_params_interpolate(w.p, NULL, q, 0.5), NSLM_ERR_INVALID);
  BAD("nslm_params_interpolate", nslm_params_interpolate(w.p, w.saved, NULL, 0.5), NSLM_ERR_INVALID);
  BAD("nslm_params_interpolate", nslm_params_interpolate(w.p, w.saved, q, NAN), NSLM_ERR_NONFINITE);
  BAD("nslm_params_interpolate", nslm_params_interpolate(w.p, w.saved, q, INFINITY), NSLM_ERR_NONFINITE);
  BAD("nslm_params_interpolate", nslm_params_interpolate(w.p, w.saved, w.other, 0.5), NSLM_ERR_DIMENSION);
  BAD("nslm_params_interpolate", nslm_params_interpolate(w.p, w.other, w.saved, 0.5), NSLM_ERR_DIMENSION);
  BAD("nslm_params_interpolate", nslm_params_interpolate(w.other, w.saved, q, 0.5), NSLM_ERR_DIMENSION);
  nslm_params_destroy(q);
  pworld_free(&w);
}
END_TEST

START_TEST(bad_params_supports_equal) {
  pworld w;
  pworld_make(&w);
  /* layer 1 is 2 x 4: row mask 2, column mask 4 */
  BAD("nslm_params_row_support", nslm_params_row_support(NULL, 1, mask, 2), NSLM_ERR_INVALID);
  BAD("nslm_params_row_support", nslm_params_row_support(w.p, 1, NULL, 2), NSLM_ERR_INVALID);
  BAD("nslm_params_row_support", nslm_params_row_support(w.p, 3, mask, 1), NSLM_ERR_RANGE);
  BAD("nslm_params_row_support", nslm_params_row_support(w.p, 1, mask, 4), NSLM_ERR_DIMENSION);
  BAD("nslm_params_row_support", nslm_params_row_support(w.p, 1, mask, 0), NSLM_ERR_DIMENSION);
  BAD("nslm_params_col_support", nslm_params_col_support(NULL, 1, mask, 4), NSLM_ERR_INVALID);
  BAD("nslm_params_col_support", nslm_params_col_support(w.p, 1, NULL, 4), NSLM_ERR_INVALID);
  BAD("nslm_params_col_support", nslm_params_col_support(w.p, 3, mask, 1), NSLM_ERR_RANGE);
  BAD("nslm_params_col_support", nslm_params_col_support(w.p, 1, mask, 2), NSLM_ERR_DIMENSION);
  /* equal cannot fail: 0 for NULL or different widths */
  int e;
  QUIET(nslm_params_equal(NULL, NULL), e);
  ck_assert_int_eq(e, 0);
  QUIET(nslm_params_equal(w.p, NULL), e);
  ck_assert_int_eq(e, 0);
  QUIET(nslm_params_equal(NULL, w.p), e);
  ck_assert_int_eq(e, 0);
  QUIET(nslm_params_equal(w.p, w.other), e);
  ck_assert_int_eq(e, 0);
  pworld_free(&w);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Data */

START_TEST(bad_data) {
  double x[12], y[4];
  for (int i = 0; i < 12; i++) x[i] = i;
  for (int i = 0; i < 4; i++) y[i] = -i;
  nslm_data *d = (nslm_data *)&val;
  BAD("nslm_data_create", nslm_data_create(NULL, 4, 3, x, 3, 1, 1, y, 1, 1), NSLM_ERR_INVALID);
  BAD("nslm_data_create", nslm_data_create(&d, 4, 3, NULL, 3, 1, 1, y, 1, 1), NSLM_ERR_INVALID);
  ck_assert_ptr_null(d);
  BAD("nslm_data_create", nslm_data_create(&d, 4, 3, x, 3, 1, 1, NULL, 1, 1), NSLM_ERR_INVALID);
  BAD("nslm_data_create", nslm_data_create(&d, 0, 3, x, 3, 1, 1, y, 1, 1), NSLM_ERR_DIMENSION);
  BAD("nslm_data_create", nslm_data_create(&d, 4, 0, x, 3, 1, 1, y, 1, 1), NSLM_ERR_DIMENSION);
  BAD("nslm_data_create", nslm_data_create(&d, 4, 3, x, 3, 1, 0, y, 1, 1), NSLM_ERR_DIMENSION);
  BAD("nslm_data_create", nslm_data_create(&d, SIZE_MAX / 2, 3, x, 3, 1, 1, y, 1, 1), NSLM_ERR_DIMENSION);
  BAD("nslm_data_create", nslm_data_create(&d, (size_t)1 << 30, (size_t)1 << 20, x, 3, 1, 1, y, 1, 1),
      NSLM_ERR_DIMENSION);
  x[7] = NAN;
  BAD("nslm_data_create", nslm_data_create(&d, 4, 3, x, 3, 1, 1, y, 1, 1), NSLM_ERR_NONFINITE);
  x[7] = 7;
  y[3] = INFINITY;
  BAD("nslm_data_create", nslm_data_create(&d, 4, 3, x, 3, 1, 1, y, 1, 1), NSLM_ERR_NONFINITE);
  ck_assert_ptr_null(d);
  y[3] = -3;

  ck_assert_int_eq(nslm_data_create(&d, 4, 3, x, 3, 1, 1, y, 1, 1), NSLM_OK);
  BAD("nslm_data_get_x", nslm_data_get_x(NULL, buf, 3, 1), NSLM_ERR_INVALID);
  BAD("nslm_data_get_x", nslm_data_get_x(d, NULL, 3, 1), NSLM_ERR_INVALID);
  BAD("nslm_data_get_x", nslm_data_get_x(d, buf, 0, 0), NSLM_ERR_INVALID);
  BAD("nslm_data_get_x", nslm_data_get_x(d, buf, 2, 1), NSLM_ERR_INVALID); /* overlap */
  BAD("nslm_data_get_y", nslm_data_get_y(NULL, buf, 1, 1), NSLM_ERR_INVALID);
  BAD("nslm_data_get_y", nslm_data_get_y(d, NULL, 1, 1), NSLM_ERR_INVALID);
  BAD("nslm_data_get_y", nslm_data_get_y(d, buf, 0, 1), NSLM_ERR_INVALID);
  /* Queries that cannot fail: 0 for NULL. */
  size_t z;
  QUIET(nslm_data_n(NULL), z);
  ck_assert_uint_eq(z, 0);
  QUIET(nslm_data_d(NULL), z);
  ck_assert_uint_eq(z, 0);
  QUIET(nslm_data_m(NULL), z);
  ck_assert_uint_eq(z, 0);
  nslmt_quiet_begin();
  nslm_data_destroy(NULL);
  ck_assert_int_eq(nslmt_quiet_end(), 0);
  /* the data set is unchanged by the failures */
  double xo[12];
  ck_assert_int_eq(nslm_data_get_x(d, xo, 3, 1), NSLM_OK);
  for (int i = 0; i < 12; i++) ck_assert(xo[i] == i);
  nslm_data_destroy(d);
}
END_TEST

void nslmt_bad_model(Suite *s) {
  static const char *fns[] = {
      "nslm_version_number", "nslm_version_string", "nslm_strerror", "nslm_last_error",
      "nslm_last_error_copy", "nslm_net_create", "nslm_net_destroy", "nslm_net_set_activation",
      "nslm_net_set_activation_callback", "nslm_net_get_activation", "nslm_net_set_num_threads",
      "nslm_net_num_threads", "nslm_net_depth", "nslm_net_width", "nslm_net_paper_width_bound",
      "nslm_net_create_for", "nslm_params_create", "nslm_params_destroy", "nslm_params_clone",
      "nslm_params_assign", "nslm_params_depth", "nslm_params_layer_shape",
      "nslm_params_set_layer", "nslm_params_get_layer", "nslm_params_init_random",
      "nslm_params_interpolate", "nslm_params_row_support", "nslm_params_col_support",
      "nslm_params_equal", "nslm_data_create", "nslm_data_destroy", "nslm_data_n",
      "nslm_data_d", "nslm_data_m", "nslm_data_get_x", "nslm_data_get_y"};
  for (size_t i = 0; i < sizeof fns / sizeof *fns; i++) nslmt_bad_cover(fns[i]);
  TCase *tc = tcase_create("bad_model");
  tcase_add_test(tc, bad_version_and_status);
  tcase_add_test(tc, bad_net_create);
  tcase_add_test(tc, bad_net_activation);
  tcase_add_test(tc, bad_net_queries);
  tcase_add_test(tc, bad_net_create_for);
  tcase_add_test(tc, bad_params_create_clone_assign);
  tcase_add_test(tc, bad_params_layers);
  tcase_add_test(tc, bad_params_init_interpolate);
  tcase_add_test(tc, bad_params_supports_equal);
  tcase_add_test(tc, bad_data);
  suite_add_tcase(s, tc);
}
