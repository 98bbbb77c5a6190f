/* bad_forward.c - bad-input cases of the forward area (being written). */
#include "badinput.h"

void nslmt_bad_forward(Suite *s) { (void)s; }
