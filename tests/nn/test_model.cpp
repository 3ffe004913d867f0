// include/typenet/nn: Model and the containers — state_dict names, the
// summary, shared parameters, run-time errors, freezing, editing network
// types, feature extraction, thread independence and PyTorch's
// initialisation.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include <typenet/io.hpp>  // an edited network loads its trunk from a weight file
#include <typenet/nn.hpp>

#include "networks.hpp"

namespace tn = typenet;

namespace {

using typenet_tests::BasicBlock;
using typenet_tests::LeNet5;
using typenet_tests::ResNetStem;

std::vector<std::string> bn_keys(const std::string& prefix) {
  return {prefix + "weight", prefix + "bias", prefix + "running_mean", prefix + "running_var",
          prefix + "num_batches_tracked"};
}

std::vector<std::string> block_keys(const std::string& prefix, bool downsample) {
  std::vector<std::string> keys{prefix + "conv1.weight"};
  for (auto& k : bn_keys(prefix + "bn1.")) keys.push_back(k);
  keys.push_back(prefix + "conv2.weight");
  for (auto& k : bn_keys(prefix + "bn2.")) keys.push_back(k);
  if (downsample) {
    keys.push_back(prefix + "downsample.0.weight");
    for (auto& k : bn_keys(prefix + "downsample.1.")) keys.push_back(k);
  }
  return keys;
}

template <class Model>
std::vector<std::string> state_names(Model& m) {
  std::vector<std::string> names;
  for (const auto& s : m.state()) names.push_back(s.name);
  return names;
}

template <class Model>
std::vector<std::string> parameter_names(Model& m) {
  std::vector<std::string> names;
  for (const auto& p : m.parameters()) names.push_back(p.name());
  return names;
}

template <class S, class T>
void fill_random(tn::Tensor<S, tn::Cpu, T>& t, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  for (auto& v : t.values()) v = static_cast<T>(u(rng));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(model)

// ---- state_dict names ---------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(basic_block_state_dict_names) {
  tn::Model<BasicBlock<16, 2, true>, tn::Shape<8, 8, 8>> block;
  const auto expected = block_keys("", true);
  BOOST_TEST(state_names(block) == expected, boost::test_tools::per_element());

  std::vector<std::string> trainable;
  for (const auto& k : expected)
    if (k.find("running") == std::string::npos && k.find("num_batches") == std::string::npos)
      trainable.push_back(k);
  BOOST_TEST(parameter_names(block) == trainable, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(resnet_stem_state_dict_names_and_shapes) {
  tn::Model<ResNetStem, tn::Shape<3, 64, 64>> net;
  std::vector<std::string> expected{"conv1.weight"};
  for (auto& k : bn_keys("bn1.")) expected.push_back(k);
  for (auto& k : block_keys("layer1.0.", false)) expected.push_back(k);
  for (auto& k : block_keys("layer1.1.", false)) expected.push_back(k);
  for (auto& k : block_keys("layer2.0.", true)) expected.push_back(k);
  for (auto& k : block_keys("layer2.1.", false)) expected.push_back(k);
  expected.push_back("fc.weight");
  expected.push_back("fc.bias");
  BOOST_TEST(state_names(net) == expected, boost::test_tools::per_element());

  // Shapes and types as in PyTorch.
  for (const auto& s : net.state()) {
    std::vector<int> shape;
    tn::dtype type = tn::dtype::f32;
    if (s.name == "conv1.weight") shape = {64, 3, 7, 7};
    if (s.name == "layer2.0.conv1.weight") shape = {128, 64, 3, 3};
    if (s.name == "layer2.0.downsample.0.weight") shape = {128, 64, 1, 1};
    if (s.name == "layer2.1.bn2.running_var") shape = {128};
    if (s.name == "fc.weight") shape = {10, 128};
    if (s.name.ends_with("num_batches_tracked")) type = tn::dtype::i64;  // 0-d: shape {}
    if (!shape.empty() || type == tn::dtype::i64) {
      BOOST_TEST_CONTEXT(s.name) {
        BOOST_TEST(s.shape == shape, boost::test_tools::per_element());
        BOOST_TEST((s.type == type));
        BOOST_TEST(s.is_parameter == (type == tn::dtype::f32 && !s.name.ends_with("running_var")));
      }
    }
  }
}

// ---- summary ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(lenet_summary) {
  const auto rows = tn::summary_rows<LeNet5, tn::Shape<1, 28, 28>>();
  BOOST_TEST_REQUIRE(rows.size() == 12u);
  BOOST_TEST(rows[0].name == "0");
  BOOST_TEST(rows[0].type == "Conv2d<6, 5, Padding<2>>");
  BOOST_TEST(rows[0].output_shape == "Shape<6, 28, 28>");
  BOOST_TEST(rows[0].parameters == 6 * 25 + 6);
  BOOST_TEST(rows[0].flops == 2 * (6 * 28 * 28) * 25);
  BOOST_TEST(rows[3].parameters == 16 * 6 * 25 + 16);
  BOOST_TEST(rows[3].flops == 2 * (16 * 10 * 10) * (6 * 25));
  BOOST_TEST(rows[5].output_shape == "Shape<16, 5, 5>");
  BOOST_TEST(rows[6].output_shape == "Shape<400>");
  BOOST_TEST(rows[7].parameters == 120 * 400 + 120);
  BOOST_TEST(rows[7].flops == 2 * 120 * 400);
  BOOST_TEST(rows[11].output_shape == "Shape<10>");

  std::int64_t params = 0;
  for (const auto& r : rows) params += r.parameters;
  BOOST_TEST(params == 61706);

  const std::string text = tn::Model<LeNet5, tn::Shape<1, 28, 28>>::summary();
  BOOST_TEST_MESSAGE(text);
  // conv 235200 + relu 4704 + pool 4704 + conv 480000 + relu 1600 + pool 1600
  // + linear 96000 + relu 120 + linear 20160 + relu 84 + linear 1680
  BOOST_TEST(text.find("total: 61706 parameters, 845852 FLOPs per sample") != std::string::npos,
             text);
  BOOST_TEST(text.find("Linear<120>") != std::string::npos);
  BOOST_TEST(text.find("Shape<6, 14, 14>") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(residual_summary_names) {
  const auto rows = tn::summary_rows<BasicBlock<16, 2, true>, tn::Shape<8, 8, 8>>();
  std::vector<std::string> names;
  for (const auto& r : rows) names.push_back(r.name);
  const std::vector<std::string> expected{"conv1", "bn1",          "relu",         "conv2",
                                          "bn2",   "downsample.0", "downsample.1", "activation"};
  BOOST_TEST(names == expected, boost::test_tools::per_element());
  std::int64_t params = 0;
  for (const auto& r : rows) params += r.parameters;
  BOOST_TEST(params == (16 * 8 * 9 + 32 + 16 * 16 * 9 + 32 + 16 * 8 + 32));
  BOOST_TEST(rows[0].output_shape == "Shape<16, 4, 4>");
}

// ---- shared parameters between input sizes ------------------------------------------------

/// Two Models of Net at two input sizes, the second built from the first,
/// share one set of parameters and buffers.
template <class Net, class Small, class Large>
void check_shared_parameters() {
  using SmallModel = tn::Model<Net, Small>;
  using LargeModel = tn::Model<Net, Large>;
  if constexpr (!std::is_same_v<typename SmallModel::parameters_type,
                                typename LargeModel::parameters_type>) {
    // Model(other) needs one parameters_type, but Sequential::parameters<In, ...>
    // (and Residual's) is a distinct struct for every input shape even when
    // every parameter has the same shape, so `LargeModel large(small)` fails
    // with parameters_differ_between_input_shapes. DESIGN.md §2 wants it to compile.
    BOOST_ERROR("Model<Net, " << Large::str() << ">(Model<Net, " << Small::str()
                              << ">&) does not compile for the all-convolutional "
                              << Net::type_name()
                              << ": parameters_type differs between the input sizes although "
                                 "every parameter shape is the same");
  } else {
    SmallModel small(3);
    LargeModel large(small);
    BOOST_TEST(small.shared_parameters().get() == large.shared_parameters().get());
    small.eval();
    large.eval();

    tn::Tensor<Large> x(2);
    fill_random(x, 1);
    const auto& y = large.forward(x);
    const std::vector<float> before(y.data(), y.data() + y.size());

    // A change through one model is seen by the other: weights and buffers.
    small.parameters()[0].value()[0] += 0.5f;
    BOOST_TEST(large.parameters()[0].value()[0] == small.parameters()[0].value()[0]);
    const auto& y2 = large.forward(x);
    bool changed = false;
    for (std::int64_t i = 0; i < y2.size(); ++i) changed = changed || y2.data()[i] != before[i];
    BOOST_TEST(changed, "the large model did not see the small model's new weight");

    // Training the small model (batch statistics) updates the shared running statistics.
    small.train();
    tn::Tensor<Small> xs(2);
    fill_random(xs, 2);
    small.forward(xs);
    bool stats_moved = false, counted = false;
    for (const auto& s : large.state()) {
      if (s.name == "1.running_mean") stats_moved = static_cast<const float*>(s.data)[0] != 0.0f;
      if (s.name == "1.num_batches_tracked")
        counted = *static_cast<const std::int64_t*>(s.data) == 1;
    }
    BOOST_TEST(stats_moved, "running statistics are not shared");
    BOOST_TEST(counted, "num_batches_tracked is not shared");
  }
}

BOOST_AUTO_TEST_CASE(models_at_two_sizes_share_parameters) {
  // A single layer: its parameters do not depend on the spatial size.
  using Conv = tn::Conv2d<4, 3, tn::Padding<1>>;
  tn::Model<Conv, tn::Shape<3, 16, 16>> small(3);
  tn::Model<Conv, tn::Shape<3, 24, 24>> large(small);
  BOOST_TEST(small.shared_parameters().get() == large.shared_parameters().get());
  small.parameters()[0].value()[0] += 0.5f;
  BOOST_TEST(large.parameters()[0].value()[0] == small.parameters()[0].value()[0]);

  // A whole all-convolutional network (index 1 is the BatchNorm).
  using Net = tn::Sequential<tn::Conv2d<4, 3, tn::Padding<1>>, tn::BatchNorm2d, tn::ReLU,
                             tn::Conv2d<2, 3, tn::Stride<2>>, tn::Upsample<2>>;
  check_shared_parameters<Net, tn::Shape<3, 16, 16>, tn::Shape<3, 24, 24>>();
}

// ---- run-time errors ----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(batch_errors) {
  tn::Model<LeNet5, tn::Shape<1, 28, 28>> net;
  tn::Tensor<tn::Shape<1, 28, 28>> empty(0);
  BOOST_CHECK_THROW(net.forward(empty), tn::shape_error);

  tn::Tensor<tn::Shape<10>> dy(3);
  dy.fill(1);
  BOOST_CHECK_THROW(net.backward(dy), tn::usage_error);  // before any forward

  tn::Tensor<tn::Shape<1, 28, 28>> x(2);
  fill_random(x, 4);
  net.forward(x);
  BOOST_CHECK_THROW(net.backward(dy), tn::shape_error);  // batch 3 after a forward of 2
  tn::Tensor<tn::Shape<10>> dy_empty(0);
  BOOST_CHECK_THROW(net.backward(dy_empty), tn::shape_error);
  BOOST_CHECK_THROW(net.input_grad(), tn::usage_error);  // not requested

  tn::Tensor<tn::Shape<10>> ok(2);
  ok.fill(1);
  BOOST_CHECK_NO_THROW(net.backward(ok));
  BOOST_CHECK_THROW(net.input_grad(), tn::usage_error);  // still not requested

  // The message says what was expected and what came.
  try {
    net.backward(dy);
    BOOST_ERROR("no exception");
  } catch (const tn::shape_error& e) {
    const std::string what = e.what();
    BOOST_TEST((what.find('3') != std::string::npos && what.find('2') != std::string::npos), what);
  }

  // BatchNorm cannot train on a single value per channel.
  tn::Model<tn::BatchNorm1d, tn::Shape<4>> bn;
  tn::Tensor<tn::Shape<4>> one(1);
  one.fill(1);
  BOOST_CHECK_THROW(bn.forward(one), tn::shape_error);
  bn.eval();
  BOOST_CHECK_NO_THROW(bn.forward(one));

  BOOST_CHECK_THROW((tn::Model<LeNet5, tn::Shape<1, 28, 28>>(nullptr)), tn::usage_error);
}

BOOST_AUTO_TEST_CASE(a_temporary_input_is_kept_for_backward) {
  // backward reads the input again (the convolution's weight gradient): a
  // temporary passed to forward must live on in the model.
  using Net = tn::Sequential<tn::Conv2d<4, 3>, tn::ReLU, tn::Flatten, tn::Linear<3>>;
  using In = tn::Shape<2, 6, 6>;
  const auto make_input = [](std::uint64_t seed) {
    tn::Tensor<In> x(2);
    fill_random(x, seed);
    return x;
  };
  tn::Tensor<tn::Shape<3>> dy(2);
  fill_random(dy, 22);
  tn::Model<Net, In> kept(5), temporary(5);
  const auto x = make_input(21);
  kept.forward(x);
  kept.backward(dy);
  temporary.forward(make_input(21));
  const auto scribble = make_input(23);  // may take the memory of a freed input
  temporary.backward(dy);
  for (std::size_t i = 0; i < kept.parameters().size(); ++i) {
    const auto a = kept.parameters()[i].grad();
    const auto b = temporary.parameters()[i].grad();
    BOOST_TEST(std::vector<float>(a.begin(), a.end()) == std::vector<float>(b.begin(), b.end()),
               boost::test_tools::per_element());
  }
  BOOST_TEST(scribble.batch() == 2);
}

// ---- freezing -----------------------------------------------------------------------------

using FreezeNet =
    tn::Sequential<tn::Named<"conv", tn::Conv2d<4, 3>>, tn::Named<"bn", tn::BatchNorm2d>, tn::ReLU,
                   tn::Named<"up", tn::ConvTranspose2d<3, 2, tn::Stride<2>>>, tn::Flatten,
                   tn::Named<"fc", tn::Linear<6>>, tn::Named<"bn1d", tn::BatchNorm1d>,
                   tn::Named<"head", tn::Linear<2>>>;

template <class Model>
void train_step(Model& m) {
  tn::Tensor<typename Model::input_shape> x(3);
  fill_random(x, 8);
  tn::Tensor<typename Model::output_shape> dy(3);
  fill_random(dy, 9);
  m.zero_grad();
  m.forward(x);
  m.backward(dy);
}

BOOST_AUTO_TEST_CASE(freeze_and_unfreeze_by_prefix) {
  tn::Model<FreezeNet, tn::Shape<2, 5, 5>> m(1);
  m.freeze();
  m.unfreeze("fc.");
  train_step(m);
  for (const auto& p : m.parameters()) {
    BOOST_TEST_CONTEXT(p.name()) {
      double norm = 0;
      for (float g : p.grad()) norm += std::abs(g);
      const bool trainable = p.name().starts_with("fc.");
      BOOST_TEST(p.requires_grad() == trainable);
      if (trainable) {
        BOOST_TEST(norm > 0);
      } else {
        BOOST_TEST(norm == 0);
      }
    }
  }

  // Freezing one layer leaves the others training; the input gradient still flows.
  m.unfreeze();
  m.freeze("bn");  // both "bn." and "bn1d."
  m.requires_input_grad(true);
  train_step(m);
  double input_norm = 0;
  for (float g : m.input_grad().values()) input_norm += std::abs(g);
  BOOST_TEST(input_norm > 0);
  for (const auto& p : m.parameters()) {
    BOOST_TEST_CONTEXT(p.name()) {
      double norm = 0;
      for (float g : p.grad()) norm += std::abs(g);
      BOOST_TEST((norm == 0) == p.name().starts_with("bn"));
    }
  }
}

/// Identity that counts its backward calls, to see which children a backward pass visits.
struct CountingIdentity : tn::layer_base {
  static inline int backward_calls = 0;
  template <class In, class Device, class T>
  struct node : tn::Identity::node<In, Device, T> {
    const tn::Tensor<In, Device, T>& backward(tn::no_parameters& p,
                                              const tn::Tensor<In, Device, T>& x,
                                              const tn::Tensor<In, Device, T>& dy,
                                              const tn::run_context& ctx) {
      ++backward_calls;
      return tn::Identity::node<In, Device, T>::backward(p, x, dy, ctx);
    }
  };
  static std::string type_name() { return "CountingIdentity"; }
};

BOOST_AUTO_TEST_CASE(frozen_trunk_skips_backward) {
  // Children: 0 conv, 1 counter, 2 bn, 3 relu, 4 counter, 5 flatten, 6 linear.
  using Net = tn::Sequential<tn::Conv2d<4, 3>, CountingIdentity, tn::BatchNorm2d, tn::ReLU,
                             CountingIdentity, tn::Flatten, tn::Linear<3>>;
  tn::Model<Net, tn::Shape<2, 6, 6>> m(1);
  auto head_grad = [&] {
    std::vector<float> g;
    for (const auto& p : m.parameters())
      if (p.name().starts_with("6.")) g.insert(g.end(), p.grad().begin(), p.grad().end());
    return g;
  };
  auto backward_calls = [&] {
    CountingIdentity::backward_calls = 0;
    train_step(m);
    return CountingIdentity::backward_calls;
  };

  BOOST_TEST(backward_calls() == 2);  // everything trainable: the whole pass
  const auto reference = head_grad();

  m.freeze();
  m.unfreeze("6.");  // only the head learns: backward stops after it
  BOOST_TEST(backward_calls() == 0);
  const auto head_only = head_grad();
  BOOST_TEST(head_only == reference, boost::test_tools::per_element());

  m.unfreeze("2.");  // the batch norm learns too: backward reaches it, not the conv
  BOOST_TEST(backward_calls() == 1);
  for (const auto& p : m.parameters())
    if (p.name().starts_with("0."))
      BOOST_TEST(std::all_of(p.grad().begin(), p.grad().end(), [](float g) { return g == 0; }));

  m.freeze();
  m.requires_input_grad(true);  // an input gradient needs the whole pass, frozen or not
  BOOST_TEST(backward_calls() == 2);
  double input_norm = 0;
  for (float g : m.input_grad().values()) input_norm += std::abs(g);
  BOOST_TEST(input_norm > 0);
}

// ---- editing network types ----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(edited_networks_keep_their_names) {
  using Full = tn::Model<tn::models::ResNet18<>, tn::Shape<3, 64, 64>>;
  using Dogs = tn::Model<tn::ReplaceChild<tn::models::ResNet18<>, "fc", tn::Linear<2>>,
                         tn::Shape<3, 64, 64>>;
  static_assert(std::is_same_v<Dogs::output_shape, tn::Shape<2>>);
  Full full(1);
  Dogs dogs(2);
  const auto& a = full.parameters();
  const auto& b = dogs.parameters();
  BOOST_TEST_REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    BOOST_TEST(a[i].name() == b[i].name());
    BOOST_TEST((a[i].size() == b[i].size()) == !a[i].name().starts_with("fc."));
  }

  // The pretrained trunk loads into the new network; only the head is skipped.
  const auto file = std::filesystem::temp_directory_path() / "typenet_edit_test.safetensors";
  tn::save_weights(full, file);
  const auto report = tn::load_weights(dogs, file, {.skip = {"fc."}});
  std::filesystem::remove(file);
  BOOST_TEST(!report.skipped.empty());
  for (const auto& key : report.skipped) BOOST_TEST(key.starts_with("fc."));
  for (std::size_t i = 0; i + 2 < a.size(); ++i)
    BOOST_TEST(std::equal(a[i].value().begin(), a[i].value().end(), b[i].value().begin()));

  // Dropping the head keeps the keys; appending continues the positions.
  using Trunk = tn::DropLast<tn::models::ResNet18<>, 2>;
  static_assert(
      std::is_same_v<tn::Model<Trunk, tn::Shape<3, 64, 64>>::output_shape, tn::Shape<512, 2, 2>>);
  using Deeper = tn::Append<Trunk, tn::Conv2d<8, 1>, tn::ReLU>;
  tn::Model<Deeper, tn::Shape<3, 64, 64>> deeper(1);
  BOOST_TEST(deeper.parameters().front().name() == "conv1.weight");
  BOOST_TEST(deeper.parameters().back().name() == "8.bias");

  // An unnamed child replaced by position.
  using Wider = tn::ReplaceChildAt<LeNet5, 0, tn::Conv2d<8, 5, tn::Padding<2>>>;
  tn::Model<Wider, tn::Shape<1, 28, 28>> wider(1);
  BOOST_TEST(wider.parameters().front().name() == "0.weight");
  BOOST_TEST(wider.parameters().front().size() == 8 * 25);
  static_assert(std::is_same_v<tn::Append<LeNet5, tn::ReLU>::child<LeNet5::size>, tn::ReLU>);
}

// ---- feature extraction -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(output_of_named_children) {
  using Net =
      tn::Sequential<tn::Named<"features", tn::Sequential<tn::Conv2d<4, 3>, tn::ReLU,
                                                          tn::Named<"pool", tn::MaxPool2d<2>>>>,
                     tn::Flatten, tn::Named<"fc", tn::Linear<5>>, tn::LogSoftmax>;
  tn::Model<Net, tn::Shape<2, 6, 6>> m(2);
  tn::Tensor<tn::Shape<2, 6, 6>> x(3);
  fill_random(x, 5);
  const auto& y = m.forward(x);

