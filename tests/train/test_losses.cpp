// The losses of train/losses.hpp against PyTorch 1.13, by finite differences,
// and on bad input.
//
// Reference data: tools/make_loss_fixtures.py --out $TYPENET_FIXTURES writes
// one file per loss and option combination into losses/; its docstring lists
// the cases, whose names the tests below rebuild, and every file there must be
// checked by some test. Each case holds torch's float32 result (compared with
// typenet<float>) and its float64 result on the same inputs (compared with
// typenet<double>).
//
// Tolerances: typenet computes in double whatever T is, so in float it differs
// from torch's float32 only by float32 rounding: rtol 1e-5 for the loss and
// the gradient, tighter than DESIGN.md §4b's forward tolerance, with an atol of
// 1e-6 of the largest gradient element for elements that cancel to about 0. In
// double the two agree to rtol 1e-10. Finite differences run in double with
// the inputs away from the kinks (L1 at 0, SmoothL1 at +-beta).
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <random>
#include <set>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include <boost/mp11/list.hpp>

#include <typenet/train.hpp>

#include "fixtures.hpp"
#include "gradcheck.hpp"

namespace tn = typenet;
using typenet_test::Fixture;
using typenet_test::Tolerance;

namespace {

using scalar_types = boost::mp11::mp_list<float, double>;

// ---- fixtures ------------------------------------------------------------------------------

std::string losses_dir() {
  return typenet_test::fixture_directory() + "/losses";
}

/// The names of the cases the tests have checked (every file must be).
std::set<std::string>& checked_cases() {
  static std::set<std::string> names;
  return names;
}

Fixture load(const std::string& name) {
  checked_cases().insert(name);
  return Fixture::read_file(losses_dir() + "/" + name + ".tnfx");
}

tn::reduction reduction_of(const Fixture& f) {
  return f.at("reduction").scalar() == 0 ? tn::reduction::mean : tn::reduction::sum;
}

std::vector<float> floats(const Fixture& f, const std::string& name) {
  std::vector<float> v;
  if (const auto* t = f.find(name))
    for (std::int64_t i = 0; i < t->numel(); ++i) v.push_back(static_cast<float>(t->at(i)));
  return v;
}

std::vector<int> labels_of(const Fixture& f) {
  const auto& t = f.at("labels");
  return {t.i64.begin(), t.i64.end()};
}

const char* const reductions[] = {"mean", "sum"};

/// Runs `loss_of(input, grad)` (with a gradient) and `value_of(input)` (the
/// loss alone) on the case's input and compares them with PyTorch's.
template <class S, class T, class LossOf, class ValueOf>
void check_case(const std::string& name, const Fixture& f, LossOf loss_of, ValueOf value_of) {
  BOOST_TEST_CONTEXT("case " << name << " in " << (std::is_same_v<T, float> ? "float" : "double")) {
    const std::string suffix = std::is_same_v<T, float> ? "" : "64";
    const double rtol = std::is_same_v<T, float> ? 1e-5 : 1e-10;
    const auto x = typenet_test::tensor_from_fixture<S, T>(f.at("input"));
    tn::Tensor<S, tn::Cpu, T> grad(1);  // resized by the loss
    const double loss = loss_of(x, grad);
    const auto& want_loss = f.at("loss" + suffix);
    typenet_test::check_close(name + " loss", &loss, 1, want_loss,
                              Tolerance{rtol, rtol * 1e-3 * std::abs(want_loss.scalar())});
    const auto& want_grad = f.at("grad" + suffix);
    double largest = 0;
    for (std::int64_t i = 0; i < want_grad.numel(); ++i)
      largest = std::max(largest, std::abs(want_grad.at(i)));
    typenet_test::check_close(name + " grad", grad, want_grad,
                              Tolerance{rtol, 0.1 * rtol * largest});
    BOOST_TEST(value_of(x) == loss, name << ": the loss alone differs from the loss with its grad");
  }
}

template <class T>
using flat_t = tn::Tensor<tn::Shape<5>, tn::Cpu, T>;

/// Calls f(tag) with a Shape tag for the pointwise cases' layouts.
template <class F>
void for_pointwise_layouts(F f) {
  f("flat", tn::Shape<5>{});
  f("image", tn::Shape<2, 3, 4>{});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(losses)

// ---- against PyTorch ---------------------------------------------------------------------

BOOST_AUTO_TEST_CASE_TEMPLATE(mse_l1_smooth_l1_match_pytorch, T, scalar_types) {
  const char* const betas[] = {"1", "0.5", "2", "0"};
  for_pointwise_layouts([&](const std::string& layout, auto shape) {
    using S = decltype(shape);
    for (const char* r : reductions) {
      for (const std::string loss : {"mse", "l1"}) {
        const std::string name = loss + "." + layout + "." + r;
        const Fixture f = load(name);
        const auto target = typenet_test::tensor_from_fixture<S, T>(f.at("target"));
        const auto red = reduction_of(f);
        if (loss == "mse") {
          const tn::MSELoss l({.reduction = red});
          check_case<S, T>(
              name, f, [&](const auto& x, auto& g) { return l(x, target, g); },
              [&](const auto& x) { return l(x, target); });
        } else {
          const tn::L1Loss l({.reduction = red});
          check_case<S, T>(
              name, f, [&](const auto& x, auto& g) { return l(x, target, g); },
              [&](const auto& x) { return l(x, target); });
        }
      }
      for (const char* beta : betas) {
        const std::string name = std::string("smooth_l1.b") + beta + "." + layout + "." + r;
        const Fixture f = load(name);
        const auto target = typenet_test::tensor_from_fixture<S, T>(f.at("target"));
        const tn::SmoothL1Loss l({.reduction = reduction_of(f), .beta = f.at("beta").scalar()});
        check_case<S, T>(
            name, f, [&](const auto& x, auto& g) { return l(x, target, g); },
            [&](const auto& x) { return l(x, target); });
      }
    }
  });
}

namespace {

tn::CrossEntropyLoss cross_entropy_from(const Fixture& f) {
  return tn::CrossEntropyLoss({.weight = floats(f, "weight"),
                               .ignore_index = static_cast<int>(f.at("ignore_index").scalar()),
                               .reduction = reduction_of(f),
                               .label_smoothing = f.at("label_smoothing").scalar()});
}

template <class S, class T>
void check_cross_entropy_case(const std::string& name) {
  const Fixture f = load(name);
  const auto loss = cross_entropy_from(f);
  const auto labels = labels_of(f);
  check_case<S, T>(
      name, f, [&](const auto& x, auto& g) { return loss(x, labels, g); },
      [&](const auto& x) { return loss(x, labels); });
}

}  // namespace

BOOST_AUTO_TEST_CASE_TEMPLATE(cross_entropy_matches_pytorch, T, scalar_types) {
  for (const char* ignore : {"none", "default", "class"})
    for (const char* weighted : {"nw", "w"})
      for (const char* ls : {"0", "0.1"})
        for (const char* r : reductions) {
          const std::string options = std::string(weighted) + "." + ignore + ".ls" + ls + "." + r;
          check_cross_entropy_case<tn::Shape<7>, T>("ce.flat." + options);
          check_cross_entropy_case<tn::Shape<4, 3, 5>, T>("ce.seg." + options);
        }
  for (const char* r : reductions) {
    check_cross_entropy_case<tn::Shape<7>, T>(std::string("ce.flat.ls1.") + r);
    check_cross_entropy_case<tn::Shape<7>, T>(std::string("ce.flat.large.") + r);
    check_cross_entropy_case<tn::Shape<3, 6>, T>(std::string("ce.line.") + r);
  }
  check_cross_entropy_case<tn::Shape<7>, T>("ce.flat.all_ignored.sum");
}

namespace {

template <class S, class T>
void check_bce_case(const std::string& name) {
  const Fixture f = load(name);
  const tn::BCEWithLogitsLoss loss({.weight = floats(f, "weight"),
                                    .reduction = reduction_of(f),
                                    .pos_weight = floats(f, "pos_weight")});
  const auto target = typenet_test::tensor_from_fixture<S, T>(f.at("target"));
  check_case<S, T>(
      name, f, [&](const auto& x, auto& g) { return loss(x, target, g); },
      [&](const auto& x) { return loss(x, target); });
}

}  // namespace

BOOST_AUTO_TEST_CASE_TEMPLATE(bce_with_logits_matches_pytorch, T, scalar_types) {
  for (const char* r : reductions) {
    for (const char* w : {"nw", "w"})
      for (const char* pw : {"npw", "pw"})
        check_bce_case<tn::Shape<40>, T>(std::string("bce.flat.") + w + "." + pw + "." + r);
    for (const char* combo : {"w_last", "pw_last", "w_pw_full", "w_last_pw_full"})
      check_bce_case<tn::Shape<2, 3, 4>, T>(std::string("bce.image.") + combo + "." + r);
  }
}

// Runs after the three above (Boost.Test runs a file's cases in order).
BOOST_AUTO_TEST_CASE(every_fixture_is_checked) {
  std::set<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(losses_dir()))
    if (e.path().extension() == ".tnfx") files.insert(e.path().stem().string());
  BOOST_TEST(files.size() >= 95u);
  for (const auto& name : files)
    BOOST_TEST(checked_cases().count(name) == 1u,
               "fixture " << name << " of make_loss_fixtures.py is not checked by any test");
}

// ---- the free functions are unchanged ---------------------------------------------------

namespace legacy {

// mse_loss and cross_entropy_loss as they were before the loss objects; the
// free functions must still give these results bit for bit.
template <class S, class T>
double mse_loss(const tn::Tensor<S, tn::Cpu, T>& prediction,
                const tn::Tensor<S, tn::Cpu, T>& target, tn::Tensor<S, tn::Cpu, T>& grad) {
  grad.resize(prediction.batch());
  const std::int64_t n = prediction.size();
  double sum = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(prediction.data()[i]) - target.data()[i];
    sum += d * d;
    grad.data()[i] = static_cast<T>(2 * d / static_cast<double>(n));
  }
  return sum / static_cast<double>(n);
}

template <int Classes, class T>
double cross_entropy_loss(const tn::Tensor<tn::Shape<Classes>, tn::Cpu, T>& logits,
                          std::span<const int> labels,
                          tn::Tensor<tn::Shape<Classes>, tn::Cpu, T>& grad) {
  const int batch = logits.batch();
  grad.resize(batch);
  double total = 0;
  for (int n = 0; n < batch; ++n) {
    const int label = labels[static_cast<std::size_t>(n)];
    const T* z = logits.data() + std::int64_t{n} * Classes;
    T* g = grad.data() + std::int64_t{n} * Classes;
    double top = z[0];
    for (int c = 1; c < Classes; ++c) top = std::max<double>(top, z[c]);
    double sum = 0;
    for (int c = 0; c < Classes; ++c) sum += std::exp(z[c] - top);
    const double log_sum = std::log(sum) + top;
    total += log_sum - z[label];
    for (int c = 0; c < Classes; ++c)
      g[c] = static_cast<T>((std::exp(z[c] - log_sum) - (c == label ? 1.0 : 0.0)) / batch);
  }
  return total / batch;
}

}  // namespace legacy

