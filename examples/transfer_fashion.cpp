// Transfer learning on Fashion-MNIST, measured: does a network pretrained on
// five classes help to learn five other classes from a few labelled images?
//
//   transfer_fashion                          # K = 20 and 100, 3 seeds: about 2.5 minutes
//   transfer_fashion --seeds 1 --per-class 5 10 20
//   transfer_fashion --new-head last          # or --copies 1, --flip: variants in the docs
//   transfer_fashion --seeds 1 --per-class 20 --pretrain-epochs 2 --steps 200
//                    --expect-margin 0.5      # (one line) CI smoke run, about 25 s
//
// Task A: classes 0-4 (T-shirt, trouser, pullover, dress, coat), all their
// 30,000 training images. Task B: classes 5-9 (sandal, shirt, sneaker, bag,
// ankle boot) with K labelled training images per class, labels remapped to
// 0-4. For each seed, LeNet-5 is pretrained on A; its classifier (Linear
// 120, 84, 5) is replaced by a freshly initialised one (nn/edit.hpp), and
// three arms learn B:
//   (a) head only, trained on the conv trunk's precomputed features
//       (FeatureCache, FeatureLoader), then put back on the trunk;
//   (b) the whole network fine-tuned, the trunk at a tenth of the head's
//       learning rate (parameter groups);
//   (c) the same network from scratch.
// The arms start from the same head weights, take the same number of AdamW
// steps under the same one-cycle schedule, and see the same batches in the
// same order: the K images per class and augmented copies of them (random
// crops) drawn once before training, so the feature cache of (a) holds
// exactly the images that (b) and (c) train on. Everything random (the
// pretraining, the choice of the K images, the copies, the head's weights,
// the order) follows from the seed. Each arm is evaluated on all 5,000 test
// images of classes 5-9; the program prints every run, then the mean,
// standard deviation and range over the seeds. --expect-margin makes the
// exit status say whether, at the smallest K, the better transfer arm beat
// scratch on average by at least that many points.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include <omp.h>

#include "command_line.hpp"
#include "typenet/typenet.hpp"

namespace tn = typenet;
namespace data = tn::data;
namespace T = data::transforms;

namespace {

using Input = tn::Shape<1, 28, 28>;
/// LeNet-5 with five outputs, for task A.
using TaskANet = tn::models::LeNet5<5>;
using Linear5 = tn::Linear<5>;

/// What is new on task B. LeNet-5's children are unnamed, so a parameter's
/// key starts with its child's position ("7.weight"); the head is children
/// first_child .. 11, the trunk the children before. Both tasks have five
/// classes, so the edited network is LeNet-5<5>'s definition again as a type
/// (the Sequential that the named type models::LeNet5<5> derives from): what is new
/// is the head's weights, which come from the run's seed instead of task A.
struct new_classifier {  // --new-head classifier: Linear 120, 84, 5 on the 16x5x5 conv features
  using head_layers =
      boost::mp11::mp_list<tn::Linear<120>, tn::ReLU, tn::Linear<84>, tn::ReLU, Linear5>;
  using trunk = tn::DropLast<TaskANet, 5>;
  using network = tn::Append<trunk, tn::Linear<120>, tn::ReLU, tn::Linear<84>, tn::ReLU, Linear5>;
};
struct new_last_layer {  // --new-head last: the last Linear only, on the 84 features below it
  using head_layers = boost::mp11::mp_list<Linear5>;
  using trunk = tn::DropLast<TaskANet, 1>;
  using network = tn::ReplaceChildAt<TaskANet, TaskANet::size - 1, Linear5>;
};

template <class New>
struct task_b : New {
  static_assert(std::is_same_v<typename New::network, TaskANet::definition>);
  using head = boost::mp11::mp_rename<typename New::head_layers, tn::Sequential>;
  using features = typename tn::Model<typename New::trunk, Input>::output_shape;
  static constexpr std::size_t first_child = New::trunk::size;
  static_assert(
      std::is_same_v<head,
                     boost::mp11::mp_rename<boost::mp11::mp_drop_c<TaskANet::children, first_child>,
                                            tn::Sequential>>,
      "the head is the network's children after the trunk");
  static std::size_t child_of(const std::string& key) {
    return std::stoul(key.substr(0, key.find('.')));
  }
  static bool in_head(const std::string& key) { return child_of(key) >= first_child; }
  /// The key of a parameter of `network` in `head`, and back.
  static std::string head_key(const std::string& key) {
    return std::to_string(child_of(key) - first_child) + key.substr(key.find('.'));
  }
  static std::string network_key(const std::string& key) {
    return std::to_string(child_of(key) + first_child) + key.substr(key.find('.'));
  }
};
static_assert(std::is_same_v<task_b<new_classifier>::features, tn::Shape<400>>);
static_assert(std::is_same_v<task_b<new_last_layer>::features, tn::Shape<84>>);

struct settings {
  std::string data = "/usr/share/datasets/fashion-mnist";
  std::vector<int> per_class = {20, 100};
  int seeds = 3;
  std::size_t pretrain_limit = 0;
  int pretrain_epochs = 3;
  std::string new_head = "classifier";
  int steps = 400;
  int batch = 32;
  int copies = 8;
  bool flip = false;
  double lr = 3e-3;
  double trunk_lr_factor = 0.1;
  int workers = 2;
  std::optional<double> expect_margin;
};

/// Independent seeds for the parts of one run, derived from the run's seed.
enum class stream : std::uint64_t { pretrain = 1, pick = 2, augment = 3, weights = 4, order = 5 };
std::uint64_t seed_of(std::uint64_t seed, stream s, std::uint64_t salt = 0) {
  return tn::mix64(tn::mix64(seed) ^ tn::mix64(static_cast<std::uint64_t>(s) * 1000 + salt));
}

/// Examples `indices` of a Fashion-MNIST split with their labels shifted
/// down by `offset`, repeated `copies` times. Copy 0 is the image itself;
/// copy c > 0 is augmented with draws from sample_rng(seed, c, index), fixed
/// once and for all, so that a feature cache and a DataLoader see the same
/// images.
struct TaskData {
  std::shared_ptr<const data::FashionMNIST> base;
  std::vector<std::size_t> indices;
  int offset = 0;
  int copies = 1;
  data::transform augment{};
  std::uint64_t seed = 0;

