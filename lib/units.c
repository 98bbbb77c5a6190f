/* units.c - hidden units: which are active, the block predicates of
 * Definition 3 and the permutations of Lemma 3. */
#include <string.h>

#include "alloc.h"
#include "params.h"
#include "status.h"
#include "units.h"

size_t nslmi_units_total(size_t depth, const size_t *widths) {
  size_t t = 0;
  for (size_t j = 1; j <= depth; j++) t += widths[j];
  return t;
}

size_t nslmi_units_offset(const size_t *widths, size_t j) {
  size_t t = 0;
  for (size_t i = 1; i < j; i++) t += widths[i];
  return t;
}

size_t nslmi_col_support(const nslm_params *theta, size_t j, unsigned char *mask) {
  size_t rows = theta->widths[j + 1], cols = theta->widths[j], count = 0;
  memset(mask, 0, cols);
  const double *w = theta->w[j];
  for (size_t r = 0; r < rows; r++)
    for (size_t c = 0; c < cols; c++)
      if (w[r * cols + c] != 0.0) mask[c] = 1;
  for (size_t c = 0; c < cols; c++) count += mask[c];
  return count;
}

size_t nslmi_active_units(const nslm_params *theta, size_t j, unsigned char *mask) {
  size_t p = theta->widths[j], in = theta->widths[j - 1], out = theta->widths[j + 1];
  const double *prev = theta->w[j - 1], *next = theta->w[j];
  unsigned char stack[256], *m = mask;
  if (m == NULL) m = p <= sizeof stack ? stack : nslmi_malloc(p);
  if (m == NULL) { /* no scratch: the slow way, one unit at a time */
    size_t count = 0;
    for (size_t k = 0; k < p; k++) {
      int act = 0;
      for (size_t c = 0; c < in && !act; c++) act = prev[k * in + c] != 0.0;
      for (size_t r = 0; r < out && !act; r++) act = next[r * p + k] != 0.0;
      count += (size_t)act;
    }
    return count;
  }
  /* Row supports of Theta^(j-1), then the column support of Theta^j by
   * one sequential pass over its rows (no strided column walks). */
  for (size_t k = 0; k < p; k++) {
    unsigned char act = 0;
    for (size_t c = 0; c < in && !act; c++) act = prev[k * in + c] != 0.0;
    m[k] = act;
  }
  for (size_t r = 0; r < out; r++) {
    const double *row = next + r * p;
    for (size_t k = 0; k < p; k++) m[k] |= row[k] != 0.0;
  }
  size_t count = 0;
  for (size_t k = 0; k < p; k++) count += m[k];
  if (mask == NULL && m != stack) nslmi_free(m);
  return count;
}

int nslm_params_active_units(const nslm_params *theta, size_t j, unsigned char *mask,
                             size_t len, size_t *count) {
  NSLMI_CHECK_NULL(theta);
  if (j < 1 || j > theta->depth)
    return NSLMI_FAIL(NSLM_ERR_RANGE, "hidden layer %zu outside 1..%zu", j, theta->depth);
  if (mask == NULL && len != 0) return NSLMI_FAIL(NSLM_ERR_INVALID, "mask is NULL but len = %zu", len);
  if (mask != NULL && len != theta->widths[j])
    return NSLMI_FAIL(NSLM_ERR_DIMENSION, "mask length %zu, expected p_%zu = %zu", len, j,
                      theta->widths[j]);
  size_t c = nslmi_active_units(theta, j, mask);
  if (count) *count = c;
  return NSLM_OK;
}

/* 1 if every active unit lies in the concatenated mask. */
static int inside(const nslm_params *theta, const unsigned char *keep) {
  size_t off = 0;
  for (size_t j = 1; j <= theta->depth; j++) {
    size_t p = theta->widths[j], in = theta->widths[j - 1], out = theta->widths[j + 1];
    const double *prev = theta->w[j - 1], *next = theta->w[j];
    for (size_t k = 0; k < p; k++) {
      if (keep[off + k]) continue;
      for (size_t c = 0; c < in; c++)
        if (prev[k * in + c] != 0.0) return 0;
      for (size_t r = 0; r < out; r++)
        if (next[r * p + k] != 0.0) return 0;
    }
    off += p;
  }
  return 1;
}

