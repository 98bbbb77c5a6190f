/* test_threads.c - concurrency (issue 7): several threads evaluate,
 * construct, certify and save at once, on separate handles and on shared
 * read-only handles; every result must equal, bit for bit, the result of
 * the same work run alone in one thread.  The per-thread detail message
 * of the last failure stays per thread.  Meant to run under
 * ThreadSanitizer too (scripts/sanitize.sh builds it with
 * -fsanitize=thread); every BLIS product runs on one BLIS thread, so that
 * no OpenMP team (invisible to TSan) is involved and results are
 * bitwise reproducible.
 *
 * The work of one thread on one instance: risk, outputs, gradient,
 * compression, connect, both certificates (figures and summary), path
 * evaluation on a grid, the descent path, a Caratheodory reduction, a
 * parameter save and load (files in one shared directory: the atomic
 * saves' temporary names must not collide), all digested into one vector
 * of numbers. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "hardutil.h"
#include "nslm.h"
#include "testutil.h"

#define NTHREADS 4
#define ROUNDS 3

typedef struct {
  nslmh_inst in;
  char file[600];
} job_t;

static char dir[512];

/* Everything one unit of work computes, as a digest.  Only library calls
 * and plain C here (no Check macros: they are not thread-safe); a failing
 * call adds its status and detail, so the digests differ. */
static void work(const job_t *j, const char *file, nslmh_digest *d) {
  const nslmh_inst *in = &j->in;
  double risk = 0, out[256], z[24], t[6], tout[6];
  int st;
#define NOTE(call)                                \
  do {                                            \
    st = (call);                                  \
    nslmh_digest_add(d, st);                      \
    if (st) nslmh_digest_add(d, (double)__LINE__); \
  } while (0)
  NOTE(nslm_eval_risk(in->net, in->theta, in->data, in->loss, &risk));
  nslmh_digest_add(d, risk);
  NOTE(nslm_eval_outputs(in->net, in->theta, in->data, out, (ptrdiff_t)in->m, 1));
  nslmh_digest_bytes(d, out, in->n * in->m * sizeof(double));
  nslm_params *g = NULL, *bar = NULL, *back = NULL;
  NOTE(nslm_params_create(&g, in->net));
  NOTE(nslm_params_create(&bar, in->net));
  if (g && bar) {
    NOTE(nslm_eval_gradient(in->net, in->theta, in->data, in->loss, g, &risk));
    nslmh_digest_params(d, g);
    NOTE(nslm_compress(in->net, in->theta, in->data, in->con, in->opts, bar, NULL, NULL, 0, NULL, NULL));
    nslmh_digest_params(d, bar);
  }
  nslm_path *path = NULL, *desc = NULL;
  NOTE(nslm_connect(in->net, in->theta, in->gamma, in->data, in->con, in->opts, &path));
  if (path) {
    nslmh_digest_path(d, path, in->theta);
    for (int kind = NSLM_CERT_ALGEBRAIC; kind <= NSLM_CERT_SAMPLED; kind++) {
      nslm_certificate *c = NULL;
      NOTE(nslm_path_certify(&c, path, in->net, in->data, in->loss, in->con, kind, 5, NULL, NULL));
      if (c) {
        nslmh_digest_cert(d, c);
        char line[512];
        size_t need = 0;
        NOTE(nslm_certificate_summary(c, line, sizeof line, &need));
        nslmh_digest_bytes(d, line, strlen(line));
        nslm_certificate_destroy(c);
      }
    }
    size_t np = nslm_path_grid_size(path, 4);
    double *gt = malloc(np * sizeof *gt), *gr = malloc(np * sizeof *gr);
    if (gt && gr) {
      NOTE(nslm_path_eval_grid(path, in->net, in->data, in->loss, in->con, 4, np, gt, gr, NULL, NULL, 0, 0,
                               NSLM_EVAL_STRUCTURED, NULL, NULL));
      nslmh_digest_bytes(d, gr, np * sizeof *gr);
    }
    free(gt);
    free(gr);
  }
  double cut = -1;
  NOTE(nslm_descent(in->net, in->theta, in->gamma, in->data, in->loss, in->con, in->opts, &desc, &cut));
  nslmh_digest_add(d, cut);
  if (desc) nslmh_digest_path(d, desc, in->theta);
  for (int i = 0; i < 6; i++) {
    for (int c = 0; c < 4; c++) z[i * 4 + c] = in->x[(i * 4 + c) % (in->n * in->d)] + 0.1 * c;
    t[i] = 1.0 + 0.25 * i;
  }
  size_t nnz = 0;
  NOTE(nslm_caratheodory_reduce(6, 4, z, 4, 1, t, 1, 0.5, NULL, tout, 1, &nnz, NULL, NULL, NULL, NULL, NULL));
  nslmh_digest_bytes(d, tout, sizeof tout);
  NOTE(nslm_params_save(bar ? bar : in->theta, file));
  NOTE(nslm_params_load(&back, file));
  if (back) nslmh_digest_params(d, back);
#undef NOTE
  nslm_params_destroy(g);
  nslm_params_destroy(bar);
  nslm_params_destroy(back);
  nslm_path_destroy(path);
  nslm_path_destroy(desc);
}

