/* version.c - the version of the library actually loaded. */
#include "nslm.h"

int nslm_version_number(void) { return NSLM_VERSION_NUMBER; }
const char *nslm_version_string(void) { return NSLM_VERSION_STRING; }
