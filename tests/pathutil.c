/* pathutil.c - see pathutil.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <check.h>

#include "pathutil.h"
#include "testutil.h"

void pt_prob_make(pt_prob *P, size_t l, const size_t *w, size_t n, int loss_kind,
                  const int *acts, uint64_t seed) {
  memset(P, 0, sizeof *P);
  ck_assert_uint_le(l, PT_MAXL);
  P->l = l;
  P->n = n;
  memcpy(P->w, w, (l + 2) * sizeof *w);
  size_t d = w[0], m = w[l + 1];
  ck_assert_int_eq(nslm_net_create(&P->net, l, w), NSLM_OK);
  for (size_t j = 1; j <= l; j++) {
    int kind = acts ? acts[j - 1] : NSLM_ACT_RELU;
    double c = kind == NSLM_ACT_LEAKY_RELU ? 0.1 : 1.0, k = kind == NSLM_ACT_POLY ? 2.0 : 1.0;
    ck_assert_int_eq(nslm_net_set_activation(P->net, j, kind, c, k), NSLM_OK);
    P->act[j - 1].kind = kind;
    P->act[j - 1].c = c;
    P->act[j - 1].k = k;
  }
  nslmt_rng rng;
  nslmt_seed(&rng, seed);
  P->x = malloc(n * d * sizeof(double));
  P->y = malloc(n * m * sizeof(double));
  nslmt_fill(&rng, P->x, n * d, 1.0);
  for (size_t i = 0; i < n; i++) {
    size_t hot = nslmt_range(&rng, 0, m - 1);
    for (size_t k = 0; k < m; k++) {
      double *v = &P->y[i * m + k];
      switch (loss_kind) {
      case NSLM_LOSS_SOFTMAX_CE: *v = k == hot ? 1.0 : 0.0; break;
      case NSLM_LOSS_LOGISTIC:
      case NSLM_LOSS_HINGE: *v = nslmt_uniform(&rng) < 0.5 ? -1.0 : 1.0; break;
      default: *v = nslmt_normal(&rng);
      }
    }
  }
  ck_assert_int_eq(nslm_data_create(&P->data, n, d, P->x, (ptrdiff_t)d, 1, m, P->y, (ptrdiff_t)m, 1),
                   NSLM_OK);
  P->loss_kind = loss_kind;
  P->loss_param = loss_kind == NSLM_LOSS_HUBER ? 0.7 : 0.0;
  ck_assert_int_eq(nslm_loss_create(&P->loss, loss_kind, P->loss_param), NSLM_OK);
}

void pt_prob_free(pt_prob *P) {
  nslm_net_destroy(P->net);
  nslm_data_destroy(P->data);
  nslm_loss_destroy(P->loss);
  free(P->x);
  free(P->y);
  memset(P, 0, sizeof *P);
}

nslm_params *pt_params(const pt_prob *P, uint64_t seed, double scale) {
  nslm_params *p;
  ck_assert_int_eq(nslm_params_create(&p, P->net), NSLM_OK);
  ck_assert_int_eq(nslm_params_init_random(p, seed, NSLM_INIT_NORMAL, scale), NSLM_OK);
  return p;
}

double *pt_layer(const nslm_params *theta, size_t j) {
  size_t rows, cols;
  ck_assert_int_eq(nslm_params_layer_shape(theta, j, &rows, &cols), NSLM_OK);
  double *a = malloc(rows * cols * sizeof *a);
  ck_assert_int_eq(nslm_params_get_layer(theta, j, rows, cols, a, (ptrdiff_t)cols, 1), NSLM_OK);
  return a;
}

void pt_set_layer(nslm_params *theta, size_t j, const double *a) {
  size_t rows, cols;
  ck_assert_int_eq(nslm_params_layer_shape(theta, j, &rows, &cols), NSLM_OK);
  ck_assert_int_eq(nslm_params_set_layer(theta, j, rows, cols, a, (ptrdiff_t)cols, 1), NSLM_OK);
}

nslm_params *pt_combine(const pt_prob *P, double c0, const nslm_params *a, double c1,
                        const nslm_params *b, double c2, const nslm_params *c) {
  nslm_params *o;
  ck_assert_int_eq(nslm_params_create(&o, P->net), NSLM_OK);
  for (size_t j = 0; j <= P->l; j++) {
    size_t sz = P->w[j + 1] * P->w[j];
    double *x = pt_layer(a, j), *y = pt_layer(b, j), *z = c ? pt_layer(c, j) : NULL;
    for (size_t i = 0; i < sz; i++) x[i] = c0 * x[i] + c1 * y[i] + (z ? c2 * z[i] : 0.0);
    pt_set_layer(o, j, x);
    free(x);
    free(y);
    free(z);
  }
  return o;
}

nslm_params *pt_interp(const pt_prob *P, const nslm_params *a, const nslm_params *b, double u) {
  return pt_combine(P, 1.0 - u, a, u, b, 0.0, NULL);
}

double pt_ref_risk(const pt_prob *P, const nslm_params *theta, double *losses) {
  double *layers[PT_MAXL + 1];
  for (size_t j = 0; j <= P->l; j++) layers[j] = pt_layer(theta, j);
  double r = nslmt_ref_risk(P->l, P->w, (const double *const *)layers, P->act, P->n, P->x, P->y,
                            P->loss_kind, P->loss_param, losses);
  for (size_t j = 0; j <= P->l; j++) free(layers[j]);
  ck_assert_msg(isfinite(r), "reference risk failed");
  return r;
}

double pt_ref_r(const nslm_params *theta, double a_r, double b_r, double q) {
  size_t l = nslm_params_depth(theta);
  double r = 0.0;
  for (size_t j = 0; j <= l; j++) {
    size_t rows, cols;
    ck_assert_int_eq(nslm_params_layer_shape(theta, j, &rows, &cols), NSLM_OK);
    double *a = pt_layer(theta, j), mx = 0.0;
    double qq = j == 0 ? q : 1.0;
    for (size_t i = 0; i < rows; i++) {
      double s = 0.0;
      for (size_t k = 0; k < cols; k++) s += isinf(qq) ? 0.0 : pow(fabs(a[i * cols + k]), qq);
      double v = pow(s, 1.0 / qq);
      if (isinf(qq))
        for (size_t k = 0; k < cols; k++) v = fmax(v, fabs(a[i * cols + k]));
      mx = fmax(mx, v);
    }
    free(a);
    double coef = j == 0 ? b_r : a_r;
    if (coef > 0) r = fmax(r, coef * mx);
  }
  return r;
}

nslm_params *pt_knot(const pt_prob *P, const nslm_path *path, size_t i) {
  nslm_params *o;
  ck_assert_int_eq(nslm_params_create(&o, P->net), NSLM_OK);
  ck_assert_int_eq(nslm_path_get_knot(path, i, o), NSLM_OK);
  return o;
}

int pt_system(const char *cmd) {
  int st = system(cmd);
  if (st == -1 || !WIFEXITED(st)) return -1;
  return WEXITSTATUS(st);
}
