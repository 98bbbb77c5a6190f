/* forward.c - batched forward evaluation: one BLIS gemm per layer over all
 * samples, A_{j+1} = f^{j+1}(Theta^j A_j), activation in place, no
 * per-sample loops.  The kept features (nslmi_forward) are samples-as-
 * columns; the ping-pong path of the public calls (nslmi_forward_to) stores
 * each intermediate layer in whichever order BLIS multiplies faster
 * (store_rows) and writes the last product straight into the caller's
 * buffer when BLIS accepts its strides. */
#include <stdint.h>
#include <string.h>

#include "alloc.h"
#include "blas.h"
#include "data.h"
#include "forward.h"
#include "matrix.h"
#include "net.h"
#include "params.h"
#include "status.h"

/* Products with fewer floating-point operations than this run on one
 * thread: below it, waking a thread team costs more than the second core
 * saves (BLIS 0.9, 2 cores: 64 x 256 x 8, 0.26 MFLOP, ~10 us on one
 * thread, no faster on two; 64 x 256 x 64, 2.1 MFLOP, ~44 us on one, ~33
 * on two). */
#ifndef NSLMI_SMALL_GEMM_FLOPS
#define NSLMI_SMALL_GEMM_FLOPS 1.0e6
#endif

size_t nslmi_gemm_threads(size_t nthreads, size_t m, size_t n, size_t k) {
  double flops = 2.0 * (double)m * (double)n * (double)k;
  return flops < NSLMI_SMALL_GEMM_FLOPS ? 1 : nthreads;
}

int nslmi_forward_check(const char *func, const nslm_net *net, const nslm_params *theta,
                        const nslm_data *data) {
  if (net == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "net is NULL");
  if (theta == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "theta is NULL");
  if (data == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "data is NULL");
  if (!nslmi_params_match_net(theta, net))
    return nslmi_fail(NSLM_ERR_DIMENSION, func,
                      "theta's widths (depth %zu) do not match the net's (depth %zu)",
                      theta->depth, net->depth);
  size_t l = net->depth;
  if (data->d != net->widths[0])
    return nslmi_fail(NSLM_ERR_DIMENSION, func, "data has d = %zu inputs, the net p_0 = %zu",
                      data->d, net->widths[0]);
  if (data->m != net->widths[l + 1])
    return nslmi_fail(NSLM_ERR_DIMENSION, func, "data has m = %zu outputs, the net p_%zu = %zu",
                      data->m, l + 1, net->widths[l + 1]);
  return NSLM_OK;
}

int nslmi_check_out_strides(const char *func, const char *name, size_t rows, size_t cols,
                            ptrdiff_t rs, ptrdiff_t cs) {
  /* Strides of unit dimensions are never used: ignore them. */
  size_t dim[2] = {rows, cols};
  ptrdiff_t st[2] = {rs, cs};
  size_t absst[2];
  for (int i = 0; i < 2; i++) {
    if (dim[i] > 1 && (st[i] == 0 || st[i] == PTRDIFF_MIN))
      return nslmi_fail(NSLM_ERR_INVALID, func, "%s: stride %td makes elements overlap", name,
                        st[i]);
    absst[i] = dim[i] > 1 ? (size_t)(st[i] < 0 ? -st[i] : st[i]) : 0;
  }
  /* Largest offset (dim-1)|stride| summed must fit a ptrdiff_t. */
  size_t span = 0;
  for (int i = 0; i < 2; i++) {
    if (dim[i] <= 1) continue;
    if (absst[i] > (size_t)PTRDIFF_MAX / (dim[i] - 1))
      return nslmi_fail(NSLM_ERR_INVALID, func, "%s: stride %td overflows", name, st[i]);
    size_t e = (dim[i] - 1) * absst[i];
    if (e > (size_t)PTRDIFF_MAX - span)
      return nslmi_fail(NSLM_ERR_INVALID, func, "%s: strides overflow", name);
    span += e;
  }
  if (rows > 1 && cols > 1) {
    /* Sufficient non-overlap condition: the larger stride steps over a
     * whole run of the smaller one. */
    int s = absst[0] <= absst[1] ? 0 : 1, b = 1 - s;
    if (absst[b] < absst[s] * dim[s])
      return nslmi_fail(NSLM_ERR_INVALID, func,
                        "%s: strides (%td, %td) make elements of a %zu x %zu matrix overlap",
                        name, rs, cs, rows, cols);
  }
  return NSLM_OK;
}

