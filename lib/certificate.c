/* certificate.c - ALGEBRAIC and SAMPLED certificates of a path's claims.
 *
 * ALGEBRAIC (the rules of nslm_path_certify(3)).  For a segment a -> b,
 * every unit u of every layer gets a threshold th(u): the smallest relative
 * tolerance at which the knots' identities show that u's pre-activation is
 * the same for every t.  Inputs have th = 0.  For unit r of layer j+1
 * (row r of Theta^j):
 *   in(r)  = max th(c) over the units c of layer j that row r reads (a
 *            nonzero weight at a or at b);
 *   res(r) = 0 if row r does not change, else the relative residual of the
 *            identity Theta_b^j[r,:] A_j = Theta_a^j[r,:] A_j on the data:
 *            max_i |Z_b[r,i] - Z_a[r,i]| / (|theta_a,r| |a_i(a)| + |theta_b,r| |a_i(b)|)
 *            (2-norms: the Cauchy-Schwarz bound of the terms' magnitude,
 *            so the residual of an exact identity is rounding, ~k eps);
 *   th(r)  = max(in(r), res(r)).
 * If th(r) <= tol, z_r(t) = (1-t) z_r(a) + t z_r(b) with equal ends (up to
 * tol): the pre-activation is constant, so the unit's feature is too.
 * Hence: the outputs are constant along the segment (CONSTANT proved) if
 * every output unit has th <= tol; the outputs are affine in t (CONVEX
 * proved: the risk is a convex loss of affine outputs) if every output row
 * reads only units with th <= tol (in(r) <= tol).  A unit that changes but
 * feeds only zero columns never matters (it is not read), which covers the
 * "invisible unit" steps of the construction (relocation, the bridge's
 * blocks); a changed row that reproduces its pre-activations covers the
 * compression steps.  The measure of a segment is the smallest tolerance
 * that proves its claim.
 *
 * A nonincreasing claim is proved segment by segment, up to tol times a
 * risk scale: CONSTANT segments do not change the risk; on a proved CONVEX
 * segment phi(u) = L((1-u) o_a + u o_b) is convex, so its rise above its
 * minimum on [0, 1] is phi(1) - phi(u*) <= phi'(1-) (1 - u*) <=
 * max(0, s) with s = sum_i g_i . (o_b - o_a), g a subgradient of the loss
 * at o_b (g . (o_b - o_a) is a subgradient of phi at 1, an upper bound of
 * the left slope); and the segment's risk starts at the running minimum
 * of the earlier (proved) segments.  So the path rises by at most the sum
 * of the positive s, and each segment's slope measure is s / scale, with
 * the SAMPLED certificate's path-wide scale: the largest sum_i |l_i| over
 * the knots, or the risk of the zero output if that is larger.  A scale
 * that vanished at a minimizer (|g| |o_b - o_a|, or the risk at o_b) would
 * turn the rounding noise of g there (random sign) into an O(1) slope;
 * this one does not, and the rounding of s itself is ~ m n eps
 * sum_i |g_i . (o_b - o_a)|, which is a few m n eps of the scale (squared
 * loss: sum |g . d| <= 2 |o_b - y| |d| <= 4 max(L_a, L_b)).  A CONVEX
 * segment passes if s / scale <= tol; the path if the sum of those
 * (NSLM_CERT_MAX_INCREASE, a proved bound of the path's rise over the
 * scale) is <= tol too.  GENERAL segments cannot be proved (+inf).
 *
 * SAMPLED: the risk at k uniform points per segment; every measure is
 * relative to one scale for the whole path: the largest sum_i |l_i| over
 * the sampled points, or the risk of the zero output if that is larger
 * (near a global minimum the risk is all rounding, and a scale of its own
 * would turn rounding into O(1) "deviations"). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "constraint.h"
#include "data.h"
#include "loss.h"
#include "matrix.h"
#include "net.h"
#include "params.h"
#include "path.h"
#include "path_eval.h"
#include "status.h"
#include "support.h"

#define NFIG 10
#define NTOL 5
#define DEFAULT_K 17

struct nslm_certificate {
  int kind;
  size_t nseg;
  int *claim;       /* kind of each segment */
  double *measure;  /* per segment, see the header */
  double *slope;    /* ALGEBRAIC, nonincreasing claim: end slope over the path's risk scale
                       (INFINITY: unprovable) */
  double fig[NFIG]; /* NSLM_CERT_* */
  double tol[NTOL];
};

double nslm_certificate_default_tolerance(void) { return NSLM_CERT_DEFAULT_TOL; }

void nslm_certificate_destroy(nslm_certificate *cert) {
  if (cert == NULL) return;
  nslmi_free(cert->claim);
  nslmi_free(cert->measure);
  nslmi_free(cert->slope);
  nslmi_free(cert);
}

static int cert_new(nslm_certificate **out, int kind, const nslm_path *path) {
  *out = NULL;
  nslm_certificate *c = nslmi_calloc(1, sizeof *c);
  if (c == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "certificate");
  size_t S = path->nknots - 1;
  c->kind = kind;
  c->nseg = S;
  c->claim = nslmi_calloc(S + 1, sizeof *c->claim);
  c->measure = nslmi_calloc(S + 1, sizeof *c->measure);
  c->slope = nslmi_calloc(S + 1, sizeof *c->slope);
  if (!c->claim || !c->measure || !c->slope) {
    nslm_certificate_destroy(c);
    return NSLMI_FAIL(NSLM_ERR_NOMEM, "certificate of %zu segments", S);
  }
  for (size_t s = 0; s < S; s++) c->claim[s] = path->kind[s];
  for (int i = 0; i < NTOL; i++) c->tol[i] = NSLM_CERT_DEFAULT_TOL;
  c->fig[NSLM_CERT_CLAIMS_NONINCREASING] = path->nonincreasing ? 1.0 : 0.0;
  c->fig[NSLM_CERT_R_EXACT] = 1.0;
  *out = c;
  return NSLM_OK;
}

