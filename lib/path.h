/* path.h */
#ifndef NSLM_LIB_PATH_H
#define NSLM_LIB_PATH_H
#include "nslm.h"
#endif
