// "Dogs vs Cats" for any folder of labelled images: fast.ai's first lecture
// (a pretrained ResNet, a new head trained on precomputed features, then
// optionally the whole network fine-tuned), on DIR/train/<class>/*.jpg and
// DIR/valid/<class>/*.jpg.
//
//   classify_folder train --data dogscats --weights resnet34-b627a593.pth
//   classify_folder train --data dogscats --arch resnet18 --weights
//   resnet18-f37072fd.pth
//                         --epochs 3 --unfreeze-epochs 2 --out
//                         dogscats.safetensors
//   classify_folder predict --model dogscats.safetensors cat1.jpg dog7.png
//   ... train ... --expect-accuracy 0.9   # exit status 1 if valid accuracy <
//   0.9
//   ... predict ... --expect-class cat    # exit status 1 unless every image is
//   "cat"
//                                         # (or --expect-class cat,dog: one per
//                                         image)
//
// train: ResNet-34 (default) or ResNet-18 from a torchvision checkpoint
// (--weights: .pth or .safetensors; without it the trunk is random and the
// program says so), its fc replaced by a new head for the folder's classes.
// The trunk is frozen and run once over the images (fast.ai's
// precompute=True), the head trained on the cached features with SGD; with
// --unfreeze-epochs N the whole network is then trained on augmented images
// for N epochs, the trunk at --trunk-lr, its BatchNorm layers keeping their
// pretrained statistics unless --train-bn (fast.ai's bn_freeze). Prints the
// validation accuracy and confusion matrix and saves the model as
// safetensors with torchvision's keys (torchvision.models.resnet34(
// num_classes=N) loads it strictly) and the class names, architecture and
// input size in the file's metadata.
//
// predict: loads such a file and prints the most probable class and its
// probability for each image.
//
// Design: the number of classes N is known only at run time, but a typenet
// layer's shape is part of its type. Instantiating the whole network for
// every possible N would compile ResNet kMaxClasses - 1 times per
// architecture. Instead the network is two models: the trunk
// (DropLast<ResNet, 1>: everything up to avgpool, output Shape<512>), one
// type per architecture whatever N is, and the head
// Sequential<Named<"fc", Linear<N>>> on Shape<512>, the only part
// instantiated per N (boost::mp11::mp_with_index over 2..16). The head alone
// is what training on precomputed features needs; fine-tuning chains the two
// (Chained below: the head's input gradient is the trunk's output gradient).
// The code per N sees the trunk through AnyTrunk, one type for both
// architectures, so it is compiled 15 times, not 15 times per architecture.
// Keys are "conv1.weight" ... in the trunk and "fc.weight" / "fc.bias" in the
// head: together, exactly torchvision's state dict.
#include <CLI/CLI.hpp>

#include <boost/mp11/algorithm.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "command_line.hpp"
#include "typenet/train/image_classifier.hpp"
#include "typenet/typenet.hpp"

namespace tn = typenet;
namespace data = tn::data;

namespace {

constexpr int kSize = 224;  // input Size x Size: ImageNet's
using Input = tn::Shape<3, kSize, kSize>;
using Data = tn::ImageClassifierData<kSize>;
constexpr int kMinClasses = 2, kMaxClasses = 16;

/// Everything of a torchvision ResNet but fc: output Shape<512>, any class
/// count.
template <class ResNet>
using Trunk = tn::Model<tn::DropLast<ResNet, 1>, Input>;
/// The new head, the only type that depends on the class count.
template <int N>
using Head = tn::Model<tn::Sequential<tn::Named<"fc", tn::Linear<N>>>, tn::Shape<512>>;

/// Calls f(std::integral_constant<int, n>) for n in [kMinClasses, kMaxClasses].
template <class F>
int with_classes(std::size_t n, F&& f) {
  if (n < kMinClasses || n > kMaxClasses)
    throw tn::usage_error(std::to_string(n) + " classes; this program handles " +
                          std::to_string(kMinClasses) + " to " + std::to_string(kMaxClasses) +
                          " (raise kMaxClasses in classify_folder.cpp)");
  return boost::mp11::mp_with_index<kMaxClasses - kMinClasses + 1>(n - kMinClasses, [&](auto i) {
    return f(std::integral_constant<int, static_cast<int>(decltype(i)::value) + kMinClasses>{});
  });
}

using Images = Trunk<tn::models::ResNet18<>>::input_tensor;
using Features = Trunk<tn::models::ResNet18<>>::output_tensor;

/// A trunk of either architecture behind one type: what Chained, predict and
/// save_classifier ask of a model, forwarded to the trunk it refers to.
class AnyTrunk {
 public:
  using input_tensor = Images;
  using output_shape = Features::shape;
  using output_tensor = Features;

