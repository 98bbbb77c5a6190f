/* bench_forward.c - risk evaluation (forward pass + squared loss) of a ReLU
 * network, measured against
 *   - BLIS dgemm on exactly the layer products it needs (the same matrices,
 *     the same layouts, the same thread count), with preallocated buffers:
 *     the achievable limit; prints ratio_forward_vs_gemm (GFLOP/s ours
 *     over dgemm's, i.e. time dgemm / time ours; goal >= 0.90);
 *   - numpy (Debian python3-numpy, run as /usr/bin/python3
 *     bench_forward_numpy.py) evaluating the same network on the same data:
 *     ratio_forward_vs_numpy = time ours / time numpy (goal <= 1.0);
 *   - the same for a small network where call overhead matters:
 *     small_ratio_forward_vs_numpy (goal <= 0.7).
 * Every time is the median of several repetitions; the three sides are
 * interleaved (numpy runs as a child process serving timing requests) so
 * that load from other processes hits them alike.  Both
 * sides generate the data from the same integer hash (exact in double), so
 * the two risks printed must agree to rounding.
 *
 * Usage: bench_forward [--reps=K] [--small-rounds=R] [--small-batch=B] [--n=N]
 *                      [--threads=T] [--no-numpy] [--script=PATH] [--small-only]
 * Big network: K rounds (default 5), each timing one evaluation of ours,
 * of the dgemm chain and of numpy, in rotating order.  Small network: R
 * rounds (default 21) of B evaluations (default 101) of each side.
 * --n shrinks the big network's sample count (for quick runs only; the
 * reported figures use the default n = 4096).  --threads sets the thread
 * count of every side (default: libnslm's default, i.e. BLIS_NUM_THREADS,
 * else OMP_NUM_THREADS, else the number of cores). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <unistd.h>
#include <sys/wait.h>

#include <blis.h>

#include "nslm.h"
#include "data.h"
#include "forward.h"
#include "params.h"

#ifndef NSLM_BENCH_SRCDIR
#define NSLM_BENCH_SRCDIR "."
#endif

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A pause between the sides: OpenMP's idle threads spin for a while after
 * each parallel region (libgomp's GOMP_SPINCOUNT), and a spinning thread of
 * one side would steal a core from the other side's measurement. */
