/* constraint.h - the row-wise constraint r(Theta). */
#ifndef NSLM_LIB_CONSTRAINT_H
#define NSLM_LIB_CONSTRAINT_H

#include "nslm.h"

struct nslm_constraint {
  double a_r, b_r, q;
};

/* r(Theta) without argument checks (theta valid). */
double nslmi_constraint_value(const nslm_constraint *con, const nslm_params *theta);
/* Largest row norm of layer j (q for j = 0, 1 otherwise), unscaled. */
double nslmi_layer_norm(const nslm_constraint *con, const nslm_params *theta, size_t j);

#endif
