/* cmd_construct.c - nslm compress, connect and descent: the construction. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "report.h"

typedef struct {
  const char *mode, *out;
  double rank_tol;
} construct_args;

static int construct_option(int c, const char *arg, void *ctx) {
  construct_args *a = ctx;
  switch (c) {
  case OPT_MODE: a->mode = arg; return 0;
  case OPT_OUT: a->out = arg; return 0;
  case OPT_RANK_TOL:
    if (cli_parse_double("--rank-tol", arg, &a->rank_tol)) return CLI_EUSAGE;
    return 0;
  default: return cli_usage_error("unexpected option");
  }
}

static const char construct_options_help[] =
    "  --mode MODE            compression: row (default; never raises r), joint\n"
    "                         (width rank(A_j) <= n; may raise r), shared\n"
    "  --rank-tol TOL         relative rank tolerance (default: the library's)\n";

/* Largest |a - b| over |a| + tiny, for "outputs unchanged" lines. */
static double max_rel_change(const double *a, const double *b, size_t len) {
  double num = 0, den = 0;
  for (size_t i = 0; i < len; i++) {
    num = fmax(num, fabs(a[i] - b[i]));
    den = fmax(den, fabs(a[i]));
  }
  return den > 0 ? num / den : num;
}

/* ---------------------------------------------------------------- compress */

static const char compress_help[] =
    "Usage: nslm compress -p THETA -x X -y Y -o OUT.npz [OPTION]...\n"
    "Compresses THETA to block form: hidden units are pruned exactly on the\n"
    "training data (every training output unchanged), outermost layer first,\n"
    "by Caratheodory reductions (DESIGN 2.2).  Prints the active units per\n"
    "hidden layer before and after, r before and after, and the largest output\n"
    "change; writes the compressed parameters to OUT.npz.\n\n"
    "  -o, --out FILE         the compressed parameters (.npz)\n";

int cmd_compress(int argc, char **argv) {
  static const struct option opts[] = {
      CLI_OPT_X, CLI_OPT_Y, CLI_OPT_PARAMS, CLI_OPT_ACT, CLI_OPT_LOSS, CLI_OPT_CONSTRAINT,
      CLI_OPT_THREADS, CLI_OPT_QUIET, CLI_OPT_HELP,
      {"out", required_argument, NULL, OPT_OUT},
      {"mode", required_argument, NULL, OPT_MODE},
      {"rank-tol", required_argument, NULL, OPT_RANK_TOL},
      CLI_OPT_END};
  char help[4096];
  snprintf(help, sizeof help, "%s%s\n%s", compress_help, construct_options_help, cli_common_help);
  cli_opts o = {0};
  construct_args a = {.rank_tol = -1};
  int code = cli_parse(argc, argv, opts, &o, construct_option, &a, help, 0, NULL);
  if (code) return code == CLI_HELP ? CLI_OK : code;
  if (a.out == NULL) return cli_usage_error("missing -o FILE (where the result goes)");
  nslm_construct_opts *copts = NULL;
  if (cli_make_construct_opts(a.mode, a.rank_tol, &copts)) return CLI_EUSAGE;
  cli_problem p;
  code = cli_load(&o, NEED_PARAMS | NEED_DATA, &p);
  if (code) {
    nslm_construct_opts_destroy(copts);
    return code;
  }
  size_t l = nslm_net_depth(p.net), n = nslm_data_n(p.data), m = nslm_data_m(p.data);
  size_t *before = calloc(l, sizeof *before), *after = calloc(l, sizeof *after);
  double *g0 = malloc(n * m * sizeof *g0), *g1 = malloc(n * m * sizeof *g1);
  double r0 = 0, r1 = 0, L0 = 0, L1 = 0;
  nslm_params *out = NULL;
  int st = before && after && g0 && g1 ? NSLM_OK : NSLM_ERR_NOMEM;
  for (size_t j = 1; st == NSLM_OK && j <= l; j++)
    st = nslm_params_active_units(p.theta, j, NULL, 0, &before[j - 1]);
  if (st == NSLM_OK) st = nslm_params_create(&out, p.net);
  if (st == NSLM_OK)
    st = nslm_compress(p.net, p.theta, p.data, p.con, copts, out, NULL, after, l, &r0, &r1);
  if (st == NSLM_OK) st = nslm_eval_outputs(p.net, p.theta, p.data, g0, (ptrdiff_t)m, 1);
  if (st == NSLM_OK) st = nslm_eval_outputs(p.net, out, p.data, g1, (ptrdiff_t)m, 1);
  if (st == NSLM_OK) st = nslm_eval_risk(p.net, p.theta, p.data, p.loss, &L0);
  if (st == NSLM_OK) st = nslm_eval_risk(p.net, out, p.data, p.loss, &L1);
  if (st) {
    if (st == NSLM_ERR_INFEASIBLE)
      fprintf(stderr, "nslm compress: r before %.6g, r after %.6g\n", r0, r1);
    code = cli_lib_error(st, CLI_EFAIL, "compression");
  } else {
    code = cli_save_params(out, a.out);
  }
  if (code == CLI_OK) {
    printf("active_before");
    for (size_t j = 0; j < l; j++) printf(" %zu", before[j]);
    printf("\nactive_after");
    for (size_t j = 0; j < l; j++) printf(" %zu", after[j]);
    printf("\nrisk_before %.17g\nrisk_after %.17g\n", L0, L1);
    printf("outputs_max_rel_change %.3g\n", max_rel_change(g0, g1, n * m));
    if (p.con) printf("r_before %.17g\nr_after %.17g\n", r0, r1);
    printf("written %s\n", a.out);
  }
  free(before);
  free(after);
  free(g0);
  free(g1);
  nslm_params_destroy(out);
  nslm_construct_opts_destroy(copts);
  cli_problem_free(&p);
  return code;
}

