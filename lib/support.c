/* support.c - nonzero rows/columns of a layer and the product restricted
 * to them (see support.h). */
#include <string.h>

#include "alloc.h"
#include "blas.h"
#include "forward.h"
#include "matrix.h"
#include "net.h"
#include "path_eval.h"
#include "status.h"
#include "support.h"

void nslmi_support_free(nslmi_support *s) {
  if (s == NULL) return;
  nslmi_free(s->row);
  nslmi_free(s->col);
  nslmi_free(s->rmask);
  nslmi_free(s->cmask);
  memset(s, 0, sizeof *s);
}

int nslmi_support_of(nslmi_support *s, const double *w, size_t rows, size_t cols) {
  if (s->row == NULL || s->rows != rows || s->cols != cols) {
    nslmi_support_free(s);
    s->row = nslmi_malloc_array(rows ? rows : 1, sizeof *s->row);
    s->col = nslmi_malloc_array(cols ? cols : 1, sizeof *s->col);
    s->rmask = nslmi_malloc(rows ? rows : 1);
    s->cmask = nslmi_malloc(cols ? cols : 1);
    if (!s->row || !s->col || !s->rmask || !s->cmask) {
      nslmi_support_free(s);
      return NSLMI_FAIL(NSLM_ERR_NOMEM, "support of a %zu x %zu layer", rows, cols);
    }
    s->rows = rows;
    s->cols = cols;
  }
  s->w = w;
  s->nr = s->nc = 0;
  memset(s->cmask, 0, cols);
  for (size_t r = 0; r < rows; r++) {
    const double *x = w + r * cols;
    size_t c = 0;
    while (c < cols && x[c] == 0.0) c++;
    s->rmask[r] = c < cols;
    if (c == cols) continue;
    s->row[s->nr++] = r;
    if (s->nc == cols) continue; /* every column already seen */
    for (; c < cols; c++)
      if (x[c] != 0.0 && !s->cmask[c]) {
        s->cmask[c] = 1;
        s->nc++;
      }
  }
  size_t k = 0;
  for (size_t c = 0; c < cols && k < s->nc; c++)
    if (s->cmask[c]) s->col[k++] = c;
  return NSLM_OK;
}

static int ws_reserve(nslmi_support_ws *ws, size_t len) {
  if (len <= ws->cap) return NSLM_OK;
  double *b = nslmi_malloc_array(len, sizeof *b);
  if (b == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "product buffers (%zu doubles)", len);
  nslmi_free(ws->buf);
  ws->buf = b;
  ws->cap = len;
  return NSLM_OK;
}

void nslmi_support_ws_free(nslmi_support_ws *ws) {
  if (ws == NULL) return;
  nslmi_free(ws->buf);
  ws->buf = NULL;
  ws->cap = 0;
}

int nslmi_support_product(const nslm_net *net, const nslmi_support *s, size_t j, const double *a,
                          size_t n, double *z, double *flops, nslmi_support_ws *ws) {
  size_t rows = s->rows, k = s->cols, nr = s->nr, nc = s->nc;
  if ((double)nr * (double)nc >= NSLMI_SUPPORT_DENSE_FRACTION * (double)rows * (double)k) {
    nslmi_layer_product(net, s->w, j, a, n, z, flops);
    return NSLM_OK;
  }
  if (nr == 0 || nc == 0) {
    memset(z, 0, rows * n * sizeof *z);
    return NSLM_OK;
  }
  /* One buffer: W[R, S] (nr x nc), A[S, :] (nc x n), Z[R, :] (nr x n). */
  size_t lw = nr * nc, la = nc * n, lz = nr * n;
  int st = ws_reserve(ws, lw + la + lz);
  if (st) return st;
  double *wc = ws->buf, *ac = wc + lw, *zc = ac + la;
  for (size_t r = 0; r < nr; r++) {
    const double *x = s->w + s->row[r] * k;
    double *y = wc + r * nc;
    for (size_t c = 0; c < nc; c++) y[c] = x[s->col[c]];
  }
  for (size_t c = 0; c < nc; c++) memcpy(ac + c * n, a + s->col[c] * n, n * sizeof *ac);
  nslmi_gemm(0, 0, nr, n, nc, 1.0, wc, (ptrdiff_t)nc, 1, ac, (ptrdiff_t)n, 1, 0.0, zc,
             (ptrdiff_t)n, 1, nslmi_gemm_threads(nslmi_net_threads(net), nr, n, nc));
  size_t r2 = 0;
  for (size_t r = 0; r < rows; r++) {
    if (r2 < nr && s->row[r2] == r) memcpy(z + r * n, zc + r2++ * n, n * sizeof *z);
    else memset(z + r * n, 0, n * sizeof *z);
  }
  if (flops) *flops += 2.0 * (double)nr * (double)nc * (double)n;
  return NSLM_OK;
}
