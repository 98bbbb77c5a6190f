/* cmd_landscape.c - nslm line and nslm plane: the landscape around solutions. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "progress.h"

typedef struct {
  const char *csv, *svg, *title, *third;
  size_t points, grid, seed;
  double alpha[2], beta[2];
  int have_alpha, have_beta;
} land_args;

/* "MIN:MAX" into r[0] < r[1]. */
static int parse_range(const char *opt, const char *s, double r[2]) {
  const char *colon = strchr(s, ':');
  char lo[64];
  if (colon == NULL || (size_t)(colon - s) >= sizeof lo)
    return cli_usage_error("%s: expected MIN:MAX (got '%s')", opt, s);
  memcpy(lo, s, (size_t)(colon - s));
  lo[colon - s] = '\0';
  if (cli_parse_double(opt, lo, &r[0]) || cli_parse_double(opt, colon + 1, &r[1]))
    return CLI_EUSAGE;
  if (!(r[0] < r[1]) || !isfinite(r[0]) || !isfinite(r[1]))
    return cli_usage_error("%s: MIN must be < MAX, both finite", opt);
  return 0;
}

static int land_option(int c, const char *arg, void *ctx) {
  land_args *a = ctx;
  switch (c) {
  case OPT_CSV: a->csv = arg; return 0;
  case OPT_SVG: a->svg = arg; return 0;
  case OPT_TITLE: a->title = arg; return 0;
  case OPT_THIRD: a->third = arg; return 0;
  case OPT_POINTS: return cli_parse_size("--points", arg, 2, 1000000, &a->points) ? CLI_EUSAGE : 0;
  case OPT_GRID: return cli_parse_size("--grid", arg, 2, 2000, &a->grid) ? CLI_EUSAGE : 0;
  case OPT_SEED: return cli_parse_size("--seed", arg, 0, SIZE_MAX, &a->seed) ? CLI_EUSAGE : 0;
  case OPT_ALPHA: a->have_alpha = 1; return parse_range("--alpha", arg, a->alpha);
  case OPT_BETA: a->have_beta = 1; return parse_range("--beta", arg, a->beta);
  default: return cli_usage_error("unexpected option");
  }
}

/* ---------------------------------------------------------------- line */

static const char line_help[] =
    "Usage: nslm line -p A -g B -x X -y Y [--csv F] [--svg F] [OPTION]...\n"
    "The risk along the straight line (1-t) A + t B at K points (both ends\n"
    "exact), and its barrier height max_t [L(t) - ((1-t) L(A) + t L(B))] with\n"
    "the t where it occurs: a positive barrier means the line climbs over a\n"
    "ridge between A and B (the paths of 'nslm connect' never do).\n\n"
    "  --points K             points on the line (default 51)\n"
    "  --csv FILE             t, risk[, r] as CSV\n"
    "  --svg FILE             the profile as SVG\n"
    "  --title TEXT           the plot's title\n\n";

