/* fuzz_npz.c - libFuzzer target for the .npz reader (zip central
 * directory, stored and deflated members, zip64, the .npy members) and for
 * building a parameter set from an archive (nslm_params_load's code path),
 * on a memory buffer.  Every element of every array is read (ASan checks
 * the bounds); the decoded size is checked against the deflate bound.
 * Built with FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION the reader skips the
 * CRC comparison so that mutations reach the members' contents. */
#include <stdint.h>
#include <stdlib.h>

#include "nslm.h"
#include "npz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  nslmi_npz *z = NULL;
  if (nslmi_npz_load_mem(&z, data, size) != NSLM_OK) {
    if (z != NULL) abort(); /* *out must be NULL on failure */
    return 0;
  }
  volatile double sink = 0;
  uint64_t bytes = 0;
  for (size_t i = 0; i < nslmi_npz_count(z); i++) {
    const nslmi_npz_array *a = nslmi_npz_get(z, i);
    if (a == NULL || a->name == NULL || (a->ndim != 1 && a->ndim != 2)) abort();
    size_t n = a->shape[0] * a->shape[1];
    for (size_t k = 0; k < n; k++) sink += a->is_int ? (double)a->i64[k] : a->f64[k];
    bytes += (uint64_t)n * 4; /* at least 4 bytes per element in the file */
  }
  if (bytes > (uint64_t)size * 1032u + 65536u * nslmi_npz_count(z)) abort();
  nslm_params *p = NULL;
  if (nslmi_params_from_npz(&p, z) == NSLM_OK) nslm_params_destroy(p);
  else if (p != NULL) abort();
  nslmi_npz_free(z);
  (void)sink;
  return 0;
}
