/* bench_connect.c - the theorem's path built and certified (issue 5).
 *
 * Prints, in one run:
 *   (i)   d=32, hidden 2x1024, m=4, n=256, JOINT, unconstrained: build and
 *         ALGEBRAIC certify times, and connect_vs_limit = (build + certify)
 *         / (one risk evaluation + one column-pivoted QR (dgeqp3) of each
 *         A_j of Theta), the limit measured in the same run (goal <= 5);
 *   (ii)  d=8, hidden 2x512, m=1, n=12, ROW, constrained (binding r = 1):
 *         build and certify times;
 *   (iii) the moonshot: n=1000, d=64, hidden 3x4096, m=10, JOINT:
 *         moonshot_seconds (build + certify; goal < 10 on 2 cores), the
 *         certificate's pass/fail and moonshot_peak_rss_mb (the process's
 *         peak resident set, reached in this case).
 *   (iv)  SHARED vs ROW (the stretch mode's figure of merit): active widths
 *         per hidden layer of nslm_compress_widths under a binding
 *         constraint, for case (ii)'s shape and a 10-output variant;
 *         prints shared_vs_row_widths = sum SHARED / sum ROW (< 1: fewer
 *         units).
 * Threads: the library's products use the net's thread count (default:
 * every core, or BLIS_NUM_THREADS); LAPACK's own BLAS calls use BLIS's
 * process-wide setting, left as the environment says (printed).
 *
 * Usage: bench_connect [--skip-moonshot] [--only-moonshot] [--reps=K] */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "nslm.h"
#include "lapack.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, size_t len) {
  qsort(v, len, sizeof *v, cmp_double);
  return len % 2 ? v[len / 2] : 0.5 * (v[len / 2 - 1] + v[len / 2]);
}

#define CHECK(call)                                                                   \
  do {                                                                                \
    int st_ = (call);                                                                 \
    if (st_ != NSLM_OK) {                                                             \
      fprintf(stderr, "%s:%d: %s: %s (%s)\n", __FILE__, __LINE__, #call,              \
              nslm_strerror(st_), nslm_last_error());                                 \
      exit(1);                                                                        \
    }                                                                                 \
  } while (0)

typedef struct {
  const char *name;
  size_t depth, widths[6], n;
  int mode, constrained;
} case_t;

typedef struct {
  nslm_net *net;
  nslm_params *t, *g;
  nslm_data *data;
  nslm_loss *loss;
  nslm_constraint *con;
} problem_t;

static uint64_t rng_state;
static double unif(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return (double)(z >> 11) / 9007199254740992.0 - 0.5;
}

static void problem_make(problem_t *p, const case_t *c, size_t threads) {
  size_t l = c->depth, n = c->n, d = c->widths[0], m = c->widths[l + 1];
  CHECK(nslm_net_create(&p->net, l, c->widths));
  CHECK(nslm_net_set_num_threads(p->net, threads));
  CHECK(nslm_params_create(&p->t, p->net));
  CHECK(nslm_params_create(&p->g, p->net));
  CHECK(nslm_params_init_random(p->t, 1, NSLM_INIT_NORMAL, 1.0));
  CHECK(nslm_params_init_random(p->g, 2, NSLM_INIT_NORMAL, 1.0));
  double *x = malloc(n * d * sizeof *x), *y = malloc(n * m * sizeof *y);
  rng_state = 42;
  for (size_t i = 0; i < n * d; i++) x[i] = 2.0 * unif();
  for (size_t i = 0; i < n * m; i++) y[i] = unif();
  CHECK(nslm_data_create(&p->data, n, d, x, (ptrdiff_t)d, 1, m, y, (ptrdiff_t)m, 1));
  free(x);
  free(y);
  CHECK(nslm_loss_create(&p->loss, NSLM_LOSS_SQUARED, 0));
  p->con = NULL;
  if (c->constrained) {
    /* binding: max(r(Theta), r(Gamma)) = 1 */
    nslm_constraint *one;
    double rt, rg;
    CHECK(nslm_constraint_create(&one, 1.0, 1.0, 2.0));
    CHECK(nslm_constraint_eval(one, p->t, &rt));
    CHECK(nslm_constraint_eval(one, p->g, &rg));
    nslm_constraint_destroy(one);
    double s = 1.0 / (rt > rg ? rt : rg);
    CHECK(nslm_constraint_create(&p->con, s, s, 2.0));
  }
}

static void problem_free(problem_t *p) {
  nslm_net_destroy(p->net);
  nslm_params_destroy(p->t);
  nslm_params_destroy(p->g);
  nslm_data_destroy(p->data);
  nslm_loss_destroy(p->loss);
  nslm_constraint_destroy(p->con);
}

