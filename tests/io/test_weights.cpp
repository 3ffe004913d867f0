// Loading and saving weights: safetensors and PyTorch files against PyTorch 1.13.
//
// tools/make_weight_fixtures.py writes torchvision models with random weights
// (and random BatchNorm statistics) in every format users bring, with an
// input batch and PyTorch's eval-mode output. Each test loads a file into the
// zoo model of the same name and compares outputs (DESIGN.md §4b forward
// tolerances). Bad files and mismatches must throw with specific messages
// and leave the model untouched.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <numeric>
#include <random>
#include <string>

#include <typenet/io.hpp>
#include <typenet/metrics.hpp>  // predict_top_k: a loaded classifier's answer
#include <typenet/nn.hpp>
#include <typenet/vision.hpp>  // normalize_imagenet: a photo as torchvision feeds it
#include <vector>

#include "fixtures.hpp"
#include "peak_memory.hpp"

namespace tn = typenet;
using namespace typenet_test;

namespace {

std::string weights_dir() {
  return fixture_directory() + "/weights/";
}

std::filesystem::path scratch_dir() {
  auto dir =
      std::filesystem::temp_directory_path() / ("typenet_weights_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

/// Loads `file` into a fresh model of Net and compares its eval output on the
/// fixture's input with PyTorch's.
template <class Net, class In>
void check_model_outputs(const std::string& file, std::initializer_list<std::string> io_cases,
                         const tn::load_options& options = {}) {
  tn::Model<Net, In> model;
  const auto report = tn::load_weights(model, weights_dir() + file, options);
  BOOST_TEST(!report.loaded.empty());
  model.eval();
  for (const auto& io_case : io_cases) {
    BOOST_TEST_CONTEXT(io_case) {
      const Fixture io = Fixture::read_file(weights_dir() + io_case + ".tnfx");
      const auto x = tensor_from_fixture<In>(io.at("input"));
      const auto& y = model.forward(x);
      // A whole network sums rounding errors over many layers: for ResNet-34
      // PyTorch's own float32 output differs from its float64 output by 5.5e-5
      // at a largest logit of 201. So the absolute tolerance grows with the
      // output's scale (1e-6 of its largest magnitude) on top of §4b's.
      const auto& expected = io.at("output");
      double largest = 0;
      for (std::int64_t i = 0; i < expected.numel(); ++i)
        largest = std::max(largest, std::abs(expected.at(i)));
      const Tolerance whole_network{forward_tolerance.rtol,
                                    forward_tolerance.atol + 1e-6 * largest};
      BOOST_TEST(check_close(file + " output", y, expected, whole_network));
    }
  }
}

template <class Net, class In>
void check_model_output(const std::string& file, const std::string& io_case,
                        const tn::load_options& options = {}) {
  check_model_outputs<Net, In>(file, {io_case}, options);
}

std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// A safetensors file from a header text and a data size (zero bytes).
std::vector<char> safetensors_bytes(const std::string& header, std::size_t data_bytes,
                                    std::uint64_t claimed_header_size = 0) {
  std::vector<char> out(8 + header.size() + data_bytes, 0);
  const std::uint64_t n = claimed_header_size ? claimed_header_size : header.size();
  for (std::size_t i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  std::memcpy(out.data() + 8, header.data(), header.size());
  return out;
}

template <class Fn>
void expect_error(const std::string& what, const std::string& substring, Fn&& fn) {
  try {
    fn();
    BOOST_ERROR(what << ": no exception");
  } catch (const tn::error& e) {
    const std::string message = e.what();
    BOOST_TEST(message.find(substring) != std::string::npos,
               what << ": message lacks '" << substring << "': " << message);
  }
}

using Lenet = tn::models::LeNet5<>;
using LenetIn = tn::Shape<1, 28, 28>;

}  // namespace

BOOST_AUTO_TEST_SUITE(weights)

BOOST_AUTO_TEST_CASE(safetensors_round_trip_is_bit_exact) {
  tn::Model<tn::models::ColorizationNet, tn::Shape<1, 32, 32>> a(1), b(2);
  // Make the buffers non-trivial: a training forward updates the running statistics.
  tn::Tensor<tn::Shape<1, 32, 32>> x(2);
  for (std::int64_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(std::sin(i * 0.37));
  a.forward(x);
  const auto path = (scratch_dir() / "colorizer.safetensors").string();
  tn::save_weights(a, path);
  const auto report = tn::load_weights(b, path);
  BOOST_TEST(report.loaded.size() == a.state().size());
  BOOST_TEST(report.missing.empty());
  BOOST_TEST(report.unexpected.empty());
  const auto sa = a.state(), sb = b.state();
  for (std::size_t i = 0; i < sa.size(); ++i) {
    const std::size_t bytes =
        static_cast<std::size_t>(sa[i].size) * (sa[i].type == tn::dtype::i64 ? 8 : 4);
    BOOST_TEST(std::memcmp(sa[i].data, sb[i].data, bytes) == 0, sa[i].name);
  }
}

BOOST_AUTO_TEST_CASE(saved_files_carry_the_network_and_version) {
  tn::Model<Lenet, LenetIn> a(1);
  const auto path = (scratch_dir() / "lenet.safetensors").string();
  tn::save_weights(a, path);
  const auto file = tn::io::read_safetensors(path);
  BOOST_TEST(file.metadata.at("typenet.network") == Lenet::type_name());
  BOOST_TEST(file.metadata.at("typenet.version") == TYPENET_VERSION_STRING);
  tn::Model<tn::models::LeNet5<7>, LenetIn> other;
  expect_error("other architecture", "was saved from another network",
               [&] { tn::load_weights(other, path); });
}

// The zoo's models are named types (nn/nominal.hpp); files saved when they
// were aliases carry the spelled-out Sequential as their network, and load.
BOOST_AUTO_TEST_CASE(files_named_by_the_structural_type_still_load) {
  using Net = tn::models::ColorizationNet;
  BOOST_TEST(Net::type_name() == "models::ColorizationNet");
  BOOST_TEST(tn::models::ResNet18<7>::type_name() == "models::ResNet18<7>");
  const std::string structural = tn::structural_type_name<Net>();
  BOOST_TEST(structural.starts_with(
      "Sequential<Named<\"midlevel_resnet\", FirstChildren<6, Sequential<Named<\"conv1\", "
      "Conv2d<64, 7, Stride<2>, Padding<3>, NoBias>>"));
  BOOST_TEST(structural.find("models::") == std::string::npos);

  tn::Model<Net, tn::Shape<1, 32, 32>> a(1), b(2);
  const auto state = a.state();
  std::vector<tn::io::tensor_to_write> tensors;
  for (const auto& e : state)
    tensors.push_back({e.name,
                       e.type,
                       std::vector<std::int64_t>(e.shape.begin(), e.shape.end()),
                       {static_cast<const std::byte*>(e.data),
                        static_cast<std::size_t>(e.size) * tn::dtype_size(e.type)}});
  const auto path = (scratch_dir() / "colorizer-structural.safetensors").string();
  tn::io::write_safetensors(path, tensors, {{"typenet.network", structural}});
  tn::load_weights(b, path);
  const auto sa = a.state(), sb = b.state();
  for (std::size_t i = 0; i < sa.size(); ++i)
    BOOST_TEST(std::memcmp(sa[i].data, sb[i].data,
                           static_cast<std::size_t>(sa[i].size) * tn::dtype_size(sa[i].type)) == 0,
               sa[i].name);

  // Another network's structural name is still another network.
  tn::io::write_safetensors(
      path, tensors,
      {{"typenet.network", tn::structural_type_name<tn::models::ColorizationNetTransposed>()}});
  expect_error("other structural name", "was saved from another network",
               [&] { tn::load_weights(b, path); });
}

BOOST_AUTO_TEST_CASE(torchvision_resnet18_from_safetensors) {
  check_model_output<tn::models::ResNet18<>, tn::Shape<3, 224, 224>>("resnet18.safetensors",
                                                                     "resnet18_io");
}

BOOST_AUTO_TEST_CASE(torchvision_resnet18_from_torch_save_zip_and_legacy) {
  check_model_output<tn::models::ResNet18<>, tn::Shape<3, 224, 224>>("resnet18.pth", "resnet18_io");
  check_model_output<tn::models::ResNet18<>, tn::Shape<3, 224, 224>>("resnet18_legacy.pth",
                                                                     "resnet18_io");
}

BOOST_AUTO_TEST_CASE(torchvision_resnet34_alexnet_vgg16) {
  check_model_output<tn::models::ResNet34<>, tn::Shape<3, 224, 224>>("resnet34.pth", "resnet34_io");
  check_model_output<tn::models::AlexNet<>, tn::Shape<3, 224, 224>>("alexnet_legacy.pth",
                                                                    "alexnet_io");
  check_model_output<tn::models::VGG16<>, tn::Shape<3, 224, 224>>("vgg16_legacy.pth", "vgg16_io");
}

// One model of Shape<3, dyn, dyn> loads the checkpoint once and classifies
// images of any size at or above the network's minimum, as torchvision does.
BOOST_AUTO_TEST_CASE(torchvision_classifiers_at_any_size) {
  check_model_outputs<tn::models::ResNet18<>, tn::Shape<3, tn::dyn, tn::dyn>>(
      "resnet18.safetensors",
      {"resnet18_io_97x131", "resnet18_io_225x301", "resnet18_io_64x333", "resnet18_io"});
  check_model_outputs<tn::models::AlexNet<>, tn::Shape<3, tn::dyn, tn::dyn>>(
      "alexnet_legacy.pth", {"alexnet_io_97x131", "alexnet_io"});
  check_model_outputs<tn::models::VGG16<>, tn::Shape<3, tn::dyn, tn::dyn>>("vgg16_legacy.pth",
                                                                           {"vgg16_io_65x97"});
  using AnySize = tn::Model<tn::models::AlexNet<>, tn::Shape<3, tn::dyn, tn::dyn>>;
  BOOST_TEST(tn::extents_string(AnySize::min_input_extent()) == "Shape<3, 63, 63>");
}

// milesial/Pytorch-UNet's keys (tools/unet.py saved the checkpoint): strict
// load, then the same logits at 64x64 and, with dynamic extents, at 97x131.
BOOST_AUTO_TEST_CASE(unet_checkpoint_loads_strictly) {
  check_model_outputs<tn::models::UNet<2, 16>, tn::Shape<3, 64, 64>>("unet.pth", {"unet_io"});
  check_model_outputs<tn::models::UNet<2, 16>, tn::Shape<3, tn::dyn, tn::dyn>>(
      "unet.pth", {"unet_io_97x131", "unet_io"});
}

BOOST_AUTO_TEST_CASE(lecture_colorization_net_loads_strictly) {
  check_model_output<tn::models::ColorizationNet, tn::Shape<1, 64, 64>>("colorization.pth",
                                                                        "colorization_io");
}

BOOST_AUTO_TEST_CASE(wrapped_data_parallel_checkpoint_with_a_new_head) {
  // {"state_dict": {"module.conv1.weight": ...}, "epoch": 3}: the transfer-learning
  // case of a ResNet-34 trained elsewhere, loaded under a new 2-class head.
  tn::Model<tn::models::ResNet34<2>, tn::Shape<3, 64, 64>> model;
  expect_error("no key", "", [&] {
    tn::load_weights(model, weights_dir() + "resnet34_wrapped.pth", {.skip = {"fc."}});
  });
  const auto report = tn::load_weights(
      model, weights_dir() + "resnet34_wrapped.pth",
      {.skip = {"fc."}, .strip_prefix = "module.", .state_dict_key = "state_dict"});
  BOOST_TEST(report.loaded.size() == model.state().size() - 2);
  BOOST_TEST(report.missing.empty());
  BOOST_TEST(report.unexpected.empty());
  const auto automatic =
      tn::load_weights(model, weights_dir() + "resnet34_wrapped.pth",
                       {.skip = {"fc."}, .strip_prefix = "module.", .state_dict_key = "*"});
  BOOST_TEST(automatic.loaded == report.loaded);
}

BOOST_AUTO_TEST_CASE(predict_top_k_matches_pytorch_ranking) {
  tn::Model<tn::models::ResNet18<>, tn::Shape<3, 224, 224>> model;
  tn::load_weights(model, weights_dir() + "resnet18.safetensors");
  model.train();
  const Fixture io = Fixture::read_file(weights_dir() + "resnet18_io.tnfx");
  const auto x = tensor_from_fixture<tn::Shape<3, 224, 224>>(io.at("input"));
  const auto best = tn::predict_top_k(model, x, 5);
  BOOST_TEST(model.is_training());  // predict restores the mode
  const auto& expected = io.at("output");
  BOOST_TEST_REQUIRE(best.size() == 2u);
  for (std::size_t n = 0; n < best.size(); ++n) {
    std::vector<int> order(1000);
    std::iota(order.begin(), order.end(), 0);
    const auto logit = [&](int c) { return expected.at(static_cast<std::int64_t>(n) * 1000 + c); };
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return logit(a) > logit(b); });
    double sum = 0;
    for (int c = 0; c < 1000; ++c) sum += std::exp(logit(c) - logit(order[0]));
    for (int i = 0; i < 5; ++i) {
      BOOST_TEST(best[n][static_cast<std::size_t>(i)].index == order[static_cast<std::size_t>(i)]);
      const double p = std::exp(logit(order[static_cast<std::size_t>(i)]) - logit(order[0])) / sum;
      BOOST_TEST(std::abs(best[n][static_cast<std::size_t>(i)].probability - p) <= 1e-4 * p + 1e-6);
    }
  }
  tn::Tensor<tn::Shape<3, 2, 2>> image(1);
  image.fill(0.5f);
  tn::normalize_imagenet(image);
  BOOST_TEST(std::abs(image(0, 0, 1, 1) - (0.5f - 0.485f) / 0.229f) < 1e-6f);
  BOOST_TEST(std::abs(image(0, 2, 0, 1) - (0.5f - 0.406f) / 0.225f) < 1e-6f);
}

BOOST_AUTO_TEST_CASE(grayscale_trunk_from_a_full_checkpoint) {
  // FirstChildren keys are "0.weight", "4.0.conv1.weight"; the file has
  // torchvision's names. conv1 is summed over its RGB input channels.
  check_model_output<tn::FirstChildren<6, tn::models::ResNet18<>>, tn::Shape<1, 64, 64>>(
      "resnet18.safetensors", "trunk_io",
      {.strict = false, .transforms = {{"conv1.weight", tn::sum_input_channels}}});
}

BOOST_AUTO_TEST_CASE(shape_mismatch_names_the_key_and_both_shapes_and_changes_nothing) {
  tn::Model<tn::models::ResNet18<10>, tn::Shape<3, 64, 64>> model(3);
  const auto before = std::vector<float>(model.parameters().back().value().begin(),
                                         model.parameters().back().value().end());
  const auto conv1_before = model.parameters().front().value()[0];
  expect_error("fc shape",
               "key 'fc.weight': the model expects F32 [10, 512], the file has F32 [1000, 512]",
               [&] { tn::load_weights(model, weights_dir() + "resnet18.safetensors"); });
  BOOST_TEST(model.parameters().front().value()[0] == conv1_before);
  BOOST_TEST(std::equal(before.begin(), before.end(), model.parameters().back().value().begin()));
  // Skipping the head excuses it on both sides; the rest loads strictly.
  const auto report =
      tn::load_weights(model, weights_dir() + "resnet18.safetensors", {.skip = {"fc."}});
  BOOST_TEST(report.skipped.size() == 4u);  // fc.weight, fc.bias in the file and in the model
  BOOST_TEST(report.missing.empty());
  BOOST_TEST(model.parameters().front().value()[0] != conv1_before);
}

BOOST_AUTO_TEST_CASE(missing_and_unexpected_keys) {
  tn::Model<tn::FirstChildren<6, tn::models::ResNet18<>>, tn::Shape<3, 64, 64>> trunk;
  expect_error("strict partial",
               "62 keys of the file match no key of the model: 'layer3.0.conv1.weight'",
               [&] { tn::load_weights(trunk, weights_dir() + "resnet18.safetensors"); });
  const auto report =
      tn::load_weights(trunk, weights_dir() + "resnet18.safetensors", {.strict = false});
  BOOST_TEST(report.loaded.size() == 60u);
  BOOST_TEST(report.unexpected.size() == 62u);  // layer3, layer4, fc
  tn::Model<tn::models::ResNet18<>, tn::Shape<3, 64, 64>> full;
  const auto path = (scratch_dir() / "trunk.safetensors").string();
  tn::save_weights(trunk, path);
  // Positional keys do not map back to torchvision's names: a trunk's file
  // does not fill a full network.
  expect_error("missing",
               "122 keys of the model are missing from the file: 'conv1.weight' [64, 3, 7, 7]",
               [&] { tn::load_weights(full, path, {.check_architecture = false}); });
  expect_error("unexpected",
               "60 keys of the file match no key of the model: '0.weight', '1.weight'",
               [&] { tn::load_weights(full, path, {.check_architecture = false}); });
}

BOOST_AUTO_TEST_CASE(prefixes) {
  tn::Model<tn::models::ColorizationNet, tn::Shape<1, 64, 64>> colorizer;
  const auto report =
      tn::load_weights(colorizer, weights_dir() + "resnet18.safetensors",
                       {.strict = false,
                        .add_prefix = "midlevel_resnet.",
                        .transforms = {{"midlevel_resnet.0.weight", tn::sum_input_channels}}});
  BOOST_TEST(report.loaded.size() == 60u);
  BOOST_TEST(report.missing.size() == 30u);  // the decoder
  tn::Model<Lenet, LenetIn> a(4), b(5);
  const auto path = (scratch_dir() / "lenet_module.safetensors").string();
  tn::save_weights(a, path);
  tn::Model<tn::Sequential<tn::Named<"module", Lenet>>, LenetIn> wrapped(6);
  tn::load_weights(wrapped, path, {.add_prefix = "module.", .check_architecture = false});
  BOOST_TEST(wrapped.parameters()[0].value()[3] == a.parameters()[0].value()[3]);
  const auto path2 = (scratch_dir() / "lenet_wrapped.safetensors").string();
  tn::save_weights(wrapped, path2);
  tn::load_weights(b, path2, {.strip_prefix = "module.", .check_architecture = false});
  BOOST_TEST(b.parameters()[2].value()[5] == a.parameters()[2].value()[5]);
}

BOOST_AUTO_TEST_CASE(half_and_double_files_are_converted) {
  tn::Model<tn::Sequential<tn::Linear<3>>, tn::Shape<2>> model;
  const auto dir = scratch_dir();
  // weight [3, 2] in F16 (1.5, -2, 0.25, 65504, 2^-24, 0) and bias [3] in F64.
  const std::uint16_t half[6] = {0x3e00, 0xc000, 0x3400, 0x7bff, 0x0001, 0x0000};
  const double bias[3] = {0.1, -0.2, 0.3};
  const std::string header = R"({"0.weight":{"dtype":"F16","shape":[3,2],"data_offsets":[0,12]},)"
                             R"("0.bias":{"dtype":"F64","shape":[3],"data_offsets":[16,40]},)"
                             R"("pad":{"dtype":"U8","shape":[4],"data_offsets":[12,16]}})";
  auto bytes = safetensors_bytes(header, 40);
  std::memcpy(bytes.data() + 8 + header.size(), half, 12);
  std::memcpy(bytes.data() + 8 + header.size() + 16, bias, 24);
  write_bytes((dir / "mixed.safetensors").string(), bytes);
  const auto report =
      tn::load_weights(model, (dir / "mixed.safetensors").string(), {.strict = false});
  BOOST_TEST(report.unexpected == std::vector<std::string>{"pad"});
  const auto w = model.parameters()[0].value();
  BOOST_TEST(w[0] == 1.5f);
  BOOST_TEST(w[1] == -2.f);
  BOOST_TEST(w[2] == 0.25f);
  BOOST_TEST(w[3] == 65504.f);
  BOOST_TEST(w[4] == std::ldexp(1.f, -24));
  BOOST_TEST(model.parameters()[1].value()[1] == -0.2f);
}

BOOST_AUTO_TEST_CASE(malformed_safetensors_files_throw_specific_errors) {
  const auto dir = scratch_dir();
  tn::Model<tn::Sequential<tn::Linear<3>>, tn::Shape<2>> model;
  const std::string good = R"({"0.weight":{"dtype":"F32","shape":[3,2],"data_offsets":[0,24]},)"
                           R"("0.bias":{"dtype":"F32","shape":[3],"data_offsets":[24,36]}})";
  struct bad_case {
    const char* name;
    std::vector<char> bytes;
    const char* expected;
  };
  const std::vector<bad_case> cases = {
      {"empty", {}, "too short for a safetensors file"},
      {"header_beyond_file", safetensors_bytes(good, 36, 1'000'000),
       "runs past the end of the file"},
      {"huge_header", safetensors_bytes(good, 36, std::uint64_t{1} << 40),
       "exceeds the limit of 100000000 (safetensors_limits::max_header_bytes raises it)"},
      {"not_json", safetensors_bytes("{\"a\": [1, 2", 0), "not valid JSON"},
      {"not_object", safetensors_bytes("[1, 2, 3]", 0), "not a JSON object"},
      {"unknown_dtype",
       safetensors_bytes(R"({"0.weight":{"dtype":"F8","shape":[3,2],"data_offsets":[0,6]}})", 6),
       "unknown dtype \"F8\""},
      {"size_mismatch",
       safetensors_bytes(R"({"0.weight":{"dtype":"F32","shape":[3,2],"data_offsets":[0,20]}})", 20),
       "span 20 bytes but F32 [3,2] needs 24"},
      {"outside",
       safetensors_bytes(R"({"0.weight":{"dtype":"F32","shape":[3,2],"data_offsets":[0,24]}})", 12),
       "lie outside the 12 data bytes"},
      {"overlap",
       safetensors_bytes(
           R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
           12),
       "overlaps the previous tensor"},
      {"gap", safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12),
       "a gap of 4 bytes"},
      {"trailing", safetensors_bytes(good, 40), "4 data bytes after the last tensor"},
      {"negative_shape",
       safetensors_bytes(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8),
       "non-integer or negative size"},
      {"missing_fields", safetensors_bytes(R"({"a":{"dtype":"F32"}})", 0),
       "needs dtype, shape and data_offsets"},
      {"bad_metadata", safetensors_bytes(R"({"__metadata__":{"a":1}})", 0), "is not a string"},
  };
  for (const auto& c : cases) {
    const auto path = (dir / (std::string(c.name) + ".safetensors")).string();
    write_bytes(path, c.bytes);
    expect_error(c.name, c.expected, [&] { tn::load_weights(model, path); });
  }
}

BOOST_AUTO_TEST_CASE(truncated_files_throw_and_never_crash) {
  const auto bytes = read_bytes(weights_dir() + "resnet18.safetensors");
  BOOST_TEST_REQUIRE(bytes.size() > 1000u);
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<std::size_t> where(0, bytes.size() - 1);
  tn::Model<tn::models::ResNet18<>, tn::Shape<3, 32, 32>> model;
  const auto path = (scratch_dir() / "truncated.safetensors").string();
  std::vector<std::size_t> cuts = {0, 1, 7, 8, 9, 100, bytes.size() - 1};
  for (int i = 0; i < 12; ++i) cuts.push_back(where(rng));
  for (const std::size_t cut : cuts) {
    write_bytes(path,
                std::vector<char>(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut)));
    BOOST_CHECK_THROW(tn::load_weights(model, path), tn::format_error);
  }
}

