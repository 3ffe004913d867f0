// tests/gradcheck.hpp — finite-difference gradient checks for any typenet network.
//
// check_gradients<Net, In>(options) runs Net on a random batch in double
// precision with the loss L = sum(y * r) for a fixed random r (so dL/dy = r)
// and compares the analytic gradient of L with respect to the input and to
// every parameter against central differences (L(v + eps) - L(v - eps)) / 2eps,
// element by element with |a - n| <= atol + rtol * |n| (DESIGN.md §4b). The
// report names, for every tensor, the worst element (index, analytic,
// numeric), so a failure says where to look.
//
// Like dlib's test_layer, the check drives the network's node directly with
// one fixed run_context rather than through Model, whose every forward
// advances a step counter that reseeds Dropout: with the context fixed, a
// Dropout in training mode keeps one mask for the whole check and is checked
// like any other layer. check_gradients also verifies that Model, sharing the
// same parameters, computes the same output and gradients (for deterministic
// networks), that backward accumulates into the parameter gradients, and that
// the parameter gradients do not depend on whether the input gradient is wanted.
//
// Inputs are kept away from ties: every element has a distinct magnitude in
// [0.1, 1] with a random sign, so no ReLU input is near 0 and no two values of
// a pooling window are within eps of each other. Parameters are perturbed
// from their initial values (BatchNorm's weight 1 and bias 0 would hide a
// missing factor) and running statistics randomised (eval-mode BatchNorm
// would otherwise normalise with mean 0, variance 1).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <iomanip>
#include <memory>
#include <numeric>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <typenet/nn.hpp>

namespace typenet_test {

struct gradcheck_options {
  bool training = true;
  int batch = 2;
  double eps = 1e-6;
  double rtol = 1e-6;
  double atol = 1e-8;
  std::uint64_t seed = 7;
  /// Multiply every parameter by U(0.5, 1.5) and add U(-0.1, 0.1) after the
  /// PyTorch initialisation; randomise running means and variances.
  bool perturb_state = true;
  /// Also run the network through Model and require the same results. Off
  /// for a Dropout in training mode, whose mask Model reseeds every step.
  bool compare_with_model = true;
};

/// The worst element of one compared tensor.
struct gradcheck_entry {
  std::string name;  ///< "input", a parameter's state_dict name, or a consistency check
  std::string index;
  double analytic = 0;
  double numeric = 0;  ///< or the reference value of a consistency check
  double excess = 0;   ///< |a - n| / (atol + rtol * |n|); above 1 fails
  std::int64_t size = 0;
  bool passed() const { return excess <= 1.0; }
};

struct gradcheck_report {
  std::string network;
  std::vector<gradcheck_entry> entries;

  bool passed() const {
    return std::all_of(entries.begin(), entries.end(),
                       [](const gradcheck_entry& e) { return e.passed(); });
  }
  /// The entry with the largest excess.
  const gradcheck_entry* worst() const {
    const gradcheck_entry* w = nullptr;
    for (const auto& e : entries)
      if (!w || e.excess > w->excess) w = &e;
    return w;
  }

