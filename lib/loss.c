/* loss.c - convex losses l(a, y): one sample, and batched over a data set.
 *
 * Built-in kinds (sums over the m outputs k; r = a_k - y_k, z = y_k a_k):
 *   squared         r^2                                   grad 2 r
 *   absolute        |r|                                   grad sign(r), 0 at r = 0
 *   Huber(delta)    r^2/2 if |r| <= delta,                grad r, or delta sign(r)
 *                   delta (|r| - delta/2) otherwise
 *   logistic        log(1 + e^-z)                         grad -y_k / (1 + e^z)
 *   paper logistic  -(1+y_k) log(1+a_k) - (1-y_k) log(1-a_k)
 *                                                         grad -(1+y_k)/(1+a_k) + (1-y_k)/(1-a_k)
 *   hinge           max(0, 1 - z)                         grad -y_k if z < 1, else 0
 *   softmax CE      sum_k y_k (lse(a) - a_k)              grad (sum y) softmax(a)_k - y_k
 * Accepted y: any finite y_k for the margin forms (logistic, hinge are
 * convex in a for every real y_k; {-1, 1} is the usual labelling), |y_k| <= 1
 * and |a_k| < 1 for the paper's form (its domain, checked), y_k >= 0 for the
 * softmax cross-entropy (convexity needs it; rows need not sum to 1).
 * Subgradients at kinks: the element of least magnitude (0 for the absolute
 * loss at r = 0 and for the hinge at z = 1), so that a point where every
 * residual is at a kink reports a zero gradient, as it is stationary.
 */
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "loss.h"
#include "status.h"

/* Samples per block of the batched loop: BLOCK doubles of scratch per
 * running sum stay in L1, and the BLOCK rows of Y touched per output row
 * (one cache line each) fit in L1 too. */
#define BLOCK 256
/* Callback scratch on the stack up to this many outputs. */
#define STACK_M 64

#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

/* ------------------------------------------------------------------ */
/* Creation */

int nslm_loss_create(nslm_loss **out, int kind, double param) {
  NSLMI_CHECK_NULL(out);
  *out = NULL;
  switch (kind) {
  case NSLM_LOSS_SQUARED: case NSLM_LOSS_ABSOLUTE: case NSLM_LOSS_LOGISTIC:
  case NSLM_LOSS_LOGISTIC_PAPER: case NSLM_LOSS_HINGE: case NSLM_LOSS_SOFTMAX_CE:
    if (!isfinite(param)) return NSLMI_FAIL(NSLM_ERR_NONFINITE, "param is not finite");
    break;
  case NSLM_LOSS_HUBER:
    if (!isfinite(param)) return NSLMI_FAIL(NSLM_ERR_NONFINITE, "Huber delta (param) is not finite");
    if (!(param > 0.0)) return NSLMI_FAIL(NSLM_ERR_DOMAIN, "Huber delta (param) = %g must be > 0", param);
    break;
  case NSLM_LOSS_CALLBACK:
    return NSLMI_FAIL(NSLM_ERR_INVALID, "use nslm_loss_create_callback for callbacks");
  default:
    return NSLMI_FAIL(NSLM_ERR_INVALID, "unknown loss kind %d", kind);
  }
  nslm_loss *l = nslmi_calloc(1, sizeof *l);
  if (l == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "loss");
  l->kind = kind;
  l->param = kind == NSLM_LOSS_HUBER ? param : 0.0;
  *out = l;
  return NSLM_OK;
}

int nslm_loss_create_callback(nslm_loss **out, nslm_loss_fn f, void *user_data) {
  NSLMI_CHECK_NULL(out);
  *out = NULL;
  NSLMI_CHECK_NULL(f);
  nslm_loss *l = nslmi_calloc(1, sizeof *l);
  if (l == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "loss");
  l->kind = NSLM_LOSS_CALLBACK;
  l->fn = f;
  l->user = user_data;
  *out = l;
  return NSLM_OK;
}

void nslm_loss_destroy(nslm_loss *loss) { nslmi_free(loss); }

int nslm_loss_kind(const nslm_loss *loss) { return loss ? loss->kind : NSLM_ERR_INVALID; }

/* ------------------------------------------------------------------ */
/* Elementwise kinds: value and derivative of one term */

