/* test_io.c - .npy and .npz files: round trips (strided, Fortran-ordered,
 * special values, bit exact), files written by numpy read correctly, our
 * files read by numpy, numpy.save's exact bytes, truncation at every byte,
 * corrupt headers, hostile zip archives, atomic saves under failure (no
 * directory, a directory in the way, a read-only directory, a file size
 * limit, and every file operation failed once by injection) and
 * allocation-failure injection over the load and save functions.
 *
 * Truth is independent of the library: values come from an integer
 * formula evaluated separately here and in the numpy scripts (every value
 * is a multiple of 1/8 below 64, exact in float32 and float64, so every
 * comparison is exact equality - no tolerance is needed or used); file
 * bytes are compared with numpy.save's.  The numpy cases need
 * /usr/bin/python3 with numpy and are skipped (with a message) without it. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "nslm.h"
#include "alloc.h"
#include "npz.h"
#include "testutil.h"

#define PY "/usr/bin/python3"

/* ------------------------------------------------------------------ */
/* Helpers: the value formula, scratch directories, files, numpy. */

static double val(size_t i, size_t j, int seed) {
  return (double)((i * 7 + j * 13 + (size_t)seed) % 97) * 0.5 - 24.0 + (double)(j % 8) * 0.125;
}

static const char PY_VAL[] =
    "import sys, os, numpy as np\n"
    "def M(r, c, seed):\n"
    "    i, j = np.indices((r, c))\n"
    "    return ((i * 7 + j * 13 + seed) % 97) * 0.5 - 24.0 + (j % 8) * 0.125\n"
    "d = sys.argv[1]\n"
    "P = lambda name: os.path.join(d, name)\n";

static char *mkscratch(char *buf, size_t cap) {
  const char *base = getenv("TMPDIR");
  snprintf(buf, cap, "%s/nslm-io-XXXXXX", base && *base ? base : "/tmp");
  ck_assert_ptr_nonnull(mkdtemp(buf));
  return buf;
}

static void rm_tree(const char *dir) {
  DIR *d = opendir(dir);
  if (d == NULL) return;
  chmod(dir, 0700);
  struct dirent *e;
  char p[1024];
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    struct stat st;
    if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) rm_tree(p);
    else unlink(p);
  }
  closedir(d);
  rmdir(dir);
}

static int count_entries(const char *dir) {
  DIR *d = opendir(dir);
  ck_assert_ptr_nonnull(d);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
  closedir(d);
  return n;
}

static const char *path_in(char *buf, size_t cap, const char *dir, const char *name) {
  if ((size_t)snprintf(buf, cap, "%s/%s", dir, name) >= cap) ck_abort_msg("path too long");
  return buf;
}

static void write_bytes(const char *path, const void *buf, size_t len) {
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
  ck_assert_int_eq(fclose(f), 0);
}

/* The whole file, malloc'ed (caller frees); *len its size. */
static unsigned char *read_bytes(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc((size_t)n + 1);
  ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return b;
}

static int same_file(const char *path, const unsigned char *buf, size_t len) {
  size_t n;
  unsigned char *b = read_bytes(path, &n);
  int same = n == len && memcmp(b, buf, n) == 0;
  free(b);
  return same;
}

static int have_numpy(void) {
  int ok = system(PY " -c 'import numpy' >/dev/null 2>&1") == 0;
  if (!ok) printf("skipped: %s has no numpy\n", PY);
  return ok;
}

/* Runs PY_VAL + body with the directory as argv[1]; the exit status. */
static int run_py(const char *dir, const char *body) {
  char script[1024], cmd[2200];
  path_in(script, sizeof script, dir, "script.py");
  FILE *f = fopen(script, "w");
  ck_assert_ptr_nonnull(f);
  fputs(PY_VAL, f);
  fputs(body, f);
  fclose(f);
  snprintf(cmd, sizeof cmd, PY " '%s' '%s'", script, dir);
  int st = system(cmd);
  unlink(script);
  return st;
}

/* Reads path as an .npy and compares with val(., ., seed) over rows x cols. */
static void check_npy_values(const char *path, size_t rows, size_t cols, int seed) {
  size_t r = 0, c = 0;
  ck_assert_msg(nslm_npy_read(path, NULL, 0, &r, &c) == NSLM_OK, "%s: %s", path, nslm_last_error());
  ck_assert_uint_eq(r, rows);
  ck_assert_uint_eq(c, cols);
  double *a = malloc((rows * cols + 1) * sizeof *a);
  ck_assert_int_eq(nslm_npy_read(path, a, rows * cols, &r, &c), NSLM_OK);
  for (size_t i = 0; i < rows; i++)
    for (size_t j = 0; j < cols; j++)
      ck_assert_msg(a[i * cols + j] == val(i, j, seed), "%s (%zu,%zu): %g != %g", path, i, j,
                    a[i * cols + j], val(i, j, seed));
  free(a);
}

/* A parameter set whose layer j is val(., ., seed0 + j), widths w[0..l+1]. */
static nslm_params *make_params(size_t depth, const size_t *w, int seed0) {
  nslm_net *net;
  nslm_params *p;
  ck_assert_int_eq(nslm_net_create(&net, depth, w), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&p, net), NSLM_OK);
  nslm_net_destroy(net);
  for (size_t j = 0; j <= depth; j++) {
    size_t r = w[j + 1], c = w[j];
    double *a = malloc(r * c * sizeof *a);
    for (size_t i = 0; i < r; i++)
      for (size_t k = 0; k < c; k++) a[i * c + k] = val(i, k, seed0 + (int)j);
    ck_assert_int_eq(nslm_params_set_layer(p, j, r, c, a, (ptrdiff_t)c, 1), NSLM_OK);
    free(a);
  }
  return p;
}

static void check_params_values(const nslm_params *p, size_t depth, const size_t *w, int seed0) {
  ck_assert_uint_eq(nslm_params_depth(p), depth);
  for (size_t j = 0; j <= depth; j++) {
    size_t r, c;
    ck_assert_int_eq(nslm_params_layer_shape(p, j, &r, &c), NSLM_OK);
    ck_assert_uint_eq(r, w[j + 1]);
    ck_assert_uint_eq(c, w[j]);
    double *a = malloc(r * c * sizeof *a);
    ck_assert_int_eq(nslm_params_get_layer(p, j, r, c, a, (ptrdiff_t)c, 1), NSLM_OK);
    for (size_t i = 0; i < r; i++)
      for (size_t k = 0; k < c; k++)
        ck_assert_msg(a[i * c + k] == val(i, k, seed0 + (int)j), "layer %zu (%zu,%zu)", j, i, k);
    free(a);
  }
}

/* Bit-exact equality of two parameter sets (distinguishes -0.0, NaN bits). */
static int params_bits_equal(const nslm_params *a, const nslm_params *b) {
  size_t l = nslm_params_depth(a);
  if (l != nslm_params_depth(b)) return 0;
  for (size_t j = 0; j <= l; j++) {
    size_t r, c, r2, c2;
    nslm_params_layer_shape(a, j, &r, &c);
    nslm_params_layer_shape(b, j, &r2, &c2);
    if (r != r2 || c != c2) return 0;
    double *x = malloc(r * c * sizeof *x), *y = malloc(r * c * sizeof *y);
    nslm_params_get_layer(a, j, r, c, x, (ptrdiff_t)c, 1);
    nslm_params_get_layer(b, j, r, c, y, (ptrdiff_t)c, 1);
    int same = memcmp(x, y, r * c * sizeof *x) == 0;
    free(x);
    free(y);
    if (!same) return 0;
  }
  return 1;
}

/* ------------------------------------------------------------------ */
/* Round trips */

/* Writes a rows x cols matrix from strided storage (C, Fortran, padded,
 * negative strides), reads it back bit for bit, including -0.0, a
 * subnormal, +-Inf and a NaN payload. */
