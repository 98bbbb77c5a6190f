/* npy.c - the .npy format (one array), the file layer shared by every load
 * and save (random-access sources, atomic replacement, I/O fault
 * injection), and the public file functions: nslm_npy_read,
 * nslm_npy_write, nslm_params_save, nslm_params_load.
 *
 * Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 * Reading is strict and bounded: the header is a Python dict literal with
 * exactly the keys 'descr', 'fortran_order' and 'shape'; its length is
 * capped (NSLMI_NPY_MAX_HEADER) and checked against the file size before
 * anything is allocated, and the data must fill the file exactly. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "npz.h"
#include "params.h"
#include "status.h"

/* ======================================================================
 * I/O fault injection (per thread, like alloc.c's)
 * ====================================================================== */

static _Thread_local long io_fail_at = -1;
static _Thread_local int io_fail_persistent = 0;
static _Thread_local long io_count = 0;

void nslmi_io_fail_after(long k, int persistent) {
  io_fail_at = k;
  io_fail_persistent = persistent;
  io_count = 0;
}

long nslmi_io_count(void) { return io_count; }

/* True if this file operation is to fail (errno is then set to err). */
static int io_injected(int err) {
  long idx = io_count++;
  if (io_fail_at < 0) return 0;
  if (io_fail_persistent ? idx >= io_fail_at : idx == io_fail_at) {
    errno = err;
    return 1;
  }
  return 0;
}

/* Thread-safe strerror for both strerror_r flavours. */
static const char *errstr(int e, char *buf, size_t cap) {
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
  return strerror_r(e, buf, cap);
#else
  if (strerror_r(e, buf, cap) != 0) snprintf(buf, cap, "error %d", e);
  return buf;
#endif
}

/* Records NSLM_ERR_IO "what 'path': reason" for errno e. */
static int io_fail(const char *func, int e, const char *what, const char *path) {
  char buf[128];
  return nslmi_fail(NSLM_ERR_IO, func, "%s '%s': %s", what, path, errstr(e, buf, sizeof buf));
}

/* ======================================================================
 * Sources: a regular file or a memory buffer, read at offsets
 * ====================================================================== */

int nslmi_source_open(nslmi_source *s, const char *path) {
  memset(s, 0, sizeof *s);
  s->path = path;
  if (io_injected(EIO)) return io_fail(__func__, errno, "cannot open", path);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_fail(__func__, errno, "cannot open", path);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return io_fail(__func__, e, "cannot stat", path);
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return io_fail(__func__, S_ISDIR(st.st_mode) ? EISDIR : EINVAL, "not a regular file:", path);
  }
  s->f = fdopen(fd, "rb");
  if (s->f == NULL) {
    int e = errno;
    close(fd);
    return io_fail(__func__, e, "cannot open", path);
  }
  s->size = (uint64_t)st.st_size;
  s->pos = 0;
  return NSLM_OK;
}

void nslmi_source_mem(nslmi_source *s, const void *buf, size_t len) {
  memset(s, 0, sizeof *s);
  s->mem = buf;
  s->size = len;
  s->path = "(memory)";
}

int nslmi_source_read_at(nslmi_source *s, uint64_t off, void *buf, size_t len) {
  if (off > s->size || len > s->size - off)
    return NSLMI_FAIL(NSLM_ERR_FORMAT, "'%s' is truncated: %zu bytes at offset %llu, file has %llu",
                      s->path, len, (unsigned long long)off, (unsigned long long)s->size);
  if (len == 0) return NSLM_OK;
  if (s->mem != NULL) {
    memcpy(buf, s->mem + off, len);
    return NSLM_OK;
  }
  if (io_injected(EIO)) return io_fail(__func__, errno, "cannot read", s->path);
  if (s->pos != off) {
    if (off > (uint64_t)INT64_MAX || fseeko(s->f, (off_t)off, SEEK_SET) != 0) {
      s->pos = UINT64_MAX;
      return io_fail(__func__, errno, "cannot seek in", s->path);
    }
    s->pos = off;
  }
  size_t got = fread(buf, 1, len, s->f);
  s->pos += got;
  if (got != len) {
    if (ferror(s->f)) return io_fail(__func__, errno ? errno : EIO, "cannot read", s->path);
    return NSLMI_FAIL(NSLM_ERR_FORMAT, "'%s' was truncated while being read", s->path);
  }
  return NSLM_OK;
}

void nslmi_source_close(nslmi_source *s) {
  if (s->f != NULL) fclose(s->f);
  s->f = NULL;
}

