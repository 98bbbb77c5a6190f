/* block.c - block reparameterization (DESIGN 2.2, 2.3).
 *
 * Compression walks the layers outermost first.  At layer j the rows R of
 * Theta^j that still matter (all m output rows at j = l, else the units
 * the layer above uses) are rewritten so that they compute the same
 * pre-activations on the data (w'A_j = wA_j) with few columns, and every
 * other row is zeroed; the units those rows use are R for layer j-1.
 * Each layer is one knot, so every segment changes one layer and is
 * CONSTANT: the changed rows keep their pre-activations (linear in the
 * row), the zeroed rows feed columns that were zeroed one step earlier.
 *
 * ROW mode reduces each row by the Caratheodory reduction (q = 1), so row
 * l1 norms never grow; JOINT mode writes A_j = C A_j[B] for a
 * rank-revealing subset B of units (LU with partial pivoting when it
 * proves full rank, else column-pivoted QR of A_j^T) and replaces W by
 * W C: width rank(A_j) <= n whatever m and l, norms may grow.
 *
 * Relocation moves active units onto free ones by three CONSTANT knots per
 * layer (copy the incoming row, slide the outgoing column, clear the old
 * row), which is the continuous counterpart of a permutation (Lemma 3).
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "blas.h"
#include "block.h"
#include "caratheodory.h"
#include "constraint.h"
#include "copts.h"
#include "lapack.h"
#include "matrix.h"
#include "net.h"
#include "params.h"
#include "path.h"
#include "status.h"
#include "units.h"

int nslmi_append_layer(nslm_path *path, const nslm_params *work, size_t j, int kind) {
  unsigned char changed[work->depth + 1];
  memset(changed, 0, sizeof changed);
  changed[j] = 1;
  return nslmi_path_append_layers(path, (const double *const *)work->w, changed, kind);
}

int nslmi_constraint_active(const nslm_constraint *con) {
  if (con == NULL) return 0;
  double a, b, q;
  if (nslm_constraint_get(con, &a, &b, &q) != NSLM_OK) return 0;
  return a > 0.0 || b > 0.0;
}

/* ---------------------------------------------------------------------
 * JOINT mode: a rank-revealing basis of the rows of A (p x n row-major,
 * which is A^T column-major with leading dimension n, so LAPACK reads it
 * without a transpose).
 * ------------------------------------------------------------------- */

typedef struct {
  size_t k;         /* numerical rank: the basis is piv[0..k) */
  size_t *piv;      /* p units: basis first, then the others */
  double *buf;      /* workspace of n x p doubles holding X^T */
  const double *xt; /* X^T, (p - k) x k: A[piv[k + i]] = sum_c X^T(i, c) A[piv[c]] */
  ptrdiff_t xrs, xcs; /* its row and column strides */
} basis_t;

/* The LU fast path (lu_basis) is taken only when its basis is clearly of
 * full rank: L1 (the pivot rows' unit lower factor, whose inverse makes X)
 * has a 1-norm reciprocal condition estimate of at least
 * JOINT_LU_MIN_RCOND, and the estimated smallest singular value of L1 U is
 * at least JOINT_LU_MARGIN times the rank tolerance's threshold (tol times
 * the largest row norm), so the pivoted QR would decide the same rank.
 * Anything less goes to the pivoted QR. */
#define JOINT_LU_MIN_RCOND 1e-6
#define JOINT_LU_MARGIN 1e3

static void basis_free(basis_t *b) {
  nslmi_free(b->piv);
  nslmi_free(b->buf);
  b->piv = NULL;
  b->buf = NULL;
}

static int lapack_qp3(nslmi_lapack_int m, nslmi_lapack_int nc, double *a, nslmi_lapack_int lda,
                      nslmi_lapack_int *jpvt, double *tau) {
  nslmi_lapack_int lwork = -1, info = 0;
  double q = 0.0;
  dgeqp3_(&m, &nc, a, &lda, jpvt, tau, &q, &lwork, &info);
  if (info != 0) return NSLMI_FAIL(NSLM_ERR_NUMERIC, "dgeqp3 workspace query: info %d", (int)info);
  lwork = (nslmi_lapack_int)q;
  if (lwork < 1) lwork = 1;
  double *work = nslmi_malloc_array((size_t)lwork, sizeof *work);
  if (work == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "dgeqp3 workspace");
  dgeqp3_(&m, &nc, a, &lda, jpvt, tau, work, &lwork, &info);
  nslmi_free(work);
  if (info != 0) return NSLMI_FAIL(NSLM_ERR_NUMERIC, "dgeqp3: info %d", (int)info);
  return NSLM_OK;
}

