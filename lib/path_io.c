/* path_io.c - paths as .npz files, readable by numpy without libnslm.
 *
 * Format version 1 (documented in nslm_path_save(3)):
 *   header            int64 [l + 7]: magic ("NSLMPATH" read as a little-
 *                     endian int64), version, depth l, widths p_0..p_{l+1},
 *                     number of knots N, nonincreasing claim (0/1);
 *   segments          int64 [N - 1, l + 2]: row s = kind of segment s, then
 *                     one 0/1 per layer j = 0..l: 1 if layer j changes;
 *                     absent when N = 1;
 *   knot_K_layer_J    float64 [p_{J+1}, p_J]: layer J of knot K, present
 *                     for every layer of knot 0 and, for K >= 1, exactly
 *                     where segment K - 1 changes layer J;
 *   checksum          int64 [1]: CRC-32 (zlib's crc32, as in Python's
 *                     zlib.crc32) of the little-endian bytes of header,
 *                     segments, then the knot arrays by K, then J.
 * No other member is allowed.  Loading checks every shape, value range and
 * the checksum, and that a layer marked changed really differs from the
 * previous knot's: a file that passes is exactly a path save wrote. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <zlib.h>

#include "alloc.h"
#include "npz.h"
#include "params.h"
#include "path.h"
#include "status.h"

#define MAGIC INT64_C(0x485441504d4c534e) /* "NSLMPATH" little-endian */
#define MAX_DEPTH 4096
#define MAX_WIDTH ((int64_t)1 << 31)

/* CRC-32 of values as little-endian 8-byte words (portable byte order). */
static uLong crc_words(uLong crc, const void *data, size_t count) {
  const unsigned char *src = data;
  unsigned char buf[4096];
  while (count > 0) {
    size_t chunk = count < sizeof buf / 8 ? count : sizeof buf / 8;
    for (size_t i = 0; i < chunk; i++) {
      uint64_t v;
      memcpy(&v, src + 8 * i, 8);
      for (int b = 0; b < 8; b++) buf[8 * i + (size_t)b] = (unsigned char)(v >> (8 * b));
    }
    crc = crc32(crc, buf, (uInt)(8 * chunk));
    src += 8 * chunk;
    count -= chunk;
  }
  return crc;
}

static void knot_name(char *buf, size_t cap, size_t k, size_t j) {
  snprintf(buf, cap, "knot_%zu_layer_%zu", k, j);
}

int nslm_path_save(const nslm_path *path, const char *filename) {
  NSLMI_CHECK_NULL(path);
  NSLMI_CHECK_NULL(filename);
  if (path->nknots == 0) return NSLMI_FAIL(NSLM_ERR_INVALID, "path has no knot");
  size_t l = path->depth, L = l + 1, N = path->nknots, S = N - 1;
  size_t hlen = l + 7;
  int64_t *hdr = nslmi_malloc_array(hlen, sizeof *hdr);
  int64_t *seg = S ? nslmi_malloc_array(S * (l + 2), sizeof *seg) : NULL;
  nslmi_npz *z = NULL;
  int st = NSLM_OK;
  if (hdr == NULL || (S && seg == NULL)) {
    st = NSLMI_FAIL(NSLM_ERR_NOMEM, "header of %zu values", hlen);
    goto done;
  }
  hdr[0] = MAGIC;
  hdr[1] = NSLM_PATH_FORMAT_VERSION;
  hdr[2] = (int64_t)l;
  for (size_t j = 0; j < l + 2; j++) hdr[3 + j] = (int64_t)path->widths[j];
  hdr[l + 5] = (int64_t)N;
  hdr[l + 6] = path->nonincreasing;
  for (size_t s = 0; s < S; s++) {
    seg[s * (l + 2)] = path->kind[s];
    for (size_t j = 0; j < L; j++) seg[s * (l + 2) + 1 + j] = nslmi_path_changed(path, s, j);
  }
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc_words(crc, hdr, hlen);
  if (S) crc = crc_words(crc, seg, S * (l + 2));
  st = nslmi_npz_create(&z);
  if (st) goto done;
  size_t shape[2] = {hlen, 1};
  st = nslmi_npz_add_i64(z, "header", 1, shape, hdr);
  if (st) goto done;
  if (S) {
    shape[0] = S;
    shape[1] = l + 2;
    st = nslmi_npz_add_i64(z, "segments", 2, shape, seg);
    if (st) goto done;
  }
  for (size_t k = 0; k < N; k++)
    for (size_t j = 0; j < L; j++) {
      if (!path->own[k * L + j]) continue;
      char name[64];
      knot_name(name, sizeof name, k, j);
      shape[0] = path->widths[j + 1];
      shape[1] = path->widths[j];
      const double *w = nslmi_path_layer(path, k, j);
      crc = crc_words(crc, w, shape[0] * shape[1]);
      st = nslmi_npz_add_f64_ref(z, name, 2, shape, w);
      if (st) goto done;
    }
  int64_t ck = (int64_t)(crc & 0xffffffffUL);
  shape[0] = 1;
  shape[1] = 1;
  st = nslmi_npz_add_i64(z, "checksum", 1, shape, &ck);
  if (st) goto done;
  st = nslmi_npz_save(z, filename);
  if (st) st = nslmi_fail_as(st, __func__);
done:
  nslmi_npz_free(z);
  nslmi_free(hdr);
  nslmi_free(seg);
  return st;
}

