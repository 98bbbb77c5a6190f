/* bad_io.c - bad-input cases of the file functions: nslm_npy_read,
 * nslm_npy_write, nslm_params_save, nslm_params_load.  Each call returns
 * its documented status, prints nothing and leaves its outputs untouched
 * (the loaded handle is set to NULL, as for every create function). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "badinput.h"
#include "nslm.h"
#include "testutil.h"

#define SENTINEL 4242.5

/* A scratch directory with a valid 2 x 3 .npy, a parameter set, a text
 * file and a subdirectory. */
typedef struct {
  char dir[512], npy[600], npz[600], txt[600], sub[600], missing[600];
  nslm_params *theta;
} files;

static void files_make(files *f) {
  const char *base = getenv("TMPDIR");
  snprintf(f->dir, sizeof f->dir, "%s/nslm-badio-XXXXXX", base && *base ? base : "/tmp");
  ck_assert_ptr_nonnull(mkdtemp(f->dir));
  snprintf(f->npy, sizeof f->npy, "%s/m.npy", f->dir);
  snprintf(f->npz, sizeof f->npz, "%s/t.npz", f->dir);
  snprintf(f->txt, sizeof f->txt, "%s/x.txt", f->dir);
  snprintf(f->sub, sizeof f->sub, "%s/d", f->dir);
  snprintf(f->missing, sizeof f->missing, "%s/no/such/file", f->dir);
  double a[6] = {1, 2, 3, 4, 5, 6};
  ck_assert_int_eq(nslm_npy_write(f->npy, 2, 3, a, 3, 1), NSLM_OK);
  size_t w[] = {2, 3, 1};
  nslm_net *net;
  ck_assert_int_eq(nslm_net_create(&net, 1, w), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&f->theta, net), NSLM_OK);
  nslm_net_destroy(net);
  ck_assert_int_eq(nslm_params_save(f->theta, f->npz), NSLM_OK);
  FILE *t = fopen(f->txt, "w");
  fputs("not an array\n", t);
  fclose(t);
  ck_assert_int_eq(mkdir(f->sub, 0755), 0);
}

static void files_free(files *f) {
  nslm_params_destroy(f->theta);
  unlink(f->npy);
  unlink(f->npz);
  unlink(f->txt);
  rmdir(f->sub);
  rmdir(f->dir);
}

START_TEST(bad_npy_read) {
  files f;
  files_make(&f);
  double a[8];
  size_t r = 11, c = 11;
  for (int i = 0; i < 8; i++) a[i] = SENTINEL;
  struct {
    const char *path;
    double *a;
    size_t cap;
    size_t *rows, *cols;
    int status;
  } cases[] = {
      {NULL, a, 8, &r, &c, NSLM_ERR_INVALID},        /* NULL path */
      {f.npy, a, 8, NULL, &c, NSLM_ERR_INVALID},     /* NULL rows */
      {f.npy, a, 8, &r, NULL, NSLM_ERR_INVALID},     /* NULL cols */
      {f.npy, NULL, 6, &r, &c, NSLM_ERR_INVALID},    /* NULL a with a capacity */
      {f.npy, a, 5, &r, &c, NSLM_ERR_DIMENSION},     /* cap < 6 */
      {f.npy, a, 0, &r, &c, NSLM_ERR_DIMENSION},     /* cap 0 with a buffer */
      {f.missing, a, 8, &r, &c, NSLM_ERR_IO},        /* no such file */
      {f.missing, NULL, 0, &r, &c, NSLM_ERR_IO},
      {f.sub, a, 8, &r, &c, NSLM_ERR_IO},            /* a directory */
      {"/dev/null", NULL, 0, &r, &c, NSLM_ERR_IO},   /* not a regular file */
      {f.txt, a, 8, &r, &c, NSLM_ERR_FORMAT},        /* not an .npy */
      {f.npz, NULL, 0, &r, &c, NSLM_ERR_FORMAT},     /* an .npz */
      {"", a, 8, &r, &c, NSLM_ERR_IO},               /* empty path */
  };
  for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
    nslmt_quiet_begin();
    int st = nslm_npy_read(cases[t].path, cases[t].a, cases[t].cap, cases[t].rows, cases[t].cols);
    long printed = nslmt_quiet_end();
    ck_assert_msg(st == cases[t].status, "case %zu: %d (%s)", t, st, nslm_last_error());
    ck_assert_int_eq(printed, 0);
    ck_assert(r == 11 && c == 11);
    for (int i = 0; i < 8; i++) ck_assert(a[i] == SENTINEL);
    ck_assert(strlen(nslm_last_error()) > 0);
  }
  files_free(&f);
}
END_TEST

