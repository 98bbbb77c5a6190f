/* bad_construction.c - bad-input cases of the construction area: options,
 * active units, block predicates, permutations, compression, relocation,
 * connect, descent, widths, global minimizer, penalized report.  Each
 * failing call returns its documented status, prints nothing, leaves its
 * outputs untouched (a path out-parameter is set to NULL) and leaves a
 * fresh detail message naming the function. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "badinput.h"
#include "nslm.h"
#include "testutil.h"

#define SENT 777.25
#define BUFLEN 64

static double val, val2;
static size_t zbuf[BUFLEN];
static int ival, ibuf[BUFLEN];
static unsigned char mask[BUFLEN];

static void reset_outputs(void) {
  for (int i = 0; i < BUFLEN; i++) {
    zbuf[i] = 777;
    ibuf[i] = 777;
    mask[i] = 0xA5;
  }
  val = val2 = SENT;
  ival = 777;
}

static void check_outputs(int line) {
  for (int i = 0; i < BUFLEN; i++) {
    ck_assert_msg(zbuf[i] == 777 && ibuf[i] == 777, "line %d: output %d touched", line, i);
    ck_assert_msg(mask[i] == 0xA5, "line %d: mask %d touched", line, i);
  }
  ck_assert_msg(val == SENT && val2 == SENT && ival == 777, "line %d: scalar output touched", line);
}

#define BAD NSLMT_BAD

/* A small model: d = 2, hidden 4, 4, m = 1, n = 3 (tanh). */
typedef struct {
  nslm_net *net, *other;
  nslm_params *t, *g, *out, *wrong;
  nslm_data *data, *data_bad;
  nslm_loss *loss;
  nslm_constraint *con;
  nslm_construct_opts *opts;
} model_t;

static void model_make(model_t *md) {
  size_t w[4] = {2, 4, 4, 1}, w2[4] = {2, 5, 4, 1};
  ck_assert_int_eq(nslm_net_create(&md->net, 2, w), NSLM_OK);
  ck_assert_int_eq(nslm_net_create(&md->other, 2, w2), NSLM_OK);
  for (size_t j = 1; j <= 2; j++) nslm_net_set_activation(md->net, j, NSLM_ACT_TANH, 0, 0);
  ck_assert_int_eq(nslm_params_create(&md->t, md->net), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&md->g, md->net), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&md->out, md->net), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&md->wrong, md->other), NSLM_OK);
  nslm_params_init_random(md->t, 1, NSLM_INIT_NORMAL, 1.0);
  nslm_params_init_random(md->g, 2, NSLM_INIT_NORMAL, 1.0);
  double x[6] = {1, 2, -1, 0.5, 0.3, -2}, y[3] = {1, 0, -1}, y2[6] = {1, 0, -1, 0, 1, 1};
  ck_assert_int_eq(nslm_data_create(&md->data, 3, 2, x, 2, 1, 1, y, 1, 1), NSLM_OK);
  ck_assert_int_eq(nslm_data_create(&md->data_bad, 3, 2, x, 2, 1, 2, y2, 2, 1), NSLM_OK);
  ck_assert_int_eq(nslm_loss_create(&md->loss, NSLM_LOSS_SQUARED, 0), NSLM_OK);
  ck_assert_int_eq(nslm_constraint_create(&md->con, 0.01, 0.01, 1.0), NSLM_OK);
  ck_assert_int_eq(nslm_construct_opts_create(&md->opts), NSLM_OK);
}

static void model_free(model_t *md) {
  nslm_net_destroy(md->net);
  nslm_net_destroy(md->other);
  nslm_params_destroy(md->t);
  nslm_params_destroy(md->g);
  nslm_params_destroy(md->out);
  nslm_params_destroy(md->wrong);
  nslm_data_destroy(md->data);
  nslm_data_destroy(md->data_bad);
  nslm_loss_destroy(md->loss);
  nslm_constraint_destroy(md->con);
  nslm_construct_opts_destroy(md->opts);
}