BOOST_AUTO_TEST_CASE(typenet_files_load_in_pytorch) {
  // PyTorch reads the file (tools/make_weight_fixtures.py --check) into
  // torchvision's resnet18 with strict=True and prints the output's sum.
  tn::Model<tn::models::ResNet18<>, tn::Shape<3, 64, 64>> model(9);
  model.eval();
  const auto path = (scratch_dir() / "resnet18_typenet.safetensors").string();
  tn::save_weights(model, path);
  tn::Tensor<tn::Shape<3, 64, 64>> x(1);
  for (std::int64_t i = 0; i < x.size(); ++i)
    x.data()[i] = -1.f + 2.f * static_cast<float>(i) / static_cast<float>(x.size() - 1);
  double sum = 0;
  for (float v : model.forward(x).values()) sum += v;
  const std::string command = "/usr/bin/python3 " TYPENET_SOURCE_DIR
                              "/tools/make_weight_fixtures.py --check " +
                              path + " resnet18";
  FILE* pipe = ::popen(command.c_str(), "r");
  BOOST_TEST_REQUIRE(pipe != nullptr);
  char line[256] = {};
  const bool got = std::fgets(line, sizeof line, pipe) != nullptr;
  const int status = ::pclose(pipe);
  BOOST_TEST_REQUIRE(got);
  BOOST_TEST_REQUIRE(status == 0);
  BOOST_TEST(std::string(line).rfind("True ", 0) == 0u, "metadata not seen by python: " << line);
  const double torch_sum = std::stod(std::string(line).substr(5));
  BOOST_TEST(std::abs(torch_sum - sum) <= 1e-4 * (1 + std::abs(torch_sum)),
             "typenet " << sum << " torch " << torch_sum);
}

