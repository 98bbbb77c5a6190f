/* test_fault.c - allocation-failure injection over the whole public API
 * (issue 7).
 *
 * A scripted scenario - data and parameters saved and loaded, the model
 * and its evaluation, the Caratheodory reduction, compression,
 * relocation, connect, descent, the path and its certificates, the
 * landscape tools, every save - is run call by call.  For each call
 * ("step") the number Y of allocations it makes through lib/alloc.h is
 * measured on a clean run; then for every k < Y the k-th allocation is
 * failed once, and again persistently (every allocation from the k-th
 * on).  Every such run must
 *   - return NSLM_ERR_NOMEM and record a detail message;
 *   - leave every output untouched (value outputs keep their sentinels,
 *     created handles are NULL) and every object it was given to modify
 *     unchanged (digest before = digest after), every file it was asked
 *     to replace intact byte for byte, with no temporary file left;
 *   - leak nothing: the blocks allocated through malloc/calloc/realloc
 *     (counted exactly by link-time wrappers, see below) are the same
 *     after the run and the release of its outputs as before;
 *   - leave the handles it was given valid: the call is run again without
 *     injection and its result must equal the clean run's bit for bit.
 * With k >= the count the call must complete and give the clean result.
 *
 * BLIS is warmed up (a product, then each step's clean run) inside each
 * forked test before any injection, so that the failures hit our own
 * allocations.  BLIS's own allocations (its context and packing-buffer
 * pools) do not go through lib/alloc.h and cannot be failed here: BLIS
 * 0.9 aborts the process when one of them fails (its error checking
 * ends in bli_abort).  That is a limitation of the library that nslm(3)
 * should state next to "No function prints, aborts or exits" (reported to
 * the lead); this test cannot reach it.  LAPACK allocates nothing.
 *
 * Every step runs with one BLIS thread (net, options), so repeated runs
 * are bitwise identical and no OpenMP team is created.
 *
 * The runner prints
 *   allocation sites failed: X / total Y, calls covered: C / public functions P
 * X counts the one-shot failures that behaved, Y the allocations of all
 * clean runs, C the public functions the scenario calls under injection,
 * P those of include/nslm.h.  Uncovered functions are listed. */
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "alloc.h"
#include "hardutil.h"
#include "hardwrap.h"
#include "nslm.h"
#include "status.h"
#include "testutil.h"

#define SENT ((void *)0x5e47)         /* handle out-parameters before a call */
#define SENT_BYTE 0xA5                /* value outputs before a call */
#define OUTN 512
#define MAX_PROBLEMS 12

/* Exact leak accounting: tests/hardwrap.c (malloc, calloc, realloc and
 * free wrapped at link time). */
#define live_blocks nslmh_live_blocks()
#define track_overflow nslmh_track_overflow()

/* ------------------------------------------------------------------ */
/* The world: objects built once per forked test, never modified by steps */

enum { F_NPY, F_NPZ, F_PATH, F_PCSV, F_PSVG, F_GCSV, F_GSVG, F_COUNT };
static const char *FILE_NAMES[F_COUNT] = {"x.npy",   "theta.npz", "path.npz", "profile.csv",
                                          "prof.svg", "plane.csv", "plane.svg"};

typedef struct {
  nslmh_inst in;
  nslm_params *bar;         /* compress(theta) */
  nslm_path *path;          /* connect(theta, gamma) */
  nslm_certificate *cert;   /* ALGEBRAIC certificate of path */
  nslm_caratheodory_opts *kopts;
  size_t nhidden;           /* p_1 + ... + p_l */
  unsigned char avoid[64];  /* the active units of bar */
  size_t perm[64];          /* a permutation of the hidden units */
  size_t h, r;              /* Caratheodory: Z is h x r */
  double z[12 * 4], zt[12 * 4], t[12], wrows[3 * 12];
  nslm_caratheodory_opts *kopts_paper;
  nslm_loss *ce;            /* softmax cross-entropy */
  size_t k;                 /* grid points per segment */
  size_t np;                /* grid size */
  double gt[256], grisk[256], gr[256];
  char dir[512], file[F_COUNT][600];
} world_t;

static world_t W;

/* Objects a step may modify (prepared before each run, without injection). */
typedef struct {
  nslm_params *p[2];
  nslm_path *path;
  nslm_certificate *cert;
  nslm_net *net;
  nslm_data *data;
  nslm_loss *loss;
  nslm_constraint *con;
  nslm_construct_opts *copts;
  nslm_caratheodory_opts *kopts;
} io_t;

/* What a step produces: created handles, then plain values. */
typedef struct {
  nslm_params *p[2];
  nslm_path *path;
  nslm_certificate *cert;
  nslm_net *net;
  nslm_data *data;
  nslm_loss *loss;
  nslm_constraint *con;
  nslm_construct_opts *copts;
  nslm_caratheodory_opts *kopts;
  struct {
    double a[OUTN], b[OUTN], s[16];
    size_t z[64];
    int i[16], ii[64];
    unsigned char mask[128];
    char str[256];
  } v;
} outs_t;

typedef struct {
  const char *fns; /* public functions it calls, space-separated */
  void (*prep)(io_t *io);
  int (*call)(io_t *io, outs_t *o);
  int file; /* file it replaces, or -1 */
} step_t;

#define STEP(name) static int name(io_t *io, outs_t *o)
#define UNUSED (void)io, (void)o

static int progress_none(double f, void *u) {
  (void)f;
  (void)u;
  return 0;
}
static int act_softsign(double *x, size_t len, void *u) {
  (void)u;
  for (size_t i = 0; i < len; i++) x[i] = x[i] / (1.0 + fabs(x[i]));
  return 0;
}
static int act_softsign_d(double *x, size_t len, void *u) {
  (void)u;
  for (size_t i = 0; i < len; i++) x[i] = 1.0 / ((1.0 + fabs(x[i])) * (1.0 + fabs(x[i])));
  return 0;
}
static int loss_sq(const double *a, const double *y, size_t m, double *value, double *grad, void *u) {
  (void)u;
  double s = 0.0;
  for (size_t k = 0; k < m; k++) {
    s += (a[k] - y[k]) * (a[k] - y[k]);
    if (grad) grad[k] = 2.0 * (a[k] - y[k]);
  }
  *value = s;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Preparations */

static void prep_p0_theta(io_t *io) { ck_assert_int_eq(nslm_params_clone(&io->p[0], W.in.theta), NSLM_OK); }
static void prep_p01_zero(io_t *io) {
  ck_assert_int_eq(nslm_params_create(&io->p[0], W.in.net), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&io->p[1], W.in.net), NSLM_OK);
}
static void prep_net(io_t *io) {
  ck_assert_int_eq(nslm_net_create(&io->net, W.in.depth, W.in.widths), NSLM_OK);
}
static void prep_kopts(io_t *io) { ck_assert_int_eq(nslm_caratheodory_opts_create(&io->kopts), NSLM_OK); }
static void prep_copts(io_t *io) { ck_assert_int_eq(nslm_construct_opts_create(&io->copts), NSLM_OK); }
static void prep_path(io_t *io) { ck_assert_int_eq(nslm_path_clone(&io->path, W.path), NSLM_OK); }
static void prep_path_knot(io_t *io) {
  prep_path(io);
  prep_p0_theta(io);
}
static void prep_path_start(io_t *io) {
  /* a one-knot path at theta, extended by W.path (which starts at theta) */
  ck_assert_int_eq(nslm_path_create(&io->path, W.in.net, W.in.theta), NSLM_OK);
}
static void prep_cert(io_t *io) {
  ck_assert_int_eq(nslm_path_certify(&io->cert, W.path, W.in.net, W.in.data, W.in.loss, W.in.con,
                                     NSLM_CERT_SAMPLED, 5, NULL, NULL),
                   NSLM_OK);
}
static void prep_all(io_t *io) {
  prep_p01_zero(io);
  prep_path(io);
  prep_cert(io);
  prep_net(io);
  ck_assert_int_eq(nslm_data_create(&io->data, 1, 1, (double[]){1}, 1, 1, 1, (double[]){2}, 1, 1), NSLM_OK);
  ck_assert_int_eq(nslm_loss_create(&io->loss, NSLM_LOSS_HUBER, 1.0), NSLM_OK);
  ck_assert_int_eq(nslm_constraint_create(&io->con, 1, 1, 2), NSLM_OK);
  prep_copts(io);
  prep_kopts(io);
}