/* out still holds its zeros */
static void out_untouched(const model_t *md) {
  nslm_params *z;
  ck_assert_int_eq(nslm_params_create(&z, md->net), NSLM_OK);
  ck_assert(nslm_params_equal(z, md->out));
  nslm_params_destroy(z);
}

START_TEST(bad_construct_opts) {
  nslm_construct_opts *o = (nslm_construct_opts *)&val;
  BAD("nslm_construct_opts_create", nslm_construct_opts_create(NULL), NSLM_ERR_INVALID);
  ck_assert_int_eq(nslm_construct_opts_create(&o), NSLM_OK);
  BAD("nslm_construct_opts_set_int", nslm_construct_opts_set_int(NULL, NSLM_CONSTRUCT_MODE, 0), NSLM_ERR_INVALID);
  BAD("nslm_construct_opts_set_int", nslm_construct_opts_set_int(o, NSLM_CONSTRUCT_MODE, 7), NSLM_ERR_INVALID);
  BAD("nslm_construct_opts_set_int", nslm_construct_opts_set_int(o, NSLM_CONSTRUCT_RANK_TOL, 0), NSLM_ERR_INVALID);
  BAD("nslm_construct_opts_set_int", nslm_construct_opts_set_int(o, 999, 0), NSLM_ERR_INVALID);
  BAD("nslm_construct_opts_set_int", nslm_construct_opts_set_int(o, NSLM_CONSTRUCT_NUM_THREADS, -1), NSLM_ERR_DOMAIN);
  BAD("nslm_construct_opts_set_int", nslm_construct_opts_set_int(o, NSLM_CONSTRUCT_GLOBAL_MAX_ITER, 0), NSLM_ERR_DOMAIN);
  BAD("nslm_construct_opts_set_int", nslm_construct_opts_set_int(o, NSLM_CONSTRUCT_AVOID, 2), NSLM_ERR_DOMAIN);
  BAD("nslm_construct_opts_set_int", nslm_construct_opts_set_int(o, NSLM_CONSTRUCT_PARALLEL, 3), NSLM_ERR_DOMAIN);
  BAD("nslm_construct_opts_set_int", nslm_construct_opts_set_int(o, NSLM_CONSTRUCT_PARALLEL, -1), NSLM_ERR_DOMAIN);
  BAD("nslm_construct_opts_set_double", nslm_construct_opts_set_double(NULL, NSLM_CONSTRUCT_RANK_TOL, 0), NSLM_ERR_INVALID);
  BAD("nslm_construct_opts_set_double", nslm_construct_opts_set_double(o, NSLM_CONSTRUCT_MODE, 0), NSLM_ERR_INVALID);
  BAD("nslm_construct_opts_set_double", nslm_construct_opts_set_double(o, NSLM_CONSTRUCT_RANK_TOL, NAN), NSLM_ERR_NONFINITE);
  BAD("nslm_construct_opts_set_double", nslm_construct_opts_set_double(o, NSLM_CONSTRUCT_RANK_TOL, 1.0), NSLM_ERR_DOMAIN);
  BAD("nslm_construct_opts_set_double", nslm_construct_opts_set_double(o, NSLM_CONSTRUCT_RANK_TOL, -1e-3), NSLM_ERR_DOMAIN);
  BAD("nslm_construct_opts_set_double", nslm_construct_opts_set_double(o, NSLM_CONSTRUCT_GLOBAL_TOL, 0.0), NSLM_ERR_DOMAIN);
  BAD("nslm_construct_opts_set_double", nslm_construct_opts_set_double(o, NSLM_CONSTRUCT_GLOBAL_TOL, INFINITY), NSLM_ERR_NONFINITE);
  BAD("nslm_construct_opts_get_int", nslm_construct_opts_get_int(NULL, NSLM_CONSTRUCT_MODE, &ival), NSLM_ERR_INVALID);
  BAD("nslm_construct_opts_get_int", nslm_construct_opts_get_int(o, NSLM_CONSTRUCT_MODE, NULL), NSLM_ERR_INVALID);
  BAD("nslm_construct_opts_get_int", nslm_construct_opts_get_int(o, NSLM_CONSTRUCT_RANK_TOL, &ival), NSLM_ERR_INVALID);
  BAD("nslm_construct_opts_get_double", nslm_construct_opts_get_double(NULL, NSLM_CONSTRUCT_RANK_TOL, &val), NSLM_ERR_INVALID);
  BAD("nslm_construct_opts_get_double", nslm_construct_opts_get_double(o, NSLM_CONSTRUCT_RANK_TOL, NULL), NSLM_ERR_INVALID);
  BAD("nslm_construct_opts_get_double", nslm_construct_opts_get_double(o, NSLM_CONSTRUCT_MODE, &val), NSLM_ERR_INVALID);
  /* the failed setters changed nothing: the defaults are still there */
  int v;
  double d;
  ck_assert_int_eq(nslm_construct_opts_get_int(o, NSLM_CONSTRUCT_MODE, &v), NSLM_OK);
  ck_assert_int_eq(v, NSLM_COMPRESS_ROW);
  ck_assert_int_eq(nslm_construct_opts_get_int(o, NSLM_CONSTRUCT_AVOID, &v), NSLM_OK);
  ck_assert_int_eq(v, 1);
  ck_assert_int_eq(nslm_construct_opts_get_int(o, NSLM_CONSTRUCT_PARALLEL, &v), NSLM_OK);
  ck_assert_int_eq(v, 1);
  ck_assert_int_eq(nslm_construct_opts_get_double(o, NSLM_CONSTRUCT_RANK_TOL, &d), NSLM_OK);
  ck_assert(d == 1e-13);
  ck_assert_int_eq(nslm_construct_opts_get_double(o, NSLM_CONSTRUCT_GLOBAL_TOL, &d), NSLM_OK);
  ck_assert(d == 1e-9);
  nslm_construct_opts_destroy(o);
  nslmt_quiet_begin();
  nslm_construct_opts_destroy(NULL);
  ck_assert_int_eq(nslmt_quiet_end(), 0);
}
END_TEST

