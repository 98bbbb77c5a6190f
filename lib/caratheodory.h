/* caratheodory.h - the q-convex Caratheodory reduction (DESIGN 2.1), the
 * internal entry point used by compression (lib/block.c). */
#ifndef NSLM_LIB_CARATHEODORY_H
#define NSLM_LIB_CARATHEODORY_H

#include "nslm.h"

typedef struct {
  double rank_tol; /* relative tolerance of Z's numerical rank, in [0, 1):
                      sigma_i > rank_tol * sigma_1 counts (the public
                      default is NSLM_CARATHEODORY_RANK_TOL_DEFAULT) */
  int paper_mode;  /* 1: stop at r + 1 nonzeros (the lemma as stated) */
  size_t nthreads; /* BLIS threads, 0 = default */
  nslm_progress_fn progress;
  void *user_data;
} nslmi_carath_opts;

/* Reduces every row w of W (u x h) against the rows z_1..z_h of Z (h x r):
 * Wout's row w' has w'Z = wZ up to rounding, sign(w'_k) in {0, sign w_k},
 * sum |w'_k|^q <= sum |w_k|^q, and {z_k : w'_k != 0} linearly independent.
 * used (h, may be NULL): union of the supports of the reduced rows.
 * residual, norm_before, norm_after (u each, may be NULL): relative
 * residual and (sum |w_k|^q)^(1/q) before / after.  *rank (may be NULL):
 * numerical rank of Z; *trunc_bound (may be NULL): the bound on the
 * residual implied by discarding singular values under the tolerance
 * (relative, the largest over the rows of the per-row bounds of
 * nslmi_carath_rows_ex).  Wout may equal W (same strides).
 * opt may be NULL (defaults: rank_tol NSLM_CARATHEODORY_RANK_TOL_DEFAULT,
 * TIGHT, default threads, no progress).  Fails like
 * nslm_caratheodory_reduce_rows(3), leaving every output untouched. */
int nslmi_carath_rows(size_t h, size_t r, const double *z, ptrdiff_t zrs, ptrdiff_t zcs, size_t u,
                      const double *w, ptrdiff_t wrs, ptrdiff_t wcs, double q,
                      const nslmi_carath_opts *opt, double *wout, ptrdiff_t ors, ptrdiff_t ocs,
                      unsigned char *used, double *residual, double *norm_before,
                      double *norm_after, size_t *rank, double *trunc_bound);

/* The same with every report: nnz (u, may be NULL) nonzeros per reduced
 * row, bound (u, may be NULL) the per-row relative bound (residual <=
 * bound + rounding).  nslm_caratheodory_reduce_rows is this function. */
int nslmi_carath_rows_ex(size_t h, size_t r, const double *z, ptrdiff_t zrs, ptrdiff_t zcs,
                         size_t u, const double *w, ptrdiff_t wrs, ptrdiff_t wcs, double q,
                         const nslmi_carath_opts *opt, double *wout, ptrdiff_t ors, ptrdiff_t ocs,
                         size_t *nnz, unsigned char *used, double *residual, double *bound,
                         double *norm_before, double *norm_after, size_t *rank);

#endif
