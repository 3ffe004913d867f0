// The backend interface (include/typenet/backend): typed views, the operand
// checks every kernel runs before any work, and the Cpu backend reached
// through the interface.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <array>
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include <typenet/nn.hpp>

namespace tn = typenet;

namespace {

/// The message of the shape_error `f` throws, or "" when it throws none.
template <class F>
std::string shape_error_of(F&& f) {
  try {
    f();
  } catch (const tn::shape_error& e) {
    return e.what();
  }
  return "";
}

constexpr tn::window_geometry conv3x3{.in_c = 2,
                                      .in_h = 5,
                                      .in_w = 5,
                                      .out_c = 3,
                                      .out_h = 3,
                                      .out_w = 3,
                                      .kernel_h = 3,
                                      .kernel_w = 3};

}  // namespace

BOOST_AUTO_TEST_SUITE(backend)

BOOST_AUTO_TEST_CASE(views_of_tensors_carry_extents_and_packed_strides) {
  tn::Tensor<tn::Shape<3, 4, 5>> t(2);
  const auto v = tn::backend::batch_view(t);
  BOOST_TEST((v.extents == std::array<std::int64_t, 4>{2, 3, 4, 5}));
  BOOST_TEST((v.strides == std::array<std::int64_t, 4>{60, 20, 5, 1}));
  BOOST_TEST(v.size() == t.size());
  BOOST_TEST(v.is_contiguous());
  BOOST_TEST(v.data == t.data());

  const auto c = tn::backend::channel_view(t);
  BOOST_TEST((c.extents == std::array<std::int64_t, 3>{2, 3, 20}));
  BOOST_TEST((tn::backend::sample_view(t).extents == std::array<std::int64_t, 3>{3, 4, 5}));
  BOOST_TEST(tn::backend::flat_view(t).size() == 120);

  auto strided = v;
  strided.strides[3] = 2;  // every other element: not what kernels take
  BOOST_TEST(!strided.is_contiguous());
  BOOST_TEST(v.extents_string() == "[2, 3, 4, 5]");
}

// Every kernel checks its operands against one another and the geometry
// before it runs, and names itself and the operand.
BOOST_AUTO_TEST_CASE(kernels_reject_operands_of_the_wrong_extents_before_work) {
  std::vector<float> x(2 * 5 * 5, 1.0f), w(3 * 2 * 3 * 3, 1.0f), y(3 * 3 * 3, -7.0f);
  const auto xv = tn::backend::contiguous_view<const float, 4>(x.data(), {1, 2, 5, 5});
  const auto wv = tn::backend::contiguous_view<const float, 4>(w.data(), {3, 2, 3, 3});

  // Correct operands: the Cpu kernel runs (a 3x3 window of ones over 2 channels of ones = 18).
  tn::backend::conv2d_forward(tn::Cpu{}, conv3x3, xv, wv, tn::backend::no_view<const float>(),
                              tn::backend::contiguous_view<float, 4>(y.data(), {1, 3, 3, 3}));
  BOOST_TEST(y[0] == 18.0f);

  std::fill(y.begin(), y.end(), -7.0f);
  const std::string wrong_y = shape_error_of([&] {
    tn::backend::conv2d_forward(tn::Cpu{}, conv3x3, xv, wv, tn::backend::no_view<const float>(),
                                tn::backend::contiguous_view<float, 4>(y.data(), {1, 3, 4, 2}));
  });
  BOOST_TEST(wrong_y ==
             "typenet::backend::conv2d_forward: operand `y` has extents [1, 3, 4, 2], expected "
             "[1, 3, 3, 3]");
  BOOST_TEST(y[0] == -7.0f);  // nothing was written

  const std::string wrong_bias = shape_error_of([&] {
    std::vector<float> bias(2);
    tn::backend::conv2d_forward(tn::Cpu{}, conv3x3, xv, wv,
                                tn::backend::vector_view<const float>(bias.data(), 2),
                                tn::backend::contiguous_view<float, 4>(y.data(), {1, 3, 3, 3}));
  });
  BOOST_TEST(wrong_bias.find("operand `bias` has extents [2], expected [3]") != std::string::npos);

  const std::string strided = shape_error_of([&] {
    auto xs = xv;
    xs.strides[3] = 2;
    tn::backend::conv2d_forward(tn::Cpu{}, conv3x3, xs, wv, tn::backend::no_view<const float>(),
                                tn::backend::contiguous_view<float, 4>(y.data(), {1, 3, 3, 3}));
  });
  BOOST_TEST(strided.find("operand `x` is strided") != std::string::npos);

  const std::string element_wise = shape_error_of([&] {
    std::vector<float> a(4), b(5), out(4);
    tn::backend::add(tn::Cpu{}, tn::backend::vector_view<const float>(a.data(), 4),
                     tn::backend::vector_view<const float>(b.data(), 5),
                     tn::backend::vector_view(out.data(), 4));
  });
  BOOST_TEST(element_wise == "typenet::backend::add: operand `b` has extents [5], expected [4]");
}

// The optional operands (a layer without bias, no input gradient) are null
// views; the kernels then skip them.
BOOST_AUTO_TEST_CASE(absent_operands_are_skipped) {
  std::vector<float> x{1, 2, 3, 4, 5, 6}, w{1, 0, 0, 0, 1, 0}, dy{1, 1, 1, 1}, dw(6, 1.0f);
  tn::backend::linear_backward(
      tn::Cpu{}, tn::backend::contiguous_view<const float, 2>(x.data(), {2, 3}),
      tn::backend::contiguous_view<const float, 2>(w.data(), {2, 3}),
      tn::backend::contiguous_view<const float, 2>(dy.data(), {2, 2}),
      tn::backend::view<float, 2>{}, tn::backend::contiguous_view<float, 2>(dw.data(), {2, 3}),
      tn::backend::view<float, 1>{});
  // dw += dy^T x (parameter gradients accumulate): each row gains the column sums of x.
  BOOST_TEST((dw == std::vector<float>{6, 8, 10, 6, 8, 10}));
}

BOOST_AUTO_TEST_SUITE_END()
