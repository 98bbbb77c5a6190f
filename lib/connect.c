/* connect.c - the theorem's path (DESIGN 2.4, 2.5).
 *
 * connect(Theta, Gamma) = compress(Theta) . relocate . bridge .
 * reverse(compress(Gamma)).  The bridge between the block parameters
 * Theta-bar and Gamma-bar (disjoint active units at every hidden layer)
 * changes one layer per segment:
 *   phase 1, j = 0 .. l-1: Theta^j := Theta-bar^j + Gamma-bar^j   CONSTANT
 *     (Gamma's units of layer j+1 come alive but feed columns of
 *     Theta^(j+1) that are still zero);
 *   phase 2: Theta^l := Gamma-bar^l                               CONVEX
 *     (both inner networks run side by side, so the outputs are exactly
 *     (1-t) g_Theta + t g_Gamma and the loss is convex in t);
 *   phase 3, j = l-1 .. 0: Theta^j := Gamma-bar^j                 CONSTANT
 *     (Theta's units of layer j+1 go, and they feed columns of
 *     Theta^(j+1) that are already Gamma's, i.e. zero there).
 * Descent cuts phase 2 at the minimizer of the risk (the path module's
 * nslm_path_descent) and, when that is its end (or the end is a minimizer
 * up to DESCENT_END_TOL), goes on to Gamma from the bridge's end itself.
 */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "blas.h"
#include "block.h"
#include "constraint.h"
#include "copts.h"
#include "data.h"
#include "forward.h"
#include "loss.h"
#include "net.h"
#include "params.h"
#include "path.h"
#include "status.h"
#include "units.h"

/* ---------------------------------------------------------------------
 * The construction
 * ------------------------------------------------------------------- */

typedef struct {
  nslm_construct_opts o;
  nslm_params *tbar, *gbar; /* the two block parameters (tbar relocated later) */
  nslm_path *pt;            /* Theta's compression path (NULL when not built) */
  size_t *needed;           /* l */
  unsigned char *gmask;     /* Gamma-bar's active units, concatenated */
} plan_t;

static void plan_free(plan_t *p) {
  nslm_params_destroy(p->tbar);
  nslm_params_destroy(p->gbar);
  nslm_path_destroy(p->pt);
  nslmi_free(p->needed);
  nslmi_free(p->gmask);
  memset(p, 0, sizeof *p);
}

static int check_two(const char *func, const nslm_net *net, const nslm_params *theta,
                     const nslm_params *gamma, const nslm_data *data,
                     const nslm_construct_opts *opts) {
  int st = nslmi_construct_check(func, net, theta, data, opts);
  if (st) return st;
  if (gamma == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "gamma is NULL");
  if (!nslmi_params_match_net(gamma, net))
    return nslmi_fail(NSLM_ERR_DIMENSION, func, "gamma's widths differ from the net's");
  return NSLM_OK;
}

static int compress_one(const nslm_net *net, const nslm_params *theta, const nslm_data *data,
                        const nslm_construct_opts *o, const unsigned char *avoid, double budget,
                        int build, nslm_params **bar, nslm_path **path,
                        const struct nslmi_compress_sync *sync) {
  nslmi_features *f = NULL;
  nslm_net local = *net; /* shallow copy: the option's thread count for the forward pass */
  if (o->nthreads > 0) local.nthreads = (size_t)o->nthreads;
  int st = nslmi_forward(&local, theta, data, 0, &f);
  if (st) return st;
  st = nslm_params_clone(bar, theta);
  if (st == NSLM_OK && build) st = nslm_path_create(path, net, theta);
  if (st == NSLM_OK) st = nslmi_compress_run(net, *bar, f, o, avoid, budget, build ? *path : NULL, NULL,
                                                 sync);
  nslmi_features_free(f);
  return st;
}

/* ---------------------------------------------------------------------
 * The two compressions side by side.  Theta's runs in the caller's
 * thread, Gamma's in a second one, each with half the threads (a private
 * copy of the net carries the count, so that the forward passes do not
 * oversubscribe the cores).  Most of the work is two forward passes and a
 * basis factorization per layer (LU or column-pivoted QR) whose LAPACK
 * runs on BLIS's process-wide (usually single) thread setting, so two at
 * once use the cores better than one after the other.  Gamma's basis at layer j needs S_j of Theta (when it avoids
 * Theta's units): a pipeline, Theta publishes layer by layer.
 * ------------------------------------------------------------------- */

typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  size_t ready; /* layers >= ready are published (l + 1: none) */
  int failed;
  unsigned char *mask; /* concatenated, being filled */
  const size_t *widths;
} pipe_t;

static void pipe_publish(void *user, size_t j, const unsigned char *units) {
  pipe_t *pp = user;
  pthread_mutex_lock(&pp->mu);
  memcpy(pp->mask + nslmi_units_offset(pp->widths, j), units, pp->widths[j]);
  pp->ready = j;
  pthread_cond_broadcast(&pp->cv);
  pthread_mutex_unlock(&pp->mu);
}

static int pipe_wait(void *user, size_t j) {
  pipe_t *pp = user;
  pthread_mutex_lock(&pp->mu);
  while (pp->ready > j && !pp->failed) pthread_cond_wait(&pp->cv, &pp->mu);
  int failed = pp->failed;
  pthread_mutex_unlock(&pp->mu);
  return failed;
}

static void pipe_fail(pipe_t *pp) {
  pthread_mutex_lock(&pp->mu);
  pp->failed = 1;
  pthread_cond_broadcast(&pp->cv);
  pthread_mutex_unlock(&pp->mu);
}

typedef struct {
  const nslm_net *net;
  const nslm_params *gamma;
  const nslm_data *data;
  const nslm_construct_opts *o;
  const unsigned char *avoid;
  double budget;
  struct nslmi_compress_sync sync;
  nslm_params *gbar;
  int st;
  char msg[512];
} job_t;

static void *gamma_job(void *arg) {
  job_t *jb = arg;
  jb->st = compress_one(jb->net, jb->gamma, jb->data, jb->o, jb->avoid, jb->budget, 0, &jb->gbar,
                        NULL, jb->avoid ? &jb->sync : NULL);
  /* the detail message is thread-local: hand it over */
  if (jb->st) snprintf(jb->msg, sizeof jb->msg, "%s", nslm_last_error());
  return NULL;
}

/* Problems below this many multiply-adds per forward pass stay sequential
 * (a thread costs more than it saves). */
#define PARALLEL_MIN_WORK 5e7

static int want_parallel(const nslm_net *net, const nslm_construct_opts *o, size_t n,
                         size_t threads) {
  if (o->parallel == 0 || threads < 2) return 0;
  /* user activations are never called from two threads at once */
  for (size_t j = 1; j <= net->depth; j++)
    if (net->act[j].kind == NSLM_ACT_CALLBACK) return 0;
  if (o->parallel == 2) return 1;
  double work = 0.0;
  for (size_t j = 0; j <= net->depth; j++) work += (double)net->widths[j] * net->widths[j + 1];
  return work * (double)n >= PARALLEL_MIN_WORK;
}

