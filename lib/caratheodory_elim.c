/* caratheodory_elim.c - the block eliminator: reduces m weighted points of
 * R^k (k = the numerical rank of Z) to an independent support.
 *
 * The points arrive one by one against the current support, kept as an
 * updatable QR factorization (explicit k x k orthogonal Q, triangle R):
 *   - w = Q^T mu_n; rho = ||w[nb:k]|| is the distance of mu_n from the
 *     span of the support.  If rho > eta (mu_n is a unit vector, so eta is
 *     relative) the point joins: one Householder reflection, O(k^2).
 *   - otherwise x = R^{-1} w[0:nb] gives the null vector d = e_n - sum x_b
 *     e_b (exact in the span; the part rho of mu_n outside it is dropped and
 *     counted in the defect) and one elimination step follows.  A support
 *     member that reaches zero leaves by Givens rotations, O(k^2), and mu_n
 *     is tested again against the smaller support.
 * The rotated points w are computed for blocks of NSLMI_ELIM_BLOCK points
 * at once (one BLIS gemm, Q^T [mu_n ...]); every later change of Q is
 * applied to the rest of the block too (a rotation costs O(block)), so no
 * factorization is ever recomputed and the O(k^2) products run in BLIS.
 * m points cost O(m k^2).
 *
 * The step (why the q-norm never increases, q in (0, 1]).  Along c + eps d
 * the sum sum c_i mu_i is unchanged.  The coefficients keep their signs
 * (here: stay >= 0) for eps in [eps_-, eps_+], eps_- = max(-c_n, max over
 * x_b < 0 of c_b / x_b) and eps_+ = min over x_b > 0 of c_b / x_b; eps_- is
 * always finite (d_n = 1), eps_+ is infinite when no x_b > 0.  On that
 * interval phi(eps) = sum a_i (c_i + eps d_i)^q with a_i >= 0 is concave
 * (each term is a concave power of an affine function), so its minimum
 * over the interval is at an end, and since 0 lies in the interval,
 * min(phi(eps_-), phi(eps_+)) <= phi(0).  When eps_+ is infinite every d_i
 * is >= 0, so phi is nondecreasing and the finite end eps_- does not
 * increase it.  We evaluate BOTH ends and take the smaller, so no step
 * increases phi (a one-sided ratio test, as in the published q = 1 codes,
 * can: weights (0.98, 0.01, 0.01) on the points 1, 0, 2 of a line with
 * q = 1/2 go from 1.19 to 1.41).  The differences phi(end) - phi(0) are
 * computed term by term in a cancellation-free form (expm1/log1p, or the
 * conjugate for q = 1/2), so that near-ties are decided correctly.
 *
 * The weights a_i let the caller hand us unit vectors: a point mu of norm
 * s with coefficient c becomes the unit vector mu/s with coefficient c s
 * and weight s^-q, which changes neither the sum nor phi.  Unit vectors
 * make the dependence test scale-free, and the grouped reduction's group
 * points (whose norms span many orders of magnitude when q is small) safe
 * from overflow. */
/* The O(k^2) loops below (triangular solves, rotations, reflections) have
 * run-time trip counts, which GCC's default -O2 cost model does not
 * vectorize; they dominate the reduction, so ask for it here (and for
 * square roots without errno, which nothing here reads: the q = 1/2 step
 * takes them of nonnegative numbers only, see dphi_half). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("vect-cost-model=dynamic", "no-math-errno")
#endif
#include <float.h>
#include <math.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "alloc.h"
#include "blas.h"
#include "caratheodory_impl.h"
#include "lapack.h"

/* x86-64: the hot loops also get an AVX2/FMA clone, chosen at load time. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define HOT __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define HOT
#endif

/* Points whose rotated coordinates one gemm computes (also the most
 * reflectors kept pending, and swaps folded at once).  Within a block each
 * point pays O(block k) for the earlier swaps and a fold O(block^2 k):
 * measured at k = 100 and 300, 16 beats 32 by 5-10% (and 8, 48, 64). */
#define NSLMI_ELIM_BLOCK 16
/* The explicit-inverse path pays from this rank on. */
#define NSLMI_ELIM_FAST_K 16
/* A swap whose pivot is below this fraction of the largest coordinate,
 * or the swap after NSLMI_ELIM_SWAPS product-form updates, refactors the
 * support from scratch. */
#define NSLMI_ELIM_PIVOT 1e-2
#define NSLMI_ELIM_SWAPS 4096
/* The inverse path is accepted when the support's smallest singular value
 * is certified above NSLMI_ELIM_CERT (unit vectors) and the k-space sum
 * moved by at most NSLMI_ELIM_DRIFT times sum c (plus the counted defect);
 * otherwise the level is redone on the QR path. */
#define NSLMI_ELIM_CERT 1e-8
#define NSLMI_ELIM_DRIFT 1e-13

