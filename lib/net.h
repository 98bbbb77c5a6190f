/* net.h - the network: widths and per-layer activations. */
#ifndef NSLM_LIB_NET_H
#define NSLM_LIB_NET_H

#include "nslm.h"

typedef struct {
  int kind;
  double c, k;          /* leaky slope / polynomial coefficient and power */
  nslm_act_fn f, df;    /* NSLM_ACT_CALLBACK only */
  void *user;
} nslmi_activation;

struct nslm_net {
  size_t depth;          /* l, hidden layers */
  size_t *widths;        /* l + 2: d, p_1..p_l, m */
  nslmi_activation *act; /* l + 1 entries; act[j] for hidden layer j = 1..l (act[0] unused) */
  size_t nthreads;       /* 0 = default */
};

/* Applies layer j's activation in place to len values; NSLM_OK or
 * NSLM_ERR_CALLBACK. */
int nslmi_act_apply(const nslmi_activation *a, double *x, size_t len);
/* Overwrites x (pre-activations) with f'(x); NSLM_ERR_UNSUPPORTED for a
 * callback without derivative. */
int nslmi_act_derivative(const nslmi_activation *a, double *x, size_t len);
/* Threads to use for this net's products (resolves 0). */
size_t nslmi_net_threads(const nslm_net *net);

#endif
