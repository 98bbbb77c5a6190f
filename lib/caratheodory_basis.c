/* caratheodory_basis.c - the one rank decision of a reduction: the singular
 * values and top right singular vectors of Z (h x r), and the threads.
 *
 * Z is factorized by TSQR: each thread streams its slice of rows through
 * blocks [R_acc; next rows] (dgeqrf on a cache-sized stack, which runs much
 * faster than one dgeqrf of the whole tall matrix, whose panels do not fit
 * in cache), the per-thread triangles are stacked and factorized once more,
 * and the final r x r triangle R (Z = Q R) goes through dgesdd.  Z and R
 * have the same singular values and right singular vectors, so
 * Z V_k V_k^T is the best rank-k approximation and ||Z - Z V_k V_k^T||_2 =
 * sigma_{k+1}: the bound the reduction reports.  Q is never formed.
 *
 * Before that, a cheaper certificate of full column rank (gram_full_rank)
 * settles the common case k = r: first on an evenly spread sample of 2 r
 * rows (a few percent of the work for h >> r), then on the whole Z. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "alloc.h"
#include "blas.h"
#include "caratheodory_impl.h"
#include "lapack.h"
#include "matrix.h"
#include "status.h"

/* ---------------------------------------------------------------- threads */

typedef struct {
  nslmi_carath_task fn;
  void *arg;
  size_t worker;
  int status;
  int started;
  pthread_t th;
} slot_t;

static void *trampoline(void *p) {
  slot_t *s = p;
  s->status = s->fn(s->arg, s->worker);
  return NULL;
}

int nslmi_carath_parallel(size_t n, nslmi_carath_task fn, void *arg) {
  if (n <= 1)
    return fn(arg, 0);
  slot_t local[8], *slots = local;
  if (n > 8) {
    slots = nslmi_malloc_array(n, sizeof *slots);
    if (slots == NULL) {
      /* No room to track threads: run every worker here, in order. */
      int st = 0;
      for (size_t i = 0; i < n; i++) {
        int s = fn(arg, i);
        if (st == 0)
          st = s;
      }
      return st;
    }
  }
  for (size_t i = 1; i < n; i++) {
    slots[i].fn = fn;
    slots[i].arg = arg;
    slots[i].worker = i;
    slots[i].status = 0;
    slots[i].started = pthread_create(&slots[i].th, NULL, trampoline, &slots[i]) == 0;
  }
  int st = fn(arg, 0);
  for (size_t i = 1; i < n; i++) {
    if (slots[i].started)
      pthread_join(slots[i].th, NULL);
    else
      slots[i].status = fn(arg, i);
    if (st == 0)
      st = slots[i].status;
  }
  if (slots != local)
    nslmi_free(slots);
  return st;
}

/* ------------------------------------------------------------------ TSQR */

typedef struct {
  size_t h, r, parts, bsz, ld; /* ld = min(h, r) + bsz: rows of a stack */
  const double *z;             /* contiguous rows, row stride zrs */
  ptrdiff_t zrs;
  double **stack; /* per part: ld x r column-major */
  double **work;
  size_t *acc; /* per part: rows of its triangle */
  int lwork;
  atomic_int info_bad; /* set by a worker whose dgeqrf failed */
  atomic_size_t next;  /* next part to factorize */
} tsqr_ctx;

/* ||z||_2 of r entries at stride zcs, like nslmi_carath_nrm2: the largest
 * magnitude first, so that no square overflows. */
static double row_norm(const double *z, ptrdiff_t zcs, size_t r) {
  double mx = 0.0, s = 0.0;
  for (size_t c = 0; c < r; c++)
    mx = fabs(z[(ptrdiff_t)c * zcs]) > mx ? fabs(z[(ptrdiff_t)c * zcs]) : mx;
  if (mx <= NSLMI_CARATH_NRM2_SAFE && mx >= 1.0 / NSLMI_CARATH_NRM2_SAFE) {
    for (size_t c = 0; c < r; c++) {
      double v = z[(ptrdiff_t)c * zcs];
      s += v * v;
    }
    if (isfinite(s) && s > 1e-280)
      return sqrt(s);
  }
  /* Over- or underflow of the squares: scale by the largest entry. */
  if (mx == 0.0 || !(mx < INFINITY)) {
    for (size_t c = 0; c < r; c++)
      if (z[(ptrdiff_t)c * zcs] != z[(ptrdiff_t)c * zcs])
        return z[(ptrdiff_t)c * zcs]; /* a NaN, which mx skipped */
    return mx;                        /* 0, or an infinity */
  }
  s = 0.0;
  for (size_t c = 0; c < r; c++) {
    double v = z[(ptrdiff_t)c * zcs] / mx;
    s += v * v;
  }
  return mx * sqrt(s);
}

