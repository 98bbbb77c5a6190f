/* caratheodory.c - the q-convex Caratheodory reduction (DESIGN 2.1): public
 * calls, options, argument checks, and the grouped reduction of each row.
 *
 * One factorization of Z decides the numerical rank k and the top right
 * singular vectors V_k (caratheodory_basis.c); every vector is then reduced
 * in k-space, y_j = V_k^T z_j, where "independent" means independent
 * there.  That costs ||E^T (t' - t)|| <= sigma_{k+1} ||t' - t||_2 with
 * E = Z - Z V_k V_k^T, and ||t' - t||_2 <= ||t||_2 + ||t'||_2 <= 2 ||t||_q
 * (q <= 1 and the q-norm does not grow): the reported bound.
 *
 * Grouped reduction (Maalouf, Jubran & Feldman, NeurIPS 2019, carried over
 * to q-norms).  Split the active indices into m groups G.  A group is one
 * weighted point: coefficient c_G = (sum_{j in G} |t_j|^q)^(1/q) and point
 * mu_G = (sum_{j in G} t_j z_j) / c_G, so c_G mu_G is the group's share of
 * the sum.  Reduce the m group points (caratheodory_elim.c): c'_G >= 0,
 * sum c'_G mu_G unchanged, sum c'_G^q <= sum c_G^q.  Scale every t_j of G
 * by c'_G / c_G.  Then
 *   sum_j t'_j z_j = sum_G (c'_G / c_G) c_G mu_G = sum_G c'_G mu_G      (same sum)
 *   sum_{j in G} |t'_j|^q = (c'_G / c_G)^q c_G^q = c'_G^q           (same norm budget)
 * so sum_j |t'_j|^q = sum_G c'_G^q <= sum_G c_G^q = sum_j |t_j|^q, and the
 * signs are kept since c'_G / c_G >= 0: the level inherits every guarantee
 * of the group step, which compares both ends of every elimination step.
 * At most k groups survive, so with m = 3k groups the active set shrinks
 * threefold per level; when it fits in m the last level reduces the single
 * vectors, whose survivors are independent.  Cost per vector: the group
 * sums O(h r) plus O(k^2 m) per level, O(h r + r^3 log(h / r)).
 *
 * The elimination works with unit vectors and weights (see
 * caratheodory_elim.c): group G enters as mu_G / ||mu_G|| with coefficient
 * ||sum_G t_j y_j|| and weight (sum_G |t_j|^q) / ||sum_G t_j y_j||^q, all
 * weights of a level divided by the largest (log domain), so nothing
 * overflows even for tiny q.
 *
 * Batched rows share the factorization and the first level: the group
 * sums of u rows are one gemm per group (BLIS), the projections one gemm.
 * Rows are then spread over threads; results are kept sparse (at most k
 * nonzeros per row) and written to the outputs only on success, so wout
 * may alias w and a failure leaves every output untouched.
 *
 * No least-squares polish is applied at the end: refitting t' on its
 * support would move the coefficients off the step ends and could break
 * both the sign and the norm guarantees (it would have to be checked and
 * undone); the residual is already at rounding level in the k-space. */
/* The per-row loops (group sums, residual) have run-time trip counts,
 * which GCC's default -O2 cost model does not vectorize; ask for it. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("vect-cost-model=dynamic")
#endif
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "blas.h"
#include "caratheodory_impl.h"
#include "matrix.h"
#include "status.h"

/* ------------------------------------------------------------- options */

struct nslm_caratheodory_opts {
  int mode;
  int nthreads;
  double rank_tol;
  nslm_progress_fn progress;
  void *user_data;
};

double nslm_caratheodory_default_rank_tol(void) { return NSLM_CARATHEODORY_RANK_TOL_DEFAULT; }

int nslm_caratheodory_opts_create(nslm_caratheodory_opts **out) {
  NSLMI_CHECK_NULL(out);
  *out = NULL;
  nslm_caratheodory_opts *o = nslmi_malloc(sizeof *o);
  if (o == NULL)
    return NSLMI_FAIL(NSLM_ERR_NOMEM, "options");
  o->mode = NSLM_CARATHEODORY_TIGHT;
  o->nthreads = 0;
  o->rank_tol = NSLM_CARATHEODORY_RANK_TOL_DEFAULT;
  o->progress = NULL;
  o->user_data = NULL;
  *out = o;
  return NSLM_OK;
}

void nslm_caratheodory_opts_destroy(nslm_caratheodory_opts *opts) { nslmi_free(opts); }

int nslm_caratheodory_opts_set_int(nslm_caratheodory_opts *opts, int key, int value) {
  NSLMI_CHECK_NULL(opts);
  switch (key) {
  case NSLM_CARATHEODORY_MODE:
    if (value != NSLM_CARATHEODORY_TIGHT && value != NSLM_CARATHEODORY_PAPER)
      return NSLMI_FAIL(NSLM_ERR_INVALID, "unknown mode %d", value);
    opts->mode = value;
    return NSLM_OK;
  case NSLM_CARATHEODORY_NUM_THREADS:
    if (value < 0 || value > 4096)
      return NSLMI_FAIL(NSLM_ERR_DOMAIN, "thread count %d outside 0..4096", value);
    opts->nthreads = value;
    return NSLM_OK;
  }
  return NSLMI_FAIL(NSLM_ERR_INVALID, "key %d is not an int option", key);
}