static int claims_noninc(const nslm_certificate *c) {
  return c->fig[NSLM_CERT_CLAIMS_NONINCREASING] != 0.0;
}

static int segment_passes(const nslm_certificate *c, size_t s) {
  int k = c->claim[s];
  double m = c->measure[s];
  if (c->kind == NSLM_CERT_ALGEBRAIC) {
    if (k == NSLM_SEG_GENERAL) return !claims_noninc(c);
    if (!(m <= c->tol[NSLM_TOL_IDENTITY])) return 0;
    if (k == NSLM_SEG_CONVEX && claims_noninc(c) && !(c->slope[s] <= c->tol[NSLM_TOL_INCREASE]))
      return 0;
    return 1;
  }
  if (k == NSLM_SEG_CONSTANT) return m <= c->tol[NSLM_TOL_CONSTANT];
  if (k == NSLM_SEG_CONVEX) return m <= c->tol[NSLM_TOL_CONVEX];
  return 1;
}

static size_t failed_segments(const nslm_certificate *c) {
  size_t f = 0;
  for (size_t s = 0; s < c->nseg; s++) f += !segment_passes(c, s);
  return f;
}

static int cert_passes(const nslm_certificate *c) {
  if (failed_segments(c) > 0) return 0;
  if (claims_noninc(c) && !(c->fig[NSLM_CERT_MAX_INCREASE] <= c->tol[NSLM_TOL_INCREASE]))
    return 0;
  if (!(c->fig[NSLM_CERT_MAX_R] <= 1.0 + c->tol[NSLM_TOL_FEASIBLE])) return 0;
  return 1;
}

/* ------------------------------------------------------------ r along the path */

/* Max r over the path: exact at the knots; inside a segment exact by
 * convexity unless Theta^0 changes under a q < 1 quasi-norm (b_r > 0),
 * where k points are sampled.  Sets the R figures. */
static int r_figures(nslm_certificate *c, const nslm_path *path, const nslm_constraint *con,
                     size_t k) {
  if (con == NULL) {
    c->fig[NSLM_CERT_MAX_R] = 0.0;
    return NSLM_OK;
  }
  double mx = 0.0;
  nslm_params view;
  for (size_t i = 0; i < path->nknots; i++) {
    nslmi_path_knot_view(path, i, &view);
    double v = nslmi_constraint_value(con, &view);
    if (!(v <= mx)) mx = v;
  }
  int sampled = 0;
  nslm_params *scratch = NULL;
  if (con->b_r > 0.0 && con->q < 1.0)
    for (size_t s = 0; s + 1 < path->nknots; s++) {
      if (!nslmi_path_changed(path, s, 0)) continue;
      if (scratch == NULL) {
        int st = nslmi_params_create_widths(&scratch, path->depth, path->widths);
        if (st) return st;
      }
      sampled = 1;
      for (size_t i = 1; i + 1 < k; i++) {
        double v = nslmi_path_r_at(path, con, s, (double)i / (double)(k - 1), scratch);
        if (!(v <= mx)) mx = v;
      }
    }
  nslm_params_destroy(scratch);
  c->fig[NSLM_CERT_MAX_R] = mx;
  c->fig[NSLM_CERT_R_EXACT] = sampled ? 0.0 : 1.0;
  return NSLM_OK;
}

/* ------------------------------------------------------------ ALGEBRAIC */

/* The walk keeps, per layer, the pre-activations of two knots (slots) and
 * caches what is derived from them (features, column norms), so a layer
 * that a segment does not reach costs nothing and one it reaches is
 * activated and measured once.  Products and the row loops are restricted
 * to the nonzero rows and columns of the layer matrices (support.h): the
 * construction's knots are mostly zero blocks. */
typedef struct {
  size_t l, n;
  double **zb[2];        /* zb[x][j], j = 1..l+1: pre-activations, two slots per layer */
  double **fa[2];        /* fa[x][j], j = 1..l: act(zb[x][j]) when fav[x][j] */
  double **cn[2];        /* cn[x][j], j = 0..l: column norms of A_j when cnv[x][j] */
  unsigned char *fav[2], *cnv[2];
  int *idx;              /* slot of the current knot per layer */
  int *nidx;
  double **th;           /* th[j], j = 0..l+1 */
  nslmi_support *sup[2]; /* sup[x][j]: supports of the two last layer matrices seen, j = 0..l */
  size_t *ucol;          /* union of two column supports (max p) */
  size_t *tcol;          /* its part with th > 0 */
  size_t *drow;          /* rows to multiply (max p) */
  unsigned char *dmask;  /* rows that differ between the two ends (max p) */
  double *cs;            /* scratch (n) */
  double *losses;        /* n */
  double *grad;          /* m x n */
  nslmi_support_ws ws;
  double scale;          /* largest sum_i |l_i| over the knots so far */
  double flops;
} alg_work;

