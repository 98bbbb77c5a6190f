/* forward.c - batched forward evaluation: one BLIS gemm per layer over all
 * samples, A_{j+1} = f^{j+1}(Theta^j A_j), activation in place, no
 * per-sample loops.  The kept features (nslmi_forward) are samples-as-
 * columns; the ping-pong path of the public calls (nslmi_forward_to) stores
 * each intermediate layer in whichever order BLIS multiplies faster
 * (store_rows) and writes the last product straight into the caller's
 * buffer when BLIS accepts its strides.  Nets whose every layer is small
 * take the fused path instead (below): each thread runs all the layers on
 * its own samples, with register kernels instead of BLIS. */
#include <stdint.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

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
      int st = nslmi_act_apply(&net->act[j + 1], t, rows * n);
      if (st) return st;
    }
    src = t;
    rss = rst;
    css = cst;
  }
  copy_strided(p[upto], n, src, rss, css, dst, rsd, csd);
  return NSLM_OK;
}

/* ---- The fused small-network path ----
 * When every layer is small, one BLIS product per layer is mostly
 * overhead: packing, a thread team woken per product, and matrices that
 * travel through memory between the layers (the small benchmark network,
 * d = 8, 2 x 64, m = 1, n = 256: 2.4 MFLOP, ~44 us through BLIS on 2
 * threads).  Instead the samples are split between the threads, and each
 * thread runs ALL the layers on blocks of its samples with the register
 * kernels of nslmi_small_gemm: one thread team per evaluation, and a
 * block's features stay in the core's L1/L2 cache (same network: ~26 us
 * median in bench_forward, built with OpenMP).  Threads come from OpenMP (the team BLIS itself uses); built
 * without OpenMP the path serves single-threaded nets only.
 *
 * Storage: a block of b samples (b <= NSLMI_FUSED_BLOCK) is held as p x w
 * row-major (samples as columns), w = b rounded up to
 * NSLMI_SMALL_GEMM_QUANTUM; the padding columns repeat the block's last
 * sample (so every value they produce is one a real sample produces too)
 * and are never copied out.  Each output entry is computed the same way
 * whatever its block, thread count or position: results do not depend on
 * the thread count. */

/* Samples per block (a multiple of NSLMI_SMALL_GEMM_QUANTUM): 64 x 128
 * doubles is 64 KiB, an L2-resident block; 64 and 128 measured alike. */
#ifndef NSLMI_FUSED_BLOCK
#define NSLMI_FUSED_BLOCK 128
#endif
/* Fewest samples worth a thread of their own: below, the team's start
 * (~1.5 us) costs more than the thread saves. */
#ifndef NSLMI_FUSED_MIN_SAMPLES
#define NSLMI_FUSED_MIN_SAMPLES 32
#endif

#define QUANTUM ((size_t)NSLMI_SMALL_GEMM_QUANTUM)

/* The thread-independent part of nslmi_forward_fused_applies: widths
 * p_0..p_upto small, no callback among the activations run, a vector
 * kernel. */
static int fused_shape_ok(const nslm_net *net, size_t upto) {
  if (upto == 0 || upto > net->depth + 1) return 0;
  for (size_t j = 0; j <= upto; j++)
    if (net->widths[j] > NSLMI_FUSED_MAX_WIDTH) return 0;
  for (size_t j = 1; j <= upto && j <= net->depth; j++)
    if (net->act[j].kind == NSLM_ACT_CALLBACK) return 0;
  return nslmi_small_gemm_isa() >= NSLMI_ISA_AVX2;
}

int nslmi_forward_fused_applies(const nslm_net *net, size_t upto, size_t nthreads) {
  if (!fused_shape_ok(net, upto)) return 0;
#ifndef _OPENMP
  if (nthreads > 1) return 0; /* no cheap thread team: BLIS's chain is the parallel one */
#else
  (void)nthreads;
#endif
  return 1;
}

/* Largest of p_0..p_upto. */
static size_t fused_pmax(const nslm_net *net, size_t upto) {
  size_t mx = 0;
  for (size_t j = 0; j <= upto; j++)
    if (net->widths[j] > mx) mx = net->widths[j];
  return mx;
}

size_t nslmi_forward_fused_work_size(const nslm_net *net, size_t upto, size_t n, int *ok) {
  *ok = 1;
  size_t groups = n / QUANTUM + (n % QUANTUM != 0);
  size_t pmax = fused_pmax(net, upto);
  /* 2 pmax x 8 groups: a thread's buffers sit at its first group's offset. */
  if (groups > SIZE_MAX / sizeof(double) / QUANTUM / 2 / pmax) {
    *ok = 0;
    return 0;
  }
  return 2 * pmax * QUANTUM * groups;
}

/* Samples i0..i0+b-1 through layers 0..upto-1, written to dst; buf0 and
 * buf1 hold pmax x w doubles each. */