  const auto& fc = m.root().output_of<"fc">();
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(fc)>, tn::Tensor<tn::Shape<5>>>);
  BOOST_TEST(&fc == &m.root().output_of<2>());
  BOOST_TEST(&m.output_of<"fc">() == &fc);
  // y = log_softmax(fc)
  for (int n = 0; n < 3; ++n) {
    double sum = 0;
    for (int k = 0; k < 5; ++k) sum += std::exp(static_cast<double>(fc(n, k)));
    for (int k = 0; k < 5; ++k)
      BOOST_TEST(y(n, k) == fc(n, k) - std::log(sum), boost::test_tools::tolerance(1e-5));
  }

  const auto& features = m.root().output_of<"features">();
  static_assert(
      std::is_same_v<std::remove_cvref_t<decltype(features)>, tn::Tensor<tn::Shape<4, 2, 2>>>);
  const auto& flat = m.root().output_of<1>();
  for (std::int64_t i = 0; i < flat.size(); ++i) BOOST_TEST(flat.data()[i] == features.data()[i]);
  const auto& pool = std::get<0>(m.root().nodes).output_of<"pool">();
  BOOST_TEST(&pool == &features);
}

// ---- thread independence ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(results_do_not_depend_on_the_thread_count) {
#if defined(_OPENMP)
  using Net = tn::Sequential<tn::Conv2d<16, 3, tn::Padding<1>>, tn::BatchNorm2d, tn::ReLU,
                             tn::MaxPool2d<2>, tn::Conv2d<32, 3, tn::Padding<1>, tn::Groups<2>>,
                             tn::ReLU, tn::ConvTranspose2d<8, 2, tn::Stride<2>>,
                             tn::Upsample<2, 2, tn::Bilinear>, tn::AvgPool2d<2>, tn::Dropout<>>;
  using In = tn::Shape<8, 32, 32>;
  auto run = [](int threads) {
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    tn::Model<Net, In> m(4);
    m.requires_input_grad(true);
    tn::Tensor<In> x(3);
    fill_random(x, 6);
    const auto& y = m.forward(x);
    tn::Tensor<tn::output_shape_t<Net, In>> dy(3);
    fill_random(dy, 7);
    m.backward(dy);
    std::vector<float> out(y.data(), y.data() + y.size());
    out.insert(out.end(), m.input_grad().data(), m.input_grad().data() + m.input_grad().size());
    for (const auto& p : m.parameters()) out.insert(out.end(), p.grad().begin(), p.grad().end());
    omp_set_num_threads(saved);
    return out;
  };
  const auto one = run(1);
  const auto two = run(2);
  BOOST_TEST_REQUIRE(one.size() == two.size());
  std::size_t worst = 0;
  double worst_excess = 0;
  for (std::size_t i = 0; i < one.size(); ++i) {
    const double excess = std::abs(one[i] - two[i]) / (1e-5 + 1e-5 * std::abs(one[i]));
    if (excess > worst_excess) {
      worst_excess = excess;
      worst = i;
    }
  }
  BOOST_TEST(worst_excess <= 1.0,
             "element " << worst << ": 1 thread " << one[worst] << ", 2 threads " << two[worst]);
