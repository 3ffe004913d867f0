// typenet/layers/weight_and_bias.hpp — the parameters of Conv2d, ConvTranspose2d and Linear.
//
// `weight` of shape W and, unless the layer has NoBias, `bias` of `BiasSize`
// elements, initialised like PyTorch's reset_parameters():
// kaiming_uniform_(a=sqrt(5)) for the weight, which is U(-1/sqrt(fan_in),
// 1/sqrt(fan_in)), and the same bound for the bias.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "typenet/core/parameter.hpp"
#include "typenet/core/shape.hpp"

namespace typenet {

template <ShapeType WeightShape, int BiasSize, std::int64_t FanIn, class Device, class T>
struct weight_and_bias {
  static constexpr bool has_bias = BiasSize > 0;
  static constexpr std::int64_t count = WeightShape::size + (has_bias ? BiasSize : 0);

  Parameter<WeightShape, Device, T> weight;
  struct no_bias {};
  [[no_unique_address]] std::conditional_t<
      has_bias, Parameter<Shape<(has_bias ? BiasSize : 1)>, Device, T>, no_bias>
      bias;

  template <class Visitor>
  void visit(Visitor&& visitor, const std::string& prefix) {
    visitor(prefix + "weight", weight);
    if constexpr (has_bias) visitor(prefix + "bias", bias);
  }
  template <class F>
  void for_each_entry(F&& f) {
    f(weight);
    if constexpr (has_bias) f(bias);
  }

  template <class Rng>
  void reset(Rng& rng) {
    const T bound = static_cast<T>(1.0 / std::sqrt(static_cast<double>(FanIn)));
    init_uniform(weight.value, bound, rng);
    if constexpr (has_bias) init_uniform(bias.value, bound, rng);
  }
};

}  // namespace typenet
