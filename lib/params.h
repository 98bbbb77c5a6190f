/* params.h - parameter sets: one contiguous row-major matrix per layer. */
#ifndef NSLM_LIB_PARAMS_H
#define NSLM_LIB_PARAMS_H

#include "nslm.h"

struct nslm_params {
  size_t depth;   /* l */
  size_t *widths; /* l + 2 */
  double **w;     /* w[j]: p_{j+1} x p_j, row-major (rs = p_j, cs = 1), j = 0..l */
};

/* Zero parameter set for explicit widths (depth + 2 entries). */
int nslmi_params_create_widths(nslm_params **out, size_t depth, const size_t *widths);
/* 1 if theta's widths equal the net's. */
int nslmi_params_match_net(const nslm_params *theta, const nslm_net *net);
/* 1 if two parameter sets have equal widths. */
int nslmi_params_same_shape(const nslm_params *a, const nslm_params *b);
size_t nslmi_params_layer_size(const nslm_params *theta, size_t j); /* rows*cols */

#endif
