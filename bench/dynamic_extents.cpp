// A model of dynamic extents against the static model of the same network
// at the same size (issue 25's target: within 10%).
//
// Both models share one set of parameters; each round times `--repeats`
// forward passes (eval) of the static model, then of the dynamic one, so
// the two meet the same load on a noisy machine. The program prints per
// workload the median milliseconds of each, and the ratio dynamic / static
// of each round with its median and range. A third row per workload times
// the dynamic model alternating two sizes (re-planning every call, no
// allocation once both were seen): what a folder of mixed photo sizes costs.
//
//   bench_dynamic_extents --rounds 7 --repeats 5 --threads 2
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <omp.h>

#include "typenet/typenet.hpp"

namespace tn = typenet;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <class Tensor>
void fill_normal(Tensor& t, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  for (auto& v : t.values()) v = normal(rng);
}

/// Median seconds of one forward over `repeats` calls of `run`.
template <class Run>
double time_forward(int repeats, Run&& run) {
  std::vector<double> t;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    run(i);
    t.push_back(seconds_since(start));
  }
  return median(t);
}

template <class Net, int C, int H, int W>
void compare(const char* name, int rounds, int repeats) {
  using Static = tn::Model<Net, tn::Shape<C, H, W>>;
  using Dynamic = tn::Model<Net, tn::Shape<C, tn::dyn, tn::dyn>>;
  Static fixed(1);
  Dynamic any(fixed);
  fixed.eval();
  any.eval();
  typename Static::input_tensor xs(1);
  fill_normal(xs, 7);
  typename Dynamic::input_tensor xd(1, {C, H, W});
  std::copy(xs.data(), xs.data() + xs.size(), xd.data());
  // A second size, about the same area, for the alternating row.
  typename Dynamic::input_tensor other(1, {C, H - 8 * 3, W + 8 * 3});
  fill_normal(other, 8);

  // Warm-up: plans, page faults, the thread pool.
  fixed.forward(xs);
  any.forward(other);
  any.forward(xd);
  const auto& ys = fixed.output();
  const auto& yd = any.output();
  float worst = 0;
  for (std::int64_t i = 0; i < ys.size(); ++i)
    worst = std::max(worst, std::abs(ys.data()[i] - yd.data()[i]));

  std::vector<double> static_ms, dynamic_ms, alternating_ms, ratios;
  for (int r = 0; r < rounds; ++r) {
    const double s = time_forward(repeats, [&](int) { fixed.forward(xs); });
    const double d = time_forward(repeats, [&](int) { any.forward(xd); });
    const double a = time_forward(repeats, [&](int i) { any.forward(i % 2 == 0 ? other : xd); });
    static_ms.push_back(s * 1e3);
    dynamic_ms.push_back(d * 1e3);
    alternating_ms.push_back(a * 1e3);
    ratios.push_back(d / s);
  }
  std::sort(ratios.begin(), ratios.end());
  std::printf("%-22s %9.2f %9.2f %6.3f [%5.3f, %5.3f] %12.2f   (max |diff| %.1e)\n", name,
              median(static_ms), median(dynamic_ms), median(ratios), ratios.front(), ratios.back(),
              median(alternating_ms), static_cast<double>(worst));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"typenet: a model of dynamic extents against the static model of one network"};
  int rounds = 7, repeats = 5, threads = 0;
  bool smoke = false;
  app.add_option("--rounds", rounds, "interleaved rounds (ratios are per round)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--repeats", repeats, "forward passes per model per round (median)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--threads", threads, "OpenMP threads (0: the default)")
      ->check(CLI::Range(0, 1024));
  app.add_flag("--smoke", smoke, "one round of one pass (CI: it works; times nothing)");
  CLI11_PARSE(app, argc, argv);
  if (smoke) rounds = repeats = 1;
  if (threads > 0) omp_set_num_threads(threads);

  std::printf("batch 1, eval forward; %d rounds x %d passes, %d threads\n", rounds, repeats,
              omp_get_max_threads());
  std::printf("%-22s %9s %9s %6s %15s %12s\n", "workload", "static", "dynamic", "ratio",
              "[min, max]", "alternating");
  compare<tn::models::ResNet18<>, 3, 224, 224>("resnet18_b1_224", rounds, repeats);
  compare<tn::models::ColorizationNet, 1, 256, 256>("colorization_b1_256", rounds, repeats);
  std::printf(
      "ms: medians; ratio = dynamic / static per round (median [min, max]);\n"
      "alternating: the dynamic model switching between HxW and (H-24)x(W+24)\n");
  return 0;
}
