/* fuzz_npy.c - libFuzzer target for the .npy reader (nslm_npy_read's code
 * path, on a memory buffer).  Invariants checked (abort = finding):
 *  - a successful size query is followed by a successful read of exactly
 *    that size, and the shape is bounded by the input (>= 4 bytes/element);
 *  - what was read, written back with numpy's header and read again, is
 *    the same bits. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nslm.h"
#include "npz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t r = 0, c = 0;
  if (nslmi_npy_read_mem(data, size, NULL, 0, &r, &c) != NSLM_OK) return 0;
  size_t n = r * c;
  if (c != 0 && n / c != r) abort();
  if (n > size / 4) abort();
  double *a = malloc((n ? n : 1) * sizeof *a);
  size_t r2 = 0, c2 = 0;
  if (a == NULL) return 0;
  if (nslmi_npy_read_mem(data, size, a, n, &r2, &c2) != NSLM_OK || r2 != r || c2 != c) abort();
  /* Re-encode as numpy would and read back. */
  unsigned char head[NSLMI_NPY_HEADER_CAP];
  size_t shape[2] = {r, c};
  size_t hl = nslmi_npy_header(head, sizeof head, 0, 2, shape);
  if (hl == 0) abort();
  unsigned char *buf = malloc(hl + n * 8);
  double *b = malloc((n ? n : 1) * sizeof *b);
  if (buf && b) {
    memcpy(buf, head, hl);
    for (size_t i = 0; i < n; i++) {
      uint64_t u;
      memcpy(&u, &a[i], 8);
      for (int k = 0; k < 8; k++) buf[hl + 8 * i + (size_t)k] = (unsigned char)(u >> (8 * k));
    }
    if (nslmi_npy_read_mem(buf, hl + n * 8, b, n, &r2, &c2) != NSLM_OK || r2 != r || c2 != c ||
        (n && memcmp(a, b, n * sizeof *a) != 0))
      abort();
  }
  free(buf);
  free(b);
  free(a);
  return 0;
}