template <class S, class T>
tn::Tensor<S, tn::Cpu, T> random_tensor(int batch, std::uint64_t seed, double scale = 1) {
  tn::Tensor<S, tn::Cpu, T> t(batch);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0, scale);
  for (auto& v : t.values()) v = static_cast<T>(normal(rng));
  return t;
}

template <class S, class T>
bool same_bits(const tn::Tensor<S, tn::Cpu, T>& a, const tn::Tensor<S, tn::Cpu, T>& b) {
  return a.batch() == b.batch() &&
         std::memcmp(a.data(), b.data(), static_cast<std::size_t>(a.size()) * sizeof(T)) == 0;
}

BOOST_AUTO_TEST_CASE_TEMPLATE(free_functions_give_the_old_results_bit_for_bit, T, scalar_types) {
  for (int seed = 0; seed < 5; ++seed) {
    const auto y = random_tensor<tn::Shape<8, 5, 5>, T>(3, 100 + seed);
    const auto target = random_tensor<tn::Shape<8, 5, 5>, T>(3, 200 + seed);
    tn::Tensor<tn::Shape<8, 5, 5>, tn::Cpu, T> g, g_old;
    const double l = tn::mse_loss(y, target, g);
    BOOST_TEST((l == legacy::mse_loss(y, target, g_old)));
    BOOST_TEST(same_bits(g, g_old));

    const auto logits = random_tensor<tn::Shape<10>, T>(8, 300 + seed, 3.0);
    std::vector<int> labels(8);
    std::mt19937_64 rng(400 + seed);
    for (auto& v : labels) v = static_cast<int>(rng() % 10);
    tn::Tensor<tn::Shape<10>, tn::Cpu, T> h, h_old;
    const double ce = tn::cross_entropy_loss(logits, labels, h);
    BOOST_TEST((ce == legacy::cross_entropy_loss(logits, std::span<const int>(labels), h_old)));
    BOOST_TEST(same_bits(h, h_old));
    // And the loss objects with default options are the free functions.
    tn::Tensor<tn::Shape<10>, tn::Cpu, T> h2;
    BOOST_TEST((tn::CrossEntropyLoss{}(logits, labels, h2) == ce));
    BOOST_TEST(same_bits(h, h2));
  }
}