int nslm_caratheodory_opts_get_int(const nslm_caratheodory_opts *opts, int key, int *value) {
  NSLMI_CHECK_NULL(opts);
  NSLMI_CHECK_NULL(value);
  switch (key) {
  case NSLM_CARATHEODORY_MODE: *value = opts->mode; return NSLM_OK;
  case NSLM_CARATHEODORY_NUM_THREADS: *value = opts->nthreads; return NSLM_OK;
  }
  return NSLMI_FAIL(NSLM_ERR_INVALID, "key %d is not an int option", key);
}

int nslm_caratheodory_opts_set_double(nslm_caratheodory_opts *opts, int key, double value) {
  NSLMI_CHECK_NULL(opts);
  if (key != NSLM_CARATHEODORY_RANK_TOL)
    return NSLMI_FAIL(NSLM_ERR_INVALID, "key %d is not a double option", key);
  if (!isfinite(value))
    return NSLMI_FAIL(NSLM_ERR_NONFINITE, "rank tolerance is not finite");
  if (!(value >= 0.0 && value < 1.0))
    return NSLMI_FAIL(NSLM_ERR_DOMAIN, "rank tolerance %g outside [0, 1)", value);
  opts->rank_tol = value;
  return NSLM_OK;
}

int nslm_caratheodory_opts_get_double(const nslm_caratheodory_opts *opts, int key, double *value) {
  NSLMI_CHECK_NULL(opts);
  NSLMI_CHECK_NULL(value);
  if (key != NSLM_CARATHEODORY_RANK_TOL)
    return NSLMI_FAIL(NSLM_ERR_INVALID, "key %d is not a double option", key);
  *value = opts->rank_tol;
  return NSLM_OK;
}

int nslm_caratheodory_opts_set_progress(nslm_caratheodory_opts *opts, nslm_progress_fn fn,
                                        void *user_data) {
  NSLMI_CHECK_NULL(opts);
  opts->progress = fn;
  opts->user_data = user_data;
  return NSLM_OK;
}

/* -------------------------------------------------------------- driver */

typedef struct {
  double *t, *p;      /* h: the row (scaled by a power of 2), |t_j|^q */
  size_t *list;       /* h: active indices; in PAPER mode the active list */
  size_t *gs;         /* m + 1: group boundaries in list */
  double *s, *y;      /* m x r group sums, m x k projections (then unit points) */
  double *c, *c0, *a; /* m: coefficients before/after, weights */
  double *v, *res;    /* r: sum t z, residual vector */
  nslmi_carath_elim el;
  nslmi_carath_paper pp;
  int has_el, has_pp;
} worker_t;

typedef struct {
  const nslmi_carath_basis *b;
  size_t h, r, u, k, m, kcap;
  double q;
  int paper;
  const double *w;
  ptrdiff_t wrs, wcs;
  int batched;       /* the first level's sums come from s1/y1 */
  size_t row0, row1; /* current chunk */
  const double *s1, *y1;
  worker_t *ws;
  /* sparse results */
  size_t *idx;
  double *val;
  size_t *cnt;
  double *res, *bnd, *nb4, *naf;
  atomic_size_t next, done;
  atomic_int stop, err;
  int cancelled;
  size_t reported; /* rows done at the last progress call */
  nslm_progress_fn progress;
  void *user_data;
} ctx_t;

static inline double powq(double x, double q) {
  if (q == 1.0)
    return x;
  if (q == 0.5)
    return sqrt(x);
  return pow(x, q);
}

static double norm2(const double *x, size_t n) { return nslmi_carath_nrm2(x, n); }

/* x86-64: the passes over rows of Z also get an AVX2/FMA clone. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define HOT __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define HOT
#endif

/* s[g] = sum over list[gs[g]..gs[g+1]) of t_j z_j, g < ng. */
HOT static void group_sums(const ctx_t *cx, worker_t *ws, size_t ng) {
  size_t r = cx->r;
  const double *z = cx->b->z;
  ptrdiff_t zrs = cx->b->zrs;
  for (size_t g = 0; g < ng; g++) {
    double *sg = ws->s + g * r;
    memset(sg, 0, r * sizeof *sg);
    for (size_t pos = ws->gs[g]; pos < ws->gs[g + 1]; pos++) {
      size_t j = ws->list[pos];
      double tj = ws->t[j];
      const double *zj = z + (ptrdiff_t)j * zrs;
      for (size_t c = 0; c < r; c++)
        sg[c] += tj * zj[c];
    }
  }
}

/* One level: groups g < ng of list (sums projected in ws->y), reduced and
 * applied to t; the list keeps the active members of surviving groups.
 * Returns the level's defect; *nl is updated. */
