// typenet/layers/identity.hpp — Identity: passes its input through.
//
// Costs nothing: its output is its input tensor and its input gradient is
// the incoming gradient, with no copy. Residual uses it as the default
// shortcut and activation.
#pragma once

#include <string>

#include "typenet/core/layer.hpp"

namespace typenet {

struct Identity : layer_base {
  template <class In, class Device, class T>
  struct node {
    const Tensor<In, Device, T>* x = nullptr;
    const Tensor<In, Device, T>* dy = nullptr;

    void plan(int, const extents_t<In>&, const extents_t<In>&) {}
    const Tensor<In, Device, T>& forward(no_parameters&, const Tensor<In, Device, T>& input,
                                         const run_context&) {
      x = &input;
      return input;
    }
    const Tensor<In, Device, T>& backward(no_parameters&, const Tensor<In, Device, T>&,
                                          const Tensor<In, Device, T>& grad, const run_context&) {
      dy = &grad;
      return grad;
    }
    const Tensor<In, Device, T>& output() const { return *x; }
  };

  static std::string type_name() { return "Identity"; }
};

}  // namespace typenet
