/* block.c - (being written) */
#include "nslm.h"