int cmd_line(int argc, char **argv) {
  static const struct option opts[] = {
      CLI_OPT_X, CLI_OPT_Y, CLI_OPT_PARAMS, CLI_OPT_GAMMA, CLI_OPT_ACT, CLI_OPT_LOSS,
      CLI_OPT_CONSTRAINT, CLI_OPT_THREADS, CLI_OPT_QUIET, CLI_OPT_HELP,
      {"points", required_argument, NULL, OPT_POINTS},
      {"csv", required_argument, NULL, OPT_CSV},
      {"svg", required_argument, NULL, OPT_SVG},
      {"title", required_argument, NULL, OPT_TITLE},
      CLI_OPT_END};
  char help[4096];
  snprintf(help, sizeof help, "%s%s", line_help, cli_common_help);
  cli_opts o = {0};
  land_args a = {.points = 51};
  int code = cli_parse(argc, argv, opts, &o, land_option, &a, help, 0, NULL);
  if (code) return code == CLI_HELP ? CLI_OK : code;
  progress_install_sigint();
  cli_problem p;
  code = cli_load(&o, NEED_PARAMS | NEED_GAMMA | NEED_DATA, &p);
  if (code) return code;
  size_t k = a.points;
  double *t = malloc(k * sizeof *t), *risk = malloc(k * sizeof *risk);
  double *r = p.con ? malloc(k * sizeof *r) : NULL;
  double height = 0, t_at = 0;
  progress pr;
  progress_begin(&pr, "line", o.quiet);
  int st = t && risk && (r || !p.con) ? NSLM_OK : NSLM_ERR_NOMEM;
  if (st == NSLM_OK)
    st = nslm_landscape_line(p.net, p.data, p.loss, p.con, p.theta, p.gamma, k, t, risk, r,
                             progress_callback, &pr);
  progress_end(&pr);
  if (st == NSLM_OK) st = nslm_landscape_barrier(k, t, risk, &height, &t_at);
  if (st) code = cli_lib_error(st, CLI_EFAIL, "line");
  if (code == CLI_OK && a.csv) {
    st = nslm_profile_write_csv(a.csv, NULL, k, t, risk, r);
    if (st) code = cli_lib_error(st, CLI_EOUTPUT, "%s", a.csv);
  }
  if (code == CLI_OK && a.svg) {
    st = nslm_profile_write_svg(a.svg, NULL, k, t, risk, r,
                                a.title ? a.title : "risk along the straight line");
    if (st) code = cli_lib_error(st, CLI_EOUTPUT, "%s", a.svg);
  }
  if (code == CLI_OK) {
    double rmax = 0;
    for (size_t i = 0; r && i < k; i++) rmax = fmax(rmax, r[i]);
    printf("points %zu\nrisk_start %.17g\nrisk_end %.17g\nbarrier %.17g\nbarrier_t %.17g\n", k,
           risk[0], risk[k - 1], height, t_at);
    if (r) printf("max_r %.17g\n", rmax);
    if (a.csv) printf("written %s\n", a.csv);
    if (a.svg) printf("written %s\n", a.svg);
  }
  free(t);
  free(risk);
  free(r);
  cli_problem_free(&p);
  return code;
}

/* ---------------------------------------------------------------- plane */

static const char plane_help[] =
    "Usage: nslm plane -p CENTER -x X -y Y [--seed S] [--csv F] [--svg F] [OPTION]...\n"
    "       nslm plane -p A -g B --third C -x X -y Y [OPTION]...\n"
    "The risk on a 2-D slice of parameter space, on a grid: either the plane\n"
    "CENTER + alpha D1 + beta D2 through CENTER along two random directions\n"
    "normalized per neuron (each row scaled to the norm of CENTER's row, then\n"
    "orthogonalized), or the plane (1-alpha-beta) A + alpha B + beta C through\n"
    "three parameter sets (A, B, C at (0,0), (1,0), (0,1)).  Writes CSV\n"
    "(alpha, beta, risk[, r]) and/or an SVG heat map with contour lines.\n\n"
    "  --third FILE           the third parameter set C (with -g B)\n"
    "  --seed S               seed of the random directions (default 1)\n"
    "  --grid N               N x N grid points (default 41)\n"
    "  --alpha MIN:MAX        alpha range (default -1:1, or -0.25:1.25 with --third)\n"
    "  --beta MIN:MAX         beta range (the same defaults)\n"
    "  --csv FILE             the grid as CSV\n"
    "  --svg FILE             the heat map as SVG\n"
    "  --title TEXT           the plot's title\n\n";