  template <class T>
  explicit AnyTrunk(T& trunk)
      : forward_([&trunk](const Images& x) -> const Features& { return trunk.forward(x); }),
        backward_([&trunk](const Features& dy) { trunk.backward(dy); }),
        train_([&trunk](bool on) { trunk.train(on); }),
        is_training_([&trunk] { return trunk.is_training(); }),
        zero_grad_([&trunk] { trunk.zero_grad(); }),
        state_([&trunk] { return trunk.state(); }),
        parameters_(trunk.parameters()) {
    static_assert(std::is_same_v<typename T::input_tensor, Images> &&
                  std::is_same_v<typename T::output_tensor, Features>);
  }

  const Features& forward(const Images& x) { return forward_(x); }
  void backward(const Features& dy) { backward_(dy); }
  void train(bool on = true) { train_(on); }
  void eval() { train(false); }
  bool is_training() const { return is_training_(); }
  void zero_grad() { zero_grad_(); }
  std::vector<tn::StateRef> state() const { return state_(); }
  const std::vector<tn::ParameterRef<float, tn::Cpu>>& parameters() const { return parameters_; }

 private:
  std::function<const Features&(const Images&)> forward_;
  std::function<void(const Features&)> backward_;
  std::function<void(bool)> train_;
  std::function<bool()> is_training_;
  std::function<void()> zero_grad_;
  std::function<std::vector<tn::StateRef>()> state_;
  std::vector<tn::ParameterRef<float, tn::Cpu>> parameters_;
};

/// Trunk then head, as one model for the training loop and tn::evaluate:
/// backward runs the head asking for its input gradient, then the trunk on it.
template <class T, class H>
class Chained {
 public:
  using input_tensor = typename T::input_tensor;
  using output_shape = typename H::output_shape;
  using output_tensor = typename H::output_tensor;

  Chained(T& trunk, H& head) : trunk_(trunk), head_(head) { head_.requires_input_grad(true); }
  ~Chained() { head_.requires_input_grad(false); }
  Chained(const Chained&) = delete;
  Chained& operator=(const Chained&) = delete;

  const output_tensor& forward(const input_tensor& x) { return head_.forward(trunk_.forward(x)); }
  void backward(const output_tensor& dy) {
    head_.backward(dy);
    trunk_.backward(head_.input_grad());
  }
  void train(bool on = true) {
    trunk_.train(on);
    head_.train(on);
  }
  void eval() { train(false); }
  bool is_training() const { return head_.is_training(); }
  void zero_grad() {
    trunk_.zero_grad();
    head_.zero_grad();
  }

