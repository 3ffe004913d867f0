// typenet/layers/pooling.hpp — MaxPool2d, AvgPool2d, AdaptiveAvgPool2d.
//
// PyTorch's pooling layers on Shape<C, H, W>. MaxPool2d<Kernel, options...>
// takes Stride (default: the kernel), Padding, Dilation and CeilMode;
// AvgPool2d takes Stride, Padding and CeilMode and counts the padding in
// the divisor (count_include_pad=True, PyTorch's default), unless given
// ExcludePad (count_include_pad=False) or DivisorOverride<N>.
// AdaptiveAvgPool2d<H, W> produces an H x W map from any input size.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

#include "typenet/backend/interface.hpp"
#include "typenet/core/diagnostics.hpp"
#include "typenet/core/geometry.hpp"
#include "typenet/core/layer.hpp"
#include "typenet/core/options.hpp"
#include "typenet/core/windows.hpp"

#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>

namespace typenet {

namespace detail {

/// Window geometry shared by max and average pooling, for input extents {C, H, W}.
template <Kernel K, auto stride, auto padding, auto dilation, bool ceil_mode>
constexpr window_geometry pool_geometry(const std::array<int, 3>& in) {
  window_geometry g;
  g.in_c = g.out_c = in[0];
  g.in_h = in[1];
  g.in_w = in[2];
  g.kernel_h = K.h;
  g.kernel_w = K.w;
  g.stride_h = stride.h;
  g.stride_w = stride.w;
  g.pad_h = padding.h;
  g.pad_w = padding.w;
  g.dilation_h = dilation.h;
  g.dilation_w = dilation.w;
  g.out_h = sliding_output(g.in_h, K.h, stride.h, padding.h, padding.h, dilation.h, ceil_mode);
  g.out_w = sliding_output(g.in_w, K.w, stride.w, padding.w, padding.w, dilation.w, ceil_mode);
  return g;
}

template <class Layer, class In, class Where, bool Diagnose, bool options_known, class Options>
constexpr bool check_pool() {
  constexpr window_geometry g = Layer::geometry(image_dims<In>());
  if constexpr (!options_known) {
    return diagnostic::reject<Diagnose, diagnostic::option_does_not_apply<Where, Layer, Options>>();
  } else if constexpr (In::rank != 3) {
    return diagnostic::reject<Diagnose, diagnostic::layer_needs_image_input<Where, Layer, In>>();
  } else if constexpr (g.pad_h > g.kernel_h / 2 || g.pad_w > g.kernel_w / 2) {
    return diagnostic::reject<
        Diagnose, diagnostic::padding_must_be_at_most_half_the_kernel<Where, Layer, In>>();
  } else if constexpr ((In::dims[1] != dyn && g.out_h < 1) || (In::dims[2] != dyn && g.out_w < 1)) {
    return diagnostic::reject<Diagnose, diagnostic::output_would_be_empty<Where, Layer, In>>();
  } else {
    return true;
  }
}

template <class Layer, class In>
using pooled_shape =
    Shape<image_dims<In>()[0],
          static_or_dyn(image_dims<In>()[1], Layer::geometry(image_dims<In>()).out_h),
          static_or_dyn(image_dims<In>()[2], Layer::geometry(image_dims<In>()).out_w)>;

}  // namespace detail

template <Kernel K, class... Options>
struct MaxPool2d : layer_base {
  static constexpr auto stride = pair_option_v<Stride, K.h, K.w, Options...>;
  static constexpr auto padding = pair_option_v<Padding, 0, 0, Options...>;
  static constexpr auto dilation = pair_option_v<Dilation, 1, 1, Options...>;
  static constexpr bool ceil_mode = has_option_v<CeilMode, Options...>;
  static_assert(K.h > 0 && K.w > 0 && stride.h > 0 && stride.w > 0 && dilation.h > 0 &&
                    dilation.w > 0 && padding.h >= 0 && padding.w >= 0,
                "MaxPool2d: kernel, Stride and Dilation must be positive and Padding non-negative");

  static constexpr window_geometry geometry(const std::array<int, 3>& in) {
    return detail::pool_geometry<K, stride, padding, dilation, ceil_mode>(in);
  }

