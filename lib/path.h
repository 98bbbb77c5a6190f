/* path.h - path objects: knots sharing unchanged layers, segment kinds.
 *
 * Storage: knot k keeps one pointer per layer; layer j of knot k is owned
 * (stored) by the knot when it differs from layer j of knot k - 1 (always
 * for k = 0), otherwise the pointer aliases the previous knot's storage.
 * So the memory is the sum of the changed layers, and "layer j changes on
 * segment s" is exactly own[(s + 1) (l + 1) + j]. */
#ifndef NSLM_LIB_PATH_H
#define NSLM_LIB_PATH_H

#include "nslm.h"
#include "params.h"

struct nslm_path {
  size_t depth;          /* l */
  size_t *widths;        /* l + 2 entries */
  size_t nknots, cap;    /* knots held, knots allocated */
  double **layer;        /* cap * (l + 1) pointers: layer[k (l + 1) + j] = Theta_k^j */
  unsigned char *own;    /* cap * (l + 1): 1 if knot k stores layer j */
  int *kind;             /* cap entries; kind[s] is the kind of segment s = knot s -> s + 1 */
  int nonincreasing;     /* the path claims a nonincreasing risk */
  size_t stored;         /* doubles stored (sum of owned layer sizes) */
};

/* An empty path (no knot) for explicit widths (depth + 2 entries); the
 * loader fills it with nslmi_path_push. */
int nslmi_path_create_widths(nslm_path **out, size_t depth, const size_t *widths);

/* Appends a knot.  layers[j] (row-major p_{j+1} x p_j, contiguous) is read
 * for every j with given[j] != 0 (given may be NULL: all given); the other
 * layers repeat the previous knot.  With compare != 0, a given layer equal
 * to the previous knot's is aliased instead of stored, so the layer masks
 * stay exact.  The first knot needs every layer; its kind is ignored.  The
 * values are copied and must be finite (NSLM_ERR_NONFINITE).  On failure
 * the path is unchanged. */
int nslmi_path_push(nslm_path *path, const double *const *layers, const unsigned char *given,
                    int kind, int compare);

/* For the construction: appends a knot that differs from the last knot
 * only in the layers with changed[j] != 0 (len l + 1), whose new values are
 * layers[j] (contiguous row-major); other entries of layers are ignored and
 * may be NULL.  Layers that turn out equal are not stored.  Same checks
 * and failure guarantee as nslm_path_append. */
int nslmi_path_append_layers(nslm_path *path, const double *const *layers,
                             const unsigned char *changed, int kind);

/* For the construction: appends a knot that differs from the last knot in
 * layer j only, taking the buffer *layer (from nslmi_malloc, the layer's
 * size) instead of a copy: on success the path owns it and *layer is set
 * to NULL; on failure (NSLM_ERR_NONFINITE, NSLM_ERR_NOMEM) the caller
 * keeps it and the path is unchanged.  A layer equal to the last knot's is
 * aliased and the buffer freed.  Spares a copy of a layer about to be
 * freed (the copy's page faults dominate: 0.4 s per 128 MB measured). */
int nslmi_path_append_owned(nslm_path *path, double **layer, size_t j, int kind);

/* Layer j of knot k (no checks); read-only, valid while the path lives. */
const double *nslmi_path_layer(const nslm_path *path, size_t k, size_t j);
/* 1 if layer j changes on segment s (no checks). */
int nslmi_path_changed(const nslm_path *path, size_t s, size_t j);

/* A read-only parameter view of knot k: fills *view so that it can be
 * passed wherever a const nslm_params * is read (no allocation; valid while
 * the path lives and is not appended to). */
void nslmi_path_knot_view(const nslm_path *path, size_t k, nslm_params *view);

/* Maps t in [0, 1] to segment s and local u in [0, 1] (uniform
 * parameterisation).  Requires at least one segment. */
void nslmi_path_locate(const nslm_path *path, double t, size_t *s, double *u);

/* out := the point at local u of segment s (changed layers interpolated as
 * (1 - u) a + u b, exact at both ends; others copied).  No checks. */
void nslmi_path_point_at(const nslm_path *path, size_t s, double u, nslm_params *out);

/* Validates net/data/loss against the path for the evaluation calls
 * (NULL, widths, data sizes); NSLM_OK or the failure status. */
int nslmi_path_check_problem(const nslm_path *path, const nslm_net *net, const nslm_data *data,
                             const nslm_loss *loss, const char *func);

/* Re-records the current detail message under func ("func: detail") so
 * that a failure inside a helper (file layer, .npz reader) names the public
 * function that was called; returns st. */
int nslmi_fail_as(int st, const char *func);

/* nslm_path_load on an .npz archive held in memory (for the fuzz target):
 * the same checks, NSLM_ERR_FORMAT for anything but a valid path file. */
int nslmi_path_load_mem(nslm_path **out, const void *buf, size_t len);

#endif
