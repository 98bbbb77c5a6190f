/* eval.c - (being written) */
#include "nslm.h"