int nslmi_carath_elim_init(nslmi_carath_elim *e, size_t k, double q, double eta, size_t mcap) {
  memset(e, 0, sizeof *e);
  e->k = k;
  e->q = q;
  e->eta = eta;
  e->mcap = mcap;
  size_t kk = k ? k : 1;
  e->qm = nslmi_malloc_array(kk * kk, sizeof(double));
  e->rm = nslmi_malloc_array(kk * kk, sizeof(double));
  e->pm = nslmi_malloc_array(kk * kk, sizeof(double));
  e->wb = nslmi_malloc_array(kk * NSLMI_ELIM_BLOCK, sizeof(double));
  e->x = nslmi_malloc_array(7 * kk + 2 + mcap + 5 * kk * NSLMI_ELIM_BLOCK +
                                NSLMI_ELIM_BLOCK * (NSLMI_ELIM_BLOCK + 1),
                            sizeof(double));
  e->basis = nslmi_malloc_array(4 * kk + NSLMI_ELIM_BLOCK, sizeof(size_t));
  if (e->qm == NULL || e->rm == NULL || e->pm == NULL || e->wb == NULL || e->x == NULL ||
      e->basis == NULL) {
    nslmi_carath_elim_free(e);
    return -1;
  }
  e->y = e->x + kk;
  e->pw = e->y + kk;
  e->cand = e->pw + kk; /* 2 (k + 1) */
  e->sc = e->cand + 2 * kk + 2;
  e->f = e->sc + kk;
  e->c0 = e->f + kk;
  e->ft = e->c0 + mcap;                  /* k x block */
  e->gt = e->ft + kk * NSLMI_ELIM_BLOCK; /* block x k */
  e->vq = e->gt + kk * NSLMI_ELIM_BLOCK; /* k x block */
  e->mq = e->vq + kk * NSLMI_ELIM_BLOCK; /* 2 (k x block) */
  e->tq = e->mq + 2 * kk * NSLMI_ELIM_BLOCK; /* block x block */
  e->bq = e->tq + NSLMI_ELIM_BLOCK * NSLMI_ELIM_BLOCK; /* block */
  e->keep = e->basis + kk;
  e->pt = e->keep + kk;
  e->sgn = e->pt + NSLMI_ELIM_BLOCK; /* 2 k */
  return 0;
}

void nslmi_carath_elim_free(nslmi_carath_elim *e) {
  nslmi_free(e->qm);
  nslmi_free(e->rm);
  nslmi_free(e->pm);
  nslmi_free(e->wb);
  nslmi_free(e->x);
  nslmi_free(e->basis);
  memset(e, 0, sizeof *e);
}

/* Four independent partial sums: the compiler may not reorder a floating
 * point reduction, so one accumulator would run at the latency of an add. */
static inline double dot(const double *a, const double *b, size_t n) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; i++)
    s0 += a[i] * b[i];
  return (s0 + s2) + (s1 + s3);
}

static inline double powq(double x, double q) {
  if (q == 1.0)
    return x;
  if (q == 0.5)
    return sqrt(x);
  return pow(x, q);
}

/* a ((c + delta)^q - c^q) without cancellation, given pc = c^q; *pn gets
 * the new power.  c > 0; c + delta is taken as 0 at or below the tie
 * threshold (and must not be negative otherwise). */
static inline double dphi(double q, double a, double c, double pc, double delta, double *pn) {
  double cn = c + delta;
  if (cn <= NSLMI_CARATH_TIE * c) {
    *pn = 0.0;
    return -a * pc;
  }
  if (q == 1.0) {
    *pn = cn;
    return a * delta;
  }
  if (q == 0.5) {
    double s = sqrt(cn);
    *pn = s;
    return a * delta / (s + pc);
  }
  double f = expm1(q * log1p(delta / c));
  *pn = pc + pc * f;
  return a * pc * f;
}

/* Apply the Givens rotation (cs, sn) to rows i, i+1 of ncol columns of
 * length k starting at w. */
static inline void rot_rows(double *w, size_t k, size_t ncol, size_t i, double cs, double sn) {
  for (size_t j = 0; j < ncol; j++) {
    double *col = w + j * k, u = col[i], v = col[i + 1];
    col[i] = cs * u + sn * v;
    col[i + 1] = -sn * u + cs * v;
  }
}

/* Delete the support member at position p (columns p+1.. move left, the
 * subdiagonal they bring is rotated away; Q and the ncol pending rotated
 * points at w absorb the rotations). */