/* Compresses Theta (caller's thread) and Gamma (a second thread). */
static int compress_both(const char *func, const nslm_net *net, const nslm_params *theta,
                         const nslm_params *gamma, const nslm_data *data, plan_t *p,
                         double budget, int build, unsigned char *tmask, int use_avoid) {
  size_t T = p->o.nthreads > 0 ? (size_t)p->o.nthreads : nslmi_net_threads(net);
  size_t half = T / 2 > 0 ? T / 2 : 1;
  nslm_net nt = *net, ng = *net; /* shallow copies: only the thread count differs */
  nt.nthreads = half;
  ng.nthreads = T - half > 0 ? T - half : 1;
  nslm_construct_opts ot = p->o, og = p->o;
  ot.nthreads = (int)nt.nthreads;
  og.nthreads = (int)ng.nthreads;
  pipe_t pp;
  memset(&pp, 0, sizeof pp);
  pp.ready = net->depth + 1;
  pp.mask = tmask;
  pp.widths = net->widths;
  memset(tmask, 0, nslmi_units_total(net->depth, net->widths));
  if (pthread_mutex_init(&pp.mu, NULL) != 0) return -1;
  if (pthread_cond_init(&pp.cv, NULL) != 0) {
    pthread_mutex_destroy(&pp.mu);
    return -1;
  }
  job_t jb;
  memset(&jb, 0, sizeof jb);
  jb.net = &ng;
  jb.gamma = gamma;
  jb.data = data;
  jb.o = &og;
  jb.avoid = use_avoid ? tmask : NULL;
  jb.budget = budget;
  jb.sync.wait = pipe_wait;
  jb.sync.user = &pp;
  pthread_t th;
  if (pthread_create(&th, NULL, gamma_job, &jb) != 0) {
    pthread_cond_destroy(&pp.cv);
    pthread_mutex_destroy(&pp.mu);
    return -1; /* the caller goes sequential */
  }
  struct nslmi_compress_sync pub = {pipe_publish, NULL, &pp};
  int st = compress_one(&nt, theta, data, &ot, NULL, budget, build, &p->tbar, &p->pt, &pub);
  if (st) pipe_fail(&pp);
  pthread_join(th, NULL);
  pthread_cond_destroy(&pp.cv);
  pthread_mutex_destroy(&pp.mu);
  p->gbar = jb.gbar;
  if (st == NSLM_OK && jb.st) st = nslmi_fail(jb.st, func, "%s", jb.msg);
  if (st) return st;
  /* the paths were built with the halved net: nothing of it is kept */
  return NSLM_OK;
}

/* Both compressions, the widths they need, the JOINT refusal. */
static int plan_make(const char *func, const nslm_net *net, const nslm_params *theta,
                     const nslm_params *gamma, const nslm_data *data, const nslm_constraint *con,
                     const nslm_construct_opts *opts, int build, plan_t *p) {
  memset(p, 0, sizeof *p);
  nslmi_copts_resolve(&p->o, opts);
  size_t l = net->depth, total = nslmi_units_total(l, net->widths);
  p->needed = nslmi_malloc_array(l, sizeof *p->needed);
  p->gmask = nslmi_malloc(total);
  unsigned char *tmask = nslmi_malloc(total);
  int st = NSLM_OK;
  if (p->needed == NULL || p->gmask == NULL || tmask == NULL) {
    st = nslmi_fail(NSLM_ERR_NOMEM, func, "unit masks");
    goto done;
  }
  /* SHARED: every row within max(r(Theta), r(Gamma)) / a_r, so r stays
   * under max(r(Theta), r(Gamma)) along the whole path */
  double budget = INFINITY;
  if (p->o.mode == NSLM_COMPRESS_SHARED && con != NULL)
    budget = nslmi_shared_budget(con, fmax(nslmi_constraint_value(con, theta),
                                           nslmi_constraint_value(con, gamma)));
  /* JOINT, SHARED: Gamma's basis avoids Theta-bar's units when they can,
   * which spares the relocation (a pure saving: the result is a valid
   * compression of Gamma either way).  Gamma's compression path is not
   * built: each of its segments changes one layer once, so its reverse is
   * Gamma-bar with the layers 0, 1, .., l put back one at a time (see
   * build_path). */
  int use_avoid = p->o.mode != NSLM_COMPRESS_ROW && p->o.avoid;
  size_t T = p->o.nthreads > 0 ? (size_t)p->o.nthreads : nslmi_net_threads(net);
  st = -1;
  if (want_parallel(net, &p->o, data->n, T))
    st = compress_both(func, net, theta, gamma, data, p, budget, build, tmask, use_avoid);
  if (st == -1) { /* sequential */
    st = compress_one(net, theta, data, &p->o, NULL, budget, build, &p->tbar, &p->pt, NULL);
    if (st) goto done;
    for (size_t j = 1; j <= l; j++)
      nslmi_active_units(p->tbar, j, tmask + nslmi_units_offset(net->widths, j));
    st = compress_one(net, gamma, data, &p->o, use_avoid ? tmask : NULL, budget, 0, &p->gbar, NULL,
                      NULL);
  }
  if (st) goto done;
  /* Theta-bar's actual active units (the published S_j may be larger) */
  for (size_t j = 1; j <= l; j++)
    nslmi_active_units(p->tbar, j, tmask + nslmi_units_offset(net->widths, j));
  char msg[380];
  size_t used = 0, nshort = 0;
  for (size_t j = 1; j <= l; j++) {
    size_t off = nslmi_units_offset(net->widths, j);
    size_t st_ = 0, sg = nslmi_active_units(p->gbar, j, p->gmask + off);
    for (size_t k = 0; k < net->widths[j]; k++) st_ += tmask[off + k];
    p->needed[j - 1] = st_ + sg;
    if (st_ + sg > net->widths[j]) {
      nshort++;
      if (used < sizeof msg - 1) {
        int w = snprintf(msg + used, sizeof msg - used, "%shidden layer %zu needs %zu units (%zu + %zu), has %zu",
                         nshort > 1 ? "; " : "", j, st_ + sg, st_, sg, net->widths[j]);
        if (w > 0) used += (size_t)w;
      }
    }
  }
  if (build && nshort) {
    st = nslmi_fail(NSLM_ERR_TOO_NARROW, func, "%s", msg);
    goto done;
  }
  if (build && p->o.mode == NSLM_COMPRESS_JOINT && nslmi_constraint_active(con)) {
    double rt = nslmi_constraint_value(con, theta), rg = nslmi_constraint_value(con, gamma);
    double rtb = nslmi_constraint_value(con, p->tbar), rgb = nslmi_constraint_value(con, p->gbar);
    double lim = fmax(1.0, fmax(rt, rg));
    if (rtb > lim || rgb > lim) {
      st = nslmi_fail(NSLM_ERR_INFEASIBLE, func,
                      "JOINT compression raises r: Theta %.17g -> %.17g, Gamma %.17g -> %.17g, "
                      "above max(1, r(Theta), r(Gamma)) under an active constraint; use ROW mode",
                      rt, rtb, rg, rgb);
      goto done;
    }
  }
done:
  nslmi_free(tmask);
  if (st) plan_free(p);
  return st;
}

