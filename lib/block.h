/* block.h - block reparameterization: compression (DESIGN 2.2) and
 * relocation (DESIGN 2.3), the internal entry points used by connect.c. */
#ifndef NSLM_LIB_BLOCK_H
#define NSLM_LIB_BLOCK_H

#include "nslm.h"
#include "forward.h"

/* Two compressions running side by side (connect): the producer
 * publishes S_j, the units its layer j keeps, right after layer j; the
 * consumer, whose avoid mask is being filled that way, waits for layer j
 * before choosing its basis there.  wait returns nonzero when the
 * producer failed (the consumer then stops with NSLM_ERR_CANCELLED). */
struct nslmi_compress_sync {
  void (*publish)(void *user, size_t j, const unsigned char *units);
  int (*wait)(void *user, size_t j);
  void *user;
};

/* Compresses work in place (work = Theta on entry, Theta-bar on return)
 * against f, the features of Theta (A_1..A_l).  Outermost layer first;
 * after each layer (l, l-1, .., 1, then 0) a knot is appended to path
 * (CONSTANT) when path != NULL.  avoid (concatenated hidden-unit mask, may
 * be NULL): JOINT and SHARED pick basis units outside it when they span
 * A_j.  budget: SHARED's bound on the l1 norm of a JOINT row (larger rows
 * are reduced ROW-wise).  active (l entries, may be NULL): active widths
 * of the result.  sync (may be NULL): see struct nslmi_compress_sync.
 * o must be resolved (never NULL).  No argument checks. */
int nslmi_compress_run(const nslm_net *net, nslm_params *work, const nslmi_features *f,
                       const nslm_construct_opts *o, const unsigned char *avoid,
                       double budget, nslm_path *path, size_t *active,
                       const struct nslmi_compress_sync *sync);
/* SHARED's row budget rmax / a_r (INFINITY when layers >= 1 are
 * unconstrained). */
double nslmi_shared_budget(const nslm_constraint *con, double rmax);

/* Checks that relocating theta's active units off avoid fits (free units
 * per layer); on failure records NSLM_ERR_TOO_NARROW naming every short
 * layer with needed and available units, under the name func. */
int nslmi_relocate_check(const nslm_params *theta, const unsigned char *avoid,
                         const char *func);
/* Moves the active units of work that lie in avoid to free units, three
 * CONSTANT knots per layer that moves (appended to path when non-NULL).
 * Call nslmi_relocate_check first. */
int nslmi_relocate_run(nslm_params *work, const unsigned char *avoid, nslm_path *path);

/* Argument checks shared by the construction calls (net, theta, data,
 * agreement of widths). */
int nslmi_construct_check(const char *func, const nslm_net *net, const nslm_params *theta,
                          const nslm_data *data, const nslm_construct_opts *opts);

/* Appends work to path as a knot that differs from the last one in layer
 * j only (the path module's nslmi_path_append_layers: no comparison or
 * check of the other layers). */
int nslmi_append_layer(nslm_path *path, const nslm_params *work, size_t j, int kind);

/* 1 if the constraint is active (non-NULL with a_r > 0 or b_r > 0). */
int nslmi_constraint_active(const nslm_constraint *con);

#endif
