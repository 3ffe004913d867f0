// The workloads of the typenet-versus-PyTorch comparison (bench/compare.py
// runs this program and tools/bench_torch.py interleaved and prints ratios).
//
// Every benchmark reports the wall time of one iteration and, where the
// FLOP count is known, GFLOP/s (multiply-adds count 2). Names are shared with
// tools/bench_torch.py, which defines the same workloads in PyTorch:
//
//   gemm_ceiling        1536^3 float GEMM through typenet's cpu::gemm
//   resnet18_b1/_b8     ResNet-18 inference (eval) on 3x224x224
//   resnet34_b1         ResNet-34 inference on 3x224x224
//   lenet_epoch         one LeNet-5 epoch on Fashion-MNIST: SGD momentum 0.9,
//                       batch 64, cross-entropy, data loading included
//   colorize_b8_224     one ColorizationNet training step (forward, MSE,
//   colorize_b16_64     backward, Adam) at batch 8 x 224^2 and batch 16 x 64^2
//   unet_b8_128         one U-Net (milesial's widths) training step: forward, MSE
//                       against a 2-channel target, backward, Adam; batch 8 x 3 x 128^2
//   <layer>_fwd         a layer's training-mode forward at batch 8
//   <layer>_fwdbwd      forward + backward (input and weight gradients)
//
// `--smoke` runs every benchmark for exactly one iteration (CI proves they work).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "typenet/typenet.hpp"

namespace tn = typenet;
namespace data = typenet::data;

namespace {

bool smoke = false;

template <class Tensor>
void fill_normal(Tensor& t, std::uint64_t seed, float scale = 1.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  for (auto& v : t.values()) v = normal(rng);
}

benchmark::internal::Benchmark* configure(benchmark::internal::Benchmark* b) {
  b->UseRealTime()->Unit(benchmark::kMillisecond);
  if (smoke) b->Iterations(1);
  return b;
}

/// One untimed call before the timed ones, as tools/bench_torch.py makes:
/// the first call plans buffers and faults in their pages, which a
/// steady-state figure leaves out (`--smoke` skips it).
template <class Call>
void warm_up(Call&& call) {
  if (!smoke) call();
}

void report_flops(benchmark::State& state, double flops_per_iteration) {
  if (flops_per_iteration > 0)
    state.counters["GFLOPs"] = benchmark::Counter(flops_per_iteration * 1e-9,
                                                  benchmark::Counter::kIsIterationInvariantRate);
}

// --- GEMM ceiling ----------------------------------------------------------

void gemm_ceiling(benchmark::State& state) {
  constexpr std::int64_t n = 1536;
  std::vector<float> a(n * n), b(n * n), c(n * n);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  for (auto& v : a) v = u(rng);
  for (auto& v : b) v = u(rng);
  const auto multiply = [&] {
    tn::cpu::gemm(false, false, n, n, n, 1.0f, a.data(), n, b.data(), n, c.data(), n);
  };
  warm_up(multiply);
  for (auto _ : state) {
    multiply();
    benchmark::DoNotOptimize(c.data());
  }
  report_flops(state, 2.0 * n * n * n);
}

// --- inference -------------------------------------------------------------

template <class Net>
void inference(benchmark::State& state, int batch, double flops_per_image) {
  tn::Model<Net, tn::Shape<3, 224, 224>> model(1);
  model.eval();
  typename decltype(model)::input_tensor x(batch);
  fill_normal(x, 2);
  model.forward(x);  // plans buffers
  for (auto _ : state) benchmark::DoNotOptimize(model.forward(x).values().data());
  report_flops(state, flops_per_image * batch);
}

// --- LeNet-5 epoch ---------------------------------------------------------

void lenet_epoch(benchmark::State& state, const std::string& folder) {
  using Input = tn::Shape<1, 28, 28>;
  auto train_set = std::make_shared<const data::FashionMNIST>(folder, data::split::train);
  data::DataLoader<Input> loader(train_set, {.batch_size = 64, .shuffle = true, .seed = 1});
  tn::Model<tn::models::LeNet5<>, Input> model(1);
  model.train();
  tn::SGD<float> sgd(model.parameters(), {.lr = 0.01, .momentum = 0.9});
  tn::CrossEntropyLoss loss;
  decltype(model)::output_tensor grad;
  std::uint64_t epoch = 0;
  const auto train_epoch = [&] {
    double sum = 0;
    for (const auto& b : loader.epoch(epoch++)) {
      model.zero_grad();
      sum += loss(model.forward(b.inputs), b.labels, grad);
      model.backward(grad);
      sgd.step();
    }
    return sum;
  };
  warm_up(train_epoch);
  for (auto _ : state) benchmark::DoNotOptimize(train_epoch());
  // Per image: conv1 28*28*6*25, conv2 10*10*16*150, fc 400*120 + 120*84 + 84*10
  // multiply-adds, times 3 for forward + backward (data and weights).
  const double forward = 2.0 * (28 * 28 * 6 * 25 + 10 * 10 * 16 * 150 + 400 * 120 + 120 * 84 + 840);
  report_flops(state, 3.0 * forward * static_cast<double>(train_set->size()));
}

// --- training steps: forward, MSE, backward, Adam ------------------------------

/// One training step of Net on a random batch against a random target
/// (seeds `seed`, `seed + 1`), timed in the steady state.
template <class Net, class Input>
void mse_adam_step(benchmark::State& state, int batch, std::uint64_t seed) {
  tn::Model<Net, Input> model(1);
  model.train();
  typename decltype(model)::input_tensor x(batch);
  typename decltype(model)::output_tensor target(batch), grad(batch);
  fill_normal(x, seed);
  fill_normal(target, seed + 1, 0.3f);
  tn::Adam<float> adam(model.parameters(), {.lr = 1e-3});
  tn::MSELoss loss;
  const auto step = [&] {
    model.zero_grad();
    const double l = loss(model.forward(x), target, grad);
    model.backward(grad);
    adam.step();
    return l;
  };
  warm_up(step);
  for (auto _ : state) benchmark::DoNotOptimize(step());
}

/// The lecture's ColorizationNet on 1 x Size^2.
template <int Size>
void colorize_step(benchmark::State& state, int batch) {
  mse_adam_step<tn::models::ColorizationNet, tn::Shape<1, Size, Size>>(state, batch, 3);
}

/// models::UNet<2> (milesial's widths, 64 to 1024 channels) on 3 x Size^2
/// against a 2-channel target.
template <int Size>
void unet_step(benchmark::State& state, int batch) {
  using Input = tn::Shape<3, Size, Size>;
  using Net = tn::models::UNet<2>;
  mse_adam_step<Net, Input>(state, batch, 7);
  double forward = 0;
  for (const auto& row : tn::summary_rows<Net, Input>()) forward += static_cast<double>(row.flops);
  report_flops(state, 3.0 * forward * batch);
}

// --- single layers at batch 8 ----------------------------------------------

template <class Layer, class In>
void layer(benchmark::State& state, bool backward, double forward_flops) {
  constexpr int batch = 8;
  tn::Model<Layer, In> model(1);
  model.train();
  model.requires_input_grad(true);
  typename decltype(model)::input_tensor x(batch);
  typename decltype(model)::output_tensor dy(batch);
  fill_normal(x, 5);
  fill_normal(dy, 6);
  const auto run = [&] {
    model.forward(x);
    if (backward) {
      model.zero_grad();
      model.backward(dy);
    }
  };
  warm_up(run);
  for (auto _ : state) {
    run();
    benchmark::DoNotOptimize(model.output().values().data());
  }
  report_flops(state, (backward ? 3.0 : 1.0) * forward_flops * batch);
}

template <class Layer, class In>
void register_layer(const std::string& name, double forward_flops) {
  configure(benchmark::RegisterBenchmark((name + "_fwd").c_str(), [=](benchmark::State& s) {
    layer<Layer, In>(s, false, forward_flops);
  }));
  configure(benchmark::RegisterBenchmark((name + "_fwdbwd").c_str(), [=](benchmark::State& s) {
    layer<Layer, In>(s, true, forward_flops);
  }));
}

}  // namespace

