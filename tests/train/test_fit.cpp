// The training loop: resume equals an uninterrupted run, determinism with
// background loading, frozen trunks, NaN stops, checkpoints.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <typenet/train.hpp>

namespace tn = typenet;
namespace T = tn::data::transforms;
namespace fs = std::filesystem;

namespace {

/// Two classes of 8x8 gray images: bright top half (0) or bright bottom half (1), with noise.
struct HalfBright {
  std::size_t n = 96;
  std::size_t size() const { return n; }
  tn::data::example get(std::size_t i) const {
    std::mt19937_64 rng(i + 1);
    std::uniform_real_distribution<float> noise(0.0f, 0.3f);
    tn::data::example ex;
    ex.label = static_cast<int>(i % 2);
    ex.image = tn::image(8, 8, 1);
    for (int y = 0; y < 8; ++y)
      for (int x = 0; x < 8; ++x)
        ex.image(y, x) = ((y < 4) == (ex.label == 0) ? 0.7f : 0.0f) + noise(rng);
    return ex;
  }
};

using Net = tn::Sequential<tn::Named<"conv", tn::Conv2d<4, 3, tn::Padding<1>>>, tn::ReLU,
                           tn::Dropout<>, tn::Flatten, tn::Named<"fc", tn::Linear<2>>>;
using Model = tn::Model<Net, tn::Shape<1, 8, 8>>;
using Loader = tn::data::DataLoader<tn::Shape<1, 8, 8>>;

Loader make_loader(int workers, bool shuffle = true) {
  return Loader(HalfBright{}, {.batch_size = 16, .shuffle = shuffle, .seed = 5, .workers = workers},
                T::Compose{T::RandomCrop(8, 1), T::RandomHorizontalFlip()});
}

auto cross_entropy = [](const auto& y, std::span<const int> labels, auto& grad) {
  return tn::cross_entropy_loss(y, labels, grad);
};

template <class M>
std::vector<float> weights_of_any(const M& m) {
  std::vector<float> w;
  for (const auto& p : m.parameters()) w.insert(w.end(), p.value().begin(), p.value().end());
  return w;
}

std::vector<float> weights_of(const Model& m) {
  std::vector<float> w;
  for (const auto& p : m.parameters()) w.insert(w.end(), p.value().begin(), p.value().end());
  return w;
}

struct temp_dir {
  fs::path path;
  explicit temp_dir(const std::string& name)
      : path(fs::temp_directory_path() / ("typenet_fit_" + name + std::to_string(::getpid()))) {
    fs::remove_all(path);
  }
  ~temp_dir() { fs::remove_all(path); }
};

std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(fit)

BOOST_AUTO_TEST_CASE(learns_and_reports_history) {
  Model m(1);
  tn::SGD<float> sgd(m.parameters(), {.lr = 0.1, .momentum = 0.9});
  const auto train = make_loader(2);
  const auto val = make_loader(0, false);
  const auto r = tn::fit(m, cross_entropy, sgd, train, val,
                         {.epochs = 4, .progress = tn::progress_mode::never});
  BOOST_TEST_REQUIRE(r.history.size() == 4u);
  BOOST_TEST(r.history.back().train_loss < r.history.front().train_loss);
  BOOST_TEST_REQUIRE(r.history.back().val_accuracy.has_value());
  BOOST_TEST(*r.history.back().val_accuracy > 0.9);
  BOOST_TEST(r.best_epoch >= 0);
}

BOOST_AUTO_TEST_CASE(resume_equals_an_uninterrupted_run) {
  temp_dir dir("resume");
  const auto train = make_loader(2);
  const auto val = make_loader(0, false);

  Model straight(1);
  tn::SGD<float> sgd1(straight.parameters(), {.lr = 0.05, .momentum = 0.9, .weight_decay = 1e-4});
  tn::fit(straight, cross_entropy, sgd1, train, val,
          {.epochs = 4, .progress = tn::progress_mode::never});

  {
    Model first(1);
    tn::SGD<float> sgd(first.parameters(), {.lr = 0.05, .momentum = 0.9, .weight_decay = 1e-4});
    tn::fit(first, cross_entropy, sgd, train, val,
            {.epochs = 2, .checkpoint_dir = dir.path, .progress = tn::progress_mode::never});
  }
  Model resumed(7);  // another initialisation: everything must come from the checkpoint
  tn::SGD<float> sgd2(resumed.parameters(), {.lr = 0.05, .momentum = 0.9, .weight_decay = 1e-4});
  const auto r = tn::fit(resumed, cross_entropy, sgd2, train, val,
                         {.epochs = 4,
                          .checkpoint_dir = dir.path,
                          .resume = true,
                          .progress = tn::progress_mode::never});
  BOOST_TEST(r.start_epoch == 2);
  BOOST_TEST(r.history.size() == 2u);
  const auto a = weights_of(straight);
  const auto b = weights_of(resumed);
  BOOST_TEST(a == b, boost::test_tools::per_element());  // bit-identical
  BOOST_TEST(fs::exists(dir.path / "best.safetensors"));
}

BOOST_AUTO_TEST_CASE(background_loading_does_not_change_the_result) {
  std::vector<std::vector<float>> results;
  for (int workers : {0, 1, 3}) {
    Model m(1);
    tn::SGD<float> sgd(m.parameters(), {.lr = 0.05, .momentum = 0.9});
    tn::fit(m, cross_entropy, sgd, make_loader(workers),
            {.epochs = 2, .progress = tn::progress_mode::never});
    results.push_back(weights_of(m));
  }
  BOOST_TEST(results[0] == results[1], boost::test_tools::per_element());
  BOOST_TEST(results[0] == results[2], boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_frozen_trunk_stays_bit_identical) {
  Model m(1);
  m.freeze("conv.");
  const auto before = weights_of(m);
  tn::SGD<float> sgd(m.parameters(), {.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-3});
  tn::fit(m, cross_entropy, sgd, make_loader(0),
          {.epochs = 1, .progress = tn::progress_mode::never});
  for (const auto& p : m.parameters()) {
    bool same = true;
    std::size_t offset = 0;
    for (const auto& q : m.parameters()) {
      if (q.name() == p.name()) break;
      offset += static_cast<std::size_t>(q.size());
    }
    for (std::size_t i = 0; i < static_cast<std::size_t>(p.size()); ++i)
      same = same && p.value()[i] == before[offset + i];
    BOOST_TEST_CONTEXT(p.name()) {
      BOOST_TEST(same == p.name().starts_with("conv."));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_nan_loss_stops_with_the_step_and_keeps_the_checkpoint) {
  temp_dir dir("nan");
  Model m(1);
  tn::SGD<float> sgd(m.parameters(), {.lr = 0.05});
  int calls = 0;
  const int poisoned = 6 + 2;  // the third batch of epoch 1 (6 batches per epoch)
  auto loss = [&](const auto& y, std::span<const int> labels, auto& grad) {
    const double l = tn::cross_entropy_loss(y, labels, grad);
    if (calls++ == poisoned)
      throw tn::non_finite_loss("cross_entropy_loss: the loss is not finite");
    return l;
  };
  std::vector<float> weights_before_failure;
  tn::fit_options options{
      .epochs = 3, .checkpoint_dir = dir.path, .progress = tn::progress_mode::never};
  options.on_step = [&](std::int64_t) { weights_before_failure = weights_of(m); };
  std::string checkpoint_after_epoch0;
  options.on_epoch = [&](const tn::epoch_result& r) {
    if (r.epoch == 0) checkpoint_after_epoch0 = file_bytes(dir.path / "last.safetensors");
    return true;
  };
  BOOST_CHECK_EXCEPTION(tn::fit(m, loss, sgd, make_loader(2), options), tn::non_finite_loss,
                        [](const tn::non_finite_loss& e) {
                          const std::string what = e.what();
                          return what.find("epoch 1, batch 2 (step 9)") != std::string::npos &&
                                 what.find("last.safetensors") != std::string::npos;
                        });
  BOOST_TEST(weights_of(m) == weights_before_failure, boost::test_tools::per_element());
  BOOST_TEST(file_bytes(dir.path / "last.safetensors") == checkpoint_after_epoch0);
}

BOOST_AUTO_TEST_CASE(checkpoints_load_back_and_refuse_other_networks) {
  temp_dir dir("ckpt");
  fs::create_directories(dir.path);
  const auto path = (dir.path / "c.safetensors").string();
  Model m(1);
  tn::SGD<float> sgd(m.parameters(), {.lr = 0.05, .momentum = 0.9});
  tn::fit(m, cross_entropy, sgd, make_loader(0),
          {.epochs = 1, .progress = tn::progress_mode::never});
  tn::save_training_checkpoint(path, m, sgd, {.epoch = 0, .step = 6});

  Model other(3);
  tn::SGD<float> sgd2(other.parameters(), {.lr = 0.05, .momentum = 0.9});
  const auto state = tn::load_training_checkpoint(path, other, sgd2);
  BOOST_TEST(state.epoch == 0);
  BOOST_TEST(state.step == 6);
  BOOST_TEST(weights_of(other) == weights_of(m), boost::test_tools::per_element());
  BOOST_TEST(other.forward_count() == m.forward_count());

  // The weights alone load with load_weights.
  Model plain(4);
  tn::load_weights(plain, path, {.skip = {"optimizer."}});
  BOOST_TEST(weights_of(plain) == weights_of(m), boost::test_tools::per_element());

  // Another network: an error, and nothing changes.
  using Wider = tn::ReplaceChild<Net, "fc", tn::Linear<3>>;
  tn::Model<Wider, tn::Shape<1, 8, 8>> wider(5);
  tn::SGD<float> sgd3(wider.parameters(), {.lr = 0.05, .momentum = 0.9});
  std::vector<float> before;
  for (const auto& p : wider.parameters())
    before.insert(before.end(), p.value().begin(), p.value().end());
  BOOST_CHECK_THROW(tn::load_training_checkpoint(path, wider, sgd3), tn::error);
  std::vector<float> after;
  for (const auto& p : wider.parameters())
    after.insert(after.end(), p.value().begin(), p.value().end());
  BOOST_TEST(before == after, boost::test_tools::per_element());

  // A weights-only file is not a training checkpoint.
  const auto weights_only = (dir.path / "w.safetensors").string();
  tn::save_weights(m, weights_only);
  BOOST_CHECK_THROW(tn::load_training_checkpoint(weights_only, other, sgd2), tn::format_error);
}

BOOST_AUTO_TEST_CASE(out_of_range_counts_in_a_checkpoint_change_nothing) {
  temp_dir dir("range");
  fs::create_directories(dir.path);
  Model m(1);
  tn::SGD<float> sgd(m.parameters(), {.lr = 0.05, .momentum = 0.9});
  tn::fit(m, cross_entropy, sgd, make_loader(0),
          {.epochs = 1, .progress = tn::progress_mode::never});
  // Every value of the optimizer's state, to see that a refused load changes none.
  const auto optimizer_values = [](auto& optimizer) {
    std::vector<double> v;
    for (const auto& e : optimizer.state())
      for (std::int64_t i = 0; i < e.size; ++i)
        v.push_back(e.type == tn::dtype::f32 ? static_cast<const float*>(e.data)[i]
                    : e.type == tn::dtype::f64
                        ? static_cast<const double*>(e.data)[i]
                        : static_cast<double>(static_cast<const std::int64_t*>(e.data)[i]));
    return v;
  };
  struct bad_state {
    tn::training_state state;
    const char* expected;
  };
  const bad_state cases[] = {
      // INT_MAX used to overflow fit's epoch counter, and resume ran ~2^31 epochs.
      {{.epoch = std::numeric_limits<int>::max()},
       "'typenet.epoch' = 2147483647 is outside [-1, 2147483645]"},
      {{.epoch = -2}, "'typenet.epoch' = -2 is outside"},
      {{.epoch = 3, .step = -1}, "'typenet.step' = -1 is outside"},
      {{.epoch = 3, .best_epoch = 4}, "'typenet.best_epoch' = 4 is outside [-1, 3]"},
      {{.epoch = 3, .best_metric = std::numeric_limits<double>::quiet_NaN()},
       "'typenet.best_metric' is nan"},
  };
  const auto path = (dir.path / "bad.safetensors").string();
  Model target(7);
  tn::SGD<float> target_sgd(target.parameters(), {.lr = 0.05, .momentum = 0.9});
  tn::fit(target, cross_entropy, target_sgd, make_loader(0),
          {.epochs = 1, .progress = tn::progress_mode::never});
  const auto weights = weights_of(target);
  const auto state = optimizer_values(target_sgd);
  BOOST_TEST_REQUIRE(!state.empty());
  for (const auto& c : cases) {
    tn::save_training_checkpoint(path, m, sgd, c.state);
    std::string message;
    try {
      tn::load_training_checkpoint(path, target, target_sgd);
    } catch (const tn::format_error& e) {
      message = e.what();
    }
    BOOST_TEST(message.find(c.expected) != std::string::npos, message);
    BOOST_TEST(weights_of(target) == weights, boost::test_tools::per_element());
    BOOST_TEST(optimizer_values(target_sgd) == state, boost::test_tools::per_element());
  }
  // The same file with sound counts loads.
  tn::save_training_checkpoint(path, m, sgd, {.epoch = 3, .step = 18, .best_epoch = 2});
  BOOST_TEST(tn::load_training_checkpoint(path, target, target_sgd).step == 18);
  BOOST_TEST(weights_of(target) == weights_of(m), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(fit_refuses_an_unwritable_checkpoint_folder_before_training) {
  temp_dir dir("unwritable");
  fs::create_directories(dir.path);
  const auto file = dir.path / "a_file";
  std::ofstream(file) << "not a folder";
  Model m(1);
  tn::SGD<float> sgd(m.parameters(), {.lr = 0.05, .momentum = 0.9});
  const auto weights = weights_of(m);
  int epochs_run = 0;
  std::string message;
  try {
    tn::fit(m, cross_entropy, sgd, make_loader(0),
            {.epochs = 2,
             .checkpoint_dir = file / "runs",
             .progress = tn::progress_mode::never,
             .on_epoch = [&](const tn::epoch_result&) { return ++epochs_run > 0; }});
  } catch (const tn::file_error& e) {
    message = e.what();
  }
  BOOST_TEST(
      message.find((file / "runs").string() + ": cannot create the directory") != std::string::npos,
      message);
  BOOST_TEST(epochs_run == 0);
  BOOST_TEST(weights_of(m) == weights, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(precomputed_features_train_the_head) {
  using Trunk = tn::DropLast<Net, 1>;  // conv, relu, dropout, flatten: Shape<256>
  using Features = tn::Shape<256>;
  tn::Model<Trunk, tn::Shape<1, 8, 8>> trunk(1);
  const Loader once(HalfBright{}, {.batch_size = 16, .shuffle = true, .seed = 2, .workers = 2});
  const auto cache = tn::FeatureCache<Features>::compute(trunk, once);
  BOOST_TEST(cache->size() == 96u);
  BOOST_TEST(trunk.is_training());  // the mode is restored

  // Each cached row is the trunk's eval output for that example.
  trunk.eval();
  for (std::size_t index : {0u, 5u, 95u}) {
    tn::Tensor<tn::Shape<1, 8, 8>> x(1);
    tn::to_tensor(HalfBright{}.get(index).image, x, 0);
    const auto& y = trunk.forward(x);
    const auto f = cache->features(index);
    for (int i = 0; i < Features::size; ++i)
      BOOST_TEST(f[static_cast<std::size_t>(i)] == y.data()[i],
                 boost::test_tools::tolerance(1e-5f));
    BOOST_TEST(cache->label(index) == static_cast<int>(index % 2));
  }

  // Only the head trains, on the cache, through fit().
  tn::Model<tn::Sequential<tn::Linear<2>>, Features> head(1);
  tn::SGD<float> sgd(head.parameters(), {.lr = 0.05, .momentum = 0.9});
  const tn::FeatureLoader<Features> train(cache, {.batch_size = 16, .shuffle = true, .seed = 3});
  BOOST_TEST(train.batches() == 6u);
  const auto r = tn::fit(head, cross_entropy, sgd, train, train,
                         {.epochs = 8, .progress = tn::progress_mode::never});
  BOOST_TEST_REQUIRE(r.history.back().val_accuracy.has_value());
  BOOST_TEST(*r.history.back().val_accuracy > 0.9);

  // A loader that drops examples cannot fill the cache.
  const Loader dropping(HalfBright{.n = 90}, {.batch_size = 16, .drop_last = true});
  BOOST_CHECK_THROW(tn::FeatureCache<Features>::compute(trunk, dropping), tn::usage_error);
}

BOOST_AUTO_TEST_CASE(killed_while_saving_leaves_the_previous_checkpoint) {
  // 4 M weights plus SGD's momentum: each save writes 32 MB, so a kill at a
  // random moment usually lands inside a write.
  using Big = tn::Sequential<tn::Flatten, tn::Linear<4096>, tn::Linear<2>>;
  using BigModel = tn::Model<Big, tn::Shape<1, 32, 32>>;
  temp_dir dir("kill");
  fs::create_directories(dir.path);
  const auto path = (dir.path / "last.safetensors").string();
  BigModel m(1);
  tn::SGD<float> sgd(m.parameters(), {.lr = 0.1, .momentum = 0.9});
  tn::save_training_checkpoint(path, m, sgd, {.epoch = 0});

  std::mt19937 rng(11);
  int interrupted_writes = 0;
  for (int trial = 0; trial < 20 && interrupted_writes < 3; ++trial) {
    const pid_t child = ::fork();
    BOOST_TEST_REQUIRE(child >= 0);
    if (child == 0) {  // keeps saving until killed
      for (int epoch = 1;; ++epoch) tn::save_training_checkpoint(path, m, sgd, {.epoch = epoch});
    }
    ::usleep(static_cast<useconds_t>(20000 + rng() % 150000));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    BOOST_TEST(WIFSIGNALED(status));
    if (fs::exists(path + ".tmp")) ++interrupted_writes;

    BigModel restored(2);
    tn::SGD<float> sgd2(restored.parameters(), {.lr = 0.1, .momentum = 0.9});
    const auto state = tn::load_training_checkpoint(path, restored, sgd2);  // must not throw
    BOOST_TEST(state.epoch >= 0);
    BOOST_TEST((weights_of_any(restored) == weights_of_any(m)));
  }
  BOOST_TEST(interrupted_writes > 0);  // the kills did hit writes in progress
}

BOOST_AUTO_TEST_SUITE_END()