/* A reader over a range of a source (an .npy file, a stored zip member). */
typedef struct {
  nslmi_reader base;
  nslmi_source *src;
  uint64_t off, end;
} range_reader;

static int range_read(nslmi_reader *self, void *buf, size_t len) {
  range_reader *r = (range_reader *)self;
  if (len > r->end - r->off)
    return NSLMI_FAIL(NSLM_ERR_FORMAT, "'%s': data ends early", r->src->path);
  int st = nslmi_source_read_at(r->src, r->off, buf, len);
  if (st == NSLM_OK) r->off += len;
  return st;
}

/* ======================================================================
 * .npy header: strict parser of the Python dict literal
 * ====================================================================== */

typedef struct {
  const char *p, *end;
} cursor;

static void skip_ws(cursor *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
    c->p++;
}

static int accept(cursor *c, char ch) {
  if (c->p < c->end && *c->p == ch) {
    c->p++;
    return 1;
  }
  return 0;
}

/* A quoted string without escapes ('...' or "..."); 0 if malformed or
 * longer than cap - 1. */
static int parse_string(cursor *c, char *out, size_t cap) {
  if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return 0;
  char q = *c->p++;
  size_t n = 0;
  while (c->p < c->end && *c->p != q) {
    unsigned char ch = (unsigned char)*c->p;
    if (ch == '\\' || ch < 0x20 || ch >= 0x7f || n + 1 >= cap) return 0;
    out[n++] = (char)ch;
    c->p++;
  }
  if (c->p >= c->end) return 0;
  c->p++;
  out[n] = '\0';
  return 1;
}

static int is_ident_char(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         ch == '_';
}

/* The Python identifier word (True, False), as a whole token. */
static int accept_word(cursor *c, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0) return 0;
  if (c->p + n < c->end && is_ident_char(c->p[n])) return 0;
  c->p += n;
  return 1;
}

/* A non-negative decimal integer literal (no sign, no leading zeros, an
 * optional Python 2 'L' suffix), overflow-checked against SIZE_MAX. */
static int parse_dim(cursor *c, size_t *v) {
  if (c->p >= c->end || *c->p < '0' || *c->p > '9') return 0;
  if (*c->p == '0' && c->p + 1 < c->end && c->p[1] >= '0' && c->p[1] <= '9') return 0;
  size_t x = 0;
  while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
    size_t d = (size_t)(*c->p - '0');
    if (x > (SIZE_MAX - d) / 10) return 0;
    x = x * 10 + d;
    c->p++;
  }
  if (c->p < c->end && (*c->p == 'L' || *c->p == 'l')) c->p++;
  if (c->p < c->end && is_ident_char(*c->p)) return 0;
  *v = x;
  return 1;
}

/* The shape tuple: (), (k,), (r, c), (r, c,) ...; ndim counted up to
 * NSLMI_NPY_MAX_NDIM, the first two dims kept.  *zero is set if any dim is
 * 0, *over if the product of all dims exceeds SIZE_MAX. */
static int parse_shape(cursor *c, size_t *ndim, size_t shape[2], int *over) {
  if (!accept(c, '(')) return 0;
  skip_ws(c);
  size_t n = 0, prod = 1;
  int zero = 0;
  *over = 0;
  if (accept(c, ')')) {
    *ndim = 0;
    return 1;
  }
  for (;;) {
    size_t v;
    if (!parse_dim(c, &v)) return 0;
    if (n < 2) shape[n] = v;
    if (++n > NSLMI_NPY_MAX_NDIM) return 0;
    if (v == 0) zero = 1;
    else if (prod > SIZE_MAX / v) *over = 1;
    else prod *= v;
    skip_ws(c);
    if (accept(c, ')')) {
      if (n == 1) return 0; /* "(3)" is an int, not a tuple */
      break;
    }
    if (!accept(c, ',')) return 0;
    skip_ws(c);
    if (accept(c, ')')) break;
  }
  if (zero) *over = 0;
  *ndim = n;
  return 1;
}

/* Decodes a descr such as '<f8' into info; 0 if unsupported. */
static int parse_descr(const char *d, nslmi_npy_info *info) {
  static const uint16_t one = 1;
  int host_big = *(const unsigned char *)&one == 0;
  if (strlen(d) != 3) return 0;
  switch (d[0]) {
  case '<': info->big_endian = 0; break;
  case '>': info->big_endian = 1; break;
  case '=':
  case '|': info->big_endian = host_big; break; /* numpy reads '|f8' as native */
  default: return 0;
  }
  if (d[1] != 'f' && d[1] != 'i') return 0;
  if (d[2] != '4' && d[2] != '8') return 0;
  info->is_int = d[1] == 'i';
  info->itemsize = (size_t)(d[2] - '0');
  return 1;
}

