/* fuzz_cli.c - libFuzzer target for the nslm tool's parsers (issue 7):
 * its CSV reader (tools/csv.c csv_read) and its command-line parsing
 * (tools/cli.c: cli_parse with getopt_long, and the activation, loss,
 * constraint and construction-mode specs).  The tool's sources are
 * compiled into the target (#include below), so it builds with
 * tests/fuzz/run-fuzz.sh like the library's targets, and replays its seed
 * corpus (tests/fuzz/corpus/cli) in `make check` through replay.c.
 *
 * Input: the first byte chooses what is parsed, the rest is the payload.
 *   0  CSV file (through a memfd, so no disk I/O);
 *   1  argv: the payload split at NUL bytes (at most 64 arguments), parsed
 *      by cli_parse with the common options plus long-only ones of the
 *      subcommands; on success the specs it set are built as the tool
 *      builds them;
 *   2  four NUL-separated specs: activations, loss, constraint, mode.
 * Invariants (abort = finding): csv_read either fails with a message and
 * no matrix, or returns rows, cols >= 1 and only finite numbers, which
 * printed with %.17g and read again are the same bits; cli_parse returns
 * CLI_OK (first positional index in 1..argc), CLI_HELP or CLI_EUSAGE; a
 * spec parser returns 0 with an object (NULL only for the constraint
 * "none") or -1 with none.  What the tool prints goes to /dev/null. */
#define _GNU_SOURCE 1 /* memfd_create */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../tools/cli.c"
#include "../../tools/csv.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The tool's messages use the stdio streams: they go to /dev/null while
 * an input runs (sanitizer and libFuzzer reports write to file descriptor
 * 2 directly and stay visible). */
static FILE *null_stream, *saved_out, *saved_err;
static void quiet(int on) {
  if (null_stream == NULL) null_stream = fopen("/dev/null", "w");
  if (null_stream == NULL) return;
  if (on) {
    saved_out = stdout;
    saved_err = stderr;
    stdout = stderr = null_stream;
  } else {
    stdout = saved_out;
    stderr = saved_err;
  }
}

static void fuzz_csv(const uint8_t *p, size_t n) {
  int fd = memfd_create("fuzz-csv", 0);
  if (fd < 0) return;
  if (n > 0 && write(fd, p, n) != (ssize_t)n) {
    close(fd);
    return;
  }
  char path[64], err[256] = "";
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  double *a = NULL;
  size_t rows = 0, cols = 0;
  int st = csv_read(path, &a, &rows, &cols, err, sizeof err);
  close(fd);
  if (st != 0) {
    if (st != -1 || err[0] == '\0' || a != NULL) abort();
    return;
  }
  if (a == NULL || rows == 0 || cols == 0 || rows > n || cols > n) abort();
  for (size_t i = 0; i < rows * cols; i++)
    if (!isfinite(a[i])) abort();
  /* round trip through text */
  int fd2 = memfd_create("fuzz-csv-2", 0);
  FILE *f = fd2 >= 0 ? fdopen(fd2, "w+") : NULL;
  if (f != NULL) {
    for (size_t i = 0; i < rows; i++)
      for (size_t k = 0; k < cols; k++) fprintf(f, "%.17g%c", a[i * cols + k], k + 1 < cols ? ',' : '\n');
    fflush(f);
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd2);
    double *b = NULL;
    size_t r2 = 0, c2 = 0;
    if (csv_read(path, &b, &r2, &c2, err, sizeof err) != 0 || r2 != rows || c2 != cols ||
        memcmp(a, b, rows * cols * sizeof *a) != 0)
      abort();
    free(b);
    fclose(f);
  } else if (fd2 >= 0) {
    close(fd2);
  }
  free(a);
}

/* The long-only options of the subcommands, as their tables list them. */
typedef struct {
  size_t points;
  double lambda;
  const char *mode, *csv, *svg;
} extra_t;

static int other(int c, const char *arg, void *ctx) {
  extra_t *e = ctx;
  switch (c) {
  case OPT_POINTS: return cli_parse_size("--points", arg, 2, 100000, &e->points) ? CLI_EUSAGE : 0;
  case OPT_LAMBDA: return cli_parse_double("--lambda", arg, &e->lambda) ? CLI_EUSAGE : 0;
  case OPT_MODE: e->mode = arg; return 0;
  case OPT_CSV: e->csv = arg; return 0;
  case OPT_SVG: e->svg = arg; return 0;
  case OPT_OUT: e->csv = arg; return 0;
  case OPT_SEED: return cli_parse_size("--seed", arg, 0, SIZE_MAX, &e->points) ? CLI_EUSAGE : 0;
  default: return cli_usage_error("unexpected option");
  }
}