static int block_pred(const nslm_params *theta, size_t s, int upper, int *result,
                      const char *func) {
  if (theta == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "theta is NULL");
  if (result == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "result is NULL");
  size_t total = nslmi_units_total(theta->depth, theta->widths);
  unsigned char *keep = nslmi_malloc(total ? total : 1);
  if (keep == NULL) return nslmi_fail(NSLM_ERR_NOMEM, func, "mask of %zu units", total);
  size_t off = 0;
  for (size_t j = 1; j <= theta->depth; j++) {
    size_t p = theta->widths[j];
    for (size_t k = 0; k < p; k++)
      keep[off + k] = (unsigned char)(upper ? k < s : k + s >= p); /* 0-based k */
    off += p;
  }
  *result = inside(theta, keep);
  nslmi_free(keep);
  return NSLM_OK;
}

int nslm_params_is_upper_block(const nslm_params *theta, size_t s, int *result) {
  return block_pred(theta, s, 1, result, __func__);
}

int nslm_params_is_lower_block(const nslm_params *theta, size_t s, int *result) {
  return block_pred(theta, s, 0, result, __func__);
}

int nslm_params_is_block(const nslm_params *theta, const unsigned char *mask, size_t len,
                         int *result) {
  NSLMI_CHECK_NULL(theta);
  NSLMI_CHECK_NULL(mask);
  NSLMI_CHECK_NULL(result);
  size_t total = nslmi_units_total(theta->depth, theta->widths);
  if (len != total)
    return NSLMI_FAIL(NSLM_ERR_DIMENSION, "mask length %zu, expected p_1 + ... + p_l = %zu", len, total);
  *result = inside(theta, mask);
  return NSLM_OK;
}

int nslm_params_permute_units(nslm_params *out, const nslm_params *theta, const size_t *perm,
                              size_t len) {
  NSLMI_CHECK_NULL(out);
  NSLMI_CHECK_NULL(theta);
  NSLMI_CHECK_NULL(perm);
  if (!nslmi_params_same_shape(out, theta))
    return NSLMI_FAIL(NSLM_ERR_DIMENSION, "out and theta have different widths");
  size_t total = nslmi_units_total(theta->depth, theta->widths);
  if (len != total)
    return NSLMI_FAIL(NSLM_ERR_DIMENSION, "perm length %zu, expected p_1 + ... + p_l = %zu", len, total);
  /* Validate every layer's permutation before touching out. */
  size_t maxp = 0;
  for (size_t j = 1; j <= theta->depth; j++)
    if (theta->widths[j] > maxp) maxp = theta->widths[j];
  unsigned char *seen = nslmi_malloc(maxp);
  if (seen == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "permutation check");
  size_t off = 0;
  for (size_t j = 1; j <= theta->depth; j++) {
    size_t p = theta->widths[j];
    memset(seen, 0, p);
    for (size_t k = 0; k < p; k++) {
      size_t v = perm[off + k];
      if (v >= p || seen[v]) {
        nslmi_free(seen);
        return NSLMI_FAIL(NSLM_ERR_DOMAIN, "perm of hidden layer %zu is not a permutation of 0..%zu (entry %zu = %zu)",
                          j, p - 1, k, v);
      }
      seen[v] = 1;
    }
    off += p;
  }
  nslmi_free(seen);
  /* Work layer by layer into scratch so that out may alias theta. */
  size_t maxsz = 0;
  for (size_t j = 0; j <= theta->depth; j++) {
    size_t sz = nslmi_params_layer_size(theta, j);
    if (sz > maxsz) maxsz = sz;
  }
  double *tmp = nslmi_malloc_array(maxsz ? maxsz : 1, sizeof *tmp);
  if (tmp == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "permutation scratch");
  for (size_t j = 0; j <= theta->depth; j++) {
    size_t rows = theta->widths[j + 1], cols = theta->widths[j];
    const size_t *pr = j + 1 <= theta->depth ? perm + nslmi_units_offset(theta->widths, j + 1) : NULL;
    const size_t *pc = j >= 1 ? perm + nslmi_units_offset(theta->widths, j) : NULL;
    const double *src = theta->w[j];
    for (size_t u = 0; u < rows; u++) {
      size_t su = pr ? pr[u] : u;
      for (size_t v = 0; v < cols; v++) tmp[u * cols + v] = src[su * cols + (pc ? pc[v] : v)];
    }
    memcpy(out->w[j], tmp, rows * cols * sizeof *tmp);
  }
  nslmi_free(tmp);
  return NSLM_OK;
}