static double level(const ctx_t *cx, worker_t *ws, size_t ng, size_t *nl) {
  size_t k = cx->k;
  double q = cx->q, amax = -INFINITY;
  for (size_t g = 0; g < ng; g++) {
    double pg = 0.0;
    for (size_t pos = ws->gs[g]; pos < ws->gs[g + 1]; pos++)
      pg += ws->p[ws->list[pos]];
    double *yg = ws->y + g * k;
    double cn = norm2(yg, k);
    if (pg > 0.0 && cn > 0.0 && isfinite(cn)) {
      /* Unit to a few ulps (the eliminator's tests are relative to 1, far
       * above that); one division per group where 1 / cn is safe (neither
       * overflows, which would trap, nor loses bits to underflow). */
      if (cn >= 0x1p-1000 && cn <= 0x1p1000) {
        double inv = 1.0 / cn;
        for (size_t l = 0; l < k; l++)
          yg[l] *= inv;
      } else {
        for (size_t l = 0; l < k; l++)
          yg[l] /= cn;
      }
      ws->c[g] = cn;
      ws->a[g] = log(pg) - q * log(cn);
      if (ws->a[g] > amax)
        amax = ws->a[g];
    } else {
      /* No mass, or a sum that vanishes in k-space: the group leaves
       * without changing the k-space sum. */
      ws->c[g] = 0.0;
      ws->a[g] = 0.0;
    }
  }
  /* The eliminator is homogeneous in c (ratios c_b / x_b, sums c + eps d;
   * phi gains a common factor, and the weights are normalized anyway), so
   * a common power of 2 changes none of its decisions.  Coefficients of
   * unsafe size (t / 2^e2 is in (-1, 1) and Z's scale is safe, but the
   * group sums of many rows, or of rows much shorter than the longest, can
   * still leave the safe range) are brought to a largest one in [1/2, 1),
   * where its ratio tests and sums of c cannot overflow; the defect comes
   * back in our units. */
  double cmax = 0.0;
  for (size_t g = 0; g < ng; g++)
    cmax = ws->c[g] > cmax ? ws->c[g] : cmax;
  int ec = 0;
  if (cmax > 0.0) {
    frexp(cmax, &ec);
    if (ec <= NSLMI_CARATH_SAFE_EXP && ec >= -NSLMI_CARATH_SAFE_EXP)
      ec = 0;
  }
  for (size_t g = 0; g < ng; g++) {
    if (ec != 0)
      ws->c[g] = ldexp(ws->c[g], -ec);
    ws->c0[g] = ws->c[g];
    ws->a[g] = ws->c[g] > 0.0 ? exp(ws->a[g] - amax) : 0.0;
  }
  double defect = nslmi_carath_elim_run(&ws->el, ng, ws->y, k, ws->c, ws->a);
  if (ec != 0)
    defect = ldexp(defect, ec);
  size_t o = 0;
  for (size_t g = 0; g < ng; g++) {
    double ratio = ws->c0[g] > 0.0 ? ws->c[g] / ws->c0[g] : 0.0;
    double rq = ratio > 0.0 ? powq(ratio, q) : 0.0;
    for (size_t pos = ws->gs[g]; pos < ws->gs[g + 1]; pos++) {
      size_t j = ws->list[pos];
      if (ratio > 0.0) {
        ws->t[j] *= ratio;
        ws->p[j] *= rq;
      } else {
        ws->t[j] = 0.0;
        ws->p[j] = 0.0;
      }
      if (ws->t[j] != 0.0)
        ws->list[o++] = j;
    }
  }
  *nl = o;
  return defect;
}

static void split(worker_t *ws, size_t nl, size_t ng) {
  for (size_t g = 0; g <= ng; g++)
    ws->gs[g] = nl * g / ng;
}

static void project(const ctx_t *cx, worker_t *ws, size_t ng) {
  if (cx->b->identity)
    return; /* y aliases s: the k-space is R^r */
  nslmi_gemm(0, 1, ng, cx->k, cx->r, 1.0, ws->s, (ptrdiff_t)cx->r, 1, cx->b->vt, (ptrdiff_t)cx->r,
             1, 0.0, ws->y, (ptrdiff_t)cx->k, 1, 1);
}

