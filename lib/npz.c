/* npz.c - .npz archives: zip files whose members are .npy arrays.
 *
 * Reading goes through the central directory (APPNOTE.TXT 4.3.12-4.3.16),
 * accepts stored (method 0) and deflated (method 8) members and zip64
 * records (numpy writes zip64 extra fields), checks every CRC-32, and
 * rejects hostile archives before allocating for them: sizes and offsets
 * are checked against the file size, members may not overlap each other or
 * the central directory, and a deflated member may not claim more than
 * NPZ_MAX_INFLATE_RATIO times its compressed size.
 *
 * Writing produces stored members with CRC-32 (what numpy.savez writes),
 * zip64 records only where a size or offset needs them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "alloc.h"
#include "npz.h"
#include "status.h"

/* Deflate cannot expand a byte of input into more than 1032 bytes of
 * output (258-byte matches coded in 2 bits); a member claiming more is
 * hostile.  The constant term covers block headers of tiny streams. */
#define NPZ_MAX_INFLATE_RATIO 1032u
#define NPZ_INFLATE_SLACK 65536u

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOCATOR64 0x07064b50u
#define LOCAL_SIZE 30u
#define CENTRAL_SIZE 46u
#define EOCD_SIZE 22u
#define EOCD64_SIZE 56u
#define LOCATOR64_SIZE 20u
#define U32_SAT 0xffffffffu
#define U16_SAT 0xffffu

struct nslmi_npz {
  size_t n, cap;
  nslmi_npz_array *a;
  unsigned char *owned; /* owned[i]: the archive frees a[i]'s data */
};

/* ======================================================================
 * The array set
 * ====================================================================== */

int nslmi_npz_create(nslmi_npz **out) {
  NSLMI_CHECK_NULL(out);
  *out = nslmi_calloc(1, sizeof **out);
  return *out ? NSLM_OK : NSLMI_FAIL(NSLM_ERR_NOMEM, "archive");
}

void nslmi_npz_free(nslmi_npz *z) {
  if (z == NULL) return;
  for (size_t i = 0; i < z->n; i++) {
    nslmi_free(z->a[i].name);
    if (z->owned[i]) {
      nslmi_free(z->a[i].f64);
      nslmi_free(z->a[i].i64);
    }
  }
  nslmi_free(z->a);
  nslmi_free(z->owned);
  nslmi_free(z);
}

size_t nslmi_npz_count(const nslmi_npz *z) { return z ? z->n : 0; }

const nslmi_npz_array *nslmi_npz_get(const nslmi_npz *z, size_t i) {
  return z && i < z->n ? &z->a[i] : NULL;
}

const nslmi_npz_array *nslmi_npz_find(const nslmi_npz *z, const char *name) {
  if (z == NULL || name == NULL) return NULL;
  for (size_t i = 0; i < z->n; i++)
    if (strcmp(z->a[i].name, name) == 0) return &z->a[i];
  return NULL;
}

/* Room for one more array. */
static int reserve(nslmi_npz *z) {
  if (z->n < z->cap) return NSLM_OK;
  size_t cap = z->cap ? 2 * z->cap : 8;
  if (cap > SIZE_MAX / sizeof *z->a) return NSLMI_FAIL(NSLM_ERR_NOMEM, "too many arrays");
  nslmi_npz_array *a = nslmi_realloc(z->a, cap * sizeof *a);
  if (a == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "array list");
  z->a = a;
  unsigned char *o = nslmi_realloc(z->owned, cap);
  if (o == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "array list");
  z->owned = o;
  z->cap = cap;
  return NSLM_OK;
}

static int add(nslmi_npz *z, const char *name, size_t ndim, const size_t *shape, const void *data,
               int is_int, int copy, const char *func) {
  if (z == NULL || name == NULL || shape == NULL || data == NULL)
    return nslmi_fail(NSLM_ERR_INVALID, func, "%s is NULL",
                      z == NULL ? "z" : name == NULL ? "name" : shape == NULL ? "shape" : "data");
  size_t nl = strlen(name);
  if (nl == 0 || nl > 1024) return nslmi_fail(NSLM_ERR_INVALID, func, "name length %zu", nl);
  if (ndim != 1 && ndim != 2) return nslmi_fail(NSLM_ERR_INVALID, func, "ndim %zu", ndim);
  if (nslmi_npz_find(z, name)) return nslmi_fail(NSLM_ERR_INVALID, func, "duplicate name '%s'", name);
  size_t rows = shape[0], cols = ndim == 2 ? shape[1] : 1;
  if (cols != 0 && rows > SIZE_MAX / 8 / cols)
    return nslmi_fail(NSLM_ERR_DIMENSION, func, "'%s' is too large", name);
  int st = reserve(z);
  if (st) return st;
  nslmi_npz_array *a = &z->a[z->n];
  memset(a, 0, sizeof *a);
  a->name = nslmi_malloc(nl + 1);
  if (a->name == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "name");
  memcpy(a->name, name, nl + 1);
  void *d = (void *)(uintptr_t)data;
  if (copy) {
    d = nslmi_malloc_array(rows * cols, 8);
    if (d == NULL) {
      nslmi_free(a->name);
      return NSLMI_FAIL(NSLM_ERR_NOMEM, "'%s' data", name);
    }
    if (rows * cols != 0) memcpy(d, data, rows * cols * 8);
  }
  a->is_int = is_int;
  a->ndim = ndim;
  a->shape[0] = rows;
  a->shape[1] = cols;
  if (is_int) a->i64 = d;
  else a->f64 = d;
  z->owned[z->n++] = (unsigned char)copy;
  return NSLM_OK;
}

