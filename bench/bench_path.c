/* bench_path.c - path evaluation and certification, per issue 4, on a
 * d = 64, 3 x 1024, m = 4 ReLU network with n = 1024 samples:
 *
 *  (a) a path like the construction's (segments changing Theta^3, Theta^2,
 *      Theta^1, Theta^0, then a CONVEX bridge changing Theta^3), profiled at
 *      K points per segment (default 1000) with structure-aware and with
 *      plain evaluation: speedup_profile = time(plain) / time(structured),
 *      beside flop_ratio = the ratio of the products the two must do,
 *      computed from the shapes (goal: speedup >= 0.8 flop_ratio);
 *  (b) the straight line between two parameter sets (a GENERAL segment:
 *      every layer changes) profiled by nslm_landscape_line at K2 points:
 *      the GFLOP/s of its products over dgemm's GFLOP/s on the same
 *      products, measured here through the same door (nslmi_gemm, same
 *      thread count): line_profile_vs_gemm (goal >= 0.85);
 *  (c) the ALGEBRAIC certificate of path (a) in units of one risk
 *      evaluation (nslm_eval_risk) per segment:
 *      algebraic_certify_evals_per_segment (goal <= 3).
 *
 * Usage: bench_path [--points K] [--line-points K2] [--block B] [--quick]
 *                   [--parts abc]
 *   (--quick = --points 40 --line-points 40 --block 20; --parts runs only
 *   the parts named, e.g. --parts b for the straight line alone).
 * The machine may be shared: the two sides of each ratio are timed in
 * alternating blocks of B points (default 50), so that both see the same
 * load.  In (a) a block is one nslm_path_eval call on B grid points of one
 * segment; the structured side pays its segment setup once per block
 * (more than one profile call would: its time is, if anything,
 * pessimistic).  In (b) a block is one nslm_landscape_line call of B
 * points, setup included (its first-layer products are counted on both
 * sides).  (c) takes the fastest of 5 alternating rounds of each.
 * Thread counts: BLIS_NUM_THREADS / OMP_NUM_THREADS, else all cores; both
 * sides of every ratio use the same count (printed). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nslm.h"
#include "blas.h"
#include "forward.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *what, int st) {
  fprintf(stderr, "bench_path: %s: %s (%s)\n", what, nslm_strerror(st), nslm_last_error());
  exit(1);
}
#define TRY(call)                \
  do {                           \
    int st_ = (call);            \
    if (st_) die(#call, st_);    \
  } while (0)

enum { L = 3, D = 64, P = 1024, M = 4, N = 1024 };
static const size_t W[L + 2] = {D, P, P, P, M};

static double *layer(const nslm_params *th, size_t j) {
  double *a = malloc(W[j + 1] * W[j] * sizeof *a);
  TRY(nslm_params_get_layer(th, j, W[j + 1], W[j], a, (ptrdiff_t)W[j], 1));
  return a;
}
static void set_layer(nslm_params *th, size_t j, const double *a) {
  TRY(nslm_params_set_layer(th, j, W[j + 1], W[j], a, (ptrdiff_t)W[j], 1));
}

/* Columns k + half of a (rows x cols) moved onto columns k (for k < half). */
static void fold_columns(double *a, size_t rows, size_t cols) {
  size_t half = cols / 2;
  for (size_t r = 0; r < rows; r++)
    for (size_t k = 0; k < half; k++) {
      a[r * cols + k] += a[r * cols + k + half];
      a[r * cols + k + half] = 0.0;
    }
}

/* Products of one plain evaluation and of each segment of path (a). */
static double layer_flops(size_t j) { return 2.0 * (double)W[j + 1] * (double)W[j] * N; }

/* Times nslm_path_eval on npts points t (one block) in mode. */
static double time_block(const nslm_path *path, const nslm_net *net, const nslm_data *data,
                         const nslm_loss *loss, size_t npts, const double *t, double *risk,
                         int mode) {
  double t0 = now();
  TRY(nslm_path_eval(path, net, data, loss, NULL, npts, t, risk, NULL, NULL, 0, 0, mode, NULL, NULL));
  return now() - t0;
}