/* Reduces row i; the sparse result goes to slot i. */
static int reduce_row(ctx_t *cx, worker_t *ws, size_t i) {
  const nslmi_carath_basis *b = cx->b;
  size_t h = cx->h, r = cx->r, k = cx->k, m = cx->m;
  double q = cx->q;
  const double *wi = cx->w + (ptrdiff_t)i * cx->wrs;
  size_t *oidx = cx->idx + i * cx->kcap;
  double *oval = cx->val + i * cx->kcap;
  double tmax = 0.0, den = 0.0, t2 = 0.0;
  size_t na = 0;
  for (size_t j = 0; j < h; j++) {
    double tj = wi[(ptrdiff_t)j * cx->wcs];
    ws->t[j] = tj;
    double at = fabs(tj);
    tmax = at > tmax ? at : tmax;
    if (tj != 0.0)
      ws->list[na++] = j;
  }
  if (tmax == 0.0) {
    cx->cnt[i] = 0;
    cx->nb4[i] = cx->res[i] = cx->bnd[i] = cx->naf[i] = 0.0;
    return 0;
  }
  /* t / 2^e2 has entries in (-1, 1), exactly: p_j = |t_j / 2^e2|^q, and
   * ||t||_2, ||t||_q (= 2^e2 (sum p_j)^(1/q)) and the denominator of the
   * relative residual, sum |t_j| ||z_j||, without overflow (kept in units
   * of 2^e2, as are t2, the defect and the bound). */
  int e2 = 0;
  frexp(tmax, &e2);
  /* 2^-e2 itself overflows when tmax is subnormal: then scale by ldexp. */
  const int tiny = e2 < -1000;
  const double sc = tiny ? 0.0 : ldexp(1.0, -e2);
  {
    double sp = 0.0;
    for (size_t pos = 0; pos < na; pos++) {
      size_t j = ws->list[pos];
      double v = tiny ? ldexp(ws->t[j], -e2) : ws->t[j] * sc;
      t2 += v * v;
      den += fabs(v) * b->znorm[j];
      ws->p[j] = powq(fabs(v), q);
      sp += ws->p[j];
    }
    t2 = sqrt(t2);
    cx->nb4[i] = ldexp(q == 1.0 ? sp : pow(sp, 1.0 / q), e2);
  }
  /* The reduction runs on t / 2^es: es = e2 in TIGHT mode, and in PAPER
   * mode when t's scale is unsafe (else es = 0, t as given).  The target v
   * and the residual are in units of 2^es. */
  const int es =
      !cx->paper || e2 > NSLMI_CARATH_SAFE_EXP || e2 < -NSLMI_CARATH_SAFE_EXP ? e2 : 0;
  if (es != 0)
    for (size_t pos = 0; pos < na; pos++) {
      size_t j = ws->list[pos]; /* exact: a power of 2 */
      ws->t[j] = tiny ? ldexp(ws->t[j], -e2) : ws->t[j] * sc;
    }
  /* v = sum_j t_j z_j (the target): from the batched first level when it
   * exists, else directly. */
  const size_t ci = i - cx->row0;
  memset(ws->v, 0, r * sizeof *ws->v);
  /* Unbatched TIGHT mode with k > 0 takes v from the first level's group
   * sums (which cover every active index): one pass over Z less. */
  int v_from_groups = !cx->batched && !cx->paper && k > 0;
  if (v_from_groups) {
    /* below */
  } else if (cx->batched && !cx->paper) {
    const double *s1 = cx->s1 + ci * m * r;
    for (size_t g = 0; g < m; g++)
      for (size_t c = 0; c < r; c++)
        ws->v[c] += tiny ? ldexp(s1[g * r + c], -e2) : s1[g * r + c] * sc;
  } else {
    for (size_t pos = 0; pos < na; pos++) {
      size_t j = ws->list[pos];
      const double *zj = b->z + (ptrdiff_t)j * b->zrs;
      for (size_t c = 0; c < r; c++)
        ws->v[c] += ws->t[j] * zj[c];
    }
  }

  size_t nl = na;
  double defect = 0.0;
  if (cx->paper) {
    if (na > r + 1) {
      nl = nslmi_carath_paper_run(&ws->pp, b, q, ws->t, ws->list, na);
      if (nl == (size_t)-1)
        return NSLM_ERR_NUMERIC;
    }
  } else if (k == 0) {
    nl = 0;
  } else {
    int first = cx->batched;
    if (first) {
      /* The first level: every index in m contiguous ranges, sums given. */
      for (size_t j = 0; j < h; j++) {
        ws->list[j] = j;
        if (ws->t[j] == 0.0)
          ws->p[j] = 0.0;
      }
      nl = h;
      split(ws, h, m);
      const double *y1 = cx->y1 + ci * m * k;
      for (size_t l = 0; l < m * k; l++)
        ws->y[l] = tiny ? ldexp(y1[l], -e2) : y1[l] * sc;
    }
    for (;;) {
      if (nl == 0)
        break;
      size_t ng = first ? m : (nl > m ? m : nl);
      if (!first) {
        split(ws, nl, ng);
        group_sums(cx, ws, ng);
        if (v_from_groups) {
          for (size_t g = 0; g < ng; g++)
            for (size_t c = 0; c < r; c++)
              ws->v[c] += ws->s[g * r + c];
          v_from_groups = 0;
        }
        project(cx, ws, ng);
      }
      int last = ng == nl;
      defect += level(cx, ws, ng, &nl);
      first = 0;
      if (last)
        break;
    }
  }

  /* Sparse result (back in the caller's units), residual (units of 2^es),
   * bound (units of 2^e2), norms.  ws->v is free once copied: in TIGHT
   * mode (cnt <= k <= r) it keeps the scaled t' for ||t'||_2. */
  size_t cnt = 0;
  memcpy(ws->res, ws->v, r * sizeof *ws->res);
  for (size_t pos = 0; pos < nl; pos++) {
    size_t j = ws->list[pos];
    double tj = ws->t[j];
    if (tj == 0.0)
      continue;
    oidx[cnt] = j;
    oval[cnt] = es != 0 ? ldexp(tj, es) : tj;
    if (!cx->paper)
      ws->v[cnt] = tj;
    cnt++;
    const double *zj = b->z + (ptrdiff_t)j * b->zrs;
    for (size_t c = 0; c < r; c++)
      ws->res[c] -= tj * zj[c];
  }
  cx->cnt[i] = cnt;
  cx->naf[i] = nslmi_vec_qnorm(cnt, oval, 1, q);
  double resid = norm2(ws->res, r);
  if (es != e2)
    resid = ldexp(resid, es - e2);
  double bound = defect;
  if (!cx->paper && k < b->nsv)
    bound += b->sv[k] * (t2 + norm2(ws->v, cnt));
  cx->res[i] = den > 0.0 ? resid / den : 0.0;
  cx->bnd[i] = den > 0.0 ? bound / den : 0.0;
  return 0;
}