// ---- finite differences ------------------------------------------------------------------

namespace {

/// Compares the gradient written by `with_grad(x, grad)` with central
/// differences of `value(x)`, in double.
template <class S, class WithGrad, class Value>
void check_finite_differences(const std::string& what, tn::Tensor<S, tn::Cpu, double> x,
                              WithGrad with_grad, Value value) {
  tn::Tensor<S, tn::Cpu, double> grad;
  const double loss = with_grad(x, grad);
  BOOST_TEST(std::isfinite(loss));
  BOOST_TEST(value(x) == loss);
  std::vector<double> analytic(grad.data(), grad.data() + grad.size()), numeric;
  constexpr double eps = 1e-6;
  for (std::int64_t i = 0; i < x.size(); ++i) {
    const double saved = x.data()[i];
    x.data()[i] = saved + eps;
    const double up = value(x);
    x.data()[i] = saved - eps;
    const double down = value(x);
    x.data()[i] = saved;
    numeric.push_back((up - down) / (2 * eps));
  }
  std::vector<int> dims{x.batch()};
  dims.insert(dims.end(), S::dims.begin(), S::dims.end());
  // Rounding in the differences is about |loss| * 1e-16 / eps.
  const double atol = 1e-8 * std::max(1.0, std::abs(loss));
  const auto e = typenet_test::detail::compare(what, dims, analytic, numeric, 1e-6, atol);
  BOOST_TEST(e.passed(), what << ": worst at " << e.index << " analytic " << e.analytic
                              << " numeric " << e.numeric << " (" << e.excess << " x tolerance)");
}

/// Targets x - d with |d| in [0.2, 2] and at least 0.02 from `kink`.
template <class S>
tn::Tensor<S, tn::Cpu, double> targets_away_from(const tn::Tensor<S, tn::Cpu, double>& x,
                                                 double kink, std::uint64_t seed) {
  tn::Tensor<S, tn::Cpu, double> d(x.batch()), t(x.batch());
  std::mt19937_64 rng(seed);
  typenet_test::detail::tie_free_values(d.data(), d.size(), rng);
  for (std::int64_t i = 0; i < d.size(); ++i) {
    double v = 2 * d.data()[i];
    if (std::abs(std::abs(v) - kink) < 0.02) v += v > 0 ? 0.05 : -0.05;
    t.data()[i] = x.data()[i] - v;
  }
  return t;
}

}  // namespace

