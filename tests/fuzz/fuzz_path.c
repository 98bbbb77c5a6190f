/* fuzz_path.c - libFuzzer target for the path loader (nslm_path_load's
 * checks on an .npz held in memory).  A file that loads must be a usable
 * path: every knot is read back, the masks agree with the knots, and the
 * path survives clone and reverse.  Built with
 * FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION the loader skips its checksum
 * (and the .npz reader its member CRCs) so that mutations reach the
 * semantic checks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nslm.h"
#include "path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  nslm_path *p = NULL;
  if (nslmi_path_load_mem(&p, data, size) != NSLM_OK) {
    if (p != NULL) abort(); /* *out must be NULL on failure */
    return 0;
  }
  size_t N = nslm_path_num_knots(p), l = p->depth;
  if (N < 1 || l < 1) abort();
  nslm_net *net = NULL;
  nslm_params *k = NULL;
  if (nslm_net_create(&net, l, p->widths) != NSLM_OK || nslm_params_create(&k, net) != NSLM_OK)
    goto done; /* out of memory for a large (valid) path: fine */
  volatile double sink = 0;
  for (size_t i = 0; i < N; i++) {
    if (nslm_path_get_knot(p, i, k) != NSLM_OK) abort();
    for (size_t j = 0; j <= l; j++) {
      const double *w = nslmi_path_layer(p, i, j);
      size_t sz = p->widths[j + 1] * p->widths[j];
      for (size_t q = 0; q < sz; q++) sink += w[q];
      /* A layer marked changed differs from the previous knot's. */
      if (i > 0 && nslmi_path_changed(p, i - 1, j) &&
          memcmp(w, nslmi_path_layer(p, i - 1, j), sz * sizeof *w) == 0)
        abort();
    }
  }
  nslm_path *c = NULL, *r = NULL;
  if (nslm_path_clone(&c, p) == NSLM_OK && nslm_path_reverse(&r, c) == NSLM_OK &&
      nslm_path_num_knots(r) != N)
    abort();
  nslm_path_destroy(c);
  nslm_path_destroy(r);
  (void)sink;
done:
  nslm_params_destroy(k);
  nslm_net_destroy(net);
  nslm_path_destroy(p);
  return 0;
}
