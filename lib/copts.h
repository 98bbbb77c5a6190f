/* copts.h - options of the construction calls (nslm_construct_opts). */
#ifndef NSLM_LIB_COPTS_H
#define NSLM_LIB_COPTS_H

#include "nslm.h"

/* Defaults, each documented in nslm_construct_opts_create(3). */
#define NSLMI_COPT_RANK_TOL 1e-13    /* relative rank tolerance of A_j */
#define NSLMI_COPT_GLOBAL_TOL 1e-9   /* ||grad|| <= tol * max(1, L) */
#define NSLMI_COPT_GLOBAL_MAX_ITER 2000

struct nslm_construct_opts {
  int mode;
  double rank_tol;
  int nthreads;
  double global_tol;
  int global_max_iter;
  int avoid;
  int parallel;
};

/* *o := the defaults, or a copy of *src when src != NULL. */
void nslmi_copts_resolve(nslm_construct_opts *o, const nslm_construct_opts *src);

#endif
