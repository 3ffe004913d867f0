// tests/cuda/backend_tests.inl — the Cuda backend against the Cpu backend.
//
// Included by backend_host.cpp (the backend on Thrust's OpenMP system, run by
// every CI build) and backend_gpu.cu (the same tests on a GPU). Every layer's
// forward, input gradient and parameter gradients, every loss's value and
// gradient, full training steps of LeNet-5 and the ColorizationNet, fit with
// its checkpoints, the optimizers, the weights loader and the transfers are
// compared with the Cpu backend on the same random inputs, with DESIGN.md
// §4b's tolerances: |gpu - cpu| <= atol + rtol |cpu|.
#include <boost/test/unit_test.hpp>

#include <unistd.h>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <typenet/cuda.cuh>

#include "../fixtures.hpp"

namespace tn = typenet;

namespace {

struct tolerance {
  double rtol, atol;
};
constexpr tolerance forward_tolerance{1e-4, 1e-5};
constexpr tolerance gradient_tolerance{1e-3, 1e-4};

/// Element-wise comparison of a device buffer with a host one; a failure
/// names `what`, the number of elements off and the worst of them.
template <class T>
bool check_close(const std::string& what, const T* device, const T* host, std::int64_t n,
                 tolerance tol) {
  std::vector<T> got(static_cast<std::size_t>(n));
  tn::cuda::copy_to_host(device, n, got.data());
  std::int64_t bad = 0, worst = -1;
  double worst_excess = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const double a = got[static_cast<std::size_t>(i)], b = host[i];
    const double allowed = tol.atol + tol.rtol * std::abs(b);
    const double diff = std::abs(a - b);
    const double excess = diff <= allowed       ? 0.0
                          : std::isfinite(diff) ? diff / allowed
                                                : std::numeric_limits<double>::infinity();
    if (excess > 0) {
      ++bad;
      if (excess > worst_excess) worst_excess = excess, worst = i;
    }
  }
  if (bad == 0) return true;
  std::ostringstream msg;
  msg.precision(9);
  msg << what << ": " << bad << " of " << n << " elements differ; worst at " << worst << ": Cuda "
      << got[static_cast<std::size_t>(worst)] << ", Cpu " << host[worst];
  BOOST_ERROR(msg.str());
  return false;
}

template <class S, class T>
bool check_close(const std::string& what, const tn::Tensor<S, tn::Cuda, T>& device,
                 const tn::Tensor<S, tn::Cpu, T>& host, tolerance tol) {
  BOOST_TEST_REQUIRE(device.batch() == host.batch());
  return check_close(what, device.data(), host.data(), host.size(), tol);
}

template <class S, class T = float>
tn::Tensor<S, tn::Cpu, T> random_tensor(int batch, std::uint64_t seed, double scale = 1.0) {
  tn::Tensor<S, tn::Cpu, T> t(batch);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, scale);
  for (auto& v : t.values()) v = static_cast<T>(normal(rng));
  return t;
}

/// A batch of dynamic extents `extents`, normally distributed.
template <class S, class T = float>
tn::Tensor<S, tn::Cpu, T> random_tensor(int batch, const tn::extents_t<S>& extents,
                                        std::uint64_t seed, double scale = 1.0) {
  tn::Tensor<S, tn::Cpu, T> t(batch, extents);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, scale);
  for (auto& v : t.values()) v = static_cast<T>(normal(rng));
  return t;
}

