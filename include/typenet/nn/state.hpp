// typenet/nn/state.hpp — a network's parameters and buffers as a flat, named list.
//
// Optimizers, loaders and users see the state of a network like PyTorch's
// named_parameters() / state_dict(): dotted names in definition order, each
// with its shape and storage. ParameterRef is typed (value and gradient);
// StateRef is type-erased (parameters, buffers and integer counters alike)
// for serialisation.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "typenet/core/parameter.hpp"

namespace typenet {

template <class T, class Device>
class ParameterRef {
 public:
  template <class S>
  ParameterRef(std::string name, Parameter<S, Device, T>& p)
      : name_(std::move(name)),
        shape_(S::dims.begin(), S::dims.end()),
        value_(p.value.data()),
        grad_(p.grad.data()),
        size_(S::size),
        requires_grad_(&p.requires_grad) {}

  const std::string& name() const { return name_; }
  const std::vector<int>& shape() const { return shape_; }
  std::int64_t size() const { return size_; }
  /// Device pointers on Cuda, host pointers on Cpu.
  T* value_data() const { return value_; }
  T* grad_data() const { return grad_; }
  std::span<T> value() const requires std::is_same_v<Device, Cpu> {
    return {value_, static_cast<std::size_t>(size_)};
  }
  std::span<T> grad() const requires std::is_same_v<Device, Cpu> {
    return {grad_, static_cast<std::size_t>(size_)};
  }
  bool requires_grad() const { return *requires_grad_; }
  void requires_grad(bool on) const { *requires_grad_ = on; }

 private:
  std::string name_;
  std::vector<int> shape_;
  T* value_;
  T* grad_;
  std::int64_t size_;
  bool* requires_grad_;
};

/// One entry of the state dict.
struct StateRef {
  std::string name;
  std::vector<int> shape;  ///< empty for a 0-d counter, like PyTorch
  dtype type;
  void* data;  ///< device memory for tensors of a Cuda model
  std::int64_t size;
  bool is_parameter;
  bool on_host;
};

template <class T, class Device, class Params>
std::vector<ParameterRef<T, Device>> collect_parameters(Params& params) {
  std::vector<ParameterRef<T, Device>> out;
  params.visit(
      [&](const std::string& name, auto& entry) {
        if constexpr (requires { entry.grad; }) out.emplace_back(name, entry);
      },
      "");
  return out;
}

template <class Params>
std::vector<StateRef> collect_state(Params& params) {
  std::vector<StateRef> out;
  params.visit([&](const std::string& name, auto& entry) {
    using E = std::remove_cvref_t<decltype(entry)>;
    if constexpr (std::is_same_v<E, Counter>) {
      out.push_back({name, {}, dtype::i64, &entry.value, 1, false, true});
    } else {
      using S = typename E::shape;
      using V = std::remove_cvref_t<decltype(*entry.value.data())>;
      using D = typename std::remove_cvref_t<decltype(entry.value)>::device;
          out.push_back({name, std::vector<int>(S::dims.begin(), S::dims.end()), dtype_of_v<V>,
                         entry.value.data(), S::size, requires { entry.grad;
    }
    , std::is_same_v<D, Cpu>
  });
}
},
      "");
return out;
}

}  // namespace typenet
