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

#include <check.h>

void nslmt_bad_cover(const char *fn);

void nslmt_bad_model(Suite *s);
void nslmt_bad_loss(Suite *s);
void nslmt_bad_forward(Suite *s);
void nslmt_bad_io(Suite *s);
void nslmt_bad_caratheodory(Suite *s);
void nslmt_bad_path(Suite *s);
void nslmt_bad_construction(Suite *s);

#endif
