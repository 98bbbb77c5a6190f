/* test_model.c - (being written) */
#include <stdlib.h>
int main(void) { return 77; /* skipped until written */ }
