/* data.h - a data set, stored in the paper's layout (samples as columns). */
#ifndef NSLM_LIB_DATA_H
#define NSLM_LIB_DATA_H

#include "nslm.h"

struct nslm_data {
  size_t n, d, m;
  double *xt; /* d x n row-major: column i is sample i (A_0 = X) */
  double *yt; /* m x n row-major */
  double *y;  /* n x m row-major (for per-sample losses) */
};

#endif
