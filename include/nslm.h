/*
 * nslm.h - libnslm: certified barrier-free paths in the optimization
 * landscapes of wide and deep neural networks.
 *
 * One public header.  Conventions (see nslm(3)):
 *   - every fallible call returns an int status, NSLM_OK (0) or a negative
 *     NSLM_ERR_* code; outputs go through pointers and are left untouched
 *     on failure; nslm_last_error() gives a detail message (thread-local);
 *   - opaque handles are created through an out-parameter (set to NULL on
 *     failure) and destroyed by *_destroy(), which accepts NULL;
 *   - matrices are (rows, cols, ptr, rs, cs): element (i, k) is
 *     ptr[i*rs + k*cs], so numpy C-order, Fortran-order and sliced arrays
 *     pass without copies (the BLIS convention);
 *   - no call keeps a caller's pointer past its return unless documented;
 *   - no call prints, aborts or exits.
 */
#ifndef NSLM_H
#define NSLM_H

#include <stddef.h>
#include <stdint.h>

#include "nslm_version.h"

#if defined(_WIN32) && defined(NSLM_BUILDING)
#define NSLM_API __declspec(dllexport)
#elif defined(__GNUC__) && __GNUC__ >= 4
#define NSLM_API __attribute__((visibility("default")))
#else
#define NSLM_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ====================================================================
 * Version and status
 * ==================================================================== */

/* Run-time version: NSLM_VERSION_NUMBER and NSLM_VERSION_STRING of the
 * library actually loaded. */
NSLM_API int nslm_version_number(void);
NSLM_API const char *nslm_version_string(void);

/* Status codes: stable numbers, append only. */
enum {
  NSLM_OK = 0,
  NSLM_ERR_INVALID = -1,      /* NULL pointer, bad enum, bad option value */
  NSLM_ERR_NOMEM = -2,        /* an allocation failed */
  NSLM_ERR_DIMENSION = -3,    /* sizes or shapes do not match */
  NSLM_ERR_NONFINITE = -4,    /* NaN or Inf in an input */
  NSLM_ERR_INFEASIBLE = -5,   /* parameter outside the constraint set */
  NSLM_ERR_FORMAT = -6,       /* corrupt, truncated or unsupported file */
  NSLM_ERR_IO = -7,           /* the operating system refused a read/write */
  NSLM_ERR_NUMERIC = -8,      /* a numerical procedure failed */
  NSLM_ERR_TOO_NARROW = -9,   /* a hidden layer is too narrow */
  NSLM_ERR_CANCELLED = -10,   /* a progress callback asked to stop */
  NSLM_ERR_DOMAIN = -11,      /* an argument outside a function's domain */
  NSLM_ERR_UNSUPPORTED = -12, /* valid request this object cannot serve */
  NSLM_ERR_CALLBACK = -13,    /* a user callback returned an error */
  NSLM_ERR_RANGE = -14        /* an index is out of range */
};

/* A static description of a status; never NULL (unknown codes get one). */
NSLM_API const char *nslm_strerror(int status);
/* Detail of the last failure in the calling thread (names the offending
 * argument); "" if none.  Valid until the next failing call in the thread. */
NSLM_API const char *nslm_last_error(void);
/* The same, copied: writes at most cap bytes (NUL-terminated when cap > 0)
 * and sets *needed to the full length + 1.  buf may be NULL when cap = 0. */
NSLM_API int nslm_last_error_copy(char *buf, size_t cap, size_t *needed);

/* Progress callback of long calls: fraction in [0, 1]; a nonzero return
 * stops the call, which then returns NSLM_ERR_CANCELLED and leaks nothing. */
typedef int (*nslm_progress_fn)(double fraction, void *user_data);

/* ====================================================================
 * Networks: widths and activations
 * ==================================================================== */

typedef struct nslm_net nslm_net;

enum {
  NSLM_ACT_IDENTITY = 0,
  NSLM_ACT_RELU = 1,
  NSLM_ACT_LEAKY_RELU = 2, /* x if x > 0, else c x (any finite c) */
  NSLM_ACT_POLY = 3,       /* c * x^k, k a positive integer */
  NSLM_ACT_SIGMOID = 4,
  NSLM_ACT_TANH = 5,
  NSLM_ACT_CALLBACK = 6
};

/* Elementwise activation callback: transforms x[0..len) in place.  The
 * derivative callback receives pre-activations and writes f'(x) in place.
 * Return 0 on success; nonzero makes the calling function fail with
 * NSLM_ERR_CALLBACK.  Python must keep its CFUNCTYPE object alive. */
typedef int (*nslm_act_fn)(double *x, size_t len, void *user_data);

/* widths has depth + 2 entries: d = p_0, p_1 .. p_l, m = p_{l+1}; all >= 1,
 * depth l >= 1.  Every hidden layer starts as ReLU. */
NSLM_API int nslm_net_create(nslm_net **out, size_t depth, const size_t *widths);
NSLM_API void nslm_net_destroy(nslm_net *net);
/* Hidden layer j in 1..depth. */
NSLM_API int nslm_net_set_activation(nslm_net *net, size_t j, int kind, double c, double k);
NSLM_API int nslm_net_set_activation_callback(nslm_net *net, size_t j, nslm_act_fn f,
                                              nslm_act_fn df, void *user_data);
NSLM_API int nslm_net_get_activation(const nslm_net *net, size_t j, int *kind, double *c,
                                     double *k);
/* Threads for BLIS products issued on behalf of this net; 0 (default) =
 * BLIS_NUM_THREADS, else OMP_NUM_THREADS, else the number of cores.  Never
 * changes BLIS's process-wide setting. */