static void alg_free(alg_work *w) {
  for (int x = 0; x < 2; x++) {
    for (size_t j = 0; j <= w->l + 1; j++) {
      if (w->zb[x]) nslmi_free(w->zb[x][j]);
      if (w->fa[x]) nslmi_free(w->fa[x][j]);
      if (w->cn[x]) nslmi_free(w->cn[x][j]);
      if (w->sup[x]) nslmi_support_free(&w->sup[x][j]);
    }
    nslmi_free(w->zb[x]);
    nslmi_free(w->fa[x]);
    nslmi_free(w->cn[x]);
    nslmi_free(w->fav[x]);
    nslmi_free(w->cnv[x]);
    nslmi_free(w->sup[x]);
  }
  if (w->th)
    for (size_t j = 0; j <= w->l + 1; j++) nslmi_free(w->th[j]);
  nslmi_free(w->th);
  nslmi_free(w->idx);
  nslmi_free(w->nidx);
  nslmi_free(w->ucol);
  nslmi_free(w->tcol);
  nslmi_free(w->drow);
  nslmi_free(w->dmask);
  nslmi_free(w->cs);
  nslmi_free(w->losses);
  nslmi_free(w->grad);
  nslmi_support_ws_free(&w->ws);
}

static int alg_alloc(alg_work *w, const nslm_path *path, size_t n) {
  size_t l = path->depth, maxp = 0;
  const size_t *p = path->widths;
  memset(w, 0, sizeof *w);
  w->l = l;
  w->n = n;
  for (size_t j = 0; j <= l + 1; j++)
    if (p[j] > maxp) maxp = p[j];
  int ok;
  (void)nslmi_mul_size(maxp, n, &ok);
  if (!ok) return NSLMI_FAIL(NSLM_ERR_NOMEM, "features of %zu x %zu", maxp, n);
  for (int x = 0; x < 2; x++) {
    w->zb[x] = nslmi_calloc(l + 2, sizeof(double *));
    w->fa[x] = nslmi_calloc(l + 2, sizeof(double *));
    w->cn[x] = nslmi_calloc(l + 2, sizeof(double *));
    w->fav[x] = nslmi_calloc(l + 2, 1);
    w->cnv[x] = nslmi_calloc(l + 2, 1);
    w->sup[x] = nslmi_calloc(l + 2, sizeof(nslmi_support));
    if (!w->zb[x] || !w->fa[x] || !w->cn[x] || !w->fav[x] || !w->cnv[x] || !w->sup[x])
      return NSLMI_FAIL(NSLM_ERR_NOMEM, "certificate workspace");
  }
  w->th = nslmi_calloc(l + 2, sizeof(double *));
  w->idx = nslmi_calloc(l + 2, sizeof(int));
  w->nidx = nslmi_calloc(l + 2, sizeof(int));
  w->ucol = nslmi_malloc_array(maxp, sizeof(size_t));
  w->tcol = nslmi_malloc_array(maxp, sizeof(size_t));
  w->drow = nslmi_malloc_array(maxp, sizeof(size_t));
  w->dmask = nslmi_malloc(maxp);
  w->cs = nslmi_malloc_array(n, sizeof(double));
  w->losses = nslmi_malloc_array(n, sizeof(double));
  w->grad = nslmi_malloc_array(p[l + 1] * n, sizeof(double));
  if (!w->th || !w->idx || !w->nidx || !w->ucol || !w->tcol || !w->drow || !w->dmask || !w->cs ||
      !w->losses || !w->grad)
    return NSLMI_FAIL(NSLM_ERR_NOMEM, "certificate workspace");
  for (size_t j = 0; j <= l + 1; j++) {
    w->th[j] = nslmi_calloc(p[j], sizeof(double));
    if (w->th[j] == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "certificate workspace");
    for (int x = 0; x < 2; x++) {
      if (j <= l) {
        w->cn[x][j] = nslmi_malloc_array(n, sizeof(double));
        if (w->cn[x][j] == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "certificate workspace");
      }
      if (j == 0) continue;
      w->zb[x][j] = nslmi_malloc_array(p[j] * n, sizeof(double));
      if (w->zb[x][j] == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "features of layer %zu", j);
      if (j <= l) {
        w->fa[x][j] = nslmi_malloc_array(p[j] * n, sizeof(double));
        if (w->fa[x][j] == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "features of layer %zu", j);
      }
    }
  }
  return NSLM_OK;
}

/* A_j of slot x (j >= 1: act(Z_j), computed once per slot content; A_0 is
 * X).  *out: the features. */
static int features(const nslm_net *net, const nslm_data *data, alg_work *w, size_t j, int x,
                    const double **out) {
  if (j == 0) {
    *out = data->xt;
    return NSLM_OK;
  }
  if (!w->fav[x][j]) {
    size_t len = net->widths[j] * w->n;
    memcpy(w->fa[x][j], w->zb[x][j], len * sizeof(double));
    int st = nslmi_act_apply(&net->act[j], w->fa[x][j], len);
    if (st) return st;
    w->fav[x][j] = 1;
  }
  *out = w->fa[x][j];
  return NSLM_OK;
}

/* Slot x of layer j received new pre-activations: its caches are stale. */
static void slot_written(alg_work *w, size_t j, int x) {
  w->fav[x][j] = 0;
  w->cnv[x][j] = 0;
}

/* 2-norms of the n columns of a (rows x n, row-major), overflow-safe:
 * scaled by each column's largest magnitude (two row-major passes).
 * scratch: n doubles. */