BOOST_AUTO_TEST_CASE(pointwise_losses_pass_finite_differences) {
  using S = tn::Shape<3, 2, 4>;
  const auto x = random_tensor<S, double>(3, 11);
  for (const auto r : {tn::reduction::mean, tn::reduction::sum}) {
    const std::string red = tn::to_string(r);
    const auto t = random_tensor<S, double>(3, 12);
    const tn::MSELoss mse({.reduction = r});
    check_finite_differences(
        "MSELoss " + red, x, [&](const auto& v, auto& g) { return mse(v, t, g); },
        [&](const auto& v) { return mse(v, t); });
    const auto t_l1 = targets_away_from(x, 0, 13);
    const tn::L1Loss l1({.reduction = r});
    check_finite_differences(
        "L1Loss " + red, x, [&](const auto& v, auto& g) { return l1(v, t_l1, g); },
        [&](const auto& v) { return l1(v, t_l1); });
    for (const double beta : {0.0, 0.7, 1.0, 3.0}) {
      const auto t_s = targets_away_from(x, beta, 14);
      const tn::SmoothL1Loss s({.reduction = r, .beta = beta});
      check_finite_differences(
          "SmoothL1Loss beta " + std::to_string(beta) + " " + red, x,
          [&](const auto& v, auto& g) { return s(v, t_s, g); },
          [&](const auto& v) { return s(v, t_s); });
    }
  }
}