  std::size_t size() const noexcept { return indices.size() * static_cast<std::size_t>(copies); }
  data::example get(std::size_t i) const {
    const std::size_t index = indices.at(i % indices.size());
    const std::size_t copy = i / indices.size();
    data::example ex = base->get(index);
    ex.label -= offset;
    if (copy > 0 && augment) {
      auto rng = data::sample_rng(seed, copy, index);
      augment(ex, rng);
    }
    return ex;
  }
};
static_assert(data::Dataset<TaskData>);

/// Indices of the examples whose label is in [first, first + count), in order.
std::vector<std::size_t> classes_of(const data::FashionMNIST& d, int first, int count) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < d.size(); ++i)
    if (d.label(i) >= first && d.label(i) < first + count) out.push_back(i);
  return out;
}

/// K random examples of each class in [first, first + count).
std::vector<std::size_t> pick_per_class(const data::FashionMNIST& d, int first, int count, int k,
                                        std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::size_t> out;
  for (int c = first; c < first + count; ++c) {
    const auto of_class = classes_of(d, c, 1);
    if (static_cast<std::size_t>(k) > of_class.size())
      throw tn::usage_error("--per-class " + std::to_string(k) + ": class " + std::to_string(c) +
                            " has only " + std::to_string(of_class.size()) + " training images");
    const auto order = data::permutation(of_class.size(), rng);
    for (int j = 0; j < k; ++j) out.push_back(of_class[order[static_cast<std::size_t>(j)]]);
  }
  return out;
}

/// Copies state entries between models by name: each entry of `to` whose
/// `source(name)` is not empty gets `from`'s entry of that name.
template <class From, class To, class Source>
void copy_state(From& from, To& to, Source source) {
  const auto entries = from.state();
  for (const auto& t : to.state()) {
    const std::string name = source(t.name);
    if (name.empty()) continue;
    const auto f = std::find_if(entries.begin(), entries.end(),
                                [&](const tn::StateRef& e) { return e.name == name; });
    if (f == entries.end() || f->type != t.type || f->size != t.size)
      throw tn::usage_error("copy_state: no entry " + name + " like " + t.name);
    const std::size_t bytes = t.type == tn::dtype::f32 ? sizeof(float) : sizeof(double);
    std::memcpy(t.data, f->data, static_cast<std::size_t>(t.size) * bytes);
  }
}
/// `steps` optimizer steps on `loader`'s batches, epoch after epoch, with the
/// one-cycle schedule stepped after each but the last.
template <class M, class Opt, class Loader>
void train_steps(M& model, Opt& opt, tn::OneCycleLR<Opt>& schedule, const Loader& loader,
                 int steps) {
  tn::CrossEntropyLoss loss;
  typename M::output_tensor grad;
  model.train();
  int step = 0;
  for (std::uint64_t epoch = 0; step < steps; ++epoch)
    for (const auto& b : loader.epoch(epoch)) {
      model.zero_grad();
      loss(model.forward(b.inputs), std::span<const int>(b.labels), grad);
      model.backward(grad);
      opt.step();
      if (++step == steps) break;
      schedule.step();
    }
}

