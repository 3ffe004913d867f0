// typenet/layers/flatten.hpp — Flatten: Shape<C, H, W> to Shape<C * H * W>.
//
// PyTorch's nn.Flatten() (start_dim=1): the sample is read in NCHW order.
// The values are copied, since the output has its own type. The input's
// extents must be static (the feature count is part of the output type):
// after a dynamic image, AdaptiveAvgPool2d fixes them, as in torchvision.
#pragma once

#include <string>

#include "typenet/backend/interface.hpp"
#include "typenet/core/diagnostics.hpp"
#include "typenet/core/layer.hpp"

namespace typenet {

struct Flatten : layer_base {
  template <class In, class Where, bool Diagnose = true>
  static constexpr bool check() {
    if constexpr (!In::is_static) {
      return diagnostic::reject<Diagnose,
                                diagnostic::flatten_needs_static_extents<Where, Flatten, In>>();
    } else {
      return true;
    }
  }

  template <class In>
  static constexpr int features() {
    if constexpr (In::is_static) {
      return static_cast<int>(In::size);
    } else {
      return 1;
    }
  }

  template <class In>
  using output_shape = Shape<features<In>()>;

  template <class In>
  static constexpr extents_t<output_shape<In>> output_extents(const extents_t<In>& in) {
    return {static_cast<int>(extents_size(in))};
  }

  template <class In, class Device, class T>
  struct node : node_io<In, output_shape<In>, Device, T> {
    const Tensor<output_shape<In>, Device, T>& forward(no_parameters&,
                                                       const Tensor<In, Device, T>& x,
                                                       const run_context&) {
      backend::copy_values(Device{}, backend::flat_view(x), backend::flat_view(this->y));
      return this->y;
    }
    const Tensor<In, Device, T>& backward(no_parameters&, const Tensor<In, Device, T>&,
                                          const Tensor<output_shape<In>, Device, T>& dy,
                                          const run_context& ctx) {
      if (ctx.need_input_grad)
        backend::copy_values(Device{}, backend::flat_view(dy), backend::flat_view(this->dx));
      return this->dx;
    }
  };

  static std::string type_name() { return "Flatten"; }
};

}  // namespace typenet
