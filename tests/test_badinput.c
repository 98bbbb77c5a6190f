/* test_badinput.c - runs every area's bad-input table and checks that every
 * public function of include/nslm.h has at least one bad-input case. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

#include <check.h>

#include "badinput.h"
#include "status.h"

#define MAX_NAMES 1024
static char *covered[MAX_NAMES];
static size_t ncovered;

void nslmt_bad_cover(const char *fn) {
  for (size_t i = 0; i < ncovered; i++)
    if (strcmp(covered[i], fn) == 0) return;
  if (ncovered < MAX_NAMES) covered[ncovered++] = strdup(fn);
}

const char *nslmt_bad_plant(void) {
  static char planted[256];
  nslmi_fail(NSLM_ERR_INVALID, "nslmt_bad_plant", "planted detail");
  snprintf(planted, sizeof planted, "%s", nslm_last_error());
  return planted;
}

static int is_covered(const char *fn) {
  for (size_t i = 0; i < ncovered; i++)
    if (strcmp(covered[i], fn) == 0) return 1;
  return 0;
}

/* Public function names: "nslm_xxx(" in the header, minus callback types. */
static size_t header_functions(char names[][96], size_t cap) {
  FILE *f = fopen(TOP_SRCDIR "/include/nslm.h", "r");
  if (f == NULL) return 0;
  char line[1024];
  size_t n = 0;
  while (fgets(line, sizeof line, f)) {
    for (char *p = strstr(line, "nslm_"); p; p = strstr(p + 1, "nslm_")) {
      if (p > line && (isalnum((unsigned char)p[-1]) || p[-1] == '_')) continue;
      size_t k = 0;
      while (isalnum((unsigned char)p[k]) || p[k] == '_') k++;
      size_t e = k;
      while (p[e] == ' ' || p[e] == '\t') e++;
      if (p[e] != '(' || k >= 96) continue;
      if (k > 3 && strncmp(p + k - 3, "_fn", 3) == 0) continue; /* typedefs */
      char name[96];
      memcpy(name, p, k);
      name[k] = '\0';
      int dup = 0;
      for (size_t i = 0; i < n; i++) dup |= strcmp(names[i], name) == 0;
      if (!dup && n < cap) strcpy(names[n++], name);
    }
  }
  fclose(f);
  return n;
}

int main(void) {
  Suite *s = suite_create("badinput");
  nslmt_bad_model(s);
  nslmt_bad_loss(s);
  nslmt_bad_forward(s);
  nslmt_bad_io(s);
  nslmt_bad_caratheodory(s);
  nslmt_bad_path(s);
  nslmt_bad_construction(s);

  static char names[MAX_NAMES][96];
  size_t n = header_functions(names, MAX_NAMES), have = 0;
  for (size_t i = 0; i < n; i++) {
    if (is_covered(names[i])) have++;
    else printf("no bad-input case: %s\n", names[i]);
  }
  printf("public functions with a bad-input test: %zu of %zu\n", have, n);

  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return (failed == 0 && n > 0 && have == n) ? EXIT_SUCCESS : EXIT_FAILURE;
}