#else
  BOOST_TEST_MESSAGE("built without OpenMP: nothing to compare");
#endif
}

// ---- initialisation -----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(pytorch_default_initialisation) {
  using Net =
      tn::Sequential<tn::Named<"conv", tn::Conv2d<32, 3, tn::Padding<1>>>,
                     tn::Named<"grouped", tn::Conv2d<32, tn::Kernel{3, 5}, tn::Groups<4>>>,
                     tn::Named<"bn", tn::BatchNorm2d>,
                     tn::Named<"up", tn::ConvTranspose2d<16, 4, tn::Stride<2>, tn::Groups<2>>>,
                     tn::Flatten, tn::Named<"fc", tn::Linear<10>>>;
  using In = tn::Shape<3, 8, 8>;
  tn::Model<Net, In> m(42), same(42), other(43);
  // fan_in = in/groups * kh * kw; ConvTranspose2d's is out/groups * kh * kw (weight.size(1)).
  const std::vector<std::pair<std::string, double>> fan_in{
      {"conv.", 3 * 9}, {"grouped.", 8 * 15}, {"up.", 8 * 16}, {"fc.", 16 * 14 * 10}};
  std::size_t checked = 0;
  for (const auto& p : m.parameters()) {
    BOOST_TEST_CONTEXT(p.name()) {
      if (p.name().starts_with("bn.")) {
        const float expected = p.name() == "bn.weight" ? 1.0f : 0.0f;
        for (float v : p.value()) BOOST_TEST(v == expected);
        continue;
      }
      for (const auto& [prefix, fan] : fan_in) {
        if (!p.name().starts_with(prefix)) continue;
        ++checked;
        const double bound = 1.0 / std::sqrt(fan);
        double largest = 0, sum = 0;
        for (float v : p.value()) {
          largest = std::max(largest, static_cast<double>(std::abs(v)));
          sum += v;
        }
        BOOST_TEST(largest <= bound);
        // U(-bound, bound): with this many draws the extremes come close to the bound.
        if (p.size() >= 200) {
          BOOST_TEST(largest >= 0.95 * bound);
          BOOST_TEST(std::abs(sum / static_cast<double>(p.size())) <= 0.1 * bound);
        }
      }
    }
  }
  BOOST_TEST(checked == 8u);  // weight and bias of four layers
  for (const auto& s : m.state()) {
    if (s.name == "bn.running_mean")
      for (int c = 0; c < 32; ++c) BOOST_TEST(static_cast<const float*>(s.data)[c] == 0.0f);
    if (s.name == "bn.running_var")
      for (int c = 0; c < 32; ++c) BOOST_TEST(static_cast<const float*>(s.data)[c] == 1.0f);
    if (s.name == "bn.num_batches_tracked")
      BOOST_TEST(*static_cast<const std::int64_t*>(s.data) == 0);
  }
  // Reproducible from the seed, different across seeds.
  const auto a = m.parameters()[0].value();
  const auto b = same.parameters()[0].value();
  const auto c = other.parameters()[0].value();
  BOOST_TEST(std::equal(a.begin(), a.end(), b.begin()));
  BOOST_TEST(!std::equal(a.begin(), a.end(), c.begin()));
}

