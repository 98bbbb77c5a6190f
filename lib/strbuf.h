/* strbuf.h - a growable text buffer for the CSV and SVG writers, with
 * locale-independent number formatting (always '.' as decimal point). */
#ifndef NSLM_LIB_STRBUF_H
#define NSLM_LIB_STRBUF_H

#include <locale.h>
#include <stddef.h>

#include "status.h"

typedef struct {
  char *buf;
  size_t len, cap;
  int failed;      /* sticky: an allocation failed */
  locale_t c_num;  /* "C" LC_NUMERIC, or (locale_t)0 if unavailable */
} nslmi_strbuf;

void nslmi_strbuf_init(nslmi_strbuf *sb);
void nslmi_strbuf_free(nslmi_strbuf *sb);
/* printf-style append; numbers always use '.' whatever the locale. */
void nslmi_strbuf_printf(nslmi_strbuf *sb, const char *fmt, ...) NSLMI_PRINTF(2, 3);
void nslmi_strbuf_puts(nslmi_strbuf *sb, const char *s);
/* Appends s as XML character data: &<>"' escaped, control characters and
 * invalid UTF-8 replaced by '?'. */
void nslmi_strbuf_xml(nslmi_strbuf *sb, const char *s);
/* Writes the buffer atomically to path (NSLM_ERR_NOMEM if an append
 * failed, else nslmi_write_file_atomic's status); failures are recorded
 * under func. */
int nslmi_strbuf_save(const nslmi_strbuf *sb, const char *path, const char *func);

#endif
