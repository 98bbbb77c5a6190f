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
  int constrained, quiet;
  const char *out;
  size_t seed, width, n, threads;
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
  nslm_path *descent;
} demo_state;

static void demo_free(demo_state *s) {
  if (s->descent) nslm_path_destroy(s->descent);
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

/* Points of the demo's profile per segment: a constant segment needs few
 * (the certificates check it everywhere), the convex one many (it is the
 * curve of the plot).  Knots are shared between segments. */
#define DEMO_POINTS_CONSTANT 3
#define DEMO_POINTS_CURVED 65

static size_t points_of(const nslm_path *path, size_t s) {
  int kind = NSLM_SEG_GENERAL;
  nslm_path_segment_kind(path, s, &kind);
  return kind == NSLM_SEG_CONSTANT ? DEMO_POINTS_CONSTANT : DEMO_POINTS_CURVED;
}

/* The risk along the path; t and risk malloc'ed, *npts points; segment s
 * covers the points first[s] .. first[s + 1] (first has S + 1 entries). */
static int profile(demo_state *s, const nslm_path *path, int quiet, size_t *npts, double **t,
                   double **risk, size_t **first) {
  size_t S = nslm_path_num_segments(path), n = 1;
  *first = malloc((S + 1) * sizeof **first);
  for (size_t g = 0; *first && g < S; g++) {
    (*first)[g] = n - 1;
    n += points_of(path, g) - 1;
  }
  if (*first) (*first)[S] = n - 1;
  *t = malloc(n * sizeof **t);
  *risk = malloc(n * sizeof **risk);
  int st = *first && *t && *risk ? NSLM_OK : NSLM_ERR_NOMEM;
  if (st == NSLM_OK) {
    (*t)[0] = 0.0;
    for (size_t g = 0; g < S; g++) {
      size_t k = points_of(path, g) - 1;
      for (size_t i = 1; i <= k; i++)
        (*t)[(*first)[g] + i] = ((double)g + (double)i / (double)k) / (double)S;
    }
    progress pr;
    progress_begin(&pr, "profile", quiet);
    st = nslm_path_eval(path, s->net, s->data, s->loss, NULL, n, *t, *risk, NULL, NULL, 0, 0,
                        NSLM_EVAL_STRUCTURED, progress_callback, &pr);
    progress_end(&pr);
  }
  if (st) {
    free(*first);
    free(*t);
    free(*risk);
    return cli_lib_error(st, CLI_EFAIL, "profile");
  }
  *npts = n;
  return CLI_OK;
}

/* One line per run of segments of the same kind: the risk along them. */
static void summarize(const nslm_path *path, const double *risk, const size_t *first) {
  size_t S = nslm_path_num_segments(path);
  for (size_t s0 = 0; s0 < S;) {
    int kind;
    nslm_path_segment_kind(path, s0, &kind);
    size_t s1 = s0;
    for (int k2; s1 + 1 < S && nslm_path_segment_kind(path, s1 + 1, &k2) == NSLM_OK && k2 == kind;)
      s1++;
    double lo = risk[first[s0]], hi = lo;
    for (size_t i = first[s0]; i <= first[s1 + 1]; i++) {
      lo = fmin(lo, risk[i]);
      hi = fmax(hi, risk[i]);
    }
    char which[64];
    if (s1 > s0) snprintf(which, sizeof which, "segments %zu-%zu", s0, s1);
    else snprintf(which, sizeof which, "segment %zu", s0);
    if (kind == NSLM_SEG_CONSTANT)
      printf("  %-15s %-8s risk %.6g throughout (spread %.2g)\n", which, "constant", lo, hi - lo);
    else
      printf("  %-15s %-8s risk %.6g -> %.6g (min %.6g)\n", which, cli_kind_name(kind),
             risk[first[s0]], risk[first[s1 + 1]], lo);
    s0 = s1 + 1;
  }
}

/* Both certificates of a path; *passed = 1 if both pass; *max_r from the
 * ALGEBRAIC one. */
static int certify(demo_state *s, const nslm_path *path, int quiet, int *passed, double *max_r) {
  static const int kinds[] = {NSLM_CERT_ALGEBRAIC, NSLM_CERT_SAMPLED};
  *passed = 1;
  for (int i = 0; i < 2; i++) {
    nslm_certificate *cert = NULL;
    progress pr;
    progress_begin(&pr, i == 0 ? "algebraic" : "sampled", quiet);
    int st = nslm_path_certify(&cert, path, s->net, s->data, s->loss, s->con, kinds[i], 0,
                               progress_callback, &pr);
    progress_end(&pr);
    char line[1024];
    size_t needed;
    int ok = 0;
    if (st == NSLM_OK) st = nslm_certificate_summary(cert, line, sizeof line, &needed);
    if (st == NSLM_OK) st = nslm_certificate_passed(cert, &ok);
    if (st == NSLM_OK && i == 0) st = nslm_certificate_get(cert, NSLM_CERT_MAX_R, max_r);
    nslm_certificate_destroy(cert);
    if (st) return cli_lib_error(st, CLI_EFAIL, "certificate");
    printf("%-12s %s\n", i == 0 ? "certificate" : "", line);
    *passed = *passed && ok;
  }
  return CLI_OK;
}

/* Gamma (a certified global minimizer), the constraint of --constrained,
 * and the printed start, target and widths. */
static int target_and_widths(const demo_args *a, demo_state *s) {
  const size_t l = 2, n = a->n, p = a->width;
  int st;
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
  return CLI_OK;
}

static int run(const demo_args *a, demo_state *s) {
  const size_t d = 4, m = 2, l = 2, n = a->n, p = a->width;
  size_t widths[] = {d, p, p, m};
  int st = make_data(n, d, m, 1000 + a->seed, &s->data);
  if (st == NSLM_OK) st = nslm_net_create(&s->net, l, widths);
  if (st == NSLM_OK && a->threads) st = nslm_net_set_num_threads(s->net, a->threads);
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

  int code = target_and_widths(a, s);
  if (code) return code;

  /* The descent path: the theorem's path cut where the risk is lowest
   * (one construction; at a global minimizer the cut is the convex
   * segment's end and the path goes on to Gamma). */
  double cut = 0;
  st = nslm_descent(s->net, s->theta, s->gamma, s->data, s->loss, s->con, s->opts, &s->descent,
                    &cut);
  if (st) return cli_lib_error(st, CLI_EFAIL, "descent");
  size_t npts = 0, *first = NULL;
  double *t, *risk;
  code = profile(s, s->descent, a->quiet, &npts, &t, &risk, &first);
  if (code) return code;
  printf("\nthe path Theta -> Gamma: compress Theta, relocate its units, bridge, Gamma's\n"
         "compression reversed; cut at c = %.6g of the convex segment (descent)\n", cut);
  summarize(s->descent, risk, first);
  int passed = 0;
  double max_r = 0;
  code = certify(s, s->descent, a->quiet, &passed, &max_r);
  if (code == CLI_OK && s->con)
    printf("%-12s r <= %.6f along the whole path (exact from the knots): %s\n", "constraint",
           max_r, max_r <= 1.0 ? "feasible throughout" : "INFEASIBLE");
  if (code == CLI_OK)
    printf("%-12s %s\n", "verdict",
           passed ? "PASS: Theta reaches a global minimizer without the risk ever increasing"
                  : "FAIL: a claim of the path did not hold (see the certificates)");
  if (code == CLI_OK && strcmp(a->out, "-") != 0) {
    st = nslm_profile_write_svg(a->out, s->descent, npts, t, risk, NULL,
                                s->con ? "nslm demo --constrained: risk along the descent path"
                                       : "nslm demo: risk along the descent path");
    if (st) code = cli_lib_error(st, CLI_EOUTPUT, "%s", a->out);
    else printf("%-12s %s (the risk along the path)\n", "wrote", a->out);
  }
  free(t);
  free(risk);
  free(first);
  if (code) return code;
  return passed ? CLI_OK : CLI_ECERT;
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
  a.quiet = o.quiet;
  a.threads = o.threads;
  if (a.out == NULL) a.out = a.constrained ? "nslm-demo-constrained.svg" : "nslm-demo.svg";
  progress_install_sigint();
  demo_state s = {0};
  code = run(&a, &s);
  demo_free(&s);
  return code;
}
