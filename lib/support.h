/* support.h - the nonzero rows and columns of a layer matrix, and the
 * product Theta^j A restricted to them.
 *
 * The construction's knots are block parameters: after compression a
 * 4096 x 4096 layer may hold a 1000 x 1000 nonzero block.  A dense product
 * spends 16x the work on zeros; the restricted one gathers W[R, S] and
 * A[S, :], multiplies, and scatters the rows R back (the other rows of Z
 * are exactly zero).  Adding exact zeros changes no sum, so the result
 * equals the dense product up to the order of the rounding in BLIS's
 * blocking. */
#ifndef NSLM_LIB_SUPPORT_H
#define NSLM_LIB_SUPPORT_H

#include <stddef.h>

#include "nslm.h"

typedef struct {
  const double *w;    /* the matrix described (NULL: nothing yet) */
  size_t rows, cols;  /* its shape */
  size_t nr, nc;      /* nonzero rows / columns */
  size_t *row, *col;  /* their indices, ascending (capacity rows / cols) */
  unsigned char *rmask, *cmask; /* 1 on a nonzero row / column */
} nslmi_support;

/* Reusable gather buffers of nslmi_support_product. */
typedef struct {
  double *buf;
  size_t cap;
} nslmi_support_ws;

/* The products below use the dense path when the nonzero block covers at
 * least this fraction of the matrix: gathering would cost more than the
 * zeros it skips. */
#define NSLMI_SUPPORT_DENSE_FRACTION 0.5

/* Fills s for w (rows x cols, row-major); reuses s's arrays when the shape
 * is the same.  Rows are found with an early exit per row; columns are
 * scanned only on nonzero rows and only until all are seen, so a dense
 * matrix costs O(rows + cols).  NSLM_ERR_NOMEM on allocation failure. */
int nslmi_support_of(nslmi_support *s, const double *w, size_t rows, size_t cols);
void nslmi_support_free(nslmi_support *s);

/* Z = Theta^j A (p_{j+1} x n, contiguous) for w = Theta^j with support s
 * (nslmi_support_of(s, w, ...)); the net's thread count, as
 * nslmi_layer_product.  *flops (if non-NULL) grows by the flops actually
 * done.  NSLM_ERR_NOMEM when the gather buffers cannot grow (z untouched). */
int nslmi_support_product(const nslm_net *net, const nslmi_support *s, size_t j, const double *a,
                          size_t n, double *z, double *flops, nslmi_support_ws *ws);
void nslmi_support_ws_free(nslmi_support_ws *ws);

#endif
