/* test_core.c - version, status strings, detail messages, fault injection,
 * destroy(NULL): the always-present ABI tests. */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "nslm.h"
#include "alloc.h"
#include "status.h"

START_TEST(version_agrees) {
  ck_assert_int_eq(nslm_version_number(), NSLM_VERSION_NUMBER);
  ck_assert_str_eq(nslm_version_string(), NSLM_VERSION_STRING);
  ck_assert_int_eq(NSLM_VERSION_NUMBER,
                   NSLM_VERSION_MAJOR * 10000 + NSLM_VERSION_MINOR * 100 + NSLM_VERSION_PATCH);
}
END_TEST

START_TEST(every_status_has_a_string) {
  const char *unknown = nslm_strerror(12345);
  ck_assert_ptr_nonnull(unknown);
  for (int st = 0; st >= NSLM_ERR_RANGE; st--) {
    const char *s = nslm_strerror(st);
    ck_assert_ptr_nonnull(s);
    ck_assert_msg(strlen(s) > 0, "status %d", st);
    ck_assert_msg(strcmp(s, unknown) != 0, "status %d has no string of its own", st);
  }
  ck_assert_ptr_nonnull(nslm_strerror(-1000));
}
END_TEST

START_TEST(detail_message_names_argument) {
  nslm_net *net = (nslm_net *)0x1;
  ck_assert_int_eq(nslm_net_create(&net, 1, NULL), NSLM_ERR_INVALID);
  ck_assert_ptr_null(net);
  ck_assert_ptr_nonnull(strstr(nslm_last_error(), "widths"));
  /* size query convention */
  size_t need = 0;
  ck_assert_int_eq(nslm_last_error_copy(NULL, 0, &need), NSLM_OK);
  ck_assert_uint_eq(need, strlen(nslm_last_error()) + 1);
  char small[4];
  ck_assert_int_eq(nslm_last_error_copy(small, sizeof small, &need), NSLM_OK);
  ck_assert_uint_eq(strlen(small), 3);
  ck_assert_int_eq(strncmp(small, nslm_last_error(), 3), 0);
  ck_assert_int_eq(nslm_last_error_copy(NULL, 5, &need), NSLM_ERR_INVALID);
  ck_assert_int_eq(nslm_last_error_copy(small, 4, NULL), NSLM_ERR_INVALID);
}
END_TEST

START_TEST(destroy_null_is_noop) {
  nslm_net_destroy(NULL);
  nslm_params_destroy(NULL);
  nslm_data_destroy(NULL);
  nslm_loss_destroy(NULL);
  nslm_constraint_destroy(NULL);
}
END_TEST

START_TEST(alloc_injection_counts_and_fails) {
  nslmi_alloc_fail_after(1, 0);
  void *a = nslmi_malloc(8), *b = nslmi_malloc(8), *c = nslmi_malloc(8);
  ck_assert_ptr_nonnull(a);
  ck_assert_ptr_null(b);
  ck_assert_ptr_nonnull(c);
  ck_assert_int_eq(nslmi_alloc_count(), 3);
  nslmi_free(a);
  nslmi_free(c);
  nslmi_alloc_fail_after(0, 1);
  ck_assert_ptr_null(nslmi_malloc(1));
  ck_assert_ptr_null(nslmi_calloc(1, 1));
  nslmi_alloc_fail_after(-1, 0);
  a = nslmi_malloc(1);
  ck_assert_ptr_nonnull(a);
  nslmi_free(a);
  ck_assert_ptr_null(nslmi_calloc((size_t)-1, 16)); /* overflow */
}
END_TEST

/* Every allocation site of nslm_net_create / nslm_params_create fails once:
 * NOMEM, *out NULL, no leak (valgrind run checks the leak part). */
START_TEST(create_functions_survive_each_failed_allocation) {
  size_t widths[] = {3, 5, 4, 2};
  int sites = 0;
  for (long k = 0;; k++) {
    nslm_net *net = NULL;
    nslmi_alloc_fail_after(k, 0);
    int st = nslm_net_create(&net, 2, widths);
    long used = nslmi_alloc_count();
    nslmi_alloc_fail_after(-1, 0);
    if (k >= used) { ck_assert_int_eq(st, NSLM_OK); nslm_net_destroy(net); break; }
    ck_assert_int_eq(st, NSLM_ERR_NOMEM);
    ck_assert_ptr_null(net);
    sites++;
  }
  nslm_net *net;
  ck_assert_int_eq(nslm_net_create(&net, 2, widths), NSLM_OK);
  for (long k = 0;; k++) {
    nslm_params *p = NULL;
    nslmi_alloc_fail_after(k, 0);
    int st = nslm_params_create(&p, net);
    long used = nslmi_alloc_count();
    nslmi_alloc_fail_after(-1, 0);
    if (k >= used) { ck_assert_int_eq(st, NSLM_OK); nslm_params_destroy(p); break; }
    ck_assert_int_eq(st, NSLM_ERR_NOMEM);
    ck_assert_ptr_null(p);
    sites++;
  }
  nslm_net_destroy(net);
  ck_assert_int_ge(sites, 5);
}
END_TEST

int main(void) {
  Suite *s = suite_create("core");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, version_agrees);
  tcase_add_test(tc, every_status_has_a_string);
  tcase_add_test(tc, detail_message_names_argument);
  tcase_add_test(tc, destroy_null_is_noop);
  tcase_add_test(tc, alloc_injection_counts_and_fails);
  tcase_add_test(tc, create_functions_survive_each_failed_allocation);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
