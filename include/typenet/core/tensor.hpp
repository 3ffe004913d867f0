// typenet/core/tensor.hpp — a batch of samples of one compile-time shape.
//
// `Tensor<Shape<C, H, W>>` holds `batch() x C x H x W` values in NCHW order
// (PyTorch's layout), float32 on the CPU unless told otherwise. The sample
// shape is a type, the batch size a value. Element access `t(n, c, h, w)` is
// for the CPU; kernels work on `data()`.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <type_traits>

#include "typenet/core/device.hpp"
#include "typenet/core/errors.hpp"
#include "typenet/core/shape.hpp"
#include "typenet/core/storage.hpp"

namespace typenet {

template <ShapeType S, class Device = Cpu, class T = float>
class Tensor {
 public:
  using shape = S;
  using device = Device;
  using scalar = T;

  Tensor() = default;
  explicit Tensor(int batch) { resize(batch); }

  /// Sets the batch size; memory is reallocated only when it grows.
  void resize(int batch) {
    if (batch < 0) throw shape_error("Tensor: negative batch size " + std::to_string(batch));
    batch_ = batch;
    storage_.resize(static_cast<std::size_t>(batch) * static_cast<std::size_t>(S::size));
  }

  int batch() const noexcept { return batch_; }
  /// Number of elements over the whole batch.
  std::int64_t size() const noexcept { return std::int64_t{batch_} * S::size; }
  T* data() noexcept { return storage_.data(); }
  const T* data() const noexcept { return storage_.data(); }

  std::span<T> values() noexcept requires std::same_as<Device, Cpu> {
    return {data(), static_cast<std::size_t>(size())};
  }
  std::span<const T> values() const noexcept requires std::same_as<Device, Cpu> {
    return {data(), static_cast<std::size_t>(size())};
  }

  /// Sample `n`, element at `index...` (one index per dimension of the shape).
  template <std::integral... I>
  requires(sizeof...(I) == S::rank && std::same_as<Device, Cpu>) T& operator()(
      int n, I... index) noexcept {
    return data()[offset(n, index...)];
  }
  template <std::integral... I>
  requires(sizeof...(I) == S::rank && std::same_as<Device, Cpu>) const T& operator()(
      int n, I... index) const noexcept {
    return data()[offset(n, index...)];
  }

  void fill(T value) requires std::same_as<Device, Cpu> {
    for (auto& v : values()) v = value;
  }

 private:
  template <class... I>
  static std::int64_t offset(int n, I... index) noexcept {
    std::int64_t flat = n;
    int d = 0;
    ((flat = flat * S::dims[d++] + static_cast<std::int64_t>(index)), ...);
    return flat;
  }

  storage<T, Device> storage_;
  int batch_ = 0;
};

}  // namespace typenet
