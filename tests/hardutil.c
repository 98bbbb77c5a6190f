/* hardutil.c - shared helpers of the hardening tests (see hardutil.h). */
#include <ctype.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <blis.h>
#include <check.h>

#include "hardutil.h"
#include "testutil.h"

/* ------------------------------------------------------------------ */
/* Instances */

static int softsign(double *x, size_t len, void *user) {
  (void)user;
  for (size_t i = 0; i < len; i++) x[i] = x[i] / (1.0 + fabs(x[i]));
  return 0;
}

static void random_layers(nslmt_rng *rng, nslm_params *p, const size_t *w, size_t depth) {
  for (size_t j = 0; j <= depth; j++) {
    size_t rows = w[j + 1], cols = w[j];
    double *a = malloc(rows * cols * sizeof *a);
    ck_assert_ptr_nonnull(a);
    nslmt_fill(rng, a, rows * cols, 1.0 / sqrt((double)cols));
    ck_assert_int_eq(nslm_params_set_layer(p, j, rows, cols, a, (ptrdiff_t)cols, 1), NSLM_OK);
    free(a);
  }
}

void nslmh_inst_make(nslmh_inst *in, uint64_t seed, size_t depth, size_t d, size_t p, size_t m,
                     size_t n, const int *acts, size_t nacts, int loss_kind) {
  nslmt_rng rng;
  nslmt_seed(&rng, seed);
  memset(in, 0, sizeof *in);
  ck_assert(depth >= 1 && depth <= 6);
  in->depth = depth;
  in->n = n;
  in->d = d;
  in->m = m;
  in->widths[0] = d;
  for (size_t j = 1; j <= depth; j++) in->widths[j] = p;
  in->widths[depth + 1] = m;
  ck_assert_int_eq(nslm_net_create(&in->net, depth, in->widths), NSLM_OK);
  ck_assert_int_eq(nslm_net_set_num_threads(in->net, 1), NSLM_OK);
  for (size_t j = 1; j <= depth; j++) {
    nslmt_ref_act *r = &in->ref[j - 1];
    r->kind = acts[(j - 1) % nacts];
    if (r->kind == NSLM_ACT_LEAKY_RELU) r->c = 0.1;
    if (r->kind == NSLM_ACT_POLY) r->c = 0.5, r->k = 2;
    if (r->kind == NSLM_ACT_CALLBACK) {
      r->f = softsign;
      ck_assert_int_eq(nslm_net_set_activation_callback(in->net, j, softsign, NULL, NULL), NSLM_OK);
    } else {
      ck_assert_int_eq(nslm_net_set_activation(in->net, j, r->kind, r->c, r->k), NSLM_OK);
    }
  }
  in->loss_kind = loss_kind;
  ck_assert_int_eq(nslm_loss_create(&in->loss, loss_kind, loss_kind == NSLM_LOSS_HUBER ? 0.5 : 0.0),
                   NSLM_OK);
  in->x = malloc(n * d * sizeof(double));
  in->y = malloc(n * m * sizeof(double));
  ck_assert(in->x && in->y);
  nslmt_fill(&rng, in->x, n * d, 1.0);
  nslmt_fill(&rng, in->y, n * m, 1.0);
  ck_assert_int_eq(nslm_data_create(&in->data, n, d, in->x, (ptrdiff_t)d, 1, m, in->y, (ptrdiff_t)m, 1),
                   NSLM_OK);
  in->q = 1.0;
  ck_assert_int_eq(nslm_constraint_create(&in->con, 0.0, 0.0, 1.0), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&in->theta, in->net), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&in->gamma, in->net), NSLM_OK);
  random_layers(&rng, in->theta, in->widths, depth);
  random_layers(&rng, in->gamma, in->widths, depth);
  ck_assert_int_eq(nslm_construct_opts_create(&in->opts), NSLM_OK);
  ck_assert_int_eq(nslm_construct_opts_set_int(in->opts, NSLM_CONSTRUCT_NUM_THREADS, 1), NSLM_OK);
}

void nslmh_inst_constrain(nslmh_inst *in, double q) {
  in->q = q;
  in->a_r = in->b_r = 1.0;
  double r = fmax(nslmh_ref_r(in, in->theta), nslmh_ref_r(in, in->gamma));
  ck_assert(r > 0.0 && isfinite(r));
  in->a_r = in->b_r = 1.0 / r;
  nslm_constraint_destroy(in->con);
  ck_assert_int_eq(nslm_constraint_create(&in->con, in->a_r, in->b_r, q), NSLM_OK);
}

