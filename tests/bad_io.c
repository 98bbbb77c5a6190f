/* bad_io.c - bad-input cases of the io area (being written). */
#include "badinput.h"

void nslmt_bad_io(Suite *s) { (void)s; }