// ---- dynamic extents --------------------------------------------------------------------

using DynamicImage = tn::Shape<3, tn::dyn, tn::dyn>;

template <class S>
tn::Tensor<S> ramp(int batch, const tn::extents_t<S>& extents) {
  tn::Tensor<S> x(batch, extents);
  for (std::int64_t i = 0; i < x.size(); ++i)
    x.data()[i] = static_cast<float>((i * 37 % 101) - 50) / 50.f;
  return x;
}

BOOST_AUTO_TEST_CASE(dynamic_shape_types) {
  static_assert(!DynamicImage::is_static && DynamicImage::dynamic_rank == 2);
  static_assert(tn::Shape<3, 4, 5>::is_static && tn::Shape<3, 4, 5>::dynamic_rank == 0);
  static_assert(std::is_same_v<tn::output_shape_t<tn::Conv2d<8, 3, tn::Padding<1>>, DynamicImage>,
                               tn::Shape<8, tn::dyn, tn::dyn>>);
  // One static extent stays static through the layers that keep it.
  static_assert(std::is_same_v<tn::output_shape_t<tn::Conv2d<8, 3>, tn::Shape<3, 7, tn::dyn>>,
                               tn::Shape<8, 5, tn::dyn>>);
  static_assert(std::is_same_v<tn::output_shape_t<ResNetStem, DynamicImage>, tn::Shape<10>>);
  BOOST_TEST(DynamicImage::str() == "Shape<3, dyn, dyn>");
  using AnySize = tn::Model<ResNetStem, DynamicImage>;
  BOOST_TEST(AnySize::summary().find("Shape<64, dyn, dyn>") != std::string::npos);

  tn::Tensor<DynamicImage> x(2, {3, 5, 7});
  BOOST_TEST(x.size() == 2 * 3 * 5 * 7);
  BOOST_TEST(x.extent(2) == 7);
  BOOST_CHECK_THROW(x.resize(2, {4, 5, 7}), tn::shape_error);  // the static extent is 3
  BOOST_CHECK_THROW(x.resize(2, {3, 0, 7}), tn::shape_error);
  BOOST_TEST(x.extent(1) == 5);  // unchanged by the refused resize
}

