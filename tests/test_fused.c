/* test_fused.c - the fused small-network path of the forward pass
 * (nslmi_forward_fused in lib/forward.c: every thread runs all the layers
 * on blocks of its samples) and its register kernels (nslmi_small_gemm in
 * lib/blas.c), against naive references written here and in reference.c:
 *   - every kernel variant this CPU can run, on odd shapes and strides,
 *     with and without the fused ReLU;
 *   - the fused pass for every kernel variant and 1, 2 and 3 threads, on
 *     random small nets with every built-in activation, sample counts
 *     around the block size (1, 7..9, 127..129, 255..257, ...) and every
 *     layer as the last one, into strided, padded and negatively strided
 *     buffers, with a guard after the exact workspace it asks for;
 *   - the public evaluation around the width threshold (where the path
 *     switches), for every loss including a callback loss, and a callback
 *     activation (which must keep the BLIS chain), on 1 and 2 threads.
 * No timing here.
 *
 * Tolerances.  A computed dot product of length k differs from the exact
 * one by at most gamma_k S, gamma_k = k u / (1 - k u), S = sum |a_q b_q|,
 * u = 2^-53, whatever the summation order and with or without fused
 * multiply-add; two such computations differ by at most 2 gamma_k S <=
 * 1.0001 k DBL_EPSILON S (DBL_EPSILON = 2u).  The kernel test checks each
 * entry against 2 k DBL_EPSILON S (a factor 2 of margin; ReLU is
 * 1-Lipschitz so the bound survives it).  Whole networks are compared as
 * in test_forward.c: weights N(0, 1/fan_in), inputs N(0, 1), widths <=
 * 129, depth <= 3, Lipschitz activations on these ranges: relative errors
 * ~1e-13 at most, FUSED_TOL = 1e-10 relative to max(1, max |reference|)
 * leaves a margin of ~1000 and still catches any wrong index, stride,
 * block edge or activation (those give O(1) errors). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "nslm.h"
#include "blas.h"
#include "data.h"
#include "forward.h"
#include "reference.h"
#include "testutil.h"
#include "modelcase.h"

#define FUSED_TOL 1e-10
#define SENTINEL 12345.678
#define GUARD 64 /* doubles of sentinel after a workspace */

/* ---- The kernels. */

/* Naive C = A B (ReLU'd when relu) and S = |A| |B| (for the bound). */
static void naive_gemm(size_t m, size_t w, size_t k, const double *a, size_t lda, const double *b,
                       size_t ldb, int relu, double *c, double *s) {
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < w; j++) {
      double v = 0.0, t = 0.0;
      for (size_t q = 0; q < k; q++) {
        v += a[i * lda + q] * b[q * ldb + j];
        t += fabs(a[i * lda + q] * b[q * ldb + j]);
      }
      c[i * w + j] = relu && !(v > 0.0) ? 0.0 : v;
      s[i * w + j] = t;
    }
}

static const size_t gm[] = {1, 3, 8, 9, 17, 64};
static const size_t gk[] = {1, 2, 8, 13, 64, 130};
static const size_t gw[] = {8, 16, 24, 32, 40, 128};
#define NG 6

