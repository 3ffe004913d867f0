// include/typenet/core: shape arithmetic, concepts, options, tensors and
// the names of shapes and layers.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <boost/test/unit_test.hpp>
#include <cstdint>

#include <typenet/nn.hpp>

#include "networks.hpp"

namespace tn = typenet;

namespace {

using typenet_tests::BasicBlock;
using typenet_tests::LeNet5;
using typenet_tests::ResNetStem;

// ---- compile-time shape arithmetic --------------------------------------------------------

static_assert(tn::Shape<3, 4, 5>::size == 60 && tn::Shape<3, 4, 5>::rank == 3);
static_assert(tn::Shape<7>::size == 7 && tn::Shape<7>::rank == 1);
static_assert(tn::Shape<3, 4, 5>::dims[1] == 4);

// PyTorch's output-size formula, floor and ceil mode.
static_assert(tn::sliding_output(28, 5, 1, 2, 2, 1, false) == 28);
static_assert(tn::sliding_output(7, 3, 2, 1, 1, 1, false) == 4);
static_assert(tn::sliding_output(5, 7, 1, 0, 0, 1, false) == 0);  // empty: callers reject it
static_assert(tn::sliding_output(8, 3, 2, 0, 0, 1, false) == 3);
static_assert(tn::sliding_output(8, 3, 2, 0, 0, 1, true) == 4);
static_assert(tn::sliding_output(10, 3, 1, 0, 0, 2, false) == 6);  // dilated span 5
// ceil mode drops a last window that would start in the right padding
static_assert(tn::sliding_output(5, 2, 2, 1, 1, 1, false) == 3);
static_assert(tn::sliding_output(5, 2, 2, 1, 1, 1, true) == 3);
static_assert(tn::sliding_output(6, 3, 2, 1, 1, 1, true) == 4);

template <class L, class In, class Out>
constexpr bool maps = std::is_same_v<tn::output_shape_t<L, In>, Out>;

static_assert(maps<tn::Conv2d<6, 5, tn::Padding<2>>, tn::Shape<1, 28, 28>, tn::Shape<6, 28, 28>>);
static_assert(maps<tn::Conv2d<8, tn::Kernel{3, 5}, tn::Stride<2, 1>>, tn::Shape<3, 9, 9>,
                   tn::Shape<8, 4, 5>>);
static_assert(maps<tn::Conv2d<4, 3, tn::Dilation<2>, tn::Padding<2>, tn::Groups<2>>,
                   tn::Shape<2, 6, 6>, tn::Shape<4, 6, 6>>);
static_assert(maps<tn::ConvTranspose2d<3, 3, tn::Stride<2>, tn::Padding<1>, tn::OutputPadding<1>>,
                   tn::Shape<8, 4, 4>, tn::Shape<3, 8, 8>>);
static_assert(
    maps<tn::ConvTranspose2d<3, 2, tn::Stride<2>>, tn::Shape<8, 4, 5>, tn::Shape<3, 8, 10>>);
static_assert(maps<tn::MaxPool2d<2>, tn::Shape<6, 28, 28>, tn::Shape<6, 14, 14>>);
static_assert(
    maps<tn::MaxPool2d<3, tn::Stride<2>, tn::CeilMode>, tn::Shape<1, 8, 8>, tn::Shape<1, 4, 4>>);
static_assert(
    maps<tn::AvgPool2d<3, tn::Stride<2>, tn::Padding<1>>, tn::Shape<2, 7, 7>, tn::Shape<2, 4, 4>>);
static_assert(maps<tn::AdaptiveAvgPool2d<3, 2>, tn::Shape<5, 7, 9>, tn::Shape<5, 3, 2>>);
static_assert(maps<tn::Upsample<2, 3>, tn::Shape<2, 3, 4>, tn::Shape<2, 6, 12>>);
static_assert(maps<tn::Upsample<2, 2, tn::Bilinear>, tn::Shape<2, 3, 4>, tn::Shape<2, 6, 8>>);
static_assert(maps<tn::Flatten, tn::Shape<16, 5, 5>, tn::Shape<400>>);
static_assert(maps<tn::Linear<10>, tn::Shape<400>, tn::Shape<10>>);
static_assert(maps<tn::BatchNorm1d, tn::Shape<3, 6>, tn::Shape<3, 6>>);
static_assert(maps<LeNet5, tn::Shape<1, 28, 28>, tn::Shape<10>>);
static_assert(std::is_same_v<LeNet5::input_of<tn::Shape<1, 28, 28>, 7>, tn::Shape<400>>);
static_assert(maps<BasicBlock<128, 2, true>, tn::Shape<64, 56, 56>, tn::Shape<128, 28, 28>>);
static_assert(maps<ResNetStem, tn::Shape<3, 64, 64>, tn::Shape<10>>);
static_assert(std::is_same_v<tn::Model<LeNet5, tn::Shape<1, 28, 28>>::output_shape, tn::Shape<10>>);

// Parameter counts, from the types.
static_assert(tn::parameters_t<LeNet5, tn::Shape<1, 28, 28>>::count == 61706);
static_assert(
    tn::parameters_t<tn::Conv2d<8, 3, tn::Groups<2>, tn::NoBias>, tn::Shape<4, 5, 5>>::count ==
    8 * 2 * 3 * 3);
static_assert(tn::parameters_t<tn::BatchNorm2d, tn::Shape<6, 2, 2>>::count == 12);

// ---- concepts -----------------------------------------------------------------------------

static_assert(tn::ShapeType<tn::Shape<3, 4, 4>> && !tn::ShapeType<int>);
static_assert(tn::ImageShape<tn::Shape<3, 4, 4>> && !tn::ImageShape<tn::Shape<3>>);
static_assert(tn::FlatShape<tn::Shape<3>> && !tn::FlatShape<tn::Shape<3, 4>>);
static_assert(tn::Device<tn::Cpu> && tn::Device<tn::Cuda> && !tn::Device<int>);

static_assert(tn::LayerFor<tn::Conv2d<8, 3>, tn::Shape<3, 8, 8>>);
static_assert(tn::LayerFor<tn::Linear<10>, tn::Shape<5>>);
static_assert(tn::LayerFor<tn::ReLU, tn::Shape<5>>);
static_assert(tn::LayerFor<LeNet5, tn::Shape<1, 28, 28>>);
static_assert(tn::LayerFor<BasicBlock<8, 2, true>, tn::Shape<4, 8, 8>>);
static_assert(!tn::LayerFor<int, tn::Shape<5>>);
static_assert(!tn::LayerFor<tn::Shape<5>, tn::Shape<5>>);
static_assert(!tn::LayerFor<tn::ReLU, int>);  // the input must be a Shape

// Named wants a non-empty name without dots (the dot separates state_dict levels).
template <tn::fixed_string Name>
concept valid_name = requires {
  typename tn::Named<Name, tn::ReLU>;
};
static_assert(valid_name<"conv1">);
static_assert(!valid_name<"">);
// g++ 12 with -fsanitize=undefined cannot constant-evaluate string_view::find
// once it finds something, so there a dotted name is a hard error, not false.
#if !defined(__SANITIZE_ADDRESS__)
static_assert(!valid_name<"layer1.0">);
#endif

// Element access takes one index per dimension of the sample, after the batch index.
template <class S>
concept two_indices = requires(tn::Tensor<S> t) {
  t(0, 1);
};
template <class S>
concept four_indices = requires(tn::Tensor<S> t) {
  t(0, 1, 2, 3);
};
static_assert(two_indices<tn::Shape<5>> && !four_indices<tn::Shape<5>>);
static_assert(four_indices<tn::Shape<2, 3, 4>> && !two_indices<tn::Shape<2, 3, 4>>);

// Options are types; their values are read at compile time.
static_assert(tn::pair_option_v<tn::Stride, 1, 1, tn::Padding<1>, tn::Stride<2, 3>>.h == 2);
static_assert(tn::pair_option_v<tn::Stride, 1, 1, tn::Padding<1>, tn::Stride<2, 3>>.w == 3);
static_assert(tn::pair_option_v<tn::Dilation, 1, 1, tn::Padding<1>>.w == 1);
static_assert(tn::groups_option_v<tn::NoBias, tn::Groups<4>> == 4);
static_assert(tn::groups_option_v<tn::NoBias> == 1);
static_assert(tn::MaxPool2d<3>::stride.h == 3);  // the stride defaults to the kernel

}  // namespace