BOOST_AUTO_TEST_CASE(dynamic_model_equals_static_model_and_shares_parameters) {
  tn::Model<ResNetStem, tn::Shape<3, 37, 53>> fixed(3);
  tn::Model<ResNetStem, DynamicImage> any(fixed);  // same parameters
  BOOST_TEST(any.shared_parameters().get() == fixed.shared_parameters().get());
  fixed.train();
  any.train();
  fixed.requires_input_grad(true);
  any.requires_input_grad(true);

  const auto xs = ramp<tn::Shape<3, 37, 53>>(2, {3, 37, 53});
  const auto xd = ramp<DynamicImage>(2, {3, 37, 53});
  // A forward at another size first: the plan for 37x53 is made on return.
  any.forward(ramp<DynamicImage>(2, {3, 64, 48}));

  const auto ys = fixed.forward(xs);  // copies: both models run below
  const auto& yd = any.forward(xd);
  BOOST_TEST_REQUIRE(yd.size() == ys.size());
  for (std::int64_t i = 0; i < ys.size(); ++i) BOOST_TEST(yd.data()[i] == ys.data()[i]);

  tn::Tensor<tn::Shape<10>> dy(2);
  for (std::int64_t i = 0; i < dy.size(); ++i) dy.data()[i] = 0.1f * static_cast<float>(i % 7);
  fixed.zero_grad();
  fixed.backward(dy);
  std::vector<std::vector<float>> grads;
  for (const auto& p : fixed.parameters())
    grads.emplace_back(p.grad().data(), p.grad().data() + p.size());
  const std::vector<float> dx(fixed.input_grad().data(),
                              fixed.input_grad().data() + fixed.input_grad().size());
  any.zero_grad();
  any.backward(dy);
  for (std::size_t k = 0; k < grads.size(); ++k)
    for (std::int64_t i = 0; i < any.parameters()[k].size(); ++i)
      BOOST_TEST(any.parameters()[k].grad().data()[i] == grads[k][i]);
  BOOST_TEST_REQUIRE(any.input_grad().size() == static_cast<std::int64_t>(dx.size()));
  BOOST_TEST(any.input_grad().extent(1) == 37);
  for (std::size_t i = 0; i < dx.size(); ++i) BOOST_TEST(any.input_grad().data()[i] == dx[i]);
}