/* Parses the header text h[0..len) into info (dtype, order, shape). */
static int parse_header_dict(const char *h, size_t len, nslmi_npy_info *info) {
  cursor c = {h, h + len};
  int have_descr = 0, have_order = 0, have_shape = 0, over = 0;
  char descr[16];
  skip_ws(&c);
  if (!accept(&c, '{')) return NSLMI_FAIL(NSLM_ERR_FORMAT, "header is not a dict literal");
  skip_ws(&c);
  while (!accept(&c, '}')) {
    char key[32];
    if (!parse_string(&c, key, sizeof key))
      return NSLMI_FAIL(NSLM_ERR_FORMAT, "header: expected a quoted key");
    skip_ws(&c);
    if (!accept(&c, ':')) return NSLMI_FAIL(NSLM_ERR_FORMAT, "header: expected ':' after '%s'", key);
    skip_ws(&c);
    if (strcmp(key, "descr") == 0 && !have_descr) {
      if (!parse_string(&c, descr, sizeof descr))
        return NSLMI_FAIL(NSLM_ERR_FORMAT, "header: 'descr' is not a simple dtype string");
      if (!parse_descr(descr, info))
        return NSLMI_FAIL(NSLM_ERR_FORMAT,
                          "unsupported dtype '%s' (float64, float32, int64, int32 only)", descr);
      have_descr = 1;
    } else if (strcmp(key, "fortran_order") == 0 && !have_order) {
      if (accept_word(&c, "True")) info->fortran_order = 1;
      else if (accept_word(&c, "False")) info->fortran_order = 0;
      else return NSLMI_FAIL(NSLM_ERR_FORMAT, "header: 'fortran_order' is not True or False");
      have_order = 1;
    } else if (strcmp(key, "shape") == 0 && !have_shape) {
      if (!parse_shape(&c, &info->ndim, info->shape, &over))
        return NSLMI_FAIL(NSLM_ERR_FORMAT, "header: 'shape' is not a tuple of non-negative integers");
      have_shape = 1;
    } else {
      return NSLMI_FAIL(NSLM_ERR_FORMAT, "header: unexpected or repeated key '%s'", key);
    }
    skip_ws(&c);
    if (accept(&c, ',')) {
      skip_ws(&c);
      continue;
    }
    if (!accept(&c, '}')) return NSLMI_FAIL(NSLM_ERR_FORMAT, "header: expected ',' or '}'");
    break;
  }
  skip_ws(&c);
  if (c.p != c.end) return NSLMI_FAIL(NSLM_ERR_FORMAT, "header: characters after the dict");
  if (!have_descr || !have_order || !have_shape)
    return NSLMI_FAIL(NSLM_ERR_FORMAT, "header lacks '%s'",
                      !have_descr ? "descr" : !have_order ? "fortran_order" : "shape");
  if (info->ndim != 1 && info->ndim != 2)
    return NSLMI_FAIL(NSLM_ERR_FORMAT, "array has %zu dimensions (1 or 2 supported)", info->ndim);
  if (over) return NSLMI_FAIL(NSLM_ERR_FORMAT, "shape overflows");
  if (info->ndim == 1) info->shape[1] = 1;
  return NSLM_OK;
}

static uint64_t get_le(const unsigned char *p, size_t n) {
  uint64_t v = 0;
  for (size_t i = n; i-- > 0;) v = (v << 8) | p[i];
  return v;
}