NSLM_API int nslm_net_set_num_threads(nslm_net *net, size_t nthreads);
NSLM_API size_t nslm_net_num_threads(const nslm_net *net);
NSLM_API size_t nslm_net_depth(const nslm_net *net);       /* l; 0 for NULL */
NSLM_API size_t nslm_net_width(const nslm_net *net, size_t j); /* p_j, 0..l+1; 0 if out of range */
/* The paper's width bound 2 m (n+1)^l; saturates at SIZE_MAX. */
NSLM_API size_t nslm_net_paper_width_bound(const nslm_net *net, size_t n);

/* ====================================================================
 * Parameters Theta = (Theta^0 .. Theta^l)
 * Theta^j is p_{j+1} x p_j: the shape of PyTorch's
 * nn.Linear(p_j, p_{j+1}, bias=False).weight.
 * A parameter set copies the net's widths; it does not keep the net.
 * ==================================================================== */

typedef struct nslm_params nslm_params;

enum { NSLM_INIT_UNIFORM = 0, NSLM_INIT_NORMAL = 1 };

/* All zeros. */
NSLM_API int nslm_params_create(nslm_params **out, const nslm_net *net);
NSLM_API void nslm_params_destroy(nslm_params *theta);
NSLM_API int nslm_params_clone(nslm_params **out, const nslm_params *src);
/* dst := src (same widths). */
NSLM_API int nslm_params_assign(nslm_params *dst, const nslm_params *src);
NSLM_API size_t nslm_params_depth(const nslm_params *theta);
NSLM_API int nslm_params_layer_shape(const nslm_params *theta, size_t j, size_t *rows,
                                     size_t *cols);
NSLM_API int nslm_params_set_layer(nslm_params *theta, size_t j, size_t rows, size_t cols,
                                   const double *a, ptrdiff_t rs, ptrdiff_t cs);
NSLM_API int nslm_params_get_layer(const nslm_params *theta, size_t j, size_t rows,
                                   size_t cols, double *a, ptrdiff_t rs, ptrdiff_t cs);
/* Reproducible random initialisation: uniform on [-s, s] or normal with
 * standard deviation s, where s = scale / sqrt(fan_in). */
NSLM_API int nslm_params_init_random(nslm_params *theta, uint64_t seed, int dist, double scale);
/* out := (1 - t) a + t b entrywise (exact at t = 0 and t = 1). */
NSLM_API int nslm_params_interpolate(nslm_params *out, const nslm_params *a,
                                     const nslm_params *b, double t);
/* mask[i] = 1 if row i (resp. column i) of Theta^j has a nonzero entry. */
NSLM_API int nslm_params_row_support(const nslm_params *theta, size_t j, unsigned char *mask,
                                     size_t len);
NSLM_API int nslm_params_col_support(const nslm_params *theta, size_t j, unsigned char *mask,
                                     size_t len);
/* True (1) if the two sets have the same widths and equal entries. */
NSLM_API int nslm_params_equal(const nslm_params *a, const nslm_params *b);

/* ====================================================================
 * Data: X (n x d) and Y (n x m), samples as rows (copied)
 * ==================================================================== */

typedef struct nslm_data nslm_data;

NSLM_API int nslm_data_create(nslm_data **out, size_t n, size_t d, const double *x,
                              ptrdiff_t xrs, ptrdiff_t xcs, size_t m, const double *y,
                              ptrdiff_t yrs, ptrdiff_t ycs);
NSLM_API void nslm_data_destroy(nslm_data *data);
NSLM_API size_t nslm_data_n(const nslm_data *data);
NSLM_API size_t nslm_data_d(const nslm_data *data);
NSLM_API size_t nslm_data_m(const nslm_data *data);
NSLM_API int nslm_data_get_x(const nslm_data *data, double *x, ptrdiff_t rs, ptrdiff_t cs);
NSLM_API int nslm_data_get_y(const nslm_data *data, double *y, ptrdiff_t rs, ptrdiff_t cs);

/* ====================================================================
 * Losses l(a, y), convex in the output a (length m)
 * ==================================================================== */

typedef struct nslm_loss nslm_loss;

enum {
  NSLM_LOSS_SQUARED = 0,        /* sum_k (a_k - y_k)^2 */
  NSLM_LOSS_ABSOLUTE = 1,       /* sum_k |a_k - y_k| */
  NSLM_LOSS_HUBER = 2,          /* sum_k huber_delta(a_k - y_k), param = delta > 0 */
  NSLM_LOSS_LOGISTIC = 3,       /* sum_k log(1 + exp(-y_k a_k)), y_k in {-1, 1} */
  NSLM_LOSS_LOGISTIC_PAPER = 4, /* sum_k -(1+y_k)log(1+a_k) - (1-y_k)log(1-a_k), |a_k| < 1, |y_k| <= 1 */
  NSLM_LOSS_HINGE = 5,          /* sum_k max(0, 1 - y_k a_k) */
  NSLM_LOSS_SOFTMAX_CE = 6,     /* -sum_k y_k log softmax(a)_k, y a probability vector */
  NSLM_LOSS_CALLBACK = 7
};

/* Per-sample loss callback: *value = l(a, y); grad (length m) may be NULL,
 * else receives a (sub)gradient in a.  Return 0 on success; nonzero fails
 * the caller with NSLM_ERR_CALLBACK.  The function must be convex in a for
 * the library's convexity claims to hold. */
typedef int (*nslm_loss_fn)(const double *a, const double *y, size_t m, double *value,
                            double *grad, void *user_data);

NSLM_API int nslm_loss_create(nslm_loss **out, int kind, double param);
NSLM_API int nslm_loss_create_callback(nslm_loss **out, nslm_loss_fn f, void *user_data);
NSLM_API void nslm_loss_destroy(nslm_loss *loss);
NSLM_API int nslm_loss_kind(const nslm_loss *loss);
/* One sample: value and optional gradient (grad may be NULL). */
NSLM_API int nslm_loss_eval(const nslm_loss *loss, size_t m, const double *a, const double *y,
                            double *value, double *grad);

