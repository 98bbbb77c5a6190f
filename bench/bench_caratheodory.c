/* bench_caratheodory.c - the Caratheodory reduction against its peers
 * (issue 3): one LAPACK QR factorization of Z (dgeqrf, for scale) and a
 * slow textbook reduction (a copy written here: a fresh null vector by
 * dgeqrf + dormqr at every step, both ends compared).
 *
 * For (h, r) in {(2000, 100), (100000, 100), (30000, 300)}, q in {1, 0.5},
 * Z and t Gaussian, it prints seconds per vector of
 *   - nslm_caratheodory_reduce (one vector from scratch, everything
 *     included: checks, factorization, reduction, reports),
 *   - nslm_caratheodory_reduce_rows on u = 64 rows, divided by 64,
 *   - the textbook reduction, where it finishes within 60 s (else ">60";
 *     its steps all cost the same, so once it has run 5 s and its
 *     projected total exceeds 120 s it is stopped early and the projection
 *     printed; --full runs it up to the 60 s cut-off instead),
 *   - one dgeqrf of the h x r matrix Z,
 * each the median of the repetitions, and the three figures of the issue:
 *   ratio_carath_vs_qr_100000x100   (goal <= 1.5)
 *   amortized_row_vs_qr_100000x100  (goal <= 0.1)
 *   speedup_vs_reference_2000x100   (goal >= 100)
 * taking the worse of the two q for each.  Both sides run on the same
 * number of threads: BLIS_NUM_THREADS (else OMP_NUM_THREADS, else 1, which
 * is what Debian's BLIS and therefore LAPACK use by default).
 *
 * Usage: bench_caratheodory [--reps N] [--full] [--quick] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lapack.h"
#include "nslm.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static unsigned long long rng_state = 88172645463325252ULL;
static double uniform(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (double)(rng_state >> 11) / 9007199254740992.0;
}
static double gauss(void) {
  double u = uniform(), v = uniform();
  if (u < 1e-300)
    u = 1e-300;
  return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

/* ------------------------------------------------- the textbook reference */

/* Reduces t (h entries, in place) against Z (h x r row-major, full rank r
 * for Gaussian data): while more than r coefficients are nonzero, the
 * first r + 1 of them belong to dependent vectors; a fresh QR of their
 * (r+1) x r transpose gives a null vector (last column of Q); step to the
 * end of the no-sign-flip interval with the smaller sum |t|^q.  Returns
 * the seconds used, or -(projected seconds) when stopped early. */
static double textbook(size_t h, size_t r, const double *z, double *t, double q, int full,
                       double *cpu) {
  double t0 = now(), c0 = cpu_now();
  size_t *act = malloc(sizeof(size_t) * h), na = 0;
  for (size_t j = 0; j < h; j++)
    if (t[j] != 0.0)
      act[na++] = j;
  size_t w = r + 1, steps = 0, total = na > r ? na - r : 0;
  nslmi_lapack_int m = (nslmi_lapack_int)w, n = (nslmi_lapack_int)r, one = 1, info = 0, lw;
  double wq = 0;
  lw = -1;
  dgeqrf_(&m, &n, NULL, &m, NULL, &wq, &lw, &info);
  lw = (nslmi_lapack_int)wq + 64 * (nslmi_lapack_int)w;
  double *a = malloc(sizeof(double) * w * r), *tau = malloc(sizeof(double) * w);
  double *work = malloc(sizeof(double) * (size_t)lw), *d = malloc(sizeof(double) * w);
  double *c = malloc(sizeof(double) * w);
  double result = 0;
  while (na > r) {
    for (size_t i = 0; i < w; i++) {
      const double *zj = z + act[i] * r;
      double sg = t[act[i]] > 0 ? 1 : -1;
      c[i] = fabs(t[act[i]]);
      for (size_t k = 0; k < r; k++)
        a[i + k * w] = sg * zj[k];
    }
    dgeqrf_(&m, &n, a, &m, tau, work, &lw, &info);
    memset(d, 0, sizeof(double) * w);
    d[w - 1] = 1;
    char side = 'L', tr = 'N';
    dormqr_(&side, &tr, &m, &one, &n, a, &m, tau, d, &m, work, &lw, &info);
    double em = -INFINITY, ep = INFINITY;
    size_t im = w, ip = w;
    for (size_t i = 0; i < w; i++) {
      if (d[i] > 0 && -c[i] / d[i] > em)
        em = -c[i] / d[i], im = i;
      if (d[i] < 0 && c[i] / -d[i] < ep)
        ep = c[i] / -d[i], ip = i;
    }
    double phm = INFINITY, php = INFINITY;
    for (int s = 0; s < 2; s++) {
      double e = s ? ep : em, ph = 0;
      if (!isfinite(e))
        continue;
      for (size_t i = 0; i < w; i++) {
        double cn = c[i] + e * d[i];
        if (i == (s ? ip : im) || cn < 0)
          cn = 0;
        ph += (q == 1 ? cn : pow(cn, q)) - (q == 1 ? c[i] : pow(c[i], q));
      }
      if (s)
        php = ph;
      else
        phm = ph;
    }
    int plus = php < phm;
    double e = plus ? ep : em;
    size_t lim = plus ? ip : im;
    for (size_t i = 0; i < w; i++) {
      double cn = c[i] + e * d[i];
      if (i == lim || cn < 0)
        cn = 0;
      t[act[i]] = t[act[i]] > 0 ? cn : -cn;
    }
    size_t o = 0;
    for (size_t i = 0; i < na; i++)
      if (t[act[i]] != 0.0)
        act[o++] = act[i];
    na = o;
    steps++;
    double el = now() - t0;
    if (el > 60.0) {
      result = -el; /* cut off: "> 60" */
      break;
    }
    if (!full && el > 5.0) {
      double proj = el / (double)steps * (double)total;
      if (proj > 120.0) {
        result = -proj;
        break;
      }
    }
  }
  if (result == 0)
    result = now() - t0;
  *cpu = cpu_now() - c0;
  free(act);
  free(a);
  free(tau);
  free(work);
  free(d);
  free(c);
  return result;
}

