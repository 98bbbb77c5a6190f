/* forward.c - (being written) */
#include "nslm.h"