static void column_norms(size_t rows, size_t n, const double *a, double *norms, double *scratch) {
  for (size_t i = 0; i < n; i++) norms[i] = scratch[i] = 0.0;
  for (size_t r = 0; r < rows; r++)
    for (size_t i = 0; i < n; i++) {
      double v = fabs(a[r * n + i]);
      if (v > norms[i]) norms[i] = v;
    }
  for (size_t r = 0; r < rows; r++)
    for (size_t i = 0; i < n; i++)
      if (norms[i] > 0.0) {
        double v = a[r * n + i] / norms[i];
        scratch[i] += v * v;
      }
  for (size_t i = 0; i < n; i++) norms[i] *= sqrt(scratch[i]);
}

/* Column norms of A_j of slot x (a: those features), cached. */
static const double *feature_norms(const nslm_net *net, alg_work *w, size_t j, int x,
                                   const double *a) {
  if (j == 0) x = 0; /* X: one copy */
  if (!w->cnv[x][j]) {
    column_norms(net->widths[j], w->n, a, w->cn[x][j], w->cs);
    w->cnv[x][j] = 1;
  }
  return w->cn[x][j];
}

/* The support of layer matrix t of layer j: one of the two kept, else
 * computed into the one that is not `keep` (the other end's matrix). */
static int layer_support(alg_work *w, const nslm_path *path, size_t j, const double *t,
                         const double *keep, const nslmi_support **out) {
  for (int x = 0; x < 2; x++)
    if (w->sup[x][j].w == t) {
      *out = &w->sup[x][j];
      return NSLM_OK;
    }
  nslmi_support *s = w->sup[0][j].w == keep && keep != NULL ? &w->sup[1][j] : &w->sup[0][j];
  int st = nslmi_support_of(s, t, path->widths[j + 1], path->widths[j]);
  if (st) return st;
  *out = s;
  return NSLM_OK;
}

/* Overflow-safe 2-norm of x over the indices ix[0..len). */
static double index_norm2(const double *x, const size_t *ix, size_t len) {
  double mx = 0.0, s = 0.0;
  for (size_t i = 0; i < len; i++)
    if (fabs(x[ix[i]]) > mx) mx = fabs(x[ix[i]]);
  if (mx == 0.0) return 0.0;
  for (size_t i = 0; i < len; i++) {
    double v = x[ix[i]] / mx;
    s += v * v;
  }
  return mx * sqrt(s);
}

/* The risk of outputs o (m x n) and sum_i |l_i| folded into w->scale.
 * grad (m x n) receives the loss's (sub)gradient when not NULL. */
static int knot_risk(alg_work *w, const nslm_loss *loss, const nslm_data *data, size_t m,
                     const double *o, double *risk, double *grad) {
  int st = nslmi_loss_batch(loss, m, w->n, o, data->y, w->losses, risk, grad);
  if (st) return st;
  double a = 0.0;
  for (size_t i = 0; i < w->n; i++) a += fabs(w->losses[i]);
  if (!(a <= w->scale)) w->scale = a; /* NaN: the scale is NaN, nothing passes */
  return NSLM_OK;
}

/* Z_b = tb A when the layer's input A is the same at both ends: a row
 * equal at both ends keeps Z_a's values (what the product is in exact
 * arithmetic), only the rows that differ are multiplied (the bridge adds
 * Gamma's rows beside Theta's, compression zeroes most rows). */
static int changed_rows_product(const nslm_net *net, alg_work *w, size_t j, const double *ta,
                                const double *tb, const nslmi_support *sa, const nslmi_support *sb,
                                const double *a, const double *za, double *zb) {
  size_t rows = sb->rows, cols = sb->cols, n = w->n, nu = 0, nd = 0;
  for (size_t c = 0; c < cols; c++)
    if (sa->cmask[c] || sb->cmask[c]) w->ucol[nu++] = c;
  for (size_t r = 0; r < rows; r++) {
    int differs = 0;
    if (sa->rmask[r] || sb->rmask[r]) {
      const double *xa = ta + r * cols, *xb = tb + r * cols;
      for (size_t i = 0; i < nu && !differs; i++) differs = xa[w->ucol[i]] != xb[w->ucol[i]];
    }
    w->dmask[r] = (unsigned char)differs;
    if (differs && sb->rmask[r]) w->drow[nd++] = r;
  }
  nslmi_support sub = *sb; /* the rows of tb that differ, on tb's columns */
  sub.row = w->drow;
  sub.nr = nd;
  int st = nslmi_support_product(net, &sub, j, a, n, zb, &w->flops, &w->ws);
  if (st) return st;
  for (size_t r = 0; r < rows; r++)
    if (!w->dmask[r]) memcpy(zb + r * n, za + r * n, n * sizeof *zb);
  return NSLM_OK;
}

/* Thresholds of layer j+1's units on a segment whose layer matrices are
 * ta -> tb (supports sa, sb), inputs with thresholds th[j], pre-activations
 * za -> zb; *maxth: their largest, *conv_need (j = l): the largest in(r). */