  friend std::ostream& operator<<(std::ostream& out, const gradcheck_report& r) {
    out << "gradient check of " << r.network << (r.passed() ? ": passed" : ": FAILED") << "\n";
    const auto old_precision = out.precision(12);
    for (const auto& e : r.entries) {
      out << (e.passed() ? "   ok  " : "  FAIL ") << e.name << " (" << e.size
          << " elements): worst at " << e.index << " analytic " << e.analytic << " numeric "
          << e.numeric << " (error " << std::abs(e.analytic - e.numeric) << ", "
          << std::setprecision(3) << e.excess << std::setprecision(12) << " x tolerance)\n";
    }
    out.precision(old_precision);
    return out;
  }
};

namespace detail {

/// "(n, c, h, w)" for a flat index into a tensor of `dims`.
inline std::string index_string(std::int64_t flat, const std::vector<int>& dims) {
  std::vector<std::int64_t> idx(dims.size());
  for (std::size_t k = dims.size(); k-- > 0;) {
    idx[k] = flat % dims[k];
    flat /= dims[k];
  }
  std::string s = "(";
  for (std::size_t k = 0; k < idx.size(); ++k) s += (k ? ", " : "") + std::to_string(idx[k]);
  return s + ")";
}

/// Compares `analytic` against `reference` and returns the worst element.
inline gradcheck_entry compare(const std::string& name, const std::vector<int>& dims,
                               const std::vector<double>& analytic,
                               const std::vector<double>& reference, double rtol, double atol) {
  gradcheck_entry e;
  e.name = name;
  e.size = static_cast<std::int64_t>(analytic.size());
  e.excess = analytic.size() == reference.size() ? 0.0 : INFINITY;
  e.index = "(none)";
  for (std::size_t i = 0; i < std::min(analytic.size(), reference.size()); ++i) {
    const double diff = std::abs(analytic[i] - reference[i]);
    double excess = diff / (atol + rtol * std::abs(reference[i]));
    if (std::isnan(excess) || std::isnan(analytic[i])) excess = INFINITY;
    if (i == 0 || excess > e.excess) {
      e.excess = excess;
      e.analytic = analytic[i];
      e.numeric = reference[i];
      e.index = index_string(static_cast<std::int64_t>(i), dims);
    }
  }
  return e;
}

/// Distinct magnitudes (0.1 + 0.9 * k / n for a random permutation k) with
/// random signs: away from 0, and no two values within 0.9 / n of each other.
inline void tie_free_values(double* out, std::int64_t n, std::mt19937_64& rng) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), std::int64_t{0});
  std::shuffle(order.begin(), order.end(), rng);
  std::bernoulli_distribution negative(0.5);
  for (std::int64_t i = 0; i < n; ++i) {
    const double magnitude = 0.1 + 0.9 * static_cast<double>(order[static_cast<std::size_t>(i)]) /
                                       static_cast<double>(n);
    out[i] = negative(rng) ? -magnitude : magnitude;
  }
}

template <std::size_t N>
std::vector<int> batched_dims(int batch, const std::array<int, N>& dims) {
  std::vector<int> d{batch};
  d.insert(d.end(), dims.begin(), dims.end());
  return d;
}

inline bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace detail

/// Random input of shape In for `batch` samples, kept away from ties (see above).
template <class In>
typenet::Tensor<In, typenet::Cpu, double> tie_free_input(int batch, std::uint64_t seed) {
  typenet::Tensor<In, typenet::Cpu, double> x(batch);
  std::mt19937_64 rng(seed);
  detail::tie_free_values(x.data(), x.size(), rng);
  return x;
}

/// Perturbs parameters and randomises BatchNorm running statistics, in place.
template <class Params>
void perturb_state(Params& params, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> scale(0.5, 1.5), shift(-0.1, 0.1), mean(-0.5, 0.5),
      var(0.5, 2.0);
  for (auto& s : typenet::collect_state(params)) {
    if (s.type != typenet::dtype::f64) continue;
    auto* v = static_cast<double*>(s.data);
    for (std::int64_t i = 0; i < s.size; ++i) {
      if (s.is_parameter) {
        v[i] = v[i] * scale(rng) + shift(rng);
      } else if (detail::ends_with(s.name, "running_mean")) {
        v[i] = mean(rng);
      } else if (detail::ends_with(s.name, "running_var")) {
        v[i] = var(rng);
      }
    }
  }
}