/// One network on both backends from the same seed (the same parameters),
/// run forward and backward on the same input and output gradient; every
/// output, input gradient, parameter gradient and buffer must agree.
template <class Net, class In, class T = float>
void check_network(const std::string& name, int batch, bool training = true,
                   double input_scale = 1.0) {
  BOOST_TEST_CONTEXT(name) {
    tn::Model<Net, In, tn::Cpu, T> cpu(7);
    tn::Model<Net, In, tn::Cuda, T> gpu(7);
    cpu.train(training);
    gpu.train(training);
    cpu.requires_input_grad(true);
    gpu.requires_input_grad(true);
    const auto x = random_tensor<In, T>(batch, 11, input_scale);
    const auto xd = tn::to<tn::Cuda>(x);
    using Out = typename decltype(cpu)::output_shape;
    const auto dy = random_tensor<Out, T>(batch, 13);
    const auto dyd = tn::to<tn::Cuda>(dy);
    // Twice, so that running statistics and the batch plan are reused.
    for (int round = 0; round < 2; ++round) {
      cpu.zero_grad();
      gpu.zero_grad();
      check_close("output", gpu.forward(xd), cpu.forward(x), forward_tolerance);
      cpu.backward(dy);
      gpu.backward(dyd);
      check_close("input gradient", gpu.input_grad(), cpu.input_grad(), gradient_tolerance);
    }
    const auto& pc = cpu.parameters();
    const auto& pg = gpu.parameters();
    BOOST_TEST_REQUIRE(pc.size() == pg.size());
    for (std::size_t i = 0; i < pc.size(); ++i) {
      check_close(pc[i].name() + " value", pg[i].value_data(), pc[i].value_data(), pc[i].size(),
                  forward_tolerance);
      check_close(pc[i].name() + " gradient", pg[i].grad_data(), pc[i].grad_data(), pc[i].size(),
                  gradient_tolerance);
    }
    const auto sc = cpu.state();
    const auto sg = gpu.state();
    for (std::size_t i = 0; i < sc.size(); ++i) {
      if (sc[i].is_parameter || sc[i].type != tn::dtype::f32) continue;
      check_close(sc[i].name, static_cast<const T*>(sg[i].data), static_cast<const T*>(sc[i].data),
                  sc[i].size, forward_tolerance);
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cuda_backend)

BOOST_AUTO_TEST_CASE(tensors_travel_between_host_and_device) {
  const auto x = random_tensor<tn::Shape<3, 5, 7>>(4, 1);
  auto xd = tn::to<tn::Cuda>(x);
  BOOST_TEST(xd.batch() == 4);
  const auto back = tn::to<tn::Cpu>(xd);
  BOOST_TEST(std::equal(x.values().begin(), x.values().end(), back.values().begin()));
  tn::fill(xd, 2.5f);
  tn::Tensor<tn::Shape<3, 5, 7>, tn::Cuda> copy;
  tn::copy(xd, copy);
  tn::Tensor<tn::Shape<3, 5, 7>> host;
  tn::copy(copy, host);
  BOOST_TEST(host.batch() == 4);
  BOOST_TEST(
      std::all_of(host.values().begin(), host.values().end(), [](float v) { return v == 2.5f; }));
  // Storage only grows: a smaller batch keeps the data pointer.
  const float* before = xd.data();
  xd.resize(2);
  BOOST_TEST(xd.data() == before);
}

BOOST_AUTO_TEST_CASE(products_match_the_cpu_gemm) {
  // Row-major C = alpha op(A) op(B) + beta C through the column-major primitive.
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1, 1);
  for (const bool ta : {false, true})
    for (const bool tb : {false, true}) {
      const int m = 7, n = 9, k = 5;
      std::vector<float> a(m * k), b(k * n), c(m * n);
      for (auto* v : {&a, &b, &c})
        for (auto& e : *v) e = u(rng);
      std::vector<float> expected = c;
      for (int i = 0; i < m; ++i)
        for (int j = 0; j < n; ++j) {
          double sum = 0;
          for (int p = 0; p < k; ++p)
            sum += double(ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
          expected[i * n + j] = static_cast<float>(0.5 * sum + 0.25 * c[i * n + j]);
        }
      tn::Tensor<tn::Shape<7 * 5>> ah(1);
      tn::Tensor<tn::Shape<5 * 9>> bh(1);
      tn::Tensor<tn::Shape<7 * 9>> ch(1);
      std::copy(a.begin(), a.end(), ah.data());
      std::copy(b.begin(), b.end(), bh.data());
      std::copy(c.begin(), c.end(), ch.data());
      auto ad = tn::to<tn::Cuda>(ah);
      auto bd = tn::to<tn::Cuda>(bh);
      auto cd = tn::to<tn::Cuda>(ch);
      tn::cuda::gemm(ta, tb, m, n, k, 0.5f, ad.data(), ta ? m : k, bd.data(), tb ? k : n, 0.25f,
                     cd.data(), n);
      BOOST_TEST_CONTEXT("trans_a " << ta << " trans_b " << tb) {
        check_close("C", cd.data(), expected.data(), m * n, forward_tolerance);
      }
    }
}

BOOST_AUTO_TEST_CASE(convolutions) {
  using In = tn::Shape<6, 11, 13>;
  check_network<tn::Sequential<tn::Conv2d<8, 3, tn::Padding<1>>>, In>("conv 3x3 pad 1", 3);
  check_network<tn::Sequential<tn::Conv2d<5, 3, tn::Stride<2>, tn::Padding<1>, tn::NoBias>>, In>(
      "conv 3x3 stride 2 no bias", 2);
  check_network<tn::Sequential<tn::Conv2d<4, 3, tn::Dilation<2>, tn::Padding<2>, tn::Groups<2>>>,
                In>("conv dilated, groups", 2);
  check_network<tn::Sequential<tn::Conv2d<7, 1>>, In>("conv 1x1", 3);
  check_network<tn::Sequential<tn::Conv2d<4, 1, tn::Stride<2>>>, In>("conv 1x1 stride 2", 2);
  check_network<tn::Sequential<tn::Conv2d<6, 5, tn::Padding<2>>>, tn::Shape<1, 28, 28>>(
      "LeNet conv1", 4);
  check_network<tn::Sequential<tn::Conv2d<16, 4, tn::Stride<2>, tn::Padding<1>>>, In>("conv k4 s2",
                                                                                      2);
}

BOOST_AUTO_TEST_CASE(transposed_convolutions) {
  using In = tn::Shape<8, 7, 6>;
  check_network<tn::Sequential<tn::ConvTranspose2d<4, 4, tn::Stride<2>, tn::Padding<1>>>, In>(
      "ConvTranspose2d k4 s2 p1", 3);
  check_network<tn::Sequential<tn::ConvTranspose2d<6, 3, tn::Stride<2>, tn::Padding<1>,
                                                   tn::OutputPadding<1>, tn::NoBias>>,
                In>("ConvTranspose2d k3 s2 output padding", 2);
  check_network<tn::Sequential<tn::ConvTranspose2d<4, 2, tn::Stride<2>, tn::Groups<2>>>, In>(
      "ConvTranspose2d groups", 2);
}

BOOST_AUTO_TEST_CASE(linear_and_activations) {
  using In = tn::Shape<37>;
  check_network<tn::Sequential<tn::Linear<12>>, In>("Linear", 5);
  check_network<tn::Sequential<tn::Linear<9, tn::NoBias>>, In>("Linear no bias", 3);
  check_network<tn::Sequential<tn::ReLU, tn::LeakyReLU<>, tn::Sigmoid, tn::Tanh>, In>("activations",
                                                                                      4);
  check_network<tn::Sequential<tn::Softmax>, In>("Softmax", 4);
  check_network<tn::Sequential<tn::LogSoftmax>, tn::Shape<5, 3, 4>>("LogSoftmax per pixel", 2);
  check_network<tn::Sequential<tn::Dropout<>, tn::Flatten>, tn::Shape<4, 6, 5>>("Dropout", 3);
}

BOOST_AUTO_TEST_CASE(pooling) {
  using In = tn::Shape<3, 13, 14>;
  check_network<tn::Sequential<tn::MaxPool2d<2>>, In>("MaxPool2d 2", 3);
  check_network<tn::Sequential<tn::MaxPool2d<3, tn::Stride<2>, tn::Padding<1>>>, In>(
      "MaxPool2d 3 s2 p1 (overlapping)", 2);
  check_network<tn::Sequential<tn::MaxPool2d<3, tn::Stride<2>, tn::CeilMode>>, In>(
      "MaxPool2d ceil mode", 2);
  check_network<tn::Sequential<tn::MaxPool2d<2, tn::Stride<1>, tn::Dilation<2>>>, In>(
      "MaxPool2d dilated", 2);
  check_network<tn::Sequential<tn::AvgPool2d<3, tn::Stride<2>, tn::Padding<1>>>, In>(
      "AvgPool2d 3 s2 p1", 2);
  check_network<tn::Sequential<tn::AdaptiveAvgPool2d<4, 3>>, In>("AdaptiveAvgPool2d", 2);
  check_network<tn::Sequential<tn::AdaptiveAvgPool2d<1>>, In>("AdaptiveAvgPool2d 1", 2);
}

BOOST_AUTO_TEST_CASE(max_pooling_ties_and_nan_like_the_cpu) {
  // Values from a small set (ties) and a NaN: the same values and argmax.
  using In = tn::Shape<2, 6, 7>;
  tn::Model<tn::Sequential<tn::MaxPool2d<3, tn::Stride<2>, tn::Padding<1>>>, In> cpu;
  tn::Model<tn::Sequential<tn::MaxPool2d<3, tn::Stride<2>, tn::Padding<1>>>, In, tn::Cuda> gpu;
  tn::Tensor<In> x(2);
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> level(-2, 2);
  for (auto& v : x.values()) v = 0.5f * level(rng);
  x(1, 1, 2, 3) = std::nanf("");
  const auto y = tn::to<tn::Cpu>(gpu.forward(tn::to<tn::Cuda>(x)));
  const auto& expected = cpu.forward(x);
  for (std::int64_t i = 0; i < y.size(); ++i) {
    const float a = y.data()[i], b = expected.data()[i];
    BOOST_TEST((a == b || (std::isnan(a) && std::isnan(b))), "element " << i);
  }
}

BOOST_AUTO_TEST_CASE(upsampling) {
  using In = tn::Shape<3, 5, 6>;
  check_network<tn::Sequential<tn::Upsample<2>>, In>("Upsample nearest 2", 3);
  check_network<tn::Sequential<tn::Upsample<3, 2>>, In>("Upsample nearest 3x2", 2);
  check_network<tn::Sequential<tn::Upsample<2, 2, tn::Bilinear>>, In>("Upsample bilinear 2", 2);
  check_network<tn::Sequential<tn::Upsample<3, 4, tn::Bilinear>>, In>("Upsample bilinear 3x4", 2);
}

BOOST_AUTO_TEST_CASE(batch_norm) {
  check_network<tn::Sequential<tn::BatchNorm2d>, tn::Shape<5, 9, 7>>("BatchNorm2d train", 4, true,
                                                                     3.0);
  check_network<tn::Sequential<tn::BatchNorm2d>, tn::Shape<5, 9, 7>>("BatchNorm2d eval", 4, false);
  check_network<tn::Sequential<tn::BatchNorm1d>, tn::Shape<6>>("BatchNorm1d train", 8);
  // More than one reduction block per plane.
  check_network<tn::Sequential<tn::BatchNorm2d>, tn::Shape<2, 40, 50>>("BatchNorm2d large plane",
                                                                       3);
}

BOOST_AUTO_TEST_CASE(residual_block) {
  check_network<tn::Sequential<tn::models::BasicBlock<8, 2, true>>, tn::Shape<4, 10, 10>>(
      "BasicBlock with downsample", 2);
  check_network<tn::Sequential<tn::models::BasicBlock<4>>, tn::Shape<4, 6, 6>>("BasicBlock", 2,
                                                                               false);
}

BOOST_AUTO_TEST_CASE(double_precision) {
  check_network<tn::Sequential<tn::Conv2d<4, 3, tn::Padding<1>>, tn::BatchNorm2d, tn::ReLU,
                               tn::MaxPool2d<2>, tn::Flatten, tn::Linear<5>>,
                tn::Shape<3, 8, 8>, double>("a small network in double", 3);
}

namespace {
/// Parameters of two models of one network agree.
template <class A, class B>
void check_parameters(const std::string& when, const A& cpu, const B& gpu, tolerance tol) {
  const auto& pc = cpu.parameters();
  const auto& pg = gpu.parameters();
  BOOST_TEST_REQUIRE(pc.size() == pg.size());
  for (std::size_t i = 0; i < pc.size(); ++i)
    check_close(pc[i].name() + " " + when, pg[i].value_data(), pc[i].value_data(), pc[i].size(),
                tol);
}
}  // namespace

BOOST_AUTO_TEST_CASE(lenet_training_steps) {
  // SGD with momentum and CrossEntropyLoss, as the LeNet-5 benchmark.
  using In = tn::Shape<1, 28, 28>;
  tn::Model<tn::models::LeNet5<>, In> cpu(3);
  tn::Model<tn::models::LeNet5<>, In, tn::Cuda> gpu(3);
  tn::SGD<float> cpu_sgd(cpu.parameters(), {.lr = 0.05, .momentum = 0.9});
  tn::SGD gpu_sgd(gpu.parameters(), {.lr = 0.05, .momentum = 0.9});  // deduced: SGD<float, Cuda>
  static_assert(std::is_same_v<decltype(gpu_sgd), tn::SGD<float, tn::Cuda>>);
  tn::CrossEntropyLoss loss;
  decltype(cpu)::output_tensor grad;
  decltype(gpu)::output_tensor grad_d;
  for (int step = 0; step < 4; ++step) {
    const auto x = random_tensor<In>(16, 100 + step);
    const auto xd = tn::to<tn::Cuda>(x);  // alive until backward, which reads it
    std::vector<int> labels(16);
    for (int i = 0; i < 16; ++i) labels[static_cast<std::size_t>(i)] = (i * 7 + step) % 10;
    cpu.zero_grad();
    gpu.zero_grad();
    const double lc = loss(cpu.forward(x), labels, grad);
    const double lg = loss(gpu.forward(xd), labels, grad_d);
    BOOST_TEST(std::abs(lg - lc) <= 1e-4 * std::abs(lc),
               "step " << step << ": Cuda loss " << lg << ", Cpu loss " << lc);
    cpu.backward(grad);
    gpu.backward(grad_d);
    cpu_sgd.step();
    gpu_sgd.step();
  }
  check_parameters("after 4 SGD steps", cpu, gpu, tolerance{1e-3, 1e-5});
}

BOOST_AUTO_TEST_CASE(dynamic_extents_match_the_cpu) {
  // One model of Shape<3, dyn, dyn> per backend over three sizes (the last
  // repeats the first: re-planned, no reallocation); every output, input
  // gradient and parameter gradient must agree.
  using Net = tn::Sequential<tn::Conv2d<8, 3, tn::Padding<1>>, tn::BatchNorm2d, tn::ReLU,
                             tn::MaxPool2d<3, tn::Stride<2>, tn::Padding<1>, tn::CeilMode>,
                             tn::ConvTranspose2d<4, 4, tn::Stride<2>, tn::Padding<1>>,
                             tn::Upsample<2, 2, tn::Bilinear>, tn::AvgPool2d<2>, tn::Conv2d<2, 1>>;
  using In = tn::Shape<3, tn::dyn, tn::dyn>;
  tn::Model<Net, In> cpu(7);
  tn::Model<Net, In, tn::Cuda> gpu(7);
  cpu.requires_input_grad(true);
  gpu.requires_input_grad(true);
  const std::array<tn::extents_t<In>, 3> sizes{{{3, 17, 23}, {3, 10, 31}, {3, 17, 23}}};
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    BOOST_TEST_CONTEXT("size " << tn::extents_string(sizes[k])) {
      const auto x = random_tensor<In>(2, sizes[k], 40 + k);
      const auto& y = cpu.forward(x);
      check_close("output", gpu.forward(tn::to<tn::Cuda>(x)), y, forward_tolerance);
      BOOST_TEST(gpu.output().extents() == y.extents());
      const auto dy = random_tensor<typename decltype(cpu)::output_shape>(2, y.extents(), 50 + k);
      cpu.zero_grad();
      gpu.zero_grad();
      cpu.backward(dy);
      gpu.backward(tn::to<tn::Cuda>(dy));
      check_close("input gradient", gpu.input_grad(), cpu.input_grad(), gradient_tolerance);
      const auto& pc = cpu.parameters();
      const auto& pg = gpu.parameters();
      for (std::size_t i = 0; i < pc.size(); ++i)
        check_close(pc[i].name() + " gradient", pg[i].grad_data(), pc[i].grad_data(), pc[i].size(),
                    gradient_tolerance);
    }
  }
}

BOOST_AUTO_TEST_CASE(merges_and_skips_match_the_cpu) {
  // Concat, Sum, an output read back by two later layers (From) and a
  // decoder padded to an odd encoder size (PadLike): the kernels copy_blocks
  // and pad_planes, forward and backward, at two sizes. (No ReLU: a tie at 0
  // could route a gradient differently on the two backends.)
  using Net = tn::Sequential<
      tn::Named<"a", tn::Conv2d<3, 3, tn::Padding<1>>>,
      tn::Named<"b", tn::Sequential<tn::MaxPool2d<2>, tn::Conv2d<4, 3, tn::Padding<1>>>>,
      tn::ConvTranspose2d<3, 2, tn::Stride<2>>, tn::Concat<tn::From<"a">, tn::PadLike<"a">>,
      tn::Sum<tn::From<"a">, tn::Conv2d<3, 1>, tn::Sequential<tn::Conv2d<3, 1>, tn::Tanh>>,
      tn::Named<"last", tn::Conv2d<2, 3, tn::Padding<1>>>>;
  using In = tn::Shape<2, tn::dyn, tn::dyn>;
  tn::Model<Net, In> cpu(9);
  tn::Model<Net, In, tn::Cuda> gpu(9);
  cpu.requires_input_grad(true);
  gpu.requires_input_grad(true);
  const std::array<tn::extents_t<In>, 2> sizes{{{2, 13, 19}, {2, 16, 16}}};
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    BOOST_TEST_CONTEXT("size " << tn::extents_string(sizes[k])) {
      const auto x = random_tensor<In>(2, sizes[k], 60 + k);
      const auto& y = cpu.forward(x);
      check_close("output", gpu.forward(tn::to<tn::Cuda>(x)), y, forward_tolerance);
      const auto dy = random_tensor<typename decltype(cpu)::output_shape>(2, y.extents(), 70 + k);
      cpu.zero_grad();
      gpu.zero_grad();
      cpu.backward(dy);
      gpu.backward(tn::to<tn::Cuda>(dy));
      check_close("input gradient", gpu.input_grad(), cpu.input_grad(), gradient_tolerance);
      const auto& pc = cpu.parameters();
      const auto& pg = gpu.parameters();
      for (std::size_t i = 0; i < pc.size(); ++i)
        check_close(pc[i].name() + " gradient", pg[i].grad_data(), pc[i].grad_data(), pc[i].size(),
                    gradient_tolerance);
    }
  }
}

