/* constraint.c - (being written) */
#include "nslm.h"
