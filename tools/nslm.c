/* nslm - the libnslm command-line tool (being written). */
#include <stdio.h>
#include <string.h>
#include "nslm.h"
int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--version") == 0) { printf("nslm %s\n", nslm_version_string()); return 0; }
  fprintf(stderr, "nslm: not yet\n");
  return 1;
}
