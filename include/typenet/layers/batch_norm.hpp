// typenet/layers/batch_norm.hpp — BatchNorm2d and BatchNorm1d.
//
// PyTorch's defaults: eps 1e-5, momentum 0.1, affine, tracking running
// statistics; `BatchNorm2d::with<Eps<std::ratio<1, 1000>>, Momentum<...>>`
// sets eps and momentum. Training normalizes with the batch's mean and (biased)
// variance and updates running_mean / running_var (with the unbiased
// variance) and num_batches_tracked; evaluation uses the running statistics.
// State dict: weight, bias, running_mean, running_var, num_batches_tracked.
// BatchNorm2d needs Shape<C, H, W>; BatchNorm1d needs Shape<C> or Shape<C, L>.
#pragma once

#include <boost/mp11/list.hpp>
#include <cstdint>
#include <string>
#include <type_traits>

#include "typenet/backend/interface.hpp"
#include "typenet/core/diagnostics.hpp"
#include "typenet/core/errors.hpp"
#include "typenet/core/geometry.hpp"
#include "typenet/core/layer.hpp"
#include "typenet/core/options.hpp"

namespace typenet {

template <int Channels, class Device, class T>
struct batch_norm_parameters {
  static constexpr std::int64_t count = 2 * Channels;

  Parameter<Shape<Channels>, Device, T> weight;
  Parameter<Shape<Channels>, Device, T> bias;
  Buffer<Shape<Channels>, Device, T> running_mean;
  Buffer<Shape<Channels>, Device, T> running_var;
  Counter num_batches_tracked;

  template <class Visitor>
  void visit(Visitor&& visitor, const std::string& prefix) {
    visitor(prefix + "weight", weight);
    visitor(prefix + "bias", bias);
    visitor(prefix + "running_mean", running_mean);
    visitor(prefix + "running_var", running_var);
    visitor(prefix + "num_batches_tracked", num_batches_tracked);
  }
  template <class F>
  void for_each_entry(F&& f) {
    f(weight);
    f(bias);
    f(running_mean);
    f(running_var);
    f(num_batches_tracked);
  }

  template <class Rng>
  void reset(Rng&) {
    fill(weight.value, T{1});
    fill(bias.value, T{0});
    fill(running_mean.value, T{0});
    fill(running_var.value, T{1});
    num_batches_tracked.value = 0;
  }
};

namespace detail {
template <class O>
inline constexpr bool is_eps_v = false;
template <class R>
inline constexpr bool is_eps_v<Eps<R>> = true;
template <class O>
inline constexpr bool is_momentum_v = false;
template <class R>
inline constexpr bool is_momentum_v<Momentum<R>> = true;

/// The value of the option matching Is among Options, or `fallback`.
template <template <class> class Is, class... Options>
constexpr double ratio_option(double fallback) {
  double v = fallback;
  ((Is<Options>::value ? (void)(v = Options::value) : (void)0), ...);
  return v;
}
template <class O>
struct eps_trait : std::bool_constant<is_eps_v<O>> {};
template <class O>
struct momentum_trait : std::bool_constant<is_momentum_v<O>> {};
}  // namespace detail

/// Batch normalization over the channel axis (dimension 0 of the sample).
template <int Rank, class... Options>
struct batch_norm_layer {
  static constexpr double eps = detail::ratio_option<detail::eps_trait, Options...>(1e-5);
  static constexpr double momentum = detail::ratio_option<detail::momentum_trait, Options...>(0.1);
  static constexpr bool options_apply =
      ((detail::is_eps_v<Options> || detail::is_momentum_v<Options>)&&...);

  /// "BatchNorm2d", or "BatchNorm2d::with<Eps<1/1000>>" with options.
  static std::string name_with(const char* base) {
    if constexpr (sizeof...(Options) == 0) {
      return base;
    } else {
      std::string s = std::string(base) + "::with<";
      std::size_t i = 0;
      ((s += (i++ ? ", " : "") + Options::name()), ...);
      return s + ">";
    }
  }

  template <class In>
  static constexpr bool rank_ok = Rank == 2 ? In::rank == 3 : (In::rank == 1 || In::rank == 2);
  template <class In>
  static constexpr int channels = In::dims[0];

  template <class In>
  using output_shape = In;

  template <class In>
  static constexpr extents_t<In> output_extents(const extents_t<In>& in) {
    return in;
  }

  template <class In, class Device, class T>
  using parameters = batch_norm_parameters<channels<In>, Device, T>;

  template <class In>
  static constexpr std::int64_t flops = 2 * In::size;

  template <class In, class Device, class T>
  struct node : node_io<In, In, Device, T> {
    static constexpr int C = channels<In>;
    Tensor<Shape<C>, Device, T> mean{1}, invstd{1};
    bool trained_forward = true;