/* Can BLIS write an m x n result with strides (*rs, *cs) directly?  BLIS
 * 0.9 silently computes garbage with a negative stride (seen here) and
 * checks or mishandles a unit stride whose leading dimension is too small,
 * so only unit-stride layouts with a valid leading dimension go direct
 * (strides of unit dimensions are normalised); everything else is written
 * through a copy. */
static int blis_layout_ok(size_t m, size_t n, ptrdiff_t *rs, ptrdiff_t *cs) {
  ptrdiff_t r = *rs, c = *cs;
  if (m == 1 && n == 1) { r = 1; c = 1; }
  else if (m == 1) {
    if (c < 1) return 0;
    r = c == 1 ? (ptrdiff_t)n : 1;
  } else if (n == 1) {
    if (r < 1) return 0;
    c = r == 1 ? (ptrdiff_t)m : 1;
  } else if (!((c == 1 && r >= (ptrdiff_t)n) || (r == 1 && c >= (ptrdiff_t)m)))
    return 0;
  *rs = r;
  *cs = c;
  return 1;
}

/* dst (strided) := src (strided), rows x cols; the loop runs along the
 * destination's unit stride when it has one. */
static void copy_strided(size_t rows, size_t cols, const double *src, ptrdiff_t rss,
                         ptrdiff_t css, double *dst, ptrdiff_t rsd, ptrdiff_t csd) {
  if (rss == (ptrdiff_t)cols && css == 1 && rsd == (ptrdiff_t)cols && csd == 1) {
    memcpy(dst, src, rows * cols * sizeof *src);
  } else if (rsd == 1 && csd != 1) {
    for (size_t k = 0; k < cols; k++)
      for (size_t i = 0; i < rows; i++)
        dst[(ptrdiff_t)i + (ptrdiff_t)k * csd] = src[(ptrdiff_t)i * rss + (ptrdiff_t)k * css];
  } else {
    for (size_t i = 0; i < rows; i++)
      for (size_t k = 0; k < cols; k++)
        dst[(ptrdiff_t)i * rsd + (ptrdiff_t)k * csd] = src[(ptrdiff_t)i * rss + (ptrdiff_t)k * css];
  }
}

/* Storage of an intermediate A_{j+1} (p x n): samples-as-columns (the
 * features' layout, element (r, i) at r*n + i) or samples-as-rows (at
 * i*p + r).  Only speed depends on it, and BLIS 0.9's speed depends on it
 * a lot (zen3, one thread, C = Theta A as (p, n, k)): a narrow, wide-in-
 * samples matrix is much faster samples-as-rows, both as a result and as
 * the next product's input ((64, 256, 64): 44 us instead of 58; (32,
 * 4096, 32): 210 us instead of 520; (128, 512, 2048): 24 ms instead of
 * 34), while wide layers or few samples want samples-as-columns ((4096,
 * 128, 4096): 285 ms instead of 630; (64, 128, 4096): 2.5 ms instead of
 * 7.0; the big products of bench_forward: 2.5 times faster). */
#define NSLMI_ROWS_MAX_WIDTH 128
#define NSLMI_ROWS_MIN_SAMPLES 256

static int store_rows(size_t p, size_t n) {
  return p <= NSLMI_ROWS_MAX_WIDTH && n >= NSLMI_ROWS_MIN_SAMPLES;
}

/* Activation in place: nslmi_act_apply, with ReLU written four values at
 * a time so that GCC emits branch-free vector code at -O2 (compare and
 * mask instead of a mispredicted branch per value: nslmi_act_apply's ReLU
 * took ~30% of the small benchmark network's time).  The values are
 * exactly nslmi_act_apply's: x > 0 ? x : 0, so NaN and -0 map alike. */
static int act_apply(const nslmi_activation *a, double *x, size_t len) {
  size_t i = 0;
  switch (a->kind) {
  case NSLM_ACT_IDENTITY: return NSLM_OK;
  case NSLM_ACT_RELU:
    for (; i + 4 <= len; i += 4) {
      double v0 = x[i], v1 = x[i + 1], v2 = x[i + 2], v3 = x[i + 3];
      x[i] = v0 > 0.0 ? v0 : 0.0;
      x[i + 1] = v1 > 0.0 ? v1 : 0.0;
      x[i + 2] = v2 > 0.0 ? v2 : 0.0;
      x[i + 3] = v3 > 0.0 ? v3 : 0.0;
    }
    for (; i < len; i++) x[i] = x[i] > 0.0 ? x[i] : 0.0;
    return NSLM_OK;
  default: return nslmi_act_apply(a, x, len);
  }
}

