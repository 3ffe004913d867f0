// typenet/layers/activations.hpp — ReLU, LeakyReLU, Sigmoid, Tanh.
//
// Element-wise layers: any input shape, output of the same shape. Each is a
// functor pair (forward, backward) that the backends map over the tensor,
// so one definition serves the CPU and the GPU. Backward uses the saved
// input or output, whichever the derivative is cheaper from.
#pragma once

#include <cmath>
#include <ratio>
#include <string>

#include "typenet/backend/interface.hpp"
#include "typenet/config.hpp"
#include "typenet/core/layer.hpp"

namespace typenet {

/// A layer applying `Fn` element by element.
template <class Fn>
struct elementwise_layer : layer_base {
  template <class In>
  static constexpr std::int64_t flops = In::size;

  template <class In, class Device, class T>
  struct node : node_io<In, In, Device, T> {
    const Tensor<In, Device, T>& forward(no_parameters&, const Tensor<In, Device, T>& x,
                                         const run_context&) {
      backend::map_forward<Fn>(Device{}, backend::flat_view(x), backend::flat_view(this->y));
      return this->y;
    }
    const Tensor<In, Device, T>& backward(no_parameters&, const Tensor<In, Device, T>& x,
                                          const Tensor<In, Device, T>& dy, const run_context& ctx) {
      if (ctx.need_input_grad)
        backend::map_backward<Fn>(Device{}, backend::flat_view(x), backend::flat_view(this->y),
                                  backend::flat_view(dy), backend::flat_view(this->dx));
      return this->dx;
    }
  };
};

struct relu_fn {
  template <class T>
  TYPENET_HOST_DEVICE static T forward(T x) {
    return x > T{0} ? x : T{0};
  }
  template <class T>
  TYPENET_HOST_DEVICE static T backward(T x, T, T dy) {
    return x > T{0} ? dy : T{0};
  }
};

template <std::intmax_t Num, std::intmax_t Den>
struct leaky_relu_fn {
  template <class T>
  TYPENET_HOST_DEVICE static T forward(T x) {
    return x > T{0} ? x : x * static_cast<T>(Num) / static_cast<T>(Den);
  }
  template <class T>
  TYPENET_HOST_DEVICE static T backward(T x, T, T dy) {
    return x > T{0} ? dy : dy * static_cast<T>(Num) / static_cast<T>(Den);
  }
};

struct sigmoid_fn {
  template <class T>
  TYPENET_HOST_DEVICE static T forward(T x) {
    return T{1} / (T{1} + std::exp(-x));
  }
  template <class T>
  TYPENET_HOST_DEVICE static T backward(T, T y, T dy) {
    return dy * y * (T{1} - y);
  }
};

struct tanh_fn {
  template <class T>
  TYPENET_HOST_DEVICE static T forward(T x) {
    return std::tanh(x);
  }
  template <class T>
  TYPENET_HOST_DEVICE static T backward(T, T y, T dy) {
    return dy * (T{1} - y * y);
  }
};

/// max(x, 0).
struct ReLU : elementwise_layer<relu_fn> {
  static std::string type_name() { return "ReLU"; }
};

/// x for x > 0, slope * x otherwise; the slope is a ratio (default 1/100,
/// PyTorch's negative_slope=0.01): `LeakyReLU<std::ratio<1, 5>>`.
template <class Slope = std::ratio<1, 100>>
struct LeakyReLU : elementwise_layer<leaky_relu_fn<Slope::num, Slope::den>> {
  static std::string type_name() {
    return "LeakyReLU<std::ratio<" + std::to_string(Slope::num) + ", " +
           std::to_string(Slope::den) + ">>";
  }
};

/// 1 / (1 + exp(-x)).
struct Sigmoid : elementwise_layer<sigmoid_fn> {
  static std::string type_name() { return "Sigmoid"; }
};

/// tanh(x).
struct Tanh : elementwise_layer<tanh_fn> {
  static std::string type_name() { return "Tanh"; }
};

}  // namespace typenet