START_TEST(npy_roundtrip_strided) {
  char dir[512], path[1024];
  mkscratch(dir, sizeof dir);
  path_in(path, sizeof path, dir, "m.npy");
  nslmt_rng rng;
  nslmt_seed(&rng, 7);
  size_t shapes[][2] = {{1, 1}, {1, 9}, {9, 1}, {37, 3}, {3, 37}, {64, 64}, {0, 5}, {5, 0}};
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    size_t r = shapes[s][0], c = shapes[s][1], n = r * c;
    size_t pad = 3, big = (r + pad) * (c + pad) + 1;
    double *store = malloc(big * sizeof *store), *truth = malloc((n + 1) * sizeof *truth);
    nslmt_fill(&rng, truth, n, 10.0);
    if (n >= 5) {
      uint64_t nan_bits = 0x7ff8000000012345ULL;
      truth[0] = -0.0;
      truth[1] = 4.9e-324;
      truth[2] = INFINITY;
      truth[3] = -INFINITY;
      memcpy(&truth[4], &nan_bits, 8);
    }
    for (int layout = 0; layout < 4; layout++) {
      ptrdiff_t rs, cs;
      const double *base;
      for (size_t i = 0; i < big; i++) store[i] = 999.0;
      switch (layout) {
      case 0: rs = (ptrdiff_t)c; cs = 1; base = store; break;             /* C */
      case 1: rs = 1; cs = (ptrdiff_t)r; base = store; break;             /* Fortran */
      case 2: rs = (ptrdiff_t)(c + pad); cs = 1; base = store; break;     /* padded rows */
      default: /* negative strides: rows bottom-up, columns right-to-left */
        rs = -(ptrdiff_t)(c + pad);
        cs = -1;
        base = store + (r ? (r - 1) * (c + pad) : 0) + (c ? c - 1 : 0);
        break;
      }
      for (size_t i = 0; i < r; i++)
        for (size_t k = 0; k < c; k++)
          ((double *)base)[(ptrdiff_t)i * rs + (ptrdiff_t)k * cs] = truth[i * c + k];
      ck_assert_int_eq(nslm_npy_write(path, r, c, base, rs, cs), NSLM_OK);
      size_t rr = 77, cc = 77;
      ck_assert_int_eq(nslm_npy_read(path, NULL, 0, &rr, &cc), NSLM_OK);
      ck_assert_uint_eq(rr, r);
      ck_assert_uint_eq(cc, c);
      double *back = malloc((n + 1) * sizeof *back);
      ck_assert_int_eq(nslm_npy_read(path, back, n, &rr, &cc), NSLM_OK);
      ck_assert_msg(n == 0 || memcmp(back, truth, n * sizeof *back) == 0, "shape %zu x %zu layout %d", r,
                    c, layout);
      free(back);
    }
    free(store);
    free(truth);
  }
  ck_assert_int_eq(count_entries(dir), 1); /* no temporary file left */
  rm_tree(dir);
}
END_TEST

/* Parameter sets: save -> load is bit exact (random values with -0.0 and
 * a subnormal), depth 1..4, widths including 1. */
START_TEST(params_roundtrip_bit_exact) {
  char dir[512], path[1024];
  mkscratch(dir, sizeof dir);
  path_in(path, sizeof path, dir, "theta.npz");
  size_t cases[][6] = {{1, 1, 1}, {3, 5, 2}, {4, 1, 7, 1}, {2, 9, 3, 8, 1}, {6, 4, 4, 4, 4, 3}};
  size_t depths[] = {1, 1, 2, 3, 4};
  nslmt_rng rng;
  nslmt_seed(&rng, 11);
  for (size_t t = 0; t < 5; t++) {
    nslm_net *net;
    nslm_params *p, *q = (nslm_params *)0x1;
    ck_assert_int_eq(nslm_net_create(&net, depths[t], cases[t]), NSLM_OK);
    ck_assert_int_eq(nslm_params_create(&p, net), NSLM_OK);
    for (size_t j = 0; j <= depths[t]; j++) {
      size_t r = cases[t][j + 1], c = cases[t][j];
      double *a = malloc(r * c * sizeof *a);
      nslmt_fill(&rng, a, r * c, 1.0);
      a[0] = -0.0;
      if (r * c > 1) a[1] = 2.2e-310;
      ck_assert_int_eq(nslm_params_set_layer(p, j, r, c, a, (ptrdiff_t)c, 1), NSLM_OK);
      free(a);
    }
    ck_assert_int_eq(nslm_params_save(p, path), NSLM_OK);
    ck_assert_int_eq(nslm_params_load(&q, path), NSLM_OK);
    ck_assert(params_bits_equal(p, q));
    ck_assert(nslm_params_equal(p, q));
    nslm_params_destroy(q);
    nslm_params_destroy(p);
    nslm_net_destroy(net);
  }
  ck_assert_int_eq(count_entries(dir), 1);
  rm_tree(dir);
}
END_TEST

/* The internal archive API used by the path module: float64 and int64
 * arrays, 1-D and 2-D, copied and by reference, plain and forced zip64. */
START_TEST(npz_internal_roundtrip) {
  char dir[512], path[1024];
  mkscratch(dir, sizeof dir);
  path_in(path, sizeof path, dir, "a.npz");
  double f[12];
  int64_t iv[5] = {INT64_MIN, -1, 0, 1, INT64_MAX};
  for (int i = 0; i < 12; i++) f[i] = val(i / 4, i % 4, 3);
  for (unsigned flags = 0; flags <= NSLMI_NPZ_FORCE_ZIP64; flags++) {
    nslmi_npz *z, *back;
    ck_assert_int_eq(nslmi_npz_create(&z), NSLM_OK);
    size_t s2[2] = {3, 4}, s1[1] = {5};
    ck_assert_int_eq(nslmi_npz_add_f64(z, "mat", 2, s2, f), NSLM_OK);
    ck_assert_int_eq(nslmi_npz_add_i64(z, "ints", 1, s1, iv), NSLM_OK);
    ck_assert_int_eq(nslmi_npz_add_f64_ref(z, "vec", 1, s2, f), NSLM_OK);
    ck_assert_int_eq(nslmi_npz_add_i64_ref(z, "k\xc3\xa9y", 2, (size_t[]){1, 5}, iv), NSLM_OK);
    ck_assert_int_eq(nslmi_npz_add_f64(z, "mat", 2, s2, f), NSLM_ERR_INVALID); /* duplicate */
    ck_assert_int_eq(nslmi_npz_add_f64(z, "", 2, s2, f), NSLM_ERR_INVALID);
    ck_assert_int_eq(nslmi_npz_add_f64(z, "x", 3, s2, f), NSLM_ERR_INVALID);
    ck_assert_int_eq(nslmi_npz_save_flags(z, path, flags), NSLM_OK);
    nslmi_npz_free(z);
    ck_assert_int_eq(nslmi_npz_load(&back, path), NSLM_OK);
    ck_assert_uint_eq(nslmi_npz_count(back), 4);
    const nslmi_npz_array *m = nslmi_npz_find(back, "mat"), *in = nslmi_npz_find(back, "ints"),
                          *v = nslmi_npz_find(back, "vec"), *k = nslmi_npz_find(back, "k\xc3\xa9y");
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_nonnull(in);
    ck_assert_ptr_nonnull(v);
    ck_assert_ptr_nonnull(k);
    ck_assert_ptr_null(nslmi_npz_find(back, "nope"));
    ck_assert_ptr_null(nslmi_npz_get(back, 4));
    ck_assert_str_eq(nslmi_npz_get(back, 0)->name, "mat"); /* archive order kept */
    ck_assert(!m->is_int && m->ndim == 2 && m->shape[0] == 3 && m->shape[1] == 4);
    ck_assert(memcmp(m->f64, f, sizeof f) == 0);
    ck_assert(in->is_int && in->ndim == 1 && in->shape[0] == 5 && in->shape[1] == 1);
    ck_assert(memcmp(in->i64, iv, sizeof iv) == 0);
    ck_assert(!v->is_int && v->ndim == 1 && v->shape[0] == 3);
    ck_assert(memcmp(v->f64, f, 3 * sizeof *f) == 0);
    ck_assert(k->is_int && k->ndim == 2 && k->shape[0] == 1 && k->shape[1] == 5);
    nslmi_npz_free(back);
    /* The memory loader agrees with the file loader. */
    size_t len;
    unsigned char *bytes = read_bytes(path, &len);
    ck_assert_int_eq(nslmi_npz_load_mem(&back, bytes, len), NSLM_OK);
    ck_assert_uint_eq(nslmi_npz_count(back), 4);
    nslmi_npz_free(back);
    free(bytes);
  }
  /* An empty archive is valid (and not a parameter set). */
  nslmi_npz *z, *back;
  nslm_params *p = (nslm_params *)0x1;
  ck_assert_int_eq(nslmi_npz_create(&z), NSLM_OK);
  ck_assert_int_eq(nslmi_npz_save(z, path), NSLM_OK);
  nslmi_npz_free(z);
  ck_assert_int_eq(nslmi_npz_load(&back, path), NSLM_OK);
  ck_assert_uint_eq(nslmi_npz_count(back), 0);
  nslmi_npz_free(back);
  ck_assert_int_eq(nslm_params_load(&p, path), NSLM_ERR_FORMAT);
  ck_assert_ptr_null(p);
  /* The atomic buffer writer. */
  ck_assert_int_eq(nslmi_write_file_atomic(path, "hello", 5), NSLM_OK);
  ck_assert(same_file(path, (const unsigned char *)"hello", 5));
  ck_assert_int_eq(count_entries(dir), 1);
  rm_tree(dir);
}
END_TEST