BOOST_AUTO_TEST_CASE(cross_entropy_passes_finite_differences) {
  const std::vector<float> weight7{0.5f, 1.0f, 2.0f, 0.25f, 1.5f, 0.75f, 1.25f};
  const std::vector<int> labels{3, 0, -100, 6, 2, 2, 5, 1};
  const auto flat = random_tensor<tn::Shape<7>, double>(8, 21, 2.0);
  const auto seg = random_tensor<tn::Shape<4, 3, 2>, double>(2, 22, 2.0);
  std::vector<int> seg_labels{0, 1, 2, 3, 255, 1, 3, 3, 255, 0, 2, 1};
  const std::vector<float> weight4{0.5f, 2.0f, 1.0f, 0.3f};
  for (const auto r : {tn::reduction::mean, tn::reduction::sum})
    for (const double ls : {0.0, 0.15, 1.0})
      for (const bool weighted : {false, true}) {
        const std::string what = std::string("CrossEntropyLoss ") + tn::to_string(r) + " ls " +
                                 std::to_string(ls) + (weighted ? " weighted" : "");
        const tn::CrossEntropyLoss ce({.weight = weighted ? weight7 : std::vector<float>{},
                                       .reduction = r,
                                       .label_smoothing = ls});
        check_finite_differences(
            what, flat, [&](const auto& v, auto& g) { return ce(v, labels, g); },
            [&](const auto& v) { return ce(v, labels); });
        const tn::CrossEntropyLoss ce_seg({.weight = weighted ? weight4 : std::vector<float>{},
                                           .ignore_index = 255,
                                           .reduction = r,
                                           .label_smoothing = ls});
        check_finite_differences(
            what + " per pixel", seg,
            [&](const auto& v, auto& g) { return ce_seg(v, seg_labels, g); },
            [&](const auto& v) { return ce_seg(v, seg_labels); });
      }
}

BOOST_AUTO_TEST_CASE(bce_with_logits_passes_finite_differences) {
  using S = tn::Shape<2, 5>;
  const auto x = random_tensor<S, double>(3, 31, 3.0);
  tn::Tensor<S, tn::Cpu, double> t(3);
  std::mt19937_64 rng(32);
  std::uniform_real_distribution<double> u(0, 1);
  for (std::int64_t i = 0; i < t.size(); ++i) t.data()[i] = i % 3 == 0 ? u(rng) : (i % 3 == 1);
  const std::vector<float> per_element{0.5f, 1.5f,  1.0f,  2.0f, 0.25f,
                                       1.0f, 0.75f, 1.25f, 3.0f, 0.5f};
  const std::vector<float> per_class{2.0f, 0.5f, 1.0f, 4.0f, 0.3f};
  for (const auto r : {tn::reduction::mean, tn::reduction::sum})
    for (const auto& w : {std::vector<float>{}, per_element, per_class})
      for (const auto& pw : {std::vector<float>{}, per_class, per_element}) {
        const std::string what = std::string("BCEWithLogitsLoss ") + tn::to_string(r) + " weight " +
                                 std::to_string(w.size()) + " pos_weight " +
                                 std::to_string(pw.size());
        const tn::BCEWithLogitsLoss bce({.weight = w, .reduction = r, .pos_weight = pw});
        check_finite_differences(
            what, x, [&](const auto& v, auto& g) { return bce(v, t, g); },
            [&](const auto& v) { return bce(v, t); });
      }
}

// ---- behaviour by hand -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(subgradients_at_kinks) {
  // L1 and SmoothL1 with beta 0 (which is L1): sign, 0 at 0. At |d| == beta
  // both branches of SmoothL1 give the same value and slope.
  tn::Tensor<tn::Shape<3>, tn::Cpu, double> x(1), t(1), g;
  x(0, 0) = 1, x(0, 1) = 2.5, x(0, 2) = -4;
  t(0, 0) = 1, t(0, 1) = 2, t(0, 2) = -3.5;
  BOOST_TEST(tn::L1Loss({.reduction = tn::reduction::sum})(x, t, g) == 1.0);
  BOOST_TEST(g(0, 0) == 0.0);
  BOOST_TEST(g(0, 1) == 1.0);
  BOOST_TEST(g(0, 2) == -1.0);
  BOOST_TEST(tn::SmoothL1Loss({.reduction = tn::reduction::sum, .beta = 0})(x, t, g) == 1.0);
  BOOST_TEST(g(0, 0) == 0.0);
  BOOST_TEST(tn::SmoothL1Loss({.reduction = tn::reduction::sum, .beta = 0.5})(x, t, g) == 0.5);
  BOOST_TEST(g(0, 0) == 0.0);
  BOOST_TEST(g(0, 1) == 1.0);
  BOOST_TEST(g(0, 2) == -1.0);
  BOOST_TEST(tn::SmoothL1Loss{}.options().beta == 1.0);
}

