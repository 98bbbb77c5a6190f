/* eval.c - public evaluation: outputs, per-sample losses, the risk, the
 * penalized objective and the hidden features.  Each call checks every
 * argument before the first BLIS product, runs the network with two
 * ping-pong buffers (one allocation per call) and writes its outputs only
 * on success. */
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "constraint.h"
#include "data.h"
#include "forward.h"
#include "loss.h"
#include "net.h"
#include "params.h"
#include "status.h"

/* One workspace: the forward pass's buffers, then `extra` doubles. */
static double *alloc_work(const char *func, const nslm_net *net, size_t upto, size_t n,
                          size_t extra, double **extra_out) {
  int ok;
  size_t w = nslmi_forward_work_size(net, upto, n, &ok);
  if (!ok || extra > SIZE_MAX / sizeof(double) - w) {
    nslmi_fail(NSLM_ERR_NOMEM, func, "workspace for %zu samples is too large", n);
    return NULL;
  }
  double *work = nslmi_malloc((w + extra) * sizeof *work);
  if (work == NULL) {
    nslmi_fail(NSLM_ERR_NOMEM, func, "workspace of %zu doubles", w + extra);
    return NULL;
  }
  if (extra_out) *extra_out = work + w;
  return work;
}

int nslm_eval_outputs(const nslm_net *net, const nslm_params *theta, const nslm_data *data,
                      double *out, ptrdiff_t rs, ptrdiff_t cs) {
  int st = nslmi_forward_check(__func__, net, theta, data);
  if (st) return st;
  NSLMI_CHECK_NULL(out);
  size_t l = net->depth, n = data->n, m = net->widths[l + 1];
  st = nslmi_check_out_strides(__func__, "out", n, m, rs, cs);
  if (st) return st;
  double *work = alloc_work(__func__, net, l + 1, n, 0, NULL);
  if (work == NULL) return NSLM_ERR_NOMEM;
  /* Internally m x n (samples as columns): swap the strides. */
  st = nslmi_forward_to(net, theta, data->xt, n, l + 1, out, cs, rs, work);
  nslmi_free(work);
  return st;
}

int nslm_eval_features(const nslm_net *net, const nslm_params *theta, const nslm_data *data,
                       size_t j, double *a, ptrdiff_t rs, ptrdiff_t cs) {
  int st = nslmi_forward_check(__func__, net, theta, data);
  if (st) return st;
  size_t l = net->depth, n = data->n;
  if (j > l + 1) return NSLMI_FAIL(NSLM_ERR_RANGE, "layer j = %zu outside 0..%zu", j, l + 1);
  NSLMI_CHECK_NULL(a);
  st = nslmi_check_out_strides(__func__, "a", n, net->widths[j], rs, cs);
  if (st) return st;
  double *work = NULL;
  if (j > 0) {
    work = alloc_work(__func__, net, j, n, 0, NULL);
    if (work == NULL) return NSLM_ERR_NOMEM;
  }
  st = nslmi_forward_to(net, theta, data->xt, n, j, a, cs, rs, work);
  nslmi_free(work);
  return st;
}

/* Outputs (m x n) into o, then the batched loss.  Shared by the risk, the
 * losses and the objective; checks loss for NULL. */
static int loss_of(const char *func, const nslm_net *net, const nslm_params *theta,
                   const nslm_data *data, const nslm_loss *loss, double *losses, double *total) {
  size_t l = net->depth, n = data->n, m = net->widths[l + 1];
  double *o, *tmp;
  /* extra: outputs m x n, then n per-sample losses when asked for. */
  size_t extra = m * n + (losses ? n : 0);
  double *work = alloc_work(func, net, l + 1, n, extra, &o);
  if (work == NULL) return NSLM_ERR_NOMEM;
  tmp = losses ? o + m * n : NULL;
  int st = nslmi_forward_to(net, theta, data->xt, n, l + 1, o, (ptrdiff_t)n, 1, work);
  if (st == NSLM_OK) st = nslmi_loss_batch(loss, m, n, o, data->y, tmp, total, NULL);
  if (st == NSLM_OK && losses) memcpy(losses, tmp, n * sizeof *tmp);
  nslmi_free(work);
  return st;
}

int nslm_eval_losses(const nslm_net *net, const nslm_params *theta, const nslm_data *data,
                     const nslm_loss *loss, double *losses, size_t len) {
  int st = nslmi_forward_check(__func__, net, theta, data);
  if (st) return st;
  NSLMI_CHECK_NULL(loss);
  NSLMI_CHECK_NULL(losses);
  if (len != data->n)
    return NSLMI_FAIL(NSLM_ERR_DIMENSION, "len = %zu, the data has n = %zu samples", len, data->n);
  return loss_of(__func__, net, theta, data, loss, losses, NULL);
}

int nslm_eval_risk(const nslm_net *net, const nslm_params *theta, const nslm_data *data,
                   const nslm_loss *loss, double *risk) {
  int st = nslmi_forward_check(__func__, net, theta, data);
  if (st) return st;
  NSLMI_CHECK_NULL(loss);
  NSLMI_CHECK_NULL(risk);
  double total;
  st = loss_of(__func__, net, theta, data, loss, NULL, &total);
  if (st == NSLM_OK) *risk = total;
  return st;
}

int nslm_eval_objective(const nslm_net *net, const nslm_params *theta, const nslm_data *data,
                        const nslm_loss *loss, const nslm_constraint *con, double lambda,
                        double *value) {
  int st = nslmi_forward_check(__func__, net, theta, data);
  if (st) return st;
  NSLMI_CHECK_NULL(loss);
  NSLMI_CHECK_NULL(con);
  NSLMI_CHECK_NULL(value);
  if (!isfinite(lambda)) return NSLMI_FAIL(NSLM_ERR_NONFINITE, "lambda = %g is not finite", lambda);
  if (lambda < 0) return NSLMI_FAIL(NSLM_ERR_DOMAIN, "lambda = %g must be >= 0", lambda);
  double total;
  st = loss_of(__func__, net, theta, data, loss, NULL, &total);
  if (st) return st;
  /* lambda = 0 is exactly the risk (no 0 * r rounding, no 0 * inf). */
  *value = lambda == 0.0 ? total : total + lambda * nslmi_constraint_value(con, theta);
  return NSLM_OK;
}
