// typenet/nn/copy_parameters.hpp — parameters between models on any devices and input sizes.
//
//   tn::Model<Net, tn::Shape<3, 224, 224>> cpu_model(seed);
//   tn::load_weights(cpu_model, "resnet18-f37072fd.pth");
//   tn::Model<Net, tn::Shape<3, 224, 224>, tn::Cuda> gpu_model;
//   tn::copy_parameters(cpu_model, gpu_model);          // every parameter and buffer
//
// The two models run the same network, on any devices and at any input
// sizes that give the same parameters; entries are matched by name. The
// bytes move through the backends' copy_from_host / copy_to_host /
// copy_values kernels, so this works for every pair of backends included.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "typenet/backend/interface.hpp"
#include "typenet/core/device.hpp"
#include "typenet/core/errors.hpp"
#include "typenet/core/parameter.hpp"
#include "typenet/nn/model.hpp"
#include "typenet/nn/state.hpp"

namespace typenet {

namespace detail {
/// One state entry's values from a model on DFrom to one on DTo.
template <class DFrom, class DTo, class V>
void copy_state_values(const StateRef& from, const StateRef& to) {
  const auto src = backend::vector_view(static_cast<const V*>(from.data), from.size);
  const auto dst = backend::vector_view(static_cast<V*>(to.data), to.size);
  if constexpr (std::is_same_v<DFrom, DTo>) {
    backend::copy_values(DFrom{}, src, dst);
  } else if constexpr (std::is_same_v<DFrom, Cpu>) {
    backend::copy_from_host(DTo{}, src, dst);
  } else if constexpr (std::is_same_v<DTo, Cpu>) {
    backend::copy_to_host(DFrom{}, src, dst);
  } else {
    static_assert(std::is_same_v<DFrom, Cpu>,
                  "copy_parameters: between two devices, one is the Cpu");
  }
}
}  // namespace detail

/// Copies every parameter and buffer of `from` into `to`: the same network
/// and scalar type, any devices. Trainability (requires_grad) is copied too.
template <class Net, class InFrom, class DFrom, class InTo, class DTo, class T>
void copy_parameters(Model<Net, InFrom, DFrom, T>& from, Model<Net, InTo, DTo, T>& to) {
  static_assert(std::is_same_v<parameters_t<Net, InFrom, Cpu, T>, parameters_t<Net, InTo, Cpu, T>>,
                "copy_parameters: the two input sizes give different parameter shapes");
  const std::vector<StateRef> source = from.state(), target = to.state();
  if (source.size() != target.size())
    throw usage_error("copy_parameters: the models have different state entries");
  for (std::size_t i = 0; i < source.size(); ++i) {
    if (source[i].name != target[i].name || source[i].size != target[i].size ||
        source[i].type != target[i].type)
      throw usage_error("copy_parameters: state entry '" + source[i].name + "' does not match '" +
                        target[i].name + "'");
    if (source[i].type == dtype::f32) {
      detail::copy_state_values<DFrom, DTo, float>(source[i], target[i]);
    } else if (source[i].type == dtype::f64) {
      detail::copy_state_values<DFrom, DTo, double>(source[i], target[i]);
    } else {
      // Counters (num_batches_tracked, i64) live on the host on every device.
      *static_cast<std::int64_t*>(target[i].data) =
          *static_cast<const std::int64_t*>(source[i].data);
    }
  }
  const auto& p_from = from.parameters();
  const auto& p_to = to.parameters();
  for (std::size_t i = 0; i < p_from.size(); ++i) p_to[i].requires_grad(p_from[i].requires_grad());
}

}  // namespace typenet