namespace detail {

/// What the check needs of one network, type-erased, so that only this thin
/// layer is compiled per network and the checking itself once per program.
struct network_under_test {
  std::string description;
  std::vector<typenet::ParameterRef<double, typenet::Cpu>> parameters;
  double* input = nullptr;
  std::int64_t input_size = 0;
  std::vector<int> input_dims, output_dims;  ///< with the batch first
  const double* r = nullptr;                 ///< dL/dy
  /// Runs forward with the check's fixed context; returns the output.
  std::function<const double*()> forward;
  /// Runs backward (after forward) with dy = r; returns the input gradient.
  std::function<const double*(bool need_input_grad)> backward;
  /// The same through Model, sharing the parameters: output, input gradient,
  /// and the parameters as Model lists them (with gradients from zero).
  struct model_run {
    std::vector<double> output, input_grad;
    std::vector<typenet::ParameterRef<double, typenet::Cpu>> parameters;
  };
  std::function<model_run()> through_model;  ///< empty: not compared
};

inline gradcheck_report run_gradcheck(const network_under_test& net, const gradcheck_options& o) {
  gradcheck_report report;
  report.network = net.description;
  const auto& refs = net.parameters;
  const std::int64_t output_size = [&] {
    std::int64_t n = 1;
    for (int d : net.output_dims) n *= d;
    return n;
  }();
  auto values_of = [](auto span) { return std::vector<double>(span.begin(), span.end()); };
  auto loss = [&] {
    const double* y = net.forward();
    long double sum = 0;
    for (std::int64_t i = 0; i < output_size; ++i) sum += static_cast<long double>(y[i]) * net.r[i];
    return static_cast<double>(sum);
  };

  // Analytic gradients.
  for (const auto& p : refs) std::fill(p.grad().begin(), p.grad().end(), 0.0);
  const double* y0 = net.forward();
  const std::vector<double> output(y0, y0 + output_size);
  const double* dx = net.backward(true);
  const std::vector<double> input_grad(dx, dx + net.input_size);
  std::vector<std::vector<double>> param_grads;
  for (const auto& p : refs) param_grads.push_back(values_of(p.grad()));

  // Central differences.
  auto numeric = [&](double* v, std::int64_t n) {
    std::vector<double> g(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
      const double saved = v[i];
      v[i] = saved + o.eps;
      const double up = loss();
      v[i] = saved - o.eps;
      const double down = loss();
      v[i] = saved;
      g[static_cast<std::size_t>(i)] = (up - down) / (2 * o.eps);
    }
    return g;
  };
  report.entries.push_back(compare("input", net.input_dims, input_grad,
                                   numeric(net.input, net.input_size), o.rtol, o.atol));
  for (std::size_t k = 0; k < refs.size(); ++k)
    report.entries.push_back(compare(refs[k].name(), refs[k].shape(), param_grads[k],
                                     numeric(refs[k].value_data(), refs[k].size()), o.rtol,
                                     o.atol));

  // Backward again, without the input gradient: the parameter gradients
  // accumulate (now twice the first) and do not depend on need_input_grad.
  constexpr double tight = 1e-12;
  net.forward();
  net.backward(false);
  for (std::size_t k = 0; k < refs.size(); ++k) {
    std::vector<double> twice = param_grads[k];
    for (auto& v : twice) v *= 2;
    report.entries.push_back(compare(refs[k].name() + " accumulated by a second backward",
                                     refs[k].shape(), values_of(refs[k].grad()), twice, tight,
                                     tight));
  }

  if (net.through_model) {
    const auto m = net.through_model();
    report.entries.push_back(
        compare("Model::forward vs node", net.output_dims, m.output, output, tight, tight));
    report.entries.push_back(compare("Model::input_grad vs node", net.input_dims, m.input_grad,
                                     input_grad, tight, tight));
    if (m.parameters.size() != refs.size()) {
      gradcheck_entry e;
      e.name = "Model::parameters() count vs the parameters' own";
      e.analytic = static_cast<double>(m.parameters.size());
      e.numeric = static_cast<double>(refs.size());
      e.excess = INFINITY;
      report.entries.push_back(e);
    }
    for (std::size_t k = 0; k < refs.size() && k < m.parameters.size(); ++k)
      report.entries.push_back(compare("Model " + m.parameters[k].name() + " grad vs node",
                                       m.parameters[k].shape(), values_of(m.parameters[k].grad()),
                                       param_grads[k], tight, tight));
  }
  return report;
}

/// The loss's dL/dy = r for an output of shape Out, random in [-1, 1] (one
/// tensor per head when Out is the Outputs of Heads), and the output
/// flattened in order, so L = sum(y * r) over every output.
template <class Out>
struct output_probe {
  typenet::Tensor<Out, typenet::Cpu, double> r;
  output_probe(int batch, std::uint64_t seed) : r(batch) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    for (auto& v : r.values()) v = u(rng);
  }
  const typenet::Tensor<Out, typenet::Cpu, double>& grad() const { return r; }
  const double* r_data() const { return r.data(); }
  std::vector<int> dims(int batch) const { return batched_dims(batch, Out::dims); }
  const double* flat(const typenet::Tensor<Out, typenet::Cpu, double>& y) { return y.data(); }
};
template <class... S>
struct output_probe<typenet::Outputs<S...>> {
  std::tuple<typenet::Tensor<S, typenet::Cpu, double>...> r;
  std::vector<double> packed_r, packed_y;
  output_probe(int batch, std::uint64_t seed)
      : r(typenet::Tensor<S, typenet::Cpu, double>(batch)...) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    std::apply([&](auto&... t) { ((fill(t, rng, u)), ...); }, r);
  }
  typenet::Tensors<typenet::Outputs<S...>, typenet::Cpu, double> grad() const {
    return std::apply(
        [](const auto&... t) {
          return typenet::Tensors<typenet::Outputs<S...>, typenet::Cpu, double>(t...);
        },
        r);
  }
  const double* r_data() const { return packed_r.data(); }
  std::vector<int> dims(int) const { return {static_cast<int>(packed_r.size())}; }
  const double* flat(const typenet::Tensors<typenet::Outputs<S...>, typenet::Cpu, double>& y) {
    packed_y.clear();
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((packed_y.insert(packed_y.end(), y.template get<I>().data(),
                        y.template get<I>().data() + y.template get<I>().size())),
       ...);
    }
    (std::index_sequence_for<S...>{});
    return packed_y.data();
  }

 private:
  template <class Tn, class Rng, class U>
  void fill(Tn& t, Rng& rng, U& u) {
    for (auto& v : t.values()) v = u(rng);
    packed_r.insert(packed_r.end(), t.data(), t.data() + t.size());
  }
};

}  // namespace detail