/* ====================================================================
 * Constraint r(Theta) = max(a_r max_{j>=1} |||Theta^j|||_1, b_r |||Theta^0|||_q)
 * |||M|||_q = max over rows of (sum_k |M_rk|^q)^(1/q); q in (0, inf]
 * (q = INFINITY: max abs entry).  a_r = b_r = 0: unconstrained (r = 0).
 * ==================================================================== */

typedef struct nslm_constraint nslm_constraint;

NSLM_API int nslm_constraint_create(nslm_constraint **out, double a_r, double b_r, double q);
NSLM_API void nslm_constraint_destroy(nslm_constraint *con);
NSLM_API int nslm_constraint_get(const nslm_constraint *con, double *a_r, double *b_r,
                                 double *q);
NSLM_API int nslm_constraint_eval(const nslm_constraint *con, const nslm_params *theta,
                                  double *r);
/* Row norms of Theta^j (q for j = 0, 1 for j >= 1), unscaled; len = p_{j+1}. */
NSLM_API int nslm_constraint_row_norms(const nslm_constraint *con, const nslm_params *theta,
                                       size_t j, double *norms, size_t len);
/* *feasible = 1 if r(Theta) <= 1. */
NSLM_API int nslm_constraint_feasible(const nslm_constraint *con, const nslm_params *theta,
                                      int *feasible);
/* The row-wise q-(quasi)norm of any matrix, overflow-safe. */
NSLM_API int nslm_matrix_row_norm(size_t rows, size_t cols, const double *a, ptrdiff_t rs,
                                  ptrdiff_t cs, double q, double *norm);

/* ====================================================================
 * Evaluation (BLIS products, one gemm per layer)
 * ==================================================================== */

/* Outputs g_Theta(X): n x m. */
NSLM_API int nslm_eval_outputs(const nslm_net *net, const nslm_params *theta,
                               const nslm_data *data, double *out, ptrdiff_t rs, ptrdiff_t cs);
/* Per-sample losses (len = n). */
NSLM_API int nslm_eval_losses(const nslm_net *net, const nslm_params *theta,
                              const nslm_data *data, const nslm_loss *loss, double *losses,
                              size_t len);
/* L(Theta) = sum_i l(g(x_i), y_i). */
NSLM_API int nslm_eval_risk(const nslm_net *net, const nslm_params *theta,
                            const nslm_data *data, const nslm_loss *loss, double *risk);
/* L(Theta) + lambda r(Theta), lambda >= 0. */
NSLM_API int nslm_eval_objective(const nslm_net *net, const nslm_params *theta,
                                 const nslm_data *data, const nslm_loss *loss,
                                 const nslm_constraint *con, double lambda, double *value);
/* Hidden features A_j (j = 0..l+1; A_0 = X, A_{l+1} = outputs) as an
 * n x p_j matrix (samples as rows; pass swapped strides for p_j x n). */
NSLM_API int nslm_eval_features(const nslm_net *net, const nslm_params *theta,
                                const nslm_data *data, size_t j, double *a, ptrdiff_t rs,
                                ptrdiff_t cs);
/* Gradient of L with respect to every layer, written into grad (same
 * widths); *risk (may be NULL) receives L.  Needs derivatives of every
 * activation: a callback layer without df gives NSLM_ERR_UNSUPPORTED. */
NSLM_API int nslm_eval_gradient(const nslm_net *net, const nslm_params *theta,
                                const nslm_data *data, const nslm_loss *loss,
                                nslm_params *grad, double *risk);

/* ====================================================================
 * Files: .npy (one matrix) and .npz (parameter sets)
 * Saves are atomic: a temporary file in the same directory, flushed,
 * fsync'ed and renamed; on failure an existing file is left intact.
 * ==================================================================== */

/* Reads a 1-D (as len x 1) or 2-D float64/float32 array of any byte order
 * (big-endian converted), C- or Fortran-order.  Size query: with a == NULL
 * (which requires cap == 0), only *rows and *cols are set.  Otherwise a must
 * hold rows*cols doubles (cap), written C-order.  On failure a, *rows and
 * *cols are untouched. */
NSLM_API int nslm_npy_read(const char *path, double *a, size_t cap, size_t *rows,
                           size_t *cols);
NSLM_API int nslm_npy_write(const char *path, size_t rows, size_t cols, const double *a,
                            ptrdiff_t rs, ptrdiff_t cs);
/* Parameter sets as .npz with arrays "layer_0" .. "layer_l" (PyTorch weight
 * layout, float64); numpy.load reads them.  Load builds widths from the
 * array shapes (and checks that they chain). */
NSLM_API int nslm_params_save(const nslm_params *theta, const char *path);
NSLM_API int nslm_params_load(nslm_params **out, const char *path);
/* A net matching a parameter set's widths (all ReLU). */
NSLM_API int nslm_net_create_for(nslm_net **out, const nslm_params *theta);

/* @@SECTION caratheodory (issue 3) -- owned by lib/caratheodory.c @@ */

/* ====================================================================
 * The q-convex Caratheodory reduction (DESIGN 2.1, Lemma 5 tightened)
 * Z is h x r (rows z_1..z_h), t has h entries, q in (0, 1].  The result t'
 * has sum t'_j z_j = sum t_j z_j (up to the reported bound), sign(t'_j) in
 * {0, sign t_j}, sum |t'_j|^q <= sum |t_j|^q, and {z_j : t'_j != 0}
 * linearly independent (TIGHT: at most rank(Z) nonzeros) or at most r + 1
 * nonzeros (PAPER: the lemma as stated, O(h r^3), for comparison).
 * See nslm_caratheodory_reduce(3) for the algorithm and the bounds.
 * ==================================================================== */