/* Which arrays make a parameter set. */
START_TEST(params_load_names_and_shapes) {
  char dir[512], path[1024];
  mkscratch(dir, sizeof dir);
  path_in(path, sizeof path, dir, "p.npz");
  double a[24];
  for (int i = 0; i < 24; i++) a[i] = val(i / 6, i % 6, 1);
  struct {
    const char *names[3];
    size_t shapes[3][2];
    size_t n;
    int status;
  } cases[] = {
      {{"layer_0", "layer_1"}, {{3, 2}, {1, 3}}, 2, NSLM_OK},
      {{"layer_1", "layer_0"}, {{1, 3}, {3, 2}}, 2, NSLM_OK}, /* any order */
      {{"arr_0", "arr_1", "arr_2"}, {{3, 2}, {4, 3}, {1, 4}}, 3, NSLM_OK},
      {{"layer_0", "arr_1"}, {{3, 2}, {1, 3}}, 2, NSLM_ERR_FORMAT},   /* mixed names */
      {{"layer_0", "layer_2"}, {{3, 2}, {1, 3}}, 2, NSLM_ERR_FORMAT}, /* gap */
      {{"layer_0", "layer_01"}, {{3, 2}, {1, 3}}, 2, NSLM_ERR_FORMAT},
      {{"weights", "layer_1"}, {{3, 2}, {1, 3}}, 2, NSLM_ERR_FORMAT},
      {{"layer_0"}, {{3, 2}}, 1, NSLM_ERR_FORMAT},                       /* depth 0 */
      {{"layer_0", "layer_1"}, {{3, 2}, {1, 4}}, 2, NSLM_ERR_DIMENSION}, /* no chain */
      {{"layer_0", "layer_1"}, {{3, 0}, {1, 3}}, 2, NSLM_ERR_FORMAT},    /* width 0 */
  };
  for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
    nslmi_npz *z;
    ck_assert_int_eq(nslmi_npz_create(&z), NSLM_OK);
    for (size_t k = 0; k < cases[t].n; k++)
      ck_assert_int_eq(nslmi_npz_add_f64(z, cases[t].names[k], 2, cases[t].shapes[k], a), NSLM_OK);
    ck_assert_int_eq(nslmi_npz_save(z, path), NSLM_OK);
    nslmi_npz_free(z);
    nslm_params *p = (nslm_params *)0x1;
    int st = nslm_params_load(&p, path);
    ck_assert_msg(st == cases[t].status, "case %zu: %d (%s)", t, st, nslm_last_error());
    if (st == NSLM_OK) {
      ck_assert_uint_eq(nslm_params_depth(p), cases[t].n - 1);
      nslm_params_destroy(p);
    } else {
      ck_assert_ptr_null(p);
    }
  }
  /* 1-D, integer and non-finite layers. */
  nslmi_npz *z;
  nslm_params *p;
  int64_t iv[6] = {0};
  size_t s32[2] = {3, 2}, s13[2] = {1, 3}, s3[1] = {3};
  ck_assert_int_eq(nslmi_npz_create(&z), NSLM_OK);
  nslmi_npz_add_f64(z, "layer_0", 2, s32, a);
  nslmi_npz_add_f64(z, "layer_1", 1, s3, a);
  ck_assert_int_eq(nslmi_npz_save(z, path), NSLM_OK);
  nslmi_npz_free(z);
  ck_assert_int_eq(nslm_params_load(&p, path), NSLM_ERR_FORMAT);
  ck_assert_int_eq(nslmi_npz_create(&z), NSLM_OK);
  nslmi_npz_add_f64(z, "layer_0", 2, s32, a);
  nslmi_npz_add_i64(z, "layer_1", 2, s13, iv);
  ck_assert_int_eq(nslmi_npz_save(z, path), NSLM_OK);
  nslmi_npz_free(z);
  ck_assert_int_eq(nslm_params_load(&p, path), NSLM_ERR_FORMAT);
  a[4] = NAN;
  ck_assert_int_eq(nslmi_npz_create(&z), NSLM_OK);
  nslmi_npz_add_f64(z, "layer_0", 2, s32, a);
  nslmi_npz_add_f64(z, "layer_1", 2, s13, a);
  ck_assert_int_eq(nslmi_npz_save(z, path), NSLM_OK);
  nslmi_npz_free(z);
  ck_assert_int_eq(nslm_params_load(&p, path), NSLM_ERR_NONFINITE);
  ck_assert_ptr_null(p);
  rm_tree(dir);
}
END_TEST

/* ------------------------------------------------------------------ */
/* numpy interoperability */

/* Our .npy is numpy.save's file, byte for byte (numpy's own header and
 * padding), for several shapes. */
START_TEST(npy_bytes_match_numpy_save) {
  if (!have_numpy()) return;
  char dir[512], path[1024], ref[1024];
  mkscratch(dir, sizeof dir);
  size_t shapes[][2] = {{3, 4}, {1, 1}, {1000, 7}, {12345, 1}, {0, 3}};
  ck_assert_int_eq(run_py(dir, "for r, c in [(3, 4), (1, 1), (1000, 7), (12345, 1), (0, 3)]:\n"
                               "    np.save(P('ref_%d_%d.npy' % (r, c)), M(r, c, 5))\n"),
                   0);
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    size_t r = shapes[s][0], c = shapes[s][1];
    double *a = malloc((r * c + 1) * sizeof *a);
    for (size_t i = 0; i < r; i++)
      for (size_t j = 0; j < c; j++) a[i * c + j] = val(i, j, 5);
    snprintf(ref, sizeof ref, "%s/ref_%zu_%zu.npy", dir, r, c);
    path_in(path, sizeof path, dir, "ours.npy");
    ck_assert_int_eq(nslm_npy_write(path, r, c, a, (ptrdiff_t)c, 1), NSLM_OK);
    size_t len;
    unsigned char *mine = read_bytes(path, &len);
    ck_assert_msg(same_file(ref, mine, len), "%zu x %zu differs from numpy.save", r, c);
    free(mine);
    free(a);
  }
  rm_tree(dir);
}
END_TEST

/* Files written by numpy: C and Fortran order, float32, 1-D, big-endian,
 * format versions 2.0 and 3.0, empty; savez and savez_compressed with
 * named and positional arrays; unsupported arrays rejected. */