/* ------------------------------------------------------------------ */
/* Steps: the model */

STEP(s_version) {
  UNUSED;
  o->v.i[0] = nslm_version_number();
  o->v.z[0] = strlen(nslm_version_string());
  for (int st = 0; st >= -20; st--) o->v.z[1 - st] = strlen(nslm_strerror(st));
  return NSLM_OK;
}
STEP(s_last_error) {
  UNUSED;
  nslm_net *n = SENT;
  ck_assert_int_eq(nslm_net_create(&n, 1, NULL), NSLM_ERR_INVALID); /* a known detail */
  o->v.z[0] = strlen(nslm_last_error());
  return nslm_last_error_copy(o->v.str, sizeof o->v.str, &o->v.z[1]);
}
STEP(s_net_create) {
  UNUSED;
  return nslm_net_create(&o->net, W.in.depth, W.in.widths);
}
STEP(s_net_create_for) {
  UNUSED;
  return nslm_net_create_for(&o->net, W.in.theta);
}
STEP(s_net_set_activation) {
  UNUSED;
  return nslm_net_set_activation(io->net, 1, NSLM_ACT_LEAKY_RELU, 0.2, 0.0);
}
STEP(s_net_set_callback) {
  UNUSED;
  return nslm_net_set_activation_callback(io->net, 1, act_softsign, act_softsign_d, NULL);
}
STEP(s_net_set_threads) {
  UNUSED;
  return nslm_net_set_num_threads(io->net, 1);
}
STEP(s_net_queries) {
  UNUSED;
  const nslm_net *n = W.in.net;
  int st = nslm_net_get_activation(n, 1, &o->v.i[0], &o->v.s[0], &o->v.s[1]);
  o->v.z[0] = nslm_net_num_threads(n);
  o->v.z[1] = nslm_net_depth(n);
  o->v.z[2] = nslm_net_width(n, 1);
  o->v.z[3] = nslm_net_paper_width_bound(n, W.in.n);
  return st;
}
STEP(s_params_create) {
  UNUSED;
  return nslm_params_create(&o->p[0], W.in.net);
}
STEP(s_params_clone) {
  UNUSED;
  return nslm_params_clone(&o->p[0], W.in.theta);
}
STEP(s_params_assign) {
  UNUSED;
  return nslm_params_assign(io->p[0], W.in.gamma);
}
STEP(s_params_queries) {
  UNUSED;
  const nslm_params *t = W.in.theta;
  o->v.z[0] = nslm_params_depth(t);
  int st = nslm_params_layer_shape(t, 1, &o->v.z[1], &o->v.z[2]);
  if (st == NSLM_OK) st = nslm_params_get_layer(t, 1, o->v.z[1], o->v.z[2], o->v.a, 1, (ptrdiff_t)o->v.z[1]);
  if (st == NSLM_OK) st = nslm_params_row_support(W.bar, 0, o->v.mask, W.in.widths[1]);
  if (st == NSLM_OK) st = nslm_params_col_support(W.bar, 1, o->v.mask + 64, W.in.widths[1]);
  o->v.i[0] = nslm_params_equal(t, W.in.gamma);
  o->v.i[1] = nslm_params_equal(t, t);
  return st;
}
STEP(s_params_set_layer) {
  UNUSED;
  double a[256];
  ck_assert(W.in.widths[1] * W.in.widths[0] <= 256);
  for (int i = 0; i < 256; i++) a[i] = 0.01 * i - 0.2;
  return nslm_params_set_layer(io->p[0], 0, W.in.widths[1], W.in.widths[0], a, 1, (ptrdiff_t)W.in.widths[1]);
}
STEP(s_params_init_random) {
  UNUSED;
  return nslm_params_init_random(io->p[0], 12345, NSLM_INIT_NORMAL, 1.0);
}
STEP(s_params_interpolate) {
  UNUSED;
  return nslm_params_interpolate(io->p[0], W.in.theta, W.in.gamma, 0.375);
}
STEP(s_data_create) {
  UNUSED;
  /* Fortran-ordered X: strides (1, n) */
  double xf[64];
  for (size_t i = 0; i < W.in.n; i++)
    for (size_t c = 0; c < W.in.d; c++) xf[i + c * W.in.n] = W.in.x[i * W.in.d + c];
  return nslm_data_create(&o->data, W.in.n, W.in.d, xf, 1, (ptrdiff_t)W.in.n, W.in.m, W.in.y,
                          (ptrdiff_t)W.in.m, 1);
}
STEP(s_data_queries) {
  UNUSED;
  const nslm_data *d = W.in.data;
  o->v.z[0] = nslm_data_n(d);
  o->v.z[1] = nslm_data_d(d);
  o->v.z[2] = nslm_data_m(d);
  int st = nslm_data_get_x(d, o->v.a, 1, (ptrdiff_t)W.in.n);
  if (st == NSLM_OK) st = nslm_data_get_y(d, o->v.b, (ptrdiff_t)W.in.m, 1);
  return st;
}
STEP(s_loss_create) {
  UNUSED;
  return nslm_loss_create(&o->loss, NSLM_LOSS_SOFTMAX_CE, 0.0);
}
STEP(s_loss_create_callback) {
  UNUSED;
  return nslm_loss_create_callback(&o->loss, loss_sq, NULL);
}
STEP(s_loss_queries) {
  UNUSED;
  o->v.i[0] = nslm_loss_kind(W.in.loss);
  double a[3] = {0.5, -1.0, 2.0}, y[3] = {0.2, 0.3, 0.5};
  return nslm_loss_eval(W.ce, 3, a, y, &o->v.s[0], o->v.a);
}
STEP(s_constraint_create) {
  UNUSED;
  return nslm_constraint_create(&o->con, 0.5, 2.0, 0.5);
}
STEP(s_constraint_queries) {
  UNUSED;
  const nslm_constraint *c = W.in.con;
  int st = nslm_constraint_get(c, &o->v.s[0], &o->v.s[1], &o->v.s[2]);
  if (st == NSLM_OK) st = nslm_constraint_eval(c, W.in.theta, &o->v.s[3]);
  if (st == NSLM_OK) st = nslm_constraint_row_norms(c, W.in.theta, 0, o->v.a, W.in.widths[1]);
  if (st == NSLM_OK) st = nslm_constraint_feasible(c, W.in.gamma, &o->v.i[0]);
  if (st == NSLM_OK)
    st = nslm_matrix_row_norm(W.in.n, W.in.d, W.in.x, (ptrdiff_t)W.in.d, 1, 0.5, &o->v.s[4]);
  return st;
}
STEP(s_destroy_all) {
  UNUSED;
  nslm_params_destroy(io->p[0]);
  nslm_params_destroy(io->p[1]);
  nslm_path_destroy(io->path);
  nslm_certificate_destroy(io->cert);
  nslm_net_destroy(io->net);
  nslm_data_destroy(io->data);
  nslm_loss_destroy(io->loss);
  nslm_constraint_destroy(io->con);
  nslm_construct_opts_destroy(io->copts);
  nslm_caratheodory_opts_destroy(io->kopts);
  memset(io, 0, sizeof *io);
  return NSLM_OK;
}

/* ------------------------------------------------------------------ */
/* Files: load */

STEP(s_npy_write) {
  UNUSED;
  return nslm_npy_write(W.file[F_NPY], W.in.n, W.in.d, W.in.x, 1, (ptrdiff_t)W.in.n); /* transposed view */
}
STEP(s_npy_query) {
  UNUSED;
  return nslm_npy_read(W.file[F_NPY], NULL, 0, &o->v.z[0], &o->v.z[1]);
}
STEP(s_npy_read) {
  UNUSED;
  return nslm_npy_read(W.file[F_NPY], o->v.a, OUTN, &o->v.z[2], &o->v.z[3]);
}
STEP(s_params_save) {
  UNUSED;
  return nslm_params_save(W.in.gamma, W.file[F_NPZ]);
}
STEP(s_params_load) {
  UNUSED;
  return nslm_params_load(&o->p[0], W.file[F_NPZ]);
}

