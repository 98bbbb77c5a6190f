/* connect.h */
#ifndef NSLM_LIB_CONNECT_H
#define NSLM_LIB_CONNECT_H
#include "nslm.h"
#endif
