/* landscape.h - shared by the landscape tools and their plot writers. */
#ifndef NSLM_LIB_LANDSCAPE_H
#define NSLM_LIB_LANDSCAPE_H

#include <stddef.h>

#include "nslm.h"

/* Coordinate i of count points spread over [lo, hi]: (1 - s) lo + s hi
 * with s = i / (count - 1), so both ends are exact; lo when count == 1. */
double nslmi_grid_coord(double lo, double hi, size_t count, size_t i);

/* Argument checks shared by the CSV and SVG writers (lib/csv.c): NULL,
 * sizes, finite values, t in [0, 1] when a path is given. */
int nslmi_check_profile(const char *func, const char *filename, const nslm_path *path, size_t k,
                        const double *t, const double *risk, const double *r);
int nslmi_check_plane(const char *func, const char *filename, size_t na, double amin,
                      double amax, size_t nb, double bmin, double bmax, const double *v,
                      ptrdiff_t rs, ptrdiff_t cs, const char *vname);

#endif