BOOST_AUTO_TEST_CASE(colorization_training_steps) {
  // The lecture's ColorizationNet: Adam and MSELoss, on 32x32 crops. The
  // first step's gradients and every step's loss must agree. Parameters
  // after Adam steps are not compared: the biases of convolutions followed
  // by BatchNorm have a zero gradient up to rounding, and Adam moves each by
  // about lr in the direction of that rounding noise.
  using In = tn::Shape<1, 32, 32>;
  tn::Model<tn::models::ColorizationNet, In> cpu(5);
  tn::Model<tn::models::ColorizationNet, In, tn::Cuda> gpu(5);
  cpu.train();
  gpu.train();
  tn::Adam<float> cpu_adam(cpu.parameters(), {.lr = 1e-3});
  tn::Adam<float, tn::Cuda> gpu_adam(gpu.parameters(), {.lr = 1e-3});
  tn::MSELoss loss;
  decltype(cpu)::output_tensor grad;
  decltype(gpu)::output_tensor grad_d;
  for (int step = 0; step < 3; ++step) {
    const auto x = random_tensor<In>(4, 200 + step);
    const auto xd = tn::to<tn::Cuda>(x);
    const auto target = random_tensor<tn::Shape<2, 32, 32>>(4, 300 + step, 0.3);
    const auto target_d = tn::to<tn::Cuda>(target);
    cpu.zero_grad();
    gpu.zero_grad();
    const double lc = loss(cpu.forward(x), target, grad);
    const double lg = loss(gpu.forward(xd), target_d, grad_d);
    BOOST_TEST(std::abs(lg - lc) <= 1e-4 * std::abs(lc),
               "step " << step << ": Cuda loss " << lg << ", Cpu loss " << lc);
    cpu.backward(grad);
    gpu.backward(grad_d);
    if (step == 0) {
      const auto& pc = cpu.parameters();
      const auto& pg = gpu.parameters();
      for (std::size_t i = 0; i < pc.size(); ++i)
        check_close(pc[i].name() + " gradient", pg[i].grad_data(), pc[i].grad_data(), pc[i].size(),
                    gradient_tolerance);
    }
    cpu_adam.step();
    gpu_adam.step();
  }
}