/* Value of one term; *g receives its (sub)gradient in a.  With g unused
 * after inlining, the compiler drops the gradient's arithmetic. */
static ALWAYS_INLINE double elem(int kind, double delta, double a, double y, double *g) {
  switch (kind) {
  case NSLM_LOSS_SQUARED: {
    double r = a - y;
    *g = 2.0 * r;
    return r * r;
  }
  case NSLM_LOSS_ABSOLUTE: {
    double r = a - y;
    *g = r > 0.0 ? 1.0 : (r < 0.0 ? -1.0 : 0.0);
    return fabs(r);
  }
  case NSLM_LOSS_HUBER: {
    double r = a - y, ar = fabs(r);
    *g = r > delta ? delta : (r < -delta ? -delta : r);
    return ar <= delta ? 0.5 * r * r : delta * (ar - 0.5 * delta);
  }
  case NSLM_LOSS_LOGISTIC: {
    /* log(1 + e^-z) = max(-z, 0) + log1p(e^-|z|); d/da = -y / (1 + e^z). */
    double z = y * a, e = exp(-fabs(z));
    *g = -y * (z >= 0.0 ? e / (1.0 + e) : 1.0 / (1.0 + e));
    return (z < 0.0 ? -z : 0.0) + log1p(e);
  }
  case NSLM_LOSS_LOGISTIC_PAPER:
    *g = -(1.0 + y) / (1.0 + a) + (1.0 - y) / (1.0 - a);
    return -(1.0 + y) * log1p(a) - (1.0 - y) * log1p(-a);
  case NSLM_LOSS_HINGE: {
    double h = 1.0 - y * a;
    *g = h > 0.0 ? -y : 0.0;
    return h > 0.0 ? h : (h == h ? 0.0 : h); /* a NaN output stays NaN */
  }
  }
  *g = 0.0;
  return 0.0;
}

/* Domain of the paper's logistic form: |a| < 1, |y| <= 1. */
static int paper_domain(double a, double y, size_t k, const char *func) {
  if (!(fabs(a) < 1.0))
    return nslmi_fail(NSLM_ERR_DOMAIN, func, "paper logistic loss needs |a_k| < 1: a[%zu] = %g", k, a);
  if (!(fabs(y) <= 1.0))
    return nslmi_fail(NSLM_ERR_DOMAIN, func, "paper logistic loss needs |y_k| <= 1: y[%zu] = %g", k, y);
  return NSLM_OK;
}

static int softmax_domain(double y, size_t k, const char *func) {
  if (!(y >= 0.0))
    return nslmi_fail(NSLM_ERR_DOMAIN, func, "softmax cross-entropy needs y_k >= 0: y[%zu] = %g", k, y);
  return NSLM_OK;
}

/* ------------------------------------------------------------------ */
/* One sample */

/* scratch: 2 m doubles, or NULL to use the stack (m <= STACK_M) or the heap. */
static int callback_sample(const nslm_loss *loss, size_t m, const double *a, ptrdiff_t inc_a,
                           const double *y, double *value, double *grad, ptrdiff_t inc_g,
                           const char *func, double *scratch) {
  double stack[2 * STACK_M], *buf = scratch ? scratch : stack;
  if (scratch == NULL && m > STACK_M) {
    buf = nslmi_malloc_array(m, 2 * sizeof(double));
    if (buf == NULL) return nslmi_fail(NSLM_ERR_NOMEM, func, "loss callback scratch (m = %zu)", m);
  }
  double *ta = buf, *tg = buf + m;
  const double *pa = a;
  if (inc_a != 1) {
    for (size_t k = 0; k < m; k++) ta[k] = a[(ptrdiff_t)k * inc_a];
    pa = ta;
  }
  double v = NAN;
  int st = NSLM_OK;
  if (loss->fn(pa, y, m, &v, grad ? tg : NULL, loss->user) != 0)
    st = nslmi_fail(NSLM_ERR_CALLBACK, func, "loss callback failed");
  else if (!isfinite(v))
    st = nslmi_fail(NSLM_ERR_NUMERIC, func, "loss callback returned a non-finite value");
  else if (grad) {
    for (size_t k = 0; k < m; k++)
      if (!isfinite(tg[k])) {
        st = nslmi_fail(NSLM_ERR_NUMERIC, func, "loss callback returned a non-finite gradient");
        break;
      }
    if (st == NSLM_OK)
      for (size_t k = 0; k < m; k++) grad[(ptrdiff_t)k * inc_g] = tg[k];
  }
  if (st == NSLM_OK) *value = v;
  if (buf != stack && buf != scratch) nslmi_free(buf);
  return st;
}