/* ------------------------------------------------------------- one size */

/* Each figure as wall-clock seconds and as CPU seconds of the process (all
 * threads): on a shared machine the CPU time is the steadier measure of
 * the work, the wall time what a user waits. */
typedef struct {
  double wall, cpu;
} fig_t;

typedef struct {
  fig_t carath[2], batched[2], ref[2], qr;
  double resid[2], nnz[2];
} row_t;

static fig_t median2(double *w, double *c, int n) {
  fig_t f = {median(w, n), median(c, n)};
  return f;
}

static void run_size(size_t h, size_t r, int reps, int full, int nthr, row_t *out) {
  size_t u = 64;
  double *z = malloc(sizeof(double) * h * r), *zf = malloc(sizeof(double) * h * r);
  double *t = malloc(sizeof(double) * h), *tp = malloc(sizeof(double) * h);
  double *w = malloc(sizeof(double) * u * h), *wo = malloc(sizeof(double) * u * h);
  int nt = reps > 3 ? reps : 3;
  double *tw = malloc(sizeof(double) * (size_t)nt), *tc = malloc(sizeof(double) * (size_t)nt);
  for (size_t i = 0; i < h * r; i++)
    z[i] = gauss();
  for (size_t j = 0; j < h; j++)
    t[j] = gauss();
  for (size_t i = 0; i < u * h; i++)
    w[i] = gauss();

  /* One dgeqrf of Z (column-major copy made outside the timing). */
  {
    nslmi_lapack_int m = (nslmi_lapack_int)h, n = (nslmi_lapack_int)r, lw = -1, info = 0;
    double wq = 0, *tau = malloc(sizeof(double) * r);
    dgeqrf_(&m, &n, zf, &m, tau, &wq, &lw, &info);
    lw = (nslmi_lapack_int)wq;
    double *work = malloc(sizeof(double) * (size_t)lw);
    for (int k = 0; k < reps; k++) {
      for (size_t i = 0; i < h; i++)
        for (size_t c = 0; c < r; c++)
          zf[i + c * h] = z[i * r + c];
      double t0 = now(), c0 = cpu_now();
      dgeqrf_(&m, &n, zf, &m, tau, work, &lw, &info);
      tw[k] = now() - t0;
      tc[k] = cpu_now() - c0;
    }
    out->qr = median2(tw, tc, reps);
    free(tau);
    free(work);
  }

  nslm_caratheodory_opts *o;
  nslm_caratheodory_opts_create(&o);
  nslm_caratheodory_opts_set_int(o, NSLM_CARATHEODORY_NUM_THREADS, nthr);
  for (int qi = 0; qi < 2; qi++) {
    double q = qi ? 0.5 : 1.0;
    size_t nnz = 0;
    double res = 0;
    for (int k = 0; k < reps; k++) {
      double t0 = now(), c0 = cpu_now();
      int st = nslm_caratheodory_reduce(h, r, z, (ptrdiff_t)r, 1, t, 1, q, o, tp, 1, &nnz, &res,
                                        NULL, NULL, NULL, NULL);
      tw[k] = now() - t0;
      tc[k] = cpu_now() - c0;
      if (st != NSLM_OK) {
        fprintf(stderr, "reduce failed: %s\n", nslm_last_error());
        exit(1);
      }
    }
    out->carath[qi] = median2(tw, tc, reps);
    out->resid[qi] = res;
    out->nnz[qi] = (double)nnz;
    int rb = reps < 3 ? reps : 3;
    for (int k = 0; k < rb; k++) {
      double t0 = now(), c0 = cpu_now();
      int st =
          nslm_caratheodory_reduce_rows(h, r, z, (ptrdiff_t)r, 1, u, w, (ptrdiff_t)h, 1, q, o, wo,
                                        (ptrdiff_t)h, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
      tw[k] = (now() - t0) / (double)u;
      tc[k] = (cpu_now() - c0) / (double)u;
      if (st != NSLM_OK) {
        fprintf(stderr, "reduce_rows failed: %s\n", nslm_last_error());
        exit(1);
      }
    }
    out->batched[qi] = median2(tw, tc, rb);
    /* The reference once (it is deterministic and slow). */
    memcpy(tp, t, sizeof(double) * h);
    out->ref[qi].wall = textbook(h, r, z, tp, q, full, &out->ref[qi].cpu);
  }
  nslm_caratheodory_opts_destroy(o);
  free(z);
  free(zf);
  free(t);
  free(tp);
  free(w);
  free(wo);
  free(tw);
  free(tc);
}

static void fmt_ref(char *buf, size_t cap, fig_t f) {
  if (f.wall >= 0)
    snprintf(buf, cap, "%.4g/%.4g", f.wall, f.cpu);
  else if (-f.wall > 60.0 && -f.wall < 61.0)
    snprintf(buf, cap, ">60");
  else
    snprintf(buf, cap, ">60 (proj. %.0f)", -f.wall);
}

int main(int argc, char **argv) {
  int reps = 5, full = 0, quick = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
      reps = atoi(argv[++i]);
    else if (strcmp(argv[i], "--full") == 0)
      full = 1;
    else if (strcmp(argv[i], "--quick") == 0)
      quick = 1;
    else {
      fprintf(stderr, "usage: %s [--reps N] [--full] [--quick]\n", argv[0]);
      return 2;
    }
  }
  if (reps < 1)
    reps = 1;
  const char *env = getenv("BLIS_NUM_THREADS");
  if (env == NULL || *env == '\0')
    env = getenv("OMP_NUM_THREADS");
  int nthr = env && atoi(env) > 0 ? atoi(env) : 1;
  double load = -1;
  FILE *f = fopen("/proc/loadavg", "r");
  if (f) {
    if (fscanf(f, "%lf", &load) != 1)
      load = -1;
    fclose(f);
  }
  printf("bench_caratheodory: q-convex Caratheodory reduction, median of %d runs\n", reps);
  printf("threads: nslm %d, LAPACK/BLIS %d; load average at start %.2f\n", nthr, nthr, load);
  static const size_t sizes[3][2] = {{2000, 100}, {100000, 100}, {30000, 300}};
  row_t rows[3];
  printf("seconds per vector, wall/cpu (cpu: process CPU time, all threads)\n");
  printf("%7s %4s %4s %20s %20s %20s %20s %5s %8s\n", "h", "r", "q", "carath", "batched64/row",
         "reference", "qr", "nnz", "residual");
  for (int s = 0; s < 3; s++) {
    if (quick && s > 0)
      break;
    run_size(sizes[s][0], sizes[s][1], reps, full, nthr, &rows[s]);
    for (int qi = 0; qi < 2; qi++) {
      char a[40], b[40], c[40], d[40];
      snprintf(a, sizeof a, "%.4g/%.4g", rows[s].carath[qi].wall, rows[s].carath[qi].cpu);
      snprintf(b, sizeof b, "%.4g/%.4g", rows[s].batched[qi].wall, rows[s].batched[qi].cpu);
      fmt_ref(c, sizeof c, rows[s].ref[qi]);
      snprintf(d, sizeof d, "%.4g/%.4g", rows[s].qr.wall, rows[s].qr.cpu);
      printf("%7zu %4zu %4.1f %20s %20s %20s %20s %5.0f %8.2g\n", sizes[s][0], sizes[s][1],
             qi ? 0.5 : 1.0, a, b, c, d, rows[s].nnz[qi], rows[s].resid[qi]);
    }
    fflush(stdout);
  }
  /* The figures (the worse q of the two), from wall-clock medians,
   * then the same from CPU times. */
  for (int use_cpu = 0; use_cpu < 2; use_cpu++) {
    const char *suf = use_cpu ? "_cpu" : "";
#define PICK(f) (use_cpu ? (f).cpu : (f).wall)
    if (!quick) {
      const row_t *b = &rows[1];
      double ratio = fmax(PICK(b->carath[0]), PICK(b->carath[1])) / PICK(b->qr);
      double amort = fmax(PICK(b->batched[0]), PICK(b->batched[1])) / PICK(b->qr);
      printf("ratio_carath_vs_qr_100000x100%s = %.3f\n", suf, ratio);
      printf("amortized_row_vs_qr_100000x100%s = %.4f\n", suf, amort);
    }
    const row_t *a = &rows[0];
    int cut = a->ref[0].wall < 0 || a->ref[1].wall < 0;
    double r0 = a->ref[0].wall < 0 ? -a->ref[0].wall : PICK(a->ref[0]);
    double r1 = a->ref[1].wall < 0 ? -a->ref[1].wall : PICK(a->ref[1]);
    printf("speedup_vs_reference_2000x100%s = %.1f%s\n", suf,
           fmin(r0 / PICK(a->carath[0]), r1 / PICK(a->carath[1])),
           cut ? " (reference cut off: lower bound)" : "");
#undef PICK
  }
  return 0;
}