START_TEST(numpy_files_read) {
  if (!have_numpy()) return;
  char dir[512], p[1024];
  mkscratch(dir, sizeof dir);
  ck_assert_int_eq(
      run_py(dir,
             "from numpy.lib import format as F\n"
             "np.save(P('c_f8.npy'), M(5, 3, 1))\n"
             "np.save(P('f_f8.npy'), np.asfortranarray(M(4, 6, 2)))\n"
             "np.save(P('c_f4.npy'), M(3, 5, 3).astype('<f4'))\n"
             "np.save(P('f_f4.npy'), np.asfortranarray(M(6, 2, 4).astype('<f4')))\n"
             "np.save(P('v1d.npy'), M(7, 1, 5)[:, 0])\n"
             "np.save(P('be_f8.npy'), M(3, 4, 6).astype('>f8'))\n"
             "np.save(P('be_f4_f.npy'), np.asfortranarray(M(3, 4, 7).astype('>f4')))\n"
             "for v in (2, 3):\n"
             "    with open(P('v%d.npy' % v), 'wb') as f: F.write_array(f, M(2, 3, 8), version=(v, 0))\n"
             "np.save(P('empty.npy'), np.zeros((0, 3)))\n"
             "np.save(P('i8.npy'), np.arange(4))\n"
             "np.save(P('d3.npy'), np.zeros((2, 2, 2)))\n"
             "np.save(P('d0.npy'), np.float64(1.5))\n"
             "np.save(P('c16.npy'), np.zeros(3, dtype=complex))\n"
             "L = [M(3, 2, 9), M(4, 3, 10), M(1, 4, 11)]\n"
             "np.savez(P('named.npz'), layer_0=L[0], layer_1=L[1], layer_2=L[2])\n"
             "np.savez_compressed(P('named_c.npz'), layer_2=L[2], layer_0=L[0], layer_1=L[1])\n"
             "np.savez(P('pos.npz'), *L)\n"
             "np.savez_compressed(P('pos_c.npz'), *L)\n"
             "np.savez(P('f4.npz'), layer_0=np.asfortranarray(L[0]).astype('<f4'), layer_1=L[1].astype('>f4'), layer_2=np.asfortranarray(L[2]))\n"
             "B = [M(300, 200, 12), M(5, 300, 13)]\n"
             "np.savez_compressed(P('big_c.npz'), *B)\n"
             "np.savez(P('mixed.npz'), f=M(2, 2, 1), i=np.arange(5, dtype=np.int64) - 2, j=np.arange(3, dtype=np.int32) - 1)\n"),
      0);
  struct {
    const char *name;
    size_t r, c;
    int seed;
  } good[] = {{"c_f8.npy", 5, 3, 1}, {"f_f8.npy", 4, 6, 2},    {"c_f4.npy", 3, 5, 3},
              {"f_f4.npy", 6, 2, 4}, {"v1d.npy", 7, 1, 5},     {"be_f8.npy", 3, 4, 6},
              {"be_f4_f.npy", 3, 4, 7}, {"v2.npy", 2, 3, 8},   {"v3.npy", 2, 3, 8},
              {"empty.npy", 0, 3, 0}};
  for (size_t t = 0; t < sizeof good / sizeof good[0]; t++)
    check_npy_values(path_in(p, sizeof p, dir, good[t].name), good[t].r, good[t].c, good[t].seed);
  const char *bad[] = {"i8.npy", "d3.npy", "d0.npy", "c16.npy"};
  for (size_t t = 0; t < 4; t++) {
    size_t r = 99, c = 99;
    ck_assert_int_eq(nslm_npy_read(path_in(p, sizeof p, dir, bad[t]), NULL, 0, &r, &c), NSLM_ERR_FORMAT);
    ck_assert_uint_eq(r, 99);
  }
  size_t w[] = {2, 3, 4, 1};
  const char *sets[] = {"named.npz", "named_c.npz", "pos.npz", "pos_c.npz", "f4.npz"};
  for (size_t t = 0; t < 5; t++) {
    nslm_params *q;
    ck_assert_msg(nslm_params_load(&q, path_in(p, sizeof p, dir, sets[t])) == NSLM_OK, "%s: %s",
                  sets[t], nslm_last_error());
    check_params_values(q, 2, w, 9);
    nslm_params_destroy(q);
  }
  size_t wb[] = {200, 300, 5};
  nslm_params *q;
  ck_assert_int_eq(nslm_params_load(&q, path_in(p, sizeof p, dir, "big_c.npz")), NSLM_OK);
  check_params_values(q, 1, wb, 12);
  nslm_params_destroy(q);
  nslmi_npz *z;
  ck_assert_int_eq(nslmi_npz_load(&z, path_in(p, sizeof p, dir, "mixed.npz")), NSLM_OK);
  const nslmi_npz_array *i = nslmi_npz_find(z, "i"), *j = nslmi_npz_find(z, "j");
  ck_assert(i && i->is_int && i->shape[0] == 5 && i->i64[0] == -2 && i->i64[4] == 2);
  ck_assert(j && j->is_int && j->shape[0] == 3 && j->i64[0] == -1 && j->i64[2] == 1);
  nslmi_npz_free(z);
  rm_tree(dir);
}
END_TEST

/* Our files read by numpy: .npy from Fortran-strided storage, a saved
 * parameter set, and an archive with forced zip64 records and int64. */
