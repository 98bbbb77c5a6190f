/* caratheodory.c - (being written) */
#include "nslm.h"
