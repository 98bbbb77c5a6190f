/* npz.h - .npy headers and .npz archives (zip of .npy members), for the
 * modules that save several named arrays (parameter sets, paths). */
#ifndef NSLM_LIB_NPZ_H
#define NSLM_LIB_NPZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nslm.h"

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

/* ---- Extensions (compatible with the above) ---------------------------- */

/* Adds an array without copying it: data must stay valid and unchanged
 * until the archive is saved and freed (used to save large parameter sets
 * without a second copy). */
int nslmi_npz_add_f64_ref(nslmi_npz *z, const char *name, size_t ndim, const size_t *shape,
                          const double *data);
int nslmi_npz_add_i64_ref(nslmi_npz *z, const char *name, size_t ndim, const size_t *shape,
                          const int64_t *data);
/* nslmi_npz_save with flags: NSLMI_NPZ_FORCE_ZIP64 writes zip64 extra
 * fields and the zip64 end records even when no size needs them (tests
 * the > 4 GiB layout on small files). */
enum { NSLMI_NPZ_FORCE_ZIP64 = 1 };
int nslmi_npz_save_flags(const nslmi_npz *z, const char *path, unsigned flags);
/* Parses an archive held in memory (the fuzz targets use it). */
int nslmi_npz_load_mem(nslmi_npz **out, const void *buf, size_t len);

/* A parameter set from an archive: arrays layer_0..layer_l, or numpy's
 * default names arr_0..arr_l; 2-D float, shapes chaining, finite. */
int nslmi_params_from_npz(nslm_params **out, const nslmi_npz *z);

/* ---- .npy format (lib/npy.c) -------------------------------------------- */

/* Limits of the reader (named so that the man pages can quote them). */
#define NSLMI_NPY_MAX_HEADER 65536u   /* bytes of header text (numpy's own default is 10000) */
#define NSLMI_NPY_MAX_NDIM 32u        /* numpy 1.x's NPY_MAXDIMS; only 1 and 2 are accepted */
/* Largest header nslmi_npy_header() writes (2-D shape, numpy's padding). */
#define NSLMI_NPY_HEADER_CAP 256u

/* A byte stream: read() delivers exactly len bytes or returns
 * NSLM_ERR_FORMAT (the data ends early or is corrupt), NSLM_ERR_IO or
 * NSLM_ERR_NOMEM, with the detail recorded. */
typedef struct nslmi_reader nslmi_reader;
struct nslmi_reader {
  int (*read)(nslmi_reader *self, void *buf, size_t len);
};

/* What an .npy header says, checked against the bytes available. */
typedef struct {
  int is_int;          /* 'i' (int32/int64) or 'f' (float32/float64) */
  size_t itemsize;     /* 4 or 8 */
  int big_endian;      /* byte order of the data in the file */
  int fortran_order;
  size_t ndim;         /* 1 or 2 (others are rejected) */
  size_t shape[2];     /* shape[1] = 1 when ndim == 1 */
  uint64_t header_bytes, data_bytes; /* header_bytes + data_bytes == total */
} nslmi_npy_info;

/* Reads the magic, version (1.0, 2.0, 3.0) and header dict from r and
 * checks them against total, the byte count of the whole .npy (file or
 * archive member): NSLM_ERR_FORMAT unless header + data fill it exactly.
 * Allocates only the header text (bounded by NSLMI_NPY_MAX_HEADER and by
 * total), freed before returning. */
int nslmi_npy_read_header(nslmi_reader *r, uint64_t total, nslmi_npy_info *info);
/* Reads the data after the header into dst (shape[0]*shape[1] elements,
 * C order), converting float32 -> float64 / int32 -> int64, byte order and
 * Fortran order.  Float data only for _f64, integer data only for _i64. */
int nslmi_npy_read_f64(nslmi_reader *r, const nslmi_npy_info *info, double *dst);
int nslmi_npy_read_i64(nslmi_reader *r, const nslmi_npy_info *info, int64_t *dst);
/* Writes numpy's own v1.0 header for a little-endian C-order float64
 * ('<f8') or int64 ('<i8') array of 1 or 2 dims into buf (cap >=
 * NSLMI_NPY_HEADER_CAP): byte-identical to numpy.save's.  Returns its
 * length (a multiple of 64), 0 if it does not fit. */
size_t nslmi_npy_header(unsigned char *buf, size_t cap, int is_int, size_t ndim,
                        const size_t *shape);
/* nslm_npy_read on a buffer in memory (the fuzz targets use it). */
int nslmi_npy_read_mem(const void *buf, size_t len, double *a, size_t cap, size_t *rows,
                       size_t *cols);

/* ---- Files: random-access sources and atomic writers (lib/npy.c) -------- */

/* A regular file or a memory buffer, read at offsets. */
typedef struct {
  FILE *f;
  const unsigned char *mem;
  uint64_t size, pos;
  const char *path; /* for messages; not owned */
} nslmi_source;

/* NSLM_ERR_IO (with the OS reason) if path cannot be opened or is not a
 * regular file. */
int nslmi_source_open(nslmi_source *s, const char *path);
void nslmi_source_mem(nslmi_source *s, const void *buf, size_t len);
/* Exactly len bytes at off: NSLM_ERR_FORMAT past the end, NSLM_ERR_IO. */
int nslmi_source_read_at(nslmi_source *s, uint64_t off, void *buf, size_t len);
void nslmi_source_close(nslmi_source *s);

/* Streaming atomic replacement of a file: a temporary file beside the
 * destination (symbolic links are followed; an existing destination must
 * be a regular file), written, fflush'ed, fsync'ed, closed and renamed by
 * commit.  The first failure is sticky: later writes return it, and commit
 * then removes the temporary file and returns it.  commit and abort free
 * the writer; abort removes the temporary file. */
typedef struct nslmi_atomic nslmi_atomic;
int nslmi_atomic_open(nslmi_atomic **out, const char *path);
int nslmi_atomic_write(nslmi_atomic *w, const void *buf, size_t len);
uint64_t nslmi_atomic_offset(const nslmi_atomic *w); /* bytes written so far */
int nslmi_atomic_commit(nslmi_atomic *w);
void nslmi_atomic_abort(nslmi_atomic *w);

/* I/O fault injection (tests only, per thread), like nslmi_alloc_fail_after:
 * operation number k (0-based, counted from this call) of the file layer
 * fails - open, write (as a short write with ENOSPC), fflush, fsync, close,
 * rename, and each read - and with persistent != 0 every later one too.
 * k < 0 disables. */
void nslmi_io_fail_after(long k, int persistent);
long nslmi_io_count(void);

#endif
