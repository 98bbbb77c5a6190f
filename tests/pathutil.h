/* pathutil.h - problems (net, data, loss) and naive reference evaluation of
 * parameter sets for the path and landscape tests.  The reference side
 * never calls the library's evaluation: layers are read with
 * nslm_params_get_layer, combined in plain loops, and evaluated by
 * tests/reference.c. */
#ifndef NSLM_PATHUTIL_H
#define NSLM_PATHUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "nslm.h"
#include "reference.h"

#define PT_MAXL 8

typedef struct {
  size_t l, n, w[PT_MAXL + 2];
  nslm_net *net;
  nslm_data *data;
  nslm_loss *loss;
  double *x, *y; /* n x d, n x m */
  nslmt_ref_act act[PT_MAXL];
  int loss_kind;
  double loss_param;
} pt_prob;

/* acts: l activation kinds (NULL: all ReLU); leaky slope 0.1. */
void pt_prob_make(pt_prob *P, size_t l, const size_t *w, size_t n, int loss_kind,
                  const int *acts, uint64_t seed);
void pt_prob_free(pt_prob *P);

/* New random parameter set (normal, scale / sqrt(fan_in)). */
nslm_params *pt_params(const pt_prob *P, uint64_t seed, double scale);
/* Layer j of theta as a malloc'ed row-major array. */
double *pt_layer(const nslm_params *theta, size_t j);
void pt_set_layer(nslm_params *theta, size_t j, const double *a);
/* out := c0 a + c1 b + c2 c (c may be NULL), computed here. */
nslm_params *pt_combine(const pt_prob *P, double c0, const nslm_params *a, double c1,
                        const nslm_params *b, double c2, const nslm_params *c);
/* The point at local u of a straight segment a -> b, as (1-u) a + u b. */
nslm_params *pt_interp(const pt_prob *P, const nslm_params *a, const nslm_params *b, double u);
/* Naive risk (and per-sample losses, may be NULL) of theta. */
double pt_ref_risk(const pt_prob *P, const nslm_params *theta, double *losses);
/* Naive r(Theta) = max(a_r max_{j>=1} max_rows l1, b_r max_rows lq(Theta^0)). */
double pt_ref_r(const nslm_params *theta, double a_r, double b_r, double q);
/* Knot i of a path as a new parameter set. */
nslm_params *pt_knot(const pt_prob *P, const nslm_path *path, size_t i);

/* Runs cmd with /bin/sh; returns its exit status (-1 if it could not run). */
int pt_system(const char *cmd);

#endif
