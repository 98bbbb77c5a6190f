/* cmd_path.c - nslm certify and nslm profile: paths read from files. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "commands.h"
#include "progress.h"

typedef struct {
  const char *kind, *csv, *svg, *title;
  size_t points;
  double tol;
} path_args;

static int path_option(int c, const char *arg, void *ctx) {
  path_args *a = ctx;
  switch (c) {
  case OPT_KIND: a->kind = arg; return 0;
  case OPT_CSV: a->csv = arg; return 0;
  case OPT_SVG: a->svg = arg; return 0;
  case OPT_TITLE: a->title = arg; return 0;
  case OPT_POINTS: return cli_parse_size("--points", arg, 2, 1000000, &a->points) ? CLI_EUSAGE : 0;
  case OPT_TOL:
    if (cli_parse_double("--tol", arg, &a->tol)) return CLI_EUSAGE;
    if (!(a->tol >= 0)) return cli_usage_error("--tol must be >= 0");
    return 0;
  default: return cli_usage_error("unexpected option");
  }
}

static const char path_net_help[] =
    "The network: -p names a parameter set with the path's widths (e.g. its\n"
    "start; only the shapes are used), --act its activations.\n\n";

/* Loads the path (argv[first]) and the problem; an exit code. */
static int load_path(int argc, char **argv, int first, const cli_opts *o, cli_problem *p,
                     nslm_path **path) {
  *path = NULL;
  if (first >= argc) return cli_usage_error("missing the path file");
  int code = cli_load(o, NEED_PARAMS | NEED_DATA, p);
  if (code) return code;
  code = cli_read_path(argv[first], path);
  if (code == CLI_OK) code = cli_check_path_net(*path, p, argv[first]);
  if (code) {
    if (*path) nslm_path_destroy(*path);
    *path = NULL;
    cli_problem_free(p);
  }
  return code;
}

/* ---------------------------------------------------------------- certify */

static const char certify_help[] =
    "Usage: nslm certify PATH -p PARAMS -x X -y Y [OPTION]...\n"
    "Checks the claims of a path file (as written by 'nslm connect -o' or\n"
    "nslm_path_save): CONSTANT segments keep the risk, CONVEX segments have\n"
    "outputs affine in t, a descent path never increases, r stays <= 1.\n"
    "Prints the certificate's one-line summary and one line per segment;\n"
    "exit status 0 if every claim holds, 5 if one does not.\n\n"
    "  --kind KIND            algebraic: identities at the knots, a proof;\n"
    "                         sampled: the risk measured along every segment;\n"
    "                         both (default)\n"
    "  --points K             points per segment for sampling (default 17)\n"
    "  --tol TOL              every relative tolerance (default 1e-10)\n\n";

static int certify_one(const nslm_path *path, const cli_problem *p, int kind, size_t k,
                       double tol, int quiet, int *passed) {
  nslm_certificate *cert = NULL;
  progress pr;
  progress_begin(&pr, kind == NSLM_CERT_ALGEBRAIC ? "algebraic" : "sampled", quiet);
  int st = nslm_path_certify(&cert, path, p->net, p->data, p->loss, p->con, kind, k,
                             progress_callback, &pr);
  progress_end(&pr);
  if (st) return cli_lib_error(st, CLI_EFAIL, "certificate");
  for (int which = NSLM_TOL_IDENTITY; st == NSLM_OK && tol >= 0 && which <= NSLM_TOL_FEASIBLE;
       which++)
    st = nslm_certificate_set_tolerance(cert, which, tol);
  char line[1024];
  size_t needed;
  int ok = 0;
  if (st == NSLM_OK) st = nslm_certificate_summary(cert, line, sizeof line, &needed);
  if (st == NSLM_OK) st = nslm_certificate_passed(cert, &ok);
  if (st) {
    nslm_certificate_destroy(cert);
    return cli_lib_error(st, CLI_EFAIL, "certificate");
  }
  printf("%s\n", line);
  size_t S = nslm_certificate_num_segments(cert);
  for (size_t s = 0; s < S; s++) {
    int skind, spass;
    double measure;
    if (nslm_certificate_segment(cert, s, &skind, &measure, &spass) == NSLM_OK)
      printf("  segment %zu %-8s measure %.3g %s\n", s, cli_kind_name(skind), measure,
             spass ? "ok" : "FAILED");
  }
  nslm_certificate_destroy(cert);
  *passed = ok;
  return CLI_OK;
}

