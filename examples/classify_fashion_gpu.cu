// Fashion-MNIST on the GPU: LeNet-5 trained with the Cuda backend, the
// batches read and shuffled on the host and copied to the device.
//
//   classify_fashion_gpu                              # 4 epochs, batch 64
//   classify_fashion_gpu --limit 6000 --epochs 2 --expect-accuracy 0.70   # CI smoke run
//
// The network, loss and optimizer are classify_fashion's (AdamW under a
// one-cycle schedule); what differs is tn::Cuda in the model's type and the
// transfers. Without a CUDA device it says so and exits with 77 (skipped).
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "command_line.hpp"
#include "typenet/cuda.cuh"

namespace tn = typenet;
namespace data = tn::data;

namespace {

struct settings {
  std::string data = "/usr/share/datasets/fashion-mnist";
  int epochs = 4;
  int batch = 64;
  double max_lr = 3e-3;
  std::size_t limit = 0;
  std::uint64_t seed = 1;
  double expect_accuracy = 0;
};

int run(const settings& s) {
  using Input = tn::Shape<1, 28, 28>;
  auto train_set = std::make_shared<const data::FashionMNIST>(s.data, data::split::train);
  auto test_set = std::make_shared<const data::FashionMNIST>(s.data, data::split::test);
  const std::size_t n_train = s.limit ? std::min(s.limit, train_set->size()) : train_set->size();
  data::DataLoader<Input> train(data::Subset<data::FashionMNIST>(train_set, data::first_n(n_train)),
                                {.batch_size = s.batch, .shuffle = true, .seed = s.seed});
  data::DataLoader<Input> test(test_set, {.batch_size = 500});

  tn::Model<tn::models::LeNet5<>, Input, tn::Cuda> model(s.seed);
  tn::CrossEntropyLoss loss;
  tn::AdamW adamw(model.parameters(), {.lr = s.max_lr});  // AdamW<float, Cuda>
  tn::OneCycleLR schedule(
      adamw,
      {.max_lr = s.max_lr, .total_steps = s.epochs * static_cast<std::int64_t>(train.batches())});
  decltype(model)::input_tensor x;
  decltype(model)::output_tensor grad;
  const auto start = std::chrono::steady_clock::now();
  for (int epoch = 0; epoch < s.epochs; ++epoch) {
    model.train();
    double sum = 0;
    std::int64_t batches = 0;
    for (const auto& b : train.epoch(static_cast<std::uint64_t>(epoch))) {
      tn::copy(b.inputs, x);  // host -> device; x lives until backward
      model.zero_grad();
      sum += loss(model.forward(x), b.labels, grad);
      model.backward(grad);
      adamw.step();
      schedule.step();
      ++batches;
    }
    std::printf("epoch %d: mean training loss %.4f\n", epoch + 1, sum / batches);
  }
  tn::cuda::synchronize();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  model.eval();
  tn::metrics::confusion_matrix cm(10);
  tn::Tensor<tn::Shape<10>> logits;
  for (const auto& b : test.epoch(0)) {
    tn::copy(b.inputs, x);
    tn::copy(model.forward(x), logits);  // device -> host
    cm.update(b.labels, tn::metrics::argmax(logits));
  }
  const double accuracy = *tn::metrics::accuracy(cm);
  std::printf("test accuracy %.4f after %d epochs on %zu images in %.1f s\n", accuracy, s.epochs,
              n_train, seconds);
  if (accuracy < s.expect_accuracy) {
    std::printf("FAILED: accuracy %.4f is below the expected %.4f\n", accuracy, s.expect_accuracy);
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  settings s;
  CLI::App app{"Train LeNet-5 on Fashion-MNIST on the GPU"};
  app.add_option("--data", s.data, "folder of the IDX files (plain or .gz)")->capture_default_str();
  app.add_option("--epochs", s.epochs, "epochs")
      ->check(examples::between(1, 10000))
      ->capture_default_str();
  app.add_option("--batch", s.batch, "batch size")
      ->check(examples::between(1, 60000))
      ->capture_default_str();
  app.add_option("--max-lr", s.max_lr, "one-cycle peak learning rate")
      ->check(examples::greater_than(0))
      ->capture_default_str();
  app.add_option("--limit", s.limit, "train on the first N images only (0: all)")
      ->check(examples::at_least(0));
  app.add_option("--seed", s.seed, "seed of weights and order")
      ->check(examples::at_least(0))
      ->capture_default_str();
  app.add_option("--expect-accuracy", s.expect_accuracy,
                 "exit with status 1 if the test accuracy is lower")
      ->check(examples::between(0, 1));
  CLI11_PARSE(app, argc, argv);
  int devices = 0;
  const cudaError_t status = cudaGetDeviceCount(&devices);
  if (status == cudaErrorNoDevice || status == cudaErrorInsufficientDriver || devices == 0) {
    std::printf("no CUDA device (%s): nothing to train on\n", cudaGetErrorName(status));
    return 77;
  }
  try {
    return run(s);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "classify_fashion_gpu: %s\n", e.what());
    return 2;
  }
}
