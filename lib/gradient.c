/* gradient.c - (being written) */
#include "nslm.h"
