// typenet/train/losses/on_host.hpp — losses of tensors that live on a GPU.
//
// Every loss is written once, for host tensors. A loss class derives from
// computed_on_host<Loss> to also accept tensors of another device (Cuda):
// inputs are copied to host tensors, the host loss runs, and a gradient
// argument (a non-const tensor) is copied back to the device. The host
// copies are per-thread buffers that only grow, so a training step does not
// allocate once it has run. The copies cost one transfer of the network's
// output each way per step; the labels of CrossEntropyLoss stay on the host.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

#include "typenet/core/tensor.hpp"

namespace typenet::detail {

template <class X>
struct is_device_tensor : std::false_type {};
template <class S, class D, class T>
struct is_device_tensor<Tensor<S, D, T>> : std::bool_constant<!std::is_same_v<D, Cpu>> {};
template <class X>
inline constexpr bool is_device_tensor_v = is_device_tensor<std::remove_cvref_t<X>>::value;

/// The host buffer of argument `I` of a loss for device tensors of type X.
template <std::size_t I, class X>
auto& host_buffer() {
  using host = Tensor<typename X::shape, Cpu, typename X::scalar>;
  thread_local host buffer;
  return buffer;
}

template <class Loss>
class computed_on_host {
 public:
  /// The loss of device tensors, computed on host copies.
  template <class... Args>
  requires(is_device_tensor_v<Args> || ...) double operator()(Args&&... args) const {
    return run(std::index_sequence_for<Args...>{}, std::forward<Args>(args)...);
  }

 private:
  template <std::size_t I, class Arg>
  static decltype(auto) on_host(Arg&& arg) {
    using X = std::remove_cvref_t<Arg>;
    if constexpr (is_device_tensor_v<Arg>) {
      auto& host = host_buffer<I, X>();
      // An output (a non-const gradient) is written by the loss, not read.
      if constexpr (std::is_const_v<std::remove_reference_t<Arg>>)
        copy(arg, host);
      else
        host.resize(arg.batch());
      return static_cast<decltype(host)>(host);
    } else {
      return std::forward<Arg>(arg);
    }
  }

  template <std::size_t I, class Arg>
  static void copy_back(Arg& arg) {
    if constexpr (is_device_tensor_v<Arg> && !std::is_const_v<std::remove_reference_t<Arg>>)
      copy(host_buffer<I, std::remove_cvref_t<Arg>>(), arg);
  }

  template <std::size_t... I, class... Args>
  double run(std::index_sequence<I...>, Args&&... args) const {
    const double value = static_cast<const Loss&>(*this)(on_host<I>(std::forward<Args>(args))...);
    (copy_back<I>(args), ...);
    return value;
  }
};

}  // namespace typenet::detail