  template <class In, class Where, bool Diagnose = true>
  static constexpr bool check() {
    return detail::check_pool<MaxPool2d, In, Where, Diagnose,
                              ((is_pair_option_of_v<Options, Stride, Padding, Dilation> ||
                                std::is_same_v<Options, CeilMode>)&&...),
                              boost::mp11::mp_list<Options...>>();
  }

  template <class In>
  using output_shape = detail::pooled_shape<MaxPool2d, In>;

  template <class In>
  static constexpr extents_t<output_shape<In>> output_extents(const extents_t<In>& in) {
    const window_geometry g = geometry(in);
    return {g.out_c, g.out_h, g.out_w};
  }

  template <class In>
  static constexpr std::int64_t flops = geometry(image_dims<In>()).out_size() * K.h* K.w;

  template <class In, class Device, class T>
  struct node : node_io<In, output_shape<In>, Device, T> {
    window_geometry g;
    Tensor<output_shape<In>, Device, std::int32_t> argmax;

    void plan(int batch, const extents_t<In>& in, const extents_t<output_shape<In>>& out) {
      node_io<In, output_shape<In>, Device, T>::plan(batch, in, out);
      argmax.resize(batch, out);
      g = geometry(in);
    }
    const Tensor<output_shape<In>, Device, T>& forward(no_parameters&,
                                                       const Tensor<In, Device, T>& x,
                                                       const run_context&) {
      backend::max_pool2d_forward(Device{}, g, backend::batch_view(x), backend::batch_view(this->y),
                                  backend::batch_view(argmax));
      return this->y;
    }
    const Tensor<In, Device, T>& backward(no_parameters&, const Tensor<In, Device, T>&,
                                          const Tensor<output_shape<In>, Device, T>& dy,
                                          const run_context& ctx) {
      if (ctx.need_input_grad)
        backend::max_pool2d_backward(Device{}, g, backend::batch_view(dy),
                                     backend::batch_view(std::as_const(argmax)),
                                     backend::batch_view(this->dx));
      return this->dx;
    }
  };

  static std::string type_name() {
    return "MaxPool2d<" + K.str() + option_names<Options...>() + ">";
  }
};

namespace detail {
template <class O>
inline constexpr bool is_divisor_override_v = false;
template <int N>
inline constexpr bool is_divisor_override_v<DivisorOverride<N>> = true;
/// mp_fold step: the N of a DivisorOverride<N> among the options (0: none).
template <class Acc, class O>
struct divisor_of_impl {
  using type = Acc;
};
template <class Acc, int N>
struct divisor_of_impl<Acc, DivisorOverride<N>> {
  using type = boost::mp11::mp_int<N>;
};
template <class Acc, class O>
using divisor_of = typename divisor_of_impl<Acc, O>::type;
}  // namespace detail

template <Kernel K, class... Options>
struct AvgPool2d : layer_base {
  static constexpr auto stride = pair_option_v<Stride, K.h, K.w, Options...>;
  static constexpr auto padding = pair_option_v<Padding, 0, 0, Options...>;
  static constexpr bool ceil_mode = has_option_v<CeilMode, Options...>;
  static constexpr detail::pair_value no_dilation{1, 1};
  /// What each window's sum is divided by (ExcludePad, DivisorOverride<N>).
  static constexpr detail::avg_pool_divisor divisor{
      !has_option_v<ExcludePad, Options...>,
      boost::mp11::mp_fold<boost::mp11::mp_list<Options...>, boost::mp11::mp_int<0>,
                           detail::divisor_of>::value};
  static_assert(K.h > 0 && K.w > 0 && stride.h > 0 && stride.w > 0 && padding.h >= 0 &&
                    padding.w >= 0,
                "AvgPool2d: kernel and Stride must be positive and Padding non-negative");

  static constexpr window_geometry geometry(const std::array<int, 3>& in) {
    return detail::pool_geometry<K, stride, padding, no_dilation, ceil_mode>(in);
  }

  template <class In, class Where, bool Diagnose = true>
  static constexpr bool check() {
    return detail::check_pool<
        AvgPool2d, In, Where, Diagnose,
        ((is_pair_option_of_v<Options, Stride, Padding> || std::is_same_v<Options, CeilMode> ||
          std::is_same_v<Options, ExcludePad> || detail::is_divisor_override_v<Options>)&&...),
        boost::mp11::mp_list<Options...>>();
  }

