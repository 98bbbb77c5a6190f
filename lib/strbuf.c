/* strbuf.c - growable text buffer for the writers. */
#define _GNU_SOURCE 1
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "npz.h"
#include "path.h"
#include "strbuf.h"

void nslmi_strbuf_init(nslmi_strbuf *sb) {
  memset(sb, 0, sizeof *sb);
  sb->c_num = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

void nslmi_strbuf_free(nslmi_strbuf *sb) {
  nslmi_free(sb->buf);
  if (sb->c_num != (locale_t)0) freelocale(sb->c_num);
  memset(sb, 0, sizeof *sb);
}

static int grow(nslmi_strbuf *sb, size_t extra) {
  if (sb->failed) return 0;
  if (sb->len + extra + 1 <= sb->cap) return 1;
  size_t cap = sb->cap ? sb->cap : 4096;
  while (cap < sb->len + extra + 1) {
    if (cap > ((size_t)-1) / 2) {
      sb->failed = 1;
      return 0;
    }
    cap *= 2;
  }
  char *p = nslmi_realloc(sb->buf, cap);
  if (p == NULL) {
    sb->failed = 1;
    return 0;
  }
  sb->buf = p;
  sb->cap = cap;
  return 1;
}

void nslmi_strbuf_printf(nslmi_strbuf *sb, const char *fmt, ...) {
  if (sb->failed) return;
  locale_t old = (locale_t)0;
  if (sb->c_num != (locale_t)0) old = uselocale(sb->c_num);
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) {
    sb->failed = 1;
  } else if ((size_t)n < sizeof small) {
    if (grow(sb, (size_t)n)) {
      memcpy(sb->buf + sb->len, small, (size_t)n + 1);
      sb->len += (size_t)n;
    }
  } else if (grow(sb, (size_t)n)) {
    va_start(ap, fmt);
    vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
  }
  if (sb->c_num != (locale_t)0) uselocale(old);
}

void nslmi_strbuf_puts(nslmi_strbuf *sb, const char *s) {
  size_t n = strlen(s);
  if (!grow(sb, n)) return;
  memcpy(sb->buf + sb->len, s, n + 1);
  sb->len += n;
}

/* Length of a valid UTF-8 sequence at s (1..4), 0 if invalid. */
static size_t utf8_len(const unsigned char *s) {
  unsigned char c = s[0];
  size_t n;
  unsigned long cp;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) { n = 2; cp = c & 0x1f; }
  else if (c >= 0xe0 && c <= 0xef) { n = 3; cp = c & 0x0f; }
  else if (c >= 0xf0 && c <= 0xf4) { n = 4; cp = c & 0x07; }
  else return 0;
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff))) return 0;
  if (cp >= 0xd800 && cp <= 0xdfff) return 0;    /* surrogates */
  if (cp == 0xfffe || cp == 0xffff) return 0;    /* not XML characters */
  return n;
}

void nslmi_strbuf_xml(nslmi_strbuf *sb, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    const char *rep = NULL;
    char one[2] = {0, 0};
    size_t adv = 1;
    switch (*p) {
    case '&': rep = "&amp;"; break;
    case '<': rep = "&lt;"; break;
    case '>': rep = "&gt;"; break;
    case '"': rep = "&quot;"; break;
    case '\'': rep = "&apos;"; break;
    default:
      if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') {
        rep = "?";
      } else if (*p >= 0x80) {
        size_t n = utf8_len(p);
        if (n == 0) {
          rep = "?";
        } else {
          if (!grow(sb, n)) return;
          memcpy(sb->buf + sb->len, p, n);
          sb->len += n;
          sb->buf[sb->len] = '\0';
          p += n;
          continue;
        }
      } else {
        one[0] = (char)*p;
        rep = one;
      }
    }
    nslmi_strbuf_puts(sb, rep);
    p += adv;
  }
}

int nslmi_strbuf_save(const nslmi_strbuf *sb, const char *path, const char *func) {
  if (sb->failed) return nslmi_fail(NSLM_ERR_NOMEM, func, "text of %zu bytes", sb->len);
  int st = nslmi_write_file_atomic(path, sb->buf ? sb->buf : "", sb->len);
  return st ? nslmi_fail_as(st, func) : NSLM_OK;
}