BOOST_AUTO_TEST_CASE(extreme_logits_stay_finite) {
  tn::Tensor<tn::Shape<3>, tn::Cpu, float> z(2), t(2), g;
  z(0, 0) = 1e30f, z(0, 1) = -1e30f, z(0, 2) = 0;
  z(1, 0) = -1e4f, z(1, 1) = 1e4f, z(1, 2) = 88.f;
  t(0, 0) = 1, t(0, 1) = 0, t(0, 2) = 0.5f;
  t(1, 0) = 1, t(1, 1) = 0, t(1, 2) = 1;
  const double bce = tn::BCEWithLogitsLoss({.reduction = tn::reduction::sum})(z, t, g);
  // log(2) * 0.5 from z = 0, t = 0.5 (0.5 * 0 + log 2); 1e4 + 1e4 from the wrong-sign pairs.
  BOOST_TEST(bce == 2e4 + std::log(2.0), boost::test_tools::tolerance(1e-12));
  BOOST_TEST(g(0, 0) == 0.0f);
  BOOST_TEST(g(0, 2) == 0.0f);
  BOOST_TEST(g(1, 0) == -1.0f);
  BOOST_TEST(g(1, 1) == 1.0f);
  const std::vector<int> labels{1, 0};
  const double ce = tn::CrossEntropyLoss({.reduction = tn::reduction::sum})(z, labels, g);
  BOOST_TEST(ce == 2.0 * static_cast<double>(1e30f) + (1e4 + 1e4),
             boost::test_tools::tolerance(1e-12));
  BOOST_TEST(g(0, 0) == 1.0f);
  BOOST_TEST(g(0, 1) == -1.0f);
}

BOOST_AUTO_TEST_CASE(every_label_ignored) {
  const auto z = random_tensor<tn::Shape<4>, float>(3, 41);
  const std::vector<int> labels{-100, -100, -100};
  tn::Tensor<tn::Shape<4>, tn::Cpu, float> g;
  // PyTorch: NaN for the mean (0 / 0), 0 for the sum, gradient 0 either way.
  BOOST_CHECK_EXCEPTION(
      tn::CrossEntropyLoss{}(z, labels, g), tn::non_finite_loss, [](const tn::non_finite_loss& e) {
        return std::string(e.what()).find("every label is ignore_index") != std::string::npos;
      });
  BOOST_TEST(tn::CrossEntropyLoss({.reduction = tn::reduction::sum})(z, labels, g) == 0.0);
  BOOST_TEST(std::all_of(g.values().begin(), g.values().end(), [](float v) { return v == 0; }));
  // Zero weights on every label present: the same 0 / 0.
  const std::vector<int> some{1, 1, 1};
  BOOST_CHECK_THROW(tn::CrossEntropyLoss({.weight = {1, 0, 1, 1}})(z, some, g),
                    tn::non_finite_loss);
}

BOOST_AUTO_TEST_CASE(empty_batch) {
  tn::Tensor<tn::Shape<4>, tn::Cpu, float> z(0), t(0), g;
  const std::vector<int> none;
  BOOST_CHECK_THROW(tn::MSELoss{}(z, t, g), tn::non_finite_loss);
  BOOST_CHECK_THROW(tn::BCEWithLogitsLoss{}(z, t, g), tn::non_finite_loss);
  BOOST_CHECK_THROW(tn::CrossEntropyLoss{}(z, none, g), tn::non_finite_loss);
  const auto sum = tn::reduction::sum;
  BOOST_TEST(tn::MSELoss({.reduction = sum})(z, t, g) == 0.0);
  BOOST_TEST(g.batch() == 0);
  BOOST_TEST(tn::L1Loss({.reduction = sum})(z, t, g) == 0.0);
  BOOST_TEST(tn::SmoothL1Loss({.reduction = sum})(z, t, g) == 0.0);
  BOOST_TEST(tn::BCEWithLogitsLoss({.reduction = sum})(z, t, g) == 0.0);
  BOOST_TEST(tn::CrossEntropyLoss({.reduction = sum})(z, none, g) == 0.0);
}

BOOST_AUTO_TEST_CASE(grad_is_resized_to_the_batch) {
  const auto z = random_tensor<tn::Shape<4>, float>(5, 51);
  const auto t = random_tensor<tn::Shape<4>, float>(5, 52);
  tn::Tensor<tn::Shape<4>, tn::Cpu, float> g(9);
  tn::MSELoss{}(z, t, g);
  BOOST_TEST(g.batch() == 5);
  g.resize(1);
  tn::CrossEntropyLoss{}(z, std::vector<int>{0, 1, 2, 3, 0}, g);
  BOOST_TEST(g.batch() == 5);
}