static int lapack_ormqr_t(nslmi_lapack_int m, nslmi_lapack_int nc, nslmi_lapack_int k,
                          const double *a, nslmi_lapack_int lda, const double *tau, double *c,
                          nslmi_lapack_int ldc) {
  nslmi_lapack_int lwork = -1, info = 0;
  double q = 0.0;
  dormqr_("L", "T", &m, &nc, &k, a, &lda, tau, c, &ldc, &q, &lwork, &info);
  if (info != 0) return NSLMI_FAIL(NSLM_ERR_NUMERIC, "dormqr workspace query: info %d", (int)info);
  lwork = (nslmi_lapack_int)q;
  if (lwork < 1) lwork = 1;
  double *work = nslmi_malloc_array((size_t)lwork, sizeof *work);
  if (work == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "dormqr workspace");
  dormqr_("L", "T", &m, &nc, &k, a, &lda, tau, c, &ldc, work, &lwork, &info);
  nslmi_free(work);
  if (info != 0) return NSLMI_FAIL(NSLM_ERR_NUMERIC, "dormqr: info %d", (int)info);
  return NSLM_OK;
}

static double col_norm(const double *c, size_t len) {
  double s = 0.0, mx = 0.0;
  for (size_t i = 0; i < len; i++)
    if (fabs(c[i]) > mx) mx = fabs(c[i]);
  if (mx == 0.0) return 0.0;
  for (size_t i = 0; i < len; i++) s += (c[i] / mx) * (c[i] / mx);
  return mx * sqrt(s);
}

/* Lower bound estimate of the smallest singular value of the k x k
 * triangular matrix t (ld lda): rcond_1 |t|_1 / sqrt(k), with |t^-1|_2 <=
 * sqrt(k) |t^-1|_1.  0 when LAPACK fails. */
static double tri_sigma_min(const char *uplo, const char *diag, size_t k, const double *t,
                            size_t lda, double *work, nslmi_lapack_int *iwork, double *rcond) {
  double norm = 0.0;
  for (size_t c = 0; c < k; c++) {
    double s = 0.0;
    size_t r0 = *uplo == 'U' ? 0 : c, r1 = *uplo == 'U' ? c + 1 : k;
    for (size_t r = r0; r < r1; r++) s += (*diag == 'U' && r == c) ? 1.0 : fabs(t[r + c * lda]);
    if (s > norm) norm = s;
  }
  nslmi_lapack_int kk = (nslmi_lapack_int)k, ld = (nslmi_lapack_int)lda, info = 0;
  *rcond = 0.0;
  dtrcon_("1", uplo, diag, &kk, t, &ld, rcond, work, iwork, &info);
  if (info != 0 || !(*rcond > 0.0)) return *rcond = 0.0;
  return *rcond * norm / sqrt((double)k);
}

/* The fast path of joint_basis: LU with partial pivoting (level-3 BLAS,
 * unlike dgeqp3's half level-2 work), accepted only for a clearly
 * full-rank basis (JOINT_LU_*).  With nf >= n preferred units, the LU of
 * A[pref] (nf x n, rows = units) picks n pivot units B: P A[pref] = [L1;
 * L2] U, so A[rest] = L2 L1^-1 A[B] and the avoided units A[av] (U L1)^-1
 * A[B]: X^T = [L2; A[av] U^-1] L1^-1.  With p < n and no avoided units the
 * LU of A^T (n x p) only confirms that all p units are independent (k = p,
 * nothing to reduce).  Sets *taken; on 0 the caller runs the pivoted QR. */