/* x86-64: the row norms of contiguous rows (a pass over all of Z) also
 * get an AVX2/FMA clone, where nslmi_carath_nrm2's four independent
 * maxima and sums become one vector each. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
__attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
static void row_norms(const double *z, ptrdiff_t zrs, size_t h, size_t r, double *out) {
  for (size_t j = 0; j < h; j++)
    out[j] = nslmi_carath_nrm2(z + (ptrdiff_t)j * zrs, r);
}

static int tsqr_one(tsqr_ctx *cx, size_t part) {
  size_t r = cx->r, ld = cx->ld;
  size_t j0 = cx->h * part / cx->parts, j1 = cx->h * (part + 1) / cx->parts;
  double *s = cx->stack[part];
  size_t acc = 0;
  nslmi_lapack_int n = (nslmi_lapack_int)r, lda = (nslmi_lapack_int)ld, lw = cx->lwork, info = 0;
  double *tau = cx->work[part], *work = tau + r;
  for (size_t j = j0; j < j1;) {
    size_t nb = j1 - j < cx->bsz ? j1 - j : cx->bsz;
    /* The triangle of the previous blocks keeps rows 0..acc-1; clear the
     * Householder vectors dgeqrf left under its diagonal. */
    for (size_t c = 0; c < r; c++)
      for (size_t i = c + 1; i < acc; i++)
        s[i + c * ld] = 0.0;
    for (size_t i = 0; i < nb; i++) {
      const double *zr = cx->z + (ptrdiff_t)(j + i) * cx->zrs;
      for (size_t c = 0; c < r; c++)
        s[acc + i + c * ld] = zr[c];
    }
    nslmi_lapack_int m = (nslmi_lapack_int)(acc + nb);
    dgeqrf_(&m, &n, s, &lda, tau, work, &lw, &info);
    if (info != 0) {
      atomic_store(&cx->info_bad, 1);
      return NSLM_ERR_NUMERIC;
    }
    acc = acc + nb < r ? acc + nb : r;
    j += nb;
  }
  for (size_t c = 0; c < r; c++)
    for (size_t i = c + 1; i < acc; i++)
      s[i + c * ld] = 0.0;
  cx->acc[part] = acc;
  return 0;
}

/* Threads take parts in turn; the parts (hence the rounding) depend on h
 * and r only, so results do not depend on the thread count. */
static int tsqr_worker(void *arg, size_t worker) {
  tsqr_ctx *cx = arg;
  (void)worker;
  for (;;) {
    size_t part = atomic_fetch_add(&cx->next, 1);
    if (part >= cx->parts)
      return 0;
    int st = tsqr_one(cx, part);
    if (st != 0)
      return st;
  }
}

/* Full column rank, certified: G = Z_S^T Z_S (BLIS) for the rows Z_S of a
 * subset S of Z (every row, or ns rows at a stride of step rows),
 * G = R^T R (dpotf2), R^{-1} (dtrtrs).  Z^T Z - Z_S^T Z_S is a sum of
 * outer products z_j z_j^T (j not in S), positive semidefinite, so
 * sigma_min(Z) >= sigma_min(Z_S) = sigma_min(R) up to rounding, and
 * sigma_min(R)^2 >= 1 / trace(G^{-1}) (the trace is ||R^{-1}||_F^2 >=
 * ||R^{-1}||_2^2).  R^T R differs from Z_S^T Z_S by the rounding of the
 * product and of the factorization, at most about (ns + r) eps
 * ||Z_S||_F^2 (we allow 4 times that, and a factor 2 on the computed
 * trace).  If what is left exceeds (rank_tol ||Z||_F)^2 >= (rank_tol
 * sigma_1)^2 (frob2 = ||Z||_F^2 of the whole Z, given by the caller, with
 * room for its rounding), every singular value of Z counts: k = r, and the
 * k-space is R^r itself (V = I), with nothing truncated.  *ok = 0 (and
 * NSLM_OK) when the certificate fails: the caller then tries the whole Z,
 * or runs the SVD.
 *
 * The unblocked Cholesky (dpotf2: level-2 BLAS) is used because dpotrf
 * cuts an r x r matrix into ~2 r recursive level-3 calls whose fixed
 * costs make it 15 times slower at r = 100 (measured: 0.9 ms against
 * 0.06 ms); the factor is the same up to rounding, which the margin
 * covers.
 *
 * Two shortcuts keep R^{-1} and the trace finite without changing the
 * decision: sigma_min(R) <= min_i R_ii (R_ii are R's eigenvalues), so when
 * 0.5 min_i R_ii^2 <= margin the test cannot pass and R^{-1} (whose
 * entries overflow for a nearly singular G, e.g. a rank-deficient Z near
 * 1e-150 unscaled) is not formed; and one entry of R^{-1} above
 * sqrt(0.5 / margin) makes the trace exceed 0.5 / margin, failing the
 * test, so the sum stops there (with Z's scale in the safe range, see
 * nslmi_carath_basis_init, 0.5 / margin < 2^570 and the sum of r^2 terms
 * under it is finite). */