/* ------------------------------------------------------------------ */
/* Evaluation */

STEP(s_eval_outputs) {
  UNUSED;
  return nslm_eval_outputs(W.in.net, W.in.theta, W.in.data, o->v.a, 1, (ptrdiff_t)W.in.n);
}
STEP(s_eval_losses) {
  UNUSED;
  return nslm_eval_losses(W.in.net, W.in.theta, W.in.data, W.in.loss, o->v.a, W.in.n);
}
STEP(s_eval_risk) {
  UNUSED;
  return nslm_eval_risk(W.in.net, W.in.theta, W.in.data, W.in.loss, &o->v.s[0]);
}
STEP(s_eval_objective) {
  UNUSED;
  return nslm_eval_objective(W.in.net, W.in.theta, W.in.data, W.in.loss, W.in.con, 0.25, &o->v.s[0]);
}
STEP(s_eval_features) {
  UNUSED;
  return nslm_eval_features(W.in.net, W.in.theta, W.in.data, 2, o->v.a, (ptrdiff_t)W.in.widths[2], 1);
}
STEP(s_eval_gradient) {
  UNUSED;
  return nslm_eval_gradient(W.in.net, W.in.theta, W.in.data, W.in.loss, io->p[0], &o->v.s[0]);
}

/* ------------------------------------------------------------------ */
/* Caratheodory */

STEP(s_kopts_create) {
  UNUSED;
  return nslm_caratheodory_opts_create(&o->kopts);
}
STEP(s_kopts_set_int) {
  UNUSED;
  return nslm_caratheodory_opts_set_int(io->kopts, NSLM_CARATHEODORY_MODE, NSLM_CARATHEODORY_PAPER);
}
STEP(s_kopts_set_double) {
  UNUSED;
  return nslm_caratheodory_opts_set_double(io->kopts, NSLM_CARATHEODORY_RANK_TOL, 1e-10);
}
STEP(s_kopts_set_progress) {
  UNUSED;
  return nslm_caratheodory_opts_set_progress(io->kopts, progress_none, NULL);
}
STEP(s_kopts_queries) {
  UNUSED;
  int st = nslm_caratheodory_opts_get_int(W.kopts, NSLM_CARATHEODORY_MODE, &o->v.i[0]);
  if (st == NSLM_OK) st = nslm_caratheodory_opts_get_double(W.kopts, NSLM_CARATHEODORY_RANK_TOL, &o->v.s[0]);
  o->v.s[1] = nslm_caratheodory_default_rank_tol();
  return st;
}
STEP(s_kopts_destroy) {
  UNUSED;
  nslm_caratheodory_opts_destroy(io->kopts);
  io->kopts = NULL;
  return NSLM_OK;
}
STEP(s_carath_reduce) {
  UNUSED;
  return nslm_caratheodory_reduce(W.h, W.r, W.z, (ptrdiff_t)W.r, 1, W.t, 1, 0.5, W.kopts, o->v.a, 1,
                                  &o->v.z[0], &o->v.s[0], &o->v.s[1], &o->v.s[2], &o->v.s[3], &o->v.z[1]);
}
STEP(s_carath_reduce_paper) {
  UNUSED;
  /* the paper's procedure, Z read through swapped strides (a Fortran
   * view of the transposed matrix), q = 1, default options */
  return nslm_caratheodory_reduce(W.h, W.r, W.zt, 1, (ptrdiff_t)W.r, W.t, 1, 1.0, W.kopts_paper, o->v.a, 1,
                                  NULL, NULL, NULL, NULL, NULL, NULL);
}
STEP(s_carath_reduce_rows) {
  UNUSED;
  return nslm_caratheodory_reduce_rows(W.h, W.r, W.z, (ptrdiff_t)W.r, 1, 3, W.wrows, (ptrdiff_t)W.h, 1,
                                       1.0, W.kopts, o->v.a, (ptrdiff_t)W.h, 1, o->v.z, o->v.mask,
                                       o->v.b, o->v.b + 3, o->v.b + 6, o->v.b + 9, &o->v.z[10]);
}

/* ------------------------------------------------------------------ */
/* Construction */

STEP(s_copts_create) {
  UNUSED;
  return nslm_construct_opts_create(&o->copts);
}
STEP(s_copts_set_int) {
  UNUSED;
  return nslm_construct_opts_set_int(io->copts, NSLM_CONSTRUCT_MODE, NSLM_COMPRESS_JOINT);
}
STEP(s_copts_set_double) {
  UNUSED;
  return nslm_construct_opts_set_double(io->copts, NSLM_CONSTRUCT_RANK_TOL, 1e-11);
}
STEP(s_copts_queries) {
  UNUSED;
  int st = nslm_construct_opts_get_int(W.in.opts, NSLM_CONSTRUCT_MODE, &o->v.i[0]);
  if (st == NSLM_OK) st = nslm_construct_opts_get_double(W.in.opts, NSLM_CONSTRUCT_RANK_TOL, &o->v.s[0]);
  return st;
}
STEP(s_active_units) {
  UNUSED;
  return nslm_params_active_units(W.bar, 1, o->v.mask, W.in.widths[1], &o->v.z[0]);
}
STEP(s_is_upper_block) {
  UNUSED;
  return nslm_params_is_upper_block(W.bar, 3, &o->v.i[0]);
}
STEP(s_is_lower_block) {
  UNUSED;
  return nslm_params_is_lower_block(W.bar, 3, &o->v.i[0]);
}
STEP(s_is_block) {
  UNUSED;
  return nslm_params_is_block(W.bar, W.avoid, W.nhidden, &o->v.i[0]);
}
STEP(s_permute_units) {
  UNUSED;
  return nslm_params_permute_units(io->p[0], W.in.theta, W.perm, W.nhidden);
}
STEP(s_compress) {
  UNUSED;
  return nslm_compress(W.in.net, W.in.theta, W.in.data, W.in.con, W.in.opts, io->p[0], &o->path, o->v.z,
                       W.in.depth, &o->v.s[0], &o->v.s[1]);
}
STEP(s_compress_widths) {
  UNUSED;
  return nslm_compress_widths(W.in.net, W.in.theta, W.in.data, W.in.con, W.in.opts, o->v.z, W.in.depth);
}
STEP(s_connect_widths) {
  UNUSED;
  return nslm_connect_widths(W.in.net, W.in.theta, W.in.gamma, W.in.data, W.in.con, W.in.opts, o->v.z,
                             W.in.depth, &o->v.i[0]);
}
STEP(s_relocate) {
  UNUSED;
  return nslm_relocate(W.in.net, W.bar, W.avoid, W.nhidden, io->p[0], &o->path);
}
STEP(s_connect) {
  UNUSED;
  return nslm_connect(W.in.net, W.in.theta, W.in.gamma, W.in.data, W.in.con, W.in.opts, &o->path);
}
STEP(s_descent) {
  UNUSED;
  return nslm_descent(W.in.net, W.in.theta, W.in.gamma, W.in.data, W.in.loss, W.in.con, W.in.opts, &o->path,
                      &o->v.s[0]);
}
STEP(s_global_minimize) {
  UNUSED;
  return nslm_global_minimize(W.in.net, W.in.theta, W.in.data, W.in.loss, W.in.opts, io->p[0], &o->v.z[0],
                              &o->v.i[0], &o->v.s[0]);
}
STEP(s_penalized_report) {
  UNUSED;
  size_t S = nslm_path_num_segments(W.path);
  ck_assert(S <= 64);
  return nslm_penalized_report(W.in.net, W.path, W.in.data, W.in.loss, W.in.con, 0.1, 3, 1e-9, o->v.a,
                               o->v.ii, S);
}

/* ------------------------------------------------------------------ */
/* Paths and certificates */