void nslmh_inst_free(nslmh_inst *in) {
  nslm_net_destroy(in->net);
  nslm_data_destroy(in->data);
  nslm_loss_destroy(in->loss);
  nslm_constraint_destroy(in->con);
  nslm_params_destroy(in->theta);
  nslm_params_destroy(in->gamma);
  nslm_construct_opts_destroy(in->opts);
  free(in->x);
  free(in->y);
  memset(in, 0, sizeof *in);
}

void nslmh_get_layers(const nslm_params *p, double **layers, size_t *depth) {
  size_t l = nslm_params_depth(p);
  for (size_t j = 0; j <= l; j++) {
    size_t rows, cols;
    ck_assert_int_eq(nslm_params_layer_shape(p, j, &rows, &cols), NSLM_OK);
    layers[j] = malloc((rows * cols > 0 ? rows * cols : 1) * sizeof(double));
    ck_assert_ptr_nonnull(layers[j]);
    ck_assert_int_eq(nslm_params_get_layer(p, j, rows, cols, layers[j], (ptrdiff_t)cols, 1), NSLM_OK);
  }
  *depth = l;
}

void nslmh_free_layers(double **layers, size_t depth) {
  for (size_t j = 0; j <= depth; j++) free(layers[j]);
}

/* Naive row-wise r: max(a_r max_{j>=1} max_rows sum |.|, b_r max_rows ||.||_q);
 * for q != 1 the row is scaled by its max first (no overflow). */
double nslmh_ref_r(const nslmh_inst *in, const nslm_params *p) {
  if (in->a_r == 0.0 && in->b_r == 0.0) return 0.0;
  double *layers[8];
  size_t l;
  nslmh_get_layers(p, layers, &l);
  double r = 0.0;
  for (size_t j = 0; j <= l; j++) {
    size_t rows = in->widths[j + 1], cols = in->widths[j];
    for (size_t i = 0; i < rows; i++) {
      const double *row = layers[j] + i * cols;
      double mx = 0.0, s = 0.0;
      for (size_t c = 0; c < cols; c++) mx = fmax(mx, fabs(row[c]));
      if (j >= 1 || in->q == 1.0) {
        for (size_t c = 0; c < cols; c++) s += fabs(row[c]);
      } else if (isinf(in->q)) {
        s = mx;
      } else if (mx > 0.0) {
        for (size_t c = 0; c < cols; c++) s += pow(fabs(row[c]) / mx, in->q);
        s = mx * pow(s, 1.0 / in->q);
      }
      r = fmax(r, (j >= 1 ? in->a_r : in->b_r) * s);
    }
  }
  nslmh_free_layers(layers, l);
  return r;
}

double nslmh_ref_risk(const nslmh_inst *in, const nslm_params *p) {
  double *layers[8];
  size_t l;
  nslmh_get_layers(p, layers, &l);
  double v = nslmt_ref_risk(in->depth, in->widths, (const double *const *)layers, in->ref, in->n,
                            in->x, in->y, in->loss_kind, in->loss_kind == NSLM_LOSS_HUBER ? 0.5 : 0.0,
                            NULL);
  nslmh_free_layers(layers, l);
  return v;
}

void nslmh_ref_outputs(const nslmh_inst *in, const nslm_params *p, double *out) {
  double *layers[8];
  size_t l;
  nslmh_get_layers(p, layers, &l);
  ck_assert_int_eq(nslmt_ref_outputs(in->depth, in->widths, (const double *const *)layers, in->ref,
                                     in->n, in->x, out),
                   0);
  nslmh_free_layers(layers, l);
}

/* ------------------------------------------------------------------ */
/* Digests */

void nslmh_digest_init(nslmh_digest *d) { memset(d, 0, sizeof *d); }
void nslmh_digest_free(nslmh_digest *d) {
  free(d->v);
  memset(d, 0, sizeof *d);
}

void nslmh_digest_add(nslmh_digest *d, double x) {
  if (d->n == d->cap) {
    d->cap = d->cap ? 2 * d->cap : 256;
    d->v = realloc(d->v, d->cap * sizeof *d->v);
    if (d->v == NULL) abort(); /* test infrastructure out of memory */
  }
  d->v[d->n++] = x;
}

void nslmh_digest_bytes(nslmh_digest *d, const void *p, size_t len) {
  const unsigned char *b = p;
  for (size_t i = 0; i < len; i++) nslmh_digest_add(d, b[i]);
}

/* The digests use no Check macro (they run in worker threads too): a
 * failing query is recorded as a marker value with its status and line,
 * so that two digests then differ. */