/* One risk evaluation plus dgeqp3 of each A_j^T (n x p_j) of Theta. */
static double limit_time(const problem_t *p, const case_t *c) {
  double t0 = now(), risk;
  CHECK(nslm_eval_risk(p->net, p->t, p->data, p->loss, &risk));
  double t_eval = now() - t0, t_qr = 0.0;
  size_t n = c->n;
  for (size_t j = 1; j <= c->depth; j++) {
    size_t pj = c->widths[j];
    double *a = malloc(n * pj * sizeof *a), *tau = malloc(n * sizeof *tau), q;
    nslmi_lapack_int *jpvt = calloc(pj, sizeof *jpvt);
    /* A_j^T column-major: element (i, k) at a[i + k n] */
    CHECK(nslm_eval_features(p->net, p->t, p->data, j, a, 1, (ptrdiff_t)n));
    nslmi_lapack_int mm = (nslmi_lapack_int)n, nn = (nslmi_lapack_int)pj, lwork = -1, info;
    dgeqp3_(&mm, &nn, a, &mm, jpvt, tau, &q, &lwork, &info);
    lwork = (nslmi_lapack_int)q;
    double *work = malloc((size_t)lwork * sizeof *work);
    t0 = now();
    dgeqp3_(&mm, &nn, a, &mm, jpvt, tau, work, &lwork, &info);
    t_qr += now() - t0;
    free(a);
    free(tau);
    free(jpvt);
    free(work);
  }
  printf("  limit: risk evaluation %.3f s + pivoted QR of each A_j %.3f s\n", t_eval, t_qr);
  return t_eval + t_qr;
}

/* Builds the connect path and certifies it; returns build + certify
 * (negative when the certificate failed); *build_out: the build alone. */
static double run_case(const case_t *c, size_t threads, int reps, double *limit, double *build_out) {
  problem_t p;
  problem_make(&p, c, threads);
  nslm_construct_opts *o;
  CHECK(nslm_construct_opts_create(&o));
  CHECK(nslm_construct_opts_set_int(o, NSLM_CONSTRUCT_MODE, c->mode));
  size_t needed[6];
  int fits;
  CHECK(nslm_connect_widths(p.net, p.t, p.g, p.data, p.con, o, needed, c->depth, &fits));
  printf("%s: d=%zu hidden %zux%zu m=%zu n=%zu %s %s\n", c->name, c->widths[0], c->depth,
         c->widths[1], c->widths[c->depth + 1], c->n, c->mode == NSLM_COMPRESS_JOINT ? "JOINT" : "ROW",
         c->constrained ? "constrained" : "unconstrained");
  printf("  widths needed per layer:");
  for (size_t j = 0; j < c->depth; j++) printf(" %zu/%zu", needed[j], c->widths[j + 1]);
  printf("\n");
  double *tb = malloc((size_t)reps * sizeof *tb), *tc = malloc((size_t)reps * sizeof *tc);
  int passed = 0;
  for (int r = 0; r < reps; r++) {
    nslm_path *path;
    double t0 = now();
    CHECK(nslm_connect(p.net, p.t, p.g, p.data, p.con, o, &path));
    tb[r] = now() - t0;
    nslm_certificate *cert;
    t0 = now();
    CHECK(nslm_path_certify(&cert, path, p.net, p.data, p.loss, p.con, NSLM_CERT_ALGEBRAIC, 0, NULL,
                            NULL));
    tc[r] = now() - t0;
    CHECK(nslm_certificate_passed(cert, &passed));
    if (r == reps - 1) {
      char sum[512];
      size_t need;
      CHECK(nslm_certificate_summary(cert, sum, sizeof sum, &need));
      printf("  segments %zu, stored values %zu\n  certificate: %s\n", nslm_path_num_segments(path),
             nslm_path_stored_values(path), sum);
    }
    nslm_certificate_destroy(cert);
    nslm_path_destroy(path);
  }
  double b = median(tb, (size_t)reps), ce = median(tc, (size_t)reps);
  printf("  build %.3f s, ALGEBRAIC certify %.3f s (median of %d), certificate %s\n", b, ce, reps,
         passed ? "PASS" : "FAIL");
  if (limit) *limit = limit_time(&p, c);
  if (build_out) *build_out = b;
  free(tb);
  free(tc);
  nslm_construct_opts_destroy(o);
  problem_free(&p);
  return passed ? b + ce : -(b + ce);
}

