// The .cpp half of cuda_mixed (see mixed_gpu.cu): LeNet-5 on the CPU, then
// on the GPU through the .cu file; the logits must agree. Exits with 77
// (skipped) without a GPU, after the CPU half ran.
#include <cmath>
#include <cstdio>
#include <random>

#include "mixed_program.hpp"

namespace tn = typenet;

int main() {
  tn::Model<mixed::Net, mixed::In> cpu(4);
  cpu.eval();
  tn::Tensor<mixed::In> x(8);
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  for (auto& v : x.values()) v = normal(rng);
  const auto& expected = cpu.forward(x);
  const int status = gpu_status();
  if (status == mixed::no_device) {
    std::printf("the CPU half ran; no CUDA device, so the GPU half is skipped\n");
    return 77;
  }
  if (status != mixed::device_ready) {
    std::printf("the CUDA runtime failed\n");
    return 1;
  }
  const std::vector<float> got = lenet_on_gpu(cpu, x);
  int bad = 0;
  for (std::size_t i = 0; i < got.size(); ++i)
    bad += !(std::abs(got[i] - expected.data()[i]) <= 1e-5 + 1e-4 * std::abs(expected.data()[i]));
  std::printf("%d of %zu logits differ between the CPU and the GPU\n", bad, got.size());
  return bad == 0 ? 0 : 1;
}
