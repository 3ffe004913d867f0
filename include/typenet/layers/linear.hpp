// typenet/layers/linear.hpp — Linear<Out, NoBias?>: a fully connected layer.
//
// PyTorch's nn.Linear(in, Out): `in` is the size of the flat input
// Shape<in>; weight [Out, in], bias [Out]. A feature map must be flattened
// first: Linear on Shape<C, H, W> does not compile and says so.
#pragma once

#include <string>
#include <type_traits>

#include "typenet/backend/interface.hpp"
#include "typenet/core/diagnostics.hpp"
#include "typenet/core/layer.hpp"
#include "typenet/core/options.hpp"
#include "typenet/layers/weight_and_bias.hpp"

namespace typenet {

template <int Out, class... Options>
struct Linear {
  static_assert(Out > 0, "Linear needs a positive number of output features");
  static constexpr bool has_bias = !has_option_v<NoBias, Options...>;

  template <class In>
  static constexpr int in_features = In::rank == 1 ? In::dims[0] : 1;

  template <class In, class Where, bool Diagnose = true>
  static constexpr bool check() {
    if constexpr (!(std::is_same_v<Options, NoBias> && ...)) {
      return diagnostic::reject<Diagnose, diagnostic::option_does_not_apply<
                                              Where, Linear, boost::mp11::mp_list<Options...>>>();
    } else if constexpr (In::rank != 1) {
      return diagnostic::reject<Diagnose, diagnostic::linear_needs_flat_input<Where, Linear, In>>();
    } else {
      return true;
    }
  }

  template <class In>
  using output_shape = Shape<Out>;

  template <class In>
  static constexpr extents_t<Shape<Out>> output_extents(const extents_t<In>&) {
    return {Out};
  }

  template <class In, class Device, class T>
  using parameters =
      weight_and_bias<Shape<Out, in_features<In>>, has_bias ? Out : 0, in_features<In>, Device, T>;

  template <class In>
  static constexpr std::int64_t flops = std::int64_t{2} * Out* in_features<In>;

  template <class In, class Device, class T>
  struct node : node_io<In, Shape<Out>, Device, T> {
    const Tensor<Shape<Out>, Device, T>& forward(parameters<In, Device, T>& p,
                                                 const Tensor<In, Device, T>& x,
                                                 const run_context&) {
      backend::view<const T, 1> bias{};
      if constexpr (has_bias) bias = backend::flat_view(p.bias.value);
      backend::linear_forward(Device{}, backend::batch_view(x),
                              backend::sample_view(p.weight.value), bias,
                              backend::batch_view(this->y));
      return this->y;
    }
    const Tensor<In, Device, T>& backward(parameters<In, Device, T>& p,
                                          const Tensor<In, Device, T>& x,
                                          const Tensor<Shape<Out>, Device, T>& dy,
                                          const run_context& ctx) {
      backend::view<T, 1> db{};
      if constexpr (has_bias)
        if (p.bias.requires_grad) db = backend::flat_view(p.bias.grad);
      backend::linear_backward(
          Device{}, backend::batch_view(x), backend::sample_view(p.weight.value),
          backend::batch_view(dy),
          ctx.need_input_grad ? backend::batch_view(this->dx) : backend::view<T, 2>{},
          p.weight.requires_grad ? backend::sample_view(p.weight.grad) : backend::view<T, 2>{}, db);
      return this->dx;
    }
  };

  static std::string type_name() {
    return "Linear<" + std::to_string(Out) + option_names<Options...>() + ">";
  }
};

}  // namespace typenet
