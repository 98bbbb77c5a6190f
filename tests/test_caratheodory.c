/* test_caratheodory.c - the q-convex Caratheodory reduction (issue 3).
 *
 * Truth comes from code written here, independently of lib/caratheodory*.c:
 *   - a one-sided Jacobi SVD (Hestenes) for ranks, singular values,
 *     independence of supports and null vectors;
 *   - a slow textbook reduction: a fresh null vector of the active vectors
 *     at every step (Jacobi), both ends of the no-sign-flip interval
 *     compared in long double;
 *   - residuals and q-norms recomputed in long double from the outputs.
 * Thousands of random property cases cover q in {1, 0.5, 0.1}, h < r,
 * h = r, h >> r, rank-deficient Z, duplicated, negated and zero vectors,
 * rows scaled by 1e+-8, heavy-tailed and tied coefficients, and singular
 * values just above and just below the rank tolerance. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "alloc.h"
#include "caratheodory.h"
#include "nslm.h"
#include "testutil.h"

/* ------------------------------------------------------------------ tolerances
 * RESID_WELL: the 1e-12 on well-conditioned cases.  The library's
 * residual is a few rounding errors of sums of |t_j| ||z_j|| terms, i.e.
 * O(eps) relative to the denominator; 1e-12 leaves a factor ~4500.
 * ROUND: what rounding may add to the reported bound on ill-conditioned
 * cases (the bound covers the truncation; the arithmetic adds O(eps) of the
 * same denominator): again 1e-12.
 * NORM_GROWTH(h): the q-norm may grow by rounding only.  Each elimination
 * step rounds every new coefficient (relative eps each, so sum |t|^q moves
 * by at most q eps of the terms it touches) and each level rescales every
 * coefficient once; with at most h steps and at most h levels the growth
 * of sum |t|^q is below 2 h eps relative.  We test 4 h eps + 4 eps. */
#define RESID_WELL 1e-12
#define ROUND 1e-12
#define NORM_GROWTH(h) ((4.0 * (double)(h) + 4.0) * DBL_EPSILON)
/* Support independence: the smallest singular value of the unit-normalized
 * support rows.  A duplicate (or a zero row) in a support gives O(eps); the
 * supports of the random families here give 1e-6 and up (noise families:
 * about the noise level 1e-7..1e-6 relative).  1e-10 separates the two by
 * four orders of magnitude either way. */
#define INDEP_MIN 1e-10

/* ------------------------------------------------------------ Jacobi SVD */

/* One-sided Jacobi on the columns of b (m x n, column-major, overwritten by
 * U Sigma); v (n x n, column-major) receives V; sv the column norms, i.e.
 * the singular values, unsorted.  Converges to relative accuracy. */
static void jacobi(size_t m, size_t n, double *b, double *v, double *sv) {
  for (size_t i = 0; i < n * n; i++)
    v[i] = 0.0;
  for (size_t i = 0; i < n; i++)
    v[i + i * n] = 1.0;
  for (int sweep = 0; sweep < 80; sweep++) {
    double off = 0.0;
    for (size_t p = 0; p + 1 < n; p++)
      for (size_t q = p + 1; q < n; q++) {
        double *bp = b + p * m, *bq = b + q * m;
        double al = 0, be = 0, ga = 0;
        for (size_t i = 0; i < m; i++) {
          al += bp[i] * bp[i];
          be += bq[i] * bq[i];
          ga += bp[i] * bq[i];
        }
        if (ga == 0.0 || al == 0.0 || be == 0.0)
          continue;
        double rel = fabs(ga) / sqrt(al * be);
        if (rel > off)
          off = rel;
        if (rel < 1e-15)
          continue;
        double zeta = (be - al) / (2 * ga);
        double t = (zeta >= 0 ? 1.0 : -1.0) / (fabs(zeta) + sqrt(1 + zeta * zeta));
        double c = 1 / sqrt(1 + t * t), s = c * t;
        for (size_t i = 0; i < m; i++) {
          double x = bp[i], y = bq[i];
          bp[i] = c * x - s * y;
          bq[i] = s * x + c * y;
        }
        double *vp = v + p * n, *vq = v + q * n;
        for (size_t i = 0; i < n; i++) {
          double x = vp[i], y = vq[i];
          vp[i] = c * x - s * y;
          vq[i] = s * x + c * y;
        }
      }
    if (off < 1e-15)
      break;
  }
  for (size_t j = 0; j < n; j++) {
    double s = 0;
    for (size_t i = 0; i < m; i++)
      s += b[i + j * m] * b[i + j * m];
    sv[j] = sqrt(s);
  }
}

static int cmp_desc(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? 1 : x > y ? -1 : 0;
}

/* Singular values of the rows idx[0..n) of Z (h x r row-major), descending,
 * into sv (min(n, r) of them are meaningful; n written). */
static void singular_values(const double *z, size_t r, const size_t *idx, size_t n, double *sv) {
  /* Columns of the r x n matrix Z_S^T. */
  double *b = malloc(sizeof(double) * r * n), *v = malloc(sizeof(double) * n * n);
  for (size_t j = 0; j < n; j++)
    for (size_t c = 0; c < r; c++)
      b[c + j * r] = z[idx[j] * r + c];
  jacobi(r, n, b, v, sv);
  qsort(sv, n, sizeof *sv, cmp_desc);
  free(b);
  free(v);
}

static size_t rank_at(const double *sv, size_t n, double tol) {
  size_t k = 0;
  while (k < n && sv[0] > 0 && sv[k] > tol * sv[0])
    k++;
  return k;
}

/* -------------------------------------------------- slow reference reduction */

static long double powl_q(long double x, double q) { return q == 1.0 ? x : powl(x, q); }

/* Textbook elimination: while the active vectors are dependent (more than
 * k of them, k = rank of Z at tol, or a unit-normalized subset with
 * smallest singular value <= 1e-9), take a window of at most k + 1 of them,
 * a null vector by Jacobi, and step to the end of the no-sign-flip interval
 * with the smaller sum |t|^q (both ends computed in long double).  Returns
 * the number of steps; *kref receives k. */
