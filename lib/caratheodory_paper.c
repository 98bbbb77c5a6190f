/* caratheodory_paper.c - PAPER mode: Lemma 5 as the paper states it, at
 * most r + 1 nonzeros, by the textbook elimination.
 *
 * While more than r + 1 coefficients are nonzero, the first r + 2 of them
 * belong to vectors of R^r, which are always linearly dependent: a fresh
 * QR factorization of their (r + 2) x r transpose gives a null vector as
 * the last column of its Q (orthogonal to the row space of the r x (r + 2)
 * matrix, whatever its rank).  The step compares both ends of the
 * no-sign-flip interval exactly like the tight eliminator (see the
 * argument in caratheodory_elim.c).  No rank decision is made, so nothing
 * is truncated; each step costs O(r^3), the whole reduction O(h r^3).  It
 * exists to compare the lemma's r + 1 with the tight rank(Z). */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "caratheodory_impl.h"
#include "lapack.h"

int nslmi_carath_paper_init(nslmi_carath_paper *p, size_t r) {
  memset(p, 0, sizeof *p);
  p->r = r;
  nslmi_lapack_int m = (nslmi_lapack_int)(r + 2), n = (nslmi_lapack_int)r, lw = -1, info = 0;
  double q1 = 0.0, q2 = 0.0;
  dgeqrf_(&m, &n, NULL, &m, NULL, &q1, &lw, &info);
  if (info != 0)
    q1 = 0.0;
  {
    nslmi_lapack_int one = 1;
    char side = 'L', tr = 'N';
    dormqr_(&side, &tr, &m, &one, &n, NULL, &m, NULL, NULL, &m, &q2, &lw, &info);
    if (info != 0)
      q2 = 0.0;
  }
  double lwd = fmax(fmax(q1, q2), 64.0 * (double)(r + 2));
  p->lwork = (int)lwd;
  size_t m2 = (r + 2) * r;
  p->m = nslmi_malloc_array(m2 + (size_t)p->lwork + 4 * (r + 2), sizeof(double));
  if (p->m == NULL)
    return -1;
  p->work = p->m + m2;
  p->tau = p->work + p->lwork;
  p->col = p->tau + (r + 2);
  p->c = p->col + (r + 2);
  p->d = p->c + (r + 2);
  return 0;
}

void nslmi_carath_paper_free(nslmi_carath_paper *p) {
  nslmi_free(p->m);
  memset(p, 0, sizeof *p);
}

static double dphi(double q, double c, double delta) {
  double cn = c + delta;
  if (cn <= NSLMI_CARATH_TIE * c)
    cn = 0.0;
  if (q == 1.0)
    return cn - c;
  if (cn == 0.0)
    return -pow(c, q);
  return pow(c, q) * expm1(q * log1p(delta / c));
}

size_t nslmi_carath_paper_run(nslmi_carath_paper *p, const nslmi_carath_basis *b, double q,
                              double *t, size_t *act, size_t na) {
  size_t r = p->r, w = r + 2;
  nslmi_lapack_int m = (nslmi_lapack_int)w, n = (nslmi_lapack_int)r, lw = p->lwork, info = 0,
                   one = 1;
  double *M = p->m, *c = p->c, *d = p->d;
  while (na > r + 1) {
    /* M = the transpose of [s_1 .. s_{r+2}], s_i = sign(t_i) z_i: (r+2) x r
     * column-major, so row i is s_i; c_i = |t_i| > 0. */
    for (size_t i = 0; i < w; i++) {
      size_t j = act[i];
      const double *zj = b->z + (ptrdiff_t)j * b->zrs;
      double sg = t[j] > 0 ? 1.0 : -1.0;
      c[i] = fabs(t[j]);
      for (size_t col = 0; col < r; col++)
        M[i + col * w] = sg * zj[col];
    }
    dgeqrf_(&m, &n, M, &m, p->tau, p->work, &lw, &info);
    if (info != 0)
      return (size_t)-1;
    memset(d, 0, w * sizeof *d);
    d[w - 1] = 1.0;
    {
      char side = 'L', tr = 'N';
      dormqr_(&side, &tr, &m, &one, &n, M, &m, p->tau, d, &m, p->work, &lw, &info);
      if (info != 0)
        return (size_t)-1;
    }
    /* Interval of c + eps d keeping every c_i >= 0. */
    double em = -INFINITY, ep = INFINITY;
    size_t im = w, ip = w;
    for (size_t i = 0; i < w; i++) {
      if (d[i] < 0.0) {
        double e = c[i] / -d[i];
        if (e < ep)
          ep = e, ip = i;
      } else if (d[i] > 0.0) {
        double e = -c[i] / d[i];
        if (e > em)
          em = e, im = i;
      }
    }
    double dm = INFINITY, dp = INFINITY;
    if (isfinite(em)) {
      dm = 0.0;
      for (size_t i = 0; i < w; i++)
        dm += dphi(q, c[i], em * d[i]);
    }
    if (isfinite(ep)) {
      dp = 0.0;
      for (size_t i = 0; i < w; i++)
        dp += dphi(q, c[i], ep * d[i]);
    }
    if (!isfinite(em) && !isfinite(ep))
      return (size_t)-1; /* d = 0: LAPACK broke */
    int plus = dp < dm;
    double eps = plus ? ep : em;
    size_t lim = plus ? ip : im;
    for (size_t i = 0; i < w; i++) {
      double ci = c[i] + eps * d[i];
      if (i == lim || ci <= NSLMI_CARATH_TIE * c[i])
        ci = 0.0;
      size_t j = act[i];
      t[j] = t[j] > 0 ? ci : -ci;
    }
    size_t o = 0;
    for (size_t i = 0; i < na; i++)
      if (t[act[i]] != 0.0)
        act[o++] = act[i];
    na = o;
  }
  return na;
}
