/* line_eval.h - points of the straight line between two parameter sets,
 * Theta(t) = (1 - t) a + t b, evaluated for the landscape profile
 * (nslm_landscape_line).
 *
 * Every layer changes on a general line, so only the first layer has
 * structure to exploit: the data are fixed, so Z_1(t) = Theta^0(t) X =
 * (1 - t) (a^0 X) + t (b^0 X) is affine in t and is interpolated from its
 * two ends (computed once), equal to the product of the interpolated
 * weights up to rounding.  Layers 1..l are interpolated and multiplied at
 * every point.  The per-point work outside the products is kept to one
 * pass over each array it must touch: the interpolation of Z_1 is fused
 * with f^1, each layer's weights are interpolated once, right before its
 * product, into a buffer reused by every layer and every point, and the
 * activations run branch-free (line_eval.c); nothing is allocated or
 * zeroed per point.  Endpoints are exact: 1 x + 0 y = x and 0 x + 1 y =
 * y for finite values, so the points at t = 0 and t = 1 are a and b bit
 * for bit (weights and Z_1), not sums of steps. */
#ifndef NSLM_LIB_LINE_EVAL_H
#define NSLM_LIB_LINE_EVAL_H

#include <stddef.h>

#include "nslm.h"

typedef struct {
  const nslm_net *net;
  const nslm_data *data;
  const nslm_loss *loss;
  const nslm_constraint *con; /* may be NULL: r is not asked */
  const nslm_params *a, *b;
  size_t n;
  double *za, *zb;  /* Z_1 = Theta^0 X at a and at b, p_1 x n (samples as columns) */
  double *buf[2];   /* max_{1<=j<=l+1} p_j x n each */
  nslm_params *pt;  /* the point's layers, all of them, when con is set (for r) */
  double *wone;     /* otherwise one buffer for the weights of layer j = 1..l */
  double flops;     /* products done, 2 m n k each */
} nslmi_line_evaluator;

/* Sets up an evaluator for the line a -> b (arguments already checked:
 * shapes agree with the net and the data): allocates its workspace and
 * computes Z_1 at both ends.  con != NULL makes nslmi_line_evaluate able
 * to return r.  On failure nothing is left allocated. */
int nslmi_line_evaluator_init(nslmi_line_evaluator *ev, const nslm_net *net,
                              const nslm_data *data, const nslm_loss *loss,
                              const nslm_constraint *con, const nslm_params *a,
                              const nslm_params *b);
void nslmi_line_evaluator_free(nslmi_line_evaluator *ev);

/* The risk (sum of the per-sample losses) at Theta(t), and r(Theta(t))
 * when r != NULL (needs con at init).  t is any finite value (t outside
 * [0, 1] extrapolates).  *risk and *r are written only on success. */
int nslmi_line_evaluate(nslmi_line_evaluator *ev, double t, double *risk, double *r);

#endif
