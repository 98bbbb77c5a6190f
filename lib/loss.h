/* loss.h - convex losses l(a, y) on one sample, and batched over a data set. */
#ifndef NSLM_LIB_LOSS_H
#define NSLM_LIB_LOSS_H

#include "nslm.h"

struct nslm_loss {
  int kind;
  double param; /* Huber delta */
  nslm_loss_fn fn;
  void *user;
};

/* One sample; a and grad are strided by inc_a / inc_g (grad may be NULL),
 * y contiguous.  Checks the domain (NSLM_ERR_DOMAIN), callback failures
 * (NSLM_ERR_CALLBACK), non-finite results (NSLM_ERR_NUMERIC) and, for a
 * callback with m > 64, scratch allocation (NSLM_ERR_NOMEM); a and y are
 * assumed finite.  *value and grad are written only on success. */
int nslmi_loss_sample(const nslm_loss *loss, size_t m, const double *a, ptrdiff_t inc_a,
                      const double *y, double *value, double *grad, ptrdiff_t inc_g);
/* All samples: outputs (m x n, row-major, samples as columns), Y as n x m
 * row-major.  losses[i] per sample (may be NULL), *total = sum (may be
 * NULL); dldo (m x n, may be NULL) receives the gradient in the outputs.
 * Same statuses as nslmi_loss_sample (plus NSLM_ERR_NUMERIC when the sum
 * overflows); on failure *total is untouched but losses and dldo may be
 * partly written.  Built-in kinds run without per-sample calls, in blocks
 * of samples (see loss.c). */
int nslmi_loss_batch(const nslm_loss *loss, size_t m, size_t n, const double *out,
                     const double *y, double *losses, double *total, double *dldo);

#endif