typedef struct nslm_caratheodory_opts nslm_caratheodory_opts;

enum { NSLM_CARATHEODORY_TIGHT = 0, NSLM_CARATHEODORY_PAPER = 1 };

/* Option keys.  Int: MODE (TIGHT), NUM_THREADS (0 = BLIS_NUM_THREADS, else
 * OMP_NUM_THREADS, else the cores).  Double: RANK_TOL, the relative
 * tolerance of the rank decision: singular values of Z above
 * RANK_TOL * sigma_1(Z) count (default NSLM_CARATHEODORY_RANK_TOL_DEFAULT). */
enum {
  NSLM_CARATHEODORY_MODE = 0,
  NSLM_CARATHEODORY_NUM_THREADS = 1,
  NSLM_CARATHEODORY_RANK_TOL = 2
};
#define NSLM_CARATHEODORY_RANK_TOL_DEFAULT 1e-12
NSLM_API double nslm_caratheodory_default_rank_tol(void);

NSLM_API int nslm_caratheodory_opts_create(nslm_caratheodory_opts **out);
NSLM_API void nslm_caratheodory_opts_destroy(nslm_caratheodory_opts *opts);
NSLM_API int nslm_caratheodory_opts_set_int(nslm_caratheodory_opts *opts, int key, int value);
NSLM_API int nslm_caratheodory_opts_get_int(const nslm_caratheodory_opts *opts, int key,
                                            int *value);
NSLM_API int nslm_caratheodory_opts_set_double(nslm_caratheodory_opts *opts, int key,
                                               double value);
NSLM_API int nslm_caratheodory_opts_get_double(const nslm_caratheodory_opts *opts, int key,
                                               double *value);
/* Called from the calling thread as rows get reduced, with the fraction
 * done, at least once per call (fn may be NULL to remove it). */
NSLM_API int nslm_caratheodory_opts_set_progress(nslm_caratheodory_opts *opts,
                                                 nslm_progress_fn fn, void *user_data);

/* One vector: t and tout are strided (t[j * tinc]); tout may be t (same
 * stride).  opts may be NULL (defaults).  Each report output may be NULL:
 * nnz (nonzeros of tout), residual = ||sum (t'-t)_j z_j|| / sum |t_j| ||z_j||,
 * bound (the same scale: what the rank decisions may cost, residual <=
 * bound + rounding), norm_before / norm_after = (sum |t_j|^q)^(1/q) of t
 * and tout, rank = numerical rank of Z.  Outputs are written on success
 * only. */
NSLM_API int nslm_caratheodory_reduce(size_t h, size_t r, const double *z, ptrdiff_t zrs,
                                      ptrdiff_t zcs, const double *t, ptrdiff_t tinc, double q,
                                      const nslm_caratheodory_opts *opts, double *tout,
                                      ptrdiff_t toutinc, size_t *nnz, double *residual,
                                      double *bound, double *norm_before, double *norm_after,
                                      size_t *rank);
/* Every row of W (u x h) against the same Z (one factorization); wout may
 * be w (same strides).  Per-row outputs (u entries each, may be NULL): nnz,
 * residual, bound, norm_before, norm_after; used (h entries, may be NULL):
 * 1 where some reduced row is nonzero (the union of the supports). */
NSLM_API int nslm_caratheodory_reduce_rows(size_t h, size_t r, const double *z, ptrdiff_t zrs,
                                           ptrdiff_t zcs, size_t u, const double *w,
                                           ptrdiff_t wrs, ptrdiff_t wcs, double q,
                                           const nslm_caratheodory_opts *opts, double *wout,
                                           ptrdiff_t wors, ptrdiff_t wocs, size_t *nnz,
                                           unsigned char *used, double *residual,
                                           double *bound, double *norm_before,
                                           double *norm_after, size_t *rank);
/* @@END caratheodory @@ */

/* @@SECTION path (issue 4) -- owned by lib/path*.c, certificate.c, landscape.c @@ */

/* ====================================================================
 * Paths: a list of knots (parameter sets of one net's widths) joined by
 * straight segments, each with a kind.  Like an FFTW plan: built once,
 * evaluated many times, destroyed once.  The path copies what it is given
 * (a knot stores only the layers that differ from the previous knot).
 * Parameterisation: segment s (0-based, of S) covers t in [s/S, (s+1)/S].
 * ==================================================================== */

typedef struct nslm_path nslm_path;

enum {
  NSLM_SEG_GENERAL = 0,  /* no claim */
  NSLM_SEG_CONSTANT = 1, /* risk provably constant along the segment */
  NSLM_SEG_CONVEX = 2    /* outputs affine in t, so the risk is convex */
};

/* A path with one knot (start) and no segment; widths from the net. */
NSLM_API int nslm_path_create(nslm_path **out, const nslm_net *net, const nslm_params *start);
/* Appends a segment from the last knot to knot, with the given kind. */
NSLM_API int nslm_path_append(nslm_path *path, const nslm_params *knot, int kind);
/* Appends every segment of src (whose first knot must equal path's last). */
NSLM_API int nslm_path_extend(nslm_path *path, const nslm_path *src);
NSLM_API void nslm_path_destroy(nslm_path *path);
NSLM_API int nslm_path_clone(nslm_path **out, const nslm_path *src);
/* The same knots in reverse order (kinds follow their segments). */
NSLM_API int nslm_path_reverse(nslm_path **out, const nslm_path *src);
NSLM_API size_t nslm_path_num_knots(const nslm_path *path);    /* 0 for NULL */
NSLM_API size_t nslm_path_num_segments(const nslm_path *path); /* 0 for NULL */
NSLM_API int nslm_path_get_knot(const nslm_path *path, size_t i, nslm_params *out);
NSLM_API int nslm_path_segment_kind(const nslm_path *path, size_t s, int *kind);
/* mask[j] = 1 if layer j (0..l) changes on segment s; len = l + 1. */
NSLM_API int nslm_path_segment_layers(const nslm_path *path, size_t s, unsigned char *mask,
                                      size_t len);