START_TEST(bad_npy_write) {
  files f;
  files_make(&f);
  double a[6] = {1, 2, 3, 4, 5, 6};
  struct {
    const char *path;
    size_t rows, cols;
    const double *a;
    int status;
  } cases[] = {
      {NULL, 2, 3, a, NSLM_ERR_INVALID},
      {f.npy, 2, 3, NULL, NSLM_ERR_INVALID},
      {f.npy, (size_t)1 << 62, 8, a, NSLM_ERR_DIMENSION}, /* bytes overflow */
      {f.missing, 2, 3, a, NSLM_ERR_IO},
      {f.sub, 2, 3, a, NSLM_ERR_IO},
      {"/dev/null", 2, 3, a, NSLM_ERR_IO}, /* never replaces a device */
      {"", 2, 3, a, NSLM_ERR_IO},
  };
  struct stat before, after;
  ck_assert_int_eq(stat(f.npy, &before), 0);
  for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
    nslmt_quiet_begin();
    int st = nslm_npy_write(cases[t].path, cases[t].rows, cases[t].cols, cases[t].a, 3, 1);
    long printed = nslmt_quiet_end();
    ck_assert_msg(st == cases[t].status, "case %zu: %d (%s)", t, st, nslm_last_error());
    ck_assert_int_eq(printed, 0);
  }
  ck_assert_int_eq(stat(f.npy, &after), 0); /* untouched */
  ck_assert(before.st_ino == after.st_ino && before.st_size == after.st_size);
  struct stat ds;
  ck_assert_int_eq(stat(f.sub, &ds), 0);
  ck_assert(S_ISDIR(ds.st_mode));
  files_free(&f);
}
END_TEST

START_TEST(bad_params_save) {
  files f;
  files_make(&f);
  struct {
    const nslm_params *theta;
    const char *path;
    int status;
  } cases[] = {
      {NULL, f.npz, NSLM_ERR_INVALID},
      {f.theta, NULL, NSLM_ERR_INVALID},
      {f.theta, f.missing, NSLM_ERR_IO},
      {f.theta, f.sub, NSLM_ERR_IO},
      {f.theta, "/dev/null", NSLM_ERR_IO},
  };
  struct stat before, after;
  ck_assert_int_eq(stat(f.npz, &before), 0);
  for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
    nslmt_quiet_begin();
    int st = nslm_params_save(cases[t].theta, cases[t].path);
    long printed = nslmt_quiet_end();
    ck_assert_msg(st == cases[t].status, "case %zu: %d (%s)", t, st, nslm_last_error());
    ck_assert_int_eq(printed, 0);
  }
  ck_assert_int_eq(stat(f.npz, &after), 0);
  ck_assert(before.st_ino == after.st_ino);
  files_free(&f);
}
END_TEST

START_TEST(bad_params_load) {
  files f;
  files_make(&f);
  struct {
    int null_out;
    const char *path;
    int status;
  } cases[] = {
      {1, f.npz, NSLM_ERR_INVALID},
      {0, NULL, NSLM_ERR_INVALID},
      {0, f.missing, NSLM_ERR_IO},
      {0, f.sub, NSLM_ERR_IO},
      {0, "/dev/null", NSLM_ERR_IO},
      {0, f.txt, NSLM_ERR_FORMAT},
      {0, f.npy, NSLM_ERR_FORMAT}, /* an .npy is not an archive */
  };
  for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
    nslm_params *p = (nslm_params *)0x1;
    nslmt_quiet_begin();
    int st = nslm_params_load(cases[t].null_out ? NULL : &p, cases[t].path);
    long printed = nslmt_quiet_end();
    ck_assert_msg(st == cases[t].status, "case %zu: %d (%s)", t, st, nslm_last_error());
    ck_assert_int_eq(printed, 0);
    if (!cases[t].null_out) ck_assert_ptr_null(p);
  }
  files_free(&f);
}
END_TEST

void nslmt_bad_io(Suite *s) {
  TCase *tc = tcase_create("bad_io");
  tcase_add_test(tc, bad_npy_read);
  tcase_add_test(tc, bad_npy_write);
  tcase_add_test(tc, bad_params_save);
  tcase_add_test(tc, bad_params_load);
  suite_add_tcase(s, tc);
  nslmt_bad_cover("nslm_npy_read");
  nslmt_bad_cover("nslm_npy_write");
  nslmt_bad_cover("nslm_params_save");
  nslmt_bad_cover("nslm_params_load");
}