START_TEST(small_gemm_matches_naive) {
  /* _i: variant (0..2) x relu (0..1); each run covers every shape. */
  int isa = _i / 2, relu = _i % 2;
  if (isa > nslmi_small_gemm_isa()) return; /* this CPU cannot run it */
  nslmt_rng r;
  nslmt_seed(&r, 100 + (uint64_t)_i);
  for (int x = 0; x < NG; x++)
    for (int y = 0; y < NG; y++)
      for (int z = 0; z < NG; z++) {
        size_t m = gm[x], k = gk[y], w = gw[z];
        size_t lda = k + 1, ldb = w + 3, ldc = w + 5;
        double *a = malloc(m * lda * sizeof *a), *b = malloc(k * ldb * sizeof *b);
        double *c = malloc(m * ldc * sizeof *c), *ref = malloc(m * w * sizeof *ref);
        double *s = malloc(m * w * sizeof *s);
        nslmt_fill(&r, a, m * lda, 1.0);
        nslmt_fill(&r, b, k * ldb, 1.0);
        for (size_t i = 0; i < m * ldc; i++) c[i] = SENTINEL;
        naive_gemm(m, w, k, a, lda, b, ldb, relu, ref, s);
        nslmi_small_gemm(isa, m, w, k, a, lda, b, ldb, c, ldc, relu);
        for (size_t i = 0; i < m; i++) {
          for (size_t j = 0; j < w; j++) {
            double got = c[i * ldc + j], tol = 2.0 * (double)k * DBL_EPSILON * s[i * w + j];
            ck_assert_msg(fabs(got - ref[i * w + j]) <= tol,
                          "isa %d relu %d (%zu x %zu x %zu): C[%zu][%zu] = %.17g, naive %.17g",
                          isa, relu, m, w, k, i, j, got, ref[i * w + j]);
            if (relu) ck_assert_msg(got >= 0.0, "ReLU output %g < 0", got);
          }
          for (size_t j = w; j < ldc; j++)
            ck_assert_msg(c[i * ldc + j] == SENTINEL, "isa %d: gap C[%zu][%zu] written", isa, i,
                          j);
        }
        free(a);
        free(b);
        free(c);
        free(ref);
        free(s);
      }
}
END_TEST

/* ReLU of NaN is +0, as the library's x > 0 ? x : 0 (a NaN compares
 * false); infinities pass through the product and the ReLU as in the
 * naive product. */
START_TEST(small_gemm_relu_special_values) {
  int isa = _i;
  if (isa > nslmi_small_gemm_isa()) return;
  size_t w = 8;
  double a[2] = {1.0, 0.5}, b[16], c[16];
  for (size_t j = 0; j < 8; j++) {
    b[j] = 0.0;
    b[8 + j] = 1.0;
  }
  b[0] = NAN;
  b[2] = -INFINITY;
  b[3] = INFINITY;
  b[4] = -2.0;
  b[5] = 3.0;
  nslmi_small_gemm(isa, 1, w, 2, a, 2, b, w, c, w, 1);
  /* c_j = b_j + 0.5 (exact). */
  ck_assert(c[0] == 0.0 && !signbit(c[0]));
  ck_assert(c[1] == 0.5);
  ck_assert(c[2] == 0.0);
  ck_assert(isinf(c[3]) && c[3] > 0);
  ck_assert(c[4] == 0.0);
  ck_assert(c[5] == 3.5);
  nslmi_small_gemm(isa, 1, w, 2, a, 2, b, w, c, w, 0);
  ck_assert(isnan(c[0]));
  ck_assert(isinf(c[2]) && c[2] < 0);
  ck_assert(c[4] == -1.5);
}
END_TEST

/* ---- Small nets through the public API (modelcase.h). */

#define NBUILTIN 6
static const int builtin_kinds[NBUILTIN] = {NSLM_ACT_RELU,    NSLM_ACT_IDENTITY,
                                            NSLM_ACT_LEAKY_RELU, NSLM_ACT_POLY,
                                            NSLM_ACT_SIGMOID, NSLM_ACT_TANH};

/* ---- nslmi_forward_fused itself. */

/* Sample counts around the quantum (8), the block (128) and the split
 * between threads. */
static const size_t sample_counts[] = {1, 2, 7, 8, 9, 31, 33, 64, 127, 128, 129, 200, 255, 256, 257, 300};
#define NCOUNTS (sizeof sample_counts / sizeof sample_counts[0])

/* Destination layouts of the internal p x n result (element (r, i) at
 * off + r*rs + i*cs): samples as columns, samples as rows (the public
 * layout), padded, negative. */