#define DQ(call)                                          \
  do {                                                    \
    int st_ = (call);                                     \
    if (st_ != NSLM_OK) {                                 \
      nslmh_digest_add(d, -1e300);                        \
      nslmh_digest_add(d, st_);                           \
      nslmh_digest_add(d, __LINE__);                      \
    }                                                     \
  } while (0)

void nslmh_digest_params(nslmh_digest *d, const nslm_params *p) {
  if (p == NULL) {
    nslmh_digest_add(d, -1.0);
    return;
  }
  size_t l = nslm_params_depth(p);
  nslmh_digest_add(d, (double)l);
  for (size_t j = 0; j <= l; j++) {
    size_t rows = 0, cols = 0;
    DQ(nslm_params_layer_shape(p, j, &rows, &cols));
    nslmh_digest_add(d, (double)rows);
    nslmh_digest_add(d, (double)cols);
    double *a = malloc((rows * cols > 0 ? rows * cols : 1) * sizeof *a);
    if (a == NULL) abort();
    DQ(nslm_params_get_layer(p, j, rows, cols, a, (ptrdiff_t)cols, 1));
    for (size_t i = 0; i < rows * cols; i++) nslmh_digest_add(d, a[i]);
    free(a);
  }
}

void nslmh_digest_path(nslmh_digest *d, const nslm_path *path, const nslm_params *like) {
  if (path == NULL) {
    nslmh_digest_add(d, -1.0);
    return;
  }
  size_t K = nslm_path_num_knots(path), S = nslm_path_num_segments(path);
  size_t l = nslm_params_depth(like);
  nslmh_digest_add(d, (double)K);
  nslmh_digest_add(d, (double)S);
  nslmh_digest_add(d, (double)nslm_path_stored_values(path));
  int claim = -1;
  DQ(nslm_path_get_nonincreasing(path, &claim));
  nslmh_digest_add(d, claim);
  for (size_t s = 0; s < S; s++) {
    int kind = -1;
    unsigned char mask[8] = {0};
    DQ(nslm_path_segment_kind(path, s, &kind));
    DQ(nslm_path_segment_layers(path, s, mask, l + 1));
    nslmh_digest_add(d, kind);
    nslmh_digest_bytes(d, mask, l + 1);
  }
  nslm_params *knot = NULL;
  DQ(nslm_params_clone(&knot, like));
  for (size_t i = 0; knot && i < K; i++) {
    DQ(nslm_path_get_knot(path, i, knot));
    nslmh_digest_params(d, knot);
  }
  nslm_params_destroy(knot);
}

void nslmh_digest_cert(nslmh_digest *d, const nslm_certificate *c) {
  if (c == NULL) {
    nslmh_digest_add(d, -1.0);
    return;
  }
  int kind = -1, passed = -1;
  DQ(nslm_certificate_kind(c, &kind));
  nslmh_digest_add(d, kind);
  size_t S = nslm_certificate_num_segments(c);
  nslmh_digest_add(d, (double)S);
  for (int what = NSLM_CERT_RISK_START; what <= NSLM_CERT_FAILED_SEGMENTS; what++) {
    double v = -2.0;
    DQ(nslm_certificate_get(c, what, &v));
    nslmh_digest_add(d, v);
  }
  for (size_t s = 0; s < S; s++) {
    int k = -1, p = -1;
    double m = -2.0;
    DQ(nslm_certificate_segment(c, s, &k, &m, &p));
    nslmh_digest_add(d, k);
    nslmh_digest_add(d, m);
    nslmh_digest_add(d, p);
  }
  DQ(nslm_certificate_passed(c, &passed));
  nslmh_digest_add(d, passed);
}

void nslmh_digest_net(nslmh_digest *d, const nslm_net *net) {
  if (net == NULL) {
    nslmh_digest_add(d, -1.0);
    return;
  }
  size_t l = nslm_net_depth(net);
  nslmh_digest_add(d, (double)l);
  for (size_t j = 0; j <= l + 1; j++) nslmh_digest_add(d, (double)nslm_net_width(net, j));
  for (size_t j = 1; j <= l; j++) {
    int kind = -1;
    double c = -2.0, k = -2.0;
    DQ(nslm_net_get_activation(net, j, &kind, &c, &k));
    nslmh_digest_add(d, kind);
    nslmh_digest_add(d, c);
    nslmh_digest_add(d, k);
  }
  nslmh_digest_add(d, (double)nslm_net_num_threads(net));
}

