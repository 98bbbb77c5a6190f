/* connect.c - (being written) */
#include "nslm.h"
