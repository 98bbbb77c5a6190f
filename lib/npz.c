/* npz.c - (being written) */
#include "nslm.h"
