// bench_gpu_workloads — the GPU workloads of the Cuda backend issue, timed.
//
//   resnet18_b64        ResNet-18 inference (eval) on 64 x 3 x 224 x 224
//   colorize_b8_224     one ColorizationNet training step (forward, MSE,
//   colorize_b16_64     backward, Adam) at batch 8, 224x224 and 16, 64x64
//
// Prints one line per workload: the median of --reps timed repetitions
// after --warmup untimed ones, each ended by cudaDeviceSynchronize, and
// the same as images per second. --smoke runs each once (CI: it compiles
// and runs where a GPU is; without one it says so and exits with 77).
// tools/bench_torch_gpu.py times the same workloads in PyTorch.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <typenet/cuda.cuh>

namespace tn = typenet;

namespace {

template <class S>
tn::Tensor<S, tn::Cuda> random_device_tensor(int batch, unsigned seed, float scale = 1.0f) {
  tn::Tensor<S> host(batch);
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  for (auto& v : host.values()) v = normal(rng);
  return tn::to<tn::Cuda>(host);
}

/// Median seconds of `reps` calls of `run` after `warmup` ones.
double median_seconds(const std::function<void()>& run, int warmup, int reps) {
  for (int i = 0; i < warmup; ++i) run();
  tn::cuda::synchronize();
  std::vector<double> times;
  for (int i = 0; i < reps; ++i) {
    const auto start = std::chrono::steady_clock::now();
    run();
    tn::cuda::synchronize();
    times.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

template <int Size>
std::function<void()> colorize_step(int batch) {
  using In = tn::Shape<1, Size, Size>;
  auto model = std::make_shared<tn::Model<tn::models::ColorizationNet, In, tn::Cuda>>(1);
  model->train();
  auto x = std::make_shared<tn::Tensor<In, tn::Cuda>>(random_device_tensor<In>(batch, 3));
  auto target = std::make_shared<tn::Tensor<tn::Shape<2, Size, Size>, tn::Cuda>>(
      random_device_tensor<tn::Shape<2, Size, Size>>(batch, 4, 0.3f));
  auto grad = std::make_shared<tn::Tensor<tn::Shape<2, Size, Size>, tn::Cuda>>();
  auto adam =
      std::make_shared<tn::Adam<float, tn::Cuda>>(model->parameters(), tn::AdamOptions{.lr = 1e-3});
  return [=] {
    model->zero_grad();
    tn::MSELoss{}(model->forward(*x), *target, *grad);
    model->backward(*grad);
    adam->step();
  };
}

}  // namespace

int main(int argc, char** argv) {
  int warmup = 3, reps = 20;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--smoke") {
      warmup = 0, reps = 1;
    } else if (arg == "--reps" && i + 1 < argc) {
      reps = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--warmup" && i + 1 < argc) {
      warmup = std::max(0, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: %s [--smoke] [--reps N] [--warmup N]\n", argv[0]);
      return 2;
    }
  }
  int devices = 0;
  const cudaError_t status = cudaGetDeviceCount(&devices);
  if (status == cudaErrorNoDevice || status == cudaErrorInsufficientDriver || devices == 0) {
    std::printf("no CUDA device (%s): nothing to time\n", cudaGetErrorName(status));
    return 77;
  }
  tn::cuda::check(status, "cudaGetDeviceCount");
  cudaDeviceProp properties{};
  tn::cuda::check(cudaGetDeviceProperties(&properties, 0), "cudaGetDeviceProperties");
  std::printf("# %s, typenet %s\n", properties.name, TYPENET_VERSION_STRING);

  struct workload {
    const char* name;
    int images;
    std::function<void()> run;
  };
  using ResNetIn = tn::Shape<3, 224, 224>;
  auto resnet = std::make_shared<tn::Model<tn::models::ResNet18<>, ResNetIn, tn::Cuda>>(1);
  resnet->eval();
  auto images =
      std::make_shared<tn::Tensor<ResNetIn, tn::Cuda>>(random_device_tensor<ResNetIn>(64, 2));
  const std::vector<workload> workloads = {
      {"resnet18_b64", 64, [=] { resnet->forward(*images); }},
      {"colorize_b8_224", 8, colorize_step<224>(8)},
      {"colorize_b16_64", 16, colorize_step<64>(16)},
  };
  std::printf("%-18s %10s %12s\n", "workload", "median ms", "images/s");
  for (const auto& w : workloads) {
    const double seconds = median_seconds(w.run, warmup, reps);
    std::printf("%-18s %10.2f %12.1f\n", w.name, seconds * 1e3, w.images / seconds);
  }
  return 0;
}