static void layer_thresholds(alg_work *w, size_t j, size_t rows, size_t cols, const double *ta,
                             const double *tb, const nslmi_support *sa, const nslmi_support *sb,
                             int changed, const double *za, const double *zb, const double *ca,
                             const double *cb, double *maxth, double *conv_need) {
  size_t n = w->n, nu = 0, nt = 0;
  const double *thin = w->th[j];
  for (size_t c = 0; c < cols; c++)
    if (sa->cmask[c] || sb->cmask[c]) {
      w->ucol[nu++] = c;
      if (thin[c] > 0.0) w->tcol[nt++] = c;
    }
  *maxth = 0.0;
  for (size_t r = 0; r < rows; r++) {
    if (!sa->rmask[r] && !sb->rmask[r]) continue; /* zero at both ends: th = 0 */
    const double *xa = ta + r * cols, *xb = tb + r * cols;
    double in = 0.0;
    for (size_t i = 0; i < nt; i++) {
      size_t c = w->tcol[i];
      if ((xa[c] != 0.0 || xb[c] != 0.0) && thin[c] > in) in = thin[c];
    }
    double res = 0.0;
    if (changed) {
      size_t i = 0;
      while (i < nu && xa[w->ucol[i]] == xb[w->ucol[i]]) i++;
      if (i < nu) {
        double na = index_norm2(xa, w->ucol, nu), nb = index_norm2(xb, w->ucol, nu);
        for (size_t s = 0; s < n; s++) {
          double d = fabs(zb[r * n + s] - za[r * n + s]);
          if (d == 0.0) continue;
          /* A scale beyond DBL_MAX proves nothing: residual +inf. */
          double sc = na * ca[s] + nb * cb[s];
          double q = sc > 0.0 && isfinite(sc) ? d / sc : INFINITY;
          if (!(q <= res)) res = q;
        }
      }
    }
    double th = in > res ? in : res;
    if (isnan(th)) th = INFINITY;
    w->th[j + 1][r] = th;
    if (th > *maxth) *maxth = th;
    if (in > *conv_need) *conv_need = in;
  }
}

/* Walks segment s; on return the slots of knot s+1 are current.  Sets the
 * segment's measure and, for a nonincreasing claim, its slope. */
static int alg_segment(nslm_certificate *c, alg_work *w, const nslm_path *path,
                       const nslm_net *net, const nslm_data *data, const nslm_loss *loss,
                       size_t s) {
  size_t l = path->depth, n = w->n;
  const size_t *p = path->widths;
  for (size_t j = 0; j <= l + 1; j++) {
    memset(w->th[j], 0, p[j] * sizeof(double));
    w->nidx[j] = w->idx[j];
  }
  size_t j0 = l + 1;
  for (size_t j = 0; j <= l; j++)
    if (nslmi_path_changed(path, s, j)) {
      j0 = j;
      break;
    }
  double conv_need = 0.0;
  int same = 1; /* A_j(b) is A_j(a), value for value */
  for (size_t j = j0; j <= l; j++) {
    int changed = nslmi_path_changed(path, s, j);
    if (!changed && same) continue; /* Z_{j+1}(b) = Z_{j+1}(a), th = 0 */
    const double *aa, *ab;
    int st = features(net, data, w, j, w->idx[j], &aa);
    if (st) return st;
    if (same) ab = aa;
    else if ((st = features(net, data, w, j, w->nidx[j], &ab))) return st;
    const double *ta = nslmi_path_layer(path, s, j), *tb = nslmi_path_layer(path, s + 1, j);
    const nslmi_support *sa, *sb;
    if ((st = layer_support(w, path, j, ta, tb, &sa)) || (st = layer_support(w, path, j, tb, ta, &sb)))
      return st;
    int slot = 1 - w->idx[j + 1];
    double *zb = w->zb[slot][j + 1];
    const double *za = w->zb[w->idx[j + 1]][j + 1];
    if (same && changed) st = changed_rows_product(net, w, j, ta, tb, sa, sb, ab, za, zb);
    else st = nslmi_support_product(net, sb, j, ab, n, zb, &w->flops, &w->ws);
    if (st) return st;
    slot_written(w, j + 1, slot);
    w->nidx[j + 1] = slot;
    const double *ca = feature_norms(net, w, j, w->idx[j], aa);
    const double *cb = ab == aa ? ca : feature_norms(net, w, j, w->nidx[j], ab);
    double maxth, need = 0.0;
    layer_thresholds(w, j, p[j + 1], p[j], ta, tb, sa, sb, changed, za, zb, ca, cb, &maxth, &need);
    if (j == l) conv_need = need;
    same = maxth == 0.0;
  }
  double const_need = 0.0;
  for (size_t r = 0; r < p[l + 1]; r++)
    if (w->th[l + 1][r] > const_need) const_need = w->th[l + 1][r];
  int kind = path->kind[s];
  c->measure[s] = kind == NSLM_SEG_CONSTANT ? const_need : kind == NSLM_SEG_CONVEX ? conv_need : 0.0;
  /* The end knot's losses (for the scale) and, on a CONVEX segment of a
   * nonincreasing claim, the raw end slope s (divided by the path's scale
   * once every knot is seen). */
  c->slope[s] = 0.0;
  {
    const double *oa = w->zb[w->idx[l + 1]][l + 1], *ob = w->zb[w->nidx[l + 1]][l + 1];
    size_t m = p[l + 1];
    int want = path->nonincreasing && kind == NSLM_SEG_CONVEX;
    double risk;
    if (path->nonincreasing) { /* the scale is needed only then */
      int st = knot_risk(w, loss, data, m, ob, &risk, want ? w->grad : NULL);
      if (st) return st;
    }
    if (path->nonincreasing && kind == NSLM_SEG_GENERAL) c->slope[s] = INFINITY;
    else if (want) {
      double sl = 0.0;
      for (size_t i = 0; i < m * n; i++) sl += w->grad[i] * (ob[i] - oa[i]);
      c->slope[s] = isnan(sl) ? INFINITY : sl;
    }
  }
  memcpy(w->idx, w->nidx, (l + 2) * sizeof(int));
  return NSLM_OK;
}

