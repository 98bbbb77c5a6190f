/* caratheodory.h */
#ifndef NSLM_LIB_CARATHEODORY_H
#define NSLM_LIB_CARATHEODORY_H
#include "nslm.h"
#endif