void nslmh_digest_data(nslmh_digest *d, const nslm_data *data) {
  if (data == NULL) {
    nslmh_digest_add(d, -1.0);
    return;
  }
  size_t n = nslm_data_n(data), dd = nslm_data_d(data), m = nslm_data_m(data);
  nslmh_digest_add(d, (double)n);
  nslmh_digest_add(d, (double)dd);
  nslmh_digest_add(d, (double)m);
  double *x = malloc((n * dd + n * m + 1) * sizeof *x);
  if (x == NULL) abort();
  DQ(nslm_data_get_x(data, x, (ptrdiff_t)dd, 1));
  DQ(nslm_data_get_y(data, x + n * dd, (ptrdiff_t)m, 1));
  for (size_t i = 0; i < n * dd + n * m; i++) nslmh_digest_add(d, x[i]);
  free(x);
}

int nslmh_digest_equal(const nslmh_digest *a, const nslmh_digest *b) {
  return a->n == b->n && (a->n == 0 || memcmp(a->v, b->v, a->n * sizeof(double)) == 0);
}

/* ------------------------------------------------------------------ */
/* Public functions of the header */

size_t nslmh_public_functions(const char ***out) {
  static char names[1024][96];
  static const char *ptrs[1024];
  static size_t n = 0;
  if (n == 0) {
    FILE *f = fopen(TOP_SRCDIR "/include/nslm.h", "r");
    if (f == NULL) return 0;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
      for (char *p = strstr(line, "nslm_"); p; p = strstr(p + 1, "nslm_")) {
        if (p > line && (isalnum((unsigned char)p[-1]) || p[-1] == '_')) continue;
        size_t k = 0;
        while (isalnum((unsigned char)p[k]) || p[k] == '_') k++;
        size_t e = k;
        while (p[e] == ' ' || p[e] == '\t') e++;
        if (p[e] != '(' || k >= 96) continue;
        if (k > 3 && strncmp(p + k - 3, "_fn", 3) == 0) continue; /* callback typedefs */
        char name[96];
        memcpy(name, p, k);
        name[k] = '\0';
        int dup = 0;
        for (size_t i = 0; i < n; i++) dup |= strcmp(names[i], name) == 0;
        if (!dup && n < 1024) {
          strcpy(names[n], name);
          ptrs[n] = names[n];
          n++;
        }
      }
    }
    fclose(f);
  }
  *out = ptrs;
  return n;
}

/* ------------------------------------------------------------------ */
/* Results across forks */

static char result_file[512];

void nslmh_result_reset(const char *program) {
  snprintf(result_file, sizeof result_file, "%s/%s-results-%ld.txt", nslmt_tmpdir(), program,
           (long)getpid());
  FILE *f = fopen(result_file, "w");
  if (f) fclose(f);
}

void nslmh_result_add(const char *key, double value) {
  FILE *f = fopen(result_file, "a");
  if (f == NULL) return;
  fprintf(f, "%s %.17g\n", key, value);
  fclose(f);
}

void nslmh_result_add_str(const char *key, const char *value) {
  FILE *f = fopen(result_file, "a");
  if (f == NULL) return;
  fprintf(f, "%s %s\n", key, value);
  fclose(f);
}

double nslmh_result_sum(const char *key) {
  FILE *f = fopen(result_file, "r");
  double s = 0.0;
  if (f == NULL) return 0.0;
  char line[512];
  size_t klen = strlen(key);
  while (fgets(line, sizeof line, f))
    if (strncmp(line, key, klen) == 0 && line[klen] == ' ') s += strtod(line + klen + 1, NULL);
  fclose(f);
  return s;
}

size_t nslmh_result_distinct(const char *key, char ***values) {
  static char *vals[2048];
  size_t n = 0, klen = strlen(key);
  FILE *f = fopen(result_file, "r");
  if (f != NULL) {
    char line[512];
    while (fgets(line, sizeof line, f)) {
      if (strncmp(line, key, klen) != 0 || line[klen] != ' ') continue;
      char *v = line + klen + 1;
      v[strcspn(v, "\n")] = '\0';
      int dup = 0;
      for (size_t i = 0; i < n; i++) dup |= strcmp(vals[i], v) == 0;
      if (!dup && n < 2048) vals[n++] = strdup(v);
    }
    fclose(f);
  }
  *values = vals;
  return n;
}

/* ------------------------------------------------------------------ */

void nslmh_blis_warmup(void) {
  double a[16], b[16], c[16], one = 1.0, zero = 0.0;
  for (int i = 0; i < 16; i++) a[i] = b[i] = 1.0 + i;
  bli_dgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, 4, 4, 4, &one, a, 4, 1, b, 4, 1, &zero, c, 4, 1);
}

size_t nslmh_heap_in_use(void) {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}