static int gram_full_rank(const char *fn, nslmi_carath_basis *b, size_t ns, size_t step,
                          double frob2, double rank_tol, size_t nthreads, int *ok) {
  size_t h = b->h, r = b->r;
  ptrdiff_t srs = (ptrdiff_t)step * b->zrs; /* row stride of Z_S */
  *ok = 0;
  double *g = nslmi_malloc_array(2 * r * r, sizeof(double));
  if (g == NULL)
    return nslmi_fail(NSLM_ERR_NOMEM, fn, "Gram matrix of Z (%zu x %zu)", r, r);
  double *inv = g + r * r;
  /* Upper triangle only (dpotf2 reads no more): with Z_S = [Z_1 .. Z_nb]
   * in column blocks, the products Z_i^T [Z_i .. Z_nb], i.e. (nb + 1) /
   * (2 nb) of the full product; nb = 4 keeps the blocks large enough for
   * BLIS. */
  {
    size_t nblk = r >= 64 ? 4 : r >= 16 ? 2 : 1;
    for (size_t i = 0; i < nblk; i++) {
      size_t c0 = r * i / nblk, c1 = r * (i + 1) / nblk;
      nslmi_gemm(1, 0, c1 - c0, r - c0, ns, 1.0, b->z + c0, srs, 1, b->z + c0, srs, 1, 0.0,
                 g + c0 + c0 * r, 1, (ptrdiff_t)r, nthreads);
    }
  }
  double frob2s = 0.0; /* ||Z_S||_F^2 */
  for (size_t i = 0; i < r; i++)
    frob2s += g[i + i * r];
  nslmi_lapack_int n = (nslmi_lapack_int)r, info = -1;
  char uplo = 'U';
  double margin = 4.0 * (double)(ns + r + 2) * DBL_EPSILON * frob2s;
  /* ||Z||_F^2 as summed by the caller is within (h + 2) eps of the truth. */
  double thresh = rank_tol * rank_tol * frob2 * (1.0 + 4.0 * (double)(h + 2) * DBL_EPSILON);
  if (frob2s > 0.0 && isfinite(frob2s) && isfinite(frob2))
    dpotf2_(&uplo, &n, g, &n, &info); /* G = R^T R */
  if (info == 0) {
    double dmin = INFINITY;
    for (size_t i = 0; i < r; i++)
      dmin = g[i + i * r] < dmin ? g[i + i * r] : dmin;
    if (!(0.5 * dmin * dmin > margin))
      info = 1; /* the test below would fail: skip R^{-1} */
  }
  if (info == 0) {
    char no = 'N';
    memset(inv, 0, r * r * sizeof *inv);
    for (size_t i = 0; i < r; i++)
      inv[i + i * r] = 1.0;
    dtrtrs_(&uplo, &no, &no, &n, &n, g, &n, inv, &n, &info); /* R^{-1} */
  }
  if (info == 0) {
    double tr = 0.0; /* trace(G^{-1}) = ||R^{-1}||_F^2 */
    const double amax = sqrt(0.5 / margin);
    int big = 0;
    for (size_t i = 0; i < r * r && !big; i++) {
      double a = fabs(inv[i]);
      if (a > amax)
        big = 1; /* tr > 0.5 / margin: the test fails */
      else
        tr += a * a;
    }
    if (!big && tr > 0.0 && isfinite(tr) && 0.5 / tr - margin > thresh)
      *ok = 1;
  }
  nslmi_free(g);
  if (*ok) {
    b->k = r;
    b->identity = 1;
    b->vt = NULL;
    memset(b->sv, 0, b->nsv * sizeof *b->sv);
  }
  return NSLM_OK;
}