START_TEST(our_files_read_by_numpy) {
  if (!have_numpy()) return;
  char dir[512], p[1024];
  mkscratch(dir, sizeof dir);
  double f[5 * 7];
  for (size_t i = 0; i < 5; i++)
    for (size_t j = 0; j < 7; j++) f[j * 5 + i] = val(i, j, 1); /* Fortran storage */
  ck_assert_int_eq(nslm_npy_write(path_in(p, sizeof p, dir, "ours.npy"), 5, 7, f, 1, 5), NSLM_OK);
  size_t w[] = {2, 6, 1, 3};
  nslm_params *theta = make_params(2, w, 20);
  ck_assert_int_eq(nslm_params_save(theta, path_in(p, sizeof p, dir, "theta.npz")), NSLM_OK);
  nslm_params_destroy(theta);
  nslmi_npz *z;
  int64_t iv[4] = {-5, 0, 7, INT64_MAX};
  double g[6];
  for (int i = 0; i < 6; i++) g[i] = val(i / 3, i % 3, 30);
  ck_assert_int_eq(nslmi_npz_create(&z), NSLM_OK);
  nslmi_npz_add_f64(z, "g", 2, (size_t[]){2, 3}, g);
  nslmi_npz_add_i64(z, "iv", 1, (size_t[]){4}, iv);
  ck_assert_int_eq(nslmi_npz_save_flags(z, path_in(p, sizeof p, dir, "z64.npz"), NSLMI_NPZ_FORCE_ZIP64),
                   NSLM_OK);
  nslmi_npz_free(z);
  ck_assert_int_eq(
      run_py(dir, "a = np.load(P('ours.npy'))\n"
                  "assert a.dtype == np.float64 and a.shape == (5, 7) and (a == M(5, 7, 1)).all()\n"
                  "t = np.load(P('theta.npz'))\n"
                  "assert sorted(t.files) == ['layer_0', 'layer_1', 'layer_2'], t.files\n"
                  "for j, (r, c) in enumerate([(6, 2), (1, 6), (3, 1)]):\n"
                  "    assert (t['layer_%d' % j] == M(r, c, 20 + j)).all(), j\n"
                  "z = np.load(P('z64.npz'))\n"
                  "assert (z['g'] == M(2, 3, 30)).all()\n"
                  "assert z['iv'].dtype == np.int64 and list(z['iv']) == [-5, 0, 7, 2**63 - 1]\n"
                  "import zipfile\n"
                  "assert zipfile.ZipFile(P('z64.npz')).testzip() is None\n"
                  "assert zipfile.ZipFile(P('theta.npz')).testzip() is None\n"),
      0);
  rm_tree(dir);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Truncation, corrupt headers, hostile archives */

/* Every proper prefix of a valid file is rejected with NSLM_ERR_FORMAT
 * (from a file and from memory); outputs untouched. */
static void truncations(const char *dir, const unsigned char *b, size_t len, int is_npz) {
  char p[1024];
  path_in(p, sizeof p, dir, "trunc");
  for (size_t n = 0; n < len; n++) {
    write_bytes(p, b, n);
    if (is_npz) {
      nslm_params *q = (nslm_params *)0x1;
      nslmi_npz *z = (nslmi_npz *)0x1;
      ck_assert_msg(nslm_params_load(&q, p) == NSLM_ERR_FORMAT, "prefix %zu: %s", n, nslm_last_error());
      ck_assert_ptr_null(q);
      ck_assert_int_eq(nslmi_npz_load_mem(&z, b, n), NSLM_ERR_FORMAT);
      ck_assert_ptr_null(z);
    } else {
      size_t r = 5, c = 5;
      double out[64];
      out[0] = 42.0;
      ck_assert_msg(nslm_npy_read(p, out, 64, &r, &c) == NSLM_ERR_FORMAT, "prefix %zu", n);
      ck_assert_int_eq(nslm_npy_read(p, NULL, 0, &r, &c), NSLM_ERR_FORMAT);
      ck_assert_int_eq(nslmi_npy_read_mem(b, n, out, 64, &r, &c), NSLM_ERR_FORMAT);
      ck_assert(r == 5 && c == 5 && out[0] == 42.0);
    }
  }
}

START_TEST(truncated_at_every_length) {
  char dir[512], p[1024];
  mkscratch(dir, sizeof dir);
  double a[12];
  for (int i = 0; i < 12; i++) a[i] = val(i / 4, i % 4, 2);
  path_in(p, sizeof p, dir, "m.npy");
  ck_assert_int_eq(nslm_npy_write(p, 3, 4, a, 4, 1), NSLM_OK);
  size_t len;
  unsigned char *b = read_bytes(p, &len);
  truncations(dir, b, len, 0);
  free(b);
  size_t w[] = {2, 3, 1};
  nslm_params *theta = make_params(1, w, 3);
  path_in(p, sizeof p, dir, "t.npz");
  ck_assert_int_eq(nslm_params_save(theta, p), NSLM_OK);
  nslm_params_destroy(theta);
  b = read_bytes(p, &len);
  truncations(dir, b, len, 1);
  printf("truncations tested: npy and npz prefixes up to %zu bytes\n", len);
  free(b);
  if (system(PY " -c 'import numpy' >/dev/null 2>&1") == 0) {
    ck_assert_int_eq(run_py(dir, "np.savez_compressed(P('c.npz'), M(3, 2, 1), M(1, 3, 2))\n"), 0);
    b = read_bytes(path_in(p, sizeof p, dir, "c.npz"), &len);
    truncations(dir, b, len, 1);
    free(b);
  }
  rm_tree(dir);
}
END_TEST

/* An .npy made of a raw header text, padded like numpy's, and nbytes of data. */
static size_t make_npy(unsigned char *buf, int major, const char *header, size_t nbytes) {
  size_t hl = strlen(header), pre = major == 1 ? 10 : 12;
  memcpy(buf, "\x93NUMPY", 6);
  buf[6] = (unsigned char)major;
  buf[7] = 0;
  if (major == 1) {
    buf[8] = (unsigned char)hl;
    buf[9] = (unsigned char)(hl >> 8);
  } else {
    for (int i = 0; i < 4; i++) buf[8 + i] = (unsigned char)(hl >> (8 * i));
  }
  memcpy(buf + pre, header, hl);
  for (size_t i = 0; i < nbytes; i++) buf[pre + hl + i] = (unsigned char)(i * 31);
  return pre + hl + nbytes;
}

START_TEST(corrupt_headers) {
  static const struct {
    const char *header;
    size_t nbytes;
    int status;
    size_t rows, cols;
  } cases[] = {
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }\n", 48, NSLM_OK, 2, 3},
      {"{\"shape\": (2, 3), \"descr\": \"<f8\", \"fortran_order\": True}", 48, NSLM_OK, 2, 3},
      {"{ 'fortran_order' :False,\n\t'shape':(2,3,) ,'descr':'<f4'}   \n", 24, NSLM_OK, 2, 3},
      {"{'descr': '=f8', 'fortran_order': False, 'shape': (4,), }", 32, NSLM_OK, 4, 1},
      {"{'descr': '|f8', 'fortran_order': False, 'shape': (4L, 1L), }", 32, NSLM_OK, 4, 1},
      {"{'descr': '>f8', 'fortran_order': False, 'shape': (0, 7), }", 0, NSLM_OK, 0, 7},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", 47, NSLM_ERR_FORMAT, 0, 0},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", 49, NSLM_ERR_FORMAT, 0, 0},
      {"{'descr': '<f8', 'fortran_order': False}", 8, NSLM_ERR_FORMAT, 0, 0},
      {"{'descr': '<f8', 'shape': (1,)}", 8, NSLM_ERR_FORMAT, 0, 0},
      {"{'fortran_order': False, 'shape': (1,)}", 8, NSLM_ERR_FORMAT, 0, 0},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1}", 8, NSLM_ERR_FORMAT, 0, 0},
      {"{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (1,)}", 8, NSLM_ERR_FORMAT, 0, 0},
      {"{'descr': '<f2', 'fortran_order': False, 'shape': (1,)}", 2, NSLM_ERR_FORMAT, 0, 0},
      {"{'descr': '<u8', 'fortran_order': False, 'shape': (1,)}", 8, NSLM_ERR_FORMAT, 0, 0},
      {"{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,)}", 8, NSLM_ERR_FORMAT, 0, 0},
      {"{'descr': '<f8', 'fortran_order': false, 'shape': (1,)}", 8, NSLM_ERR_FORMAT, 0, 0},
      {"{'descr': '<f8', 'fortran_order': Falsey, 'shape': (1,)}", 8, NSLM_ERR_FORMAT, 0, 0},
      {"{'descr': '<f8', 'fortran_order': 0, 'shape': (1,)}", 8, NSLM_ERR_FORMAT, 0, 0},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (1)}", 8, NSLM_ERR_FORMAT, 0, 0},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': [1]}", 8, NSLM_ERR_FORMAT, 0, 0},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}", 8, NSLM_ERR_FORMAT, 0, 0},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (01,)}", 8, NSLM_ERR_FORMAT, 0, 0},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (1.0,)}", 8, NSLM_ERR_FORMAT, 0, 0},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': ()}", 8, NSLM_ERR_FORMAT, 0, 0},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 1)}", 8, NSLM_ERR_FORMAT, 0, 0},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}", 8, NSLM_ERR_FORMAT, 0, 0},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (18446744073709551616,)}", 8, NSLM_ERR_FORMAT, 0, 0},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,)}", 8, NSLM_ERR_FORMAT, 0, 0},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,)} x", 8, NSLM_ERR_FORMAT, 0, 0},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,)}}", 8, NSLM_ERR_FORMAT, 0, 0},
      {"{'descr': '<f8' 'fortran_order': False, 'shape': (1,)}", 8, NSLM_ERR_FORMAT, 0, 0},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,),,}", 8, NSLM_ERR_FORMAT, 0, 0},
      {"{'descr': '<f\\x38', 'fortran_order': False, 'shape': (1,)}", 8, NSLM_ERR_FORMAT, 0, 0},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,)", 8, NSLM_ERR_FORMAT, 0, 0},
      {"", 8, NSLM_ERR_FORMAT, 0, 0},
      {"[]", 8, NSLM_ERR_FORMAT, 0, 0},
  };
  unsigned char buf[4096];
  for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++)
    for (int major = 1; major <= 3; major++) {
      size_t len = make_npy(buf, major, cases[t].header, cases[t].nbytes), r = 77, c = 77;
      double out[16];
      int st = nslmi_npy_read_mem(buf, len, out, 16, &r, &c);
      ck_assert_msg(st == cases[t].status, "case %zu v%d: %d (%s)", t, major, st, nslm_last_error());
      if (st == NSLM_OK) ck_assert(r == cases[t].rows && c == cases[t].cols);
      else ck_assert(r == 77 && c == 77);
    }
  /* Byte order and Fortran order are applied: '>f8' 1 x 2 and a 2 x 2 Fortran float32. */
  size_t r, c, len = make_npy(buf, 1, "{'descr': '>f8', 'fortran_order': False, 'shape': (1, 2)}", 0);
  const unsigned char be[16] = {0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0xc0, 0x04, 0, 0, 0, 0, 0, 0};
  memcpy(buf + len, be, 16);
  double out[4];
  ck_assert_int_eq(nslmi_npy_read_mem(buf, len + 16, out, 4, &r, &c), NSLM_OK);
  ck_assert(out[0] == 1.5 && out[1] == -2.5);
  len = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2)}", 0);
  const float fo[4] = {1.0f, 2.0f, 3.0f, 4.0f}; /* columns (1, 2) and (3, 4) */
  memcpy(buf + len, fo, 16);                     /* little-endian host assumed by this check */
  static const uint16_t one = 1;
  if (*(const unsigned char *)&one == 1) {
    ck_assert_int_eq(nslmi_npy_read_mem(buf, len + 16, out, 4, &r, &c), NSLM_OK);
    ck_assert(out[0] == 1.0 && out[1] == 3.0 && out[2] == 2.0 && out[3] == 4.0);
  }
  /* Structure: magic, versions, header length limits. */
  len = make_npy(buf, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,)}", 8);
  unsigned char bad[4096];
  memcpy(bad, buf, len);
  bad[1] = 'X';
  ck_assert_int_eq(nslmi_npy_read_mem(bad, len, NULL, 0, &r, &c), NSLM_ERR_FORMAT);
  memcpy(bad, buf, len);
  bad[6] = 4;
  ck_assert_int_eq(nslmi_npy_read_mem(bad, len, NULL, 0, &r, &c), NSLM_ERR_FORMAT);
  memcpy(bad, buf, len);
  bad[7] = 1;
  ck_assert_int_eq(nslmi_npy_read_mem(bad, len, NULL, 0, &r, &c), NSLM_ERR_FORMAT);
  memcpy(bad, buf, len);
  bad[8] = 0xff; /* header length past the end */
  ck_assert_int_eq(nslmi_npy_read_mem(bad, len, NULL, 0, &r, &c), NSLM_ERR_FORMAT);
  /* A v2.0 header longer than the limit: rejected before allocating it. */
  unsigned char huge[16] = {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0, 0, 0, 0x40};
  ck_assert_int_eq(nslmi_npy_read_mem(huge, sizeof huge, NULL, 0, &r, &c), NSLM_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(nslm_last_error(), "limit"));
  /* A header just at the limit is parsed (all padding). */
  size_t hl = NSLMI_NPY_MAX_HEADER;
  unsigned char *big = malloc(12 + hl + 8);
  const char *h = "{'descr': '<f8', 'fortran_order': False, 'shape': (1,)}";
  memcpy(big, "\x93NUMPY\x02\x00", 8);
  for (int i = 0; i < 4; i++) big[8 + i] = (unsigned char)(hl >> (8 * i));
  memset(big + 12, ' ', hl);
  memcpy(big + 12, h, strlen(h));
  big[12 + hl - 1] = '\n';
  memset(big + 12 + hl, 0, 8);
  ck_assert_int_eq(nslmi_npy_read_mem(big, 12 + hl + 8, out, 4, &r, &c), NSLM_OK);
  ck_assert(r == 1 && c == 1 && out[0] == 0.0);
  free(big);
}
END_TEST