/* Progress, from the calling thread only (worker 0), once per new count of
 * rows done; returns 1 if the callback asked to stop. */
static int report(ctx_t *cx, size_t done) {
  if (cx->progress == NULL || done <= cx->reported)
    return 0;
  cx->reported = done;
  if (cx->progress((double)done / (double)cx->u, cx->user_data) != 0) {
    cx->cancelled = 1;
    atomic_store(&cx->stop, 1);
    return 1;
  }
  return 0;
}

static int rows_task(void *arg, size_t wid) {
  ctx_t *cx = arg;
  worker_t *ws = &cx->ws[wid];
  for (;;) {
    if (atomic_load(&cx->stop))
      return 0;
    size_t i = atomic_fetch_add(&cx->next, 1);
    if (i >= cx->row1)
      return 0;
    int st = reduce_row(cx, ws, i);
    if (st != 0) {
      int zero = 0;
      atomic_compare_exchange_strong(&cx->err, &zero, st);
      atomic_store(&cx->stop, 1);
      return st;
    }
    size_t done = atomic_fetch_add(&cx->done, 1) + 1;
    if (wid == 0 && report(cx, done))
      return 0;
  }
}

static void workers_free(worker_t *ws, size_t n) {
  if (ws == NULL)
    return;
  for (size_t i = 0; i < n; i++) {
    nslmi_free(ws[i].t);
    nslmi_free(ws[i].p);
    nslmi_free(ws[i].list);
    nslmi_free(ws[i].gs);
    nslmi_free(ws[i].s);
    if (ws[i].y != ws[i].s)
      nslmi_free(ws[i].y);
    nslmi_free(ws[i].c);
    nslmi_free(ws[i].v);
    if (ws[i].has_el)
      nslmi_carath_elim_free(&ws[i].el);
    if (ws[i].has_pp)
      nslmi_carath_paper_free(&ws[i].pp);
  }
  nslmi_free(ws);
}

static int workers_alloc(worker_t **out, size_t n, const ctx_t *cx, double eta) {
  worker_t *ws = nslmi_calloc(n, sizeof *ws);
  if (ws == NULL)
    return -1;
  *out = ws;
  size_t h = cx->h, r = cx->r, k = cx->k, m = cx->m;
  size_t mg = m < h ? m : h; /* groups per level never exceed this */
  for (size_t i = 0; i < n; i++) {
    worker_t *w = &ws[i];
    w->t = nslmi_malloc_array(h, sizeof(double));
    w->p = nslmi_malloc_array(h, sizeof(double));
    w->list = nslmi_malloc_array(h, sizeof(size_t));
    w->v = nslmi_malloc_array(2 * r, sizeof(double));
    if (w->t == NULL || w->p == NULL || w->list == NULL || w->v == NULL)
      return -1;
    w->res = w->v + r;
    if (cx->paper) {
      if (h > r + 1) {
        if (nslmi_carath_paper_init(&w->pp, r) != 0)
          return -1;
        w->has_pp = 1;
      }
      continue;
    }
    if (k == 0)
      continue;
    size_t mm = cx->batched ? m : mg;
    w->gs = nslmi_malloc_array(mm + 1, sizeof(size_t));
    w->s = nslmi_malloc_array(mm * r, sizeof(double));
    w->y = cx->b->identity ? w->s : nslmi_malloc_array(mm * k, sizeof(double));
    w->c = nslmi_malloc_array(3 * mm, sizeof(double));
    if (w->gs == NULL || w->s == NULL || w->y == NULL || w->c == NULL)
      return -1;
    w->c0 = w->c + mm;
    w->a = w->c0 + mm;
    if (nslmi_carath_elim_init(&w->el, k, cx->q, eta, mm) != 0)
      return -1;
    w->has_el = 1;
  }
  return 0;
}

