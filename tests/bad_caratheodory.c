/* bad_caratheodory.c - bad-input cases of the caratheodory area: the
 * options object and both reductions.  Each failing call must return its
 * documented status, print nothing, leave every output untouched and leave
 * a fresh detail message naming the function. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "badinput.h"
#include "nslm.h"
#include "testutil.h"

#define SENT 555.5
#define H 6
#define R 3
#define U 2

static double z[H * R], t[H], w[U * H];
static double out[U * H], res[U], bnd[U], nb[U], na[U];
static size_t nnz[U], rank_out;
static unsigned char used[H];
static int ival;
static double dval;

static void setup_inputs(void) {
  nslmt_rng g;
  nslmt_seed(&g, 3);
  nslmt_fill(&g, z, H * R, 1.0);
  nslmt_fill(&g, t, H, 1.0);
  nslmt_fill(&g, w, U * H, 1.0);
}

static void reset_outputs(void) {
  for (int i = 0; i < U * H; i++)
    out[i] = SENT;
  for (int i = 0; i < U; i++) {
    res[i] = bnd[i] = nb[i] = na[i] = SENT;
    nnz[i] = 555;
  }
  memset(used, 0x5A, sizeof used);
  rank_out = 555;
  ival = 555;
  dval = SENT;
}

static void check_outputs(int line) {
  for (int i = 0; i < U * H; i++)
    ck_assert_msg(out[i] == SENT, "line %d: output %d touched", line, i);
  for (int i = 0; i < U; i++)
    ck_assert_msg(res[i] == SENT && bnd[i] == SENT && nb[i] == SENT && na[i] == SENT &&
                      nnz[i] == 555,
                  "line %d: report %d touched", line, i);
  for (int i = 0; i < H; i++)
    ck_assert_msg(used[i] == 0x5A, "line %d: used touched", line);
  ck_assert_msg(rank_out == 555 && ival == 555 && dval == SENT, "line %d: scalar touched", line);
}

#define BAD NSLMT_BAD

/* The single-vector call with one argument replaced. */
#define RED(zz, hh, rr, zrs, zcs, tt, tinc, q, opts, tout, oinc)                                   \
  nslm_caratheodory_reduce(hh, rr, zz, zrs, zcs, tt, tinc, q, opts, tout, oinc, nnz, res, bnd, nb, \
                           na, &rank_out)
#define ROWS(zz, hh, rr, uu, ww, wrs, q, opts, wo, ors, ocs)                                       \
  nslm_caratheodory_reduce_rows(hh, rr, zz, R, 1, uu, ww, wrs, 1, q, opts, wo, ors, ocs, nnz,      \
                                used, res, bnd, nb, na, &rank_out)