/* The point at t in [0, 1] (see the parameterisation above). */
NSLM_API int nslm_path_point(const nslm_path *path, double t, nslm_params *out);
/* Relabels segment s (e.g. to state a claim, or to test a certificate). */
NSLM_API int nslm_path_set_segment_kind(nslm_path *path, size_t s, int kind);
/* The claim "the risk never increases along the path" (0 or 1; set by
 * nslm_path_descent, kept by clone and extend, dropped by reverse). */
NSLM_API int nslm_path_set_nonincreasing(nslm_path *path, int claim);
NSLM_API int nslm_path_get_nonincreasing(const nslm_path *path, int *claim);
/* Doubles stored by the path (the changed layers of its knots); 0 for NULL. */
NSLM_API size_t nslm_path_stored_values(const nslm_path *path);

/* ---- Evaluation along a path ----------------------------------------
 * Risk, per-sample losses and r(Theta) at points of the path.  STRUCTURED
 * (default) exploits the segments' structure: where the pre-activations of
 * a layer are affine in t (always those of the first changed layer), they
 * are interpolated from the segment's two ends instead of recomputed, so a
 * segment changing only Theta^l (the bridge) costs two evaluations in all.
 * PLAIN evaluates every point from scratch (1 - u) a + u b.  Both agree to
 * rounding.  con may be NULL (then r must be NULL); r, losses may be NULL.
 * losses is npoints x n (row i: the point i), strided.  Outputs are
 * written only on success. */
enum { NSLM_EVAL_STRUCTURED = 0, NSLM_EVAL_PLAIN = 1 };

/* Points of the uniform grid with k >= 2 points per segment, shared knots
 * counted once: S (k - 1) + 1 (1 for a path without segment); 0 if path is
 * NULL or k < 2. */
NSLM_API size_t nslm_path_grid_size(const nslm_path *path, size_t k);
/* Evaluates at npoints user-given t in [0, 1] (any order). */
NSLM_API int nslm_path_eval(const nslm_path *path, const nslm_net *net, const nslm_data *data,
                            const nslm_loss *loss, const nslm_constraint *con, size_t npoints,
                            const double *t, double *risk, double *r, double *losses,
                            ptrdiff_t lrs, ptrdiff_t lcs, int mode, nslm_progress_fn progress,
                            void *user_data);
/* Evaluates on the uniform grid of k points per segment (npoints must be
 * nslm_path_grid_size(path, k)); t receives the grid (may be NULL).  The
 * local coordinate of point i of segment s is exactly i / (k - 1), so the
 * knots are evaluated exactly. */
NSLM_API int nslm_path_eval_grid(const nslm_path *path, const nslm_net *net,
                                 const nslm_data *data, const nslm_loss *loss,
                                 const nslm_constraint *con, size_t k, size_t npoints, double *t,
                                 double *risk, double *r, double *losses, ptrdiff_t lrs,
                                 ptrdiff_t lcs, int mode, nslm_progress_fn progress,
                                 void *user_data);

/* ---- Certificates ------------------------------------------------------
 * ALGEBRAIC: proves the CONSTANT/CONVEX claims from identities checked at
 * the knots (see nslm_path_certify(3) for the exact rules); SAMPLED:
 * measures the risk at k points per segment, independently of any claim.
 * A certificate keeps its measurements; pass/fail is decided against
 * tolerances that can be changed afterwards. */
typedef struct nslm_certificate nslm_certificate;

enum { NSLM_CERT_ALGEBRAIC = 0, NSLM_CERT_SAMPLED = 1 };

/* Figures of a certificate (nslm_certificate_get); all relative, see the
 * man page for the scale of each. */
enum {
  NSLM_CERT_RISK_START = 0,              /* risk at the first knot */
  NSLM_CERT_RISK_END = 1,                /* risk at the last knot */
  NSLM_CERT_MAX_CONSTANT_DEVIATION = 2,  /* worst CONSTANT segment */
  NSLM_CERT_MAX_CONVEXITY_VIOLATION = 3, /* worst CONVEX segment */
  NSLM_CERT_MAX_INCREASE = 4,            /* for a nonincreasing claim */
  NSLM_CERT_MAX_R = 5,                   /* max r(Theta) along the path */
  NSLM_CERT_R_EXACT = 6,                 /* 1 if MAX_R is exact, 0 if sampled */
  NSLM_CERT_CLAIMS_NONINCREASING = 7,    /* 1 if the path claimed it */
  NSLM_CERT_RISK_EVALUATIONS = 8,        /* cost, in full risk evaluations */
  NSLM_CERT_FAILED_SEGMENTS = 9          /* segments failing now */
};

/* Tolerances (relative); every default is NSLM_CERT_DEFAULT_TOL. */
enum {
  NSLM_TOL_IDENTITY = 0, /* ALGEBRAIC: identity residuals */
  NSLM_TOL_CONSTANT = 1, /* SAMPLED: deviation on CONSTANT segments */
  NSLM_TOL_CONVEX = 2,   /* SAMPLED: convexity violation on CONVEX segments */
  NSLM_TOL_INCREASE = 3, /* both: increase of a nonincreasing claim */
  NSLM_TOL_FEASIBLE = 4  /* both: pass needs max r <= 1 + tol */
};
#define NSLM_CERT_DEFAULT_TOL 1e-10
NSLM_API double nslm_certificate_default_tolerance(void);

