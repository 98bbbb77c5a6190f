/* path.c - path objects: knots that store only their changed layers,
 * segment kinds and layer masks, points along the path. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "data.h"
#include "loss.h"
#include "matrix.h"
#include "net.h"
#include "params.h"
#include "path.h"
#include "status.h"

/* ------------------------------------------------------------ internals */

static size_t nl(const nslm_path *p) { return p->depth + 1; }

static size_t layer_size(const nslm_path *p, size_t j) { return p->widths[j + 1] * p->widths[j]; }

static int valid_kind(int kind) {
  return kind == NSLM_SEG_GENERAL || kind == NSLM_SEG_CONSTANT || kind == NSLM_SEG_CONVEX;
}

int nslmi_path_create_widths(nslm_path **out, size_t depth, const size_t *widths) {
  *out = NULL;
  nslm_path *p = nslmi_calloc(1, sizeof *p);
  if (p == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "path");
  p->depth = depth;
  p->widths = nslmi_malloc_array(depth + 2, sizeof *p->widths);
  if (p->widths == NULL) {
    nslmi_free(p);
    return NSLMI_FAIL(NSLM_ERR_NOMEM, "path widths");
  }
  memcpy(p->widths, widths, (depth + 2) * sizeof *widths);
  *out = p;
  return NSLM_OK;
}

void nslm_path_destroy(nslm_path *path) {
  if (path == NULL) return;
  size_t L = nl(path);
  for (size_t k = 0; k < path->nknots; k++)
    for (size_t j = 0; j < L; j++)
      if (path->own[k * L + j]) nslmi_free(path->layer[k * L + j]);
  nslmi_free(path->layer);
  nslmi_free(path->own);
  nslmi_free(path->kind);
  nslmi_free(path->widths);
  nslmi_free(path);
}

/* Room for one more knot; the path is unchanged on failure. */
static int reserve(nslm_path *p) {
  if (p->nknots < p->cap) return NSLM_OK;
  size_t L = nl(p);
  size_t cap = p->cap ? 2 * p->cap : 4;
  int ok;
  size_t cells = nslmi_mul_size(cap, L, &ok);
  if (!ok || cells > SIZE_MAX / sizeof(double *)) return NSLMI_FAIL(NSLM_ERR_NOMEM, "path of %zu knots", cap);
  /* Three reallocations: each success leaves a valid (larger) array, so a
   * later failure needs no undo. */
  double **layer = nslmi_realloc(p->layer, cells * sizeof *layer);
  if (layer == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "path knot table");
  p->layer = layer;
  unsigned char *own = nslmi_realloc(p->own, cells);
  if (own == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "path knot table");
  p->own = own;
  int *kind = nslmi_realloc(p->kind, cap * sizeof *kind);
  if (kind == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "path kinds");
  p->kind = kind;
  p->cap = cap;
  return NSLM_OK;
}

/* dst = src (len doubles); 0 if an entry is NaN or Inf.  One pass: the
 * knots of the construction are copies of 100 MB layers. */
static int copy_finite(double *dst, const double *src, size_t len) {
  int bad = 0;
  for (size_t i = 0; i < len; i++) {
    double v = src[i];
    dst[i] = v;
    bad |= !(fabs(v) <= DBL_MAX);
  }
  return !bad;
}

