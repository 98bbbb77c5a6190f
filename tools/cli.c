/* cli.c - the common options of the nslm tool and loading what they name. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv.h"

const char *cli_cmd = "";

static void vmessage(const char *fmt, va_list ap) {
  fprintf(stderr, "nslm%s%s: ", *cli_cmd ? " " : "", cli_cmd);
  vfprintf(stderr, fmt, ap);
}

int cli_error(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmessage(fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return code;
}

int cli_lib_error(int status, int code, const char *fmt, ...) {
  /* Copy the detail first: nothing below may overwrite it, but be safe. */
  char detail[512];
  snprintf(detail, sizeof detail, "%s", nslm_last_error());
  va_list ap;
  va_start(ap, fmt);
  vmessage(fmt, ap);
  va_end(ap);
  if (status == NSLM_ERR_CANCELLED) {
    fprintf(stderr, ": interrupted\n");
    return CLI_EINTR;
  }
  fprintf(stderr, ": %s\n", detail[0] ? detail : nslm_strerror(status));
  return code;
}

int cli_usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmessage(fmt, ap);
  va_end(ap);
  fprintf(stderr, " (try 'nslm %s --help')\n", cli_cmd);
  return CLI_EUSAGE;
}

const char cli_common_help[] =
    "Common options:\n"
    "  -x, --x FILE           inputs X, n x d (.npy or .csv)\n"
    "  -y, --y FILE           targets Y, n x m (.npy or .csv)\n"
    "  -p, --params FILE      parameters Theta: .npz with layer_0..layer_l, or\n"
    "                         L0.npy,L1.npy,... (PyTorch weight layout, p_{j+1} x p_j)\n"
    "  -g, --gamma FILE       target parameters Gamma (same forms and widths)\n"
    "  -a, --act LIST         activations, one for all hidden layers or one per\n"
    "                         layer, comma-separated: relu (default), leaky[:c],\n"
    "                         poly:c:k, sigmoid, tanh, identity\n"
    "  -l, --loss SPEC        squared (default), absolute, huber[:delta], logistic,\n"
    "                         logistic-paper, hinge, softmax-ce\n"
    "  -c, --constraint SPEC  none (default) or a_r,b_r,q: r(Theta) = max(a_r\n"
    "                         max_j>=1 |||Theta^j|||_1, b_r |||Theta^0|||_q), q may be inf\n"
    "  -t, --threads N        BLIS threads (default: BLIS_NUM_THREADS, OMP_NUM_THREADS,\n"
    "                         else all cores)\n"
    "  -q, --quiet            no progress output\n"
    "  -h, --help             this help\n";

/* ---------------------------------------------------------------- parsers */

int cli_parse_size(const char *opt, const char *s, size_t min, size_t max, size_t *out) {
  char *end;
  errno = 0;
  if (s[0] == '-' || s[0] == '\0') return cli_usage_error("%s: '%s' is not a count", opt, s), -1;
  unsigned long long v = strtoull(s, &end, 10);
  if (*end != '\0' || errno) return cli_usage_error("%s: '%s' is not a count", opt, s), -1;
  if (v < min || v > max)
    return cli_usage_error("%s: %s is outside %zu..%zu", opt, s, min, max), -1;
  *out = (size_t)v;
  return 0;
}

int cli_parse_double(const char *opt, const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (s[0] == '\0' || *end != '\0' || errno == ERANGE)
    return cli_usage_error("%s: '%s' is not a number", opt, s), -1;
  *out = v;
  return 0;
}

/* Splits spec at commas into at most cap items (in buf). */
static size_t split_list(const char *spec, char *buf, size_t bufcap, char **items, size_t cap) {
  snprintf(buf, bufcap, "%s", spec);
  size_t k = 0;
  for (char *s = buf, *save = NULL, *tok; (tok = strtok_r(s, ",", &save)) != NULL; s = NULL) {
    if (k < cap) items[k] = tok;
    k++;
  }
  return k;
}

static const struct {
  const char *name;
  int kind;
} act_names[] = {{"relu", NSLM_ACT_RELU},       {"leaky", NSLM_ACT_LEAKY_RELU},
                 {"leaky-relu", NSLM_ACT_LEAKY_RELU}, {"poly", NSLM_ACT_POLY},
                 {"sigmoid", NSLM_ACT_SIGMOID}, {"tanh", NSLM_ACT_TANH},
                 {"identity", NSLM_ACT_IDENTITY}, {"linear", NSLM_ACT_IDENTITY}};

