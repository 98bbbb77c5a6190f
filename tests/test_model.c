/* test_model.c - the model layer: networks, parameter sets, data sets and
 * the constraint, against naive references written here (scalar loops,
 * long double), exact identities and sampling statistics with argued
 * tolerances; allocation-failure injection of every create function. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "nslm.h"
#include "alloc.h"
#include "testutil.h"

/* ------------------------------------------------------------------ */
/* Strided matrices: a buffer with an arbitrary layout. */

enum { LAYOUT_C, LAYOUT_F, LAYOUT_STRIDED, LAYOUT_NEGATIVE, NLAYOUTS };

typedef struct {
  double *buf;     /* allocation */
  double *p;       /* element (0, 0) */
  ptrdiff_t rs, cs;
  size_t rows, cols;
} smat;

static smat smat_new(size_t rows, size_t cols, int layout) {
  smat s = {0};
  s.rows = rows;
  s.cols = cols;
  size_t len;
  switch (layout) {
  case LAYOUT_C: s.rs = (ptrdiff_t)cols; s.cs = 1; len = rows * cols; break;
  case LAYOUT_F: s.rs = 1; s.cs = (ptrdiff_t)rows; len = rows * cols; break;
  case LAYOUT_STRIDED: /* a numpy slice a[:, ::2] of a padded C array */
    s.rs = (ptrdiff_t)(2 * cols + 3); s.cs = 2; len = rows * (2 * cols + 3); break;
  default: /* a[::-1, :] of a Fortran array padded by 1 per column */
    s.rs = -1; s.cs = (ptrdiff_t)rows + 1; len = (rows + 1) * cols; break;
  }
  s.buf = malloc((len + 1) * sizeof *s.buf);
  for (size_t i = 0; i <= len; i++) s.buf[i] = -777.0; /* padding sentinel */
  s.p = layout == LAYOUT_NEGATIVE ? s.buf + (rows - 1) : s.buf;
  return s;
}

static double *at(const smat *s, size_t i, size_t k) {
  return s->p + (ptrdiff_t)i * s->rs + (ptrdiff_t)k * s->cs;
}

static void smat_fill(smat *s, nslmt_rng *r) {
  for (size_t i = 0; i < s->rows; i++)
    for (size_t k = 0; k < s->cols; k++) *at(s, i, k) = nslmt_normal(r);
}

/* Counts the sentinels: a write outside the matrix changes the count. */
static size_t smat_sentinels(const smat *s, size_t len) {
  size_t c = 0;
  for (size_t i = 0; i < len; i++) c += s->buf[i] == -777.0;
  return c;
}

/* ------------------------------------------------------------------ */
/* Networks */

START_TEST(net_shape_queries) {
  size_t w[] = {7, 5, 3, 2};
  nslm_net *net = (nslm_net *)0x1;
  ck_assert_int_eq(nslm_net_create(&net, 2, w), NSLM_OK);
  ck_assert_uint_eq(nslm_net_depth(net), 2);
  for (size_t j = 0; j < 4; j++) ck_assert_uint_eq(nslm_net_width(net, j), w[j]);
  ck_assert_uint_eq(nslm_net_width(net, 4), 0);
  ck_assert_uint_eq(nslm_net_width(net, SIZE_MAX), 0);
  w[0] = 99; /* the net copied the widths */
  ck_assert_uint_eq(nslm_net_width(net, 0), 7);
  for (size_t j = 1; j <= 2; j++) {
    int kind = -1;
    double c = 5, k = 5;
    ck_assert_int_eq(nslm_net_get_activation(net, j, &kind, &c, &k), NSLM_OK);
    ck_assert_int_eq(kind, NSLM_ACT_RELU);
  }
  nslm_net_destroy(net);
  /* 1 x 1 everything, and a deep narrow net. */
  size_t one[] = {1, 1, 1};
  ck_assert_int_eq(nslm_net_create(&net, 1, one), NSLM_OK);
  ck_assert_uint_eq(nslm_net_depth(net), 1);
  nslm_net_destroy(net);
  size_t deep[52];
  for (int j = 0; j < 52; j++) deep[j] = 1 + (size_t)j % 3;
  ck_assert_int_eq(nslm_net_create(&net, 50, deep), NSLM_OK);
  ck_assert_uint_eq(nslm_net_width(net, 51), deep[51]);
  nslm_net_destroy(net);
}
END_TEST

static int double_cb(double *x, size_t len, void *u) {
  (void)u;
  for (size_t i = 0; i < len; i++) x[i] *= 2;
  return 0;
}

START_TEST(net_activations_set_get) {
  size_t w[] = {2, 3, 3, 3, 1};
  nslm_net *net;
  ck_assert_int_eq(nslm_net_create(&net, 3, w), NSLM_OK);
  struct { int kind; double c, k; } cases[] = {
      {NSLM_ACT_IDENTITY, 0, 0}, {NSLM_ACT_RELU, 0, 0}, {NSLM_ACT_LEAKY_RELU, 0.01, 0},
      {NSLM_ACT_LEAKY_RELU, -3.5, 0}, {NSLM_ACT_POLY, 0.5, 3}, {NSLM_ACT_POLY, -2, 1},
      {NSLM_ACT_POLY, 1, 64}, {NSLM_ACT_SIGMOID, 0, 0}, {NSLM_ACT_TANH, 0, 0}};
  for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
    size_t j = 1 + t % 3;
    ck_assert_int_eq(nslm_net_set_activation(net, j, cases[t].kind, cases[t].c, cases[t].k), NSLM_OK);
    int kind;
    double c, k;
    ck_assert_int_eq(nslm_net_get_activation(net, j, &kind, &c, &k), NSLM_OK);
    ck_assert_int_eq(kind, cases[t].kind);
    if (kind == NSLM_ACT_LEAKY_RELU || kind == NSLM_ACT_POLY) ck_assert(c == cases[t].c);
    if (kind == NSLM_ACT_POLY) ck_assert(k == cases[t].k);
    /* c and k are optional outputs */
    ck_assert_int_eq(nslm_net_get_activation(net, j, &kind, NULL, NULL), NSLM_OK);
  }
  /* A rejected setting leaves the previous one in place. */
  ck_assert_int_eq(nslm_net_set_activation(net, 2, NSLM_ACT_TANH, 0, 0), NSLM_OK);
  ck_assert_int_eq(nslm_net_set_activation(net, 2, NSLM_ACT_POLY, 1, 2.5), NSLM_ERR_DOMAIN);
  ck_assert_int_eq(nslm_net_set_activation(net, 2, NSLM_ACT_POLY, 1, 0), NSLM_ERR_DOMAIN);
  ck_assert_int_eq(nslm_net_set_activation(net, 2, NSLM_ACT_POLY, 1, 65), NSLM_ERR_DOMAIN);
  int kind;
  ck_assert_int_eq(nslm_net_get_activation(net, 2, &kind, NULL, NULL), NSLM_OK);
  ck_assert_int_eq(kind, NSLM_ACT_TANH);
  /* Callbacks; one layer's setting does not touch another's. */
  ck_assert_int_eq(nslm_net_set_activation_callback(net, 3, double_cb, NULL, NULL), NSLM_OK);
  ck_assert_int_eq(nslm_net_get_activation(net, 3, &kind, NULL, NULL), NSLM_OK);
  ck_assert_int_eq(kind, NSLM_ACT_CALLBACK);
  ck_assert_int_eq(nslm_net_get_activation(net, 2, &kind, NULL, NULL), NSLM_OK);
  ck_assert_int_eq(kind, NSLM_ACT_TANH);
  nslm_net_destroy(net);
}
END_TEST