HOT static void delete_at(nslmi_carath_elim *e, size_t p, double *w, size_t ncol) {
  size_t k = e->k, nb = e->nb;
  double *R = e->rm, *Q = e->qm;
  e->qid = 0;
  memmove(e->basis + p, e->basis + p + 1, (nb - 1 - p) * sizeof *e->basis);
  memmove(e->pw + p, e->pw + p + 1, (nb - 1 - p) * sizeof *e->pw);
  memmove(R + p * k, R + (p + 1) * k, (nb - 1 - p) * k * sizeof *R);
  for (size_t i = p; i + 1 < nb; i++) {
    double a = R[i + i * k], b = R[i + 1 + i * k];
    if (b == 0.0)
      continue;
    double rr = sqrt(a * a + b * b), cs = a / rr, sn = b / rr; /* entries of R are O(1) */
    R[i + i * k] = rr;
    R[i + 1 + i * k] = 0.0;
    for (size_t j = i + 1; j + 1 < nb; j++) {
      double u = R[i + j * k], v = R[i + 1 + j * k];
      R[i + j * k] = cs * u + sn * v;
      R[i + 1 + j * k] = -sn * u + cs * v;
    }
    double *qi = Q + i * k, *qj = Q + (i + 1) * k;
    for (size_t l = 0; l < k; l++) {
      double u = qi[l], v = qj[l];
      qi[l] = cs * u + sn * v;
      qj[l] = -sn * u + cs * v;
    }
    rot_rows(w, k, ncol, i, cs, sn);
  }
  e->nb = nb - 1;
}

/* Applies the pending reflectors to Q: with V = [v_1 .. v_nv] (v_j zero
 * above row nb_j >= v0) and H_j = I - beta_j v_j v_j^T,
 * H_1 .. H_nv = I - V T V^T, T upper triangular (the compact WY form of
 * LAPACK's dlarft: T_jj = beta_j, T[0:j, j] = -beta_j T[0:j, 0:j]
 * V[:, 0:j]^T v_j), so Q H_1 .. H_nv = Q - (Q V) T V^T: three products
 * through BLIS instead of nv rank-1 sweeps over Q.  Only Q's columns
 * v0..k-1 meet V. */
static void flush(nslmi_carath_elim *e) {
  size_t nv = e->nv, k = e->k;
  if (nv == 0)
    return;
  e->nv = 0;
  e->qid = 0;
  size_t v0 = e->v0, kr = k - v0;
  const ptrdiff_t ld = (ptrdiff_t)k, lt = NSLMI_ELIM_BLOCK;
  double *Q = e->qm, *V = e->vq + v0, *T = e->tq, *M = e->mq, *M2 = e->mq + k * NSLMI_ELIM_BLOCK;
  /* T's strictly upper part starts as V^T V (one product), then the
   * recurrence, column by column (column j only reads columns < j). */
  nslmi_gemm(1, 0, nv, nv, kr, 1.0, V, 1, ld, V, 1, ld, 0.0, T, 1, lt, 1);
  for (size_t j = 0; j < nv; j++) {
    double *tj = T + j * lt, bj = e->bq[j];
    for (size_t i = 0; i < j; i++) { /* T[i, j] = -beta_j sum_l T[i, l] (v_l . v_j) */
      double acc = 0.0;
      for (size_t l = i; l < j; l++)
        acc += T[i + l * lt] * tj[l];
      e->f[i] = -bj * acc;
    }
    for (size_t i = 0; i < j; i++)
      tj[i] = e->f[i];
    tj[j] = bj;
    for (size_t i = j + 1; i < nv; i++)
      tj[i] = 0.0;
  }
  nslmi_gemm(0, 0, k, nv, kr, 1.0, Q + v0 * k, 1, ld, V, 1, ld, 0.0, M, 1, ld, 1);
  nslmi_gemm(0, 0, k, nv, nv, 1.0, M, 1, ld, T, 1, lt, 0.0, M2, 1, ld, 1);
  nslmi_gemm(0, 1, k, kr, nv, -1.0, M2, 1, ld, V, 1, ld, 1.0, Q + v0 * k, 1, ld, 1);
}

/* Append the point n whose rotated coordinates are w (distance rho from
 * the span), power pn = c_n^q: a Householder reflection of rows nb..k-1,
 * applied to the ncol pending rotated points at wp and to Q: at once when
 * e->defer is 0, else recorded and applied with the others of its block
 * by flush (Q is then stale until the next flush; the points of the
 * block are kept up to date here, so only a product with Q needs it). */
