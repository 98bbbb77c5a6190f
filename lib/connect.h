/* connect.h - the bridge between block parameters (DESIGN 2.4), the
 * theorem's path and its descent cut (DESIGN 2.5). */
#ifndef NSLM_LIB_CONNECT_H
#define NSLM_LIB_CONNECT_H

#include "nslm.h"

/* Minimizes the convex h(t) = sum_i l((1-t) o0_i + t o1_i, y_i) over
 * [0, 1] (o0, o1: m x n outputs, samples as columns; y: n x m).  *c gets
 * the minimizer (1 when h(1) <= h(c): ties go to the far end), *hc its
 * value.  Squared loss in closed form, else golden section to a bracket
 * of width tol. */
int nslmi_convex_cut(const nslm_loss *loss, size_t m, size_t n, const double *o0,
                     const double *o1, const double *y, double tol, double *c, double *hc);

#endif