static int check_args(const char *fn, size_t h, size_t r, const double *z, ptrdiff_t zrs,
                      ptrdiff_t zcs, size_t u, const double *w, ptrdiff_t wrs, ptrdiff_t wcs,
                      double q, const nslmi_carath_opts *opt, double *wout, ptrdiff_t ors,
                      ptrdiff_t ocs) {
  if (z == NULL)
    return nslmi_fail(NSLM_ERR_INVALID, fn, "z is NULL");
  if (w == NULL)
    return nslmi_fail(NSLM_ERR_INVALID, fn, "the coefficients are NULL");
  if (wout == NULL)
    return nslmi_fail(NSLM_ERR_INVALID, fn, "the output is NULL");
  if (h == 0 || r == 0 || u == 0)
    return nslmi_fail(NSLM_ERR_DIMENSION, fn, "empty problem (h = %zu, r = %zu, rows = %zu)", h, r,
                      u);
  int ok = 1;
  nslmi_mul_size(h, r, &ok);
  if (ok)
    nslmi_mul_size(h, sizeof(double) * 4, &ok);
  size_t mn = h < r ? h : r;
  if (!ok || mn > NSLMI_CARATH_MAX_DIM || r > (size_t)(INT_MAX / 16))
    return nslmi_fail(NSLM_ERR_DIMENSION, fn,
                      "Z is %zu x %zu: min(h, r) must be <= %d and r <= %d (LAPACK's 32-bit sizes)",
                      h, r, NSLMI_CARATH_MAX_DIM, INT_MAX / 16);
  if ((u > 1 && ors == 0) || (h > 1 && ocs == 0))
    return nslmi_fail(NSLM_ERR_DIMENSION, fn, "output strides (%td, %td) make entries overlap", ors,
                      ocs);
  if (!(q > 0.0 && q <= 1.0))
    return nslmi_fail(NSLM_ERR_DOMAIN, fn, "q = %g outside (0, 1]", q);
  if (opt != NULL) {
    if (!(opt->rank_tol >= 0.0 && opt->rank_tol < 1.0))
      return nslmi_fail(NSLM_ERR_DOMAIN, fn, "rank tolerance %g outside [0, 1)", opt->rank_tol);
    if (opt->paper_mode != 0 && opt->paper_mode != 1)
      return nslmi_fail(NSLM_ERR_INVALID, fn, "paper_mode %d is neither 0 nor 1", opt->paper_mode);
  }
  /* NaN/Inf in Z: found by the row norms of the factorization's first pass. */
  if (!nslmi_all_finite(u, h, w, wrs, wcs))
    return nslmi_fail(NSLM_ERR_NONFINITE, fn, "the coefficients have a NaN or Inf entry");
  return NSLM_OK;
}

/* Failures are recorded under the name of the public (or internal) entry
 * point fn. */
