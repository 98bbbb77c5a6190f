/* net.c - network shapes and elementwise activations. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "alloc.h"
#include "blas.h"
#include "net.h"
#include "status.h"

int nslm_net_create(nslm_net **out, size_t depth, const size_t *widths) {
  NSLMI_CHECK_NULL(out);
  *out = NULL;
  NSLMI_CHECK_NULL(widths);
  if (depth < 1) return NSLMI_FAIL(NSLM_ERR_DIMENSION, "depth must be >= 1 (got %zu)", depth);
  if (depth > 4096) return NSLMI_FAIL(NSLM_ERR_DIMENSION, "depth %zu is unreasonably large", depth);
  for (size_t j = 0; j < depth + 2; j++)
    if (widths[j] < 1 || widths[j] > ((size_t)1 << 31))
      return NSLMI_FAIL(NSLM_ERR_DIMENSION, "widths[%zu] = %zu is outside [1, 2^31]", j, widths[j]);
  nslm_net *net = nslmi_calloc(1, sizeof *net);
  if (net == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "net");
  net->widths = nslmi_malloc_array(depth + 2, sizeof *net->widths);
  net->act = nslmi_calloc(depth + 1, sizeof *net->act);
  if (net->widths == NULL || net->act == NULL) {
    nslm_net_destroy(net);
    return NSLMI_FAIL(NSLM_ERR_NOMEM, "net widths");
  }
  net->depth = depth;
  memcpy(net->widths, widths, (depth + 2) * sizeof *widths);
  for (size_t j = 0; j <= depth; j++) net->act[j].kind = NSLM_ACT_RELU;
  *out = net;
  return NSLM_OK;
}

void nslm_net_destroy(nslm_net *net) {
  if (net == NULL) return;
  nslmi_free(net->widths);
  nslmi_free(net->act);
  nslmi_free(net);
}


static int check_layer(const nslm_net *net, size_t j, const char *func) {
  if (net == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "net is NULL");
  if (j < 1 || j > net->depth)
    return nslmi_fail(NSLM_ERR_RANGE, func, "hidden layer %zu outside 1..%zu", j, net->depth);
  return NSLM_OK;
}

int nslm_net_set_activation(nslm_net *net, size_t j, int kind, double c, double k) {
  int st = check_layer(net, j, __func__);
  if (st) return st;
  switch (kind) {
  case NSLM_ACT_IDENTITY: case NSLM_ACT_RELU: case NSLM_ACT_SIGMOID: case NSLM_ACT_TANH:
    break;
  case NSLM_ACT_LEAKY_RELU:
    if (!isfinite(c)) return NSLMI_FAIL(NSLM_ERR_NONFINITE, "leaky ReLU slope c is not finite");
    break;
  case NSLM_ACT_POLY:
    if (!isfinite(c)) return NSLMI_FAIL(NSLM_ERR_NONFINITE, "polynomial coefficient c is not finite");
    if (!(k >= 1 && k <= 64 && k == floor(k)))
      return NSLMI_FAIL(NSLM_ERR_DOMAIN, "polynomial power k = %g must be an integer in 1..64", k);
    break;
  case NSLM_ACT_CALLBACK:
    return NSLMI_FAIL(NSLM_ERR_INVALID, "use nslm_net_set_activation_callback for callbacks");
  default:
    return NSLMI_FAIL(NSLM_ERR_INVALID, "unknown activation kind %d", kind);
  }
  nslmi_activation a = {kind, c, k, NULL, NULL, NULL};
  net->act[j] = a;
  return NSLM_OK;
}

int nslm_net_set_activation_callback(nslm_net *net, size_t j, nslm_act_fn f, nslm_act_fn df,
                                     void *user_data) {
  int st = check_layer(net, j, __func__);
  if (st) return st;
  NSLMI_CHECK_NULL(f);
  nslmi_activation a = {NSLM_ACT_CALLBACK, 0.0, 0.0, f, df, user_data};
  net->act[j] = a;
  return NSLM_OK;
}

int nslm_net_get_activation(const nslm_net *net, size_t j, int *kind, double *c, double *k) {
  int st = check_layer(net, j, __func__);
  if (st) return st;
  NSLMI_CHECK_NULL(kind);
  *kind = net->act[j].kind;
  if (c) *c = net->act[j].c;
  if (k) *k = net->act[j].k;
  return NSLM_OK;
}

int nslm_net_set_num_threads(nslm_net *net, size_t nthreads) {
  NSLMI_CHECK_NULL(net);
  if (nthreads > 4096) return NSLMI_FAIL(NSLM_ERR_DOMAIN, "nthreads %zu is unreasonably large", nthreads);
  net->nthreads = nthreads;
  return NSLM_OK;
}

size_t nslm_net_num_threads(const nslm_net *net) { return net ? nslmi_net_threads(net) : 0; }
size_t nslmi_net_threads(const nslm_net *net) {
  return net->nthreads ? net->nthreads : nslmi_default_threads();
}

size_t nslm_net_depth(const nslm_net *net) { return net ? net->depth : 0; }

size_t nslm_net_width(const nslm_net *net, size_t j) {
  if (net == NULL || j > net->depth + 1) return 0;
  return net->widths[j];
}

size_t nslm_net_paper_width_bound(const nslm_net *net, size_t n) {
  if (net == NULL) return 0;
  /* 2 m (n+1)^l with saturation. */
  size_t v = 2;
  size_t m = net->widths[net->depth + 1];
  if (v > SIZE_MAX / m) return SIZE_MAX;
  v *= m;
  if (n == SIZE_MAX) return SIZE_MAX;
  for (size_t j = 0; j < net->depth; j++) {
    if (v > SIZE_MAX / (n + 1)) return SIZE_MAX;
    v *= n + 1;
  }
  return v;
}