static size_t ref_reduce(size_t h, size_t r, const double *z, const double *t, double q, double tol,
                         double *out, size_t *kref) {
  size_t *all = calloc(h, sizeof(size_t)), *act = calloc(h, sizeof(size_t));
  double *sv = malloc(sizeof(double) * (h + r));
  for (size_t j = 0; j < h; j++)
    all[j] = j;
  singular_values(z, r, all, h, sv);
  size_t k = rank_at(sv, h < r ? h : r, tol);
  *kref = k;
  memcpy(out, t, h * sizeof *out);
  size_t steps = 0;
  double *b = malloc(sizeof(double) * r * (h + 1)), *v = malloc(sizeof(double) * (h + 1) * (h + 1));
  double *s = malloc(sizeof(double) * (h + 1)), *nrm = malloc(sizeof(double) * (h + 1));
  for (;;) {
    size_t na = 0;
    for (size_t j = 0; j < h; j++)
      if (out[j] != 0.0)
        act[na++] = j;
    if (na == 0)
      break;
    size_t nw = na > k + 1 ? k + 1 : na;
    /* Unit-normalized columns; a zero vector is its own null vector. */
    size_t zero = (size_t)-1;
    for (size_t i = 0; i < nw; i++) {
      double n2 = 0;
      for (size_t c = 0; c < r; c++)
        n2 += z[act[i] * r + c] * z[act[i] * r + c];
      nrm[i] = sqrt(n2);
      if (nrm[i] == 0.0 && zero == (size_t)-1)
        zero = i;
      for (size_t c = 0; c < r; c++)
        b[c + i * r] = nrm[i] > 0 ? z[act[i] * r + c] / nrm[i] : 0.0;
    }
    double *d = s; /* null vector over the window, raw scale */
    if (zero != (size_t)-1) {
      for (size_t i = 0; i < nw; i++)
        d[i] = i == zero ? 1.0 : 0.0;
    } else {
      double *svw = malloc(sizeof(double) * nw);
      jacobi(r, nw, b, v, svw);
      size_t imin = 0;
      for (size_t i = 1; i < nw; i++)
        if (svw[i] < svw[imin])
          imin = i;
      int dependent = nw > k || svw[imin] <= 1e-9;
      if (!dependent) {
        free(svw);
        break;
      }
      for (size_t i = 0; i < nw; i++)
        d[i] = v[i + imin * nw] / nrm[i];
      free(svw);
    }
    /* Positive form: c_i = |t_i|, direction dd_i = d_i sign(t_i). */
    long double em = -INFINITY, ep = INFINITY;
    size_t im = nw, ip = nw;
    for (size_t i = 0; i < nw; i++) {
      long double ci = fabsl((long double)out[act[i]]);
      long double di = (long double)d[i] * (out[act[i]] > 0 ? 1 : -1);
      if (di > 0) {
        long double e = -ci / di;
        if (e > em)
          em = e, im = i;
      } else if (di < 0) {
        long double e = ci / -di;
        if (e < ep)
          ep = e, ip = i;
      }
    }
    long double phm = INFINITY, php = INFINITY;
    for (int side = 0; side < 2; side++) {
      long double e = side ? ep : em;
      if (!isfinite((double)e))
        continue;
      long double ph = 0;
      for (size_t i = 0; i < nw; i++) {
        long double ci = fabsl((long double)out[act[i]]);
        long double di = (long double)d[i] * (out[act[i]] > 0 ? 1 : -1);
        long double cn = ci + e * di;
        size_t lim = side ? ip : im;
        if (i == lim || cn <= 1e-13L * ci)
          cn = 0;
        ph += cn > 0 ? powl_q(cn, q) - powl_q(ci, q) : -powl_q(ci, q);
      }
      if (side)
        php = ph;
      else
        phm = ph;
    }
    int plus = php < phm;
    long double e = plus ? ep : em;
    size_t lim = plus ? ip : im;
    for (size_t i = 0; i < nw; i++) {
      long double ci = fabsl((long double)out[act[i]]);
      long double di = (long double)d[i] * (out[act[i]] > 0 ? 1 : -1);
      long double cn = ci + e * di;
      if (i == lim || cn <= 1e-13L * ci)
        cn = 0;
      out[act[i]] = out[act[i]] > 0 ? (double)cn : -(double)cn;
    }
    steps++;
    if (steps > 4 * h + 10)
      break; /* cannot happen: each step zeroes one */
  }
  free(all);
  free(act);
  free(sv);
  free(b);
  free(v);
  free(s);
  free(nrm);
  return steps;
}

/* ------------------------------------------------------------ properties */

typedef struct {
  double resid;  /* ||sum (t'-t) z|| / sum |t| ||z||, long double sums */
  double growth; /* (sum |t'|^q - sum |t|^q) / sum |t|^q */
  double qn_before, qn_after;
  size_t nnz;
  int sign_ok;  /* sign(t') in {0, sign t} (implies support inclusion) */
  double indep; /* smallest singular value of the unit support rows */
} props_t;

static void props(size_t h, size_t r, const double *z, const double *t, const double *tp, double q,
                  props_t *p) {
  long double *v = calloc(r, sizeof(long double));
  long double den = 0, pb = 0, pa = 0;
  size_t *sup = malloc(sizeof(size_t) * (h + 1));
  p->nnz = 0;
  p->sign_ok = 1;
  for (size_t j = 0; j < h; j++) {
    long double zn = 0;
    for (size_t c = 0; c < r; c++) {
      v[c] += ((long double)tp[j] - (long double)t[j]) * z[j * r + c];
      zn += (long double)z[j * r + c] * z[j * r + c];
    }
    den += fabsl((long double)t[j]) * sqrtl(zn);
    if (t[j] != 0)
      pb += powl_q(fabsl((long double)t[j]), q);
    if (tp[j] != 0) {
      pa += powl_q(fabsl((long double)tp[j]), q);
      sup[p->nnz++] = j;
      if (t[j] == 0 || (tp[j] > 0) != (t[j] > 0))
        p->sign_ok = 0;
    }
  }
  /* Scaled by den before squaring: long double may be plain double (under
   * valgrind), where 1e300^2 overflows. */
  long double rr = 0;
  for (size_t c = 0; c < r && den > 0; c++)
    rr += (v[c] / den) * (v[c] / den);
  p->resid = den > 0 ? (double)sqrtl(rr) : 0.0;
  p->growth = pb > 0 ? (double)((pa - pb) / pb) : (pa > 0 ? 1.0 : 0.0);
  p->qn_before = (double)powl(pb, 1.0L / q);
  p->qn_after = (double)powl(pa, 1.0L / q);
  p->indep = 1.0;
  if (p->nnz > 0) {
    double *u = malloc(sizeof(double) * p->nnz * r);
    for (size_t i = 0; i < p->nnz; i++) {
      double n2 = 0;
      for (size_t c = 0; c < r; c++)
        n2 += z[sup[i] * r + c] * z[sup[i] * r + c];
      for (size_t c = 0; c < r; c++)
        u[i * r + c] = n2 > 0 ? z[sup[i] * r + c] / sqrt(n2) : 0.0;
    }
    size_t *id = malloc(sizeof(size_t) * p->nnz);
    double *sv = malloc(sizeof(double) * p->nnz);
    for (size_t i = 0; i < p->nnz; i++)
      id[i] = i;
    singular_values(u, r, id, p->nnz, sv);
    p->indep = p->nnz > r ? 0.0 : sv[p->nnz - 1];
    free(u);
    free(id);
    free(sv);
  }
  free(v);
  free(sup);
}

/* ------------------------------------------------------------- generators */

static double cauchy(nslmt_rng *g) { return tan(M_PI * (nslmt_uniform(g) - 0.5)); }

/* Random orthonormal columns: m x p column-major (Gram-Schmidt twice). */
static void orthonormal(nslmt_rng *g, size_t m, size_t p, double *u) {
  nslmt_fill(g, u, m * p, 1.0);
  for (size_t j = 0; j < p; j++)
    for (int pass = 0; pass < 2; pass++) {
      for (size_t i = 0; i < j; i++) {
        double d = 0;
        for (size_t l = 0; l < m; l++)
          d += u[l + i * m] * u[l + j * m];
        for (size_t l = 0; l < m; l++)
          u[l + j * m] -= d * u[l + i * m];
      }
      double n2 = 0;
      for (size_t l = 0; l < m; l++)
        n2 += u[l + j * m] * u[l + j * m];
      for (size_t l = 0; l < m; l++)
        u[l + j * m] /= sqrt(n2);
    }
}

/* Z = U diag(s) V^T, h x r row-major, s has p = min(h, r) entries. */
static void with_singular_values(nslmt_rng *g, size_t h, size_t r, const double *s, double *z) {
  size_t p = h < r ? h : r;
  double *u = malloc(sizeof(double) * h * p), *v = malloc(sizeof(double) * r * p);
  orthonormal(g, h, p, u);
  orthonormal(g, r, p, v);
  for (size_t i = 0; i < h; i++)
    for (size_t c = 0; c < r; c++) {
      double a = 0;
      for (size_t l = 0; l < p; l++)
        a += u[i + l * h] * s[l] * v[c + l * r];
      z[i * r + c] = a;
    }
  free(u);
  free(v);
}

enum { Z_GAUSS, Z_LOWRANK, Z_DUPLICATES, Z_SCALED, Z_NOISE_BELOW, Z_NOISE_ABOVE, Z_KINDS };
enum { T_GAUSS, T_CAUCHY, T_SPARSE, T_TIES, T_KINDS };

typedef struct {
  size_t h, r;
  int zk, tk;
  double q, tol;
  int well;        /* residual must be <= RESID_WELL */
  size_t k_expect; /* the rank by construction, or (size_t)-1 */
  double *z, *t;
} case_t;