int nslmi_path_push(nslm_path *path, const double *const *layers, const unsigned char *given,
                    int kind, int compare) {
  size_t L = nl(path), k = path->nknots;
  /* Validate first (finiteness while copying below: a layer equal to the
   * previous knot's is finite already). */
  for (size_t j = 0; j < L; j++) {
    int g = given == NULL || given[j];
    if (k == 0 && !g) return NSLMI_FAIL(NSLM_ERR_INVALID, "the first knot needs every layer");
    if (!g) continue;
    if (layers[j] == NULL) return NSLMI_FAIL(NSLM_ERR_INVALID, "layer %zu is NULL", j);
  }
  int st = reserve(path);
  if (st) return st;
  double *fresh[L];
  unsigned char store[L];
  size_t added = 0;
  for (size_t j = 0; j < L; j++) {
    fresh[j] = NULL;
    int g = given == NULL || given[j];
    store[j] = 0;
    if (!g) continue;
    size_t sz = layer_size(path, j);
    if (k > 0 && compare) {
      const double *prev = path->layer[(k - 1) * L + j];
      size_t i = 0;
      while (i < sz && prev[i] == layers[j][i]) i++;
      if (i == sz) continue; /* unchanged: alias */
    }
    store[j] = 1;
  }
  for (size_t j = 0; j < L; j++) {
    if (!store[j]) continue;
    size_t sz = layer_size(path, j);
    fresh[j] = nslmi_malloc_array(sz, sizeof(double));
    if (fresh[j] == NULL || !copy_finite(fresh[j], layers[j], sz)) {
      int nomem = fresh[j] == NULL;
      for (size_t i = 0; i <= j; i++) nslmi_free(fresh[i]);
      if (nomem) return NSLMI_FAIL(NSLM_ERR_NOMEM, "knot %zu layer %zu", k, j);
      return NSLMI_FAIL(NSLM_ERR_NONFINITE, "layer %zu has a NaN or Inf entry", j);
    }
    added += sz;
  }
  for (size_t j = 0; j < L; j++) {
    path->own[k * L + j] = store[j];
    path->layer[k * L + j] = store[j] ? fresh[j] : path->layer[(k - 1) * L + j];
  }
  if (k > 0) path->kind[k - 1] = kind;
  path->nknots = k + 1;
  path->stored += added;
  return NSLM_OK;
}

int nslmi_path_append_layers(nslm_path *path, const double *const *layers,
                             const unsigned char *changed, int kind) {
  NSLMI_CHECK_NULL(path);
  NSLMI_CHECK_NULL(layers);
  NSLMI_CHECK_NULL(changed);
  if (!valid_kind(kind)) return NSLMI_FAIL(NSLM_ERR_INVALID, "unknown segment kind %d", kind);
  if (path->nknots == 0) return NSLMI_FAIL(NSLM_ERR_INVALID, "path has no knot");
  return nslmi_path_push(path, layers, changed, kind, 1);
}

int nslmi_path_append_owned(nslm_path *path, double **layer, size_t j, int kind) {
  NSLMI_CHECK_NULL(path);
  NSLMI_CHECK_NULL(layer);
  if (*layer == NULL) return NSLMI_FAIL(NSLM_ERR_INVALID, "layer %zu is NULL", j);
  if (!valid_kind(kind)) return NSLMI_FAIL(NSLM_ERR_INVALID, "unknown segment kind %d", kind);
  size_t L = nl(path), k = path->nknots;
  if (k == 0) return NSLMI_FAIL(NSLM_ERR_INVALID, "path has no knot");
  if (j >= L) return NSLMI_FAIL(NSLM_ERR_INVALID, "layer %zu of %zu", j, L);
  size_t sz = layer_size(path, j);
  const double *x = *layer, *prev = path->layer[(k - 1) * L + j];
  int bad = 0;
  for (size_t i = 0; i < sz; i++) bad |= !(fabs(x[i]) <= DBL_MAX);
  if (bad) return NSLMI_FAIL(NSLM_ERR_NONFINITE, "layer %zu has a NaN or Inf entry", j);
  int st = reserve(path);
  if (st) return st;
  size_t i = 0;
  while (i < sz && prev[i] == x[i]) i++;
  int store = i < sz;
  for (size_t c = 0; c < L; c++) {
    path->own[k * L + c] = c == j && store;
    path->layer[k * L + c] = path->layer[(k - 1) * L + c];
  }
  if (store) {
    path->layer[k * L + j] = *layer;
    path->stored += sz;
  } else {
    nslmi_free(*layer); /* unchanged: alias the previous knot's */
  }
  *layer = NULL;
  path->kind[k - 1] = kind;
  path->nknots = k + 1;
  return NSLM_OK;
}

const double *nslmi_path_layer(const nslm_path *path, size_t k, size_t j) {
  return path->layer[k * nl(path) + j];
}

int nslmi_path_changed(const nslm_path *path, size_t s, size_t j) {
  return path->own[(s + 1) * nl(path) + j];
}

void nslmi_path_knot_view(const nslm_path *path, size_t k, nslm_params *view) {
  view->depth = path->depth;
  view->widths = path->widths;
  view->w = path->layer + k * nl(path);
}