/* k: points per segment for SAMPLED (>= 3; 0 means 17); for ALGEBRAIC the
 * points at which r is sampled where it cannot be exact (0 means 17).
 * con may be NULL (r = 0). */
NSLM_API int nslm_path_certify(nslm_certificate **out, const nslm_path *path,
                               const nslm_net *net, const nslm_data *data,
                               const nslm_loss *loss, const nslm_constraint *con, int kind,
                               size_t k, nslm_progress_fn progress, void *user_data);
NSLM_API void nslm_certificate_destroy(nslm_certificate *cert);
NSLM_API int nslm_certificate_kind(const nslm_certificate *cert, int *kind);
NSLM_API size_t nslm_certificate_num_segments(const nslm_certificate *cert); /* 0 for NULL */
NSLM_API int nslm_certificate_get(const nslm_certificate *cert, int what, double *value);
/* Segment s: its claimed kind, its measure (the figure its claim is judged
 * by; 0 for GENERAL) and whether it passes now.  Each output may be NULL. */
NSLM_API int nslm_certificate_segment(const nslm_certificate *cert, size_t s, int *kind,
                                      double *measure, int *passed);
NSLM_API int nslm_certificate_set_tolerance(nslm_certificate *cert, int which, double tol);
NSLM_API int nslm_certificate_get_tolerance(const nslm_certificate *cert, int which,
                                            double *tol);
/* *passed = 1 if every claim holds within the current tolerances. */
NSLM_API int nslm_certificate_passed(const nslm_certificate *cert, int *passed);
/* One line, e.g. "SAMPLED PASS: 5 segments (...)": writes at most cap bytes
 * (NUL-terminated when cap > 0), *needed = full length + 1. */
NSLM_API int nslm_certificate_summary(const nslm_certificate *cert, char *buf, size_t cap,
                                      size_t *needed);

/* ---- The descent cut (Lemma 4) -----------------------------------------
 * Cuts the path at c = argmin of the risk over its first CONVEX segment
 * (every earlier segment must be CONSTANT), from the two endpoint outputs
 * alone: closed form for the squared loss; otherwise bisection on the sign
 * of the slope (from the loss's gradient) until the bracket is shorter
 * than NSLM_DESCENT_TOL_T, c = its end with a nonpositive slope.  *out
 * claims a nonincreasing risk; t_cut (global t of the cut on path) and
 * risk_end (risk at the cut, evaluated) may be NULL. */
#define NSLM_DESCENT_TOL_T 1e-12
NSLM_API int nslm_path_descent(nslm_path **out, const nslm_path *path, const nslm_net *net,
                               const nslm_data *data, const nslm_loss *loss, double *t_cut,
                               double *risk_end, nslm_progress_fn progress, void *user_data);

/* ---- Files -------------------------------------------------------------
 * .npz readable by numpy.load without libnslm (format in nslm_path_save(3)):
 * a header, segment kinds and layer masks, each knot's changed layers, and
 * a CRC-32 of the payload.  Save is atomic; load rejects truncated, corrupt,
 * inconsistent or hostile files with NSLM_ERR_FORMAT. */
#define NSLM_PATH_FORMAT_VERSION 1
NSLM_API int nslm_path_save(const nslm_path *path, const char *filename);
NSLM_API int nslm_path_load(nslm_path **out, const char *filename);

/* ---- Landscape tools ---------------------------------------------------*/
/* Straight line a -> b at k >= 2 points t_i = i / (k - 1), each point
 * (1 - t) a + t b (exact ends).  t, r may be NULL; con NULL needs r NULL. */
NSLM_API int nslm_landscape_line(const nslm_net *net, const nslm_data *data,
                                 const nslm_loss *loss, const nslm_constraint *con,
                                 const nslm_params *a, const nslm_params *b, size_t k, double *t,
                                 double *risk, double *r, nslm_progress_fn progress,
                                 void *user_data);
/* Barrier of a profile (t increasing, k >= 2): max_i [L_i - ((1 - s_i) L_0
 * + s_i L_{k-1})], s_i = (t_i - t_0) / (t_{k-1} - t_0), and the t_i where it
 * occurs (the first, on ties).  t_at may be NULL. */
NSLM_API int nslm_landscape_barrier(size_t k, const double *t, const double *risk,
                                    double *height, double *t_at);
/* Two random directions for a plane through center: Gaussian, each row of
 * each layer rescaled to the 2-norm of the same row of center ("per-neuron
 * normalization"; zero rows stay zero), then d2 made orthogonal to d1 in
 * the flattened parameter space and rescaled to its norm before. */
NSLM_API int nslm_landscape_directions(const nslm_params *center, uint64_t seed, nslm_params *d1,
                                       nslm_params *d2);
/* Risk (and r) on the grid alpha_i (na points in [amin, amax]) x beta_j (nb
 * points in [bmin, bmax]) of the plane center + alpha d1 + beta d2; element
 * (i, j) of risk is at risk[i rrs + j rcs].  r may be NULL (con NULL too). */
NSLM_API int nslm_landscape_plane(const nslm_net *net, const nslm_data *data,
                                  const nslm_loss *loss, const nslm_constraint *con,
                                  const nslm_params *center, const nslm_params *d1,
                                  const nslm_params *d2, size_t na, double amin, double amax,
                                  size_t nb, double bmin, double bmax, double *risk,
                                  ptrdiff_t rrs, ptrdiff_t rcs, double *r, ptrdiff_t srs,
                                  ptrdiff_t scs, nslm_progress_fn progress, void *user_data);
/* The plane through three parameter sets: the point at (alpha, beta) is
 * (1 - alpha - beta) a + alpha b + beta c, so a, b, c sit exactly at (0, 0),
 * (1, 0), (0, 1).  Same grid and outputs as nslm_landscape_plane. */
