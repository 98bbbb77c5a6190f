/* globalmin.c - global minimizers where they are computable (DESIGN 2.6).
 *
 * With the inner layers fixed the risk is convex in Theta^l, and the
 * outputs O = Theta^l A_l range over {B U^T : B}, U an orthonormal basis
 * of the column space of A_l^T (thin SVD A_l^T = U S V^T).  So we
 * minimize over beta (k x m, O^T = U beta), which is as well conditioned
 * as the loss itself whatever A_l is, and map back with Theta^l =
 * (S^-1 beta)^T V^T.  When rank(A_l) = n every output matrix is reachable
 * and the minimum over Theta^l is the minimum of the whole problem.
 *   squared loss: beta = U^T Y (least squares, closed form);
 *   absolute, Huber, hinge with rank n: the per-sample minimizer is known
 *     (o = y, resp. o = 1/y), reached exactly;
 *   others: L-BFGS on beta, stopped when ||grad_beta|| <= tol max(1, L).
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "blas.h"
#include "copts.h"
#include "data.h"
#include "forward.h"
#include "lapack.h"
#include "loss.h"
#include "matrix.h"
#include "net.h"
#include "params.h"
#include "status.h"

#define LBFGS_MEMORY 10
#define LBFGS_ARMIJO 1e-4   /* sufficient decrease constant */
#define LBFGS_MAX_HALVINGS 60

typedef struct {
  const nslm_loss *loss;
  size_t m, n, k;
  const double *u; /* n x k column-major (ld n) */
  const double *y; /* n x m row-major */
  double *o, *g;   /* m x n scratch: outputs and dL/dO */
  size_t nthreads;
} prob_t;

/* f(beta) and, when grad != NULL, grad_beta = U^T G^T (k x m row-major). */
static int objective(prob_t *p, const double *beta, double *f, double *grad) {
  /* O (m x n) = beta^T U^T: O[c][i] = sum_a beta[a][c] U[i][a]. */
  nslmi_gemm(1, 1, p->m, p->n, p->k, 1.0, beta, (ptrdiff_t)p->m, 1, p->u, 1, (ptrdiff_t)p->n, 0.0,
             p->o, (ptrdiff_t)p->n, 1, p->nthreads);
  int st = nslmi_loss_batch(p->loss, p->m, p->n, p->o, p->y, NULL, f, grad ? p->g : NULL);
  if (st) return st;
  if (grad)
    nslmi_gemm(1, 1, p->k, p->m, p->n, 1.0, p->u, 1, (ptrdiff_t)p->n, p->g, (ptrdiff_t)p->n, 1, 0.0,
               grad, (ptrdiff_t)p->m, 1, p->nthreads);
  return NSLM_OK;
}

static double dot(const double *a, const double *b, size_t len) {
  double s = 0.0;
  for (size_t i = 0; i < len; i++) s += a[i] * b[i];
  return s;
}

/* L-BFGS with backtracking (Armijo).  *converged = 1 when the gradient
 * test passed.  A failed evaluation (outside the loss's domain) counts as
 * +inf and shrinks the step. */
static int lbfgs(prob_t *p, double *beta, double tol, int max_iter, int *converged) {
  size_t dim = p->k * p->m, M = LBFGS_MEMORY;
  double *mem = nslmi_malloc_array(dim * (2 * M + 4), sizeof *mem);
  if (mem == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "L-BFGS workspace (%zu variables)", dim);
  double *s = mem, *yv = s + dim * M, *g = yv + dim * M, *d = g + dim, *xn = d + dim, *gn = xn + dim;
  double rho[LBFGS_MEMORY], alpha[LBFGS_MEMORY], f;
  size_t have = 0, head = 0;
  *converged = 0;
  int st = objective(p, beta, &f, g);
  if (st) goto done;
  for (int it = 0; it < max_iter; it++) {
    if (sqrt(dot(g, g, dim)) <= tol * fmax(1.0, fabs(f))) {
      *converged = 1;
      break;
    }
    /* two-loop recursion: d = -H g */
    for (size_t i = 0; i < dim; i++) d[i] = -g[i];
    for (size_t q = 0; q < have; q++) {
      size_t i = (head + M - 1 - q) % M;
      alpha[i] = rho[i] * dot(s + i * dim, d, dim);
      for (size_t e = 0; e < dim; e++) d[e] -= alpha[i] * yv[i * dim + e];
    }
    if (have > 0) {
      size_t i = (head + M - 1) % M;
      double gamma = dot(s + i * dim, yv + i * dim, dim) / dot(yv + i * dim, yv + i * dim, dim);
      for (size_t e = 0; e < dim; e++) d[e] *= gamma;
    }
    for (size_t q = have; q-- > 0;) {
      size_t i = (head + M - 1 - q) % M;
      double b = rho[i] * dot(yv + i * dim, d, dim);
      for (size_t e = 0; e < dim; e++) d[e] += (alpha[i] - b) * s[i * dim + e];
    }
    double slope = dot(g, d, dim);
    if (!(slope < 0.0)) { /* not a descent direction: restart with -g */
      for (size_t i = 0; i < dim; i++) d[i] = -g[i];
      slope = -dot(g, g, dim);
      have = 0;
    }
    double step = 1.0, fn = 0.0;
    int accepted = 0;
    if (it == 0 && have == 0) step = fmin(1.0, 1.0 / sqrt(dot(g, g, dim)));
    for (int h = 0; h < LBFGS_MAX_HALVINGS; h++, step *= 0.5) {
      for (size_t i = 0; i < dim; i++) xn[i] = beta[i] + step * d[i];
      int e = objective(p, xn, &fn, gn);
      if (e == NSLM_ERR_DOMAIN || e == NSLM_ERR_NUMERIC) continue;
      if (e) { st = e; goto done; }
      if (fn <= f + LBFGS_ARMIJO * step * slope) { accepted = 1; break; }
    }
    if (!accepted) break; /* no progress possible at this precision */
    size_t i = head;
    double sy = 0.0;
    for (size_t e = 0; e < dim; e++) {
      s[i * dim + e] = xn[e] - beta[e];
      yv[i * dim + e] = gn[e] - g[e];
    }
    sy = dot(s + i * dim, yv + i * dim, dim);
    if (sy > 1e-300) {
      rho[i] = 1.0 / sy;
      head = (head + 1) % M;
      if (have < M) have++;
    }
    memcpy(beta, xn, dim * sizeof *beta);
    memcpy(g, gn, dim * sizeof *g);
    f = fn;
  }
  if (!*converged && sqrt(dot(g, g, dim)) <= tol * fmax(1.0, fabs(f))) *converged = 1;
done:
  nslmi_free(mem);
  return st;
}