static int lu_basis(size_t p, size_t n, size_t nf, const double *a, const size_t *order,
                    double tol, double scale, basis_t *b, int *taken) {
  *taken = 0;
  size_t na = p - nf;
  int units_as_rows = nf >= n;
  if (n == 0 || nf == 0 || (!units_as_rows && na > 0)) return NSLM_OK;
  size_t rows = units_as_rows ? p : n, cols = units_as_rows ? n : p, lu_rows = units_as_rows ? nf : n;
  double *t = b->buf; /* rows x cols column-major, ld = rows */
  if (units_as_rows) {
    for (size_t i = 0; i < p; i++) {
      const double *src = a + order[i] * n;
      for (size_t c = 0; c < n; c++) t[i + c * p] = src[c];
    }
  } else {
    for (size_t c = 0; c < p; c++) memcpy(t + c * n, a + order[c] * n, n * sizeof *t);
  }
  nslmi_lapack_int mm = (nslmi_lapack_int)lu_rows, nn = (nslmi_lapack_int)cols,
                   ld = (nslmi_lapack_int)rows, info = 0;
  nslmi_lapack_int *ipiv = nslmi_malloc_array(cols, sizeof *ipiv);
  nslmi_lapack_int *iwork = nslmi_malloc_array(cols, sizeof *iwork);
  double *work = nslmi_malloc_array(3 * cols, sizeof *work);
  size_t *idx = nslmi_malloc_array(lu_rows, sizeof *idx);
  int st = NSLM_OK;
  if (ipiv == NULL || iwork == NULL || work == NULL || idx == NULL) {
    st = NSLMI_FAIL(NSLM_ERR_NOMEM, "LU of a %zu x %zu feature matrix", lu_rows, cols);
    goto done;
  }
  dgetrf_(&mm, &nn, t, &ld, ipiv, &info);
  if (info != 0) goto done; /* < 0: a bad argument (not ours to report); > 0: U singular */
  double rl, ru;
  double sl = tri_sigma_min("L", "U", cols, t, rows, work, iwork, &rl);
  double su = tri_sigma_min("U", "N", cols, t, rows, work, iwork, &ru);
  if (!(rl >= JOINT_LU_MIN_RCOND) || !(sl * su >= JOINT_LU_MARGIN * tol * scale)) goto done;
  if (!units_as_rows) {
    for (size_t i = 0; i < p; i++) b->piv[i] = order[i];
    b->k = p;
    b->xt = NULL;
    b->xrs = b->xcs = 1;
    *taken = 1;
    goto done;
  }
  for (size_t i = 0; i < nf; i++) idx[i] = i;
  for (size_t i = 0; i < n; i++) {
    size_t q = (size_t)ipiv[i] - 1, tmp = idx[i];
    idx[i] = idx[q];
    idx[q] = tmp;
  }
  for (size_t i = 0; i < nf; i++) b->piv[i] = order[idx[i]];
  for (size_t i = nf; i < p; i++) b->piv[i] = order[i];
  nslmi_lapack_int nk = (nslmi_lapack_int)n, one_rows;
  const double one = 1.0;
  if (na > 0) { /* A[av] U^-1 */
    one_rows = (nslmi_lapack_int)na;
    dtrsm_("R", "U", "N", "N", &one_rows, &nk, &one, t, &ld, t + nf, &ld);
  }
  if (p > n) { /* [L2; A[av] U^-1] L1^-1 */
    one_rows = (nslmi_lapack_int)(p - n);
    dtrsm_("R", "L", "N", "U", &one_rows, &nk, &one, t, &ld, t + n, &ld);
  }
  b->k = n;
  b->xt = t + n;
  b->xrs = 1;
  b->xcs = (ptrdiff_t)p;
  *taken = 1;
done:
  nslmi_free(ipiv);
  nslmi_free(iwork);
  nslmi_free(work);
  nslmi_free(idx);
  return st;
}

/* Units in avoid are used only when the others do not span the rows of A
 * (to within tol): then the basis is recomputed over all units. */
