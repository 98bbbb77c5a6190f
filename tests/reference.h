/* reference.h - naive scalar reference implementations, written apart from
 * the library so tests compare against independent truth.
 *
 * Everything here is plain loops on the PUBLIC layouts (samples as rows),
 * written from the formulas of DESIGN.md section 1 and include/nslm.h;
 * activations and losses are re-implemented here, not taken from lib/.
 * Only the NSLM_ACT_* / NSLM_LOSS_* constants and the callback types come
 * from nslm.h.  No BLIS, no allocation failures to worry about (malloc). */
#ifndef NSLM_REFERENCE_H
#define NSLM_REFERENCE_H

#include <stddef.h>

#include "nslm.h"

/* One hidden layer's activation. */
typedef struct {
  int kind;      /* NSLM_ACT_* */
  double c, k;   /* leaky slope; polynomial coefficient c and power k */
  nslm_act_fn f; /* NSLM_ACT_CALLBACK: called on ONE value at a time */
  void *user;
} nslmt_ref_act;

/* f(x) for one value; NAN if a callback fails. */
double nslmt_ref_activation(const nslmt_ref_act *a, double x);

/* The network of DESIGN.md section 1 on n samples.
 *   depth   l >= 1 hidden layers; widths[0..l+1] = d, p_1..p_l, m;
 *   layers  layers[j] (j = 0..l) is Theta^j, p_{j+1} x p_j row-major
 *           (the PyTorch weight layout, as nslm_params_get_layer(..., p_j, 1));
 *   act     act[j-1] is hidden layer j's activation (j = 1..l);
 *   x       n x d row-major (sample i is row i).
 * nslmt_ref_features writes A_j (0 <= j <= l+1) as n x p_j row-major into
 * a; with pre != 0 it writes the pre-activation Theta^{j-1} A_{j-1}
 * instead (j >= 1).  Returns 0, or -1 on a bad argument, allocation or
 * callback failure. */
int nslmt_ref_features(size_t depth, const size_t *widths, const double *const *layers,
                       const nslmt_ref_act *act, size_t n, const double *x, size_t j, int pre,
                       double *a);
/* g_Theta(X): out is n x m row-major. */
int nslmt_ref_outputs(size_t depth, const size_t *widths, const double *const *layers,
                      const nslmt_ref_act *act, size_t n, const double *x, double *out);

/* l(a, y) for one sample of m values, for the built-in losses (kind
 * NSLM_LOSS_SQUARED .. NSLM_LOSS_SOFTMAX_CE; param = Huber delta).  The
 * formulas are the header's; Huber is 0.5 r^2 for |r| <= delta, else
 * delta (|r| - delta / 2).  NAN outside the loss's domain. */
double nslmt_ref_loss(int kind, double param, size_t m, const double *a, const double *y);

/* L(Theta) = sum_i l(g(x_i), y_i), y n x m row-major; losses (n, may be
 * NULL) receives the per-sample values.  NAN on failure (bad argument,
 * callback, domain). */
double nslmt_ref_risk(size_t depth, const size_t *widths, const double *const *layers,
                      const nslmt_ref_act *act, size_t n, const double *x, const double *y,
                      int loss_kind, double loss_param, double *losses);

#endif