int nslmi_npy_read_header(nslmi_reader *r, uint64_t total, nslmi_npy_info *info) {
  unsigned char pre[12];
  memset(info, 0, sizeof *info);
  if (total < 10) return NSLMI_FAIL(NSLM_ERR_FORMAT, "too short for an .npy header (%llu bytes)",
                                    (unsigned long long)total);
  int st = r->read(r, pre, 8);
  if (st) return st;
  if (memcmp(pre, "\x93NUMPY", 6) != 0) return NSLMI_FAIL(NSLM_ERR_FORMAT, "not an .npy file (bad magic)");
  if (pre[6] < 1 || pre[6] > 3 || pre[7] != 0)
    return NSLMI_FAIL(NSLM_ERR_FORMAT, "unsupported .npy version %u.%u", pre[6], pre[7]);
  size_t lenbytes = pre[6] == 1 ? 2 : 4;
  if (total < 8 + lenbytes) return NSLMI_FAIL(NSLM_ERR_FORMAT, "truncated .npy header");
  st = r->read(r, pre + 8, lenbytes);
  if (st) return st;
  uint64_t hlen = get_le(pre + 8, lenbytes), prefix = 8 + lenbytes;
  if (hlen > NSLMI_NPY_MAX_HEADER)
    return NSLMI_FAIL(NSLM_ERR_FORMAT, ".npy header of %llu bytes exceeds the limit of %u",
                      (unsigned long long)hlen, NSLMI_NPY_MAX_HEADER);
  if (hlen > total - prefix)
    return NSLMI_FAIL(NSLM_ERR_FORMAT, ".npy header length %llu runs past the end (%llu bytes)",
                      (unsigned long long)hlen, (unsigned long long)total);
  char *h = nslmi_malloc((size_t)hlen + 1);
  if (h == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, ".npy header");
  st = r->read(r, h, (size_t)hlen);
  if (st == NSLM_OK) st = parse_header_dict(h, (size_t)hlen, info);
  nslmi_free(h);
  if (st) return st;
  /* Data size from the shape, overflow-checked, then checked against the
   * bytes actually present before anyone allocates for it. */
  uint64_t count = 0, avail = total - prefix - hlen;
  int ok = 1;
  if (info->shape[0] != 0 && info->shape[1] > UINT64_MAX / info->shape[0]) ok = 0;
  else count = (uint64_t)info->shape[0] * info->shape[1];
  if (!ok || count > avail / info->itemsize)
    return NSLMI_FAIL(NSLM_ERR_FORMAT, "truncated: shape (%zu, %zu) needs more than the %llu data bytes present",
                      info->shape[0], info->shape[1], (unsigned long long)avail);
  if (count * info->itemsize != avail)
    return NSLMI_FAIL(NSLM_ERR_FORMAT, "%llu bytes after the data of shape (%zu, %zu)",
                      (unsigned long long)(avail - count * info->itemsize), info->shape[0],
                      info->shape[1]);
  if (count > SIZE_MAX / 8) return NSLMI_FAIL(NSLM_ERR_FORMAT, "array too large for this machine");
  info->header_bytes = prefix + hlen;
  info->data_bytes = avail;
  return NSLM_OK;
}

/* Decodes the data into dst (C order), as double or int64. */
static int read_data(nslmi_reader *r, const nslmi_npy_info *in, void *dst, int as_int) {
  unsigned char buf[8192];
  size_t rows = in->shape[0], cols = in->shape[1], n = rows * cols, isz = in->itemsize;
  size_t per = sizeof buf / isz, done = 0, i = 0, k = 0;
  double *df = dst;
  int64_t *di = dst;
  while (done < n) {
    size_t m = n - done < per ? n - done : per;
    int st = r->read(r, buf, m * isz);
    if (st) return st;
    for (size_t t = 0; t < m; t++) {
      const unsigned char *e = buf + t * isz;
      uint64_t u = 0;
      if (in->big_endian)
        for (size_t b = 0; b < isz; b++) u = (u << 8) | e[b];
      else
        u = get_le(e, isz);
      size_t idx;
      if (in->fortran_order) { /* stream order is column by column */
        idx = i * cols + k;
        if (++i == rows) {
          i = 0;
          k++;
        }
      } else {
        idx = done + t;
      }
      if (as_int) {
        if (isz == 8) {
          int64_t v;
          memcpy(&v, &u, 8);
          di[idx] = v;
        } else {
          uint32_t u32 = (uint32_t)u;
          int32_t v;
          memcpy(&v, &u32, 4);
          di[idx] = v;
        }
      } else {
        if (isz == 8) {
          double v;
          memcpy(&v, &u, 8);
          df[idx] = v;
        } else {
          uint32_t u32 = (uint32_t)u;
          float v;
          memcpy(&v, &u32, 4);
          df[idx] = (double)v; /* exact: every float is a double */
        }
      }
    }
    done += m;
  }
  return NSLM_OK;
}

int nslmi_npy_read_f64(nslmi_reader *r, const nslmi_npy_info *info, double *dst) {
  if (info->is_int) return NSLMI_FAIL(NSLM_ERR_FORMAT, "integer array where floats are expected");
  return read_data(r, info, dst, 0);
}

int nslmi_npy_read_i64(nslmi_reader *r, const nslmi_npy_info *info, int64_t *dst) {
  if (!info->is_int) return NSLMI_FAIL(NSLM_ERR_FORMAT, "float array where integers are expected");
  return read_data(r, info, dst, 1);
}

