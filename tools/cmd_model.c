/* cmd_model.c - nslm info and nslm eval: the model and its objective. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "report.h"

/* ---------------------------------------------------------------- info */

static const char info_help[] =
    "Usage: nslm info -p THETA [-x X -y Y | --n N] [-g GAMMA] [OPTION]...\n"
    "Widths of the network of THETA: available per hidden layer, the paper's\n"
    "bound 2 m (n+1)^l, the active units of THETA, and, with data, the widths\n"
    "its compression leaves and (with -g) what connecting THETA to GAMMA needs.\n\n"
    "  --n N                  number of samples for the bound, without data\n"
    "  --mode MODE            compression mode: row (default), joint, shared\n"
    "  --rank-tol TOL         relative rank tolerance (default: the library's)\n"
    "Output: one 'key value...' line per fact (see nslm(1)).\n\n";

typedef struct {
  const char *mode;
  double rank_tol;
  size_t n;
  double lambda;
  const char *outputs, *losses;
} model_args;

static int model_option(int c, const char *arg, void *ctx) {
  model_args *a = ctx;
  switch (c) {
  case OPT_MODE: a->mode = arg; return 0;
  case OPT_RANK_TOL:
    if (cli_parse_double("--rank-tol", arg, &a->rank_tol)) return CLI_EUSAGE;
    return 0;
  case OPT_N: return cli_parse_size("--n", arg, 1, (size_t)1 << 40, &a->n) ? CLI_EUSAGE : 0;
  case OPT_LAMBDA:
    if (cli_parse_double("--lambda", arg, &a->lambda)) return CLI_EUSAGE;
    if (!(a->lambda >= 0)) return cli_usage_error("--lambda must be >= 0");
    return 0;
  case OPT_OUTPUTS: a->outputs = arg; return 0;
  case OPT_LOSSES: a->losses = arg; return 0;
  default: return cli_usage_error("unexpected option");
  }
}

int cmd_info(int argc, char **argv) {
  static const struct option opts[] = {
      CLI_OPT_X, CLI_OPT_Y, CLI_OPT_PARAMS, CLI_OPT_GAMMA, CLI_OPT_ACT, CLI_OPT_CONSTRAINT,
      CLI_OPT_THREADS, CLI_OPT_QUIET, CLI_OPT_HELP,
      {"n", required_argument, NULL, OPT_N},
      {"mode", required_argument, NULL, OPT_MODE},
      {"rank-tol", required_argument, NULL, OPT_RANK_TOL},
      CLI_OPT_END};
  char help[4096];
  snprintf(help, sizeof help, "%s%s", info_help, cli_common_help);
  cli_opts o = {0};
  model_args a = {.rank_tol = -1};
  int code = cli_parse(argc, argv, opts, &o, model_option, &a, help, 0, NULL);
  if (code) return code == CLI_HELP ? CLI_OK : code;
  if ((o.x == NULL) != (o.y == NULL)) return cli_usage_error("give both -x and -y, or neither");
  if (o.gamma && o.x == NULL) return cli_usage_error("-g needs the data (-x, -y)");
  nslm_construct_opts *copts = NULL;
  if (cli_make_construct_opts(a.mode, a.rank_tol, &copts)) return CLI_EUSAGE;
  cli_problem p;
  code = cli_load(&o, NEED_PARAMS | (o.x ? NEED_DATA : 0) | (o.gamma ? NEED_GAMMA : 0), &p);
  if (code == CLI_OK) {
    size_t n = p.data ? nslm_data_n(p.data) : a.n;
    code = report_widths(stdout, p.net, p.theta, p.gamma, p.data, p.con, copts, n);
  }
  nslm_construct_opts_destroy(copts);
  cli_problem_free(&p);
  return code;
}

/* ---------------------------------------------------------------- eval */

static const char eval_help[] =
    "Usage: nslm eval -p THETA -x X -y Y [OPTION]...\n"
    "The risk L(THETA) = sum_i loss(g(x_i), y_i) on the data, its mean, and the\n"
    "constraint value r(THETA) with feasibility.\n\n"
    "  --lambda L             also the penalized objective L + lambda r\n"
    "  --outputs FILE         write g(X), n x m (.npy, or .csv)\n"
    "  --losses FILE          write the per-sample losses, n x 1 (.npy, or .csv)\n"
    "Output: one 'key value' line per quantity (see nslm(1)).\n\n";

int cmd_eval(int argc, char **argv) {
  static const struct option opts[] = {
      CLI_OPT_X, CLI_OPT_Y, CLI_OPT_PARAMS, CLI_OPT_ACT, CLI_OPT_LOSS, CLI_OPT_CONSTRAINT,
      CLI_OPT_THREADS, CLI_OPT_QUIET, CLI_OPT_HELP,
      {"lambda", required_argument, NULL, OPT_LAMBDA},
      {"outputs", required_argument, NULL, OPT_OUTPUTS},
      {"losses", required_argument, NULL, OPT_LOSSES},
      CLI_OPT_END};
  char help[4096];
  snprintf(help, sizeof help, "%s%s", eval_help, cli_common_help);
  cli_opts o = {0};
  model_args a = {.rank_tol = -1, .lambda = -1};
  int code = cli_parse(argc, argv, opts, &o, model_option, &a, help, 0, NULL);
  if (code) return code == CLI_HELP ? CLI_OK : code;
  cli_problem p;
  code = cli_load(&o, NEED_PARAMS | NEED_DATA, &p);
  if (code) return code;
  size_t n = nslm_data_n(p.data), m = nslm_data_m(p.data);
  double risk, r = 0, objective = 0;
  double *out = malloc(n * m * sizeof *out), *losses = malloc(n * sizeof *losses);
  int st = out && losses ? NSLM_OK : NSLM_ERR_NOMEM;
  if (st == NSLM_OK) st = nslm_eval_risk(p.net, p.theta, p.data, p.loss, &risk);
  if (st == NSLM_OK && p.con) st = nslm_constraint_eval(p.con, p.theta, &r);
  if (st == NSLM_OK && a.lambda >= 0 && p.con)
    st = nslm_eval_objective(p.net, p.theta, p.data, p.loss, p.con, a.lambda, &objective);
  if (st == NSLM_OK && a.outputs)
    st = nslm_eval_outputs(p.net, p.theta, p.data, out, (ptrdiff_t)m, 1);
  if (st == NSLM_OK && a.losses) st = nslm_eval_losses(p.net, p.theta, p.data, p.loss, losses, n);
  if (st) {
    code = cli_lib_error(st, CLI_EFAIL, "evaluation");
  } else {
    /* Files first (atomic each): a failure prints no result. */
    if (a.outputs) code = cli_write_matrix(a.outputs, n, m, out);
    if (code == CLI_OK && a.losses) code = cli_write_matrix(a.losses, n, 1, losses);
  }
  if (code == CLI_OK) {
    printf("risk %.17g\n", risk);
    printf("mean_risk %.17g\n", risk / (double)n);
    printf("samples %zu\n", n);
    if (p.con) {
      printf("r %.17g\n", r);
      printf("feasible %s\n", r <= 1.0 ? "yes" : "no");
      if (a.lambda >= 0) printf("objective %.17g\n", objective);
    } else {
      printf("r unconstrained\n");
      if (a.lambda >= 0) printf("objective %.17g\n", risk);
    }
  }
  free(out);
  free(losses);
  cli_problem_free(&p);
  return code;
}