START_TEST(bad_units) {
  model_t md;
  model_make(&md);
  BAD("nslm_params_active_units", nslm_params_active_units(NULL, 1, mask, 4, zbuf), NSLM_ERR_INVALID);
  BAD("nslm_params_active_units", nslm_params_active_units(md.t, 0, mask, 4, zbuf), NSLM_ERR_RANGE);
  BAD("nslm_params_active_units", nslm_params_active_units(md.t, 3, mask, 4, zbuf), NSLM_ERR_RANGE);
  BAD("nslm_params_active_units", nslm_params_active_units(md.t, 1, mask, 5, zbuf), NSLM_ERR_DIMENSION);
  BAD("nslm_params_active_units", nslm_params_active_units(md.t, 1, NULL, 4, zbuf), NSLM_ERR_INVALID);
  BAD("nslm_params_is_upper_block", nslm_params_is_upper_block(NULL, 1, &ival), NSLM_ERR_INVALID);
  BAD("nslm_params_is_upper_block", nslm_params_is_upper_block(md.t, 1, NULL), NSLM_ERR_INVALID);
  BAD("nslm_params_is_lower_block", nslm_params_is_lower_block(NULL, 1, &ival), NSLM_ERR_INVALID);
  BAD("nslm_params_is_lower_block", nslm_params_is_lower_block(md.t, 1, NULL), NSLM_ERR_INVALID);
  unsigned char keep[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  BAD("nslm_params_is_block", nslm_params_is_block(NULL, keep, 8, &ival), NSLM_ERR_INVALID);
  BAD("nslm_params_is_block", nslm_params_is_block(md.t, NULL, 8, &ival), NSLM_ERR_INVALID);
  BAD("nslm_params_is_block", nslm_params_is_block(md.t, keep, 7, &ival), NSLM_ERR_DIMENSION);
  BAD("nslm_params_is_block", nslm_params_is_block(md.t, keep, 8, NULL), NSLM_ERR_INVALID);
  size_t perm[8] = {0, 1, 2, 3, 3, 2, 1, 0}, dup[8] = {0, 0, 2, 3, 0, 1, 2, 3},
         big[8] = {0, 1, 2, 4, 0, 1, 2, 3};
  nslm_params *before;
  ck_assert_int_eq(nslm_params_clone(&before, md.t), NSLM_OK);
  BAD("nslm_params_permute_units", nslm_params_permute_units(NULL, md.t, perm, 8), NSLM_ERR_INVALID);
  BAD("nslm_params_permute_units", nslm_params_permute_units(md.out, NULL, perm, 8), NSLM_ERR_INVALID);
  BAD("nslm_params_permute_units", nslm_params_permute_units(md.out, md.t, NULL, 8), NSLM_ERR_INVALID);
  BAD("nslm_params_permute_units", nslm_params_permute_units(md.out, md.t, perm, 7), NSLM_ERR_DIMENSION);
  BAD("nslm_params_permute_units", nslm_params_permute_units(md.wrong, md.t, perm, 8), NSLM_ERR_DIMENSION);
  BAD("nslm_params_permute_units", nslm_params_permute_units(md.out, md.t, dup, 8), NSLM_ERR_DOMAIN);
  BAD("nslm_params_permute_units", nslm_params_permute_units(md.out, md.t, big, 8), NSLM_ERR_DOMAIN);
  BAD("nslm_params_permute_units", nslm_params_permute_units(md.t, md.t, dup, 8), NSLM_ERR_DOMAIN);
  out_untouched(&md);
  ck_assert(nslm_params_equal(before, md.t));
  nslm_params_destroy(before);
  model_free(&md);
}
END_TEST

START_TEST(bad_compress_relocate) {
  model_t md;
  model_make(&md);
  nslm_path *path = (nslm_path *)&val;
  size_t l = 2;
#define COMPRESS(n, t, d, c, o, out, p, a, len) \
  nslm_compress(n, t, d, c, o, out, p, a, len, &val, &val2)
  BAD("nslm_compress", COMPRESS(NULL, md.t, md.data, NULL, NULL, md.out, &path, zbuf, l), NSLM_ERR_INVALID);
  ck_assert_ptr_null(path);
  BAD("nslm_compress", COMPRESS(md.net, NULL, md.data, NULL, NULL, md.out, &path, zbuf, l), NSLM_ERR_INVALID);
  BAD("nslm_compress", COMPRESS(md.net, md.t, NULL, NULL, NULL, md.out, &path, zbuf, l), NSLM_ERR_INVALID);
  BAD("nslm_compress", COMPRESS(md.net, md.t, md.data, NULL, NULL, NULL, &path, zbuf, l), NSLM_ERR_INVALID);
  BAD("nslm_compress", COMPRESS(md.net, md.wrong, md.data, NULL, NULL, md.out, &path, zbuf, l), NSLM_ERR_DIMENSION);
  BAD("nslm_compress", COMPRESS(md.net, md.t, md.data, NULL, NULL, md.wrong, &path, zbuf, l), NSLM_ERR_DIMENSION);
  BAD("nslm_compress", COMPRESS(md.net, md.t, md.data_bad, NULL, NULL, md.out, &path, zbuf, l), NSLM_ERR_DIMENSION);
  BAD("nslm_compress", COMPRESS(md.net, md.t, md.data, NULL, NULL, md.out, &path, zbuf, 3), NSLM_ERR_DIMENSION);
  BAD("nslm_compress", COMPRESS(md.net, md.t, md.data, NULL, NULL, md.out, &path, NULL, 2), NSLM_ERR_INVALID);
  /* JOINT raises r under a binding constraint: refused, with r before
   * and after reported (those two outputs are the documented exception).
   * X = I (2 samples), identity units with features (1.01, 0), (0.6, 0.8)
   * and (0.8, 0.6); the output uses only the third.  Pivoted QR picks the
   * first two, and (0.8, 0.6) = 0.3465 (1.01, 0) + 0.75 (0.6, 0.8): the
   * output row's l1 norm goes from 1 to 1.0965. */
  {
    size_t w3[3] = {2, 3, 1};
    nslm_net *n3;
    nslm_params *t3, *o3;
    nslm_data *d3;
    nslm_constraint *tight;
    double x[4] = {1, 0, 0, 1}, y[2] = {0, 0}, l0[6] = {1.01, 0, 0.6, 0.8, 0.8, 0.6}, l1[3] = {0, 0, 1};
    ck_assert_int_eq(nslm_net_create(&n3, 1, w3), NSLM_OK);
    ck_assert_int_eq(nslm_net_set_activation(n3, 1, NSLM_ACT_IDENTITY, 0, 0), NSLM_OK);
    ck_assert_int_eq(nslm_params_create(&t3, n3), NSLM_OK);
    ck_assert_int_eq(nslm_params_create(&o3, n3), NSLM_OK);
    nslm_params_set_layer(t3, 0, 3, 2, l0, 2, 1);
    nslm_params_set_layer(t3, 1, 1, 3, l1, 3, 1);
    ck_assert_int_eq(nslm_data_create(&d3, 2, 2, x, 2, 1, 1, y, 1, 1), NSLM_OK);
    ck_assert_int_eq(nslm_constraint_create(&tight, 1.0, 0.5, 1.0), NSLM_OK); /* r = 1 */
    nslm_construct_opts_set_int(md.opts, NSLM_CONSTRUCT_MODE, NSLM_COMPRESS_JOINT);
    double rb = -1, ra = -1;
    size_t act = 777;
    path = (nslm_path *)&val;
    nslmt_quiet_begin();
    int st = nslm_compress(n3, t3, d3, tight, md.opts, o3, &path, &act, 1, &rb, &ra);
    ck_assert_int_eq(nslmt_quiet_end(), 0);
    ck_assert_int_eq(st, NSLM_ERR_INFEASIBLE);
    ck_assert_ptr_null(path);
    ck_assert_uint_eq(act, 777);
    ck_assert_double_eq_tol(rb, 1.0, 1e-15);
    ck_assert_double_eq_tol(ra, 0.3465346534653465 + 0.75, 1e-12); /* 0.35/1.01 + 0.75 */
    ck_assert_ptr_nonnull(strstr(nslm_last_error(), "nslm_compress"));
    nslm_params *z;
    ck_assert_int_eq(nslm_params_create(&z, n3), NSLM_OK);
    ck_assert(nslm_params_equal(z, o3));
    /* unconstrained, the same call succeeds; SHARED keeps r <= 1 by
     * falling back to the ROW reduction for that row */
    ck_assert_int_eq(nslm_compress(n3, t3, d3, NULL, md.opts, o3, NULL, &act, 1, NULL, NULL), NSLM_OK);
    ck_assert_uint_eq(act, 2);
    nslm_construct_opts_set_int(md.opts, NSLM_CONSTRUCT_MODE, NSLM_COMPRESS_SHARED);
    ck_assert_int_eq(nslm_compress(n3, t3, d3, tight, md.opts, o3, NULL, &act, 1, &rb, &ra), NSLM_OK);
    ck_assert_double_le(ra, 1.0);
    nslm_params_destroy(z);
    nslm_params_destroy(t3);
    nslm_params_destroy(o3);
    nslm_data_destroy(d3);
    nslm_constraint_destroy(tight);
    nslm_net_destroy(n3);
  }
  nslm_construct_opts_set_int(md.opts, NSLM_CONSTRUCT_MODE, NSLM_COMPRESS_ROW);

  BAD("nslm_compress_widths", nslm_compress_widths(NULL, md.t, md.data, NULL, NULL, zbuf, l), NSLM_ERR_INVALID);
  BAD("nslm_compress_widths", nslm_compress_widths(md.net, md.t, NULL, NULL, NULL, zbuf, l), NSLM_ERR_INVALID);
  BAD("nslm_compress_widths", nslm_compress_widths(md.net, md.t, md.data, NULL, NULL, NULL, l), NSLM_ERR_INVALID);
  BAD("nslm_compress_widths", nslm_compress_widths(md.net, md.t, md.data, NULL, NULL, zbuf, 1), NSLM_ERR_DIMENSION);
  BAD("nslm_compress_widths", nslm_compress_widths(md.net, md.wrong, md.data, NULL, NULL, zbuf, l), NSLM_ERR_DIMENSION);

  unsigned char avoid[8] = {1, 1, 1, 1, 0, 0, 0, 0};
  path = (nslm_path *)&val;
  BAD("nslm_relocate", nslm_relocate(NULL, md.t, avoid, 8, md.out, &path), NSLM_ERR_INVALID);
  ck_assert_ptr_null(path);
  BAD("nslm_relocate", nslm_relocate(md.net, NULL, avoid, 8, md.out, &path), NSLM_ERR_INVALID);
  BAD("nslm_relocate", nslm_relocate(md.net, md.t, NULL, 8, md.out, &path), NSLM_ERR_INVALID);
  BAD("nslm_relocate", nslm_relocate(md.net, md.t, avoid, 8, NULL, &path), NSLM_ERR_INVALID);
  BAD("nslm_relocate", nslm_relocate(md.net, md.t, avoid, 9, md.out, &path), NSLM_ERR_DIMENSION);
  BAD("nslm_relocate", nslm_relocate(md.net, md.wrong, avoid, 8, md.out, &path), NSLM_ERR_DIMENSION);
  /* every unit of layer 1 is active and must move: nowhere to go */
  BAD("nslm_relocate", nslm_relocate(md.net, md.t, avoid, 8, md.out, &path), NSLM_ERR_TOO_NARROW);
  ck_assert_ptr_null(path);
  out_untouched(&md);
  model_free(&md);
}
END_TEST

START_TEST(bad_connect_descent) {
  model_t md;
  model_make(&md);
  nslm_path *path = (nslm_path *)&val;
  BAD("nslm_connect", nslm_connect(md.net, md.t, md.g, md.data, NULL, NULL, NULL), NSLM_ERR_INVALID);
  BAD("nslm_connect", nslm_connect(NULL, md.t, md.g, md.data, NULL, NULL, &path), NSLM_ERR_INVALID);
  ck_assert_ptr_null(path);
  BAD("nslm_connect", nslm_connect(md.net, NULL, md.g, md.data, NULL, NULL, &path), NSLM_ERR_INVALID);
  BAD("nslm_connect", nslm_connect(md.net, md.t, NULL, md.data, NULL, NULL, &path), NSLM_ERR_INVALID);
  BAD("nslm_connect", nslm_connect(md.net, md.t, md.g, NULL, NULL, NULL, &path), NSLM_ERR_INVALID);
  BAD("nslm_connect", nslm_connect(md.net, md.t, md.wrong, md.data, NULL, NULL, &path), NSLM_ERR_DIMENSION);
  BAD("nslm_connect", nslm_connect(md.net, md.t, md.g, md.data_bad, NULL, NULL, &path), NSLM_ERR_DIMENSION);
  /* JOINT needs rank(A_j) = 3 units per parameter: 6 > 4 */
  nslm_construct_opts_set_int(md.opts, NSLM_CONSTRUCT_MODE, NSLM_COMPRESS_JOINT);
  BAD("nslm_connect", nslm_connect(md.net, md.t, md.g, md.data, NULL, md.opts, &path), NSLM_ERR_TOO_NARROW);
  ck_assert_ptr_null(path);
  BAD("nslm_descent", nslm_descent(md.net, md.t, md.g, md.data, md.loss, NULL, md.opts, &path, &val), NSLM_ERR_TOO_NARROW);
  BAD("nslm_descent", nslm_descent(md.net, md.t, md.g, md.data, md.loss, NULL, NULL, NULL, &val), NSLM_ERR_INVALID);
  BAD("nslm_descent", nslm_descent(md.net, md.t, md.g, md.data, NULL, NULL, NULL, &path, &val), NSLM_ERR_INVALID);
  ck_assert_ptr_null(path);
  BAD("nslm_descent", nslm_descent(NULL, md.t, md.g, md.data, md.loss, NULL, NULL, &path, &val), NSLM_ERR_INVALID);
  BAD("nslm_descent", nslm_descent(md.net, md.t, md.wrong, md.data, md.loss, NULL, NULL, &path, &val), NSLM_ERR_DIMENSION);
  BAD("nslm_connect_widths", nslm_connect_widths(NULL, md.t, md.g, md.data, NULL, NULL, zbuf, 2, &ival), NSLM_ERR_INVALID);
  BAD("nslm_connect_widths", nslm_connect_widths(md.net, md.t, NULL, md.data, NULL, NULL, zbuf, 2, &ival), NSLM_ERR_INVALID);
  BAD("nslm_connect_widths", nslm_connect_widths(md.net, md.t, md.g, md.data, NULL, NULL, NULL, 2, &ival), NSLM_ERR_INVALID);
  BAD("nslm_connect_widths", nslm_connect_widths(md.net, md.t, md.g, md.data, NULL, NULL, zbuf, 2, NULL), NSLM_ERR_INVALID);
  BAD("nslm_connect_widths", nslm_connect_widths(md.net, md.t, md.g, md.data, NULL, NULL, zbuf, 3, &ival), NSLM_ERR_DIMENSION);
  BAD("nslm_connect_widths", nslm_connect_widths(md.net, md.t, md.g, md.data_bad, NULL, NULL, zbuf, 2, &ival), NSLM_ERR_DIMENSION);
  model_free(&md);
}
END_TEST

START_TEST(bad_global_and_report) {
  model_t md;
  model_make(&md);
  nslm_params *before;
  ck_assert_int_eq(nslm_params_clone(&before, md.t), NSLM_OK);
#define GM(n, t, d, l, o, out) nslm_global_minimize(n, t, d, l, o, out, zbuf, &ival, &val)
  BAD("nslm_global_minimize", GM(NULL, md.t, md.data, md.loss, NULL, md.out), NSLM_ERR_INVALID);
  BAD("nslm_global_minimize", GM(md.net, NULL, md.data, md.loss, NULL, md.out), NSLM_ERR_INVALID);
  BAD("nslm_global_minimize", GM(md.net, md.t, NULL, md.loss, NULL, md.out), NSLM_ERR_INVALID);
  BAD("nslm_global_minimize", GM(md.net, md.t, md.data, NULL, NULL, md.out), NSLM_ERR_INVALID);
  BAD("nslm_global_minimize", GM(md.net, md.t, md.data, md.loss, NULL, NULL), NSLM_ERR_INVALID);
  BAD("nslm_global_minimize", GM(md.net, md.t, md.data, md.loss, NULL, md.wrong), NSLM_ERR_DIMENSION);
  BAD("nslm_global_minimize", GM(md.net, md.t, md.data_bad, md.loss, NULL, md.out), NSLM_ERR_DIMENSION);
  out_untouched(&md);
  ck_assert(nslm_params_equal(before, md.t));
  nslm_params_destroy(before);

  nslm_path *path;
  ck_assert_int_eq(nslm_path_create(&path, md.net, md.t), NSLM_OK);
  ck_assert_int_eq(nslm_path_append(path, md.g, NSLM_SEG_GENERAL), NSLM_OK);
#define PR(n, p, d, l, c, lam, k, tol, len) \
  nslm_penalized_report(n, p, d, l, c, lam, k, tol, (double *)zbuf, ibuf, len)
  BAD("nslm_penalized_report", PR(NULL, path, md.data, md.loss, md.con, 1.0, 4, 0.0, 1), NSLM_ERR_INVALID);
  BAD("nslm_penalized_report", PR(md.net, NULL, md.data, md.loss, md.con, 1.0, 4, 0.0, 1), NSLM_ERR_INVALID);
  BAD("nslm_penalized_report", PR(md.net, path, NULL, md.loss, md.con, 1.0, 4, 0.0, 1), NSLM_ERR_INVALID);
  BAD("nslm_penalized_report", PR(md.net, path, md.data, NULL, md.con, 1.0, 4, 0.0, 1), NSLM_ERR_INVALID);
  BAD("nslm_penalized_report", PR(md.net, path, md.data, md.loss, NULL, 1.0, 4, 0.0, 1), NSLM_ERR_INVALID);
  BAD("nslm_penalized_report", PR(md.net, path, md.data, md.loss, md.con, NAN, 4, 0.0, 1), NSLM_ERR_NONFINITE);
  BAD("nslm_penalized_report", PR(md.net, path, md.data, md.loss, md.con, -1.0, 4, 0.0, 1), NSLM_ERR_DOMAIN);
  BAD("nslm_penalized_report", PR(md.net, path, md.data, md.loss, md.con, 1.0, 0, 0.0, 1), NSLM_ERR_DOMAIN);
  BAD("nslm_penalized_report", PR(md.net, path, md.data, md.loss, md.con, 1.0, 4, -1.0, 1), NSLM_ERR_DOMAIN);
  BAD("nslm_penalized_report", PR(md.net, path, md.data, md.loss, md.con, 1.0, 4, 0.0, 2), NSLM_ERR_DIMENSION);
  BAD("nslm_penalized_report", PR(md.other, path, md.data, md.loss, md.con, 1.0, 4, 0.0, 1), NSLM_ERR_DIMENSION);
  BAD("nslm_penalized_report", PR(md.net, path, md.data_bad, md.loss, md.con, 1.0, 4, 0.0, 1), NSLM_ERR_DIMENSION);
  nslm_path_destroy(path);
  model_free(&md);
}
END_TEST

void nslmt_bad_construction(Suite *s) {
  static const char *fns[] = {
      "nslm_construct_opts_create", "nslm_construct_opts_destroy", "nslm_construct_opts_set_int",
      "nslm_construct_opts_set_double", "nslm_construct_opts_get_int",
      "nslm_construct_opts_get_double", "nslm_params_active_units", "nslm_params_is_upper_block",
      "nslm_params_is_lower_block", "nslm_params_is_block", "nslm_params_permute_units",
      "nslm_compress", "nslm_relocate", "nslm_connect", "nslm_descent", "nslm_compress_widths",
      "nslm_connect_widths", "nslm_global_minimize", "nslm_penalized_report"};
  for (size_t i = 0; i < sizeof fns / sizeof *fns; i++) nslmt_bad_cover(fns[i]);
  TCase *tc = tcase_create("bad_construction");
  tcase_add_test(tc, bad_construct_opts);
  tcase_add_test(tc, bad_units);
  tcase_add_test(tc, bad_compress_relocate);
  tcase_add_test(tc, bad_connect_descent);
  tcase_add_test(tc, bad_global_and_report);
  suite_add_tcase(s, tc);
}