static int certify_algebraic(nslm_certificate *c, const nslm_path *path, const nslm_net *net,
                             const nslm_data *data, const nslm_loss *loss,
                             nslm_progress_fn progress, void *user_data) {
  alg_work w;
  size_t l = path->depth, n = data->n, m = path->widths[l + 1];
  int st = alg_alloc(&w, path, n);
  if (st) goto done;
  /* Forward pass at knot 0 into slot 0. */
  for (size_t j = 0; j <= l; j++) {
    const double *src, *t = nslmi_path_layer(path, 0, j);
    const nslmi_support *sup;
    if ((st = features(net, data, &w, j, 0, &src)) || (st = layer_support(&w, path, j, t, NULL, &sup)))
      goto done;
    st = nslmi_support_product(net, sup, j, src, n, w.zb[0][j + 1], &w.flops, &w.ws);
    if (st) goto done;
  }
  double risk;
  w.scale = DBL_MIN;
  st = knot_risk(&w, loss, data, m, w.zb[0][l + 1], &risk, NULL);
  if (st) goto done;
  c->fig[NSLM_CERT_RISK_START] = risk;
  for (size_t s = 0; s < c->nseg; s++) {
    st = alg_segment(c, &w, path, net, data, loss, s);
    if (st) goto done;
    st = nslmi_progress(progress, user_data, (double)(s + 1) / (double)c->nseg, "nslm_path_certify");
    if (st) goto done;
  }
  st = nslmi_loss_batch(loss, m, n, w.zb[w.idx[l + 1]][l + 1], data->y, NULL, &risk, NULL);
  if (st) goto done;
  c->fig[NSLM_CERT_RISK_END] = risk;
  /* The scale, as SAMPLED's: the risk of the zero output if larger. */
  {
    double *zero = nslmi_calloc(m * n, sizeof(double)), tot;
    if (zero == NULL) {
      st = NSLMI_FAIL(NSLM_ERR_NOMEM, "certificate buffers");
      goto done;
    }
    (void)knot_risk(&w, loss, data, m, zero, &tot, NULL); /* outside the loss's domain: skipped */
    nslmi_free(zero);
  }
  double mc = 0.0, mv = 0.0, mi = 0.0;
  for (size_t s = 0; s < c->nseg; s++) {
    if (c->claim[s] == NSLM_SEG_CONSTANT && c->measure[s] > mc) mc = c->measure[s];
    if (c->claim[s] == NSLM_SEG_CONVEX && c->measure[s] > mv) mv = c->measure[s];
    if (c->slope[s] != 0.0) c->slope[s] /= w.scale; /* INFINITY stays */
    if (isnan(c->slope[s])) c->slope[s] = INFINITY;
    if (c->slope[s] > 0.0) mi += c->slope[s]; /* a bound of the path's rise */
  }
  c->fig[NSLM_CERT_MAX_CONSTANT_DEVIATION] = mc;
  c->fig[NSLM_CERT_MAX_CONVEXITY_VIOLATION] = mv;
  c->fig[NSLM_CERT_MAX_INCREASE] = mi;
  c->fig[NSLM_CERT_RISK_EVALUATIONS] = w.flops / nslmi_forward_flops(net, n);
done:
  alg_free(&w);
  return st;
}

/* ------------------------------------------------------------ SAMPLED */