static void build(const char *act, const char *loss, const char *con, const char *mode) {
  static const size_t widths[5] = {3, 4, 4, 4, 2};
  nslm_net *net = NULL;
  if (nslm_net_create(&net, 3, widths) != NSLM_OK) abort();
  int r = cli_apply_activations(net, act);
  if (r != 0 && r != -1) abort();
  nslm_net_destroy(net);
  nslm_loss *l = (nslm_loss *)&r;
  r = cli_make_loss(loss, &l);
  if (r == 0) {
    if (l == NULL) abort();
    nslm_loss_destroy(l);
  } else if (r != -1) {
    abort();
  }
  nslm_constraint *c = (nslm_constraint *)&r;
  r = cli_make_constraint(con, &c);
  if (r == 0) nslm_constraint_destroy(c);
  else if (r != -1 || c != NULL) abort();
  nslm_construct_opts *o = NULL;
  r = cli_make_construct_opts(mode, -1.0, &o);
  if (r == 0) nslm_construct_opts_destroy(o);
}

/* Splits p[0..n) at NUL bytes into at most cap strings (copied). */
static size_t split_nul(const uint8_t *p, size_t n, char *buf, char **items, size_t cap) {
  memcpy(buf, p, n);
  buf[n] = '\0';
  size_t k = 0;
  char *s = buf;
  while (k < cap) {
    items[k++] = s;
    size_t len = strlen(s);
    if (s + len >= buf + n) break;
    s += len + 1;
  }
  return k;
}

static void fuzz_argv(const uint8_t *p, size_t n) {
  static const struct option longopts[] = {
      CLI_OPT_X, CLI_OPT_Y, CLI_OPT_PARAMS, CLI_OPT_GAMMA, CLI_OPT_ACT, CLI_OPT_LOSS, CLI_OPT_CONSTRAINT,
      CLI_OPT_THREADS, CLI_OPT_QUIET, CLI_OPT_HELP,
      {"out", required_argument, NULL, OPT_OUT},
      {"seed", required_argument, NULL, OPT_SEED},
      {"points", required_argument, NULL, OPT_POINTS},
      {"lambda", required_argument, NULL, OPT_LAMBDA},
      {"mode", required_argument, NULL, OPT_MODE},
      {"csv", required_argument, NULL, OPT_CSV},
      {"svg", optional_argument, NULL, OPT_SVG},
      CLI_OPT_END};
  char *buf = malloc(n + 1), *args[66];
  if (buf == NULL) return;
  args[0] = (char *)"nslm-fuzz";
  size_t argc = 1 + split_nul(p, n, buf, args + 1, 64);
  args[argc] = NULL;
  /* getopt keeps state between calls: reinitialise it (optind = 0), as a
   * fresh process would have it */
  char *dummy[2] = {(char *)"x", NULL};
  optind = 0;
  getopt_long(1, dummy, "", longopts, NULL);
  cli_opts o;
  memset(&o, 0, sizeof o);
  extra_t e;
  memset(&e, 0, sizeof e);
  int first = -1;
  int r = cli_parse((int)argc, args, longopts, &o, other, &e, "help text\n", 2, &first);
  if (r == CLI_OK) {
    if (first < 1 || first > (int)argc) abort();
    build(o.act, o.loss, o.constraint, e.mode);
  } else if (r != CLI_HELP && r != CLI_EUSAGE) {
    abort();
  }
  free(buf);
}

static void fuzz_specs(const uint8_t *p, size_t n) {
  char *buf = malloc(n + 1), *items[4] = {NULL, NULL, NULL, NULL};
  if (buf == NULL) return;
  split_nul(p, n, buf, items, 4);
  build(items[0], items[1], items[2], items[3]);
  free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0 || size > 65536) return 0;
  quiet(1);
  switch (data[0] % 3) {
  case 0: fuzz_csv(data + 1, size - 1); break;
  case 1: fuzz_argv(data + 1, size - 1); break;
  default: fuzz_specs(data + 1, size - 1); break;
  }
  quiet(0);
  return 0;
}