void nslmi_path_locate(const nslm_path *path, double t, size_t *s, double *u) {
  size_t S = path->nknots - 1;
  if (!(t > 0.0)) {
    *s = 0;
    *u = 0.0;
    return;
  }
  if (t >= 1.0) {
    *s = S - 1;
    *u = 1.0;
    return;
  }
  double x = t * (double)S;
  double f = floor(x);
  size_t i = (size_t)f;
  if (i >= S) i = S - 1;
  double v = x - (double)i;
  if (v < 0.0) v = 0.0;
  if (v > 1.0) v = 1.0;
  *s = i;
  *u = v;
}

void nslmi_path_point_at(const nslm_path *path, size_t s, double u, nslm_params *out) {
  for (size_t j = 0; j <= path->depth; j++) {
    size_t sz = layer_size(path, j);
    const double *a = nslmi_path_layer(path, s, j);
    double *o = out->w[j];
    if (!nslmi_path_changed(path, s, j) || u == 0.0) {
      memcpy(o, a, sz * sizeof(double));
      continue;
    }
    const double *b = nslmi_path_layer(path, s + 1, j);
    if (u == 1.0) {
      memcpy(o, b, sz * sizeof(double));
      continue;
    }
    /* (1-u) a + u b: exact at both ends, unlike a + u (b - a). */
    for (size_t i = 0; i < sz; i++) o[i] = (1.0 - u) * a[i] + u * b[i];
  }
}

int nslmi_path_check_problem(const nslm_path *path, const nslm_net *net, const nslm_data *data,
                             const nslm_loss *loss, const char *func) {
  if (path == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "path is NULL");
  if (net == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "net is NULL");
  if (data == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "data is NULL");
  if (loss == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "loss is NULL");
  if (net->depth != path->depth ||
      memcmp(net->widths, path->widths, (path->depth + 2) * sizeof *path->widths) != 0)
    return nslmi_fail(NSLM_ERR_DIMENSION, func, "the net's widths differ from the path's");
  if (data->d != path->widths[0] || data->m != path->widths[path->depth + 1])
    return nslmi_fail(NSLM_ERR_DIMENSION, func, "data is n x (%zu + %zu), the net needs d = %zu, m = %zu",
                      data->d, data->m, path->widths[0], path->widths[path->depth + 1]);
  return NSLM_OK;
}

int nslmi_fail_as(int st, const char *func) {
  char detail[512];
  size_t need;
  if (nslm_last_error_copy(detail, sizeof detail, &need) != NSLM_OK) detail[0] = '\0';
  size_t fl = strlen(func);
  if (strncmp(detail, func, fl) == 0 && detail[fl] == ':') return st; /* already named */
  return nslmi_fail(st, func, "%s", detail);
}

/* ------------------------------------------------------------ public API */

int nslm_path_create(nslm_path **out, const nslm_net *net, const nslm_params *start) {
  NSLMI_CHECK_NULL(out);
  *out = NULL;
  NSLMI_CHECK_NULL(net);
  NSLMI_CHECK_NULL(start);
  if (!nslmi_params_match_net(start, net))
    return NSLMI_FAIL(NSLM_ERR_DIMENSION, "start's widths differ from the net's");
  nslm_path *p;
  int st = nslmi_path_create_widths(&p, net->depth, net->widths);
  if (st) return st;
  st = nslmi_path_push(p, (const double *const *)start->w, NULL, 0, 0);
  if (st) {
    nslm_path_destroy(p);
    return st;
  }
  *out = p;
  return NSLM_OK;
}

int nslm_path_append(nslm_path *path, const nslm_params *knot, int kind) {
  NSLMI_CHECK_NULL(path);
  NSLMI_CHECK_NULL(knot);
  if (!valid_kind(kind)) return NSLMI_FAIL(NSLM_ERR_INVALID, "unknown segment kind %d", kind);
  if (path->nknots == 0) return NSLMI_FAIL(NSLM_ERR_INVALID, "path has no knot");
  if (knot->depth != path->depth ||
      memcmp(knot->widths, path->widths, (path->depth + 2) * sizeof *path->widths) != 0)
    return NSLMI_FAIL(NSLM_ERR_DIMENSION, "knot's widths differ from the path's");
  return nslmi_path_push(path, (const double *const *)knot->w, NULL, kind, 1);
}

static int knots_equal(const nslm_path *a, size_t ka, const nslm_path *b, size_t kb) {
  for (size_t j = 0; j <= a->depth; j++) {
    const double *x = nslmi_path_layer(a, ka, j), *y = nslmi_path_layer(b, kb, j);
    if (x == y) continue;
    size_t sz = layer_size(a, j);
    for (size_t i = 0; i < sz; i++)
      if (x[i] != y[i]) return 0;
  }
  return 1;
}