/* Active widths of one compression per mode; returns sum SHARED / sum ROW. */
static double widths_case(const case_t *c, size_t threads) {
  problem_t p;
  problem_make(&p, c, threads);
  static const int modes[3] = {NSLM_COMPRESS_ROW, NSLM_COMPRESS_SHARED, NSLM_COMPRESS_JOINT};
  static const char *names[3] = {"ROW", "SHARED", "JOINT"};
  size_t sums[3] = {0, 0, 0};
  printf("%s: d=%zu hidden %zux%zu m=%zu n=%zu constrained (binding): active widths\n", c->name,
         c->widths[0], c->depth, c->widths[1], c->widths[c->depth + 1], c->n);
  for (int k = 0; k < 3; k++) {
    nslm_construct_opts *o;
    size_t act[6];
    CHECK(nslm_construct_opts_create(&o));
    CHECK(nslm_construct_opts_set_int(o, NSLM_CONSTRUCT_MODE, modes[k]));
    CHECK(nslm_compress_widths(p.net, p.t, p.data, p.con, o, act, c->depth));
    printf("  %-6s", names[k]);
    for (size_t j = 0; j < c->depth; j++) {
      printf(" %zu", act[j]);
      sums[k] += act[j];
    }
    printf("%s\n", k == 2 ? "   (may raise r: reference only)" : "");
    nslm_construct_opts_destroy(o);
  }
  problem_free(&p);
  return (double)sums[1] / (double)sums[0];
}

int main(int argc, char **argv) {
  int skip_moon = 0, only_moon = 0, reps = 3;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--skip-moonshot") == 0) skip_moon = 1;
    else if (strcmp(argv[i], "--only-moonshot") == 0) only_moon = 1;
    else if (strncmp(argv[i], "--reps=", 7) == 0) reps = atoi(argv[i] + 7);
    else {
      fprintf(stderr, "usage: %s [--skip-moonshot] [--only-moonshot] [--reps=K]\n", argv[0]);
      return 2;
    }
  }
  if (reps < 1) reps = 1;
  long nc = sysconf(_SC_NPROCESSORS_ONLN);
  size_t threads = nc > 0 ? (size_t)nc : 1;
  const char *env = getenv("BLIS_NUM_THREADS");
  if (env != NULL && atoi(env) > 0) threads = (size_t)atoi(env);
  /* LAPACK's own BLAS calls follow BLIS's process-wide setting, which we
   * leave alone: unset, LAPACK runs on one thread, and connect runs the
   * two parameters' QRs side by side on the two cores
   * (NSLM_CONSTRUCT_PARALLEL), which beats one QR at a time on two
   * threads (the QR's level-2 half scales poorly). */
  printf("bench_connect: threads = %zu (library products), BLIS_NUM_THREADS = %s (LAPACK)\n",
         threads, env && *env ? env : "unset (1 thread)");
  if (!only_moon) {
    case_t c1 = {"(i)", 2, {32, 1024, 1024, 4}, 256, NSLM_COMPRESS_JOINT, 0};
    case_t c2 = {"(ii)", 2, {8, 512, 512, 1}, 12, NSLM_COMPRESS_ROW, 1};
    double lim, b1, t1 = run_case(&c1, threads, reps, &lim, &b1);
    printf("connect_vs_limit = %.2f\n", fabs(t1) / lim);
    printf("  (build alone: %.2f x the limit; the limit counts one parameter's work, connect\n"
           "  compresses two)\n", b1 / lim);
    run_case(&c2, threads, reps, NULL, NULL);
    case_t c4 = {"(iv) shared", 2, {8, 512, 512, 1}, 12, NSLM_COMPRESS_SHARED, 1};
    case_t c5 = {"(iv) shared, m=10", 2, {8, 512, 512, 10}, 30, NSLM_COMPRESS_SHARED, 1};
    double r4 = widths_case(&c4, threads), r5 = widths_case(&c5, threads);
    printf("shared_vs_row_widths = %.3f (m=1), %.3f (m=10)\n", r4, r5);
  }
  if (!skip_moon) {
    case_t c3 = {"(iii) moonshot", 3, {64, 4096, 4096, 4096, 10}, 1000, NSLM_COMPRESS_JOINT, 0};
    double b3, t = run_case(&c3, threads, 1, NULL, &b3);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("moonshot_seconds = %.2f\n", fabs(t));
    printf("  (build %.2f s, certify %.2f s)\n", b3, fabs(t) - b3);
    printf("moonshot_certificate = %s\n", t > 0 ? "PASS" : "FAIL");
    printf("moonshot_peak_rss_mb = %.0f\n", (double)ru.ru_maxrss / 1024.0);
  }
  return 0;
}
