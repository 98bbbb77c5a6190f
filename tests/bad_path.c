/* bad_path.c - bad-input cases of the path area (being written). */
#include "badinput.h"

void nslmt_bad_path(Suite *s) { (void)s; }