STEP(s_path_create) {
  UNUSED;
  return nslm_path_create(&o->path, W.in.net, W.in.theta);
}
STEP(s_path_append) {
  UNUSED;
  return nslm_path_append(io->path, io->p[0], NSLM_SEG_GENERAL);
}
STEP(s_path_extend) {
  UNUSED;
  return nslm_path_extend(io->path, W.path);
}
STEP(s_path_clone) {
  UNUSED;
  return nslm_path_clone(&o->path, W.path);
}
STEP(s_path_reverse) {
  UNUSED;
  return nslm_path_reverse(&o->path, W.path);
}
STEP(s_path_queries) {
  UNUSED;
  const nslm_path *p = W.path;
  o->v.z[0] = nslm_path_num_knots(p);
  o->v.z[1] = nslm_path_num_segments(p);
  o->v.z[2] = nslm_path_stored_values(p);
  o->v.z[3] = nslm_path_grid_size(p, 4);
  int st = nslm_path_segment_kind(p, 0, &o->v.i[0]);
  if (st == NSLM_OK) st = nslm_path_segment_layers(p, 0, o->v.mask, W.in.depth + 1);
  if (st == NSLM_OK) st = nslm_path_get_nonincreasing(p, &o->v.i[1]);
  return st;
}
STEP(s_path_get_knot) {
  UNUSED;
  return nslm_path_get_knot(W.path, 2, io->p[0]);
}
STEP(s_path_point) {
  UNUSED;
  return nslm_path_point(W.path, 0.4321, io->p[0]);
}
STEP(s_path_set_kind) {
  UNUSED;
  return nslm_path_set_segment_kind(io->path, 0, NSLM_SEG_GENERAL);
}
STEP(s_path_set_noninc) {
  UNUSED;
  return nslm_path_set_nonincreasing(io->path, 1);
}
STEP(s_path_eval) {
  UNUSED;
  double t[5] = {0.9, 0.0, 0.33, 1.0, 0.5};
  return nslm_path_eval(W.path, W.in.net, W.in.data, W.in.loss, W.in.con, 5, t, o->v.s, o->v.s + 5, o->v.a,
                        (ptrdiff_t)W.in.n, 1, NSLM_EVAL_STRUCTURED, progress_none, NULL);
}
STEP(s_path_eval_plain) {
  UNUSED;
  double t[3] = {0.1, 0.7, 0.2};
  return nslm_path_eval(W.path, W.in.net, W.in.data, W.in.loss, NULL, 3, t, o->v.s, NULL, NULL, 0, 0,
                        NSLM_EVAL_PLAIN, NULL, NULL);
}
STEP(s_path_eval_grid) {
  UNUSED;
  return nslm_path_eval_grid(W.path, W.in.net, W.in.data, W.in.loss, W.in.con, 3, nslm_path_grid_size(W.path, 3),
                             o->v.a, o->v.b, o->v.b + 256, NULL, 0, 0, NSLM_EVAL_STRUCTURED, NULL, NULL);
}
STEP(s_path_descent) {
  UNUSED;
  return nslm_path_descent(&o->path, W.path, W.in.net, W.in.data, W.in.loss, &o->v.s[0], &o->v.s[1], NULL,
                           NULL);
}
STEP(s_certify_algebraic) {
  UNUSED;
  return nslm_path_certify(&o->cert, W.path, W.in.net, W.in.data, W.in.loss, W.in.con, NSLM_CERT_ALGEBRAIC,
                           0, progress_none, NULL);
}
STEP(s_certify_sampled) {
  UNUSED;
  return nslm_path_certify(&o->cert, W.path, W.in.net, W.in.data, W.in.loss, NULL, NSLM_CERT_SAMPLED, 4,
                           NULL, NULL);
}
STEP(s_cert_queries) {
  UNUSED;
  const nslm_certificate *c = W.cert;
  int st = nslm_certificate_kind(c, &o->v.i[0]);
  o->v.z[0] = nslm_certificate_num_segments(c);
  for (int what = 0; st == NSLM_OK && what <= NSLM_CERT_FAILED_SEGMENTS; what++)
    st = nslm_certificate_get(c, what, &o->v.a[what]);
  if (st == NSLM_OK) st = nslm_certificate_segment(c, 0, &o->v.i[1], &o->v.s[0], &o->v.i[2]);
  if (st == NSLM_OK) st = nslm_certificate_get_tolerance(c, NSLM_TOL_IDENTITY, &o->v.s[1]);
  if (st == NSLM_OK) st = nslm_certificate_passed(c, &o->v.i[3]);
  if (st == NSLM_OK) st = nslm_certificate_summary(c, o->v.str, sizeof o->v.str, &o->v.z[1]);
  o->v.s[2] = nslm_certificate_default_tolerance();
  return st;
}
STEP(s_cert_set_tolerance) {
  UNUSED;
  return nslm_certificate_set_tolerance(io->cert, NSLM_TOL_CONSTANT, 1e-3);
}

/* ------------------------------------------------------------------ */
/* Landscape */

STEP(s_landscape_line) {
  UNUSED;
  return nslm_landscape_line(W.in.net, W.in.data, W.in.loss, W.in.con, W.in.theta, W.in.gamma, 7, o->v.a,
                             o->v.b, o->v.s, NULL, NULL);
}
STEP(s_landscape_barrier) {
  UNUSED;
  return nslm_landscape_barrier(W.np, W.gt, W.grisk, &o->v.s[0], &o->v.s[1]);
}
STEP(s_landscape_directions) {
  UNUSED;
  return nslm_landscape_directions(W.in.theta, 99, io->p[0], io->p[1]);
}
STEP(s_landscape_plane) {
  UNUSED;
  return nslm_landscape_plane(W.in.net, W.in.data, W.in.loss, W.in.con, W.in.theta, W.in.gamma, W.bar, 4,
                              -1.0, 1.0, 3, -0.5, 0.5, o->v.a, 3, 1, o->v.b, 1, 4, NULL, NULL);
}
STEP(s_landscape_plane3) {
  UNUSED;
  return nslm_landscape_plane3(W.in.net, W.in.data, W.in.loss, NULL, W.in.theta, W.in.gamma, W.bar, 3, 0.0,
                               1.0, 3, 0.0, 1.0, o->v.a, 3, 1, NULL, 0, 0, progress_none, NULL);
}

/* ------------------------------------------------------------------ */
/* Saves and the path load */

STEP(s_path_save) {
  UNUSED;
  return nslm_path_save(W.path, W.file[F_PATH]);
}
STEP(s_path_load) {
  UNUSED;
  return nslm_path_load(&o->path, W.file[F_PATH]);
}
STEP(s_profile_csv) {
  UNUSED;
  return nslm_profile_write_csv(W.file[F_PCSV], W.path, W.np, W.gt, W.grisk, W.gr);
}
STEP(s_profile_svg) {
  UNUSED;
  return nslm_profile_write_svg(W.file[F_PSVG], W.path, W.np, W.gt, W.grisk, W.gr, "fault <&> test");
}
STEP(s_plane_csv) {
  UNUSED;
  return nslm_plane_write_csv(W.file[F_GCSV], 4, -1, 1, 3, -2, 2, W.grisk, 3, 1, W.gr, 3, 1);
}
STEP(s_plane_svg) {
  UNUSED;
  double marks[4] = {0, 0, 0.5, 1};
  return nslm_plane_write_svg(W.file[F_GSVG], 4, -1, 1, 3, -2, 2, W.grisk, 3, 1, 2, marks, "plane");
}

/* ------------------------------------------------------------------ */
/* The scenario, grouped: one Check test per group */