int nslmi_npz_add_f64(nslmi_npz *z, const char *name, size_t ndim, const size_t *shape,
                      const double *data) {
  return add(z, name, ndim, shape, data, 0, 1, __func__);
}
int nslmi_npz_add_i64(nslmi_npz *z, const char *name, size_t ndim, const size_t *shape,
                      const int64_t *data) {
  return add(z, name, ndim, shape, data, 1, 1, __func__);
}
int nslmi_npz_add_f64_ref(nslmi_npz *z, const char *name, size_t ndim, const size_t *shape,
                          const double *data) {
  return add(z, name, ndim, shape, data, 0, 0, __func__);
}
int nslmi_npz_add_i64_ref(nslmi_npz *z, const char *name, size_t ndim, const size_t *shape,
                          const int64_t *data) {
  return add(z, name, ndim, shape, data, 1, 0, __func__);
}

/* ======================================================================
 * Writing
 * ====================================================================== */

static void put16(unsigned char *p, unsigned v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
}
static void put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Streams an array's little-endian bytes in chunks to crc or to the writer. */
static int emit_data(const nslmi_npz_array *a, uint32_t *crc, nslmi_atomic *w) {
  unsigned char buf[8192];
  size_t n = a->shape[0] * a->shape[1], fill = 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t u;
    if (a->is_int) memcpy(&u, &a->i64[i], 8);
    else memcpy(&u, &a->f64[i], 8);
    put64(buf + fill, u);
    fill += 8;
    if (fill == sizeof buf || i + 1 == n) {
      if (crc) *crc = (uint32_t)crc32(*crc, buf, (uInt)fill);
      if (w) {
        int st = nslmi_atomic_write(w, buf, fill);
        if (st) return st;
      }
      fill = 0;
    }
  }
  return NSLM_OK;
}

typedef struct {
  uint64_t offset, size;
  uint32_t crc;
} written;

/* Fixed date of every member (1980-01-01 00:00): saves are reproducible. */
#define DOS_DATE 0x0021u
#define DOS_TIME 0x0000u