typedef struct {
  ptrdiff_t rs, cs;
  size_t size, off;
} dlayout_t;

static dlayout_t dst_layout(int which, size_t p, size_t n) {
  switch (which % 4) {
  case 0: return (dlayout_t){(ptrdiff_t)n, 1, p * n, 0};
  case 1: return (dlayout_t){1, (ptrdiff_t)p, p * n, 0};
  case 2: return (dlayout_t){1, (ptrdiff_t)p + 2, (p + 2) * n, 0};
  default: return (dlayout_t){-(ptrdiff_t)n, -1, p * n, p * n - 1};
  }
}

/* _i = isa (0..2) + 3 * case: every kernel variant on the same nets. */
START_TEST(fused_matches_reference) {
  int isa = _i % 3, c = _i / 3;
  if (isa > nslmi_small_gemm_isa()) return;
  nslmt_rng r;
  nslmt_seed(&r, 5000 + (uint64_t)c); /* the same net for every variant */
  size_t depth = nslmt_range(&r, 1, 3), widths[8];
  for (size_t j = 0; j < depth + 2; j++) widths[j] = nslmt_range(&r, 1, 40);
  if (c % 4 == 1) widths[nslmt_range(&r, 0, depth + 1)] = NSLMI_FUSED_MAX_WIDTH;
  size_t n = sample_counts[(size_t)c % NCOUNTS];
  int kinds[8] = {0};
  for (size_t j = 0; j < depth; j++) kinds[j] = builtin_kinds[((size_t)c + j) % NBUILTIN];
  nslmt_case t;
  nslmt_case_make(&t, &r, depth, widths, kinds, n, 0, 1.0);
  for (size_t upto = 1; upto <= depth + 1; upto++) {
    size_t p = widths[upto];
    double *ref = malloc(n * p * sizeof *ref);
    ck_assert_int_eq(
        nslmt_ref_features(depth, widths, nslmt_case_layers(&t), t.act, n, t.x, upto, 0, ref), 0);
    int ok;
    size_t ws = nslmi_forward_fused_work_size(t.net, upto, n, &ok);
    ck_assert(ok);
    double *work = malloc((ws + GUARD) * sizeof *work), *first = NULL;
    dlayout_t L = dst_layout(c + (int)upto, p, n);
    for (size_t threads = 1; threads <= 3; threads++) {
      for (size_t i = 0; i < ws + GUARD; i++) work[i] = SENTINEL;
      double *dst = malloc(L.size * sizeof *dst);
      for (size_t i = 0; i < L.size; i++) dst[i] = SENTINEL;
      ck_assert_int_eq(nslmi_forward_fused(t.net, t.theta, t.data->xt, n, upto, dst + L.off, L.rs,
                                           L.cs, work, threads, isa),
                       NSLM_OK);
      for (size_t i = ws; i < ws + GUARD; i++)
        ck_assert_msg(work[i] == SENTINEL, "workspace overrun at %zu (size %zu)", i, ws);
      /* Back to n x p row-major; the gaps untouched. */
      double *got = malloc(n * p * sizeof *got);
      char *hit = calloc(L.size, 1);
      for (size_t k = 0; k < p; k++)
        for (size_t i = 0; i < n; i++) {
          ptrdiff_t o = (ptrdiff_t)L.off + (ptrdiff_t)k * L.rs + (ptrdiff_t)i * L.cs;
          got[i * p + k] = dst[o];
          hit[o] = 1;
        }
      for (size_t i = 0; i < L.size; i++)
        if (!hit[i]) ck_assert_msg(dst[i] == SENTINEL, "gap %zu written", i);
      double e = nslmt_relerr(got, ref, n * p);
      ck_assert_msg(e <= FUSED_TOL, "isa %d, %zu threads, n %zu, A_%zu of depth %zu: relerr %g",
                    isa, threads, n, upto, depth, e);
      /* Each entry is computed the same way on any thread count. */
      if (first == NULL) first = got;
      else {
        ck_assert_msg(memcmp(first, got, n * p * sizeof *got) == 0,
                      "isa %d: %zu threads differ from 1", isa, threads);
        free(got);
      }
      free(hit);
      free(dst);
    }
    free(first);
    free(work);
    free(ref);
  }
  nslmt_case_free(&t);
}
END_TEST

