/* bad_loss.c - bad-input cases of the loss area (being written). */
#include "badinput.h"

void nslmt_bad_loss(Suite *s) { (void)s; }