static int certify_sampled(nslm_certificate *c, const nslm_path *path, const nslm_net *net,
                           const nslm_data *data, const nslm_loss *loss,
                           const nslm_constraint *con, size_t k, nslm_progress_fn progress,
                           void *user_data) {
  nslmi_path_evaluator ev;
  size_t n = data->n, S = c->nseg;
  int st = nslmi_path_evaluator_init(&ev, path, net, data, loss, NULL, NSLM_EVAL_STRUCTURED);
  if (st) return st;
  double *L = nslmi_malloc_array(k, sizeof(double));
  double *losses = nslmi_malloc_array(n, sizeof(double));
  if (L == NULL || losses == NULL) {
    st = NSLMI_FAIL(NSLM_ERR_NOMEM, "certificate buffers");
    goto done;
  }
  double path_scale = DBL_MIN, run_min = INFINITY, max_inc = 0.0, mc = 0.0, mv = 0.0;
  size_t total = S == 0 ? 1 : S * (k - 1) + 1, done_pts = 0;
  double first = 0.0, last = 0.0, last_abs = 0.0;
  for (size_t s = 0; s < (S == 0 ? 1 : S); s++) {
    double scale = DBL_MIN;
    size_t np = S == 0 ? 1 : k;
    for (size_t i = 0; i < np; i++) {
      double a = 0.0;
      if (s > 0 && i == 0) {
        /* The knot shared with the previous segment: its end, as evaluated. */
        L[0] = last;
        a = last_abs;
      } else {
        double u = S == 0 ? 0.0 : (double)i / (double)(k - 1);
        st = nslmi_path_evaluate(&ev, s, u, &L[i], NULL, losses, NULL);
        if (st) goto done;
        for (size_t q = 0; q < n; q++) a += fabs(losses[q]);
        done_pts++;
        st = nslmi_progress(progress, user_data, (double)done_pts / (double)total,
                            "nslm_path_certify");
        if (st) goto done;
      }
      if (a > scale) scale = a;
      if (i == np - 1) last_abs = a;
    }
    if (s == 0) first = L[0];
    if (scale > path_scale) path_scale = scale;
    /* Running increase over the whole path, in path order. */
    for (size_t i = 0; i < np; i++) {
      if (L[i] < run_min) run_min = L[i];
      double inc = L[i] - run_min;
      if (inc > max_inc) max_inc = inc;
    }
    last = L[np - 1];
    if (S == 0) break;
    /* Raw measures; divided by the path's scale at the end. */
    double m = 0.0;
    if (c->claim[s] == NSLM_SEG_CONSTANT) {
      for (size_t i = 1; i < np; i++) {
        double d = fabs(L[i] - L[0]);
        if (!(d <= m)) m = d;
      }
    } else if (c->claim[s] == NSLM_SEG_CONVEX) {
      for (size_t i = 1; i + 1 < np; i++) {
        double d2 = L[i - 1] - 2.0 * L[i] + L[i + 1];
        double v = d2 < 0.0 ? -d2 : 0.0;
        if (!(v <= m)) m = v;
      }
    }
    c->measure[s] = m;
  }
  /* The scale: the largest sum_i |l_i| over the sampled points, or the
   * risk of the zero output if larger (the problem's own scale: near a
   * global minimum the risk itself is all rounding). */
  double null_abs = 0.0;
  {
    size_t m = path->widths[path->depth + 1];
    double *zero = nslmi_calloc(m * n, sizeof(double)), tot;
    if (zero == NULL) {
      st = NSLMI_FAIL(NSLM_ERR_NOMEM, "certificate buffers");
      goto done;
    }
    if (nslmi_loss_batch(loss, m, n, zero, data->y, losses, &tot, NULL) == NSLM_OK)
      for (size_t q = 0; q < n; q++) null_abs += fabs(losses[q]);
    nslmi_free(zero);
  }
  double scale = path_scale > null_abs ? path_scale : null_abs;
  for (size_t s = 0; s < S; s++) {
    c->measure[s] /= scale;
    if (c->claim[s] == NSLM_SEG_CONSTANT && c->measure[s] > mc) mc = c->measure[s];
    if (c->claim[s] == NSLM_SEG_CONVEX && c->measure[s] > mv) mv = c->measure[s];
  }
  c->fig[NSLM_CERT_RISK_START] = first;
  c->fig[NSLM_CERT_RISK_END] = last;
  c->fig[NSLM_CERT_MAX_CONSTANT_DEVIATION] = mc;
  c->fig[NSLM_CERT_MAX_CONVEXITY_VIOLATION] = mv;
  c->fig[NSLM_CERT_MAX_INCREASE] = max_inc / scale;
  c->fig[NSLM_CERT_RISK_EVALUATIONS] = ev.flops / nslmi_forward_flops(net, n);
  (void)con;
done:
  nslmi_free(L);
  nslmi_free(losses);
  nslmi_path_evaluator_free(&ev);
  return st;
}

/* ------------------------------------------------------------ public API */

int nslm_path_certify(nslm_certificate **out, const nslm_path *path, const nslm_net *net,
                      const nslm_data *data, const nslm_loss *loss, const nslm_constraint *con,
                      int kind, size_t k, nslm_progress_fn progress, void *user_data) {
  NSLMI_CHECK_NULL(out);
  *out = NULL;
  int st = nslmi_path_check_problem(path, net, data, loss, __func__);
  if (st) return st;
  if (path->nknots == 0) return NSLMI_FAIL(NSLM_ERR_INVALID, "path has no knot");
  if (kind != NSLM_CERT_ALGEBRAIC && kind != NSLM_CERT_SAMPLED)
    return NSLMI_FAIL(NSLM_ERR_INVALID, "unknown certificate kind %d", kind);
  if (k == 0) k = DEFAULT_K;
  if (k < 3) return NSLMI_FAIL(NSLM_ERR_DOMAIN, "k = %zu points per segment (needs >= 3)", k);
  if (k > ((size_t)1 << 30)) return NSLMI_FAIL(NSLM_ERR_DOMAIN, "k = %zu points per segment is too many", k);
  nslm_certificate *c = NULL;
  st = cert_new(&c, kind, path);
  if (st) return st;
  st = kind == NSLM_CERT_ALGEBRAIC
           ? certify_algebraic(c, path, net, data, loss, progress, user_data)
           : certify_sampled(c, path, net, data, loss, con, k, progress, user_data);
  if (st == NSLM_OK) st = r_figures(c, path, con, k);
  if (st) {
    nslm_certificate_destroy(c);
    return nslmi_fail_as(st, __func__);
  }
  *out = c;
  return NSLM_OK;
}

int nslm_certificate_kind(const nslm_certificate *cert, int *kind) {
  NSLMI_CHECK_NULL(cert);
  NSLMI_CHECK_NULL(kind);
  *kind = cert->kind;
  return NSLM_OK;
}

size_t nslm_certificate_num_segments(const nslm_certificate *cert) {
  return cert ? cert->nseg : 0;
}

int nslm_certificate_get(const nslm_certificate *cert, int what, double *value) {
  NSLMI_CHECK_NULL(cert);
  NSLMI_CHECK_NULL(value);
  if (what < 0 || what >= NFIG) return NSLMI_FAIL(NSLM_ERR_INVALID, "unknown figure %d", what);
  *value = what == NSLM_CERT_FAILED_SEGMENTS ? (double)failed_segments(cert) : cert->fig[what];
  return NSLM_OK;
}