BOOST_AUTO_TEST_CASE(dynamic_input_too_small_names_the_layer_and_loses_nothing) {
  using Net = tn::Sequential<tn::Conv2d<4, 5>, tn::Named<"pool", tn::MaxPool2d<2>>,
                             tn::Named<"head", tn::Sequential<tn::ReLU, tn::Conv2d<4, 3>>>>;
  using M = tn::Model<Net, DynamicImage>;
  // 5x5 valid: h - 4; pool: floor((h - 4) / 2); 3x3 valid: floor((h - 4) / 2) - 2 >= 1.
  BOOST_TEST(tn::extents_string(M::min_input_extent()) == "Shape<3, 10, 10>");

  M net(1);
  const auto good = ramp<DynamicImage>(1, {3, 12, 11});
  const std::vector<float> before(net.forward(good).data(),
                                  net.forward(good).data() + net.output().size());
  try {
    net.forward(ramp<DynamicImage>(1, {3, 9, 40}));
    BOOST_FAIL("a 9x40 input must not fit");
  } catch (const tn::shape_error& e) {
    const std::string what = e.what();
    BOOST_TEST(what.find("layer 'head.1' (Conv2d<4, 3>)") != std::string::npos, what);
    BOOST_TEST(what.find("Shape<4, 2, 18>") != std::string::npos, what);  // its input
    BOOST_TEST(what.find("Shape<4, 0, 16>") != std::string::npos, what);  // its output
    BOOST_TEST(what.find("Shape<3, 9, 40>") != std::string::npos, what);
    BOOST_TEST(what.find("smallest input it accepts is Shape<3, 10, 10>") != std::string::npos,
               what);
  }
  // The refused input changed nothing: the last output and plan still stand.
  BOOST_TEST(net.output().extent(1) == 2);  // 12x11: 8x7, 4x3, 2x1
  BOOST_TEST(net.output().extent(2) == 1);
  const auto& again = net.forward(good);
  for (std::size_t i = 0; i < before.size(); ++i) BOOST_TEST(again.data()[i] == before[i]);
  BOOST_CHECK_NO_THROW(net.forward(ramp<DynamicImage>(1, {3, 10, 10})));
  BOOST_CHECK_THROW(net.forward(ramp<DynamicImage>(1, {3, 10, 9})), tn::shape_error);

  // backward wants the gradient of the last output's extents.
  tn::Tensor<tn::Shape<4, tn::dyn, tn::dyn>> dy(1, {4, 2, 2});
  BOOST_CHECK_THROW(net.backward(dy), tn::shape_error);
  dy.resize(1, {4, 1, 1});
  BOOST_CHECK_NO_THROW(net.backward(dy));
}