static int fused_block(const nslm_net *net, const nslm_params *theta, const double *a0, size_t n,
                       size_t i0, size_t b, size_t upto, double *dst, ptrdiff_t rsd,
                       ptrdiff_t csd, double *buf0, double *buf1, int isa) {
  const size_t *p = net->widths;
  size_t l = net->depth, w = (b + QUANTUM - 1) / QUANTUM * QUANTUM;
  for (size_t k = 0; k < p[0]; k++) {
    const double *row = a0 + k * n + i0;
    double *t = buf0 + k * w;
    memcpy(t, row, b * sizeof *t);
    for (size_t i = b; i < w; i++) t[i] = row[b - 1];
  }
  double *src = buf0, *t = buf1;
  for (size_t j = 0; j < upto; j++) {
    int act = j + 1 <= l, relu = act && net->act[j + 1].kind == NSLM_ACT_RELU;
    nslmi_small_gemm(isa, p[j + 1], w, p[j], theta->w[j], p[j], src, w, t, w, relu);
    if (act && !relu) {
      int st = nslmi_act_apply(&net->act[j + 1], t, p[j + 1] * w);
      if (st) return st;
    }
    double *s = src;
    src = t;
    t = s;
  }
  copy_strided(p[upto], b, src, (ptrdiff_t)w, 1, dst + (ptrdiff_t)i0 * csd, rsd, csd);
  return NSLM_OK;
}

/* Groups g0..g1-1 of QUANTUM samples (the last one possibly short), in
 * blocks; the buffers start at work + 2 pmax QUANTUM g0. */
static int fused_range(const nslm_net *net, const nslm_params *theta, const double *a0, size_t n,
                       size_t g0, size_t g1, size_t upto, double *dst, ptrdiff_t rsd,
                       ptrdiff_t csd, double *work, int isa) {
  size_t pmax = fused_pmax(net, upto), lo = g0 * QUANTUM, hi = g1 * QUANTUM;
  if (hi > n) hi = n;
  if (lo >= hi) return NSLM_OK;
  size_t bw = hi - lo < NSLMI_FUSED_BLOCK ? (hi - lo + QUANTUM - 1) / QUANTUM * QUANTUM
                                          : NSLMI_FUSED_BLOCK;
  double *buf0 = work + 2 * pmax * QUANTUM * g0, *buf1 = buf0 + pmax * bw;
  for (size_t i = lo; i < hi; i += NSLMI_FUSED_BLOCK) {
    size_t b = hi - i < NSLMI_FUSED_BLOCK ? hi - i : NSLMI_FUSED_BLOCK;
    int st = fused_block(net, theta, a0, n, i, b, upto, dst, rsd, csd, buf0, buf1, isa);
    if (st) return st;
  }
  return NSLM_OK;
}

int nslmi_forward_fused(const nslm_net *net, const nslm_params *theta, const double *a0,
                        size_t n, size_t upto, double *dst, ptrdiff_t rsd, ptrdiff_t csd,
                        double *work, size_t nthreads, int isa) {
  size_t groups = n / QUANTUM + (n % QUANTUM != 0);
  size_t per = NSLMI_FUSED_MIN_SAMPLES / QUANTUM, tmax = groups / (per ? per : 1);
  size_t T = nthreads < tmax ? nthreads : tmax;
  if (T < 1) T = 1;
#ifdef _OPENMP
  if (T > 1) {
    int status = NSLM_OK;
#pragma omp parallel num_threads((int)T)
    {
      /* The team may be smaller than asked (nested regions, limits): the
       * split follows its real size. */
      size_t nt = (size_t)omp_get_num_threads(), t = (size_t)omp_get_thread_num();
      size_t q = groups / nt, r = groups % nt;
      size_t g0 = q * t + (t < r ? t : r), g1 = g0 + q + (t < r);
      int st = fused_range(net, theta, a0, n, g0, g1, upto, dst, rsd, csd, work, isa);
      if (st) {
#pragma omp atomic write
        status = st;
      }
    }
    return status;
  }
#endif
  return fused_range(net, theta, a0, n, 0, groups, upto, dst, rsd, csd, work, isa);
}

size_t nslmi_forward_work_size(const nslm_net *net, size_t upto, size_t n, int *ok) {
  *ok = 1;
  if (upto == 0) return 0;
  size_t half = max_layer_size(net, 1, upto, n, ok);
  if (!*ok) return 0;
  if (half > SIZE_MAX / 2 / sizeof(double)) { *ok = 0; return 0; }
  size_t size = 2 * half;
  if (fused_shape_ok(net, upto)) {
    /* Either path may run (the thread count may be resolved differently
     * by then): room for both. */
    size_t f = nslmi_forward_fused_work_size(net, upto, n, ok);
    if (!*ok) return 0;
    if (f > size) size = f;
  }
  return size;
}

int nslmi_forward_to(const nslm_net *net, const nslm_params *theta, const double *a0, size_t n,
                     size_t upto, double *dst, ptrdiff_t rsd, ptrdiff_t csd, double *work) {
  if (upto == 0) {
    copy_strided(net->widths[0], n, a0, (ptrdiff_t)n, 1, dst, rsd, csd);
    return NSLM_OK;
  }
  size_t T = nslmi_net_threads(net);
  if (nslmi_forward_fused_applies(net, upto, T))
    return nslmi_forward_fused(net, theta, a0, n, upto, dst, rsd, csd, work, T,
                               nslmi_small_gemm_isa());
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
  int st = nslmi_act_apply(&net->act[j], z, net->widths[j] * n);
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
      st = nslmi_act_apply(&net->act[j + 1], f->a[j + 1], rows * n);
      if (st) {
        nslmi_features_free(f);
        return st;
      }
    }
  }
  *out = f;
  return NSLM_OK;
}