/// The finite-difference check described at the top of this file.
template <class Net, typenet::ShapeType In>
gradcheck_report check_gradients(const gradcheck_options& o = {}) {
  using T = double;
  using D = typenet::Cpu;
  using Out = typenet::output_shape_t<Net, In>;
  using params_type = typenet::parameters_t<Net, In, D, T>;
  static_assert(Net::template check<In, typenet::at_model_root>());

  auto params = std::make_shared<params_type>();
  {
    std::mt19937_64 rng(o.seed);
    params->reset(rng);
  }
  if (o.perturb_state) perturb_state(*params, o.seed + 1);

  typenet::node_t<Net, In, D, T> node;
  node.plan(o.batch, In::dims, typenet::output_extents_of<Net, In>(In::dims));
  typenet::run_context ctx;
  ctx.training = o.training;
  ctx.need_input_grad = true;
  ctx.stream = typenet::mix64(o.seed);

  auto x = tie_free_input<In>(o.batch, o.seed + 2);
  detail::output_probe<Out> probe(o.batch, o.seed + 3);

  detail::network_under_test net;
  net.description = Net::type_name() + " on " + In::str() + (o.training ? ", train" : ", eval") +
                    ", batch " + std::to_string(o.batch);
  net.parameters = typenet::collect_parameters<T, D>(*params);
  net.input = x.data();
  net.input_size = x.size();
  net.input_dims = detail::batched_dims(o.batch, In::dims);
  net.output_dims = probe.dims(o.batch);
  net.r = probe.r_data();
  net.forward = [&]() -> const double* { return probe.flat(node.forward(*params, x, ctx)); };
  net.backward = [&](bool need_input_grad) -> const double* {
    typenet::run_context c = ctx;
    c.need_input_grad = need_input_grad;
    typenet::size_input_grad(node, x, need_input_grad);
    return node.backward(*params, x, probe.grad(), c).data();
  };
  if (o.compare_with_model) {
    net.through_model = [&] {
      typenet::Model<Net, In, D, T> model(params);
      model.train(o.training);
      model.requires_input_grad(true);
      model.zero_grad();
      detail::network_under_test::model_run run;
      const double* y = probe.flat(model.forward(x));
      std::int64_t size = 1;
      for (int d : probe.dims(o.batch)) size *= d;
      run.output.assign(y, y + size);
      model.backward(probe.grad());
      const auto& g = model.input_grad();
      run.input_grad.assign(g.data(), g.data() + g.size());
      run.parameters = model.parameters();
      return run;
    };
  }
  return detail::run_gradcheck(net, o);
}

}  // namespace typenet_test