int main(int argc, char **argv) {
  size_t K = 1000, KL = 1000, B = 50;
  const char *parts = "abc";
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--points") && i + 1 < argc) K = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--line-points") && i + 1 < argc) KL = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--block") && i + 1 < argc) B = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--quick")) K = KL = 40, B = 20;
    else if (!strcmp(argv[i], "--parts") && i + 1 < argc) parts = argv[++i];
    else {
      fprintf(stderr, "usage: bench_path [--points K] [--line-points K2] [--block B] [--quick] "
              "[--parts abc]\n");
      return 2;
    }
  }
  if (K < 2 || KL < 2 || B < 1) {
    fprintf(stderr, "bench_path: point counts must be >= 2, the block >= 1\n");
    return 2;
  }

  /* The problem: inputs whose last 32 features copy the first 32, targets
   * from a random teacher. */
  nslm_net *net;
  TRY(nslm_net_create(&net, L, W));
  size_t T = nslm_net_num_threads(net);
  double *x = malloc((size_t)N * D * sizeof *x), *y = malloc((size_t)N * M * sizeof *y);
  unsigned long long s = 12345;
  for (size_t i = 0; i < (size_t)N * D; i++) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    x[i] = ((double)(s >> 11) / 9007199254740992.0) * 2 - 1;
  }
  for (size_t i = 0; i < N; i++)
    for (size_t c = D / 2; c < D; c++) x[i * D + c] = x[i * D + c - D / 2];
  for (size_t i = 0; i < (size_t)N * M; i++) y[i] = sin(0.37 * (double)i);
  nslm_data *data;
  TRY(nslm_data_create(&data, N, D, x, D, 1, M, y, M, 1));
  nslm_loss *loss;
  TRY(nslm_loss_create(&loss, NSLM_LOSS_SQUARED, 0));

  /* Theta with units paired at every hidden layer: rows k and k + 512 of
   * each Theta^{j-1} equal, so the paired units compute equal features and
   * moving weight between their columns keeps the pre-activations: the
   * CONSTANT segments of path (a) are true, as the construction's are. */
  nslm_params *th, *gam;
  TRY(nslm_params_create(&th, net));
  TRY(nslm_params_create(&gam, net));
  TRY(nslm_params_init_random(th, 1, NSLM_INIT_NORMAL, 1.0));
  TRY(nslm_params_init_random(gam, 2, NSLM_INIT_NORMAL, 1.0));
  for (size_t j = 0; j < L; j++) {
    double *a = layer(th, j);
    size_t rows = W[j + 1], cols = W[j];
    for (size_t r = rows / 2; r < rows; r++) memcpy(a + r * cols, a + (r - rows / 2) * cols, cols * sizeof *a);
    set_layer(th, j, a);
    free(a);
  }
  nslm_path *path;
  TRY(nslm_path_create(&path, net, th));
  for (int j = L; j >= 0; j--) { /* Theta^3, Theta^2, Theta^1, Theta^0 */
    double *a = layer(th, (size_t)j);
    fold_columns(a, W[j + 1], W[j]);
    set_layer(th, (size_t)j, a);
    free(a);
    TRY(nslm_path_append(path, th, NSLM_SEG_CONSTANT));
  }
  double *g3 = layer(gam, L);
  set_layer(th, L, g3);
  free(g3);
  TRY(nslm_path_append(path, th, NSLM_SEG_CONVEX));
  size_t S = nslm_path_num_segments(path);

  printf("bench_path: d=%d, widths %d x %d, m=%d, ReLU, n=%d, squared loss; BLIS threads %zu "
         "(the same for every side)\n", D, L, P, M, N, T);

  if (strchr(parts, 'a')) {
    /* (a) Profiles on the grid of K points per segment (shared knots once),
     * structured and plain in alternating blocks. */
    size_t NS = nslm_path_grid_size(path, K);
    double *tg = malloc(NS * sizeof *tg), *risk = malloc(NS * sizeof *risk);
    double *riskp = malloc(NS * sizeof *riskp);
    for (size_t i = 0; i < NS; i++) tg[i] = (double)i / (double)(NS - 1);
    double ts = 0, tp = 0;
    for (size_t sg = 0; sg < S; sg++) {
      /* Grid points of segment sg: its start knot up to (not including) its
       * end knot, which starts the next segment (the last segment keeps
       * t = 1): every block stays inside one segment. */
      size_t i0 = sg * (K - 1), end = (sg + 1) * (K - 1) + (sg + 1 == S);
      for (size_t b0 = i0; b0 < end; b0 += B) {
        size_t nb = end - b0 < B ? end - b0 : B;
        ts += time_block(path, net, data, loss, nb, tg + b0, risk + b0, NSLM_EVAL_STRUCTURED);
        tp += time_block(path, net, data, loss, nb, tg + b0, riskp + b0, NSLM_EVAL_PLAIN);
      }
    }
    double maxrel = 0;
    for (size_t i = 0; i < NS; i++) maxrel = fmax(maxrel, fabs(risk[i] - riskp[i]) / fabs(riskp[i]));
    /* Flops each approach must do, from the shapes.  Plain: every layer at
     * every point.  Structured, for a segment whose first changed layer is
     * j0 (here e = j0: all rows of Theta^j0 change): layers 0..j0-1 once,
     * layer j0 at both ends, layers j0+1..l at every point; a block of
     * nslm_path_eval does this setup once per block. */
    double full = 0;
    for (size_t j = 0; j <= L; j++) full += layer_flops(j);
    int j0s[5] = {3, 2, 1, 0, 3};
    double fs = 0, fp = 0, fsb = 0;
    for (size_t sg = 0; sg < S; sg++) {
      size_t pts = sg + 1 == S ? K : K - 1, blocks = (pts + B - 1) / B;
      double setup = 0, per = 0;
      for (int j = 0; j < j0s[sg]; j++) setup += layer_flops((size_t)j);
      setup += 2 * layer_flops((size_t)j0s[sg]);
      for (int j = j0s[sg] + 1; j <= L; j++) per += layer_flops((size_t)j);
      fs += setup + (double)pts * per;
      fsb += (double)blocks * setup + (double)pts * per;
      fp += (double)pts * full;
    }
    printf("(a) profile of %zu segments (Theta^3, ^2, ^1, ^0, CONVEX bridge), %zu points per segment "
           "(%zu in all), in alternating blocks of %zu points:\n", S, K, NS, B);
    printf("    structured %.2f s, plain %.2f s; max relative difference %.2e\n", ts, tp, maxrel);
    printf("    structured %.1f GFLOP/s, plain %.1f GFLOP/s (products only; structured counts its "
           "per-block setup)\n", fsb / ts * 1e-9, fp / tp * 1e-9);
    printf("speedup_profile = %.3f\n", tp / ts);
    printf("flop_ratio = %.3f\n", fp / fs);
    printf("speedup_over_flop_ratio = %.3f (goal >= 0.8)\n", (tp / ts) / (fp / fs));

    free(risk);
    free(riskp);
    free(tg);
  }
  if (strchr(parts, 'b')) {
    /* (b) The straight line between two unrelated parameter sets (every
     * layer changes), profiled with nslm_landscape_line at KL points in
     * all, against dgemm on the same products, in alternating blocks: one
     * nslm_landscape_line call of B points (a whole profile of B points,
     * t = i / (B - 1)), then dgemm on exactly the products such a call
     * does: layer 0 at its two ends (the first layer's pre-activations are
     * affine in t and interpolated; see lib/line_eval.h), layers 1..3 at
     * each point; same shapes, samples-as-columns layouts and thread
     * choice.  Only products are counted as flops on both sides: the
     * interpolations, activations and losses are the line's overhead. */
    nslm_params *a0;
    TRY(nslm_params_create(&a0, net));
    TRY(nslm_params_init_random(a0, 3, NSLM_INIT_NORMAL, 1.0));
    size_t BL = B < 2 ? 2 : B;
    double *tl_pts = malloc(KL * sizeof *tl_pts), *lr = malloc(KL * sizeof *lr);
    double *wa = malloc((size_t)P * P * sizeof *wa), *aa = malloc((size_t)P * N * sizeof *aa);
    double *zz = malloc((size_t)P * N * sizeof *zz);
    for (size_t i = 0; i < (size_t)P * P; i++) wa[i] = sin((double)i);
    for (size_t i = 0; i < (size_t)P * N; i++) aa[i] = cos((double)i);
    nslmi_gemm(0, 0, P, N, P, 1.0, wa, P, 1, aa, N, 1, 0.0, zz, N, 1, nslmi_gemm_threads(T, P, N, P)); /* warm */
    double tl = 0, tg2 = 0, fl = 0;
    size_t nblocks = 0;
    for (size_t b0 = 0; b0 < KL;) {
      size_t nb = KL - b0 < BL ? KL - b0 : BL;
      if (KL - b0 - nb == 1) nb++; /* no block of one point */
      double t0 = now();
      TRY(nslm_landscape_line(net, data, loss, NULL, a0, gam, nb, tl_pts + b0, lr + b0, NULL, NULL,
                              NULL));
      tl += now() - t0;
      t0 = now();
      for (int e = 0; e < 2; e++)
        nslmi_gemm(0, 0, W[1], N, W[0], 1.0, wa, (ptrdiff_t)W[0], 1, aa, N, 1, 0.0, zz, N, 1,
                   nslmi_gemm_threads(T, W[1], N, W[0]));
      for (size_t q = 0; q < nb; q++)
        for (size_t j = 1; j <= L; j++)
          nslmi_gemm(0, 0, W[j + 1], N, W[j], 1.0, wa, (ptrdiff_t)W[j], 1, aa, N, 1, 0.0, zz, N, 1,
                     nslmi_gemm_threads(T, W[j + 1], N, W[j]));
      tg2 += now() - t0;
      fl += 2 * layer_flops(0);
      for (size_t j = 1; j <= L; j++) fl += (double)nb * layer_flops(j);
      b0 += nb;
      nblocks++;
    }
    /* The profile's points against plain evaluation of the same points
     * (1 - t) a + t b through a path (three points of the first block). */
    nslm_path *line;
    TRY(nslm_path_create(&line, net, a0));
    TRY(nslm_path_append(line, gam, NSLM_SEG_GENERAL));
    size_t nb0 = KL < BL ? KL : BL, chk[3] = {0, nb0 / 3, nb0 - 1};
    double tchk[3], rchk[3], maxrel_line = 0;
    for (int i = 0; i < 3; i++) tchk[i] = tl_pts[chk[i]];
    TRY(nslm_path_eval(line, net, data, loss, NULL, 3, tchk, rchk, NULL, NULL, 0, 0,
                       NSLM_EVAL_PLAIN, NULL, NULL));
    for (int i = 0; i < 3; i++)
      maxrel_line = fmax(maxrel_line, fabs(lr[chk[i]] - rchk[i]) / fabs(rchk[i]));
    printf("(b) straight line by nslm_landscape_line, %zu points in %zu profiles of <= %zu points; "
           "max relative difference to plain evaluation %.2e (3 points)\n", KL, nblocks, BL + 1,
           maxrel_line);
    double rate_line = fl / tl * 1e-9, rate_gemm = fl / tg2 * 1e-9;
    printf("    line %.2f s, %.1f GFLOP/s in its products; dgemm on the same products: %.2f s, "
           "%.1f GFLOP/s\n", tl, rate_line, tg2, rate_gemm);
    printf("line_profile_vs_gemm = %.3f (goal >= 0.85)\n", rate_line / rate_gemm);

    nslm_path_destroy(line);
    nslm_params_destroy(a0);
    free(tl_pts);
    free(lr);
    free(wa);
    free(aa);
    free(zz);
  }
  if (strchr(parts, 'c')) {
    /* (c) The ALGEBRAIC certificate of path (a), in risk evaluations: the
     * fastest of 5 alternating rounds of each (one round: 5 evaluations of
     * the risk at the last knot, then one certificate). */
    double rsk, te = INFINITY, tc = INFINITY;
    TRY(nslm_eval_risk(net, th, data, loss, &rsk)); /* warm */
    nslm_certificate *cert = NULL;
    for (int round = 0; round < 5; round++) {
      double t0 = now();
      for (int i = 0; i < 5; i++) TRY(nslm_eval_risk(net, th, data, loss, &rsk));
      te = fmin(te, (now() - t0) / 5);
      nslm_certificate_destroy(cert);
      t0 = now();
      TRY(nslm_path_certify(&cert, path, net, data, loss, NULL, NSLM_CERT_ALGEBRAIC, 0, NULL, NULL));
      tc = fmin(tc, now() - t0);
    }
    char line_txt[1024];
    size_t need;
    TRY(nslm_certificate_summary(cert, line_txt, sizeof line_txt, &need));
    double evals;
    TRY(nslm_certificate_get(cert, NSLM_CERT_RISK_EVALUATIONS, &evals));
    printf("(c) %s\n", line_txt);
    printf("    certificate %.3f s, one risk evaluation %.3f s, %zu segments; by flops %.2f evaluations in all\n",
           tc, te, S, evals);
    printf("algebraic_certify_evals_per_segment = %.3f (goal <= 3)\n", tc / te / (double)S);

    nslm_certificate_destroy(cert);
  }
  nslm_path_destroy(path);
  nslm_params_destroy(th);
  nslm_params_destroy(gam);
  nslm_loss_destroy(loss);
  nslm_data_destroy(data);
  nslm_net_destroy(net);
  free(x);
  free(y);
  return 0;
}
