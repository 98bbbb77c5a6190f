/* weak.h - TEMPORARY, while the library's sections land: functions of
 * nslm.h that the library may not export yet are weak, so that the tool
 * links; a command checks them and says "not available" when NULL. */
#ifndef NSLM_TOOLS_WEAK_H
#define NSLM_TOOLS_WEAK_H
#include "nslm.h"
#pragma weak nslm_construct_opts_create
#pragma weak nslm_construct_opts_destroy
#pragma weak nslm_construct_opts_set_int
#pragma weak nslm_construct_opts_set_double
#pragma weak nslm_params_active_units
#pragma weak nslm_compress
#pragma weak nslm_connect
#pragma weak nslm_descent
#pragma weak nslm_compress_widths
#pragma weak nslm_connect_widths
#pragma weak nslm_global_minimize
#pragma weak nslm_path_destroy
#pragma weak nslm_path_num_segments
#pragma weak nslm_path_get_knot
#pragma weak nslm_path_segment_kind
#pragma weak nslm_path_segment_layers
#define NSLM_HAVE(fn) ((fn) != NULL)
#endif