/* Field offsets in our own archives (no zip64, no comment): central
 * directory entry e starts at cd_off + sum of previous entry sizes. */
static uint32_t rd32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void wr16(unsigned char *p, unsigned v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
}
static void wr32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static size_t central(const unsigned char *b, size_t len, int e) {
  size_t p = rd32(b + len - 22 + 16);
  for (int i = 0; i < e; i++)
    p += 46 + (size_t)(b[p + 28] | b[p + 29] << 8) + (size_t)(b[p + 30] | b[p + 31] << 8) +
         (size_t)(b[p + 32] | b[p + 33] << 8);
  return p;
}

START_TEST(hostile_archives) {
  char dir[512], p[1024];
  mkscratch(dir, sizeof dir);
  path_in(p, sizeof p, dir, "t.npz");
  size_t w[] = {2, 3, 1};
  nslm_params *theta = make_params(1, w, 3);
  ck_assert_int_eq(nslm_params_save(theta, p), NSLM_OK);
  nslm_params_destroy(theta);
  size_t len;
  unsigned char *good = read_bytes(p, &len), *b = malloc(len + 64);
  size_t c0 = central(good, len, 0), c1 = central(good, len, 1), eocd = len - 22;
  size_t lho1 = rd32(good + c1 + 42);
  int cases = 0;
#define HOSTILE(what, edit)                                                        \
  do {                                                                             \
    size_t blen = len;                                                             \
    memcpy(b, good, len);                                                          \
    edit;                                                                          \
    nslmi_npz *z = (nslmi_npz *)0x1;                                               \
    int st = nslmi_npz_load_mem(&z, b, blen);                                      \
    ck_assert_msg(st == NSLM_ERR_FORMAT, "%s: status %d", what, st);               \
    ck_assert_ptr_null(z);                                                         \
    cases++;                                                                       \
  } while (0)
  HOSTILE("overlapping entries", wr32(b + c1 + 42, 0));
  HOSTILE("entry inside another", wr32(b + c1 + 42, (uint32_t)lho1 - 8));
  HOSTILE("huge declared sizes", (wr32(b + c0 + 20, 0xfffffff0u), wr32(b + c0 + 24, 0xfffffff0u)));
  HOSTILE("usize differs (stored)", wr32(b + c0 + 24, rd32(b + c0 + 24) + 1));
  HOSTILE("declared size too small", (wr32(b + c0 + 20, 100), wr32(b + c0 + 24, 100)));
  HOSTILE("negative offset", wr32(b + c0 + 42, 0xfffffff0u));
  HOSTILE("offset in the central directory", wr32(b + c0 + 42, rd32(good + eocd + 16)));
  HOSTILE("name length past the end", wr16(b + c1 + 28, 0xffff));
  HOSTILE("extra length past the end", wr16(b + c1 + 30, 0xffff));
  HOSTILE("comment length past the end", wr16(b + c1 + 32, 0x00ff));
  HOSTILE("bad CRC", b[c0 + 16] ^= 1);
  HOSTILE("flipped data byte", b[lho1 - 1] ^= 0x40);
  HOSTILE("flipped header byte", b[30 + 11 + 20] ^= 0x01);
  HOSTILE("encrypted", b[c0 + 8] |= 1);
  HOSTILE("bzip2", wr16(b + c0 + 10, 12));
  HOSTILE("local method differs", wr16(b + 8, 8));
  HOSTILE("local name differs", b[30] = 'X');
  HOSTILE("local signature", b[0] = 'Q');
  HOSTILE("central signature", b[c1] = 'Q');
  HOSTILE("not .npy", b[c1 + 46 + 8 + 2] = 'z');
  HOSTILE("duplicate names", (memcpy(b + c1 + 46, good + c0 + 46, 11), memcpy(b + lho1 + 30, good + 30, 11)));
  HOSTILE("NUL in name", (b[c1 + 46 + 2] = 0, b[lho1 + 30 + 2] = 0));
  HOSTILE("too many entries", (wr16(b + eocd + 8, 3), wr16(b + eocd + 10, 3)));
  HOSTILE("entry count beyond directory", (wr16(b + eocd + 8, 60000), wr16(b + eocd + 10, 60000)));
  HOSTILE("fewer entries", (wr16(b + eocd + 8, 1), wr16(b + eocd + 10, 1)));
  HOSTILE("multi-disk", wr16(b + eocd + 4, 1));
  HOSTILE("directory offset", wr32(b + eocd + 16, rd32(good + eocd + 16) - 1));
  HOSTILE("directory size", wr32(b + eocd + 12, rd32(good + eocd + 12) + 1));
  HOSTILE("comment not to the end", (wr16(b + eocd + 20, 5)));
  HOSTILE("no end record", b[eocd] = 0);
  HOSTILE("trailing garbage", (memset(b + len, 'x', 3), blen = len + 3));
  HOSTILE("zip64 extra too short",
          (wr32(b + c1 + 24, 0xffffffffu), wr16(b + c1 + 30, 4), wr16(b + c1 + 46 + 11, 1),
           wr16(b + c1 + 46 + 13, 0), memmove(b + c1 + 46 + 15, good + c1 + 46 + 11, len - c1 - 57),
           wr32(b + len + 4 - 22 + 12, rd32(good + eocd + 12) + 4), blen = len + 4));
  HOSTILE("empty", blen = 0);
  /* A comment is fine when it reaches the end; so is this control case. */
  memcpy(b, good, len);
  wr16(b + eocd + 20, 3);
  memcpy(b + len, "abc", 3);
  nslmi_npz *z;
  ck_assert_int_eq(nslmi_npz_load_mem(&z, b, len + 3), NSLM_OK);
  nslmi_npz_free(z);
  printf("hostile archives rejected: %d\n", cases);
  free(b);
  free(good);
  rm_tree(dir);
}
END_TEST

/* Archives built member by member in Python (zlib for deflate): deflate
 * streams longer or shorter than declared, a deflate-ratio bomb, corrupt
 * deflate data, bytes after the stream, and a member hidden inside
 * another's data (overlap; every CRC valid), with a valid control. */
