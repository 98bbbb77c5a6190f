// landscape.cpp - libnslm from C++: RAII handles, and the risk along the
// straight line from Theta to Gamma compared with the descent path.
//
// Build against an installed libnslm:
//   c++ -std=c++17 landscape.cpp $(pkg-config --cflags --libs nslm) -o landscape
#include <nslm.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// A failed call becomes an exception carrying the status and the detail.
struct Error : std::runtime_error {
  int status;
  Error(int st, const char *what)
      : std::runtime_error(std::string(what) + ": " + nslm_strerror(st) + " (" +
                           nslm_last_error() + ")"),
        status(st) {}
};

void check(int st, const char *what) {
  if (st != NSLM_OK) throw Error(st, what);
}

// Owning handles: the deleters are the library's destroy functions.
template <class T, void (*Destroy)(T *)>
struct Deleter {
  void operator()(T *p) const { Destroy(p); }
};
using Net = std::unique_ptr<nslm_net, Deleter<nslm_net, nslm_net_destroy>>;
using Params = std::unique_ptr<nslm_params, Deleter<nslm_params, nslm_params_destroy>>;
using Data = std::unique_ptr<nslm_data, Deleter<nslm_data, nslm_data_destroy>>;
using Loss = std::unique_ptr<nslm_loss, Deleter<nslm_loss, nslm_loss_destroy>>;
using Path = std::unique_ptr<nslm_path, Deleter<nslm_path, nslm_path_destroy>>;

Params make_params(const Net &net) {
  nslm_params *p = nullptr;
  check(nslm_params_create(&p, net.get()), "nslm_params_create");
  return Params(p);
}

double risk(const Net &net, const nslm_params *p, const Data &data, const Loss &loss) {
  double r;
  check(nslm_eval_risk(net.get(), p, data.get(), loss.get(), &r), "nslm_eval_risk");
  return r;
}

}  // namespace

int main() try {
  const size_t n = 10, d = 2, m = 1, width = 300;
  std::mt19937_64 gen(7);
  std::normal_distribution<double> normal;
  std::vector<double> x(n * d), y(n * m);
  for (auto &v : x) v = normal(gen);
  for (size_t i = 0; i < n; i++) y[i] = std::tanh(3 * x[2 * i] * x[2 * i + 1]);

  const size_t widths[] = {d, width, width, m};  // paper bound: 2 (n+1)^2 = 242
  nslm_net *pn;
  nslm_data *pd;
  nslm_loss *pl;
  check(nslm_net_create(&pn, 2, widths), "nslm_net_create");
  Net net(pn);
  check(nslm_data_create(&pd, n, d, x.data(), d, 1, m, y.data(), m, 1), "nslm_data_create");
  Data data(pd);
  check(nslm_loss_create(&pl, NSLM_LOSS_SQUARED, 0), "nslm_loss_create");
  Loss loss(pl);

  Params theta = make_params(net), start = make_params(net), gamma = make_params(net);
  check(nslm_params_init_random(theta.get(), 11, NSLM_INIT_NORMAL, 1.0), "init");
  check(nslm_params_init_random(start.get(), 12, NSLM_INIT_NORMAL, 1.0), "init");
  int certified = 0;
  check(nslm_global_minimize(net.get(), start.get(), data.get(), loss.get(), nullptr,
                             gamma.get(), nullptr, &certified, nullptr),
        "nslm_global_minimize");

  // The straight line (1-t) Theta + t Gamma: its barrier height is
  // max_t L(t) - ((1-t) L(0) + t L(1)).
  const double l0 = risk(net, theta.get(), data, loss), l1 = risk(net, gamma.get(), data, loss);
  Params point = make_params(net);
  double barrier = 0;
  const int K = 50;
  for (int k = 0; k <= K; k++) {
    double t = double(k) / K;
    check(nslm_params_interpolate(point.get(), theta.get(), gamma.get(), t), "interpolate");
    barrier = std::fmax(barrier, risk(net, point.get(), data, loss) - ((1 - t) * l0 + t * l1));
  }

  // The descent path: never increasing.
  nslm_path *pp;
  double cut;
  check(nslm_descent(net.get(), theta.get(), gamma.get(), data.get(), loss.get(), nullptr,
                     nullptr, &pp, &cut),
        "nslm_descent");
  Path path(pp);
  double prev = l0, rise = 0;
  const size_t samples = 10 * nslm_path_num_segments(path.get());
  for (size_t k = 0; k <= samples; k++) {
    check(nslm_path_point(path.get(), double(k) / double(samples), point.get()), "point");
    double r = risk(net, point.get(), data, loss);
    rise = std::fmax(rise, r - prev);
    prev = r;
  }
  std::printf("L(Theta) = %.4g, L(Gamma) = %.3g (%s)\n", l0, l1,
              certified ? "a certified global minimum" : "not certified");
  std::printf("straight line: barrier %.4g\n", barrier);
  std::printf("descent path: %zu segments, largest rise %.3g, ends at %.3g\n",
              nslm_path_num_segments(path.get()), rise, prev);
  return rise <= 1e-9 * (1 + l0) ? 0 : 1;
} catch (const std::exception &e) {
  std::fprintf(stderr, "landscape: %s\n", e.what());
  return 1;
}
