/* modelcase.c - see modelcase.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "modelcase.h"

int nslmt_softsign(double *x, size_t len, void *user) {
  (void)user;
  for (size_t i = 0; i < len; i++) x[i] = x[i] / (1.0 + fabs(x[i]));
  return 0;
}
int nslmt_softsign_d(double *x, size_t len, void *user) {
  (void)user;
  for (size_t i = 0; i < len; i++) {
    double t = 1.0 + fabs(x[i]);
    x[i] = 1.0 / (t * t);
  }
  return 0;
}

nslmt_ref_act nslmt_make_act(int kind, nslmt_rng *r) {
  nslmt_ref_act a = {kind, 0.0, 0.0, NULL, NULL};
  if (kind == NSLM_ACT_LEAKY_RELU) a.c = 0.05 + 0.9 * nslmt_uniform(r);
  if (kind == NSLM_ACT_POLY) {
    a.k = (double)nslmt_range(r, 1, 3);
    a.c = 0.3 + 0.5 * nslmt_uniform(r);
  }
  if (kind == NSLM_ACT_CALLBACK) a.f = nslmt_softsign;
  return a;
}

/* y_kind: 0 real, 1 signs, 2 in (-1, 1), 3 probability rows. */
void nslmt_fill_y(nslmt_rng *r, double *y, size_t n, size_t m, int y_kind) {
  for (size_t i = 0; i < n; i++) {
    double s = 0.0;
    for (size_t k = 0; k < m; k++) {
      double *v = &y[i * m + k];
      switch (y_kind) {
      case 0: *v = nslmt_normal(r); break;
      case 1: *v = nslmt_uniform(r) < 0.5 ? -1.0 : 1.0; break;
      case 2: *v = 1.8 * nslmt_uniform(r) - 0.9; break;
      default: *v = nslmt_uniform(r) + 0.05; s += *v; break;
      }
    }
    if (y_kind == 3)
      for (size_t k = 0; k < m; k++) y[i * m + k] /= s;
  }
}

/* Builds a case through the public API.  kinds[j-1] for hidden layer j;
 * out_scale scales the output layer (small keeps outputs in (-1, 1)). */
void nslmt_case_make(nslmt_case *t, nslmt_rng *r, size_t depth, const size_t *widths,
                     const int *kinds, size_t n, int y_kind, double out_scale) {
  memset(t, 0, sizeof *t);
  t->depth = depth;
  t->n = n;
  memcpy(t->widths, widths, (depth + 2) * sizeof *widths);
  ck_assert_int_eq(nslm_net_create(&t->net, depth, widths), NSLM_OK);
  for (size_t j = 1; j <= depth; j++) {
    t->act[j - 1] = nslmt_make_act(kinds[j - 1], r);
    nslmt_ref_act *a = &t->act[j - 1];
    if (a->kind == NSLM_ACT_CALLBACK)
      ck_assert_int_eq(nslm_net_set_activation_callback(t->net, j, nslmt_softsign, nslmt_softsign_d, NULL),
                       NSLM_OK);
    else
      ck_assert_int_eq(nslm_net_set_activation(t->net, j, a->kind, a->c, a->k), NSLM_OK);
  }
  ck_assert_int_eq(nslm_params_create(&t->theta, t->net), NSLM_OK);
  for (size_t j = 0; j <= depth; j++) {
    size_t rows = widths[j + 1], cols = widths[j];
    t->layers[j] = malloc(rows * cols * sizeof(double));
    double sc = (j == depth ? out_scale : 1.0) / sqrt((double)cols);
    nslmt_fill(r, t->layers[j], rows * cols, sc);
    /* Pass it Fortran-ordered half the time: the library copies either. */
    if (j % 2) {
      double *ft = malloc(rows * cols * sizeof(double));
      for (size_t i = 0; i < rows; i++)
        for (size_t k = 0; k < cols; k++) ft[k * rows + i] = t->layers[j][i * cols + k];
      ck_assert_int_eq(nslm_params_set_layer(t->theta, j, rows, cols, ft, 1, (ptrdiff_t)rows),
                       NSLM_OK);
      free(ft);
    } else {
      ck_assert_int_eq(
          nslm_params_set_layer(t->theta, j, rows, cols, t->layers[j], (ptrdiff_t)cols, 1),
          NSLM_OK);
    }
  }
  size_t d = widths[0], m = widths[depth + 1];
  t->x = malloc(n * d * sizeof(double));
  t->y = malloc(n * m * sizeof(double));
  nslmt_fill(r, t->x, n * d, 1.0);
  nslmt_fill_y(r, t->y, n, m, y_kind);
  ck_assert_int_eq(nslm_data_create(&t->data, n, d, t->x, (ptrdiff_t)d, 1, m, t->y,
                                    (ptrdiff_t)m, 1),
                   NSLM_OK);
}

void nslmt_case_free(nslmt_case *t) {
  for (size_t j = 0; j <= t->depth; j++) free(t->layers[j]);
  free(t->x);
  free(t->y);
  nslm_data_destroy(t->data);
  nslm_params_destroy(t->theta);
  nslm_net_destroy(t->net);
}

const double *const *nslmt_case_layers(const nslmt_case *t) {
  return (const double *const *)t->layers;
}

int nslmt_loss_y_kind(int kind) {
  switch (kind) {
  case NSLM_LOSS_LOGISTIC: case NSLM_LOSS_HINGE: return 1;
  case NSLM_LOSS_LOGISTIC_PAPER: return 2;
  case NSLM_LOSS_SOFTMAX_CE: return 3;
  default: return 0;
  }
}
