/* connect.c - libnslm from C: connect a random network to a global
 * minimizer along a path on which the risk never increases.
 *
 * Build against an installed libnslm:
 *   cc connect.c $(pkg-config --cflags --libs nslm) -o connect && ./connect
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <nslm.h>

#define CHECK(call)                                                              \
  do {                                                                           \
    int st_ = (call);                                                            \
    if (st_ != NSLM_OK) {                                                        \
      fprintf(stderr, "%s failed: %s (%s)\n", #call, nslm_strerror(st_),         \
              nslm_last_error());                                                \
      exit(1);                                                                   \
    }                                                                            \
  } while (0)

int main(void) {
  enum { N = 12, D = 3, M = 1, P = 400 };
  double x[N][D], y[N][M];
  unsigned long s = 1;
  for (int i = 0; i < N; i++) { /* deterministic data: y = sin(x1 + 2 x2 - x3) */
    for (int k = 0; k < D; k++) {
      s = s * 6364136223846793005UL + 1442695040888963407UL;
      x[i][k] = (double)(s >> 11) / 9007199254740992.0 * 2.0 - 1.0;
    }
    y[i][0] = sin(x[i][0] + 2 * x[i][1] - x[i][2]);
  }

  /* A ReLU network 3 -> 400 -> 400 -> 1: wider than the paper's bound
   * 2 m (n+1)^l = 338. */
  size_t widths[] = {D, P, P, M};
  nslm_net *net;
  nslm_data *data;
  nslm_loss *loss;
  nslm_params *theta, *start, *gamma;
  CHECK(nslm_net_create(&net, 2, widths));
  CHECK(nslm_data_create(&data, N, D, &x[0][0], D, 1, M, &y[0][0], M, 1));
  CHECK(nslm_loss_create(&loss, NSLM_LOSS_SQUARED, 0.0));
  CHECK(nslm_params_create(&theta, net));
  CHECK(nslm_params_init_random(theta, 1, NSLM_INIT_NORMAL, 1.0));

  /* Gamma: random inner layers, last layer solved exactly (DESIGN 2.6). */
  size_t rank;
  int certified;
  CHECK(nslm_params_create(&start, net));
  CHECK(nslm_params_create(&gamma, net));
  CHECK(nslm_params_init_random(start, 2, NSLM_INIT_NORMAL, 1.0));
  CHECK(nslm_global_minimize(net, start, data, loss, NULL, gamma, &rank, &certified, NULL));
  printf("paper bound %zu, width %d; rank(A_l) = %zu of n = %d: %s\n",
         nslm_net_paper_width_bound(net, N), P, rank, N,
         certified ? "Gamma is a global minimizer" : "not certified");

  /* The descent path Theta -> Gamma (unconstrained, default options). */
  nslm_path *path;
  double cut, risk, prev = INFINITY;
  CHECK(nslm_descent(net, theta, gamma, data, loss, NULL, NULL, &path, &cut));
  size_t segments = nslm_path_num_segments(path);
  printf("%zu segments, cut at %.3f of the convex one\n", segments, cut);

  /* Sample the risk along the path: it never increases. */
  nslm_params *point;
  int increases = 0;
  CHECK(nslm_params_create(&point, net));
  for (int i = 0; i <= 20 * (int)segments; i++) {
    CHECK(nslm_path_point(path, i / (20.0 * (double)segments), point));
    CHECK(nslm_eval_risk(net, point, data, loss, &risk));
    if (risk > prev * (1 + 1e-9) + 1e-12) increases++;
    prev = risk;
  }
  double l0, l1;
  CHECK(nslm_eval_risk(net, theta, data, loss, &l0));
  CHECK(nslm_eval_risk(net, gamma, data, loss, &l1));
  printf("risk %.6g -> %.3g (global minimum %.3g); increases along the path: %d\n", l0, risk,
         l1, increases);

  /* The library's own proof of the path's claims (identities at the knots). */
  nslm_certificate *cert;
  char summary[512];
  size_t needed;
  int passed;
  CHECK(nslm_path_certify(&cert, path, net, data, loss, NULL, NSLM_CERT_ALGEBRAIC, 0, NULL, NULL));
  CHECK(nslm_certificate_summary(cert, summary, sizeof summary, &needed));
  CHECK(nslm_certificate_passed(cert, &passed));
  printf("%s\n", summary);
  nslm_certificate_destroy(cert);

  nslm_params_destroy(point);
  nslm_path_destroy(path);
  nslm_params_destroy(gamma);
  nslm_params_destroy(start);
  nslm_params_destroy(theta);
  nslm_loss_destroy(loss);
  nslm_data_destroy(data);
  nslm_net_destroy(net);
  return increases == 0 && passed ? 0 : 1;
}