START_TEST(hostile_built_archives) {
  if (!have_numpy()) return;
  char dir[512], p[1024];
  mkscratch(dir, sizeof dir);
  ck_assert_int_eq(
      run_py(dir,
             "import zlib, io, struct\n"
             "def npy(a):\n"
             "    b = io.BytesIO(); np.save(b, a); return b.getvalue()\n"
             "def deflate(raw):\n"
             "    co = zlib.compressobj(9, zlib.DEFLATED, -15); return co.compress(raw) + co.flush()\n"
             "def mk(path, members):\n"
             "    out = b''; cen = b''\n"
             "    for name, method, data, crc, usize, off in members:\n"
             "        name = name.encode()\n"
             "        if off is None: off = len(out)\n"
             "        if off == len(out):\n"
             "            out += struct.pack('<IHHHHHIIIHH', 0x04034b50, 20, 0, method, 0, 0x21, crc, len(data), usize, len(name), 0) + name + data\n"
             "        cen += struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 20, 20, 0, method, 0, 0x21, crc, len(data), usize, len(name), 0, 0, 0, 0, 0, off) + name\n"
             "    end = struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, len(members), len(members), len(cen), len(out), 0)\n"
             "    open(P(path), 'wb').write(out + cen + end)\n"
             "raw = npy(np.zeros((64, 64))); crc = zlib.crc32(raw); dz = deflate(raw)\n"
             "mk('ok.npz', [('arr_0.npy', 8, dz, crc, len(raw), None)])\n"
             "mk('longer.npz', [('arr_0.npy', 8, deflate(raw + bytes(16)), crc, len(raw), None)])\n"
             "mk('early.npz', [('arr_0.npy', 8, deflate(raw[:-8]), crc, len(raw), None)])\n"
             "mk('ratio.npz', [('arr_0.npy', 8, dz, crc, 0xfffffff0, None)])\n"
             "bad = bytearray(dz); bad[0] ^= 0x02  # block type 3: invalid\n"
             "mk('corrupt.npz', [('arr_0.npy', 8, bytes(bad), crc, len(raw), None)])\n"
             "mk('trail.npz', [('arr_0.npy', 8, dz + b'JUNK', crc, len(raw), None)])\n"
             "mk('crc.npz', [('arr_0.npy', 8, dz, crc ^ 1, len(raw), None)])\n"
             "small = npy(np.zeros(2))\n"
             "inner = struct.pack('<IHHHHHIIIHH', 0x04034b50, 20, 0, 0, 0, 0x21, zlib.crc32(small), len(small), len(small), 9, 0) + b'arr_1.npy' + small\n"
             "mk('overlap.npz', [('arr_0.npy', 0, inner, zlib.crc32(inner), len(inner), None),\n"
             "                   ('arr_1.npy', 0, small, zlib.crc32(small), len(small), 30 + 9)])\n"),
      0);
  const char *bad[] = {"longer.npz", "early.npz", "ratio.npz", "corrupt.npz", "trail.npz", "crc.npz", "overlap.npz"};
  const char *why[] = {"longer", "shorter", "claims", "corrupt", "trailing", "CRC", "overlap"};
  for (int t = 0; t < 7; t++) {
    nslmi_npz *z = (nslmi_npz *)0x1;
    int st = nslmi_npz_load(&z, path_in(p, sizeof p, dir, bad[t]));
    ck_assert_msg(st == NSLM_ERR_FORMAT, "%s: %d %s", bad[t], st, nslm_last_error());
    ck_assert_msg(strstr(nslm_last_error(), why[t]) != NULL, "%s: %s", bad[t], nslm_last_error());
    ck_assert_ptr_null(z);
  }
  nslmi_npz *z;
  ck_assert_msg(nslmi_npz_load(&z, path_in(p, sizeof p, dir, "ok.npz")) == NSLM_OK, "%s", nslm_last_error());
  ck_assert_uint_eq(nslmi_npz_get(z, 0)->shape[0], 64);
  nslmi_npz_free(z);
  rm_tree(dir);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Saves under failure: atomic, no file left behind */

START_TEST(save_failures_leave_no_trace) {
  char dir[512], p[1024], sub[1024];
  mkscratch(dir, sizeof dir);
  double a[6] = {1, 2, 3, 4, 5, 6};
  size_t w[] = {2, 3, 1};
  nslm_params *theta = make_params(1, w, 3);
  /* A directory that does not exist. */
  snprintf(p, sizeof p, "%s/missing/m.npy", dir);
  ck_assert_int_eq(nslm_npy_write(p, 2, 3, a, 3, 1), NSLM_ERR_IO);
  ck_assert_ptr_nonnull(strstr(nslm_last_error(), "No such file"));
  snprintf(p, sizeof p, "%s/missing/t.npz", dir);
  ck_assert_int_eq(nslm_params_save(theta, p), NSLM_ERR_IO);
  ck_assert_int_eq(count_entries(dir), 0);
  /* The path is a directory: it stays, empty. */
  path_in(sub, sizeof sub, dir, "d");
  ck_assert_int_eq(mkdir(sub, 0755), 0);
  ck_assert_int_eq(nslm_npy_write(sub, 2, 3, a, 3, 1), NSLM_ERR_IO);
  ck_assert_int_eq(nslm_params_save(theta, sub), NSLM_ERR_IO);
  ck_assert_int_eq(count_entries(sub), 0);
  ck_assert_int_eq(count_entries(dir), 1);
  /* A device is not replaced. */
  ck_assert_int_eq(nslm_npy_write("/dev/null", 2, 3, a, 3, 1), NSLM_ERR_IO);
  /* A read-only directory (root ignores permissions: then /proc, where
   * nobody may create files, stands in). */
  chmod(sub, 0555);
  const char *ro = sub;
  char procp[64] = "/proc/nslm-io-test.npy";
  if (geteuid() == 0) ro = NULL;
  if (ro) {
    path_in(p, sizeof p, ro, "m.npy");
    ck_assert_int_eq(nslm_npy_write(p, 2, 3, a, 3, 1), NSLM_ERR_IO);
    ck_assert_int_eq(nslm_params_save(theta, p), NSLM_ERR_IO);
    ck_assert_int_eq(count_entries(sub), 0);
  }
  ck_assert_int_eq(nslm_npy_write(procp, 2, 3, a, 3, 1), NSLM_ERR_IO);
  ck_assert_int_eq(access(procp, F_OK), -1);
  chmod(sub, 0755);
  /* Writing through a symbolic link replaces the target, keeps the link. */
  char target[1024], link[1024];
  path_in(target, sizeof target, dir, "target.npy");
  path_in(link, sizeof link, dir, "link.npy");
  ck_assert_int_eq(nslm_npy_write(target, 1, 1, a, 1, 1), NSLM_OK);
  ck_assert_int_eq(symlink("target.npy", link), 0);
  ck_assert_int_eq(nslm_npy_write(link, 2, 3, a, 3, 1), NSLM_OK);
  struct stat st;
  ck_assert_int_eq(lstat(link, &st), 0);
  ck_assert(S_ISLNK(st.st_mode));
  size_t r, c;
  ck_assert_int_eq(nslm_npy_read(target, NULL, 0, &r, &c), NSLM_OK);
  ck_assert(r == 2 && c == 3);
  ck_assert_int_eq(count_entries(dir), 3);
  /* A replaced file keeps its permission bits. */
  ck_assert_int_eq(chmod(target, 0640), 0);
  ck_assert_int_eq(nslm_npy_write(target, 2, 3, a, 3, 1), NSLM_OK);
  ck_assert_int_eq(stat(target, &st), 0);
  ck_assert_int_eq(st.st_mode & 0777, 0640);
  nslm_params_destroy(theta);
  rm_tree(dir);
}
END_TEST

/* A file size limit (as a full disk would): the save fails with
 * NSLM_ERR_IO, the old file is intact byte for byte, nothing is left. */
START_TEST(save_over_existing_file_fails_atomically) {
  char dir[512], p[1024], q[1024];
  mkscratch(dir, sizeof dir);
  path_in(p, sizeof p, dir, "m.npy");
  path_in(q, sizeof q, dir, "t.npz");
  double small[2] = {1, 2};
  ck_assert_int_eq(nslm_npy_write(p, 1, 2, small, 2, 1), NSLM_OK);
  size_t w[] = {1, 1, 1};
  nslm_params *tiny = make_params(1, w, 1);
  ck_assert_int_eq(nslm_params_save(tiny, q), NSLM_OK);
  nslm_params_destroy(tiny);
  size_t lp, lq;
  unsigned char *old_p = read_bytes(p, &lp), *old_q = read_bytes(q, &lq);
  size_t n = 4096, wb[] = {64, 64, 64};
  double *big = calloc(n, sizeof *big);
  nslm_params *theta = make_params(1, wb, 2);
  struct rlimit saved, lim;
  getrlimit(RLIMIT_FSIZE, &saved);
  lim = saved;
  lim.rlim_cur = 16384; /* below the new files' sizes (32 KiB+) */
  signal(SIGXFSZ, SIG_IGN);
  ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
  int s1 = nslm_npy_write(p, 64, 64, big, 64, 1);
  int s2 = nslm_params_save(theta, q);
  setrlimit(RLIMIT_FSIZE, &saved);
  ck_assert_int_eq(s1, NSLM_ERR_IO);
  ck_assert_int_eq(s2, NSLM_ERR_IO);
  ck_assert(same_file(p, old_p, lp));
  ck_assert(same_file(q, old_q, lq));
  ck_assert_int_eq(count_entries(dir), 2);
  free(old_p);
  free(old_q);
  free(big);
  nslm_params_destroy(theta);
  rm_tree(dir);
}
END_TEST

/* I/O fault injection: every file operation of every save failed once
 * (open, each write as a short write, fflush, fsync, close, rename) and
 * from then on: NSLM_ERR_IO, the old file byte for byte, no temporary
 * file.  And every read operation of every load: NSLM_ERR_IO, outputs
 * untouched. */
START_TEST(io_fault_injection) {
  char dir[512], p[1024], q[1024], r[1024];
  mkscratch(dir, sizeof dir);
  path_in(p, sizeof p, dir, "m.npy");
  path_in(q, sizeof q, dir, "t.npz");
  path_in(r, sizeof r, dir, "z.npz");
  double a[2000];
  for (int i = 0; i < 2000; i++) a[i] = val(i / 40, i % 40, 4);
  size_t w[] = {3, 40, 25, 2}, wold[] = {1, 1, 1};
  nslm_params *theta = make_params(2, w, 5), *old = make_params(1, wold, 6);
  ck_assert_int_eq(nslm_npy_write(p, 1, 2, a, 2, 1), NSLM_OK);
  ck_assert_int_eq(nslm_params_save(old, q), NSLM_OK);
  ck_assert_int_eq(nslm_params_save(old, r), NSLM_OK);
  size_t lp, lq, lr;
  unsigned char *op = read_bytes(p, &lp), *oq = read_bytes(q, &lq), *orr = read_bytes(r, &lr);
  long injected = 0;
  for (int which = 0; which < 3; which++)
    for (int persistent = 0; persistent <= 1; persistent++)
      for (long k = 0;; k++) {
        nslmi_io_fail_after(k, persistent);
        int st;
        if (which == 0) st = nslm_npy_write(p, 50, 40, a, 40, 1);
        else if (which == 1) st = nslm_params_save(theta, q);
        else {
          nslmi_npz *z;
          ck_assert_int_eq(nslmi_npz_create(&z), NSLM_OK);
          nslmi_npz_add_f64_ref(z, "a", 2, (size_t[]){50, 40}, a);
          st = nslmi_npz_save_flags(z, r, NSLMI_NPZ_FORCE_ZIP64);
          nslmi_npz_free(z);
        }
        long used = nslmi_io_count();
        nslmi_io_fail_after(-1, 0);
        if (k >= used) {
          ck_assert_int_eq(st, NSLM_OK);
          write_bytes(which == 0 ? p : which == 1 ? q : r, which == 0 ? op : which == 1 ? oq : orr,
                      which == 0 ? lp : which == 1 ? lq : lr); /* the old file again */
          break;
        }
        ck_assert_msg(st == NSLM_ERR_IO, "save %d op %ld: %d", which, k, st);
        ck_assert(same_file(p, op, lp));
        ck_assert(same_file(q, oq, lq));
        ck_assert(same_file(r, orr, lr));
        ck_assert_int_eq(count_entries(dir), 3);
        injected++;
      }
  printf("I/O faults injected into saves: %ld, files damaged: 0\n", injected);
  /* Loads: each read failed once. */
  long read_faults = 0;
  for (int which = 0; which < 2; which++)
    for (long k = 0;; k++) {
      double out[2000];
      size_t rr = 9, cc = 9;
      nslm_params *got = (nslm_params *)0x1;
      out[0] = 42.0;
      nslmi_io_fail_after(k, 0);
      int st = which == 0 ? nslm_npy_read(p, out, 2000, &rr, &cc) : nslm_params_load(&got, q);
      long used = nslmi_io_count();
      nslmi_io_fail_after(-1, 0);
      if (k >= used) {
        ck_assert_int_eq(st, NSLM_OK);
        if (which == 1) nslm_params_destroy(got);
        break;
      }
      ck_assert_int_eq(st, NSLM_ERR_IO);
      if (which == 0) ck_assert(rr == 9 && cc == 9 && out[0] == 42.0);
      else ck_assert_ptr_null(got);
      read_faults++;
    }
  printf("I/O faults injected into loads: %ld\n", read_faults);
  free(op);
  free(oq);
  free(orr);
  nslm_params_destroy(theta);
  nslm_params_destroy(old);
  rm_tree(dir);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Allocation-failure injection */

/* Fails allocation k = 0, 1, ... of call() once (then persistently from
 * k): NSLM_ERR_NOMEM each time until call() needs fewer allocations than
 * k; returns the number of sites. */
typedef int (*io_call)(const char *path, void **out);

static int call_npy_read(const char *path, void **out) {
  double a[64];
  size_t r = 7, c = 7;
  a[0] = 42.0;
  int st = nslm_npy_read(path, a, 64, &r, &c);
  if (st) ck_assert(r == 7 && c == 7 && a[0] == 42.0);
  *out = NULL;
  return st;
}
static int call_npy_query(const char *path, void **out) {
  size_t r = 7, c = 7;
  int st = nslm_npy_read(path, NULL, 0, &r, &c);
  if (st) ck_assert(r == 7 && c == 7);
  *out = NULL;
  return st;
}
static int call_params_load(const char *path, void **out) {
  nslm_params *p = (nslm_params *)0x1;
  int st = nslm_params_load(&p, path);
  if (st) ck_assert_ptr_null(p);
  *out = p;
  return st;
}
static nslm_params *save_theta;
static int call_params_save(const char *path, void **out) {
  *out = NULL;
  return nslm_params_save(save_theta, path);
}

static int sites_of(io_call call, const char *path, const char *name, const unsigned char *old,
                    size_t oldlen) {
  int sites = 0;
  for (int persistent = 0; persistent <= 1; persistent++)
    for (long k = 0;; k++) {
      void *out;
      nslmi_alloc_fail_after(k, persistent);
      int st = call(path, &out);
      long used = nslmi_alloc_count();
      nslmi_alloc_fail_after(-1, 0);
      if (k >= used) {
        ck_assert_msg(st == NSLM_OK, "%s: %s", name, nslm_last_error());
        nslm_params_destroy(out); /* params_load's result; NULL otherwise */
        break;
      }
      ck_assert_msg(st == NSLM_ERR_NOMEM, "%s allocation %ld: %d %s", name, k, st, nslm_last_error());
      if (old) ck_assert(same_file(path, old, oldlen));
      if (!persistent) sites++;
    }
  printf("allocation sites failed: %s %d\n", name, sites);
  return sites;
}

START_TEST(allocation_failures) {
  char dir[512], p[1024], q[1024];
  mkscratch(dir, sizeof dir);
  path_in(p, sizeof p, dir, "m.npy");
  path_in(q, sizeof q, dir, "t.npz");
  double a[12];
  for (int i = 0; i < 12; i++) a[i] = val(i / 4, i % 4, 2);
  ck_assert_int_eq(nslm_npy_write(p, 3, 4, a, 4, 1), NSLM_OK);
  size_t w[] = {2, 3, 4, 1};
  save_theta = make_params(2, w, 8);
  ck_assert_int_eq(nslm_params_save(save_theta, q), NSLM_OK);
  int total = 0;
  total += sites_of(call_npy_read, p, "nslm_npy_read", NULL, 0);
  total += sites_of(call_npy_query, p, "nslm_npy_read(size query)", NULL, 0);
  total += sites_of(call_params_load, q, "nslm_params_load", NULL, 0);
  size_t len;
  unsigned char *old = read_bytes(q, &len);
  total += sites_of(call_params_save, q, "nslm_params_save", old, len);
  free(old);
  if (system(PY " -c 'import numpy' >/dev/null 2>&1") == 0) {
    char c[1024];
    ck_assert_int_eq(run_py(dir, "np.savez_compressed(P('c.npz'), M(3, 2, 1), M(4, 3, 2), M(1, 4, 3))\n"), 0);
    total += sites_of(call_params_load, path_in(c, sizeof c, dir, "c.npz"),
                      "nslm_params_load(deflated, zlib included)", NULL, 0);
  }
  printf("allocation sites failed in total: %d\n", total);
  ck_assert_int_ge(total, 10);
  nslm_params_destroy(save_theta);
  rm_tree(dir);
}
END_TEST

int main(void) {
  Suite *s = suite_create("io");
  TCase *tc = tcase_create("io");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, npy_roundtrip_strided);
  tcase_add_test(tc, params_roundtrip_bit_exact);
  tcase_add_test(tc, npz_internal_roundtrip);
  tcase_add_test(tc, params_load_names_and_shapes);
  tcase_add_test(tc, npy_bytes_match_numpy_save);
  tcase_add_test(tc, numpy_files_read);
  tcase_add_test(tc, our_files_read_by_numpy);
  tcase_add_test(tc, truncated_at_every_length);
  tcase_add_test(tc, corrupt_headers);
  tcase_add_test(tc, hostile_archives);
  tcase_add_test(tc, hostile_built_archives);
  tcase_add_test(tc, save_failures_leave_no_trace);
  tcase_add_test(tc, save_over_existing_file_fails_atomically);
  tcase_add_test(tc, io_fault_injection);
  tcase_add_test(tc, allocation_failures);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