BOOST_AUTO_TEST_CASE(deeply_nested_json_is_refused_before_a_tree_is_built) {
  // 60,000 nested arrays used to overflow the stack in every loader.
  const auto path = weights_dir() + "hostile/deep_json.safetensors";
  tn::Model<tn::Sequential<tn::Linear<3>>, tn::Shape<2>> model;
  const auto before = model.parameters()[0].value();
  const std::vector<float> weights(before.begin(), before.end());
  const auto run = typenet_test::peak_growth([&] { tn::load_weights(model, path); });
  const std::string message = typenet_test::error_message(run);
  BOOST_TEST(message.find("nests deeper than the limit of 64 levels "
                          "(safetensors_limits::max_depth raises it)") != std::string::npos,
             message);
  BOOST_TEST(message.find(path) != std::string::npos, message);
  BOOST_TEST(run.bytes < (std::size_t{64} << 20), run.bytes << " bytes");
  const auto after = model.parameters()[0].value();
  BOOST_TEST(std::vector<float>(after.begin(), after.end()) == weights,
             boost::test_tools::per_element());

  // 70 levels: refused by default, read past the depth check with a raised limit.
  const auto nested = weights_dir() + "hostile/nested_70.safetensors";
  expect_error("nested_70", "deeper than the limit of 64",
               [&] { tn::io::read_safetensors(nested); });
  expect_error("nested_70 with max_depth 80", "span 0 bytes but F32 [] needs 4",
               [&] { tn::io::read_safetensors(nested, {.max_depth = 80}); });
  expect_error("load_weights with max_depth 80", "span 0 bytes but F32 [] needs 4", [&] {
    tn::load_weights(model, nested, {.file_limits = {.safetensors = {.max_depth = 80}}});
  });
  expect_error("max_header_bytes", "exceeds the limit of 100 (safetensors_limits",
               [&] { tn::io::read_safetensors(nested, {.max_header_bytes = 100}); });
}