/* The softmax cross-entropy of one sample: with mx = max_k a_k (first
 * maximiser kx) and ls = log sum_k e^(a_k - mx) = log1p(sum_{k != kx}
 * e^(a_k - mx)), the value is sum_k y_k (ls - (a_k - mx)): every term >= 0
 * (no cancellation), and log1p keeps full relative accuracy when one
 * logit dominates (confident predictions, tiny losses). */
static double softmax_sample(size_t m, const double *a, ptrdiff_t inc_a, const double *y,
                             double *mx_out, double *ls_out, double *ysum_out) {
  double mx = a[0];
  size_t kx = 0;
  for (size_t k = 1; k < m; k++) {
    double v = a[(ptrdiff_t)k * inc_a];
    if (v > mx) { mx = v; kx = k; }
  }
  double s1 = 0.0, ysum = 0.0;
  for (size_t k = 0; k < m; k++) {
    if (k != kx) s1 += exp(a[(ptrdiff_t)k * inc_a] - mx);
    ysum += y[k];
  }
  double ls = log1p(s1), v = 0.0;
  for (size_t k = 0; k < m; k++) v += y[k] * (ls - (a[(ptrdiff_t)k * inc_a] - mx));
  *mx_out = mx;
  *ls_out = ls;
  *ysum_out = ysum;
  return v;
}

static int sample(const nslm_loss *loss, size_t m, const double *a, ptrdiff_t inc_a,
                  const double *y, double *value, double *grad, ptrdiff_t inc_g,
                  const char *func) {
  int kind = loss->kind;
  if (kind == NSLM_LOSS_CALLBACK)
    return callback_sample(loss, m, a, inc_a, y, value, grad, inc_g, func, NULL);
  /* Domain first, so that nothing is written on failure. */
  if (kind == NSLM_LOSS_LOGISTIC_PAPER)
    for (size_t k = 0; k < m; k++) {
      int st = paper_domain(a[(ptrdiff_t)k * inc_a], y[k], k, func);
      if (st) return st;
    }
  if (kind == NSLM_LOSS_SOFTMAX_CE)
    for (size_t k = 0; k < m; k++) {
      int st = softmax_domain(y[k], k, func);
      if (st) return st;
    }
  double v = 0.0, mx = 0.0, ls = 0.0, ysum = 0.0;
  if (kind == NSLM_LOSS_SOFTMAX_CE) v = softmax_sample(m, a, inc_a, y, &mx, &ls, &ysum);
  else
    for (size_t k = 0; k < m; k++) {
      double g;
      v += elem(kind, loss->param, a[(ptrdiff_t)k * inc_a], y[k], &g);
    }
  if (!isfinite(v)) return nslmi_fail(NSLM_ERR_NUMERIC, func, "the loss value overflowed");
  if (grad) {
    if (kind == NSLM_LOSS_SOFTMAX_CE)
      for (size_t k = 0; k < m; k++)
        grad[(ptrdiff_t)k * inc_g] = ysum * exp(a[(ptrdiff_t)k * inc_a] - mx - ls) - y[k];
    else
      for (size_t k = 0; k < m; k++)
        (void)elem(kind, loss->param, a[(ptrdiff_t)k * inc_a], y[k], &grad[(ptrdiff_t)k * inc_g]);
  }
  *value = v;
  return NSLM_OK;
}

int nslmi_loss_sample(const nslm_loss *loss, size_t m, const double *a, ptrdiff_t inc_a,
                      const double *y, double *value, double *grad, ptrdiff_t inc_g) {
  return sample(loss, m, a, inc_a, y, value, grad, inc_g, __func__);
}

int nslm_loss_eval(const nslm_loss *loss, size_t m, const double *a, const double *y,
                   double *value, double *grad) {
  NSLMI_CHECK_NULL(loss);
  NSLMI_CHECK_NULL(a);
  NSLMI_CHECK_NULL(y);
  NSLMI_CHECK_NULL(value);
  if (m == 0) return NSLMI_FAIL(NSLM_ERR_DIMENSION, "m must be >= 1");
  for (size_t k = 0; k < m; k++) {
    if (!isfinite(a[k])) return NSLMI_FAIL(NSLM_ERR_NONFINITE, "a[%zu] is not finite", k);
    if (!isfinite(y[k])) return NSLMI_FAIL(NSLM_ERR_NONFINITE, "y[%zu] is not finite", k);
  }
  return sample(loss, m, a, 1, y, value, grad, 1, __func__);
}

