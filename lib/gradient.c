/* gradient.c - the gradient of the risk with respect to every layer, by
 * back-propagation on the samples-as-columns layout:
 *   delta_{l+1} = dL/d(outputs)                      (m x n, from the loss)
 *   dL/dTheta^j = delta_{j+1} A_j^T                  (one gemm)
 *   delta_j     = f'(Z_j) .* (Theta^j^T delta_{j+1}) (one gemm, j >= 1)
 * Every fallible step (derivative callbacks, the loss) runs before the
 * first write into grad, so grad is untouched on failure; and delta_j is
 * formed before dL/dTheta^j is written, so grad may be theta itself. */
#include <string.h>

#include "alloc.h"
#include "blas.h"
#include "data.h"
#include "forward.h"
#include "loss.h"
#include "net.h"
#include "params.h"
#include "status.h"

int nslm_eval_gradient(const nslm_net *net, const nslm_params *theta, const nslm_data *data,
                       const nslm_loss *loss, nslm_params *grad, double *risk) {
  int st = nslmi_forward_check(__func__, net, theta, data);
  if (st) return st;
  NSLMI_CHECK_NULL(loss);
  NSLMI_CHECK_NULL(grad);
  if (!nslmi_params_match_net(grad, net))
    return NSLMI_FAIL(NSLM_ERR_DIMENSION, "grad's widths do not match the net's");
  size_t l = net->depth, n = data->n;
  const size_t *p = net->widths;
  for (size_t j = 1; j <= l; j++)
    if (net->act[j].kind == NSLM_ACT_CALLBACK && net->act[j].df == NULL)
      return NSLMI_FAIL(NSLM_ERR_UNSUPPORTED,
                        "hidden layer %zu: activation callback without a derivative", j);

  nslmi_features *f;
  st = nslmi_forward(net, theta, data, 1, &f);
  if (st) return st;

  /* Scratch for Theta^j^T delta_{j+1}: the widest hidden layer. */
  size_t mx = 0;
  for (size_t j = 1; j <= l; j++)
    if (p[j] * n > mx) mx = p[j] * n; /* no overflow: nslmi_forward allocated them */
  double *scratch = nslmi_malloc_array(mx, sizeof *scratch);
  if (scratch == NULL) {
    nslmi_features_free(f);
    return NSLMI_FAIL(NSLM_ERR_NOMEM, "gradient workspace of %zu doubles", mx);
  }

  /* Fallible steps first.  z[j] := f'(Z_j) for hidden layers; z[l+1] (a
   * copy of the outputs, no longer needed) := dL/d(outputs). */
  for (size_t j = 1; j <= l && st == NSLM_OK; j++)
    st = nslmi_act_derivative(&net->act[j], f->z[j], p[j] * n);
  double total = 0.0;
  if (st == NSLM_OK)
    st = nslmi_loss_batch(loss, p[l + 1], n, f->a[l + 1], data->y, NULL, &total, f->z[l + 1]);
  if (st) {
    nslmi_free(scratch);
    nslmi_features_free(f);
    return st;
  }

  size_t T = nslmi_net_threads(net);
  for (size_t jj = l + 1; jj-- > 0;) {
    size_t rows = p[jj + 1], cols = p[jj];
    const double *delta = f->z[jj + 1]; /* delta_{jj+1}: rows x n */
    if (jj >= 1) {
      /* delta_jj = f'(Z_jj) .* (Theta^jj^T delta_{jj+1}), stored into z[jj]. */
      nslmi_gemm(1, 0, cols, n, rows, 1.0, theta->w[jj], (ptrdiff_t)cols, 1, delta, (ptrdiff_t)n,
                 1, 0.0, scratch, (ptrdiff_t)n, 1, nslmi_gemm_threads(T, cols, n, rows));
      double *dz = f->z[jj];
      for (size_t i = 0; i < cols * n; i++) dz[i] *= scratch[i];
    }
    /* dL/dTheta^jj = delta_{jj+1} A_jj^T (theta->w[jj] is not read again). */
    nslmi_gemm(0, 1, rows, cols, n, 1.0, delta, (ptrdiff_t)n, 1, f->a[jj], (ptrdiff_t)n, 1, 0.0,
               grad->w[jj], (ptrdiff_t)cols, 1, nslmi_gemm_threads(T, rows, cols, n));
  }
  nslmi_free(scratch);
  nslmi_features_free(f);
  if (risk) *risk = total;
  return NSLM_OK;
}