int nslmi_act_apply(const nslmi_activation *a, double *x, size_t len) {
  size_t i;
  switch (a->kind) {
  case NSLM_ACT_IDENTITY: return NSLM_OK;
  case NSLM_ACT_RELU:
  case NSLM_ACT_LEAKY_RELU: { /* branch-free (see net.h) */
    int leaky = a->kind == NSLM_ACT_LEAKY_RELU;
    i = 0;
#ifdef NSLMI_SSE2
    __m128d c = _mm_set1_pd(a->c);
    for (; i + 4 <= len; i += 4) {
      _mm_storeu_pd(x + i, nslmi_relu2(_mm_loadu_pd(x + i), leaky, c));
      _mm_storeu_pd(x + i + 2, nslmi_relu2(_mm_loadu_pd(x + i + 2), leaky, c));
    }
#endif
    for (; i < len; i++) x[i] = nslmi_relu1(x[i], leaky, a->c);
    return NSLM_OK;
  }
  case NSLM_ACT_POLY: {
    int k = (int)a->k;
    for (i = 0; i < len; i++) {
      double b = x[i], p = 1.0;
      for (int e = 0; e < k; e++) p *= b;
      x[i] = a->c * p;
    }
    return NSLM_OK;
  }
  case NSLM_ACT_SIGMOID:
    for (i = 0; i < len; i++) {
      /* Stable on both tails. */
      double v = x[i];
      if (v >= 0) x[i] = 1.0 / (1.0 + exp(-v));
      else { double e = exp(v); x[i] = e / (1.0 + e); }
    }
    return NSLM_OK;
  case NSLM_ACT_TANH:
    for (i = 0; i < len; i++) x[i] = tanh(x[i]);
    return NSLM_OK;
  case NSLM_ACT_CALLBACK:
    if (a->f(x, len, a->user) != 0) return NSLMI_FAIL(NSLM_ERR_CALLBACK, "activation callback failed");
    return NSLM_OK;
  }
  return NSLMI_FAIL(NSLM_ERR_INVALID, "unknown activation %d", a->kind);
}

int nslmi_act_derivative(const nslmi_activation *a, double *x, size_t len) {
  size_t i;
  switch (a->kind) {
  case NSLM_ACT_IDENTITY:
    for (i = 0; i < len; i++) x[i] = 1.0;
    return NSLM_OK;
  case NSLM_ACT_RELU: /* the subgradient 0 at 0, as PyTorch */
    for (i = 0; i < len; i++) x[i] = x[i] > 0.0 ? 1.0 : 0.0;
    return NSLM_OK;
  case NSLM_ACT_LEAKY_RELU:
    for (i = 0; i < len; i++) x[i] = x[i] > 0.0 ? 1.0 : a->c;
    return NSLM_OK;
  case NSLM_ACT_POLY: {
    int k = (int)a->k;
    for (i = 0; i < len; i++) {
      double b = x[i], p = 1.0;
      for (int e = 0; e < k - 1; e++) p *= b;
      x[i] = a->c * k * p;
    }
    return NSLM_OK;
  }
  case NSLM_ACT_SIGMOID:
    for (i = 0; i < len; i++) {
      double v = x[i], s;
      if (v >= 0) s = 1.0 / (1.0 + exp(-v));
      else { double e = exp(v); s = e / (1.0 + e); }
      x[i] = s * (1.0 - s);
    }
    return NSLM_OK;
  case NSLM_ACT_TANH:
    for (i = 0; i < len; i++) { double t = tanh(x[i]); x[i] = 1.0 - t * t; }
    return NSLM_OK;
  case NSLM_ACT_CALLBACK:
    if (a->df == NULL)
      return NSLMI_FAIL(NSLM_ERR_UNSUPPORTED, "activation callback has no derivative");
    if (a->df(x, len, a->user) != 0) return NSLMI_FAIL(NSLM_ERR_CALLBACK, "derivative callback failed");
    return NSLM_OK;
  }
  return NSLMI_FAIL(NSLM_ERR_INVALID, "unknown activation %d", a->kind);
}
