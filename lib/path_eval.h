/* path_eval.h - structure-aware evaluation of points of a path.
 *
 * For a segment a -> b, let P_j be the units of layer j that the segment
 * perturbs, by structure alone: P_{j0} is empty at the first changed layer
 * j0, and a unit of layer j+1 is in P_{j+1} if its row of Theta^j changes
 * or reads (a nonzero weight at a or at b) a unit of P_j.  If no row of
 * Theta^e reads P_e, the inputs Theta^e sees are the same for every t, so
 * Z_{e+1}(t) = Theta^e(t) A_e is affine in t: it is interpolated from its
 * values at the two ends.  The evaluator uses the largest such e (e = l:
 * the outputs themselves are affine, two evaluations in all; e = j0
 * always qualifies), and finishes each point with layers e+1..l only.
 * The analysis uses exact zero tests on the weights, never the segment's
 * claimed kind, so the result is right whatever the labels say. */
#ifndef NSLM_LIB_PATH_EVAL_H
#define NSLM_LIB_PATH_EVAL_H

#include "nslm.h"
#include "params.h"

typedef struct {
  const nslm_path *path;
  const nslm_net *net;
  const nslm_data *data;
  const nslm_loss *loss;
  const nslm_constraint *con; /* may be NULL */
  int plain;                  /* NSLM_EVAL_PLAIN */
  size_t n, T;                /* samples, threads of the net */
  size_t seg;                 /* segment set up, or SIZE_MAX */
  size_t e;                   /* Z_{e+1} is interpolated on seg */
  double *za, *zb;            /* p_{e+1} x n at both ends */
  double *z, *w0, *w1;        /* scratch, max_j p_j x n each */
  double *out;                /* m x n outputs */
  double *losses;             /* n */
  nslm_params *scratch;       /* interpolated layers */
  nslm_params pt;             /* the point: views of scratch or knot layers */
  double **ptw;               /* pt.w */
  double rfix;                /* r contribution of the layers fixed on seg */
  unsigned char *mark;        /* scratch unit marks, max_j p_j */
  double flops;               /* products done (2 m n k each), for cost reports */
} nslmi_path_evaluator;

/* Sets up an evaluator (the problem must have been checked with
 * nslmi_path_check_problem).  Allocates its workspace. */
int nslmi_path_evaluator_init(nslmi_path_evaluator *ev, const nslm_path *path,
                              const nslm_net *net, const nslm_data *data, const nslm_loss *loss,
                              const nslm_constraint *con, int mode);
void nslmi_path_evaluator_free(nslmi_path_evaluator *ev);

/* Evaluates the point at local u of segment s (or the single knot of a
 * path without segment: s = 0, u = 0): *risk, and, when the pointers are
 * non-NULL, r (needs con), the per-sample losses (n, copied) and the
 * outputs (m x n, samples as columns, copied). */
int nslmi_path_evaluate(nslmi_path_evaluator *ev, size_t s, double u, double *risk, double *r,
                        double *losses, double *outputs);

/* Flops of one full evaluation of the net on n samples (2 sum p_{j+1} p_j n). */
double nslmi_forward_flops(const nslm_net *net, size_t n);

/* r at local u of segment s (no forward pass); scratch is a parameter set
 * of the path's widths. */
double nslmi_path_r_at(const nslm_path *path, const nslm_constraint *con, size_t s, double u,
                       nslm_params *scratch);

/* Z = Theta^j A (p_{j+1} x n), contiguous; counted in *flops if non-NULL. */
void nslmi_layer_product(const nslm_net *net, const double *w, size_t j, const double *a,
                         size_t n, double *z, double *flops);

/* Calls progress(fraction); NSLM_ERR_CANCELLED (detail recorded under
 * func) if it asks to stop.  progress may be NULL. */
int nslmi_progress(nslm_progress_fn progress, void *user_data, double fraction,
                   const char *func);

#endif