 private:
  T& trunk_;
  H& head_;
};

struct settings {
  // train
  std::string data_dir, weights, arch = "resnet34", out = "classifier.safetensors";
  int epochs = 3, unfreeze_epochs = 0, batch = 32, workers = 2;
  double lr = 0.01, trunk_lr = 0.001, expect_accuracy = 0;
  bool train_bn = false;
  std::uint64_t seed = 1;
  // predict
  std::string model;
  std::vector<std::string> images;
  std::vector<std::string> expect_class;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// Confusion matrix of `model` (a head on features, or trunk + head on images)
/// over `loader`.
template <class M, class Loader>
tn::metrics::confusion_matrix confusion(M& model, const Loader& loader, int classes) {
  tn::metrics::confusion_matrix cm(classes);
  for (const auto& b : loader.epoch(0))
    cm.update(b.labels, tn::metrics::argmax(tn::predict(model, b.inputs)));
  return cm;
}

void print_confusion(const tn::metrics::confusion_matrix& cm,
                     const std::vector<std::string>& classes) {
  std::printf("confusion matrix on valid/ (rows: true class, columns: predicted)\n%16s", "");
  for (std::size_t c = 0; c < classes.size(); ++c) std::printf("%6zu", c);
  std::printf("\n");
  for (std::size_t t = 0; t < classes.size(); ++t) {
    std::printf("%3zu %-12.12s", t, classes[t].c_str());
    for (std::size_t p = 0; p < classes.size(); ++p)
      std::printf("%6lld", static_cast<long long>(cm(static_cast<int>(t), static_cast<int>(p))));
    std::printf("\n");
  }
}

/// Trunk and head in one safetensors file with torchvision's keys; the class
/// names, architecture and input size go into the metadata.
template <class H>
void save_classifier(const AnyTrunk& trunk, H& head, const settings& s,
                     const std::vector<std::string>& classes) {
  std::string names;
  for (const auto& c : classes) {
    if (c.find('\n') != std::string::npos)
      throw tn::usage_error("class folder name with a line break: '" + c + "'");
    names += (names.empty() ? "" : "\n") + c;
  }
  std::vector<tn::io::tensor_to_write> tensors;
  std::vector<tn::StateRef> state = trunk.state();
  for (const auto& h : head.state()) state.push_back(h);
  for (const auto& e : state) {
    const auto type = e.type == tn::dtype::f32   ? tn::dtype::f32
                      : e.type == tn::dtype::f64 ? tn::dtype::f64
                                                 : tn::dtype::i64;
    tensors.push_back({e.name,
                       type,
                       {e.shape.begin(), e.shape.end()},
                       {static_cast<const std::byte*>(e.data),
                        static_cast<std::size_t>(e.size) * tn::dtype_size(type)}});
  }
  tn::io::write_safetensors(s.out, tensors,
                            {{"format", "pt"},
                             {"classify_folder.arch", s.arch},
                             {"classify_folder.size", std::to_string(kSize)},
                             {"classify_folder.classes", names}});
}

using Precomputed = decltype(tn::precompute(std::declval<Trunk<tn::models::ResNet18<>>&>(),
                                            std::declval<const Data&>()));

/// Head on precomputed features, optional fine-tuning, evaluation, save.
template <int N>
int train_head(AnyTrunk& trunk, const Precomputed& features, const Data& data, const settings& s) {
  const auto& classes = data.classes();
  Head<N> head(s.seed);
  tn::CrossEntropyLoss loss;
  tn::SGD<float> sgd(head.parameters(), {.lr = s.lr, .momentum = 0.9});
  auto start = std::chrono::steady_clock::now();
  tn::fit(head, loss, sgd, features.train, features.valid, {.epochs = s.epochs});
  std::printf("trained the head (%d epochs) in %.1f s\n", s.epochs, seconds_since(start));

  tn::metrics::confusion_matrix cm(N);
  if (s.unfreeze_epochs > 0) {
    // learn.unfreeze(); learn.fit([lr / 10, lr], n): the trunk learns slower
    // than the head.
    Chained net(trunk, head);
    tn::SGD<float> all({tn::param_group{trunk.parameters(), {.lr = s.trunk_lr}},
                        tn::param_group{head.parameters()}},
                       {.lr = s.lr, .momentum = 0.9});
    typename Head<N>::output_tensor grad;
    for (int epoch = 0; epoch < s.unfreeze_epochs; ++epoch) {
      start = std::chrono::steady_clock::now();
      net.train();
      if (!s.train_bn) trunk.eval();  // fast.ai's bn_freeze: BatchNorm keeps its statistics
      double loss_sum = 0;
      for (const auto& b : data.train.epoch(static_cast<std::uint64_t>(epoch))) {
        net.zero_grad();
        loss_sum += b.size() * loss(net.forward(b.inputs), std::span<const int>(b.labels), grad);
        net.backward(grad);
        all.step();
      }
      const auto [val_loss, val_accuracy] = tn::evaluate(net, loss, data.valid);
      std::printf(
          "unfrozen epoch %d/%d  loss %.4f  val_loss %.4f  val_acc "
          "%.4f  %.1f s\n",
          epoch + 1, s.unfreeze_epochs, loss_sum / static_cast<double>(data.train.size()), val_loss,
          val_accuracy.value_or(0), seconds_since(start));
    }
    cm = confusion(net, data.valid, N);
  } else {
    cm = confusion(head, features.valid, N);
  }

  const double accuracy = tn::metrics::accuracy(cm).value_or(0);
  std::printf("\nvalid top-1 accuracy %.4f (%lld images)\n", accuracy,
              static_cast<long long>(data.valid.size()));
  print_confusion(cm, classes);
  if (!s.out.empty()) {
    save_classifier(trunk, head, s, classes);
    std::printf("\nsaved %s\n", s.out.c_str());
  }
  if (accuracy < s.expect_accuracy) {
    std::printf("FAILED: accuracy %.4f is below the expected %.4f\n", accuracy, s.expect_accuracy);
    return 1;
  }
  return 0;
}

template <class ResNet>
int train(const settings& s) {
  auto data =
      Data::from_paths(s.data_dir, {.batch_size = s.batch, .workers = s.workers, .seed = s.seed});
  const auto& classes = data.classes();
  std::printf("%s: %zu classes (", s.data_dir.c_str(), classes.size());
  for (std::size_t c = 0; c < classes.size(); ++c)
    std::printf("%s%s", c ? ", " : "", classes[c].c_str());
  std::printf("), %zu training and %zu validation images, %s at %dx%d\n", data.train.size(),
              data.valid.size(), s.arch.c_str(), kSize, kSize);
  for (const auto* set : {data.train_set.get(), data.valid_set.get()}) {
    const auto& skipped = set->skipped();
    if (skipped.total())
      std::printf(
          "%s: skipped %zu entries (%zu broken links, %zu folders "
          "reached a second time through "
          "links, %zu unreadable); first: %s\n",
          set == data.train_set.get() ? "train/" : "valid/", skipped.total(), skipped.broken_links,
          skipped.repeated_folders, skipped.unreadable, skipped.first.c_str());
  }
  Trunk<ResNet> trunk(s.seed);
  if (s.weights.empty()) {
    std::printf(
        "no --weights: training FROM SCRATCH, the trunk is random (not "
        "pretrained); expect low\n"
        "accuracy, and use --unfreeze-epochs to train the trunk as well\n");
  } else {
    const auto report = tn::load_weights(trunk, s.weights, {.skip = {"fc."}});
    std::printf("loaded %zu tensors from %s (fc skipped: a new head)\n", report.loaded.size(),
                s.weights.c_str());
  }
  auto start = std::chrono::steady_clock::now();
  // fast.ai: learn = ConvLearner.pretrained(arch, data, precompute=True);
  // learn.fit(0.01, 2)
  const auto features = tn::precompute(trunk, data);
  std::printf("precomputed the trunk's features of %zu + %zu images in %.1f s\n", data.train.size(),
              data.valid.size(), seconds_since(start));
  AnyTrunk any(trunk);
  return with_classes(classes.size(), [&](auto n) {
    return train_head<decltype(n)::value>(any, features, data, s);
  });
}

/// Image files as a dataset, for the loader's threads and transforms.
struct image_files {
  std::vector<std::string> paths;
  std::size_t size() const { return paths.size(); }
  data::example get(std::size_t i) const {
    data::example ex;
    ex.image = tn::read_image(paths.at(i), {.channels = 3});
    return ex;
  }
};

int predict_with(AnyTrunk& trunk, const settings& s, const std::vector<std::string>& classes) {
  return with_classes(classes.size(), [&](auto n) {
    Head<decltype(n)::value> head;
    const auto report = tn::load_weights(head, s.model, {.strict = false});
    if (report.loaded.size() != 2)
      throw tn::weights_mismatch(s.model + ": no fc.weight and fc.bias for " + std::to_string(n()) +
                                 " classes");
    Chained net(trunk, head);
    data::DataLoader<Input> images(image_files{s.images}, {.batch_size = 16, .workers = s.workers},
                                   Data::eval_transforms());
    int unexpected = 0;
    for (const auto& b : images.epoch(0)) {
      const auto best = tn::top_k(tn::predict(net, b.inputs), 1);
      for (int i = 0; i < b.size(); ++i) {
        const auto& top = best[static_cast<std::size_t>(i)][0];
        const auto& name = classes[static_cast<std::size_t>(top.index)];
        std::printf("%s: %s %.4f\n", s.images[b.indices[static_cast<std::size_t>(i)]].c_str(),
                    name.c_str(), top.probability);
        const std::size_t k = b.indices[static_cast<std::size_t>(i)];
        if (!s.expect_class.empty() && name != s.expect_class[s.expect_class.size() == 1 ? 0 : k]) {
          std::printf("  expected %s\n",
                      s.expect_class[s.expect_class.size() == 1 ? 0 : k].c_str());
          ++unexpected;
        }
      }
    }
    if (unexpected > 0) {
      std::printf("FAILED: %d of %zu images not predicted as expected\n", unexpected,
                  s.images.size());
      return 1;
    }
    return 0;
  });
}

template <class ResNet>
int predict(const settings& s, const std::vector<std::string>& classes) {
  if (s.expect_class.size() > 1 && s.expect_class.size() != s.images.size())
    throw tn::usage_error("--expect-class: " + std::to_string(s.expect_class.size()) +
                          " names for " + std::to_string(s.images.size()) + " images");
  Trunk<ResNet> trunk;
  tn::load_weights(trunk, s.model, {.skip = {"fc."}});
  AnyTrunk any(trunk);
  return predict_with(any, s, classes);
}

int predict(const settings& s) {
  const auto file = tn::io::read_weight_file(s.model, "");
  const auto meta = [&](const std::string& key) {
    const auto it = file.metadata.find("classify_folder." + key);
    if (it == file.metadata.end())
      throw tn::format_error(s.model + ": no classify_folder." + key +
                             " in the metadata (not saved by classify_folder train)");
    return it->second;
  };
  if (meta("size") != std::to_string(kSize))
    throw tn::format_error(s.model + ": input size " + meta("size") + ", this program uses " +
                           std::to_string(kSize));
  std::vector<std::string> classes;
  const std::string names = meta("classes");
  for (std::size_t from = 0;;) {
    const auto to = names.find('\n', from);
    classes.push_back(names.substr(from, to - from));
    if (to == std::string::npos) break;
    from = to + 1;
  }
  const std::string arch = meta("arch");
  if (arch == "resnet34") return predict<tn::models::ResNet34<>>(s, classes);
  if (arch == "resnet18") return predict<tn::models::ResNet18<>>(s, classes);
  throw tn::format_error(s.model + ": unknown architecture '" + arch + "'");
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF,
               0);  // in order with fit's progress on stderr
  settings s;
  CLI::App app{
      "Image classification on DIR/train and DIR/valid class folders: "
      "a pretrained "
      "ResNet with a new head (fast.ai's Dogs vs Cats)"};
  app.require_subcommand(1);
  auto* train_cmd = app.add_subcommand("train", "train a classifier on an image folder");
  train_cmd->add_option("--data", s.data_dir, "folder with train/ and valid/, one folder per class")
      ->required();
  train_cmd->add_option("--weights", s.weights,
                        "torchvision checkpoint of the architecture (.pth or .safetensors); "
                        "without it the trunk is random");
  train_cmd->add_option("--arch", s.arch, "resnet34 or resnet18")
      ->check(CLI::IsMember({"resnet34", "resnet18"}))
      ->capture_default_str();
  train_cmd->add_option("--epochs", s.epochs, "epochs of the head on precomputed features")
      ->check(examples::between(1, 10000))
      ->capture_default_str();
  train_cmd
      ->add_option("--unfreeze-epochs", s.unfreeze_epochs,
                   "then epochs of the whole network on augmented images (0: none)")
      ->check(examples::between(0, 10000))
      ->capture_default_str();
  train_cmd->add_option("--lr", s.lr, "learning rate of the head (SGD, momentum 0.9)")
      ->check(examples::greater_than(0))
      ->capture_default_str();
  train_cmd->add_option("--trunk-lr", s.trunk_lr, "learning rate of the trunk when unfrozen")
      ->check(examples::greater_than(0))
      ->capture_default_str();
  train_cmd->add_flag("--train-bn", s.train_bn,
                      "when unfrozen, BatchNorm uses batch statistics and updates its running "
                      "ones (default: it keeps the pretrained ones, which small data needs)");
  train_cmd->add_option("--batch", s.batch, "batch size")
      ->check(examples::between(1, 4096))
      ->capture_default_str();
  train_cmd->add_option("--workers", s.workers, "loader threads")
      ->check(examples::workers())
      ->capture_default_str();
  train_cmd->add_option("--seed", s.seed, "seed of the head, order and augmentation")
      ->check(examples::at_least(0))
      ->capture_default_str();
  train_cmd
      ->add_option("--out", s.out,
                   "where to save the model (checked to be writable before training)")
      ->capture_default_str();
  bool no_save = false;
  train_cmd->add_flag("--no-save", no_save, "do not save the model");
  train_cmd
      ->add_option("--expect-accuracy", s.expect_accuracy,
                   "exit with status 1 if the valid accuracy is lower")
      ->check(examples::between(0, 1));

  auto* predict_cmd = app.add_subcommand("predict", "predict the class of images");
  predict_cmd->add_option("--model", s.model, "a file saved by classify_folder train")->required();
  predict_cmd->add_option("images", s.images, "image files")->required();
  predict_cmd->add_option("--workers", s.workers, "loader threads")
      ->check(examples::workers())
      ->capture_default_str();
  predict_cmd
      ->add_option("--expect-class", s.expect_class,
                   "exit with status 1 unless every image is predicted as this "
                   "class (one name, "
                   "or one per image, separated by commas)")
      ->delimiter(',')
      ->allow_extra_args(false);  // one argument: the images are not class names
  CLI11_PARSE(app, argc, argv);
  if (no_save) s.out.clear();
  try {
    if (*predict_cmd) return predict(s);
    if (!s.out.empty()) examples::require_writable_file(s.out, "--out");
    return s.arch == "resnet34" ? train<tn::models::ResNet34<>>(s)
                                : train<tn::models::ResNet18<>>(s);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "classify_folder: %s\n", e.what());
    return 2;
  }
}