START_TEST(bad_opts) {
  nslm_caratheodory_opts *o = NULL;
  BAD("nslm_caratheodory_opts_create", nslm_caratheodory_opts_create(NULL), NSLM_ERR_INVALID);
  ck_assert_int_eq(nslm_caratheodory_opts_create(&o), NSLM_OK);
  /* destroy(NULL) is a no-op. */
  nslmt_quiet_begin();
  nslm_caratheodory_opts_destroy(NULL);
  ck_assert_int_eq(nslmt_quiet_end(), 0);
  BAD("nslm_caratheodory_opts_set_int",
      nslm_caratheodory_opts_set_int(NULL, NSLM_CARATHEODORY_MODE, 0), NSLM_ERR_INVALID);
  BAD("nslm_caratheodory_opts_set_int", nslm_caratheodory_opts_set_int(o, 77, 0), NSLM_ERR_INVALID);
  BAD("nslm_caratheodory_opts_set_int",
      nslm_caratheodory_opts_set_int(o, NSLM_CARATHEODORY_RANK_TOL, 0), NSLM_ERR_INVALID);
  BAD("nslm_caratheodory_opts_set_int",
      nslm_caratheodory_opts_set_int(o, NSLM_CARATHEODORY_MODE, 2), NSLM_ERR_INVALID);
  BAD("nslm_caratheodory_opts_set_int",
      nslm_caratheodory_opts_set_int(o, NSLM_CARATHEODORY_NUM_THREADS, -1), NSLM_ERR_DOMAIN);
  BAD("nslm_caratheodory_opts_get_int",
      nslm_caratheodory_opts_get_int(NULL, NSLM_CARATHEODORY_MODE, &ival), NSLM_ERR_INVALID);
  BAD("nslm_caratheodory_opts_get_int",
      nslm_caratheodory_opts_get_int(o, NSLM_CARATHEODORY_MODE, NULL), NSLM_ERR_INVALID);
  BAD("nslm_caratheodory_opts_get_int",
      nslm_caratheodory_opts_get_int(o, NSLM_CARATHEODORY_RANK_TOL, &ival), NSLM_ERR_INVALID);
  BAD("nslm_caratheodory_opts_set_double",
      nslm_caratheodory_opts_set_double(NULL, NSLM_CARATHEODORY_RANK_TOL, 0.1), NSLM_ERR_INVALID);
  BAD("nslm_caratheodory_opts_set_double",
      nslm_caratheodory_opts_set_double(o, NSLM_CARATHEODORY_MODE, 0.1), NSLM_ERR_INVALID);
  BAD("nslm_caratheodory_opts_set_double",
      nslm_caratheodory_opts_set_double(o, NSLM_CARATHEODORY_RANK_TOL, NAN), NSLM_ERR_NONFINITE);
  BAD("nslm_caratheodory_opts_set_double",
      nslm_caratheodory_opts_set_double(o, NSLM_CARATHEODORY_RANK_TOL, -1e-3), NSLM_ERR_DOMAIN);
  BAD("nslm_caratheodory_opts_set_double",
      nslm_caratheodory_opts_set_double(o, NSLM_CARATHEODORY_RANK_TOL, 1.0), NSLM_ERR_DOMAIN);
  BAD("nslm_caratheodory_opts_get_double",
      nslm_caratheodory_opts_get_double(NULL, NSLM_CARATHEODORY_RANK_TOL, &dval), NSLM_ERR_INVALID);
  BAD("nslm_caratheodory_opts_get_double",
      nslm_caratheodory_opts_get_double(o, NSLM_CARATHEODORY_RANK_TOL, NULL), NSLM_ERR_INVALID);
  BAD("nslm_caratheodory_opts_get_double",
      nslm_caratheodory_opts_get_double(o, NSLM_CARATHEODORY_MODE, &dval), NSLM_ERR_INVALID);
  BAD("nslm_caratheodory_opts_set_progress", nslm_caratheodory_opts_set_progress(NULL, NULL, NULL),
      NSLM_ERR_INVALID);
  /* The rejected values left the options as they were. */
  int v;
  double d;
  ck_assert_int_eq(nslm_caratheodory_opts_get_int(o, NSLM_CARATHEODORY_MODE, &v), NSLM_OK);
  ck_assert_int_eq(v, NSLM_CARATHEODORY_TIGHT);
  ck_assert_int_eq(nslm_caratheodory_opts_get_int(o, NSLM_CARATHEODORY_NUM_THREADS, &v), NSLM_OK);
  ck_assert_int_eq(v, 0);
  ck_assert_int_eq(nslm_caratheodory_opts_get_double(o, NSLM_CARATHEODORY_RANK_TOL, &d), NSLM_OK);
  ck_assert(d == nslm_caratheodory_default_rank_tol());
  nslm_caratheodory_opts_destroy(o);
}
END_TEST