HOT static void append(nslmi_carath_elim *e, size_t n, double *w, double rho, double pn, double *wp,
                       size_t ncol) {
  size_t k = e->k, nb = e->nb;
  double *Q = e->qm, *R = e->rm, *y = e->y;
  double alpha = w[nb] > 0 ? -rho : rho;
  w[nb] -= alpha; /* w[nb:k] is now the reflector v */
  double vv = dot(w + nb, w + nb, k - nb);
  if (vv > 0.0) {
    double beta = 2.0 / vv;
    if (e->defer) {
      if (e->nv == NSLMI_ELIM_BLOCK)
        flush(e);
      if (e->nv == 0)
        e->v0 = nb;
      double *v = e->vq + e->nv * k;
      for (size_t l = e->v0; l < nb; l++)
        v[l] = 0.0;
      memcpy(v + nb, w + nb, (k - nb) * sizeof *v);
      e->bq[e->nv++] = beta;
    } else {
      e->qid = 0;
      memset(y, 0, k * sizeof *y);
      for (size_t l = nb; l < k; l++) {
        const double *ql = Q + l * k;
        double vl = w[l];
        if (vl != 0.0)
          for (size_t i = 0; i < k; i++)
            y[i] += ql[i] * vl;
      }
      for (size_t l = nb; l < k; l++) {
        double *ql = Q + l * k, f = beta * w[l];
        if (f != 0.0)
          for (size_t i = 0; i < k; i++)
            ql[i] -= f * y[i];
      }
    }
    for (size_t j = 0; j < ncol; j++) {
      double *col = wp + j * k;
      double f = beta * dot(w + nb, col + nb, k - nb);
      if (f != 0.0)
        for (size_t l = nb; l < k; l++)
          col[l] -= f * w[l];
    }
  }
  double *rc = R + nb * k;
  memcpy(rc, w, nb * sizeof *rc);
  rc[nb] = alpha;
  e->basis[nb] = n;
  e->pw[nb] = pn;
  e->nb = nb + 1;
}

/* The step of q = 1 to eps (limiting coordinate lim, nb for n itself):
 * coefficients are their own powers, ties are those left at or below
 * NSLMI_CARATH_TIE of their value. */
static inline double apply1(nslmi_carath_elim *e, size_t n, const double *x, size_t nb, double rho,
                     double *c, double eps, size_t lim, double *pn) {
  double dropped = 0.0;
  double cn = c[n] + eps;
  if (lim == nb || cn <= NSLMI_CARATH_TIE * c[n]) {
    if (cn > 0.0 && lim != nb)
      dropped += cn;
    cn = 0.0;
  }
  c[n] = cn;
  *pn = cn;
  e->nzero = 0;
  for (size_t i = 0; i < nb; i++) {
    size_t b = e->basis[i];
    double cb = c[b] - eps * x[i];
    if (i == lim || cb <= NSLMI_CARATH_TIE * c[b]) {
      if (cb > 0.0 && i != lim)
        dropped += cb;
      cb = 0.0;
      e->nzero++;
      e->pzero = i;
    }
    c[b] = cb;
    e->pw[i] = cb;
  }
  return fabs(eps) * rho + dropped;
}

/* One elimination step of point n (coefficient c[n], power *pn) against
 * the support, whose coordinates x of mu_n (x[i] for support position i,
 * nb of them) give the null vector d = e_n - sum x_i e_basis[i]; rho is
 * the part of mu_n outside the span (dropped).  Moves to the better end of
 * the no-sign-flip interval (see the argument at the top), sets the
 * limiting coordinate and ties to exactly 0, updates c, the cached powers
 * and *pn.  Returns the defect of the step. */
/* Four independent partial sums of x[0..n). */
static inline double sum4(const double *x, size_t n) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += x[i];
    s1 += x[i + 1];
    s2 += x[i + 2];
    s3 += x[i + 3];
  }
  for (; i < n; i++)
    s0 += x[i];
  return (s0 + s2) + (s1 + s3);
}

/* The support's share of phi(eps) - phi(0) for q = 1/2: dphi of every
 * member (coefficient cb[i], weight ab[i], power pw[i] = sqrt(cb[i]) > 0)
 * moved by -eps x[i], the new powers in pnew.  Written without branches so
 * that the loop vectorizes, and with every lane's operations safe under
 * trapping FP exceptions: the square root is of max(cn, 0), s + pw > 0,
 * and in a tie lane (whose quotient the select discards) cn lies within
 * rounding of 0, so d / pw is about -sqrt(cb), finite. */
static inline double dphi_half(size_t nb, const double *x, const double *cb, const double *ab,
                               const double *pw, double eps, double *pnew, double *val) {
  size_t i = 0;
#if defined(__SSE2__)
  /* GCC will not vectorize sqrt without -fno-math-errno (a pragma or an
   * attribute does not reach it), so two lanes by hand: the same
   * operations as the loop below, in the same order. */
  const __m128d me = _mm_set1_pd(-eps), zero = _mm_setzero_pd(),
                tiev = _mm_set1_pd(NSLMI_CARATH_TIE);
  for (; i + 2 <= nb; i += 2) {
    __m128d xv = _mm_loadu_pd(x + i), cv = _mm_loadu_pd(cb + i);
    __m128d av = _mm_loadu_pd(ab + i), pv = _mm_loadu_pd(pw + i);
    __m128d d = _mm_mul_pd(me, xv);
    __m128d cn = _mm_add_pd(cv, d);
    __m128d sq = _mm_sqrt_pd(_mm_max_pd(cn, zero));
    __m128d v = _mm_div_pd(_mm_mul_pd(av, d), _mm_add_pd(sq, pv));
    __m128d t = _mm_cmple_pd(cn, _mm_mul_pd(tiev, cv));
    __m128d vt = _mm_mul_pd(_mm_sub_pd(zero, av), pv);
    _mm_storeu_pd(val + i, _mm_or_pd(_mm_and_pd(t, vt), _mm_andnot_pd(t, v)));
    _mm_storeu_pd(pnew + i, _mm_andnot_pd(t, sq));
  }
#endif
  for (; i < nb; i++) {
    double d = -eps * x[i];
    double cn = cb[i] + d;
    double s = sqrt(cn > 0.0 ? cn : 0.0);
    double v = ab[i] * d / (s + pw[i]);
    int tie = cn <= NSLMI_CARATH_TIE * cb[i];
    val[i] = tie ? -ab[i] * pw[i] : v;
    pnew[i] = tie ? 0.0 : s;
  }
  return sum4(val, nb);
}