static int joint_basis(size_t p, size_t n, const double *a, const unsigned char *avoid,
                       double tol, basis_t *b) {
  b->k = 0;
  b->piv = NULL;
  b->buf = NULL;
  if (p > INT_MAX || n > INT_MAX) return NSLMI_FAIL(NSLM_ERR_DIMENSION, "layer %zu x %zu too large for LAPACK", p, n);
  size_t nf = 0;
  if (avoid)
    for (size_t i = 0; i < p; i++) nf += !avoid[i];
  else
    nf = p;
  if (nf == 0) avoid = NULL, nf = p; /* nothing to prefer */
  size_t na = p - nf, kmax = nf < n ? nf : n;
  int ok;
  size_t sz = nslmi_mul_size(n, p, &ok);
  b->piv = nslmi_malloc_array(p, sizeof *b->piv);
  b->buf = ok ? nslmi_malloc_array(sz, sizeof *b->buf) : NULL;
  size_t *order = nslmi_malloc_array(p, sizeof *order);
  nslmi_lapack_int *jpvt = nslmi_calloc(nf, sizeof *jpvt);
  double *tau = nslmi_malloc_array(kmax ? kmax : 1, sizeof *tau);
  int st = NSLM_OK;
  if (b->piv == NULL || b->buf == NULL || order == NULL || jpvt == NULL || tau == NULL) {
    st = NSLMI_FAIL(NSLM_ERR_NOMEM, "basis of a %zu x %zu feature matrix", p, n);
    goto done;
  }
  size_t c = 0;
  for (size_t i = 0; i < p; i++)
    if (!avoid || !avoid[i]) order[c++] = i;
  for (size_t i = 0; i < p; i++)
    if (avoid && avoid[i]) order[c++] = i;
  /* Scale of the rank decision: the largest row of A. */
  double scale = 0.0;
  for (c = 0; c < p; c++) {
    double v = col_norm(a + c * n, n);
    if (v > scale) scale = v;
  }
  int taken = 0;
  st = lu_basis(p, n, nf, a, order, tol, scale, b, &taken);
  if (st || taken) goto done;
  for (c = 0; c < p; c++) memcpy(b->buf + c * n, a + order[c] * n, n * sizeof(double));
  st = lapack_qp3((nslmi_lapack_int)n, (nslmi_lapack_int)nf, b->buf, (nslmi_lapack_int)n, jpvt, tau);
  if (st) goto done;
  size_t k = 0;
  while (k < kmax && fabs(b->buf[k * n + k]) > tol * scale && b->buf[k * n + k] != 0.0) k++;
  if (na > 0) {
    /* The avoided units must lie in the span of the chosen ones. */
    double *ca = b->buf + nf * n;
    if (kmax > 0) {
      st = lapack_ormqr_t((nslmi_lapack_int)n, (nslmi_lapack_int)na, (nslmi_lapack_int)kmax, b->buf,
                          (nslmi_lapack_int)n, tau, ca, (nslmi_lapack_int)n);
      if (st) goto done;
    }
    int spans = 1;
    for (size_t i = 0; i < na && spans; i++)
      if (col_norm(ca + i * n + k, n - k) > tol * scale) spans = 0;
    if (!spans) {
      nslmi_free(order);
      nslmi_free(jpvt);
      nslmi_free(tau);
      basis_free(b);
      return joint_basis(p, n, a, NULL, tol, b);
    }
  }
  for (size_t i = 0; i < nf; i++) b->piv[i] = order[jpvt[i] - 1];
  for (size_t i = nf; i < p; i++) b->piv[i] = order[i];
  if (k > 0 && p > k) {
    nslmi_lapack_int kk = (nslmi_lapack_int)k, nr = (nslmi_lapack_int)(p - k), ld = (nslmi_lapack_int)n, info = 0;
    dtrtrs_("U", "N", "N", &kk, &nr, b->buf, &ld, b->buf + k * n, &ld, &info);
    if (info != 0) {
      st = NSLMI_FAIL(NSLM_ERR_NUMERIC, "dtrtrs: info %d", (int)info);
      goto done;
    }
  }
  b->k = k;
  b->xt = b->buf + k * n; /* X is k x (p - k) column-major, ld n */
  b->xrs = (ptrdiff_t)n;
  b->xcs = 1;
done:
  nslmi_free(order);
  nslmi_free(jpvt);
  nslmi_free(tau);
  if (st) basis_free(b);
  return st;
}

/* Rows sel[0..u) of Theta^j (rows x p) reduced by the JOINT recipe:
 * w'_B = w_B + w_rest X^T, written into wb (u x k); returns the basis. */
static int joint_layer(const double *w, size_t p, const size_t *sel, size_t u, const double *a,
                       size_t n, const unsigned char *avoid, double tol, size_t nthreads,
                       basis_t *b, double **wb_out) {
  int st = joint_basis(p, n, a, avoid, tol, b);
  if (st) return st;
  size_t k = b->k, rest = p - k;
  double *wb = nslmi_malloc_array(u * (k ? k : 1), sizeof *wb);
  double *wr = nslmi_malloc_array(u * (rest ? rest : 1), sizeof *wr);
  if (wb == NULL || wr == NULL) {
    nslmi_free(wb);
    nslmi_free(wr);
    basis_free(b);
    return NSLMI_FAIL(NSLM_ERR_NOMEM, "JOINT rows (%zu x %zu)", u, p);
  }
  for (size_t r = 0; r < u; r++) {
    const double *row = w + sel[r] * p;
    for (size_t i = 0; i < k; i++) wb[r * k + i] = row[b->piv[i]];
    for (size_t i = 0; i < rest; i++) wr[r * rest + i] = row[b->piv[k + i]];
  }
  if (rest > 0 && k > 0)
    nslmi_gemm(0, 0, u, k, rest, 1.0, wr, (ptrdiff_t)rest, 1, b->xt, b->xrs, b->xcs, 1.0, wb,
               (ptrdiff_t)k, 1, nthreads);
  nslmi_free(wr);
  *wb_out = wb;
  return NSLM_OK;
}

/* ---------------------------------------------------------------------
 * Compression
 * ------------------------------------------------------------------- */