BOOST_AUTO_TEST_CASE(a_temporary_device_input_is_kept_for_backward) {
  using Net = tn::Sequential<tn::Conv2d<4, 3>, tn::ReLU, tn::Flatten, tn::Linear<3>>;
  using In = tn::Shape<2, 6, 6>;
  tn::Model<Net, In, tn::Cpu> cpu(5);
  tn::Model<Net, In, tn::Cuda> gpu(5);
  const auto x = random_tensor<In>(2, 61);
  const auto dy = random_tensor<tn::Shape<3>>(2, 62);
  const auto dyd = tn::to<tn::Cuda>(dy);
  cpu.forward(x);
  cpu.backward(dy);
  gpu.forward(tn::to<tn::Cuda>(x));
  const auto scribble = tn::to<tn::Cuda>(random_tensor<In>(2, 63));  // may reuse freed memory
  gpu.backward(dyd);
  const auto& pc = cpu.parameters();
  const auto& pg = gpu.parameters();
  for (std::size_t i = 0; i < pc.size(); ++i)
    check_close(pc[i].name() + " gradient", pg[i].grad_data(), pc[i].grad_data(), pc[i].size(),
                gradient_tolerance);
  BOOST_TEST(scribble.batch() == 2);
}

/// A loss on both backends: the same value and gradient (and, for the loss
/// alone, the same value); `target` is a tensor or a span of labels.
template <class Loss, class S, class Target>
void check_loss(const std::string& what, const Loss& loss, const tn::Tensor<S>& prediction,
                const Target& target) {
  BOOST_TEST_CONTEXT(what) {
    const auto pd = tn::to<tn::Cuda>(prediction);
    auto on_device = [&]() -> decltype(auto) {
      if constexpr (std::is_same_v<Target, tn::Tensor<S>>)
        return tn::to<tn::Cuda>(target);
      else
        return (target);
    };
    const auto& td = on_device();
    tn::Tensor<S> grad;
    tn::Tensor<S, tn::Cuda> grad_d;
    const double lc = loss(prediction, target, grad);
    const double lg = loss(pd, td, grad_d);
    BOOST_TEST(std::abs(lg - lc) <= 1e-9 * std::abs(lc) + 1e-12, "Cuda " << lg << ", Cpu " << lc);
    check_close("gradient", grad_d, grad, forward_tolerance);
    BOOST_TEST(std::abs(loss(pd, td) - lc) <= 1e-9 * std::abs(lc) + 1e-12);
  }
}

