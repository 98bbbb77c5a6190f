/* params.c - parameter sets Theta = (Theta^0 .. Theta^l). */
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "forward.h" /* nslmi_check_out_strides */
#include "matrix.h"
#include "net.h"
#include "params.h"
#include "rng.h"
#include "status.h"

size_t nslmi_params_layer_size(const nslm_params *theta, size_t j) {
  return theta->widths[j + 1] * theta->widths[j];
}

int nslmi_params_create_widths(nslm_params **out, size_t depth, const size_t *widths) {
  *out = NULL;
  nslm_params *p = nslmi_calloc(1, sizeof *p);
  if (p == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "params");
  p->depth = depth;
  p->widths = nslmi_malloc_array(depth + 2, sizeof *p->widths);
  p->w = nslmi_calloc(depth + 1, sizeof *p->w);
  if (p->widths == NULL || p->w == NULL) {
    nslm_params_destroy(p);
    return NSLMI_FAIL(NSLM_ERR_NOMEM, "params layers");
  }
  memcpy(p->widths, widths, (depth + 2) * sizeof *widths);
  for (size_t j = 0; j <= depth; j++) {
    int ok;
    size_t sz = nslmi_mul_size(widths[j + 1], widths[j], &ok);
    p->w[j] = ok ? nslmi_calloc(sz, sizeof(double)) : NULL;
    if (p->w[j] == NULL) {
      nslm_params_destroy(p);
      return NSLMI_FAIL(NSLM_ERR_NOMEM, "layer %zu (%zu x %zu)", j, widths[j + 1], widths[j]);
    }
  }
  *out = p;
  return NSLM_OK;
}

int nslm_params_create(nslm_params **out, const nslm_net *net) {
  NSLMI_CHECK_NULL(out);
  *out = NULL;
  NSLMI_CHECK_NULL(net);
  return nslmi_params_create_widths(out, net->depth, net->widths);
}

void nslm_params_destroy(nslm_params *theta) {
  if (theta == NULL) return;
  if (theta->w)
    for (size_t j = 0; j <= theta->depth; j++) nslmi_free(theta->w[j]);
  nslmi_free(theta->w);
  nslmi_free(theta->widths);
  nslmi_free(theta);
}

int nslmi_params_match_net(const nslm_params *theta, const nslm_net *net) {
  if (theta->depth != net->depth) return 0;
  return memcmp(theta->widths, net->widths, (net->depth + 2) * sizeof *net->widths) == 0;
}

int nslmi_params_same_shape(const nslm_params *a, const nslm_params *b) {
  if (a->depth != b->depth) return 0;
  return memcmp(a->widths, b->widths, (a->depth + 2) * sizeof *a->widths) == 0;
}

int nslm_params_clone(nslm_params **out, const nslm_params *src) {
  NSLMI_CHECK_NULL(out);
  *out = NULL;
  NSLMI_CHECK_NULL(src);
  nslm_params *p;
  int st = nslmi_params_create_widths(&p, src->depth, src->widths);
  if (st) return st;
  for (size_t j = 0; j <= src->depth; j++)
    memcpy(p->w[j], src->w[j], nslmi_params_layer_size(src, j) * sizeof(double));
  *out = p;
  return NSLM_OK;
}

int nslm_params_assign(nslm_params *dst, const nslm_params *src) {
  NSLMI_CHECK_NULL(dst);
  NSLMI_CHECK_NULL(src);
  if (!nslmi_params_same_shape(dst, src)) return NSLMI_FAIL(NSLM_ERR_DIMENSION, "widths differ");
  if (dst == src) return NSLM_OK;
  for (size_t j = 0; j <= src->depth; j++)
    memcpy(dst->w[j], src->w[j], nslmi_params_layer_size(src, j) * sizeof(double));
  return NSLM_OK;
}

size_t nslm_params_depth(const nslm_params *theta) { return theta ? theta->depth : 0; }

int nslm_params_layer_shape(const nslm_params *theta, size_t j, size_t *rows, size_t *cols) {
  NSLMI_CHECK_NULL(theta);
  NSLMI_CHECK_NULL(rows);
  NSLMI_CHECK_NULL(cols);
  if (j > theta->depth) return NSLMI_FAIL(NSLM_ERR_RANGE, "layer %zu outside 0..%zu", j, theta->depth);
  *rows = theta->widths[j + 1];
  *cols = theta->widths[j];
  return NSLM_OK;
}

static int check_layer_io(const nslm_params *theta, size_t j, size_t rows, size_t cols,
                          const void *a, const char *func) {
  if (theta == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "theta is NULL");
  if (a == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "matrix pointer is NULL");
  if (j > theta->depth) return nslmi_fail(NSLM_ERR_RANGE, func, "layer %zu outside 0..%zu", j, theta->depth);
  if (rows != theta->widths[j + 1] || cols != theta->widths[j])
    return nslmi_fail(NSLM_ERR_DIMENSION, func, "layer %zu is %zu x %zu, not %zu x %zu", j,
                      theta->widths[j + 1], theta->widths[j], rows, cols);
  return NSLM_OK;
}

