// Fashion-MNIST classification: LeNet-5 or a small CNN with batch norm,
// trained on the real dataset that Debian's dataset-fashion-mnist installs.
//
//   classify_fashion                          # LeNet-5, defaults below
//   classify_fashion --model bn-cnn --epochs 4
//   classify_fashion --limit 6000 --epochs 2 --no-save --expect-accuracy 0.70   # CI smoke run
//
// Trains with AdamW (weight decay 1e-2) under a one-cycle learning-rate
// schedule (fast.ai's fit_one_cycle), random crops (padding 2) and flips on two
// loader threads (--crop-padding, --no-flip), evaluates on the 10,000 test
// images after every epoch, then prints accuracy, balanced error rate and the confusion matrix and
// saves the model as safetensors. --expect-accuracy makes the exit status
// say whether the test accuracy reached the given value.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <omp.h>

#include "command_line.hpp"
#include "typenet/typenet.hpp"

namespace tn = typenet;
namespace data = tn::data;
namespace T = data::transforms;

namespace {

/// Two Conv + pooling + BN blocks (the Fashion-MNIST benchmark's
/// "2 Conv+pooling+BN" entry, reported there at 0.934).
using BnCnn = tn::Sequential<                                      //
    tn::Conv2d<32, 3, tn::Padding<1>>, tn::BatchNorm2d, tn::ReLU,  //
    tn::MaxPool2d<2>,                                              // 32 x 14 x 14
    tn::Conv2d<64, 3, tn::Padding<1>>, tn::BatchNorm2d, tn::ReLU,  //
    tn::MaxPool2d<2>,                                              // 64 x 7 x 7
    tn::Flatten, tn::Linear<128>, tn::ReLU, tn::Dropout<>, tn::Linear<10>>;

struct settings {
  std::string data = "/usr/share/datasets/fashion-mnist";
  std::string model = "lenet";
  int epochs = 8;
  int batch = 64;
  double max_lr = 3e-3;
  std::size_t limit = 0;
  int crop_padding = 2;
  bool flip = true;
  int workers = 2;
  std::uint64_t seed = 1;
  std::string out = "fashion.safetensors";
  double expect_accuracy = 0;
};

template <class Net>
int run(const settings& s) {
  using Input = tn::Shape<1, 28, 28>;
  auto train_set = std::make_shared<const data::FashionMNIST>(s.data, data::split::train);
  auto test_set = std::make_shared<const data::FashionMNIST>(s.data, data::split::test);
  const std::size_t n_train = s.limit ? std::min(s.limit, train_set->size()) : train_set->size();
  data::DataLoader<Input> train(
      data::Subset<data::FashionMNIST>(train_set, data::first_n(n_train)),
      {.batch_size = s.batch, .shuffle = true, .seed = s.seed, .workers = s.workers},
      T::Compose{T::RandomCrop(28, s.crop_padding), T::RandomHorizontalFlip(s.flip ? 0.5 : 0.0)});
  data::DataLoader<Input> test(test_set, {.batch_size = 500, .workers = s.workers});

  tn::Model<Net, Input> model(s.seed);
  std::printf("%s on %zu training images, %d epochs, batch %d, %d threads\n\n%s\n", s.model.c_str(),
              n_train, s.epochs, s.batch, omp_get_max_threads(), model.summary().c_str());
  tn::CrossEntropyLoss loss;
  tn::AdamW<float> adamw(model.parameters(), {.lr = s.max_lr});
  tn::OneCycleLR schedule(
      adamw,
      {.max_lr = s.max_lr, .total_steps = s.epochs * static_cast<std::int64_t>(train.batches())});
  const auto start = std::chrono::steady_clock::now();
  tn::fit(model, loss, adamw, train, test,
          {.epochs = s.epochs, .on_step = [&](std::int64_t step) {
             if (step < s.epochs * static_cast<std::int64_t>(train.batches())) schedule.step();
           }});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  model.eval();
  tn::metrics::confusion_matrix cm(10);
  for (const auto& b : test.epoch(0))
    cm.update(b.labels, tn::metrics::argmax(model.forward(b.inputs)));
  const double accuracy = *tn::metrics::accuracy(cm);
  std::printf("\ntest accuracy %.4f, balanced error rate %.4f, %d epochs in %.0f s\n\n", accuracy,
              *tn::metrics::balanced_error_rate(cm), s.epochs, seconds);
  std::printf("confusion matrix (rows: true class, columns: predicted)\n%12s", "");
  for (int c = 0; c < 10; ++c) std::printf("%6d", c);
  std::printf("\n");
  for (int t = 0; t < 10; ++t) {
    std::printf("%d %-10.10s", t, data::FashionMNIST::classes[t]);
    for (int p = 0; p < 10; ++p) std::printf("%6lld", static_cast<long long>(cm(t, p)));
    std::printf("\n");
  }
  if (!s.out.empty()) {
    tn::save_weights(model, s.out);
    std::printf("\nsaved %s\n", s.out.c_str());
  }
  if (accuracy < s.expect_accuracy) {
    std::printf("FAILED: accuracy %.4f is below the expected %.4f\n", accuracy, s.expect_accuracy);
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  settings s;
  CLI::App app{"Train a Fashion-MNIST classifier (LeNet-5 or a CNN with batch norm)"};
  app.add_option("--data", s.data, "folder of the IDX files (plain or .gz)")->capture_default_str();
  app.add_option("--model", s.model, "lenet or bn-cnn")
      ->check(CLI::IsMember({"lenet", "bn-cnn"}))
      ->capture_default_str();
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
  app.add_option("--crop-padding", s.crop_padding,
                 "random 28x28 crops of the image padded by this many pixels (0: no crops)")
      ->check(examples::between(0, 14))
      ->capture_default_str();
  bool no_flip = false;
  app.add_flag("--no-flip", no_flip, "no random horizontal flips");
  app.add_option("--workers", s.workers, "loader threads")
      ->check(examples::workers())
      ->capture_default_str();
  app.add_option("--seed", s.seed, "seed of weights, order and augmentation")
      ->check(examples::at_least(0))
      ->capture_default_str();
  app.add_option("--out", s.out, "where to save the model (checked to be writable before training)")
      ->capture_default_str();
  bool no_save = false;
  app.add_flag("--no-save", no_save, "do not save the model");
  app.add_option("--expect-accuracy", s.expect_accuracy,
                 "exit with status 1 if the test accuracy is lower")
      ->check(examples::between(0, 1));
  CLI11_PARSE(app, argc, argv);
  if (no_save) s.out.clear();
  s.flip = !no_flip;
  try {
    if (!s.out.empty()) examples::require_writable_file(s.out, "--out");
    return s.model == "lenet" ? run<tn::models::LeNet5<>>(s) : run<BnCnn>(s);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "classify_fashion: %s\n", e.what());
    return 2;
  }
}
