/* cmd_path.c - nslm certify and nslm profile: paths read from files. */
#include "cli.h"
#include "commands.h"

int cmd_certify(int argc, char **argv) {
  return cli_error(CLI_EFAIL, "not available yet in this build");
}

int cmd_profile(int argc, char **argv) {
  return cli_error(CLI_EFAIL, "not available yet in this build");
}
