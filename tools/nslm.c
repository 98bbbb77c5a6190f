/* nslm - the libnslm command-line tool: subcommand dispatch. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "nslm.h"

static const struct {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} commands[] = {
    {"demo", cmd_demo, "the whole story on built-in data (no arguments needed)"},
    {"info", cmd_info, "widths: available, the paper's bound, what an instance needs"},
    {"eval", cmd_eval, "risk, per-sample losses, outputs, constraint value"},
    {"compress", cmd_compress, "exact pruning of hidden units on the training data"},
    {"connect", cmd_connect, "the theorem's path from Theta to Gamma"},
    {"descent", cmd_descent, "the same path cut where the risk is lowest"},
    {"certify", cmd_certify, "check a path's claims (constant/convex segments, r)"},
    {"profile", cmd_profile, "risk along a path: CSV and SVG"},
    {"line", cmd_line, "risk along the straight line between two parameter sets, barrier"},
    {"plane", cmd_plane, "risk on a 2-D slice of parameter space: CSV and SVG"},
};

static void usage(FILE *f) {
  fprintf(f,
          "Usage: nslm COMMAND [OPTION]...\n"
          "Certified barrier-free paths in the loss landscapes of wide networks.\n\n"
          "Commands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
  fprintf(f,
          "\n'nslm COMMAND --help' describes a command; 'nslm demo' needs no input.\n"
          "Exit status: 0 success, 1 the computation failed, 2 usage error, 3 bad input\n"
          "file, 4 an output could not be written, 5 a certificate failed, 130 interrupted.\n"
          "See nslm(1).\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return CLI_EUSAGE;
  }
  const char *name = argv[1];
  if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
    usage(stdout);
    return CLI_OK;
  }
  if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
    printf("nslm %s (libnslm %s)\n", NSLM_VERSION_STRING, nslm_version_string());
    return CLI_OK;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(name, commands[i].name) == 0) {
      cli_cmd = commands[i].name;
      return commands[i].run(argc - 1, argv + 1);
    }
  fprintf(stderr, "nslm: unknown command '%s' (try 'nslm --help')\n", name);
  return CLI_EUSAGE;
}