#define BAD(...) NSLMI_FAIL(NSLM_ERR_FORMAT, __VA_ARGS__)

static const nslmi_npz_array *find_int(const nslmi_npz *z, const char *name, size_t ndim) {
  const nslmi_npz_array *a = nslmi_npz_find(z, name);
  if (a == NULL || !a->is_int || a->ndim != ndim) return NULL;
  return a;
}

static int load_from(nslm_path **out, const nslmi_npz *z, const char *filename) {
  const nslmi_npz_array *h = find_int(z, "header", 1);
  if (h == NULL) return BAD("%s: no int64 1-D array 'header' (not a libnslm path file)", filename);
  const int64_t *hv = h->i64;
  size_t hn = h->shape[0];
  if (hn < 3 || hv[0] != MAGIC) return BAD("%s: bad magic (not a libnslm path file)", filename);
  if (hv[1] != NSLM_PATH_FORMAT_VERSION)
    return BAD("%s: format version %lld, this library reads %d", filename, (long long)hv[1],
               NSLM_PATH_FORMAT_VERSION);
  if (hv[2] < 1 || hv[2] > MAX_DEPTH) return BAD("%s: depth %lld outside 1..%d", filename, (long long)hv[2], MAX_DEPTH);
  size_t l = (size_t)hv[2], L = l + 1;
  if (hn != l + 7) return BAD("%s: header has %zu values, depth %zu needs %zu", filename, hn, l, l + 7);
  size_t widths[MAX_DEPTH + 2];
  for (size_t j = 0; j < l + 2; j++) {
    int64_t v = hv[3 + j];
    if (v < 1 || v > MAX_WIDTH) return BAD("%s: width p_%zu = %lld outside 1..2^31", filename, j, (long long)v);
    widths[j] = (size_t)v;
  }
  int64_t nk = hv[l + 5], claim = hv[l + 6];
  if (nk < 1) return BAD("%s: %lld knots", filename, (long long)nk);
  if (claim != 0 && claim != 1) return BAD("%s: nonincreasing flag %lld", filename, (long long)claim);
  size_t N = (size_t)nk, S = N - 1;
  /* Segments: their count is bounded by the array actually in the file. */
  const nslmi_npz_array *sg = NULL;
  if (S > 0) {
    sg = find_int(z, "segments", 2);
    if (sg == NULL) return BAD("%s: no int64 2-D array 'segments'", filename);
    if (sg->shape[0] != S || sg->shape[1] != l + 2)
      return BAD("%s: 'segments' is %zu x %zu, expected %zu x %zu", filename, sg->shape[0],
                 sg->shape[1], S, l + 2);
  } else if (nslmi_npz_find(z, "segments") != NULL)
    return BAD("%s: 'segments' present in a path of one knot", filename);
  size_t expected = 2 + (S > 0) + L; /* header, checksum, segments, knot 0 */
  for (size_t s = 0; s < S; s++) {
    const int64_t *row = sg->i64 + s * (l + 2);
    if (row[0] != NSLM_SEG_GENERAL && row[0] != NSLM_SEG_CONSTANT && row[0] != NSLM_SEG_CONVEX)
      return BAD("%s: segment %zu has kind %lld", filename, s, (long long)row[0]);
    for (size_t j = 0; j < L; j++) {
      if (row[1 + j] != 0 && row[1 + j] != 1)
        return BAD("%s: segment %zu layer %zu mask %lld", filename, s, j, (long long)row[1 + j]);
      expected += (size_t)row[1 + j];
    }
  }
  if (nslmi_npz_count(z) != expected)
    return BAD("%s: %zu arrays, the header and segments call for %zu", filename, nslmi_npz_count(z), expected);
  const nslmi_npz_array *ck = find_int(z, "checksum", 1);
  if (ck == NULL || ck->shape[0] != 1) return BAD("%s: no int64 array 'checksum' of one value", filename);
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc_words(crc, hv, hn);
  if (S) crc = crc_words(crc, sg->i64, S * (l + 2));
  /* Layer arrays, checked, in order. */
  const double **cur = nslmi_calloc(L, sizeof *cur);
  const double **given_layers = nslmi_calloc(L, sizeof *given_layers);
  unsigned char *given = nslmi_calloc(L, 1);
  nslm_path *p = NULL;
  int st = NSLM_OK;
  if (!cur || !given_layers || !given) {
    st = NSLMI_FAIL(NSLM_ERR_NOMEM, "load tables");
    goto done;
  }
  st = nslmi_path_create_widths(&p, l, widths);
  if (st) goto done;
  for (size_t k = 0; k < N; k++) {
    for (size_t j = 0; j < L; j++) {
      given[j] = k == 0 ? 1 : (unsigned char)sg->i64[(k - 1) * (l + 2) + 1 + j];
      given_layers[j] = NULL;
      if (!given[j]) continue;
      char name[64];
      knot_name(name, sizeof name, k, j);
      const nslmi_npz_array *a = nslmi_npz_find(z, name);
      if (a == NULL || a->is_int || a->ndim != 2) {
        st = BAD("%s: no float64 2-D array '%s'", filename, name);
        goto done;
      }
      if (a->shape[0] != widths[j + 1] || a->shape[1] != widths[j]) {
        st = BAD("%s: '%s' is %zu x %zu, expected %zu x %zu", filename, name, a->shape[0],
                 a->shape[1], widths[j + 1], widths[j]);
        goto done;
      }
      size_t sz = widths[j + 1] * widths[j];
      for (size_t i = 0; i < sz; i++)
        if (!isfinite(a->f64[i])) {
          st = BAD("%s: '%s' has a NaN or Inf", filename, name);
          goto done;
        }
      if (k > 0) {
        size_t i = 0;
        while (i < sz && a->f64[i] == cur[j][i]) i++;
        if (i == sz) {
          st = BAD("%s: '%s' is marked changed but equals knot %zu's layer", filename, name, k - 1);
          goto done;
        }
      }
      crc = crc_words(crc, a->f64, sz);
      given_layers[j] = a->f64;
    }
    st = nslmi_path_push(p, given_layers, given, k ? (int)sg->i64[(k - 1) * (l + 2)] : 0, 0);
    if (st) goto done;
    for (size_t j = 0; j < L; j++) cur[j] = nslmi_path_layer(p, k, j);
  }
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  /* (Fuzzing builds skip this comparison so that mutations reach the
   * semantic checks, as the .npz reader skips its member CRCs.) */
  if ((int64_t)(crc & 0xffffffffUL) != ck->i64[0]) {
    st = BAD("%s: checksum mismatch (stored %lld, computed %lu)", filename, (long long)ck->i64[0],
             (unsigned long)(crc & 0xffffffffUL));
    goto done;
  }
#endif
  p->nonincreasing = (int)claim;
  *out = p;
  p = NULL;
done:
  nslm_path_destroy(p);
  nslmi_free(cur);
  nslmi_free(given_layers);
  nslmi_free(given);
  return st;
}

int nslm_path_load(nslm_path **out, const char *filename) {
  NSLMI_CHECK_NULL(out);
  *out = NULL;
  NSLMI_CHECK_NULL(filename);
  nslmi_npz *z;
  int st = nslmi_npz_load(&z, filename);
  if (st) return nslmi_fail_as(st, __func__);
  st = load_from(out, z, filename);
  nslmi_npz_free(z);
  return st ? nslmi_fail_as(st, __func__) : NSLM_OK;
}

int nslmi_path_load_mem(nslm_path **out, const void *buf, size_t len) {
  *out = NULL;
  nslmi_npz *z;
  int st = nslmi_npz_load_mem(&z, buf, len);
  if (st) return st;
  st = load_from(out, z, "<memory>");
  nslmi_npz_free(z);
  return st;
}