BOOST_AUTO_TEST_CASE(a_failed_save_says_why_keeps_the_old_file_and_leaves_no_temporary) {
  const auto dir = scratch_dir() / "durable";
  std::filesystem::create_directories(dir);
  const auto path = (dir / "w.safetensors").string();
  tn::Model<tn::Sequential<tn::Flatten, tn::Linear<64>>, tn::Shape<1, 32, 32>> model;
  tn::save_weights(model, path);
  const auto saved = read_bytes(path);
  BOOST_TEST_REQUIRE(saved.size() > 200'000u);

  // A full disk, as the file-size limit makes it: write() fails part way.
  model.parameters()[0].value()[0] += 1.0f;
  ::rlimit old_limit{};
  BOOST_TEST_REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
  const auto old_handler = ::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of a signal
  ::rlimit small = old_limit;
  small.rlim_cur = 64 * 1024;
  BOOST_TEST_REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  std::string message;
  try {
    tn::save_weights(model, path);
  } catch (const tn::file_error& e) {
    message = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  ::signal(SIGXFSZ, old_handler);
  BOOST_TEST(
      message.find(path + ".tmp: write failed: " + std::strerror(EFBIG)) != std::string::npos,
      message);
  BOOST_TEST(!std::filesystem::exists(path + ".tmp"));
  BOOST_TEST((read_bytes(path) == saved));

  // A directory that cannot exist: the system's reason, no file left anywhere.
  const auto under_a_file = path + "/x.safetensors";
  expect_error("under a file", std::string("cannot open for writing: ") + std::strerror(ENOTDIR),
               [&] { tn::save_weights(model, under_a_file); });
  expect_error("check_writable_directory", "cannot create the directory",
               [&] { tn::io::check_writable_directory(path + "/sub"); });
  tn::io::check_writable_directory(dir / "new" / "deeper");
  BOOST_TEST(std::filesystem::is_directory(dir / "new" / "deeper"));
  BOOST_TEST(std::filesystem::is_empty(dir / "new" / "deeper"));
}

BOOST_AUTO_TEST_CASE(safetensors_whose_header_length_starts_with_0x80) {
  // A header of 0x480 bytes: the file starts 80 04 like a pickle protocol marker.
  std::vector<std::byte> bytes(8 + 0x480, std::byte{' '});
  const unsigned char length[8] = {0x80, 0x04, 0, 0, 0, 0, 0, 0};
  std::memcpy(bytes.data(), length, 8);
  bytes[8] = std::byte{'{'};
  BOOST_TEST((tn::io::detect_weight_format(bytes) == tn::io::weight_format::safetensors));
  const unsigned char pickle[4] = {0x80, 0x02, 0x8a, 0x0a};  // torch.save's legacy start
  std::memcpy(bytes.data(), pickle, 4);
  BOOST_TEST((tn::io::detect_weight_format(bytes) == tn::io::weight_format::torch_legacy));
}

BOOST_AUTO_TEST_SUITE_END()
