/* bad_caratheodory.c - bad-input cases of the caratheodory area (being written). */
#include "badinput.h"

void nslmt_bad_caratheodory(Suite *s) { (void)s; }