static void make_case(case_t *cs, uint64_t seed) {
  nslmt_rng g;
  nslmt_seed(&g, seed);
  size_t h = cs->h, r = cs->r, p = h < r ? h : r;
  cs->z = malloc(sizeof(double) * h * r);
  cs->t = malloc(sizeof(double) * h);
  cs->tol = NSLM_CARATHEODORY_RANK_TOL_DEFAULT;
  cs->well = 1;
  cs->k_expect = p;
  size_t k0 = p > 2 ? 1 + nslmt_range(&g, 0, p - 2) : 1; /* 1 <= k0 < p when p > 1 */
  switch (cs->zk) {
  case Z_GAUSS: nslmt_fill(&g, cs->z, h * r, 1.0); break;
  case Z_LOWRANK:
  case Z_DUPLICATES: {
    double *a = malloc(sizeof(double) * h * k0), *b = malloc(sizeof(double) * k0 * r);
    nslmt_fill(&g, a, h * k0, 1.0);
    nslmt_fill(&g, b, k0 * r, 1.0);
    for (size_t i = 0; i < h; i++)
      for (size_t c = 0; c < r; c++) {
        double s = 0;
        for (size_t l = 0; l < k0; l++)
          s += a[i * k0 + l] * b[l * r + c];
        cs->z[i * r + c] = s;
      }
    free(a);
    free(b);
    /* Floating point makes A B of numerical rank k0 only up to rounding:
     * its trailing singular values are ~1e-16 sigma_1, far under the
     * default tolerance 1e-12. */
    cs->k_expect = k0 < p ? k0 : p;
    if (cs->zk == Z_DUPLICATES) {
      /* A third of the rows become copies, negated copies or multiples of
       * earlier rows; a few become zero. */
      for (size_t i = 1; i < h; i++) {
        double u = nslmt_uniform(&g);
        size_t src = nslmt_range(&g, 0, i - 1);
        if (u < 0.15)
          memcpy(cs->z + i * r, cs->z + src * r, r * sizeof(double));
        else if (u < 0.25)
          for (size_t c = 0; c < r; c++)
            cs->z[i * r + c] = -2.5 * cs->z[src * r + c];
        else if (u < 0.33)
          for (size_t c = 0; c < r; c++)
            cs->z[i * r + c] = 0.0;
      }
      cs->k_expect = (size_t)-1; /* copies may lower the rank further */
    }
    break;
  }
  case Z_SCALED:
    nslmt_fill(&g, cs->z, h * r, 1.0);
    for (size_t i = 0; i < h; i++) {
      double u = nslmt_uniform(&g), f = u < 0.2 ? 1e8 : u < 0.4 ? 1e-8 : 1.0;
      for (size_t c = 0; c < r; c++)
        cs->z[i * r + c] *= f;
    }
    /* sigma ratios up to 1e16: directions carried only by 1e-8 rows fall
     * under the tolerance: not well conditioned, the bound must cover it. */
    cs->well = 0;
    cs->k_expect = (size_t)-1;
    break;
  case Z_NOISE_BELOW:
  case Z_NOISE_ABOVE: {
    /* k0 singular values in [0.1, 1], the rest at 0.3 or 3 times the
     * tolerance 1e-6: the rank decision is never within a factor 3 of a
     * singular value. */
    double *s = calloc(p, sizeof(double));
    cs->tol = 1e-6;
    for (size_t l = 0; l < p; l++) {
      double f = cs->zk == Z_NOISE_BELOW ? 0.3 : 3.0;
      s[l] = l == 0   ? 1.0
             : l < k0 ? 0.1 + 0.9 * nslmt_uniform(&g)
                      : f * cs->tol * (0.9 + 0.1 * nslmt_uniform(&g));
    }
    with_singular_values(&g, h, r, s, cs->z);
    free(s);
    cs->k_expect = cs->zk == Z_NOISE_BELOW ? k0 : p;
    cs->well = cs->zk == Z_NOISE_ABOVE;
    if (k0 >= p)
      cs->k_expect = p;
    break;
  }
  }
  for (size_t j = 0; j < h; j++) {
    switch (cs->tk) {
    case T_GAUSS: cs->t[j] = nslmt_normal(&g); break;
    case T_CAUCHY: cs->t[j] = cauchy(&g); break;
    case T_SPARSE: cs->t[j] = nslmt_uniform(&g) < 0.6 ? 0.0 : nslmt_normal(&g); break;
    case T_TIES: cs->t[j] = nslmt_uniform(&g) < 0.5 ? 1.0 : -1.0; break;
    }
  }
  if (cs->tk == T_TIES && h > 1) {
    /* Ties in the ratio test: equal coefficients on copies of the same
     * vector (and on its negation with the opposite sign). */
    for (size_t i = 1; i < h; i += 3) {
      memcpy(cs->z + i * r, cs->z + (i - 1) * r, r * sizeof(double));
      cs->t[i] = cs->t[i - 1];
    }
    if (cs->zk != Z_DUPLICATES)
      cs->k_expect = (size_t)-1;
    /* Copies move the singular values of the noise families: some may
     * fall under the tolerance, and then the bound (not 1e-12) applies. */
    if (cs->zk == Z_NOISE_ABOVE)
      cs->well = 0;
  }
}

static void free_case(case_t *cs) {
  free(cs->z);
  free(cs->t);
}

/* Runs the library on one case (tinc 1 or 2: the batched and the per-row
 * first level), checks every property; returns nnz, fills *rank. */
static size_t check_case(case_t *cs, ptrdiff_t tinc, double *tp_out, size_t *rank_out) {
  size_t h = cs->h, r = cs->r;
  double *tin = malloc(sizeof(double) * h * (size_t)tinc);
  double *tout = malloc(sizeof(double) * h * (size_t)tinc);
  for (size_t j = 0; j < h * (size_t)tinc; j++)
    tin[j] = tout[j] = -7.0;
  for (size_t j = 0; j < h; j++)
    tin[j * (size_t)tinc] = cs->t[j];
  nslm_caratheodory_opts *o;
  ck_assert_int_eq(nslm_caratheodory_opts_create(&o), NSLM_OK);
  ck_assert_int_eq(nslm_caratheodory_opts_set_double(o, NSLM_CARATHEODORY_RANK_TOL, cs->tol),
                   NSLM_OK);
  ck_assert_int_eq(nslm_caratheodory_opts_set_int(o, NSLM_CARATHEODORY_NUM_THREADS, 1), NSLM_OK);
  size_t nnz = 99, rank = 99;
  double res = -1, bnd = -1, nb = -1, na = -1;
  int st = nslm_caratheodory_reduce(h, r, cs->z, (ptrdiff_t)r, 1, tin, tinc, cs->q, o, tout, tinc,
                                    &nnz, &res, &bnd, &nb, &na, &rank);
  ck_assert_msg(st == NSLM_OK, "status %d (%s)", st, nslm_last_error());
  nslm_caratheodory_opts_destroy(o);
  double *tp = tp_out;
  for (size_t j = 0; j < h; j++)
    tp[j] = tout[j * (size_t)tinc];
  for (size_t j = 0; j < h * (size_t)tinc; j++)
    if (j % (size_t)tinc)
      ck_assert(tout[j] == -7.0); /* gaps untouched */
  props_t p;
  props(h, r, cs->z, cs->t, tp, cs->q, &p);
  char what[160];
  snprintf(what, sizeof what, "h %zu r %zu q %g Z-kind %d t-kind %d tinc %td", h, r, cs->q, cs->zk,
           cs->tk, tinc);
  ck_assert_msg(p.sign_ok, "%s: a sign flipped or the support grew", what);
  ck_assert_msg(p.nnz == nnz, "%s: nnz %zu reported %zu", what, p.nnz, nnz);
  ck_assert_msg(nnz <= rank, "%s: %zu nonzeros > rank %zu", what, nnz, rank);
  if (cs->k_expect != (size_t)-1)
    ck_assert_msg(rank == cs->k_expect, "%s: rank %zu, by construction %zu", what, rank,
                  cs->k_expect);
  ck_assert_msg(p.growth <= NORM_GROWTH(h), "%s: sum |t|^q grew by %g", what, p.growth);
  ck_assert_msg(p.indep > INDEP_MIN, "%s: support dependent (sigma_min %g)", what, p.indep);
  if (cs->well)
    ck_assert_msg(p.resid <= RESID_WELL, "%s: residual %g (bound %g, rank %zu, nnz %zu)", what,
                  p.resid, bnd, rank, nnz);
  ck_assert_msg(p.resid <= bnd + ROUND, "%s: residual %g above bound %g", what, p.resid, bnd);
  /* The reported figures are the test's up to rounding. */
  ck_assert_msg(fabs(res - p.resid) <= ROUND, "%s: reported residual %g, measured %g", what, res,
                p.resid);
  ck_assert_double_eq_tol(nb, p.qn_before, 1e-12 * p.qn_before + 1e-300);
  ck_assert_double_eq_tol(na, p.qn_after, 1e-12 * p.qn_before + 1e-300);
  free(tin);
  free(tout);
  *rank_out = rank;
  return nnz;
}