    const Tensor<In, Device, T>& forward(parameters<In, Device, T>& p,
                                         const Tensor<In, Device, T>& x, const run_context& ctx) {
      trained_forward = ctx.training;
      if (ctx.training) {
        if (x.batch() * (x.sample_size() / C) <= 1)
          throw shape_error(
              "BatchNorm: expected more than 1 value per channel when training "
              "(batch 1 of a 1x1 map); use eval() or a larger batch");
        backend::batch_norm_forward_train(
            Device{}, momentum, eps, backend::channel_view(x), backend::flat_view(p.weight.value),
            backend::flat_view(p.bias.value), backend::flat_view(p.running_mean.value),
            backend::flat_view(p.running_var.value), backend::flat_view(mean),
            backend::flat_view(invstd), backend::channel_view(this->y));
        ++p.num_batches_tracked.value;
      } else {
        backend::batch_norm_forward_eval(
            Device{}, eps, backend::channel_view(x), backend::flat_view(p.weight.value),
            backend::flat_view(p.bias.value), backend::flat_view(p.running_mean.value),
            backend::flat_view(p.running_var.value), backend::channel_view(this->y));
      }
      return this->y;
    }

    const Tensor<In, Device, T>& backward(parameters<In, Device, T>& p,
                                          const Tensor<In, Device, T>& x,
                                          const Tensor<In, Device, T>& dy, const run_context& ctx) {
      if (!trained_forward)
        backend::batch_norm_eval_statistics(Device{}, eps, backend::flat_view(p.running_mean.value),
                                            backend::flat_view(p.running_var.value),
                                            backend::flat_view(mean), backend::flat_view(invstd));
      backend::batch_norm_backward(
          Device{}, trained_forward, backend::channel_view(x), backend::channel_view(dy),
          backend::flat_view(p.weight.value), backend::flat_view(mean), backend::flat_view(invstd),
          ctx.need_input_grad ? backend::channel_view(this->dx) : backend::view<T, 3>{},
          p.weight.requires_grad ? backend::flat_view(p.weight.grad) : backend::view<T, 1>{},
          p.bias.requires_grad ? backend::flat_view(p.bias.grad) : backend::view<T, 1>{});
      return this->dx;
    }
  };
};

struct BatchNorm2d;
struct BatchNorm1d;

/// BatchNorm2d with options (Eps, Momentum): `BatchNorm2d::with<Eps<std::ratio<1, 1000>>>`.
template <class... Options>
struct BatchNorm2dWith : batch_norm_layer<2, Options...> {
  /// The type a user wrote, for the carriers: BatchNorm2d without options.
  using spelled = std::conditional_t<sizeof...(Options) == 0, BatchNorm2d, BatchNorm2dWith>;

  template <class In, class Where, bool Diagnose = true>
  static constexpr bool check() {
    if constexpr (!batch_norm_layer<2, Options...>::options_apply) {
      return diagnostic::reject<Diagnose, diagnostic::option_does_not_apply<
                                              Where, spelled, boost::mp11::mp_list<Options...>>>();
    } else if constexpr (!batch_norm_layer<2, Options...>::template rank_ok<In>) {
      return diagnostic::reject<Diagnose,
                                diagnostic::layer_needs_image_input<Where, spelled, In>>();
    } else {
      return true;
    }
  }
  static std::string type_name() {
    return batch_norm_layer<2, Options...>::name_with("BatchNorm2d");
  }
};

/// BatchNorm1d with options (Eps, Momentum): `BatchNorm1d::with<Momentum<std::ratio<1, 100>>>`.
template <class... Options>
struct BatchNorm1dWith : batch_norm_layer<1, Options...> {
  /// The type a user wrote, for the carriers: BatchNorm1d without options.
  using spelled = std::conditional_t<sizeof...(Options) == 0, BatchNorm1d, BatchNorm1dWith>;

  template <class In, class Where, bool Diagnose = true>
  static constexpr bool check() {
    if constexpr (!batch_norm_layer<1, Options...>::options_apply) {
      return diagnostic::reject<Diagnose, diagnostic::option_does_not_apply<
                                              Where, spelled, boost::mp11::mp_list<Options...>>>();
    } else if constexpr (!batch_norm_layer<1, Options...>::template rank_ok<In>) {
      return diagnostic::reject<Diagnose, diagnostic::layer_needs_flat_input<Where, spelled, In>>();
    } else {
      return true;
    }
  }
  static std::string type_name() {
    return batch_norm_layer<1, Options...>::name_with("BatchNorm1d");
  }
};

/// nn.BatchNorm2d(C) with PyTorch's defaults (eps 1e-5, momentum 0.1);
/// `BatchNorm2d::with<Eps<...>, Momentum<...>>` for others.
struct BatchNorm2d : BatchNorm2dWith<> {
  template <class... Options>
  using with = BatchNorm2dWith<Options...>;
};

/// nn.BatchNorm1d(C) with PyTorch's defaults; `BatchNorm1d::with<...>` for others.
struct BatchNorm1d : BatchNorm1dWith<> {
  template <class... Options>
  using with = BatchNorm1dWith<Options...>;
};

}  // namespace typenet