static int same_widths(const nslm_path *a, const nslm_path *b) {
  return a->depth == b->depth &&
         memcmp(a->widths, b->widths, (a->depth + 2) * sizeof *a->widths) == 0;
}

/* Appends knots first..last of src to dst with src's masks and kinds,
 * undoing everything on failure. */
static int append_range(nslm_path *dst, const nslm_path *src, size_t first, size_t last) {
  size_t k0 = dst->nknots, stored0 = dst->stored;
  size_t L = nl(src);
  for (size_t k = first; k <= last; k++) {
    const double *layers[L];
    unsigned char given[L];
    for (size_t j = 0; j < L; j++) {
      layers[j] = nslmi_path_layer(src, k, j);
      given[j] = k == 0 ? 1 : src->own[k * L + j];
    }
    int st = nslmi_path_push(dst, layers, given, k > 0 ? src->kind[k - 1] : 0, 0);
    if (st) {
      for (size_t kk = k0; kk < dst->nknots; kk++)
        for (size_t j = 0; j < L; j++)
          if (dst->own[kk * L + j]) nslmi_free(dst->layer[kk * L + j]);
      dst->nknots = k0;
      dst->stored = stored0;
      return st;
    }
  }
  return NSLM_OK;
}

int nslm_path_extend(nslm_path *path, const nslm_path *src) {
  NSLMI_CHECK_NULL(path);
  NSLMI_CHECK_NULL(src);
  if (!same_widths(path, src)) return NSLMI_FAIL(NSLM_ERR_DIMENSION, "src's widths differ from the path's");
  if (path->nknots == 0 || src->nknots == 0) return NSLMI_FAIL(NSLM_ERR_INVALID, "a path has no knot");
  if (!knots_equal(path, path->nknots - 1, src, 0))
    return NSLMI_FAIL(NSLM_ERR_INVALID, "src's first knot differs from the path's last knot");
  if (src->nknots == 1) return NSLM_OK;
  int was_empty = path->nknots == 1;
  if (path == src) {
    /* Extending a path by itself: append from a snapshot of the count. */
    nslm_path *copy;
    int st = nslm_path_clone(&copy, src);
    if (st) return st;
    st = nslm_path_extend(path, copy);
    nslm_path_destroy(copy);
    return st;
  }
  int st = append_range(path, src, 1, src->nknots - 1);
  if (st) return st;
  path->nonincreasing = was_empty ? src->nonincreasing : (path->nonincreasing && src->nonincreasing);
  return NSLM_OK;
}

int nslm_path_clone(nslm_path **out, const nslm_path *src) {
  NSLMI_CHECK_NULL(out);
  *out = NULL;
  NSLMI_CHECK_NULL(src);
  nslm_path *p;
  int st = nslmi_path_create_widths(&p, src->depth, src->widths);
  if (st) return st;
  if (src->nknots > 0) {
    st = append_range(p, src, 0, src->nknots - 1);
    if (st) {
      nslm_path_destroy(p);
      return st;
    }
  }
  p->nonincreasing = src->nonincreasing;
  *out = p;
  return NSLM_OK;
}

int nslm_path_reverse(nslm_path **out, const nslm_path *src) {
  NSLMI_CHECK_NULL(out);
  *out = NULL;
  NSLMI_CHECK_NULL(src);
  nslm_path *p;
  int st = nslmi_path_create_widths(&p, src->depth, src->widths);
  if (st) return st;
  size_t L = nl(src), N = src->nknots;
  for (size_t i = 0; i < N; i++) {
    size_t k = N - 1 - i; /* source knot */
    const double *layers[L];
    unsigned char given[L];
    for (size_t j = 0; j < L; j++) {
      layers[j] = nslmi_path_layer(src, k, j);
      /* New segment i-1 joins source knots k+1 -> k: same layer mask as
       * source segment k. */
      given[j] = i == 0 ? 1 : src->own[(k + 1) * L + j];
    }
    st = nslmi_path_push(p, layers, given, i > 0 ? src->kind[k] : 0, 0);
    if (st) {
      nslm_path_destroy(p);
      return st;
    }
  }
  /* A nonincreasing risk read backwards is nondecreasing: no claim. */
  p->nonincreasing = 0;
  *out = p;
  return NSLM_OK;
}

