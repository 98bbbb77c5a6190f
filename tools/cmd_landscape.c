/* cmd_landscape.c - nslm line and nslm plane: the landscape around solutions. */
#include "cli.h"
#include "commands.h"

int cmd_line(int argc, char **argv) {
  return cli_error(CLI_EFAIL, "not available yet in this build");
}

int cmd_plane(int argc, char **argv) {
  return cli_error(CLI_EFAIL, "not available yet in this build");
}
