/* caratheodory_impl.h - private pieces of the Caratheodory module, shared by
 * caratheodory.c (API, driver), caratheodory_basis.c (rank decision),
 * caratheodory_elim.c (block eliminator) and caratheodory_paper.c (the
 * lemma as stated).  Nothing here is used outside these files. */
#ifndef NSLM_LIB_CARATHEODORY_IMPL_H
#define NSLM_LIB_CARATHEODORY_IMPL_H

#include <math.h>
#include <stddef.h>

#include "caratheodory.h"

/* Local dependence threshold in k-space: a unit vector at distance <= this
 * from the span of the current support is dependent.  The rank tolerance
 * acts once, on the singular values of the whole Z; after that only
 * rounding decides (exact duplicates differ by rounding after a rotation;
 * dot products of length k round to about sqrt(k) eps). */
#define NSLMI_CARATH_ETA_FLOOR(k) (16.0 * sqrt((double)(k) + 1.0) * DBL_EPSILON)

/* A coefficient that a step leaves at or below this fraction of its value
 * before the step is a tie in the ratio test: it is set to 0 (what is
 * dropped is added to the reported defect). */
#define NSLMI_CARATH_TIE (8.0 * DBL_EPSILON)

/* Groups per level of the grouped reduction, as a multiple of the rank k
 * (at least NSLMI_CARATH_MIN_GROUPS): each level keeps at most k groups, so
 * the points left shrink by about this factor per level. */
#define NSLMI_CARATH_GROUP_FACTOR 3
#define NSLMI_CARATH_MIN_GROUPS 32

/* Rows from which the first level's group sums go through BLIS (one gemm
 * per group for all rows); a single row is summed directly. */
#define NSLMI_CARATH_MIN_BATCH 4

/* The full-rank certificate first tries the Gram matrix of this many
 * times r rows of Z, spread evenly (when Z has at least twice as many):
 * a row subset of full rank certifies Z, and 2 r Gaussian rows already
 * have sigma_min about 0.4 sqrt(r).  Only if it fails is the whole Z
 * used. */
#define NSLMI_CARATH_GRAM_SAMPLE 2

/* Magnitudes in [2^-this, 2^this] are used as they come; the rows of Z,
 * the coefficients of PAPER mode and the group coefficients of a level are
 * first scaled by a common power of 2 (exact) when their largest lies
 * outside.  Within it, h <= 2^60 products of two such numbers sum to at
 * most 2^572 (no overflow), and what underflows (below 2^-1022) is far
 * under the rounding of the results (eps 2^-512 = 2^-564). */
#define NSLMI_CARATH_SAFE_EXP 256

/* LAPACK takes 32-bit sizes: min(h, r) and r beyond this are refused. */
#define NSLMI_CARATH_MAX_DIM 16384

/* Largest magnitude of x under which a plain sum of n <= 2^60 squares can
 * neither overflow (n x^2 <= 2^1020) nor lose what matters to underflow
 * (a square under 2^-1074 is below 2^-114 of the largest one). */
#define NSLMI_CARATH_NRM2_SAFE 0x1p480

/* ||x||_2 of n contiguous doubles: the plain sum of squares when the
 * largest magnitude allows it and the sum lands in (1e-280, 1e300), else
 * the sum of (x_i / max|x|)^2 (no libm call in the usual case).  The
 * largest magnitude is found first, so that no square overflows: a
 * trapping FE_OVERFLOW would fire before any rescue. */
static inline double nslmi_carath_nrm2(const double *x, size_t n) {
  double m0 = 0.0, m1 = 0.0, m2 = 0.0, m3 = 0.0, mx, s;
  size_t i;
  for (i = 0; i + 4 <= n; i += 4) { /* independent maxima, like the sums */
    double a0 = fabs(x[i]), a1 = fabs(x[i + 1]), a2 = fabs(x[i + 2]), a3 = fabs(x[i + 3]);
    m0 = a0 > m0 ? a0 : m0;
    m1 = a1 > m1 ? a1 : m1;
    m2 = a2 > m2 ? a2 : m2;
    m3 = a3 > m3 ? a3 : m3;
  }
  for (; i < n; i++) {
    double a = fabs(x[i]);
    m0 = a > m0 ? a : m0;
  }
  m0 = m1 > m0 ? m1 : m0;
  m2 = m3 > m2 ? m3 : m2;
  mx = m2 > m0 ? m2 : m0;
  if (mx <= NSLMI_CARATH_NRM2_SAFE && mx >= 1.0 / NSLMI_CARATH_NRM2_SAFE) {
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    for (i = 0; i + 4 <= n; i += 4) { /* independent sums: no add-latency chain */
      s0 += x[i] * x[i];
      s1 += x[i + 1] * x[i + 1];
      s2 += x[i + 2] * x[i + 2];
      s3 += x[i + 3] * x[i + 3];
    }
    for (; i < n; i++)
      s0 += x[i] * x[i];
    s = (s0 + s2) + (s1 + s3);
    if (s < 1e300 && s > 1e-280)
      return sqrt(s);
    if (s != s)
      return s; /* a NaN in x */
  }
  if (mx == 0.0 || !(mx < INFINITY)) {
    for (i = 0; i < n; i++)
      if (x[i] != x[i])
        return x[i]; /* a NaN in x */
    return mx;       /* 0, or an infinity in x */
  }
  s = 0.0; /* divide: 1 / mx overflows for subnormal mx; a NaN propagates */
  for (i = 0; i < n; i++)
    s += (x[i] / mx) * (x[i] / mx);
  return mx * sqrt(s);
}

