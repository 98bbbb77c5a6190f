/* report.h - printing what the nslm tool found, as 'key value...' lines
 * (info, connect, descent and demo share them). */
#ifndef NSLM_TOOLS_REPORT_H
#define NSLM_TOOLS_REPORT_H

#include <stdio.h>

#include "nslm.h"

/* Widths: available, the paper's bound for n samples (n = 0: skipped),
 * active units of theta; with data, the widths compression leaves; with
 * gamma, what connecting needs and whether it fits.  An exit code. */
int report_widths(FILE *f, const nslm_net *net, const nslm_params *theta,
                  const nslm_params *gamma, const nslm_data *data,
                  const nslm_constraint *con, const nslm_construct_opts *opts, size_t n);

/* Per segment of a path: index, kind, layers changed, risk at both ends
 * (and r at the knots when con is not NULL).  An exit code. */
int report_segments(FILE *f, const nslm_net *net, const nslm_path *path,
                    const nslm_data *data, const nslm_loss *loss, const nslm_constraint *con);

#endif
