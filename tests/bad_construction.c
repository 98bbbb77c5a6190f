/* bad_construction.c - bad-input cases of the construction area (being written). */
#include "badinput.h"

void nslmt_bad_construction(Suite *s) { (void)s; }