NSLM_API int nslm_landscape_plane3(const nslm_net *net, const nslm_data *data,
                                   const nslm_loss *loss, const nslm_constraint *con,
                                   const nslm_params *a, const nslm_params *b,
                                   const nslm_params *c, size_t na, double amin, double amax,
                                   size_t nb, double bmin, double bmax, double *risk,
                                   ptrdiff_t rrs, ptrdiff_t rcs, double *r, ptrdiff_t srs,
                                   ptrdiff_t scs, nslm_progress_fn progress, void *user_data);

/* ---- CSV and SVG output (files written atomically) ---------------------
 * Profiles: k points (t, risk, optional r).  With a path (may be NULL), the
 * CSV gains segment and kind columns, and the SVG marks segment boundaries
 * and kinds; t must then lie in [0, 1].  Planes: na x nb values on the grid
 * of nslm_landscape_plane; the SVG is a heat map with contour lines, and
 * nmarks points (alpha, beta pairs in marks, may be NULL if 0) are drawn.
 * title may be NULL. */
NSLM_API int nslm_profile_write_csv(const char *filename, const nslm_path *path, size_t k,
                                    const double *t, const double *risk, const double *r);
NSLM_API int nslm_profile_write_svg(const char *filename, const nslm_path *path, size_t k,
                                    const double *t, const double *risk, const double *r,
                                    const char *title);
NSLM_API int nslm_plane_write_csv(const char *filename, size_t na, double amin, double amax,
                                  size_t nb, double bmin, double bmax, const double *risk,
                                  ptrdiff_t rrs, ptrdiff_t rcs, const double *r, ptrdiff_t srs,
                                  ptrdiff_t scs);
NSLM_API int nslm_plane_write_svg(const char *filename, size_t na, double amin, double amax,
                                  size_t nb, double bmin, double bmax, const double *values,
                                  ptrdiff_t rs, ptrdiff_t cs, size_t nmarks, const double *marks,
                                  const char *title);
/* @@END path @@ */

/* @@SECTION construction (issue 5) -- owned by lib/block.c, connect.c @@ */

/* ====================================================================
 * The construction (DESIGN 2.2-2.6): compression to block parameters,
 * relocation of hidden units, the bridge, the theorem's path and its
 * descent cut, the widths they need, global minimizers where computable.
 * Hidden-unit masks of all layers are passed concatenated: layer 1
 * (p_1 entries), then layer 2, ..., layer l; len = p_1 + ... + p_l.
 * Unit k of hidden layer j is ACTIVE if row k of Theta^(j-1) or column k
 * of Theta^j has a nonzero entry.
 * ==================================================================== */

/* Options of the construction calls: an opaque object with enum-keyed
 * setters (NULL everywhere means "all defaults"). */
typedef struct nslm_construct_opts nslm_construct_opts;

/* Compression modes (values of NSLM_CONSTRUCT_MODE). */
enum {
  NSLM_COMPRESS_ROW = 0,   /* per-row Caratheodory, q = 1: r(Theta) never increases */
  NSLM_COMPRESS_JOINT = 1, /* rank-revealing row basis of A_j: width rank(A_j) <= n */
  NSLM_COMPRESS_SHARED = 2 /* JOINT rows where they fit the r budget, ROW rows elsewhere */
};

/* Option keys: int options through *_set_int, double options through
 * *_set_double (the wrong setter gives NSLM_ERR_INVALID). */
enum {
  NSLM_CONSTRUCT_MODE = 0,          /* int, NSLM_COMPRESS_*; default ROW */
  NSLM_CONSTRUCT_RANK_TOL = 1,      /* double in [0, 1): relative rank tolerance; default 1e-13 */
  NSLM_CONSTRUCT_NUM_THREADS = 2,   /* int >= 0: BLIS threads of every product of the call
                                       (forward passes included), 0 = the net's; default 0 */
  NSLM_CONSTRUCT_GLOBAL_TOL = 3,    /* double > 0: optimality tolerance of the convex
                                       solver of nslm_global_minimize; default 1e-9 */
  NSLM_CONSTRUCT_GLOBAL_MAX_ITER = 4, /* int >= 1: its iteration limit; default 2000 */
  NSLM_CONSTRUCT_AVOID = 5,         /* int 0/1: JOINT and SHARED pick Gamma's basis off
                                       Theta's units when they can (fewer relocations);
                                       default 1 */
  NSLM_CONSTRUCT_PARALLEL = 6       /* int: compress Theta and Gamma side by side, each on
                                       half the threads: 0 never, 1 when large (default),
                                       2 always (given 2 threads or more) */
};

NSLM_API int nslm_construct_opts_create(nslm_construct_opts **out);
NSLM_API void nslm_construct_opts_destroy(nslm_construct_opts *opts);
NSLM_API int nslm_construct_opts_set_int(nslm_construct_opts *opts, int key, int value);
NSLM_API int nslm_construct_opts_set_double(nslm_construct_opts *opts, int key, double value);
NSLM_API int nslm_construct_opts_get_int(const nslm_construct_opts *opts, int key, int *value);
NSLM_API int nslm_construct_opts_get_double(const nslm_construct_opts *opts, int key,
                                            double *value);

/* Active units of hidden layer j (1..l): mask (len = p_j, may be NULL when
 * len = 0) and their number *count (may be NULL). */
NSLM_API int nslm_params_active_units(const nslm_params *theta, size_t j, unsigned char *mask,
                                      size_t len, size_t *count);
/* Definition 3: *result = 1 if Theta is an s-upper- (resp. s-lower-) block
 * parameter: every hidden unit k > s (resp. k <= p_j - s, 1-based) is
 * inactive.  The general form: every unit outside the concatenated mask
 * is inactive. */