BOOST_AUTO_TEST_CASE(inference_allocates_no_input_gradients) {
  // Planning sizes outputs only; a backward sizes the input gradients it computes.
  tn::Model<tn::Sequential<tn::Conv2d<4, 3>, tn::ReLU, tn::Conv2d<2, 3>>, DynamicImage> net(1);
  net.eval();
  net.forward(ramp<DynamicImage>(2, {3, 9, 8}));
  const auto& nodes = net.root().nodes;
  BOOST_TEST(std::get<0>(nodes).y.size() == 2 * 4 * 7 * 6);
  BOOST_TEST(std::get<0>(nodes).dx.size() == 0);
  BOOST_TEST(std::get<1>(nodes).dx.size() == 0);
  tn::Tensor<tn::Shape<2, tn::dyn, tn::dyn>> dy(2, {2, 5, 4});
  dy.fill(1.0f);
  net.backward(dy);  // no input gradient wanted: the first child's stays empty
  BOOST_TEST(std::get<0>(nodes).dx.size() == 0);
  BOOST_TEST(std::get<1>(nodes).dx.size() == 2 * 4 * 7 * 6);
  net.requires_input_grad(true);
  net.backward(dy);
  BOOST_TEST(net.input_grad().size() == 2 * 3 * 9 * 8);
}

BOOST_AUTO_TEST_CASE(dynamic_residual_branches_must_agree_at_run_time) {
  // Stride 2: the 2x2 body gives floor(h / 2), the 1x1 shortcut ceil(h / 2),
  // equal for even h only.
  using Block = tn::Residual<tn::Conv2d<4, 2, tn::Stride<2>>,
                             tn::Named<"downsample", tn::Conv2d<4, 1, tn::Stride<2>>>>;
  using M = tn::Model<tn::Sequential<Block>, DynamicImage>;
  BOOST_TEST(tn::extents_string(M::min_input_extent()) == "Shape<3, 2, 2>");
  M net;
  BOOST_CHECK_NO_THROW(net.forward(ramp<DynamicImage>(1, {3, 8, 6})));
  try {
    net.forward(ramp<DynamicImage>(1, {3, 9, 6}));
    BOOST_FAIL("branches of 4 and 5 rows must not be added");
  } catch (const tn::shape_error& e) {
    const std::string what = e.what();
    BOOST_TEST(what.find("layer '0' (Residual<") != std::string::npos, what);
    BOOST_TEST(what.find("its body gives Shape<4, 4, 3> but its shortcut Shape<4, 5, 3>") !=
                   std::string::npos,
               what);
  }
}

// ---- merges and reaching back by name ------------------------------------------------------

BOOST_AUTO_TEST_CASE(unet_keys_summary_output_of_and_freeze) {
  using Net = tn::models::UNet<3, 4>;
  tn::Model<Net, tn::Shape<1, 32, 32>> net(3);
  std::vector<std::string> names;
  for (const auto& p : net.parameters()) names.push_back(p.name());
  // milesial/Pytorch-UNet's keys, in its definition order.
  BOOST_TEST(names.front() == "inc.double_conv.0.weight");
  BOOST_TEST(std::count(names.begin(), names.end(), "down1.maxpool_conv.1.double_conv.0.weight") ==
             1);
  BOOST_TEST(std::count(names.begin(), names.end(), "up1.up.weight") == 1);
  BOOST_TEST(std::count(names.begin(), names.end(), "up1.up.bias") == 1);
  BOOST_TEST(std::count(names.begin(), names.end(), "up1.conv.double_conv.4.bias") == 1);
  BOOST_TEST(names.back() == "outc.conv.bias");
  const auto& state = net.state();
  BOOST_TEST(std::count_if(state.begin(), state.end(), [](const tn::StateRef& r) {
               return r.name == "up4.conv.double_conv.1.num_batches_tracked";
             }) == 1);

  // summary() lists the merge and its branches under their keys.
  const std::string table = net.summary();
  BOOST_TEST(table.find("up1.1") != std::string::npos, table);
  BOOST_TEST(table.find("Concat<2 branches>") != std::string::npos, table);
  BOOST_TEST(table.find("up1.1.0") != std::string::npos, table);
  BOOST_TEST(table.find("From<\"down3\">") != std::string::npos, table);
  BOOST_TEST(table.find("PadLike<\"down3\">") != std::string::npos, table);

  // output_of follows keys into the blocks and the branches.
  tn::Tensor<tn::Shape<1, 32, 32>> x(2);
  for (std::int64_t i = 0; i < x.size(); ++i) x.data()[i] = std::sin(0.1f * float(i));
  net.forward(x);
  const auto& down3 = net.output_of<"down3">();
  const auto& skip = net.root().output_of<"up1.1.0">();  // From<"down3"> yields that very tensor
  BOOST_TEST(&skip == &down3);
  BOOST_TEST(net.root().output_of<"up1.1">().extent(0) == 64);  // 32 + 32 channels
  BOOST_TEST(net.root().output_of<"up1.conv.double_conv.5">().extent(1) == 4);
  BOOST_TEST(net.root().output_of<"down1.maxpool_conv.0">().extent(1) == 16);

  // freeze by prefix inside the blocks: the encoder stops learning.
  net.freeze("down");
  for (const auto& p : net.parameters())
    BOOST_TEST(p.requires_grad() == !p.name().starts_with("down"), p.name());
  net.unfreeze();
}

BOOST_AUTO_TEST_CASE(a_skip_adds_the_gradients_of_every_reader) {
  // y = a + a + a with a = conv(x): reading "a" twice more triples its gradient.
  using Conv = tn::Conv2d<2, 1, tn::NoBias>;
  using Net = tn::Sequential<tn::Named<"a", Conv>, tn::Sum<tn::From<"a">, tn::Identity>,
                             tn::Sum<tn::From<"a">, tn::Identity>>;
  tn::Model<Net, tn::Shape<2, 3, 3>> net(1);
  tn::Model<tn::Sequential<Conv>, tn::Shape<2, 3, 3>> plain(1);
  std::copy_n(net.parameters()[0].value().data(), 4, plain.parameters()[0].value().data());
  net.requires_input_grad(true);
  plain.requires_input_grad(true);
  tn::Tensor<tn::Shape<2, 3, 3>> x(2);
  for (std::int64_t i = 0; i < x.size(); ++i) x.data()[i] = 0.1f * float(i % 7) - 0.3f;
  const auto& y = net.forward(x);
  const auto& a = plain.forward(x);
  for (std::int64_t i = 0; i < y.size(); ++i)
    BOOST_TEST(std::abs(y.data()[i] - 3 * a.data()[i]) <= 1e-6f);
  tn::Tensor<tn::Shape<2, 3, 3>> dy(2);
  for (std::int64_t i = 0; i < dy.size(); ++i) dy.data()[i] = 0.05f * float(i % 5);
  net.zero_grad();
  plain.zero_grad();
  net.backward(dy);
  plain.backward(dy);
  const auto& gw = net.parameters()[0];
  const auto& pw = plain.parameters()[0];
  for (std::int64_t i = 0; i < gw.size(); ++i)
    BOOST_TEST(std::abs(gw.grad()[i] - 3 * pw.grad()[i]) <= 1e-5f * std::abs(3 * pw.grad()[i]));
  for (std::int64_t i = 0; i < x.size(); ++i)
    BOOST_TEST(std::abs(net.input_grad().data()[i] - 3 * plain.input_grad().data()[i]) <= 1e-6f);
}