/* ROW: the Caratheodory reduction (q = 1) of rows sel[0..u) of W (rows x
 * p) against A (p x n), written into wr (u x p). */
static int row_layer(const double *w, size_t p, const size_t *sel, size_t u, const double *a,
                     size_t n, double tol, size_t nthreads, double *wr) {
  for (size_t r = 0; r < u; r++) memcpy(wr + r * p, w + sel[r] * p, p * sizeof *wr);
  nslmi_carath_opts co;
  memset(&co, 0, sizeof co);
  co.rank_tol = tol;
  co.paper_mode = 0;
  co.nthreads = nthreads;
  return nslmi_carath_rows(p, n, a, (ptrdiff_t)n, 1, u, wr, (ptrdiff_t)p, 1, 1.0, &co, wr,
                           (ptrdiff_t)p, 1, NULL, NULL, NULL, NULL, NULL, NULL);
}

/* One layer: the rows sel[0..u) of Theta^j rewritten by the mode, every
 * other row zeroed.  SHARED takes the JOINT row (support: the common
 * basis) when its l1 norm is within budget, else the ROW reduction. */
static int compress_layer(double *w, size_t p, size_t rows, const size_t *sel, size_t u,
                          const double *a, size_t n, const unsigned char *avoid,
                          const nslm_construct_opts *o, double budget, size_t nthreads,
                          size_t j) {
  if (u == 0) {
    memset(w, 0, rows * p * sizeof *w);
    return NSLM_OK;
  }
  int st = NSLM_OK;
  basis_t b = {0, NULL, NULL, NULL, 1, 1};
  double *wb = NULL, *wr = NULL;
  size_t *over = NULL, nover = 0;
  if (o->mode != NSLM_COMPRESS_ROW) {
    st = joint_layer(w, p, sel, u, a, n, avoid, o->rank_tol, nthreads, &b, &wb);
    if (st) return st;
  }
  if (o->mode == NSLM_COMPRESS_SHARED) {
    over = nslmi_malloc_array(u, sizeof *over);
    if (over == NULL) {
      st = NSLMI_FAIL(NSLM_ERR_NOMEM, "rows of layer %zu", j);
      goto done;
    }
    for (size_t r = 0; r < u; r++) {
      double s = 0.0;
      for (size_t i = 0; i < b.k; i++) s += fabs(wb[r * b.k + i]);
      if (!(s <= budget)) over[nover++] = r;
    }
  } else if (o->mode == NSLM_COMPRESS_ROW) {
    nover = u; /* every row */
  }
  if (nover > 0) {
    const size_t *rs = sel;
    if (o->mode == NSLM_COMPRESS_SHARED) {
      for (size_t i = 0; i < nover; i++) over[i] = sel[over[i]];
      rs = over;
    }
    wr = nslmi_malloc_array(nover * p, sizeof *wr);
    if (wr == NULL) {
      st = NSLMI_FAIL(NSLM_ERR_NOMEM, "rows of layer %zu (%zu x %zu)", j, nover, p);
      goto done;
    }
    st = row_layer(w, p, rs, nover, a, n, o->rank_tol, nthreads, wr);
    if (st) goto done;
  }
  memset(w, 0, rows * p * sizeof *w);
  if (o->mode != NSLM_COMPRESS_ROW)
    for (size_t r = 0; r < u; r++)
      for (size_t i = 0; i < b.k; i++) w[sel[r] * p + b.piv[i]] = wb[r * b.k + i];
  if (nover > 0) {
    const size_t *rs = o->mode == NSLM_COMPRESS_SHARED ? over : sel;
    for (size_t r = 0; r < nover; r++) memcpy(w + rs[r] * p, wr + r * p, p * sizeof *wr);
  }
done:
  nslmi_free(wb);
  nslmi_free(wr);
  nslmi_free(over);
  basis_free(&b);
  return st;
}