/* ---------------------------------------------------------------- connect, descent */

static const char connect_help[] =
    "Usage: nslm connect -p THETA -g GAMMA -x X -y Y [-o PATH] [OPTION]...\n"
    "Builds the theorem's path from THETA to GAMMA (DESIGN 2.5): compress THETA,\n"
    "relocate its units off GAMMA's, the bridge (constant, one convex segment,\n"
    "constant), and GAMMA's compression reversed.  The risk is constant, then\n"
    "convex, then constant.  Prints the widths needed and one line per segment\n"
    "(kind, layers changed, risk at both ends); -o saves the path.\n\n"
    "  -o, --out FILE         the path (a path file, see nslm_path_save(3))\n";

static const char descent_help[] =
    "Usage: nslm descent -p THETA -g GAMMA -x X -y Y [-o PATH] [OPTION]...\n"
    "The path of 'nslm connect' cut at the minimizer of the risk on its convex\n"
    "segment: the risk never increases along it and ends at most at\n"
    "min(L(THETA), L(GAMMA)); when GAMMA is a global minimizer, at one.\n"
    "Prints the cut and one line per segment; -o saves the path.\n\n"
    "  -o, --out FILE         the path (a path file, see nslm_path_save(3))\n";

static int connect_or_descent(int argc, char **argv, int descent) {
  static const struct option opts[] = {
      CLI_OPT_X, CLI_OPT_Y, CLI_OPT_PARAMS, CLI_OPT_GAMMA, CLI_OPT_ACT, CLI_OPT_LOSS,
      CLI_OPT_CONSTRAINT, CLI_OPT_THREADS, CLI_OPT_QUIET, CLI_OPT_HELP,
      {"out", required_argument, NULL, OPT_OUT},
      {"mode", required_argument, NULL, OPT_MODE},
      {"rank-tol", required_argument, NULL, OPT_RANK_TOL},
      CLI_OPT_END};
  char help[4096];
  snprintf(help, sizeof help, "%s%s\n%s", descent ? descent_help : connect_help,
           construct_options_help, cli_common_help);
  cli_opts o = {0};
  construct_args a = {.rank_tol = -1};
  int code = cli_parse(argc, argv, opts, &o, construct_option, &a, help, 0, NULL);
  if (code) return code == CLI_HELP ? CLI_OK : code;
  nslm_construct_opts *copts = NULL;
  if (cli_make_construct_opts(a.mode, a.rank_tol, &copts)) return CLI_EUSAGE;
  cli_problem p;
  code = cli_load(&o, NEED_PARAMS | NEED_GAMMA | NEED_DATA, &p);
  if (code) {
    nslm_construct_opts_destroy(copts);
    return code;
  }
  code = report_widths(stdout, p.net, p.theta, p.gamma, p.data, p.con, copts,
                       nslm_data_n(p.data));
  nslm_path *path = NULL;
  double cut = 0;
  if (code == CLI_OK) {
    int st = descent ? nslm_descent(p.net, p.theta, p.gamma, p.data, p.loss, p.con, copts, &path,
                                    &cut)
                     : nslm_connect(p.net, p.theta, p.gamma, p.data, p.con, copts, &path);
    if (st) code = cli_lib_error(st, CLI_EFAIL, descent ? "descent" : "connect");
  }
  if (code == CLI_OK && a.out) code = cli_save_path(path, a.out);
  if (code == CLI_OK) {
    if (descent) printf("cut %.17g\n", cut);
    code = report_segments(stdout, p.net, path, p.data, p.loss, p.con);
    if (code == CLI_OK && a.out) printf("written %s\n", a.out);
  }
  nslm_path_destroy(path);
  nslm_construct_opts_destroy(copts);
  cli_problem_free(&p);
  return code;
}

int cmd_connect(int argc, char **argv) { return connect_or_descent(argc, argv, 0); }
int cmd_descent(int argc, char **argv) { return connect_or_descent(argc, argv, 1); }