/* numpy's GROWTH_AXIS_MAX_DIGITS: spare spaces so that the first axis can
 * grow in place (numpy >= 1.24 writes them; matching keeps files identical). */
#define NPY_GROWTH_DIGITS 21
#define NPY_ALIGN 64

size_t nslmi_npy_header(unsigned char *buf, size_t cap, int is_int, size_t ndim,
                        const size_t *shape) {
  char dict[NSLMI_NPY_HEADER_CAP], first[32];
  int n;
  if (ndim == 1)
    n = snprintf(dict, sizeof dict, "{'descr': '<%c8', 'fortran_order': False, 'shape': (%zu,), }",
                 is_int ? 'i' : 'f', shape[0]);
  else if (ndim == 2)
    n = snprintf(dict, sizeof dict,
                 "{'descr': '<%c8', 'fortran_order': False, 'shape': (%zu, %zu), }",
                 is_int ? 'i' : 'f', shape[0], shape[1]);
  else
    return 0;
  int dl = snprintf(first, sizeof first, "%zu", shape[0]);
  if (n < 0 || (size_t)n >= sizeof dict || dl <= 0) return 0;
  size_t len = (size_t)n + (size_t)(NPY_GROWTH_DIGITS - dl);
  size_t hlen = len + 1, pad = NPY_ALIGN - ((10 + hlen) % NPY_ALIGN);
  size_t total = 10 + len + pad + 1;
  if (total > cap || total - 10 > 65535) return 0;
  memcpy(buf, "\x93NUMPY\x01\x00", 8);
  buf[8] = (unsigned char)((total - 10) & 0xff);
  buf[9] = (unsigned char)((total - 10) >> 8);
  memcpy(buf + 10, dict, (size_t)n);
  memset(buf + 10 + n, ' ', total - 11 - (size_t)n);
  buf[total - 1] = '\n';
  return total;
}

/* ======================================================================
 * Atomic writer
 * ====================================================================== */

struct nslmi_atomic {
  FILE *f;
  int err;      /* first failure, sticky */
  uint64_t off; /* bytes written */
  char *tmp;    /* temporary file (same directory as dest) */
  char *dest;   /* final path (symbolic links resolved) */
  const char *path; /* the caller's path, for messages */
};

/* A 64-bit value unlikely to repeat between calls, threads and processes
 * (names of temporary files; O_EXCL makes collisions harmless). */
static uint64_t tmp_name_bits(unsigned attempt) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t z = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ ((uint64_t)getpid() << 40) ^
               (uint64_t)(uintptr_t)&ts ^ ((uint64_t)attempt * 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

int nslmi_atomic_open(nslmi_atomic **out, const char *path) {
  *out = NULL;
  char resolved[PATH_MAX];
  const char *dest = path;
  struct stat st;
  if (path[0] == '\0') return io_fail(__func__, ENOENT, "cannot write", path);
  /* Write through a symbolic link (replace its target, keep the link). */
  if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
    if (realpath(path, resolved) == NULL) return io_fail(__func__, errno, "cannot resolve", path);
    dest = resolved;
  }
  int exists = 0;
  if (stat(dest, &st) == 0) {
    if (!S_ISREG(st.st_mode))
      return io_fail(__func__, S_ISDIR(st.st_mode) ? EISDIR : EEXIST,
                     "will not replace a non-regular file", path);
    exists = 1;
  } else if (errno != ENOENT) {
    return io_fail(__func__, errno, "cannot stat", path);
  }
  size_t dlen = strlen(dest);
  const char *slash = strrchr(dest, '/');
  size_t dirlen = slash ? (size_t)(slash - dest) + 1 : 0; /* including the '/' */
  /* One block: the struct, dest, and "<dir>.nslm-<16 hex>.tmp". */
  size_t tmpcap = dirlen + 32;
  nslmi_atomic *w = nslmi_malloc(sizeof *w + dlen + 1 + tmpcap);
  if (w == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "writer for '%s'", path);
  memset(w, 0, sizeof *w);
  w->dest = (char *)(w + 1);
  memcpy(w->dest, dest, dlen + 1);
  w->tmp = w->dest + dlen + 1;
  w->path = path;
  int fd = -1;
  for (unsigned attempt = 0; attempt < 100; attempt++) {
    memcpy(w->tmp, dest, dirlen);
    snprintf(w->tmp + dirlen, 32, ".nslm-%016llx.tmp", (unsigned long long)tmp_name_bits(attempt));
    if (io_injected(EACCES)) break;
    fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0 || errno != EEXIST) break;
  }
  if (fd < 0) {
    int st2 = io_fail(__func__, errno, "cannot create a temporary file for", path);
    nslmi_free(w);
    return st2;
  }
  /* A replaced file keeps its permission bits (best effort). */
  if (exists) (void)fchmod(fd, st.st_mode & 07777);
  w->f = fdopen(fd, "wb");
  if (w->f == NULL) {
    int st2 = io_fail(__func__, errno, "cannot open a stream for", path);
    close(fd);
    unlink(w->tmp);
    nslmi_free(w);
    return st2;
  }
  *out = w;
  return NSLM_OK;
}

