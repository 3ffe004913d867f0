// typenet/layers/linear.hpp — Linear<Out, NoBias?>: a fully connected layer.
//
// PyTorch's nn.Linear(in, Out): `in` is the size of the flat input
// Shape<in>; weight [Out, in], bias [Out]. A feature map must be flattened
// first: Linear on Shape<C, H, W> does not compile and says so.
#pragma once

#include <string>
#include <type_traits>

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
      const T* bias = nullptr;
      if constexpr (has_bias) bias = p.bias.value.data();
      linear_forward(Device{}, x.batch(), in_features<In>, Out, x.data(), p.weight.value.data(),
                     bias, this->y.data());
      return this->y;
    }
    const Tensor<In, Device, T>& backward(parameters<In, Device, T>& p,
                                          const Tensor<In, Device, T>& x,
                                          const Tensor<Shape<Out>, Device, T>& dy,
                                          const run_context& ctx) {
      T* db = nullptr;
      if constexpr (has_bias) db = p.bias.requires_grad ? p.bias.grad.data() : nullptr;
      linear_backward(Device{}, x.batch(), in_features<In>, Out, x.data(), p.weight.value.data(),
                      dy.data(), ctx.need_input_grad ? this->dx.data() : nullptr,
                      p.weight.requires_grad ? p.weight.grad.data() : nullptr, db);
      return this->dx;
    }
  };

  static std::string type_name() {
    return "Linear<" + std::to_string(Out) + option_names<Options...>() + ">";
  }
};

}  // namespace typenet
