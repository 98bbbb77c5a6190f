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

/* ReLU (leaky = 0) or leaky ReLU with slope c, branch-free: one value, and
 * two SSE2 lanes (every x86-64).  The activation passes are loops over
 * millions of values, and GCC 12 at -O2 compiles x > 0 ? x : 0 to a branch
 * per value, which mispredicts on about half the pre-activations of a
 * random net (bench_path's straight line: 0.72-0.81 of dgemm's rate with
 * the branches, 0.89-0.91 without).  The values are exactly those of
 * x > 0 ? x : c x: MAXPD(v, 0) returns its second operand 0 when v is NaN
 * or -0; leaky ReLU is m v with m = 1 or c, NaN included. */
static inline double nslmi_relu1(double v, int leaky, double c) {
  if (!leaky) return v > 0.0 ? v : 0.0;
  return (v > 0.0 ? 1.0 : c) * v;
}
#if defined(__SSE2__)
#include <emmintrin.h>
#define NSLMI_SSE2 1
static inline __m128d nslmi_relu2(__m128d v, int leaky, __m128d c) {
  __m128d zero = _mm_setzero_pd();
  if (!leaky) return _mm_max_pd(v, zero);
  __m128d pos = _mm_cmpgt_pd(v, zero);
  __m128d m = _mm_or_pd(_mm_and_pd(pos, _mm_set1_pd(1.0)), _mm_andnot_pd(pos, c));
  return _mm_mul_pd(m, v);
}
#endif
/* Overwrites x (pre-activations) with f'(x); NSLM_ERR_UNSUPPORTED for a
 * callback without derivative. */
int nslmi_act_derivative(const nslmi_activation *a, double *x, size_t len);
/* Threads to use for this net's products (resolves 0). */
size_t nslmi_net_threads(const nslm_net *net);

#endif
