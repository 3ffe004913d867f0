// Finite-difference gradient checks of every layer, its options, and the
// containers (tests/gradcheck.hpp), plus the lecture's picture of the
// transposed convolution: Conv2d is a sparse matrix C, ConvTranspose2d with
// the same weights is C^T.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <boost/mp11/list.hpp>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdint>
#include <random>
#include <ratio>
#include <string>
#include <vector>

#include "gradcheck.hpp"

namespace tn = typenet;
using boost::mp11::mp_list;

namespace {

/// One gradient check: network, input shape, mode and batch size.
template <class Net, class In, bool Training = true, int Batch = 2>
struct gc {
  using net = Net;
  using in = In;
  static constexpr bool training = Training;
  static constexpr int batch = Batch;
};

template <class Case>
void run_check(typenet_test::gradcheck_options o = {}) {
  o.training = Case::training;
  o.batch = Case::batch;
  const auto report = typenet_test::check_gradients<typename Case::net, typename Case::in>(o);
  BOOST_TEST_MESSAGE(report);
  BOOST_TEST(report.passed(), report);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(gradcheck)

// ---- convolutions -------------------------------------------------------------------------

using conv2d_cases = mp_list<
    gc<tn::Conv2d<3, 3>, tn::Shape<2, 5, 5>>,
    gc<tn::Conv2d<4, 3, tn::Stride<2>, tn::Padding<1>>, tn::Shape<3, 7, 7>>,
    // non-square kernel, stride, padding and dilation
    gc<tn::Conv2d<4, tn::Kernel{2, 3}, tn::Stride<2, 1>, tn::Padding<1, 0>, tn::Dilation<1, 2>>,
       tn::Shape<2, 6, 7>>,
    gc<tn::Conv2d<4, 3, tn::Groups<2>, tn::Padding<1>>, tn::Shape<4, 5, 5>>,
    gc<tn::Conv2d<6, 3, tn::Groups<3>, tn::Dilation<2>, tn::Padding<2>, tn::NoBias>,
       tn::Shape<3, 6, 6>>,
    // depthwise
    gc<tn::Conv2d<4, 3, tn::Groups<4>, tn::Padding<1>, tn::Stride<2>>, tn::Shape<4, 5, 6>>,
    // 1x1, stride 1, no padding: the GEMM-only path without im2col
    gc<tn::Conv2d<4, 1>, tn::Shape<3, 4, 5>>,
    gc<tn::Conv2d<4, 1, tn::Groups<2>>, tn::Shape<2, 3, 3>>,
    // 1x1 with stride: im2col again
    gc<tn::Conv2d<2, 1, tn::Stride<2>, tn::NoBias>, tn::Shape<3, 5, 5>>,
    // padding larger than half the kernel is legal for convolutions
    gc<tn::Conv2d<2, 2, tn::Padding<2>>, tn::Shape<1, 3, 3>>>;

BOOST_AUTO_TEST_CASE_TEMPLATE(conv2d, Case, conv2d_cases) {
  run_check<Case>();
}

using conv_transpose2d_cases = mp_list<
    gc<tn::ConvTranspose2d<3, 3>, tn::Shape<2, 3, 3>>,
    gc<tn::ConvTranspose2d<2, 3, tn::Stride<2>, tn::Padding<1>, tn::OutputPadding<1>>,
       tn::Shape<3, 4, 4>>,
    gc<tn::ConvTranspose2d<4, tn::Kernel{2, 3}, tn::Stride<2, 1>, tn::Padding<0, 1>,
                           tn::Dilation<1, 2>>,
       tn::Shape<2, 3, 4>>,
    gc<tn::ConvTranspose2d<4, 3, tn::Groups<2>, tn::Stride<2>, tn::NoBias>, tn::Shape<4, 3, 3>>,
    gc<tn::ConvTranspose2d<2, 2, tn::Stride<2>>, tn::Shape<3, 3, 3>>,
    // output padding below the dilation (stride 1)
    gc<tn::ConvTranspose2d<2, 3, tn::Dilation<2>, tn::OutputPadding<1>>, tn::Shape<2, 3, 3>>,
    // non-square output padding
    gc<tn::ConvTranspose2d<2, 3, tn::Stride<3, 2>, tn::OutputPadding<2, 1>, tn::Padding<1>>,
       tn::Shape<2, 2, 3>>,
    gc<tn::ConvTranspose2d<4, 1>, tn::Shape<3, 4, 4>>>;

BOOST_AUTO_TEST_CASE_TEMPLATE(conv_transpose2d, Case, conv_transpose2d_cases) {
  run_check<Case>();
}

// ---- pooling ------------------------------------------------------------------------------

using max_pool2d_cases = mp_list<
    gc<tn::MaxPool2d<2>, tn::Shape<2, 6, 6>>,
    gc<tn::MaxPool2d<3, tn::Stride<2>, tn::Padding<1>>, tn::Shape<2, 7, 7>>,
    gc<tn::MaxPool2d<3, tn::Stride<2>, tn::CeilMode>, tn::Shape<2, 8, 8>>,
    gc<tn::MaxPool2d<3, tn::Stride<2>, tn::Padding<1>, tn::CeilMode>, tn::Shape<2, 6, 6>>,
    gc<tn::MaxPool2d<tn::Kernel{2, 3}, tn::Stride<1, 2>, tn::Dilation<2, 1>>, tn::Shape<1, 6, 7>>,
    // overlapping windows: one input can be the maximum of several outputs
    gc<tn::MaxPool2d<2, tn::Stride<1>>, tn::Shape<2, 4, 5>>>;

BOOST_AUTO_TEST_CASE_TEMPLATE(max_pool2d, Case, max_pool2d_cases) {
  run_check<Case>();
}

using avg_pool2d_cases =
    mp_list<gc<tn::AvgPool2d<2>, tn::Shape<2, 6, 6>>,
            gc<tn::AvgPool2d<3, tn::Stride<2>, tn::Padding<1>>, tn::Shape<2, 7, 7>>,
            gc<tn::AvgPool2d<3, tn::Stride<2>, tn::CeilMode>, tn::Shape<2, 8, 8>>,
            gc<tn::AvgPool2d<tn::Kernel{3, 2}, tn::Stride<2, 1>, tn::Padding<1, 0>, tn::CeilMode>,
               tn::Shape<1, 6, 5>>,
            // count_include_pad=False and divisor_override
            gc<tn::AvgPool2d<3, tn::Stride<2>, tn::Padding<1>, tn::CeilMode, tn::ExcludePad>,
               tn::Shape<2, 8, 7>>,
            gc<tn::AvgPool2d<tn::Kernel{2, 3}, tn::Padding<1, 1>, tn::DivisorOverride<5>>,
               tn::Shape<1, 5, 6>>>;

BOOST_AUTO_TEST_CASE_TEMPLATE(avg_pool2d, Case, avg_pool2d_cases) {
  run_check<Case>();
}

using adaptive_avg_pool2d_cases = mp_list<gc<tn::AdaptiveAvgPool2d<1>, tn::Shape<3, 5, 5>>,
                                          // bins of different sizes that overlap
                                          gc<tn::AdaptiveAvgPool2d<3, 2>, tn::Shape<2, 7, 5>>,
                                          // more outputs than inputs
                                          gc<tn::AdaptiveAvgPool2d<4>, tn::Shape<1, 3, 3>>>;

BOOST_AUTO_TEST_CASE_TEMPLATE(adaptive_avg_pool2d, Case, adaptive_avg_pool2d_cases) {
  run_check<Case>();
}

// ---- batch normalization ------------------------------------------------------------------

using batch_norm_cases =
    mp_list<gc<tn::BatchNorm2d, tn::Shape<3, 4, 4>, true>,
            gc<tn::BatchNorm2d, tn::Shape<3, 4, 4>, false>,
            gc<tn::BatchNorm2d, tn::Shape<2, 1, 1>, true, 3>,
            // Shape<C>: with a batch of 2 the normalized values would be +-1 whatever the input
            gc<tn::BatchNorm1d, tn::Shape<5>, true, 4>, gc<tn::BatchNorm1d, tn::Shape<5>, false, 4>,
            gc<tn::BatchNorm1d, tn::Shape<3, 6>, true>, gc<tn::BatchNorm1d, tn::Shape<3, 6>, false>,
            // eps 0.1 (large enough to matter in the gradient), eval and train
            gc<tn::BatchNorm2d::with<tn::Eps<std::ratio<1, 10>>>, tn::Shape<3, 4, 4>, true>,
            gc<tn::BatchNorm2d::with<tn::Eps<std::ratio<1, 10>>>, tn::Shape<3, 4, 4>, false>>;

BOOST_AUTO_TEST_CASE_TEMPLATE(batch_norm, Case, batch_norm_cases) {
  run_check<Case>();
}

// ---- element-wise, softmax, shape layers ----------------------------------------------------

using elementwise_cases =
    mp_list<gc<tn::ReLU, tn::Shape<3, 4, 5>>, gc<tn::ReLU, tn::Shape<7>>,
            gc<tn::LeakyReLU<>, tn::Shape<3, 4, 5>>,
            gc<tn::LeakyReLU<std::ratio<1, 5>>, tn::Shape<7>>, gc<tn::Sigmoid, tn::Shape<3, 4, 5>>,
            gc<tn::Tanh, tn::Shape<3, 4, 5>>, gc<tn::Softmax, tn::Shape<6>>,
            gc<tn::Softmax, tn::Shape<4, 3, 3>>, gc<tn::LogSoftmax, tn::Shape<6>>,
            gc<tn::LogSoftmax, tn::Shape<4, 3, 3>>, gc<tn::Flatten, tn::Shape<2, 3, 4>>,
            gc<tn::Identity, tn::Shape<2, 3, 4>>, gc<tn::Dropout<>, tn::Shape<3, 4, 4>, false>>;

BOOST_AUTO_TEST_CASE_TEMPLATE(elementwise, Case, elementwise_cases) {
  run_check<Case>();
}

using upsample_cases =
    mp_list<gc<tn::Upsample<2>, tn::Shape<2, 3, 4>>, gc<tn::Upsample<2, 3>, tn::Shape<2, 3, 4>>,
            gc<tn::Upsample<2, 2, tn::Bilinear>, tn::Shape<2, 3, 4>>,
            gc<tn::Upsample<3, 2, tn::Bilinear>, tn::Shape<2, 3, 4>>,
            gc<tn::Upsample<4, 4, tn::Bilinear>, tn::Shape<1, 2, 2>>>;

BOOST_AUTO_TEST_CASE_TEMPLATE(upsample, Case, upsample_cases) {
  run_check<Case>();
}

using linear_cases =
    mp_list<gc<tn::Linear<5>, tn::Shape<7>>, gc<tn::Linear<3, tn::NoBias>, tn::Shape<4>, true, 3>,
            gc<tn::Sequential<tn::Flatten, tn::Linear<4>>, tn::Shape<2, 3, 3>>>;

BOOST_AUTO_TEST_CASE_TEMPLATE(linear, Case, linear_cases) {
  run_check<Case>();
}

// ---- dropout --------------------------------------------------------------------------------

// In training mode with one fixed run_context the mask is fixed, so the
// finite differences see the same function as the analytic gradient.
BOOST_AUTO_TEST_CASE(dropout_train_fixed_mask) {
  typenet_test::gradcheck_options o;
  o.compare_with_model = false;  // Model draws a new mask every forward
  auto a = typenet_test::check_gradients<tn::Dropout<>, tn::Shape<3, 4, 4>>(o);
  BOOST_TEST(a.passed(), a);
  auto b = typenet_test::check_gradients<tn::Dropout<std::ratio<1, 5>>, tn::Shape<10>>(o);
  BOOST_TEST(b.passed(), b);
  o.batch = 3;
  auto c = typenet_test::check_gradients<
      tn::Sequential<tn::Conv2d<4, 3>, tn::Dropout<>, tn::ReLU, tn::Flatten, tn::Linear<3>>,
      tn::Shape<2, 5, 5>>(o);
  BOOST_TEST(c.passed(), c);
}

// Through Model: the input gradient is dy times the mask forward applied,
// the mask drops about P and scales the rest by 1/(1-P), it changes from step
// to step, is reproducible from the seed, and eval() turns dropout off.
BOOST_AUTO_TEST_CASE(dropout_through_model) {
  using In = tn::Shape<3, 8, 8>;
  using Net = tn::Dropout<std::ratio<1, 4>>;
  tn::Model<Net, In, tn::Cpu, double> m(5), twin(5);
  m.requires_input_grad(true);
  const auto x = typenet_test::tie_free_input<In>(4, 9);
  tn::Tensor<In, tn::Cpu, double> dy(4);
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(-1, 1);
  for (auto& v : dy.values()) v = u(rng);

  const auto& first = m.forward(x);
  const std::vector<double> y1(first.data(), first.data() + first.size());
  const auto& y2 = m.forward(x);  // the next step: a new mask
  m.backward(dy);
  const auto& dx = m.input_grad();
  std::int64_t dropped = 0, differ = 0, wrong = 0, wrong_grad = 0;
  for (std::int64_t i = 0; i < x.size(); ++i) {
    const double mask = y2.data()[i] / x.data()[i];
    if (mask == 0) {
      ++dropped;
    } else if (std::abs(mask - 4.0 / 3.0) > 1e-12) {
      ++wrong;
    }
    if (std::abs(dx.data()[i] - dy.data()[i] * mask) > 1e-12) ++wrong_grad;
    if (y1[static_cast<std::size_t>(i)] != y2.data()[i]) ++differ;
  }
  BOOST_TEST(wrong == 0, wrong << " kept elements not scaled by 1/(1-p)");
  BOOST_TEST(wrong_grad == 0, wrong_grad << " input-gradient elements differ from dy * mask");
  const double rate = static_cast<double>(dropped) / static_cast<double>(x.size());
  BOOST_TEST(std::abs(rate - 0.25) < 0.05, "dropped fraction " << rate << ", expected 0.25");
  BOOST_TEST(differ > 0, "two steps used the same mask");

  twin.forward(x);
  const auto& t2 = twin.forward(x);
  BOOST_TEST(std::equal(t2.data(), t2.data() + t2.size(), y2.data()),
             "two models with one seed draw different masks at the same step");

  m.eval();
  const auto& ye = m.forward(x);
  BOOST_TEST(std::equal(ye.data(), ye.data() + ye.size(), x.data()), "eval() must not drop");
  m.backward(dy);
  const auto& dxe = m.input_grad();
  BOOST_TEST(std::equal(dxe.data(), dxe.data() + dxe.size(), dy.data()));
}

// ---- containers ---------------------------------------------------------------------------

using SmallNet =
    tn::Sequential<tn::Conv2d<4, 3, tn::Padding<1>>, tn::BatchNorm2d, tn::ReLU, tn::MaxPool2d<2>,
                   tn::Named<"features", tn::Sequential<tn::Conv2d<6, 3>, tn::Tanh>>, tn::Flatten,
                   tn::Named<"fc", tn::Linear<5>>, tn::LogSoftmax>;

template <int C, int S>
using BasicBlock = tn::Residual<
    tn::Sequential<tn::Named<"conv1", tn::Conv2d<C, 3, tn::Stride<S>, tn::Padding<1>, tn::NoBias>>,
                   tn::Named<"bn1", tn::BatchNorm2d>, tn::ReLU,
                   tn::Named<"conv2", tn::Conv2d<C, 3, tn::Padding<1>, tn::NoBias>>,
                   tn::Named<"bn2", tn::BatchNorm2d>>,
    tn::Named<"downsample",
              tn::Sequential<tn::Conv2d<C, 1, tn::Stride<S>, tn::NoBias>, tn::BatchNorm2d>>,
    tn::ReLU>;

using container_cases = mp_list<
    gc<SmallNet, tn::Shape<2, 8, 8>, true>, gc<SmallNet, tn::Shape<2, 8, 8>, false>,
    gc<BasicBlock<6, 2>, tn::Shape<4, 6, 6>, true>, gc<BasicBlock<6, 2>, tn::Shape<4, 6, 6>, false>,
    // identity shortcut and activation: y = body(x) + x
    gc<tn::Residual<tn::Sequential<tn::Conv2d<3, 3, tn::Padding<1>>, tn::Sigmoid>>,
       tn::Shape<3, 4, 4>>,
    // nested residuals inside a Sequential with a head
    gc<tn::Sequential<tn::Conv2d<4, 3, tn::Padding<1>, tn::NoBias>, tn::BatchNorm2d, tn::ReLU,
                      BasicBlock<4, 1>, BasicBlock<8, 2>, tn::AdaptiveAvgPool2d<1>, tn::Flatten,
                      tn::Linear<3>>,
       tn::Shape<2, 6, 6>, true>,
    // merges: three branches joined along the channels, and added
    gc<tn::Concat<tn::Conv2d<2, 3, tn::Padding<1>>, tn::Sequential<tn::Conv2d<3, 1>, tn::Tanh>,
                  tn::Identity>,
       tn::Shape<2, 4, 5>>,
    gc<tn::Sum<tn::Sequential<tn::Conv2d<3, 3, tn::Padding<1>>, tn::BatchNorm2d>,
               tn::Sequential<tn::Conv2d<3, 1>, tn::Sigmoid>, tn::Identity>,
       tn::Shape<3, 4, 4>, true>,
    // an output read again by two later layers, one through a pooled path padded
    // back to its odd size (7 -> 3 -> 6 -> 7)
    gc<tn::Sequential<
           tn::Named<"a", tn::Conv2d<3, 3, tn::Padding<1>>>,
           tn::Named<"b", tn::Sequential<tn::MaxPool2d<2>, tn::Conv2d<4, 3, tn::Padding<1>>>>,
           tn::ConvTranspose2d<3, 2, tn::Stride<2>>, tn::Concat<tn::From<"a">, tn::PadLike<"a">>,
           tn::Sum<tn::From<"a">, tn::Conv2d<3, 1>>,
           tn::Named<"last", tn::Conv2d<2, 3, tn::Padding<1>>>>,
       tn::Shape<2, 7, 7>>,
    // several outputs: Heads on a trunk (one gradient per head), and a head that
    // is an earlier output read by name
    gc<tn::Heads<tn::Conv2d<2, 3, tn::Padding<1>>, tn::Sequential<tn::Conv2d<3, 1>, tn::Tanh>,
                 tn::Sequential<tn::AdaptiveAvgPool2d<1>, tn::Flatten, tn::Linear<2>>>,
       tn::Shape<2, 4, 5>>,
    gc<tn::Sequential<
           tn::Conv2d<3, 3, tn::Padding<1>>, tn::BatchNorm2d,
           tn::Heads<tn::Named<"a", tn::Conv2d<2, 1>>,
                     tn::Named<"b", tn::Sequential<tn::MaxPool2d<2>, tn::Conv2d<2, 1>>>>>,
       tn::Shape<2, 6, 6>, true>,
    gc<tn::Sequential<tn::Named<"f", tn::Conv2d<3, 3, tn::Padding<1>>>, tn::Tanh,
                      tn::Heads<tn::From<"f">, tn::Conv2d<2, 1>>>,
       tn::Shape<2, 4, 4>>,
    // decoder-style: upsampling and transposed convolution after a strided convolution
    gc<tn::Sequential<tn::Conv2d<4, 3, tn::Stride<2>, tn::Padding<1>>, tn::LeakyReLU<>,
                      tn::Upsample<2, 2, tn::Bilinear>, tn::Conv2d<3, 3, tn::Padding<1>>,
                      tn::ConvTranspose2d<2, 2, tn::Stride<2>>, tn::Sigmoid>,
       tn::Shape<2, 6, 6>>>;

BOOST_AUTO_TEST_CASE_TEMPLATE(containers, Case, container_cases) {
  run_check<Case>();
}

// ---- the transposed convolution is the transposed matrix ------------------------------------

/// The matrix of a linear map of shape In -> Out, column j = f(e_j), as rows x cols.
template <class Model>
std::vector<std::vector<double>> matrix_of(Model& m) {
  using In = typename Model::input_shape;
  using Out = typename Model::output_shape;
  constexpr int n = static_cast<int>(In::size);
  tn::Tensor<In, tn::Cpu, double> units(n);
  units.fill(0);
  for (int j = 0; j < n; ++j) units.data()[std::int64_t{j} * n + j] = 1;
  const auto& y = m.forward(units);
  std::vector<std::vector<double>> a(Out::size, std::vector<double>(In::size));
  for (int j = 0; j < n; ++j)
    for (std::int64_t i = 0; i < Out::size; ++i) a[i][j] = y.data()[j * Out::size + i];
  return a;
}

struct conv_matrix {
  std::vector<std::vector<double>> c;  ///< rows: outputs, columns: inputs
  std::vector<double> weight;
};

/// Conv computes C x, and ConvT, given Conv's weights, computes C^T y.
template <class Conv, class ConvT, class In>
conv_matrix check_transpose_pair() {
  using Mid = tn::output_shape_t<Conv, In>;
  static_assert(std::is_same_v<tn::output_shape_t<ConvT, Mid>, In>,
                "the transposed convolution must map the convolution's output back to its input");
  tn::Model<Conv, In, tn::Cpu, double> conv(11);
  tn::Model<ConvT, Mid, tn::Cpu, double> convt(12);
  BOOST_TEST_REQUIRE(conv.parameters().size() == 1u);
  BOOST_TEST_REQUIRE(convt.parameters().size() == 1u);
  const auto w = conv.parameters()[0];
  const auto wt = convt.parameters()[0];
  // PyTorch's layouts agree: Conv2d(in, out) has [out, in/g, kh, kw] and
  // ConvTranspose2d(out, in) has [out, in/g, kh, kw].
  BOOST_TEST(w.shape() == wt.shape());
  std::copy(w.value().begin(), w.value().end(), wt.value().begin());

  const auto c = matrix_of(conv);
  const auto ct = matrix_of(convt);
  BOOST_TEST_REQUIRE(c.size() == static_cast<std::size_t>(Mid::size));
  BOOST_TEST_REQUIRE(ct.size() == static_cast<std::size_t>(In::size));
  double worst = 0;
  std::string where = "none";
  for (std::size_t i = 0; i < c.size(); ++i)
    for (std::size_t j = 0; j < c[i].size(); ++j) {
      const double d = std::abs(ct[j][i] - c[i][j]);
      if (d > worst) {
        worst = d;
        where = "C[" + std::to_string(i) + "][" + std::to_string(j) +
                "] = " + std::to_string(c[i][j]) + " but ConvTranspose2d's matrix has " +
                std::to_string(ct[j][i]) + " at [" + std::to_string(j) + "][" + std::to_string(i) +
                "]";
      }
    }
  BOOST_TEST(worst <= 1e-12, "ConvTranspose2d is not the transpose of Conv2d: " << where);

  // And on a random batch, Conv2d's output is C x.
  const auto x = typenet_test::tie_free_input<In>(2, 21);
  const auto& y = conv.forward(x);
  double worst_cx = 0;
  for (int n = 0; n < 2; ++n)
    for (std::int64_t i = 0; i < Mid::size; ++i) {
      double s = 0;
      for (std::int64_t j = 0; j < In::size; ++j) s += c[i][j] * x.data()[n * In::size + j];
      worst_cx = std::max(worst_cx, std::abs(s - y.data()[n * Mid::size + i]));
    }
  BOOST_TEST(worst_cx <= 1e-12, "Conv2d(x) differs from C x by " << worst_cx);
  return {c, std::vector<double>(w.value().begin(), w.value().end())};
}

// The slide: a 3x3 kernel on a 4x4 input, stride 1, no padding, one channel,
// is a 4x16 matrix whose row for output (i, j) holds the kernel at the input
// positions (i + a, j + b) and zeros elsewhere.
BOOST_AUTO_TEST_CASE(transposed_convolution_is_the_transposed_matrix) {
  const auto [c, w] =
      check_transpose_pair<tn::Conv2d<1, 3, tn::NoBias>, tn::ConvTranspose2d<1, 3, tn::NoBias>,
                           tn::Shape<1, 4, 4>>();
  BOOST_TEST_REQUIRE(c.size() == 4u);
  for (int oi = 0; oi < 2; ++oi)
    for (int oj = 0; oj < 2; ++oj)
      for (int ii = 0; ii < 4; ++ii)
        for (int ij = 0; ij < 4; ++ij) {
          const int a = ii - oi, b = ij - oj;
          const double expected =
              (a >= 0 && a < 3 && b >= 0 && b < 3) ? w[static_cast<std::size_t>(a * 3 + b)] : 0.0;
          BOOST_TEST(c[oi * 2 + oj][ii * 4 + ij] == expected,
                     "C[" << oi * 2 + oj << "][" << ii * 4 + ij << "]");
        }

  // stride 2, padding 1, several channels (and the output padding that
  // restores an even size), groups, and a non-square dilated kernel
  check_transpose_pair<tn::Conv2d<3, 3, tn::Stride<2>, tn::Padding<1>, tn::NoBias>,
                       tn::ConvTranspose2d<2, 3, tn::Stride<2>, tn::Padding<1>, tn::NoBias>,
                       tn::Shape<2, 5, 5>>();
  check_transpose_pair<
      tn::Conv2d<3, 3, tn::Stride<2>, tn::Padding<1>, tn::NoBias>,
      tn::ConvTranspose2d<2, 3, tn::Stride<2>, tn::Padding<1>, tn::OutputPadding<1>, tn::NoBias>,
      tn::Shape<2, 6, 6>>();
  check_transpose_pair<
      tn::Conv2d<4, 3, tn::Stride<2>, tn::Padding<1>, tn::Groups<2>, tn::NoBias>,
      tn::ConvTranspose2d<2, 3, tn::Stride<2>, tn::Padding<1>, tn::Groups<2>, tn::NoBias>,
      tn::Shape<2, 5, 5>>();
  check_transpose_pair<tn::Conv2d<2, tn::Kernel{2, 3}, tn::Stride<2, 1>, tn::Padding<1, 0>,
                                  tn::Dilation<1, 2>, tn::NoBias>,
                       tn::ConvTranspose2d<3, tn::Kernel{2, 3}, tn::Stride<2, 1>, tn::Padding<1, 0>,
                                           tn::Dilation<1, 2>, tn::OutputPadding<1, 0>, tn::NoBias>,
                       tn::Shape<3, 5, 6>>();
}

BOOST_AUTO_TEST_SUITE_END()
