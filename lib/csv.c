/* csv.c - profiles and planes as CSV (RFC 4180, header line, '.' decimal
 * point, 17 significant digits so that values read back exactly). */
#include <math.h>

#include "landscape.h"
#include "path.h"
#include "status.h"
#include "strbuf.h"

static const char *kind_name(int kind) {
  return kind == NSLM_SEG_CONSTANT ? "CONSTANT" : kind == NSLM_SEG_CONVEX ? "CONVEX" : "GENERAL";
}

int nslmi_check_profile(const char *func, const char *filename, const nslm_path *path, size_t k,
                        const double *t, const double *risk, const double *r) {
  if (filename == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "filename is NULL");
  if (t == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "t is NULL");
  if (risk == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "risk is NULL");
  if (k < 1) return nslmi_fail(NSLM_ERR_DOMAIN, func, "k = 0 points");
  if (path != NULL && path->nknots == 0) return nslmi_fail(NSLM_ERR_INVALID, func, "path has no knot");
  for (size_t i = 0; i < k; i++) {
    if (!isfinite(t[i]) || !isfinite(risk[i]) || (r && !isfinite(r[i])))
      return nslmi_fail(NSLM_ERR_NONFINITE, func, "point %zu has a NaN or Inf", i);
    if (path != NULL && (t[i] < 0.0 || t[i] > 1.0))
      return nslmi_fail(NSLM_ERR_DOMAIN, func, "t[%zu] = %g outside [0, 1]", i, t[i]);
  }
  return NSLM_OK;
}

int nslm_profile_write_csv(const char *filename, const nslm_path *path, size_t k,
                           const double *t, const double *risk, const double *r) {
  int st = nslmi_check_profile(__func__, filename, path, k, t, risk, r);
  if (st) return st;
  nslmi_strbuf sb;
  nslmi_strbuf_init(&sb);
  nslmi_strbuf_puts(&sb, path ? "t,segment,kind,risk" : "t,risk");
  nslmi_strbuf_puts(&sb, r ? ",r\r\n" : "\r\n");
  for (size_t i = 0; i < k; i++) {
    nslmi_strbuf_printf(&sb, "%.17g", t[i]);
    if (path) {
      size_t s = 0;
      double u;
      int kind = NSLM_SEG_GENERAL;
      if (path->nknots > 1) {
        nslmi_path_locate(path, t[i], &s, &u);
        kind = path->kind[s];
      }
      nslmi_strbuf_printf(&sb, ",%zu,%s", s, path->nknots > 1 ? kind_name(kind) : "");
    }
    nslmi_strbuf_printf(&sb, ",%.17g", risk[i]);
    if (r) nslmi_strbuf_printf(&sb, ",%.17g", r[i]);
    nslmi_strbuf_puts(&sb, "\r\n");
  }
  st = nslmi_strbuf_save(&sb, filename, __func__);
  nslmi_strbuf_free(&sb);
  return st;
}

int nslmi_check_plane(const char *func, const char *filename, size_t na, double amin,
                      double amax, size_t nb, double bmin, double bmax, const double *v,
                      ptrdiff_t rs, ptrdiff_t cs, const char *vname) {
  if (filename == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "filename is NULL");
  if (v == NULL) return nslmi_fail(NSLM_ERR_INVALID, func, "%s is NULL", vname);
  if (na < 1 || nb < 1) return nslmi_fail(NSLM_ERR_DOMAIN, func, "grid %zu x %zu is empty", na, nb);
  if (!isfinite(amin) || !isfinite(amax) || !isfinite(bmin) || !isfinite(bmax))
    return nslmi_fail(NSLM_ERR_NONFINITE, func, "grid bounds are not finite");
  for (size_t i = 0; i < na; i++)
    for (size_t j = 0; j < nb; j++)
      if (!isfinite(v[(ptrdiff_t)i * rs + (ptrdiff_t)j * cs]))
        return nslmi_fail(NSLM_ERR_NONFINITE, func, "%s(%zu, %zu) is not finite", vname, i, j);
  return NSLM_OK;
}

int nslm_plane_write_csv(const char *filename, size_t na, double amin, double amax, size_t nb,
                         double bmin, double bmax, const double *risk, ptrdiff_t rrs,
                         ptrdiff_t rcs, const double *r, ptrdiff_t srs, ptrdiff_t scs) {
  int st = nslmi_check_plane(__func__, filename, na, amin, amax, nb, bmin, bmax, risk, rrs, rcs, "risk");
  if (st) return st;
  if (r && (st = nslmi_check_plane(__func__, filename, na, amin, amax, nb, bmin, bmax, r, srs, scs, "r")))
    return st;
  nslmi_strbuf sb;
  nslmi_strbuf_init(&sb);
  nslmi_strbuf_puts(&sb, r ? "alpha,beta,risk,r\r\n" : "alpha,beta,risk\r\n");
  for (size_t i = 0; i < na; i++)
    for (size_t j = 0; j < nb; j++) {
      nslmi_strbuf_printf(&sb, "%.17g,%.17g,%.17g", nslmi_grid_coord(amin, amax, na, i),
                          nslmi_grid_coord(bmin, bmax, nb, j),
                          risk[(ptrdiff_t)i * rrs + (ptrdiff_t)j * rcs]);
      if (r) nslmi_strbuf_printf(&sb, ",%.17g", r[(ptrdiff_t)i * srs + (ptrdiff_t)j * scs]);
      nslmi_strbuf_puts(&sb, "\r\n");
    }
  st = nslmi_strbuf_save(&sb, filename, __func__);
  nslmi_strbuf_free(&sb);
  return st;
}