/* One elimination step of point n (coefficient c[n], power *pn) against
 * the support, whose coordinates x of mu_n (x[i] for support position i,
 * nb of them) give the null vector d = e_n - sum x_i e_basis[i]; rho is
 * the part of mu_n outside the span (dropped).  Moves to the better end of
 * the no-sign-flip interval (see the argument at the top), sets the
 * limiting coordinate and ties to exactly 0, updates c, the cached powers
 * and *pn.  Returns the defect of the step.  Inlined into the (cloned)
 * streams, so that its loops get their vector code. */
static inline __attribute__((always_inline)) double step(nslmi_carath_elim *e, size_t n,
                                                         const double *x, size_t nb, double rho,
                                                         double *c, const double *a, double *pn) {
  size_t k = e->k;
  double q = e->q;
  double *cm = e->cand, *cp = e->cand + (k + 1); /* new powers at each end */
  double *cs = e->sc, *as = e->f;                /* the support's c and a, gathered */
  double em = -c[n], ep = INFINITY;
  size_t im = nb, ip = nb; /* nb stands for n itself */
  /* The positions of the positive and of the negative x, listed without a
   * branch (the signs are random: a branch on them mispredicts half the
   * time), then the ratio tests over each list, in order: the running
   * minimum (maximum) rarely changes, so those branches predict well. */
  size_t *ipos = e->sgn, *ineg = e->sgn + k, np = 0, nneg = 0;
  for (size_t i = 0; i < nb; i++) {
    size_t b = e->basis[i];
    double xb = x[i];
    cs[i] = c[b];
    as[i] = a[b];
    ipos[np] = i;
    ineg[nneg] = i;
    np += xb > 0.0;
    nneg += xb < 0.0;
  }
  /* cb / xb < ep and cb / xb > em, without dividing on every entry */
  for (size_t l = 0; l < np; l++) {
    size_t i = ipos[l];
    double xb = x[i], cb = cs[i];
    if (cb < ep * xb)
      ep = cb / xb, ip = i;
  }
  for (size_t l = 0; l < nneg; l++) {
    size_t i = ineg[l];
    double xb = x[i], cb = cs[i];
    if (cb < em * xb)
      em = cb / xb, im = i;
  }
  if (q == 1.0) {
    /* phi is linear: phi(eps) - phi(0) = eps (a_n - sum a_b x_b). */
    double slope = a[n] - dot(as, x, nb);
    int plus = isfinite(ep) && ep * slope < em * slope;
    return apply1(e, n, x, nb, rho, c, plus ? ep : em, plus ? ip : im, pn);
  }
  /* Both ends: phi(end) - phi(0), and the new powers at each. */
  double dm = dphi(q, a[n], c[n], *pn, em, &cm[nb]), dp = INFINITY;
  if (q == 0.5) {
    dm += dphi_half(nb, x, cs, as, e->pw, em, cm, e->y);
  } else {
    for (size_t i = 0; i < nb; i++)
      dm += dphi(q, as[i], cs[i], e->pw[i], -em * x[i], &cm[i]);
  }
  if (isfinite(ep)) {
    dp = dphi(q, a[n], c[n], *pn, ep, &cp[nb]);
    if (q == 0.5) {
      dp += dphi_half(nb, x, cs, as, e->pw, ep, cp, e->y);
    } else {
      for (size_t i = 0; i < nb; i++)
        dp += dphi(q, as[i], cs[i], e->pw[i], -ep * x[i], &cp[i]);
    }
  }
  int plus = dp < dm;
  double eps = plus ? ep : em;
  size_t lim = plus ? ip : im;
  const double *pnew = plus ? cp : cm;
  double dropped = 0.0;
  {
    double cn = c[n] + eps;
    if (lim == nb || pnew[nb] == 0.0) {
      if (cn > 0.0 && lim != nb)
        dropped += cn;
      cn = 0.0;
    }
    c[n] = cn;
    *pn = cn > 0.0 ? pnew[nb] : 0.0;
  }
  e->nzero = 0;
  for (size_t i = 0; i < nb; i++) {
    size_t b = e->basis[i];
    double cb = cs[i] - eps * x[i];
    if (i == lim || pnew[i] == 0.0) {
      if (cb > 0.0 && i != lim)
        dropped += cb;
      cb = 0.0;
      e->nzero++;
      e->pzero = i;
    }
    c[b] = cb;
    e->pw[i] = cb > 0.0 ? pnew[i] : 0.0;
  }
  return fabs(eps) * rho + dropped;
}

