/* reference.c - naive scalar reference implementations (being written). */
#include "reference.h"
int nslmt_reference_placeholder;