START_TEST(bad_reduce) {
  setup_inputs();
  double zbad[H * R], tbad[H];
  const char *fn = "nslm_caratheodory_reduce";
  BAD(fn, RED(NULL, H, R, R, 1, t, 1, 0.5, NULL, out, 1), NSLM_ERR_INVALID);
  BAD(fn, RED(z, H, R, R, 1, NULL, 1, 0.5, NULL, out, 1), NSLM_ERR_INVALID);
  BAD(fn, RED(z, H, R, R, 1, t, 1, 0.5, NULL, NULL, 1), NSLM_ERR_INVALID);
  BAD(fn, RED(z, 0, R, R, 1, t, 1, 0.5, NULL, out, 1), NSLM_ERR_DIMENSION);
  BAD(fn, RED(z, H, 0, R, 1, t, 1, 0.5, NULL, out, 1), NSLM_ERR_DIMENSION);
  BAD(fn, RED(z, H, R, R, 1, t, 1, 0.5, NULL, out, 0), NSLM_ERR_DIMENSION);
  BAD(fn, RED(z, H, (size_t)1 << 40, R, 1, t, 1, 0.5, NULL, out, 1), NSLM_ERR_DIMENSION);
  BAD(fn, RED(z, H, R, R, 1, t, 1, 0.0, NULL, out, 1), NSLM_ERR_DOMAIN);
  BAD(fn, RED(z, H, R, R, 1, t, 1, -0.5, NULL, out, 1), NSLM_ERR_DOMAIN);
  BAD(fn, RED(z, H, R, R, 1, t, 1, 1.5, NULL, out, 1), NSLM_ERR_DOMAIN);
  BAD(fn, RED(z, H, R, R, 1, t, 1, NAN, NULL, out, 1), NSLM_ERR_DOMAIN);
  BAD(fn, RED(z, H, R, R, 1, t, 1, INFINITY, NULL, out, 1), NSLM_ERR_DOMAIN);
  memcpy(zbad, z, sizeof z);
  zbad[7] = NAN;
  BAD(fn, RED(zbad, H, R, R, 1, t, 1, 0.5, NULL, out, 1), NSLM_ERR_NONFINITE);
  zbad[7] = -INFINITY;
  BAD(fn, RED(zbad, H, R, R, 1, t, 1, 0.5, NULL, out, 1), NSLM_ERR_NONFINITE);
  memcpy(tbad, t, sizeof t);
  tbad[H - 1] = INFINITY;
  BAD(fn, RED(z, H, R, R, 1, tbad, 1, 0.5, NULL, out, 1), NSLM_ERR_NONFINITE);
  tbad[H - 1] = NAN;
  BAD(fn, RED(z, H, R, R, 1, tbad, 1, 1.0, NULL, out, 1), NSLM_ERR_NONFINITE);
  /* The same call succeeds once the input is fixed. */
  reset_outputs();
  ck_assert_int_eq(RED(z, H, R, R, 1, t, 1, 0.5, NULL, out, 1), NSLM_OK);
  ck_assert_uint_le(nnz[0], R);
}
END_TEST