/* Descent: the bridge's CONVEX segment a -> b may be taken whole (and the
 * path go on to Gamma) when its end is a minimizer up to this tolerance:
 * the end slope s = sum_i g_i . (o_b - o_a) (g the loss's subgradient at
 * o_b) is at most DESCENT_END_TOL times the risk scale.  For a convex risk
 * phi along the segment, phi(1) - min phi <= max(0, s), so the path rises
 * by at most this fraction of the scale: 100 times below the certificate's
 * default tolerance (NSLM_CERT_DEFAULT_TOL = 1e-10, whose ALGEBRAIC slope
 * test uses the same s and a scale at least as large), and far above the
 * rounding of s at a global minimizer (~ m n eps of the scale). */
#define DESCENT_END_TOL 1e-12

/* The end slope of the segment a -> b over the scale max(sum_i |l_i| at a,
 * at b, at the zero output) (the certificate's scale restricted to this
 * segment), into *rel; NaN becomes +inf. */
static int end_slope(const nslm_net *net, const nslm_data *data, const nslm_loss *loss,
                     const nslm_params *a, const nslm_params *b, double *rel) {
  size_t l = net->depth, n = data->n, m = net->widths[l + 1];
  double *oa = nslmi_malloc_array(m * n, sizeof(double));
  double *ob = nslmi_malloc_array(m * n, sizeof(double));
  double *g = nslmi_malloc_array(m * n, sizeof(double));
  double *zero = nslmi_calloc(m * n, sizeof(double));
  double *ls = nslmi_malloc_array(n, sizeof(double));
  int st = NSLM_OK;
  if (!oa || !ob || !g || !zero || !ls) {
    st = NSLMI_FAIL(NSLM_ERR_NOMEM, "outputs of %zu x %zu", m, n);
    goto done;
  }
  /* outputs m x n (samples as columns): (i, k) at k n + i */
  st = nslm_eval_outputs(net, a, data, oa, 1, (ptrdiff_t)n);
  if (st == NSLM_OK) st = nslm_eval_outputs(net, b, data, ob, 1, (ptrdiff_t)n);
  double scale = DBL_MIN, tot, sum;
  if (st == NSLM_OK) st = nslmi_loss_batch(loss, m, n, oa, data->y, ls, &tot, NULL);
  if (st) goto done;
  sum = 0.0;
  for (size_t i = 0; i < n; i++) sum += fabs(ls[i]);
  if (!(sum <= scale)) scale = sum;
  st = nslmi_loss_batch(loss, m, n, ob, data->y, ls, &tot, g);
  if (st) goto done;
  sum = 0.0;
  for (size_t i = 0; i < n; i++) sum += fabs(ls[i]);
  if (!(sum <= scale)) scale = sum;
  if (nslmi_loss_batch(loss, m, n, zero, data->y, ls, &tot, NULL) == NSLM_OK) {
    sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += fabs(ls[i]);
    if (sum > scale) scale = sum;
  }
  double s = 0.0;
  for (size_t i = 0; i < m * n; i++) s += g[i] * (ob[i] - oa[i]);
  *rel = s / scale;
  if (isnan(*rel)) *rel = INFINITY;
done:
  nslmi_free(oa);
  nslmi_free(ob);
  nslmi_free(g);
  nslmi_free(zero);
  nslmi_free(ls);
  return st;
}

