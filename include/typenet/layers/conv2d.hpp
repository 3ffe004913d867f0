// typenet/layers/conv2d.hpp — Conv2d<Out, Kernel, options...>.
//
// PyTorch's nn.Conv2d(in, Out, Kernel, ...): `in` comes from the input shape.
// Options: Stride<H, W>, Padding<H, W>, Dilation<H, W>, Groups<G>, NoBias.
// Parameters: weight [Out, in/G, KH, KW], bias [Out] (PyTorch's layouts).
// Requires an image input whose padded size fits the dilated kernel, and G
// dividing both channel counts; anything else is a compile error.
#pragma once

#include <algorithm>
#include <string>

#include "typenet/backend/interface.hpp"
#include "typenet/core/diagnostics.hpp"
#include "typenet/core/geometry.hpp"
#include "typenet/core/layer.hpp"
#include "typenet/core/options.hpp"
#include "typenet/layers/weight_and_bias.hpp"

namespace typenet {

template <int Out, Kernel K, class... Options>
struct Conv2d {
  static_assert(Out > 0, "Conv2d needs a positive number of output channels");
  static_assert(K.h > 0 && K.w > 0, "Conv2d needs a positive kernel size");

  static constexpr auto stride = pair_option_v<Stride, 1, 1, Options...>;
  static constexpr auto padding = pair_option_v<Padding, 0, 0, Options...>;
  static constexpr auto dilation = pair_option_v<Dilation, 1, 1, Options...>;
  static constexpr int groups = groups_option_v<Options...>;
  static constexpr bool has_bias = !has_option_v<NoBias, Options...>;

  static_assert(stride.h > 0 && stride.w > 0 && dilation.h > 0 && dilation.w > 0 &&
                    padding.h >= 0 && padding.w >= 0 && groups > 0,
                "Conv2d: Stride, Dilation and Groups must be positive and Padding non-negative");

  /// The geometry for input extents {C, H, W}; an input too small gives out_h or out_w < 1.
  static constexpr window_geometry geometry(const std::array<int, 3>& in) {
    window_geometry g;
    g.in_c = in[0];
    g.in_h = in[1];
    g.in_w = in[2];
    g.out_c = Out;
    g.kernel_h = K.h;
    g.kernel_w = K.w;
    g.stride_h = stride.h;
    g.stride_w = stride.w;
    g.pad_h = padding.h;
    g.pad_w = padding.w;
    g.dilation_h = dilation.h;
    g.dilation_w = dilation.w;
    g.groups = groups;
    g.out_h = sliding_output(g.in_h, K.h, stride.h, padding.h, padding.h, dilation.h, false);
    g.out_w = sliding_output(g.in_w, K.w, stride.w, padding.w, padding.w, dilation.w, false);
    return g;
  }
  /// The geometry of In's static extents (out_* < 1 where they are dynamic).
  template <class In>
  static constexpr window_geometry geometry() {
    return geometry(image_dims<In>());
  }

  template <class In, class Where, bool Diagnose = true>
  static constexpr bool check() {
    constexpr bool known = ((is_pair_option_of_v<Options, Stride, Padding, Dilation> ||
                             is_groups_option_v<Options> || std::is_same_v<Options, NoBias>)&&...);
    if constexpr (!known) {
      return diagnostic::reject<Diagnose, diagnostic::option_does_not_apply<
                                              Where, Conv2d, boost::mp11::mp_list<Options...>>>();
    } else if constexpr (In::rank != 3) {
      return diagnostic::reject<Diagnose, diagnostic::layer_needs_image_input<Where, Conv2d, In>>();
    } else if constexpr (In::dims[0] % groups != 0 || Out % groups != 0) {
      return diagnostic::reject<Diagnose,
                                diagnostic::groups_must_divide_channels<Where, Conv2d, In>>();
    } else if constexpr ((In::dims[1] != dyn && geometry<In>().out_h < 1) ||
                         (In::dims[2] != dyn && geometry<In>().out_w < 1)) {
      return diagnostic::reject<Diagnose, diagnostic::output_would_be_empty<Where, Conv2d, In>>();
    } else {
      return true;
    }
  }

  template <class In>
  using output_shape = Shape<Out, static_or_dyn(image_dims<In>()[1], geometry<In>().out_h),
                             static_or_dyn(image_dims<In>()[2], geometry<In>().out_w)>;

  template <class In>
  static constexpr extents_t<output_shape<In>> output_extents(const extents_t<In>& in) {
    const window_geometry g = geometry(in);
    return {Out, g.out_h, g.out_w};
  }

  template <class In, class Device, class T>
  using parameters =
      weight_and_bias<Shape<Out, std::max(geometry<In>().in_c / groups, 1), K.h, K.w>,
                      has_bias ? Out : 0, std::int64_t{geometry<In>().in_c / groups} * K.h * K.w,
                      Device, T>;

  template <class In>
  static constexpr std::int64_t flops = 2 *
                                        geometry<In>().out_size() * geometry<In>().column_rows();

  template <class In, class Device, class T>
  struct node : node_io<In, output_shape<In>, Device, T> {
    window_geometry g;

    void plan(int batch, const extents_t<In>& in, const extents_t<output_shape<In>>& out) {
      node_io<In, output_shape<In>, Device, T>::plan(batch, in, out);
      g = geometry(in);
    }

    const Tensor<output_shape<In>, Device, T>& forward(parameters<In, Device, T>& p,
                                                       const Tensor<In, Device, T>& x,
                                                       const run_context&) {
      backend::view<const T, 1> bias{};
      if constexpr (has_bias) bias = backend::flat_view(p.bias.value);
      backend::conv2d_forward(Device{}, g, backend::batch_view(x),
                              backend::sample_view(p.weight.value), bias,
                              backend::batch_view(this->y));
      return this->y;
    }

    const Tensor<In, Device, T>& backward(parameters<In, Device, T>& p,
                                          const Tensor<In, Device, T>& x,
                                          const Tensor<output_shape<In>, Device, T>& dy,
                                          const run_context& ctx) {
      if (p.weight.requires_grad)
        backend::conv2d_backward_weight(Device{}, g, backend::batch_view(x),
                                        backend::batch_view(dy),
                                        backend::sample_view(p.weight.grad));
      if constexpr (has_bias) {
        if (p.bias.requires_grad)
          backend::channel_bias_backward(Device{}, backend::channel_view(dy),
                                         backend::flat_view(p.bias.grad));
      }
      if (ctx.need_input_grad)
        backend::conv2d_backward_data(Device{}, g, backend::batch_view(dy),
                                      backend::sample_view(p.weight.value),
                                      backend::batch_view(this->dx));
      return this->dx;
    }
  };

  static std::string type_name() {
    return "Conv2d<" + std::to_string(Out) + ", " + K.str() + option_names<Options...>() + ">";
  }
};

}  // namespace typenet
