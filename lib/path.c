/* path.c - (being written) */
#include "nslm.h"