int main(int argc, char** argv) {
  std::string fashion = "/usr/share/datasets/fashion-mnist";
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--smoke") == 0) {
      smoke = true;
    } else if (std::strncmp(argv[i], "--fashion=", 10) == 0) {
      fashion = argv[i] + 10;
    } else {
      rest.push_back(argv[i]);
    }
  }
  int rest_count = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_count, rest.data());

  // ResNet FLOPs per image (multiply-adds x 2): torchvision's 1.82 and 3.68 GMACs.
  configure(benchmark::RegisterBenchmark("gemm_ceiling", gemm_ceiling));
  configure(benchmark::RegisterBenchmark(
      "resnet18_b1", [](benchmark::State& s) { inference<tn::models::ResNet18<>>(s, 1, 3.64e9); }));
  configure(benchmark::RegisterBenchmark(
      "resnet18_b8", [](benchmark::State& s) { inference<tn::models::ResNet18<>>(s, 8, 3.64e9); }));
  configure(benchmark::RegisterBenchmark(
      "resnet34_b1", [](benchmark::State& s) { inference<tn::models::ResNet34<>>(s, 1, 7.34e9); }));
  if (std::filesystem::exists(fashion)) {
    configure(benchmark::RegisterBenchmark("lenet_epoch", [=](benchmark::State& s) {
      lenet_epoch(s, fashion);
    }))->Iterations(1);
  }
  configure(benchmark::RegisterBenchmark("colorize_b8_224",
                                         [](benchmark::State& s) { colorize_step<224>(s, 8); }));
  configure(benchmark::RegisterBenchmark("colorize_b16_64",
                                         [](benchmark::State& s) { colorize_step<64>(s, 16); }));
  configure(benchmark::RegisterBenchmark("unet_b8_128",
                                         [](benchmark::State& s) { unet_step<128>(s, 8); }));

  register_layer<tn::Conv2d<64, 3, tn::Padding<1>>, tn::Shape<64, 56, 56>>(
      "conv3x3_64_56", 2.0 * 64 * 56 * 56 * 64 * 9);
  register_layer<tn::ConvTranspose2d<32, 4, tn::Stride<2>, tn::Padding<1>>, tn::Shape<64, 28, 28>>(
      "convT_64_32_28", 2.0 * 64 * 28 * 28 * 32 * 16);
  register_layer<tn::MaxPool2d<2>, tn::Shape<64, 112, 112>>("maxpool_64_112", 0);
  register_layer<tn::Sequential<tn::BatchNorm2d, tn::ReLU>, tn::Shape<64, 112, 112>>(
      "bnrelu_64_112", 0);

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
