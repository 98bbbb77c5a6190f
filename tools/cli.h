/* cli.h - what the subcommands of the nslm tool share: exit codes, error
 * lines, the common options (data, parameters, activations, loss,
 * constraint) and loading them into library objects. */
#ifndef NSLM_TOOLS_CLI_H
#define NSLM_TOOLS_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

#include "nslm.h"

/* Exit codes, documented in nslm(1). */
enum {
  CLI_OK = 0,        /* success (certify: the certificate passed) */
  CLI_EFAIL = 1,     /* the computation failed (too narrow, numerical, ...) */
  CLI_EUSAGE = 2,    /* bad command line: unknown option, missing or bad value */
  CLI_EINPUT = 3,    /* an input file is unreadable, corrupt or of the wrong shape */
  CLI_EOUTPUT = 4,   /* an output file could not be written */
  CLI_ECERT = 5,     /* certify/descent: a certificate did not pass */
  CLI_EINTR = 130    /* interrupted (Ctrl-C): cancelled cleanly, nothing written */
};

/* The running subcommand's name, for messages ("nslm eval: ..."). */
extern const char *cli_cmd;

/* Prints "nslm CMD: message" on stderr and returns code. */
int cli_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same for a failed library call: "nslm CMD: what: <detail>", the
 * detail being nslm_last_error() (or nslm_strerror(status)).  The exit
 * code: CLI_EINTR for NSLM_ERR_CANCELLED, else code. */