int nslm_global_minimize(const nslm_net *net, const nslm_params *theta, const nslm_data *data,
                         const nslm_loss *loss, const nslm_construct_opts *opts,
                         nslm_params *out, size_t *rank, int *certified, double *grad_norm) {
  NSLMI_CHECK_NULL(net);
  NSLMI_CHECK_NULL(theta);
  NSLMI_CHECK_NULL(data);
  NSLMI_CHECK_NULL(loss);
  NSLMI_CHECK_NULL(out);
  if (!nslmi_params_match_net(theta, net) || !nslmi_params_match_net(out, net))
    return NSLMI_FAIL(NSLM_ERR_DIMENSION, "theta's or out's widths differ from the net's");
  if (data->d != net->widths[0] || data->m != net->widths[net->depth + 1])
    return NSLMI_FAIL(NSLM_ERR_DIMENSION, "data is d = %zu, m = %zu; the net wants %zu, %zu",
                      data->d, data->m, net->widths[0], net->widths[net->depth + 1]);
  nslm_construct_opts o;
  nslmi_copts_resolve(&o, opts);
  size_t l = net->depth, p = net->widths[l], m = net->widths[l + 1], n = data->n;
  size_t kmax = n < p ? n : p;
  if (n > INT_MAX || p > INT_MAX) return NSLMI_FAIL(NSLM_ERR_DIMENSION, "A_l too large for LAPACK");
  size_t nthreads = o.nthreads > 0 ? (size_t)o.nthreads : nslmi_net_threads(net);
  nslmi_features *f = NULL;
  nslm_net local = *net; /* shallow copy: the option's thread count for the forward pass */
  local.nthreads = nthreads;
  int st = nslmi_forward(&local, theta, data, 0, &f);
  if (st) return st;
  double *a = nslmi_malloc_array(n * p, sizeof *a);
  double *u = nslmi_malloc_array(n * kmax, sizeof *u);
  double *vt = nslmi_malloc_array(kmax * p, sizeof *vt);
  double *sv = nslmi_malloc_array(kmax, sizeof *sv);
  nslmi_lapack_int *iw = nslmi_malloc_array(8 * kmax, sizeof *iw);
  double *beta = nslmi_calloc(kmax * m, sizeof *beta);
  double *o_ = nslmi_malloc_array(m * n, sizeof *o_), *g = nslmi_malloc_array(m * n, sizeof *g);
  double *work = NULL, *newl = NULL, *gt = NULL;
  if (!a || !u || !vt || !sv || !iw || !beta || !o_ || !g) {
    st = NSLMI_FAIL(NSLM_ERR_NOMEM, "SVD of A_%zu (%zu x %zu)", l, p, n);
    goto done;
  }
  /* A_l (p x n row-major) is A_l^T column-major (n x p, ld n). */
  memcpy(a, f->a[l], n * p * sizeof *a);
  {
    nslmi_lapack_int mm = (nslmi_lapack_int)n, nn = (nslmi_lapack_int)p, lda = mm, ldu = mm,
                     ldvt = (nslmi_lapack_int)kmax, lwork = -1, info = 0;
    double q;
    dgesdd_("S", &mm, &nn, a, &lda, sv, u, &ldu, vt, &ldvt, &q, &lwork, iw, &info);
    lwork = info == 0 ? (nslmi_lapack_int)q : 0;
    work = lwork > 0 ? nslmi_malloc_array((size_t)lwork, sizeof *work) : NULL;
    if (work == NULL) {
      st = NSLMI_FAIL(NSLM_ERR_NOMEM, "dgesdd workspace");
      goto done;
    }
    dgesdd_("S", &mm, &nn, a, &lda, sv, u, &ldu, vt, &ldvt, work, &lwork, iw, &info);
    if (info != 0) {
      st = NSLMI_FAIL(NSLM_ERR_NUMERIC, "dgesdd: info %d", (int)info);
      goto done;
    }
  }
  size_t k = 0;
  while (k < kmax && sv[k] > 0.0 && sv[k] > o.rank_tol * sv[0]) k++;
  prob_t pr = {loss, m, n, k, u, data->y, o_, g, nthreads};
  int conv = 0, kind = loss->kind;
  int exact_target = k == n && (kind == NSLM_LOSS_ABSOLUTE || kind == NSLM_LOSS_HUBER ||
                                kind == NSLM_LOSS_HINGE);
  if (kind == NSLM_LOSS_SQUARED || exact_target) {
    /* beta = U^T T with T (n x m) the target: Y, or 1/y for the hinge. */
    double *t = g; /* n x m scratch */
    for (size_t i = 0; i < n * m; i++) {
      double yy = data->y[i];
      t[i] = kind == NSLM_LOSS_HINGE ? (yy != 0.0 ? 1.0 / yy : 0.0) : yy;
    }
    nslmi_gemm(1, 0, k, m, n, 1.0, u, 1, (ptrdiff_t)n, t, (ptrdiff_t)m, 1, 0.0, beta, (ptrdiff_t)m, 1,
               nthreads);
    conv = 1;
  } else if (k > 0) {
    /* start from the current outputs when they are in the loss's domain */
    double f0;
    nslmi_gemm(1, 0, k, m, n, 1.0, u, 1, (ptrdiff_t)n, f->a[l + 1], 1, (ptrdiff_t)n, 0.0, beta,
               (ptrdiff_t)m, 1, nthreads);
    if (objective(&pr, beta, &f0, NULL) != NSLM_OK) memset(beta, 0, k * m * sizeof *beta);
    st = lbfgs(&pr, beta, o.global_tol, o.global_max_iter, &conv);
    if (st) goto done;
  }
  /* Theta^l = (S^-1 beta)^T V^T: m x p. */
  newl = nslmi_calloc(m * p, sizeof *newl);
  gt = nslmi_malloc_array(m * p, sizeof *gt);
  if (newl == NULL || gt == NULL) {
    st = NSLMI_FAIL(NSLM_ERR_NOMEM, "output layer");
    goto done;
  }
  for (size_t i = 0; i < k; i++)
    for (size_t c = 0; c < m; c++) beta[i * m + c] /= sv[i];
  /* vt is k x p column-major (ld kmax): element (i, v) at vt[i + v*kmax]. */
  nslmi_gemm(1, 0, m, p, k, 1.0, beta, (ptrdiff_t)m, 1, vt, 1, (ptrdiff_t)kmax, 0.0, newl,
             (ptrdiff_t)p, 1, nthreads);
  if (!nslmi_all_finite(m, p, newl, (ptrdiff_t)p, 1)) {
    st = NSLMI_FAIL(NSLM_ERR_NUMERIC, "the minimizer over Theta^%zu is not finite", l);
    goto done;
  }
  /* The reported gradient: d L / d Theta^l = G A_l^T at the result. */
  nslmi_gemm(0, 0, m, n, p, 1.0, newl, (ptrdiff_t)p, 1, f->a[l], (ptrdiff_t)n, 1, 0.0, o_,
             (ptrdiff_t)n, 1, nthreads);
  double fv;
  st = nslmi_loss_batch(loss, m, n, o_, data->y, NULL, &fv, g);
  if (st) goto done;
  nslmi_gemm(0, 1, m, p, n, 1.0, g, (ptrdiff_t)n, 1, f->a[l], (ptrdiff_t)n, 1, 0.0, gt, (ptrdiff_t)p,
             1, nthreads);
  double gn = sqrt(dot(gt, gt, m * p));
  if (theta != out) nslm_params_assign(out, theta);
  memcpy(out->w[l], newl, m * p * sizeof *newl);
  if (rank) *rank = k;
  if (certified) *certified = k == n && conv;
  if (grad_norm) *grad_norm = gn;
done:
  nslmi_features_free(f);
  nslmi_free(a);
  nslmi_free(u);
  nslmi_free(vt);
  nslmi_free(sv);
  nslmi_free(iw);
  nslmi_free(beta);
  nslmi_free(o_);
  nslmi_free(g);
  nslmi_free(work);
  nslmi_free(newl);
  nslmi_free(gt);
  return st;
}