const char *cli_act_name(int kind) {
  switch (kind) {
  case NSLM_ACT_RELU: return "relu";
  case NSLM_ACT_LEAKY_RELU: return "leaky";
  case NSLM_ACT_POLY: return "poly";
  case NSLM_ACT_SIGMOID: return "sigmoid";
  case NSLM_ACT_TANH: return "tanh";
  case NSLM_ACT_IDENTITY: return "identity";
  default: return "callback";
  }
}

const char *cli_kind_name(int seg_kind) {
  switch (seg_kind) {
  case NSLM_SEG_CONSTANT: return "constant";
  case NSLM_SEG_CONVEX: return "convex";
  default: return "general";
  }
}

/* One activation "name[:c[:k]]" into kind, c, k. */
static int parse_act(const char *item, int *kind, double *c, double *k) {
  char name[32];
  const char *colon = strchr(item, ':');
  size_t len = colon ? (size_t)(colon - item) : strlen(item);
  if (len >= sizeof name) len = sizeof name - 1;
  memcpy(name, item, len);
  name[len] = '\0';
  *kind = -1;
  for (size_t i = 0; i < sizeof act_names / sizeof act_names[0]; i++)
    if (strcasecmp(name, act_names[i].name) == 0) *kind = act_names[i].kind;
  if (*kind < 0)
    return cli_usage_error("--act: unknown activation '%s' (relu, leaky[:c], poly:c:k, sigmoid, "
                           "tanh, identity)", name), -1;
  *c = *kind == NSLM_ACT_LEAKY_RELU ? 0.01 : (*kind == NSLM_ACT_POLY ? 1.0 : 0.0);
  *k = *kind == NSLM_ACT_POLY ? 2.0 : 1.0;
  if (colon && *kind != NSLM_ACT_LEAKY_RELU && *kind != NSLM_ACT_POLY)
    return cli_usage_error("--act: '%s' takes no parameter", name), -1;
  if (colon) {
    char *end;
    *c = strtod(colon + 1, &end);
    if (end == colon + 1 || (*end != '\0' && *end != ':'))
      return cli_usage_error("--act: bad parameter in '%s'", item), -1;
    if (*end == ':') {
      const char *ks = end + 1;
      if (*kind != NSLM_ACT_POLY) return cli_usage_error("--act: '%s' takes one parameter", name), -1;
      *k = strtod(ks, &end);
      if (end == ks || *end != '\0') return cli_usage_error("--act: bad power in '%s'", item), -1;
    }
  }
  return 0;
}

int cli_apply_activations(nslm_net *net, const char *spec) {
  size_t l = nslm_net_depth(net);
  if (spec == NULL) return 0; /* the net's default: ReLU everywhere */
  char buf[4096], *items[1024];
  size_t count = split_list(spec, buf, sizeof buf, items, 1024);
  if (count == 0) return cli_usage_error("--act: empty list"), -1;
  if (count != 1 && count != l)
    return cli_usage_error("--act: %zu activations given for %zu hidden layers (give 1 or %zu)",
                           count, l, l), -1;
  for (size_t j = 1; j <= l; j++) {
    int kind;
    double c, k;
    if (parse_act(items[count == 1 ? 0 : j - 1], &kind, &c, &k)) return -1;
    int st = nslm_net_set_activation(net, j, kind, c, k);
    if (st) return cli_lib_error(st, CLI_EUSAGE, "--act: layer %zu", j), -1;
  }
  return 0;
}

