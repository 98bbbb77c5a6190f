/* reference.c - naive scalar reference implementations: one sample at a
 * time, plain loops, formulas re-derived from the documentation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reference.h"

double nslmt_ref_activation(const nslmt_ref_act *a, double x) {
  switch (a->kind) {
  case NSLM_ACT_IDENTITY: return x;
  case NSLM_ACT_RELU: return x > 0 ? x : 0.0;
  case NSLM_ACT_LEAKY_RELU: return x > 0 ? x : a->c * x;
  case NSLM_ACT_POLY: return a->c * pow(x, a->k);
  case NSLM_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
  case NSLM_ACT_TANH: return tanh(x);
  case NSLM_ACT_CALLBACK: {
    double v = x;
    if (a->f == NULL || a->f(&v, 1, a->user) != 0) return NAN;
    return v;
  }
  }
  return NAN;
}

int nslmt_ref_features(size_t depth, const size_t *widths, const double *const *layers,
                       const nslmt_ref_act *act, size_t n, const double *x, size_t j, int pre,
                       double *a) {
  if (widths == NULL || layers == NULL || x == NULL || a == NULL || depth < 1 || j > depth + 1)
    return -1;
  if (pre && j == 0) return -1;
  if (depth >= 1 && act == NULL) return -1;
  size_t mx = 0;
  for (size_t k = 0; k <= depth + 1; k++)
    if (widths[k] > mx) mx = widths[k];
  double *h = malloc(mx * sizeof *h), *t = malloc(mx * sizeof *t);
  if (h == NULL || t == NULL) {
    free(h);
    free(t);
    return -1;
  }
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    /* h := x_i, then layer by layer. */
    for (size_t k = 0; k < widths[0]; k++) h[k] = x[i * widths[0] + k];
    for (size_t L = 0; L < j; L++) {
      size_t rows = widths[L + 1], cols = widths[L];
      const double *w = layers[L];
      for (size_t r = 0; r < rows; r++) {
        double s = 0.0;
        for (size_t c = 0; c < cols; c++) s += w[r * cols + c] * h[c];
        t[r] = s;
      }
      /* Hidden layer L+1 gets its activation, unless the caller wants the
       * pre-activation of the last layer computed; the output layer none. */
      int last = L + 1 == j;
      if (L + 1 <= depth && !(last && pre))
        for (size_t r = 0; r < rows; r++) {
          t[r] = nslmt_ref_activation(&act[L], t[r]);
          if (isnan(t[r]) && act[L].kind == NSLM_ACT_CALLBACK) rc = -1;
        }
      memcpy(h, t, rows * sizeof *h);
    }
    for (size_t k = 0; k < widths[j]; k++) a[i * widths[j] + k] = h[k];
  }
  free(h);
  free(t);
  return rc;
}

int nslmt_ref_outputs(size_t depth, const size_t *widths, const double *const *layers,
                      const nslmt_ref_act *act, size_t n, const double *x, double *out) {
  return nslmt_ref_features(depth, widths, layers, act, n, x, depth + 1, 0, out);
}

/* log(1 + e^z) without overflow. */
static double softplus(double z) { return z > 30 ? z + log1p(exp(-z)) : log1p(exp(z)); }

double nslmt_ref_loss(int kind, double param, size_t m, const double *a, const double *y) {
  double s = 0.0;
  switch (kind) {
  case NSLM_LOSS_SQUARED:
    for (size_t k = 0; k < m; k++) s += (a[k] - y[k]) * (a[k] - y[k]);
    return s;
  case NSLM_LOSS_ABSOLUTE:
    for (size_t k = 0; k < m; k++) s += fabs(a[k] - y[k]);
    return s;
  case NSLM_LOSS_HUBER:
    if (!(param > 0)) return NAN;
    for (size_t k = 0; k < m; k++) {
      double r = fabs(a[k] - y[k]);
      s += r <= param ? 0.5 * r * r : param * (r - 0.5 * param);
    }
    return s;
  case NSLM_LOSS_LOGISTIC:
    for (size_t k = 0; k < m; k++) s += softplus(-y[k] * a[k]);
    return s;
  case NSLM_LOSS_LOGISTIC_PAPER:
    for (size_t k = 0; k < m; k++) {
      if (!(fabs(a[k]) < 1) || !(fabs(y[k]) <= 1)) return NAN;
      s += -(1 + y[k]) * log1p(a[k]) - (1 - y[k]) * log1p(-a[k]);
    }
    return s;
  case NSLM_LOSS_HINGE:
    for (size_t k = 0; k < m; k++) s += fmax(0.0, 1 - y[k] * a[k]);
    return s;
  case NSLM_LOSS_SOFTMAX_CE: {
    /* -sum_k y_k log softmax(a)_k = sum_k y_k (logsumexp(a) - a_k). */
    double mx = -INFINITY, e = 0.0;
    for (size_t k = 0; k < m; k++) mx = fmax(mx, a[k]);
    for (size_t k = 0; k < m; k++) e += exp(a[k] - mx);
    double lse = mx + log(e);
    for (size_t k = 0; k < m; k++) s += y[k] * (lse - a[k]);
    return s;
  }
  }
  return NAN;
}

double nslmt_ref_risk(size_t depth, const size_t *widths, const double *const *layers,
                      const nslmt_ref_act *act, size_t n, const double *x, const double *y,
                      int loss_kind, double loss_param, double *losses) {
  if (widths == NULL || y == NULL) return NAN;
  size_t m = widths[depth + 1];
  double *out = malloc((n * m > 0 ? n * m : 1) * sizeof *out);
  if (out == NULL) return NAN;
  double total = NAN;
  if (nslmt_ref_outputs(depth, widths, layers, act, n, x, out) == 0) {
    total = 0.0;
    for (size_t i = 0; i < n; i++) {
      double v = nslmt_ref_loss(loss_kind, loss_param, m, out + i * m, y + i * m);
      if (losses) losses[i] = v;
      total += v;
    }
  }
  free(out);
  return total;
}