static double tail_norm(const double *w, size_t from, size_t k) {
  return from < k ? nslmi_carath_nrm2(w + from, k - from) : 0.0;
}

/* QR path: points n0..m-1 against the support kept in Q, R.  With
 * stop_full, returns as soon as the support has k members, *next being
 * the first point not yet processed (m when all were). */
HOT static double qr_stream(nslmi_carath_elim *e, size_t n0, size_t m, const double *mu,
                            size_t ldmu, double *c, const double *a, int stop_full, size_t *next) {
  size_t k = e->k;
  double defect = 0.0;
  double *Q = e->qm, *R = e->rm, *x = e->x;
  *next = m;
  e->defer = 1;
  for (size_t b0 = n0; b0 < m; b0 += NSLMI_ELIM_BLOCK) {
    size_t nbk = m - b0 < NSLMI_ELIM_BLOCK ? m - b0 : NSLMI_ELIM_BLOCK;
    double *W = e->wb;
    /* W = Q^T [mu_b0 .. mu_b0+nbk-1] */
    flush(e);
    if (e->qid) { /* Q = I (a level's first block): W is the points */
      for (size_t j = 0; j < nbk; j++)
        memcpy(W + j * k, mu + (b0 + j) * ldmu, k * sizeof *W);
    } else if (k >= 4) {
      nslmi_gemm(1, 0, k, nbk, k, 1.0, Q, 1, (ptrdiff_t)k, mu + b0 * ldmu, 1, (ptrdiff_t)ldmu, 0.0,
                 W, 1, (ptrdiff_t)k, 1);
    } else {
      for (size_t j = 0; j < nbk; j++)
        for (size_t i = 0; i < k; i++)
          W[i + j * k] = dot(Q + i * k, mu + (b0 + j) * ldmu, k);
    }
    for (size_t jj = 0; jj < nbk; jj++) {
      size_t n = b0 + jj;
      if (stop_full && e->nb == k) {
        *next = n;
        flush(e);
        e->defer = 0;
        return defect;
      }
      if (!(c[n] > 0.0)) {
        c[n] = 0.0;
        continue;
      }
      double *w = W + jj * k;
      double pn = powq(c[n], e->q);
      for (;;) {
        size_t nb = e->nb;
        double rho = nb < k ? tail_norm(w, nb, k) : 0.0;
        if (nb < k && rho > e->eta) {
          append(e, n, w, rho, pn, w + k, nbk - jj - 1);
          break;
        }
        /* R x = w[0:nb] by back substitution, column by column. */
        memcpy(x, w, nb * sizeof *x);
        for (size_t j = nb; j-- > 0;) {
          const double *rj = R + j * k;
          x[j] /= rj[j];
          double xj = x[j];
          if (xj != 0.0)
            for (size_t i = 0; i < j; i++)
              x[i] -= xj * rj[i];
        }
        defect += step(e, n, x, nb, rho, c, a, &pn);
        for (size_t i = nb; i-- > 0;)
          if (c[e->basis[i]] == 0.0) {
            flush(e); /* the rotations act on the current Q */
            delete_at(e, i, w, nbk - jj);
          }
        if (c[n] == 0.0)
          break;
      }
    }
  }
  if (stop_full && e->nb == k)
    *next = m;
  flush(e);
  e->defer = 0;
  return defect;
}

static void qr_identity(nslmi_carath_elim *e) {
  size_t k = e->k;
  memset(e->qm, 0, k * k * sizeof *e->qm);
  for (size_t i = 0; i < k; i++)
    e->qm[i + i * k] = 1.0;
  e->nb = 0;
  e->nv = 0;
  e->qid = 1;
}

/* Refactor the current support from scratch (Q = I, then one reflection
 * per member, in order).  Fails (-1) if a member is within eta of the span
 * of the earlier ones: the caller then redoes the level on the QR path. */
static int qr_rebuild(nslmi_carath_elim *e, const double *mu, size_t ldmu) {
  size_t k = e->k, nb = e->nb;
  size_t *keep = e->keep;
  double *pk = e->cand;
  memcpy(keep, e->basis, nb * sizeof *keep);
  memcpy(pk, e->pw, nb * sizeof *pk);
  qr_identity(e);
  double *w = e->sc;
  for (size_t i = 0; i < nb; i++) {
    const double *v = mu + keep[i] * ldmu;
    for (size_t l = 0; l < k; l++)
      w[l] = dot(e->qm + l * k, v, k);
    double rho = tail_norm(w, e->nb, k);
    if (!(rho > e->eta))
      return -1;
    append(e, keep[i], w, rho, pk[i], NULL, 0);
  }
  return 0;
}