/* ---- The public evaluation around the threshold. */

/* A callback loss: sum_k (a_k - y_k)^4 / 4 (not a built-in). */
static int quartic(const double *a, const double *y, size_t m, double *value, double *grad,
                   void *user) {
  (void)user;
  double s = 0.0;
  for (size_t k = 0; k < m; k++) {
    double e = a[k] - y[k];
    s += e * e * e * e / 4.0;
    if (grad) grad[k] = e * e * e;
  }
  *value = s;
  return 0;
}

/* _i: loss kind (0..7, 7 = callback) x width (threshold, threshold + 1)
 * x last activation (built-in, callback).  Shape: d = 5, p_1 = W, p_2 =
 * 9, m = 3, n = 257 (not a multiple of the block), every evaluation on 1
 * and 2 threads. */
START_TEST(eval_around_threshold) {
  int kind = _i % 8, over = (_i / 8) % 2, cb = _i / 16;
  nslmt_rng r;
  nslmt_seed(&r, 9000 + (uint64_t)_i);
  size_t W = NSLMI_FUSED_MAX_WIDTH + (size_t)over;
  size_t widths[4] = {5, W, 9, 3}, n = 257, m = 3;
  int kinds[2] = {builtin_kinds[(size_t)_i % NBUILTIN], cb ? NSLM_ACT_CALLBACK : NSLM_ACT_RELU};
  double out_scale = kind == NSLM_LOSS_LOGISTIC_PAPER ? 0.05 : 1.0;
  nslmt_case t;
  nslmt_case_make(&t, &r, 2, widths, kinds, n, kind == 7 ? 0 : nslmt_loss_y_kind(kind), out_scale);
  /* The path taken: fused exactly when every width is within the
   * threshold and no activation is a callback (on a CPU with a vector
   * kernel, with OpenMP or one thread). */
  int vec = nslmi_small_gemm_isa() >= NSLMI_ISA_AVX2;
  ck_assert_int_eq(nslmi_forward_fused_applies(t.net, 3, 1), vec && !over && !cb);
#ifdef _OPENMP
  ck_assert_int_eq(nslmi_forward_fused_applies(t.net, 3, 2), vec && !over && !cb);
#endif
  nslm_loss *loss;
  if (kind == 7) ck_assert_int_eq(nslm_loss_create_callback(&loss, quartic, NULL), NSLM_OK);
  else ck_assert_int_eq(nslm_loss_create(&loss, kind, kind == NSLM_LOSS_HUBER ? 0.7 : 0.0), NSLM_OK);
  double *ref = malloc(n * sizeof *ref), *out = malloc(n * m * sizeof *out);
  double rref = 0.0;
  if (kind == 7) {
    ck_assert_int_eq(nslmt_ref_outputs(2, widths, nslmt_case_layers(&t), t.act, n, t.x, out), 0);
    for (size_t i = 0; i < n; i++) {
      double e = 0.0;
      for (size_t k = 0; k < m; k++) {
        double d = out[i * m + k] - t.y[i * m + k];
        e += d * d * d * d / 4.0;
      }
      ref[i] = e;
      rref += e;
    }
  } else {
    rref = nslmt_ref_risk(2, widths, nslmt_case_layers(&t), t.act, n, t.x, t.y, kind,
                          kind == NSLM_LOSS_HUBER ? 0.7 : 0.0, ref);
  }
  ck_assert_msg(isfinite(rref), "reference risk not finite (loss %d)", kind);
  double *refo = malloc(n * m * sizeof *refo);
  ck_assert_int_eq(nslmt_ref_outputs(2, widths, nslmt_case_layers(&t), t.act, n, t.x, refo), 0);
  for (size_t threads = 1; threads <= 2; threads++) {
    ck_assert_int_eq(nslm_net_set_num_threads(t.net, threads), NSLM_OK);
    double *got = malloc(n * sizeof *got), risk = -1.0;
    ck_assert_int_eq(nslm_eval_outputs(t.net, t.theta, t.data, out, (ptrdiff_t)m, 1), NSLM_OK);
    ck_assert_double_le(nslmt_relerr(out, refo, n * m), FUSED_TOL);
    ck_assert_int_eq(nslm_eval_losses(t.net, t.theta, t.data, loss, got, n), NSLM_OK);
    ck_assert_msg(nslmt_relerr(got, ref, n) <= FUSED_TOL, "loss %d, %zu threads", kind, threads);
    ck_assert_int_eq(nslm_eval_risk(t.net, t.theta, t.data, loss, &risk), NSLM_OK);
    /* Sums of nonnegative terms: the relative tolerance carries over. */
    ck_assert_double_eq_tol(risk, rref, FUSED_TOL * fmax(1.0, fabs(rref)));
    free(got);
  }
  free(refo);
  free(out);
  free(ref);
  nslm_loss_destroy(loss);
  nslmt_case_free(&t);
}
END_TEST

