/* badinput.h - the bad-input table: every public function called with NULL,
 * wrong sizes, NaN/Inf, out-of-range values... must return its documented
 * status, leave outputs untouched and print nothing.
 *
 * Each area has a file bad_<area>.c defining nslmt_bad_<area>(Suite *),
 * which adds its test cases and calls nslmt_bad_cover("nslm_fn") once per
 * public function it exercises (at registration time, in the runner).
 * test_badinput.c compares the covered names with the header's. */
#ifndef NSLM_BADINPUT_H
#define NSLM_BADINPUT_H

#include <string.h>

#include <check.h>

#include "nslm.h"
#include "testutil.h"

void nslmt_bad_cover(const char *fn);

/* Plants a detail message that names no public function, so a case can
 * tell that the call under test recorded a fresh one; returns a copy. */
const char *nslmt_bad_plant(void);

/* Runs call quietly and checks: the status, that nothing was printed, that
 * the outputs are untouched (the including file defines reset_outputs()
 * and check_outputs(int line)), and a fresh detail naming the function. */
#define NSLMT_BAD(fn, call, want)                                                      \
  do {                                                                                 \
    reset_outputs();                                                                   \
    const char *planted_ = nslmt_bad_plant();                                          \
    nslmt_quiet_begin();                                                               \
    int st_ = (call);                                                                  \
    long printed_ = nslmt_quiet_end();                                                 \
    ck_assert_msg(st_ == (want), "line %d (%s): status %d, expected %d (%s)", __LINE__, \
                  #call, st_, (want), nslm_last_error());                              \
    ck_assert_msg(printed_ == 0, "line %d: %ld bytes printed", __LINE__, printed_);    \
    check_outputs(__LINE__);                                                           \
    ck_assert_msg(strcmp(nslm_last_error(), planted_) != 0 &&                          \
                      strstr(nslm_last_error(), fn) != NULL,                           \
                  "line %d: detail '%s'", __LINE__, nslm_last_error());                \
  } while (0)

/* For a call that cannot fail: quiet; the caller checks its value. */
#define NSLMT_QUIET(expr, out)              \
  do {                                      \
    nslmt_quiet_begin();                    \
    out = (expr);                           \
    ck_assert_int_eq(nslmt_quiet_end(), 0); \
  } while (0)

void nslmt_bad_model(Suite *s);
void nslmt_bad_loss(Suite *s);
void nslmt_bad_forward(Suite *s);
void nslmt_bad_io(Suite *s);
void nslmt_bad_caratheodory(Suite *s);
void nslmt_bad_path(Suite *s);
void nslmt_bad_construction(Suite *s);

#endif
