// What a frozen trunk saves: ResNet-18's training step with every parameter
// trainable, with the trunk frozen except layer4 and fc, and with only fc
// trainable (transfer learning's first phase).
//
// Sequential::backward stops at the first child below which nothing is
// trainable, and a trainable child whose input gradient nobody needs skips
// computing it, so with only `fc` trainable the backward pass is one GEMM.
// The program checks that fc's gradient is the same in every mode and prints
// medians of forward and backward times (see bench/README.md).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <omp.h>

#include "typenet/typenet.hpp"

namespace tn = typenet;

namespace {

using Net = tn::Model<tn::models::ResNet18<>, tn::Shape<3, 224, 224>>;

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"typenet: backward cost of a frozen ResNet-18 trunk"};
  int batch = 8, repeats = 5;
  app.add_option("--batch", batch, "batch size");
  app.add_option("--repeats", repeats, "timed steps per mode (medians are reported)");
  CLI11_PARSE(app, argc, argv);

  Net net(1);
  net.train();
  Net::input_tensor x(batch);
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  for (auto& v : x.values()) v = normal(rng);
  Net::output_tensor dy(batch);
  for (auto& v : dy.values()) v = normal(rng) / static_cast<float>(batch);

  struct mode {
    const char* name;
    const char* trainable;  // prefixes left trainable; "" = all
  };
  const mode modes[] = {{"all trainable", ""}, {"layer4 + fc", "layer4."}, {"fc only", "fc."}};
  std::printf("ResNet-18, input 3x224x224, batch %d, %d OpenMP threads\n", batch,
              omp_get_max_threads());
  std::printf("%-14s %12s %12s %10s\n", "trainable", "forward_s", "backward_s", "vs_all");
  std::vector<float> reference_fc_grad;
  double all_backward = 0;
  for (const auto& m : modes) {
    net.unfreeze();
    if (*m.trainable) {
      net.freeze();
      net.unfreeze(m.trainable);
      net.unfreeze("fc.");
    }
    std::vector<double> fwd, bwd;
    for (int r = 0; r < repeats + 1; ++r) {  // the first step plans and warms up
      net.zero_grad();
      auto t = std::chrono::steady_clock::now();
      net.forward(x);
      const double f = seconds_since(t);
      t = std::chrono::steady_clock::now();
      net.backward(dy);
      const double b = seconds_since(t);
      if (r > 0) {
        fwd.push_back(f);
        bwd.push_back(b);
      }
    }
    std::vector<float> fc_grad;
    for (const auto& p : net.parameters())
      if (p.name() == "fc.weight") fc_grad.assign(p.grad().begin(), p.grad().end());
    if (reference_fc_grad.empty()) {
      reference_fc_grad = fc_grad;
      all_backward = median(bwd);
    } else {
      double worst = 0;
      for (std::size_t i = 0; i < fc_grad.size(); ++i)
        worst = std::max(worst, std::abs(double(fc_grad[i]) - reference_fc_grad[i]) /
                                    (std::abs(double(reference_fc_grad[i])) + 1e-6));
      if (worst > 1e-4) {
        std::printf("fc.weight's gradient differs when the trunk is frozen (rel %.3g)\n", worst);
        return 1;
      }
    }
    std::printf("%-14s %12.4f %12.4f %9.1f%%\n", m.name, median(fwd), median(bwd),
                100.0 * median(bwd) / all_backward);
  }
}