// ---- errors ------------------------------------------------------------------------------

namespace {

/// Whether `f()` throws E with a message containing every one of `parts`.
template <class E, class F>
bool throws_with(F f, std::initializer_list<const char*> parts) {
  try {
    f();
  } catch (const E& e) {
    const std::string what = e.what();
    for (const char* p : parts)
      if (what.find(p) == std::string::npos) {
        BOOST_TEST_MESSAGE("message without '" << p << "': " << what);
        return false;
      }
    BOOST_TEST_MESSAGE("as expected: " << what);
    return true;
  } catch (const std::exception& e) {
    BOOST_TEST_MESSAGE("another exception: " << e.what());
    return false;
  }
  return false;
}

}  // namespace

BOOST_AUTO_TEST_CASE(bad_labels_and_sizes_throw_and_write_nothing) {
  const auto z = random_tensor<tn::Shape<7>, float>(4, 61);
  tn::Tensor<tn::Shape<7>, tn::Cpu, float> g(2);
  g.fill(42.f);
  const tn::CrossEntropyLoss ce;
  const auto untouched = [&] {
    return g.batch() == 2 &&
           std::all_of(g.values().begin(), g.values().end(), [](float v) { return v == 42.f; });
  };
  BOOST_TEST((throws_with<tn::usage_error>(
      [&] {
        ce(z, std::vector<int>{0, 1, 7, 2}, g);
      },
      {"CrossEntropyLoss", "label 7 of sample 2", "[0, 7)", "ignore_index (-100)"})));
  BOOST_TEST(untouched());
  BOOST_TEST((throws_with<tn::usage_error>(
      [&] {
        ce(z, std::vector<int>{0, -1, 1, 2}, g);
      },
      {"label -1 of sample 1"})));
  BOOST_TEST((throws_with<tn::shape_error>(
      [&] {
        ce(z, std::vector<int>{0, 1, 2}, g);
      },
      {"CrossEntropyLoss", "3 labels for a batch of 4"})));
  BOOST_TEST(untouched());
  BOOST_TEST((throws_with<tn::shape_error>(
      [&] {
        tn::CrossEntropyLoss({.weight = {1, 2, 3}})(z, std::vector<int>{0, 1, 2, 3}, g);
      },
      {"3 class weights for 7 classes"})));
  BOOST_TEST(untouched());
  // An in-range ignore_index is not a bad label; labels equal to it are ignored.
  BOOST_TEST(
      std::isfinite(tn::CrossEntropyLoss({.ignore_index = 6})(z, std::vector<int>{6, 1, 2, 6}, g)));

  // Per pixel: the position is named.
  const auto seg = random_tensor<tn::Shape<3, 2, 4>, float>(2, 62);
  tn::Tensor<tn::Shape<3, 2, 4>, tn::Cpu, float> sg;
  std::vector<int> seg_labels(16, 0);
  seg_labels[8 + 4 + 2] = 3;  // sample 1, (1, 2)
  BOOST_TEST((throws_with<tn::usage_error>([&] { ce(seg, seg_labels, sg); },
                                           {"label 3 of sample 1 at (1, 2)", "[0, 3)"})));
  seg_labels.pop_back();
  BOOST_TEST((throws_with<tn::shape_error>([&] { ce(seg, seg_labels, sg); },
                                           {"15 labels for a batch of 2 x Shape<2, 4> = 16"})));

  BOOST_TEST((throws_with<tn::usage_error>([] { tn::CrossEntropyLoss({.label_smoothing = 1.5}); },
                                           {"label_smoothing", "[0, 1]"})));
  BOOST_TEST((throws_with<tn::usage_error>([] { tn::CrossEntropyLoss({.label_smoothing = -0.1}); },
                                           {"label_smoothing"})));
  BOOST_TEST((throws_with<tn::usage_error>(
      [] { tn::CrossEntropyLoss({.label_smoothing = std::nan("")}); }, {"label_smoothing"})));
  BOOST_TEST((throws_with<tn::usage_error>([] { tn::SmoothL1Loss({.beta = -1}); },
                                           {"SmoothL1Loss", "beta"})));
}