static void settle(void) {
  struct timespec ts = {0, 30 * 1000 * 1000};
  nanosleep(&ts, NULL);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Smallest entry (call before median(), which sorts). */
static double fastest(const double *v, size_t len) {
  double m = v[0];
  for (size_t i = 1; i < len; i++)
    if (v[i] < m) m = v[i];
  return m;
}

static double median(double *v, size_t len) {
  qsort(v, len, sizeof *v, cmp_double);
  return len % 2 ? v[len / 2] : 0.5 * (v[len / 2 - 1] + v[len / 2]);
}

/* The data generator shared with bench_forward_numpy.py: a uniform value
 * in [-0.5, 0.5) from an integer hash of (index, stream), exact in double. */
static double hash_uniform(uint64_t idx, uint64_t stream) {
  uint64_t h = (idx + stream * 0x9E3779B1ULL) * 2654435761ULL;
  return (double)(h & 0xffffffffULL) / 4294967296.0 - 0.5;
}

typedef struct {
  size_t depth, widths[8], n;
} shape_t;

typedef struct {
  nslm_net *net;
  nslm_params *theta;
  nslm_data *data;
  nslm_loss *loss;
} problem_t;

/* Builds the ReLU network, He-scaled uniform weights, data and Y. */
static int problem_make(problem_t *p, const shape_t *s, size_t threads) {
  memset(p, 0, sizeof *p);
  size_t l = s->depth, n = s->n, d = s->widths[0], m = s->widths[l + 1];
  /* The thread count is resolved once and set on the handle, as a caller
   * evaluating many times would: resolving the default (0) reads the
   * environment and the online core count on every call. */
  if (nslm_net_create(&p->net, l, s->widths) ||
      nslm_net_set_num_threads(p->net, threads ? threads : nslm_net_num_threads(p->net)) ||
      nslm_params_create(&p->theta, p->net) || nslm_loss_create(&p->loss, NSLM_LOSS_SQUARED, 0))
    return -1;
  for (size_t j = 0; j <= l; j++) {
    size_t rows = s->widths[j + 1], cols = s->widths[j];
    double sc = sqrt(24.0 / (double)cols); /* variance 2 / fan_in */
    double *w = malloc(rows * cols * sizeof *w);
    if (w == NULL) return -1;
    for (size_t i = 0; i < rows * cols; i++) w[i] = sc * hash_uniform(i, j + 1);
    int st = nslm_params_set_layer(p->theta, j, rows, cols, w, (ptrdiff_t)cols, 1);
    free(w);
    if (st) return -1;
  }
  double *x = malloc(n * d * sizeof *x), *y = malloc(n * m * sizeof *y);
  if (x == NULL || y == NULL) return -1;
  for (size_t i = 0; i < n * d; i++) x[i] = hash_uniform(i, 0);
  for (size_t i = 0; i < n * m; i++) y[i] = hash_uniform(i, 99);
  int st = nslm_data_create(&p->data, n, d, x, (ptrdiff_t)d, 1, m, y, (ptrdiff_t)m, 1);
  free(x);
  free(y);
  return st ? -1 : 0;
}

static void problem_free(problem_t *p) {
  nslm_loss_destroy(p->loss);
  nslm_data_destroy(p->data);
  nslm_params_destroy(p->theta);
  nslm_net_destroy(p->net);
}

static double shape_flops(const shape_t *s) {
  double f = 0.0;
  for (size_t j = 0; j <= s->depth; j++)
    f += 2.0 * (double)s->widths[j + 1] * (double)s->widths[j] * (double)s->n;
  return f;
}

/* The layer products of the forward pass, straight on BLIS with
 * preallocated buffers: C_j = Theta^j C_{j-1}, C_{-1} = X^T. */
static void gemm_chain(const problem_t *p, const shape_t *s, double *buf[2], size_t threads) {
  const double *src = p->data->xt;
  rntm_t rntm = BLIS_RNTM_INITIALIZER;
  bli_rntm_init(&rntm);
  bli_rntm_set_num_threads((dim_t)threads, &rntm);
  double one = 1.0, zero = 0.0;
  for (size_t j = 0; j <= s->depth; j++) {
    dim_t rows = (dim_t)s->widths[j + 1], k = (dim_t)s->widths[j], n = (dim_t)s->n;
    double *c = buf[j % 2];
    bli_dgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, rows, n, k, &one, p->theta->w[j], k, 1,
                 (double *)src, n, 1, &zero, c, n, 1, NULL, &rntm);
    src = c;
  }
}

/* numpy's side: a child process running the script in --serve mode, so
 * that its repetitions interleave with ours (the machine may be shared:
 * interleaving exposes both sides to the same background load). */
typedef struct {
  pid_t pid;
  FILE *to, *from;
} peer_t;

typedef struct {
  double median_s, risk, cpu_over_wall;
  char blas[256];
} numpy_result;

/* 0 on success, -2 if numpy is missing, -1 on any other failure. */
static int peer_start(peer_t *pe, const char *script, const shape_t *s, size_t threads) {
  char widths[256] = "", nbuf[64], tbuf[32];
  size_t off = 0;
  for (size_t j = 0; j < s->depth + 2; j++)
    off += (size_t)snprintf(widths + off, sizeof widths - off, "%s%zu", j ? "," : "--widths=",
                            s->widths[j]);
  snprintf(nbuf, sizeof nbuf, "--n=%zu", s->n);
  snprintf(tbuf, sizeof tbuf, "%zu", threads);
  int down[2], up[2];
  if (pipe(down) != 0) return -1;
  if (pipe(up) != 0) {
    close(down[0]);
    close(down[1]);
    return -1;
  }
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    dup2(down[0], 0);
    dup2(up[1], 1);
    dup2(up[1], 2);
    close(down[0]);
    close(down[1]);
    close(up[0]);
    close(up[1]);
    setenv("BLIS_NUM_THREADS", tbuf, 1);
    setenv("OMP_NUM_THREADS", tbuf, 1);
    execl("/usr/bin/python3", "python3", script, widths, nbuf, "--serve", (char *)NULL);
    _exit(127);
  }
  close(down[0]);
  close(up[1]);
  pe->pid = pid;
  pe->to = fdopen(down[1], "w");
  pe->from = fdopen(up[0], "r");
  char line[512];
  if (pe->to == NULL || pe->from == NULL || fgets(line, sizeof line, pe->from) == NULL)
    return -1;
  if (strncmp(line, "ready", 5) == 0) return 0;
  if (strncmp(line, "numpy_missing", 13) == 0) return -2;
  fputs(line, stdout); /* a traceback: show it */
  return -1;
}