  template <class In>
  using output_shape = detail::pooled_shape<AvgPool2d, In>;

  template <class In>
  static constexpr extents_t<output_shape<In>> output_extents(const extents_t<In>& in) {
    const window_geometry g = geometry(in);
    return {g.out_c, g.out_h, g.out_w};
  }

  template <class In>
  static constexpr std::int64_t flops = geometry(image_dims<In>()).out_size() * K.h* K.w;

  template <class In, class Device, class T>
  struct node : node_io<In, output_shape<In>, Device, T> {
    window_geometry g;

    void plan(int batch, const extents_t<In>& in, const extents_t<output_shape<In>>& out) {
      node_io<In, output_shape<In>, Device, T>::plan(batch, in, out);
      g = geometry(in);
    }
    const Tensor<output_shape<In>, Device, T>& forward(no_parameters&,
                                                       const Tensor<In, Device, T>& x,
                                                       const run_context&) {
      backend::avg_pool2d_forward(Device{}, g, divisor, backend::batch_view(x),
                                  backend::batch_view(this->y));
      return this->y;
    }
    const Tensor<In, Device, T>& backward(no_parameters&, const Tensor<In, Device, T>&,
                                          const Tensor<output_shape<In>, Device, T>& dy,
                                          const run_context& ctx) {
      if (ctx.need_input_grad)
        backend::avg_pool2d_backward(Device{}, g, divisor, backend::batch_view(dy),
                                     backend::batch_view(this->dx));
      return this->dx;
    }
  };

  static std::string type_name() {
    return "AvgPool2d<" + K.str() + option_names<Options...>() + ">";
  }
};

template <int H, int W = H>
struct AdaptiveAvgPool2d : layer_base {
  static_assert(H > 0 && W > 0, "AdaptiveAvgPool2d needs a positive output size");

  static constexpr window_geometry geometry(const std::array<int, 3>& in) {
    window_geometry g;
    g.in_c = g.out_c = in[0];
    g.in_h = in[1];
    g.in_w = in[2];
    g.out_h = H;
    g.out_w = W;
    return g;
  }

  template <class In, class Where, bool Diagnose = true>
  static constexpr bool check() {
    if constexpr (In::rank != 3) {
      return diagnostic::reject<
          Diagnose, diagnostic::layer_needs_image_input<Where, AdaptiveAvgPool2d, In>>();
    } else {
      return true;
    }
  }

  /// Static whatever the input extents: the head after it is size-independent.
  template <class In>
  using output_shape = Shape<image_dims<In>()[0], H, W>;

  template <class In>
  static constexpr extents_t<output_shape<In>> output_extents(const extents_t<In>& in) {
    return {in[0], H, W};
  }

  template <class In>
  static constexpr std::int64_t flops = In::size;

  template <class In, class Device, class T>
  struct node : node_io<In, output_shape<In>, Device, T> {
    window_geometry g;

    void plan(int batch, const extents_t<In>& in, const extents_t<output_shape<In>>& out) {
      node_io<In, output_shape<In>, Device, T>::plan(batch, in, out);
      g = geometry(in);
    }
    const Tensor<output_shape<In>, Device, T>& forward(no_parameters&,
                                                       const Tensor<In, Device, T>& x,
                                                       const run_context&) {
      backend::adaptive_avg_pool2d_forward(Device{}, g, backend::batch_view(x),
                                           backend::batch_view(this->y));
      return this->y;
    }
    const Tensor<In, Device, T>& backward(no_parameters&, const Tensor<In, Device, T>&,
                                          const Tensor<output_shape<In>, Device, T>& dy,
                                          const run_context& ctx) {
      if (ctx.need_input_grad)
        backend::adaptive_avg_pool2d_backward(Device{}, g, backend::batch_view(dy),
                                              backend::batch_view(this->dx));
      return this->dx;
    }
  };

  static std::string type_name() {
    return "AdaptiveAvgPool2d<" + std::to_string(H) + (H == W ? "" : ", " + std::to_string(W)) +
           ">";
  }
};

}  // namespace typenet