int cli_make_loss(const char *spec, nslm_loss **out) {
  static const struct {
    const char *name;
    int kind;
    double param;
  } names[] = {{"squared", NSLM_LOSS_SQUARED, 0},       {"absolute", NSLM_LOSS_ABSOLUTE, 0},
               {"huber", NSLM_LOSS_HUBER, 1.0},         {"logistic", NSLM_LOSS_LOGISTIC, 0},
               {"logistic-paper", NSLM_LOSS_LOGISTIC_PAPER, 0},
               {"hinge", NSLM_LOSS_HINGE, 0},           {"softmax-ce", NSLM_LOSS_SOFTMAX_CE, 0},
               {"cross-entropy", NSLM_LOSS_SOFTMAX_CE, 0}};
  if (spec == NULL) spec = "squared";
  char name[32];
  const char *colon = strchr(spec, ':');
  size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
  if (len >= sizeof name) len = sizeof name - 1;
  memcpy(name, spec, len);
  name[len] = '\0';
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (strcasecmp(name, names[i].name) != 0) continue;
    double param = names[i].param;
    if (colon) {
      if (names[i].kind != NSLM_LOSS_HUBER)
        return cli_usage_error("--loss: '%s' takes no parameter", name), -1;
      if (cli_parse_double("--loss huber", colon + 1, &param)) return -1;
    }
    int st = nslm_loss_create(out, names[i].kind, param);
    if (st) return cli_lib_error(st, CLI_EUSAGE, "--loss %s", spec), -1;
    return 0;
  }
  return cli_usage_error("--loss: unknown loss '%s' (squared, absolute, huber[:delta], logistic, "
                         "logistic-paper, hinge, softmax-ce)", name), -1;
}

int cli_make_constraint(const char *spec, nslm_constraint **out) {
  *out = NULL;
  if (spec == NULL || strcasecmp(spec, "none") == 0) return 0;
  char buf[256], *items[4];
  if (split_list(spec, buf, sizeof buf, items, 4) != 3)
    return cli_usage_error("--constraint: expected none or a_r,b_r,q (got '%s')", spec), -1;
  double v[3];
  for (int i = 0; i < 3; i++)
    if (cli_parse_double("--constraint", items[i], &v[i])) return -1;
  int st = nslm_constraint_create(out, v[0], v[1], v[2]);
  if (st) return cli_lib_error(st, CLI_EUSAGE, "--constraint %s", spec), -1;
  return 0;
}

int cli_common_option(cli_opts *o, int c, const char *arg) {
  switch (c) {
  case OPT_X: o->x = arg; return 1;
  case OPT_Y: o->y = arg; return 1;
  case OPT_PARAMS: o->params = arg; return 1;
  case OPT_GAMMA: o->gamma = arg; return 1;
  case OPT_ACT: o->act = arg; return 1;
  case OPT_LOSS: o->loss = arg; return 1;
  case OPT_CONSTRAINT: o->constraint = arg; return 1;
  case OPT_QUIET: o->quiet = 1; return 1;
  case OPT_THREADS:
    return cli_parse_size("--threads", arg, 0, 4096, &o->threads) ? -1 : 1;
  default: return 0;
  }
}

int cli_parse(int argc, char **argv, const struct option *longopts, cli_opts *o,
              int (*other)(int c, const char *arg, void *ctx), void *ctx, const char *help,
              int max_pos, int *first) {
  char shorts[128] = ":";
  size_t k = 1;
  for (const struct option *q = longopts; q->name != NULL && k + 3 < sizeof shorts; q++) {
    if (q->val <= 0 || q->val >= OPT_LONG_ONLY) continue;
    shorts[k++] = (char)q->val;
    if (q->has_arg == required_argument) shorts[k++] = ':';
  }
  shorts[k] = '\0';
  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
    if (c == '?') {
      if (optopt > 0 && optopt < 128)
        return cli_usage_error("unknown option '-%c'", optopt);
      return cli_usage_error("unknown option '%s'", argv[optind - 1]);
    }
    if (c == ':') return cli_usage_error("option '%s' needs a value", argv[optind - 1]);
    if (c == OPT_HELP) {
      fputs(help, stdout);
      return CLI_HELP;
    }
    int r = cli_common_option(o, c, optarg);
    if (r < 0) return CLI_EUSAGE;
    if (r > 0) continue;
    r = other ? other(c, optarg, ctx) : cli_usage_error("unexpected option");
    if (r) return r;
  }
  if (argc - optind > max_pos) {
    if (max_pos == 0) return cli_usage_error("unexpected argument '%s'", argv[optind]);
    return cli_usage_error("too many arguments ('%s')", argv[optind + max_pos]);
  }
  if (first) *first = optind;
  return CLI_OK;
}

/* ---------------------------------------------------------------- files */

static void widths_text(const nslm_params *p, char *buf, size_t cap) {
  size_t l = nslm_params_depth(p), r, c, pos = 0;
  buf[0] = '\0';
  for (size_t j = 0; j <= l && pos < cap; j++) {
    nslm_params_layer_shape(p, j, &r, &c);
    if (j == 0) pos += (size_t)snprintf(buf + pos, cap - pos, "%zu", c);
    if (pos < cap) pos += (size_t)snprintf(buf + pos, cap - pos, ",%zu", r);
  }
}


