/* copts.c - the options object of the construction calls: enum-keyed
 * setters and getters (zstd's ZSTD_CCtx_setParameter style), so that new
 * options never change a signature. */
#include <math.h>

#include "alloc.h"
#include "copts.h"
#include "status.h"

void nslmi_copts_resolve(nslm_construct_opts *o, const nslm_construct_opts *src) {
  if (src != NULL) {
    *o = *src;
    return;
  }
  o->mode = NSLM_COMPRESS_ROW;
  o->rank_tol = NSLMI_COPT_RANK_TOL;
  o->nthreads = 0;
  o->global_tol = NSLMI_COPT_GLOBAL_TOL;
  o->global_max_iter = NSLMI_COPT_GLOBAL_MAX_ITER;
  o->avoid = 1;
  o->parallel = 1;
}

int nslm_construct_opts_create(nslm_construct_opts **out) {
  NSLMI_CHECK_NULL(out);
  *out = NULL;
  nslm_construct_opts *o = nslmi_malloc(sizeof *o);
  if (o == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "options");
  nslmi_copts_resolve(o, NULL);
  *out = o;
  return NSLM_OK;
}

void nslm_construct_opts_destroy(nslm_construct_opts *opts) { nslmi_free(opts); }

static int is_int_key(int key) {
  return key == NSLM_CONSTRUCT_MODE || key == NSLM_CONSTRUCT_NUM_THREADS ||
         key == NSLM_CONSTRUCT_GLOBAL_MAX_ITER || key == NSLM_CONSTRUCT_AVOID ||
         key == NSLM_CONSTRUCT_PARALLEL;
}

static int is_double_key(int key) {
  return key == NSLM_CONSTRUCT_RANK_TOL || key == NSLM_CONSTRUCT_GLOBAL_TOL;
}

int nslm_construct_opts_set_int(nslm_construct_opts *opts, int key, int value) {
  NSLMI_CHECK_NULL(opts);
  if (!is_int_key(key))
    return NSLMI_FAIL(NSLM_ERR_INVALID, "key %d is not an int option", key);
  switch (key) {
  case NSLM_CONSTRUCT_MODE:
    if (value != NSLM_COMPRESS_ROW && value != NSLM_COMPRESS_JOINT && value != NSLM_COMPRESS_SHARED)
      return NSLMI_FAIL(NSLM_ERR_INVALID, "unknown compression mode %d", value);
    opts->mode = value;
    break;
  case NSLM_CONSTRUCT_NUM_THREADS:
    if (value < 0 || value > 4096)
      return NSLMI_FAIL(NSLM_ERR_DOMAIN, "thread count %d outside 0..4096", value);
    opts->nthreads = value;
    break;
  case NSLM_CONSTRUCT_GLOBAL_MAX_ITER:
    if (value < 1) return NSLMI_FAIL(NSLM_ERR_DOMAIN, "iteration limit %d must be >= 1", value);
    opts->global_max_iter = value;
    break;
  case NSLM_CONSTRUCT_AVOID:
    if (value != 0 && value != 1)
      return NSLMI_FAIL(NSLM_ERR_DOMAIN, "avoid flag %d must be 0 or 1", value);
    opts->avoid = value;
    break;
  case NSLM_CONSTRUCT_PARALLEL:
    if (value < 0 || value > 2)
      return NSLMI_FAIL(NSLM_ERR_DOMAIN, "parallel setting %d must be 0, 1 or 2", value);
    opts->parallel = value;
    break;
  }
  return NSLM_OK;
}

int nslm_construct_opts_set_double(nslm_construct_opts *opts, int key, double value) {
  NSLMI_CHECK_NULL(opts);
  if (!is_double_key(key))
    return NSLMI_FAIL(NSLM_ERR_INVALID, "key %d is not a double option", key);
  if (!isfinite(value)) return NSLMI_FAIL(NSLM_ERR_NONFINITE, "option value is not finite");
  switch (key) {
  case NSLM_CONSTRUCT_RANK_TOL:
    if (!(value >= 0.0 && value < 1.0))
      return NSLMI_FAIL(NSLM_ERR_DOMAIN, "rank tolerance %g outside [0, 1)", value);
    opts->rank_tol = value;
    break;
  case NSLM_CONSTRUCT_GLOBAL_TOL:
    if (!(value > 0.0)) return NSLMI_FAIL(NSLM_ERR_DOMAIN, "tolerance %g must be > 0", value);
    opts->global_tol = value;
    break;
  }
  return NSLM_OK;
}

int nslm_construct_opts_get_int(const nslm_construct_opts *opts, int key, int *value) {
  NSLMI_CHECK_NULL(opts);
  NSLMI_CHECK_NULL(value);
  switch (key) {
  case NSLM_CONSTRUCT_MODE: *value = opts->mode; return NSLM_OK;
  case NSLM_CONSTRUCT_NUM_THREADS: *value = opts->nthreads; return NSLM_OK;
  case NSLM_CONSTRUCT_GLOBAL_MAX_ITER: *value = opts->global_max_iter; return NSLM_OK;
  case NSLM_CONSTRUCT_AVOID: *value = opts->avoid; return NSLM_OK;
  case NSLM_CONSTRUCT_PARALLEL: *value = opts->parallel; return NSLM_OK;
  }
  return NSLMI_FAIL(NSLM_ERR_INVALID, "key %d is not an int option", key);
}

int nslm_construct_opts_get_double(const nslm_construct_opts *opts, int key, double *value) {
  NSLMI_CHECK_NULL(opts);
  NSLMI_CHECK_NULL(value);
  switch (key) {
  case NSLM_CONSTRUCT_RANK_TOL: *value = opts->rank_tol; return NSLM_OK;
  case NSLM_CONSTRUCT_GLOBAL_TOL: *value = opts->global_tol; return NSLM_OK;
  }
  return NSLMI_FAIL(NSLM_ERR_INVALID, "key %d is not a double option", key);
}