BOOST_AUTO_TEST_CASE(losses_match_the_cpu) {
  using Map = tn::Shape<2, 5, 7>;
  const auto prediction = random_tensor<Map>(3, 41);
  const auto target = random_tensor<Map>(3, 43);
  check_loss("MSELoss", tn::MSELoss{}, prediction, target);
  check_loss("MSELoss sum", tn::MSELoss({.reduction = tn::reduction::sum}), prediction, target);
  check_loss("L1Loss", tn::L1Loss{}, prediction, target);
  check_loss("SmoothL1Loss", tn::SmoothL1Loss({.beta = 0.5}), prediction, target);
  check_loss("SmoothL1Loss beta 0", tn::SmoothL1Loss({.beta = 0}), prediction, target);
  // BCEWithLogitsLoss: targets in [0, 1], per-class and per-element weights.
  auto probabilities = target;
  for (auto& v : probabilities.values()) v = 1 / (1 + std::exp(-v));
  check_loss("BCEWithLogitsLoss", tn::BCEWithLogitsLoss{}, prediction, probabilities);
  std::vector<float> element_weights(Map::size);
  for (std::size_t i = 0; i < element_weights.size(); ++i) element_weights[i] = 0.1f * (i % 11);
  check_loss("BCEWithLogitsLoss weighted",
             tn::BCEWithLogitsLoss({.weight = element_weights,
                                    .reduction = tn::reduction::sum,
                                    .pos_weight = {2.0f, 0.5f, 1, 1, 3, 1, 1}}),
             prediction, probabilities);

  // Classification, then segmentation with every option.
  const auto logits = random_tensor<tn::Shape<10>>(6, 47, 3.0);
  const std::vector<int> labels{3, 0, 9, 9, 4, 7};
  check_loss("CrossEntropyLoss", tn::CrossEntropyLoss{}, logits, std::span<const int>(labels));
  const auto maps = random_tensor<tn::Shape<4, 3, 5>>(2, 53, 2.0);
  std::vector<int> pixels(2 * 3 * 5);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = i % 7 == 0 ? 255 : int(i * 5 % 4);
  check_loss("CrossEntropyLoss segmentation",
             tn::CrossEntropyLoss(
                 {.weight = {0.5f, 1, 2, 0.25f}, .ignore_index = 255, .label_smoothing = 0.1}),
             maps, std::span<const int>(pixels));
  check_loss("CrossEntropyLoss sum",
             tn::CrossEntropyLoss({.ignore_index = 255, .reduction = tn::reduction::sum}), maps,
             std::span<const int>(pixels));

  // Bad input is refused on the device as on the host, before anything is written.
  const auto pd = tn::to<tn::Cuda>(prediction);
  const auto shorter = tn::to<tn::Cuda>(random_tensor<Map>(2, 59));
  tn::Tensor<Map, tn::Cuda> grad_d;
  BOOST_CHECK_THROW(tn::MSELoss{}(pd, shorter, grad_d), tn::shape_error);
  auto poisoned = prediction;
  poisoned.values()[17] = std::numeric_limits<float>::quiet_NaN();
  BOOST_CHECK_THROW(tn::L1Loss{}(tn::to<tn::Cuda>(poisoned), pd, grad_d), tn::non_finite_loss);
  auto outside = probabilities;
  outside.values()[40] = -1;  // sample 0 at (1, 0, 5)
  try {
    tn::BCEWithLogitsLoss{}(pd, tn::to<tn::Cuda>(outside), grad_d);
    BOOST_ERROR("a target of -1 was accepted");
  } catch (const tn::usage_error& e) {
    BOOST_TEST(std::string(e.what()).find("target -1.000000 of sample 0 at (1, 0, 5)") !=
                   std::string::npos,
               e.what());
  }
  const auto logits_d = tn::to<tn::Cuda>(logits);
  tn::Tensor<tn::Shape<10>, tn::Cuda> logits_grad;
  const std::vector<int> out_of_range{3, 0, 10, 9, 4, 7};
  BOOST_CHECK_THROW(tn::CrossEntropyLoss{}(logits_d, out_of_range, logits_grad), tn::usage_error);
  const std::vector<int> all_ignored(6, -100);
  BOOST_CHECK_THROW(tn::CrossEntropyLoss{}(logits_d, all_ignored, logits_grad),
                    tn::non_finite_loss);
}