/* numpy's time of k evaluations, one by one, into t[0..k). */
static int peer_time(peer_t *pe, size_t k, double *t) {
  fprintf(pe->to, "time %zu\n", k);
  fflush(pe->to);
  char *line = NULL;
  size_t cap = 0;
  int rc = -1;
  if (getline(&line, &cap, pe->from) > 0 && strncmp(line, "times ", 6) == 0) {
    char *p = line + 6, *e;
    size_t i = 0;
    for (; i < k; i++, p = e) {
      t[i] = strtod(p, &e);
      if (e == p) break;
    }
    rc = i == k ? 0 : -1;
  }
  free(line);
  return rc;
}

static int peer_finish(peer_t *pe, numpy_result *res) {
  memset(res, 0, sizeof *res);
  fprintf(pe->to, "quit\n");
  fclose(pe->to);
  char line[512];
  int have = 0;
  while (fgets(line, sizeof line, pe->from)) {
    if (sscanf(line, "numpy_median_s = %lf", &res->median_s) == 1) have |= 1;
    else if (sscanf(line, "numpy_risk = %lf", &res->risk) == 1) have |= 2;
    else if (sscanf(line, "numpy_cpu_over_wall = %lf", &res->cpu_over_wall) == 1) have |= 4;
    else if (strncmp(line, "numpy_blas = ", 13) == 0) {
      snprintf(res->blas, sizeof res->blas, "%.200s", line + 13);
      res->blas[strcspn(res->blas, "\n")] = '\0';
    }
  }
  fclose(pe->from);
  int status = 0;
  waitpid(pe->pid, &status, 0);
  return (WIFEXITED(status) && WEXITSTATUS(status) == 0 && (have & 3) == 3) ? 0 : -1;
}

static void peer_abort(peer_t *pe) {
  if (pe->to) fclose(pe->to);
  if (pe->from) fclose(pe->from);
  if (pe->pid > 0) {
    kill(pe->pid, SIGTERM);
    waitpid(pe->pid, NULL, 0);
  }
  memset(pe, 0, sizeof *pe);
}

static void print_shape(const char *tag, const shape_t *s) {
  printf("%s: ReLU net, widths", tag);
  for (size_t j = 0; j < s->depth + 2; j++) printf(" %zu", s->widths[j]);
  printf(", n = %zu, squared loss (%.3g GFLOP per evaluation)\n", s->n, shape_flops(s) * 1e-9);
}

