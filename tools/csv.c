/* csv.c - a strict reader of numeric CSV files (see csv.h). */
#include "csv.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Splits line in place into fields; returns their number.  With fields ==
 * NULL only counts them (line unchanged). */
static size_t split(char *line, char **fields) {
  size_t k = 0;
  int commas = strchr(line, ',') != NULL;
  char *s = line;
  for (;;) {
    while (*s == ' ' || *s == '\t') s++;
    if (*s == '\0' && (!commas || k == 0)) break;
    char *start = s;
    if (commas) {
      while (*s && *s != ',') s++;
    } else {
      while (*s && *s != ' ' && *s != '\t') s++;
    }
    char *end = s;
    while (end > start && (end[-1] == ' ' || end[-1] == '\t')) end--;
    int last = (*s == '\0');
    if (fields != NULL) {
      *end = '\0';
      fields[k] = start;
    }
    k++;
    if (last) break;
    s++;
  }
  return k;
}

/* 1 if text is exactly one number (strtod syntax), stored in *v. */
static int number(const char *text, double *v) {
  if (*text == '\0') return 0;
  errno = 0;
  char *end;
  *v = strtod(text, &end);
  return *end == '\0';
}

int csv_read(const char *path, double **a, size_t *rows, size_t *cols, char *err, size_t errcap) {
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    snprintf(err, errcap, "%s", strerror(errno));
    return -1;
  }
  char *line = NULL, **fields = NULL;
  size_t linecap = 0, ncols = 0, nrows = 0, cap = 0, fcap = 0, lineno = 0;
  double *data = NULL;
  int seen_first = 0, status = -1;
  ssize_t len;
  while ((len = getline(&line, &linecap, f)) >= 0) {
    lineno++;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
    if ((size_t)len != strlen(line)) {
      snprintf(err, errcap, "line %zu: contains a NUL byte (not a text file?)", lineno);
      goto done;
    }
    char *s = line;
    while (*s == ' ' || *s == '\t') s++;
    if (*s == '\0' || *s == '#') continue;
    size_t nf = split(s, NULL);
    if (nf > fcap) {
      free(fields);
      fcap = nf;
      fields = malloc(fcap * sizeof *fields);
      if (fields == NULL) { snprintf(err, errcap, "out of memory"); goto done; }
    }
    split(s, fields);
    if (!seen_first) {
      seen_first = 1;
      double v;
      int all = 1;
      for (size_t k = 0; k < nf; k++) all = all && number(fields[k], &v);
      if (!all) continue; /* a header line */
    }
    if (ncols == 0) ncols = nf;
    if (nf != ncols) {
      snprintf(err, errcap, "line %zu: %zu fields, but the first row has %zu", lineno, nf, ncols);
      goto done;
    }
    if (nrows >= SIZE_MAX / 2 / ncols / sizeof(double)) {
      snprintf(err, errcap, "line %zu: too many values", lineno);
      goto done;
    }
    if ((nrows + 1) * ncols > cap) {
      size_t ncap = cap ? 2 * cap : 64 * ncols;
      double *nd = realloc(data, ncap * sizeof *nd);
      if (nd == NULL) { snprintf(err, errcap, "out of memory"); goto done; }
      data = nd;
      cap = ncap;
    }
    for (size_t k = 0; k < nf; k++) {
      double v;
      if (!number(fields[k], &v)) {
        snprintf(err, errcap, "line %zu, field %zu: '%.40s' is not a number", lineno, k + 1,
                 fields[k]);
        goto done;
      }
      if (!isfinite(v)) {
        snprintf(err, errcap, "line %zu, field %zu: '%.40s' is not finite", lineno, k + 1,
                 fields[k]);
        goto done;
      }
      data[nrows * ncols + k] = v;
    }
    nrows++;
  }
  if (ferror(f)) {
    snprintf(err, errcap, "read error: %s", strerror(errno));
    goto done;
  }
  if (nrows == 0) {
    snprintf(err, errcap, "no data rows");
    goto done;
  }
  *a = data;
  data = NULL;
  *rows = nrows;
  *cols = ncols;
  status = 0;
done:
  free(data);
  free(line);
  free(fields);
  fclose(f);
  return status;
}