int cli_lib_error(int status, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "nslm CMD: missing/unknown ...; try 'nslm CMD --help'" -> CLI_EUSAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---------------------------------------------------------------- options */

/* Common options; each subcommand's table lists the ones it accepts. */
enum {
  OPT_X = 'x', OPT_Y = 'y', OPT_PARAMS = 'p', OPT_GAMMA = 'g', OPT_ACT = 'a',
  OPT_LOSS = 'l', OPT_CONSTRAINT = 'c', OPT_THREADS = 't', OPT_OUT = 'o', OPT_QUIET = 'q',
  OPT_HELP = 'h', OPT_SEED = 's',
  OPT_LONG_ONLY = 256, /* long-only options of the subcommands start here */
  OPT_CSV, OPT_SVG, OPT_POINTS, OPT_MODE, OPT_LAMBDA, OPT_OUTPUTS, OPT_LOSSES, OPT_CONSTRAINED,
  OPT_RANK_TOL, OPT_TOL, OPT_GRID, OPT_THIRD, OPT_N,
  OPT_WIDTH, OPT_TITLE, OPT_KIND, OPT_ALPHA, OPT_BETA
};

#define CLI_OPT_X {"x", required_argument, NULL, OPT_X}
#define CLI_OPT_Y {"y", required_argument, NULL, OPT_Y}
#define CLI_OPT_PARAMS {"params", required_argument, NULL, OPT_PARAMS}
#define CLI_OPT_GAMMA {"gamma", required_argument, NULL, OPT_GAMMA}
#define CLI_OPT_ACT {"act", required_argument, NULL, OPT_ACT}
#define CLI_OPT_LOSS {"loss", required_argument, NULL, OPT_LOSS}
#define CLI_OPT_CONSTRAINT {"constraint", required_argument, NULL, OPT_CONSTRAINT}
#define CLI_OPT_THREADS {"threads", required_argument, NULL, OPT_THREADS}
#define CLI_OPT_QUIET {"quiet", no_argument, NULL, OPT_QUIET}
#define CLI_OPT_HELP {"help", no_argument, NULL, OPT_HELP}
#define CLI_OPT_END {NULL, 0, NULL, 0}

/* What the common options name. */
typedef struct {
  const char *x, *y;          /* data files: .npy or .csv */
  const char *params, *gamma; /* parameter files: .npz, or .npy files joined by commas */
  const char *act;            /* activations: one for all or one per hidden layer */
  const char *loss;           /* loss spec, default "squared" */
  const char *constraint;     /* "none" (default) or "a_r,b_r,q" */
  size_t threads;             /* 0: library default */
  int quiet;
} cli_opts;

/* The objects built from cli_opts (NULL when not asked for). */
typedef struct {
  nslm_net *net;
  nslm_params *theta, *gamma;
  nslm_data *data;
  nslm_loss *loss;
  nslm_constraint *con; /* NULL = unconstrained */
} cli_problem;

/* Parses argv (argv[0] = the command) with getopt_long over longopts
 * (short forms: the entries whose val is a letter).  Common options go
 * into o, the others to other(c, optarg, ctx) (returns 0, or an exit
 * code).  --help prints help and gives CLI_HELP.  Positional arguments
 * are left in argv[*first..argc) (at most max_pos of them).  Returns
 * CLI_OK, CLI_HELP or an exit code (message printed). */
enum { CLI_HELP = -1 };
int cli_parse(int argc, char **argv, const struct option *longopts, cli_opts *o,
              int (*other)(int c, const char *arg, void *ctx), void *ctx, const char *help,
              int max_pos, int *first);

/* Handles a common option c (argument arg); 1 if handled, 0 if not one of
 * them, -1 on a bad value (message printed). */
int cli_common_option(cli_opts *o, int c, const char *arg);

/* What cli_load needs. */
enum { NEED_DATA = 1, NEED_PARAMS = 2, NEED_GAMMA = 4, NEED_LOSS = 8 };

/* Builds the objects named by o (the loss and the constraint always;
 * data, Theta and Gamma as need says: missing required files are a usage
 * error).  Checks that shapes agree.  Returns CLI_OK or an exit code (the
 * message printed); p is then released. */
int cli_load(const cli_opts *o, int need, cli_problem *p);
void cli_problem_free(cli_problem *p);
/* 1 if the two parameter sets have the same widths. */
int cli_same_widths(const nslm_params *a, const nslm_params *b);

/* Parsers of values (0 on success; a message printed otherwise). */
int cli_parse_size(const char *opt, const char *s, size_t min, size_t max, size_t *out);
int cli_parse_double(const char *opt, const char *s, double *out);
/* Activation spec "relu,tanh,leaky:0.1,poly:1:2" applied to net's hidden layers. */
int cli_apply_activations(nslm_net *net, const char *spec);
int cli_make_loss(const char *spec, nslm_loss **out);
int cli_make_constraint(const char *spec, nslm_constraint **out);

/* Loading and saving files (by extension: .npy, .csv; .npz for params). */
int cli_read_matrix(const char *path, double **a, size_t *rows, size_t *cols);
int cli_read_params(const char *spec, nslm_params **out);
int cli_save_params(const nslm_params *theta, const char *path);
int cli_save_path(const nslm_path *path, const char *file);
int cli_read_path(const char *file, nslm_path **out);
/* The path's widths must be those of p->theta (the network named by -p;
 * path files carry widths but not activations): loads the path's first
 * knot into p->theta.  An exit code. */
int cli_check_path_net(const nslm_path *path, const cli_problem *p, const char *file);
int cli_write_npy(const char *path, size_t rows, size_t cols, const double *a);
/* A row-major matrix to .csv (by extension, %.17g) or else .npy. */
int cli_write_matrix(const char *path, size_t rows, size_t cols, const double *a);

/* Construction options from --mode (row, joint, shared; NULL = row) and
 * --rank-tol (< 0: default).  0 or CLI_EUSAGE (message printed). */
int cli_make_construct_opts(const char *mode, double rank_tol, nslm_construct_opts **out);

/* Output text files are written atomically: cli_out_open gives a stream
 * on a temporary file beside path; cli_out_commit flushes, syncs and
 * renames it over path (CLI_OK or CLI_EOUTPUT, message printed);
 * cli_out_abort removes it. */
typedef struct {
  FILE *f;
  char *tmp;
  const char *path;
} cli_out;
int cli_out_open(cli_out *o, const char *path);
int cli_out_commit(cli_out *o);
void cli_out_abort(cli_out *o);

/* Common text. */
extern const char cli_common_help[];
const char *cli_act_name(int kind);
const char *cli_kind_name(int seg_kind);

#endif