int nslmi_npz_save_flags(const nslmi_npz *z, const char *path, unsigned flags) {
  NSLMI_CHECK_NULL(z);
  NSLMI_CHECK_NULL(path);
  int force = (flags & NSLMI_NPZ_FORCE_ZIP64) != 0;
  written *rec = nslmi_calloc(z->n, sizeof *rec);
  if (rec == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "archive directory");
  nslmi_atomic *w;
  int st = nslmi_atomic_open(&w, path);
  if (st) {
    nslmi_free(rec);
    return st;
  }
  unsigned char hdr[64], npyh[NSLMI_NPY_HEADER_CAP];
  for (size_t i = 0; i < z->n && st == NSLM_OK; i++) {
    const nslmi_npz_array *a = &z->a[i];
    size_t hl = nslmi_npy_header(npyh, sizeof npyh, a->is_int, a->ndim, a->shape);
    if (hl == 0) {
      st = NSLMI_FAIL(NSLM_ERR_DIMENSION, "header of '%s' does not fit", a->name);
      break;
    }
    uint32_t crc = (uint32_t)crc32(0, npyh, (uInt)hl);
    emit_data(a, &crc, NULL);
    size_t nl = strlen(a->name) + 4;
    uint64_t size = hl + (uint64_t)a->shape[0] * a->shape[1] * 8;
    rec[i].offset = nslmi_atomic_offset(w);
    rec[i].size = size;
    rec[i].crc = crc;
    int z64 = force || size >= U32_SAT;
    int utf8 = 0;
    for (const char *p = a->name; *p; p++) utf8 |= (unsigned char)*p >= 0x80;
    put32(hdr, SIG_LOCAL);
    put16(hdr + 4, z64 ? 45 : 20);
    put16(hdr + 6, utf8 ? 0x800 : 0);
    put16(hdr + 8, 0); /* stored */
    put16(hdr + 10, DOS_TIME);
    put16(hdr + 12, DOS_DATE);
    put32(hdr + 14, crc);
    put32(hdr + 18, z64 ? U32_SAT : (uint32_t)size);
    put32(hdr + 22, z64 ? U32_SAT : (uint32_t)size);
    put16(hdr + 26, (unsigned)nl);
    put16(hdr + 28, z64 ? 20 : 0);
    nslmi_atomic_write(w, hdr, LOCAL_SIZE);
    nslmi_atomic_write(w, a->name, nl - 4);
    nslmi_atomic_write(w, ".npy", 4);
    if (z64) {
      put16(hdr, 1);
      put16(hdr + 2, 16);
      put64(hdr + 4, size);
      put64(hdr + 12, size);
      nslmi_atomic_write(w, hdr, 20);
    }
    nslmi_atomic_write(w, npyh, hl);
    st = emit_data(a, NULL, w);
  }
  uint64_t cd_off = nslmi_atomic_offset(w);
  for (size_t i = 0; i < z->n && st == NSLM_OK; i++) {
    const nslmi_npz_array *a = &z->a[i];
    size_t nl = strlen(a->name) + 4;
    int zs = force || rec[i].size >= U32_SAT, zo = force || rec[i].offset >= U32_SAT;
    int utf8 = 0;
    for (const char *p = a->name; *p; p++) utf8 |= (unsigned char)*p >= 0x80;
    unsigned xl = (zs || zo) ? 4u + (zs ? 16u : 0u) + (zo ? 8u : 0u) : 0u;
    put32(hdr, SIG_CENTRAL);
    put16(hdr + 4, (3u << 8) | ((zs || zo) ? 45u : 20u)); /* made by Unix */
    put16(hdr + 6, (zs || zo) ? 45 : 20);
    put16(hdr + 8, utf8 ? 0x800 : 0);
    put16(hdr + 10, 0);
    put16(hdr + 12, DOS_TIME);
    put16(hdr + 14, DOS_DATE);
    put32(hdr + 16, rec[i].crc);
    put32(hdr + 20, zs ? U32_SAT : (uint32_t)rec[i].size);
    put32(hdr + 24, zs ? U32_SAT : (uint32_t)rec[i].size);
    put16(hdr + 28, (unsigned)nl);
    put16(hdr + 30, xl);
    put16(hdr + 32, 0); /* comment */
    put16(hdr + 34, 0); /* disk */
    put16(hdr + 36, 0); /* internal attributes */
    put32(hdr + 38, (uint32_t)0100644u << 16); /* regular file, rw-r--r-- */
    put32(hdr + 42, zo ? U32_SAT : (uint32_t)rec[i].offset);
    nslmi_atomic_write(w, hdr, CENTRAL_SIZE);
    nslmi_atomic_write(w, a->name, nl - 4);
    nslmi_atomic_write(w, ".npy", 4);
    if (xl) {
      unsigned char x[28], *p = x + 4;
      put16(x, 1);
      put16(x + 2, xl - 4);
      if (zs) {
        put64(p, rec[i].size);
        put64(p + 8, rec[i].size);
        p += 16;
      }
      if (zo) put64(p, rec[i].offset);
      nslmi_atomic_write(w, x, xl);
    }
  }
  uint64_t cd_end = nslmi_atomic_offset(w), cd_size = cd_end - cd_off;
  int z64 = force || z->n >= U16_SAT || cd_off >= U32_SAT || cd_size >= U32_SAT;
  if (st == NSLM_OK && z64) {
    put32(hdr, SIG_EOCD64);
    put64(hdr + 4, EOCD64_SIZE - 12);
    put16(hdr + 12, (3u << 8) | 45u);
    put16(hdr + 14, 45);
    put32(hdr + 16, 0);
    put32(hdr + 20, 0);
    put64(hdr + 24, z->n);
    put64(hdr + 32, z->n);
    put64(hdr + 40, cd_size);
    put64(hdr + 48, cd_off);
    nslmi_atomic_write(w, hdr, EOCD64_SIZE);
    put32(hdr, SIG_LOCATOR64);
    put32(hdr + 4, 0);
    put64(hdr + 8, cd_end);
    put32(hdr + 16, 1);
    nslmi_atomic_write(w, hdr, LOCATOR64_SIZE);
  }
  if (st == NSLM_OK) {
    put32(hdr, SIG_EOCD);
    put16(hdr + 4, 0);
    put16(hdr + 6, 0);
    put16(hdr + 8, z64 ? U16_SAT : (unsigned)z->n);
    put16(hdr + 10, z64 ? U16_SAT : (unsigned)z->n);
    put32(hdr + 12, z64 ? U32_SAT : (uint32_t)cd_size);
    put32(hdr + 16, z64 ? U32_SAT : (uint32_t)cd_off);
    put16(hdr + 20, 0);
    nslmi_atomic_write(w, hdr, EOCD_SIZE);
  }
  nslmi_free(rec);
  if (st) {
    nslmi_atomic_abort(w);
    return st;
  }
  return nslmi_atomic_commit(w);
}