int nslmi_atomic_write(nslmi_atomic *w, const void *buf, size_t len) {
  if (w->err) return w->err;
  if (len == 0) return NSLM_OK;
  if (io_injected(ENOSPC)) {
    fwrite(buf, 1, len / 2, w->f); /* a short write, as on a full disk */
    return w->err = io_fail(__func__, ENOSPC, "cannot write", w->path);
  }
  errno = 0;
  size_t put = fwrite(buf, 1, len, w->f);
  w->off += put;
  if (put != len) return w->err = io_fail(__func__, errno ? errno : EIO, "cannot write", w->path);
  return NSLM_OK;
}

uint64_t nslmi_atomic_offset(const nslmi_atomic *w) { return w->off; }

void nslmi_atomic_abort(nslmi_atomic *w) {
  if (w == NULL) return;
  if (w->f != NULL) fclose(w->f);
  unlink(w->tmp);
  nslmi_free(w);
}

/* fsync of the directory makes the rename durable; best effort (some file
 * systems refuse it, and the data itself is already safe). */
static void sync_dir(const char *dest) {
  char dir[PATH_MAX];
  const char *slash = strrchr(dest, '/');
  if (slash == NULL) snprintf(dir, sizeof dir, ".");
  else if (slash == dest) snprintf(dir, sizeof dir, "/");
  else snprintf(dir, sizeof dir, "%.*s", (int)(slash - dest), dest);
  int fd = open(dir, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    (void)fsync(fd);
    close(fd);
  }
}

int nslmi_atomic_commit(nslmi_atomic *w) {
  int st = w->err;
  if (st == NSLM_OK && (io_injected(EIO) || fflush(w->f) != 0))
    st = io_fail(__func__, errno, "cannot flush", w->path);
  if (st == NSLM_OK && (io_injected(EIO) || fsync(fileno(w->f)) != 0))
    st = io_fail(__func__, errno, "cannot fsync", w->path);
  if (st == NSLM_OK) {
    int bad = fclose(w->f) != 0;
    w->f = NULL;
    if (io_injected(EIO)) bad = 1;
    if (bad) st = io_fail(__func__, errno, "cannot close", w->path);
  }
  if (st == NSLM_OK && (io_injected(EXDEV) || rename(w->tmp, w->dest) != 0))
    st = io_fail(__func__, errno, "cannot rename the temporary file onto", w->path);
  if (st != NSLM_OK) {
    nslmi_atomic_abort(w);
    return st;
  }
  sync_dir(w->dest);
  nslmi_free(w);
  return NSLM_OK;
}

int nslmi_write_file_atomic(const char *path, const void *buf, size_t len) {
  NSLMI_CHECK_NULL(path);
  if (buf == NULL && len > 0) return NSLMI_FAIL(NSLM_ERR_INVALID, "buf is NULL");
  nslmi_atomic *w;
  int st = nslmi_atomic_open(&w, path);
  if (st) return st;
  nslmi_atomic_write(w, buf, len);
  return nslmi_atomic_commit(w);
}

/* ======================================================================
 * Public: one matrix as .npy
 * ====================================================================== */

/* Reads an .npy of total bytes from r into a (or only its shape). */
static int npy_read(nslmi_reader *r, uint64_t total, double *a, size_t cap, size_t *rows,
                    size_t *cols) {
  nslmi_npy_info info;
  int st = nslmi_npy_read_header(r, total, &info);
  if (st) return st;
  if (info.is_int)
    return NSLMI_FAIL(NSLM_ERR_FORMAT, "array has an integer dtype (float64 or float32 expected)");
  size_t n = info.shape[0] * info.shape[1]; /* checked by read_header */
  if (a != NULL) {
    if (cap < n)
      return NSLMI_FAIL(NSLM_ERR_DIMENSION, "cap %zu < %zu x %zu elements", cap, info.shape[0],
                        info.shape[1]);
    /* Decode into a scratch copy so that a read failure midway (the file
     * shrinking, a device error) leaves a untouched. */
    double *tmp = nslmi_malloc_array(n, sizeof *tmp);
    if (tmp == NULL) return NSLMI_FAIL(NSLM_ERR_NOMEM, "%zu x %zu array", info.shape[0], info.shape[1]);
    st = nslmi_npy_read_f64(r, &info, tmp);
    if (st == NSLM_OK && n > 0) memcpy(a, tmp, n * sizeof *tmp);
    nslmi_free(tmp);
    if (st) return st;
  }
  *rows = info.shape[0];
  *cols = info.shape[1];
  return NSLM_OK;
}