/* ------------------------------------------------------------------ */
/* Batches: outputs m x n (samples as columns), Y n x m (samples as rows).
 * Blocks of BLOCK samples; within a block the loop runs over output rows k
 * (contiguous in out and dldo), with per-sample running sums in L1.  Each
 * built-in kind gets its own instance of the loop (kind and want_grad are
 * compile-time constants after inlining): no per-element dispatch. */

static ALWAYS_INLINE int batch_elementwise(int kind, int want_grad, double delta, size_t m,
                                           size_t n, const double *out, const double *y,
                                           double *losses, double *total, double *dldo) {
  double acc[BLOCK], sum = 0.0;
  for (size_t i0 = 0; i0 < n; i0 += BLOCK) {
    size_t nb = n - i0 < BLOCK ? n - i0 : BLOCK;
    for (size_t i = 0; i < nb; i++) acc[i] = 0.0;
    for (size_t k = 0; k < m; k++) {
      const double *ok = out + k * n + i0;
      const double *yk = y + i0 * m + k;
      if (kind == NSLM_LOSS_LOGISTIC_PAPER)
        for (size_t i = 0; i < nb; i++)
          if (!(fabs(ok[i]) < 1.0 && fabs(yk[i * m]) <= 1.0))
            return nslmi_fail(NSLM_ERR_DOMAIN, "nslmi_loss_batch",
                              "paper logistic loss needs |a| < 1 and |y| <= 1: sample %zu, "
                              "output %zu has a = %g, y = %g",
                              i0 + i, k, ok[i], yk[i * m]);
      if (want_grad) {
        double *gk = dldo + k * n + i0;
        for (size_t i = 0; i < nb; i++) acc[i] += elem(kind, delta, ok[i], yk[i * m], &gk[i]);
      } else {
        for (size_t i = 0; i < nb; i++) {
          double g;
          acc[i] += elem(kind, delta, ok[i], yk[i * m], &g);
        }
      }
    }
    double bsum = 0.0;
    for (size_t i = 0; i < nb; i++) bsum += acc[i];
    if (!isfinite(bsum))
      return nslmi_fail(NSLM_ERR_NUMERIC, "nslmi_loss_batch", "the loss overflowed in samples %zu..%zu",
                        i0, i0 + nb - 1);
    if (losses) memcpy(losses + i0, acc, nb * sizeof *acc);
    sum += bsum;
  }
  if (!isfinite(sum)) return nslmi_fail(NSLM_ERR_NUMERIC, "nslmi_loss_batch", "the risk overflowed");
  if (total) *total = sum;
  return NSLM_OK;
}

