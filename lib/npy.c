/* npy.c - (being written) */
#include "nslm.h"
