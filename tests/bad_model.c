/* bad_model.c - bad-input cases of the model area (being written). */
#include "badinput.h"

void nslmt_bad_model(Suite *s) { (void)s; }