int nslmi_compress_run(const nslm_net *net, nslm_params *work, const nslmi_features *f,
                       const nslm_construct_opts *o, const unsigned char *avoid, double budget,
                       nslm_path *path, size_t *active, const struct nslmi_compress_sync *sync) {
  size_t l = work->depth, n = f->n;
  const size_t *wd = work->widths;
  size_t nthreads = o->nthreads > 0 ? (size_t)o->nthreads : nslmi_net_threads(net);
  size_t maxw = 0;
  for (size_t j = 0; j <= l + 1; j++)
    if (wd[j] > maxw) maxw = wd[j];
  unsigned char *keep = nslmi_malloc(maxw); /* rows R of Theta^j that matter */
  size_t *sel = nslmi_malloc_array(maxw, sizeof *sel);
  if (keep == NULL || sel == NULL) {
    nslmi_free(keep);
    nslmi_free(sel);
    return NSLMI_FAIL(NSLM_ERR_NOMEM, "compression masks");
  }
  int st = NSLM_OK;
  memset(keep, 1, wd[l + 1]);
  for (size_t j = l; j >= 1 && st == NSLM_OK; j--) {
    size_t p = wd[j], rows = wd[j + 1], u = 0;
    for (size_t r = 0; r < rows; r++)
      if (keep[r]) sel[u++] = r;
    const unsigned char *av = avoid ? avoid + nslmi_units_offset(wd, j) : NULL;
    if (av && sync && sync->wait && sync->wait(sync->user, j)) {
      st = NSLMI_FAIL(NSLM_ERR_CANCELLED, "the other compression failed");
      break;
    }
    st = compress_layer(work->w[j], p, rows, sel, u, f->a[j], n, av, o, budget, nthreads, j);
    if (st) break;
    nslmi_col_support(work, j, keep); /* S_j: the rows that matter one layer down */
    if (sync && sync->publish) sync->publish(sync->user, j, keep);
    if (path) st = nslmi_append_layer(path, work, j, NSLM_SEG_CONSTANT);
  }
  if (st == NSLM_OK) {
    /* Layer 0: rows of units that no longer feed anything. */
    size_t p = wd[1], d = wd[0];
    for (size_t r = 0; r < p; r++)
      if (!keep[r]) memset(work->w[0] + r * d, 0, d * sizeof(double));
    if (path) st = nslmi_append_layer(path, work, 0, NSLM_SEG_CONSTANT);
  }
  if (st == NSLM_OK && active)
    for (size_t j = 1; j <= l; j++) active[j - 1] = nslmi_active_units(work, j, NULL);
  nslmi_free(keep);
  nslmi_free(sel);
  return st;
}

/* The row l1 budget of SHARED mode for layers >= 1: rmax / a_r, infinite
 * when those layers are unconstrained. */
double nslmi_shared_budget(const nslm_constraint *con, double rmax) {
  double a = 0.0, b, q;
  if (con == NULL || nslm_constraint_get(con, &a, &b, &q) != NSLM_OK || !(a > 0.0)) return INFINITY;
  return rmax / a;
}

/* Shared argument checks of the calls that take (net, theta, data). */
static int check_model(const char *func, const nslm_net *net, const nslm_params *theta,
                       const nslm_data *data) {
  if (net == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "net is NULL");
  if (theta == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "theta is NULL");
  if (data == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "data is NULL");
  if (!nslmi_params_match_net(theta, net))
    return nslmi_fail(NSLM_ERR_DIMENSION, func, "theta's widths differ from the net's");
  if (nslm_data_d(data) != net->widths[0] || nslm_data_m(data) != net->widths[net->depth + 1])
    return nslmi_fail(NSLM_ERR_DIMENSION, func, "data is d = %zu, m = %zu; the net wants %zu, %zu",
                      nslm_data_d(data), nslm_data_m(data), net->widths[0],
                      net->widths[net->depth + 1]);
  return NSLM_OK;
}

int nslmi_construct_check(const char *func, const nslm_net *net, const nslm_params *theta,
                          const nslm_data *data, const nslm_construct_opts *opts) {
  int st = check_model(func, net, theta, data);
  if (st) return st;
  return NSLM_OK;
}

static int compress_common(const char *func, const nslm_net *net, const nslm_params *theta,
                           const nslm_data *data, const nslm_constraint *con,
                           const nslm_construct_opts *opts, nslm_params **work_out,
                           nslm_path **path, size_t *active) {
  nslm_construct_opts o;
  nslmi_copts_resolve(&o, opts);
  nslmi_features *f = NULL;
  nslm_net local = *net; /* shallow copy: the option's thread count for the forward pass */
  if (o.nthreads > 0) local.nthreads = (size_t)o.nthreads;
  int st = nslmi_forward(&local, theta, data, 0, &f);
  if (st) return st;
  nslm_params *work = NULL;
  st = nslm_params_clone(&work, theta);
  nslm_path *pth = NULL;
  if (st == NSLM_OK && path) st = nslm_path_create(&pth, net, theta);
  /* SHARED keeps every row within max(1, r(Theta)) / a_r */
  double budget = INFINITY;
  if (o.mode == NSLM_COMPRESS_SHARED && con != NULL)
    budget = nslmi_shared_budget(con, fmax(1.0, nslmi_constraint_value(con, theta)));
  if (st == NSLM_OK) st = nslmi_compress_run(net, work, f, &o, NULL, budget, pth, active, NULL);
  nslmi_features_free(f);
  if (st) {
    nslm_params_destroy(work);
    nslm_path_destroy(pth);
    (void)func;
    return st;
  }
  *work_out = work;
  if (path) *path = pth;
  return NSLM_OK;
}