static int build_path(const char *func, const nslm_net *net, const nslm_params *theta,
                      const nslm_params *gamma, const nslm_data *data, const nslm_loss *loss,
                      const nslm_constraint *con, const nslm_construct_opts *opts,
                      nslm_path **out, double *cut) {
  plan_t p;
  int st = plan_make(func, net, theta, gamma, data, con, opts, 1, &p);
  if (st) return st;
  size_t l = net->depth;
  nslm_path *path = p.pt, *cutp = NULL;
  p.pt = NULL;
  nslm_params *w = p.tbar; /* the working knot */
  double c = 1.0;
  st = nslmi_relocate_run(w, p.gmask, path);
  /* phase 1 */
  for (size_t j = 0; j < l && st == NSLM_OK; j++) {
    size_t sz = nslmi_params_layer_size(w, j);
    for (size_t i = 0; i < sz; i++) w->w[j][i] += p.gbar->w[j][i]; /* disjoint: exact */
    st = nslmi_append_layer(path, w, j, NSLM_SEG_CONSTANT);
  }
  /* phase 2 */
  if (st == NSLM_OK) {
    memcpy(w->w[l], p.gbar->w[l], nslmi_params_layer_size(w, l) * sizeof(double));
    st = nslmi_append_layer(path, w, l, NSLM_SEG_CONVEX);
  }
  /* descent: the path module's cut at the minimizer of the CONVEX segment
   * (every earlier segment is CONSTANT).  Phase 3 must start from the
   * bridge's end itself (Theta^l = Gamma-bar^l exactly): it removes
   * Theta's units, which a cut knot short of the end still reads with
   * weights (1 - c) Theta-bar^l (~1e-16 when c = 1 - eps), so going on from
   * there makes the CONSTANT claims false (identity residuals O(1) for
   * those units).  So: a cut exactly at the end goes on; a cut short of it
   * is replaced by the whole segment when the segment's end is a minimizer
   * up to DESCENT_END_TOL (end_slope: then the risk rises by at most that
   * much of its scale along the segment; at a global minimizer Gamma the
   * cut is 1 - eps or 1 by rounding alone), and otherwise the path stops
   * at the cut. */
  int go_on = 1;
  if (st == NSLM_OK && loss != NULL) {
    double tc;
    size_t S = nslm_path_num_segments(path);
    st = nslm_path_descent(&cutp, path, net, data, loss, &tc, NULL, NULL, NULL);
    if (st == NSLM_OK) {
      c = tc * (double)S - (double)(S - 1);
      c = c < 0.0 ? 0.0 : (c > 1.0 ? 1.0 : c);
      /* is the cut knot the bridge's end (w), value for value? */
      nslm_params view;
      nslmi_path_knot_view(cutp, cutp->nknots - 1, &view);
      int at_end = 1;
      for (size_t j = 0; j <= l && at_end; j++) {
        size_t sz = nslmi_params_layer_size(w, j);
        for (size_t i = 0; i < sz; i++)
          if (!(view.w[j][i] == w->w[j][i])) {
            at_end = 0;
            break;
          }
      }
      double slope = INFINITY;
      if (!at_end) {
        nslmi_path_knot_view(path, path->nknots - 2, &view); /* the segment's start */
        st = end_slope(net, data, loss, &view, w, &slope);
      }
      if (st == NSLM_OK && (at_end || slope <= DESCENT_END_TOL)) c = 1.0; /* the whole segment */
      else if (st == NSLM_OK) {
        go_on = 0;
        if (c >= 1.0) c = nextafter(1.0, 0.0); /* short of the end, if only by rounding */
        nslm_path_destroy(path);
        path = cutp;
        cutp = NULL;
      }
    }
  }
  /* phase 3 and the way back to Gamma, unless the descent stopped early
   * (the knots go straight onto the path, or onto the cut path) */
  if (st == NSLM_OK && go_on) {
    /* (each knot differs from the previous in layer j only, so it is
     * appended straight from Gamma-bar's or Gamma's layer j; Gamma-bar's
     * layers are handed over, it is freed below) */
    for (size_t j = l; j-- > 0 && st == NSLM_OK;)
      st = nslmi_path_append_owned(path, &p.gbar->w[j], j, NSLM_SEG_CONSTANT);
    /* reverse(compress(Gamma)): the knots of Gamma's compression, from
     * Gamma-bar back to Gamma (compression changed layer l first and
     * layer 0 last) */
    for (size_t j = 0; j <= l && st == NSLM_OK; j++)
      st = nslmi_append_layer(path, gamma, j, NSLM_SEG_CONSTANT);
    /* the cut part never increases and the rest is CONSTANT */
    if (st == NSLM_OK && loss != NULL) st = nslm_path_set_nonincreasing(path, 1);
  }
  nslm_path_destroy(cutp);
  plan_free(&p);
  if (st) {
    nslm_path_destroy(path);
    return st;
  }
  if (cut) *cut = c;
  *out = path;
  return NSLM_OK;
}