/* P = B^{-1} = R^{-1} Q^T for a full support (nb = k). */
static int inverse(nslmi_carath_elim *e) {
  size_t k = e->k;
  double *P = e->pm, *Q = e->qm;
  for (size_t j = 0; j < k; j++)
    for (size_t i = 0; i < k; i++)
      P[i + j * k] = Q[j + i * k];
  nslmi_lapack_int n = (nslmi_lapack_int)k, info = 0;
  char up = 'U', no = 'N';
  dtrtrs_(&up, &no, &no, &n, &n, e->rm, &n, P, &n, &info);
  e->swaps = 0;
  return info == 0 ? 0 : -1;
}

/* Fold the ns pending swaps into P.  Swap l replaced P by E_l P with
 * E_l = I - f_l e_(p_l)^T; E_s..E_1 = I - Ft E^T with column j of Ft equal
 * to E_s..E_(j+1) f_j (built in place, lowest j first, while the later
 * columns are still the plain f_l), so P <- P - Ft P[p_1..p_s, :]: one
 * gemm instead of s sweeps over P. */
HOT static void fold(nslmi_carath_elim *e, size_t ns) {
  if (ns == 0)
    return;
  size_t k = e->k;
  double *F = e->ft, *G = e->gt, *P = e->pm;
  for (size_t j = 0; j + 1 < ns; j++) {
    double *fj = F + j * k;
    for (size_t l = j + 1; l < ns; l++) {
      const double *fl = F + l * k;
      double v = fj[e->pt[l]];
      if (v != 0.0)
        for (size_t i = 0; i < k; i++)
          fj[i] -= fl[i] * v;
    }
  }
  for (size_t c = 0; c < k; c++)
    for (size_t j = 0; j < ns; j++)
      G[j + c * NSLMI_ELIM_BLOCK] = P[e->pt[j] + c * k];
  nslmi_gemm(0, 0, k, k, ns, -1.0, F, 1, (ptrdiff_t)k, G, 1, NSLMI_ELIM_BLOCK, 1.0, P, 1,
             (ptrdiff_t)k, 1);
}

/* Full-support path: points n0..m-1 with the explicit inverse P of the
 * support matrix B (k x k).  x = P mu_n for a block by one gemm; a swap
 * (one member leaves, mu_n enters: B' = B + (mu_n - b_p) e_p^T) turns P
 * into E P, E = I - f e_p^T, f = (x - e_p) / x_p (the simplex pivot).  The
 * swaps of a block are kept as such (each later point of the block gets
 * them applied to its x, O(k) each) and folded into P by one gemm at the
 * end of the block.  Returns 0 when every point was processed, 1 when the
 * support shrank (a tie): *next is the first point left, the support is
 * compacted and Q, R are stale; -1 on a breakdown (the caller redoes the
 * level on the QR path). */