int nslm_compress(const nslm_net *net, const nslm_params *theta, const nslm_data *data,
                  const nslm_constraint *con, const nslm_construct_opts *opts, nslm_params *out,
                  nslm_path **path, size_t *active, size_t len, double *r_before,
                  double *r_after) {
  if (path) *path = NULL;
  int st = nslmi_construct_check(__func__, net, theta, data, opts);
  if (st) return st;
  NSLMI_CHECK_NULL(out);
  if (!nslmi_params_match_net(out, net))
    return NSLMI_FAIL(NSLM_ERR_DIMENSION, "out's widths differ from the net's");
  if (active == NULL && len != 0) return NSLMI_FAIL(NSLM_ERR_INVALID, "active is NULL but len = %zu", len);
  if (active != NULL && len != net->depth)
    return NSLMI_FAIL(NSLM_ERR_DIMENSION, "active has %zu entries, expected depth %zu", len, net->depth);
  size_t *act = nslmi_malloc_array(net->depth, sizeof *act);
  if (act == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "active widths");
  nslm_params *work = NULL;
  nslm_path *pth = NULL;
  st = compress_common(__func__, net, theta, data, con, opts, &work, path ? &pth : NULL, act);
  if (st) {
    nslmi_free(act);
    return st;
  }
  double rb = con ? nslmi_constraint_value(con, theta) : 0.0;
  double ra = con ? nslmi_constraint_value(con, work) : 0.0;
  if (r_before) *r_before = rb;
  if (r_after) *r_after = ra;
  if (opts && opts->mode == NSLM_COMPRESS_JOINT && nslmi_constraint_active(con) &&
      ra > (rb > 1.0 ? rb : 1.0)) {
    nslm_params_destroy(work);
    nslm_path_destroy(pth);
    nslmi_free(act);
    return NSLMI_FAIL(NSLM_ERR_INFEASIBLE,
                      "JOINT compression would raise r(Theta) from %.17g to %.17g > 1 under an "
                      "active constraint; use ROW mode", rb, ra);
  }
  nslm_params_assign(out, work);
  nslm_params_destroy(work);
  if (active)
    for (size_t j = 0; j < net->depth; j++) active[j] = act[j];
  nslmi_free(act);
  if (path) *path = pth;
  return NSLM_OK;
}

int nslm_compress_widths(const nslm_net *net, const nslm_params *theta, const nslm_data *data,
                         const nslm_constraint *con, const nslm_construct_opts *opts,
                         size_t *active, size_t len) {
  int st = nslmi_construct_check(__func__, net, theta, data, opts);
  if (st) return st;
  NSLMI_CHECK_NULL(active);
  if (len != net->depth)
    return NSLMI_FAIL(NSLM_ERR_DIMENSION, "active has %zu entries, expected depth %zu", len, net->depth);
  size_t *act = nslmi_malloc_array(net->depth, sizeof *act);
  if (act == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "active widths");
  nslm_params *work = NULL;
  st = compress_common(__func__, net, theta, data, con, opts, &work, NULL, act);
  if (st == NSLM_OK) {
    for (size_t j = 0; j < net->depth; j++) active[j] = act[j];
    nslm_params_destroy(work);
  }
  nslmi_free(act);
  return st;
}

/* ---------------------------------------------------------------------
 * Relocation
 * ------------------------------------------------------------------- */

int nslmi_relocate_check(const nslm_params *theta, const unsigned char *avoid, const char *func) {
  size_t l = theta->depth, maxp = 0;
  for (size_t j = 1; j <= l; j++)
    if (theta->widths[j] > maxp) maxp = theta->widths[j];
  unsigned char *act = nslmi_malloc(maxp);
  if (act == NULL) return nslmi_fail(NSLM_ERR_NOMEM, func, "relocation masks");
  char msg[380];
  size_t used = 0, short_layers = 0;
  msg[0] = '\0';
  for (size_t j = 1; j <= l; j++) {
    size_t p = theta->widths[j], na = nslmi_active_units(theta, j, act), nv = 0;
    const unsigned char *av = avoid + nslmi_units_offset(theta->widths, j);
    for (size_t k = 0; k < p; k++) nv += av[k] != 0;
    if (na + nv > p) {
      short_layers++;
      if (used < sizeof msg - 1) {
        int w = snprintf(msg + used, sizeof msg - used, "%shidden layer %zu needs %zu units, has %zu",
                         short_layers > 1 ? "; " : "", j, na + nv, p);
        if (w > 0) used += (size_t)w;
      }
    }
  }
  nslmi_free(act);
  if (short_layers) return nslmi_fail(NSLM_ERR_TOO_NARROW, func, "%s", msg);
  return NSLM_OK;
}

