// typenet/layers/dropout.hpp — Dropout<P>: inverted dropout, seeded.
//
// In training each element is zeroed with probability P (a ratio, default
// 1/2) and the rest scaled by 1/(1-P); in evaluation it is the identity.
// The mask is a hash of (model seed, step, layer position, element index),
// so runs are reproducible and independent of the thread count.
#pragma once

#include <ratio>
#include <string>

#include "typenet/backend/interface.hpp"
#include "typenet/core/layer.hpp"

namespace typenet {

template <class P = std::ratio<1, 2>>
struct Dropout : layer_base {
  static_assert(P::num >= 0 && P::num < P::den, "Dropout probability must be in [0, 1)");
  static constexpr double p = static_cast<double>(P::num) / static_cast<double>(P::den);

  template <class In, class Device, class T>
  struct node : node_io<In, In, Device, T> {
    Tensor<In, Device, T> mask;
    bool masked = false;

    const Tensor<In, Device, T>& forward(no_parameters&, const Tensor<In, Device, T>& x,
                                         const run_context& ctx) {
      masked = ctx.training && p > 0;
      if (masked) {
        mask.resize(x.batch(), x.extents());  // only in training: inference keeps no mask
        backend::dropout_forward(Device{}, p, ctx.stream, backend::flat_view(x),
                                 backend::flat_view(mask), backend::flat_view(this->y));
      } else {
        backend::copy_values(Device{}, backend::flat_view(x), backend::flat_view(this->y));
      }
      return this->y;
    }
    const Tensor<In, Device, T>& backward(no_parameters&, const Tensor<In, Device, T>&,
                                          const Tensor<In, Device, T>& dy, const run_context& ctx) {
      if (!ctx.need_input_grad) return this->dx;
      if (masked) {
        backend::multiply(Device{}, backend::flat_view(dy), backend::flat_view(mask),
                          backend::flat_view(this->dx));
      } else {
        backend::copy_values(Device{}, backend::flat_view(dy), backend::flat_view(this->dx));
      }
      return this->dx;
    }
  };

  static std::string type_name() {
    return "Dropout<std::ratio<" + std::to_string(P::num) + ", " + std::to_string(P::den) + ">>";
  }
};

}  // namespace typenet