/* ---- The rank decision: one factorization of Z ------------------------ */
typedef struct {
  size_t h, r;
  size_t k;        /* numerical rank */
  size_t nsv;      /* min(h, r) singular values */
  double *sv;      /* nsv singular values of Z, descending */
  double *vt;      /* k x r row-major: rows are V_k^T (top right singular vectors);
                      NULL when identity */
  int identity;    /* full column rank certified by Cholesky: k = r, V = I, the
                      k-space is R^r itself and sv is not computed (zeros) */
  double *znorm;   /* h: ||z_j||_2 */
  const double *z; /* row j of Z / 2^zexp at z + j * zrs, contiguous entries */
  ptrdiff_t zrs;
  int zexp;      /* 0, or the exponent Z was scaled by (its scale was unsafe) */
  double *zcopy; /* owned row-major copy when the caller's rows were not
                    contiguous or Z was scaled */
} nslmi_carath_basis;

/* Decides k = #{sigma_i > rank_tol sigma_1} and V_k (of Z / 2^zexp: sv,
 * znorm and z are all in those units).  Fast path (h >= r):
 * the Gram matrix of a sample of 2 r rows of Z (when h >= 4 r), else of the
 * whole Z, and its Cholesky factor certify full column rank when the
 * smallest singular value is provably above the tolerance (a row subset's
 * is a lower bound for Z's); then k = r and V = I.  Otherwise Z is
 * factorized by TSQR over nthreads threads and the r x r triangle by an
 * SVD.  With copy != 0
 * (needed unless zcs == 1 and zrs >= r) b->z is a row-major copy, as it is
 * when Z is scaled.  Fails with
 * NSLM_ERR_NOMEM or NSLM_ERR_NUMERIC (detail recorded). */
int nslmi_carath_basis_init(const char *fn, nslmi_carath_basis *b, size_t h, size_t r,
                            const double *z, ptrdiff_t zrs, ptrdiff_t zcs, int copy,
                            double rank_tol, size_t nthreads);
void nslmi_carath_basis_free(nslmi_carath_basis *b);

/* ---- Parallel helper ---------------------------------------------------- */
/* Runs fn(arg, 0) in the caller and fn(arg, 1..n-1) in threads (in the
 * caller, one after the other, where a thread cannot be created); returns
 * the first nonzero status. */
typedef int (*nslmi_carath_task)(void *arg, size_t worker);
int nslmi_carath_parallel(size_t n, nslmi_carath_task fn, void *arg);

/* ---- The block eliminator (k-space) ----------------------------------- */
typedef struct {
  size_t k, mcap;
  double q, eta;   /* eta: relative distance under which a point is dependent */
  double *qm;      /* k x k column-major orthogonal Q */
  double *rm;      /* k x k column-major upper triangle R: support = Q R */
  double *pm;      /* k x k column-major inverse of a full support (fast path) */
  double *wb;      /* k x block: rotated pending points Q^T mu (or P mu) */
  double *x, *y;   /* k each: solve, Householder scratch */
  double *pw;      /* k: c^q of the support members (sqrt c for q = 1/2) */
  double *cand;    /* 2 (k + 1): the new powers at both ends of a step */
  double *sc, *f;  /* k each: scratch */
  double *c0;      /* mcap: the coefficients on entry (to redo a level) */
  double *ft, *gt; /* k x block, block x k: pending swaps of the inverse */
  size_t *basis;   /* the support, in the order of R's columns */
  size_t *keep;    /* k: scratch */
  size_t *pt;      /* block: positions of the pending swaps */
  size_t *sgn;     /* 2 k: positions of the positive, the negative x (step) */
  double *vq;      /* k x block: reflectors not yet applied to Q (QR path) */
  double *mq;      /* 2 (k x block): scratch of their application */
  double *tq;      /* block x block: their T factor */
  double *bq;      /* block: their betas */
  size_t nv, v0;   /* how many; the first row of the first */
  int defer;       /* append records reflectors (1) or applies them (0) */
  int qid;         /* Q is exactly the identity */
  size_t nzero, pzero; /* support members the last step set to 0; the last one */
  size_t nb, swaps;
} nslmi_carath_elim;

/* mcap: the largest m that nslmi_carath_elim_run will get. */
int nslmi_carath_elim_init(nslmi_carath_elim *e, size_t k, double q, double eta, size_t mcap);
void nslmi_carath_elim_free(nslmi_carath_elim *e);
/* Reduces sum_i c_i mu_i (mu_i: unit k-vectors at mu + i * ldmu, c_i >= 0)
 * while phi(c) = sum_i a_i c_i^q (a_i >= 0) never increases, until the
 * points with c_i > 0 are independent (at most k of them).  c is updated in
 * place.  Returns the defect: an upper bound on ||sum (c'-c)_i mu_i||
 * beyond rounding (the local dependence decisions and the ties). */
double nslmi_carath_elim_run(nslmi_carath_elim *e, size_t m, const double *mu, size_t ldmu,
                             double *c, const double *a);

/* ---- PAPER mode: the lemma as stated ------------------------------------ */
typedef struct {
  size_t r;
  double *m, *tau, *work, *col, *c, *d;
  int lwork;
} nslmi_carath_paper;

int nslmi_carath_paper_init(nslmi_carath_paper *p, size_t r);
void nslmi_carath_paper_free(nslmi_carath_paper *p);
/* Textbook elimination on the active list act (na indices into t, which
 * is updated in place): while more than r + 1 coefficients are nonzero,
 * takes the first r + 2, finds a null vector of their r x (r + 2) matrix
 * by a fresh QR, and steps to the end of the no-sign-flip interval with
 * the smaller sum |t|^q.  On return act holds the survivors; returns their
 * number, or (size_t)-1 if LAPACK failed. */
size_t nslmi_carath_paper_run(nslmi_carath_paper *p, const nslmi_carath_basis *b, double q,
                              double *t, size_t *act, size_t na);

#endif