/* Largest p_k * n over k in lo..hi (nonempty); 0 with *ok = 0 on overflow. */
static size_t max_layer_size(const nslm_net *net, size_t lo, size_t hi, size_t n, int *ok) {
  size_t mx = 0;
  *ok = 1;
  for (size_t k = lo; k <= hi; k++) {
    int o;
    size_t s = nslmi_mul_size(net->widths[k], n, &o);
    if (!o) { *ok = 0; return 0; }
    if (s > mx) mx = s;
  }
  return mx;
}

/* Layers j0..upto-1 from A_{j0} = src (p_{j0} x n with strides (rss,
 * css)) to A_upto at dst with strides (rsd, csd).  buf[0], buf[1]:
 * max_{j0<k<=upto} p_k n doubles each, distinct from src and dst.  dst is
 * written last, after every fallible step. */
static int chain(const nslm_net *net, const nslm_params *theta, size_t j0, const double *src,
                 ptrdiff_t rss, ptrdiff_t css, size_t n, size_t upto, double *dst, ptrdiff_t rsd,
                 ptrdiff_t csd, double *buf[2]) {
  size_t l = net->depth, T = nslmi_net_threads(net);
  const size_t *p = net->widths;
  int cur = 0;
  for (size_t j = j0; j < upto; j++) {
    size_t rows = p[j + 1], k = p[j];
    size_t thr = nslmi_gemm_threads(T, rows, n, k);
    if (j + 1 == upto && j == l) {
      /* The output layer has no activation: nothing can fail after the
       * product, so it may go straight into the caller's buffer. */
      ptrdiff_t r = rsd, c = csd;
      if (blis_layout_ok(rows, n, &r, &c)) {
        nslmi_gemm(0, 0, rows, n, k, 1.0, theta->w[j], (ptrdiff_t)k, 1, src, rss, css, 0.0, dst,
                   r, c, thr);
        return NSLM_OK;
      }
    }
    double *t = buf[cur];
    cur ^= 1;
    ptrdiff_t rst = (ptrdiff_t)n, cst = 1;
    if (rows > 1 && store_rows(rows, n)) {
      rst = 1;
      cst = (ptrdiff_t)rows;
    }
    nslmi_gemm(0, 0, rows, n, k, 1.0, theta->w[j], (ptrdiff_t)k, 1, src, rss, css, 0.0, t, rst,
               cst, thr);
    if (j + 1 <= l) { /* elementwise: the storage order does not matter */
      int st = act_apply(&net->act[j + 1], t, rows * n);
      if (st) return st;
    }
    src = t;
    rss = rst;
    css = cst;
  }
  copy_strided(p[upto], n, src, rss, css, dst, rsd, csd);
  return NSLM_OK;
}

size_t nslmi_forward_work_size(const nslm_net *net, size_t upto, size_t n, int *ok) {
  *ok = 1;
  if (upto == 0) return 0;
  size_t half = max_layer_size(net, 1, upto, n, ok);
  if (!*ok) return 0;
  if (half > SIZE_MAX / 2 / sizeof(double)) { *ok = 0; return 0; }
  return 2 * half;
}

int nslmi_forward_to(const nslm_net *net, const nslm_params *theta, const double *a0, size_t n,
                     size_t upto, double *dst, ptrdiff_t rsd, ptrdiff_t csd, double *work) {
  if (upto == 0) {
    copy_strided(net->widths[0], n, a0, (ptrdiff_t)n, 1, dst, rsd, csd);
    return NSLM_OK;
  }
  int ok;
  size_t half = max_layer_size(net, 1, upto, n, &ok);
  double *buf[2] = {work, work + half};
  return chain(net, theta, 0, a0, (ptrdiff_t)n, 1, n, upto, dst, rsd, csd, buf);
}