static int check_read_args(const char *path, const double *a, size_t cap, const size_t *rows,
                           const size_t *cols, const char *func) {
  if (path == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "path is NULL");
  if (rows == NULL || cols == NULL)
    return nslmi_fail(NSLM_ERR_INVALID, func, "%s is NULL", rows == NULL ? "rows" : "cols");
  if (a == NULL && cap > 0)
    return nslmi_fail(NSLM_ERR_INVALID, func, "a is NULL with cap %zu (size query takes cap 0)", cap);
  return NSLM_OK;
}

int nslmi_npy_read_mem(const void *buf, size_t len, double *a, size_t cap, size_t *rows,
                       size_t *cols) {
  int st = check_read_args("(memory)", a, cap, rows, cols, __func__);
  if (st) return st;
  if (buf == NULL && len > 0) return NSLMI_FAIL(NSLM_ERR_INVALID, "buf is NULL");
  nslmi_source src;
  nslmi_source_mem(&src, buf, len);
  range_reader r = {{range_read}, &src, 0, len};
  return npy_read(&r.base, len, a, cap, rows, cols);
}

int nslm_npy_read(const char *path, double *a, size_t cap, size_t *rows, size_t *cols) {
  int st = check_read_args(path, a, cap, rows, cols, __func__);
  if (st) return st;
  nslmi_source src;
  st = nslmi_source_open(&src, path);
  if (st) return st;
  range_reader r = {{range_read}, &src, 0, src.size};
  st = npy_read(&r.base, src.size, a, cap, rows, cols);
  nslmi_source_close(&src);
  return st;
}

static void put_le64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

int nslm_npy_write(const char *path, size_t rows, size_t cols, const double *a, ptrdiff_t rs,
                   ptrdiff_t cs) {
  NSLMI_CHECK_NULL(path);
  NSLMI_CHECK_NULL(a);
  if (cols != 0 && rows > SIZE_MAX / 8 / cols)
    return NSLMI_FAIL(NSLM_ERR_DIMENSION, "%zu x %zu is too large", rows, cols);
  unsigned char head[NSLMI_NPY_HEADER_CAP];
  size_t shape[2] = {rows, cols};
  size_t hl = nslmi_npy_header(head, sizeof head, 0, 2, shape);
  if (hl == 0) return NSLMI_FAIL(NSLM_ERR_DIMENSION, "header for %zu x %zu does not fit", rows, cols);
  nslmi_atomic *w;
  int st = nslmi_atomic_open(&w, path);
  if (st) return st;
  nslmi_atomic_write(w, head, hl);
  unsigned char buf[8192];
  size_t fill = 0;
  for (size_t i = 0; i < rows && st == NSLM_OK; i++)
    for (size_t k = 0; k < cols; k++) {
      double v = a[(ptrdiff_t)i * rs + (ptrdiff_t)k * cs];
      uint64_t u;
      memcpy(&u, &v, 8);
      put_le64(buf + fill, u);
      fill += 8;
      if (fill == sizeof buf) {
        st = nslmi_atomic_write(w, buf, fill);
        fill = 0;
        if (st) break;
      }
    }
  nslmi_atomic_write(w, buf, fill);
  return nslmi_atomic_commit(w);
}

/* ======================================================================
 * Public: parameter sets as .npz
 * ====================================================================== */

/* Index j if name is prefix followed by a decimal j without leading zeros. */
static int layer_index(const char *name, const char *prefix, size_t *j) {
  size_t pl = strlen(prefix);
  if (strncmp(name, prefix, pl) != 0) return 0;
  const char *p = name + pl;
  if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] != '\0')) return 0;
  size_t v = 0;
  for (; *p; p++) {
    if (*p < '0' || *p > '9' || v > (SIZE_MAX - 9) / 10) return 0;
    v = v * 10 + (size_t)(*p - '0');
  }
  *j = v;
  return 1;
}