static int rows_core(const char *fn, size_t h, size_t r, const double *z, ptrdiff_t zrs,
                     ptrdiff_t zcs, size_t u, const double *w, ptrdiff_t wrs, ptrdiff_t wcs,
                     double q, const nslmi_carath_opts *opt, double *wout, ptrdiff_t ors,
                     ptrdiff_t ocs, size_t *nnz, unsigned char *used, double *residual,
                     double *bound, double *norm_before, double *norm_after, size_t *rank) {
  int st = check_args(fn, h, r, z, zrs, zcs, u, w, wrs, wcs, q, opt, wout, ors, ocs);
  if (st != NSLM_OK)
    return st;
  nslmi_carath_opts o = {NSLM_CARATHEODORY_RANK_TOL_DEFAULT, 0, 0, NULL, NULL};
  if (opt != NULL)
    o = *opt;
  size_t nthr = o.nthreads ? o.nthreads : nslmi_default_threads();

  nslmi_carath_basis b;
  /* Rows of Z go to BLIS and to the inner loops as contiguous rows with a
   * positive stride; anything else is copied once. */
  int zplain = zcs == 1 && zrs >= (ptrdiff_t)r;
  st = nslmi_carath_basis_init(fn, &b, h, r, z, zrs, zcs, !zplain, o.rank_tol, nthr);
  if (st != NSLM_OK)
    return st;

  ctx_t cx;
  memset(&cx, 0, sizeof cx);
  cx.b = &b;
  cx.h = h;
  cx.r = r;
  cx.u = u;
  cx.k = b.k;
  cx.q = q;
  cx.paper = o.paper_mode;
  cx.w = w;
  cx.wrs = wrs;
  cx.wcs = wcs;
  cx.progress = o.progress;
  cx.user_data = o.user_data;
  cx.m = NSLMI_CARATH_GROUP_FACTOR * cx.k;
  if (cx.m < NSLMI_CARATH_MIN_GROUPS)
    cx.m = NSLMI_CARATH_MIN_GROUPS;
  cx.kcap = cx.paper ? (h < r + 1 ? h : r + 1) : (cx.k ? cx.k : 1);
  /* The first level goes through BLIS when W is stored plainly (rows or
   * columns contiguous, no overlap); otherwise each row is summed alone. */
  int wplain =
      (wcs == 1 && (u == 1 || wrs >= (ptrdiff_t)h)) || (u > 1 && wrs == 1 && wcs >= (ptrdiff_t)u);
  /* One BLIS call per group pays only for several rows at once. */
  cx.batched = !cx.paper && cx.k > 0 && h > cx.m && wplain && u >= NSLMI_CARATH_MIN_BATCH;
  size_t nw = nthr < u ? nthr : u;
  size_t chunk = 0;
  double *s1 = NULL, *y1 = NULL;
  worker_t *ws = NULL;
  /* The rank was decided once, on the whole Z: in k-space only rounding
   * makes points dependent (a local threshold at rank_tol would discard
   * directions the global decision kept). */
  double eta = NSLMI_CARATH_ETA_FLOOR(cx.k);
  atomic_init(&cx.next, 0);
  atomic_init(&cx.done, 0);
  atomic_init(&cx.stop, 0);
  atomic_init(&cx.err, 0);

  cx.idx = nslmi_malloc_array(u * cx.kcap, sizeof(size_t));
  cx.val = nslmi_malloc_array(u * cx.kcap, sizeof(double));
  cx.cnt = nslmi_malloc_array(u, sizeof(size_t));
  cx.res = nslmi_malloc_array(4 * u, sizeof(double));
  if (cx.idx == NULL || cx.val == NULL || cx.cnt == NULL || cx.res == NULL) {
    st = nslmi_fail(NSLM_ERR_NOMEM, fn, "results of %zu rows", u);
    goto out;
  }
  cx.bnd = cx.res + u;
  cx.nb4 = cx.bnd + u;
  cx.naf = cx.nb4 + u;
  if (workers_alloc(&ws, nw, &cx, eta) != 0) {
    st = nslmi_fail(NSLM_ERR_NOMEM, fn, "workspace of %zu threads", nw);
    goto out;
  }
  cx.ws = ws;
  if (cx.batched) {
    /* Rows per chunk: the chunk's group sums and projections within 32 MB. */
    size_t per = cx.m * (r + (b.identity ? 0 : cx.k));
    chunk = ((size_t)4 << 20) / per;
    if (chunk < 1)
      chunk = 1;
    if (chunk > u)
      chunk = u;
    s1 = nslmi_malloc_array(chunk * per, sizeof(double));
    if (s1 == NULL) {
      st = nslmi_fail(NSLM_ERR_NOMEM, fn, "group sums of %zu rows", chunk);
      goto out;
    }
    y1 = b.identity ? s1 : s1 + chunk * cx.m * r;
  } else {
    chunk = u;
  }

  for (size_t row0 = 0; row0 < u && !atomic_load(&cx.stop); row0 += chunk) {
    size_t row1 = row0 + chunk < u ? row0 + chunk : u, nc = row1 - row0;
    if (cx.batched) {
      /* First level of every row of the chunk: m contiguous ranges of the
       * h indices, sums S1[row][g] = W[row, G] Z[G, :], then their k-space
       * coordinates S1 V_k. */
      for (size_t g = 0; g < cx.m; g++) {
        size_t a = h * g / cx.m, e = h * (g + 1) / cx.m;
        nslmi_gemm(0, 0, nc, r, e - a, 1.0, w + (ptrdiff_t)row0 * wrs + (ptrdiff_t)a * wcs,
                   nc == 1 && wcs == 1 ? (ptrdiff_t)h : wrs, wcs, b.z + (ptrdiff_t)a * b.zrs, b.zrs,
                   1, 0.0, s1 + g * r, (ptrdiff_t)(cx.m * r), 1, nthr);
      }
      if (!b.identity)
        nslmi_gemm(0, 1, nc * cx.m, cx.k, r, 1.0, s1, (ptrdiff_t)r, 1, b.vt, (ptrdiff_t)r, 1, 0.0,
                   y1, (ptrdiff_t)cx.k, 1, nthr);
    }
    cx.row0 = row0;
    cx.row1 = row1;
    cx.s1 = s1;
    cx.y1 = y1;
    atomic_store(&cx.next, row0);
    nslmi_carath_parallel(nw < nc ? nw : nc, rows_task, &cx);
    /* The other threads may have taken every row of the chunk. */
    if (!atomic_load(&cx.err))
      report(&cx, atomic_load(&cx.done));
  }
  if (atomic_load(&cx.err) != 0) {
    st = nslmi_fail(atomic_load(&cx.err), fn, "LAPACK failed in the PAPER elimination");
    goto out;
  }
  if (cx.cancelled) {
    st =
        nslmi_fail(NSLM_ERR_CANCELLED, fn, "stopped by the progress callback after %zu of %zu rows",
                   (size_t)atomic_load(&cx.done), u);
    goto out;
  }

  /* Success: write every output. */
  if (used)
    memset(used, 0, h);
  for (size_t i = 0; i < u; i++) {
    double *oi = wout + (ptrdiff_t)i * ors;
    for (size_t j = 0; j < h; j++)
      oi[(ptrdiff_t)j * ocs] = 0.0;
    for (size_t l = 0; l < cx.cnt[i]; l++) {
      size_t j = cx.idx[i * cx.kcap + l];
      oi[(ptrdiff_t)j * ocs] = cx.val[i * cx.kcap + l];
      if (used)
        used[j] = 1;
    }
    if (nnz)
      nnz[i] = cx.cnt[i];
    if (residual)
      residual[i] = cx.res[i];
    if (bound)
      bound[i] = cx.bnd[i];
    if (norm_before)
      norm_before[i] = cx.nb4[i];
    if (norm_after)
      norm_after[i] = cx.naf[i];
  }
  if (rank)
    *rank = b.k;

out:
  workers_free(ws, nw);
  nslmi_free(s1);
  nslmi_free(cx.idx);
  nslmi_free(cx.val);
  nslmi_free(cx.cnt);
  nslmi_free(cx.res);
  nslmi_carath_basis_free(&b);
  return st;
}