void nslmi_carath_basis_free(nslmi_carath_basis *b) {
  nslmi_free(b->sv);
  nslmi_free(b->vt);
  nslmi_free(b->znorm);
  nslmi_free(b->zcopy);
  memset(b, 0, sizeof *b);
}

int nslmi_carath_basis_init(const char *fn, nslmi_carath_basis *b, size_t h, size_t r,
                            const double *z, ptrdiff_t zrs, ptrdiff_t zcs, int copy,
                            double rank_tol, size_t nthreads) {
  memset(b, 0, sizeof *b);
  b->h = h;
  b->r = r;
  b->nsv = h < r ? h : r;
  int st = NSLM_OK;
  tsqr_ctx cx;
  memset(&cx, 0, sizeof cx);
  double *fin = NULL, *fwork = NULL, *u = NULL, *vt = NULL;
  nslmi_lapack_int *iwork = NULL;

  b->znorm = nslmi_malloc_array(h, sizeof(double));
  b->sv = nslmi_malloc_array(b->nsv, sizeof(double));
  if (copy)
    b->zcopy = nslmi_malloc_array(h * r, sizeof(double));
  if (b->znorm == NULL || b->sv == NULL || (copy && b->zcopy == NULL)) {
    st = nslmi_fail(NSLM_ERR_NOMEM, fn, "factorization of Z (%zu x %zu)", h, r);
    goto out;
  }
  /* One pass: row norms, and the row-major copy where needed.  A norm is
   * NaN or infinite exactly when the row holds a NaN or an infinity (or
   * when finite entries near DBL_MAX overflow it: looked at then). */
  if (b->zcopy == NULL && zcs == 1)
    row_norms(z, zrs, h, r, b->znorm);
  for (size_t j = 0; j < h; j++) {
    const double *zr = z + (ptrdiff_t)j * zrs;
    if (b->zcopy) {
      double *dst = b->zcopy + j * r;
      for (size_t c = 0; c < r; c++)
        dst[c] = zr[(ptrdiff_t)c * zcs];
      b->znorm[j] = nslmi_carath_nrm2(dst, r);
    } else if (zcs != 1) {
      b->znorm[j] = row_norm(zr, zcs, r);
    }
    if (!isfinite(b->znorm[j]) && !nslmi_all_finite(1, r, zr, 0, zcs)) {
      st = nslmi_fail(NSLM_ERR_NONFINITE, fn, "Z has a NaN or Inf entry (row %zu)", j);
      goto out;
    }
  }
  /* Z of unsafe scale (largest row norm outside 2^+-NSLMI_CARATH_SAFE_EXP)
   * is replaced by Z / 2^zexp, a power of 2 bringing it to [1/2, 1) (exact
   * but for entries 2^1022 times shorter than the longest row):
   * the reduction is the same (t' with sum t'_j z_j = sum t_j z_j for Z is
   * the same for Z / 2^zexp; the rank, the relative residual and bound do
   * not change), but the Gram matrix, its inverse and the sums of t_j z_j
   * stay finite (rows near 1e-150 with coefficients near 1e150 otherwise
   * overflow there).  Row norms that overflowed on finite entries (near
   * DBL_MAX) take the scale from the largest entry. */
  {
    double zmax = 0.0;
    for (size_t j = 0; j < h; j++)
      zmax = b->znorm[j] > zmax ? b->znorm[j] : zmax;
    if (!(zmax < INFINITY)) {
      zmax = 0.0;
      for (size_t j = 0; j < h; j++)
        for (size_t c = 0; c < r; c++) {
          double a = fabs(z[(ptrdiff_t)j * zrs + (ptrdiff_t)c * zcs]);
          zmax = a > zmax ? a : zmax;
        }
    }
    int ez = 0;
    if (zmax > 0.0)
      frexp(zmax, &ez);
    if (ez > NSLMI_CARATH_SAFE_EXP || ez < -NSLMI_CARATH_SAFE_EXP) {
      if (b->zcopy == NULL) {
        b->zcopy = nslmi_malloc_array(h * r, sizeof(double));
        if (b->zcopy == NULL) {
          st = nslmi_fail(NSLM_ERR_NOMEM, fn, "scaled copy of Z (%zu x %zu)", h, r);
          goto out;
        }
        for (size_t j = 0; j < h; j++)
          for (size_t c = 0; c < r; c++)
            b->zcopy[j * r + c] = z[(ptrdiff_t)j * zrs + (ptrdiff_t)c * zcs];
      }
      for (size_t j = 0; j < h; j++) {
        double *dst = b->zcopy + j * r;
        for (size_t c = 0; c < r; c++)
          dst[c] = ldexp(dst[c], -ez);
        b->znorm[j] = nslmi_carath_nrm2(dst, r);
      }
      b->zexp = ez;
    }
  }
  b->z = b->zcopy ? b->zcopy : z;
  b->zrs = b->zcopy ? (ptrdiff_t)r : zrs;

  if (h >= r) {
    /* First a sample of NSLMI_CARATH_GRAM_SAMPLE r rows spread evenly over
     * Z (its Gram matrix costs a fraction of the whole one, and already
     * certifies generic data), then, if that fails, the whole Z. */
    double frob2 = 0.0;
    for (size_t j = 0; j < h; j++)
      frob2 += b->znorm[j] * b->znorm[j];
    size_t ns = NSLMI_CARATH_GRAM_SAMPLE * r;
    int ok = 0;
    if (h >= 2 * ns) {
      st = gram_full_rank(fn, b, ns, h / ns, frob2, rank_tol, nthreads, &ok);
      if (st != NSLM_OK || ok)
        goto out;
    }
    st = gram_full_rank(fn, b, h, 1, frob2, rank_tol, nthreads, &ok);
    if (st != NSLM_OK || ok)
      goto out;
  }

  /* Parts of max(64 r, 4096) rows, each streamed in blocks of max(8 r,
   * 256) rows: the stack [R; block] stays within a few MB for r <= 300,
   * and the merge stacks only h / 64 rows. */
  cx.h = h;
  cx.r = r;
  {
    size_t prow = 64 * r > 4096 ? 64 * r : 4096;
    cx.parts = (h + prow - 1) / prow;
  }
  cx.bsz = 8 * r > 256 ? 8 * r : 256;
  if (cx.bsz > h)
    cx.bsz = h;
  cx.ld = (h < r ? h : r) + cx.bsz;
  cx.z = b->z;
  cx.zrs = b->zrs;
  {
    nslmi_lapack_int m = (nslmi_lapack_int)cx.ld, n = (nslmi_lapack_int)r, lw = -1, info = 0;
    double q = 0.0;
    dgeqrf_(&m, &n, NULL, &m, NULL, &q, &lw, &info);
    cx.lwork = info == 0 && q >= 1.0 ? (int)q : (int)(64 * r);
  }
  cx.stack = nslmi_calloc(cx.parts, sizeof *cx.stack);
  cx.work = nslmi_calloc(cx.parts, sizeof *cx.work);
  cx.acc = nslmi_calloc(cx.parts, sizeof *cx.acc);
  if (cx.stack == NULL || cx.work == NULL || cx.acc == NULL) {
    st = nslmi_fail(NSLM_ERR_NOMEM, fn, "TSQR workspace");
    goto out;
  }
  for (size_t p = 0; p < cx.parts; p++) {
    cx.stack[p] = nslmi_malloc_array(cx.ld * r, sizeof(double));
    cx.work[p] = nslmi_malloc_array(r + (size_t)cx.lwork, sizeof(double));
    if (cx.stack[p] == NULL || cx.work[p] == NULL) {
      st = nslmi_fail(NSLM_ERR_NOMEM, fn, "TSQR workspace");
      goto out;
    }
  }
  atomic_init(&cx.next, 0);
  atomic_init(&cx.info_bad, 0);
  nslmi_carath_parallel(nthreads < cx.parts ? nthreads : cx.parts, tsqr_worker, &cx);
  if (atomic_load(&cx.info_bad)) {
    st = nslmi_fail(NSLM_ERR_NUMERIC, fn, "dgeqrf failed on a block of Z");
    goto out;
  }

  /* Stack the parts' triangles and factorize once more. */
  size_t tot = 0;
  for (size_t p = 0; p < cx.parts; p++)
    tot += cx.acc[p];
  size_t mr = tot < r ? tot : r; /* rows of the final triangle = min(h, r) */
  fin = nslmi_malloc_array(tot * r, sizeof(double));
  if (fin == NULL) {
    st = nslmi_fail(NSLM_ERR_NOMEM, fn, "TSQR merge");
    goto out;
  }
  {
    size_t off = 0, ld = cx.ld;
    for (size_t p = 0; p < cx.parts; p++) {
      for (size_t c = 0; c < r; c++)
        for (size_t i = 0; i < cx.acc[p]; i++)
          fin[off + i + c * tot] = cx.stack[p][i + c * ld];
      off += cx.acc[p];
    }
  }
  if (cx.parts > 1) {
    nslmi_lapack_int m = (nslmi_lapack_int)tot, n = (nslmi_lapack_int)r, lw = -1, info = 0;
    double q = 0.0;
    dgeqrf_(&m, &n, fin, &m, cx.work[0], &q, &lw, &info);
    lw = info == 0 && q >= 1.0 ? (nslmi_lapack_int)q : (nslmi_lapack_int)(64 * r);
    double *wk = nslmi_malloc_array((size_t)lw + r, sizeof(double));
    if (wk == NULL) {
      st = nslmi_fail(NSLM_ERR_NOMEM, fn, "TSQR merge");
      goto out;
    }
    dgeqrf_(&m, &n, fin, &m, wk, wk + r, &lw, &info);
    nslmi_free(wk);
    if (info != 0) {
      st = nslmi_fail(NSLM_ERR_NUMERIC, fn, "dgeqrf failed on the stacked triangles");
      goto out;
    }
  }
  /* The triangle, as an mr x r column-major matrix for dgesdd. */
  {
    double *tri = nslmi_malloc_array(mr * r, sizeof(double));
    if (tri == NULL) {
      st = nslmi_fail(NSLM_ERR_NOMEM, fn, "SVD of R");
      goto out;
    }
    for (size_t c = 0; c < r; c++)
      for (size_t i = 0; i < mr; i++)
        tri[i + c * mr] = i <= c ? fin[i + c * tot] : 0.0;
    nslmi_free(fin);
    fin = tri;
  }
  {
    nslmi_lapack_int m = (nslmi_lapack_int)mr, n = (nslmi_lapack_int)r, lw = -1, info = 0;
    char jobz = 'S';
    double q = 0.0;
    u = nslmi_malloc_array(mr * mr, sizeof(double));
    vt = nslmi_malloc_array(mr * r, sizeof(double));
    iwork = nslmi_malloc_array(8 * mr, sizeof *iwork);
    if (u == NULL || vt == NULL || iwork == NULL) {
      st = nslmi_fail(NSLM_ERR_NOMEM, fn, "SVD of R");
      goto out;
    }
    dgesdd_(&jobz, &m, &n, fin, &m, b->sv, u, &m, vt, &m, &q, &lw, iwork, &info);
    if (info != 0 || !(q >= 1.0) || q > (double)INT_MAX) {
      st = nslmi_fail(NSLM_ERR_NUMERIC, fn, "dgesdd workspace query failed (info %d)", (int)info);
      goto out;
    }
    lw = (nslmi_lapack_int)q;
    fwork = nslmi_malloc_array((size_t)lw, sizeof(double));
    if (fwork == NULL) {
      st = nslmi_fail(NSLM_ERR_NOMEM, fn, "SVD of R");
      goto out;
    }
    dgesdd_(&jobz, &m, &n, fin, &m, b->sv, u, &m, vt, &m, fwork, &lw, iwork, &info);
    if (info != 0) {
      st = nslmi_fail(NSLM_ERR_NUMERIC, fn, "dgesdd did not converge (info %d)", (int)info);
      goto out;
    }
  }
  {
    size_t k = 0;
    double s1 = b->nsv ? b->sv[0] : 0.0;
    while (k < b->nsv && s1 > 0.0 && b->sv[k] > rank_tol * s1)
      k++;
    b->k = k;
    b->vt = nslmi_malloc_array(k ? k * r : 1, sizeof(double));
    if (b->vt == NULL) {
      st = nslmi_fail(NSLM_ERR_NOMEM, fn, "basis of Z");
      goto out;
    }
    for (size_t i = 0; i < k; i++)
      for (size_t c = 0; c < r; c++)
        b->vt[i * r + c] = vt[i + c * mr];
  }

out:
  if (cx.stack)
    for (size_t p = 0; p < cx.parts; p++)
      nslmi_free(cx.stack[p]);
  if (cx.work)
    for (size_t p = 0; p < cx.parts; p++)
      nslmi_free(cx.work[p]);
  nslmi_free(cx.stack);
  nslmi_free(cx.work);
  nslmi_free(cx.acc);
  nslmi_free(fin);
  nslmi_free(fwork);
  nslmi_free(u);
  nslmi_free(vt);
  nslmi_free(iwork);
  if (st != NSLM_OK)
    nslmi_carath_basis_free(b);
  return st;
}