HOT static int inv_stream(nslmi_carath_elim *e, size_t n0, size_t m, const double *mu, size_t ldmu,
                          double *c, const double *a, size_t *next, double *defect) {
  size_t k = e->k;
  double *P = e->pm, *X = e->wb, *F = e->ft;
  for (size_t b0 = n0; b0 < m; b0 += NSLMI_ELIM_BLOCK) {
    size_t nbk = m - b0 < NSLMI_ELIM_BLOCK ? m - b0 : NSLMI_ELIM_BLOCK, ns = 0;
    nslmi_gemm(0, 0, k, nbk, k, 1.0, P, 1, (ptrdiff_t)k, mu + b0 * ldmu, 1, (ptrdiff_t)ldmu, 0.0, X,
               1, (ptrdiff_t)k, 1);
    for (size_t jj = 0; jj < nbk; jj++) {
      size_t n = b0 + jj;
      if (!(c[n] > 0.0)) {
        c[n] = 0.0;
        continue;
      }
      double *x = X + jj * k;
      for (size_t l = 0; l < ns; l++) { /* the block's earlier swaps */
        const double *fl = F + l * k;
        double v = x[e->pt[l]];
        if (v != 0.0)
          for (size_t i = 0; i < k; i++)
            x[i] -= fl[i] * v;
      }
      double pn = powq(c[n], e->q);
      *defect += step(e, n, x, k, 0.0, c, a, &pn);
      /* The members the step set to 0 (every other one stays > 0). */
      size_t nleave = e->nzero, p = e->pzero;
      if (nleave == 0)
        continue; /* n left */
      if (nleave > 1 || c[n] == 0.0) {
        /* A tie: the support shrinks; back to the QR path. */
        size_t o = 0;
        for (size_t i = 0; i < k; i++)
          if (c[e->basis[i]] != 0.0) {
            e->basis[o] = e->basis[i];
            e->pw[o] = e->pw[i];
            o++;
          }
        e->nb = o;
        *next = n + 1;
        return 1;
      }
      double piv = x[p], xmax;
      {
        double m0 = 0.0, m1 = 0.0, m2 = 0.0, m3 = 0.0; /* independent maxima */
        size_t i = 0;
        for (; i + 4 <= k; i += 4) {
          m0 = fabs(x[i]) > m0 ? fabs(x[i]) : m0;
          m1 = fabs(x[i + 1]) > m1 ? fabs(x[i + 1]) : m1;
          m2 = fabs(x[i + 2]) > m2 ? fabs(x[i + 2]) : m2;
          m3 = fabs(x[i + 3]) > m3 ? fabs(x[i + 3]) : m3;
        }
        for (; i < k; i++)
          m0 = fabs(x[i]) > m0 ? fabs(x[i]) : m0;
        m0 = m1 > m0 ? m1 : m0;
        m2 = m3 > m2 ? m3 : m2;
        xmax = m2 > m0 ? m2 : m0;
      }
      e->basis[p] = n;
      e->pw[p] = pn;
      if (fabs(piv) < NSLMI_ELIM_PIVOT * xmax || ++e->swaps > NSLMI_ELIM_SWAPS) {
        /* A small pivot (or many updates): refactor from scratch. */
        e->nb = k;
        if (qr_rebuild(e, mu, ldmu) != 0 || e->nb != k || inverse(e) != 0)
          return -1;
        ns = 0;
        size_t rest = nbk - jj - 1;
        if (rest > 0)
          nslmi_gemm(0, 0, k, rest, k, 1.0, P, 1, (ptrdiff_t)k, mu + (n + 1) * ldmu, 1,
                     (ptrdiff_t)ldmu, 0.0, x + k, 1, (ptrdiff_t)k, 1);
        continue;
      }
      double *f = F + ns * k;
      for (size_t i = 0; i < k; i++)
        f[i] = x[i] / piv;
      f[p] = (x[p] - 1.0) / piv;
      e->pt[ns++] = p;
    }
    fold(e, ns);
  }
  *next = m;
  return 0;
}

/* ||sum (c - c0)_i mu_i||, the k-space change of the sum (y: k scratch). */
static double drift(size_t k, size_t m, const double *mu, size_t ldmu, const double *c,
                    const double *c0, double *y) {
  memset(y, 0, k * sizeof *y);
  for (size_t i = 0; i < m; i++) {
    double d = c[i] - c0[i];
    if (d != 0.0)
      for (size_t l = 0; l < k; l++)
        y[l] += d * mu[i * ldmu + l];
  }
  return tail_norm(y, 0, k);
}

double nslmi_carath_elim_run(nslmi_carath_elim *e, size_t m, const double *mu, size_t ldmu,
                             double *c, const double *a) {
  size_t k = e->k;
  if (k == 0) {
    for (size_t n = 0; n < m; n++)
      c[n] = 0.0;
    e->nb = 0;
    return 0.0;
  }
  size_t next = 0;
  if (k >= NSLMI_ELIM_FAST_K && m <= e->mcap) {
    /* Fast path: QR until the support is full, then the explicit inverse;
     * verified at the end (k-space drift of the sum, conditioning of the
     * support), else redone on the QR path. */
    double *c0 = e->c0, s0 = 0.0, defect = 0.0;
    memcpy(c0, c, m * sizeof *c0);
    for (size_t i = 0; i < m; i++)
      s0 += c0[i] > 0.0 ? c0[i] : 0.0;
    qr_identity(e);
    int ok = 1, inv_last = 0;
    size_t n = 0;
    while (ok && n < m) {
      defect += qr_stream(e, n, m, mu, ldmu, c, a, 1, &next);
      n = next;
      inv_last = 0;
      if (n >= m)
        break;
      if (inverse(e) != 0) {
        ok = 0;
        break;
      }
      int st = inv_stream(e, n, m, mu, ldmu, c, a, &next, &defect);
      inv_last = st == 0;
      if (st < 0 || (st == 1 && qr_rebuild(e, mu, ldmu) != 0))
        ok = 0;
      n = next;
    }
    if (ok && inv_last) {
      /* sigma_min(B) >= 1 / ||P||_F: the support is independent. */
      double pf = tail_norm(e->pm, 0, k * k);
      ok = pf > 0.0 && 1.0 / pf > NSLMI_ELIM_CERT;
    }
    if (ok && drift(k, m, mu, ldmu, c, c0, e->y) <= NSLMI_ELIM_DRIFT * s0 + defect)
      return defect;
    memcpy(c, c0, m * sizeof *c);
  }
  qr_identity(e);
  return qr_stream(e, 0, m, mu, ldmu, c, a, 0, &next);
}