int nslmi_carath_rows_ex(size_t h, size_t r, const double *z, ptrdiff_t zrs, ptrdiff_t zcs,
                         size_t u, const double *w, ptrdiff_t wrs, ptrdiff_t wcs, double q,
                         const nslmi_carath_opts *opt, double *wout, ptrdiff_t ors, ptrdiff_t ocs,
                         size_t *nnz, unsigned char *used, double *residual, double *bound,
                         double *norm_before, double *norm_after, size_t *rank) {
  return rows_core(__func__, h, r, z, zrs, zcs, u, w, wrs, wcs, q, opt, wout, ors, ocs, nnz, used,
                   residual, bound, norm_before, norm_after, rank);
}

int nslmi_carath_rows(size_t h, size_t r, const double *z, ptrdiff_t zrs, ptrdiff_t zcs, size_t u,
                      const double *w, ptrdiff_t wrs, ptrdiff_t wcs, double q,
                      const nslmi_carath_opts *opt, double *wout, ptrdiff_t ors, ptrdiff_t ocs,
                      unsigned char *used, double *residual, double *norm_before,
                      double *norm_after, size_t *rank, double *trunc_bound) {
  double *bnd = NULL;
  if (trunc_bound != NULL && u > 0) {
    bnd = nslmi_malloc_array(u, sizeof *bnd);
    if (bnd == NULL)
      return NSLMI_FAIL(NSLM_ERR_NOMEM, "bounds of %zu rows", u);
  }
  int st = rows_core(__func__, h, r, z, zrs, zcs, u, w, wrs, wcs, q, opt, wout, ors, ocs, NULL,
                     used, residual, bnd, norm_before, norm_after, rank);
  if (st == NSLM_OK && trunc_bound != NULL) {
    double mx = 0.0;
    for (size_t i = 0; i < u; i++)
      mx = fmax(mx, bnd[i]);
    *trunc_bound = mx;
  }
  nslmi_free(bnd);
  return st;
}

/* ---------------------------------------------------------- public calls */

static void to_internal(const nslm_caratheodory_opts *opts, nslmi_carath_opts *o) {
  o->rank_tol = opts ? opts->rank_tol : NSLM_CARATHEODORY_RANK_TOL_DEFAULT;
  o->paper_mode = opts ? opts->mode == NSLM_CARATHEODORY_PAPER : 0;
  o->nthreads = opts ? (size_t)opts->nthreads : 0;
  o->progress = opts ? opts->progress : NULL;
  o->user_data = opts ? opts->user_data : NULL;
}

int nslm_caratheodory_reduce(size_t h, size_t r, const double *z, ptrdiff_t zrs, ptrdiff_t zcs,
                             const double *t, ptrdiff_t tinc, double q,
                             const nslm_caratheodory_opts *opts, double *tout, ptrdiff_t toutinc,
                             size_t *nnz, double *residual, double *bound, double *norm_before,
                             double *norm_after, size_t *rank) {
  NSLMI_CHECK_NULL(t);
  NSLMI_CHECK_NULL(tout);
  nslmi_carath_opts o;
  to_internal(opts, &o);
  /* One row; its row stride is never used (h keeps the BLIS check happy). */
  return rows_core(__func__, h, r, z, zrs, zcs, 1, t, (ptrdiff_t)h, tinc, q, &o, tout, (ptrdiff_t)h,
                   toutinc, nnz, NULL, residual, bound, norm_before, norm_after, rank);
}

int nslm_caratheodory_reduce_rows(size_t h, size_t r, const double *z, ptrdiff_t zrs, ptrdiff_t zcs,
                                  size_t u, const double *w, ptrdiff_t wrs, ptrdiff_t wcs, double q,
                                  const nslm_caratheodory_opts *opts, double *wout, ptrdiff_t wors,
                                  ptrdiff_t wocs, size_t *nnz, unsigned char *used,
                                  double *residual, double *bound, double *norm_before,
                                  double *norm_after, size_t *rank) {
  nslmi_carath_opts o;
  to_internal(opts, &o);
  return rows_core(__func__, h, r, z, zrs, zcs, u, w, wrs, wcs, q, &o, wout, wors, wocs, nnz, used,
                   residual, bound, norm_before, norm_after, rank);
}