template <class M, class Loader>
double accuracy(M& model, const Loader& test) {
  tn::CrossEntropyLoss loss;
  return tn::evaluate(model, loss, test).second.value();
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

/// LeNet-5 trained on task A.
std::unique_ptr<tn::Model<TaskANet, Input>> pretrain(
    const settings& s, const std::shared_ptr<const data::FashionMNIST>& train,
    const data::DataLoader<Input>& test_a, std::uint64_t seed) {
  const auto start = std::chrono::steady_clock::now();
  auto indices = classes_of(*train, 0, 5);
  if (s.pretrain_limit && s.pretrain_limit < indices.size()) indices.resize(s.pretrain_limit);
  const std::size_t n = indices.size();
  const auto pretrain_seed = seed_of(seed, stream::pretrain);
  data::DataLoader<Input> loader(
      TaskData{.base = train, .indices = std::move(indices)},
      {.batch_size = 64, .shuffle = true, .seed = pretrain_seed, .workers = s.workers},
      T::Compose{T::RandomCrop(28, 2), T::RandomHorizontalFlip()});
  auto model = std::make_unique<tn::Model<TaskANet, Input>>(pretrain_seed);
  tn::AdamW<float> adamw(model->parameters(), {.lr = 3e-3});
  const auto total = s.pretrain_epochs * static_cast<std::int64_t>(loader.batches());
  tn::OneCycleLR schedule(adamw, {.max_lr = 3e-3, .total_steps = total});
  tn::fit(*model, tn::CrossEntropyLoss{}, adamw, loader,
          {.epochs = s.pretrain_epochs,
           .progress = tn::progress_mode::never,
           .on_step = [&](std::int64_t step) {
             if (step < total) schedule.step();
           }});
  std::printf(
      "seed %llu: pretrained on %zu images of classes 0-4 for %d epochs, %.2f%% on their "
      "test images (%.0f s)\n",
      static_cast<unsigned long long>(seed), n, s.pretrain_epochs, 100 * accuracy(*model, test_a),
      seconds_since(start));
  return model;
}

struct arms {
  double head_only, fine_tune, scratch;
};

/// The three arms on task B with K images per class.
template <class New>
arms learn_b(const settings& s, tn::Model<TaskANet, Input>& pretrained,
             const std::shared_ptr<const data::FashionMNIST>& train,
             const data::DataLoader<Input>& test_b, std::uint64_t seed, int k) {
  using B = task_b<New>;
  using Net = typename B::network;
  const auto salt = static_cast<std::uint64_t>(k);
  data::transform augment = T::RandomCrop(28, 2);
  if (s.flip) augment = T::Compose{T::RandomCrop(28, 2), T::RandomHorizontalFlip()};
  const auto b_train = std::make_shared<const TaskData>(
      TaskData{.base = train,
               .indices = pick_per_class(*train, 5, 5, k, seed_of(seed, stream::pick, salt)),
               .offset = 5,
               .copies = s.copies,
               .augment = augment,
               .seed = seed_of(seed, stream::augment, salt)});
  const data::loader_options order{
      .batch_size = s.batch, .shuffle = true, .seed = seed_of(seed, stream::order, salt)};
  const auto weights_seed = seed_of(seed, stream::weights, salt);
  const double lr = s.lr, trunk_lr = s.lr * s.trunk_lr_factor;
  const auto trunk_keys = [](const std::string& key) { return B::in_head(key) ? "" : key; };
  arms result{};

  {  // (a) the head alone, on the pretrained trunk's cached features
    tn::Model<typename B::trunk, Input> trunk;
    copy_state(pretrained, trunk, [](const std::string& key) { return key; });
    const data::DataLoader<Input> once(b_train, {.batch_size = 250});
    const auto cache = tn::FeatureCache<typename B::features>::compute(trunk, once);
    const tn::FeatureLoader<typename B::features> features(cache, order);
    tn::Model<Net, Input> net(weights_seed);  // the new head's weights, as in (b) and (c)
    tn::Model<typename B::head, typename B::features> head;
    copy_state(net, head, B::network_key);
    tn::AdamW<float> adamw(head.parameters(), {.lr = lr});
    tn::OneCycleLR schedule(adamw, {.max_lr = lr, .total_steps = s.steps});
    train_steps(head, adamw, schedule, features, s.steps);
    // The trained head goes back on the trunk, and the network sees the test images.
    copy_state(pretrained, net, trunk_keys);
    copy_state(head, net, [](const std::string& key) {
      return B::in_head(key) ? B::head_key(key) : std::string();
    });
    result.head_only = accuracy(net, test_b);
  }
  const data::DataLoader<Input> images(b_train, order);
  {  // (b) everything fine-tuned, the trunk slower
    tn::Model<Net, Input> net(weights_seed);
    copy_state(pretrained, net, trunk_keys);
    std::vector<tn::ParameterRef<float, tn::Cpu>> trunk_params, head_params;
    for (const auto& p : net.parameters())
      (B::in_head(p.name()) ? head_params : trunk_params).push_back(p);
    tn::AdamW<float> adamw(
        {tn::param_group{trunk_params, {.lr = trunk_lr}}, tn::param_group{head_params}},
        {.lr = lr});
    tn::OneCycleLR schedule(adamw, {.max_lr = {trunk_lr, lr}, .total_steps = s.steps});
    train_steps(net, adamw, schedule, images, s.steps);
    result.fine_tune = accuracy(net, test_b);
  }
  {  // (c) from scratch
    tn::Model<Net, Input> net(weights_seed);
    tn::AdamW<float> adamw(net.parameters(), {.lr = lr});
    tn::OneCycleLR schedule(adamw, {.max_lr = lr, .total_steps = s.steps});
    train_steps(net, adamw, schedule, images, s.steps);
    result.scratch = accuracy(net, test_b);
  }
  return result;
}

struct summary {
  double mean = 0, sd = 0, min = 0, max = 0;
};
summary summarize(const std::vector<double>& v) {
  summary s;
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  for (const double x : v) s.sd += (x - s.mean) * (x - s.mean);
  s.sd = v.size() > 1 ? std::sqrt(s.sd / static_cast<double>(v.size() - 1)) : 0.0;
  s.min = *std::min_element(v.begin(), v.end());
  s.max = *std::max_element(v.begin(), v.end());
  return s;
}

int run(settings s) {
  const auto start = std::chrono::steady_clock::now();
  std::sort(s.per_class.begin(), s.per_class.end());
  auto train = std::make_shared<const data::FashionMNIST>(s.data, data::split::train);
  auto test = std::make_shared<const data::FashionMNIST>(s.data, data::split::test);
  const data::DataLoader<Input> test_a(TaskData{.base = test, .indices = classes_of(*test, 0, 5)},
                                       {.batch_size = 500});
  const data::DataLoader<Input> test_b(
      TaskData{.base = test, .indices = classes_of(*test, 5, 5), .offset = 5}, {.batch_size = 500});
  std::printf(
      "LeNet-5 pretrained on classes 0-4; new head: %s. Classes 5-9 from K images per class and "
      "%d augmented cop%s of each (random crop%s); %d AdamW steps of batch %d per arm, one-cycle "
      "max lr %g (fine-tuned trunk %g); %d threads\n\n",
      s.new_head == "classifier" ? "the classifier (Linear 120, 84, 5)" : "the last Linear",
      s.copies - 1, s.copies == 2 ? "y" : "ies", s.flip ? ", flip" : "", s.steps, s.batch, s.lr,
      s.lr * s.trunk_lr_factor, omp_get_max_threads());

  // results[K][arm][seed], in percent
  std::vector<std::array<std::vector<double>, 3>> results(s.per_class.size());
  for (int seed = 1; seed <= s.seeds; ++seed) {
    const auto pretrained = pretrain(s, train, test_a, static_cast<std::uint64_t>(seed));
    for (std::size_t ki = 0; ki < s.per_class.size(); ++ki) {
      const auto t = std::chrono::steady_clock::now();
      const auto u = static_cast<std::uint64_t>(seed);
      const int k = s.per_class[ki];
      const arms a = s.new_head == "classifier"
                         ? learn_b<new_classifier>(s, *pretrained, train, test_b, u, k)
                         : learn_b<new_last_layer>(s, *pretrained, train, test_b, u, k);
      results[ki][0].push_back(100 * a.head_only);
      results[ki][1].push_back(100 * a.fine_tune);
      results[ki][2].push_back(100 * a.scratch);
      std::printf(
          "seed %d, K = %3d: (a) head only %.2f%%, (b) fine-tune %.2f%%, (c) scratch "
          "%.2f%% (%.0f s)\n",
          seed, k, 100 * a.head_only, 100 * a.fine_tune, 100 * a.scratch, seconds_since(t));
    }
  }

  std::printf(
      "\naccuracy (%%) on the %zu test images of classes 5-9: mean +- sd [min, max] over "
      "%d seed%s\n\n",
      test_b.size(), s.seeds, s.seeds == 1 ? "" : "s");
  std::printf("%5s  %-28s  %-28s  %-28s  %s\n", "K", "(a) head only", "(b) fine-tune",
              "(c) scratch", "best transfer - scratch");
  std::vector<double> margins;
  for (std::size_t ki = 0; ki < s.per_class.size(); ++ki) {
    std::printf("%5d", s.per_class[ki]);
    std::array<summary, 3> sm;
    for (std::size_t arm = 0; arm < 3; ++arm) {
      sm[arm] = summarize(results[ki][arm]);
      char cell[64];
      std::snprintf(cell, sizeof cell, "%.2f +- %.2f [%.2f, %.2f]", sm[arm].mean, sm[arm].sd,
                    sm[arm].min, sm[arm].max);
      std::printf("  %-28s", cell);
    }
    const bool head_best = sm[0].mean >= sm[1].mean;
    margins.push_back(std::max(sm[0].mean, sm[1].mean) - sm[2].mean);
    std::printf("  %+.2f points (%s)\n", margins.back(), head_best ? "a" : "b");
  }
  std::printf("\n%.0f s in all\n", seconds_since(start));
  if (s.expect_margin && margins.front() < *s.expect_margin) {
    std::printf(
        "FAILED: at K = %d the better transfer arm beats scratch by %.2f points, fewer "
        "than the expected %.2f\n",
        s.per_class.front(), margins.front(), *s.expect_margin);
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // line by line, also into a pipe or a file
  settings s;
  CLI::App app{
      "Transfer learning on Fashion-MNIST: pretrain LeNet-5 on classes 0-4, then learn classes "
      "5-9 from K images per class with a new head only, by fine-tuning, or from scratch"};
  app.add_option("--data", s.data, "folder of the IDX files (plain or .gz)")->capture_default_str();
  app.add_option("--per-class", s.per_class, "K, labelled training images per class of task B")
      ->check(examples::between(1, 6000))
      ->capture_default_str();
  app.add_option("--seeds", s.seeds, "runs, with seeds 1, 2, ...")
      ->check(examples::between(1, 1000))
      ->capture_default_str();
  app.add_option("--pretrain-limit", s.pretrain_limit,
                 "pretrain on the first N images of classes 0-4 only (0: all 30,000)")
      ->check(examples::at_least(0));
  app.add_option("--pretrain-epochs", s.pretrain_epochs, "pretraining epochs")
      ->check(examples::between(1, 10000))
      ->capture_default_str();
  app.add_option("--new-head", s.new_head,
                 "what is replaced: the classifier (Linear 120, 84, 5) or the last Linear")
      ->check(CLI::IsMember({"classifier", "last"}))
      ->capture_default_str();
  app.add_option("--steps", s.steps, "optimizer steps of each arm on task B")
      ->check(examples::between(1, 1e8))
      ->capture_default_str();
  app.add_option("--batch", s.batch, "batch size on task B")
      ->check(examples::between(1, 4096))
      ->capture_default_str();
  app.add_option("--copies", s.copies,
                 "images per labelled example: the example and copies - 1 augmented copies "
                 "(1: no augmentation)")
      ->check(examples::between(1, 1000))
      ->capture_default_str();
  app.add_flag("--flip", s.flip, "augment with horizontal flips too");
  app.add_option("--lr", s.lr, "one-cycle peak learning rate of the heads and of scratch")
      ->check(examples::greater_than(0))
      ->capture_default_str();
  app.add_option("--trunk-lr-factor", s.trunk_lr_factor,
                 "the fine-tuned trunk's learning rate relative to --lr (0: trunk frozen)")
      ->check(examples::at_least(0))
      ->capture_default_str();
  app.add_option("--workers", s.workers, "loader threads for pretraining")
      ->check(examples::workers())
      ->capture_default_str();
  app.add_option("--expect-margin", s.expect_margin,
                 "exit with status 1 if, at the smallest K, the better transfer arm's mean "
                 "accuracy beats scratch's by fewer points")
      ->check(examples::between(-100, 100));
  CLI11_PARSE(app, argc, argv);
  try {
    return run(s);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "transfer_fashion: %s\n", e.what());
    return 2;
  }
}
