/* modelcase.h - a random network, parameter set and data set built through
 * the public API, with the same layers kept for the naive reference
 * (shared by test_forward and test_fused). */
#ifndef NSLM_MODELCASE_H
#define NSLM_MODELCASE_H

#include <stddef.h>

#include "nslm.h"
#include "reference.h"
#include "testutil.h"

typedef struct {
  size_t depth, n, widths[8];
  nslmt_ref_act act[8]; /* act[j-1]: hidden layer j */
  double *layers[8];    /* Theta^j, p_{j+1} x p_j row-major */
  double *x, *y;        /* n x d, n x m row-major */
  nslm_net *net;
  nslm_params *theta;
  nslm_data *data;
} nslmt_case;

/* A callback activation (softsign) and its derivative, vectorised. */
int nslmt_softsign(double *x, size_t len, void *user);
int nslmt_softsign_d(double *x, size_t len, void *user);

/* The reference description of an activation of this kind, with random
 * parameters (leaky slope, polynomial degree and coefficient). */
nslmt_ref_act nslmt_make_act(int kind, nslmt_rng *r);

/* y_kind: 0 real, 1 signs, 2 in (-1, 1), 3 probability rows. */
void nslmt_fill_y(nslmt_rng *r, double *y, size_t n, size_t m, int y_kind);

/* The y_kind of nslmt_fill_y a loss needs (labels for logistic and hinge,
 * (-1, 1) for the paper's logistic, probabilities for softmax). */
int nslmt_loss_y_kind(int loss_kind);

/* Builds a case through the public API.  kinds[j-1] for hidden layer j;
 * out_scale scales the output layer (small keeps outputs in (-1, 1)).
 * Odd layers are passed Fortran-ordered (the library copies either). */
void nslmt_case_make(nslmt_case *t, nslmt_rng *r, size_t depth, const size_t *widths,
                     const int *kinds, size_t n, int y_kind, double out_scale);
void nslmt_case_free(nslmt_case *t);
const double *const *nslmt_case_layers(const nslmt_case *t);

#endif
