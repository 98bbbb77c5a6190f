/* hardutil.h - what the hardening tests (issue 7) share: a small problem
 * instance built through the public API, digests of library objects (to
 * compare results bit for bit), the public function list of the header,
 * results passed from Check's forked children to the runner, and the
 * BLIS warm-up.  No library internals here. */
#ifndef NSLM_HARDUTIL_H
#define NSLM_HARDUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "nslm.h"
#include "reference.h"

/* A problem instance: net (depth hidden layers of width p, activations
 * rotating through acts[]), data (n x d normal, Y n x m normal), squared
 * loss unless set otherwise, a constraint (a_r = b_r = 0: unconstrained),
 * two random parameter sets theta and gamma, construction options (ROW
 * mode unless set), every BLIS product on one thread (bitwise repeatable
 * results).  x, y, layers are kept (row-major) for the reference code. */
typedef struct {
  size_t depth, n, d, m, widths[8];
  double *x, *y;
  nslmt_ref_act ref[7];
  int loss_kind;
  double a_r, b_r, q;
  nslm_net *net;
  nslm_data *data;
  nslm_loss *loss;
  nslm_constraint *con;
  nslm_params *theta, *gamma;
  nslm_construct_opts *opts;
} nslmh_inst;

/* Activation kinds used by nslmh_inst_make: NSLM_ACT_* per hidden layer
 * (cycled); leaky c = 0.1, poly c = 0.5 k = 2. */
void nslmh_inst_make(nslmh_inst *in, uint64_t seed, size_t depth, size_t d, size_t p, size_t m,
                     size_t n, const int *acts, size_t nacts, int loss_kind);
/* Sets a_r = b_r = 1 / max(r(theta), r(gamma)) for q, so both are feasible
 * and the constraint binds (naive r computed here). */
void nslmh_inst_constrain(nslmh_inst *in, double q);
void nslmh_inst_free(nslmh_inst *in);

/* Naive r(Theta) of DESIGN section 1 on row-major layers. */
double nslmh_ref_r(const nslmh_inst *in, const nslm_params *p);
/* Reference risk of p (naive forward pass of tests/reference.c). */
double nslmh_ref_risk(const nslmh_inst *in, const nslm_params *p);
/* Reference outputs (n x m row-major). */
void nslmh_ref_outputs(const nslmh_inst *in, const nslm_params *p, double *out);

/* Layers of p as row-major arrays (malloc'ed; free with nslmh_free_layers). */
void nslmh_get_layers(const nslm_params *p, double **layers, size_t *depth);
void nslmh_free_layers(double **layers, size_t depth);

/* Digests: every number an object exposes, appended to a growable buffer,
 * so two objects (or two runs) can be compared bit for bit. */
typedef struct {
  double *v;
  size_t n, cap;
} nslmh_digest;
void nslmh_digest_init(nslmh_digest *d);
void nslmh_digest_free(nslmh_digest *d);
void nslmh_digest_add(nslmh_digest *d, double x);
void nslmh_digest_bytes(nslmh_digest *d, const void *p, size_t len);
void nslmh_digest_params(nslmh_digest *d, const nslm_params *p);
/* like: any parameter set of the path's widths (to read its knots). */
void nslmh_digest_path(nslmh_digest *d, const nslm_path *path, const nslm_params *like);
void nslmh_digest_cert(nslmh_digest *d, const nslm_certificate *c);
void nslmh_digest_net(nslmh_digest *d, const nslm_net *net);
void nslmh_digest_data(nslmh_digest *d, const nslm_data *data);
/* 1 if equal bit for bit (NaNs with equal bits are equal). */
int nslmh_digest_equal(const nslmh_digest *a, const nslmh_digest *b);

/* Names of the public functions of include/nslm.h (as test_badinput.c
 * counts them).  Returns their number; names[i] are static. */
size_t nslmh_public_functions(const char ***names);

/* Results of forked tests: each test appends "key value" lines to a file
 * shared by the program's children; the runner sums them after the run. */
void nslmh_result_reset(const char *program);
void nslmh_result_add(const char *key, double value);
void nslmh_result_add_str(const char *key, const char *value);
double nslmh_result_sum(const char *key);
/* Distinct string values recorded under key (e.g. covered function names). */
size_t nslmh_result_distinct(const char *key, char ***values);

/* One small BLIS product, so that BLIS initialises its context and memory
 * pools in this process (call it first in every forked test, never in the
 * runner before the fork). */
void nslmh_blis_warmup(void);

/* Bytes of heap in use (glibc mallinfo2), for leak checks around calls. */
size_t nslmh_heap_in_use(void);

#endif