int nslm_certificate_segment(const nslm_certificate *cert, size_t s, int *kind, double *measure,
                             int *passed) {
  NSLMI_CHECK_NULL(cert);
  if (s >= cert->nseg)
    return NSLMI_FAIL(NSLM_ERR_RANGE, "segment %zu outside the certificate's %zu", s, cert->nseg);
  if (kind) *kind = cert->claim[s];
  if (measure) *measure = cert->measure[s];
  if (passed) *passed = segment_passes(cert, s);
  return NSLM_OK;
}

int nslm_certificate_set_tolerance(nslm_certificate *cert, int which, double tol) {
  NSLMI_CHECK_NULL(cert);
  if (which < 0 || which >= NTOL) return NSLMI_FAIL(NSLM_ERR_INVALID, "unknown tolerance %d", which);
  if (isnan(tol)) return NSLMI_FAIL(NSLM_ERR_NONFINITE, "tolerance is NaN");
  if (tol < 0.0) return NSLMI_FAIL(NSLM_ERR_DOMAIN, "tolerance %g is negative", tol);
  cert->tol[which] = tol;
  return NSLM_OK;
}

int nslm_certificate_get_tolerance(const nslm_certificate *cert, int which, double *tol) {
  NSLMI_CHECK_NULL(cert);
  NSLMI_CHECK_NULL(tol);
  if (which < 0 || which >= NTOL) return NSLMI_FAIL(NSLM_ERR_INVALID, "unknown tolerance %d", which);
  *tol = cert->tol[which];
  return NSLM_OK;
}

int nslm_certificate_passed(const nslm_certificate *cert, int *passed) {
  NSLMI_CHECK_NULL(cert);
  NSLMI_CHECK_NULL(passed);
  *passed = cert_passes(cert);
  return NSLM_OK;
}

int nslm_certificate_summary(const nslm_certificate *cert, char *buf, size_t cap,
                             size_t *needed) {
  NSLMI_CHECK_NULL(cert);
  NSLMI_CHECK_NULL(needed);
  if (buf == NULL && cap > 0) return NSLMI_FAIL(NSLM_ERR_INVALID, "buf is NULL with cap %zu", cap);
  size_t nk[3] = {0, 0, 0};
  for (size_t s = 0; s < cert->nseg; s++) nk[cert->claim[s]]++;
  const double *f = cert->fig;
  int alg = cert->kind == NSLM_CERT_ALGEBRAIC;
  char inc[96];
  if (f[NSLM_CERT_CLAIMS_NONINCREASING] != 0.0)
    snprintf(inc, sizeof inc, "nonincreasing %s: max increase %.3g (tol %.3g)",
             f[NSLM_CERT_MAX_INCREASE] <= cert->tol[NSLM_TOL_INCREASE] ? "holds" : "VIOLATED",
             f[NSLM_CERT_MAX_INCREASE], cert->tol[NSLM_TOL_INCREASE]);
  else
    snprintf(inc, sizeof inc, "nonincreasing: not claimed");
  char tols[96];
  if (alg)
    snprintf(tols, sizeof tols, "identity residuals: constant %.3g, convex %.3g (tol %.3g)",
             f[NSLM_CERT_MAX_CONSTANT_DEVIATION], f[NSLM_CERT_MAX_CONVEXITY_VIOLATION],
             cert->tol[NSLM_TOL_IDENTITY]);
  else
    snprintf(tols, sizeof tols, "constant deviation %.3g (tol %.3g), convexity violation %.3g (tol %.3g)",
             f[NSLM_CERT_MAX_CONSTANT_DEVIATION], cert->tol[NSLM_TOL_CONSTANT],
             f[NSLM_CERT_MAX_CONVEXITY_VIOLATION], cert->tol[NSLM_TOL_CONVEX]);
  char line[768];
  int len = snprintf(line, sizeof line,
                     "%s %s: %zu segments (%zu CONSTANT, %zu CONVEX, %zu GENERAL), %zu failing; "
                     "%s; %s; %s: max r %.6g (%s, tol %.3g); risk %.10g -> %.10g; cost %.3g evaluations",
                     alg ? "ALGEBRAIC" : "SAMPLED", cert_passes(cert) ? "PASS" : "FAIL", cert->nseg,
                     nk[NSLM_SEG_CONSTANT], nk[NSLM_SEG_CONVEX], nk[NSLM_SEG_GENERAL],
                     failed_segments(cert), tols, inc,
                     f[NSLM_CERT_MAX_R] <= 1.0 + cert->tol[NSLM_TOL_FEASIBLE] ? "feasible" : "INFEASIBLE",
                     f[NSLM_CERT_MAX_R],
                     f[NSLM_CERT_R_EXACT] != 0.0 ? "exact" : "sampled", cert->tol[NSLM_TOL_FEASIBLE],
                     f[NSLM_CERT_RISK_START], f[NSLM_CERT_RISK_END], f[NSLM_CERT_RISK_EVALUATIONS]);
  if (len < 0) return NSLMI_FAIL(NSLM_ERR_NUMERIC, "formatting failed");
  size_t L = (size_t)len < sizeof line ? (size_t)len : sizeof line - 1;
  *needed = L + 1;
  if (cap > 0) {
    size_t q = L < cap - 1 ? L : cap - 1;
    memcpy(buf, line, q);
    buf[q] = '\0';
  }
  return NSLM_OK;
}