int main(int argc, char **argv) {
  size_t reps = 5, rounds = 21, batch = 101, big_n = 4096, threads = 0;
  int use_numpy = 1, small_only = 0;
  const char *script = NSLM_BENCH_SRCDIR "/bench_forward_numpy.py";
  for (int i = 1; i < argc; i++) {
    if (strncmp(argv[i], "--reps=", 7) == 0) reps = strtoul(argv[i] + 7, NULL, 10);
    else if (strncmp(argv[i], "--small-rounds=", 15) == 0) rounds = strtoul(argv[i] + 15, NULL, 10);
    else if (strncmp(argv[i], "--small-batch=", 14) == 0) batch = strtoul(argv[i] + 14, NULL, 10);
    else if (strncmp(argv[i], "--n=", 4) == 0) big_n = strtoul(argv[i] + 4, NULL, 10);
    else if (strncmp(argv[i], "--threads=", 10) == 0) threads = strtoul(argv[i] + 10, NULL, 10);
    else if (strcmp(argv[i], "--no-numpy") == 0) use_numpy = 0;
    else if (strncmp(argv[i], "--script=", 9) == 0) script = argv[i] + 9;
    else if (strcmp(argv[i], "--small-only") == 0) small_only = 1;
    else {
      fprintf(stderr, "usage: %s [--reps=K] [--small-rounds=R] [--small-batch=B] [--n=N] "
                      "[--threads=T] [--no-numpy] [--script=PATH] [--small-only]\n", argv[0]);
      return 2;
    }
  }
  if (reps < 1) reps = 1;
  if (rounds < 1) rounds = 1;
  if (batch < 1) batch = 1;
  if (big_n < 1) big_n = 1;
  signal(SIGPIPE, SIG_IGN);

  printf("libnslm %s, BLIS %s\n", nslm_version_string(), bli_info_get_version_str());
  shape_t big = {3, {1024, 4096, 4096, 4096, 10}, big_n};
  shape_t small = {2, {8, 64, 64, 1}, 256};
  int rc = 0;

  if (!small_only) {
    problem_t p;
    if (problem_make(&p, &big, threads) != 0) {
      printf("setup failed: %s\n", nslm_last_error());
      return 1;
    }
    size_t T = nslm_net_num_threads(p.net);
    print_shape("big", &big);
    size_t mx = 0;
    for (size_t j = 1; j <= big.depth + 1; j++)
      if (big.widths[j] > mx) mx = big.widths[j];
    double *b0 = malloc(mx * big.n * sizeof *b0), *b1 = malloc(mx * big.n * sizeof *b1);
    double *t_ours = malloc(reps * sizeof(double)), *t_gemm = malloc(reps * sizeof(double));
    double *t_np = malloc(reps * sizeof(double));
    if (!b0 || !b1 || !t_ours || !t_gemm || !t_np) {
      printf("out of memory\n");
      return 1;
    }
    memset(b0, 0, mx * big.n * sizeof *b0);
    memset(b1, 0, mx * big.n * sizeof *b1);
    double *buf[2] = {b0, b1};
    peer_t pe = {0, NULL, NULL};
    int np_ok = 0;
    if (use_numpy) {
      int st = peer_start(&pe, script, &big, T);
      if (st == 0) np_ok = 1;
      else {
        printf(st == -2 ? "numpy: not importable by /usr/bin/python3, numpy ratio skipped\n"
                        : "numpy: the peer script failed to start\n");
        peer_abort(&pe);
        if (st != -2) rc = 1;
      }
    }
    printf("threads: libnslm = %zu, dgemm = %zu", T, T);
    if (np_ok) printf(", numpy = %zu (BLIS_NUM_THREADS)", T);
    printf("\n");
    double risk = 0.0;
    /* Warm-up: BLIS's packing buffers, page faults, the thread team. */
    if (nslm_eval_risk(p.net, p.theta, p.data, p.loss, &risk) != NSLM_OK) {
      printf("nslm_eval_risk failed: %s\n", nslm_last_error());
      return 1;
    }
    gemm_chain(&p, &big, buf, T);
    /* Rounds: ours, dgemm's and numpy's evaluation each once, in rotating
     * order. */
    for (size_t r = 0; r < reps; r++) {
      for (int side = 0; side < 3; side++) {
        int which = (int)((r + (size_t)side) % 3);
        settle();
        if (which == 2) {
          if (np_ok && peer_time(&pe, 1, &t_np[r]) != 0) {
            printf("numpy: the peer script failed\n");
            peer_abort(&pe);
            np_ok = 0;
            rc = 1;
          }
          continue;
        }
        double t0 = now();
        if (which == 0) nslm_eval_risk(p.net, p.theta, p.data, p.loss, &risk);
        else gemm_chain(&p, &big, buf, T);
        double dt = now() - t0;
        if (which == 0) t_ours[r] = dt;
        else t_gemm[r] = dt;
      }
    }
    double fo = fastest(t_ours, reps), fg = fastest(t_gemm, reps);
    double fl = shape_flops(&big), mo = median(t_ours, reps), mg = median(t_gemm, reps);
    printf("ours:  median %.4f s over %zu reps, %.2f GFLOP/s (risk = %.17g)\n", mo, reps,
           fl / mo * 1e-9, risk);
    printf("dgemm: median %.4f s over %zu reps, %.2f GFLOP/s (the same %zu products)\n", mg,
           reps, fl / mg * 1e-9, big.depth + 1);
    printf("(fastest repetitions: ours %.4f s, dgemm %.4f s, ratio %.3f)\n", fo, fg, fg / fo);
    printf("ratio_forward_vs_gemm = %.3f\n", mg / mo);
    if (np_ok) {
      numpy_result nr;
      if (peer_finish(&pe, &nr) == 0) {
        double fn = fastest(t_np, reps), mn = median(t_np, reps);
        printf("numpy: median %.4f s over %zu reps, %.2f GFLOP/s, cpu/wall %.2f, BLAS %s "
               "(risk = %.17g, relative difference %.1e)\n",
               mn, reps, fl / mn * 1e-9, nr.cpu_over_wall, nr.blas, nr.risk,
               fabs(nr.risk - risk) / fmax(fabs(risk), 1e-300));
        printf("(fastest repetitions: ours %.4f s, numpy %.4f s, ratio %.3f)\n", fo, fn, fo / fn);
        printf("ratio_forward_vs_numpy = %.3f\n", mo / mn);
      } else {
        printf("numpy: the peer script failed: ratio_forward_vs_numpy not measured\n");
        rc = 1;
      }
    }
    free(b0);
    free(b1);
    free(t_ours);
    free(t_gemm);
    free(t_np);
    problem_free(&p);
  }

  /* The small network: call overhead and allocation matter.  numpy runs
   * twice, with BLIS on T threads and on 1 (for products this small one
   * thread can be the faster); the faster numpy counts. */
  {
    problem_t p;
    if (problem_make(&p, &small, threads) != 0) {
      printf("setup failed: %s\n", nslm_last_error());
      return 1;
    }
    size_t T = nslm_net_num_threads(p.net);
    print_shape("small", &small);
    size_t total = rounds * batch, tl[2] = {T, 1}, npeers = T > 1 ? 2 : 1;
    double *t = malloc(total * sizeof *t), risk = 0.0;
    double *tn[2] = {malloc(total * sizeof(double)), malloc(total * sizeof(double))};
    if (t == NULL || tn[0] == NULL || tn[1] == NULL) return 1;
    peer_t pe[2] = {{0, NULL, NULL}, {0, NULL, NULL}};
    int np_ok[2] = {0, 0};
    for (size_t k = 0; use_numpy && k < npeers; k++) {
      int st = peer_start(&pe[k], script, &small, tl[k]);
      np_ok[k] = st == 0;
      if (st != 0) {
        printf(st == -2 ? "numpy: not importable by /usr/bin/python3, numpy ratio skipped\n"
                        : "numpy: the peer script failed to start\n");
        peer_abort(&pe[k]);
        if (st != -2) rc = 1;
      }
    }
    printf("threads: libnslm = %zu (%s)", T,
           nslmi_forward_fused_applies(p.net, small.depth + 1, T)
               ? "fused small-network path: one thread team per evaluation"
               : "one BLIS product per layer, products below 1 MFLOP on 1 thread");
    for (size_t k = 0; k < npeers; k++)
      if (np_ok[k]) printf(", numpy = %zu", tl[k]);
    printf("\n");
    for (int w = 0; w < 10; w++) nslm_eval_risk(p.net, p.theta, p.data, p.loss, &risk);
    for (size_t r = 0; r < rounds; r++) {
      settle();
      for (size_t i = 0; i < batch; i++) {
        double t0 = now();
        nslm_eval_risk(p.net, p.theta, p.data, p.loss, &risk);
        t[r * batch + i] = now() - t0;
      }
      for (size_t k = 0; k < npeers; k++)
        if (np_ok[k] && (settle(), peer_time(&pe[k], batch, tn[k] + r * batch) != 0)) {
          printf("numpy: the peer script failed\n");
          peer_abort(&pe[k]);
          np_ok[k] = 0;
          rc = 1;
        }
    }
    double fo = fastest(t, total), mo = median(t, total), best = INFINITY, fbest = INFINITY;
    printf("ours:  median %.2f us over %zu reps (risk = %.17g)\n", mo * 1e6, total, risk);
    for (size_t k = 0; k < npeers; k++) {
      if (!np_ok[k]) continue;
      numpy_result nr;
      if (peer_finish(&pe[k], &nr) != 0) {
        printf("numpy: the peer script failed\n");
        rc = 1;
        continue;
      }
      double fn = fastest(tn[k], total), mn = median(tn[k], total);
      if (fn < fbest) fbest = fn;
      printf("numpy (BLIS_NUM_THREADS=%zu): median %.2f us over %zu reps, cpu/wall %.2f "
             "(risk = %.17g, relative difference %.1e)\n",
             tl[k], mn * 1e6, total, nr.cpu_over_wall, nr.risk,
             fabs(nr.risk - risk) / fmax(fabs(risk), 1e-300));
      if (mn < best) best = mn;
    }
    if (isfinite(best)) {
      printf("(fastest repetitions: ours %.2f us, numpy %.2f us, ratio %.3f)\n", fo * 1e6,
             fbest * 1e6, fo / fbest);
      printf("small_ratio_forward_vs_numpy = %.3f\n", mo / best);
    }
    free(t);
    free(tn[0]);
    free(tn[1]);
    problem_free(&p);
  }
  return rc;
}