BOOST_AUTO_TEST_SUITE(core)

// LayerFor<L, In> promises "L is usable as a layer on In". A Linear on an
// image, or a convolution on a flat vector, is not: these must be false (and
// the mismatch is what a `requires` clause on user code would want to see).
BOOST_AUTO_TEST_CASE(layer_for_rejects_unusable_inputs) {
  BOOST_TEST(!(tn::LayerFor<tn::Linear<120>, tn::Shape<16, 5, 5>>),
             "LayerFor<Linear<120>, Shape<16, 5, 5>> holds, but Linear needs a flat input");
  BOOST_TEST(!(tn::LayerFor<tn::Conv2d<8, 3>, tn::Shape<48>>),
             "LayerFor<Conv2d<8, 3>, Shape<48>> holds, but a convolution needs an image");
  BOOST_TEST(!(tn::LayerFor<tn::Conv2d<8, 7>, tn::Shape<3, 5, 5>>),
             "LayerFor<Conv2d<8, 7>, Shape<3, 5, 5>> holds, but the output would be empty");
}

BOOST_AUTO_TEST_CASE(shape_and_type_names) {
  BOOST_TEST((tn::Shape<16, 5, 5>::str()) == "Shape<16, 5, 5>");
  BOOST_TEST(tn::Shape<10>::str() == "Shape<10>");
  BOOST_TEST((tn::Conv2d<64, 3, tn::Stride<2>, tn::Padding<1>, tn::NoBias>::type_name()) ==
             "Conv2d<64, 3, Stride<2>, Padding<1>, NoBias>");
  BOOST_TEST((tn::Conv2d<8, tn::Kernel{3, 5}, tn::Stride<2, 1>>::type_name()) ==
             "Conv2d<8, Kernel{3, 5}, Stride<2, 1>>");
  BOOST_TEST((tn::MaxPool2d<3, tn::Stride<2>, tn::CeilMode>::type_name()) ==
             "MaxPool2d<3, Stride<2>, CeilMode>");
  BOOST_TEST((tn::Upsample<2, 2, tn::Bilinear>::type_name()) == "Upsample<2, 2, Bilinear>");
  BOOST_TEST((tn::Named<"fc", tn::Linear<10>>::type_name()) == "Named<\"fc\", Linear<10>>");
  BOOST_TEST((tn::Sequential<tn::Flatten, tn::Linear<10, tn::NoBias>>::type_name()) ==
             "Sequential<Flatten, Linear<10, NoBias>>");
}

BOOST_AUTO_TEST_CASE(tensor_layout_and_batch) {
  tn::Tensor<tn::Shape<2, 3, 4>> t(2);
  BOOST_TEST(t.batch() == 2);
  BOOST_TEST(t.size() == 48);
  for (std::int64_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<float>(i);
  BOOST_TEST(t(1, 0, 2, 3) == 1 * 24 + 0 * 12 + 2 * 4 + 3);  // NCHW
  BOOST_TEST(t(0, 1, 0, 1) == 13);
  t.resize(1);
  BOOST_TEST(t.size() == 24);
  BOOST_TEST(t(0, 1, 0, 1) == 13);  // shrinking keeps the contents
  BOOST_CHECK_THROW(t.resize(-1), tn::shape_error);
}

BOOST_AUTO_TEST_SUITE_END()