BOOST_AUTO_TEST_CASE(dynamic_concat_branches_must_agree_at_run_time) {
  // Stride 2: the 2x2 branch gives floor(h / 2), the 1x1 one ceil(h / 2),
  // equal for even h only.
  using Net = tn::Sequential<
      tn::Named<"join", tn::Concat<tn::Conv2d<2, 2, tn::Stride<2>>,
                                   tn::Named<"pointwise", tn::Conv2d<3, 1, tn::Stride<2>>>>>>;
  using M = tn::Model<Net, DynamicImage>;
  M net;
  BOOST_CHECK_NO_THROW(net.forward(ramp<DynamicImage>(1, {3, 8, 6})));
  BOOST_TEST(net.output().extent(0) == 5);
  try {
    net.forward(ramp<DynamicImage>(1, {3, 9, 6}));
    BOOST_FAIL("branches of 4 and 5 rows must not be concatenated");
  } catch (const tn::shape_error& e) {
    const std::string what = e.what();
    BOOST_TEST(what.find("layer 'join' (Concat<") != std::string::npos, what);
    BOOST_TEST(what.find("its branch '0' gives Shape<2, 4, 3> but its branch 'pointwise' gives "
                         "Shape<3, 5, 3>") != std::string::npos,
               what);
  }
  BOOST_TEST(net.output().extent(1) == 4);  // the refused input changed nothing
}

BOOST_AUTO_TEST_CASE(heads_return_one_tensor_per_output) {
  using Trunk = tn::Sequential<tn::Conv2d<4, 3, tn::Padding<1>>, tn::ReLU>;
  using Net = tn::Sequential<
      tn::Named<"trunk", Trunk>,
      tn::Named<"heads", tn::Heads<tn::Named<"cls", tn::Sequential<tn::Flatten, tn::Linear<3>>>,
                                   tn::Named<"seg", tn::Conv2d<2, 1>>>>>;
  tn::Model<Net, tn::Shape<3, 4, 4>> net(5);
  static_assert(
      std::is_same_v<decltype(net)::output_shape, tn::Outputs<tn::Shape<3>, tn::Shape<2, 4, 4>>>);
  std::vector<std::string> names;
  for (const auto& p : net.parameters()) names.push_back(p.name());
  BOOST_TEST(
      names == (std::vector<std::string>{"trunk.0.weight", "trunk.0.bias", "heads.cls.1.weight",
                                         "heads.cls.1.bias", "heads.seg.weight", "heads.seg.bias"}),
      boost::test_tools::per_element());
  BOOST_TEST(net.summary().find("Outputs<Shape<3>, Shape<2, 4, 4>>") != std::string::npos);

  tn::Tensor<tn::Shape<3, 4, 4>> x(2);
  for (std::int64_t i = 0; i < x.size(); ++i) x.data()[i] = std::cos(0.3f * float(i));
  const auto& [cls, seg] = net.forward(x);
  BOOST_TEST(cls.batch() == 2);
  BOOST_TEST(seg.extent(0) == 2);
  BOOST_TEST(&seg == &net.root().output_of<"heads.seg">());

  // One gradient per head; backward equals the two heads' backward summed in the trunk.
  tn::Tensor<tn::Shape<3>> dcls(2);
  tn::Tensor<tn::Shape<2, 4, 4>> dseg(2);
  dcls.fill(1.0f);
  dseg.fill(0.0f);
  net.requires_input_grad(true);
  net.zero_grad();
  net.backward(dcls, dseg);
  const std::vector<float> only_cls(net.input_grad().data(),
                                    net.input_grad().data() + net.input_grad().size());
  dcls.fill(0.0f);
  dseg.fill(1.0f);
  net.backward(dcls, dseg);
  const std::vector<float> only_seg(net.input_grad().data(),
                                    net.input_grad().data() + net.input_grad().size());
  dcls.fill(1.0f);
  net.backward(dcls, dseg);
  for (std::size_t i = 0; i < only_cls.size(); ++i)
    BOOST_TEST(std::abs(net.input_grad().data()[i] - (only_cls[i] + only_seg[i])) <= 1e-5f);

  // A gradient of another batch is refused before any work.
  tn::Tensor<tn::Shape<2, 4, 4>> wrong(3);
  BOOST_CHECK_THROW(net.backward(dcls, wrong), tn::shape_error);
}

BOOST_AUTO_TEST_CASE(unet_takes_any_size_of_at_least_16) {
  using M = tn::Model<tn::models::UNet<2, 4>, DynamicImage>;
  BOOST_TEST(tn::extents_string(M::min_input_extent()) == "Shape<3, 16, 16>");
  M net(2);
  net.eval();
  const auto& y = net.forward(ramp<DynamicImage>(1, {3, 21, 37}));
  BOOST_TEST(y.extent(1) == 21);  // padded back to the input size on the way up
  BOOST_TEST(y.extent(2) == 37);
  BOOST_CHECK_THROW(net.forward(ramp<DynamicImage>(1, {3, 15, 40})), tn::shape_error);
}

BOOST_AUTO_TEST_SUITE_END()