static int has_suffix(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

int cli_read_matrix(const char *path, double **a, size_t *rows, size_t *cols) {
  if (has_suffix(path, ".csv") || has_suffix(path, ".txt")) {
    char err[256];
    if (csv_read(path, a, rows, cols, err, sizeof err))
      return cli_error(CLI_EINPUT, "%s: %s", path, err);
    return CLI_OK;
  }
  size_t r, c;
  int st = nslm_npy_read(path, NULL, 0, &r, &c);
  if (st) return cli_lib_error(st, CLI_EINPUT, "%s", path);
  if (r == 0 || c == 0) return cli_error(CLI_EINPUT, "%s: empty array (%zu x %zu)", path, r, c);
  if (r > SIZE_MAX / sizeof(double) / c)
    return cli_error(CLI_EINPUT, "%s: array too large (%zu x %zu)", path, r, c);
  double *buf = malloc(r * c * sizeof *buf);
  if (buf == NULL) return cli_error(CLI_EFAIL, "%s: out of memory (%zu x %zu)", path, r, c);
  st = nslm_npy_read(path, buf, r * c, &r, &c);
  if (st) {
    free(buf);
    return cli_lib_error(st, CLI_EINPUT, "%s", path);
  }
  *a = buf;
  *rows = r;
  *cols = c;
  return CLI_OK;
}

/* Layers from a comma-separated list of .npy files. */
static int read_layer_files(const char *spec, nslm_params **out) {
  char buf[8192], *items[1024];
  size_t count = split_list(spec, buf, sizeof buf, items, 1024);
  if (count < 2 || count > 1024)
    return cli_error(CLI_EINPUT, "%s: a parameter set needs at least 2 layer files (or one .npz)",
                     spec);
  double *mats[1024] = {0};
  size_t widths[1025], r, c;
  int code = CLI_OK;
  for (size_t j = 0; j < count && code == CLI_OK; j++) {
    code = cli_read_matrix(items[j], &mats[j], &r, &c);
    if (code) break;
    if (j == 0) widths[0] = c;
    if (c != widths[j])
      code = cli_error(CLI_EINPUT, "%s: %zu columns, but %s has %zu rows (layers must chain)",
                       items[j], c, items[j - 1], widths[j]);
    widths[j + 1] = r;
  }
  nslm_net *net = NULL;
  if (code == CLI_OK) {
    int st = nslm_net_create(&net, count - 1, widths);
    if (st == NSLM_OK) st = nslm_params_create(out, net);
    for (size_t j = 0; st == NSLM_OK && j < count; j++)
      st = nslm_params_set_layer(*out, j, widths[j + 1], widths[j], mats[j], (ptrdiff_t)widths[j], 1);
    if (st) {
      code = cli_lib_error(st, CLI_EINPUT, "%s", spec);
      nslm_params_destroy(*out);
      *out = NULL;
    }
  }
  nslm_net_destroy(net);
  for (size_t j = 0; j < count; j++) free(mats[j]);
  return code;
}

int cli_read_params(const char *spec, nslm_params **out) {
  *out = NULL;
  if (strchr(spec, ',') != NULL || has_suffix(spec, ".npy")) return read_layer_files(spec, out);
  int st = nslm_params_load(out, spec);
  if (st) return cli_lib_error(st, CLI_EINPUT, "%s", spec);
  return CLI_OK;
}

int cli_save_params(const nslm_params *theta, const char *path) {
  int st = nslm_params_save(theta, path);
  if (st) return cli_lib_error(st, CLI_EOUTPUT, "%s", path);
  return CLI_OK;
}

int cli_save_path(const nslm_path *path, const char *file) {
  int st = nslm_path_save(path, file);
  if (st) return cli_lib_error(st, CLI_EOUTPUT, "%s", file);
  return CLI_OK;
}

int cli_read_path(const char *file, nslm_path **out) {
  int st = nslm_path_load(out, file);
  if (st) return cli_lib_error(st, CLI_EINPUT, "%s", file);
  return CLI_OK;
}

int cli_check_path_net(const nslm_path *path, const cli_problem *p, const char *file) {
  int st = nslm_path_get_knot(path, 0, p->theta);
  if (st == NSLM_ERR_DIMENSION) {
    char a[256];
    widths_text(p->theta, a, sizeof a);
    return cli_error(CLI_EINPUT, "%s: the path's widths differ from those of %s (%s)", file,
                     "--params", a);
  }
  if (st) return cli_lib_error(st, CLI_EINPUT, "%s", file);
  return CLI_OK;
}

int cli_write_npy(const char *path, size_t rows, size_t cols, const double *a) {
  int st = nslm_npy_write(path, rows, cols, a, (ptrdiff_t)cols, 1);
  if (st) return cli_lib_error(st, CLI_EOUTPUT, "%s", path);
  return CLI_OK;
}

int cli_write_matrix(const char *path, size_t rows, size_t cols, const double *a) {
  if (!has_suffix(path, ".csv")) return cli_write_npy(path, rows, cols, a);
  cli_out out;
  int code = cli_out_open(&out, path);
  if (code) return code;
  for (size_t i = 0; i < rows; i++)
    for (size_t k = 0; k < cols; k++)
      fprintf(out.f, "%.17g%c", a[i * cols + k], k + 1 < cols ? ',' : '\n');
  return cli_out_commit(&out);
}

int cli_make_construct_opts(const char *mode, double rank_tol, nslm_construct_opts **out) {
  int m = NSLM_COMPRESS_ROW;
  if (mode == NULL || strcasecmp(mode, "row") == 0) m = NSLM_COMPRESS_ROW;
  else if (strcasecmp(mode, "joint") == 0) m = NSLM_COMPRESS_JOINT;
  else if (strcasecmp(mode, "shared") == 0) m = NSLM_COMPRESS_SHARED;
  else return cli_usage_error("--mode: unknown mode '%s' (row, joint, shared)", mode);
  int st = nslm_construct_opts_create(out);
  if (st == NSLM_OK) st = nslm_construct_opts_set_int(*out, NSLM_CONSTRUCT_MODE, m);
  if (st == NSLM_OK && rank_tol >= 0)
    st = nslm_construct_opts_set_double(*out, NSLM_CONSTRUCT_RANK_TOL, rank_tol);
  if (st) {
    nslm_construct_opts_destroy(*out);
    *out = NULL;
    return cli_lib_error(st, CLI_EUSAGE, "construction options");
  }
  return CLI_OK;
}

int cli_out_open(cli_out *o, const char *path) {
  o->path = path;
  o->f = NULL;
  size_t len = strlen(path) + 16;
  o->tmp = malloc(len);
  if (o->tmp == NULL) return cli_error(CLI_EOUTPUT, "%s: out of memory", path);
  snprintf(o->tmp, len, "%s.tmpXXXXXX", path);
  int fd = mkstemp(o->tmp);
  if (fd < 0) {
    int e = errno;
    free(o->tmp);
    o->tmp = NULL;
    return cli_error(CLI_EOUTPUT, "%s: %s", path, strerror(e));
  }
  mode_t mask = umask(0); /* mkstemp gives 0600; files get the usual 0666 & ~umask */
  umask(mask);
  fchmod(fd, 0666 & ~mask);
  o->f = fdopen(fd, "w");
  if (o->f == NULL) {
    close(fd);
    cli_out_abort(o);
    return cli_error(CLI_EOUTPUT, "%s: %s", path, strerror(errno));
  }
  return CLI_OK;
}

int cli_out_commit(cli_out *o) {
  int bad = ferror(o->f) || fflush(o->f) != 0 || fsync(fileno(o->f)) != 0;
  int e = errno;
  if (fclose(o->f) != 0 && !bad) {
    bad = 1;
    e = errno;
  }
  o->f = NULL;
  if (!bad && rename(o->tmp, o->path) != 0) {
    bad = 1;
    e = errno;
  }
  if (bad) {
    cli_out_abort(o);
    return cli_error(CLI_EOUTPUT, "%s: %s", o->path, strerror(e));
  }
  free(o->tmp);
  o->tmp = NULL;
  return CLI_OK;
}

void cli_out_abort(cli_out *o) {
  if (o->f) fclose(o->f);
  o->f = NULL;
  if (o->tmp) {
    unlink(o->tmp);
    free(o->tmp);
  }
  o->tmp = NULL;
}

/* ---------------------------------------------------------------- loading */

int cli_same_widths(const nslm_params *a, const nslm_params *b) {
  size_t l = nslm_params_depth(a);
  if (l != nslm_params_depth(b)) return 0;
  for (size_t j = 0; j <= l; j++) {
    size_t ra, ca, rb, cb;
    nslm_params_layer_shape(a, j, &ra, &ca);
    nslm_params_layer_shape(b, j, &rb, &cb);
    if (ra != rb || ca != cb) return 0;
  }
  return 1;
}

static int load_data(const cli_opts *o, const nslm_params *theta, cli_problem *p) {
  double *x = NULL, *y = NULL;
  size_t n, d, ny, m;
  int code = cli_read_matrix(o->x, &x, &n, &d);
  if (code == CLI_OK) code = cli_read_matrix(o->y, &y, &ny, &m);
  if (code == CLI_OK && ny != n)
    code = cli_error(CLI_EINPUT, "%s has %zu rows but %s has %zu (one row per sample)", o->x, n,
                     o->y, ny);
  if (code == CLI_OK && theta != NULL) {
    size_t r, c, l = nslm_params_depth(theta);
    nslm_params_layer_shape(theta, 0, &r, &c);
    if (c != d)
      code = cli_error(CLI_EINPUT, "%s has %zu columns but the network's input width (columns "
                       "of layer 0 in %s) is %zu", o->x, d, o->params, c);
    nslm_params_layer_shape(theta, l, &r, &c);
    if (code == CLI_OK && r != m)
      code = cli_error(CLI_EINPUT, "%s has %zu columns but the network's output width (rows of "
                       "layer %zu in %s) is %zu", o->y, m, l, o->params, r);
  }
  if (code == CLI_OK) {
    int st = nslm_data_create(&p->data, n, d, x, (ptrdiff_t)d, 1, m, y, (ptrdiff_t)m, 1);
    if (st) code = cli_lib_error(st, CLI_EINPUT, "%s, %s", o->x, o->y);
  }
  free(x);
  free(y);
  return code;
}

int cli_load(const cli_opts *o, int need, cli_problem *p) {
  memset(p, 0, sizeof *p);
  if ((need & NEED_PARAMS) && o->params == NULL) return cli_usage_error("missing --params FILE");
  if ((need & NEED_GAMMA) && o->gamma == NULL) return cli_usage_error("missing --gamma FILE");
  if ((need & NEED_DATA) && (o->x == NULL || o->y == NULL))
    return cli_usage_error("missing %s", o->x == NULL ? "-x FILE (inputs)" : "-y FILE (targets)");
  /* Flags first (usage errors before any file is read). */
  int code = CLI_OK;
  if (cli_make_loss(o->loss, &p->loss) || cli_make_constraint(o->constraint, &p->con)) {
    cli_problem_free(p);
    return CLI_EUSAGE;
  }
  if (o->params != NULL) {
    code = cli_read_params(o->params, &p->theta);
    if (code == CLI_OK) {
      int st = nslm_net_create_for(&p->net, p->theta);
      if (st) code = cli_lib_error(st, CLI_EFAIL, "%s", o->params);
    }
    if (code == CLI_OK && cli_apply_activations(p->net, o->act)) code = CLI_EUSAGE;
    if (code == CLI_OK && o->threads) nslm_net_set_num_threads(p->net, o->threads);
  }
  if (code == CLI_OK && o->gamma != NULL && (need & NEED_GAMMA)) {
    code = cli_read_params(o->gamma, &p->gamma);
    if (code == CLI_OK && !cli_same_widths(p->theta, p->gamma)) {
      char a[256], b[256];
      widths_text(p->theta, a, sizeof a);
      widths_text(p->gamma, b, sizeof b);
      code = cli_error(CLI_EINPUT, "%s has widths %s but %s has %s", o->gamma, b, o->params, a);
    }
  }
  if (code == CLI_OK && o->x != NULL && o->y != NULL && (need & NEED_DATA))
    code = load_data(o, p->theta, p);
  if (code != CLI_OK) cli_problem_free(p);
  return code;
}

void cli_problem_free(cli_problem *p) {
  nslm_net_destroy(p->net);
  nslm_params_destroy(p->theta);
  nslm_params_destroy(p->gamma);
  nslm_data_destroy(p->data);
  nslm_loss_destroy(p->loss);
  nslm_constraint_destroy(p->con);
  memset(p, 0, sizeof *p);
}