int cmd_certify(int argc, char **argv) {
  static const struct option opts[] = {
      CLI_OPT_X, CLI_OPT_Y, CLI_OPT_PARAMS, CLI_OPT_ACT, CLI_OPT_LOSS, CLI_OPT_CONSTRAINT,
      CLI_OPT_THREADS, CLI_OPT_QUIET, CLI_OPT_HELP,
      {"kind", required_argument, NULL, OPT_KIND},
      {"points", required_argument, NULL, OPT_POINTS},
      {"tol", required_argument, NULL, OPT_TOL},
      CLI_OPT_END};
  char help[4096];
  snprintf(help, sizeof help, "%s%s%s", certify_help, path_net_help, cli_common_help);
  cli_opts o = {0};
  path_args a = {.tol = -1};
  int first, code = cli_parse(argc, argv, opts, &o, path_option, &a, help, 1, &first);
  if (code) return code == CLI_HELP ? CLI_OK : code;
  int algebraic = 1, sampled = 1;
  if (a.kind && strcasecmp(a.kind, "algebraic") == 0) sampled = 0;
  else if (a.kind && strcasecmp(a.kind, "sampled") == 0) algebraic = 0;
  else if (a.kind && strcasecmp(a.kind, "both") != 0)
    return cli_usage_error("--kind: '%s' is not algebraic, sampled or both", a.kind);
  if (a.points && a.points < 3) return cli_usage_error("--points must be >= 3 for sampling");
  progress_install_sigint();
  cli_problem p;
  nslm_path *path;
  code = load_path(argc, argv, first, &o, &p, &path);
  if (code) return code;
  int pass_a = 1, pass_s = 1;
  if (algebraic)
    code = certify_one(path, &p, NSLM_CERT_ALGEBRAIC, a.points, a.tol, o.quiet, &pass_a);
  if (code == CLI_OK && sampled)
    code = certify_one(path, &p, NSLM_CERT_SAMPLED, a.points, a.tol, o.quiet, &pass_s);
  if (code == CLI_OK) {
    printf("verdict %s\n", pass_a && pass_s ? "PASS" : "FAIL");
    if (!(pass_a && pass_s)) code = CLI_ECERT;
  }
  nslm_path_destroy(path);
  cli_problem_free(&p);
  return code;
}

/* ---------------------------------------------------------------- profile */

static const char profile_help[] =
    "Usage: nslm profile PATH -p PARAMS -x X -y Y [--csv F] [--svg F] [OPTION]...\n"
    "The risk (and r, when constrained) along a path file at K points per\n"
    "segment (knots exact), written as CSV (t, risk, [r,] segment, kind) and/or\n"
    "as an SVG plot with the segment boundaries and kinds marked.  Prints the\n"
    "risk at both ends, the largest increase between consecutive points, and the\n"
    "files written.\n\n"
    "  --points K             points per segment (default 33)\n"
    "  --csv FILE             the values as CSV\n"
    "  --svg FILE             the plot as SVG\n"
    "  --title TEXT           the plot's title\n\n";

int cmd_profile(int argc, char **argv) {
  static const struct option opts[] = {
      CLI_OPT_X, CLI_OPT_Y, CLI_OPT_PARAMS, CLI_OPT_ACT, CLI_OPT_LOSS, CLI_OPT_CONSTRAINT,
      CLI_OPT_THREADS, CLI_OPT_QUIET, CLI_OPT_HELP,
      {"points", required_argument, NULL, OPT_POINTS},
      {"csv", required_argument, NULL, OPT_CSV},
      {"svg", required_argument, NULL, OPT_SVG},
      {"title", required_argument, NULL, OPT_TITLE},
      CLI_OPT_END};
  char help[4096];
  snprintf(help, sizeof help, "%s%s%s", profile_help, path_net_help, cli_common_help);
  cli_opts o = {0};
  path_args a = {.points = 33, .tol = -1};
  int first, code = cli_parse(argc, argv, opts, &o, path_option, &a, help, 1, &first);
  if (code) return code == CLI_HELP ? CLI_OK : code;
  progress_install_sigint();
  cli_problem p;
  nslm_path *path;
  code = load_path(argc, argv, first, &o, &p, &path);
  if (code) return code;
  size_t npts = nslm_path_grid_size(path, a.points);
  double *t = malloc(npts * sizeof *t), *risk = malloc(npts * sizeof *risk);
  double *r = p.con ? malloc(npts * sizeof *r) : NULL;
  progress pr;
  progress_begin(&pr, "profile", o.quiet);
  int st = t && risk && (r || !p.con) ? NSLM_OK : NSLM_ERR_NOMEM;
  if (st == NSLM_OK)
    st = nslm_path_eval_grid(path, p.net, p.data, p.loss, p.con, a.points, npts, t, risk, r, NULL,
                             0, 0, NSLM_EVAL_STRUCTURED, progress_callback, &pr);
  progress_end(&pr);
  if (st) code = cli_lib_error(st, CLI_EFAIL, "profile");
  if (code == CLI_OK && a.csv) {
    st = nslm_profile_write_csv(a.csv, path, npts, t, risk, r);
    if (st) code = cli_lib_error(st, CLI_EOUTPUT, "%s", a.csv);
  }
  if (code == CLI_OK && a.svg) {
    st = nslm_profile_write_svg(a.svg, path, npts, t, risk, r, a.title ? a.title : argv[first]);
    if (st) code = cli_lib_error(st, CLI_EOUTPUT, "%s", a.svg);
  }
  if (code == CLI_OK) {
    double rise = 0, rmax = 0;
    for (size_t i = 1; i < npts; i++)
      if (risk[i] - risk[i - 1] > rise) rise = risk[i] - risk[i - 1];
    for (size_t i = 0; r && i < npts; i++) rmax = r[i] > rmax ? r[i] : rmax;
    printf("segments %zu\npoints %zu\nrisk_start %.17g\nrisk_end %.17g\nmax_rise %.3g\n",
           nslm_path_num_segments(path), npts, risk[0], risk[npts - 1], rise);
    if (r) printf("max_r %.17g\n", rmax);
    if (a.csv) printf("written %s\n", a.csv);
    if (a.svg) printf("written %s\n", a.svg);
  }
  free(t);
  free(risk);
  free(r);
  nslm_path_destroy(path);
  cli_problem_free(&p);
  return code;
}
