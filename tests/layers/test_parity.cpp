// Parity with PyTorch 1.13, layer by layer.
//
// Each case runs one network on the input of a fixture written by
// tools/make_fixtures.py, after copying the PyTorch module's state_dict into
// it by name, and compares the forward output, the buffers after a
// train-mode forward (BatchNorm's running statistics and counter), the
// input gradient and every parameter gradient for the fixture's random
// output gradient. Tolerances are DESIGN.md §4b's. The PyTorch module of
// each case is written above it, as in make_fixtures.py's PARITY_CASES
// (same case names); train mode and batch size come from the fixture.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <ratio>
#include <set>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include <typenet/nn.hpp>

#include "fixtures.hpp"

namespace tn = typenet;
using namespace typenet_test;

namespace {

/// The input and parameter gradients after backward against the fixture's.
template <class Model>
void check_gradients(Model& model, const Fixture& f);

/// Each output of a network ending in Heads, then backward with one gradient per output.
template <class Model, class Y, std::size_t... I>
void check_heads(Model& model, const Y& y, const Fixture& f, bool train,
                 std::index_sequence<I...>) {
  (check_close("output." + std::to_string(I), y.template get<I>(),
               f.at("output." + std::to_string(I)), forward_tolerance),
   ...);
  if (train) check_state(model, f, "state_after.", forward_tolerance, /*buffers_only=*/true);
  model.zero_grad();
  const auto dys = std::make_tuple(
      tensor_from_fixture<typename std::remove_cvref_t<std::tuple_element_t<I, Y>>::shape>(
          f.at("grad_output." + std::to_string(I)))...);
  model.backward(std::get<I>(dys)...);
  check_gradients(model, f);
}

template <class Model>
void check_parity_of(Model& model, const std::string& case_name) {
  BOOST_TEST_CONTEXT("fixture " << case_name) {
    const Fixture f = Fixture::load(case_name);
    BOOST_TEST_REQUIRE(copy_state_from_fixture(model, f));
    const bool train = f.at("train").scalar() != 0;
    model.train(train);
    model.requires_input_grad(true);

    const auto x = tensor_from_fixture<typename Model::input_shape>(f.at("input"));
    const auto& y = model.forward(x);
    using Out = typename Model::output_shape;
    if constexpr (tn::is_outputs_v<Out>) {  // Heads: output.<i>, grad_output.<i>
      check_heads(model, y, f, train, std::make_index_sequence<Out::count>{});
    } else {
      check_close("output", y, f.at("output"), forward_tolerance);
      if (train) check_state(model, f, "state_after.", forward_tolerance, /*buffers_only=*/true);
      model.zero_grad();
      // kept until the check: an Identity network's input gradient is dy itself
      const auto dy = tensor_from_fixture<Out>(f.at("grad_output"));
      model.backward(dy);
      check_gradients(model, f);
    }
  }
}

template <class Model>
void check_gradients(Model& model, const Fixture& f) {
  check_close("grad_input", model.input_grad(), f.at("grad_input"), gradient_tolerance);

  std::set<std::string> ours;
  for (const auto& p : model.parameters()) {
    ours.insert(p.name());
    if (const auto* g = f.find("grad." + p.name())) {
      check_close("grad." + p.name(), p.grad().data(), p.size(), *g, gradient_tolerance);
    } else {
      BOOST_ERROR("typenet parameter '" << p.name() << "' is not a parameter in PyTorch");
    }
  }
  for (const auto& key : f.keys_with_prefix("grad."))
    BOOST_TEST(ours.count(key) == 1u,
               "PyTorch parameter '" << key << "' is not a typenet parameter");
}

template <class Net, class In>
void check_parity(const std::string& case_name) {
  tn::Model<Net, In> model(0);
  check_parity_of(model, case_name);
}

/// One model of dynamic extents `Shape<C, dyn, dyn>` over fixtures of several
/// sizes in turn (each re-plans it), as a program given photos of any size.
template <class Net, int C>
void check_parity_dynamic(std::initializer_list<const char*> case_names) {
  tn::Model<Net, tn::Shape<C, tn::dyn, tn::dyn>> model(0);
  for (const char* name : case_names) check_parity_of(model, name);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(parity)

// ---- Conv2d ------------------------------------------------------------------------------

// nn.Conv2d(3, 4, 3); (3, 7, 7), batch 3
BOOST_AUTO_TEST_CASE(conv_basic) {
  check_parity<tn::Conv2d<4, 3>, tn::Shape<3, 7, 7>>("conv_basic");
}

// nn.Conv2d(3, 5, (3, 5), stride=(2, 3), padding=(1, 2)); (3, 9, 11), batch 1
BOOST_AUTO_TEST_CASE(conv_kernel_stride_padding_hw) {
  check_parity<tn::Conv2d<5, tn::Kernel{3, 5}, tn::Stride<2, 3>, tn::Padding<1, 2>>,
               tn::Shape<3, 9, 11>>("conv_kernel_stride_padding_hw");
}

// nn.Conv2d(2, 4, 3, padding=2, dilation=(2, 3)); (2, 9, 10), batch 3
BOOST_AUTO_TEST_CASE(conv_dilation) {
  check_parity<tn::Conv2d<4, 3, tn::Padding<2>, tn::Dilation<2, 3>>, tn::Shape<2, 9, 10>>(
      "conv_dilation");
}

// nn.Conv2d(4, 6, 3, stride=2, groups=2, bias=False); (4, 7, 8), batch 3
BOOST_AUTO_TEST_CASE(conv_groups_nobias) {
  check_parity<tn::Conv2d<6, 3, tn::Stride<2>, tn::Groups<2>, tn::NoBias>, tn::Shape<4, 7, 8>>(
      "conv_groups_nobias");
}

// nn.Conv2d(4, 4, 3, padding=1, groups=4); (4, 6, 5), batch 1
BOOST_AUTO_TEST_CASE(conv_depthwise) {
  check_parity<tn::Conv2d<4, 3, tn::Padding<1>, tn::Groups<4>>, tn::Shape<4, 6, 5>>(
      "conv_depthwise");
}

// nn.Conv2d(2, 3, 2, stride=3); (2, 8, 7), batch 3
BOOST_AUTO_TEST_CASE(conv_stride_gt_kernel) {
  check_parity<tn::Conv2d<3, 2, tn::Stride<3>>, tn::Shape<2, 8, 7>>("conv_stride_gt_kernel");
}

// nn.Conv2d(6, 8, 1, bias=False); (6, 5, 7), batch 3
BOOST_AUTO_TEST_CASE(conv_pointwise_nobias) {
  check_parity<tn::Conv2d<8, 1, tn::NoBias>, tn::Shape<6, 5, 7>>("conv_pointwise_nobias");
}

// Large enough for the CPU kernels to fork threads and block their GEMMs.
// nn.Conv2d(8, 16, 3, padding=1); (8, 24, 20), batch 3
BOOST_AUTO_TEST_CASE(conv_large) {
  check_parity<tn::Conv2d<16, 3, tn::Padding<1>>, tn::Shape<8, 24, 20>>("conv_large");
}

// ---- ConvTranspose2d ---------------------------------------------------------------------

// nn.ConvTranspose2d(4, 3, 3); (4, 5, 5), batch 3
BOOST_AUTO_TEST_CASE(convt_basic) {
  check_parity<tn::ConvTranspose2d<3, 3>, tn::Shape<4, 5, 5>>("convt_basic");
}

// nn.ConvTranspose2d(3, 2, (3, 4), stride=(2, 3), padding=(1, 0), output_padding=(1, 2));
// (3, 4, 5), batch 1
BOOST_AUTO_TEST_CASE(convt_stride_output_padding_hw) {
  check_parity<tn::ConvTranspose2d<2, tn::Kernel{3, 4}, tn::Stride<2, 3>, tn::Padding<1, 0>,
                                   tn::OutputPadding<1, 2>>,
               tn::Shape<3, 4, 5>>("convt_stride_output_padding_hw");
}

// nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2, bias=False);
// (4, 5, 6), batch 3
BOOST_AUTO_TEST_CASE(convt_dilation_groups_nobias) {
  check_parity<tn::ConvTranspose2d<6, 3, tn::Stride<2>, tn::Padding<1>, tn::Dilation<2>,
                                   tn::Groups<2>, tn::NoBias>,
               tn::Shape<4, 5, 6>>("convt_dilation_groups_nobias");
}

// nn.ConvTranspose2d(2, 3, 2, stride=3); (2, 4, 3), batch 3
BOOST_AUTO_TEST_CASE(convt_stride_gt_kernel) {
  check_parity<tn::ConvTranspose2d<3, 2, tn::Stride<3>>, tn::Shape<2, 4, 3>>(
      "convt_stride_gt_kernel");
}

// ---- MaxPool2d ---------------------------------------------------------------------------

// nn.MaxPool2d(2); (3, 8, 8), batch 3
BOOST_AUTO_TEST_CASE(maxpool_basic) {
  check_parity<tn::MaxPool2d<2>, tn::Shape<3, 8, 8>>("maxpool_basic");
}

// nn.MaxPool2d(3, stride=2, ceil_mode=True); (2, 8, 9), batch 3
BOOST_AUTO_TEST_CASE(maxpool_odd_ceil) {
  check_parity<tn::MaxPool2d<3, tn::Stride<2>, tn::CeilMode>, tn::Shape<2, 8, 9>>(
      "maxpool_odd_ceil");
}

// nn.MaxPool2d((3, 2), stride=(2, 1), padding=(1, 1), dilation=(2, 1)); (2, 9, 7), batch 1
BOOST_AUTO_TEST_CASE(maxpool_hw_padding_dilation) {
  check_parity<
      tn::MaxPool2d<tn::Kernel{3, 2}, tn::Stride<2, 1>, tn::Padding<1, 1>, tn::Dilation<2, 1>>,
      tn::Shape<2, 9, 7>>("maxpool_hw_padding_dilation");
}

// nn.MaxPool2d(2, stride=3); (2, 8, 8), batch 3
BOOST_AUTO_TEST_CASE(maxpool_stride_gt_kernel) {
  check_parity<tn::MaxPool2d<2, tn::Stride<3>>, tn::Shape<2, 8, 8>>("maxpool_stride_gt_kernel");
}

// nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True); (2, 6, 7), batch 3
BOOST_AUTO_TEST_CASE(maxpool_padding_ceil) {
  check_parity<tn::MaxPool2d<3, tn::Stride<2>, tn::Padding<1>, tn::CeilMode>, tn::Shape<2, 6, 7>>(
      "maxpool_padding_ceil");
}

// nn.MaxPool2d(3, stride=2, padding=1) (ResNet's stem); (8, 32, 30), batch 3
BOOST_AUTO_TEST_CASE(maxpool_large_stem) {
  check_parity<tn::MaxPool2d<3, tn::Stride<2>, tn::Padding<1>>, tn::Shape<8, 32, 30>>(
      "maxpool_large_stem");
}

// ---- AvgPool2d (count_include_pad=True) --------------------------------------------------

// nn.AvgPool2d(2); (3, 6, 7), batch 3
BOOST_AUTO_TEST_CASE(avgpool_basic) {
  check_parity<tn::AvgPool2d<2>, tn::Shape<3, 6, 7>>("avgpool_basic");
}

// nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True); (2, 8, 9), batch 3
BOOST_AUTO_TEST_CASE(avgpool_padding_ceil) {
  check_parity<tn::AvgPool2d<3, tn::Stride<2>, tn::Padding<1>, tn::CeilMode>, tn::Shape<2, 8, 9>>(
      "avgpool_padding_ceil");
}

// nn.AvgPool2d((2, 3), stride=(3, 1)); (2, 7, 8), batch 1
BOOST_AUTO_TEST_CASE(avgpool_hw_stride_gt_kernel) {
  check_parity<tn::AvgPool2d<tn::Kernel{2, 3}, tn::Stride<3, 1>>, tn::Shape<2, 7, 8>>(
      "avgpool_hw_stride_gt_kernel");
}

// ---- AdaptiveAvgPool2d -------------------------------------------------------------------

// nn.AdaptiveAvgPool2d((3, 2)); (2, 7, 5), batch 3
BOOST_AUTO_TEST_CASE(adaptive_avgpool_uneven) {
  check_parity<tn::AdaptiveAvgPool2d<3, 2>, tn::Shape<2, 7, 5>>("adaptive_avgpool_uneven");
}

// nn.AdaptiveAvgPool2d(1); (3, 4, 5), batch 1
BOOST_AUTO_TEST_CASE(adaptive_avgpool_global) {
  check_parity<tn::AdaptiveAvgPool2d<1>, tn::Shape<3, 4, 5>>("adaptive_avgpool_global");
}

// ---- BatchNorm (random affine parameters and running statistics, num_batches_tracked 3) --

// nn.BatchNorm2d(3), train; (3, 5, 4), batch 3
BOOST_AUTO_TEST_CASE(bn2d_train) {
  check_parity<tn::BatchNorm2d, tn::Shape<3, 5, 4>>("bn2d_train");
}

// nn.BatchNorm2d(2), train; (2, 3, 3), batch 1
BOOST_AUTO_TEST_CASE(bn2d_train_batch1) {
  check_parity<tn::BatchNorm2d, tn::Shape<2, 3, 3>>("bn2d_train_batch1");
}

// nn.BatchNorm2d(3), eval; (3, 5, 4), batch 3
BOOST_AUTO_TEST_CASE(bn2d_eval) {
  check_parity<tn::BatchNorm2d, tn::Shape<3, 5, 4>>("bn2d_eval");
}

// nn.BatchNorm2d(16), train; (16, 20, 20), batch 3
BOOST_AUTO_TEST_CASE(bn2d_train_large) {
  check_parity<tn::BatchNorm2d, tn::Shape<16, 20, 20>>("bn2d_train_large");
}

// nn.BatchNorm1d(5), train; (5,), batch 3
BOOST_AUTO_TEST_CASE(bn1d_train) {
  check_parity<tn::BatchNorm1d, tn::Shape<5>>("bn1d_train");
}

// nn.BatchNorm1d(4), train; (4, 6), batch 3
BOOST_AUTO_TEST_CASE(bn1d_train_length) {
  check_parity<tn::BatchNorm1d, tn::Shape<4, 6>>("bn1d_train_length");
}

// nn.BatchNorm1d(5), eval; (5,), batch 1
BOOST_AUTO_TEST_CASE(bn1d_eval) {
  check_parity<tn::BatchNorm1d, tn::Shape<5>>("bn1d_eval");
}

// ---- activations -------------------------------------------------------------------------

// nn.ReLU(); (3, 5, 4), batch 3
BOOST_AUTO_TEST_CASE(relu) {
  check_parity<tn::ReLU, tn::Shape<3, 5, 4>>("relu");
}

// nn.LeakyReLU(); (2, 4, 5), batch 3
BOOST_AUTO_TEST_CASE(leaky_relu_default) {
  check_parity<tn::LeakyReLU<>, tn::Shape<2, 4, 5>>("leaky_relu_default");
}

// nn.LeakyReLU(0.2); (7,), batch 3
BOOST_AUTO_TEST_CASE(leaky_relu_one_fifth) {
  check_parity<tn::LeakyReLU<std::ratio<1, 5>>, tn::Shape<7>>("leaky_relu_one_fifth");
}

// nn.Sigmoid(); (2, 3, 4), batch 3
BOOST_AUTO_TEST_CASE(sigmoid) {
  check_parity<tn::Sigmoid, tn::Shape<2, 3, 4>>("sigmoid");
}

// nn.Tanh(); (6,), batch 1
BOOST_AUTO_TEST_CASE(tanh) {
  check_parity<tn::Tanh, tn::Shape<6>>("tanh");
}

// ---- Softmax / LogSoftmax (dim=1) --------------------------------------------------------

// nn.Softmax(dim=1); (7,), batch 3
BOOST_AUTO_TEST_CASE(softmax_flat) {
  check_parity<tn::Softmax, tn::Shape<7>>("softmax_flat");
}

// nn.Softmax(dim=1); (4, 3, 5), batch 3
BOOST_AUTO_TEST_CASE(softmax_image) {
  check_parity<tn::Softmax, tn::Shape<4, 3, 5>>("softmax_image");
}

// nn.LogSoftmax(dim=1); (10,), batch 1
BOOST_AUTO_TEST_CASE(logsoftmax_flat) {
  check_parity<tn::LogSoftmax, tn::Shape<10>>("logsoftmax_flat");
}

// nn.LogSoftmax(dim=1); (3, 4, 2), batch 3
BOOST_AUTO_TEST_CASE(logsoftmax_image) {
  check_parity<tn::LogSoftmax, tn::Shape<3, 4, 2>>("logsoftmax_image");
}

// nn.Softmax(dim=1); (10, 16, 16), batch 3
BOOST_AUTO_TEST_CASE(softmax_image_large) {
  check_parity<tn::Softmax, tn::Shape<10, 16, 16>>("softmax_image_large");
}

// ---- Dropout -----------------------------------------------------------------------------

// nn.Dropout(0.5), eval (the identity); (2, 3, 4), batch 3
BOOST_AUTO_TEST_CASE(dropout_eval) {
  check_parity<tn::Dropout<>, tn::Shape<2, 3, 4>>("dropout_eval");
}

// In train mode the masks cannot match PyTorch's (the generators differ), so
// check what nn.Dropout(0.3) promises: each element is zeroed with
// probability 0.3, the rest are scaled by 1 / 0.7, and the gradient flows
// through the same mask.
BOOST_AUTO_TEST_CASE(dropout_train_statistics) {
  using In = tn::Shape<2, 50, 50>;
  constexpr double p = 0.3;
  tn::Model<tn::Dropout<std::ratio<3, 10>>, In> model(42);
  model.train();
  model.requires_input_grad(true);
  tn::Tensor<In> x(4), dy(4);
  for (std::int64_t i = 0; i < x.size(); ++i) {
    x.data()[i] = 0.5f + static_cast<float>(i % 97) / 97.0f;  // never 0
    dy.data()[i] = 1.0f + static_cast<float>(i % 13);
  }
  const auto& y = model.forward(x);
  model.backward(dy);
  const auto& dx = model.input_grad();
  std::int64_t zeros = 0, bad_values = 0, bad_grads = 0;
  const double scale = 1.0 / (1.0 - p);
  for (std::int64_t i = 0; i < x.size(); ++i) {
    const bool dropped = y.data()[i] == 0.0f;
    zeros += dropped;
    const double want_y = dropped ? 0.0 : x.data()[i] * scale;
    const double want_dx = dropped ? 0.0 : dy.data()[i] * scale;
    bad_values += std::abs(y.data()[i] - want_y) > 1e-6 * std::abs(want_y);
    bad_grads += std::abs(dx.data()[i] - want_dx) > 1e-6 * std::abs(want_dx);
  }
  const double n = static_cast<double>(x.size());
  const double fraction = static_cast<double>(zeros) / n;
  const double sigma = std::sqrt(p * (1 - p) / n);  // about 0.0032 for 20000 elements
  BOOST_TEST(std::abs(fraction - p) < 5 * sigma,
             "fraction zeroed " << fraction << ", expected " << p << " +- " << 5 * sigma);
  BOOST_TEST(bad_values == 0, bad_values << " kept values are not x / (1 - p)");
  BOOST_TEST(bad_grads == 0, bad_grads << " input gradients do not follow the forward's mask");

  // The next step draws a different mask.
  tn::Tensor<In> first(4);
  tn::copy(y, first);
  const auto& y2 = model.forward(x);
  std::int64_t same = 0;
  for (std::int64_t i = 0; i < x.size(); ++i)
    same += (y2.data()[i] == 0.0f) == (first.data()[i] == 0.0f);
  BOOST_TEST(same < x.size(), "two training steps drew the same dropout mask");
}

// ---- Upsample ----------------------------------------------------------------------------

// nn.Upsample(scale_factor=2); (2, 3, 4), batch 3
BOOST_AUTO_TEST_CASE(upsample_nearest_2) {
  check_parity<tn::Upsample<2>, tn::Shape<2, 3, 4>>("upsample_nearest_2");
}

// nn.Upsample(scale_factor=(2, 3)); (2, 3, 4), batch 1
BOOST_AUTO_TEST_CASE(upsample_nearest_2_3) {
  check_parity<tn::Upsample<2, 3>, tn::Shape<2, 3, 4>>("upsample_nearest_2_3");
}

// nn.Upsample(scale_factor=2); (3, 5, 37), batch 3: rows past a vector, with a tail
BOOST_AUTO_TEST_CASE(upsample_nearest_large) {
  check_parity<tn::Upsample<2>, tn::Shape<3, 5, 37>>("upsample_nearest_large");
}

// nn.Upsample(scale_factor=(3, 2)); (2, 4, 21), batch 2
BOOST_AUTO_TEST_CASE(upsample_nearest_3_2_large) {
  check_parity<tn::Upsample<3, 2>, tn::Shape<2, 4, 21>>("upsample_nearest_3_2_large");
}

// nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False); (2, 4, 5), batch 3
BOOST_AUTO_TEST_CASE(upsample_bilinear_2) {
  check_parity<tn::Upsample<2, 2, tn::Bilinear>, tn::Shape<2, 4, 5>>("upsample_bilinear_2");
}

// nn.Upsample(scale_factor=(3, 2), mode="bilinear", align_corners=False); (2, 3, 4), batch 3
BOOST_AUTO_TEST_CASE(upsample_bilinear_3_2) {
  check_parity<tn::Upsample<3, 2, tn::Bilinear>, tn::Shape<2, 3, 4>>("upsample_bilinear_3_2");
}

// nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False); (4, 20, 18), batch 3
BOOST_AUTO_TEST_CASE(upsample_bilinear_large) {
  check_parity<tn::Upsample<2, 2, tn::Bilinear>, tn::Shape<4, 20, 18>>("upsample_bilinear_large");
}

// ---- Linear ------------------------------------------------------------------------------

// nn.Linear(7, 5); (7,), batch 3
BOOST_AUTO_TEST_CASE(linear) {
  check_parity<tn::Linear<5>, tn::Shape<7>>("linear");
}

// nn.Linear(6, 4, bias=False); (6,), batch 1
BOOST_AUTO_TEST_CASE(linear_nobias) {
  check_parity<tn::Linear<4, tn::NoBias>, tn::Shape<6>>("linear_nobias");
}

// nn.Linear(300, 200); (300,), batch 3
BOOST_AUTO_TEST_CASE(linear_large) {
  check_parity<tn::Linear<200>, tn::Shape<300>>("linear_large");
}

// ---- containers --------------------------------------------------------------------------

// nn.Identity(); (2, 3, 3), batch 1
BOOST_AUTO_TEST_CASE(identity) {
  check_parity<tn::Identity, tn::Shape<2, 3, 3>>("identity");
}

// nn.Sequential(nn.Conv2d(2, 2, 3), nn.Flatten(), nn.Linear(12, 3)); (2, 5, 4), batch 3
BOOST_AUTO_TEST_CASE(flatten_linear) {
  check_parity<tn::Sequential<tn::Conv2d<2, 3>, tn::Flatten, tn::Linear<3>>, tn::Shape<2, 5, 4>>(
      "flatten_linear");
}

// nn.Sequential(OrderedDict(
//     features=nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
//                            nn.MaxPool2d(2)),
//     flatten=nn.Flatten(),
//     fc=nn.Linear(36, 3))), train; (2, 6, 6), batch 3
BOOST_AUTO_TEST_CASE(named_nested_train) {
  using Net = tn::Sequential<
      tn::Named<"features", tn::Sequential<tn::Conv2d<4, 3, tn::Padding<1>>, tn::BatchNorm2d,
                                           tn::ReLU, tn::MaxPool2d<2>>>,
      tn::Named<"flatten", tn::Flatten>, tn::Named<"fc", tn::Linear<3>>>;
  check_parity<Net, tn::Shape<2, 6, 6>>("named_nested_train");
}

// torchvision.models.resnet.BasicBlock(4, 4); eval; (4, 5, 5), batch 3
BOOST_AUTO_TEST_CASE(basic_block_identity_eval) {
  using Net =
      tn::Residual<tn::Sequential<tn::Named<"conv1", tn::Conv2d<4, 3, tn::Padding<1>, tn::NoBias>>,
                                  tn::Named<"bn1", tn::BatchNorm2d>, tn::ReLU,
                                  tn::Named<"conv2", tn::Conv2d<4, 3, tn::Padding<1>, tn::NoBias>>,
                                  tn::Named<"bn2", tn::BatchNorm2d>>,
                   tn::Identity, tn::ReLU>;
  check_parity<Net, tn::Shape<4, 5, 5>>("basic_block_identity_eval");
}

// torchvision.models.resnet.BasicBlock(3, 6, stride=2, downsample=nn.Sequential(
//     nn.Conv2d(3, 6, 1, stride=2, bias=False), nn.BatchNorm2d(6))); train; (3, 7, 6), batch 3
using DownsampleBlock = tn::Residual<
    tn::Sequential<tn::Named<"conv1", tn::Conv2d<6, 3, tn::Stride<2>, tn::Padding<1>, tn::NoBias>>,
                   tn::Named<"bn1", tn::BatchNorm2d>, tn::ReLU,
                   tn::Named<"conv2", tn::Conv2d<6, 3, tn::Padding<1>, tn::NoBias>>,
                   tn::Named<"bn2", tn::BatchNorm2d>>,
    tn::Named<"downsample",
              tn::Sequential<tn::Conv2d<6, 1, tn::Stride<2>, tn::NoBias>, tn::BatchNorm2d>>,
    tn::ReLU>;

BOOST_AUTO_TEST_CASE(basic_block_downsample_train) {
  check_parity<DownsampleBlock, tn::Shape<3, 7, 6>>("basic_block_downsample_train");
}

// ---- merges and reaching back by name -------------------------------------------------------
// The PyTorch modules Cat, Add and SkipNet are in make_fixtures.py; UNet is tools/unet.py.

// Cat([nn.Conv2d(3, 4, 3, padding=1), nn.Sequential(nn.Conv2d(3, 2, 1), nn.ReLU()),
//      nn.Identity()]): torch.cat of the three along the channels
BOOST_AUTO_TEST_CASE(concat_three_branches) {
  using Net = tn::Concat<tn::Conv2d<4, 3, tn::Padding<1>>,
                         tn::Sequential<tn::Conv2d<2, 1>, tn::ReLU>, tn::Identity>;
  check_parity<Net, tn::Shape<3, 6, 5>>("concat_three_branches");
}

// Add([nn.Sequential(nn.Conv2d(3, 3, 3, padding=1, bias=False), nn.BatchNorm2d(3)),
//      nn.Sequential(nn.Conv2d(3, 3, 1), nn.Sigmoid()), nn.Identity()]); train
BOOST_AUTO_TEST_CASE(sum_three_branches_train) {
  using Net = tn::Sum<tn::Sequential<tn::Conv2d<3, 3, tn::Padding<1>, tn::NoBias>, tn::BatchNorm2d>,
                      tn::Sequential<tn::Conv2d<3, 1>, tn::Sigmoid>, tn::Identity>;
  check_parity<Net, tn::Shape<3, 5, 6>>("sum_three_branches_train");
}

// SkipNet: the output "a" feeds "b" and is read again by two later layers,
// one of them after a pooled path padded back to its size (9 -> 4 -> 8 -> 9).
using SkipNet = tn::Sequential<
    tn::Named<"a", tn::Conv2d<3, 3, tn::Padding<1>>>,
    tn::Named<"b", tn::Sequential<tn::MaxPool2d<2>, tn::Conv2d<4, 3, tn::Padding<1>>>>,
    tn::ConvTranspose2d<3, 2, tn::Stride<2>>, tn::Concat<tn::From<"a">, tn::PadLike<"a">>,
    tn::Sum<tn::From<"a">, tn::Conv2d<3, 1>>, tn::Named<"last", tn::Conv2d<2, 3, tn::Padding<1>>>>;

BOOST_AUTO_TEST_CASE(skip_two_consumers) {
  check_parity<SkipNet, tn::Shape<2, 7, 9>>("skip_two_consumers");
}

// TwoHeads of make_fixtures.py: `return cls(f), seg(f)` on one trunk; train
BOOST_AUTO_TEST_CASE(two_heads_train) {
  using Net = tn::Sequential<
      tn::Named<"trunk",
                tn::Sequential<tn::Conv2d<4, 3, tn::Padding<1>>, tn::BatchNorm2d, tn::ReLU>>,
      tn::Heads<
          tn::Named<"cls", tn::Sequential<tn::AdaptiveAvgPool2d<1>, tn::Flatten, tn::Linear<3>>>,
          tn::Named<"seg", tn::Conv2d<2, 1>>>>;
  check_parity<Net, tn::Shape<3, 6, 7>>("two_heads_train");
}

// ---- constructor options beyond the defaults ------------------------------------------------

// nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False); (2, 8, 9)
BOOST_AUTO_TEST_CASE(avgpool_exclude_pad) {
  check_parity<tn::AvgPool2d<3, tn::Stride<2>, tn::Padding<1>, tn::CeilMode, tn::ExcludePad>,
               tn::Shape<2, 8, 9>>("avgpool_exclude_pad");
}

// nn.AvgPool2d((2, 3), stride=(3, 1), padding=(1, 1), divisor_override=5); (2, 7, 8), batch 1
BOOST_AUTO_TEST_CASE(avgpool_divisor_override) {
  check_parity<
      tn::AvgPool2d<tn::Kernel{2, 3}, tn::Stride<3, 1>, tn::Padding<1, 1>, tn::DivisorOverride<5>>,
      tn::Shape<2, 7, 8>>("avgpool_divisor_override");
}

// nn.BatchNorm2d(3, eps=1e-3, momentum=0.01); train
BOOST_AUTO_TEST_CASE(bn2d_eps_momentum_train) {
  using BN = tn::BatchNorm2d::with<tn::Eps<std::ratio<1, 1000>>, tn::Momentum<std::ratio<1, 100>>>;
  check_parity<BN, tn::Shape<3, 5, 4>>("bn2d_eps_momentum_train");
}

// nn.BatchNorm1d(5, eps=0.01, momentum=0.3); train
BOOST_AUTO_TEST_CASE(bn1d_eps_momentum_train) {
  using BN = tn::BatchNorm1d::with<tn::Eps<std::ratio<1, 100>>, tn::Momentum<std::ratio<3, 10>>>;
  check_parity<BN, tn::Shape<5>>("bn1d_eps_momentum_train");
}

// UNet(3, 2, base=4) of tools/unet.py (milesial/Pytorch-UNet's keys); train
BOOST_AUTO_TEST_CASE(unet_small_train) {
  check_parity<tn::models::UNet<2, 4>, tn::Shape<3, 32, 32>>("unet_small_train");
}

// ---- dynamic extents: one model Shape<C, dyn, dyn> over odd sizes ----------------------
// Each runs the module of the static case of the same name (where there is
// one) at its size and at the odd sizes of make_fixtures.py's DYNAMIC_CASES.

BOOST_AUTO_TEST_CASE(dyn_conv_kernel_stride_padding_hw) {
  check_parity_dynamic<tn::Conv2d<5, tn::Kernel{3, 5}, tn::Stride<2, 3>, tn::Padding<1, 2>>, 3>(
      {"conv_kernel_stride_padding_hw", "dyn_conv_kernel_stride_padding_hw_97x131",
       "dyn_conv_kernel_stride_padding_hw_225x301"});
}

// nn.Conv2d(4, 6, 3, stride=2, padding=2, dilation=(2, 3), groups=2, bias=False)
BOOST_AUTO_TEST_CASE(dyn_conv_dilation_groups_nobias) {
  check_parity_dynamic<tn::Conv2d<6, 3, tn::Stride<2>, tn::Padding<2>, tn::Dilation<2, 3>,
                                  tn::Groups<2>, tn::NoBias>,
                       4>({"dyn_conv_dilation_groups_nobias_97x131"});
}

BOOST_AUTO_TEST_CASE(dyn_convt_stride_output_padding_hw) {
  check_parity_dynamic<tn::ConvTranspose2d<2, tn::Kernel{3, 4}, tn::Stride<2, 3>, tn::Padding<1, 0>,
                                           tn::OutputPadding<1, 2>>,
                       3>({"convt_stride_output_padding_hw",
                           "dyn_convt_stride_output_padding_hw_97x131",
                           "dyn_convt_stride_output_padding_hw_225x301"});
}

BOOST_AUTO_TEST_CASE(dyn_maxpool_padding_ceil) {
  check_parity_dynamic<tn::MaxPool2d<3, tn::Stride<2>, tn::Padding<1>, tn::CeilMode>, 2>(
      {"maxpool_padding_ceil", "dyn_maxpool_padding_ceil_97x131",
       "dyn_maxpool_padding_ceil_225x301"});
}

BOOST_AUTO_TEST_CASE(dyn_maxpool_hw_padding_dilation) {
  check_parity_dynamic<
      tn::MaxPool2d<tn::Kernel{3, 2}, tn::Stride<2, 1>, tn::Padding<1, 1>, tn::Dilation<2, 1>>, 2>(
      {"maxpool_hw_padding_dilation", "dyn_maxpool_hw_padding_dilation_97x131"});
}

BOOST_AUTO_TEST_CASE(dyn_avgpool_padding_ceil) {
  check_parity_dynamic<tn::AvgPool2d<3, tn::Stride<2>, tn::Padding<1>, tn::CeilMode>, 2>(
      {"avgpool_padding_ceil", "dyn_avgpool_padding_ceil_97x131",
       "dyn_avgpool_padding_ceil_225x301"});
}

BOOST_AUTO_TEST_CASE(dyn_adaptive_avgpool_uneven) {
  check_parity_dynamic<tn::AdaptiveAvgPool2d<3, 2>, 2>({"adaptive_avgpool_uneven",
                                                        "dyn_adaptive_avgpool_uneven_97x131",
                                                        "dyn_adaptive_avgpool_uneven_225x301"});
}

BOOST_AUTO_TEST_CASE(dyn_bn2d_train) {
  check_parity_dynamic<tn::BatchNorm2d, 3>(
      {"bn2d_train", "dyn_bn2d_train_97x131", "dyn_bn2d_train_225x301"});
}

BOOST_AUTO_TEST_CASE(dyn_bn2d_eval) {
  check_parity_dynamic<tn::BatchNorm2d, 3>({"bn2d_eval", "dyn_bn2d_eval_97x131"});
}

// nn.Sequential(nn.LeakyReLU(0.2), nn.Sigmoid(), nn.ReLU(), nn.Tanh())
BOOST_AUTO_TEST_CASE(dyn_activations) {
  check_parity_dynamic<
      tn::Sequential<tn::LeakyReLU<std::ratio<1, 5>>, tn::Sigmoid, tn::ReLU, tn::Tanh>, 2>(
      {"dyn_activations_97x131"});
}

BOOST_AUTO_TEST_CASE(dyn_softmax_image) {
  check_parity_dynamic<tn::Softmax, 4>({"softmax_image", "dyn_softmax_image_97x131"});
}

BOOST_AUTO_TEST_CASE(dyn_logsoftmax_image) {
  check_parity_dynamic<tn::LogSoftmax, 3>({"logsoftmax_image", "dyn_logsoftmax_image_97x131"});
}

BOOST_AUTO_TEST_CASE(dyn_dropout_eval) {
  check_parity_dynamic<tn::Dropout<>, 2>({"dropout_eval", "dyn_dropout_eval_97x131"});
}

BOOST_AUTO_TEST_CASE(dyn_identity) {
  check_parity_dynamic<tn::Identity, 2>({"identity", "dyn_identity_97x131"});
}

BOOST_AUTO_TEST_CASE(dyn_upsample_nearest_2_3) {
  check_parity_dynamic<tn::Upsample<2, 3>, 2>({"upsample_nearest_2_3",
                                               "dyn_upsample_nearest_2_3_97x131",
                                               "dyn_upsample_nearest_2_3_225x301"});
}

BOOST_AUTO_TEST_CASE(dyn_upsample_bilinear_2) {
  check_parity_dynamic<tn::Upsample<2, 2, tn::Bilinear>, 2>(
      {"upsample_bilinear_2", "dyn_upsample_bilinear_2_97x131", "dyn_upsample_bilinear_2_225x301"});
}

BOOST_AUTO_TEST_CASE(dyn_basic_block_downsample_train) {
  check_parity_dynamic<DownsampleBlock, 3>({"basic_block_downsample_train",
                                            "dyn_basic_block_downsample_train_97x131",
                                            "dyn_basic_block_downsample_train_225x301"});
}

// nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
//               nn.MaxPool2d(2),
//               nn.Conv2d(8, 8, 3, padding=1),
//               nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
//               nn.Conv2d(8, 2, 1)); train
BOOST_AUTO_TEST_CASE(dyn_encoder_decoder_train) {
  // (a bias before BatchNorm in training has a zero gradient up to rounding: none here)
  using Net = tn::Sequential<tn::Conv2d<8, 3, tn::Padding<1>, tn::NoBias>, tn::BatchNorm2d,
                             tn::ReLU, tn::MaxPool2d<2>, tn::Conv2d<8, 3, tn::Padding<1>>,
                             tn::Upsample<2, 2, tn::Bilinear>, tn::Conv2d<2, 1>>;
  check_parity_dynamic<Net, 3>(
      {"dyn_encoder_decoder_train_97x131", "dyn_encoder_decoder_train_225x301"});
}

// nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
//               nn.Linear(4, 5)): a size-independent head after a dynamic trunk
BOOST_AUTO_TEST_CASE(dyn_pooled_classifier) {
  using Net = tn::Sequential<tn::Conv2d<4, 3, tn::Stride<2>>, tn::AdaptiveAvgPool2d<1>, tn::Flatten,
                             tn::Linear<5>>;
  check_parity_dynamic<Net, 3>({"dyn_pooled_classifier_97x131", "dyn_pooled_classifier_225x301"});
}

// SkipNet over odd sizes: every level pads back by a row or a column.
BOOST_AUTO_TEST_CASE(dyn_skip_two_consumers) {
  check_parity_dynamic<SkipNet, 2>(
      {"skip_two_consumers", "dyn_skip_two_consumers_97x131", "dyn_skip_two_consumers_225x301"});
}

// UNet(3, 2, base=4) at 97x131 and 45x71: the decoder pads to the odd
// encoder outputs as milesial's F.pad does (45x71: at every level).
BOOST_AUTO_TEST_CASE(dyn_unet_small_train) {
  check_parity_dynamic<tn::models::UNet<2, 4>, 3>(
      {"unet_small_train", "dyn_unet_small_train_97x131", "dyn_unet_small_train_45x71"});
}

// Every parity fixture the script writes has its test case here (training
// fixtures, "train_*", belong to test_training.cpp).
BOOST_AUTO_TEST_CASE(every_fixture_has_a_case) {
  namespace fs = std::filesystem;
  const auto& suite = boost::unit_test::framework::get<boost::unit_test::test_suite>(
      boost::unit_test::framework::current_test_case().p_parent_id);
  int fixtures = 0;
  for (const auto& entry : fs::directory_iterator(fixture_directory())) {
    auto name = entry.path().stem().string();
    if (entry.path().extension() != ".tnfx" || name.starts_with("train_")) continue;
    // dyn_<case>_<H>x<W>: all sizes of a dynamic case belong to parity/dyn_<case>.
    if (name.starts_with("dyn_")) name = name.substr(0, name.rfind('_'));
    ++fixtures;
    BOOST_TEST(suite.get(name) != boost::unit_test::INV_TEST_UNIT_ID,
               "fixture " << entry.path() << " has no test case parity/" << name);
  }
  BOOST_TEST(fixtures > 0, "no parity fixtures in " << fixture_directory());
}

BOOST_AUTO_TEST_SUITE_END()
