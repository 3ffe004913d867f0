// typenet/backend/cuda/model_transfer.cuh — parameters between models on different devices.
//
//   tn::Model<Net, tn::Shape<3, 224, 224>> cpu_model(seed);
//   tn::load_weights(cpu_model, "resnet18-f37072fd.pth");
//   tn::Model<Net, tn::Shape<3, 224, 224>, tn::Cuda> gpu_model;
//   tn::copy_parameters(cpu_model, gpu_model);          // every parameter and buffer
//
// The two models run the same network, on any devices and at any input
// sizes that give the same parameters; entries are matched by name.
#pragma once

#include <thrust/copy.h>
#include <thrust/device_ptr.h>
#include <cstddef>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "typenet/backend/cuda/launch.cuh"
#include "typenet/core/errors.hpp"
#include "typenet/nn/model.hpp"

namespace typenet {

namespace cuda::detail {
/// Copies one state entry's bytes between host and device memory in any direction.
inline void copy_entry(const StateRef& from, const StateRef& to) {
  const std::size_t bytes = static_cast<std::size_t>(from.size) *
                            (from.type == dtype::f32 ? sizeof(float) : sizeof(double));
  const auto* src = static_cast<const unsigned char*>(from.data);
  auto* dst = static_cast<unsigned char*>(to.data);
  if (from.on_host && to.on_host) {
    std::memcpy(dst, src, bytes);
  } else if (from.on_host) {
    thrust::copy_n(src, bytes, thrust::device_pointer_cast(dst));
  } else if (to.on_host) {
    thrust::copy_n(thrust::device_pointer_cast(src), bytes, dst);
  } else {
    thrust::copy_n(policy(), thrust::device_pointer_cast(src), bytes,
                   thrust::device_pointer_cast(dst));
  }
}
}  // namespace cuda::detail

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
    if (source[i].type == dtype::i64) {
      // Counters (num_batches_tracked) live on the host on every device.
      *static_cast<std::int64_t*>(target[i].data) =
          *static_cast<const std::int64_t*>(source[i].data);
    } else {
      cuda::detail::copy_entry(source[i], target[i]);
    }
  }
  const auto& p_from = from.parameters();
  const auto& p_to = to.parameters();
  for (std::size_t i = 0; i < p_from.size(); ++i) p_to[i].requires_grad(p_from[i].requires_grad());
}

}  // namespace typenet