START_TEST(net_threads) {
  size_t w[] = {2, 3, 1};
  nslm_net *net;
  ck_assert_int_eq(nslm_net_create(&net, 1, w), NSLM_OK);
  size_t def = nslm_net_num_threads(net);
  ck_assert_uint_ge(def, 1);
  ck_assert_int_eq(nslm_net_set_num_threads(net, 3), NSLM_OK);
  ck_assert_uint_eq(nslm_net_num_threads(net), 3);
  ck_assert_int_eq(nslm_net_set_num_threads(net, 0), NSLM_OK);
  ck_assert_uint_eq(nslm_net_num_threads(net), def);
  nslm_net_destroy(net);
}
END_TEST

/* 2 m (n+1)^l in 128-bit arithmetic, saturated at SIZE_MAX. */
static size_t ref_bound(size_t m, size_t n, size_t l) {
  unsigned __int128 v = 2 * (unsigned __int128)m;
  for (size_t j = 0; j < l; j++) {
    if (v > SIZE_MAX) return SIZE_MAX;
    v *= (unsigned __int128)n + 1;
  }
  return v > SIZE_MAX ? SIZE_MAX : (size_t)v;
}

START_TEST(net_paper_width_bound) {
  size_t ms[] = {1, 3, 10, (size_t)1 << 31};
  size_t ns[] = {0, 1, 2, 9, 1000, 65535, (size_t)1 << 32, SIZE_MAX - 1, SIZE_MAX};
  size_t ls[] = {1, 2, 3, 5};
  for (size_t a = 0; a < 4; a++)
    for (size_t b = 0; b < 4; b++) {
      size_t w[8];
      for (size_t j = 0; j < 8; j++) w[j] = 4;
      w[ls[b] + 1] = ms[a];
      nslm_net *net;
      ck_assert_int_eq(nslm_net_create(&net, ls[b], w), NSLM_OK);
      for (size_t c = 0; c < sizeof ns / sizeof ns[0]; c++)
        ck_assert_msg(nslm_net_paper_width_bound(net, ns[c]) == ref_bound(ms[a], ns[c], ls[b]),
                      "m %zu n %zu l %zu", ms[a], ns[c], ls[b]);
      nslm_net_destroy(net);
    }
  /* Spot values by hand: m = 1, n = 9, l = 2: 2 * 100. */
  size_t w[] = {5, 5, 5, 1};
  nslm_net *net;
  ck_assert_int_eq(nslm_net_create(&net, 2, w), NSLM_OK);
  ck_assert_uint_eq(nslm_net_paper_width_bound(net, 9), 200);
  ck_assert_uint_eq(nslm_net_paper_width_bound(net, (size_t)1 << 40), SIZE_MAX);
  nslm_net_destroy(net);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Parameters */

static nslm_params *params_for(const size_t *w, size_t depth) {
  nslm_net *net;
  nslm_params *p = NULL;
  ck_assert_int_eq(nslm_net_create(&net, depth, w), NSLM_OK);
  ck_assert_int_eq(nslm_params_create(&p, net), NSLM_OK);
  nslm_net_destroy(net);
  return p;
}

/* Widths covering 1 x 1, tall, wide and square layers. */
static const size_t shapes[][4] = {{1, 1, 1, 1}, {1, 40, 1, 1}, {40, 1, 40, 1},
                                   {3, 17, 5, 2}, {30, 2, 30, 7}};

START_TEST(params_zero_and_shapes) {
  for (size_t s = 0; s < 5; s++) {
    nslm_params *p = params_for(shapes[s], 2);
    ck_assert_uint_eq(nslm_params_depth(p), 2);
    for (size_t j = 0; j <= 2; j++) {
      size_t r = 0, c = 0;
      ck_assert_int_eq(nslm_params_layer_shape(p, j, &r, &c), NSLM_OK);
      ck_assert_uint_eq(r, shapes[s][j + 1]);
      ck_assert_uint_eq(c, shapes[s][j]);
      double *a = malloc(r * c * sizeof *a);
      for (size_t i = 0; i < r * c; i++) a[i] = 1;
      ck_assert_int_eq(nslm_params_get_layer(p, j, r, c, a, (ptrdiff_t)c, 1), NSLM_OK);
      for (size_t i = 0; i < r * c; i++) ck_assert(a[i] == 0.0);
      free(a);
    }
    nslm_params_destroy(p);
  }
}
END_TEST

/* Set with one layout, get with every layout: the element (i, k) that went
 * in comes out, and nothing outside the matrix is written. */
START_TEST(params_layer_round_trips_in_every_layout) {
  nslmt_rng r;
  nslmt_seed(&r, 77);
  for (size_t s = 0; s < 5; s++) {
    nslm_params *p = params_for(shapes[s], 2);
    for (size_t j = 0; j <= 2; j++) {
      size_t rows = shapes[s][j + 1], cols = shapes[s][j];
      for (int lin = 0; lin < NLAYOUTS; lin++) {
        smat in = smat_new(rows, cols, lin);
        smat_fill(&in, &r);
        ck_assert_int_eq(nslm_params_set_layer(p, j, rows, cols, in.p, in.rs, in.cs), NSLM_OK);
        for (int lout = 0; lout < NLAYOUTS; lout++) {
          smat out = smat_new(rows, cols, lout);
          size_t len = lout == LAYOUT_C || lout == LAYOUT_F ? rows * cols
                       : lout == LAYOUT_STRIDED ? rows * (2 * cols + 3) : (rows + 1) * cols;
          ck_assert_int_eq(nslm_params_get_layer(p, j, rows, cols, out.p, out.rs, out.cs), NSLM_OK);
          for (size_t i = 0; i < rows; i++)
            for (size_t k = 0; k < cols; k++) ck_assert(*at(&out, i, k) == *at(&in, i, k));
          ck_assert_uint_eq(smat_sentinels(&out, len + 1), len + 1 - rows * cols);
          free(out.buf);
        }
        free(in.buf);
      }
    }
    nslm_params_destroy(p);
  }
}
END_TEST

/* The layout matches PyTorch's nn.Linear(p_j, p_{j+1}).weight: row i of
 * Theta^0 holds unit i's input weights, so Theta^0 x is computed with it. */
START_TEST(params_layout_is_out_by_in) {
  size_t w[] = {3, 2, 1};
  nslm_params *p = params_for(w, 1);
  double a[6] = {1, 2, 3, 4, 5, 6}; /* 2 x 3, C-order */
  ck_assert_int_eq(nslm_params_set_layer(p, 0, 2, 3, a, 3, 1), NSLM_OK);
  double f[6];
  ck_assert_int_eq(nslm_params_get_layer(p, 0, 2, 3, f, 1, 2), NSLM_OK); /* Fortran */
  double want[6] = {1, 4, 2, 5, 3, 6};
  ck_assert_int_eq(memcmp(f, want, sizeof f), 0);
  ck_assert_int_eq(nslm_params_set_layer(p, 0, 3, 2, a, 2, 1), NSLM_ERR_DIMENSION); /* transposed */
  nslm_params_destroy(p);
}
END_TEST

START_TEST(params_init_random_reproducible) {
  size_t w[] = {20, 30, 10, 4};
  nslm_params *a = params_for(w, 2), *b = params_for(w, 2);
  for (int dist = 0; dist < 2; dist++) {
    ck_assert_int_eq(nslm_params_init_random(a, 12345, dist, 1.0), NSLM_OK);
    ck_assert_int_eq(nslm_params_init_random(b, 12345, dist, 1.0), NSLM_OK);
    ck_assert(nslm_params_equal(a, b));
    ck_assert_int_eq(nslm_params_init_random(b, 12346, dist, 1.0), NSLM_OK);
    ck_assert(!nslm_params_equal(a, b));
    /* every layer differs, not just one */
    for (size_t j = 0; j <= 2; j++) {
      double x[600], y[600];
      ck_assert_int_eq(nslm_params_get_layer(a, j, w[j + 1], w[j], x, (ptrdiff_t)w[j], 1), NSLM_OK);
      ck_assert_int_eq(nslm_params_get_layer(b, j, w[j + 1], w[j], y, (ptrdiff_t)w[j], 1), NSLM_OK);
      size_t same = 0;
      for (size_t i = 0; i < w[j + 1] * w[j]; i++) same += x[i] == y[i];
      ck_assert_uint_eq(same, 0);
    }
  }
  /* scale 0: all zeros */
  ck_assert_int_eq(nslm_params_init_random(a, 1, NSLM_INIT_NORMAL, 0.0), NSLM_OK);
  nslm_params *z = params_for(w, 2);
  ck_assert(nslm_params_equal(a, z));
  nslm_params_destroy(z);
  nslm_params_destroy(a);
  nslm_params_destroy(b);
}
END_TEST

/* Statistics of one large layer against the documented distribution:
 * s = scale / sqrt(fan_in).  N = 400 * 250 = 100000 entries.
 * - uniform on [-s, s]: every |w| <= s; mean 0 with standard error
 *   s / sqrt(3N) = 0.0018 s; variance s^2/3 with relative standard error
 *   sqrt(Var(w^2) / N) / (s^2/3) = 3 sqrt(4/45 / N) = 0.0028;
 * - normal: mean standard error s / sqrt(N) = 0.0032 s; variance s^2 with
 *   relative standard error sqrt(2/N) = 0.0045; fraction inside one s is
 *   0.6827 with standard error sqrt(p(1-p)/N) = 0.0015.
 * Tolerances are 6 standard errors (a false failure has probability
 * ~2e-9 per check, and the seed is fixed anyway). */
START_TEST(params_init_random_statistics) {
  size_t w[] = {250, 400, 3};
  nslm_params *p = params_for(w, 1);
  size_t N = 400 * 250;
  double *x = malloc(N * sizeof *x);
  double scale = 2.5, s = scale / sqrt(250.0);
  for (int dist = 0; dist < 2; dist++) {
    ck_assert_int_eq(nslm_params_init_random(p, 99, dist, scale), NSLM_OK);
    ck_assert_int_eq(nslm_params_get_layer(p, 0, 400, 250, x, 250, 1), NSLM_OK);
    long double sum = 0, sq = 0;
    size_t inside = 0;
    double mx = 0;
    for (size_t i = 0; i < N; i++) {
      sum += x[i];
      sq += (long double)x[i] * x[i];
      inside += fabs(x[i]) <= s;
      mx = fmax(mx, fabs(x[i]));
    }
    double mean = (double)(sum / N), var = (double)(sq / N) - mean * mean;
    if (dist == NSLM_INIT_UNIFORM) {
      ck_assert(mx <= s);
      ck_assert_double_eq_tol(mean, 0.0, 6 * 0.0018 * s);
      ck_assert_double_eq_tol(var / (s * s / 3), 1.0, 6 * 0.0028);
      ck_assert(mx > 0.99 * s); /* P(all 1e5 inside 0.99 s) = 0.99^1e5 ~ 0 */
    } else {
      ck_assert_double_eq_tol(mean, 0.0, 6 * 0.0032 * s);
      ck_assert_double_eq_tol(var / (s * s), 1.0, 6 * 0.0045);
      ck_assert_double_eq_tol((double)inside / N, 0.682689492, 6 * 0.0015);
    }
  }
  /* The second layer (fan-in 400) is scaled by 1/sqrt(400), uniform case. */
  ck_assert_int_eq(nslm_params_init_random(p, 7, NSLM_INIT_UNIFORM, scale), NSLM_OK);
  double y[1200];
  ck_assert_int_eq(nslm_params_get_layer(p, 1, 3, 400, y, 400, 1), NSLM_OK);
  double mx = 0;
  for (size_t i = 0; i < 1200; i++) mx = fmax(mx, fabs(y[i]));
  ck_assert(mx <= scale / 20.0);
  ck_assert(mx > 0.99 * scale / 20.0); /* P(miss) = 0.99^1200 ~ 6e-6 */
  free(x);
  nslm_params_destroy(p);
}
END_TEST

static void layer_of(const nslm_params *p, size_t j, double *a) {
  size_t r, c;
  ck_assert_int_eq(nslm_params_layer_shape(p, j, &r, &c), NSLM_OK);
  ck_assert_int_eq(nslm_params_get_layer(p, j, r, c, a, (ptrdiff_t)c, 1), NSLM_OK);
}

START_TEST(params_interpolate) {
  size_t w[] = {6, 9, 4, 3};
  nslm_params *a = params_for(w, 2), *b = params_for(w, 2), *o = params_for(w, 2);
  ck_assert_int_eq(nslm_params_init_random(a, 1, NSLM_INIT_NORMAL, 1.0), NSLM_OK);
  ck_assert_int_eq(nslm_params_init_random(b, 2, NSLM_INIT_NORMAL, 1e3), NSLM_OK);
  /* exact at both ends */
  ck_assert_int_eq(nslm_params_interpolate(o, a, b, 0.0), NSLM_OK);
  ck_assert(nslm_params_equal(o, a));
  ck_assert_int_eq(nslm_params_interpolate(o, a, b, 1.0), NSLM_OK);
  ck_assert(nslm_params_equal(o, b));
  /* inside and outside [0, 1]: (1-t) x + t y entrywise; the reference in
   * long double, tolerance 4 eps (|1-t| |x| + |t| |y|) for the two products
   * and the sum. */
  double ts[] = {0.3, 0.5, -0.25, 1.75};
  double x[54], y[54], z[54];
  for (int t = 0; t < 4; t++) {
    ck_assert_int_eq(nslm_params_interpolate(o, a, b, ts[t]), NSLM_OK);
    for (size_t j = 0; j <= 2; j++) {
      layer_of(a, j, x);
      layer_of(b, j, y);
      layer_of(o, j, z);
      for (size_t i = 0; i < w[j] * w[j + 1]; i++) {
        long double ref = (1.0L - ts[t]) * x[i] + (long double)ts[t] * y[i];
        double tol = 4 * DBL_EPSILON * (fabs(1 - ts[t]) * fabs(x[i]) + fabs(ts[t]) * fabs(y[i]));
        ck_assert_double_eq_tol(z[i], (double)ref, tol + DBL_MIN);
      }
    }
  }
  /* out may alias an input */
  nslm_params *c = NULL;
  ck_assert_int_eq(nslm_params_clone(&c, a), NSLM_OK);
  ck_assert_int_eq(nslm_params_interpolate(c, c, b, 1.0), NSLM_OK);
  ck_assert(nslm_params_equal(c, b));
  nslm_params_destroy(c);
  nslm_params_destroy(a);
  nslm_params_destroy(b);
  nslm_params_destroy(o);
}
END_TEST

START_TEST(params_supports) {
  nslmt_rng r;
  nslmt_seed(&r, 4);
  size_t w[] = {7, 11, 5, 2};
  nslm_params *p = params_for(w, 2);
  for (int rep = 0; rep < 20; rep++) {
    for (size_t j = 0; j <= 2; j++) {
      size_t rows = w[j + 1], cols = w[j];
      double a[77];
      for (size_t i = 0; i < rows * cols; i++) a[i] = nslmt_normal(&r);
      /* zero some rows, some columns, and a few single entries */
      for (size_t i = 0; i < rows; i++)
        if (nslmt_uniform(&r) < 0.4)
          for (size_t k = 0; k < cols; k++) a[i * cols + k] = 0;
      for (size_t k = 0; k < cols; k++)
        if (nslmt_uniform(&r) < 0.4)
          for (size_t i = 0; i < rows; i++) a[i * cols + k] = 0;
      for (size_t i = 0; i < rows * cols; i++)
        if (nslmt_uniform(&r) < 0.3) a[i] = nslmt_uniform(&r) < 0.5 ? 0.0 : -0.0;
      ck_assert_int_eq(nslm_params_set_layer(p, j, rows, cols, a, (ptrdiff_t)cols, 1), NSLM_OK);
      unsigned char rm[11], cm[11];
      ck_assert_int_eq(nslm_params_row_support(p, j, rm, rows), NSLM_OK);
      ck_assert_int_eq(nslm_params_col_support(p, j, cm, cols), NSLM_OK);
      for (size_t i = 0; i < rows; i++) {
        int nz = 0;
        for (size_t k = 0; k < cols; k++) nz |= a[i * cols + k] != 0.0;
        ck_assert_int_eq(rm[i], nz);
      }
      for (size_t k = 0; k < cols; k++) {
        int nz = 0;
        for (size_t i = 0; i < rows; i++) nz |= a[i * cols + k] != 0.0;
        ck_assert_int_eq(cm[k], nz);
      }
    }
  }
  nslm_params_destroy(p);
}
END_TEST

START_TEST(params_clone_assign_equal) {
  size_t w[] = {4, 6, 3}, w2[] = {4, 6, 2};
  nslm_params *a = params_for(w, 1), *b = NULL, *c = params_for(w, 1), *d = params_for(w2, 1);
  ck_assert_int_eq(nslm_params_init_random(a, 5, NSLM_INIT_UNIFORM, 1.0), NSLM_OK);
  ck_assert_int_eq(nslm_params_clone(&b, a), NSLM_OK);
  ck_assert(nslm_params_equal(a, b) && nslm_params_equal(b, a) && nslm_params_equal(a, a));
  /* the clone is a deep copy */
  double x[18];
  layer_of(b, 1, x);
  x[17] += 1.0;
  ck_assert_int_eq(nslm_params_set_layer(b, 1, 3, 6, x, 6, 1), NSLM_OK);
  ck_assert(!nslm_params_equal(a, b));
  layer_of(a, 1, x);
  ck_assert(x[17] != 0 && !nslm_params_equal(a, c));
  ck_assert_int_eq(nslm_params_assign(c, a), NSLM_OK);
  ck_assert(nslm_params_equal(c, a));
  ck_assert_int_eq(nslm_params_assign(c, c), NSLM_OK);
  ck_assert(nslm_params_equal(c, a));
  /* different widths: never equal, assign refuses and changes nothing */
  ck_assert(!nslm_params_equal(a, d));
  ck_assert_int_eq(nslm_params_assign(d, a), NSLM_ERR_DIMENSION);
  nslm_params *z = params_for(w2, 1);
  ck_assert(nslm_params_equal(d, z));
  /* -0.0 == 0.0 */
  double nz[24];
  for (int i = 0; i < 24; i++) nz[i] = -0.0;
  ck_assert_int_eq(nslm_params_set_layer(z, 0, 6, 4, nz, 4, 1), NSLM_OK);
  ck_assert(nslm_params_equal(d, z));
  ck_assert(!nslm_params_equal(NULL, a) && !nslm_params_equal(a, NULL));
  nslm_params_destroy(a);
  nslm_params_destroy(b);
  nslm_params_destroy(c);
  nslm_params_destroy(d);
  nslm_params_destroy(z);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Data */

START_TEST(data_round_trips_with_strides) {
  nslmt_rng r;
  nslmt_seed(&r, 8);
  size_t dims[][3] = {{1, 1, 1}, {50, 1, 1}, {1, 30, 4}, {13, 7, 3}};
  for (size_t s = 0; s < 4; s++) {
    size_t n = dims[s][0], d = dims[s][1], m = dims[s][2];
    for (int lx = 0; lx < NLAYOUTS; lx++) {
      int ly = (lx + 1) % NLAYOUTS;
      smat x = smat_new(n, d, lx), y = smat_new(n, m, ly);
      smat_fill(&x, &r);
      smat_fill(&y, &r);
      nslm_data *data = NULL;
      ck_assert_int_eq(nslm_data_create(&data, n, d, x.p, x.rs, x.cs, m, y.p, y.rs, y.cs), NSLM_OK);
      ck_assert_uint_eq(nslm_data_n(data), n);
      ck_assert_uint_eq(nslm_data_d(data), d);
      ck_assert_uint_eq(nslm_data_m(data), m);
      for (int lo = 0; lo < NLAYOUTS; lo++) {
        smat xo = smat_new(n, d, lo), yo = smat_new(n, m, lo);
        ck_assert_int_eq(nslm_data_get_x(data, xo.p, xo.rs, xo.cs), NSLM_OK);
        ck_assert_int_eq(nslm_data_get_y(data, yo.p, yo.rs, yo.cs), NSLM_OK);
        for (size_t i = 0; i < n; i++) {
          for (size_t k = 0; k < d; k++) ck_assert(*at(&xo, i, k) == *at(&x, i, k));
          for (size_t k = 0; k < m; k++) ck_assert(*at(&yo, i, k) == *at(&y, i, k));
        }
        free(xo.buf);
        free(yo.buf);
      }
      /* the data set is a copy */
      double x00 = *at(&x, 0, 0);
      *at(&x, 0, 0) = x00 + 1.0;
      smat xo = smat_new(n, d, LAYOUT_C);
      ck_assert_int_eq(nslm_data_get_x(data, xo.p, xo.rs, xo.cs), NSLM_OK);
      ck_assert(xo.p[0] == x00);
      free(xo.buf);
      nslm_data_destroy(data);
      free(x.buf);
      free(y.buf);
    }
  }
}
END_TEST

START_TEST(data_rejects_nonfinite) {
  double x[6] = {1, 2, 3, 4, 5, 6}, y[2] = {0, 1};
  nslm_data *data = (nslm_data *)0x1;
  x[4] = NAN;
  ck_assert_int_eq(nslm_data_create(&data, 2, 3, x, 3, 1, 1, y, 1, 1), NSLM_ERR_NONFINITE);
  ck_assert_ptr_null(data);
  /* a NaN outside the strided view is not part of the matrix */
  ck_assert_int_eq(nslm_data_create(&data, 2, 2, x, 3, 2, 1, y, 1, 1), NSLM_OK);
  nslm_data_destroy(data);
  x[4] = 5;
  y[1] = -INFINITY;
  ck_assert_int_eq(nslm_data_create(&data, 2, 3, x, 3, 1, 1, y, 1, 1), NSLM_ERR_NONFINITE);
  ck_assert_ptr_null(data);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Constraint: naive references.  Each row is scaled by a power of two,
 * 2^-e with 2^e just above its largest magnitude (exact: only exponents
 * change), powered and summed in long double, and scaled back: so powers
 * of 1e+-300 entries neither overflow nor underflow even where long double
 * is only double (valgrind emulates x87 long double in double precision).
 * The library scales by the max itself (a rounded division): a different
 * computation. */

static long double ref_qnorm_row(size_t cols, const double *x, ptrdiff_t inc, double q) {
  double mx = 0.0;
  for (size_t k = 0; k < cols; k++) mx = fmax(mx, fabs(x[(ptrdiff_t)k * inc]));
  if (isinf(q) || mx == 0.0) return mx;
  int e;
  frexp(mx, &e);
  long double s = 0.0L;
  for (size_t k = 0; k < cols; k++) s += powl(ldexpl(fabsl(x[(ptrdiff_t)k * inc]), -e), q);
  return ldexpl(powl(s, 1.0L / q), e);
}

static long double ref_row_norm(size_t rows, size_t cols, const double *a, ptrdiff_t rs,
                                ptrdiff_t cs, double q) {
  long double mx = 0.0L;
  for (size_t i = 0; i < rows; i++) mx = fmaxl(mx, ref_qnorm_row(cols, a + (ptrdiff_t)i * rs, cs, q));
  return mx;
}

static double ref_r(const nslm_params *p, double a_r, double b_r, double q) {
  size_t l = nslm_params_depth(p);
  long double t1 = 0.0L, t0 = 0.0L;
  for (size_t j = 0; j <= l; j++) {
    size_t r, c;
    ck_assert_int_eq(nslm_params_layer_shape(p, j, &r, &c), NSLM_OK);
    double *x = malloc(r * c * sizeof *x);
    layer_of(p, j, x);
    long double v = ref_row_norm(r, c, x, (ptrdiff_t)c, 1, j == 0 ? q : 1.0);
    if (j == 0) t0 = v;
    else t1 = fmaxl(t1, v);
    free(x);
  }
  long double r1 = a_r == 0.0 ? 0.0L : a_r * t1, r0 = b_r == 0.0 ? 0.0L : b_r * t0;
  return (double)fmaxl(r1, r0);
}

static const double qs[] = {0.3, 0.5, 1.0, 2.0, 3.7, INFINITY};
#define NQ (sizeof qs / sizeof qs[0])

/* Relative tolerance for row norms: each |x|^q is within ~1 ulp, the sum of
 * at most ~40 terms adds ~40 eps, and the power 1/q multiplies a relative
 * error by 1/q <= 3.4: ~150 eps = 3.3e-14; the scaling by the max adds one
 * division per term.  1e-12 leaves a margin of 30. */
#define NORM_TOL 1e-12

START_TEST(constraint_matches_reference) {
  nslmt_rng r;
  nslmt_seed(&r, 31);
  double coefs[][2] = {{1.0, 1.0}, {0.0, 2.0}, {3.0, 0.0}, {0.0, 0.0}, {0.25, 7.5}};
  for (int rep = 0; rep < 40; rep++) {
    size_t l = nslmt_range(&r, 1, 3), w[5];
    for (size_t j = 0; j < l + 2; j++) w[j] = nslmt_range(&r, 1, 12);
    if (rep == 0) for (size_t j = 0; j < l + 2; j++) w[j] = 1; /* all 1 x 1 */
    nslm_params *p = params_for(w, l);
    ck_assert_int_eq(nslm_params_init_random(p, (uint64_t)rep, NSLM_INIT_NORMAL, 2.0), NSLM_OK);
    for (size_t iq = 0; iq < NQ; iq++)
      for (size_t ic = 0; ic < 5; ic++) {
        nslm_constraint *con = NULL;
        ck_assert_int_eq(nslm_constraint_create(&con, coefs[ic][0], coefs[ic][1], qs[iq]), NSLM_OK);
        double a_r, b_r, q;
        ck_assert_int_eq(nslm_constraint_get(con, &a_r, &b_r, &q), NSLM_OK);
        ck_assert(a_r == coefs[ic][0] && b_r == coefs[ic][1] && q == qs[iq]);
        double v = -1, ref = ref_r(p, coefs[ic][0], coefs[ic][1], qs[iq]);
        ck_assert_int_eq(nslm_constraint_eval(con, p, &v), NSLM_OK);
        ck_assert_msg(fabs(v - ref) <= NORM_TOL * ref, "q %g: %.17g vs %.17g", qs[iq], v, ref);
        if (ic == 3) ck_assert(v == 0.0); /* unconstrained */
        /* per-row norms, unscaled */
        for (size_t j = 0; j <= l; j++) {
          double norms[12], x[144];
          layer_of(p, j, x);
          ck_assert_int_eq(nslm_constraint_row_norms(con, p, j, norms, w[j + 1]), NSLM_OK);
          for (size_t i = 0; i < w[j + 1]; i++) {
            double rr = (double)ref_qnorm_row(w[j], x + i * w[j], 1, j == 0 ? qs[iq] : 1.0);
            ck_assert_msg(fabs(norms[i] - rr) <= NORM_TOL * rr, "layer %zu row %zu", j, i);
          }
        }
        nslm_constraint_destroy(con);
      }
    nslm_params_destroy(p);
  }
}
END_TEST

/* feasible <=> r <= 1, checked at r = 1 exactly and on either side. */
START_TEST(constraint_feasibility) {
  size_t w[] = {2, 2, 1};
  nslm_params *p = params_for(w, 1);
  double t0[4] = {0.5, 0.5, 0.0, 0.0}, t1[2] = {0.25, 0.25};
  ck_assert_int_eq(nslm_params_set_layer(p, 0, 2, 2, t0, 2, 1), NSLM_OK);
  ck_assert_int_eq(nslm_params_set_layer(p, 1, 1, 2, t1, 2, 1), NSLM_OK);
  /* |||T0|||_1 = 1, |||T1|||_1 = 0.5: with a_r = 2, b_r = 1, q = 1: r = 1. */
  nslm_constraint *con;
  ck_assert_int_eq(nslm_constraint_create(&con, 2.0, 1.0, 1.0), NSLM_OK);
  double r;
  int f = -1;
  ck_assert_int_eq(nslm_constraint_eval(con, p, &r), NSLM_OK);
  ck_assert(r == 1.0);
  ck_assert_int_eq(nslm_constraint_feasible(con, p, &f), NSLM_OK);
  ck_assert_int_eq(f, 1);
  nslm_constraint_destroy(con);
  ck_assert_int_eq(nslm_constraint_create(&con, 2.0 * (1 + DBL_EPSILON), 1.0, 1.0), NSLM_OK);
  ck_assert_int_eq(nslm_constraint_feasible(con, p, &f), NSLM_OK);
  ck_assert_int_eq(f, 0);
  nslm_constraint_destroy(con);
  /* q = 2: |||T0|||_2 = sqrt(0.5) ~ 0.707, so b_r = 1.4 is feasible, 1.5 not. */
  ck_assert_int_eq(nslm_constraint_create(&con, 0.0, 1.4, 2.0), NSLM_OK);
  ck_assert_int_eq(nslm_constraint_feasible(con, p, &f), NSLM_OK);
  ck_assert_int_eq(f, 1);
  nslm_constraint_destroy(con);
  ck_assert_int_eq(nslm_constraint_create(&con, 0.0, 1.5, 2.0), NSLM_OK);
  ck_assert_int_eq(nslm_constraint_feasible(con, p, &f), NSLM_OK);
  ck_assert_int_eq(f, 0);
  nslm_constraint_destroy(con);
  nslm_params_destroy(p);
}
END_TEST

/* A term with coefficient 0 contributes 0 even where its norm overflows. */
START_TEST(constraint_zero_coefficient_and_overflow) {
  size_t w[] = {3, 2, 4};
  nslm_params *p = params_for(w, 1);
  double big[8];
  for (int i = 0; i < 8; i++) big[i] = 1.5e308;
  ck_assert_int_eq(nslm_params_set_layer(p, 1, 4, 2, big, 2, 1), NSLM_OK); /* row 1-norm 3e308 = inf */
  double small[6] = {1, 2, 2, 0, 0, 0};
  ck_assert_int_eq(nslm_params_set_layer(p, 0, 2, 3, small, 3, 1), NSLM_OK);
  nslm_constraint *con;
  double r;
  int f;
  ck_assert_int_eq(nslm_constraint_create(&con, 0.0, 0.5, 2.0), NSLM_OK);
  ck_assert_int_eq(nslm_constraint_eval(con, p, &r), NSLM_OK);
  ck_assert(r == 1.5); /* 0.5 * sqrt(1 + 4 + 4) */
  ck_assert_int_eq(nslm_constraint_feasible(con, p, &f), NSLM_OK);
  ck_assert_int_eq(f, 0);
  nslm_constraint_destroy(con);
  /* The true value 3e308 exceeds DBL_MAX: reported as +inf, infeasible. */
  ck_assert_int_eq(nslm_constraint_create(&con, 1.0, 0.0, 2.0), NSLM_OK);
  ck_assert_int_eq(nslm_constraint_eval(con, p, &r), NSLM_OK);
  ck_assert(isinf(r) && r > 0);
  ck_assert_int_eq(nslm_constraint_feasible(con, p, &f), NSLM_OK);
  ck_assert_int_eq(f, 0);
  double norms[4];
  ck_assert_int_eq(nslm_constraint_row_norms(con, p, 1, norms, 4), NSLM_OK);
  ck_assert(isinf(norms[3]));
  nslm_constraint_destroy(con);
  /* Tiny a_r times a huge (finite) norm: exact product, no overflow. */
  for (int i = 0; i < 8; i++) big[i] = 1e300;
  ck_assert_int_eq(nslm_params_set_layer(p, 1, 4, 2, big, 2, 1), NSLM_OK);
  ck_assert_int_eq(nslm_constraint_create(&con, 1e-300, 0.0, 2.0), NSLM_OK);
  ck_assert_int_eq(nslm_constraint_eval(con, p, &r), NSLM_OK);
  ck_assert_double_eq_tol(r, 2.0, 1e-15);
  nslm_constraint_destroy(con);
  /* q = 0 and NaN are rejected, q = inf accepted */
  con = (nslm_constraint *)0x1;
  ck_assert_int_eq(nslm_constraint_create(&con, 1, 1, 0.0), NSLM_ERR_DOMAIN);
  ck_assert_ptr_null(con);
  ck_assert_int_eq(nslm_constraint_create(&con, 1, 1, INFINITY), NSLM_OK);
  nslm_constraint_destroy(con);
  nslm_params_destroy(p);
}
END_TEST

/* nslm_matrix_row_norm in every layout, against the long-double reference,
 * including entries near 1e+-300 (plain double powers would overflow to
 * inf or underflow to 0). */
START_TEST(matrix_row_norm_layouts_and_extremes) {
  nslmt_rng r;
  nslmt_seed(&r, 52);
  double mags[] = {1.0, 1e300, 1e-300, 1e-310 /* subnormal */};
  for (int rep = 0; rep < 30; rep++) {
    size_t rows = nslmt_range(&r, 1, 9), cols = nslmt_range(&r, 1, 40);
    if (rep == 0) rows = cols = 1;
    if (rep == 1) { rows = 1; cols = 40; }
    if (rep == 2) { rows = 40; cols = 1; }
    for (int lay = 0; lay < NLAYOUTS; lay++) {
      smat a = smat_new(rows, cols, lay);
      for (size_t mg = 0; mg < 4; mg++) {
        for (size_t i = 0; i < rows; i++)
          for (size_t k = 0; k < cols; k++) *at(&a, i, k) = mags[mg] * nslmt_normal(&r);
        for (size_t iq = 0; iq < NQ; iq++) {
          double v = -1;
          ck_assert_int_eq(nslm_matrix_row_norm(rows, cols, a.p, a.rs, a.cs, qs[iq], &v), NSLM_OK);
          long double ref = ref_row_norm(rows, cols, a.p, a.rs, a.cs, qs[iq]);
          /* Subnormal entries (1e-310 scale): the reference sees the same
           * rounded inputs; the divisions by the max are correctly rounded
           * (relative eps), and a subnormal result has absolute spacing
           * 4.9e-324, i.e. 5e-14 relative at 1e-310: within NORM_TOL. */
          ck_assert_msg(fabsl(v - ref) <= NORM_TOL * ref, "mag %g q %g layout %d: %.17g vs %.17Lg",
                        mags[mg], qs[iq], lay, v, ref);
          ck_assert(isfinite(v) && v > 0);
        }
      }
      free(a.buf);
    }
  }
  /* Mixed 1e300 and 1e-300 in one row: the small entries vanish relative
   * to the large one, the result is finite: (2 * 1e600)^(1/2) = sqrt2 e300. */
  double mix[4] = {1e300, 1e-300, -1e300, 1e-300}, v;
  ck_assert_int_eq(nslm_matrix_row_norm(1, 4, mix, 4, 1, 2.0, &v), NSLM_OK);
  ck_assert_double_eq_tol(v, sqrt(2.0) * 1e300, 1e-15 * 1.5e300);
  /* 0.3-quasinorm of (1e-300, 1e-300): 2^(1/0.3) 1e-300 = 10.079 e-300 */
  ck_assert_int_eq(nslm_matrix_row_norm(1, 2, mix + 1, 4, 2, 0.3, &v), NSLM_OK);
  ck_assert_double_eq_tol(v, pow(2.0, 1 / 0.3) * 1e-300, 1e-14 * 1e-299);
  /* A zero matrix has norm 0 for every q. */
  double zero[6] = {0};
  for (size_t iq = 0; iq < NQ; iq++) {
    ck_assert_int_eq(nslm_matrix_row_norm(2, 3, zero, 3, 1, qs[iq], &v), NSLM_OK);
    ck_assert(v == 0.0);
  }
  /* q = inf is the max abs entry, q = 1 the largest absolute row sum. */
  double m[6] = {1, -5, 2, 3, 3, -3};
  ck_assert_int_eq(nslm_matrix_row_norm(2, 3, m, 3, 1, INFINITY, &v), NSLM_OK);
  ck_assert(v == 5.0);
  ck_assert_int_eq(nslm_matrix_row_norm(2, 3, m, 3, 1, 1.0, &v), NSLM_OK);
  ck_assert(v == 9.0);
  ck_assert_int_eq(nslm_matrix_row_norm(3, 2, m, 1, 3, 1.0, &v), NSLM_OK); /* transposed view */
  ck_assert(v == 8.0); /* rows (1, 3), (-5, 3), (2, -3) */
}
END_TEST

/* ------------------------------------------------------------------ */
/* Allocation-failure injection of every create function of the area. */

#define INJECT(sites, call, outp, destroy)                                          \
  for (long k_ = 0;; k_++) {                                                        \
    outp = NULL;                                                                    \
    nslmi_alloc_fail_after(k_, 0);                                                  \
    int st_ = (call);                                                               \
    long used_ = nslmi_alloc_count();                                               \
    nslmi_alloc_fail_after(-1, 0);                                                  \
    if (k_ >= used_) { ck_assert_int_eq(st_, NSLM_OK); destroy(outp); break; }      \
    ck_assert_msg(st_ == NSLM_ERR_NOMEM, "%s: site %ld gave %d", #call, k_, st_);   \
    ck_assert_ptr_null(outp);                                                       \
    (sites)++;                                                                      \
  }

START_TEST(create_functions_survive_each_failed_allocation) {
  int sites = 0, before;
  size_t w[] = {3, 5, 4, 2};
  nslm_net *net, *n2;
  nslm_params *p, *p2;
  nslm_data *data;
  nslm_constraint *con;
  INJECT(sites, nslm_net_create(&n2, 2, w), n2, nslm_net_destroy);
  printf("model: nslm_net_create: %d sites\n", sites);
  ck_assert_int_eq(nslm_net_create(&net, 2, w), NSLM_OK);
  before = sites;
  INJECT(sites, nslm_params_create(&p2, net), p2, nslm_params_destroy);
  printf("model: nslm_params_create: %d sites\n", sites - before);
  ck_assert_int_eq(nslm_params_create(&p, net), NSLM_OK);
  before = sites;
  INJECT(sites, nslm_params_clone(&p2, p), p2, nslm_params_destroy);
  printf("model: nslm_params_clone: %d sites\n", sites - before);
  double x[12] = {0}, y[8] = {0};
  before = sites;
  INJECT(sites, nslm_data_create(&data, 4, 3, x, 3, 1, 2, y, 2, 1), data, nslm_data_destroy);
  printf("model: nslm_data_create: %d sites\n", sites - before);
  before = sites;
  INJECT(sites, nslm_constraint_create(&con, 1, 1, 2), con, nslm_constraint_destroy);
  printf("model: nslm_constraint_create: %d sites\n", sites - before);
  printf("model: allocation sites covered by fault injection: %d\n", sites);
  /* net 3, params 3 + (l+1) = 6, clone 6, data 4, constraint 1 */
  ck_assert_int_eq(sites, 3 + 6 + 6 + 4 + 1);
  nslm_params_destroy(p);
  nslm_net_destroy(net);
}
END_TEST

int main(void) {
  Suite *s = suite_create("model");
  TCase *tc = tcase_create("net");
  tcase_add_test(tc, net_shape_queries);
  tcase_add_test(tc, net_activations_set_get);
  tcase_add_test(tc, net_threads);
  tcase_add_test(tc, net_paper_width_bound);
  suite_add_tcase(s, tc);
  tc = tcase_create("params");
  tcase_add_test(tc, params_zero_and_shapes);
  tcase_add_test(tc, params_layer_round_trips_in_every_layout);
  tcase_add_test(tc, params_layout_is_out_by_in);
  tcase_add_test(tc, params_init_random_reproducible);
  tcase_add_test(tc, params_init_random_statistics);
  tcase_add_test(tc, params_interpolate);
  tcase_add_test(tc, params_supports);
  tcase_add_test(tc, params_clone_assign_equal);
  suite_add_tcase(s, tc);
  tc = tcase_create("data");
  tcase_add_test(tc, data_round_trips_with_strides);
  tcase_add_test(tc, data_rejects_nonfinite);
  suite_add_tcase(s, tc);
  tc = tcase_create("constraint");
  tcase_add_test(tc, constraint_matches_reference);
  tcase_add_test(tc, constraint_feasibility);
  tcase_add_test(tc, constraint_zero_coefficient_and_overflow);
  tcase_add_test(tc, matrix_row_norm_layouts_and_extremes);
  suite_add_tcase(s, tc);
  tc = tcase_create("alloc");
  tcase_add_test(tc, create_functions_survive_each_failed_allocation);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
