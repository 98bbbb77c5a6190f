/* block.h */
#ifndef NSLM_LIB_BLOCK_H
#define NSLM_LIB_BLOCK_H
#include "nslm.h"
#endif