static const size_t shapes[][2] = {{3, 5},  {5, 12},  {10, 10},  {12, 12}, {13, 12}, {40, 6},
                                   {70, 3}, {200, 8}, {150, 20}, {600, 4}, {400, 16}};
#define NSHAPES (sizeof shapes / sizeof shapes[0])

static void run_family(double q, int zk, int reps) {
  for (size_t s = 0; s < NSHAPES; s++)
    for (int tk = 0; tk < T_KINDS; tk++)
      for (int rep = 0; rep < reps; rep++) {
        case_t cs = {shapes[s][0], shapes[s][1], zk, tk, q, 0, 0, 0, NULL, NULL};
        uint64_t seed = 1000003u * (uint64_t)(s + 1) + 7919u * (uint64_t)zk + 131u * (uint64_t)tk +
                        (uint64_t)rep + (uint64_t)(q * 1000);
        make_case(&cs, seed);
        double *tp = malloc(sizeof(double) * cs.h);
        size_t rank;
        check_case(&cs, (rep & 1) ? 2 : 1, tp, &rank);
        free(tp);
        free_case(&cs);
      }
}

/* 11 shapes x 4 coefficient kinds x reps, for each Z family and q. */
#define FAMILY_TEST(name, zk, reps)                                                                \
  START_TEST(name) {                                                                               \
    static const double qs[] = {1.0, 0.5, 0.1};                                                    \
    run_family(qs[_i], zk, reps);                                                                  \
  }                                                                                                \
  END_TEST
FAMILY_TEST(family_gauss, Z_GAUSS, 8)
FAMILY_TEST(family_lowrank, Z_LOWRANK, 8)
FAMILY_TEST(family_duplicates, Z_DUPLICATES, 8)
FAMILY_TEST(family_scaled, Z_SCALED, 8)
FAMILY_TEST(family_noise_below, Z_NOISE_BELOW, 6)
FAMILY_TEST(family_noise_above, Z_NOISE_ABOVE, 6)

/* ------------------------------------------------------- against the reference */

/* h = k + 1 active vectors in general position: one null vector, two
 * candidate ends; the library and the textbook reference must take the
 * same one, so the results agree to rounding (1e-9 relative: both solve a
 * well-conditioned k x k system in different ways; the random families
 * here have condition numbers below ~1e4, so agreement to 1e-12 would
 * already be expected, 1e-9 leaves room).  Near-ties of the two ends are
 * skipped (either end is right). */
START_TEST(agrees_with_reference_on_one_null_vector) {
  static const double qs[] = {1.0, 0.5, 0.1};
  int compared = 0;
  for (int rep = 0; rep < 300; rep++) {
    nslmt_rng g;
    nslmt_seed(&g, 4242 + (uint64_t)rep);
    size_t r = nslmt_range(&g, 1, 12), k = rep % 2 ? r : nslmt_range(&g, 1, r), h = k + 1;
    case_t cs = {h, r, k < r ? Z_LOWRANK : Z_GAUSS, T_GAUSS, qs[rep % 3], 0, 0, 0, NULL, NULL};
    cs.z = malloc(sizeof(double) * h * r);
    cs.t = malloc(sizeof(double) * h);
    cs.tol = NSLM_CARATHEODORY_RANK_TOL_DEFAULT;
    double *a = malloc(sizeof(double) * h * k), *b = malloc(sizeof(double) * k * r);
    nslmt_fill(&g, a, h * k, 1.0);
    nslmt_fill(&g, b, k * r, 1.0);
    for (size_t i = 0; i < h; i++)
      for (size_t c = 0; c < r; c++) {
        double s = 0;
        for (size_t l = 0; l < k; l++)
          s += a[i * k + l] * b[l * r + c];
        cs.z[i * r + c] = s;
      }
    for (size_t j = 0; j < h; j++)
      cs.t[j] = rep % 5 == 0 ? cauchy(&g) : nslmt_normal(&g);
    cs.k_expect = k;
    cs.well = 1;
    double *tp = malloc(sizeof(double) * h), *tr = malloc(sizeof(double) * h);
    size_t rank, kref;
    size_t nnz = check_case(&cs, 1, tp, &rank);
    size_t steps = ref_reduce(h, r, cs.z, cs.t, cs.q, cs.tol, tr, &kref);
    ck_assert_uint_eq(kref, rank);
    ck_assert_uint_eq(steps, 1);
    props_t pr;
    props(h, r, cs.z, cs.t, tr, cs.q, &pr);
    ck_assert(pr.sign_ok && pr.growth <= NORM_GROWTH(h) && pr.resid <= RESID_WELL);
    props_t pl;
    props(h, r, cs.z, cs.t, tp, cs.q, &pl);
    ck_assert_uint_eq(pr.nnz, nnz);
    ck_assert_uint_eq(nnz, k);
    double diff = 0, scale = 0;
    for (size_t j = 0; j < h; j++) {
      diff = fmax(diff, fabs(tp[j] - tr[j]));
      scale = fmax(scale, fabs(cs.t[j]));
    }
    if (diff > 1e-9 * scale) {
      /* Different ends: allowed only on a near-tie of the two ends. */
      ck_assert_msg(fabs(pl.qn_after - pr.qn_after) <= 1e-6 * pr.qn_before,
                    "rep %d: library and reference took different ends (%g vs %g)", rep,
                    pl.qn_after, pr.qn_after);
    } else {
      compared++;
    }
    free(a);
    free(b);
    free(tp);
    free(tr);
    free_case(&cs);
  }
  ck_assert_int_ge(compared, 290); /* near-ties are rare */
}
END_TEST

/* Larger h: the algorithms differ (grouping, order), the guarantees do
 * not.  In general position both end with exactly rank(Z) nonzeros. */
START_TEST(matches_reference_properties) {
  static const double qs[] = {1.0, 0.5, 0.1};
  for (int rep = 0; rep < 240; rep++) {
    nslmt_rng g;
    nslmt_seed(&g, 777 + (uint64_t)rep);
    size_t r = nslmt_range(&g, 2, 10), h = nslmt_range(&g, r + 2, 60);
    case_t cs = {h,
                 r,
                 rep % 2 ? Z_LOWRANK : Z_GAUSS,
                 rep % 3 == 0 ? T_CAUCHY : T_GAUSS,
                 qs[rep % 3],
                 0,
                 0,
                 0,
                 NULL,
                 NULL};
    make_case(&cs, 99 + (uint64_t)rep);
    double *tp = malloc(sizeof(double) * h), *tr = malloc(sizeof(double) * h);
    size_t rank, kref;
    size_t nnz = check_case(&cs, 1, tp, &rank);
    ref_reduce(h, r, cs.z, cs.t, cs.q, cs.tol, tr, &kref);
    ck_assert_uint_eq(kref, rank);
    props_t pr;
    props(h, r, cs.z, cs.t, tr, cs.q, &pr);
    ck_assert_msg(pr.sign_ok && pr.growth <= NORM_GROWTH(h) && pr.resid <= RESID_WELL,
                  "the reference itself failed (rep %d)", rep);
    ck_assert_uint_eq(pr.nnz, rank);
    ck_assert_uint_eq(nnz, rank);
    free(tp);
    free(tr);
    free_case(&cs);
  }
}
END_TEST

/* ------------------------------------------------------------ regressions */

/* Weights (0.98, 0.01, 0.01) on the points 1, 0, 2 of a line, q = 1/2:
 * sum |t|^(1/2) = 1.1899.  The reduced vector has one nonzero, (1, 0, 0)
 * (value 1) or (0, 0, 0.5) (value 0.707); a one-sided ratio test can end
 * at 1.41. */
