/* loss.c - (being written) */
#include "nslm.h"