int nslmi_npz_save(const nslmi_npz *z, const char *path) { return nslmi_npz_save_flags(z, path, 0); }

/* ======================================================================
 * Reading
 * ====================================================================== */

static unsigned get16(const unsigned char *p) { return (unsigned)p[0] | ((unsigned)p[1] << 8); }
static uint32_t get32(const unsigned char *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint64_t get64(const unsigned char *p) {
  return (uint64_t)get32(p) | ((uint64_t)get32(p + 4) << 32);
}

/* One member, from the central directory. */
typedef struct {
  const unsigned char *name; /* in the central directory buffer, without ".npy" */
  size_t nlen;
  unsigned method;
  uint32_t crc;
  uint64_t csize, usize, lho, data;
} entry;

/* Reader of a stored member, with its CRC. */
typedef struct {
  nslmi_reader base;
  nslmi_source *src;
  uint64_t off, end;
  uint32_t crc;
} stored_reader;

static int stored_read(nslmi_reader *self, void *buf, size_t len) {
  stored_reader *r = (stored_reader *)self;
  if (len > r->end - r->off) return NSLMI_FAIL(NSLM_ERR_FORMAT, "member data ends early");
  int st = nslmi_source_read_at(r->src, r->off, buf, len);
  if (st) return st;
  r->off += len;
  r->crc = (uint32_t)crc32(r->crc, buf, (uInt)len);
  return NSLM_OK;
}

/* Reader of a deflated member: raw inflate, output bounded by the caller
 * (the .npy header says how much to read), CRC over the output. */
typedef struct {
  nslmi_reader base;
  nslmi_source *src;
  uint64_t in_off, in_end;
  z_stream zs;
  int ended;
  uint32_t crc;
  unsigned char in[16384];
} inflate_reader;

/* zlib allocates through the library's allocator (fault injection). */
static voidpf z_alloc(voidpf opaque, uInt items, uInt size) {
  (void)opaque;
  return nslmi_malloc_array(items, size);
}
static void z_free(voidpf opaque, voidpf p) {
  (void)opaque;
  nslmi_free(p);
}

static int inflate_step(inflate_reader *r) {
  if (r->zs.avail_in == 0 && r->in_off < r->in_end) {
    uint64_t left = r->in_end - r->in_off;
    size_t n = left < sizeof r->in ? (size_t)left : sizeof r->in;
    int st = nslmi_source_read_at(r->src, r->in_off, r->in, n);
    if (st) return st;
    r->in_off += n;
    r->zs.next_in = r->in;
    r->zs.avail_in = (uInt)n;
  }
  int ret = inflate(&r->zs, Z_NO_FLUSH);
  if (ret == Z_STREAM_END) {
    r->ended = 1;
    return NSLM_OK;
  }
  if (ret == Z_OK) return NSLM_OK;
  if (ret == Z_MEM_ERROR) return NSLMI_FAIL(NSLM_ERR_NOMEM, "inflate");
  if (ret == Z_BUF_ERROR) return NSLMI_FAIL(NSLM_ERR_FORMAT, "deflated member is truncated");
  return NSLMI_FAIL(NSLM_ERR_FORMAT, "corrupt deflated member (%s)", r->zs.msg ? r->zs.msg : "?");
}

static int inflate_read(nslmi_reader *self, void *buf, size_t len) {
  inflate_reader *r = (inflate_reader *)self;
  unsigned char *out = buf;
  size_t left = len;
  while (left > 0) {
    if (r->ended) return NSLMI_FAIL(NSLM_ERR_FORMAT, "deflated member is shorter than declared");
    uInt chunk = left > (1u << 30) ? (1u << 30) : (uInt)left;
    r->zs.next_out = out;
    r->zs.avail_out = chunk;
    int st = inflate_step(r);
    size_t got = chunk - r->zs.avail_out;
    out += got;
    left -= got;
    if (st) return st;
  }
  r->crc = (uint32_t)crc32(r->crc, buf, (uInt)len);
  return NSLM_OK;
}

/* After the declared output: the stream must end there and use exactly
 * the member's compressed bytes. */
static int inflate_finish(inflate_reader *r, uint64_t csize) {
  unsigned char extra;
  while (!r->ended) {
    r->zs.next_out = &extra;
    r->zs.avail_out = 1;
    int st = inflate_step(r);
    if (st) return st;
    if (r->zs.avail_out == 0)
      return NSLMI_FAIL(NSLM_ERR_FORMAT, "deflated member is longer than declared");
  }
  if ((uint64_t)r->zs.total_in != csize)
    return NSLMI_FAIL(NSLM_ERR_FORMAT, "deflated member has trailing bytes");
  return NSLM_OK;
}

/* Decodes one member into a (name set by the caller). */
static int read_member(nslmi_source *src, const entry *e, nslmi_npz_array *a) {
  stored_reader sr = {{stored_read}, src, e->data, e->data + e->csize, 0};
  inflate_reader *ir = NULL;
  nslmi_reader *r = &sr.base;
  int st = NSLM_OK;
  if (e->method == 8) {
    ir = nslmi_calloc(1, sizeof *ir);
    if (ir == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "inflate state");
    ir->base.read = inflate_read;
    ir->src = src;
    ir->in_off = e->data;
    ir->in_end = e->data + e->csize;
    ir->zs.zalloc = z_alloc;
    ir->zs.zfree = z_free;
    int ret = inflateInit2(&ir->zs, -MAX_WBITS);
    if (ret != Z_OK) {
      nslmi_free(ir);
      return ret == Z_MEM_ERROR ? NSLMI_FAIL(NSLM_ERR_NOMEM, "inflate state")
                                : NSLMI_FAIL(NSLM_ERR_FORMAT, "inflateInit2 failed");
    }
    r = &ir->base;
  }
  nslmi_npy_info info;
  st = nslmi_npy_read_header(r, e->usize, &info);
  if (st == NSLM_OK) {
    size_t n = info.shape[0] * info.shape[1];
    void *d = nslmi_malloc_array(n, 8);
    if (d == NULL) st = NSLMI_FAIL(NSLM_ERR_NOMEM, "%zu x %zu array", info.shape[0], info.shape[1]);
    else if (info.is_int) st = nslmi_npy_read_i64(r, &info, (a->i64 = d));
    else st = nslmi_npy_read_f64(r, &info, (a->f64 = d));
    a->is_int = info.is_int;
    a->ndim = info.ndim;
    a->shape[0] = info.shape[0];
    a->shape[1] = info.shape[1];
  }
  if (st == NSLM_OK && ir) st = inflate_finish(ir, e->csize);
  uint32_t crc = ir ? ir->crc : sr.crc;
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION /* fuzzers cannot fix up CRCs */
  if (st == NSLM_OK && crc != e->crc)
#else
  if (st == NSLM_OK && crc != e->crc && 0)
#endif
    st = NSLMI_FAIL(NSLM_ERR_FORMAT, "CRC-32 mismatch in member '%.*s.npy'", (int)e->nlen, e->name);
  if (ir) {
    inflateEnd(&ir->zs);
    nslmi_free(ir);
  }
  return st;
}

static int cmp_offset(const void *x, const void *y) {
  const entry *a = *(const entry *const *)x, *b = *(const entry *const *)y;
  return a->lho < b->lho ? -1 : a->lho > b->lho;
}

static int cmp_name(const void *x, const void *y) {
  const entry *a = *(const entry *const *)x, *b = *(const entry *const *)y;
  size_t n = a->nlen < b->nlen ? a->nlen : b->nlen;
  int c = memcmp(a->name, b->name, n);
  return c ? c : (a->nlen < b->nlen ? -1 : a->nlen > b->nlen);
}

/* The end records: central directory offset, size and entry count. */
static int find_directory(nslmi_source *src, uint64_t *cd_off, uint64_t *cd_size, uint64_t *count) {
  uint64_t size = src->size;
  if (size < EOCD_SIZE) return NSLMI_FAIL(NSLM_ERR_FORMAT, "too short for a zip archive");
  size_t tail = (size_t)(size < EOCD_SIZE + 65535u ? size : EOCD_SIZE + 65535u);
  unsigned char *buf = nslmi_malloc(tail);
  if (buf == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "zip end records");
  int st = nslmi_source_read_at(src, size - tail, buf, tail);
  if (st) {
    nslmi_free(buf);
    return st;
  }
  /* The last end record whose comment reaches exactly to the end. */
  size_t pos = tail - EOCD_SIZE + 1;
  int found = 0;
  while (pos-- > 0)
    if (get32(buf + pos) == SIG_EOCD && get16(buf + pos + 20) == tail - pos - EOCD_SIZE) {
      found = 1;
      break;
    }
  if (!found) {
    nslmi_free(buf);
    return NSLMI_FAIL(NSLM_ERR_FORMAT, "not a zip archive (no end of central directory)");
  }
  const unsigned char *e = buf + pos;
  uint64_t eocd = size - tail + pos;
  unsigned disk = get16(e + 4), cd_disk = get16(e + 6), n_disk = get16(e + 8), n = get16(e + 10);
  uint64_t csz = get32(e + 12), coff = get32(e + 16), cd_end = eocd;
  nslmi_free(buf);
  unsigned char loc[LOCATOR64_SIZE], z[EOCD64_SIZE];
  int zip64 = 0;
  if (eocd >= LOCATOR64_SIZE) {
    st = nslmi_source_read_at(src, eocd - LOCATOR64_SIZE, loc, LOCATOR64_SIZE);
    if (st) return st;
    zip64 = get32(loc) == SIG_LOCATOR64;
  }
  if (zip64) {
    uint64_t zoff = get64(loc + 8), lim = eocd - LOCATOR64_SIZE;
    if (get32(loc + 4) != 0 || get32(loc + 16) > 1)
      return NSLMI_FAIL(NSLM_ERR_FORMAT, "multi-disk zip archives are not supported");
    if (zoff > lim || lim - zoff < EOCD64_SIZE)
      return NSLMI_FAIL(NSLM_ERR_FORMAT, "zip64 end record offset out of range");
    st = nslmi_source_read_at(src, zoff, z, EOCD64_SIZE);
    if (st) return st;
    if (get32(z) != SIG_EOCD64 || get64(z + 4) != lim - zoff - 12)
      return NSLMI_FAIL(NSLM_ERR_FORMAT, "bad zip64 end of central directory record");
    if (get32(z + 16) != 0 || get32(z + 20) != 0 || get64(z + 24) != get64(z + 32))
      return NSLMI_FAIL(NSLM_ERR_FORMAT, "multi-disk zip archives are not supported");
    if ((disk != 0 && disk != U16_SAT) || (cd_disk != 0 && cd_disk != U16_SAT))
      return NSLMI_FAIL(NSLM_ERR_FORMAT, "multi-disk zip archives are not supported");
    if ((n != U16_SAT && n != get64(z + 32)) || (csz != U32_SAT && csz != get64(z + 40)) ||
        (coff != U32_SAT && coff != get64(z + 48)))
      return NSLMI_FAIL(NSLM_ERR_FORMAT, "zip64 end record disagrees with the end record");
    *count = get64(z + 32);
    csz = get64(z + 40);
    coff = get64(z + 48);
    cd_end = zoff;
  } else {
    if (disk != 0 || cd_disk != 0 || n_disk != n)
      return NSLMI_FAIL(NSLM_ERR_FORMAT, "multi-disk zip archives are not supported");
    *count = n;
  }
  /* The central directory ends where the end records begin. */
  if (coff > cd_end || cd_end - coff != csz)
    return NSLMI_FAIL(NSLM_ERR_FORMAT, "central directory (offset %llu, size %llu) does not end at %llu",
                      (unsigned long long)coff, (unsigned long long)csz, (unsigned long long)cd_end);
  if (*count > csz / CENTRAL_SIZE)
    return NSLMI_FAIL(NSLM_ERR_FORMAT, "%llu entries cannot fit a %llu-byte central directory",
                      (unsigned long long)*count, (unsigned long long)csz);
  *cd_off = coff;
  *cd_size = csz;
  return NSLM_OK;
}

/* Parses central directory entry i at cd[*p..] into e. */
static int parse_central(const unsigned char *cd, uint64_t cd_size, uint64_t *p, entry *e) {
  if (cd_size - *p < CENTRAL_SIZE || get32(cd + *p) != SIG_CENTRAL)
    return NSLMI_FAIL(NSLM_ERR_FORMAT, "bad central directory entry at %llu", (unsigned long long)*p);
  const unsigned char *h = cd + *p;
  unsigned flags = get16(h + 8), nlen = get16(h + 28), xlen = get16(h + 30), clen = get16(h + 32);
  unsigned disk = get16(h + 34);
  if (cd_size - *p - CENTRAL_SIZE < (uint64_t)nlen + xlen + clen)
    return NSLMI_FAIL(NSLM_ERR_FORMAT, "central directory entry runs past its end");
  e->method = get16(h + 10);
  e->crc = get32(h + 16);
  e->csize = get32(h + 20);
  e->usize = get32(h + 24);
  e->lho = get32(h + 42);
  const unsigned char *name = h + CENTRAL_SIZE, *x = name + nlen;
  if (flags & 0x41) return NSLMI_FAIL(NSLM_ERR_FORMAT, "encrypted zip members are not supported");
  if (e->method != 0 && e->method != 8)
    return NSLMI_FAIL(NSLM_ERR_FORMAT, "zip compression method %u (stored or deflated only)", e->method);
  /* Zip64 extra field: 8-byte values for the saturated 32-bit fields. */
  for (unsigned q = 0; q < xlen;) {
    if (xlen - q < 4) return NSLMI_FAIL(NSLM_ERR_FORMAT, "extra field overruns its entry");
    unsigned id = get16(x + q), sz = get16(x + q + 2);
    if (xlen - q - 4 < sz) return NSLMI_FAIL(NSLM_ERR_FORMAT, "extra field overruns its entry");
    if (id == 1) {
      const unsigned char *v = x + q + 4;
      unsigned left = sz;
      uint64_t *fld[3] = {&e->usize, &e->csize, &e->lho};
      for (int f = 0; f < 3; f++)
        if (*fld[f] == U32_SAT) {
          if (left < 8) return NSLMI_FAIL(NSLM_ERR_FORMAT, "zip64 extra field too short");
          *fld[f] = get64(v);
          v += 8;
          left -= 8;
        }
      if (disk == U16_SAT) {
        if (left < 4) return NSLMI_FAIL(NSLM_ERR_FORMAT, "zip64 extra field too short");
        disk = get32(v) ? 1 : 0;
      }
    }
    q += 4 + sz;
  }
  if (disk != 0) return NSLMI_FAIL(NSLM_ERR_FORMAT, "multi-disk zip archives are not supported");
  if (nlen < 5 || memcmp(name + nlen - 4, ".npy", 4) != 0)
    return NSLMI_FAIL(NSLM_ERR_FORMAT, "member '%.*s' is not an .npy array", (int)(nlen > 200 ? 200 : nlen), name);
  if (memchr(name, 0, nlen) != NULL) return NSLMI_FAIL(NSLM_ERR_FORMAT, "member name contains NUL");
  e->name = name;
  e->nlen = nlen - 4;
  if (e->method == 0 && e->csize != e->usize)
    return NSLMI_FAIL(NSLM_ERR_FORMAT, "stored member '%.*s.npy' has different sizes", (int)e->nlen, name);
  if (e->method == 8 &&
      (e->csize > (UINT64_MAX - NPZ_INFLATE_SLACK) / NPZ_MAX_INFLATE_RATIO ||
       e->usize > e->csize * NPZ_MAX_INFLATE_RATIO + NPZ_INFLATE_SLACK))
    return NSLMI_FAIL(NSLM_ERR_FORMAT, "member '%.*s.npy' claims %llu bytes from %llu compressed",
                      (int)e->nlen, name, (unsigned long long)e->usize, (unsigned long long)e->csize);
  *p += CENTRAL_SIZE + (uint64_t)nlen + xlen + clen;
  return NSLM_OK;
}

/* Checks the local header of e (inside [0, cd_off)) and finds its data. */
static int check_local(nslmi_source *src, entry *e, uint64_t cd_off) {
  unsigned char h[LOCAL_SIZE], name[256];
  if (e->lho > cd_off || cd_off - e->lho < LOCAL_SIZE)
    return NSLMI_FAIL(NSLM_ERR_FORMAT, "member offset %llu out of range", (unsigned long long)e->lho);
  int st = nslmi_source_read_at(src, e->lho, h, LOCAL_SIZE);
  if (st) return st;
  unsigned nlen = get16(h + 26), xlen = get16(h + 28);
  if (get32(h) != SIG_LOCAL) return NSLMI_FAIL(NSLM_ERR_FORMAT, "bad local header signature");
  if (get16(h + 8) != e->method || (get16(h + 6) & 0x41))
    return NSLMI_FAIL(NSLM_ERR_FORMAT, "local header disagrees with the central directory");
  uint64_t data = e->lho + LOCAL_SIZE + nlen + xlen;
  if (data > cd_off || cd_off - data < e->csize)
    return NSLMI_FAIL(NSLM_ERR_FORMAT, "member data runs into the central directory");
  if (nlen != e->nlen + 4) return NSLMI_FAIL(NSLM_ERR_FORMAT, "local and central names differ");
  for (unsigned q = 0; q < nlen;) { /* compared in pieces: names may be 64 KiB */
    unsigned k = nlen - q < sizeof name ? nlen - q : (unsigned)sizeof name;
    st = nslmi_source_read_at(src, e->lho + LOCAL_SIZE + q, name, k);
    if (st) return st;
    if (memcmp(name, e->name + q, k) != 0)
      return NSLMI_FAIL(NSLM_ERR_FORMAT, "local and central names differ");
    q += k;
  }
  e->data = data;
  return NSLM_OK;
}

static int load_source(nslmi_npz **out, nslmi_source *src) {
  uint64_t cd_off = 0, cd_size = 0, count = 0;
  int st = find_directory(src, &cd_off, &cd_size, &count);
  if (st) return st;
  /* Both allocations are bounded by the file size (checked above). */
  unsigned char *cd = nslmi_malloc((size_t)cd_size);
  entry *ent = nslmi_calloc((size_t)count, sizeof *ent);
  entry **by = nslmi_calloc((size_t)count, sizeof *by);
  nslmi_npz *z = NULL;
  if (cd == NULL || ent == NULL || by == NULL) st = NSLMI_FAIL(NSLM_ERR_NOMEM, "central directory");
  if (st == NSLM_OK) st = nslmi_source_read_at(src, cd_off, cd, (size_t)cd_size);
  uint64_t p = 0;
  for (uint64_t i = 0; i < count && st == NSLM_OK; i++) {
    st = parse_central(cd, cd_size, &p, &ent[i]);
    if (st == NSLM_OK) st = check_local(src, &ent[i], cd_off);
    by[i] = &ent[i];
  }
  if (st == NSLM_OK && p != cd_size)
    st = NSLMI_FAIL(NSLM_ERR_FORMAT, "central directory has %llu bytes beyond its %llu entries",
                    (unsigned long long)(cd_size - p), (unsigned long long)count);
  /* No two members may share bytes (overlapping members are a zip-bomb
   * trick), nor a name. */
  if (st == NSLM_OK && count > 1) {
    qsort(by, (size_t)count, sizeof *by, cmp_offset);
    for (uint64_t i = 0; i + 1 < count && st == NSLM_OK; i++)
      if (by[i]->data + by[i]->csize > by[i + 1]->lho)
        st = NSLMI_FAIL(NSLM_ERR_FORMAT, "members at offsets %llu and %llu overlap",
                        (unsigned long long)by[i]->lho, (unsigned long long)by[i + 1]->lho);
    qsort(by, (size_t)count, sizeof *by, cmp_name);
    for (uint64_t i = 0; i + 1 < count && st == NSLM_OK; i++)
      if (cmp_name(&by[i], &by[i + 1]) == 0)
        st = NSLMI_FAIL(NSLM_ERR_FORMAT, "member '%.*s.npy' appears twice", (int)by[i]->nlen,
                        by[i]->name);
  }
  if (st == NSLM_OK) st = nslmi_npz_create(&z);
  for (uint64_t i = 0; i < count && st == NSLM_OK; i++) {
    st = reserve(z);
    if (st) break;
    nslmi_npz_array *a = &z->a[z->n];
    memset(a, 0, sizeof *a);
    a->name = nslmi_malloc(ent[i].nlen + 1);
    if (a->name == NULL) {
      st = NSLMI_FAIL(NSLM_ERR_NOMEM, "member name");
      break;
    }
    memcpy(a->name, ent[i].name, ent[i].nlen);
    a->name[ent[i].nlen] = '\0';
    z->owned[z->n++] = 1; /* counted now so that free() releases a partial member */
    st = read_member(src, &ent[i], a);
  }
  nslmi_free(cd);
  nslmi_free(ent);
  nslmi_free(by);
  if (st) {
    nslmi_npz_free(z);
    return st;
  }
  *out = z;
  return NSLM_OK;
}

int nslmi_npz_load(nslmi_npz **out, const char *path) {
  NSLMI_CHECK_NULL(out);
  *out = NULL;
  NSLMI_CHECK_NULL(path);
  nslmi_source src;
  int st = nslmi_source_open(&src, path);
  if (st) return st;
  st = load_source(out, &src);
  nslmi_source_close(&src);
  return st;
}

int nslmi_npz_load_mem(nslmi_npz **out, const void *buf, size_t len) {
  NSLMI_CHECK_NULL(out);
  *out = NULL;
  if (buf == NULL && len > 0) return NSLMI_FAIL(NSLM_ERR_INVALID, "buf is NULL");
  nslmi_source src;
  nslmi_source_mem(&src, buf, len);
  return load_source(out, &src);
}