int nslm_connect(const nslm_net *net, const nslm_params *theta, const nslm_params *gamma,
                 const nslm_data *data, const nslm_constraint *con,
                 const nslm_construct_opts *opts, nslm_path **out) {
  NSLMI_CHECK_NULL(out);
  *out = NULL;
  int st = check_two(__func__, net, theta, gamma, data, opts);
  if (st) return st;
  return build_path(__func__, net, theta, gamma, data, NULL, con, opts, out, NULL);
}

int nslm_descent(const nslm_net *net, const nslm_params *theta, const nslm_params *gamma,
                 const nslm_data *data, const nslm_loss *loss, const nslm_constraint *con,
                 const nslm_construct_opts *opts, nslm_path **out, double *cut) {
  NSLMI_CHECK_NULL(out);
  *out = NULL;
  int st = check_two(__func__, net, theta, gamma, data, opts);
  if (st) return st;
  NSLMI_CHECK_NULL(loss);
  return build_path(__func__, net, theta, gamma, data, loss, con, opts, out, cut);
}

int nslm_connect_widths(const nslm_net *net, const nslm_params *theta, const nslm_params *gamma,
                        const nslm_data *data, const nslm_constraint *con,
                        const nslm_construct_opts *opts, size_t *needed, size_t len, int *fits) {
  int st = check_two(__func__, net, theta, gamma, data, opts);
  if (st) return st;
  NSLMI_CHECK_NULL(needed);
  NSLMI_CHECK_NULL(fits);
  if (len != net->depth)
    return NSLMI_FAIL(NSLM_ERR_DIMENSION, "needed has %zu entries, expected depth %zu", len, net->depth);
  plan_t p;
  /* the widths are reported whatever JOINT does to r (no refusal) */
  st = plan_make(__func__, net, theta, gamma, data, con, opts, 0, &p);
  if (st) return st;
  int ok = 1;
  for (size_t j = 1; j <= net->depth; j++) {
    needed[j - 1] = p.needed[j - 1];
    if (p.needed[j - 1] > net->widths[j]) ok = 0;
  }
  *fits = ok;
  plan_free(&p);
  return NSLM_OK;
}