static const step_t G_MODEL[] = {
    {"nslm_version_number nslm_version_string nslm_strerror", NULL, s_version, -1},
    {"nslm_last_error nslm_last_error_copy", NULL, s_last_error, -1},
    {"nslm_net_create", NULL, s_net_create, -1},
    {"nslm_net_create_for", NULL, s_net_create_for, -1},
    {"nslm_net_set_activation", prep_net, s_net_set_activation, -1},
    {"nslm_net_set_activation_callback", prep_net, s_net_set_callback, -1},
    {"nslm_net_set_num_threads", prep_net, s_net_set_threads, -1},
    {"nslm_net_get_activation nslm_net_num_threads nslm_net_depth nslm_net_width "
     "nslm_net_paper_width_bound", NULL, s_net_queries, -1},
    {"nslm_params_create", NULL, s_params_create, -1},
    {"nslm_params_clone", NULL, s_params_clone, -1},
    {"nslm_params_assign", prep_p0_theta, s_params_assign, -1},
    {"nslm_params_depth nslm_params_layer_shape nslm_params_get_layer nslm_params_row_support "
     "nslm_params_col_support nslm_params_equal", NULL, s_params_queries, -1},
    {"nslm_params_set_layer", prep_p0_theta, s_params_set_layer, -1},
    {"nslm_params_init_random", prep_p0_theta, s_params_init_random, -1},
    {"nslm_params_interpolate", prep_p0_theta, s_params_interpolate, -1},
    {"nslm_data_create", NULL, s_data_create, -1},
    {"nslm_data_n nslm_data_d nslm_data_m nslm_data_get_x nslm_data_get_y", NULL, s_data_queries, -1},
    {"nslm_loss_create", NULL, s_loss_create, -1},
    {"nslm_loss_create_callback", NULL, s_loss_create_callback, -1},
    {"nslm_loss_kind nslm_loss_eval", NULL, s_loss_queries, -1},
    {"nslm_constraint_create", NULL, s_constraint_create, -1},
    {"nslm_constraint_get nslm_constraint_eval nslm_constraint_row_norms nslm_constraint_feasible "
     "nslm_matrix_row_norm", NULL, s_constraint_queries, -1},
    {"nslm_params_destroy nslm_path_destroy nslm_certificate_destroy nslm_net_destroy "
     "nslm_data_destroy nslm_loss_destroy nslm_constraint_destroy nslm_construct_opts_destroy "
     "nslm_caratheodory_opts_destroy", prep_all, s_destroy_all, -1},
    {NULL, NULL, NULL, -1}};

static const step_t G_LOAD[] = {
    {"nslm_npy_write", NULL, s_npy_write, F_NPY},
    {"nslm_npy_read", NULL, s_npy_query, -1},
    {"nslm_npy_read", NULL, s_npy_read, -1},
    {"nslm_params_save", NULL, s_params_save, F_NPZ},
    {"nslm_params_load", NULL, s_params_load, -1},
    {NULL, NULL, NULL, -1}};

static const step_t G_EVAL[] = {
    {"nslm_eval_outputs", NULL, s_eval_outputs, -1},
    {"nslm_eval_losses", NULL, s_eval_losses, -1},
    {"nslm_eval_risk", NULL, s_eval_risk, -1},
    {"nslm_eval_objective", NULL, s_eval_objective, -1},
    {"nslm_eval_features", NULL, s_eval_features, -1},
    {"nslm_eval_gradient", prep_p01_zero, s_eval_gradient, -1},
    {NULL, NULL, NULL, -1}};

static const step_t G_CARATH[] = {
    {"nslm_caratheodory_opts_create", NULL, s_kopts_create, -1},
    {"nslm_caratheodory_opts_set_int", prep_kopts, s_kopts_set_int, -1},
    {"nslm_caratheodory_opts_set_double", prep_kopts, s_kopts_set_double, -1},
    {"nslm_caratheodory_opts_set_progress", prep_kopts, s_kopts_set_progress, -1},
    {"nslm_caratheodory_opts_get_int nslm_caratheodory_opts_get_double "
     "nslm_caratheodory_default_rank_tol", NULL, s_kopts_queries, -1},
    {"nslm_caratheodory_opts_destroy", prep_kopts, s_kopts_destroy, -1},
    {"nslm_caratheodory_reduce", NULL, s_carath_reduce, -1},
    {"nslm_caratheodory_reduce", NULL, s_carath_reduce_paper, -1},
    {"nslm_caratheodory_reduce_rows", NULL, s_carath_reduce_rows, -1},
    {NULL, NULL, NULL, -1}};

static const step_t G_CONSTRUCT[] = {
    {"nslm_construct_opts_create", NULL, s_copts_create, -1},
    {"nslm_construct_opts_set_int", prep_copts, s_copts_set_int, -1},
    {"nslm_construct_opts_set_double", prep_copts, s_copts_set_double, -1},
    {"nslm_construct_opts_get_int nslm_construct_opts_get_double", NULL, s_copts_queries, -1},
    {"nslm_params_active_units", NULL, s_active_units, -1},
    {"nslm_params_is_upper_block", NULL, s_is_upper_block, -1},
    {"nslm_params_is_lower_block", NULL, s_is_lower_block, -1},
    {"nslm_params_is_block", NULL, s_is_block, -1},
    {"nslm_params_permute_units", prep_p0_theta, s_permute_units, -1},
    {"nslm_compress", prep_p0_theta, s_compress, -1},
    {"nslm_compress_widths", NULL, s_compress_widths, -1},
    {"nslm_connect_widths", NULL, s_connect_widths, -1},
    {"nslm_relocate", prep_p0_theta, s_relocate, -1},
    {"nslm_connect", NULL, s_connect, -1},
    {"nslm_descent", NULL, s_descent, -1},
    {"nslm_global_minimize", prep_p0_theta, s_global_minimize, -1},
    {"nslm_penalized_report", NULL, s_penalized_report, -1},
    {NULL, NULL, NULL, -1}};

static const step_t G_PATH[] = {
    {"nslm_path_create", NULL, s_path_create, -1},
    {"nslm_path_append", prep_path_knot, s_path_append, -1},
    {"nslm_path_extend", prep_path_start, s_path_extend, -1},
    {"nslm_path_clone", NULL, s_path_clone, -1},
    {"nslm_path_reverse", NULL, s_path_reverse, -1},
    {"nslm_path_num_knots nslm_path_num_segments nslm_path_stored_values nslm_path_grid_size "
     "nslm_path_segment_kind nslm_path_segment_layers nslm_path_get_nonincreasing",
     NULL, s_path_queries, -1},
    {"nslm_path_get_knot", prep_p0_theta, s_path_get_knot, -1},
    {"nslm_path_point", prep_p0_theta, s_path_point, -1},
    {"nslm_path_set_segment_kind", prep_path, s_path_set_kind, -1},
    {"nslm_path_set_nonincreasing", prep_path, s_path_set_noninc, -1},
    {"nslm_path_eval", NULL, s_path_eval, -1},
    {"nslm_path_eval", NULL, s_path_eval_plain, -1},
    {"nslm_path_eval_grid", NULL, s_path_eval_grid, -1},
    {"nslm_path_descent", NULL, s_path_descent, -1},
    {"nslm_path_certify", NULL, s_certify_algebraic, -1},
    {"nslm_path_certify", NULL, s_certify_sampled, -1},
    {"nslm_certificate_kind nslm_certificate_num_segments nslm_certificate_get "
     "nslm_certificate_segment nslm_certificate_get_tolerance nslm_certificate_passed "
     "nslm_certificate_summary nslm_certificate_default_tolerance", NULL, s_cert_queries, -1},
    {"nslm_certificate_set_tolerance", prep_cert, s_cert_set_tolerance, -1},
    {NULL, NULL, NULL, -1}};

static const step_t G_LANDSCAPE[] = {
    {"nslm_landscape_line", NULL, s_landscape_line, -1},
    {"nslm_landscape_barrier", NULL, s_landscape_barrier, -1},
    {"nslm_landscape_directions", prep_p01_zero, s_landscape_directions, -1},
    {"nslm_landscape_plane", NULL, s_landscape_plane, -1},
    {"nslm_landscape_plane3", NULL, s_landscape_plane3, -1},
    {NULL, NULL, NULL, -1}};

static const step_t G_SAVE[] = {
    {"nslm_path_save", NULL, s_path_save, F_PATH},
    {"nslm_path_load", NULL, s_path_load, -1},
    {"nslm_profile_write_csv", NULL, s_profile_csv, F_PCSV},
    {"nslm_profile_write_svg", NULL, s_profile_svg, F_PSVG},
    {"nslm_plane_write_csv", NULL, s_plane_csv, F_GCSV},
    {"nslm_plane_write_svg", NULL, s_plane_svg, F_GSVG},
    {NULL, NULL, NULL, -1}};

/* ------------------------------------------------------------------ */
/* The world */

static unsigned char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    *len = 0;
    return NULL;
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
  ck_assert_ptr_nonnull(b);
  *len = fread(b, 1, (size_t)n, f);
  fclose(f);
  return b;
}

