/* connect.h - the bridge between block parameters (DESIGN 2.4) and the
 * theorem's path (DESIGN 2.5): nslm_connect, nslm_descent and
 * nslm_connect_widths are its public entry points; nothing internal is
 * shared yet. */
#ifndef NSLM_LIB_CONNECT_H
#define NSLM_LIB_CONNECT_H

#include "nslm.h"

#endif