int nslmi_relocate_run(nslm_params *work, const unsigned char *avoid, nslm_path *path) {
  size_t l = work->depth, maxp = 0;
  for (size_t j = 1; j <= l; j++)
    if (work->widths[j] > maxp) maxp = work->widths[j];
  unsigned char *act = nslmi_malloc(maxp);
  size_t *src = nslmi_malloc_array(maxp, sizeof *src), *dst = nslmi_malloc_array(maxp, sizeof *dst);
  int st = NSLM_OK;
  if (act == NULL || src == NULL || dst == NULL) {
    st = NSLMI_FAIL(NSLM_ERR_NOMEM, "relocation lists");
    goto done;
  }
  for (size_t j = 1; j <= l && st == NSLM_OK; j++) {
    size_t p = work->widths[j], in = work->widths[j - 1], out = work->widths[j + 1];
    const unsigned char *av = avoid + nslmi_units_offset(work->widths, j);
    nslmi_active_units(work, j, act);
    size_t nm = 0, nfree = 0;
    for (size_t k = 0; k < p; k++)
      if (act[k] && av[k]) src[nm++] = k;
    if (nm == 0) continue;
    for (size_t k = 0; k < p && nfree < nm; k++)
      if (!act[k] && !av[k]) dst[nfree++] = k;
    if (nfree < nm) {
      st = NSLMI_FAIL(NSLM_ERR_TOO_NARROW, "hidden layer %zu: %zu units to move, %zu free", j, nm, nfree);
      break;
    }
    double *prev = work->w[j - 1], *next = work->w[j];
    /* (a) copy the incoming rows onto the free units (they feed zero columns) */
    for (size_t i = 0; i < nm; i++) memcpy(prev + dst[i] * in, prev + src[i] * in, in * sizeof(double));
    if (path && (st = nslmi_append_layer(path, work, j - 1, NSLM_SEG_CONSTANT))) break;
    /* (b) slide the outgoing columns: both units compute the same feature */
    for (size_t r = 0; r < out; r++)
      for (size_t i = 0; i < nm; i++) {
        next[r * p + dst[i]] = next[r * p + src[i]];
        next[r * p + src[i]] = 0.0;
      }
    if (path && (st = nslmi_append_layer(path, work, j, NSLM_SEG_CONSTANT))) break;
    /* (c) clear the old rows (they now feed zero columns) */
    for (size_t i = 0; i < nm; i++) memset(prev + src[i] * in, 0, in * sizeof(double));
    if (path && (st = nslmi_append_layer(path, work, j - 1, NSLM_SEG_CONSTANT))) break;
  }
done:
  nslmi_free(act);
  nslmi_free(src);
  nslmi_free(dst);
  return st;
}

int nslm_relocate(const nslm_net *net, const nslm_params *theta, const unsigned char *avoid,
                  size_t len, nslm_params *out, nslm_path **path) {
  if (path) *path = NULL;
  NSLMI_CHECK_NULL(net);
  NSLMI_CHECK_NULL(theta);
  NSLMI_CHECK_NULL(avoid);
  NSLMI_CHECK_NULL(out);
  if (!nslmi_params_match_net(theta, net) || !nslmi_params_match_net(out, net))
    return NSLMI_FAIL(NSLM_ERR_DIMENSION, "theta's or out's widths differ from the net's");
  size_t total = nslmi_units_total(net->depth, net->widths);
  if (len != total)
    return NSLMI_FAIL(NSLM_ERR_DIMENSION, "avoid has %zu entries, expected p_1 + ... + p_l = %zu", len, total);
  int st = nslmi_relocate_check(theta, avoid, __func__);
  if (st) return st;
  nslm_params *work = NULL;
  nslm_path *pth = NULL;
  st = nslm_params_clone(&work, theta);
  if (st == NSLM_OK && path) st = nslm_path_create(&pth, net, theta);
  if (st == NSLM_OK) st = nslmi_relocate_run(work, avoid, pth);
  if (st == NSLM_OK) {
    nslm_params_assign(out, work);
    if (path) *path = pth;
    pth = NULL;
  }
  nslm_params_destroy(work);
  nslm_path_destroy(pth);
  return st;
}
