/* forward.h - batched forward evaluation (one BLIS gemm per layer), in the
 * paper's layout: features A_j are p_j x n row-major (samples as columns). */
#ifndef NSLM_LIB_FORWARD_H
#define NSLM_LIB_FORWARD_H

#include "nslm.h"

typedef struct {
  size_t depth, n;
  size_t *widths; /* l + 2 (copy) */
  double **a;     /* a[j], j = 0..l+1: A_j (p_j x n); a[0] aliases data->xt (not owned) */
  double **z;     /* z[j], j = 1..l+1: pre-activations Theta^{j-1} A_{j-1}; NULL unless kept */
} nslmi_features;

/* Runs the network on the data.  keep_pre != 0 also keeps pre-activations
 * (needed by the gradient).  Checks every argument (shapes, NULL). */
int nslmi_forward(const nslm_net *net, const nslm_params *theta, const nslm_data *data,
                  int keep_pre, nslmi_features **out);
void nslmi_features_free(nslmi_features *f);

/* Finishes a forward pass from the pre-activations of layer j (1 <= j <=
 * l+1; z is p_j x n and is overwritten): applies f^j, then layers j..l.
 * out receives the outputs (m x n).  Internal: no argument checks. */
int nslmi_forward_from(const nslm_net *net, const nslm_params *theta, size_t j, double *z,
                       size_t n, double *out);

#endif