/* Same arithmetic as softmax_sample, in the same order, per block. */
static int batch_softmax(size_t m, size_t n, const double *out, const double *y, double *losses,
                         double *total, double *dldo) {
  double mx[BLOCK], ls[BLOCK], ys[BLOCK], acc[BLOCK], sum = 0.0;
  size_t kx[BLOCK];
  for (size_t i0 = 0; i0 < n; i0 += BLOCK) {
    size_t nb = n - i0 < BLOCK ? n - i0 : BLOCK;
    const double *y0 = y + i0 * m;
    for (size_t i = 0; i < nb; i++) {
      mx[i] = out[i0 + i];
      kx[i] = 0;
      ls[i] = 0.0;
      ys[i] = 0.0;
      acc[i] = 0.0;
    }
    for (size_t k = 0; k < m; k++) {
      const double *ok = out + k * n + i0;
      for (size_t i = 0; i < nb; i++) {
        double yv = y0[i * m + k];
        if (!(yv >= 0.0))
          return nslmi_fail(NSLM_ERR_DOMAIN, "nslmi_loss_batch",
                            "softmax cross-entropy needs y >= 0: sample %zu, output %zu: y = %g",
                            i0 + i, k, yv);
        if (ok[i] > mx[i]) { mx[i] = ok[i]; kx[i] = k; }
        ys[i] += yv;
      }
    }
    for (size_t k = 0; k < m; k++) {
      const double *ok = out + k * n + i0;
      for (size_t i = 0; i < nb; i++)
        if (k != kx[i]) ls[i] += exp(ok[i] - mx[i]);
    }
    for (size_t i = 0; i < nb; i++) ls[i] = log1p(ls[i]); /* >= 0 */
    for (size_t k = 0; k < m; k++) {
      const double *ok = out + k * n + i0;
      for (size_t i = 0; i < nb; i++) acc[i] += y0[i * m + k] * (ls[i] - (ok[i] - mx[i]));
      if (dldo) {
        double *gk = dldo + k * n + i0;
        for (size_t i = 0; i < nb; i++) gk[i] = ys[i] * exp(ok[i] - mx[i] - ls[i]) - y0[i * m + k];
      }
    }
    double bsum = 0.0;
    for (size_t i = 0; i < nb; i++) bsum += acc[i];
    if (!isfinite(bsum))
      return nslmi_fail(NSLM_ERR_NUMERIC, "nslmi_loss_batch", "the loss overflowed in samples %zu..%zu",
                        i0, i0 + nb - 1);
    if (losses) memcpy(losses + i0, acc, nb * sizeof *acc);
    sum += bsum;
  }
  if (!isfinite(sum)) return nslmi_fail(NSLM_ERR_NUMERIC, "nslmi_loss_batch", "the risk overflowed");
  if (total) *total = sum;
  return NSLM_OK;
}

static int batch_callback(const nslm_loss *loss, size_t m, size_t n, const double *out,
                          const double *y, double *losses, double *total, double *dldo) {
  /* One scratch buffer for all samples when the stack one is too small. */
  double *scratch = NULL;
  if (m > STACK_M) {
    scratch = nslmi_malloc_array(m, 2 * sizeof(double));
    if (scratch == NULL)
      return nslmi_fail(NSLM_ERR_NOMEM, "nslmi_loss_batch", "loss callback scratch (m = %zu)", m);
  }
  double sum = 0.0;
  int st = NSLM_OK;
  for (size_t i = 0; i < n; i++) {
    double v;
    st = callback_sample(loss, m, out + i, (ptrdiff_t)n, y + i * m, &v, dldo ? dldo + i : NULL,
                         (ptrdiff_t)n, "nslmi_loss_batch", scratch);
    if (st) break;
    if (losses) losses[i] = v;
    sum += v;
  }
  nslmi_free(scratch);
  if (st) return st;
  if (!isfinite(sum)) return nslmi_fail(NSLM_ERR_NUMERIC, "nslmi_loss_batch", "the risk overflowed");
  if (total) *total = sum;
  return NSLM_OK;
}

#define ELEMENTWISE(K)                                                                  \
  (dldo ? batch_elementwise((K), 1, loss->param, m, n, out, y, losses, total, dldo)     \
        : batch_elementwise((K), 0, loss->param, m, n, out, y, losses, total, NULL))

int nslmi_loss_batch(const nslm_loss *loss, size_t m, size_t n, const double *out,
                     const double *y, double *losses, double *total, double *dldo) {
  switch (loss->kind) {
  case NSLM_LOSS_SQUARED: return ELEMENTWISE(NSLM_LOSS_SQUARED);
  case NSLM_LOSS_ABSOLUTE: return ELEMENTWISE(NSLM_LOSS_ABSOLUTE);
  case NSLM_LOSS_HUBER: return ELEMENTWISE(NSLM_LOSS_HUBER);
  case NSLM_LOSS_LOGISTIC: return ELEMENTWISE(NSLM_LOSS_LOGISTIC);
  case NSLM_LOSS_LOGISTIC_PAPER: return ELEMENTWISE(NSLM_LOSS_LOGISTIC_PAPER);
  case NSLM_LOSS_HINGE: return ELEMENTWISE(NSLM_LOSS_HINGE);
  case NSLM_LOSS_SOFTMAX_CE: return batch_softmax(m, n, out, y, losses, total, dldo);
  case NSLM_LOSS_CALLBACK: return batch_callback(loss, m, n, out, y, losses, total, dldo);
  }
  return NSLMI_FAIL(NSLM_ERR_INVALID, "unknown loss kind %d", loss->kind);
}