int nslmi_params_from_npz(nslm_params **out, const nslmi_npz *z) {
  *out = NULL;
  size_t count = nslmi_npz_count(z);
  if (count < 2)
    return NSLMI_FAIL(NSLM_ERR_FORMAT, "%zu arrays: a parameter set has at least 2 layers", count);
  /* Every name is layer_<j> (or every name arr_<j>), j a permutation of 0..count-1. */
  const char *prefix = NULL;
  const nslmi_npz_array *first = nslmi_npz_get(z, 0);
  size_t j;
  if (layer_index(first->name, "layer_", &j)) prefix = "layer_";
  else if (layer_index(first->name, "arr_", &j)) prefix = "arr_";
  else return NSLMI_FAIL(NSLM_ERR_FORMAT, "array '%s' is not named layer_<j> or arr_<j>", first->name);
  const nslmi_npz_array **layer = nslmi_calloc(count, sizeof *layer);
  size_t *widths = nslmi_malloc_array(count + 1, sizeof *widths);
  int st = NSLM_OK;
  if (layer == NULL || widths == NULL) st = NSLMI_FAIL(NSLM_ERR_NOMEM, "%zu layers", count);
  for (size_t i = 0; i < count && st == NSLM_OK; i++) {
    const nslmi_npz_array *a = nslmi_npz_get(z, i);
    if (!layer_index(a->name, prefix, &j) || j >= count || layer[j] != NULL)
      st = NSLMI_FAIL(NSLM_ERR_FORMAT, "array '%s' is not one of %s0..%s%zu", a->name, prefix,
                      prefix, count - 1);
    else if (a->is_int || a->ndim != 2)
      st = NSLMI_FAIL(NSLM_ERR_FORMAT, "array '%s' is not a 2-D float array", a->name);
    else if (a->shape[0] == 0 || a->shape[1] == 0)
      st = NSLMI_FAIL(NSLM_ERR_FORMAT, "array '%s' has shape (%zu, %zu): widths are >= 1", a->name,
                      a->shape[0], a->shape[1]);
    else
      layer[j] = a;
  }
  /* Layer j is p_{j+1} x p_j: rows of one are the columns of the next. */
  for (size_t i = 0; i < count && st == NSLM_OK; i++) {
    if (i + 1 < count && layer[i + 1]->shape[1] != layer[i]->shape[0])
      st = NSLMI_FAIL(NSLM_ERR_DIMENSION, "%s%zu has %zu columns but %s%zu has %zu rows", prefix,
                      i + 1, layer[i + 1]->shape[1], prefix, i, layer[i]->shape[0]);
    size_t n = layer[i]->shape[0] * layer[i]->shape[1];
    for (size_t e = 0; e < n && st == NSLM_OK; e++)
      if (!isfinite(layer[i]->f64[e]))
        st = NSLMI_FAIL(NSLM_ERR_NONFINITE, "%s%zu has a NaN or Inf entry", prefix, i);
  }
  nslm_params *p = NULL;
  if (st == NSLM_OK) {
    widths[0] = layer[0]->shape[1];
    for (size_t i = 0; i < count; i++) widths[i + 1] = layer[i]->shape[0];
    st = nslmi_params_create_widths(&p, count - 1, widths);
  }
  if (st == NSLM_OK) {
    for (size_t i = 0; i < count; i++)
      memcpy(p->w[i], layer[i]->f64, nslmi_params_layer_size(p, i) * sizeof(double));
    *out = p;
  }
  nslmi_free(layer);
  nslmi_free(widths);
  return st;
}

int nslm_params_load(nslm_params **out, const char *path) {
  NSLMI_CHECK_NULL(out);
  *out = NULL;
  NSLMI_CHECK_NULL(path);
  nslmi_npz *z;
  int st = nslmi_npz_load(&z, path);
  if (st) return st;
  st = nslmi_params_from_npz(out, z);
  nslmi_npz_free(z);
  return st;
}

int nslm_params_save(const nslm_params *theta, const char *path) {
  NSLMI_CHECK_NULL(theta);
  NSLMI_CHECK_NULL(path);
  nslmi_npz *z;
  int st = nslmi_npz_create(&z);
  if (st) return st;
  for (size_t j = 0; j <= theta->depth && st == NSLM_OK; j++) {
    char name[32];
    size_t shape[2] = {theta->widths[j + 1], theta->widths[j]};
    snprintf(name, sizeof name, "layer_%zu", j);
    st = nslmi_npz_add_f64_ref(z, name, 2, shape, theta->w[j]);
  }
  if (st == NSLM_OK) st = nslmi_npz_save(z, path);
  nslmi_npz_free(z);
  return st;
}
