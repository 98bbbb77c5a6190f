/* csv.h - reading a numeric matrix from a CSV file for the nslm tool. */
#ifndef NSLM_TOOLS_CSV_H
#define NSLM_TOOLS_CSV_H

#include <stddef.h>

/* Reads a rectangular matrix of finite numbers: one row per line, fields
 * separated by commas (or, on lines without a comma, by blanks); blank
 * lines and lines starting with '#' are skipped; the first remaining
 * line is skipped as a header if it is not all numbers.  On success *a
 * (malloc'ed, row-major), *rows and *cols are set and 0 is returned; on
 * failure -1 and err receives "LINE: what" (or the system's message). */
int csv_read(const char *path, double **a, size_t *rows, size_t *cols, char *err, size_t errcap);

#endif
