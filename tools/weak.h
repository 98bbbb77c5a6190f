/* weak.h - TEMPORARY, while the library's sections land: functions of
 * nslm.h that the library may not export yet are weak, so that the tool
 * links; a command checks them and says "not available" when NULL. */
#ifndef NSLM_TOOLS_WEAK_H
#define NSLM_TOOLS_WEAK_H
#include "nslm.h"
#pragma weak nslm_certificate_destroy
#pragma weak nslm_certificate_num_segments
#pragma weak nslm_certificate_passed
#pragma weak nslm_certificate_segment
#pragma weak nslm_certificate_set_tolerance
#pragma weak nslm_certificate_summary
#pragma weak nslm_compress
#pragma weak nslm_compress_widths
#pragma weak nslm_connect
#pragma weak nslm_connect_widths
#pragma weak nslm_construct_opts_create
#pragma weak nslm_construct_opts_destroy
#pragma weak nslm_construct_opts_set_double
#pragma weak nslm_construct_opts_set_int
#pragma weak nslm_descent
#pragma weak nslm_global_minimize
#pragma weak nslm_landscape_barrier
#pragma weak nslm_landscape_directions
#pragma weak nslm_landscape_line
#pragma weak nslm_landscape_plane
#pragma weak nslm_landscape_plane3
#pragma weak nslm_params_active_units
#pragma weak nslm_path_certify
#pragma weak nslm_path_destroy
#pragma weak nslm_path_eval_grid
#pragma weak nslm_path_get_knot
#pragma weak nslm_path_grid_size
#pragma weak nslm_path_load
#pragma weak nslm_path_num_segments
#pragma weak nslm_path_save
#pragma weak nslm_path_segment_kind
#pragma weak nslm_path_segment_layers
#pragma weak nslm_plane_write_csv
#pragma weak nslm_plane_write_svg
#pragma weak nslm_profile_write_csv
#pragma weak nslm_profile_write_svg
#define NSLM_HAVE(fn) ((fn) != NULL)
#endif