BOOST_AUTO_TEST_CASE(optimizer_updates_match) {
  // The same parameters and gradients on both devices: SGD (momentum,
  // Nesterov, weight decay), Adam, AdamW with amsgrad; three steps each.
  using Net = tn::Sequential<tn::Linear<13>>;
  using In = tn::Shape<11>;
  tn::Model<Net, In> cpu(8);
  tn::Model<Net, In, tn::Cuda> gpu(8);
  const auto fill_gradients = [&](int step) {
    const auto& pc = cpu.parameters();
    const auto& pg = gpu.parameters();
    for (std::size_t i = 0; i < pc.size(); ++i) {
      std::mt19937_64 rng(50 + 10 * step + i);
      std::normal_distribution<float> normal;
      for (auto& v : pc[i].grad()) v = normal(rng);
      tn::cuda::copy_to_device(pc[i].grad_data(), pc[i].size(), pg[i].grad_data());
    }
  };
  const auto run = [&](auto& opt_cpu, auto& opt_gpu, const std::string& name) {
    for (int step = 0; step < 3; ++step) {
      fill_gradients(step);
      opt_cpu.step();
      opt_gpu.step();
    }
    check_parameters("after " + name, cpu, gpu, tolerance{1e-6, 1e-7});
  };
  {
    tn::SGD<float> a(cpu.parameters(),
                     {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true});
    tn::SGD<float, tn::Cuda> b(
        gpu.parameters(), {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true});
    run(a, b, "SGD");
  }
  {
    tn::Adam<float> a(cpu.parameters(), {.lr = 0.01, .weight_decay = 0.1});
    tn::Adam<float, tn::Cuda> b(gpu.parameters(), {.lr = 0.01, .weight_decay = 0.1});
    run(a, b, "Adam");
  }
  {
    tn::AdamW<float> a(cpu.parameters(), {.lr = 0.01, .amsgrad = true});
    tn::AdamW<float, tn::Cuda> b(gpu.parameters(), {.lr = 0.01, .amsgrad = true});
    run(a, b, "AdamW amsgrad");
  }
  // Gradient clipping's norm and rescaling.
  fill_gradients(7);
  const double nc = tn::clip_grad_norm(cpu.parameters(), 1.0);
  const double ng = tn::clip_grad_norm(gpu.parameters(), 1.0);
  BOOST_TEST(std::abs(nc - ng) <= 1e-6 * nc);
  const auto& pc = cpu.parameters();
  const auto& pg = gpu.parameters();
  for (std::size_t i = 0; i < pc.size(); ++i)
    check_close(pc[i].name() + " clipped gradient", pg[i].grad_data(), pc[i].grad_data(),
                pc[i].size(), tolerance{1e-6, 1e-7});
}