/* Every layer's features through the public call, on a net whose
 * intermediate layers sit exactly at the threshold. */
START_TEST(features_at_threshold) {
  nslmt_rng r;
  nslmt_seed(&r, 9500 + (uint64_t)_i);
  size_t widths[5] = {NSLMI_FUSED_MAX_WIDTH, 3, NSLMI_FUSED_MAX_WIDTH, 17, 2};
  size_t n = sample_counts[(size_t)_i % NCOUNTS];
  int kinds[3] = {NSLM_ACT_TANH, NSLM_ACT_RELU, NSLM_ACT_LEAKY_RELU};
  nslmt_case t;
  nslmt_case_make(&t, &r, 3, widths, kinds, n, 0, 1.0);
  ck_assert_int_eq(nslm_net_set_num_threads(t.net, 1 + (size_t)_i % 2), NSLM_OK);
  for (size_t j = 0; j <= 4; j++) {
    size_t p = widths[j];
    double *ref = malloc(n * p * sizeof *ref), *got = malloc(n * p * sizeof *got);
    ck_assert_int_eq(nslmt_ref_features(3, widths, nslmt_case_layers(&t), t.act, n, t.x, j, 0, ref), 0);
    /* Fortran order: the internal samples-as-columns result lands with
     * unit stride along the samples. */
    ck_assert_int_eq(nslm_eval_features(t.net, t.theta, t.data, j, got, 1, (ptrdiff_t)n), NSLM_OK);
    double *rowmajor = malloc(n * p * sizeof *rowmajor);
    for (size_t i = 0; i < n; i++)
      for (size_t k = 0; k < p; k++) rowmajor[i * p + k] = got[i + k * n];
    ck_assert_msg(nslmt_relerr(rowmajor, ref, n * p) <= FUSED_TOL, "A_%zu, n %zu", j, n);
    free(rowmajor);
    free(ref);
    free(got);
  }
  nslmt_case_free(&t);
}
END_TEST

int main(void) {
  Suite *s = suite_create("fused");
  TCase *tc = tcase_create("kernels");
  tcase_add_loop_test(tc, small_gemm_matches_naive, 0, 6);
  tcase_add_loop_test(tc, small_gemm_relu_special_values, 0, 3);
  suite_add_tcase(s, tc);
  tc = tcase_create("fused");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, fused_matches_reference, 0, 3 * 3 * (int)NCOUNTS);
  tcase_add_loop_test(tc, eval_around_threshold, 0, 32);
  tcase_add_loop_test(tc, features_at_threshold, 0, (int)NCOUNTS);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