NSLM_API int nslm_params_is_upper_block(const nslm_params *theta, size_t s, int *result);
NSLM_API int nslm_params_is_lower_block(const nslm_params *theta, size_t s, int *result);
NSLM_API int nslm_params_is_block(const nslm_params *theta, const unsigned char *mask,
                                  size_t len, int *result);
/* Lemma 3: out^j[u][v] = theta^j[P_(j+1)[u]][P_j[v]], P_0 and P_(l+1) the
 * identity; perm holds P_1 .. P_l concatenated (0-based, len = sum p_j).
 * out may be theta.  The network function is unchanged. */
NSLM_API int nslm_params_permute_units(nslm_params *out, const nslm_params *theta,
                                       const size_t *perm, size_t len);

/* Compression (DESIGN 2.2): out (same widths as theta) receives the block
 * parameter Theta-bar, computing the same outputs on every training
 * sample; *path (may be NULL) a new path Theta -> Theta-bar of l + 1
 * CONSTANT segments; active[j-1] (len = l, may be NULL when len = 0) the
 * active width of hidden layer j; *r_before and *r_after (may be NULL)
 * r(Theta) and r(Theta-bar) (0 when con is NULL = unconstrained).  JOINT
 * mode under an active constraint fails with NSLM_ERR_INFEASIBLE when it
 * would raise r above max(1, r(Theta)); r_before and r_after are set
 * even then.  SHARED keeps r <= max(1, r(Theta)). */
NSLM_API int nslm_compress(const nslm_net *net, const nslm_params *theta,
                           const nslm_data *data, const nslm_constraint *con,
                           const nslm_construct_opts *opts, nslm_params *out,
                           nslm_path **path, size_t *active, size_t len, double *r_before,
                           double *r_after);
/* Relocation (DESIGN 2.3): moves every active unit of theta that lies in
 * the concatenated mask avoid to free units (inactive in theta, outside
 * avoid; lowest index first), three CONSTANT segments per layer that
 * moves.  out receives the result, *path (may be NULL) the path.  Not
 * enough free units: NSLM_ERR_TOO_NARROW, the detail names each layer. */
NSLM_API int nslm_relocate(const nslm_net *net, const nslm_params *theta,
                           const unsigned char *avoid, size_t len, nslm_params *out,
                           nslm_path **path);
/* The theorem's path (DESIGN 2.5): compress(Theta), relocation, the
 * bridge (CONSTANT segments and one CONVEX segment), reverse(compress(
 * Gamma)).  The path does not depend on the loss. */
NSLM_API int nslm_connect(const nslm_net *net, const nslm_params *theta,
                          const nslm_params *gamma, const nslm_data *data,
                          const nslm_constraint *con, const nslm_construct_opts *opts,
                          nslm_path **out);
/* The same, cut at the minimizer c of the risk on the CONVEX segment by
 * nslm_path_descent (*cut, may be NULL, receives c in [0, 1]): the risk
 * never increases and ends at min_t <= min(L(Theta), L(Gamma)).  When
 * c = 1 the path goes on to Gamma (constant risk). */
NSLM_API int nslm_descent(const nslm_net *net, const nslm_params *theta,
                          const nslm_params *gamma, const nslm_data *data,
                          const nslm_loss *loss, const nslm_constraint *con,
                          const nslm_construct_opts *opts, nslm_path **out, double *cut);

/* Widths, without building any path.  nslm_compress_widths: the active
 * width per hidden layer (len = l) that nslm_compress would give.
 * nslm_connect_widths: needed[j-1] = s_j(Theta) + s_j(Gamma) after the
 * compressions nslm_connect would do (len = l), and *fits = 1 if every
 * layer has needed <= p_j. */
NSLM_API int nslm_compress_widths(const nslm_net *net, const nslm_params *theta,
                                  const nslm_data *data, const nslm_constraint *con,
                                  const nslm_construct_opts *opts, size_t *active,
                                  size_t len);
NSLM_API int nslm_connect_widths(const nslm_net *net, const nslm_params *theta,
                                 const nslm_params *gamma, const nslm_data *data,
                                 const nslm_constraint *con, const nslm_construct_opts *opts,
                                 size_t *needed, size_t len, int *fits);

/* Global minimizer over Theta^l with the inner layers fixed (DESIGN 2.6,
 * unconstrained): out := theta with Theta^l replaced.  Squared loss:
 * least squares; other losses: L-BFGS (NSLM_CONSTRUCT_GLOBAL_TOL, _MAX_ITER).
 * *rank: rank(A_l); *certified = 1 when rank(A_l) = n and the solver met
 * its tolerance: out is then a global minimizer of the whole problem;
 * *grad_norm: Frobenius norm of the gradient in Theta^l at out.  Each of
 * rank, certified, grad_norm may be NULL. */
NSLM_API int nslm_global_minimize(const nslm_net *net, const nslm_params *theta,
                                  const nslm_data *data, const nslm_loss *loss,
                                  const nslm_construct_opts *opts, nslm_params *out,
                                  size_t *rank, int *certified, double *grad_norm);

/* The penalized objective h(t) = L + lambda r along a path, sampled at
 * samples + 1 equally spaced points per segment (samples >= 1): rise[s]
 * = the largest increase of h between consecutive points of segment s,
 * relative to max(1, |h|); nonincreasing[s] = 1 if rise[s] <= tol.  len =
 * number of segments; rise or nonincreasing may be NULL.  A sampled
 * report, not a proof (see nslm_penalized_report(3)). */
NSLM_API int nslm_penalized_report(const nslm_net *net, const nslm_path *path,
                                   const nslm_data *data, const nslm_loss *loss,
                                   const nslm_constraint *con, double lambda, size_t samples,
                                   double tol, double *rise, int *nonincreasing, size_t len);
/* @@END construction @@ */

#ifdef __cplusplus
}
#endif

#endif /* NSLM_H */