START_TEST(regression_line_one_sided_step) {
  const double z[3] = {1.0, 0.0, 2.0}, t[3] = {0.98, 0.01, 0.01};
  double tp[3], ref[3];
  size_t nnz, rank, kref;
  double res, bnd, nb, na;
  ck_assert_int_eq(nslm_caratheodory_reduce(3, 1, z, 1, 1, t, 1, 0.5, NULL, tp, 1, &nnz, &res, &bnd,
                                            &nb, &na, &rank),
                   NSLM_OK);
  ck_assert_uint_eq(rank, 1);
  ck_assert_uint_eq(nnz, 1);
  ck_assert_double_eq_tol(tp[0] * 1.0 + tp[2] * 2.0, 1.0, 1e-15);
  ck_assert(tp[1] == 0.0);
  double phi = sqrt(fabs(tp[0])) + sqrt(fabs(tp[1])) + sqrt(fabs(tp[2]));
  ck_assert_msg(phi <= 1.0 + 1e-15, "sum |t'|^(1/2) = %g", phi);
  ck_assert_double_eq_tol(na, phi * phi, 1e-14);
  ck_assert_double_eq_tol(nb, pow(sqrt(0.98) + 0.2, 2), 1e-14);
  ref_reduce(3, 1, z, t, 0.5, 1e-12, ref, &kref);
  double phr = sqrt(fabs(ref[0])) + sqrt(fabs(ref[1])) + sqrt(fabs(ref[2]));
  ck_assert(phr <= 1.0 + 1e-15);
  /* Every order of the three points (the elimination is order dependent). */
  static const int perm[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  for (int pi = 0; pi < 6; pi++) {
    double zp[3], tq[3], tpp[3];
    for (int j = 0; j < 3; j++)
      zp[j] = z[perm[pi][j]], tq[j] = t[perm[pi][j]];
    ck_assert_int_eq(nslm_caratheodory_reduce(3, 1, zp, 1, 1, tq, 1, 0.5, NULL, tpp, 1, &nnz, &res,
                                              &bnd, &nb, &na, &rank),
                     NSLM_OK);
    ck_assert_uint_eq(nnz, 1);
    double ph = sqrt(fabs(tpp[0])) + sqrt(fabs(tpp[1])) + sqrt(fabs(tpp[2]));
    ck_assert_msg(ph <= 1.0 + 1e-15, "order %d: sum |t'|^(1/2) = %g", pi, ph);
    ck_assert_double_eq_tol(tpp[0] * zp[0] + tpp[1] * zp[1] + tpp[2] * zp[2], 1.0, 1e-15);
    ref_reduce(3, 1, zp, tq, 0.5, 1e-12, ref, &kref);
    ph = sqrt(fabs(ref[0])) + sqrt(fabs(ref[1])) + sqrt(fabs(ref[2]));
    ck_assert(ph <= 1.0 + 1e-15);
  }
  /* PAPER mode keeps r + 1 = 2 nonzeros: one step from 3. */
  nslm_caratheodory_opts *o;
  ck_assert_int_eq(nslm_caratheodory_opts_create(&o), NSLM_OK);
  ck_assert_int_eq(
      nslm_caratheodory_opts_set_int(o, NSLM_CARATHEODORY_MODE, NSLM_CARATHEODORY_PAPER), NSLM_OK);
  ck_assert_int_eq(nslm_caratheodory_reduce(3, 1, z, 1, 1, t, 1, 0.5, o, tp, 1, &nnz, &res, &bnd,
                                            &nb, &na, &rank),
                   NSLM_OK);
  nslm_caratheodory_opts_destroy(o);
  ck_assert_uint_le(nnz, 2);
  phi = sqrt(fabs(tp[0])) + sqrt(fabs(tp[1])) + sqrt(fabs(tp[2]));
  ck_assert(phi <= sqrt(0.98) + 0.2 + 1e-15);
  ck_assert_double_eq_tol(tp[0] * 1.0 + tp[2] * 2.0, 1.0, 1e-15);
}
END_TEST

/* Z = [[.9, 2, 0], [.9, 0, 2]], t = e_1, q = 1/2: one nonzero is already
 * independent, nothing may change (a method that brings in the other
 * points would reach (0, .45, .45) with sum |t|^(1/2) = 1.34 > 1).  Both
 * readings: the three columns as points of R^2, and the two rows as points
 * of R^3. */
START_TEST(regression_single_nonzero_untouched) {
  const double zc[6] = {0.9, 0.9, 2.0, 0.0, 0.0, 2.0}; /* rows (.9,.9), (2,0), (0,2) */
  const double t3[3] = {1.0, 0.0, 0.0};
  double tp[3];
  size_t nnz, rank;
  ck_assert_int_eq(nslm_caratheodory_reduce(3, 2, zc, 2, 1, t3, 1, 0.5, NULL, tp, 1, &nnz, NULL,
                                            NULL, NULL, NULL, &rank),
                   NSLM_OK);
  ck_assert_uint_eq(rank, 2);
  ck_assert_uint_eq(nnz, 1);
  ck_assert(tp[0] == 1.0 && tp[1] == 0.0 && tp[2] == 0.0);
  const double zr[6] = {0.9, 2.0, 0.0, 0.9, 0.0, 2.0}; /* rows (.9,2,0), (.9,0,2) */
  const double t2[2] = {1.0, 0.0};
  ck_assert_int_eq(nslm_caratheodory_reduce(2, 3, zr, 3, 1, t2, 1, 0.5, NULL, tp, 1, &nnz, NULL,
                                            NULL, NULL, NULL, &rank),
                   NSLM_OK);
  ck_assert(tp[0] == 1.0 && tp[1] == 0.0);
  ck_assert_uint_eq(nnz, 1);
}
END_TEST

/* The full-rank certificate first looks at a sample of Z's rows (2 r rows
 * spread evenly: every (h / 2r)-th row from row 0); here exactly those rows
 * are zero, or all copies of one row, and the others Gaussian, so the
 * sample certifies nothing while the whole Z has full rank r.  The rank
 * must still be r (the reference's Jacobi SVD agrees) and every property
 * hold.  Third variant: a Gaussian Z with its last column zeroed, rank
 * r - 1, which neither the sample nor the whole Z certifies: the SVD
 * decides. */
START_TEST(rank_certificate_sample) {
  const size_t h = 400, r = 10, ns = 2 * r, stride = h / ns;
  static const double qs[] = {1.0, 0.5};
  for (int variant = 0; variant < 3; variant++)
    for (int qi = 0; qi < 2; qi++) {
      case_t cs = {h, r, Z_GAUSS, T_GAUSS, qs[qi], 0, 0, 0, NULL, NULL};
      make_case(&cs, 4242 + 10 * (uint64_t)variant + (uint64_t)qi);
      for (size_t i = 0; i < ns; i++) {
        double *row = cs.z + i * stride * r;
        for (size_t c = 0; c < r; c++)
          row[c] = variant == 0 ? 0.0 : variant == 1 ? cs.z[r + c] : row[c];
      }
      cs.k_expect = r;
      if (variant == 2) {
        /* Every row a combination of the first r - 1 columns' directions:
         * drop the last coordinate, so the rank is r - 1 exactly. */
        for (size_t j = 0; j < h; j++)
          cs.z[j * r + r - 1] = 0.0;
        cs.k_expect = r - 1;
      }
      double *tp = malloc(sizeof(double) * h), *tr = malloc(sizeof(double) * h);
      size_t rank, kref;
      size_t nnz = check_case(&cs, 1, tp, &rank);
      ref_reduce(h, r, cs.z, cs.t, cs.q, cs.tol, tr, &kref);
      ck_assert_uint_eq(kref, cs.k_expect);
      ck_assert_uint_eq(rank, kref);
      ck_assert_uint_le(nnz, rank);
      free(tp);
      free(tr);
      free_case(&cs);
    }
}
END_TEST

/* ---------------------------------------------------------- special inputs */

START_TEST(zero_inputs) {
  double z[12] = {0}, t[4] = {1, -2, 0, 3}, tp[4];
  size_t nnz = 9, rank = 9;
  double res = -1, bnd = -1, nb = -1, na = -1;
  /* Z = 0: every vector is the zero vector, all coefficients go. */
  ck_assert_int_eq(nslm_caratheodory_reduce(4, 3, z, 3, 1, t, 1, 0.5, NULL, tp, 1, &nnz, &res, &bnd,
                                            &nb, &na, &rank),
                   NSLM_OK);
  ck_assert_uint_eq(rank, 0);
  ck_assert_uint_eq(nnz, 0);
  for (int j = 0; j < 4; j++)
    ck_assert(tp[j] == 0.0);
  ck_assert(res == 0.0 && na == 0.0);
  /* t = 0: nothing to do. */
  nslmt_rng g;
  nslmt_seed(&g, 5);
  nslmt_fill(&g, z, 12, 1.0);
  double t0[4] = {0, 0, 0, 0};
  ck_assert_int_eq(nslm_caratheodory_reduce(4, 3, z, 3, 1, t0, 1, 1.0, NULL, tp, 1, &nnz, &res,
                                            &bnd, &nb, &na, &rank),
                   NSLM_OK);
  ck_assert_uint_eq(nnz, 0);
  ck_assert(nb == 0.0 && na == 0.0 && res == 0.0);
  /* h = 1, r = 1. */
  double z1 = 3.0, t1 = -2.0, o1;
  ck_assert_int_eq(nslm_caratheodory_reduce(1, 1, &z1, 1, 1, &t1, 1, 0.1, NULL, &o1, 1, &nnz, &res,
                                            &bnd, &nb, &na, &rank),
                   NSLM_OK);
  ck_assert(o1 == -2.0 && nnz == 1 && rank == 1);
}
END_TEST

/* Extreme magnitudes: coefficients near 1e+-300 (down to subnormal:
 * 1e-305 / 400), q = 0.01 (group coefficients (sum |t|^q)^(1/q) would
 * overflow if formed). */
START_TEST(extreme_magnitudes) {
  static const double scales[] = {1e-305, 1e-300, 1e-150, 1.0, 1e150, 1e300};
  static const double qs[] = {1.0, 0.5, 0.01};
  size_t h = 400, r = 6;
  double *z = malloc(sizeof(double) * h * r), *t = malloc(sizeof(double) * h),
         *tp = malloc(sizeof(double) * h);
  for (int si = 0; si < 6; si++)
    for (int qi = 0; qi < 3; qi++) {
      nslmt_rng g;
      nslmt_seed(&g, (uint64_t)(si * 10 + qi));
      nslmt_fill(&g, z, h * r, 1.0);
      for (size_t j = 0; j < h; j++)
        t[j] = scales[si] * nslmt_normal(&g) / (double)h;
      size_t nnz, rank;
      double res;
      ck_assert_int_eq(nslm_caratheodory_reduce(h, r, z, (ptrdiff_t)r, 1, t, 1, qs[qi], NULL, tp, 1,
                                                &nnz, &res, NULL, NULL, NULL, &rank),
                       NSLM_OK);
      ck_assert_uint_eq(rank, r);
      ck_assert_uint_eq(nnz, r);
      /* The q-norms themselves may overflow a double (q = 0.01: 400^100);
       * props() compares sum |t|^q in long double. */
      props_t p;
      props(h, r, z, t, tp, qs[qi], &p);
      ck_assert_msg(res <= RESID_WELL && p.resid <= RESID_WELL, "scale %g q %g: residual %g",
                    scales[si], qs[qi], p.resid);
      ck_assert_msg(p.growth <= NORM_GROWTH(h), "scale %g q %g: growth %g", scales[si], qs[qi],
                    p.growth);
      ck_assert(p.sign_ok && p.nnz == r);
    }
  free(z);
  free(t);
  free(tp);
}
END_TEST

/* ---------------------------------------------------------- batched rows */

/* Batched rows: the results do not depend on the thread count (bitwise);
 * each row is a valid reduction, as is the same row reduced alone; used
 * is the union of the supports; in-place works; the layouts of Z and W
 * give valid results. */
START_TEST(rows_batched_consistent) {
  size_t h = 500, r = 12, u = 9;
  nslmt_rng g;
  nslmt_seed(&g, 31);
  double *z = malloc(sizeof(double) * h * r), *zf = malloc(sizeof(double) * h * r);
  double *w = malloc(sizeof(double) * u * h), *wo = malloc(sizeof(double) * u * h);
  double *w1 = malloc(sizeof(double) * u * h), *wt = malloc(sizeof(double) * u * h);
  nslmt_fill(&g, z, h * r, 1.0);
  for (size_t i = 0; i < h; i++)
    for (size_t c = 0; c < r; c++)
      zf[i + c * h] = z[i * r + c];
  for (size_t i = 0; i < u * h; i++)
    w[i] = nslmt_uniform(&g) < 0.3 ? 0.0 : cauchy(&g);
  for (size_t j = 0; j < h; j++)
    w[4 * h + j] = 0.0; /* an all-zero row */
  unsigned char *used = malloc(h);
  size_t nnz[9], rank;
  double res[9], bnd[9], nb[9], na[9];
  nslm_caratheodory_opts *o;
  ck_assert_int_eq(nslm_caratheodory_opts_create(&o), NSLM_OK);
  for (int thr = 1; thr <= 3; thr++) {
    ck_assert_int_eq(nslm_caratheodory_opts_set_int(o, NSLM_CARATHEODORY_NUM_THREADS, thr),
                     NSLM_OK);
    ck_assert_int_eq(nslm_caratheodory_reduce_rows(h, r, z, (ptrdiff_t)r, 1, u, w, (ptrdiff_t)h, 1,
                                                   0.5, o, wo, (ptrdiff_t)h, 1, nnz, used, res, bnd,
                                                   nb, na, &rank),
                     NSLM_OK);
    if (thr == 1)
      memcpy(w1, wo, sizeof(double) * u * h);
    else
      for (size_t i = 0; i < u * h; i++)
        ck_assert(wo[i] == w1[i]);
  }
  ck_assert_uint_eq(rank, r);
  for (size_t i = 0; i < u; i++) {
    double one;
    size_t n1;
    ck_assert_int_eq(nslm_caratheodory_reduce(h, r, z, (ptrdiff_t)r, 1, w + i * h, 1, 0.5, o, wt, 1,
                                              &n1, &one, NULL, NULL, NULL, NULL),
                     NSLM_OK);
    /* One row alone sums its first level directly, not through BLIS:
     * other rounding, possibly other (equally valid) steps.  Same
     * guarantees, and the same count in general position. */
    props_t p1;
    props(h, r, z, w + i * h, wt, 0.5, &p1);
    ck_assert(p1.sign_ok && p1.nnz == n1 && p1.resid <= RESID_WELL &&
              p1.growth <= NORM_GROWTH(h) && p1.indep > INDEP_MIN);
    ck_assert_uint_eq(n1, nnz[i]);
    props_t p;
    props(h, r, z, w + i * h, w1 + i * h, 0.5, &p);
    ck_assert(p.sign_ok && p.nnz == nnz[i] && p.resid <= RESID_WELL && p.growth <= NORM_GROWTH(h));
    ck_assert(fabs(p.resid - res[i]) <= ROUND);
    ck_assert_uint_eq(nnz[i], i == 4 ? 0 : r);
  }
  for (size_t j = 0; j < h; j++) {
    int any = 0;
    for (size_t i = 0; i < u; i++)
      any |= w1[i * h + j] != 0.0;
    ck_assert_int_eq(used[j], any);
  }
  /* In place. */
  memcpy(wt, w, sizeof(double) * u * h);
  ck_assert_int_eq(nslm_caratheodory_reduce_rows(h, r, z, (ptrdiff_t)r, 1, u, wt, (ptrdiff_t)h, 1,
                                                 0.5, o, wt, (ptrdiff_t)h, 1, NULL, NULL, NULL,
                                                 NULL, NULL, NULL, NULL),
                   NSLM_OK);
  for (size_t i = 0; i < u * h; i++)
    ck_assert(wt[i] == w1[i]);
  /* Fortran-order Z and W (W transposed in memory: rs 1, cs u), and
   * every-other-column slices: valid reductions (the first level is summed
   * differently, so rounding may pick other ends). */
  double *wf = malloc(sizeof(double) * u * h), *wfo = malloc(sizeof(double) * u * h);
  for (size_t i = 0; i < u; i++)
    for (size_t j = 0; j < h; j++)
      wf[i + j * u] = w[i * h + j];
  ck_assert_int_eq(nslm_caratheodory_reduce_rows(h, r, zf, 1, (ptrdiff_t)h, u, wf, 1, (ptrdiff_t)u,
                                                 0.5, o, wfo, 1, (ptrdiff_t)u, nnz, NULL, res, NULL,
                                                 NULL, NULL, &rank),
                   NSLM_OK);
  for (size_t i = 0; i < u; i++) {
    for (size_t j = 0; j < h; j++)
      wt[j] = wfo[i + j * u];
    props_t p;
    props(h, r, z, w + i * h, wt, 0.5, &p);
    ck_assert(p.sign_ok && p.nnz == nnz[i] && p.resid <= RESID_WELL && p.growth <= NORM_GROWTH(h));
  }
  double *z2 = malloc(sizeof(double) * h * r * 2);
  for (size_t i = 0; i < h * r; i++)
    z2[2 * i] = z[i], z2[2 * i + 1] = NAN; /* gaps: never read */
  ck_assert_int_eq(nslm_caratheodory_reduce_rows(h, r, z2, (ptrdiff_t)(2 * r), 2, u, w,
                                                 (ptrdiff_t)h, 1, 0.5, o, wo, (ptrdiff_t)h, 1, nnz,
                                                 NULL, res, NULL, NULL, NULL, &rank),
                   NSLM_OK);
  for (size_t i = 0; i < u * h; i++)
    ck_assert(wo[i] == w1[i]);
  nslm_caratheodory_opts_destroy(o);
  free(z);
  free(zf);
  free(z2);
  free(w);
  free(wo);
  free(w1);
  free(wt);
  free(wf);
  free(wfo);
  free(used);
}
END_TEST

/* The internal contract used by compression: same results as the public
 * batched call, trunc_bound the largest per-row bound. */
START_TEST(internal_contract) {
  size_t h = 300, r = 7, u = 5;
  nslmt_rng g;
  nslmt_seed(&g, 77);
  double *z = malloc(sizeof(double) * h * r), *w = malloc(sizeof(double) * u * h);
  double *a = malloc(sizeof(double) * u * h), *b = malloc(sizeof(double) * u * h);
  /* rank 4 + noise at 1e-9: truncated under rank_tol 1e-6, bound > 0. */
  double s[7] = {1, 0.7, 0.4, 0.2, 1e-9, 1e-9, 1e-9};
  with_singular_values(&g, h, r, s, z);
  nslmt_fill(&g, w, u * h, 1.0);
  nslmi_carath_opts co = {1e-6, 0, 1, NULL, NULL};
  unsigned char used[300];
  double res[5], nb[5], na[5], tb, bnd[5];
  size_t rank;
  ck_assert_int_eq(nslmi_carath_rows(h, r, z, (ptrdiff_t)r, 1, u, w, (ptrdiff_t)h, 1, 1.0, &co, a,
                                     (ptrdiff_t)h, 1, used, res, nb, na, &rank, &tb),
                   NSLM_OK);
  ck_assert_uint_eq(rank, 4);
  nslm_caratheodory_opts *o;
  ck_assert_int_eq(nslm_caratheodory_opts_create(&o), NSLM_OK);
  ck_assert_int_eq(nslm_caratheodory_opts_set_double(o, NSLM_CARATHEODORY_RANK_TOL, 1e-6), NSLM_OK);
  ck_assert_int_eq(nslm_caratheodory_opts_set_int(o, NSLM_CARATHEODORY_NUM_THREADS, 1), NSLM_OK);
  ck_assert_int_eq(nslm_caratheodory_reduce_rows(h, r, z, (ptrdiff_t)r, 1, u, w, (ptrdiff_t)h, 1,
                                                 1.0, o, b, (ptrdiff_t)h, 1, NULL, NULL, NULL, bnd,
                                                 NULL, NULL, NULL),
                   NSLM_OK);
  nslm_caratheodory_opts_destroy(o);
  double mx = 0;
  for (size_t i = 0; i < u; i++) {
    mx = fmax(mx, bnd[i]);
    props_t p;
    props(h, r, z, w + i * h, a + i * h, 1.0, &p);
    ck_assert(p.sign_ok && p.nnz <= 4 && p.growth <= NORM_GROWTH(h));
    /* The truncated directions carry sigma = 1e-9: the bound is about
     * 2e-9 ||t||_1 / sum |t| ||z||, and the residual within it. */
    ck_assert(bnd[i] > 0 && bnd[i] < 1e-7);
    ck_assert(p.resid <= bnd[i] + ROUND);
  }
  for (size_t i = 0; i < u * h; i++)
    ck_assert(a[i] == b[i]);
  ck_assert(tb == mx);
  free(z);
  free(w);
  free(a);
  free(b);
}
END_TEST

/* PAPER mode: at most r + 1 nonzeros, all the other guarantees, no
 * independence (rank-deficient Z keeps r + 1 > rank nonzeros). */
START_TEST(paper_mode) {
  static const double qs[] = {1.0, 0.5, 0.1};
  nslm_caratheodory_opts *o;
  ck_assert_int_eq(nslm_caratheodory_opts_create(&o), NSLM_OK);
  ck_assert_int_eq(
      nslm_caratheodory_opts_set_int(o, NSLM_CARATHEODORY_MODE, NSLM_CARATHEODORY_PAPER), NSLM_OK);
  int mode = -1;
  ck_assert_int_eq(nslm_caratheodory_opts_get_int(o, NSLM_CARATHEODORY_MODE, &mode), NSLM_OK);
  ck_assert_int_eq(mode, NSLM_CARATHEODORY_PAPER);
  int lower = 0;
  for (int rep = 0; rep < 150; rep++) {
    nslmt_rng g;
    nslmt_seed(&g, 555 + (uint64_t)rep);
    size_t r = nslmt_range(&g, 1, 8), h = nslmt_range(&g, 1, 50);
    case_t cs = {h,
                 r,
                 rep % 3 == 0   ? Z_GAUSS
                 : rep % 3 == 1 ? Z_LOWRANK
                                : Z_DUPLICATES,
                 rep % 2 ? T_GAUSS : T_CAUCHY,
                 qs[rep % 3],
                 0,
                 0,
                 0,
                 NULL,
                 NULL};
    make_case(&cs, 3 + (uint64_t)rep);
    double *tp = malloc(sizeof(double) * h);
    size_t nnz, rank;
    double res, bnd, nb, na;
    ck_assert_int_eq(nslm_caratheodory_reduce(h, r, cs.z, (ptrdiff_t)r, 1, cs.t, 1, cs.q, o, tp, 1,
                                              &nnz, &res, &bnd, &nb, &na, &rank),
                     NSLM_OK);
    props_t p;
    props(h, r, cs.z, cs.t, tp, cs.q, &p);
    size_t act = 0;
    for (size_t j = 0; j < h; j++)
      act += cs.t[j] != 0;
    ck_assert(p.sign_ok && p.nnz == nnz && p.growth <= NORM_GROWTH(h));
    ck_assert(p.resid <= RESID_WELL);
    ck_assert(bnd == 0.0);
    /* Exactly min(active, r + 1) nonzeros: steps stop at r + 1, and each
     * step removes one (ties may remove two, rarely). */
    ck_assert_uint_le(nnz, r + 1);
    if (act <= r + 1)
      ck_assert_uint_eq(nnz, act);
    if (nnz > rank)
      lower++;
    free(tp);
    free_case(&cs);
  }
  ck_assert_int_gt(lower, 20); /* the tight mode's gain shows */
  nslm_caratheodory_opts_destroy(o);
}
END_TEST

/* --------------------------------------------------- progress, faults */

static int count_calls(double f, void *ud) {
  int *n = ud;
  ck_assert(f > 0 && f <= 1);
  return ++*n >= 3; /* stop at the third call */
}

static int count_only(double f, void *ud) {
  int *n = ud;
  (void)f;
  ++*n;
  return 0;
}

START_TEST(progress_and_cancel) {
  size_t h = 80, r = 5, u = 6;
  nslmt_rng g;
  nslmt_seed(&g, 8);
  double *z = malloc(sizeof(double) * h * r), *w = malloc(sizeof(double) * u * h),
         *wo = malloc(sizeof(double) * u * h);
  nslmt_fill(&g, z, h * r, 1.0);
  nslmt_fill(&g, w, u * h, 1.0);
  for (size_t i = 0; i < u * h; i++)
    wo[i] = 42.0;
  nslm_caratheodory_opts *o;
  ck_assert_int_eq(nslm_caratheodory_opts_create(&o), NSLM_OK);
  ck_assert_int_eq(nslm_caratheodory_opts_set_int(o, NSLM_CARATHEODORY_NUM_THREADS, 1), NSLM_OK);
  int n = 0;
  ck_assert_int_eq(nslm_caratheodory_opts_set_progress(o, count_only, &n), NSLM_OK);
  ck_assert_int_eq(nslm_caratheodory_reduce_rows(h, r, z, (ptrdiff_t)r, 1, u, w, (ptrdiff_t)h, 1,
                                                 1.0, o, wo, (ptrdiff_t)h, 1, NULL, NULL, NULL,
                                                 NULL, NULL, NULL, NULL),
                   NSLM_OK);
  ck_assert_int_eq(n, (int)u);
  for (size_t i = 0; i < u * h; i++)
    wo[i] = 42.0;
  n = 0;
  ck_assert_int_eq(nslm_caratheodory_opts_set_progress(o, count_calls, &n), NSLM_OK);
  size_t rank = 77;
  ck_assert_int_eq(nslm_caratheodory_reduce_rows(h, r, z, (ptrdiff_t)r, 1, u, w, (ptrdiff_t)h, 1,
                                                 1.0, o, wo, (ptrdiff_t)h, 1, NULL, NULL, NULL,
                                                 NULL, NULL, NULL, &rank),
                   NSLM_ERR_CANCELLED);
  ck_assert_int_eq(n, 3);
  ck_assert_uint_eq(rank, 77);
  for (size_t i = 0; i < u * h; i++)
    ck_assert(wo[i] == 42.0);
  nslm_caratheodory_opts_destroy(o);
  free(z);
  free(w);
  free(wo);
}
END_TEST

/* Every allocation of a batched call (grouped and PAPER paths) fails once:
 * NSLM_ERR_NOMEM, outputs untouched. */
START_TEST(every_allocation_failure_is_clean) {
  size_t h = 120, r = 4, u = 3;
  nslmt_rng g;
  nslmt_seed(&g, 9);
  double *z = malloc(sizeof(double) * h * r), *w = malloc(sizeof(double) * u * h),
         *wo = malloc(sizeof(double) * u * h);
  nslmt_fill(&g, z, h * r, 1.0);
  nslmt_fill(&g, w, u * h, 1.0);
  for (int paper = 0; paper < 2; paper++) {
    nslmi_carath_opts co = {1e-12, paper, 1, NULL, NULL};
    int sites = 0;
    for (long k = 0;; k++) {
      for (size_t i = 0; i < u * h; i++)
        wo[i] = 5.0;
      double res[3] = {-1, -1, -1};
      size_t rank = 99;
      nslmi_alloc_fail_after(k, 0);
      int st = nslmi_carath_rows(h, r, z, (ptrdiff_t)r, 1, u, w, (ptrdiff_t)h, 1, 1.0, &co, wo,
                                 (ptrdiff_t)h, 1, NULL, res, NULL, NULL, &rank, NULL);
      long used = nslmi_alloc_count();
      nslmi_alloc_fail_after(-1, 0);
      if (k >= used) {
        ck_assert_int_eq(st, NSLM_OK);
        break;
      }
      ck_assert_int_eq(st, NSLM_ERR_NOMEM);
      ck_assert(rank == 99 && res[0] == -1);
      for (size_t i = 0; i < u * h; i++)
        ck_assert(wo[i] == 5.0);
      sites++;
    }
    ck_assert_int_ge(sites, 8);
  }
  free(z);
  free(w);
  free(wo);
}
END_TEST

/* Options: defaults, round trips, the default tolerance as a function. */
START_TEST(options_round_trip) {
  nslm_caratheodory_opts *o;
  ck_assert_int_eq(nslm_caratheodory_opts_create(&o), NSLM_OK);
  int v;
  double d;
  ck_assert_int_eq(nslm_caratheodory_opts_get_int(o, NSLM_CARATHEODORY_MODE, &v), NSLM_OK);
  ck_assert_int_eq(v, NSLM_CARATHEODORY_TIGHT);
  ck_assert_int_eq(nslm_caratheodory_opts_get_int(o, NSLM_CARATHEODORY_NUM_THREADS, &v), NSLM_OK);
  ck_assert_int_eq(v, 0);
  ck_assert_int_eq(nslm_caratheodory_opts_get_double(o, NSLM_CARATHEODORY_RANK_TOL, &d), NSLM_OK);
  ck_assert(d == NSLM_CARATHEODORY_RANK_TOL_DEFAULT);
  ck_assert(nslm_caratheodory_default_rank_tol() == NSLM_CARATHEODORY_RANK_TOL_DEFAULT);
  ck_assert_int_eq(nslm_caratheodory_opts_set_double(o, NSLM_CARATHEODORY_RANK_TOL, 0.0), NSLM_OK);
  ck_assert_int_eq(nslm_caratheodory_opts_get_double(o, NSLM_CARATHEODORY_RANK_TOL, &d), NSLM_OK);
  ck_assert(d == 0.0);
  ck_assert_int_eq(nslm_caratheodory_opts_set_int(o, NSLM_CARATHEODORY_NUM_THREADS, 3), NSLM_OK);
  ck_assert_int_eq(nslm_caratheodory_opts_get_int(o, NSLM_CARATHEODORY_NUM_THREADS, &v), NSLM_OK);
  ck_assert_int_eq(v, 3);
  /* rank_tol 0 still works: the local floor catches exact duplicates. */
  double z[8] = {1, 2, 1, 2, 3, -1, 0, 0}, t[4] = {1, 1, 1, 1}, tp[4];
  size_t nnz, rank;
  ck_assert_int_eq(nslm_caratheodory_reduce(4, 2, z, 2, 1, t, 1, 0.5, o, tp, 1, &nnz, NULL, NULL,
                                            NULL, NULL, &rank),
                   NSLM_OK);
  ck_assert_uint_eq(rank, 2);
  ck_assert_uint_le(nnz, 2);
  ck_assert(tp[3] == 0.0);
  ck_assert(!(tp[0] != 0 && tp[1] != 0));
  nslm_caratheodory_opts_destroy(o);
}
END_TEST

int main(void) {
  Suite *s = suite_create("caratheodory");
  TCase *tc = tcase_create("properties");
  tcase_set_timeout(tc, 240);
  tcase_add_loop_test(tc, family_gauss, 0, 3);
  tcase_add_loop_test(tc, family_lowrank, 0, 3);
  tcase_add_loop_test(tc, family_duplicates, 0, 3);
  tcase_add_loop_test(tc, family_scaled, 0, 3);
  tcase_add_loop_test(tc, family_noise_below, 0, 3);
  tcase_add_loop_test(tc, family_noise_above, 0, 3);
  suite_add_tcase(s, tc);
  TCase *tr = tcase_create("reference");
  tcase_set_timeout(tr, 240);
  tcase_add_test(tr, agrees_with_reference_on_one_null_vector);
  tcase_add_test(tr, matches_reference_properties);
  tcase_add_test(tr, regression_line_one_sided_step);
  tcase_add_test(tr, regression_single_nonzero_untouched);
  tcase_add_test(tr, rank_certificate_sample);
  suite_add_tcase(s, tr);
  TCase *tx = tcase_create("calls");
  tcase_set_timeout(tx, 240);
  tcase_add_test(tx, zero_inputs);
  tcase_add_test(tx, extreme_magnitudes);
  tcase_add_test(tx, rows_batched_consistent);
  tcase_add_test(tx, internal_contract);
  tcase_add_test(tx, paper_mode);
  tcase_add_test(tx, progress_and_cancel);
  tcase_add_test(tx, every_allocation_failure_is_clean);
  tcase_add_test(tx, options_round_trip);
  suite_add_tcase(s, tx);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