int cmd_plane(int argc, char **argv) {
  static const struct option opts[] = {
      CLI_OPT_X, CLI_OPT_Y, CLI_OPT_PARAMS, CLI_OPT_GAMMA, CLI_OPT_ACT, CLI_OPT_LOSS,
      CLI_OPT_CONSTRAINT, CLI_OPT_THREADS, CLI_OPT_QUIET, CLI_OPT_HELP,
      {"third", required_argument, NULL, OPT_THIRD},
      {"seed", required_argument, NULL, OPT_SEED},
      {"grid", required_argument, NULL, OPT_GRID},
      {"alpha", required_argument, NULL, OPT_ALPHA},
      {"beta", required_argument, NULL, OPT_BETA},
      {"csv", required_argument, NULL, OPT_CSV},
      {"svg", required_argument, NULL, OPT_SVG},
      {"title", required_argument, NULL, OPT_TITLE},
      CLI_OPT_END};
  char help[4096];
  snprintf(help, sizeof help, "%s%s", plane_help, cli_common_help);
  cli_opts o = {0};
  land_args a = {.grid = 41, .seed = 1};
  int code = cli_parse(argc, argv, opts, &o, land_option, &a, help, 0, NULL);
  if (code) return code == CLI_HELP ? CLI_OK : code;
  int three = a.third != NULL;
  if (three != (o.gamma != NULL)) return cli_usage_error("-g B and --third C go together");
  double lo = three ? -0.25 : -1.0, hi = three ? 1.25 : 1.0;
  if (!a.have_alpha) a.alpha[0] = lo, a.alpha[1] = hi;
  if (!a.have_beta) a.beta[0] = lo, a.beta[1] = hi;
  progress_install_sigint();
  cli_problem p;
  code = cli_load(&o, NEED_PARAMS | NEED_DATA | (three ? NEED_GAMMA : 0), &p);
  if (code) return code;
  nslm_params *c = NULL, *d1 = NULL, *d2 = NULL;
  if (three) {
    code = cli_read_params(a.third, &c);
    if (code == CLI_OK && !cli_same_widths(p.theta, c))
      code = cli_error(CLI_EINPUT, "%s: its widths differ from those of %s", a.third, o.params);
  }
  size_t n = a.grid;
  double *risk = malloc(n * n * sizeof *risk), *r = p.con ? malloc(n * n * sizeof *r) : NULL;
  int st = risk && (r || !p.con) ? NSLM_OK : NSLM_ERR_NOMEM;
  progress pr;
  progress_begin(&pr, "plane", o.quiet);
  if (code == CLI_OK && st == NSLM_OK) {
    if (three) {
      st = nslm_landscape_plane3(p.net, p.data, p.loss, p.con, p.theta, p.gamma, c, n, a.alpha[0],
                                 a.alpha[1], n, a.beta[0], a.beta[1], risk, (ptrdiff_t)n, 1, r,
                                 (ptrdiff_t)n, 1, progress_callback, &pr);
    } else {
      st = nslm_params_create(&d1, p.net);
      if (st == NSLM_OK) st = nslm_params_create(&d2, p.net);
      if (st == NSLM_OK) st = nslm_landscape_directions(p.theta, a.seed, d1, d2);
      if (st == NSLM_OK)
        st = nslm_landscape_plane(p.net, p.data, p.loss, p.con, p.theta, d1, d2, n, a.alpha[0],
                                  a.alpha[1], n, a.beta[0], a.beta[1], risk, (ptrdiff_t)n, 1, r,
                                  (ptrdiff_t)n, 1, progress_callback, &pr);
    }
  }
  progress_end(&pr);
  if (code == CLI_OK && st) code = cli_lib_error(st, CLI_EFAIL, "plane");
  if (code == CLI_OK && a.csv) {
    st = nslm_plane_write_csv(a.csv, n, a.alpha[0], a.alpha[1], n, a.beta[0], a.beta[1], risk,
                              (ptrdiff_t)n, 1, r, (ptrdiff_t)n, 1);
    if (st) code = cli_lib_error(st, CLI_EOUTPUT, "%s", a.csv);
  }
  if (code == CLI_OK && a.svg) {
    const double marks3[] = {0, 0, 1, 0, 0, 1}, mark1[] = {0, 0};
    st = nslm_plane_write_svg(a.svg, n, a.alpha[0], a.alpha[1], n, a.beta[0], a.beta[1], risk,
                              (ptrdiff_t)n, 1, three ? 3 : 1, three ? marks3 : mark1,
                              a.title ? a.title : (three ? "risk on the plane through A, B, C"
                                                         : "risk around the center"));
    if (st) code = cli_lib_error(st, CLI_EOUTPUT, "%s", a.svg);
  }
  if (code == CLI_OK) {
    size_t imin = 0, imax = 0;
    for (size_t i = 1; i < n * n; i++) {
      if (risk[i] < risk[imin]) imin = i;
      if (risk[i] > risk[imax]) imax = i;
    }
    double da = (a.alpha[1] - a.alpha[0]) / (double)(n - 1);
    double db = (a.beta[1] - a.beta[0]) / (double)(n - 1);
    printf("grid %zu x %zu\n", n, n);
    printf("risk_min %.17g at %.6g %.6g\n", risk[imin], a.alpha[0] + da * (double)(imin / n),
           a.beta[0] + db * (double)(imin % n));
    printf("risk_max %.17g at %.6g %.6g\n", risk[imax], a.alpha[0] + da * (double)(imax / n),
           a.beta[0] + db * (double)(imax % n));
    if (a.csv) printf("written %s\n", a.csv);
    if (a.svg) printf("written %s\n", a.svg);
  }
  free(risk);
  free(r);
  nslm_params_destroy(c);
  nslm_params_destroy(d1);
  nslm_params_destroy(d2);
  cli_problem_free(&p);
  return code;
}