int nslm_params_set_layer(nslm_params *theta, size_t j, size_t rows, size_t cols,
                          const double *a, ptrdiff_t rs, ptrdiff_t cs) {
  int st = check_layer_io(theta, j, rows, cols, a, __func__);
  if (st) return st;
  if (!nslmi_all_finite(rows, cols, a, rs, cs))
    return NSLMI_FAIL(NSLM_ERR_NONFINITE, "layer %zu has a NaN or Inf entry", j);
  nslmi_copy_in(rows, cols, a, rs, cs, theta->w[j]);
  return NSLM_OK;
}

int nslm_params_get_layer(const nslm_params *theta, size_t j, size_t rows, size_t cols,
                          double *a, ptrdiff_t rs, ptrdiff_t cs) {
  int st = check_layer_io(theta, j, rows, cols, a, __func__);
  if (st) return st;
  st = nslmi_check_out_strides(__func__, "a", rows, cols, rs, cs);
  if (st) return st;
  nslmi_copy_out(rows, cols, theta->w[j], a, rs, cs);
  return NSLM_OK;
}

int nslm_params_init_random(nslm_params *theta, uint64_t seed, int dist, double scale) {
  NSLMI_CHECK_NULL(theta);
  if (dist != NSLM_INIT_UNIFORM && dist != NSLM_INIT_NORMAL)
    return NSLMI_FAIL(NSLM_ERR_INVALID, "unknown distribution %d", dist);
  if (!isfinite(scale)) return NSLMI_FAIL(NSLM_ERR_NONFINITE, "scale is not finite");
  if (scale < 0) return NSLMI_FAIL(NSLM_ERR_DOMAIN, "scale %g is negative", scale);
  nslmi_rng rng;
  nslmi_rng_seed(&rng, seed);
  for (size_t j = 0; j <= theta->depth; j++) {
    double s = scale / sqrt((double)theta->widths[j]);
    size_t sz = nslmi_params_layer_size(theta, j);
    for (size_t i = 0; i < sz; i++)
      theta->w[j][i] = dist == NSLM_INIT_UNIFORM ? s * (2.0 * nslmi_rng_uniform(&rng) - 1.0)
                                                 : s * nslmi_rng_normal(&rng);
  }
  return NSLM_OK;
}

int nslm_params_interpolate(nslm_params *out, const nslm_params *a, const nslm_params *b,
                            double t) {
  NSLMI_CHECK_NULL(out);
  NSLMI_CHECK_NULL(a);
  NSLMI_CHECK_NULL(b);
  if (!isfinite(t)) return NSLMI_FAIL(NSLM_ERR_NONFINITE, "t is not finite");
  if (!nslmi_params_same_shape(a, b) || !nslmi_params_same_shape(out, a))
    return NSLMI_FAIL(NSLM_ERR_DIMENSION, "widths differ");
  for (size_t j = 0; j <= a->depth; j++) {
    size_t sz = nslmi_params_layer_size(a, j);
    const double *x = a->w[j], *y = b->w[j];
    double *z = out->w[j];
    /* (1-t)x + t y is exact at both ends (unlike x + t (y - x)). */
    for (size_t i = 0; i < sz; i++) z[i] = (1.0 - t) * x[i] + t * y[i];
  }
  return NSLM_OK;
}

static int support(const nslm_params *theta, size_t j, unsigned char *mask, size_t len,
                   int by_row, const char *func) {
  if (theta == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "theta is NULL");
  if (mask == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "mask is NULL");
  if (j > theta->depth) return nslmi_fail(NSLM_ERR_RANGE, func, "layer %zu outside 0..%zu", j, theta->depth);
  size_t rows = theta->widths[j + 1], cols = theta->widths[j];
  size_t want = by_row ? rows : cols;
  if (len != want) return nslmi_fail(NSLM_ERR_DIMENSION, func, "mask length %zu, expected %zu", len, want);
  memset(mask, 0, len);
  const double *w = theta->w[j];
  for (size_t r = 0; r < rows; r++)
    for (size_t c = 0; c < cols; c++)
      if (w[r * cols + c] != 0.0) mask[by_row ? r : c] = 1;
  return NSLM_OK;
}

int nslm_params_row_support(const nslm_params *theta, size_t j, unsigned char *mask, size_t len) {
  return support(theta, j, mask, len, 1, __func__);
}

int nslm_params_col_support(const nslm_params *theta, size_t j, unsigned char *mask, size_t len) {
  return support(theta, j, mask, len, 0, __func__);
}

int nslm_params_equal(const nslm_params *a, const nslm_params *b) {
  if (a == NULL || b == NULL || !nslmi_params_same_shape(a, b)) return 0;
  for (size_t j = 0; j <= a->depth; j++)
    if (memcmp(a->w[j], b->w[j], nslmi_params_layer_size(a, j) * sizeof(double)) != 0) {
      /* memcmp distinguishes -0.0 from 0.0; compare values to be exact. */
      size_t sz = nslmi_params_layer_size(a, j);
      for (size_t i = 0; i < sz; i++)
        if (a->w[j][i] != b->w[j][i]) return 0;
    }
  return 1;
}

int nslm_net_create_for(nslm_net **out, const nslm_params *theta) {
  NSLMI_CHECK_NULL(out);
  *out = NULL;
  NSLMI_CHECK_NULL(theta);
  return nslm_net_create(out, theta->depth, theta->widths);
}