size_t nslm_path_num_knots(const nslm_path *path) { return path ? path->nknots : 0; }

size_t nslm_path_num_segments(const nslm_path *path) {
  return path && path->nknots > 0 ? path->nknots - 1 : 0;
}

size_t nslm_path_stored_values(const nslm_path *path) { return path ? path->stored : 0; }

int nslm_path_get_knot(const nslm_path *path, size_t i, nslm_params *out) {
  NSLMI_CHECK_NULL(path);
  NSLMI_CHECK_NULL(out);
  if (i >= path->nknots) return NSLMI_FAIL(NSLM_ERR_RANGE, "knot %zu outside 0..%zu", i, path->nknots - 1);
  if (out->depth != path->depth ||
      memcmp(out->widths, path->widths, (path->depth + 2) * sizeof *path->widths) != 0)
    return NSLMI_FAIL(NSLM_ERR_DIMENSION, "out's widths differ from the path's");
  for (size_t j = 0; j <= path->depth; j++)
    memcpy(out->w[j], nslmi_path_layer(path, i, j), layer_size(path, j) * sizeof(double));
  return NSLM_OK;
}

static int check_segment(const nslm_path *path, size_t s, const char *func) {
  if (path == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "path is NULL");
  if (path->nknots < 2 || s >= path->nknots - 1)
    return nslmi_fail(NSLM_ERR_RANGE, func, "segment %zu outside the path's %zu segments", s,
                      path->nknots ? path->nknots - 1 : 0);
  return NSLM_OK;
}

int nslm_path_segment_kind(const nslm_path *path, size_t s, int *kind) {
  int st = check_segment(path, s, __func__);
  if (st) return st;
  NSLMI_CHECK_NULL(kind);
  *kind = path->kind[s];
  return NSLM_OK;
}

int nslm_path_segment_layers(const nslm_path *path, size_t s, unsigned char *mask, size_t len) {
  int st = check_segment(path, s, __func__);
  if (st) return st;
  NSLMI_CHECK_NULL(mask);
  if (len != nl(path)) return NSLMI_FAIL(NSLM_ERR_DIMENSION, "mask length %zu, expected %zu", len, nl(path));
  for (size_t j = 0; j < len; j++) mask[j] = (unsigned char)nslmi_path_changed(path, s, j);
  return NSLM_OK;
}

int nslm_path_set_segment_kind(nslm_path *path, size_t s, int kind) {
  int st = check_segment(path, s, __func__);
  if (st) return st;
  if (!valid_kind(kind)) return NSLMI_FAIL(NSLM_ERR_INVALID, "unknown segment kind %d", kind);
  path->kind[s] = kind;
  return NSLM_OK;
}

int nslm_path_set_nonincreasing(nslm_path *path, int claim) {
  NSLMI_CHECK_NULL(path);
  if (claim != 0 && claim != 1) return NSLMI_FAIL(NSLM_ERR_INVALID, "claim must be 0 or 1, not %d", claim);
  path->nonincreasing = claim;
  return NSLM_OK;
}

int nslm_path_get_nonincreasing(const nslm_path *path, int *claim) {
  NSLMI_CHECK_NULL(path);
  NSLMI_CHECK_NULL(claim);
  *claim = path->nonincreasing;
  return NSLM_OK;
}

int nslm_path_point(const nslm_path *path, double t, nslm_params *out) {
  NSLMI_CHECK_NULL(path);
  NSLMI_CHECK_NULL(out);
  if (!isfinite(t)) return NSLMI_FAIL(NSLM_ERR_NONFINITE, "t is not finite");
  if (t < 0.0 || t > 1.0) return NSLMI_FAIL(NSLM_ERR_DOMAIN, "t = %g outside [0, 1]", t);
  if (out->depth != path->depth ||
      memcmp(out->widths, path->widths, (path->depth + 2) * sizeof *path->widths) != 0)
    return NSLMI_FAIL(NSLM_ERR_DIMENSION, "out's widths differ from the path's");
  if (path->nknots == 1) return nslm_path_get_knot(path, 0, out);
  size_t s;
  double u;
  nslmi_path_locate(path, t, &s, &u);
  nslmi_path_point_at(path, s, u, out);
  return NSLM_OK;
}
