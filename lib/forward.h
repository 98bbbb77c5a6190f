/* forward.h - batched forward evaluation (one BLIS gemm per layer, or the
 * fused small-network path when every layer is small), in the paper's
 * layout: features A_j are p_j x n row-major (samples as columns). */
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
 * (needed by the gradient).  Checks every argument (shapes, NULL).
 * The matrices a[1..l+1] and z[1..l+1] live in one block owned by the
 * features: free them only through nslmi_features_free (never one by one). */
int nslmi_forward(const nslm_net *net, const nslm_params *theta, const nslm_data *data,
                  int keep_pre, nslmi_features **out);
void nslmi_features_free(nslmi_features *f);

/* Finishes a forward pass from the pre-activations of layer j (1 <= j <=
 * l+1; z is p_j x n and is overwritten): applies f^j, then layers j..l.
 * out receives the outputs (m x n).  Internal: no argument checks. */
int nslmi_forward_from(const nslm_net *net, const nslm_params *theta, size_t j, double *z,
                       size_t n, double *out);

/* ---- Shared by eval.c and gradient.c ---- */

/* Checks net, theta and data for NULL and agreement (theta's widths are
 * the net's, data d = p_0 and m = p_{l+1}); failures are recorded under
 * the name func. */
int nslmi_forward_check(const char *func, const nslm_net *net, const nslm_params *theta,
                        const nslm_data *data);

/* Checks that a rows x cols output buffer with element strides (rs, cs)
 * has non-overlapping elements and offsets that fit a ptrdiff_t. */
int nslmi_check_out_strides(const char *func, const char *name, size_t rows, size_t cols,
                            ptrdiff_t rs, ptrdiff_t cs);

/* Doubles of workspace nslmi_forward_to() needs for layers 1..upto-1
 * (two ping-pong buffers, plus the last layer's buffer when it has to be
 * copied out; at least nslmi_forward_fused_work_size() when the fused
 * path may run); 0 with *ok = 0 on overflow. */
size_t nslmi_forward_work_size(const nslm_net *net, size_t upto, size_t n, int *ok);

/* Computes A_upto (0 <= upto <= l+1) from A_0 = a0 (p_0 x n row-major)
 * and writes it as a p_upto x n matrix at dst with element strides (rsd,
 * csd) (element (r, i) at dst[r*rsd + i*csd]; any strides without
 * overlap).  work holds nslmi_forward_work_size() doubles and must not
 * overlap dst.  dst is written only on success.  No argument checks. */
int nslmi_forward_to(const nslm_net *net, const nslm_params *theta, const double *a0, size_t n,
                     size_t upto, double *dst, ptrdiff_t rsd, ptrdiff_t csd, double *work);

/* ---- The fused small-network path (every layer small; see forward.c) ----
 * nslmi_forward_to takes it by itself when it applies; these are for the
 * tests (every kernel variant, every thread count). */

/* Widths up to which the fused path is used (every p_j, j = 0..upto).
 * Measured (AMD EPYC zen4, one thread, nets d = p, 2 hidden layers of
 * width p, m = 4, n = 16..4096): the fused path is 1.2-1.9 times as fast
 * as the BLIS chain for p <= 128 (n >= 64; alike at n = 16), and no
 * faster from p = 160 to 256 (its kernel does not pack: a k x 24 panel
 * leaves L1), where BLIS's packing pays for itself. */
#ifndef NSLMI_FUSED_MAX_WIDTH
#define NSLMI_FUSED_MAX_WIDTH 128
#endif

/* Nonzero when nslmi_forward_to(net, ..., upto, ...) runs the fused path
 * with nthreads threads: widths p_0..p_upto at most NSLMI_FUSED_MAX_WIDTH,
 * no callback activation among layers 1..upto, a vector kernel on this
 * CPU (NSLMI_ISA_AVX2 or better), and OpenMP or a single thread. */
int nslmi_forward_fused_applies(const nslm_net *net, size_t upto, size_t nthreads);

/* Doubles of workspace nslmi_forward_fused needs (any thread count;
 * nslmi_forward_work_size includes it when the shape qualifies); 0 with
 * *ok = 0 on overflow. */
size_t nslmi_forward_fused_work_size(const nslm_net *net, size_t upto, size_t n, int *ok);

/* nslmi_forward_to's contract (1 <= upto <= l+1) on the fused path, with
 * nthreads threads and kernel variant isa (NSLMI_ISA_*; clamped to the
 * CPU's), whatever the widths.  No activation of layers 1..upto may be a
 * callback (they would run on other threads).  Fails only if a built-in
 * activation does (it cannot); dst is written block by block. */
int nslmi_forward_fused(const nslm_net *net, const nslm_params *theta, const double *a0,
                        size_t n, size_t upto, double *dst, ptrdiff_t rsd, ptrdiff_t csd,
                        double *work, size_t nthreads, int isa);

/* Threads for one product C (m x n) = A (m x k) B (k x n), given the
 * net's thread count: products below NSLMI_SMALL_GEMM_FLOPS run on one
 * thread, where starting a thread team costs more than it saves. */
size_t nslmi_gemm_threads(size_t nthreads, size_t m, size_t n, size_t k);

#endif
