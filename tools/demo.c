/* demo.c - nslm demo: the whole story on generated data, no input needed. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "progress.h"
#include "report.h"

static const char demo_help[] =
    "Usage: nslm demo [OPTION]...\n"
    "Runs the theorem of \"No Spurious Local Minima\" on built-in data: a wide\n"
    "ReLU network, a random start Theta, a certified global minimizer Gamma\n"
    "(the last layer solved with the inner layers fixed), the path connecting\n"
    "them and its descent cut; prints the widths (available, the paper's bound,\n"
    "what this instance needs), the risk along each kind of segment, the\n"
    "certificate's verdict, and writes an SVG of the risk along the path.\n\n"
    "  --constrained          a row-l1 constrained problem (ROW mode): r(Theta)\n"
    "                         = a max_j |||Theta^j|||_1 with a chosen so that Theta\n"
    "                         and Gamma are feasible; r stays <= 1 on the path\n"
    "  -o, --out FILE         the SVG (default nslm-demo.svg, or\n"
    "                         nslm-demo-constrained.svg; '-' for none)\n"
    "  -s, --seed N           seed of the data and of Theta (default 1)\n"
    "  --width P              hidden width (default 1200: the paper's bound is 1156)\n"
    "  --n N                  samples (default 16)\n"
    "  -t, --threads N        BLIS threads\n"
    "  -q, --quiet            no progress output\n"
    "  -h, --help             this help\n";

typedef struct {
  int constrained;
  const char *out;
  size_t seed, width, n;
} demo_args;

static int demo_option(int c, const char *arg, void *ctx) {
  demo_args *a = ctx;
  switch (c) {
  case OPT_CONSTRAINED: a->constrained = 1; return 0;
  case OPT_OUT: a->out = arg; return 0;
  case OPT_SEED: return cli_parse_size("--seed", arg, 0, SIZE_MAX, &a->seed) ? CLI_EUSAGE : 0;
  case OPT_N: return cli_parse_size("--n", arg, 1, 4096, &a->n) ? CLI_EUSAGE : 0;
  case OPT_WIDTH: return cli_parse_size("--width", arg, 1, 1 << 16, &a->width) ? CLI_EUSAGE : 0;
  default: return cli_usage_error("unexpected option");
  }
}

/* splitmix64: the demo's data is reproducible on every machine. */
static uint64_t next(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static double normal(uint64_t *s) {
  double u = ((double)(next(s) >> 11) + 0.5) * 0x1.0p-53;
  double v = ((double)(next(s) >> 11) + 0.5) * 0x1.0p-53;
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* X: n x d standard normal; Y: n x m, Y_ik = sin(X_i . w_k) for random w_k. */
static int make_data(size_t n, size_t d, size_t m, uint64_t seed, nslm_data **out) {
  double *x = malloc(n * d * sizeof *x), *y = malloc(n * m * sizeof *y);
  double *w = malloc(d * m * sizeof *w);
  int st = NSLM_ERR_NOMEM;
  if (x && y && w) {
    uint64_t s = seed;
    for (size_t i = 0; i < n * d; i++) x[i] = normal(&s);
    for (size_t i = 0; i < d * m; i++) w[i] = normal(&s);
    for (size_t i = 0; i < n; i++)
      for (size_t k = 0; k < m; k++) {
        double t = 0;
        for (size_t j = 0; j < d; j++) t += x[i * d + j] * w[j * m + k];
        y[i * m + k] = sin(t);
      }
    st = nslm_data_create(out, n, d, x, (ptrdiff_t)d, 1, m, y, (ptrdiff_t)m, 1);
  }
  free(x);
  free(y);
  free(w);
  return st;
}

typedef struct {
  nslm_data *data;
  nslm_net *net;
  nslm_params *theta, *gamma;
  nslm_loss *loss;
  nslm_constraint *con;
  nslm_construct_opts *opts;
  nslm_path *connect, *descent;
} demo_state;

static void demo_free(demo_state *s) {
  if (s->descent) nslm_path_destroy(s->descent);
  if (s->connect) nslm_path_destroy(s->connect);
  if (s->opts) nslm_construct_opts_destroy(s->opts);
  nslm_constraint_destroy(s->con);
  nslm_loss_destroy(s->loss);
  nslm_params_destroy(s->gamma);
  nslm_params_destroy(s->theta);
  nslm_net_destroy(s->net);
  nslm_data_destroy(s->data);
}

/* max over layers of the max row l1 norm: r of the constraint a_r = b_r = 1, q = 1. */
static int max_row_l1(const nslm_params *theta, double *out) {
  nslm_constraint *c = NULL;
  int st = nslm_constraint_create(&c, 1.0, 1.0, 1.0);
  if (st == NSLM_OK) st = nslm_constraint_eval(c, theta, out);
  nslm_constraint_destroy(c);
  return st;
}

/* The risk and (constrained) r of one parameter set, on one line. */
static int print_point(const char *key, const char *what, demo_state *s, const nslm_params *p) {
  double risk, r = 0;
  int st = nslm_eval_risk(s->net, p, s->data, s->loss, &risk);
  if (st == NSLM_OK && s->con) st = nslm_constraint_eval(s->con, p, &r);
  if (st) return st;
  printf("%-12s %s\n%-12s L = %.6g", key, what, "", risk);
  if (s->con) printf(", r = %.6f (%s)", r, r <= 1.0 ? "feasible" : "INFEASIBLE");
  printf("\n");
  return NSLM_OK;
}

static int run(const demo_args *a, demo_state *s) {
  const size_t d = 4, m = 2, l = 2, n = a->n, p = a->width;
  size_t widths[] = {d, p, p, m};
  int st = make_data(n, d, m, 1000 + a->seed, &s->data);
  if (st == NSLM_OK) st = nslm_net_create(&s->net, l, widths);
  if (st == NSLM_OK) st = nslm_loss_create(&s->loss, NSLM_LOSS_SQUARED, 0.0);
  if (st == NSLM_OK) st = nslm_params_create(&s->theta, s->net);
  if (st == NSLM_OK) st = nslm_params_init_random(s->theta, a->seed, NSLM_INIT_NORMAL, 1.0);
  if (st) return cli_lib_error(st, CLI_EFAIL, "setting up");

  printf("nslm demo%s: the theorem of \"No Spurious Local Minima\" on a wide ReLU network\n\n",
         a->constrained ? " --constrained" : "");
  printf("%-12s n = %zu samples, d = %zu inputs, m = %zu outputs (generated, seed %zu)\n", "data",
         n, d, m, a->seed);
  printf("%-12s %zu -> %zu -> %zu -> %zu, ReLU, no biases (depth l = %zu), squared loss\n",
         "network", d, p, p, m, l);

  int have_construction = NSLM_HAVE(nslm_global_minimize) && NSLM_HAVE(nslm_connect);
  if (have_construction) {
    /* Gamma: other random inner layers, the last layer solved exactly. */
    nslm_params *g0 = NULL;
    size_t rank = 0;
    int certified = 0;
    double gnorm = 0;
    st = nslm_params_create(&g0, s->net);
    if (st == NSLM_OK) st = nslm_params_init_random(g0, a->seed + 1, NSLM_INIT_NORMAL, 1.0);
    if (st == NSLM_OK) st = nslm_params_create(&s->gamma, s->net);
    if (st == NSLM_OK) st = nslm_construct_opts_create(&s->opts);
    if (st == NSLM_OK)
      st = nslm_global_minimize(s->net, g0, s->data, s->loss, s->opts, s->gamma, &rank,
                                &certified, &gnorm);
    nslm_params_destroy(g0);
    if (st) return cli_lib_error(st, CLI_EFAIL, "global minimizer");
    if (a->constrained) {
      double mt, mg;
      st = max_row_l1(s->theta, &mt);
      if (st == NSLM_OK) st = max_row_l1(s->gamma, &mg);
      double ar = 1.0 / fmax(mt, mg);
      if (st == NSLM_OK) st = nslm_constraint_create(&s->con, ar, ar, 1.0);
      if (st) return cli_lib_error(st, CLI_EFAIL, "constraint");
      printf("%-12s r(Theta) = a max_j |||Theta^j|||_1 (row l1, every layer), a = %.4g: the\n"
             "%-12s largest budget keeping Theta and Gamma feasible (r <= 1); ROW mode\n",
             "constraint", ar, "");
    } else {
      printf("%-12s none\n", "constraint");
    }
    printf("\n");
    st = print_point("start", "Theta: random (normal, fan-in scaled)", s, s->theta);
    if (st == NSLM_OK) {
      char what[256];
      snprintf(what, sizeof what,
               "Gamma: random inner layers, last layer by least squares;\n%-12s rank(A_l) = %zu "
               "%s n = %zu: %s",
               "", rank, rank == n ? "=" : "<", n,
               certified ? "a certified global minimizer" : "NOT certified global");
      st = print_point("target", what, s, s->gamma);
    }
    if (st) return cli_lib_error(st, CLI_EFAIL, "evaluation");
    printf("\nwidths per hidden layer\n");
    size_t need[2] = {0, 0};
    int fits = 0;
    st = nslm_connect_widths(s->net, s->theta, s->gamma, s->data, s->con, s->opts, need, l, &fits);
    if (st) return cli_lib_error(st, CLI_EFAIL, "widths");
    printf("  %-40s %zu %zu\n", "available", p, p);
    printf("  %-40s %zu\n", "the paper's bound 2 m (n+1)^l", nslm_net_paper_width_bound(s->net, n));
    printf("  %-40s %zu %zu (%s)\n", "this instance needs s(Theta) + s(Gamma)", need[0], need[1],
           fits ? "fits" : "TOO NARROW");
  } else {
    /* The library of this build has the model layer only. */
    double risk, r = 0;
    st = nslm_eval_risk(s->net, s->theta, s->data, s->loss, &risk);
    if (st == NSLM_OK) st = max_row_l1(s->theta, &r);
    if (st) return cli_lib_error(st, CLI_EFAIL, "evaluation");
    printf("%-12s %zu per hidden layer available; the paper's bound 2 m (n+1)^l = %zu\n",
           "widths", p, nslm_net_paper_width_bound(s->net, n));
    printf("%-12s Theta random (normal, fan-in scaled): L(Theta) = %.6g, max row l1 norm %.6g\n",
           "start", risk, r);
    printf("\n(the construction is not in this build of libnslm yet)\n");
    return CLI_OK;
  }

  /* The path and its descent cut. */
  double cut = 0;
  st = nslm_connect(s->net, s->theta, s->gamma, s->data, s->con, s->opts, &s->connect);
  if (st == NSLM_OK)
    st = nslm_descent(s->net, s->theta, s->gamma, s->data, s->loss, s->con, s->opts, &s->descent,
                      &cut);
  if (st) return cli_lib_error(st, CLI_EFAIL, "connect");
  printf("\nconnect: %zu segments (compress Theta, relocate, bridge, compress Gamma reversed)\n",
         nslm_path_num_segments(s->connect));
  int code = report_segments(stdout, s->net, s->connect, s->data, s->loss, s->con);
  if (code) return code;
  printf("\ndescent: cut at c = %.6g of the convex segment\n", cut);
  code = report_segments(stdout, s->net, s->descent, s->data, s->loss, s->con);
  return code;
}

int cmd_demo(int argc, char **argv) {
  static const struct option opts[] = {
      CLI_OPT_THREADS, CLI_OPT_QUIET, CLI_OPT_HELP,
      {"constrained", no_argument, NULL, OPT_CONSTRAINED},
      {"out", required_argument, NULL, OPT_OUT},
      {"seed", required_argument, NULL, OPT_SEED},
      {"width", required_argument, NULL, OPT_WIDTH},
      {"n", required_argument, NULL, OPT_N},
      CLI_OPT_END};
  cli_opts o = {0};
  demo_args a = {.seed = 1, .width = 1200, .n = 16};
  int code = cli_parse(argc, argv, opts, &o, demo_option, &a, demo_help, 0, NULL);
  if (code) return code == CLI_HELP ? CLI_OK : code;
  if (a.out == NULL) a.out = a.constrained ? "nslm-demo-constrained.svg" : "nslm-demo.svg";
  progress_install_sigint();
  demo_state s = {0};
  code = run(&a, &s);
  demo_free(&s);
  return code;
}