/// Two classes of 8x8 gray images, bright top half (0) or bright bottom
/// half (1), with noise; the class also as two 0/1 attributes.
struct half_bright {
  std::size_t size() const { return 64; }
  tn::data::example get(std::size_t i) const {
    std::mt19937_64 rng(i + 1);
    std::uniform_real_distribution<float> noise(0.0f, 0.3f);
    tn::data::example ex;
    ex.label = static_cast<int>(i % 2);
    ex.attributes = {ex.label == 0 ? 1.0f : 0.0f, ex.label == 1 ? 1.0f : 0.0f};
    ex.image = tn::image(8, 8, 1);
    for (int y = 0; y < 8; ++y)
      for (int x = 0; x < 8; ++x)
        ex.image(y, x) = ((y < 4) == (ex.label == 0) ? 0.7f : 0.0f) + noise(rng);
    return ex;
  }
};

using FitNet = tn::Sequential<tn::Conv2d<4, 3, tn::Padding<1>>, tn::BatchNorm2d, tn::ReLU,
                              tn::Dropout<>, tn::Flatten, tn::Linear<2>>;
using FitIn = tn::Shape<1, 8, 8>;

template <class Device>
using FitModel = tn::Model<FitNet, FitIn, Device>;

/// The parameters of a model, on the host.
template <class M>
std::vector<float> parameter_values(const M& m) {
  std::vector<float> out;
  for (const auto& p : m.parameters()) {
    const std::size_t at = out.size();
    out.resize(at + static_cast<std::size_t>(p.size()));
    if constexpr (std::is_same_v<typename M::device, tn::Cpu>)
      std::copy_n(p.value_data(), p.size(), out.data() + at);
    else
      tn::cuda::copy_to_host(p.value_data(), p.size(), out.data() + at);
  }
  return out;
}

BOOST_AUTO_TEST_CASE(fit_and_its_checkpoints_on_the_device) {
  using Loader = tn::data::DataLoader<FitIn>;
  const Loader train(half_bright{}, {.batch_size = 16, .shuffle = true, .seed = 5});
  const Loader val(half_bright{}, {.batch_size = 16});
  const tn::fit_options quiet{.epochs = 3, .progress = tn::progress_mode::never};
  const tn::SGDOptions sgd_options{.lr = 0.05, .momentum = 0.9, .weight_decay = 1e-4};

  // The same training on both devices: the same history and weights.
  FitModel<tn::Cpu> cpu(1);
  FitModel<tn::Cuda> gpu(1);
  tn::SGD cpu_sgd(cpu.parameters(), sgd_options);
  tn::SGD gpu_sgd(gpu.parameters(), sgd_options);
  const auto rc = tn::fit(cpu, tn::CrossEntropyLoss{}, cpu_sgd, train, val, quiet);
  const auto rg = tn::fit(gpu, tn::CrossEntropyLoss{}, gpu_sgd, train, val, quiet);
  BOOST_TEST_REQUIRE(rg.history.size() == 3u);
  for (std::size_t e = 0; e < rc.history.size(); ++e) {
    BOOST_TEST(rg.history[e].train_loss == rc.history[e].train_loss,
               boost::test_tools::tolerance(1e-4));
    BOOST_TEST(*rg.history[e].val_loss == *rc.history[e].val_loss,
               boost::test_tools::tolerance(1e-4));
    BOOST_TEST(*rg.history[e].val_accuracy == *rc.history[e].val_accuracy);
  }
  BOOST_TEST(*rg.history.back().val_accuracy > 0.9);
  const auto wc = parameter_values(cpu);
  const auto wg = parameter_values(gpu);
  check_close("weights after fit", wg.data(), wc.data(), static_cast<std::int64_t>(wc.size()),
              gradient_tolerance);

  // Checkpoints of a device model and its optimizer: stopping after epoch 1
  // and resuming into another initialisation ends where an uninterrupted run
  // ends.
  const auto dir =
      std::filesystem::temp_directory_path() / ("typenet_cuda_fit_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  {
    FitModel<tn::Cuda> first(1);
    tn::SGD sgd(first.parameters(), sgd_options);
    tn::fit(first, tn::CrossEntropyLoss{}, sgd, train, val,
            {.epochs = 1, .checkpoint_dir = dir, .progress = tn::progress_mode::never});
  }
  FitModel<tn::Cuda> resumed(7);
  tn::SGD resumed_sgd(resumed.parameters(), sgd_options);
  const auto rr = tn::fit(
      resumed, tn::CrossEntropyLoss{}, resumed_sgd, train, val,
      {.epochs = 3, .checkpoint_dir = dir, .resume = true, .progress = tn::progress_mode::never});
  BOOST_TEST(rr.start_epoch == 1);
  const auto wr = parameter_values(resumed);
  check_close("weights after resuming", wr.data(), wg.data(), static_cast<std::int64_t>(wg.size()),
              {1e-6, 1e-7});
  // best.safetensors holds the weights alone, for load_weights on either device.
  FitModel<tn::Cpu> best(3);
  tn::load_weights(best, (dir / "best.safetensors").string());
  std::filesystem::remove_all(dir);

  // Targets (multi-label attributes) travel to the device too.
  using TargetLoader = tn::data::DataLoader<FitIn, tn::Shape<2>>;
  const TargetLoader attributes(half_bright{}, {.batch_size = 16, .shuffle = true, .seed = 5});
  FitModel<tn::Cpu> cpu_bce(2);
  FitModel<tn::Cuda> gpu_bce(2);
  tn::SGD cpu_bce_sgd(cpu_bce.parameters(), sgd_options);
  tn::SGD gpu_bce_sgd(gpu_bce.parameters(), sgd_options);
  const tn::fit_options two{.epochs = 2, .progress = tn::progress_mode::never};
  const auto bc = tn::fit(cpu_bce, tn::BCEWithLogitsLoss{}, cpu_bce_sgd, attributes, two);
  const auto bg = tn::fit(gpu_bce, tn::BCEWithLogitsLoss{}, gpu_bce_sgd, attributes, two);
  BOOST_TEST(bg.history.back().train_loss == bc.history.back().train_loss,
             boost::test_tools::tolerance(1e-4));
  BOOST_TEST(bg.history.back().train_loss < bg.history.front().train_loss);
}