int nslmi_forward_from(const nslm_net *net, const nslm_params *theta, size_t j, double *z,
                       size_t n, double *out) {
  size_t l = net->depth, m = net->widths[l + 1];
  if (j == l + 1) {
    memmove(out, z, m * n * sizeof *z);
    return NSLM_OK;
  }
  int st = act_apply(&net->act[j], z, net->widths[j] * n);
  if (st) return st;
  double *buf[2] = {NULL, NULL}, *work = NULL;
  if (j < l) {
    int ok;
    size_t half = max_layer_size(net, j + 1, l, n, &ok);
    if (!ok || half > SIZE_MAX / 2 / sizeof(double))
      return NSLMI_FAIL(NSLM_ERR_NOMEM, "workspace of 2 x %zu x %zu doubles", net->widths[j], n);
    work = nslmi_malloc(2 * half * sizeof *work);
    if (work == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "workspace of %zu doubles", 2 * half);
    buf[0] = work;
    buf[1] = work + half;
  }
  st = chain(net, theta, j, z, (ptrdiff_t)n, 1, n, l + 1, out, (ptrdiff_t)n, 1, buf);
  nslmi_free(work);
  return st;
}

void nslmi_features_free(nslmi_features *f) {
  if (f == NULL) return;
  if (f->a != NULL) nslmi_free(f->a[1]); /* the block (see nslmi_forward) */
  nslmi_free(f->a);
  nslmi_free(f->z);
  nslmi_free(f->widths);
  nslmi_free(f);
}

int nslmi_forward(const nslm_net *net, const nslm_params *theta, const nslm_data *data,
                  int keep_pre, nslmi_features **out) {
  if (out == NULL) return NSLMI_FAIL(NSLM_ERR_INVALID, "out is NULL");
  *out = NULL;
  int st = nslmi_forward_check(__func__, net, theta, data);
  if (st) return st;
  size_t l = net->depth, n = data->n;
  const size_t *p = net->widths;

  /* One block for every matrix: a[1..l+1], then z[1..l+1]. */
  size_t total = 0;
  for (size_t j = 1; j <= l + 1; j++) {
    int ok;
    size_t s = nslmi_mul_size(p[j], n, &ok);
    if (!ok || s > SIZE_MAX / 2 / sizeof(double) - total)
      return NSLMI_FAIL(NSLM_ERR_NOMEM, "features of %zu samples are too large", n);
    total += s;
  }
  size_t block = keep_pre ? 2 * total : total;

  nslmi_features *f = nslmi_calloc(1, sizeof *f);
  if (f == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "features");
  f->depth = l;
  f->n = n;
  f->widths = nslmi_malloc_array(l + 2, sizeof *f->widths);
  f->a = nslmi_calloc(l + 2, sizeof *f->a);
  if (f->widths == NULL || f->a == NULL) {
    nslmi_features_free(f);
    return NSLMI_FAIL(NSLM_ERR_NOMEM, "features arrays");
  }
  memcpy(f->widths, p, (l + 2) * sizeof *p);
  if (keep_pre) {
    f->z = nslmi_calloc(l + 2, sizeof *f->z);
    if (f->z == NULL) {
      nslmi_features_free(f);
      return NSLMI_FAIL(NSLM_ERR_NOMEM, "features arrays");
    }
  }
  double *mem = nslmi_malloc_array(block, sizeof(double));
  if (mem == NULL) {
    nslmi_features_free(f);
    return NSLMI_FAIL(NSLM_ERR_NOMEM, "features: %zu doubles", block);
  }
  f->a[0] = data->xt;
  for (size_t j = 1; j <= l + 1; j++) {
    f->a[j] = mem;
    mem += p[j] * n;
  }
  if (keep_pre)
    for (size_t j = 1; j <= l + 1; j++) {
      f->z[j] = mem;
      mem += p[j] * n;
    }

  size_t T = nslmi_net_threads(net);
  for (size_t j = 0; j <= l; j++) {
    size_t rows = p[j + 1], k = p[j];
    double *t = keep_pre ? f->z[j + 1] : f->a[j + 1];
    nslmi_gemm(0, 0, rows, n, k, 1.0, theta->w[j], (ptrdiff_t)k, 1, f->a[j], (ptrdiff_t)n, 1,
               0.0, t, (ptrdiff_t)n, 1, nslmi_gemm_threads(T, rows, n, k));
    if (keep_pre) memcpy(f->a[j + 1], t, rows * n * sizeof *t);
    if (j + 1 <= l) {
      st = act_apply(&net->act[j + 1], f->a[j + 1], rows * n);
      if (st) {
        nslmi_features_free(f);
        return st;
      }
    }
  }
  *out = f;
  return NSLM_OK;
}
