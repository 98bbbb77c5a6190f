/* npz.h - .npy headers and .npz archives (zip of .npy members), for the
 * modules that save several named arrays (parameter sets, paths). */
#ifndef NSLM_LIB_NPZ_H
#define NSLM_LIB_NPZ_H

#include <stddef.h>
#include <stdint.h>

/* An array read from or written to an archive: float64 (dtype 'f8') or
 * int64 (dtype 'i8'); ndim 1 or 2; data C-order, owned by the archive. */
typedef struct {
  char *name;      /* member name without ".npy" */
  int is_int;      /* 1: int64 data in i64, else float64 in f64 */
  size_t ndim;     /* 1 or 2 */
  size_t shape[2]; /* shape[1] = 1 when ndim == 1 */
  double *f64;
  int64_t *i64;
} nslmi_npz_array;

typedef struct nslmi_npz nslmi_npz;

/* Writing: create, add arrays (copied), then save atomically. */
int nslmi_npz_create(nslmi_npz **out);
int nslmi_npz_add_f64(nslmi_npz *z, const char *name, size_t ndim, const size_t *shape,
                      const double *data);
int nslmi_npz_add_i64(nslmi_npz *z, const char *name, size_t ndim, const size_t *shape,
                      const int64_t *data);
int nslmi_npz_save(const nslmi_npz *z, const char *path);
/* Reading: every member is parsed and validated (stored or deflated,
 * zip64 accepted; float32 promoted to float64; Fortran order made C). */
int nslmi_npz_load(nslmi_npz **out, const char *path);
size_t nslmi_npz_count(const nslmi_npz *z);
const nslmi_npz_array *nslmi_npz_get(const nslmi_npz *z, size_t i);
const nslmi_npz_array *nslmi_npz_find(const nslmi_npz *z, const char *name);
void nslmi_npz_free(nslmi_npz *z);

/* Atomic file replacement used by every save: writes len bytes of buf to
 * a temporary file beside path, fflush + fsync, rename.  NSLM_ERR_IO with
 * the OS reason on failure; the old file is intact. */
int nslmi_write_file_atomic(const char *path, const void *buf, size_t len);

#endif