BOOST_AUTO_TEST_CASE(weights_load_into_and_save_from_device_parameters) {
  using Net =
      tn::Sequential<tn::Conv2d<4, 3>, tn::BatchNorm2d, tn::ReLU, tn::Flatten, tn::Linear<3>>;
  using In = tn::Shape<2, 6, 6>;
  const auto dir = std::filesystem::temp_directory_path() /
                   ("typenet_cuda_weights_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  tn::Model<Net, In> source(21);
  source.train();
  source.forward(random_tensor<In>(3, 1));  // running statistics away from their start
  tn::save_weights(source, (dir / "source.safetensors").string());

  tn::Model<Net, In, tn::Cuda> gpu(99);
  const auto report = tn::load_weights(gpu, (dir / "source.safetensors").string());
  BOOST_TEST(report.loaded.size() == source.state().size());
  tn::save_weights(gpu, (dir / "from_gpu.safetensors").string());
  tn::Model<Net, In> back(5);
  tn::load_weights(back, (dir / "from_gpu.safetensors").string());
  const auto a = source.state(), b = back.state();
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::size_t bytes =
        static_cast<std::size_t>(a[i].size) * (a[i].type == tn::dtype::i64 ? 8 : 4);
    BOOST_TEST(std::memcmp(a[i].data, b[i].data, bytes) == 0, a[i].name << " round trip");
  }
  // A wrong shape is refused before anything is written, on the device too.
  tn::Model<tn::Sequential<tn::Conv2d<5, 3>, tn::BatchNorm2d, tn::ReLU, tn::Flatten, tn::Linear<3>>,
            In, tn::Cuda>
      wrong(1);
  BOOST_CHECK_THROW(tn::load_weights(wrong, (dir / "source.safetensors").string()),
                    tn::weights_mismatch);
  std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(torchvision_resnet18_checkpoint_on_the_device) {
  // A torchvision resnet18 saved by torch.save, loaded straight into device
  // parameters, in eval mode against PyTorch's output (fixtures/weights).
  using In = tn::Shape<3, 224, 224>;
  const std::string dir = typenet_test::fixture_directory() + "/weights/";
  tn::Model<tn::models::ResNet18<>, In, tn::Cuda> model;
  tn::load_weights(model, dir + "resnet18.pth");
  model.eval();
  const auto io = typenet_test::Fixture::read_file(dir + "resnet18_io.tnfx");
  const auto x = tn::to<tn::Cuda>(typenet_test::tensor_from_fixture<In>(io.at("input")));
  const auto y = tn::to<tn::Cpu>(model.forward(x));
  // As tests/test_weights.cpp: a whole network's rounding grows with the
  // output's scale, so atol gains 1e-6 of the largest logit.
  const auto& expected = io.at("output");
  double largest = 0;
  for (std::int64_t i = 0; i < expected.numel(); ++i)
    largest = std::max(largest, std::abs(expected.at(i)));
  BOOST_TEST(typenet_test::check_close(
      "resnet18 output", y, expected,
      typenet_test::Tolerance{forward_tolerance.rtol, forward_tolerance.atol + 1e-6 * largest}));
}

BOOST_AUTO_TEST_CASE(parameters_copy_between_devices) {
  using Net = tn::models::LeNet5<>;
  using In = tn::Shape<1, 28, 28>;
  tn::Model<Net, In> cpu(1);
  tn::Model<Net, In, tn::Cuda> gpu(2);
  cpu.freeze("0.");
  tn::copy_parameters(cpu, gpu);
  check_parameters("copied to the device", cpu, gpu, tolerance{0, 0});
  BOOST_TEST(!gpu.parameters()[0].requires_grad());
  tn::Model<Net, In> back(3);
  tn::copy_parameters(gpu, back);
  check_parameters("copied back", back, gpu, tolerance{0, 0});
}

BOOST_AUTO_TEST_SUITE_END()