/* ------------------------------------------------------------------ */

typedef struct {
  const job_t *job;
  int id;
  pthread_barrier_t *bar;
  nslmh_digest got[ROUNDS];
  char file[700];
  int detail_ok;
} targ_t;

static void *thread_main(void *p) {
  targ_t *a = p;
  pthread_barrier_wait(a->bar); /* start together */
  for (int r = 0; r < ROUNDS; r++) {
    nslmh_digest_init(&a->got[r]);
    work(a->job, a->file, &a->got[r]);
  }
  /* the detail message is per thread: each thread fails with its own
   * index, waits until all have failed, then reads its own detail */
  size_t rows, cols;
  int st = nslm_params_layer_shape(a->job->in.theta, 1000 + (size_t)a->id, &rows, &cols);
  pthread_barrier_wait(a->bar);
  char want[32];
  snprintf(want, sizeof want, "%d", 1000 + a->id);
  a->detail_ok = st != NSLM_OK && strstr(nslm_last_error(), want) != NULL;
  return NULL;
}

static void make_jobs(job_t *jobs, int n) {
  static const int acts[3] = {NSLM_ACT_TANH, NSLM_ACT_RELU, NSLM_ACT_SIGMOID};
  snprintf(dir, sizeof dir, "%s/threads-%ld", nslmt_tmpdir(), (long)getpid());
  mkdir(dir, 0700);
  for (int i = 0; i < n; i++) {
    size_t p = 12;
    for (int tries = 0;; tries++) {
      nslmh_inst_make(&jobs[i].in, 500 + (uint64_t)i, 2, 3, p, 1 + (size_t)(i % 2), 4, acts + (i % 2), 2,
                      NSLM_LOSS_SQUARED);
      nslmh_inst_constrain(&jobs[i].in, i % 2 ? 1.0 : 2.0);
      size_t need[2];
      int fits = 0;
      ck_assert_int_eq(nslm_connect_widths(jobs[i].in.net, jobs[i].in.theta, jobs[i].in.gamma, jobs[i].in.data,
                                           jobs[i].in.con, jobs[i].in.opts, need, 2, &fits),
                       NSLM_OK);
      if (fits) break;
      ck_assert(tries < 3);
      p = (need[0] > need[1] ? need[0] : need[1]) + 2;
      nslmh_inst_free(&jobs[i].in);
    }
    snprintf(jobs[i].file, sizeof jobs[i].file, "%s/alone-%d.npz", dir, i);
  }
}

static void free_jobs(job_t *jobs, int n) {
  for (int i = 0; i < n; i++) nslmh_inst_free(&jobs[i].in);
  char cmd[700];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
}

/* shared = 1: every thread works on job 0's handles. */
static void run_threads(int shared) {
  nslmh_blis_warmup();
  job_t jobs[NTHREADS];
  make_jobs(jobs, NTHREADS);
  /* alone, one after the other */
  nslmh_digest alone[NTHREADS];
  for (int i = 0; i < NTHREADS; i++) {
    nslmh_digest_init(&alone[i]);
    work(&jobs[i], jobs[i].file, &alone[i]);
  }
  pthread_barrier_t bar;
  pthread_barrier_init(&bar, NULL, NTHREADS);
  pthread_t th[NTHREADS];
  targ_t args[NTHREADS];
  for (int i = 0; i < NTHREADS; i++) {
    args[i].job = &jobs[shared ? 0 : i];
    args[i].id = i;
    args[i].bar = &bar;
    snprintf(args[i].file, sizeof args[i].file, "%s/%s-%d.npz", dir, shared ? "shared-dir" : "own", i);
    ck_assert_int_eq(pthread_create(&th[i], NULL, thread_main, &args[i]), 0);
  }
  for (int i = 0; i < NTHREADS; i++) ck_assert_int_eq(pthread_join(th[i], NULL), 0);
  pthread_barrier_destroy(&bar);
  int mismatches = 0;
  for (int i = 0; i < NTHREADS; i++) {
    const nslmh_digest *want = &alone[shared ? 0 : i];
    for (int r = 0; r < ROUNDS; r++) {
      if (!nslmh_digest_equal(&args[i].got[r], want)) {
        mismatches++;
        printf("thread %d round %d: result differs from the single-thread run (%zu vs %zu numbers)\n", i, r,
               args[i].got[r].n, want->n);
      }
      nslmh_digest_free(&args[i].got[r]);
    }
    ck_assert_msg(args[i].detail_ok, "thread %d saw another thread's detail message", i);
  }
  printf("%d threads x %d rounds on %s handles: %zu numbers each, mismatches %d\n", NTHREADS, ROUNDS,
         shared ? "shared read-only" : "separate", alone[0].n, mismatches);
  for (int i = 0; i < NTHREADS; i++) nslmh_digest_free(&alone[i]);
  free_jobs(jobs, NTHREADS);
  ck_assert_int_eq(mismatches, 0);
}

START_TEST(separate_handles) { run_threads(0); }
END_TEST

START_TEST(shared_readonly_handles) { run_threads(1); }
END_TEST

int main(void) {
  Suite *s = suite_create("threads");
  TCase *tc = tcase_create("threads");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, separate_handles);
  tcase_add_test(tc, shared_readonly_handles);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