static size_t count_entries(const char *dir) {
  DIR *d = opendir(dir);
  size_t n = 0;
  struct dirent *e;
  while (d && (e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  if (d) closedir(d);
  return n;
}

static void world_make(void) {
  static const int acts[2] = {NSLM_ACT_TANH, NSLM_ACT_RELU};
  nslmh_blis_warmup();
  memset(&W, 0, sizeof W);
  /* depth 2, d 3, m 2, n 4, hidden width p: 10, or what connect needs
   * (ROW compression: each row keeps at most rank(A_j) <= n units, the
   * union over the rows may be larger) plus 2. */
  size_t p = 10;
  for (int tries = 0;; tries++) {
    nslmh_inst_make(&W.in, 7, 2, 3, p, 2, 4, acts, 2, NSLM_LOSS_SQUARED);
    nslmh_inst_constrain(&W.in, 1.0);
    size_t needed[2];
    int fits = 0;
    ck_assert_int_eq(nslm_connect_widths(W.in.net, W.in.theta, W.in.gamma, W.in.data, W.in.con, W.in.opts,
                                         needed, 2, &fits),
                     NSLM_OK);
    if (fits) break;
    ck_assert_msg(tries < 3, "the instance never fits (needs %zu, %zu)", needed[0], needed[1]);
    p = (needed[0] > needed[1] ? needed[0] : needed[1]) + 2;
    nslmh_inst_free(&W.in);
  }
  ck_assert_int_eq(nslm_params_create(&W.bar, W.in.net), NSLM_OK);
  ck_assert_int_eq(nslm_compress(W.in.net, W.in.theta, W.in.data, W.in.con, W.in.opts, W.bar, NULL, NULL, 0,
                                 NULL, NULL),
                   NSLM_OK);
  W.nhidden = 0;
  for (size_t j = 1; j <= W.in.depth; j++) {
    size_t cnt = 0;
    ck_assert_int_eq(nslm_params_active_units(W.bar, j, W.avoid + W.nhidden, W.in.widths[j], &cnt), NSLM_OK);
    for (size_t u = 0; u < W.in.widths[j]; u++) W.perm[W.nhidden + u] = W.in.widths[j] - 1 - u;
    W.nhidden += W.in.widths[j];
  }
  ck_assert_int_eq(nslm_connect(W.in.net, W.in.theta, W.in.gamma, W.in.data, W.in.con, W.in.opts, &W.path),
                   NSLM_OK);
  ck_assert_int_eq(nslm_path_certify(&W.cert, W.path, W.in.net, W.in.data, W.in.loss, W.in.con,
                                     NSLM_CERT_ALGEBRAIC, 0, NULL, NULL),
                   NSLM_OK);
  ck_assert_int_eq(nslm_caratheodory_opts_create(&W.kopts), NSLM_OK);
  ck_assert_int_eq(nslm_caratheodory_opts_set_int(W.kopts, NSLM_CARATHEODORY_NUM_THREADS, 1), NSLM_OK);
  /* Z: 12 x 4 of rank 3 (the 4th column a sum of two others), t mixed signs */
  nslmt_rng rng;
  nslmt_seed(&rng, 3);
  W.h = 12;
  W.r = 4;
  for (size_t i = 0; i < W.h; i++) {
    for (size_t c = 0; c < 3; c++) W.z[i * W.r + c] = nslmt_normal(&rng);
    W.z[i * W.r + 3] = W.z[i * W.r] + W.z[i * W.r + 1];
    W.t[i] = nslmt_normal(&rng);
  }
  nslmt_fill(&rng, W.wrows, 3 * W.h, 1.0);
  for (size_t i = 0; i < W.h; i++)
    for (size_t c = 0; c < W.r; c++) W.zt[c * W.h + i] = W.z[i * W.r + c]; /* column-major copy */
  ck_assert_int_eq(nslm_caratheodory_opts_create(&W.kopts_paper), NSLM_OK);
  ck_assert_int_eq(nslm_caratheodory_opts_set_int(W.kopts_paper, NSLM_CARATHEODORY_MODE, NSLM_CARATHEODORY_PAPER),
                   NSLM_OK);
  ck_assert_int_eq(nslm_caratheodory_opts_set_int(W.kopts_paper, NSLM_CARATHEODORY_NUM_THREADS, 1), NSLM_OK);
  ck_assert_int_eq(nslm_loss_create(&W.ce, NSLM_LOSS_SOFTMAX_CE, 0.0), NSLM_OK);
  /* a profile along the path (shared by the saves and the barrier) */
  W.k = 3;
  W.np = nslm_path_grid_size(W.path, W.k);
  ck_assert(W.np >= 12 && W.np <= 256);
  ck_assert_int_eq(nslm_path_eval_grid(W.path, W.in.net, W.in.data, W.in.loss, W.in.con, W.k, W.np, W.gt, W.grisk,
                                       W.gr, NULL, 0, 0, NSLM_EVAL_STRUCTURED, NULL, NULL),
                   NSLM_OK);
  /* files: every one exists with old content, so atomicity can be checked */
  snprintf(W.dir, sizeof W.dir, "%s/fault-%ld", nslmt_tmpdir(), (long)getpid());
  ck_assert_int_eq(mkdir(W.dir, 0700), 0);
  for (int f = 0; f < F_COUNT; f++) {
    snprintf(W.file[f], sizeof W.file[f], "%s/%s", W.dir, FILE_NAMES[f]);
    FILE *fp = fopen(W.file[f], "wb");
    ck_assert_ptr_nonnull(fp);
    fprintf(fp, "old content of %s\n", FILE_NAMES[f]);
    fclose(fp);
  }
  /* loads need valid files: write them now (the save steps replace them
   * with the same bytes, so the loads see the same content) */
  ck_assert_int_eq(nslm_npy_write(W.file[F_NPY], W.in.n, W.in.d, W.in.x, 1, (ptrdiff_t)W.in.n), NSLM_OK);
  ck_assert_int_eq(nslm_params_save(W.in.gamma, W.file[F_NPZ]), NSLM_OK);
  ck_assert_int_eq(nslm_path_save(W.path, W.file[F_PATH]), NSLM_OK);
}

static void world_free(void) {
  for (int f = 0; f < F_COUNT; f++) unlink(W.file[f]);
  rmdir(W.dir);
  nslm_params_destroy(W.bar);
  nslm_path_destroy(W.path);
  nslm_certificate_destroy(W.cert);
  nslm_caratheodory_opts_destroy(W.kopts);
  nslm_caratheodory_opts_destroy(W.kopts_paper);
  nslm_loss_destroy(W.ce);
  nslmh_inst_free(&W.in);
}

/* ------------------------------------------------------------------ */
/* The driver */

static void outs_init(outs_t *o) {
  memset(&o->v, SENT_BYTE, sizeof o->v);
  o->p[0] = o->p[1] = SENT;
  o->path = SENT;
  o->cert = SENT;
  o->net = SENT;
  o->data = SENT;
  o->loss = SENT;
  o->con = SENT;
  o->copts = SENT;
  o->kopts = SENT;
}

#define LIVE(h) ((void *)(h) != SENT && (h) != NULL)

static void digest_objects(nslmh_digest *d, const outs_t *o, const io_t *io) {
  /* created handles */
  for (int i = 0; i < 2; i++)
    if (LIVE(o->p[i])) nslmh_digest_params(d, o->p[i]);
  if (LIVE(o->path)) nslmh_digest_path(d, o->path, W.in.theta);
  if (LIVE(o->cert)) nslmh_digest_cert(d, o->cert);
  if (LIVE(o->net)) nslmh_digest_net(d, o->net);
  if (LIVE(o->data)) nslmh_digest_data(d, o->data);
  if (LIVE(o->loss)) {
    double a[2] = {0.3, -0.2}, y[2] = {0.5, 0.5}, v = NAN, g[2];
    nslmh_digest_add(d, nslm_loss_kind(o->loss));
    ck_assert_int_eq(nslm_loss_eval(o->loss, 2, a, y, &v, g), NSLM_OK);
    nslmh_digest_add(d, v);
    nslmh_digest_bytes(d, g, sizeof g);
  }
  if (LIVE(o->con)) {
    double a, b, q;
    ck_assert_int_eq(nslm_constraint_get(o->con, &a, &b, &q), NSLM_OK);
    nslmh_digest_add(d, a);
    nslmh_digest_add(d, b);
    nslmh_digest_add(d, q);
  }
  if (LIVE(o->copts)) {
    int v;
    double x;
    ck_assert_int_eq(nslm_construct_opts_get_int(o->copts, NSLM_CONSTRUCT_MODE, &v), NSLM_OK);
    ck_assert_int_eq(nslm_construct_opts_get_double(o->copts, NSLM_CONSTRUCT_RANK_TOL, &x), NSLM_OK);
    nslmh_digest_add(d, v);
    nslmh_digest_add(d, x);
  }
  if (LIVE(o->kopts)) {
    int v;
    double x;
    ck_assert_int_eq(nslm_caratheodory_opts_get_int(o->kopts, NSLM_CARATHEODORY_MODE, &v), NSLM_OK);
    ck_assert_int_eq(nslm_caratheodory_opts_get_double(o->kopts, NSLM_CARATHEODORY_RANK_TOL, &x), NSLM_OK);
    nslmh_digest_add(d, v);
    nslmh_digest_add(d, x);
  }
  /* objects the step modified */
  for (int i = 0; i < 2; i++)
    if (io->p[i]) nslmh_digest_params(d, io->p[i]);
  if (io->path) nslmh_digest_path(d, io->path, W.in.theta);
  if (io->cert) nslmh_digest_cert(d, io->cert);
  if (io->net) nslmh_digest_net(d, io->net);
  if (io->kopts) {
    int v;
    double x;
    ck_assert_int_eq(nslm_caratheodory_opts_get_int(io->kopts, NSLM_CARATHEODORY_MODE, &v), NSLM_OK);
    ck_assert_int_eq(nslm_caratheodory_opts_get_double(io->kopts, NSLM_CARATHEODORY_RANK_TOL, &x), NSLM_OK);
    nslmh_digest_add(d, v);
    nslmh_digest_add(d, x);
  }
  if (io->copts) {
    int v;
    double x;
    ck_assert_int_eq(nslm_construct_opts_get_int(io->copts, NSLM_CONSTRUCT_MODE, &v), NSLM_OK);
    ck_assert_int_eq(nslm_construct_opts_get_double(io->copts, NSLM_CONSTRUCT_RANK_TOL, &x), NSLM_OK);
    nslmh_digest_add(d, v);
    nslmh_digest_add(d, x);
  }
}

static void release(outs_t *o, io_t *io) {
  for (int i = 0; i < 2; i++) {
    if (LIVE(o->p[i])) nslm_params_destroy(o->p[i]);
    if (io->p[i]) nslm_params_destroy(io->p[i]);
  }
  if (LIVE(o->path)) nslm_path_destroy(o->path);
  if (LIVE(o->cert)) nslm_certificate_destroy(o->cert);
  if (LIVE(o->net)) nslm_net_destroy(o->net);
  if (LIVE(o->data)) nslm_data_destroy(o->data);
  if (LIVE(o->loss)) nslm_loss_destroy(o->loss);
  if (LIVE(o->con)) nslm_constraint_destroy(o->con);
  if (LIVE(o->copts)) nslm_construct_opts_destroy(o->copts);
  if (LIVE(o->kopts)) nslm_caratheodory_opts_destroy(o->kopts);
  nslm_path_destroy(io->path);
  nslm_certificate_destroy(io->cert);
  nslm_net_destroy(io->net);
  nslm_data_destroy(io->data);
  nslm_loss_destroy(io->loss);
  nslm_constraint_destroy(io->con);
  nslm_construct_opts_destroy(io->copts);
  nslm_caratheodory_opts_destroy(io->kopts);
  memset(io, 0, sizeof *io);
}

/* Value outputs untouched and created handles NULL (or never touched). */
static const char *untouched(const outs_t *o) {
  outs_t ref;
  outs_init(&ref);
  if (memcmp(&o->v, &ref.v, sizeof o->v) != 0) return "a value output was written";
  const void *h[] = {o->p[0], o->p[1], o->path, o->cert, o->net, o->data, o->loss, o->con, o->copts, o->kopts};
  for (size_t i = 0; i < sizeof h / sizeof h[0]; i++)
    if (h[i] != SENT && h[i] != NULL) return "a created handle was returned on failure";
  return NULL;
}

typedef struct {
  long sites, failed_ok, runs, leaks;
  int problems;
  char msg[MAX_PROBLEMS][300];
} tally_t;

static void problem(tally_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(tally_t *t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (t->problems < MAX_PROBLEMS) vsnprintf(t->msg[t->problems], sizeof t->msg[0], fmt, ap);
  va_end(ap);
  t->problems++;
}

/* One clean run: digest of the result; returns the allocation count. */
static long clean_run(const step_t *s, nslmh_digest *d, int *status) {
  io_t io;
  outs_t o;
  memset(&io, 0, sizeof io);
  outs_init(&o);
  if (s->prep) s->prep(&io);
  nslmi_alloc_fail_after(-1, 0);
  *status = s->call(&io, &o);
  long used = nslmi_alloc_count();
  if (*status == NSLM_OK) {
    nslmh_digest_bytes(d, &o.v, sizeof o.v);
    digest_objects(d, &o, &io);
  }
  release(&o, &io);
  return used;
}

static void run_step(const step_t *s, tally_t *t) {
  int st;
  nslmh_digest base;
  nslmh_digest_init(&base);
  /* warm-up (BLIS pools, lazily built caches), then the reference run */
  nslmh_digest warm;
  nslmh_digest_init(&warm);
  clean_run(s, &warm, &st);
  ck_assert_msg(st == NSLM_OK, "%s: clean run failed: %d %s", s->fns, st, nslm_last_error());
  nslmh_digest_free(&warm);
  long count = clean_run(s, &base, &st);
  ck_assert_msg(st == NSLM_OK, "%s: clean run failed: %d %s", s->fns, st, nslm_last_error());
  t->sites += count;
  unsigned char *old = NULL;
  size_t oldlen = 0, entries = count_entries(W.dir);
  for (int persistent = 0; persistent <= 1; persistent++) {
    for (long k = 0; k <= count; k++) {
      io_t io;
      outs_t o;
      memset(&io, 0, sizeof io);
      outs_init(&o);
      if (s->file >= 0) {
        free(old);
        old = read_file(W.file[s->file], &oldlen);
      }
      long heap0 = live_blocks;
      if (s->prep) s->prep(&io);
      nslmh_digest before;
      nslmh_digest_init(&before);
      digest_objects(&before, &o, &io);
      nslmi_fail(NSLM_OK, "fault", "cleared");
      nslmi_alloc_fail_after(k, persistent);
      st = s->call(&io, &o);
      long used = nslmi_alloc_count();
      nslmi_alloc_fail_after(-1, 0);
      t->runs++;
      const char *how = persistent ? "persistently" : "once";
      if (k >= count) {
        /* beyond the count: must complete with the clean result */
        if (st != NSLM_OK) problem(t, "%s: no failure injected (k = %ld), status %d", s->fns, k, st);
        else {
          nslmh_digest d;
          nslmh_digest_init(&d);
          nslmh_digest_bytes(&d, &o.v, sizeof o.v);
          digest_objects(&d, &o, &io);
          if (!nslmh_digest_equal(&d, &base)) problem(t, "%s: result differs from the clean run", s->fns);
          nslmh_digest_free(&d);
        }
        release(&o, &io);
        nslmh_digest_free(&before);
        break;
      }
      (void)used;
      int ok = 1;
      if (st != NSLM_ERR_NOMEM) {
        problem(t, "%s: allocation %ld failed %s: status %d (%s), expected NSLM_ERR_NOMEM", s->fns, k, how, st,
                st ? nslm_last_error() : "success");
        ok = 0;
      } else if (strcmp(nslm_last_error(), "fault: cleared") == 0) {
        problem(t, "%s: allocation %ld failed %s: no detail message recorded", s->fns, k, how);
        ok = 0;
      }
      if (st != NSLM_OK) {
        const char *why = untouched(&o);
        if (why) {
          problem(t, "%s: allocation %ld failed %s: %s", s->fns, k, how, why);
          ok = 0;
        }
        nslmh_digest after;
        nslmh_digest_init(&after);
        outs_t clean;
        outs_init(&clean);
        digest_objects(&after, &clean, &io);
        if (!nslmh_digest_equal(&after, &before)) {
          problem(t, "%s: allocation %ld failed %s: an object given to the call was changed", s->fns, k, how);
          ok = 0;
        }
        nslmh_digest_free(&after);
        if (s->file >= 0) {
          size_t len = 0;
          unsigned char *now = read_file(W.file[s->file], &len);
          if (len != oldlen || memcmp(now, old, len) != 0) {
            problem(t, "%s: allocation %ld failed %s: the file was damaged", s->fns, k, how);
            ok = 0;
          }
          free(now);
          if (count_entries(W.dir) != entries) {
            problem(t, "%s: allocation %ld failed %s: a temporary file was left", s->fns, k, how);
            ok = 0;
          }
        }
      }
      /* the prepared objects are released with the outputs; what was
       * allocated by the failed call must be gone */
      release(&o, &io);
      nslmh_digest_free(&before);
      long heap2 = live_blocks;
      if (heap2 != heap0) {
        problem(t, "%s: allocation %ld failed %s: %ld block(s) leaked", s->fns, k, how, heap2 - heap0);
        t->leaks++;
        ok = 0;
      }
      /* the handles are still valid: a clean run gives the clean result */
      nslmh_digest again;
      nslmh_digest_init(&again);
      int st2;
      clean_run(s, &again, &st2);
      if (st2 != NSLM_OK || !nslmh_digest_equal(&again, &base)) {
        problem(t, "%s: after allocation %ld failed %s, a clean run gives %s", s->fns, k, how,
                st2 ? "an error" : "a different result");
        ok = 0;
      }
      nslmh_digest_free(&again);
      if (ok && !persistent) t->failed_ok++;
    }
  }
  free(old);
  nslmh_digest_free(&base);
  /* coverage: the functions this step called under injection */
  char names[512];
  snprintf(names, sizeof names, "%s", s->fns);
  for (char *save = NULL, *f = strtok_r(names, " ", &save); f; f = strtok_r(NULL, " ", &save)) {
    nslmh_result_add_str("covered", f);
  }
}

static void run_group(const char *group, const step_t *steps) {
  world_make();
  tally_t t;
  memset(&t, 0, sizeof t);
  for (const step_t *s = steps; s->call; s++) {
    tally_t one;
    memset(&one, 0, sizeof one);
    run_step(s, &one);
    if (getenv("NSLMT_VERBOSE"))
      printf("%-12s %-40.40s allocations %4ld\n", group, s->fns, one.sites);
    t.sites += one.sites;
    t.failed_ok += one.failed_ok;
    t.runs += one.runs;
    t.leaks += one.leaks;
    for (int i = 0; i < one.problems && t.problems < MAX_PROBLEMS; i++) strcpy(t.msg[t.problems++], one.msg[i]);
    if (one.problems > MAX_PROBLEMS) t.problems += one.problems - MAX_PROBLEMS;
  }
  world_free();
  ck_assert_msg(track_overflow == 0, "the block tracker overflowed");
  nslmh_result_add("sites", (double)t.sites);
  nslmh_result_add("failed_ok", (double)t.failed_ok);
  nslmh_result_add("runs", (double)t.runs);
  nslmh_result_add("leaks", (double)t.leaks);
  nslmh_result_add("problems", (double)t.problems);
  printf("group %s: allocation sites %ld, failed correctly %ld, runs %ld, problems %d\n", group, t.sites,
         t.failed_ok, t.runs, t.problems);
  for (int i = 0; i < t.problems && i < MAX_PROBLEMS; i++) printf("  problem: %s\n", t.msg[i]);
  fflush(stdout);
  ck_assert_msg(t.problems == 0, "%s: %d problem(s), the first: %s", group, t.problems, t.msg[0]);
}

/* The detector itself: steps with known defects must be caught. */
STEP(s_fake_leak) {
  UNUSED;
  void *a = nslmi_malloc(16), *b = nslmi_malloc(16);
  if (a == NULL || b == NULL) {
    nslmi_free(b); /* a leaks when b fails */
    return NSLMI_FAIL(NSLM_ERR_NOMEM, "fake");
  }
  nslmi_free(a);
  nslmi_free(b);
  o->v.s[0] = 1.0;
  return NSLM_OK;
}
STEP(s_fake_writes) {
  UNUSED;
  o->v.s[0] = 2.0; /* written before the allocation that may fail */
  void *a = nslmi_malloc(8);
  if (a == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "fake");
  nslmi_free(a);
  return NSLM_OK;
}
STEP(s_fake_status) {
  UNUSED;
  void *a = nslmi_malloc(8);
  if (a == NULL) return NSLMI_FAIL(NSLM_ERR_INVALID, "fake");
  nslmi_free(a);
  o->v.s[0] = 3.0;
  return NSLM_OK;
}
STEP(s_fake_modifies) {
  UNUSED;
  nslm_params_set_layer(io->p[0], 0, 1, 1, (double[]){0.0}, 1, 1); /* wrong shape: no change */
  nslm_params_interpolate(io->p[0], W.in.gamma, W.in.gamma, 0.0); /* changes io->p[0] */
  void *a = nslmi_malloc(8);
  if (a == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "fake");
  nslmi_free(a);
  return NSLM_OK;
}

static void expect_caught(const step_t *s, const char *what) {
  tally_t t;
  memset(&t, 0, sizeof t);
  run_step(s, &t);
  ck_assert_msg(t.problems > 0, "%s: the defect was not caught", s->fns);
  ck_assert_msg(strstr(t.msg[0], what) != NULL, "%s: caught as '%s', expected '%s'", s->fns, t.msg[0], what);
}

START_TEST(detector_catches_defects) {
  world_make();
  step_t leak = {"fake_leak", NULL, s_fake_leak, -1}, writes = {"fake_writes", NULL, s_fake_writes, -1},
         status = {"fake_status", NULL, s_fake_status, -1},
         modifies = {"fake_modifies", prep_p0_theta, s_fake_modifies, -1};
  expect_caught(&leak, "leaked");
  expect_caught(&writes, "value output was written");
  expect_caught(&status, "expected NSLM_ERR_NOMEM");
  expect_caught(&modifies, "was changed");
  world_free();
}
END_TEST

START_TEST(fault_model) { run_group("model", G_MODEL); }
END_TEST
START_TEST(fault_load) { run_group("load", G_LOAD); }
END_TEST
START_TEST(fault_eval) { run_group("eval", G_EVAL); }
END_TEST
START_TEST(fault_caratheodory) { run_group("caratheodory", G_CARATH); }
END_TEST
START_TEST(fault_construction) { run_group("construction", G_CONSTRUCT); }
END_TEST
START_TEST(fault_path) { run_group("path", G_PATH); }
END_TEST
START_TEST(fault_landscape) { run_group("landscape", G_LANDSCAPE); }
END_TEST
START_TEST(fault_save) { run_group("save", G_SAVE); }
END_TEST

int main(void) {
  nslmh_result_reset("test_fault");
  Suite *s = suite_create("fault");
  TCase *tc = tcase_create("allocation");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, detector_catches_defects);
  tcase_add_test(tc, fault_load);
  tcase_add_test(tc, fault_model);
  tcase_add_test(tc, fault_eval);
  tcase_add_test(tc, fault_caratheodory);
  tcase_add_test(tc, fault_construction);
  tcase_add_test(tc, fault_path);
  tcase_add_test(tc, fault_landscape);
  tcase_add_test(tc, fault_save);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);

  const char **pub;
  size_t P = nslmh_public_functions(&pub), C = 0;
  char **cov;
  size_t ncov = nslmh_result_distinct("covered", &cov);
  for (size_t i = 0; i < P; i++) {
    int hit = 0;
    for (size_t j = 0; j < ncov; j++) hit |= strcmp(cov[j], pub[i]) == 0;
    if (hit) C++;
    else printf("not covered by the scenario: %s\n", pub[i]);
  }
  printf("allocation sites failed: %.0f / total %.0f, calls covered: %zu / public functions %zu\n",
         nslmh_result_sum("failed_ok"), nslmh_result_sum("sites"), C, P);
  printf("injected runs: %.0f (once and persistently), problems: %.0f, runs that leaked: %.0f\n",
         nslmh_result_sum("runs"), nslmh_result_sum("problems"), nslmh_result_sum("leaks"));
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