BOOST_AUTO_TEST_CASE(bce_targets_and_weights_are_checked) {
  using S = tn::Shape<2, 3>;
  const auto z = random_tensor<S, float>(2, 71);
  tn::Tensor<S, tn::Cpu, float> t(2), g;
  t.fill(1.f);
  t(1, 0, 2) = -1.f;
  const tn::BCEWithLogitsLoss bce;
  BOOST_TEST((throws_with<tn::usage_error>(
      [&] { bce(z, t, g); }, {"BCEWithLogitsLoss", "target -1", "sample 1 at (0, 2)", "[0, 1]"})));
  BOOST_TEST(g.batch() == 0);
  t(1, 0, 2) = 1.5f;
  BOOST_CHECK_THROW(bce(z, t, g), tn::usage_error);
  t(1, 0, 2) = 0.f;
  BOOST_TEST((throws_with<tn::shape_error>(
      [&] {
        tn::BCEWithLogitsLoss({.weight = {1, 2}})(z, t, g);
      },
      {"weight has 2 values", "needs 6 (one per element) or 3"})));
  BOOST_TEST((throws_with<tn::shape_error>(
      [&] {
        tn::BCEWithLogitsLoss({.pos_weight = {1, 2, 3, 4}})(z, t, g);
      },
      {"pos_weight"})));
  // Both accepted sizes.
  BOOST_TEST(std::isfinite(
      tn::BCEWithLogitsLoss({.weight = {1, 2, 3}, .pos_weight = {1, 2, 3, 4, 5, 6}})(z, t, g)));
  const auto z3 = random_tensor<S, float>(3, 72);
  BOOST_TEST((throws_with<tn::shape_error>([&] { bce(z3, t, g); },
                                           {"prediction batch 3 but target batch 2"})));
}

BOOST_AUTO_TEST_CASE(non_finite_inputs_throw_naming_the_loss) {
  using S = tn::Shape<5>;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  auto z = random_tensor<S, float>(2, 81);
  auto t = random_tensor<S, float>(2, 82);
  for (auto& v : t.values()) v = std::abs(v) / (1 + std::abs(v));  // in [0, 1)
  tn::Tensor<S, tn::Cpu, float> g;
  const std::vector<int> labels{1, 4};
  for (const float bad : {nan, inf, -inf}) {
    auto zb = z;
    zb(1, 3) = bad;
    BOOST_TEST((throws_with<tn::non_finite_loss>([&] { tn::MSELoss{}(zb, t, g); }, {"MSELoss"})));
    BOOST_TEST((throws_with<tn::non_finite_loss>([&] { tn::L1Loss{}(zb, t, g); }, {"L1Loss"})));
    BOOST_TEST((
        throws_with<tn::non_finite_loss>([&] { tn::SmoothL1Loss{}(zb, t, g); }, {"SmoothL1Loss"})));
    // A logit of -inf is a class masked out, which is fine unless it is the label's.
    if (bad == -inf) zb(1, 3) = z(1, 3), zb(1, 4) = bad;
    BOOST_TEST((throws_with<tn::non_finite_loss>([&] { tn::CrossEntropyLoss{}(zb, labels, g); },
                                                 {"CrossEntropyLoss"})));
    BOOST_TEST((throws_with<tn::non_finite_loss>([&] { tn::cross_entropy_loss(zb, labels, g); },
                                                 {"CrossEntropyLoss"})));
  }
  auto masked = z;
  masked(1, 3) = -inf;
  BOOST_TEST(std::isfinite(tn::CrossEntropyLoss{}(masked, labels, g)));
  BOOST_TEST(g(1, 3) == 0.0f);
  // BCEWithLogits is finite for infinite logits with the right target, so only NaN.
  auto zb = z;
  zb(0, 2) = nan;
  BOOST_TEST((throws_with<tn::non_finite_loss>([&] { tn::BCEWithLogitsLoss{}(zb, t, g); },
                                               {"BCEWithLogitsLoss", "NaN"})));
  auto tb = t;
  tb(1, 1) = nan;
  BOOST_TEST((throws_with<tn::non_finite_loss>([&] { tn::BCEWithLogitsLoss{}(z, tb, g); },
                                               {"BCEWithLogitsLoss"})));
  BOOST_TEST((throws_with<tn::non_finite_loss>([&] { tn::mse_loss(z, tb, g); }, {"MSELoss"})));
  // Overflow in double: a finite float difference whose square overflows double is
  // impossible, but one in a sum of infinities is caught: 3e38^2 is finite in double.
  auto big = z;
  big(0, 0) = 3e38f;
  BOOST_TEST(std::isfinite(tn::MSELoss{}(big, t, g)));
}

BOOST_AUTO_TEST_SUITE_END()