START_TEST(bad_reduce_rows) {
  setup_inputs();
  double wbad[U * H];
  const char *fn = "nslm_caratheodory_reduce_rows";
  BAD(fn, ROWS(NULL, H, R, U, w, H, 0.5, NULL, out, H, 1), NSLM_ERR_INVALID);
  BAD(fn, ROWS(z, H, R, U, NULL, H, 0.5, NULL, out, H, 1), NSLM_ERR_INVALID);
  BAD(fn, ROWS(z, H, R, U, w, H, 0.5, NULL, NULL, H, 1), NSLM_ERR_INVALID);
  BAD(fn, ROWS(z, 0, R, U, w, H, 0.5, NULL, out, H, 1), NSLM_ERR_DIMENSION);
  BAD(fn, ROWS(z, H, 0, U, w, H, 0.5, NULL, out, H, 1), NSLM_ERR_DIMENSION);
  BAD(fn, ROWS(z, H, R, 0, w, H, 0.5, NULL, out, H, 1), NSLM_ERR_DIMENSION);
  BAD(fn, ROWS(z, H, R, U, w, H, 0.5, NULL, out, 0, 1), NSLM_ERR_DIMENSION);
  BAD(fn, ROWS(z, H, R, U, w, H, 0.5, NULL, out, H, 0), NSLM_ERR_DIMENSION);
  BAD(fn, ROWS(z, (size_t)1 << 20, (size_t)1 << 20, U, w, H, 0.5, NULL, out, H, 1),
      NSLM_ERR_DIMENSION);
  BAD(fn, ROWS(z, H, R, U, w, H, 0.0, NULL, out, H, 1), NSLM_ERR_DOMAIN);
  BAD(fn, ROWS(z, H, R, U, w, H, 1.0000001, NULL, out, H, 1), NSLM_ERR_DOMAIN);
  BAD(fn, ROWS(z, H, R, U, w, H, NAN, NULL, out, H, 1), NSLM_ERR_DOMAIN);
  memcpy(wbad, w, sizeof w);
  wbad[U * H - 1] = NAN;
  BAD(fn, ROWS(z, H, R, U, wbad, H, 0.5, NULL, out, H, 1), NSLM_ERR_NONFINITE);
  double zbad[H * R];
  memcpy(zbad, z, sizeof z);
  zbad[0] = INFINITY;
  BAD(fn, ROWS(zbad, H, R, U, w, H, 0.5, NULL, out, H, 1), NSLM_ERR_NONFINITE);
  /* A progress callback that stops at once: cancelled, nothing written. */
  nslm_caratheodory_opts *o;
  ck_assert_int_eq(nslm_caratheodory_opts_create(&o), NSLM_OK);
  ck_assert_int_eq(nslm_caratheodory_opts_set_progress(o, NULL, NULL), NSLM_OK);
  reset_outputs();
  ck_assert_int_eq(ROWS(z, H, R, U, w, H, 0.5, o, out, H, 1), NSLM_OK);
  nslm_caratheodory_opts_destroy(o);
}
END_TEST

static int stop_now(double f, void *ud) {
  (void)f;
  (void)ud;
  return 1;
}

START_TEST(bad_cancelled) {
  setup_inputs();
  nslm_caratheodory_opts *o;
  ck_assert_int_eq(nslm_caratheodory_opts_create(&o), NSLM_OK);
  ck_assert_int_eq(nslm_caratheodory_opts_set_progress(o, stop_now, NULL), NSLM_OK);
  BAD("nslm_caratheodory_reduce_rows", ROWS(z, H, R, U, w, H, 0.5, o, out, H, 1),
      NSLM_ERR_CANCELLED);
  BAD("nslm_caratheodory_reduce", RED(z, H, R, R, 1, t, 1, 0.5, o, out, 1), NSLM_ERR_CANCELLED);
  nslm_caratheodory_opts_destroy(o);
  /* The default tolerance (a constant: no failure mode) agrees with the
   * macro. */
  ck_assert(nslm_caratheodory_default_rank_tol() == NSLM_CARATHEODORY_RANK_TOL_DEFAULT);
}
END_TEST

void nslmt_bad_caratheodory(Suite *s) {
  static const char *fns[] = {"nslm_caratheodory_opts_create",
                              "nslm_caratheodory_opts_destroy",
                              "nslm_caratheodory_opts_set_int",
                              "nslm_caratheodory_opts_get_int",
                              "nslm_caratheodory_opts_set_double",
                              "nslm_caratheodory_opts_get_double",
                              "nslm_caratheodory_opts_set_progress",
                              "nslm_caratheodory_default_rank_tol",
                              "nslm_caratheodory_reduce",
                              "nslm_caratheodory_reduce_rows"};
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
    nslmt_bad_cover(fns[i]);
  TCase *tc = tcase_create("caratheodory");
  tcase_add_test(tc, bad_opts);
  tcase_add_test(tc, bad_reduce);
  tcase_add_test(tc, bad_reduce_rows);
  tcase_add_test(tc, bad_cancelled);
  suite_add_tcase(s, tc);
}
